/*
 * exchange_test: the data model helpers (src/exchange/exchange.c) — body
 * decoding by Content-Encoding (every coding, stacked and repeated header
 * lines, empty bodies, unknown and corrupt codings, the cap), flag names,
 * endpoints in both families and malformed ones, protocol names, and the
 * ordered header list.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "reprise/coding.h"
#include "reprise/exchange.h"

static const char body_text[] =
	"{\"users\":[{\"id\":1,\"email\":\"a@example.com\"},{\"id\":2,\"email\":\"b@example.com\"}]}";

/* A message whose body is |body_text| encoded with |coding| and labelled
 * with the Content-Encoding header lines |ce| (NULL-terminated). */
static struct rp_message *message(struct rp_exchange *x, const char *coding, const char *const *ce)
{
	struct rp_message *m = &x->resp.m;
	struct rp_buf b;
	rp_buf_init(&b, 1 << 20);
	assert_int_equal(rp_coding_encode(rp_slice_str(coding), RP_SLICE_LIT(body_text), &b), 0);
	m->body = rp_pool_dup(x->pool, rp_buf_slice(&b));
	rp_buf_dispose(&b);
	rp_headers_add(&m->headers, x->pool, RP_SLICE_LIT("Content-Type"), RP_SLICE_LIT("application/json"));
	for (; ce && *ce; ce++)
		rp_headers_add(&m->headers, x->pool, RP_SLICE_LIT("Content-Encoding"), rp_slice_str(*ce));
	return m;
}

static void test_decode_body(void **state)
{
	static const struct {
		const char *coding;
		const char *ce[3];
		const char *remembered;
	} v[] = {
		{"gzip", {"gzip"}, "gzip"},
		{"gzip", {"x-gzip"}, "x-gzip"},
		{"deflate", {"deflate"}, "deflate"},
		{"br", {"br"}, "br"},
		{"zstd", {"zstd"}, "zstd"},
		{"gzip, br", {"gzip, br"}, "gzip, br"},
		{"gzip, br", {"GZIP", "Br"}, "GZIP, Br"}, /* two header lines are one list */
		{"zstd, identity", {"zstd", "identity"}, "zstd, identity"},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(v); i++) {
		struct rp_exchange *x = rp_exchange_new();
		struct rp_message *m = message(x, v[i].coding, v[i].ce);
		size_t wire = m->body.n;
		int rc = rp_message_decode_body(m, x->pool, 1 << 20);
		if (rc)
			fail_msg("%s: %s", v[i].remembered, rp_err_name(rc));
		assert_true(rp_slice_eq(m->body, RP_SLICE_LIT(body_text)));
		assert_true(rp_slice_eq(m->encoding, rp_slice_str(v[i].remembered)));
		assert_int_equal(m->wire_len, wire);
		assert_int_equal(m->orig_len, sizeof(body_text) - 1);
		rp_exchange_free(x);
	}
}

static void test_decode_body_plain(void **state)
{
	static const char *const none[] = {NULL};
	static const char *const ident[] = {"identity", NULL};
	static const char *const empty[] = {"", NULL};
	const char *const *cases[] = {none, ident, empty};
	for (size_t i = 0; i < RP_ARRAY_LEN(cases); i++) {
		struct rp_exchange *x = rp_exchange_new();
		struct rp_message *m = message(x, "identity", cases[i]);
		assert_int_equal(rp_message_decode_body(m, x->pool, 1 << 20), 0);
		assert_true(rp_slice_eq(m->body, RP_SLICE_LIT(body_text)));
		assert_int_equal(m->encoding.n, 0);
		assert_int_equal(m->wire_len, sizeof(body_text) - 1);
		assert_int_equal(m->orig_len, sizeof(body_text) - 1);
		rp_exchange_free(x);
	}
}

/* HEAD responses, 204 and 304 carry Content-Encoding and no body: nothing
 * to decode, and nothing wrong. */
