/*
 * rules: rule files into a compiled rule set.  Reads each file (bounded),
 * splits it into lines, has parse.c read each line, follows includes
 * (relative to the including file, loops refused with the chain that makes
 * them) and compiles what each selector and condition means: header and
 * field names and globs, JSON paths, path templates, detector lists, PCRE2
 * patterns (JIT compiled, shared read-only by every thread).  Every error
 * names file, line and column.
 *
 * The set's digest is SHA-256 over its canonical text — one normalised line
 * per rule, in the order rules apply — so comments, spacing and quoting do
 * not change it, and the corpus can record which rules masked it.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mask-int.h"

/* ---- globs ------------------------------------------------------------------ */

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/* 1 when |pat| from |from| on holds no '*' or '?'. */
static int literal_from(struct rp_slice pat, size_t from)
{
	for (size_t k = from; k < pat.n; k++)
		if (pat.p[k] == '*' || pat.p[k] == '?')
			return 0;
	return 1;
}

int rp_mask_glob(struct rp_slice pat, struct rp_slice s)
{
	/* the shapes rule files use (a star then a suffix, a prefix then a
	 * star, a lone star): one compare instead of the backtracking walk */
	if (pat.n && pat.p[0] == '*' && literal_from(pat, 1))
		return s.n >= pat.n - 1 &&
		       rp_slice_eq_nocase(rp_slice(pat.p + 1, pat.n - 1),
					 rp_slice(s.p + s.n - (pat.n - 1), pat.n - 1));
	if (pat.n && pat.p[pat.n - 1] == '*' && literal_from(rp_slice(pat.p, pat.n - 1), 0))
		return s.n >= pat.n - 1 && rp_slice_eq_nocase(rp_slice(pat.p, pat.n - 1),
							     rp_slice(s.p, pat.n - 1));
	size_t p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;
	while (i < s.n) {
		if (p < pat.n && (pat.p[p] == '?' || (pat.p[p] != '*' && lower(pat.p[p]) == lower(s.p[i])))) {
			p++;
			i++;
		} else if (p < pat.n && pat.p[p] == '*') {
			star_p = ++p;
			star_i = i;
		} else if (star_p != SIZE_MAX) {
			p = star_p;
			i = ++star_i;
		} else {
			return 0;
		}
	}
	while (p < pat.n && pat.p[p] == '*')
		p++;
	return p == pat.n;
}

void rp_mask_name_init(struct rp_mask_name *nm, struct rp_slice s)
{
	nm->s = s;
	nm->glob = memchr(s.p, '*', s.n) || memchr(s.p, '?', s.n);
	nm->slash = memchr(s.p, '/', s.n) != NULL;
	/* the same tests rp_mask_glob makes on every call */
	if (!nm->glob)
		nm->shape = RP_SHAPE_EXACT;
	else if (s.p[0] == '*' && literal_from(s, 1))
		nm->shape = RP_SHAPE_SUFFIX;
	else if (s.p[s.n - 1] == '*' && literal_from(rp_slice(s.p, s.n - 1), 0))
		nm->shape = RP_SHAPE_PREFIX;
	else
		nm->shape = RP_SHAPE_GLOB;
}

int rp_mask_names_match(const struct rp_mask_names *l, struct rp_slice s)
{
	for (size_t i = 0; i < l->n; i++)
		if (rp_mask_name_match(&l->v[i], s))
			return 1;
	return 0;
}

struct rp_slice rp_mask_route_last(struct rp_slice path)
{
	const uint8_t *slash = path.n ? memrchr(path.p, '/', path.n) : NULL;
	return slash ? rp_slice(slash + 1, (size_t)(path.p + path.n - slash - 1)) : path;
}

