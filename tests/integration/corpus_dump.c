/*
 * corpus_dump: a test helper (never installed) that walks a corpus in time
 * order and prints one JSON object per exchange on stdout, so that the shell
 * integration tests can check with python3 what the proxy recorded, until
 * the read-side commands (`reprise ls --json`) land.  Bodies are given by
 * length and SHA-256; heads in full.  A record that does not decode is
 * printed as {"error": ...} and makes the exit status 1; --conns prints the
 * connection record of every connection the exchanges name instead.
 *
 * usage: corpus_dump DIR [--conns]
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "reprise/store.h"

static void str(struct rp_slice s)
{
	putchar('"');
	for (size_t i = 0; i < s.n; i++) {
		unsigned char ch = s.p[i];
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void headers(const char *key, const struct rp_headers *h)
{
	printf(",\"%s\":[", key);
	for (size_t i = 0; i < h->n; i++) {
		printf(i ? ",[" : "[");
		str(h->v[i].name);
		putchar(',');
		str(h->v[i].value);
		putchar(']');
	}
	putchar(']');
}

static void digest(const char *key, struct rp_slice body)
{
	uint8_t d[32];
	unsigned n = 0;
	char hex[65];
	EVP_Digest(body.p ? body.p : (const uint8_t *)"", body.n, d, &n, EVP_sha256(), NULL);
	rp_hex(d, 32, hex);
	printf(",\"%s\":\"%s\"", key, hex);
}

static void endpoint(const char *key, const struct rp_endpoint *e)
{
	char buf[64];
	rp_endpoint_format(e, buf, sizeof(buf));
	printf(",\"%s\":\"%s\"", key, buf);
}

static void message(const char *pfx, const struct rp_message *m)
{
	char k[64];
	snprintf(k, sizeof(k), "%s_headers", pfx);
	headers(k, &m->headers);
	snprintf(k, sizeof(k), "%s_trailers", pfx);
	headers(k, &m->trailers);
	printf(",\"%s_body_len\":%zu,\"%s_wire_len\":%" PRIu64 ",\"%s_orig_len\":%" PRIu64, pfx,
	       m->body.n, pfx, m->wire_len, pfx, m->orig_len);
	printf(",\"%s_encoding\":", pfx);
	str(m->encoding);
	snprintf(k, sizeof(k), "%s_sha256", pfx);
	digest(k, m->body);
}

int main(int argc, char **argv)
{
	struct rp_store_opts so = {0};
	struct rp_store *s = NULL;
	struct rp_store_iter *it = NULL;
	const char *why = NULL;
	int conns = argc > 2 && strcmp(argv[2], "--conns") == 0, bad = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: corpus_dump DIR [--conns]\n");
		return 2;
	}
	so.path = argv[1];
	so.readonly = 1;
	int rc = rp_store_open(&so, &s, &why);
	if (rc) {
		fprintf(stderr, "corpus_dump: %s: %s\n", argv[1], why ? why : rp_err_name(rc));
		return 4;
	}
	if (rp_store_iter_new(s, 0, 0, &it)) {
		fprintf(stderr, "corpus_dump: cannot iterate\n");
		rp_store_close(s);
		return 4;
	}
	uint64_t *ids = NULL;
	size_t nids = 0;
	for (;;) {
		struct rp_exchange *x = NULL;
		rc = rp_store_iter_next(it, &x, &why);
		if (rc == RP_E_NOTFOUND)
			break;
		if (rc) {
			printf("{\"error\":");
			str(rp_slice_str(why ? why : rp_err_name(rc)));
			printf("}\n");
			bad = 1;
			continue;
		}
		if (conns) {
			ids = realloc(ids, (nids + 1) * sizeof(*ids));
			if (!ids)
				abort();
			ids[nids++] = x->conn_id;
			rp_exchange_free(x);
			continue;
		}
		char fl[256];
		printf("{\"id\":%" PRIu64 ",\"conn_id\":%" PRIu64 ",\"conn_seq\":%" PRIu32
		       ",\"proto\":\"%s\",\"flags\":%" PRIu32 ",\"flag_names\":\"%s\"",
		       x->id, x->conn_id, x->conn_seq, rp_proto_name(x->proto), x->flags,
		       rp_xflags_format(x->flags, fl, sizeof(fl)));
		printf(",\"method\":");
		str(x->req.method);
		printf(",\"scheme\":");
		str(x->req.scheme);
		printf(",\"authority\":");
		str(x->req.authority);
		printf(",\"target\":");
		str(x->req.target);
		printf(",\"status\":%u,\"reason\":", x->resp.status);
		str(x->resp.reason);
		printf(",\"req_start\":%" PRId64 ",\"req_end\":%" PRId64 ",\"resp_start\":%" PRId64
		       ",\"resp_end\":%" PRId64,
		       x->t.req_start, x->t.req_end, x->t.resp_start, x->t.resp_end);
		endpoint("client", &x->client);
		endpoint("server", &x->server);
		message("req", &x->req.m);
		message("resp", &x->resp.m);
		printf("}\n");
		rp_exchange_free(x);
	}
	rp_store_iter_free(it);
	if (conns) {
		for (size_t i = 0; i < nids; i++) {
			int seen = 0;
			for (size_t j = 0; j < i; j++)
				seen |= ids[j] == ids[i];
			if (seen)
				continue;
			struct rp_pool *pool = rp_pool_new(0);
			struct rp_conn c;
			if (rp_store_get_conn(s, ids[i], pool, &c) == 0) {
				printf("{\"conn_id\":%" PRIu64 ",\"proto\":\"%s\",\"start_ns\":%" PRId64, c.id,
				       rp_proto_name(c.proto), c.start_ns);
				endpoint("client", &c.client);
				endpoint("server", &c.server);
				printf("}\n");
			} else {
				printf("{\"conn_id\":%" PRIu64 ",\"missing\":true}\n", ids[i]);
			}
			rp_pool_free(pool);
		}
		free(ids);
	}
	rp_store_close(s);
	return bad;
}
