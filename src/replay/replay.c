/*
 * replay: the scheduler — reads the selection from the store into a bounded
 * window, gives each exchange its due time, keeps the exchanges of one
 * recorded connection in order on one lane, gives lanes connections within
 * the concurrency limit, and hands every completion to the caller.
 *
 * Flow of one exchange: read (refill) -> timeline, waiting for its due time
 * -> due (advance) -> its lane's head and the lane idle -> a connection
 * (the lane's own, a free one, a new one, or one taken from the least
 * recently used idle lane) -> sent -> completed -> delivered and freed.
 *
 * Everything runs on one libevent loop.  Completions can arrive
 * synchronously from inside a send (a connection that failed at once), so
 * the work of moving exchanges along is done by pump(), which never
 * re-enters itself: a nested call only asks the running one to go round
 * again.  The schedule is open loop: due times come from the clock alone,
 * never from how fast the target answers, and an exchange that is due
 * while its lane or the connection limit holds it back is sent late, with
 * the lateness recorded as lag.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "replay-int.h"

#define HORIZON_NS INT64_C(1000000000) /* read no further ahead than this */
#define TICK_MS 250
#define PREFLIGHT_MS 5000

struct pumpstate {
	int pumping, again;
	struct lane *ready_head, *ready_tail;
};

/* The engine is one per run; the pump state lives beside it. */
struct run {
	struct engine e;
	struct pumpstate ps;
};

static struct run *run_of(struct engine *e)
{
	return (struct run *)e;
}

const char *rp_replay_fail_name(enum rp_replay_fail f)
{
	switch (f) {
	case RP_REPLAY_OK: return "ok";
	case RP_REPLAY_F_CONNECT: return "connect";
	case RP_REPLAY_F_TIMEOUT: return "timeout";
	case RP_REPLAY_F_RESET: return "reset";
	case RP_REPLAY_F_PROTO: return "protocol";
	case RP_REPLAY_F_REQUEST: return "request";
	}
	return "?";
}

/* ---- lanes ---- */

static size_t hidx(const struct engine *e, uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (e->nbuckets - 1);
}

static void grow(struct engine *e)
{
	size_t old = e->nbuckets;
	struct lane **ob = e->buckets;
	e->nbuckets = old ? old * 2 : 256;
	e->buckets = rp_xcalloc(e->nbuckets, sizeof(*e->buckets));
	for (size_t i = 0; i < old; i++)
		for (struct lane *l = ob[i], *n; l; l = n) {
			n = l->hnext;
			size_t h = hidx(e, l->key);
			l->hnext = e->buckets[h];
			e->buckets[h] = l;
		}
	free(ob);
}

static struct lane *lane_get(struct engine *e, uint64_t key)
{
	if (e->nlanes >= e->nbuckets)
		grow(e);
	size_t h = hidx(e, key);
	for (struct lane *l = e->buckets[h]; l; l = l->hnext)
		if (l->key == key)
			return l;
	struct lane *l = rp_xcalloc(1, sizeof(*l));
	l->key = key;
	l->hnext = e->buckets[h];
	e->buckets[h] = l;
	e->nlanes++;
	return l;
}

static void lane_free(struct engine *e, struct lane *l)
{
	struct lane **pp = &e->buckets[hidx(e, l->key)];
	while (*pp != l)
		pp = &(*pp)->hnext;
	*pp = l->hnext;
	e->nlanes--;
	free(l);
}

/* Frees |l| when nothing refers to it any more. */
static void lane_maybe_free(struct engine *e, struct lane *l)
{
	if (!l->head && !l->busy && !l->conn && !l->in_lru && !l->waiting)
		lane_free(e, l);
}

static void lru_remove(struct engine *e, struct lane *l)
{
	if (!l->in_lru)
		return;
	if (l->lru_prev)
		l->lru_prev->lru_next = l->lru_next;
	else
		e->lru_head = l->lru_next;
	if (l->lru_next)
		l->lru_next->lru_prev = l->lru_prev;
	else
		e->lru_tail = l->lru_prev;
	l->lru_prev = l->lru_next = NULL;
	l->in_lru = 0;
}

