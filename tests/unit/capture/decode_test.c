/*
 * decode_test: link layers, IPv4/IPv6 and TCP headers down to the segment,
 * and IP fragment reassembly.  Every link type carries the same segment;
 * every truncation of every frame and thousands of random mutations are
 * decoded from buffers of exactly their size (so ASan sees any read past
 * the end); fragments arrive in every order, duplicated, overlapping, too
 * many, too old and too big for the table.
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

static const char payload[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

static size_t segment(uint8_t *out)
{
	struct fr_tcp t = {.sport = 40000, .dport = 80, .seq = 1000, .ack = 2000,
			   .flags = RP_TCP_ACK | RP_TCP_PSH, .data = payload,
			   .len = sizeof(payload) - 1};
	return fr_tcp(out, &t);
}

static size_t ip4(uint8_t *out)
{
	uint8_t seg[256];
	size_t n = segment(seg);
	return fr_ipv4(out, fr_a4, fr_b4, 6, 7, 0, seg, n);
}

static size_t ip6(uint8_t *out, const uint8_t *ext, size_t extn, uint8_t first)
{
	uint8_t seg[256];
	size_t n = segment(seg);
	return fr_ipv6(out, fr_a6, fr_b6, extn ? first : 6, ext, extn, seg, n);
}

/* Decodes |n| bytes copied into a buffer of exactly that size. */
static enum rp_pkt_verdict decode_exact(struct rp_ipfrag *fr, int link, const uint8_t *p, size_t n,
					struct rp_tcp_pkt *out, uint8_t **keep)
{
	uint8_t *b = malloc(n ? n : 1);
	memcpy(b, p, n);
	enum rp_pkt_verdict v = rp_capture_decode(fr, link, 5, b, n, out);
	if (keep)
		*keep = b; /* the payload points into it */
	else
		free(b);
	return v;
}

static void expect_segment(const struct rp_tcp_pkt *pk, int family)
{
	assert_int_equal(pk->src.family, family);
	assert_int_equal(pk->src.port, 40000);
	assert_int_equal(pk->dst.port, 80);
	assert_int_equal(pk->seq, 1000);
	assert_int_equal(pk->ack, 2000);
	assert_int_equal(pk->flags, RP_TCP_ACK | RP_TCP_PSH);
	assert_int_equal(pk->payload.n, sizeof(payload) - 1);
	assert_int_equal(pk->payload_len, sizeof(payload) - 1);
	assert_memory_equal(pk->payload.p, payload, pk->payload.n);
	if (family == 4)
		assert_memory_equal(pk->src.addr, fr_a4, 4);
	else
		assert_memory_equal(pk->dst.addr, fr_b6, 16);
}

/* Every way of carrying the same IPv4 and IPv6 segment. */
struct variant {
	const char *name;
	int link;
	int family;
	uint8_t f[512];
	size_t n;
};

