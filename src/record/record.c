/*
 * record: the binary encoding of an exchange (record.h), the bytes the store
 * keeps for every recorded exchange.  It sits between the mask stage and the
 * LMDB writer on the way in, and between the store and every reader (ls,
 * show, export, replay) on the way out.  Pure: no I/O, no logging, no globals.
 *
 * Encoding runs once per recorded exchange, so it sizes the whole record
 * first, reserves it in one step and writes straight into the buffer.
 * Decoding is zero copy: every slice of the decoded exchange (method, header
 * names and values, bodies ...) points into the input, and only the header
 * tables are allocated, in the exchange's pool.  Absent fields decode to
 * zero, and absent slices to an empty slice whose pointer is never NULL.
 *
 * Invariants: the decoder never reads outside |in| and holds no more memory
 * than RP_LIMIT_RECORD_FIELDS header slots per list; every length is checked
 * against the bytes that remain before it is used, varints are at most 10
 * bytes, and any inconsistency yields RP_E_FORMAT with a static |why| naming
 * the field ("truncated header value").  Whatever the encoder writes, the
 * decoder reads back identically (tests/unit/record, tests/fuzz).
 *
 * Field numbers (a storage format: never renumber or reuse a number; a new
 * field takes a new number and bumps RP_RECORD_MINOR; wire types: 0 varint,
 * 1 fixed64 little-endian, 2 bytes, 3 group = length-delimited fields):
 *
 *   record = "RPX1" major:u8 minor:u8 field* end
 *    1 id            varint   exchange id
 *    2 conn_id       varint
 *    3 stream_id     varint   <= 2^32-1
 *    4 conn_seq      varint   <= 2^32-1
 *    5 proto         varint   values this reader does not know decode as 0
 *    6 flags         varint   <= 2^32-1, unknown bits kept
 *    7 client        group    endpoint
 *    8 server        group    endpoint
 *    9 req_start     fixed64  int64 ns since the epoch
 *   10 req_end       fixed64
 *   11 resp_start    fixed64
 *   12 resp_end      fixed64
 *   13 request       group
 *   14 response      group
 *   15 end           varint   must be the last field; its value is the offset
 *                             of its own tag from the start of the record, so
 *                             a record cut at a field boundary is refused
 *
 *   endpoint:  1 family varint (<= 255)   2 addr bytes (4 or 16)
 *              3 port varint (<= 65535)
 *   request:   1 method bytes   2 scheme bytes   3 authority bytes
 *              4 target bytes   + message fields 8..14
 *   response:  1 status varint (<= 65535)   2 reason bytes
 *              + message fields 8..14
 *   message:   8 header group (repeated, in order)
 *              9 trailer group (repeated, in order)
 *             10 body bytes (inline)
 *             11 body_ref group (instead of 10)
 *             12 encoding bytes   13 wire_len varint   14 orig_len varint
 *   header, trailer:  1 name bytes   2 value bytes
 *   body_ref:  1 digest bytes (exactly 32)   2 len varint
 *
 * Zero-valued scalars and empty slices are not written; header names and
 * values always are.  A field seen twice keeps its last value, except headers
 * and trailers, which accumulate, and the request and response groups, which
 * may appear once each.  Readers skip fields they do not know, at
 * every level, whatever their wire type.
 */
#include "config.h"

#include <stdlib.h>

#include "reprise/limits.h"
#include "reprise/record.h"

#define WT_VARINT 0
#define WT_FIXED64 1
#define WT_BYTES 2
#define WT_GROUP 3

/* top level */
#define F_ID 1
#define F_CONN_ID 2
#define F_STREAM_ID 3
#define F_CONN_SEQ 4
#define F_PROTO 5
#define F_FLAGS 6
#define F_CLIENT 7
#define F_SERVER 8
#define F_REQ_START 9
#define F_REQ_END 10
#define F_RESP_START 11
#define F_RESP_END 12
#define F_REQUEST 13
#define F_RESPONSE 14
#define F_END 15
/* endpoint */
#define EP_FAMILY 1
#define EP_ADDR 2
#define EP_PORT 3
/* request / response */
#define RQ_METHOD 1
#define RQ_SCHEME 2
#define RQ_AUTHORITY 3
#define RQ_TARGET 4
#define RS_STATUS 1
#define RS_REASON 2
/* message, inside request and response */
#define M_HEADER 8
#define M_TRAILER 9
#define M_BODY 10
#define M_BODY_REF 11
#define M_ENCODING 12
#define M_WIRE_LEN 13
#define M_ORIG_LEN 14
/* header, trailer */
#define H_NAME 1
#define H_VALUE 2
/* body reference */
#define R_DIGEST 1
#define R_LEN 2

