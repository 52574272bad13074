/*
 * coding_test: HTTP content codings (src/coding/coding.c).  Round trips of
 * every coding and of stacked codings, raw and zlib-wrapped deflate,
 * concatenated gzip members, every truncation and random corruption (an error
 * leaves the output buffer exactly as it was, even a buffer that had been
 * partly consumed), unknown codings, output exactly at the cap, and
 * decompression bombs that must stop at the cap quickly for every coding.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "reprise/coding.h"

static uint64_t rng_state = 0x1234567;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

enum kind { RANDOM, TEXT, ZEROS };

static uint8_t *make_input(enum kind k, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	static const char words[] = "the quick brown fox jumps over the lazy dog {\"id\":42} ";
	for (size_t i = 0; i < n; i++) {
		if (k == RANDOM)
			p[i] = (uint8_t)rnd();
		else if (k == TEXT)
			p[i] = (uint8_t)words[(i * 7 + i / 13) % (sizeof(words) - 1)];
		else
			p[i] = 0;
	}
	return p;
}

/* A buffer that already holds "KEEP" after a consumed prefix, so that every
 * call is an append to a buffer with rd > 0 (growth then moves bytes). */
static void prefilled(struct rp_buf *b, size_t max)
{
	rp_buf_init(b, max);
	if (max < 12) { /* too small for the consumed prefix */
		assert_int_equal(rp_buf_append(b, "KEEP", 4), 0);
		return;
	}
	assert_int_equal(rp_buf_append(b, "xxxxxxxxKEEP", 12), 0);
	rp_buf_consume(b, 8);
}

static void assert_prefill_intact(const struct rp_buf *b)
{
	assert_int_equal(rp_buf_len(b), 4);
	assert_memory_equal(b->base + b->rd, "KEEP", 4);
	assert_true(b->rd <= b->wr && b->wr <= b->cap && b->cap <= b->max);
}

static struct rp_slice S(const char *s)
{
	return rp_slice_str(s);
}

static void encode_ok(const char *coding, const uint8_t *p, size_t n, struct rp_buf *out)
{
	rp_buf_init(out, 256u << 20);
	int rc = rp_coding_encode(S(coding), rp_slice(p, n), out);
	if (rc)
		fail_msg("encoding %zu bytes with %s: %s", n, coding, rp_err_name(rc));
}

/* Raw deflate (no zlib header), as some servers send for "deflate". */
static void raw_deflate(const uint8_t *p, size_t n, struct rp_buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	size_t bound = deflateBound(&z, n);
	rp_buf_init(out, bound + 16);
	assert_int_equal(rp_buf_reserve(out, bound), 0);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = out->base;
	z.avail_out = (uInt)bound;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	rp_buf_commit(out, bound - z.avail_out);
	deflateEnd(&z);
}

static const char *const single[] = {"gzip", "x-gzip", "deflate", "br", "zstd"};
static const char *const all_codings[] = {
	"identity", "gzip", "x-gzip", "deflate", "br", "zstd", "GZIP", " Br ",
	"gzip, br", "br, zstd, gzip", "deflate, identity, zstd", "zstd,zstd", "",
};

static void test_known(void **state)
{
	static const struct {
		const char *s;
		int known;
	} v[] = {
		{"", 1},
		{"identity", 1},
		{"gzip", 1},
		{"X-GZIP", 1},
		{"deflate", 1},
		{"br", 1},
		{"zstd", 1},
		{"gzip, br", 1},
		{" gzip ,\tbr ", 1},
		{"gzip,", 1},
		{"gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip", 1},
		{"gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip", 0}, /* too many */
		{"gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip, identity", 1},
		{"compress", 0},
		{"gzip, foo", 0},
		{"gzip;q=1", 0},
		{"sdch", 0},
		{"gzipx", 0},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(v); i++)
		if (rp_coding_known(S(v[i].s)) != v[i].known)
			fail_msg("rp_coding_known(\"%s\") != %d", v[i].s, v[i].known);
}

