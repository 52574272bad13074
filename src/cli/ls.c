/*
 * ls: `reprise ls` lists the exchanges of a corpus in time order, one line
 * each (or one JSON object per line with --json), optionally through a
 * --filter.  It reads without bodies (RP_STORE_NO_BODIES): the body sizes
 * come from the store's record of them, so listing a corpus of large
 * bodies costs what listing headers costs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli-int.h"

static const char cmd[] = "ls";

static void usage(FILE *f)
{
	fprintf(f, "usage: reprise ls --db DIR [--filter EXPR] [--json] [--limit N]\n\n"
		   "List the exchanges of a corpus in time order.\n\n"
		   "options:\n"
		   "  --db DIR          the corpus directory (required)\n"
		   "  --filter EXPR     only exchanges matching EXPR, e.g. 'method=POST status=5xx'\n"
		   "                    (the language is described in reprise-ls(1))\n"
		   "  --json            one JSON object per line instead of a table\n"
		   "  --limit N         stop after N exchanges\n"
		   "  --help            show this help\n\n"
		   "exit codes: 0 ok, 2 usage (bad flag or filter), 4 store error\n");
}

/* Column widths of the table.  Host and path share what the fixed columns
 * leave of the terminal; a pipe gets every byte (no truncation). */
enum { W_ID = 5, W_TIME = 24, W_METHOD = 7, W_STATUS = 3, W_MS = 8, W_SIZE = 5 };
#define W_HOST_MAX 22
#define W_HOST_MIN 15 /* "127.0.0.1:18653" */
#define W_PATH_MIN 12
/* the fixed columns, the ten spaces between columns and the FLAGS heading
 * (flags themselves appear only on unusual records and may overflow) */
#define FIXED_WIDTH (W_ID + W_TIME + W_METHOD + W_STATUS + W_MS + 2 * W_SIZE + 10 + 5)

/* Prints |s| in |w| columns (w <= 0: as is), cutting the middle with "..."
 * so both the start and the end of a long path stay visible. */
static void cell(struct rp_slice s, int w, int pad)
{
	size_t n = s.n;
	char *safe = rp_xmalloc(n + 1);
	/* recorded bytes must not reach the terminal as escape sequences */
	for (size_t i = 0; i < n; i++)
		safe[i] = (s.p[i] < 0x20 || s.p[i] == 0x7f) ? '?' : (char)s.p[i];
	if (w > 0 && n > (size_t)w && w > 5) {
		size_t head = ((size_t)w - 3) / 2, tail = (size_t)w - 3 - head;
		printf("%.*s...%.*s", (int)head, safe, (int)tail, safe + n - tail);
		n = (size_t)w;
	} else {
		fwrite(safe, 1, n, stdout);
	}
	free(safe);
	for (size_t i = n; pad && (int)i < pad; i++)
		putchar(' ');
}

static void row_table(const struct rp_exchange *x, uint64_t req_len, uint64_t resp_len,
		      int host_w, int path_w)
{
	char ts[40] = "-", rq[16], rs[16], fl[256], ms[24], st[8];
	if (x->t.req_start)
		rp_time_format(x->t.req_start, ts, sizeof(ts));
	rp_cli_human_size(req_len, rq, sizeof(rq));
	rp_cli_human_size(resp_len, rs, sizeof(rs));
	double d = rp_cli_span_ms(x->t.req_start, rp_cli_end_ns(x));
	if (d < 0)
		snprintf(ms, sizeof(ms), "-");
	else
		snprintf(ms, sizeof(ms), "%.1f", d);
	if (x->resp.status)
		snprintf(st, sizeof(st), "%u", x->resp.status);
	else
		snprintf(st, sizeof(st), "-");
	/* the column shows what is out of the ordinary: "complete" and
	 * "masked" (a corpus is masked as a whole) are left to --json */
	const char *flags = rp_xflags_format(x->flags & ~(uint32_t)RP_XF_MASKED, fl, sizeof(fl));
	if (strncmp(flags, "complete", 8) == 0)
		flags += flags[8] == ',' ? 9 : 8;
	printf("%*llu %-*s ", W_ID, (unsigned long long)x->id, W_TIME, ts);
	cell(x->req.method, path_w ? W_METHOD : 0, W_METHOD);
	putchar(' ');
	cell(x->req.authority, host_w, host_w ? host_w : W_HOST_MAX);
	putchar(' ');
	cell(x->req.target, path_w, path_w ? path_w : 30);
	printf(" %*s %*s %*s %*s", W_STATUS, st, W_MS, ms, W_SIZE, rq, W_SIZE, rs);
	if (*flags)
		printf(" %s", flags);
	putchar('\n');
}

