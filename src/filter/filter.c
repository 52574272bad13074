/*
 * filter: the selection language of filter.h, compiled once into a small
 * tree and evaluated per exchange.  Pure: libc and PCRE2 only, no I/O.
 *
 * The compiler is a recursive-descent parser over the expression string with
 * a byte position; every error carries the 1-based column where it was
 * found.  Recursion is bounded by RP_FILTER_MAX_DEPTH (parentheses and
 * `not`), and `and`/`or` chains are n-ary nodes, so neither compiling nor
 * matching can exhaust the stack.  Every regular expression is JIT-compiled
 * when possible and runs under a match limit, so a pathological pattern ends
 * as "no match" instead of hanging.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "reprise/filter.h"

#define MATCH_LIMIT 10000000u

enum kind {
	K_ALL,     /* the empty expression */
	K_AND,
	K_OR,
	K_NOT,
	K_METHOD,
	K_HOST,    /* glob on the authority */
	K_HOST_RE,
	K_PATH,    /* glob on the target */
	K_PATH_RE,
	K_STATUS,
	K_NORESP,
	K_SINCE,
	K_UNTIL,
	K_FLAG,
	K_CONN,
	K_PROTO,
};

/* One value of a list: a string (method, glob) or a numeric range. */
struct item {
	char *s;
	size_t n;
	uint64_t lo, hi;
};

struct node {
	enum kind kind;
	struct node **kids; /* K_AND, K_OR: n-ary; K_NOT: one */
	size_t nkids;
	struct item *items; /* leaf values, any of which matches */
	size_t nitems;
	pcre2_code *re;
	pcre2_match_data *md;
	int64_t t;
};

struct rp_filter {
	struct node *root;
	pcre2_match_context *mctx;
	uint32_t incomplete; /* the flags that make a record incomplete */
};

/* Parser state.  |err| is filled once, by the first error. */
struct parser {
	const char *s;
	size_t n, pos;
	int depth;
	int64_t start_ns;
	pcre2_match_context *mctx;
	char *err;
	size_t errlen;
	int failed;
};

/* Synthetic flag names beyond rp_xflags_format's. */
#define FLAG_COMPLETE (UINT64_C(1) << 32)
#define FLAG_INCOMPLETE (UINT64_C(1) << 33)

