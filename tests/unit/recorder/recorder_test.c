/*
 * recorder_test: the recorder against a real store in a temporary
 * directory — every submitted exchange is counted once (recorded or dropped
 * with a reason), gzip bodies are stored decoded with the coding
 * remembered, a corrupt one is kept as sent and flagged, a body cut at the
 * record cap is not decoded, the mask hook sees every exchange and what it
 * refuses never reaches the store, a tiny queue drops instead of
 * blocking, and the waiting variant never drops.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../support/tmpdir.h"

#include "reprise/coding.h"
#include "reprise/recorder.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	return rp_test_tmpdir(tmpdir, sizeof(tmpdir), "recorder-test");
}

static int teardown(void **state)
{
	(void)state;
	rp_test_rm_tree(tmpdir);
	return 0;
}

static struct rp_store *store_open(int readonly)
{
	struct rp_store_opts o = {0};
	struct rp_store *s = NULL;
	char path[300];
	snprintf(path, sizeof(path), "%s/db", tmpdir);
	o.path = path;
	o.create = !readonly;
	o.readonly = readonly;
	assert_int_equal(rp_store_open(&o, &s, NULL), 0);
	return s;
}

/* An exchange GET |target| whose response body is |body| with
 * Content-Encoding |ce| (NULL: none). */
static struct rp_exchange *make(const char *target, struct rp_slice body, const char *ce,
				uint32_t flags)
{
	static int64_t t = 1700000000000000000LL;
	struct rp_exchange *x = rp_exchange_new();
	x->conn_id = 42;
	x->proto = RP_PROTO_H11;
	x->flags = flags;
	x->t.req_start = ++t;
	x->t.req_end = t;
	x->t.resp_start = x->t.resp_end = t + 1;
	x->req.method = RP_SLICE_LIT("GET");
	x->req.scheme = RP_SLICE_LIT("http");
	x->req.target = rp_pool_dup(x->pool, rp_slice_str(target));
	rp_headers_add(&x->req.m.headers, x->pool, RP_SLICE_LIT("Host"), RP_SLICE_LIT("h"));
	x->resp.status = 200;
	x->resp.reason = RP_SLICE_LIT("OK");
	if (ce)
		rp_headers_add(&x->resp.m.headers, x->pool, RP_SLICE_LIT("Content-Encoding"),
			       rp_slice_str(ce));
	x->resp.m.body = rp_pool_dup(x->pool, body);
	x->resp.m.wire_len = body.n;
	return x;
}

/* Reads the corpus back: the exchange with |target|, or fails. */
static struct rp_exchange *find(struct rp_store *s, const char *target)
{
	struct rp_store_iter *it = NULL;
	struct rp_exchange *x = NULL, *hit = NULL;
	assert_int_equal(rp_store_iter_new(s, 0, 0, &it), 0);
	while (rp_store_iter_next(it, &x, NULL) == 0) {
		if (!hit && rp_slice_eq(x->req.target, rp_slice_str(target)))
			hit = x;
		else
			rp_exchange_free(x);
	}
	rp_store_iter_free(it);
	assert_non_null(hit);
	return hit;
}

static void test_decodes_and_flags(void **state)
{
	(void)state;
	struct rp_store *s = store_open(0);
	struct rp_recorder *r = NULL;
	struct rp_recorder_opts o = {.store = s};
	assert_int_equal(rp_recorder_new(&o, &r), 0);

	const char *plain = "{\"hello\":\"world\",\"n\":[1,2,3,4,5,6,7,8,9,10]}";
	struct rp_buf gz;
	rp_buf_init(&gz, 1 << 20);
	assert_int_equal(rp_coding_encode(RP_SLICE_LIT("gzip"), rp_slice_str(plain), &gz), 0);

	assert_int_equal(rp_recorder_submit(r, make("/gzip", rp_buf_slice(&gz), "gzip", 0)), 0);
	assert_int_equal(rp_recorder_submit(r, make("/corrupt", RP_SLICE_LIT("not gzip at all"), "gzip", 0)), 0);
	/* a body cut at the cap: its gzip stream is incomplete, keep it as is */
	struct rp_slice half = rp_slice(gz.base + gz.rd, rp_buf_len(&gz) / 2);
	struct rp_exchange *cut = make("/cut", half, "gzip", RP_XF_RESP_TRUNCATED);
	cut->resp.m.wire_len = rp_buf_len(&gz);
	assert_int_equal(rp_recorder_submit(r, cut), 0);
	struct rp_conn c = {.id = 42, .proto = RP_PROTO_H11, .start_ns = 1};
	assert_int_equal(rp_recorder_submit_conn(r, &c), 0);

	assert_int_equal(rp_recorder_close(r), 0);
	struct rp_recorder_stats st;
	rp_recorder_get_stats(r, &st);
	assert_int_equal(st.submitted, 3);
	assert_int_equal(st.recorded, 3);
	assert_int_equal(st.conns, 1);
	assert_int_equal(st.coding_errors, 1);
	assert_int_equal(st.queue_depth, 0);
	rp_recorder_free(r);
	rp_store_close(s);

	s = store_open(1);
	struct rp_exchange *x = find(s, "/gzip");
	assert_true(rp_slice_eq(x->resp.m.body, rp_slice_str(plain)));
	assert_true(rp_slice_eq(x->resp.m.encoding, RP_SLICE_LIT("gzip")));
	assert_int_equal(x->resp.m.wire_len, rp_buf_len(&gz));
	assert_int_equal(x->flags & RP_XF_CODING_ERROR, 0);
	rp_exchange_free(x);
	x = find(s, "/corrupt");
	assert_true(x->flags & RP_XF_CODING_ERROR);
	assert_true(rp_slice_eq(x->resp.m.body, RP_SLICE_LIT("not gzip at all")));
	rp_exchange_free(x);
	x = find(s, "/cut");
	assert_true(x->flags & RP_XF_RESP_TRUNCATED);
	assert_int_equal(x->flags & RP_XF_CODING_ERROR, 0);
	assert_int_equal(x->resp.m.body.n, half.n);
	assert_int_equal(x->resp.m.wire_len, rp_buf_len(&gz));
	rp_exchange_free(x);
	struct rp_pool *pool = rp_pool_new(0);
	struct rp_conn got;
	assert_int_equal(rp_store_get_conn(s, 42, pool, &got), 0);
	rp_pool_free(pool);
	rp_store_close(s);
	rp_buf_dispose(&gz);
}

