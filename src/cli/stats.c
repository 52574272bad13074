/*
 * stats: `reprise stats` summarises a corpus in one pass over its
 * exchanges: counts, connections, time span, body bytes as recorded and as
 * stored, how far deduplication shrinks the bodies, status classes, flags,
 * and the busiest routes, templated as the replay report does
 * (rp_diff_route: /users/17 and /users/42 are one route, GET /users/{id}).
 *
 * Deduplication is measured on content: every non-empty body is hashed
 * (SHA-256) and the ratio is bodies per distinct body.  That is what the
 * store's `bodies` database achieves for shared bodies, independent of which
 * small bodies it chose to keep inline in their records.  Memory is bounded:
 * at most MAX_ROUTES routes and MAX_DIGESTS digests are kept; past either
 * the rest is summed ("other") or the ratio is marked as a lower bound.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "cli-int.h"
#include "reprise/diff.h"

static const char cmd[] = "stats";

#define MAX_ROUTES 10000
#define MAX_DIGESTS (1u << 20) /* 16 MiB of truncated digests */
#define DIGEST_KEEP 16         /* bytes of SHA-256 kept: collisions are moot */

static void usage(FILE *f)
{
	fprintf(f, "usage: reprise stats --db DIR [--json] [--top N]\n\n"
		   "Summarise a corpus: exchanges, connections, time span, bytes, deduplication,\n"
		   "status classes, flags and the busiest routes.\n\n"
		   "options:\n"
		   "  --db DIR          the corpus directory (required)\n"
		   "  --json            one JSON object instead of text\n"
		   "  --top N           how many routes to list (default 10)\n"
		   "  --help            show this help\n\n"
		   "exit codes: 0 ok, 2 usage, 4 store error\n");
}

struct route {
	char *key; /* "GET /users/{id}" */
	uint64_t n;
};

/* Route -> count, open addressing on an FNV-1a hash of the key. */
struct routes {
	struct route *v;
	size_t n, cap;
	uint64_t other; /* exchanges past MAX_ROUTES distinct routes */
};

static uint64_t fnv(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void routes_add(struct routes *r, const char *key)
{
	if (r->n * 2 >= r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct route *v = rp_xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < r->cap; i++) {
			if (!r->v[i].key)
				continue;
			size_t j = fnv(r->v[i].key) & (cap - 1);
			while (v[j].key)
				j = (j + 1) & (cap - 1);
			v[j] = r->v[i];
		}
		free(r->v);
		r->v = v;
		r->cap = cap;
	}
	size_t j = fnv(key) & (r->cap - 1);
	while (r->v[j].key && strcmp(r->v[j].key, key) != 0)
		j = (j + 1) & (r->cap - 1);
	if (r->v[j].key) {
		r->v[j].n++;
	} else if (r->n >= MAX_ROUTES) {
		r->other++;
	} else {
		r->v[j].key = rp_xstrdup(key);
		r->v[j].n = 1;
		r->n++;
	}
}

/* Distinct body digests, open addressing on the first 8 bytes; a slot of
 * all zero bytes is empty (a real digest of zeros is not a concern). */
struct digests {
	uint8_t (*v)[DIGEST_KEEP];
	size_t n, cap;
	int full; /* MAX_DIGESTS reached: later bodies are not counted as distinct */
};

static uint64_t slot_of(const uint8_t *d)
{
	uint64_t h;
	memcpy(&h, d, sizeof(h));
	return h;
}

static int empty_slot(const uint8_t *d)
{
	static const uint8_t zero[DIGEST_KEEP];
	return memcmp(d, zero, DIGEST_KEEP) == 0;
}

/* Adds the digest of |body|; returns 1 when it was not there before. */
static int digests_add(struct digests *ds, struct rp_slice body)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_Digest(body.p, body.n, md, &len, EVP_sha256(), NULL);
	if (ds->n * 2 >= ds->cap) {
		if (ds->n >= MAX_DIGESTS) {
			ds->full = 1;
			return 0;
		}
		size_t cap = ds->cap ? ds->cap * 2 : 1024;
		uint8_t(*v)[DIGEST_KEEP] = rp_xcalloc(cap, DIGEST_KEEP);
		for (size_t i = 0; i < ds->cap; i++) {
			if (empty_slot(ds->v[i]))
				continue;
			size_t j = slot_of(ds->v[i]) & (cap - 1);
			while (!empty_slot(v[j]))
				j = (j + 1) & (cap - 1);
			memcpy(v[j], ds->v[i], DIGEST_KEEP);
		}
		free(ds->v);
		ds->v = v;
		ds->cap = cap;
	}
	size_t j = slot_of(md) & (ds->cap - 1);
	while (!empty_slot(ds->v[j]) && memcmp(ds->v[j], md, DIGEST_KEEP) != 0)
		j = (j + 1) & (ds->cap - 1);
	if (!empty_slot(ds->v[j]))
		return 0;
	memcpy(ds->v[j], md, DIGEST_KEEP);
	ds->n++;
	return 1;
}

