/*
 * conn: the HTTP/1 connections of the proxy — a client connection, the
 * upstream connection serving its current exchange, and the per-worker pool
 * of idle upstream connections.  Bytes are read with one recv() into the
 * worker's scratch buffer, parsed in place by the HTTP/1 codec (STRICT), and
 * forwarded as they were received: the head rebuilt by head.c without its
 * hop-by-hop fields, the body (and chunked framing) byte for byte.  Output
 * goes to an evbuffer flushed with one writev() after each read.  A copy of
 * the heads and of the body up to --max-body goes into an exchange that is
 * handed to the recorder when the exchange ends; nothing else of recording
 * happens here.
 *
 * Where the time goes: in steady keep-alive traffic an exchange costs four
 * system calls (client recv, upstream writev, upstream recv, client writev)
 * plus a share of epoll_wait.  Read events stay enabled for the life of a
 * connection (reading ahead is bounded, and EOF while waiting is noted),
 * write events are enabled only when a socket is full, and timers are
 * re-checked lazily, so no epoll_ctl or timer churn happens per request.
 *
 * Invariants: one exchange per client connection at a time, and pipelined
 * requests wait in the input buffer, so responses go out in request order;
 * a side whose peer's output passes RP_LIMIT_PROXY_HIWAT stops being read
 * until it drains below half of it, so memory per connection is bounded
 * whatever the body sizes; objects closed inside a callback are freed only
 * from the worker's reap event; an upstream connection goes back to the pool
 * only between complete exchanges with nothing unread.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "reprise/limits.h"
#include "proxy-int.h"

#define LOWAT (RP_LIMIT_PROXY_HIWAT / 2)
#define POOL_IDLE_NS (30LL * 1000000000)  /* pooled upstream connections live this long */
#define LINGER_NS (2LL * 1000000000)      /* reading what a refused client still sends */
#define MS (1000000LL)

/* Client connection states. */
enum cstate {
	C_IDLE,    /* between requests (or before the first) */
	C_HEAD,    /* reading a request head */
	C_BODY,    /* head forwarded; reading and forwarding the request body */
	C_WAIT,    /* request complete; its response is due */
	C_CLOSING, /* flushing a last response, then close */
	C_LINGER,  /* response sent and write side shut; discarding input */
};

/* Response progress of the current exchange. */
enum rstate {
	R_NONE, /* no final response head sent to the client */
	R_BODY, /* final head sent; body flowing */
	R_DONE,
};

enum ustate {
	U_CONNECTING,
	U_ACTIVE,
	U_IDLE, /* in the pool */
};

/* The recorded copy of a body, in the record's pool, capped at --max-body. */
struct acc {
	uint8_t *p;
	size_t n, cap;
	uint64_t total; /* body bytes seen, recorded or not */
	int cut;
};

/* The head being read: its start in the current view and its lines as
 * offsets from that start (so they survive the bytes being moved). */
struct fields {
	struct rp_proxy_field *v;
	size_t n, cap;
	size_t head_off;
	uint32_t a_off, a_len; /* request: method; response: status code */
	uint32_t b_off, b_len; /* request: target; response: reason */
	int in_head;
};

/* The exchange in flight on a client connection. */
struct xch {
	struct rp_exchange *rec; /* NULL when not recording */
	struct upconn *up;
	struct acc reqb, respb;
	enum rp_h1_method method;
	uint8_t minor;    /* the client's HTTP minor version */
	uint8_t req_done;
	uint8_t resp;     /* enum rstate */
	uint8_t keep;     /* the client connection persists after it */
	uint8_t dechunk;  /* chunked response to an HTTP/1.0 client: send the data only */
	uint8_t retried;
	uint8_t reused;   /* served by a pooled upstream connection */
	uint16_t status;  /* final status sent to the client */
	uint32_t seq;
	int64_t sent_mono;/* request head queued for the upstream */
	struct rp_buf retry; /* forwarded head of a bodiless request on a pooled
	                        connection, resent once if that turns out stale */
};

struct conn {
	struct worker *w;
	struct conn *prev, *next; /* worker list; next also links the reap list */
	uint64_t id;
	uint32_t seq;             /* position of the next exchange */
	int fd;
	struct event *rev, *wev, *tev;
	struct rp_buf in;         /* unparsed bytes kept between reads */
	size_t pofs;              /* bytes of the current view the parser consumed */
	struct evbuffer *out;
	struct rp_h1_parser p;
	struct fields f;
	uint8_t state, rd_on, wr_on, eof, dead, bp, linger;
	int64_t idle_since, head_since, last_rd, last_wr, linger_since; /* monotonic */
	int64_t read_ns;          /* wall clock of the last read */
	int64_t head_ns;          /* wall clock of the first byte of the request */
	struct rp_endpoint peer;
	char peer_text[64];
	char xff[96], fwd[112];
	size_t xff_len, fwd_len;
	struct xch x;
};

struct upconn {
	struct worker *w;
	struct upconn *prev, *next; /* pool list; next also links the reap list */
	struct conn *c;             /* the client served, NULL when pooled */
	int fd;
	struct event *rev, *wev, *tev;
	struct rp_buf in;
	size_t pofs;
	struct evbuffer *out;
	struct rp_h1_parser p;
	struct fields f;
	uint8_t state, rd_on, wr_on, dead, bp, interim, got, leftover, pooled;
	uint32_t served;
	int64_t since, last_io, idle_since; /* monotonic */
	int64_t read_ns;
};

static void client_input(struct conn *c, uint8_t *base, size_t len, int buffered);
static void conn_close(struct conn *c);
static void up_close(struct upconn *u);
static int up_flush(struct upconn *u);
static void finish(struct conn *c);

/* ---- small helpers ---- */

static int64_t mono(void)
{
	return rp_mono_ns();
}

static void ev_on(struct event *ev, uint8_t *on)
{
	if (!*on) {
		event_add(ev, NULL);
		*on = 1;
	}
}

static void ev_off(struct event *ev, uint8_t *on)
{
	if (*on) {
		event_del(ev);
		*on = 0;
	}
}

/* Re-arms |tev| to fire at |deadline| or after |gran|, whichever is first.
 * Returns 1 when |deadline| has passed (nothing armed). */
static int lazy_arm(struct event *tev, int64_t deadline, int64_t now, int64_t gran)
{
	if (deadline <= now)
		return 1;
	int64_t d = RP_MIN(deadline - now, gran);
	struct timeval tv = {(time_t)(d / 1000000000), (suseconds_t)((d % 1000000000) / 1000) + 1};
	event_add(tev, &tv);
	return 0;
}

static void arm_after(struct event *tev, int64_t ns)
{
	struct timeval tv = {(time_t)(ns / 1000000000), (suseconds_t)((ns % 1000000000) / 1000) + 1};
	event_add(tev, &tv);
}

void rp_proxy_warn(struct worker *w, const char *fmt, ...)
{
	char line[1024];
	int64_t sec = mono() / 1000000000;
	if (sec != w->log_sec) {
		w->log_sec = sec;
		w->log_n = 0;
	}
	if (w->log_n >= 20 || !rp_log_enabled(RP_LOG_WARN)) {
		w->log_suppressed++;
		return;
	}
	w->log_n++;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (w->log_suppressed) {
		rp_log(RP_LOG_WARN, "%s worker=%u suppressed=%u", line, w->idx, w->log_suppressed);
		w->log_suppressed = 0;
	} else {
		rp_log(RP_LOG_WARN, "%s worker=%u", line, w->idx);
	}
}

#define RD_AGAIN (-1)
#define RD_ERR (-2)
#define RD_FULL (-3)