static void lru_append(struct engine *e, struct lane *l)
{
	if (l->in_lru)
		return;
	l->lru_prev = e->lru_tail;
	l->lru_next = NULL;
	if (e->lru_tail)
		e->lru_tail->lru_next = l;
	else
		e->lru_head = l;
	e->lru_tail = l;
	l->in_lru = 1;
}

static void wait_push(struct engine *e, struct lane *l)
{
	if (l->waiting)
		return;
	l->waiting = 1;
	l->wait_next = NULL;
	if (e->wait_tail)
		e->wait_tail->wait_next = l;
	else
		e->wait_head = l;
	e->wait_tail = l;
}

static struct lane *wait_pop(struct engine *e)
{
	struct lane *l = e->wait_head;
	if (!l)
		return NULL;
	e->wait_head = l->wait_next;
	if (!e->wait_head)
		e->wait_tail = NULL;
	l->waiting = 0;
	l->wait_next = NULL;
	return l;
}

static void ready_push(struct engine *e, struct lane *l)
{
	struct pumpstate *ps = &run_of(e)->ps;
	/* wait_next doubles as the ready link: a lane is never in both */
	if (l->waiting)
		return;
	l->waiting = 2;
	l->wait_next = NULL;
	if (ps->ready_tail)
		ps->ready_tail->wait_next = l;
	else
		ps->ready_head = l;
	ps->ready_tail = l;
}

static struct lane *ready_pop(struct engine *e)
{
	struct pumpstate *ps = &run_of(e)->ps;
	struct lane *l = ps->ready_head;
	if (!l)
		return NULL;
	ps->ready_head = l->wait_next;
	if (!ps->ready_head)
		ps->ready_tail = NULL;
	l->waiting = 0;
	l->wait_next = NULL;
	return l;
}

/* ---- items ---- */

#define SPARE_SLOTS 256

struct rslot *rp_replay_slot_get(struct engine *e)
{
	if (e->nspare)
		return e->spare[--e->nspare];
	struct rslot *s = rp_xcalloc(1, sizeof(*s));
	s->pool = rp_pool_new(0);
	rp_buf_init(&s->body, RP_LIMIT_BODY_RECORD);
	return s;
}

void rp_replay_slot_put(struct engine *e, struct rslot *s)
{
	if (!s)
		return;
	if (e->nspare < SPARE_SLOTS && s->body.cap <= 1024 * 1024) {
		rp_pool_reset(s->pool);
		rp_buf_clear(&s->body);
		memset(&s->resp, 0, sizeof(s->resp));
		if (!e->spare)
			e->spare = rp_xcalloc(SPARE_SLOTS, sizeof(*e->spare));
		e->spare[e->nspare++] = s;
		return;
	}
	rp_pool_free(s->pool);
	rp_buf_dispose(&s->body);
	free(s);
}

static void item_free(struct engine *e, struct item *it)
{
	rp_replay_slot_put(e, it->rs);
	e->window--;
	e->window_bytes -= it->bytes;
	rp_exchange_free(it->x);
	rp_buf_dispose(&it->req);
	free(it);
}

static void deliver(struct engine *e, struct item *it, const struct rp_response *resp,
		    enum rp_replay_fail fail, const char *why, int truncated)
{
	struct rp_replay_stats *st = e->st;
	int64_t now = rp_mono_ns();
	st->done++;
	if (fail)
		st->failed[fail]++;
	else
		st->ok++;
	if (it->sent) {
		rp_replay_hist_add(&st->lag, it->sent - it->due);
		if (!fail)
			rp_replay_hist_add(&st->latency, now - it->sent);
		if (!st->first_sent || it->sent < st->first_sent)
			st->first_sent = it->sent;
		if (it->sent > st->last_sent)
			st->last_sent = it->sent;
	}
	struct rp_replay_result r = {it->x, resp, fail, why, truncated, it->due, it->sent, now};
	if (e->o->on_result)
		e->o->on_result(e->o->arg, &r);
}