static void test_roundtrip(void **state)
{
	static const size_t sizes[] = {0, 1, 100, 65536 + 7, 1 << 20};
	for (size_t c = 0; c < RP_ARRAY_LEN(all_codings); c++) {
		for (size_t s = 0; s < RP_ARRAY_LEN(sizes); s++) {
			for (int k = RANDOM; k <= ZEROS; k++) {
				uint8_t *in = make_input((enum kind)k, sizes[s]);
				struct rp_buf enc, dec;
				encode_ok(all_codings[c], in, sizes[s], &enc);
				if (k == ZEROS && sizes[s] == (1 << 20) && rp_buf_len(&enc) != sizes[s])
					assert_true(rp_buf_len(&enc) < sizes[s] / 100);
				prefilled(&dec, 64u << 20);
				int rc = rp_coding_decode(S(all_codings[c]), rp_buf_slice(&enc), &dec);
				if (rc)
					fail_msg("%s, %zu bytes, kind %d: %s", all_codings[c], sizes[s], k,
						 rp_err_name(rc));
				assert_int_equal(rp_buf_len(&dec), 4 + sizes[s]);
				assert_memory_equal(dec.base + dec.rd, "KEEP", 4);
				if (sizes[s])
					assert_memory_equal(dec.base + dec.rd + 4, in, sizes[s]);
				rp_buf_dispose(&enc);
				rp_buf_dispose(&dec);
				free(in);
			}
		}
	}
}

static void test_deflate_raw_and_wrapped(void **state)
{
	uint8_t *in = make_input(TEXT, 50000);
	struct rp_buf raw, wrapped, out;
	raw_deflate(in, 50000, &raw);
	encode_ok("deflate", in, 50000, &wrapped);
	assert_int_equal(wrapped.base[0] & 0x0f, 8); /* a zlib header: CM = 8 */
	assert_int_not_equal(raw.base[0], wrapped.base[0]);
	struct rp_buf *v[] = {&raw, &wrapped};
	for (int i = 0; i < 2; i++) {
		prefilled(&out, 1 << 20);
		assert_int_equal(rp_coding_decode(S("deflate"), rp_buf_slice(v[i]), &out), 0);
		assert_int_equal(rp_buf_len(&out), 50004);
		assert_memory_equal(out.base + out.rd + 4, in, 50000);
		rp_buf_dispose(&out);
	}
	rp_buf_dispose(&raw);
	rp_buf_dispose(&wrapped);
	free(in);
}

static void test_gzip_members(void **state)
{
	uint8_t *a = make_input(TEXT, 3000), *b = make_input(RANDOM, 2000);
	struct rp_buf ea, eb, cat, out;
	encode_ok("gzip", a, 3000, &ea);
	encode_ok("gzip", b, 2000, &eb);
	rp_buf_init(&cat, 1 << 20);
	assert_int_equal(rp_buf_append(&cat, ea.base, ea.wr), 0);
	assert_int_equal(rp_buf_append(&cat, eb.base, eb.wr), 0);
	assert_int_equal(rp_buf_append(&cat, ea.base, ea.wr), 0);
	for (int x = 0; x < 2; x++) {
		prefilled(&out, 1 << 20);
		assert_int_equal(rp_coding_decode(S(x ? "x-gzip" : "gzip"), rp_buf_slice(&cat), &out), 0);
		assert_int_equal(rp_buf_len(&out), 4 + 8000);
		assert_memory_equal(out.base + out.rd + 4, a, 3000);
		assert_memory_equal(out.base + out.rd + 4 + 3000, b, 2000);
		assert_memory_equal(out.base + out.rd + 4 + 5000, a, 3000);
		rp_buf_dispose(&out);
	}
	/* a broken second member is an error, not a silent stop */
	cat.base[ea.wr + eb.wr - 5] ^= 0x40; /* inside its ISIZE/CRC trailer */
	prefilled(&out, 1 << 20);
	assert_int_equal(rp_coding_decode(S("gzip"), rp_buf_slice(&cat), &out), RP_E_FORMAT);
	assert_prefill_intact(&out);
	rp_buf_dispose(&out);
	rp_buf_dispose(&ea);
	rp_buf_dispose(&eb);
	rp_buf_dispose(&cat);
	free(a);
	free(b);
}

/* Decoding must fail with RP_E_FORMAT and leave |out| as it was. */
static void expect_format(const char *coding, struct rp_slice in, size_t max)
{
	struct rp_buf out;
	prefilled(&out, max);
	int rc = rp_coding_decode(S(coding), in, &out);
	if (rc != RP_E_FORMAT)
		fail_msg("%s on %zu corrupt bytes: %s", coding, in.n, rp_err_name(rc));
	assert_prefill_intact(&out);
	rp_buf_dispose(&out);
}

