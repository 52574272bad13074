/*
 * rules_test: the rule language.  A table of malformed lines, each with the
 * line, column and message the error must carry; include resolution, loops
 * (direct and through a chain) and missing files; the digest's indifference
 * to comments, spacing and quoting; canonical text that parses back to the
 * same digest; the shipped rule sets; glob and route matching.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../../src/mask/mask-int.h"

struct bad {
	const char *text;
	unsigned line, col;
	const char *msg;
};

static const struct bad bads[] = {
	{"header", 1, 7, "expected a selector"},
	{"header X-A", 1, 11, "expected an action"},
	{"header X-A zap", 1, 12, "unknown action"},
	{"hedder X-A redact", 1, 1, "unknown scope"},
	{"header X-A redact type", 1, 19, "KEY=VALUE"},
	{"header X-A redact colour=red", 1, 19, "unknown condition"},
	{"header X-A redact type=", 1, 24, "empty condition value"},
	{"header X-A redact type=a type=b", 1, 26, "given twice"},
	{"header X-A keep-last=0", 1, 22, "count from 1 to 64"},
	{"header X-A keep-last=65", 1, 22, "count from 1 to 64"},
	{"header X-A keep-last=x", 1, 22, "count from 1 to 64"},
	{"header X,,Y redact", 1, 10, "empty header name"},
	{"header X(Y redact", 1, 9, "not allowed in a header name"},
	{"header X-A redact in=sideways", 1, 22, "in= takes"},
	{"header \"X-A redact", 1, 8, "unterminated quote"},
	{"# fine\n\n  header X-A   redact  # fine too\njson user.email redact", 4, 6,
	 "starts with $"},
	{"json $.user. redact", 1, 13, "member name"},
	{"json $.items[x] redact", 1, 14, "after '['"},
	{"json $.items[0 redact", 1, 15, "expected ']'"},
	{"json $['a','b' redact", 1, 15, "expected ']'"},
	{"json $['a',b] redact", 1, 12, "quoted name after ','"},
	{"json $['a redact", 1, 8, "unterminated quote"},
	{"json $ redact", 1, 7, "whole document"},
	{"json $.a~b redact", 1, 0, NULL}, /* fine: names may hold anything but . [ */
	{"text emial redact", 1, 6, "unknown detector"},
	{"text email,crad redact", 1, 12, "unknown detector"},
	{"text ~(unclosed redact", 1, 16, "regular expression"},
	{"text ~ redact", 1, 7, "empty regular expression"},
	{"path /users/{}x/orders redact", 1, 13, "alone between slashes"},
	{"path /users/42 redact", 1, 6, "needs a {} segment"},
	{"path users/{} redact", 1, 6, "template"},
	{"path ~[ redact", 1, 8, "regular expression"},
	{"body x redact", 1, 6, "selector is *"},
	{"body * fake", 1, 8, "redacted, hashed, tokenized or kept"},
	{"client address hash", 1, 16, "redacted, faked or kept"},
	{"client ip fake", 1, 8, "selector is address"},
	{"client address fake type=text/html", 1, 21, "only method= and route="},
	{"static", 1, 7, "needs a condition"},
	{"static in=request", 1, 8, "no meaning"},
	{"static colour=red", 1, 8, "unknown condition"},
	{"include", 1, 8, "needs a file name"},
	{"include a b", 1, 11, "one file name"},
	{"header X-A redact\x01", 1, 18, "control character"},
	{"cookie a;b redact", 1, 9, "not allowed in a cookie name"},
};

static void malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < RP_ARRAY_LEN(bads); i++) {
		const struct bad *b = &bads[i];
		struct rp_mask_rules *r = NULL;
		struct rp_mask_error err;
		int rc = rp_mask_rules_parse("t.rules", b->text, strlen(b->text), &r, &err);
		if (!b->msg) {
			if (rc)
				fprintf(stderr, "'%s' should parse: %s\n", b->text, err.msg);
			assert_int_equal(rc, 0);
			rp_mask_rules_free(r);
			continue;
		}
		if (rc != RP_E_FORMAT || err.line != b->line || err.col != b->col ||
		    !strstr(err.msg, b->msg)) {
			fprintf(stderr, "'%s': want %u:%u '%s', got rc %d %u:%u '%s'\n", b->text,
				b->line, b->col, b->msg, rc, err.line, err.col, err.msg);
			fail();
		}
		assert_string_equal(err.file, "t.rules");
		char msg[1024];
		rp_mask_error_format(&err, msg, sizeof(msg));
		assert_non_null(strstr(msg, "t.rules:"));
	}
}

