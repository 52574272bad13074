/*
 * text: line diffs of text bodies, and digest diffs of binary ones.  Pure.
 * Lines are hashed once and compared by hash, then bytes; the common prefix
 * and suffix are trimmed before aligning what is left with a longest common
 * subsequence table of at most RP_LIMIT_DIFF_LCS_CELLS cells (past that, the
 * middle is reported as one changed block).  `ignore text` rules blank their
 * matches on both sides before lines are compared; lines that then compare
 * equal but differ in their bytes are reported as noise.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "diff-int.h"

struct line {
	const char *p; /* raw line, without its end of line */
	size_t n;
	const char *m; /* the line with noise blanked (== p without rules) */
	size_t mn;
	uint64_t h;    /* hash of the masked line */
};

static uint64_t hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
	return h;
}

static struct line *split(struct rp_slice s, size_t *count)
{
	size_t n = 0;
	for (size_t i = 0; i < s.n; i++)
		n += s.p[i] == '\n';
	if (s.n && s.p[s.n - 1] != '\n')
		n++;
	struct line *v = rp_xcalloc(n ? n : 1, sizeof(*v));
	size_t k = 0, b = 0;
	for (size_t i = 0; i <= s.n && k < n; i++) {
		if (i == s.n || s.p[i] == '\n') {
			size_t e = i;
			if (e > b && s.p[e - 1] == '\r')
				e--;
			v[k].p = (const char *)s.p + b;
			v[k].n = e - b;
			k++;
			b = i + 1;
		}
	}
	*count = n;
	return v;
}

/* Blanks every match of the text rules in each line; masked copies live in
 * |pool|. */
static void mask(const struct rp_diff_noise *noise, struct line *v, size_t n, struct rp_pool *pool)
{
	pcre2_match_data *md = NULL;
	size_t cap = 256;
	char *tmp = rp_xmalloc(cap);
	for (size_t i = 0; i < n; i++) {
		const char *cur = v[i].p;
		size_t curn = v[i].n;
		for (size_t r = 0; noise && r < noise->n; r++) {
			const struct noise_rule *rule = &noise->v[r];
			if (rule->kind != NOISE_IGNORE_TEXT)
				continue;
			if (!md)
				md = pcre2_match_data_create(16, NULL);
			for (;;) {
				PCRE2_SIZE outn = cap;
				int rc = pcre2_substitute(rule->re, (PCRE2_SPTR)cur, curn, 0,
							  PCRE2_SUBSTITUTE_GLOBAL |
							  PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
							  md, NULL, (PCRE2_SPTR) "", 0, (PCRE2_UCHAR *)tmp, &outn);
				if (rc == PCRE2_ERROR_NOMEMORY) {
					cap = outn + 1;
					tmp = rp_xrealloc(tmp, cap);
					continue;
				}
				if (rc > 0) {
					cur = rp_pool_strndup(pool, tmp, outn);
					curn = outn;
				}
				break; /* no match, or an error: the line stays */
			}
		}
		v[i].m = cur;
		v[i].mn = curn;
		v[i].h = hash(cur, curn);
	}
	pcre2_match_data_free(md);
	free(tmp);
}

static int leq(const struct line *a, const struct line *b)
{
	return a->h == b->h && a->mn == b->mn && memcmp(a->m, b->m, a->mn) == 0;
}

struct tctx {
	const struct rp_diff_opts *opts;
	struct rp_diff *d;
	int masking;
	char path[48];
};

static void item(struct tctx *c, enum rp_diff_op op, int noise, size_t lineno,
		 const struct line *a, const struct line *b)
{
	snprintf(c->path, sizeof(c->path), "line %zu", lineno);
	rp_diff_add(c->d, c->opts, RP_DIFF_BODY, op, noise, c->path, a ? a->p : NULL, a ? a->n : 0,
		    b ? b->p : NULL, b ? b->n : 0);
}

static void matched(struct tctx *c, const struct line *a, const struct line *b, size_t bi)
{
	if (c->masking && (a->n != b->n || memcmp(a->p, b->p, a->n) != 0))
		item(c, RP_DIFF_CHANGED, 1, bi + 1, a, b);
}

