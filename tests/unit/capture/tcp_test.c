/*
 * tcp_test: the reassembler of one direction.  A stream is cut into
 * segments that arrive in order, shuffled, duplicated, overlapping with
 * other bytes, across the 2^32 wrap, without their SYN, with holes that the
 * peer's acks, a skip or a flush declare lost, cut by the snap length,
 * ended by FIN or RST in any order — and what comes out is checked byte for
 * byte against what went in, with every byte reported exactly once (as
 * data or inside a gap) and the memory ceiling never passed.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "reprise/capture.h"

/* What came out of a stream: the bytes (gaps as '#'), and the events. */
struct out {
	uint8_t b[1 << 20];
	size_t n;
	unsigned data, gaps, overlaps, fins, rsts;
	uint64_t gap_bytes, ovl_bytes, next_off;
	int64_t last_ts;
};

static void drain(struct rp_tcp_stream *s, struct out *o)
{
	struct rp_tcp_event ev;
	while (rp_tcp_stream_next(s, &ev) == 0) {
		switch (ev.type) {
		case RP_TCP_EV_DATA:
			assert_int_equal(ev.offset, o->next_off);
			assert_int_equal(ev.len, ev.data.n);
			assert_true(o->n + ev.data.n <= sizeof(o->b));
			memcpy(o->b + o->n, ev.data.p, ev.data.n);
			o->n += ev.data.n;
			o->next_off += ev.len;
			o->data++;
			o->last_ts = ev.ts;
			break;
		case RP_TCP_EV_GAP:
			assert_int_equal(ev.offset, o->next_off);
			memset(o->b + o->n, '#', ev.len);
			o->n += ev.len;
			o->next_off += ev.len;
			o->gaps++;
			o->gap_bytes += ev.len;
			break;
		case RP_TCP_EV_OVERLAP:
			o->overlaps++;
			o->ovl_bytes += ev.len;
			break;
		case RP_TCP_EV_FIN:
			assert_int_equal(ev.offset, o->next_off);
			o->fins++;
			break;
		case RP_TCP_EV_RST:
			o->rsts++;
			break;
		}
	}
}

static struct rp_slice S(const void *p, size_t n) { return rp_slice(p, n); }

static void push(struct rp_tcp_stream *s, struct out *o, uint32_t seq, uint8_t flags,
		 const uint8_t *p, size_t n)
{
	assert_int_equal(rp_tcp_stream_push(s, seq, flags, S(p, n), (uint32_t)n, (int64_t)seq), 0);
	drain(s, o);
}

static uint8_t text[1 << 16];

static void fill_text(void)
{
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)('A' + (i * 7 + i / 13) % 26);
}

static void test_in_order_zero_copy(void **state)
{
	(void)state;
	struct rp_tcp_mem mem = {.max = 1 << 20};
	struct rp_tcp_stream s;
	struct rp_tcp_event ev;
	rp_tcp_stream_init(&s, &mem);
	assert_int_equal(rp_tcp_stream_push(&s, 99, RP_TCP_SYN, RP_SLICE_NULL, 0, 1), 0);
	assert_int_equal(rp_tcp_stream_push(&s, 100, RP_TCP_ACK, S(text, 500), 500, 2), 0);
	assert_int_equal(rp_tcp_stream_next(&s, &ev), 0);
	assert_int_equal(ev.type, RP_TCP_EV_DATA);
	assert_ptr_equal(ev.data.p, text); /* handed out from the packet itself */
	assert_int_equal(ev.offset, 0);
	assert_int_equal(ev.ts, 2);
	assert_int_equal(rp_tcp_stream_next(&s, &ev), RP_E_AGAIN);
	assert_int_equal(mem.used, 0);
	rp_tcp_stream_dispose(&s);
}

/* Cuts text[0, n) into segments of random sizes starting at seq |isn|+1. */
struct seg {
	uint32_t seq;
	size_t off, len;
};

