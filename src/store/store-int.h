/*
 * store-int: what the files of src/store share and nothing else sees — the
 * store handle, the queue item, the pools of compression contexts and the
 * LMDB wrappers.  Invariants: an MDB_* code never leaves these files (each
 * wrapper logs it with its raw value and returns an enum rp_err); every read
 * transaction in this process is begun and ended while |map_lock| is held
 * for reading, so the writer may remap (grow) with the lock held for writing.
 */
#ifndef REPRISE_STORE_INT_H
#define REPRISE_STORE_INT_H

#include <lmdb.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <zstd.h>

#include "reprise/limits.h"
#include "reprise/store.h"

struct bmemo_slot {
	uint8_t *copy; /* the body, or NULL: empty slot */
	size_t len;
	uint64_t key;
	uint8_t digest[RP_DIGEST_LEN];
};

#define KEY_LEN 16 /* be64(request start ns) | be64(id) */

/* Bodies this short are kept inline in the record: a reference (digest and
 * length) would be larger than the body. */
#define INLINE_BODY_MAX 32

/* Bodies shorter than this are kept inline the first time the store sees
 * them and shared by reference from the second time on (while the digest
 * cache remembers them).  A distinct body put in `bodies` lands at a random
 * key and costs the writer a 4 KB page copy and write for itself; for a
 * small body that is seen once, that costs more time and space than keeping
 * its bytes in the record.  Measured in bench/store_bench. */
#define SHARE_BODY_MIN 1024

/* zstd level for stored bodies: level 1 is the fastest level that still
 * gives JSON and HTML most of their redundancy back. */
#define BODY_ZSTD_LEVEL 1

/* The body memo: bodies of at least BMEMO_MIN bytes (and at most
 * BMEMO_MAX) are remembered with their digest, BMEMO_BYTES in all, in
 * BMEMO_SLOTS direct-mapped slots (a power of two). */
#define BMEMO_MIN 1024
#define BMEMO_MAX (1u << 20)
#define BMEMO_BYTES (32u << 20)
#define BMEMO_SLOTS 4096

/* Slots of the digest cache (a power of two; 33 bytes each). */
#define DCACHE_SLOTS 8192

/* Size classes of recycled item blocks (write.c). */
#define ITEM_CLASSES 8

enum item_kind { ITEM_EXCHANGE, ITEM_CONN, ITEM_META };

/* One body of an exchange item: either a compressed frame to store, or
 * (|frame_len| == 0) a digest the digest cache says is already committed. */
struct item_body {
	uint8_t digest[RP_DIGEST_LEN];
	uint64_t raw_len;
	size_t frame_off, frame_len;
};

/* A unit of work for the writer, allocated in one block by the producer and
 * freed by the writer once it is committed or dropped.  |data| holds the key,
 * the value and the frames; the offsets point into it. */
struct item {
	struct item *next;
	enum item_kind kind;
	int urgent;             /* commit without waiting for more (meta, flush) */
	uint64_t seq;           /* position in the queue order, from 1 */
	int64_t enq_mono;       /* when it was queued (monotonic ns) */
	uint64_t id;            /* exchange id (ITEM_EXCHANGE) */
	size_t key_off, key_len;
	size_t val_off, val_len;
	unsigned nbodies;
	unsigned ninline;       /* bodies kept inline in the record */
	struct item_body bodies[2];
	size_t size;            /* bytes of this allocation, for the queue cap */
	int cls;                /* size class for reuse, -1: plain malloc */
	_Alignas(16) uint8_t data[];
};

/* Per-producer scratch: a compression context, a digest context and
 * buffers, reused from a free list so that a put allocates nothing but its
 * item. */
struct wctx {
	struct wctx *next;      /* in the store's free list */
	struct wctx *all_next;  /* every context the store made */
	ZSTD_CCtx *cctx;
	EVP_MD_CTX *md;
	struct rp_buf rec;
	struct rp_buf frame[2];
};

/* Per-reader scratch: a decompression context. */
struct rctx {
	struct rctx *next;
	ZSTD_DCtx *dctx;
};

struct rp_store {
	char *path;
	int readonly;
	int lock_fd;        /* flock'd data file: one writing process per corpus */
	MDB_env *env;
	int env_opened;     /* mdb_env_open succeeded */
	MDB_dbi db_meta, db_exchanges, db_ids, db_conns, db_bodies;
	uint64_t max_size;
	unsigned batch_count, batch_ms, queue_len;
	size_t queue_bytes_max;
	size_t page;        /* the system's page size */
	size_t psize;       /* LMDB's page size */
	const uint8_t *map_base; /* where LMDB mapped data.mdb (NULL: unknown);
	                            changes only under |map_lock| held exclusively */

	/* Readers hold it shared for the life of each read transaction; the
	 * writer holds it exclusively while it changes the map size. */
	pthread_rwlock_t map_lock;

	/* Groups touched by different threads start on their own cache lines
	 * (the handle is allocated 64-aligned), so that a producer's lock does
	 * not bounce a line the writer keeps writing. */

	/* ---- producer side ---- */
	_Alignas(64) pthread_mutex_t ctx_mu;
	uint64_t gen;           /* unique per handle in this process */
	struct wctx *wctx_free, *wctx_all;
	struct rctx *rctx_free;
	EVP_MD *sha256;
	_Atomic uint64_t next_id;
	atomic_int at_ceiling; /* map reached max_size: refuse new records */
	atomic_int closing;

	/* Recently met digests: DC_STORED ones are committed to `bodies`
	 * (nothing is ever deleted, so that stays true) and producers skip
	 * compressing them; DC_SEEN ones were small bodies kept inline once. */
	_Alignas(64) pthread_mutex_t dcache_mu;
	uint8_t (*dcache)[RP_DIGEST_LEN];
	uint8_t *dcache_state;

