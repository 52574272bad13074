/*
 * har_in: HAR 1.2 -> exchanges.  The document is parsed whole by jansson
 * (the caller has capped its size); entries are converted one at a time and
 * each conversion either yields a complete exchange or names the entry and
 * the field that made it unusable, so one bad entry never stops an import.
 * Every value is type-checked before use: a HAR with numbers where strings
 * belong, or arrays where objects belong, gives a message, never a crash.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "har_int.h"
#include "reprise/filter.h"
#include "reprise/limits.h"

/* Connection id -> exchanges seen so far on it (for conn_seq). */
struct seq_slot {
	uint64_t id;
	uint32_t n;
};

struct rp_har_doc {
	json_t *root;
	json_t *entries;
	size_t i, n;
	struct seq_slot *seq;
	size_t seq_n, seq_cap;
};

/* Conversion context of one entry: its index, for messages. */
struct ectx {
	size_t idx;
	char *err;
	size_t errlen;
};

static int efail(struct ectx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int efail(struct ectx *c, const char *fmt, ...)
{
	if (c->err && c->errlen) {
		int n = snprintf(c->err, c->errlen, "entry %zu (log.entries[%zu]): ", c->idx + 1,
				 c->idx);
		if (n >= 0 && (size_t)n < c->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return RP_E_FORMAT;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* A string member: 1 and |*out| when present, 0 when absent or null, -1 when
 * of another type.  |*out| points into the document. */
static int member_str(json_t *obj, const char *key, struct rp_slice *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = rp_slice(json_string_value(v), json_string_length(v));
	return 1;
}

/* A numeric member (integer or real): 1, 0 (absent/null) or -1. */
static int member_num(json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return 1;
}

static int require_str(struct ectx *c, json_t *obj, const char *where, const char *key,
		       struct rp_slice *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return efail(c, "%s.%s is missing", where, key);
	if (!json_is_string(v))
		return efail(c, "%s.%s is %s, not a string", where, key, type_name(v));
	*out = rp_slice(json_string_value(v), json_string_length(v));
	return 0;
}

/* Pseudo headers of an HTTP/2 request as Chromium records them. */
struct pseudo {
	struct rp_slice method, scheme, authority, path;
	int any;
};

/* Appends the {name, value} objects of |arr| to |h| in file order. */
static int read_headers(struct ectx *c, json_t *arr, const char *where, struct rp_pool *pool,
			struct rp_headers *h, struct pseudo *ps)
{
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return efail(c, "%s is %s, not an array", where, type_name(arr));
	if (json_array_size(arr) > RP_LIMIT_RECORD_FIELDS)
		return efail(c, "%s has %zu headers, more than the limit of %d", where,
			     json_array_size(arr), RP_LIMIT_RECORD_FIELDS);
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		struct rp_slice name, value;
		if (!json_is_object(e))
			return efail(c, "%s[%zu] is %s, not an object", where, i, type_name(e));
		int rn = member_str(e, "name", &name), rv = member_str(e, "value", &value);
		if (rn <= 0)
			return efail(c, "%s[%zu].name is %s", where, i,
				     rn == 0 ? "missing" : "not a string");
		if (rv < 0)
			return efail(c, "%s[%zu].value is not a string", where, i);
		if (rv == 0)
			value = RP_SLICE_NULL;
		if (name.n && name.p[0] == ':') {
			if (ps) {
				ps->any = 1;
				if (rp_slice_eq(name, RP_SLICE_LIT(":method")))
					ps->method = value;
				else if (rp_slice_eq(name, RP_SLICE_LIT(":scheme")))
					ps->scheme = value;
				else if (rp_slice_eq(name, RP_SLICE_LIT(":authority")))
					ps->authority = value;
				else if (rp_slice_eq(name, RP_SLICE_LIT(":path")))
					ps->path = value;
			}
			continue; /* fills the request line; not a header */
		}
		rp_headers_add(h, pool, name, value);
	}
	return 0;
}

/* Splits an absolute URL into scheme, authority (userinfo dropped) and
 * target (fragment dropped, "/" when empty).  0 or -1. */
static int split_url(struct rp_slice url, struct rp_pool *pool, struct rp_slice *scheme,
		     struct rp_slice *authority, struct rp_slice *target)
{
	size_t i = 0;
	while (i < url.n && ((url.p[i] >= 'a' && url.p[i] <= 'z') ||
			     (url.p[i] >= 'A' && url.p[i] <= 'Z') ||
			     (i > 0 && ((url.p[i] >= '0' && url.p[i] <= '9') || url.p[i] == '+' ||
					url.p[i] == '-' || url.p[i] == '.'))))
		i++;
	if (i == 0 || i + 3 > url.n || memcmp(url.p + i, "://", 3) != 0)
		return -1;
	char *sch = rp_pool_strndup(pool, url.p, i);
	for (size_t k = 0; k < i; k++)
		if (sch[k] >= 'A' && sch[k] <= 'Z')
			sch[k] = (char)(sch[k] | 0x20);
	*scheme = rp_slice(sch, i);
	size_t a = i + 3, e = a;
	while (e < url.n && url.p[e] != '/' && url.p[e] != '?' && url.p[e] != '#')
		e++;
	struct rp_slice auth = rp_slice(url.p + a, e - a);
	for (size_t k = auth.n; k > 0; k--)
		if (auth.p[k - 1] == '@') {
			auth = rp_slice(auth.p + k, auth.n - k);
			break;
		}
	*authority = auth;
	size_t f = e;
	while (f < url.n && url.p[f] != '#')
		f++;
	struct rp_slice t = rp_slice(url.p + e, f - e);
	if (t.n == 0) {
		*target = RP_SLICE_LIT("/");
	} else if (t.p[0] == '?') {
		uint8_t *p = rp_pool_alloc(pool, t.n + 1);
		p[0] = '/';
		memcpy(p + 1, t.p, t.n);
		*target = rp_slice(p, t.n + 1);
	} else {
		*target = t;
	}
	return 0;
}

static enum rp_proto proto_of(struct rp_slice v, struct rp_slice scheme, int pseudo)
{
	static const struct {
		const char *name;
		enum rp_proto p;
	} names[] = {
		{"http/1.1", RP_PROTO_H11}, {"http/1.0", RP_PROTO_H10}, {"http/2.0", RP_PROTO_H2},
		{"http/2", RP_PROTO_H2},    {"h2", RP_PROTO_H2},        {"h2c", RP_PROTO_H2C},
		{"http/0.9", RP_PROTO_H10},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(names); i++)
		if (rp_slice_eq_nocase(v, rp_slice_str(names[i].name))) {
			if (names[i].p == RP_PROTO_H2 && rp_slice_eq(scheme, RP_SLICE_LIT("http")))
				return RP_PROTO_H2C;
			return names[i].p;
		}
	if (pseudo && v.n == 0)
		return rp_slice_eq(scheme, RP_SLICE_LIT("http")) ? RP_PROTO_H2C : RP_PROTO_H2;
	return RP_PROTO_UNKNOWN;
}

/* The port of |authority| ("a:8080" -> 8080), or |dflt|. */
static uint16_t authority_port(struct rp_slice a, uint16_t dflt)
{
	size_t i = a.n;
	while (i > 0 && a.p[i - 1] >= '0' && a.p[i - 1] <= '9')
		i--;
	if (i == 0 || i == a.n || a.p[i - 1] != ':')
		return dflt;
	if (a.p[0] != '[' && memchr(a.p, ':', i - 1)) /* bare IPv6 */
		return dflt;
	uint64_t port;
	if (rp_slice_to_u64(rp_slice(a.p + i, a.n - i), &port) || port == 0 || port > 65535)
		return dflt;
	return (uint16_t)port;
}

static void parse_server(json_t *e, const struct rp_exchange *xc, struct rp_endpoint *ep)
{
	struct rp_slice ip;
	char buf[64];
	if (member_str(e, "serverIPAddress", &ip) <= 0 || ip.n == 0 || ip.n + 1 > sizeof(buf))
		return;
	if (ip.p[0] == '[' && ip.n > 2 && ip.p[ip.n - 1] == ']')
		ip = rp_slice(ip.p + 1, ip.n - 2);
	memcpy(buf, ip.p, ip.n);
	buf[ip.n] = '\0';
	struct rp_endpoint out = {0};
	if (inet_pton(AF_INET, buf, out.addr) == 1)
		out.family = 4;
	else if (inet_pton(AF_INET6, buf, out.addr) == 1)
		out.family = 6;
	else
		return;
	double port;
	uint16_t dflt = rp_slice_eq(xc->req.scheme, RP_SLICE_LIT("https")) ? 443 : 80;
	if (member_num(e, "_serverPort", &port) > 0 && port >= 1 && port <= 65535)
		out.port = (uint16_t)port;
	else
		out.port = authority_port(xc->req.authority, dflt);
	*ep = out;
}

/* Chromium writes the socket id as a string of digits; anything else is
 * hashed (FNV-1a) to a stable id. */
static uint64_t parse_conn(json_t *e)
{
	json_t *v = json_object_get(e, "connection");
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return 0;
	struct rp_slice s = rp_slice(json_string_value(v), json_string_length(v));
	uint64_t id;
	if (rp_slice_to_u64(s, &id) == 0)
		return id;
	uint64_t h = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < s.n; i++) {
		h ^= s.p[i];
		h *= UINT64_C(1099511628211);
	}
	h &= (uint64_t)INT64_MAX; /* stays a positive JSON integer */
	return h ? h : 1;
}

static uint32_t next_seq(struct rp_har_doc *d, uint64_t id)
{
	if (d->seq_n * 2 >= d->seq_cap) {
		size_t cap = d->seq_cap ? d->seq_cap * 2 : 64;
		struct seq_slot *v = rp_xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < d->seq_cap; i++) {
			if (!d->seq[i].id)
				continue;
			size_t j = d->seq[i].id & (cap - 1);
			while (v[j].id)
				j = (j + 1) & (cap - 1);
			v[j] = d->seq[i];
		}
		free(d->seq);
		d->seq = v;
		d->seq_cap = cap;
	}
	size_t j = id & (d->seq_cap - 1);
	while (d->seq[j].id && d->seq[j].id != id)
		j = (j + 1) & (d->seq_cap - 1);
	if (!d->seq[j].id) {
		d->seq[j].id = id;
		d->seq_n++;
	}
	return d->seq[j].n++;
}

/* Percent-encodes |s| for application/x-www-form-urlencoded into |b|. */
static void form_encode(struct rp_buf *b, struct rp_slice s)
{
	static const char hx[] = "0123456789ABCDEF";
	for (size_t i = 0; i < s.n; i++) {
		uint8_t c = s.p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '*') {
			(void)rp_buf_append(b, &c, 1);
		} else if (c == ' ') {
			(void)rp_buf_append(b, "+", 1);
		} else {
			char e[3] = {'%', hx[c >> 4], hx[c & 15]};
			(void)rp_buf_append(b, e, 3);
		}
	}
}

