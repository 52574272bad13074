/*
 * metrics: the proxy's Prometheus text exposition (format 0.0.4), served on
 * GET /metrics from the main thread's event base, away from the workers.
 * It sums the workers' counters (relaxed atomic reads: a scrape may be a
 * few requests behind, never torn) and adds the recorder's and the store's.
 *
 * Invariant: rendering takes no lock a worker could wait on; the recorder
 * and store snapshots take their own short locks only.
 */
#include "config.h"

#include <inttypes.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "proxy-int.h"

const uint32_t rp_proxy_lat_bounds_us[RP_PROXY_LAT_BUCKETS] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
	100000, 250000, 500000, 1000000, 2500000, 10000000,
};

static uint64_t sum(struct rp_proxy *px, enum rp_proxy_stat s)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < px->nw; i++)
		n += atomic_load_explicit(&px->w[i].st.v[s], memory_order_relaxed);
	return n;
}

static void counter(struct evbuffer *b, const char *name, const char *help, uint64_t v)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name,
			    name, v);
}

static void gauge(struct evbuffer *b, const char *name, const char *help, uint64_t v)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %" PRIu64 "\n", name, help, name,
			    name, v);
}

void rp_proxy_metrics_render(struct rp_proxy *px, struct evbuffer *b)
{
	static const char *const classes[6] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
	evbuffer_add_printf(b, "# HELP reprise_proxy_responses_total Responses sent to clients by "
			       "status class (none: exchange ended without one).\n"
			       "# TYPE reprise_proxy_responses_total counter\n");
	for (int k = 0; k < 6; k++)
		evbuffer_add_printf(b, "reprise_proxy_responses_total{class=\"%s\"} %" PRIu64 "\n",
				    classes[k], sum(px, (enum rp_proxy_stat)(RP_PST_RESP0 + k)));

	static const struct {
		enum rp_proxy_stat s;
		const char *kind;
	} errs[] = {
		{RP_PST_BAD_REQUEST, "bad_request"},
		{RP_PST_UPSTREAM_CONNECT, "upstream_connect"},
		{RP_PST_UPSTREAM_ERROR, "upstream_error"},
		{RP_PST_UPSTREAM_TIMEOUT, "upstream_timeout"},
		{RP_PST_CLIENT_ABORT, "client_abort"},
		{RP_PST_CLIENT_TIMEOUT, "client_timeout"},
	};
	evbuffer_add_printf(b, "# HELP reprise_proxy_errors_total Exchanges that failed, by cause.\n"
			       "# TYPE reprise_proxy_errors_total counter\n");
	for (size_t i = 0; i < RP_ARRAY_LEN(errs); i++)
		evbuffer_add_printf(b, "reprise_proxy_errors_total{kind=\"%s\"} %" PRIu64 "\n",
				    errs[i].kind, sum(px, errs[i].s));

	counter(b, "reprise_proxy_connections_accepted_total", "Client connections accepted.",
		sum(px, RP_PST_ACCEPTED));
	uint64_t active = 0;
	for (unsigned i = 0; i < px->nw; i++)
		active += atomic_load_explicit(&px->w[i].st.active, memory_order_relaxed);
	gauge(b, "reprise_proxy_connections_active", "Client connections open.", active);
	counter(b, "reprise_proxy_upstream_connections_total", "Upstream connections opened.",
		sum(px, RP_PST_UPSTREAM_CONNS));
	counter(b, "reprise_proxy_upstream_reused_total",
		"Exchanges served by a pooled upstream connection.", sum(px, RP_PST_UPSTREAM_REUSED));
	counter(b, "reprise_proxy_upstream_retries_total",
		"Bodiless requests resent after a pooled connection turned out closed.",
		sum(px, RP_PST_RETRIED));
	counter(b, "reprise_proxy_record_truncated_total",
		"Exchanges whose recorded body was cut at --max-body.", sum(px, RP_PST_RECORD_TRUNCATED));

	/* upstream latency: request head queued -> response head received */
	evbuffer_add_printf(b, "# HELP reprise_proxy_upstream_latency_seconds Time from queueing a "
			       "request head to the upstream to receiving its response head.\n"
			       "# TYPE reprise_proxy_upstream_latency_seconds histogram\n");
	uint64_t cum = 0, total_us = 0;
	for (int k = 0; k <= RP_PROXY_LAT_BUCKETS; k++) {
		for (unsigned i = 0; i < px->nw; i++)
			cum += atomic_load_explicit(&px->w[i].st.lat[k], memory_order_relaxed);
		if (k < RP_PROXY_LAT_BUCKETS)
			evbuffer_add_printf(b, "reprise_proxy_upstream_latency_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
					    rp_proxy_lat_bounds_us[k] / 1e6, cum);
		else
			evbuffer_add_printf(b, "reprise_proxy_upstream_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
					    cum);
	}
	for (unsigned i = 0; i < px->nw; i++)
		total_us += atomic_load_explicit(&px->w[i].st.lat_sum_us, memory_order_relaxed);
	evbuffer_add_printf(b, "reprise_proxy_upstream_latency_seconds_sum %.6f\n"
			       "reprise_proxy_upstream_latency_seconds_count %" PRIu64 "\n",
			    total_us / 1e6, cum);

	if (px->o.recorder) {
		struct rp_recorder_stats rs;
		rp_recorder_get_stats(px->o.recorder, &rs);
		counter(b, "reprise_recorder_submitted_total", "Exchanges handed to the recorder.",
			rs.submitted);
		counter(b, "reprise_recorder_recorded_total", "Exchanges accepted by the store.",
			rs.recorded);
		evbuffer_add_printf(b, "# HELP reprise_recorder_dropped_total Exchanges not recorded, "
				       "by reason (traffic was not affected).\n"
				       "# TYPE reprise_recorder_dropped_total counter\n");
		for (int k = 0; k < RP_RECORDER_DROP_COUNT; k++)
			evbuffer_add_printf(b, "reprise_recorder_dropped_total{reason=\"%s\"} %" PRIu64 "\n",
					    rp_recorder_drop_name((enum rp_recorder_drop)k), rs.dropped[k]);
		counter(b, "reprise_recorder_conns_total", "Connection records accepted by the store.",
			rs.conns);
		counter(b, "reprise_recorder_conns_dropped_total",
			"Connection records not recorded (queue or store full).", rs.dropped_conns);
		counter(b, "reprise_recorder_coding_errors_total",
			"Bodies kept encoded because their content coding did not decode.",
			rs.coding_errors);
		gauge(b, "reprise_recorder_queue_depth", "Exchanges waiting in the recorder queue.",
		      rs.queue_depth);
		gauge(b, "reprise_recorder_queue_bytes", "Bytes held by the recorder queue.",
		      rs.queue_bytes);
	}
	if (px->o.store) {
		struct rp_store_stats ss;
		rp_store_get_stats(px->o.store, &ss);
		counter(b, "reprise_store_committed_total", "Records committed to the corpus.",
			ss.committed);
		counter(b, "reprise_store_bytes_total",
			"Bytes written to the corpus (records plus compressed new bodies).",
			ss.bytes_record + ss.bytes_body_stored);
		gauge(b, "reprise_store_map_size_bytes", "Current LMDB map size.", ss.map_size);
		gauge(b, "reprise_store_queue_depth", "Records waiting for the store writer.",
		      ss.queue_depth);
		evbuffer_add_printf(b, "# HELP reprise_store_dropped_total Records the store refused.\n"
				       "# TYPE reprise_store_dropped_total counter\n"
				       "reprise_store_dropped_total{reason=\"queue_full\"} %" PRIu64 "\n"
				       "reprise_store_dropped_total{reason=\"ceiling\"} %" PRIu64 "\n"
				       "reprise_store_dropped_total{reason=\"error\"} %" PRIu64 "\n",
				    ss.dropped_full, ss.dropped_ceiling, ss.dropped_error);
	}
}

static void metrics_cb(struct evhttp_request *req, void *arg)
{
	struct rp_proxy *px = arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	struct evbuffer *b = evbuffer_new();
	if (!b)
		rp_oom();
	rp_proxy_metrics_render(px, b);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void other_cb(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, 404, "metrics are at /metrics");
}

int rp_proxy_metrics_start(struct rp_proxy *px, struct event_base *base)
{
	px->http = evhttp_new(base);
	if (!px->http)
		return RP_E_IO;
	if (evhttp_accept_socket(px->http, px->mfd)) {
		evhttp_free(px->http);
		px->http = NULL;
		return RP_E_IO;
	}
	evhttp_set_timeout(px->http, 10);
	evhttp_set_cb(px->http, "/metrics", metrics_cb, px);
	evhttp_set_gencb(px->http, other_cb, px);
	return 0;
}
