/*
 * proxy: the inline capture path of DESIGN.md — an HTTP/1.1 reverse proxy
 * that forwards traffic to one upstream and hands a copy of every exchange
 * to a recorder.  Worker threads each run one libevent base and one
 * SO_REUSEPORT listener; bytes are forwarded as they arrive, with
 * backpressure both ways, so any body passes in bounded memory.
 *
 * Invariants: recording never changes, delays or drops forwarded traffic —
 * when the recorder refuses an exchange it is counted and traffic flows on
 * (fail open); forwarded bodies are never cut, only their recorded copies;
 * a connection carries a codec (HTTP/1 today) and the recorder sees
 * exchanges, never bytes, so HTTP/2 and TLS can be added beside it.
 */
#ifndef REPRISE_PROXY_H
#define REPRISE_PROXY_H

#include "reprise/base.h"
#include "reprise/recorder.h"
#include "reprise/store.h"

struct rp_proxy;

struct rp_proxy_opts {
	const char *listen;      /* "ADDR:PORT" or "[V6ADDR]:PORT" */
	const char *upstream;    /* "http://HOST:PORT" (HOST resolved once, at start) */
	unsigned workers;        /* worker threads (0: the number of online CPUs) */
	unsigned max_conns;      /* client connections, all workers together */
	unsigned pool_size;      /* idle upstream connections kept per worker */
	uint32_t max_header_bytes; /* request and response header section cap */
	uint64_t max_body;       /* body bytes recorded per message; the rest is
	                            forwarded but not recorded (flagged truncated) */
	unsigned header_timeout_ms;   /* a request head must arrive within this */
	unsigned idle_timeout_ms;     /* keep-alive wait for the next request */
	unsigned client_timeout_ms;   /* client silent while sending a body, or not
	                                 reading what we send */
	unsigned connect_timeout_ms;  /* upstream connect (then 504) */
	unsigned upstream_timeout_ms; /* upstream silent while a response is due
	                                 (then 504, or an abort mid-body) */
	unsigned shutdown_timeout_ms; /* in-flight exchanges get this long to finish
	                                 after SIGINT/SIGTERM */
	int via;                 /* add "Via: 1.1 reprise" both ways */
	int x_forwarded_for;     /* add X-Forwarded-For with the client address */
	int forwarded;           /* add Forwarded: for=... (RFC 7239) */
	const char *metrics;     /* "ADDR:PORT" for Prometheus text, or NULL */
	struct rp_recorder *recorder; /* not owned; NULL forwards without recording */
	struct rp_store *store;  /* not owned; only read for metrics (may be NULL) */
};

/* Fills |o| with the defaults (limits.h and the man page list them). */
void rp_proxy_opts_init(struct rp_proxy_opts *o);

/* Validates |o|, resolves the upstream and binds the listeners (and the
 * metrics socket), so that every configuration error surfaces before
 * traffic is taken.  Returns 0, RP_E_USAGE (a bad value: |why| names it)
 * or RP_E_IO (a socket could not be bound: |why| says which and why).
 * |why| is valid until the next call in this thread. */
int rp_proxy_new(const struct rp_proxy_opts *o, struct rp_proxy **out, const char **why);

/* Sets where exchanges go (|rec|, NULL: not recorded) and the store whose
 * figures the metrics page shows (may be NULL); neither is owned.  Call it
 * before rp_proxy_run: binding comes first, so that a port in use is
 * reported before a corpus is created. */
void rp_proxy_set_recorder(struct rp_proxy *px, struct rp_recorder *rec, struct rp_store *store);

/* Serves until SIGINT or SIGTERM (or rp_proxy_stop): then stops accepting,
 * lets in-flight exchanges finish up to the shutdown deadline (a second
 * signal ends them at once), and returns 0 once every worker has stopped.
 * Installs its own SIGINT/SIGTERM handling, ignores SIGPIPE and raises
 * glibc's trim and mmap thresholds (process-wide). */
int rp_proxy_run(struct rp_proxy *px);

/* Asks a running proxy to shut down as on SIGTERM.  Thread-safe. */
void rp_proxy_stop(struct rp_proxy *px);

struct rp_proxy_stats {
	uint64_t accepted;       /* client connections */
	uint64_t requests[6];    /* responses sent by status class: [1] 1xx .. [5] 5xx,
	                            [0] exchanges ended without a response */
	uint64_t bad_requests;   /* refused with 400/414/431/501 */
	uint64_t upstream_errors;/* 502 sent or upstream failure mid-response */
	uint64_t upstream_timeouts; /* 504 sent or upstream timeout mid-response */
	uint64_t client_aborts;  /* client left or timed out mid-exchange */
};

/* Sums the workers' counters.  Callable from any thread while running. */
void rp_proxy_get_stats(struct rp_proxy *px, struct rp_proxy_stats *out);

/* Closes the sockets and frees.  NULL is a no-op. */
void rp_proxy_free(struct rp_proxy *px);

#endif
