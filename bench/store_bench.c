/*
 * store_bench: how fast the store takes exchanges, next to the floor — a
 * bare LMDB put loop of the same record bytes (bodies inline, batches of
 * 1000 puts per transaction, MDB_NOSYNC) — in the same run, for exchanges
 * of about 1 KB and 16 KB.  Exchanges look real: a dozen request and
 * response headers and a JSON body; half the bodies are distinct, the other
 * half repeat one of 32 popular bodies, so dedup helps as much as it would
 * on an API's traffic and no more.  The store is timed from the first
 * rp_store_put to the end of rp_store_flush (everything committed); the
 * bare loop's records are encoded before its clock starts.
 *
 * Usage: store_bench [N1K [N16K [PRODUCERS]]]  (RP_BENCH_DIR: where corpora
 * go, default /tmp; RP_BENCH_ONLY=store|bare runs one side, for profiling;
 * RP_BENCH_SYNC=data|full runs the store in that sync mode; by default it
 * runs with none, as the bare loop does).
 */
#include "config.h"

#include <inttypes.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "reprise/limits.h"
#include "reprise/store.h"

#define POPULAR 32

static void rm_corpus(const char *dir)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* A JSON array of user objects, |len| bytes, depending only on |seed|. */
static struct rp_slice json_body(struct rp_pool *pool, uint64_t seed, size_t len)
{
	char *b = rp_pool_alloc(pool, len + 256);
	size_t n = 0;
	uint64_t r = seed * 0x9E3779B97F4A7C15ULL + 12345;
	b[n++] = '[';
	while (n < len) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		n += (size_t)snprintf(b + n, 256,
				      "{\"id\":%" PRIu64 ",\"name\":\"user-%" PRIu64 "\",\"email\":\"u%" PRIu64
				      "@example.com\",\"score\":%u.%02u,\"active\":%s,\"tags\":[\"t%u\",\"t%u\"]},",
				      r % 1000000, r % 99991, r % 77777, (unsigned)(r % 1000),
				      (unsigned)(r >> 20) % 100, (r >> 30) & 1 ? "true" : "false",
				      (unsigned)(r >> 33) % 50, (unsigned)(r >> 40) % 50);
	}
	b[len - 1] = ']';
	return rp_slice(b, len);
}

static struct rp_exchange *make_exchange(uint64_t i, size_t body_len)
{
	struct rp_exchange *x = rp_exchange_new();
	struct rp_pool *p = x->pool;
	char buf[256];
	x->conn_id = i / 8;
	x->conn_seq = (uint32_t)(i % 8);
	x->proto = RP_PROTO_H11;
	x->t.req_start = 1700000000000000000LL + (int64_t)i * 50000;
	x->t.req_end = x->t.req_start + 20000;
	x->t.resp_start = x->t.req_start + 900000;
	x->t.resp_end = x->t.resp_start + 30000;
	x->client.family = 4;
	x->client.addr[0] = 10;
	x->client.addr[3] = (uint8_t)i;
	x->client.port = (uint16_t)(30000 + i % 20000);
	x->server.family = 4;
	x->server.addr[0] = 10;
	x->server.addr[3] = 2;
	x->server.port = 8080;
	x->req.method = RP_SLICE_LIT("GET");
	x->req.scheme = RP_SLICE_LIT("https");
	x->req.authority = RP_SLICE_LIT("api.shop.example");
	snprintf(buf, sizeof(buf), "/v2/customers/%" PRIu64 "/orders?page=%" PRIu64 "&limit=50",
		 i % 5000, i % 7);
	x->req.target = rp_pool_dup(p, rp_slice_str(buf));
	struct rp_headers *h = &x->req.m.headers;
	rp_headers_add(h, p, RP_SLICE_LIT("Host"), RP_SLICE_LIT("api.shop.example"));
	rp_headers_add(h, p, RP_SLICE_LIT("User-Agent"),
		       RP_SLICE_LIT("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
				    "Gecko) Chrome/120.0 Safari/537.36"));
	rp_headers_add(h, p, RP_SLICE_LIT("Accept"), RP_SLICE_LIT("application/json"));
	rp_headers_add(h, p, RP_SLICE_LIT("Accept-Encoding"), RP_SLICE_LIT("gzip, deflate, br"));
	rp_headers_add(h, p, RP_SLICE_LIT("Accept-Language"), RP_SLICE_LIT("en-US,en;q=0.9"));
	snprintf(buf, sizeof(buf), "Bearer tok_%016" PRIx64 "%016" PRIx64, i * 2654435761u, ~i);
	rp_headers_add(h, p, RP_SLICE_LIT("Authorization"), rp_slice_str(buf));
	snprintf(buf, sizeof(buf), "sid=%016" PRIx64 "; theme=dark; ab=variant-%" PRIu64, i * 31, i % 3);
	rp_headers_add(h, p, RP_SLICE_LIT("Cookie"), rp_slice_str(buf));
	snprintf(buf, sizeof(buf), "%08" PRIx64 "-4b1c-9a2e-%012" PRIx64, i, i * 7);
	rp_headers_add(h, p, RP_SLICE_LIT("X-Request-Id"), rp_slice_str(buf));
	x->resp.status = 200;
	x->resp.reason = RP_SLICE_LIT("OK");
	h = &x->resp.m.headers;
	rp_headers_add(h, p, RP_SLICE_LIT("Content-Type"), RP_SLICE_LIT("application/json; charset=utf-8"));
	snprintf(buf, sizeof(buf), "%zu", body_len);
	rp_headers_add(h, p, RP_SLICE_LIT("Content-Length"), rp_slice_str(buf));
	rp_headers_add(h, p, RP_SLICE_LIT("Date"), RP_SLICE_LIT("Sun, 22 Nov 2026 10:02:03 GMT"));
	rp_headers_add(h, p, RP_SLICE_LIT("Server"), RP_SLICE_LIT("nginx/1.22.1"));
	rp_headers_add(h, p, RP_SLICE_LIT("Cache-Control"), RP_SLICE_LIT("private, max-age=0"));
	snprintf(buf, sizeof(buf), "W/\"%016" PRIx64 "\"", i * 0x9E3779B9u);
	rp_headers_add(h, p, RP_SLICE_LIT("ETag"), rp_slice_str(buf));
	rp_headers_add(h, p, RP_SLICE_LIT("Vary"), RP_SLICE_LIT("Accept-Encoding, Authorization"));
	snprintf(buf, sizeof(buf), "trace-%016" PRIx64, i * 977);
	rp_headers_add(h, p, RP_SLICE_LIT("X-Trace-Id"), rp_slice_str(buf));
	x->resp.m.body = json_body(p, i, body_len);
	return x;
}

