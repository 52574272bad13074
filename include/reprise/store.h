/*
 * store: the corpus, an LMDB environment (a directory, files 0600).
 *
 * Named databases:
 *   meta       key string -> value string (schema, tool version, mask digest,
 *              key fingerprint, created, next id)
 *   exchanges  be64(request-start ns) | be64(id) -> record (record.h), bodies
 *              as references; a cursor walks in time order
 *   ids        be64(id) -> exchanges key, for lookup by id
 *   conns      be64(conn id) -> connection record
 *   bodies     SHA-256 of the body -> zstd frame, stored once however often
 *              the body repeats
 *
 * Writing: rp_store_put encodes, hashes and compresses in the caller's
 * thread and queues the result; one writer thread drains the bounded queue
 * and commits in batches (by count and by time).  When the map is full it
 * grows up to |max_size|, then refuses further records (counted, logged)
 * without touching what is stored.  Reading: any number of readers, each a
 * read transaction, lock-free with respect to the writer.
 */
#ifndef REPRISE_STORE_H
#define REPRISE_STORE_H

#include "reprise/exchange.h"
#include "reprise/record.h"

#define RP_STORE_SCHEMA 1

struct rp_store;

struct rp_store_opts {
	const char *path;      /* corpus directory */
	int readonly;          /* open for reading only (no writer thread) */
	int create;            /* create the directory/corpus when missing */
	uint64_t max_size;     /* map ceiling in bytes (0: RP_LIMIT_STORE_MAX_SIZE) */
	unsigned batch_count;  /* records per commit (0: RP_LIMIT_STORE_BATCH) */
	unsigned batch_ms;     /* max ms a record waits for its commit (0: default) */
	unsigned queue_len;    /* queue capacity in records (0: default) */
	int sync;              /* fsync each commit (default off: MDB_NOSYNC, the
	                          OS flushes; a crash loses at most the last batches
	                          and never corrupts) */
};

/* Opens (or with |create|, creates) the corpus at |opts->path|.
 * Returns 0, RP_E_NOTFOUND (no such corpus and !create), RP_E_FORMAT (the
 * directory is not a reprise corpus, or is corrupt), RP_E_VERSION (written by
 * a newer schema), RP_E_STORE/RP_E_IO otherwise.  |why| (may be NULL) gets a
 * message fit for the user, valid until the next call on any store. */
int rp_store_open(const struct rp_store_opts *opts, struct rp_store **out, const char **why);

/* Flushes the queue, stops the writer thread and closes.  NULL is a no-op. */
void rp_store_close(struct rp_store *s);

enum rp_store_put_flags {
	RP_STORE_WAIT = 1, /* block while the queue is full instead of dropping */
};

/* Queues |x| for writing and assigns its id (also written to |*id| when not
 * NULL).  |x| may be freed as soon as this returns.  Returns 0, RP_E_FULL
 * (queue full without RP_STORE_WAIT, or the store reached its ceiling: the
 * record is dropped and counted), RP_E_CLOSED, RP_E_LIMIT (record too big). */
int rp_store_put(struct rp_store *s, const struct rp_exchange *x, unsigned flags, uint64_t *id);

/* Facts about one connection. */
struct rp_conn {
	uint64_t id;
	enum rp_proto proto;
	struct rp_endpoint client, server;
	int64_t start_ns;
	struct rp_slice tls_version, tls_cipher, alpn, sni; /* empty when cleartext */
};

/* Queues a connection record (last write for an id wins).  Same returns as
 * rp_store_put. */
int rp_store_put_conn(struct rp_store *s, const struct rp_conn *c, unsigned flags);

/* Blocks until everything queued so far is committed.  0 or RP_E_STORE. */
int rp_store_flush(struct rp_store *s);

/* Sets a meta value (committed with the next batch, or at once when the
 * writer is idle).  Keys and values are short strings. */
int rp_store_meta_set(struct rp_store *s, const char *key, const char *value);
/* Copies meta value |key| into |out| (NUL-terminated).  0, RP_E_NOTFOUND. */
int rp_store_meta_get(struct rp_store *s, const char *key, char *out, size_t outlen);

struct rp_store_stats {
	uint64_t queued;          /* records accepted by rp_store_put */
	uint64_t committed;       /* records committed */
	uint64_t dropped_full;    /* refused: queue full */
	uint64_t dropped_ceiling; /* refused: map at --max-size */
	uint64_t dropped_error;   /* refused: write error */
	uint64_t bodies_new;      /* distinct bodies written */
	uint64_t bodies_dedup;    /* bodies already present */
	uint64_t bytes_record;    /* encoded record bytes committed */
	uint64_t bytes_body_raw;  /* body bytes before compression (new bodies) */
	uint64_t bytes_body_stored; /* compressed body bytes written */
	uint64_t map_size;        /* current map size */
	unsigned queue_depth;     /* records waiting now */
};
void rp_store_get_stats(struct rp_store *s, struct rp_store_stats *out);

/* ---- reading ---- */

struct rp_store_iter;

enum rp_store_read_flags {
	RP_STORE_NO_BODIES = 1, /* leave bodies empty (lengths still set) */
};

/* Starts a read transaction walking exchanges in time order from request
 * start |from_ns| (0: the beginning).  Exchanges read through it live until
 * rp_exchange_free and do not depend on the iterator. */
int rp_store_iter_new(struct rp_store *s, int64_t from_ns, unsigned flags,
		      struct rp_store_iter **out);
/* Next exchange in time order: 0 and |*x| set (caller frees), RP_E_NOTFOUND at
 * the end, RP_E_FORMAT when a record does not decode (|why| says why; the
 * iterator moves on, so the caller may report and continue). */
int rp_store_iter_next(struct rp_store_iter *it, struct rp_exchange **x, const char **why);
void rp_store_iter_free(struct rp_store_iter *it);

/* Reads exchange |id|: 0, RP_E_NOTFOUND, RP_E_FORMAT. */
int rp_store_get(struct rp_store *s, uint64_t id, unsigned flags, struct rp_exchange **x,
		 const char **why);
/* Reads connection |id| into |c| (strings in |pool|): 0 or RP_E_NOTFOUND. */
int rp_store_get_conn(struct rp_store *s, uint64_t id, struct rp_pool *pool, struct rp_conn *c);

/* Totals kept by the corpus (not per session). */
struct rp_store_totals {
	uint64_t exchanges, conns, bodies;
	uint64_t body_bytes_stored; /* compressed */
	uint64_t map_used;          /* bytes of the data file in use */
	int64_t first_ns, last_ns;  /* request-start span */
};
int rp_store_totals(struct rp_store *s, struct rp_store_totals *out);

#endif
