/*
 * conv: the codec side of a flow.  The two reassembled byte streams of a
 * connection go through the HTTP/1 parser in LENIENT mode (requests from
 * the client, responses from the server); messages become exchanges,
 * responses are paired with requests in order (pipelining included, the
 * request method passed to the response parser so HEAD and CONNECT frame
 * right), and each exchange goes to the sink once both halves are done.
 * The first bytes choose the codec: an HTTP/2 preface, or an h2c upgrade
 * accepted with 101, marks the flow as h2 (counted, not decoded yet);
 * bytes that are not HTTP at the start of a connection mark it as other.
 *
 * Losses: a gap inside a message flags its exchange RP_XF_GAP and ends that
 * half of it; the parser then hunts for the next recognisable message start
 * (a status line "HTTP/1.x NNN", or a request line "METHOD target
 * HTTP/1.x" beginning a line) and resumes there.  A flow picked up without
 * its handshake hunts the same way from its first byte.  After a gap in the
 * responses of a connection that never pipelined, a response answers the
 * newest request sent before it, and the older unanswered ones are flagged
 * RP_XF_NO_RESPONSE|RP_XF_GAP (their answers were lost); otherwise pairing
 * is strictly in order.  A response with no request to answer is recorded
 * with RP_XF_NO_REQUEST.  Timings are capture times: the segment holding a
 * message's first byte, and the one holding its last.
 *
 * Invariants: at most RP_LIMIT_CAPTURE_INFLIGHT exchanges wait per
 * connection (the oldest is handed out early beyond that); unparsed tails
 * and bodies are charged to the engine's ceiling and bounded; exchanges
 * leave in request order.
 */
#include "config.h"

#include <stdlib.h>

#include "capture-int.h"
#include "reprise/limits.h"

#define KEEP_BUF_CAP (256u << 10) /* buffers larger than this are freed between messages */

static void charge(struct rp_capture *c, struct half *h, size_t n)
{
	h->charged += n;
	c->mem.used += n;
	if (c->mem.used > c->mem.peak)
		c->mem.peak = c->mem.used;
}

static void uncharge(struct rp_capture *c, struct half *h, size_t n)
{
	h->charged -= n;
	c->mem.used -= n;
}

/* Room for |n| more bytes under the ceiling, flushing other flows if need
 * be.  Returns 1 when there is room. */
static int room_for(struct rp_capture *c, struct flow *f, size_t n)
{
	if (c->mem.used + n <= c->mem.max)
		return 1;
	c->st.mem_limited++;
	return rp_capture_make_room(c, f, n);
}

void rp_conv_init(struct rp_capture *c, struct flow *f)
{
	struct conv *cv = &f->conv;
	struct rp_h1_options o;
	rp_h1_options_init(&o);
	o.mode = RP_H1_LENIENT;
	for (int d = 0; d < 2; d++) {
		struct half *h = &cv->h[d];
		rp_h1_init(&h->p, d == 0 ? RP_H1_REQUEST : RP_H1_RESPONSE, &o);
		rp_buf_init(&h->carry, RP_LIMIT_CAPTURE_CARRY);
		rp_buf_init(&h->body, c->opt.max_body);
		/* Without the handshake the first byte may be anywhere. */
		h->hunting = f->midstream;
		h->line_start = 1;
	}
}

/* ---- exchanges in flight ---- */

static void emit(struct rp_capture *c, struct flow *f, struct pending *p)
{
	struct rp_exchange *x = p->x;
	c->mem.used -= p->held;
	c->st.exchanges++;
	if (x->flags & RP_XF_GAP)
		c->st.exchanges_gap++;
	if (x->flags & RP_XF_NO_RESPONSE)
		c->st.exchanges_no_response++;
	if (x->flags & RP_XF_NO_REQUEST)
		c->st.exchanges_no_request++;
	if (x->flags & RP_XF_ANOMALY)
		c->st.exchanges_anomaly++;
	if (x->flags & (RP_XF_REQ_TRUNCATED | RP_XF_RESP_TRUNCATED))
		c->st.exchanges_truncated++;
	if (c->sink.exchange)
		c->sink.exchange(c->sink.ctx, x);
	else
		rp_exchange_free(x);
}

/* Hands out the exchanges at the head that are done. */
static void try_emit(struct rp_capture *c, struct flow *f)
{
	struct conv *cv = &f->conv;
	while (cv->head && cv->head->req_done && cv->head->resp_done) {
		struct pending *p = cv->head;
		cv->head = p->next;
		if (!cv->head)
			cv->tail = NULL;
		cv->n--;
		emit(c, f, p);
	}
}

