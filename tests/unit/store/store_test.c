/*
 * store_test: the corpus end to end — round trips in time order, lookup by
 * id, body dedup, ids across sessions, batching by count and by time, the
 * queue and size ceilings, refusing what is not a corpus (or is corrupt, or
 * newer), file modes, concurrent producers and readers while the map grows,
 * and a writer killed with SIGKILL.  Each test works in its own temporary
 * directory.  Raw LMDB is used only to build broken corpora.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../support/tmpdir.h"

#include "reprise/limits.h"
#include "reprise/store.h"

/* ---- helpers ---- */

static char tmpdir[256];

static int setup_dir(void **state)
{
	(void)state;
	return rp_test_tmpdir(tmpdir, sizeof(tmpdir), "store-test");
}

static int teardown_dir(void **state)
{
	(void)state;
	rp_test_rm_tree(tmpdir);
	return 0;
}

/* tmpdir/name */
static const char *sub(const char *name)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static struct rp_store *open_store(const char *path, struct rp_store_opts o)
{
	struct rp_store *s = NULL;
	const char *why = NULL;
	o.path = path;
	int rc = rp_store_open(&o, &s, &why);
	if (rc)
		fprintf(stderr, "open %s: %s (%s)\n", path, rp_err_name(rc), why);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	return s;
}

static struct rp_store *create_store(const char *path)
{
	return open_store(path, (struct rp_store_opts){.create = 1});
}

/* Deterministic pseudo-random bytes (xorshift). */
static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A JSON-ish body that depends on |seed| only, |len| bytes long. */
static char *make_body(uint64_t seed, size_t len)
{
	char *b = malloc(len + 1);
	size_t n = 0;
	while (n < len) {
		int m = snprintf(b + n, len + 1 - n, "{\"seed\":%" PRIu64 ",\"i\":%zu,\"k\":\"v%" PRIu64 "\"},",
				 seed, n, (seed * 2654435761u + n) % 100000);
		if (m < 0)
			break;
		n += (size_t)m;
	}
	b[len] = '\0';
	return b;
}

/* Builds exchange number |i| with request start |ts| and a response body
 * made from |seed| (|blen| bytes; 0 gives no body). */
static struct rp_exchange *make_exchange(unsigned i, int64_t ts, uint64_t seed, size_t blen)
{
	struct rp_exchange *x = rp_exchange_new();
	char buf[128];
	x->conn_id = 1000 + i / 4;
	x->conn_seq = i % 4;
	x->proto = RP_PROTO_H11;
	x->t.req_start = ts;
	x->t.req_end = ts ? ts + 10 : 0;
	x->t.resp_start = ts ? ts + 100 : 0;
	x->t.resp_end = ts ? ts + 200 : 0;
	x->client.family = 4;
	x->client.addr[0] = 127;
	x->client.addr[3] = 1;
	x->client.port = (uint16_t)(40000 + i % 1000);
	x->req.method = rp_pool_dup(x->pool, RP_SLICE_LIT("POST"));
	x->req.scheme = rp_pool_dup(x->pool, RP_SLICE_LIT("http"));
	x->req.authority = rp_pool_dup(x->pool, RP_SLICE_LIT("api.example"));
	snprintf(buf, sizeof(buf), "/v1/items/%u?x=%u", i, i * 3);
	x->req.target = rp_pool_dup(x->pool, rp_slice_str(buf));
	rp_headers_add(&x->req.m.headers, x->pool, RP_SLICE_LIT("Host"), RP_SLICE_LIT("api.example"));
	snprintf(buf, sizeof(buf), "req-%u", i);
	rp_headers_add(&x->req.m.headers, x->pool, RP_SLICE_LIT("X-Request-Id"), rp_slice_str(buf));
	snprintf(buf, sizeof(buf), "{\"item\":%u}", i);
	x->req.m.body = rp_pool_dup(x->pool, rp_slice_str(buf)); /* short: inline */
	x->resp.status = 200;
	x->resp.reason = rp_pool_dup(x->pool, RP_SLICE_LIT("OK"));
	rp_headers_add(&x->resp.m.headers, x->pool, RP_SLICE_LIT("Content-Type"),
		       RP_SLICE_LIT("application/json"));
	if (blen) {
		char *b = make_body(seed, blen);
		x->resp.m.body = rp_pool_dup(x->pool, rp_slice(b, blen));
		free(b);
	}
	return x;
}

static void assert_slice_eq(struct rp_slice a, struct rp_slice b)
{
	assert_int_equal(a.n, b.n);
	if (a.n)
		assert_memory_equal(a.p, b.p, a.n);
}

static void assert_headers_eq(const struct rp_headers *a, const struct rp_headers *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_slice_eq(a->v[i].name, b->v[i].name);
		assert_slice_eq(a->v[i].value, b->v[i].value);
	}
}

static void assert_exchange_eq(const struct rp_exchange *a, const struct rp_exchange *b,
			       int bodies)
{
	assert_int_equal(a->conn_id, b->conn_id);
	assert_int_equal(a->conn_seq, b->conn_seq);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->t.req_start, b->t.req_start);
	assert_int_equal(a->t.resp_end, b->t.resp_end);
	assert_int_equal(a->client.port, b->client.port);
	assert_slice_eq(a->req.method, b->req.method);
	assert_slice_eq(a->req.target, b->req.target);
	assert_slice_eq(a->req.authority, b->req.authority);
	assert_headers_eq(&a->req.m.headers, &b->req.m.headers);
	assert_headers_eq(&a->resp.m.headers, &b->resp.m.headers);
	assert_int_equal(a->resp.status, b->resp.status);
	assert_slice_eq(a->resp.reason, b->resp.reason);
	if (bodies) {
		assert_slice_eq(a->req.m.body, b->req.m.body);
		assert_slice_eq(a->resp.m.body, b->resp.m.body);
	} else {
		assert_int_equal(b->req.m.body.n, 0);
		assert_int_equal(b->resp.m.body.n, 0);
	}
}