/* Reads once from |fd|: into the worker's scratch when |in| holds nothing
 * (the common case: no copy is kept), else after the bytes |in| holds, which
 * the parser needs contiguous with the new ones.  |cap| bounds |in|.  On
 * success *base and *len describe every unparsed byte.  Returns the count
 * read, 0 at end of stream, RD_AGAIN, RD_ERR (errno) or RD_FULL. */
static ssize_t sock_read(struct worker *w, int fd, struct rp_buf *in, size_t cap, uint8_t **base,
			 size_t *len, int *buffered)
{
	ssize_t n;
	size_t have = rp_buf_len(in);
	if (have == 0 && cap >= w->scratch_len) {
		n = recv(fd, w->scratch, w->scratch_len, 0);
		if (n > 0) {
			*base = w->scratch;
			*len = (size_t)n;
			*buffered = 0;
		}
	} else {
		if (have >= cap)
			return RD_FULL;
		size_t want = RP_MIN(cap - have, (size_t)RP_LIMIT_PROXY_READ);
		if (rp_buf_reserve(in, want))
			return RD_FULL;
		n = recv(fd, in->base + in->wr, want, 0);
		if (n > 0) {
			rp_buf_commit(in, (size_t)n);
			*base = in->base + in->rd;
			*len = rp_buf_len(in);
			*buffered = 1;
		}
	}
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? RD_AGAIN : RD_ERR;
	return n;
}

/* Keeps bytes [keep, len) of the view for the next read.  0 or RP_E_LIMIT. */
static int keep_tail(struct rp_buf *in, const uint8_t *base, size_t len, size_t keep, int buffered)
{
	if (buffered) {
		rp_buf_consume(in, keep);
		return 0;
	}
	return keep < len ? rp_buf_append(in, base + keep, len - keep) : 0;
}

/* Writes what |out| holds.  Returns 0 (written, or the rest waits for
 * EV_WRITE, then enabled) or -1 when the peer is gone (errno set). */
static int flush(int fd, struct evbuffer *out, struct event *wev, uint8_t *wr_on, int64_t *progress)
{
	for (int i = 0; i < 4 && evbuffer_get_length(out); i++) {
		int n = evbuffer_write(out, fd);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			return -1;
		}
		*progress = mono();
	}
	if (evbuffer_get_length(out)) {
		if (!*wr_on)
			*progress = mono(); /* blocked since now */
		ev_on(wev, wr_on);
	}
	else
		ev_off(wev, wr_on);
	return 0;
}

static void fields_reset(struct fields *f, size_t head_off)
{
	f->n = 0;
	f->head_off = head_off;
	f->a_off = f->a_len = f->b_off = f->b_len = 0;
	f->in_head = 1;
}

static void fields_add(struct fields *f, const uint8_t *base, size_t end, struct rp_slice name,
		       struct rp_slice value)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->v = rp_xrealloc(f->v, f->cap * sizeof(*f->v));
	}
	struct rp_proxy_field *d = &f->v[f->n++];
	size_t start = (size_t)(name.p - base);
	d->off = (uint32_t)(start - f->head_off);
	d->len = (uint32_t)(end - start);
	d->name_len = (uint32_t)name.n;
	d->value_off = value.n ? (uint32_t)((size_t)(value.p - base) - f->head_off) : d->off + d->name_len;
	d->value_len = (uint32_t)value.n;
	d->drop = 0;
}

static struct rp_proxy_head head_of(const struct fields *f, const uint8_t *base, size_t end)
{
	struct rp_proxy_head h = {base + f->head_off, end - f->head_off, f->v, f->n};
	return h;
}

/* ---- the recorded copy ---- */

static void acc_init(struct acc *a, struct rp_exchange *rec, uint64_t hint, uint64_t max)
{
	memset(a, 0, sizeof(*a));
	if (rec && hint) {
		a->cap = (size_t)RP_MIN(hint, max);
		a->p = rp_pool_alloc(rec->pool, a->cap);
	}
}

static void acc_add(struct acc *a, struct rp_exchange *rec, struct rp_slice d, uint64_t max)
{
	a->total += d.n;
	if (!rec || a->cut || !d.n)
		return;
	size_t take = (size_t)RP_MIN((uint64_t)d.n, max - a->n);
	if (take < d.n)
		a->cut = 1;
	if (!take)
		return;
	if (a->n + take > a->cap) {
		size_t cap = RP_MAX(RP_MAX(a->cap * 2, a->n + take), (size_t)4096);
		cap = (size_t)RP_MIN((uint64_t)cap, max);
		uint8_t *p = rp_pool_alloc(rec->pool, cap);
		if (a->n)
			memcpy(p, a->p, a->n);
		a->p = p;
		a->cap = cap;
	}
	memcpy(a->p + a->n, d.p, take);
	a->n += take;
}

/* Copies head |h| into |rec|'s pool and fills |m|'s headers from it;
 * returns the copy's base so that start-line slices can be rebased. */
static const uint8_t *rec_head(struct rp_exchange *rec, struct rp_message *m,
			       const struct rp_proxy_head *h)
{
	struct rp_slice copy = rp_pool_dup(rec->pool, rp_slice(h->base, h->len));
	for (size_t i = 0; i < h->nf; i++)
		rp_headers_add_ref(&m->headers, rec->pool, rp_slice(copy.p + h->f[i].off, h->f[i].name_len),
				   rp_slice(copy.p + h->f[i].value_off, h->f[i].value_len));
	return copy.p;
}

/* Starts the record of the exchange whose request head is |h| (possibly
 * partial, when the head was refused). */
static void rec_begin(struct conn *c, const struct rp_proxy_head *h)
{
	struct rp_proxy *px = c->w->px;
	struct xch *x = &c->x;
	if (!px->o.recorder || x->rec)
		return;
	struct rp_exchange *e = rp_exchange_new();
	const uint8_t *b = rec_head(e, &e->req.m, h);
	e->conn_id = c->id;
	e->conn_seq = x->seq;
	e->proto = c->p.msg.minor == 0 ? RP_PROTO_H10 : RP_PROTO_H11;
	e->client = c->peer;
	e->server = px->up_ep;
	e->t.req_start = c->head_ns;
	e->req.method = rp_slice(b + c->f.a_off, c->f.a_len);
	e->req.target = rp_slice(b + c->f.b_off, c->f.b_len);
	e->req.scheme = RP_SLICE_LIT("http");
	const struct rp_header *host = rp_headers_get(&e->req.m.headers, RP_SLICE_LIT("Host"));
	if (host)
		e->req.authority = host->value;
	x->rec = e;
}

static void rec_response(struct upconn *u, const struct rp_proxy_head *h)
{
	struct xch *x = &u->c->x;
	struct rp_exchange *e = x->rec;
	if (!e)
		return;
	const uint8_t *b = rec_head(e, &e->resp.m, h);
	e->resp.status = u->p.msg.status;
	e->resp.reason = rp_slice(b + u->f.b_off, u->f.b_len);
	e->t.resp_start = u->read_ns;
}

static void rec_trailer(struct rp_exchange *e, struct rp_message *m, struct rp_slice name,
			struct rp_slice value)
{
	if (e)
		rp_headers_add(&m->trailers, e->pool, name, value);
}

