/*
 * pcapfile_test: pcap and pcapng files parsed from windows of bytes.  Both
 * byte orders, micro- and nanosecond pcap, pcapng sections with interfaces
 * of several link types and timestamp resolutions (10^-n and 2^-n, with an
 * offset), simple and obsolete packet blocks, unknown blocks skipped.  Each
 * file is also read through windows that slide one byte at a time, cut at
 * every length, and mutated at random: the same packets, or a clean error.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "reprise/capture.h"

struct w {
	uint8_t b[8192];
	size_t n;
	int be;
};

static void u8(struct w *w, uint8_t v) { w->b[w->n++] = v; }
static void u16(struct w *w, uint16_t v)
{
	if (w->be) {
		u8(w, (uint8_t)(v >> 8));
		u8(w, (uint8_t)v);
	} else {
		u8(w, (uint8_t)v);
		u8(w, (uint8_t)(v >> 8));
	}
}
static void u32(struct w *w, uint32_t v)
{
	if (w->be) {
		u16(w, (uint16_t)(v >> 16));
		u16(w, (uint16_t)v);
	} else {
		u16(w, (uint16_t)v);
		u16(w, (uint16_t)(v >> 16));
	}
}
static void bytes(struct w *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void pcap_file(struct w *w, int be, int nano)
{
	memset(w, 0, sizeof(*w));
	w->be = be;
	u32(w, nano ? 0xa1b23c4d : 0xa1b2c3d4);
	u16(w, 2);
	u16(w, 4);
	u32(w, 0);
	u32(w, 0);
	u32(w, 65535);
	u32(w, 1);
	for (uint32_t i = 0; i < 3; i++) {
		u32(w, 1700000000 + i);
		u32(w, nano ? 123456789 : 123456);
		u32(w, 10 + i);
		u32(w, 100 + i);
		for (uint32_t k = 0; k < 10 + i; k++)
			u8(w, (uint8_t)(i * 16 + k));
	}
}

static size_t block_start(struct w *w, uint32_t type)
{
	size_t at = w->n;
	u32(w, type);
	u32(w, 0); /* length, fixed by block_end */
	return at;
}

static void block_end(struct w *w, size_t at)
{
	while (w->n % 4)
		u8(w, 0);
	uint32_t len = (uint32_t)(w->n - at + 4);
	u32(w, len);
	size_t save = w->n;
	w->n = at + 4;
	u32(w, len);
	w->n = save;
}

static void pcapng_file(struct w *w, int be)
{
	memset(w, 0, sizeof(*w));
	w->be = be;
	size_t b = block_start(w, 0x0a0d0d0a);
	u32(w, 0x1a2b3c4d);
	u16(w, 1);
	u16(w, 0);
	u32(w, 0xffffffff);
	u32(w, 0xffffffff);
	block_end(w, b);
	/* Interface 0: Ethernet, nanoseconds.  Interface 1: raw IP, 2^-20 s,
	 * offset 100 s.  Interface 2: Linux SLL, default microseconds. */
	b = block_start(w, 1);
	u16(w, 1);
	u16(w, 0);
	u32(w, 262144);
	u16(w, 9);
	u16(w, 1);
	u8(w, 9);
	u8(w, 0);
	u8(w, 0);
	u8(w, 0);
	u16(w, 0);
	u16(w, 0);
	block_end(w, b);
	b = block_start(w, 1);
	u16(w, 101);
	u16(w, 0);
	u32(w, 262144);
	u16(w, 9);
	u16(w, 1);
	u8(w, 0x80 | 20);
	u8(w, 0);
	u8(w, 0);
	u8(w, 0);
	u16(w, 14);
	u16(w, 8);
	if (be) {
		u32(w, 0);
		u32(w, 100);
	} else {
		u32(w, 100);
		u32(w, 0);
	}
	u16(w, 0);
	u16(w, 0);
	block_end(w, b);
	b = block_start(w, 1);
	u16(w, 113);
	u16(w, 0);
	u32(w, 0);
	block_end(w, b);
	/* An unknown block (name resolution) to skip. */
	b = block_start(w, 4);
	u32(w, 0);
	block_end(w, b);
	/* Enhanced packets on each interface. */
	uint64_t ts[3] = {1700000000123456789ull, (1700000000ull << 20) | (1u << 19),
			  1700000000123456ull};
	for (uint32_t i = 0; i < 3; i++) {
		b = block_start(w, 6);
		u32(w, i);
		u32(w, (uint32_t)(ts[i] >> 32));
		u32(w, (uint32_t)ts[i]);
		u32(w, 5 + i);
		u32(w, 50);
		for (uint32_t k = 0; k < 5 + i; k++)
			u8(w, (uint8_t)('a' + k));
		block_end(w, b);
	}
	/* A simple packet (interface 0, no time) and an obsolete one. */
	b = block_start(w, 3);
	u32(w, 4);
	bytes(w, "spb!", 4);
	block_end(w, b);
	b = block_start(w, 2);
	u16(w, 2);
	u16(w, 0);
	u32(w, 0);
	u32(w, 7);
	u32(w, 3);
	u32(w, 3);
	bytes(w, "old", 3);
	block_end(w, b);
}

struct pkt {
	int64_t ts;
	int link;
	uint32_t caplen, len;
	uint8_t first;
};

