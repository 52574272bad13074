/*
 * import: `reprise import` reads a HAR 1.2 file or reprise JSON lines and
 * stores every exchange through the store's writer thread (RP_STORE_WAIT:
 * an import is never dropped for speed).  Entries that cannot be converted
 * are skipped with the entry and the reason; the rest goes in.  Each
 * exchange passes through admit() right before rp_store_put: that is where
 * the mask stage runs (default.rules unless --masks or --no-masks), so
 * nothing unmasked reaches the store.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli-int.h"
#include "reprise/har.h"
#include "reprise/mask.h"

static const char cmd[] = "import";

/* Skip reasons printed before the rest are only counted. */
#define MAX_REASONS 50

static void usage(FILE *f)
{
	fprintf(f, "usage: reprise import --db DIR [--create] [--format har|jsonl] FILE\n\n"
		   "Store the exchanges of a HAR 1.2 file or of reprise JSON lines in a corpus.\n\n"
		   "options:\n"
		   "  --db DIR              the corpus directory (required)\n"
		   "  --create              create the corpus when it does not exist yet\n"
		   "  --format FORMAT       har or jsonl (default: from the extension .har, .jsonl\n"
		   "                        or .ndjson, else from the first line)\n"
		   RP_CLI_MASK_HELP("")
		   "  --help                show this help\n\n"
		   "exit codes: 0 ok (skipped entries are listed), 2 usage (bad flag, unreadable\n"
		   "or malformed FILE), 4 store error\n");
}

/* The single point every imported exchange passes before rp_store_put.
 * The mask stage (src/mask) runs here, rewriting |x| in place, so that no
 * unmasked value reaches the store (DESIGN.md, invariant 1).  Returns 0 to
 * store |x|, or an error to skip it with |why|. */
static int admit(const struct rp_mask *mask, struct rp_exchange *x, const char **why)
{
	(void)why;
	if (mask)
		return rp_mask_apply(mask, x, NULL);
	return 0;
}

/* Connection ids this import has already described to the store: an
 * open-addressing set (0 is never a member: it means "unknown"). */
struct conn_set {
	uint64_t *v;
	size_t n, cap;
};

static int conn_seen(struct conn_set *cs, uint64_t id)
{
	if (cs->n * 2 >= cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 64;
		uint64_t *v = rp_xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < cs->cap; i++) {
			if (!cs->v[i])
				continue;
			size_t j = cs->v[i] & (cap - 1);
			while (v[j])
				j = (j + 1) & (cap - 1);
			v[j] = cs->v[i];
		}
		free(cs->v);
		cs->v = v;
		cs->cap = cap;
	}
	size_t j = id & (cs->cap - 1);
	while (cs->v[j] && cs->v[j] != id)
		j = (j + 1) & (cs->cap - 1);
	if (cs->v[j])
		return 1;
	cs->v[j] = id;
	cs->n++;
	return 0;
}

