/*
 * show: `reprise show` prints one exchange: connection facts, timing,
 * flags, then the request and the response with their headers and bodies.
 * JSON bodies are pretty-printed, text is shown as it is, binary bodies are
 * summarised (size, type, SHA-256 prefix, first bytes) so a terminal never
 * receives raw bytes unless --raw asks for them.
 *
 * An id the corpus does not hold exits 2, like any other bad argument: the
 * store is fine (not 4) and nothing regressed (not 1).
 */
#include "config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli-int.h"
#include "reprise/har.h"

static const char cmd[] = "show";

static void usage(FILE *f)
{
	fprintf(f, "usage: reprise show --db DIR [--raw] ID\n\n"
		   "Show one exchange: connection, timing, flags, headers and bodies.\n\n"
		   "options:\n"
		   "  --db DIR          the corpus directory (required)\n"
		   "  --raw             print the request and the response as HTTP/1.1 messages,\n"
		   "                    bodies byte for byte (decoded), without annotations\n"
		   "  --help            show this help\n\n"
		   "ID is the number 'reprise ls' prints.\n"
		   "exit codes: 0 ok, 2 usage (bad flag, bad or unknown ID), 4 store error\n");
}

static const char *version_of(enum rp_proto p)
{
	switch (p) {
	case RP_PROTO_H10: return "HTTP/1.0";
	case RP_PROTO_H2:
	case RP_PROTO_H2C: return "HTTP/2";
	default: return "HTTP/1.1";
	}
}

static void put(struct rp_slice s)
{
	fwrite(s.p ? s.p : (const uint8_t *)"", 1, s.n, stdout);
}

static void print_headers(const char *prefix, const struct rp_headers *h)
{
	for (size_t i = 0; i < h->n; i++) {
		fputs(prefix, stdout);
		rp_cli_put_safe(h->v[i].name);
		fputs(": ", stdout);
		rp_cli_put_safe(h->v[i].value);
		putchar('\n');
	}
}

static struct rp_slice content_type(const struct rp_message *m)
{
	const struct rp_header *h = rp_headers_get(&m->headers, RP_SLICE_LIT("Content-Type"));
	return h ? h->value : RP_SLICE_NULL;
}

static int looks_json(struct rp_slice ct, struct rp_slice body)
{
	for (size_t i = 0; i + 4 <= ct.n; i++)
		if (rp_slice_eq_nocase(rp_slice(ct.p + i, 4), RP_SLICE_LIT("json")))
			return 1;
	struct rp_slice b = rp_slice_trim(body);
	return b.n && (b.p[0] == '{' || b.p[0] == '[');
}

static void print_body(const struct rp_message *m, int truncated)
{
	struct rp_slice b = m->body, ct = content_type(m);
	if (m->encoding.n)
		printf("(decoded from %.*s; %llu bytes on the wire)\n", (int)m->encoding.n,
		       (const char *)m->encoding.p, (unsigned long long)m->wire_len);
	if (truncated)
		printf("(body truncated: %zu of %llu bytes kept)\n", b.n,
		       (unsigned long long)m->orig_len);
	if (b.n == 0) {
		if (!truncated)
			printf("(no body)\n");
		return;
	}
	if (looks_json(ct, b)) {
		json_t *j = json_loadb((const char *)b.p, b.n, JSON_DECODE_ANY, NULL);
		char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
						     JSON_ENCODE_ANY)
				 : NULL;
		json_decref(j);
		if (pretty) {
			printf("%s\n", pretty);
			free(pretty);
			return;
		}
	}
	if (rp_har_is_text(b)) {
		put(b);
		if (b.p[b.n - 1] != '\n')
			putchar('\n');
		return;
	}
	uint8_t md[32];
	unsigned mdlen = 0;
	char hex[65], first[16 * 3 + 1];
	EVP_Digest(b.p, b.n, md, &mdlen, EVP_sha256(), NULL);
	rp_hex(md, 8, hex);
	size_t k = 0, shown = RP_MIN(b.n, (size_t)16);
	for (size_t i = 0; i < shown; i++)
		k += (size_t)snprintf(first + k, sizeof(first) - k, "%s%02x", i ? " " : "", b.p[i]);
	if (!ct.n)
		ct = RP_SLICE_LIT("no type given");
	printf("(binary body: %zu bytes, %.*s, sha256 %s..., first bytes %s%s)\n", b.n,
	       (int)ct.n, (const char *)ct.p, hex, first, b.n > shown ? " ..." : "");
}

static void fmt_ms(char *out, size_t n, int64_t from, int64_t to)
{
	double d = rp_cli_span_ms(from, to);
	if (d < 0)
		snprintf(out, n, "-");
	else
		snprintf(out, n, "%.3f ms", d);
}

