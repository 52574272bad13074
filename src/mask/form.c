/*
 * form: the structured text of HTTP that is not JSON — request targets
 * (path segments and query parameters), application/x-www-form-urlencoded
 * bodies, Cookie and Set-Cookie values, and multipart bodies.  Each value is
 * decoded (percent-encoding, '+' for space, quotes) before rules see it, and
 * a changed value is encoded again for where it goes; everything else keeps
 * its original bytes.
 *
 * Multipart parts are masked by field name (form rules) or, unclaimed, as
 * bodies of their own media type (so a JSON part gets the json rules).  A
 * multipart body without its boundary, or with parts that do not parse, is
 * reported to the caller, which masks it as text instead.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <pthread.h>

#include "mask-int.h"

/* ---- percent coding --------------------------------------------------------------- */

static int hexv(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Percent-decodes |s| ('+' is a space when |plus|); |s| itself when there is
 * nothing to decode. */
static struct rp_slice pct_decode(struct rp_pool *pool, struct rp_slice s, int plus)
{
	if (!memchr(s.p, '%', s.n) && !(plus && memchr(s.p, '+', s.n)))
		return s;
	uint8_t *p = rp_pool_alloc(pool, s.n);
	size_t o = 0;
	for (size_t i = 0; i < s.n; i++) {
		int h1, h2;
		if (s.p[i] == '%' && i + 2 < s.n && (h1 = hexv(s.p[i + 1])) >= 0 &&
		    (h2 = hexv(s.p[i + 2])) >= 0) {
			p[o++] = (uint8_t)(h1 << 4 | h2);
			i += 2;
		} else if (plus && s.p[i] == '+') {
			p[o++] = ' ';
		} else {
			p[o++] = s.p[i];
		}
	}
	return rp_slice(p, o);
}

enum enc { ENC_QUERY, ENC_PATH, ENC_COOKIE };

static int keep_raw_slow(uint8_t c, enum enc mode)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~')
		return 1;
	switch (mode) {
	case ENC_QUERY:
		switch (c) {
		case '!': case '$': case '\'': case '(': case ')': case '*': case ',': case ':':
		case '@': case '/': case '?':
			return 1;
		}
		return 0;
	case ENC_PATH:
		switch (c) {
		case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
		case ',': case ';': case '=': case ':': case '@':
			return 1;
		}
		return 0;
	case ENC_COOKIE:
		return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\' &&
		       c != '%';
	}
	return 0;
}

/* keep_raw_slow as a table: bit |mode| of byte |c| says it stays as it is;
 * bit 3 marks the space, which a query writes as '+' */
static uint8_t raw_class[256];
static pthread_once_t raw_once = PTHREAD_ONCE_INIT;

static void raw_class_init(void)
{
	for (int c = 0; c < 256; c++)
		for (int mode = ENC_QUERY; mode <= ENC_COOKIE; mode++)
			if (keep_raw_slow((uint8_t)c, (enum enc)mode))
				raw_class[c] |= (uint8_t)(1u << mode);
	raw_class[' '] |= 8;
}

/* |s| percent-encoded for |mode|; |s| itself when nothing needs it. */
static struct rp_slice pct_encode(struct rp_pool *pool, struct rp_slice s, enum enc mode)
{
	static const char hex[] = "0123456789ABCDEF";
	pthread_once(&raw_once, raw_class_init);
	/* a query's space is one byte ('+') but still a change */
	uint8_t keep = (uint8_t)(1u << mode), space = mode == ENC_QUERY ? 8 : 0;
	size_t n = 0;
	int changed = 0;
	for (size_t i = 0; i < s.n; i++) {
		uint8_t k = raw_class[s.p[i]];
		if (!(k & keep)) {
			changed = 1;
			n += (k & space) ? 1 : 3;
		} else {
			n++;
		}
	}
	if (!changed)
		return s;
	uint8_t *p = rp_pool_alloc(pool, n ? n : 1);
	size_t o = 0;
	for (size_t i = 0; i < s.n; i++) {
		uint8_t c = s.p[i], k = raw_class[c];
		if (k & keep) {
			p[o++] = c;
		} else if (k & space) {
			p[o++] = '+';
		} else {
			p[o++] = '%';
			p[o++] = (uint8_t)hex[c >> 4];
			p[o++] = (uint8_t)hex[c & 15];
		}
	}
	return rp_slice(p, o);
}

