/*
 * record_seeds: writes the seed corpus of the record fuzz target — valid
 * records of the current format version, named valid-*.rpx.  Not run by
 * make check: the corpus is committed, and the replayer insists that every
 * valid-* seed still decodes, which pins the storage format.
 *
 * Usage: make tests/fuzz/record_seeds && tests/fuzz/record_seeds tests/fuzz/corpus/record
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "../unit/record/xgen.h"
#include "reprise/limits.h"
#include "reprise/record.h"

static int write_seed(const char *dir, const char *name, const struct rp_exchange *x,
		      const struct rp_record_body_ref refs[2])
{
	struct rp_buf b;
	struct rp_record_opts o = xgen_opts(refs);
	char path[4096];
	int rc = -1;
	rp_buf_init(&b, RP_LIMIT_RECORD);
	if (rp_record_encode(x, &o, &b))
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		goto out;
	size_t k = fwrite(b.base, 1, b.wr, f);
	if (fclose(f) == 0 && k == b.wr)
		rc = 0;
	printf("%s: %zu bytes\n", path, b.wr);
out:
	rp_buf_dispose(&b);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: record_seeds DIR\n");
		return 2;
	}
	const char *dir = argv[1];
	int rc = 0;
	struct rp_record_body_ref refs[2] = {{0}};

	struct rp_exchange *x = rp_exchange_new();
	rc |= write_seed(dir, "valid-empty.rpx", x, NULL);
	rp_exchange_free(x);

	x = rp_exchange_new();
	xgen_full(x);
	rc |= write_seed(dir, "valid-full.rpx", x, NULL);
	refs[1].present = 1;
	refs[1].len = 8;
	memset(refs[1].digest, 0xd1, RP_DIGEST_LEN);
	rc |= write_seed(dir, "valid-full-ref.rpx", x, refs);
	rp_exchange_free(x);

	x = rp_exchange_new();
	xgen_realistic(x, 1024);
	rc |= write_seed(dir, "valid-realistic-1k.rpx", x, NULL);
	rp_exchange_free(x);

	/* small random ones: fuzzers work best on short inputs */
	struct xgen_rng r = {0x5eed5eed};
	for (int i = 0; i < 4;) {
		x = rp_exchange_new();
		xgen_random(&r, x, refs);
		struct rp_buf b;
		struct rp_record_opts o = xgen_opts(refs);
		rp_buf_init(&b, RP_LIMIT_RECORD);
		if (rp_record_encode(x, &o, &b) == 0 && b.wr < 1500) {
			char name[64];
			snprintf(name, sizeof(name), "valid-random-%d.rpx", i++);
			rc |= write_seed(dir, name, x, refs);
		}
		rp_buf_dispose(&b);
		rp_exchange_free(x);
	}
	return rc ? 1 : 0;
}
