/*
 * tcp: reassembly of one direction of a TCP connection, between the packet
 * decoder and the codecs.  The parser shape of STYLE.md: segments go in
 * (rp_tcp_stream_push), in-order slices and gap/overlap/FIN/RST events come
 * out (rp_tcp_stream_next); no I/O, no callbacks, no clock but the capture
 * times it is given.
 *
 * A segment that starts at the next expected byte is not copied: its bytes
 * are handed out from the caller's packet.  A segment ahead of a hole is
 * copied into a sorted list of chunks (accounted against the shared
 * ceiling) until the hole is filled or declared lost.  A hole is lost when
 * the peer acknowledged past it twice (the receiver has those bytes, only
 * the capture missed them), when the caller skips it (memory), and when the
 * stream is flushed (end of flow) or reset.
 *
 * Policy on overlaps: first wins (see capture.h).  Sequence numbers compare
 * in serial arithmetic, so wrap-around at 2^32 is ordinary.  Invariants:
 * chunks are sorted, never overlap and all start after |next|; every byte
 * of the stream is reported exactly once, as DATA or inside a GAP.
 */
#include "config.h"

#include <stdlib.h>

#include "capture-int.h"

struct rp_tcp_chunk {
	struct rp_tcp_chunk *next;
	uint32_t seq;
	uint32_t len;
	int64_t ts;
	uint8_t lost; /* no bytes: the capture cut them (snap length) */
	uint8_t data[];
};

#define CHUNK_COST(n) (sizeof(struct rp_tcp_chunk) + (n))

/* Signed distance of |x| ahead of the next expected byte. */
static inline int64_t ahead(const struct rp_tcp_stream *s, uint32_t x)
{
	return (int32_t)(x - s->next);
}

void rp_tcp_stream_init(struct rp_tcp_stream *s, struct rp_tcp_mem *mem)
{
	memset(s, 0, sizeof(*s));
	s->mem = mem;
}

static void account(struct rp_tcp_stream *s, size_t add, size_t sub)
{
	s->held += add;
	s->held -= sub;
	s->mem->used += add;
	s->mem->used -= sub;
	if (s->mem->used > s->mem->peak)
		s->mem->peak = s->mem->used;
}

static void free_spent(struct rp_tcp_stream *s)
{
	free(s->spent);
	s->spent = NULL;
}

void rp_tcp_stream_dispose(struct rp_tcp_stream *s)
{
	free_spent(s);
	while (s->ooo) {
		struct rp_tcp_chunk *c = s->ooo;
		s->ooo = c->next;
		account(s, 0, CHUNK_COST(c->lost ? 0 : c->len));
		free(c);
	}
	s->cur = NULL;
	s->cur_len = 0;
}

size_t rp_tcp_stream_buffered(const struct rp_tcp_stream *s)
{
	return s->held;
}

static struct rp_tcp_chunk *chunk_new(struct rp_tcp_stream *s, uint32_t seq, const uint8_t *p,
				      uint32_t n, int64_t ts, int lost)
{
	struct rp_tcp_chunk *c = rp_xmalloc(CHUNK_COST(lost ? 0 : n));
	c->next = NULL;
	c->seq = seq;
	c->len = n;
	c->ts = ts;
	c->lost = (uint8_t)lost;
	if (!lost && n)
		memcpy(c->data, p, n);
	account(s, CHUNK_COST(lost ? 0 : n), 0);
	return c;
}

static void note_overlap(struct rp_tcp_stream *s, uint32_t seq, uint64_t len)
{
	if (!s->ovl_len)
		s->ovl_offset = s->offset + (uint64_t)ahead(s, seq);
	s->ovl_len += len;
	s->stats.conflicts++;
}

/* Buffers [seq, seq + n) (bytes at |p|, or a lost range) where no chunk has
 * it yet; where a chunk has it, the chunk wins and differing bytes are
 * reported. */
static void insert(struct rp_tcp_stream *s, uint32_t seq, const uint8_t *p, uint32_t n, int64_t ts,
		   int lost)
{
	int64_t pos = ahead(s, seq), end = pos + n;
	struct rp_tcp_chunk **link = &s->ooo;
	while (pos < end) {
		struct rp_tcp_chunk *c = *link;
		int64_t cs = c ? ahead(s, c->seq) : end, ce = c ? cs + c->len : end;
		if (c && ce <= pos) {
			link = &c->next;
			continue;
		}
		if (cs > pos) { /* a piece nobody has: buffer it before |c| */
			int64_t pe = cs < end ? cs : end;
			struct rp_tcp_chunk *nc =
				chunk_new(s, seq + (uint32_t)(pos - ahead(s, seq)),
					  lost ? NULL : p + (pos - ahead(s, seq)), (uint32_t)(pe - pos), ts, lost);
			nc->next = c;
			*link = nc;
			link = &nc->next;
			pos = pe;
			continue;
		}
		/* [pos, min(end, ce)) is already held by |c|: first wins. */
		int64_t oe = ce < end ? ce : end;
		s->stats.dup_bytes += (uint64_t)(oe - pos);
		if (!lost && !c->lost &&
		    memcmp(c->data + (pos - cs), p + (pos - ahead(s, seq)), (size_t)(oe - pos)) != 0)
			note_overlap(s, seq + (uint32_t)(pos - ahead(s, seq)), (uint64_t)(oe - pos));
		pos = oe;
		link = &c->next;
	}
}