/* Hands the record to the recorder with |flags| added. */
static void rec_submit(struct conn *c, uint32_t flags)
{
	struct worker *w = c->w;
	struct xch *x = &c->x;
	struct rp_exchange *e = x->rec;
	if (!e)
		return;
	x->rec = NULL;
	e->flags |= flags;
	e->req.m.body = rp_slice(x->reqb.p, x->reqb.n);
	e->req.m.wire_len = x->reqb.total;
	e->resp.m.body = rp_slice(x->respb.p, x->respb.n);
	e->resp.m.wire_len = x->respb.total;
	if (x->reqb.cut)
		e->flags |= RP_XF_REQ_TRUNCATED;
	if (x->respb.cut)
		e->flags |= RP_XF_RESP_TRUNCATED;
	if (x->reqb.cut || x->respb.cut)
		rp_proxy_count(&w->st, RP_PST_RECORD_TRUNCATED, 1);
	if (!e->resp.status)
		e->flags |= RP_XF_NO_RESPONSE;
	if (!e->t.req_end)
		e->t.req_end = c->read_ns;
	rp_recorder_submit(w->px->o.recorder, e);
}

/* ---- responses the proxy writes itself ---- */

static const char *status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

/* Records the answer the proxy gave itself; the reason is a static string. */
static void set_status(struct rp_exchange *e, int status)
{
	e->resp.status = (uint16_t)status;
	e->resp.reason = rp_slice_str(status_text(status));
}

static void count_status(struct worker *w, int status)
{
	unsigned cls = status >= 100 && status < 600 ? (unsigned)status / 100 : 0;
	rp_proxy_count(&w->st, (enum rp_proxy_stat)(RP_PST_RESP0 + cls), 1);
}

static void close_or_linger(struct conn *c)
{
	if (!c->linger) {
		conn_close(c);
		return;
	}
	/* The client may still be sending what we refused; closing now would
	 * reset the connection and could destroy the response in flight. */
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->linger_since = mono();
	ev_on(c->rev, &c->rd_on);
	arm_after(c->tev, LINGER_NS);
}

static int client_flush(struct conn *c);

/* Sends a response of the proxy's own and closes after it. */
static void reply_error(struct conn *c, int status)
{
	struct xch *x = &c->x;
	const char *text = status_text(status);
	evbuffer_add_printf(c->out,
			    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n%d %s\n",
			    status, text, strlen(text) + 5, status, text);
	x->status = (uint16_t)status;
	x->resp = R_DONE;
	count_status(c->w, status);
	c->linger = !x->req_done;
	c->state = C_CLOSING;
	rp_buf_clear(&c->in);
	if (client_flush(c) == 0 && evbuffer_get_length(c->out) == 0)
		close_or_linger(c);
}

/* Detaches and closes the upstream connection of |c|'s exchange, which
 * cannot be reused (it is mid-exchange). */
static void drop_upstream(struct conn *c)
{
	struct upconn *u = c->x.up;
	if (!u)
		return;
	c->x.up = NULL;
	u->c = NULL;
	up_close(u);
}

/* The exchange of |c| failed on the upstream side: the client gets |status|
 * when no response head was sent yet, else its connection is cut. */
static void exchange_fail(struct conn *c, int status, enum rp_proxy_stat stat, const char *event,
			  const char *doing, const char *why, int err)
{
	struct worker *w = c->w;
	struct xch *x = &c->x;
	rp_proxy_warn(w,
		      "component=proxy conn=%" PRIu64 " seq=%" PRIu32 " event=%s status=%d upstream=%s"
		      " while=\"%s\" reason=\"%s\"%s%s%s",
		      c->id, x->seq, event, x->resp == R_NONE ? status : 0, w->px->up_text, doing, why,
		      err ? " err=\"" : "", err ? strerror(err) : "", err ? "\"" : "");
	rp_proxy_count(&w->st, stat, 1);
	drop_upstream(c);
	if (x->resp == R_NONE) {
		if (x->rec)
			set_status(x->rec, status);
		rec_submit(c, RP_XF_FAILED | RP_XF_NO_RESPONSE);
		reply_error(c, status);
	} else {
		rec_submit(c, RP_XF_FAILED);
		conn_close(c);
	}
}

/* The client left (or broke the protocol mid-body) during an exchange. */
static void client_gone(struct conn *c, int err, const char *doing)
{
	struct worker *w = c->w;
	struct xch *x = &c->x;
	if (c->state == C_BODY && x->resp == R_DONE) {
		/* answered early, and the client stopped sending the rest */
		drop_upstream(c);
		rec_submit(c, RP_XF_REQ_TRUNCATED);
	} else if (c->state == C_BODY || c->state == C_WAIT || (c->state == C_CLOSING && x->resp != R_DONE)) {
		rp_proxy_count(&w->st, RP_PST_CLIENT_ABORT, 1);
		if (rp_log_enabled(RP_LOG_INFO))
			rp_log(RP_LOG_INFO,
			       "component=proxy conn=%" PRIu64 " seq=%" PRIu32
			       " event=client_abort while=\"%s\" err=\"%s\"",
			       c->id, x->seq, doing, err ? strerror(err) : "connection closed");
		drop_upstream(c);
		if (x->resp == R_NONE)
			count_status(w, 0);
		rec_submit(c, RP_XF_FAILED);
	}
	conn_close(c);
}

static int client_flush(struct conn *c)
{
	if (flush(c->fd, c->out, c->wev, &c->wr_on, &c->last_wr) == 0)
		return 0;
	client_gone(c, errno, "sending response to client");
	return -1;
}

/* ---- upstream connections ---- */

static struct upconn *up_new(struct worker *w)
{
	struct upconn *u = rp_xcalloc(1, sizeof(*u));
	u->w = w;
	u->fd = -1;
	u->out = evbuffer_new();
	if (!u->out)
		rp_oom();
	rp_buf_init(&u->in, w->in_max);
	rp_h1_init(&u->p, RP_H1_RESPONSE, &w->h1resp);
	return u;
}

static void up_read_cb(evutil_socket_t fd, short what, void *arg);
static void up_write_cb(evutil_socket_t fd, short what, void *arg);
static void up_timer_cb(evutil_socket_t fd, short what, void *arg);

