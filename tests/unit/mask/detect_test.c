/*
 * detect_test: every detector against the table of positives and
 * near-misses in tests/data/mask/detectors.tsv (valid and invalid Luhn, SSN
 * issuing rules, IBAN checksums, plus-addressed and internationalised
 * emails, phone forms, address classes), plus the checksum helpers and the
 * detector-name parser.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../../src/mask/mask-int.h"

static void vectors(void **state)
{
	(void)state;
	const char *path = RP_SRCDIR "/tests/data/mask/detectors.tsv";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[2048];
	unsigned n = 0, bad = 0, per[RP_MASK_DETECTOR_COUNT][2] = {{0}};
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!len || line[0] == '#')
			continue;
		char *det = strtok(line, "\t"), *fl = strtok(NULL, "\t"), *in = strtok(NULL, "\t"),
		     *want = strtok(NULL, "\t");
		assert_non_null(want);
		enum rp_mask_detector d;
		assert_int_equal(rp_mask_detector_parse(rp_slice_str(det), &d), 0);
		unsigned flags = strcmp(fl, "syntax") == 0  ? RP_MASK_DETECT_SYNTAX
				 : strcmp(fl, "audit") == 0 ? RP_MASK_DETECT_AUDIT
							    : 0;
		size_t s = 0, e = 0;
		int hit = rp_mask_detect(d, rp_slice_str(in), 0, flags, &s, &e);
		char got[1024] = "-";
		if (hit)
			snprintf(got, sizeof(got), "%.*s", (int)(e - s), in + s);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "%s [%s] '%s': want '%s', got '%s'\n", det, fl, in, want, got);
			bad++;
		}
		per[d][strcmp(want, "-") != 0]++;
		n++;
	}
	fclose(f);
	fprintf(stderr, "%u detector vectors\n", n);
	assert_int_equal(bad, 0);
	for (int d = 0; d < RP_MASK_DETECTOR_COUNT; d++) {
		/* every detector has positives and near-misses */
		assert_true(per[d][0] > 0);
		assert_true(per[d][1] > 0);
	}
}

static void all_matches(void **state)
{
	(void)state;
	const char *t = "a@x.io, b@y.io and 4111111111111111 c@z.io";
	size_t from = 0, s, e, k = 0;
	while (rp_mask_detect(RP_MASK_EMAIL, rp_slice_str(t), from, 0, &s, &e)) {
		k++;
		from = e;
	}
	assert_int_equal(k, 3);
	assert_true(rp_mask_detect_whole(RP_MASK_CARD, rp_slice_str("4111111111111111"), 0));
	assert_false(rp_mask_detect_whole(RP_MASK_CARD, rp_slice_str("x 4111111111111111"), 0));
	assert_false(rp_mask_detect(RP_MASK_EMAIL, rp_slice_str(""), 0, 0, &s, &e));
	assert_false(rp_mask_detect(RP_MASK_EMAIL, rp_slice_str("a@x.io"), 7, 0, &s, &e));
}

static void checksums(void **state)
{
	(void)state;
	assert_true(rp_mask_luhn_ok((const uint8_t *)"79927398713", 11));
	assert_false(rp_mask_luhn_ok((const uint8_t *)"79927398710", 11));
	assert_int_equal(rp_mask_luhn_digit((const uint8_t *)"7992739871", 10), 3);
	assert_int_equal(rp_mask_iban_mod97(rp_slice_str("GB82 WEST 1234 5698 7654 32")), 1);
	assert_int_not_equal(rp_mask_iban_mod97(rp_slice_str("GB83WEST12345698765432")), 1);
}

static void names(void **state)
{
	(void)state;
	uint32_t bits;
	size_t bad = 0;
	assert_int_equal(rp_mask_detectors_parse(rp_slice_str("email,card"), &bits, &bad), 0);
	assert_int_equal(bits, 1u << RP_MASK_EMAIL | 1u << RP_MASK_CARD);
	assert_int_equal(rp_mask_detectors_parse(rp_slice_str("all"), &bits, &bad), 0);
	assert_int_equal(bits, RP_MASK_ALL_DETECTORS);
	assert_int_equal(rp_mask_detectors_parse(rp_slice_str("ip"), &bits, &bad), 0);
	assert_int_equal(bits, 1u << RP_MASK_IPV4 | 1u << RP_MASK_IPV6);
	assert_int_equal(rp_mask_detectors_parse(rp_slice_str("email,crad"), &bits, &bad),
			 RP_E_USAGE);
	assert_int_equal(bad, 6);
	for (int d = 0; d < RP_MASK_DETECTOR_COUNT; d++) {
		enum rp_mask_detector back;
		assert_int_equal(rp_mask_detector_parse(
					 rp_slice_str(rp_mask_detector_name((enum rp_mask_detector)d)), &back),
				 0);
		assert_int_equal((int)back, d);
	}
}

