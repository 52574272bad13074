/*
 * engine_test: the capture engine from frames to exchanges — flows, both
 * directions through the HTTP/1 parser, pairing, timing from packet times,
 * and the engine's limits.  The same conversation is cut at every byte
 * offset, and byte by byte, and must give the same exchanges; many flows
 * with held-back data stay under the memory ceiling; idle flows end; the
 * flow table stays bounded; closed flows ignore late retransmissions;
 * random segments never crash it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "frames.h"
#include "reprise/capture.h"

/* ---- a sink that keeps a summary of each exchange ---- */

struct got {
	char method[16], target[64], host[64];
	unsigned status;
	size_t req_body, resp_body;
	uint32_t flags, seq;
	uint64_t conn;
	struct rp_timing t;
};

static struct got got[4096];
static size_t ngot;

static void keep(void *ctx, struct rp_exchange *x)
{
	(void)ctx;
	assert_true(ngot < RP_ARRAY_LEN(got));
	struct got *g = &got[ngot++];
	memset(g, 0, sizeof(*g));
	snprintf(g->method, sizeof(g->method), "%.*s", (int)x->req.method.n, x->req.method.p);
	snprintf(g->target, sizeof(g->target), "%.*s", (int)x->req.target.n, x->req.target.p);
	snprintf(g->host, sizeof(g->host), "%.*s", (int)x->req.authority.n, x->req.authority.p);
	g->status = x->resp.status;
	g->req_body = x->req.m.body.n;
	g->resp_body = x->resp.m.body.n;
	g->flags = x->flags;
	g->seq = x->conn_seq;
	g->conn = x->conn_id;
	g->t = x->t;
	rp_exchange_free(x);
}

static const struct rp_capture_sink sink = {keep, NULL};

/* ---- a connection as frames ---- */

struct conn {
	struct rp_capture *cap;
	uint16_t cport;
	uint32_t next[2];
	int64_t ts;
};

static void send_seg(struct conn *c, int dir, uint32_t seq, uint8_t flags, const void *p, size_t n)
{
	uint8_t f[FR_MAX];
	struct fr_tcp t = {.sport = dir == 0 ? c->cport : 80, .dport = dir == 0 ? 80 : c->cport,
			   .seq = seq, .ack = c->next[!dir], .flags = flags, .data = p, .len = n};
	size_t len = fr_eth4_tcp(f, &t);
	c->ts += 1000;
	rp_capture_packet(c->cap, RP_LINK_ETHERNET, c->ts, f, len);
}

static void handshake(struct conn *c, struct rp_capture *cap, uint16_t cport)
{
	c->cap = cap;
	c->cport = cport;
	c->next[0] = 1000;
	c->next[1] = 9000;
	if (!c->ts)
		c->ts = 1700000000000000000LL;
	send_seg(c, 0, c->next[0]++, RP_TCP_SYN, NULL, 0);
	send_seg(c, 1, c->next[1]++, RP_TCP_SYN | RP_TCP_ACK, NULL, 0);
}

/* Sends |n| bytes of direction |dir| in pieces of the given sizes (0 ends;
 * the last piece takes the rest). */
static void send_cut(struct conn *c, int dir, const char *p, size_t n, const size_t *sizes)
{
	size_t off = 0;
	for (int i = 0; off < n; i++) {
		size_t k = sizes && sizes[i] ? sizes[i] : n - off;
		if (k > n - off)
			k = n - off;
		send_seg(c, dir, c->next[dir], RP_TCP_ACK | RP_TCP_PSH, p + off, k);
		c->next[dir] += (uint32_t)k;
		off += k;
		if (sizes && !sizes[i])
			sizes = NULL;
	}
}

static void fins(struct conn *c)
{
	send_seg(c, 0, c->next[0]++, RP_TCP_FIN | RP_TCP_ACK, NULL, 0);
	send_seg(c, 1, c->next[1]++, RP_TCP_FIN | RP_TCP_ACK, NULL, 0);
}

