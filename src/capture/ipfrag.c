/*
 * ipfrag: IPv4 and IPv6 fragment reassembly for the decoder, between the
 * link/IP layer and TCP.  A small table of datagrams in progress, keyed by
 * (family, source, destination, id, protocol), each a buffer that grows to
 * the highest fragment end seen plus the list of ranges received.
 *
 * Policy: overlapping fragments drop their whole datagram (RFC 5722 for
 * IPv6, and the only safe reading for IPv4 too: two overlapping copies
 * allow two interpretations).  An exact duplicate (same range, same bytes)
 * is ignored.  Invariants: at most max_datagrams datagrams and max_mem bytes
 * of buffers are held (the oldest datagram is dropped to make room); a
 * datagram incomplete |timeout| after its first fragment is dropped; no
 * datagram exceeds 65535 bytes; all drops are counted.
 */
#include "config.h"

#include <stdlib.h>

#include "capture-int.h"
#include "reprise/limits.h"

#define MAX_DATAGRAM 65535u

struct range {
	uint32_t off, len;
};

struct dgram {
	struct frag_key key;
	int used;
	int64_t first_ts;
	uint64_t seq;        /* arrival order, for eviction */
	uint8_t *buf;
	size_t cap;
	uint32_t total;      /* datagram length, known once the last fragment came */
	uint32_t covered;    /* bytes received (ranges never overlap) */
	uint8_t have_last;
	unsigned nr;
	struct range r[RP_LIMIT_IPFRAG_FRAGS];
};

struct rp_ipfrag {
	struct dgram *d;
	unsigned max;
	size_t max_mem;
	int64_t timeout;
	uint64_t seq;
	uint8_t *done;       /* last completed datagram, freed on the next call */
	size_t done_cap;
	struct rp_ipfrag_stats st;
};

struct rp_ipfrag *rp_ipfrag_new(unsigned max_datagrams, size_t max_mem, int64_t timeout_ns)
{
	struct rp_ipfrag *f = rp_xcalloc(1, sizeof(*f));
	f->max = max_datagrams ? max_datagrams : RP_LIMIT_IPFRAG_DATAGRAMS;
	f->max_mem = max_mem ? max_mem : RP_LIMIT_IPFRAG_MEMORY;
	f->timeout = timeout_ns ? timeout_ns : (int64_t)RP_LIMIT_IPFRAG_TIMEOUT_S * 1000000000LL;
	f->d = rp_xcalloc(f->max, sizeof(*f->d));
	return f;
}

static void release(struct rp_ipfrag *f, struct dgram *d)
{
	f->st.mem -= d->cap;
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

void rp_ipfrag_free(struct rp_ipfrag *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->max; i++)
		if (f->d[i].used)
			release(f, &f->d[i]);
	free(f->done);
	free(f->d);
	free(f);
}

void rp_ipfrag_get_stats(const struct rp_ipfrag *f, struct rp_ipfrag_stats *out)
{
	*out = f->st;
	out->mem += f->done_cap;
}

static int key_eq(const struct frag_key *a, const struct frag_key *b)
{
	return a->family == b->family && a->proto == b->proto && a->id == b->id &&
	       memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

/* The oldest datagram in use other than |keep|, or NULL. */
static struct dgram *oldest(struct rp_ipfrag *f, const struct dgram *keep)
{
	struct dgram *o = NULL;
	for (unsigned i = 0; i < f->max; i++) {
		struct dgram *d = &f->d[i];
		if (d->used && d != keep && (!o || d->seq < o->seq))
			o = d;
	}
	return o;
}

enum rp_pkt_verdict rp_ipfrag_add(struct rp_ipfrag *f, int64_t ts, const struct frag_key *key,
				  uint32_t off, const uint8_t *p, size_t n, int more,
				  struct rp_slice *whole)
{
	struct dgram *d = NULL, *free_slot = NULL;
	f->st.fragments++;
	if (f->done) {
		free(f->done);
		f->done = NULL;
		f->done_cap = 0;
	}
	/* One pass: expire, find, and note a free slot. */
	for (unsigned i = 0; i < f->max; i++) {
		struct dgram *e = &f->d[i];
		if (e->used && ts - e->first_ts > f->timeout) {
			f->st.timeouts++;
			release(f, e);
		}
		if (!e->used) {
			if (!free_slot)
				free_slot = e;
		} else if (!d && key_eq(&e->key, key)) {
			d = e;
		}
	}
	uint64_t end = (uint64_t)off + n;
	if (end > MAX_DATAGRAM || (more && (n == 0 || n % 8))) {
		f->st.invalid++;
		return RP_PKT_FRAG_DROPPED;
	}
	if (!d) {
		if (!free_slot) {
			free_slot = oldest(f, NULL);
			f->st.evicted++;
			release(f, free_slot);
		}
		d = free_slot;
		d->used = 1;
		d->key = *key;
		d->first_ts = ts;
		d->seq = ++f->seq;
	}
	/* The last fragment fixes the length; everything must fit inside it. */
	if (!more) {
		if (d->have_last && d->total != end)
			goto bad;
		for (unsigned i = 0; i < d->nr; i++)
			if (d->r[i].off + d->r[i].len > end)
				goto bad;
		d->total = (uint32_t)end;
		d->have_last = 1;
	} else if (d->have_last && end > d->total) {
		goto bad;
	}
	for (unsigned i = 0; i < d->nr; i++) {
		const struct range *r = &d->r[i];
		if (off >= r->off + r->len || end <= r->off)
			continue;
		if (r->off == off && r->len == n && memcmp(d->buf + off, p, n) == 0)
			return RP_PKT_FRAG_HELD; /* exact duplicate */
		f->st.overlaps++;
		release(f, d);
		return RP_PKT_FRAG_DROPPED;
	}
	if (d->nr == RP_LIMIT_IPFRAG_FRAGS)
		goto bad;
	if (end > d->cap) {
		size_t cap = d->cap ? d->cap : 2048;
		while (cap < end)
			cap *= 2;
		if (cap > MAX_DATAGRAM)
			cap = MAX_DATAGRAM;
		while (f->st.mem + (cap - d->cap) > f->max_mem) {
			struct dgram *o = oldest(f, d);
			if (!o) {
				f->st.evicted++;
				release(f, d);
				return RP_PKT_FRAG_DROPPED;
			}
			f->st.evicted++;
			release(f, o);
		}
		d->buf = rp_xrealloc(d->buf, cap);
		f->st.mem += cap - d->cap;
		d->cap = cap;
		if (f->st.mem > f->st.mem_peak)
			f->st.mem_peak = f->st.mem;
	}
	if (n)
		memcpy(d->buf + off, p, n);
	d->r[d->nr].off = off;
	d->r[d->nr].len = (uint32_t)n;
	d->nr++;
	d->covered += (uint32_t)n;
	if (!d->have_last || d->covered != d->total)
		return RP_PKT_FRAG_HELD;
	/* Complete: hand the buffer out until the next call. */
	f->done = d->buf;
	f->done_cap = d->cap;
	*whole = rp_slice(d->buf, d->total);
	f->st.mem -= d->cap;
	d->buf = NULL;
	d->cap = 0;
	release(f, d);
	f->st.reassembled++;
	return RP_PKT_TCP;
bad:
	f->st.invalid++;
	release(f, d);
	return RP_PKT_FRAG_DROPPED;
}
