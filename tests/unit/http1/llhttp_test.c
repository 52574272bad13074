/*
 * llhttp_test: runs nodejs/llhttp's request and response cases (MIT; see
 * tests/data/http1/README) through our parser.  The cases were converted by
 * tests/data/http1/llhttp2vec.py into tests/data/http1/llhttp.vec.
 *
 * llhttp's default cases run in STRICT mode and must agree with llhttp on
 * the framing: start lines, fields, chunked or Content-Length framing, body
 * bytes, trailers, how many messages complete, and whether the input is an
 * error, a protocol switch or the HTTP/2 preface.  They also run in LENIENT
 * mode, which must accept what llhttp accepts and, where llhttp rejects,
 * either reject too or flag an anomaly.  llhttp's lenient-flag cases run in
 * LENIENT mode only.  Every case is fed whole, byte by byte and in random
 * splits, which must all give the same events.
 *
 * Where we differ from llhttp on purpose, the case is listed in |expect|
 * below with the reason, and the test checks that we do what the list says.
 * Nothing is dropped silently: the summary counts every case.
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

enum x_kind {
	X_SKIP,         /* not run: tests an llhttp-only API */
	X_REJECT,       /* llhttp accepts, we reject on purpose */
	X_ACCEPT,       /* llhttp rejects, we accept on purpose */
	X_REJECT_AT_EOF,/* llhttp rejects before the line ends; we wait for the
	                   line and reject when the stream ends */
	X_REJECT_LATER, /* both reject, but we get further first (message
	                   counts differ) */
	X_STRICT_REJECT,/* STRICT rejects on purpose; LENIENT agrees with
	                   llhttp and flags an anomaly */
};

static const struct expectation {
	const char *id;
	enum x_kind kind;
	const char *why;
} expect[] = {
	{"request/content-length.md:446", X_SKIP,
	 "llhttp-only API: on_headers_complete returning 1 to skip a request body"},

	/* We only speak HTTP/1.0 and 1.1. */
	{"request/sample.md:316", X_REJECT, "HTTP/0.9 request line without a version is not supported"},
	{"request/method.md:374", X_REJECT, "ICE/1.0 is not HTTP"},
	{"request/method.md:404", X_REJECT, "RTSP/1.0 is not HTTP"},
	{"request/method.md:432", X_REJECT, "RTSP/1.0 is not HTTP"},
	{"response/sample.md:42", X_REJECT, "RTSP/1.1 is not HTTP"},
	{"response/sample.md:62", X_REJECT, "ICE/1.1 is not HTTP"},
	{"response/sample.md:647", X_REJECT, "HTTP/0.9 status line is not supported"},
	{"request/lenient-version.md:6", X_REJECT, "HTTP/5.6 is rejected even in LENIENT mode"},
	{"response/lenient-version.md:6", X_REJECT, "HTTP/5.6 is rejected even in LENIENT mode"},

	/* A lone CR never ends a line, not even in LENIENT mode: no server we
	 * record in front of does that, so framing by it would misread. */
	{"request/sample.md:456", X_REJECT, "lone CR as a line end (lenient-optional-lf-after-cr)"},
	{"request/content-length.md:521", X_REJECT, "lone CR as a line end (lenient-optional-lf-after-cr)"},
	{"request/invalid.md:183", X_REJECT_LATER,
	 "lone CR as a line end (lenient-optional-lf-after-cr): we stop at the CR"},
	{"request/transfer-encoding.md:1027", X_REJECT, "lone CR as a line end (lenient-optional-lf-after-cr)"},
	{"response/invalid.md:153", X_REJECT, "lone CR as a line end (lenient-optional-lf-after-cr)"},
	{"request/lenient-headers.md:111", X_REJECT,
	 "LENIENT keeps a lone CR inside the value (flagged), so the chunked body reads as a bad next request"},
	{"request/lenient-header-value-relaxed.md:105", X_REJECT_LATER,
	 "LENIENT keeps a lone CR inside the value, completes the request, then fails on the next one"},
	{"request/transfer-encoding.md:1142", X_REJECT,
	 "chunk data must end with CRLF even in LENIENT mode (lenient-optional-crlf-after-chunk)"},

	/* Methods are extensible tokens (RFC 9110 §9.1); llhttp knows a list. */
	{"request/invalid.md:68", X_ACCEPT, "ANNOUNCE is a valid method token"},
	{"request/invalid.md:358", X_ACCEPT, "MKCOLA is a valid method token"},
	/* http-desync-guardian rates a UTF-8 request target Compliant. */
	{"request/uri.md:150", X_ACCEPT, "obs-text (UTF-8) in the request target is accepted"},
	/* LENIENT accepts a bare LF line end and flags it, as most servers do. */
	{"request/lenient-header-value-relaxed.md:70", X_ACCEPT,
	 "LENIENT accepts a bare LF line end (flagged bare-lf)"},

	/* http-desync-guardian rates a GET with a body Ambiguous. */
	{"request/content-length.md:263", X_STRICT_REJECT, "GET with a body (STRICT: body-in-get)"},
	/* RFC grammar: "0\n\n" is the last chunk and an empty trailer section;
	 * llhttp's lenient mode takes the second LF for the chunk's end. */
	{"request/invalid.md:570", X_REJECT_LATER,
	 "\"0\\n\\n\" ends the message, so the trailer line after it reads as a bad next request"},

	{"request/invalid.md:492", X_REJECT_AT_EOF, "\"GET / HTTP/5.6\" without CRLF: rejected once the line ends"},
};