static int key_cmp(int64_t ta, uint64_t ia, int64_t tb, uint64_t ib)
{
	if (ta != tb)
		return ta < tb ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/* Number of entries of named database |db| as `mdb_stat` reports it. */
static long mdb_stat_entries(const char *path, const char *db)
{
	char cmd[600], line[256];
	snprintf(cmd, sizeof(cmd), "mdb_stat -s %s %s 2>&1", db, path);
	FILE *f = popen(cmd, "r");
	long n = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " Entries: %ld", &n) == 1)
			break;
	pclose(f);
	return n;
}

/* ---- round trip, order, lookup ---- */

#define RT_N 600

static void test_roundtrip(void **state)
{
	(void)state;
	const char *path = sub("c");
	struct rp_store *s = create_store(path);
	struct rp_exchange *orig[RT_N];
	uint64_t ids[RT_N];
	const int64_t base = 1700000000000000000LL;
	int64_t max_ts = 0;
	for (unsigned i = 0; i < RT_N; i++) {
		/* shuffled times, five exchanges per timestamp, one unknown start */
		unsigned slot = (i * 7919u) % RT_N;
		int64_t ts = i == 17 ? 0 : base + (int64_t)(slot / 5) * 1000;
		orig[i] = make_exchange(i, ts, i, i % 3 ? 300 + i * 7 : 0);
		max_ts = RP_MAX(max_ts, ts);
		assert_int_equal(rp_store_put(s, orig[i], RP_STORE_WAIT, &ids[i]), 0);
		if (i)
			assert_true(ids[i] > ids[i - 1]);
	}
	assert_int_equal(rp_store_flush(s), 0);

	struct rp_store_stats st;
	rp_store_get_stats(s, &st);
	assert_int_equal(st.queued, RT_N);
	assert_int_equal(st.committed, RT_N);
	assert_int_equal(st.queue_depth, 0);

	/* every exchange once, in (time, id) order, equal to what went in */
	struct rp_store_iter *it;
	struct rp_exchange *x;
	const char *why;
	assert_int_equal(rp_store_iter_new(s, 0, 0, &it), 0);
	unsigned count = 0;
	int64_t pt = -1;
	uint64_t pid = 0;
	int rc;
	while ((rc = rp_store_iter_next(it, &x, &why)) == 0) {
		assert_true(x->id >= ids[0] && x->id <= ids[RT_N - 1]);
		unsigned i = (unsigned)(x->id - ids[0]);
		assert_int_equal(ids[i], x->id);
		assert_exchange_eq(orig[i], x, 1);
		if (count)
			assert_true(key_cmp(pt, pid, x->t.req_start, x->id) < 0);
		pt = x->t.req_start;
		pid = x->id;
		count++;
		rp_exchange_free(x);
	}
	assert_int_equal(rc, RP_E_NOTFOUND);
	assert_int_equal(count, RT_N);
	assert_int_equal(rp_store_iter_next(it, &x, &why), RP_E_NOTFOUND);
	rp_store_iter_free(it);

	/* from_ns starts in the middle, at the first exchange at or after it */
	int64_t from = base + 50 * 1000;
	assert_int_equal(rp_store_iter_new(s, from, RP_STORE_NO_BODIES, &it), 0);
	count = 0;
	while ((rc = rp_store_iter_next(it, &x, &why)) == 0) {
		assert_true(x->t.req_start >= from);
		unsigned i = (unsigned)(x->id - ids[0]);
		assert_exchange_eq(orig[i], x, 0);
		uint64_t lreq, lresp;
		rp_store_iter_body_lens(it, &lreq, &lresp);
		assert_int_equal(lreq, orig[i]->req.m.body.n);
		assert_int_equal(lresp, orig[i]->resp.m.body.n);
		count++;
		rp_exchange_free(x);
	}
	assert_int_equal(count, RT_N - 50 * 5);
	rp_store_iter_free(it);

	/* lookup by id */
	for (unsigned i = 0; i < RT_N; i += 37) {
		assert_int_equal(rp_store_get(s, ids[i], 0, &x, &why), 0);
		assert_int_equal(x->id, ids[i]);
		assert_exchange_eq(orig[i], x, 1);
		rp_exchange_free(x);
	}
	assert_int_equal(rp_store_get(s, ids[RT_N - 1] + 100, 0, &x, &why), RP_E_NOTFOUND);
	assert_null(x);

	struct rp_store_totals t;
	assert_int_equal(rp_store_totals(s, &t), 0);
	assert_int_equal(t.exchanges, RT_N);
	assert_int_equal(t.first_ns, 0);
	assert_int_equal(t.last_ns, max_ts);
	/* distinct, one per i % 3 != 0 of 1 KB or more; the smaller ones, each
	 * seen once, stay inline */
	unsigned shared = 0;
	for (unsigned i = 0; i < RT_N; i++)
		shared += i % 3 && 300 + i * 7 >= 1024;
	assert_int_equal(t.bodies, shared);
	assert_int_equal(st.bodies_new, shared);
	assert_int_equal(st.bodies_inline, RT_N /* request bodies */ + RT_N - RT_N / 3 - shared);
	assert_true(t.body_bytes_stored > 0 && t.map_used > 0);
	rp_store_close(s);
	for (unsigned i = 0; i < RT_N; i++)
		rp_exchange_free(orig[i]);
}

