/*
 * json: the structural JSON diff of diff.h, over jansson documents.  Pure.
 *
 * One recursive walk, node(), serves two purposes: in normal mode it appends
 * every difference to the result; in probe mode it only answers "equal
 * modulo the noise rules?" and stops at the first real difference.  Probe
 * mode compares arrays positionally (an element inserted or removed is a
 * difference either way), so that the alignment of an outer array, which
 * probes pairs of elements, costs no more than the elements' size per pair.
 * Alignments are bounded by ARRAY_CELLS; past that, arrays are compared
 * position by position.  Without JSON noise rules, equality is a plain
 * number-aware comparison and no probe walk happens at all.
 */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "diff-int.h"

#define ARRAY_CELLS (RP_LIMIT_DIFF_LCS_CELLS / 16)

enum jk { JK_NULL, JK_BOOL, JK_NUM, JK_STRING, JK_ARRAY, JK_OBJECT };

struct jctx {
	const struct rp_diff_opts *opts;
	const struct rp_diff_noise *noise; /* NULL when it has no JSON rules */
	struct rp_diff *d;
	struct pseg *st;
	size_t depth, cap;
	int probe;
	int found; /* probe: a real difference was met */
	struct rp_buf path, va, vb;
};

static enum jk kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return JK_OBJECT;
	case JSON_ARRAY: return JK_ARRAY;
	case JSON_STRING: return JK_STRING;
	case JSON_INTEGER:
	case JSON_REAL: return JK_NUM;
	case JSON_TRUE:
	case JSON_FALSE: return JK_BOOL;
	default: return JK_NULL;
	}
}

static int num_equal(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	return json_number_value(a) == json_number_value(b);
}