static void fail(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = 1;
	if (!p->err || !p->errlen)
		return;
	int n = snprintf(p->err, p->errlen, "filter: column %zu: ", pos + 1);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static struct node *node_new(enum kind kind)
{
	struct node *nd = rp_xcalloc(1, sizeof(*nd));
	nd->kind = kind;
	return nd;
}

static void node_free(struct node *nd)
{
	if (!nd)
		return;
	for (size_t i = 0; i < nd->nkids; i++)
		node_free(nd->kids[i]);
	free(nd->kids);
	for (size_t i = 0; i < nd->nitems; i++)
		free(nd->items[i].s);
	free(nd->items);
	pcre2_match_data_free(nd->md);
	pcre2_code_free(nd->re);
	free(nd);
}

static void node_add_kid(struct node *nd, struct node *kid)
{
	nd->kids = rp_xrealloc(nd->kids, (nd->nkids + 1) * sizeof(*nd->kids));
	nd->kids[nd->nkids++] = kid;
}

static struct item *node_add_item(struct node *nd)
{
	nd->items = rp_xrealloc(nd->items, (nd->nitems + 1) * sizeof(*nd->items));
	struct item *it = &nd->items[nd->nitems++];
	memset(it, 0, sizeof(*it));
	return it;
}

/* ---- lexing helpers ---- */

static char *dupn(const char *s, size_t n)
{
	char *d = rp_xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static void skip_space(struct parser *p)
{
	while (p->pos < p->n && is_space(p->s[p->pos]))
		p->pos++;
}

/* Length of the word at |pos| (letters and '_'). */
static size_t word_len(const struct parser *p, size_t pos)
{
	size_t i = pos;
	while (i < p->n && is_word(p->s[i]))
		i++;
	return i - pos;
}

static int word_is(const struct parser *p, size_t pos, size_t len, const char *kw)
{
	return len == strlen(kw) && rp_slice_eq_nocase(rp_slice(p->s + pos, len), rp_slice_str(kw));
}

/* Whether a term (KEY op VALUE, `noresponse`, `not`, `!` or `(`) starts at
 * |pos|: used to tell a list comma from a separating comma. */
static int term_starts(const struct parser *p, size_t pos)
{
	if (pos >= p->n)
		return 0;
	char c = p->s[pos];
	if (c == '(' || c == '!')
		return 1;
	size_t w = word_len(p, pos);
	if (!w)
		return 0;
	if (word_is(p, pos, w, "not") || word_is(p, pos, w, "noresponse"))
		return 1;
	size_t e = pos + w;
	return e < p->n && (p->s[e] == '=' || p->s[e] == '~' || p->s[e] == '!');
}

/* A raw value as written: its bytes (quotes removed) and its column. */
struct value {
	char *s;
	size_t n;
	size_t pos;
	int quoted;
};

/* Reads the value at p->pos.  Unquoted values end at a space, at a ')' that
 * closes no '(' of their own, or at a comma that separates terms (followed
 * by a space, the end, ')' or another term). */
static int read_value(struct parser *p, struct value *v)
{
	v->pos = p->pos;
	v->quoted = 0;
	if (p->pos < p->n && (p->s[p->pos] == '"' || p->s[p->pos] == '\'')) {
		char q = p->s[p->pos++];
		char *out = rp_xmalloc(p->n - p->pos + 1);
		size_t o = 0;
		for (;;) {
			if (p->pos >= p->n) {
				free(out);
				fail(p, v->pos, "unterminated %s quote", q == '"' ? "double" : "single");
				return -1;
			}
			char c = p->s[p->pos++];
			if (c == q)
				break;
			if (c == '\\' && p->pos < p->n && p->s[p->pos] == q)
				c = p->s[p->pos++];
			out[o++] = c;
		}
		out[o] = '\0';
		v->s = out;
		v->n = o;
		v->quoted = 1;
		return 0;
	}
	int depth = 0;
	size_t i = p->pos;
	while (i < p->n) {
		char c = p->s[i];
		if (is_space(c))
			break;
		if (c == '\\' && i + 1 < p->n) {
			i += 2;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')') {
			if (depth == 0)
				break;
			depth--;
		} else if (c == ',' && depth == 0) {
			size_t j = i + 1;
			if (j >= p->n || is_space(p->s[j]) || p->s[j] == ')' ||
			    term_starts(p, j))
				break;
		}
		i++;
	}
	v->s = dupn(p->s + p->pos, i - p->pos);
	v->n = i - p->pos;
	p->pos = i;
	return 0;
}

/* ---- flag names ---- */

/* The name rp_xflags_format gives the single flag |bit|, or an empty slice;
 * |incomplete| says whether the bit makes a record incomplete. */
static struct rp_slice flag_name(uint32_t bit, char *buf, size_t len, int *incomplete)
{
	rp_xflags_format(bit, buf, len);
	static const char prefix[] = "complete";
	size_t pl = sizeof(prefix) - 1;
	*incomplete = 1;
	if (strncmp(buf, prefix, pl) == 0 && (buf[pl] == '\0' || buf[pl] == ',')) {
		*incomplete = 0;
		return buf[pl] ? rp_slice_str(buf + pl + 1) : RP_SLICE_NULL;
	}
	return rp_slice_str(buf);
}

int rp_filter_flag_bit(struct rp_slice name, uint32_t *bit)
{
	char buf[256];
	int inc;
	for (unsigned i = 0; i < 32; i++) {
		struct rp_slice n = flag_name(1u << i, buf, sizeof(buf), &inc);
		if (n.n && rp_slice_eq_nocase(n, name)) {
			*bit = 1u << i;
			return 0;
		}
	}
	return RP_E_NOTFOUND;
}

static uint32_t incomplete_mask(void)
{
	char buf[256];
	uint32_t mask = 0;
	int inc;
	for (unsigned i = 0; i < 32; i++) {
		struct rp_slice n = flag_name(1u << i, buf, sizeof(buf), &inc);
		if (n.n && inc)
			mask |= 1u << i;
	}
	return mask;
}

/* "req-truncated, resp-truncated, ..." for error messages. */
static void flag_names_list(char *out, size_t len)
{
	char buf[256];
	size_t o = 0;
	int inc;
	out[0] = '\0';
	for (unsigned i = 0; i < 32; i++) {
		struct rp_slice n = flag_name(1u << i, buf, sizeof(buf), &inc);
		if (!n.n)
			continue;
		int m = snprintf(out + o, len - o, "%.*s, ", (int)n.n, (const char *)n.p);
		if (m < 0 || (size_t)m >= len - o)
			return;
		o += (size_t)m;
	}
	snprintf(out + o, len - o, "complete, incomplete");
}

/* ---- durations ---- */

int rp_filter_parse_duration(const char *s, size_t n, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {
		{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000},
		{"m", INT64_C(60000000000)}, {"h", INT64_C(3600000000000)},
		{"d", INT64_C(86400000000000)},
	};
	size_t i = 0;
	int64_t total = 0;
	if (n == 0)
		return RP_E_FORMAT;
	while (i < n) {
		uint64_t v = 0;
		size_t d0 = i;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (v > UINT64_C(1000000000000))
				return RP_E_FORMAT;
			v = v * 10 + (uint64_t)(s[i++] - '0');
		}
		if (i == d0)
			return RP_E_FORMAT;
		size_t u0 = i;
		while (i < n && s[i] >= 'a' && s[i] <= 'z')
			i++;
		size_t j;
		for (j = 0; j < RP_ARRAY_LEN(units); j++)
			if (i - u0 == strlen(units[j].unit) &&
			    memcmp(s + u0, units[j].unit, i - u0) == 0)
				break;
		if (j == RP_ARRAY_LEN(units))
			return RP_E_FORMAT;
		if (v > (uint64_t)(INT64_MAX / units[j].ns) ||
		    total > INT64_MAX - (int64_t)v * units[j].ns)
			return RP_E_FORMAT;
		total += (int64_t)v * units[j].ns;
	}
	*out = total;
	return 0;
}

/* ---- values of each key ---- */

/* Splits the list |v| on commas into items of |nd| (a quoted value is one
 * item).  Empty items are an error naming |what|. */
static int split_items(struct parser *p, struct node *nd, const struct value *v, const char *what)
{
	size_t i = 0;
	if (v->quoted) {
		struct item *it = node_add_item(nd);
		it->s = dupn(v->s, v->n);
		it->n = v->n;
		it->lo = v->pos;
		if (v->n)
			return 0;
		fail(p, v->pos, "expected %s", what);
		return -1;
	}
	for (;;) {
		size_t j = i;
		while (j < v->n && v->s[j] != ',')
			j++;
		if (j == i) {
			fail(p, v->pos + i, "expected %s", what);
			return -1;
		}
		struct item *it = node_add_item(nd);
		it->s = dupn(v->s + i, j - i);
		it->n = j - i;
		it->lo = v->pos + i; /* the column, until the key's parser reuses lo */
		if (j == v->n)
			return 0;
		i = j + 1;
	}
}

static int parse_status_item(struct item *it)
{
	const char *s = it->s;
	size_t n = it->n;
	uint64_t a, b;
	if (n == 3 && s[0] >= '1' && s[0] <= '9' && (s[1] | 0x20) == 'x' && (s[2] | 0x20) == 'x') {
		it->lo = (uint64_t)(s[0] - '0') * 100;
		it->hi = it->lo + 99;
		return 0;
	}
	const char *dash = memchr(s, '-', n);
	if (dash) {
		if (rp_slice_to_u64(rp_slice(s, (size_t)(dash - s)), &a) ||
		    rp_slice_to_u64(rp_slice(dash + 1, n - (size_t)(dash - s) - 1), &b) || a > b ||
		    b > 999)
			return -1;
	} else {
		if (rp_slice_to_u64(rp_slice(s, n), &a) || a > 999)
			return -1;
		b = a;
	}
	it->lo = a;
	it->hi = b;
	return 0;
}

static int compile_regex(struct parser *p, struct node *nd, const struct value *v)
{
	int code;
	PCRE2_SIZE off;
	if (v->n == 0 && !v->quoted) {
		fail(p, v->pos, "expected a regular expression");
		return -1;
	}
	nd->re = pcre2_compile((PCRE2_SPTR)v->s, v->n, 0, &code, &off, NULL);
	if (!nd->re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof(msg));
		fail(p, v->pos + (v->quoted ? 1 : 0) + off, "invalid regular expression: %s",
		     (const char *)msg);
		return -1;
	}
	(void)pcre2_jit_compile(nd->re, PCRE2_JIT_COMPLETE); /* interpreter otherwise */
	nd->md = pcre2_match_data_create_from_pattern(nd->re, NULL);
	if (!nd->md)
		rp_oom();
	return 0;
}

