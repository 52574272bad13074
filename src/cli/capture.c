/*
 * capture: `reprise capture` records HTTP/1 exchanges passively, from a
 * live interface (-i) or a pcap/pcapng file (-r).  This file only parses
 * options and wires the modules: libpcap source -> capture engine (link
 * layers, reassembly, HTTP/1 pairing) -> recorder path (content decoding,
 * masks, store).  SIGINT and SIGTERM stop it cleanly: flows are flushed and
 * everything in flight is recorded, flagged as incomplete where it is.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reprise/capture.h"
#include "reprise/cli.h"
#include "reprise/coding.h"
#include "reprise/limits.h"
#include "reprise/mask.h"
#include "reprise/recorder.h"
#include "reprise/store.h"

static const char cmd[] = "capture";

#define MAX_PORTS 64
#define META_NEXT_CONN "next_conn_id"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: reprise capture (-r FILE | -i IFACE) (--db DIR | --null-sink) [options]\n"
		"                       [BPF expression]\n\n"
		"Record HTTP/1 exchanges passively from a pcap/pcapng file or a live interface.\n"
		"TCP is reassembled per connection; requests and responses are paired in order;\n"
		"every record says how complete it is (gap, no response, ...).\n\n"
		"source:\n"
		"  -r, --read FILE         read a pcap or pcapng file ('-': standard input)\n"
		"  -i, --interface IFACE   capture live on IFACE (needs CAP_NET_RAW)\n"
		"  BPF expression          which packets to look at; by default live capture\n"
		"                          filters on the --port list (VLAN and MPLS tagged\n"
		"                          frames included) and files are filtered by port\n"
		"                          after decoding\n"
		"  --port LIST             server ports, comma-separated (default 80); 'any' looks\n"
		"                          at every TCP port and recognises HTTP by its bytes\n"
		"  --snaplen N             live: bytes kept per packet (default %u)\n"
		"  --buffer-size SIZE      live: kernel capture buffer (default 64M)\n"
		"  --promisc               live: put the interface in promiscuous mode (off)\n"
		"  --duration SECS         stop after SECS seconds (live: wall clock; file:\n"
		"                          capture time from the first packet)\n"
		"  --count N               stop after N packets\n\n"
		"recording:\n"
		"  --db DIR                the corpus to record into (created when missing)\n"
		"  --max-size SIZE         store ceiling (default 8G); recording stops there\n"
		"  --sync MODE             data (default), none or full: what a machine crash\n"
		"                          may cost the corpus (man reprise-capture)\n"
		RP_CLI_MASK_HELP("  ")
		"  --null-sink             parse everything, store nothing: a benchmarking aid\n"
		"                          that measures the capture path alone (no content\n"
		"                          decoding, no store)\n"
		"  --print                 print one line per exchange on standard output, as\n"
		"                          captured (unmasked: only with --no-masks or\n"
		"                          --null-sink): conn seq method target host status\n"
		"                          body-length flags\n\n"
		"limits:\n"
		"  --max-flow-memory SIZE  bytes held for reassembly, unparsed tails and bodies\n"
		"                          in flight (default 256M); past it the oldest flows\n"
		"                          are flushed and the loss counted\n"
		"  --max-flows N           connections tracked at once (default %u)\n"
		"  --flow-timeout SECS     a connection idle this long is closed (default 120)\n"
		"  --max-body SIZE         body bytes kept per message (default 16M); longer\n"
		"                          bodies are cut and flagged truncated\n\n"
		"output:\n"
		"  --stats-json FILE       write the final counters as JSON to FILE\n"
		"  --progress              show a progress line (default: on a terminal, for -r)\n"
		"  --no-progress           never show it\n"
		"  -q, --quiet             no summary on standard error\n"
		"  --log-level LEVEL       error, warn (default), info or debug\n"
		"  -h, --help              show this help\n\n"
		"exit codes: 0 ok, 2 usage (bad flag, filter or capture file), 3 source\n"
		"unreachable (no such file or interface, no permission), 4 store error\n",
		RP_LIMIT_CAPTURE_SNAPLEN, RP_LIMIT_CAPTURE_FLOWS);
}

/* ---- the recording side ---- */

