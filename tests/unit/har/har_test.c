/*
 * har_test: HAR 1.2 and JSON lines in both directions.  A real Chromium HAR
 * (tests/data/har) is read field by field; hand-written HARs cover HTTP/2
 * pseudo headers, form params, content codings and every kind of malformed
 * entry (each must be reported with its field, and the next entry must still
 * read); exports are parsed back and checked against the HAR 1.2 required
 * fields; JSON lines must round-trip byte for byte, binary and non-UTF-8
 * bytes included; truncated and corrupted HARs must never crash.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "har_int.h"
#include "reprise/har.h"
#include "reprise/limits.h"

#define TEASHOP RP_SRCDIR "/tests/data/har/chromium-teashop.har"

static int slice_is(struct rp_slice s, const char *want)
{
	return rp_slice_eq(s, rp_slice_str(want));
}

#define assert_slice(s, want)                                                                 \
	do {                                                                                  \
		if (!slice_is((s), (want))) {                                                 \
			fprintf(stderr, "got '%.*s', want '%s'\n", (int)(s).n,                \
				(const char *)(s).p, (want));                                 \
			fail();                                                               \
		}                                                                             \
	} while (0)

static struct rp_har_reader *open_str(const char *s, enum rp_har_format f)
{
	struct rp_har_reader *r = NULL;
	char err[512];
	int rc = rp_har_reader_open_mem(s, strlen(s), "test.har", f, &r, err, sizeof(err));
	if (rc)
		fprintf(stderr, "open: %s\n", err);
	assert_int_equal(rc, 0);
	return r;
}

/* ---- the Chromium HAR ---- */

static void test_teashop(void **state)
{
	(void)state;
	struct rp_har_reader *r = NULL;
	char err[512];
	assert_int_equal(rp_har_reader_open(TEASHOP, RP_HAR_FORMAT_AUTO, 0, &r, err, sizeof(err)), 0);
	assert_int_equal(rp_har_reader_format(r), RP_HAR_FORMAT_HAR);
	struct rp_exchange *x;
	int n = 0;
	while (rp_har_reader_next(r, &x, err, sizeof(err)) == 0) {
		assert_slice(x->req.scheme, "http");
		assert_slice(x->req.authority, "127.0.0.1:18653");
		assert_int_equal(x->proto, RP_PROTO_H11);
		assert_int_equal(x->server.family, 4);
		assert_int_equal(x->server.port, 18653);
		assert_true(x->t.req_start > 0);
		assert_true(x->t.resp_end >= x->t.resp_start);
		assert_true(x->t.resp_start >= x->t.req_end);
		if (n == 0) {
			assert_slice(x->req.method, "GET");
			assert_slice(x->req.target, "/");
			assert_int_equal(x->resp.status, 200);
			assert_slice(x->resp.reason, "OK");
			/* file order and original names */
			assert_slice(x->req.m.headers.v[0].name, "Accept");
			assert_slice(x->req.m.headers.v[x->req.m.headers.n - 1].name,
				     "sec-ch-ua-platform");
			assert_int_equal(x->resp.m.body.n, 277);
			char ts[40];
			rp_time_format(x->t.req_start, ts, sizeof(ts));
			assert_string_equal(ts, "2026-11-22T21:02:32.322Z");
		}
		if (n == 2) {
			assert_slice(x->req.target, "/static/logo.png");
			assert_int_equal(x->resp.m.body.n, 135);
			assert_memory_equal(x->resp.m.body.p, "\x89PNG\r\n\x1a\n", 8);
		}
		if (n == 6) {
			assert_slice(x->req.method, "POST");
			assert_slice(x->req.m.body, "{\"items\":[{\"id\":2,\"qty\":1},{\"id\":5,\"qty\":3}],"
						    "\"note\":\"gift wrap\"}");
			assert_int_equal(x->resp.status, 201);
			assert_slice(x->resp.m.body, "{\"order\":1042,\"status\":\"created\"}\n");
			assert_true(x->t.req_end == x->t.req_start);
			assert_true(x->t.resp_start - x->t.req_end == 5668000);
			assert_true(x->t.resp_end - x->t.resp_start == 2609000);
		}
		if (n == 9) {
			assert_int_equal(x->resp.status, 304);
			assert_int_equal(x->resp.m.body.n, 0);
			assert_int_equal(x->flags, 0);
		}
		rp_exchange_free(x);
		n++;
	}
	assert_int_equal(n, 16);
	rp_har_reader_free(r);
}

static void test_limit(void **state)
{
	(void)state;
	struct rp_har_reader *r = NULL;
	char err[512];
	assert_int_equal(rp_har_reader_open(TEASHOP, RP_HAR_FORMAT_HAR, 1000, &r, err, sizeof(err)),
			 RP_E_LIMIT);
	assert_non_null(strstr(err, "larger than the import limit"));
	assert_int_equal(rp_har_reader_open("/nonexistent/x.har", RP_HAR_FORMAT_AUTO, 0, &r, err,
					    sizeof(err)),
			 RP_E_IO);
	assert_non_null(strstr(err, "/nonexistent/x.har: cannot open"));
}

/* ---- hand-written HARs ---- */

