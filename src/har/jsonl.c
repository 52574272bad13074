/*
 * jsonl: reprise's JSON lines format (documented in har.h), one exchange per
 * line and lossless: every field of the exchange model survives a write and
 * a parse, bytes that are not UTF-8 included (as {"base64": ...}).  Parsing
 * checks every type and names the line and field of the first problem.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "har_int.h"
#include "reprise/limits.h"

static void set(json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v))
		rp_oom();
}

static json_t *pairs_json(const struct rp_headers *h)
{
	json_t *a = json_array();
	for (size_t i = 0; i < h->n; i++) {
		json_t *p = json_array();
		json_array_append_new(p, rp_har_json_bytes(h->v[i].name));
		json_array_append_new(p, rp_har_json_bytes(h->v[i].value));
		json_array_append_new(a, p);
	}
	return a;
}

static void message_json(json_t *o, const struct rp_message *m)
{
	int b64;
	set(o, "headers", pairs_json(&m->headers));
	set(o, "trailers", pairs_json(&m->trailers));
	set(o, "body", rp_har_json_body(m->body, &b64));
	set(o, "body_base64", json_boolean(b64));
	set(o, "content_encoding", rp_har_json_bytes(m->encoding));
	set(o, "wire_len", json_integer((json_int_t)m->wire_len));
	set(o, "orig_len", json_integer((json_int_t)m->orig_len));
}

int rp_har_jsonl_write(FILE *f, const struct rp_exchange *x)
{
	char buf[256];
	json_t *o = json_object();
	set(o, "id", json_integer((json_int_t)x->id));
	set(o, "conn", json_integer((json_int_t)x->conn_id));
	set(o, "stream", json_integer(x->stream_id));
	set(o, "seq", json_integer(x->conn_seq));
	set(o, "proto", json_string(rp_proto_name(x->proto)));
	set(o, "flags", json_integer(x->flags));
	set(o, "flag_names", json_string(rp_xflags_format(x->flags, buf, sizeof(buf))));
	if (x->client.family) {
		rp_endpoint_format(&x->client, buf, sizeof(buf));
		set(o, "client", json_string(buf));
	}
	if (x->server.family) {
		rp_endpoint_format(&x->server, buf, sizeof(buf));
		set(o, "server", json_string(buf));
	}
	json_t *t = json_object();
	set(t, "req_start", json_integer(x->t.req_start));
	set(t, "req_end", json_integer(x->t.req_end));
	set(t, "resp_start", json_integer(x->t.resp_start));
	set(t, "resp_end", json_integer(x->t.resp_end));
	set(o, "timing", t);
	json_t *rq = json_object();
	set(rq, "method", rp_har_json_bytes(x->req.method));
	set(rq, "scheme", rp_har_json_bytes(x->req.scheme));
	set(rq, "authority", rp_har_json_bytes(x->req.authority));
	set(rq, "target", rp_har_json_bytes(x->req.target));
	message_json(rq, &x->req.m);
	set(o, "request", rq);
	json_t *rs = json_object();
	set(rs, "status", json_integer(x->resp.status));
	set(rs, "reason", rp_har_json_bytes(x->resp.reason));
	message_json(rs, &x->resp.m);
	set(o, "response", rs);
	int rc = 0;
	if (json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER) || fputc('\n', f) == EOF)
		rc = RP_E_IO;
	json_decref(o);
	return rc;
}

/* ---- parsing ---- */

struct lctx {
	size_t line;
	char *err;
	size_t errlen;
};

