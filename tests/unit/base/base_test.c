/*
 * base_test: the base helpers (src/base) — rp_buf invariants and caps under
 * random operations, rp_pool alignment, integrity and reset, slice helpers,
 * decimal parsing at the uint64 boundary, RFC 3339 time parsing and
 * formatting (offsets, fractions, range), hex and error names.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "reprise/base.h"

static uint64_t rng_state = 0xba5e;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void assert_invariant(const struct rp_buf *b)
{
	if (!(b->rd <= b->wr && b->wr <= b->cap && b->cap <= b->max))
		fail_msg("buffer invariant broken: rd %zu wr %zu cap %zu max %zu", b->rd, b->wr,
			 b->cap, b->max);
}

/* Random appends, reserves, commits and consumes against a shadow copy: the
 * readable bytes always match, the invariant always holds, and nothing is
 * ever accepted past |max|. */
static void test_buf_random(void **state)
{
	static const size_t maxes[] = {0, 1, 7, 100, 255, 256, 257, 1000, 70000};
	for (size_t mi = 0; mi < RP_ARRAY_LEN(maxes); mi++) {
		size_t max = maxes[mi];
		struct rp_buf b;
		rp_buf_init(&b, max);
		uint8_t *shadow = malloc(max + 1);
		size_t len = 0;
		uint8_t tick = 0;
		for (int op = 0; op < 20000; op++) {
			size_t n = (size_t)(rnd() % (max / 2 + 3));
			switch (rnd() % 4) {
			case 0: { /* append */
				uint8_t tmp[40000];
				n = RP_MIN(n, sizeof(tmp));
				for (size_t i = 0; i < n; i++)
					tmp[i] = tick++;
				int rc = rp_buf_append(&b, tmp, n);
				if (len + n <= max) {
					assert_int_equal(rc, 0);
					memcpy(shadow + len, tmp, n);
					len += n;
				} else {
					assert_int_equal(rc, RP_E_LIMIT);
				}
				break;
			}
			case 1: { /* reserve, write part, commit */
				int rc = rp_buf_reserve(&b, n);
				if (len + n > max) {
					assert_int_equal(rc, RP_E_LIMIT);
					break;
				}
				assert_int_equal(rc, 0);
				assert_true(b.cap - b.wr >= n);
				size_t k = n ? (size_t)(rnd() % (n + 1)) : 0;
				for (size_t i = 0; i < k; i++)
					b.base[b.wr + i] = shadow[len + i] = tick++;
				rp_buf_commit(&b, k);
				len += k;
				break;
			}
			case 2: { /* consume */
				size_t k = len ? (size_t)(rnd() % (len + 1)) : 0;
				rp_buf_consume(&b, k);
				memmove(shadow, shadow + k, len - k);
				len -= k;
				break;
			}
			default:
				if (rnd() % 50 == 0) {
					rp_buf_clear(&b);
					len = 0;
				}
			}
			assert_invariant(&b);
			assert_int_equal(rp_buf_len(&b), len);
			if (len)
				assert_memory_equal(b.base + b.rd, shadow, len);
		}
		rp_buf_dispose(&b);
		assert_null(b.base);
		assert_int_equal(rp_buf_len(&b), 0);
		free(shadow);
	}
}