/* ---- dedup ---- */

static void test_dedup(void **state)
{
	(void)state;
	const char *path = sub("c");
	struct rp_store *s = create_store(path);
	for (unsigned i = 0; i < 1000; i++) {
		struct rp_exchange *x = make_exchange(i, 1000 + i, 42, 4000);
		assert_int_equal(rp_store_put(s, x, RP_STORE_WAIT, NULL), 0);
		rp_exchange_free(x);
	}
	assert_int_equal(rp_store_flush(s), 0);
	struct rp_store_stats st;
	rp_store_get_stats(s, &st);
	assert_int_equal(st.committed, 1000);
	assert_int_equal(st.bodies_new, 1);
	assert_int_equal(st.bodies_dedup, 999);
	assert_int_equal(st.bytes_body_raw, 4000);
	assert_true(st.bytes_body_stored > 0 && st.bytes_body_stored < 4000);
	struct rp_store_totals t;
	assert_int_equal(rp_store_totals(s, &t), 0);
	assert_int_equal(t.bodies, 1);
	assert_int_equal(t.exchanges, 1000);
	assert_int_equal(t.body_bytes_stored, st.bytes_body_stored);

	/* every exchange still reads back its (shared) body */
	struct rp_store_iter *it;
	struct rp_exchange *x;
	char *want = make_body(42, 4000);
	assert_int_equal(rp_store_iter_new(s, 0, 0, &it), 0);
	unsigned n = 0;
	while (rp_store_iter_next(it, &x, NULL) == 0) {
		assert_int_equal(x->resp.m.body.n, 4000);
		assert_memory_equal(x->resp.m.body.p, want, 4000);
		rp_exchange_free(x);
		n++;
	}
	assert_int_equal(n, 1000);
	rp_store_iter_free(it);
	free(want);
	rp_store_close(s);
	/* an independent count */
	assert_int_equal(mdb_stat_entries(path, "bodies"), 1);
	assert_int_equal(mdb_stat_entries(path, "exchanges"), 1000);
}

/* The body memo recognises a body met again by comparing bytes: bodies of
 * the same length that differ in one byte (where no key sample falls, so
 * they share a memo slot) must still be stored and read back apart, and
 * the same body met again must still be deduplicated. */
static void test_memo_near_twins(void **state)
{
	(void)state;
	const char *path = sub("c");
	struct rp_store *s = create_store(path);
	const size_t len = 16000;
	char *body[4];
	for (int v = 0; v < 4; v++) {
		body[v] = make_body(7, len);
		if (v)
			body[v][len / 2 + 3 + (size_t)v] ^= 0x01; /* one byte apart */
	}
	for (unsigned i = 0; i < 400; i++) {
		struct rp_exchange *x = make_exchange(i, 1000 + i, 1, 0);
		x->resp.m.body = rp_pool_dup(x->pool, rp_slice(body[i % 4], len));
		assert_int_equal(rp_store_put(s, x, RP_STORE_WAIT, NULL), 0);
		rp_exchange_free(x);
	}
	assert_int_equal(rp_store_flush(s), 0);
	struct rp_store_stats st;
	rp_store_get_stats(s, &st);
	assert_int_equal(st.bodies_new, 4);
	assert_int_equal(st.bodies_dedup, 396);
	struct rp_store_iter *it;
	struct rp_exchange *x;
	unsigned n = 0;
	assert_int_equal(rp_store_iter_new(s, 0, 0, &it), 0);
	while (rp_store_iter_next(it, &x, NULL) == 0) {
		assert_int_equal(x->resp.m.body.n, len);
		assert_memory_equal(x->resp.m.body.p, body[n % 4], len);
		rp_exchange_free(x);
		n++;
	}
	assert_int_equal(n, 400);
	rp_store_iter_free(it);
	rp_store_close(s);
	for (int v = 0; v < 4; v++)
		free(body[v]);
	assert_int_equal(mdb_stat_entries(path, "bodies"), 4);
}

/* A small body is kept inline the first time, then shared. */
static void test_small_bodies(void **state)
{
	(void)state;
	const char *path = sub("c");
	struct rp_store *s = create_store(path);
	for (unsigned i = 0; i < 100; i++) {
		struct rp_exchange *x = make_exchange(i, 1000 + i, 9, 300);
		x->req.m.body = RP_SLICE_NULL;
		assert_int_equal(rp_store_put(s, x, RP_STORE_WAIT, NULL), 0);
		rp_exchange_free(x);
	}
	/* 32 bytes or less: always inline, never hashed into `bodies` */
	struct rp_exchange *x = make_exchange(100, 2000, 0, 0);
	x->resp.m.body = RP_SLICE_LIT("{\"ok\":true}");
	assert_int_equal(rp_store_put(s, x, RP_STORE_WAIT, NULL), 0);
	rp_exchange_free(x);
	assert_int_equal(rp_store_flush(s), 0);
	struct rp_store_stats st;
	rp_store_get_stats(s, &st);
	/* the first 300-byte body, and the tiny exchange's two bodies */
	assert_int_equal(st.bodies_inline, 1 + 2);
	assert_int_equal(st.bodies_new, 1);
	assert_int_equal(st.bodies_dedup, 98);
	char *want = make_body(9, 300);
	for (uint64_t id = 1; id <= 100; id++) {
		assert_int_equal(rp_store_get(s, id, 0, &x, NULL), 0);
		assert_int_equal(x->resp.m.body.n, 300);
		assert_memory_equal(x->resp.m.body.p, want, 300);
		rp_exchange_free(x);
	}
	free(want);
	assert_int_equal(rp_store_get(s, 101, 0, &x, NULL), 0);
	assert_slice_eq(x->resp.m.body, RP_SLICE_LIT("{\"ok\":true}"));
	rp_exchange_free(x);
	rp_store_close(s);
	assert_int_equal(mdb_stat_entries(path, "bodies"), 1);
}