#define MAGIC "RPX1"
#define HEAD_LEN 6 /* magic, major, minor */

/* Every field number in use is below 16, so every tag is one byte. */
#define TAG(num, wt) ((uint8_t)((num) << 3 | (wt)))

static const uint8_t empty_bytes[1];
#define EMPTY ((struct rp_slice){empty_bytes, 0})

/* ---- encoding ------------------------------------------------------------ */

static inline size_t vsize(uint64_t v)
{
	return (size_t)(64 - __builtin_clzll(v | 1) + 6) / 7;
}

/* Size of a one-byte tag, a length and |n| bytes (bytes or group). */
static inline size_t ld_size(size_t n)
{
	return 1 + vsize(n) + n;
}

static inline size_t opt_bytes_size(struct rp_slice s)
{
	return s.n ? ld_size(s.n) : 0;
}

static inline size_t opt_varint_size(uint64_t v)
{
	return v ? 1 + vsize(v) : 0;
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *put_ld_head(uint8_t *p, unsigned num, unsigned wt, size_t n)
{
	*p++ = TAG(num, wt);
	return put_varint(p, n);
}

static inline uint8_t *put_bytes(uint8_t *p, unsigned num, struct rp_slice s)
{
	p = put_ld_head(p, num, WT_BYTES, s.n);
	if (s.n)
		memcpy(p, s.p, s.n);
	return p + s.n;
}

static inline uint8_t *put_opt_bytes(uint8_t *p, unsigned num, struct rp_slice s)
{
	return s.n ? put_bytes(p, num, s) : p;
}

static inline uint8_t *put_opt_varint(uint8_t *p, unsigned num, uint64_t v)
{
	if (!v)
		return p;
	*p++ = TAG(num, WT_VARINT);
	return put_varint(p, v);
}

static inline uint8_t *put_opt_fixed64(uint8_t *p, unsigned num, int64_t sv)
{
	if (!sv)
		return p;
	uint64_t v = (uint64_t)sv;
	*p++ = TAG(num, WT_FIXED64);
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 8;
}

/* Address bytes written for |e|: 4 for IPv4, none for an unknown, all-zero
 * endpoint, 16 otherwise (so nothing the caller set is lost). */
static size_t ep_addr_len(const struct rp_endpoint *e)
{
	if (e->family == 4)
		return 4;
	if (e->family == 0) {
		for (size_t i = 0; i < sizeof(e->addr); i++)
			if (e->addr[i])
				return sizeof(e->addr);
		return 0;
	}
	return sizeof(e->addr);
}

static size_t ep_inner(const struct rp_endpoint *e)
{
	size_t a = ep_addr_len(e);
	return opt_varint_size(e->family) + (a ? ld_size(a) : 0) + opt_varint_size(e->port);
}

static uint8_t *put_endpoint(uint8_t *p, unsigned num, const struct rp_endpoint *e)
{
	size_t inner = ep_inner(e);
	if (!inner)
		return p;
	p = put_ld_head(p, num, WT_GROUP, inner);
	p = put_opt_varint(p, EP_FAMILY, e->family);
	size_t a = ep_addr_len(e);
	if (a)
		p = put_bytes(p, EP_ADDR, rp_slice(e->addr, a));
	return put_opt_varint(p, EP_PORT, e->port);
}

static inline size_t hdr_inner(const struct rp_header *h)
{
	return ld_size(h->name.n) + ld_size(h->value.n);
}

/* Encoded size of a header list; sets |*bad| when it cannot be encoded (too
 * many entries, or a slice longer than a record may be). */
static size_t list_size(const struct rp_headers *l, int *bad)
{
	size_t n = 0;
	if (l->n > RP_LIMIT_RECORD_FIELDS)
		*bad = 1;
	for (size_t i = 0; i < l->n; i++) {
		const struct rp_header *h = &l->v[i];
		if (h->name.n > RP_LIMIT_RECORD || h->value.n > RP_LIMIT_RECORD) {
			*bad = 1;
			return 0;
		}
		n += ld_size(hdr_inner(h));
	}
	return n;
}

static uint8_t *put_list(uint8_t *p, unsigned num, const struct rp_headers *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct rp_header *h = &l->v[i];
		p = put_ld_head(p, num, WT_GROUP, hdr_inner(h));
		p = put_bytes(p, H_NAME, h->name);
		p = put_bytes(p, H_VALUE, h->value);
	}
	return p;
}