static void test_buf_edges(void **state)
{
	struct rp_buf b;
	rp_buf_init(&b, 10);
	assert_int_equal(rp_buf_reserve(&b, 11), RP_E_LIMIT);
	assert_int_equal(rp_buf_reserve(&b, SIZE_MAX), RP_E_LIMIT);
	assert_int_equal(rp_buf_append(&b, "0123456789", 10), 0);
	assert_true(b.cap <= 10);
	assert_int_equal(rp_buf_append(&b, "x", 1), RP_E_LIMIT);
	assert_int_equal(rp_buf_append(&b, NULL, 0), 0);
	rp_buf_consume(&b, 4);
	/* room comes back by moving the unread bytes down */
	assert_int_equal(rp_buf_append(&b, "abcd", 4), 0);
	assert_int_equal(rp_buf_len(&b), 10);
	assert_memory_equal(b.base + b.rd, "456789abcd", 10);
	rp_buf_consume(&b, 10);
	assert_int_equal(b.rd, 0); /* empty: offsets back at the start */
	assert_int_equal(b.wr, 0);
	rp_buf_dispose(&b);

	rp_buf_init(&b, 64);
	assert_int_equal(rp_buf_printf(&b, "%s=%d", "a", 42), 0);
	assert_int_equal(rp_buf_len(&b), 4);
	assert_memory_equal(b.base, "a=42", 4);
	assert_int_equal(rp_buf_printf(&b, "%0100d", 1), RP_E_LIMIT);
	assert_int_equal(rp_buf_len(&b), 4);
	struct rp_slice s = rp_buf_slice(&b);
	assert_true(rp_slice_eq(s, RP_SLICE_LIT("a=42")));
	rp_buf_dispose(&b);
	rp_buf_dispose(&b); /* twice is fine */
}

static void test_pool(void **state)
{
	struct rp_pool *pool = rp_pool_new(1024);
	uint8_t *blocks[3000];
	size_t sizes[3000];
	size_t total = 0;
	for (int i = 0; i < 3000; i++) {
		sizes[i] = (size_t)(rnd() % 5 == 0 ? rnd() % 5000 : rnd() % 100);
		blocks[i] = rp_pool_alloc(pool, sizes[i]);
		assert_int_equal((uintptr_t)blocks[i] % 16, 0);
		memset(blocks[i], i & 0xff, sizes[i]);
		total += sizes[i];
	}
	for (int i = 0; i < 3000; i++) /* no block overlaps another */
		for (size_t k = 0; k < sizes[i]; k++)
			if (blocks[i][k] != (i & 0xff))
				fail_msg("block %d overwritten at %zu", i, k);
	assert_true(rp_pool_used(pool) >= total);
	uint8_t *z = rp_pool_calloc(pool, 333);
	for (int i = 0; i < 333; i++)
		assert_int_equal(z[i], 0);
	struct rp_slice d = rp_pool_dup(pool, RP_SLICE_LIT("dup me"));
	assert_true(rp_slice_eq(d, RP_SLICE_LIT("dup me")));
	struct rp_slice e = rp_pool_dup(pool, RP_SLICE_NULL);
	assert_non_null(e.p);
	assert_int_equal(e.n, 0);
	char *sd = rp_pool_strndup(pool, "abcdef", 3);
	assert_string_equal(sd, "abc");
	assert_string_equal(rp_pool_strndup(pool, NULL, 0), "");

	rp_pool_reset(pool);
	assert_int_equal(rp_pool_used(pool), 0);
	for (int i = 0; i < 100; i++) {
		uint8_t *p = rp_pool_alloc(pool, 200);
		memset(p, 0xee, 200);
	}
	assert_int_equal(rp_pool_used(pool), 100 * 208);
	rp_pool_free(pool);
	rp_pool_free(NULL);

	/* a default pool; a zero-byte block is still a valid pointer */
	pool = rp_pool_new(0);
	assert_non_null(rp_pool_alloc(pool, 0));
	rp_pool_free(pool);
}

