/*
 * apply: walks one exchange and masks every place a rule can reach — the
 * request target, headers and trailers (credentials, cookies, URLs in
 * Referer and Location), bodies by media type (json.c, form.c, text) and the
 * client address.  It sits between the source's content decoding and the
 * store's encoder, on the recorder's threads.
 *
 * For each message it first works out which rules are active (in=, type=,
 * method=, route= against the unmasked request) and whether the body is a
 * static asset; then, for each value, the first structural rule that
 * selects it decides, and text rules (detectors, regexes) run over the
 * values no structural rule claimed.  Nothing is shared between calls but
 * the immutable mask: match data and the digest context live on this call.
 *
 * Invariants: what replaces a value is allocated in the exchange's pool and
 * never contains the value; a body that is still content-encoded and does
 * not decode is replaced whole; a changed body that carried a Content-Length
 * (and is not encoded) carries the new one.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <pthread.h>

#include "reprise/coding.h"
#include "mask-int.h"

/* ---- edits ---------------------------------------------------------------------- */

/* Room for more elements of |size| bytes in an array |v| of |*cap| whose
 * first |ninl| live in |inl| (most values get one or two): returns the
 * array to use, |*cap| grown. */
static void *small_grow(void *v, void *inl, size_t ninl, size_t *cap, size_t size)
{
	if (!*cap) {
		*cap = ninl;
		return inl;
	}
	if (v == inl) {
		void *nv = rp_xmalloc((*cap *= 4) * size);
		memcpy(nv, inl, ninl * size);
		return nv;
	}
	return rp_xrealloc(v, (*cap *= 2) * size);
}

void rp_mask_edits_push(struct rp_mask_edits *e, size_t at, size_t len, struct rp_slice rep)
{
	if (e->n == e->cap)
		e->v = small_grow(e->v, e->inl, RP_ARRAY_LEN(e->inl), &e->cap, sizeof(*e->v));
	e->v[e->n++] = (struct rp_mask_edit_v){at, len, rep};
}

void rp_mask_edits_free(struct rp_mask_edits *e)
{
	if (e->v != e->inl)
		free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

struct rp_slice rp_mask_splice(struct rp_pool *pool, struct rp_slice in,
			       const struct rp_mask_edits *e)
{
	if (!e->n)
		return in;
	size_t n = in.n;
	for (size_t i = 0; i < e->n; i++)
		n = n - e->v[i].len + e->v[i].rep.n;
	uint8_t *p = rp_pool_alloc(pool, n ? n : 1);
	size_t o = 0, at = 0;
	for (size_t i = 0; i < e->n; i++) {
		const struct rp_mask_edit_v *ed = &e->v[i];
		memcpy(p + o, in.p + at, ed->at - at);
		o += ed->at - at;
		if (ed->rep.n)
			memcpy(p + o, ed->rep.p, ed->rep.n);
		o += ed->rep.n;
		at = ed->at + ed->len;
	}
	memcpy(p + o, in.p + at, in.n - at);
	return rp_slice(p, n);
}

/* ---- trace ---------------------------------------------------------------------- */

size_t rp_mask_where_push(struct rp_mask_ctx *c, const char *fmt, ...)
{
	size_t saved = c->wlen;
	if (!c->opts || !c->opts->trace)
		return saved;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(c->where + c->wlen, sizeof(c->where) - c->wlen, fmt, ap);
	va_end(ap);
	if (k > 0)
		c->wlen = RP_MIN(c->wlen + (size_t)k, sizeof(c->where) - 1);
	return saved;
}

size_t rp_mask_where_push_slice(struct rp_mask_ctx *c, const char *prefix, struct rp_slice s)
{
	size_t saved = rp_mask_where_push(c, "%s", prefix);
	if (!c->opts || !c->opts->trace)
		return saved;
	for (size_t i = 0; i < s.n && i < 80; i++) {
		uint8_t b = s.p[i];
		if (b >= 0x20 && b < 0x7f)
			rp_mask_where_push(c, "%c", b);
		else
			rp_mask_where_push(c, "\\x%02x", b);
	}
	if (s.n > 80)
		rp_mask_where_push(c, "...");
	return saved;
}

void rp_mask_where_pop(struct rp_mask_ctx *c, size_t len)
{
	c->wlen = len;
	c->where[len] = '\0';
}

static const char *const action_words[] = {"redact", "hash", "tokenize", "keep-last",
					    "fake", "keep", "report"};

void rp_mask_trace(struct rp_mask_ctx *c, const struct rp_mask_rule *r, int detector,
		   struct rp_slice before, struct rp_slice after)
{
	if (!c->opts || !c->opts->trace)
		return;
	struct rp_mask_edit e = {
		.where = c->where,
		.rule_file = r ? r->file : NULL,
		.rule_line = r ? r->line : 0,
		.action = r ? action_words[r->act] : "redact",
		.detector = detector >= 0 ? rp_mask_detector_name((enum rp_mask_detector)detector)
					  : NULL,
		.before = before,
		.after = after,
	};
	c->opts->trace(c->opts->ctx, &e);
}

/* ---- rules for a value ------------------------------------------------------------ */

struct rp_slice rp_mask_act(struct rp_mask_ctx *c, const struct rp_mask_rule *r, int kind,
			    struct rp_slice v)
{
	return rp_mask_act_possible(c, r, kind, v, RP_MASK_POSSIBLE_UNKNOWN);
}

struct rp_slice rp_mask_act_possible(struct rp_mask_ctx *c, const struct rp_mask_rule *r, int kind,
				     struct rp_slice v, uint32_t possible)
{
	if (!r || r->act == ACT_KEEP || v.n == 0)
		return v;
	if (r->act == ACT_REPORT) {
		rp_mask_trace(c, r, kind >= 0 ? kind : -1, v, v);
		return v;
	}
	if (kind < 0 && kind != K_NUMBER &&
	    (r->act == ACT_FAKE || r->act == ACT_HASH || r->act == ACT_TOKENIZE))
		kind = K_UNCLASSIFIED; /* classified by the memo's miss, if at all */
	else if (kind == K_NUMBER && r->act == ACT_FAKE && rp_mask_classify(v) >= 0)
		kind = rp_mask_classify(v); /* a card written as a JSON number */
	/* the memo is keyed by the kind given (a hint where the value was met,
	 * or K_UNCLASSIFIED), which decides the kind the transform gets */
	struct rp_slice out = rp_mask_transform_memo(c->m->memo, &c->m->key, c->pool, r->act,
						     r->keep_last, kind, v, possible);
	if (!rp_slice_eq(out, v)) {
		c->changed = 1;
		rp_mask_trace(c, r, -1, v, out);
	}
	return out;
}

const struct rp_mask_rule *rp_mask_find_named(struct rp_mask_ctx *c, enum rp_mask_scope scope,
					      struct rp_slice name)
{
	if (!c->nactive[scope])
		return NULL;
	struct rp_mask_cands it;
	uint32_t k;
	int exact;
	rp_mask_cands_init(&it, &c->m->index[scope], name);
	while (rp_mask_cands_next(&it, &k, &exact)) {
		const struct rp_mask_rule *r = &c->m->rules->v[k];
		if (c->is_active[k] && (exact || rp_mask_names_match(&r->names, name)))
			return r;
	}
	return NULL;
}

pcre2_match_data *rp_mask_ctx_md(struct rp_mask_ctx *c)
{
	if (!c->md && !(c->md = pcre2_match_data_create(c->m->rules->max_ovector, NULL)))
		rp_oom();
	return c->md;
}


/* ---- text rules ------------------------------------------------------------------ */

struct match {
	size_t s, e;
	const struct rp_mask_rule *r;
	int det;
};

/* As rp_mask_edits: the first few in |inl|. */
struct matches {
	struct match *v;
	size_t n, cap;
	struct match inl[4];
};

/* Inserts [s, e) unless it overlaps a match already taken (earlier rules
 * and earlier detectors win); keeps |m| sorted by start. */
static void take(struct matches *m, size_t s, size_t e, const struct rp_mask_rule *r, int det)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->v[mid].s < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && m->v[lo - 1].e > s)
		return;
	if (lo < m->n && m->v[lo].s < e)
		return;
	if (m->n == m->cap)
		m->v = small_grow(m->v, m->inl, RP_ARRAY_LEN(m->inl), &m->cap, sizeof(*m->v));
	memmove(m->v + lo + 1, m->v + lo, (m->n - lo) * sizeof(*m->v));
	m->v[lo] = (struct match){s, e, r, det};
	m->n++;
}