int rp_mask_route_match(const struct rp_mask_name *nm, struct rp_slice path, struct rp_slice last)
{
	if (!nm->slash)
		return rp_mask_name_match(nm, last);
	struct rp_slice pat = nm->s;
	/* '*' and '?' stay within a segment; '**' crosses segments, and two stars and a slash
	 * stand for zero or more whole segments.  Two backtrack points: the
	 * last '*' and the last '**'. */
	size_t p = 0, i = 0;
	size_t s1p = SIZE_MAX, s1i = 0, s2p = SIZE_MAX, s2i = 0;
	int s2seg = 0;
	while (i < path.n) {
		if (p + 1 < pat.n && pat.p[p] == '*' && pat.p[p + 1] == '*') {
			p += 2;
			s2seg = p < pat.n && pat.p[p] == '/';
			if (s2seg)
				p++;
			s2p = p;
			s2i = i;
			s1p = SIZE_MAX;
		} else if (p < pat.n && pat.p[p] == '*') {
			s1p = ++p;
			s1i = i;
		} else if (p < pat.n && (pat.p[p] == '?' ? path.p[i] != '/'
							   : lower(pat.p[p]) == lower(path.p[i]))) {
			p++;
			i++;
		} else if (s1p != SIZE_MAX && path.p[s1i] != '/') {
			p = s1p;
			i = ++s1i;
		} else if (s2p != SIZE_MAX) {
			s1p = SIZE_MAX;
			p = s2p;
			if (s2seg) {
				/* the next try starts after the next '/' */
				const uint8_t *sl = s2i < path.n ? memchr(path.p + s2i, '/', path.n - s2i) : NULL;
				if (!sl)
					return 0;
				s2i = (size_t)(sl - path.p) + 1;
			} else {
				s2i++;
			}
			i = s2i;
		} else {
			return 0;
		}
	}
	while (p < pat.n && pat.p[p] == '*')
		p++;
	if (p + 1 == pat.n && pat.p[p] == '/' && p >= 2 && pat.p[p - 1] == '*')
		p++; /* a pattern that ends in two stars and a slash */
	return p == pat.n;
}

/* ---- the rule set ----------------------------------------------------------- */

struct rp_mask_rules *rp_mask_rules_new_empty(void)
{
	struct rp_mask_rules *r = rp_xcalloc(1, sizeof(*r));
	r->pool = rp_pool_new(0);
	r->max_ovector = 1;
	r->mctx = pcre2_match_context_create(NULL);
	if (!r->mctx)
		rp_oom();
	pcre2_set_match_limit(r->mctx, RP_LIMIT_MASK_REGEX_WORK);
	return r;
}

void rp_mask_rules_free(struct rp_mask_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		pcre2_code_free(r->v[i].re);
	free(r->v);
	free(r->statics);
	pcre2_match_context_free(r->mctx);
	rp_pool_free(r->pool);
	free(r);
}

size_t rp_mask_rules_count(const struct rp_mask_rules *r)
{
	return r->n;
}

const char *rp_mask_rules_digest(const struct rp_mask_rules *r)
{
	return r->digest;
}

static const char *const scope_names[SC_COUNT] = {
	"header", "cookie", "set-cookie", "query", "path", "json", "form", "text", "body", "client",
};

static const char *const action_names[] = {"redact", "hash", "tokenize", "keep-last",
					    "fake", "keep", "report"};

static void names_canon(struct rp_buf *b, const char *key, const struct rp_mask_names *l)
{
	if (!l->n)
		return;
	rp_buf_printf(b, " %s=", key);
	for (size_t i = 0; i < l->n; i++)
		rp_buf_printf(b, "%s%.*s", i ? "," : "", (int)l->v[i].s.n, (const char *)l->v[i].s.p);
}

static void cond_canon(struct rp_buf *b, const struct rp_mask_cond *c, int with_in)
{
	names_canon(b, "type", &c->types);
	names_canon(b, "method", &c->methods);
	names_canon(b, "route", &c->routes);
	if (with_in && c->in != (RP_MASK_IN_REQ | RP_MASK_IN_RESP))
		rp_buf_printf(b, " in=%s", c->in == RP_MASK_IN_REQ ? "request" : "response");
}

static int needs_quotes(struct rp_slice s)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == '"' || s.p[i] == '\'' || s.p[i] == '#')
			return 1;
	return s.n == 0;
}

int rp_mask_rules_canonical(const struct rp_mask_rules *r, struct rp_buf *out)
{
	int rc = 0;
	for (size_t i = 0; i < r->nstatics && !rc; i++) {
		rc |= rp_buf_printf(out, "static");
		struct rp_buf tmp;
		rp_buf_init(&tmp, RP_LIMIT_MASK_LINE * 4);
		cond_canon(&tmp, &r->statics[i], 0);
		rc |= rp_buf_append(out, tmp.base + tmp.rd, rp_buf_len(&tmp));
		rp_buf_dispose(&tmp);
		rc |= rp_buf_append(out, "\n", 1);
	}
	for (size_t i = 0; i < r->n && !rc; i++)
		rc |= rp_buf_printf(out, "%s\n", r->v[i].canon);
	return rc ? RP_E_LIMIT : 0;
}