static int parse_time(struct parser *p, struct node *nd, const struct value *v)
{
	static const char what[] =
		"expected a time: RFC 3339 (2026-11-22T10:02:00Z), @SECONDS or an offset "
		"from the corpus start like +5m";
	if (v->n && v->s[0] == '+') {
		int64_t d;
		if (rp_filter_parse_duration(v->s + 1, v->n - 1, &d)) {
			fail(p, v->pos, "%s", what);
			return -1;
		}
		nd->t = p->start_ns + d;
		return 0;
	}
	if (v->n == 0 || rp_time_parse(v->s, &nd->t)) {
		fail(p, v->pos, "%s", what);
		return -1;
	}
	return 0;
}

static const char keys_list[] = "method, host, path, status, since, until, flag, conn, proto, "
				"noresponse";

/* Builds the leaf for KEY op VALUE.  |key| and |op| are positions. */
static struct node *make_leaf(struct parser *p, size_t key, size_t klen, int regex,
			      const struct value *v)
{
	struct node *nd = NULL;
	const char *what = NULL;
#define KEY(name) word_is(p, key, klen, name)
	if (regex && !KEY("host") && !KEY("path")) {
		fail(p, key, "'~' (regular expression) works only with host and path");
		return NULL;
	}
	if (KEY("method")) {
		nd = node_new(K_METHOD);
		if (split_items(p, nd, v, "a method like GET or GET,POST"))
			goto bad;
	} else if (KEY("host") || KEY("path")) {
		int host = KEY("host");
		nd = node_new(regex ? (host ? K_HOST_RE : K_PATH_RE) : (host ? K_HOST : K_PATH));
		if (regex ? compile_regex(p, nd, v)
			  : split_items(p, nd, v, host ? "a host like api.example.com or *.example.com"
						       : "a path like /api/* (or path~REGEX)"))
			goto bad;
	} else if (KEY("status")) {
		what = "a status like 200, 4xx or 500-599";
		nd = node_new(K_STATUS);
		if (split_items(p, nd, v, what))
			goto bad;
		for (size_t i = 0; i < nd->nitems; i++) {
			size_t col = (size_t)nd->items[i].lo;
			if (parse_status_item(&nd->items[i])) {
				fail(p, col, "expected %s", what);
				goto bad;
			}
		}
	} else if (KEY("since") || KEY("until")) {
		nd = node_new(KEY("since") ? K_SINCE : K_UNTIL);
		if (parse_time(p, nd, v))
			goto bad;
	} else if (KEY("flag")) {
		nd = node_new(K_FLAG);
		if (split_items(p, nd, v, "a flag name like gap or no-response"))
			goto bad;
		uint64_t mask = 0;
		for (size_t i = 0; i < nd->nitems; i++) {
			struct item *it = &nd->items[i];
			uint32_t bit;
			struct rp_slice name = rp_slice(it->s, it->n);
			if (rp_slice_eq_nocase(name, RP_SLICE_LIT("complete")))
				mask |= FLAG_COMPLETE;
			else if (rp_slice_eq_nocase(name, RP_SLICE_LIT("incomplete")))
				mask |= FLAG_INCOMPLETE;
			else if (rp_filter_flag_bit(name, &bit) == 0)
				mask |= bit;
			else {
				char names[512];
				flag_names_list(names, sizeof(names));
				fail(p, (size_t)it->lo, "unknown flag '%s' (flags: %s)", it->s, names);
				goto bad;
			}
		}
		nd->t = (int64_t)mask;
	} else if (KEY("conn")) {
		what = "a connection id (a number)";
		nd = node_new(K_CONN);
		if (split_items(p, nd, v, what))
			goto bad;
		for (size_t i = 0; i < nd->nitems; i++) {
			struct item *it = &nd->items[i];
			size_t col = (size_t)it->lo;
			if (rp_slice_to_u64(rp_slice(it->s, it->n), &it->lo)) {
				fail(p, col, "expected %s", what);
				goto bad;
			}
		}
	} else if (KEY("proto")) {
		nd = node_new(K_PROTO);
		if (split_items(p, nd, v, "a protocol like h1.1 or h2"))
			goto bad;
		uint64_t mask = 0;
		for (size_t i = 0; i < nd->nitems; i++) {
			struct item *it = &nd->items[i];
			enum rp_proto pr;
			struct rp_slice name = rp_slice(it->s, it->n);
			if (rp_slice_eq_nocase(name, RP_SLICE_LIT("h1")))
				mask |= (1u << RP_PROTO_H10) | (1u << RP_PROTO_H11);
			else if (rp_proto_parse(name, &pr) == 0 && pr != RP_PROTO_UNKNOWN)
				mask |= 1u << pr;
			else {
				fail(p, (size_t)it->lo,
				     "unknown protocol '%s' (protocols: h1.0, h1.1, h2, h2c, h1)", it->s);
				goto bad;
			}
		}
		nd->t = (int64_t)mask;
	} else {
		fail(p, key, "unknown key '%.*s' (keys: %s)", (int)klen, p->s + key, keys_list);
		return NULL;
	}
#undef KEY
	return nd;
bad:
	node_free(nd);
	return NULL;
}