static const char h2_har[] =
	"{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"x\",\"version\":\"1\"},\"entries\":["
	"{\"startedDateTime\":\"2026-01-02T03:04:05.123+01:00\",\"time\":3,"
	" \"request\":{\"method\":\"GET\",\"url\":\"https://user:pw@www.example.com/a?b=1#frag\","
	"  \"httpVersion\":\"h2\",\"headers\":["
	"   {\"name\":\":authority\",\"value\":\"www.example.com\"},"
	"   {\"name\":\":method\",\"value\":\"GET\"},"
	"   {\"name\":\":path\",\"value\":\"/a?b=1\"},"
	"   {\"name\":\":scheme\",\"value\":\"https\"},"
	"   {\"name\":\"accept\",\"value\":\"*/*\"},"
	"   {\"name\":\"cookie\",\"value\":\"s=1; t=2\"}],"
	"  \"cookies\":[{\"name\":\"ignored\",\"value\":\"x\"}],\"queryString\":[],"
	"  \"headersSize\":-1,\"bodySize\":0},"
	" \"response\":{\"status\":200,\"statusText\":\"\",\"httpVersion\":\"h2\",\"headers\":["
	"   {\"name\":\"content-encoding\",\"value\":\"gzip\"},"
	"   {\"name\":\"content-type\",\"value\":\"text/plain\"}],"
	"  \"cookies\":[],\"content\":{\"size\":11,\"mimeType\":\"text/plain\",\"text\":\"hello world\"},"
	"  \"redirectURL\":\"\",\"headersSize\":-1,\"bodySize\":31},"
	" \"cache\":{},\"timings\":{\"blocked\":0.5,\"dns\":-1,\"connect\":1,\"ssl\":0.5,"
	"  \"send\":0.25,\"wait\":1,\"receive\":0.125},"
	" \"serverIPAddress\":\"[2001:db8::1]\",\"connection\":\"4242\"},"
	"{\"startedDateTime\":\"2026-01-02T02:04:06Z\",\"request\":{\"method\":\"POST\","
	"  \"url\":\"http://h.example:8080/form\",\"httpVersion\":\"HTTP/1.1\",\"headers\":[],"
	"  \"postData\":{\"mimeType\":\"application/x-www-form-urlencoded\",\"params\":["
	"   {\"name\":\"a b\",\"value\":\"c&d\"},{\"name\":\"e\",\"value\":\"\\u00e9\"}]}},"
	" \"response\":{\"status\":0,\"statusText\":\"\",\"headers\":[],\"content\":{\"size\":0}},"
	" \"timings\":{\"send\":1,\"wait\":-1,\"receive\":-1},"
	" \"serverIPAddress\":\"10.1.2.3\",\"connection\":\"4242\"},"
	"{\"startedDateTime\":\"2026-01-02T02:04:07Z\",\"request\":{\"method\":\"GET\","
	"  \"url\":\"http://h.example/big\",\"headers\":[]},"
	" \"response\":{\"status\":200,\"headers\":[],\"content\":{\"size\":5000,"
	"  \"mimeType\":\"text/plain\"}},\"timings\":{}}"
	"]}}";

static void test_h2_params_coding(void **state)
{
	(void)state;
	struct rp_har_reader *r = open_str(h2_har, RP_HAR_FORMAT_AUTO);
	struct rp_exchange *x;
	char err[512];
	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), 0);
	assert_int_equal(x->proto, RP_PROTO_H2);
	assert_slice(x->req.scheme, "https");
	assert_slice(x->req.authority, "www.example.com");
	assert_slice(x->req.target, "/a?b=1");
	assert_int_equal(x->req.m.headers.n, 2); /* pseudo headers are the request line */
	assert_slice(x->req.m.headers.v[0].name, "accept");
	assert_slice(x->req.m.headers.v[1].value, "s=1; t=2");
	assert_slice(x->resp.m.body, "hello world");
	assert_slice(x->resp.m.encoding, "gzip");
	assert_int_equal(x->resp.m.wire_len, 31);
	assert_int_equal(x->resp.m.orig_len, 11);
	assert_int_equal(x->conn_id, 4242);
	assert_int_equal(x->conn_seq, 0);
	assert_int_equal(x->server.family, 6);
	assert_int_equal(x->server.port, 443);
	int64_t t0;
	assert_int_equal(rp_time_parse("2026-01-02T02:04:05.123Z", &t0), 0);
	assert_true(x->t.req_start == t0);
	/* blocked + connect + send end the request (ssl is inside connect) */
	assert_true(x->t.req_end - x->t.req_start == 1750000);
	assert_true(x->t.resp_start - x->t.req_end == 1000000);
	assert_true(x->t.resp_end - x->t.resp_start == 125000);
	rp_exchange_free(x);

	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), 0);
	assert_slice(x->req.m.body, "a+b=c%26d&e=%C3%A9");
	assert_int_equal(x->resp.status, 0);
	assert_true(x->flags & RP_XF_NO_RESPONSE);
	assert_true(x->t.resp_start == 0 && x->t.resp_end == 0);
	assert_int_equal(x->conn_id, 4242);
	assert_int_equal(x->conn_seq, 1);
	assert_int_equal(x->server.family, 4);
	assert_int_equal(x->server.port, 8080);
	rp_exchange_free(x);

	/* the browser saw 5000 bytes but kept none: truncated, size remembered */
	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), 0);
	assert_true(x->flags & RP_XF_RESP_TRUNCATED);
	assert_int_equal(x->resp.m.body.n, 0);
	assert_int_equal(x->resp.m.orig_len, 5000);
	assert_int_equal(x->proto, RP_PROTO_UNKNOWN);
	assert_int_equal(x->conn_id, 0);
	rp_exchange_free(x);
	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), RP_E_NOTFOUND);
	rp_har_reader_free(r);
}

