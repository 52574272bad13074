/*
 * h1_fuzz: libFuzzer target for the HTTP/1 parser.  The first input byte
 * picks the parser's configuration (request or response, STRICT or LENIENT,
 * the method a response answers, small or default limits, how to resume a
 * paused request) and the second seeds how the rest is split into reads.
 * The rest is parsed twice — in one read, and in the split reads with the
 * unconsumed tail copied into a fresh block each time, as a real caller
 * does — and the target aborts when any invariant breaks:
 *
 *   - both feeds give the same events (body and tunnel bytes compared as a
 *     stream), the same error, and consume the same bytes;
 *   - every slice of an event lies inside the block passed in, and the
 *     bytes consumed never exceed it;
 *   - only MESSAGE_DONE and PAUSED may consume nothing, and at most one of
 *     each in a row (no stall);
 *   - the tail the caller must keep never exceeds the largest line limit;
 *   - when STRICT rejects with an anomaly, LENIENT on the same bytes either
 *     rejects, records that anomaly (or the fold that changed the field),
 *     or is still waiting for the rest of the line where STRICT found it.
 *
 * Memory stays bounded by construction: the parser is a fixed struct and
 * the harness keeps only hashes and the unconsumed tail.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reprise/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                     \
	do {                         \
		if (!(c))            \
			abort();     \
	} while (0)

struct outcome {
	uint64_t hash;        /* events, in order */
	uint64_t consumed;
	int code;             /* final error, 0 if none */
	uint32_t err_anomaly;
	uint64_t err_offset;
	uint32_t anomalies;   /* union of every message's anomalies */
	size_t pending;       /* unconsumed bytes at the end */
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t mix_u64(uint64_t h, uint64_t v)
{
	return mix(h, &v, sizeof(v));
}

static void check_slice(struct rp_slice s, const uint8_t *in, size_t n)
{
	if (s.n == 0)
		return;
	CHECK(s.p >= in && s.p + s.n <= in + n);
}

struct feed {
	struct rp_h1_parser p;
	struct outcome o;
	int stream;           /* 0 none, 1 body, 2 tunnel: hashed as a stream */
	int tunnel_on_pause;
	enum rp_h1_method method;
	size_t max_tail;
	int zero_streak;
	int stopped;
};

static void hash_event(struct feed *f, const struct rp_h1_event *ev)
{
	uint64_t h = f->o.hash;
	int stream = ev->type == RP_H1_EV_BODY ? 1 : ev->type == RP_H1_EV_TUNNEL ? 2 : 0;
	if (stream != f->stream) {
		h = mix_u64(h, 0xABCD0000u + (unsigned)stream);
		f->stream = stream;
	}
	if (stream) {
		f->o.hash = mix(h, ev->u.data.p, ev->u.data.n);
		return;
	}
	h = mix_u64(h, ev->type);
	switch (ev->type) {
	case RP_H1_EV_REQUEST_LINE:
		h = mix(h, ev->u.req.method.p, ev->u.req.method.n);
		h = mix_u64(h, 0x1);
		h = mix(h, ev->u.req.target.p, ev->u.req.target.n);
		h = mix_u64(h, ev->u.req.m * 100u + ev->u.req.major * 10u + ev->u.req.minor);
		break;
	case RP_H1_EV_STATUS_LINE:
		h = mix(h, ev->u.status.reason.p, ev->u.status.reason.n);
		h = mix_u64(h, ev->u.status.status * 100u + ev->u.status.major * 10u + ev->u.status.minor);
		break;
	case RP_H1_EV_HEADER:
	case RP_H1_EV_TRAILER:
		h = mix(h, ev->u.field.name.p, ev->u.field.name.n);
		h = mix_u64(h, 0x2);
		h = mix(h, ev->u.field.value.p, ev->u.field.value.n);
		break;
	case RP_H1_EV_CHUNK:
		h = mix_u64(h, ev->u.chunk.size);
		h = mix(h, ev->u.chunk.ext.p, ev->u.chunk.ext.n);
		break;
	case RP_H1_EV_HEADERS_DONE:
	case RP_H1_EV_MESSAGE_DONE:
		h = mix_u64(h, ev->u.msg->flags);
		h = mix_u64(h, ev->u.msg->anomalies);
		h = mix_u64(h, ev->u.msg->body);
		h = mix_u64(h, ev->u.msg->content_length);
		h = mix_u64(h, ev->u.msg->body_len);
		f->o.anomalies |= ev->u.msg->anomalies;
		break;
	default:
		break;
	}
	f->o.hash = h;
}