static void test_slices(void **state)
{
	assert_true(rp_slice_eq_nocase(RP_SLICE_LIT("Content-Type"), RP_SLICE_LIT("content-TYPE")));
	assert_false(rp_slice_eq_nocase(RP_SLICE_LIT("a"), RP_SLICE_LIT("ab")));
	assert_false(rp_slice_eq_nocase(RP_SLICE_LIT("["), RP_SLICE_LIT("{")));
	assert_true(rp_slice_eq(rp_slice_trim(RP_SLICE_LIT(" \t x y \t")), RP_SLICE_LIT("x y")));
	assert_int_equal(rp_slice_trim(RP_SLICE_LIT(" \t ")).n, 0);
	assert_int_equal(rp_slice_str(NULL).n, 0);

	static const struct {
		const char *list, *tok;
		int has;
	} v[] = {
		{"gzip, chunked", "chunked", 1},
		{"gzip, chunked", "CHUNKED", 1},
		{"gzip,chunked", "gzip", 1},
		{" chunked ", "chunked", 1},
		{"gzip;q=1, br", "gzip", 1},
		{"gzip ; q=1", "gzip", 1},
		{"gzip, chunkedx", "chunked", 0},
		{"xchunked", "chunked", 0},
		{"chunk", "chunked", 0},
		{"", "chunked", 0},
		{"a,,b", "b", 1},
		{"gzip,", "gzip", 1},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(v); i++)
		if (rp_slice_list_has(rp_slice_str(v[i].list), rp_slice_str(v[i].tok)) != v[i].has)
			fail_msg("list_has(\"%s\", \"%s\") != %d", v[i].list, v[i].tok, v[i].has);
	assert_false(rp_slice_list_has(RP_SLICE_NULL, RP_SLICE_LIT("x")));
}

static void test_to_u64(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} v[] = {
		{"0", 0, 0},
		{"007", 0, 7},
		{"18446744073709551615", 0, UINT64_MAX},
		{"18446744073709551610", 0, UINT64_MAX - 5},
		{"18446744073709551616", RP_E_FORMAT, 0},
		{"18446744073709551620", RP_E_FORMAT, 0},
		{"99999999999999999999", RP_E_FORMAT, 0},
		{"184467440737095516150", RP_E_FORMAT, 0},
		{"", RP_E_FORMAT, 0},
		{"-1", RP_E_FORMAT, 0},
		{"+1", RP_E_FORMAT, 0},
		{" 1", RP_E_FORMAT, 0},
		{"1 ", RP_E_FORMAT, 0},
		{"1a", RP_E_FORMAT, 0},
		{"0x10", RP_E_FORMAT, 0},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(v); i++) {
		uint64_t out = 12345;
		int rc = rp_slice_to_u64(rp_slice_str(v[i].s), &out);
		if (rc != v[i].rc)
			fail_msg("to_u64(\"%s\"): %s", v[i].s, rp_err_name(rc));
		if (rc == 0)
			assert_true(out == v[i].v);
		else
			assert_int_equal(out, 12345); /* untouched on error */
	}
}

#define NS 1000000000LL

static void test_time_parse(void **state)
{
	static const struct {
		const char *s;
		int64_t ns;
	} good[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"1970-01-01", 0},
		{"2026-11-22T10:02:03Z", 1795341723 * NS},
		{"2026-11-22t10:02:03z", 1795341723 * NS},
		{"2026-11-22 10:02:03Z", 1795341723 * NS},
		{"2026-11-22T10:02:03", 1795341723 * NS}, /* no offset: UTC */
		{"2026-11-22T10:02Z", 1795341720 * NS},
		{"2026-11-22T10:02:03.5Z", 1795341723 * NS + 500000000},
		{"2026-11-22T10:02:03,25Z", 1795341723 * NS + 250000000},
		{"2026-11-22T10:02:03.123456789Z", 1795341723 * NS + 123456789},
		{"2026-11-22T10:02:03.1234567899Z", 1795341723 * NS + 123456789},
		{"2026-11-22T11:02:03+01:00", 1795341723 * NS},
		{"2026-11-22T04:32:03-0530", 1795341723 * NS},
		{"2026-11-22T10:02:03.5+00:00", 1795341723 * NS + 500000000},
		{"1969-12-31T23:59:59Z", -NS},
		{"1969-12-31T23:59:59.75Z", -NS + 750000000},
		{"2000-02-29T00:00:00Z", 951782400 * NS},
		{"2016-12-31T23:59:60Z", 1483228800 * NS}, /* leap second: the next one */
		{"2262-04-11T23:47:16.854775807Z", INT64_MAX},
		{"1677-09-21T00:12:43.145224192Z", INT64_MIN},
		{"@0", 0},
		{"@1795341723", 1795341723 * NS},
		{"@1795341723.5", 1795341723 * NS + 500000000},
		{"@1795341723.123456789", 1795341723 * NS + 123456789},
		{"@-1.5", -NS - 500000000},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(good); i++) {
		int64_t out = 0;
		int rc = rp_time_parse(good[i].s, &out);
		if (rc || out != good[i].ns)
			fail_msg("\"%s\": %s, %lld instead of %lld", good[i].s, rp_err_name(rc),
				 (long long)out, (long long)good[i].ns);
	}
	static const char *const bad[] = {
		"", "2026", "2026-11", "2026-11-22T", "2026-11-22T10", "2026-11-22T10:",
		"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-11-00T00:00:00Z",
		"2026-11-32T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
		"2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-22T24:00:00Z",
		"2026-11-22T10:60:00Z", "2026-11-22T10:02:61Z", "2026-11-22T10:02:03.Z",
		"2026-11-22T10:02:03+25:00", "2026-11-22T10:02:03+01:60", "2026-11-22T10:02:03+1",
		"2026-11-22T10:02:03ZZ", "2026-11-22T10:02:03 Z", "26-11-22", "2026/11/22",
		"x2026-11-22", "2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:43.145224191Z",
		"9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "@", "@abc", "@1e300", "@nan",
		"@inf", "@1.5x", "@99999999999999999999", "@ 1", "@1e3", "@0x10", "@--1",
		"@9223372037", "@-9223372037",
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(bad); i++) {
		int64_t out = 77;
		if (rp_time_parse(bad[i], &out) != RP_E_FORMAT)
			fail_msg("\"%s\" accepted as %lld", bad[i], (long long)out);
	}
}

