/*
 * diff_test: the parity diff of diff.h — JSON (paths, type changes, numbers
 * as numbers, array alignment), text lines, binary digests (FIPS 180-4
 * vectors), headers with their default skips, noise rules (ignore, compare,
 * tolerance, unordered, text patterns) and the rule parser's errors with
 * file, line and column, path generalisation and route templates.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "reprise/diff.h"

static struct rp_diff_noise *rules(const char *text)
{
	struct rp_diff_noise *n = NULL;
	char err[256] = "";
	int rc = rp_diff_noise_parse(text, strlen(text), "t.noise", &n, err, sizeof(err));
	if (rc)
		printf("unexpected rule error: %s\n", err);
	assert_int_equal(rc, 0);
	return n;
}

/* Diffs two JSON texts under |noise_text| (may be NULL) and returns the
 * items rendered one per line: "op path expected actual[ noise]". */
static char *jdiff(const char *a, const char *b, const char *noise_text, size_t *real)
{
	static char out[8192];
	struct rp_diff_noise *n = noise_text ? rules(noise_text) : NULL;
	struct rp_diff_opts opts = {.noise = n};
	struct rp_diff d;
	rp_diff_init(&d);
	assert_int_equal(rp_diff_json(&opts, rp_slice_str(a), rp_slice_str(b), &d), 0);
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < d.n; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s %s %s %s%s\n",
				      rp_diff_op_name(d.v[i].op), d.v[i].path,
				      d.v[i].expected ? d.v[i].expected : "-",
				      d.v[i].actual ? d.v[i].actual : "-", d.v[i].noise ? " noise" : "");
	if (real)
		*real = d.real;
	rp_diff_dispose(&d);
	rp_diff_noise_free(n);
	return out;
}

static void test_json_basic(void **state)
{
	(void)state;
	size_t real;
	assert_string_equal(jdiff("{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2],\"a\":1.0}", NULL, &real), "");
	assert_int_equal(real, 0);
	assert_string_equal(jdiff("{\"a\":1,\"b\":\"x\"}", "{\"a\":2,\"c\":null}", NULL, &real),
			    "changed $.a 1 2\nremoved $.b \"x\" -\nadded $.c - null\n");
	assert_int_equal(real, 3);
	assert_string_equal(jdiff("{\"n\":1}", "{\"n\":\"1\"}", NULL, NULL), "type $.n 1 \"1\"\n");
	assert_string_equal(jdiff("{\"t\":true}", "{\"t\":false}", NULL, NULL),
			    "changed $.t true false\n");
	assert_string_equal(jdiff("[1]", "{}", NULL, NULL), "type $ [1] {}\n");
	assert_string_equal(jdiff("{\"a b\":{\"it's\":1}}", "{\"a b\":{\"it's\":2}}", NULL, NULL),
			    "changed $['a b']['it\\'s'] 1 2\n");
	assert_string_equal(jdiff("0.5", "0.25", NULL, NULL), "changed $ 0.5 0.25\n");
}

static void test_json_arrays(void **state)
{
	(void)state;
	/* an insertion reads as one addition, not a cascade */
	assert_string_equal(jdiff("[1,2,3,4]", "[1,9,2,3,4]", NULL, NULL), "added $[1] - 9\n");
	assert_string_equal(jdiff("[1,2,3,4]", "[1,3,4]", NULL, NULL), "removed $[1] 2 -\n");
	assert_string_equal(jdiff("{\"i\":[{\"id\":1},{\"id\":2}]}", "{\"i\":[{\"id\":1},{\"id\":3}]}",
				  NULL, NULL),
			    "changed $.i[1].id 2 3\n");
	assert_string_equal(jdiff("[1,2]", "[1,2,3,4]", NULL, NULL),
			    "added $[2] - 3\nadded $[3] - 4\n");
	/* a reversal: one common element kept, the rest moved around it */
	assert_string_equal(jdiff("[\"a\",\"b\",\"c\"]", "[\"c\",\"b\",\"a\"]", NULL, NULL),
			    "removed $[0] \"a\" -\nremoved $[0] \"b\" -\nadded $[1] - \"b\"\n"
			    "added $[2] - \"a\"\n");
}

