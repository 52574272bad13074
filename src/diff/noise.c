/*
 * noise: the rule files of reprise-noise(5), parsed into the rule list the
 * diff consults.  Pure apart from reading the file.  A file is read whole
 * (capped at RP_LIMIT_NOISE_FILE) and parsed line by line; the first error
 * stops the parse and is reported as "FILE:LINE:COLUMN: what", columns
 * counted in bytes from 1.  Also holds the default list of headers a diff
 * skips, and the lookup that combines defaults with rules.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "diff-int.h"

struct lp {
	const char *file;
	unsigned line;
	const char *s; /* the line */
	size_t n, pos;
	char *err;
	size_t errlen;
};

static int fail(struct lp *p, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct lp *p, size_t col, const char *fmt, ...)
{
	if (p->err && p->errlen) {
		int k = snprintf(p->err, p->errlen, "%s:%u:%zu: ", p->file, p->line, col + 1);
		if (k >= 0 && (size_t)k < p->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
			va_end(ap);
		}
	}
	return RP_E_FORMAT;
}

static void skip_ws(struct lp *p)
{
	while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
		p->pos++;
}

/* Next whitespace-delimited word; quotes inside brackets keep spaces. */
static struct rp_slice word(struct lp *p)
{
	skip_ws(p);
	size_t b = p->pos;
	char q = 0;
	while (p->pos < p->n) {
		char c = p->s[p->pos];
		if (q) {
			if (c == '\\' && p->pos + 1 < p->n)
				p->pos++;
			else if (c == q)
				q = 0;
		} else if (c == '\'' || c == '"') {
			q = c;
		} else if (c == ' ' || c == '\t') {
			break;
		}
		p->pos++;
	}
	return rp_slice(p->s + b, p->pos - b);
}

static int is_word(struct rp_slice w, const char *lit)
{
	return rp_slice_eq(w, rp_slice_str(lit));
}

/* Nothing but an optional "# comment" may follow a rule. */
static int expect_end(struct lp *p)
{
	skip_ws(p);
	if (p->pos < p->n && p->s[p->pos] != '#') {
		size_t b = p->pos;
		struct rp_slice w = word(p);
		return fail(p, b, "unexpected '%.*s' after the rule", (int)RP_MIN(w.n, 40),
			    (const char *)w.p);
	}
	return 0;
}

static int tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int parse_header(struct lp *p, struct noise_rule *r)
{
	size_t b = (skip_ws(p), p->pos);
	struct rp_slice w = word(p);
	if (w.n == 0)
		return fail(p, b, "expected a header name");
	for (size_t i = 0; i < w.n; i++) {
		int c = w.p[i];
		if (!tchar(c) || (c == '*' && i + 1 != w.n))
			return fail(p, b + i, "'%c' cannot appear in a header name%s", c,
				    c == '*' ? " ('*' only at the end)" : "");
	}
	r->name_prefix = w.p[w.n - 1] == '*';
	r->name_n = w.n - (size_t)r->name_prefix;
	r->name = rp_xmalloc(r->name_n + 1);
	for (size_t i = 0; i < r->name_n; i++) {
		char c = (char)w.p[i];
		r->name[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	r->name[r->name_n] = 0;
	return expect_end(p);
}

static int parse_path(struct lp *p, struct noise_rule *r)
{
	size_t b = (skip_ws(p), p->pos);
	struct rp_slice w = word(p);
	if (w.n == 0)
		return fail(p, b, "expected a JSON path such as $.items[*].id");
	size_t at = 0;
	const char *why = NULL;
	if (rp_jpath_parse((const char *)w.p, w.n, &r->path, &at, &why))
		return fail(p, b + at, "bad JSON path: %s", why);
	return 0;
}

static int parse_number(struct lp *p, struct noise_rule *r)
{
	size_t b = (skip_ws(p), p->pos);
	struct rp_slice w = word(p);
	char tmp[64];
	if (w.n == 0)
		return fail(p, b, "expected a tolerance such as 0.01 or 5%%");
	size_t n = w.n;
	if (w.p[n - 1] == '%') {
		r->relative = 1;
		n--;
	}
	if (n == 0 || n >= sizeof(tmp))
		return fail(p, b, "expected a tolerance such as 0.01 or 5%%");
	memcpy(tmp, w.p, n);
	tmp[n] = 0;
	char *end = NULL;
	errno = 0;
	double v = strtod(tmp, &end);
	int word_start = tmp[0] == '-' || tmp[0] == '+' || (tmp[0] | 0x20) == 'i' ||
			 (tmp[0] | 0x20) == 'n';
	if (end != tmp + n || errno || !isfinite(v) || word_start)
		return fail(p, word_start || !end ? b : b + (size_t)(end - tmp),
			    "expected a non-negative number such as 0.01 or 5%%");
	r->tolerance = v;
	return 0;
}

static int parse_regex(struct lp *p, struct noise_rule *r)
{
	skip_ws(p);
	size_t b = p->pos, e = p->n;
	while (e > b && (p->s[e - 1] == ' ' || p->s[e - 1] == '\t'))
		e--;
	if (e == b)
		return fail(p, b, "expected a regular expression");
	int code = 0;
	PCRE2_SIZE off = 0;
	r->re = pcre2_compile((PCRE2_SPTR)(p->s + b), e - b, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
			      &code, &off, NULL);
	if (!r->re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof(msg));
		return fail(p, b + off, "bad regular expression: %s", (const char *)msg);
	}
	pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE); /* best effort */
	return 0;
}

