/*
 * proxy-int: what the files of the proxy share — the pure head rewriting
 * (head.c), the worker, client and upstream connection structures
 * (conn.c, server.c) and the counters the metrics page reads (metrics.c).
 *
 * Threading: a worker and everything hanging off it (connections, upstream
 * pool, read scratch) belong to that worker's thread alone.  Counters are
 * written by their worker only, with relaxed atomics, and read by anyone.
 */
#ifndef REPRISE_PROXY_INT_H
#define REPRISE_PROXY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "reprise/http1.h"
#include "reprise/proxy.h"

/* ---- head.c: forwarded heads (pure) ---------------------------------------
 *
 * A head as received is a start line, field lines and an empty line, all
 * ending in CR LF (the STRICT codec refuses anything else).  The proxy keeps
 * the field lines it forwards byte for byte, drops the hop-by-hop ones,
 * writes its own start line and appends its own fields, in one buffer, so
 * that a head costs one evbuffer add and no system call of its own. */

/* One field line of a head; offsets count from the head's first byte. */
struct rp_proxy_field {
	uint32_t off;       /* the line (and the name) starts here */
	uint32_t len;       /* line length with its CR LF */
	uint32_t name_len;
	uint32_t value_off; /* value without surrounding whitespace */
	uint32_t value_len;
	uint8_t drop;       /* not forwarded */
};

struct rp_proxy_head {
	const uint8_t *base;          /* the head's bytes */
	size_t len;                   /* through the empty line */
	struct rp_proxy_field *f;     /* fields in order */
	size_t nf;
};

static inline struct rp_slice rp_proxy_field_name(const struct rp_proxy_head *h, size_t i)
{
	return rp_slice(h->base + h->f[i].off, h->f[i].name_len);
}

static inline struct rp_slice rp_proxy_field_value(const struct rp_proxy_head *h, size_t i)
{
	return rp_slice(h->base + h->f[i].value_off, h->f[i].value_len);
}

/* Marks the hop-by-hop fields of |h| as dropped (RFC 9110 §7.6.1):
 * Connection and every field it names, Keep-Alive, TE, Upgrade,
 * Proxy-Connection, "Proxy" and every "Proxy-*" field.  Transfer-Encoding
 * is kept: the proxy forwards the body's framing as it came.  A request
 * whose Connection names Content-Length, Transfer-Encoding or Host would
 * have its framing or target changed by that rule, so it is refused:
 * RP_E_PROTO with |why| set.  In a response (|request| zero) such names are
 * ignored and the fields kept.  Returns 0 or RP_E_PROTO. */
int rp_proxy_hop_mark(struct rp_proxy_head *h, int request, const char **why);

/* Counts the fields of |h| named |name| (case-insensitive). */
size_t rp_proxy_head_count(const struct rp_proxy_head *h, struct rp_slice name);

/* Bytes of the forwarded head: the start line made of the |nstart| pieces
 * of |start| (concatenated, then CR LF), the fields of |h| not marked
 * dropped, the |nextra| field lines |extra| ("Name: value", no CR LF), and
 * the empty line. */
size_t rp_proxy_head_size(const struct rp_proxy_head *h, const struct rp_slice *start,
			  size_t nstart, const struct rp_slice *extra, size_t nextra);

/* Writes that head into |out|, which has room for rp_proxy_head_size
 * bytes.  Runs of kept lines are copied in one piece. */
void rp_proxy_head_write(const struct rp_proxy_head *h, const struct rp_slice *start,
			 size_t nstart, const struct rp_slice *extra, size_t nextra, uint8_t *out);

/* ---- counters --------------------------------------------------------------- */

enum rp_proxy_stat {
	RP_PST_ACCEPTED = 0,
	RP_PST_CLOSED,
	RP_PST_RESP0, /* responses by class: RESP0 + class (0 = none) */
	RP_PST_RESP1,
	RP_PST_RESP2,
	RP_PST_RESP3,
	RP_PST_RESP4,
	RP_PST_RESP5,
	RP_PST_BAD_REQUEST,
	RP_PST_UPSTREAM_CONNECT,  /* connect refused or failed */
	RP_PST_UPSTREAM_ERROR,    /* reset, early close, invalid response */
	RP_PST_UPSTREAM_TIMEOUT,
	RP_PST_CLIENT_ABORT,
	RP_PST_CLIENT_TIMEOUT,
	RP_PST_UPSTREAM_CONNS,    /* upstream connections opened */
	RP_PST_UPSTREAM_REUSED,   /* exchanges served by a pooled connection */
	RP_PST_RETRIED,           /* requests resent after a stale pooled connection */
	RP_PST_RECORD_TRUNCATED,  /* exchanges whose record was cut at --max-body */
	RP_PST_COUNT
};

