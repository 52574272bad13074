/*
 * write: the producer side of the store (rp_store_put, rp_store_put_conn,
 * rp_store_meta_set, rp_store_flush) and the writer thread.  Producers do
 * the expensive work in their own threads — SHA-256 of each body, zstd
 * compression, record encoding — and hand the writer one ready block per
 * record through a bounded queue (records and bytes).  The writer only does
 * LMDB puts: it takes a batch (batch_count records, or whatever arrived
 * within batch_ms of the oldest), writes it in one transaction and commits.
 *
 * Invariants: the queue never holds more than queue_len items nor more than
 * RP_LIMIT_STORE_QUEUE_BYTES (one oversized item may pass an empty queue);
 * statistics count a record once, when its fate is known; the digest cache
 * marks a body stored only after the transaction that stored it committed,
 * so a reference without a frame always points at a stored body; on
 * MDB_MAP_FULL the
 * transaction is aborted (nothing half-written) and retried on a doubled
 * map, and once the map is at max_size the store refuses new records.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store-int.h"

/* Bytes of items per transaction, whatever batch_count says, so that a
 * batch of large bodies does not become one huge transaction. */
#define BATCH_BYTES (64u << 20)

/* The ceiling is logged at most this often. */
#define CEILING_LOG_NS (10LL * 1000000000)

#define META_KEY_MAX 64
#define META_VALUE_MAX 1024

/* ---- producer contexts ---- */

/* Each producer thread keeps the context it last used for a store, so that
 * a put takes no lock for it.  The store still owns every context it made
 * (the |all| list frees them at close); the thread-local pointer is only
 * trusted while it belongs to the same store generation, so a context left
 * behind for a closed store is never touched again. */
static _Thread_local uint64_t tl_gen;
static _Thread_local struct wctx *tl_ctx;

static struct wctx *wctx_get(struct rp_store *s)
{
	struct wctx *c = NULL;
	if (tl_ctx && tl_gen == s->gen) {
		c = tl_ctx;
		tl_ctx = NULL;
		return c;
	}
	pthread_mutex_lock(&s->ctx_mu);
	if ((c = s->wctx_free))
		s->wctx_free = c->next;
	pthread_mutex_unlock(&s->ctx_mu);
	if (c)
		return c;
	c = rp_xcalloc(1, sizeof(*c));
	if (!(c->cctx = ZSTD_createCCtx()) || !(c->md = EVP_MD_CTX_new()))
		rp_oom();
	ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, BODY_ZSTD_LEVEL);
	/* a checksum lets a reader tell a damaged body from a good one */
	ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_contentSizeFlag, 1);
	rp_buf_init(&c->rec, RP_LIMIT_RECORD);
	rp_buf_init(&c->frame[0], ZSTD_compressBound(RP_LIMIT_BODY_DECODED));
	rp_buf_init(&c->frame[1], ZSTD_compressBound(RP_LIMIT_BODY_DECODED));
	pthread_mutex_lock(&s->ctx_mu);
	c->all_next = s->wctx_all;
	s->wctx_all = c;
	pthread_mutex_unlock(&s->ctx_mu);
	return c;
}

static void wctx_put(struct rp_store *s, struct wctx *c)
{
	/* keep big buffers from pinning memory after an outsized record */
	if (c->rec.cap > (4u << 20))
		rp_buf_dispose(&c->rec);
	for (int i = 0; i < 2; i++)
		if (c->frame[i].cap > (4u << 20))
			rp_buf_dispose(&c->frame[i]);
	if (!tl_ctx || tl_gen != s->gen) {
		tl_gen = s->gen;
		tl_ctx = c;
		return;
	}
	pthread_mutex_lock(&s->ctx_mu);
	c->next = s->wctx_free;
	s->wctx_free = c;
	pthread_mutex_unlock(&s->ctx_mu);
}

void rp_store_write_dispose(struct rp_store *s)
{
	s->wctx_free = NULL;
	while (s->wctx_all) {
		struct wctx *c = s->wctx_all;
		s->wctx_all = c->all_next;
		ZSTD_freeCCtx(c->cctx);
		EVP_MD_CTX_free(c->md);
		rp_buf_dispose(&c->rec);
		rp_buf_dispose(&c->frame[0]);
		rp_buf_dispose(&c->frame[1]);
		free(c);
	}
	for (int c = 0; c < ITEM_CLASSES; c++)
		while (s->ifree[c]) {
			struct item *it = s->ifree[c];
			s->ifree[c] = it->next;
			free(it);
		}
	EVP_MD_free(s->sha256);
	s->sha256 = NULL;
	if (s->bmemo)
		for (size_t i = 0; i < BMEMO_SLOTS; i++)
			free(s->bmemo[i].copy);
	free(s->bmemo);
	s->bmemo = NULL;
	s->bmemo_bytes = 0;
	free(s->dcache);
	free(s->dcache_state);
	free(s->sort_buf);
	s->sort_buf = NULL;
	s->dcache = NULL;
	s->dcache_state = NULL;
}