/* ---- connections ---- */

static void free_push(struct engine *e, struct rconn *c)
{
	c->lane = NULL;
	c->next = e->free_conns;
	e->free_conns = c;
	rp_replay_conn_idle(c);
}

static void free_remove(struct engine *e, struct rconn *c)
{
	for (struct rconn **pp = &e->free_conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			c->next = NULL;
			return;
		}
}

static struct rconn *acquire(struct engine *e, struct lane *l)
{
	struct rconn *c = e->free_conns;
	if (c) {
		e->free_conns = c->next;
		c->next = NULL;
	} else if (e->nconns < e->concurrency) {
		c = rp_replay_conn_open(e);
		e->nconns++;
	} else if (e->lru_head) {
		struct lane *victim = e->lru_head;
		lru_remove(e, victim);
		c = victim->conn;
		victim->conn = NULL;
		lane_maybe_free(e, victim);
	} else {
		return NULL;
	}
	c->lane = l;
	l->conn = c;
	return c;
}

static int conn_available(const struct engine *e)
{
	return e->free_conns || e->nconns < e->concurrency || e->lru_head;
}

/* Sends the lane's due head, or queues the lane for a connection. */
static void dispatch(struct engine *e, struct lane *l)
{
	while (!l->busy && l->head && l->head->is_due && !e->stopping) {
		struct item *it = l->head;
		if (it->prefail) {
			l->head = it->next_lane;
			if (!l->head)
				l->tail = NULL;
			deliver(e, it, NULL, it->prefail, it->why, 0);
			item_free(e, it);
			continue;
		}
		struct rconn *c = l->conn ? l->conn : acquire(e, l);
		if (!c) {
			wait_push(e, l);
			return;
		}
		lru_remove(e, l);
		l->head = it->next_lane;
		if (!l->head)
			l->tail = NULL;
		l->busy = 1;
		e->st->sent++;
		e->st->in_flight++;
		rp_replay_conn_send(c, it);
		return;
	}
	lane_maybe_free(e, l);
}

/* ---- reading the corpus ---- */

static void refill(struct engine *e)
{
	const struct rp_replay_opts *o = e->o;
	int64_t now = rp_mono_ns();
	while (!e->eof && !e->stopping && e->window < RP_LIMIT_REPLAY_WINDOW &&
	       e->window_bytes < RP_LIMIT_REPLAY_WINDOW_BYTES) {
		if (o->mode != RP_REPLAY_MAX && e->tl_tail && e->tl_tail->due > now + HORIZON_NS)
			break;
		if (o->select.limit && e->seq >= o->select.limit) {
			e->eof = 1;
			break;
		}
		struct rp_exchange *x = NULL;
		const char *why = NULL;
		int rc = rp_store_iter_next(e->it, &x, &why);
		if (rc == RP_E_FORMAT) {
			e->st->read_errors++;
			rp_log(RP_LOG_WARN, "op=replay-read err=format why=\"%s\"", why ? why : "-");
			continue;
		}
		if (rc) {
			e->eof = 1;
			break;
		}
		if (o->select.to_ns && x->t.req_start >= o->select.to_ns) {
			rp_exchange_free(x);
			e->eof = 1;
			break;
		}
		if (!rp_replay_selected(&o->select, x)) {
			rp_exchange_free(x);
			continue;
		}
		struct item *it = rp_xcalloc(1, sizeof(*it));
		it->x = x;
		it->seq = e->seq++;
		it->due = rp_replay_due(&e->clock, x->t.req_start, it->seq);
		rp_buf_init(&it->req, RP_LIMIT_BODY_DECODED + 4 * RP_LIMIT_H1_HEADER_BYTES);
		if (rp_replay_build_request(o->rewrite, &o->target, x, &it->req, &it->why)) {
			it->prefail = RP_REPLAY_F_REQUEST;
			rp_log(RP_LOG_WARN, "op=replay-build id=%llu why=\"%s\"",
			       (unsigned long long)x->id, it->why);
		}
		it->bytes = rp_buf_len(&it->req) + x->req.m.body.n + x->resp.m.body.n;
		e->window++;
		e->window_bytes += it->bytes;
		/* without order every exchange is a lane of its own */
		struct lane *l = lane_get(e, o->no_order ? (it->seq | (UINT64_C(1) << 63)) : x->conn_id);
		it->lane = l;
		if (l->tail)
			l->tail->next_lane = it;
		else
			l->head = it;
		l->tail = it;
		if (e->tl_tail)
			e->tl_tail->next_time = it;
		else
			e->tl_head = it;
		e->tl_tail = it;
	}
}

