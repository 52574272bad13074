/*
 * h1_driver: plays the caller of rp_h1_parse for tests (see h1_driver.h).
 * Invariant kept while driving: the bytes handed to the parser are always
 * the unconsumed tail followed by the new read, in a block allocated for
 * this call only and freed before the next, so stale slices fault.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h1_driver.h"

void h1_str_add(struct h1_str *s, const void *p, size_t n)
{
	if (s->n + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 64;
		while (cap < s->n + n + 1)
			cap *= 2;
		s->p = realloc(s->p, cap);
		if (!s->p)
			abort();
		s->cap = cap;
	}
	if (n)
		memcpy(s->p + s->n, p, n);
	s->n += n;
	s->p[s->n] = 0;
}

void h1_str_addf(struct h1_str *s, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (w > 0)
		h1_str_add(s, tmp, (size_t)w < sizeof(tmp) ? (size_t)w : sizeof(tmp) - 1);
}

void h1_str_free(struct h1_str *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

/* Appends |p|[0..n) to the log, escaped. */
static void log_bytes(struct h1_str *log, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			h1_str_add(log, &c, 1);
		else
			h1_str_addf(log, "\\x%02x", c);
	}
}

static void log_slice(struct h1_str *log, struct rp_slice s)
{
	h1_str_add(log, "\"", 1);
	log_bytes(log, s.p, s.n);
	h1_str_add(log, "\"", 1);
}

static struct h1_message *new_msg(struct h1_result *res)
{
	res->msgs = realloc(res->msgs, (res->nmsgs + 1) * sizeof(*res->msgs));
	if (!res->msgs)
		abort();
	struct h1_message *m = &res->msgs[res->nmsgs++];
	memset(m, 0, sizeof(*m));
	return m;
}

static void add_field(struct h1_field **v, size_t *n, struct rp_slice name, struct rp_slice value)
{
	*v = realloc(*v, (*n + 1) * sizeof(**v));
	if (!*v)
		abort();
	struct h1_field *f = &(*v)[(*n)++];
	memset(f, 0, sizeof(*f));
	h1_str_add(&f->name, name.p, name.n);
	h1_str_add(&f->value, value.p, value.n);
}

/* Keeps the state of one drive: pending merged data for the log. */
struct drive {
	struct h1_result *res;
	int pending; /* 0 none, 1 body, 2 tunnel */
	struct h1_str data;
};

static void flush_data(struct drive *d)
{
	if (!d->pending)
		return;
	h1_str_addf(&d->res->log, "%s ", d->pending == 1 ? "BODY" : "TUNNEL");
	h1_str_add(&d->res->log, "\"", 1);
	log_bytes(&d->res->log, d->data.p, d->data.n);
	h1_str_add(&d->res->log, "\"\n", 2);
	d->data.n = 0;
	d->pending = 0;
}

