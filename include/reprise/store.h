/*
 * store: the corpus, an LMDB environment (a directory, files 0600).
 *
 * Named databases:
 *   meta       key string -> value string: schema, tool_version (last
 *              writer), created_by, created (RFC 3339), next_id, body_bytes,
 *              and free keys for later stages (mask_digest,
 *              key_fingerprint, ...)
 *   exchanges  be64(request-start ns, 0 when unknown) | be64(id) -> record
 *              (record.h), bodies as references; a cursor walks in time order
 *   ids        be64(id) -> exchanges key, for lookup by id
 *   conns      be64(conn id) -> connection record ("RPC" 1, see conn.c)
 *   bodies     SHA-256 of the body -> zstd frame (with checksum), stored once
 *              however often the body repeats
 *
 * Writing: rp_store_put encodes, hashes and compresses in the caller's
 * thread and queues the result; one writer thread drains the bounded queue
 * and commits in batches (by count and by time).  When the map is full it
 * grows (doubling) up to |max_size|, then refuses further records
 * (counted, logged) without touching what is stored.  Reading: any number of
 * readers, each a read transaction, lock-free with respect to the writer
 * (they hold a shared lock only while a call runs, which lets the writer
 * remap the grown file between calls).
 *
 * Corruption: LMDB keeps no checksums.  What LMDB reports (MDB_CORRUPTED,
 * MDB_PAGE_NOTFOUND, MDB_INVALID, ...) and what our decoders catch (record
 * framing, zstd checksums, body lengths, values that would run past the end
 * of the file) comes back as RP_E_FORMAT.  A page whose own structure is
 * damaged (branch or leaf headers, node offsets) can still crash LMDB
 * itself while it walks the tree; that is outside what we can check.
 */
#ifndef REPRISE_STORE_H
#define REPRISE_STORE_H

#include "reprise/exchange.h"
#include "reprise/record.h"

#define RP_STORE_SCHEMA 1

struct rp_store;

/* How hard a commit pushes its batch to the disk.  In every mode a batch
 * whose commit returned survives the death of the process (SIGKILL, a
 * crash of reprise): LMDB has written it to the kernel, and it writes the
 * meta page that makes a batch visible only after the batch's pages, so an
 * interrupted commit leaves the previous state intact.  A clean
 * rp_store_close always syncs.  The modes differ on a machine crash or
 * power loss:
 *   DATA  MDB_NOMETASYNC, the default: the batch's pages are fsync'd at
 *         each commit, the meta page at the next one.  A machine crash may
 *         undo the last committed batch but never corrupts.  Costs one
 *         fdatasync per batch (batches are many records or a few ms).
 *   NONE  MDB_NOSYNC.  The kernel flushes when it likes (typically within
 *         30 s).  A machine crash loses the batches not yet flushed and,
 *         because the kernel may write the meta page before the pages it
 *         points to, can leave the corpus corrupt (LMDB documents this).
 *         Fastest: for corpora that can be made again (a capture file read
 *         twice, a benchmark).
 *   FULL  every commit is durable when it returns (two syncs per batch). */
enum rp_store_sync {
	RP_STORE_SYNC_DATA = 0,
	RP_STORE_SYNC_NONE = 1,
	RP_STORE_SYNC_FULL = 2,
};

/* Parses "none", "data" or "full".  0, or RP_E_USAGE. */
int rp_store_sync_parse(const char *name, enum rp_store_sync *out);

struct rp_store_opts {
	const char *path;      /* corpus directory */
	int readonly;          /* open for reading only (no writer thread) */
	int create;            /* create the directory/corpus when missing */
	uint64_t max_size;     /* map ceiling in bytes (0: RP_LIMIT_STORE_MAX_SIZE) */
	uint64_t map_init;     /* first map size (0: RP_LIMIT_STORE_MAP_INIT); the map
	                          doubles on demand up to |max_size| */
	unsigned batch_count;  /* records per commit (0: RP_LIMIT_STORE_BATCH) */
	unsigned batch_ms;     /* max ms a record waits for its commit (0: default) */
	unsigned queue_len;    /* queue capacity in records (0: default); the queue
	                          also holds at most RP_LIMIT_STORE_QUEUE_BYTES */
	int sync;              /* enum rp_store_sync (default DATA) */
};

