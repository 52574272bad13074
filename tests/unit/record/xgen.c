/*
 * xgen: random and realistic exchanges for the record tests, fuzz tools and
 * benchmark, and the field-by-field comparison they use.  Everything is
 * driven by a caller-seeded PRNG so a failure is reproduced by its seed.
 */
#include "config.h"

#include <stdio.h>

#include "xgen.h"

uint64_t xgen_next(struct xgen_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t xgen_below(struct xgen_rng *r, uint64_t n)
{
	return xgen_next(r) % n;
}

void xgen_bytes(struct xgen_rng *r, uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v = xgen_next(r);
		memcpy(p + i, &v, 8);
	}
	if (i < n) {
		uint64_t v = xgen_next(r);
		memcpy(p + i, &v, n - i);
	}
}

/* A value of random magnitude: small numbers as often as huge ones, so
 * every varint length shows up. */
static uint64_t any_u64(struct xgen_rng *r)
{
	if (xgen_below(r, 4) == 0)
		return 0;
	/* two statements: the order of the draws must not depend on the compiler */
	uint64_t v = xgen_next(r);
	return v >> xgen_below(r, 64);
}

static size_t any_len(struct xgen_rng *r, size_t small, size_t big)
{
	switch (xgen_below(r, 10)) {
	case 0:
	case 1:
		return 0;
	case 9:
		return (size_t)xgen_below(r, big + 1);
	default:
		return (size_t)xgen_below(r, small + 1);
	}
}

static struct rp_slice any_slice(struct xgen_rng *r, struct rp_pool *pool, size_t small, size_t big)
{
	size_t n = any_len(r, small, big);
	if (n == 0)
		return RP_SLICE_NULL; /* also check that NULL empties encode */
	uint8_t *p = rp_pool_alloc(pool, n);
	if (xgen_below(r, 2)) {
		xgen_bytes(r, p, n);
	} else {
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)('a' + xgen_below(r, 26));
	}
	return rp_slice(p, n);
}

static void any_endpoint(struct xgen_rng *r, struct rp_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	switch (xgen_below(r, 5)) {
	case 0:
		return; /* unknown */
	case 1:
		e->family = 4;
		xgen_bytes(r, e->addr, 4);
		break;
	case 2:
		e->family = 6;
		xgen_bytes(r, e->addr, 16);
		break;
	case 3:
		e->family = 4;
		break; /* 0.0.0.0 */
	default:
		e->family = (uint8_t)xgen_below(r, 256); /* what a corrupt caller might hold */
		if (e->family != 4)
			xgen_bytes(r, e->addr, 16);
		else
			xgen_bytes(r, e->addr, 4);
	}
	e->port = (uint16_t)(xgen_below(r, 3) ? xgen_below(r, 65536) : 0);
}

static void any_list(struct xgen_rng *r, struct rp_headers *l, struct rp_pool *pool)
{
	size_t n = xgen_below(r, 20) == 0 ? (size_t)xgen_below(r, 300) : (size_t)xgen_below(r, 30);
	for (size_t i = 0; i < n; i++) {
		struct rp_slice name = any_slice(r, pool, 24, 300);
		struct rp_slice value = any_slice(r, pool, 64, 3000);
		rp_headers_add_ref(l, pool, name, value);
	}
}

static void any_message(struct xgen_rng *r, struct rp_message *m, struct rp_pool *pool)
{
	any_list(r, &m->headers, pool);
	if (xgen_below(r, 4) == 0)
		any_list(r, &m->trailers, pool);
	m->body = any_slice(r, pool, 2000, 64 * 1024);
	m->encoding = any_slice(r, pool, 10, 40);
	m->wire_len = any_u64(r);
	m->orig_len = any_u64(r);
}