/* Malformed documents: refused at open with a message naming the place. */
static void test_bad_documents(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		const char *msg;
	} bad[] = {
		{"{\"log\": {\"entries\": [\n  {\"a\": 1,}\n]}}", "line 2, column"},
		{"", "line 1"},
		{"[1,2]", "not a HAR file: the top level is not an object"},
		{"{\"foo\": 1}", "no \"log\" object"},
		{"{\"log\": {\"entries\": 3}}", "log.entries is missing or not an array"},
		{"{\"log\": {}}", "log.entries is missing or not an array"},
		{"{\"log\": {\"entries\": []}} trailing", "end of file expected"},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(bad); i++) {
		struct rp_har_reader *r = NULL;
		char err[512];
		int rc = rp_har_reader_open_mem(bad[i].doc, strlen(bad[i].doc), "bad.har",
						RP_HAR_FORMAT_HAR, &r, err, sizeof(err));
		if (rc != RP_E_FORMAT || !strstr(err, bad[i].msg) || strncmp(err, "bad.har: ", 9)) {
			fprintf(stderr, "doc %zu: rc %d err '%s', want '%s'\n", i, rc, err, bad[i].msg);
			fail();
		}
		assert_null(r);
	}
}

/* Malformed entries: each is skipped with its field named; the reader goes
 * on to the next one. */
static void test_bad_entries(void **state)
{
	(void)state;
#define E(req, resp) "{\"startedDateTime\":\"2026-01-01T00:00:00Z\",\"request\":" req \
		     ",\"response\":" resp "}"
#define GOODREQ "{\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[]}"
#define GOODRESP "{\"status\":200,\"headers\":[],\"content\":{\"size\":0}}"
	static const struct {
		const char *entry;
		const char *msg;
	} bad[] = {
		{"1", "is an integer, not an object"},
		{"{}", "request is missing, not an object"},
		{E("\"x\"", GOODRESP), "request is a string, not an object"},
		{E("{\"method\":5,\"url\":\"http://a/\"}", GOODRESP),
		 "request.method is an integer, not a string"},
		{E("{\"method\":\"GET\"}", GOODRESP), "request.url is missing"},
		{E("{\"method\":\"GET\",\"url\":\"/relative\"}", GOODRESP),
		 "request.url '/relative' is not an absolute URL"},
		{E("{\"method\":\"\",\"url\":\"http://a/\"}", GOODRESP), "request.method is empty"},
		{E("{\"method\":\"GET\",\"url\":\"chrome-extension://abc/x.js\"}", GOODRESP),
		 "request.url scheme 'chrome-extension' is not http or https"},
		{E("{\"method\":\"GET\",\"url\":\"data:image/png;base64,AAAA\"}", GOODRESP),
		 "is not an absolute URL"},
		{E("{\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":{}}", GOODRESP),
		 "request.headers is an object, not an array"},
		{E("{\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[7]}", GOODRESP),
		 "request.headers[0] is an integer, not an object"},
		{E("{\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[{\"name\":\"a\","
		   "\"value\":1}]}", GOODRESP),
		 "request.headers[0].value is not a string"},
		{E("{\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[{\"value\":\"v\"}]}",
		   GOODRESP),
		 "request.headers[0].name is missing"},
		{E("{\"method\":\"GET\",\"url\":\"http://a/\",\"httpVersion\":1.1}", GOODRESP),
		 "request.httpVersion is not a string"},
		{E("{\"method\":\"GET\",\"url\":\"http://a/\",\"postData\":[]}", GOODRESP),
		 "request.postData is an array, not an object"},
		{E("{\"method\":\"GET\",\"url\":\"http://a/\",\"postData\":{\"text\":{}}}",
		   GOODRESP),
		 "request.postData.text is not a string"},
		{E("{\"method\":\"GET\",\"url\":\"http://a/\",\"postData\":{\"params\":[1]}}",
		   GOODRESP),
		 "request.postData.params[0] is not a {name, value} object"},
		{E(GOODREQ, "[]"), "response is an array, not an object"},
		{E(GOODREQ, "{\"status\":\"200\"}"), "response.status is a string, not a number"},
		{E(GOODREQ, "{\"status\":2000}"), "response.status 2000 is not an HTTP status"},
		{E(GOODREQ, "{\"status\":200.5}"), "response.status 200.5 is not an HTTP status"},
		{E(GOODREQ, "{\"status\":200,\"statusText\":false}"),
		 "response.statusText is not a string"},
		{E(GOODREQ, "{\"status\":200,\"content\":\"x\"}"),
		 "response.content is a string, not an object"},
		{E(GOODREQ, "{\"status\":200,\"content\":{\"text\":1}}"),
		 "response.content.text is not a string"},
		{E(GOODREQ, "{\"status\":200,\"content\":{\"size\":\"1\"}}"),
		 "response.content.size is not a number"},
		{E(GOODREQ, "{\"status\":200,\"content\":{\"text\":\"!!\",\"encoding\":\"base64\"}}"),
		 "response.content.text is marked base64 but does not decode"},
		{"{\"startedDateTime\":\"yesterday\",\"request\":" GOODREQ ",\"response\":" GOODRESP
		 "}",
		 "startedDateTime 'yesterday' is not an ISO 8601 time"},
		{"{\"startedDateTime\":7,\"request\":" GOODREQ ",\"response\":" GOODRESP "}",
		 "entry.startedDateTime is an integer, not a string"},
		{"{\"startedDateTime\":\"2026-01-01T00:00:00Z\",\"timings\":[],\"request\":" GOODREQ
		 ",\"response\":" GOODRESP "}",
		 "timings is an array, not an object"},
	};
	/* one document: every bad entry, then a good one */
	struct rp_buf doc;
	rp_buf_init(&doc, 1 << 20);
	assert_int_equal(rp_buf_printf(&doc, "{\"log\":{\"entries\":["), 0);
	for (size_t i = 0; i < RP_ARRAY_LEN(bad); i++)
		assert_int_equal(rp_buf_printf(&doc, "%s,", bad[i].entry), 0);
	assert_int_equal(rp_buf_printf(&doc, "%s]}}", E(GOODREQ, GOODRESP)), 0);
	struct rp_har_reader *r = NULL;
	char err[512];
	assert_int_equal(rp_har_reader_open_mem(rp_buf_slice(&doc).p, rp_buf_len(&doc), "m.har",
						RP_HAR_FORMAT_HAR, &r, err, sizeof(err)),
			 0);
	for (size_t i = 0; i < RP_ARRAY_LEN(bad); i++) {
		struct rp_exchange *x = NULL;
		char want[64];
		int rc = rp_har_reader_next(r, &x, err, sizeof(err));
		snprintf(want, sizeof(want), "entry %zu (log.entries[%zu]): ", i + 1, i);
		if (rc != RP_E_FORMAT || strncmp(err, want, strlen(want)) ||
		    !strstr(err, bad[i].msg)) {
			fprintf(stderr, "entry %zu: rc %d '%s', want '%s%s'\n", i, rc, err, want,
				bad[i].msg);
			fail();
		}
		assert_null(x);
	}
	struct rp_exchange *x;
	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), 0);
	rp_exchange_free(x);
	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), RP_E_NOTFOUND);
	rp_har_reader_free(r);
	rp_buf_dispose(&doc);
}