/* Marks what is due; lanes whose head became due get a dispatch. */
static void advance(struct engine *e)
{
	int64_t now = rp_mono_ns();
	while (e->tl_head && e->tl_head->due <= now) {
		struct item *it = e->tl_head;
		e->tl_head = it->next_time;
		if (!e->tl_head)
			e->tl_tail = NULL;
		it->is_due = 1;
		if (it->lane->head == it)
			ready_push(e, it->lane);
	}
}

static void finish_if_done(struct engine *e)
{
	if ((e->eof && e->window == 0) || (e->stopping && e->st->in_flight == 0))
		event_base_loopbreak(e->base);
}

static void pump(struct engine *e)
{
	struct pumpstate *ps = &run_of(e)->ps;
	if (ps->pumping) {
		ps->again = 1;
		return;
	}
	ps->pumping = 1;
	do {
		ps->again = 0;
		refill(e);
		advance(e);
		struct lane *l;
		while ((l = ready_pop(e)))
			dispatch(e, l);
		while (e->wait_head && conn_available(e) && !e->stopping)
			dispatch(e, wait_pop(e));
	} while (ps->again);
	ps->pumping = 0;
	if (e->tl_head) {
		int64_t d = e->tl_head->due - rp_mono_ns();
		if (d < 0)
			d = 0;
		struct timeval tv = {(time_t)(d / 1000000000), (suseconds_t)(d % 1000000000 / 1000)};
		evtimer_add(e->timer, &tv);
	}
	finish_if_done(e);
}

/* ---- completions from the client ---- */

void rp_replay_engine_done(struct rconn *c, struct item *it, const struct rp_response *resp,
			   enum rp_replay_fail fail, const char *why, int truncated)
{
	struct engine *e = c->e;
	struct lane *l = it->lane;

	e->st->in_flight--;
	l->busy = 0;
	int due = l->head && l->head->is_due;
	if (c->state == RC_DEAD) {
		if (l->conn == c)
			l->conn = NULL;
		c->lane = NULL;
		e->nconns--;
	} else if (e->o->no_order || (!l->head && e->wait_head)) {
		/* no affinity to keep, or someone is waiting: pass it on */
		l->conn = NULL;
		free_push(e, c);
	} else if (!due) {
		/* keep it for this lane's next exchange, unless someone needs it */
		lru_append(e, l);
		rp_replay_conn_idle(c);
	}
	if (due)
		ready_push(e, l);
	else
		lane_maybe_free(e, l);
	/* Send what is due first: the target works on the next request while
	 * this response is diffed and reported. */
	pump(e);
	deliver(e, it, resp, fail, why, truncated);
	item_free(e, it);
	pump(e);
}

void rp_replay_engine_lost(struct rconn *c)
{
	struct engine *e = c->e;
	struct lane *l = c->lane;
	e->nconns--;
	if (l) {
		lru_remove(e, l);
		l->conn = NULL;
		c->lane = NULL;
		if (!l->waiting)
			lane_maybe_free(e, l);
	} else {
		free_remove(e, c);
	}
	pump(e);
}