void rp_mask_rules_finish(struct rp_mask_rules *r)
{
	struct rp_buf b;
	rp_buf_init(&b, (size_t)RP_LIMIT_MASK_FILE * 64);
	if (rp_mask_rules_canonical(r, &b))
		rp_oom(); /* bounded by the file limits above */
	uint8_t md[32];
	unsigned mdlen = 0;
	if (!EVP_Digest(b.base ? b.base + b.rd : (const uint8_t *)"", rp_buf_len(&b), md, &mdlen,
			EVP_sha256(), NULL))
		rp_oom();
	memcpy(r->digest, "sha256:", 7);
	rp_hex(md, 32, r->digest + 7);
	rp_buf_dispose(&b);
	r->needs_key = 0;
	for (size_t i = 0; i < r->n; i++) {
		enum rp_mask_action a = r->v[i].act;
		r->needs_key |= a == ACT_HASH || a == ACT_TOKENIZE || a == ACT_FAKE;
		r->v[i].index = (unsigned)i;
	}
}

/* ---- loading ---------------------------------------------------------------- */

struct loader {
	struct rp_mask_rules *r;
	struct rp_mask_error *err;
	const char *stack[RP_LIMIT_MASK_INCLUDE + 1]; /* real paths being read */
	const char *names[RP_LIMIT_MASK_INCLUDE + 1]; /* as the user wrote them */
	unsigned depth;
	/* the line being compiled */
	const char *file;
	unsigned line;
};

