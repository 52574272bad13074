/*
 * har_out: exchange -> one HAR 1.2 entry.  Each entry is built as a jansson
 * tree, written and released before the next, so an export holds one
 * exchange at a time.  Every field HAR 1.2 requires is present with its type
 * (cookies, queryString, headersSize, bodySize, content.size/mimeType,
 * timings.send/wait/receive >= 0, cache); strings are always valid UTF-8
 * (header bytes outside UTF-8 are read as ISO-8859-1), bodies that are not
 * text are base64.
 */
#include "config.h"

#include <stdlib.h>
#include <time.h>

#include "har_int.h"

static void set(json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v))
		rp_oom();
}

static json_t *str(const char *s)
{
	return rp_har_json_text(rp_slice_str(s));
}

static json_t *name_value(struct rp_slice name, struct rp_slice value)
{
	json_t *o = json_object();
	set(o, "name", rp_har_json_text(name));
	set(o, "value", rp_har_json_text(value));
	return o;
}

static json_t *headers_append(json_t *a, const struct rp_headers *h)
{
	for (size_t i = 0; i < h->n; i++)
		json_array_append_new(a, name_value(h->v[i].name, h->v[i].value));
	return a;
}

static json_t *headers_json(const struct rp_headers *h)
{
	return headers_append(json_array(), h);
}

