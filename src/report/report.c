/*
 * report: aggregation of replay results per route, the live progress line
 * and the end-of-run summary table.  Every result passes through
 * rp_report_add exactly once; route aggregates are bounded (paths, examples
 * and routes are capped, overflow counted), so a run of any length holds
 * the same memory.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "report-int.h"

#define DEF_EXAMPLES 3
#define DEF_ITEMS 5
#define DEF_PATHS 32
#define DEF_ROUTES 1000

/* Writes a JSON entry for a result (json.c). */
int rp_report_json_entry(struct rp_report *r, const struct rp_report_entry *e);

struct rp_report *rp_report_new(const struct rp_report_opts *o)
{
	struct rp_report *r = rp_xcalloc(1, sizeof(*r));
	r->o = *o;
	if (!r->o.max_examples)
		r->o.max_examples = DEF_EXAMPLES;
	if (!r->o.max_items)
		r->o.max_items = DEF_ITEMS;
	if (!r->o.max_paths)
		r->o.max_paths = DEF_PATHS;
	if (!r->o.max_routes)
		r->o.max_routes = DEF_ROUTES;
	r->nbuckets = 64;
	r->buckets = rp_xcalloc(r->nbuckets, sizeof(*r->buckets));
	r->order = rp_xcalloc(r->o.max_routes, sizeof(*r->order));
	return r;
}

static void example_dispose(struct example *ex)
{
	free(ex->request);
	free(ex->failure);
	for (size_t i = 0; i < ex->nitems; i++)
		free(ex->items[i]);
	free(ex->items);
}

static void route_free(struct route *rt)
{
	if (!rt)
		return;
	free(rt->name);
	for (size_t i = 0; i < rt->npaths; i++)
		free(rt->paths[i].path);
	for (size_t i = 0; i < rt->nnoise; i++)
		free(rt->noise[i].path);
	free(rt->paths);
	free(rt->noise);
	for (size_t i = 0; i < rt->nex; i++)
		example_dispose(&rt->ex[i]);
	free(rt->ex);
	free(rt->rec);
	free(rt->rep);
	free(rt);
}

void rp_report_free(struct rp_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nroutes; i++)
		route_free(r->order[i]);
	route_free(r->other);
	free(r->order);
	free(r->buckets);
	example_dispose(&r->first_failure);
	if (r->json) {
		fclose(r->json);
		unlink(r->json_tmp);
	}
	free(r->json_path);
	free(r->json_tmp);
	free(r);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

static struct route *route_new(const char *name)
{
	struct route *rt = rp_xcalloc(1, sizeof(*rt));
	rt->name = rp_xstrdup(name);
	rt->rec = rp_xcalloc(1, sizeof(*rt->rec));
	rt->rep = rp_xcalloc(1, sizeof(*rt->rep));
	return rt;
}

static struct route *route_get(struct rp_report *r, const char *name)
{
	size_t h = (size_t)hash_str(name) & (r->nbuckets - 1);
	for (struct route *rt = r->buckets[h]; rt; rt = rt->hnext)
		if (strcmp(rt->name, name) == 0)
			return rt;
	if (r->nroutes >= r->o.max_routes) {
		if (!r->other)
			r->other = route_new("(other routes)");
		return r->other;
	}
	if (r->nroutes >= r->nbuckets) {
		/* rehash at load 1 */
		size_t nb = r->nbuckets * 2;
		struct route **b = rp_xcalloc(nb, sizeof(*b));
		for (size_t i = 0; i < r->nroutes; i++) {
			struct route *x = r->order[i];
			size_t k = (size_t)hash_str(x->name) & (nb - 1);
			x->hnext = b[k];
			b[k] = x;
		}
		free(r->buckets);
		r->buckets = b;
		r->nbuckets = nb;
		h = (size_t)hash_str(name) & (nb - 1);
	}
	struct route *rt = route_new(name);
	rt->hnext = r->buckets[h];
	r->buckets[h] = rt;
	r->order[r->nroutes++] = rt;
	return rt;
}