static void body_done(struct rp_capture *c, struct half *h, struct rp_message *m,
		      const struct rp_h1_msg *msg);

/* Closes |p| as it stands: what never came is flagged. */
static void close_pending(struct rp_capture *c, struct conv *cv, struct pending *p)
{
	if (cv->h[0].cur == p)
		body_done(c, &cv->h[0], &p->x->req.m, NULL);
	if (cv->h[1].cur == p)
		body_done(c, &cv->h[1], &p->x->resp.m, NULL);
	if (!p->req_done) {
		p->x->flags |= RP_XF_GAP;
		p->req_done = 1;
	}
	if (!p->resp_done) {
		p->x->flags |= p->resp_started ? RP_XF_GAP : RP_XF_NO_RESPONSE;
		p->resp_started = p->resp_done = 1;
	}
	for (int d = 0; d < 2; d++)
		if (cv->h[d].cur == p)
			cv->h[d].cur = NULL;
}

static struct pending *pending_new(struct rp_capture *c, struct flow *f, uint8_t major,
				   uint8_t minor)
{
	struct conv *cv = &f->conv;
	if (cv->n >= RP_LIMIT_CAPTURE_INFLIGHT) {
		c->st.pipeline_overflow++;
		close_pending(c, cv, cv->head);
		try_emit(c, f);
	}
	struct rp_exchange *x = rp_exchange_new();
	struct pending *p = rp_pool_calloc(x->pool, sizeof(*p));
	p->x = x;
	x->conn_id = f->conn_id;
	x->conn_seq = cv->seq++;
	x->proto = major == 1 && minor == 0 ? RP_PROTO_H10 : RP_PROTO_H11;
	x->client = f->ep[0];
	x->server = f->ep[1];
	x->req.scheme = RP_SLICE_LIT("http");
	if (cv->tail)
		cv->tail->next = p;
	else
		cv->head = p;
	cv->tail = p;
	cv->n++;
	if (!cv->counted_h1) {
		cv->counted_h1 = 1;
		f->app = APP_H1;
		c->st.flows_h1++;
	}
	return p;
}

static struct pending *first_unanswered(struct conv *cv)
{
	for (struct pending *p = cv->head; p; p = p->next)
		if (!p->resp_started)
			return p;
	return NULL;
}

/* The request a response starting at |ts| answers (see the file comment). */
static struct pending *pick_request(struct conv *cv, int64_t ts)
{
	struct pending *first = first_unanswered(cv);
	if (first && cv->resp_gap && !cv->pipelined) {
		struct pending *best = first;
		for (struct pending *p = first; p; p = p->next)
			if (!p->resp_started && p->x->t.req_start <= ts)
				best = p;
		for (struct pending *p = first; p != best; p = p->next) {
			if (p->resp_started)
				continue;
			p->x->flags |= RP_XF_NO_RESPONSE | RP_XF_GAP;
			p->resp_started = p->resp_done = 1;
		}
		first = best;
	}
	cv->resp_gap = 0;
	return first;
}

/* ---- bodies ---- */

static void body_add(struct rp_capture *c, struct flow *f, int d, struct rp_slice data)
{
	struct half *h = &f->conv.h[d];
	if (!h->cur || h->interim || h->body_cut || h->filling || !data.n)
		return;
	if (h->direct) { /* charged when it was sized */
		size_t take = data.n < h->dcap - h->dlen ? data.n : h->dcap - h->dlen;
		memcpy(h->direct + h->dlen, data.p, take);
		h->dlen += take;
		return;
	}
	size_t room = h->body.max - rp_buf_len(&h->body);
	size_t take = data.n < room ? data.n : room;
	if (take && !room_for(c, f, take))
		take = 0;
	if (take < data.n) {
		h->body_cut = 1;
		h->cur->x->flags |= d == 0 ? RP_XF_REQ_TRUNCATED : RP_XF_RESP_TRUNCATED;
	}
	if (!take)
		return;
	rp_buf_append(&h->body, data.p, take);
	charge(c, h, take);
}

/* A body whose length the headers declare goes straight to its place in
 * the exchange's pool: one copy instead of two. */
static void size_body(struct rp_capture *c, struct flow *f, int d, const struct rp_h1_msg *m)
{
	struct half *h = &f->conv.h[d];
	if (!h->cur || h->interim || h->direct || m->body != RP_H1_BODY_LENGTH ||
	    !m->content_length)
		return;
	if (m->content_length > h->body.max) {
		return; /* the buffer keeps the first max bytes and flags the cut */
	}
	size_t n = (size_t)m->content_length;
	if (!room_for(c, f, n))
		return; /* the buffer path truncates as memory allows */
	h->direct = rp_pool_alloc(h->cur->x->pool, n);
	h->dlen = 0;
	h->dcap = n;
	charge(c, h, n);
}