static int same(struct rp_slice a, struct rp_slice b)
{
	return a.p == b.p && a.n == b.n;
}

/* ---- urlencoded: query strings and form bodies ------------------------------------------ */

struct rp_slice rp_mask_urlencoded(struct rp_mask_ctx *c, enum rp_mask_scope scope,
				   struct rp_slice s)
{
	if (!c->nactive[scope] && !c->nactive[SC_TEXT])
		return s;
	struct rp_mask_edits ed = {0};
	size_t start = 0;
	for (size_t i = 0; i <= s.n; i++) {
		if (i < s.n && s.p[i] != '&')
			continue;
		struct rp_slice pair = rp_slice(s.p + start, i - start);
		size_t at = start;
		start = i + 1;
		if (!pair.n)
			continue;
		const uint8_t *eq = memchr(pair.p, '=', pair.n);
		struct rp_slice rname = rp_slice(pair.p, eq ? (size_t)(eq - pair.p) : pair.n);
		struct rp_slice name = pct_decode(c->pool, rname, 1);
		size_t saved = rp_mask_where_push_slice(c, scope == SC_QUERY ? " query " : " ", name);
		if (!eq) {
			/* a bare word: text rules only */
			struct rp_slice out = rp_mask_text(c, name);
			if (!same(out, name))
				rp_mask_edits_push(&ed, at, rname.n, pct_encode(c->pool, out, ENC_QUERY));
			rp_mask_where_pop(c, saved);
			continue;
		}
		size_t vat = at + rname.n + 1;
		struct rp_slice rval = rp_slice(eq + 1, pair.n - rname.n - 1);
		struct rp_slice val = pct_decode(c->pool, rval, 1);
		const struct rp_mask_rule *r = rp_mask_find_named(c, scope, name);
		struct rp_slice out = r ? rp_mask_act(c, r, -1, val) : rp_mask_text(c, val);
		if (!same(out, val))
			rp_mask_edits_push(&ed, vat, rval.n, pct_encode(c->pool, out, ENC_QUERY));
		rp_mask_where_pop(c, saved);
	}
	struct rp_slice out = rp_mask_splice(c->pool, s, &ed);
	rp_mask_edits_free(&ed);
	return out;
}

/* ---- request targets ---------------------------------------------------------------- */

#define MAX_SEGS 64

/* Matches template segments [ti..) against path segments [si..); records
 * which path segment each {} took in |hit| (by template index). */
static int tpl_match(const struct rp_mask_rule *r, size_t ti, const struct rp_slice *segs,
		     size_t nsegs, size_t si, size_t *hit)
{
	if (ti == r->nsegs)
		return si == nsegs;
	const struct rp_mask_pseg *ps = &r->segs[ti];
	if (ps->kind == PS_ANYMANY) {
		for (size_t k = si; k <= nsegs; k++)
			if (tpl_match(r, ti + 1, segs, nsegs, k, hit))
				return 1;
		return 0;
	}
	if (si == nsegs)
		return 0;
	if (ps->kind == PS_LIT && !rp_mask_glob(ps->lit, segs[si]))
		return 0;
	hit[ti] = si;
	return tpl_match(r, ti + 1, segs, nsegs, si + 1, hit);
}

