/*
 * request: the rewrite stage of the replay — the target URL, the rewrite
 * rules, and the bytes of the HTTP/1.1 request that replays a recorded
 * exchange.  Runs when an exchange enters the read-ahead window, so the
 * event loop only writes finished buffers.  Invariants: what is written is
 * always one well-framed HTTP/1.1 request (Content-Length framing, no
 * hop-by-hop fields copied, no field with CR, LF or NUL in it), whatever
 * the record holds; the recorded exchange is never modified.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>
#include <stdlib.h>

#include "reprise/coding.h"
#include "reprise/limits.h"
#include "reprise/replay.h"

struct set_header {
	char *name, *value;
};

struct path_rule {
	pcre2_code *re;
	char *repl;
};

struct rp_replay_rewrite {
	enum rp_replay_host host;
	struct set_header *set;
	size_t nset;
	char **drop;
	size_t ndrop;
	struct path_rule *paths;
	size_t npaths;
};

/* ---- target ---- */

int rp_replay_target_parse(const char *url, struct rp_replay_target *t, const char **why)
{
	const char *p, *host, *host_end, *port_s = NULL;
	memset(t, 0, sizeof(*t));
	if (strncmp(url, "https://", 8) == 0) {
		*why = "https targets are not supported yet: use http://HOST:PORT";
		return RP_E_USAGE;
	}
	if (strncmp(url, "http://", 7) != 0) {
		*why = "expected http://HOST[:PORT][/PREFIX]";
		return RP_E_USAGE;
	}
	p = url + 7;
	if (*p == '[') {
		host = p + 1;
		host_end = strchr(host, ']');
		if (!host_end) {
			*why = "unterminated '[' in the host";
			return RP_E_USAGE;
		}
		p = host_end + 1;
	} else {
		host = p;
		while (*p && *p != ':' && *p != '/')
			p++;
		host_end = p;
	}
	if (host_end == host || (size_t)(host_end - host) >= sizeof(t->host)) {
		*why = "missing or overlong host";
		return RP_E_USAGE;
	}
	memcpy(t->host, host, (size_t)(host_end - host));
	t->port = 80;
	if (*p == ':') {
		port_s = ++p;
		uint64_t v = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > 65535)
				break;
			p++;
		}
		if (p == port_s || v == 0 || v > 65535 || (*p && *p != '/')) {
			*why = "the port must be a number from 1 to 65535";
			return RP_E_USAGE;
		}
		t->port = (uint16_t)v;
	}
	if (*p == '/') {
		size_t n = strlen(p);
		while (n && p[n - 1] == '/')
			n--;
		if (n >= sizeof(t->base_path) || memchr(p, '?', n) || memchr(p, '#', n)) {
			*why = "the path prefix must be a plain path";
			return RP_E_USAGE;
		}
		memcpy(t->base_path, p, n);
	} else if (*p) {
		*why = "expected http://HOST[:PORT][/PREFIX]";
		return RP_E_USAGE;
	}
	int v6 = strchr(t->host, ':') != NULL;
	if (t->port == 80)
		snprintf(t->authority, sizeof(t->authority), v6 ? "[%s]" : "%s", t->host);
	else
		snprintf(t->authority, sizeof(t->authority), v6 ? "[%s]:%u" : "%s:%u", t->host,
			 t->port);
	return 0;
}

/* ---- rewrite rules ---- */

struct rp_replay_rewrite *rp_replay_rewrite_new(enum rp_replay_host host)
{
	struct rp_replay_rewrite *rw = rp_xcalloc(1, sizeof(*rw));
	rw->host = host;
	return rw;
}

