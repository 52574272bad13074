/*
 * sched_test: the scheduler's arithmetic — due times for --speed, --rate and
 * --max (exact to the nanosecond where the inputs allow), the flag parsers,
 * the connection sample (deterministic, nested, proportional), selection,
 * and the histograms lag and latency are reported from (quantiles within
 * their bucket width).
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "reprise/replay.h"

#define S INT64_C(1000000000)
#define T0 INT64_C(1795338000000000000) /* 2026-11-22T09:00:00Z */

static void test_due_speed(void **state)
{
	(void)state;
	struct rp_replay_clock c = {.mode = RP_REPLAY_SPEED, .speed = 1, .rec0 = T0, .start = 1000};
	assert_int_equal(rp_replay_due(&c, T0, 0), 1000);
	assert_int_equal(rp_replay_due(&c, T0 + 5 * S + 7, 9), 1000 + 5 * S + 7);
	assert_int_equal(rp_replay_due(&c, T0 - S, 0), 1000); /* before the origin: at once */
	c.speed = 2;
	assert_int_equal(rp_replay_due(&c, T0 + 5 * S, 1), 1000 + 2500000000);
	c.speed = 0.5;
	assert_int_equal(rp_replay_due(&c, T0 + 3, 1), 1000 + 6);
	/* a week later, still to the nanosecond at speed 1 */
	c.speed = 1;
	assert_int_equal(rp_replay_due(&c, T0 + 7 * 86400 * S + 1, 1), 1000 + 7 * 86400 * S + 1);
}

static void test_due_rate(void **state)
{
	(void)state;
	struct rp_replay_clock c = {.mode = RP_REPLAY_RATE, .rate = 2000, .start = 5};
	assert_int_equal(rp_replay_due(&c, 0, 0), 5);
	assert_int_equal(rp_replay_due(&c, 0, 1), 5 + 500000);
	assert_int_equal(rp_replay_due(&c, 0, 2000), 5 + S);
	assert_int_equal(rp_replay_due(&c, 0, 20000), 5 + 10 * S);
	assert_int_equal(rp_replay_due(&c, 0, 2001), 5 + S + 500000);
	c.rate = 3; /* no exact ns spacing: rounded, never drifting */
	assert_int_equal(rp_replay_due(&c, 0, 1), 5 + 333333333);
	assert_int_equal(rp_replay_due(&c, 0, 3000000), 5 + 1000000 * S);
	c.rate = 0.5;
	assert_int_equal(rp_replay_due(&c, 0, 3), 5 + 6 * S);
	/* the recorded time plays no part */
	assert_int_equal(rp_replay_due(&c, T0, 3), 5 + 6 * S);
	c.mode = RP_REPLAY_MAX;
	assert_int_equal(rp_replay_due(&c, T0 + S, 77), 5);
}