static int lfail(struct lctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int lfail(struct lctx *c, const char *fmt, ...)
{
	if (c->err && c->errlen) {
		int n = snprintf(c->err, c->errlen, "line %zu: ", c->line);
		if (n >= 0 && (size_t)n < c->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return RP_E_FORMAT;
}

/* Optional bytes member (string or {"base64"}); absent or null gives "". */
static int get_bytes(struct lctx *c, json_t *o, const char *where, const char *key,
		     struct rp_pool *pool, struct rp_slice *out)
{
	json_t *v = json_object_get(o, key);
	*out = RP_SLICE_NULL;
	if (!v || json_is_null(v))
		return 0;
	if (rp_har_json_get_bytes(v, pool, out))
		return lfail(c, "%s.%s is not a string (or {\"base64\": ...})", where, key);
	return 0;
}

/* Optional non-negative integer member no larger than |max|. */
static int get_uint(struct lctx *c, json_t *o, const char *where, const char *key, uint64_t max,
		    uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return lfail(c, "%s%s%s is not an integer in 0..%llu", where, *where ? "." : "",
			     key, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_pairs(struct lctx *c, json_t *o, const char *where, const char *key,
		     struct rp_pool *pool, struct rp_headers *h)
{
	json_t *a = json_object_get(o, key);
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return lfail(c, "%s.%s is not an array", where, key);
	if (json_array_size(a) > RP_LIMIT_RECORD_FIELDS)
		return lfail(c, "%s.%s has more than %d fields", where, key, RP_LIMIT_RECORD_FIELDS);
	size_t i;
	json_t *p;
	json_array_foreach (a, i, p) {
		struct rp_slice name, value;
		if (!json_is_array(p) || json_array_size(p) != 2 ||
		    rp_har_json_get_bytes(json_array_get(p, 0), pool, &name) ||
		    rp_har_json_get_bytes(json_array_get(p, 1), pool, &value))
			return lfail(c, "%s.%s[%zu] is not a [name, value] pair of strings", where,
				     key, i);
		rp_headers_add_ref(h, pool, name, value);
	}
	return 0;
}

static int get_message(struct lctx *c, json_t *o, const char *where, struct rp_exchange *x,
		       struct rp_message *m)
{
	int rc;
	uint64_t v;
	if ((rc = get_pairs(c, o, where, "headers", x->pool, &m->headers)) ||
	    (rc = get_pairs(c, o, where, "trailers", x->pool, &m->trailers)) ||
	    (rc = get_bytes(c, o, where, "content_encoding", x->pool, &m->encoding)))
		return rc;
	json_t *body = json_object_get(o, "body");
	json_t *b64 = json_object_get(o, "body_base64");
	if (b64 && !json_is_boolean(b64))
		return lfail(c, "%s.body_base64 is not true or false", where);
	if (body && !json_is_null(body)) {
		if (!json_is_string(body))
			return lfail(c, "%s.body is not a string", where);
		const char *s = json_string_value(body);
		size_t n = json_string_length(body);
		if (json_is_true(b64)) {
			if (rp_har_b64_decode(s, n, x->pool, &m->body))
				return lfail(c, "%s.body is not valid base64", where);
		} else {
			m->body = rp_pool_dup(x->pool, rp_slice(s, n));
		}
		if (m->body.n > RP_LIMIT_BODY_RECORD)
			return lfail(c, "%s.body is larger than the record limit of %d bytes", where,
				     RP_LIMIT_BODY_RECORD);
	}
	if ((rc = get_uint(c, o, where, "wire_len", UINT64_MAX >> 1, &v)))
		return rc;
	m->wire_len = v;
	if ((rc = get_uint(c, o, where, "orig_len", UINT64_MAX >> 1, &v)))
		return rc;
	m->orig_len = v;
	return 0;
}

static int get_endpoint(struct lctx *c, json_t *o, const char *key, struct rp_endpoint *ep)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    (strcmp(json_string_value(v), "-") != 0 && rp_endpoint_parse(json_string_value(v), ep)))
		return lfail(c, "%s is not an address like 10.0.0.1:80 or [::1]:80", key);
	return 0;
}

static int get_time(struct lctx *c, json_t *t, const char *key, int64_t *out)
{
	json_t *v = json_object_get(t, key);
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return lfail(c, "timing.%s is not an integer (nanoseconds)", key);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int convert(struct lctx *c, json_t *o, struct rp_exchange *x)
{
	int rc;
	uint64_t v;
	if (!json_is_object(o))
		return lfail(c, "not a JSON object");
	json_t *rq = json_object_get(o, "request");
	json_t *rs = json_object_get(o, "response");
	if (!json_is_object(rq))
		return lfail(c, "request is missing or not an object");
	if (rs && !json_is_null(rs) && !json_is_object(rs))
		return lfail(c, "response is not an object");
	if ((rc = get_uint(c, o, "", "conn", UINT64_MAX >> 1, &x->conn_id)) ||
	    (rc = get_uint(c, o, "", "stream", UINT32_MAX, &v)))
		return rc;
	x->stream_id = (uint32_t)v;
	if ((rc = get_uint(c, o, "", "seq", UINT32_MAX, &v)))
		return rc;
	x->conn_seq = (uint32_t)v;
	if ((rc = get_uint(c, o, "", "flags", UINT32_MAX, &v)))
		return rc;
	x->flags = (uint32_t)v;
	json_t *proto = json_object_get(o, "proto");
	if (proto && (!json_is_string(proto) ||
		      rp_proto_parse(rp_slice_str(json_string_value(proto)), &x->proto)))
		return lfail(c, "proto is not one of h1.0, h1.1, h2, h2c, ?");
	if ((rc = get_endpoint(c, o, "client", &x->client)) ||
	    (rc = get_endpoint(c, o, "server", &x->server)))
		return rc;
	json_t *t = json_object_get(o, "timing");
	if (t && !json_is_object(t))
		return lfail(c, "timing is not an object");
	if (t && ((rc = get_time(c, t, "req_start", &x->t.req_start)) ||
		  (rc = get_time(c, t, "req_end", &x->t.req_end)) ||
		  (rc = get_time(c, t, "resp_start", &x->t.resp_start)) ||
		  (rc = get_time(c, t, "resp_end", &x->t.resp_end))))
		return rc;
	if ((rc = get_bytes(c, rq, "request", "method", x->pool, &x->req.method)) ||
	    (rc = get_bytes(c, rq, "request", "scheme", x->pool, &x->req.scheme)) ||
	    (rc = get_bytes(c, rq, "request", "authority", x->pool, &x->req.authority)) ||
	    (rc = get_bytes(c, rq, "request", "target", x->pool, &x->req.target)) ||
	    (rc = get_message(c, rq, "request", x, &x->req.m)))
		return rc;
	if (x->req.method.n == 0)
		return lfail(c, "request.method is missing or empty");
	if (rs && json_is_object(rs)) {
		if ((rc = get_uint(c, rs, "response", "status", 999, &v)))
			return rc;
		x->resp.status = (uint16_t)v;
		if ((rc = get_bytes(c, rs, "response", "reason", x->pool, &x->resp.reason)) ||
		    (rc = get_message(c, rs, "response", x, &x->resp.m)))
			return rc;
	}
	return 0;
}

int rp_har_jsonl_parse(const char *line, size_t n, size_t line_no, struct rp_exchange **x,
		       char *err, size_t errlen)
{
	struct lctx c = {.line = line_no, .err = err, .errlen = errlen};
	json_error_t je;
	json_t *o = json_loadb(line, n, JSON_ALLOW_NUL, &je);
	if (!o) {
		if (err)
			snprintf(err, errlen, "line %zu, column %d: %s", line_no, je.column, je.text);
		return RP_E_FORMAT;
	}
	struct rp_exchange *e = rp_exchange_new();
	int rc = convert(&c, o, e);
	json_decref(o);
	if (rc) {
		rp_exchange_free(e);
		return rc;
	}
	*x = e;
	return 0;
}