void xgen_random(struct xgen_rng *r, struct rp_exchange *x, struct rp_record_body_ref refs[2])
{
	struct rp_pool *pool = x->pool;
	x->id = any_u64(r);
	x->conn_id = any_u64(r);
	x->stream_id = (uint32_t)any_u64(r);
	x->conn_seq = (uint32_t)any_u64(r);
	x->proto = (enum rp_proto)xgen_below(r, 5);
	x->flags = (uint32_t)any_u64(r);
	any_endpoint(r, &x->client);
	any_endpoint(r, &x->server);
	x->t.req_start = (int64_t)any_u64(r);
	x->t.req_end = (int64_t)any_u64(r);
	x->t.resp_start = xgen_below(r, 8) ? (int64_t)any_u64(r) : -(int64_t)any_u64(r);
	x->t.resp_end = (int64_t)xgen_next(r);
	x->req.method = any_slice(r, pool, 10, 100);
	x->req.scheme = any_slice(r, pool, 5, 20);
	x->req.authority = any_slice(r, pool, 30, 300);
	x->req.target = any_slice(r, pool, 100, 8000);
	any_message(r, &x->req.m, pool);
	x->resp.status = (uint16_t)(xgen_below(r, 4) ? xgen_below(r, 600) : xgen_below(r, 65536));
	x->resp.reason = any_slice(r, pool, 20, 200);
	any_message(r, &x->resp.m, pool);
	if (!refs)
		return;
	for (int i = 0; i < 2; i++) {
		memset(&refs[i], 0, sizeof(refs[i]));
		if (xgen_below(r, 4) == 0) {
			refs[i].present = 1;
			xgen_bytes(r, refs[i].digest, RP_DIGEST_LEN);
			refs[i].len = any_u64(r);
		}
	}
}

static const uint8_t full_v6addr[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					0,    0,    0,    0,    0, 0, 0, 0x42};
static const uint8_t full_bin_value[] = {0x00, 0xff, 0x80, 0x0a, 0x0d, 0x7f};

/* The hand-built exchange (xgen.h): every field set, both endpoint families,
 * duplicate headers, an empty value, binary bytes, trailers. */
void xgen_full(struct rp_exchange *x)
{
	struct rp_pool *pool = x->pool;
	x->id = 42;
	x->conn_id = 300;
	x->stream_id = 5;
	x->conn_seq = 2;
	x->proto = RP_PROTO_H2;
	x->flags = RP_XF_MASKED | RP_XF_GAP;
	x->client.family = 4;
	memcpy(x->client.addr, "\x7f\x00\x00\x01", 4);
	x->client.port = 40000;
	x->server.family = 6;
	memcpy(x->server.addr, full_v6addr, 16);
	x->server.port = 443;
	x->t.req_start = 1795000000000000001LL;
	x->t.req_end = 1795000000000000002LL;
	x->t.resp_start = -5; /* before the epoch: signed survives */
	x->t.resp_end = INT64_MAX;
	x->req.method = RP_SLICE_LIT("POST");
	x->req.scheme = RP_SLICE_LIT("https");
	x->req.authority = RP_SLICE_LIT("example.com:8443");
	x->req.target = RP_SLICE_LIT("/api/v1/items?q=1");
	rp_headers_add(&x->req.m.headers, pool, RP_SLICE_LIT("Content-Type"),
		       RP_SLICE_LIT("application/json"));
	rp_headers_add(&x->req.m.headers, pool, RP_SLICE_LIT("X-Empty"), RP_SLICE_LIT(""));
	rp_headers_add(&x->req.m.headers, pool, RP_SLICE_LIT("x-dup"), RP_SLICE_LIT("HVALUE-ONE"));
	rp_headers_add(&x->req.m.headers, pool, RP_SLICE_LIT("X-Dup"),
		       rp_slice(full_bin_value, sizeof(full_bin_value)));
	rp_headers_add(&x->req.m.trailers, pool, RP_SLICE_LIT("Grpc-Status"), RP_SLICE_LIT("TVALUE0"));
	x->req.m.body = RP_SLICE_LIT("{\"name\":\"widget\"}");
	x->req.m.wire_len = 17;
	x->req.m.orig_len = 17;
	x->resp.status = 201;
	x->resp.reason = RP_SLICE_LIT("Created");
	rp_headers_add(&x->resp.m.headers, pool, RP_SLICE_LIT("Content-Encoding"),
		       RP_SLICE_LIT("gzip"));
	rp_headers_add(&x->resp.m.headers, pool, RP_SLICE_LIT("Location"), RP_SLICE_LIT("/items/7"));
	x->resp.m.body = RP_SLICE_LIT("{\"id\":7}");
	x->resp.m.encoding = RP_SLICE_LIT("gzip");
	x->resp.m.wire_len = 28;
	x->resp.m.orig_len = 8;
}

struct rp_record_opts xgen_opts(const struct rp_record_body_ref refs[2])
{
	struct rp_record_opts o = {{NULL, NULL}};
	for (int i = 0; refs && i < 2; i++)
		if (refs[i].present)
			o.refs[i] = &refs[i];
	return o;
}