int rp_tcp_stream_push(struct rp_tcp_stream *s, uint32_t seq, uint8_t flags,
		       struct rp_slice data, uint32_t wire_len, int64_t ts)
{
	free_spent(s);
	if (s->ended) {
		if (wire_len || (flags & (RP_TCP_FIN | RP_TCP_RST)))
			s->stats.after_end++;
		return 0;
	}
	if (data.n > wire_len)
		data.n = wire_len;
	/* Bytes the caller did not drain must not point into its old packet. */
	if (s->cur_len) {
		insert(s, s->cur_seq, s->cur, s->cur_len, s->cur_ts, 0);
		s->cur = NULL;
		s->cur_len = 0;
	}
	if (flags & RP_TCP_SYN) {
		if (!s->started) {
			s->next = seq + 1;
			s->started = s->syn_seen = 1;
		}
		seq += 1; /* data on a SYN starts after it */
	}
	if (!s->started) {
		if (!wire_len)
			return 0; /* nothing to start from */
		s->next = seq;
		s->started = 1;
	}
	if (flags & RP_TCP_RST) {
		s->rst_seen = 1;
		s->flushing = 1;
	}
	if ((flags & RP_TCP_FIN) && !s->fin_seen) {
		s->fin_seen = 1;
		s->fin_seq = seq + wire_len;
	}
	if (!wire_len)
		return 0;
	uint32_t len = wire_len, cap = (uint32_t)data.n;
	const uint8_t *p = data.p;
	int64_t rel = ahead(s, seq);
	if (rel < 0) { /* starts with bytes already delivered */
		uint32_t old = (uint32_t)-rel;
		if (old >= len) {
			s->stats.dup_bytes += len;
			return 0;
		}
		s->stats.dup_bytes += old;
		seq += old;
		len -= old;
		if (old >= cap) {
			p += cap;
			cap = 0;
		} else {
			p += old;
			cap -= old;
		}
		rel = 0;
	}
	if (rel > (int64_t)RP_TCP_MAX_AHEAD) {
		s->stats.out_of_window++;
		return 0;
	}
	if (rel == 0) {
		s->cur = p;
		s->cur_seq = seq;
		s->cur_len = cap;
		s->cur_ts = ts;
		if (len > cap) /* the snap length cut the rest */
			insert(s, seq + cap, NULL, len - cap, ts, 1);
		return 0;
	}
	size_t need = CHUNK_COST(cap) + CHUNK_COST(0);
	if (s->mem->used + need > s->mem->max) {
		s->stats.limited++;
		return RP_E_LIMIT;
	}
	s->stats.ooo_segments++;
	if (cap)
		insert(s, seq, p, cap, ts, 0);
	if (len > cap)
		insert(s, seq + cap, NULL, len - cap, ts, 1);
	return 0;
}

void rp_tcp_stream_ack(struct rp_tcp_stream *s, uint32_t ack)
{
	if (!s->started || s->ended)
		return;
	uint32_t limit = ack;
	/* A FIN takes one sequence number: acking it is no hole. */
	if (s->fin_seen && (int32_t)(limit - s->fin_seq) > 0)
		limit = s->fin_seq;
	int64_t a = ahead(s, limit);
	if (a <= 0 || a > (int64_t)RP_TCP_MAX_AHEAD)
		return;
	if (!s->ack_votes || (int32_t)(limit - s->ack_max) > 0)
		s->ack_max = limit;
	if (s->ack_votes < 2)
		s->ack_votes++;
}

void rp_tcp_stream_skip(struct rp_tcp_stream *s, uint32_t seq)
{
	if (!s->skip_set || (int32_t)(seq - s->skip_to) > 0)
		s->skip_to = seq;
	s->skip_set = 1;
}

void rp_tcp_stream_flush(struct rp_tcp_stream *s)
{
	s->flushing = 1;
}

static void advance(struct rp_tcp_stream *s, uint32_t n)
{
	s->next += n;
	s->offset += n;
	s->ack_votes = 0;
	if (s->skip_set && ahead(s, s->skip_to) <= 0)
		s->skip_set = 0;
}

