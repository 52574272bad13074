/*
 * diff_fuzz_replay: runs the diff fuzz target without libFuzzer, so that
 * make check exercises it on every build (under ASan/UBSan in the sanitizer
 * build): every file of tests/fuzz/corpus/diff, then seeded random
 * mutations of them (bytes flipped, inserted, removed; parts spliced).
 *
 * Usage: diff_fuzz_replay [-n MUTATIONS] [-s SEED] [DIR]
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "reprise/base.h"

#include "replay_util.h"

struct seed {
	uint8_t *p;
	size_t n;
};

static int load(const char *path, struct seed *s)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	s->p = rp_xmalloc(1 << 16);
	s->n = fread(s->p, 1, 1 << 16, f);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	long mutations = 60000;
	const char *dir = RP_SRCDIR "/tests/fuzz/corpus/diff";
	int c;
	rp_fuzz_rng = 0xd1ffd1ffULL;
	while ((c = getopt(argc, argv, "n:s:")) != -1) {
		if (c == 'n')
			mutations = strtol(optarg, NULL, 10);
		else if (c == 's')
			rp_fuzz_rng = strtoull(optarg, NULL, 0) | 1;
		else
			return 2;
	}
	if (optind < argc)
		dir = argv[optind];
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "diff_fuzz_replay: cannot open %s\n", dir);
		return 1;
	}
	struct seed seeds[256];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < RP_ARRAY_LEN(seeds)) {
		char path[4096];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (load(path, &seeds[n]) == 0)
			n++;
	}
	closedir(d);
	if (!n) {
		fprintf(stderr, "diff_fuzz_replay: no seeds in %s\n", dir);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		rp_fuzz_run(seeds[i].p, seeds[i].n);
	static const char splice[] = "[]{}\",:.$*'\\0123456789e-\n\x00\xff";
	uint8_t *buf = rp_xmalloc(1 << 17);
	for (long i = 0; i < mutations; i++) {
		const struct seed *s = &seeds[rp_fuzz_below(n)];
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
				if (len < (1 << 17) - 1) {
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
	for (size_t i = 0; i < n; i++)
		free(seeds[i].p);
	free(buf);
	return 0;
}