/* ---- ids across sessions, meta ---- */

static void test_ids_continue(void **state)
{
	(void)state;
	const char *path = sub("c");
	uint64_t id, last = 0;
	for (int session = 0; session < 3; session++) {
		struct rp_store *s = create_store(path);
		for (int i = 0; i < 3; i++) {
			struct rp_exchange *x = make_exchange((unsigned)i, 5, 1, 100);
			assert_int_equal(rp_store_put(s, x, RP_STORE_WAIT, &id), 0);
			assert_int_equal(id, last + 1);
			last = id;
			rp_exchange_free(x);
		}
		rp_store_close(s);
	}
	assert_int_equal(last, 9);
	struct rp_store *s = open_store(path, (struct rp_store_opts){.readonly = 1});
	char v[64];
	assert_int_equal(rp_store_meta_get(s, "next_id", v, sizeof(v)), 0);
	assert_string_equal(v, "10");
	assert_int_equal(rp_store_meta_get(s, "schema", v, sizeof(v)), 0);
	assert_string_equal(v, "1");
	assert_int_equal(rp_store_meta_get(s, "tool_version", v, sizeof(v)), 0);
	assert_string_equal(v, PACKAGE_VERSION);
	assert_int_equal(rp_store_meta_get(s, "created", v, sizeof(v)), 0);
	int64_t created;
	assert_int_equal(rp_time_parse(v, &created), 0);
	assert_true(created > 0 && created <= rp_now_ns());
	assert_int_equal(rp_store_meta_get(s, "nope", v, sizeof(v)), RP_E_NOTFOUND);
	assert_int_equal(rp_store_meta_get(s, "schema", v, 1), RP_E_LIMIT);
	/* a read-only store does not write */
	struct rp_exchange *x = make_exchange(0, 5, 1, 100);
	assert_int_equal(rp_store_put(s, x, 0, NULL), RP_E_USAGE);
	rp_exchange_free(x);
	for (uint64_t i = 1; i <= 9; i++) {
		assert_int_equal(rp_store_get(s, i, RP_STORE_NO_BODIES, &x, NULL), 0);
		assert_int_equal(x->id, i);
		rp_exchange_free(x);
	}
	rp_store_close(s);
}

static void test_meta_and_conns(void **state)
{
	(void)state;
	const char *path = sub("c");
	struct rp_store *s = create_store(path);
	char v[128];
	assert_int_equal(rp_store_meta_set(s, "mask_digest", "abc123"), 0);
	assert_int_equal(rp_store_meta_set(s, "schema", "2"), RP_E_USAGE);
	assert_int_equal(rp_store_meta_set(s, "next_id", "2"), RP_E_USAGE);
	assert_int_equal(rp_store_meta_set(s, "", "x"), RP_E_USAGE);

	struct rp_conn c = {.id = 77, .proto = RP_PROTO_H2, .start_ns = 123456789};
	c.client.family = 6;
	c.client.addr[15] = 1;
	c.client.port = 5555;
	c.server.family = 4;
	c.server.addr[0] = 10;
	c.server.port = 443;
	c.tls_version = RP_SLICE_LIT("TLSv1.3");
	c.tls_cipher = RP_SLICE_LIT("TLS_AES_128_GCM_SHA256");
	c.alpn = RP_SLICE_LIT("h2");
	c.sni = RP_SLICE_LIT("api.example");
	assert_int_equal(rp_store_put_conn(s, &c, RP_STORE_WAIT), 0);
	struct rp_conn c2 = {.id = 78, .proto = RP_PROTO_H11};
	assert_int_equal(rp_store_put_conn(s, &c2, RP_STORE_WAIT), 0);
	assert_int_equal(rp_store_flush(s), 0);

	assert_int_equal(rp_store_meta_get(s, "mask_digest", v, sizeof(v)), 0);
	assert_string_equal(v, "abc123");
	struct rp_pool *pool = rp_pool_new(0);
	struct rp_conn got;
	assert_int_equal(rp_store_get_conn(s, 77, pool, &got), 0);
	assert_int_equal(got.id, 77);
	assert_int_equal(got.proto, RP_PROTO_H2);
	assert_int_equal(got.start_ns, 123456789);
	assert_memory_equal(&got.client, &c.client, sizeof(c.client));
	assert_memory_equal(&got.server, &c.server, sizeof(c.server));
	assert_slice_eq(got.tls_version, c.tls_version);
	assert_slice_eq(got.tls_cipher, c.tls_cipher);
	assert_slice_eq(got.alpn, c.alpn);
	assert_slice_eq(got.sni, c.sni);
	assert_int_equal(rp_store_get_conn(s, 78, pool, &got), 0);
	assert_int_equal(got.sni.n, 0);
	assert_int_equal(rp_store_get_conn(s, 79, pool, &got), RP_E_NOTFOUND);
	struct rp_store_totals t;
	assert_int_equal(rp_store_totals(s, &t), 0);
	assert_int_equal(t.conns, 2);
	rp_pool_free(pool);
	rp_store_close(s);
}

/* ---- batching ---- */

/* Waits until exchange |id| is readable; returns the ms it took, or -1
 * after |limit_ms|. */
