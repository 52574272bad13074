/*
 * demo: `reprise demo` shows the whole loop with nothing to set up.  It
 * starts a small JSON shop service inside this process (v1 and v2 on two
 * loopback ports, on a libevent thread), records traffic to v1 through
 * `reprise proxy` (this same binary, run as a child process) into a
 * temporary corpus, replays the corpus against v2 with a noise rule, and
 * explains the report: v2's one real regression (order totals leave out the
 * shipping fee) is caught, and the field that differs on every call (a
 * generated_at timestamp) is ignored as noise.  Everything lives under one
 * temporary directory, removed at the end (unless --keep), and every
 * process and thread it starts is stopped by it.  Exit 0 when the demo
 * showed what it should; 1 when it did not; 2 for usage; 3 when the service
 * or the proxy could not start.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-int.h"
#include "reprise/http1.h"

static const char cmd[] = "demo";

#define USERS 8
#define PRODUCTS 8
#define ORDERS 8
#define ROUNDS 2
#define CLIENT_CONNS 3

static void usage(FILE *f)
{
	fprintf(f, "usage: reprise demo [--keep]\n\n"
		   "Record, change, replay, diff: a sample JSON service (v1 and v2) runs in this\n"
		   "process, traffic to v1 is recorded through 'reprise proxy', and the corpus is\n"
		   "replayed against v2 with a noise rule.  Needs nothing else; takes a few\n"
		   "seconds; cleans up after itself.\n\n"
		   "options:\n"
		   "  --keep            keep the temporary corpus, report and noise file, and\n"
		   "                    print commands to explore them\n"
		   "  --help            show this help\n\n"
		   "exit codes: 0 the regression was caught and the noise ignored, 1 it was not,\n"
		   "2 usage, 3 the service or the proxy could not start\n");
}

/* ---- the sample service ---- */

struct service {
	struct event_base *base;
	struct evhttp *http[2];
	int version[2];
	uint16_t port[2];
	pthread_t thread;
	int running;
};

static void now_rfc3339(char *out, size_t n)
{
	rp_time_format(rp_now_ns(), out, n);
}

static void reply_json(struct evhttp_request *req, int code, const char *reason, struct evbuffer *b)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evhttp_send_reply(req, code, reason, b);
}

static void handle(struct evhttp_request *req, void *arg)
{
	int v = *(const int *)arg;
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *b = evbuffer_new();
	char ts[40];
	unsigned id = 0;
	char tail[8] = "";

	now_rfc3339(ts, sizeof(ts));
	if (sscanf(uri, "/api/users/%u%1s", &id, tail) == 1 && id >= 1 && id <= USERS) {
		evbuffer_add_printf(b,
				    "{\"id\":%u,\"name\":\"Customer %u\",\"plan\":\"%s\","
				    "\"orders\":%u,\"generated_at\":\"%s\"}",
				    id, id, id % 3 ? "basic" : "pro", id * 2, ts);
	} else if (sscanf(uri, "/api/products/%u%1s", &id, tail) == 1 && id >= 1 && id <= PRODUCTS) {
		evbuffer_add_printf(b,
				    "{\"id\":%u,\"name\":\"Product %u\",\"price\":%.2f,"
				    "\"currency\":\"EUR\",\"tags\":[\"demo\",\"shop\"]}",
				    id, id, 4.5 + id * 2.25);
	} else if (sscanf(uri, "/api/orders/%u%1s", &id, tail) == 1 && id >= 1 && id <= ORDERS) {
		double subtotal = 0;
		evbuffer_add_printf(b, "{\"id\":%u,\"items\":[", id);
		for (unsigned k = 0; k <= id % 3; k++) {
			double price = 4.5 + (id + k) * 2.25;
			subtotal += price * (k + 1);
			evbuffer_add_printf(b, "%s{\"product\":%u,\"qty\":%u,\"price\":%.2f}", k ? "," : "",
					    id + k, k + 1, price);
		}
		double shipping = 4.95;
		/* the regression: v2 forgets the shipping fee in the total */
		double total = v == 2 ? subtotal : subtotal + shipping;
		evbuffer_add_printf(b,
				    "],\"subtotal\":%.2f,\"shipping\":%.2f,\"total\":%.2f,"
				    "\"generated_at\":\"%s\"}",
				    subtotal, shipping, total, ts);
	} else if (strcmp(uri, "/health") == 0) {
		evbuffer_add_printf(b, "{\"status\":\"ok\"}");
	} else {
		evbuffer_add_printf(b, "{\"error\":\"not found\"}");
		reply_json(req, 404, "Not Found", b);
		evbuffer_free(b);
		return;
	}
	reply_json(req, 200, "OK", b);
	evbuffer_free(b);
}

