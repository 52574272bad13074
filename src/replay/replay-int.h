/*
 * replay internals: the objects the scheduler (replay.c) and the client
 * (client_h1.c) share.  The client interface is the four functions at the
 * end — open, send, close, and the engine's completion callback — so that an
 * HTTP/2 or TLS client can replace client_h1.c without the scheduler
 * changing.  Not installed.
 */
#ifndef REPRISE_REPLAY_INT_H
#define REPRISE_REPLAY_INT_H

#include <event2/event.h>
#include <event2/event_struct.h>
#include <sys/socket.h>

#include "reprise/http1.h"
#include "reprise/limits.h"
#include "reprise/replay.h"

struct lane;
struct engine;

/* A response being read, and then delivered: its pool holds header tables
 * and the decoded body, |body| the body as received.  Recycled through the
 * engine's spare list so that a steady replay allocates nothing per
 * response. */
struct rslot {
	struct rp_pool *pool;
	struct rp_buf body;
	struct rp_response resp;
};

/* One selected exchange from the moment it is read until its result is
 * delivered. */
struct item {
	struct item *next_time; /* timeline: loaded, not yet due, in due order */
	struct item *next_lane; /* its lane's queue */
	struct lane *lane;
	struct rp_exchange *x;
	struct rp_buf req;      /* the request bytes */
	uint64_t seq;
	int64_t due, sent;
	int is_due;
	enum rp_replay_fail prefail; /* REQUEST when it could not be built */
	const char *why;
	size_t bytes;           /* accounted in the window */
	struct rslot *rs;       /* its response, once complete */
};

/* The exchanges of one recorded connection (or, without order, of one
 * exchange), sent one at a time in order. */
struct lane {
	uint64_t key;
	struct lane *hnext;               /* hash chain */
	struct item *head, *tail;         /* waiting to be sent */
	struct rconn *conn;               /* bound connection or NULL */
	int busy;                         /* a request of this lane is in flight */
	struct lane *lru_prev, *lru_next; /* idle, holding an idle connection */
	int in_lru;
	struct lane *wait_next;           /* due, waiting for a connection */
	int waiting;
};

enum rconn_state { RC_CONNECTING, RC_IDLE, RC_BUSY, RC_DEAD };

/* One replay connection (HTTP/1.1 over TCP today). */
struct rconn {
	struct engine *e;
	int fd;
	enum rconn_state state;
	int closed;                /* closed and queued for the reaper */
	struct event rd, wr, tm;
	struct lane *lane;         /* bound lane, NULL in the free pool */
	struct rconn *next;        /* free pool or dead list */
	struct item *cur;          /* the request in flight */
	size_t wpos;               /* bytes of cur->req written */
	int64_t idle_since;
	uint64_t requests;         /* requests sent on it so far */
	/* response being read */
	struct rp_h1_parser p;
	struct rp_buf in;
	struct rslot *rs;          /* NULL until a request needs one */
	int started;               /* a status line of the final response arrived */
	int interim;
	int truncated;
};

struct engine {
	const struct rp_replay_opts *o;
	struct rp_replay_stats *st;
	struct rp_store *s;
	struct rp_store_iter *it;
	int eof;                     /* nothing more to read */
	int stopping;                /* SIGINT: send nothing new */
	struct event_base *base;
	struct event *timer, *tick, *sigint, *reap;
	struct rp_replay_clock clock;
	struct item *tl_head, *tl_tail;
	size_t window, window_bytes;
	uint64_t seq;
	struct lane **buckets;
	size_t nbuckets, nlanes;
	struct lane *lru_head, *lru_tail;
	struct lane *wait_head, *wait_tail;
	struct rconn *free_conns, *dead;
	unsigned nconns, concurrency;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int64_t timeout, idle_close;
	struct rslot **spare;
	size_t nspare;
};

/* A clean response slot (from the spare list or new). */
struct rslot *rp_replay_slot_get(struct engine *e);
/* Returns |s| to the spare list (or frees it).  NULL is a no-op. */
void rp_replay_slot_put(struct engine *e, struct rslot *s);

/* ---- the client interface ---- */

/* Opens a connection to the engine's target; the result is connecting. */
struct rconn *rp_replay_conn_open(struct engine *e);
/* Sends |it| on |c| (connecting or idle); the engine hears back through
 * rp_replay_engine_done exactly once. */
void rp_replay_conn_send(struct rconn *c, struct item *it);
/* Closes |c| (if not already) and queues it to be freed outside callbacks. */
void rp_replay_conn_close(struct rconn *c);
/* Frees a closed connection. */
void rp_replay_conn_free(struct rconn *c);
/* Arms the idle timer of an idle connection. */
void rp_replay_conn_idle(struct rconn *c);

/* Called by the client when the request in flight on |c| completed: |resp|
 * is the response (NULL with a failure).  |c| may be dead afterwards. */
void rp_replay_engine_done(struct rconn *c, struct item *it, const struct rp_response *resp,
			   enum rp_replay_fail fail, const char *why, int truncated);
/* Called by the client when an idle connection went away (server close,
 * idle timeout). */
void rp_replay_engine_lost(struct rconn *c);

#endif