static void test_decode_body_empty(void **state)
{
	static const char *const ce[] = {"gzip", NULL};
	struct rp_exchange *x = rp_exchange_new();
	struct rp_message *m = message(x, "identity", ce);
	m->body = RP_SLICE_NULL;
	assert_int_equal(rp_message_decode_body(m, x->pool, 1 << 20), 0);
	assert_int_equal(m->body.n, 0);
	assert_int_equal(m->wire_len, 0);
	assert_int_equal(m->orig_len, 0);
	rp_exchange_free(x);
}

static void test_decode_body_errors(void **state)
{
	static const char *const unknown[] = {"compress", NULL};
	static const char *const mixed[] = {"gzip", "sdch", NULL};
	static const char *const gz[] = {"gzip", NULL};
	static const char *const brz[] = {"br", NULL};
	struct {
		const char *coding;
		const char *const *ce;
		int corrupt;
		size_t max;
		int rc;
	} v[] = {
		{"identity", unknown, 0, 1 << 20, RP_E_FORMAT},
		{"gzip", mixed, 0, 1 << 20, RP_E_FORMAT},
		{"gzip", gz, 1, 1 << 20, RP_E_FORMAT},  /* corrupt */
		{"gzip", brz, 0, 1 << 20, RP_E_FORMAT}, /* mislabelled */
		{"gzip", gz, 0, 20, RP_E_LIMIT},        /* past the cap */
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(v); i++) {
		struct rp_exchange *x = rp_exchange_new();
		struct rp_message *m = message(x, v[i].coding, v[i].ce);
		if (v[i].corrupt)
			((uint8_t *)m->body.p)[m->body.n - 3] ^= 0xff;
		struct rp_slice before = m->body;
		assert_int_equal(rp_message_decode_body(m, x->pool, v[i].max), v[i].rc);
		assert_true(m->body.p == before.p && m->body.n == before.n); /* left as it was */
		assert_int_equal(m->encoding.n, 0);
		rp_exchange_free(x);
	}
}

static void test_xflags(void **state)
{
	char out[256];
	assert_string_equal(rp_xflags_format(0, out, sizeof(out)), "complete");
	assert_string_equal(rp_xflags_format(RP_XF_MASKED, out, sizeof(out)), "complete,masked");
	assert_string_equal(rp_xflags_format(RP_XF_GAP | RP_XF_NO_RESPONSE, out, sizeof(out)),
			    "no-response,gap");
	assert_string_equal(rp_xflags_format(RP_XF_MASKED | RP_XF_CONNECT | RP_XF_UPGRADE, out,
					     sizeof(out)),
			    "complete,masked,upgrade,connect");
	assert_string_equal(rp_xflags_format(1u << 30, out, sizeof(out)), "complete");
	rp_xflags_format(0xffffffffu, out, sizeof(out));
	assert_string_equal(out, "req-truncated,resp-truncated,no-response,gap,anomaly,undecodable,"
				 "masked,upgrade,connect,failed,coding-error,no-request");
	/* a short buffer is cut, never overrun */
	char small[12];
	memset(small, 'Z', sizeof(small));
	rp_xflags_format(0xffffffffu, small, 8);
	assert_true(strlen(small) < 8);
	assert_int_equal(small[8], 'Z');
}