/* The exchanges are |TEMPLATES| prebuilt ones, reused in turn, so that
 * memory stays small: record i takes template i % TEMPLATES and its own id
 * and time.  Even records get a distinct body (the template's, stamped with
 * i in its first bytes); odd ones one of |POPULAR| shared bodies.  Stamping
 * costs a few ns per record. */
#define TEMPLATES 4096

struct workload {
	struct rp_exchange *t[TEMPLATES];
	struct rp_slice own[TEMPLATES];
	struct rp_slice popular[POPULAR];
	struct rp_pool *pool;
	size_t n, distinct;
};

static void stamp(struct workload *w, size_t i)
{
	struct rp_exchange *x = w->t[i % TEMPLATES];
	if (i % 2 == 0) {
		uint8_t *tag = (uint8_t *)w->own[i % TEMPLATES].p + 1;
		for (int k = 0; k < 16; k++)
			tag[k] = "0123456789abcdef"[(i >> (60 - 4 * k)) & 15];
		x->resp.m.body = w->own[i % TEMPLATES];
	} else {
		x->resp.m.body = w->popular[(i / 2) % POPULAR];
	}
	x->id = i + 1;
	x->t.req_start = 1700000000000000000LL + (int64_t)i * 50000;
}

struct producer {
	struct rp_store *s;
	struct workload *w;
	int k, of;
	double cpu; /* seconds of CPU this producer used */
};

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double process_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	double c0 = thread_cpu();
	/* producer k owns the templates congruent to k, so no two threads
	 * stamp the same one */
	for (size_t i = (size_t)p->k; i < p->w->n; i += (size_t)p->of) {
		struct rp_exchange *x = p->w->t[i % TEMPLATES];
		stamp(p->w, i);
		if (rp_store_put(p->s, x, RP_STORE_WAIT, NULL)) {
			fprintf(stderr, "put failed\n");
			exit(1);
		}
	}
	p->cpu = thread_cpu() - c0;
	return NULL;
}

/* CPU seconds of the last store run (all threads, and the producers) and
 * of the last bare run. */
static double store_cpu, producer_cpu, bare_cpu;

