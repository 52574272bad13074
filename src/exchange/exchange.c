/*
 * exchange: constructors and helpers of the data model (exchange.h).  Header
 * tables grow inside the exchange's pool; nothing here is freed piecemeal.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "reprise/coding.h"
#include "reprise/exchange.h"

struct rp_exchange *rp_exchange_new(void)
{
	struct rp_pool *pool = rp_pool_new(0);
	struct rp_exchange *x = rp_pool_calloc(pool, sizeof(*x));
	x->pool = pool;
	return x;
}

void rp_exchange_free(struct rp_exchange *x)
{
	if (x)
		rp_pool_free(x->pool); /* |x| itself lives in its pool */
}

static const struct {
	uint32_t bit;
	const char *name;
	int incomplete;
} flag_names[] = {
	{RP_XF_REQ_TRUNCATED, "req-truncated", 1}, {RP_XF_RESP_TRUNCATED, "resp-truncated", 1},
	{RP_XF_NO_RESPONSE, "no-response", 1},     {RP_XF_GAP, "gap", 1},
	{RP_XF_ANOMALY, "anomaly", 1},             {RP_XF_UNDECODABLE, "undecodable", 1},
	{RP_XF_MASKED, "masked", 0},               {RP_XF_UPGRADE, "upgrade", 0},
	{RP_XF_CONNECT, "connect", 0},             {RP_XF_FAILED, "failed", 1},
	{RP_XF_CODING_ERROR, "coding-error", 1},   {RP_XF_NO_REQUEST, "no-request", 1},
};

const char *rp_xflags_format(uint32_t flags, char *out, size_t outlen)
{
	size_t n = 0;
	int incomplete = 0;
	out[0] = '\0';
	for (size_t i = 0; i < RP_ARRAY_LEN(flag_names); i++) {
		if (!(flags & flag_names[i].bit))
			continue;
		incomplete |= flag_names[i].incomplete;
		int m = snprintf(out + n, outlen - n, "%s%s", n ? "," : "", flag_names[i].name);
		if (m < 0 || (size_t)m >= outlen - n)
			break;
		n += (size_t)m;
	}
	if (!incomplete) {
		char rest[256];
		snprintf(rest, sizeof(rest), "%s", out);
		snprintf(out, outlen, "complete%s%s", n ? "," : "", rest);
	}
	return out;
}

static void headers_push(struct rp_headers *h, struct rp_pool *pool, struct rp_slice name,
			 struct rp_slice value)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct rp_header *v = rp_pool_alloc(pool, cap * sizeof(*v));
		if (h->n)
			memcpy(v, h->v, h->n * sizeof(*v));
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n].name = name;
	h->v[h->n].value = value;
	h->n++;
}

void rp_headers_add(struct rp_headers *h, struct rp_pool *pool, struct rp_slice name,
		    struct rp_slice value)
{
	headers_push(h, pool, rp_pool_dup(pool, name), rp_pool_dup(pool, value));
}

void rp_headers_add_ref(struct rp_headers *h, struct rp_pool *pool, struct rp_slice name,
			struct rp_slice value)
{
	headers_push(h, pool, name, value);
}

const struct rp_header *rp_headers_get(const struct rp_headers *h, struct rp_slice name)
{
	for (size_t i = 0; i < h->n; i++)
		if (rp_slice_eq_nocase(h->v[i].name, name))
			return &h->v[i];
	return NULL;
}

size_t rp_headers_del(struct rp_headers *h, struct rp_slice name)
{
	size_t j = 0, removed = 0;
	for (size_t i = 0; i < h->n; i++) {
		if (rp_slice_eq_nocase(h->v[i].name, name)) {
			removed++;
			continue;
		}
		h->v[j++] = h->v[i];
	}
	h->n = j;
	return removed;
}

static const char *const proto_names[] = {"?", "h1.0", "h1.1", "h2", "h2c"};

const char *rp_proto_name(enum rp_proto p)
{
	return (unsigned)p < RP_ARRAY_LEN(proto_names) ? proto_names[p] : "?";
}

int rp_proto_parse(struct rp_slice s, enum rp_proto *out)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(proto_names); i++)
		if (rp_slice_eq(s, rp_slice_str(proto_names[i]))) {
			*out = (enum rp_proto)i;
			return 0;
		}
	return RP_E_FORMAT;
}

void rp_endpoint_format(const struct rp_endpoint *e, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];
	if (e->family == 4 && inet_ntop(AF_INET, e->addr, a, sizeof(a)))
		snprintf(out, outlen, "%s:%u", a, e->port);
	else if (e->family == 6 && inet_ntop(AF_INET6, e->addr, a, sizeof(a)))
		snprintf(out, outlen, "[%s]:%u", a, e->port);
	else
		snprintf(out, outlen, "-");
}

int rp_endpoint_parse(const char *s, struct rp_endpoint *out)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return RP_E_FORMAT;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end + 1;
		if (inet_pton(AF_INET6, host, out->addr) != 1)
			return RP_E_FORMAT;
		out->family = 6;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return RP_E_FORMAT;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		if (inet_pton(AF_INET, host, out->addr) != 1)
			return RP_E_FORMAT;
		out->family = 4;
	}
	uint64_t port;
	if (rp_slice_to_u64(rp_slice_str(colon + 1), &port) || port > 65535)
		return RP_E_FORMAT;
	out->port = (uint16_t)port;
	return 0;
}

/* The Content-Encoding of |h|: several header lines form one list (RFC 9110
 * §5.3), joined with ", " in |pool| when there is more than one. */
static struct rp_slice content_encoding(const struct rp_headers *h, struct rp_pool *pool)
{
	static const struct rp_slice name = RP_SLICE_LIT("Content-Encoding");
	size_t lines = 0, len = 0;
	struct rp_slice one = RP_SLICE_NULL;
	for (size_t i = 0; i < h->n; i++)
		if (rp_slice_eq_nocase(h->v[i].name, name) && h->v[i].value.n) {
			one = h->v[i].value;
			len += one.n + 2;
			lines++;
		}
	if (lines <= 1)
		return one;
	uint8_t *p = rp_pool_alloc(pool, len);
	size_t n = 0;
	for (size_t i = 0; i < h->n; i++)
		if (rp_slice_eq_nocase(h->v[i].name, name) && h->v[i].value.n) {
			if (n) {
				memcpy(p + n, ", ", 2);
				n += 2;
			}
			memcpy(p + n, h->v[i].value.p, h->v[i].value.n);
			n += h->v[i].value.n;
		}
	return rp_slice(p, n);
}

int rp_message_decode_body(struct rp_message *m, struct rp_pool *pool, size_t max)
{
	m->wire_len = m->body.n;
	m->orig_len = m->body.n;
	/* HEAD, 204 and 304 answers carry the header without a body */
	if (m->body.n == 0)
		return 0;
	struct rp_slice ce = content_encoding(&m->headers, pool);
	if (ce.n == 0 || rp_slice_eq_nocase(ce, RP_SLICE_LIT("identity")))
		return 0;
	if (!rp_coding_known(ce))
		return RP_E_FORMAT;
	struct rp_buf out;
	rp_buf_init(&out, max);
	int rc = rp_coding_decode(ce, m->body, &out);
	if (rc == 0) {
		m->body = rp_pool_dup(pool, rp_buf_slice(&out));
		m->encoding = rp_pool_dup(pool, ce);
		m->orig_len = m->body.n;
	}
	rp_buf_dispose(&out);
	return rc;
}