/* Sets the body of |m| from |text| (with |base64| when the file says the text
 * is base64), capped at RP_LIMIT_BODY_RECORD (|trunc_flag| set then).  Only
 * the part that is kept is decoded or copied, so an enormous body costs its
 * cap, not its size, on top of the document. */
static int set_body(struct ectx *c, struct rp_exchange *x, struct rp_message *m,
		    struct rp_slice text, int base64, const char *where, uint32_t trunc_flag)
{
	struct rp_slice body;
	uint64_t full;
	if (base64) {
		size_t keep = RP_HAR_B64_LEN((size_t)RP_LIMIT_BODY_RECORD);
		size_t pad = 0;
		while (pad < 2 && pad < text.n && text.p[text.n - 1 - pad] == '=')
			pad++;
		full = text.n / 4 * 3 + (text.n % 4 ? text.n % 4 - 1 : 0) - (text.n % 4 ? 0 : pad);
		if (text.n > keep)
			text.n = keep; /* a multiple of 4: decodes on its own */
		if (rp_har_b64_decode((const char *)text.p, text.n, x->pool, &body))
			return efail(c, "%s.text is marked base64 but does not decode", where);
		if (full < body.n)
			full = body.n;
	} else {
		full = text.n;
		body = rp_pool_dup(x->pool, rp_slice(text.p, RP_MIN(text.n,
								    (size_t)RP_LIMIT_BODY_RECORD)));
	}
	m->orig_len = full;
	if (body.n > RP_LIMIT_BODY_RECORD)
		body.n = RP_LIMIT_BODY_RECORD;
	if (full > body.n)
		x->flags |= trunc_flag;
	m->body = body;
	return 0;
}