static inline size_t ref_inner(const struct rp_record_body_ref *r)
{
	return ld_size(RP_DIGEST_LEN) + opt_varint_size(r->len);
}

/* Size of the message fields (8..14) of |m|. */
static size_t msg_size(const struct rp_message *m, const struct rp_record_body_ref *ref, int *bad)
{
	if (m->body.n > RP_LIMIT_RECORD || m->encoding.n > RP_LIMIT_RECORD) {
		*bad = 1;
		return 0;
	}
	size_t n = list_size(&m->headers, bad) + list_size(&m->trailers, bad);
	if (ref)
		n += ld_size(ref_inner(ref));
	else
		n += opt_bytes_size(m->body);
	return n + opt_bytes_size(m->encoding) + opt_varint_size(m->wire_len) +
	       opt_varint_size(m->orig_len);
}

static uint8_t *put_msg(uint8_t *p, const struct rp_message *m, const struct rp_record_body_ref *ref)
{
	p = put_list(p, M_HEADER, &m->headers);
	p = put_list(p, M_TRAILER, &m->trailers);
	if (ref) {
		p = put_ld_head(p, M_BODY_REF, WT_GROUP, ref_inner(ref));
		p = put_bytes(p, R_DIGEST, rp_slice(ref->digest, RP_DIGEST_LEN));
		p = put_opt_varint(p, R_LEN, ref->len);
	} else {
		p = put_opt_bytes(p, M_BODY, m->body);
	}
	p = put_opt_bytes(p, M_ENCODING, m->encoding);
	p = put_opt_varint(p, M_WIRE_LEN, m->wire_len);
	return put_opt_varint(p, M_ORIG_LEN, m->orig_len);
}

static int slices_too_long(const struct rp_slice *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].n > RP_LIMIT_RECORD)
			return 1;
	return 0;
}

int rp_record_encode(const struct rp_exchange *x, const struct rp_record_opts *opts,
		     struct rp_buf *out)
{
	const struct rp_record_body_ref *qref = opts ? opts->refs[RP_BODY_REQ] : NULL;
	const struct rp_record_body_ref *sref = opts ? opts->refs[RP_BODY_RESP] : NULL;
	const struct rp_request *rq = &x->req;
	const struct rp_response *rs = &x->resp;
	const struct rp_slice short_slices[] = {rq->method, rq->scheme, rq->authority, rq->target,
						rs->reason};
	int bad = slices_too_long(short_slices, RP_ARRAY_LEN(short_slices));

	/* Size everything first: one reserve, then straight writes. */
	size_t req_inner = opt_bytes_size(rq->method) + opt_bytes_size(rq->scheme) +
			   opt_bytes_size(rq->authority) + opt_bytes_size(rq->target) +
			   msg_size(&rq->m, qref, &bad);
	size_t resp_inner = opt_varint_size(rs->status) + opt_bytes_size(rs->reason) +
			    msg_size(&rs->m, sref, &bad);
	size_t client = ep_inner(&x->client), server = ep_inner(&x->server);
	size_t body = HEAD_LEN + opt_varint_size(x->id) + opt_varint_size(x->conn_id) +
		      opt_varint_size(x->stream_id) + opt_varint_size(x->conn_seq) +
		      opt_varint_size((uint32_t)x->proto) + opt_varint_size(x->flags) +
		      (client ? ld_size(client) : 0) + (server ? ld_size(server) : 0) +
		      (x->t.req_start ? 9 : 0) + (x->t.req_end ? 9 : 0) +
		      (x->t.resp_start ? 9 : 0) + (x->t.resp_end ? 9 : 0) + ld_size(req_inner) +
		      ld_size(resp_inner);
	size_t total = body + 1 + vsize(body);
	if (bad || total > RP_LIMIT_RECORD)
		return RP_E_LIMIT;
	int rc = rp_buf_reserve(out, total);
	if (rc)
		return rc;