static size_t cut(struct seg *sg, size_t n, uint32_t isn, unsigned seed)
{
	size_t k = 0, off = 0;
	srand(seed);
	while (off < n) {
		size_t len = 1 + (size_t)rand() % 1500;
		if (len > n - off)
			len = n - off;
		sg[k].seq = isn + 1 + (uint32_t)off;
		sg[k].off = off;
		sg[k].len = len;
		off += len;
		k++;
	}
	return k;
}

static void shuffle(struct seg *sg, size_t k)
{
	for (size_t i = k; i > 1; i--) {
		size_t j = (size_t)rand() % i;
		struct seg t = sg[i - 1];
		sg[i - 1] = sg[j];
		sg[j] = t;
	}
}

static void test_shuffled_duplicated_wrapped(void **state)
{
	(void)state;
	static const uint32_t isns[] = {1000, 0xffffff00u, 0xfffff000u, 0x7ffffff0u};
	static struct out o;
	static struct seg sg[4096];
	for (unsigned seed = 1; seed <= 60; seed++) {
		uint32_t isn = isns[seed % 4];
		size_t n = 20000 + (size_t)seed * 500;
		size_t k = cut(sg, n, isn, seed);
		/* Duplicate a third of them, then shuffle everything. */
		size_t total = k;
		for (size_t i = 0; i < k / 3; i++)
			sg[total++] = sg[(size_t)rand() % k];
		shuffle(sg, total);
		struct rp_tcp_mem mem = {.max = 1 << 22};
		struct rp_tcp_stream s;
		memset(&o, 0, sizeof(o));
		rp_tcp_stream_init(&s, &mem);
		push(&s, &o, isn, RP_TCP_SYN, NULL, 0);
		for (size_t i = 0; i < total; i++)
			push(&s, &o, sg[i].seq, RP_TCP_ACK, text + sg[i].off, sg[i].len);
		assert_int_equal(o.n, n);
		assert_memory_equal(o.b, text, n);
		assert_int_equal(o.gaps, 0);
		assert_int_equal(o.overlaps, 0);
		assert_int_equal(rp_tcp_stream_buffered(&s), 0);
		assert_int_equal(mem.used, 0);
		assert_true(s.stats.dup_bytes > 0 || total == k);
		rp_tcp_stream_dispose(&s);
	}
}

static void test_overlap_first_wins(void **state)
{
	(void)state;
	static struct out o;
	struct rp_tcp_mem mem = {.max = 1 << 20};
	struct rp_tcp_stream s;
	uint8_t other[100];
	memset(other, 'x', sizeof(other));
	memset(&o, 0, sizeof(o));
	rp_tcp_stream_init(&s, &mem);
	push(&s, &o, 0, RP_TCP_SYN, NULL, 0);
	/* Bytes 50..99 arrive first (buffered), then 0..149 with other
	 * content at 50..99: the buffered copy is kept. */
	push(&s, &o, 51, RP_TCP_ACK, other, 50);
	assert_int_equal(o.n, 0);
	uint8_t mixed[150];
	memcpy(mixed, text, 150);
	push(&s, &o, 1, RP_TCP_ACK, mixed, 150);
	assert_int_equal(o.n, 150);
	assert_memory_equal(o.b, text, 50);
	assert_memory_equal(o.b + 50, other, 50);
	assert_memory_equal(o.b + 100, text + 100, 50);
	assert_int_equal(o.overlaps, 1);
	assert_int_equal(o.ovl_bytes, 50);
	/* Two buffered copies disagreeing: the first stays. */
	push(&s, &o, 301, RP_TCP_ACK, text + 300, 100);
	push(&s, &o, 351, RP_TCP_ACK, other, 100); /* 350..449, 350..399 conflict */
	push(&s, &o, 151, RP_TCP_ACK, text + 150, 150);
	assert_int_equal(o.n, 450);
	assert_memory_equal(o.b + 300, text + 300, 100);
	assert_memory_equal(o.b + 400, other + 50, 50);
	assert_int_equal(o.overlaps, 2);
	/* A retransmission of delivered bytes is dropped unchecked. */
	push(&s, &o, 1, RP_TCP_ACK, other, 100);
	assert_int_equal(o.n, 450);
	assert_int_equal(o.overlaps, 2);
	assert_int_equal(s.stats.conflicts, 2);
	rp_tcp_stream_dispose(&s);
	assert_int_equal(mem.used, 0);
}