static void row_json(const struct rp_exchange *x, uint64_t req_len, uint64_t resp_len)
{
	char ts[40], fl[256];
	rp_time_format(x->t.req_start, ts, sizeof(ts));
	json_t *o = json_object();
	double d = rp_cli_span_ms(x->t.req_start, rp_cli_end_ns(x));
	json_object_set_new(o, "id", json_integer((json_int_t)x->id));
	json_object_set_new(o, "time", x->t.req_start ? json_string(ts) : json_null());
	json_object_set_new(o, "start_ns", json_integer(x->t.req_start));
	json_object_set_new(o, "method", rp_cli_json_str(x->req.method));
	json_object_set_new(o, "scheme", rp_cli_json_str(x->req.scheme));
	json_object_set_new(o, "host", rp_cli_json_str(x->req.authority));
	json_object_set_new(o, "target", rp_cli_json_str(x->req.target));
	json_object_set_new(o, "status", json_integer(x->resp.status));
	json_object_set_new(o, "duration_ms", d < 0 ? json_null() : json_real(d));
	json_object_set_new(o, "req_body", json_integer((json_int_t)req_len));
	json_object_set_new(o, "resp_body", json_integer((json_int_t)resp_len));
	json_object_set_new(o, "proto", json_string(rp_proto_name(x->proto)));
	json_object_set_new(o, "conn", json_integer((json_int_t)x->conn_id));
	json_object_set_new(o, "flags", json_string(rp_xflags_format(x->flags, fl, sizeof(fl))));
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	putchar('\n');
	json_decref(o);
}

int rp_cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},   {"filter", required_argument, NULL, 'f'},
		{"json", no_argument, NULL, 'j'},       {"limit", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *expr = NULL;
	int json = 0, c, rc = RP_EXIT_OK, bad = 0;
	uint64_t limit = 0, shown = 0;
	struct rp_store *s = NULL;
	struct rp_filter *f = NULL;
	struct rp_store_iter *it = NULL;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'f': expr = optarg; break;
		case 'j': json = 1; break;
		case 'n':
			if (rp_cli_parse_u64(optarg, &limit) || limit == 0)
				return rp_cli_usage_error(cmd, "--limit '%s' is not a positive number",
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
	if (rp_store_iter_new(s, 0, RP_STORE_NO_BODIES, &it)) {
		rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: cannot read the corpus", db);
		goto out;
	}
	int host_w = 0, path_w = 0;
	if (!json) {
		int w = rp_cli_term_width();
		if (w) {
			int rest = w - FIXED_WIDTH;
			host_w = RP_MAX(W_HOST_MIN, RP_MIN(W_HOST_MAX, rest / 2));
			path_w = RP_MAX(W_PATH_MIN, rest - host_w);
		}
		printf("%*s %-*s %-*s %-*s %-*s %*s %*s %*s %*s %s\n", W_ID, "ID", W_TIME, "TIME",
		       W_METHOD, "METHOD", host_w ? host_w : W_HOST_MAX, "HOST",
		       path_w ? path_w : 30, "PATH", W_STATUS, "ST", W_MS, "MS", W_SIZE, "REQ",
		       W_SIZE, "RESP", "FLAGS");
	}
	struct rp_exchange *x;
	while (rp_cli_next_exchange(cmd, db, it, &x, &bad, &rc)) {
		if (!f || rp_filter_match(f, x)) {
			uint64_t rq, rs;
			rp_store_iter_body_lens(it, &rq, &rs);
			if (json)
				row_json(x, rq, rs);
			else
				row_table(x, rq, rs, host_w, path_w);
			shown++;
		}
		rp_exchange_free(x);
		if (limit && shown >= limit)
			break;
	}
	if (rc == RP_EXIT_OK && bad)
		rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: %d exchanges could not be read", db, bad);
out:
	fflush(stdout);
	rp_store_iter_free(it);
	rp_filter_free(f);
	rp_store_close(s);
	return rc;
}
