/*
 * recorder: the bounded queue between traffic sources and the store, and the
 * threads that drain it.  A source submits a finished exchange with one short
 * lock and no system call in the common case; a recorder thread decodes its
 * bodies (rp_message_decode_body), runs the mask hook, and hands it to
 * rp_store_put without waiting, so the store's hashing, compression and
 * encoding happen here too, off the forwarding path.
 *
 * Wake-ups are the budget (DESIGN.md, "Where the time goes"): a thread that
 * finds the queue empty first naps for NAP_MS without asking to be woken, so
 * that under load submitters never signal and a thread wakes a few hundred
 * times a second to take whole batches; only after a nap that found nothing
 * does it sleep until signalled, and then the first submission wakes it.
 *
 * rp_recorder_submit_wait is the one exception to "never blocks": file
 * sources (capture -r, import) wait for room rather than drop.
 *
 * Invariants: the queue holds at most queue_len items and, unless it is
 * empty, at most queue_bytes bytes; each submitted exchange is freed exactly
 * once and counted exactly once, as recorded or as dropped with a reason;
 * after rp_recorder_close returns, the queue is empty and every record that
 * was accepted by the store is flushed.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "reprise/limits.h"
#include "reprise/recorder.h"

#define NAP_MS 5              /* a busy thread's wait for more work */
#define WAKE_BATCH 256        /* a napping thread is woken early at this depth
                                 (or at half the queue, if that is less) */
#define BATCH 128             /* items taken per lock */
#define LOG_EVERY_NS (10LL * 1000000000) /* a drop reason is logged this rarely */

struct slot {
	struct rp_exchange *x; /* an exchange, or NULL for a connection record */
	struct rp_conn *c;
	size_t bytes;
};

struct rp_recorder {
	struct rp_recorder_opts opt;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t nonfull; /* rp_recorder_submit_wait waits here */
	unsigned full_waiters;
	struct slot *ring;
	unsigned cap, head, n;
	uint64_t bytes;
	int stopping;         /* no more submissions; threads leave when empty */
	int closed;           /* rp_recorder_close ran */
	unsigned idle;        /* threads asleep until signalled */
	unsigned napping;     /* threads in a timed nap */
	pthread_t *thr;
	unsigned nthr;

	_Atomic uint64_t submitted, recorded, conns, dropped_conns, coding_errors;
	_Atomic uint64_t dropped[RP_RECORDER_DROP_COUNT];
	_Atomic int64_t logged[RP_RECORDER_DROP_COUNT]; /* mono ns of the last log line */
};

static const char *const drop_names[RP_RECORDER_DROP_COUNT] = {
	"queue_full", "store_full", "too_big", "mask", "closed", "error",
};

const char *rp_recorder_drop_name(enum rp_recorder_drop reason)
{
	return (unsigned)reason < RP_RECORDER_DROP_COUNT ? drop_names[reason] : "?";
}

/* Counts a drop and logs it, at most once per LOG_EVERY_NS per reason. */
static void note_drop(struct rp_recorder *r, enum rp_recorder_drop why, uint64_t conn_id,
		      uint32_t seq, const char *doing)
{
	uint64_t total = atomic_fetch_add_explicit(&r->dropped[why], 1, memory_order_relaxed) + 1;
	int64_t now = rp_mono_ns();
	int64_t last = atomic_load_explicit(&r->logged[why], memory_order_relaxed);
	if (now - last < LOG_EVERY_NS ||
	    !atomic_compare_exchange_strong(&r->logged[why], &last, now))
		return;
	rp_log(RP_LOG_WARN,
	       "component=recorder event=drop reason=%s conn=%" PRIu64 " seq=%" PRIu32
	       " dropped_total=%" PRIu64 " while=\"%s\""
	       " msg=\"exchange not recorded; traffic unaffected (logged once per 10s per reason)\"",
	       drop_names[why], conn_id, seq, total, doing);
}

/* ---- the threads ---- */

/* Decodes the body of |m| in place.  A body cut at the record cap cannot be
 * decoded (the coding's stream is incomplete), so it is kept as on the wire;
 * its headers still name the coding. */
static void decode(struct rp_recorder *r, struct rp_exchange *x, struct rp_message *m,
		   uint32_t truncated)
{
	uint64_t wire = m->wire_len;
	if (m->body.n == 0 && wire == 0)
		return;
	if (x->flags & truncated) {
		const struct rp_header *ce = rp_headers_get(&m->headers, RP_SLICE_LIT("Content-Encoding"));
		m->orig_len = ce ? 0 : wire;
		return;
	}
	if (rp_message_decode_body(m, x->pool, r->opt.max_decoded)) {
		x->flags |= RP_XF_CODING_ERROR;
		atomic_fetch_add_explicit(&r->coding_errors, 1, memory_order_relaxed);
	}
	if (wire > m->wire_len)
		m->wire_len = wire;
}

