/*
 * har_int: helpers shared by the files of src/har (not part of the public
 * API): base64, UTF-8 checks and the conversions between byte slices and
 * jansson values.  Every slice these produce lives in the pool passed in.
 */
#ifndef REPRISE_HAR_INT_H
#define REPRISE_HAR_INT_H

#include <jansson.h>

#include "reprise/har.h"

/* Bytes of base64 text (without NUL) for |n| input bytes. */
#define RP_HAR_B64_LEN(n) (((n) + 2) / 3 * 4)

/* Encodes |n| bytes at |p| as padded base64 into |out| (RP_HAR_B64_LEN(n) + 1
 * bytes, NUL-terminated).  Returns the length written. */
size_t rp_har_b64_encode(const uint8_t *p, size_t n, char *out);

/* Decodes base64 |s| (|n| bytes; padding optional, ASCII whitespace
 * ignored) into |pool|.  0, or RP_E_FORMAT on a byte outside the alphabet or
 * a dangling single character. */
int rp_har_b64_decode(const char *s, size_t n, struct rp_pool *pool, struct rp_slice *out);

/* A JSON string of |s|; bytes that are not UTF-8 are read as ISO-8859-1 (the
 * historical charset of HTTP header values) and converted.  Never NULL. */
json_t *rp_har_json_text(struct rp_slice s);

/* Lossless: a JSON string when |s| is valid UTF-8, {"base64": "..."} else. */
json_t *rp_har_json_bytes(struct rp_slice s);

/* A body as a JSON string, text or base64; |*base64| says which. */
json_t *rp_har_json_body(struct rp_slice s, int *base64);

/* The inverse of rp_har_json_bytes: a string, or {"base64": "..."}, copied
 * into |pool|.  0 or RP_E_FORMAT (another type, or bad base64). */
int rp_har_json_get_bytes(json_t *v, struct rp_pool *pool, struct rp_slice *out);

/* Milliseconds (HAR's unit, fractional) from a nanosecond interval. */
static inline double rp_har_ns_to_ms(int64_t ns)
{
	return (double)ns / 1e6;
}

/* Nanoseconds from fractional milliseconds, rounded to the nearest ns;
 * negative and non-finite inputs give 0. */
int64_t rp_har_ms_to_ns(double ms);

/* HAR-side readers and writers, one pair per format (src/har/har_in.c,
 * har_out.c, jsonl.c).  The dispatch in har.c owns the state struct. */
struct rp_har_doc;
int rp_har_doc_load(const char *data, size_t n, const char *name, struct rp_har_doc **out,
		    char *err, size_t errlen);
int rp_har_doc_next(struct rp_har_doc *d, struct rp_exchange **x, char *err, size_t errlen);
void rp_har_doc_free(struct rp_har_doc *d);

/* Writes the HAR entry of |x| to |f| (no separator).  0 or RP_E_IO. */
int rp_har_entry_write(FILE *f, const struct rp_exchange *x);

/* Writes |x| as one JSON line to |f|.  0 or RP_E_IO. */
int rp_har_jsonl_write(FILE *f, const struct rp_exchange *x);
/* Parses one JSON line.  |line_no| labels messages.  0 or RP_E_FORMAT. */
int rp_har_jsonl_parse(const char *line, size_t n, size_t line_no, struct rp_exchange **x,
		       char *err, size_t errlen);

#endif