/* A body over the record cap is cut there and flagged, its size kept. */
static void test_big_body(void **state)
{
	(void)state;
	size_t n = (size_t)RP_LIMIT_BODY_RECORD + 1000;
	struct rp_buf doc;
	rp_buf_init(&doc, 3 * n + 4096);
	assert_int_equal(rp_buf_printf(&doc,
		"{\"log\":{\"entries\":[{\"startedDateTime\":\"2026-01-01T00:00:00Z\","
		"\"request\":{\"method\":\"GET\",\"url\":\"http://a/\"},\"response\":{\"status\":200,"
		"\"content\":{\"size\":%zu,\"text\":\"", n), 0);
	assert_int_equal(rp_buf_reserve(&doc, n), 0);
	memset(doc.base + doc.wr, 'a', n);
	rp_buf_commit(&doc, n);
	assert_int_equal(rp_buf_printf(&doc, "\"}}},"
		"{\"startedDateTime\":\"2026-01-01T00:00:00Z\","
		"\"request\":{\"method\":\"GET\",\"url\":\"http://a/\"},\"response\":{\"status\":200,"
		"\"content\":{\"encoding\":\"base64\",\"text\":\""), 0);
	size_t b64 = RP_HAR_B64_LEN(n);
	assert_int_equal(rp_buf_reserve(&doc, b64), 0);
	memset(doc.base + doc.wr, 'A', b64); /* "AAAA" decodes to three zero bytes */
	rp_buf_commit(&doc, b64);
	assert_int_equal(rp_buf_printf(&doc, "\"}}}]}}"), 0);
	struct rp_har_reader *r = NULL;
	char err[256];
	assert_int_equal(rp_har_reader_open_mem(rp_buf_slice(&doc).p, rp_buf_len(&doc), "big.har",
						RP_HAR_FORMAT_HAR, &r, err, sizeof(err)), 0);
	rp_buf_dispose(&doc);
	for (int i = 0; i < 2; i++) {
		struct rp_exchange *x;
		assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), 0);
		assert_int_equal(x->resp.m.body.n, RP_LIMIT_BODY_RECORD);
		assert_true(x->flags & RP_XF_RESP_TRUNCATED);
		assert_int_equal(x->resp.m.orig_len, i == 0 ? n : b64 / 4 * 3);
		assert_int_equal(x->resp.m.body.p[0], i == 0 ? 'a' : 0);
		rp_exchange_free(x);
	}
	rp_har_reader_free(r);
}

/* Truncations and byte flips of the real HAR: errors, never a crash. */
static void test_corrupted(void **state)
{
	(void)state;
	FILE *f = fopen(TEASHOP, "rb");
	assert_non_null(f);
	static char data[64 * 1024];
	size_t n = fread(data, 1, sizeof(data), f);
	fclose(f);
	unsigned seed = 12345;
	for (int round = 0; round < 300; round++) {
		static char copy[64 * 1024];
		memcpy(copy, data, n);
		size_t len = n;
		if (round < 100) {
			len = (size_t)round * n / 100;
		} else {
			for (int k = 0; k < 8; k++) {
				seed = seed * 1103515245 + 12345;
				size_t at = (seed >> 8) % n;
				copy[at] = (char)(seed >> 3);
			}
		}
		struct rp_har_reader *r = NULL;
		char err[512];
		if (rp_har_reader_open_mem(copy, len, "c.har", RP_HAR_FORMAT_HAR, &r, err,
					   sizeof(err)))
			continue;
		struct rp_exchange *x;
		int rc;
		while ((rc = rp_har_reader_next(r, &x, err, sizeof(err))) != RP_E_NOTFOUND) {
			if (rc == 0)
				rp_exchange_free(x);
			else
				assert_int_equal(rc, RP_E_FORMAT);
		}
		rp_har_reader_free(r);
	}
}

/* ---- export ---- */

static const uint8_t binary_body[] = {0x00, 0x01, 0xff, 0xfe, 'a', 0x80, '\n', 0x7f};