/* The path rule claiming each segment (NULL when none). */
static void path_claims(struct rp_mask_ctx *c, const struct rp_slice *segs, size_t n,
			const struct rp_mask_rule **claim)
{
	for (size_t i = 0; i < n; i++)
		claim[i] = NULL;
	for (size_t k = c->nactive[SC_PATH]; k-- > 0;) {
		/* backwards, so that earlier rules overwrite later ones */
		const struct rp_mask_rule *r = c->active[SC_PATH][k];
		if (r->re) {
			for (size_t i = 0; i < n; i++) {
				pcre2_match_data *md = rp_mask_ctx_md(c);
				int rc = pcre2_match(r->re, segs[i].p ? segs[i].p : (PCRE2_SPTR) "",
						     segs[i].n, 0, 0, md, c->m->rules->mctx);
				if (rc >= 0) {
					PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
					if (ov[0] == 0 && ov[1] == segs[i].n)
						claim[i] = r;
				}
			}
			continue;
		}
		size_t hit[MAX_SEGS];
		if (r->nsegs > MAX_SEGS || !tpl_match(r, 0, segs, n, 0, hit))
			continue;
		for (size_t t = 0; t < r->nsegs; t++)
			if (r->segs[t].kind == PS_MASK)
				claim[hit[t]] = r;
	}
}

struct rp_slice rp_mask_target(struct rp_mask_ctx *c, struct rp_slice t, int with_path_rules)
{
	if (!t.n || (!c->nactive[SC_PATH] && !c->nactive[SC_QUERY] && !c->nactive[SC_TEXT]))
		return t;
	size_t i = 0;
	if (t.n > 8 && (memcmp(t.p, "http://", 7) == 0 || memcmp(t.p, "https://", 8) == 0)) {
		const uint8_t *p = memchr(t.p + 8, '/', t.n - 8);
		if (!p)
			return t;
		i = (size_t)(p - t.p);
	}
	size_t q = i;
	while (q < t.n && t.p[q] != '?' && t.p[q] != '#')
		q++;
	struct rp_mask_edits ed = {0};

	/* path segments */
	struct rp_slice raw[MAX_SEGS], dec[MAX_SEGS];
	size_t at[MAX_SEGS], n = 0;
	for (size_t k = i; k < q && n < MAX_SEGS;) {
		if (t.p[k] == '/')
			k++;
		size_t e = k;
		while (e < q && t.p[e] != '/')
			e++;
		if (e == q && e == k && n > 0)
			break; /* a trailing slash */
		raw[n] = rp_slice(t.p + k, e - k);
		dec[n] = pct_decode(c->pool, raw[n], 0);
		at[n] = k;
		n++;
		k = e;
	}
	const struct rp_mask_rule *claim[MAX_SEGS];
	if (with_path_rules && c->nactive[SC_PATH])
		path_claims(c, dec, n, claim);
	else
		memset(claim, 0, sizeof(claim));
	for (size_t k = 0; k < n; k++) {
		if (!dec[k].n)
			continue;
		size_t saved = rp_mask_where_push(c, " path segment %zu", k + 1);
		struct rp_slice out = claim[k] ? rp_mask_act(c, claim[k], -1, dec[k])
					       : rp_mask_text(c, dec[k]);
		rp_mask_where_pop(c, saved);
		if (!same(out, dec[k]))
			rp_mask_edits_push(&ed, at[k], raw[k].n, pct_encode(c->pool, out, ENC_PATH));
	}

	/* query */
	if (q < t.n && t.p[q] == '?') {
		size_t f = q + 1;
		while (f < t.n && t.p[f] != '#')
			f++;
		struct rp_slice qs = rp_slice(t.p + q + 1, f - q - 1);
		struct rp_slice out = rp_mask_urlencoded(c, SC_QUERY, qs);
		if (!same(out, qs))
			rp_mask_edits_push(&ed, q + 1, qs.n, out);
	}
	struct rp_slice out = rp_mask_splice(c->pool, t, &ed);
	rp_mask_edits_free(&ed);
	return out;
}

/* ---- cookies ------------------------------------------------------------------------ */