static void count_path(struct pathcount **v, size_t *n, uint64_t *other, size_t max,
		       const char *path)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].path, path) == 0) {
			(*v)[i].n++;
			return;
		}
	if (*n >= max) {
		(*other)++;
		return;
	}
	*v = rp_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].path = rp_xstrdup(path);
	(*v)[*n].n = 1;
	(*n)++;
}

/* Counts each generalised path once per exchange. */
static void count_paths(struct rp_report *r, struct route *rt, const struct rp_diff *d, int noise)
{
	char g[512], prev[64][512];
	size_t nprev = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].noise != noise)
			continue;
		rp_diff_path_generalize(d->v[i].path, g, sizeof(g));
		int seen = 0;
		for (size_t k = 0; k < nprev && !seen; k++)
			seen = strcmp(prev[k], g) == 0;
		if (seen)
			continue;
		if (nprev < RP_ARRAY_LEN(prev))
			memcpy(prev[nprev++], g, sizeof(g));
		if (noise)
			count_path(&rt->noise, &rt->nnoise, &rt->noise_other, r->o.max_paths, g);
		else
			count_path(&rt->paths, &rt->npaths, &rt->paths_other, r->o.max_paths, g);
	}
}

static char *fmt_item(const struct rp_diff_item *it)
{
	char buf[1024];
	const char *op = rp_diff_op_name(it->op);
	if (it->op == RP_DIFF_ADDED)
		snprintf(buf, sizeof(buf), "%s %s: %s", op, it->path, it->actual ? it->actual : "");
	else if (it->op == RP_DIFF_REMOVED)
		snprintf(buf, sizeof(buf), "%s %s: %s", op, it->path, it->expected ? it->expected : "");
	else
		snprintf(buf, sizeof(buf), "%s %s: %s -> %s", op, it->path,
			 it->expected ? it->expected : "", it->actual ? it->actual : "");
	/* one line: control bytes shown as '?' */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	return rp_xstrdup(buf);
}

