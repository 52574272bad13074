/*
 * client_h1: the HTTP/1.1 replay client — one non-blocking TCP connection,
 * one request in flight at a time, responses parsed with the shared codec
 * (http1.h, LENIENT: a target's sloppiness is a finding for the diff, not a
 * reason to stop).  Raw libevent events on the socket, not bufferevents:
 * a request is one prebuilt buffer written with one send(), responses are
 * read in RP_LIMIT_REPLAY_READ blocks, so the cost per exchange is a write,
 * a read or two and the parse.  Invariants: exactly one completion per
 * request sent; a connection that failed or timed out is never reused; a
 * connection is freed only from the engine's deferred reaper.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <unistd.h>

#include "replay-int.h"

#define READS_PER_EVENT 8

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

static struct timeval tv_of(int64_t ns)
{
	if (ns < 0)
		ns = 0;
	return (struct timeval){(time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000)};
}

static void response_reset(struct rconn *c)
{
	if (!c->rs)
		c->rs = rp_replay_slot_get(c->e);
	rp_pool_reset(c->rs->pool);
	memset(&c->rs->resp, 0, sizeof(c->rs->resp));
	rp_buf_clear(&c->rs->body);
	c->started = c->interim = c->truncated = 0;
}

/* Ends the request in flight with a failure and closes the connection. */
static void fail(struct rconn *c, enum rp_replay_fail f, const char *why)
{
	struct item *it = c->cur;
	c->cur = NULL;
	rp_replay_conn_close(c);
	if (it)
		rp_replay_engine_done(c, it, NULL, f, why, 0);
}

struct rconn *rp_replay_conn_open(struct engine *e)
{
	struct rconn *c = rp_xcalloc(1, sizeof(*c));
	c->e = e;
	c->state = RC_CONNECTING;
	rp_buf_init(&c->in, RP_LIMIT_H1_HEADER_BYTES + 2 * RP_LIMIT_REPLAY_READ);
	struct rp_h1_options opt;
	rp_h1_options_init(&opt);
	opt.mode = RP_H1_LENIENT;
	rp_h1_init(&c->p, RP_H1_RESPONSE, &opt);
	e->st->conns_opened++;

	c->fd = socket(e->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd >= 0) {
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		event_assign(&c->rd, e->base, c->fd, EV_READ | EV_PERSIST, on_read, c);
		event_assign(&c->wr, e->base, c->fd, EV_WRITE, on_write, c);
	}
	evtimer_assign(&c->tm, e->base, on_timer, c);
	if (c->fd < 0 ||
	    (connect(c->fd, (struct sockaddr *)&e->addr, e->addrlen) < 0 && errno != EINPROGRESS)) {
		/* reported when a request is sent on it */
		c->state = RC_DEAD;
		return c;
	}
	event_add(&c->wr, NULL);
	struct timeval tv = tv_of(e->timeout);
	evtimer_add(&c->tm, &tv);
	return c;
}

static void flush(struct rconn *c)
{
	struct item *it = c->cur;
	while (c->wpos < rp_buf_len(&it->req)) {
		ssize_t n = send(c->fd, it->req.base + it->req.rd + c->wpos,
				 rp_buf_len(&it->req) - c->wpos, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(&c->wr, NULL);
			return;
		}
		if (n < 0) {
			fail(c, RP_REPLAY_F_RESET, "the connection failed while sending the request");
			return;
		}
		c->wpos += (size_t)n;
		c->e->st->bytes_sent += (uint64_t)n;
	}
}

static void start_request(struct rconn *c)
{
	struct item *it = c->cur;
	struct engine *e = c->e;
	c->state = RC_BUSY;
	c->wpos = 0;
	c->requests++;
	response_reset(c);
	rp_h1_set_method(&c->p, rp_h1_method_parse(it->x->req.method));
	it->sent = rp_mono_ns();
	struct timeval tv = tv_of(e->timeout);
	evtimer_add(&c->tm, &tv);
	flush(c);
}

