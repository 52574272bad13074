/*
 * server: the proxy's threads and sockets.  rp_proxy_new checks the options,
 * resolves the upstream and binds one SO_REUSEPORT listener per worker (the
 * kernel spreads connections among them), so configuration errors surface
 * before traffic is taken.  rp_proxy_run starts the workers — each a thread
 * with its own event base, its connections and its upstream pool, sharing
 * nothing with the others but counters — and keeps the main thread for
 * signals, the metrics page and shutdown.
 *
 * Shutdown: the first SIGINT/SIGTERM tells each worker (through its eventfd)
 * to close its listener, close idle connections and let in-flight exchanges
 * finish; a worker ends when its last connection does, or at the shutdown
 * deadline, when what is left is cut.  A second signal cuts at once.
 *
 * Invariants: worker bases are used by their own thread only (they are
 * created without locks); the main thread talks to workers only through
 * eventfds; connection ids are the start time in microseconds plus a
 * counter, so they are unique within a corpus unless a run opens more than
 * one connection per microsecond on average.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/http.h>

#include "reprise/limits.h"
#include "proxy-int.h"

#define MS (1000000LL)

static _Thread_local char why_buf[512];

void rp_proxy_opts_init(struct rp_proxy_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_conns = RP_LIMIT_PROXY_CONNS;
	o->pool_size = RP_LIMIT_PROXY_POOL;
	o->max_header_bytes = RP_LIMIT_H1_HEADER_BYTES;
	o->max_body = RP_LIMIT_BODY_RECORD;
	o->header_timeout_ms = 30000;
	o->idle_timeout_ms = 60000;
	o->client_timeout_ms = 60000;
	o->connect_timeout_ms = 5000;
	o->upstream_timeout_ms = 60000;
	o->shutdown_timeout_ms = 10000;
}

/* Resolves "HOST:PORT" ("[V6]:PORT" for IPv6).  0, or RP_E_USAGE with
 * why_buf set (naming |what|). */
static int resolve(const char *what, const char *s, int passive, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	char host[256];
	const char *port;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		port = end + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host) || strchr(s, ':') != colon)
			goto bad;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	if (!*port || strspn(port, "0123456789") != strlen(port) || atoi(port) > 65535)
		goto bad;
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc || !res) {
		snprintf(why_buf, sizeof(why_buf), "%s '%s': cannot resolve host: %s", what, s,
			 gai_strerror(rc));
		return RP_E_USAGE;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	snprintf(why_buf, sizeof(why_buf), "%s '%s': expected HOST:PORT (IPv6 as [ADDR]:PORT)", what, s);
	return RP_E_USAGE;
}

static void endpoint_of(const struct sockaddr_storage *ss, struct rp_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ss;
		e->family = 4;
		memcpy(e->addr, &in->sin_addr, 4);
		e->port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)ss;
		e->family = 6;
		memcpy(e->addr, &in6->sin6_addr, 16);
		e->port = ntohs(in6->sin6_port);
	}
}

/* A listening socket on |ss|; -1 with why_buf set. */
static int listen_on(const char *what, const char *text, const struct sockaddr_storage *ss,
		     socklen_t len, int reuseport)
{
	int one = 1;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 1024) < 0)
		goto fail;
	return fd;