/* Moves the body collected by half |d| into message |m| of its exchange. */
static void body_done(struct rp_capture *c, struct half *h, struct rp_message *m,
		      const struct rp_h1_msg *msg)
{
	struct pending *p = h->cur;
	if (h->direct) {
		m->body = rp_slice(h->direct, h->dlen);
		uncharge(c, h, h->dcap);
		c->mem.used += h->dcap;
		p->held += h->dcap;
		h->direct = NULL;
		h->dlen = h->dcap = 0;
	}
	size_t n = rp_buf_len(&h->body);
	if (n) {
		m->body = rp_pool_dup(p->x->pool, rp_buf_slice(&h->body));
		/* The charge moves from the half to the exchange. */
		uncharge(c, h, n);
		c->mem.used += n;
		p->held += n;
	}
	m->wire_len = msg ? msg->body_len : n;
	m->orig_len = m->wire_len;
	rp_buf_clear(&h->body);
	if (h->body.cap > KEEP_BUF_CAP)
		rp_buf_dispose(&h->body);
	h->body_cut = 0;
}

/* Ends the message half |d| is filling as it stands, flagged |flags|. */
static void cut_message(struct rp_capture *c, struct flow *f, int d, uint32_t flags, int64_t ts)
{
	struct half *h = &f->conv.h[d];
	struct pending *p = h->cur;
	if (!p)
		return;
	p->x->flags |= flags;
	if (d == 0) {
		body_done(c, h, &p->x->req.m, NULL);
		p->x->t.req_end = ts;
		p->req_done = 1;
	} else {
		body_done(c, h, &p->x->resp.m, NULL);
		p->x->t.resp_end = ts;
		p->resp_done = 1;
	}
	h->cur = NULL;
	h->interim = 0;
}

/* ---- events of the HTTP/1 parser ---- */

static void set_method(struct conv *cv)
{
	if (cv->h[1].cur)
		return;
	struct pending *p = first_unanswered(cv);
	rp_h1_set_method(&cv->h[1].p, p ? p->method : RP_H1_M_OTHER);
}

static void on_request(struct rp_capture *c, struct flow *f, const struct rp_h1_event *ev,
		       int64_t ets, int64_t ts)
{
	struct conv *cv = &f->conv;
	struct half *h = &cv->h[0];
	struct pending *p = h->cur;
	switch (ev->type) {
	case RP_H1_EV_REQUEST_LINE:
		if (h->messages < 255)
			h->messages++;
		/* An earlier request still unanswered means pipelining, unless
		 * response bytes were lost, or the client has acknowledged server
		 * bytes the capture lacks: the answer may be among them. */
		if (first_unanswered(cv) && !cv->resp_gap &&
		    !(f->ack_valid[0] && f->dir[1].started &&
		      (int32_t)(f->ack_seen[0] - f->dir[1].next) > 0))
			cv->pipelined = 1;
		p = pending_new(c, f, ev->u.req.major, ev->u.req.minor);
		p->x->flags |= h->pending_flags;
		h->pending_flags = 0;
		p->method = ev->u.req.m;
		p->x->req.method = rp_pool_dup(p->x->pool, ev->u.req.method);
		p->x->req.target = rp_pool_dup(p->x->pool, ev->u.req.target);
		p->x->t.req_start = ets;
		h->cur = p;
		set_method(cv);
		break;
	case RP_H1_EV_HEADER:
		if (p) {
			struct rp_headers *hs = &p->x->req.m.headers;
			rp_headers_add(hs, p->x->pool, ev->u.field.name, ev->u.field.value);
			/* Known at once, so a request cut later still has it. */
			if (!p->x->req.authority.n &&
			    rp_slice_eq_nocase(ev->u.field.name, RP_SLICE_LIT("Host")))
				p->x->req.authority = hs->v[hs->n - 1].value;
		}
		break;
	case RP_H1_EV_HEADERS_DONE:
		if (p) {
			if (ev->u.msg->flags & RP_H1_F_CONNECT)
				p->x->flags |= RP_XF_CONNECT;
		}
		break;
	case RP_H1_EV_BODY:
		body_add(c, f, 0, ev->u.data);
		break;
	case RP_H1_EV_TRAILER:
		if (p)
			rp_headers_add(&p->x->req.m.trailers, p->x->pool, ev->u.field.name,
				       ev->u.field.value);
		break;
	case RP_H1_EV_MESSAGE_DONE:
		if (p) {
			body_done(c, h, &p->x->req.m, ev->u.msg);
			if (ev->u.msg->anomalies & ~(uint32_t)RP_H1_A_VERSION)
				p->x->flags |= RP_XF_ANOMALY;
			p->x->t.req_end = ts;
			p->req_done = 1;
			h->cur = NULL;
			try_emit(c, f);
		}
		break;
	case RP_H1_EV_PAUSED:
		cv->req_paused = 1;
		break;
	case RP_H1_EV_TUNNEL:
		c->st.other_bytes_skipped += ev->u.data.n;
		break;
	default:
		break;
	}
}