static double store_run(const char *dir, struct workload *w, int producers,
			struct rp_store_stats *st)
{
	struct rp_store *s;
	const char *why;
	rm_corpus(dir);
	struct rp_store_opts o = {.path = dir, .create = 1, .map_init = 1ULL << 30};
	/* NOSYNC like the bare loop, unless asked: the store's own default
	 * (data) adds an fdatasync per batch, a cost of the disk, not of ours */
	const char *sync = getenv("RP_BENCH_SYNC");
	o.sync = RP_STORE_SYNC_NONE;
	if (sync && !strcmp(sync, "data"))
		o.sync = RP_STORE_SYNC_DATA;
	else if (sync && !strcmp(sync, "full"))
		o.sync = RP_STORE_SYNC_FULL;
	if (rp_store_open(&o, &s, &why)) {
		fprintf(stderr, "open: %s\n", why);
		exit(1);
	}
	struct producer p[8];
	pthread_t t[8];
	int64_t t0 = rp_mono_ns();
	double c0 = process_cpu();
	for (int k = 0; k < producers; k++) {
		p[k] = (struct producer){s, w, k, producers, 0};
		pthread_create(&t[k], NULL, produce, &p[k]);
	}
	for (int k = 0; k < producers; k++)
		pthread_join(t[k], NULL);
	if (rp_store_flush(s)) {
		fprintf(stderr, "flush failed\n");
		exit(1);
	}
	double sec = (double)(rp_mono_ns() - t0) / 1e9;
	store_cpu = process_cpu() - c0;
	producer_cpu = 0;
	for (int k = 0; k < producers; k++)
		producer_cpu += p[k].cpu;
	rp_store_get_stats(s, st);
	rp_store_close(s);
	rm_corpus(dir);
	return sec;
}

static double bare_run(const char *dir, struct rp_buf *rec, size_t n)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	rm_corpus(dir);
	mkdir(dir, 0700);
	if (mdb_env_create(&env) || mdb_env_set_mapsize(env, 8ULL << 30) ||
	    mdb_env_set_maxdbs(env, 4) || mdb_env_open(env, dir, MDB_NOSYNC, 0600)) {
		fprintf(stderr, "bare: cannot open\n");
		exit(1);
	}
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "exchanges", MDB_CREATE, &dbi);
	mdb_txn_commit(txn);
	int64_t t0 = rp_mono_ns();
	double c0 = process_cpu();
	for (size_t i = 0; i < n; i += 1000) {
		if (mdb_txn_begin(env, NULL, 0, &txn))
			exit(1);
		for (size_t j = i; j < RP_MIN(n, i + 1000); j++) {
			uint8_t key[16];
			uint64_t ts = 1700000000000000000ULL + j * 50000, id = j + 1;
			for (int b = 0; b < 8; b++) {
				key[b] = (uint8_t)(ts >> (56 - 8 * b));
				key[8 + b] = (uint8_t)(id >> (56 - 8 * b));
			}
			struct rp_buf *r = &rec[j % TEMPLATES];
			MDB_val k = {16, key}, v = {rp_buf_len(r), r->base};
			if (mdb_put(txn, dbi, &k, &v, 0)) {
				fprintf(stderr, "bare: put failed\n");
				exit(1);
			}
		}
		if (mdb_txn_commit(txn))
			exit(1);
	}
	double sec = (double)(rp_mono_ns() - t0) / 1e9;
	bare_cpu = process_cpu() - c0;
	mdb_env_close(env);
	rm_corpus(dir);
	return sec;
}

/* What the producer's steps cost alone, single-threaded, per record: SHA-256
 * of the body, zstd (level 1, as the store) of the distinct half, and the
 * record encoding with the body as a reference. */
static void producer_costs(struct workload *w, size_t n)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	ZSTD_CCtx *z = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 1);
	ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
	struct rp_buf out;
	rp_buf_init(&out, RP_LIMIT_RECORD);
	uint8_t d[32];
	unsigned dl;
	n = RP_MIN(n, 20000);
	/* thread CPU time, so that a busy machine does not bill its waits */
	double t0 = thread_cpu();
	for (size_t i = 0; i < n; i++) {
		stamp(w, i);
		struct rp_slice b = w->t[i % TEMPLATES]->resp.m.body;
		EVP_DigestInit_ex(mc, md, NULL);
		EVP_DigestUpdate(mc, b.p, b.n);
		EVP_DigestFinal_ex(mc, d, &dl);
	}
	double t1 = thread_cpu();
	/* the store keeps bodies under 1 KB met once inline: no zstd for them */
	for (size_t i = 0; i < n && w->own[0].n >= 1024; i += 2) {
		stamp(w, i);
		struct rp_slice b = w->t[i % TEMPLATES]->resp.m.body;
		rp_buf_clear(&out);
		rp_buf_reserve(&out, ZSTD_compressBound(b.n));
		ZSTD_compress2(z, out.base, out.cap, b.p, b.n);
	}
	double t2 = thread_cpu();
	for (size_t i = 0; i < n; i++) {
		stamp(w, i);
		struct rp_exchange *x = w->t[i % TEMPLATES];
		struct rp_record_body_ref ref = {1, {0}, x->resp.m.body.n};
		struct rp_record_opts ro = {{NULL, &ref}};
		rp_buf_clear(&out);
		rp_record_encode(x, &ro, &out);
	}
	double t3 = thread_cpu();
	double t_sha = (t1 - t0) * 1e9, t_zstd = (t2 - t1) * 1e9, t_enc = (t3 - t2) * 1e9;
	printf("  producer steps alone, per record: SHA-256 %.2f us, zstd-1 (distinct half) %.2f us, "
	       "record encode %.2f us\n",
	       t_sha / (double)n / 1e3, t_zstd / (double)n / 1e3, t_enc / (double)n / 1e3);
	rp_buf_dispose(&out);
	ZSTD_freeCCtx(z);
	EVP_MD_CTX_free(mc);
	EVP_MD_free(md);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define RUNS 3