/* Parses one line into |r|.  Returns 1 when it held a rule, 0 for a blank or
 * comment line, RP_E_FORMAT on error. */
static int parse_line(struct lp *p, struct noise_rule *r)
{
	skip_ws(p);
	if (p->pos == p->n || p->s[p->pos] == '#')
		return 0;
	size_t b = p->pos;
	struct rp_slice verb = word(p);
	size_t ob = (skip_ws(p), p->pos);
	struct rp_slice obj = word(p);
	int rc;

	if (is_word(verb, "ignore")) {
		if (is_word(obj, "header")) {
			r->kind = NOISE_IGNORE_HEADER;
			rc = parse_header(p, r);
		} else if (is_word(obj, "json")) {
			r->kind = NOISE_IGNORE_JSON;
			rc = parse_path(p, r);
			rc = rc ? rc : expect_end(p);
		} else if (is_word(obj, "text")) {
			r->kind = NOISE_IGNORE_TEXT;
			rc = parse_regex(p, r);
		} else {
			return fail(p, ob, "expected 'header', 'json' or 'text' after 'ignore'");
		}
	} else if (is_word(verb, "compare")) {
		if (!is_word(obj, "header"))
			return fail(p, ob, "expected 'header' after 'compare'");
		r->kind = NOISE_COMPARE_HEADER;
		rc = parse_header(p, r);
	} else if (is_word(verb, "tolerance")) {
		if (!is_word(obj, "json"))
			return fail(p, ob, "expected 'json' after 'tolerance'");
		r->kind = NOISE_TOLERANCE_JSON;
		rc = parse_path(p, r);
		rc = rc ? rc : parse_number(p, r);
		rc = rc ? rc : expect_end(p);
	} else if (is_word(verb, "unordered")) {
		if (!is_word(obj, "json"))
			return fail(p, ob, "expected 'json' after 'unordered'");
		r->kind = NOISE_UNORDERED_JSON;
		rc = parse_path(p, r);
		rc = rc ? rc : expect_end(p);
	} else {
		return fail(p, b, "unknown rule '%.*s': expected 'ignore', 'compare', 'tolerance' or "
				  "'unordered'", (int)RP_MIN(verb.n, 40), (const char *)verb.p);
	}
	return rc ? rc : 1;
}

static void rule_dispose(struct noise_rule *r)
{
	free(r->name);
	rp_jpath_dispose(&r->path);
	pcre2_code_free(r->re);
}

int rp_diff_noise_parse(const char *text, size_t n, const char *file,
			struct rp_diff_noise **out, char *err, size_t errlen)
{
	struct rp_diff_noise *ns = rp_xcalloc(1, sizeof(*ns));
	size_t cap = 0, i = 0;
	unsigned line = 0;
	int rc = 0;

