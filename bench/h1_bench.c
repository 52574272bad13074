/*
 * h1_bench: HTTP/1 parser throughput on a realistic mix, requests and
 * responses measured apart.  Requests: browser GETs with ~15 fields and
 * cookies, and API POSTs with JSON bodies.  Responses: small API answers,
 * chunked HTML, and 16 KB static files.  Each mix is laid out pipelined in
 * one buffer and parsed as the proxy would: events walked one by one, field
 * bytes touched.  Two feeds: the whole buffer at once, and 16 KB reads with
 * the unconsumed tail moved to the front of the read buffer each time.
 * Prints MB/s and messages/s per mode (best of several runs of ~0.3 s of
 * CPU).  Time is the thread's CPU time, so a machine shared with other work
 * still gives per-core figures; wall time is printed next to it.
 *
 * Run with `make bench` (never part of make check).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reprise/base.h"
#include "reprise/http1.h"

struct corpus {
	uint8_t *p;
	size_t n, cap, msgs;
};

static void add(struct corpus *c, const void *p, size_t n)
{
	if (c->n + n > c->cap) {
		c->cap = (c->n + n) * 2;
		c->p = rp_xrealloc(c->p, c->cap);
	}
	memcpy(c->p + c->n, p, n);
	c->n += n;
}

static void addf(struct corpus *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct corpus *c, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	add(c, tmp, (size_t)w);
}

static uint32_t seed = 12345;
static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}

static void browser_get(struct corpus *c, int i)
{
	static const char *paths[] = {"/", "/static/app.3f9a2c.js", "/api/v2/users/1842/feed?limit=20&cursor=eyJpZCI6MTIzfQ",
				      "/images/hero-banner@2x.webp", "/search?q=reprise+http+replay&page=2"};
	addf(c,
	     "GET %s HTTP/1.1\r\n"
	     "Host: www.example-shop.com\r\n"
	     "Connection: keep-alive\r\n"
	     "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
	     "sec-ch-ua-mobile: ?0\r\n"
	     "sec-ch-ua-platform: \"Linux\"\r\n"
	     "Upgrade-Insecure-Requests: 1\r\n"
	     "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
	     "Chrome/124.0.0.0 Safari/537.36\r\n"
	     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
	     "Sec-Fetch-Site: same-origin\r\n"
	     "Sec-Fetch-Mode: navigate\r\n"
	     "Sec-Fetch-Dest: document\r\n"
	     "Referer: https://www.example-shop.com/catalog/shoes?sort=price\r\n"
	     "Accept-Encoding: gzip, deflate, br, zstd\r\n"
	     "Accept-Language: en-GB,en;q=0.9,fr;q=0.8\r\n"
	     "Cookie: session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; _ga=GA1.2.1234567890.1700000000; "
	     "cart=%08x; consent=analytics%%3D1%%26ads%%3D0; theme=dark\r\n"
	     "\r\n",
	     paths[i % 5], rnd());
	c->msgs++;
}

static void api_post(struct corpus *c, int i)
{
	char body[2048];
	int n = snprintf(body, sizeof(body),
			 "{\"order_id\":\"ord_%08x\",\"customer\":{\"id\":%d,\"email\":\"user%d@example.com\","
			 "\"name\":\"Ada Lovelace\"},\"items\":[",
			 rnd(), i, i);
	int items = 1 + (int)(rnd() % 8);
	for (int k = 0; k < items; k++)
		n += snprintf(body + n, sizeof(body) - (size_t)n,
			      "%s{\"sku\":\"SKU-%05d\",\"qty\":%d,\"price_cents\":%d}", k ? "," : "",
			      (int)(rnd() % 99999), 1 + (int)(rnd() % 5), (int)(rnd() % 100000));
	n += snprintf(body + n, sizeof(body) - (size_t)n, "],\"currency\":\"EUR\",\"notes\":null}");
	addf(c,
	     "POST /api/v2/orders HTTP/1.1\r\n"
	     "Host: api.example-shop.com\r\n"
	     "User-Agent: shop-backend/3.14.1 (+https://example-shop.com)\r\n"
	     "Accept: application/json\r\n"
	     "Content-Type: application/json; charset=utf-8\r\n"
	     "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSIsInNjb3BlIjoib3JkZXJzIn0.c2lnbmF0dXJl\r\n"
	     "X-Request-Id: 7d1c%08x-4b2a-9f3e-a1b2c3d4e5f6\r\n"
	     "Content-Length: %d\r\n"
	     "\r\n",
	     rnd(), n);
	add(c, body, (size_t)n);
	c->msgs++;
}

static void small_response(struct corpus *c)
{
	const char body[] = "{\"status\":\"ok\",\"id\":\"ord_5f3a9c1e\",\"total_cents\":12999,\"eta_days\":3}";
	addf(c,
	     "HTTP/1.1 200 OK\r\n"
	     "Date: Tue, 14 May 2024 10:02:03 GMT\r\n"
	     "Content-Type: application/json; charset=utf-8\r\n"
	     "Content-Length: %zu\r\n"
	     "Connection: keep-alive\r\n"
	     "Cache-Control: no-store\r\n"
	     "X-Request-Id: 7d1c%08x-4b2a-9f3e-a1b2c3d4e5f6\r\n"
	     "Strict-Transport-Security: max-age=63072000; includeSubDomains\r\n"
	     "Vary: Accept-Encoding, Origin\r\n"
	     "\r\n",
	     sizeof(body) - 1, rnd());
	add(c, body, sizeof(body) - 1);
	c->msgs++;
}

static void chunked_response(struct corpus *c)
{
	addf(c, "HTTP/1.1 200 OK\r\n"
		"Date: Tue, 14 May 2024 10:02:03 GMT\r\n"
		"Content-Type: text/html; charset=utf-8\r\n"
		"Transfer-Encoding: chunked\r\n"
		"Connection: keep-alive\r\n"
		"Set-Cookie: session=9f8e7d6c5b4a39281706f5e4d3c2b1a0; Path=/; HttpOnly; Secure; SameSite=Lax\r\n"
		"Content-Security-Policy: default-src 'self'; img-src 'self' data:\r\n"
		"\r\n");
	char chunk[3000];
	int chunks = 2 + (int)(rnd() % 4);
	for (int k = 0; k < chunks; k++) {
		size_t len = 200 + rnd() % 2800;
		memset(chunk, 'h', len);
		addf(c, "%zx\r\n", len);
		add(c, chunk, len);
		add(c, "\r\n", 2);
	}
	add(c, "0\r\n\r\n", 5);
	c->msgs++;
}

static void static_16k(struct corpus *c)
{
	static uint8_t body[16384];
	memset(body, 's', sizeof(body));
	addf(c, "HTTP/1.1 200 OK\r\n"
		"Date: Tue, 14 May 2024 10:02:03 GMT\r\n"
		"Server: nginx/1.22.1\r\n"
		"Content-Type: application/javascript\r\n"
		"Content-Length: 16384\r\n"
		"Last-Modified: Mon, 13 May 2024 08:00:00 GMT\r\n"
		"ETag: \"6641c8e0-4000\"\r\n"
		"Accept-Ranges: bytes\r\n"
		"Cache-Control: public, max-age=31536000, immutable\r\n"
		"\r\n");
	add(c, body, sizeof(body));
	c->msgs++;
}

static size_t sink;

#ifdef HAVE_HTTP_PARSER
/* The reference a user would otherwise pick: Node's classic http-parser
 * (Debian's libhttp-parser-dev), fed the same corpus whole, with callbacks
 * doing the same work as ours (sum header value lengths, count messages). */