/* Content-Encoding stays a header: HAR bodies are already decoded, so the
 * coding is only remembered, and wire_len is HAR's bodySize when known. */
static void set_encoding(struct rp_exchange *x, struct rp_message *m, json_t *msg)
{
	const struct rp_header *ce = rp_headers_get(&m->headers, RP_SLICE_LIT("Content-Encoding"));
	double bs;
	int has_bs = member_num(msg, "bodySize", &bs) > 0 && bs >= 0 && bs < 1e18;
	m->wire_len = m->orig_len;
	if (ce && ce->value.n && !rp_slice_eq_nocase(ce->value, RP_SLICE_LIT("identity"))) {
		m->encoding = rp_pool_dup(x->pool, ce->value);
		if (has_bs)
			m->wire_len = (uint64_t)bs;
	}
}

static int read_trailers(struct ectx *c, json_t *msg, const char *where, struct rp_pool *pool,
			 struct rp_headers *h)
{
	return read_headers(c, json_object_get(msg, "_trailers"), where, pool, h, NULL);
}

static int read_request(struct ectx *c, json_t *rq, struct rp_exchange *x)
{
	struct rp_slice method, url, version = RP_SLICE_NULL;
	struct pseudo ps = {0};
	int rc;
	if (!json_is_object(rq))
		return efail(c, "request is %s, not an object", rq ? type_name(rq) : "missing");
	if ((rc = require_str(c, rq, "request", "method", &method)) ||
	    (rc = require_str(c, rq, "request", "url", &url)))
		return rc;
	if (method.n == 0)
		return efail(c, "request.method is empty");
	if (member_str(rq, "httpVersion", &version) < 0)
		return efail(c, "request.httpVersion is not a string");
	x->req.method = rp_pool_dup(x->pool, method);
	if ((rc = read_headers(c, json_object_get(rq, "headers"), "request.headers", x->pool,
			       &x->req.m.headers, &ps)) ||
	    (rc = read_trailers(c, rq, "request._trailers", x->pool, &x->req.m.trailers)))
		return rc;
	struct rp_slice u = rp_pool_dup(x->pool, url);
	if (split_url(u, x->pool, &x->req.scheme, &x->req.authority, &x->req.target)) {
		if (!rp_slice_eq_nocase(method, RP_SLICE_LIT("CONNECT")) || u.n == 0)
			return efail(c, "request.url '%.*s' is not an absolute URL",
				     (int)RP_MIN(url.n, 200), (const char *)url.p);
		x->req.authority = x->req.target = u; /* CONNECT host:port */
	}
	static const char *const schemes[] = {"http", "https", "ws", "wss"};
	int web = 0;
	for (size_t i = 0; i < RP_ARRAY_LEN(schemes); i++)
		web |= rp_slice_eq(x->req.scheme, rp_slice_str(schemes[i]));
	if (!web && x->req.scheme.n) /* data:, blob:, chrome-extension: ... */
		return efail(c, "request.url scheme '%.*s' is not http or https",
			     (int)RP_MIN(x->req.scheme.n, 40), (const char *)x->req.scheme.p);
	if (ps.path.n)
		x->req.target = rp_pool_dup(x->pool, ps.path);
	if (ps.authority.n)
		x->req.authority = rp_pool_dup(x->pool, ps.authority);
	if (ps.scheme.n)
		x->req.scheme = rp_pool_dup(x->pool, ps.scheme);
	x->proto = proto_of(version, x->req.scheme, ps.any);

	json_t *pd = json_object_get(rq, "postData");
	if (pd && !json_is_null(pd)) {
		struct rp_slice text = RP_SLICE_NULL, enc = RP_SLICE_NULL;
		if (!json_is_object(pd))
			return efail(c, "request.postData is %s, not an object", type_name(pd));
		int rt = member_str(pd, "text", &text);
		if (rt < 0)
			return efail(c, "request.postData.text is not a string");
		if (member_str(pd, "encoding", &enc) < 0 || member_str(pd, "_encoding", &enc) < 0)
			return efail(c, "request.postData.encoding is not a string");
		json_t *params = json_object_get(pd, "params");
		if (text.n == 0 && json_is_array(params) && json_array_size(params)) {
			/* only params: rebuild the urlencoded body the browser sent */
			struct rp_buf b;
			size_t i;
			json_t *p;
			rp_buf_init(&b, RP_LIMIT_BODY_DECODED);
			json_array_foreach (params, i, p) {
				struct rp_slice n = RP_SLICE_NULL, v = RP_SLICE_NULL;
				if (!json_is_object(p) || member_str(p, "name", &n) <= 0 ||
				    member_str(p, "value", &v) < 0) {
					rp_buf_dispose(&b);
					return efail(c, "request.postData.params[%zu] is not a "
							"{name, value} object", i);
				}
				if (i)
					(void)rp_buf_append(&b, "&", 1);
				form_encode(&b, n);
				(void)rp_buf_append(&b, "=", 1);
				form_encode(&b, v);
			}
			rc = set_body(c, x, &x->req.m, rp_buf_slice(&b), 0, "request.postData",
				      RP_XF_REQ_TRUNCATED);
			rp_buf_dispose(&b);
			if (rc)
				return rc;
		} else {
			int b64 = rp_slice_eq_nocase(enc, RP_SLICE_LIT("base64"));
			if ((rc = set_body(c, x, &x->req.m, text, b64, "request.postData",
					   RP_XF_REQ_TRUNCATED)))
				return rc;
		}
	}
	set_encoding(x, &x->req.m, rq);
	return 0;
}