	*out = NULL;
	while (i < n) {
		size_t e = i;
		while (e < n && text[e] != '\n')
			e++;
		size_t le = e;
		if (le > i && text[le - 1] == '\r')
			le--;
		struct lp p = {file ? file : "-", ++line, text + i, le - i, 0, err, errlen};
		struct noise_rule r;
		memset(&r, 0, sizeof(r));
		r.line = line;
		if (memchr(text + i, 0, le - i)) {
			rc = fail(&p, (size_t)((const char *)memchr(text + i, 0, le - i) - (text + i)),
				  "NUL byte in a rule file");
			goto out;
		}
		int k = parse_line(&p, &r);
		if (k < 0) {
			rule_dispose(&r);
			rc = k;
			goto out;
		}
		if (k == 1) {
			if (ns->n == cap) {
				cap = cap ? cap * 2 : 8;
				ns->v = rp_xrealloc(ns->v, cap * sizeof(*ns->v));
			}
			ns->v[ns->n++] = r;
			if (r.kind == NOISE_IGNORE_JSON || r.kind == NOISE_TOLERANCE_JSON ||
			    r.kind == NOISE_UNORDERED_JSON)
				ns->njson++;
			if (r.kind == NOISE_IGNORE_TEXT)
				ns->ntext++;
		}
		i = e + 1;
	}
out:
	if (rc) {
		rp_diff_noise_free(ns);
		return rc;
	}
	*out = ns;
	return 0;
}

int rp_diff_noise_load(const char *path, struct rp_diff_noise **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	int rc = 0;

	*out = NULL;
	if (!f) {
		if (err)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return RP_E_IO;
	}
	text = rp_xmalloc(RP_LIMIT_NOISE_FILE + 1);
	size_t n = fread(text, 1, RP_LIMIT_NOISE_FILE + 1, f);
	if (ferror(f)) {
		if (err)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = RP_E_IO;
		goto out;
	}
	if (n > RP_LIMIT_NOISE_FILE) {
		if (err)
			snprintf(err, errlen, "%s: larger than %d bytes", path, RP_LIMIT_NOISE_FILE);
		rc = RP_E_LIMIT;
		goto out;
	}
	rc = rp_diff_noise_parse(text, n, path, out, err, errlen);
out:
	free(text);
	fclose(f);
	return rc;
}

void rp_diff_noise_free(struct rp_diff_noise *noise)
{
	if (!noise)
		return;
	for (size_t i = 0; i < noise->n; i++)
		rule_dispose(&noise->v[i]);
	free(noise->v);
	free(noise);
}

size_t rp_diff_noise_count(const struct rp_diff_noise *noise)
{
	return noise ? noise->n : 0;
}

/* Skipped unless a rule says `compare header`: they differ between any two
 * runs of the same service (time, host, request identity) or describe the
 * connection rather than the response (hop-by-hop, framing). */
static const char *const default_ignored[] = {
	"age", "connection", "content-length", "date", "etag", "expires", "keep-alive",
	"last-modified", "proxy-authenticate", "proxy-authorization", "proxy-connection",
	"server", "te", "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade",
	"via", "x-amzn-trace-id", "x-b3-spanid", "x-b3-traceid", "x-cache", "x-cache-hits",
	"x-correlation-id", "x-request-id", "x-response-time", "x-runtime", "x-served-by",
	"x-trace-id",
};

int rp_diff_header_default_ignored(struct rp_slice name)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(default_ignored); i++)
		if (rp_slice_eq_nocase(name, rp_slice_str(default_ignored[i])))
			return 1;
	return 0;
}

static int rule_names(const struct noise_rule *r, struct rp_slice lname)
{
	if (r->name_prefix)
		return lname.n >= r->name_n && memcmp(lname.p, r->name, r->name_n) == 0;
	return lname.n == r->name_n && memcmp(lname.p, r->name, r->name_n) == 0;
}

int rp_diff_header_ignored(const struct rp_diff_noise *noise, struct rp_slice lname, int *by_rule)
{
	*by_rule = 0;
	if (noise) {
		/* An explicit `compare` wins over both defaults and `ignore`. */
		for (size_t i = 0; i < noise->n; i++)
			if (noise->v[i].kind == NOISE_COMPARE_HEADER && rule_names(&noise->v[i], lname))
				return 0;
		for (size_t i = 0; i < noise->n; i++)
			if (noise->v[i].kind == NOISE_IGNORE_HEADER && rule_names(&noise->v[i], lname)) {
				*by_rule = 1;
				return 1;
			}
	}
	return rp_diff_header_default_ignored(lname);
}