/* ---- event callbacks ---- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	(void)fd;
	(void)what;
	if (e->o->on_tick)
		e->o->on_tick(e->o->arg, e->st);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	(void)fd;
	(void)what;
	while (e->dead) {
		struct rconn *c = e->dead;
		e->dead = c->next;
		rp_replay_conn_free(c);
	}
}

static void on_sigint(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	(void)fd;
	(void)what;
	if (e->stopping) {
		event_base_loopbreak(e->base);
		return;
	}
	e->stopping = 1;
	e->st->interrupted = 1;
	finish_if_done(e);
}

/* ---- setup ---- */

static int resolve(struct engine *e, char *err, size_t errlen)
{
	const struct rp_replay_target *t = &e->o->target;
	struct addrinfo hints, *res = NULL;
	char port[8];
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", t->port);
	int rc = getaddrinfo(t->host, port, &hints, &res);
	if (rc || !res) {
		snprintf(err, errlen, "cannot resolve %s: %s", t->host, gai_strerror(rc));
		return RP_E_IO;
	}
	memcpy(&e->addr, res->ai_addr, res->ai_addrlen);
	e->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* One blocking connect before anything is scheduled, so that a target that
 * is down is reported as such (exit 3) rather than as a run of failures. */
static int preflight(struct engine *e, char *err, size_t errlen)
{
	const struct rp_replay_target *t = &e->o->target;
	int fd = socket(e->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc = 0, soerr = 0;
	if (fd < 0) {
		soerr = errno;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&e->addr, e->addrlen) < 0) {
		if (errno != EINPROGRESS) {
			soerr = errno;
			goto out;
		}
		struct pollfd pfd = {fd, POLLOUT, 0};
		int64_t ms = RP_MIN(e->timeout / 1000000, PREFLIGHT_MS);
		int k = poll(&pfd, 1, (int)ms);
		if (k == 0) {
			soerr = ETIMEDOUT;
			goto out;
		}
		socklen_t len = sizeof(soerr);
		if (k < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
	}
out:
	if (fd >= 0)
		close(fd);
	if (soerr) {
		snprintf(err, errlen, "target %s unreachable: connect to %s port %u: %s",
			 t->authority, t->host, t->port, strerror(soerr));
		rc = RP_E_IO;
	}
	return rc;
}

/* Counts the selection without bodies: the plan, the first recorded start
 * (the SPEED clock's origin) and the span, for the ETA. */
static int prescan(struct engine *e, char *err, size_t errlen)
{
	const struct rp_replay_select *sel = &e->o->select;
	struct rp_store_iter *it = NULL;
	int64_t first = 0, last = 0;
	uint64_t n = 0;
	int rc = rp_store_iter_new(e->s, sel->from_ns, RP_STORE_NO_BODIES, &it);
	if (rc) {
		snprintf(err, errlen, "cannot read the corpus: %s", rp_err_name(rc));
		return RP_E_STORE;
	}
	for (;;) {
		struct rp_exchange *x = NULL;
		const char *why = NULL;
		if (sel->limit && n >= sel->limit)
			break;
		rc = rp_store_iter_next(it, &x, &why);
		if (rc == RP_E_FORMAT)
			continue;
		if (rc)
			break;
		if (sel->to_ns && x->t.req_start >= sel->to_ns) {
			rp_exchange_free(x);
			break;
		}
		if (rp_replay_selected(sel, x)) {
			if (!n)
				first = x->t.req_start;
			last = x->t.req_start;
			n++;
		}
		rp_exchange_free(x);
	}
	rp_store_iter_free(it);
	e->st->planned = n;
	e->clock.rec0 = first;
	struct rp_replay_clock c0 = e->clock;
	c0.start = 0;
	e->st->planned_span = n ? rp_replay_due(&c0, last, n - 1) : 0;
	return 0;
}

int rp_replay_run(struct rp_store *s, const struct rp_replay_opts *o, struct rp_replay_stats *st,
		  char *err, size_t errlen)
{
	struct run *r = rp_xcalloc(1, sizeof(*r));
	struct engine *e = &r->e;
	struct event_config *cfg = NULL;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	st->mode = o->mode;
	e->o = o;
	e->st = st;
	e->s = s;
	e->timeout = o->timeout > 0 ? o->timeout : INT64_C(30000000000);
	e->idle_close = o->idle_close > 0 ? o->idle_close : INT64_C(2000000000);
	e->concurrency = o->concurrency ? o->concurrency : o->mode == RP_REPLAY_MAX ? 10 : 1000;
	e->clock.mode = o->mode;
	e->clock.speed = o->speed > 0 ? o->speed : 1.0;
	e->clock.rate = o->rate > 0 ? o->rate : 1.0;

	if ((rc = resolve(e, err, errlen)) || (rc = preflight(e, err, errlen)))
		goto out;
	if ((rc = prescan(e, err, errlen)))
		goto out;
	rc = rp_store_iter_new(s, o->select.from_ns, 0, &e->it);
	if (rc) {
		snprintf(err, errlen, "cannot read the corpus: %s", rp_err_name(rc));
		rc = RP_E_STORE;
		goto out;
	}
	cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	e->base = event_base_new_with_config(cfg);
	e->timer = evtimer_new(e->base, on_timer, e);
	e->reap = event_new(e->base, -1, 0, on_reap, e);
	e->tick = event_new(e->base, -1, EV_PERSIST, on_tick, e);
	e->sigint = evsignal_new(e->base, SIGINT, on_sigint, e);
	struct timeval tick = {0, TICK_MS * 1000};
	evtimer_add(e->tick, &tick);
	evsignal_add(e->sigint, NULL);

	/* Prime the window first, then start the clock and give what was read
	 * its due times: reading and building the first second of requests
	 * must not make them late. */
	e->clock.start = rp_mono_ns();
	refill(e);
	e->clock.start = rp_mono_ns();
	for (struct item *it = e->tl_head; it; it = it->next_time)
		it->due = rp_replay_due(&e->clock, it->x->t.req_start, it->seq);
	st->start = e->clock.start;
	pump(e);
	if (!(e->eof && e->window == 0))
		event_base_dispatch(e->base);
	st->end = rp_mono_ns();

	/* what is left after an interrupt: connections, then unsent exchanges */
	for (size_t i = 0; i < e->nbuckets; i++)
		for (struct lane *l = e->buckets[i], *nl; l; l = nl) {
			nl = l->hnext;
			if (l->conn) {
				struct rconn *c = l->conn;
				if (c->cur) {
					item_free(e, c->cur);
					c->cur = NULL;
				}
				rp_replay_conn_close(c);
			}
			while (l->head) {
				struct item *it = l->head;
				l->head = it->next_lane;
				item_free(e, it);
			}
			free(l);
		}
	while (e->free_conns) {
		struct rconn *c = e->free_conns;
		e->free_conns = c->next;
		rp_replay_conn_close(c);
	}
	on_reap(-1, 0, e);
	for (size_t i = 0; i < e->nspare; i++) {
		rp_pool_free(e->spare[i]->pool);
		rp_buf_dispose(&e->spare[i]->body);
		free(e->spare[i]);
	}
	free(e->spare);
out:
	rp_store_iter_free(e->it);
	if (e->timer)
		event_free(e->timer);
	if (e->reap)
		event_free(e->reap);
	if (e->tick)
		event_free(e->tick);
	if (e->sigint)
		event_free(e->sigint);
	if (e->base)
		event_base_free(e->base);
	if (cfg)
		event_config_free(cfg);
	free(e->buckets);
	free(r);
	return rc;
}
