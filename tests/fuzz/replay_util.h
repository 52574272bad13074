/*
 * replay_util: what the fuzz replay drivers (make check's stand-in for
 * libFuzzer) share: their command line, loading the seed corpus, running
 * the target on an exact-size heap copy, and a small seeded xorshift
 * generator for mutations.
 */
#ifndef REPRISE_FUZZ_REPLAY_UTIL_H
#define REPRISE_FUZZ_REPLAY_UTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs the target on a heap copy of exactly |n| bytes, so ASan sees any
 * read past the end. */
void rp_fuzz_run(const uint8_t *p, size_t n);

/* "[-n MUTATIONS] [-s SEED] [DIR]": sets what is given, leaves the rest.
 * 0, or 2 on an unknown option. */
int rp_fuzz_args(int argc, char **argv, long *mutations, uint64_t *seed, const char **dir);

struct rp_fuzz_seed {
	char *name;
	uint8_t *p;
	size_t n;
};
/* Every file of |dir| whose name does not start with '.', whole, sorted by
 * name (so that a seed gives the same mutations on every file system).
 * The count, or 0 after a message naming |prog| and |dir|. */
size_t rp_fuzz_seeds(const char *prog, const char *dir, struct rp_fuzz_seed **out);
void rp_fuzz_seeds_free(struct rp_fuzz_seed *s, size_t n);

/* xorshift64: |rp_fuzz_rng| is the state (never 0; set it to seed). */
extern uint64_t rp_fuzz_rng;
uint64_t rp_fuzz_next(void);
/* Uniform-ish in [0, n); 0 when n is 0. */
size_t rp_fuzz_below(size_t n);

#endif