static struct rp_slice header(const struct rp_headers *h, const char *name)
{
	const struct rp_header *v = rp_headers_get(h, rp_slice_str(name));
	return v ? v->value : RP_SLICE_NULL;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Percent-decoded |s| as JSON text, or |s| as written when the decoded bytes
 * are not UTF-8. */
static json_t *url_decoded(struct rp_slice s)
{
	uint8_t *d = rp_xmalloc(s.n + 1);
	size_t o = 0;
	for (size_t i = 0; i < s.n; i++) {
		int h, l;
		if (s.p[i] == '%' && i + 2 < s.n &&
		    (h = hexval(s.p[i + 1])) >= 0 && (l = hexval(s.p[i + 2])) >= 0) {
			d[o++] = (uint8_t)(h << 4 | l);
			i += 2;
		} else {
			d[o++] = s.p[i];
		}
	}
	struct rp_slice r = rp_slice(d, o);
	json_t *j = rp_har_json_text(rp_har_utf8_valid(r) ? r : s);
	free(d);
	return j;
}

static json_t *query_json(struct rp_slice target)
{
	json_t *a = json_array();
	const uint8_t *q = memchr(target.p ? target.p : (const uint8_t *)"", '?', target.n);
	if (!q)
		return a;
	struct rp_slice s = rp_slice(q + 1, target.n - (size_t)(q + 1 - target.p));
	size_t i = 0;
	while (i < s.n) {
		size_t j = i;
		while (j < s.n && s.p[j] != '&')
			j++;
		struct rp_slice kv = rp_slice(s.p + i, j - i);
		if (kv.n) {
			const uint8_t *eq = memchr(kv.p, '=', kv.n);
			struct rp_slice k = eq ? rp_slice(kv.p, (size_t)(eq - kv.p)) : kv;
			struct rp_slice v = eq ? rp_slice(eq + 1, kv.n - k.n - 1) : RP_SLICE_NULL;
			json_t *o = json_object();
			set(o, "name", url_decoded(k));
			set(o, "value", url_decoded(v));
			json_array_append_new(a, o);
		}
		i = j + 1;
	}
	return a;
}

/* Splits |s| at the first |sep| into trimmed halves. */
static void split2(struct rp_slice s, uint8_t sep, struct rp_slice *a, struct rp_slice *b)
{
	const uint8_t *p = s.n ? memchr(s.p, sep, s.n) : NULL;
	if (!p) {
		*a = rp_slice_trim(s);
		*b = RP_SLICE_NULL;
		return;
	}
	*a = rp_slice_trim(rp_slice(s.p, (size_t)(p - s.p)));
	*b = rp_slice_trim(rp_slice(p + 1, s.n - (size_t)(p - s.p) - 1));
}

/* "name=value; other=x" from every Cookie header. */
static json_t *request_cookies(const struct rp_headers *h)
{
	json_t *a = json_array();
	for (size_t i = 0; i < h->n; i++) {
		if (!rp_slice_eq_nocase(h->v[i].name, RP_SLICE_LIT("Cookie")))
			continue;
		struct rp_slice s = h->v[i].value;
		size_t k = 0;
		while (k < s.n) {
			size_t j = k;
			while (j < s.n && s.p[j] != ';')
				j++;
			struct rp_slice name, value;
			split2(rp_slice(s.p + k, j - k), '=', &name, &value);
			if (name.n)
				json_array_append_new(a, name_value(name, value));
			k = j + 1;
		}
	}
	return a;
}

/* An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT") as ISO 8601, or NULL. */
static json_t *http_date(struct rp_slice v)
{
	char buf[64], iso[40];
	struct tm tm;
	if (v.n == 0 || v.n >= sizeof(buf))
		return NULL;
	memcpy(buf, v.p, v.n);
	buf[v.n] = '\0';
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return NULL;
	time_t t = timegm(&tm);
	rp_time_format((int64_t)t * 1000000000, iso, sizeof(iso));
	return str(iso);
}

static json_t *response_cookies(const struct rp_headers *h)
{
	json_t *a = json_array();
	for (size_t i = 0; i < h->n; i++) {
		if (!rp_slice_eq_nocase(h->v[i].name, RP_SLICE_LIT("Set-Cookie")))
			continue;
		struct rp_slice s = h->v[i].value;
		json_t *c = NULL;
		size_t k = 0;
		while (k < s.n) {
			size_t j = k;
			while (j < s.n && s.p[j] != ';')
				j++;
			struct rp_slice name, value;
			split2(rp_slice(s.p + k, j - k), '=', &name, &value);
			k = j + 1;
			if (!c) {
				if (!name.n)
					break;
				c = name_value(name, value);
				continue;
			}
			if (rp_slice_eq_nocase(name, RP_SLICE_LIT("Path")))
				set(c, "path", rp_har_json_text(value));
			else if (rp_slice_eq_nocase(name, RP_SLICE_LIT("Domain")))
				set(c, "domain", rp_har_json_text(value));
			else if (rp_slice_eq_nocase(name, RP_SLICE_LIT("Expires"))) {
				json_t *d = http_date(value);
				if (d)
					set(c, "expires", d);
			} else if (rp_slice_eq_nocase(name, RP_SLICE_LIT("HttpOnly")))
				set(c, "httpOnly", json_true());
			else if (rp_slice_eq_nocase(name, RP_SLICE_LIT("Secure")))
				set(c, "secure", json_true());
		}
		if (c)
			json_array_append_new(a, c);
	}
	return a;
}

static const char *http_version(enum rp_proto p)
{
	switch (p) {
	case RP_PROTO_H10: return "HTTP/1.0";
	case RP_PROTO_H11: return "HTTP/1.1";
	case RP_PROTO_H2:
	case RP_PROTO_H2C: return "HTTP/2.0";
	case RP_PROTO_UNKNOWN: break;
	}
	return "";
}

/* Bytes on the wire for HAR's bodySize: the encoded length when a coding was
 * removed, else the body itself. */
static json_int_t body_size(const struct rp_message *m)
{
	if (m->encoding.n && m->wire_len)
		return (json_int_t)m->wire_len;
	return (json_int_t)RP_MAX((uint64_t)m->body.n, m->orig_len);
}

static json_t *url_json(const struct rp_exchange *x)
{
	struct rp_slice scheme = x->req.scheme, auth = x->req.authority, target = x->req.target;
	if (!scheme.n)
		scheme = x->proto == RP_PROTO_H2 ? RP_SLICE_LIT("https") : RP_SLICE_LIT("http");
	if (!auth.n)
		auth = header(&x->req.m.headers, "Host");
	if (!target.n)
		target = RP_SLICE_LIT("/");
	size_t n = scheme.n + 3 + auth.n + target.n;
	uint8_t *u = rp_xmalloc(n);
	memcpy(u, scheme.p, scheme.n);
	memcpy(u + scheme.n, "://", 3);
	if (auth.n)
		memcpy(u + scheme.n + 3, auth.p, auth.n);
	memcpy(u + scheme.n + 3 + auth.n, target.p, target.n);
	json_t *j = rp_har_json_text(rp_slice(u, n));
	free(u);
	return j;
}

static json_t *request_json(const struct rp_exchange *x)
{
	const struct rp_request *rq = &x->req;
	json_t *r = json_object();
	set(r, "method", rp_har_json_text(rq->method));
	set(r, "url", url_json(x));
	set(r, "httpVersion", str(http_version(x->proto)));
	set(r, "cookies", request_cookies(&rq->m.headers));
	json_t *h = json_array();
	if (x->proto == RP_PROTO_H2 || x->proto == RP_PROTO_H2C) {
		/* as Chromium writes HTTP/2 requests */
		json_array_append_new(h, name_value(RP_SLICE_LIT(":method"), rq->method));
		json_array_append_new(h, name_value(RP_SLICE_LIT(":authority"), rq->authority));
		json_array_append_new(h, name_value(RP_SLICE_LIT(":scheme"), rq->scheme));
		json_array_append_new(h, name_value(RP_SLICE_LIT(":path"), rq->target));
	}
	headers_append(h, &rq->m.headers);
	set(r, "headers", h);
	set(r, "queryString", query_json(rq->target));
	if (rq->m.body.n || rq->m.orig_len) {
		json_t *pd = json_object();
		int b64;
		struct rp_slice ct = header(&rq->m.headers, "Content-Type");
		set(pd, "mimeType", rp_har_json_text(ct));
		set(pd, "text", rp_har_json_body(rq->m.body, &b64));
		if (b64) /* HAR has no field for this; custom fields start with '_' */
			set(pd, "_encoding", str("base64"));
		set(r, "postData", pd);
	}
	set(r, "headersSize", json_integer(-1));
	set(r, "bodySize", json_integer(body_size(&rq->m)));
	if (rq->m.trailers.n)
		set(r, "_trailers", headers_json(&rq->m.trailers));
	return r;
}

static json_t *response_json(const struct rp_exchange *x)
{
	const struct rp_response *rs = &x->resp;
	int none = rs->status == 0;
	json_t *r = json_object();
	set(r, "status", json_integer(rs->status));
	set(r, "statusText", rp_har_json_text(rs->reason));
	set(r, "httpVersion", str(none ? "" : http_version(x->proto)));
	set(r, "cookies", response_cookies(&rs->m.headers));
	set(r, "headers", headers_json(&rs->m.headers));
	json_t *c = json_object();
	struct rp_slice ct = header(&rs->m.headers, "Content-Type");
	set(c, "size", json_integer((json_int_t)RP_MAX((uint64_t)rs->m.body.n, rs->m.orig_len)));
	json_int_t bs = body_size(&rs->m);
	json_int_t size = json_integer_value(json_object_get(c, "size"));
	if (rs->m.encoding.n && bs < size)
		set(c, "compression", json_integer(size - bs));
	set(c, "mimeType", ct.n ? rp_har_json_text(ct) : str("x-unknown"));
	if (rs->m.body.n) {
		int b64;
		set(c, "text", rp_har_json_body(rs->m.body, &b64));
		if (b64)
			set(c, "encoding", str("base64"));
	}
	set(r, "content", c);
	set(r, "redirectURL", rp_har_json_text(header(&rs->m.headers, "Location")));
	set(r, "headersSize", json_integer(-1));
	set(r, "bodySize", json_integer(none ? -1 : bs));
	if (rs->m.trailers.n)
		set(r, "_trailers", headers_json(&rs->m.trailers));
	if (none)
		set(r, "_error", str("no response"));
	return r;
}

static double span_ms(int64_t from, int64_t to)
{
	return (from && to > from) ? rp_har_ns_to_ms(to - from) : 0;
}

int rp_har_entry_write(FILE *f, const struct rp_exchange *x)
{
	char ts[40], names[256], ep[64];
	json_t *e = json_object();
	rp_time_format(x->t.req_start, ts, sizeof(ts));
	double send = span_ms(x->t.req_start, x->t.req_end);
	double wait = x->resp.status ? span_ms(x->t.req_end, x->t.resp_start) : 0;
	double receive = x->resp.status ? span_ms(x->t.resp_start, x->t.resp_end) : 0;
	set(e, "startedDateTime", str(ts));
	set(e, "time", json_real(send + wait + receive));
	set(e, "request", request_json(x));
	set(e, "response", response_json(x));
	set(e, "cache", json_object());
	json_t *t = json_object();
	set(t, "blocked", json_integer(-1));
	set(t, "dns", json_integer(-1));
	set(t, "connect", json_integer(-1));
	set(t, "send", json_real(send));
	set(t, "wait", json_real(wait));
	set(t, "receive", json_real(receive));
	set(t, "ssl", json_integer(-1));
	set(e, "timings", t);
	if (x->server.family) {
		rp_endpoint_format(&x->server, ep, sizeof(ep));
		/* the address alone: strip ":port" and IPv6 brackets */
		char *colon = strrchr(ep, ':');
		if (colon)
			*colon = '\0';
		char *a = ep;
		if (a[0] == '[') {
			a++;
			a[strlen(a) - 1] = '\0';
		}
		set(e, "serverIPAddress", str(a));
		set(e, "_serverPort", json_integer(x->server.port));
	}
	if (x->conn_id) {
		char id[24];
		snprintf(id, sizeof(id), "%llu", (unsigned long long)x->conn_id);
		set(e, "connection", str(id));
	}
	if (x->id)
		set(e, "_id", json_integer((json_int_t)x->id));
	if (x->flags)
		set(e, "_flags", str(rp_xflags_format(x->flags, names, sizeof(names))));
	/* 12 digits: microseconds of any plausible duration, no binary noise */
	size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12);
	int rc = json_dumpf(e, f, flags) ? RP_E_IO : 0;
	json_decref(e);
	return rc;
}