static void test_midstream_and_synack(void **state)
{
	(void)state;
	static struct out o;
	struct rp_tcp_mem mem = {.max = 1 << 20};
	struct rp_tcp_stream s;
	memset(&o, 0, sizeof(o));
	rp_tcp_stream_init(&s, &mem);
	/* A pure ACK does not start a stream; the first data does. */
	push(&s, &o, 5000, RP_TCP_ACK, NULL, 0);
	assert_false(s.started);
	push(&s, &o, 5000, RP_TCP_ACK, text, 10);
	assert_true(s.started);
	assert_false(s.syn_seen);
	/* Earlier bytes arriving later are behind the start: dropped. */
	push(&s, &o, 4990, RP_TCP_ACK, text, 10);
	push(&s, &o, 5010, RP_TCP_ACK, text + 10, 10);
	assert_int_equal(o.n, 20);
	rp_tcp_stream_dispose(&s);
	/* Data on the SYN itself starts after it. */
	memset(&o, 0, sizeof(o));
	rp_tcp_stream_init(&s, &mem);
	push(&s, &o, 7, RP_TCP_SYN, text, 5);
	assert_int_equal(o.n, 5);
	assert_int_equal(s.next, 13);
	rp_tcp_stream_dispose(&s);
}

static void test_holes_declared_lost(void **state)
{
	(void)state;
	static struct out o;
	struct rp_tcp_mem mem = {.max = 1 << 20};
	struct rp_tcp_stream s;
	memset(&o, 0, sizeof(o));
	rp_tcp_stream_init(&s, &mem);
	push(&s, &o, 0, RP_TCP_SYN, NULL, 0);
	push(&s, &o, 1, RP_TCP_ACK, text, 100);
	push(&s, &o, 201, RP_TCP_ACK, text + 200, 100); /* 100..199 missing */
	assert_int_equal(o.n, 100);
	/* One ack past the hole is not enough (the bytes may be late in the
	 * capture); a second is. */
	rp_tcp_stream_ack(&s, 301);
	drain(&s, &o);
	assert_int_equal(o.n, 100);
	rp_tcp_stream_ack(&s, 301);
	drain(&s, &o);
	assert_int_equal(o.n, 300);
	assert_int_equal(o.gaps, 1);
	assert_int_equal(o.gap_bytes, 100);
	assert_memory_equal(o.b + 200, text + 200, 100);
	/* Acks of bytes never seen at all, with nothing buffered after them:
	 * the tail was lost. */
	rp_tcp_stream_ack(&s, 351);
	rp_tcp_stream_ack(&s, 351);
	drain(&s, &o);
	assert_int_equal(o.n, 350);
	assert_int_equal(o.gaps, 2);
	/* Skip: memory pressure gives a hole up. */
	push(&s, &o, 451, RP_TCP_ACK, text + 450, 50);
	rp_tcp_stream_skip(&s, 451);
	drain(&s, &o);
	assert_int_equal(o.n, 500);
	assert_int_equal(o.gaps, 3);
	/* Flush: the end of the flow. */
	push(&s, &o, 601, RP_TCP_ACK, text + 600, 50);
	push(&s, &o, 701, RP_TCP_ACK | RP_TCP_FIN, text + 700, 50);
	assert_int_equal(o.n, 500);
	rp_tcp_stream_flush(&s);
	drain(&s, &o);
	assert_int_equal(o.n, 750);
	assert_int_equal(o.fins, 1);
	assert_int_equal(s.stats.gap_bytes, 100 + 50 + 100 + 100 + 50);
	assert_int_equal(s.stats.delivered + s.stats.gap_bytes, 750);
	assert_int_equal(mem.used, 0);
	/* Nothing after the end. */
	push(&s, &o, 751, RP_TCP_ACK, text, 10);
	assert_int_equal(o.n, 750);
	assert_int_equal(s.stats.after_end, 1);
	rp_tcp_stream_dispose(&s);
}