#include <http_parser.h>

static size_t hp_msgs;
static int hp_value(http_parser *hp, const char *at, size_t n)
{
	(void)hp;
	(void)at;
	sink += n;
	return 0;
}
static int hp_done(http_parser *hp)
{
	(void)hp;
	hp_msgs++;
	return 0;
}

/* Best-of-5 MB/s of http-parser over |c| (0 when it does not parse it). */
static double measure_http_parser(const struct corpus *c, enum rp_h1_kind kind);
#endif

static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Parses the whole corpus, |chunk| bytes per read (0: all at once).
 * Returns 0, or -1 when it does not parse into its messages. */
static int parse_all(const struct corpus *c, enum rp_h1_kind kind, enum rp_h1_mode mode, size_t chunk,
		      uint8_t *rbuf)
{
	struct rp_h1_options opt;
	struct rp_h1_parser p;
	struct rp_h1_event ev;
	rp_h1_options_init(&opt);
	opt.mode = mode;
	rp_h1_init(&p, kind, &opt);
	size_t msgs = 0;
	int rc = -1;
	if (!chunk) {
		size_t off = 0;
		ssize_t r;
		while ((r = rp_h1_parse(&p, c->p + off, c->n - off, &ev)) >= 0) {
			off += (size_t)r;
			if (ev.type == RP_H1_EV_HEADER)
				sink += ev.u.field.value.n;
			else if (ev.type == RP_H1_EV_MESSAGE_DONE)
				msgs++;
		}
		if (r != RP_E_AGAIN || off != c->n)
			goto out;
	} else {
		size_t have = 0, in = 0;
		while (in < c->n) {
			size_t take = RP_MIN(chunk, c->n - in);
			memcpy(rbuf + have, c->p + in, take); /* the "read" */
			in += take;
			have += take;
			size_t off = 0;
			ssize_t r;
			while ((r = rp_h1_parse(&p, rbuf + off, have - off, &ev)) >= 0) {
				off += (size_t)r;
				if (ev.type == RP_H1_EV_HEADER)
					sink += ev.u.field.value.n;
				else if (ev.type == RP_H1_EV_MESSAGE_DONE)
					msgs++;
			}
			if (r != RP_E_AGAIN)
				goto out;
			memmove(rbuf, rbuf + off, have - off);
			have -= off;
		}
	}
	if (msgs == c->msgs)
		rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "h1_bench: corpus did not parse (%s)\n", rp_h1_reason(&p));
	return rc;
}