static void test_truncated(void **state)
{
	/* big enough that the output buffer must grow (and move) */
	size_t n = 200000;
	uint8_t *in = make_input(TEXT, n);
	for (size_t i = 0; i < n; i += 97)
		in[i] = (uint8_t)rnd(); /* less compressible: longer encodings */
	const char *const cs[] = {"gzip", "deflate", "br", "zstd", "gzip, br"};
	size_t tried = 0;
	for (size_t c = 0; c < RP_ARRAY_LEN(cs); c++) {
		struct rp_buf enc;
		encode_ok(cs[c], in, n, &enc);
		size_t step = enc.wr / 300 + 1;
		for (size_t k = 0; k < enc.wr; k += (k < 64 || enc.wr - k < 64) ? 1 : step) {
			uint8_t *copy = malloc(k ? k : 1); /* exact size: ASan sees overreads */
			assert_non_null(copy);
			memcpy(copy, enc.base, k);
			expect_format(cs[c], rp_slice(copy, k), 1 << 20);
			free(copy);
			tried++;
		}
		rp_buf_dispose(&enc);
	}
	/* a raw deflate stream cut short */
	struct rp_buf raw;
	raw_deflate(in, n, &raw);
	for (size_t k = 0; k < raw.wr; k += raw.wr / 100 + 1)
		expect_format("deflate", rp_slice(raw.base, k), 1 << 20);
	rp_buf_dispose(&raw);
	print_message("%zu truncations refused\n", tried);
	free(in);
}

static void test_corrupt(void **state)
{
	uint8_t *in = make_input(TEXT, 30000);
	struct rp_buf enc;

	/* gzip: CRC and length are checked */
	encode_ok("gzip", in, 30000, &enc);
	enc.base[enc.wr - 6] ^= 1;
	expect_format("gzip", rp_buf_slice(&enc), 1 << 20);
	enc.base[enc.wr - 6] ^= 1;
	enc.base[enc.wr - 2] ^= 1;
	expect_format("gzip", rp_buf_slice(&enc), 1 << 20);
	enc.base[enc.wr - 2] ^= 1;
	enc.base[0] = 0; /* magic */
	expect_format("gzip", rp_buf_slice(&enc), 1 << 20);
	rp_buf_dispose(&enc);

	/* zlib-wrapped deflate: Adler-32 checked (then the raw retry fails too) */
	encode_ok("deflate", in, 30000, &enc);
	enc.base[enc.wr - 1] ^= 0x10;
	expect_format("deflate", rp_buf_slice(&enc), 1 << 20);
	rp_buf_dispose(&enc);

	encode_ok("zstd", in, 30000, &enc);
	enc.base[0] ^= 0xff; /* magic */
	expect_format("zstd", rp_buf_slice(&enc), 1 << 20);
	rp_buf_dispose(&enc);

	/* trailing bytes after a complete brotli or zstd stream */
	const char *const strict[] = {"br", "zstd"};
	for (size_t i = 0; i < 2; i++) {
		encode_ok(strict[i], in, 30000, &enc);
		assert_int_equal(rp_buf_append(&enc, "junk", 4), 0);
		expect_format(strict[i], rp_buf_slice(&enc), 1 << 20);
		rp_buf_dispose(&enc);
	}

	/* garbage that is no stream at all */
	static const uint8_t junk[] = "\xff\xff\xff\xff this is not compressed \x00\x01";
	for (size_t i = 0; i < RP_ARRAY_LEN(single); i++)
		expect_format(single[i], rp_slice(junk, sizeof(junk) - 1), 1 << 20);
	free(in);
}

/* Gzip, like browsers, ignores bytes after the last member that do not
 * start another one. */
static void test_gzip_trailing_bytes(void **state)
{
	struct rp_buf enc, out;
	encode_ok("gzip", (const uint8_t *)"hello", 5, &enc);
	assert_int_equal(rp_buf_append(&enc, "\0\0\0junk", 7), 0);
	prefilled(&out, 1024);
	assert_int_equal(rp_coding_decode(S("gzip"), rp_buf_slice(&enc), &out), 0);
	assert_int_equal(rp_buf_len(&out), 9);
	assert_memory_equal(out.base + out.rd, "KEEPhello", 9);
	rp_buf_dispose(&out);
	rp_buf_dispose(&enc);
}