/* Opens (or with |create|, creates) the corpus at |opts->path|.  Only one
 * process may open a corpus for writing at a time (an flock on data.mdb);
 * readers may be many, in this process or others.  Do not open the same
 * corpus twice in one process (an LMDB rule): share the handle.
 * Returns 0, RP_E_NOTFOUND (no such corpus, or an empty directory, and
 * !create), RP_E_FORMAT (the directory is not a reprise corpus, or is
 * corrupt; with |create|, also a directory that holds other files),
 * RP_E_VERSION (written by a newer schema), RP_E_USAGE (bad options),
 * RP_E_STORE (another process is writing it, LMDB failure), RP_E_IO.  |why|
 * (may be NULL) gets a message fit for the user naming the path, valid until
 * the next call on any store from the same thread. */
int rp_store_open(const struct rp_store_opts *opts, struct rp_store **out, const char **why);

/* Flushes the queue, stops the writer thread, syncs and closes.  No other
 * call on |s| may run concurrently or later.  NULL is a no-op. */
void rp_store_close(struct rp_store *s);

enum rp_store_put_flags {
	RP_STORE_WAIT = 1, /* block while the queue is full instead of dropping */
};

/* Queues |x| for writing and assigns its id (also written to |*id| when not
 * NULL).  Hashing, compressing and encoding happen here, in the caller's
 * thread.  Bodies of 1 KB and more are stored once per distinct content in
 * `bodies` and referenced by SHA-256 digest.  Shorter ones are kept in the
 * record the first time they are seen and shared like the others from the
 * second time on (while a cache of recent digests remembers them); bodies
 * of 32 bytes or less are always inline.  |x| may be
 * freed as soon as this returns.  Thread-safe.  Ids grow in the order puts
 * take them; a refused put may leave a gap.  Returns 0, RP_E_FULL (queue
 * full without RP_STORE_WAIT, or the store reached its ceiling: the record
 * is dropped and counted), RP_E_CLOSED, RP_E_LIMIT (record too big, counted
 * as dropped_error), RP_E_USAGE (read-only store). */
int rp_store_put(struct rp_store *s, const struct rp_exchange *x, unsigned flags, uint64_t *id);

/* Facts about one connection. */
struct rp_conn {
	uint64_t id;
	enum rp_proto proto;
	struct rp_endpoint client, server;
	int64_t start_ns;
	struct rp_slice tls_version, tls_cipher, alpn, sni; /* empty when cleartext */
};

/* Queues a connection record (last write for an id wins).  Strings are at
 * most 1024 bytes.  Same returns as rp_store_put (not counted in the
 * exchange statistics). */
int rp_store_put_conn(struct rp_store *s, const struct rp_conn *c, unsigned flags);

/* Blocks until everything queued so far is committed (or dropped).  0,
 * RP_E_FULL (some of it was refused at the ceiling) or RP_E_STORE (some of
 * it failed to write). */
int rp_store_flush(struct rp_store *s);

/* Sets a meta value (queued; committed without waiting for a batch to
 * fill).  Keys are at most 64 bytes, values 1024.  The keys the store keeps
 * itself (schema, tool_version, created, created_by, next_id, body_bytes)
 * are refused.  Returns 0, RP_E_USAGE (bad or reserved key, read-only
 * store), RP_E_LIMIT (too long), RP_E_FULL, RP_E_CLOSED. */
int rp_store_meta_set(struct rp_store *s, const char *key, const char *value);
/* Copies the committed meta value |key| into |out| (NUL-terminated).  0,
 * RP_E_NOTFOUND, RP_E_LIMIT (does not fit |outlen|), RP_E_STORE. */