static int fail(struct loader *L, int rc, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct loader *L, int rc, unsigned col, const char *fmt, ...)
{
	struct rp_mask_error *e = L->err;
	if (e) {
		snprintf(e->file, sizeof(e->file), "%s", L->file ? L->file : "-");
		e->line = L->line;
		e->col = L->line ? col : 0;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The unquoted text of |t| in the rule pool. */
static struct rp_slice tok_text(struct loader *L, const struct rp_mask_tok *t)
{
	char *p = rp_pool_alloc(L->r->pool, t->raw.n + 1);
	size_t n = t->quoted ? rp_mask_unquote(t->raw, p) : (memcpy(p, t->raw.p, t->raw.n), t->raw.n);
	p[n] = '\0';
	return rp_slice(p, n);
}

/* Column of byte |off| of a token's unquoted text (exact unless quoted). */
static unsigned col_at(const struct rp_mask_tok *t, size_t off)
{
	return t->quoted ? t->col : t->col + (unsigned)off;
}

static int is_tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

enum name_kind { NK_TOKEN, NK_ANY, NK_LOWER };

/* A comma-separated list of names (globs allowed) from |s|. */
static int compile_names(struct loader *L, const struct rp_mask_tok *t, struct rp_slice s,
			 size_t base, enum name_kind kind, const char *what, struct rp_mask_names *out)
{
	size_t count = 1;
	for (size_t i = 0; i < s.n; i++)
		count += s.p[i] == ',';
	out->v = rp_pool_calloc(L->r->pool, count * sizeof(*out->v));
	out->n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= s.n; i++) {
		if (i < s.n && s.p[i] != ',')
			continue;
		struct rp_slice item = rp_slice(s.p + start, i - start);
		if (item.n == 0)
			return fail(L, RP_E_FORMAT, col_at(t, base + start), "empty %s in list", what);
		for (size_t j = 0; j < item.n; j++) {
			uint8_t c = item.p[j];
			if (kind == NK_TOKEN && !is_tchar(c) && c != '?')
				return fail(L, RP_E_FORMAT, col_at(t, base + start + j),
					    "character not allowed in a %s", what);
		}
		struct rp_mask_name *nm = &out->v[out->n++];
		if (kind == NK_LOWER) {
			uint8_t *lp = (uint8_t *)item.p; /* our copy in the pool */
			for (size_t j = 0; j < item.n; j++)
				lp[j] = lower(lp[j]);
		}
		rp_mask_name_init(nm, item);
		start = i + 1;
	}
	return 0;
}

static int compile_jsonpath(struct loader *L, const struct rp_mask_tok *t, struct rp_slice s,
			    struct rp_mask_rule *rule)
{
	if (s.n == 0 || s.p[0] != '$')
		return fail(L, RP_E_FORMAT, col_at(t, 0), "a JSON path starts with $ ($.user.email, "
							    "$..password, $.items[*].card)");
	size_t cap = 8;
	struct rp_mask_jstep *steps = rp_pool_calloc(L->r->pool, cap * sizeof(*steps));
	size_t n = 0, i = 1;
	while (i < s.n) {
		struct rp_mask_jstep st = {0};
		if (s.p[i] == '.') {
			i++;
			if (i < s.n && s.p[i] == '.') {
				st.desc = 1;
				i++;
			}
			if (i < s.n && s.p[i] == '[' && st.desc)
				goto bracket;
			size_t start = i;
			while (i < s.n && s.p[i] != '.' && s.p[i] != '[')
				i++;
			if (i == start)
				return fail(L, RP_E_FORMAT, col_at(t, start),
					    "expected a member name or * after '.'");
			struct rp_slice nm = rp_slice(s.p + start, i - start);
			if (nm.n == 1 && nm.p[0] == '*') {
				st.kind = JS_ANY;
			} else {
				st.kind = JS_NAME;
				st.names.v = rp_pool_calloc(L->r->pool, sizeof(*st.names.v));
				st.names.n = 1;
				rp_mask_name_init(&st.names.v[0], nm);
			}
		} else if (s.p[i] == '[') {
bracket:
			i++;
			if (i < s.n && s.p[i] == '*') {
				st.kind = JS_ANY;
				i++;
			} else if (i < s.n && s.p[i] >= '0' && s.p[i] <= '9') {
				uint64_t v = 0;
				size_t start = i;
				while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && i - start < 9)
					v = v * 10 + (uint64_t)(s.p[i++] - '0');
				st.kind = JS_INDEX;
				st.index = (uint32_t)v;
			} else if (i < s.n && (s.p[i] == '\'' || s.p[i] == '"')) {
				size_t cnt = 0, cap2 = 4;
				struct rp_mask_name *v = rp_pool_calloc(L->r->pool, cap2 * sizeof(*v));
				for (;;) {
					uint8_t q = s.p[i];
					size_t start = ++i;
					while (i < s.n && s.p[i] != q)
						i++;
					if (i >= s.n)
						return fail(L, RP_E_FORMAT, col_at(t, start - 1),
							    "unterminated quoted name in JSON path");
					if (cnt == cap2) {
						struct rp_mask_name *nv =
							rp_pool_calloc(L->r->pool, 2 * cap2 * sizeof(*nv));
						memcpy(nv, v, cap2 * sizeof(*v));
						v = nv;
						cap2 *= 2;
					}
					struct rp_slice nm = rp_slice(s.p + start, i - start);
					rp_mask_name_init(&v[cnt], nm);
					cnt++;
					i++;
					while (i < s.n && s.p[i] == ' ')
						i++;
					if (i < s.n && s.p[i] == ',') {
						i++;
						while (i < s.n && s.p[i] == ' ')
							i++;
						if (i < s.n && (s.p[i] == '\'' || s.p[i] == '"'))
							continue;
						return fail(L, RP_E_FORMAT, col_at(t, i),
							    "expected a quoted name after ','");
					}
					break;
				}
				st.kind = JS_NAME;
				st.names.v = v;
				st.names.n = cnt;
			} else {
				return fail(L, RP_E_FORMAT, col_at(t, i),
					    "expected *, an index or a quoted name after '['");
			}
			if (i >= s.n || s.p[i] != ']')
				return fail(L, RP_E_FORMAT, col_at(t, i), "expected ']'");
			i++;
		} else {
			return fail(L, RP_E_FORMAT, col_at(t, i), "expected '.' or '[' in JSON path");
		}
		if (n == cap) {
			struct rp_mask_jstep *ns = rp_pool_calloc(L->r->pool, 2 * cap * sizeof(*ns));
			memcpy(ns, steps, cap * sizeof(*steps));
			steps = ns;
			cap *= 2;
		}
		if (n >= 64)
			return fail(L, RP_E_FORMAT, col_at(t, i), "JSON path too long (64 steps)");
		steps[n++] = st;
	}
	if (n == 0)
		return fail(L, RP_E_FORMAT, col_at(t, 1),
			    "the whole document ($) is not a value to mask; use `body * ...`");
	rule->steps = steps;
	rule->nsteps = n;
	return 0;
}