static void feed(struct rp_capture *c, struct flow *f, int d, struct rp_slice data, int64_t ts);

static void on_response(struct rp_capture *c, struct flow *f, const struct rp_h1_event *ev,
			int64_t ets, int64_t ts)
{
	struct conv *cv = &f->conv;
	struct half *h = &cv->h[1];
	struct pending *p = h->cur;
	switch (ev->type) {
	case RP_H1_EV_STATUS_LINE:
		if (h->messages < 255)
			h->messages++;
		if (!p) {
			p = pick_request(cv, ets);
			if (!p) {
				p = pending_new(c, f, ev->u.status.major, ev->u.status.minor);
				p->x->flags |= RP_XF_NO_REQUEST;
				p->req_done = 1;
			}
			p->resp_started = 1;
			p->x->flags |= h->pending_flags;
			h->pending_flags = 0;
			h->cur = p;
		}
		p->x->resp.status = ev->u.status.status;
		p->x->resp.reason = rp_pool_dup(p->x->pool, ev->u.status.reason);
		p->x->resp.m.headers.n = 0; /* an interim response's are dropped */
		p->x->t.resp_start = ets;
		break;
	case RP_H1_EV_HEADER:
		if (p)
			rp_headers_add(&p->x->resp.m.headers, p->x->pool, ev->u.field.name,
				       ev->u.field.value);
		break;
	case RP_H1_EV_HEADERS_DONE:
		h->interim = (ev->u.msg->flags & RP_H1_F_INTERIM) != 0;
		break;
	case RP_H1_EV_BODY:
		body_add(c, f, 1, ev->u.data);
		break;
	case RP_H1_EV_TRAILER:
		if (p)
			rp_headers_add(&p->x->resp.m.trailers, p->x->pool, ev->u.field.name,
				       ev->u.field.value);
		break;
	case RP_H1_EV_MESSAGE_DONE: {
		if (h->interim) {
			h->interim = 0;
			break;
		}
		const struct rp_h1_msg *m = ev->u.msg;
		int tunnel = (m->flags & RP_H1_F_TUNNEL) != 0;
		if (p) {
			body_done(c, h, &p->x->resp.m, m);
			if (m->anomalies & ~(uint32_t)RP_H1_A_VERSION)
				p->x->flags |= RP_XF_ANOMALY;
			if (tunnel && m->status == 101)
				p->x->flags |= RP_XF_UPGRADE;
			p->x->t.resp_end = ts;
			p->resp_done = 1;
			h->cur = NULL;
		}
		if (tunnel) {
			/* Whatever follows is another protocol: h2 when the
			 * client asked for h2c, opaque otherwise. */
			int h2 = m->status == 101 && (cv->h[0].p.msg.flags & RP_H1_F_H2C_UPGRADE);
			f->app = h2 ? APP_H2 : APP_TUNNEL;
			if (h2)
				c->st.flows_h2++;
			else
				c->st.flows_tunnel++;
			cv->req_paused = 0;
		} else if (cv->req_paused) {
			cv->req_paused = 0;
			rp_h1_resume(&cv->h[0].p, 0);
			try_emit(c, f);
			feed(c, f, 0, RP_SLICE_NULL, ts); /* what waited behind the pause */
			break;
		}
		try_emit(c, f);
		break;
	}
	case RP_H1_EV_TUNNEL:
		c->st.other_bytes_skipped += ev->u.data.n;
		break;
	default:
		break;
	}
}

/* ---- resynchronisation ---- */

static int is_digit(uint8_t b) { return b >= '0' && b <= '9'; }
static int is_upper(uint8_t b) { return (b >= 'A' && b <= 'Z') || b == '-' || b == '_'; }

static int is_tchar(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || is_digit(b) ||
	       (b && strchr("!#$%&'*+-.^_`|~", b));
}

/* Methods a request line may start with where it does not begin a line
 * (right after the end of a body): longest first. */