static void measure(const char *name, const struct corpus *c, enum rp_h1_kind kind, enum rp_h1_mode mode,
		    size_t chunk)
{
	double best = 0, best_wall = 0;
	uint8_t *rbuf = rp_xmalloc(2 * 65536 + 16384);
	for (int round = 0; round < 5; round++) {
		int64_t t0 = cpu_ns(), w0 = rp_mono_ns(), t;
		size_t iters = 0;
		do {
			if (parse_all(c, kind, mode, chunk, rbuf) < 0)
				exit(1);
			iters++;
			t = cpu_ns();
		} while (t - t0 < 300000000);
		double secs = (double)(t - t0) / 1e9, wall = (double)(rp_mono_ns() - w0) / 1e9;
		double mbps = (double)c->n * (double)iters / secs / 1e6;
		if (mbps > best) {
			best = mbps;
			best_wall = (double)c->n * (double)iters / wall / 1e6;
		}
	}
	double msgs_per_s = best * 1e6 / ((double)c->n / (double)c->msgs);
	printf("  %-34s %-7s %-9s %7.0f MB/s %9.0f msg/s   (wall %5.0f MB/s)\n", name,
	       mode == RP_H1_STRICT ? "strict" : "lenient", chunk ? "16KB-read" : "whole", best, msgs_per_s,
	       best_wall);
	free(rbuf);
#ifdef HAVE_HTTP_PARSER
	if (!chunk && mode == RP_H1_STRICT) {
		double ref = measure_http_parser(c, kind);
		if (ref > 0)
			printf("  %-34s %-7s %-9s %7.0f MB/s   reprise/http-parser = %.2fx\n",
			       "  http-parser 2.9 (same input)", "", "whole", ref, best / ref);
		else
			printf("  http-parser did not parse this corpus\n");
	}
#endif
}

