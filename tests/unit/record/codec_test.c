/*
 * codec_test: the record codec (src/record/record.c).  Hand-built exchanges
 * and seeded random ones survive encode -> decode field by field; records
 * written by hand from the field table in record.c (an independent writer)
 * match the encoder byte for byte, and with unknown fields of every wire type
 * added they still decode; newer majors are refused; every prefix of a valid
 * record and thousands of random corruptions fail cleanly.  Every decode
 * reads from an exact-size heap copy so that ASan sees any overread.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "reprise/limits.h"
#include "reprise/record.h"
#include "xgen.h"

/* ---- an independent record writer, from the table in record.c ----------- */

struct tw {
	uint8_t *p;
	size_t n, cap;
	size_t open[8];
	int depth;
};

static void tw_raw(struct tw *w, const void *p, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2 + 64;
		w->p = realloc(w->p, w->cap);
		assert_non_null(w->p);
	}
	memcpy(w->p + w->n, p, n);
	w->n += n;
}

static size_t varint_to(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

static void tw_varint(struct tw *w, uint64_t v)
{
	uint8_t b[10];
	tw_raw(w, b, varint_to(b, v));
}

static void tw_tag(struct tw *w, uint64_t num, unsigned wt)
{
	tw_varint(w, num << 3 | wt);
}

static void tw_u(struct tw *w, uint64_t num, uint64_t v)
{
	tw_tag(w, num, 0);
	tw_varint(w, v);
}

static void tw_f64(struct tw *w, uint64_t num, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	tw_tag(w, num, 1);
	tw_raw(w, b, 8);
}

static void tw_b(struct tw *w, uint64_t num, const void *p, size_t n)
{
	tw_tag(w, num, 2);
	tw_varint(w, n);
	tw_raw(w, p, n);
}

static void tw_s(struct tw *w, uint64_t num, const char *s)
{
	tw_b(w, num, s, strlen(s));
}

static void tw_open(struct tw *w, uint64_t num)
{
	tw_tag(w, num, 3);
	assert_true(w->depth < 8);
	w->open[w->depth++] = w->n;
}

static void tw_close(struct tw *w)
{
	size_t at = w->open[--w->depth];
	uint8_t b[10];
	size_t k = varint_to(b, w->n - at);
	tw_raw(w, b, k); /* make room */
	memmove(w->p + at + k, w->p + at, w->n - k - at);
	memcpy(w->p + at, b, k);
}

static void tw_head(struct tw *w, uint8_t major, uint8_t minor)
{
	uint8_t h[6] = {'R', 'P', 'X', '1', major, minor};
	w->n = 0;
	w->depth = 0;
	tw_raw(w, h, 6);
}

static void tw_end(struct tw *w)
{
	tw_u(w, 15, w->n);
}

static void tw_free(struct tw *w)
{
	free(w->p);
	memset(w, 0, sizeof(*w));
}

/* ---- helpers -------------------------------------------------------------- */

/* Decodes an exact heap copy of |p|; the copy is returned in |*copy| (the
 * decoded slices point into it) and must be freed by the caller. */
static int decode_copy(const uint8_t *p, size_t n, struct rp_exchange *x,
		       struct rp_record_body_ref refs[2], const char **why, uint8_t **copy)
{
	*copy = malloc(n ? n : 1);
	assert_non_null(*copy);
	if (n)
		memcpy(*copy, p, n);
	return rp_record_decode(rp_slice(n ? *copy : NULL, n), x, refs, why);
}

static void expect_decode_error(const struct tw *w, int err, const char *why_expected)
{
	struct rp_exchange *x = rp_exchange_new();
	const char *why = NULL;
	uint8_t *copy;
	int rc = decode_copy(w->p, w->n, x, NULL, &why, &copy);
	if (rc != err || !why || (why_expected && strcmp(why, why_expected) != 0))
		fail_msg("expected %s (%s), got %s (%s)", rp_err_name(err),
			 why_expected ? why_expected : "any", rp_err_name(rc), why ? why : "no why");
	assert_int_equal(x->id, 0); /* a failed decode leaves nothing behind */
	free(copy);
	rp_exchange_free(x);
}

static void expect_diff_null(const struct rp_exchange *a, const struct rp_record_body_ref *refs,
			     const struct rp_exchange *b)
{
	char buf[256];
	const char *d = xgen_diff(a, refs, b, buf, sizeof(buf));
	if (d)
		fail_msg("round trip changed the exchange: %s", d);
}

static const uint8_t v6addr[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42};
static const uint8_t bin_value[] = {0x00, 0xff, 0x80, 0x0a, 0x0d, 0x7f};

static struct rp_exchange *full_exchange(void)
{
	struct rp_exchange *x = rp_exchange_new();
	xgen_full(x);
	return x;
}

static void tw_header(struct tw *w, unsigned num, const char *name, const void *v, size_t n)
{
	tw_open(w, num);
	tw_s(w, 1, name);
	tw_b(w, 2, v, n);
	tw_close(w);
}

/* full_exchange() written by hand, in the encoder's field order. */
static void tw_full(struct tw *w, const struct rp_record_body_ref *resp_ref)
{
	tw_head(w, 1, 0);
	tw_u(w, 1, 42);
	tw_u(w, 2, 300);
	tw_u(w, 3, 5);
	tw_u(w, 4, 2);
	tw_u(w, 5, 3);
	tw_u(w, 6, RP_XF_MASKED | RP_XF_GAP);
	tw_open(w, 7);
	tw_u(w, 1, 4);
	tw_b(w, 2, "\x7f\x00\x00\x01", 4);
	tw_u(w, 3, 40000);
	tw_close(w);
	tw_open(w, 8);
	tw_u(w, 1, 6);
	tw_b(w, 2, v6addr, 16);
	tw_u(w, 3, 443);
	tw_close(w);
	tw_f64(w, 9, 1795000000000000001ULL);
	tw_f64(w, 10, 1795000000000000002ULL);
	tw_f64(w, 11, (uint64_t)-5);
	tw_f64(w, 12, (uint64_t)INT64_MAX);
	tw_open(w, 13);
	tw_s(w, 1, "POST");
	tw_s(w, 2, "https");
	tw_s(w, 3, "example.com:8443");
	tw_s(w, 4, "/api/v1/items?q=1");
	tw_header(w, 8, "Content-Type", "application/json", 16);
	tw_header(w, 8, "X-Empty", "", 0);
	tw_header(w, 8, "x-dup", "HVALUE-ONE", 10);
	tw_header(w, 8, "X-Dup", bin_value, sizeof(bin_value));
	tw_header(w, 9, "Grpc-Status", "TVALUE0", 7);
	tw_s(w, 10, "{\"name\":\"widget\"}");
	tw_u(w, 13, 17);
	tw_u(w, 14, 17);
	tw_close(w);
	tw_open(w, 14);
	tw_u(w, 1, 201);
	tw_s(w, 2, "Created");
	tw_header(w, 8, "Content-Encoding", "gzip", 4);
	tw_header(w, 8, "Location", "/items/7", 8);
	if (resp_ref) {
		tw_open(w, 11);
		tw_b(w, 1, resp_ref->digest, 32);
		tw_u(w, 2, resp_ref->len);
		tw_close(w);
	} else {
		tw_s(w, 10, "{\"id\":7}");
	}
	tw_s(w, 12, "gzip");
	tw_u(w, 13, 28);
	tw_u(w, 14, 8);
	tw_close(w);
	tw_end(w);
}

static void encode_ok(const struct rp_exchange *x, const struct rp_record_opts *o, struct rp_buf *b)
{
	rp_buf_init(b, RP_LIMIT_RECORD);
	assert_int_equal(rp_record_encode(x, o, b), 0);
}

static void read_file(const char *path, uint8_t **p, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	*p = malloc((size_t)len + 1);
	assert_non_null(*p);
	*n = fread(*p, 1, (size_t)len, f);
	assert_int_equal(*n, (size_t)len);
	fclose(f);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_hand_roundtrip(void **state)
{
	struct rp_exchange *x = full_exchange(), *y = rp_exchange_new();
	struct rp_buf b;
	encode_ok(x, NULL, &b);
	const char *why = NULL;
	uint8_t *copy;
	assert_int_equal(decode_copy(b.base, b.wr, y, NULL, &why, &copy), 0);
	assert_null(why);
	expect_diff_null(x, NULL, y);

	/* spot checks, independent of xgen_diff */
	assert_int_equal(y->id, 42);
	assert_int_equal(y->proto, RP_PROTO_H2);
	assert_int_equal(y->server.family, 6);
	assert_memory_equal(y->server.addr, v6addr, 16);
	assert_int_equal(y->t.resp_start, -5);
	assert_int_equal(y->t.resp_end, INT64_MAX);
	assert_int_equal(y->req.m.headers.n, 4);
	assert_int_equal(y->req.m.headers.cap, 4); /* counted, allocated once */
	assert_int_equal(y->req.m.headers.v[1].value.n, 0);
	assert_non_null(y->req.m.headers.v[1].value.p);
	assert_memory_equal(y->req.m.headers.v[2].name.p, "x-dup", 5); /* case kept */
	assert_memory_equal(y->req.m.headers.v[3].value.p, bin_value, sizeof(bin_value));
	assert_int_equal(y->resp.status, 201);
	/* zero copy: slices point into the input */
	assert_true(y->req.method.p >= copy && y->req.method.p < copy + b.wr);
	assert_true(y->resp.m.body.p >= copy && y->resp.m.body.p < copy + b.wr);
	/* the decoded table still grows like any other */
	rp_headers_add(&y->req.m.headers, y->pool, RP_SLICE_LIT("A"), RP_SLICE_LIT("b"));
	assert_int_equal(y->req.m.headers.n, 5);
	assert_non_null(rp_headers_get(&y->req.m.headers, RP_SLICE_LIT("x-empty")));

	free(copy);
	rp_buf_dispose(&b);
	rp_exchange_free(x);
	rp_exchange_free(y);
}

/* The encoder writes exactly what the documented field table says. */
static void test_layout_matches_table(void **state)
{
	struct rp_exchange *x = full_exchange();
	struct tw w = {0};
	struct rp_buf b;
	tw_full(&w, NULL);
	encode_ok(x, NULL, &b);
	assert_int_equal(b.wr, w.n);
	assert_memory_equal(b.base, w.p, w.n);

	struct rp_record_body_ref ref = {.present = 1, .len = 123456};
	for (int i = 0; i < RP_DIGEST_LEN; i++)
		ref.digest[i] = (uint8_t)(i * 7);
	struct rp_record_opts o = {{NULL, &ref}};
	rp_buf_clear(&b);
	assert_int_equal(rp_record_encode(x, &o, &b), 0);
	tw_full(&w, &ref);
	assert_int_equal(b.wr, w.n);
	assert_memory_equal(b.base, w.p, w.n);
	tw_free(&w);
	rp_buf_dispose(&b);
	rp_exchange_free(x);
}

/* A record written by version 1.0 of the format, committed to the tree:
 * every later reader must decode it to the same exchange, and this encoder
 * must still produce it byte for byte. */
static void test_committed_record(void **state)
{
	uint8_t *p;
	size_t n;
	read_file(RP_SRCDIR "/tests/data/record/full-v1.0.rpx", &p, &n);
	struct rp_exchange *x = full_exchange(), *y = rp_exchange_new();
	const char *why = NULL;
	assert_int_equal(rp_record_decode(rp_slice(p, n), y, NULL, &why), 0);
	expect_diff_null(x, NULL, y);
	struct rp_buf b;
	encode_ok(x, NULL, &b);
	assert_int_equal(b.wr, n);
	assert_memory_equal(b.base, p, n);
	rp_buf_dispose(&b);
	free(p);
	rp_exchange_free(x);
	rp_exchange_free(y);
}

static void test_empty_exchange(void **state)
{
	struct rp_exchange *x = rp_exchange_new(), *y = rp_exchange_new();
	struct rp_buf b;
	encode_ok(x, NULL, &b);
	/* head, empty request and response groups, end marker */
	assert_int_equal(b.wr, 6 + 2 + 2 + 2);
	uint8_t *copy;
	y->id = 9; /* decoding resets what the exchange held */
	rp_headers_add(&y->req.m.headers, y->pool, RP_SLICE_LIT("a"), RP_SLICE_LIT("b"));
	assert_int_equal(decode_copy(b.base, b.wr, y, NULL, NULL, &copy), 0);
	expect_diff_null(x, NULL, y);
	assert_int_equal(y->id, 0);
	assert_int_equal(y->req.m.headers.n, 0);
	assert_non_null(y->req.method.p); /* empty, never NULL */
	assert_non_null(y->resp.m.body.p);
	free(copy);
	rp_buf_dispose(&b);
	rp_exchange_free(x);
	rp_exchange_free(y);
}

static void test_body_refs(void **state)
{
	struct rp_exchange *x = full_exchange(), *y = rp_exchange_new();
	struct rp_record_body_ref refs[2] = {{0}}, got[2];
	for (int s = 0; s < 2; s++) {
		refs[s].present = 1;
		refs[s].len = s ? 1ULL << 40 : 0;
		memset(refs[s].digest, 0xa0 + s, RP_DIGEST_LEN);
	}
	struct rp_record_opts o = xgen_opts(refs);
	struct rp_buf b;
	encode_ok(x, &o, &b);
	uint8_t *copy;
	memset(got, 0x55, sizeof(got));
	assert_int_equal(decode_copy(b.base, b.wr, y, got, NULL, &copy), 0);
	expect_diff_null(x, refs, y);
	for (int s = 0; s < 2; s++) {
		assert_int_equal(got[s].present, 1);
		assert_int_equal(got[s].len, refs[s].len);
		assert_memory_equal(got[s].digest, refs[s].digest, RP_DIGEST_LEN);
	}
	assert_int_equal(y->req.m.body.n, 0);
	assert_int_equal(y->resp.m.body.n, 0);
	free(copy);
	/* refs may be NULL: the references are dropped, bodies stay empty */
	assert_int_equal(decode_copy(b.base, b.wr, y, NULL, NULL, &copy), 0);
	assert_int_equal(y->resp.m.body.n, 0);
	free(copy);
	/* one slot only; the other slot reads as absent */
	o.refs[RP_BODY_REQ] = NULL;
	rp_buf_clear(&b);
	assert_int_equal(rp_record_encode(x, &o, &b), 0);
	assert_int_equal(decode_copy(b.base, b.wr, y, got, NULL, &copy), 0);
	assert_int_equal(got[RP_BODY_REQ].present, 0);
	assert_int_equal(got[RP_BODY_RESP].present, 1);
	assert_true(rp_slice_eq(y->req.m.body, x->req.m.body));
	free(copy);
	rp_buf_dispose(&b);
	rp_exchange_free(x);
	rp_exchange_free(y);
}

#define RANDOM_ROUNDS 20000

static void test_random_roundtrip(void **state)
{
	struct xgen_rng r = {0x5eed0001};
	struct rp_buf b;
	rp_buf_init(&b, RP_LIMIT_RECORD);
	size_t total = 0, with_refs = 0, headers = 0;
	for (int i = 0; i < RANDOM_ROUNDS; i++) {
		struct rp_exchange *x = rp_exchange_new(), *y = rp_exchange_new();
		struct rp_record_body_ref refs[2], got[2];
		xgen_random(&r, x, refs);
		struct rp_record_opts o = xgen_opts(refs);
		/* append after existing bytes now and then: encode appends */
		rp_buf_clear(&b);
		size_t pre = (size_t)(i % 50 == 0 ? xgen_below(&r, 100) + 1 : 0);
		for (size_t k = 0; k < pre; k++)
			assert_int_equal(rp_buf_append(&b, "P", 1), 0);
		if (pre && i % 100 == 0)
			rp_buf_consume(&b, 1);
		size_t before = rp_buf_len(&b);
		assert_int_equal(rp_record_encode(x, &o, &b), 0);
		for (size_t k = 0; k < before; k++)
			assert_int_equal(b.base[b.rd + k], 'P');
		const uint8_t *rec = b.base + b.rd + before;
		size_t n = rp_buf_len(&b) - before;
		uint8_t *copy;
		const char *why = NULL;
		int rc = decode_copy(rec, n, y, got, &why, &copy);
		if (rc)
			fail_msg("round %d: decode failed: %s", i, why);
		char buf[256];
		const char *d = xgen_diff(x, refs, y, buf, sizeof(buf));
		if (d)
			fail_msg("round %d: %s", i, d);
		for (int s = 0; s < 2; s++) {
			assert_int_equal(got[s].present, refs[s].present);
			if (refs[s].present) {
				assert_int_equal(got[s].len, refs[s].len);
				assert_memory_equal(got[s].digest, refs[s].digest, RP_DIGEST_LEN);
				with_refs++;
			}
		}
		total += n;
		headers += x->req.m.headers.n + x->resp.m.headers.n;
		free(copy);
		rp_exchange_free(x);
		rp_exchange_free(y);
	}
	assert_true(with_refs > RANDOM_ROUNDS / 5);
	assert_true(headers > RANDOM_ROUNDS * 10);
	print_message("%d random exchanges, %zu bytes, %zu headers, %zu refs\n", RANDOM_ROUNDS,
		      total, headers, with_refs);
	rp_buf_dispose(&b);
}

/* A record from a future minor version: unknown fields of every wire type at
 * every level, nested ones, a long tag, and garbage inside an unknown group
 * (never looked at).  Known fields decode; unknown ones are skipped. */
static void tw_future(struct tw *w)
{
	tw_head(w, 1, 9);
	tw_u(w, 20, 77);
	tw_u(w, 1, 1001);
	tw_f64(w, 21, 0x1122334455667788ULL);
	tw_s(w, 22, "future bytes");
	tw_open(w, 23);
	tw_u(w, 1, 5);
	tw_s(w, 2, "nested");
	tw_open(w, 3);
	tw_f64(w, 1, 1);
	tw_open(w, 5);
	tw_close(w);
	tw_close(w);
	tw_close(w);
	tw_open(w, 24); /* garbage in an unknown group: not parsed */
	tw_raw(w, "\xff\xff\xff\x07\x00", 5);
	tw_close(w);
	tw_s(w, 100000, "long tag"); /* three-byte tag */
	tw_u(w, 5, 99);                /* a protocol this reader does not know */
	tw_open(w, 7);
	tw_u(w, 4, 1);
	tw_u(w, 1, 4);
	tw_s(w, 5, "xx");
	tw_b(w, 2, "\x0a\x00\x00\x02", 4);
	tw_open(w, 6);
	tw_u(w, 1, 1);
	tw_close(w);
	tw_f64(w, 7, 7);
	tw_u(w, 3, 8080);
	tw_close(w);
	tw_f64(w, 9, 1000);
	tw_open(w, 13);
	tw_u(w, 5, 1);
	tw_s(w, 1, "GET");
	tw_f64(w, 6, 2);
	tw_s(w, 7, "x");
	tw_open(w, 15);
	tw_open(w, 1);
	tw_u(w, 1, 1);
	tw_close(w);
	tw_close(w);
	tw_s(w, 4, "/");
	tw_open(w, 8);
	tw_s(w, 3, "unknown in header");
	tw_s(w, 1, "Host");
	tw_open(w, 4);
	tw_s(w, 1, "x");
	tw_close(w);
	tw_u(w, 5, 5);
	tw_f64(w, 6, 6);
	tw_s(w, 2, "a.example");
	tw_close(w);
	tw_open(w, 11);
	tw_u(w, 3, 3);
	tw_b(w, 1, "0123456789abcdef0123456789abcdef", 32);
	tw_f64(w, 4, 4);
	tw_s(w, 5, "5");
	tw_open(w, 6);
	tw_close(w);
	tw_u(w, 2, 500);
	tw_close(w);
	tw_u(w, 200, 1);
	tw_close(w);
	tw_open(w, 14);
	tw_s(w, 3, "authority is unknown in a response");
	tw_u(w, 1, 204);
	tw_u(w, 4, 4);
	tw_open(w, 5);
	tw_s(w, 1, "x");
	tw_close(w);
	tw_f64(w, 6, 6);
	tw_s(w, 2, "No Content");
	tw_open(w, 9);
	tw_s(w, 1, "T");
	tw_u(w, 9, 9);
	tw_s(w, 2, "v");
	tw_close(w);
	tw_close(w);
	tw_u(w, 30, 30);
	tw_end(w);
}

static void test_forward_compat(void **state)
{
	struct tw w = {0};
	tw_future(&w);
	struct rp_exchange *x = rp_exchange_new();
	struct rp_record_body_ref refs[2];
	const char *why = NULL;
	uint8_t *copy;
	int rc = decode_copy(w.p, w.n, x, refs, &why, &copy);
	if (rc)
		fail_msg("future record refused: %s", why);
	unsigned major, minor;
	assert_int_equal(rp_record_version(rp_slice(w.p, w.n), &major, &minor), 0);
	assert_int_equal(major, 1);
	assert_int_equal(minor, 9);
	assert_int_equal(x->id, 1001);
	assert_int_equal(x->proto, RP_PROTO_UNKNOWN);
	assert_int_equal(x->client.family, 4);
	assert_memory_equal(x->client.addr, "\x0a\x00\x00\x02", 4);
	assert_int_equal(x->client.port, 8080);
	assert_int_equal(x->t.req_start, 1000);
	assert_true(rp_slice_eq(x->req.method, RP_SLICE_LIT("GET")));
	assert_true(rp_slice_eq(x->req.target, RP_SLICE_LIT("/")));
	assert_int_equal(x->req.m.headers.n, 1);
	assert_true(rp_slice_eq(x->req.m.headers.v[0].name, RP_SLICE_LIT("Host")));
	assert_true(rp_slice_eq(x->req.m.headers.v[0].value, RP_SLICE_LIT("a.example")));
	assert_int_equal(refs[RP_BODY_REQ].present, 1);
	assert_int_equal(refs[RP_BODY_REQ].len, 500);
	assert_memory_equal(refs[RP_BODY_REQ].digest, "0123456789abcdef0123456789abcdef", 32);
	assert_int_equal(refs[RP_BODY_RESP].present, 0);
	assert_int_equal(x->resp.status, 204);
	assert_true(rp_slice_eq(x->resp.reason, RP_SLICE_LIT("No Content")));
	assert_int_equal(x->resp.m.trailers.n, 1);
	assert_true(rp_slice_eq(x->resp.m.trailers.v[0].value, RP_SLICE_LIT("v")));
	free(copy);
	rp_exchange_free(x);
	tw_free(&w);
}

static void test_versions(void **state)
{
	struct tw w = {0};
	unsigned major = 0, minor = 0;
	/* a newer major: refused whatever follows the header */
	for (unsigned m = 2; m <= 255; m += 253) {
		tw_head(&w, (uint8_t)m, 0);
		tw_raw(&w, "\xff\xff\xff anything at all", 20);
		expect_decode_error(&w, RP_E_VERSION, "record written by a newer major version");
		assert_int_equal(rp_record_version(rp_slice(w.p, w.n), &major, &minor), 0);
		assert_int_equal(major, m);
	}
	/* a newer minor of the same major: read */
	tw_head(&w, 1, 255);
	tw_u(&w, 1, 7);
	tw_end(&w);
	struct rp_exchange *x = rp_exchange_new();
	assert_int_equal(rp_record_decode(rp_slice(w.p, w.n), x, NULL, NULL), 0);
	assert_int_equal(x->id, 7);
	rp_exchange_free(x);
	/* major 0 never existed */
	tw_head(&w, 0, 1);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "record major version 0");
	/* broken heads */
	static const struct {
		const char *p;
		size_t n;
		const char *why;
	} heads[] = {
		{"", 0, "empty record"},
		{"R", 1, "truncated record header"},
		{"RPX1", 4, "truncated record header"},
		{"RPX1\x01", 5, "truncated record header"},
		{"RPX2\x01\x00\x78\x06", 8, "not a reprise record (bad magic)"},
		{"X", 1, "not a reprise record (bad magic)"},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(heads); i++) {
		w.n = 0;
		tw_raw(&w, heads[i].p, heads[i].n);
		expect_decode_error(&w, RP_E_FORMAT, heads[i].why);
		assert_int_equal(rp_record_version(rp_slice(w.p, w.n), &major, &minor), RP_E_FORMAT);
	}
	assert_int_equal(rp_record_version(rp_slice("RPX1\x01\x03", 6), &major, &minor), 0);
	assert_int_equal(major, 1);
	assert_int_equal(minor, 3);
	tw_free(&w);
}

/* Every prefix of |p| shorter than |n| fails with RP_E_FORMAT. */
static void every_prefix_fails(const uint8_t *p, size_t n)
{
	struct rp_exchange *x = rp_exchange_new();
	struct rp_record_body_ref refs[2];
	for (size_t k = 0; k < n; k++) {
		const char *why = NULL;
		uint8_t *copy;
		int rc = decode_copy(p, k, x, refs, &why, &copy);
		free(copy);
		if (rc != RP_E_FORMAT || !why)
			fail_msg("prefix %zu of %zu: %s (%s)", k, n, rp_err_name(rc),
				 why ? why : "no why");
		assert_int_equal(x->id, 0);
		assert_int_equal(x->req.m.headers.n, 0);
		assert_int_equal(refs[0].present | refs[1].present, 0);
	}
	const char *why = NULL;
	uint8_t *copy;
	int rc = decode_copy(p, n, x, refs, &why, &copy);
	if (rc)
		fail_msg("whole record refused: %s", why);
	free(copy);
	rp_exchange_free(x);
}

static void test_every_truncation(void **state)
{
	struct tw w = {0};
	struct rp_buf b;
	struct rp_exchange *x = full_exchange();
	encode_ok(x, NULL, &b);
	every_prefix_fails(b.base, b.wr);
	struct rp_record_body_ref refs[2] = {{.present = 1, .len = 5}, {.present = 1, .len = 9}};
	struct rp_record_opts o = xgen_opts(refs);
	rp_buf_clear(&b);
	assert_int_equal(rp_record_encode(x, &o, &b), 0);
	every_prefix_fails(b.base, b.wr);
	tw_future(&w);
	every_prefix_fails(w.p, w.n);
	rp_exchange_free(x);

	/* random records up to 8 KB */
	struct xgen_rng r = {0x7a11};
	int done = 0;
	size_t prefixes = 0;
	while (done < 150) {
		x = rp_exchange_new();
		struct rp_record_body_ref rr[2];
		xgen_random(&r, x, rr);
		o = xgen_opts(rr);
		rp_buf_clear(&b);
		assert_int_equal(rp_record_encode(x, &o, &b), 0);
		if (b.wr <= 8192) {
			every_prefix_fails(b.base, b.wr);
			prefixes += b.wr;
			done++;
		}
		rp_exchange_free(x);
	}
	print_message("%zu truncated prefixes refused\n", prefixes);
	rp_buf_dispose(&b);
	tw_free(&w);
}

static size_t find_mem(const uint8_t *p, size_t n, const void *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(p + i, needle, k) == 0)
			return i;
	fail_msg("needle not in record");
	return 0;
}