/* Opens a connection to the upstream.  0, or -1 with errno. */
static int up_connect(struct upconn *u)
{
	struct worker *w = u->w;
	struct rp_proxy *px = w->px;
	int one = 1;
	u->fd = socket(px->usa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		return -1;
	setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	u->rev = event_new(w->base, u->fd, EV_READ | EV_PERSIST, up_read_cb, u);
	u->wev = event_new(w->base, u->fd, EV_WRITE | EV_PERSIST, up_write_cb, u);
	u->tev = evtimer_new(w->base, up_timer_cb, u);
	if (!u->rev || !u->wev || !u->tev)
		rp_oom();
	u->since = u->last_io = mono();
	rp_proxy_count(&w->st, RP_PST_UPSTREAM_CONNS, 1);
	if (connect(u->fd, (const struct sockaddr *)&px->usa, px->ulen) == 0) {
		u->state = U_ACTIVE;
		ev_on(u->rev, &u->rd_on);
	} else if (errno == EINPROGRESS) {
		u->state = U_CONNECTING;
		ev_on(u->wev, &u->wr_on);
	} else {
		return -1;
	}
	arm_after(u->tev, w->ugran);
	return 0;
}

static void up_close(struct upconn *u)
{
	struct worker *w = u->w;
	if (u->dead)
		return;
	u->dead = 1;
	if (u->pooled) {
		if (u->prev)
			u->prev->next = u->next;
		else
			w->idle = u->next;
		if (u->next)
			u->next->prev = u->prev;
		w->nidle--;
		u->pooled = 0;
	}
	if (u->rev)
		event_del(u->rev);
	if (u->wev)
		event_del(u->wev);
	if (u->tev)
		event_del(u->tev);
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	u->c = NULL;
	u->next = w->reap_u;
	w->reap_u = u;
	event_active(w->reap_ev, EV_TIMEOUT, 0);
}

/* Puts |u| back in the pool, or closes it when the pool is full. */
static void up_release(struct upconn *u)
{
	struct worker *w = u->w;
	u->c = NULL;
	u->served++;
	if (w->draining || w->nidle >= w->px->o.pool_size) {
		up_close(u);
		return;
	}
	u->state = U_IDLE;
	u->idle_since = mono();
	u->got = u->interim = u->leftover = 0;
	u->pofs = 0;
	rp_buf_clear(&u->in);
	if (u->bp) {
		u->bp = 0;
		ev_on(u->rev, &u->rd_on);
	}
	u->pooled = 1;
	u->prev = NULL;
	u->next = w->idle;
	if (w->idle)
		w->idle->prev = u;
	w->idle = u;
	w->nidle++;
}

/* An upstream connection for |c|: the most recently pooled one, or a new
 * one.  NULL with errno when connecting failed at once. */
static struct upconn *up_acquire(struct conn *c)
{
	struct worker *w = c->w;
	struct upconn *u = w->idle;
	if (u) {
		w->idle = u->next;
		if (w->idle)
			w->idle->prev = NULL;
		w->nidle--;
		u->pooled = 0;
		u->state = U_ACTIVE;
		u->last_io = mono();
		c->x.reused = 1;
		rp_proxy_count(&w->st, RP_PST_UPSTREAM_REUSED, 1);
	} else {
		u = up_new(w);
		if (up_connect(u)) {
			int err = errno;
			up_close(u);
			errno = err;
			return NULL;
		}
		c->x.reused = 0;
	}
	u->c = c;
	return u;
}

/* Resends the head of a bodiless request on a fresh connection after the
 * pooled one it went to turned out closed before answering.  Returns 1 when
 * a retry was started (or failed and was answered), 0 when not applicable. */
static int try_retry(struct upconn *u)
{
	struct conn *c = u->c;
	struct worker *w = u->w;
	if (!c)
		return 0;
	struct xch *x = &c->x;
	if (u->got || !x->reused || x->retried || !x->req_done || rp_buf_len(&x->retry) == 0)
		return 0;
	x->retried = 1;
	drop_upstream(c);
	rp_proxy_count(&w->st, RP_PST_RETRIED, 1);
	struct upconn *n = up_new(w);
	if (up_connect(n)) {
		int err = errno;
		up_close(n);
		exchange_fail(c, 502, RP_PST_UPSTREAM_CONNECT, "upstream_connect_failed",
			      "connecting to upstream", "connect failed", err);
		return 1;
	}
	n->c = c;
	x->up = n;
	x->reused = 0;
	rp_h1_set_method(&n->p, x->method);
	evbuffer_add(n->out, x->retry.base + x->retry.rd, rp_buf_len(&x->retry));
	up_flush(n);
	return 1;
}

/* The upstream connection failed with |err| (0: it closed) while |doing|. */
static void up_broken(struct upconn *u, int err, const char *doing)
{
	struct conn *c = u->c;
	if (!c) {
		up_close(u);
		return;
	}
	if (try_retry(u))
		return;
	if (c->x.resp == R_DONE) {
		/* answered early; the upstream left before the request ended */
		drop_upstream(c);
		finish(c);
		return;
	}
	if (c->x.resp == R_NONE && !u->got)
		exchange_fail(c, 502, RP_PST_UPSTREAM_ERROR, "upstream_closed", doing,
			      "upstream closed the connection before responding", err);
	else
		exchange_fail(c, 502, RP_PST_UPSTREAM_ERROR, "upstream_closed", doing,
			      "upstream closed the connection mid-response", err);
}

static int up_flush(struct upconn *u)
{
	if (u->state != U_ACTIVE)
		return 0;
	if (flush(u->fd, u->out, u->wev, &u->wr_on, &u->last_io) == 0)
		return 0;
	up_broken(u, errno, "sending request to upstream");
	return -1;
}

static void up_connected(struct upconn *u)
{
	u->state = U_ACTIVE;
	u->last_io = mono();
	ev_on(u->rev, &u->rd_on);
}

static void up_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upconn *u = arg;
	if (u->state == U_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			if (u->c)
				exchange_fail(u->c, 502, RP_PST_UPSTREAM_CONNECT, "upstream_connect_failed",
					      "connecting to upstream", "connect failed", err);
			else
				up_close(u);
			return;
		}
		up_connected(u);
	}
	if (up_flush(u))
		return;
	struct conn *c = u->c;
	if (c && c->bp && evbuffer_get_length(u->out) <= LOWAT) {
		c->bp = 0;
		ev_on(c->rev, &c->rd_on);
	}
}

static void up_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upconn *u = arg;
	struct worker *w = u->w;
	struct rp_proxy *px = w->px;
	int64_t now = mono(), dl = INT64_MAX;
	switch (u->state) {
	case U_CONNECTING:
		dl = u->since + (int64_t)px->o.connect_timeout_ms * MS;
		break;
	case U_ACTIVE:
		/* not while we hold its reading back for a slow client, nor while
		 * the request body is awaited from the client */
		if (u->c && !u->bp && (u->c->x.req_done || evbuffer_get_length(u->out)))
			dl = u->last_io + (int64_t)px->o.upstream_timeout_ms * MS;
		break;
	case U_IDLE:
		dl = u->idle_since + POOL_IDLE_NS;
		break;
	}
	if (dl == INT64_MAX) {
		arm_after(u->tev, w->ugran);
		return;
	}
	if (!lazy_arm(u->tev, dl, now, w->ugran))
		return;
	struct conn *c = u->c;
	if (u->state == U_IDLE || !c) {
		up_close(u);
	} else if (u->state == U_CONNECTING) {
		exchange_fail(c, 504, RP_PST_UPSTREAM_TIMEOUT, "upstream_connect_timeout",
			      "connecting to upstream", "connect timed out", 0);
	} else {
		char why[96];
		snprintf(why, sizeof(why), "upstream silent for %u ms", px->o.upstream_timeout_ms);
		exchange_fail(c, 504, RP_PST_UPSTREAM_TIMEOUT, "upstream_timeout",
			      c->x.resp == R_NONE ? "waiting for upstream response header"
						  : "reading upstream response body",
			      why, 0);
	}
}

/* ---- responses ---- */

/* Forwards a 1xx interim response (100 Continue ...) to the client. */
static void forward_interim(struct upconn *u, const uint8_t *base)
{
	struct conn *c = u->c;
	struct rp_proxy *px = u->w->px;
	if (c->x.minor == 0)
		return; /* RFC 9110 §15.2: no 1xx to an HTTP/1.0 client */
	struct rp_proxy_head h = head_of(&u->f, base, u->pofs);
	rp_proxy_hop_mark(&h, 0, NULL);
	struct rp_slice start[4] = {
		RP_SLICE_LIT("HTTP/1.1 "), rp_slice(h.base + u->f.a_off, u->f.a_len),
		RP_SLICE_LIT(" "), rp_slice(h.base + u->f.b_off, u->f.b_len),
	};
	struct rp_slice extra[1];
	size_t ne = 0;
	if (px->o.via)
		extra[ne++] = RP_SLICE_LIT("Via: 1.1 reprise");
	size_t n = rp_proxy_head_size(&h, start, 4, extra, ne);
	struct evbuffer_iovec v;
	if (evbuffer_reserve_space(c->out, (ev_ssize_t)n, &v, 1) < 1)
		rp_oom();
	rp_proxy_head_write(&h, start, 4, extra, ne, v.iov_base);
	v.iov_len = n;
	evbuffer_commit_space(c->out, &v, 1);
}

