/*
 * export: `reprise export` writes a corpus (or the part a --filter selects)
 * as HAR 1.2 or as reprise JSON lines, walking the store in time order and
 * writing one exchange at a time, so memory stays flat whatever the corpus
 * size.  With -o the output goes to a temporary file beside FILE that is
 * renamed over it only when everything was written: an interrupted export
 * never leaves a truncated file that looks complete.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli-int.h"
#include "reprise/har.h"

static const char cmd[] = "export";

static void usage(FILE *f)
{
	fprintf(f, "usage: reprise export --db DIR [--format har|jsonl] [--filter EXPR] "
		   "[-o FILE]\n\n"
		   "Write a corpus as HAR 1.2 or as JSON lines (one exchange per line).\n\n"
		   "options:\n"
		   "  --db DIR          the corpus directory (required)\n"
		   "  --format FORMAT   har (default) or jsonl\n"
		   "  --filter EXPR     only exchanges matching EXPR (see reprise-ls(1))\n"
		   "  -o, --output FILE write to FILE instead of standard output\n"
		   "  --help            show this help\n\n"
		   "exit codes: 0 ok, 2 usage (bad flag, filter or output file), 4 store error\n");
}

int rp_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},     {"format", required_argument, NULL, 'F'},
		{"filter", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *expr = NULL, *output = NULL;
	enum rp_har_format format = RP_HAR_FORMAT_HAR;
	int c, rc, bad = 0;
	uint64_t n = 0;
	struct rp_store *s = NULL;
	struct rp_filter *f = NULL;
	struct rp_store_iter *it = NULL;
	struct rp_har_writer *w = NULL;
	FILE *out = stdout;
	char *tmp = NULL;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'f': expr = optarg; break;
		case 'o': output = optarg; break;
		case 'F':
			if (rp_har_format_parse(optarg, &format))
				return rp_cli_usage_error(cmd, "--format '%s': expected har or jsonl",
							  optarg);
			break;
		case 'h': usage(stdout); return RP_EXIT_OK;
		default: return rp_cli_bad_option(cmd, c, argv);
		}
	}
	if (optind < argc)
		return rp_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if ((rc = rp_cli_open_store(cmd, db, 1, 0, &s)))
		return rc;
	if ((rc = rp_cli_filter(cmd, expr, s, &f)))
		goto out;
	if (output && strcmp(output, "-") != 0) {
		size_t len = strlen(output) + 16;
		tmp = rp_xmalloc(len);
		snprintf(tmp, len, "%s.tmpXXXXXX", output);
		int fd = mkstemp(tmp);
		if (fd < 0 || !(out = fdopen(fd, "wb"))) {
			rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "-o %s: cannot create: %s", output,
					 strerror(errno));
			if (fd >= 0)
				close(fd);
			free(tmp);
			tmp = NULL;
			out = stdout;
			goto out;
		}
	}
	if (rp_store_iter_new(s, 0, 0, &it)) {
		rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: cannot read the corpus", db);
		goto out;
	}
	rp_har_writer_new(out, format, PACKAGE_VERSION, &w);
	struct rp_exchange *x;
	while (rp_cli_next_exchange(cmd, db, it, &x, &bad, &rc)) {
		int r = 0;
		if (!f || rp_filter_match(f, x)) {
			r = rp_har_writer_add(w, x);
			n++;
		}
		rp_exchange_free(x);
		if (r) {
			rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "%s: write failed: %s",
					 output ? output : "standard output", strerror(errno));
			goto out;
		}
	}
	if (rc)
		goto out;
	if (rp_har_writer_finish(w)) {
		w = NULL;
		rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "%s: write failed: %s",
				 output ? output : "standard output", strerror(errno));
		goto out;
	}
	w = NULL;
	if (tmp) {
		int closed = fclose(out);
		out = stdout;
		if (closed || rename(tmp, output)) {
			rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "-o %s: %s", output, strerror(errno));
			goto out;
		}
		free(tmp);
		tmp = NULL;
		fprintf(stderr, "reprise export: %llu exchanges written to %s\n",
			(unsigned long long)n, output);
	}
	rc = bad ? rp_cli_fail(cmd, RP_EXIT_STORE, "%s: %d exchanges could not be read", db, bad)
		 : RP_EXIT_OK;
out:
	if (w)
		rp_har_writer_finish(w);
	if (tmp) {
		if (out != stdout)
			fclose(out);
		unlink(tmp);
		free(tmp);
	}
	rp_store_iter_free(it);
	rp_filter_free(f);
	rp_store_close(s);
	return rc;
}