static size_t find(const uint8_t *p, size_t n, const char *needle)
{
	return find_mem(p, n, needle, strlen(needle));
}

/* A cut names the innermost field it falls in. */
static void test_truncation_names_field(void **state)
{
	struct rp_exchange *x = full_exchange();
	struct rp_record_body_ref ref = {.present = 1, .len = 3};
	memset(ref.digest, 'D', sizeof(ref.digest));
	struct rp_record_opts o = {{NULL, &ref}};
	struct rp_buf b;
	encode_ok(x, &o, &b);
	struct tw w = {0};
	static const struct {
		const char *needle;
		long delta;
		const char *why;
	} cuts[] = {
		{"HVALUE-ONE", 3, "truncated header value"},
		{"TVALUE0", 2, "truncated trailer value"},
		{"Grpc-Status", 4, "truncated trailer name"},
		{"POST", 2, "truncated request method"},
		{"/api/v1", 1, "truncated request target"},
		{"Created", 3, "truncated response reason"},
		{"DDDDDDDD", 0, "truncated body reference digest"},
		{"{\"name\"", 5, "truncated request body"},
		{"example.com:8443", 0, "truncated request authority"},
		/* between the name and the value of a header */
		{"HVALUE-ONE", -2, "truncated request header"},
		{"TVALUE0", -2, "truncated request trailer"},
		{"Location", -2, "truncated response header"},
		/* after the tag of the method, before its length */
		{"POST", -1, "truncated request method"},
		/* at a field boundary inside the request group */
		{"POST", -2, "truncated request"},
		/* inside the two-byte length of the request group */
		{"POST", -3, "truncated request"},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(cuts); i++) {
		size_t at = (size_t)((long)find(b.base, b.wr, cuts[i].needle) + cuts[i].delta);
		w.n = 0;
		tw_raw(&w, b.base, at);
		expect_decode_error(&w, RP_E_FORMAT, cuts[i].why);
	}
	/* inside a fixed64 */
	uint8_t f64[9] = {0x49};
	for (int i = 0; i < 8; i++)
		f64[1 + i] = (uint8_t)((uint64_t)x->t.req_start >> (8 * i));
	size_t t = find_mem(b.base, b.wr, f64, sizeof(f64));
	w.n = 0;
	tw_raw(&w, b.base, t + 4);
	expect_decode_error(&w, RP_E_FORMAT, "truncated request start time");
	/* everything but the end marker */
	w.n = 0;
	tw_raw(&w, b.base, b.wr - 3);
	expect_decode_error(&w, RP_E_FORMAT, "truncated record (no end marker)");
	w.n = 0;
	tw_raw(&w, b.base, b.wr - 1);
	expect_decode_error(&w, RP_E_FORMAT, "truncated end marker");
	tw_free(&w);
	rp_buf_dispose(&b);
	rp_exchange_free(x);
}