/* Upstream latency (request head queued to response head received), in
 * microseconds; the last bucket is +Inf. */
#define RP_PROXY_LAT_BUCKETS 14
extern const uint32_t rp_proxy_lat_bounds_us[RP_PROXY_LAT_BUCKETS];

struct rp_proxy_counters {
	_Atomic uint64_t v[RP_PST_COUNT];
	_Atomic uint64_t lat[RP_PROXY_LAT_BUCKETS + 1];
	_Atomic uint64_t lat_sum_us;
	_Atomic uint64_t active; /* open client connections */
};

/* Single-writer increment: a plain load and store, no locked instruction. */
static inline void rp_proxy_count(struct rp_proxy_counters *c, enum rp_proxy_stat s, uint64_t n)
{
	atomic_store_explicit(&c->v[s], atomic_load_explicit(&c->v[s], memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void rp_proxy_count_lat(struct rp_proxy_counters *c, unsigned bucket, uint64_t us)
{
	atomic_store_explicit(&c->lat[bucket],
			      atomic_load_explicit(&c->lat[bucket], memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_store_explicit(&c->lat_sum_us,
			      atomic_load_explicit(&c->lat_sum_us, memory_order_relaxed) + us,
			      memory_order_relaxed);
}

/* ---- workers and connections ------------------------------------------------ */

struct conn;
struct upconn;

struct worker {
	struct rp_proxy *px;
	unsigned idx;
	pthread_t thr;
	int started;
	struct event_base *base;
	int lfd;                   /* listener (SO_REUSEPORT), -1 once closed */
	struct event *lev;
	int listening;             /* lev is added */
	int ctl_fd;                /* eventfd: 1 drain, 2 abort now */
	struct event *ctl_ev;
	struct event *deadline_ev; /* shutdown deadline */
	struct event *reap_ev;     /* frees closed objects outside their callbacks */
	struct conn *conns;        /* open client connections */
	unsigned nconns, max_conns;
	struct upconn *idle;       /* pooled upstream connections, most recent first */
	unsigned nidle;
	struct conn *reap_c;
	struct upconn *reap_u;
	int draining;
	uint8_t *scratch;          /* read buffer shared by this worker's sockets */
	size_t scratch_len;
	size_t in_max;             /* cap of a connection's input buffer */
	struct rp_h1_options h1req, h1resp;
	int64_t cgran, ugran;      /* timers re-check at least this often (ns) */
	struct event *resume_ev;   /* re-enables accepting after EMFILE */
	struct rp_proxy_counters st;
	int64_t log_sec;           /* rate limit of warning lines */
	unsigned log_n, log_suppressed;
};

struct rp_proxy {
	struct rp_proxy_opts o;
	struct sockaddr_storage lsa, usa;
	socklen_t llen, ulen;
	struct rp_endpoint up_ep;
	char up_text[64];
	char listen_text[64];
	struct worker *w;
	unsigned nw;
	struct event_base *base;   /* main thread: signals, metrics, done */
	struct event *sig_int, *sig_term, *stop_ev, *done_ev;
	int stop_fd, done_fd;
	unsigned ndone;
	int stopping;
	int mfd;                   /* metrics listener, -1 when off */
	struct evhttp *http;
	uint64_t conn_base;        /* connection ids: microseconds at start + counter */
	_Atomic uint64_t conn_next;
	int64_t start_ns;
};

/* conn.c */
/* Takes over the accepted socket |fd| from |sa|. */
void rp_proxy_conn_accept(struct worker *w, int fd, const struct sockaddr *sa, socklen_t salen);
/* Shutdown: closes idle connections and the pool; the others close after
 * their exchange.  Breaks the loop once nothing is open. */
void rp_proxy_worker_drain(struct worker *w);
/* Shutdown deadline: ends every connection now. */
void rp_proxy_worker_abort(struct worker *w);
/* Frees what closed connections left (called by the reap event and at exit). */
void rp_proxy_worker_reap(struct worker *w);
/* Logs a warning line unless this worker already logged 20 this second;
 * the next line that passes says how many were suppressed. */
void rp_proxy_warn(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* metrics.c */
/* Appends the Prometheus text exposition of |px| to |out|. */
void rp_proxy_metrics_render(struct rp_proxy *px, struct evbuffer *out);
/* Serves GET /metrics on the bound socket px->mfd from |base|.  0 or RP_E_IO. */
int rp_proxy_metrics_start(struct rp_proxy *px, struct event_base *base);

#endif