/* Masks the value of one name=value pair at [at, at + pair.n) of the header. */
static void cookie_pair(struct rp_mask_ctx *c, struct rp_slice pair, size_t at,
			struct rp_mask_edits *ed)
{
	const uint8_t *eq = memchr(pair.p, '=', pair.n);
	if (!eq)
		return;
	struct rp_slice name = rp_slice_trim(rp_slice(pair.p, (size_t)(eq - pair.p)));
	size_t vs = (size_t)(eq - pair.p) + 1;
	struct rp_slice rval = rp_slice(pair.p + vs, pair.n - vs);
	int quoted = rval.n >= 2 && rval.p[0] == '"' && rval.p[rval.n - 1] == '"';
	if (quoted) {
		rval.p++;
		rval.n -= 2;
		vs++;
	}
	if (!rval.n)
		return;
	struct rp_slice val = pct_decode(c->pool, rval, 0);
	size_t saved = rp_mask_where_push_slice(c, " ", name);
	const struct rp_mask_rule *r = rp_mask_find_named(c, SC_COOKIE, name);
	struct rp_slice out = r ? rp_mask_act(c, r, -1, val) : rp_mask_text(c, val);
	rp_mask_where_pop(c, saved);
	if (!same(out, val))
		rp_mask_edits_push(ed, at + vs, rval.n, pct_encode(c->pool, out, ENC_COOKIE));
}

struct rp_slice rp_mask_cookie_header(struct rp_mask_ctx *c, struct rp_slice v)
{
	if (!c->nactive[SC_COOKIE] && !c->nactive[SC_TEXT])
		return v;
	struct rp_mask_edits ed = {0};
	size_t start = 0;
	for (size_t i = 0; i <= v.n; i++) {
		if (i < v.n && v.p[i] != ';')
			continue;
		size_t s = start;
		while (s < i && v.p[s] == ' ')
			s++;
		cookie_pair(c, rp_slice(v.p + s, i - s), s, &ed);
		start = i + 1;
	}
	struct rp_slice out = rp_mask_splice(c->pool, v, &ed);
	rp_mask_edits_free(&ed);
	return out;
}

struct rp_slice rp_mask_set_cookie(struct rp_mask_ctx *c, struct rp_slice v)
{
	if (!c->nactive[SC_COOKIE] && !c->nactive[SC_TEXT])
		return v;
	const uint8_t *semi = memchr(v.p, ';', v.n);
	size_t end = semi ? (size_t)(semi - v.p) : v.n;
	size_t s = 0;
	while (s < end && v.p[s] == ' ')
		s++;
	struct rp_mask_edits ed = {0};
	cookie_pair(c, rp_slice(v.p + s, end - s), s, &ed);
	struct rp_slice out = rp_mask_splice(c->pool, v, &ed);
	rp_mask_edits_free(&ed);
	return out;
}

/* ---- multipart ------------------------------------------------------------------------ */

/* The value of parameter |name| in a header value (quoted or token). */
static struct rp_slice param(struct rp_slice v, const char *name)
{
	size_t k = strlen(name), start = 0;
	for (size_t i = 0; i <= v.n; i++) {
		if (i < v.n && v.p[i] != ';')
			continue;
		struct rp_slice seg = rp_slice_trim(rp_slice(v.p + start, i - start));
		start = i + 1;
		if (seg.n <= k || seg.p[k] != '=' ||
		    !rp_slice_eq_nocase(rp_slice(seg.p, k), rp_slice(name, k)))
			continue;
		struct rp_slice val = rp_slice(seg.p + k + 1, seg.n - k - 1);
		if (val.n && val.p[0] == '"') {
			/* quoted: to the closing quote, which may hide a ';' */
			const uint8_t *q = memchr(val.p + 1, '"', (size_t)(v.p + v.n - val.p) - 1);
			return rp_slice(val.p + 1, q ? (size_t)(q - val.p) - 1 : val.n - 1);
		}
		return val;
	}
	return RP_SLICE_NULL;
}

static const uint8_t *find(struct rp_slice hay, size_t from, const uint8_t *needle, size_t n)
{
	if (from >= hay.n)
		return NULL;
	return memmem(hay.p + from, hay.n - from, needle, n);
}