int rp_store_meta_get(struct rp_store *s, const char *key, char *out, size_t outlen);

struct rp_store_stats {
	uint64_t queued;          /* records accepted by rp_store_put */
	uint64_t committed;       /* records committed */
	uint64_t dropped_full;    /* refused: queue full */
	uint64_t dropped_ceiling; /* refused: map at --max-size */
	uint64_t dropped_error;   /* refused: write error */
	uint64_t bodies_new;      /* distinct bodies written */
	uint64_t bodies_dedup;    /* bodies already present */
	uint64_t bodies_inline;   /* bodies kept in their record (see rp_store_put) */
	uint64_t bytes_record;    /* encoded record bytes committed */
	uint64_t bytes_body_raw;  /* body bytes before compression (new bodies) */
	uint64_t bytes_body_stored; /* compressed body bytes written */
	uint64_t map_size;        /* current map size */
	unsigned queue_depth;     /* records waiting now */
};
/* Copies this session's counters (atomics; callable from any thread). */
void rp_store_get_stats(struct rp_store *s, struct rp_store_stats *out);

/* ---- reading ---- */

struct rp_store_iter;

enum rp_store_read_flags {
	RP_STORE_NO_BODIES = 1, /* leave bodies empty (lengths still set) */
};

/* Starts walking exchanges in time order (request start, then id) from
 * request start |from_ns| (0: the beginning; exchanges whose start is
 * unknown sort first).  The iterator holds a read transaction only inside
 * each rp_store_iter_next call, so it never pins old pages nor blocks the
 * map from growing; it is not a snapshot: it returns every exchange with a
 * key after the last one it returned, including ones committed meanwhile.
 * Exchanges read through it live until rp_exchange_free and do not depend on
 * the iterator.  0 or RP_E_STORE. */
int rp_store_iter_new(struct rp_store *s, int64_t from_ns, unsigned flags,
		      struct rp_store_iter **out);
/* Next exchange in time order: 0 and |*x| set (caller frees), RP_E_NOTFOUND at
 * the end, RP_E_FORMAT when a record does not decode or a body it refers to
 * is missing or corrupt, RP_E_VERSION when the record has a newer major
 * version (|why| says which exchange and why; the iterator moves on, so the
 * caller may report and continue), RP_E_STORE when LMDB fails (the
 * iterator stops).  Bodies are decompressed into the exchange's pool. */
int rp_store_iter_next(struct rp_store_iter *it, struct rp_exchange **x, const char **why);
/* The stored lengths of the request and response bodies of the exchange
 * the last rp_store_iter_next returned, with or without RP_STORE_NO_BODIES. */
void rp_store_iter_body_lens(const struct rp_store_iter *it, uint64_t *req, uint64_t *resp);
/* Ends the walk.  NULL is a no-op. */
void rp_store_iter_free(struct rp_store_iter *it);

/* Reads exchange |id|: 0, RP_E_NOTFOUND, RP_E_FORMAT, RP_E_VERSION,
 * RP_E_STORE.  The exchange is the caller's to free. */
int rp_store_get(struct rp_store *s, uint64_t id, unsigned flags, struct rp_exchange **x,
		 const char **why);
/* Reads connection |id| into |c| (strings copied into |pool|): 0,
 * RP_E_NOTFOUND, RP_E_FORMAT (corrupt), RP_E_VERSION, RP_E_STORE. */
int rp_store_get_conn(struct rp_store *s, uint64_t id, struct rp_pool *pool, struct rp_conn *c);

/* Totals kept by the corpus (not per session). */
struct rp_store_totals {
	uint64_t exchanges, conns, bodies;
	uint64_t body_bytes_stored; /* compressed */
	uint64_t map_used;          /* bytes of the data file in use */
	int64_t first_ns, last_ns;  /* request-start span */
};
/* Fills |out| from the databases' entry counts and first/last keys.  0 or
 * RP_E_STORE/RP_E_FORMAT. */
int rp_store_totals(struct rp_store *s, struct rp_store_totals *out);

#endif