static void run(const char *label, size_t body_len, size_t n, int producers)
{
	const char *base = getenv("RP_BENCH_DIR") ? getenv("RP_BENCH_DIR") : "/tmp";
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/rp-store-bench-%d", base, (int)getpid());
	struct workload w = {.n = n};
	struct rp_buf rec[TEMPLATES];
	size_t bytes = 0;
	w.pool = rp_pool_new(0);
	for (size_t i = 0; i < POPULAR; i++)
		w.popular[i] = json_body(w.pool, 1000000 + i, body_len);
	for (size_t i = 0; i < TEMPLATES; i++) {
		w.t[i] = make_exchange(i, body_len);
		w.own[i] = w.t[i]->resp.m.body;
		stamp(&w, i);
		rp_buf_init(&rec[i], RP_LIMIT_RECORD);
		if (rp_record_encode(w.t[i], NULL, &rec[i])) {
			fprintf(stderr, "encode failed\n");
			exit(1);
		}
	}
	for (size_t i = 0; i < n; i++)
		bytes += rp_buf_len(&rec[i % TEMPLATES]);
	w.distinct = (n + 1) / 2 + RP_MIN(n / 2, (size_t)POPULAR);
	double mb = (double)bytes / 1e6;
	printf("%s: %zu exchanges, %.0f bytes each (record with the body inline), "
	       "%zu distinct bodies (%.0f%%); median of %d runs\n",
	       label, n, (double)bytes / (double)n, w.distinct,
	       100.0 * (double)w.distinct / (double)n, RUNS);

	double bare[RUNS], store[RUNS];
	struct rp_store_stats st;
	const char *only = getenv("RP_BENCH_ONLY"); /* "store" or "bare", for profiling */
	memset(&st, 0, sizeof(st));
	for (int r = 0; r < RUNS; r++) { /* interleaved: both see the same load */
		bare[r] = only && !strcmp(only, "store") ? 1 : bare_run(dir, rec, n);
		store[r] = only && !strcmp(only, "bare") ? 1 : store_run(dir, &w, producers, &st);
	}
	qsort(bare, RUNS, sizeof(double), cmp_double);
	qsort(store, RUNS, sizeof(double), cmp_double);
	double b = bare[RUNS / 2], s = store[RUNS / 2];
	printf("  bare LMDB (1000/txn, NOSYNC)   %9.0f rec/s  %7.1f MB/s\n", (double)n / b, mb / b);
	printf("  rp_store_put + flush (%d prod) %9.0f rec/s  %7.1f MB/s  = %3.0f%% of bare\n",
	       producers, (double)n / s, mb / s, 100.0 * b / s);
	double pc = producer_cpu / (double)n * 1e6, wc = (store_cpu - producer_cpu) / (double)n * 1e6;
	double bc = bare_cpu / (double)n * 1e6;
	printf("  CPU per record (last runs): bare %.2f us; store %.2f us = producers %.2f + writer %.2f\n",
	       bc, pc + wc, pc, wc);
	printf("  estimate on idle cores (one per producer, one for the writer): %.0f%% of bare "
	       "(bare CPU / CPU of the slowest stage)\n",
	       100.0 * bc / RP_MAX(pc / producers, wc));
	producer_costs(&w, n);
	printf("  store wrote %" PRIu64 " records; bodies: %" PRIu64 " shared new (%.1f MB raw -> "
	       "%.1f MB zstd), %" PRIu64 " deduplicated, %" PRIu64 " inline\n",
	       st.committed, st.bodies_new, (double)st.bytes_body_raw / 1e6,
	       (double)st.bytes_body_stored / 1e6, st.bodies_dedup, st.bodies_inline);
	for (size_t i = 0; i < TEMPLATES; i++) {
		rp_exchange_free(w.t[i]);
		rp_buf_dispose(&rec[i]);
	}
	rp_pool_free(w.pool);
}

int main(int argc, char **argv)
{
	size_t n1 = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	size_t n16 = argc > 2 ? strtoul(argv[2], NULL, 10) : 30000;
	int producers = argc > 3 ? atoi(argv[3]) : 1;
	if (producers < 1 || producers > 8)
		producers = 1;
	if (n1)
		run("1 KB", 300, n1, producers);
	if (n16)
		run("16 KB", 15000, n16, producers);
	return 0;
}
