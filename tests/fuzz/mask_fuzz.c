/*
 * mask_fuzz: libFuzzer target for the mask stage's parsers.  The first byte
 * picks what the rest is: a rule file (compiled, and when it compiles,
 * applied to a small exchange), or a body masked by a fixed rule set as JSON,
 * urlencoded form, multipart or text, and as a request target, a Cookie and a
 * Set-Cookie value.  Nothing may crash, hang or read out of bounds, and a
 * body that is one valid JSON document must still be one after masking
 * (jansson checks both), with every string still valid UTF-8.  A broken
 * property aborts, which the fuzzer (or tests/fuzz/mask_fuzz_replay in make
 * check) reports.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "reprise/mask.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules_text[] =
	"header Authorization tokenize\n"
	"cookie sid tokenize\n"
	"query email fake\n"
	"path /users/{}/** tokenize\n"
	"path ~^[0-9]{6,}$ redact\n"
	"json $..password redact\n"
	"json $.items[*].card fake\n"
	"json $..['email','mail'] fake\n"
	"json $.a.b[1] keep-last=2\n"
	"json $.keep keep\n"
	"form password,pin redact\n"
	"form e* fake\n"
	"text email,card,ssn,phone,iban,ipv4,ipv6 fake\n"
	"text jwt,bearer,aws-key tokenize\n"
	"text ~(?i)secret=(\\w+) redact\n";

static struct rp_mask *fixed(void)
{
	static struct rp_mask *m;
	if (!m) {
		struct rp_mask_rules *r = NULL;
		if (rp_mask_rules_parse("fuzz.rules", rules_text, sizeof(rules_text) - 1, &r, NULL))
			abort();
		static const char key[] = "mask fuzz key 0123456789";
		if (rp_mask_new(r, key, sizeof(key) - 1, &m))
			abort();
	}
	return m;
}

static void broken(const char *what)
{
	fprintf(stderr, "mask_fuzz: %s\n", what);
	abort();
}

static struct rp_exchange *exchange(struct rp_slice target, struct rp_slice ctype, struct rp_slice body,
				    struct rp_slice cookie)
{
	struct rp_exchange *x = rp_exchange_new();
	x->req.method = RP_SLICE_LIT("POST");
	x->req.target = target.n ? rp_pool_dup(x->pool, target) : RP_SLICE_LIT("/");
	if (ctype.n)
		rp_headers_add(&x->req.m.headers, x->pool, RP_SLICE_LIT("Content-Type"), ctype);
	if (cookie.n) {
		rp_headers_add(&x->req.m.headers, x->pool, RP_SLICE_LIT("Cookie"), cookie);
		rp_headers_add(&x->resp.m.headers, x->pool, RP_SLICE_LIT("Set-Cookie"), cookie);
		rp_headers_add(&x->req.m.headers, x->pool, RP_SLICE_LIT("Referer"), cookie);
	}
	x->req.m.body = rp_pool_dup(x->pool, body);
	x->resp.status = 200;
	if (ctype.n)
		rp_headers_add(&x->resp.m.headers, x->pool, RP_SLICE_LIT("Content-Type"), ctype);
	x->resp.m.body = x->req.m.body;
	return x;
}

static int utf8_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
		if (!k || i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0] % 5;
	struct rp_slice in = rp_slice(data + 1, size - 1);

	if (mode == 0) {
		/* a rule file; includes are refused by name so that nothing is read */
		if (memmem(in.p, in.n, "include", 7))
			return 0;
		struct rp_mask_rules *r = NULL;
		struct rp_mask_error err;
		int rc = rp_mask_rules_parse("fuzz.rules", in.p, in.n, &r, &err);
		if (rc) {
			if (!err.msg[0] || err.line == 0)
				broken("a rule error without a message or line");
			return 0;
		}
		struct rp_mask *m = NULL;
		static const char key[] = "mask fuzz key 0123456789";
		if (rp_mask_new(r, key, sizeof(key) - 1, &m))
			broken("mask_new failed");
		static const char body[] = "{\"email\":\"a@b.io\",\"n\":[1,\"4111111111111111\"]}";
		struct rp_exchange *x = exchange(RP_SLICE_LIT("/u/a@b.io?q=x%40y.io"),
						 RP_SLICE_LIT("application/json"), RP_SLICE_LIT(body),
						 RP_SLICE_LIT("sid=abc; e=c@d.io"));
		rp_endpoint_parse("81.2.69.160:1000", &x->client);
		rp_mask_apply(m, x, NULL);
		rp_exchange_free(x);
		rp_mask_free(m);
		return 0;
	}

	static const char *const types[] = {"", "application/json",
					    "application/x-www-form-urlencoded",
					    "multipart/form-data; boundary=XyZ", "text/plain"};
	struct rp_slice ct = rp_slice_str(types[mode]);
	/* the input as a body, and its first line as target and cookie */
	const uint8_t *nl = memchr(in.p, '\n', in.n);
	struct rp_slice line = rp_slice(in.p, nl ? (size_t)(nl - in.p) : RP_MIN(in.n, (size_t)200));
	struct rp_exchange *x = exchange(line, ct, in, line);
	rp_mask_apply(fixed(), x, NULL);
	if (mode == 1) {
		json_error_t e;
		json_t *before = json_loadb((const char *)in.p, in.n, 0, &e);
		if (before) {
			json_t *after = json_loadb((const char *)x->req.m.body.p, x->req.m.body.n, 0, &e);
			if (!after) {
				fprintf(stderr, "before: %.*s\nafter:  %.*s\n%s\n", (int)in.n,
					(const char *)in.p, (int)x->req.m.body.n,
					(const char *)x->req.m.body.p, e.text);
				broken("valid JSON became invalid");
			}
			json_decref(after);
			json_decref(before);
		}
	}
	if (utf8_ok(in.p, in.n) && !utf8_ok(x->req.m.body.p, x->req.m.body.n))
		broken("valid UTF-8 became invalid");
	rp_exchange_free(x);
	return 0;
}