void rp_replay_conn_send(struct rconn *c, struct item *it)
{
	c->cur = it;
	if (c->state == RC_DEAD) {
		fail(c, RP_REPLAY_F_CONNECT, "could not open a socket or connect");
		return;
	}
	if (c->state == RC_IDLE)
		start_request(c);
	/* RC_CONNECTING: sent once connected */
}

void rp_replay_conn_idle(struct rconn *c)
{
	struct timeval tv = tv_of(c->e->idle_close);
	c->state = RC_IDLE;
	c->idle_since = rp_mono_ns();
	evtimer_add(&c->tm, &tv);
}

void rp_replay_conn_close(struct rconn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	if (c->fd >= 0) {
		event_del(&c->rd);
		event_del(&c->wr);
		close(c->fd);
		c->fd = -1;
	}
	evtimer_del(&c->tm);
	c->state = RC_DEAD;
	c->next = c->e->dead;
	c->e->dead = c;
	event_active(c->e->reap, EV_TIMEOUT, 0);
}

void rp_replay_conn_free(struct rconn *c)
{
	if (!c)
		return;
	rp_buf_dispose(&c->in);
	rp_replay_slot_put(c->e, c->rs);
	free(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rconn *c = arg;
	(void)fd;
	(void)what;
	if (c->state == RC_IDLE) {
		c->e->st->conns_closed_idle++;
		rp_replay_conn_close(c);
		rp_replay_engine_lost(c);
		return;
	}
	if (c->state == RC_CONNECTING) {
		if (c->cur)
			fail(c, RP_REPLAY_F_CONNECT, "connect timed out");
		else
			rp_replay_conn_close(c), rp_replay_engine_lost(c);
		return;
	}
	fail(c, RP_REPLAY_F_TIMEOUT, "no complete response within the timeout");
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct rconn *c = arg;
	(void)what;
	if (c->state == RC_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			const char *why = err == ECONNREFUSED   ? "connection refused"
					  : err == ETIMEDOUT    ? "connect timed out"
					  : err == EHOSTUNREACH ? "host unreachable"
					  : err == ENETUNREACH  ? "network unreachable"
								: "connect failed";
			if (c->cur)
				fail(c, RP_REPLAY_F_CONNECT, why);
			else
				rp_replay_conn_close(c), rp_replay_engine_lost(c);
			return;
		}
		evtimer_del(&c->tm);
		event_add(&c->rd, NULL);
		c->state = RC_IDLE;
		if (c->cur)
			start_request(c);
		else
			rp_replay_conn_idle(c);
		return;
	}
	if (c->state == RC_BUSY && c->cur)
		flush(c);
}

/* The final response is complete: it moves to the item, so that the
 * connection can carry the next request before this one is diffed. */
static void complete(struct rconn *c, int keep_alive)
{
	struct item *it = c->cur;
	struct rslot *rs = c->rs;
	c->cur = NULL;
	c->rs = NULL;
	it->rs = rs;
	evtimer_del(&c->tm);
	rs->resp.m.body = rp_buf_slice(&rs->body);
	rs->resp.m.wire_len = c->p.msg.body_len;
	rs->resp.m.orig_len = c->p.msg.body_len;
	int truncated = c->truncated;
	if (rs->resp.m.body.n &&
	    rp_headers_get(&rs->resp.m.headers, RP_SLICE_LIT("content-encoding"))) {
		int rc = rp_message_decode_body(&rs->resp.m, rs->pool, RP_LIMIT_BODY_DECODED);
		if (rc == RP_E_LIMIT)
			truncated = 1;
		/* RP_E_FORMAT: the body stays as sent, and the diff will say so */
	}
	if (!keep_alive) {
		c->e->st->conns_closed_server++;
		rp_replay_conn_close(c);
	} else {
		c->state = RC_IDLE;
	}
	rp_replay_engine_done(c, it, &rs->resp, RP_REPLAY_OK, NULL, truncated);
}

