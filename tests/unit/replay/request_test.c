/*
 * request_test: the rewrite stage — target URLs, and the request bytes that
 * replay an exchange: hop-by-hop fields rebuilt (and those Connection
 * names), Host kept or rewritten, --set-header / --drop-header, path
 * rewrites, bodies re-encoded with their recorded Content-Encoding and
 * framed by a Content-Length that matches, and records that cannot be sent
 * refused rather than sent broken.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "reprise/coding.h"
#include "reprise/replay.h"

static void test_target(void **state)
{
	(void)state;
	struct rp_replay_target t;
	const char *why = NULL;
	assert_int_equal(rp_replay_target_parse("http://127.0.0.1:8080", &t, &why), 0);
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 8080);
	assert_string_equal(t.authority, "127.0.0.1:8080");
	assert_string_equal(t.base_path, "");
	assert_int_equal(rp_replay_target_parse("http://[::1]/staging/", &t, &why), 0);
	assert_string_equal(t.host, "::1");
	assert_int_equal(t.port, 80);
	assert_string_equal(t.authority, "[::1]");
	assert_string_equal(t.base_path, "/staging");
	assert_int_equal(rp_replay_target_parse("https://x", &t, &why), RP_E_USAGE);
	assert_non_null(strstr(why, "https"));
	assert_int_equal(rp_replay_target_parse("ftp://x", &t, &why), RP_E_USAGE);
	assert_int_equal(rp_replay_target_parse("http://x:0", &t, &why), RP_E_USAGE);
	assert_int_equal(rp_replay_target_parse("http://x:70000", &t, &why), RP_E_USAGE);
	assert_int_equal(rp_replay_target_parse("http://:80", &t, &why), RP_E_USAGE);
	assert_int_equal(rp_replay_target_parse("http://x/a?b", &t, &why), RP_E_USAGE);
}

static struct rp_exchange *ex(const char *method, const char *target, const char *authority)
{
	struct rp_exchange *x = rp_exchange_new();
	x->req.method = rp_pool_dup(x->pool, rp_slice_str(method));
	x->req.target = rp_pool_dup(x->pool, rp_slice_str(target));
	x->req.authority = rp_pool_dup(x->pool, rp_slice_str(authority));
	return x;
}

static void hdr(struct rp_exchange *x, const char *n, const char *v)
{
	rp_headers_add(&x->req.m.headers, x->pool, rp_slice_str(n), rp_slice_str(v));
}

static char *build(const struct rp_replay_rewrite *rw, const char *url, struct rp_exchange *x,
		   int *rc)
{
	static char out[65536];
	struct rp_replay_target t;
	const char *why = NULL;
	struct rp_buf b;
	assert_int_equal(rp_replay_target_parse(url, &t, &why), 0);
	rp_buf_init(&b, 1 << 20);
	*rc = rp_replay_build_request(rw, &t, x, &b, &why);
	snprintf(out, sizeof(out), "%.*s", (int)rp_buf_len(&b), (const char *)b.base + b.rd);
	rp_buf_dispose(&b);
	return out;
}

static void test_hop_by_hop(void **state)
{
	(void)state;
	int rc;
	struct rp_exchange *x = ex("GET", "/a?b=1", "shop.example");
	hdr(x, "Host", "shop.example");
	hdr(x, "Connection", "keep-alive, X-Hop");
	hdr(x, "Keep-Alive", "timeout=5");
	hdr(x, "X-Hop", "1");
	hdr(x, "Accept", "*/*");
	hdr(x, "TE", "trailers");
	hdr(x, "Transfer-Encoding", "chunked");
	hdr(x, "Upgrade", "h2c");
	hdr(x, "Expect", "100-continue");
	hdr(x, "Proxy-Connection", "keep-alive");
	hdr(x, ":authority", "shop.example");
	hdr(x, "X-Keep", "yes");
	struct rp_replay_rewrite *rw = rp_replay_rewrite_new(RP_REPLAY_HOST_TARGET);
	char *s = build(rw, "http://127.0.0.1:9000", x, &rc);
	assert_int_equal(rc, 0);
	/* a recorded Transfer-Encoding means a body was framed: an empty one
	 * here, so Content-Length: 0 */
	assert_string_equal(s, "GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nAccept: */*\r\n"
			       "X-Keep: yes\r\nContent-Length: 0\r\n\r\n");
	rp_replay_rewrite_free(rw);
	rw = rp_replay_rewrite_new(RP_REPLAY_HOST_KEEP);
	s = build(rw, "http://127.0.0.1:9000/pre", x, &rc);
	assert_non_null(strstr(s, "GET /pre/a?b=1 HTTP/1.1\r\nHost: shop.example\r\n"));
	rp_replay_rewrite_free(rw);
	rp_exchange_free(x);
}