struct take_ctx {
	struct matches *m;
	const struct rp_mask_rule *r;
};

static void take_found(void *ctx, enum rp_mask_detector d, size_t s, size_t e)
{
	struct take_ctx *tc = ctx;
	take(tc->m, s, e, tc->r, (int)d);
}

static void regex_matches(struct rp_mask_ctx *c, const struct rp_mask_rule *r, struct rp_slice v,
			  struct matches *m)
{
	size_t off = 0;
	while (off <= v.n) {
		pcre2_match_data *md = rp_mask_ctx_md(c);
		int rc = pcre2_match(r->re, v.p ? v.p : (PCRE2_SPTR) "", v.n, off, 0, md,
				     c->m->rules->mctx);
		if (rc < 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		size_t s = ov[0], e = ov[1];
		if (r->re_groups >= 1 && rc >= 2 && ov[2] != PCRE2_UNSET) {
			s = ov[2];
			e = ov[3];
		}
		if (e > s)
			take(m, s, e, r, -1);
		off = ov[1] > off ? ov[1] : off + 1;
		/* never resume inside a UTF-8 sequence */
		while (off < v.n && (v.p[off] & 0xc0) == 0x80)
			off++;
	}
}

struct rp_slice rp_mask_text(struct rp_mask_ctx *c, struct rp_slice v)
{
	if (!c->nactive[SC_TEXT] || v.n == 0)
		return v;
	/* a long text has something for every detector somewhere; their own
	 * scans are the filter then */
	uint32_t possible = !c->text_bits ? 0 : v.n > 256 ? RP_MASK_ALL_DETECTORS : rp_mask_possible(v);
	return rp_mask_text_possible(c, v, possible);
}

struct rp_slice rp_mask_text_possible(struct rp_mask_ctx *c, struct rp_slice v, uint32_t possible)
{
	size_t nr = c->nactive[SC_TEXT];
	/* most values are short words and numbers no detector can match */
	possible &= c->text_bits;
	if (!nr || v.n == 0 || (!possible && !c->text_regex))
		return v;
	unsigned flags = c->m->audit ? RP_MASK_DETECT_AUDIT : 0;
	struct matches m;
	m.v = NULL;
	m.n = m.cap = 0;
	for (size_t i = 0; i < nr; i++) {
		const struct rp_mask_rule *r = c->active[SC_TEXT][i];
		if (r->re) {
			regex_matches(c, r, v, &m);
			continue;
		}
		struct take_ctx tc = {&m, r};
		rp_mask_detect_each(v, r->detectors & possible, flags, take_found, &tc);
	}
	struct rp_slice out = v;
	if (m.n) {
		struct rp_mask_edits ed = {0};
		for (size_t i = 0; i < m.n; i++) {
			const struct match *mt = &m.v[i];
			struct rp_slice before = rp_slice(v.p + mt->s, mt->e - mt->s);
			size_t saved = c->wlen;
			if (mt->s != 0 || mt->e != v.n)
				saved = rp_mask_where_push(c, " @%zu", mt->s);
			if (mt->r->act == ACT_REPORT) {
				rp_mask_trace(c, mt->r, mt->det, before, before);
			} else if (mt->r->act != ACT_KEEP) {
				int kind = mt->det >= 0 ? mt->det : K_UNCLASSIFIED;
				struct rp_slice rep = rp_mask_transform_memo(
					c->m->memo, &c->m->key, c->pool, mt->r->act, mt->r->keep_last,
					kind, before, RP_MASK_POSSIBLE_UNKNOWN);
				if (!rp_slice_eq(rep, before)) {
					rp_mask_trace(c, mt->r, mt->det, before, rep);
					rp_mask_edits_push(&ed, mt->s, mt->e - mt->s, rep);
				}
			}
			rp_mask_where_pop(c, saved);
		}
		if (ed.n) {
			out = rp_mask_splice(c->pool, v, &ed);
			c->changed = 1;
		}
		rp_mask_edits_free(&ed);
	}
	if (m.v != m.inl)
		free(m.v);
	return out;
}

/* ---- media types ------------------------------------------------------------------ */

struct rp_slice rp_mask_media_type(struct rp_pool *pool, struct rp_slice ct)
{
	const uint8_t *semi = ct.n ? memchr(ct.p, ';', ct.n) : NULL;
	struct rp_slice t = rp_slice_trim(rp_slice(ct.p, semi ? (size_t)(semi - ct.p) : ct.n));
	if (!t.n)
		return RP_SLICE_LIT("");
	uint8_t *p = rp_pool_alloc(pool, t.n);
	for (size_t i = 0; i < t.n; i++)
		p[i] = (t.p[i] >= 'A' && t.p[i] <= 'Z') ? (uint8_t)(t.p[i] | 0x20) : t.p[i];
	return rp_slice(p, t.n);
}

static int has_suffix(struct rp_slice s, const char *suf)
{
	size_t k = strlen(suf);
	return s.n >= k && memcmp(s.p + s.n - k, suf, k) == 0;
}

static int has_prefix(struct rp_slice s, const char *pre)
{
	size_t k = strlen(pre);
	return s.n >= k && memcmp(s.p, pre, k) == 0;
}

static int is_json_type(struct rp_slice mt)
{
	return rp_slice_eq(mt, RP_SLICE_LIT("application/json")) ||
	       rp_slice_eq(mt, RP_SLICE_LIT("text/json")) || has_suffix(mt, "+json") ||
	       rp_slice_eq(mt, RP_SLICE_LIT("application/x-ndjson")) ||
	       rp_slice_eq(mt, RP_SLICE_LIT("application/jsonl")) ||
	       rp_slice_eq(mt, RP_SLICE_LIT("application/x-json"));
}

/* Bodies text rules never read: media we cannot parse as text. */
static int is_binary_type(struct rp_slice mt)
{
	static const char *const prefixes[] = {"image/", "audio/", "video/", "font/"};
	static const char *const types[] = {
		"application/zip", "application/gzip", "application/x-gzip", "application/pdf",
		"application/x-protobuf", "application/protobuf", "application/grpc",
		"application/wasm", "application/x-tar", "application/x-7z-compressed",
		"application/vnd.ms-fontobject", "application/font-woff", "application/x-font-ttf",
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(prefixes); i++)
		if (has_prefix(mt, prefixes[i]))
			return 1;
	for (size_t i = 0; i < RP_ARRAY_LEN(types); i++)
		if (rp_slice_eq(mt, rp_slice_str(types[i])) || has_prefix(mt, "application/grpc"))
			return 1;
	return 0;
}

/* Media types that are text whatever bytes they hold (Latin-1 included). */
static int is_text_type(struct rp_slice mt)
{
	static const char *const types[] = {
		"application/xml", "application/javascript", "application/graphql",
		"application/x-yaml", "application/yaml", "application/csv", "application/sql",
		"application/x-www-form-urlencoded",
	};
	if (has_prefix(mt, "text/") || has_prefix(mt, "message/") || has_suffix(mt, "+xml"))
		return 1;
	for (size_t i = 0; i < RP_ARRAY_LEN(types); i++)
		if (rp_slice_eq(mt, rp_slice_str(types[i])))
			return 1;
	return 0;
}

/* For bodies of unknown or generic type: text unless its first kilobyte
 * holds a NUL byte.  Leaning this way masks a Latin-1 or UTF-16-free text
 * body sent as application/octet-stream rather than store it as it came. */
static int looks_textual(struct rp_slice b)
{
	return memchr(b.p, 0, RP_MIN(b.n, (size_t)1024)) == NULL;
}

static struct rp_slice first_nonspace(struct rp_slice b)
{
	size_t i = 0;
	while (i < b.n && (b.p[i] == ' ' || b.p[i] == '\t' || b.p[i] == '\r' || b.p[i] == '\n'))
		i++;
	return rp_slice(b.p + i, b.n - i);
}

struct rp_slice rp_mask_body(struct rp_mask_ctx *c, struct rp_slice ctype, struct rp_slice body)
{
	if (body.n == 0)
		return body;
	struct rp_slice mt = rp_mask_media_type(c->pool, ctype);
	struct rp_slice out = body;
	size_t saved;
	if (is_json_type(mt) ||
	    (mt.n == 0 && first_nonspace(body).n &&
	     (first_nonspace(body).p[0] == '{' || first_nonspace(body).p[0] == '['))) {
		saved = rp_mask_where_push(c, " json ");
		out = rp_mask_json(c, body);
	} else if (rp_slice_eq(mt, RP_SLICE_LIT("application/x-www-form-urlencoded"))) {
		saved = rp_mask_where_push(c, " form");
		out = rp_mask_urlencoded(c, SC_FORM, body);
	} else if (has_prefix(mt, "multipart/") && c->depth < RP_LIMIT_MASK_NEST) {
		int ok = 0;
		saved = c->wlen;
		c->depth++;
		out = rp_mask_multipart(c, ctype, body, &ok);
		c->depth--;
		if (!ok) {
			rp_mask_where_push(c, " text");
			out = rp_mask_text(c, body);
		}
	} else if (is_text_type(mt) || (!is_binary_type(mt) && looks_textual(body))) {
		saved = rp_mask_where_push(c, " text");
		out = rp_mask_text(c, body);
	} else {
		return body;
	}
	rp_mask_where_pop(c, saved);
	return out;
}

/* ---- conditions ------------------------------------------------------------------ */

struct msgfacts {
	struct rp_slice method, route, media;
	struct rp_slice route_last; /* the route's last segment */
};

/* |memo| (may be NULL) keeps the route's verdict across the two messages
 * of an exchange: -1 until known. */
static int cond_ok(const struct rp_mask_cond *cd, unsigned dir, const struct msgfacts *f,
		   int8_t *memo)
{
	if (!(cd->in & dir))
		return 0;
	if (cd->methods.n && !rp_mask_names_match(&cd->methods, f->method))
		return 0;
	if (cd->types.n && !rp_mask_names_match(&cd->types, f->media))
		return 0;
	if (cd->routes.n) {
		if (memo && *memo >= 0)
			return *memo;
		int any = 0;
		for (size_t i = 0; i < cd->routes.n && !any; i++)
			any = rp_mask_route_match(&cd->routes.v[i], f->route, f->route_last);
		if (memo)
			*memo = (int8_t)any;
		if (!any)
			return 0;
	}
	return 1;
}

static void select_rules(struct rp_mask_ctx *c, unsigned dir, const struct msgfacts *f)
{
	const struct rp_mask *m = c->m;
	c->dir = dir;
	for (int sc = 0; sc < SC_COUNT; sc++) {
		if (m->scope_always[sc]) {
			c->active[sc] = m->by_scope[sc];
			c->nactive[sc] = m->nby_scope[sc];
			for (size_t i = 0; i < m->nby_scope[sc]; i++)
				c->is_active[m->by_scope[sc][i]->index] = 1;
			continue;
		}
		c->nactive[sc] = 0;
		for (size_t i = 0; i < m->nby_scope[sc]; i++) {
			const struct rp_mask_rule *r = m->by_scope[sc][i];
			int on = cond_ok(&r->cond, dir, f, &c->route_memo[r->index]);
			c->is_active[r->index] = (uint8_t)on;
			if (on)
				c->active[sc][c->nactive[sc]++] = r;
		}
	}
	c->text_bits = 0;
	c->text_regex = 0;
	for (size_t i = 0; i < c->nactive[SC_TEXT]; i++) {
		c->text_bits |= c->active[SC_TEXT][i]->detectors;
		c->text_regex += c->active[SC_TEXT][i]->re != NULL;
	}
	c->body_static = 0;
	const struct rp_mask_rules *r = m->rules;
	for (size_t i = 0; i < r->nstatics && !c->body_static; i++)
		c->body_static = cond_ok(&r->statics[i], dir, f, &c->route_memo[m->rules->n + i]);
}

/* The path of a request target, for route conditions: no query, no
 * scheme and authority (absolute form). */
static struct rp_slice route_of(struct rp_slice t)
{
	size_t i = 0;
	if (t.n > 7 && (has_prefix(t, "http://") || has_prefix(t, "https://"))) {
		const uint8_t *p = memchr(t.p + 8, '/', t.n - 8);
		if (!p)
			return RP_SLICE_LIT("/");
		i = (size_t)(p - t.p);
	}
	size_t j = i;
	while (j < t.n && t.p[j] != '?' && t.p[j] != '#')
		j++;
	return rp_slice(t.p + i, j - i);
}

/* ---- headers ---------------------------------------------------------------------- */

/* What a header's name says about how its value is masked. */
enum {
	/* framing: rewriting one would change how the record replays; only a
	 * rule naming one exactly (no glob) applies */
	HK_FRAMING = 1,
	HK_URL = 2,        /* a URL: masked as a request target */
	HK_AUTH = 4,       /* credentials that keep their scheme word */
	HK_COOKIE = 8,
	HK_SET_COOKIE = 16,
};

/* The names with HK_* bits, found by the index's name hash |h| in a small
 * open-addressed table built once. */
static const struct {
	const char *s;
	size_t n;
	unsigned kind;
} hk_names[] = {
#define N(x, k) {x, sizeof(x) - 1, k}
	N("host", HK_FRAMING), N("content-length", HK_FRAMING),
	N("content-type", HK_FRAMING), N("content-encoding", HK_FRAMING),
	N("transfer-encoding", HK_FRAMING), N("connection", HK_FRAMING),
	N("upgrade", HK_FRAMING), N("te", HK_FRAMING), N("trailer", HK_FRAMING),
	N("keep-alive", HK_FRAMING), N(":method", HK_FRAMING), N(":scheme", HK_FRAMING),
	N(":authority", HK_FRAMING), N(":status", HK_FRAMING),
	N("referer", HK_URL), N("location", HK_URL), N("content-location", HK_URL),
	N(":path", HK_URL), N("origin", HK_URL),
	N("authorization", HK_AUTH), N("proxy-authorization", HK_AUTH),
	N("cookie", HK_COOKIE), N("set-cookie", HK_SET_COOKIE),
#undef N
};
#define HK_SLOTS 64 /* a power of two, above twice the names */
static struct {
	uint64_t h;
	uint8_t used, name; /* hk_names[name] */
} hk_table[HK_SLOTS];
static pthread_once_t hk_once = PTHREAD_ONCE_INIT;

static void hk_init(void)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(hk_names); i++) {
		uint64_t h = rp_mask_name_hash((const uint8_t *)hk_names[i].s, hk_names[i].n);
		size_t k = h & (HK_SLOTS - 1);
		while (hk_table[k].used)
			k = (k + 1) & (HK_SLOTS - 1);
		hk_table[k].h = h;
		hk_table[k].used = 1;
		hk_table[k].name = (uint8_t)i;
	}
}