static const char *const known_methods[] = {
	"PROPPATCH", "PROPFIND", "OPTIONS", "CONNECT", "UNLOCK", "DELETE", "SEARCH", "REPORT",
	"PATCH", "TRACE", "MKCOL", "PURGE", "POST", "HEAD", "COPY", "MOVE", "LOCK", "GET", "PUT",
};

/* After a start line ending just before |p|, does a header field or the
 * empty line follow?  1 yes, 0 no, -1 not enough bytes to tell. */
static int header_follows(const uint8_t *b, size_t n, size_t p)
{
	if (p >= n)
		return -1;
	if (b[p] == '\n')
		return 1;
	if (b[p] == '\r')
		return p + 1 < n ? b[p + 1] == '\n' : -1;
	size_t q = p;
	while (q < n && q - p < 128 && is_tchar(b[q]))
		q++;
	if (q == n)
		return -1;
	return q > p && b[q] == ':';
}

/* A status line "HTTP/1.x NNN reason" followed by a header at |i|?  1 yes,
 * 0 no, -1 not enough bytes to tell. */
static int status_line_at(const uint8_t *b, size_t n, size_t i)
{
	if (n - i < 13)
		return -1;
	if (!is_digit(b[i + 7]) || b[i + 8] != ' ' || b[i + 9] < '1' || b[i + 9] > '5' ||
	    !is_digit(b[i + 10]) || !is_digit(b[i + 11]) ||
	    (b[i + 12] != ' ' && b[i + 12] != '\r' && b[i + 12] != '\n'))
		return 0;
	size_t q = i + 12;
	while (q < n && q - i < 512 && b[q] != '\n') {
		if (b[q] < 0x20 && b[q] != '\t' && b[q] != '\r')
			return 0;
		q++;
	}
	if (q == n)
		return -1;
	if (b[q] != '\n')
		return 0;
	return header_follows(b, n, q + 1);
}

/* A request line ending with the "HTTP/1.x" at |i|?  Returns its start, or
 * -1 (no), or -2 (not enough bytes to tell). */
static long request_line_at(const uint8_t *b, size_t n, size_t i, int line_start)
{
	if (n - i < 9)
		return -2;
	if (!i || b[i - 1] != ' ' || !is_digit(b[i + 7]))
		return -1;
	size_t eol;
	if (b[i + 8] == '\n')
		eol = i + 8;
	else if (b[i + 8] == '\r')
		eol = i + 9;
	else
		return -1;
	if (eol >= n)
		return -2;
	if (b[eol] != '\n')
		return -1;
	/* Walk back over the target, then the method. */
	size_t t = i - 1;
	while (t > 0 && b[t - 1] > 0x20 && b[t - 1] != 0x7f && i - t < RP_LIMIT_H1_START_LINE)
		t--;
	if (t == i - 1 || t < 2 || b[t - 1] != ' ')
		return -1;
	size_t me = t - 1, m = me;
	while (m > 0 && is_upper(b[m - 1]) && me - m < 24)
		m--;
	if (m == me)
		return -1;
	if (!((m == 0 && line_start) || (m > 0 && b[m - 1] == '\n'))) {
		/* Not at a line start: the token may be glued to what came
		 * before; only a known method, as a suffix, will do. */
		size_t k;
		for (k = 0; k < RP_ARRAY_LEN(known_methods); k++) {
			size_t l = strlen(known_methods[k]);
			if (l <= me - m && memcmp(b + me - l, known_methods[k], l) == 0)
				break;
		}
		if (k == RP_ARRAY_LEN(known_methods))
			return -1;
		m = me - strlen(known_methods[k]);
	}
	int h = header_follows(b, n, eol + 1);
	if (h < 0)
		return -2;
	return h ? (long)m : -1;
}

/* Finds the first message start of direction |d| in |b| (|n| bytes).
 * Returns its offset, or -1 with |*keep| set to the bytes at the end that
 * may still become one (and |*keep_line_start| whether they begin a line).
 * A status line is taken wherever it is (a body does not end with a line
 * break); a request line must begin a line or start with a known method. */
