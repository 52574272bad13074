/*
 * json: the byte-level helpers of the HAR and JSON lines codecs — base64,
 * UTF-8 validation, text-or-binary decisions and slice <-> jansson value
 * conversions.  jansson only accepts valid UTF-8 strings, so every slice
 * goes through here on its way into a JSON value.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "har_int.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t rp_har_b64_encode(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int rp_har_b64_decode(const char *s, size_t n, struct rp_pool *pool, struct rp_slice *out)
{
	uint8_t *d = rp_pool_alloc(pool, n / 4 * 3 + 3);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64_value(c);
		if (v < 0 || pad)
			return RP_E_FORMAT;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6 || pad > 2) /* one dangling character carries no byte */
		return RP_E_FORMAT;
	*out = rp_slice(d, o);
	return 0;
}

/* Length of the UTF-8 sequence at |p| (|n| left), or 0 when malformed. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t cp, min;
	if ((c & 0xe0) == 0xc0) {
		len = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int rp_har_utf8_valid(struct rp_slice s)
{
	for (size_t i = 0; i < s.n;) {
		if (s.p[i] < 0x80) {
			i++;
			continue;
		}
		size_t l = utf8_seq(s.p + i, s.n - i);
		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

int rp_har_is_text(struct rp_slice s)
{
	for (size_t i = 0; i < s.n; i++) {
		uint8_t c = s.p[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f)
			return 0;
	}
	return rp_har_utf8_valid(s);
}

json_t *rp_har_json_text(struct rp_slice s)
{
	json_t *j;
	if (rp_har_utf8_valid(s)) {
		j = json_stringn((const char *)(s.p ? s.p : (const uint8_t *)""), s.n);
		if (!j)
			rp_oom();
		return j;
	}
	/* ISO-8859-1 to UTF-8: every byte >= 0x80 becomes two bytes */
	char *u = rp_xmalloc(s.n * 2 + 1);
	size_t o = 0;
	for (size_t i = 0; i < s.n; i++) {
		uint8_t c = s.p[i];
		if (c < 0x80) {
			u[o++] = (char)c;
		} else {
			u[o++] = (char)(0xc0 | (c >> 6));
			u[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	j = json_stringn(u, o);
	free(u);
	if (!j)
		rp_oom();
	return j;
}

static json_t *b64_string(struct rp_slice s)
{
	char *b = rp_xmalloc(RP_HAR_B64_LEN(s.n) + 1);
	size_t n = rp_har_b64_encode(s.p, s.n, b);
	json_t *j = json_stringn(b, n);
	free(b);
	if (!j)
		rp_oom();
	return j;
}

json_t *rp_har_json_bytes(struct rp_slice s)
{
	if (rp_har_utf8_valid(s))
		return rp_har_json_text(s);
	json_t *o = json_object();
	json_object_set_new(o, "base64", b64_string(s));
	return o;
}

json_t *rp_har_json_body(struct rp_slice s, int *base64)
{
	*base64 = !rp_har_is_text(s);
	return *base64 ? b64_string(s) : rp_har_json_text(s);
}

int rp_har_json_get_bytes(json_t *v, struct rp_pool *pool, struct rp_slice *out)
{
	if (json_is_string(v)) {
		*out = rp_pool_dup(pool, rp_slice(json_string_value(v), json_string_length(v)));
		return 0;
	}
	json_t *b = json_is_object(v) ? json_object_get(v, "base64") : NULL;
	if (!json_is_string(b))
		return RP_E_FORMAT;
	return rp_har_b64_decode(json_string_value(b), json_string_length(b), pool, out);
}

int64_t rp_har_ms_to_ns(double ms)
{
	if (!isfinite(ms) || ms <= 0)
		return 0;
	if (ms > 9.2e12) /* about 292 years: the int64 range of nanoseconds */
		return INT64_MAX / 2;
	return (int64_t)(ms * 1e6 + 0.5);
}
