/*
 * coding: HTTP content codings (RFC 9110 §8.4) — gzip, x-gzip, deflate (zlib
 * and raw, as browsers accept both), br and zstd — decoded and encoded with
 * bounded output.  Pure: wraps zlib, libbrotli and libzstd, does no I/O.
 */
#ifndef REPRISE_CODING_H
#define REPRISE_CODING_H

#include "reprise/base.h"

/* Returns 1 when every coding listed in the Content-Encoding value |encoding|
 * is one we can decode (identity counts), 0 otherwise. */
int rp_coding_known(struct rp_slice encoding);

/* Decodes |in| through the codings listed in |encoding| (applied in order, so
 * decoded in reverse) and appends the result to |out|.  Output is bounded by
 * |out|->max.  Returns 0, RP_E_FORMAT when |in| is corrupt or a coding is
 * unknown, RP_E_LIMIT when the output would exceed the cap.  On error |out|
 * holds what it held before. */
int rp_coding_decode(struct rp_slice encoding, struct rp_slice in, struct rp_buf *out);

/* Encodes |in| with the codings listed in |encoding| (in order) and appends
 * to |out|.  Same errors as rp_coding_decode. */
int rp_coding_encode(struct rp_slice encoding, struct rp_slice in, struct rp_buf *out);

#endif