	uint8_t *start = out->base + out->wr, *p = start;
	memcpy(p, MAGIC, 4);
	p[4] = RP_RECORD_MAJOR;
	p[5] = RP_RECORD_MINOR;
	p += HEAD_LEN;
	p = put_opt_varint(p, F_ID, x->id);
	p = put_opt_varint(p, F_CONN_ID, x->conn_id);
	p = put_opt_varint(p, F_STREAM_ID, x->stream_id);
	p = put_opt_varint(p, F_CONN_SEQ, x->conn_seq);
	p = put_opt_varint(p, F_PROTO, (uint32_t)x->proto);
	p = put_opt_varint(p, F_FLAGS, x->flags);
	p = put_endpoint(p, F_CLIENT, &x->client);
	p = put_endpoint(p, F_SERVER, &x->server);
	p = put_opt_fixed64(p, F_REQ_START, x->t.req_start);
	p = put_opt_fixed64(p, F_REQ_END, x->t.req_end);
	p = put_opt_fixed64(p, F_RESP_START, x->t.resp_start);
	p = put_opt_fixed64(p, F_RESP_END, x->t.resp_end);

	p = put_ld_head(p, F_REQUEST, WT_GROUP, req_inner);
	p = put_opt_bytes(p, RQ_METHOD, rq->method);
	p = put_opt_bytes(p, RQ_SCHEME, rq->scheme);
	p = put_opt_bytes(p, RQ_AUTHORITY, rq->authority);
	p = put_opt_bytes(p, RQ_TARGET, rq->target);
	p = put_msg(p, &rq->m, qref);

	p = put_ld_head(p, F_RESPONSE, WT_GROUP, resp_inner);
	p = put_opt_varint(p, RS_STATUS, rs->status);
	p = put_opt_bytes(p, RS_REASON, rs->reason);
	p = put_msg(p, &rs->m, sref);

	*p++ = TAG(F_END, WT_VARINT);
	p = put_varint(p, body);
	if ((size_t)(p - start) != total) /* a sizing bug must not go unnoticed */
		abort();
	rp_buf_commit(out, total);
	return 0;
}

/* ---- decoding ------------------------------------------------------------ */

/* What a reader knows about one field number of a group: its wire type and
 * the static messages naming it. */
struct fdesc {
	uint8_t wt;
	const char *trunc; /* the value runs past the end of the input */
	const char *wrong; /* wire type does not match */
	const char *range; /* value out of range */
};

#define STR_(x) #x
#define STR(x) STR_(x)
#define FD(num, type, name)                                                                 \
	[num] = {type, "truncated " name,                                                   \
		 "field " STR(num) " (" name ") has wrong wire type", name " out of range"}

static const struct fdesc unknown_field = {0xff, "truncated unknown field",
					   "unknown field has an invalid wire type", NULL};

static const struct fdesc top_fields[] = {
	FD(F_ID, WT_VARINT, "exchange id"),
	FD(F_CONN_ID, WT_VARINT, "connection id"),
	FD(F_STREAM_ID, WT_VARINT, "stream id"),
	FD(F_CONN_SEQ, WT_VARINT, "connection sequence"),
	FD(F_PROTO, WT_VARINT, "protocol"),
	FD(F_FLAGS, WT_VARINT, "flags"),
	FD(F_CLIENT, WT_GROUP, "client endpoint"),
	FD(F_SERVER, WT_GROUP, "server endpoint"),
	FD(F_REQ_START, WT_FIXED64, "request start time"),
	FD(F_REQ_END, WT_FIXED64, "request end time"),
	FD(F_RESP_START, WT_FIXED64, "response start time"),
	FD(F_RESP_END, WT_FIXED64, "response end time"),
	FD(F_REQUEST, WT_GROUP, "request"),
	FD(F_RESPONSE, WT_GROUP, "response"),
	FD(F_END, WT_VARINT, "end marker"),
};

static const struct fdesc ep_fields[] = {
	FD(EP_FAMILY, WT_VARINT, "endpoint address family"),
	FD(EP_ADDR, WT_BYTES, "endpoint address"),
	FD(EP_PORT, WT_VARINT, "endpoint port"),
};