/* The HK_* bits of |name|, whose rp_mask_name_hash is |h| (the table is
 * built by index_rules, which every mask goes through). */
static unsigned header_kind(struct rp_slice name, uint64_t h)
{
	for (size_t k = h & (HK_SLOTS - 1); hk_table[k].used; k = (k + 1) & (HK_SLOTS - 1)) {
		unsigned i = hk_table[k].name;
		if (hk_table[k].h == h && rp_slice_eq_nocase(name, rp_slice(hk_names[i].s, hk_names[i].n)))
			return hk_names[i].kind;
	}
	return 0;
}

static const struct rp_mask_rule *header_rule(struct rp_mask_ctx *c, struct rp_slice name,
					      uint64_t h, int framing)
{
	if (!c->nactive[SC_HEADER])
		return NULL;
	struct rp_mask_cands it;
	uint32_t idx;
	int exact;
	rp_mask_cands_init_hash(&it, &c->m->index[SC_HEADER], name, h);
	while (rp_mask_cands_next(&it, &idx, &exact)) {
		const struct rp_mask_rule *r = &c->m->rules->v[idx];
		if (!c->is_active[idx])
			continue;
		if (exact)
			return r;
		for (size_t k = 0; k < r->names.n; k++) {
			const struct rp_mask_name *nm = &r->names.v[k];
			if (framing && nm->glob)
				continue;
			if (rp_mask_name_match(nm, name))
				return r;
		}
	}
	return NULL;
}