static const char reqs[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
			   "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n"
			   "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
			   "GET /d HTTP/1.1\r\nHost: h\r\n\r\n";
static const char resps[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
			    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
			    "HTTP/1.1 100 Continue\r\n\r\n"
			    "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
			    "4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nT: 1\r\n\r\n"
			    "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";

static void expect_four(size_t base)
{
	assert_int_equal(ngot - base, 4);
	static const char *const m[] = {"GET", "HEAD", "POST", "GET"};
	static const char *const t[] = {"/a", "/b", "/c", "/d"};
	static const unsigned st[] = {200, 200, 201, 404};
	static const size_t rb[] = {3, 0, 9, 2};
	for (int i = 0; i < 4; i++) {
		struct got *g = &got[base + (size_t)i];
		assert_string_equal(g->method, m[i]);
		assert_string_equal(g->target, t[i]);
		assert_string_equal(g->host, "h");
		assert_int_equal(g->status, st[i]);
		assert_int_equal(g->resp_body, rb[i]);
		assert_int_equal(g->seq, i);
		assert_int_equal(g->flags, 0);
	}
	assert_int_equal(got[base + 2].req_body, 5);
}

static void test_basic_and_timing(void **state)
{
	(void)state;
	struct rp_capture *cap = rp_capture_new(NULL, &sink);
	struct conn c = {0};
	ngot = 0;
	handshake(&c, cap, 40000);
	send_cut(&c, 0, reqs, 28, NULL); /* GET /a: ts +3000 */
	size_t two[] = {20, 0};
	send_cut(&c, 1, resps, 42, two); /* +4000, +5000 */
	fins(&c);
	rp_capture_finish(cap);
	assert_int_equal(ngot, 1);
	int64_t t0 = 1700000000000000000LL;
	assert_int_equal(got[0].t.req_start, t0 + 3000);
	assert_int_equal(got[0].t.req_end, t0 + 3000);
	assert_int_equal(got[0].t.resp_start, t0 + 4000);
	assert_int_equal(got[0].t.resp_end, t0 + 5000);
	assert_int_equal(got[0].flags, 0);
	struct rp_capture_stats st;
	rp_capture_get_stats(cap, &st);
	assert_int_equal(st.flows, 1);
	assert_int_equal(st.flows_closed, 1);
	assert_int_equal(st.exchanges, 1);
	assert_int_equal(st.mem_used, 0);
	rp_capture_free(cap);
}

static void test_split_everywhere(void **state)
{
	(void)state;
	size_t nq = sizeof(reqs) - 1, nr = sizeof(resps) - 1;
	/* Every cut of the requests with the responses whole, every cut of
	 * the responses with the requests whole, then byte by byte. */
	for (size_t k = 1; k < nq + nr; k++) {
		struct rp_capture *cap = rp_capture_new(NULL, &sink);
		struct conn c = {0};
		size_t base = ngot = 0;
		handshake(&c, cap, 40001);
		size_t a[] = {k < nq ? k : 0, 0}, b[] = {k >= nq ? k - nq : 0, 0};
		send_cut(&c, 0, reqs, nq, a[0] ? a : NULL);
		send_cut(&c, 1, resps, nr, b[0] ? b : NULL);
		fins(&c);
		rp_capture_finish(cap);
		expect_four(base);
		rp_capture_free(cap);
	}
	struct rp_capture *cap = rp_capture_new(NULL, &sink);
	struct conn c = {0};
	size_t ones[512];
	for (size_t i = 0; i < RP_ARRAY_LEN(ones); i++)
		ones[i] = 1;
	ones[RP_ARRAY_LEN(ones) - 1] = 0;
	ngot = 0;
	handshake(&c, cap, 40002);
	send_cut(&c, 0, reqs, nq, ones);
	send_cut(&c, 1, resps, nr, ones);
	fins(&c);
	rp_capture_finish(cap);
	expect_four(0);
	rp_capture_free(cap);
}

static void test_ceiling_with_many_flows(void **state)
{
	(void)state;
	struct rp_capture_opts o = {.max_flow_memory = 256 * 1024};
	struct rp_capture *cap = rp_capture_new(&o, &sink);
	static char body[20000];
	memset(body, 'b', sizeof(body));
	ngot = 0;
	for (int i = 0; i < 300; i++) {
		struct conn c = {0};
		handshake(&c, cap, (uint16_t)(20000 + i));
		send_cut(&c, 0, "GET /m HTTP/1.1\r\nHost: m\r\n\r\n", 28, NULL);
		char head[64];
		int hn = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
				  sizeof(body));
		c.next[1] += (uint32_t)hn; /* the status line never comes: all held */
		size_t k[] = {1000, 0};
		send_cut(&c, 1, body, sizeof(body), k);
		struct rp_capture_stats st;
		rp_capture_get_stats(cap, &st);
		assert_true(st.mem_used <= o.max_flow_memory + 4096);
	}
	rp_capture_finish(cap);
	struct rp_capture_stats st;
	rp_capture_get_stats(cap, &st);
	assert_true(st.flows_evicted > 200);
	assert_true(st.mem_peak <= o.max_flow_memory + 4096);
	assert_int_equal(st.mem_used, 0);
	/* Every request was handed out, its response flagged as lost. */
	assert_int_equal(ngot, 300);
	for (size_t i = 0; i < ngot; i++)
		assert_true(got[i].flags & (RP_XF_GAP | RP_XF_NO_RESPONSE));
	rp_capture_free(cap);
}

static void test_idle_and_table_bound(void **state)
{
	(void)state;
	struct rp_capture_opts o = {.max_flows = 10, .idle_ns = 5000000000LL};
	struct rp_capture *cap = rp_capture_new(&o, &sink);
	ngot = 0;
	int64_t ts = 1700000000000000000LL;
	for (int i = 0; i < 25; i++) {
		struct conn c = {.ts = ts};
		handshake(&c, cap, (uint16_t)(30000 + i));
		send_cut(&c, 0, "GET /i HTTP/1.1\r\nHost: i\r\n\r\n", 28, NULL);
	}
	struct rp_capture_stats st;
	rp_capture_get_stats(cap, &st);
	assert_int_equal(st.flows_active, 10);
	assert_int_equal(st.flows_evicted, 15);
	/* Ten seconds later in capture time, the rest are idle. */
	rp_capture_expire(cap, ts + 10000000000LL);
	rp_capture_get_stats(cap, &st);
	assert_int_equal(st.flows_active, 0);
	assert_int_equal(st.flows_idle, 10);
	assert_int_equal(ngot, 25);
	for (size_t i = 0; i < ngot; i++)
		assert_true(got[i].flags & RP_XF_NO_RESPONSE);
	rp_capture_free(cap);
}

static void test_codec_choice(void **state)
{
	(void)state;
	struct rp_capture *cap = rp_capture_new(NULL, &sink);
	ngot = 0;
	struct conn c = {0};
	handshake(&c, cap, 41000);
	static const char pre[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
	send_cut(&c, 0, pre, sizeof(pre) - 1, NULL);
	send_cut(&c, 1, "\0\0\0\4\0\0\0\0\0", 9, NULL);
	fins(&c);
	struct conn d = {0};
	handshake(&d, cap, 41001);
	send_cut(&d, 0, "\x16\x03\x01\x00\x05hello", 10, NULL);
	fins(&d);
	struct conn e = {0};
	handshake(&e, cap, 41002);
	send_cut(&e, 1, "220 smtp.example ESMTP\r\n", 24, NULL);
	fins(&e);
	rp_capture_finish(cap);
	struct rp_capture_stats st;
	rp_capture_get_stats(cap, &st);
	assert_int_equal(st.flows_h2, 1);
	assert_int_equal(st.flows_other, 2);
	assert_int_equal(st.exchanges, 0);
	assert_true(st.h2_bytes_skipped > 0);
	rp_capture_free(cap);
}

static void test_tombstone_and_reuse(void **state)
{
	(void)state;
	struct rp_capture *cap = rp_capture_new(NULL, &sink);
	ngot = 0;
	struct conn c = {0};
	handshake(&c, cap, 42000);
	send_cut(&c, 0, reqs, 28, NULL);
	send_cut(&c, 1, resps, 42, NULL);
	fins(&c);
	/* A late retransmission of the response: no new flow. */
	send_seg(&c, 1, c.next[1] - 43, RP_TCP_ACK, resps, 42);
	struct rp_capture_stats st;
	rp_capture_get_stats(cap, &st);
	assert_int_equal(st.flows, 1);
	assert_true(st.tcp_after_end >= 1);
	/* The same ports again, with a SYN: a new connection. */
	handshake(&c, cap, 42000);
	send_cut(&c, 0, reqs, 28, NULL);
	send_cut(&c, 1, resps, 42, NULL);
	fins(&c);
	rp_capture_finish(cap);
	assert_int_equal(ngot, 2);
	assert_int_not_equal(got[0].conn, got[1].conn);
	assert_int_equal(got[1].seq, 0);
	rp_capture_free(cap);
}

static void test_body_cap(void **state)
{
	(void)state;
	struct rp_capture_opts o = {.max_body = 100};
	struct rp_capture *cap = rp_capture_new(&o, &sink);
	ngot = 0;
	struct conn c = {0};
	handshake(&c, cap, 43000);
	send_cut(&c, 0, reqs, 28, NULL);
	static char r[2000];
	int n = snprintf(r, sizeof(r), "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	memset(r + n, 'c', 1000);
	size_t k[] = {300, 300, 0};
	send_cut(&c, 1, r, (size_t)n + 1000, k);
	/* and a chunked one */
	send_cut(&c, 0, reqs, 28, NULL);
	static const char ch[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "64\r\n0123456789012345678901234567890123456789012345678901234567890123"
				 "456789012345678901234567890123456789\r\n"
				 "a\r\n0123456789\r\n0\r\n\r\n";
	send_cut(&c, 1, ch, sizeof(ch) - 1, NULL);
	fins(&c);
	rp_capture_finish(cap);
	assert_int_equal(ngot, 2);
	assert_int_equal(got[0].resp_body, 100);
	assert_true(got[0].flags & RP_XF_RESP_TRUNCATED);
	assert_int_equal(got[1].resp_body, 100);
	assert_true(got[1].flags & RP_XF_RESP_TRUNCATED);
	rp_capture_free(cap);
}

static void test_random_packets(void **state)
{
	(void)state;
	struct rp_capture_opts o = {.max_flow_memory = 1 << 20, .max_flows = 64};
	struct rp_capture *cap = rp_capture_new(&o, &sink);
	static const char *const frags[] = {"GET / HTTP/1.1\r\n", "Host: x\r\n", "\r\n",
					    "HTTP/1.1 200 OK\r\n", "Content-Length: 3\r\n",
					    "Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n",
					    "0\r\n\r\n", "abc", "\x16\x03", "PRI * HTTP/2.0\r\n"};
	srand(99);
	ngot = 0;
	for (int i = 0; i < 30000; i++) {
		char p[256];
		size_t n = 0;
		int parts = rand() % 4;
		for (int k = 0; k < parts; k++) {
			const char *s = frags[(size_t)rand() % RP_ARRAY_LEN(frags)];
			size_t l = strlen(s);
			if (n + l < sizeof(p)) {
				memcpy(p + n, s, l);
				n += l;
			}
		}
		uint8_t f[FR_MAX];
		struct fr_tcp t = {.sport = (uint16_t)(rand() % 2 ? 80 : 50000 + rand() % 8),
				   .dport = 0, .seq = (uint32_t)(rand() % 4000),
				   .ack = (uint32_t)(rand() % 4000), .flags = (uint8_t)(rand() % 32),
				   .data = p, .len = n};
		t.dport = t.sport == 80 ? (uint16_t)(50000 + rand() % 8) : 80;
		size_t len = fr_eth4_tcp(f, &t);
		rp_capture_packet(cap, RP_LINK_ETHERNET, 1700000000000000000LL + i * 1000000LL, f, len);
		if (ngot > 4000)
			ngot = 0;
	}
	rp_capture_finish(cap);
	struct rp_capture_stats st;
	rp_capture_get_stats(cap, &st);
	assert_true(st.mem_peak <= o.max_flow_memory + 70000);
	assert_int_equal(st.mem_used, 0);
	assert_int_equal(st.flows_active, 0);
	rp_capture_free(cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_and_timing),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_ceiling_with_many_flows),
		cmocka_unit_test(test_idle_and_table_bound),
		cmocka_unit_test(test_codec_choice),
		cmocka_unit_test(test_tombstone_and_reuse),
		cmocka_unit_test(test_body_cap),
		cmocka_unit_test(test_random_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
