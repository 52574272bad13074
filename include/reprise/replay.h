/*
 * replay: plays a stored corpus back at a live target.  In the pipeline it
 * reads the store and feeds the diff: select -> rewrite -> schedule -> send
 * -> collect, each replayed response handed to the caller together with
 * the recorded exchange it answers.  An adapter over libevent (the client
 * connections and timers) and PCRE2 (path rewrites).
 *
 * Select: the store's time order, narrowed by a time window, a filter
 * (filter.h), a deterministic sample of connections, a limit, or one
 * exchange or connection.
 * Rewrite: the request goes to the target's address; Host is the recorded
 * authority or the target's; headers may be set or dropped and the path
 * rewritten by regular expression; hop-by-hop headers are rebuilt rather
 * than copied; a recorded body is re-encoded with its recorded
 * Content-Encoding and framed with a Content-Length.
 * Schedule: recorded pace scaled by a speed factor, a fixed open-loop rate,
 * or as fast as the target answers with a fixed number of connections.
 * The requests of one recorded connection are sent in order, one at a time,
 * on one keep-alive replay connection (unless order is relaxed); a request
 * that waits for its connection is late, and lateness is measured, never
 * hidden: the lag between the scheduled and the actual send.
 * Collect: each response is parsed (http1.h), its body decoded, and handed
 * to the caller; a failure (connect, timeout, reset, unparsable response)
 * is a result too.  Nothing is retried.
 *
 * Memory is bounded by the read-ahead window (RP_LIMIT_REPLAY_WINDOW
 * exchanges, RP_LIMIT_REPLAY_WINDOW_BYTES of bodies) and the connection
 * limit, whatever the size of the corpus.  The client sits behind one
 * interface so that HTTP/2 and TLS targets can join later; today targets are
 * http:// and HTTP/1.1.
 */
#ifndef REPRISE_REPLAY_H
#define REPRISE_REPLAY_H

#include "reprise/exchange.h"
#include "reprise/filter.h"
#include "reprise/store.h"

/* ---- latency histograms ---------------------------------------------------- */

/* Log-linear buckets: exact below 32 ns, then 32 per power of two (a
 * bucket is at most 1/32 of its value wide), up to 2^52 ns. */
#define RP_REPLAY_HIST_SUB 32
#define RP_REPLAY_HIST_BUCKETS (48 * RP_REPLAY_HIST_SUB)

struct rp_replay_hist {
	uint64_t count;
	int64_t min, max;
	double sum;
	uint64_t b[RP_REPLAY_HIST_BUCKETS];
};

/* Records |v| nanoseconds (negative counts as 0). */
void rp_replay_hist_add(struct rp_replay_hist *h, int64_t v);
/* The value at quantile |q| (0..1): the middle of its bucket, clamped to
 * [min, max]; 0 when empty. */
int64_t rp_replay_hist_quantile(const struct rp_replay_hist *h, double q);
/* Adds the counts of |src| to |dst|. */
void rp_replay_hist_merge(struct rp_replay_hist *dst, const struct rp_replay_hist *src);

/* ---- schedule arithmetic ------------------------------------------------- */

enum rp_replay_mode {
	RP_REPLAY_SPEED = 0, /* recorded inter-arrival times divided by |speed| */
	RP_REPLAY_RATE,      /* |rate| requests per second, open loop */
	RP_REPLAY_MAX,       /* as fast as the target answers */
};

struct rp_replay_clock {
	enum rp_replay_mode mode;
	double speed;      /* SPEED: > 0 */
	double rate;       /* RATE: requests per second, > 0 */
	int64_t rec0;      /* request start of the first selected exchange (ns) */
	int64_t start;     /* monotonic ns at which the replay started */
};

/* The monotonic time at which the |seq|th selected exchange (from 0), whose
 * recorded request started at |rec_ns|, is due.  SPEED: start + (rec_ns -
 * rec0) / speed (an exchange recorded before rec0 is due at start); RATE:
 * start + seq / rate seconds; MAX: start. */