static void record_exchange(struct rp_recorder *r, struct rp_exchange *x)
{
	enum rp_recorder_drop why;
	decode(r, x, &x->req.m, RP_XF_REQ_TRUNCATED);
	decode(r, x, &x->resp.m, RP_XF_RESP_TRUNCATED);
	/* MASK HOOK (issue 5): nothing the mask stage refuses is stored. */
	if (r->opt.mask) {
		if (r->opt.mask(x, r->opt.mask_ctx)) {
			note_drop(r, RP_RECORDER_DROP_MASK, x->conn_id, x->conn_seq, "masking an exchange");
			goto out;
		}
		x->flags |= RP_XF_MASKED;
	}
	int rc = rp_store_put(r->opt.store, x, 0, NULL);
	switch (rc) {
	case 0:
		atomic_fetch_add_explicit(&r->recorded, 1, memory_order_relaxed);
		goto out;
	case RP_E_FULL: why = RP_RECORDER_DROP_STORE_FULL; break;
	case RP_E_LIMIT: why = RP_RECORDER_DROP_TOO_BIG; break;
	case RP_E_CLOSED: why = RP_RECORDER_DROP_CLOSED; break;
	default: why = RP_RECORDER_DROP_ERROR; break;
	}
	note_drop(r, why, x->conn_id, x->conn_seq, "queueing a record to the store");
out:
	rp_exchange_free(x);
}

static void record_conn(struct rp_recorder *r, struct rp_conn *c)
{
	if (rp_store_put_conn(r->opt.store, c, 0) == 0)
		atomic_fetch_add_explicit(&r->conns, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&r->dropped_conns, 1, memory_order_relaxed);
	free(c);
}

static void nap(struct rp_recorder *r)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += NAP_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	r->napping++;
	pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	r->napping--;
}

static void *run(void *arg)
{
	struct rp_recorder *r = arg;
	struct slot batch[BATCH];
	int napped = 0;
	/* Linux keeps a nice value per thread: on a busy machine the traffic
	 * source's threads get the CPU first and the queue absorbs the lag. */
	if (r->opt.nice && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), r->opt.nice) < 0)
		rp_log(RP_LOG_INFO, "component=recorder nice=%d err=\"%s\" while=\"lowering priority\"",
		       r->opt.nice, strerror(errno));
	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (r->n == 0) {
			if (r->stopping)
				break;
			if (!napped) {
				nap(r);
				napped = 1;
			} else {
				r->idle++;
				pthread_cond_wait(&r->cv, &r->mu);
				r->idle--;
			}
			continue;
		}
		napped = 0;
		unsigned k = RP_MIN(r->n, (unsigned)BATCH);
		for (unsigned i = 0; i < k; i++) {
			batch[i] = r->ring[r->head];
			r->head = (r->head + 1) % r->cap;
			r->bytes -= batch[i].bytes;
		}
		r->n -= k;
		if (r->full_waiters)
			pthread_cond_broadcast(&r->nonfull);
		pthread_mutex_unlock(&r->mu);
		for (unsigned i = 0; i < k; i++) {
			if (batch[i].x)
				record_exchange(r, batch[i].x);
			else
				record_conn(r, batch[i].c);
		}
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- the sources' side ---- */

/* Queues |s|, waiting for room when |wait|.  0, RP_E_FULL or RP_E_CLOSED;
 * on error nothing is queued. */
static int push(struct rp_recorder *r, struct slot s, int wait)
{
	int rc = 0, wake = 0;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (r->stopping) {
			rc = RP_E_CLOSED;
			goto out;
		}
		if (r->n < r->cap && (!r->n || r->bytes + s.bytes <= r->opt.queue_bytes))
			break;
		if (!wait) {
			rc = RP_E_FULL;
			goto out;
		}
		r->full_waiters++;
		pthread_cond_signal(&r->cv); /* a napping thread: work now */
		pthread_cond_wait(&r->nonfull, &r->mu);
		r->full_waiters--;
	}
	r->ring[(r->head + r->n) % r->cap] = s;
	r->n++;
	r->bytes += s.bytes;
	wake = r->idle > 0 || (r->napping > 0 && (r->n >= WAKE_BATCH || r->n >= r->cap / 2));
out:
	pthread_mutex_unlock(&r->mu);
	if (wake)
		pthread_cond_signal(&r->cv);
	return rc;
}

static int submit(struct rp_recorder *r, struct rp_exchange *x, int wait)
{
	atomic_fetch_add_explicit(&r->submitted, 1, memory_order_relaxed);
	struct slot s = {x, NULL, sizeof(*x) + rp_pool_used(x->pool)};
	int rc = push(r, s, wait);
	if (rc) {
		note_drop(r, rc == RP_E_FULL ? RP_RECORDER_DROP_QUEUE_FULL : RP_RECORDER_DROP_CLOSED,
			  x->conn_id, x->conn_seq, "queueing an exchange to the recorder");
		rp_exchange_free(x);
	}
	return rc;
}

