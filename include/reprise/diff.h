/*
 * diff: compares a recorded response with a replayed one and says what
 * changed.  It sits after the replay client in the pipeline (client ->
 * responses -> diff -> report) and is pure: libc, jansson (JSON bodies) and
 * PCRE2 (text noise patterns), no I/O but reading a noise file.
 *
 * What is compared, in order:
 *   status   the status code ("status");
 *   headers  by lowercased name, all values of a name joined in order
 *            ("header content-type"); Date, Server, hop-by-hop fields and the
 *            like are skipped by default (rp_diff_header_default_ignored);
 *   body     the decoded bodies, by content type: JSON structurally (paths
 *            like "$.items[2].price", numbers compared as numbers, type
 *            changes reported as such), text by lines ("line 12"), anything
 *            else by SHA-256 digest ("body").  Identical bytes are equal
 *            whatever the type, without parsing.
 *
 * JSON array diffs align elements (longest common subsequence over elements
 * equal modulo the noise rules) so that an inserted element reads as one
 * addition, not as a cascade of changes.  Paths in a JSON diff follow the
 * JSON-Patch convention: the items, applied in the order given, turn the
 * recorded body into the replayed one, and an array index is the position in
 * the document as transformed by the items before it (for changes and
 * additions that is the index in the replayed body).  Arrays under an
 * `unordered` rule are compared as multisets instead; there, removed
 * elements carry their recorded index and added ones their replayed index.
 *
 * Noise rules (reprise-noise(5)) silence known differences.  A difference a
 * rule silences is still reported, marked |noise|, so that a report can say
 * what was ignored; it does not count against parity.
 *
 * Invariants: a diff never modifies its inputs; its memory is the result's
 * pool, bounded by max_items and max_value whatever the bodies; deep or huge
 * documents degrade to coarser diffs (positional arrays, one changed text
 * block) rather than to quadratic time beyond fixed caps.
 */
#ifndef REPRISE_DIFF_H
#define REPRISE_DIFF_H

#include "reprise/exchange.h"

/* ---- JSON paths ---------------------------------------------------------- */

/* A path is "$" followed by segments: ".name" or "['any key']" (a key),
 * "[3]" (an index), ".*" or "[*]" (any key or index), "..name" or "..*"
 * (at any depth below, zero levels included).  Names written with a dot hold
 * letters, digits, '_', '-' and '$' and do not start with a digit or '-';
 * other keys are quoted with ' or " (a backslash escapes the quote and
 * itself).  Diff items only ever contain keys and indices. */
enum rp_jseg_kind {
	RP_JSEG_KEY = 0,
	RP_JSEG_INDEX,
	RP_JSEG_ANY,     /* any key or any index */
	RP_JSEG_DESCEND, /* zero or more levels; the next segment follows */
};

struct rp_jseg {
	enum rp_jseg_kind kind;
	char *key;    /* RP_JSEG_KEY: NUL-terminated (heap) */
	size_t index; /* RP_JSEG_INDEX */
};

struct rp_jpath {
	struct rp_jseg *v;
	size_t n;
	int wild; /* 1 when it holds ANY or DESCEND segments */
};

/* Parses |n| bytes at |s| into |out|.  Returns 0, or RP_E_FORMAT with
 * |*errpos| (may be NULL) set to the 0-based offset of the offending byte
 * and |*why| (may be NULL) to a static explanation.  |out| is empty on error. */
int rp_jpath_parse(const char *s, size_t n, struct rp_jpath *out, size_t *errpos,
		   const char **why);
/* Frees what rp_jpath_parse allocated; the path is empty afterwards. */
void rp_jpath_dispose(struct rp_jpath *p);

/* ---- noise rules ----------------------------------------------------------- */

/* A rule file, one rule a line ('#' starts a comment):
 *   ignore header NAME            skip a header (NAME may end in '*')
 *   compare header NAME           compare a header skipped by default
 *   ignore json PATH              a JSON path (and everything below it)
 *   tolerance json PATH NUMBER    numbers equal within NUMBER (absolute), or
 *   tolerance json PATH NUMBER%   within NUMBER percent of the larger one
 *   unordered json PATH           an array compared as a multiset
 *   ignore text REGEX             in text bodies, parts matching REGEX
 *                                 (PCRE2, to the end of the line) are
 *                                 blanked on both sides before comparing */
struct rp_diff_noise;

/* Parses the rule text |text| (|n| bytes); |file| names it in messages.
 * Returns 0 and sets |*out|, or RP_E_FORMAT with |err| (|errlen| bytes, may
 * be NULL) set to "FILE:LINE:COLUMN: what was wrong" (1-based). */
int rp_diff_noise_parse(const char *text, size_t n, const char *file,
			struct rp_diff_noise **out, char *err, size_t errlen);
/* Reads and parses the file at |path|.  As rp_diff_noise_parse, plus RP_E_IO
 * ("FILE: cannot read: reason") and RP_E_LIMIT (larger than 1 MiB). */
int rp_diff_noise_load(const char *path, struct rp_diff_noise **out, char *err, size_t errlen);
/* Frees |noise|.  NULL is a no-op. */
void rp_diff_noise_free(struct rp_diff_noise *noise);
/* Number of rules held. */
size_t rp_diff_noise_count(const struct rp_diff_noise *noise);