struct rec {
	struct rp_store *store;
	struct rp_recorder *rec;
	int null_sink;
	int print;
	int wait;               /* reading a file: wait for the recorder, never drop */
	uint64_t kept;          /* null sink: exchanges parsed */
	uint64_t waits;         /* times the file waited for the recorder */
};

/* Store queue depth above which a file read waits: half its queue. */
#define PACE_STORE (RP_LIMIT_STORE_QUEUE / 2)

/* A file has no traffic to protect: rather than let anything drop (fail-open
 * is for live traffic), reading waits for the recorder (submit_wait) and,
 * since the recorder hands records to the store without waiting, for the
 * store's queue too. */
static void pace(struct rec *r)
{
	for (;;) {
		struct rp_store_stats ss;
		rp_store_get_stats(r->store, &ss);
		if (ss.queue_depth < PACE_STORE)
			return;
		r->waits++;
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
}

/* The length |m|'s body will have once the recorder decoded it. */
static size_t decoded_len(const struct rp_message *m)
{
	const struct rp_header *ce = rp_headers_get(&m->headers, RP_SLICE_LIT("Content-Encoding"));
	if (!ce || !m->body.n || !rp_coding_known(ce->value))
		return m->body.n;
	struct rp_buf out;
	rp_buf_init(&out, RP_LIMIT_BODY_DECODED);
	size_t n = rp_coding_decode(ce->value, m->body, &out) == 0 ? rp_buf_len(&out) : m->body.n;
	rp_buf_dispose(&out);
	return n;
}

static void print_exchange(const struct rp_exchange *x)
{
	char fl[256];
	printf("%" PRIu64 "\t%" PRIu32 "\t%.*s\t%.*s\t%.*s\t%u\t%zu\t%s\n", x->conn_id, x->conn_seq,
	       (int)x->req.method.n, (const char *)x->req.method.p, (int)x->req.target.n,
	       (const char *)x->req.target.p, (int)x->req.authority.n,
	       (const char *)x->req.authority.p, x->resp.status, decoded_len(&x->resp.m),
	       rp_xflags_format(x->flags, fl, sizeof(fl)));
}

/* The sink of the capture engine: the recorder hand-off (content decoding,
 * masks, store), one call per exchange. */
static void on_exchange(void *ctx, struct rp_exchange *x)
{
	struct rec *r = ctx;
	if (r->print)
		print_exchange(x);
	if (r->null_sink) {
		r->kept++;
		rp_exchange_free(x);
		return;
	}
	if (r->wait)
		pace(r);
	if (x->conn_seq == 0) {
		struct rp_conn cn = {.id = x->conn_id, .proto = x->proto, .client = x->client,
				     .server = x->server,
				     .start_ns = x->t.req_start ? x->t.req_start : x->t.resp_start};
		rp_recorder_submit_conn(r->rec, &cn);
	}
	/* The recorder owns |x| now, whatever it says. */
	if (r->wait)
		rp_recorder_submit_wait(r->rec, x);
	else
		rp_recorder_submit(r->rec, x);
}

/* ---- the reading loop ---- */

static volatile sig_atomic_t stop_signal;
static struct rp_pcap *signal_source;

static void on_signal(int sig)
{
	stop_signal = sig;
	if (signal_source)
		rp_pcap_break(signal_source);
}

struct run {
	struct rp_capture *cap;
	struct rp_pcap *src;
	int link;
	uint64_t count, max_count;
	int64_t duration_ns, first_ts;
	int live;
	int stopped; /* by --count or --duration */
};

static void on_packet(void *ctx, int64_t ts, int link, const uint8_t *p, uint32_t caplen,
		      uint32_t len)
{
	struct run *u = ctx;
	if (u->stopped)
		return;
	if (!u->live && u->duration_ns) {
		if (!u->first_ts)
			u->first_ts = ts;
		if (ts - u->first_ts > u->duration_ns) {
			u->stopped = 1;
			rp_pcap_break(u->src);
			return;
		}
	}
	rp_capture_packet(u->cap, link, ts, p, caplen);
	if (u->max_count && ++u->count >= u->max_count) {
		u->stopped = 1;
		rp_pcap_break(u->src);
	}
}

static void progress(const struct run *u, int64_t t0, int final)
{
	struct rp_capture_stats st;
	struct rp_pcap_stats ps;
	rp_capture_get_stats(u->cap, &st);
	rp_pcap_get_stats(u->src, &ps);
	double secs = (double)(rp_mono_ns() - t0) / 1e9;
	double mbs = secs > 0 ? (double)st.bytes / 1e6 / secs : 0;
	char pct[16] = "";
	if (ps.file_size > 0 && ps.file_pos >= 0)
		snprintf(pct, sizeof(pct), "  %3d%%", (int)(100.0 * (double)ps.file_pos /
							    (double)ps.file_size));
	fprintf(stderr, "\rpackets %" PRIu64 "  %.1f MB/s  exchanges %" PRIu64 "%s%s", st.packets,
		mbs, st.exchanges, pct, final ? "\n" : "   ");
	fflush(stderr);
}

/* ---- reporting ---- */

static void json_u64(FILE *f, const char *k, uint64_t v, int *first)
{
	fprintf(f, "%s\n  \"%s\": %" PRIu64, *first ? "" : ",", k, v);
	*first = 0;
}

/* What became of the exchanges handed to the sink. */
struct outcome {
	uint64_t recorded, dropped, failed, coding_errors, waits;
};

static int write_stats_json(const char *path, const struct rp_capture_stats *st,
			    const struct rp_pcap_stats *ps, const struct outcome *r, double secs,
			    int live)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return RP_E_IO;
	int first = 1;
	fputc('{', f);
	json_u64(f, "packets", st->packets, &first);
	json_u64(f, "bytes", st->bytes, &first);
	json_u64(f, "kernel_received", live ? ps->received : 0, &first);
	json_u64(f, "kernel_dropped", live ? ps->dropped : 0, &first);
	json_u64(f, "interface_dropped", live ? ps->if_dropped : 0, &first);
	for (int v = 0; v < RP_PKT_VERDICTS; v++) {
		char k[64];
		snprintf(k, sizeof(k), "packets_%s", rp_pkt_verdict_name((enum rp_pkt_verdict)v));
		for (char *q = k; *q; q++)
			if (*q == '-')
				*q = '_';
		json_u64(f, k, st->verdicts[v], &first);
	}
	json_u64(f, "tcp_no_flow", st->tcp_no_flow, &first);
	json_u64(f, "tcp_other_ports", st->tcp_other_ports, &first);
	json_u64(f, "flows", st->flows, &first);
	json_u64(f, "flows_closed", st->flows_closed, &first);
	json_u64(f, "flows_idle", st->flows_idle, &first);
	json_u64(f, "flows_evicted", st->flows_evicted, &first);
	json_u64(f, "flows_peak", st->flows_peak, &first);
	json_u64(f, "flows_with_gaps", st->flows_with_gaps, &first);
	json_u64(f, "flows_midstream", st->flows_midstream, &first);
	json_u64(f, "flows_h1", st->flows_h1, &first);
	json_u64(f, "flows_h2_not_decoded", st->flows_h2, &first);
	json_u64(f, "flows_other", st->flows_other, &first);
	json_u64(f, "flows_tunnel", st->flows_tunnel, &first);
	json_u64(f, "exchanges", st->exchanges, &first);
	json_u64(f, "exchanges_recorded", r->recorded, &first);
	json_u64(f, "exchanges_dropped", r->dropped, &first);
	json_u64(f, "exchanges_failed", r->failed, &first);
	json_u64(f, "file_waits_for_recorder", r->waits, &first);
	json_u64(f, "exchanges_gap", st->exchanges_gap, &first);
	json_u64(f, "exchanges_no_response", st->exchanges_no_response, &first);
	json_u64(f, "exchanges_no_request", st->exchanges_no_request, &first);
	json_u64(f, "exchanges_anomaly", st->exchanges_anomaly, &first);
	json_u64(f, "exchanges_truncated", st->exchanges_truncated, &first);
	json_u64(f, "exchanges_coding_error", r->coding_errors, &first);
	json_u64(f, "parse_errors", st->parse_errors, &first);
	json_u64(f, "resyncs", st->resyncs, &first);
	json_u64(f, "pipeline_overflow", st->pipeline_overflow, &first);
	json_u64(f, "tcp_bytes_delivered", st->tcp_delivered, &first);
	json_u64(f, "tcp_gaps", st->tcp_gaps, &first);
	json_u64(f, "tcp_gap_bytes", st->tcp_gap_bytes, &first);
	json_u64(f, "tcp_dup_bytes", st->tcp_dup_bytes, &first);
	json_u64(f, "tcp_overlap_conflicts", st->tcp_conflicts, &first);
	json_u64(f, "tcp_out_of_order_segments", st->tcp_ooo_segments, &first);
	json_u64(f, "tcp_out_of_window", st->tcp_out_of_window, &first);
	json_u64(f, "tcp_after_end", st->tcp_after_end, &first);
	json_u64(f, "memory_limited", st->mem_limited, &first);
	json_u64(f, "memory_peak", st->mem_peak, &first);
	json_u64(f, "h2_bytes_not_decoded", st->h2_bytes_skipped, &first);
	json_u64(f, "other_bytes_skipped", st->other_bytes_skipped, &first);
	json_u64(f, "ip_fragments", st->frag.fragments, &first);
	json_u64(f, "ip_reassembled", st->frag.reassembled, &first);
	json_u64(f, "ip_fragment_overlaps", st->frag.overlaps, &first);
	json_u64(f, "ip_fragment_timeouts", st->frag.timeouts, &first);
	json_u64(f, "ip_fragment_evicted", st->frag.evicted, &first);
	json_u64(f, "ip_fragment_invalid", st->frag.invalid, &first);
	fprintf(f, ",\n  \"seconds\": %.3f\n}\n", secs);
	int bad = ferror(f);
	return fclose(f) != 0 || bad ? RP_E_IO : 0;
}