int rp_tcp_stream_next(struct rp_tcp_stream *s, struct rp_tcp_event *ev)
{
	free_spent(s);
	if (s->ovl_len) {
		ev->type = RP_TCP_EV_OVERLAP;
		ev->offset = s->ovl_offset;
		ev->len = s->ovl_len;
		ev->ts = s->cur_ts;
		ev->data = RP_SLICE_NULL;
		s->ovl_len = 0;
		return 0;
	}
	if (s->ended || !s->started)
		return RP_E_AGAIN;
	/* Forget what is behind |next| (delivered from another copy). */
	if (s->cur_len) {
		int64_t r = ahead(s, s->cur_seq);
		if (r < 0) {
			uint32_t old = (uint32_t)-r;
			if (old >= s->cur_len) {
				s->stats.dup_bytes += s->cur_len;
				s->cur_len = 0;
			} else {
				s->stats.dup_bytes += old;
				s->cur += old;
				s->cur_seq += old;
				s->cur_len -= old;
			}
		}
	}
	struct rp_tcp_chunk *c;
	while ((c = s->ooo) && ahead(s, c->seq + c->len) <= 0) {
		s->ooo = c->next;
		account(s, 0, CHUNK_COST(c->lost ? 0 : c->len));
		free(c);
	}
	if (c && ahead(s, c->seq) <= 0) {
		uint32_t skip = (uint32_t)-ahead(s, c->seq), n = c->len - skip;
		s->ooo = c->next;
		account(s, 0, CHUNK_COST(c->lost ? 0 : c->len));
		ev->offset = s->offset;
		ev->len = n;
		ev->ts = c->ts;
		if (c->lost) {
			ev->type = RP_TCP_EV_GAP;
			ev->data = RP_SLICE_NULL;
			s->stats.gaps++;
			s->stats.gap_bytes += n;
			free(c);
		} else {
			ev->type = RP_TCP_EV_DATA;
			ev->data = rp_slice(c->data + skip, n);
			s->stats.delivered += n;
			/* The same bytes may also have come in the segment being
			 * delivered now: the buffered copy came first and wins. */
			if (s->cur_len && s->cur_seq == s->next) {
				uint32_t k = n < s->cur_len ? n : s->cur_len;
				if (memcmp(s->cur, c->data + skip, k) != 0)
					note_overlap(s, s->next, k);
			}
			s->spent = c;
		}
		advance(s, n);
		return 0;
	}
	if (s->cur_len && s->cur_seq == s->next) {
		uint32_t n = s->cur_len;
		if (c && ahead(s, c->seq) < (int64_t)n)
			n = (uint32_t)ahead(s, c->seq);
		ev->type = RP_TCP_EV_DATA;
		ev->offset = s->offset;
		ev->len = n;
		ev->ts = s->cur_ts;
		ev->data = rp_slice(s->cur, n);
		s->cur += n;
		s->cur_seq += n;
		s->cur_len -= n;
		s->stats.delivered += n;
		advance(s, n);
		return 0;
	}
	if (s->fin_seen && ahead(s, s->fin_seq) <= 0) {
		s->ended = 1;
		ev->type = s->rst_seen ? RP_TCP_EV_RST : RP_TCP_EV_FIN;
		ev->offset = s->offset;
		ev->len = 0;
		ev->ts = s->cur_ts;
		ev->data = RP_SLICE_NULL;
		return 0;
	}
	/* A hole at |next|: how far may it be declared lost? */
	int64_t lim = 0;
	if (s->flushing)
		lim = c ? ahead(s, c->seq) : (s->fin_seen ? ahead(s, s->fin_seq) : 0);
	if (s->skip_set && ahead(s, s->skip_to) > lim)
		lim = ahead(s, s->skip_to);
	if (s->ack_votes >= 2 && ahead(s, s->ack_max) > lim)
		lim = ahead(s, s->ack_max);
	if (c && lim > ahead(s, c->seq))
		lim = ahead(s, c->seq);
	if (lim > 0) {
		ev->type = RP_TCP_EV_GAP;
		ev->offset = s->offset;
		ev->len = (uint64_t)lim;
		ev->ts = c ? c->ts : s->cur_ts;
		ev->data = RP_SLICE_NULL;
		s->stats.gaps++;
		s->stats.gap_bytes += (uint64_t)lim;
		advance(s, (uint32_t)lim);
		return 0;
	}
	if (s->rst_seen) {
		s->ended = 1;
		ev->type = RP_TCP_EV_RST;
		ev->offset = s->offset;
		ev->len = 0;
		ev->ts = s->cur_ts;
		ev->data = RP_SLICE_NULL;
		return 0;
	}
	return RP_E_AGAIN;
}