static void test_fin_and_rst_orders(void **state)
{
	(void)state;
	static struct out o;
	struct rp_tcp_mem mem = {.max = 1 << 20};
	struct rp_tcp_stream s;
	/* The FIN arrives before the last data: it waits for it. */
	memset(&o, 0, sizeof(o));
	rp_tcp_stream_init(&s, &mem);
	push(&s, &o, 0, RP_TCP_SYN, NULL, 0);
	push(&s, &o, 51, RP_TCP_ACK | RP_TCP_FIN, text + 50, 50);
	assert_int_equal(o.fins, 0);
	push(&s, &o, 1, RP_TCP_ACK, text, 50);
	assert_int_equal(o.n, 100);
	assert_int_equal(o.fins, 1);
	/* Acking the FIN is not a hole. */
	rp_tcp_stream_ack(&s, 102);
	rp_tcp_stream_ack(&s, 102);
	drain(&s, &o);
	assert_int_equal(o.gaps, 0);
	rp_tcp_stream_dispose(&s);
	/* A reset: what is buffered comes out past the holes, then RST. */
	memset(&o, 0, sizeof(o));
	rp_tcp_stream_init(&s, &mem);
	push(&s, &o, 0, RP_TCP_SYN, NULL, 0);
	push(&s, &o, 1, RP_TCP_ACK, text, 10);
	push(&s, &o, 21, RP_TCP_ACK, text + 20, 10);
	push(&s, &o, 40, RP_TCP_RST, NULL, 0);
	assert_int_equal(o.n, 30);
	assert_int_equal(o.gaps, 1);
	assert_int_equal(o.rsts, 1);
	assert_int_equal(mem.used, 0);
	rp_tcp_stream_dispose(&s);
	/* RST first, FIN later: the stream is over at the reset. */
	memset(&o, 0, sizeof(o));
	rp_tcp_stream_init(&s, &mem);
	push(&s, &o, 0, RP_TCP_SYN, NULL, 0);
	push(&s, &o, 1, RP_TCP_RST, NULL, 0);
	push(&s, &o, 1, RP_TCP_FIN | RP_TCP_ACK, NULL, 0);
	assert_int_equal(o.rsts, 1);
	assert_int_equal(o.fins, 0);
	rp_tcp_stream_dispose(&s);
}

static void test_snaplen_cut(void **state)
{
	(void)state;
	static struct out o;
	struct rp_tcp_mem mem = {.max = 1 << 20};
	struct rp_tcp_stream s;
	memset(&o, 0, sizeof(o));
	rp_tcp_stream_init(&s, &mem);
	push(&s, &o, 0, RP_TCP_SYN, NULL, 0);
	/* 100 bytes on the wire, 30 captured; then the next segment. */
	assert_int_equal(rp_tcp_stream_push(&s, 1, RP_TCP_ACK, S(text, 30), 100, 1), 0);
	drain(&s, &o);
	push(&s, &o, 101, RP_TCP_ACK, text + 100, 20);
	assert_int_equal(o.n, 120);
	assert_memory_equal(o.b, text, 30);
	assert_int_equal(o.gap_bytes, 70);
	assert_memory_equal(o.b + 100, text + 100, 20);
	/* The same, out of order. */
	assert_int_equal(rp_tcp_stream_push(&s, 221, RP_TCP_ACK, S(text + 220, 5), 50, 1), 0);
	drain(&s, &o);
	push(&s, &o, 121, RP_TCP_ACK, text + 120, 100);
	assert_int_equal(o.n, 270);
	assert_int_equal(o.gap_bytes, 115);
	rp_tcp_stream_dispose(&s);
	assert_int_equal(mem.used, 0);
}