static long wait_visible(struct rp_store *s, uint64_t id, long limit_ms)
{
	int64_t t0 = rp_mono_ns();
	for (;;) {
		struct rp_exchange *x;
		int rc = rp_store_get(s, id, RP_STORE_NO_BODIES, &x, NULL);
		long ms = (long)((rp_mono_ns() - t0) / 1000000);
		if (rc == 0) {
			rp_exchange_free(x);
			return ms;
		}
		assert_int_equal(rc, RP_E_NOTFOUND);
		if (ms > limit_ms)
			return -1;
		usleep(2000);
	}
}

static void test_batch_by_time(void **state)
{
	(void)state;
	struct rp_store *s = open_store(sub("c"), (struct rp_store_opts){
		.create = 1, .batch_count = 100000, .batch_ms = 150});
	uint64_t id;
	struct rp_exchange *x = make_exchange(0, 1, 1, 100);
	int64_t t0 = rp_mono_ns();
	assert_int_equal(rp_store_put(s, x, 0, &id), 0);
	assert_true(wait_visible(s, id, 5000) >= 0);
	long ms = (long)((rp_mono_ns() - t0) / 1000000);
	/* not before its batch's time is up, and soon after */
	assert_true(ms >= 140);
	assert_true(ms < 150 + 400);
	rp_exchange_free(x);
	rp_store_close(s);
}

static void test_batch_by_count(void **state)
{
	(void)state;
	struct rp_store *s = open_store(sub("c"), (struct rp_store_opts){
		.create = 1, .batch_count = 10, .batch_ms = 60000});
	uint64_t id = 0;
	for (unsigned i = 0; i < 9; i++) {
		struct rp_exchange *x = make_exchange(i, 1, i, 100);
		assert_int_equal(rp_store_put(s, x, 0, &id), 0);
		rp_exchange_free(x);
	}
	/* nine of ten: the batch waits (up to a minute) */
	assert_int_equal(wait_visible(s, id, 200), -1);
	struct rp_exchange *x = make_exchange(9, 1, 9, 100);
	assert_int_equal(rp_store_put(s, x, 0, &id), 0);
	rp_exchange_free(x);
	long ms = wait_visible(s, id, 5000);
	assert_true(ms >= 0 && ms < 1000);
	rp_store_close(s);
}

/* ---- queue full ---- */

static void test_queue_full(void **state)
{
	(void)state;
	struct rp_store *s = open_store(sub("c"), (struct rp_store_opts){
		.create = 1, .queue_len = 4, .batch_count = 1000, .batch_ms = 20000});
	int rc = 0;
	unsigned accepted = 0;
	for (unsigned i = 0; i < 10; i++) {
		struct rp_exchange *x = make_exchange(i, 1, i, 100);
		rc = rp_store_put(s, x, 0, NULL);
		rp_exchange_free(x);
		if (rc == 0)
			accepted++;
		else
			assert_int_equal(rc, RP_E_FULL);
	}
	assert_int_equal(accepted, 4);
	struct rp_store_stats st;
	rp_store_get_stats(s, &st);
	assert_int_equal(st.queued, 4);
	assert_int_equal(st.dropped_full, 6);
	assert_int_equal(st.queue_depth, 4);
	assert_int_equal(rp_store_flush(s), 0);
	rp_store_get_stats(s, &st);
	assert_int_equal(st.committed, 4);
	assert_int_equal(st.queue_depth, 0);
	rp_store_close(s);
}

/* ---- the size ceiling ---- */

/* Incompressible bodies, so the map fills fast. */
static struct rp_exchange *make_random_exchange(unsigned i, uint64_t seed, size_t blen)
{
	struct rp_exchange *x = make_exchange(i, 1000 + i, 0, 0);
	uint8_t *b = rp_pool_alloc(x->pool, blen);
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (size_t k = 0; k < blen; k++) {
		st ^= st << 13;
		st ^= st >> 7;
		st ^= st << 17;
		b[k] = (uint8_t)st;
	}
	x->resp.m.body = rp_slice(b, blen);
	return x;
}

static void test_ceiling(void **state)
{
	(void)state;
	const char *path = sub("c");
	const uint64_t max = 1 << 20;
	struct rp_store *s = open_store(path, (struct rp_store_opts){
		.create = 1, .map_init = 64 << 10, .max_size = max, .batch_count = 16});
	unsigned put = 0, refused = 0;
	for (unsigned i = 0; i < 400 && refused < 5; i++) {
		struct rp_exchange *x = make_random_exchange(i, i, 8000);
		int rc = rp_store_put(s, x, RP_STORE_WAIT, NULL);
		rp_exchange_free(x);
		if (rc == 0)
			put++;
		else {
			assert_int_equal(rc, RP_E_FULL);
			refused++;
		}
		if (i % 16 == 0)
			rp_store_flush(s);
	}
	rp_store_flush(s);
	struct rp_store_stats st;
	rp_store_get_stats(s, &st);
	assert_true(refused > 0);
	assert_true(st.dropped_ceiling >= refused);
	assert_int_equal(st.map_size, max);
	assert_true(st.committed > 50); /* ~1 MB of 8 KB bodies: it grew to the end */
	assert_int_equal(st.committed + st.dropped_ceiling - refused, put);
	uint64_t committed = st.committed;
	rp_store_close(s);

	/* what was committed reads back whole, after a reopen */
	s = create_store(path);
	struct rp_store_iter *it;
	struct rp_exchange *x;
	assert_int_equal(rp_store_iter_new(s, 0, 0, &it), 0);
	uint64_t n = 0;
	while (rp_store_iter_next(it, &x, NULL) == 0) {
		unsigned i = (unsigned)(x->t.req_start - 1000);
		struct rp_exchange *want = make_random_exchange(i, i, 8000);
		assert_slice_eq(x->resp.m.body, want->resp.m.body);
		rp_exchange_free(want);
		rp_exchange_free(x);
		n++;
	}
	rp_store_iter_free(it);
	assert_int_equal(n, committed);
	rp_store_close(s);
}