static void flush_run(struct tctx *c, const struct line *a, size_t ds, size_t nd,
		      const struct line *b, size_t is, size_t ni)
{
	size_t m = RP_MIN(nd, ni);
	for (size_t t = 0; t < m; t++)
		item(c, RP_DIFF_CHANGED, 0, is + t + 1, &a[ds + t], &b[is + t]);
	for (size_t t = m; t < nd; t++)
		item(c, RP_DIFF_REMOVED, 0, ds + t + 1, &a[ds + t], NULL);
	for (size_t t = m; t < ni; t++)
		item(c, RP_DIFF_ADDED, 0, is + t + 1, NULL, &b[is + t]);
}

void rp_diff_text(const struct rp_diff_opts *opts, struct rp_slice expected,
		  struct rp_slice actual, struct rp_diff *d)
{
	const struct rp_diff_noise *noise = opts ? opts->noise : NULL;
	struct tctx c = {opts, d, noise && noise->ntext, ""};
	size_t na, nb, p = 0, s = 0;
	struct line *a = split(expected, &na), *b = split(actual, &nb);

	mask(c.masking ? noise : NULL, a, na, d->pool);
	mask(c.masking ? noise : NULL, b, nb, d->pool);
	while (p < na && p < nb && leq(&a[p], &b[p]))
		matched(&c, &a[p], &b[p], p), p++;
	while (s < na - p && s < nb - p && leq(&a[na - 1 - s], &b[nb - 1 - s]))
		s++;
	size_t m1 = na - p - s, m2 = nb - p - s;
	if (m1 && m2 && m1 <= RP_LIMIT_DIFF_LCS_CELLS / m2) {
		size_t w = m2 + 1;
		uint32_t *L = rp_xcalloc((m1 + 1) * w, sizeof(*L));
		for (size_t i = m1; i-- > 0;)
			for (size_t j = m2; j-- > 0;)
				L[i * w + j] = leq(&a[p + i], &b[p + j])
						       ? L[(i + 1) * w + j + 1] + 1
						       : RP_MAX(L[(i + 1) * w + j], L[i * w + j + 1]);
		size_t i = 0, j = 0, ds = 0, is = 0;
		while (i < m1 || j < m2) {
			if (i < m1 && j < m2 && leq(&a[p + i], &b[p + j]) &&
			    L[i * w + j] == L[(i + 1) * w + j + 1] + 1) {
				flush_run(&c, a, p + ds, i - ds, b, p + is, j - is);
				matched(&c, &a[p + i], &b[p + j], p + j);
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
		flush_run(&c, a, p + ds, i - ds, b, p + is, j - is);
		free(L);
	} else if (m1 && m2) {
		/* Too large to align: one block, shown by its first lines. */
		item(&c, RP_DIFF_CHANGED, 0, p + 1, &a[p], &b[p]);
	} else {
		flush_run(&c, a, p, m1, b, p, m2);
	}
	for (size_t t = 0; t < s; t++)
		matched(&c, &a[na - s + t], &b[nb - s + t], nb - s + t);
	free(a);
	free(b);
}

void rp_diff_binary(struct rp_slice expected, struct rp_slice actual, struct rp_diff *d)
{
	if (rp_slice_eq(expected, actual))
		return;
	uint8_t ha[32], hb[32];
	char xa[65], xb[65], sa[128], sb[128];
	rp_diff_sha256(expected.p, expected.n, ha);
	rp_diff_sha256(actual.p, actual.n, hb);
	rp_hex(ha, 32, xa);
	rp_hex(hb, 32, xb);
	int na = snprintf(sa, sizeof(sa), "sha256:%s (%zu bytes)", xa, expected.n);
	int nb = snprintf(sb, sizeof(sb), "sha256:%s (%zu bytes)", xb, actual.n);
	rp_diff_add(d, NULL, RP_DIFF_BODY, RP_DIFF_CHANGED, 0, "body", sa, (size_t)na, sb, (size_t)nb);
}
