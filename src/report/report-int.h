/*
 * report internals shared by the files of src/report: the per-route
 * aggregate and the report object.  Not installed.
 */
#ifndef REPRISE_REPORT_INT_H
#define REPRISE_REPORT_INT_H

#include "reprise/report.h"

struct pathcount {
	char *path; /* generalised ("$.items[*].price") */
	uint64_t n; /* exchanges it differed in */
};

struct example_item {
	char *text; /* "changed $.total: 107 -> 114.49" */
};

struct example {
	uint64_t id, conn;
	char *request;    /* "GET /api/orders/7" */
	char *failure;    /* "timeout: no complete response ..." or NULL */
	char **items;
	size_t nitems;
	size_t more;      /* items not shown */
};

struct route {
	char *name;
	struct route *hnext;
	uint64_t requests, equal, differ, failed, unrecorded, noisy;
	struct pathcount *paths, *noise;
	size_t npaths, nnoise;
	uint64_t paths_other, noise_other; /* counts past max_paths */
	struct example *ex;
	size_t nex;
	struct rp_replay_hist *rec, *rep; /* latency: recorded, replayed */
};

struct rp_report {
	struct rp_report_opts o;
	struct route **buckets;
	size_t nbuckets, nroutes;
	struct route **order; /* in order of first appearance */
	struct route *other;  /* past max_routes */
	struct rp_report_totals t;
	uint64_t fail_kind[8];
	struct example first_failure;
	int have_failure;
	/* JSON stream */
	FILE *json;
	char *json_path, *json_tmp;
	int json_count, json_err;
};

/* Ordered list of routes (and the pooled one) for output. */
size_t rp_report_routes(const struct rp_report *r, struct route ***out);
/* Parity of one route in percent (100 when nothing was compared). */
double rp_report_route_parity(const struct route *rt);
/* Indices of the route's paths sorted by count, at most |max|. */
size_t rp_report_top_paths(const struct pathcount *v, size_t n, size_t *idx, size_t max);

#endif