static void summary(const struct rp_capture_stats *st, const struct rp_pcap_stats *ps,
		    const struct outcome *r, double secs, int live, int null_sink)
{
	uint64_t bad = st->verdicts[RP_PKT_TRUNCATED] + st->verdicts[RP_PKT_MALFORMED] +
		       st->verdicts[RP_PKT_FRAG_DROPPED] + st->verdicts[RP_PKT_BAD_LINK];
	fprintf(stderr, "reprise capture: %" PRIu64 " packets (%.1f MB) in %.2f s", st->packets,
		(double)st->bytes / 1e6, secs);
	if (live)
		fprintf(stderr, ", dropped by the kernel %" PRIu64 " (interface %" PRIu64 ")",
			ps->dropped, ps->if_dropped);
	fprintf(stderr, ", unusable %" PRIu64 "\n", bad);
	fprintf(stderr,
		"  exchanges %" PRIu64 ", %s %" PRIu64 ", dropped %" PRIu64 " (queues or store "
		"full), failed %" PRIu64 "\n",
		st->exchanges, null_sink ? "null sink (nothing stored)" : "recorded", r->recorded,
		r->dropped, r->failed);
	fprintf(stderr,
		"  incomplete: gap %" PRIu64 ", no response %" PRIu64 ", no request %" PRIu64
		", anomaly %" PRIu64 "\n",
		st->exchanges_gap, st->exchanges_no_response, st->exchanges_no_request,
		st->exchanges_anomaly);
	fprintf(stderr,
		"  flows %" PRIu64 " (http/1 %" PRIu64 ", h2 not decoded yet %" PRIu64
		", other %" PRIu64 "), with gaps %" PRIu64 ", evicted %" PRIu64 "\n",
		st->flows, st->flows_h1, st->flows_h2, st->flows_other, st->flows_with_gaps,
		st->flows_evicted);
}