/* Authorization values keep their scheme word ("Bearer", "Basic"). */
static struct rp_slice act_credentials(struct rp_mask_ctx *c, const struct rp_mask_rule *r,
				       struct rp_slice v)
{
	size_t i = 0;
	while (i < v.n && v.p[i] != ' ')
		i++;
	if (i == 0 || i >= v.n || r->act == ACT_KEEP)
		return rp_mask_act(c, r, -1, v);
	size_t j = i;
	while (j < v.n && v.p[j] == ' ')
		j++;
	struct rp_slice cred = rp_slice(v.p + j, v.n - j);
	struct rp_slice out = rp_mask_act(c, r, r->act == ACT_FAKE ? RP_MASK_BEARER : -1, cred);
	if (out.p == cred.p && out.n == cred.n)
		return v;
	uint8_t *p = rp_pool_alloc(c->pool, j + out.n);
	memcpy(p, v.p, j);
	memcpy(p + j, out.p, out.n);
	return rp_slice(p, j + out.n);
}

/* ---- header values the text rules leave alone ----------------------------------------

 * A response carries the same Server, Date, ETag or Accept-Ranges values
 * exchange after exchange, and the text rules find nothing in them every
 * time.  When those rules hold no condition (the same rules for every
 * message) and no "report" action (which traces values it leaves), their
 * verdict is a function of the value alone: values found clean are kept
 * in a small direct-mapped table (32 KB, values up to 55 bytes, compared
 * byte for byte), and met again they skip the detectors.  Only "nothing
 * to change" is remembered, so a hit returns the value itself, as the
 * rules would. */
