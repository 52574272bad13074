/*
 * replay: `reprise replay` plays a corpus back at a target and diffs every
 * response against the recorded one.  This file only parses options and
 * wires the modules together: store (read) -> replay (select, rewrite,
 * schedule, send) -> diff (per response, with noise rules and route
 * templates) -> report (terminal, JSON, JUnit).  A corpus recorded through
 * masks is compared like with like: each replayed response is masked with
 * the same rules and key before the diff (the key never comes from the
 * corpus; its fingerprint there says whether the one given matches).
 * Exit codes: 0 parity met,
 * 1 parity below --fail-under (default 100: any regression), 2 usage or a
 * bad noise file, 3 target unreachable, 4 store error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli-int.h"
#include "reprise/diff.h"
#include "reprise/limits.h"
#include "reprise/mask.h"
#include "reprise/replay.h"
#include "reprise/report.h"

static const char cmd[] = "replay";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: reprise replay --db DIR --target URL [selection] [rewrites] [schedule]\n"
		"                      [--noise FILE] [--report FILE.json] [--junit FILE.xml]\n"
		"                      [--fail-under PCT]\n\n"
		"Replay recorded traffic at a target and diff every response for parity.\n\n"
		"options:\n"
		"  --db DIR              the corpus directory (required)\n"
		"  --target URL          http://HOST[:PORT][/PREFIX] to send to (required)\n"
		"selection (default: every exchange, in time order):\n"
		"  --from TIME           only requests started at or after TIME: RFC 3339,\n"
		"                        @UNIXSECONDS, or +5m (an offset from the corpus start)\n"
		"  --to TIME             only requests started before TIME (same forms)\n"
		"  --filter EXPR         only exchanges matching EXPR (the language of reprise-ls(1))\n"
		"  --sample PCT          a deterministic PCT%% of the recorded connections\n"
		"  --limit N             at most N exchanges\n"
		"  --id ID               only exchange ID\n"
		"  --conn ID             only the exchanges of recorded connection ID\n"
		"rewrites:\n"
		"  --host keep|target    Host header: the recorded one, or the target's (default)\n"
		"  --set-header 'N: V'   set header N to V (replaces recorded values; repeatable)\n"
		"  --drop-header NAME    leave header NAME out (repeatable)\n"
		"  --rewrite-path 'RE=>TO'  rewrite the path by PCRE2 regex (repeatable)\n"
		"schedule (one of; default --speed 1):\n"
		"  --speed X             recorded pace, X times faster (2, 0.5, 10x)\n"
		"  --rate N              N requests per second, open loop\n"
		"  --max                 as fast as the target answers\n"
		"  --concurrency C       replay connections at most (default 10 with --max,\n"
		"                        1000 otherwise)\n"
		"  --no-order            do not keep the order of a recorded connection\n"
		"  --timeout DURATION    per request (default 30s; 500ms, 2m ...)\n"
		"diff and report:\n"
		"  --noise FILE          noise rules (reprise-noise(5))\n"
		"  --masks FILE          mask replayed responses with FILE before diffing (default:\n"
		"                        default.rules, when the corpus was recorded masked)\n"
		"  --no-masks            diff replayed responses unmasked\n"
		"  --mask-key-file FILE  the key the corpus was masked with (default:\n"
		"                        $REPRISE_MASK_KEY)\n"
		"  --report FILE.json    every difference with its exchange id, and totals\n"
		"  --junit FILE.xml      one JUnit test case per route\n"
		"  --fail-under PCT      exit 1 when parity is below PCT (default 100)\n"
		"  --help                show this help\n\n"
		"exit codes: 0 parity met, 1 parity below --fail-under, 2 usage, 3 target\n"
		"unreachable, 4 store error\n");
}

struct ctx {
	struct rp_report *report;
	struct rp_mask *mask;
	struct rp_diff_opts dopts;
	struct rp_diff diff;
	int progress;
	int io_error;
};

static int recorded_response(const struct rp_exchange *x)
{
	return x->resp.status != 0 && !(x->flags & RP_XF_NO_RESPONSE);
}

/* The replayed response |r| masked as the recorder masked |x|: a new
 * exchange with |x|'s request line (rules may depend on the route) and
 * |r|'s header lists copied by reference (the mask replaces values; the
 * replayed ones stay untouched). */
