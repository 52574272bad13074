/*
 * mask: the protect stage of the pipeline.  Every exchange from every source
 * (proxy, capture, import) passes through rp_mask_apply after its bodies are
 * content-decoded and before it is encoded for the store, so that no value an
 * active rule selects is ever written.  Pure: libc, PCRE2 (with JIT) and
 * OpenSSL's SHA-256 only; it performs no I/O except reading rule and key
 * files when asked to.
 *
 * A rule set (reprise-masks(5)) is a list of rules, one per line: a scope
 * (header, cookie, set-cookie, query, path, json, form, text, body, client),
 * a selector within it, an action (redact, hash, tokenize, keep-last=N, fake,
 * keep) and optional conditions (type=, method=, route=, in=).  The first
 * rule that selects a value decides what happens to it; `text` rules (built-in
 * detectors and regular expressions) then run over whatever no structural
 * rule claimed.  `static` lines name the static assets whose bodies are left
 * untouched.
 *
 * Tokens and fakes are keyed: HMAC-SHA-256 under a key that comes from the
 * operator (a key file or REPRISE_MASK_KEY), never from the corpus.  The same
 * value under the same key becomes the same token or fake everywhere, in
 * every process; the corpus records only the rule set's digest and the key's
 * fingerprint.
 *
 * Invariants: a compiled mask is immutable, so any number of threads may call
 * rp_mask_apply on it at once; everything apply allocates lives in the
 * exchange's pool; a value is never logged.
 */
#ifndef REPRISE_MASK_H
#define REPRISE_MASK_H

#include "reprise/exchange.h"

/* Environment variable holding the key when no key file is given. */
#define RP_MASK_KEY_ENV "REPRISE_MASK_KEY"
/* Key sizes accepted, in bytes. */
#define RP_MASK_KEY_MIN 16
#define RP_MASK_KEY_MAX 1024
/* The marker `redact` writes. */
#define RP_MASK_REDACTED "REDACTED"

/* ---- detectors ------------------------------------------------------------ */

/* Built-in detectors: each finds candidates and validates them (checksums,
 * issuing rules, address classes), so that near-misses are not reported. */
enum rp_mask_detector {
	RP_MASK_EMAIL = 0, /* addr-spec, plus-addressing, IDN (UTF-8) domains */
	RP_MASK_CARD,      /* payment card: 13-19 digits, issuer prefix, Luhn */
	RP_MASK_SSN,       /* US SSN ddd-dd-dddd: area, group, serial rules */
	RP_MASK_PHONE,     /* E.164, NANP and trunk-0 national forms */
	RP_MASK_IBAN,      /* country length and mod-97 checksum */
	RP_MASK_JWT,       /* header.payload.signature, base64url JSON */
	RP_MASK_BEARER,    /* the credential after "Bearer " */
	RP_MASK_AWS_KEY,   /* AWS access key ids (AKIA..., ASIA...) */
	RP_MASK_IPV4,      /* publicly routable IPv4 addresses */
	RP_MASK_IPV6,      /* global unicast IPv6 addresses */
	RP_MASK_DETECTOR_COUNT
};

/* Every detector, as a bit set (bit d = 1u << d). */
#define RP_MASK_ALL_DETECTORS ((1u << RP_MASK_DETECTOR_COUNT) - 1)

enum rp_mask_detect_flags {
	/* Also pass over values reprise itself writes: tagged fakes (cards,
	 * phones, IBANs carry check digits that say so), tokens, "...EXAMPLE"
	 * AWS keys, JWTs marked as masked.  For audits: masking never uses it,
	 * so a real value that happens to look like a fake is still masked. */
	RP_MASK_DETECT_AUDIT = 1,
	/* Syntax only: report reserved, private and documentation values too
	 * (user@example.com, 10.0.0.1), which are otherwise not personal. */
	RP_MASK_DETECT_SYNTAX = 2,
};

/* The detector's name as written in rules ("email", "card", "aws-key" ...). */
const char *rp_mask_detector_name(enum rp_mask_detector d);

/* Parses a detector name.  0, or RP_E_NOTFOUND. */
int rp_mask_detector_parse(struct rp_slice name, enum rp_mask_detector *out);

/* Parses a comma-separated list of detector names ("email,card"; "all" for
 * every one) into a bit set.  0, or RP_E_USAGE with |*bad| (may be NULL) set
 * to the first unknown name's offset in |list|. */
int rp_mask_detectors_parse(struct rp_slice list, uint32_t *out, size_t *bad);

/* Finds the first match of |d| in |text| that starts at or after |from|.
 * Returns 1 and sets [*start, *end), or 0 when there is none.  |flags| is a
 * set of enum rp_mask_detect_flags.  No allocation; thread-safe. */
int rp_mask_detect(enum rp_mask_detector d, struct rp_slice text, size_t from, unsigned flags,
		   size_t *start, size_t *end);

/* Returns 1 when all of |value| is one match of |d| (with |flags|). */
int rp_mask_detect_whole(enum rp_mask_detector d, struct rp_slice value, unsigned flags);

/* ---- rule sets -------------------------------------------------------------- */

/* Where a rule file is wrong.  |line| and |col| are 1-based (0 when the error
 * is about the file as a whole, such as one that cannot be read). */
struct rp_mask_error {
	char file[512];
	unsigned line, col;
	char msg[256];
};

/* Formats |e| as "FILE:LINE:COL: MSG" (or "FILE: MSG") into |out|. */
void rp_mask_error_format(const struct rp_mask_error *e, char *out, size_t outlen);