static long hunt(int d, const uint8_t *b, size_t n, int line_start, size_t *keep,
		 int *keep_line_start)
{
	size_t from = 0;
	*keep_line_start = 0;
	for (;;) {
		const uint8_t *m = memmem(b + from, n - from, "HTTP/1.", 7);
		if (!m)
			break;
		size_t i = (size_t)(m - b);
		if (d == 1) {
			int r = status_line_at(b, n, i);
			if (r == 1)
				return (long)i;
			if (r < 0) { /* decide when more bytes came */
				*keep = n - i;
				return -1;
			}
		} else {
			long r = request_line_at(b, n, i, line_start);
			if (r >= 0)
				return r;
			if (r == -2)
				break; /* keep the line, decide later */
		}
		from = i + 1;
	}
	if (d == 1) {
		*keep = n < 12 ? n : 12; /* may hold the start of "HTTP/1.x NNN" */
		return -1;
	}
	/* A request line may have begun anywhere in the last line. */
	const uint8_t *nl = n ? memrchr(b, '\n', n) : NULL;
	size_t s = nl ? (size_t)(nl - b) + 1 : 0;
	int ls = nl ? 1 : line_start;
	if (n - s > RP_LIMIT_H1_START_LINE) {
		s = n - RP_LIMIT_H1_START_LINE;
		ls = 0;
	}
	*keep = n - s;
	*keep_line_start = ls;
	return -1;
}

/* The request stream broke off (gap, snap length, close) inside a start
 * line: keep the method and target it had, flagged.  A response may still
 * come for it. */
static void salvage_request_line(struct rp_capture *c, struct flow *f, int64_t ts)
{
	struct half *h = &f->conv.h[0];
	if (h->cur || h->hunting || f->conv.req_paused || !rp_buf_len(&h->carry))
		return;
	struct rp_slice b = rp_buf_slice(&h->carry);
	size_t i = 0;
	while (i < b.n && (b.p[i] == '\r' || b.p[i] == '\n'))
		i++;
	size_t m = i;
	while (i < b.n && is_tchar(b.p[i]) && i - m < 24)
		i++;
	if (i == m || i >= b.n || b.p[i] != ' ')
		return;
	size_t t = ++i;
	while (i < b.n && b.p[i] > 0x20 && b.p[i] != 0x7f)
		i++;
	if (i == t)
		return;
	if (first_unanswered(&f->conv))
		f->conv.pipelined = 1;
	struct pending *p = pending_new(c, f, 1, 1);
	struct rp_slice method = rp_slice(b.p + m, t - 1 - m);
	p->method = rp_h1_method_parse(method);
	p->x->req.method = rp_pool_dup(p->x->pool, method);
	p->x->req.target = rp_pool_dup(p->x->pool, rp_slice(b.p + t, i - t));
	p->x->t.req_start = h->carry_ts;
	p->x->t.req_end = ts;
	p->x->flags |= RP_XF_GAP;
	p->req_done = 1;
	set_method(&f->conv);
}

/* Half |d| lost its place (gap or parse error): forget the partial
 * message and hunt for the next. */
static void lose_place(struct rp_capture *c, struct flow *f, int d, int line_start)
{
	struct half *h = &f->conv.h[d];
	rp_h1_reset(&h->p);
	h->hunting = 1;
	h->line_start = (uint8_t)line_start;
	h->interim = 0;
	h->in_body = 0;
	if (d == 0 && f->conv.req_paused)
		f->conv.req_paused = 0;
	if (d == 1)
		set_method(&f->conv);
}

/* The parser of half |d| failed.  Returns 1 when the flow stops being
 * parsed as HTTP/1. */
static int parse_error(struct rp_capture *c, struct flow *f, int d, int64_t ts)
{
	struct half *h = &f->conv.h[d];
	if (d == 0 && h->p.err.h2_preface) {
		f->app = APP_H2;
		c->st.flows_h2++;
		return 1;
	}
	if (!h->messages && !f->midstream && f->app == APP_NONE) {
		f->app = APP_OTHER; /* not HTTP from its very first byte */
		c->st.flows_other++;
		return 1;
	}
	c->st.parse_errors++;
	cut_message(c, f, d, RP_XF_ANOMALY, ts);
	try_emit(c, f);
	lose_place(c, f, d, 0);
	return 0;
}

/* Hunts and parses |blk| (|old| of its first bytes came in earlier, at
 * h->carry_ts).  Returns the bytes consumed. */
