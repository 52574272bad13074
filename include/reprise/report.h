/*
 * report: what a replay found, said three ways — a live progress line and a
 * per-route summary table for a person at a terminal, a JSON file with every
 * difference and its exchange id, and a JUnit XML file (one test case per
 * route) for CI.  The last stage of the pipeline: it reads replay results
 * and diffs and writes text; it changes neither.  An adapter over jansson.
 *
 * Parity is the share of compared exchanges whose replayed response matched
 * the recorded one (noise rules applied); a replay failure (connect,
 * timeout, reset, unparsable response) counts as a mismatch, since "no
 * silent failures" means a failure is a result.  Exchanges recorded without
 * a response have nothing to compare and are counted apart.
 *
 * Memory is bounded whatever the run's length: per route a fixed number of
 * counted paths and kept examples, routes capped (the rest pooled as
 * "(other routes)"); the JSON file is streamed to disk as results arrive
 * and renamed into place only when complete.
 */
#ifndef REPRISE_REPORT_H
#define REPRISE_REPORT_H

#include <stdio.h>

#include "reprise/diff.h"
#include "reprise/replay.h"

struct rp_report_opts {
	const char *target;     /* shown in headers ("http://127.0.0.1:8080") */
	const char *db;         /* the corpus */
	double fail_under;      /* parity percentage CI requires (default 100) */
	size_t max_examples;    /* example differences kept per route (0: 3) */
	size_t max_items;       /* items shown per example (0: 5) */
	size_t max_paths;       /* distinct differing paths counted per route (0: 32) */
	size_t max_routes;      /* routes tracked (0: 1000) */
};

/* One replayed exchange as the report sees it. */
struct rp_report_entry {
	const struct rp_exchange *x;          /* the recorded exchange */
	const struct rp_replay_result *res;   /* what the replay gave */
	const struct rp_diff *diff;           /* NULL when nothing was compared */
	const char *route;                    /* route template (rp_diff_route) */
};

struct rp_report_totals {
	uint64_t replayed;    /* results received */
	uint64_t equal;       /* compared, no real difference */
	uint64_t differ;      /* compared, real differences */
	uint64_t failed;      /* the replay failed */
	uint64_t unrecorded;  /* recorded without a response: not compared */
	uint64_t noisy;       /* equal, with differences the noise rules silenced */
	double parity;        /* equal / (equal + differ + failed) in percent;
	                         100 when nothing was compared */
	int passed;           /* parity >= fail_under */
};

struct rp_report;

/* Creates an empty report.  |o| is copied (strings must outlive the report). */
struct rp_report *rp_report_new(const struct rp_report_opts *o);
/* Frees |r|, removing an unfinished JSON file.  NULL is a no-op. */
void rp_report_free(struct rp_report *r);

/* Starts streaming the JSON report to a temporary file beside |path|.
 * Returns 0 or RP_E_IO with |err| naming the file and the reason. */
int rp_report_json_open(struct rp_report *r, const char *path, char *err, size_t errlen);

/* Adds one result: counts, route aggregates, examples, and (when a JSON
 * report is open) a JSON entry if it differed or failed.  RP_E_IO when the
 * JSON file could not be written (the error is sticky and returned again by
 * rp_report_json_finish). */
int rp_report_add(struct rp_report *r, const struct rp_report_entry *e);

void rp_report_totals(const struct rp_report *r, struct rp_report_totals *t);

/* Rewrites the live progress line on |f| ("\r..."): sent of planned, rate,
 * errors, parity, latency p50/p99, ETA.  rp_report_progress_clear erases
 * it. */
void rp_report_progress(const struct rp_report *r, FILE *f, const struct rp_replay_stats *st);
void rp_report_progress_clear(FILE *f);

/* Prints the end summary: totals, timing fidelity, the per-route table
 * (requests, parity, top differing paths with counts, latency recorded vs
 * replayed), silenced noise, failures, and example differences. */
void rp_report_summary(const struct rp_report *r, FILE *f, const struct rp_replay_stats *st);

/* Ends the JSON report (routes and aggregate figures) and renames it into
 * place.  0, or RP_E_IO with |err|.  Does nothing when none was opened. */
int rp_report_json_finish(struct rp_report *r, const struct rp_replay_stats *st, char *err,
			  size_t errlen);

/* Writes the JUnit XML report to |path| (via a temporary file and a
 * rename): one test case per route, failing with example differences when
 * the route has any, erroring when only replay failures occurred.  0 or
 * RP_E_IO with |err|. */
int rp_report_junit(const struct rp_report *r, const char *path, const struct rp_replay_stats *st,
		    char *err, size_t errlen);

/* Formats |ns| as "0.31 ms", "12 ms", "1.2 s" into |out| (>= 24 bytes). */
void rp_report_duration(int64_t ns, char *out, size_t outlen);

#endif