static struct rp_exchange *masked(const struct rp_mask *m, const struct rp_exchange *x,
				  const struct rp_response *r)
{
	struct rp_exchange *y = rp_exchange_new();
	y->req.method = x->req.method;
	y->req.scheme = x->req.scheme;
	y->req.authority = x->req.authority;
	y->req.target = x->req.target;
	y->resp = *r;
	memset(&y->resp.m.headers, 0, sizeof(y->resp.m.headers));
	memset(&y->resp.m.trailers, 0, sizeof(y->resp.m.trailers));
	for (size_t i = 0; i < r->m.headers.n; i++)
		rp_headers_add_ref(&y->resp.m.headers, y->pool, r->m.headers.v[i].name,
				   r->m.headers.v[i].value);
	for (size_t i = 0; i < r->m.trailers.n; i++)
		rp_headers_add_ref(&y->resp.m.trailers, y->pool, r->m.trailers.v[i].name,
				   r->m.trailers.v[i].value);
	rp_mask_apply(m, y, NULL);
	return y;
}

/* Builds the mask replayed responses need: none for a corpus recorded
 * unmasked (unless --masks says otherwise), else the rules and key of the
 * mask flags, checked against what the corpus says it was masked with. */
static int open_mask(const struct rp_cli_mask_opts *mo, struct rp_store *s, struct rp_mask **out)
{
	char digest[256] = "", fp[256] = "";
	*out = NULL;
	int recorded = rp_store_meta_get(s, "mask.rules_digest", digest, sizeof(digest)) == 0 &&
		       strcmp(digest, "none") != 0;
	(void)rp_store_meta_get(s, "mask.key_fingerprint", fp, sizeof(fp));
	if (mo->none || (!recorded && !mo->rules))
		return RP_EXIT_OK;
	int rc = rp_cli_mask_open(cmd, mo, out);
	if (rc || !*out)
		return rc;
	if (strcmp(digest, "mixed") == 0 || strcmp(fp, "mixed") == 0)
		fprintf(stderr, "reprise replay: masks: the corpus mixes records masked in different "
				"ways; masked values may differ\n");
	else if (recorded && strcmp(digest, rp_mask_digest(*out)) != 0)
		fprintf(stderr, "reprise replay: masks: the corpus was masked with other rules (%s); "
				"pass --masks FILE with those rules, or masked values may differ\n",
			digest);
	else if (recorded && fp[0] && strcmp(fp, rp_mask_key_fingerprint(*out)) != 0)
		fprintf(stderr, "reprise replay: masks: the corpus was masked under another key (%s); "
				"give that key with --mask-key-file or $%s, or tokens and fakes will "
				"differ\n", fp, RP_MASK_KEY_ENV);
	return RP_EXIT_OK;
}

static void on_result(void *arg, const struct rp_replay_result *res)
{
	struct ctx *c = arg;
	const struct rp_exchange *x = res->x;
	char route[512];
	const struct rp_diff *d = NULL;

	rp_diff_route(x->req.method, x->req.target, route, sizeof(route));
	if (!res->fail && recorded_response(x)) {
		struct rp_response actual = *res->resp;
		/* a recorded body cut at the record cap is compared as a prefix */
		if ((x->flags & RP_XF_RESP_TRUNCATED) && actual.m.body.n > x->resp.m.body.n)
			actual.m.body.n = x->resp.m.body.n;
		struct rp_exchange *y = c->mask ? masked(c->mask, x, &actual) : NULL;
		rp_diff_reset(&c->diff);
		rp_diff_response(&c->dopts, &x->resp, y ? &y->resp : &actual, &c->diff);
		rp_exchange_free(y);
		d = &c->diff;
	}
	struct rp_report_entry e = {x, res, d, route};
	if (rp_report_add(c->report, &e))
		c->io_error = 1;
}

