/*
 * desync_test: runs aws/http-desync-guardian's request-smuggling cases
 * (Apache-2.0; see tests/data/http1/README), converted by
 * tests/data/http1/desync2vec.py into tests/data/http1/desync.vec.
 *
 * Each case is a request head with a verdict.  STRICT mode (the proxy) must
 * reject every Ambiguous and Severe request and accept every Compliant one;
 * an Acceptable one may go either way and the summary says which.  LENIENT
 * mode (the sniffer) must accept every Compliant request without flagging
 * anything, and must reject or flag every Ambiguous and Severe one.  Each
 * case is fed whole, byte by byte and in random splits.  Deliberate
 * exceptions are listed in |expect| with the reason.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h1_driver.h"

static const struct expectation {
	const char *id;
	const char *why;
} expect_reject[] = {
	/* The guardian judges parsed parts; on the wire an empty target is
	 * "GET  HTTP/1.1", which no HTTP/1 grammar accepts. */
	{"rfc-compliant.yaml:180", "an empty request target cannot be written in a request line"},
};

static const char *find_expect(const char *id)
{
	for (size_t i = 0; i < sizeof(expect_reject) / sizeof(expect_reject[0]); i++)
		if (strcmp(expect_reject[i].id, id) == 0)
			return expect_reject[i].why;
	return NULL;
}

/* The anomalies that name each of the guardian's reasons.  In LENIENT
 * mode an Ambiguous or Severe request that is accepted must carry one of
 * them, so that an unrelated anomaly found first cannot hide a miss.
 * Reasons about the request line are hard errors: no bit. */
static const struct {
	const char *reason;
	uint32_t bits;
} reason_bits[] = {
	{"BothTeClPresent", RP_H1_A_CL_AND_TE},
	{"UndefinedContentLengthSemantics", RP_H1_A_BODY_IN_GET},
	{"UndefinedTransferEncodingSemantics", RP_H1_A_BODY_IN_GET | RP_H1_A_TE_HTTP10},
	{"DuplicateContentLength", RP_H1_A_CL_DUP},
	{"MultipleContentLength", RP_H1_A_CL_CONFLICT},
	{"BadContentLength", RP_H1_A_CL_INVALID | RP_H1_A_CL_DUP},
	{"MultipleTransferEncodingChunked", RP_H1_A_TE_CHUNKED_TWICE},
	{"BadTransferEncoding", RP_H1_A_TE_INVALID | RP_H1_A_TE_NOT_CHUNKED},
	{"SuspiciousHeader", RP_H1_A_SUSPICIOUS_NAME | RP_H1_A_WS_BEFORE_COLON | RP_H1_A_NAME_CHAR},
	{"EmptyHeader", RP_H1_A_NAME_CHAR},
	{"BadHeader", RP_H1_A_VALUE_CHAR | RP_H1_A_NAME_CHAR | RP_H1_A_BARE_LF | RP_H1_A_OBS_FOLD},
	{"AmbiguousUri", 0},
	{"BadUri", 0},
	{"BadVersion", 0},
	{"BadMethod", 0},
};

/* Returns the bits for |reason|, or -1 when the reason is unknown. */
static int64_t bits_for(const char *reason)
{
	for (size_t i = 0; i < sizeof(reason_bits) / sizeof(reason_bits[0]); i++)
		if (strcmp(reason_bits[i].reason, reason) == 0)
			return reason_bits[i].bits;
	return -1;
}

/* The request head was accepted: its header section completed, no error. */
static int accepted(const struct h1_result *r)
{
	return r->end == H1_END_OK && r->nmsgs == 1 && r->msgs[0].headers_done;
}

static uint32_t head_anomalies(const struct h1_result *r)
{
	return r->anomalies | (r->nmsgs ? r->msgs[0].msg.anomalies : 0);
}

struct tally {
	size_t cases, failed, deliberate;
	size_t rejected[4], accepted[4], flagged[4]; /* by tier, STRICT */
	size_t lenient_ok;
};

enum tier { T_COMPLIANT, T_ACCEPTABLE, T_AMBIGUOUS, T_SEVERE, T_UNKNOWN };

static enum tier tier_of(const char *s)
{
	if (strcmp(s, "Compliant") == 0)
		return T_COMPLIANT;
	if (strcmp(s, "Acceptable") == 0)
		return T_ACCEPTABLE;
	if (strcmp(s, "Ambiguous") == 0)
		return T_AMBIGUOUS;
	if (strcmp(s, "Severe") == 0)
		return T_SEVERE;
	return T_UNKNOWN;
}

