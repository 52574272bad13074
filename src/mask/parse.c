/*
 * parse: the rule-line parser, in the parser shape of STYLE.md — one line of
 * bytes in, one syntax event out whose slices point into the line, or the
 * column of the fault and a static reason.  It allocates nothing, does no
 * I/O and keeps no state between lines, so the loader (rules.c) can feed it
 * lines from any file and the fuzzer can feed it anything.
 *
 * It checks the shape of a line: tokens (whitespace separated, '...' and
 * "..." quoting inside a token), the keyword in first place, the number of
 * tokens, the action's spelling and that each condition is KEY=VALUE with a
 * known key.  What a selector means is checked by the compiler in rules.c.
 */
#include "config.h"

#include "mask-int.h"

static const char *const scope_words[] = {
	"header", "cookie", "set-cookie", "query", "path", "json", "form", "text", "body", "client",
};

static const char *const cond_keys[] = {"type", "method", "route", "in"};

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Reads the token starting at |*pos| (not a space).  Returns 0, or
 * RP_E_FORMAT for an unterminated quote (|*col| at the quote). */
static int next_tok(struct rp_slice line, size_t *pos, struct rp_mask_tok *t, unsigned *col,
		    const char **why)
{
	size_t i = *pos;
	t->raw.p = line.p + i;
	t->col = (unsigned)i + 1;
	t->quoted = 0;
	while (i < line.n && !is_space(line.p[i])) {
		uint8_t q = line.p[i];
		if (q == '"' || q == '\'') {
			size_t open = i++;
			t->quoted = 1;
			while (i < line.n && line.p[i] != q)
				i += (line.p[i] == '\\' && i + 1 < line.n && line.p[i + 1] == q) ? 2 : 1;
			if (i >= line.n) {
				*col = (unsigned)open + 1;
				*why = "unterminated quote";
				return RP_E_FORMAT;
			}
		}
		i++;
	}
	t->raw.n = (size_t)(line.p + i - t->raw.p);
	*pos = i;
	return 0;
}

static int tok_is(const struct rp_mask_tok *t, const char *word)
{
	return !t->quoted && rp_slice_eq(t->raw, rp_slice_str(word));
}

static int known_action(struct rp_slice a, unsigned *bad)
{
	static const char *const words[] = {"redact", "hash", "tokenize", "fake", "keep"};
	for (size_t i = 0; i < RP_ARRAY_LEN(words); i++)
		if (rp_slice_eq(a, rp_slice_str(words[i])))
			return 1;
	static const char kl[] = "keep-last=";
	if (a.n >= sizeof(kl) - 1 && memcmp(a.p, kl, sizeof(kl) - 1) == 0) {
		uint64_t v;
		struct rp_slice num = rp_slice(a.p + sizeof(kl) - 1, a.n - (sizeof(kl) - 1));
		if (rp_slice_to_u64(num, &v) || v < 1 || v > 64) {
			*bad = sizeof(kl) - 1;
			return -1;
		}
		return 1;
	}
	return 0;
}

/* The key of condition token |t| ("type" of type=...), unquoted into |buf|
 * (at least t->raw.n bytes); |*has_eq| says whether there was a '=' and
 * |*vlen| how long the value is. */
static struct rp_slice cond_key(const struct rp_mask_tok *t, char *buf, int *has_eq,
				size_t *vlen)
{
	size_t n = t->quoted ? rp_mask_unquote(t->raw, buf) : (memcpy(buf, t->raw.p, t->raw.n), t->raw.n);
	const char *eq = memchr(buf, '=', n);
	*has_eq = eq != NULL;
	*vlen = eq ? n - (size_t)(eq - buf) - 1 : 0;
	return rp_slice(buf, eq ? (size_t)(eq - buf) : n);
}

static int check_cond(const struct rp_mask_tok *t, unsigned *col, const char **why)
{
	char buf[RP_LIMIT_MASK_LINE];
	int has_eq;
	size_t vlen;
	struct rp_slice key = cond_key(t, buf, &has_eq, &vlen);
	if (!has_eq) {
		*col = t->col;
		*why = "expected a condition KEY=VALUE (type=, method=, route=, in=)";
		return RP_E_FORMAT;
	}
	int known = 0;
	for (size_t i = 0; i < RP_ARRAY_LEN(cond_keys); i++)
		known |= rp_slice_eq(key, rp_slice_str(cond_keys[i]));
	if (!known) {
		*col = t->col;
		*why = "unknown condition (expected type=, method=, route= or in=)";
		return RP_E_FORMAT;
	}
	if (vlen == 0) {
		*col = t->quoted ? t->col : t->col + (unsigned)key.n + 1;
		*why = "empty condition value";
		return RP_E_FORMAT;
	}
	return 0;
}

