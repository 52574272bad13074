/*
 * h1_driver: test harness shared by the HTTP/1 unit tests and the fuzz
 * replayer.  It plays the caller of rp_h1_parse the way the proxy or the
 * sniffer would — an input split into reads, the unconsumed tail kept and
 * presented again — and records what came out: a normalised event log (body
 * and tunnel slices merged, so any split must give the same log) and a
 * per-message summary to compare against test vectors.  Each read is copied
 * into a fresh heap block so that a slice kept past its lifetime, or an
 * offset into a moved buffer, shows up under AddressSanitizer.
 */
#ifndef H1_DRIVER_H
#define H1_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "reprise/http1.h"

/* A growable byte string (test code: aborts on OOM). */
struct h1_str {
	uint8_t *p;
	size_t n, cap;
};

void h1_str_add(struct h1_str *s, const void *p, size_t n);
void h1_str_addf(struct h1_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void h1_str_free(struct h1_str *s);

struct h1_field {
	struct h1_str name, value;
};

struct h1_message {
	struct h1_str method, target, reason;
	uint16_t status;
	uint8_t major, minor;
	struct h1_field *fields, *trailers;
	size_t nfields, ntrailers;
	struct h1_str body;
	int headers_done, complete;
	struct rp_h1_msg msg; /* facts at HEADERS_DONE, then at MESSAGE_DONE */
};

enum h1_end {
	H1_END_OK = 0,      /* input exhausted (RP_E_AGAIN) */
	H1_END_ERROR,       /* rp_h1_parse failed */
	H1_END_FINISH_ERROR /* rp_h1_finish reported a truncated message */
};

struct h1_result {
	struct h1_message *msgs;
	size_t nmsgs;
	enum h1_end end;
	struct rp_h1_error err;
	int paused;          /* a request parser paused (CONNECT/Upgrade) */
	int tunnel;          /* tunnel bytes were seen, or the parser is in a tunnel */
	struct h1_str tunnel_data;
	uint32_t anomalies;  /* union over all messages */
	struct h1_str log;   /* the normalised event log */
	size_t max_kept;     /* largest unconsumed tail held between reads */
};

enum h1_split {
	H1_SPLIT_WHOLE = 0, /* one read */
	H1_SPLIT_BYTES,     /* one byte per read */
	H1_SPLIT_RANDOM,    /* random read sizes from |seed| */
};

struct h1_run {
	enum rp_h1_kind kind;
	struct rp_h1_options opt;
	enum rp_h1_method method; /* response parser: rp_h1_set_method before each response */
	int finish;               /* call rp_h1_finish at the end */
	int tunnel;               /* after PAUSED: resume into a tunnel (1) or not (0) */
	enum h1_split split;
	uint32_t seed;
};

/* Parses |in| as |run| says and fills |res| (free it with h1_result_free). */
void h1_drive(const struct h1_run *run, const uint8_t *in, size_t n, struct h1_result *res);
void h1_result_free(struct h1_result *res);

/* Feeds |in| whole, byte by byte and in random splits from |nseeds| seeds,
 * and checks that every way gives the log of the whole feed.  Returns 0, or
 * -1 with a description of the first difference in |why| (NUL-terminated,
 * |whylen| bytes).  |res| receives the whole-feed result. */
int h1_drive_all(const struct h1_run *run, const uint8_t *in, size_t n, unsigned nseeds,
		 struct h1_result *res, char *why, size_t whylen);

/* ---- vector files ------------------------------------------------------- */

/* One test vector as written by the converters in tests/data/http1 (see the README
 * there).  Strings are decoded; the expected messages use h1_message. */
struct h1_vector {
	char id[160];         /* "request/sample.md:8" or "ambiguous.yaml:7" */
	char name[256];
	char type[64];        /* llhttp type, or desync tier */
	char reason[64];      /* desync: expected reason */
	int head, finish, pause;
	struct h1_str input;
	struct h1_message *msgs;
	size_t nmsgs;
	char end[32];         /* ok, error, tunnel, h2preface, finish_error, finish_complete */
	char end_why[256];
};

/* Reads every vector of |path| into |*out| (|*n| of them).  Returns 0, or
 * -1 when the file cannot be read or is malformed (message on stderr). */
int h1_vectors_load(const char *path, struct h1_vector **out, size_t *n);
void h1_vectors_free(struct h1_vector *v, size_t n);

/* A value with obs-folds made single spaces and runs of SP/HTAB collapsed:
 * llhttp reports a folded value as its lines joined, we keep the raw bytes;
 * both normalise to the same text. */
void h1_value_normalise(const struct h1_str *in, struct h1_str *out);

#endif
