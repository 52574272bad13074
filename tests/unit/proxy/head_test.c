/*
 * head_test: the forwarded head (src/proxy/head.c) — which fields are
 * hop-by-hop, what a Connection header may and may not remove, and the
 * exact bytes written: own start line, kept lines unchanged and in order,
 * added fields, the empty line.  Heads are parsed with the real HTTP/1
 * codec, as the proxy does, so the offsets are the proxy's.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../src/proxy/proxy-int.h"

struct parsed {
	struct rp_proxy_field f[64];
	struct rp_proxy_head h;
	struct rp_slice a, b; /* method and target, or status and reason */
};

/* Parses the head |s| (request or response) into |p| the way conn.c does. */
static void parse(const char *s, enum rp_h1_kind kind, struct parsed *p)
{
	struct rp_h1_parser hp;
	struct rp_h1_event ev;
	const uint8_t *in = (const uint8_t *)s;
	size_t n = strlen(s), off = 0;
	memset(p, 0, sizeof(*p));
	rp_h1_init(&hp, kind, NULL);
	if (kind == RP_H1_RESPONSE)
		rp_h1_set_method(&hp, RP_H1_M_GET);
	p->h.base = in;
	p->h.f = p->f;
	for (;;) {
		ssize_t r = rp_h1_parse(&hp, in + off, n - off, &ev);
		assert_true(r >= 0);
		off += (size_t)r;
		if (ev.type == RP_H1_EV_REQUEST_LINE) {
			p->a = ev.u.req.method;
			p->b = ev.u.req.target;
		} else if (ev.type == RP_H1_EV_STATUS_LINE) {
			p->b = ev.u.status.reason;
		} else if (ev.type == RP_H1_EV_HEADER) {
			struct rp_proxy_field *f = &p->f[p->h.nf++];
			f->off = (uint32_t)(ev.u.field.name.p - in);
			f->len = (uint32_t)(off - f->off);
			f->name_len = (uint32_t)ev.u.field.name.n;
			f->value_off = ev.u.field.value.n ? (uint32_t)(ev.u.field.value.p - in)
							  : f->off + f->name_len;
			f->value_len = (uint32_t)ev.u.field.value.n;
		} else if (ev.type == RP_H1_EV_HEADERS_DONE) {
			p->h.len = off;
			return;
		}
	}
}

/* Writes the forwarded head of |p| and compares it with |want|. */
static void expect_head(struct parsed *p, const struct rp_slice *start, size_t ns,
			const struct rp_slice *extra, size_t ne, const char *want)
{
	size_t n = rp_proxy_head_size(&p->h, start, ns, extra, ne);
	char *out = malloc(n + 1);
	assert_non_null(out);
	rp_proxy_head_write(&p->h, start, ns, extra, ne, (uint8_t *)out);
	out[n] = '\0';
	assert_int_equal(n, strlen(want));
	assert_string_equal(out, want);
	free(out);
}

static void request_start(struct parsed *p, struct rp_slice s[4])
{
	s[0] = p->a;
	s[1] = RP_SLICE_LIT(" ");
	s[2] = p->b;
	s[3] = RP_SLICE_LIT(" HTTP/1.1");
}

static void test_hop_by_hop_dropped(void **state)
{
	(void)state;
	struct parsed p;
	struct rp_slice s[4];
	const char *why = NULL;
	parse("GET /a?b=1 HTTP/1.1\r\n"
	      "Host: example.test\r\n"
	      "Connection: keep-alive, X-Private\r\n"
	      "Keep-Alive: timeout=5\r\n"
	      "X-Private: secret-ish\r\n"
	      "TE: trailers\r\n"
	      "Accept: */*\r\n"
	      "Upgrade: websocket\r\n"
	      "Proxy-Connection: keep-alive\r\n"
	      "Proxy-Authorization: Basic Zm9v\r\n"
	      "Proxy: http://evil.test\r\n"
	      "X-Kept: 1\r\n"
	      "\r\n",
	      RP_H1_REQUEST, &p);
	assert_int_equal(rp_proxy_hop_mark(&p.h, 1, &why), 0);
	request_start(&p, s);
	expect_head(&p, s, 4, NULL, 0,
		    "GET /a?b=1 HTTP/1.1\r\n"
		    "Host: example.test\r\n"
		    "Accept: */*\r\n"
		    "X-Kept: 1\r\n"
		    "\r\n");
}

static void test_connection_tokens_any_case(void **state)
{
	(void)state;
	struct parsed p;
	struct rp_slice s[4];
	parse("POST /x HTTP/1.1\r\n"
	      "host: h\r\n"
	      "CONNECTION: FOO ,bar\r\n"
	      "foo: 1\r\n"
	      "Content-Length: 0\r\n"
	      "connection: baz\r\n"
	      "BAR: 2\r\n"
	      "Baz: 3\r\n"
	      "x-case: KeepMe\r\n"
	      "\r\n",
	      RP_H1_REQUEST, &p);
	assert_int_equal(rp_proxy_hop_mark(&p.h, 1, NULL), 0);
	request_start(&p, s);
	/* names keep their case; the kept lines are byte for byte */
	expect_head(&p, s, 4, NULL, 0,
		    "POST /x HTTP/1.1\r\n"
		    "host: h\r\n"
		    "Content-Length: 0\r\n"
		    "x-case: KeepMe\r\n"
		    "\r\n");
}