static void print_facts(struct rp_store *s, const struct rp_exchange *x)
{
	char ts[40] = "- (unknown)", fl[256], cl[64], sv[64], a[32], b[32], c[32], d[32];
	if (x->t.req_start)
		rp_time_format(x->t.req_start, ts, sizeof(ts));
	rp_endpoint_format(&x->client, cl, sizeof(cl));
	rp_endpoint_format(&x->server, sv, sizeof(sv));
	printf("exchange   %llu\n", (unsigned long long)x->id);
	printf("time       %s\n", ts);
	printf("protocol   %s\n", rp_proto_name(x->proto));
	printf("connection %llu (position %u", (unsigned long long)x->conn_id, x->conn_seq);
	if (x->stream_id)
		printf(", stream %u", x->stream_id);
	printf(")  client %s  server %s\n", cl, sv);
	if (x->conn_id) {
		struct rp_pool *pool = rp_pool_new(0);
		struct rp_conn conn;
		if (rp_store_get_conn(s, x->conn_id, pool, &conn) == 0 && conn.tls_version.n)
			printf("tls        %.*s %.*s alpn %.*s sni %.*s\n", (int)conn.tls_version.n,
			       (const char *)conn.tls_version.p, (int)conn.tls_cipher.n,
			       (const char *)conn.tls_cipher.p, (int)conn.alpn.n,
			       (const char *)conn.alpn.p, (int)conn.sni.n, (const char *)conn.sni.p);
		rp_pool_free(pool);
	}
	fmt_ms(a, sizeof(a), x->t.req_start, x->t.req_end);
	fmt_ms(b, sizeof(b), x->t.req_end, x->t.resp_start);
	fmt_ms(c, sizeof(c), x->t.resp_start, x->t.resp_end);
	fmt_ms(d, sizeof(d), x->t.req_start, rp_cli_end_ns(x));
	printf("timing     request %s, wait %s, response %s, total %s\n", a, b, c, d);
	printf("flags      %s\n", rp_xflags_format(x->flags, fl, sizeof(fl)));
}

static void show_pretty(struct rp_store *s, const struct rp_exchange *x)
{
	print_facts(s, x);
	printf("\n> ");
	rp_cli_put_safe(x->req.method);
	putchar(' ');
	rp_cli_put_safe(x->req.target);
	printf(" %s\n", version_of(x->proto));
	print_headers("> ", &x->req.m.headers);
	printf(">\n");
	print_body(&x->req.m, !!(x->flags & RP_XF_REQ_TRUNCATED));
	if (x->req.m.trailers.n) {
		printf("trailers:\n");
		print_headers("> ", &x->req.m.trailers);
	}
	putchar('\n');
	if (x->resp.status == 0) {
		printf("(no response)\n");
		return;
	}
	printf("< %s %u%s", version_of(x->proto), x->resp.status, x->resp.reason.n ? " " : "");
	rp_cli_put_safe(x->resp.reason);
	putchar('\n');
	print_headers("< ", &x->resp.m.headers);
	printf("<\n");
	print_body(&x->resp.m, !!(x->flags & RP_XF_RESP_TRUNCATED));
	if (x->resp.m.trailers.n) {
		printf("trailers:\n");
		print_headers("< ", &x->resp.m.trailers);
	}
}

static void raw_headers(const struct rp_headers *h)
{
	for (size_t i = 0; i < h->n; i++) {
		put(h->v[i].name);
		fputs(": ", stdout);
		put(h->v[i].value);
		fputs("\r\n", stdout);
	}
	fputs("\r\n", stdout);
}

static void show_raw(const struct rp_exchange *x)
{
	put(x->req.method);
	putchar(' ');
	put(x->req.target);
	printf(" HTTP/1.1\r\n");
	raw_headers(&x->req.m.headers);
	put(x->req.m.body);
	if (x->resp.status == 0)
		return;
	printf("HTTP/1.1 %u ", x->resp.status);
	put(x->resp.reason);
	fputs("\r\n", stdout);
	raw_headers(&x->resp.m.headers);
	put(x->resp.m.body);
}

int rp_cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"raw", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	int raw = 0, c, rc;
	uint64_t id;
	struct rp_store *s = NULL;
	struct rp_exchange *x = NULL;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'r': raw = 1; break;
		case 'h': usage(stdout); return RP_EXIT_OK;
		default: return rp_cli_bad_option(cmd, c, argv);
		}
	}
	if (optind >= argc)
		return rp_cli_usage_error(cmd, "an exchange ID is required");
	if (optind + 1 < argc)
		return rp_cli_usage_error(cmd, "one ID at a time ('%s' is extra)", argv[optind + 1]);
	if (rp_cli_parse_u64(argv[optind], &id) || id == 0)
		return rp_cli_usage_error(cmd, "'%s' is not an exchange ID (a number 'reprise ls' "
					       "prints)",
					  argv[optind]);
	if ((rc = rp_cli_open_store(cmd, db, 1, 0, &s)))
		return rc;
	const char *why = NULL;
	int r = rp_store_get(s, id, 0, &x, &why);
	if (r == RP_E_NOTFOUND) {
		rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "%s: no exchange %llu in this corpus", db,
				 (unsigned long long)id);
		goto out;
	}
	if (r) {
		rc = rp_cli_store_error(cmd, db, r, why);
		goto out;
	}
	if (raw)
		show_raw(x);
	else
		show_pretty(s, x);
	rc = RP_EXIT_OK;
out:
	fflush(stdout);
	rp_exchange_free(x);
	rp_store_close(s);
	return rc;
}