static void record(struct drive *d, const struct rp_h1_event *ev)
{
	struct h1_result *res = d->res;
	struct h1_str *log = &res->log;
	struct h1_message *m = res->nmsgs ? &res->msgs[res->nmsgs - 1] : NULL;
	char an[512];

	if (ev->type == RP_H1_EV_BODY || ev->type == RP_H1_EV_TUNNEL) {
		int kind = ev->type == RP_H1_EV_BODY ? 1 : 2;
		if (d->pending != kind)
			flush_data(d);
		d->pending = kind;
		h1_str_add(&d->data, ev->u.data.p, ev->u.data.n);
		if (kind == 1 && m)
			h1_str_add(&m->body, ev->u.data.p, ev->u.data.n);
		if (kind == 2) {
			res->tunnel = 1;
			h1_str_add(&res->tunnel_data, ev->u.data.p, ev->u.data.n);
		}
		return;
	}
	flush_data(d);
	switch (ev->type) {
	case RP_H1_EV_REQUEST_LINE:
		m = new_msg(res);
		h1_str_add(&m->method, ev->u.req.method.p, ev->u.req.method.n);
		h1_str_add(&m->target, ev->u.req.target.p, ev->u.req.target.n);
		m->major = ev->u.req.major;
		m->minor = ev->u.req.minor;
		h1_str_add(log, "REQUEST ", 8);
		log_slice(log, ev->u.req.method);
		h1_str_add(log, " ", 1);
		log_slice(log, ev->u.req.target);
		h1_str_addf(log, " %s m=%s\n", rp_h1_version_name(ev->u.req.major, ev->u.req.minor),
			    rp_h1_method_name(ev->u.req.m));
		break;
	case RP_H1_EV_STATUS_LINE:
		m = new_msg(res);
		m->status = ev->u.status.status;
		h1_str_add(&m->reason, ev->u.status.reason.p, ev->u.status.reason.n);
		m->major = ev->u.status.major;
		m->minor = ev->u.status.minor;
		h1_str_addf(log, "STATUS %s %u ", rp_h1_version_name(ev->u.status.major, ev->u.status.minor),
			    ev->u.status.status);
		log_slice(log, ev->u.status.reason);
		h1_str_add(log, "\n", 1);
		break;
	case RP_H1_EV_HEADER:
	case RP_H1_EV_TRAILER:
		if (ev->type == RP_H1_EV_HEADER)
			add_field(&m->fields, &m->nfields, ev->u.field.name, ev->u.field.value);
		else
			add_field(&m->trailers, &m->ntrailers, ev->u.field.name, ev->u.field.value);
		h1_str_add(log, ev->type == RP_H1_EV_HEADER ? "FIELD " : "TRAILER ", ev->type == RP_H1_EV_HEADER ? 6 : 8);
		log_slice(log, ev->u.field.name);
		h1_str_add(log, " ", 1);
		log_slice(log, ev->u.field.value);
		h1_str_add(log, "\n", 1);
		break;
	case RP_H1_EV_HEADERS_DONE:
		m->headers_done = 1;
		m->msg = *ev->u.msg;
		h1_str_addf(log, "HEADERS_DONE body=%d cl=%llu flags=%#x anomalies=%s\n", (int)ev->u.msg->body,
			    (unsigned long long)ev->u.msg->content_length, ev->u.msg->flags,
			    rp_h1_anomalies_format(ev->u.msg->anomalies, an, sizeof(an)));
		break;
	case RP_H1_EV_CHUNK:
		h1_str_addf(log, "CHUNK %llu ", (unsigned long long)ev->u.chunk.size);
		log_slice(log, ev->u.chunk.ext);
		h1_str_add(log, "\n", 1);
		break;
	case RP_H1_EV_MESSAGE_DONE:
		m->complete = 1;
		m->msg = *ev->u.msg;
		res->anomalies |= ev->u.msg->anomalies;
		h1_str_addf(log, "MESSAGE_DONE body_len=%llu flags=%#x anomalies=%s\n",
			    (unsigned long long)ev->u.msg->body_len, ev->u.msg->flags,
			    rp_h1_anomalies_format(ev->u.msg->anomalies, an, sizeof(an)));
		break;
	case RP_H1_EV_PAUSED:
		res->paused = 1;
		h1_str_add(log, "PAUSED\n", 7);
		break;
	default:
		h1_str_addf(log, "UNKNOWN %d\n", (int)ev->type);
		break;
	}
}

static uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* Parses whatever |held| holds; keeps the unconsumed tail in it.  Returns
 * 0 to go on, -1 after an error. */