#define MSG_FIELDS(who)                                                                     \
	FD(M_HEADER, WT_GROUP, who " header"), FD(M_TRAILER, WT_GROUP, who " trailer"),      \
		FD(M_BODY, WT_BYTES, who " body"),                                          \
		FD(M_BODY_REF, WT_GROUP, who " body reference"),                            \
		FD(M_ENCODING, WT_BYTES, who " content encoding"),                          \
		FD(M_WIRE_LEN, WT_VARINT, who " wire length"),                              \
		FD(M_ORIG_LEN, WT_VARINT, who " original length")

static const struct fdesc req_fields[] = {
	FD(RQ_METHOD, WT_BYTES, "request method"),
	FD(RQ_SCHEME, WT_BYTES, "request scheme"),
	FD(RQ_AUTHORITY, WT_BYTES, "request authority"),
	FD(RQ_TARGET, WT_BYTES, "request target"),
	MSG_FIELDS("request"),
};

static const struct fdesc resp_fields[] = {
	FD(RS_STATUS, WT_VARINT, "response status"),
	FD(RS_REASON, WT_BYTES, "response reason"),
	MSG_FIELDS("response"),
};

static const struct fdesc hdr_fields[] = {
	FD(H_NAME, WT_BYTES, "header name"),
	FD(H_VALUE, WT_BYTES, "header value"),
};

static const struct fdesc trl_fields[] = {
	FD(H_NAME, WT_BYTES, "trailer name"),
	FD(H_VALUE, WT_BYTES, "trailer value"),
};

static const struct fdesc ref_fields[] = {
	FD(R_DIGEST, WT_BYTES, "body reference digest"),
	FD(R_LEN, WT_VARINT, "body reference length"),
};

/* A group's fields, as a table indexed by field number. */
struct group {
	const struct fdesc *f;
	size_t n;
};
#define GROUP(t) ((struct group){t, RP_ARRAY_LEN(t)})

/* The bytes not yet read. */
struct cur {
	const uint8_t *p, *end;
};

struct field {
	uint64_t num;
	unsigned wt;
	uint64_t u;        /* varint or fixed64 value */
	struct rp_slice s; /* bytes or group value; when |cut|, the part present */
	int cut;           /* a group whose length runs past the input */
	const struct fdesc *d;
};

enum { V_OK = 0, V_TRUNC = 1, V_LONG = 2 };

static int get_varint_slow(struct cur *c, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 10; i++) {
		if (c->p == c->end)
			return V_TRUNC;
		uint8_t b = *c->p++;
		/* the tenth byte carries bit 63 only */
		if (i == 9 && b > 1)
			return V_LONG;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*out = v;
			return V_OK;
		}
	}
	return V_LONG;
}

/* Tags and most lengths fit in one byte: keep that case inline. */
static inline int get_varint(struct cur *c, uint64_t *out)
{
	if (RP_LIKELY(c->p < c->end && *c->p < 0x80)) {
		*out = *c->p++;
		return V_OK;
	}
	return get_varint_slow(c, out);
}

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return RP_E_FORMAT;
}

/* Reads the next field of |c|, described by |g| when |g| knows its number.
 * A bytes value must be whole; a group value may be cut (|f->cut|), so that
 * the caller can look inside it and name the innermost truncated field. */
static int next_field(struct cur *c, struct group g, struct field *f, const char **why)
{
	uint64_t tag;
	int v = get_varint(c, &tag);
	if (v)
		return fail(why, v == V_TRUNC ? "truncated field tag" : "field tag overflows 64 bits");
	f->num = tag >> 3;
	f->wt = (unsigned)(tag & 7);
	f->cut = 0;
	if (f->num == 0)
		return fail(why, "field number 0");
	f->d = f->num < g.n && g.f[f->num].trunc ? &g.f[f->num] : &unknown_field;
	if (f->wt > WT_GROUP || (f->d != &unknown_field && f->wt != f->d->wt))
		return fail(why, f->d->wrong);
	switch (f->wt) {
	case WT_VARINT:
		v = get_varint(c, &f->u);
		if (v)
			return fail(why, v == V_TRUNC ? f->d->trunc : "varint overflows 64 bits");
		return 0;
	case WT_FIXED64:
		if (c->end - c->p < 8)
			return fail(why, f->d->trunc);
		f->u = 0;
		for (int i = 0; i < 8; i++)
			f->u |= (uint64_t)c->p[i] << (8 * i);
		c->p += 8;
		return 0;
	default: {
		uint64_t len;
		v = get_varint(c, &len);
		if (v)
			return fail(why, v == V_TRUNC ? f->d->trunc : "length overflows 64 bits");
		size_t left = (size_t)(c->end - c->p);
		if (len > left) {
			if (f->wt == WT_BYTES)
				return fail(why, f->d->trunc);
			f->cut = 1;
			len = left;
		}
		f->s = rp_slice(c->p, (size_t)len);
		c->p += len;
		return 0;
	}
	}
}

