/*
 * json: masks a JSON body in place.  A single forward scan over the original
 * text keeps a stack of where it is (member names, array indexes), asks the
 * json rules about each value's path ($.user.email, $..password,
 * $.items[*].card) and runs the text rules over every string, number and
 * member name no rule claimed; each change is a splice of the original text.
 *
 * Why not parse into a tree (jansson) and print it again: re-printing
 * changes whitespace, key order guarantees and number spelling (1.0 vs 1,
 * 1e3 vs 1000) of every value, so a masked record would differ from the
 * original in places no rule touched and diffs on replay would be noisy; a
 * tree also costs an allocation per value.  Splicing keeps every byte not
 * masked, costs nothing when nothing matches, and needs no second copy of
 * the document.
 *
 * A path that selects an object or array masks every string and number
 * inside it (booleans and null are never personal).  The first rule in file
 * order wins, whether it selects the value or an ancestor.  A string's
 * escapes are decoded before rules see it and the replacement is escaped
 * again.  Numbers keep being numbers when the action keeps them numeric
 * (fake); otherwise they become strings ("REDACTED", a token).
 *
 * Bodies that are not valid JSON are masked as far as they parse; the rest is
 * masked as text.  A body cut short (a recording cap) is masked up to the cut,
 * including the string or number it ends in.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "mask-int.h"

struct frame {
	uint8_t is_obj;
	struct rp_slice key;   /* decoded member name, objects */
	uint64_t key_hash;     /* its index hash (0: compute it) */
	uint32_t index;        /* element index, arrays */
	const struct rp_mask_rule *claim; /* rule selecting this container */
};

struct scan {
	struct rp_mask_ctx *c;
	struct rp_slice b;
	struct frame *st;
	size_t depth;
	struct rp_mask_edits ed;
	int tracing;
};

static int ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(struct rp_slice b, size_t i)
{
	while (i < b.n && ws(b.p[i]))
		i++;
	return i;
}

/* ---- strings --------------------------------------------------------------------- */

/* A string as one pass over it saw it. */
struct sinfo {
	size_t end;       /* index of the closing quote, or b.n when cut short */
	int esc;          /* holds escapes */
	uint32_t possible;/* detectors that could match (raw bytes; unset with esc) */
	uint64_t hash;    /* index hash of the raw bytes (member names) */
};

/* Scans the string whose opening quote is at |i|, in the same pass counting
 * what the detector prefilter needs and, for member names, hashing. */
static void scan_string(struct rp_slice b, size_t i, struct sinfo *si, int want_hash)
{
#if defined(__SSE2__)
	/* Most strings end within 16 bytes without an escape: one load
	 * answers.  Member names above all hold no digit, capital, '.', ':'
	 * or '@', and then no detector could match (a bearer token or an IBAN
	 * is longer); the others are counted from the same load. */
	if (i + 17 <= b.n) {
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(b.p + i + 1));
		unsigned qm = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8('"')),
				     _mm_cmpeq_epi8(c, _mm_set1_epi8('\\'))));
		unsigned n = qm ? (unsigned)__builtin_ctz(qm) : 16;
		if (n < 16 && b.p[i + 1 + n] == '"') {
			unsigned keep = (1u << n) - 1;
			__m128i odd = _mm_or_si128(
				_mm_or_si128(rp_mask_v_in(c, '0', 9), rp_mask_v_in(c, 'A', 25)),
				_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8('.')),
							  _mm_cmpeq_epi8(c, _mm_set1_epi8(':'))),
					     _mm_cmpeq_epi8(c, _mm_set1_epi8('@'))));
			si->end = i + 1 + n;
			si->esc = 0;
			si->possible = 0;
			if ((unsigned)_mm_movemask_epi8(odd) & keep) {
				struct rp_mask_facts f = {0};
				rp_mask_facts_block(c, keep, &f);
				/* "eyJ" starting within the string's first n - 2 bytes
				 * (rp_mask_facts_eyj's question, from the register) */
				if (f.dots >= 2 && n >= 3 &&
				    ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8('e'))) &
				     (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8('y'))) >> 1 &
				     (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8('J'))) >> 2 &
				     ((1u << (n - 2)) - 1)))
					f.eyj = 1;
				si->possible = rp_mask_facts_bits(&f, n);
			}
			si->hash = want_hash ? rp_mask_name_hash_in(b.p + i + 1, n, b.p + b.n) : 0;
			return;
		}
	}