static void test_json_noise(void **state)
{
	(void)state;
	size_t real;
	const char *a = "{\"id\":7,\"ts\":\"10:00\",\"items\":[{\"p\":1.00,\"at\":1},{\"p\":2,\"at\":2}],"
			"\"tags\":[\"x\",\"y\",\"z\"]}";
	const char *b = "{\"id\":7,\"ts\":\"10:05\",\"items\":[{\"p\":1.004,\"at\":5},{\"p\":2,\"at\":6}],"
			"\"tags\":[\"z\",\"x\",\"y\"]}";
	const char *rules_text = "# the noise of this service\n"
				 "ignore json $.ts\n"
				 "ignore json $..at   # anywhere\n"
				 "tolerance json $.items[*].p 0.01\n"
				 "unordered json $.tags\n";
	char *out = jdiff(a, b, rules_text, &real);
	assert_int_equal(real, 0);
	assert_non_null(strstr(out, "changed $.ts \"10:00\" \"10:05\" noise\n"));
	assert_non_null(strstr(out, "changed $.items[0].p 1.0 1.004 noise\n"));
	assert_non_null(strstr(out, "changed $.items[1].at 2 6 noise\n"));
	assert_null(strstr(out, "tags"));
	/* without the rules every one of them is real */
	jdiff(a, b, NULL, &real);
	assert_true(real >= 5);
	/* tolerance exceeded */
	out = jdiff("{\"p\":1.0}", "{\"p\":1.02}", "tolerance json $.p 0.01", &real);
	assert_int_equal(real, 1);
	/* relative tolerance */
	jdiff("{\"p\":100}", "{\"p\":104}", "tolerance json $.p 5%", &real);
	assert_int_equal(real, 0);
	jdiff("{\"p\":100}", "{\"p\":106}", "tolerance json $.p 5%", &real);
	assert_int_equal(real, 1);
	/* unordered: a real difference is still one */
	out = jdiff("{\"s\":[1,2,3]}", "{\"s\":[3,4,1]}", "unordered json $.s", &real);
	assert_int_equal(real, 1);
	assert_string_equal(out, "changed $.s[1] 2 4\n");
	/* ignored elements of an array: an added one is noise */
	jdiff("{\"s\":[1]}", "{\"s\":[1,2]}", "ignore json $.s[*]", &real);
	assert_int_equal(real, 0);
	/* ignore under an array that must be aligned */
	out = jdiff("[{\"id\":1,\"t\":1},{\"id\":2,\"t\":1}]",
		    "[{\"id\":0,\"t\":9},{\"id\":1,\"t\":9},{\"id\":2,\"t\":9}]", "ignore json $[*].t",
		    &real);
	assert_int_equal(real, 1);
	assert_non_null(strstr(out, "added $[0] - {\"id\":0,\"t\":9}\n"));
}

static void test_json_invalid(void **state)
{
	(void)state;
	struct rp_diff d;
	rp_diff_init(&d);
	assert_int_equal(rp_diff_json(NULL, rp_slice_str("{"), rp_slice_str("{}"), &d), RP_E_FORMAT);
	assert_int_equal(d.n, 0);
	rp_diff_dispose(&d);
}

