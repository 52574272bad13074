/*
 * conn: the encoding of a connection record (the values of `conns`).
 *
 * Layout: "RPC" and a major version byte (1), a minor byte, then fixed
 * fields — id be64, proto u8, client and server endpoints (family u8,
 * address 16 bytes, port be16), start be64 (two's complement) — then the
 * strings tls_version, tls_cipher, alpn, sni, each be16 length and bytes.
 * A reader ignores bytes after the fields it knows, so a minor version may
 * append fields; a higher major version is refused.  Pure: no I/O.
 */
#include "config.h"

#include "store-int.h"

#define CONN_MAJOR 1
#define CONN_MINOR 0
#define CONN_STR_MAX 1024

static void put8(uint8_t **p, uint8_t v)
{
	*(*p)++ = v;
}

static void put_be(uint8_t **p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		*(*p)++ = (uint8_t)(v >> (8 * i));
}

static void put_endpoint(uint8_t **p, const struct rp_endpoint *e)
{
	put8(p, e->family);
	memcpy(*p, e->addr, sizeof(e->addr));
	*p += sizeof(e->addr);
	put_be(p, e->port, 2);
}

int rp_store_conn_encode(const struct rp_conn *c, struct rp_buf *out)
{
	const struct rp_slice strs[4] = {c->tls_version, c->tls_cipher, c->alpn, c->sni};
	size_t n = 4 + 1 + 8 + 1 + 2 * 19 + 8;
	for (int i = 0; i < 4; i++) {
		if (strs[i].n > CONN_STR_MAX)
			return RP_E_LIMIT;
		n += 2 + strs[i].n;
	}
	int rc = rp_buf_reserve(out, n);
	if (rc)
		return rc;
	uint8_t *p = out->base + out->wr;
	memcpy(p, "RPC", 3);
	p += 3;
	put8(&p, CONN_MAJOR);
	put8(&p, CONN_MINOR);
	put_be(&p, c->id, 8);
	put8(&p, (uint8_t)c->proto);
	put_endpoint(&p, &c->client);
	put_endpoint(&p, &c->server);
	put_be(&p, (uint64_t)c->start_ns, 8);
	for (int i = 0; i < 4; i++) {
		put_be(&p, strs[i].n, 2);
		if (strs[i].n)
			memcpy(p, strs[i].p, strs[i].n);
		p += strs[i].n;
	}
	rp_buf_commit(out, (size_t)(p - (out->base + out->wr)));
	return 0;
}

/* A bounded reader: every get checks what is left first. */
struct rd {
	const uint8_t *p;
	size_t n;
	int bad;
};

static uint64_t get_be(struct rd *r, int bytes)
{
	uint64_t v = 0;
	if (r->bad || r->n < (size_t)bytes) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v = v << 8 | r->p[i];
	r->p += bytes;
	r->n -= (size_t)bytes;
	return v;
}

static void get_endpoint(struct rd *r, struct rp_endpoint *e)
{
	e->family = (uint8_t)get_be(r, 1);
	if (r->bad || r->n < sizeof(e->addr)) {
		r->bad = 1;
		return;
	}
	memcpy(e->addr, r->p, sizeof(e->addr));
	r->p += sizeof(e->addr);
	r->n -= sizeof(e->addr);
	e->port = (uint16_t)get_be(r, 2);
}

static struct rp_slice get_str(struct rd *r, struct rp_pool *pool)
{
	size_t n = (size_t)get_be(r, 2);
	if (r->bad || n > r->n || n > CONN_STR_MAX) {
		r->bad = 1;
		return rp_slice("", 0);
	}
	struct rp_slice s = rp_pool_dup(pool, rp_slice(r->p, n));
	r->p += n;
	r->n -= n;
	return s;
}

static int family_ok(uint8_t f)
{
	return f == 0 || f == 4 || f == 6;
}

int rp_store_conn_decode(struct rp_slice in, struct rp_pool *pool, struct rp_conn *c)
{
	struct rd r = {in.p, in.n, 0};
	memset(c, 0, sizeof(*c));
	if (in.n < 5 || memcmp(in.p, "RPC", 3))
		return RP_E_FORMAT;
	if (in.p[3] > CONN_MAJOR)
		return RP_E_VERSION;
	r.p += 5;
	r.n -= 5;
	c->id = get_be(&r, 8);
	c->proto = (enum rp_proto)get_be(&r, 1);
	get_endpoint(&r, &c->client);
	get_endpoint(&r, &c->server);
	c->start_ns = (int64_t)get_be(&r, 8);
	c->tls_version = get_str(&r, pool);
	c->tls_cipher = get_str(&r, pool);
	c->alpn = get_str(&r, pool);
	c->sni = get_str(&r, pool);
	if (c->proto > RP_PROTO_H2C) /* a later minor version's protocol */
		c->proto = RP_PROTO_UNKNOWN;
	if (r.bad || !family_ok(c->client.family) || !family_ok(c->server.family))
		return RP_E_FORMAT;
	return 0;
}