static void skipped(const char *file, uint64_t *nskip, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void skipped(const char *file, uint64_t *nskip, const char *fmt, ...)
{
	if (++*nskip <= MAX_REASONS) {
		va_list ap;
		fprintf(stderr, "reprise import: %s: skipped ", file);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

int rp_cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"create", no_argument, NULL, 'c'},
		{"format", required_argument, NULL, 'F'},
		{"help", no_argument, NULL, 'h'},
		RP_CLI_MASK_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	struct rp_cli_mask_opts mo = {0};
	struct rp_mask *mask = NULL;
	const char *db = NULL;
	enum rp_har_format format = RP_HAR_FORMAT_AUTO;
	int create = 0, c, rc;
	uint64_t nin = 0, nskip = 0;
	struct rp_store *s = NULL;
	struct rp_har_reader *r = NULL;
	struct conn_set conns = {0};
	char err[1024];

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'c': create = 1; break;
		case 'F':
			if (rp_har_format_parse(optarg, &format))
				return rp_cli_usage_error(cmd, "--format '%s': expected har or jsonl",
							  optarg);
			break;
		case 'h': usage(stdout); return RP_EXIT_OK;
		case RP_CLI_OPT_MASKS:
		case RP_CLI_OPT_NO_MASKS:
		case RP_CLI_OPT_MASK_KEY_FILE:
			rp_cli_mask_option(c, optarg, &mo);
			break;
		default: return rp_cli_bad_option(cmd, c, argv);
		}
	}
	if (optind >= argc)
		return rp_cli_usage_error(cmd, "a FILE to import is required");
	if (optind + 1 < argc)
		return rp_cli_usage_error(cmd, "one FILE at a time ('%s' is extra)", argv[optind + 1]);
	if (!db)
		return rp_cli_usage_error(cmd, "--db DIR is required (the corpus directory)");
	const char *file = argv[optind];

	/* read (and for HAR, parse) the input first: a malformed file must not
	 * leave a new, empty corpus behind */
	if ((rc = rp_cli_mask_open(cmd, &mo, &mask)))
		return rc;
	if (rp_har_reader_open(file, format, 0, &r, err, sizeof(err))) {
		rp_mask_free(mask);
		return rp_cli_fail(cmd, RP_EXIT_USAGE, "%s", err);
	}
	if ((rc = rp_cli_open_store(cmd, db, 0, create, &s)))
		goto out;
	if ((rc = rp_cli_mask_record(s, mask))) {
		rc = rp_cli_store_error(cmd, db, rc, NULL);
		goto out;
	}
	for (;;) {
		struct rp_exchange *x = NULL;
		int n = rp_har_reader_next(r, &x, err, sizeof(err));
		if (n == RP_E_NOTFOUND)
			break;
		if (n == RP_E_FORMAT || n == RP_E_LIMIT) {
			skipped(file, &nskip, "%s", err);
			continue;
		}
		if (n) {
			rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "%s", err);
			goto out;
		}
		const char *why = NULL;
		if (admit(mask, x, &why)) {
			skipped(file, &nskip, "an exchange: %s", why ? why : "refused");
			rp_exchange_free(x);
			continue;
		}
		if (x->conn_id && !conn_seen(&conns, x->conn_id)) {
			struct rp_conn cn = {.id = x->conn_id, .proto = x->proto,
					     .client = x->client, .server = x->server,
					     .start_ns = x->t.req_start};
			(void)rp_store_put_conn(s, &cn, RP_STORE_WAIT);
		}
		int p = rp_store_put(s, x, RP_STORE_WAIT, NULL);
		char ts[40];
		rp_time_format(x->t.req_start, ts, sizeof(ts));
		if (p == RP_E_LIMIT) {
			skipped(file, &nskip, "the exchange of %s (%.*s %.*s): too large for one record",
				ts, (int)RP_MIN(x->req.method.n, 16), (const char *)x->req.method.p,
				(int)RP_MIN(x->req.target.n, 80), (const char *)x->req.target.p);
		} else if (p) {
			rp_exchange_free(x);
			rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: %s after %llu exchanges", db,
					 p == RP_E_FULL ? "the corpus reached its size ceiling"
							: rp_err_name(p),
					 (unsigned long long)nin);
			goto out;
		} else {
			nin++;
		}
		rp_exchange_free(x);
	}
	int fl = rp_store_flush(s);
	if (fl) {
		rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: %s", db,
				 fl == RP_E_FULL ? "the corpus reached its size ceiling; some exchanges "
						   "were not stored"
						 : "some exchanges failed to write");
		goto out;
	}
	if (nskip > MAX_REASONS)
		fprintf(stderr, "reprise import: %s: ... and %llu more skipped\n", file,
			(unsigned long long)(nskip - MAX_REASONS));
	printf("imported %llu exchanges from %s into %s, skipped %llu\n", (unsigned long long)nin,
	       file, db, (unsigned long long)nskip);
	rc = RP_EXIT_OK;
out:
	rp_har_reader_free(r);
	rp_store_close(s);
	rp_mask_free(mask);
	free(conns.v);
	return rc;
}