static void test_set_drop_path(void **state)
{
	(void)state;
	int rc;
	const char *why;
	char err[200];
	struct rp_exchange *x = ex("GET", "/v1/users/7", "a");
	hdr(x, "Authorization", "Bearer old");
	hdr(x, "Cookie", "a=1");
	hdr(x, "authorization", "Bearer dup");
	hdr(x, "Accept", "x");
	struct rp_replay_rewrite *rw = rp_replay_rewrite_new(RP_REPLAY_HOST_TARGET);
	assert_int_equal(rp_replay_rewrite_set_header(rw, "Authorization: Bearer staging", &why), 0);
	assert_int_equal(rp_replay_rewrite_set_header(rw, "X-Replay: 1", &why), 0);
	assert_int_equal(rp_replay_rewrite_set_header(rw, "Host: staging.local", &why), 0);
	assert_int_equal(rp_replay_rewrite_drop_header(rw, "cookie", &why), 0);
	assert_int_equal(rp_replay_rewrite_path(rw, "^/v1/(\\w+)=>/v2/$1", err, sizeof(err)), 0);
	char *s = build(rw, "http://127.0.0.1:1", x, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "GET /v2/users/7 HTTP/1.1\r\nHost: staging.local\r\n"
			       "Authorization: Bearer staging\r\nAccept: x\r\nX-Replay: 1\r\n\r\n");
	assert_int_equal(rp_replay_rewrite_set_header(rw, "Bad Name: x", &why), RP_E_USAGE);
	assert_int_equal(rp_replay_rewrite_set_header(rw, "NoColon", &why), RP_E_USAGE);
	assert_int_equal(rp_replay_rewrite_drop_header(rw, "a b", &why), RP_E_USAGE);
	assert_int_equal(rp_replay_rewrite_path(rw, "/v1", err, sizeof(err)), RP_E_USAGE);
	assert_int_equal(rp_replay_rewrite_path(rw, "(=>x", err, sizeof(err)), RP_E_USAGE);
	assert_non_null(strstr(err, "column"));
	rp_replay_rewrite_free(rw);
	rp_exchange_free(x);
}

static void test_body(void **state)
{
	(void)state;
	int rc;
	struct rp_exchange *x = ex("POST", "/upload", "a");
	const char *json = "{\"hello\":\"world\",\"n\":[1,2,3,4,5,6,7,8,9,10]}";
	hdr(x, "Content-Type", "application/json");
	hdr(x, "Content-Encoding", "gzip");
	hdr(x, "Content-Length", "9999");
	x->req.m.body = rp_slice_str(json);
	x->req.m.encoding = rp_slice_str("gzip");
	struct rp_replay_rewrite *rw = rp_replay_rewrite_new(RP_REPLAY_HOST_TARGET);
	struct rp_replay_target t;
	const char *why = NULL;
	struct rp_buf b;
	rp_replay_target_parse("http://127.0.0.1:1", &t, &why);
	rp_buf_init(&b, 1 << 20);
	rc = rp_replay_build_request(rw, &t, x, &b, &why);
	assert_int_equal(rc, 0);
	const char *s = (const char *)b.base + b.rd;
	const char *end = strstr(s, "\r\n\r\n");
	assert_non_null(end);
	assert_null(strstr(s, "9999"));
	const char *cl = strstr(s, "Content-Length: ");
	assert_non_null(cl);
	size_t n = strtoul(cl + 16, NULL, 10);
	size_t body_off = (size_t)(end + 4 - s);
	assert_int_equal(n, rp_buf_len(&b) - body_off);
	assert_non_null(strstr(s, "Content-Encoding: gzip\r\n"));
	/* the body on the wire decodes back to the recorded one */
	struct rp_buf dec;
	rp_buf_init(&dec, 1 << 20);
	assert_int_equal(rp_coding_decode(rp_slice_str("gzip"), rp_slice(s + body_off, n), &dec), 0);
	assert_int_equal(rp_buf_len(&dec), strlen(json));
	assert_memory_equal(dec.base + dec.rd, json, strlen(json));
	rp_buf_dispose(&dec);
	rp_buf_dispose(&b);

	/* POST without a body still says Content-Length: 0 */
	struct rp_exchange *y = ex("POST", "/x", "a");
	char *s2 = build(rw, "http://127.0.0.1:1", y, &rc);
	assert_string_equal(s2, "POST /x HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Length: 0\r\n\r\n");
	rp_exchange_free(y);

	/* a request line that cannot be sent is refused */
	y = ex("GET", "/a b", "a");
	build(rw, "http://127.0.0.1:1", y, &rc);
	assert_int_equal(rc, RP_E_FORMAT);
	rp_exchange_free(y);
	/* a header value with a line break is left out, not sent */
	y = ex("GET", "http://a.example/abs?q=1", "a");
	hdr(y, "X-Evil", "a\r\nInjected: 1");
	s2 = build(rw, "http://127.0.0.1:1", y, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s2, "GET /abs?q=1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n");
	rp_exchange_free(y);
	rp_replay_rewrite_free(rw);
	rp_exchange_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_hop_by_hop),
		cmocka_unit_test(test_set_drop_path),
		cmocka_unit_test(test_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