static int compile_regex(struct loader *L, const struct rp_mask_tok *t, struct rp_slice pat,
			 size_t base, struct rp_mask_rule *rule)
{
	int code;
	PCRE2_SIZE off;
	if (pat.n == 0)
		return fail(L, RP_E_FORMAT, col_at(t, base), "empty regular expression");
	rule->re = pcre2_compile(pat.p, pat.n, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off,
				 NULL);
	if (!rule->re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof(msg));
		return fail(L, RP_E_FORMAT, col_at(t, base + off), "regular expression: %s", msg);
	}
	(void)pcre2_jit_compile(rule->re, PCRE2_JIT_COMPLETE); /* interpreter otherwise */
	uint32_t groups = 0;
	pcre2_pattern_info(rule->re, PCRE2_INFO_CAPTURECOUNT, &groups);
	rule->re_groups = (int)groups;
	if (groups + 1 > L->r->max_ovector)
		L->r->max_ovector = groups + 1;
	return 0;
}

static int compile_template(struct loader *L, const struct rp_mask_tok *t, struct rp_slice s,
			    struct rp_mask_rule *rule)
{
	if (s.n && s.p[0] == '~')
		return compile_regex(L, t, rp_slice(s.p + 1, s.n - 1), 1, rule);
	if (s.n == 0 || s.p[0] != '/')
		return fail(L, RP_E_FORMAT, col_at(t, 0),
			    "a path selector is a template (/users/{}/orders) or ~REGEX");
	size_t cnt = 0;
	for (size_t i = 0; i < s.n; i++)
		cnt += s.p[i] == '/';
	struct rp_mask_pseg *segs = rp_pool_calloc(L->r->pool, cnt * sizeof(*segs));
	size_t n = 0, masks = 0;
	for (size_t i = 1; i <= s.n;) {
		size_t start = i;
		while (i < s.n && s.p[i] != '/')
			i++;
		struct rp_slice seg = rp_slice(s.p + start, i - start);
		struct rp_mask_pseg *ps = &segs[n++];
		if (seg.n >= 2 && seg.p[0] == '{' && seg.p[seg.n - 1] == '}') {
			ps->kind = PS_MASK;
			masks++;
		} else if (rp_slice_eq(seg, RP_SLICE_LIT("**"))) {
			ps->kind = PS_ANYMANY;
		} else if (rp_slice_eq(seg, RP_SLICE_LIT("*"))) {
			ps->kind = PS_ANY;
		} else if (memchr(seg.p, '{', seg.n) || memchr(seg.p, '}', seg.n)) {
			return fail(L, RP_E_FORMAT, col_at(t, start),
				    "a masked segment is written {} or {name}, alone between slashes");
		} else {
			ps->kind = PS_LIT;
			ps->lit = seg;
		}
		i++;
	}
	if (!masks)
		return fail(L, RP_E_FORMAT, col_at(t, 0),
			    "a path template needs a {} segment to mask (/users/{}/orders)");
	rule->segs = segs;
	rule->nsegs = n;
	return 0;
}

static int compile_cond(struct loader *L, const struct rp_mask_tok *t, struct rp_mask_cond *c)
{
	struct rp_slice s = tok_text(L, t);
	const uint8_t *eq = memchr(s.p, '=', s.n);
	struct rp_slice key = rp_slice(s.p, (size_t)(eq - s.p));
	size_t base = key.n + 1;
	struct rp_slice val = rp_slice(eq + 1, s.n - base);
	if (rp_slice_eq(key, RP_SLICE_LIT("type")))
		return compile_names(L, t, val, base, NK_LOWER, "media type", &c->types);
	if (rp_slice_eq(key, RP_SLICE_LIT("method")))
		return compile_names(L, t, val, base, NK_TOKEN, "method", &c->methods);
	if (rp_slice_eq(key, RP_SLICE_LIT("route"))) {
		int rc = compile_names(L, t, val, base, NK_ANY, "route", &c->routes);
		return rc;
	}
	/* in= */
	if (rp_slice_eq(val, RP_SLICE_LIT("request")))
		c->in = RP_MASK_IN_REQ;
	else if (rp_slice_eq(val, RP_SLICE_LIT("response")))
		c->in = RP_MASK_IN_RESP;
	else if (rp_slice_eq(val, RP_SLICE_LIT("both")))
		c->in = RP_MASK_IN_REQ | RP_MASK_IN_RESP;
	else
		return fail(L, RP_E_FORMAT, col_at(t, base), "in= takes request, response or both");
	return 0;
}

static enum rp_mask_scope scope_of(struct rp_slice w)
{
	for (int i = 0; i < SC_COUNT; i++)
		if (rp_slice_eq(w, rp_slice_str(scope_names[i])))
			return (enum rp_mask_scope)i;
	return SC_COUNT;
}