int64_t rp_replay_due(const struct rp_replay_clock *c, int64_t rec_ns, uint64_t seq);

/* Parses a --speed value: "2", "0.5", "2x" (> 0, <= 1e6).  0 or RP_E_USAGE. */
int rp_replay_parse_speed(const char *s, double *out);

/* ---- selection ------------------------------------------------------------- */

struct rp_replay_select {
	int64_t from_ns, to_ns;   /* from <= request start < to; 0: open */
	struct rp_filter *filter; /* NULL: everything (not owned) */
	double sample_pct;        /* 0 < pct <= 100 of connections; 100: all */
	uint64_t limit;           /* 0: no limit */
	uint64_t id;              /* nonzero: only this exchange */
	uint64_t conn;            /* with |one_conn|: only this connection */
	int one_conn;
};

/* Parses a --from/--to value: RFC 3339, "@<unix seconds>", or "+5m" style
 * offsets from |corpus_start| (ns).  0 or RP_E_USAGE. */
int rp_replay_parse_time(const char *s, int64_t corpus_start, int64_t *out);

/* 1 when the connection |conn_id| falls in a |pct| percent sample.  The
 * same connection is always in or out for a given percentage, and a
 * connection in a p% sample is in every larger one. */
int rp_replay_sampled(uint64_t conn_id, double pct);

/* 1 when |x| passes every criterion of |sel| but the limit. */
int rp_replay_selected(const struct rp_replay_select *sel, const struct rp_exchange *x);

/* ---- rewriting ------------------------------------------------------------- */

enum rp_replay_host {
	RP_REPLAY_HOST_TARGET = 0, /* Host: the target's authority */
	RP_REPLAY_HOST_KEEP,       /* Host: the recorded authority */
};

struct rp_replay_target {
	char host[256];      /* as written in the URL (brackets removed) */
	char authority[280]; /* host[:port] as a Host header carries it */
	uint16_t port;
	char base_path[256]; /* a path prefix from the URL ("" for none) */
};

/* Parses "http://HOST[:PORT][/PREFIX]".  0, or RP_E_USAGE with |*why| set
 * ("https targets are not supported yet", ...). */
int rp_replay_target_parse(const char *url, struct rp_replay_target *t, const char **why);

struct rp_replay_rewrite;

/* Creates an empty rewrite set (nothing changed but the address, Host per
 * |host|, and hop-by-hop headers rebuilt). */
struct rp_replay_rewrite *rp_replay_rewrite_new(enum rp_replay_host host);
void rp_replay_rewrite_free(struct rp_replay_rewrite *rw);
/* --set-header "Name: value": replaces every recorded field of that name,
 * or adds it.  0 or RP_E_USAGE (|why| set). */
int rp_replay_rewrite_set_header(struct rp_replay_rewrite *rw, const char *spec, const char **why);
/* --drop-header NAME.  0 or RP_E_USAGE. */
int rp_replay_rewrite_drop_header(struct rp_replay_rewrite *rw, const char *name, const char **why);
/* --rewrite-path "REGEX=>REPLACEMENT": a PCRE2 substitution ($1 ... in the
 * replacement) applied to the first match in the target, in the order the
 * rules were added.  0 or RP_E_USAGE with |err| naming the column. */
int rp_replay_rewrite_path(struct rp_replay_rewrite *rw, const char *spec, char *err, size_t errlen);

/* Writes the HTTP/1.1 request replaying |x| at |t| into |out|: request line
 * with the (rewritten) target, Host, the recorded end-to-end headers in
 * their order (Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
 * Transfer-Encoding, Upgrade, Expect, Content-Length, the fields Connection
 * names, and dropped ones left out; set ones replaced), a Content-Length,
 * and the body, encoded again with the recorded Content-Encoding.  Returns
 * 0, RP_E_LIMIT (|out| too small) or RP_E_FORMAT (the body could not be
 * encoded; |why| says why). */