static void fill_example(struct rp_report *r, struct example *ex, const struct rp_report_entry *e)
{
	const struct rp_exchange *x = e->x;
	char req[600];
	memset(ex, 0, sizeof(*ex));
	ex->id = x->id;
	ex->conn = x->conn_id;
	snprintf(req, sizeof(req), "%.*s %.*s", (int)RP_MIN(x->req.method.n, 32),
		 (const char *)x->req.method.p, (int)RP_MIN(x->req.target.n, 500),
		 (const char *)x->req.target.p);
	for (char *p = req; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	ex->request = rp_xstrdup(req);
	if (e->res->fail) {
		char f[300];
		snprintf(f, sizeof(f), "%s: %s", rp_replay_fail_name(e->res->fail),
			 e->res->why ? e->res->why : "-");
		ex->failure = rp_xstrdup(f);
		return;
	}
	const struct rp_diff *d = e->diff;
	ex->items = rp_xcalloc(r->o.max_items, sizeof(*ex->items));
	for (size_t i = 0; d && i < d->n; i++) {
		if (d->v[i].noise)
			continue;
		if (ex->nitems < r->o.max_items)
			ex->items[ex->nitems++] = fmt_item(&d->v[i]);
		else
			ex->more++;
	}
	if (d)
		ex->more += d->dropped;
}

static int64_t recorded_latency(const struct rp_exchange *x)
{
	int64_t end = x->t.resp_end ? x->t.resp_end : x->t.resp_start;
	if (!x->t.req_start || !end || end < x->t.req_start)
		return -1;
	return end - x->t.req_start;
}

int rp_report_add(struct rp_report *r, const struct rp_report_entry *e)
{
	const struct rp_exchange *x = e->x;
	const struct rp_replay_result *res = e->res;
	struct route *rt = route_get(r, e->route ? e->route : "-");
	int differ = 0;

	r->t.replayed++;
	rt->requests++;
	int64_t rl = recorded_latency(x);
	if (rl >= 0)
		rp_replay_hist_add(rt->rec, rl);
	if (!res->fail && res->sent)
		rp_replay_hist_add(rt->rep, res->done - res->sent);
	if (res->fail) {
		r->t.failed++;
		rt->failed++;
		r->fail_kind[res->fail]++;
		if (!r->have_failure) {
			fill_example(r, &r->first_failure, e);
			r->have_failure = 1;
		}
	} else if (!e->diff) {
		r->t.unrecorded++;
		rt->unrecorded++;
	} else if (e->diff->real == 0) {
		r->t.equal++;
		rt->equal++;
		if (e->diff->noise) {
			r->t.noisy++;
			rt->noisy++;
			count_paths(r, rt, e->diff, 1);
		}
	} else {
		differ = 1;
		r->t.differ++;
		rt->differ++;
		count_paths(r, rt, e->diff, 0);
		count_paths(r, rt, e->diff, 1);
	}
	if ((differ || res->fail) && rt->nex < r->o.max_examples) {
		rt->ex = rp_xrealloc(rt->ex, (rt->nex + 1) * sizeof(*rt->ex));
		fill_example(r, &rt->ex[rt->nex++], e);
	}
	if (r->json && (differ || res->fail))
		return rp_report_json_entry(r, e);
	return r->json_err ? RP_E_IO : 0;
}

void rp_report_totals(const struct rp_report *r, struct rp_report_totals *t)
{
	*t = r->t;
	uint64_t den = t->equal + t->differ + t->failed;
	t->parity = den ? 100.0 * (double)t->equal / (double)den : 100.0;
	t->passed = t->parity + 1e-9 >= (r->o.fail_under > 0 ? r->o.fail_under : 100.0);
}

double rp_report_route_parity(const struct route *rt)
{
	uint64_t den = rt->equal + rt->differ + rt->failed;
	return den ? 100.0 * (double)rt->equal / (double)den : 100.0;
}

size_t rp_report_routes(const struct rp_report *r, struct route ***out)
{
	size_t n = r->nroutes + (r->other ? 1 : 0);
	struct route **v = rp_xcalloc(n ? n : 1, sizeof(*v));
	memcpy(v, r->order, r->nroutes * sizeof(*v));
	if (r->other)
		v[r->nroutes] = r->other;
	*out = v;
	return n;
}

size_t rp_report_top_paths(const struct pathcount *v, size_t n, size_t *idx, size_t max)
{
	size_t k = 0;
	while (k < max) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < n; i++) {
			int taken = 0;
			for (size_t j = 0; j < k && !taken; j++)
				taken = idx[j] == i;
			if (!taken && (best == SIZE_MAX || v[i].n > v[best].n))
				best = i; /* first seen wins ties */
		}
		if (best == SIZE_MAX)
			break;
		idx[k++] = best;
	}
	return k;
}

void rp_report_duration(int64_t ns, char *out, size_t outlen)
{
	double ms = (double)ns / 1e6;
	if (ns < 0)
		snprintf(out, outlen, "-");
	else if (ms < 10)
		snprintf(out, outlen, "%.2f ms", ms);
	else if (ms < 1000)
		snprintf(out, outlen, "%.0f ms", ms);
	else if (ms < 600000)
		snprintf(out, outlen, "%.1f s", ms / 1000);
	else
		snprintf(out, outlen, "%.0f min", ms / 60000);
}

/* ---- terminal output ---- */

