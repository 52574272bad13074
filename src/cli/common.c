/*
 * common: helpers shared by the command files (cli-int.h).  Each command
 * turns module errors into exit codes in the same way: store failures are
 * exit 4 with the store's own message, a bad flag or filter is exit 2 with
 * the flag and column named.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli-int.h"
#include "reprise/har.h"

int rp_cli_open_store(const char *cmd, const char *db, int readonly, int create,
		      struct rp_store **s)
{
	if (!db || !*db)
		return rp_cli_usage_error(cmd, "--db DIR is required (the corpus directory)");
	struct rp_store_opts o = {.path = db, .readonly = readonly, .create = create};
	const char *why = NULL;
	int rc = rp_store_open(&o, s, &why);
	if (rc == 0)
		return RP_EXIT_OK;
	if (rc == RP_E_NOTFOUND && !create && !readonly)
		return rp_cli_fail(cmd, RP_EXIT_STORE, "%s (pass --create to make a new corpus)",
				   why ? why : db);
	return rp_cli_store_error(cmd, db, rc, why);
}

int rp_cli_next_exchange(const char *cmd, const char *db, struct rp_store_iter *it,
			 struct rp_exchange **x, int *bad, int *rc)
{
	*rc = RP_EXIT_OK;
	for (;;) {
		const char *why = NULL;
		*x = NULL;
		int r = rp_store_iter_next(it, x, &why);
		if (r == 0)
			return 1;
		if (r == RP_E_NOTFOUND)
			return 0;
		if (r != RP_E_FORMAT && r != RP_E_VERSION) {
			*rc = rp_cli_store_error(cmd, db, r, why);
			return 0;
		}
		fprintf(stderr, "reprise %s: %s: %s\n", cmd, db, why ? why : rp_err_name(r));
		(*bad)++;
	}
}

int rp_cli_filter(const char *cmd, const char *expr, struct rp_store *s, struct rp_filter **f)
{
	*f = NULL;
	if (!expr)
		return RP_EXIT_OK;
	struct rp_store_totals t = {0};
	(void)rp_store_totals(s, &t); /* an empty corpus anchors offsets at 0 */
	char err[512];
	if (rp_filter_compile(expr, t.first_ns, f, err, sizeof(err)))
		return rp_cli_usage_error(cmd, "%s", err); /* "filter: column N: ..." */
	return RP_EXIT_OK;
}

int rp_cli_bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];
	if (c == ':')
		return rp_cli_usage_error(cmd, "option '%s' needs a value", arg);
	if (optopt && optopt != '?')
		return rp_cli_usage_error(cmd, "unknown option '-%c'", optopt);
	return rp_cli_usage_error(cmd, "unknown option '%s'", arg);
}

void rp_cli_human_size(uint64_t n, char *out, size_t outlen)
{
	static const char units[] = "KMGTP";
	if (n < 10000) {
		snprintf(out, outlen, "%llu", (unsigned long long)n);
		return;
	}
	double v = (double)n;
	size_t u = 0;
	v /= 1024;
	while (v >= 1000 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	snprintf(out, outlen, "%.1f%c", v, units[u]);
}

double rp_cli_span_ms(int64_t from, int64_t to)
{
	if (!from || !to || to < from)
		return -1;
	return (double)(to - from) / 1e6;
}

int64_t rp_cli_end_ns(const struct rp_exchange *x)
{
	if (x->t.resp_end)
		return x->t.resp_end;
	if (x->t.resp_start)
		return x->t.resp_start;
	return x->t.req_end;
}

int rp_cli_term_width(void)
{
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	uint64_t v;
	if (c && rp_slice_to_u64(rp_slice_str(c), &v) == 0 && v >= 20 && v < 10000)
		return (int)v;
	return 0;
}

void rp_cli_put_safe(struct rp_slice s)
{
	size_t start = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] >= 0x20 && s.p[i] != 0x7f)
			continue;
		fwrite(s.p + start, 1, i - start, stdout);
		printf("\\x%02x", s.p[i]);
		start = i + 1;
	}
	if (s.n > start)
		fwrite(s.p + start, 1, s.n - start, stdout);
}

json_t *rp_cli_json_str(struct rp_slice s)
{
	json_t *j;
	if (rp_har_utf8_valid(s)) {
		j = json_stringn(s.n ? (const char *)s.p : "", s.n);
	} else {
		struct rp_buf b;
		rp_buf_init(&b, s.n * 3 + 1);
		for (size_t i = 0; i < s.n;) {
			size_t k = 1;
			while (k <= 4 && i + k <= s.n && !rp_har_utf8_valid(rp_slice(s.p + i, k)))
				k++;
			if (k <= 4 && i + k <= s.n) {
				(void)rp_buf_append(&b, s.p + i, k);
				i += k;
			} else {
				(void)rp_buf_append(&b, "\xef\xbf\xbd", 3);
				i++;
			}
		}
		j = json_stringn((const char *)b.base, rp_buf_len(&b));
		rp_buf_dispose(&b);
	}
	if (!j)
		rp_oom();
	return j;
}
