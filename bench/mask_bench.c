/*
 * mask_bench: what the mask stage costs with the shipped default.rules —
 * throughput over JSON bodies (an API response of orders with some personal
 * fields, and one with none), over text bodies, and whole exchanges per
 * second for a typical API call (credential headers, cookies, a JSON request
 * and response).  One thread; each figure is the best of a few rounds.
 *
 * usage: mask_bench [SECONDS_PER_CASE [api|api-cold|clean]]   (default 1;
 * "api", "api-cold" or "clean": only the exchange cases, only the exchange
 * with unseen values, or only the 16 KB JSON without personal data, for
 * profiling)
 *        mask_bench SECONDS --db DIR [--no-memo]
 * masks the exchanges of a corpus recorded with --no-masks, in their
 * recorded order, as the recorder would (what a realistic mix costs, for
 * profiling: bench/mask_proxy_bench.sh keeps such a corpus with
 * RP_BENCH_KEEP).  Each exchange is decoded from its record and masked;
 * the decode alone is timed too and subtracted.
 */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reprise/mask.h"
#include "reprise/record.h"
#include "reprise/store.h"
#include "../src/mask/mask-int.h" /* to turn the transform memo off */

static struct rp_buf json_orders(int pii, size_t target)
{
	struct rp_buf b;
	rp_buf_init(&b, 1 << 24);
	rp_buf_printf(&b, "{\"page\": 1, \"total\": 912, \"orders\": [");
	for (int i = 0; rp_buf_len(&b) < target; i++) {
		if (i)
			rp_buf_printf(&b, ", ");
		rp_buf_printf(&b,
			      "{\"id\": %d, \"status\": \"shipped\", \"created\": \"2026-11-%02dT10:%02d:00Z\", "
			      "\"amount\": %d.%02d, \"currency\": \"EUR\", \"items\": [{\"sku\": \"SKU-%05d\", "
			      "\"qty\": %d, \"price\": %d.99}, {\"sku\": \"SKU-%05d\", \"qty\": 1, \"price\": 4.5}], ",
			      100000 + i, 1 + i % 28, i % 60, 10 + i % 90, i % 100, i, 1 + i % 3, 5 + i % 40,
			      i + 7);
		if (pii)
			rp_buf_printf(&b,
				      "\"customer\": {\"name\": \"Customer %d\", \"email\": \"user%d@mail%d.com\", "
				      "\"phone\": \"+44 20 7946 %04d\"}, \"note\": \"call %03d-555-01%02d if late\"}",
				      i, i, i % 7, i % 10000, 200 + i % 700, i % 100);
		else
			rp_buf_printf(&b, "\"customer\": {\"tier\": \"gold\", \"since\": %d}, "
					  "\"note\": \"leave at the door, ring twice\"}",
				      2000 + i % 25);
	}
	rp_buf_printf(&b, "]}");
	return b;
}

static struct rp_buf text_body(size_t target)
{
	struct rp_buf b;
	rp_buf_init(&b, 1 << 24);
	for (int i = 0; rp_buf_len(&b) < target; i++) {
		rp_buf_printf(&b, "2026-11-22T10:%02d:%02dZ INFO order %d shipped to warehouse %d, "
				  "3 parcels, tracking ZX%08d, version 4.%d.%d\n",
			      i % 60, i % 60, 100000 + i, i % 9, i * 7919, i % 10, i % 7);
		if (i % 8 == 0)
			rp_buf_printf(&b, "2026-11-22T10:%02d:00Z WARN customer mail%d@corp.io paid with "
					  "card 4111 1111 1111 1111 from 81.2.69.%d\n",
				      i % 60, i, i % 250);
	}
	return b;
}

struct shape {
	const char *method, *target;
	const char *const *reqh;
	struct rp_slice reqb;
	const char *const *resph;
	struct rp_slice respb;
};

/* Builds an exchange whose strings point at |s| (nothing copied). */
static struct rp_exchange *make(const struct shape *s)
{
	struct rp_exchange *x = rp_exchange_new();
	x->req.method = rp_slice_str(s->method);
	x->req.target = rp_slice_str(s->target);
	for (size_t i = 0; s->reqh && s->reqh[i]; i += 2)
		rp_headers_add_ref(&x->req.m.headers, x->pool, rp_slice_str(s->reqh[i]),
				   rp_slice_str(s->reqh[i + 1]));
	for (size_t i = 0; s->resph && s->resph[i]; i += 2)
		rp_headers_add_ref(&x->resp.m.headers, x->pool, rp_slice_str(s->resph[i]),
				   rp_slice_str(s->resph[i + 1]));
	x->req.m.body = s->reqb;
	x->resp.status = 200;
	x->resp.m.body = s->respb;
	return x;
}

/* This thread's CPU time in ns: on a machine shared with other work, wall
 * time measures the neighbours as much as the code. */