int rp_recorder_submit(struct rp_recorder *r, struct rp_exchange *x)
{
	return submit(r, x, 0);
}

int rp_recorder_submit_wait(struct rp_recorder *r, struct rp_exchange *x)
{
	return submit(r, x, 1);
}

static struct rp_slice copy_slice(uint8_t **p, struct rp_slice s)
{
	struct rp_slice d = {*p, s.n};
	if (s.n)
		memcpy(*p, s.p, s.n);
	*p += s.n;
	return d;
}

int rp_recorder_submit_conn(struct rp_recorder *r, const struct rp_conn *c)
{
	size_t extra = c->tls_version.n + c->tls_cipher.n + c->alpn.n + c->sni.n;
	struct rp_conn *cp = rp_xmalloc(sizeof(*cp) + extra);
	uint8_t *p = (uint8_t *)(cp + 1);
	*cp = *c;
	cp->tls_version = copy_slice(&p, c->tls_version);
	cp->tls_cipher = copy_slice(&p, c->tls_cipher);
	cp->alpn = copy_slice(&p, c->alpn);
	cp->sni = copy_slice(&p, c->sni);
	struct slot s = {NULL, cp, sizeof(*cp) + extra};
	int rc = push(r, s, 0);
	if (rc) {
		atomic_fetch_add_explicit(&r->dropped_conns, 1, memory_order_relaxed);
		free(cp);
	}
	return rc;
}

void rp_recorder_get_stats(struct rp_recorder *r, struct rp_recorder_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->submitted = atomic_load(&r->submitted);
	out->recorded = atomic_load(&r->recorded);
	out->conns = atomic_load(&r->conns);
	out->dropped_conns = atomic_load(&r->dropped_conns);
	out->coding_errors = atomic_load(&r->coding_errors);
	for (int i = 0; i < RP_RECORDER_DROP_COUNT; i++)
		out->dropped[i] = atomic_load(&r->dropped[i]);
	pthread_mutex_lock(&r->mu);
	out->queue_depth = r->n;
	out->queue_bytes = r->bytes;
	pthread_mutex_unlock(&r->mu);
}

int rp_recorder_new(const struct rp_recorder_opts *opts, struct rp_recorder **out)
{
	pthread_condattr_t ca;
	*out = NULL;
	if (!opts || !opts->store)
		return RP_E_USAGE;
	struct rp_recorder *r = rp_xcalloc(1, sizeof(*r));
	r->opt = *opts;
	if (!r->opt.queue_len)
		r->opt.queue_len = RP_LIMIT_RECORDER_QUEUE;
	if (!r->opt.queue_bytes)
		r->opt.queue_bytes = RP_LIMIT_RECORDER_QUEUE_BYTES;
	if (!r->opt.threads)
		r->opt.threads = 1;
	if (!r->opt.max_decoded)
		r->opt.max_decoded = RP_LIMIT_BODY_DECODED;
	r->cap = r->opt.queue_len;
	r->ring = rp_xcalloc(r->cap, sizeof(*r->ring));
	for (int i = 0; i < RP_RECORDER_DROP_COUNT; i++)
		atomic_init(&r->logged[i], INT64_MIN / 2);
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_cond_init(&r->nonfull, NULL);
	pthread_condattr_destroy(&ca);
	r->thr = rp_xcalloc(r->opt.threads, sizeof(*r->thr));
	for (unsigned i = 0; i < r->opt.threads; i++) {
		if (pthread_create(&r->thr[i], NULL, run, r))
			rp_oom(); /* a thread fails to start only for want of memory */
		pthread_setname_np(r->thr[i], "rp-recorder"); /* top -H, perf */
		r->nthr++;
	}
	*out = r;
	return 0;
}

int rp_recorder_close(struct rp_recorder *r)
{
	if (!r || r->closed)
		return 0;
	pthread_mutex_lock(&r->mu);
	r->stopping = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_cond_broadcast(&r->nonfull);
	pthread_mutex_unlock(&r->mu);
	for (unsigned i = 0; i < r->nthr; i++)
		pthread_join(r->thr[i], NULL);
	r->nthr = 0;
	r->closed = 1;
	return rp_store_flush(r->opt.store) ? RP_E_STORE : 0;
}

void rp_recorder_free(struct rp_recorder *r)
{
	if (!r)
		return;
	rp_recorder_close(r);
	pthread_cond_destroy(&r->cv);
	pthread_cond_destroy(&r->nonfull);
	pthread_mutex_destroy(&r->mu);
	free(r->thr);
	free(r->ring);
	free(r);
}
