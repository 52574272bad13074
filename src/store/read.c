/*
 * read: exchanges and connections out of the corpus — iteration in time
 * order, lookup by id through `ids`, bodies fetched from `bodies` and
 * decompressed into the exchange's pool.  Invariants: nothing returned
 * points into the LMDB map (records are copied into the exchange's pool
 * before they are decoded, so an exchange outlives the transaction it came
 * from); a read transaction is held only inside one call; a body is handed
 * out only when its zstd frame checks out (checksum, and exactly the length
 * the record promised, at most RP_LIMIT_BODY_DECODED).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store-int.h"

struct rp_store_iter {
	struct rp_store *s;
	MDB_txn *txn;     /* reset between calls */
	MDB_cursor *cur;
	unsigned flags;
	int64_t from_ns;
	int started;      /* |last| is valid */
	int done;
	uint8_t last[KEY_LEN];
	uint64_t lens[2];
};

/* Fetches and decompresses the body |ref| into |m| (in |pool|). */
static int fetch_body(struct rp_store *s, MDB_txn *txn, uint64_t id,
		      const struct rp_record_body_ref *ref, struct rp_pool *pool,
		      struct rp_message *m, const char **why)
{
	char hex[2 * RP_DIGEST_LEN + 1];
	MDB_val k = {RP_DIGEST_LEN, (void *)ref->digest}, v;
	int rc = mdb_get(txn, s->db_bodies, &k, &v);
	if (rc == MDB_NOTFOUND) {
		rp_hex(ref->digest, 8, hex);
		*why = rp_store_why("exchange %" PRIu64 ": body %s… is missing from the corpus",
				    id, hex);
		return RP_E_FORMAT;
	}
	if (rc) {
		rc = rp_store_mdb_err(s, rc, "read body");
		*why = rp_store_why("exchange %" PRIu64 ": cannot read its body", id);
		return rc;
	}
	if (!rp_store_in_map(s, v.mv_data, v.mv_size)) {
		rp_hex(ref->digest, 8, hex);
		*why = rp_store_why("exchange %" PRIu64 ": body %s… is corrupt (bad size)", id, hex);
		return RP_E_FORMAT;
	}
	unsigned long long size = ZSTD_getFrameContentSize(v.mv_data, v.mv_size);
	if (size != ref->len || ref->len > RP_LIMIT_BODY_DECODED) {
		rp_hex(ref->digest, 8, hex);
		*why = rp_store_why("exchange %" PRIu64 ": body %s… is corrupt (size %llu, record "
				    "says %" PRIu64 ")",
				    id, hex, size, ref->len);
		return RP_E_FORMAT;
	}
	uint8_t *p = rp_pool_alloc(pool, ref->len ? ref->len : 1);
	struct rctx *c = rp_store_rctx_get(s);
	size_t n = ZSTD_decompressDCtx(c->dctx, p, ref->len, v.mv_data, v.mv_size);
	rp_store_rctx_put(s, c);
	if (ZSTD_isError(n) || n != ref->len) {
		rp_hex(ref->digest, 8, hex);
		*why = rp_store_why("exchange %" PRIu64 ": body %s… is corrupt (%s)", id, hex,
				    ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short");
		return RP_E_FORMAT;
	}
	m->body = rp_slice(p, n);
	return 0;
}

/* Decodes the record |val| stored under |key| into a new exchange. */
static int decode(struct rp_store *s, MDB_txn *txn, MDB_val key, MDB_val val, unsigned flags,
		  uint64_t lens[2], struct rp_exchange **out, const char **why)
{
	struct rp_record_body_ref refs[2];
	struct rp_exchange *x = rp_exchange_new();
	uint64_t id = key.mv_size == KEY_LEN ? rp_store_be64((const uint8_t *)key.mv_data + 8) : 0;
	const char *rwhy = NULL;
	int rc;
	*out = NULL;
	lens[0] = lens[1] = 0;
	if (key.mv_size != KEY_LEN || !rp_store_in_map(s, key.mv_data, key.mv_size)) {
		*why = rp_store_why("corrupt corpus: an exchanges key of %zu bytes", key.mv_size);
		rc = RP_E_FORMAT;
		goto out;
	}
	if (val.mv_size > RP_LIMIT_RECORD || !rp_store_in_map(s, val.mv_data, val.mv_size)) {
		*why = rp_store_why("exchange %" PRIu64 ": corrupt record (%zu bytes%s)", id,
				    val.mv_size, val.mv_size > RP_LIMIT_RECORD ? ", over the limit" : "");
		rc = RP_E_FORMAT;
		goto out;
	}
	/* The map goes away with the transaction; the exchange must not. */
	struct rp_slice rec = rp_pool_dup(x->pool, rp_slice(val.mv_data, val.mv_size));
	memset(refs, 0, sizeof(refs));
	rc = rp_record_decode(rec, x, refs, &rwhy);
	if (rc) {
		*why = rp_store_why("exchange %" PRIu64 ": %s", id,
				    rwhy ? rwhy : "record does not decode");
		rc = rc == RP_E_VERSION ? RP_E_VERSION : RP_E_FORMAT;
		goto out;
	}
	x->id = id;
	struct rp_message *msgs[2] = {&x->req.m, &x->resp.m};
	for (int i = 0; i < 2; i++) {
		if (!refs[i].present) {
			lens[i] = msgs[i]->body.n;
			if (flags & RP_STORE_NO_BODIES)
				msgs[i]->body = rp_slice("", 0);
			continue;
		}
		lens[i] = refs[i].len;
		msgs[i]->body = rp_slice("", 0);
		if (flags & RP_STORE_NO_BODIES)
			continue;
		if ((rc = fetch_body(s, txn, id, &refs[i], x->pool, msgs[i], why)))
			goto out;
	}
	*out = x;
	x = NULL;
	rc = 0;
out:
	rp_exchange_free(x);
	return rc;
}

int rp_store_iter_new(struct rp_store *s, int64_t from_ns, unsigned flags,
		      struct rp_store_iter **out)
{
	struct rp_store_iter *it = rp_xcalloc(1, sizeof(*it));
	it->s = s;
	it->flags = flags;
	it->from_ns = from_ns;
	int rc = rp_store_read_begin(s, &it->txn);
	if (rc)
		goto out;
	rc = mdb_cursor_open(it->txn, s->db_exchanges, &it->cur);
	if (rc) {
		rp_store_read_end(s, it->txn);
		it->txn = NULL;
		rc = rp_store_mdb_err(s, rc, "open cursor");
		goto out;
	}
	rp_store_read_pause(s, it->txn);
	*out = it;
	it = NULL;
out:
	free(it);
	return rc;
}

/* Puts the cursor on the first key after the last one returned. */
static int seek(struct rp_store_iter *it, MDB_val *k, MDB_val *v)
{
	uint8_t key[KEY_LEN];
	if (it->started)
		memcpy(key, it->last, KEY_LEN);
	else
		rp_store_key(key, it->from_ns, 0);
	k->mv_size = KEY_LEN;
	k->mv_data = key;
	int rc = mdb_cursor_get(it->cur, k, v, MDB_SET_RANGE);
	if (rc == 0 && it->started && k->mv_size == KEY_LEN && !memcmp(k->mv_data, it->last, KEY_LEN))
		rc = mdb_cursor_get(it->cur, k, v, MDB_NEXT);
	return rc;
}

int rp_store_iter_next(struct rp_store_iter *it, struct rp_exchange **x, const char **why)
{
	const char *dummy;
	struct rp_store *s = it->s;
	MDB_val k, v;
	if (!why)
		why = &dummy;
	*why = "";
	*x = NULL;
	if (it->done)
		return RP_E_NOTFOUND;
	int rc = rp_store_read_renew(s, it->txn);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_renew(it->txn, it->cur))) {
		rc = rp_store_mdb_err(s, rc, "renew cursor");
		goto out;
	}
	rc = seek(it, &k, &v);
	if (rc == MDB_NOTFOUND) {
		it->done = 1;
		rc = RP_E_NOTFOUND;
		goto out;
	}
	if (rc) {
		/* the tree itself is damaged: there is no next to move on to */
		it->done = 1;
		rc = rp_store_mdb_err(s, rc, "walk exchanges");
		*why = rp_store_why("%s: cannot walk the exchanges (%s)", s->path,
				    rc == RP_E_FORMAT ? "corrupt corpus" : "store error");
		goto out;
	}
	if (k.mv_size == KEY_LEN && rp_store_in_map(s, k.mv_data, KEY_LEN)) {
		memcpy(it->last, k.mv_data, KEY_LEN);
		it->started = 1;
	} else {
		/* a key we cannot resume from: stop after reporting it */
		it->done = 1;
	}
	rc = decode(s, it->txn, k, v, it->flags, it->lens, x, why);
