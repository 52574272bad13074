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
 * statistics count a record once, when its fate is known; a digest enters the
 * producers' cache only after the transaction that stored it committed, so
 * a body is never referenced without being stored; on MDB_MAP_FULL the
 * transaction is aborted (nothing half-written) and retried on a doubled
 * map, and once the map is at max_size the store refuses new records.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
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

static struct wctx *wctx_get(struct rp_store *s)
{
	pthread_mutex_lock(&s->ctx_mu);
	struct wctx *c = s->wctx_free;
	if (c)
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
	pthread_mutex_lock(&s->ctx_mu);
	c->next = s->wctx_free;
	s->wctx_free = c;
	pthread_mutex_unlock(&s->ctx_mu);
}

void rp_store_write_dispose(struct rp_store *s)
{
	while (s->wctx_free) {
		struct wctx *c = s->wctx_free;
		s->wctx_free = c->next;
		ZSTD_freeCCtx(c->cctx);
		EVP_MD_CTX_free(c->md);
		rp_buf_dispose(&c->rec);
		rp_buf_dispose(&c->frame[0]);
		rp_buf_dispose(&c->frame[1]);
		free(c);
	}
	EVP_MD_free(s->sha256);
	s->sha256 = NULL;
	free(s->dcache);
	free(s->dcache_used);
	s->dcache = NULL;
	s->dcache_used = NULL;
}

/* ---- committed-digest cache ---- */

static size_t dcache_slot(const uint8_t *digest)
{
	uint32_t h;
	memcpy(&h, digest, sizeof(h)); /* a digest is already uniformly spread */
	return h & (DCACHE_SLOTS - 1);
}

static int dcache_has(struct rp_store *s, const uint8_t *digest)
{
	size_t i = dcache_slot(digest);
	pthread_mutex_lock(&s->dcache_mu);
	int hit = s->dcache_used[i] && !memcmp(s->dcache[i], digest, RP_DIGEST_LEN);
	pthread_mutex_unlock(&s->dcache_mu);
	return hit;
}

/* Remembers the bodies of |items| (just committed). */
static void dcache_add(struct rp_store *s, struct item **items, size_t n)
{
	pthread_mutex_lock(&s->dcache_mu);
	for (size_t k = 0; k < n; k++)
		for (unsigned b = 0; b < items[k]->nbodies; b++) {
			const uint8_t *d = items[k]->bodies[b].digest;
			size_t i = dcache_slot(d);
			memcpy(s->dcache[i], d, RP_DIGEST_LEN);
			s->dcache_used[i] = 1;
		}
	pthread_mutex_unlock(&s->dcache_mu);
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
	free(it);
	return rc;
}

static int queue_looks_full(struct rp_store *s)
{
	pthread_mutex_lock(&s->q_mu);
	int full = s->q_n >= s->queue_len;
	pthread_mutex_unlock(&s->q_mu);
	return full;
}

static struct item *item_new(enum item_kind kind, size_t data_len)
{
	size_t size = sizeof(struct item) + data_len;
	struct item *it = rp_xmalloc(size);
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->size = size;
	return it;
}

/* ---- producers ---- */

/* Hashes |body| and, unless the digest is known to be stored, compresses it
 * into |frame|.  Fills |ref|.  0 or RP_E_LIMIT. */
static int prepare_body(struct rp_store *s, struct wctx *c, struct rp_slice body,
			struct rp_buf *frame, struct rp_record_body_ref *ref)
{
	unsigned dlen = 0;
	rp_buf_clear(frame);
	if (body.n > RP_LIMIT_BODY_DECODED)
		return RP_E_LIMIT;
	if (!EVP_DigestInit_ex(c->md, s->sha256, NULL) ||
	    !EVP_DigestUpdate(c->md, body.p, body.n) ||
	    !EVP_DigestFinal_ex(c->md, ref->digest, &dlen) || dlen != RP_DIGEST_LEN)
		rp_oom(); /* SHA-256 over memory fails only when allocation does */
	ref->present = 1;
	ref->len = body.n;
	if (dcache_has(s, ref->digest))
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
	for (int i = 0; i < 2; i++) {
		memset(&refs[i], 0, sizeof(refs[i]));
		rp_buf_clear(&c->frame[i]);
		if (msgs[i]->body.n <= INLINE_BODY_MAX)
			continue;
		if ((rc = prepare_body(s, c, msgs[i]->body, &c->frame[i], &refs[i])))
			goto out;
		ropts.refs[i] = &refs[i];
	}
	struct rp_exchange tmp = *x;
	tmp.id = atomic_fetch_add(&s->next_id, 1);
	rp_buf_clear(&c->rec);
	if ((rc = rp_record_encode(&tmp, &ropts, &c->rec)))
		goto out;