/* Hand-built corrupt records, each with the message it must give. */
static void test_corrupt_records(void **state)
{
	struct tw w = {0};

	tw_head(&w, 1, 0);
	tw_u(&w, 7, 1);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "field 7 (client endpoint) has wrong wire type");

	tw_head(&w, 1, 0);
	tw_tag(&w, 1, 6);
	expect_decode_error(&w, RP_E_FORMAT, "field 1 (exchange id) has wrong wire type");

	tw_head(&w, 1, 0);
	tw_tag(&w, 20, 5);
	tw_u(&w, 1, 1);
	expect_decode_error(&w, RP_E_FORMAT, "unknown field has an invalid wire type");

	tw_head(&w, 1, 0);
	tw_tag(&w, 0, 0);
	tw_varint(&w, 1);
	expect_decode_error(&w, RP_E_FORMAT, "field number 0");

	/* varints: 11 bytes, or a 10th byte above 1, overflow; 2^64-1 is fine */
	tw_head(&w, 1, 0);
	tw_tag(&w, 1, 0);
	tw_raw(&w, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00", 11);
	expect_decode_error(&w, RP_E_FORMAT, "varint overflows 64 bits");
	tw_head(&w, 1, 0);
	tw_tag(&w, 1, 0);
	tw_raw(&w, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
	expect_decode_error(&w, RP_E_FORMAT, "varint overflows 64 bits");
	tw_head(&w, 1, 0);
	tw_raw(&w, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10);
	expect_decode_error(&w, RP_E_FORMAT, "field tag overflows 64 bits");
	tw_head(&w, 1, 0);
	tw_u(&w, 1, UINT64_MAX);
	tw_end(&w);
	struct rp_exchange *x = rp_exchange_new();
	assert_int_equal(rp_record_decode(rp_slice(w.p, w.n), x, NULL, NULL), 0);
	assert_true(x->id == UINT64_MAX);

	/* lengths far beyond the input, up to 2^64-1 */
	uint64_t huge[] = {1000, 1ULL << 32, 1ULL << 63, UINT64_MAX};
	for (size_t i = 0; i < RP_ARRAY_LEN(huge); i++) {
		tw_head(&w, 1, 0);
		tw_tag(&w, 22, 2);
		tw_varint(&w, huge[i]);
		tw_raw(&w, "abc", 3);
		expect_decode_error(&w, RP_E_FORMAT, "truncated unknown field");
		tw_head(&w, 1, 0);
		tw_tag(&w, 13, 3);
		tw_varint(&w, huge[i]);
		tw_u(&w, 1, 1); /* method as a varint: wrong, found inside the cut group */
		expect_decode_error(&w, RP_E_FORMAT, "field 1 (request method) has wrong wire type");
		tw_head(&w, 1, 0);
		tw_tag(&w, 13, 3);
		tw_varint(&w, huge[i]);
		tw_s(&w, 1, "GET");
		expect_decode_error(&w, RP_E_FORMAT, "truncated request");
	}

	static const struct {
		unsigned num;
		uint64_t v;
		const char *why;
	} ranges[] = {
		{3, 1ULL << 32, "stream id out of range"},
		{4, UINT64_MAX, "connection sequence out of range"},
		{6, 1ULL << 33, "flags out of range"},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(ranges); i++) {
		tw_head(&w, 1, 0);
		tw_u(&w, ranges[i].num, ranges[i].v - 1); /* the largest value is fine */
		tw_u(&w, ranges[i].num, ranges[i].v);
		tw_end(&w);
		expect_decode_error(&w, RP_E_FORMAT, ranges[i].why);
	}

	tw_head(&w, 1, 0);
	tw_open(&w, 14);
	tw_u(&w, 1, 65536);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "response status out of range");

	tw_head(&w, 1, 0);
	tw_open(&w, 8);
	tw_u(&w, 3, 65536);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "endpoint port out of range");

	tw_head(&w, 1, 0);
	tw_open(&w, 7);
	tw_u(&w, 1, 256);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "endpoint address family out of range");

	tw_head(&w, 1, 0);
	tw_open(&w, 7);
	tw_b(&w, 2, "12345", 5);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "endpoint address is neither 4 nor 16 bytes");

	tw_head(&w, 1, 0);
	tw_open(&w, 14);
	tw_open(&w, 11);
	tw_b(&w, 1, "0123456789abcdef0123456789abcde", 31);
	tw_close(&w);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "body reference digest is not 32 bytes");

	tw_head(&w, 1, 0);
	tw_open(&w, 14);
	tw_open(&w, 11);
	tw_u(&w, 2, 5);
	tw_close(&w);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "body reference without digest");

	tw_head(&w, 1, 0);
	tw_open(&w, 13);
	tw_s(&w, 10, "inline");
	tw_open(&w, 11);
	tw_b(&w, 1, "0123456789abcdef0123456789abcdef", 32);
	tw_close(&w);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "request has both a body and a body reference");

	tw_head(&w, 1, 0);
	tw_open(&w, 13);
	tw_open(&w, 8);
	tw_u(&w, 1, 5);
	tw_close(&w);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "field 1 (header name) has wrong wire type");

	/* a header whose value length is a two-byte varint running past the
	 * group: the fast path for short headers must not take it */
	tw_head(&w, 1, 0);
	tw_open(&w, 13);
	tw_open(&w, 8);
	tw_raw(&w, "\x0a\x00\x12\x85", 4);
	for (int i = 0; i < 0x85; i++)
		tw_raw(&w, "\x01", 1);
	tw_close(&w);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "truncated header value");

	tw_head(&w, 1, 0);
	tw_open(&w, 14);
	tw_raw(&w, "\x80", 1);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "truncated field tag");

	for (unsigned num = 13; num <= 14; num++) {
		tw_head(&w, 1, 0);
		tw_open(&w, num);
		tw_u(&w, 13, 1);
		tw_close(&w);
		tw_u(&w, 1, 1);
		tw_open(&w, num);
		tw_close(&w);
		tw_end(&w);
		expect_decode_error(&w, RP_E_FORMAT,
				    num == 13 ? "duplicate request" : "duplicate response");
	}

	tw_head(&w, 1, 0);
	tw_u(&w, 1, 1);
	tw_u(&w, 15, 5); /* the tag sits at offset 8 */
	expect_decode_error(&w, RP_E_FORMAT, "end marker does not match the record length");

	tw_head(&w, 1, 0);
	tw_end(&w);
	tw_u(&w, 1, 1);
	expect_decode_error(&w, RP_E_FORMAT, "trailing bytes after the end of the record");

	tw_head(&w, 1, 0);
	tw_u(&w, 1, 1);
	expect_decode_error(&w, RP_E_FORMAT, "truncated record (no end marker)");

	/* headers per list: RP_LIMIT_RECORD_FIELDS pass, one more does not */
	for (int extra = 0; extra <= 1; extra++) {
		tw_head(&w, 1, 0);
		tw_open(&w, 14);
		for (int i = 0; i < RP_LIMIT_RECORD_FIELDS + extra; i++)
			tw_header(&w, 9, "t", "", 0);
		tw_close(&w);
		tw_open(&w, 13);
		for (int i = 0; i < RP_LIMIT_RECORD_FIELDS + extra; i++)
			tw_header(&w, 8, "h", "v", 1);
		tw_close(&w);
		tw_end(&w);
		if (extra) {
			expect_decode_error(&w, RP_E_FORMAT, "too many response trailers");
		} else {
			assert_int_equal(rp_record_decode(rp_slice(w.p, w.n), x, NULL, NULL), 0);
			assert_int_equal(x->req.m.headers.n, RP_LIMIT_RECORD_FIELDS);
			assert_int_equal(x->resp.m.trailers.n, RP_LIMIT_RECORD_FIELDS);
		}
	}
	tw_head(&w, 1, 0);
	tw_open(&w, 13);
	for (int i = 0; i <= RP_LIMIT_RECORD_FIELDS; i++)
		tw_header(&w, 8, "h", "v", 1);
	tw_close(&w);
	tw_end(&w);
	expect_decode_error(&w, RP_E_FORMAT, "too many request headers");

	/* an exchange without a pool is refused, not crashed on */
	struct rp_exchange nopool;
	memset(&nopool, 0, sizeof(nopool));
	const char *why = NULL;
	tw_head(&w, 1, 0);
	tw_end(&w);
	assert_int_equal(rp_record_decode(rp_slice(w.p, w.n), &nopool, NULL, &why), RP_E_FORMAT);
	assert_string_equal(why, "exchange has no pool");

	rp_exchange_free(x);
	tw_free(&w);
}

