/*
 * mask_fuzz_replay: runs the mask fuzz target without libFuzzer, so that
 * make check exercises it on every build (under ASan and UBSan in the
 * sanitizer build): every file of the seed corpus as it is, then seeded
 * random mutations of them (byte flips, inserted and deleted bytes,
 * truncations, bytes that JSON and UTF-8 care about).
 *
 * Usage: mask_fuzz_replay [-n MUTATIONS] [-s SEED] [DIR]
 * (default DIR: tests/fuzz/corpus/mask in the source tree).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "reprise/base.h"

#include "replay_util.h"

/* xorshift64*: the same sequence on every machine for a seed */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* bytes JSON, forms and UTF-8 care about */
static const uint8_t specials[] = {'"', '\\', '{', '}', '[', ']', ',', ':', '@', '.', '&',
				   '=', '%', '\n', 0x80, 0xc3, 0xe2, 0xff, 0, '-', '0', '9'};

int main(int argc, char **argv)
{
	long mutations = 100000;
	uint64_t seed = 0x6d61736bULL;
	const char *dir = RP_SRCDIR "/tests/fuzz/corpus/mask";
	if (rp_fuzz_args(argc, argv, &mutations, &seed, &dir))
		return 2;
	struct rp_fuzz_seed *seeds;
	size_t n = rp_fuzz_seeds("mask_fuzz_replay", dir, &seeds);
	if (!n)
		return 1;
	for (size_t i = 0; i < n; i++)
		rp_fuzz_run(seeds[i].p, seeds[i].n);
	uint64_t s = seed ? seed : 1;
	uint8_t *buf = NULL;
	size_t cap = 0;
	for (long i = 0; i < mutations; i++) {
		size_t k = (size_t)(rnd(&s) % n), len = seeds[k].n;
		if (len + 64 > cap)
			buf = rp_xrealloc(buf, cap = len + 64);
		memcpy(buf, seeds[k].p, len);
		for (unsigned m = 1 + (unsigned)(rnd(&s) % 4); m-- && len > 1;) {
			size_t at = 1 + (size_t)(rnd(&s) % (len - 1)); /* byte 0 picks the mode */
			switch (rnd(&s) % 5) {
			case 0: buf[at] ^= (uint8_t)(1u << (rnd(&s) % 8)); break;
			case 1: buf[at] = specials[rnd(&s) % sizeof(specials)]; break;
			case 2:
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			case 3:
				if (len < cap) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = specials[rnd(&s) % sizeof(specials)];
					len++;
				}
				break;
			default: len = at;
			}
		}
		rp_fuzz_run(buf, len);
	}
	printf("mask_fuzz_replay: %zu seeds, %ld mutations, seed %#llx\n", n, mutations,
	       (unsigned long long)seed);
	rp_fuzz_seeds_free(seeds, n);
	free(buf);
	return 0;
}
