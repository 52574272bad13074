/*
 * coding: HTTP content codings.  Decoders stream into a bounded rp_buf so that
 * a decompression bomb stops at the cap (RP_E_LIMIT) instead of exhausting
 * memory.  Multiple codings ("gzip, br") are undone right to left.
 *
 * Invariants: output only ever goes to the end of the caller's buffer, and on
 * any error the buffer is cut back to the bytes it held (which growth may
 * have moved to the front of the storage, so the mark is a length, never an
 * offset).  Decoder memory is bounded too: zlib's window is 32 KiB, brotli's
 * at most 16 MiB, zstd's capped at 8 MiB (RFC 9659).  Like browsers, gzip
 * and deflate ignore bytes after the end of the stream (gzip decodes further
 * members when they follow); br and zstd refuse them.
 */
#include "config.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

#include "reprise/coding.h"

enum coding { C_IDENTITY, C_GZIP, C_DEFLATE, C_BR, C_ZSTD, C_UNKNOWN };

static enum coding coding_of(struct rp_slice tok)
{
	if (tok.n == 0 || rp_slice_eq_nocase(tok, RP_SLICE_LIT("identity")))
		return C_IDENTITY;
	if (rp_slice_eq_nocase(tok, RP_SLICE_LIT("gzip")) ||
	    rp_slice_eq_nocase(tok, RP_SLICE_LIT("x-gzip")))
		return C_GZIP;
	if (rp_slice_eq_nocase(tok, RP_SLICE_LIT("deflate")))
		return C_DEFLATE;
	if (rp_slice_eq_nocase(tok, RP_SLICE_LIT("br")))
		return C_BR;
	if (rp_slice_eq_nocase(tok, RP_SLICE_LIT("zstd")))
		return C_ZSTD;
	return C_UNKNOWN;
}

#define MAX_CODINGS 8

/* Splits |list| into at most MAX_CODINGS codings; -1 when unknown/too many. */
static int split(struct rp_slice list, enum coding *out)
{
	int n = 0;
	size_t i = 0;
	while (i <= list.n) {
		size_t j = i;
		while (j < list.n && list.p[j] != ',')
			j++;
		struct rp_slice tok = rp_slice_trim(rp_slice(list.p + i, j - i));
		enum coding c = coding_of(tok);
		if (c == C_UNKNOWN)
			return -1;
		if (c != C_IDENTITY) {
			if (n == MAX_CODINGS)
				return -1;
			out[n++] = c;
		}
		i = j + 1;
	}
	return n;
}

int rp_coding_known(struct rp_slice encoding)
{
	enum coding c[MAX_CODINGS];
	return split(encoding, c) >= 0;
}

static int zlib_decode(struct rp_slice in, struct rp_buf *out, int wbits)
{
	z_stream z;
	if (in.n > UINT32_MAX) /* zlib counts input in 32 bits */
		return RP_E_LIMIT;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, wbits) != Z_OK)
		return RP_E_FORMAT;
	z.next_in = (Bytef *)(uintptr_t)in.p;
	z.avail_in = (uInt)in.n;
	int rc = RP_E_FORMAT;
	for (;;) {
		if (rp_buf_reserve(out, 16384)) {
			/* the cap: reserve whatever is left, fail if nothing */
			size_t left = out->max - rp_buf_len(out);
			if (left == 0 || rp_buf_reserve(out, left)) {
				rc = RP_E_LIMIT;
				break;
			}
		}
		z.next_out = out->base + out->wr;
		z.avail_out = (uInt)RP_MIN(out->cap - out->wr, (size_t)UINT32_MAX);
		uInt before = z.avail_out;
		int zr = inflate(&z, Z_NO_FLUSH);
		out->wr += before - z.avail_out;
		if (zr == Z_STREAM_END) {
			/* gzip members may follow one another */
			if (z.avail_in && wbits > 15 && z.next_in[0] == 0x1f) {
				inflateReset(&z);
				continue;
			}
			rc = 0;
			break;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0)
			break; /* truncated */
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			break;
		if (z.avail_out != 0 && z.avail_in == 0)
			break; /* truncated input */
		if (rp_buf_len(out) >= out->max) {
			rc = RP_E_LIMIT;
			break;
		}
	}
	inflateEnd(&z);
	return rc;
}

