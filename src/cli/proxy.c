/*
 * proxy: `reprise proxy`, the recording reverse proxy.  Parses the flags,
 * opens the corpus, starts the recorder and the proxy, and when the proxy
 * returns (SIGINT/SIGTERM) drains the recorder, flushes the store and
 * prints what was recorded and dropped.  Everything else lives in
 * src/proxy and src/recorder.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reprise/cli.h"
#include "reprise/limits.h"
#include "reprise/mask.h"
#include "reprise/proxy.h"
#include "reprise/recorder.h"
#include "reprise/store.h"

static const char cmd[] = "proxy";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: reprise proxy --listen ADDR:PORT --upstream http://HOST:PORT --db DIR [options]\n\n"
		"Forward HTTP/1.1 traffic to an upstream and record every exchange, masked\n"
		"with default.rules unless --masks names other rules (man reprise-masks).\n\n"
		"required:\n"
		"  --listen ADDR:PORT        where clients connect (IPv6 as [ADDR]:PORT)\n"
		"  --upstream http://HOST:PORT  the service behind the proxy (resolved once)\n"
		"  --db DIR                  the corpus (created when missing)\n\n"
		"recording:\n"
		RP_CLI_MASK_HELP("    ")
		"  --max-body SIZE           body bytes recorded per message (default 16M); the\n"
		"                            rest is forwarded, not recorded, and the record flagged\n"
		"  --record-queue N          exchanges waiting to be recorded (default %u); when\n"
		"                            full, exchanges are dropped from the recording, never\n"
		"                            from the traffic\n"
		"  --record-queue-bytes SIZE bytes those may hold (default 256M)\n"
		"  --record-threads N        recorder threads (default 1)\n"
		"  --record-nice N           recorder threads run N nice levels below traffic\n"
		"                            (default 10; 0 for equal priority)\n"
		"  --max-size SIZE           corpus size ceiling (default 8G); past it recording stops\n"
		"  --sync MODE               data (default), none or full: what a machine crash\n"
		"                            may cost the corpus (man reprise-proxy)\n\n"
		"proxy:\n"
		"  --workers N               worker threads (default: online CPUs)\n"
		"  --max-conns N             client connections, all workers (default %u)\n"
		"  --pool N                  idle upstream connections kept per worker (default %u)\n"
		"  --max-header-bytes SIZE   header section cap, both ways (default 64K; 431 past it)\n"
		"  --header-timeout DUR      a request head must arrive within (default 30s; 408)\n"
		"  --idle-timeout DUR        keep-alive wait for the next request (default 60s)\n"
		"  --client-timeout DUR      client silent mid-body or not reading (default 60s)\n"
		"  --connect-timeout DUR     upstream connect (default 5s; then 504)\n"
		"  --upstream-timeout DUR    upstream silent while a response is due (default 60s;\n"
		"                            then 504)\n"
		"  --shutdown-timeout DUR    in-flight exchanges get this long after SIGINT/SIGTERM\n"
		"                            (default 10s; a second signal cuts at once)\n"
		"  --via                     add 'Via: 1.1 reprise' both ways\n"
		"  --x-forwarded-for         add X-Forwarded-For with the client address\n"
		"  --forwarded               add Forwarded: for=... (RFC 7239)\n\n"
		"observability:\n"
		"  --metrics [ADDR:]PORT     Prometheus text on /metrics (a bare port binds 127.0.0.1)\n"
		"  --log-level LEVEL         error, warn (default), info or debug; key=value on stderr\n"
		"  --help                    show this help\n\n"
		"DUR is a number with an optional unit: ms, s (default), m.  SIZE takes K, M, G.\n"
		"exit codes: 0 stopped cleanly, 2 usage or configuration, 4 store error\n",
		RP_LIMIT_RECORDER_QUEUE, RP_LIMIT_PROXY_CONNS, RP_LIMIT_PROXY_POOL);
}

/* Parses "250ms", "30s", "30", "2m" into milliseconds.  0 or RP_E_USAGE. */
static int parse_duration(const char *s, unsigned *ms)
{
	size_t n = strlen(s);
	uint64_t mul = 1000, v;
	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		mul = 1;
		n -= 2;
	} else if (n > 1 && s[n - 1] == 's') {
		n--;
	} else if (n > 1 && s[n - 1] == 'm') {
		mul = 60000;
		n--;
	}
	if (rp_slice_to_u64(rp_slice(s, n), &v) || v == 0 || v > UINT32_MAX / mul)
		return RP_E_USAGE;
	*ms = (unsigned)(v * mul);
	return 0;
}

