/*
 * jpath: the JSON path notation of diff.h — parsed from noise rules, printed
 * into diff items, matched against the path a JSON walk is at.  Pure.
 * Printing and parsing are inverse for keys and indices, so a path copied
 * out of a report into a rule file names the same place.  Matching is a
 * backtracking walk bounded by the product of the rule's and the walk's
 * depths (both capped).
 */
#include "config.h"

#include <stdlib.h>

#include "diff-int.h"

static int name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static int name_char(int c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

static void push(struct rp_jpath *p, size_t *cap, struct rp_jseg seg)
{
	if (p->n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		p->v = rp_xrealloc(p->v, *cap * sizeof(*p->v));
	}
	p->v[p->n++] = seg;
	if (seg.kind == RP_JSEG_ANY || seg.kind == RP_JSEG_DESCEND)
		p->wild = 1;
}

static char *dupn(const char *s, size_t n)
{
	char *r = rp_xmalloc(n + 1);
	memcpy(r, s, n);
	r[n] = 0;
	return r;
}

void rp_jpath_dispose(struct rp_jpath *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].key);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

int rp_jpath_parse(const char *s, size_t n, struct rp_jpath *out, size_t *errpos,
		   const char **why)
{
	size_t i = 0, cap = 0;
	const char *msg = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0 || s[0] != '$') {
		msg = "a JSON path starts with '$'";
		goto out;
	}
	i = 1;
	while (i < n) {
		if (s[i] == '.') {
			int descend = 0;
			i++;
			if (i < n && s[i] == '.') {
				descend = 1;
				i++;
			}
			if (descend)
				push(out, &cap, (struct rp_jseg){RP_JSEG_DESCEND, NULL, 0});
			if (i < n && s[i] == '*') {
				push(out, &cap, (struct rp_jseg){RP_JSEG_ANY, NULL, 0});
				i++;
				continue;
			}
			if (i < n && s[i] == '[' && descend)
				continue; /* "..[0]" and "..['k']" */
			if (i >= n || !name_start((unsigned char)s[i])) {
				msg = "expected a name or '*' after '.'";
				goto out;
			}
			size_t b = i;
			while (i < n && name_char((unsigned char)s[i]))
				i++;
			push(out, &cap, (struct rp_jseg){RP_JSEG_KEY, dupn(s + b, i - b), 0});
		} else if (s[i] == '[') {
			i++;
			if (i < n && s[i] == '*') {
				i++;
				push(out, &cap, (struct rp_jseg){RP_JSEG_ANY, NULL, 0});
			} else if (i < n && s[i] >= '0' && s[i] <= '9') {
				size_t v = 0;
				while (i < n && s[i] >= '0' && s[i] <= '9') {
					if (v > (SIZE_MAX - 9) / 10) {
						msg = "index too large";
						goto out;
					}
					v = v * 10 + (size_t)(s[i] - '0');
					i++;
				}
				push(out, &cap, (struct rp_jseg){RP_JSEG_INDEX, NULL, v});
			} else if (i < n && (s[i] == '\'' || s[i] == '"')) {
				char q = s[i++];
				char *k = rp_xmalloc(n - i + 1);
				size_t kn = 0;
				while (i < n && s[i] != q) {
					if (s[i] == '\\' && i + 1 < n && (s[i + 1] == q || s[i + 1] == '\\'))
						i++;
					k[kn++] = s[i++];
				}
				k[kn] = 0;
				if (i >= n) {
					free(k);
					msg = "unterminated quoted key";
					goto out;
				}
				i++;
				push(out, &cap, (struct rp_jseg){RP_JSEG_KEY, k, 0});
			} else {
				msg = "expected an index, '*' or a quoted key after '['";
				goto out;
			}
			if (i >= n || s[i] != ']') {
				msg = "expected ']'";
				goto out;
			}
			i++;
		} else {
			msg = "expected '.' or '['";
			goto out;
		}
	}
	if (out->n && out->v[out->n - 1].kind == RP_JSEG_DESCEND) {
		msg = "'..' must be followed by a name, '*' or '['";
		goto out;
	}
out:
	if (msg) {
		rp_jpath_dispose(out);
		if (errpos)
			*errpos = i;
		if (why)
			*why = msg;
		rc = RP_E_FORMAT;
	}
	return rc;
}

static int match_at(const struct rp_jpath *p, size_t pi, const struct pseg *st, size_t depth,
		    size_t si)
{
	for (;;) {
		if (pi == p->n)
			return si == depth;
		const struct rp_jseg *g = &p->v[pi];
		if (g->kind == RP_JSEG_DESCEND) {
			for (size_t k = si; k <= depth; k++)
				if (match_at(p, pi + 1, st, depth, k))
					return 1;
			return 0;
		}
		if (si == depth)
			return 0;
		switch (g->kind) {
		case RP_JSEG_KEY:
			if (!st[si].key || strcmp(st[si].key, g->key) != 0)
				return 0;
			break;
		case RP_JSEG_INDEX:
			if (st[si].key || st[si].index != g->index)
				return 0;
			break;
		default:
			break;
		}
		pi++;
		si++;
	}
}

int rp_diff_jpath_match(const struct rp_jpath *p, const struct pseg *stack, size_t depth)
{
	if (!p->wild && p->n != depth)
		return 0;
	return match_at(p, 0, stack, depth, 0);
}

static int plain_name(const char *k)
{
	if (!name_start((unsigned char)k[0]))
		return 0;
	for (const char *c = k; *c; c++)
		if (!name_char((unsigned char)*c))
			return 0;
	return 1;
}

void rp_diff_jpath_format(const struct pseg *stack, size_t depth, struct rp_buf *b)
{
	rp_buf_append(b, "$", 1);
	for (size_t i = 0; i < depth; i++) {
		const char *k = stack[i].key;
		if (!k) {
			rp_buf_printf(b, "[%zu]", stack[i].index);
		} else if (plain_name(k)) {
			rp_buf_append(b, ".", 1);
			rp_buf_append(b, k, strlen(k));
		} else {
			rp_buf_append(b, "['", 2);
			for (const char *c = k; *c; c++) {
				if (*c == '\'' || *c == '\\')
					rp_buf_append(b, "\\", 1);
				rp_buf_append(b, c, 1);
			}
			rp_buf_append(b, "']", 2);
		}
	}
}