static inline struct cur cur_of(struct rp_slice s)
{
	return (struct cur){s.p, s.p + s.n};
}

/* Each group decoder below takes the bytes of its group.  When the group ran
 * past the input (|cut|, for those that check the group as a whole), it
 * decodes what is there and reports the first problem inside, or succeeds,
 * skipping the whole-group checks, and lets the caller report the group as
 * truncated. */

static int dec_endpoint(struct rp_slice s, struct rp_endpoint *e, const char **why)
{
	struct cur c = cur_of(s);
	struct field f;
	memset(e, 0, sizeof(*e));
	while (c.p < c.end) {
		int rc = next_field(&c, GROUP(ep_fields), &f, why);
		if (rc)
			return rc;
		switch (f.num) {
		case EP_FAMILY:
			if (f.u > UINT8_MAX)
				return fail(why, f.d->range);
			e->family = (uint8_t)f.u;
			break;
		case EP_ADDR:
			if (f.s.n != 4 && f.s.n != 16)
				return fail(why, "endpoint address is neither 4 nor 16 bytes");
			memset(e->addr, 0, sizeof(e->addr));
			memcpy(e->addr, f.s.p, f.s.n);
			break;
		case EP_PORT:
			if (f.u > UINT16_MAX)
				return fail(why, f.d->range);
			e->port = (uint16_t)f.u;
			break;
		}
	}
	return 0;
}

static int dec_header(struct rp_slice s, struct group g, struct rp_header *h, const char **why)
{
	struct cur c = cur_of(s);
	struct field f;
	/* Fast path: exactly what the encoder writes for short names and values
	 * (name tag, 1-byte length, name, value tag, 1-byte length, value). */
	const uint8_t *p = s.p;
	if (s.n >= 4 && p[0] == TAG(H_NAME, WT_BYTES) && p[1] < 0x80 && (size_t)p[1] + 4 <= s.n &&
	    p[2 + p[1]] == TAG(H_VALUE, WT_BYTES) && p[3 + p[1]] < 0x80 &&
	    (size_t)p[1] + 4 + p[3 + p[1]] == s.n) {
		h->name = rp_slice(p + 2, p[1]);
		h->value = rp_slice(p + 4 + p[1], p[3 + p[1]]);
		return 0;
	}
	h->name = h->value = EMPTY;
	while (c.p < c.end) {
		int rc = next_field(&c, g, &f, why);
		if (rc)
			return rc;
		if (f.num == H_NAME)
			h->name = f.s;
		else if (f.num == H_VALUE)
			h->value = f.s;
	}
	return 0;
}

static int dec_ref(struct rp_slice s, int cut, struct rp_record_body_ref *r, const char **why)
{
	struct cur c = cur_of(s);
	struct field f;
	memset(r, 0, sizeof(*r));
	while (c.p < c.end) {
		int rc = next_field(&c, GROUP(ref_fields), &f, why);
		if (rc)
			return rc;
		if (f.num == R_DIGEST) {
			if (f.s.n != RP_DIGEST_LEN)
				return fail(why, "body reference digest is not 32 bytes");
			memcpy(r->digest, f.s.p, RP_DIGEST_LEN);
			r->present = 1;
		} else if (f.num == R_LEN) {
			r->len = f.u;
		}
	}
	if (!cut && !r->present)
		return fail(why, "body reference without digest");
	return 0;
}

/* Counts the headers and trailers of a request or response group, so that
 * their tables are allocated once and exactly.  Stops quietly at the first
 * malformed field: the decoding pass finds and reports it. */