/* Parses |in|[0..n) — the caller's unconsumed tail plus new bytes — and
 * returns how much was consumed. */
static size_t feed_block(struct feed *f, const uint8_t *in, size_t n)
{
	size_t off = 0;
	struct rp_h1_event ev;
	while (!f->stopped) {
		if (f->p.kind == RP_H1_RESPONSE && f->p.state == RP_H1_S_START)
			rp_h1_set_method(&f->p, f->method);
		uint64_t pos = f->p.pos;
		ssize_t r = rp_h1_parse(&f->p, in + off, n - off, &ev);
		if (r == RP_E_AGAIN) {
			CHECK(f->p.pos == pos);
			break;
		}
		if (r < 0) {
			CHECK(r == RP_E_PROTO || r == RP_E_LIMIT);
			CHECK(f->p.err.code == r && f->p.err.why != NULL);
			CHECK(f->p.err.offset >= pos && f->p.err.offset <= pos + (n - off));
			f->o.code = (int)r;
			f->o.err_anomaly = f->p.err.anomaly;
			f->o.err_offset = f->p.err.offset;
			CHECK(rp_h1_parse(&f->p, in + off, n - off, &ev) == r); /* sticky */
			f->stopped = 1;
			break;
		}
		CHECK((size_t)r <= n - off);
		CHECK(f->p.pos == pos + (uint64_t)r);
		switch (ev.type) {
		case RP_H1_EV_REQUEST_LINE:
			check_slice(ev.u.req.method, in + off, (size_t)r);
			check_slice(ev.u.req.target, in + off, (size_t)r);
			break;
		case RP_H1_EV_STATUS_LINE:
			check_slice(ev.u.status.reason, in + off, (size_t)r);
			break;
		case RP_H1_EV_HEADER:
		case RP_H1_EV_TRAILER:
			check_slice(ev.u.field.name, in + off, (size_t)r);
			check_slice(ev.u.field.value, in + off, (size_t)r);
			break;
		case RP_H1_EV_CHUNK:
			check_slice(ev.u.chunk.ext, in + off, (size_t)r);
			break;
		case RP_H1_EV_BODY:
		case RP_H1_EV_TUNNEL:
			CHECK(ev.u.data.p == in + off && ev.u.data.n == (size_t)r && r > 0);
			break;
		case RP_H1_EV_HEADERS_DONE:
		case RP_H1_EV_MESSAGE_DONE:
			CHECK(ev.u.msg == &f->p.msg);
			break;
		case RP_H1_EV_PAUSED:
			CHECK(r == 0);
			break;
		default:
			abort();
		}
		if (r == 0) {
			CHECK(ev.type == RP_H1_EV_MESSAGE_DONE || ev.type == RP_H1_EV_PAUSED);
			CHECK(++f->zero_streak <= 2); /* MESSAGE_DONE, then PAUSED */
		} else {
			f->zero_streak = 0;
		}
		hash_event(f, &ev);
		off += (size_t)r;
		if (ev.type == RP_H1_EV_PAUSED) {
			rp_h1_resume(&f->p, f->tunnel_on_pause);
			f->zero_streak = 0;
		}
	}
	f->o.consumed += off;
	return off;
}

static uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x ? x : 0x9e3779b9u;
}

