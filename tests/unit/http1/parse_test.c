/*
 * parse_test: hand-written cases for the HTTP/1 parser — every framing rule
 * (HEAD, 1xx, 204, 304, close-delimited, chunked with extensions and
 * trailers, pipelining, Upgrade and CONNECT tunnels, keep-alive), every
 * limit, every anomaly in both modes, the zero-copy contract, and the
 * helpers.  Each input goes through h1_drive_all, so each is also fed byte
 * by byte and in random splits and must give the same events.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h1_driver.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

struct cfg {
	enum rp_h1_kind kind;
	enum rp_h1_mode mode;
	enum rp_h1_method method;
	int finish;
	int tunnel;
	uint32_t allow;
	uint32_t max_start_line, max_header_bytes, max_headers, max_chunk_line;
};

/* Runs |in| under |c| in every split and returns the whole-feed result. */
static struct h1_result drive(struct cfg c, const uint8_t *in, size_t n)
{
	struct h1_run run;
	struct h1_result r;
	char why[8192];
	memset(&run, 0, sizeof(run));
	run.kind = c.kind;
	rp_h1_options_init(&run.opt);
	run.opt.mode = c.mode;
	run.opt.allow = c.allow;
	run.opt.max_start_line = c.max_start_line;
	run.opt.max_header_bytes = c.max_header_bytes;
	run.opt.max_headers = c.max_headers;
	run.opt.max_chunk_line = c.max_chunk_line;
	run.method = c.method;
	run.finish = c.finish;
	run.tunnel = c.tunnel;
	if (h1_drive_all(&run, in, n, 6, &r, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	return r;
}

static const struct cfg REQ = {RP_H1_REQUEST, RP_H1_STRICT, 0, 0, 0, 0, 0, 0, 0, 0};
static const struct cfg RESP = {RP_H1_RESPONSE, RP_H1_STRICT, 0, 0, 0, 0, 0, 0, 0, 0};

static struct cfg lenient(struct cfg c)
{
	c.mode = RP_H1_LENIENT;
	return c;
}

static void assert_str(const struct h1_str *s, const char *want)
{
	size_t n = strlen(want);
	if (s->n != n || (n && memcmp(s->p, want, n) != 0))
		fail_msg("got \"%.*s\" (%zu bytes), want \"%s\"", (int)s->n, s->p ? (char *)s->p : "", s->n, want);
}

static void assert_ok(const struct h1_result *r)
{
	if (r->end != H1_END_OK)
		fail_msg("unexpected error: %s (offset %llu)\n%s", r->err.why, (unsigned long long)r->err.offset,
			 (char *)r->log.p);
}

static size_t ncomplete(const struct h1_result *r)
{
	size_t c = 0;
	for (size_t i = 0; i < r->nmsgs; i++)
		c += r->msgs[i].complete != 0;
	return c;
}

/* ---- framing ---------------------------------------------------------- */

static void test_request_basics(void **state)
{
	(void)state;
	struct h1_result r = drive(REQ, S("GET /a?b=c HTTP/1.1\r\nHost: example.com\r\n"
					  "Accept: */*\r\nX-Empty:\r\nX-Pad:  \t v \t \r\n\r\n"));
	assert_ok(&r);
	assert_int_equal(r.nmsgs, 1);
	struct h1_message *m = &r.msgs[0];
	assert_true(m->complete);
	assert_str(&m->method, "GET");
	assert_str(&m->target, "/a?b=c");
	assert_int_equal(m->minor, 1);
	assert_int_equal(m->nfields, 4);
	assert_str(&m->fields[0].name, "Host");
	assert_str(&m->fields[0].value, "example.com");
	assert_str(&m->fields[2].value, "");
	assert_str(&m->fields[3].value, "v");
	assert_int_equal(m->msg.body, RP_H1_BODY_NONE);
	assert_true(m->msg.flags & RP_H1_F_KEEP_ALIVE);
	assert_int_equal(m->msg.method, RP_H1_M_GET);
	assert_int_equal(m->msg.anomalies, 0);
	h1_result_free(&r);
}

static void test_content_length_body(void **state)
{
	(void)state;
	struct h1_result r = drive(REQ, S("POST /p HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 1);
	assert_str(&r.msgs[0].body, "hello world");
	assert_int_equal(r.msgs[0].msg.body, RP_H1_BODY_LENGTH);
	assert_int_equal(r.msgs[0].msg.content_length, 11);
	assert_int_equal(r.msgs[0].msg.body_len, 11);
	h1_result_free(&r);
}

static void test_chunked_ext_trailers(void **state)
{
	(void)state;
	struct h1_result r = drive(REQ, S("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
					  "5;name=val;q=\"a \\\"b\\\"\"\r\nhello\r\n"
					  "6 ; x\r\n world\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 1);
	struct h1_message *m = &r.msgs[0];
	assert_str(&m->body, "hello world");
	assert_int_equal(m->msg.body, RP_H1_BODY_CHUNKED);
	assert_true(m->msg.flags & RP_H1_F_CHUNKED);
	assert_true(m->msg.flags & RP_H1_F_TRAILERS);
	assert_int_equal(m->ntrailers, 2);
	assert_str(&m->trailers[0].name, "X-Sum");
	assert_str(&m->trailers[1].value, "2");
	assert_int_equal(m->msg.anomalies, 0);
	assert_non_null(strstr((char *)r.log.p, "CHUNK 5 \";name=val;q=\\x22a \\x5c\\x22b\\x5c\\x22\\x22\""));
	assert_non_null(strstr((char *)r.log.p, "CHUNK 6 \"; x\""));
	h1_result_free(&r);
}

static void test_head_response(void **state)
{
	(void)state;
	struct cfg c = RESP;
	c.method = RP_H1_M_HEAD;
	struct h1_result r = drive(c, S("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
					"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 2);
	assert_int_equal(r.msgs[0].msg.body, RP_H1_BODY_NONE);
	assert_int_equal(r.msgs[0].msg.content_length, 1234);
	assert_int_equal(r.msgs[0].msg.method, RP_H1_M_HEAD);
	assert_int_equal(r.msgs[0].body.n, 0);
	assert_int_equal(r.msgs[1].msg.body, RP_H1_BODY_NONE);
	h1_result_free(&r);

	/* the same bytes answering a GET carry a body */
	r = drive(RESP, S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"));
	assert_ok(&r);
	assert_str(&r.msgs[0].body, "abc");
	h1_result_free(&r);
}

static void test_204_304(void **state)
{
	(void)state;
	struct h1_result r = drive(RESP, S("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
					   "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\n\r\n"
					   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 3);
	assert_int_equal(r.msgs[0].msg.body, RP_H1_BODY_NONE);
	assert_int_equal(r.msgs[1].msg.body, RP_H1_BODY_NONE);
	assert_int_equal(r.msgs[1].msg.content_length, 99);
	assert_str(&r.msgs[2].body, "ok");
	h1_result_free(&r);
}

static void test_interim_then_final(void **state)
{
	(void)state;
	struct cfg c = RESP;
	c.method = RP_H1_M_HEAD;
	struct h1_result r = drive(c, S("HTTP/1.1 100 Continue\r\n\r\n"
					"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
					"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 3);
	assert_true(r.msgs[0].msg.flags & RP_H1_F_INTERIM);
	assert_true(r.msgs[1].msg.flags & RP_H1_F_INTERIM);
	assert_false(r.msgs[2].msg.flags & RP_H1_F_INTERIM);
	/* the HEAD method lasts through the interim responses */
	assert_int_equal(r.msgs[2].msg.method, RP_H1_M_HEAD);
	assert_int_equal(r.msgs[2].msg.body, RP_H1_BODY_NONE);
	h1_result_free(&r);
}

static void test_expect_continue(void **state)
{
	(void)state;
	struct h1_result r = drive(REQ, S("PUT /up HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nhi"));
	assert_ok(&r);
	assert_true(r.msgs[0].msg.flags & RP_H1_F_EXPECT_CONTINUE);
	h1_result_free(&r);
}

static void test_close_delimited(void **state)
{
	(void)state;
	struct cfg c = RESP;
	c.finish = 1;
	struct h1_result r = drive(c, S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 1);
	assert_int_equal(r.msgs[0].msg.body, RP_H1_BODY_EOF);
	assert_false(r.msgs[0].msg.flags & RP_H1_F_KEEP_ALIVE);
	assert_str(&r.msgs[0].body, "until the end");
	assert_non_null(strstr((char *)r.log.p, "FINISH message"));
	h1_result_free(&r);

	/* a response whose last coding is not chunked also reads to the end */
	r = drive(c, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz"));
	assert_ok(&r);
	assert_int_equal(r.msgs[0].msg.body, RP_H1_BODY_EOF);
	assert_str(&r.msgs[0].body, "zzz");
	h1_result_free(&r);
}

static void test_truncated(void **state)
{
	(void)state;
	struct cfg c = REQ;
	c.finish = 1;
	const char *cut[] = {
		"GET / HTTP/1.1\r\nHost: a\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		"GET / HT",
	};
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		struct h1_result r = drive(c, (const uint8_t *)cut[i], strlen(cut[i]));
		assert_int_equal(r.end, H1_END_FINISH_ERROR);
		h1_result_free(&r);
	}
	/* ending between messages is clean */
	struct h1_result r = drive(c, S("GET / HTTP/1.1\r\n\r\n\r\n"));
	assert_ok(&r);
	assert_non_null(strstr((char *)r.log.p, "FINISH clean"));
	h1_result_free(&r);
}

static void test_pipelining(void **state)
{
	(void)state;
	struct h1_result r = drive(REQ, S("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
					  "POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
					  "\r\n" /* an extra CRLF after a body, as old clients send */
					  "PUT /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
					  "DELETE /4 HTTP/1.1\r\n\r\n"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 4);
	assert_str(&r.msgs[1].body, "abc");
	assert_str(&r.msgs[2].body, "x");
	assert_str(&r.msgs[3].target, "/4");
	assert_int_equal(r.msgs[3].msg.method, RP_H1_M_DELETE);
	h1_result_free(&r);

	r = drive(RESP, S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\n"
			  "Content-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 3);
	assert_int_equal(r.msgs[1].status, 404);
	assert_str(&r.msgs[1].reason, "Not Found");
	h1_result_free(&r);
}

static void test_upgrade_tunnel(void **state)
{
	(void)state;
	struct cfg c = REQ;
	c.tunnel = 1;
	const char req[] = "GET /ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
			   "\x81\x05hello GET / HTTP/1.1\r\n\r\n";
	struct h1_result r = drive(c, (const uint8_t *)req, sizeof(req) - 1);
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 1);
	assert_true(r.msgs[0].msg.flags & RP_H1_F_UPGRADE);
	assert_true(r.paused);
	assert_true(r.tunnel);
	assert_str(&r.tunnel_data, "\x81\x05hello GET / HTTP/1.1\r\n\r\n");
	h1_result_free(&r);

	/* refused upgrade: HTTP/1 goes on */
	c.tunnel = 0;
	r = drive(c, S("GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\nGET /next HTTP/1.1\r\n\r\n"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 2);
	assert_true(r.msgs[0].msg.flags & RP_H1_F_H2C_UPGRADE);
	assert_false(r.tunnel);
	h1_result_free(&r);

	/* Upgrade without "Connection: upgrade" is only a field */
	r = drive(REQ, S("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
	assert_int_equal(ncomplete(&r), 2);
	assert_false(r.paused);
	h1_result_free(&r);

	/* 101 switches the response side */
	r = drive(RESP, S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
			  "\x81\x02hi"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 1);
	assert_true(r.msgs[0].msg.flags & RP_H1_F_TUNNEL);
	assert_str(&r.tunnel_data, "\x81\x02hi");
	h1_result_free(&r);
}

static void test_connect(void **state)
{
	(void)state;
	struct cfg c = REQ;
	c.tunnel = 1;
	struct h1_result r = drive(c, S("CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n"
					"\x16\x03\x01 tls bytes"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 1);
	assert_true(r.msgs[0].msg.flags & RP_H1_F_CONNECT);
	assert_int_equal(r.msgs[0].msg.method, RP_H1_M_CONNECT);
	assert_str(&r.msgs[0].target, "db.internal:5432");
	assert_str(&r.tunnel_data, "\x16\x03\x01 tls bytes");
	h1_result_free(&r);

	struct cfg rc = RESP;
	rc.method = RP_H1_M_CONNECT;
	r = drive(rc, S("HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x03server"));
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 1);
	assert_true(r.msgs[0].msg.flags & RP_H1_F_TUNNEL);
	assert_int_equal(r.msgs[0].msg.body, RP_H1_BODY_NONE);
	assert_str(&r.tunnel_data, "\x16\x03\x03server");
	h1_result_free(&r);

	/* a refused CONNECT is an ordinary response with a body */
	r = drive(rc, S("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nnope"));
	assert_ok(&r);
	assert_false(r.msgs[0].msg.flags & RP_H1_F_TUNNEL);
	assert_str(&r.msgs[0].body, "nope");
	assert_false(r.tunnel);
	h1_result_free(&r);
}

static void test_keep_alive(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int keep;
	} cases[] = {
		{"GET / HTTP/1.1\r\n\r\n", 1},
		{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0},
		{"GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", 0},
		{"GET / HTTP/1.0\r\n\r\n", 0},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct h1_result r = drive(REQ, (const uint8_t *)cases[i].in, strlen(cases[i].in));
		assert_ok(&r);
		assert_int_equal(!!(r.msgs[0].msg.flags & RP_H1_F_KEEP_ALIVE), cases[i].keep);
		h1_result_free(&r);
	}
	/* after a closing message: STRICT rejects more data, LENIENT parses
	 * it and flags it */
	const char two[] = "GET / HTTP/1.0\r\n\r\nGET /again HTTP/1.1\r\n\r\n";
	struct h1_result r = drive(REQ, (const uint8_t *)two, sizeof(two) - 1);
	assert_int_equal(r.end, H1_END_ERROR);
	assert_int_equal(r.err.anomaly, RP_H1_A_DATA_AFTER_CLOSE);
	assert_int_equal(ncomplete(&r), 1);
	h1_result_free(&r);
	r = drive(lenient(REQ), (const uint8_t *)two, sizeof(two) - 1);
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 2);
	assert_int_equal(r.msgs[0].msg.anomalies, 0);
	assert_int_equal(r.msgs[1].msg.anomalies, RP_H1_A_DATA_AFTER_CLOSE);
	h1_result_free(&r);
}

static void test_h2_preface(void **state)
{
	(void)state;
	struct h1_result r = drive(REQ, S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
	assert_int_equal(r.end, H1_END_ERROR);
	assert_true(r.err.h2_preface);
	h1_result_free(&r);
	r = drive(lenient(REQ), S("GET / HTTP/2.0\r\n\r\n"));
	assert_int_equal(r.end, H1_END_ERROR);
	assert_false(r.err.h2_preface);
	h1_result_free(&r);
}

/* ---- anomalies in both modes --------------------------------------------- */

enum lenient_outcome { L_ACCEPT, L_REJECT };

static const struct anomaly_case {
	const char *name;
	enum rp_h1_kind kind;
	const char *in;
	uint32_t bit;                 /* the anomaly STRICT rejects first */
	enum lenient_outcome lenient; /* STRICT always rejects */
	const char *lenient_body;     /* body LENIENT reads, if it accepts */
	uint32_t also;                /* other anomalies the input carries */
} anomaly_cases[] = {
	{"CL with TE", RP_H1_REQUEST,
	 "POST / HTTP/1.1\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	 RP_H1_A_CL_AND_TE, L_ACCEPT, "ok", 0},
	{"CL with TE, response", RP_H1_RESPONSE,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	 RP_H1_A_CL_AND_TE, L_ACCEPT, "ok", 0},
	{"identical CL fields", RP_H1_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
	 RP_H1_A_CL_DUP, L_ACCEPT, "ok", 0},
	{"identical CL list", RP_H1_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nok", RP_H1_A_CL_DUP,
	 L_ACCEPT, "ok", 0},
	{"differing CL", RP_H1_REQUEST, "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
	 RP_H1_A_CL_CONFLICT, L_REJECT, NULL, 0},
	{"differing CL, TE frames", RP_H1_REQUEST,
	 "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	 RP_H1_A_CL_CONFLICT, L_ACCEPT, "", RP_H1_A_CL_AND_TE},
	{"invalid CL", RP_H1_REQUEST, "POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\nok", RP_H1_A_CL_INVALID, L_REJECT,
	 NULL, 0},
	{"overflowing CL", RP_H1_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n",
	 RP_H1_A_CL_INVALID, L_REJECT, NULL, 0},
	{"request TE not ending in chunked", RP_H1_REQUEST,
	 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw", RP_H1_A_TE_NOT_CHUNKED, L_ACCEPT, "raw", 0},
	{"chunked twice", RP_H1_REQUEST,
	 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
	 RP_H1_A_TE_CHUNKED_TWICE, L_ACCEPT, "x", 0},
	{"invalid TE in a request", RP_H1_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\xa0\r\n\r\n",
	 RP_H1_A_TE_INVALID, L_REJECT, NULL, 0},
	{"invalid TE in a response", RP_H1_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: \"chunked\"\r\n\r\nraw",
	 RP_H1_A_TE_INVALID, L_ACCEPT, "raw", 0},
	{"TE in HTTP/1.0", RP_H1_REQUEST, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
	 RP_H1_A_TE_HTTP10, L_ACCEPT, "x", 0},
	{"obs-fold", RP_H1_REQUEST, "GET / HTTP/1.1\r\nX-A: one\r\n  two\r\nX-B: b\r\n\r\n", RP_H1_A_OBS_FOLD, L_ACCEPT,
	 "", 0},
	{"whitespace before the first field", RP_H1_REQUEST, "GET / HTTP/1.1\r\n X-A: a\r\n\r\n", RP_H1_A_OBS_FOLD,
	 L_REJECT, NULL, 0},
	{"bare LF", RP_H1_REQUEST, "GET / HTTP/1.1\nHost: a\n\n", RP_H1_A_BARE_LF, L_ACCEPT, "", 0},
	{"bare LF after chunk data", RP_H1_RESPONSE,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n", RP_H1_A_BARE_LF, L_ACCEPT, "x", 0},
	{"whitespace before colon", RP_H1_REQUEST, "POST / HTTP/1.1\r\nContent-Length : 2\r\n\r\nok",
	 RP_H1_A_WS_BEFORE_COLON, L_ACCEPT, "ok", 0},
	{"bad name character", RP_H1_REQUEST, "GET / HTTP/1.1\r\nX(y): 1\r\n\r\n", RP_H1_A_NAME_CHAR, L_ACCEPT, "", 0},
	{"empty name", RP_H1_REQUEST, "GET / HTTP/1.1\r\n: 1\r\n\r\n", RP_H1_A_NAME_CHAR, L_ACCEPT, "", 0},
	{"NUL in value", RP_H1_REQUEST, "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", RP_H1_A_VALUE_CHAR, L_ACCEPT, "", 0},
	{"CR in value", RP_H1_REQUEST, "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", RP_H1_A_VALUE_CHAR, L_ACCEPT, "", 0},
	{"name like TE", RP_H1_REQUEST, "POST / HTTP/1.1\r\nTransfer_Encoding: chunked\r\nContent-Length: 2\r\n\r\nok",
	 RP_H1_A_SUSPICIOUS_NAME, L_ACCEPT, "ok", 0},
	{"name like CL", RP_H1_REQUEST, "POST / HTTP/1.1\r\nContent--Length: 5\r\n\r\n", RP_H1_A_SUSPICIOUS_NAME,
	 L_ACCEPT, "", 0},
	{"bad chunk size", RP_H1_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n",
	 RP_H1_A_CHUNK_SIZE, L_REJECT, NULL, 0},
	{"overflowing chunk size", RP_H1_RESPONSE,
	 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", RP_H1_A_CHUNK_SIZE, L_REJECT,
	 NULL, 0},
	{"empty chunk extension", RP_H1_REQUEST,
	 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;\r\nx\r\n0\r\n\r\n", RP_H1_A_CHUNK_EXT, L_ACCEPT, "x", 0},
	{"unterminated quoted extension", RP_H1_REQUEST,
	 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\"b\r\nx\r\n0\r\n\r\n", RP_H1_A_CHUNK_EXT, L_ACCEPT,
	 "x", 0},
	{"space after chunk size", RP_H1_REQUEST,
	 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n", RP_H1_A_CHUNK_EXT, L_ACCEPT, "x", 0},
	{"GET with Content-Length", RP_H1_REQUEST, "GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok", RP_H1_A_BODY_IN_GET,
	 L_ACCEPT, "ok", 0},
	{"HEAD with chunked", RP_H1_REQUEST, "HEAD / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	 RP_H1_A_BODY_IN_GET, L_ACCEPT, "", 0},
	{"data after close", RP_H1_RESPONSE,
	 "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	 RP_H1_A_DATA_AFTER_CLOSE, L_ACCEPT, "", 0},
};

static void test_anomalies_both_modes(void **state)
{
	(void)state;
	char an[256];
	for (size_t i = 0; i < sizeof(anomaly_cases) / sizeof(anomaly_cases[0]); i++) {
		const struct anomaly_case *a = &anomaly_cases[i];
		struct cfg c = a->kind == RP_H1_REQUEST ? REQ : RESP;
		size_t n = strlen(a->in);
		if (strstr(a->name, "NUL"))
			n = strlen(a->in) + 1 + strlen(a->in + strlen(a->in) + 1);

		/* STRICT rejects, naming the anomaly */
		struct h1_result r = drive(c, (const uint8_t *)a->in, n);
		if (r.end != H1_END_ERROR || r.err.anomaly != a->bit)
			fail_msg("%s: STRICT should reject with %s, got end=%d anomaly=%s (%s)\n%s", a->name,
				 rp_h1_anomaly_name(a->bit), r.end, rp_h1_anomaly_name(r.err.anomaly),
				 r.err.why ? r.err.why : "", (char *)r.log.p);
		assert_int_equal(r.err.code, RP_E_PROTO);
		h1_result_free(&r);

		/* STRICT with the anomaly allowed records it instead */
		struct cfg ca = c;
		ca.allow = a->bit | a->also;
		r = drive(ca, (const uint8_t *)a->in, n);
		if (a->lenient == L_ACCEPT && (r.end != H1_END_OK || !(r.anomalies & a->bit)))
			fail_msg("%s: STRICT allowing %s should accept and flag it\n%s", a->name,
				 rp_h1_anomaly_name(a->bit), (char *)r.log.p);
		h1_result_free(&r);

		/* LENIENT frames it and flags it, or rejects what cannot be framed */
		r = drive(lenient(c), (const uint8_t *)a->in, n);
		if (a->lenient == L_REJECT) {
			if (r.end != H1_END_ERROR || r.err.anomaly != a->bit)
				fail_msg("%s: LENIENT should reject with %s\n%s", a->name,
					 rp_h1_anomaly_name(a->bit), (char *)r.log.p);
		} else {
			if (r.end != H1_END_OK || !(r.anomalies & a->bit) || r.nmsgs == 0)
				fail_msg("%s: LENIENT should accept with %s, got %s\n%s", a->name,
					 rp_h1_anomaly_name(a->bit), rp_h1_anomalies_format(r.anomalies, an, sizeof(an)),
					 (char *)r.log.p);
			struct h1_message *m = &r.msgs[0];
			if (m->msg.body != RP_H1_BODY_EOF && !m->complete)
				fail_msg("%s: LENIENT should complete the message\n%s", a->name, (char *)r.log.p);
			assert_str(&m->body, a->lenient_body);
		}
		h1_result_free(&r);
	}
}

static void test_lenient_details(void **state)
{
	(void)state;
	/* a folded value keeps its raw bytes; rp_h1_unfold makes it one line */
	struct h1_result r = drive(lenient(REQ), S("GET / HTTP/1.1\r\nX-A: one\r\n  two\r\n\tthree \r\n\r\n"));
	assert_ok(&r);
	assert_str(&r.msgs[0].fields[0].value, "one\r\n  two\r\n\tthree");
	uint8_t out[64];
	size_t n = rp_h1_unfold(rp_slice(r.msgs[0].fields[0].value.p, r.msgs[0].fields[0].value.n), out);
	assert_int_equal(n, strlen("one two three"));
	assert_memory_equal(out, "one two three", n);
	h1_result_free(&r);

	/* whitespace before the colon: the name is reported without it and
	 * frames the message, as a proxy would forward it */
	r = drive(lenient(REQ), S("POST / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n"));
	assert_ok(&r);
	assert_str(&r.msgs[0].fields[0].name, "Transfer-Encoding");
	assert_int_equal(r.msgs[0].msg.body, RP_H1_BODY_CHUNKED);
	h1_result_free(&r);

	/* TE in HTTP/1.0 frames the message, then the connection closes */
	r = drive(lenient(REQ), S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n"));
	assert_ok(&r);
	assert_false(r.msgs[0].msg.flags & RP_H1_F_KEEP_ALIVE);
	h1_result_free(&r);

	/* HTTP/1.2 is read as 1.1 with a note, accepted even by STRICT */
	r = drive(REQ, S("GET / HTTP/1.2\r\n\r\n"));
	assert_ok(&r);
	assert_int_equal(r.msgs[0].msg.anomalies, RP_H1_A_VERSION);
	assert_true(r.msgs[0].msg.flags & RP_H1_F_KEEP_ALIVE);
	h1_result_free(&r);
}

static void test_error_details(void **state)
{
	(void)state;
	struct rp_h1_parser p;
	struct rp_h1_event ev;
	const char in[] = "GET / HTTP/1.1\r\nX-A: a\x01" "b\r\n\r\n";
	rp_h1_init(&p, RP_H1_REQUEST, NULL);
	ssize_t r = rp_h1_parse(&p, (const uint8_t *)in, sizeof(in) - 1, &ev);
	assert_int_equal(r, 16);
	assert_int_equal(ev.type, RP_H1_EV_REQUEST_LINE);
	r = rp_h1_parse(&p, (const uint8_t *)in + 16, sizeof(in) - 1 - 16, &ev);
	assert_int_equal(r, RP_E_PROTO);
	assert_int_equal(p.err.offset, 22); /* the \x01 */
	assert_int_equal(p.err.state, RP_H1_S_HEADERS);
	assert_int_equal(p.err.anomaly, RP_H1_A_VALUE_CHAR);
	assert_string_equal(rp_h1_reason(&p), "control character in a field value");
	assert_int_equal(rp_h1_error_status(&p), 400);
	/* sticky */
	assert_int_equal(rp_h1_parse(&p, (const uint8_t *)"GET", 3, &ev), RP_E_PROTO);
	assert_int_equal(rp_h1_finish(&p, &ev), RP_E_PROTO);

	/* a fresh parser after rp_h1_reset */
	rp_h1_reset(&p);
	assert_int_equal(p.err.code, 0);
	assert_string_equal(rp_h1_reason(&p), "no error");
	assert_int_equal(rp_h1_error_status(&p), 0);

	static const char *bad[] = {
		"GET  / HTTP/1.1\r\n\r\n",   "GET / HTTP/1.1 \r\n\r\n", "GET / http/1.1\r\n\r\n",
		"GET / HTTP/1.10\r\n\r\n",   "G@T / HTTP/1.1\r\n\r\n",  "GET /\x7f HTTP/1.1\r\n\r\n",
		"GET / HTTP/0.9\r\n\r\n",    "\r\rGET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\r\n\r\r\n", "GET / HTTP/1.1\r\nName\r\n : folded\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct h1_result res = drive(lenient(REQ), (const uint8_t *)bad[i], strlen(bad[i]));
		if (res.end != H1_END_ERROR)
			fail_msg("\"%s\" should be rejected even by LENIENT\n%s", bad[i], (char *)res.log.p);
		h1_result_free(&res);
	}
	static const char *bad_status[] = {
		"HTTP/1.1 99 Low\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 200 O\x01K\r\n\r\n", "HTTP/1.1\r\n\r\n",
		"HTTP/2 200\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		struct h1_result res = drive(lenient(RESP), (const uint8_t *)bad_status[i], strlen(bad_status[i]));
		if (res.end != H1_END_ERROR)
			fail_msg("\"%s\" should be rejected\n%s", bad_status[i], (char *)res.log.p);
		h1_result_free(&res);
	}
}

/* ---- limits ------------------------------------------------------------------ */

static void fill(char *buf, size_t n, char c)
{
	memset(buf, c, n);
}

static void test_limits(void **state)
{
	(void)state;
	static char buf[200000];
	struct cfg c = REQ;
	size_t n;

	/* start line: 100 bytes allowed (LF included) */
	c.max_start_line = 100;
	n = (size_t)sprintf(buf, "GET /");
	fill(buf + n, 100 - 16, 'a'); /* "GET /" + 84 + " HTTP/1.1\r\n" = 100 */
	n += 100 - 16;
	n += (size_t)sprintf(buf + n, " HTTP/1.1\r\n\r\n");
	struct h1_result r = drive(c, (const uint8_t *)buf, n);
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 1);
	h1_result_free(&r);
	memmove(buf + 6, buf + 5, n - 5);
	buf[5] = 'a';
	r = drive(c, (const uint8_t *)buf, n + 1);
	assert_int_equal(r.end, H1_END_ERROR);
	assert_int_equal(r.err.code, RP_E_LIMIT);
	assert_int_equal(r.err.limit, RP_H1_LIM_START_LINE);
	h1_result_free(&r);

	/* header bytes: a never-ending field line fails once past the cap,
	 * without the caller keeping more than the cap */
	c = REQ;
	c.max_header_bytes = 1000;
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX-Big: ");
	fill(buf + n, 5000, 'v');
	n += 5000;
	r = drive(c, (const uint8_t *)buf, n);
	assert_int_equal(r.end, H1_END_ERROR);
	assert_int_equal(r.err.limit, RP_H1_LIM_HEADER_BYTES);
	assert_true(r.max_kept <= 1000 + 16 + 16);
	h1_result_free(&r);

	/* header bytes summed over fields */
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 40; i++)
		n += (size_t)sprintf(buf + n, "X-Field-%02d: %s\r\n", i, "0123456789");
	n += (size_t)sprintf(buf + n, "\r\n");
	c.max_header_bytes = 960;
	r = drive(c, (const uint8_t *)buf, n); /* 40 * 24 = 960 bytes: fits */
	assert_ok(&r);
	assert_int_equal(ncomplete(&r), 1);
	h1_result_free(&r);
	c.max_header_bytes = 959;
	r = drive(c, (const uint8_t *)buf, n);
	assert_int_equal(r.err.limit, RP_H1_LIM_HEADER_BYTES);
	h1_result_free(&r);

	/* header count, and the status a proxy answers with */
	c = REQ;
	c.max_headers = 40;
	r = drive(c, (const uint8_t *)buf, n);
	assert_ok(&r);
	h1_result_free(&r);
	c.max_headers = 39;
	r = drive(c, (const uint8_t *)buf, n);
	assert_int_equal(r.err.code, RP_E_LIMIT);
	assert_int_equal(r.err.limit, RP_H1_LIM_HEADER_COUNT);
	h1_result_free(&r);
	{
		struct rp_h1_parser p;
		struct rp_h1_event ev;
		struct rp_h1_options o;
		rp_h1_options_init(&o);
		o.max_headers = 1;
		rp_h1_init(&p, RP_H1_REQUEST, &o);
		const char two[] = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
		size_t off = 0;
		ssize_t k;
		while ((k = rp_h1_parse(&p, (const uint8_t *)two + off, sizeof(two) - 1 - off, &ev)) >= 0)
			off += (size_t)k;
		assert_int_equal(k, RP_E_LIMIT);
		assert_int_equal(rp_h1_error_status(&p), 431);
		assert_string_equal(rp_h1_limit_name(p.err.limit), "header-count");
	}

	/* trailers count against the same caps */
	c = REQ;
	c.max_headers = 2;
	r = drive(c, S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"));
	assert_int_equal(r.err.limit, RP_H1_LIM_HEADER_COUNT);
	assert_int_equal(r.err.state, RP_H1_S_TRAILERS);
	h1_result_free(&r);

	/* chunk-size line */
	c = REQ;
	c.max_chunk_line = 32;
	n = (size_t)sprintf(buf, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;");
	fill(buf + n, 28, 'e'); /* "1;" + 28 + "\r\n" = 32 */
	n += 28;
	n += (size_t)sprintf(buf + n, "\r\nx\r\n0\r\n\r\n");
	r = drive(c, (const uint8_t *)buf, n);
	assert_ok(&r);
	h1_result_free(&r);
	c.max_chunk_line = 31;
	r = drive(c, (const uint8_t *)buf, n);
	assert_int_equal(r.err.limit, RP_H1_LIM_CHUNK_LINE);
	h1_result_free(&r);

	/* empty lines before a start line count toward the start-line cap */
	c = REQ;
	c.max_start_line = 64;
	n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(buf + n, "\r\n");
	r = drive(c, (const uint8_t *)buf, n);
	assert_int_equal(r.err.limit, RP_H1_LIM_START_LINE);
	h1_result_free(&r);
}

/* ---- the zero-copy contract ---------------------------------------------------- */

static void test_field_split_across_reads(void **state)
{
	(void)state;
	struct rp_h1_parser p;
	struct rp_h1_event ev;
	rp_h1_init(&p, RP_H1_REQUEST, NULL);
	char a[] = "GET / HTTP/1.1\r\nCookie: session=abc";
	ssize_t r = rp_h1_parse(&p, (const uint8_t *)a, strlen(a), &ev);
	assert_int_equal(r, 16);
	/* the field is not complete: nothing is consumed */
	assert_int_equal(rp_h1_parse(&p, (const uint8_t *)a + 16, strlen(a) - 16, &ev), RP_E_AGAIN);
	/* the caller keeps the tail, moves it, appends the rest */
	char b[64];
	snprintf(b, sizeof(b), "%s%s", a + 16, "def; theme=dark\r\n\r\n");
	memset(a, 'X', sizeof(a) - 1); /* the old block is gone */
	r = rp_h1_parse(&p, (const uint8_t *)b, strlen(b), &ev);
	assert_int_equal(ev.type, RP_H1_EV_HEADER);
	assert_int_equal(r, (ssize_t)strlen("Cookie: session=abcdef; theme=dark\r\n"));
	assert_ptr_equal(ev.u.field.name.p, (const uint8_t *)b);
	assert_int_equal(ev.u.field.value.n, strlen("session=abcdef; theme=dark"));
	assert_memory_equal(ev.u.field.value.p, "session=abcdef; theme=dark", ev.u.field.value.n);
}

static void test_no_quadratic_rescan(void **state)
{
	(void)state;
	/* Feeding a 60 KB field one byte at a time: each call must resume the
	 * LF search where the previous one stopped. */
	static uint8_t buf[70000];
	struct rp_h1_parser p;
	struct rp_h1_event ev;
	struct rp_h1_options o;
	rp_h1_options_init(&o);
	o.mode = RP_H1_LENIENT;
	rp_h1_init(&p, RP_H1_REQUEST, &o);
	size_t n = (size_t)sprintf((char *)buf, "GET / HTTP/1.1\r\nX-Long: ");
	memset(buf + n, 'v', 60000);
	n += 60000;
	n += (size_t)sprintf((char *)buf + n, "\r\n\r\n");
	size_t off = 0, have = 0;
	while (have < n) {
		have++;
		ssize_t r;
		while ((r = rp_h1_parse(&p, buf + off, have - off, &ev)) >= 0)
			off += (size_t)r;
		assert_int_equal(r, RP_E_AGAIN);
		/* all unconsumed bytes were searched, or all but the LF
		 * waiting for the next line's first byte */
		assert_true(p.scan == 0 || p.scan >= have - off - 1);
	}
	assert_int_equal(p.messages, 1);
}

static void test_large_body_bounded(void **state)
{
	(void)state;
	/* 8 MB of body fed in 1 KB reads: the caller never holds more than a
	 * read, the parser never more than its struct. */
	size_t body = 8u << 20;
	char head[64];
	int hn = snprintf(head, sizeof(head), "POST / HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", body);
	uint8_t *in = malloc((size_t)hn + body);
	assert_non_null(in);
	memcpy(in, head, (size_t)hn);
	memset(in + hn, 'b', body);
	struct rp_h1_parser p;
	struct rp_h1_event ev;
	rp_h1_init(&p, RP_H1_REQUEST, NULL);
	size_t off = 0, total = 0, kept_max = 0, end = 0;
	while (end < (size_t)hn + body) {
		end += 1024;
		if (end > (size_t)hn + body)
			end = (size_t)hn + body;
		ssize_t r;
		while ((r = rp_h1_parse(&p, in + off, end - off, &ev)) >= 0) {
			off += (size_t)r;
			if (ev.type == RP_H1_EV_BODY)
				total += ev.u.data.n;
		}
		if (end - off > kept_max)
			kept_max = end - off;
	}
	assert_int_equal(total, body);
	assert_int_equal(p.messages, 1);
	assert_true(kept_max < 1024);
	assert_true(sizeof(p) < 512);
	free(in);
}

static void test_every_byte_consumed_once(void **state)
{
	(void)state;
	/* The sum of consumed counts equals the input length, and PAUSED and
	 * MESSAGE_DONE of a bodiless message consume nothing. */
	const char in[] = "\r\nGET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "3\r\nabc\r\n0\r\nT: 1\r\n\r\n";
	struct rp_h1_parser p;
	struct rp_h1_event ev;
	rp_h1_init(&p, RP_H1_REQUEST, NULL);
	size_t off = 0;
	ssize_t r;
	int events = 0;
	while ((r = rp_h1_parse(&p, (const uint8_t *)in + off, sizeof(in) - 1 - off, &ev)) >= 0) {
		off += (size_t)r;
		events++;
	}
	assert_int_equal(r, RP_E_AGAIN);
	assert_int_equal(off, sizeof(in) - 1);
	assert_int_equal(p.pos, sizeof(in) - 1);
	assert_int_equal(p.messages, 2);
	/* REQ, DONE, MSG | REQ, FIELD, DONE, CHUNK, BODY, CHUNK, TRAILER, MSG */
	assert_int_equal(events, 11);
}

/* ---- helpers ------------------------------------------------------------------- */

static void test_helpers(void **state)
{
	(void)state;
	assert_int_equal(rp_h1_method_parse(rp_slice_str("HEAD")), RP_H1_M_HEAD);
	assert_int_equal(rp_h1_method_parse(rp_slice_str("CONNECT")), RP_H1_M_CONNECT);
	assert_int_equal(rp_h1_method_parse(rp_slice_str("head")), RP_H1_M_OTHER);
	assert_int_equal(rp_h1_method_parse(rp_slice_str("PROPFIND")), RP_H1_M_OTHER);
	assert_string_equal(rp_h1_method_name(RP_H1_M_PATCH), "PATCH");
	assert_string_equal(rp_h1_version_name(1, 0), "HTTP/1.0");
	assert_string_equal(rp_h1_version_name(2, 0), "HTTP/?");
	assert_string_equal(rp_h1_anomaly_name(RP_H1_A_CL_AND_TE), "cl-and-te");
	assert_string_equal(rp_h1_anomaly_name(RP_H1_A_VERSION), "version");
	assert_string_equal(rp_h1_anomaly_name(3), "?");
	char buf[256];
	assert_string_equal(rp_h1_anomalies_format(0, buf, sizeof(buf)), "none");
	assert_string_equal(rp_h1_anomalies_format(RP_H1_A_BARE_LF | RP_H1_A_OBS_FOLD, buf, sizeof(buf)),
			    "obs-fold,bare-lf");
	assert_string_equal(rp_h1_state_name(RP_H1_S_CHUNK_SIZE), "chunk-size");
	for (unsigned i = 0; i < RP_H1_A_COUNT; i++)
		assert_string_not_equal(rp_h1_anomaly_name(1u << i), "?");
	uint8_t out[32];
	assert_int_equal(rp_h1_unfold(rp_slice_str("a\n\t b"), out), 3);
	assert_memory_equal(out, "a b", 3);
	assert_int_equal(rp_h1_unfold(rp_slice_str("plain"), out), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_basics),
		cmocka_unit_test(test_content_length_body),
		cmocka_unit_test(test_chunked_ext_trailers),
		cmocka_unit_test(test_head_response),
		cmocka_unit_test(test_204_304),
		cmocka_unit_test(test_interim_then_final),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_upgrade_tunnel),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_h2_preface),
		cmocka_unit_test(test_anomalies_both_modes),
		cmocka_unit_test(test_lenient_details),
		cmocka_unit_test(test_error_details),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_field_split_across_reads),
		cmocka_unit_test(test_no_quadratic_rescan),
		cmocka_unit_test(test_large_body_bounded),
		cmocka_unit_test(test_every_byte_consumed_once),
		cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
