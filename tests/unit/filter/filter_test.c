/*
 * filter_test: the filter language of filter.h as a table of expressions
 * against five exchanges that differ in every field a term reads, plus a
 * table of malformed expressions with the column and message each must give.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "reprise/filter.h"

#define T0 INT64_C(1795338000000000000) /* 2026-11-22T09:00:00Z */
#define MIN INT64_C(60000000000)

struct fixture {
	const char *method, *authority, *target;
	uint16_t status;
	enum rp_proto proto;
	uint64_t conn;
	int64_t start;
	uint32_t flags;
};

static const struct fixture fixtures[] = {
	{"GET", "api.example.com:8443", "/api/users/42?x=1", 200, RP_PROTO_H11, 7, T0, 0},
	{"POST", "shop.example.com", "/api/orders", 201, RP_PROTO_H2, 8, T0 + 5 * MIN, 0},
	{"GET", "static.other.org", "/logo.png", 404, RP_PROTO_H10, 9, T0 + 10 * MIN, RP_XF_GAP},
	{"DELETE", "api.example.com", "/api/users/1", 0, RP_PROTO_H2C, 7, T0 + 60 * MIN,
	 RP_XF_NO_RESPONSE},
	{"get", "[::1]:8080", "/health", 503, RP_PROTO_H11, 10, T0 + 120 * MIN, RP_XF_MASKED},
};
#define NX RP_ARRAY_LEN(fixtures)

static struct rp_exchange *xs[NX];

static int setup(void **state)
{
	for (size_t i = 0; i < NX; i++) {
		struct rp_exchange *x = rp_exchange_new();
		x->req.method = rp_slice_str(fixtures[i].method);
		x->req.scheme = RP_SLICE_LIT("http");
		x->req.authority = rp_slice_str(fixtures[i].authority);
		x->req.target = rp_slice_str(fixtures[i].target);
		x->resp.status = fixtures[i].status;
		x->proto = fixtures[i].proto;
		x->conn_id = fixtures[i].conn;
		x->t.req_start = fixtures[i].start;
		x->flags = fixtures[i].flags;
		xs[i] = x;
	}
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	for (size_t i = 0; i < NX; i++)
		rp_exchange_free(xs[i]);
	(void)state;
	return 0;
}

/* Each expression and the exchanges it selects, as a bit per fixture. */
static const struct {
	const char *expr;
	unsigned want;
} matches[] = {
	{"", 0x1f},
	{"   ", 0x1f},
	{"method=GET", 0x15},
	{"method=get", 0x15},
	{"method=GET,POST", 0x17},
	{"method = POST", 0x02},
	{"method!=GET", 0x0a},
	{"host=api.example.com", 0x09},
	{"host=API.Example.COM", 0x09},
	{"host=api.example.com:8443", 0x01},
	{"host=*.example.com", 0x0b},
	{"host=*.example.com:*", 0x01},
	{"host=[::1]", 0x10},
	{"host=*.org,[::1]:8080", 0x14},
	{"host~^api\\.", 0x09},
	{"host~':8443$'", 0x01},
	{"path~^/api/users/\\d+", 0x09},
	{"path~\"^/api/(users|orders)\"", 0x0b},
	{"path~^/api/(users|orders)", 0x0b},
	{"(path~^/api/(users|orders))", 0x0b},
	{"path~x=1$", 0x01},
	{"path!~^/api", 0x14},
	{"path=/api/*", 0x0b},
	{"path=/logo.png,/health", 0x14},
	{"path=/api/users/?", 0x08},
	{"status=200", 0x01},
	{"status=2xx", 0x03},
	{"status=2XX", 0x03},
	{"status=4xx,5xx", 0x14},
	{"status=500-599", 0x10},
	{"status=0", 0x08},
	{"noresponse", 0x08},
	{"not noresponse", 0x17},
	{"status=200-404", 0x07},
	{"since=2026-11-22T09:05:00Z", 0x1e},
	{"until=2026-11-22T09:05:00Z", 0x01},
	{"since=+5m until=+1h", 0x06},
	{"since=+1h30m", 0x10},
	{"since=@1795338000", 0x1f},
	{"until=2026-11-22T10:05:00+01:00", 0x01},
	{"flag=gap", 0x04},
	{"flag=no-response,gap", 0x0c},
	{"flag=complete", 0x13},
	{"flag=incomplete", 0x0c},
	{"flag=masked", 0x10},
	{"flag!=masked", 0x0f},
	{"conn=7", 0x09},
	{"conn=8,9", 0x06},
	{"proto=h1.1", 0x11},
	{"proto=h1", 0x15},
	{"proto=h2,h2c", 0x0a},
	{"method=GET status=200", 0x01},
	{"method=GET,status=200", 0x01},
	{"method=GET, status=200", 0x01},
	{"method=GET and status=200", 0x01},
	{"method=GET AND status=200", 0x01},
	{"method=POST or status=404", 0x06},
	{"method=POST or status=404 and proto=h2", 0x02},
	{"(method=POST or status=404) and proto=h1.0", 0x04},
	{"not (method=GET or method=POST)", 0x08},
	{"!method=GET", 0x0a},
	{"not not method=GET", 0x15},
	{"((((conn=7))))", 0x09},
	{"host=*.example.com and not path~orders or status=503", 0x19},
	{"method=GET,POST,status=2xx", 0x03},
};

