/*
 * json: the --report FILE.json output.  Streamed: the header and each
 * differing or failed exchange are written as they happen, routes and the
 * aggregate figures at the end, so a long run never holds its diffs in
 * memory.  Written to "FILE.tmpXXXXXX" and renamed over FILE only when
 * complete: a run cut short never leaves a file that looks finished.
 *
 * Layout: {"reprise": VERSION, "target": URL, "db": DIR,
 *          "diffs": [{"id", "conn", "route", "method", "target",
 *                     "recorded_status", "replayed_status", "result"
 *                     ("differ"|"failed"), "failure", "why", "real",
 *                     "noise", "dropped", "body", "items": [{"where",
 *                     "op", "path", "expected", "actual", "noise"}]}],
 *          "routes": [...], "summary": {...}}
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "report-int.h"

int rp_report_json_entry(struct rp_report *r, const struct rp_report_entry *e);

static const char *where_name(enum rp_diff_where w)
{
	return w == RP_DIFF_STATUS ? "status" : w == RP_DIFF_HEADER ? "header" : "body";
}

/* A JSON string of arbitrary bytes (invalid UTF-8 replaced by U+FFFD). */
static json_t *jstr(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	char *c = rp_xmalloc(n * 3 + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];
		if (b < 0x80) {
			c[o++] = (char)b;
		} else {
			memcpy(c + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
	}
	j = json_stringn(c, o);
	free(c);
	if (!j)
		rp_oom();
	return j;
}

static json_t *jcstr(const char *s)
{
	return s ? jstr(s, strlen(s)) : json_null();
}

static json_t *jslice(struct rp_slice s)
{
	return jstr(s.n ? (const char *)s.p : "", s.n);
}

int rp_report_json_open(struct rp_report *r, const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path) + 16;
	r->json_tmp = rp_xmalloc(n);
	snprintf(r->json_tmp, n, "%s.tmpXXXXXX", path);
	int fd = mkstemp(r->json_tmp);
	if (fd < 0 || !(r->json = fdopen(fd, "w"))) {
		snprintf(err, errlen, "--report %s: cannot create: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(r->json_tmp);
		}
		free(r->json_tmp);
		r->json_tmp = NULL;
		return RP_E_IO;
	}
	r->json_path = rp_xstrdup(path);
	json_t *tgt = jcstr(r->o.target), *db = jcstr(r->o.db);
	char *a = json_dumps(tgt, JSON_ENCODE_ANY), *b = json_dumps(db, JSON_ENCODE_ANY);
	fprintf(r->json, "{\"reprise\":\"%s\",\"target\":%s,\"db\":%s,\n\"diffs\":[", PACKAGE_VERSION,
		a, b);
	free(a);
	free(b);
	json_decref(tgt);
	json_decref(db);
	return 0;
}

int rp_report_json_entry(struct rp_report *r, const struct rp_report_entry *e)
{
	const struct rp_exchange *x = e->x;
	const struct rp_replay_result *res = e->res;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer((json_int_t)x->id));
	json_object_set_new(o, "conn", json_integer((json_int_t)x->conn_id));
	json_object_set_new(o, "route", jcstr(e->route));
	json_object_set_new(o, "method", jslice(x->req.method));
	json_object_set_new(o, "target", jslice(x->req.target));
	json_object_set_new(o, "recorded_status", json_integer(x->resp.status));
	json_object_set_new(o, "replayed_status",
			    res->resp ? json_integer(res->resp->status) : json_null());
	json_object_set_new(o, "result", json_string(res->fail ? "failed" : "differ"));
	if (res->fail) {
		json_object_set_new(o, "failure", json_string(rp_replay_fail_name(res->fail)));
		json_object_set_new(o, "why", jcstr(res->why));
	}
	if (e->diff) {
		const struct rp_diff *d = e->diff;
		json_object_set_new(o, "real", json_integer((json_int_t)d->real));
		json_object_set_new(o, "noise", json_integer((json_int_t)d->noise));
		json_object_set_new(o, "dropped", json_integer((json_int_t)d->dropped));
		json_object_set_new(o, "body", json_string(rp_diff_body_name(d->body)));
		json_t *items = json_array();
		for (size_t i = 0; i < d->n; i++) {
			const struct rp_diff_item *it = &d->v[i];
			json_t *j = json_object();
			json_object_set_new(j, "where", json_string(where_name(it->where)));
			json_object_set_new(j, "op", json_string(rp_diff_op_name(it->op)));
			json_object_set_new(j, "path", jcstr(it->path));
			json_object_set_new(j, "expected", jcstr(it->expected));
			json_object_set_new(j, "actual", jcstr(it->actual));
			json_object_set_new(j, "noise", json_boolean(it->noise));
			json_array_append_new(items, j);
		}
		json_object_set_new(o, "items", items);
	}
	if (r->json_count++)
		fputs(",", r->json);
	fputs("\n", r->json);
	if (json_dumpf(o, r->json, JSON_COMPACT) < 0 || ferror(r->json))
		r->json_err = 1;
	json_decref(o);
	return r->json_err ? RP_E_IO : 0;
}