/* ---- not a corpus, corrupt, newer ---- */

static void expect_open_fails(const char *path, int create, int want, const char *why_has)
{
	struct rp_store *s = NULL;
	const char *why = NULL;
	struct rp_store_opts o = {.path = path, .create = create};
	int rc = rp_store_open(&o, &s, &why);
	if (rc != want || !why || !strstr(why, why_has))
		fprintf(stderr, "open %s: got %s \"%s\", want %s \"%s\"\n", path, rp_err_name(rc),
			why ? why : "(null)", rp_err_name(want), why_has);
	assert_int_equal(rc, want);
	assert_null(s);
	assert_non_null(strstr(why, why_has));
	assert_non_null(strstr(why, path));
}

static void test_not_a_corpus(void **state)
{
	(void)state;
	expect_open_fails(sub("missing"), 0, RP_E_NOTFOUND, "no such corpus");
	mkdir(sub("empty"), 0700);
	expect_open_fails(sub("empty"), 0, RP_E_NOTFOUND, "not a reprise corpus (empty directory)");

	mkdir(sub("junk"), 0700);
	FILE *f = fopen(sub("junk/notes.txt"), "w");
	fputs("hello\n", f);
	fclose(f);
	expect_open_fails(sub("junk"), 0, RP_E_FORMAT, "not a reprise corpus (no data.mdb)");
	expect_open_fails(sub("junk"), 1, RP_E_FORMAT, "refusing to create a corpus there");
	f = fopen(sub("file"), "w");
	fclose(f);
	expect_open_fails(sub("file"), 1, RP_E_FORMAT, "not a directory");

	/* an LMDB environment that is not ours */
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	mkdir(sub("other"), 0700);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 4);
	assert_int_equal(mdb_env_open(env, sub("other"), 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "things", MDB_CREATE, &dbi), 0);
	MDB_val k = {3, (void *)"key"}, v = {5, (void *)"value"};
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	expect_open_fails(sub("other"), 0, RP_E_FORMAT, "not a reprise corpus (no meta database)");
	expect_open_fails(sub("other"), 1, RP_E_FORMAT, "not a reprise corpus (no meta database)");

	/* a data.mdb that is not LMDB at all */
	mkdir(sub("garbage"), 0700);
	f = fopen(sub("garbage/data.mdb"), "w");
	for (int i = 0; i < 20000; i++)
		fputc((int)(rnd() & 0xff), f);
	fclose(f);
	expect_open_fails(sub("garbage"), 0, RP_E_FORMAT, "not a reprise corpus or corrupt");
}

/* Writes |n| exchanges to a new corpus at |path|. */
static void fill(const char *path, unsigned n, size_t blen)
{
	struct rp_store *s = create_store(path);
	for (unsigned i = 0; i < n; i++) {
		struct rp_exchange *x = make_exchange(i, 1000 + i, i % 7, blen);
		assert_int_equal(rp_store_put(s, x, RP_STORE_WAIT, NULL), 0);
		rp_exchange_free(x);
	}
	rp_store_close(s);
}

static void test_newer_schema(void **state)
{
	(void)state;
	const char *path = sub("c");
	fill(path, 3, 100);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	MDB_val k = {6, (void *)"schema"}, v = {2, (void *)"99"};
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	char want[600];
	snprintf(want, sizeof(want), "%s: written by schema 99, this reprise reads up to 1", path);
	expect_open_fails(path, 0, RP_E_VERSION, want);
	expect_open_fails(path, 1, RP_E_VERSION, want);
}

/* Replaces values inside a valid LMDB: a record and a body that do not
 * decode.  The iterator reports each and moves on. */
static void test_bad_records(void **state)
{
	(void)state;
	const char *path = sub("c");
	fill(path, 20, 2000);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi ex, bodies;
	MDB_cursor *cur;
	MDB_val k, v;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "exchanges", 0, &ex), 0);
	assert_int_equal(mdb_dbi_open(txn, "bodies", 0, &bodies), 0);
	/* the 5th record becomes garbage */
	assert_int_equal(mdb_cursor_open(txn, ex, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_NEXT), 0);
	MDB_val bad = {9, (void *)"not a rec"};
	assert_int_equal(mdb_cursor_put(cur, &k, &bad, MDB_CURRENT), 0);
	mdb_cursor_close(cur);
	/* the first body gets a flipped byte (zstd's checksum sees it) */
	assert_int_equal(mdb_cursor_open(txn, bodies, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	uint8_t *copy = malloc(v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[v.mv_size / 2] ^= 0x55;
	MDB_val nv = {v.mv_size, copy};
	assert_int_equal(mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), 0);
	free(copy);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	struct rp_store *s = open_store(path, (struct rp_store_opts){.readonly = 1});
	struct rp_store_iter *it;
	struct rp_exchange *x;
	const char *why;
	int rc;
	unsigned good = 0, bad_rec = 0;
	assert_int_equal(rp_store_iter_new(s, 0, 0, &it), 0);
	while ((rc = rp_store_iter_next(it, &x, &why)) != RP_E_NOTFOUND) {
		if (rc == 0) {
			good++;
			rp_exchange_free(x);
			continue;
		}
		assert_int_equal(rc, RP_E_FORMAT);
		assert_null(x);
		assert_non_null(strstr(why, "exchange "));
		bad_rec++;
	}
	rp_store_iter_free(it);
	/* one bad record, and the exchanges sharing the damaged body (seed 0 of
	 * 7: ids 1, 8, 15 — unless one of them is the bad record) */
	assert_true(bad_rec >= 2 && bad_rec <= 4);
	assert_int_equal(good + bad_rec, 20);
	/* without bodies only the bad record fails */
	assert_int_equal(rp_store_iter_new(s, 0, RP_STORE_NO_BODIES, &it), 0);
	bad_rec = 0;
	while ((rc = rp_store_iter_next(it, &x, &why)) != RP_E_NOTFOUND) {
		if (rc)
			bad_rec++;
		rp_exchange_free(x);
	}
	rp_store_iter_free(it);
	assert_int_equal(bad_rec, 1);
	rp_store_close(s);
}

#ifndef CORRUPT_ROUNDS
#define CORRUPT_ROUNDS 20
#endif

/* Offsets in |buf| where |magic| starts. */
static size_t find_all(const uint8_t *buf, size_t n, const void *magic, size_t mlen, size_t *out,
		       size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i + mlen <= n && k < max; i++)
		if (!memcmp(buf + i, magic, mlen))
			out[k++] = i;
	return k;
}