static int feed(struct drive *d, const struct h1_run *run, struct rp_h1_parser *p, struct h1_str *held)
{
	size_t off = 0;
	struct rp_h1_event ev;
	for (;;) {
		if (run->kind == RP_H1_RESPONSE && p->state == RP_H1_S_START)
			rp_h1_set_method(p, run->method);
		ssize_t r = rp_h1_parse(p, held->p + off, held->n - off, &ev);
		if (r == RP_E_AGAIN)
			break;
		if (r < 0) {
			flush_data(d);
			d->res->end = H1_END_ERROR;
			d->res->err = p->err;
			h1_str_addf(&d->res->log, "ERROR %s state=%s limit=%s offset=%llu: %s\n", rp_err_name((int)r),
				    rp_h1_state_name(p->err.state), rp_h1_limit_name(p->err.limit),
				    (unsigned long long)p->err.offset, rp_h1_reason(p));
			return -1;
		}
		off += (size_t)r;
		record(d, &ev);
		if (ev.type == RP_H1_EV_PAUSED)
			rp_h1_resume(p, run->tunnel);
	}
	/* keep the tail: a new block, so that old slices become invalid */
	struct h1_str tail = {0};
	h1_str_add(&tail, held->p + off, held->n - off);
	h1_str_free(held);
	*held = tail;
	if (held->n > d->res->max_kept)
		d->res->max_kept = held->n;
	return 0;
}

void h1_drive(const struct h1_run *run, const uint8_t *in, size_t n, struct h1_result *res)
{
	struct rp_h1_parser p;
	struct drive d = {res, 0, {0}};
	struct h1_str held = {0};
	uint32_t seed = run->seed * 2654435761u + 1;
	int failed = 0;

	memset(res, 0, sizeof(*res));
	rp_h1_init(&p, run->kind, &run->opt);
	size_t i = 0;
	while (i < n && !failed) {
		size_t step = n - i;
		if (run->split == H1_SPLIT_BYTES)
			step = 1;
		else if (run->split == H1_SPLIT_RANDOM)
			step = 1 + rnd(&seed) % (rnd(&seed) % 4 == 0 ? n : 16);
		if (step > n - i)
			step = n - i;
		h1_str_add(&held, in + i, step);
		i += step;
		failed = feed(&d, run, &p, &held) < 0;
	}
	if (!failed && n == 0)
		failed = feed(&d, run, &p, &held) < 0;
	flush_data(&d);
	if (!failed && run->finish) {
		struct rp_h1_event ev;
		int r = rp_h1_finish(&p, &ev);
		if (r == 1) {
			record(&d, &ev);
			h1_str_add(&res->log, "FINISH message\n", 15);
		} else if (r == 0) {
			h1_str_add(&res->log, "FINISH clean\n", 13);
		} else {
			res->end = H1_END_FINISH_ERROR;
			res->err = p.err;
			h1_str_addf(&res->log, "FINISH error state=%s: %s\n", rp_h1_state_name(p.err.state),
				    rp_h1_reason(&p));
		}
	}
	if (p.state == RP_H1_S_TUNNEL)
		res->tunnel = 1;
	res->anomalies |= p.msg.anomalies | p.carry;
	h1_str_free(&held);
	h1_str_free(&d.data);
}

static void free_fields(struct h1_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h1_str_free(&f[i].name);
		h1_str_free(&f[i].value);
	}
	free(f);
}

static void free_msgs(struct h1_message *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h1_str_free(&m[i].method);
		h1_str_free(&m[i].target);
		h1_str_free(&m[i].reason);
		h1_str_free(&m[i].body);
		free_fields(m[i].fields, m[i].nfields);
		free_fields(m[i].trailers, m[i].ntrailers);
	}
	free(m);
}

void h1_result_free(struct h1_result *res)
{
	free_msgs(res->msgs, res->nmsgs);
	h1_str_free(&res->log);
	h1_str_free(&res->tunnel_data);
	memset(res, 0, sizeof(*res));
}