static int read_response(struct ectx *c, json_t *rs, struct rp_exchange *x)
{
	int rc;
	if (!rs || json_is_null(rs)) {
		x->flags |= RP_XF_NO_RESPONSE;
		return 0;
	}
	if (!json_is_object(rs))
		return efail(c, "response is %s, not an object", type_name(rs));
	double status;
	int rs_st = member_num(rs, "status", &status);
	if (rs_st < 0)
		return efail(c, "response.status is %s, not a number",
			     type_name(json_object_get(rs, "status")));
	if (rs_st == 0)
		status = 0;
	if (!(status >= 0 && status <= 999) || status != (double)(int)status)
		return efail(c, "response.status %g is not an HTTP status", status);
	x->resp.status = (uint16_t)status;
	struct rp_slice reason = RP_SLICE_NULL;
	if (member_str(rs, "statusText", &reason) < 0)
		return efail(c, "response.statusText is not a string");
	x->resp.reason = rp_pool_dup(x->pool, reason);
	if ((rc = read_headers(c, json_object_get(rs, "headers"), "response.headers", x->pool,
			       &x->resp.m.headers, NULL)) ||
	    (rc = read_trailers(c, rs, "response._trailers", x->pool, &x->resp.m.trailers)))
		return rc;
	json_t *content = json_object_get(rs, "content");
	if (content && !json_is_null(content)) {
		struct rp_slice text = RP_SLICE_NULL, enc = RP_SLICE_NULL;
		double size = -1;
		if (!json_is_object(content))
			return efail(c, "response.content is %s, not an object", type_name(content));
		int rt = member_str(content, "text", &text);
		if (rt < 0)
			return efail(c, "response.content.text is not a string");
		if (member_str(content, "encoding", &enc) < 0)
			return efail(c, "response.content.encoding is not a string");
		if (member_num(content, "size", &size) < 0)
			return efail(c, "response.content.size is not a number");
		if ((rc = set_body(c, x, &x->resp.m, text,
				   rp_slice_eq_nocase(enc, RP_SLICE_LIT("base64")), "response.content",
				   RP_XF_RESP_TRUNCATED)))
			return rc;
		if (rt == 0 && size > 0 && size < 1e18) {
			/* the browser saw a body but did not keep it */
			x->resp.m.orig_len = (uint64_t)size;
			x->flags |= RP_XF_RESP_TRUNCATED;
		}
	}
	set_encoding(x, &x->resp.m, rs);
	if (x->resp.status == 0)
		x->flags |= RP_XF_NO_RESPONSE;
	return 0;
}