fail:
	snprintf(why_buf, sizeof(why_buf), "%s %s: %s", what, text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int rp_proxy_new(const struct rp_proxy_opts *o, struct rp_proxy **out, const char **why)
{
	int rc = RP_E_USAGE;
	struct rp_proxy *px = rp_xcalloc(1, sizeof(*px));
	px->o = *o;
	px->mfd = px->stop_fd = px->done_fd = -1;
	*out = NULL;
	why_buf[0] = '\0';

	if (!o->listen || !o->upstream) {
		snprintf(why_buf, sizeof(why_buf), "--listen and --upstream are required");
		goto out;
	}
	if (resolve("--listen", o->listen, 1, &px->lsa, &px->llen))
		goto out;
	const char *u = o->upstream;
	if (strncmp(u, "https://", 8) == 0) {
		snprintf(why_buf, sizeof(why_buf),
			 "--upstream '%s': TLS to the upstream is not built yet; use http://", u);
		goto out;
	}
	if (strncmp(u, "http://", 7) != 0) {
		snprintf(why_buf, sizeof(why_buf), "--upstream '%s': expected http://HOST:PORT", u);
		goto out;
	}
	char hp[300];
	snprintf(hp, sizeof(hp), "%s", u + 7);
	size_t hl = strlen(hp);
	if (hl && hp[hl - 1] == '/')
		hp[--hl] = '\0';
	if (strchr(hp, '/')) {
		snprintf(why_buf, sizeof(why_buf),
			 "--upstream '%s': a path is not supported; requests keep their own", u);
		goto out;
	}
	if (!strrchr(hp, ':') || (hp[0] == '[' && !strstr(hp, "]:")))
		snprintf(hp + hl, sizeof(hp) - hl, ":80");
	if (resolve("--upstream", hp, 0, &px->usa, &px->ulen))
		goto out;
	endpoint_of(&px->usa, &px->up_ep);
	rp_endpoint_format(&px->up_ep, px->up_text, sizeof(px->up_text));
	snprintf(px->listen_text, sizeof(px->listen_text), "%s", o->listen);

	if (!px->o.workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		px->o.workers = n > 0 ? (unsigned)n : 1;
	}
	if (px->o.workers > 256) {
		snprintf(why_buf, sizeof(why_buf), "--workers %u: at most 256", px->o.workers);
		goto out;
	}
	if (!px->o.max_conns || !px->o.max_header_bytes || !px->o.header_timeout_ms ||
	    !px->o.idle_timeout_ms || !px->o.client_timeout_ms || !px->o.connect_timeout_ms ||
	    !px->o.upstream_timeout_ms) {
		snprintf(why_buf, sizeof(why_buf), "limits and timeouts must be greater than zero");
		goto out;
	}
	px->nw = px->o.workers;
	px->w = rp_xcalloc(px->nw, sizeof(*px->w));
	for (unsigned i = 0; i < px->nw; i++) {
		px->w[i].px = px;
		px->w[i].idx = i;
		px->w[i].ctl_fd = px->w[i].lfd = -1;
	}
	for (unsigned i = 0; i < px->nw; i++) {
		struct worker *w = &px->w[i];
		w->lfd = listen_on("--listen", o->listen, &px->lsa, px->llen, 1);
		if (w->lfd < 0) {
			rc = RP_E_IO;
			goto out;
		}
	}
	if (o->metrics) {
		struct sockaddr_storage ms;
		socklen_t ml;
		char mtext[300];
		/* a bare port means loopback: metrics are not for the world */
		if (strspn(o->metrics, "0123456789") == strlen(o->metrics))
			snprintf(mtext, sizeof(mtext), "127.0.0.1:%s", o->metrics);
		else
			snprintf(mtext, sizeof(mtext), "%s", o->metrics);
		if (resolve("--metrics", mtext, 1, &ms, &ml))
			goto out;
		px->mfd = listen_on("--metrics", mtext, &ms, ml, 0);
		if (px->mfd < 0) {
			rc = RP_E_IO;
			goto out;
		}
	}
	px->start_ns = rp_now_ns();
	px->conn_base = (uint64_t)(px->start_ns / 1000);
	rc = 0;
	*out = px;
	px = NULL;
out:
	if (why)
		*why = why_buf;
	rp_proxy_free(px);
	return rc;
}

void rp_proxy_set_recorder(struct rp_proxy *px, struct rp_recorder *rec, struct rp_store *store)
{
	px->o.recorder = rec;
	px->o.store = store;
}

/* ---- workers ---- */

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	if (!w->draining && w->lfd >= 0 && !w->listening) {
		event_add(w->lev, NULL);
		w->listening = 1;
	}
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 32; i++) {
		if (w->nconns >= w->max_conns) {
			event_del(w->lev);
			w->listening = 0;
			rp_proxy_warn(w, "component=proxy event=conn_limit limit=%u"
					 " msg=\"connection limit reached; accepting paused\"",
				      w->max_conns);
			return;
		}
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* out of descriptors: pause instead of spinning */
				rp_proxy_warn(w, "component=proxy event=accept_failed err=\"%s\""
						 " msg=\"accepting paused for 100 ms\"",
					      strerror(errno));
				event_del(w->lev);
				w->listening = 0;
				struct timeval tv = {0, 100000};
				event_add(w->resume_ev, &tv);
			}
			return;
		}
		rp_proxy_conn_accept(w, cfd, (struct sockaddr *)&ss, len);
	}
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	rp_proxy_worker_abort(arg);
}