#define CLEAN_SLOTS 512
#define CLEAN_VALUE 55

struct rp_mask_clean {
	pthread_mutex_t mu;
	struct {
		uint64_t h;
		uint8_t n, v[CLEAN_VALUE];
	} slot[CLEAN_SLOTS];
};

static struct rp_mask_clean *clean_new(const struct rp_mask *m)
{
	if (!m->scope_always[SC_TEXT] || !m->nby_scope[SC_TEXT])
		return NULL;
	for (size_t i = 0; i < m->nby_scope[SC_TEXT]; i++)
		if (m->by_scope[SC_TEXT][i]->act == ACT_REPORT)
			return NULL;
	struct rp_mask_clean *cl = rp_xcalloc(1, sizeof(*cl));
	pthread_mutex_init(&cl->mu, NULL);
	return cl;
}

static void clean_free(struct rp_mask_clean *cl)
{
	if (!cl)
		return;
	pthread_mutex_destroy(&cl->mu);
	OPENSSL_cleanse(cl, sizeof(*cl)); /* header values */
	free(cl);
}

/* rp_mask_text for a header value, through the table when it applies. */
static struct rp_slice header_text(struct rp_mask_ctx *c, struct rp_slice v)
{
	struct rp_mask_clean *cl = c->m->clean;
	if (!cl || v.n > CLEAN_VALUE || !v.n)
		return rp_mask_text(c, v);
	uint64_t h = rp_mask_hash_words(0, v.p, v.n, v.p + v.n, 0);
	size_t k = h % CLEAN_SLOTS;
	pthread_mutex_lock(&cl->mu);
	int hit = cl->slot[k].h == h && cl->slot[k].n == v.n && !memcmp(cl->slot[k].v, v.p, v.n);
	pthread_mutex_unlock(&cl->mu);
	if (hit)
		return v;
	struct rp_slice out = rp_mask_text(c, v);
	if (out.p == v.p && out.n == v.n) {
		pthread_mutex_lock(&cl->mu);
		cl->slot[k].h = h;
		cl->slot[k].n = (uint8_t)v.n;
		memcpy(cl->slot[k].v, v.p, v.n);
		pthread_mutex_unlock(&cl->mu);
	}
	return out;
}