static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs |s| through |m| for |secs| of CPU time; returns exchanges per CPU
 * second (best of 3 rounds). */
static double run(const struct rp_mask *m, const struct shape *s, double secs)
{
	double best = 0;
	for (int round = 0; round < 3; round++) {
		int64_t t0 = cpu_ns(), end = t0 + (int64_t)(secs / 3 * 1e9), now;
		uint64_t n = 0;
		do {
			for (int k = 0; k < 64; k++) {
				struct rp_exchange *x = make(s);
				rp_mask_apply(m, x, NULL);
				rp_exchange_free(x);
			}
			n += 64;
			now = cpu_ns();
		} while (now < end);
		double rate = (double)n / ((double)(now - t0) / 1e9);
		if (rate > best)
			best = rate;
	}
	return best;
}

/* Decodes (and with |m|, masks) every record of |recs| for about |secs| of
 * CPU time; returns CPU ns per exchange (best of 3 rounds). */
static double run_records(const struct rp_mask *m, const struct rp_buf *recs, size_t n,
			  double secs)
{
	double best = 0;
	for (int round = 0; round < 3; round++) {
		int64_t t0 = cpu_ns(), end = t0 + (int64_t)(secs / 3 * 1e9), now;
		uint64_t done = 0;
		do {
			for (size_t i = 0; i < n; i++) {
				struct rp_exchange *x = rp_exchange_new();
				const char *why;
				if (rp_record_decode(rp_buf_slice(&recs[i]), x, NULL, &why) == 0 && m)
					rp_mask_apply(m, x, NULL);
				rp_exchange_free(x);
			}
			done += n;
			now = cpu_ns();
		} while (now < end);
		double ns = (double)(now - t0) / (double)done;
		if (!best || ns < best)
			best = ns;
	}
	return best;
}