static int br_decode(struct rp_slice in, struct rp_buf *out)
{
	BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
	if (!st)
		rp_oom();
	size_t avail_in = in.n;
	const uint8_t *next_in = in.p;
	int rc = RP_E_FORMAT;
	for (;;) {
		if (rp_buf_reserve(out, 16384)) {
			size_t left = out->max - rp_buf_len(out);
			if (left == 0 || rp_buf_reserve(out, left)) {
				rc = RP_E_LIMIT;
				break;
			}
		}
		size_t avail_out = out->cap - out->wr;
		uint8_t *next_out = out->base + out->wr;
		BrotliDecoderResult r = BrotliDecoderDecompressStream(st, &avail_in, &next_in,
								      &avail_out, &next_out, NULL);
		out->wr = (size_t)(next_out - out->base);
		if (r == BROTLI_DECODER_RESULT_SUCCESS) {
			rc = avail_in ? RP_E_FORMAT : 0;
			break;
		}
		if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
			if (rp_buf_len(out) >= out->max) {
				rc = RP_E_LIMIT;
				break;
			}
			continue;
		}
		break; /* error, or needs more input: truncated */
	}
	BrotliDecoderDestroyInstance(st);
	return rc;
}

static int zstd_decode(struct rp_slice in, struct rp_buf *out)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	if (!ds)
		rp_oom();
	/* refuse frames that ask for a window past 8 MiB: RFC 9659 forbids them
	 * in HTTP, and accepting them lets a small body make us allocate up to
	 * the window size */
	ZSTD_DCtx_setParameter(ds, ZSTD_d_windowLogMax, 23);
	ZSTD_inBuffer ib = {in.p, in.n, 0};
	int rc = RP_E_FORMAT;
	size_t last = 1;
	for (;;) {
		if (rp_buf_reserve(out, 16384)) {
			size_t left = out->max - rp_buf_len(out);
			if (left == 0 || rp_buf_reserve(out, left)) {
				rc = RP_E_LIMIT;
				break;
			}
		}
		ZSTD_outBuffer ob = {out->base + out->wr, out->cap - out->wr, 0};
		last = ZSTD_decompressStream(ds, &ob, &ib);
		out->wr += ob.pos;
		if (ZSTD_isError(last))
			break;
		if (last == 0 && ib.pos == ib.size) {
			rc = 0;
			break;
		}
		if (ib.pos == ib.size && ob.pos < ob.size)
			break; /* truncated */
	}
	ZSTD_freeDStream(ds);
	return rc;
}

static int decode_one(enum coding c, struct rp_slice in, struct rp_buf *out)
{
	switch (c) {
	case C_GZIP:
		return zlib_decode(in, out, 15 + 16);
	case C_DEFLATE: {
		/* RFC says zlib-wrapped; some servers send raw deflate.  The first
		 * attempt may have grown (and so compacted) |out|: keep a length. */
		size_t mark = rp_buf_len(out);
		int rc = zlib_decode(in, out, 15);
		if (rc == RP_E_FORMAT) {
			out->wr = out->rd + mark;
			rc = zlib_decode(in, out, -15);
		}
		return rc;
	}
	case C_BR:
		return br_decode(in, out);
	case C_ZSTD:
		return zstd_decode(in, out);
	default:
		return rp_buf_append(out, in.p, in.n);
	}
}