/* Exact equality, numbers compared as numbers. */
static int same(const json_t *a, const json_t *b)
{
	enum jk k = kind(a);
	if (k != kind(b))
		return 0;
	switch (k) {
	case JK_NULL: return 1;
	case JK_BOOL: return json_typeof(a) == json_typeof(b);
	case JK_NUM: return num_equal(a, b);
	case JK_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
	case JK_ARRAY: {
		size_t n = json_array_size(a);
		if (n != json_array_size(b))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	case JK_OBJECT: {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		const char *key;
		json_t *va;
		json_object_foreach((json_t *)a, key, va) {
			json_t *vb = json_object_get(b, key);
			if (!vb || !same(va, vb))
				return 0;
		}
		return 1;
	}
	}
	return 0;
}

static void push(struct jctx *c, const char *key, size_t index)
{
	if (c->depth == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->st = rp_xrealloc(c->st, c->cap * sizeof(*c->st));
	}
	c->st[c->depth++] = (struct pseg){key, index};
}

static void pop(struct jctx *c)
{
	c->depth--;
}

static const struct noise_rule *rule_here(struct jctx *c, enum noise_kind k)
{
	if (!c->noise)
		return NULL;
	for (size_t i = 0; i < c->noise->n; i++) {
		const struct noise_rule *r = &c->noise->v[i];
		if (r->kind == k && rp_diff_jpath_match(&r->path, c->st, c->depth))
			return r;
	}
	return NULL;
}

struct dumpbuf {
	struct rp_buf *b;
	size_t limit;
};

static int dump_cb(const char *s, size_t n, void *data)
{
	struct dumpbuf *db = data;
	size_t room = db->limit - rp_buf_len(db->b);
	if (n > room) {
		rp_buf_append(db->b, s, room);
		return -1;
	}
	return rp_buf_append(db->b, s, n) ? -1 : 0;
}

static const char *dump(struct jctx *c, const json_t *v, struct rp_buf *b, size_t *n)
{
	size_t max = rp_diff_max_value(c->opts);
	struct dumpbuf db = {b, max == SIZE_MAX ? SIZE_MAX : max + 1};
	if (!v)
		return NULL;
	rp_buf_clear(b);
	json_dump_callback(v, dump_cb, &db,
			   JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(16));
	*n = rp_buf_len(b);
	rp_buf_append(b, "", 1);
	return (const char *)b->base + b->rd;
}

static void emit(struct jctx *c, enum rp_diff_op op, const json_t *a, const json_t *b, int noise)
{
	if (c->probe) {
		if (!noise)
			c->found = 1;
		return;
	}
	size_t na = 0, nb = 0;
	rp_buf_clear(&c->path);
	rp_diff_jpath_format(c->st, c->depth, &c->path);
	rp_buf_append(&c->path, "", 1);
	const char *sa = dump(c, a, &c->va, &na);
	const char *sb = dump(c, b, &c->vb, &nb);
	rp_diff_add(c->d, c->opts, RP_DIFF_BODY, op, noise, (const char *)c->path.base, sa, na, sb,
		    nb);
}

static void node(struct jctx *c, const json_t *a, const json_t *b);

/* Equal modulo the noise rules, with the element at |index| of the array
 * being walked. */
static int eq_at(struct jctx *c, const json_t *a, const json_t *b, size_t index)
{
	if (!c->noise)
		return same(a, b);
	int probe = c->probe, found = c->found;
	c->probe = 1;
	c->found = 0;
	push(c, NULL, index);
	node(c, a, b);
	pop(c);
	int eq = !c->found;
	c->probe = probe;
	c->found = found;
	return eq;
}

static int stop(const struct jctx *c)
{
	return c->probe && c->found;
}

static void elem(struct jctx *c, size_t pos, const json_t *a, const json_t *b)
{
	push(c, NULL, pos);
	if (a && b)
		node(c, a, b);
	else
		emit(c, a ? RP_DIFF_REMOVED : RP_DIFF_ADDED, a, b, rule_here(c, NOISE_IGNORE_JSON) != NULL);
	pop(c);
}

/* Pairs the |nd| deletions from a[ds] with the |ni| insertions from b[is]
 * at document position |*k|: paired ones are changes, the rest removals or
 * additions. */
static void flush_run(struct jctx *c, const json_t *a, size_t ds, size_t nd, const json_t *b,
		      size_t is, size_t ni, size_t *k)
{
	size_t m = RP_MIN(nd, ni);
	for (size_t t = 0; t < m && !stop(c); t++)
		elem(c, (*k)++, json_array_get(a, ds + t), json_array_get(b, is + t));
	for (size_t t = m; t < nd && !stop(c); t++)
		elem(c, *k, json_array_get(a, ds + t), NULL);
	for (size_t t = m; t < ni && !stop(c); t++)
		elem(c, (*k)++, NULL, json_array_get(b, is + t));
}

/* A pair known equal modulo noise: walked again only to report the noise. */
static void matched(struct jctx *c, size_t pos, const json_t *a, const json_t *b)
{
	if (c->noise && !c->probe)
		elem(c, pos, a, b);
}

static void array_ordered(struct jctx *c, const json_t *a, const json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b);
	size_t p = 0, s = 0, k;

	if (c->probe) {
		size_t m = RP_MIN(na, nb);
		for (size_t i = 0; i < m && !stop(c); i++)
			elem(c, i, json_array_get(a, i), json_array_get(b, i));
		for (size_t i = m; i < na && !stop(c); i++)
			elem(c, m, json_array_get(a, i), NULL);
		for (size_t i = m; i < nb && !stop(c); i++)
			elem(c, i, NULL, json_array_get(b, i));
		return;
	}
	while (p < na && p < nb && eq_at(c, json_array_get(a, p), json_array_get(b, p), p))
		p++;
	while (s < na - p && s < nb - p &&
	       eq_at(c, json_array_get(a, na - 1 - s), json_array_get(b, nb - 1 - s), nb - 1 - s))
		s++;
	for (size_t i = 0; i < p; i++)
		matched(c, i, json_array_get(a, i), json_array_get(b, i));
	k = p;
	size_t m1 = na - p - s, m2 = nb - p - s;
	if (m1 && m2 && m1 <= ARRAY_CELLS / m2) {
		size_t w = m2 + 1;
		uint32_t *L = rp_xcalloc((m1 + 1) * w, sizeof(*L));
		uint8_t *E = rp_xmalloc(m1 * m2);
		for (size_t i = m1; i-- > 0;)
			for (size_t j = m2; j-- > 0;) {
				E[i * m2 + j] = (uint8_t)eq_at(c, json_array_get(a, p + i),
							       json_array_get(b, p + j), p + j);
				L[i * w + j] = E[i * m2 + j] ? L[(i + 1) * w + j + 1] + 1
							     : RP_MAX(L[(i + 1) * w + j], L[i * w + j + 1]);
			}
		size_t i = 0, j = 0, ds = 0, is = 0;
		while (i < m1 || j < m2) {
			if (i < m1 && j < m2 && E[i * m2 + j] &&
			    L[i * w + j] == L[(i + 1) * w + j + 1] + 1) {
				flush_run(c, a, p + ds, i - ds, b, p + is, j - is, &k);
				matched(c, k++, json_array_get(a, p + i), json_array_get(b, p + j));
				i++;
				j++;
				ds = i;
				is = j;
			} else if (j == m2 || (i < m1 && L[(i + 1) * w + j] >= L[i * w + j + 1])) {
				i++;
			} else {
				j++;
			}
		}
		flush_run(c, a, p + ds, i - ds, b, p + is, j - is, &k);
		free(L);
		free(E);
	} else {
		flush_run(c, a, p, m1, b, p, m2, &k);
	}
	for (size_t t = 0; t < s; t++)
		matched(c, k++, json_array_get(a, na - s + t), json_array_get(b, nb - s + t));
}