static void test_parse(void **state)
{
	(void)state;
	double v;
	assert_int_equal(rp_replay_parse_speed("2", &v), 0);
	assert_true(v == 2.0);
	assert_int_equal(rp_replay_parse_speed("0.5x", &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(rp_replay_parse_speed("10X", &v), 0);
	assert_int_equal(rp_replay_parse_speed("0", &v), RP_E_USAGE);
	assert_int_equal(rp_replay_parse_speed("-1", &v), RP_E_USAGE);
	assert_int_equal(rp_replay_parse_speed("x", &v), RP_E_USAGE);
	assert_int_equal(rp_replay_parse_speed("2xx", &v), RP_E_USAGE);
	assert_int_equal(rp_replay_parse_speed("nan", &v), RP_E_USAGE);
	int64_t t;
	assert_int_equal(rp_replay_parse_time("+5m", T0, &t), 0);
	assert_int_equal(t, T0 + 300 * S);
	assert_int_equal(rp_replay_parse_time("+1h30m", T0, &t), 0);
	assert_int_equal(t, T0 + 5400 * S);
	assert_int_equal(rp_replay_parse_time("2026-11-22T09:00:01Z", 0, &t), 0);
	assert_int_equal(t, T0 + S);
	assert_int_equal(rp_replay_parse_time("@1795338000", 0, &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(rp_replay_parse_time("+5 minutes", T0, &t), RP_E_USAGE);
	assert_int_equal(rp_replay_parse_time("yesterday", T0, &t), RP_E_USAGE);
}

static void test_sample(void **state)
{
	(void)state;
	int in10 = 0, in50 = 0;
	for (uint64_t c = 1; c <= 20000; c++) {
		int a = rp_replay_sampled(c, 10), b = rp_replay_sampled(c, 50);
		assert_int_equal(a, rp_replay_sampled(c, 10)); /* deterministic */
		if (a)
			assert_true(b); /* nested */
		in10 += a;
		in50 += b;
		assert_true(rp_replay_sampled(c, 100));
		assert_false(rp_replay_sampled(c, 0));
	}
	/* proportional within a few standard deviations */
	assert_true(abs(in10 - 2000) < 200);
	assert_true(abs(in50 - 10000) < 400);
}

static void test_select(void **state)
{
	(void)state;
	struct rp_exchange *x = rp_exchange_new();
	x->id = 5;
	x->conn_id = 9;
	x->t.req_start = T0 + 10 * S;
	struct rp_replay_select sel = {0};
	assert_true(rp_replay_selected(&sel, x));
	sel.from_ns = T0 + 10 * S;
	assert_true(rp_replay_selected(&sel, x));
	sel.to_ns = T0 + 10 * S;
	assert_false(rp_replay_selected(&sel, x)); /* to is exclusive */
	sel.to_ns = 0;
	sel.id = 6;
	assert_false(rp_replay_selected(&sel, x));
	sel.id = 5;
	sel.one_conn = 1;
	sel.conn = 9;
	assert_true(rp_replay_selected(&sel, x));
	sel.conn = 8;
	assert_false(rp_replay_selected(&sel, x));
	rp_exchange_free(x);
}

static void test_hist(void **state)
{
	(void)state;
	struct rp_replay_hist *h = calloc(1, sizeof(*h));
	assert_int_equal(rp_replay_hist_quantile(h, 0.5), 0);
	for (int64_t v = 1; v <= 100000; v++)
		rp_replay_hist_add(h, v * 1000); /* 1 us .. 100 ms */
	assert_int_equal(h->count, 100000);
	assert_int_equal(h->min, 1000);
	assert_int_equal(h->max, 100000000);
	int64_t p50 = rp_replay_hist_quantile(h, 0.5), p99 = rp_replay_hist_quantile(h, 0.99);
	assert_true(fabs((double)p50 - 50e6) / 50e6 < 1.0 / 32);
	assert_true(fabs((double)p99 - 99e6) / 99e6 < 1.0 / 32);
	assert_int_equal(rp_replay_hist_quantile(h, 1), 100000000);
	assert_int_equal(rp_replay_hist_quantile(h, 0), 1000);
	/* small values are exact; negative ones count as 0 */
	struct rp_replay_hist *g = calloc(1, sizeof(*g));
	rp_replay_hist_add(g, 3);
	rp_replay_hist_add(g, -5);
	assert_int_equal(rp_replay_hist_quantile(g, 0.5), 0);
	assert_int_equal(rp_replay_hist_quantile(g, 0.75), 3);
	/* huge values land in the last bucket, not out of bounds */
	rp_replay_hist_add(g, INT64_MAX);
	assert_int_equal(g->max, INT64_MAX);
	rp_replay_hist_merge(h, g);
	assert_int_equal(h->count, 100003);
	assert_int_equal(h->min, 0);
	free(g);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_speed), cmocka_unit_test(test_due_rate),
		cmocka_unit_test(test_parse),     cmocka_unit_test(test_sample),
		cmocka_unit_test(test_select),    cmocka_unit_test(test_hist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