static double timing_ms(json_t *t, const char *key)
{
	double v;
	if (!json_is_object(t) || member_num(t, key, &v) <= 0 || !(v > 0))
		return 0; /* -1 means "does not apply" */
	return v;
}

static int read_timing(struct ectx *c, json_t *e, struct rp_exchange *x)
{
	struct rp_slice started;
	int rc = require_str(c, e, "entry", "startedDateTime", &started);
	if (rc)
		return rc;
	char buf[64];
	if (started.n == 0 || started.n >= sizeof(buf))
		return efail(c, "startedDateTime '%.*s' is not an ISO 8601 time",
			     (int)RP_MIN(started.n, 64), (const char *)started.p);
	memcpy(buf, started.p, started.n);
	buf[started.n] = '\0';
	if (rp_time_parse(buf, &x->t.req_start))
		return efail(c, "startedDateTime '%s' is not an ISO 8601 time", buf);
	json_t *t = json_object_get(e, "timings");
	if (t && !json_is_object(t) && !json_is_null(t))
		return efail(c, "timings is %s, not an object", type_name(t));
	double pre = timing_ms(t, "blocked") + timing_ms(t, "dns") + timing_ms(t, "connect");
	x->t.req_end = x->t.req_start + rp_har_ms_to_ns(pre + timing_ms(t, "send"));
	if (x->flags & RP_XF_NO_RESPONSE)
		return 0;
	x->t.resp_start = x->t.req_end + rp_har_ms_to_ns(timing_ms(t, "wait"));
	x->t.resp_end = x->t.resp_start + rp_har_ms_to_ns(timing_ms(t, "receive"));
	return 0;
}