static size_t variants(struct variant *v)
{
	uint8_t p4[256], p6[256];
	size_t n4 = ip4(p4), n6 = ip6(p6, NULL, 0, 0), k = 0;
	uint8_t tmp[512];
#define ADD(nm, lk, fam, expr)                                                                     \
	do {                                                                                       \
		v[k].name = nm;                                                                    \
		v[k].link = lk;                                                                    \
		v[k].family = fam;                                                                 \
		v[k].n = (expr);                                                                   \
		k++;                                                                               \
	} while (0)
	ADD("ethernet", RP_LINK_ETHERNET, 4, fr_eth(v[k].f, NULL, 0, 0x0800, p4, n4));
	ADD("ethernet6", RP_LINK_ETHERNET, 6, fr_eth(v[k].f, NULL, 0, 0x86dd, p6, n6));
	uint16_t vlan[] = {0x8100, 100};
	ADD("vlan", RP_LINK_ETHERNET, 4, fr_eth(v[k].f, vlan, 1, 0x0800, p4, n4));
	uint16_t qinq[] = {0x88a8, 10, 0x8100, 20};
	ADD("qinq", RP_LINK_ETHERNET, 6, fr_eth(v[k].f, qinq, 2, 0x86dd, p6, n6));
	uint16_t old[] = {0x9100, 10, 0x8100, 0};
	ADD("qinq-9100", RP_LINK_ETHERNET, 4, fr_eth(v[k].f, old, 2, 0x0800, p4, n4));
	/* MPLS: two labels, the second bottom of stack. */
	memcpy(tmp, "\x00\x01\x40\x40\x00\x02\x01\x40", 8);
	memcpy(tmp + 8, p4, n4);
	ADD("mpls", RP_LINK_ETHERNET, 4, fr_eth(v[k].f, NULL, 0, 0x8847, tmp, 8 + n4));
	/* PPPoE session, PPP protocol IPv6. */
	memcpy(tmp, "\x11\x00\x00\x01\x00\x00\x00\x57", 8);
	tmp[4] = (uint8_t)((n6 + 2) >> 8);
	tmp[5] = (uint8_t)(n6 + 2);
	memcpy(tmp + 8, p6, n6);
	ADD("pppoe", RP_LINK_ETHERNET, 6, fr_eth(v[k].f, NULL, 0, 0x8864, tmp, 8 + n6));
	/* Linux SLL: 16 bytes, protocol last. */
	memset(v[k].f, 0, 16);
	v[k].f[14] = 0x08;
	memcpy(v[k].f + 16, p4, n4);
	ADD("sll", RP_LINK_LINUX_SLL, 4, 16 + n4);
	/* SLL2: 20 bytes, protocol first. */
	memset(v[k].f, 0, 20);
	v[k].f[0] = 0x86;
	v[k].f[1] = 0xdd;
	memcpy(v[k].f + 20, p6, n6);
	ADD("sll2", RP_LINK_LINUX_SLL2, 6, 20 + n6);
	/* BSD NULL, little-endian AF_INET; big-endian AF_INET6 of the BSDs. */
	memcpy(v[k].f, "\x02\x00\x00\x00", 4);
	memcpy(v[k].f + 4, p4, n4);
	ADD("null-le", RP_LINK_NULL, 4, 4 + n4);
	static const uint8_t af6[][4] = {{0, 0, 0, 24}, {28, 0, 0, 0}, {0, 0, 0, 30}, {10, 0, 0, 0}};
	for (int i = 0; i < 4; i++) {
		memcpy(v[k].f, af6[i], 4);
		memcpy(v[k].f + 4, p6, n6);
		ADD("null-6", i & 1 ? RP_LINK_NULL : RP_LINK_LOOP, 6, 4 + n6);
	}
	memcpy(v[k].f, p4, n4);
	ADD("raw4", RP_LINK_RAW, 4, n4);
	memcpy(v[k].f, p6, n6);
	ADD("raw6", RP_LINK_RAW, 6, n6);
	memcpy(v[k].f, p4, n4);
	ADD("ipv4", RP_LINK_IPV4, 4, n4);
	memcpy(v[k].f, p6, n6);
	ADD("ipv6", RP_LINK_IPV6, 6, n6);
	/* IPv6 with hop-by-hop, destination options, routing and AH. */
	static const uint8_t ext[] = {60, 0, 1, 4, 0, 0, 0, 0,  /* HBH -> DST, PadN */
				      43, 0, 1, 4, 0, 0, 0, 0,  /* DST -> routing */
				      51, 0, 0, 0, 0, 0, 0, 0,  /* routing (type 0, left 0) -> AH */
				      6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* AH: 12 bytes -> TCP */
	size_t n6x = ip6(tmp, ext, sizeof(ext), 0);
	ADD("ipv6-ext", RP_LINK_ETHERNET, 6, fr_eth(v[k].f, NULL, 0, 0x86dd, tmp, n6x));
	return k;
#undef ADD
}

static void test_link_layers(void **state)
{
	(void)state;
	struct variant v[32];
	size_t n = variants(v);
	for (size_t i = 0; i < n; i++) {
		struct rp_tcp_pkt pk;
		uint8_t *keep;
		enum rp_pkt_verdict r = decode_exact(NULL, v[i].link, v[i].f, v[i].n, &pk, &keep);
		if (r != RP_PKT_TCP)
			fail_msg("%s: %s", v[i].name, rp_pkt_verdict_name(r));
		expect_segment(&pk, v[i].family);
		free(keep);
	}
}

static void test_every_truncation(void **state)
{
	(void)state;
	struct variant v[32];
	size_t n = variants(v);
	for (size_t i = 0; i < n; i++) {
		for (size_t cut = 0; cut < v[i].n; cut++) {
			struct rp_tcp_pkt pk;
			enum rp_pkt_verdict r = decode_exact(NULL, v[i].link, v[i].f, cut, &pk, NULL);
			/* Either a header is cut (truncated), or the segment is
			 * there with less payload captured than it carried. */
			if (r == RP_PKT_TCP) {
				assert_true(pk.payload.n < pk.payload_len);
				assert_int_equal(pk.payload_len, sizeof(payload) - 1);
			} else if (r != RP_PKT_TRUNCATED) {
				fail_msg("%s cut at %zu: %s", v[i].name, cut, rp_pkt_verdict_name(r));
			}
		}
	}
}

static void test_padding_and_offload(void **state)
{
	(void)state;
	uint8_t p4[256], f[512];
	size_t n4 = ip4(p4);
	memset(p4 + n4, 0xee, 30); /* link padding after the datagram */
	size_t n = fr_eth(f, NULL, 0, 0x0800, p4, n4 + 30);
	struct rp_tcp_pkt pk;
	uint8_t *keep;
	assert_int_equal(decode_exact(NULL, RP_LINK_ETHERNET, f, n, &pk, &keep), RP_PKT_TCP);
	expect_segment(&pk, 4);
	free(keep);
	/* Total length 0: segmentation offload; the captured bytes count. */
	p4[2] = p4[3] = 0;
	n = fr_eth(f, NULL, 0, 0x0800, p4, n4);
	assert_int_equal(decode_exact(NULL, RP_LINK_ETHERNET, f, n, &pk, &keep), RP_PKT_TCP);
	expect_segment(&pk, 4);
	free(keep);
}

static void test_not_ours(void **state)
{
	(void)state;
	uint8_t p[256], f[512];
	struct rp_tcp_pkt pk;
	size_t n = ip4(p);
	p[9] = 17; /* UDP */
	size_t m = fr_eth(f, NULL, 0, 0x0800, p, n);
	assert_int_equal(decode_exact(NULL, RP_LINK_ETHERNET, f, m, &pk, NULL), RP_PKT_NOT_TCP);
	m = fr_eth(f, NULL, 0, 0x0806, p, 28); /* ARP */
	assert_int_equal(decode_exact(NULL, RP_LINK_ETHERNET, f, m, &pk, NULL), RP_PKT_NOT_IP);
	m = fr_eth(f, NULL, 0, 0x0042, p, 40); /* 802.3 length field, LLC */
	assert_int_equal(decode_exact(NULL, RP_LINK_ETHERNET, f, m, &pk, NULL), RP_PKT_NOT_IP);
	/* IPv6: ESP and "no next header". */
	n = ip6(p, NULL, 0, 0);
	p[6] = 50;
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV6, p, n, &pk, NULL), RP_PKT_NOT_TCP);
	p[6] = 59;
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV6, p, n, &pk, NULL), RP_PKT_NOT_TCP);
	assert_int_equal(decode_exact(NULL, 147, p, n, &pk, NULL), RP_PKT_BAD_LINK);
	assert_false(rp_link_supported(147));
	assert_true(rp_link_supported(RP_LINK_LINUX_SLL2));
}