/* Long runs of near-candidates must stay linear, not quadratic.  A quadratic
 * scan of 1 MiB is ~10^12 steps (many minutes); a linear one takes well under
 * a second, or a few under ASan on a loaded machine.  The bound sits between
 * the two so that this is a complexity check, never a speed test. */
static void pathological(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	char *t = malloc(n + 1);
	const char *fills[] = {"@", "1", "1-", "a.", ":", "+1", "eyJ", "Bearer ", "AKIA", "GB82"};
	for (size_t f = 0; f < RP_ARRAY_LEN(fills); f++) {
		size_t k = strlen(fills[f]);
		for (size_t i = 0; i < n; i++)
			t[i] = fills[f][i % k];
		t[n] = '\0';
		int64_t t0 = rp_mono_ns();
		for (int d = 0; d < RP_MASK_DETECTOR_COUNT; d++) {
			size_t from = 0, s, e;
			while (rp_mask_detect((enum rp_mask_detector)d, rp_slice(t, n), from, 0, &s, &e))
				from = e;
		}
		int64_t ms = (rp_mono_ns() - t0) / 1000000;
		if (ms > 60000)
			fprintf(stderr, "fill '%s': %lld ms\n", fills[f], (long long)ms);
		if (ms > 60000)
			free(t);
		assert_true(ms <= 60000);
	}
	free(t);
}

/* ---- rp_mask_detect_each against one loop per detector -------------------------- */

struct found_list {
	size_t n, s[512], e[512];
	int d[512];
};

static void record_found(void *ctx, enum rp_mask_detector d, size_t s, size_t e)
{
	struct found_list *l = ctx;
	assert_true(l->n < RP_ARRAY_LEN(l->s));
	l->d[l->n] = (int)d;
	l->s[l->n] = s;
	l->e[l->n] = e;
	l->n++;
}

/* Pieces random texts are made of: valid values of every detector, their
 * near-misses, separators, words with digits, and bytes of every class. */
static const char *const pieces[] = {
	"4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "5555555555554444",
	"378282246310005", "4111 1111 1111 1112", "123-45-6789", "123 45 6789", "666-12-3456",
	"078-05-1120", "+44 20 7946 0958", "+1 212 555 0143", "(212) 555-0143", "212.555.0143",
	"1-212-555-0143", "020 7946 0958", "+33 1 23 45 67 89", "81.2.69.160", "10.0.0.1",
	"8.8.8.8", "192.168.1.1", "1.2.3.4.5", "2001:4860:4860::8888", "2001:db8::1", "::1",
	"GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "ada@example.com",
	"user+tag@mail.example.org", "jo@bücher.de", "x@y", "@", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
	"Bearer abcdefghijklmnop", "bearer  0123456789abcdef", "AKIAIOSFODNN7EXAMPLE", "ASIAXXXXXXXXXXXXXXXX",
	"2026-11-22T10:05:05Z", "v4.2.1", "3.14159", "1,234.56", "SKU-00012", "a1b2c3d4", "12345678",
	" ", " ", "  ", "-", ".", "(", ")", "+", "/", ":", ",", "_", "x", "A", "0", "7", "9", "\n",
	"\xc3\xa9", "\xe2\x80\x94", "\xff", "1", "12", "123", "1234", " 555 ", "0043", "(0)",
};

static size_t random_text(char *buf, size_t cap, unsigned *seed)
{
	size_t n = 0;
	size_t want = (size_t)(rand_r(seed) % 320);
	while (n < want) {
		const char *p;
		char one[2] = {0, 0};
		if (rand_r(seed) % 3 == 0) {
			one[0] = (char)(rand_r(seed) % 3 ? "0123456789 -.()+abcdefAZ@:"[rand_r(seed) % 26]
						       : (char)(1 + rand_r(seed) % 255));
			p = one;
		} else {
			p = pieces[rand_r(seed) % RP_ARRAY_LEN(pieces)];
		}
		size_t k = strlen(p);
		if (n + k >= cap)
			break;
		memcpy(buf + n, p, k);
		n += k;
	}
	return n;
}