static void test_matches(void **state)
{
	(void)state;
	for (size_t i = 0; i < RP_ARRAY_LEN(matches); i++) {
		struct rp_filter *f = NULL;
		char err[512];
		int rc = rp_filter_compile(matches[i].expr, T0, &f, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "expr %zu '%s': %s\n", i, matches[i].expr, err);
			fail();
		}
		unsigned got = 0;
		for (size_t j = 0; j < NX; j++)
			if (rp_filter_match(f, xs[j]))
				got |= 1u << j;
		if (got != matches[i].want) {
			fprintf(stderr, "expr '%s': got 0x%02x want 0x%02x\n", matches[i].expr, got,
				matches[i].want);
			fail();
		}
		rp_filter_free(f);
	}
}

/* Malformed expressions: the column (1-based) and a part of the message. */
static const struct {
	const char *expr;
	unsigned col;
	const char *msg;
} errors[] = {
	{"status=abc", 8, "expected a status like 200, 4xx or 500-599"},
	{"method=GET status=20x0", 19, "expected a status like 200, 4xx or 500-599"},
	{"status=200,,404", 12, "expected a status"},
	{"status=600-500", 8, "expected a status"},
	{"status=1000", 8, "expected a status"},
	{"metod=GET", 1, "unknown key 'metod'"},
	{"method", 7, "expected '=', '!=' or '~' after 'method'"},
	{"status~2..", 1, "works only with host and path"},
	{"path~(abc", 10, "invalid regular expression"},
	{"path~'a(b'", 10, "invalid regular expression"},
	{"(method=GET", 12, "expected ')' to close the '(' at column 1"},
	{"method=GET)", 11, "unbalanced ')'"},
	{"method=GET and", 15, "expected a term"},
	{"method=GET or", 14, "expected a term"},
	{"()", 2, "unexpected ')'"},
	{"=GET", 1, "expected a term"},
	{"not", 4, "expected a term"},
	{"host=", 6, "expected a host"},
	{"host= status=200", 6, "expected a host"},
	{"since=yesterday", 7, "expected a time"},
	{"until=+5x", 7, "expected a time"},
	{"flag=gapp", 6, "unknown flag 'gapp'"},
	{"flag=gap,nope", 10, "unknown flag 'nope'"},
	{"conn=abc", 6, "expected a connection id"},
	{"proto=h3", 7, "unknown protocol 'h3'"},
	{"path~\"abc", 6, "unterminated double quote"},
	{"method=GET status=200 )", 23, "unbalanced ')'"},
	{"method=GET @", 12, "expected a term"},
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < RP_ARRAY_LEN(errors); i++) {
		struct rp_filter *f = NULL;
		char err[512], want[64];
		int rc = rp_filter_compile(errors[i].expr, T0, &f, err, sizeof(err));
		if (rc != RP_E_USAGE || f) {
			fprintf(stderr, "expr '%s' compiled\n", errors[i].expr);
			fail();
		}
		snprintf(want, sizeof(want), "filter: column %u: ", errors[i].col);
		if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, errors[i].msg)) {
			fprintf(stderr, "expr '%s': got '%s', want '%s...%s'\n", errors[i].expr, err,
				want, errors[i].msg);
			fail();
		}
	}
}

static void test_depth_and_length(void **state)
{
	(void)state;
	char expr[RP_FILTER_MAX_LEN + 2];
	char err[256];
	struct rp_filter *f = NULL;
	/* nesting past the limit is refused, not a stack overflow */
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		expr[n++] = '(';
	memcpy(expr + n, "conn=7", 7);
	assert_int_equal(rp_filter_compile(expr, 0, &f, err, sizeof(err)), RP_E_USAGE);
	assert_non_null(strstr(err, "nested deeper than"));
	n = 0;
	for (int i = 0; i < 100; i++) {
		memcpy(expr + n, "not ", 4);
		n += 4;
	}
	memcpy(expr + n, "conn=7", 7);
	assert_int_equal(rp_filter_compile(expr, 0, &f, err, sizeof(err)), RP_E_USAGE);
	/* a long flat chain is fine (n-ary, no recursion per term) */
	n = 0;
	while (n + 8 < RP_FILTER_MAX_LEN) {
		memcpy(expr + n, "conn=7 ", 7);
		n += 7;
	}
	expr[n] = '\0';
	assert_int_equal(rp_filter_compile(expr, 0, &f, err, sizeof(err)), 0);
	assert_true(rp_filter_match(f, xs[0]));
	assert_false(rp_filter_match(f, xs[1]));
	rp_filter_free(f);
	memset(expr, ' ', sizeof(expr) - 1);
	expr[sizeof(expr) - 1] = '\0';
	assert_int_equal(rp_filter_compile(expr, 0, &f, err, sizeof(err)), RP_E_USAGE);
	assert_non_null(strstr(err, "longer than"));
	/* NULL error buffer is allowed */
	assert_int_equal(rp_filter_compile("status=x", 0, &f, NULL, 0), RP_E_USAGE);
	rp_filter_free(NULL);
}