void rp_replay_rewrite_free(struct rp_replay_rewrite *rw)
{
	if (!rw)
		return;
	for (size_t i = 0; i < rw->nset; i++) {
		free(rw->set[i].name);
		free(rw->set[i].value);
	}
	for (size_t i = 0; i < rw->ndrop; i++)
		free(rw->drop[i]);
	for (size_t i = 0; i < rw->npaths; i++) {
		pcre2_code_free(rw->paths[i].re);
		free(rw->paths[i].repl);
	}
	free(rw->set);
	free(rw->drop);
	free(rw->paths);
	free(rw);
}

static int token(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", c)))
			return 0;
	}
	return 1;
}

static int clean_value(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == 0)
			return 0;
	return 1;
}

int rp_replay_rewrite_set_header(struct rp_replay_rewrite *rw, const char *spec, const char **why)
{
	const char *colon = strchr(spec, ':');
	if (!colon || !token(spec, (size_t)(colon - spec))) {
		*why = "expected 'Name: value' with a valid header name";
		return RP_E_USAGE;
	}
	struct rp_slice v = rp_slice_trim(rp_slice_str(colon + 1));
	if (!clean_value(v.p, v.n)) {
		*why = "a header value cannot hold CR, LF or NUL";
		return RP_E_USAGE;
	}
	rw->set = rp_xrealloc(rw->set, (rw->nset + 1) * sizeof(*rw->set));
	char *name = rp_xmalloc((size_t)(colon - spec) + 1);
	memcpy(name, spec, (size_t)(colon - spec));
	name[colon - spec] = 0;
	char *value = rp_xmalloc(v.n + 1);
	memcpy(value, v.p, v.n);
	value[v.n] = 0;
	rw->set[rw->nset].name = name;
	rw->set[rw->nset].value = value;
	rw->nset++;
	return 0;
}

int rp_replay_rewrite_drop_header(struct rp_replay_rewrite *rw, const char *name, const char **why)
{
	if (!token(name, strlen(name))) {
		*why = "expected a header name";
		return RP_E_USAGE;
	}
	rw->drop = rp_xrealloc(rw->drop, (rw->ndrop + 1) * sizeof(*rw->drop));
	rw->drop[rw->ndrop++] = rp_xstrdup(name);
	return 0;
}

int rp_replay_rewrite_path(struct rp_replay_rewrite *rw, const char *spec, char *err, size_t errlen)
{
	const char *sep = strstr(spec, "=>");
	if (!sep || sep == spec) {
		snprintf(err, errlen, "expected REGEX=>REPLACEMENT, e.g. '^/v1/=>/v2/'");
		return RP_E_USAGE;
	}
	int code = 0;
	PCRE2_SIZE off = 0;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)spec, (size_t)(sep - spec), 0, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "column %zu: %s", (size_t)off + 1, (const char *)msg);
		return RP_E_USAGE;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	rw->paths = rp_xrealloc(rw->paths, (rw->npaths + 1) * sizeof(*rw->paths));
	rw->paths[rw->npaths].re = re;
	rw->paths[rw->npaths].repl = rp_xstrdup(sep + 2);
	rw->npaths++;
	return 0;
}

/* ---- building the request ---- */

/* Fields that describe one hop, not the request: rebuilt, never copied. */
static const char *const hop_by_hop[] = {
	"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
	"upgrade", "expect", "content-length", "host", "http2-settings",
};

static int listed_in_connection(const struct rp_headers *h, struct rp_slice name)
{
	for (size_t i = 0; i < h->n; i++)
		if (rp_slice_eq_nocase(h->v[i].name, RP_SLICE_LIT("connection")) &&
		    rp_slice_list_has(h->v[i].value, name))
			return 1;
	return 0;
}

static int skip_field(const struct rp_replay_rewrite *rw, const struct rp_headers *h,
		      struct rp_slice name)
{
	if (name.n && name.p[0] == ':')
		return 1; /* HTTP/2 pseudo-header */
	for (size_t i = 0; i < RP_ARRAY_LEN(hop_by_hop); i++)
		if (rp_slice_eq_nocase(name, rp_slice_str(hop_by_hop[i])))
			return 1;
	for (size_t i = 0; rw && i < rw->ndrop; i++)
		if (rp_slice_eq_nocase(name, rp_slice_str(rw->drop[i])))
			return 1;
	return listed_in_connection(h, name);
}