static size_t process(struct rp_capture *c, struct flow *f, int d, const uint8_t *blk, size_t len,
		      size_t old, int64_t ts)
{
	struct half *h = &f->conv.h[d];
	size_t off = 0;
	struct rp_h1_event ev;
	for (;;) {
		if (h->hunting) {
			size_t keep = 0;
			int kls = 0;
			long b = hunt(d, blk + off, len - off, h->line_start, &keep, &kls);
			if (b < 0) {
				h->line_start = (uint8_t)kls;
				return len - keep;
			}
			off += (size_t)b;
			h->hunting = 0;
			rp_h1_reset(&h->p);
			if (h->messages || f->midstream)
				c->st.resyncs++;
		}
		if (d == 1)
			set_method(&f->conv);
		ssize_t r = rp_h1_parse(&h->p, blk + off, len - off, &ev);
		if (r == RP_E_AGAIN)
			return off;
		if (r < 0) {
			if (parse_error(c, f, d, ts))
				return len;
			off++; /* resume the hunt past the failed start */
			if (off > len)
				return len;
			continue;
		}
		int64_t ets = off < old ? h->carry_ts : ts;
		off += (size_t)r;
		if (ev.type == RP_H1_EV_HEADERS_DONE) {
			h->in_body = ev.u.msg->body != RP_H1_BODY_NONE;
			size_body(c, f, d, ev.u.msg);
		}
		else if (ev.type == RP_H1_EV_MESSAGE_DONE)
			h->in_body = 0;
		if (d == 0)
			on_request(c, f, &ev, ets, ts);
		else
			on_response(c, f, &ev, ets, ts);
		if (f->app == APP_H2 || f->app == APP_TUNNEL || f->app == APP_OTHER)
			return len;
		if (ev.type == RP_H1_EV_PAUSED)
			return off;
	}
}

/* Feeds |data| of direction |d| (captured at |ts|) through the carry
 * buffer when there is one, straight from the segment when there is not. */
static void feed(struct rp_capture *c, struct flow *f, int d, struct rp_slice data, int64_t ts)
{
	struct half *h = &f->conv.h[d];
	if (f->app == APP_NONE && !f->midstream && !h->messages && !h->hunting && data.n &&
	    !rp_buf_len(&h->carry)) {
		/* The very first byte of a connection already tells a binary
		 * protocol (TLS, SSH, ...) from HTTP/1. */
		uint8_t b = data.p[0];
		if (!(b == '\r' || b == '\n' || (d == 0 ? is_tchar(b) : b == 'H'))) {
			f->app = APP_OTHER;
			c->st.flows_other++;
			c->st.other_bytes_skipped += data.n;
			return;
		}
	}
	for (;;) {
		if (f->app >= APP_H2 || h->ended)
			return;
		size_t have = rp_buf_len(&h->carry);
		if (!have) {
			if (!data.n)
				return;
			size_t used = process(c, f, d, data.p, data.n, 0, ts);
			if (used < data.n && f->app < APP_H2) {
				struct rp_slice rest = rp_slice(data.p + used, data.n - used);
				if (rest.n > h->carry.max - rp_buf_len(&h->carry))
					rest.n = 0;
				if (rest.n && !room_for(c, f, rest.n)) {
					rest.n = 0;
				}
				if (rest.n) {
					rp_buf_append(&h->carry, rest.p, rest.n);
					charge(c, h, rest.n);
					h->carry_ts = ts;
				} else if (used < data.n) {
					/* Nothing to hold it in: the bytes are lost. */
					f->had_gap = 1;
					cut_message(c, f, d, RP_XF_GAP, ts);
					try_emit(c, f);
					lose_place(c, f, d, 0);
				}
			}
			return;
		}
		size_t take = data.n, space = h->carry.max - have;
		if (take > space)
			take = space;
		if (take && !room_for(c, f, take))
			take = 0;
		if (take) {
			rp_buf_append(&h->carry, data.p, take);
			charge(c, h, take);
			data.p += take;
			data.n -= take;
		}
		struct rp_slice blk = rp_buf_slice(&h->carry);
		size_t used = process(c, f, d, blk.p, blk.n, have, ts);
		if (f->app >= APP_H2)
			used = blk.n;
		if (used > blk.n)
			used = blk.n;
		rp_buf_consume(&h->carry, used);
		uncharge(c, h, used);
		if (used > have)
			h->carry_ts = ts;
		if (!rp_buf_len(&h->carry) && h->carry.cap > KEEP_BUF_CAP)
			rp_buf_dispose(&h->carry);
		if (!data.n)
			return;
		if (!used && !take) {
			/* The carry is full and the parser wants more than it
			 * can hold (a pause that lasts): give the bytes up. */
			f->had_gap = 1;
			uncharge(c, h, rp_buf_len(&h->carry));
			rp_buf_clear(&h->carry);
			cut_message(c, f, d, RP_XF_GAP, ts);
			try_emit(c, f);
			lose_place(c, f, d, 0);
		}
	}
}

/* Half |d|'s stream ended (FIN, RST, or the flow is over). */
static void half_end(struct rp_capture *c, struct flow *f, int d, int64_t ts)
{
	struct half *h = &f->conv.h[d];
	if (h->ended)
		return;
	if (d == 0 && f->app < APP_H2)
		salvage_request_line(c, f, ts);
	if (f->app < APP_H2 && !h->hunting) {
		struct rp_h1_event ev;
		int r = rp_h1_finish(&h->p, &ev);
		if (r == 1) {
			if (d == 0)
				on_request(c, f, &ev, ts, ts);
			else
				on_response(c, f, &ev, ts, ts);
		} else if (r < 0 && h->cur) {
			cut_message(c, f, d, RP_XF_GAP, ts); /* cut short by the close */
			f->had_gap = 1;
		}
	}
	h->ended = 1;
	uncharge(c, h, rp_buf_len(&h->carry));
	rp_buf_clear(&h->carry);
	try_emit(c, f);
}