static void test_text(void **state)
{
	(void)state;
	struct rp_diff d;
	struct rp_diff_opts opts = {0};
	rp_diff_init(&d);
	rp_diff_text(&opts, rp_slice_str("a\nb\nc\nd\n"), rp_slice_str("a\nB\nc\nd\ne\n"), &d);
	assert_int_equal(d.real, 2);
	assert_string_equal(d.v[0].path, "line 2");
	assert_int_equal(d.v[0].op, RP_DIFF_CHANGED);
	assert_string_equal(d.v[0].expected, "b");
	assert_string_equal(d.v[0].actual, "B");
	assert_string_equal(d.v[1].path, "line 5");
	assert_int_equal(d.v[1].op, RP_DIFF_ADDED);
	rp_diff_reset(&d);
	/* CR LF and LF are the same line ends */
	rp_diff_text(&opts, rp_slice_str("x\r\ny\r\n"), rp_slice_str("x\ny\n"), &d);
	assert_int_equal(d.real, 0);
	rp_diff_reset(&d);
	rp_diff_text(&opts, rp_slice_str("1\n2\n3\n"), rp_slice_str("1\n3\n"), &d);
	assert_int_equal(d.real, 1);
	assert_int_equal(d.v[0].op, RP_DIFF_REMOVED);
	assert_string_equal(d.v[0].path, "line 2");
	rp_diff_reset(&d);
	/* text noise */
	struct rp_diff_noise *n = rules("ignore text generated at [0-9:]+");
	opts.noise = n;
	rp_diff_text(&opts, rp_slice_str("<p>hi</p>\n<!-- generated at 10:00:01 -->\n"),
		     rp_slice_str("<p>hi</p>\n<!-- generated at 10:00:07 -->\n"), &d);
	assert_int_equal(d.real, 0);
	assert_int_equal(d.noise, 1);
	assert_string_equal(d.v[0].path, "line 2");
	rp_diff_noise_free(n);
	rp_diff_dispose(&d);
}