static void canon_rule(struct loader *L, struct rp_mask_rule *rule, struct rp_slice sel)
{
	struct rp_buf b;
	rp_buf_init(&b, RP_LIMIT_MASK_LINE * 4);
	rp_buf_printf(&b, "%s ", scope_names[rule->scope]);
	if (rule->scope != SC_JSON && needs_quotes(sel)) {
		rp_buf_append(&b, "\"", 1);
		for (size_t i = 0; i < sel.n; i++) {
			if (sel.p[i] == '"')
				rp_buf_append(&b, "\\", 1);
			rp_buf_append(&b, sel.p + i, 1);
		}
		rp_buf_append(&b, "\"", 1);
	} else {
		rp_buf_append(&b, sel.p, sel.n);
	}
	rp_buf_printf(&b, " %s", action_names[rule->act]);
	if (rule->act == ACT_KEEP_LAST)
		rp_buf_printf(&b, "=%u", rule->keep_last);
	cond_canon(&b, &rule->cond, 1);
	rule->canon = rp_pool_strndup(L->r->pool, b.base + b.rd, rp_buf_len(&b));
	rp_buf_dispose(&b);
}

static struct rp_mask_rule *rule_push(struct rp_mask_rules *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->v = rp_xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	struct rp_mask_rule *rule = &r->v[r->n++];
	memset(rule, 0, sizeof(*rule));
	return rule;
}

static int compile_rule(struct loader *L, const struct rp_mask_syntax *syn)
{
	if (L->r->n >= RP_LIMIT_MASK_RULES)
		return fail(L, RP_E_LIMIT, syn->scope.col, "more than %d rules", RP_LIMIT_MASK_RULES);
	struct rp_mask_rule *rule = rule_push(L->r);
	rule->scope = scope_of(syn->scope.raw);
	rule->file = L->file;
	rule->line = L->line;
	rule->cond.in = RP_MASK_IN_REQ | RP_MASK_IN_RESP;

	struct rp_slice a = syn->action.raw;
	for (size_t i = 0; i < RP_ARRAY_LEN(action_names); i++)
		if (rp_slice_eq(a, rp_slice_str(action_names[i])))
			rule->act = (enum rp_mask_action)i;
	if (a.n > 10 && memcmp(a.p, "keep-last=", 10) == 0) {
		uint64_t v = 0;
		rp_slice_to_u64(rp_slice(a.p + 10, a.n - 10), &v);
		rule->act = ACT_KEEP_LAST;
		rule->keep_last = (unsigned)v;
	}

	const struct rp_mask_tok *st = &syn->selector;
	/* a JSON path has quotes of its own ($['first name']): kept as written */
	struct rp_mask_tok rawtok = *st;
	if (rule->scope == SC_JSON) {
		rawtok.quoted = 0;
		st = &rawtok;
	}
	struct rp_slice sel = tok_text(L, st);
	int rc = 0;
	switch (rule->scope) {
	case SC_HEADER:
		rc = compile_names(L, st, sel, 0, NK_TOKEN, "header name", &rule->names);
		break;
	case SC_COOKIE:
	case SC_SET_COOKIE:
		rc = compile_names(L, st, sel, 0, NK_TOKEN, "cookie name", &rule->names);
		if (!rc && rule->scope == SC_SET_COOKIE) {
			rule->scope = SC_COOKIE;
			rule->cond.in = RP_MASK_IN_RESP;
		}
		break;
	case SC_QUERY:
	case SC_FORM:
		rc = compile_names(L, st, sel, 0, NK_ANY, "field name", &rule->names);
		break;
	case SC_PATH:
		rc = compile_template(L, st, sel, rule);
		break;
	case SC_JSON:
		rc = compile_jsonpath(L, st, sel, rule);
		break;
	case SC_TEXT:
		if (sel.n && sel.p[0] == '~') {
			rc = compile_regex(L, st, rp_slice(sel.p + 1, sel.n - 1), 1, rule);
		} else {
			size_t bad = 0;
			if (rp_mask_detectors_parse(sel, &rule->detectors, &bad))
				rc = fail(L, RP_E_FORMAT, col_at(st, bad),
					  "unknown detector (expected email, card, ssn, phone, iban, "
					  "jwt, bearer, aws-key, ipv4, ipv6, all or ~REGEX)");
		}
		break;
	case SC_BODY:
		if (!rp_slice_eq(sel, RP_SLICE_LIT("*")))
			rc = fail(L, RP_E_FORMAT, st->col,
				  "the body selector is * (narrow it with type=, method=, route=)");
		else if (rule->act != ACT_REDACT && rule->act != ACT_HASH &&
			 rule->act != ACT_TOKENIZE && rule->act != ACT_KEEP)
			rc = fail(L, RP_E_FORMAT, syn->action.col,
				  "a whole body can be redacted, hashed, tokenized or kept");
		break;
	case SC_CLIENT:
		if (!rp_slice_eq(sel, RP_SLICE_LIT("address")))
			rc = fail(L, RP_E_FORMAT, st->col, "the client selector is address");
		else if (rule->act != ACT_REDACT && rule->act != ACT_FAKE && rule->act != ACT_KEEP)
			rc = fail(L, RP_E_FORMAT, syn->action.col,
				  "a client address can be redacted, faked or kept");
		break;
	case SC_COUNT:
		break;
	}
	for (unsigned i = 0; !rc && i < syn->nconds; i++)
		rc = compile_cond(L, &syn->conds[i], &rule->cond);
	if (!rc && rule->scope == SC_CLIENT && (rule->cond.types.n || rule->cond.in != 3))
		rc = fail(L, RP_E_FORMAT, syn->conds[0].col,
			  "a client rule takes only method= and route=");
	if (rc) {
		pcre2_code_free(rule->re);
		L->r->n--;
		return rc;
	}
	canon_rule(L, rule, sel);
	return 0;
}

