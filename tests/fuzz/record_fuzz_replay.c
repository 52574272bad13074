/*
 * record_fuzz_replay: runs the record fuzz target without libFuzzer, so that
 * make check exercises it on every build (with ASan/UBSan in the sanitizer
 * build).  It replays every file of the corpus (files named valid-* are
 * records that must decode: they pin the storage format), then some thousands
 * of seeded random mutations of them.
 *
 * Usage: record_fuzz_replay [-n MUTATIONS] [-s SEED] [DIR]
 * (default DIR: tests/fuzz/corpus/record in the source tree).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "../unit/record/xgen.h"
#include "reprise/record.h"

#include "replay_util.h"

/* A few byte-level changes to |p| (|n| bytes, room for |cap|); the new length. */
static size_t mutate(struct xgen_rng *r, uint8_t *p, size_t n, size_t cap)
{
	unsigned k = 1 + (unsigned)xgen_below(r, 6);
	for (unsigned i = 0; i < k && n; i++) {
		size_t at = (size_t)xgen_below(r, n);
		switch (xgen_below(r, 6)) {
		case 0:
			p[at] ^= (uint8_t)(1u << xgen_below(r, 8));
			break;
		case 1:
			p[at] = (uint8_t)xgen_next(r);
			break;
		case 2:
			p[at] = (uint8_t[]){0x80, 0xff, 0x00, 0x01, 0x7f, 0x0b}[xgen_below(r, 6)];
			break;
		case 3:
			memmove(p + at, p + at + 1, n - at - 1);
			n--;
			break;
		case 4:
			if (n < cap) {
				memmove(p + at + 1, p + at, n - at);
				p[at] = (uint8_t)xgen_next(r);
				n++;
			}
			break;
		default:
			n = at;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	long mutations = 50000;
	uint64_t seed = 0x5eedf00d;
	const char *dir = RP_SRCDIR "/tests/fuzz/corpus/record";
	if (rp_fuzz_args(argc, argv, &mutations, &seed, &dir))
		return 2;
	struct rp_fuzz_seed *seeds;
	size_t n = rp_fuzz_seeds("record_fuzz_replay", dir, &seeds);
	if (!n)
		return 1;

	int bad = 0;
	size_t valid = 0;
	for (size_t i = 0; i < n; i++) {
		rp_fuzz_run(seeds[i].p, seeds[i].n);
		if (strncmp(seeds[i].name, "valid-", 6) == 0) {
			struct rp_exchange *x = rp_exchange_new();
			const char *why = NULL;
			if (rp_record_decode(rp_slice(seeds[i].p, seeds[i].n), x, NULL, &why)) {
				fprintf(stderr, "record_fuzz_replay: %s no longer decodes: %s\n",
					seeds[i].name, why);
				bad = 1;
			}
			valid++;
			rp_exchange_free(x);
		}
	}

	struct xgen_rng r = {seed};
	size_t bufcap = 0;
	uint8_t *buf = NULL;
	for (long i = 0; i < mutations; i++) {
		const struct rp_fuzz_seed *s = &seeds[xgen_below(&r, n)];
		if (s->n + 64 > bufcap)
			buf = rp_xrealloc(buf, bufcap = s->n + 64);
		memcpy(buf, s->p, s->n);
		rp_fuzz_run(buf, mutate(&r, buf, s->n, bufcap));
	}
	printf("record_fuzz_replay: %zu seeds (%zu valid records), %ld mutations, seed %#llx\n", n,
	       valid, mutations, (unsigned long long)seed);
	rp_fuzz_seeds_free(seeds, n);
	free(buf);
	return bad;
}
