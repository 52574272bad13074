/*
 * flow: the capture engine — decoded TCP segments are sorted into flows (a
 * hash table keyed by the unordered pair of endpoints), each flow's two
 * directions reassembled (tcp.c) and their events handed to the
 * conversation layer (conv.c), which pairs requests with responses and
 * feeds the sink.  Flows end on FIN from both sides, on RST, on idle
 * timeout (capture time), when the table or the memory ceiling needs room
 * (oldest first, counted as evicted), and at rp_capture_finish.
 *
 * The client side of a flow is the sender of the SYN (or the receiver of
 * the SYN-ACK).  A flow picked up without its handshake takes the side
 * whose port is a server port as the server, else the lower port, and
 * swaps once if its first bytes say otherwise (a response where a request
 * was expected).
 *
 * Invariants: every flow is in the hash table and the LRU list exactly once
 * while active; memory charged to |mem| (flow structs, buffered segments,
 * unparsed tails, bodies in flight) never passes |mem.max| except by one
 * segment's worth while the ceiling is being enforced; flows are ended in
 * one place (flow_end), which flushes before freeing.
 */
#include "config.h"

#include <stdlib.h>

#include "capture-int.h"
#include "reprise/limits.h"

#define EXPIRE_EVERY_NS 1000000000LL
#define FLOW_COST (sizeof(struct flow))

/* ---- hashing ---- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

static uint64_t ep_hash(const struct rp_endpoint *e)
{
	uint64_t a, b;
	memcpy(&a, e->addr, 8);
	memcpy(&b, e->addr + 8, 8);
	uint64_t h = mix(0x51ed270b27bb3a8dULL, a);
	h = mix(h, b);
	return mix(h, (uint64_t)e->port << 8 | e->family);
}

/* Symmetric in the two endpoints, so both directions find the flow. */
static uint64_t pair_hash(const struct rp_endpoint *a, const struct rp_endpoint *b)
{
	uint64_t x = ep_hash(a), y = ep_hash(b);
	uint64_t h = (x ^ y) * 0xff51afd7ed558ccdULL + (x + y);
	return h ^ (h >> 29);
}