/* Random damage never crashes; an error leaves the buffer as it was, a
 * success (checksum-free codings may decode damage) stays within the cap. */
static void test_random_corruption(void **state)
{
	uint8_t *in = make_input(TEXT, 20000);
	int ok = 0, bad = 0;
	for (size_t c = 0; c < RP_ARRAY_LEN(single); c++) {
		struct rp_buf enc;
		encode_ok(single[c], in, 20000, &enc);
		for (int i = 0; i < 600; i++) {
			uint8_t *copy = malloc(enc.wr);
			assert_non_null(copy);
			memcpy(copy, enc.base, enc.wr);
			int flips = 1 + (int)(rnd() % 4);
			for (int f = 0; f < flips; f++) {
				size_t at = (size_t)(rnd() % enc.wr);
				copy[at] ^= (uint8_t)(1u << (rnd() % 8));
			}
			struct rp_buf out;
			prefilled(&out, 40000);
			int rc = rp_coding_decode(S(single[c]), rp_slice(copy, enc.wr), &out);
			if (rc == 0) {
				ok++;
				assert_true(rp_buf_len(&out) <= 40000);
			} else {
				if (rc != RP_E_FORMAT && rc != RP_E_LIMIT)
					fail_msg("%s: %s", single[c], rp_err_name(rc));
				assert_prefill_intact(&out);
				bad++;
			}
			rp_buf_dispose(&out);
			free(copy);
		}
		rp_buf_dispose(&enc);
	}
	print_message("corrupt bodies: %d decoded, %d refused\n", ok, bad);
	assert_true(bad > 1000);
	free(in);
}

static void test_unknown(void **state)
{
	static const char *const bad[] = {"compress", "gzip, foo", "gzip;q=0.5",
					  "gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip, gzip"};
	for (size_t i = 0; i < RP_ARRAY_LEN(bad); i++) {
		struct rp_buf out;
		prefilled(&out, 1024);
		assert_int_equal(rp_coding_decode(S(bad[i]), S("data"), &out), RP_E_FORMAT);
		assert_prefill_intact(&out);
		assert_int_equal(rp_coding_encode(S(bad[i]), S("data"), &out), RP_E_FORMAT);
		assert_prefill_intact(&out);
		rp_buf_dispose(&out);
	}
}

/* Output of exactly the cap fits; one byte less does not. */
static void test_exact_cap(void **state)
{
	static const size_t sizes[] = {1, 100, 255, 256, 257, 16384, 16385, 100000};
	const char *const cs[] = {"identity", "gzip", "deflate", "br", "zstd", "br, gzip"};
	for (size_t c = 0; c < RP_ARRAY_LEN(cs); c++) {
		for (size_t s = 0; s < RP_ARRAY_LEN(sizes); s++) {
			for (int k = TEXT; k <= ZEROS; k++) {
				size_t n = sizes[s];
				uint8_t *in = make_input((enum kind)k, n);
				struct rp_buf enc, out;
				encode_ok(cs[c], in, n, &enc);
				prefilled(&out, n + 4);
				int rc = rp_coding_decode(S(cs[c]), rp_buf_slice(&enc), &out);
				if (rc)
					fail_msg("%s: %zu bytes into a cap of exactly that: %s", cs[c], n,
						 rp_err_name(rc));
				assert_int_equal(rp_buf_len(&out), n + 4);
				assert_memory_equal(out.base + out.rd + 4, in, n);
				rp_buf_dispose(&out);
				prefilled(&out, n + 3);
				rc = rp_coding_decode(S(cs[c]), rp_buf_slice(&enc), &out);
				if (rc != RP_E_LIMIT)
					fail_msg("%s: %zu bytes into a cap one short: %s", cs[c], n,
						 rp_err_name(rc));
				assert_prefill_intact(&out);
				rp_buf_dispose(&out);
				rp_buf_dispose(&enc);
				free(in);
			}
		}
	}
}

static double now_s(void)
{
	return (double)rp_mono_ns() / 1e9;
}

/* A small input inflating far past the cap stops at the cap, fast, without
 * the buffer growing past it. */