int rp_replay_build_request(const struct rp_replay_rewrite *rw, const struct rp_replay_target *t,
			    const struct rp_exchange *x, struct rp_buf *out, const char **why);

/* ---- running ---------------------------------------------------------------- */

enum rp_replay_fail {
	RP_REPLAY_OK = 0,
	RP_REPLAY_F_CONNECT,  /* could not connect */
	RP_REPLAY_F_TIMEOUT,  /* no complete response within the timeout */
	RP_REPLAY_F_RESET,    /* connection closed or reset before the response ended */
	RP_REPLAY_F_PROTO,    /* the response did not parse */
	RP_REPLAY_F_REQUEST,  /* the request could not be built (never sent) */
};

/* "ok", "connect", "timeout", "reset", "protocol", "request". */
const char *rp_replay_fail_name(enum rp_replay_fail f);

/* What one replayed exchange gave.  Valid during the callback only. */
struct rp_replay_result {
	const struct rp_exchange *x;     /* the recorded exchange */
	const struct rp_response *resp;  /* the replayed response (body decoded), or
	                                    NULL on failure */
	enum rp_replay_fail fail;
	const char *why;                 /* static detail of a failure, or NULL */
	int resp_truncated;              /* body longer than RP_LIMIT_BODY_RECORD: cut */
	int64_t due, sent, done;         /* monotonic ns: scheduled, written, complete */
};

typedef void (*rp_replay_result_fn)(void *arg, const struct rp_replay_result *r);

struct rp_replay_stats {
	enum rp_replay_mode mode;
	uint64_t planned;     /* exchanges selected (known after the pre-scan) */
	int64_t planned_span; /* SPEED: ns from the first to the last due time */
	uint64_t sent, done, ok;
	uint64_t failed[6];   /* by enum rp_replay_fail */
	uint64_t in_flight;
	uint64_t conns_opened, conns_closed_idle, conns_closed_server;
	uint64_t read_errors; /* records that did not decode (skipped) */
	int interrupted;      /* stopped early by SIGINT */
	uint64_t bytes_sent, bytes_received;
	int64_t start, first_sent, last_sent, end; /* monotonic ns */
	struct rp_replay_hist lag;     /* actual send - scheduled send */
	struct rp_replay_hist latency; /* complete - sent */
};

typedef void (*rp_replay_tick_fn)(void *arg, const struct rp_replay_stats *st);

struct rp_replay_opts {
	struct rp_replay_target target;
	const struct rp_replay_rewrite *rewrite; /* not owned */
	struct rp_replay_select select;
	enum rp_replay_mode mode;
	double speed;           /* SPEED (default 1) */
	double rate;            /* RATE */
	unsigned concurrency;   /* connection limit (0: 10 for MAX, 1000 otherwise) */
	int no_order;           /* send without per-connection order */
	int64_t timeout;        /* per request, ns (0: 30 s) */
	int64_t idle_close;     /* close replay connections idle this long (0: 2 s),
	                           before a server's keep-alive timeout can race us */
	rp_replay_result_fn on_result;
	rp_replay_tick_fn on_tick; /* every 250 ms, may be NULL */
	void *arg;
};

/* Replays the selection of |s| at the target and calls |o->on_result| once
 * per selected exchange, in completion order, from the calling thread.
 * |st| receives the running statistics (zeroed first).  Stops early on
 * SIGINT (what was sent is still collected, up to the timeout).
 * Returns 0; RP_E_IO when the target cannot be reached before the first
 * request (|err| says why: "connect to 127.0.0.1:9: connection refused");
 * RP_E_STORE when the corpus cannot be read (|err|). */
int rp_replay_run(struct rp_store *s, const struct rp_replay_opts *o, struct rp_replay_stats *st,
		  char *err, size_t errlen);

#endif