static void on_response_head(struct upconn *u, const uint8_t *base)
{
	struct worker *w = u->w;
	struct rp_proxy *px = w->px;
	struct conn *c = u->c;
	struct xch *x = &c->x;
	const struct rp_h1_msg *m = &u->p.msg;
	struct rp_proxy_head h = head_of(&u->f, base, u->pofs);

	rp_proxy_hop_mark(&h, 0, NULL);
	x->dechunk = m->body == RP_H1_BODY_CHUNKED && x->minor == 0;
	if (x->dechunk)
		for (size_t i = 0; i < h.nf; i++)
			if (rp_slice_eq_nocase(rp_proxy_field_name(&h, i), RP_SLICE_LIT("Transfer-Encoding")))
				h.f[i].drop = 1;
	/* An answer that comes before the end of its request does not close
	 * the connection by itself: the client may finish sending (finish()
	 * closes when it does not). */
	x->keep = (c->p.msg.flags & RP_H1_F_KEEP_ALIVE) && !w->draining && !x->dechunk &&
		  m->body != RP_H1_BODY_EOF && !c->eof;

	struct rp_slice start[4] = {
		RP_SLICE_LIT("HTTP/1.1 "), rp_slice(h.base + u->f.a_off, u->f.a_len),
		RP_SLICE_LIT(" "), rp_slice(h.base + u->f.b_off, u->f.b_len),
	};
	struct rp_slice extra[2];
	size_t ne = 0;
	if (px->o.via)
		extra[ne++] = RP_SLICE_LIT("Via: 1.1 reprise");
	if (!x->keep)
		extra[ne++] = RP_SLICE_LIT("Connection: close");
	else if (x->minor == 0)
		extra[ne++] = RP_SLICE_LIT("Connection: keep-alive");
	size_t n = rp_proxy_head_size(&h, start, 4, extra, ne);
	struct evbuffer_iovec v;
	if (evbuffer_reserve_space(c->out, (ev_ssize_t)n, &v, 1) < 1)
		rp_oom();
	rp_proxy_head_write(&h, start, 4, extra, ne, v.iov_base);
	v.iov_len = n;
	evbuffer_commit_space(c->out, &v, 1);

	x->resp = R_BODY;
	x->status = m->status;
	count_status(w, m->status);
	uint64_t us = (uint64_t)(mono() - x->sent_mono) / 1000;
	unsigned b = 0;
	while (b < RP_PROXY_LAT_BUCKETS && us > rp_proxy_lat_bounds_us[b])
		b++;
	rp_proxy_count_lat(&w->st, b, us);
	rec_response(u, &h);
	acc_init(&x->respb, x->rec,
		 (m->flags & RP_H1_F_CONTENT_LENGTH) && m->body == RP_H1_BODY_LENGTH ? m->content_length : 0,
		 px->o.max_body);
}

/* The final response is complete.  The request may not be: a server may
 * answer before reading a body it does not need (an early error, nginx's
 * `return`).  Then the rest of the request still goes upstream and into the
 * record, and the exchange ends with it (client_input). */
static void response_done(struct conn *c)
{
	struct xch *x = &c->x;
	x->resp = R_DONE;
	if (x->rec)
		x->rec->t.resp_end = x->up ? x->up->read_ns : rp_now_ns();
	if (!x->req_done)
		return;
	finish(c);
}

static void up_input(struct upconn *u, uint8_t *base, size_t len, int buffered)
{
	struct worker *w = u->w;
	struct rp_proxy *px = w->px;
	struct conn *c = u->c;
	struct xch *x = &c->x;
	size_t fwd = x->resp == R_BODY ? u->pofs : SIZE_MAX;
	int done = 0;

	while (!done) {
		struct rp_h1_event ev;
		ssize_t r = rp_h1_parse(&u->p, base + u->pofs, len - u->pofs, &ev);
		if (r == RP_E_AGAIN)
			break;
		if (r < 0) {
			char why[160];
			snprintf(why, sizeof(why), "invalid response: %s (state=%s offset=%" PRIu64 ")",
				 rp_h1_reason(&u->p), rp_h1_state_name(u->p.err.state), u->p.err.offset);
			if (x->resp == R_BODY && fwd != SIZE_MAX && !x->dechunk && u->pofs > fwd)
				evbuffer_add(c->out, base + fwd, u->pofs - fwd);
			exchange_fail(c, 502, RP_PST_UPSTREAM_ERROR, "bad_response",
				      x->resp == R_NONE ? "reading upstream response header"
							: "reading upstream response body",
				      why, 0);
			return;
		}
		size_t at = u->pofs;
		u->pofs += (size_t)r;
		switch (ev.type) {
		case RP_H1_EV_STATUS_LINE:
			fields_reset(&u->f, at);
			{
				/* the status code is the three digits before the reason */
				const uint8_t *line = base + at;
				size_t i = 0;
				while (i + 1 < (size_t)r && line[i] != ' ')
					i++;
				u->f.a_off = (uint32_t)(i + 1);
				u->f.a_len = 3;
			}
			u->f.b_off = ev.u.status.reason.n ? (uint32_t)(ev.u.status.reason.p - base - at) : 0;
			u->f.b_len = (uint32_t)ev.u.status.reason.n;
			break;
		case RP_H1_EV_HEADER:
			fields_add(&u->f, base, u->pofs, ev.u.field.name, ev.u.field.value);
			break;
		case RP_H1_EV_HEADERS_DONE:
			u->f.in_head = 0;
			if (ev.u.msg->flags & RP_H1_F_INTERIM) {
				u->interim = 1;
				forward_interim(u, base);
				break;
			}
			if (ev.u.msg->flags & RP_H1_F_TUNNEL) {
				exchange_fail(c, 502, RP_PST_UPSTREAM_ERROR, "bad_response",
					      "reading upstream response header",
					      "upstream switched protocols unasked", 0);
				return;
			}
			on_response_head(u, base);
			fwd = u->pofs;
			break;
		case RP_H1_EV_BODY:
			if (x->resp != R_BODY)
				break;
			acc_add(&x->respb, x->rec, ev.u.data, px->o.max_body);
			if (x->dechunk)
				evbuffer_add(c->out, ev.u.data.p, ev.u.data.n);
			break;
		case RP_H1_EV_TRAILER:
			if (x->rec)
				rec_trailer(x->rec, &x->rec->resp.m, ev.u.field.name, ev.u.field.value);
			break;
		case RP_H1_EV_MESSAGE_DONE:
			if (u->interim) {
				u->interim = 0;
				break;
			}
			done = 1;
			break;
		default:
			break;
		}
	}
	if (x->resp == R_BODY && fwd != SIZE_MAX && !x->dechunk && u->pofs > fwd)
		evbuffer_add(c->out, base + fwd, u->pofs - fwd);
	if (done) {
		/* bytes after a complete response: the connection is not reusable */
		u->leftover = u->pofs < len;
		rp_buf_clear(&u->in);
		u->pofs = 0;
	} else {
		size_t keep = u->f.in_head ? u->f.head_off : u->pofs;
		if (keep_tail(&u->in, base, len, keep, buffered)) {
			exchange_fail(c, 502, RP_PST_UPSTREAM_ERROR, "bad_response",
				      "reading upstream response header", "response head too large", 0);
			return;
		}
		u->pofs -= keep;
		if (u->f.in_head)
			u->f.head_off = 0;
	}
	if (client_flush(c))
		return;
	if (done) {
		response_done(c);
		return;
	}
	if (evbuffer_get_length(c->out) >= RP_LIMIT_PROXY_HIWAT) {
		u->bp = 1;
		ev_off(u->rev, &u->rd_on);
	}
}