static void test_connection_may_not_remove_framing(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"POST / HTTP/1.1\r\nHost: h\r\nConnection: close, Content-Length\r\n"
		"Content-Length: 3\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nConnection: transfer-encoding\r\n"
		"Transfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nConnection: HOST\r\n\r\n",
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(bad); i++) {
		struct parsed p;
		const char *why = NULL;
		parse(bad[i], RP_H1_REQUEST, &p);
		assert_int_equal(rp_proxy_hop_mark(&p.h, 1, &why), RP_E_PROTO);
		assert_non_null(why);
	}
	/* in a response the name is ignored and the framing field kept */
	struct parsed p;
	parse("HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\n",
	      RP_H1_RESPONSE, &p);
	assert_int_equal(rp_proxy_hop_mark(&p.h, 0, NULL), 0);
	assert_int_equal(p.f[0].drop, 1);
	assert_int_equal(p.f[1].drop, 0);
}

static void test_transfer_encoding_kept(void **state)
{
	(void)state;
	struct parsed p;
	struct rp_slice s[4] = {RP_SLICE_LIT("HTTP/1.1 "), RP_SLICE_LIT("200"), RP_SLICE_LIT(" "),
				RP_SLICE_NULL};
	parse("HTTP/1.1 200 OK\r\n"
	      "Transfer-Encoding: chunked\r\n"
	      "Connection: keep-alive\r\n"
	      "Content-Encoding: gzip\r\n"
	      "\r\n",
	      RP_H1_RESPONSE, &p);
	assert_int_equal(rp_proxy_hop_mark(&p.h, 0, NULL), 0);
	s[3] = p.b;
	struct rp_slice extra[2] = {RP_SLICE_LIT("Via: 1.1 reprise"), RP_SLICE_LIT("Connection: close")};
	expect_head(&p, s, 4, extra, 2,
		    "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: chunked\r\n"
		    "Content-Encoding: gzip\r\n"
		    "Via: 1.1 reprise\r\n"
		    "Connection: close\r\n"
		    "\r\n");
}

static void test_added_fields_and_version(void **state)
{
	(void)state;
	struct parsed p;
	struct rp_slice s[4];
	parse("GET /old HTTP/1.0\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n", RP_H1_REQUEST, &p);
	assert_int_equal(rp_proxy_hop_mark(&p.h, 1, NULL), 0);
	request_start(&p, s);
	struct rp_slice extra[2] = {RP_SLICE_LIT("X-Forwarded-For: 127.0.0.1"),
				    RP_SLICE_LIT("Forwarded: for=127.0.0.1")};
	/* the proxy speaks its own version; an existing X-Forwarded-For stays
	 * and ours follows it, which lists the same as one combined field */
	expect_head(&p, s, 4, extra, 2,
		    "GET /old HTTP/1.1\r\n"
		    "Host: h\r\n"
		    "X-Forwarded-For: 10.0.0.1\r\n"
		    "X-Forwarded-For: 127.0.0.1\r\n"
		    "Forwarded: for=127.0.0.1\r\n"
		    "\r\n");
}

static void test_no_fields_and_counts(void **state)
{
	(void)state;
	struct parsed p;
	struct rp_slice s[4];
	parse("GET / HTTP/1.0\r\n\r\n", RP_H1_REQUEST, &p);
	assert_int_equal(p.h.nf, 0);
	assert_int_equal(rp_proxy_head_count(&p.h, RP_SLICE_LIT("Host")), 0);
	request_start(&p, s);
	expect_head(&p, s, 4, NULL, 0, "GET / HTTP/1.1\r\n\r\n");

	parse("GET / HTTP/1.1\r\nHost: a\r\nhOsT: b\r\nEmpty:\r\n\r\n", RP_H1_REQUEST, &p);
	assert_int_equal(rp_proxy_head_count(&p.h, RP_SLICE_LIT("host")), 2);
	assert_int_equal(p.f[2].value_len, 0);
	assert_int_equal(rp_proxy_hop_mark(&p.h, 1, NULL), 0);
	request_start(&p, s);
	expect_head(&p, s, 4, NULL, 0, "GET / HTTP/1.1\r\nHost: a\r\nhOsT: b\r\nEmpty:\r\n\r\n");
}

static void test_all_dropped(void **state)
{
	(void)state;
	struct parsed p;
	struct rp_slice s[4];
	parse("GET / HTTP/1.1\r\nConnection: close\r\nKeep-Alive: 1\r\n\r\n", RP_H1_REQUEST, &p);
	assert_int_equal(rp_proxy_hop_mark(&p.h, 1, NULL), 0);
	request_start(&p, s);
	expect_head(&p, s, 4, NULL, 0, "GET / HTTP/1.1\r\n\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hop_by_hop_dropped),
		cmocka_unit_test(test_connection_tokens_any_case),
		cmocka_unit_test(test_connection_may_not_remove_framing),
		cmocka_unit_test(test_transfer_encoding_kept),
		cmocka_unit_test(test_added_fields_and_version),
		cmocka_unit_test(test_no_fields_and_counts),
		cmocka_unit_test(test_all_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