static void count_lists(struct rp_slice s, struct group g, size_t *nh, size_t *nt)
{
	struct cur c = cur_of(s);
	struct field f;
	const char *ignored;
	*nh = *nt = 0;
	while (c.p < c.end && next_field(&c, g, &f, &ignored) == 0) {
		if (f.num == M_HEADER)
			(*nh)++;
		else if (f.num == M_TRAILER)
			(*nt)++;
	}
}

static void alloc_list(struct rp_headers *l, size_t n, struct rp_pool *pool)
{
	l->n = 0;
	l->cap = n;
	l->v = n ? rp_pool_alloc(pool, n * sizeof(*l->v)) : NULL;
}

/* Decodes a request (|resp| 0) or response (|resp| 1) group. */
static int dec_half(struct rp_slice s, int cut, int resp, struct rp_exchange *x,
		    struct rp_record_body_ref *ref, const char **why)
{
	struct group g = resp ? GROUP(resp_fields) : GROUP(req_fields);
	struct rp_message *m = resp ? &x->resp.m : &x->req.m;
	struct cur c = cur_of(s);
	struct field f;
	int has_body = 0;
	size_t nh, nt;

	count_lists(s, g, &nh, &nt);
	if (nh > RP_LIMIT_RECORD_FIELDS)
		return fail(why, resp ? "too many response headers" : "too many request headers");
	if (nt > RP_LIMIT_RECORD_FIELDS)
		return fail(why, resp ? "too many response trailers" : "too many request trailers");
	alloc_list(&m->headers, nh, x->pool);
	alloc_list(&m->trailers, nt, x->pool);
	memset(ref, 0, sizeof(*ref));

	while (c.p < c.end) {
		int rc = next_field(&c, g, &f, why);
		if (rc)
			return rc;
		switch (f.num) {
		case M_HEADER:
		case M_TRAILER: {
			struct rp_headers *l = f.num == M_HEADER ? &m->headers : &m->trailers;
			if (l->n == l->cap) /* the counting pass saw fewer: cannot happen */
				return fail(why, f.d->range);
			rc = dec_header(f.s, f.num == M_HEADER ? GROUP(hdr_fields) : GROUP(trl_fields),
					&l->v[l->n], why);
			l->n++;
			break;
		}
		case M_BODY:
			m->body = f.s;
			has_body = 1;
			break;
		case M_BODY_REF:
			rc = dec_ref(f.s, f.cut, ref, why);
			break;
		case M_ENCODING:
			m->encoding = f.s;
			break;
		case M_WIRE_LEN:
			m->wire_len = f.u;
			break;
		case M_ORIG_LEN:
			m->orig_len = f.u;
			break;
		case 1: /* RQ_METHOD, RS_STATUS */
			if (!resp) {
				x->req.method = f.s;
			} else if (f.u > UINT16_MAX) {
				return fail(why, f.d->range);
			} else {
				x->resp.status = (uint16_t)f.u;
			}
			break;
		case 2: /* RQ_SCHEME, RS_REASON */
			if (resp)
				x->resp.reason = f.s;
			else
				x->req.scheme = f.s;
			break;
		case RQ_AUTHORITY: /* unknown (skipped) in a response */
			if (!resp)
				x->req.authority = f.s;
			break;
		case RQ_TARGET:
			if (!resp)
				x->req.target = f.s;
			break;
		}
		if (rc)
			return rc;
		if (f.cut)
			return fail(why, f.d->trunc);
	}
	if (!cut && has_body && ref->present)
		return fail(why, resp ? "response has both a body and a body reference"
				      : "request has both a body and a body reference");
	return 0;
}

static int get_u32(const struct field *f, uint32_t *out, const char **why)
{
	if (f->u > UINT32_MAX)
		return fail(why, f->d->range);
	*out = (uint32_t)f->u;
	return 0;
}

static void reset(struct rp_exchange *x, struct rp_record_body_ref refs[2])
{
	struct rp_pool *pool = x->pool;
	memset(x, 0, sizeof(*x));
	x->pool = pool;
	x->req.method = x->req.scheme = x->req.authority = x->req.target = EMPTY;
	x->req.m.body = x->req.m.encoding = EMPTY;
	x->resp.reason = x->resp.m.body = x->resp.m.encoding = EMPTY;
	if (refs)
		memset(refs, 0, 2 * sizeof(refs[0]));
}

