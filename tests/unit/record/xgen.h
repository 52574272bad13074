/*
 * xgen: test-only helpers shared by the record codec tests, the fuzz tools
 * and the record benchmark — a seeded PRNG, random and realistic exchanges,
 * and a field-by-field comparison of two exchanges.  Not part of the library.
 */
#ifndef REPRISE_TESTS_XGEN_H
#define REPRISE_TESTS_XGEN_H

#include "reprise/exchange.h"
#include "reprise/record.h"

/* splitmix64: small, fast and good enough to drive tests; same seed, same
 * sequence on every machine. */
struct xgen_rng {
	uint64_t s;
};

uint64_t xgen_next(struct xgen_rng *r);
/* Uniform in [0, n) (n > 0). */
uint64_t xgen_below(struct xgen_rng *r, uint64_t n);
/* Fills |n| bytes at |p| with random bytes. */
void xgen_bytes(struct xgen_rng *r, uint8_t *p, size_t n);

/* Fills |x| (fresh, with its pool) with random content: every field set or
 * not, random header counts and sizes, binary bytes, empty values, bodies of
 * 0 to 64 KB.  Bytes live in |x|->pool.  When |refs| is not NULL, each slot
 * randomly gets a body reference (refs[slot].present set) instead. */
void xgen_random(struct xgen_rng *r, struct rp_exchange *x, struct rp_record_body_ref refs[2]);

/* Fills |x| (fresh) with the hand-built exchange of the record tests: every
 * field set, IPv4 client and IPv6 server, duplicate headers with case kept,
 * an empty value, binary bytes, a trailer, negative and maximal times. */
void xgen_full(struct rp_exchange *x);

/* Fills |x| with a plausible JSON API exchange of about |size| bytes in
 * total (headers of a browser request and a typical response, the rest in
 * the response body). */
void xgen_realistic(struct rp_exchange *x, size_t size);

/* Compares two exchanges field by field as the record codec must keep them.
 * |a_refs| are the references |a| was encoded with (may be NULL): a slot with
 * a reference has an empty body in |b|.  Returns NULL when equal, else a
 * description of the first difference, in |buf| (at least 128 bytes). */
const char *xgen_diff(const struct rp_exchange *a, const struct rp_record_body_ref *a_refs,
		      const struct rp_exchange *b, char *buf, size_t buflen);

/* Options for rp_record_encode that write the present |refs| as references. */
struct rp_record_opts xgen_opts(const struct rp_record_body_ref refs[2]);

#endif