static void test_bad_lengths(void **state)
{
	(void)state;
	uint8_t p[256], q[256];
	struct rp_tcp_pkt pk;
	size_t n = ip4(p);
	memcpy(q, p, n);
	q[0] = 0x44; /* IHL 16 bytes */
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV4, q, n, &pk, NULL), RP_PKT_MALFORMED);
	memcpy(q, p, n);
	q[0] = 0x55; /* version 5 */
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV4, q, n, &pk, NULL), RP_PKT_MALFORMED);
	memcpy(q, p, n);
	q[2] = 0;
	q[3] = 12; /* total length below the header */
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV4, q, n, &pk, NULL), RP_PKT_MALFORMED);
	memcpy(q, p, n);
	q[0] = 0x4f; /* 60-byte header in a 20-byte one */
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV4, q, 40, &pk, NULL), RP_PKT_TRUNCATED);
	memcpy(q, p, n);
	q[20 + 12] = 4 << 4; /* TCP data offset 16 */
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV4, q, n, &pk, NULL), RP_PKT_MALFORMED);
	memcpy(q, p, n);
	q[20 + 12] = 15 << 4; /* TCP header longer than the segment */
	q[2] = 0;
	q[3] = 50;
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV4, q, 50, &pk, NULL), RP_PKT_MALFORMED);
	/* IPv6: an extension header running past the payload, and a chain
	 * longer than anyone sends. */
	uint8_t ext[8 * 20];
	for (int i = 0; i < 20; i++) {
		ext[8 * i] = 60;
		ext[8 * i + 1] = 0;
		memset(ext + 8 * i + 2, 0, 6);
	}
	ext[8 * 19] = 6;
	n = ip6(p, ext, sizeof(ext), 60);
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV6, p, n, &pk, NULL), RP_PKT_MALFORMED);
	ext[1] = 200; /* 1608 bytes */
	ext[0] = 6;
	n = ip6(p, ext, 8, 60);
	assert_int_equal(decode_exact(NULL, RP_LINK_IPV6, p, n, &pk, NULL), RP_PKT_MALFORMED);
	/* MPLS stack without bottom, VLAN tags without end. */
	uint8_t f[512], labels[4 * 12];
	for (int i = 0; i < 12; i++)
		memcpy(labels + 4 * i, "\x00\x01\x00\x40", 4);
	size_t m = fr_eth(f, NULL, 0, 0x8847, labels, sizeof(labels));
	assert_int_equal(decode_exact(NULL, RP_LINK_ETHERNET, f, m, &pk, NULL), RP_PKT_MALFORMED);
	uint16_t tags[20];
	for (int i = 0; i < 10; i++) {
		tags[2 * i] = 0x8100;
		tags[2 * i + 1] = 0x8100; /* each tag says another tag follows */
	}
	m = fr_eth(f, tags, 10, 0x8100, p, 0);
	assert_int_not_equal(decode_exact(NULL, RP_LINK_ETHERNET, f, m, &pk, NULL), RP_PKT_TCP);
}