static void mask_headers(struct rp_mask_ctx *c, struct rp_headers *h, const char *what)
{
	const char *dir = c->dir == RP_MASK_IN_REQ ? "request" : "response";
	int tracing = c->opts && c->opts->trace;
	for (size_t i = 0; i < h->n; i++) {
		struct rp_header *hd = &h->v[i];
		struct rp_slice v = hd->value, out = v;
		size_t saved = c->wlen;
		if (tracing) {
			rp_mask_where_push(c, "%s %s ", dir, what);
			rp_mask_where_push_slice(c, "", hd->name);
		}
		uint64_t nh = rp_mask_name_hash(hd->name.p, hd->name.n);
		unsigned kind = header_kind(hd->name, nh);
		const struct rp_mask_rule *r = header_rule(c, hd->name, nh, kind & HK_FRAMING);
		if (r) {
			if (kind & HK_AUTH)
				out = act_credentials(c, r, v);
			else
				out = rp_mask_act(c, r, -1, v);
		} else if (kind & HK_COOKIE) {
			out = rp_mask_cookie_header(c, v);
		} else if (kind & HK_SET_COOKIE) {
			out = rp_mask_set_cookie(c, v);
		} else if (kind & HK_URL) {
			out = rp_mask_target(c, v, rp_slice_eq(hd->name, RP_SLICE_LIT(":path")));
		} else if (!(kind & HK_FRAMING)) {
			out = header_text(c, v);
		}
		rp_mask_where_pop(c, saved);
		hd->value = out;
	}
}

/* ---- bodies ----------------------------------------------------------------------- */

static void set_content_length(struct rp_mask_ctx *c, struct rp_message *msg, size_t n)
{
	for (size_t i = 0; i < msg->headers.n; i++) {
		struct rp_header *hd = &msg->headers.v[i];
		if (!rp_slice_eq_nocase(hd->name, RP_SLICE_LIT("content-length")))
			continue;
		char buf[24];
		int k = snprintf(buf, sizeof(buf), "%zu", n);
		hd->value = rp_pool_dup(c->pool, rp_slice(buf, (size_t)k));
	}
}

static void mask_message_body(struct rp_mask_ctx *c, struct rp_message *msg)
{
	struct rp_slice body = msg->body;
	if (body.n == 0)
		return;
	const char *dir = c->dir == RP_MASK_IN_REQ ? "request" : "response";
	size_t saved = rp_mask_where_push(c, "%s body", dir);
	const struct rp_header *ce = rp_headers_get(&msg->headers, RP_SLICE_LIT("content-encoding"));
	int encoded = ce && ce->value.n &&
		      !rp_slice_eq_nocase(ce->value, RP_SLICE_LIT("identity")) && msg->encoding.n == 0;
	if (encoded) {
		/* still as on the wire: decode here, or never store it */
		uint64_t orig = msg->orig_len;
		if (rp_message_decode_body(msg, c->pool, RP_LIMIT_BODY_DECODED) != 0) {
			if (c->m->audit) {
				rp_mask_where_push(c, " (content-encoding does not decode)");
				rp_mask_trace(c, c->m->rules->n ? &c->m->rules->v[0] : NULL, -1, body,
					      body);
			} else {
				msg->body = RP_SLICE_LIT(RP_MASK_REDACTED);
				msg->orig_len = orig ? orig : body.n;
				rp_headers_del(&msg->headers, RP_SLICE_LIT("content-encoding"));
				set_content_length(c, msg, msg->body.n);
				c->x->flags |= RP_XF_CODING_ERROR;
				c->changed = 1;
				rp_mask_where_push(c, " (content-encoding does not decode)");
				rp_mask_trace(c, NULL, -1, body, msg->body);
			}
			rp_mask_where_pop(c, saved);
			return;
		}
		if (orig)
			msg->orig_len = orig;
		body = msg->body;
	}
	if (c->body_static) {
		rp_mask_where_pop(c, saved);
		return;
	}
	const struct rp_header *ct = rp_headers_get(&msg->headers, RP_SLICE_LIT("content-type"));
	struct rp_slice ctype = ct ? ct->value : RP_SLICE_NULL;
	struct rp_slice out;
	if (c->nactive[SC_BODY]) {
		out = rp_mask_act(c, c->active[SC_BODY][0], -1, body);
	} else {
		out = rp_mask_body(c, ctype, body);
	}
	rp_mask_where_pop(c, saved);
	if (out.p == body.p && out.n == body.n)
		return;
	if (msg->orig_len == 0)
		msg->orig_len = msg->body.n;
	msg->body = out;
	if (msg->encoding.n == 0)
		set_content_length(c, msg, out.n);
}

/* ---- the client address ------------------------------------------------------------ */

static void mask_client(struct rp_mask_ctx *c, const struct msgfacts *f)
{
	struct rp_endpoint *e = &c->x->client;
	if (!e->family)
		return;
	const struct rp_mask_rule *r = NULL;
	const struct rp_mask *m = c->m;
	for (size_t i = 0; i < m->nby_scope[SC_CLIENT] && !r; i++)
		if (cond_ok(&m->by_scope[SC_CLIENT][i]->cond, RP_MASK_IN_REQ, f, NULL))
			r = m->by_scope[SC_CLIENT][i];
	if (!r || r->act == ACT_KEEP)
		return;
	char before[64], after[64];
	rp_endpoint_format(e, before, sizeof(before));
	if (r->act == ACT_REDACT) {
		memset(e->addr, 0, sizeof(e->addr));
	} else {
		uint8_t md[32];
		struct rp_slice parts[2] = {RP_SLICE_LIT("client\0"), rp_slice(e->addr, e->family == 4 ? 4 : 16)};
		parts[0].n = 7;
		rp_mask_hmac(&m->key, parts, 2, md);
		memset(e->addr, 0, sizeof(e->addr));
		if (e->family == 4) {
			e->addr[0] = 198;
			e->addr[1] = (uint8_t)(18 + (md[0] & 1));
			e->addr[2] = md[1];
			e->addr[3] = (uint8_t)(1 + md[2] % 254);
		} else {
			static const uint8_t doc[4] = {0x20, 0x01, 0x0d, 0xb8};
			memcpy(e->addr, doc, 4);
			memcpy(e->addr + 4, md, 12);
		}
	}
	rp_endpoint_format(e, after, sizeof(after));
	size_t saved = rp_mask_where_push(c, "client address");
	c->changed = 1;
	rp_mask_trace(c, r, -1, rp_slice_str(before), rp_slice_str(after));
	rp_mask_where_pop(c, saved);
}