static struct rp_exchange *make_rich(void)
{
	struct rp_exchange *x = rp_exchange_new();
	struct rp_pool *p = x->pool;
	x->id = 42;
	x->conn_id = 7;
	x->stream_id = 3;
	x->conn_seq = 2;
	x->proto = RP_PROTO_H2;
	x->flags = RP_XF_MASKED | RP_XF_GAP;
	assert_int_equal(rp_endpoint_parse("10.0.0.1:5555", &x->client), 0);
	assert_int_equal(rp_endpoint_parse("[2001:db8::2]:443", &x->server), 0);
	x->t.req_start = INT64_C(1795338000123000000);
	x->t.req_end = x->t.req_start + 1500000;
	x->t.resp_start = x->t.req_end + 20250000;
	x->t.resp_end = x->t.resp_start + 333;
	x->req.method = RP_SLICE_LIT("POST");
	x->req.scheme = RP_SLICE_LIT("https");
	x->req.authority = RP_SLICE_LIT("api.example.com");
	x->req.target = RP_SLICE_LIT("/v1/items?q=a%20b&x");
	rp_headers_add(&x->req.m.headers, p, RP_SLICE_LIT("content-type"),
		       RP_SLICE_LIT("application/octet-stream"));
	rp_headers_add(&x->req.m.headers, p, RP_SLICE_LIT("cookie"), RP_SLICE_LIT("a=1; b=2"));
	rp_headers_add(&x->req.m.headers, p, RP_SLICE_LIT("X-Latin"), RP_SLICE_LIT("caf\xe9"));
	rp_headers_add(&x->req.m.trailers, p, RP_SLICE_LIT("grpc-status"), RP_SLICE_LIT("0"));
	x->req.m.body = rp_slice(binary_body, sizeof(binary_body));
	x->req.m.wire_len = x->req.m.orig_len = sizeof(binary_body);
	x->resp.status = 201;
	x->resp.reason = RP_SLICE_LIT("Created");
	rp_headers_add(&x->resp.m.headers, p, RP_SLICE_LIT("Content-Type"),
		       RP_SLICE_LIT("application/json"));
	rp_headers_add(&x->resp.m.headers, p, RP_SLICE_LIT("Content-Encoding"), RP_SLICE_LIT("gzip"));
	rp_headers_add(&x->resp.m.headers, p, RP_SLICE_LIT("Set-Cookie"),
		       RP_SLICE_LIT("sid=abc; Path=/; HttpOnly; Secure; "
				    "Expires=Wed, 21 Oct 2015 07:28:00 GMT"));
	rp_headers_add(&x->resp.m.headers, p, RP_SLICE_LIT("Location"), RP_SLICE_LIT("/v1/items/9"));
	x->resp.m.body = RP_SLICE_LIT("{\"id\":9}");
	x->resp.m.encoding = RP_SLICE_LIT("gzip");
	x->resp.m.wire_len = 28;
	x->resp.m.orig_len = 8;
	return x;
}

static struct rp_exchange *make_unanswered(void)
{
	struct rp_exchange *x = rp_exchange_new();
	x->id = 43;
	x->proto = RP_PROTO_H11;
	x->flags = RP_XF_NO_RESPONSE;
	x->t.req_start = INT64_C(1795338001000000000);
	x->t.req_end = x->t.req_start + 1000;
	x->req.method = RP_SLICE_LIT("GET");
	x->req.scheme = RP_SLICE_LIT("http");
	x->req.authority = RP_SLICE_LIT("h");
	x->req.target = RP_SLICE_LIT("/");
	return x;
}

static json_t *path(json_t *o, const char *p)
{
	char key[64];
	while (o && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_is_array(o))
			o = json_array_get(o, (size_t)atoi(key));
		else
			o = json_object_get(o, key);
		p += n + (dot ? 1 : 0);
	}
	return o;
}

static void assert_str_at(json_t *o, const char *p, const char *want)
{
	json_t *v = path(o, p);
	if (!json_is_string(v) || strcmp(json_string_value(v), want)) {
		fprintf(stderr, "%s: got %s, want '%s'\n", p,
			json_is_string(v) ? json_string_value(v) : "(not a string)", want);
		fail();
	}
}

static void assert_int_at(json_t *o, const char *p, json_int_t want)
{
	json_t *v = path(o, p);
	if (!json_is_integer(v) || json_integer_value(v) != want) {
		fprintf(stderr, "%s: got %lld, want %lld\n", p,
			json_is_integer(v) ? (long long)json_integer_value(v) : -999LL,
			(long long)want);
		fail();
	}
}

/* The HAR 1.2 required fields of one entry, with their types. */
static void assert_har_entry(json_t *e)
{
	static const struct {
		const char *path;
		json_type type; /* JSON_REAL stands for any number */
	} req[] = {
		{"startedDateTime", JSON_STRING}, {"time", JSON_REAL},
		{"request.method", JSON_STRING}, {"request.url", JSON_STRING},
		{"request.httpVersion", JSON_STRING}, {"request.cookies", JSON_ARRAY},
		{"request.headers", JSON_ARRAY}, {"request.queryString", JSON_ARRAY},
		{"request.headersSize", JSON_INTEGER}, {"request.bodySize", JSON_INTEGER},
		{"response.status", JSON_INTEGER}, {"response.statusText", JSON_STRING},
		{"response.httpVersion", JSON_STRING}, {"response.cookies", JSON_ARRAY},
		{"response.headers", JSON_ARRAY}, {"response.content", JSON_OBJECT},
		{"response.content.size", JSON_INTEGER}, {"response.content.mimeType", JSON_STRING},
		{"response.redirectURL", JSON_STRING}, {"response.headersSize", JSON_INTEGER},
		{"response.bodySize", JSON_INTEGER}, {"cache", JSON_OBJECT},
		{"timings", JSON_OBJECT}, {"timings.send", JSON_REAL},
		{"timings.wait", JSON_REAL}, {"timings.receive", JSON_REAL},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(req); i++) {
		json_t *v = path(e, req[i].path);
		int ok = v && (req[i].type == JSON_REAL ? json_is_number(v)
							: json_typeof(v) == req[i].type);
		if (!ok) {
			fprintf(stderr, "HAR entry: %s missing or of the wrong type\n", req[i].path);
			fail();
		}
	}
	assert_true(json_number_value(path(e, "timings.send")) >= 0);
	assert_true(json_number_value(path(e, "timings.wait")) >= 0);
	assert_true(json_number_value(path(e, "timings.receive")) >= 0);
}

