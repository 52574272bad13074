/*
 * record: the versioned binary encoding of an exchange, the bytes the store
 * keeps.  Pure: no I/O, no LMDB.
 *
 * Layout: magic "RPX1", major, minor (one byte each), then fields, each a
 * varint tag (field number << 3 | wire type) followed by its value.  Wire
 * types: 0 varint, 1 fixed 64-bit, 2 length-delimited bytes, 3 nested group
 * (length-delimited, fields inside).  A reader skips fields it does not know,
 * so a minor version may add fields freely; a record with a higher major
 * version is refused with RP_E_VERSION.
 *
 * Bodies are written either inline or as a reference (a 32-byte digest and a
 * length) to a body stored elsewhere (the store's `bodies` database); the
 * decoder hands references back through |rp_record_body_ref|.
 */
#ifndef REPRISE_RECORD_H
#define REPRISE_RECORD_H

#include "reprise/exchange.h"

#define RP_RECORD_MAJOR 1
#define RP_RECORD_MINOR 0
#define RP_DIGEST_LEN 32

/* Which body a reference stands for. */
enum rp_body_slot { RP_BODY_REQ = 0, RP_BODY_RESP = 1 };

struct rp_record_body_ref {
	int present;                   /* 1 when the record refers to a stored body */
	uint8_t digest[RP_DIGEST_LEN]; /* SHA-256 of the (decoded, masked) body */
	uint64_t len;
};

struct rp_record_opts {
	/* When set for a slot, the body of that message is written as a
	 * reference to |refs[slot]| instead of inline. */
	const struct rp_record_body_ref *refs[2];
};

/* Appends the encoding of |x| to |out|.  |opts| may be NULL (bodies inline).
 * Returns 0 or RP_E_LIMIT when |out|->max would be exceeded. */
int rp_record_encode(const struct rp_exchange *x, const struct rp_record_opts *opts,
		     struct rp_buf *out);

/* Decodes |in| into |x| (whose pool receives header tables; slices may point
 * into |in|, which must outlive |x|'s use).  Body references, if any, are
 * written to |refs| (may be NULL) and the corresponding bodies left empty.
 * Returns 0, RP_E_FORMAT (truncated or corrupt; |why| says what) or
 * RP_E_VERSION (newer major version). */
int rp_record_decode(struct rp_slice in, struct rp_exchange *x,
		     struct rp_record_body_ref refs[2], const char **why);

/* Reads only the version bytes of |in|.  0 or RP_E_FORMAT. */
int rp_record_version(struct rp_slice in, unsigned *major, unsigned *minor);

#endif
