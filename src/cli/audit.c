/*
 * audit: `reprise audit --db DIR` reads every exchange of a corpus and runs
 * the detectors over every place a rule can reach (headers, cookies, URL,
 * decoded JSON strings, form fields, multipart parts, text bodies), in audit
 * mode: reprise's own fakes and tokens are passed over, so what it reports
 * is what masking missed — or a corpus recorded before masking existed.  It
 * prints exchange id, location and detector, never the value, and exits 1
 * when it found anything.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reprise/cli.h"
#include "reprise/mask.h"
#include "reprise/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: reprise audit --db DIR [--detectors LIST] [--include-static] [--max N]\n\n"
		   "Scan a corpus for personal data the detectors still find.\n"
		   "  --db DIR            the corpus\n"
		   "  --detectors LIST    comma-separated: email,card,ssn,phone,iban,jwt,bearer,\n"
		   "                      aws-key,ipv4,ipv6 (or ip, all; default all)\n"
		   "  --include-static    also scan scripts, styles and other static assets\n"
		   "  --max N             print at most N findings (default 1000; all are counted)\n"
		   "  --help              this text\n\n"
		   "Prints exchange id, location and detector, never the value.\n"
		   "Exit: 0 nothing found, 1 findings, 2 usage, 4 store error.\n");
}

struct audit_state {
	uint64_t id;
	uint64_t findings, printed, max;
	int hit;
};

static void on_finding(void *ctx, const struct rp_mask_edit *e)
{
	struct audit_state *st = ctx;
	st->findings++;
	st->hit = 1;
	if (st->printed >= st->max)
		return;
	st->printed++;
	printf("exchange %llu  %s  %s (%zu bytes)\n", (unsigned long long)st->id, e->where,
	       e->detector ? e->detector : "undecodable body", e->before.n);
}

int rp_cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"detectors", required_argument, NULL, 'D'},
		{"include-static", no_argument, NULL, 's'},
		{"max", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *db = NULL;
	uint32_t detectors = RP_MASK_ALL_DETECTORS;
	unsigned flags = 0;
	struct audit_state st = {.max = 1000};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:D:sm:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'D': {
			size_t bad = 0;
			if (rp_mask_detectors_parse(rp_slice_str(optarg), &detectors, &bad))
				return rp_cli_usage_error("audit", "--detectors: unknown detector at "
								   "'%s'", optarg + bad);
			break;
		}
		case 's':
			flags |= RP_MASK_AUDIT_STATIC;
			break;
		case 'm':
			if (rp_cli_parse_u64(optarg, &st.max))
				return rp_cli_usage_error("audit", "--max takes a number");
			break;
		case 'h':
			usage(stdout);
			return RP_EXIT_OK;
		default:
			return rp_cli_usage_error("audit", "unknown option");
		}
	}
	if (!db)
		return rp_cli_usage_error("audit", "--db DIR is required");
	if (optind < argc)
		return rp_cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);

	struct rp_store *s = NULL;
	const char *why = NULL;
	struct rp_store_opts so = {.path = db, .readonly = 1};
	int rc = rp_store_open(&so, &s, &why);
	if (rc)
		return rp_cli_store_error("audit", db, rc, why);
	char digest[128], fp[128];
	if (rp_store_meta_get(s, "mask.rules_digest", digest, sizeof(digest)))
		snprintf(digest, sizeof(digest), "unknown");
	if (rp_store_meta_get(s, "mask.key_fingerprint", fp, sizeof(fp)))
		snprintf(fp, sizeof(fp), "unknown");
	printf("corpus %s: masked with rules %s, key %s\n", db, digest, fp);

	struct rp_mask *m = NULL;
	rp_mask_audit_new(detectors, flags, &m);
	struct rp_store_iter *it = NULL;
	int exit_code = RP_EXIT_OK;
	uint64_t scanned = 0, with = 0, bad = 0;
	if ((rc = rp_store_iter_new(s, 0, 0, &it))) {
		exit_code = rp_cli_store_error("audit", db, rc, NULL);
		goto out;
	}
	for (;;) {
		struct rp_exchange *x = NULL;
		rc = rp_store_iter_next(it, &x, &why);
		if (rc == RP_E_NOTFOUND)
			break;
		if (rc) {
			fprintf(stderr, "reprise audit: %s: a record does not decode: %s\n", db,
				why ? why : rp_err_name(rc));
			bad++;
			if (rc != RP_E_FORMAT)
				break;
			continue;
		}
		scanned++;
		st.id = x->id;
		st.hit = 0;
		struct rp_mask_apply_opts ao = {on_finding, &st};
		rp_mask_apply(m, x, &ao);
		with += (uint64_t)st.hit;
		rp_exchange_free(x);
	}
	printf("%llu findings in %llu of %llu exchanges", (unsigned long long)st.findings,
	       (unsigned long long)with, (unsigned long long)scanned);
	if (st.printed < st.findings)
		printf(" (%llu shown; --max)", (unsigned long long)st.printed);
	if (bad)
		printf("; %llu records did not decode", (unsigned long long)bad);
	printf("\n");
	exit_code = st.findings ? RP_EXIT_REGRESSION : bad ? RP_EXIT_STORE : RP_EXIT_OK;
out:
	rp_store_iter_free(it);
	rp_mask_free(m);
	rp_store_close(s);
	return exit_code;
}
