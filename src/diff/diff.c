/*
 * diff: the response-level comparison of diff.h — status, headers, and the
 * choice of body comparison by content type — plus the result container.
 * Pure.  The fast path matters: a replay at full speed diffs every
 * response, and most are identical, so byte-equal bodies are never parsed
 * and header lists are compared without allocating unless they differ.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "diff-int.h"

#define DEFAULT_MAX_ITEMS 64
#define DEFAULT_MAX_VALUE 256

void rp_diff_init(struct rp_diff *d)
{
	memset(d, 0, sizeof(*d));
	d->pool = rp_pool_new(0);
}

void rp_diff_reset(struct rp_diff *d)
{
	d->n = d->real = d->noise = d->dropped = 0;
	d->body = RP_DIFF_BODY_SAME;
	rp_pool_reset(d->pool);
}

void rp_diff_dispose(struct rp_diff *d)
{
	free(d->v);
	rp_pool_free(d->pool);
	memset(d, 0, sizeof(*d));
}

size_t rp_diff_max_value(const struct rp_diff_opts *opts)
{
	return opts && opts->max_value ? opts->max_value : DEFAULT_MAX_VALUE;
}

static const char *copy_value(struct rp_diff *d, size_t max, const char *s, size_t n)
{
	if (!s)
		return NULL;
	if (n <= max)
		return rp_pool_strndup(d->pool, s, n);
	/* Cut on a UTF-8 boundary so that the value stays valid text. */
	size_t k = max;
	while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	char *r = rp_pool_alloc(d->pool, k + 4);
	memcpy(r, s, k);
	memcpy(r + k, "...", 4);
	return r;
}