/* ---- the call -------------------------------------------------------------------- */

int rp_mask_apply(const struct rp_mask *m, struct rp_exchange *x,
		  const struct rp_mask_apply_opts *opts)
{
	struct rp_mask_ctx c = {.m = m, .x = x, .pool = x->pool, .opts = opts};
	c.is_active = m->rules->n ? rp_pool_alloc(x->pool, m->rules->n) : NULL;
	c.route_memo = rp_pool_alloc(x->pool, m->rules->n + m->rules->nstatics + 1);
	memset(c.route_memo, 0xff, m->rules->n + m->rules->nstatics + 1);
	for (int sc = 0; sc < SC_COUNT; sc++)
		c.active[sc] = m->nby_scope[sc] && !m->scope_always[sc]
				       ? rp_pool_alloc(x->pool, m->nby_scope[sc] * sizeof(*c.active[sc]))
				       : NULL;
	c.where[0] = '\0';

	/* Conditions read the request as it came, before anything is masked. */
	struct rp_slice route = rp_pool_dup(x->pool, route_of(x->req.target));
	const struct rp_header *ct = rp_headers_get(&x->req.m.headers, RP_SLICE_LIT("content-type"));
	struct msgfacts f = {x->req.method, route,
			     rp_mask_media_type(x->pool, ct ? ct->value : RP_SLICE_NULL),
			     rp_mask_route_last(route)};
	select_rules(&c, RP_MASK_IN_REQ, &f);
	if (x->req.target.n) {
		size_t saved = rp_mask_where_push(&c, "request target");
		x->req.target = rp_mask_target(&c, x->req.target, 1);
		rp_mask_where_pop(&c, saved);
	}
	mask_headers(&c, &x->req.m.headers, "header");
	mask_headers(&c, &x->req.m.trailers, "trailer");
	mask_message_body(&c, &x->req.m);

	ct = rp_headers_get(&x->resp.m.headers, RP_SLICE_LIT("content-type"));
	f.media = rp_mask_media_type(x->pool, ct ? ct->value : RP_SLICE_NULL);
	select_rules(&c, RP_MASK_IN_RESP, &f);
	mask_headers(&c, &x->resp.m.headers, "header");
	mask_headers(&c, &x->resp.m.trailers, "trailer");
	mask_message_body(&c, &x->resp.m);

	if (!m->audit) {
		mask_client(&c, &f);
		x->flags |= RP_XF_MASKED;
	}
	pcre2_match_data_free(c.md);
	return 0;
}

/* ---- name indexes -------------------------------------------------------------------- */

static uint64_t name_hash(struct rp_slice s)
{
	return rp_mask_name_hash(s.p, s.n);
}

static struct rp_mask_index_slot *index_slot(const struct rp_mask_index *ix, struct rp_slice name,
					     uint64_t h)
{
	if (!ix->cap)
		return NULL;
	for (size_t i = h & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
		struct rp_mask_index_slot *sl = &ix->slots[i];
		if (!sl->rules)
			return sl;
		if (sl->hash == h && rp_slice_eq_nocase(sl->name, name))
			return sl;
	}
}

static void index_add(struct rp_mask_index *ix, struct rp_slice name, uint32_t rule)
{
	if ((ix->used + 1) * 2 > ix->cap) {
		struct rp_mask_index old = *ix;
		ix->cap = ix->cap ? ix->cap * 2 : 64;
		ix->slots = rp_xcalloc(ix->cap, sizeof(*ix->slots));
		for (size_t i = 0; i < old.cap; i++)
			if (old.slots[i].rules)
				*index_slot(ix, old.slots[i].name, old.slots[i].hash) = old.slots[i];
		free(old.slots);
	}
	uint64_t h = name_hash(name);
	ix->filter[h >> 61] |= 1ull << (h >> 55 & 63);
	struct rp_mask_index_slot *sl = index_slot(ix, name, h);
	if (!sl->rules) {
		sl->name = name;
		sl->hash = h;
		sl->cap = 4;
		sl->rules = rp_xmalloc(sl->cap * sizeof(*sl->rules));
		ix->used++;
	}
	if (sl->n && sl->rules[sl->n - 1] == rule)
		return;
	if (sl->n == sl->cap)
		sl->rules = rp_xrealloc(sl->rules, (sl->cap *= 2) * sizeof(*sl->rules));
	sl->rules[sl->n++] = rule;
}