int h1_drive_all(const struct h1_run *run, const uint8_t *in, size_t n, unsigned nseeds,
		 struct h1_result *res, char *why, size_t whylen)
{
	struct h1_run r = *run;
	r.split = H1_SPLIT_WHOLE;
	h1_drive(&r, in, n, res);
	for (unsigned k = 0; k <= nseeds; k++) {
		struct h1_result other;
		r.split = k == 0 ? H1_SPLIT_BYTES : H1_SPLIT_RANDOM;
		r.seed = k;
		h1_drive(&r, in, n, &other);
		int same = other.log.n == res->log.n && memcmp(other.log.p, res->log.p, res->log.n) == 0;
		if (!same) {
			snprintf(why, whylen, "%s feed (seed %u) differs from whole feed:\n--- whole\n%s--- split\n%s",
				 k == 0 ? "byte-by-byte" : "random", k, (char *)res->log.p, (char *)other.log.p);
			h1_result_free(&other);
			return -1;
		}
		h1_result_free(&other);
	}
	return 0;
}

void h1_value_normalise(const struct h1_str *in, struct h1_str *out)
{
	uint8_t *tmp = malloc(in->n + 1);
	if (!tmp)
		abort();
	size_t n = rp_h1_unfold(rp_slice(in->p, in->n), tmp);
	int ws = 0;
	for (size_t i = 0; i < n; i++) {
		if (tmp[i] == ' ' || tmp[i] == '\t') {
			ws = 1;
			continue;
		}
		if (ws && out->n)
			h1_str_add(out, " ", 1);
		ws = 0;
		h1_str_add(out, &tmp[i], 1);
	}
	if (!out->p)
		h1_str_add(out, "", 0);
	free(tmp);
}

/* ---- vector files --------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads one quoted string at *s into |out|; advances *s. */
static int read_qstr(const char **s, struct h1_str *out)
{
	const char *p = *s;
	while (*p == ' ')
		p++;
	if (*p != '"')
		return -1;
	p++;
	h1_str_add(out, "", 0);
	while (*p && *p != '"') {
		if (*p == '\\') {
			p++;
			if (*p == 'x') {
				int hi = hexval(p[1]), lo = hexval(p[2]);
				if (hi < 0 || lo < 0)
					return -1;
				uint8_t c = (uint8_t)(hi * 16 + lo);
				h1_str_add(out, &c, 1);
				p += 3;
				continue;
			}
			if (*p != '\\' && *p != '"')
				return -1;
		}
		h1_str_add(out, p, 1);
		p++;
	}
	if (*p != '"')
		return -1;
	*s = p + 1;
	return 0;
}

static void copy_word(char *dst, size_t cap, const char *s)
{
	while (*s == ' ')
		s++;
	size_t i = 0;
	while (s[i] && s[i] != '\n' && i + 1 < cap) {
		dst[i] = s[i];
		i++;
	}
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = 0;
}

/* Applies one line of a vector file to the vectors read so far.  Returns
 * 0, or -1 when the line is malformed. */