static void test_endpoints(void **state)
{
	static const struct {
		const char *in, *out;
		int family;
		uint16_t port;
	} good[] = {
		{"1.2.3.4:80", "1.2.3.4:80", 4, 80},
		{"0.0.0.0:0", "0.0.0.0:0", 4, 0},
		{"255.255.255.255:65535", "255.255.255.255:65535", 4, 65535},
		{"[::1]:8080", "[::1]:8080", 6, 8080},
		{"[2001:db8::42]:443", "[2001:db8::42]:443", 6, 443},
		{"[2001:0DB8:0:0:0:0:0:42]:443", "[2001:db8::42]:443", 6, 443},
		{"[::ffff:10.0.0.1]:1", "[::ffff:10.0.0.1]:1", 6, 1},
		{"10.0.0.1:0080", "10.0.0.1:80", 4, 80},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(good); i++) {
		struct rp_endpoint e;
		char buf[64];
		if (rp_endpoint_parse(good[i].in, &e))
			fail_msg("\"%s\" refused", good[i].in);
		assert_int_equal(e.family, good[i].family);
		assert_int_equal(e.port, good[i].port);
		rp_endpoint_format(&e, buf, sizeof(buf));
		assert_string_equal(buf, good[i].out);
		struct rp_endpoint again;
		assert_int_equal(rp_endpoint_parse(buf, &again), 0);
		assert_memory_equal(&again, &e, sizeof(e));
	}
	static const char *const bad[] = {
		"", ":", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+80",
		"1.2.3.4:80x", "1.2.3.4: 80", "256.1.1.1:80", "1.2.3:80", "host:80", "::1:80",
		"[::1]80", "[::1]:", "[::1", "[zz::1]:80", "[1.2.3.4]:80", "[::1]:80:90",
		"[]:80", "1.2.3.4:99999999999999999999999",
		"[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]:1",
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(bad); i++) {
		struct rp_endpoint e;
		if (rp_endpoint_parse(bad[i], &e) != RP_E_FORMAT)
			fail_msg("\"%s\" accepted", bad[i]);
	}
	struct rp_endpoint unknown = {0};
	char buf[64];
	rp_endpoint_format(&unknown, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	unknown.family = 9;
	rp_endpoint_format(&unknown, buf, sizeof(buf));
	assert_string_equal(buf, "-");
}

static void test_proto(void **state)
{
	for (int p = RP_PROTO_UNKNOWN; p <= RP_PROTO_H2C; p++) {
		enum rp_proto q;
		assert_int_equal(rp_proto_parse(rp_slice_str(rp_proto_name((enum rp_proto)p)), &q), 0);
		assert_int_equal(q, p);
	}
	assert_string_equal(rp_proto_name((enum rp_proto)77), "?");
	enum rp_proto q;
	assert_int_equal(rp_proto_parse(RP_SLICE_LIT("h3"), &q), RP_E_FORMAT);
	assert_int_equal(rp_proto_parse(RP_SLICE_LIT(""), &q), RP_E_FORMAT);
	assert_int_equal(rp_proto_parse(RP_SLICE_LIT("H2"), &q), RP_E_FORMAT);
}

static void test_headers(void **state)
{
	struct rp_exchange *x = rp_exchange_new();
	struct rp_headers *h = &x->req.m.headers;
	char name[8] = "Set-Me", value[8] = "one";
	rp_headers_add(h, x->pool, rp_slice_str(name), rp_slice_str(value));
	strcpy(value, "two"); /* rp_headers_add copies */
	rp_headers_add(h, x->pool, rp_slice_str(name), rp_slice_str(value));
	for (int i = 0; i < 40; i++) /* grows past the first table */
		rp_headers_add(h, x->pool, RP_SLICE_LIT("X-N"), RP_SLICE_LIT("n"));
	rp_headers_add_ref(h, x->pool, RP_SLICE_LIT("set-me"), RP_SLICE_LIT("three"));
	assert_int_equal(h->n, 43);
	const struct rp_header *g = rp_headers_get(h, RP_SLICE_LIT("SET-ME"));
	assert_non_null(g);
	assert_true(rp_slice_eq(g->value, RP_SLICE_LIT("one")));
	assert_null(rp_headers_get(h, RP_SLICE_LIT("Set-M")));
	assert_int_equal(rp_headers_del(h, RP_SLICE_LIT("x-n")), 40);
	assert_int_equal(h->n, 3);
	assert_true(rp_slice_eq(h->v[0].value, RP_SLICE_LIT("one")));
	assert_true(rp_slice_eq(h->v[1].value, RP_SLICE_LIT("two")));
	assert_true(rp_slice_eq(h->v[2].value, RP_SLICE_LIT("three")));
	assert_true(rp_slice_eq(h->v[2].name, RP_SLICE_LIT("set-me"))); /* case kept */
	assert_int_equal(rp_headers_del(h, RP_SLICE_LIT("absent")), 0);
	rp_exchange_free(x);
	rp_exchange_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_body),
		cmocka_unit_test(test_decode_body_plain),
		cmocka_unit_test(test_decode_body_empty),
		cmocka_unit_test(test_decode_body_errors),
		cmocka_unit_test(test_xflags),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