static void ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t v = 0;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	if (v >= 2) {
		rp_proxy_worker_abort(w);
		return;
	}
	if (w->draining)
		return;
	if (w->lfd >= 0) {
		if (w->listening)
			event_del(w->lev);
		w->listening = 0;
		close(w->lfd);
		w->lfd = -1;
	}
	struct timeval tv = {(time_t)(w->px->o.shutdown_timeout_ms / 1000),
			     (suseconds_t)(w->px->o.shutdown_timeout_ms % 1000) * 1000};
	event_add(w->deadline_ev, &tv);
	rp_proxy_worker_drain(w);
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	rp_proxy_worker_reap(arg);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	event_base_dispatch(w->base);
	/* the loop ends drained, at the deadline, or on a second signal */
	if (w->nconns || w->idle)
		rp_proxy_worker_abort(w);
	rp_proxy_worker_reap(w);
	uint64_t one = 1;
	if (write(w->px->done_fd, &one, sizeof(one)) < 0)
		rp_log(RP_LOG_ERROR, "component=proxy worker=%u err=\"%s\" while=\"signalling exit\"",
		       w->idx, strerror(errno));
	return NULL;
}

static int worker_setup(struct worker *w)
{
	struct rp_proxy *px = w->px;
	struct event_config *cfg = event_config_new();
	if (!cfg)
		rp_oom();
	/* one thread per base: no locks */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	w->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (!w->base)
		return RP_E_IO;
	w->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ctl_fd < 0)
		return RP_E_IO;
	w->lev = event_new(w->base, w->lfd, EV_READ | EV_PERSIST, accept_cb, w);
	w->ctl_ev = event_new(w->base, w->ctl_fd, EV_READ | EV_PERSIST, ctl_cb, w);
	w->deadline_ev = evtimer_new(w->base, deadline_cb, w);
	w->reap_ev = event_new(w->base, -1, 0, reap_cb, w);
	w->resume_ev = evtimer_new(w->base, accept_resume_cb, w);
	if (!w->lev || !w->ctl_ev || !w->deadline_ev || !w->reap_ev || !w->resume_ev)
		rp_oom();
	event_add(w->lev, NULL);
	w->listening = 1;
	event_add(w->ctl_ev, NULL);
	w->max_conns = (px->o.max_conns + px->nw - 1) / px->nw;
	w->scratch_len = RP_LIMIT_PROXY_READ;
	w->scratch = rp_xmalloc(w->scratch_len);
	rp_h1_options_init(&w->h1req);
	w->h1req.mode = RP_H1_STRICT;
	w->h1req.max_header_bytes = px->o.max_header_bytes;
	w->h1resp = w->h1req;
	/* a head is kept whole until it is forwarded */
	w->in_max = (size_t)RP_LIMIT_H1_START_LINE + px->o.max_header_bytes + 2 * RP_LIMIT_PROXY_READ;
	const struct rp_proxy_opts *o = &px->o;
	w->cgran = (int64_t)RP_MIN(RP_MIN(o->idle_timeout_ms, o->header_timeout_ms), o->client_timeout_ms) * MS;
	w->ugran = (int64_t)RP_MIN(o->connect_timeout_ms, o->upstream_timeout_ms) * MS;
	return 0;
}

/* ---- main thread ---- */

static void begin_shutdown(struct rp_proxy *px)
{
	uint64_t v = px->stopping ? 2 : 1;
	if (!px->stopping)
		rp_log(RP_LOG_INFO,
		       "component=proxy event=shutdown deadline_ms=%u"
		       " msg=\"not accepting; finishing in-flight exchanges\"",
		       px->o.shutdown_timeout_ms);
	else
		rp_log(RP_LOG_INFO, "component=proxy event=shutdown_now msg=\"second signal: cutting\"");
	px->stopping = 1;
	for (unsigned i = 0; i < px->nw; i++)
		if (px->w[i].ctl_fd >= 0 && write(px->w[i].ctl_fd, &v, sizeof(v)) < 0)
			rp_log(RP_LOG_ERROR, "component=proxy worker=%u err=\"%s\" while=\"signalling shutdown\"",
			       i, strerror(errno));
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	begin_shutdown(arg);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t v;
	if (read(fd, &v, sizeof(v)) == sizeof(v))
		begin_shutdown(arg);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rp_proxy *px = arg;
	uint64_t v = 0;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return;
	px->ndone += (unsigned)v;
	if (px->ndone >= px->nw)
		event_base_loopbreak(px->base);
}

