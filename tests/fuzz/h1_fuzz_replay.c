/*
 * h1_fuzz_replay: runs the h1 fuzz target without libFuzzer, for make
 * check.  It replays every file of the seed corpus (tests/fuzz/corpus/h1/,
 * or the directories given as arguments), then a fixed number of random
 * mutations of those seeds from a fixed PRNG seed, so the run is the same
 * every time.  Any broken invariant aborts inside the target; under
 * AddressSanitizer so does any out-of-bounds access or leak.
 *
 * Environment: H1_FUZZ_MUTATIONS overrides the number of mutations
 * (default 50000), H1_FUZZ_SEED the PRNG seed.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEED_MAX 65536

struct seed {
	uint8_t *p;
	size_t n;
};

static struct seed *seeds;
static size_t nseeds;

static int load_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "h1_fuzz_replay: cannot open %s\n", dir);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		uint8_t *buf = malloc(SEED_MAX);
		if (!buf)
			abort();
		size_t n = fread(buf, 1, SEED_MAX, f);
		fclose(f);
		seeds = realloc(seeds, (nseeds + 1) * sizeof(*seeds));
		if (!seeds)
			abort();
		seeds[nseeds].p = buf;
		seeds[nseeds].n = n;
		nseeds++;
	}
	closedir(d);
	return 0;
}

static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Tokens that steer mutations towards the parser's decisions. */
static const char *const tokens[] = {
	"\r\n", "\n", "\r", " ", "\t", ":", ";", ",", "\r\n\r\n", "\r\n ", "0\r\n\r\n",
	"Transfer-Encoding: chunked\r\n", "Content-Length: 5\r\n", "Content-Length: 0\r\n",
	"Connection: close\r\n", "Connection: upgrade\r\nUpgrade: h2c\r\n", "Expect: 100-continue\r\n",
	"HTTP/1.1 ", "HTTP/1.0 ", "HTTP/1.1 101 Switching\r\n", "HTTP/1.1 100 Continue\r\n\r\n",
	"GET / HTTP/1.1\r\n", "HEAD / HTTP/1.1\r\n", "CONNECT a:1 HTTP/1.1\r\n", "PRI * HTTP/2.0\r\n",
	"ffffffffffffffff", "1;a=\"b\"", "\x00", "\x7f", "\xff", "99999999999999999999",
};

static size_t mutate(uint8_t *buf, size_t n, size_t cap)
{
	unsigned rounds = 1 + rnd() % 4;
	for (unsigned k = 0; k < rounds; k++) {
		switch (rnd() % 7) {
		case 0: /* flip a bit */
			if (n > 2)
				buf[2 + rnd() % (n - 2)] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: /* set a byte */
			if (n)
				buf[rnd() % n] = (uint8_t)rnd();
			break;
		case 2: { /* delete a range */
			if (n < 3)
				break;
			size_t at = 2 + rnd() % (n - 2), len = 1 + rnd() % 8;
			if (len > n - at)
				len = n - at;
			memmove(buf + at, buf + at + len, n - at - len);
			n -= len;
			break;
		}
		case 3:
		case 4: { /* insert a token */
			const char *t = tokens[rnd() % (sizeof(tokens) / sizeof(tokens[0]))];
			size_t len = strlen(t);
			if (t[0] == 0)
				len = 1;
			if (n + len > cap || n < 2)
				break;
			size_t at = 2 + rnd() % (n - 1);
			memmove(buf + at + len, buf + at, n - at);
			memcpy(buf + at, t, len);
			n += len;
			break;
		}
		case 5: { /* splice in part of another seed */
			const struct seed *o = &seeds[rnd() % nseeds];
			if (o->n < 3 || n < 2)
				break;
			size_t from = 2 + rnd() % (o->n - 2), len = 1 + rnd() % (o->n - from);
			size_t at = 2 + rnd() % (n - 1);
			if (n + len > cap)
				break;
			memmove(buf + at + len, buf + at, n - at);
			memcpy(buf + at, o->p + from, len);
			n += len;
			break;
		}
		case 6: /* new configuration or split */
			if (n)
				buf[rnd() % 2 % n] = (uint8_t)rnd();
			break;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (load_dir(argv[i]) < 0)
				return 2;
	} else if (load_dir(RP_SRCDIR "/tests/fuzz/corpus/h1") < 0) {
		return 2;
	}
	if (nseeds == 0) {
		fprintf(stderr, "h1_fuzz_replay: empty corpus\n");
		return 2;
	}
	for (size_t i = 0; i < nseeds; i++)
		LLVMFuzzerTestOneInput(seeds[i].p, seeds[i].n);

	const char *env = getenv("H1_FUZZ_MUTATIONS");
	unsigned long mutations = env ? strtoul(env, NULL, 10) : 50000;
	env = getenv("H1_FUZZ_SEED");
	rng = env ? strtoull(env, NULL, 10) : 0x5eed1234abcdull;
	if (!rng)
		rng = 1;
	uint8_t *buf = malloc(SEED_MAX);
	if (!buf)
		abort();
	for (unsigned long m = 0; m < mutations; m++) {
		const struct seed *s = &seeds[rnd() % nseeds];
		size_t n = s->n < SEED_MAX / 2 ? s->n : SEED_MAX / 2;
		memcpy(buf, s->p, n);
		n = mutate(buf, n, SEED_MAX);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("h1_fuzz_replay: %zu seeds and %lu mutations ran clean\n", nseeds, mutations);
	free(buf);
	for (size_t i = 0; i < nseeds; i++)
		free(seeds[i].p);
	free(seeds);
	return 0;
}