out:
	rp_store_read_pause(s, it->txn);
	return rc;
}

void rp_store_iter_body_lens(const struct rp_store_iter *it, uint64_t *req, uint64_t *resp)
{
	if (req)
		*req = it->lens[0];
	if (resp)
		*resp = it->lens[1];
}

void rp_store_iter_free(struct rp_store_iter *it)
{
	if (!it)
		return;
	if (it->cur)
		mdb_cursor_close(it->cur);
	if (it->txn)
		mdb_txn_abort(it->txn);
	free(it);
}

int rp_store_get(struct rp_store *s, uint64_t id, unsigned flags, struct rp_exchange **x,
		 const char **why)
{
	const char *dummy;
	MDB_txn *txn;
	uint8_t idk[8];
	uint64_t lens[2];
	if (!why)
		why = &dummy;
	*why = "";
	*x = NULL;
	for (int i = 0; i < 8; i++)
		idk[i] = (uint8_t)(id >> (56 - 8 * i));
	int rc = rp_store_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_val k = {8, idk}, key, val;
	rc = mdb_get(txn, s->db_ids, &k, &key);
	if (rc == 0) {
		rc = mdb_get(txn, s->db_exchanges, &key, &val);
		if (rc == MDB_NOTFOUND) {
			*why = rp_store_why("exchange %" PRIu64 ": listed in ids but not stored", id);
			rc = RP_E_FORMAT;
			goto out;
		}
	}
	if (rc == MDB_NOTFOUND) {
		*why = rp_store_why("exchange %" PRIu64 ": no such exchange", id);
		rc = RP_E_NOTFOUND;
		goto out;
	}
	if (rc) {
		rc = rp_store_mdb_err(s, rc, "read exchange");
		*why = rp_store_why("exchange %" PRIu64 ": cannot read it", id);
		goto out;
	}
	rc = decode(s, txn, key, val, flags, lens, x, why);
out:
	rp_store_read_end(s, txn);
	return rc;
}

int rp_store_get_conn(struct rp_store *s, uint64_t id, struct rp_pool *pool, struct rp_conn *c)
{
	MDB_txn *txn;
	uint8_t idk[8];
	for (int i = 0; i < 8; i++)
		idk[i] = (uint8_t)(id >> (56 - 8 * i));
	int rc = rp_store_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_val k = {8, idk}, v;
	rc = mdb_get(txn, s->db_conns, &k, &v);
	if (rc) {
		rc = rp_store_mdb_err(s, rc, "read connection");
		goto out;
	}
	rc = rp_store_in_map(s, v.mv_data, v.mv_size)
		     ? rp_store_conn_decode(rp_slice(v.mv_data, v.mv_size), pool, c)
		     : RP_E_FORMAT;
out:
	rp_store_read_end(s, txn);
	return rc;
}