/* ---- grammar ---- */

static struct node *parse_or(struct parser *p);

static struct node *parse_term(struct parser *p)
{
	size_t key = p->pos;
	size_t klen = word_len(p, key);
	if (klen == 0) {
		if (p->pos < p->n && p->s[p->pos] == ')')
			fail(p, p->pos, "unexpected ')': expected a term such as method=GET, "
					"status=4xx or path~REGEX");
		else
			fail(p, p->pos, "expected a term such as method=GET, status=4xx or path~REGEX");
		return NULL;
	}
	p->pos += klen;
	if (word_is(p, key, klen, "noresponse"))
		return node_new(K_NORESP);
	skip_space(p); /* "method = GET" reads like "method=GET" */
	int neg = 0, regex = 0;
	const char *s = p->s + p->pos;
	size_t left = p->n - p->pos;
	if (left >= 2 && s[0] == '!' && (s[1] == '=' || s[1] == '~')) {
		neg = 1;
		regex = s[1] == '~';
		p->pos += 2;
	} else if (left >= 1 && (s[0] == '=' || s[0] == '~')) {
		regex = s[0] == '~';
		p->pos += 1;
	} else {
		static const char *const known[] = {"method", "host", "path", "status", "since",
						    "until",  "flag", "conn", "proto"};
		int is_key = 0;
		for (size_t i = 0; i < RP_ARRAY_LEN(known); i++)
			is_key |= word_is(p, key, klen, known[i]);
		if (is_key)
			fail(p, p->pos, "expected '=', '!=' or '~' after '%.*s'", (int)klen,
			     p->s + key);
		else
			fail(p, key, "unknown key '%.*s' (keys: %s)", (int)klen, p->s + key,
			     keys_list);
		return NULL;
	}
	size_t op_end = p->pos;
	skip_space(p);
	if (p->pos < p->n && term_starts(p, p->pos))
		p->pos = op_end; /* "host= status=200": the value is empty */
	struct value v;
	if (read_value(p, &v))
		return NULL;
	struct node *leaf = make_leaf(p, key, klen, regex, &v);
	free(v.s);
	if (!leaf || !neg)
		return leaf;
	struct node *not = node_new(K_NOT);
	node_add_kid(not, leaf);
	return not;
}

