/*
 * route: request paths grouped into templates ("/users/123" and
 * "/users/456" are both "GET /users/{id}") so that a report speaks per
 * endpoint.  Pure.  Each path segment, and each dot-separated part of one
 * ("app.3f9a8b7c.js"), is classified on its own; the query is dropped.
 * Classification looks at the characters only, so the same path always
 * gives the same template.
 */
#include "config.h"

#include <stdio.h>

#include "reprise/diff.h"

static int is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_uuid(const uint8_t *p, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return 0;
		} else if (!is_hex(p[i])) {
			return 0;
		}
	}
	return 1;
}

static const char *classify(const uint8_t *p, size_t n)
{
	size_t digits = 0, hex = 0, alpha = 0, tok = 0;
	if (n == 0)
		return NULL;
	if (is_uuid(p, n))
		return "{uuid}";
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		int d = c >= '0' && c <= '9';
		int a = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		digits += d;
		alpha += a;
		hex += is_hex(c);
		tok += d || a || c == '-' || c == '_';
	}
	if (digits == n)
		return "{id}";
	if (hex == n && n >= 8 && digits)
		return "{hex}";
	if (tok == n && n >= 16 && digits && alpha)
		return "{token}";
	return NULL;
}

struct out {
	char *p;
	size_t n, cap;
};

static void put(struct out *o, const void *s, size_t n)
{
	while (n-- && o->n + 1 < o->cap)
		o->p[o->n++] = *(const char *)s, s = (const char *)s + 1;
	o->p[o->n] = 0;
}

void rp_diff_route(struct rp_slice method, struct rp_slice target, char *out, size_t outlen)
{
	struct out o = {out, 0, outlen};
	const uint8_t *p = target.p, *e = target.p + target.n;

	if (!outlen)
		return;
	out[0] = 0;
	put(&o, method.n ? method.p : (const uint8_t *)"-", method.n ? method.n : 1);
	put(&o, " ", 1);
	/* absolute-form: drop scheme and authority */
	for (const uint8_t *q = p; q + 2 < e && *q != '/'; q++)
		if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
			p = q + 3;
			while (p < e && *p != '/' && *p != '?')
				p++;
			break;
		}
	for (const uint8_t *q = p; q < e; q++)
		if (*q == '?' || *q == '#') {
			e = q;
			break;
		}
	if (p == e) {
		put(&o, "/", 1);
		return;
	}
	while (p < e) {
		if (*p == '/') {
			put(&o, "/", 1);
			p++;
			continue;
		}
		const uint8_t *seg = p;
		while (p < e && *p != '/')
			p++;
		const char *whole = classify(seg, (size_t)(p - seg));
		if (whole) {
			put(&o, whole, strlen(whole));
			continue;
		}
		for (const uint8_t *part = seg; part < p;) {
			const uint8_t *pe = part;
			while (pe < p && *pe != '.')
				pe++;
			const char *t = classify(part, (size_t)(pe - part));
			if (t)
				put(&o, t, strlen(t));
			else
				put(&o, part, (size_t)(pe - part));
			if (pe < p)
				put(&o, ".", 1);
			part = pe < p ? pe + 1 : pe;
		}
	}
}