/* ---- options ---- */

static int parse_ports(const char *s, uint16_t *ports, size_t *n, int *any)
{
	*n = 0;
	*any = 0;
	if (strcmp(s, "any") == 0) {
		*any = 1;
		return 0;
	}
	char buf[512];
	if (strlen(s) >= sizeof(buf))
		return RP_E_USAGE;
	strcpy(buf, s);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (rp_cli_parse_u64(t, &v) || v == 0 || v > 65535 || *n == MAX_PORTS)
			return RP_E_USAGE;
		ports[(*n)++] = (uint16_t)v;
	}
	return *n ? 0 : RP_E_USAGE;
}

enum {
	O_DB = 256, O_PORT, O_SNAPLEN, O_BUFSIZE, O_PROMISC, O_DURATION, O_COUNT, O_MAXSIZE, O_SYNC,
	O_NULL, O_PRINT, O_FLOWMEM, O_FLOWS, O_TIMEOUT, O_MAXBODY, O_STATS, O_PROGRESS,
	O_NOPROGRESS, O_LOGLEVEL,
};

int rp_cmd_capture(int argc, char **argv)
{
	static const struct option opts[] = {
		{"read", required_argument, NULL, 'r'},
		{"interface", required_argument, NULL, 'i'},
		{"db", required_argument, NULL, O_DB},
		{"port", required_argument, NULL, O_PORT},
		{"snaplen", required_argument, NULL, O_SNAPLEN},
		{"buffer-size", required_argument, NULL, O_BUFSIZE},
		{"promisc", no_argument, NULL, O_PROMISC},
		{"duration", required_argument, NULL, O_DURATION},
		{"count", required_argument, NULL, O_COUNT},
		{"max-size", required_argument, NULL, O_MAXSIZE},
		{"sync", required_argument, NULL, O_SYNC},
		RP_CLI_MASK_OPTIONS,
		{"null-sink", no_argument, NULL, O_NULL},
		{"print", no_argument, NULL, O_PRINT},
		{"max-flow-memory", required_argument, NULL, O_FLOWMEM},
		{"max-flows", required_argument, NULL, O_FLOWS},
		{"flow-timeout", required_argument, NULL, O_TIMEOUT},
		{"max-body", required_argument, NULL, O_MAXBODY},
		{"stats-json", required_argument, NULL, O_STATS},
		{"progress", no_argument, NULL, O_PROGRESS},
		{"no-progress", no_argument, NULL, O_NOPROGRESS},
		{"quiet", no_argument, NULL, 'q'},
		{"log-level", required_argument, NULL, O_LOGLEVEL},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *file = NULL, *iface = NULL, *db = NULL, *stats_json = NULL;
	struct rp_cli_mask_opts mo = {0};
	struct rp_mask *mask = NULL;
	uint16_t ports[MAX_PORTS] = {80};
	size_t nports = 1;
	int any_port = 0, filter_ports = 0, promisc = 0, null_sink = 0, print = 0, quiet = 0, show_progress = -1;
	uint64_t snaplen = RP_LIMIT_CAPTURE_SNAPLEN, bufsize = 64ULL << 20, duration = 0,
		 count = 0, max_size = 0, flowmem = RP_LIMIT_CAPTURE_FLOW_MEMORY,
		 maxflows = RP_LIMIT_CAPTURE_FLOWS, timeout = 120, maxbody = RP_LIMIT_BODY_RECORD;
	enum rp_store_sync sync_mode = RP_STORE_SYNC_DATA;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+r:i:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'r': file = optarg; break;
		case 'i': iface = optarg; break;
		case O_DB: db = optarg; break;
		case O_PORT:
			if (parse_ports(optarg, ports, &nports, &any_port))
				return rp_cli_usage_error(cmd, "--port: '%s' is not a comma-separated "
							       "list of ports (1-65535) or 'any'",
							  optarg);
			break;
		case O_SNAPLEN:
			if (rp_cli_parse_u64(optarg, &snaplen) || snaplen < 64 || snaplen > 262144)
				return rp_cli_usage_error(cmd, "--snaplen: '%s' is not a number "
							       "from 64 to 262144", optarg);
			break;
		case O_BUFSIZE:
			if (rp_cli_parse_size(optarg, &bufsize) || bufsize > INT32_MAX)
				return rp_cli_usage_error(cmd, "--buffer-size: '%s' is not a size "
							       "below 2G", optarg);
			break;
		case O_PROMISC: promisc = 1; break;
		case O_DURATION:
			if (rp_cli_parse_u64(optarg, &duration) || !duration || duration > 31536000)
				return rp_cli_usage_error(cmd, "--duration: '%s' is not a number of "
							       "seconds", optarg);
			break;
		case O_COUNT:
			if (rp_cli_parse_u64(optarg, &count) || !count)
				return rp_cli_usage_error(cmd, "--count: '%s' is not a positive "
							       "number", optarg);
			break;
		case O_MAXSIZE:
			if (rp_cli_parse_size(optarg, &max_size) || !max_size)
				return rp_cli_usage_error(cmd, "--max-size: '%s' is not a size",
							  optarg);
			break;
		case O_SYNC:
			if (rp_store_sync_parse(optarg, &sync_mode))
				return rp_cli_usage_error(cmd, "--sync: '%s' is not none, data or full",
							  optarg);
			break;
		case RP_CLI_OPT_MASKS:
		case RP_CLI_OPT_NO_MASKS:
		case RP_CLI_OPT_MASK_KEY_FILE:
			rp_cli_mask_option(c, optarg, &mo);
			break;
		case O_NULL: null_sink = 1; break;
		case O_PRINT: print = 1; break;
		case O_FLOWMEM:
			if (rp_cli_parse_size(optarg, &flowmem) || flowmem < (1u << 20))
				return rp_cli_usage_error(cmd, "--max-flow-memory: '%s' is not a "
							       "size of at least 1M", optarg);
			break;
		case O_FLOWS:
			if (rp_cli_parse_u64(optarg, &maxflows) || !maxflows || maxflows > (1u << 24))
				return rp_cli_usage_error(cmd, "--max-flows: '%s' is not a number "
							       "from 1 to 16777216", optarg);
			break;
		case O_TIMEOUT:
			if (rp_cli_parse_u64(optarg, &timeout) || !timeout || timeout > 86400)
				return rp_cli_usage_error(cmd, "--flow-timeout: '%s' is not a number "
							       "of seconds (1-86400)", optarg);
			break;
		case O_MAXBODY:
			if (rp_cli_parse_size(optarg, &maxbody) || maxbody > RP_LIMIT_BODY_RECORD)
				return rp_cli_usage_error(cmd, "--max-body: '%s' is not a size up to "
							       "16M", optarg);
			break;
		case O_STATS: stats_json = optarg; break;
		case O_PROGRESS: show_progress = 1; break;
		case O_NOPROGRESS: show_progress = 0; break;
		case 'q': quiet = 1; break;
		case O_LOGLEVEL: {
			enum rp_log_level lv;
			if (rp_log_parse_level(optarg, &lv))
				return rp_cli_usage_error(cmd, "--log-level: '%s' is not error, warn, "
							       "info or debug", optarg);
			rp_log_set_level(lv);
			break;
		}
		case 'h': usage(stdout); return RP_EXIT_OK;
		default:
			if (optopt)
				return rp_cli_usage_error(cmd, "option -%c needs a value or is "
							       "unknown", optopt);
			return rp_cli_usage_error(cmd, "unknown option or missing value: %s",
						  argv[optind - 1]);
		}
	}
	if (!file == !iface)
		return rp_cli_usage_error(cmd, "give exactly one source: -r FILE or -i IFACE");
	if (!db && !null_sink)
		return rp_cli_usage_error(cmd, "--db DIR is required (or --null-sink to store "
					       "nothing)");
	if (db && null_sink)
		return rp_cli_usage_error(cmd, "--db and --null-sink exclude each other");
	/* --print shows exchanges as captured: never next to a masked corpus,
	 * or it would show on a terminal what the masks keep out of the store. */
	if (print && db && !mo.none)
		return rp_cli_usage_error(cmd, "--print shows exchanges unmasked: use it with "
					       "--no-masks or --null-sink");

	/* The filter: the words left, or the ports. */
	char filter[8192];
	size_t fl = 0;
	filter[0] = '\0';
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			int m = snprintf(filter + fl, sizeof(filter) - fl, "%s%s", i > optind ? " " : "",
					 argv[i]);
			if (m < 0 || (size_t)m >= sizeof(filter) - fl)
				return rp_cli_usage_error(cmd, "the BPF expression is too long");
			fl += (size_t)m;
		}
	} else if (iface) {
		/* Live: let the kernel drop what is not ours.  "vlan" shifts the
		 * offsets of what follows it, hence the nesting. */
		char p[1024];
		size_t pl = (size_t)snprintf(p, sizeof(p), "tcp");
		if (!any_port) {
			pl += (size_t)snprintf(p + pl, sizeof(p) - pl, " and (");
			for (size_t i = 0; i < nports; i++)
				pl += (size_t)snprintf(p + pl, sizeof(p) - pl, "%sport %u",
						       i ? " or " : "", ports[i]);
			snprintf(p + pl, sizeof(p) - pl, ")");
		}
		snprintf(filter, sizeof(filter),
			 "(%s) or (vlan and ((%s) or (vlan and (%s)))) or (mpls and (%s))", p, p, p,
			 p);
		filter_ports = !any_port;
	} else {
		/* A file: no BPF (it would miss tagged frames); the engine
		 * picks the ports itself, whatever the encapsulation. */
		filter_ports = !any_port;
	}

	/* rules and key first: a rule error names file, line and column (exit 2)
	 * before anything is read or created */
	if (db && !null_sink) {
		int mrc = rp_cli_mask_open(cmd, &mo, &mask);
		if (mrc)
			return mrc;
	}
	int rc = RP_EXIT_OK;
	char err[512] = "";
	struct rp_store *store = NULL;
	struct rp_capture *cap = NULL;
	struct rp_pcap *src = NULL;
	struct rec r = {.null_sink = null_sink, .print = print, .wait = file != NULL};
	struct outcome oc = {0};
	struct run u = {0};
	uint64_t first_conn = 1;

	struct rp_pcap_opts po = {.file = file, .iface = iface, .filter = filter,
				  .snaplen = (int)snaplen, .buffer_size = bufsize,
				  .promisc = promisc, .timeout_ms = 200};
	int prc = rp_pcap_open(&po, &src, err, sizeof(err));
	if (prc) {
		if (prc == RP_E_FORMAT || prc == RP_E_USAGE)
			rc = rp_cli_usage_error(cmd, "%s", err);
		else
			rc = rp_cli_fail(cmd, RP_EXIT_UNREACHABLE, "%s", err);
		goto out;
	}
	if (!rp_link_supported(rp_pcap_link(src))) {
		rc = rp_cli_usage_error(cmd, "%s: link type %d is not one reprise decodes "
					     "(Ethernet, Linux SLL/SLL2, BSD loopback, raw IP)",
					file ? file : iface, rp_pcap_link(src) % 100000);
		goto out;
	}
	if (db) {
		struct rp_store_opts so = {.path = db, .create = 1, .max_size = max_size,
					   .sync = (int)sync_mode};
		const char *why = NULL;
		int src_rc = rp_store_open(&so, &store, &why);
		if (src_rc) {
			rc = rp_cli_store_error(cmd, db, src_rc, why);
			goto out;
		}
		char v[32];
		uint64_t nc;
		if (rp_store_meta_get(store, META_NEXT_CONN, v, sizeof(v)) == 0 &&
		    rp_cli_parse_u64(v, &nc) == 0 && nc > 0)
			first_conn = nc;
		r.store = store;
		/* MASK HOOK (issue 5): every exchange is masked before rp_store_put */
		struct rp_recorder_opts ro = {.store = store};
		if (!iface) {
			/* a file waits for the recorder rather than drop: a short
			 * queue is enough, and its memory stays in the caches
			 * instead of being faulted in afresh as a long one fills */
			ro.queue_len = 1024;
			ro.queue_bytes = 16u << 20;
		}
		if (mask) {
			ro.mask = rp_cli_mask_hook;
			ro.mask_ctx = mask;
		}
		int mrc = rp_cli_mask_record(store, mask);
		if (mrc) {
			rc = rp_cli_store_error(cmd, db, mrc, NULL);
			goto out;
		}
		if (rp_recorder_new(&ro, &r.rec) != 0) {
			rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: cannot start the recorder", db);
			goto out;
		}
	}

	struct rp_capture_opts co = {.max_flow_memory = flowmem, .max_flows = (unsigned)maxflows,
				     .idle_ns = (int64_t)timeout * 1000000000LL,
				     .max_body = (uint32_t)maxbody,
				     .server_ports = any_port ? NULL : ports,
				     .nserver_ports = any_port ? 0 : nports,
				     .filter_ports = filter_ports,
				     .first_conn_id = first_conn};
	struct rp_capture_sink sink = {.exchange = on_exchange, .ctx = &r};
	cap = rp_capture_new(&co, &sink);
	u.cap = cap;
	u.src = src;
	u.link = rp_pcap_link(src);
	u.max_count = count;
	u.live = iface != NULL;
	u.duration_ns = (int64_t)duration * 1000000000LL;

	if (show_progress < 0)
		show_progress = file && !quiet && isatty(2);
	signal_source = src;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (u.live && !quiet)
		fprintf(stderr, "reprise capture: listening on %s, filter \"%s\" (Ctrl-C to stop)\n",
			iface, filter);
	int64_t t0 = rp_mono_ns(), last_progress = t0;
	int batch = file ? 4096 : -1;
	while (!stop_signal && !u.stopped) {
		int n = rp_pcap_dispatch(src, batch, on_packet, &u, err, sizeof(err));
		if (n == RP_E_CLOSED)
			break;
		if (n == RP_E_IO) {
			rp_log(RP_LOG_ERROR, "what=capture source=%s err=\"%s\"", file ? file : iface,
			       err);
			if (!quiet)
				fprintf(stderr, "reprise capture: %s: %s (stopping, keeping what "
						"was read)\n", file ? file : iface, err);
			break;
		}
		int64_t now = rp_mono_ns();
		if (u.live) {
			rp_capture_expire(cap, rp_now_ns());
			if (u.duration_ns && now - t0 >= u.duration_ns)
				break;
		}
		if (show_progress && now - last_progress > 500000000LL) {
			progress(&u, t0, 0);
			last_progress = now;
		}
	}
	if (u.live && stop_signal) {
		/* The kernel hands packets over a block at a time, at the
		 * latest one timeout after the block's first packet: collect
		 * what is still in unfinished blocks before closing. */
		for (int i = 0; i < 3; i++)
			if (rp_pcap_dispatch(src, -1, on_packet, &u, err, sizeof(err)) < 0)
				break;
	}
	rp_capture_finish(cap);
	double secs = (double)(rp_mono_ns() - t0) / 1e9;
	if (show_progress)
		progress(&u, t0, 1);

	struct rp_capture_stats st;
	struct rp_pcap_stats ps;
	rp_capture_get_stats(cap, &st);
	rp_pcap_get_stats(src, &ps);
	oc.recorded = r.kept;
	oc.waits = r.waits;
	if (r.rec) {
		if (rp_recorder_close(r.rec) != 0)
			rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: could not commit everything", db);
		struct rp_recorder_stats rs;
		rp_recorder_get_stats(r.rec, &rs);
		oc.recorded = rs.recorded;
		oc.coding_errors = rs.coding_errors;
		oc.dropped = rs.dropped[RP_RECORDER_DROP_QUEUE_FULL] +
			     rs.dropped[RP_RECORDER_DROP_STORE_FULL] +
			     rs.dropped[RP_RECORDER_DROP_CLOSED];
		oc.failed = rs.dropped[RP_RECORDER_DROP_TOO_BIG] + rs.dropped[RP_RECORDER_DROP_MASK] +
			    rs.dropped[RP_RECORDER_DROP_ERROR];
		if (oc.failed && rc == RP_EXIT_OK)
			rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: %" PRIu64 " records failed to write",
					 db, oc.failed);
	}
	if (store) {
		char v[32];
		snprintf(v, sizeof(v), "%" PRIu64, first_conn + st.flows);
		rp_store_meta_set(store, META_NEXT_CONN, v);
		if (rp_store_flush(store) != 0 && rc == RP_EXIT_OK)
			rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: could not commit everything", db);
	}
	if (print)
		fflush(stdout);
	if (!quiet)
		summary(&st, &ps, &oc, secs, u.live, null_sink);
	if (stats_json && write_stats_json(stats_json, &st, &ps, &oc, secs, u.live) != 0 &&
	    rc == RP_EXIT_OK)
		rc = rp_cli_usage_error(cmd, "--stats-json %s: %s", stats_json, strerror(errno));
out:
	signal_source = NULL;
	rp_capture_free(cap);
	rp_recorder_free(r.rec);
	rp_pcap_close(src);
	rp_store_close(store);
	rp_mask_free(mask);
	return rc;
}