static void up_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upconn *u = arg;
	struct worker *w = u->w;
	uint8_t *base = NULL;
	size_t len = 0;
	int buffered = 0;
	ssize_t n = sock_read(w, fd, &u->in, w->in_max, &base, &len, &buffered);
	if (n == RD_AGAIN)
		return;
	if (u->state == U_IDLE || !u->c) {
		/* a pooled connection: closed by the upstream, or unsolicited bytes */
		up_close(u);
		return;
	}
	struct conn *c = u->c;
	if (c->x.resp == R_DONE) {
		/* anything after an early answer, even an end of stream */
		up_broken(u, n < 0 ? errno : 0, "sending request body after the response");
		return;
	}
	if (n == RD_FULL) {
		exchange_fail(c, 502, RP_PST_UPSTREAM_ERROR, "bad_response",
			      "reading upstream response header", "response head too large", 0);
		return;
	}
	if (n == 0) {
		struct rp_h1_event ev;
		if (c->x.resp == R_BODY && rp_h1_finish(&u->p, &ev) == 1) {
			/* a body delimited by the connection's end */
			u->leftover = 1;
			response_done(c);
			return;
		}
		up_broken(u, 0, c->x.resp == R_NONE ? "reading upstream response header"
						    : "reading upstream response body");
		return;
	}
	if (n < 0) {
		up_broken(u, errno, c->x.resp == R_NONE ? "reading upstream response header"
							: "reading upstream response body");
		return;
	}
	u->last_io = mono();
	u->read_ns = rp_now_ns();
	if (!u->got) {
		u->got = 1;
		rp_buf_clear(&c->x.retry);
	}
	up_input(u, base, len, buffered);
}

/* ---- requests ---- */

static void bad_request(struct conn *c, const uint8_t *base)
{
	struct worker *w = c->w;
	struct xch *x = &c->x;
	const struct rp_h1_error *e = &c->p.err;
	int status = rp_h1_error_status(&c->p);
	int in_head = c->state == C_HEAD || c->state == C_IDLE;
	rp_proxy_warn(w,
		      "component=proxy conn=%" PRIu64 " seq=%" PRIu32 " event=bad_request status=%d"
		      " client=%s while=\"reading client request %s\" reason=\"%s\" anomaly=%s"
		      " state=%s offset=%" PRIu64 "%s",
		      c->id, x->seq, in_head ? status : 0, c->peer_text, in_head ? "header" : "body",
		      rp_h1_reason(&c->p), e->anomaly ? rp_h1_anomaly_name(e->anomaly) : "none",
		      rp_h1_state_name(e->state), e->offset,
		      e->h2_preface ? " note=\"HTTP/2 prior knowledge is not supported yet\"" : "");
	rp_proxy_count(&w->st, RP_PST_BAD_REQUEST, 1);
	if (in_head) {
		if (c->f.in_head && c->f.a_len) {
			struct rp_proxy_head h = head_of(&c->f, base, c->pofs);
			rec_begin(c, &h);
			if (x->rec)
				set_status(x->rec, status);
		}
		rec_submit(c, RP_XF_FAILED | RP_XF_ANOMALY);
		reply_error(c, status);
		return;
	}
	/* the upstream got part of a request it will never see the end of */
	drop_upstream(c);
	if (x->resp == R_NONE) {
		if (x->rec)
			set_status(x->rec, status);
		rec_submit(c, RP_XF_FAILED | RP_XF_ANOMALY);
		reply_error(c, status);
	} else {
		rec_submit(c, RP_XF_FAILED | RP_XF_ANOMALY);
		conn_close(c);
	}
}

/* Refuses a request whose head parsed but may not be forwarded. */
static void refuse(struct conn *c, const uint8_t *base, int status, const char *why)
{
	struct worker *w = c->w;
	rp_proxy_warn(w,
		      "component=proxy conn=%" PRIu64 " seq=%" PRIu32 " event=bad_request status=%d"
		      " client=%s while=\"reading client request header\" reason=\"%s\"",
		      c->id, c->x.seq, status, c->peer_text, why);
	rp_proxy_count(&w->st, RP_PST_BAD_REQUEST, 1);
	struct rp_proxy_head h = head_of(&c->f, base, c->pofs);
	rec_begin(c, &h);
	if (c->x.rec)
		set_status(c->x.rec, status);
	rec_submit(c, RP_XF_FAILED | RP_XF_ANOMALY);
	reply_error(c, status);
}

static void on_request_head(struct conn *c, const uint8_t *base)
{
	struct worker *w = c->w;
	struct rp_proxy *px = w->px;
	struct xch *x = &c->x;
	const struct rp_h1_msg *m = &c->p.msg;
	struct rp_proxy_head h = head_of(&c->f, base, c->pofs);
	const char *why = NULL;

	x->method = m->method;
	x->minor = m->minor;
	if (m->flags & RP_H1_F_CONNECT) {
		refuse(c, base, 501, "CONNECT is not served by a reverse proxy");
		return;
	}
	size_t hosts = rp_proxy_head_count(&h, RP_SLICE_LIT("Host"));
	if (hosts > 1)
		why = "more than one Host field";
	else if (hosts == 0 && m->minor >= 1)
		why = "HTTP/1.1 request without Host";
	else
		rp_proxy_hop_mark(&h, 1, &why);
	if (why) {
		refuse(c, base, 400, why);
		return;
	}
	rec_begin(c, &h);
	acc_init(&x->reqb, x->rec, m->body == RP_H1_BODY_LENGTH ? m->content_length : 0, px->o.max_body);

	struct upconn *u = up_acquire(c);
	if (!u) {
		exchange_fail(c, 502, RP_PST_UPSTREAM_CONNECT, "upstream_connect_failed",
			      "connecting to upstream", "connect failed", errno);
		return;
	}
	x->up = u;
	rp_h1_set_method(&u->p, x->method);

	struct rp_slice start[4] = {
		rp_slice(h.base + c->f.a_off, c->f.a_len), RP_SLICE_LIT(" "),
		rp_slice(h.base + c->f.b_off, c->f.b_len), RP_SLICE_LIT(" HTTP/1.1"),
	};
	struct rp_slice extra[3];
	size_t ne = 0;
	if (px->o.via)
		extra[ne++] = RP_SLICE_LIT("Via: 1.1 reprise");
	if (px->o.x_forwarded_for)
		extra[ne++] = rp_slice(c->xff, c->xff_len);
	if (px->o.forwarded)
		extra[ne++] = rp_slice(c->fwd, c->fwd_len);
	size_t n = rp_proxy_head_size(&h, start, 4, extra, ne);
	struct evbuffer_iovec v;
	if (evbuffer_reserve_space(u->out, (ev_ssize_t)n, &v, 1) < 1)
		rp_oom();
	rp_proxy_head_write(&h, start, 4, extra, ne, v.iov_base);
	v.iov_len = n;
	rp_buf_clear(&x->retry);
	if (x->reused && m->body == RP_H1_BODY_NONE)
		rp_buf_append(&x->retry, v.iov_base, n);
	evbuffer_commit_space(u->out, &v, 1);
	x->sent_mono = mono();
	u->last_io = x->sent_mono;
	c->state = C_BODY;
}