static void add(struct rp_exchange *x, struct rp_headers *h, const char *name, const char *value)
{
	rp_headers_add_ref(h, x->pool, rp_slice_str(name), rp_slice_str(value));
}

void xgen_realistic(struct rp_exchange *x, size_t size)
{
	x->id = 1234567;
	x->conn_id = 98765;
	x->conn_seq = 3;
	x->proto = RP_PROTO_H11;
	x->flags = RP_XF_MASKED;
	x->client.family = 4;
	memcpy(x->client.addr, "\x0a\x00\x00\x07", 4);
	x->client.port = 51234;
	x->server.family = 4;
	memcpy(x->server.addr, "\x0a\x00\x00\x01", 4);
	x->server.port = 8080;
	x->t.req_start = 1795000000123456789LL;
	x->t.req_end = x->t.req_start + 150000;
	x->t.resp_start = x->t.req_end + 2100000;
	x->t.resp_end = x->t.resp_start + 400000;
	x->req.method = RP_SLICE_LIT("GET");
	x->req.scheme = RP_SLICE_LIT("https");
	x->req.authority = RP_SLICE_LIT("api.example.com");
	x->req.target = RP_SLICE_LIT("/v2/accounts/8812/orders?status=open&limit=50&cursor=eyJpZCI6MTIzfQ");
	struct rp_headers *h = &x->req.m.headers;
	add(x, h, "Host", "api.example.com");
	add(x, h, "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36");
	add(x, h, "Accept", "application/json, text/plain, */*");
	add(x, h, "Accept-Language", "en-US,en;q=0.9");
	add(x, h, "Accept-Encoding", "gzip, deflate, br, zstd");
	add(x, h, "Authorization", "Bearer tok_3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c");
	add(x, h, "Cookie", "session=tok_7d1e2f3a4b5c6d7e; theme=dark; _ga=GA1.2.123456789.1700000000");
	add(x, h, "Referer", "https://app.example.com/orders");
	add(x, h, "X-Request-Id", "b7e2c1a4-58d3-4f0e-9a61-2c3d4e5f6a7b");
	add(x, h, "Connection", "keep-alive");
	h = &x->resp.m.headers;
	x->resp.status = 200;
	x->resp.reason = RP_SLICE_LIT("OK");
	add(x, h, "Server", "nginx/1.22.1");
	add(x, h, "Date", "Sun, 22 Nov 2026 10:02:03 GMT");
	add(x, h, "Content-Type", "application/json; charset=utf-8");
	add(x, h, "Content-Encoding", "gzip");
	add(x, h, "Vary", "Accept-Encoding");
	add(x, h, "Cache-Control", "private, no-cache");
	add(x, h, "X-Request-Id", "b7e2c1a4-58d3-4f0e-9a61-2c3d4e5f6a7b");
	add(x, h, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
	x->resp.m.encoding = RP_SLICE_LIT("gzip");

	/* what the headers above take, roughly; the rest is JSON body */
	size_t used = 0;
	for (size_t i = 0; i < x->req.m.headers.n; i++)
		used += x->req.m.headers.v[i].name.n + x->req.m.headers.v[i].value.n + 4;
	for (size_t i = 0; i < x->resp.m.headers.n; i++)
		used += x->resp.m.headers.v[i].name.n + x->resp.m.headers.v[i].value.n + 4;
	used += x->req.target.n + 64;
	size_t body = size > used ? size - used : 16;
	char *p = rp_pool_alloc(x->pool, body + 64);
	size_t n = 0;
	n += (size_t)snprintf(p, body + 64, "{\"orders\":[");
	for (unsigned i = 0; n + 48 < body; i++)
		n += (size_t)snprintf(p + n, body + 64 - n,
				      "%s{\"id\":%u,\"total\":\"%u.%02u\",\"st\":\"open\"}",
				      i ? "," : "", 100000 + i * 7, i * 13 % 997, i % 100);
	while (n < body - 2)
		p[n++] = ' ';
	p[n++] = ']';
	p[n++] = '}';
	x->resp.m.body = rp_slice(p, n);
	x->resp.m.orig_len = n;
	x->resp.m.wire_len = n / 5;
}

static const char *diff_slice(struct rp_slice a, struct rp_slice b, const char *what, char *buf,
			      size_t buflen)
{
	if (rp_slice_eq(a, b))
		return NULL;
	size_t i = 0;
	while (i < a.n && i < b.n && a.p[i] == b.p[i])
		i++;
	snprintf(buf, buflen, "%s differs (length %zu vs %zu, first difference at %zu)", what, a.n,
		 b.n, i);
	return buf;
}

static const char *diff_list(const struct rp_headers *a, const struct rp_headers *b,
			     const char *what, char *buf, size_t buflen)
{
	if (a->n != b->n) {
		snprintf(buf, buflen, "%s: %zu entries vs %zu", what, a->n, b->n);
		return buf;
	}
	for (size_t i = 0; i < a->n; i++) {
		char label[96];
		snprintf(label, sizeof(label), "%s[%zu] name", what, i);
		const char *d = diff_slice(a->v[i].name, b->v[i].name, label, buf, buflen);
		if (d)
			return d;
		snprintf(label, sizeof(label), "%s[%zu] value", what, i);
		d = diff_slice(a->v[i].value, b->v[i].value, label, buf, buflen);
		if (d)
			return d;
	}
	return NULL;
}

static const char *diff_msg(const struct rp_message *a, const struct rp_message *b, int ref,
			    const char *who, char *buf, size_t buflen)
{
	char label[64];
	const char *d;
	snprintf(label, sizeof(label), "%s headers", who);
	if ((d = diff_list(&a->headers, &b->headers, label, buf, buflen)))
		return d;
	snprintf(label, sizeof(label), "%s trailers", who);
	if ((d = diff_list(&a->trailers, &b->trailers, label, buf, buflen)))
		return d;
	snprintf(label, sizeof(label), "%s body", who);
	if ((d = diff_slice(ref ? RP_SLICE_NULL : a->body, b->body, label, buf, buflen)))
		return d;
	snprintf(label, sizeof(label), "%s encoding", who);
	if ((d = diff_slice(a->encoding, b->encoding, label, buf, buflen)))
		return d;
	if (a->wire_len != b->wire_len || a->orig_len != b->orig_len) {
		snprintf(buf, buflen, "%s lengths differ", who);
		return buf;
	}
	return NULL;
}

static int endpoint_eq(const struct rp_endpoint *a, const struct rp_endpoint *b)
{
	size_t n = a->family == 4 ? 4 : 16; /* IPv4 keeps 4 address bytes */
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, n) == 0;
}

