/*
 * mask_tool: a test helper (never installed) for the masking integration
 * tests.  `encode CODING` content-encodes stdin to stdout with reprise's own
 * codings (the test machines have no brotli tool); `zframes FILE` finds
 * every zstd frame in FILE — the corpus's data.mdb, where bodies are stored
 * compressed — and writes each one decompressed to stdout, so that a scan
 * for seeded values covers bodies too, not only the raw bytes.
 *
 * usage: mask_tool encode gzip|br|deflate|zstd < IN > OUT
 *        mask_tool zframes FILE
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "reprise/coding.h"

static uint8_t *slurp(FILE *f, size_t *n)
{
	size_t cap = 1 << 16;
	uint8_t *p = rp_xmalloc(cap);
	*n = 0;
	size_t k;
	while ((k = fread(p + *n, 1, cap - *n, f)) > 0) {
		*n += k;
		if (*n == cap)
			p = rp_xrealloc(p, cap *= 2);
	}
	return p;
}

static int encode(const char *coding)
{
	size_t n;
	uint8_t *in = slurp(stdin, &n);
	struct rp_buf out;
	rp_buf_init(&out, 256u << 20);
	int rc = rp_coding_encode(rp_slice_str(coding), rp_slice(in, n), &out);
	if (rc == 0)
		fwrite(out.base + out.rd, 1, rp_buf_len(&out), stdout);
	else
		fprintf(stderr, "mask_tool: cannot encode with %s\n", coding);
	rp_buf_dispose(&out);
	free(in);
	return rc ? 1 : 0;
}

static int zframes(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	size_t n;
	uint8_t *p = slurp(f, &n);
	fclose(f);
	static const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
	size_t frames = 0, bytes = 0;
	for (size_t i = 0; i + 4 <= n;) {
		const uint8_t *m = memmem(p + i, n - i, magic, 4);
		if (!m)
			break;
		size_t at = (size_t)(m - p);
		size_t csize = ZSTD_findFrameCompressedSize(p + at, n - at);
		unsigned long long dsize = ZSTD_getFrameContentSize(p + at, n - at);
		if (ZSTD_isError(csize) || dsize == ZSTD_CONTENTSIZE_ERROR || dsize > (64u << 20)) {
			i = at + 1;
			continue;
		}
		if (dsize == ZSTD_CONTENTSIZE_UNKNOWN)
			dsize = 64u << 20;
		uint8_t *out = rp_xmalloc(dsize ? dsize : 1);
		size_t got = ZSTD_decompress(out, dsize, p + at, csize);
		if (!ZSTD_isError(got)) {
			fwrite(out, 1, got, stdout);
			fputc('\n', stdout);
			frames++;
			bytes += got;
		}
		free(out);
		i = at + 1; /* stale copies may overlap: look everywhere */
	}
	fprintf(stderr, "mask_tool: %zu zstd frames, %zu bytes decompressed\n", frames, bytes);
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "encode") == 0)
		return encode(argv[2]);
	if (argc == 3 && strcmp(argv[1], "zframes") == 0)
		return zframes(argv[2]);
	fprintf(stderr, "usage: mask_tool encode CODING | zframes FILE\n");
	return 2;
}