static void each_equals_loops(void **state)
{
	(void)state;
	static char buf[4096];
	static struct found_list got, want;
	unsigned seed = 20261123;
	size_t texts = 0, matches = 0;
	for (int round = 0; round < 40000; round++) {
		size_t n = random_text(buf, sizeof(buf), &seed);
		struct rp_slice t = rp_slice(buf, n);
		uint32_t dets = round % 4 ? RP_MASK_ALL_DETECTORS
					  : (uint32_t)rand_r(&seed) & RP_MASK_ALL_DETECTORS;
		unsigned flags = round % 5 == 0 ? RP_MASK_DETECT_SYNTAX : 0;
		got.n = want.n = 0;
		rp_mask_detect_each(t, dets, flags, record_found, &got);
		for (int d = 0; d < RP_MASK_DETECTOR_COUNT; d++) {
			if (!(dets & (1u << d)))
				continue;
			size_t from = 0, s, e;
			while (from < n && rp_mask_detect((enum rp_mask_detector)d, t, from, flags, &s, &e)) {
				record_found(&want, (enum rp_mask_detector)d, s, e);
				from = e > s ? e : s + 1;
			}
		}
		/* the same matches, detector by detector, in the same order */
		int same = got.n == want.n;
		for (int d = 0; same && d < RP_MASK_DETECTOR_COUNT; d++) {
			size_t i = 0, j = 0;
			for (;;) {
				while (i < got.n && got.d[i] != d)
					i++;
				while (j < want.n && want.d[j] != d)
					j++;
				if (i == got.n || j == want.n) {
					same = i == got.n && j == want.n;
					break;
				}
				if (got.s[i] != want.s[j] || got.e[i] != want.e[j]) {
					same = 0;
					break;
				}
				i++;
				j++;
			}
		}
		if (!same) {
			fprintf(stderr, "detectors %#x flags %u on '%.*s': %zu matches, loops %zu\n", dets,
				flags, (int)n, buf, got.n, want.n);
			for (size_t i = 0; i < want.n; i++)
				fprintf(stderr, "  want %s %zu-%zu\n",
					rp_mask_detector_name((enum rp_mask_detector)want.d[i]), want.s[i],
					want.e[i]);
			for (size_t i = 0; i < got.n; i++)
				fprintf(stderr, "  got  %s %zu-%zu\n",
					rp_mask_detector_name((enum rp_mask_detector)got.d[i]), got.s[i],
					got.e[i]);
		}
		assert_true(same);
		texts++;
		matches += want.n;
	}
	fprintf(stderr, "%zu random texts, %zu matches: one pass finds what the loops find\n", texts,
		matches);
	assert_true(matches > texts); /* the texts do hold values */
	/* long clusters across 64-byte blocks: digits and spaces for 1 KB, a card
	 * at every offset of a block */
	for (size_t off = 0; off < 130; off++) {
		memset(buf, ' ', off);
		memcpy(buf + off, "4111 1111 1111 1111 x", 21);
		got.n = 0;
		rp_mask_detect_each(rp_slice(buf, off + 21), RP_MASK_ALL_DETECTORS, 0, record_found, &got);
		assert_int_equal(got.n, 1);
		assert_int_equal(got.d[0], RP_MASK_CARD);
		assert_int_equal(got.s[0], off);
		assert_int_equal(got.e[0], off + 19);
	}
}

/* The prefilter one byte at a time, as it was before it was vectorised: the
 * reference rp_mask_possible must agree with on every text. */
static uint32_t possible_scalar(struct rp_slice v)
{
	rp_mask_facts_init();
	struct rp_mask_facts f = {0};
	for (size_t i = 0; i < v.n; i++) {
		uint16_t k = rp_mask_fact_class[v.p[i]];
		if (k)
			rp_mask_facts_add(&f, k, v.p, i, v.n);
	}
	return rp_mask_facts_bits(&f, v.n);
}

/* rp_mask_possible (16 bytes at a time, then the tail) equals the scalar
 * pass on random texts dense in the bytes it counts, at every length and
 * alignment, with the counts near each detector's threshold. */
static void prefilter_equals_scalar(void **state)
{
	(void)state;
	static const char alphabet[] = "0123456789....::@@AABBbbeyJJ xyz\\\"-";
	uint8_t buf[600];
	unsigned seed = 0x70726566u;
	size_t differ = 0, nonzero = 0;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)((size_t)rand_r(&seed) % (round < 10000 ? 70 : sizeof(buf) - 8));
		size_t off = (size_t)((size_t)rand_r(&seed) % 8);
		for (size_t i = 0; i < n; i++)
			buf[off + i] = (uint8_t)alphabet[(size_t)rand_r(&seed) % (sizeof(alphabet) - 1)];
		if (n >= 3 && (size_t)rand_r(&seed) % 4 == 0)
			memcpy(buf + off + (size_t)rand_r(&seed) % (n - 2), "eyJ", 3);
		struct rp_slice v = rp_slice(buf + off, n);
		uint32_t want = possible_scalar(v), got = rp_mask_possible(v);
		if (want != got) {
			fprintf(stderr, "'%.*s': scalar %#x, vector %#x\n", (int)n, (const char *)v.p,
				want, got);
			differ++;
		}
		nonzero += want != 0;
	}
	assert_int_equal(differ, 0);
	assert_true(nonzero > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),   cmocka_unit_test(all_matches),
		cmocka_unit_test(checksums), cmocka_unit_test(names),
		cmocka_unit_test(pathological), cmocka_unit_test(each_equals_loops),
		cmocka_unit_test(prefilter_equals_scalar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