static void test_catastrophic_regex(void **state)
{
	(void)state;
	struct rp_filter *f = NULL;
	char err[256];
	assert_int_equal(rp_filter_compile("path~'^(a+)+$'", 0, &f, err, sizeof(err)), 0);
	struct rp_exchange *x = rp_exchange_new();
	static const char evil[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
	x->req.target = rp_slice_str(evil);
	assert_false(rp_filter_match(f, x)); /* ends at the match limit */
	rp_exchange_free(x);
	rp_filter_free(f);
}

static void test_duration_and_flags(void **state)
{
	(void)state;
	int64_t d;
	assert_int_equal(rp_filter_parse_duration("1h30m", 5, &d), 0);
	assert_true(d == 90 * MIN);
	assert_int_equal(rp_filter_parse_duration("250ms", 5, &d), 0);
	assert_true(d == 250000000);
	assert_int_equal(rp_filter_parse_duration("2d", 2, &d), 0);
	assert_int_equal(rp_filter_parse_duration("", 0, &d), RP_E_FORMAT);
	assert_int_equal(rp_filter_parse_duration("5", 1, &d), RP_E_FORMAT);
	assert_int_equal(rp_filter_parse_duration("m", 1, &d), RP_E_FORMAT);
	assert_int_equal(rp_filter_parse_duration("99999999999999d", 15, &d), RP_E_FORMAT);
	uint32_t bit;
	assert_int_equal(rp_filter_flag_bit(RP_SLICE_LIT("gap"), &bit), 0);
	assert_int_equal(bit, RP_XF_GAP);
	assert_int_equal(rp_filter_flag_bit(RP_SLICE_LIT("no-response"), &bit), 0);
	assert_int_equal(bit, RP_XF_NO_RESPONSE);
	assert_int_equal(rp_filter_flag_bit(RP_SLICE_LIT("masked"), &bit), 0);
	assert_int_equal(bit, RP_XF_MASKED);
	assert_int_equal(rp_filter_flag_bit(RP_SLICE_LIT("complete"), &bit), RP_E_NOTFOUND);
}

/* Random expressions from the language's own alphabet: each compiles or
 * fails with a column inside the expression, and never crashes. */
static void test_random_expressions(void **state)
{
	(void)state;
	static const char *const parts[] = {
		"method=", "GET", ",", " ", "and", "or", "not", "(", ")", "!", "status=",
		"4xx", "500-599", "path~", "'", "\"", "\\", "^/a", "host=", "*.", "since=",
		"+5m", "flag=", "gap", "conn=", "7", "proto=", "h2", "noresponse", "~", "=",
		"!=", "x", "[", "{1,2}", "\xff", "\t",
	};
	unsigned seed = 7;
	for (int round = 0; round < 20000; round++) {
		char expr[256];
		size_t n = 0;
		seed = seed * 1103515245 + 12345;
		int k = (int)((seed >> 16) % 12);
		for (int i = 0; i < k; i++) {
			seed = seed * 1103515245 + 12345;
			const char *p = parts[(seed >> 16) % RP_ARRAY_LEN(parts)];
			size_t l = strlen(p);
			if (n + l >= sizeof(expr))
				break;
			memcpy(expr + n, p, l);
			n += l;
		}
		expr[n] = '\0';
		struct rp_filter *f = NULL;
		char err[512];
		int rc = rp_filter_compile(expr, T0, &f, err, sizeof(err));
		if (rc == 0) {
			for (size_t j = 0; j < NX; j++)
				(void)rp_filter_match(f, xs[j]);
			rp_filter_free(f);
			continue;
		}
		unsigned col = 0;
		if (sscanf(err, "filter: column %u: ", &col) != 1 || col < 1 || col > n + 1) {
			fprintf(stderr, "'%s': bad message '%s'\n", expr, err);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth_and_length),
		cmocka_unit_test(test_catastrophic_regex),
		cmocka_unit_test(test_duration_and_flags),
		cmocka_unit_test(test_random_expressions),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