static char *export_to_string(enum rp_har_format fmt, struct rp_exchange **xs, size_t n,
			      size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	struct rp_har_writer *w;
	assert_int_equal(rp_har_writer_new(f, fmt, "9.9", &w), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rp_har_writer_add(w, xs[i]), 0);
	assert_int_equal(rp_har_writer_finish(w), 0);
	fclose(f);
	return buf;
}

static void test_export_har(void **state)
{
	(void)state;
	struct rp_exchange *xs[2] = {make_rich(), make_unanswered()};
	size_t len;
	char *out = export_to_string(RP_HAR_FORMAT_HAR, xs, 2, &len);
	json_error_t je;
	json_t *doc = json_loadb(out, len, 0, &je);
	if (!doc)
		fprintf(stderr, "%s\n%s\n", je.text, out);
	assert_non_null(doc);
	assert_str_at(doc, "log.version", "1.2");
	assert_str_at(doc, "log.creator.name", "reprise");
	assert_str_at(doc, "log.creator.version", "9.9");
	json_t *entries = path(doc, "log.entries");
	assert_int_equal(json_array_size(entries), 2);
	json_t *e = json_array_get(entries, 0);
	assert_har_entry(e);
	assert_har_entry(json_array_get(entries, 1));
	assert_str_at(e, "startedDateTime", "2026-11-22T09:00:00.123Z");
	assert_str_at(e, "request.url", "https://api.example.com/v1/items?q=a%20b&x");
	assert_str_at(e, "request.httpVersion", "HTTP/2.0");
	assert_str_at(e, "request.headers.0.name", ":method");
	assert_str_at(e, "request.headers.3.value", "/v1/items?q=a%20b&x");
	assert_str_at(e, "request.headers.6.value", "caf\xc3\xa9"); /* ISO-8859-1 read */
	assert_str_at(e, "request.queryString.0.name", "q");
	assert_str_at(e, "request.queryString.0.value", "a b");
	assert_str_at(e, "request.queryString.1.name", "x");
	assert_str_at(e, "request.queryString.1.value", "");
	assert_str_at(e, "request.cookies.0.name", "a");
	assert_str_at(e, "request.cookies.1.value", "2");
	assert_str_at(e, "request.postData.mimeType", "application/octet-stream");
	assert_str_at(e, "request.postData.text", "AAH//mGACn8=");
	assert_str_at(e, "request.postData._encoding", "base64");
	assert_int_at(e, "request.headersSize", -1);
	assert_int_at(e, "request.bodySize", 8);
	assert_str_at(e, "request._trailers.0.name", "grpc-status");
	assert_int_at(e, "response.status", 201);
	assert_str_at(e, "response.statusText", "Created");
	assert_str_at(e, "response.cookies.0.name", "sid");
	assert_str_at(e, "response.cookies.0.value", "abc");
	assert_str_at(e, "response.cookies.0.path", "/");
	assert_str_at(e, "response.cookies.0.expires", "2015-10-21T07:28:00.000Z");
	assert_true(json_is_true(path(e, "response.cookies.0.httpOnly")));
	assert_true(json_is_true(path(e, "response.cookies.0.secure")));
	assert_int_at(e, "response.content.size", 8);
	assert_str_at(e, "response.content.mimeType", "application/json");
	assert_str_at(e, "response.content.text", "{\"id\":9}");
	assert_null(path(e, "response.content.encoding"));
	assert_int_at(e, "response.bodySize", 28);
	assert_str_at(e, "response.redirectURL", "/v1/items/9");
	assert_true(json_number_value(path(e, "timings.send")) == 1.5);
	assert_true(json_number_value(path(e, "timings.wait")) == 20.25);
	assert_str_at(e, "serverIPAddress", "2001:db8::2");
	assert_int_at(e, "_serverPort", 443);
	assert_str_at(e, "connection", "7");
	assert_int_at(e, "_id", 42);
	assert_str_at(e, "_flags", "gap,masked");
	json_t *u = json_array_get(entries, 1);
	assert_int_at(u, "response.status", 0);
	assert_int_at(u, "response.bodySize", -1);
	assert_str_at(u, "response.content.mimeType", "x-unknown");
	assert_null(path(u, "request.postData"));
	json_decref(doc);

	/* and back: what HAR can carry survives */
	struct rp_har_reader *r = open_str(out, RP_HAR_FORMAT_AUTO);
	assert_int_equal(rp_har_reader_format(r), RP_HAR_FORMAT_HAR);
	struct rp_exchange *x;
	char err[256];
	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), 0);
	assert_int_equal(x->proto, RP_PROTO_H2);
	assert_slice(x->req.method, "POST");
	assert_slice(x->req.authority, "api.example.com");
	assert_slice(x->req.target, "/v1/items?q=a%20b&x");
	assert_int_equal(x->req.m.headers.n, 3);
	assert_slice(x->req.m.headers.v[2].value, "caf\xc3\xa9");
	assert_int_equal(x->req.m.body.n, sizeof(binary_body));
	assert_memory_equal(x->req.m.body.p, binary_body, sizeof(binary_body));
	assert_int_equal(x->req.m.trailers.n, 1);
	assert_slice(x->resp.m.body, "{\"id\":9}");
	assert_slice(x->resp.m.encoding, "gzip");
	assert_int_equal(x->resp.m.wire_len, 28);
	assert_int_equal(x->flags, RP_XF_MASKED | RP_XF_GAP);
	assert_int_equal(x->conn_id, 7);
	assert_int_equal(x->server.family, 6);
	assert_int_equal(x->server.port, 443);
	assert_true(x->t.req_start == xs[0]->t.req_start);
	assert_true(x->t.resp_end == xs[0]->t.resp_end);
	rp_exchange_free(x);
	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), 0);
	assert_true(x->flags & RP_XF_NO_RESPONSE);
	rp_exchange_free(x);
	rp_har_reader_free(r);
	free(out);

	/* an empty export is a valid HAR too */
	out = export_to_string(RP_HAR_FORMAT_HAR, NULL, 0, &len);
	doc = json_loadb(out, len, 0, &je);
	assert_non_null(doc);
	assert_int_equal(json_array_size(path(doc, "log.entries")), 0);
	json_decref(doc);
	free(out);
	rp_exchange_free(xs[0]);
	rp_exchange_free(xs[1]);
}