/* Damages data.mdb itself.  Its meta pages: refused at open.  Bytes inside
 * stored records and body frames (found by their magic numbers): every
 * damaged exchange is reported, the others read back, nothing crashes.
 * (Damage to LMDB's own page structure is another matter: LMDB keeps no
 * checksums and trusts its branch and leaf pages, see store.h.) */
static void test_corrupt_file(void **state)
{
	(void)state;
	const char *path = sub("c");
	char data[600];
	fill(path, 200, 2000);
	snprintf(data, sizeof(data), "%s/data.mdb", path);
	int fd = open(data, O_RDWR);
	assert_true(fd >= 0);
	struct stat st;
	fstat(fd, &st);
	size_t size = (size_t)st.st_size;
	uint8_t *orig = malloc(size);
	assert_int_equal(pread(fd, orig, size, 0), (ssize_t)size);

	uint8_t junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rnd();
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), sizeof(junk));
	expect_open_fails(path, 0, RP_E_FORMAT, "corrupt");
	expect_open_fails(path, 1, RP_E_FORMAT, "corrupt");

	static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
	static size_t at[4000];
	/* at least every record and the seven distinct bodies; LMDB leaves
	 * stale copies of rewritten pages in free space, so maybe more */
	size_t nrec = find_all(orig, size, "RPX1", 4, at, 2000);
	size_t nall = nrec + find_all(orig, size, zstd_magic, 4, at + nrec, 2000);
	assert_true(nrec >= 200);
	assert_true(nall - nrec >= 7);
	unsigned failures = 0;
	for (int round = 0; round < CORRUPT_ROUNDS; round++) {
		assert_int_equal(pwrite(fd, orig, size, 0), (ssize_t)size);
		for (int hits = 0; hits < 6; hits++) {
			size_t off = at[rnd() % nall] + (size_t)(rnd() % 48);
			uint8_t b[4];
			for (int j = 0; j < 4; j++)
				b[j] = (uint8_t)rnd();
			assert_int_equal(pwrite(fd, b, sizeof(b), (off_t)off), sizeof(b));
		}
		struct rp_store *s = open_store(path, (struct rp_store_opts){.readonly = 1});
		struct rp_store_iter *it;
		struct rp_exchange *x;
		const char *why;
		int rc;
		unsigned seen = 0;
		assert_int_equal(rp_store_iter_new(s, 0, 0, &it), 0);
		while ((rc = rp_store_iter_next(it, &x, &why)) != RP_E_NOTFOUND) {
			if (rc == 0) {
				rp_exchange_free(x);
			} else {
				assert_true(rc == RP_E_FORMAT || rc == RP_E_VERSION);
				assert_non_null(strstr(why, "exchange "));
				failures++;
			}
			seen++;
		}
		assert_int_equal(seen, 200);
		rp_store_iter_free(it);
		for (uint64_t id = 1; id <= 200; id++) {
			if (rp_store_get(s, id, 0, &x, &why) == 0)
				rp_exchange_free(x);
		}
		rp_store_close(s);
	}
	assert_true(failures > 0);
	close(fd);
	free(orig);
}

/* ---- file modes ---- */