void rp_report_progress(const struct rp_report *r, FILE *f, const struct rp_replay_stats *st)
{
	struct rp_report_totals t;
	char p50[24], p99[24], eta[24] = "-";
	int64_t now = rp_mono_ns();
	double el = (double)(now - st->start) / 1e9;
	double rate = el > 0 ? (double)st->done / el : 0;
	rp_report_totals(r, &t);
	rp_report_duration(rp_replay_hist_quantile(&st->latency, 0.5), p50, sizeof(p50));
	rp_report_duration(rp_replay_hist_quantile(&st->latency, 0.99), p99, sizeof(p99));
	if (st->planned && st->done < st->planned) {
		int64_t left;
		if (st->planned_span > 0 && (double)st->planned_span / 1e9 > el)
			left = st->planned_span - (now - st->start);
		else
			left = rate > 0 ? (int64_t)((double)(st->planned - st->done) / rate * 1e9) : -1;
		rp_report_duration(left, eta, sizeof(eta));
	}
	uint64_t errors = 0;
	for (size_t i = 1; i < RP_ARRAY_LEN(st->failed); i++)
		errors += st->failed[i];
	fprintf(f, "\r\033[K%llu/%llu sent  %.0f/s  errors %llu  parity %.1f%%  p50 %s  p99 %s  ETA %s",
		(unsigned long long)st->sent, (unsigned long long)st->planned, rate,
		(unsigned long long)errors, t.parity, p50, p99, eta);
	fflush(f);
}

void rp_report_progress_clear(FILE *f)
{
	fputs("\r\033[K", f);
	fflush(f);
}

static void print_cut(FILE *f, const char *s, int w)
{
	int n = (int)strlen(s);
	if (n <= w)
		fprintf(f, "%-*s", w, s);
	else
		fprintf(f, "%.*s...", w - 3, s);
}