struct rp_mask_rules;

/* Reads, parses and compiles the rule file |path| and the files it includes
 * (paths relative to the including file's folder).  Returns 0 and sets
 * |*out|, or on error fills |err| and returns RP_E_IO (a file cannot be
 * read), RP_E_LIMIT (a file, line or rule count over its limit) or
 * RP_E_FORMAT (a malformed rule, an include loop). */
int rp_mask_rules_load(const char *path, struct rp_mask_rules **out, struct rp_mask_error *err);

/* The same over the |n| bytes at |text|, named |name| in messages; includes
 * resolve relative to |name|'s folder. */
int rp_mask_rules_parse(const char *name, const void *text, size_t n, struct rp_mask_rules **out,
			struct rp_mask_error *err);

/* Frees a rule set that was not handed to rp_mask_new.  NULL is a no-op. */
void rp_mask_rules_free(struct rp_mask_rules *r);

/* Number of rules (include expanded; `static` lines not counted). */
size_t rp_mask_rules_count(const struct rp_mask_rules *r);

/* "sha256:<64 hex>" over the canonical text of the rules (comments, spacing
 * and quoting do not change it).  Lives as long as |r|. */
const char *rp_mask_rules_digest(const struct rp_mask_rules *r);

/* Writes the canonical text of the rules, one per line, to |out|. */
int rp_mask_rules_canonical(const struct rp_mask_rules *r, struct rp_buf *out);

/* ---- the compiled mask -------------------------------------------------------- */

struct rp_mask;

/* Builds a mask from |rules| (ownership passes to the mask, even on error)
 * and the |keylen| bytes of |key| (copied; RP_MASK_KEY_MIN..MAX bytes).
 * Returns 0, or RP_E_USAGE when the key has the wrong size. */
int rp_mask_new(struct rp_mask_rules *rules, const void *key, size_t keylen,
		struct rp_mask **out);

enum rp_mask_audit_flags {
	RP_MASK_AUDIT_STATIC = 1, /* also scan bodies of static assets */
};

/* Builds a mask that changes nothing and reports every match of the
 * detectors in the bit set |detectors| (in audit mode, see
 * RP_MASK_DETECT_AUDIT) through the trace of rp_mask_apply, looking in
 * every place a rule can reach.  |flags|: enum rp_mask_audit_flags. */
int rp_mask_audit_new(uint32_t detectors, unsigned flags, struct rp_mask **out);

/* Frees |m| and its rules.  NULL is a no-op. */
void rp_mask_free(struct rp_mask *m);

/* The rule set's digest ("sha256:..."); lives as long as |m|. */
const char *rp_mask_digest(const struct rp_mask *m);

/* The key's fingerprint, "hmac-sha256:<32 hex>" (an HMAC of a fixed label
 * under the key, so it names the key without revealing it); "" for an audit
 * mask.  Lives as long as |m|. */
const char *rp_mask_key_fingerprint(const struct rp_mask *m);

/* One change (or, for an audit mask, one finding) as rp_mask_apply makes it. */
struct rp_mask_edit {
	const char *where;       /* "request header Authorization",
				    "response body json $.user.email" ... */
	const char *rule_file;   /* file and line of the rule that fired */
	unsigned rule_line;
	const char *action;      /* "redact", "fake", "report" ... */
	const char *detector;    /* detector name for text rules, else NULL */
	struct rp_slice before;  /* the value as found (decoded) */
	struct rp_slice after;   /* what replaced it (equal for audits) */
};

struct rp_mask_apply_opts {
	/* Called once per change, in order, with slices valid during the call
	 * only.  For tools (`reprise mask test`, `reprise audit`): the before
	 * value is the unmasked value, so never log it. */
	void (*trace)(void *ctx, const struct rp_mask_edit *e);
	void *ctx;
};

/* Masks |x| in place: headers, trailers, cookies, URL path and query, and
 * bodies (JSON, forms, multipart, text), request and response; the client
 * address when a rule says so.  A body still carrying a Content-Encoding is
 * decoded first; one that does not decode is replaced whole by the marker
 * (and the exchange flagged RP_XF_CODING_ERROR), never stored as it came.
 * Changed bodies get a Content-Length that matches (when they had one and are
 * not encoded); orig_len keeps the length before masking.  Sets RP_XF_MASKED
 * (except for an audit mask, which changes nothing).  Everything new is
 * allocated in |x|->pool.  |opts| may be NULL.  Thread-safe for concurrent
 * calls on one |m|.  Returns 0 (there is no failure: what cannot be parsed is
 * masked as text or redacted). */
int rp_mask_apply(const struct rp_mask *m, struct rp_exchange *x,
		  const struct rp_mask_apply_opts *opts);

/* ---- keys ----------------------------------------------------------------- */

/* Loads a key: the contents of |file| when not NULL (a trailing newline
 * dropped), else the environment variable RP_MASK_KEY_ENV.  Writes up to
 * |cap| bytes to |key| and the length to |*len|.  Returns 0, RP_E_NOTFOUND
 * (no file given and the variable unset), RP_E_IO (the file cannot be read)
 * or RP_E_USAGE (shorter than RP_MASK_KEY_MIN or longer than
 * RP_MASK_KEY_MAX).  |why| (may be NULL) gets a static explanation. */
int rp_mask_key_load(const char *file, uint8_t *key, size_t cap, size_t *len, const char **why);

/* Fills |key| with |n| random bytes (a one-off key for runs without one).
 * Returns 0 or RP_E_IO. */
int rp_mask_key_random(uint8_t *key, size_t n);

#endif