/* Returns 1 when the lowercase header |name| is skipped unless a noise rule
 * says `compare header`: Date, Server, Age, Expires, Last-Modified, ETag,
 * Via, request and trace ids, hop-by-hop fields, Content-Length (bodies are
 * compared decoded), Keep-Alive ... */
int rp_diff_header_default_ignored(struct rp_slice name);

/* ---- results -------------------------------------------------------------- */

enum rp_diff_where {
	RP_DIFF_STATUS = 0,
	RP_DIFF_HEADER,
	RP_DIFF_BODY,
};

enum rp_diff_op {
	RP_DIFF_CHANGED = 0,
	RP_DIFF_ADDED,   /* only in the replayed response */
	RP_DIFF_REMOVED, /* only in the recorded response */
	RP_DIFF_TYPE,    /* JSON type changed (number -> string, ...) */
};

enum rp_diff_body {
	RP_DIFF_BODY_SAME = 0, /* byte-identical (or both empty): not parsed */
	RP_DIFF_BODY_JSON,
	RP_DIFF_BODY_TEXT,
	RP_DIFF_BODY_BINARY,
};

struct rp_diff_item {
	enum rp_diff_where where;
	enum rp_diff_op op;
	int noise;            /* 1: silenced by a noise rule, not a regression */
	const char *path;     /* "status", "header etag", "$.a[0]", "line 12", "body" */
	const char *expected; /* recorded value as text (JSON values as compact
	                         JSON), NULL for ADDED; cut at max_value bytes
	                         with "..." appended */
	const char *actual;   /* replayed value, NULL for REMOVED */
};

/* The differences between one pair of responses.  Strings live in |pool|
 * until the next rp_diff_reset or rp_diff_dispose. */
struct rp_diff {
	struct rp_diff_item *v;
	size_t n, cap;
	size_t real;    /* differences that are not noise (kept or not) */
	size_t noise;   /* differences silenced by rules (kept or not) */
	size_t dropped; /* differences past max_items, counted only */
	enum rp_diff_body body;
	struct rp_pool *pool;
};

struct rp_diff_opts {
	const struct rp_diff_noise *noise; /* may be NULL */
	size_t max_items;    /* items kept per diff (0: 64) */
	size_t max_value;    /* bytes of a value kept (0: 256; SIZE_MAX: all) */
	size_t max_body;     /* bodies larger than this are compared by digest
	                        (0: RP_LIMIT_DIFF_BODY) */
};

void rp_diff_init(struct rp_diff *d);
/* Empties |d| for the next comparison, keeping its memory. */
void rp_diff_reset(struct rp_diff *d);
void rp_diff_dispose(struct rp_diff *d);

/* Compares the recorded response |expected| with the replayed |actual|
 * (bodies decoded in both) and appends what differs to |d| (call
 * rp_diff_reset first to start over).  Returns the number of real (non-noise)
 * differences; 0 means parity. */
size_t rp_diff_response(const struct rp_diff_opts *opts, const struct rp_response *expected,
			const struct rp_response *actual, struct rp_diff *d);

/* Compares two JSON documents (any JSON value at the top).  Appends to |d|
 * and returns 0, or RP_E_FORMAT when either does not parse (nothing
 * appended). */
int rp_diff_json(const struct rp_diff_opts *opts, struct rp_slice expected,
		 struct rp_slice actual, struct rp_diff *d);
/* Compares two texts line by line (CR LF and LF both end a line). */
void rp_diff_text(const struct rp_diff_opts *opts, struct rp_slice expected,
		  struct rp_slice actual, struct rp_diff *d);
/* Compares two bodies by SHA-256 digest and length. */
void rp_diff_binary(struct rp_slice expected, struct rp_slice actual, struct rp_diff *d);

/* "changed", "added", "removed", "type". */
const char *rp_diff_op_name(enum rp_diff_op op);
/* "same", "json", "text", "binary". */
const char *rp_diff_body_name(enum rp_diff_body b);

/* Writes |path| with every concrete array index replaced by "[*]" into
 * |out| ("$.items[3].price" -> "$.items[*].price"), so that differences of
 * many exchanges aggregate; other paths are copied.  Truncates to |outlen|. */
void rp_diff_path_generalize(const char *path, char *out, size_t outlen);

/* ---- routes --------------------------------------------------------------- */

/* Writes the route template of a request into |out| (NUL-terminated, cut to
 * |outlen|): the method, a space, and the path without its query, where each
 * segment (or dot-separated part of one) that is a number becomes "{id}", a
 * UUID "{uuid}", a hex string of 8+ digits with a decimal digit in it "{hex}"
 * and an opaque token (16+ letters, digits, '-' or '_', mixing letters and
 * digits) "{token}".  "/users/123/orders?x=1" -> "GET /users/{id}/orders". */
void rp_diff_route(struct rp_slice method, struct rp_slice target, char *out, size_t outlen);

/* ---- digest --------------------------------------------------------------- */

/* SHA-256 (FIPS 180-4) of |n| bytes at |p| into |out|. */
void rp_diff_sha256(const void *p, size_t n, uint8_t out[32]);

#endif