#ifdef HAVE_HTTP_PARSER
static double measure_http_parser(const struct corpus *c, enum rp_h1_kind kind)
{
	http_parser_settings st;
	http_parser_settings_init(&st);
	st.on_header_value = hp_value;
	st.on_message_complete = hp_done;
	double best = 0;
	for (int round = 0; round < 5; round++) {
		int64_t t0 = cpu_ns(), t;
		size_t iters = 0;
		do {
			http_parser hp;
			http_parser_init(&hp, kind == RP_H1_REQUEST ? HTTP_REQUEST : HTTP_RESPONSE);
			hp_msgs = 0;
			size_t n = http_parser_execute(&hp, &st, (const char *)c->p, c->n);
			if (n != c->n || hp_msgs != c->msgs)
				return 0;
			iters++;
			t = cpu_ns();
		} while (t - t0 < 300000000);
		double mbps = (double)c->n * (double)iters / ((double)(t - t0) / 1e9) / 1e6;
		if (mbps > best)
			best = mbps;
	}
	return best;
}
#endif

int main(void)
{
	struct corpus gets = {0}, posts = {0}, reqmix = {0}, resp_small = {0}, resp_mix = {0};
	for (int i = 0; i < 4000; i++)
		browser_get(&gets, i);
	for (int i = 0; i < 4000; i++)
		api_post(&posts, i);
	for (int i = 0; i < 6000; i++) {
		if (i % 3 == 2)
			api_post(&reqmix, i);
		else
			browser_get(&reqmix, i);
	}
	for (int i = 0; i < 6000; i++)
		small_response(&resp_small);
	for (int i = 0; i < 3000; i++) {
		int k = (int)(rnd() % 10);
		if (k < 5)
			small_response(&resp_mix);
		else if (k < 8)
			chunked_response(&resp_mix);
		else
			static_16k(&resp_mix);
	}

	printf("h1_bench: HTTP/1 parser throughput per core (thread CPU time, best of 5 runs of 0.3 s)\n");
#ifndef HAVE_HTTP_PARSER
	printf("(http-parser not found at configure time: no side-by-side figure; apt-get install libhttp-parser-dev)\n");
#endif
	printf("requests (avg GET %zu B, avg POST %zu B incl. JSON body):\n", gets.n / gets.msgs, posts.n / posts.msgs);
	measure("browser GETs (15 fields, cookies)", &gets, RP_H1_REQUEST, RP_H1_STRICT, 0);
	measure("browser GETs (15 fields, cookies)", &gets, RP_H1_REQUEST, RP_H1_LENIENT, 0);
	measure("API POSTs (JSON bodies)", &posts, RP_H1_REQUEST, RP_H1_STRICT, 0);
	measure("mix 2/3 GET + 1/3 POST", &reqmix, RP_H1_REQUEST, RP_H1_STRICT, 0);
	measure("mix 2/3 GET + 1/3 POST", &reqmix, RP_H1_REQUEST, RP_H1_LENIENT, 0);
	measure("mix 2/3 GET + 1/3 POST", &reqmix, RP_H1_REQUEST, RP_H1_STRICT, 16384);
	printf("responses (avg small %zu B, mix %zu B):\n", resp_small.n / resp_small.msgs, resp_mix.n / resp_mix.msgs);
	measure("small API responses", &resp_small, RP_H1_RESPONSE, RP_H1_STRICT, 0);
	measure("mix small/chunked/16KB", &resp_mix, RP_H1_RESPONSE, RP_H1_STRICT, 0);
	measure("mix small/chunked/16KB", &resp_mix, RP_H1_RESPONSE, RP_H1_LENIENT, 0);
	measure("mix small/chunked/16KB", &resp_mix, RP_H1_RESPONSE, RP_H1_STRICT, 16384);
	if (sink == 42)
		printf("\n");
	free(gets.p);
	free(posts.p);
	free(reqmix.p);
	free(resp_small.p);
	free(resp_mix.p);
	return 0;
}