/* ---- JSON lines ---- */

static void assert_headers_same(const struct rp_headers *a, const struct rp_headers *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_true(rp_slice_eq(a->v[i].name, b->v[i].name));
		assert_true(rp_slice_eq(a->v[i].value, b->v[i].value));
	}
}

static void assert_message_same(const struct rp_message *a, const struct rp_message *b)
{
	assert_headers_same(&a->headers, &b->headers);
	assert_headers_same(&a->trailers, &b->trailers);
	assert_true(rp_slice_eq(a->body, b->body));
	assert_true(rp_slice_eq(a->encoding, b->encoding));
	assert_int_equal(a->wire_len, b->wire_len);
	assert_int_equal(a->orig_len, b->orig_len);
}

static void assert_exchange_same(const struct rp_exchange *a, const struct rp_exchange *b)
{
	assert_int_equal(a->conn_id, b->conn_id);
	assert_int_equal(a->stream_id, b->stream_id);
	assert_int_equal(a->conn_seq, b->conn_seq);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->flags, b->flags);
	assert_memory_equal(&a->client, &b->client, sizeof(a->client));
	assert_memory_equal(&a->server, &b->server, sizeof(a->server));
	assert_memory_equal(&a->t, &b->t, sizeof(a->t));
	assert_true(rp_slice_eq(a->req.method, b->req.method));
	assert_true(rp_slice_eq(a->req.scheme, b->req.scheme));
	assert_true(rp_slice_eq(a->req.authority, b->req.authority));
	assert_true(rp_slice_eq(a->req.target, b->req.target));
	assert_message_same(&a->req.m, &b->req.m);
	assert_int_equal(a->resp.status, b->resp.status);
	assert_true(rp_slice_eq(a->resp.reason, b->resp.reason));
	assert_message_same(&a->resp.m, &b->resp.m);
}

static void test_jsonl_roundtrip(void **state)
{
	(void)state;
	struct rp_exchange *xs[2] = {make_rich(), make_unanswered()};
	/* a header name and a reason that are not UTF-8, a NUL in a text-ish body */
	rp_headers_add(&xs[0]->resp.m.headers, xs[0]->pool, RP_SLICE_LIT("X-\xff"),
		       RP_SLICE_LIT("\xc3("));
	xs[1]->resp.reason = RP_SLICE_LIT("\xfe");
	xs[1]->req.m.body = rp_slice("a\0b", 3);
	size_t len, len2;
	char *out = export_to_string(RP_HAR_FORMAT_JSONL, xs, 2, &len);
	assert_true(len > 0 && out[len - 1] == '\n');
	assert_non_null(strstr(out, "\"body_base64\":true"));
	assert_non_null(strstr(out, "\"flag_names\":\"gap,masked\""));
	struct rp_har_reader *r = open_str(out, RP_HAR_FORMAT_AUTO);
	assert_int_equal(rp_har_reader_format(r), RP_HAR_FORMAT_JSONL);
	struct rp_exchange *back[2];
	char err[256];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rp_har_reader_next(r, &back[i], err, sizeof(err)), 0);
		assert_exchange_same(xs[i], back[i]);
		back[i]->id = xs[i]->id;
	}
	assert_int_equal(rp_har_reader_next(r, &back[0] + 0, err, sizeof(err)) == RP_E_NOTFOUND, 1);
	rp_har_reader_free(r);
	char *again = export_to_string(RP_HAR_FORMAT_JSONL, back, 2, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(out, again, len);
	free(out);
	free(again);
	for (int i = 0; i < 2; i++) {
		rp_exchange_free(xs[i]);
		rp_exchange_free(back[i]);
	}
}

static void test_jsonl_bad_lines(void **state)
{
	(void)state;
	static const char doc[] =
		"\n"
		"{bad json\n"
		"[1]\n"
		"{\"request\":{\"method\":\"GET\",\"headers\":[[\"a\"]]}}\n"
		"{\"request\":{\"method\":\"GET\"},\"timing\":{\"req_start\":\"x\"}}\n"
		"{\"request\":{\"method\":\"GET\",\"body\":\"!!\",\"body_base64\":true}}\n"
		"{\"request\":{\"method\":\"GET\"},\"proto\":\"h3\"}\n"
		"{\"request\":{\"method\":\"GET\"},\"response\":{\"status\":1000}}\n"
		"{\"request\":{\"method\":\"GET\"},\"client\":\"nope\"}\n"
		"{\"request\":{}}\n"
		"{\"request\":{\"method\":\"GET\"},\"conn\":-1}\n"
		"{\"request\":{\"method\":\"GET\",\"target\":{\"base64\":5}}}\n"
		"   \t\r\n"
		"{\"request\":{\"method\":\"GET\",\"target\":{\"base64\":\"L3g=\"}}}";
	static const char *const want[] = {
		"line 2, column",
		"line 3: not a JSON object",
		"line 4: request.headers[0] is not a [name, value] pair",
		"line 5: timing.req_start is not an integer",
		"line 6: request.body is not valid base64",
		"line 7: proto is not one of",
		"line 8: response.status is not an integer in 0..999",
		"line 9: client is not an address",
		"line 10: request.method is missing or empty",
		"line 11: conn is not an integer",
		"line 12: request.target is not a string",
	};
	struct rp_har_reader *r = open_str(doc, RP_HAR_FORMAT_JSONL);
	struct rp_exchange *x = NULL;
	char err[256];
	for (size_t i = 0; i < RP_ARRAY_LEN(want); i++) {
		int rc = rp_har_reader_next(r, &x, err, sizeof(err));
		if (rc != RP_E_FORMAT || strncmp(err, want[i], strlen(want[i]))) {
			fprintf(stderr, "%zu: rc %d '%s', want '%s'\n", i, rc, err, want[i]);
			fail();
		}
	}
	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), 0);
	assert_slice(x->req.target, "/x");
	rp_exchange_free(x);
	assert_int_equal(rp_har_reader_next(r, &x, err, sizeof(err)), RP_E_NOTFOUND);
	rp_har_reader_free(r);
}