const char *xgen_diff(const struct rp_exchange *a, const struct rp_record_body_ref *a_refs,
		      const struct rp_exchange *b, char *buf, size_t buflen)
{
#define SCALAR(f)                                                                           \
	if (a->f != b->f) {                                                                 \
		snprintf(buf, buflen, #f " differs: %lld vs %lld", (long long)a->f,          \
			 (long long)b->f);                                                  \
		return buf;                                                                 \
	}
	SCALAR(id)
	SCALAR(conn_id)
	SCALAR(stream_id)
	SCALAR(conn_seq)
	SCALAR(proto)
	SCALAR(flags)
	SCALAR(t.req_start)
	SCALAR(t.req_end)
	SCALAR(t.resp_start)
	SCALAR(t.resp_end)
	SCALAR(resp.status)
#undef SCALAR
	if (!endpoint_eq(&a->client, &b->client))
		return snprintf(buf, buflen, "client endpoint differs"), buf;
	if (!endpoint_eq(&a->server, &b->server))
		return snprintf(buf, buflen, "server endpoint differs"), buf;
	const char *d;
	if ((d = diff_slice(a->req.method, b->req.method, "method", buf, buflen)) ||
	    (d = diff_slice(a->req.scheme, b->req.scheme, "scheme", buf, buflen)) ||
	    (d = diff_slice(a->req.authority, b->req.authority, "authority", buf, buflen)) ||
	    (d = diff_slice(a->req.target, b->req.target, "target", buf, buflen)) ||
	    (d = diff_slice(a->resp.reason, b->resp.reason, "reason", buf, buflen)))
		return d;
	int qref = a_refs && a_refs[RP_BODY_REQ].present;
	int sref = a_refs && a_refs[RP_BODY_RESP].present;
	if ((d = diff_msg(&a->req.m, &b->req.m, qref, "request", buf, buflen)) ||
	    (d = diff_msg(&a->resp.m, &b->resp.m, sref, "response", buf, buflen)))
		return d;
	return NULL;
}