static int by_count(const void *a, const void *b)
{
	const struct route *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

struct tally {
	uint64_t exchanges, unknown_conn, conns;
	uint64_t bodies, bodies_distinct, raw_bytes, wire_bytes;
	int ratio_upper_bound; /* the digest set filled up: distinct undercounted */
	uint64_t status[7]; /* none, 1xx .. 5xx, other */
	uint64_t proto[5];
	uint64_t flags[32];
	uint64_t complete;
};

static void fmt_span(int64_t ns, char *out, size_t n)
{
	double s = (double)ns / 1e9;
	if (s < 1)
		snprintf(out, n, "%.1f ms", s * 1e3);
	else if (s < 120)
		snprintf(out, n, "%.3f s", s);
	else if (s < 7200)
		snprintf(out, n, "%dm %02ds", (int)(s / 60), (int)s % 60);
	else if (s < 172800)
		snprintf(out, n, "%dh %02dm", (int)(s / 3600), (int)(s / 60) % 60);
	else
		snprintf(out, n, "%dd %02dh", (int)(s / 86400), (int)(s / 3600) % 24);
}

/* "812 bytes", "12.3 KiB", "4.0 MiB" */
static void size_str(uint64_t n, char *out, size_t outlen)
{
	char h[16];
	rp_cli_human_size(n, h, sizeof(h));
	size_t l = strlen(h);
	if (l && h[l - 1] >= 'A' && h[l - 1] <= 'Z')
		snprintf(out, outlen, "%.*s %ciB", (int)(l - 1), h, h[l - 1]);
	else
		snprintf(out, outlen, "%s bytes", h);
}

static const char *const status_names[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx", "other"};

static void print_text(const char *db, const struct tally *t, const struct rp_store_totals *tot,
		       struct route *top, size_t ntop, uint64_t other)
{
	char a[40], b[40], c[40], d[40], sp[40], fl[256];
	printf("corpus        %s\n", db);
	printf("exchanges     %llu\n", (unsigned long long)t->exchanges);
	printf("connections   %llu (exchanges without a connection id: %llu)\n",
	       (unsigned long long)t->conns, (unsigned long long)t->unknown_conn);
	if (t->exchanges) {
		rp_time_format(tot->first_ns, a, sizeof(a));
		rp_time_format(tot->last_ns, b, sizeof(b));
		fmt_span(tot->last_ns - tot->first_ns, sp, sizeof(sp));
		printf("time span     %s .. %s (%s)\n", a, b, sp);
	}
	printf("protocols    ");
	for (int i = 0; i < 5; i++)
		if (t->proto[i])
			printf(" %s %llu", rp_proto_name((enum rp_proto)i),
			       (unsigned long long)t->proto[i]);
	putchar('\n');
	size_str(t->raw_bytes, a, sizeof(a));
	size_str(t->wire_bytes, b, sizeof(b));
	size_str(tot->body_bytes_stored, c, sizeof(c));
	size_str(tot->map_used, d, sizeof(d));
	printf("bodies        %llu non-empty, %llu distinct: %s decoded, %s on the wire\n",
	       (unsigned long long)t->bodies, (unsigned long long)t->bodies_distinct, a, b);
	if (t->bodies_distinct)
		printf("dedup         %.2f bodies per distinct body%s\n",
		       (double)t->bodies / (double)t->bodies_distinct,
		       t->ratio_upper_bound ? " (at most: too many distinct bodies to count)" : "");
	printf("stored        %llu shared bodies in %s (compressed; the others inline in their\n"
	       "              records); data file %s in use\n",
	       (unsigned long long)tot->bodies, c, d);
	printf("status       ");
	for (int i = 1; i < 7; i++)
		printf(" %s %llu", status_names[i], (unsigned long long)t->status[i]);
	printf(" none %llu\n", (unsigned long long)t->status[0]);
	printf("flags         complete %llu", (unsigned long long)t->complete);
	for (unsigned i = 0; i < 32; i++)
		if (t->flags[i])
			printf(", %s %llu", strrchr(rp_xflags_format(1u << i, fl, sizeof(fl)), ',')
						    ? strrchr(fl, ',') + 1
						    : fl,
			       (unsigned long long)t->flags[i]);
	putchar('\n');
	printf("top routes\n");
	for (size_t i = 0; i < ntop; i++)
		printf("  %8llu  %s\n", (unsigned long long)top[i].n, top[i].key);
	if (other)
		printf("  %8llu  (routes past the first %d distinct ones)\n",
		       (unsigned long long)other, MAX_ROUTES);
}

static void print_json(const char *db, const struct tally *t, const struct rp_store_totals *tot,
		       struct route *top, size_t ntop, uint64_t other)
{
	char a[40], fl[256];
	json_t *o = json_object();
	json_object_set_new(o, "corpus", rp_cli_json_str(rp_slice_str(db)));
	json_object_set_new(o, "exchanges", json_integer((json_int_t)t->exchanges));
	json_object_set_new(o, "connections", json_integer((json_int_t)t->conns));
	json_object_set_new(o, "exchanges_without_connection",
			    json_integer((json_int_t)t->unknown_conn));
	json_t *span = json_object();
	if (t->exchanges) {
		rp_time_format(tot->first_ns, a, sizeof(a));
		json_object_set_new(span, "first", json_string(a));
		rp_time_format(tot->last_ns, a, sizeof(a));
		json_object_set_new(span, "last", json_string(a));
		json_object_set_new(span, "seconds",
				    json_real((double)(tot->last_ns - tot->first_ns) / 1e9));
	}
	json_object_set_new(o, "time_span", span);
	json_t *pr = json_object();
	for (int i = 0; i < 5; i++)
		if (t->proto[i])
			json_object_set_new(pr, rp_proto_name((enum rp_proto)i),
					    json_integer((json_int_t)t->proto[i]));
	json_object_set_new(o, "protocols", pr);
	json_t *by = json_object();
	json_object_set_new(by, "bodies", json_integer((json_int_t)t->bodies));
	json_object_set_new(by, "body_bytes_decoded", json_integer((json_int_t)t->raw_bytes));
	json_object_set_new(by, "body_bytes_wire", json_integer((json_int_t)t->wire_bytes));
	json_object_set_new(by, "bodies_distinct", json_integer((json_int_t)t->bodies_distinct));
	json_object_set_new(by, "dedup_ratio",
			    t->bodies_distinct ? json_real((double)t->bodies /
							   (double)t->bodies_distinct)
					       : json_null());
	json_object_set_new(by, "dedup_ratio_is_upper_bound",
			    json_boolean(t->ratio_upper_bound));
	json_object_set_new(by, "bodies_stored", json_integer((json_int_t)tot->bodies));
	json_object_set_new(by, "body_bytes_stored",
			    json_integer((json_int_t)tot->body_bytes_stored));
	json_object_set_new(by, "data_file_bytes", json_integer((json_int_t)tot->map_used));
	json_object_set_new(o, "bytes", by);
	json_t *st = json_object();
	for (int i = 1; i < 7; i++)
		json_object_set_new(st, status_names[i], json_integer((json_int_t)t->status[i]));
	json_object_set_new(st, "none", json_integer((json_int_t)t->status[0]));
	json_object_set_new(o, "status", st);
	json_t *fj = json_object();
	json_object_set_new(fj, "complete", json_integer((json_int_t)t->complete));
	for (unsigned i = 0; i < 32; i++)
		if (t->flags[i]) {
			rp_xflags_format(1u << i, fl, sizeof(fl));
			const char *name = strrchr(fl, ',') ? strrchr(fl, ',') + 1 : fl;
			json_object_set_new(fj, name, json_integer((json_int_t)t->flags[i]));
		}
	json_object_set_new(o, "flags", fj);
	json_t *routes = json_array();
	for (size_t i = 0; i < ntop; i++) {
		json_t *r = json_object();
		json_object_set_new(r, "route", rp_cli_json_str(rp_slice_str(top[i].key)));
		json_object_set_new(r, "count", json_integer((json_int_t)top[i].n));
		json_array_append_new(routes, r);
	}
	json_object_set_new(o, "top_routes", routes);
	json_object_set_new(o, "other_routes", json_integer((json_int_t)other));
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	putchar('\n');
	json_decref(o);
}

int rp_cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"top", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL;
	int json = 0, c, rc, bad = 0;
	uint64_t ntop = 10;
	struct rp_store *s = NULL;
	struct rp_store_iter *it = NULL;
	struct routes routes = {0};
	struct tally t = {0};
	struct rp_store_totals tot = {0};
	struct digests ds = {0};
	char route[1200];
	uint64_t *conns = NULL; /* distinct connection ids, open addressing */
	size_t conns_cap = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'j': json = 1; break;
		case 't':
			if (rp_cli_parse_u64(optarg, &ntop) || ntop > 100000)
				return rp_cli_usage_error(cmd, "--top '%s' is not a number up to 100000",
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
	int r = rp_store_totals(s, &tot);
	if (r) {
		rc = rp_cli_store_error(cmd, db, r, NULL);
		goto out;
	}
	if (rp_store_iter_new(s, 0, 0, &it)) { /* bodies: for the digests */
		rc = rp_cli_fail(cmd, RP_EXIT_STORE, "%s: cannot read the corpus", db);
		goto out;
	}
	uint32_t incomplete = 0;
	{
		char fl[256];
		for (unsigned i = 0; i < 32; i++)
			if (strncmp(rp_xflags_format(1u << i, fl, sizeof(fl)), "complete", 8) != 0)
				incomplete |= 1u << i;
	}
	struct rp_exchange *x;
	while (rp_cli_next_exchange(cmd, db, it, &x, &bad, &rc)) {
		uint64_t lens[2];
		rp_store_iter_body_lens(it, &lens[0], &lens[1]);
		const struct rp_message *m[2] = {&x->req.m, &x->resp.m};
		t.exchanges++;
		for (int i = 0; i < 2; i++) {
			uint64_t n = RP_MAX(lens[i], m[i]->orig_len);
			if (!n)
				continue;
			t.bodies++;
			t.raw_bytes += n;
			t.wire_bytes += m[i]->wire_len ? m[i]->wire_len : n;
			if (m[i]->body.n)
				t.bodies_distinct += (uint64_t)digests_add(&ds, m[i]->body);
		}
		unsigned st = x->resp.status;
		t.status[st == 0 ? 0 : (st >= 100 && st < 600) ? st / 100 : 6]++;
		t.proto[(unsigned)x->proto < 5 ? x->proto : 0]++;
		for (unsigned i = 0; i < 32; i++)
			t.flags[i] += (x->flags >> i) & 1;
		t.complete += !(x->flags & incomplete);
		if (!x->conn_id) {
			t.unknown_conn++;
		} else {
			if (t.conns * 2 >= conns_cap) {
				size_t cap = conns_cap ? conns_cap * 2 : 256;
				uint64_t *v = rp_xcalloc(cap, sizeof(*v));
				for (size_t i = 0; i < conns_cap; i++) {
					if (!conns[i])
						continue;
					size_t j = conns[i] & (cap - 1);
					while (v[j])
						j = (j + 1) & (cap - 1);
					v[j] = conns[i];
				}
				free(conns);
				conns = v;
				conns_cap = cap;
			}
			size_t j = x->conn_id & (conns_cap - 1);
			while (conns[j] && conns[j] != x->conn_id)
				j = (j + 1) & (conns_cap - 1);
			if (!conns[j]) {
				conns[j] = x->conn_id;
				t.conns++;
			}
		}
		rp_diff_route(x->req.method, x->req.target, route, sizeof(route));
		for (char *ch = route; *ch; ch++) /* printed on a terminal */
			if ((unsigned char)*ch < 0x20 || *ch == 0x7f)
				*ch = '?';
		routes_add(&routes, route);
		rp_exchange_free(x);
	}
	if (rc)
		goto out;
	t.ratio_upper_bound = ds.full;
	/* the busiest routes: compact the table and sort it */
	size_t n = 0;
	for (size_t i = 0; i < routes.cap; i++)
		if (routes.v[i].key)
			routes.v[n++] = routes.v[i];
	if (n)
		qsort(routes.v, n, sizeof(*routes.v), by_count);
	size_t shown = RP_MIN(n, (size_t)ntop);
	if (json)
		print_json(db, &t, &tot, routes.v, shown, routes.other);
	else
		print_text(db, &t, &tot, routes.v, shown, routes.other);
	for (size_t i = 0; i < n; i++)
		free(routes.v[i].key);
	routes.cap = 0;
	rc = bad ? rp_cli_fail(cmd, RP_EXIT_STORE, "%s: %d exchanges could not be read", db, bad)
		 : RP_EXIT_OK;
out:
	fflush(stdout);
	for (size_t i = 0; i < routes.cap; i++)
		free(routes.v[i].key);
	free(routes.v);
	free(conns);
	free(ds.v);
	rp_store_iter_free(it);
	rp_store_close(s);
	return rc;
}