static void run(const struct rp_h1_options *opt, enum rp_h1_kind kind, enum rp_h1_method method, int tunnel,
		const uint8_t *in, size_t n, uint32_t split_seed, struct outcome *out)
{
	struct feed f;
	memset(&f, 0, sizeof(f));
	rp_h1_init(&f.p, kind, opt);
	f.method = method;
	f.tunnel_on_pause = tunnel;

	size_t limit = opt->max_start_line;
	if (opt->max_header_bytes + 1 > limit)
		limit = opt->max_header_bytes + 1;
	if (opt->max_chunk_line + 2 > limit)
		limit = opt->max_chunk_line + 2;

	uint8_t *tail = NULL;
	size_t ntail = 0, i = 0;
	uint32_t s = split_seed | 1;
	while (i < n && !f.stopped) {
		size_t step = n - i;
		if (split_seed) {
			step = 1 + rnd(&s) % (rnd(&s) % 8 == 0 ? 4096 : 8);
			if (step > n - i)
				step = n - i;
		}
		/* the tail plus the new read, in a fresh block */
		uint8_t *blk = malloc(ntail + step + 1);
		CHECK(blk != NULL);
		if (ntail)
			memcpy(blk, tail, ntail);
		memcpy(blk + ntail, in + i, step);
		free(tail);
		i += step;
		size_t len = ntail + step;
		size_t used = feed_block(&f, blk, len);
		ntail = len - used;
		if (!f.stopped)
			CHECK(ntail <= limit);
		tail = malloc(ntail + 1);
		CHECK(tail != NULL);
		memcpy(tail, blk + used, ntail);
		free(blk);
	}
	free(tail);
	if (!f.stopped) {
		struct rp_h1_event ev;
		int r = rp_h1_finish(&f.p, &ev);
		CHECK(r == 0 || r == 1 || r == RP_E_PROTO);
		if (r == 1) {
			CHECK(ev.type == RP_H1_EV_MESSAGE_DONE);
			hash_event(&f, &ev);
		}
		f.o.hash = mix_u64(f.o.hash, (uint64_t)(r + 10));
	}
	f.o.anomalies |= f.p.msg.anomalies | f.p.carry;
	f.o.pending = ntail;
	*out = f.o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t cfg = data[0];
	uint32_t split = (uint32_t)data[1] * 2654435761u + 7;
	data += 2;
	size -= 2;

	struct rp_h1_options opt;
	rp_h1_options_init(&opt);
	enum rp_h1_kind kind = (cfg & 1) ? RP_H1_RESPONSE : RP_H1_REQUEST;
	static const enum rp_h1_method methods[4] = {RP_H1_M_GET, RP_H1_M_HEAD, RP_H1_M_CONNECT, RP_H1_M_OTHER};
	enum rp_h1_method method = methods[(cfg >> 1) & 3];
	int tunnel = (cfg >> 3) & 1;
	if (cfg & 0x10) {
		/* small limits, so that they are reached */
		opt.max_start_line = 64;
		opt.max_header_bytes = 256;
		opt.max_headers = 8;
		opt.max_chunk_line = 16;
	}

	struct outcome strict_whole, strict_split, lenient_whole, lenient_split;
	opt.mode = RP_H1_STRICT;
	run(&opt, kind, method, tunnel, data, size, 0, &strict_whole);
	run(&opt, kind, method, tunnel, data, size, split, &strict_split);
	opt.mode = RP_H1_LENIENT;
	run(&opt, kind, method, tunnel, data, size, 0, &lenient_whole);
	run(&opt, kind, method, tunnel, data, size, split, &lenient_split);

	/* the same whatever the split */
	CHECK(strict_whole.hash == strict_split.hash);
	CHECK(strict_whole.code == strict_split.code);
	CHECK(strict_whole.err_offset == strict_split.err_offset);
	CHECK(strict_whole.consumed == strict_split.consumed);
	CHECK(lenient_whole.hash == lenient_split.hash);
	CHECK(lenient_whole.code == lenient_split.code);
	CHECK(lenient_whole.err_offset == lenient_split.err_offset);
	CHECK(lenient_whole.consumed == lenient_split.consumed);

	/* What STRICT rejects as an anomaly, LENIENT rejects or records.
	 * STRICT judges a field at its LF, LENIENT after joining continuation
	 * lines: when a fold follows, STRICT may name another anomaly of the
	 * same field (an empty Content-Length whose value is on the next
	 * line), and LENIENT has then recorded the fold. */
	if (strict_whole.code == RP_E_PROTO && strict_whole.err_anomaly)
		CHECK(lenient_whole.code != 0 || (lenient_whole.anomalies & strict_whole.err_anomaly) ||
		      (lenient_whole.anomalies & RP_H1_A_OBS_FOLD) || lenient_whole.pending > 0);
	return 0;
}