int rp_proxy_run(struct rp_proxy *px)
{
	int rc = RP_E_IO;
	sigset_t block, old;
	signal(SIGPIPE, SIG_IGN);
	/* Exchanges are allocated in a worker and freed in the recorder; with
	 * glibc's default thresholds the worker's heap is trimmed and regrown
	 * (madvise, page faults) on every few exchanges.  Keep freed memory. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	px->base = event_base_new();
	px->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	px->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!px->base || px->stop_fd < 0 || px->done_fd < 0)
		goto out;
	for (unsigned i = 0; i < px->nw; i++)
		if (worker_setup(&px->w[i]))
			goto out;
	px->sig_int = evsignal_new(px->base, SIGINT, signal_cb, px);
	px->sig_term = evsignal_new(px->base, SIGTERM, signal_cb, px);
	px->stop_ev = event_new(px->base, px->stop_fd, EV_READ | EV_PERSIST, stop_cb, px);
	px->done_ev = event_new(px->base, px->done_fd, EV_READ | EV_PERSIST, done_cb, px);
	if (!px->sig_int || !px->sig_term || !px->stop_ev || !px->done_ev)
		rp_oom();
	event_add(px->sig_int, NULL);
	event_add(px->sig_term, NULL);
	event_add(px->stop_ev, NULL);
	event_add(px->done_ev, NULL);
	if (px->mfd >= 0 && rp_proxy_metrics_start(px, px->base))
		goto out;

	/* workers leave signals to the main thread */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (unsigned i = 0; i < px->nw; i++) {
		if (pthread_create(&px->w[i].thr, NULL, worker_main, &px->w[i]))
			rp_oom();
		pthread_setname_np(px->w[i].thr, "rp-proxy"); /* top -H, perf */
		px->w[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	rp_log(RP_LOG_INFO, "component=proxy event=listening listen=%s upstream=%s workers=%u",
	       px->listen_text, px->up_text, px->nw);

	event_base_dispatch(px->base);
	for (unsigned i = 0; i < px->nw; i++)
		if (px->w[i].started) {
			pthread_join(px->w[i].thr, NULL);
			px->w[i].started = 0;
		}
	rc = 0;
out:
	if (rc)
		rp_log(RP_LOG_ERROR, "component=proxy err=\"%s\" while=\"starting\"", strerror(errno));
	return rc;
}

void rp_proxy_stop(struct rp_proxy *px)
{
	uint64_t one = 1;
	if (px && px->stop_fd >= 0 && write(px->stop_fd, &one, sizeof(one)) < 0)
		rp_log(RP_LOG_ERROR, "component=proxy err=\"%s\" while=\"requesting stop\"", strerror(errno));
}

void rp_proxy_get_stats(struct rp_proxy *px, struct rp_proxy_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < px->nw; i++) {
		struct rp_proxy_counters *c = &px->w[i].st;
#define V(s) atomic_load_explicit(&c->v[s], memory_order_relaxed)
		out->accepted += V(RP_PST_ACCEPTED);
		for (int k = 0; k < 6; k++)
			out->requests[k] += V(RP_PST_RESP0 + k);
		out->bad_requests += V(RP_PST_BAD_REQUEST);
		out->upstream_errors += V(RP_PST_UPSTREAM_CONNECT) + V(RP_PST_UPSTREAM_ERROR);
		out->upstream_timeouts += V(RP_PST_UPSTREAM_TIMEOUT);
		out->client_aborts += V(RP_PST_CLIENT_ABORT) + V(RP_PST_CLIENT_TIMEOUT);
#undef V
	}
}

void rp_proxy_free(struct rp_proxy *px)
{
	if (!px)
		return;
	for (unsigned i = 0; px->w && i < px->nw; i++) {
		struct worker *w = &px->w[i];
		if (w->started)
			continue; /* never free what a running thread uses */
		if (w->lev)
			event_free(w->lev);
		if (w->ctl_ev)
			event_free(w->ctl_ev);
		if (w->deadline_ev)
			event_free(w->deadline_ev);
		if (w->reap_ev)
			event_free(w->reap_ev);
		if (w->resume_ev)
			event_free(w->resume_ev);
		if (w->base)
			event_base_free(w->base);
		if (w->lfd >= 0)
			close(w->lfd);
		if (w->ctl_fd >= 0)
			close(w->ctl_fd);
		free(w->scratch);
	}
	if (px->http)
		evhttp_free(px->http);
	if (px->sig_int)
		event_free(px->sig_int);
	if (px->sig_term)
		event_free(px->sig_term);
	if (px->stop_ev)
		event_free(px->stop_ev);
	if (px->done_ev)
		event_free(px->done_ev);
	if (px->base)
		event_base_free(px->base);
	if (px->mfd >= 0 && !px->http)
		close(px->mfd);
	if (px->stop_fd >= 0)
		close(px->stop_fd);
	if (px->done_fd >= 0)
		close(px->done_fd);
	free(px->w);
	free(px);
}