	/* The body memo (write.c): the digests of bodies met recently, with a
	 * copy of each, so that a body met again is recognised by comparing
	 * bytes (memcmp) instead of hashing it again (SHA-256 is ~7x slower).
	 * A slot is found by a key sampled from the body; the comparison, not
	 * the key, decides. */
	_Alignas(64) pthread_mutex_t bmemo_mu;
	struct bmemo_slot *bmemo;
	size_t bmemo_bytes;

	/* recycled item blocks by size class (write.c) */
	_Alignas(64) pthread_mutex_t ifree_mu;
	struct item *ifree[ITEM_CLASSES];
	size_t ifree_bytes;

	/* ---- queue: guarded by |q_mu| ---- */
	_Alignas(64) pthread_mutex_t q_mu;
	pthread_cond_t q_nonempty; /* writer waits here */
	pthread_cond_t q_nonfull;  /* blocked producers (RP_STORE_WAIT) */
	pthread_cond_t q_done;     /* rp_store_flush waits here */
	struct item *q_head, *q_tail;
	unsigned q_n;
	atomic_uint q_depth;       /* |q_n| for lock-free peeks */
	size_t q_bytes;
	unsigned q_want;           /* wake the writer when q_n reaches this */
	int q_urgent;              /* an urgent item is queued */
	unsigned q_full_waiters;
	uint64_t seq_pushed;       /* last seq handed out */
	uint64_t seq_done;         /* every item up to here is committed or dropped */
	uint64_t seq_failed;       /* last seq dropped by the writer (0: none) */
	int fail_err;              /* why |seq_failed| was dropped */
	int writer_stop;

	pthread_t writer;
	int writer_started;
	int writer_exited;         /* guarded by |q_mu| */

	/* ---- writer thread only ---- */
	_Alignas(64) uint8_t last_key[KEY_LEN]; /* greatest exchanges key written: MDB_APPEND */
	uint64_t last_id;          /* greatest id written: MDB_APPEND on ids */
	uint64_t body_bytes;       /* meta body_bytes (compressed, whole corpus) */
	uint64_t stored_next_id;   /* meta next_id as last committed */
	int64_t ceiling_logged;    /* mono ns of the last ceiling log line */
	struct item **sort_buf;    /* batch_count slots for sorting a batch */

	/* ---- statistics (rp_store_get_stats) ---- */
	struct {
		/* counted by producers */
		_Alignas(64) _Atomic uint64_t queued, dropped_full, dropped_ceiling,
			dropped_error;
		/* counted by the writer */
		_Alignas(64) _Atomic uint64_t committed, bodies_new, bodies_dedup,
			bodies_inline, bytes_record, bytes_body_raw, bytes_body_stored,
			map_size;
	} st;
};

/* Meta keys written by the store itself (rp_store_meta_set refuses them). */
#define META_SCHEMA "schema"
#define META_TOOL_VERSION "tool_version"
#define META_CREATED_BY "created_by"
#define META_CREATED "created"
#define META_NEXT_ID "next_id"
#define META_BODY_BYTES "body_bytes"

/* ---- store.c ---- */

/* Translates an LMDB (or errno) code |rc| met while doing |what| into an
 * enum rp_err, logging it with its raw value.  MDB_NOTFOUND gives
 * RP_E_NOTFOUND and is not logged. */
int rp_store_mdb_err(const struct rp_store *s, int rc, const char *what);
/* A thread-local buffer for |why| messages built at run time. */
const char *rp_store_why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Begins a read transaction (taking |map_lock| shared; it is released by
 * read_end).  Adopts a map grown by another process.  0 or RP_E_STORE. */
int rp_store_read_begin(struct rp_store *s, MDB_txn **txn);
void rp_store_read_end(struct rp_store *s, MDB_txn *txn);
/* Like read_begin, for a transaction that was reset (mdb_txn_reset). */
int rp_store_read_renew(struct rp_store *s, MDB_txn *txn);
/* Resets a renewable read transaction and releases |map_lock|. */
void rp_store_read_pause(struct rp_store *s, MDB_txn *txn);
/* Grows the map to |size| with every reader of this process excluded.
 * The caller holds no transaction.  0 or RP_E_STORE. */
int rp_store_remap(struct rp_store *s, size_t size);
/* 1 when [|p|, |p|+|n|) lies inside the used part of the map, so that a
 * size read from a damaged page cannot make us touch unmapped memory.
 * Call with a read transaction open. */
int rp_store_in_map(const struct rp_store *s, const void *p, size_t n);
/* Builds the exchanges key of (|ns|, |id|) into |key|. */
void rp_store_key(uint8_t key[KEY_LEN], int64_t ns, uint64_t id);
uint64_t rp_store_be64(const uint8_t *p);

struct rctx *rp_store_rctx_get(struct rp_store *s);
void rp_store_rctx_put(struct rp_store *s, struct rctx *c);

/* ---- write.c ---- */

int rp_store_writer_start(struct rp_store *s);
/* Drains the queue, stops and joins the writer. */
void rp_store_writer_stop(struct rp_store *s);
/* Frees the producer contexts and the digest cache. */
void rp_store_write_dispose(struct rp_store *s);

/* ---- conn.c ---- */

/* Encodes |c| (versioned, "RPC" 1) into |out|.  0 or RP_E_LIMIT. */
int rp_store_conn_encode(const struct rp_conn *c, struct rp_buf *out);
/* Decodes |in| into |c|, copying strings into |pool|.  0, RP_E_FORMAT or
 * RP_E_VERSION. */
int rp_store_conn_decode(struct rp_slice in, struct rp_pool *pool, struct rp_conn *c);

#endif