/* Byte flips and truncations of a valid JSON line: an error naming the
 * line, or an exchange, never a crash. */
static void test_jsonl_corrupted(void **state)
{
	(void)state;
	struct rp_exchange *x0 = make_rich();
	size_t len;
	char *line = export_to_string(RP_HAR_FORMAT_JSONL, &x0, 1, &len);
	rp_exchange_free(x0);
	unsigned seed = 99;
	for (int round = 0; round < 2000; round++) {
		char *copy = rp_xmalloc(len);
		memcpy(copy, line, len);
		size_t n = len - 1; /* without the newline */
		if (round % 3 == 0) {
			n = (size_t)round * n / 2000;
		} else {
			for (int k = 0; k < 4; k++) {
				seed = seed * 1103515245 + 12345;
				copy[(seed >> 8) % n] = (char)(seed >> 3);
			}
		}
		struct rp_exchange *x = NULL;
		char err[256];
		int rc = rp_har_jsonl_parse(copy, n, 1, &x, err, sizeof(err));
		if (rc == 0)
			rp_exchange_free(x);
		else if (rc != RP_E_FORMAT || strncmp(err, "line 1", 6) != 0) {
			fprintf(stderr, "rc %d err '%s'\n", rc, err);
			fail();
		}
		free(copy);
	}
	free(line);
}

/* ---- helpers ---- */

static void test_base64_utf8(void **state)
{
	(void)state;
	struct rp_pool *pool = rp_pool_new(0);
	uint8_t in[16];
	char enc[32];
	for (size_t n = 0; n <= sizeof(in); n++) {
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(i * 37 + n);
		size_t m = rp_har_b64_encode(in, n, enc);
		assert_int_equal(m, RP_HAR_B64_LEN(n));
		struct rp_slice out;
		assert_int_equal(rp_har_b64_decode(enc, m, pool, &out), 0);
		assert_int_equal(out.n, n);
		if (n)
			assert_memory_equal(out.p, in, n);
	}
	struct rp_slice out;
	assert_int_equal(rp_har_b64_decode("aGk", 3, pool, &out), 0); /* no padding */
	assert_slice(out, "hi");
	assert_int_equal(rp_har_b64_decode("aG\nk=", 5, pool, &out), 0);
	assert_int_equal(rp_har_b64_decode("a", 1, pool, &out), RP_E_FORMAT);
	assert_int_equal(rp_har_b64_decode("a*==", 4, pool, &out), RP_E_FORMAT);
	assert_int_equal(rp_har_b64_decode("aG=k", 4, pool, &out), RP_E_FORMAT);
	rp_pool_free(pool);

	assert_true(rp_har_utf8_valid(RP_SLICE_LIT("plain")));
	assert_true(rp_har_utf8_valid(RP_SLICE_LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")));
	assert_false(rp_har_utf8_valid(RP_SLICE_LIT("caf\xe9")));
	assert_false(rp_har_utf8_valid(RP_SLICE_LIT("\xc0\xaf")));         /* overlong */
	assert_false(rp_har_utf8_valid(RP_SLICE_LIT("\xed\xa0\x80")));     /* surrogate */
	assert_false(rp_har_utf8_valid(RP_SLICE_LIT("\xf4\x90\x80\x80"))); /* > U+10FFFF */
	assert_false(rp_har_utf8_valid(RP_SLICE_LIT("\xe2\x82")));         /* cut short */
	assert_true(rp_har_is_text(RP_SLICE_LIT("a\tb\r\nc")));
	assert_false(rp_har_is_text(rp_slice("a\0b", 3)));
	assert_false(rp_har_is_text(RP_SLICE_LIT("\x1b[0m")));
	assert_true(rp_har_ms_to_ns(1.5) == 1500000);
	assert_true(rp_har_ms_to_ns(-1) == 0);
	assert_true(rp_har_ms_to_ns(0.0000004) == 0);
	enum rp_har_format f;
	assert_int_equal(rp_har_format_parse("har", &f), 0);
	assert_int_equal(f, RP_HAR_FORMAT_HAR);
	assert_int_equal(rp_har_format_parse("jsonl", &f), 0);
	assert_int_equal(rp_har_format_parse("xml", &f), RP_E_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_teashop),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_h2_params_coding),
		cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_corrupted),
		cmocka_unit_test(test_big_body),
		cmocka_unit_test(test_export_har),
		cmocka_unit_test(test_jsonl_roundtrip),
		cmocka_unit_test(test_jsonl_bad_lines),
		cmocka_unit_test(test_jsonl_corrupted),
		cmocka_unit_test(test_base64_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