/* Conditions from |*pos| to the end: each KEY=VALUE, each key once. */
static int parse_conds(struct rp_slice line, size_t *pos, struct rp_mask_syntax *out,
		       unsigned *col, const char **why)
{
	while (*pos < line.n) {
		while (*pos < line.n && is_space(line.p[*pos]))
			(*pos)++;
		if (*pos >= line.n || line.p[*pos] == '#')
			break;
		struct rp_mask_tok t;
		int rc = next_tok(line, pos, &t, col, why);
		if (rc)
			return rc;
		if (out->nconds == RP_MASK_MAX_CONDS) {
			*col = t.col;
			*why = "too many conditions";
			return RP_E_FORMAT;
		}
		if ((rc = check_cond(&t, col, why)))
			return rc;
		char a[RP_LIMIT_MASK_LINE], b[RP_LIMIT_MASK_LINE];
		int eq;
		size_t vl;
		struct rp_slice k = cond_key(&t, a, &eq, &vl);
		for (unsigned i = 0; i < out->nconds; i++) {
			if (rp_slice_eq(k, cond_key(&out->conds[i], b, &eq, &vl))) {
				*col = t.col;
				*why = "condition given twice (list the values with commas instead)";
				return RP_E_FORMAT;
			}
		}
		out->conds[out->nconds++] = t;
		out->end_col = (unsigned)*pos + 1;
	}
	return 0;
}

int rp_mask_parse_line(struct rp_slice line, struct rp_mask_syntax *out, unsigned *col,
		       const char **why)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < line.n; i++) {
		if ((line.p[i] < 0x20 && line.p[i] != '\t') || line.p[i] == 0x7f) {
			*col = (unsigned)i + 1;
			*why = "control character in rule line";
			return RP_E_FORMAT;
		}
	}
	size_t pos = 0;
	while (pos < line.n && is_space(line.p[pos]))
		pos++;
	if (pos == line.n || line.p[pos] == '#') {
		out->kind = RP_MASK_SYN_EMPTY;
		return 0;
	}

	struct rp_mask_tok *toks[3] = {&out->scope, &out->selector, &out->action};
	int rc = next_tok(line, &pos, toks[0], col, why);
	if (rc)
		return rc;
	out->end_col = (unsigned)pos + 1;

	if (tok_is(&out->scope, "static")) {
		out->kind = RP_MASK_SYN_STATIC;
		if ((rc = parse_conds(line, &pos, out, col, why)))
			return rc;
		if (out->nconds == 0) {
			*col = out->end_col;
			*why = "static needs a condition (type=..., route=... or method=...)";
			return RP_E_FORMAT;
		}
		char buf[RP_LIMIT_MASK_LINE];
		int eq;
		size_t vl;
		for (unsigned i = 0; i < out->nconds; i++)
			if (rp_slice_eq(cond_key(&out->conds[i], buf, &eq, &vl), RP_SLICE_LIT("in"))) {
				*col = out->conds[i].col;
				*why = "static applies to bodies of both directions; in= has no "
				       "meaning here";
				return RP_E_FORMAT;
			}
		return 0;
	}

	int include = tok_is(&out->scope, "include");
	int known = include;
	for (size_t i = 0; !known && i < RP_ARRAY_LEN(scope_words); i++)
		known = tok_is(&out->scope, scope_words[i]);
	if (!known) {
		*col = out->scope.col;
		*why = "unknown scope (expected header, cookie, set-cookie, query, path, json, form, "
		       "text, body, client, static or include)";
		return RP_E_FORMAT;
	}

	/* selector, then action */
	for (int k = 1; k < (include ? 2 : 3); k++) {
		while (pos < line.n && is_space(line.p[pos]))
			pos++;
		if (pos >= line.n || line.p[pos] == '#') {
			*col = out->end_col;
			*why = include ? "include needs a file name"
			     : k == 1  ? "expected a selector after the scope"
				       : "expected an action (redact, hash, tokenize, keep-last=N, "
					 "fake, keep)";
			return RP_E_FORMAT;
		}
		if ((rc = next_tok(line, &pos, toks[k], col, why)))
			return rc;
		out->end_col = (unsigned)pos + 1;
	}

	if (include) {
		while (pos < line.n && is_space(line.p[pos]))
			pos++;
		if (pos < line.n && line.p[pos] != '#') {
			*col = (unsigned)pos + 1;
			*why = "include takes one file name (quote a name with spaces)";
			return RP_E_FORMAT;
		}
		out->kind = RP_MASK_SYN_INCLUDE;
		return 0;
	}

	unsigned bad = 0;
	int a = out->action.quoted ? 0 : known_action(out->action.raw, &bad);
	if (a <= 0) {
		*col = out->action.col + bad;
		*why = a < 0 ? "keep-last needs a count from 1 to 64"
			     : "unknown action (expected redact, hash, tokenize, keep-last=N, fake "
			       "or keep)";
		return RP_E_FORMAT;
	}
	if ((rc = parse_conds(line, &pos, out, col, why)))
		return rc;
	out->kind = RP_MASK_SYN_RULE;
	return 0;
}

size_t rp_mask_unquote(struct rp_slice raw, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < raw.n; i++) {
		uint8_t q = raw.p[i];
		if (q != '"' && q != '\'') {
			out[n++] = (char)q;
			continue;
		}
		for (i++; i < raw.n && raw.p[i] != q; i++) {
			if (raw.p[i] == '\\' && i + 1 < raw.n && raw.p[i + 1] == q)
				i++;
			out[n++] = (char)raw.p[i];
		}
	}
	return n;
}