static void test_sha256(void **state)
{
	(void)state;
	uint8_t h[32];
	char x[65];
	rp_diff_sha256("abc", 3, h);
	rp_hex(h, 32, x);
	assert_string_equal(x, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	rp_diff_sha256("", 0, h);
	rp_hex(h, 32, x);
	assert_string_equal(x, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	rp_diff_sha256(m, strlen(m), h);
	rp_hex(h, 32, x);
	assert_string_equal(x, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	char *mil = malloc(1000000);
	memset(mil, 'a', 1000000);
	rp_diff_sha256(mil, 1000000, h);
	rp_hex(h, 32, x);
	assert_string_equal(x, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(mil);
	struct rp_diff d;
	rp_diff_init(&d);
	rp_diff_binary(rp_slice("\x00\x01", 2), rp_slice("\x00\x02", 2), &d);
	assert_int_equal(d.real, 1);
	assert_string_equal(d.v[0].path, "body");
	assert_non_null(strstr(d.v[0].expected, "(2 bytes)"));
	rp_diff_dispose(&d);
}

/* A response with the given status, headers ("Name: value\n" lines) and
 * body, allocated in |pool|. */
static void resp(struct rp_response *r, struct rp_pool *pool, uint16_t status, const char *hdrs,
		 const char *body)
{
	memset(r, 0, sizeof(*r));
	r->status = status;
	for (const char *p = hdrs; p && *p;) {
		const char *e = strchr(p, '\n');
		const char *c = strchr(p, ':');
		rp_headers_add(&r->m.headers, pool, rp_slice(p, (size_t)(c - p)),
			       rp_slice_trim(rp_slice(c + 1, (size_t)(e - c - 1))));
		p = e + 1;
	}
	r->m.body = rp_slice_str(body);
}

static void test_response(void **state)
{
	(void)state;
	struct rp_pool *pool = rp_pool_new(0);
	struct rp_response a, b;
	struct rp_diff d;
	rp_diff_init(&d);
	resp(&a, pool, 200,
	     "Date: Mon, 01 Jan 2024 00:00:00 GMT\nServer: v1\nContent-Type: application/json\n"
	     "ETag: \"1\"\nX-Api: 1\nVary: a\nVary: b\nConnection: keep-alive\n",
	     "{\"a\":1}");
	resp(&b, pool, 200,
	     "Date: Tue, 02 Jan 2024 00:00:00 GMT\nServer: v2\ncontent-type: application/json\n"
	     "ETag: \"2\"\nX-New: 1\nVary: a, b\n",
	     "{\"a\": 1}");
	size_t real = rp_diff_response(NULL, &a, &b, &d);
	assert_int_equal(real, 3);
	assert_int_equal(d.body, RP_DIFF_BODY_JSON);
	assert_string_equal(d.v[0].path, "header x-api");
	assert_int_equal(d.v[0].op, RP_DIFF_REMOVED);
	assert_string_equal(d.v[1].path, "header vary");
	assert_string_equal(d.v[1].expected, "a, b");
	assert_string_equal(d.v[1].actual, "a, b"); /* joined alike, but two fields vs one */
	assert_string_equal(d.v[2].path, "header x-new");
	assert_int_equal(d.v[2].op, RP_DIFF_ADDED);

	/* noise: ignore a header (kept as noise), compare a default-skipped one */
	rp_diff_reset(&d);
	struct rp_diff_noise *n = rules("ignore header X-*\ncompare header etag\nignore header vary\n");
	struct rp_diff_opts opts = {.noise = n};
	real = rp_diff_response(&opts, &a, &b, &d);
	assert_int_equal(real, 1);
	assert_int_equal(d.noise, 3);
	int etag = 0;
	for (size_t i = 0; i < d.n; i++)
		if (!d.v[i].noise) {
			assert_string_equal(d.v[i].path, "header etag");
			etag = 1;
		}
	assert_true(etag);
	rp_diff_noise_free(n);

	/* status, then a text body under an HTML type */
	rp_diff_reset(&d);
	resp(&a, pool, 200, "Content-Type: text/html\n", "<p>1</p>\n");
	resp(&b, pool, 500, "Content-Type: text/html\n", "<p>2</p>\n");
	real = rp_diff_response(NULL, &a, &b, &d);
	assert_int_equal(real, 2);
	assert_string_equal(d.v[0].path, "status");
	assert_string_equal(d.v[0].expected, "200");
	assert_string_equal(d.v[0].actual, "500");
	assert_int_equal(d.body, RP_DIFF_BODY_TEXT);
	assert_string_equal(d.v[1].path, "line 1");

	/* a JSON type whose body is not JSON falls back to text */
	rp_diff_reset(&d);
	resp(&a, pool, 200, "Content-Type: application/json\n", "{\"a\":1}");
	resp(&b, pool, 200, "Content-Type: application/json\n", "oops");
	real = rp_diff_response(NULL, &a, &b, &d);
	assert_int_equal(real, 1);
	assert_int_equal(d.body, RP_DIFF_BODY_TEXT);

	/* identical bodies are never parsed */
	rp_diff_reset(&d);
	resp(&a, pool, 200, "Content-Type: image/png\n", "\x89PNG");
	resp(&b, pool, 200, "Content-Type: image/png\n", "\x89PNG");
	assert_int_equal(rp_diff_response(NULL, &a, &b, &d), 0);
	assert_int_equal(d.body, RP_DIFF_BODY_SAME);
	resp(&b, pool, 200, "Content-Type: image/png\n", "\x89PNH");
	assert_int_equal(rp_diff_response(NULL, &a, &b, &d), 1);
	assert_int_equal(d.body, RP_DIFF_BODY_BINARY);

	rp_diff_dispose(&d);
	rp_pool_free(pool);
}

static void test_caps(void **state)
{
	(void)state;
	char a[4096], b[4096];
	size_t o = 0, p = 0;
	o += (size_t)snprintf(a, sizeof(a), "{");
	p += (size_t)snprintf(b, sizeof(b), "{");
	for (int i = 0; i < 100; i++) {
		o += (size_t)snprintf(a + o, sizeof(a) - o, "%s\"k%d\":%d", i ? "," : "", i, i);
		p += (size_t)snprintf(b + p, sizeof(b) - p, "%s\"k%d\":%d", i ? "," : "", i, i + 1);
	}
	snprintf(a + o, sizeof(a) - o, "}");
	snprintf(b + p, sizeof(b) - p, "}");
	struct rp_diff_opts opts = {.max_items = 10, .max_value = 4};
	struct rp_diff d;
	rp_diff_init(&d);
	assert_int_equal(rp_diff_json(&opts, rp_slice_str(a), rp_slice_str(b), &d), 0);
	assert_int_equal(d.n, 10);
	assert_int_equal(d.real, 100);
	assert_int_equal(d.dropped, 90);
	rp_diff_reset(&d);
	rp_diff_json(&opts, rp_slice_str("\"abcdefgh\""), rp_slice_str("\"x\""), &d);
	assert_string_equal(d.v[0].expected, "\"abc...");
	rp_diff_dispose(&d);
}

struct bad {
	const char *text, *err;
};

static void test_noise_errors(void **state)
{
	(void)state;
	static const struct bad cases[] = {
		{"ignore header\n", "t.noise:1:14: expected a header name"},
		{"# c\n\nignore json a.b\n", "t.noise:3:13: bad JSON path: a JSON path starts with '$'"},
		{"ignore json $.a[x]\n", "t.noise:1:17: bad JSON path: expected an index, '*' or a quoted key after '['"},
		{"ignore json $.a['b\n", "t.noise:1:19: bad JSON path: unterminated quoted key"},
		{"ignore json $..\n", "t.noise:1:16: bad JSON path: expected a name or '*' after '.'"},
		{"tolerance json $.p\n", "t.noise:1:19: expected a tolerance such as 0.01 or 5%"},
		{"tolerance json $.p -1\n", "t.noise:1:20: expected a non-negative number such as 0.01 or 5%"},
		{"tolerance json $.p 1x\n", "t.noise:1:21: expected a non-negative number such as 0.01 or 5%"},
		{"unordered header x\n", "t.noise:1:11: expected 'json' after 'unordered'"},
		{"ignore body\n", "t.noise:1:8: expected 'header', 'json' or 'text' after 'ignore'"},
		{"  skip json $.a\n", "t.noise:1:3: unknown rule 'skip': expected 'ignore', 'compare', 'tolerance' or 'unordered'"},
		{"ignore header Da*te\n", "t.noise:1:17: '*' cannot appear in a header name ('*' only at the end)"},
		{"ignore json $.a extra\n", "t.noise:1:17: unexpected 'extra' after the rule"},
		{"ignore text (unclosed\n", "t.noise:1:22: bad regular expression: missing closing parenthesis"},
		{"compare json $.a\n", "t.noise:1:9: expected 'header' after 'compare'"},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(cases); i++) {
		struct rp_diff_noise *n = NULL;
		char err[256] = "";
		int rc = rp_diff_noise_parse(cases[i].text, strlen(cases[i].text), "t.noise", &n, err,
					     sizeof(err));
		if (rc != RP_E_FORMAT || strcmp(err, cases[i].err) != 0)
			printf("case %zu: rc %d, err '%s', want '%s'\n", i, rc, err, cases[i].err);
		assert_int_equal(rc, RP_E_FORMAT);
		assert_null(n);
		assert_string_equal(err, cases[i].err);
	}
	/* a file that does not exist */
	struct rp_diff_noise *n = NULL;
	char err[256];
	assert_int_equal(rp_diff_noise_load("/nonexistent/x.noise", &n, err, sizeof(err)), RP_E_IO);
	assert_non_null(strstr(err, "/nonexistent/x.noise: cannot read"));
	/* good rules, CRLF lines, comments */
	n = rules("# c\r\nignore header Date # why\r\n\r\nunordered json $['a b'][*]\r\n"
		  "tolerance json $.x 0.5%\nignore text \\d+\n");
	assert_int_equal(rp_diff_noise_count(n), 4);
	rp_diff_noise_free(n);
}

static void test_jpath(void **state)
{
	(void)state;
	struct rp_jpath p;
	assert_int_equal(rp_jpath_parse("$.a[2]['x y']..z[*]", 19, &p, NULL, NULL), 0);
	assert_int_equal(p.n, 6);
	assert_int_equal(p.v[0].kind, RP_JSEG_KEY);
	assert_string_equal(p.v[0].key, "a");
	assert_int_equal(p.v[1].kind, RP_JSEG_INDEX);
	assert_int_equal(p.v[1].index, 2);
	assert_string_equal(p.v[2].key, "x y");
	assert_int_equal(p.v[3].kind, RP_JSEG_DESCEND);
	assert_string_equal(p.v[4].key, "z");
	assert_int_equal(p.v[5].kind, RP_JSEG_ANY);
	assert_int_equal(p.wild, 1);
	rp_jpath_dispose(&p);
	assert_int_equal(rp_jpath_parse("$", 1, &p, NULL, NULL), 0);
	assert_int_equal(p.n, 0);
	rp_jpath_dispose(&p);

	char g[64];
	rp_diff_path_generalize("$.items[3].tags[10]", g, sizeof(g));
	assert_string_equal(g, "$.items[*].tags[*]");
	rp_diff_path_generalize("$['a[1]'][2]", g, sizeof(g));
	assert_string_equal(g, "$['a[1]'][*]");
	rp_diff_path_generalize("header etag", g, sizeof(g));
	assert_string_equal(g, "header etag");
}

static void test_routes(void **state)
{
	(void)state;
	static const char *const cases[][3] = {
		{"GET", "/users/123", "GET /users/{id}"},
		{"GET", "/users/456/orders?x=1", "GET /users/{id}/orders"},
		{"DELETE", "/o/3f2504e0-4f89-11d3-9a0c-0305e82c3301", "DELETE /o/{uuid}"},
		{"GET", "/blob/9f86d081884c7d65", "GET /blob/{hex}"},
		{"GET", "/static/app.3f9a8b7c.js", "GET /static/app.{hex}.js"},
		{"GET", "/s/Ab3dE5gH7jK9mN1pQ", "GET /s/{token}"},
		{"GET", "/report/123.json", "GET /report/{id}.json"},
		{"GET", "/cafebabe/decade", "GET /cafebabe/decade"},
		{"GET", "/v1/internationalization", "GET /v1/internationalization"},
		{"GET", "/", "GET /"},
		{"GET", "", "GET /"},
		{"GET", "http://example.com:80/a/7?q", "GET /a/{id}"},
		{"POST", "/a//b/", "POST /a//b/"},
	};
	char out[128];
	for (size_t i = 0; i < RP_ARRAY_LEN(cases); i++) {
		rp_diff_route(rp_slice_str(cases[i][0]), rp_slice_str(cases[i][1]), out, sizeof(out));
		assert_string_equal(out, cases[i][2]);
	}
	rp_diff_route(rp_slice_str("GET"), rp_slice_str("/users/123"), out, 8);
	assert_string_equal(out, "GET /us");
}

static void test_default_headers(void **state)
{
	(void)state;
	assert_true(rp_diff_header_default_ignored(RP_SLICE_LIT("Date")));
	assert_true(rp_diff_header_default_ignored(RP_SLICE_LIT("transfer-encoding")));
	assert_true(rp_diff_header_default_ignored(RP_SLICE_LIT("Keep-Alive")));
	assert_false(rp_diff_header_default_ignored(RP_SLICE_LIT("Content-Type")));
	assert_false(rp_diff_header_default_ignored(RP_SLICE_LIT("Set-Cookie")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_basic),   cmocka_unit_test(test_json_arrays),
		cmocka_unit_test(test_json_noise),   cmocka_unit_test(test_json_invalid),
		cmocka_unit_test(test_text),         cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_response),     cmocka_unit_test(test_caps),
		cmocka_unit_test(test_noise_errors), cmocka_unit_test(test_jpath),
		cmocka_unit_test(test_routes),       cmocka_unit_test(test_default_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