static void client_input(struct conn *c, uint8_t *base, size_t len, int buffered)
{
	struct worker *w = c->w;
	struct rp_proxy *px = w->px;
	struct xch *x = &c->x;
	size_t fwd = c->state == C_BODY ? c->pofs : SIZE_MAX;

	while (c->state == C_HEAD || c->state == C_BODY) {
		struct rp_h1_event ev;
		ssize_t r = rp_h1_parse(&c->p, base + c->pofs, len - c->pofs, &ev);
		if (r == RP_E_AGAIN)
			break;
		if (r < 0) {
			if (x->up && fwd != SIZE_MAX && c->pofs > fwd)
				evbuffer_add(x->up->out, base + fwd, c->pofs - fwd);
			bad_request(c, base);
			return;
		}
		c->pofs += (size_t)r;
		switch (ev.type) {
		case RP_H1_EV_REQUEST_LINE:
			fields_reset(&c->f, (size_t)(ev.u.req.method.p - base));
			c->f.a_off = 0;
			c->f.a_len = (uint32_t)ev.u.req.method.n;
			c->f.b_off = (uint32_t)((size_t)(ev.u.req.target.p - base) - c->f.head_off);
			c->f.b_len = (uint32_t)ev.u.req.target.n;
			x->seq = c->seq++;
			break;
		case RP_H1_EV_HEADER:
			fields_add(&c->f, base, c->pofs, ev.u.field.name, ev.u.field.value);
			break;
		case RP_H1_EV_HEADERS_DONE:
			on_request_head(c, base);
			c->f.in_head = 0;
			if (c->state != C_BODY)
				return; /* refused or failed: answered, maybe closed */
			fwd = c->pofs;
			break;
		case RP_H1_EV_BODY:
			acc_add(&x->reqb, x->rec, ev.u.data, px->o.max_body);
			break;
		case RP_H1_EV_TRAILER:
			if (x->rec)
				rec_trailer(x->rec, &x->rec->req.m, ev.u.field.name, ev.u.field.value);
			break;
		case RP_H1_EV_MESSAGE_DONE:
			x->req_done = 1;
			if (x->rec)
				x->rec->t.req_end = c->read_ns;
			c->state = C_WAIT;
			break;
		default:
			break;
		}
	}
	if (x->up && fwd != SIZE_MAX && c->pofs > fwd)
		evbuffer_add(x->up->out, base + fwd, c->pofs - fwd);
	size_t keep = c->state == C_HEAD ? c->f.head_off : c->pofs;
	if (c->state == C_HEAD && !c->f.in_head)
		keep = c->pofs; /* only empty lines so far */
	if (keep_tail(&c->in, base, len, keep, buffered)) {
		reply_error(c, 431);
		return;
	}
	c->pofs -= keep;
	if (c->state == C_HEAD)
		c->f.head_off -= RP_MIN(c->f.head_off, keep);
	if (x->up) {
		struct upconn *u = x->up;
		if (up_flush(u) || c->dead)
			return;
		if (c->state == C_BODY && evbuffer_get_length(u->out) >= RP_LIMIT_PROXY_HIWAT) {
			c->bp = 1;
			ev_off(c->rev, &c->rd_on);
		}
	}
	if (c->state == C_WAIT && x->resp == R_DONE)
		finish(c); /* the request of an early answer is complete */
}

/* Parses what the client already sent (a pipelined request). */
static void client_drive(struct conn *c)
{
	if (!rp_buf_len(&c->in))
		return;
	if (c->state == C_IDLE) {
		c->state = C_HEAD;
		c->head_since = mono();
		c->head_ns = rp_now_ns();
		c->f.in_head = 0;
	}
	client_input(c, c->in.base + c->in.rd, rp_buf_len(&c->in), 1);
}

/* Ends the exchange once its response is complete. */
static void finish(struct conn *c)
{
	struct worker *w = c->w;
	struct xch *x = &c->x;
	struct upconn *u = x->up;
	x->up = NULL;
	if (u) {
		int reuse = u->state == U_ACTIVE && (u->p.msg.flags & RP_H1_F_KEEP_ALIVE) && x->req_done &&
			    !u->leftover && !u->dead;
		u->c = NULL;
		if (reuse)
			up_release(u);
		else
			up_close(u);
	}
	rec_submit(c, x->req_done ? 0 : RP_XF_REQ_TRUNCATED);
	rp_buf_clear(&x->retry);
	if (!x->keep || c->eof || w->draining || !x->req_done) {
		c->linger = !x->req_done;
		c->state = C_CLOSING;
		rp_buf_clear(&c->in);
		c->pofs = 0;
		if (evbuffer_get_length(c->out) == 0)
			close_or_linger(c);
		return;
	}
	/* ready for the next request */
	struct rp_buf retry = x->retry;
	memset(x, 0, sizeof(*x));
	x->retry = retry;
	c->state = C_IDLE;
	c->idle_since = mono();
	if (c->p.state == RP_H1_S_PAUSED)
		rp_h1_resume(&c->p, 0); /* Upgrade was not forwarded: HTTP/1 goes on */
	if (c->bp || !c->rd_on) {
		c->bp = 0;
		ev_on(c->rev, &c->rd_on);
	}
	if (rp_buf_len(&c->in))
		client_drive(c);
	else
		rp_buf_dispose(&c->in); /* an idle connection holds no buffer */
}

static void client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	uint8_t *base = NULL;
	size_t len = 0;
	int buffered = 0;
	ssize_t n;

	if (c->state == C_LINGER) {
		n = recv(fd, w->scratch, w->scratch_len, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	if (c->state == C_WAIT || c->state == C_CLOSING) {
		/* Read ahead what a pipelining client sends, up to a bound; an
		 * end of stream now is noted and the response still delivered. */
		size_t cap = rp_buf_len(&c->in) + RP_LIMIT_PROXY_PIPELINE;
		n = sock_read(w, fd, &c->in, RP_MIN(cap, w->in_max), &base, &len, &buffered);
		if (n > 0 && !buffered && rp_buf_append(&c->in, base, len))
			n = RD_FULL;
		if (n == RD_AGAIN)
			return;
		if (n == 0 || n == RD_FULL) {
			c->eof |= n == 0;
			ev_off(c->rev, &c->rd_on);
			return;
		}
		if (n < 0) {
			client_gone(c, errno, "waiting for upstream response");
			return;
		}
		if (c->state == C_CLOSING)
			rp_buf_clear(&c->in);
		return;
	}
	n = sock_read(w, fd, &c->in, w->in_max, &base, &len, &buffered);
	if (n == RD_AGAIN)
		return;
	if (n == RD_FULL) {
		reply_error(c, 431);
		return;
	}
	if (n <= 0) {
		int err = n < 0 ? errno : 0;
		if (c->state == C_HEAD && rp_log_enabled(RP_LOG_INFO))
			rp_log(RP_LOG_INFO,
			       "component=proxy conn=%" PRIu64 " event=client_closed"
			       " while=\"reading client request header\" err=\"%s\"",
			       c->id, err ? strerror(err) : "connection closed");
		client_gone(c, err, "reading client request body");
		return;
	}
	c->last_rd = mono();
	c->read_ns = rp_now_ns();
	if (c->state == C_IDLE) {
		c->state = C_HEAD;
		c->head_since = c->last_rd;
		c->head_ns = c->read_ns;
		c->f.in_head = 0;
	}
	client_input(c, base, len, buffered);
}

static void client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (client_flush(c))
		return;
	if (evbuffer_get_length(c->out) == 0 && c->state == C_CLOSING) {
		close_or_linger(c);
		return;
	}
	struct upconn *u = c->x.up;
	if (u && u->bp && evbuffer_get_length(c->out) <= LOWAT) {
		u->bp = 0;
		ev_on(u->rev, &u->rd_on);
	}
}