static int compile_static(struct loader *L, const struct rp_mask_syntax *syn)
{
	struct rp_mask_rules *r = L->r;
	if (r->nstatics == r->capstatics) {
		r->capstatics = r->capstatics ? r->capstatics * 2 : 8;
		r->statics = rp_xrealloc(r->statics, r->capstatics * sizeof(*r->statics));
	}
	struct rp_mask_cond *c = &r->statics[r->nstatics];
	memset(c, 0, sizeof(*c));
	c->in = RP_MASK_IN_REQ | RP_MASK_IN_RESP;
	for (unsigned i = 0; i < syn->nconds; i++) {
		int rc = compile_cond(L, &syn->conds[i], c);
		if (rc)
			return rc;
	}
	r->nstatics++;
	return 0;
}

static int load_file(struct loader *L, const char *path, const struct rp_mask_tok *from);

static int load_text(struct loader *L, const char *name, const uint8_t *text, size_t n)
{
	const char *saved_file = L->file;
	unsigned saved_line = L->line;
	L->file = name;
	L->line = 0;
	int rc = 0;
	size_t start = 0;
	while (start < n && !rc) {
		const uint8_t *nl = memchr(text + start, '\n', n - start);
		size_t end = nl ? (size_t)(nl - text) : n;
		struct rp_slice line = rp_slice(text + start, end - start);
		if (line.n && line.p[line.n - 1] == '\r')
			line.n--;
		L->line++;
		start = end + 1;
		if (line.n > RP_LIMIT_MASK_LINE) {
			rc = fail(L, RP_E_LIMIT, RP_LIMIT_MASK_LINE + 1, "line longer than %d bytes",
				  RP_LIMIT_MASK_LINE);
			break;
		}
		struct rp_mask_syntax syn;
		unsigned col = 0;
		const char *why = NULL;
		if (rp_mask_parse_line(line, &syn, &col, &why)) {
			rc = fail(L, RP_E_FORMAT, col, "%s", why);
			break;
		}
		switch (syn.kind) {
		case RP_MASK_SYN_EMPTY:
			break;
		case RP_MASK_SYN_STATIC:
			rc = compile_static(L, &syn);
			break;
		case RP_MASK_SYN_RULE:
			rc = compile_rule(L, &syn);
			break;
		case RP_MASK_SYN_INCLUDE: {
			struct rp_slice file = tok_text(L, &syn.selector);
			char full[PATH_MAX];
			const char *slash = strrchr(name, '/');
			if (file.p[0] == '/' || !slash)
				snprintf(full, sizeof(full), "%s", (const char *)file.p);
			else
				snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - name), name,
					 (const char *)file.p);
			rc = load_file(L, full, &syn.selector);
			break;
		}
		}
	}
	L->file = saved_file;
	L->line = saved_line;
	return rc;
}