static void *service_main(void *arg)
{
	struct service *s = arg;
	event_base_dispatch(s->base);
	return NULL;
}

static int service_start(struct service *s)
{
	memset(s, 0, sizeof(*s));
	if (evthread_use_pthreads() != 0)
		return -1;
	s->base = event_base_new();
	if (!s->base)
		return -1;
	for (int i = 0; i < 2; i++) {
		s->version[i] = i + 1;
		s->http[i] = evhttp_new(s->base);
		struct evhttp_bound_socket *h =
			s->http[i] ? evhttp_bind_socket_with_handle(s->http[i], "127.0.0.1", 0) : NULL;
		if (!h)
			return -1;
		struct sockaddr_in a;
		socklen_t len = sizeof(a);
		if (getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&a, &len) != 0)
			return -1;
		s->port[i] = ntohs(a.sin_port);
		evhttp_set_gencb(s->http[i], handle, &s->version[i]);
	}
	if (pthread_create(&s->thread, NULL, service_main, s) != 0)
		return -1;
	s->running = 1;
	return 0;
}

static void service_stop(struct service *s)
{
	if (s->running) {
		event_base_loopbreak(s->base); /* thread-safe: evthread_use_pthreads */
		pthread_join(s->thread, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (s->http[i])
			evhttp_free(s->http[i]);
	if (s->base)
		event_base_free(s->base);
}

/* ---- the proxy, as a child process of this binary ---- */

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	uint16_t port = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int connect_to(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static pid_t proxy_start(const char *dir, uint16_t listen_port, uint16_t upstream_port)
{
	char listen[32], upstream[64], db[4096], log[4096];
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", listen_port);
	snprintf(upstream, sizeof(upstream), "http://127.0.0.1:%u", upstream_port);
	snprintf(db, sizeof(db), "%s/corpus", dir);
	snprintf(log, sizeof(log), "%s/proxy.log", dir);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl("/proc/self/exe", "reprise", "proxy", "--listen", listen, "--upstream", upstream,
		      "--db", db, "--no-masks", "--workers", "1", "--shutdown-timeout", "2s",
		      (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	/* wait until it accepts connections (or exits) */
	for (int i = 0; i < 200; i++) {
		int fd = connect_to(listen_port);
		if (fd >= 0) {
			close(fd);
			return pid;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		poll(NULL, 0, 25);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* Stops the proxy (SIGTERM: it flushes the corpus) and reaps it.  0 when it
 * exited cleanly. */
static int proxy_stop(pid_t pid)
{
	int status = 0;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
		poll(NULL, 0, 25);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* ---- the traffic ---- */

/* Sends one GET on |fd| and reads its response.  Returns the status, or
 * -1 on error. */
static int get(int fd, const char *path)
{
	char req[256];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: shop.demo\r\nAccept: application/json\r\n"
			 "User-Agent: reprise-demo\r\n\r\n", path);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	struct rp_h1_parser p;
	struct rp_h1_options opt;
	rp_h1_options_init(&opt);
	opt.mode = RP_H1_LENIENT;
	rp_h1_init(&p, RP_H1_RESPONSE, &opt);
	static uint8_t buf[256 * 1024];
	size_t len = 0, off = 0;
	int status = -1;
	for (;;) {
		struct rp_h1_event ev;
		ssize_t r = rp_h1_parse(&p, buf + off, len - off, &ev);
		if (r >= 0) {
			off += (size_t)r;
			if (ev.type == RP_H1_EV_STATUS_LINE)
				status = ev.u.status.status;
			if (ev.type == RP_H1_EV_MESSAGE_DONE)
				return status;
			continue;
		}
		if (r != RP_E_AGAIN)
			return -1;
		memmove(buf, buf + off, len - off);
		len -= off;
		off = 0;
		if (len == sizeof(buf))
			return -1;
		ssize_t k = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (k <= 0)
			return -1;
		len += (size_t)k;
	}
}

/* Browses the shop through the proxy: a few keep-alive connections, each
 * visiting users, products and orders.  Returns the requests answered. */
static int drive(uint16_t port)
{
	int answered = 0;
	char path[64];
	for (int c = 0; c < CLIENT_CONNS; c++) {
		int fd = connect_to(port);
		if (fd < 0)
			return answered;
		for (int round = 0; round < ROUNDS; round++)
			for (int i = 1 + c; i <= USERS; i += CLIENT_CONNS) {
				snprintf(path, sizeof(path), "/api/users/%d", i);
				answered += get(fd, path) == 200;
				snprintf(path, sizeof(path), "/api/products/%d", i);
				answered += get(fd, path) == 200;
				snprintf(path, sizeof(path), "/api/orders/%d", i);
				answered += get(fd, path) == 200;
			}
		answered += get(fd, "/health") == 200;
		close(fd);
	}
	return answered;
}

/* ---- cleanup ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- reading the report back ---- */

struct findings {
	uint64_t replayed, differ;
	char caught_route[128], caught_path[128];
	uint64_t caught_n;
	uint64_t noise_n;
	int ok;
};

static void read_report(const char *path, struct findings *f)
{
	json_error_t e;
	json_t *r = json_load_file(path, 0, &e);
	memset(f, 0, sizeof(*f));
	if (!r)
		return;
	json_t *s = json_object_get(r, "summary");
	f->replayed = (uint64_t)json_integer_value(json_object_get(s, "replayed"));
	f->differ = (uint64_t)json_integer_value(json_object_get(s, "differ"));
	size_t i;
	json_t *rt;
	json_array_foreach(json_object_get(r, "routes"), i, rt) {
		json_t *p0 = json_array_get(json_object_get(rt, "paths"), 0);
		if (p0 && !f->caught_n) {
			snprintf(f->caught_route, sizeof(f->caught_route), "%s",
				 json_string_value(json_object_get(rt, "route")));
			snprintf(f->caught_path, sizeof(f->caught_path), "%s",
				 json_string_value(json_object_get(p0, "path")));
			f->caught_n = (uint64_t)json_integer_value(json_object_get(p0, "count"));
		}
		size_t j;
		json_t *np;
		json_array_foreach(json_object_get(rt, "noise_paths"), j, np)
			if (strcmp(json_string_value(json_object_get(np, "path")), "$.generated_at") == 0)
				f->noise_n += (uint64_t)json_integer_value(json_object_get(np, "count"));
	}
	f->ok = f->differ == f->caught_n && f->caught_n > 0 &&
		strcmp(f->caught_route, "GET /api/orders/{id}") == 0 &&
		strcmp(f->caught_path, "$.total") == 0 && f->noise_n > 0;
	json_decref(r);
}

int rp_cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{"keep", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int keep = 0, c, rc = RP_EXIT_OK;
	struct service svc;
	pid_t proxy = -1;
	char dir[] = "/tmp/reprise-demo.XXXXXX";
	char *base = NULL;
	int have_dir = 0, have_svc = 0;
	int64_t t0 = rp_mono_ns();

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keep = 1; break;
		case 'h': usage(stdout); return RP_EXIT_OK;
		default: return rp_cli_bad_option(cmd, c, argv);
		}
	}
	if (optind < argc)
		return rp_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);

	const char *tmpdir = getenv("TMPDIR");
	if (tmpdir && *tmpdir) {
		size_t n = strlen(tmpdir) + 32;
		base = rp_xmalloc(n);
		snprintf(base, n, "%s/reprise-demo.XXXXXX", tmpdir);
	}
	if (!mkdtemp(base ? base : dir)) {
		rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "cannot create a temporary directory: %s",
				 strerror(errno));
		goto out;
	}
	have_dir = 1;
	const char *d = base ? base : dir;

	have_svc = 1; /* service_stop undoes a partial start too */
	if (service_start(&svc) != 0) {
		rc = rp_cli_fail(cmd, RP_EXIT_UNREACHABLE, "the sample service could not start");
		goto out;
	}
	printf("1. sample shop service running in this process: v1 on 127.0.0.1:%u, v2 on "
	       "127.0.0.1:%u\n   (v2 has a bug: order totals leave out the shipping fee)\n",
	       svc.port[0], svc.port[1]);

	uint16_t pport = free_port();
	proxy = proxy_start(d, pport, svc.port[0]);
	if (proxy < 0) {
		rc = rp_cli_fail(cmd, RP_EXIT_UNREACHABLE, "reprise proxy could not start (see %s/proxy.log)",
				 d);
		keep = 1;
		goto out;
	}
	int answered = drive(pport);
	int stopped = proxy_stop(proxy);
	proxy = -1;
	printf("2. recorded %d requests to v1 through 'reprise proxy --listen 127.0.0.1:%u "
	       "--upstream http://127.0.0.1:%u'\n   into %s/corpus\n",
	       answered, pport, svc.port[0], d);
	if (stopped != 0 || answered == 0) {
		rc = rp_cli_fail(cmd, RP_EXIT_UNREACHABLE, "recording failed (see %s/proxy.log)", d);
		keep = 1;
		goto out;
	}

	char noise[4200], report[4200], db[4200], target[64];
	snprintf(noise, sizeof(noise), "%s/demo.noise", d);
	snprintf(report, sizeof(report), "%s/report.json", d);
	snprintf(db, sizeof(db), "%s/corpus", d);
	snprintf(target, sizeof(target), "http://127.0.0.1:%u", svc.port[1]);
	FILE *nf = fopen(noise, "w");
	if (!nf) {
		rc = rp_cli_fail(cmd, RP_EXIT_USAGE, "%s: %s", noise, strerror(errno));
		goto out;
	}
	fprintf(nf, "# generated_at is stamped on every response: never the same twice\n"
		    "ignore json $.generated_at\n");
	fclose(nf);
	printf("3. replaying them against v2 with the noise rule 'ignore json $.generated_at':\n"
	       "   reprise replay --db %s --target %s --noise %s\n\n", db, target, noise);
	fflush(stdout);
	char a0[] = "replay", a1[] = "--db", a3[] = "--target", a5[] = "--noise", a7[] = "--report";
	char *rargv[] = {a0, a1, db, a3, target, a5, noise, a7, report, NULL};
	int rrc = rp_cmd_replay((int)RP_ARRAY_LEN(rargv) - 1, rargv);
	fflush(stdout);

	struct findings f;
	read_report(report, &f);
	printf("\n");
	if (rrc == RP_EXIT_REGRESSION && f.ok) {
		printf("=> the regression was caught: %s differs at %s in %llu of %llu exchanges\n",
		       f.caught_route, f.caught_path, (unsigned long long)f.caught_n,
		       (unsigned long long)f.replayed);
		printf("=> the noise was ignored: $.generated_at differed in %llu exchanges and did "
		       "not count\n", (unsigned long long)f.noise_n);
		printf("   (in CI, 'reprise replay' exits 1 here; --fail-under PCT sets the bar, "
		       "--junit FILE.xml reports per route)\n");
	} else {
		printf("=> the demo did not show what it should (replay exit %d); the files are kept "
		       "in %s\n", rrc, d);
		keep = 1;
		rc = RP_EXIT_REGRESSION;
	}
	if (keep && rc == RP_EXIT_OK)
		printf("\nkept in %s; try:\n  reprise ls --db %s\n  reprise show --db %s 1\n"
		       "  python3 -m json.tool %s\n", d, db, db, report);
	printf("\ndemo finished in %.1f s\n", (double)(rp_mono_ns() - t0) / 1e9);
out:
	if (proxy > 0)
		proxy_stop(proxy);
	if (have_svc)
		service_stop(&svc);
	if (have_dir && !keep)
		nftw(base ? base : dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(base);
	return rc;
}