static int at_word(const struct parser *p, const char *kw)
{
	size_t w = word_len(p, p->pos);
	return w && word_is(p, p->pos, w, kw);
}

static struct node *parse_unary(struct parser *p)
{
	skip_space(p);
	if (p->pos >= p->n) {
		fail(p, p->pos, "expected a term such as method=GET, status=4xx or path~REGEX");
		return NULL;
	}
	int is_not = at_word(p, "not");
	if (is_not || p->s[p->pos] == '!' || p->s[p->pos] == '(') {
		size_t at = p->pos;
		if (++p->depth > RP_FILTER_MAX_DEPTH) {
			fail(p, at, "nested deeper than %d levels", RP_FILTER_MAX_DEPTH);
			return NULL;
		}
		struct node *nd;
		if (p->s[p->pos] == '(') {
			p->pos++;
			nd = parse_or(p);
			if (nd) {
				skip_space(p);
				if (p->pos >= p->n || p->s[p->pos] != ')') {
					fail(p, p->pos, "expected ')' to close the '(' at column %zu",
					     at + 1);
					node_free(nd);
					nd = NULL;
				} else {
					p->pos++;
				}
			}
		} else {
			p->pos += is_not ? 3 : 1;
			struct node *kid = parse_unary(p);
			nd = NULL;
			if (kid) {
				nd = node_new(K_NOT);
				node_add_kid(nd, kid);
			}
		}
		p->depth--;
		return nd;
	}
	return parse_term(p);
}