enum {
	O_LISTEN = 256, O_UPSTREAM, O_DB, O_WORKERS, O_MAX_BODY,
	O_RECORD_QUEUE, O_RECORD_QUEUE_BYTES, O_RECORD_THREADS, O_RECORD_NICE, O_MAX_SIZE, O_SYNC, O_MAX_CONNS, O_POOL,
	O_MAX_HEADER_BYTES, O_HEADER_TIMEOUT, O_IDLE_TIMEOUT, O_CLIENT_TIMEOUT, O_CONNECT_TIMEOUT,
	O_UPSTREAM_TIMEOUT, O_SHUTDOWN_TIMEOUT, O_VIA, O_XFF, O_FORWARDED, O_METRICS, O_LOG_LEVEL,
	O_HELP,
};

static const struct option options[] = {
	{"listen", required_argument, NULL, O_LISTEN},
	{"upstream", required_argument, NULL, O_UPSTREAM},
	{"db", required_argument, NULL, O_DB},
	RP_CLI_MASK_OPTIONS,
	{"workers", required_argument, NULL, O_WORKERS},
	{"max-body", required_argument, NULL, O_MAX_BODY},
	{"record-queue", required_argument, NULL, O_RECORD_QUEUE},
	{"record-queue-bytes", required_argument, NULL, O_RECORD_QUEUE_BYTES},
	{"record-threads", required_argument, NULL, O_RECORD_THREADS},
	{"record-nice", required_argument, NULL, O_RECORD_NICE},
	{"max-size", required_argument, NULL, O_MAX_SIZE},
	{"sync", required_argument, NULL, O_SYNC},
	{"max-conns", required_argument, NULL, O_MAX_CONNS},
	{"pool", required_argument, NULL, O_POOL},
	{"max-header-bytes", required_argument, NULL, O_MAX_HEADER_BYTES},
	{"header-timeout", required_argument, NULL, O_HEADER_TIMEOUT},
	{"idle-timeout", required_argument, NULL, O_IDLE_TIMEOUT},
	{"client-timeout", required_argument, NULL, O_CLIENT_TIMEOUT},
	{"connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT},
	{"upstream-timeout", required_argument, NULL, O_UPSTREAM_TIMEOUT},
	{"shutdown-timeout", required_argument, NULL, O_SHUTDOWN_TIMEOUT},
	{"via", no_argument, NULL, O_VIA},
	{"x-forwarded-for", no_argument, NULL, O_XFF},
	{"forwarded", no_argument, NULL, O_FORWARDED},
	{"metrics", required_argument, NULL, O_METRICS},
	{"log-level", required_argument, NULL, O_LOG_LEVEL},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

/* Parses an unsigned flag value in [lo, hi]. */
static int parse_uint(const char *flag, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (rp_cli_parse_u64(s, out) || *out < lo || *out > hi)
		return rp_cli_usage_error(cmd, "--%s '%s': expected a whole number from %" PRIu64
					       " to %" PRIu64, flag, s, lo, hi);
	return 0;
}

static int parse_size(const char *flag, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (rp_cli_parse_size(s, out) || *out < lo || *out > hi)
		return rp_cli_usage_error(cmd, "--%s '%s': expected a size from %" PRIu64 " to %" PRIu64
					       " bytes (K, M, G suffixes allowed)", flag, s, lo, hi);
	return 0;
}

int rp_cmd_proxy(int argc, char **argv)
{
	struct rp_proxy_opts po;
	struct rp_store_opts so = {0};
	struct rp_recorder_opts ro = {0};
	struct rp_store *store = NULL;
	struct rp_recorder *rec = NULL;
	struct rp_proxy *px = NULL;
	struct rp_cli_mask_opts mo = {0};
	struct rp_mask *mask = NULL;
	const char *why = NULL;
	uint64_t v;
	unsigned *dur = NULL;
	int rc = RP_EXIT_USAGE, opt;

	rp_proxy_opts_init(&po);
	so.create = 1;
	ro.nice = 10;
	optind = 1;
	opterr = 0;
	int li = -1;
	while ((opt = getopt_long(argc, argv, ":h", options, &li)) != -1) {
		const char *flag = li >= 0 ? options[li].name : argv[optind - 1];
		li = -1;
		switch (opt) {
		case O_LISTEN: po.listen = optarg; break;
		case O_UPSTREAM: po.upstream = optarg; break;
		case O_DB: so.path = optarg; break;
		case RP_CLI_OPT_MASKS:
		case RP_CLI_OPT_NO_MASKS:
		case RP_CLI_OPT_MASK_KEY_FILE:
			rp_cli_mask_option(opt, optarg, &mo);
			break;
		case O_WORKERS:
			if ((rc = parse_uint("workers", optarg, 1, 256, &v)))
				return rc;
			po.workers = (unsigned)v;
			break;
		case O_MAX_BODY:
			if ((rc = parse_size("max-body", optarg, 0, RP_LIMIT_BODY_DECODED, &v)))
				return rc;
			po.max_body = v;
			break;
		case O_RECORD_QUEUE:
			if ((rc = parse_uint("record-queue", optarg, 1, 1u << 24, &v)))
				return rc;
			ro.queue_len = (unsigned)v;
			break;
		case O_RECORD_QUEUE_BYTES:
			if ((rc = parse_size("record-queue-bytes", optarg, 1, 1ULL << 40, &v)))
				return rc;
			ro.queue_bytes = v;
			break;
		case O_RECORD_THREADS:
			if ((rc = parse_uint("record-threads", optarg, 1, 64, &v)))
				return rc;
			ro.threads = (unsigned)v;
			break;
		case O_RECORD_NICE:
			if ((rc = parse_uint("record-nice", optarg, 0, 19, &v)))
				return rc;
			ro.nice = (int)v;
			break;
		case O_MAX_SIZE:
			if ((rc = parse_size("max-size", optarg, 1 << 20, 1ULL << 44, &v)))
				return rc;
			so.max_size = v;
			break;
		case O_SYNC: {
			enum rp_store_sync sm;
			if (rp_store_sync_parse(optarg, &sm))
				return rp_cli_usage_error("proxy", "--sync: '%s' is not none, data or full",
							  optarg);
			so.sync = (int)sm;
			break;
		}
		case O_MAX_CONNS:
			if ((rc = parse_uint("max-conns", optarg, 1, 1u << 24, &v)))
				return rc;
			po.max_conns = (unsigned)v;
			break;
		case O_POOL:
			if ((rc = parse_uint("pool", optarg, 0, 1u << 16, &v)))
				return rc;
			po.pool_size = (unsigned)v;
			break;
		case O_MAX_HEADER_BYTES:
			if ((rc = parse_size("max-header-bytes", optarg, 1024, 1 << 20, &v)))
				return rc;
			po.max_header_bytes = (uint32_t)v;
			break;
		case O_HEADER_TIMEOUT:
		case O_IDLE_TIMEOUT:
		case O_CLIENT_TIMEOUT:
		case O_CONNECT_TIMEOUT:
		case O_UPSTREAM_TIMEOUT:
		case O_SHUTDOWN_TIMEOUT:
			dur = opt == O_HEADER_TIMEOUT    ? &po.header_timeout_ms
			      : opt == O_IDLE_TIMEOUT    ? &po.idle_timeout_ms
			      : opt == O_CLIENT_TIMEOUT  ? &po.client_timeout_ms
			      : opt == O_CONNECT_TIMEOUT ? &po.connect_timeout_ms
			      : opt == O_UPSTREAM_TIMEOUT ? &po.upstream_timeout_ms
							  : &po.shutdown_timeout_ms;
			if (parse_duration(optarg, dur))
				return rp_cli_usage_error(cmd, "--%s '%s': expected a duration such as 500ms, "
							       "30s or 2m", flag, optarg);
			break;
		case O_VIA: po.via = 1; break;
		case O_XFF: po.x_forwarded_for = 1; break;
		case O_FORWARDED: po.forwarded = 1; break;
		case O_METRICS: po.metrics = optarg; break;
		case O_LOG_LEVEL: {
			enum rp_log_level lvl;
			if (rp_log_parse_level(optarg, &lvl))
				return rp_cli_usage_error(cmd, "--log-level '%s': expected error, warn, "
							       "info or debug", optarg);
			rp_log_set_level(lvl);
			break;
		}
		case 'h':
		case O_HELP:
			usage(stdout);
			return RP_EXIT_OK;
		case ':':
			return rp_cli_usage_error(cmd, "%s needs a value", argv[optind - 1]);
		default:
			return rp_cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	rc = RP_EXIT_USAGE;
	if (optind < argc)
		return rp_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!po.listen)
		return rp_cli_usage_error(cmd, "--listen ADDR:PORT is required");
	if (!po.upstream)
		return rp_cli_usage_error(cmd, "--upstream http://HOST:PORT is required");
	if (!so.path)
		return rp_cli_usage_error(cmd, "--db DIR is required");

	/* rules and key next: a rule error names file, line and column (exit 2) */
	if ((rc = rp_cli_mask_open(cmd, &mo, &mask)))
		return rc;
	rc = RP_EXIT_USAGE;

	/* bind first: a port in use is a usage error, before a corpus is made */
	int err = rp_proxy_new(&po, &px, &why);
	if (err) {
		rc = err == RP_E_USAGE ? rp_cli_usage_error(cmd, "%s", why)
				       : rp_cli_fail(cmd, RP_EXIT_USAGE, "%s", why);
		goto out;
	}
	err = rp_store_open(&so, &store, &why);
	if (err) {
		rc = rp_cli_store_error(cmd, so.path, err, why);
		goto out;
	}
	ro.store = store;
	ro.max_decoded = RP_LIMIT_BODY_DECODED;
	/* MASK HOOK (issue 5): every exchange is masked before rp_store_put */
	if (mask) {
		ro.mask = rp_cli_mask_hook;
		ro.mask_ctx = mask;
	}
	if ((err = rp_cli_mask_record(store, mask))) {
		rc = rp_cli_store_error(cmd, so.path, err, NULL);
		goto out;
	}
	if (rp_recorder_new(&ro, &rec)) {
		rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "cannot start the recorder");
		goto out;
	}
	rp_proxy_set_recorder(px, rec, store);
	fprintf(stderr, "reprise proxy: listening on %s, forwarding to %s, recording to %s (%s%s)\n",
		po.listen, po.upstream, so.path, mask ? "masked with rules " : "UNMASKED: --no-masks",
		mask ? rp_mask_digest(mask) : "");
	if (rp_proxy_run(px)) {
		rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "the proxy could not start its threads");
		goto out;
	}
	rc = RP_EXIT_OK;
	struct rp_proxy_stats ps;
	rp_proxy_get_stats(px, &ps);
	int ferr = rp_recorder_close(rec);
	struct rp_recorder_stats rs;
	struct rp_store_stats ss;
	rp_recorder_get_stats(rec, &rs);
	rp_store_get_stats(store, &ss);
	uint64_t rdropped = 0;
	for (int k = 0; k < RP_RECORDER_DROP_COUNT; k++)
		rdropped += rs.dropped[k];
	fprintf(stderr,
		"reprise proxy: %" PRIu64 " connections, %" PRIu64 " responses (%" PRIu64 " 5xx); "
		"recorded %" PRIu64 " exchanges (%" PRIu64 " committed) and %" PRIu64 " connections (%" PRIu64
		" not); "
		"dropped %" PRIu64 " (queue_full=%" PRIu64 " store_full=%" PRIu64 " too_big=%" PRIu64
		" other=%" PRIu64 ")\n",
		ps.accepted, ps.requests[1] + ps.requests[2] + ps.requests[3] + ps.requests[4] + ps.requests[5],
		ps.requests[5], rs.recorded, ss.committed, rs.conns, rs.dropped_conns, rdropped,
		rs.dropped[RP_RECORDER_DROP_QUEUE_FULL], rs.dropped[RP_RECORDER_DROP_STORE_FULL],
		rs.dropped[RP_RECORDER_DROP_TOO_BIG],
		rs.dropped[RP_RECORDER_DROP_MASK] + rs.dropped[RP_RECORDER_DROP_CLOSED] +
			rs.dropped[RP_RECORDER_DROP_ERROR]);
	if (ferr)
		rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: flushing the corpus failed", so.path);
out:
	rp_proxy_free(px);
	rp_recorder_free(rec);
	rp_store_close(store);
	rp_mask_free(mask);
	return rc;
}
