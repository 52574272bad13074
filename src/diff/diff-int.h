/*
 * diff internals shared by the files of src/diff: the compiled noise rules,
 * the path stack a JSON walk keeps, and the one function that appends an
 * item to a result.  Not installed; nothing outside src/diff includes it.
 */
#ifndef REPRISE_DIFF_INT_H
#define REPRISE_DIFF_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "reprise/diff.h"
#include "reprise/limits.h"

enum noise_kind {
	NOISE_IGNORE_HEADER = 0,
	NOISE_COMPARE_HEADER,
	NOISE_IGNORE_JSON,
	NOISE_TOLERANCE_JSON,
	NOISE_UNORDERED_JSON,
	NOISE_IGNORE_TEXT,
};

struct noise_rule {
	enum noise_kind kind;
	unsigned line;
	char *name;         /* header rules: lowercased name without the '*' */
	size_t name_n;
	int name_prefix;    /* the name ended in '*' */
	struct rp_jpath path;
	double tolerance;
	int relative;       /* tolerance in percent of the larger value */
	pcre2_code *re;
};

struct rp_diff_noise {
	struct noise_rule *v;
	size_t n;
	size_t njson; /* json rules of any kind */
	size_t ntext;
};

/* One step of the path being walked: a key (NUL-terminated, owned by the
 * JSON document) or an index. */
struct pseg {
	const char *key;
	size_t index;
};

/* 1 when |p| matches the whole of |stack| (|depth| segments). */
int rp_diff_jpath_match(const struct rp_jpath *p, const struct pseg *stack, size_t depth);
/* Appends the text of |stack| ("$.a[0]['b c']") to |b|. */
void rp_diff_jpath_format(const struct pseg *stack, size_t depth, struct rp_buf *b);

/* 1 when the noise rules say header |lname| (lowercase) is ignored, with
 * |*by_rule| set when a user rule (not a default) decided it. */
int rp_diff_header_ignored(const struct rp_diff_noise *noise, struct rp_slice lname, int *by_rule);

/* Appends an item; |exp|/|act| are copied (cut at the value cap), NULL
 * meaning absent.  |path| is copied. */
void rp_diff_add(struct rp_diff *d, const struct rp_diff_opts *opts, enum rp_diff_where where,
		 enum rp_diff_op op, int noise, const char *path, const char *exp, size_t expn,
		 const char *act, size_t actn);

size_t rp_diff_max_value(const struct rp_diff_opts *opts);

#endif