static void mutate(struct xgen_rng *r, struct tw *w)
{
	unsigned k = 1 + (unsigned)xgen_below(r, 8);
	for (unsigned i = 0; i < k && w->n; i++) {
		size_t at = (size_t)xgen_below(r, w->n);
		switch (xgen_below(r, 7)) {
		case 0:
			w->p[at] ^= (uint8_t)(1u << xgen_below(r, 8));
			break;
		case 1:
			w->p[at] = (uint8_t)xgen_next(r);
			break;
		case 2: /* interesting bytes: varint continuation, wire types */
			w->p[at] = (uint8_t[]){0x80, 0xff, 0x00, 0x7f, 0x03, 0x0b, 0x7a}[xgen_below(r, 7)];
			break;
		case 3: /* delete */
			memmove(w->p + at, w->p + at + 1, w->n - at - 1);
			w->n--;
			break;
		case 4: { /* insert */
			uint8_t c = (uint8_t)xgen_next(r);
			tw_raw(w, &c, 1);
			memmove(w->p + at + 1, w->p + at, w->n - at - 1);
			w->p[at] = c;
			break;
		}
		case 5:
			w->n = at;
			break;
		default: { /* copy a range over another */
			size_t from = (size_t)xgen_below(r, w->n);
			size_t len = (size_t)xgen_below(r, RP_MIN(w->n - at, w->n - from) + 1);
			memmove(w->p + at, w->p + from, len);
		}
		}
	}
}