int rp_coding_decode(struct rp_slice encoding, struct rp_slice in, struct rp_buf *out)
{
	enum coding c[MAX_CODINGS];
	int n = split(encoding, c);
	if (n < 0)
		return RP_E_FORMAT;
	size_t mark = rp_buf_len(out);
	struct rp_buf tmp[2];
	rp_buf_init(&tmp[0], out->max);
	rp_buf_init(&tmp[1], out->max);
	struct rp_slice cur = in;
	int rc = 0;
	for (int i = n - 1; i >= 0; i--) {
		struct rp_buf *dst = i == 0 ? out : &tmp[i & 1];
		if (dst != out)
			rp_buf_clear(dst);
		rc = decode_one(c[i], cur, dst);
		if (rc)
			break;
		cur = rp_buf_slice(dst);
	}
	if (n == 0)
		rc = rp_buf_append(out, in.p, in.n);
	if (rc) /* growth may have moved the old bytes to the front */
		out->wr = out->rd + mark;
	rp_buf_dispose(&tmp[0]);
	rp_buf_dispose(&tmp[1]);
	return rc;
}

static int encode_one(enum coding c, struct rp_slice in, struct rp_buf *out)
{
	switch (c) {
	case C_GZIP:
	case C_DEFLATE: {
		z_stream z;
		memset(&z, 0, sizeof(z));
		if (in.n > UINT32_MAX) /* zlib counts input in 32 bits */
			return RP_E_LIMIT;
		if (deflateInit2(&z, 6, Z_DEFLATED, c == C_GZIP ? 31 : 15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			rp_oom();
		size_t bound = deflateBound(&z, (uLong)in.n);
		int rc = rp_buf_reserve(out, bound);
		if (rc == 0) {
			z.next_in = (Bytef *)(uintptr_t)in.p;
			z.avail_in = (uInt)in.n;
			z.next_out = out->base + out->wr;
			z.avail_out = (uInt)bound;
			rc = deflate(&z, Z_FINISH) == Z_STREAM_END ? 0 : RP_E_FORMAT;
			if (rc == 0)
				out->wr += bound - z.avail_out;
		}
		deflateEnd(&z);
		return rc;
	}
	case C_BR: {
		size_t bound = BrotliEncoderMaxCompressedSize(in.n);
		if (bound == 0)
			bound = in.n + 1024;
		int rc = rp_buf_reserve(out, bound);
		if (rc)
			return rc;
		size_t n = bound;
		if (!BrotliEncoderCompress(5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.n, in.p,
					   &n, out->base + out->wr))
			return RP_E_FORMAT;
		out->wr += n;
		return 0;
	}
	case C_ZSTD: {
		size_t bound = ZSTD_compressBound(in.n);
		int rc = rp_buf_reserve(out, bound);
		if (rc)
			return rc;
		size_t n = ZSTD_compress(out->base + out->wr, bound, in.p, in.n, 3);
		if (ZSTD_isError(n))
			return RP_E_FORMAT;
		out->wr += n;
		return 0;
	}
	default:
		return rp_buf_append(out, in.p, in.n);
	}
}

int rp_coding_encode(struct rp_slice encoding, struct rp_slice in, struct rp_buf *out)
{
	enum coding c[MAX_CODINGS];
	int n = split(encoding, c);
	if (n < 0)
		return RP_E_FORMAT;
	size_t mark = rp_buf_len(out);
	struct rp_buf tmp[2];
	rp_buf_init(&tmp[0], out->max);
	rp_buf_init(&tmp[1], out->max);
	struct rp_slice cur = in;
	int rc = 0;
	for (int i = 0; i < n; i++) {
		struct rp_buf *dst = i == n - 1 ? out : &tmp[i & 1];
		if (dst != out)
			rp_buf_clear(dst);
		rc = encode_one(c[i], cur, dst);
		if (rc)
			break;
		cur = rp_buf_slice(dst);
	}
	if (n == 0)
		rc = rp_buf_append(out, in.p, in.n);
	if (rc) /* growth may have moved the old bytes to the front */
		out->wr = out->rd + mark;
	rp_buf_dispose(&tmp[0]);
	rp_buf_dispose(&tmp[1]);
	return rc;
}
