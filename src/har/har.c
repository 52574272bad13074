/*
 * har: the public face of the JSON interchange module — format detection,
 * bounded file reading, and the reader and writer that dispatch to the HAR
 * (har_in.c, har_out.c) and JSON lines (jsonl.c) codecs.  A HAR file is read
 * whole after its size is checked against the cap; a JSON lines file is read
 * one line at a time through a buffer capped at RP_LIMIT_RECORD, so no input
 * can make the reader hold more than those caps.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#include "har_int.h"
#include "reprise/limits.h"

#define READ_CHUNK (64 * 1024)

struct rp_har_reader {
	enum rp_har_format format;
	char *name;
	struct rp_har_doc *doc; /* HAR */
	FILE *f;                /* JSON lines */
	char *mem;              /* backing store of an in-memory JSON lines file */
	struct rp_buf buf;      /* JSON lines: bytes read, not yet parsed */
	size_t consume;         /* bytes of the last line still in |buf| */
	size_t line_no;
	int eof;
};

struct rp_har_writer {
	FILE *f;
	enum rp_har_format format;
	size_t n;
	int failed;
};

int rp_har_format_parse(const char *s, enum rp_har_format *out)
{
	if (strcmp(s, "har") == 0)
		*out = RP_HAR_FORMAT_HAR;
	else if (strcmp(s, "jsonl") == 0)
		*out = RP_HAR_FORMAT_JSONL;
	else
		return RP_E_USAGE;
	return 0;
}