/* Feeds the buffered bytes to the parser.  Returns -1 once |c| is dead. */
static int parse(struct rconn *c)
{
	struct rp_h1_event ev;
	for (;;) {
		ssize_t r = rp_h1_parse(&c->p, c->in.base + c->in.rd, rp_buf_len(&c->in), &ev);
		if (r == RP_E_AGAIN)
			return 0;
		if (r < 0) {
			fail(c, RP_REPLAY_F_PROTO, rp_h1_reason(&c->p));
			return -1;
		}
		rp_buf_consume(&c->in, (size_t)r);
		if (!c->cur) {
			fail(c, RP_REPLAY_F_PROTO, "the target sent bytes nobody asked for");
			return -1;
		}
		switch (ev.type) {
		case RP_H1_EV_STATUS_LINE:
			response_reset(c);
			c->interim = ev.u.status.status >= 100 && ev.u.status.status < 200;
			c->started = !c->interim;
			c->rs->resp.status = ev.u.status.status;
			c->rs->resp.reason = rp_pool_dup(c->rs->pool, ev.u.status.reason);
			break;
		case RP_H1_EV_HEADER:
			if (!c->interim)
				rp_headers_add(&c->rs->resp.m.headers, c->rs->pool,
					       ev.u.field.name, ev.u.field.value);
			break;
		case RP_H1_EV_TRAILER:
			rp_headers_add(&c->rs->resp.m.trailers, c->rs->pool, ev.u.field.name,
				       ev.u.field.value);
			break;
		case RP_H1_EV_BODY: {
			struct rp_buf *b = &c->rs->body;
			size_t room = b->max - rp_buf_len(b);
			size_t n = RP_MIN(room, ev.u.data.n);
			if (n < ev.u.data.n)
				c->truncated = 1;
			if (n)
				rp_buf_append(b, ev.u.data.p, n);
			break;
		}
		case RP_H1_EV_MESSAGE_DONE:
			if (c->interim) {
				c->interim = 0;
				break;
			}
			complete(c, (ev.u.msg->flags & RP_H1_F_KEEP_ALIVE) != 0);
			return c->state == RC_DEAD ? -1 : 0;
		case RP_H1_EV_TUNNEL:
			fail(c, RP_REPLAY_F_PROTO, "the target switched protocols");
			return -1;
		default:
			break;
		}
	}
}

static void on_eof(struct rconn *c)
{
	struct rp_h1_event ev;
	if (!c->cur) {
		c->e->st->conns_closed_server++;
		rp_replay_conn_close(c);
		rp_replay_engine_lost(c);
		return;
	}
	int r = rp_h1_finish(&c->p, &ev);
	if (r == 1 && ev.type == RP_H1_EV_MESSAGE_DONE && !c->interim) {
		complete(c, 0);
		return;
	}
	fail(c, RP_REPLAY_F_RESET,
	     c->started || c->interim ? "the connection closed in the middle of the response"
				      : "the connection closed before the response");
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct rconn *c = arg;
	(void)what;
	for (int i = 0; i < READS_PER_EVENT; i++) {
		if (rp_buf_reserve(&c->in, RP_LIMIT_REPLAY_READ)) {
			fail(c, RP_REPLAY_F_PROTO, "response header section too large");
			return;
		}
		size_t want = c->in.cap - c->in.wr;
		ssize_t n = recv(fd, c->in.base + c->in.wr, want, 0);
		if (n > 0) {
			rp_buf_commit(&c->in, (size_t)n);
			c->e->st->bytes_received += (uint64_t)n;
			if (parse(c) < 0)
				return;
			if ((size_t)n < want)
				return; /* drained */
			continue;
		}
		if (n == 0) {
			on_eof(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (c->cur)
			fail(c, RP_REPLAY_F_RESET, "the connection was reset");
		else
			rp_replay_conn_close(c), rp_replay_engine_lost(c);
		return;
	}
}