static struct node *parse_and(struct parser *p)
{
	struct node *first = parse_unary(p);
	if (!first)
		return NULL;
	struct node *and = NULL;
	for (;;) {
		skip_space(p);
		if (p->pos >= p->n || p->s[p->pos] == ')' || at_word(p, "or"))
			break;
		if (p->s[p->pos] == ',')
			p->pos++;
		else if (at_word(p, "and"))
			p->pos += 3;
		struct node *next = parse_unary(p);
		if (!next) {
			node_free(and ? and : first);
			return NULL;
		}
		if (!and) {
			and = node_new(K_AND);
			node_add_kid(and, first);
		}
		node_add_kid(and, next);
	}
	return and ? and : first;
}

static struct node *parse_or(struct parser *p)
{
	struct node *first = parse_and(p);
	if (!first)
		return NULL;
	struct node *or = NULL;
	for (;;) {
		skip_space(p);
		if (!at_word(p, "or"))
			break;
		p->pos += 2;
		struct node *next = parse_and(p);
		if (!next) {
			node_free(or ? or : first);
			return NULL;
		}
		if (!or) {
			or = node_new(K_OR);
			node_add_kid(or, first);
		}
		node_add_kid(or, next);
	}
	return or ? or : first;
}

int rp_filter_compile(const char *expr, int64_t corpus_start_ns, struct rp_filter **out,
		      char *err, size_t errlen)
{
	struct parser p = {
		.s = expr, .n = strlen(expr), .start_ns = corpus_start_ns, .err = err,
		.errlen = errlen,
	};
	struct node *root = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (p.n > RP_FILTER_MAX_LEN) {
		fail(&p, RP_FILTER_MAX_LEN, "expression longer than %d bytes", RP_FILTER_MAX_LEN);
		goto out;
	}
	skip_space(&p);
	if (p.pos == p.n) {
		root = node_new(K_ALL);
		goto out;
	}
	root = parse_or(&p);
	if (root) {
		skip_space(&p);
		if (p.pos < p.n) {
			if (p.s[p.pos] == ')')
				fail(&p, p.pos, "unbalanced ')'");
			else
				fail(&p, p.pos, "expected 'and', 'or', ')' or the end");
			node_free(root);
			root = NULL;
		}
	}
out:
	if (!root)
		return RP_E_USAGE;
	struct rp_filter *f = rp_xcalloc(1, sizeof(*f));
	f->root = root;
	f->mctx = pcre2_match_context_create(NULL);
	if (!f->mctx)
		rp_oom();
	pcre2_set_match_limit(f->mctx, MATCH_LIMIT);
	f->incomplete = incomplete_mask();
	*out = f;
	return 0;
}

void rp_filter_free(struct rp_filter *f)
{
	if (!f)
		return;
	node_free(f->root);
	pcre2_match_context_free(f->mctx);
	free(f);
}

