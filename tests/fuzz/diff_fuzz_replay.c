/*
 * diff_fuzz_replay: runs the diff fuzz target without libFuzzer, so that
 * make check exercises it on every build (under ASan/UBSan in the sanitizer
 * build): every file of tests/fuzz/corpus/diff, then seeded random
 * mutations of them (bytes flipped, inserted, removed; parts spliced).
 *
 * Usage: diff_fuzz_replay [-n MUTATIONS] [-s SEED] [DIR]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "reprise/base.h"

#include "replay_util.h"

int main(int argc, char **argv)
{
	long mutations = 60000;
	const char *dir = RP_SRCDIR "/tests/fuzz/corpus/diff";
	uint64_t seed = 0xd1ffd1ffULL;
	if (rp_fuzz_args(argc, argv, &mutations, &seed, &dir))
		return 2;
	rp_fuzz_rng = seed | 1;
	struct rp_fuzz_seed *seeds;
	size_t n = rp_fuzz_seeds("diff_fuzz_replay", dir, &seeds);
	if (!n)
		return 1;
	size_t longest = 0;
	for (size_t i = 0; i < n; i++)
		longest = RP_MAX(longest, seeds[i].n);
	for (size_t i = 0; i < n; i++)
		rp_fuzz_run(seeds[i].p, seeds[i].n);
	static const char splice[] = "[]{}\",:.$*'\\0123456789e-\n\x00\xff";
	size_t cap = longest + (1 << 16);
	uint8_t *buf = rp_xmalloc(cap);
	for (long i = 0; i < mutations; i++) {
		const struct rp_fuzz_seed *s = &seeds[rp_fuzz_below(n)];
		size_t len = s->n;
		memcpy(buf, s->p, len);
		for (size_t k = 1 + rp_fuzz_below(8); k > 0 && len; k--) {
			size_t at = rp_fuzz_below(len);
			switch (rp_fuzz_below(5)) {
			case 0: buf[at] ^= (uint8_t)(1u << rp_fuzz_below(8)); break;
			case 1: buf[at] = (uint8_t)splice[rp_fuzz_below(sizeof(splice) - 1)]; break;
			case 2:
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			case 3:
				if (len < cap - 1) {
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = (uint8_t)splice[rp_fuzz_below(sizeof(splice) - 1)];
					len++;
				}
				break;
			default: {
				/* copy a run from elsewhere in the input over this place */
				size_t from = rp_fuzz_below(len), run_n = rp_fuzz_below(RP_MIN(len - from, len - at) + 1);
				memmove(buf + at, buf + from, run_n);
			}
			}
		}
		rp_fuzz_run(buf, len);
	}
	printf("diff_fuzz_replay: %zu seeds, %ld mutations\n", n, mutations);
	rp_fuzz_seeds_free(seeds, n);
	free(buf);
	return 0;
}