struct rp_slice rp_mask_multipart(struct rp_mask_ctx *c, struct rp_slice ctype,
				  struct rp_slice body, int *ok)
{
	*ok = 0;
	struct rp_slice bnd = param(ctype, "boundary");
	if (!bnd.n || bnd.n > 200)
		return body;
	uint8_t delim[210];
	delim[0] = delim[1] = '-';
	memcpy(delim + 2, bnd.p, bnd.n);
	size_t dn = bnd.n + 2;
	const uint8_t *p = find(body, 0, delim, dn);
	if (!p)
		return body;
	struct rp_mask_edits ed = {0};
	size_t parts = 0;
	size_t i = (size_t)(p - body.p) + dn;
	for (;;) {
		if (i + 2 <= body.n && body.p[i] == '-' && body.p[i + 1] == '-')
			break; /* the close delimiter */
		/* the rest of the delimiter line */
		while (i < body.n && (body.p[i] == ' ' || body.p[i] == '\t'))
			i++;
		if (i < body.n && body.p[i] == '\r')
			i++;
		if (i >= body.n || body.p[i] != '\n')
			goto out;
		i++;
		if (++parts > RP_LIMIT_MASK_PARTS)
			goto out;
		/* part headers up to an empty line */
		struct rp_slice name = RP_SLICE_NULL, pct = RP_SLICE_NULL;
		size_t hstart = i;
		for (;;) {
			const uint8_t *nl = memchr(body.p + i, '\n', body.n - i);
			if (!nl || (size_t)(nl - body.p) - hstart > 16384)
				goto out;
			size_t e = (size_t)(nl - body.p);
			struct rp_slice line = rp_slice(body.p + i, e - i);
			if (line.n && line.p[line.n - 1] == '\r')
				line.n--;
			i = e + 1;
			if (!line.n)
				break;
			const uint8_t *colon = memchr(line.p, ':', line.n);
			if (!colon)
				continue;
			struct rp_slice hn = rp_slice(line.p, (size_t)(colon - line.p));
			struct rp_slice hv = rp_slice_trim(rp_slice(colon + 1, line.n - hn.n - 1));
			if (rp_slice_eq_nocase(hn, RP_SLICE_LIT("content-type"))) {
				pct = hv;
			} else if (rp_slice_eq_nocase(hn, RP_SLICE_LIT("content-disposition"))) {
				name = param(hv, "name");
				size_t saved = rp_mask_where_push_slice(c, " part ", name);
				rp_mask_where_push(c, " header");
				struct rp_slice out = rp_mask_text(c, hv);
				rp_mask_where_pop(c, saved);
				if (!same(out, hv))
					rp_mask_edits_push(&ed, (size_t)(hv.p - body.p), hv.n, out);
			}
		}
		/* the part body runs to CRLF before the next delimiter */
		const uint8_t *next = find(body, i, delim, dn);
		if (!next)
			goto out;
		size_t e = (size_t)(next - body.p);
		if (e > i && body.p[e - 1] == '\n')
			e--;
		if (e > i && body.p[e - 1] == '\r')
			e--;
		struct rp_slice pb = rp_slice(body.p + i, e >= i ? e - i : 0);
		size_t saved = rp_mask_where_push_slice(c, " part ", name);
		const struct rp_mask_rule *r = rp_mask_find_named(c, SC_FORM, name);
		struct rp_slice out;
		if (r)
			out = rp_mask_act(c, r, -1, pb);
		else if (pct.n)
			out = rp_mask_body(c, pct, pb);
		else
			out = rp_mask_body(c, RP_SLICE_LIT("text/plain"), pb);
		rp_mask_where_pop(c, saved);
		if (!same(out, pb))
			rp_mask_edits_push(&ed, i, pb.n, out);
		i = (size_t)(next - body.p) + dn;
	}
	*ok = 1;
out:;
	struct rp_slice res = *ok ? rp_mask_splice(c->pool, body, &ed) : body;
	rp_mask_edits_free(&ed);
	return res;
}
