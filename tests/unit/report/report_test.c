/*
 * report_test: aggregation and the three outputs.  Feeds a known mix of
 * results (equal, differing, noisy, failed, unrecorded) over two routes and
 * checks the totals and parity, the per-route path counts (once per
 * exchange, indices generalised), the JSON file (valid JSON, every
 * differing or failed exchange listed with its id, aggregate figures) and
 * the JUnit file (one test case per route, the failing one carrying its
 * differing path).
 */
#include "config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "reprise/report.h"

static struct rp_exchange *ex(uint64_t id, const char *target, uint16_t status)
{
	struct rp_exchange *x = rp_exchange_new();
	x->id = id;
	x->conn_id = id % 3;
	x->req.method = rp_slice_str("GET");
	x->req.target = rp_pool_dup(x->pool, rp_slice_str(target));
	x->resp.status = status;
	x->t.req_start = 1000000000;
	x->t.resp_end = 1002000000;
	return x;
}

static void add(struct rp_report *r, uint64_t id, const char *target, const char *a,
		const char *b, const struct rp_diff_opts *opts, enum rp_replay_fail fail)
{
	struct rp_exchange *x = ex(id, target, 200);
	struct rp_response resp = {.status = 200};
	struct rp_diff d;
	char route[128];
	rp_diff_init(&d);
	struct rp_replay_result res = {.x = x, .resp = fail ? NULL : &resp, .fail = fail,
				       .why = fail ? "no complete response within the timeout" : NULL,
				       .due = 1, .sent = 10, .done = 1000010};
	if (!fail)
		assert_int_equal(rp_diff_json(opts, rp_slice_str(a), rp_slice_str(b), &d), 0);
	rp_diff_route(x->req.method, x->req.target, route, sizeof(route));
	struct rp_report_entry e = {x, &res, fail ? NULL : &d, route};
	assert_int_equal(rp_report_add(r, &e), 0);
	rp_diff_dispose(&d);
	rp_exchange_free(x);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void test_report(void **state)
{
	(void)state;
	char dir[] = "/tmp/reprise-report-XXXXXX", json[256], junit[256], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(json, sizeof(json), "%s/r.json", dir);
	snprintf(junit, sizeof(junit), "%s/r.xml", dir);

	struct rp_report_opts o = {.target = "http://127.0.0.1:1", .db = "corpus", .fail_under = 90};
	struct rp_report *r = rp_report_new(&o);
	assert_int_equal(rp_report_json_open(r, json, err, sizeof(err)), 0);
	struct rp_diff_noise *n = NULL;
	assert_int_equal(rp_diff_noise_parse("ignore json $.ts", 16, "n", &n, err, sizeof(err)), 0);
	struct rp_diff_opts dopts = {.noise = n};
	/* /users/{id}: 3 equal (one noisy) */
	add(r, 1, "/users/1", "{\"a\":1}", "{\"a\":1}", &dopts, 0);
	add(r, 2, "/users/2", "{\"a\":1,\"ts\":1}", "{\"a\":1,\"ts\":2}", &dopts, 0);
	add(r, 3, "/users/3?x", "{\"a\":1}", "{\"a\":1}", &dopts, 0);
	/* /orders/{id}: 2 differ (same generalised path twice in one), 1 failed */
	add(r, 4, "/orders/4", "{\"i\":[{\"p\":1},{\"p\":2}]}", "{\"i\":[{\"p\":9},{\"p\":8}]}", &dopts, 0);
	add(r, 5, "/orders/5", "{\"i\":[{\"p\":1}]}", "{\"i\":[{\"p\":3}]}", &dopts, 0);
	add(r, 6, "/orders/6", NULL, NULL, &dopts, RP_REPLAY_F_TIMEOUT);

	struct rp_report_totals t;
	rp_report_totals(r, &t);
	assert_int_equal(t.replayed, 6);
	assert_int_equal(t.equal, 3);
	assert_int_equal(t.differ, 2);
	assert_int_equal(t.failed, 1);
	assert_int_equal(t.noisy, 1);
	assert_true(t.parity > 49.9 && t.parity < 50.1);
	assert_false(t.passed);

	struct rp_replay_stats *st = calloc(1, sizeof(*st));
	st->start = 0;
	st->end = 2000000000;
	st->planned = 6;
	FILE *out = tmpfile();
	rp_report_summary(r, out, st);
	rewind(out);
	char text[8192];
	size_t tn = fread(text, 1, sizeof(text) - 1, out);
	text[tn] = 0;
	fclose(out);
	assert_non_null(strstr(text, "parity 50.00%"));
	assert_non_null(strstr(text, "GET /orders/{id}"));
	assert_non_null(strstr(text, "$.i[*].p (2)"));
	assert_non_null(strstr(text, "noise ignored: GET /users/{id} $.ts (1)"));
	assert_non_null(strstr(text, "changed $.i[0].p: 1 -> 9"));
	assert_non_null(strstr(text, "1 timeout"));

	/* the live progress line rewrites itself in place */
	out = tmpfile();
	st->start = rp_mono_ns() - 1000000000;
	st->sent = st->done = 6;
	rp_report_progress(r, out, st);
	rewind(out);
	tn = fread(text, 1, sizeof(text) - 1, out);
	text[tn] = 0;
	fclose(out);
	assert_memory_equal(text, "\r\033[K6/6 sent  ", 13);
	assert_non_null(strstr(text, "errors 0  parity 50.0%  p50 "));
	assert_null(strchr(text, '\n'));

	assert_int_equal(rp_report_json_finish(r, st, err, sizeof(err)), 0);
	json_error_t je;
	json_t *doc = json_load_file(json, 0, &je);
	assert_non_null(doc);
	json_t *diffs = json_object_get(doc, "diffs");
	assert_int_equal(json_array_size(diffs), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(diffs, 0), "id")), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(diffs, 2), "failure")),
			    "timeout");
	json_t *item = json_array_get(json_object_get(json_array_get(diffs, 1), "items"), 0);
	assert_string_equal(json_string_value(json_object_get(item, "path")), "$.i[0].p");
	json_t *sum = json_object_get(doc, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "differ")), 2);
	assert_true(json_is_false(json_object_get(sum, "passed")));
	assert_int_equal(json_array_size(json_object_get(doc, "routes")), 2);
	json_decref(doc);

	assert_int_equal(rp_report_junit(r, junit, st, err, sizeof(err)), 0);
	char *x = slurp(junit);
	assert_non_null(strstr(x, "tests=\"2\" failures=\"1\" errors=\"0\""));
	assert_non_null(strstr(x, "name=\"GET /users/{id}\""));
	assert_non_null(strstr(x, "<failure type=\"regression\" message=\"2 of 3 exchanges differ, 1 failed"));
	assert_non_null(strstr(x, "differs at $.i[*].p in 2 exchanges"));
	assert_non_null(strstr(x, "exchange 6: GET /orders/6"));
	free(x);

	rp_report_free(r);
	rp_diff_noise_free(n);
	free(st);
	unlink(json);
	unlink(junit);
	rmdir(dir);
}

static void test_unfinished_json(void **state)
{
	(void)state;
	char dir[] = "/tmp/reprise-report-XXXXXX", json[256], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(json, sizeof(json), "%s/r.json", dir);
	struct rp_report_opts o = {0};
	struct rp_report *r = rp_report_new(&o);
	assert_int_equal(rp_report_json_open(r, json, err, sizeof(err)), 0);
	rp_report_free(r); /* never finished: nothing left behind */
	assert_int_equal(rmdir(dir), 0);
	/* an unwritable place */
	r = rp_report_new(&o);
	assert_int_equal(rp_report_json_open(r, "/nonexistent/dir/r.json", err, sizeof(err)), RP_E_IO);
	assert_non_null(strstr(err, "--report /nonexistent/dir/r.json: cannot create"));
	rp_report_free(r);
	char d[24];
	rp_report_duration(310000, d, sizeof(d));
	assert_string_equal(d, "0.31 ms");
	rp_report_duration(12000000, d, sizeof(d));
	assert_string_equal(d, "12 ms");
	rp_report_duration(1200000000, d, sizeof(d));
	assert_string_equal(d, "1.2 s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_unfinished_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
