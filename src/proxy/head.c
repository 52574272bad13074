/*
 * head: the forwarded head of a proxied message, built from the head as
 * received.  Pure (no I/O, no allocation): the proxy parses a head with the
 * HTTP/1 codec, describes its field lines with offsets, and this file marks
 * the hop-by-hop fields (RFC 9110 §7.6.1) and writes what goes on: a start
 * line of the proxy's own, the kept field lines byte for byte, the fields the
 * proxy adds (Via, X-Forwarded-For, Forwarded, Connection), the empty line.
 *
 * Invariants: kept lines are copied unchanged and in order, so names keep
 * their case and duplicates their order; the framing fields
 * (Content-Length, Transfer-Encoding) are never dropped, because the body
 * is forwarded with the framing it came with.
 */
#include "config.h"

#include "proxy-int.h"

static const struct rp_slice hop_names[] = {
	RP_SLICE_LIT("Connection"), RP_SLICE_LIT("Keep-Alive"),
	RP_SLICE_LIT("TE"),         RP_SLICE_LIT("Upgrade"),
	RP_SLICE_LIT("Proxy"),      /* httpoxy: never meant for the origin */
};

/* Fields a Connection header may not remove from a request: dropping them
 * would change its framing or its target. */
static const struct rp_slice protected_names[] = {
	RP_SLICE_LIT("Content-Length"),
	RP_SLICE_LIT("Transfer-Encoding"),
	RP_SLICE_LIT("Host"),
};

static int has_prefix_nocase(struct rp_slice s, struct rp_slice prefix)
{
	return s.n >= prefix.n && rp_slice_eq_nocase(rp_slice(s.p, prefix.n), prefix);
}

static int is_hop(struct rp_slice name)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(hop_names); i++)
		if (rp_slice_eq_nocase(name, hop_names[i]))
			return 1;
	/* Proxy-Connection, Proxy-Authorization, Proxy-Authenticate ... */
	return has_prefix_nocase(name, RP_SLICE_LIT("Proxy-"));
}

static int is_protected(struct rp_slice name)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(protected_names); i++)
		if (rp_slice_eq_nocase(name, protected_names[i]))
			return 1;
	return 0;
}

size_t rp_proxy_head_count(const struct rp_proxy_head *h, struct rp_slice name)
{
	size_t n = 0;
	for (size_t i = 0; i < h->nf; i++)
		n += rp_slice_eq_nocase(rp_proxy_field_name(h, i), name);
	return n;
}

/* Calls |fn| on each token of the comma-separated list |v|. */
static int for_each_token(struct rp_slice v, int (*fn)(struct rp_slice tok, void *arg), void *arg)
{
	size_t i = 0;
	while (i <= v.n) {
		size_t j = i;
		while (j < v.n && v.p[j] != ',')
			j++;
		struct rp_slice t = rp_slice_trim(rp_slice(v.p + i, j - i));
		if (t.n) {
			int rc = fn(t, arg);
			if (rc)
				return rc;
		}
		i = j + 1;
	}
	return 0;
}

struct mark_ctx {
	struct rp_proxy_head *h;
	int request;
};

static int mark_token(struct rp_slice tok, void *arg)
{
	struct mark_ctx *m = arg;
	if (is_protected(tok))
		return m->request ? RP_E_PROTO : 0;
	for (size_t i = 0; i < m->h->nf; i++)
		if (rp_slice_eq_nocase(rp_proxy_field_name(m->h, i), tok))
			m->h->f[i].drop = 1;
	return 0;
}

int rp_proxy_hop_mark(struct rp_proxy_head *h, int request, const char **why)
{
	struct mark_ctx m = {h, request};
	for (size_t i = 0; i < h->nf; i++) {
		struct rp_slice name = rp_proxy_field_name(h, i);
		if (!is_hop(name))
			continue;
		h->f[i].drop = 1;
		if (!rp_slice_eq_nocase(name, RP_SLICE_LIT("Connection")))
			continue;
		if (for_each_token(rp_proxy_field_value(h, i), mark_token, &m)) {
			if (why)
				*why = "Connection names a framing field or Host";
			return RP_E_PROTO;
		}
	}
	return 0;
}

size_t rp_proxy_head_size(const struct rp_proxy_head *h, const struct rp_slice *start,
			  size_t nstart, const struct rp_slice *extra, size_t nextra)
{
	size_t n = 2 + 2; /* start line's CR LF, empty line */
	for (size_t i = 0; i < nstart; i++)
		n += start[i].n;
	for (size_t i = 0; i < h->nf; i++)
		if (!h->f[i].drop)
			n += h->f[i].len;
	for (size_t i = 0; i < nextra; i++)
		n += extra[i].n + 2;
	return n;
}

void rp_proxy_head_write(const struct rp_proxy_head *h, const struct rp_slice *start,
			 size_t nstart, const struct rp_slice *extra, size_t nextra, uint8_t *out)
{
	uint8_t *p = out;
	for (size_t i = 0; i < nstart; i++) {
		if (start[i].n)
			memcpy(p, start[i].p, start[i].n);
		p += start[i].n;
	}
	*p++ = '\r';
	*p++ = '\n';
	size_t i = 0;
	while (i < h->nf) {
		if (h->f[i].drop) {
			i++;
			continue;
		}
		/* a run of kept lines that are adjacent in the input */
		size_t j = i + 1;
		while (j < h->nf && !h->f[j].drop && h->f[j].off == h->f[j - 1].off + h->f[j - 1].len)
			j++;
		size_t n = h->f[j - 1].off + h->f[j - 1].len - h->f[i].off;
		memcpy(p, h->base + h->f[i].off, n);
		p += n;
		i = j;
	}
	for (size_t k = 0; k < nextra; k++) {
		memcpy(p, extra[k].p, extra[k].n);
		p += extra[k].n;
		*p++ = '\r';
		*p++ = '\n';
	}
	*p++ = '\r';
	*p++ = '\n';
}