static const struct set_header *set_for(const struct rp_replay_rewrite *rw, struct rp_slice name)
{
	for (size_t i = 0; rw && i < rw->nset; i++)
		if (rp_slice_eq_nocase(name, rp_slice_str(rw->set[i].name)))
			return &rw->set[i];
	return NULL;
}

/* The path and query of a request target (absolute-form loses its scheme
 * and authority; "*" and empty targets stay as they are or become "/"). */
static struct rp_slice origin_form(struct rp_slice t)
{
	if (t.n == 0)
		return RP_SLICE_LIT("/");
	if (t.p[0] == '/' || t.p[0] == '*')
		return t;
	for (size_t i = 0; i + 2 < t.n; i++) {
		if (t.p[i] == '/' || t.p[i] == '?')
			break;
		if (t.p[i] == ':' && t.p[i + 1] == '/' && t.p[i + 2] == '/') {
			size_t j = i + 3;
			while (j < t.n && t.p[j] != '/' && t.p[j] != '?')
				j++;
			if (j == t.n)
				return RP_SLICE_LIT("/");
			if (t.p[j] == '?') {
				/* "http://h?x": keep the query after an explicit "/" */
				return t; /* left for the caller to reject as unclean */
			}
			return rp_slice(t.p + j, t.n - j);
		}
	}
	return t;
}

static int method_wants_length(struct rp_slice m)
{
	return rp_slice_eq(m, RP_SLICE_LIT("POST")) || rp_slice_eq(m, RP_SLICE_LIT("PUT")) ||
	       rp_slice_eq(m, RP_SLICE_LIT("PATCH"));
}