static void test_random_mutations(void **state)
{
	(void)state;
	struct variant v[32];
	size_t n = variants(v);
	struct rp_ipfrag *fr = rp_ipfrag_new(8, 1 << 16, 0);
	srand(6);
	for (int it = 0; it < 40000; it++) {
		struct variant *x = &v[(size_t)rand() % n];
		uint8_t f[512];
		memcpy(f, x->f, x->n);
		int flips = 1 + rand() % 4;
		for (int k = 0; k < flips; k++)
			f[(size_t)rand() % x->n] ^= (uint8_t)(1u << (rand() % 8));
		size_t len = (size_t)rand() % 8 ? x->n : (size_t)rand() % (x->n + 1);
		struct rp_tcp_pkt pk;
		enum rp_pkt_verdict r = decode_exact(fr, x->link, f, len, &pk, NULL);
		assert_true((unsigned)r < RP_PKT_VERDICTS);
		if (r == RP_PKT_TCP)
			assert_true(pk.payload.n <= pk.payload_len);
	}
	struct rp_ipfrag_stats st;
	rp_ipfrag_get_stats(fr, &st);
	assert_true(st.mem <= (1 << 16) + 65535);
	rp_ipfrag_free(fr);
}

/* ---- fragments ---- */

/* The segment of a 600-byte request cut into IPv4 fragments at |cuts|. */
static size_t frag4(uint8_t out[][256], size_t *lens, const size_t *cuts, int ncut, uint16_t id,
		    uint8_t *whole, size_t *wn)
{
	uint8_t body[600];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)('a' + i % 26);
	struct fr_tcp t = {.sport = 40000, .dport = 80, .seq = 1, .ack = 1, .flags = RP_TCP_ACK,
			   .data = body, .len = sizeof(body)};
	size_t n = fr_tcp(whole, &t), from = 0;
	*wn = n;
	for (int i = 0; i <= ncut; i++) {
		size_t to = i < ncut ? cuts[i] : n;
		uint16_t field = (uint16_t)((from / 8) | (i < ncut ? 0x2000 : 0));
		lens[i] = fr_ipv4(out[i], fr_a4, fr_b4, 6, id, field, whole + from, to - from);
		from = to;
	}
	return (size_t)ncut + 1;
}