static char tmpdir[256];

static void put(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rp-mask-rules.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int load(const char *name, struct rp_mask_rules **r, struct rp_mask_error *err)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return rp_mask_rules_load(p, r, err);
}

static void includes(void **state)
{
	(void)state;
	struct rp_mask_rules *r = NULL;
	struct rp_mask_error err;

	put("base.rules", "header X-Base redact\n");
	char sub[512];
	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put("sub/top.rules", "header X-Top redact\ninclude ../base.rules\n");
	assert_int_equal(load("sub/top.rules", &r, &err), 0);
	assert_int_equal(rp_mask_rules_count(r), 2);
	/* rules from an included file say where they came from */
	assert_non_null(strstr(r->v[1].file, "base.rules"));
	assert_int_equal(r->v[1].line, 1);
	rp_mask_rules_free(r);

	/* loops: a file including itself, and a chain */
	put("self.rules", "# self\ninclude self.rules\n");
	assert_int_equal(load("self.rules", &r, &err), RP_E_FORMAT);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.col, 9);
	assert_non_null(strstr(err.msg, "include loop: self.rules -> self.rules"));

	put("a.rules", "include b.rules\n");
	put("b.rules", "header X redact\ninclude c.rules\n");
	put("c.rules", "include a.rules\n");
	assert_int_equal(load("a.rules", &r, &err), RP_E_FORMAT);
	assert_non_null(strstr(err.file, "c.rules"));
	assert_int_equal(err.line, 1);
	assert_int_equal(err.col, 9);
	assert_non_null(strstr(err.msg, "a.rules -> b.rules -> c.rules -> a.rules"));

	/* a diamond is not a loop */
	put("d1.rules", "include d2.rules\ninclude d3.rules\n");
	put("d2.rules", "include base.rules\n");
	put("d3.rules", "include base.rules\n");
	assert_int_equal(load("d1.rules", &r, &err), 0);
	assert_int_equal(rp_mask_rules_count(r), 2);
	rp_mask_rules_free(r);

	/* a missing include names the including line */
	put("m.rules", "header X redact\n\ninclude \"no such.rules\"\n");
	assert_int_equal(load("m.rules", &r, &err), RP_E_IO);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 9);
	assert_non_null(strstr(err.msg, "no such.rules"));

	/* a missing top file has no line */
	assert_int_equal(load("nothere.rules", &r, &err), RP_E_IO);
	assert_int_equal(err.line, 0);
	char msg[1024];
	rp_mask_error_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "nothere.rules: cannot read"));

	/* nesting has a limit */
	for (int i = 0; i < 20; i++) {
		char n[32], t[64];
		snprintf(n, sizeof(n), "n%d.rules", i);
		snprintf(t, sizeof(t), "include n%d.rules\n", i + 1);
		put(n, t);
	}
	put("n20.rules", "header X redact\n");
	assert_int_equal(load("n0.rules", &r, &err), RP_E_LIMIT);
	assert_non_null(strstr(err.msg, "nested deeper"));
}

static const char *digest_of(const char *text, char *out)
{
	struct rp_mask_rules *r = NULL;
	struct rp_mask_error err;
	assert_int_equal(rp_mask_rules_parse("d.rules", text, strlen(text), &r, &err), 0);
	strcpy(out, rp_mask_rules_digest(r));
	rp_mask_rules_free(r);
	return out;
}

static void digest(void **state)
{
	(void)state;
	char a[80], b[80], c[80];
	digest_of("header Authorization tokenize\njson $..password redact type=application/json\n", a);
	digest_of("# a comment\n\n  header   \"Authorization\"\ttokenize   # why\n"
		  "json $..password redact \"type=application/json\"\r\n",
		  b);
	assert_string_equal(a, b);
	assert_int_equal(strncmp(a, "sha256:", 7), 0);
	assert_int_equal(strlen(a), 7 + 64);
	digest_of("json $..password redact type=application/json\nheader Authorization tokenize\n", c);
	assert_string_not_equal(a, c); /* order is meaning: the first rule wins */
	digest_of("header Authorization hash\njson $..password redact type=application/json\n", c);
	assert_string_not_equal(a, c);

	/* the canonical text parses back to the same digest */
	const char *text = "static type=image/*\nheader X-*-Token,Authorization keep-last=4 in=request\n"
			   "json $..['first name','x'] fake route=/api/**\n"
			   "text \"~a b(c)\" redact method=POST,PUT\npath /u/{}/** tokenize\n";
	struct rp_mask_rules *r = NULL;
	assert_int_equal(rp_mask_rules_parse("d.rules", text, strlen(text), &r, NULL), 0);
	struct rp_buf buf;
	rp_buf_init(&buf, 1 << 20);
	assert_int_equal(rp_mask_rules_canonical(r, &buf), 0);
	digest_of(text, a);
	rp_buf_append(&buf, "", 1);
	digest_of((const char *)buf.base, b);
	assert_string_equal(a, b);
	rp_buf_dispose(&buf);
	rp_mask_rules_free(r);
}