static void array_unordered(struct jctx *c, const json_t *a, const json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b);
	if (na && nb && na > ARRAY_CELLS / nb) {
		/* Too large to match as sets: position by position. */
		size_t k = 0;
		if (c->probe)
			array_ordered(c, a, b);
		else
			flush_run(c, a, 0, na, b, 0, nb, &k);
		return;
	}
	uint8_t *used = rp_xcalloc(na ? na : 1, 1);
	size_t *ua = rp_xmalloc((na ? na : 1) * sizeof(size_t));
	size_t *ub = rp_xmalloc((nb ? nb : 1) * sizeof(size_t));
	size_t nua = 0, nub = 0;
	for (size_t j = 0; j < nb; j++) {
		size_t i;
		for (i = 0; i < na; i++)
			if (!used[i] && eq_at(c, json_array_get(a, i), json_array_get(b, j), j))
				break;
		if (i < na) {
			used[i] = 1;
			matched(c, j, json_array_get(a, i), json_array_get(b, j));
		} else {
			ub[nub++] = j;
		}
	}
	for (size_t i = 0; i < na; i++)
		if (!used[i])
			ua[nua++] = i;
	size_t m = RP_MIN(nua, nub);
	for (size_t t = 0; t < m && !stop(c); t++)
		elem(c, ub[t], json_array_get(a, ua[t]), json_array_get(b, ub[t]));
	for (size_t t = m; t < nua && !stop(c); t++)
		elem(c, ua[t], json_array_get(a, ua[t]), NULL);
	for (size_t t = m; t < nub && !stop(c); t++)
		elem(c, ub[t], NULL, json_array_get(b, ub[t]));
	free(used);
	free(ua);
	free(ub);
}

static void object(struct jctx *c, const json_t *a, const json_t *b)
{
	const char *key;
	json_t *va, *vb;
	json_object_foreach((json_t *)a, key, va) {
		if (stop(c))
			return;
		vb = json_object_get(b, key);
		push(c, key, 0);
		if (vb)
			node(c, va, vb);
		else
			emit(c, RP_DIFF_REMOVED, va, NULL, rule_here(c, NOISE_IGNORE_JSON) != NULL);
		pop(c);
	}
	json_object_foreach((json_t *)b, key, vb) {
		if (stop(c))
			return;
		if (json_object_get(a, key))
			continue;
		push(c, key, 0);
		emit(c, RP_DIFF_ADDED, NULL, vb, rule_here(c, NOISE_IGNORE_JSON) != NULL);
		pop(c);
	}
}

static void node(struct jctx *c, const json_t *a, const json_t *b)
{
	if (stop(c))
		return;
	if (c->noise && rule_here(c, NOISE_IGNORE_JSON)) {
		if (!same(a, b))
			emit(c, kind(a) == kind(b) ? RP_DIFF_CHANGED : RP_DIFF_TYPE, a, b, 1);
		return;
	}
	enum jk k = kind(a);
	if (k != kind(b)) {
		emit(c, RP_DIFF_TYPE, a, b, 0);
		return;
	}
	if (c->depth >= RP_LIMIT_DIFF_DEPTH) {
		if (!same(a, b))
			emit(c, RP_DIFF_CHANGED, a, b, 0);
		return;
	}
	switch (k) {
	case JK_OBJECT:
		object(c, a, b);
		break;
	case JK_ARRAY:
		if (c->noise && rule_here(c, NOISE_UNORDERED_JSON))
			array_unordered(c, a, b);
		else
			array_ordered(c, a, b);
		break;
	case JK_NUM:
		if (!num_equal(a, b)) {
			const struct noise_rule *r = c->noise ? rule_here(c, NOISE_TOLERANCE_JSON) : NULL;
			int within = 0;
			if (r) {
				double x = json_number_value(a), y = json_number_value(b);
				double lim = r->relative ? r->tolerance / 100.0 * RP_MAX(fabs(x), fabs(y))
							 : r->tolerance;
				within = fabs(x - y) <= lim;
			}
			emit(c, RP_DIFF_CHANGED, a, b, within);
		}
		break;
	case JK_STRING:
	case JK_BOOL:
		if (!same(a, b))
			emit(c, RP_DIFF_CHANGED, a, b, 0);
		break;
	case JK_NULL:
		break;
	}
}

int rp_diff_json(const struct rp_diff_opts *opts, struct rp_slice expected,
		 struct rp_slice actual, struct rp_diff *d)
{
	json_error_t err;
	json_t *a = NULL, *b = NULL;
	struct jctx c;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	a = json_loadb((const char *)expected.p, expected.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	b = a ? json_loadb((const char *)actual.p, actual.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err)
	      : NULL;
	if (!a || !b) {
		rc = RP_E_FORMAT;
		goto out;
	}
	c.opts = opts;
	c.noise = opts && opts->noise && opts->noise->njson ? opts->noise : NULL;
	c.d = d;
	rp_buf_init(&c.path, RP_LIMIT_DIFF_BODY);
	rp_buf_init(&c.va, RP_LIMIT_DIFF_BODY * 2);
	rp_buf_init(&c.vb, RP_LIMIT_DIFF_BODY * 2);
	node(&c, a, b);
	rp_buf_dispose(&c.path);
	rp_buf_dispose(&c.va);
	rp_buf_dispose(&c.vb);
	free(c.st);
out:
	json_decref(a);
	json_decref(b);
	return rc;
}
