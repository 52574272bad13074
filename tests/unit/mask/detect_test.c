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

/* Long runs of near-candidates must stay linear, not quadratic. */
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
		if (ms > 3000)
			fprintf(stderr, "fill '%s': %lld ms\n", fills[f], (long long)ms);
		assert_true(ms < 3000);
	}
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),   cmocka_unit_test(all_matches),
		cmocka_unit_test(checksums), cmocka_unit_test(names),
		cmocka_unit_test(pathological),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