static void test_random_corruption(void **state)
{
	struct xgen_rng r = {0xc0ffee};
	struct rp_buf b, b2;
	rp_buf_init(&b, RP_LIMIT_RECORD);
	rp_buf_init(&b2, RP_LIMIT_RECORD);
	struct tw w = {0};
	int decoded = 0, refused = 0, versions = 0;
	struct rp_exchange *x = NULL;
	struct rp_record_body_ref rr[2];
	for (int i = 0; i < 20000; i++) {
		if (i % 20 == 0) { /* a fresh small base record now and then */
			do {
				rp_exchange_free(x);
				x = rp_exchange_new();
				xgen_random(&r, x, rr);
				struct rp_record_opts o = xgen_opts(rr);
				rp_buf_clear(&b);
				assert_int_equal(rp_record_encode(x, &o, &b), 0);
			} while (b.wr > 4096);
		}
		w.n = 0;
		tw_raw(&w, b.base, b.wr);
		mutate(&r, &w);
		struct rp_exchange *y = rp_exchange_new(), *z = rp_exchange_new();
		struct rp_record_body_ref got[2], got2[2];
		const char *why = NULL;
		uint8_t *copy, *copy2;
		int rc = decode_copy(w.p, w.n, y, got, &why, &copy);
		if (rc == 0) {
			/* whatever decodes must survive its own round trip */
			decoded++;
			struct rp_record_opts o = xgen_opts(got);
			rp_buf_clear(&b2);
			assert_int_equal(rp_record_encode(y, &o, &b2), 0);
			assert_int_equal(decode_copy(b2.base, b2.wr, z, got2, NULL, &copy2), 0);
			expect_diff_null(y, got, z);
			free(copy2);
		} else if (rc == RP_E_FORMAT) {
			assert_non_null(why);
			refused++;
		} else {
			assert_int_equal(rc, RP_E_VERSION);
			versions++;
		}
		free(copy);
		rp_exchange_free(y);
		rp_exchange_free(z);
	}
	print_message("corruptions: %d decoded, %d refused, %d newer\n", decoded, refused, versions);
	assert_true(refused > 10000);
	rp_exchange_free(x);
	rp_buf_dispose(&b);
	rp_buf_dispose(&b2);
	tw_free(&w);
}