static void test_time_format(void **state)
{
	char buf[40];
	rp_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	rp_time_format(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	rp_time_format(1795341723 * NS + 123999999, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-22T10:02:03.123Z");
	rp_time_format(INT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "2262-04-11T23:47:16.854Z");
	rp_time_format(INT64_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "1677-09-21T00:12:43.145Z");

	/* parse(format(t)) is t cut to the millisecond, over the whole range */
	for (int i = 0; i < 20000; i++) {
		int64_t t = (int64_t)rnd();
		if (t < INT64_MIN + NS) /* formatting rounds down past the range */
			continue;
		if (i % 3 == 0)
			t %= 4000000000LL * NS; /* near the epoch, either side */
		rp_time_format(t, buf, sizeof(buf));
		int64_t back;
		if (rp_time_parse(buf, &back))
			fail_msg("%lld formatted as \"%s\" does not parse", (long long)t, buf);
		int64_t ms = t / 1000000 - (t % 1000000 < 0);
		if (back != ms * 1000000)
			fail_msg("%lld -> \"%s\" -> %lld", (long long)t, buf, (long long)back);
	}
}

static void test_misc(void **state)
{
	char hex[9];
	rp_hex((const uint8_t *)"\x00\xab\xff\x10", 4, hex);
	assert_string_equal(hex, "00abff10");
	rp_hex(NULL, 0, hex);
	assert_string_equal(hex, "");
	static const int codes[] = {RP_OK, RP_E_AGAIN, RP_E_PROTO, RP_E_LIMIT, RP_E_IO,
				    RP_E_STORE, RP_E_TLS, RP_E_FORMAT, RP_E_VERSION,
				    RP_E_NOTFOUND, RP_E_FULL, RP_E_USAGE, RP_E_CLOSED};
	for (size_t i = 0; i < RP_ARRAY_LEN(codes); i++) {
		assert_string_not_equal(rp_err_name(codes[i]), "unknown");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(rp_err_name(codes[i]), rp_err_name(codes[j]));
	}
	assert_string_equal(rp_err_name(-99), "unknown");
	enum rp_log_level l;
	assert_int_equal(rp_log_parse_level("debug", &l), 0);
	assert_int_equal(l, RP_LOG_DEBUG);
	assert_int_equal(rp_log_parse_level("loud", &l), RP_E_USAGE);
	assert_true(rp_mono_ns() > 0);
	assert_true(rp_now_ns() > 1600000000 * NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_random),
		cmocka_unit_test(test_buf_edges),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_to_u64),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_misc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
