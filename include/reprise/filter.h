/*
 * filter: a small expression language that selects exchanges, shared by
 * `reprise ls|export --filter` and (later) `reprise replay --filter`.  Pure:
 * it needs only libc and PCRE2 (with JIT when the platform has it).
 *
 * Terms (a comma inside a value makes a list, any item matches):
 *   method=GET,POST          request method, case-insensitive
 *   host=api.example.com     authority (port ignored unless the pattern has
 *   host=*.example.com       one), case-insensitive, '*' and '?' globs
 *   host~REGEX  path~REGEX   PCRE2 search on the authority / the target
 *   path=/api/...            glob on the target (path and query; "*" any
 *                            run of bytes, "?" one byte)
 *   status=200  status=4xx  status=500-599  status=0
 *   noresponse               no response (status 0 or flag no-response)
 *   since=TIME  until=TIME   since <= request start < until; TIME is
 *                            RFC 3339, "@<unix seconds>", or "+5m", "+1h30m",
 *                            "+90s", "+250ms": an offset from the corpus start
 *   flag=gap                 a flag named by rp_xflags_format, or "complete"
 *                            / "incomplete"
 *   conn=ID   proto=h1.1     connection id; protocol (h1.0 h1.1 h2 h2c, or
 *                            h1 for both HTTP/1 versions)
 * Every KEY=VALUE term also takes KEY!=VALUE (the negation).  Terms combine
 * with `and`, `or`, `not` and parentheses; a space or a comma between two
 * terms means `and`; `and` binds tighter than `or`.  A value holding spaces,
 * commas or unbalanced parentheses is quoted with '...' or "..." (inside, a
 * backslash before the quote character stands for the quote; every other
 * backslash is kept, so regular expressions read as written).
 *
 * A compiled filter owns its PCRE2 match data, so one filter must not be
 * matched from two threads at once; compile one per thread instead.
 */
#ifndef REPRISE_FILTER_H
#define REPRISE_FILTER_H

#include "reprise/exchange.h"

/* Longest expression accepted, and deepest nesting of parentheses/not. */
#define RP_FILTER_MAX_LEN 4096
#define RP_FILTER_MAX_DEPTH 64

struct rp_filter;

/* Compiles |expr|.  |corpus_start_ns| anchors "+offset" times (pass the
 * request start of the first exchange; 0 when unknown makes offsets relative
 * to the epoch).  On success returns 0 and sets |*out| (free with
 * rp_filter_free).  On error returns RP_E_USAGE and writes into |err| (may be
 * NULL; |errlen| bytes) a message naming the 1-based column and what was
 * expected: "filter: column 12: expected a status like 200, 4xx or 500-599".
 * An empty expression (only spaces) compiles to a filter matching everything. */
int rp_filter_compile(const char *expr, int64_t corpus_start_ns, struct rp_filter **out,
		      char *err, size_t errlen);

/* Returns 1 when |x| matches |f|, 0 otherwise.  Reads only the request line,
 * status, flags, connection facts and timing, never bodies, so it works on
 * exchanges read with RP_STORE_NO_BODIES. */
int rp_filter_match(struct rp_filter *f, const struct rp_exchange *x);

/* Frees |f| and its compiled patterns.  NULL is a no-op. */
void rp_filter_free(struct rp_filter *f);

/* Parses a duration such as "5m", "1h30m", "90s", "250ms", "2d" (units ns,
 * us, ms, s, m, h, d; several may follow each other) into nanoseconds.
 * Returns 0 or RP_E_FORMAT. */
int rp_filter_parse_duration(const char *s, size_t n, int64_t *out);

/* Finds the bit of the flag named |name| (a name rp_xflags_format prints,
 * such as "gap" or "no-response").  Returns 0 and sets |*bit|, or
 * RP_E_NOTFOUND. */
int rp_filter_flag_bit(struct rp_slice name, uint32_t *bit);

#endif