/* ---- matching ---- */

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/* Glob match of |pat| ('*' any run, '?' one byte) against |s|. */
static int glob(const char *pat, size_t pn, struct rp_slice s, int nocase)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;
	while (si < s.n) {
		if (pi < pn && pat[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && (pat[pi] == '?' ||
				       (nocase ? lower((uint8_t)pat[pi]) == lower(s.p[si])
					       : (uint8_t)pat[pi] == s.p[si]))) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < pn && pat[pi] == '*')
		pi++;
	return pi == pn;
}

/* The host part of an authority: "[::1]:80" -> "[::1]", "a.b:80" -> "a.b". */
static struct rp_slice host_part(struct rp_slice a)
{
	size_t i = a.n;
	while (i > 0 && ((a.p[i - 1] >= '0' && a.p[i - 1] <= '9') || a.p[i - 1] == '*'))
		i--;
	if (i > 0 && i < a.n && a.p[i - 1] == ':') {
		struct rp_slice h = rp_slice(a.p, i - 1);
		/* a bare IPv6 address without brackets has colons everywhere */
		if (h.n && (h.p[0] == '[' || !memchr(h.p, ':', h.n)))
			return h;
	}
	return a;
}

static int re_match(struct rp_filter *f, struct node *nd, struct rp_slice s)
{
	return pcre2_match(nd->re, s.p ? s.p : (PCRE2_SPTR) "", s.n, 0, 0, nd->md, f->mctx) >= 0;
}

static int eval(struct rp_filter *f, struct node *nd, const struct rp_exchange *x)
{
	switch (nd->kind) {
	case K_ALL:
		return 1;
	case K_AND:
		for (size_t i = 0; i < nd->nkids; i++)
			if (!eval(f, nd->kids[i], x))
				return 0;
		return 1;
	case K_OR:
		for (size_t i = 0; i < nd->nkids; i++)
			if (eval(f, nd->kids[i], x))
				return 1;
		return 0;
	case K_NOT:
		return !eval(f, nd->kids[0], x);
	case K_METHOD:
		for (size_t i = 0; i < nd->nitems; i++)
			if (rp_slice_eq_nocase(x->req.method, rp_slice(nd->items[i].s, nd->items[i].n)))
				return 1;
		return 0;
	case K_HOST:
		for (size_t i = 0; i < nd->nitems; i++) {
			struct rp_slice pat = rp_slice(nd->items[i].s, nd->items[i].n);
			struct rp_slice hp = host_part(pat);
			struct rp_slice subj = hp.n == pat.n ? host_part(x->req.authority)
							     : x->req.authority;
			if (glob(nd->items[i].s, nd->items[i].n, subj, 1))
				return 1;
		}
		return 0;
	case K_PATH:
		for (size_t i = 0; i < nd->nitems; i++)
			if (glob(nd->items[i].s, nd->items[i].n, x->req.target, 0))
				return 1;
		return 0;
	case K_HOST_RE:
		return re_match(f, nd, x->req.authority);
	case K_PATH_RE:
		return re_match(f, nd, x->req.target);
	case K_STATUS:
		for (size_t i = 0; i < nd->nitems; i++)
			if (x->resp.status >= nd->items[i].lo && x->resp.status <= nd->items[i].hi)
				return 1;
		return 0;
	case K_NORESP:
		return x->resp.status == 0 || (x->flags & RP_XF_NO_RESPONSE);
	case K_SINCE:
		return x->t.req_start >= nd->t;
	case K_UNTIL:
		return x->t.req_start < nd->t;
	case K_FLAG: {
		uint64_t mask = (uint64_t)nd->t;
		uint32_t inc = f->incomplete;
		if ((x->flags & (uint32_t)mask) != 0)
			return 1;
		if ((mask & FLAG_COMPLETE) && !(x->flags & inc))
			return 1;
		if ((mask & FLAG_INCOMPLETE) && (x->flags & inc))
			return 1;
		return 0;
	}
	case K_CONN:
		for (size_t i = 0; i < nd->nitems; i++)
			if (x->conn_id == nd->items[i].lo)
				return 1;
		return 0;
	case K_PROTO:
		return (unsigned)x->proto < 32 && (((uint64_t)nd->t >> x->proto) & 1);
	}
	return 0;
}

int rp_filter_match(struct rp_filter *f, const struct rp_exchange *x)
{
	return eval(f, f->root, x);
}
