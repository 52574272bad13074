/*
 * recorder: the stage between a traffic source and the store.  Sources (the
 * proxy today; capture and import later) hand it finished exchanges; its
 * threads decode content codings, run the mask stage and queue each record
 * to the store without waiting.  It sees exchanges, never sockets or bytes
 * of a wire protocol, so any source can feed it.
 *
 * Invariants: submitting never blocks, never does I/O and never fails the
 * caller's traffic — when the bounded queue (count and bytes) is full, or
 * the store refuses a record, the exchange is dropped and counted by reason
 * (fail open, DESIGN.md invariant 2); every submitted exchange is either
 * recorded or counted once as dropped; when a mask stage is configured,
 * nothing it refuses reaches the store (invariant 1).
 */
#ifndef REPRISE_RECORDER_H
#define REPRISE_RECORDER_H

#include "reprise/exchange.h"
#include "reprise/store.h"

struct rp_recorder;

/* The mask stage (issue 5, not built yet).  Called in a recorder thread on
 * each exchange after its bodies are decoded and before it is stored; it may
 * rewrite anything in |x| (allocating in |x|->pool).  Returns 0, or a
 * negative rp_err to drop the exchange (it is then never stored). */
typedef int rp_recorder_mask_fn(struct rp_exchange *x, void *ctx);

struct rp_recorder_opts {
	struct rp_store *store; /* where records go; not owned, outlives the recorder */
	unsigned queue_len;     /* exchanges waiting (0: RP_LIMIT_RECORDER_QUEUE) */
	uint64_t queue_bytes;   /* bytes they may hold (0: RP_LIMIT_RECORDER_QUEUE_BYTES) */
	unsigned threads;       /* recorder threads (0: 1) */
	size_t max_decoded;     /* cap on a decoded body (0: RP_LIMIT_BODY_DECODED) */
	int nice;               /* added to the recorder threads' nice value, so that
	                           on a busy machine traffic gets the CPU first
	                           (0: same priority as the caller) */

	/* ---- MASK HOOK (issue 5) ----------------------------------------
	 * The one place the mask stage plugs in.  NULL today: recording is
	 * unmasked, and `reprise proxy --masks` refuses to start rather than
	 * pretend otherwise.  When set, exchanges that pass it are flagged
	 * RP_XF_MASKED. */
	rp_recorder_mask_fn *mask;
	void *mask_ctx;
};

/* Why an exchange was not recorded. */
enum rp_recorder_drop {
	RP_RECORDER_DROP_QUEUE_FULL = 0, /* the recorder queue was full */
	RP_RECORDER_DROP_STORE_FULL,     /* the store refused: its queue full or
	                                    the corpus at its size ceiling */
	RP_RECORDER_DROP_TOO_BIG,        /* the encoded record passes its cap */
	RP_RECORDER_DROP_MASK,           /* the mask stage refused it */
	RP_RECORDER_DROP_CLOSED,         /* submitted while closing */
	RP_RECORDER_DROP_ERROR,          /* any other store error */
	RP_RECORDER_DROP_COUNT
};

/* Static name of |reason| ("queue_full", "store_full", ...). */
const char *rp_recorder_drop_name(enum rp_recorder_drop reason);

struct rp_recorder_stats {
	uint64_t submitted;     /* exchanges handed to rp_recorder_submit */
	uint64_t recorded;      /* accepted by the store */
	uint64_t conns;         /* connection records accepted by the store */
	uint64_t dropped[RP_RECORDER_DROP_COUNT];
	uint64_t dropped_conns; /* connection records not stored */
	uint64_t coding_errors; /* bodies kept encoded (RP_XF_CODING_ERROR) */
	unsigned queue_depth;   /* items waiting now */
	uint64_t queue_bytes;   /* bytes they hold */
};

/* Starts the recorder threads.  Returns 0 or RP_E_USAGE (no store). */
int rp_recorder_new(const struct rp_recorder_opts *opts, struct rp_recorder **out);

/* Hands |x| to the recorder, which owns it from now on whatever the result
 * (a dropped exchange is freed here).  Never blocks on the store; takes one
 * short lock.  Returns 0 (queued), RP_E_FULL (queue full: dropped and
 * counted) or RP_E_CLOSED (closing: dropped and counted). */
int rp_recorder_submit(struct rp_recorder *r, struct rp_exchange *x);

/* As rp_recorder_submit, but waits while the queue is full instead of
 * dropping: for sources with no live traffic to protect (a capture file, an
 * import), which would rather slow down than lose exchanges.  Never use it
 * on a forwarding path.  Returns 0 or RP_E_CLOSED (dropped and counted). */
int rp_recorder_submit_wait(struct rp_recorder *r, struct rp_exchange *x);

/* Queues a copy of connection record |c| (its slices are copied).  Same
 * returns as rp_recorder_submit; |c| stays the caller's. */
int rp_recorder_submit_conn(struct rp_recorder *r, const struct rp_conn *c);

/* Snapshot of the counters; callable from any thread at any time. */
void rp_recorder_get_stats(struct rp_recorder *r, struct rp_recorder_stats *out);

/* Stops taking exchanges, records everything queued, stops the threads and
 * flushes the store (the store stays open: the caller closes it).  Returns
 * 0 or RP_E_STORE when the flush failed.  Calling it twice is harmless. */
int rp_recorder_close(struct rp_recorder *r);

/* Closes (if not done) and frees.  NULL is a no-op. */
void rp_recorder_free(struct rp_recorder *r);

#endif
