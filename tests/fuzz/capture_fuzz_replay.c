/*
 * capture_fuzz_replay: runs the capture fuzz target without libFuzzer, so
 * that make check exercises it on every build (under ASan and UBSan in the
 * sanitizer build): every capture of the seed corpus, then a fixed set of
 * seeded mutations of them (bit flips, byte overwrites, cuts, duplicated
 * and dropped ranges).
 *
 * Usage: capture_fuzz_replay [-n MUTATIONS] [-s SEED] [DIR]
 * (default DIR: tests/fuzz/corpus/capture in the source tree).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "reprise/base.h"

#include "replay_util.h"

static size_t mutate(uint8_t *p, size_t n, size_t cap)
{
	unsigned k = 1 + (unsigned)rp_fuzz_below(8);
	for (unsigned i = 0; i < k && n > 24; i++) {
		size_t at = 24 + rp_fuzz_below(n - 24); /* keep the file header mostly */
		switch (rp_fuzz_below(6)) {
		case 0: p[at] ^= (uint8_t)(1u << rp_fuzz_below(8)); break;
		case 1: p[at] = (uint8_t)rp_fuzz_next(); break;
		case 2: n = at; break;
		case 3: { /* duplicate a range (a retransmission, a record twice) */
			size_t len = rp_fuzz_below(RP_MIN(n - at, (size_t)2000));
			if (n + len <= cap) {
				memmove(p + at + len, p + at, n - at);
				n += len;
			}
			break;
		}
		case 4: { /* drop a range (a lost packet) */
			size_t len = rp_fuzz_below(RP_MIN(n - at, (size_t)2000));
			memmove(p + at, p + at + len, n - at - len);
			n -= len;
			break;
		}
		default: p[at] = (uint8_t)(p[at] + 1); break;
		}
	}
	return n;
}

/* Classic pcap: mutates bytes inside packets only, so that the file still
 * parses and the damage reaches the decoder, the reassembler and HTTP/1. */
static void mutate_packets(uint8_t *p, size_t n)
{
	if (n < 40 || !(p[0] == 0xd4 || p[0] == 0x4d) || p[1] == 0x0d)
		return; /* little-endian classic pcap only */
	size_t off = 24, recs[4096], nr = 0;
	while (off + 16 <= n && nr < 4096) {
		uint32_t cap = (uint32_t)p[off + 8] | (uint32_t)p[off + 9] << 8 |
			       (uint32_t)p[off + 10] << 16 | (uint32_t)p[off + 11] << 24;
		if (cap > n - off - 16)
			break;
		recs[nr++] = off;
		off += 16 + cap;
	}
	for (unsigned k = 1 + (unsigned)rp_fuzz_below(6); nr && k; k--) {
		size_t r = recs[rp_fuzz_below(nr)];
		uint32_t cap = (uint32_t)p[r + 8] | (uint32_t)p[r + 9] << 8;
		if (!cap)
			continue;
		size_t at = r + 16 + rp_fuzz_below(cap);
		switch (rp_fuzz_below(4)) {
		case 0: p[at] ^= (uint8_t)(1u << rp_fuzz_below(8)); break;
		case 1: p[at] = (uint8_t)rp_fuzz_next(); break;
		case 2: p[at] = (uint8_t[]){'\r', '\n', ' ', ':', '0', 0xff}[rp_fuzz_below(6)]; break;
		default: p[r + 4] ^= (uint8_t)rp_fuzz_next(); break; /* the time */
		}
	}
}

int main(int argc, char **argv)
{
	long mutations = 3000;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	const char *dir = RP_SRCDIR "/tests/fuzz/corpus/capture";
	if (rp_fuzz_args(argc, argv, &mutations, &seed, &dir))
		return 2;
	rp_fuzz_rng = seed | 1;
	struct rp_fuzz_seed *files;
	size_t nf = rp_fuzz_seeds("capture_fuzz_replay", dir, &files);
	if (!nf)
		return 1;
	for (size_t i = 0; i < nf; i++)
		rp_fuzz_run(files[i].p, files[i].n);
	for (long i = 0; i < mutations; i++) {
		size_t k = rp_fuzz_below(nf), cap = files[k].n + 16384;
		uint8_t *p = rp_xmalloc(cap);
		memcpy(p, files[k].p, files[k].n);
		size_t n = files[k].n;
		if (i % 2)
			mutate_packets(p, n);
		else
			n = mutate(p, n, cap);
		rp_fuzz_run(p, n);
		free(p);
	}
	printf("capture_fuzz_replay: %zu seeds, %ld mutations\n", nf, mutations);
	rp_fuzz_seeds_free(files, nf);
	return 0;
}