static void client_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	const struct rp_proxy_opts *o = &w->px->o;
	int64_t now = mono(), dl = INT64_MAX;
	int blocked = evbuffer_get_length(c->out) > 0;
	switch (c->state) {
	case C_IDLE:
		dl = c->idle_since + (int64_t)o->idle_timeout_ms * MS;
		break;
	case C_HEAD:
		dl = c->head_since + (int64_t)o->header_timeout_ms * MS;
		break;
	case C_BODY:
		/* not while we stopped reading it for a slow upstream */
		if (!c->bp)
			dl = RP_MAX(c->last_rd, c->head_since) + (int64_t)o->client_timeout_ms * MS;
		break;
	case C_WAIT:
	case C_CLOSING:
		if (blocked)
			dl = c->last_wr + (int64_t)o->client_timeout_ms * MS;
		break;
	case C_LINGER:
		dl = c->linger_since + LINGER_NS;
		break;
	}
	if (blocked && c->state == C_BODY)
		dl = RP_MIN(dl, c->last_wr + (int64_t)o->client_timeout_ms * MS);
	if (dl == INT64_MAX) {
		arm_after(c->tev, w->cgran);
		return;
	}
	if (!lazy_arm(c->tev, dl, now, w->cgran))
		return;
	switch (c->state) {
	case C_IDLE:
	case C_LINGER:
		conn_close(c);
		return;
	case C_HEAD:
		rp_proxy_count(&w->st, RP_PST_CLIENT_TIMEOUT, 1);
		if (rp_log_enabled(RP_LOG_INFO))
			rp_log(RP_LOG_INFO,
			       "component=proxy conn=%" PRIu64 " event=client_timeout status=408"
			       " while=\"reading client request header\" timeout_ms=%u",
			       c->id, o->header_timeout_ms);
		reply_error(c, 408);
		return;
	default:
		rp_proxy_count(&w->st, RP_PST_CLIENT_TIMEOUT, 1);
		rp_proxy_warn(w,
			      "component=proxy conn=%" PRIu64 " seq=%" PRIu32 " event=client_timeout"
			      " while=\"%s\" timeout_ms=%u",
			      c->id, c->x.seq,
			      c->state == C_BODY && !blocked ? "reading client request body"
							     : "sending response to client",
			      o->client_timeout_ms);
		if (c->state == C_BODY && c->x.resp == R_NONE && !blocked) {
			drop_upstream(c);
			rec_submit(c, RP_XF_FAILED);
			reply_error(c, 408);
			return;
		}
		c->state = C_WAIT; /* counted as an abort below */
		client_gone(c, ETIMEDOUT, "sending response to client");
		return;
	}
}

void rp_proxy_conn_accept(struct worker *w, int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct rp_proxy *px = w->px;
	int one = 1;
	struct conn *c = rp_xcalloc(1, sizeof(*c));
	c->w = w;
	c->fd = fd;
	c->id = px->conn_base + atomic_fetch_add_explicit(&px->conn_next, 1, memory_order_relaxed);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		c->peer.family = 4;
		memcpy(c->peer.addr, &in->sin_addr, 4);
		c->peer.port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		c->peer.family = 6;
		memcpy(c->peer.addr, &in6->sin6_addr, 16);
		c->peer.port = ntohs(in6->sin6_port);
	}
	rp_endpoint_format(&c->peer, c->peer_text, sizeof(c->peer_text));
	/* the address without the port, for X-Forwarded-For and Forwarded */
	char host[64];
	snprintf(host, sizeof(host), "%s", c->peer_text);
	char *colon = strrchr(host, ':');
	if (colon && c->peer.family)
		*colon = '\0';
	const char *bare = host;
	char unbr[64];
	if (host[0] == '[') {
		snprintf(unbr, sizeof(unbr), "%.*s", (int)(strlen(host) - 2), host + 1);
		bare = unbr;
	}
	int n = snprintf(c->xff, sizeof(c->xff), "X-Forwarded-For: %s", bare);
	c->xff_len = n > 0 ? (size_t)RP_MIN(n, (int)sizeof(c->xff) - 1) : 0;
	n = snprintf(c->fwd, sizeof(c->fwd), c->peer.family == 6 ? "Forwarded: for=\"%s\"" : "Forwarded: for=%s",
		     host);
	c->fwd_len = n > 0 ? (size_t)RP_MIN(n, (int)sizeof(c->fwd) - 1) : 0;

	c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, client_read_cb, c);
	c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, client_write_cb, c);
	c->tev = evtimer_new(w->base, client_timer_cb, c);
	c->out = evbuffer_new();
	if (!c->rev || !c->wev || !c->tev || !c->out)
		rp_oom();
	rp_buf_init(&c->in, w->in_max);
	rp_buf_init(&c->x.retry, 64 * 1024 + 16 * 1024);
	rp_h1_init(&c->p, RP_H1_REQUEST, &w->h1req);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	rp_proxy_count(&w->st, RP_PST_ACCEPTED, 1);
	atomic_store_explicit(&w->st.active, w->nconns, memory_order_relaxed);

	if (px->o.recorder) {
		struct rp_conn rc = {0};
		rc.id = c->id;
		rc.proto = RP_PROTO_H11;
		rc.client = c->peer;
		rc.server = px->up_ep;
		rc.start_ns = rp_now_ns();
		rp_recorder_submit_conn(px->o.recorder, &rc);
	}
	c->state = C_IDLE;
	c->idle_since = mono();
	arm_after(c->tev, w->cgran);
	ev_on(c->rev, &c->rd_on);
}

static void conn_close(struct conn *c)
{
	struct worker *w = c->w;
	if (c->dead)
		return;
	c->dead = 1;
	drop_upstream(c);
	if (c->x.rec) {
		rp_exchange_free(c->x.rec);
		c->x.rec = NULL;
	}
	event_del(c->rev);
	event_del(c->wev);
	event_del(c->tev);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
	rp_proxy_count(&w->st, RP_PST_CLOSED, 1);
	atomic_store_explicit(&w->st.active, w->nconns, memory_order_relaxed);
	c->next = w->reap_c;
	w->reap_c = c;
	event_active(w->reap_ev, EV_TIMEOUT, 0);
	if (w->draining && w->nconns == 0)
		event_base_loopbreak(w->base);
	else if (!w->draining && !w->listening && w->lfd >= 0 && w->nconns < w->max_conns) {
		event_add(w->lev, NULL);
		w->listening = 1;
	}
}

void rp_proxy_worker_reap(struct worker *w)
{
	while (w->reap_c) {
		struct conn *c = w->reap_c;
		w->reap_c = c->next;
		event_free(c->rev);
		event_free(c->wev);
		event_free(c->tev);
		evbuffer_free(c->out);
		rp_buf_dispose(&c->in);
		rp_buf_dispose(&c->x.retry);
		free(c->f.v);
		free(c);
	}
	while (w->reap_u) {
		struct upconn *u = w->reap_u;
		w->reap_u = u->next;
		if (u->rev)
			event_free(u->rev);
		if (u->wev)
			event_free(u->wev);
		if (u->tev)
			event_free(u->tev);
		evbuffer_free(u->out);
		rp_buf_dispose(&u->in);
		free(u->f.v);
		free(u);
	}
}

void rp_proxy_worker_drain(struct worker *w)
{
	w->draining = 1;
	while (w->idle)
		up_close(w->idle);
	struct conn *c = w->conns, *next;
	for (; c; c = next) {
		next = c->next;
		if (c->state == C_IDLE && !rp_buf_len(&c->in))
			conn_close(c);
	}
	if (w->nconns == 0)
		event_base_loopbreak(w->base);
}

void rp_proxy_worker_abort(struct worker *w)
{
	w->draining = 1;
	unsigned n = 0;
	while (w->conns) {
		struct conn *c = w->conns;
		if (c->state == C_BODY || c->state == C_WAIT || (c->state == C_HEAD && c->x.rec)) {
			n++;
			drop_upstream(c);
			rec_submit(c, RP_XF_FAILED);
		}
		conn_close(c);
	}
	while (w->idle)
		up_close(w->idle);
	if (n)
		rp_log(RP_LOG_WARN,
		       "component=proxy worker=%u event=shutdown_deadline ended=%u"
		       " msg=\"in-flight exchanges cut at the shutdown deadline\"",
		       w->idx, n);
	event_base_loopbreak(w->base);
}