static void run_case(const struct h1_vector *v, struct tally *t)
{
	enum tier tier = tier_of(v->type);
	const char *deliberate = find_expect(v->id);
	struct h1_run run;
	struct h1_result r;
	char why[8192], an[512];

	t->cases++;
	if (tier == T_UNKNOWN) {
		printf("FAIL %s: unknown tier %s\n", v->id, v->type);
		t->failed++;
		return;
	}

	memset(&run, 0, sizeof(run));
	run.kind = RP_H1_REQUEST;
	rp_h1_options_init(&run.opt);
	if (h1_drive_all(&run, v->input.p, v->input.n, 4, &r, why, sizeof(why)) < 0) {
		printf("FAIL %s (%s): %s\n", v->id, v->name, why);
		t->failed++;
		h1_result_free(&r);
		return;
	}
	int acc = accepted(&r), ok;
	uint32_t anom = head_anomalies(&r);
	if (acc)
		t->accepted[tier]++;
	else
		t->rejected[tier]++;
	if (acc && anom)
		t->flagged[tier]++;
	if (deliberate) {
		ok = !acc;
		if (ok) {
			t->deliberate++;
			printf("differs %s (%s, %s): rejected: %s\n", v->id, v->name, v->type, deliberate);
		}
	} else {
		ok = tier == T_ACCEPTABLE || acc == (tier == T_COMPLIANT);
	}
	if (tier == T_ACCEPTABLE)
		printf("acceptable %s (%s): STRICT %s%s%s\n", v->id, v->name, acc ? "accepts" : "rejects: ",
		       acc ? "" : r.err.why, acc && anom ? " with anomalies" : "");
	if (!ok) {
		printf("FAIL %s (%s) [strict]: verdict %s/%s, we %s (%s)\n--- our events\n%s", v->id, v->name,
		       v->type, v->reason, acc ? "accept" : "reject", acc ? "" : r.err.why, (char *)r.log.p);
		t->failed++;
	}
	h1_result_free(&r);

	run.opt.mode = RP_H1_LENIENT;
	if (h1_drive_all(&run, v->input.p, v->input.n, 2, &r, why, sizeof(why)) < 0) {
		printf("FAIL %s (%s) [lenient]: %s\n", v->id, v->name, why);
		t->failed++;
		h1_result_free(&r);
		return;
	}
	acc = accepted(&r);
	anom = head_anomalies(&r);
	if (deliberate || tier == T_ACCEPTABLE)
		ok = 1;
	else if (tier == T_COMPLIANT)
		ok = acc && !anom;
	else {
		int64_t want = bits_for(v->reason);
		ok = want >= 0 && (!acc || (anom & (uint32_t)want));
	}
	if (ok) {
		t->lenient_ok++;
	} else {
		printf("FAIL %s (%s) [lenient]: verdict %s/%s, we %s, anomalies %s (a reason we do not map "
		       "is a failure too)\n--- our events\n%s", v->id,
		       v->name, v->type, v->reason, acc ? "accept" : "reject",
		       rp_h1_anomalies_format(anom, an, sizeof(an)), (char *)r.log.p);
		t->failed++;
	}
	h1_result_free(&r);
}

static void test_desync_corpus(void **state)
{
	(void)state;
	struct h1_vector *v;
	size_t n;
	assert_int_equal(h1_vectors_load(RP_SRCDIR "/tests/data/http1/desync.vec", &v, &n), 0);
	assert_true(n > 100);

	struct tally t = {0};
	for (size_t i = 0; i < n; i++)
		run_case(&v[i], &t);
	for (size_t e = 0; e < sizeof(expect_reject) / sizeof(expect_reject[0]); e++) {
		int found = 0;
		for (size_t i = 0; i < n && !found; i++)
			found = strcmp(v[i].id, expect_reject[e].id) == 0;
		if (!found) {
			printf("FAIL expectation for unknown case %s\n", expect_reject[e].id);
			t.failed++;
		}
	}
	printf("desync corpus: %zu cases, %zu failed, %zu deliberate exceptions.\n"
	       "  STRICT: Compliant %zu accepted / %zu rejected; Acceptable %zu accepted (%zu flagged) / %zu "
	       "rejected; Ambiguous %zu rejected / %zu accepted; Severe %zu rejected / %zu accepted\n"
	       "  LENIENT: %zu cases as required (Compliant unflagged; Ambiguous/Severe rejected, or flagged "
	       "with the anomaly of their reason)\n",
	       t.cases, t.failed, t.deliberate, t.accepted[T_COMPLIANT], t.rejected[T_COMPLIANT],
	       t.accepted[T_ACCEPTABLE], t.flagged[T_ACCEPTABLE], t.rejected[T_ACCEPTABLE],
	       t.rejected[T_AMBIGUOUS], t.accepted[T_AMBIGUOUS], t.rejected[T_SEVERE], t.accepted[T_SEVERE],
	       t.lenient_ok);
	h1_vectors_free(v, n);
	assert_int_equal(t.failed, 0);
	assert_int_equal(t.accepted[T_AMBIGUOUS] + t.accepted[T_SEVERE], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_desync_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