/* Reads |w| through windows of at most |win| bytes.  Returns the packets
 * read and the final status. */
static int read_all(const struct w *w, size_t win, struct pkt *out, size_t *n)
{
	struct rp_pcapfile f;
	struct rp_pcapfile_pkt pk;
	const char *why = NULL;
	static uint8_t buf[1 << 16];
	size_t have = w->n < 24 ? w->n : (win < 24 ? 24 : win);
	if (have > w->n)
		have = w->n;
	size_t fed = have;
	memcpy(buf, w->b, have);
	*n = 0;
	if (rp_pcapfile_open(&f, buf, have, &why))
		return RP_E_FORMAT;
	f.eof = fed == w->n;
	for (;;) {
		int rc = rp_pcapfile_next(&f, &pk, &why);
		if (rc == RP_E_AGAIN) {
			size_t keep = f.n - f.off;
			memmove(buf, buf + f.off, keep);
			size_t want = keep + win;
			if (want < f.need)
				want = f.need;
			size_t add = want - keep;
			if (add > w->n - fed)
				add = w->n - fed;
			memcpy(buf + keep, w->b + fed, add);
			fed += add;
			f.p = buf;
			f.n = keep + add;
			f.off = 0;
			f.eof = fed == w->n;
			continue;
		}
		if (rc)
			return rc;
		assert_true(pk.data >= buf && pk.data + pk.caplen <= buf + f.n);
		out[*n].ts = pk.ts;
		out[*n].link = pk.link;
		out[*n].caplen = pk.caplen;
		out[*n].len = pk.len;
		out[*n].first = pk.caplen ? pk.data[0] : 0;
		(*n)++;
	}
}

static void check_pcap(const struct pkt *p, size_t n, int nano)
{
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(p[i].link, 1);
		assert_int_equal(p[i].caplen, 10 + i);
		assert_int_equal(p[i].len, 100 + i);
		assert_int_equal(p[i].first, i * 16);
		assert_int_equal(p[i].ts, (1700000000LL + (int64_t)i) * 1000000000LL +
						  (nano ? 123456789 : 123456000));
	}
}

static void check_pcapng(const struct pkt *p, size_t n)
{
	assert_int_equal(n, 5);
	assert_int_equal(p[0].link, 1);
	assert_int_equal(p[0].ts, 1700000000123456789LL);
	assert_int_equal(p[1].link, 101);
	assert_int_equal(p[1].ts, (1700000000LL + 100) * 1000000000LL + 500000000LL);
	assert_int_equal(p[2].link, 113);
	assert_int_equal(p[2].ts, 1700000000123456000LL);
	assert_int_equal(p[2].caplen, 7);
	assert_int_equal(p[2].len, 50);
	assert_int_equal(p[3].caplen, 4);
	assert_int_equal(p[3].first, 's');
	assert_int_equal(p[4].link, 113);
	assert_int_equal(p[4].first, 'o');
}

static void test_formats_and_windows(void **state)
{
	(void)state;
	static struct w w;
	struct pkt p[16];
	size_t n;
	for (int be = 0; be < 2; be++) {
		for (int nano = 0; nano < 2; nano++) {
			pcap_file(&w, be, nano);
			for (size_t win = 1; win <= w.n; win += (win < 64 ? 1 : 37)) {
				assert_int_equal(read_all(&w, win, p, &n), RP_E_CLOSED);
				check_pcap(p, n, nano);
			}
		}
		pcapng_file(&w, be);
		for (size_t win = 1; win <= w.n; win++) {
			assert_int_equal(read_all(&w, win, p, &n), RP_E_CLOSED);
			check_pcapng(p, n);
		}
	}
}

static void test_truncated_and_damaged(void **state)
{
	(void)state;
	static struct w w, v;
	struct pkt p[64];
	size_t n;
	for (int ng = 0; ng < 2; ng++) {
		if (ng)
			pcapng_file(&w, 0);
		else
			pcap_file(&w, 0, 1);
		/* Every cut: a clean end or an error, packets only whole. */
		for (size_t cut = 0; cut < w.n; cut++) {
			v = w;
			v.n = cut;
			int rc = read_all(&v, 64, p, &n);
			assert_true(rc == RP_E_FORMAT || rc == RP_E_CLOSED);
		}
		/* Random damage: never a packet outside the file. */
		srand(5);
		for (int it = 0; it < 5000; it++) {
			v = w;
			for (int k = 0; k < 1 + rand() % 3; k++)
				v.b[(size_t)rand() % v.n] ^= (uint8_t)(1u << (rand() % 8));
			int rc = read_all(&v, 1 + (size_t)rand() % 100, p, &n);
			assert_true(rc == RP_E_FORMAT || rc == RP_E_CLOSED);
			assert_true(n <= 8);
		}
	}
	/* Specific damage: a packet on an interface never declared. */
	pcapng_file(&w, 0);
	struct rp_pcapfile f;
	const char *why;
	assert_int_equal(rp_pcapfile_open(&f, (const uint8_t *)"garbage, not a capture file.", 28,
					  &why), RP_E_FORMAT);
	assert_int_equal(rp_pcapfile_open(&f, w.b, 10, &why), RP_E_FORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats_and_windows),
		cmocka_unit_test(test_truncated_and_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
