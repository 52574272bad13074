/*
 * replay_util: see replay_util.h.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int rp_fuzz_args(int argc, char **argv, long *mutations, uint64_t *seed, const char **dir)
{
	int c;
	while ((c = getopt(argc, argv, "n:s:")) != -1) {
		if (c == 'n')
			*mutations = strtol(optarg, NULL, 10);
		else if (c == 's')
			*seed = strtoull(optarg, NULL, 0);
		else
			return 2;
	}
	if (optind < argc)
		*dir = argv[optind];
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct rp_fuzz_seed *)a)->name, ((const struct rp_fuzz_seed *)b)->name);
}

size_t rp_fuzz_seeds(const char *prog, const char *dir, struct rp_fuzz_seed **out)
{
	*out = NULL;
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: cannot open %s\n", prog, dir);
		return 0;
	}
	struct rp_fuzz_seed *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		size_t bcap = 4096, len = 0, k;
		uint8_t *p = rp_xmalloc(bcap);
		while ((k = fread(p + len, 1, bcap - len, f)) > 0)
			if ((len += k) == bcap)
				p = rp_xrealloc(p, bcap *= 2);
		fclose(f);
		if (n == cap)
			v = rp_xrealloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
		v[n++] = (struct rp_fuzz_seed){rp_xstrdup(e->d_name), p, len};
	}
	closedir(d);
	if (!n) {
		fprintf(stderr, "%s: no seeds in %s\n", prog, dir);
		free(v);
		return 0;
	}
	qsort(v, n, sizeof(*v), by_name);
	*out = v;
	return n;
}

void rp_fuzz_seeds_free(struct rp_fuzz_seed *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].p);
	}
	free(s);
}