static void test_bombs(void **state)
{
	size_t n = 24u << 20;
	uint8_t *zeros = calloc(1, n);
	assert_non_null(zeros);
	const char *const cs[] = {"gzip", "x-gzip", "deflate", "br", "zstd", "gzip, br", "zstd, gzip"};
	for (size_t c = 0; c < RP_ARRAY_LEN(cs); c++) {
		struct rp_buf enc, out;
		encode_ok(cs[c], zeros, n, &enc);
		assert_true(enc.wr < n / 100);
		rp_buf_init(&out, 1 << 20);
		double t0 = now_s();
		int rc = rp_coding_decode(S(cs[c]), rp_buf_slice(&enc), &out);
		double dt = now_s() - t0;
		if (rc != RP_E_LIMIT)
			fail_msg("%s bomb (%zu bytes): %s", cs[c], enc.wr, rp_err_name(rc));
		assert_int_equal(rp_buf_len(&out), 0);
		assert_true(out.cap <= out.max);
		print_message("%-11s bomb: %8zu -> %zu bytes, stopped at 1 MiB in %.1f ms\n", cs[c],
			      enc.wr, n, dt * 1e3);
		assert_true(dt < 2.0);
		rp_buf_dispose(&out);
		rp_buf_dispose(&enc);
	}
	/* raw deflate too */
	struct rp_buf raw, out;
	raw_deflate(zeros, n, &raw);
	rp_buf_init(&out, 1 << 20);
	assert_int_equal(rp_coding_decode(S("deflate"), rp_buf_slice(&raw), &out), RP_E_LIMIT);
	assert_true(out.cap <= out.max);
	rp_buf_dispose(&out);
	rp_buf_dispose(&raw);
	free(zeros);
}

/* A zstd frame asking for a window past 8 MiB (RFC 9659 caps it there for
 * HTTP) is refused instead of making the decoder allocate it. */
static void test_zstd_window(void **state)
{
	size_t n = 20u << 20;
	uint8_t *in = make_input(RANDOM, n);
	/* repeat a block at a distance of 16 MiB so that the window is needed */
	memcpy(in + (16u << 20), in, 1u << 20);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	assert_non_null(cc);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 25);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_enableLongDistanceMatching, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
	size_t bound = ZSTD_compressBound(n);
	uint8_t *enc = malloc(bound);
	assert_non_null(enc);
	ZSTD_inBuffer ib = {in, n, 0};
	ZSTD_outBuffer ob = {enc, bound, 0};
	assert_int_equal(ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end), 0);
	ZSTD_freeCCtx(cc);
	expect_format("zstd", rp_slice(enc, ob.pos), 64u << 20);
	free(enc);
	free(in);
}

static void test_encode_limit(void **state)
{
	uint8_t *in = make_input(RANDOM, 10000);
	for (size_t c = 0; c < RP_ARRAY_LEN(all_codings); c++) {
		struct rp_buf out;
		prefilled(&out, 1000);
		assert_int_equal(rp_coding_encode(S(all_codings[c]), rp_slice(in, 10000), &out),
				 RP_E_LIMIT);
		assert_prefill_intact(&out);
		rp_buf_dispose(&out);
	}
	free(in);
}

/* A cap below the buffer's first allocation still holds. */
static void test_small_cap(void **state)
{
	uint8_t *in = make_input(TEXT, 200);
	const char *const cs[] = {"identity", "gzip", "br", "zstd", "deflate"};
	for (size_t c = 0; c < RP_ARRAY_LEN(cs); c++) {
		struct rp_buf enc, out;
		encode_ok(cs[c], in, 200, &enc);
		rp_buf_init(&out, 100);
		int rc = rp_coding_decode(S(cs[c]), rp_buf_slice(&enc), &out);
		if (rc != RP_E_LIMIT)
			fail_msg("%s: 200 bytes decoded into a 100-byte cap: %s, %zu bytes held",
				 cs[c], rp_err_name(rc), rp_buf_len(&out));
		assert_true(out.cap <= out.max);
		rp_buf_dispose(&out);
		rp_buf_dispose(&enc);
	}
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_deflate_raw_and_wrapped),
		cmocka_unit_test(test_gzip_members),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_gzip_trailing_bytes),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_exact_cap),
		cmocka_unit_test(test_bombs),
		cmocka_unit_test(test_zstd_window),
		cmocka_unit_test(test_encode_limit),
		cmocka_unit_test(test_small_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