static void test_fragments_any_order(void **state)
{
	(void)state;
	static const int orders[][3] = {{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {2, 0, 1}, {1, 2, 0}, {0, 2, 1}};
	for (size_t o = 0; o < RP_ARRAY_LEN(orders); o++) {
		struct rp_ipfrag *fr = rp_ipfrag_new(0, 0, 0);
		uint8_t pk3[3][256], whole[1024];
		size_t lens[3], wn, cuts[] = {208, 416};
		frag4(pk3, lens, cuts, 2, 9, whole, &wn);
		struct rp_tcp_pkt pk;
		for (int i = 0; i < 3; i++) {
			const int k = orders[o][i];
			enum rp_pkt_verdict r = rp_capture_decode(fr, RP_LINK_IPV4, 1, pk3[k], lens[k], &pk);
			if (i < 2) {
				assert_int_equal(r, RP_PKT_FRAG_HELD);
				/* a duplicate changes nothing */
				assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, pk3[k], lens[k],
								   &pk), RP_PKT_FRAG_HELD);
			} else {
				assert_int_equal(r, RP_PKT_TCP);
			}
		}
		assert_true(pk.reassembled);
		assert_int_equal(pk.payload.n, 600);
		assert_memory_equal(pk.payload.p, whole + 20, 600);
		struct rp_ipfrag_stats st;
		rp_ipfrag_get_stats(fr, &st);
		assert_int_equal(st.reassembled, 1);
		rp_ipfrag_free(fr);
	}
}

static void test_fragment_overlap_and_bad(void **state)
{
	(void)state;
	struct rp_ipfrag *fr = rp_ipfrag_new(0, 0, 0);
	uint8_t pk3[3][256], whole[1024], p[256];
	size_t lens[3], wn, cuts[] = {208, 416};
	struct rp_tcp_pkt pk;
	struct rp_ipfrag_stats st;
	frag4(pk3, lens, cuts, 2, 11, whole, &wn);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, pk3[0], lens[0], &pk), RP_PKT_FRAG_HELD);
	/* Same offset, other bytes: the datagram is dropped whole. */
	memcpy(p, pk3[0], lens[0]);
	p[60] ^= 1;
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, p, lens[0], &pk), RP_PKT_FRAG_DROPPED);
	/* A fragment overlapping the middle. */
	frag4(pk3, lens, cuts, 2, 12, whole, &wn);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, pk3[1], lens[1], &pk), RP_PKT_FRAG_HELD);
	size_t n = fr_ipv4(p, fr_a4, fr_b4, 6, 12, 0x2000 | 25, whole + 200, 16);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, p, n, &pk), RP_PKT_FRAG_DROPPED);
	rp_ipfrag_get_stats(fr, &st);
	assert_int_equal(st.overlaps, 2);
	/* Not a multiple of 8 before the last; past 65535; two ends. */
	n = fr_ipv4(p, fr_a4, fr_b4, 6, 13, 0x2000, whole, 13);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, p, n, &pk), RP_PKT_FRAG_DROPPED);
	n = fr_ipv4(p, fr_a4, fr_b4, 6, 14, 0x1fff, whole, 100);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, p, n, &pk), RP_PKT_FRAG_DROPPED);
	n = fr_ipv4(p, fr_a4, fr_b4, 6, 15, 10, whole, 40);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, p, n, &pk), RP_PKT_FRAG_HELD);
	n = fr_ipv4(p, fr_a4, fr_b4, 6, 15, 20, whole, 40);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, p, n, &pk), RP_PKT_FRAG_DROPPED);
	rp_ipfrag_get_stats(fr, &st);
	assert_int_equal(st.invalid, 3);
	/* A fragment cut by the snap length cannot be used. */
	n = fr_ipv4(p, fr_a4, fr_b4, 6, 16, 0x2000, whole, 64);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, p, n - 8, &pk), RP_PKT_FRAG_DROPPED);
	/* Fragments of UDP are not held. */
	n = fr_ipv4(p, fr_a4, fr_b4, 17, 17, 0x2000, whole, 64);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 1, p, n, &pk), RP_PKT_NOT_TCP);
	/* Without a table, fragments are counted as dropped. */
	assert_int_equal(rp_capture_decode(NULL, RP_LINK_IPV4, 1, pk3[0], lens[0], &pk),
			 RP_PKT_FRAG_DROPPED);
	rp_ipfrag_free(fr);
}