static int vector_line(struct h1_vector **v, size_t *n, const char *line)
{
	struct h1_str tmp = {0}, tmp2 = {0};
	int rc = -1;
	const char *s = line;
	int indented = *s == ' ';
	while (*s == ' ')
		s++;
	if (*s == 0 || *s == '#')
		return 0;
	const char *arg = strchr(s, ' ');
	size_t kw = arg ? (size_t)(arg - s) : strlen(s);
	arg = arg ? arg + 1 : s + kw;
#define KW(w) (kw == sizeof(w) - 1 && memcmp(s, w, kw) == 0)
	if (KW("case")) {
		*v = realloc(*v, (*n + 1) * sizeof(**v));
		if (!*v)
			abort();
		struct h1_vector *c = &(*v)[(*n)++];
		memset(c, 0, sizeof(*c));
		copy_word(c->id, sizeof(c->id), arg);
		return 0;
	}
	if (*n == 0)
		goto out;
	struct h1_vector *cur = &(*v)[*n - 1];
	struct h1_message *m = cur->nmsgs ? &cur->msgs[cur->nmsgs - 1] : NULL;
	if (KW("name")) {
		if (read_qstr(&arg, &tmp) < 0)
			goto out;
		snprintf(cur->name, sizeof(cur->name), "%s", (char *)tmp.p);
	} else if (KW("type")) {
		copy_word(cur->type, sizeof(cur->type), arg);
	} else if (KW("verdict")) {
		copy_word(cur->reason, sizeof(cur->reason), arg);
	} else if (KW("opts")) {
		cur->head = strstr(arg, "head") != NULL;
		cur->finish = strstr(arg, "finish") != NULL;
		cur->pause = strstr(arg, "pause") != NULL;
	} else if (KW("input")) {
		if (read_qstr(&arg, &cur->input) < 0)
			goto out;
	} else if (KW("msg") && !indented) {
		cur->msgs = realloc(cur->msgs, (cur->nmsgs + 1) * sizeof(*cur->msgs));
		if (!cur->msgs)
			abort();
		memset(&cur->msgs[cur->nmsgs++], 0, sizeof(*cur->msgs));
	} else if (KW("end")) {
		const char *q = strchr(arg, ' ');
		size_t w = q ? (size_t)(q - arg) : strlen(arg);
		if (w >= sizeof(cur->end))
			goto out;
		memcpy(cur->end, arg, w);
		cur->end[w] = 0;
		if (q) {
			if (read_qstr(&q, &tmp) < 0)
				goto out;
			snprintf(cur->end_why, sizeof(cur->end_why), "%s", (char *)tmp.p);
		}
	} else if (indented && m) {
		if (KW("method")) {
			if (read_qstr(&arg, &m->method) < 0)
				goto out;
		} else if (KW("url")) {
			if (read_qstr(&arg, &m->target) < 0)
				goto out;
		} else if (KW("reason")) {
			if (read_qstr(&arg, &m->reason) < 0)
				goto out;
		} else if (KW("hdr") || KW("trl")) {
			if (read_qstr(&arg, &tmp) < 0 || read_qstr(&arg, &tmp2) < 0)
				goto out;
			if (KW("hdr"))
				add_field(&m->fields, &m->nfields, rp_slice(tmp.p, tmp.n), rp_slice(tmp2.p, tmp2.n));
			else
				add_field(&m->trailers, &m->ntrailers, rp_slice(tmp.p, tmp.n), rp_slice(tmp2.p, tmp2.n));
		} else if (KW("status")) {
			m->status = (uint16_t)atoi(arg);
		} else if (KW("version")) {
			int a = 0, b = 0;
			if (sscanf(arg, "%d %d", &a, &b) != 2)
				goto out;
			m->major = (uint8_t)a;
			m->minor = (uint8_t)b;
		} else if (KW("chunked")) {
			m->msg.flags |= RP_H1_F_CHUNKED;
		} else if (KW("length")) {
			m->msg.flags |= RP_H1_F_CONTENT_LENGTH;
			m->msg.content_length = strtoull(arg, NULL, 10);
		} else if (KW("headers_done")) {
			m->headers_done = 1;
		} else if (KW("body")) {
			if (read_qstr(&arg, &m->body) < 0)
				goto out;
		} else if (KW("complete")) {
			m->complete = 1;
		} else {
			goto out;
		}
	} else {
		goto out;
	}
#undef KW
	rc = 0;
out:
	h1_str_free(&tmp);
	h1_str_free(&tmp2);
	return rc;
}

int h1_vectors_load(const char *path, struct h1_vector **out, size_t *nout)
{
	struct h1_vector *v = NULL;
	size_t n = 0, lineno = 0, cap = 0;
	char *line = NULL;
	ssize_t len;
	int rc = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (vector_line(&v, &n, line) < 0) {
			fprintf(stderr, "%s:%zu: malformed vector line: %s\n", path, lineno, line);
			rc = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	if (rc < 0) {
		h1_vectors_free(v, n);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

void h1_vectors_free(struct h1_vector *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h1_str_free(&v[i].input);
		free_msgs(v[i].msgs, v[i].nmsgs);
	}
	free(v);
}