/* A gap that falls inside a body whose end is known (Content-Length, or
 * the close) loses body bytes but not the place: the parser is fed as many
 * filler bytes as were lost, which are not recorded, and stays in step.
 * Returns 1 when the gap was absorbed that way. */
static int gap_in_body(struct rp_capture *c, struct flow *f, int d, uint64_t len, int64_t ts)
{
	static const uint8_t zeros[16384];
	struct half *h = &f->conv.h[d];
	const struct rp_h1_msg *m = &h->p.msg;
	if (h->hunting || !h->cur || !h->in_body || h->interim || rp_buf_len(&h->carry))
		return 0;
	if (m->body == RP_H1_BODY_LENGTH) {
		if (m->body_len > m->content_length || len > m->content_length - m->body_len)
			return 0;
	} else if (m->body != RP_H1_BODY_EOF) {
		return 0; /* chunked: the chunk boundaries are lost with the bytes */
	}
	h->cur->x->flags |= RP_XF_GAP;
	h->filling = 1;
	while (len && f->app < APP_H2 && !h->hunting) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		size_t used = process(c, f, d, zeros, n, 0, ts);
		if (used != n) /* cannot happen inside a body; be safe */
			break;
		len -= n;
	}
	h->filling = 0;
	if (len) {
		cut_message(c, f, d, RP_XF_GAP, ts);
		try_emit(c, f);
		lose_place(c, f, d, 1);
	}
	return 1;
}

void rp_conv_event(struct rp_capture *c, struct flow *f, int d, const struct rp_tcp_event *ev)
{
	struct half *h = &f->conv.h[d];
	if (f->app >= APP_H2) {
		if (ev->type == RP_TCP_EV_DATA) {
			if (f->app == APP_H2)
				c->st.h2_bytes_skipped += ev->data.n;
			else
				c->st.other_bytes_skipped += ev->data.n;
		}
		return;
	}
	switch (ev->type) {
	case RP_TCP_EV_DATA:
		feed(c, f, d, ev->data, ev->ts);
		break;
	case RP_TCP_EV_GAP:
		if (h->ended)
			break;
		if (gap_in_body(c, f, d, ev->len, ev->ts))
			break;
		if (d == 0)
			salvage_request_line(c, f, ev->ts);
		uncharge(c, h, rp_buf_len(&h->carry));
		rp_buf_clear(&h->carry);
		cut_message(c, f, d, RP_XF_GAP, ev->ts);
		if (d == 1)
			f->conv.resp_gap = 1;
		try_emit(c, f);
		lose_place(c, f, d, 1);
		break;
	case RP_TCP_EV_OVERLAP:
		/* Two versions of the same bytes: whoever reads the stream may
		 * see another message than the one recorded. */
		if (h->cur)
			h->cur->x->flags |= RP_XF_ANOMALY;
		else
			h->pending_flags |= RP_XF_ANOMALY;
		break;
	case RP_TCP_EV_FIN:
	case RP_TCP_EV_RST:
		half_end(c, f, d, ev->ts);
		break;
	}
}

void rp_conv_end(struct rp_capture *c, struct flow *f)
{
	struct conv *cv = &f->conv;
	int64_t ts = f->last_ts;
	for (int d = 0; d < 2; d++)
		half_end(c, f, d, ts);
	for (struct pending *p = cv->head; p; p = p->next)
		close_pending(c, cv, p);
	try_emit(c, f);
}

void rp_conv_dispose(struct rp_capture *c, struct flow *f)
{
	struct conv *cv = &f->conv;
	for (int d = 0; d < 2; d++) {
		struct half *h = &cv->h[d];
		c->mem.used -= h->charged;
		h->charged = 0;
		h->direct = NULL; /* it lived in an exchange's pool */
		h->dlen = h->dcap = 0;
		rp_buf_dispose(&h->carry);
		rp_buf_dispose(&h->body);
	}
	while (cv->head) { /* only when freed without rp_conv_end */
		struct pending *p = cv->head;
		cv->head = p->next;
		c->mem.used -= p->held;
		rp_exchange_free(p->x);
	}
	cv->tail = NULL;
	cv->n = 0;
}