static void test_fragment_limits(void **state)
{
	(void)state;
	/* Four datagrams at most, 1 s timeout, 8 KB of buffers. */
	struct rp_ipfrag *fr = rp_ipfrag_new(4, 8192, 1000000000LL);
	uint8_t p[256], whole[1024];
	struct rp_tcp_pkt pk;
	struct rp_ipfrag_stats st;
	memset(whole, 'z', sizeof(whole));
	for (uint16_t id = 0; id < 6; id++) {
		size_t n = fr_ipv4(p, fr_a4, fr_b4, 6, id, 0x2000, whole, 64);
		assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 10, p, n, &pk), RP_PKT_FRAG_HELD);
	}
	rp_ipfrag_get_stats(fr, &st);
	assert_int_equal(st.evicted, 2);
	/* Two seconds later, every one of them is too old. */
	size_t n = fr_ipv4(p, fr_a4, fr_b4, 6, 99, 0x2000, whole, 64);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV4, 2000000010LL, p, n, &pk),
			 RP_PKT_FRAG_HELD);
	rp_ipfrag_get_stats(fr, &st);
	assert_int_equal(st.timeouts, 4);
	/* A datagram growing past the memory ceiling is dropped. */
	for (uint32_t off = 0; off < 20000; off += 200) {
		size_t m = fr_ipv4(p, fr_a4, fr_b4, 6, 500, (uint16_t)(0x2000 | (off / 8)), whole, 200);
		rp_capture_decode(fr, RP_LINK_IPV4, 2000000020LL, p, m, &pk);
		rp_ipfrag_get_stats(fr, &st);
		assert_true(st.mem <= 8192);
	}
	assert_true(st.evicted > 2);
	rp_ipfrag_free(fr);
}

static void test_fragments_ipv6(void **state)
{
	(void)state;
	struct rp_ipfrag *fr = rp_ipfrag_new(0, 0, 0);
	uint8_t seg[1024], body[500], p[1024];
	memset(body, 'q', sizeof(body));
	struct fr_tcp t = {.sport = 40000, .dport = 80, .seq = 5, .ack = 6, .flags = RP_TCP_ACK,
			   .data = body, .len = sizeof(body)};
	size_t n = fr_tcp(seg, &t);
	/* Two fragments: a destination option inside the fragmentable part
	 * comes first, then TCP. */
	uint8_t part[1024];
	memcpy(part, "\x06\x00\x01\x04\x00\x00\x00\x00", 8);
	memcpy(part + 8, seg, n);
	size_t total = 8 + n, cut = 256;
	uint8_t fh[8] = {60, 0, 0, 1, 0, 0, 0, 42}; /* next: DST, offset 0, M */
	size_t m = fr_ipv6(p, fr_a6, fr_b6, 44, fh, 8, part, cut);
	struct rp_tcp_pkt pk;
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV6, 1, p, m, &pk), RP_PKT_FRAG_HELD);
	uint8_t fh2[8] = {60, 0, (uint8_t)(cut >> 8), (uint8_t)(cut & 0xf8), 0, 0, 0, 42};
	m = fr_ipv6(p, fr_a6, fr_b6, 44, fh2, 8, part + cut, total - cut);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV6, 1, p, m, &pk), RP_PKT_TCP);
	assert_int_equal(pk.payload.n, sizeof(body));
	assert_int_equal(pk.seq, 5);
	/* An atomic fragment (offset 0, no M) is just a header to skip. */
	uint8_t atomic[8] = {6, 0, 0, 0, 0, 0, 0, 1};
	m = fr_ipv6(p, fr_a6, fr_b6, 44, atomic, 8, seg, n);
	assert_int_equal(rp_capture_decode(fr, RP_LINK_IPV6, 1, p, m, &pk), RP_PKT_TCP);
	assert_false(pk.reassembled);
	rp_ipfrag_free(fr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_layers),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_padding_and_offload),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_fragments_any_order),
		cmocka_unit_test(test_fragment_overlap_and_bad),
		cmocka_unit_test(test_fragment_limits),
		cmocka_unit_test(test_fragments_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