static void test_encode_limits(void **state)
{
	struct rp_exchange *x = full_exchange();
	struct rp_buf b;
	rp_buf_init(&b, 1 << 20);
	assert_int_equal(rp_record_encode(x, NULL, &b), 0);
	size_t need = b.wr;
	/* exactly enough room, after what the buffer already holds */
	rp_buf_dispose(&b);
	rp_buf_init(&b, need + 3);
	assert_int_equal(rp_buf_append(&b, "abc", 3), 0);
	assert_int_equal(rp_record_encode(x, NULL, &b), 0);
	assert_int_equal(rp_buf_len(&b), need + 3);
	/* one byte short: RP_E_LIMIT, buffer untouched */
	rp_buf_dispose(&b);
	rp_buf_init(&b, need + 2);
	assert_int_equal(rp_buf_append(&b, "abc", 3), 0);
	assert_int_equal(rp_record_encode(x, NULL, &b), RP_E_LIMIT);
	assert_int_equal(rp_buf_len(&b), 3);
	assert_memory_equal(b.base + b.rd, "abc", 3);
	rp_buf_dispose(&b);

	/* more headers than a reader accepts: refused at write time */
	rp_buf_init(&b, RP_LIMIT_RECORD);
	for (int i = 0; i <= RP_LIMIT_RECORD_FIELDS; i++)
		rp_headers_add_ref(&x->resp.m.trailers, x->pool, RP_SLICE_LIT("t"), RP_SLICE_LIT("v"));
	assert_int_equal(rp_record_encode(x, NULL, &b), RP_E_LIMIT);
	assert_int_equal(rp_buf_len(&b), 0);
	x->resp.m.trailers.n = RP_LIMIT_RECORD_FIELDS;
	assert_int_equal(rp_record_encode(x, NULL, &b), 0);
	/* a slice longer than a record can be */
	rp_buf_clear(&b);
	x->req.target = rp_slice("x", (size_t)RP_LIMIT_RECORD + 1);
	assert_int_equal(rp_record_encode(x, NULL, &b), RP_E_LIMIT);
	x->req.target = RP_SLICE_LIT("/");
	x->req.m.headers.v[0].value.n = SIZE_MAX;
	assert_int_equal(rp_record_encode(x, NULL, &b), RP_E_LIMIT);
	assert_int_equal(rp_buf_len(&b), 0);
	rp_buf_dispose(&b);
	rp_exchange_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_roundtrip),
		cmocka_unit_test(test_layout_matches_table),
		cmocka_unit_test(test_committed_record),
		cmocka_unit_test(test_empty_exchange),
		cmocka_unit_test(test_body_refs),
		cmocka_unit_test(test_random_roundtrip),
		cmocka_unit_test(test_forward_compat),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_truncation_names_field),
		cmocka_unit_test(test_corrupt_records),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_encode_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
