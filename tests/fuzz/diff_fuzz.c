/*
 * diff_fuzz: the fuzz target of the diff module.  An input is up to three
 * parts separated by NUL bytes: a noise rule file, a recorded body and a
 * replayed body.  The rules are parsed (errors are fine), then the bodies
 * are diffed as JSON, as text, by digest and as whole responses under
 * those rules, and the first line of the recorded body is taken as a path
 * for a route template and as a JSON path.  Invariant checked: no crash,
 * no sanitizer report, and the counts a diff reports add up.
 */
#include "config.h"

#include <stdlib.h>

#include "reprise/diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rp_slice part(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *z = memchr(*p, 0, (size_t)(end - *p));
	struct rp_slice s = rp_slice(*p, (size_t)((z ? z : end) - *p));
	*p = z ? z + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct rp_slice rules = part(&p, end), a = part(&p, end), b = part(&p, end);
	struct rp_diff_noise *noise = NULL;
	char err[256];
	(void)rp_diff_noise_parse((const char *)rules.p, rules.n, "fuzz", &noise, err, sizeof(err));

	struct rp_diff_opts opts = {.noise = noise, .max_items = 16, .max_value = 32};
	struct rp_diff d;
	rp_diff_init(&d);
	if (rp_diff_json(&opts, a, b, &d) == 0 && d.n > 16)
		abort(); /* max_items */
	rp_diff_reset(&d);
	rp_diff_text(&opts, a, b, &d);
	if (d.n > 16 || d.real + d.noise < d.n)
		abort();
	rp_diff_reset(&d);
	rp_diff_binary(a, b, &d);
	rp_diff_reset(&d);

	struct rp_pool *pool = rp_pool_new(0);
	struct rp_response ra, rb;
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	ra.status = 200;
	rb.status = size & 1 ? 200 : 500;
	rp_headers_add(&ra.m.headers, pool, RP_SLICE_LIT("Content-Type"),
		       RP_SLICE_LIT("application/json"));
	rp_headers_add(&rb.m.headers, pool, RP_SLICE_LIT("Content-Type"),
		       size & 2 ? RP_SLICE_LIT("application/json") : RP_SLICE_LIT("text/plain"));
	rp_headers_add(&rb.m.headers, pool, RP_SLICE_LIT("X-Rules"), rules);
	ra.m.body = a;
	rb.m.body = b;
	rp_diff_response(&opts, &ra, &rb, &d);

	const uint8_t *nl = memchr(a.p ? a.p : (const uint8_t *)"", '\n', a.n);
	struct rp_slice first = rp_slice(a.p, nl ? (size_t)(nl - a.p) : a.n);
	char route[64], gen[64];
	rp_diff_route(RP_SLICE_LIT("GET"), first, route, sizeof(route));
	struct rp_jpath jp;
	if (rp_jpath_parse((const char *)first.p, first.n, &jp, NULL, NULL) == 0)
		rp_jpath_dispose(&jp);
	char *s = rp_pool_strndup(pool, first.p, first.n);
	rp_diff_path_generalize(s, gen, sizeof(gen));

	rp_pool_free(pool);
	rp_diff_dispose(&d);
	rp_diff_noise_free(noise);
	return 0;
}