/* mask_bench SECONDS --db DIR [--no-memo] */
static int corpus_mode(struct rp_mask *m, struct rp_mask_memo *memo, double secs, const char *db,
		       int use_memo)
{
	/* as the proxy does (rp_proxy_run): freed memory is kept, not trimmed
	 * and faulted in again */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	struct rp_store_opts o = {.path = db, .readonly = 1};
	struct rp_store *s = NULL;
	const char *why = NULL;
	if (rp_store_open(&o, &s, &why)) {
		fprintf(stderr, "mask_bench: %s\n", why ? why : db);
		return 1;
	}
	struct rp_store_iter *it = NULL;
	if (rp_store_iter_new(s, 0, 0, &it)) {
		fprintf(stderr, "mask_bench: %s: cannot read\n", db);
		rp_store_close(s);
		return 1;
	}
	size_t n = 0, cap = 50000, bytes = 0;
	struct rp_buf *recs = calloc(cap, sizeof(*recs));
	struct rp_exchange *x;
	while (n < cap && rp_store_iter_next(it, &x, &why) == 0) {
		rp_buf_init(&recs[n], (size_t)64 << 20);
		if (rp_record_encode(x, NULL, &recs[n]) == 0)
			bytes += rp_buf_len(&recs[n++]);
		else
			rp_buf_dispose(&recs[n]);
		rp_exchange_free(x);
	}
	rp_store_iter_free(it);
	rp_store_close(s);
	if (!n) {
		fprintf(stderr, "mask_bench: %s: no exchanges\n", db);
		free(recs);
		return 1;
	}
	m->memo = use_memo ? memo : NULL;
	double dec = run_records(NULL, recs, n, secs / 2), all = run_records(m, recs, n, secs);
	printf("  %zu recorded exchanges (%.0f B each), memo %s: decode %.2f us, decode+mask %.2f us: "
	       "masking %.2f us each\n",
	       n, (double)bytes / (double)n, use_memo ? "on" : "off", dec / 1e3, all / 1e3,
	       (all - dec) / 1e3);
	if (use_memo)
		printf("  transform memo: %llu hits\n", (unsigned long long)rp_mask_memo_hits(memo));
	for (size_t i = 0; i < n; i++)
		rp_buf_dispose(&recs[i]);
	free(recs);
	m->memo = memo;
	rp_mask_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	char path[4096];
	snprintf(path, sizeof(path), "%s/masks/default.rules", RP_SRCDIR);
	struct rp_mask_rules *rules = NULL;
	struct rp_mask_error err;
	if (rp_mask_rules_load(path, &rules, &err)) {
		fprintf(stderr, "mask_bench: %s:%u:%u: %s\n", err.file, err.line, err.col, err.msg);
		return 1;
	}
	struct rp_mask *m = NULL;
	static const char key[] = "mask bench key 0123456789abcdef";
	rp_mask_new(rules, key, sizeof(key) - 1, &m);
	/* Every row but the last masks the same few bodies over and over; with
	 * the transform memo on, their values would be remembered after the
	 * first round and the rows would measure lookups, not masking.  The
	 * memo is off for them (what unseen data costs), on for the last row
	 * (a session's token, cookie and email met again). */
	struct rp_mask_memo *memo = m->memo;
	m->memo = NULL;

	static const char *const json_h[] = {"Content-Type", "application/json", NULL};
	static const char *const text_h[] = {"Content-Type", "text/plain; charset=utf-8", NULL};
	printf("mask_bench: default.rules (%s), one thread, per CPU second, best of 3 rounds of %.1fs\n",
	       rp_mask_digest(m), secs / 3);
	if (argc > 3 && strcmp(argv[2], "--db") == 0)
		return corpus_mode(m, memo, secs, argv[3], !(argc > 4 && strcmp(argv[4], "--no-memo") == 0));
	size_t sizes[] = {1024, 16384};
	int only_api = argc > 2 && strncmp(argv[2], "api", 3) == 0;
	int cold_only = argc > 2 && strcmp(argv[2], "api-cold") == 0;
	int only_clean = argc > 2 && strcmp(argv[2], "clean") == 0;
	if (only_clean) {
		struct rp_buf without = json_orders(0, 16384);
		struct shape sn = {"GET", "/api/orders?page=1", NULL, RP_SLICE_NULL, json_h,
				   rp_buf_slice(&without)};
		double rn = run(m, &sn, secs);
		printf("  %5zu B JSON, none:           %8.1f MB/s  %7.2f us/body\n", rp_buf_len(&without),
		       rn * (double)rp_buf_len(&without) / 1e6, 1e6 / rn);
		rp_buf_dispose(&without);
		m->memo = memo;
		rp_mask_free(m);
		return 0;
	}
	for (size_t k = 0; k < RP_ARRAY_LEN(sizes) && !only_api; k++) {
		struct rp_buf with = json_orders(1, sizes[k]), without = json_orders(0, sizes[k]),
			      text = text_body(sizes[k]);
		struct shape sj = {"GET", "/api/orders?page=1", NULL, RP_SLICE_NULL, json_h,
				   rp_buf_slice(&with)};
		struct shape sn = {"GET", "/api/orders?page=1", NULL, RP_SLICE_NULL, json_h,
				   rp_buf_slice(&without)};
		struct shape st = {"GET", "/logs/today", NULL, RP_SLICE_NULL, text_h,
				   rp_buf_slice(&text)};
		double rj = run(m, &sj, secs), rn = run(m, &sn, secs), rt = run(m, &st, secs);
		printf("  %5zu B JSON, personal data:  %8.1f MB/s  %7.2f us/body\n", rp_buf_len(&with),
		       rj * (double)rp_buf_len(&with) / 1e6, 1e6 / rj);
		printf("  %5zu B JSON, none:           %8.1f MB/s  %7.2f us/body\n", rp_buf_len(&without),
		       rn * (double)rp_buf_len(&without) / 1e6, 1e6 / rn);
		printf("  %5zu B text (logs):          %8.1f MB/s  %7.2f us/body\n", rp_buf_len(&text),
		       rt * (double)rp_buf_len(&text) / 1e6, 1e6 / rt);
		rp_buf_dispose(&with);
		rp_buf_dispose(&without);
		rp_buf_dispose(&text);
	}

	/* a typical API call: credentials, cookies, a small JSON request, a 1 KB
	 * JSON response */
	struct rp_buf resp = json_orders(1, 1024);
	static const char *const reqh[] = {
		"Host", "api.shop.example", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0",
		"Accept", "application/json", "Accept-Encoding", "gzip, br", "Authorization",
		"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
		"Cookie", "sid=8c1f0e9a7b2d4c6e; theme=dark; _ga=GA1.2.1234567.1700000000",
		"Content-Type", "application/json", "X-Request-Id", "5f0c2a9e-8b1d-4e6f-9a3c-2d7e8f1a0b4c",
		NULL};
	static const char *const resph[] = {"Content-Type", "application/json", "Cache-Control",
					    "no-store", "Set-Cookie", "sid=8c1f0e9a7b2d4c6e; Path=/; HttpOnly",
					    "Content-Length", "1100", NULL};
	struct shape api = {"POST", "/api/v2/orders/search?customer=42&page=1", reqh,
			    RP_SLICE_LIT("{\"query\": {\"status\": \"shipped\", \"email\": \"jane@mail.com\"}, "
					 "\"limit\": 10}"),
			    resph, rp_buf_slice(&resp)};
	double re = run(m, &api, secs);
	printf("  API exchange (9 req headers, JSON 88 B up, %zu B down): %8.0f exchanges/s  %6.2f us each\n",
	       rp_buf_len(&resp), re, 1e6 / re);
	m->memo = memo;
	if (!cold_only) {
		double rw = run(m, &api, secs);
		printf("  the same, its values met before (transform memo): %8.0f exchanges/s  %6.2f us each\n",
		       rw, 1e6 / rw);
	}
	rp_buf_dispose(&resp);
	rp_mask_free(m);
	return 0;
}
