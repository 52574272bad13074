/*
 * mask: `reprise mask check FILE...` validates rule files (exit 2 naming
 * file, line and column of the first error); `reprise mask test FILE`
 * masks sample exchanges (HAR or JSON lines, from --in or stdin) and shows,
 * value by value, what each rule did — nothing is stored.  --out writes the
 * masked exchanges, to replay or diff.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reprise/cli.h"
#include "reprise/har.h"
#include "reprise/mask.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: reprise mask check [--print] FILE...\n"
		   "       reprise mask test FILE [--in EXCHANGES] [--out FILE] [--mask-key-file FILE]\n"
		   "                             [--quiet]\n\n"
		   "check   validate rule files; --print shows the canonical rules and digest\n"
		   "test    mask sample exchanges and show every change (nothing is stored)\n"
		   "  --in FILE             HAR (.har) or JSON lines (.jsonl); default: JSON lines on stdin\n"
		   "  --out FILE            also write the masked exchanges (.har or JSON lines)\n"
		   "  --mask-key-file FILE  key for tokens and fakes (default: $REPRISE_MASK_KEY, else\n"
		   "                        a fixed test key, so runs are comparable)\n"
		   "  --quiet               summary only\n"
		   "  --help                this text\n\n"
		   "Rule language: man reprise-masks.  Exit: 0 ok, 2 a rule file is wrong.\n");
}

static int check(int argc, char **argv)
{
	static const struct option opts[] = {
		{"print", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'}, {0}};
	int print = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ph", opts, NULL)) != -1) {
		if (c == 'p')
			print = 1;
		else if (c == 'h') {
			usage(stdout);
			return RP_EXIT_OK;
		} else
			return rp_cli_usage_error("mask", "unknown option for check");
	}
	if (optind >= argc)
		return rp_cli_usage_error("mask", "check needs a rule file");
	int rc = RP_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct rp_mask_rules *r = NULL;
		struct rp_mask_error err;
		if (rp_mask_rules_load(argv[i], &r, &err)) {
			char msg[1024];
			rp_mask_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "reprise mask: %s\n", msg);
			rc = RP_EXIT_USAGE;
			continue;
		}
		printf("%s: ok, %zu rules, %s\n", argv[i], rp_mask_rules_count(r),
		       rp_mask_rules_digest(r));
		if (print) {
			struct rp_buf b;
			rp_buf_init(&b, 64u << 20);
			if (rp_mask_rules_canonical(r, &b) == 0)
				fwrite(b.base + b.rd, 1, rp_buf_len(&b), stdout);
			rp_buf_dispose(&b);
		}
		rp_mask_rules_free(r);
	}
	return rc;
}

/* Prints |s| quoted, escaped and cut at |max| bytes. */
static void show(FILE *f, struct rp_slice s, size_t max)
{
	fputc('"', f);
	for (size_t i = 0; i < s.n && i < max; i++) {
		uint8_t c = s.p[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
	if (s.n > max)
		fprintf(f, "...(%zu bytes)", s.n);
}

struct test_state {
	int quiet;
	int header_done;
	const struct rp_exchange *x;
	size_t n_ex;
	size_t edits;
};

static void trace(void *ctx, const struct rp_mask_edit *e)
{
	struct test_state *st = ctx;
	st->edits++;
	if (st->quiet)
		return;
	if (!st->header_done) {
		printf("exchange %zu: %.*s %.*s\n", st->n_ex, (int)st->x->req.method.n,
		       (const char *)st->x->req.method.p, (int)RP_MIN(st->x->req.target.n, 200),
		       (const char *)st->x->req.target.p);
		st->header_done = 1;
	}
	printf("  %s  [%s", e->where, e->action);
	if (e->detector)
		printf(" %s", e->detector);
	if (e->rule_file)
		printf(" %s:%u", e->rule_file, e->rule_line);
	printf("]\n    ");
	show(stdout, e->before, 120);
	printf(" -> ");
	show(stdout, e->after, 120);
	printf("\n");
}

static int test(int argc, char **argv)
{
	static const struct option opts[] = {
		{"in", required_argument, NULL, 'i'},  {"out", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},     {"help", no_argument, NULL, 'h'},
		{"mask-key-file", required_argument, NULL, 'k'}, {0}};
	const char *in = NULL, *outp = NULL, *keyfile = NULL;
	struct test_state st = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:o:qhk:", opts, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'o': outp = optarg; break;
		case 'q': st.quiet = 1; break;
		case 'k': keyfile = optarg; break;
		case 'h': usage(stdout); return RP_EXIT_OK;
		default: return rp_cli_usage_error("mask", "unknown option for test");
		}
	}
	if (optind + 1 != argc)
		return rp_cli_usage_error("mask", "test needs exactly one rule file");

	int rc = RP_EXIT_OK;
	struct rp_mask *m = NULL;
	struct rp_har_reader *r = NULL;
	struct rp_har_writer *w = NULL;
	FILE *of = NULL;
	struct rp_mask_rules *rules = NULL;
	struct rp_mask_error err;
	if (rp_mask_rules_load(argv[optind], &rules, &err)) {
		char msg[1024];
		rp_mask_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "reprise mask: %s\n", msg);
		rc = RP_EXIT_USAGE;
		goto out;
	}
	uint8_t key[RP_MASK_KEY_MAX];
	size_t keylen = 0;
	const char *why = NULL;
	int krc = rp_mask_key_load(keyfile, key, sizeof(key), &keylen, &why);
	if (krc == RP_E_NOTFOUND) {
		/* a fixed key, so that two test runs can be compared */
		static const char test_key[] = "reprise mask test key (not secret)";
		keylen = sizeof(test_key) - 1;
		memcpy(key, test_key, keylen);
	} else if (krc) {
		rp_mask_rules_free(rules);
		rc = rp_cli_fail("mask", RP_EXIT_USAGE, "%s: %s", keyfile ? keyfile : RP_MASK_KEY_ENV, why);
		goto out;
	}
	rp_mask_new(rules, key, keylen, &m);
	memset(key, 0, sizeof(key));

	char msg[1024];
	if (rp_har_reader_open(in ? in : "/dev/stdin", RP_HAR_FORMAT_AUTO, 0, &r, msg,
			       sizeof(msg))) {
		rc = rp_cli_fail("mask", RP_EXIT_USAGE, "%s", msg);
		goto out;
	}
	if (outp) {
		enum rp_har_format f = RP_HAR_FORMAT_JSONL;
		size_t n = strlen(outp);
		if (n > 4 && strcmp(outp + n - 4, ".har") == 0)
			f = RP_HAR_FORMAT_HAR;
		if (!(of = fopen(outp, "w"))) {
			rc = rp_cli_fail("mask", RP_EXIT_USAGE, "cannot write %s", outp);
			goto out;
		}
		rp_har_writer_new(of, f, PACKAGE_VERSION, &w);
	}
	size_t changed = 0;
	for (;;) {
		struct rp_exchange *x = NULL;
		int e = rp_har_reader_next(r, &x, msg, sizeof(msg));
		if (e == RP_E_NOTFOUND)
			break;
		if (e == RP_E_IO) {
			rc = rp_cli_fail("mask", RP_EXIT_USAGE, "%s", msg);
			goto out;
		}
		if (e) {
			fprintf(stderr, "reprise mask: skipped: %s\n", msg);
			continue;
		}
		st.n_ex++;
		st.header_done = 0;
		st.x = x;
		size_t before = st.edits;
		struct rp_mask_apply_opts ao = {trace, &st};
		rp_mask_apply(m, x, &ao);
		changed += st.edits > before;
		if (w && rp_har_writer_add(w, x)) {
			rp_exchange_free(x);
			rc = rp_cli_fail("mask", RP_EXIT_USAGE, "cannot write %s", outp);
			goto out;
		}
		rp_exchange_free(x);
	}
	printf("%zu exchanges, %zu changed, %zu values masked; rules %s, key %s\n", st.n_ex,
	       changed, st.edits, rp_mask_digest(m), rp_mask_key_fingerprint(m));
out:
	if (w && rp_har_writer_finish(w) && rc == RP_EXIT_OK)
		rc = rp_cli_fail("mask", RP_EXIT_USAGE, "cannot write %s", outp);
	if (of)
		fclose(of);
	rp_har_reader_free(r);
	rp_mask_free(m);
	return rc;
}

int rp_cmd_mask(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return RP_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return RP_EXIT_OK;
	}
	if (strcmp(argv[1], "check") == 0)
		return check(argc - 1, argv + 1);
	if (strcmp(argv[1], "test") == 0)
		return test(argc - 1, argv + 1);
	return rp_cli_usage_error("mask", "unknown subcommand '%s' (check or test)", argv[1]);
}