int rp_replay_build_request(const struct rp_replay_rewrite *rw, const struct rp_replay_target *t,
			    const struct rp_exchange *x, struct rp_buf *out, const char **why)
{
	const struct rp_request *rq = &x->req;
	struct rp_slice method = rq->method.n ? rq->method : RP_SLICE_LIT("GET");
	struct rp_slice target = origin_form(rq->target);
	struct rp_buf body, path;
	int rc = 0;

	rp_buf_init(&body, RP_LIMIT_BODY_DECODED);
	rp_buf_init(&path, RP_LIMIT_H1_START_LINE * 4);
	*why = NULL;

	if (!token((const char *)method.p, method.n) || !clean_value(target.p, target.n) ||
	    memchr(target.p, ' ', target.n)) {
		*why = "the recorded request line cannot be sent as it is (space, CR, LF or NUL)";
		rc = RP_E_FORMAT;
		goto out;
	}
	/* path rewrites, in order, each on the result of the previous */
	rp_buf_append(&path, target.p, target.n);
	for (size_t i = 0; rw && i < rw->npaths; i++) {
		PCRE2_SIZE n = RP_LIMIT_H1_START_LINE * 2;
		PCRE2_UCHAR *res = rp_xmalloc(n);
		int k = pcre2_substitute(rw->paths[i].re, (PCRE2_SPTR)(path.base + path.rd),
					 rp_buf_len(&path), 0, 0, NULL, NULL,
					 (PCRE2_SPTR)rw->paths[i].repl, PCRE2_ZERO_TERMINATED, res, &n);
		if (k > 0) {
			rp_buf_clear(&path);
			rp_buf_append(&path, res, n);
		} else if (k < 0 && k != PCRE2_ERROR_NOMATCH) {
			*why = "a --rewrite-path replacement failed (bad group reference, or too long)";
			free(res);
			rc = RP_E_FORMAT;
			goto out;
		}
		free(res);
	}
	if (!clean_value(path.base + path.rd, rp_buf_len(&path))) {
		*why = "a --rewrite-path result holds CR, LF or NUL";
		rc = RP_E_FORMAT;
		goto out;
	}

	/* the body, encoded again as it was on the wire */
	struct rp_slice b = rq->m.body;
	if (b.n && rq->m.encoding.n) {
		if (rp_coding_encode(rq->m.encoding, b, &body)) {
			*why = "the request body could not be encoded with its recorded Content-Encoding";
			rc = RP_E_FORMAT;
			goto out;
		}
		b = rp_buf_slice(&body);
	}

	rc = rp_buf_printf(out, "%.*s %s%.*s HTTP/1.1\r\n", (int)method.n, (const char *)method.p,
			   t->base_path, (int)rp_buf_len(&path), (const char *)path.base + path.rd);
	/* Host: a --set-header Host wins, then the chosen authority */
	const struct set_header *sh = set_for(rw, RP_SLICE_LIT("host"));
	struct rp_slice host = rp_slice_str(t->authority);
	if (rw && rw->host == RP_REPLAY_HOST_KEEP) {
		const struct rp_header *hh = rp_headers_get(&rq->m.headers, RP_SLICE_LIT("host"));
		if (rq->authority.n)
			host = rq->authority;
		else if (hh)
			host = hh->value;
	}
	if (sh)
		host = rp_slice_str(sh->value);
	if (!clean_value(host.p, host.n))
		host = rp_slice_str(t->authority);
	rc = rc ? rc : rp_buf_printf(out, "Host: %.*s\r\n", (int)host.n, (const char *)host.p);

	const struct rp_headers *h = &rq->m.headers;
	for (size_t i = 0; i < h->n && !rc; i++) {
		struct rp_slice name = h->v[i].name;
		const struct set_header *s = set_for(rw, name);
		if (s) {
			/* replaced at its first occurrence, later ones dropped */
			int first = 1;
			for (size_t j = 0; j < i; j++)
				if (rp_slice_eq_nocase(h->v[j].name, name))
					first = 0;
			if (first && !rp_slice_eq_nocase(name, RP_SLICE_LIT("host")))
				rc = rp_buf_printf(out, "%s: %s\r\n", s->name, s->value);
			continue;
		}
		if (skip_field(rw, h, name) || !token((const char *)name.p, name.n) ||
		    !clean_value(h->v[i].value.p, h->v[i].value.n))
			continue;
		rc = rp_buf_printf(out, "%.*s: %.*s\r\n", (int)name.n, (const char *)name.p,
				   (int)h->v[i].value.n, (const char *)h->v[i].value.p);
	}
	/* set headers the recording did not have */
	for (size_t i = 0; rw && i < rw->nset && !rc; i++) {
		struct rp_slice name = rp_slice_str(rw->set[i].name);
		if (rp_slice_eq_nocase(name, RP_SLICE_LIT("host")) || rp_headers_get(h, name))
			continue;
		int dup = 0;
		for (size_t j = 0; j < i; j++)
			if (rp_slice_eq_nocase(name, rp_slice_str(rw->set[j].name)))
				dup = 1;
		if (!dup)
			rc = rp_buf_printf(out, "%s: %s\r\n", rw->set[i].name, rw->set[i].value);
	}
	int had_length = rp_headers_get(h, RP_SLICE_LIT("content-length")) ||
			 rp_headers_get(h, RP_SLICE_LIT("transfer-encoding"));
	if (!rc && (b.n || had_length || method_wants_length(method)))
		rc = rp_buf_printf(out, "Content-Length: %zu\r\n", b.n);
	rc = rc ? rc : rp_buf_append(out, "\r\n", 2);
	rc = rc ? rc : rp_buf_append(out, b.p, b.n);
	if (rc) {
		*why = "the request is larger than the replay buffer";
		rc = RP_E_LIMIT;
	}
out:
	rp_buf_dispose(&body);
	rp_buf_dispose(&path);
	return rc;
}