static void index_build(struct rp_mask *m, enum rp_mask_scope sc)
{
	struct rp_mask_index *ix = &m->index[sc];
	ix->always = m->nby_scope[sc] ? rp_xmalloc(m->nby_scope[sc] * sizeof(*ix->always)) : NULL;
	for (size_t i = 0; i < m->nby_scope[sc]; i++) {
		const struct rp_mask_rule *r = m->by_scope[sc][i];
		const struct rp_mask_names *names = &r->names;
		int always = 0;
		if (sc == SC_JSON) {
			const struct rp_mask_jstep *last = &r->steps[r->nsteps - 1];
			always = last->kind != JS_NAME;
			names = &last->names;
		}
		for (size_t k = 0; k < names->n && !always; k++)
			always = names->v[k].glob;
		if (always) {
			ix->always[ix->nalways++] = r->index;
			continue;
		}
		for (size_t k = 0; k < names->n; k++)
			index_add(ix, names->v[k].s, r->index);
	}
}

static void index_free(struct rp_mask_index *ix)
{
	for (size_t i = 0; i < ix->cap; i++)
		free(ix->slots[i].rules);
	free(ix->slots);
	free(ix->always);
}

void rp_mask_cands_init(struct rp_mask_cands *it, const struct rp_mask_index *ix,
			struct rp_slice name)
{
	rp_mask_cands_init_hash(it, ix, name, name.n ? name_hash(name) : 0);
}

const struct rp_mask_index_slot *rp_mask_index_find(const struct rp_mask_index *ix,
						    struct rp_slice name, uint64_t hash)
{
	const struct rp_mask_index_slot *sl = index_slot(ix, name, hash);
	return sl && sl->rules ? sl : NULL;
}

/* ---- construction ------------------------------------------------------------------ */

static void index_rules(struct rp_mask *m)
{
	const struct rp_mask_rules *r = m->rules;
	for (size_t i = 0; i < r->n; i++)
		m->nby_scope[r->v[i].scope]++;
	for (int sc = 0; sc < SC_COUNT; sc++) {
		m->by_scope[sc] = m->nby_scope[sc] ? rp_xcalloc(m->nby_scope[sc], sizeof(*m->by_scope[sc]))
						   : NULL;
		m->nby_scope[sc] = 0;
	}
	for (size_t i = 0; i < r->n; i++) {
		enum rp_mask_scope sc = r->v[i].scope;
		m->by_scope[sc][m->nby_scope[sc]++] = &r->v[i];
	}
	for (int sc = 0; sc < SC_COUNT; sc++) {
		m->scope_always[sc] = 1;
		for (size_t i = 0; i < m->nby_scope[sc]; i++) {
			const struct rp_mask_cond *cd = &m->by_scope[sc][i]->cond;
			if (cd->in != (RP_MASK_IN_REQ | RP_MASK_IN_RESP) || cd->methods.n ||
			    cd->types.n || cd->routes.n)
				m->scope_always[sc] = 0;
		}
	}
	pthread_once(&hk_once, hk_init);
	static const enum rp_mask_scope named[] = {SC_HEADER, SC_COOKIE, SC_QUERY, SC_FORM, SC_JSON};
	for (size_t i = 0; i < RP_ARRAY_LEN(named); i++)
		index_build(m, named[i]);
}

int rp_mask_new(struct rp_mask_rules *rules, const void *key, size_t keylen, struct rp_mask **out)
{
	struct rp_mask *m = rp_xcalloc(1, sizeof(*m));
	m->rules = rules;
	int rc = rp_mask_key_init(&m->key, key, keylen);
	if (rc) {
		rp_mask_free(m);
		return rc;
	}
	m->keyed = 1;
	m->memo = rp_mask_memo_new();
	index_rules(m);
	m->clean = clean_new(m);
	*out = m;
	return 0;
}

/* The static assets an audit leaves out unless asked (as default.rules). */
static const char audit_statics[] =
	"static type=text/css,text/javascript,application/javascript,application/x-javascript,"
	"application/ecmascript,image/*,font/*,audio/*,video/*,application/wasm\n"
	"static route=*.js,*.mjs,*.cjs,*.css,*.map,*.png,*.jpg,*.jpeg,*.gif,*.webp,*.avif,*.ico,"
	"*.svg,*.woff,*.woff2,*.ttf,*.otf,*.eot,*.mp4,*.webm,*.mp3,*.wasm\n";

int rp_mask_audit_new(uint32_t detectors, unsigned flags, struct rp_mask **out)
{
	struct rp_mask_rules *rules = NULL;
	const char *text = (flags & RP_MASK_AUDIT_STATIC) ? "" : audit_statics;
	if (rp_mask_rules_parse("<audit>", text, strlen(text), &rules, NULL))
		return RP_E_FORMAT; /* the text above is ours: cannot happen */
	struct rp_mask_rule *r = rp_xcalloc(1, sizeof(*r));
	free(rules->v);
	rules->v = r;
	rules->n = rules->cap = 1;
	r->scope = SC_TEXT;
	r->act = ACT_REPORT;
	r->detectors = detectors & RP_MASK_ALL_DETECTORS;
	r->cond.in = RP_MASK_IN_REQ | RP_MASK_IN_RESP;
	r->file = "<audit>";
	r->canon = "text audit report";
	rp_mask_rules_finish(rules);
	struct rp_mask *m = rp_xcalloc(1, sizeof(*m));
	m->rules = rules;
	m->audit = 1;
	m->audit_flags = flags;
	index_rules(m);
	*out = m;
	return 0;
}

void rp_mask_free(struct rp_mask *m)
{
	if (!m)
		return;
	if (m->keyed)
		rp_mask_key_dispose(&m->key);
	rp_mask_memo_free(m->memo);
	clean_free(m->clean);
	for (int sc = 0; sc < SC_COUNT; sc++) {
		free(m->by_scope[sc]);
		index_free(&m->index[sc]);
	}
	rp_mask_rules_free(m->rules);
	free(m);
}

const char *rp_mask_digest(const struct rp_mask *m)
{
	return m->rules->digest;
}

const char *rp_mask_key_fingerprint(const struct rp_mask *m)
{
	return m->keyed ? m->key.fingerprint : "";
}