static void shipped(void **state)
{
	(void)state;
	const char *files[] = {"default.rules", "pci.rules", "gdpr.rules"};
	for (size_t i = 0; i < RP_ARRAY_LEN(files); i++) {
		char p[512];
		snprintf(p, sizeof(p), "%s/masks/%s", RP_SRCDIR, files[i]);
		struct rp_mask_rules *r = NULL;
		struct rp_mask_error err;
		int rc = rp_mask_rules_load(p, &r, &err);
		if (rc)
			fprintf(stderr, "%s:%u:%u: %s\n", err.file, err.line, err.col, err.msg);
		assert_int_equal(rc, 0);
		assert_true(rp_mask_rules_count(r) > 10);
		assert_true(r->nstatics >= 2);
		assert_true(r->needs_key);
		rp_mask_rules_free(r);
	}
}

static void globs(void **state)
{
	(void)state;
	struct {
		const char *pat, *s;
		int want;
	} g[] = {
		{"x-*-token", "X-Auth-Token", 1}, {"x-*-token", "X-Token", 0},
		{"*", "", 1},                     {"a?c", "abc", 1},
		{"a?c", "ac", 0},                 {"*json", "application/vnd.api+json", 1},
		{"application/*+json", "application/ld+json", 1}, {"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaac", 0},
		/* the prefix and suffix shapes, compared without the walk */
		{"*.js", "app.JS", 1},            {"*.js", ".js", 1},
		{"*.js", "js", 0},                {"*.js", "app.jsx", 0},
		{"image/*", "IMAGE/png", 1},      {"image/*", "image/", 1},
		{"image/*", "image", 0},          {"image/*", "video/png", 0},
		{"X-Hub-Signature*", "x-hub-signature-256", 1}, {"ab*", "a", 0},
		{"*?", "", 0},                    {"?*", "x", 1},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(g); i++)
		assert_int_equal(rp_mask_glob(rp_slice_str(g[i].pat), rp_slice_str(g[i].s)), g[i].want);
	struct {
		const char *pat, *path;
		int want;
	} rt[] = {
		{"/api/**", "/api/users/1", 1}, {"/api/*", "/api/users/1", 0},
		{"/api/*", "/api/users", 1},    {"*.js", "/static/app.min.js", 1},
		{"*.js", "/static/app.json", 0}, {"/**/pay*", "/v1/shop/payments", 1},
		{"/**/pay*", "/payments", 1},   {"/a/*/c", "/a/b/c", 1},
		{"/a/*/c", "/a/b/x/c", 0},      {"/a/**/c", "/a/b/x/c", 1},
		{"/a/**", "/a", 0},             {"/a/**", "/a/", 1},
	};
	for (size_t i = 0; i < RP_ARRAY_LEN(rt); i++) {
		struct rp_mask_name nm;
		rp_mask_name_init(&nm, rp_slice_str(rt[i].pat));
		struct rp_slice path = rp_slice_str(rt[i].path);
		int got = rp_mask_route_match(&nm, path, rp_mask_route_last(path));
		if (got != rt[i].want)
			fprintf(stderr, "route %s vs %s: %d\n", rt[i].pat, rt[i].path, got);
		assert_int_equal(got, rt[i].want);
	}
}

