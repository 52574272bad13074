/*
 * record_bench: encode and decode throughput of the record codec on
 * realistic exchanges (a browser API request and a JSON response) of about
 * 1 KB and 16 KB.  Encoding reuses one buffer, as the store's hot path does;
 * decoding reuses one pool, reset per record.  Prints records and MB of
 * encoded bytes per CPU-second and CPU ns per record, the best of several
 * rounds.  Time is the thread's CPU time, not wall time, so that other work
 * on a shared machine does not count against the codec (caches are still
 * shared: run it on a quiet machine for figures to publish).
 *
 * Usage: bench/record_bench [SECONDS-PER-ROUND]   (or: make bench)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../tests/unit/record/xgen.h"
#include "reprise/limits.h"
#include "reprise/record.h"

#define ROUNDS 5

static volatile uint64_t sink;

static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double encode_rate(const struct rp_exchange *x, double secs, size_t *len)
{
	struct rp_buf b;
	rp_buf_init(&b, RP_LIMIT_RECORD);
	double best = 0;
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t n = 0;
		int64_t t0 = cpu_ns(), t;
		do {
			for (int i = 0; i < 256; i++) {
				rp_buf_clear(&b);
				if (rp_record_encode(x, NULL, &b))
					abort();
				sink += b.base[b.wr - 1];
			}
			n += 256;
			t = cpu_ns();
		} while (t - t0 < (int64_t)(secs * 1e9));
		double rate = (double)n / ((double)(t - t0) / 1e9);
		best = rate > best ? rate : best;
	}
	*len = b.wr;
	rp_buf_dispose(&b);
	return best;
}

static double decode_rate(struct rp_slice rec, double secs)
{
	struct rp_exchange x;
	memset(&x, 0, sizeof(x));
	x.pool = rp_pool_new(0);
	double best = 0;
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t n = 0;
		int64_t t0 = cpu_ns(), t;
		do {
			for (int i = 0; i < 256; i++) {
				rp_pool_reset(x.pool);
				if (rp_record_decode(rec, &x, NULL, NULL))
					abort();
				sink += x.resp.m.headers.n;
			}
			n += 256;
			t = cpu_ns();
		} while (t - t0 < (int64_t)(secs * 1e9));
		double rate = (double)n / ((double)(t - t0) / 1e9);
		best = rate > best ? rate : best;
	}
	rp_pool_free(x.pool);
	return best;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.3;
	static const size_t sizes[] = {1024, 16 * 1024};
	printf("%-9s %7s | %13s %8s %7s | %13s %8s %7s\n", "exchange", "record", "encode rec/s",
	       "MB/s", "ns/rec", "decode rec/s", "MB/s", "ns/rec");
	for (size_t i = 0; i < RP_ARRAY_LEN(sizes); i++) {
		struct rp_exchange *x = rp_exchange_new();
		xgen_realistic(x, sizes[i]);
		size_t len;
		double enc = encode_rate(x, secs, &len);
		struct rp_buf b;
		rp_buf_init(&b, RP_LIMIT_RECORD);
		if (rp_record_encode(x, NULL, &b))
			abort();
		double dec = decode_rate(rp_buf_slice(&b), secs);
		char label[32];
		snprintf(label, sizeof(label), "%zu KB", sizes[i] / 1024);
		printf("%-9s %7zu | %13.0f %8.0f %7.0f | %13.0f %8.0f %7.0f\n", label, len, enc,
		       enc * (double)len / 1e6, 1e9 / enc, dec, dec * (double)len / 1e6, 1e9 / dec);
		rp_buf_dispose(&b);
		rp_exchange_free(x);
	}
	return 0;
}