/* ---- body memo ---- */

/* A key from the length and 64 bytes sampled across the body: the same
 * body always gets the same key, and bodies that differ only where nobody
 * sampled share a slot and are told apart by the comparison. */
static uint64_t bmemo_key(struct rp_slice b)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ b.n;
	for (size_t k = 0; k < 8; k++) {
		uint64_t w;
		size_t at = k == 7 ? b.n - 8 : (b.n - 8) / 7 * k;
		memcpy(&w, b.p + at, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

/* Copies into |digest| the digest of |b| if the memo holds |b|: 1, else 0. */
static int bmemo_get(struct rp_store *s, struct rp_slice b, uint64_t key, uint8_t *digest)
{
	int hit = 0;
	pthread_mutex_lock(&s->bmemo_mu);
	struct bmemo_slot *sl = &s->bmemo[key & (BMEMO_SLOTS - 1)];
	if (sl->copy && sl->key == key && sl->len == b.n && memcmp(sl->copy, b.p, b.n) == 0) {
		memcpy(digest, sl->digest, RP_DIGEST_LEN);
		hit = 1;
	}
	pthread_mutex_unlock(&s->bmemo_mu);
	return hit;
}

/* Remembers |b| with its |digest| in its slot, in place of what was there,
 * while the memo stays within BMEMO_BYTES. */
static void bmemo_put(struct rp_store *s, struct rp_slice b, uint64_t key, const uint8_t *digest)
{
	pthread_mutex_lock(&s->bmemo_mu);
	struct bmemo_slot *sl = &s->bmemo[key & (BMEMO_SLOTS - 1)];
	size_t after = s->bmemo_bytes - (sl->copy ? sl->len : 0) + b.n;
	if (after <= BMEMO_BYTES) {
		uint8_t *copy = sl->copy && sl->len == b.n ? sl->copy : NULL;
		if (!copy) {
			free(sl->copy);
			copy = rp_xmalloc(b.n);
		}
		memcpy(copy, b.p, b.n);
		sl->copy = copy;
		sl->len = b.n;
		sl->key = key;
		memcpy(sl->digest, digest, RP_DIGEST_LEN);
		s->bmemo_bytes = after;
	}
	pthread_mutex_unlock(&s->bmemo_mu);
}

/* ---- committed-digest cache ---- */

/* The cache is two-way set associative with LRU order inside a set: a hit
 * moves the entry to way 0, a new entry goes to way 1 (or an empty way 0).
 * Bodies seen often (popular answers) stay; one-off digests replace each
 * other in way 1. */
static size_t dcache_set_of(const uint8_t *digest)
{
	uint32_t h;
	memcpy(&h, digest, sizeof(h)); /* a digest is already uniformly spread */
	return (h & (DCACHE_SLOTS / 2 - 1)) * 2;
}

static void dcache_swap(struct rp_store *s, size_t a, size_t b)
{
	uint8_t d[RP_DIGEST_LEN], st = s->dcache_state[a];
	memcpy(d, s->dcache[a], RP_DIGEST_LEN);
	memcpy(s->dcache[a], s->dcache[b], RP_DIGEST_LEN);
	memcpy(s->dcache[b], d, RP_DIGEST_LEN);
	s->dcache_state[a] = s->dcache_state[b];
	s->dcache_state[b] = st;
}

/* Index of |digest| in the cache, or SIZE_MAX.  Caller holds dcache_mu. */
static size_t dcache_find(struct rp_store *s, const uint8_t *digest)
{
	size_t i = dcache_set_of(digest);
	for (size_t w = 0; w < 2; w++)
		if (s->dcache_state[i + w] && !memcmp(s->dcache[i + w], digest, RP_DIGEST_LEN))
			return i + w;
	return SIZE_MAX;
}

enum { DC_NONE, DC_SEEN, DC_STORED };

/* What the cache knows of |digest|. */
static int dcache_get(struct rp_store *s, const uint8_t *digest)
{
	int st = DC_NONE;
	pthread_mutex_lock(&s->dcache_mu);
	size_t i = dcache_find(s, digest);
	if (i != SIZE_MAX) {
		if (i % 2) { /* most recently used first */
			dcache_swap(s, i - 1, i);
			i--;
		}
		st = s->dcache_state[i];
	}
	pthread_mutex_unlock(&s->dcache_mu);
	return st;
}

/* Records |digest| as |state|.  Caller holds dcache_mu. */
static void dcache_put_locked(struct rp_store *s, const uint8_t *digest, int state)
{
	size_t i = dcache_find(s, digest);
	if (i == SIZE_MAX) {
		i = dcache_set_of(digest);
		if (s->dcache_state[i])
			i++;
		memcpy(s->dcache[i], digest, RP_DIGEST_LEN);
	} else if (s->dcache_state[i] == DC_STORED) {
		return;
	}
	s->dcache_state[i] = (uint8_t)state;
}

static void dcache_set(struct rp_store *s, const uint8_t *digest, int state)
{
	pthread_mutex_lock(&s->dcache_mu);
	dcache_put_locked(s, digest, state);
	pthread_mutex_unlock(&s->dcache_mu);
}

/* Remembers the bodies of |items| (just committed) as stored. */
static void dcache_add(struct rp_store *s, struct item **items, size_t n)
{
	pthread_mutex_lock(&s->dcache_mu);
	for (size_t k = 0; k < n; k++)
		for (unsigned b = 0; b < items[k]->nbodies; b++)
			dcache_put_locked(s, items[k]->bodies[b].digest, DC_STORED);
	pthread_mutex_unlock(&s->dcache_mu);
}

/* ---- item blocks ----
 *
 * Producers allocate items and the writer frees them: with plain malloc the
 * heap grows in one thread and is trimmed in another, and the page faults
 * of that churn cost more than the work itself.  Blocks of up to 64 KB are
 * recycled by size class instead (at most ITEM_CACHE_BYTES kept). */

#define ITEM_CLASS_MIN 512 /* classes: 512 B << 0 .. ITEM_CLASSES-1 (64 KB) */
#define ITEM_CACHE_BYTES (32u << 20)

static int item_class(size_t size)
{
	for (int c = 0; c < ITEM_CLASSES; c++)
		if (size <= (size_t)ITEM_CLASS_MIN << c)
			return c;
	return -1;
}

static struct item *item_new(struct rp_store *s, enum item_kind kind, size_t data_len)
{
	size_t size = sizeof(struct item) + data_len;
	int cls = item_class(size);
	struct item *it = NULL;
	if (cls >= 0) {
		size = (size_t)ITEM_CLASS_MIN << cls;
		pthread_mutex_lock(&s->ifree_mu);
		if ((it = s->ifree[cls])) {
			s->ifree[cls] = it->next;
			s->ifree_bytes -= size;
		}
		pthread_mutex_unlock(&s->ifree_mu);
	}
	if (!it)
		it = rp_xmalloc(size);
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->size = size;
	it->cls = cls;
	return it;
}

/* Frees (or keeps for reuse) |n| items. */
static void items_free(struct rp_store *s, struct item **items, size_t n)
{
	pthread_mutex_lock(&s->ifree_mu);
	for (size_t i = 0; i < n; i++) {
		struct item *it = items[i];
		if (it->cls >= 0 && s->ifree_bytes + it->size <= ITEM_CACHE_BYTES) {
			it->next = s->ifree[it->cls];
			s->ifree[it->cls] = it;
			s->ifree_bytes += it->size;
			items[i] = NULL;
		}
	}
	pthread_mutex_unlock(&s->ifree_mu);
	for (size_t i = 0; i < n; i++)
		free(items[i]);
}

static void item_free(struct rp_store *s, struct item *it)
{
	if (it)
		items_free(s, &it, 1);
}

/* ---- the queue ---- */

static int64_t mono_ns(void)
{
	return rp_mono_ns();
}

static void log_ceiling(struct rp_store *s)
{
	int64_t now = mono_ns();
	pthread_mutex_lock(&s->q_mu);
	int due = !s->ceiling_logged || now - s->ceiling_logged >= CEILING_LOG_NS;
	if (due)
		s->ceiling_logged = now;
	pthread_mutex_unlock(&s->q_mu);
	if (due)
		rp_log(RP_LOG_ERROR,
		       "store=%s max_size=%" PRIu64 " dropped=%" PRIu64
		       " msg=\"corpus reached its size ceiling; new records are dropped\"",
		       s->path, s->max_size, atomic_load(&s->st.dropped_ceiling));
}

/* Hands |it| to the writer, or frees it.  0, RP_E_FULL, RP_E_CLOSED. */
static int queue_push(struct rp_store *s, struct item *it, unsigned flags)
{
	int rc = 0;
	pthread_mutex_lock(&s->q_mu);
	for (;;) {
		if (s->writer_stop) {
			rc = RP_E_CLOSED;
			goto out;
		}
		int full = s->q_n >= s->queue_len ||
			   (s->q_n && s->q_bytes + it->size > s->queue_bytes_max);
		if (!full)
			break;
		if (!(flags & RP_STORE_WAIT)) {
			rc = RP_E_FULL;
			goto out;
		}
		s->q_full_waiters++;
		pthread_cond_wait(&s->q_nonfull, &s->q_mu);
		s->q_full_waiters--;
	}
	it->seq = ++s->seq_pushed;
	it->enq_mono = mono_ns();
	it->next = NULL;
	if (s->q_tail)
		s->q_tail->next = it;
	else
		s->q_head = it;
	s->q_tail = it;
	s->q_n++;
	atomic_store_explicit(&s->q_depth, s->q_n, memory_order_relaxed);
	s->q_bytes += it->size;
	if (it->urgent)
		s->q_urgent++;
	/* Wake the writer only when it has something to act on: the first
	 * item (it then starts its batch clock), a full batch, or an urgent
	 * item.  Waking it per record would cost a futex call per put. */
	if (s->q_n >= s->q_want || it->urgent)
		pthread_cond_signal(&s->q_nonempty);
	it = NULL;
out:
	pthread_mutex_unlock(&s->q_mu);
	item_free(s, it);
	return rc;
}

static int queue_looks_full(struct rp_store *s)
{
	return atomic_load_explicit(&s->q_depth, memory_order_relaxed) >= s->queue_len;
}

/* ---- producers ---- */

/* Decides how |body| is stored.  Hashes it; a body the cache knows to be
 * stored becomes a bare reference; a small body met for the first time
 * stays inline (|ref|->present left 0); any other is compressed into
 * |frame| and referenced.  0 or RP_E_LIMIT. */
static int prepare_body(struct rp_store *s, struct wctx *c, struct rp_slice body,
			struct rp_buf *frame, struct rp_record_body_ref *ref)
{
	unsigned dlen = 0;
	uint8_t digest[RP_DIGEST_LEN];
	rp_buf_clear(frame);
	if (body.n > RP_LIMIT_BODY_DECODED)
		return RP_E_LIMIT;
	int memo = body.n >= BMEMO_MIN && body.n <= BMEMO_MAX;
	uint64_t key = memo ? bmemo_key(body) : 0;
	if (!memo || !bmemo_get(s, body, key, digest)) {
		if (!EVP_DigestInit_ex(c->md, s->sha256, NULL) ||
		    !EVP_DigestUpdate(c->md, body.p, body.n) ||
		    !EVP_DigestFinal_ex(c->md, digest, &dlen) || dlen != RP_DIGEST_LEN)
			rp_oom(); /* SHA-256 over memory fails only when allocation does */
		if (memo)
			bmemo_put(s, body, key, digest);
	}
	int known = dcache_get(s, digest);
	if (body.n < SHARE_BODY_MIN && known == DC_NONE) {
		dcache_set(s, digest, DC_SEEN);
		return 0;
	}
	memcpy(ref->digest, digest, RP_DIGEST_LEN);
	ref->present = 1;
	ref->len = body.n;
	if (known == DC_STORED)
		return 0;
	size_t bound = ZSTD_compressBound(body.n);
	if (rp_buf_reserve(frame, bound))
		return RP_E_LIMIT;
	size_t n = ZSTD_compress2(c->cctx, frame->base + frame->wr, bound, body.p, body.n);
	if (ZSTD_isError(n)) {
		rp_log(RP_LOG_ERROR, "store=%s op=compress err=\"%s\"", s->path,
		       ZSTD_getErrorName(n));
		return RP_E_LIMIT;
	}
	rp_buf_commit(frame, n);
	return 0;
}

int rp_store_put(struct rp_store *s, const struct rp_exchange *x, unsigned flags, uint64_t *id)
{
	struct wctx *c = NULL;
	struct item *it = NULL;
	struct rp_record_body_ref refs[2];
	struct rp_record_opts ropts = {{NULL, NULL}};
	const struct rp_message *msgs[2];
	int rc;
	if (!s || !x)
		return RP_E_USAGE;
	if (s->readonly)
		return RP_E_USAGE;
	if (atomic_load_explicit(&s->closing, memory_order_relaxed))
		return RP_E_CLOSED;
	if (atomic_load_explicit(&s->at_ceiling, memory_order_relaxed)) {
		atomic_fetch_add(&s->st.dropped_ceiling, 1);
		log_ceiling(s);
		return RP_E_FULL;
	}
	/* Refuse before doing the hashing and compressing for nothing. */
	if (!(flags & RP_STORE_WAIT) && queue_looks_full(s)) {
		atomic_fetch_add(&s->st.dropped_full, 1);
		return RP_E_FULL;
	}
	c = wctx_get(s);
	msgs[RP_BODY_REQ] = &x->req.m;
	msgs[RP_BODY_RESP] = &x->resp.m;
	unsigned ninline = 0;
	for (int i = 0; i < 2; i++) {
		memset(&refs[i], 0, sizeof(refs[i]));
		rp_buf_clear(&c->frame[i]);
		if (msgs[i]->body.n > INLINE_BODY_MAX &&
		    (rc = prepare_body(s, c, msgs[i]->body, &c->frame[i], &refs[i])))
			goto out;
		if (refs[i].present)
			ropts.refs[i] = &refs[i];
		else
			ninline += msgs[i]->body.n > 0;
	}
	struct rp_exchange tmp = *x;
	tmp.id = atomic_fetch_add(&s->next_id, 1);
	rp_buf_clear(&c->rec);
	if ((rc = rp_record_encode(&tmp, &ropts, &c->rec)))
		goto out;

	size_t rec_len = rp_buf_len(&c->rec);
	size_t f0 = rp_buf_len(&c->frame[0]), f1 = rp_buf_len(&c->frame[1]);
	it = item_new(s, ITEM_EXCHANGE, KEY_LEN + rec_len + f0 + f1);
	it->id = tmp.id;
	it->ninline = ninline;
	it->key_off = 0;
	it->key_len = KEY_LEN;
	rp_store_key(it->data, x->t.req_start, tmp.id);
	it->val_off = KEY_LEN;
	it->val_len = rec_len;
	memcpy(it->data + it->val_off, c->rec.base + c->rec.rd, rec_len);
	size_t off = KEY_LEN + rec_len;
	for (int i = 0; i < 2; i++) {
		if (!refs[i].present)
			continue;
		struct item_body *b = &it->bodies[it->nbodies++];
		memcpy(b->digest, refs[i].digest, RP_DIGEST_LEN);
		b->raw_len = refs[i].len;
		b->frame_off = off;
		b->frame_len = rp_buf_len(&c->frame[i]);
		if (b->frame_len) /* empty when the body is already stored (base may be NULL) */
			memcpy(it->data + off, c->frame[i].base + c->frame[i].rd, b->frame_len);
		off += b->frame_len;
	}
	wctx_put(s, c);
	c = NULL;
	uint64_t assigned = it->id;
	rc = queue_push(s, it, flags);
	it = NULL;
	if (rc == RP_E_FULL)
		atomic_fetch_add(&s->st.dropped_full, 1);
	if (rc == 0) {
		atomic_fetch_add(&s->st.queued, 1);
		if (id)
			*id = assigned;
	}
out:
	if (rc == RP_E_LIMIT)
		atomic_fetch_add(&s->st.dropped_error, 1);
	if (c)
		wctx_put(s, c);
	item_free(s, it);
	return rc;
}

int rp_store_put_conn(struct rp_store *s, const struct rp_conn *conn, unsigned flags)
{
	struct rp_buf b;
	struct item *it = NULL;
	int rc;
	if (!s || !conn || s->readonly)
		return RP_E_USAGE;
	if (atomic_load_explicit(&s->closing, memory_order_relaxed))
		return RP_E_CLOSED;
	if (atomic_load_explicit(&s->at_ceiling, memory_order_relaxed))
		return RP_E_FULL;
	rp_buf_init(&b, 8192);
	if ((rc = rp_store_conn_encode(conn, &b)))
		goto out;
	it = item_new(s, ITEM_CONN, 8 + rp_buf_len(&b));
	for (int i = 0; i < 8; i++)
		it->data[i] = (uint8_t)(conn->id >> (56 - 8 * i));
	it->key_len = 8;
	it->val_off = 8;
	it->val_len = rp_buf_len(&b);
	memcpy(it->data + 8, b.base + b.rd, it->val_len);
	rc = queue_push(s, it, flags);
	it = NULL;
out:
	rp_buf_dispose(&b);
	item_free(s, it);
	return rc;
}

static int reserved_key(const char *key)
{
	static const char *const keys[] = {META_SCHEMA,  META_TOOL_VERSION, META_CREATED_BY,
					   META_CREATED, META_NEXT_ID,      META_BODY_BYTES};
	for (size_t i = 0; i < RP_ARRAY_LEN(keys); i++)
		if (!strcmp(key, keys[i]))
			return 1;
	return 0;
}

int rp_store_meta_set(struct rp_store *s, const char *key, const char *value)
{
	if (!s || !key || !*key || !value || s->readonly || reserved_key(key))
		return RP_E_USAGE;
	size_t kn = strlen(key), vn = strlen(value);
	if (kn > META_KEY_MAX || vn > META_VALUE_MAX)
		return RP_E_LIMIT;
	struct item *it = item_new(s, ITEM_META, kn + vn);
	it->urgent = 1;
	it->key_len = kn;
	it->val_off = kn;
	it->val_len = vn;
	memcpy(it->data, key, kn);
	memcpy(it->data + kn, value, vn);
	return queue_push(s, it, RP_STORE_WAIT);
}

int rp_store_flush(struct rp_store *s)
{
	if (!s || s->readonly)
		return 0;
	int rc = 0;
	pthread_mutex_lock(&s->q_mu);
	uint64_t from = s->seq_done, target = s->seq_pushed;
	s->q_urgent++; /* the writer stops waiting for a full batch */
	pthread_cond_signal(&s->q_nonempty);
	while (s->seq_done < target && s->writer_started && !s->writer_exited)
		pthread_cond_wait(&s->q_done, &s->q_mu);
	s->q_urgent--;
	if (s->seq_failed > from && s->seq_failed <= target)
		rc = s->fail_err;
	pthread_mutex_unlock(&s->q_mu);
	return rc;
}

/* ---- the writer ---- */

/* Counts a batch adds, applied only once its transaction committed. */
struct batch_counts {
	uint64_t committed, bodies_new, bodies_dedup, bodies_inline, bytes_record,
		bytes_body_raw, bytes_body_stored;
	uint8_t last_key[KEY_LEN];
	uint64_t last_id, max_id, body_bytes;
};

static int put_u64_meta(struct rp_store *s, MDB_txn *txn, const char *key, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
	MDB_val k = {strlen(key), (void *)key}, val = {(size_t)n, buf};
	return mdb_put(txn, s->db_meta, &k, &val, 0);
}

static int by_key(const void *a, const void *b)
{
	const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;
	return memcmp(x->data + x->key_off, y->data + y->key_off, KEY_LEN);
}

static int by_id(const void *a, const void *b)
{
	const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Puts the bodies and the record of exchange |it|. */
static int put_exchange(struct rp_store *s, MDB_txn *txn, struct item *it, struct batch_counts *bc)
{
	int rc;
	for (unsigned b = 0; b < it->nbodies; b++) {
		struct item_body *body = &it->bodies[b];
		if (!body->frame_len) { /* the cache knew it */
			bc->bodies_dedup++;
			continue;
		}
		MDB_val bk = {RP_DIGEST_LEN, body->digest};
		MDB_val bv = {body->frame_len, it->data + body->frame_off};
		rc = mdb_put(txn, s->db_bodies, &bk, &bv, MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST) {
			bc->bodies_dedup++;
			continue;
		}
		if (rc)
			return rc;
		bc->bodies_new++;
		bc->bytes_body_raw += body->raw_len;
		bc->bytes_body_stored += body->frame_len;
		bc->body_bytes += body->frame_len;
	}
	MDB_val k = {KEY_LEN, it->data + it->key_off}, v = {it->val_len, it->data + it->val_off};
	if (memcmp(k.mv_data, bc->last_key, KEY_LEN) > 0) {
		rc = mdb_put(txn, s->db_exchanges, &k, &v, MDB_APPEND);
		memcpy(bc->last_key, k.mv_data, KEY_LEN);
	} else {
		rc = mdb_put(txn, s->db_exchanges, &k, &v, 0);
	}
	if (rc)
		return rc;
	bc->bodies_inline += it->ninline;
	bc->max_id = RP_MAX(bc->max_id, it->id);
	bc->committed++;
	bc->bytes_record += it->val_len;
	return 0;
}

static int put_id(struct rp_store *s, MDB_txn *txn, struct item *it, struct batch_counts *bc)
{
	uint8_t idk[8];
	for (int j = 0; j < 8; j++)
		idk[j] = (uint8_t)(it->id >> (56 - 8 * j));
	MDB_val ik = {8, idk}, iv = {KEY_LEN, it->data + it->key_off};
	if (it->id > bc->last_id) {
		bc->last_id = it->id;
		return mdb_put(txn, s->db_ids, &ik, &iv, MDB_APPEND);
	}
	return mdb_put(txn, s->db_ids, &ik, &iv, 0);
}

/* Writes |items| in one transaction and commits.  Exchanges go in key
 * order and ids in id order: producers finish out of order and requests
 * end out of order, and sorted keys let most puts append (full pages, no
 * search) where arrival order would split pages in the middle.  Returns 0
 * or the raw LMDB code (translated by the caller, the one place that
 * decides). */
static int txn_write(struct rp_store *s, struct item **items, size_t n, struct batch_counts *bc)
{
	MDB_txn *txn;
	struct item **ex = s->sort_buf;
	size_t nex = 0;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc)
		return rc;
	memset(bc, 0, sizeof(*bc));
	memcpy(bc->last_key, s->last_key, KEY_LEN);
	bc->last_id = s->last_id;
	bc->body_bytes = s->body_bytes;
	for (size_t i = 0; i < n; i++) {
		struct item *it = items[i];
		MDB_val k = {it->key_len, it->data + it->key_off};
		MDB_val v = {it->val_len, it->data + it->val_off};
		if (it->kind == ITEM_EXCHANGE)
			ex[nex++] = it;
		else if ((rc = mdb_put(txn, it->kind == ITEM_CONN ? s->db_conns : s->db_meta, &k,
				       &v, 0)))
			goto out;
	}
	qsort(ex, nex, sizeof(*ex), by_key);
	for (size_t i = 0; i < nex; i++)
		if ((rc = put_exchange(s, txn, ex[i], bc)))
			goto out;
	qsort(ex, nex, sizeof(*ex), by_id);
	for (size_t i = 0; i < nex; i++)
		if ((rc = put_id(s, txn, ex[i], bc)))
			goto out;
	if (bc->max_id >= s->stored_next_id &&
	    (rc = put_u64_meta(s, txn, META_NEXT_ID, bc->max_id + 1)))
		goto out;
	if (bc->body_bytes != s->body_bytes &&
	    (rc = put_u64_meta(s, txn, META_BODY_BYTES, bc->body_bytes)))
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
out:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

static void apply_counts(struct rp_store *s, const struct batch_counts *bc)
{
	memcpy(s->last_key, bc->last_key, KEY_LEN);
	s->last_id = bc->last_id;
	s->body_bytes = bc->body_bytes;
	if (bc->max_id >= s->stored_next_id)
		s->stored_next_id = bc->max_id + 1;
	atomic_fetch_add(&s->st.committed, bc->committed);
	atomic_fetch_add(&s->st.bodies_new, bc->bodies_new);
	atomic_fetch_add(&s->st.bodies_dedup, bc->bodies_dedup);
	atomic_fetch_add(&s->st.bodies_inline, bc->bodies_inline);
	atomic_fetch_add(&s->st.bytes_record, bc->bytes_record);
	atomic_fetch_add(&s->st.bytes_body_raw, bc->bytes_body_raw);
	atomic_fetch_add(&s->st.bytes_body_stored, bc->bytes_body_stored);
}

/* Doubles the map, capped at max_size.  0, or RP_E_FULL at the ceiling. */
static int grow_map(struct rp_store *s)
{
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	uint64_t cur = info.me_mapsize;
	if (cur >= s->max_size)
		return RP_E_FULL;
	uint64_t next = RP_MIN(cur * 2, s->max_size) / s->page * s->page;
	if (next <= cur)
		return RP_E_FULL;
	int rc = rp_store_remap(s, next);
	if (rc)
		return rc;
	rp_log(RP_LOG_INFO, "store=%s op=grow map_size=%" PRIu64 " max_size=%" PRIu64, s->path,
	       next, s->max_size);
	return 0;
}

/* Drops |items| for |err|, counting the exchanges among them. */
static void drop(struct rp_store *s, struct item **items, size_t n, int err)
{
	uint64_t exchanges = 0;
	for (size_t i = 0; i < n; i++)
		exchanges += items[i]->kind == ITEM_EXCHANGE;
	if (err == RP_E_FULL)
		atomic_fetch_add(&s->st.dropped_ceiling, exchanges);
	else
		atomic_fetch_add(&s->st.dropped_error, exchanges);
	pthread_mutex_lock(&s->q_mu);
	s->seq_failed = RP_MAX(s->seq_failed, items[n - 1]->seq);
	s->fail_err = err == RP_E_FULL ? RP_E_FULL : RP_E_STORE;
	pthread_mutex_unlock(&s->q_mu);
}

/* Writes |items|, growing the map as needed.  A transaction too large for
 * LMDB, or a map at its ceiling, splits the range so that whatever fits is
 * kept. */
static void write_range(struct rp_store *s, struct item **items, size_t n)
{
	struct batch_counts bc;
	int rc = MDB_MAP_FULL;
	while (rc == MDB_MAP_FULL) {
		if (atomic_load(&s->at_ceiling)) {
			drop(s, items, n, RP_E_FULL);
			return;
		}
		rc = txn_write(s, items, n, &bc);
		if (rc == 0) {
			apply_counts(s, &bc);
			dcache_add(s, items, n);
			return;
		}
		if (rc != MDB_MAP_FULL)
			break;
		int g = grow_map(s);
		if (g == RP_E_FULL && n == 1) {
			atomic_store(&s->at_ceiling, 1);
			log_ceiling(s);
		} else if (g == RP_E_FULL) {
			break; /* at the ceiling: keep whatever part of it fits */
		} else if (g) {
			drop(s, items, n, RP_E_STORE);
			return;
		}
	}
	if ((rc == MDB_MAP_FULL || rc == MDB_TXN_FULL) && n > 1) {
		write_range(s, items, n / 2);
		write_range(s, items + n / 2, n - n / 2);
		return;
	}
	rp_store_mdb_err(s, rc, "write batch");
	drop(s, items, n, RP_E_STORE);
}

static void deadline_ts(int64_t mono, struct timespec *ts)
{
	ts->tv_sec = (time_t)(mono / 1000000000);
	ts->tv_nsec = (long)(mono % 1000000000);
}

static void *writer_main(void *arg)
{
	struct rp_store *s = arg;
	struct item **batch = rp_xmalloc(s->batch_count * sizeof(*batch));
	pthread_mutex_lock(&s->q_mu);
	for (;;) {
		while (!s->q_head && !s->writer_stop) {
			s->q_want = 1;
			pthread_cond_wait(&s->q_nonempty, &s->q_mu);
		}
		if (!s->q_head)
			break; /* stopping, and everything is written */
		/* Fill the batch until it is full, its oldest record has
		 * waited batch_ms, or someone wants it now. */
		int64_t deadline = s->q_head->enq_mono + (int64_t)s->batch_ms * 1000000;
		while (s->q_n < s->batch_count && s->q_bytes < BATCH_BYTES && !s->q_urgent &&
		       !s->writer_stop && mono_ns() < deadline) {
			struct timespec ts;
			deadline_ts(deadline, &ts);
			s->q_want = s->batch_count;
			pthread_cond_timedwait(&s->q_nonempty, &s->q_mu, &ts);
		}
		s->q_want = 1;
		size_t n = 0, bytes = 0;
		while (s->q_head && n < s->batch_count && (n == 0 || bytes < BATCH_BYTES)) {
			struct item *it = s->q_head;
			s->q_head = it->next;
			if (!s->q_head)
				s->q_tail = NULL;
			s->q_n--;
			s->q_bytes -= it->size;
			atomic_store_explicit(&s->q_depth, s->q_n, memory_order_relaxed);
			if (it->urgent)
				s->q_urgent--;
			bytes += it->size;
			batch[n++] = it;
		}
		if (s->q_full_waiters)
			pthread_cond_broadcast(&s->q_nonfull);
		pthread_mutex_unlock(&s->q_mu);

		write_range(s, batch, n);
		uint64_t last = batch[n - 1]->seq;
		items_free(s, batch, n);

		pthread_mutex_lock(&s->q_mu);
		s->seq_done = last;
		pthread_cond_broadcast(&s->q_done);
	}
	s->writer_exited = 1;
	pthread_cond_broadcast(&s->q_done);
	pthread_cond_broadcast(&s->q_nonfull);
	pthread_mutex_unlock(&s->q_mu);
	free(batch);
	return NULL;
}

int rp_store_writer_start(struct rp_store *s)
{
	s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!s->sha256) {
		rp_log(RP_LOG_ERROR, "store=%s msg=\"OpenSSL has no SHA256\"", s->path);
		return RP_E_STORE;
	}
	s->bmemo = rp_xcalloc(BMEMO_SLOTS, sizeof(*s->bmemo));
	s->dcache = rp_xcalloc(DCACHE_SLOTS, RP_DIGEST_LEN);
	s->dcache_state = rp_xcalloc(DCACHE_SLOTS, 1);
	s->sort_buf = rp_xcalloc(s->batch_count, sizeof(*s->sort_buf));
	s->q_want = 1;
	int rc = pthread_create(&s->writer, NULL, writer_main, s);
	if (rc) {
		rp_log(RP_LOG_ERROR, "store=%s op=\"start writer\" err=%d", s->path, rc);
		return RP_E_STORE;
	}
	pthread_setname_np(s->writer, "rp-store"); /* top -H, perf */
	s->writer_started = 1;
	return 0;
}

void rp_store_writer_stop(struct rp_store *s)
{
	atomic_store(&s->closing, 1);
	pthread_mutex_lock(&s->q_mu);
	s->writer_stop = 1;
	pthread_cond_broadcast(&s->q_nonempty);
	pthread_cond_broadcast(&s->q_nonfull);
	pthread_mutex_unlock(&s->q_mu);
	pthread_join(s->writer, NULL);
	s->writer_started = 0;
}