static int ep_eq(const struct rp_endpoint *a, const struct rp_endpoint *b)
{
	return a->port == b->port && a->family == b->family &&
	       memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

/* The flow of the segment from |src| to |dst|, with |*side| 0 when |src| is
 * its client. */
static struct flow *lookup(struct rp_capture *c, uint64_t h, const struct rp_endpoint *src,
			   const struct rp_endpoint *dst, int *side)
{
	for (struct flow *f = c->buckets[h & (c->nbuckets - 1)]; f; f = f->hnext) {
		if (f->hash != h)
			continue;
		if (ep_eq(&f->ep[0], src) && ep_eq(&f->ep[1], dst)) {
			*side = 0;
			return f;
		}
		if (ep_eq(&f->ep[1], src) && ep_eq(&f->ep[0], dst)) {
			*side = 1;
			return f;
		}
	}
	return NULL;
}

static void grow_table(struct rp_capture *c)
{
	size_t n = c->nbuckets * 2;
	struct flow **b = rp_xcalloc(n, sizeof(*b));
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct flow *f = c->buckets[i];
		while (f) {
			struct flow *next = f->hnext;
			f->hnext = b[f->hash & (n - 1)];
			b[f->hash & (n - 1)] = f;
			f = next;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

/* ---- LRU ---- */

static void lru_unlink(struct rp_capture *c, struct flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		c->lru_head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		c->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void lru_push(struct rp_capture *c, struct flow *f)
{
	f->lru_prev = NULL;
	f->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = f;
	c->lru_head = f;
	if (!c->lru_tail)
		c->lru_tail = f;
}

/* ---- engine ---- */

struct rp_capture *rp_capture_new(const struct rp_capture_opts *opts,
				  const struct rp_capture_sink *sink)
{
	struct rp_capture *c = rp_xcalloc(1, sizeof(*c));
	if (opts)
		c->opt = *opts;
	if (!c->opt.max_flow_memory)
		c->opt.max_flow_memory = RP_LIMIT_CAPTURE_FLOW_MEMORY;
	if (!c->opt.max_flows)
		c->opt.max_flows = RP_LIMIT_CAPTURE_FLOWS;
	if (!c->opt.idle_ns)
		c->opt.idle_ns = RP_CAPTURE_IDLE_DEFAULT_NS;
	if (!c->opt.max_body)
		c->opt.max_body = RP_LIMIT_BODY_RECORD;
	if (c->opt.nserver_ports) {
		c->nports = c->opt.nserver_ports;
		c->ports = rp_xcalloc(c->nports, sizeof(*c->ports));
		memcpy(c->ports, c->opt.server_ports, c->nports * sizeof(*c->ports));
	}
	c->opt.server_ports = NULL;
	if (sink)
		c->sink = *sink;
	c->mem.max = c->opt.max_flow_memory;
	c->frags = rp_ipfrag_new(0, 0, 0);
	c->nbuckets = 1024;
	c->buckets = rp_xcalloc(c->nbuckets, sizeof(*c->buckets));
	c->next_conn = c->opt.first_conn_id;
	return c;
}

static void add_stream_stats(struct rp_capture_stats *st, const struct rp_tcp_stream *s)
{
	st->tcp_delivered += s->stats.delivered;
	st->tcp_gap_bytes += s->stats.gap_bytes;
	st->tcp_gaps += s->stats.gaps;
	st->tcp_dup_bytes += s->stats.dup_bytes;
	st->tcp_conflicts += s->stats.conflicts;
	st->tcp_ooo_segments += s->stats.ooo_segments;
	st->tcp_out_of_window += s->stats.out_of_window;
	st->tcp_after_end += s->stats.after_end;
}

static void flow_free(struct rp_capture *c, struct flow *f)
{
	struct flow **pp = &c->buckets[f->hash & (c->nbuckets - 1)];
	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	lru_unlink(c, f);
	add_stream_stats(&c->st, &f->dir[0]);
	add_stream_stats(&c->st, &f->dir[1]);
	rp_conv_dispose(c, f);
	rp_tcp_stream_dispose(&f->dir[0]);
	rp_tcp_stream_dispose(&f->dir[1]);
	c->mem.used -= FLOW_COST;
	c->st.flows_active--;
	free(f);
}

static void drain(struct rp_capture *c, struct flow *f, int dir)
{
	struct rp_tcp_event ev;
	while (rp_tcp_stream_next(&f->dir[dir], &ev) == 0) {
		if (ev.type == RP_TCP_EV_GAP)
			f->had_gap = 1;
		rp_conv_event(c, f, dir, &ev);
	}
}

enum end_reason { END_CLOSED, END_IDLE, END_EVICTED, END_FINISH };

static void flow_end(struct rp_capture *c, struct flow *f, enum end_reason why)
{
	if (f->closed) { /* a tombstone: its data was handed out already */
		flow_free(c, f);
		return;
	}
	for (int d = 0; d < 2; d++) {
		rp_tcp_stream_flush(&f->dir[d]);
		drain(c, f, d);
	}
	rp_conv_end(c, f);
	switch (why) {
	case END_CLOSED: c->st.flows_closed++; break;
	case END_IDLE: c->st.flows_idle++; break;
	case END_EVICTED: c->st.flows_evicted++; break;
	case END_FINISH: break;
	}
	if (f->had_gap)
		c->st.flows_with_gaps++;
	if (why != END_CLOSED) {
		flow_free(c, f);
		return;
	}
	/* Keep the endpoints, drop the rest: a retransmission arriving after
	 * the close must not open a new flow picked up mid-stream. */
	rp_conv_dispose(c, f);
	rp_tcp_stream_dispose(&f->dir[0]);
	rp_tcp_stream_dispose(&f->dir[1]);
	f->closed = 1;
}

void rp_capture_free(struct rp_capture *c)
{
	if (!c)
		return;
	while (c->lru_head) {
		struct flow *f = c->lru_head;
		rp_conv_end(c, f); /* hands out what is pending: no leaks */
		flow_free(c, f);
	}
	rp_ipfrag_free(c->frags);
	free(c->buckets);
	free(c->ports);
	free(c);
}

int rp_capture_make_room(struct rp_capture *c, struct flow *keep, size_t need)
{
	while (c->mem.used + need > c->mem.max) {
		struct flow *o = c->lru_tail;
		if (o == keep)
			o = o->lru_prev;
		if (!o)
			return 0;
		flow_end(c, o, END_EVICTED);
	}
	return 1;
}

static int is_server_port(const struct rp_capture *c, uint16_t port)
{
	for (size_t i = 0; i < c->nports; i++)
		if (c->ports[i] == port)
			return 1;
	return 0;
}

static struct flow *flow_new(struct rp_capture *c, uint64_t h, const struct rp_tcp_pkt *pk,
			     int *side)
{
	if (c->st.flows_active >= c->opt.max_flows && c->lru_tail)
		flow_end(c, c->lru_tail, END_EVICTED);
	if (c->mem.used + FLOW_COST > c->mem.max)
		rp_capture_make_room(c, NULL, FLOW_COST);
	struct flow *f = rp_xcalloc(1, sizeof(*f));
	int src_is_client;
	if ((pk->flags & (RP_TCP_SYN | RP_TCP_ACK)) == RP_TCP_SYN) {
		src_is_client = 1;
		f->oriented = 1;
	} else if (pk->flags & RP_TCP_SYN) {
		src_is_client = 0;
		f->oriented = 1;
	} else {
		int ss = is_server_port(c, pk->src.port), ds = is_server_port(c, pk->dst.port);
		if (ss != ds)
			src_is_client = ds;
		else
			src_is_client = pk->src.port > pk->dst.port;
		f->midstream = 1;
		c->st.flows_midstream++;
	}
	f->ep[0] = src_is_client ? pk->src : pk->dst;
	f->ep[1] = src_is_client ? pk->dst : pk->src;
	*side = src_is_client ? 0 : 1;
	f->hash = h;
	f->first_ts = f->last_ts = pk->ts;
	f->conn_id = c->next_conn++;
	rp_tcp_stream_init(&f->dir[0], &c->mem);
	rp_tcp_stream_init(&f->dir[1], &c->mem);
	rp_conv_init(c, f);
	if (c->st.flows_active + 1 > c->nbuckets)
		grow_table(c);
	struct flow **b = &c->buckets[h & (c->nbuckets - 1)];
	f->hnext = *b;
	*b = f;
	lru_push(c, f);
	c->mem.used += FLOW_COST;
	if (c->mem.used > c->mem.peak)
		c->mem.peak = c->mem.used;
	c->st.flows++;
	c->st.flows_active++;
	if (c->st.flows_active > c->st.flows_peak)
		c->st.flows_peak = c->st.flows_active;
	return f;
}

/* Does |p| start like an HTTP/1 request line ("GET ", "POST " ...)? */
static int looks_like_request(struct rp_slice p)
{
	size_t i = 0;
	while (i < p.n && i < 16 && p.p[i] >= 'A' && p.p[i] <= 'Z')
		i++;
	return i >= 3 && i < p.n && p.p[i] == ' ';
}

static int looks_like_response(struct rp_slice p)
{
	return p.n >= 5 && memcmp(p.p, "HTTP/", 5) == 0;
}

/* A flow picked up mid-stream whose first bytes contradict the guess. */
static void maybe_swap(struct flow *f, int *side, struct rp_slice payload)
{
	if (f->oriented || f->fed || !payload.n)
		return;
	int wrong = *side == 0 ? looks_like_response(payload) && !looks_like_request(payload)
			       : looks_like_request(payload);
	f->oriented = 1; /* decided, one way or the other */
	if (!wrong)
		return;
	struct rp_endpoint e = f->ep[0];
	f->ep[0] = f->ep[1];
	f->ep[1] = e;
	uint32_t a = f->ack_seen[0];
	f->ack_seen[0] = f->ack_seen[1];
	f->ack_seen[1] = a;
	uint8_t v = f->ack_valid[0];
	f->ack_valid[0] = f->ack_valid[1];
	f->ack_valid[1] = v;
	struct rp_tcp_stream s = f->dir[0];
	f->dir[0] = f->dir[1];
	f->dir[1] = s;
	*side = !*side;
}

static void tcp_segment(struct rp_capture *c, const struct rp_tcp_pkt *pk)
{
	if (c->opt.filter_ports && c->nports && !is_server_port(c, pk->src.port) &&
	    !is_server_port(c, pk->dst.port)) {
		c->st.tcp_other_ports++;
		return;
	}
	uint64_t h = pair_hash(&pk->src, &pk->dst);
	int side = 0;
	struct flow *f = lookup(c, h, &pk->src, &pk->dst, &side);
	uint8_t fl = pk->flags;
	if (f && f->closed) {
		if ((fl & (RP_TCP_SYN | RP_TCP_ACK)) != RP_TCP_SYN) {
			c->st.tcp_after_end++;
			return;
		}
		flow_free(c, f); /* the ports are used again */
		f = NULL;
	}
	/* A new SYN on a known flow is a new connection reusing the ports. */
	if (f && (fl & (RP_TCP_SYN | RP_TCP_ACK)) == RP_TCP_SYN &&
	    (!f->isn_known[side] || f->isn[side] != pk->seq) &&
	    (f->dir[side].started || f->dir[!side].started)) {
		flow_end(c, f, END_CLOSED);
		f = NULL;
	}
	if (!f) {
		if ((fl & RP_TCP_RST) || (!(fl & RP_TCP_SYN) && pk->payload_len == 0)) {
			c->st.tcp_no_flow++;
			return;
		}
		f = flow_new(c, h, pk, &side);
	}
	if (f != c->lru_head) {
		lru_unlink(c, f);
		lru_push(c, f);
	}
	f->last_ts = pk->ts;
	if (fl & RP_TCP_SYN) {
		f->isn[side] = pk->seq;
		f->isn_known[side] = 1;
		/* SYN-ACK without the SYN: its ack says where the client's
		 * stream starts. */
		if ((fl & RP_TCP_ACK) && !f->dir[!side].started)
			rp_tcp_stream_push(&f->dir[!side], pk->ack - 1, RP_TCP_SYN, RP_SLICE_NULL, 0,
					   pk->ts);
	}
	maybe_swap(f, &side, pk->payload);
	if (fl & RP_TCP_ACK) {
		f->ack_seen[side] = pk->ack;
		f->ack_valid[side] = 1;
	}
	struct rp_tcp_stream *s = &f->dir[side];
	int r = rp_tcp_stream_push(s, pk->seq, fl, pk->payload, pk->payload_len, pk->ts);
	if (r == RP_E_LIMIT) {
		c->st.mem_limited++;
		size_t need = pk->payload.n + 256;
		if (!rp_capture_make_room(c, f, need)) {
			/* This flow alone holds the memory: give up the hole
			 * before this segment. */
			rp_tcp_stream_skip(s, (fl & RP_TCP_SYN) ? pk->seq + 1 : pk->seq);
			drain(c, f, side);
		}
		r = rp_tcp_stream_push(s, pk->seq, fl, pk->payload, pk->payload_len, pk->ts);
		if (r == RP_E_LIMIT) { /* still no room: the segment is lost */
			rp_tcp_stream_skip(s, pk->seq + pk->payload_len);
			f->had_gap = 1;
		}
	}
	if (pk->payload.n)
		f->fed = 1;
	drain(c, f, side);
	if (fl & RP_TCP_ACK) {
		rp_tcp_stream_ack(&f->dir[!side], pk->ack);
		drain(c, f, !side);
	}
	if ((f->dir[0].ended || !f->dir[0].started) && (f->dir[1].ended || !f->dir[1].started) &&
	    (f->dir[0].ended || f->dir[1].ended))
		flow_end(c, f, END_CLOSED);
	else if (f->dir[0].rst_seen || f->dir[1].rst_seen)
		flow_end(c, f, END_CLOSED);
}

void rp_capture_expire(struct rp_capture *c, int64_t now)
{
	c->last_expire = now;
	while (c->lru_tail && now - c->lru_tail->last_ts > c->opt.idle_ns)
		flow_end(c, c->lru_tail, END_IDLE);
}

void rp_capture_packet(struct rp_capture *c, int link, int64_t ts, const uint8_t *p,
		       size_t caplen)
{
	struct rp_tcp_pkt pk;
	c->st.packets++;
	c->st.bytes += caplen;
	if (ts > c->now)
		c->now = ts;
	if (c->now - c->last_expire >= EXPIRE_EVERY_NS)
		rp_capture_expire(c, c->now);
	enum rp_pkt_verdict v = rp_capture_decode(c->frags, link, ts, p, caplen, &pk);
	c->st.verdicts[v]++;
	if (v == RP_PKT_TCP)
		tcp_segment(c, &pk);
}

void rp_capture_finish(struct rp_capture *c)
{
	/* Oldest first, so the sink sees connections in the order they went
	 * quiet. */
	while (c->lru_tail)
		flow_end(c, c->lru_tail, END_FINISH);
}

void rp_capture_get_stats(const struct rp_capture *c, struct rp_capture_stats *out)
{
	*out = c->st;
	for (const struct flow *f = c->lru_head; f; f = f->lru_next) {
		add_stream_stats(out, &f->dir[0]);
		add_stream_stats(out, &f->dir[1]);
	}
	out->mem_used = c->mem.used;
	out->mem_peak = c->mem.peak;
	rp_ipfrag_get_stats(c->frags, &out->frag);
}