static const struct expectation *find_expect(const char *id)
{
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (strcmp(expect[i].id, id) == 0)
			return &expect[i];
	return NULL;
}

static int str_eq(const struct h1_str *a, const struct h1_str *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

static int value_eq(const struct h1_str *ours, const struct h1_str *theirs)
{
	if (str_eq(ours, theirs))
		return 1;
	struct h1_str a = {0}, b = {0};
	h1_value_normalise(ours, &a);
	h1_value_normalise(theirs, &b);
	int eq = str_eq(&a, &b);
	h1_str_free(&a);
	h1_str_free(&b);
	return eq;
}

#define MISMATCH(...)                                   \
	do {                                            \
		snprintf(why, whylen, __VA_ARGS__);     \
		return -1;                              \
	} while (0)

static int compare_fields(const char *what, const struct h1_field *a, size_t na, const struct h1_field *b,
			  size_t nb, char *why, size_t whylen)
{
	if (na != nb)
		MISMATCH("%s: %zu fields, llhttp has %zu", what, na, nb);
	for (size_t i = 0; i < na; i++) {
		/* llhttp (lenient) keeps whitespace before the colon in the
		 * name; we drop it, as RFC 9112 §5.1 tells a proxy to. */
		struct h1_str bn = b[i].name;
		while (bn.n && (bn.p[bn.n - 1] == ' ' || bn.p[bn.n - 1] == '\t'))
			bn.n--;
		if (!str_eq(&a[i].name, &bn))
			MISMATCH("%s %zu: name \"%s\", llhttp \"%s\"", what, i, (char *)a[i].name.p, (char *)b[i].name.p);
		if (!value_eq(&a[i].value, &b[i].value))
			MISMATCH("%s %s: value \"%s\", llhttp \"%s\"", what, (char *)a[i].name.p, (char *)a[i].value.p,
				 (char *)b[i].value.p);
	}
	return 0;
}

/* Compares our message |m| with llhttp's |x|. */
static int compare_msg(const struct h1_vector *v, size_t k, const struct h1_message *m, const struct h1_message *x,
		       char *why, size_t whylen)
{
	int req = v->type[2] == 'q';
	if (req) {
		if (x->method.p && !str_eq(&m->method, &x->method))
			MISMATCH("message %zu: method \"%s\", llhttp \"%s\"", k, (char *)m->method.p, (char *)x->method.p);
		if (x->target.p && !str_eq(&m->target, &x->target))
			MISMATCH("message %zu: target \"%s\", llhttp \"%s\"", k, (char *)m->target.p, (char *)x->target.p);
	} else if (x->headers_done) {
		if (m->status != x->status)
			MISMATCH("message %zu: status %u, llhttp %u", k, m->status, x->status);
		struct h1_str empty = {0};
		if (!str_eq(&m->reason, x->reason.p ? &x->reason : &empty))
			MISMATCH("message %zu: reason \"%s\", llhttp \"%s\"", k, (char *)m->reason.p,
				 x->reason.p ? (char *)x->reason.p : "");
	}
	if (x->headers_done) {
		if (!m->headers_done)
			MISMATCH("message %zu: header section not complete, llhttp completed it", k);
		if (m->major != x->major || m->minor != x->minor)
			MISMATCH("message %zu: version %u.%u, llhttp %u.%u", k, m->major, m->minor, x->major, x->minor);
		if (compare_fields("header", m->fields, m->nfields, x->fields, x->nfields, why, whylen) < 0)
			return -1;
		if ((x->msg.flags & RP_H1_F_CHUNKED) && !(m->msg.flags & RP_H1_F_CHUNKED))
			MISMATCH("message %zu: llhttp frames it chunked, we do not", k);
		if (!(x->msg.flags & RP_H1_F_CHUNKED) && (m->msg.flags & RP_H1_F_CHUNKED))
			MISMATCH("message %zu: we frame it chunked, llhttp does not", k);
		if ((x->msg.flags & RP_H1_F_CONTENT_LENGTH) &&
		    (!(m->msg.flags & RP_H1_F_CONTENT_LENGTH) || m->msg.content_length != x->msg.content_length))
			MISMATCH("message %zu: Content-Length %llu, llhttp %llu", k,
				 (unsigned long long)m->msg.content_length, (unsigned long long)x->msg.content_length);
	} else if (m->headers_done) {
		MISMATCH("message %zu: we completed the header section, llhttp did not", k);
	}
	if (!str_eq(&m->body, &x->body))
		MISMATCH("message %zu: body \"%s\" (%zu bytes), llhttp \"%s\" (%zu bytes)", k,
			 m->body.p ? (char *)m->body.p : "", m->body.n, x->body.p ? (char *)x->body.p : "", x->body.n);
	if (x->complete && compare_fields("trailer", m->trailers, m->ntrailers, x->trailers, x->ntrailers, why,
					  whylen) < 0)
		return -1;
	if (m->complete != x->complete)
		MISMATCH("message %zu: %s, llhttp %s", k, m->complete ? "complete" : "incomplete",
			 x->complete ? "complete" : "incomplete");
	return 0;
}

static size_t completed(const struct h1_message *m, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += m[i].complete != 0;
	return c;
}

/* Compares the messages: every message llhttp completed, then the one it
 * was inside when the input ended (if it got to its header section).  When
 * the input is an error, the message it is in is not compared: we may stop
 * at an earlier point of it than llhttp does. */
static int compare_msgs(const struct h1_vector *v, const struct h1_result *r, int error, char *why, size_t whylen)
{
	size_t want = completed(v->msgs, v->nmsgs), got = completed(r->msgs, r->nmsgs);
	if (want != got)
		MISMATCH("%zu messages complete, llhttp %zu", got, want);
	for (size_t k = 0; k < v->nmsgs; k++) {
		const struct h1_message *x = &v->msgs[k];
		if (!x->complete && error)
			continue;
		if (!x->complete && !x->headers_done) {
			if (k < r->nmsgs && r->msgs[k].headers_done)
				MISMATCH("message %zu: we completed the header section, llhttp did not", k);
			continue;
		}
		if (k >= r->nmsgs)
			MISMATCH("message %zu missing", k);
		if (compare_msg(v, k, &r->msgs[k], x, why, whylen) < 0)
			return -1;
	}
	return 0;
}

/* Does our result |r| agree with llhttp's expectation in |v|? */
static int agree(const struct h1_vector *v, const struct h1_result *r, char *why, size_t whylen)
{
	if (strcmp(v->end, "error") == 0 || strcmp(v->end, "h2preface") == 0) {
		if (r->end != H1_END_ERROR)
			MISMATCH("llhttp rejects (%s), we accept", v->end_why);
		if (strcmp(v->end, "h2preface") == 0 && !r->err.h2_preface)
			MISMATCH("llhttp sees the HTTP/2 preface, our error is \"%s\"", r->err.why);
		return compare_msgs(v, r, 1, why, whylen);
	}
	if (r->end != H1_END_OK && strcmp(v->end, "finish_error") != 0)
		MISMATCH("we reject (%s at offset %llu, state %s), llhttp accepts", r->err.why,
			 (unsigned long long)r->err.offset, rp_h1_state_name(r->err.state));
	if (strcmp(v->end, "finish_error") == 0 && r->end != H1_END_FINISH_ERROR)
		MISMATCH("llhttp_finish reports a truncated message, we do not");
	if (strcmp(v->end, "tunnel") == 0 && !r->paused && !r->tunnel)
		MISMATCH("llhttp switches protocols, we do not");
	if (strcmp(v->end, "tunnel") != 0 && (r->paused || r->tunnel))
		MISMATCH("we switch protocols, llhttp does not");
	return compare_msgs(v, r, strcmp(v->end, "finish_error") == 0, why, whylen);
}

static void setup_run(const struct h1_vector *v, enum rp_h1_mode mode, struct h1_run *run)
{
	memset(run, 0, sizeof(*run));
	run->kind = strncmp(v->type, "request", 7) == 0 ? RP_H1_REQUEST : RP_H1_RESPONSE;
	rp_h1_options_init(&run->opt);
	run->opt.mode = mode;
	run->method = v->head ? RP_H1_M_HEAD : RP_H1_M_OTHER;
	run->finish = v->finish;
	run->tunnel = 1;
}

struct tally {
	size_t cases, pass_strict, pass_lenient, lenient_flagged, skipped, deliberate, failed;
};

static void run_case(const struct h1_vector *v, struct tally *t)
{
	const struct expectation *x = find_expect(v->id);
	int lenient_type = strstr(v->type, "lenient") != NULL;
	char why[8192];
	struct h1_result r;
	struct h1_run run;

	t->cases++;
	if (x && x->kind == X_SKIP) {
		t->skipped++;
		printf("skip %s (%s): %s\n", v->id, v->name, x->why);
		return;
	}
	setup_run(v, lenient_type ? RP_H1_LENIENT : RP_H1_STRICT, &run);
	if (x && x->kind == X_REJECT_AT_EOF)
		run.finish = 1;

	if (h1_drive_all(&run, v->input.p, v->input.n, 4, &r, why, sizeof(why)) < 0) {
		printf("FAIL %s (%s): %s\n", v->id, v->name, why);
		t->failed++;
		h1_result_free(&r);
		return;
	}

	int ok;
	if (x) {
		switch (x->kind) {
		case X_REJECT:
		case X_REJECT_LATER:
		case X_STRICT_REJECT:
			ok = r.end == H1_END_ERROR;
			snprintf(why, sizeof(why), "listed as rejected (%s) but we accept", x->why);
			break;
		case X_ACCEPT:
			ok = r.end == H1_END_OK;
			snprintf(why, sizeof(why), "listed as accepted (%s) but we reject: %s", x->why, r.err.why);
			break;
		case X_REJECT_AT_EOF:
			ok = r.end == H1_END_FINISH_ERROR && r.nmsgs == 0;
			snprintf(why, sizeof(why), "listed as rejected at end of stream (%s)", x->why);
			break;
		default:
			ok = 0;
			break;
		}
		if (ok) {
			t->deliberate++;
			printf("differs %s (%s): %s\n", v->id, v->name, x->why);
		}
	} else {
		ok = agree(v, &r, why, sizeof(why)) == 0;
		if (ok)
			t->pass_strict++;
	}
	if (!ok) {
		printf("FAIL %s (%s) [%s]: %s\n--- our events\n%s", v->id, v->name,
		       lenient_type ? "lenient" : "strict", why, (char *)r.log.p);
		t->failed++;
	}
	h1_result_free(&r);

	/* A default case once more in LENIENT mode: accept what llhttp
	 * accepts; where llhttp rejects, reject or flag. */
	if (lenient_type || (x && x->kind != X_STRICT_REJECT))
		return;
	setup_run(v, RP_H1_LENIENT, &run);
	/* where llhttp rejects a line that never ends, so must we at EOF */
	if (strcmp(v->end, "error") == 0)
		run.finish = 1;
	if (h1_drive_all(&run, v->input.p, v->input.n, 2, &r, why, sizeof(why)) < 0) {
		printf("FAIL %s (%s) [lenient]: %s\n", v->id, v->name, why);
		t->failed++;
		h1_result_free(&r);
		return;
	}
	if (strcmp(v->end, "error") == 0) {
		ok = r.end != H1_END_OK || r.anomalies != 0;
		snprintf(why, sizeof(why), "llhttp rejects (%s); LENIENT neither rejects nor flags", v->end_why);
		if (ok && r.end != H1_END_ERROR)
			t->lenient_flagged++;
	} else {
		ok = agree(v, &r, why, sizeof(why)) == 0;
		if (ok && x && x->kind == X_STRICT_REJECT && !r.anomalies) {
			ok = 0;
			snprintf(why, sizeof(why), "STRICT rejects it, yet LENIENT flags nothing");
		}
	}
	if (ok) {
		t->pass_lenient++;
	} else {
		printf("FAIL %s (%s) [lenient]: %s\n--- our events\n%s", v->id, v->name, why, (char *)r.log.p);
		t->failed++;
	}
	h1_result_free(&r);
}

static void test_llhttp_corpus(void **state)
{
	(void)state;
	struct h1_vector *v;
	size_t n;
	assert_int_equal(h1_vectors_load(RP_SRCDIR "/tests/data/http1/llhttp.vec", &v, &n), 0);
	assert_true(n > 200);

	struct tally t = {0};
	for (size_t i = 0; i < n; i++)
		run_case(&v[i], &t);

	/* every entry of the expectation table must name a real case */
	for (size_t e = 0; e < sizeof(expect) / sizeof(expect[0]); e++) {
		int found = 0;
		for (size_t i = 0; i < n && !found; i++)
			found = strcmp(v[i].id, expect[e].id) == 0;
		if (!found) {
			printf("FAIL expectation for unknown case %s\n", expect[e].id);
			t.failed++;
		}
	}

	printf("llhttp corpus: %zu cases: %zu agree with llhttp, %zu differ on purpose, %zu skipped, "
	       "%zu failed; LENIENT re-run of default cases: %zu pass (%zu of them accepted with an anomaly "
	       "where llhttp rejects)\n",
	       t.cases, t.pass_strict, t.deliberate, t.skipped, t.failed, t.pass_lenient, t.lenient_flagged);
	h1_vectors_free(v, n);
	assert_int_equal(t.failed, 0);
	assert_int_equal(t.cases, t.pass_strict + t.deliberate + t.skipped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_llhttp_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