static int mask_calls;

/* A stand-in for the mask stage: refuses "/secret", rewrites the rest. */
static int fake_mask(struct rp_exchange *x, void *ctx)
{
	(void)ctx;
	mask_calls++;
	if (rp_slice_eq(x->req.target, RP_SLICE_LIT("/secret")))
		return RP_E_PROTO;
	x->resp.m.body = RP_SLICE_LIT("[masked]");
	return 0;
}

static void test_mask_hook(void **state)
{
	(void)state;
	struct rp_store *s = store_open(0);
	struct rp_recorder *r = NULL;
	struct rp_recorder_opts o = {.store = s, .mask = fake_mask};
	assert_int_equal(rp_recorder_new(&o, &r), 0);
	mask_calls = 0;
	rp_recorder_submit(r, make("/secret", RP_SLICE_LIT("card 4111"), NULL, 0));
	rp_recorder_submit(r, make("/public", RP_SLICE_LIT("card 4111"), NULL, 0));
	assert_int_equal(rp_recorder_close(r), 0);
	struct rp_recorder_stats st;
	rp_recorder_get_stats(r, &st);
	assert_int_equal(mask_calls, 2);
	assert_int_equal(st.recorded, 1);
	assert_int_equal(st.dropped[RP_RECORDER_DROP_MASK], 1);
	rp_recorder_free(r);
	rp_store_close(s);

	s = store_open(1);
	struct rp_store_totals tot;
	assert_int_equal(rp_store_totals(s, &tot), 0);
	assert_int_equal(tot.exchanges, 1);
	struct rp_exchange *x = find(s, "/public");
	assert_true(x->flags & RP_XF_MASKED);
	assert_true(rp_slice_eq(x->resp.m.body, RP_SLICE_LIT("[masked]")));
	rp_exchange_free(x);
	rp_store_close(s);
}

static void test_tiny_queue_drops_never_blocks(void **state)
{
	(void)state;
	struct rp_store *s = store_open(0);
	struct rp_recorder *r = NULL;
	struct rp_recorder_opts o = {.store = s, .queue_len = 1};
	assert_int_equal(rp_recorder_new(&o, &r), 0);
	int ok = 0, full = 0;
	for (int i = 0; i < 2000; i++) {
		char t[32];
		snprintf(t, sizeof(t), "/n%d", i);
		int rc = rp_recorder_submit(r, make(t, RP_SLICE_LIT("x"), NULL, 0));
		ok += rc == 0;
		full += rc == RP_E_FULL;
	}
	assert_int_equal(ok + full, 2000);
	assert_true(full > 0);
	assert_int_equal(rp_recorder_close(r), 0);
	/* closed: refused and counted, the exchange freed (ASan checks) */
	assert_int_equal(rp_recorder_submit(r, make("/late", RP_SLICE_LIT("x"), NULL, 0)), RP_E_CLOSED);
	struct rp_recorder_stats st;
	rp_recorder_get_stats(r, &st);
	assert_int_equal(st.submitted, 2001);
	assert_int_equal(st.dropped[RP_RECORDER_DROP_QUEUE_FULL], (uint64_t)full);
	assert_int_equal(st.dropped[RP_RECORDER_DROP_CLOSED], 1);
	uint64_t all = st.recorded;
	for (int k = 0; k < RP_RECORDER_DROP_COUNT; k++)
		all += st.dropped[k];
	assert_int_equal(all, st.submitted);
	rp_recorder_free(r);
	struct rp_store_stats ss;
	rp_store_get_stats(s, &ss);
	assert_int_equal(ss.committed, st.recorded);
	rp_store_close(s);
}

static void test_wait_never_drops(void **state)
{
	(void)state;
	struct rp_store *s = store_open(0);
	struct rp_recorder *r = NULL;
	struct rp_recorder_opts o = {.store = s, .queue_len = 2};
	assert_int_equal(rp_recorder_new(&o, &r), 0);
	for (int i = 0; i < 3000; i++) {
		char t[32];
		snprintf(t, sizeof(t), "/w%d", i);
		assert_int_equal(rp_recorder_submit_wait(r, make(t, RP_SLICE_LIT("y"), NULL, 0)), 0);
	}
	assert_int_equal(rp_recorder_close(r), 0);
	struct rp_recorder_stats st;
	rp_recorder_get_stats(r, &st);
	assert_int_equal(st.recorded, 3000);
	assert_int_equal(st.dropped[RP_RECORDER_DROP_QUEUE_FULL], 0);
	rp_recorder_free(r);
	rp_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_decodes_and_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mask_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tiny_queue_drops_never_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_never_drops, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