void rp_report_summary(const struct rp_report *r, FILE *f, const struct rp_replay_stats *st)
{
	struct rp_report_totals t;
	struct route **routes = NULL;
	size_t n = rp_report_routes(r, &routes);
	char a[24], b[24], c[24], d[24];
	double el = (double)(st->end - st->start) / 1e9;
	double span = st->last_sent > st->first_sent ? (double)(st->last_sent - st->first_sent) / 1e9 : 0;

	rp_report_totals(r, &t);
	fprintf(f, "replayed %llu exchange%s against %s in %.2f s (%.0f req/s",
		(unsigned long long)t.replayed, t.replayed == 1 ? "" : "s",
		r->o.target ? r->o.target : "-", el, el > 0 ? (double)t.replayed / el : 0.0);
	if (span > 0 && st->sent > 1)
		fprintf(f, "; sends %.1f/s over %.2f s", (double)(st->sent - 1) / span, span);
	fprintf(f, ")\n");
	if (st->interrupted)
		fprintf(f, "interrupted: %llu of %llu planned exchanges were replayed\n",
			(unsigned long long)t.replayed, (unsigned long long)st->planned);
	fprintf(f, "parity %.2f%%: %llu equal, %llu differ, %llu failed", t.parity,
		(unsigned long long)t.equal, (unsigned long long)t.differ, (unsigned long long)t.failed);
	if (t.unrecorded)
		fprintf(f, ", %llu without a recorded response", (unsigned long long)t.unrecorded);
	fprintf(f, "   (required %.2f%%: %s)\n", r->o.fail_under > 0 ? r->o.fail_under : 100.0,
		t.passed ? "pass" : "FAIL");
	rp_report_duration(rp_replay_hist_quantile(&st->lag, 0.5), a, sizeof(a));
	rp_report_duration(rp_replay_hist_quantile(&st->lag, 0.99), b, sizeof(b));
	rp_report_duration(rp_replay_hist_quantile(&st->latency, 0.5), c, sizeof(c));
	rp_report_duration(rp_replay_hist_quantile(&st->latency, 0.99), d, sizeof(d));
	if (st->mode == RP_REPLAY_MAX)
		fprintf(f, "latency p50 %s p99 %s; %llu connection%s opened\n", c, d,
			(unsigned long long)st->conns_opened, st->conns_opened == 1 ? "" : "s");
	else
		fprintf(f, "schedule lag p50 %s p99 %s; latency p50 %s p99 %s; %llu connection%s opened\n",
			a, b, c, d, (unsigned long long)st->conns_opened,
			st->conns_opened == 1 ? "" : "s");

	fprintf(f, "\n%-36s %7s %8s  %-19s %-19s %s\n", "ROUTE", "REQS", "PARITY",
		"RECORDED p50/p99", "REPLAYED p50/p99", "TOP DIFFERENCES");
	for (size_t i = 0; i < n; i++) {
		const struct route *rt = routes[i];
		char rec[64], rep[64], top[512] = "";
		rp_report_duration(rp_replay_hist_quantile(rt->rec, 0.5), a, sizeof(a));
		rp_report_duration(rp_replay_hist_quantile(rt->rec, 0.99), b, sizeof(b));
		snprintf(rec, sizeof(rec), "%s / %s", a, b);
		if (!rt->rec->count)
			snprintf(rec, sizeof(rec), "-");
		rp_report_duration(rp_replay_hist_quantile(rt->rep, 0.5), a, sizeof(a));
		rp_report_duration(rp_replay_hist_quantile(rt->rep, 0.99), b, sizeof(b));
		snprintf(rep, sizeof(rep), "%s / %s", a, b);
		if (!rt->rep->count)
			snprintf(rep, sizeof(rep), "-");
		size_t idx[3];
		size_t k = rp_report_top_paths(rt->paths, rt->npaths, idx, 3);
		size_t o = 0;
		for (size_t j = 0; j < k && o < sizeof(top); j++)
			o += (size_t)snprintf(top + o, sizeof(top) - o, "%s%s (%llu)", j ? ", " : "",
					      rt->paths[idx[j]].path,
					      (unsigned long long)rt->paths[idx[j]].n);
		if (rt->failed && o < sizeof(top))
			snprintf(top + o, sizeof(top) - o, "%sfailed (%llu)", o ? ", " : "",
				 (unsigned long long)rt->failed);
		print_cut(f, rt->name, 36);
		fprintf(f, " %7llu %7.1f%%  %-19s %-19s %s\n", (unsigned long long)rt->requests,
			rp_report_route_parity(rt), rec, rep, top);
	}

	/* silenced noise, all routes together */
	int shown = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < routes[i]->nnoise; j++) {
			fprintf(f, "%s%s %s (%llu)", shown ? ", " : "\nnoise ignored: ", routes[i]->name,
				routes[i]->noise[j].path, (unsigned long long)routes[i]->noise[j].n);
			shown = 1;
		}
	if (shown)
		fputc('\n', f);

	if (t.failed) {
		fprintf(f, "\nfailures:");
		for (int k = 1; k < 6; k++)
			if (r->fail_kind[k])
				fprintf(f, " %llu %s", (unsigned long long)r->fail_kind[k],
					rp_replay_fail_name((enum rp_replay_fail)k));
		fprintf(f, "; first: exchange %llu %s: %s\n",
			(unsigned long long)r->first_failure.id, r->first_failure.request,
			r->first_failure.failure ? r->first_failure.failure : "-");
	}

	int header = 0;
	for (size_t i = 0; i < n; i++) {
		const struct route *rt = routes[i];
		for (size_t j = 0; j < rt->nex; j++) {
			const struct example *ex = &rt->ex[j];
			if (ex->failure)
				continue;
			if (!header)
				fprintf(f, "\ndifferences (examples):\n");
			header = 1;
			fprintf(f, "  %s  exchange %llu: %s\n", rt->name, (unsigned long long)ex->id,
				ex->request);
			for (size_t k = 0; k < ex->nitems; k++)
				fprintf(f, "      %s\n", ex->items[k]);
			if (ex->more)
				fprintf(f, "      ... and %zu more\n", ex->more);
		}
	}
	if (st->read_errors)
		fprintf(f, "\n%llu record%s of the corpus did not decode and were skipped\n",
			(unsigned long long)st->read_errors, st->read_errors == 1 ? "" : "s");
	free(routes);
}