/* reprise's own "_flags": names as rp_xflags_format writes them. */
static void read_flags(json_t *e, struct rp_exchange *x)
{
	struct rp_slice f;
	if (member_str(e, "_flags", &f) <= 0)
		return;
	size_t i = 0;
	while (i < f.n) {
		size_t j = i;
		while (j < f.n && f.p[j] != ',')
			j++;
		uint32_t bit;
		if (rp_filter_flag_bit(rp_slice_trim(rp_slice(f.p + i, j - i)), &bit) == 0)
			x->flags |= bit;
		i = j + 1;
	}
}

static int convert(struct rp_har_doc *d, json_t *e, struct ectx *c, struct rp_exchange **out)
{
	int rc;
	struct rp_exchange *x = rp_exchange_new();
	if (!json_is_object(e)) {
		rc = efail(c, "is %s, not an object", type_name(e));
		goto out;
	}
	read_flags(e, x);
	if ((rc = read_request(c, json_object_get(e, "request"), x)) ||
	    (rc = read_response(c, json_object_get(e, "response"), x)) ||
	    (rc = read_timing(c, e, x)))
		goto out;
	parse_server(e, x, &x->server);
	x->conn_id = parse_conn(e);
	if (x->conn_id)
		x->conn_seq = next_seq(d, x->conn_id);
out:
	if (rc) {
		rp_exchange_free(x);
		return rc;
	}
	*out = x;
	return 0;
}

int rp_har_doc_load(const char *data, size_t n, const char *name, struct rp_har_doc **out,
		    char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(data, n, JSON_ALLOW_NUL, &je);
	if (!root) {
		if (err)
			snprintf(err, errlen, "%s: line %d, column %d: %s", name, je.line, je.column,
				 je.text);
		return RP_E_FORMAT;
	}
	json_t *log = json_is_object(root) ? json_object_get(root, "log") : NULL;
	json_t *entries = json_is_object(log) ? json_object_get(log, "entries") : NULL;
	if (!json_is_array(entries)) {
		if (err)
			snprintf(err, errlen, "%s: not a HAR file: %s", name,
				 !json_is_object(root) ? "the top level is not an object"
				 : !json_is_object(log) ? "no \"log\" object at the top level"
							: "log.entries is missing or not an array");
		json_decref(root);
		return RP_E_FORMAT;
	}
	struct rp_har_doc *d = rp_xcalloc(1, sizeof(*d));
	d->root = root;
	d->entries = entries;
	d->n = json_array_size(entries);
	*out = d;
	return 0;
}

int rp_har_doc_next(struct rp_har_doc *d, struct rp_exchange **x, char *err, size_t errlen)
{
	if (d->i >= d->n)
		return RP_E_NOTFOUND;
	struct ectx c = {.idx = d->i, .err = err, .errlen = errlen};
	json_t *e = json_array_get(d->entries, d->i);
	int rc = convert(d, e, &c, x);
	/* each converted entry's JSON is no longer needed: release it early so
	 * a big import holds the document and one exchange, not two copies */
	json_array_set_new(d->entries, d->i, json_null());
	d->i++;
	return rc;
}

void rp_har_doc_free(struct rp_har_doc *d)
{
	if (!d)
		return;
	json_decref(d->root);
	free(d->seq);
	free(d);
}