static void on_tick(void *arg, const struct rp_replay_stats *st)
{
	struct ctx *c = arg;
	if (c->progress)
		rp_report_progress(c->report, stderr, st);
}

static int parse_pct(const char *s, double *out)
{
	char *end = NULL;
	double v = strtod(s, &end);
	if (end == s || (*end && strcmp(end, "%") != 0) || !(v >= 0 && v <= 100))
		return RP_E_USAGE;
	*out = v;
	return 0;
}

int rp_cmd_replay(int argc, char **argv)
{
	enum {
		O_DB = 256, O_TARGET, O_FROM, O_TO, O_FILTER, O_SAMPLE, O_LIMIT, O_ID, O_CONN, O_HOST,
		O_SET, O_DROP, O_PATH, O_SPEED, O_RATE, O_MAX, O_CONC, O_NOORDER, O_TIMEOUT, O_NOISE,
		O_REPORT, O_JUNIT, O_FAIL, O_HELP,
	};
	static const struct option opts[] = {
		{"db", required_argument, NULL, O_DB},
		{"target", required_argument, NULL, O_TARGET},
		{"from", required_argument, NULL, O_FROM},
		{"to", required_argument, NULL, O_TO},
		{"filter", required_argument, NULL, O_FILTER},
		{"sample", required_argument, NULL, O_SAMPLE},
		{"limit", required_argument, NULL, O_LIMIT},
		{"id", required_argument, NULL, O_ID},
		{"conn", required_argument, NULL, O_CONN},
		{"host", required_argument, NULL, O_HOST},
		{"set-header", required_argument, NULL, O_SET},
		{"drop-header", required_argument, NULL, O_DROP},
		{"rewrite-path", required_argument, NULL, O_PATH},
		{"speed", required_argument, NULL, O_SPEED},
		{"rate", required_argument, NULL, O_RATE},
		{"max", no_argument, NULL, O_MAX},
		{"concurrency", required_argument, NULL, O_CONC},
		{"no-order", no_argument, NULL, O_NOORDER},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"noise", required_argument, NULL, O_NOISE},
		{"report", required_argument, NULL, O_REPORT},
		{"junit", required_argument, NULL, O_JUNIT},
		{"fail-under", required_argument, NULL, O_FAIL},
		{"help", no_argument, NULL, O_HELP},
		RP_CLI_MASK_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	struct rp_cli_mask_opts mo = {0};
	const char *db = NULL, *target = NULL, *from = NULL, *to = NULL, *expr = NULL;
	const char *noise_file = NULL, *report_file = NULL, *junit_file = NULL;
	struct rp_replay_opts ro;
	struct ctx c;
	struct rp_store *s = NULL;
	struct rp_filter *f = NULL;
	struct rp_diff_noise *noise = NULL;
	struct rp_replay_rewrite *rw = rp_replay_rewrite_new(RP_REPLAY_HOST_TARGET);
	struct rp_replay_stats *st = rp_xcalloc(1, sizeof(*st));
	int schedules = 0, rc = RP_EXIT_OK, opt;
	double fail_under = 100;
	char err[512];
	const char *why = NULL;
	uint64_t u;

	memset(&ro, 0, sizeof(ro));
	memset(&c, 0, sizeof(c));
	ro.mode = RP_REPLAY_SPEED;
	ro.speed = 1;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case O_DB: db = optarg; break;
		case O_TARGET: target = optarg; break;
		case O_FROM: from = optarg; break;
		case O_TO: to = optarg; break;
		case O_FILTER: expr = optarg; break;
		case O_NOISE: noise_file = optarg; break;
		case O_REPORT: report_file = optarg; break;
		case O_JUNIT: junit_file = optarg; break;
		case O_SAMPLE:
			if (parse_pct(optarg, &ro.select.sample_pct) || ro.select.sample_pct <= 0) {
				rc = rp_cli_usage_error(cmd, "--sample '%s': expected a percentage above 0, at most 100", optarg);
				goto out;
			}
			break;
		case O_LIMIT:
			if (rp_cli_parse_u64(optarg, &ro.select.limit) || !ro.select.limit) {
				rc = rp_cli_usage_error(cmd, "--limit '%s': expected a positive number", optarg);
				goto out;
			}
			break;
		case O_ID:
			if (rp_cli_parse_u64(optarg, &ro.select.id) || !ro.select.id) {
				rc = rp_cli_usage_error(cmd, "--id '%s': expected an exchange id", optarg);
				goto out;
			}
			break;
		case O_CONN:
			if (rp_cli_parse_u64(optarg, &ro.select.conn)) {
				rc = rp_cli_usage_error(cmd, "--conn '%s': expected a connection id", optarg);
				goto out;
			}
			ro.select.one_conn = 1;
			break;
		case O_HOST:
			if (strcmp(optarg, "keep") == 0) {
				rp_replay_rewrite_free(rw);
				rw = rp_replay_rewrite_new(RP_REPLAY_HOST_KEEP);
			} else if (strcmp(optarg, "target") != 0) {
				rc = rp_cli_usage_error(cmd, "--host '%s': expected keep or target", optarg);
				goto out;
			}
			break;
		case O_SET:
			if (rp_replay_rewrite_set_header(rw, optarg, &why)) {
				rc = rp_cli_usage_error(cmd, "--set-header '%s': %s", optarg, why);
				goto out;
			}
			break;
		case O_DROP:
			if (rp_replay_rewrite_drop_header(rw, optarg, &why)) {
				rc = rp_cli_usage_error(cmd, "--drop-header '%s': %s", optarg, why);
				goto out;
			}
			break;
		case O_PATH:
			if (rp_replay_rewrite_path(rw, optarg, err, sizeof(err))) {
				rc = rp_cli_usage_error(cmd, "--rewrite-path '%s': %s", optarg, err);
				goto out;
			}
			break;
		case O_SPEED:
			schedules++;
			ro.mode = RP_REPLAY_SPEED;
			if (rp_replay_parse_speed(optarg, &ro.speed)) {
				rc = rp_cli_usage_error(cmd, "--speed '%s': expected a factor above 0 such as 1, 2x or 0.5", optarg);
				goto out;
			}
			break;
		case O_RATE: {
			schedules++;
			ro.mode = RP_REPLAY_RATE;
			char *end = NULL;
			ro.rate = strtod(optarg, &end);
			if (end == optarg || *end || !(ro.rate > 0 && ro.rate <= 1e7)) {
				rc = rp_cli_usage_error(cmd, "--rate '%s': expected requests per second above 0", optarg);
				goto out;
			}
			break;
		}
		case O_MAX:
			schedules++;
			ro.mode = RP_REPLAY_MAX;
			break;
		case O_CONC:
			if (rp_cli_parse_u64(optarg, &u) || !u || u > RP_LIMIT_REPLAY_CONNS) {
				rc = rp_cli_usage_error(cmd, "--concurrency '%s': expected 1 to %d", optarg,
							RP_LIMIT_REPLAY_CONNS);
				goto out;
			}
			ro.concurrency = (unsigned)u;
			break;
		case O_NOORDER: ro.no_order = 1; break;
		case O_TIMEOUT:
			if (rp_filter_parse_duration(optarg, strlen(optarg), &ro.timeout) ||
			    ro.timeout < 1000000) {
				rc = rp_cli_usage_error(cmd, "--timeout '%s': expected a duration such as 5s or 500ms (at least 1ms)", optarg);
				goto out;
			}
			break;
		case O_FAIL:
			if (parse_pct(optarg, &fail_under)) {
				rc = rp_cli_usage_error(cmd, "--fail-under '%s': expected a percentage from 0 to 100", optarg);
				goto out;
			}
			break;
		case O_HELP:
			usage(stdout);
			goto out;
		default:
			if (rp_cli_mask_option(opt, optarg, &mo))
				break;
			rc = rp_cli_bad_option(cmd, opt, argv);
			goto out;
		}
	}
	if (optind < argc) {
		rc = rp_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (schedules > 1) {
		rc = rp_cli_usage_error(cmd, "--speed, --rate and --max exclude each other");
		goto out;
	}
	if (!target) {
		rc = rp_cli_usage_error(cmd, "--target URL is required (http://HOST:PORT)");
		goto out;
	}
	if (rp_replay_target_parse(target, &ro.target, &why)) {
		rc = rp_cli_usage_error(cmd, "--target '%s': %s", target, why);
		goto out;
	}
	if (noise_file) {
		int k = rp_diff_noise_load(noise_file, &noise, err, sizeof(err));
		if (k) {
			rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "--noise %s", err);
			goto out;
		}
	}
	if ((rc = rp_cli_open_store(cmd, db, 1, 0, &s)))
		goto out;
	if ((rc = rp_cli_filter(cmd, expr, s, &f)))
		goto out;
	if ((rc = open_mask(&mo, s, &c.mask)))
		goto out;
	struct rp_store_totals tot = {0};
	(void)rp_store_totals(s, &tot);
	if (from && rp_replay_parse_time(from, tot.first_ns, &ro.select.from_ns)) {
		rc = rp_cli_usage_error(cmd, "--from '%s': expected RFC 3339, @SECONDS or +DURATION", from);
		goto out;
	}
	if (to && rp_replay_parse_time(to, tot.first_ns, &ro.select.to_ns)) {
		rc = rp_cli_usage_error(cmd, "--to '%s': expected RFC 3339, @SECONDS or +DURATION", to);
		goto out;
	}
	ro.select.filter = f;
	ro.rewrite = rw;
	ro.on_result = on_result;
	ro.on_tick = on_tick;
	ro.arg = &c;

	struct rp_report_opts repo = {.target = target, .db = db, .fail_under = fail_under};
	c.report = rp_report_new(&repo);
	c.dopts.noise = noise;
	c.progress = isatty(STDERR_FILENO);
	rp_diff_init(&c.diff);
	if (report_file && rp_report_json_open(c.report, report_file, err, sizeof(err))) {
		rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "%s", err);
		goto out;
	}

	int k = rp_replay_run(s, &ro, st, err, sizeof(err));
	if (c.progress)
		rp_report_progress_clear(stderr);
	if (k == RP_E_IO) {
		rc = rp_cli_fail(cmd, RP_EXIT_UNREACHABLE, "%s", err);
		goto out;
	}
	if (k) {
		rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: %s", db, err);
		goto out;
	}
	if (st->planned == 0)
		fprintf(stderr, "reprise replay: nothing to replay: the selection is empty\n");
	rp_report_summary(c.report, stdout, st);
	fflush(stdout);
	if (rp_report_json_finish(c.report, st, err, sizeof(err)) ||
	    (junit_file && rp_report_junit(c.report, junit_file, st, err, sizeof(err)))) {
		rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "%s", err);
		goto out;
	}
	struct rp_report_totals t;
	rp_report_totals(c.report, &t);
	if (st->done && st->failed[RP_REPLAY_F_CONNECT] == st->done) {
		rc = rp_cli_fail(cmd, RP_EXIT_UNREACHABLE,
				 "target %s became unreachable: every connection attempt failed", target);
		goto out;
	}
	rc = t.passed ? RP_EXIT_OK : RP_EXIT_REGRESSION;
out:
	rp_report_free(c.report);
	if (c.diff.pool)
		rp_diff_dispose(&c.diff);
	rp_diff_noise_free(noise);
	rp_mask_free(c.mask);
	rp_filter_free(f);
	rp_replay_rewrite_free(rw);
	rp_store_close(s);
	free(st);
	return rc;
}