static json_t *paths_json(const struct pathcount *v, size_t n, uint64_t other)
{
	json_t *a = json_array();
	size_t *idx = rp_xcalloc(n ? n : 1, sizeof(*idx));
	size_t k = rp_report_top_paths(v, n, idx, n);
	for (size_t i = 0; i < k; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "path", jcstr(v[idx[i]].path));
		json_object_set_new(p, "count", json_integer((json_int_t)v[idx[i]].n));
		json_array_append_new(a, p);
	}
	if (other) {
		json_t *p = json_object();
		json_object_set_new(p, "path", json_string("(other paths)"));
		json_object_set_new(p, "count", json_integer((json_int_t)other));
		json_array_append_new(a, p);
	}
	free(idx);
	return a;
}

static json_t *quantiles(const struct rp_replay_hist *h)
{
	json_t *o = json_object();
	json_object_set_new(o, "count", json_integer((json_int_t)h->count));
	json_object_set_new(o, "p50", json_real((double)rp_replay_hist_quantile(h, 0.5) / 1e6));
	json_object_set_new(o, "p99", json_real((double)rp_replay_hist_quantile(h, 0.99) / 1e6));
	json_object_set_new(o, "max", json_real((double)h->max / 1e6));
	return o;
}

int rp_report_json_finish(struct rp_report *r, const struct rp_replay_stats *st, char *err,
			  size_t errlen)
{
	if (!r->json)
		return 0;
	struct route **routes = NULL;
	size_t n = rp_report_routes(r, &routes);
	json_t *ra = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct route *rt = routes[i];
		json_t *o = json_object();
		json_object_set_new(o, "route", jcstr(rt->name));
		json_object_set_new(o, "requests", json_integer((json_int_t)rt->requests));
		json_object_set_new(o, "equal", json_integer((json_int_t)rt->equal));
		json_object_set_new(o, "differ", json_integer((json_int_t)rt->differ));
		json_object_set_new(o, "failed", json_integer((json_int_t)rt->failed));
		json_object_set_new(o, "unrecorded", json_integer((json_int_t)rt->unrecorded));
		json_object_set_new(o, "parity", json_real(rp_report_route_parity(rt)));
		json_object_set_new(o, "paths", paths_json(rt->paths, rt->npaths, rt->paths_other));
		json_object_set_new(o, "noise_paths", paths_json(rt->noise, rt->nnoise, rt->noise_other));
		json_t *lat = json_object();
		json_object_set_new(lat, "recorded", quantiles(rt->rec));
		json_object_set_new(lat, "replayed", quantiles(rt->rep));
		json_object_set_new(o, "latency_ms", lat);
		json_array_append_new(ra, o);
	}
	free(routes);

	struct rp_report_totals t;
	rp_report_totals(r, &t);
	json_t *s = json_object();
	json_object_set_new(s, "planned", json_integer((json_int_t)st->planned));
	json_object_set_new(s, "replayed", json_integer((json_int_t)t.replayed));
	json_object_set_new(s, "interrupted", json_boolean(st->interrupted));
	json_object_set_new(s, "equal", json_integer((json_int_t)t.equal));
	json_object_set_new(s, "differ", json_integer((json_int_t)t.differ));
	json_object_set_new(s, "failed", json_integer((json_int_t)t.failed));
	json_object_set_new(s, "unrecorded", json_integer((json_int_t)t.unrecorded));
	json_object_set_new(s, "noisy", json_integer((json_int_t)t.noisy));
	json_object_set_new(s, "parity", json_real(t.parity));
	json_object_set_new(s, "fail_under", json_real(r->o.fail_under > 0 ? r->o.fail_under : 100));
	json_object_set_new(s, "passed", json_boolean(t.passed));
	double el = (double)(st->end - st->start) / 1e9;
	json_object_set_new(s, "elapsed_s", json_real(el));
	json_object_set_new(s, "rate", json_real(el > 0 ? (double)t.replayed / el : 0));
	double span = (double)(st->last_sent - st->first_sent) / 1e9;
	json_object_set_new(s, "send_rate",
			    json_real(span > 0 && st->sent > 1 ? (double)(st->sent - 1) / span : 0));
	static const char *const modes[] = {"speed", "rate", "max"};
	json_object_set_new(s, "mode", json_string(modes[st->mode]));
	json_object_set_new(s, "planned_span_s", json_real((double)st->planned_span / 1e9));
	json_object_set_new(s, "lag_ms", quantiles(&st->lag));
	json_object_set_new(s, "latency_ms", quantiles(&st->latency));
	json_t *fk = json_object();
	for (int k = 1; k < 6; k++)
		json_object_set_new(fk, rp_replay_fail_name((enum rp_replay_fail)k),
				    json_integer((json_int_t)r->fail_kind[k]));
	json_object_set_new(s, "failures", fk);
	json_object_set_new(s, "connections", json_integer((json_int_t)st->conns_opened));
	json_object_set_new(s, "read_errors", json_integer((json_int_t)st->read_errors));

	fputs("\n],\n\"routes\":", r->json);
	json_dumpf(ra, r->json, JSON_COMPACT);
	fputs(",\n\"summary\":", r->json);
	json_dumpf(s, r->json, JSON_COMPACT);
	fputs("}\n", r->json);
	json_decref(ra);
	json_decref(s);
	int bad = r->json_err || ferror(r->json);
	bad |= fclose(r->json) != 0;
	r->json = NULL;
	if (bad || rename(r->json_tmp, r->json_path) != 0) {
		snprintf(err, errlen, "--report %s: cannot write: %s", r->json_path, strerror(errno));
		unlink(r->json_tmp);
		return RP_E_IO;
	}
	return 0;
}