#endif
	struct rp_mask_facts f = {0};
	/* 16 bytes at a time up to the closing quote or a backslash, then one
	 * at a time (escapes, the last bytes of the body) */
	size_t j = rp_mask_facts_run(b.p, i + 1, b.n, &f, 1), vec_end = j;
	si->esc = 0;
	for (; j < b.n; j++) {
		uint8_t ch = b.p[j];
		uint16_t k = rp_mask_fact_class[ch];
		if (k & RP_MF_QUOTE)
			break;
		if (k & RP_MF_BSLASH) {
			si->esc = 1; /* no hash then: the name is decoded first */
			j++;
			continue;
		}
		if (k)
			rp_mask_facts_add(&f, k, b.p, j, b.n);
	}
	si->end = RP_MIN(j, b.n);
	rp_mask_facts_eyj(&f, b.p, i + 1, vec_end, b.n);
	si->possible = rp_mask_facts_bits(&f, si->end - i - 1);
	si->hash = want_hash && !si->esc ? rp_mask_name_hash_in(b.p + i + 1, si->end - i - 1, b.p + b.n) : 0;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static long u4(struct rp_slice s, size_t i)
{
	if (i + 4 > s.n)
		return -1;
	long v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s.p[i + (size_t)k]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static size_t put_utf8(uint8_t *p, long cp)
{
	if (cp < 0x80) {
		p[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		p[0] = (uint8_t)(0xc0 | cp >> 6);
		p[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		p[0] = (uint8_t)(0xe0 | cp >> 12);
		p[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		p[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	p[0] = (uint8_t)(0xf0 | cp >> 18);
	p[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	p[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	p[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* The decoded content of a string (between the quotes), in |pool|. */
static struct rp_slice unescape(struct rp_pool *pool, struct rp_slice s)
{
	uint8_t *p = rp_pool_alloc(pool, s.n ? s.n : 1);
	size_t o = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] != '\\' || i + 1 >= s.n) {
			p[o++] = s.p[i];
			continue;
		}
		uint8_t e = s.p[++i];
		switch (e) {
		case 'n': p[o++] = '\n'; break;
		case 't': p[o++] = '\t'; break;
		case 'r': p[o++] = '\r'; break;
		case 'b': p[o++] = '\b'; break;
		case 'f': p[o++] = '\f'; break;
		case 'u': {
			long cp = u4(s, i + 1);
			if (cp < 0) {
				p[o++] = '\\';
				p[o++] = 'u';
				break;
			}
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && i + 2 < s.n && s.p[i + 1] == '\\' &&
			    s.p[i + 2] == 'u') {
				long lo = u4(s, i + 3);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd; /* a lone surrogate */
			/* six escaped bytes never decode to more than four */
			o += put_utf8(p + o, cp);
			break;
		}
		default:
			p[o++] = e; /* \" \\ \/ and anything else as itself */
		}
	}
	return rp_slice(p, o);
}

/* Bytes of |c| escaped: 1, 2 (\" \\ \n \t \r) or 6 (\u00XX). */
static inline size_t escaped_len(uint8_t c)
{
	if (c >= 0x20 && c != '"' && c != '\\')
		return 1;
	return (c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r') ? 2 : 6;
}

/* Writes |s| escaped to |p| (room for the sum of escaped_len); returns the
 * length written. */
static size_t escape_to(uint8_t *p, struct rp_slice s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < s.n; i++) {
		uint8_t c = s.p[i];
		if (escaped_len(c) == 1) {
			p[o++] = c;
			continue;
		}
		p[o++] = '\\';
		switch (c) {
		case '"': case '\\': p[o++] = c; break;
		case '\n': p[o++] = 'n'; break;
		case '\t': p[o++] = 't'; break;
		case '\r': p[o++] = 'r'; break;
		default:
			memcpy(p + o, "u00", 3);
			p[o + 3] = (uint8_t)hex[c >> 4];
			p[o + 4] = (uint8_t)hex[c & 15];
			o += 5;
		}
	}
	return o;
}

/* |s| escaped (and quoted when |quote|), sized first so that it is written
 * once, straight into |pool|. */
static struct rp_slice escaped(struct rp_pool *pool, struct rp_slice s, int quote)
{
	size_t plain = 0;
	while (plain < s.n && escaped_len(s.p[plain]) == 1)
		plain++;
	size_t n = plain + (quote ? 2 : 0);
	for (size_t i = plain; i < s.n; i++)
		n += escaped_len(s.p[i]);
	uint8_t *p = rp_pool_alloc(pool, n ? n : 1);
	size_t o = 0;
	if (quote)
		p[o++] = '"';
	if (plain)
		memcpy(p + o, s.p, plain);
	o += plain;
	o += escape_to(p + o, rp_slice(s.p + plain, s.n - plain));
	if (quote)
		p[o++] = '"';
	return rp_slice(p, o);
}

/* ---- paths ----------------------------------------------------------------------- */

static int comp_ok(const struct rp_mask_jstep *s, const struct frame *f)
{
	switch (s->kind) {
	case JS_ANY:
		return 1;
	case JS_NAME:
		return f->is_obj && rp_mask_names_match(&s->names, f->key);
	default:
		return !f->is_obj && f->index == s->index;
	}
}

/* Does the path of the value under frames [0, d) match |r|? */
static int path_match(const struct rp_mask_rule *r, const struct frame *fr, size_t d)
{
	if (d == 0 || !comp_ok(&r->steps[r->nsteps - 1], &fr[d - 1]))
		return 0; /* the last step always names the value itself */
	uint8_t cur[RP_LIMIT_MASK_JSON_DEPTH + 1], nxt[RP_LIMIT_MASK_JSON_DEPTH + 1];
	memset(cur, 0, d + 1);
	cur[0] = 1;
	for (size_t k = 0; k < r->nsteps; k++) {
		const struct rp_mask_jstep *s = &r->steps[k];
		memset(nxt, 0, d + 1);
		int any = 0;
		size_t j = 0;
		while (j < d && !cur[j])
			j++;
		if (s->desc) {
			for (; j < d; j++)
				if (comp_ok(s, &fr[j]))
					nxt[j + 1] = 1, any = 1;
		} else {
			for (; j < d; j++)
				if (cur[j] && comp_ok(s, &fr[j]))
					nxt[j + 1] = 1, any = 1;
		}
		if (!any)
			return 0;
		memcpy(cur, nxt, d + 1);
	}
	return cur[d];
}

/* The rule for the value at the top of the stack: the first json rule that
 * selects it, unless an ancestor's claim comes first in the file. */
static const struct rp_mask_rule *rule_for(struct scan *S)
{
	const struct rp_mask_rule *claim = S->depth ? S->st[S->depth - 1].claim : NULL;
	struct rp_mask_ctx *c = S->c;
	if (!c->nactive[SC_JSON] || !S->depth)
		return claim;
	/* only rules whose last step can name this value: by the member name,
	 * or those ending in a wildcard, an index or a glob */
	const struct frame *top = &S->st[S->depth - 1];
	struct rp_mask_cands it;
	uint32_t k;
	int exact;
	if (!top->is_obj)
		rp_mask_cands_init(&it, &c->m->index[SC_JSON], RP_SLICE_NULL);
	else if (top->key_hash)
		rp_mask_cands_init_hash(&it, &c->m->index[SC_JSON], top->key, top->key_hash);
	else
		rp_mask_cands_init(&it, &c->m->index[SC_JSON], top->key);
	while (rp_mask_cands_next(&it, &k, &exact)) {
		const struct rp_mask_rule *r = &c->m->rules->v[k];
		if (claim && r->index >= claim->index)
			break;
		if (!c->is_active[k])
			continue;
		/* "$..name" found by name: the index matched the one step */
		if (exact && top->is_obj && r->nsteps == 1 && r->steps[0].desc)
			return r;
		if (path_match(r, S->st, S->depth))
			return r;
	}
	return claim;
}

static inline size_t where_path(struct scan *S)
{
	struct rp_mask_ctx *c = S->c;
	size_t saved = c->wlen;
	if (RP_LIKELY(!S->tracing))
		return saved;
	rp_mask_where_push(c, "$");
	for (size_t i = 0; i < S->depth; i++) {
		if (S->st[i].is_obj)
			rp_mask_where_push_slice(c, ".", S->st[i].key);
		else
			rp_mask_where_push(c, "[%u]", S->st[i].index);
	}
	return saved;
}

/* ---- values ----------------------------------------------------------------------- */

static int numeric(struct rp_slice v)
{
	if (!v.n)
		return 0;
	size_t i = v.p[0] == '-';
	if (i >= v.n || v.p[i] < '0' || v.p[i] > '9' || (v.p[i] == '0' && i + 1 < v.n &&
							  v.p[i + 1] >= '0' && v.p[i + 1] <= '9'))
		return 0;
	for (; i < v.n; i++)
		if (!((v.p[i] >= '0' && v.p[i] <= '9') || v.p[i] == '.' || v.p[i] == 'e' ||
		      v.p[i] == 'E' || v.p[i] == '+' || v.p[i] == '-'))
			return 0;
	return 1;
}

/* A string value: content [s, e) of the body. */
static void on_string(struct scan *S, size_t s, size_t e, const struct sinfo *si,
		      const struct rp_mask_rule *r)
{
	struct rp_mask_ctx *c = S->c;
	if (!r && !si->esc && !(si->possible & c->text_bits) && !c->text_regex)
		return; /* nothing could match: the common case */
	struct rp_slice raw = rp_slice(S->b.p + s, e - s);
	struct rp_slice v = si->esc ? unescape(c->pool, raw) : raw;
	size_t saved = where_path(S);
	struct rp_slice out = r ? rp_mask_act_possible(c, r, -1, v,
						      si->esc ? RP_MASK_POSSIBLE_UNKNOWN : si->possible)
				: si->esc ? rp_mask_text(c, v) : rp_mask_text_possible(c, v, si->possible);
	rp_mask_where_pop(c, saved);
	if (out.p == v.p && out.n == v.n)
		return;
	rp_mask_edits_push(&S->ed, s, e - s, escaped(c->pool, out, 0));
}

static void on_number(struct scan *S, size_t s, size_t e, unsigned digits,
		      const struct rp_mask_rule *r)
{
	struct rp_mask_ctx *c = S->c;
	/* a number with fewer than 8 digits is nothing a detector finds */
	if (!r && digits < 8 && !c->text_regex)
		return;
	struct rp_slice v = rp_slice(S->b.p + s, e - s);
	size_t saved = where_path(S);
	struct rp_slice out = r ? rp_mask_act(c, r, K_NUMBER, v) : rp_mask_text(c, v);
	rp_mask_where_pop(c, saved);
	if (out.p == v.p && out.n == v.n)
		return;
	rp_mask_edits_push(&S->ed, s, e - s, numeric(out) ? out : escaped(c->pool, out, 1));
}

/* Member names: text rules only (an email used as a key), unless an
 * ancestor is claimed, which then covers them too. */
static void on_key(struct scan *S, size_t s, size_t e, const struct sinfo *si)
{
	const struct rp_mask_rule *claim = S->depth ? S->st[S->depth - 1].claim : NULL;
	struct rp_mask_ctx *c = S->c;
	if (claim || !c->nactive[SC_TEXT])
		return;
	if (!si->esc && !(si->possible & c->text_bits) && !c->text_regex)
		return;
	struct rp_slice raw = rp_slice(S->b.p + s, e - s);
	struct rp_slice v = si->esc ? unescape(c->pool, raw) : raw;
	S->depth--; /* the key's location is its object */
	size_t saved = where_path(S);
	S->depth++;
	rp_mask_where_push(c, " (member name)");
	struct rp_slice out = rp_mask_text(c, v);
	rp_mask_where_pop(c, saved);
	if (out.p != v.p || out.n != v.n)
		rp_mask_edits_push(&S->ed, s, e - s, escaped(c->pool, out, 0));
}

enum state { ST_VALUE, ST_KEY_OR_END, ST_KEY, ST_VALUE_OR_END, ST_AFTER };

struct rp_slice rp_mask_json(struct rp_mask_ctx *c, struct rp_slice b)
{
	if (!c->nactive[SC_JSON] && !c->nactive[SC_TEXT])
		return b;
	rp_mask_facts_init();
	struct scan S = {.c = c, .b = b, .tracing = c->opts && c->opts->trace};
	size_t cap = 16;
	S.st = rp_xmalloc(cap * sizeof(*S.st));
	enum state st = ST_VALUE;
	size_t i = 0, bad = SIZE_MAX;
	for (;;) {
		i = skip_ws(b, i);
		if (i >= b.n)
			break;
		uint8_t ch = b.p[i];
		if (st == ST_AFTER) {
			if (S.depth == 0) {
				st = ST_VALUE; /* another document (JSON lines) */
				continue;
			}
			struct frame *top = &S.st[S.depth - 1];
			if (ch == ',') {
				i++;
				if (top->is_obj) {
					st = ST_KEY;
				} else {
					top->index++;
					st = ST_VALUE;
				}
			} else if (ch == (top->is_obj ? '}' : ']')) {
				i++;
				S.depth--;
			} else {
				bad = i;
				break;
			}
			continue;
		}
		if (st == ST_KEY_OR_END || st == ST_KEY) {
			struct frame *top = &S.st[S.depth - 1];
			if (st == ST_KEY_OR_END && ch == '}') {
				i++;
				S.depth--;
				st = ST_AFTER;
				continue;
			}
			if (ch != '"') {
				bad = i;
				break;
			}
			struct sinfo si;
			scan_string(b, i, &si, 1);
			size_t e = si.end;
			if (e >= b.n) {
				bad = i;
				break;
			}
			struct rp_slice raw = rp_slice(b.p + i + 1, e - i - 1);
			top->key = si.esc ? unescape(c->pool, raw) : raw;
			top->key_hash = si.esc ? 0 : si.hash;
			on_key(&S, i + 1, e, &si);
			i = skip_ws(b, e + 1);
			if (i >= b.n)
				break;
			if (b.p[i] != ':') {
				bad = i;
				break;
			}
			i++;
			st = ST_VALUE;
			continue;
		}
		if (st == ST_VALUE_OR_END && ch == ']') {
			i++;
			S.depth--;
			st = ST_AFTER;
			continue;
		}
		/* a value */
		const struct rp_mask_rule *r = rule_for(&S);
		if (ch == '{' || ch == '[') {
			if (S.depth >= RP_LIMIT_MASK_JSON_DEPTH) {
				bad = i;
				break;
			}
			if (S.depth == cap)
				S.st = rp_xrealloc(S.st, (cap *= 2) * sizeof(*S.st));
			S.st[S.depth++] = (struct frame){.is_obj = ch == '{', .claim = r};
			st = ch == '{' ? ST_KEY_OR_END : ST_VALUE_OR_END;
			i++;
			continue;
		}
		if (ch == '"') {
			struct sinfo si;
			scan_string(b, i, &si, 0);
			if (!r || r->act != ACT_KEEP)
				on_string(&S, i + 1, si.end, &si, r);
			i = si.end + 1;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			size_t e = i;
			unsigned digits = 0;
			for (; e < b.n; e++) {
				uint8_t d = b.p[e];
				if (d >= '0' && d <= '9')
					digits++;
				else if (d != '.' && d != 'e' && d != 'E' && d != '+' && d != '-')
					break;
			}
			if (!r || r->act != ACT_KEEP)
				on_number(&S, i, e, digits, r);
			i = e;
		} else if (ch == 't' || ch == 'f' || ch == 'n') {
			const char *lit = ch == 't' ? "true" : ch == 'f' ? "false" : "null";
			size_t k = strlen(lit);
			if (i + k > b.n) {
				i = b.n; /* cut short inside a literal */
				break;
			}
			if (memcmp(b.p + i, lit, k) != 0) {
				bad = i;
				break;
			}
			i += k;
		} else {
			bad = i;
			break;
		}
		st = ST_AFTER;
	}
	if (bad != SIZE_MAX && bad < b.n) {
		/* not JSON from here on: what remains is masked as text */
		struct rp_slice rest = rp_slice(b.p + bad, b.n - bad);
		size_t saved = rp_mask_where_push(c, "(malformed from byte %zu, as text)", bad);
		struct rp_slice out = rp_mask_text(c, rest);
		rp_mask_where_pop(c, saved);
		if (out.p != rest.p || out.n != rest.n)
			rp_mask_edits_push(&S.ed, bad, rest.n, out);
	}
	struct rp_slice out = rp_mask_splice(c->pool, b, &S.ed);
	rp_mask_edits_free(&S.ed);
	free(S.st);
	return out;
}