static void test_modes(void **state)
{
	(void)state;
	static const mode_t masks[] = {0, 022, 0277};
	for (size_t m = 0; m < RP_ARRAY_LEN(masks); m++) {
		char name[16], p[600];
		snprintf(name, sizeof(name), "c%zu", m);
		mode_t old = umask(masks[m]);
		struct rp_store *s = create_store(sub(name));
		umask(old);
		struct rp_exchange *x = make_exchange(0, 1, 1, 100);
		assert_int_equal(rp_store_put(s, x, RP_STORE_WAIT, NULL), 0);
		rp_exchange_free(x);
		rp_store_close(s);
		struct stat st;
		assert_int_equal(stat(sub(name), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
		snprintf(p, sizeof(p), "%s/data.mdb", sub(name));
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		snprintf(p, sizeof(p), "%s/lock.mdb", sub(name));
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
}

static void test_one_writer(void **state)
{
	(void)state;
	struct rp_store *s = create_store(sub("c"));
	expect_open_fails(sub("c"), 1, RP_E_STORE, "another reprise process is writing");
	rp_store_close(s);
	s = create_store(sub("c"));
	rp_store_close(s);
}

/* ---- concurrency: producers, readers, a growing map ---- */

struct producer {
	struct rp_store *s;
	unsigned base, n;
	uint64_t *ids;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (unsigned i = 0; i < p->n; i++) {
		unsigned k = p->base + i;
		struct rp_exchange *x = make_random_exchange(k, k % 50, 3000);
		x->t.req_start = 1000 + k;
		if (rp_store_put(p->s, x, RP_STORE_WAIT, &p->ids[i]) != 0)
			p->ids[i] = 0;
		rp_exchange_free(x);
	}
	return NULL;
}

struct reader {
	struct rp_store *s;
	atomic_int stop;
	unsigned passes, errors;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	while (!atomic_load(&r->stop)) {
		struct rp_store_iter *it;
		struct rp_exchange *x;
		if (rp_store_iter_new(r->s, 0, 0, &it)) {
			r->errors++;
			continue;
		}
		int rc;
		while ((rc = rp_store_iter_next(it, &x, NULL)) == 0)
			rp_exchange_free(x);
		if (rc != RP_E_NOTFOUND)
			r->errors++;
		rp_store_iter_free(it);
		struct rp_store_totals t;
		if (rp_store_totals(r->s, &t))
			r->errors++;
		r->passes++;
	}
	return NULL;
}

static void test_concurrent_growth(void **state)
{
	(void)state;
	enum { PER = 1500 };
	struct rp_store *s = open_store(sub("c"), (struct rp_store_opts){
		.create = 1, .map_init = 64 << 10, .batch_count = 200});
	struct producer p[2];
	pthread_t pt[2], rt;
	struct reader r = {.s = s};
	pthread_create(&rt, NULL, read_loop, &r);
	for (int i = 0; i < 2; i++) {
		p[i] = (struct producer){s, (unsigned)i * PER, PER, calloc(PER, sizeof(uint64_t))};
		pthread_create(&pt[i], NULL, produce, &p[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(pt[i], NULL);
	assert_int_equal(rp_store_flush(s), 0);
	atomic_store(&r.stop, 1);
	pthread_join(rt, NULL);
	assert_int_equal(r.errors, 0);
	assert_true(r.passes > 0);

	struct rp_store_stats st;
	rp_store_get_stats(s, &st);
	assert_int_equal(st.committed, 2 * PER);
	assert_true(st.map_size > (64 << 10)); /* it grew, several times */
	assert_int_equal(st.bodies_new, 50);
	assert_int_equal(st.bodies_dedup, 2 * PER - 50);
	/* ids unique, every one readable with its body */
	for (int i = 0; i < 2; i++)
		for (unsigned k = 0; k < PER; k++) {
			struct rp_exchange *x;
			assert_true(p[i].ids[k] > 0);
			assert_int_equal(rp_store_get(s, p[i].ids[k], 0, &x, NULL), 0);
			unsigned n = p[i].base + k;
			struct rp_exchange *want = make_random_exchange(n, n % 50, 3000);
			assert_slice_eq(x->resp.m.body, want->resp.m.body);
			rp_exchange_free(want);
			rp_exchange_free(x);
		}
	struct rp_store_totals t;
	assert_int_equal(rp_store_totals(s, &t), 0);
	assert_int_equal(t.exchanges, 2 * PER);
	assert_int_equal(t.bodies, 50);
	rp_store_close(s);
	free(p[0].ids);
	free(p[1].ids);
}

/* ---- a writer killed mid-load ---- */

static void test_sigkill(void **state)
{
	(void)state;
	const char *path = sub("c");
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		struct rp_store_opts o = {.path = path, .create = 1, .batch_count = 300};
		struct rp_store *s;
		if (rp_store_open(&o, &s, NULL))
			_exit(2);
		for (unsigned i = 0;; i++) {
			struct rp_exchange *x = make_exchange(i, 1000 + i, i % 97, 1500);
			if (rp_store_put(s, x, RP_STORE_WAIT, NULL))
				_exit(3);
			rp_exchange_free(x);
			if (i == 2000) {
				rp_store_flush(s);
				(void)!write(fds[1], "k", 1);
			}
		}
	}
	close(fds[1]);
	char c;
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	usleep(100 * 1000); /* well into the next batches */
	kill(pid, SIGKILL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	struct rp_store *s = create_store(path);
	struct rp_store_iter *it;
	struct rp_exchange *x;
	const char *why;
	int rc;
	uint64_t n = 0, max_id = 0;
	assert_int_equal(rp_store_iter_new(s, 0, 0, &it), 0);
	while ((rc = rp_store_iter_next(it, &x, &why)) == 0) {
		unsigned i = (unsigned)(x->t.req_start - 1000);
		char *want = make_body(i % 97, 1500);
		assert_int_equal(x->resp.m.body.n, 1500);
		assert_memory_equal(x->resp.m.body.p, want, 1500);
		free(want);
		max_id = RP_MAX(max_id, x->id);
		rp_exchange_free(x);
		n++;
	}
	if (rc != RP_E_NOTFOUND)
		fprintf(stderr, "after kill: %s: %s\n", rp_err_name(rc), why);
	assert_int_equal(rc, RP_E_NOTFOUND);
	rp_store_iter_free(it);
	assert_true(n >= 2001);
	struct rp_store_totals t;
	assert_int_equal(rp_store_totals(s, &t), 0);
	assert_int_equal(t.exchanges, n);
	uint64_t id;
	x = make_exchange(0, 1, 1, 10);
	assert_int_equal(rp_store_put(s, x, RP_STORE_WAIT, &id), 0);
	rp_exchange_free(x);
	assert_true(id > max_id);
	rp_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_dedup, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_memo_near_twins, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_small_bodies, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_ids_continue, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_meta_and_conns, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_batch_by_time, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_batch_by_count, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_queue_full, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_ceiling, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_not_a_corpus, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_bad_records, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_corrupt_file, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_modes, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_one_writer, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_concurrent_growth, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_sigkill, setup_dir, teardown_dir),
	};
	rp_log_set_level(RP_LOG_ERROR + 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