int rp_record_version(struct rp_slice in, unsigned *major, unsigned *minor)
{
	if (in.n < HEAD_LEN || memcmp(in.p, MAGIC, 4) != 0)
		return RP_E_FORMAT;
	*major = in.p[4];
	*minor = in.p[5];
	return 0;
}

static int decode(struct rp_slice in, struct rp_exchange *x, struct rp_record_body_ref refs[2],
		  const char **why)
{
	if (in.n == 0)
		return fail(why, "empty record");
	if (memcmp(in.p, MAGIC, RP_MIN(in.n, (size_t)4)) != 0)
		return fail(why, "not a reprise record (bad magic)");
	if (in.n < HEAD_LEN)
		return fail(why, "truncated record header");
	if (in.p[4] > RP_RECORD_MAJOR) {
		*why = "record written by a newer major version";
		return RP_E_VERSION;
	}
	if (in.p[4] == 0)
		return fail(why, "record major version 0");
	if (in.n > RP_LIMIT_RECORD)
		return fail(why, "record larger than the record limit");
	if (!x->pool)
		return fail(why, "exchange has no pool");

	struct cur c = {in.p + HEAD_LEN, in.p + in.n};
	struct field f;
	struct rp_record_body_ref ref[2];
	int seen_req = 0, seen_resp = 0;
	while (c.p < c.end) {
		size_t at = (size_t)(c.p - in.p);
		int rc = next_field(&c, GROUP(top_fields), &f, why);
		if (rc)
			return rc;
		switch (f.num) {
		case F_ID:
			x->id = f.u;
			break;
		case F_CONN_ID:
			x->conn_id = f.u;
			break;
		case F_STREAM_ID:
			rc = get_u32(&f, &x->stream_id, why);
			break;
		case F_CONN_SEQ:
			rc = get_u32(&f, &x->conn_seq, why);
			break;
		case F_FLAGS:
			rc = get_u32(&f, &x->flags, why);
			break;
		case F_PROTO:
			/* a newer minor may name protocols we do not know */
			x->proto = f.u <= RP_PROTO_H2C ? (enum rp_proto)f.u : RP_PROTO_UNKNOWN;
			break;
		case F_CLIENT:
		case F_SERVER:
			rc = dec_endpoint(f.s, f.num == F_CLIENT ? &x->client : &x->server, why);
			break;
		case F_REQ_START:
			x->t.req_start = (int64_t)f.u;
			break;
		case F_REQ_END:
			x->t.req_end = (int64_t)f.u;
			break;
		case F_RESP_START:
			x->t.resp_start = (int64_t)f.u;
			break;
		case F_RESP_END:
			x->t.resp_end = (int64_t)f.u;
			break;
		case F_REQUEST:
			if (seen_req++)
				return fail(why, "duplicate request");
			rc = dec_half(f.s, f.cut, 0, x, &ref[RP_BODY_REQ], why);
			if (rc == 0 && refs)
				refs[RP_BODY_REQ] = ref[RP_BODY_REQ];
			break;
		case F_RESPONSE:
			if (seen_resp++)
				return fail(why, "duplicate response");
			rc = dec_half(f.s, f.cut, 1, x, &ref[RP_BODY_RESP], why);
			if (rc == 0 && refs)
				refs[RP_BODY_RESP] = ref[RP_BODY_RESP];
			break;
		case F_END:
			if (f.u != at)
				return fail(why, "end marker does not match the record length");
			if (c.p != c.end)
				return fail(why, "trailing bytes after the end of the record");
			return 0;
		}
		if (rc)
			return rc;
		if (f.cut)
			return fail(why, f.d->trunc);
	}
	return fail(why, "truncated record (no end marker)");
}

int rp_record_decode(struct rp_slice in, struct rp_exchange *x, struct rp_record_body_ref refs[2],
		     const char **why)
{
	const char *ignored;
	if (!why)
		why = &ignored;
	*why = NULL;
	reset(x, refs);
	int rc = decode(in, x, refs, why);
	if (rc)
		reset(x, refs); /* never leave a half-decoded exchange behind */
	return rc;
}