static void test_memory_ceiling(void **state)
{
	(void)state;
	static struct out o;
	struct rp_tcp_mem mem = {.max = 10000};
	struct rp_tcp_stream s;
	memset(&o, 0, sizeof(o));
	rp_tcp_stream_init(&s, &mem);
	push(&s, &o, 0, RP_TCP_SYN, NULL, 0);
	/* Out-of-order segments until the ceiling refuses one. */
	uint32_t seq = 1001;
	int refused = 0;
	for (int i = 0; i < 100 && !refused; i++, seq += 1000) {
		int rc = rp_tcp_stream_push(&s, seq, RP_TCP_ACK, S(text, 1000), 1000, 1);
		if (rc == RP_E_LIMIT)
			refused = 1;
		assert_true(mem.used <= mem.max);
	}
	assert_true(refused);
	assert_true(s.stats.limited >= 1);
	/* Giving the hole up frees the memory; the push then goes in. */
	rp_tcp_stream_skip(&s, seq);
	drain(&s, &o);
	assert_int_equal(mem.used, 0);
	assert_int_equal(rp_tcp_stream_push(&s, seq, RP_TCP_ACK, S(text, 1000), 1000, 1), 0);
	drain(&s, &o);
	assert_int_equal(o.next_off, seq - 1 + 1000);
	/* Out of window: garbage sequence numbers are refused, not held. */
	assert_int_equal(rp_tcp_stream_push(&s, seq + (1u << 31) - 7, RP_TCP_ACK, S(text, 10), 10, 1),
			 0);
	assert_int_equal(rp_tcp_stream_push(&s, seq + RP_TCP_MAX_AHEAD + 5000, RP_TCP_ACK,
					    S(text, 10), 10, 1), 0);
	assert_int_equal(s.stats.out_of_window, 2);
	assert_int_equal(mem.used, 0);
	rp_tcp_stream_dispose(&s);
}

static void test_random_segments(void **state)
{
	(void)state;
	/* Random sequence numbers, lengths, flags and acks: no crash, the
	 * ceiling holds, and every byte is reported once. */
	struct rp_tcp_mem mem = {.max = 200000};
	static struct out o;
	srand(77);
	for (int round = 0; round < 50; round++) {
		struct rp_tcp_stream s;
		memset(&o, 0, sizeof(o));
		rp_tcp_stream_init(&s, &mem);
		uint32_t base = (uint32_t)rand() * 2654435761u;
		for (int i = 0; i < 400; i++) {
			uint32_t seq = base + (uint32_t)(rand() % 300000) - 1000;
			size_t len = (size_t)rand() % 3000;
			uint8_t fl = (uint8_t)(rand() % 64);
			if (fl & RP_TCP_RST && rand() % 4)
				fl &= (uint8_t)~RP_TCP_RST;
			uint32_t wire = (uint32_t)len + (rand() % 8 == 0 ? (uint32_t)(rand() % 500) : 0);
			int rc = rp_tcp_stream_push(&s, seq, fl, S(text, len), wire, i);
			assert_true(rc == 0 || rc == RP_E_LIMIT);
			if (rc == RP_E_LIMIT)
				rp_tcp_stream_skip(&s, seq);
			if (rand() % 3 == 0)
				rp_tcp_stream_ack(&s, base + (uint32_t)(rand() % 300000));
			if (o.n > sizeof(o.b) / 2)
				o.n = 0; /* keep the byte log small; offsets still checked */
			drain(&s, &o);
			assert_true(mem.used <= mem.max);
		}
		rp_tcp_stream_flush(&s);
		drain(&s, &o);
		assert_int_equal(s.stats.delivered + s.stats.gap_bytes, s.offset);
		rp_tcp_stream_dispose(&s);
		assert_int_equal(mem.used, 0);
	}
}

int main(void)
{
	fill_text();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_zero_copy),
		cmocka_unit_test(test_shuffled_duplicated_wrapped),
		cmocka_unit_test(test_overlap_first_wins),
		cmocka_unit_test(test_midstream_and_synack),
		cmocka_unit_test(test_holes_declared_lost),
		cmocka_unit_test(test_fin_and_rst_orders),
		cmocka_unit_test(test_snaplen_cut),
		cmocka_unit_test(test_memory_ceiling),
		cmocka_unit_test(test_random_segments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