	size_t rec_len = rp_buf_len(&c->rec);
	size_t f0 = rp_buf_len(&c->frame[0]), f1 = rp_buf_len(&c->frame[1]);
	it = item_new(ITEM_EXCHANGE, KEY_LEN + rec_len + f0 + f1);
	it->id = tmp.id;
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
	free(it);
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
	it = item_new(ITEM_CONN, 8 + rp_buf_len(&b));
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
	free(it);
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
	struct item *it = item_new(ITEM_META, kn + vn);
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
	uint64_t committed, bodies_new, bodies_dedup, bytes_record, bytes_body_raw,
		bytes_body_stored;
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

/* Writes |items| in one transaction and commits.  Returns 0 or the raw
 * LMDB code (translated by the caller, the one place that decides). */
static int txn_write(struct rp_store *s, struct item **items, size_t n, struct batch_counts *bc)
{
	MDB_txn *txn;
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
		switch (it->kind) {
		case ITEM_EXCHANGE:
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
					goto out;
				bc->bodies_new++;
				bc->bytes_body_raw += body->raw_len;
				bc->bytes_body_stored += body->frame_len;
				bc->body_bytes += body->frame_len;
			}
			/* Keys mostly arrive in order: appending skips the
			 * search and fills pages instead of splitting them. */
			if (memcmp(it->data + it->key_off, bc->last_key, KEY_LEN) > 0) {
				rc = mdb_put(txn, s->db_exchanges, &k, &v, MDB_APPEND);
				memcpy(bc->last_key, it->data + it->key_off, KEY_LEN);
			} else {
				rc = mdb_put(txn, s->db_exchanges, &k, &v, 0);
			}
			if (rc)
				goto out;
			{
				uint8_t idk[8];
				for (int j = 0; j < 8; j++)
					idk[j] = (uint8_t)(it->id >> (56 - 8 * j));
				MDB_val ik = {8, idk};
				MDB_val iv = k;
				if (it->id > bc->last_id) {
					rc = mdb_put(txn, s->db_ids, &ik, &iv, MDB_APPEND);
					bc->last_id = it->id;
				} else {
					rc = mdb_put(txn, s->db_ids, &ik, &iv, 0);
				}
				if (rc)
					goto out;
			}
			bc->max_id = RP_MAX(bc->max_id, it->id);
			bc->committed++;
			bc->bytes_record += it->val_len;
			break;
		case ITEM_CONN:
			if ((rc = mdb_put(txn, s->db_conns, &k, &v, 0)))
				goto out;
			break;
		case ITEM_META:
			if ((rc = mdb_put(txn, s->db_meta, &k, &v, 0)))
				goto out;
			break;
		}
	}
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
	if (atomic_load(&s->at_ceiling)) {
		drop(s, items, n, RP_E_FULL);
		return;
	}
	for (;;) {
		int rc = txn_write(s, items, n, &bc);
		if (rc == 0) {
			apply_counts(s, &bc);
			dcache_add(s, items, n);
			return;
		}
		if (rc == MDB_MAP_FULL) {
			int g = grow_map(s);
			if (g == 0)
				continue;
			if (g == RP_E_FULL && n > 1)
				goto split;
			if (g == RP_E_FULL) {
				atomic_store(&s->at_ceiling, 1);
				drop(s, items, n, RP_E_FULL);
				log_ceiling(s);
				return;
			}
			drop(s, items, n, RP_E_STORE);
			return;
		}
		if (rc == MDB_TXN_FULL && n > 1)
			goto split;
		rp_store_mdb_err(s, rc, "write batch");
		drop(s, items, n, RP_E_STORE);
		return;
	}
split:
	write_range(s, items, n / 2);
	write_range(s, items + n / 2, n - n / 2);
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
		for (size_t i = 0; i < n; i++)
			free(batch[i]);

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
	s->dcache = rp_xcalloc(DCACHE_SLOTS, RP_DIGEST_LEN);
	s->dcache_used = rp_xcalloc(DCACHE_SLOTS, 1);
	s->q_want = 1;
	int rc = pthread_create(&s->writer, NULL, writer_main, s);
	if (rc) {
		rp_log(RP_LOG_ERROR, "store=%s op=\"start writer\" err=%d", s->path, rc);
		return RP_E_STORE;
	}
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