/* The line parser alone: slices point into the line. */
static void line_parser(void **state)
{
	(void)state;
	struct rp_mask_syntax syn;
	unsigned col;
	const char *why;
	const char *l = "  json  $['a b']  keep-last=4   type=application/json  # c";
	assert_int_equal(rp_mask_parse_line(rp_slice_str(l), &syn, &col, &why), 0);
	assert_int_equal(syn.kind, RP_MASK_SYN_RULE);
	assert_int_equal(syn.selector.col, 9);
	assert_int_equal(syn.selector.raw.n, 8);
	assert_int_equal(syn.nconds, 1);
	assert_ptr_equal(syn.conds[0].raw.p, (const uint8_t *)l + 32);
	assert_int_equal(rp_mask_parse_line(rp_slice_str("   # only a comment"), &syn, &col, &why), 0);
	assert_int_equal(syn.kind, RP_MASK_SYN_EMPTY);
	char out[64];
	size_t n = rp_mask_unquote(rp_slice_str("a\"b \\\" c\"'d'"), out);
	assert_int_equal(n, 7);
	assert_memory_equal(out, "ab \" cd", 7);
}

/* The name index's hash: blind to ASCII case and to nothing else (bytes
 * above 0x7f whose low bits spell a capital stay as they are), the same
 * whether the last word is read whole (|lim| far) or byte by byte, and
 * equal to a byte-at-a-time reference of the same definition. */
static uint64_t ref_lower_hash(const uint8_t *p, size_t n)
{
	uint8_t low[64];
	for (size_t i = 0; i < n; i++)
		low[i] = p[i] >= 'A' && p[i] <= 'Z' ? (uint8_t)(p[i] | 0x20) : p[i];
	return rp_mask_name_hash(low, n);
}

static void name_hash(void **state)
{
	(void)state;
	static const uint8_t alphabet[] = "aZzA@[`{09-_.\"\x80\xc1\xda\xe1\xff";
	uint8_t buf[64 + 8];
	uint64_t x = 88172645463325252ull;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 41);
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = alphabet[x % (sizeof(alphabet) - 1)];
		}
		uint64_t h = rp_mask_name_hash(buf, n);
		assert_true(h == rp_mask_name_hash_in(buf, n, buf + sizeof(buf)));
		assert_true(h == ref_lower_hash(buf, n));
		/* an upper-cased copy hashes the same; a non-ASCII byte is not folded */
		uint8_t up[64];
		for (size_t i = 0; i < n; i++)
			up[i] = buf[i] >= 'a' && buf[i] <= 'z' ? (uint8_t)(buf[i] & ~0x20) : buf[i];
		assert_true(h == rp_mask_name_hash(up, n));
		for (size_t i = 0; i < n; i++)
			if (buf[i] == 0xc1) {
				buf[i] = 0xe1;
				assert_true(h != rp_mask_name_hash(buf, n));
				break;
			}
	}
	assert_true(rp_mask_name_hash((const uint8_t *)"Content-Type", 12) ==
		    rp_mask_name_hash((const uint8_t *)"content-type", 12));
	assert_true(rp_mask_name_hash((const uint8_t *)"email", 5) !=
		    rp_mask_name_hash((const uint8_t *)"email ", 6));
}

/* A name's shape, decided when the rules are read, must answer as the glob
 * walk does, for every pattern and string over a small alphabet. */
static void name_shapes(void **state)
{
	(void)state;
	static const char pal[] = "aB*?.", sal[] = "abAB.";
	uint64_t x = 0x2545f4914f6cdd1dull;
	for (int round = 0; round < 200000; round++) {
		char pat[8], str[8];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t pn = x % 7, sn = (x >> 8) % 7;
		for (size_t i = 0; i < pn; i++)
			pat[i] = pal[(x >> (16 + 3 * i)) % 5];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		for (size_t i = 0; i < sn; i++)
			str[i] = sal[(x >> (3 * i)) % 5];
		struct rp_mask_name nm;
		rp_mask_name_init(&nm, rp_slice(pat, pn));
		struct rp_slice sv = rp_slice(str, sn);
		int want = nm.glob ? rp_mask_glob(nm.s, sv) : rp_slice_eq_nocase(nm.s, sv);
		if (rp_mask_name_match(&nm, sv) != want)
			fprintf(stderr, "pattern '%.*s' string '%.*s': %d, the walk says %d\n", (int)pn,
				pat, (int)sn, str, !want, want);
		assert_int_equal(rp_mask_name_match(&nm, sv), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_hash), cmocka_unit_test(name_shapes),
		cmocka_unit_test(malformed), cmocka_unit_test(includes),
		cmocka_unit_test(digest),    cmocka_unit_test(shipped),
		cmocka_unit_test(globs),     cmocka_unit_test(line_parser),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