static void msg(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void msg(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* JSON lines when the first line is a whole object with a "request"
 * member; a HAR (even one written on a single line) has "log" instead. */
static enum rp_har_format sniff(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	size_t len = nl ? (size_t)(nl - p) : n;
	json_t *o = json_loadb(p, len, JSON_ALLOW_NUL, NULL);
	enum rp_har_format f = RP_HAR_FORMAT_HAR;
	if (json_is_object(o) && json_is_object(json_object_get(o, "request")))
		f = RP_HAR_FORMAT_JSONL;
	json_decref(o);
	return f;
}

static struct rp_har_reader *reader_new(const char *name, enum rp_har_format format)
{
	struct rp_har_reader *r = rp_xcalloc(1, sizeof(*r));
	r->name = rp_xstrdup(name);
	r->format = format;
	rp_buf_init(&r->buf, RP_LIMIT_RECORD);
	return r;
}

/* Reads all of |f| into |b| (capped by b->max).  0, RP_E_LIMIT, RP_E_IO. */
static int slurp(FILE *f, struct rp_buf *b)
{
	for (;;) {
		size_t want = RP_MIN(b->max - rp_buf_len(b), (size_t)READ_CHUNK);
		if (want == 0) {
			/* at the cap: over it only if another byte follows */
			uint8_t c;
			if (fread(&c, 1, 1, f) == 1)
				return RP_E_LIMIT;
			return ferror(f) ? RP_E_IO : 0;
		}
		if (rp_buf_reserve(b, want))
			return RP_E_LIMIT;
		size_t got = fread(b->base + b->wr, 1, want, f);
		rp_buf_commit(b, got);
		if (got < want) {
			if (ferror(f))
				return RP_E_IO;
			if (feof(f))
				return 0;
		}
	}
}

static int open_har(struct rp_har_reader *r, FILE *f, size_t max, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		msg(err, errlen,
		    "%s: %llu bytes is larger than the import limit of %zu bytes; split the HAR "
		    "or convert it to JSON lines",
		    r->name, (unsigned long long)st.st_size, max);
		return RP_E_LIMIT;
	}
	struct rp_buf b;
	rp_buf_init(&b, max);
	int rc = slurp(f, &b);
	if (rc == RP_E_LIMIT)
		msg(err, errlen, "%s: larger than the import limit of %zu bytes", r->name, max);
	else if (rc)
		msg(err, errlen, "%s: read failed: %s", r->name, strerror(errno));
	else
		rc = rp_har_doc_load((const char *)rp_buf_slice(&b).p, rp_buf_len(&b), r->name,
				     &r->doc, err, errlen);
	rp_buf_dispose(&b);
	return rc;
}

int rp_har_reader_open(const char *path, enum rp_har_format format, size_t max,
		       struct rp_har_reader **out, char *err, size_t errlen)
{
	int rc;
	if (!max)
		max = RP_LIMIT_IMPORT_FILE;
	FILE *f = fopen(path, "rb");
	if (!f) {
		msg(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return RP_E_IO;
	}
	if (format == RP_HAR_FORMAT_AUTO) {
		if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson"))
			format = RP_HAR_FORMAT_JSONL;
		else if (ends_with(path, ".har"))
			format = RP_HAR_FORMAT_HAR;
		else {
			/* peek at the first line, then start over */
			char *head = rp_xmalloc(READ_CHUNK);
			size_t n = fread(head, 1, READ_CHUNK, f);
			format = sniff(head, n);
			free(head);
			if (fseek(f, 0, SEEK_SET)) {
				msg(err, errlen, "%s: cannot tell HAR from JSON lines in a file that "
						 "cannot be rewound; pass --format", path);
				fclose(f);
				return RP_E_USAGE;
			}
		}
	}
	struct rp_har_reader *r = reader_new(path, format);
	if (format == RP_HAR_FORMAT_HAR) {
		rc = open_har(r, f, max, err, errlen);
		fclose(f);
	} else {
		r->f = f;
		rc = 0;
	}
	if (rc) {
		rp_har_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int rp_har_reader_open_mem(const void *data, size_t n, const char *name,
			   enum rp_har_format format, struct rp_har_reader **out, char *err,
			   size_t errlen)
{
	if (format == RP_HAR_FORMAT_AUTO)
		format = sniff(data, n);
	struct rp_har_reader *r = reader_new(name, format);
	int rc = 0;
	if (format == RP_HAR_FORMAT_HAR) {
		if (n > RP_LIMIT_IMPORT_FILE) {
			msg(err, errlen, "%s: larger than the import limit", name);
			rc = RP_E_LIMIT;
		} else {
			rc = rp_har_doc_load(data, n, name, &r->doc, err, errlen);
		}
	} else {
		r->mem = rp_xmalloc(n + 1);
		memcpy(r->mem, data, n);
		r->f = n ? fmemopen(r->mem, n, "rb") : fopen("/dev/null", "rb");
		if (!r->f) {
			msg(err, errlen, "%s: %s", name, strerror(errno));
			rc = RP_E_IO;
		}
	}
	if (rc) {
		rp_har_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

enum rp_har_format rp_har_reader_format(const struct rp_har_reader *r)
{
	return r->format;
}

/* The next line of a JSON lines file (without its newline) in |*line|,
 * valid until the next call.  0, RP_E_NOTFOUND at the end, RP_E_LIMIT for a
 * line over the cap (skipped), RP_E_IO. */
static int read_line(struct rp_har_reader *r, struct rp_slice *line)
{
	rp_buf_consume(&r->buf, r->consume);
	r->consume = 0;
	size_t scanned = 0;
	int too_long = 0;
	for (;;) {
		struct rp_slice s = rp_buf_slice(&r->buf);
		const uint8_t *nl = s.n > scanned ? memchr(s.p + scanned, '\n', s.n - scanned) : NULL;
		if (nl) {
			r->line_no++;
			*line = rp_slice(s.p, (size_t)(nl - s.p));
			r->consume = (size_t)(nl - s.p) + 1;
			return too_long ? RP_E_LIMIT : 0;
		}
		if (r->eof) {
			if (s.n == 0 && !too_long)
				return RP_E_NOTFOUND;
			r->line_no++;
			*line = s;
			r->consume = s.n;
			return too_long ? RP_E_LIMIT : 0;
		}
		if (rp_buf_reserve(&r->buf, READ_CHUNK)) {
			/* over the cap: drop what we have, keep reading to the newline */
			too_long = 1;
			rp_buf_clear(&r->buf);
			scanned = 0;
			if (rp_buf_reserve(&r->buf, READ_CHUNK))
				return RP_E_LIMIT;
		} else {
			scanned = s.n;
		}
		size_t got = fread(r->buf.base + r->buf.wr, 1, READ_CHUNK, r->f);
		rp_buf_commit(&r->buf, got);
		if (got == 0) {
			if (ferror(r->f))
				return RP_E_IO;
			r->eof = 1;
		}
	}
}

static int blank(struct rp_slice s)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] != ' ' && s.p[i] != '\t' && s.p[i] != '\r')
			return 0;
	return 1;
}

int rp_har_reader_next(struct rp_har_reader *r, struct rp_exchange **x, char *err, size_t errlen)
{
	if (r->format == RP_HAR_FORMAT_HAR)
		return rp_har_doc_next(r->doc, x, err, errlen);
	for (;;) {
		struct rp_slice line;
		int rc = read_line(r, &line);
		if (rc == RP_E_LIMIT) {
			msg(err, errlen, "line %zu: longer than the limit of %d bytes", r->line_no,
			    RP_LIMIT_RECORD);
			return rc;
		}
		if (rc == RP_E_IO)
			msg(err, errlen, "%s: read failed: %s", r->name, strerror(errno));
		if (rc)
			return rc;
		if (blank(line))
			continue;
		return rp_har_jsonl_parse((const char *)line.p, line.n, r->line_no, x, err, errlen);
	}
}

void rp_har_reader_free(struct rp_har_reader *r)
{
	if (!r)
		return;
	rp_har_doc_free(r->doc);
	if (r->f)
		fclose(r->f);
	free(r->mem);
	rp_buf_dispose(&r->buf);
	free(r->name);
	free(r);
}

/* ---- writing ---- */

static void out(struct rp_har_writer *w, const char *s)
{
	if (fputs(s, w->f) == EOF)
		w->failed = 1;
}

int rp_har_writer_new(FILE *f, enum rp_har_format format, const char *tool_version,
		      struct rp_har_writer **outw)
{
	if (format != RP_HAR_FORMAT_HAR && format != RP_HAR_FORMAT_JSONL)
		return RP_E_USAGE;
	struct rp_har_writer *w = rp_xcalloc(1, sizeof(*w));
	w->f = f;
	w->format = format;
	if (format == RP_HAR_FORMAT_HAR) {
		json_t *v = rp_har_json_text(rp_slice_str(tool_version ? tool_version : ""));
		char *vs = json_dumps(v, JSON_ENCODE_ANY);
		json_decref(v);
		if (!vs)
			rp_oom();
		if (fprintf(f, "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"reprise\","
			       "\"version\":%s},\"entries\":[\n",
			    vs) < 0)
			w->failed = 1;
		free(vs);
	}
	*outw = w;
	return 0;
}

int rp_har_writer_add(struct rp_har_writer *w, const struct rp_exchange *x)
{
	int rc;
	if (w->format == RP_HAR_FORMAT_HAR) {
		if (w->n)
			out(w, ",\n");
		rc = rp_har_entry_write(w->f, x);
	} else {
		rc = rp_har_jsonl_write(w->f, x);
	}
	w->n++;
	if (rc || w->failed) {
		w->failed = 1;
		return RP_E_IO;
	}
	return 0;
}

int rp_har_writer_finish(struct rp_har_writer *w)
{
	if (!w)
		return 0;
	if (w->format == RP_HAR_FORMAT_HAR)
		out(w, w->n ? "\n]}}\n" : "]}}\n");
	if (fflush(w->f) == EOF || ferror(w->f))
		w->failed = 1;
	int rc = w->failed ? RP_E_IO : 0;
	free(w);
	return rc;
}
