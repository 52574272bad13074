/*
 * replay_util: see replay_util.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "reprise/base.h"
#include "replay_util.h"

uint64_t rp_fuzz_rng = 0x9e3779b97f4a7c15ULL;

void rp_fuzz_run(const uint8_t *p, size_t n)
{
	uint8_t *copy = rp_xmalloc(n ? n : 1);
	if (n)
		memcpy(copy, p, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
}

uint64_t rp_fuzz_next(void)
{
	rp_fuzz_rng ^= rp_fuzz_rng << 13;
	rp_fuzz_rng ^= rp_fuzz_rng >> 7;
	rp_fuzz_rng ^= rp_fuzz_rng << 17;
	return rp_fuzz_rng;
}

size_t rp_fuzz_below(size_t n)
{
	return n ? (size_t)(rp_fuzz_next() % n) : 0;
}