static int read_all(const char *path, uint8_t **out, size_t *n, int *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		*err = errno;
		return RP_E_IO;
	}
	size_t cap = 4096, len = 0;
	uint8_t *p = rp_xmalloc(cap);
	int rc = 0;
	for (;;) {
		size_t k = fread(p + len, 1, cap - len, f);
		len += k;
		if (len > RP_LIMIT_MASK_FILE) {
			rc = RP_E_LIMIT;
			break;
		}
		if (k == 0) {
			if (ferror(f)) {
				*err = errno ? errno : EIO;
				rc = RP_E_IO;
			}
			break;
		}
		if (len == cap)
			p = rp_xrealloc(p, cap *= 2);
	}
	fclose(f);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	*n = len;
	return 0;
}

static int load_file(struct loader *L, const char *path, const struct rp_mask_tok *from)
{
	unsigned col = from ? from->col : 0;
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		int e = errno;
		if (!from)
			L->line = 0;
		return fail(L, RP_E_IO, col, "cannot read %s: %s", path, strerror(e));
	}
	for (unsigned i = 0; i < L->depth; i++) {
		if (strcmp(L->stack[i], real) != 0)
			continue;
		char chain[200] = "";
		size_t k = 0;
		for (unsigned j = i; j < L->depth && k < sizeof(chain); j++) {
			const char *b = strrchr(L->names[j], '/');
			k += (size_t)snprintf(chain + k, sizeof(chain) - k, "%s -> ",
					      b ? b + 1 : L->names[j]);
		}
		const char *b = strrchr(path, '/');
		if (k < sizeof(chain))
			snprintf(chain + k, sizeof(chain) - k, "%s", b ? b + 1 : path);
		return fail(L, RP_E_FORMAT, col, "include loop: %s", chain);
	}
	if (L->depth >= RP_LIMIT_MASK_INCLUDE)
		return fail(L, RP_E_LIMIT, col, "includes nested deeper than %d",
			    RP_LIMIT_MASK_INCLUDE);
	uint8_t *text = NULL;
	size_t n = 0;
	int e = 0;
	int rc = read_all(path, &text, &n, &e);
	if (rc == RP_E_IO) {
		if (!from)
			L->line = 0;
		return fail(L, rc, col, "cannot read %s: %s", path, strerror(e));
	}
	if (rc == RP_E_LIMIT) {
		if (!from)
			L->line = 0;
		return fail(L, rc, col, "%s is larger than %d bytes", path, RP_LIMIT_MASK_FILE);
	}
	const char *name = rp_pool_strndup(L->r->pool, path, strlen(path));
	L->stack[L->depth] = rp_pool_strndup(L->r->pool, real, strlen(real));
	L->names[L->depth] = name;
	L->depth++;
	rc = load_text(L, name, text, n);
	L->depth--;
	free(text);
	return rc;
}

static void error_clear(struct rp_mask_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int rp_mask_rules_load(const char *path, struct rp_mask_rules **out, struct rp_mask_error *err)
{
	error_clear(err);
	struct loader L = {.r = rp_mask_rules_new_empty(), .err = err, .file = path};
	int rc = load_file(&L, path, NULL);
	if (rc) {
		rp_mask_rules_free(L.r);
		return rc;
	}
	rp_mask_rules_finish(L.r);
	*out = L.r;
	return 0;
}

int rp_mask_rules_parse(const char *name, const void *text, size_t n, struct rp_mask_rules **out,
			struct rp_mask_error *err)
{
	error_clear(err);
	struct loader L = {.r = rp_mask_rules_new_empty(), .err = err, .file = name};
	int rc = 0;
	if (n > RP_LIMIT_MASK_FILE) {
		rc = fail(&L, RP_E_LIMIT, 0, "larger than %d bytes", RP_LIMIT_MASK_FILE);
	} else {
		char real[PATH_MAX];
		const char *pname = rp_pool_strndup(L.r->pool, name, strlen(name));
		L.stack[0] = realpath(name, real) ? rp_pool_strndup(L.r->pool, real, strlen(real))
						  : pname;
		L.names[0] = pname;
		L.depth = 1;
		rc = load_text(&L, pname, text, n);
	}
	if (rc) {
		rp_mask_rules_free(L.r);
		return rc;
	}
	rp_mask_rules_finish(L.r);
	*out = L.r;
	return 0;
}

void rp_mask_error_format(const struct rp_mask_error *e, char *out, size_t outlen)
{
	if (e->line)
		snprintf(out, outlen, "%s:%u:%u: %s", e->file, e->line, e->col, e->msg);
	else
		snprintf(out, outlen, "%s: %s", e->file, e->msg);
}