void rp_diff_add(struct rp_diff *d, const struct rp_diff_opts *opts, enum rp_diff_where where,
		 enum rp_diff_op op, int noise, const char *path, const char *exp, size_t expn,
		 const char *act, size_t actn)
{
	size_t max_items = opts && opts->max_items ? opts->max_items : DEFAULT_MAX_ITEMS;
	size_t max = rp_diff_max_value(opts);

	if (noise)
		d->noise++;
	else
		d->real++;
	if (d->n >= max_items) {
		/* A real difference may displace a kept noise item. */
		size_t i = d->n;
		if (!noise)
			for (i = d->n; i > 0 && !d->v[i - 1].noise; i--)
				;
		if (noise || i == 0) {
			d->dropped++;
			return;
		}
		memmove(&d->v[i - 1], &d->v[i], (d->n - i) * sizeof(*d->v));
		d->n--;
		d->dropped++;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->v = rp_xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	struct rp_diff_item *it = &d->v[d->n++];
	it->where = where;
	it->op = op;
	it->noise = noise;
	it->path = rp_pool_strndup(d->pool, path, strlen(path));
	it->expected = copy_value(d, max, exp, expn);
	it->actual = copy_value(d, max, act, actn);
}

const char *rp_diff_op_name(enum rp_diff_op op)
{
	switch (op) {
	case RP_DIFF_CHANGED: return "changed";
	case RP_DIFF_ADDED: return "added";
	case RP_DIFF_REMOVED: return "removed";
	case RP_DIFF_TYPE: return "type";
	}
	return "?";
}

const char *rp_diff_body_name(enum rp_diff_body b)
{
	switch (b) {
	case RP_DIFF_BODY_SAME: return "same";
	case RP_DIFF_BODY_JSON: return "json";
	case RP_DIFF_BODY_TEXT: return "text";
	case RP_DIFF_BODY_BINARY: return "binary";
	}
	return "?";
}

void rp_diff_path_generalize(const char *path, char *out, size_t outlen)
{
	size_t o = 0;
	if (!outlen)
		return;
	if (path[0] != '$') {
		snprintf(out, outlen, "%s", path);
		return;
	}
	for (size_t i = 0; path[i] && o + 1 < outlen;) {
		if (path[i] == '[' && path[i + 1] >= '0' && path[i + 1] <= '9') {
			size_t j = i + 1;
			while (path[j] >= '0' && path[j] <= '9')
				j++;
			if (path[j] == ']') {
				if (o + 3 >= outlen)
					break;
				memcpy(out + o, "[*]", 3);
				o += 3;
				i = j + 1;
				continue;
			}
		}
		if (path[i] == '[' && path[i + 1] == '\'') {
			/* copy a quoted key verbatim: it may hold "[1]" */
			out[o++] = path[i++];
			out[o++] = path[i++];
			while (path[i] && o + 1 < outlen) {
				if (path[i] == '\\' && path[i + 1]) {
					out[o++] = path[i++];
					if (o + 1 >= outlen)
						break;
				} else if (path[i] == '\'') {
					break;
				}
				out[o++] = path[i++];
			}
			continue;
		}
		out[o++] = path[i++];
	}
	out[o] = 0;
}

/* ---- status and headers ---- */

/* Lowercases |s| into |buf| (|cap| bytes); names longer than that (never a
 * real header) go to |heap|. */
static struct rp_slice lower(struct rp_slice s, char *buf, size_t cap, struct rp_buf *heap)
{
	char *o = buf;
	if (s.n > cap) {
		rp_buf_clear(heap);
		if (rp_buf_reserve(heap, s.n))
			return s;
		o = (char *)heap->base;
	}
	for (size_t i = 0; i < s.n; i++) {
		uint8_t c = s.p[i];
		o[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	return rp_slice(o, s.n);
}

/* All values of |name| in |h| joined (", ", or "\n" for Set-Cookie, whose
 * values may hold commas).  Returns the number of fields found. */
static size_t joined(const struct rp_headers *h, struct rp_slice name, struct rp_buf *out)
{
	size_t k = 0;
	int cookie = rp_slice_eq_nocase(name, RP_SLICE_LIT("set-cookie"));
	rp_buf_clear(out);
	for (size_t i = 0; i < h->n; i++) {
		if (!rp_slice_eq_nocase(h->v[i].name, name))
			continue;
		if (k++)
			rp_buf_append(out, cookie ? "\n" : ", ", cookie ? 1 : 2);
		rp_buf_append(out, h->v[i].value.p, h->v[i].value.n);
	}
	return k;
}

static int seen_before(const struct rp_headers *h, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (rp_slice_eq_nocase(h->v[j].name, h->v[i].name))
			return 1;
	return 0;
}

/* Equal multi-valued header without building the joined strings: the
 * common case of identical lists in identical order. */
static int same_values(const struct rp_headers *a, const struct rp_headers *b,
		       struct rp_slice name)
{
	size_t i = 0, j = 0;
	for (;;) {
		while (i < a->n && !rp_slice_eq_nocase(a->v[i].name, name))
			i++;
		while (j < b->n && !rp_slice_eq_nocase(b->v[j].name, name))
			j++;
		if (i == a->n || j == b->n)
			return i == a->n && j == b->n;
		if (!rp_slice_eq(a->v[i].value, b->v[j].value))
			return 0;
		i++;
		j++;
	}
}

static void diff_headers(const struct rp_diff_opts *opts, const struct rp_headers *a,
			 const struct rp_headers *b, struct rp_diff *d)
{
	const struct rp_diff_noise *noise = opts ? opts->noise : NULL;
	char small[128];
	struct rp_buf heap, va, vb, path;
	/* nothing is allocated unless a header differs */
	rp_buf_init(&heap, RP_LIMIT_H1_HEADER_BYTES);
	rp_buf_init(&va, RP_LIMIT_BODY_RECORD);
	rp_buf_init(&vb, RP_LIMIT_BODY_RECORD);
	rp_buf_init(&path, RP_LIMIT_H1_HEADER_BYTES);

	for (int side = 0; side < 2; side++) {
		const struct rp_headers *h = side ? b : a;
		for (size_t i = 0; i < h->n; i++) {
			struct rp_slice name = h->v[i].name;
			if (side == 1 && rp_headers_get(a, name))
				continue; /* compared in the first pass */
			if (seen_before(h, i))
				continue;
			struct rp_slice lname = lower(name, small, sizeof(small), &heap);
			int by_rule = 0;
			if (rp_diff_header_ignored(noise, lname, &by_rule) && !by_rule)
				continue;
			if (side == 0 && same_values(a, b, name))
				continue;
			size_t na = joined(a, name, &va), nb = joined(b, name, &vb);
			rp_buf_clear(&path);
			rp_buf_printf(&path, "header %.*s", (int)lname.n, (const char *)lname.p);
			rp_buf_append(&path, "", 1);
			enum rp_diff_op op = na && nb ? RP_DIFF_CHANGED : na ? RP_DIFF_REMOVED : RP_DIFF_ADDED;
			rp_diff_add(d, opts, RP_DIFF_HEADER, op, by_rule, (const char *)path.base,
				    na ? (const char *)va.base + va.rd : NULL, rp_buf_len(&va),
				    nb ? (const char *)vb.base + vb.rd : NULL, rp_buf_len(&vb));
		}
	}
	rp_buf_dispose(&heap);
	rp_buf_dispose(&va);
	rp_buf_dispose(&vb);
	rp_buf_dispose(&path);
}

/* ---- body kind ---- */

static int ends_with(struct rp_slice s, const char *suf)
{
	size_t n = strlen(suf);
	return s.n >= n && rp_slice_eq_nocase(rp_slice(s.p + s.n - n, n), rp_slice(suf, n));
}

static int starts_with(struct rp_slice s, const char *pre)
{
	size_t n = strlen(pre);
	return s.n >= n && rp_slice_eq_nocase(rp_slice(s.p, n), rp_slice(pre, n));
}

/* 1 when |s| is valid UTF-8 without NUL bytes. */
static int texty(struct rp_slice s)
{
	const uint8_t *p = s.p, *e = s.p + s.n;
	while (p < e) {
		uint8_t c = *p;
		if (c < 0x80) {
			if (c == 0)
				return 0;
			p++;
			continue;
		}
		size_t k = c >= 0xF0 && c <= 0xF4 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : 0;
		if (k == 0 || c > 0xF4 || (size_t)(e - p) <= k)
			return 0;
		for (size_t i = 1; i <= k; i++)
			if ((p[i] & 0xC0) != 0x80)
				return 0;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) ||
		    (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
			return 0;
		p += k + 1;
	}
	return 1;
}

static enum rp_diff_body classify(const struct rp_message *m)
{
	const struct rp_header *h = rp_headers_get(&m->headers, RP_SLICE_LIT("content-type"));
	if (h) {
		struct rp_slice t = h->value;
		const uint8_t *semi = memchr(t.p, ';', t.n);
		if (semi)
			t.n = (size_t)(semi - t.p);
		t = rp_slice_trim(t);
		if (rp_slice_eq_nocase(t, RP_SLICE_LIT("application/json")) || ends_with(t, "+json") ||
		    rp_slice_eq_nocase(t, RP_SLICE_LIT("text/json")))
			return RP_DIFF_BODY_JSON;
		if (starts_with(t, "text/") || ends_with(t, "/xml") || ends_with(t, "+xml") ||
		    ends_with(t, "/javascript") || ends_with(t, "/ecmascript") ||
		    ends_with(t, "/x-javascript") || ends_with(t, "/x-www-form-urlencoded") ||
		    ends_with(t, "/x-ndjson") || ends_with(t, "/graphql") || ends_with(t, "/yaml") ||
		    ends_with(t, "/x-yaml") || ends_with(t, "/csv"))
			return texty(m->body) ? RP_DIFF_BODY_TEXT : RP_DIFF_BODY_BINARY;
		if (t.n)
			return RP_DIFF_BODY_BINARY;
	}
	/* No type: sniff. */
	size_t i = 0;
	while (i < m->body.n && strchr(" \t\r\n", m->body.p[i]))
		i++;
	if (!texty(m->body))
		return RP_DIFF_BODY_BINARY;
	if (i < m->body.n && (m->body.p[i] == '{' || m->body.p[i] == '['))
		return RP_DIFF_BODY_JSON;
	return RP_DIFF_BODY_TEXT;
}

static void diff_body(const struct rp_diff_opts *opts, const struct rp_message *a,
		      const struct rp_message *b, struct rp_diff *d)
{
	size_t max_body = opts && opts->max_body ? opts->max_body : RP_LIMIT_DIFF_BODY;

	if (rp_slice_eq(a->body, b->body)) {
		d->body = RP_DIFF_BODY_SAME;
		return;
	}
	enum rp_diff_body ka = classify(a), kb = classify(b);
	if (a->body.n > max_body || b->body.n > max_body)
		ka = kb = RP_DIFF_BODY_BINARY;
	/* An empty side takes the other's kind: "no body" vs JSON is a JSON
	 * question only when the other parses; text covers it otherwise. */
	if (a->body.n == 0)
		ka = kb;
	if (b->body.n == 0)
		kb = ka;
	if (ka == RP_DIFF_BODY_JSON && kb == RP_DIFF_BODY_JSON && a->body.n && b->body.n) {
		if (rp_diff_json(opts, a->body, b->body, d) == 0) {
			d->body = RP_DIFF_BODY_JSON;
			return;
		}
		ka = kb = RP_DIFF_BODY_TEXT; /* one side is not JSON after all */
	}
	if (ka != RP_DIFF_BODY_BINARY && kb != RP_DIFF_BODY_BINARY && texty(a->body) &&
	    texty(b->body)) {
		d->body = RP_DIFF_BODY_TEXT;
		rp_diff_text(opts, a->body, b->body, d);
		return;
	}
	d->body = RP_DIFF_BODY_BINARY;
	rp_diff_binary(a->body, b->body, d);
}

size_t rp_diff_response(const struct rp_diff_opts *opts, const struct rp_response *expected,
			const struct rp_response *actual, struct rp_diff *d)
{
	size_t before = d->real;
	if (expected->status != actual->status) {
		char ea[8], aa[8];
		int ne = snprintf(ea, sizeof(ea), "%u", expected->status);
		int na = snprintf(aa, sizeof(aa), "%u", actual->status);
		rp_diff_add(d, opts, RP_DIFF_STATUS, RP_DIFF_CHANGED, 0, "status", ea, (size_t)ne, aa,
			    (size_t)na);
	}
	diff_headers(opts, &expected->m.headers, &actual->m.headers, d);
	diff_body(opts, &expected->m, &actual->m, d);
	return d->real - before;
}
