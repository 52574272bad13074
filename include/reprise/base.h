/*
 * base: the vocabulary every module speaks — slices, bounded buffers, the
 * per-exchange pool, error codes, logging and aborting allocators.  It sits
 * under the whole pipeline and uses no other module.  Invariants: a slice
 * never owns its bytes; a buffer always satisfies rd <= wr <= cap <= max;
 * allocation failure aborts (every buffer has a cap, so OOM is a bug).
 */
#ifndef REPRISE_BASE_H
#define REPRISE_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* Status codes: 0 on success, or one of these (negative). */
enum rp_err {
	RP_OK = 0,
	RP_E_AGAIN = -1,   /* need more input */
	RP_E_PROTO = -2,   /* protocol violation in the input */
	RP_E_LIMIT = -3,   /* a configured limit was exceeded */
	RP_E_IO = -4,      /* system call failed */
	RP_E_STORE = -5,   /* store (LMDB) failure */
	RP_E_TLS = -6,     /* TLS failure */
	RP_E_FORMAT = -7,  /* malformed record, file or argument */
	RP_E_VERSION = -8, /* written by a newer, incompatible version */
	RP_E_NOTFOUND = -9,
	RP_E_FULL = -10,   /* queue or store full: caller drops */
	RP_E_USAGE = -11,  /* bad flag or configuration */
	RP_E_CLOSED = -12, /* object is shutting down */
};

/* Returns a static one-word name for |err| ("again", "proto", ...). */
const char *rp_err_name(int err);

/* Process exit codes (DESIGN.md). */
enum rp_exit {
	RP_EXIT_OK = 0,
	RP_EXIT_REGRESSION = 1,
	RP_EXIT_USAGE = 2,
	RP_EXIT_UNREACHABLE = 3,
	RP_EXIT_STORE = 4,
};

#define RP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RP_MAX(a, b) ((a) > (b) ? (a) : (b))
#define RP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RP_LIKELY(x) __builtin_expect(!!(x), 1)

/* ---- slices -------------------------------------------------------------- */

/* A view of bytes owned by someone else; passed by value. */
struct rp_slice {
	const uint8_t *p;
	size_t n;
};

#define RP_SLICE_NULL ((struct rp_slice){NULL, 0})
/* A slice of a string literal. */
#define RP_SLICE_LIT(s) ((struct rp_slice){(const uint8_t *)(s), sizeof(s) - 1})

static inline struct rp_slice rp_slice(const void *p, size_t n)
{
	return (struct rp_slice){(const uint8_t *)p, n};
}

/* A slice of the NUL-terminated string |s| (NULL gives the empty slice). */
static inline struct rp_slice rp_slice_str(const char *s)
{
	return (struct rp_slice){(const uint8_t *)s, s ? strlen(s) : 0};
}

static inline int rp_slice_eq(struct rp_slice a, struct rp_slice b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* ASCII case-insensitive equality of |n| bytes. */
int rp_mem_eq_nocase(const uint8_t *a, const uint8_t *b, size_t n);

/* ASCII case-insensitive equality (header names, tokens).  The length test
 * is inline: most names compared differ in length. */
static inline int rp_slice_eq_nocase(struct rp_slice a, struct rp_slice b)
{
	return a.n == b.n && (a.n == 0 || rp_mem_eq_nocase(a.p, b.p, a.n));
}

/* Strips spaces and horizontal tabs from both ends of |s|. */
struct rp_slice rp_slice_trim(struct rp_slice s);

/* Case-insensitive search of token |tok| in the comma-separated list |list|
 * ("chunked" in "gzip, chunked").  Returns 1 when present. */
int rp_slice_list_has(struct rp_slice list, struct rp_slice tok);

/* Parses a non-negative decimal integer occupying all of |s|.  Returns 0, or
 * RP_E_FORMAT on an empty string, a non-digit, or overflow of uint64_t. */
int rp_slice_to_u64(struct rp_slice s, uint64_t *out);

/* ---- allocation ---------------------------------------------------------- */

void *rp_xmalloc(size_t n);
void *rp_xcalloc(size_t nmemb, size_t size);
void *rp_xrealloc(void *p, size_t n);
char *rp_xstrdup(const char *s);
/* Prints "reprise: out of memory" and aborts. */
void rp_oom(void) __attribute__((noreturn));

/* ---- pool: an arena released in one step ---------------------------------- */

/* Each exchange owns one pool; everything derived from it (header tables,
 * decoded bodies, masked copies) is allocated here and released together. */
struct rp_pool;

/* Creates a pool whose chunks are at least |chunk| bytes (0: default). */
struct rp_pool *rp_pool_new(size_t chunk);
/* Releases every allocation and the pool.  NULL is a no-op. */
void rp_pool_free(struct rp_pool *pool);
/* Releases every allocation but keeps the first chunk for reuse. */
void rp_pool_reset(struct rp_pool *pool);
/* Returns |n| bytes aligned to 16, valid until the pool is freed or reset. */
void *rp_pool_alloc(struct rp_pool *pool, size_t n);
void *rp_pool_calloc(struct rp_pool *pool, size_t n);
/* Copies |s| into the pool; the result lives as long as the pool. */
struct rp_slice rp_pool_dup(struct rp_pool *pool, struct rp_slice s);
/* NUL-terminated copy of |s| in the pool. */
char *rp_pool_strndup(struct rp_pool *pool, const void *s, size_t n);
/* Total bytes handed out since creation or the last reset. */
size_t rp_pool_used(const struct rp_pool *pool);

/* ---- buf: a bounded, growable byte buffer --------------------------------- */

/* Invariant: rd <= wr <= cap <= max.  Bytes [rd, wr) are readable; writers
 * reserve space, write at base + wr and commit.  |max| is always set: growth
 * past it fails with RP_E_LIMIT instead of allocating. */
struct rp_buf {
	uint8_t *base;
	size_t rd, wr, cap, max;
};

/* Initialises an empty buffer that may grow to |max| bytes. */
void rp_buf_init(struct rp_buf *b, size_t max);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void rp_buf_dispose(struct rp_buf *b);
/* Ensures |n| writable bytes at base + wr (compacting or growing).
 * Returns 0 or RP_E_LIMIT when that would exceed |max|. */
int rp_buf_reserve(struct rp_buf *b, size_t n);
/* Marks |n| reserved bytes as written. */
void rp_buf_commit(struct rp_buf *b, size_t n);
/* Appends |n| bytes; 0 or RP_E_LIMIT. */
int rp_buf_append(struct rp_buf *b, const void *p, size_t n);
/* Appends formatted text; 0 or RP_E_LIMIT. */
int rp_buf_printf(struct rp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops |n| readable bytes from the front. */
void rp_buf_consume(struct rp_buf *b, size_t n);
/* Empties the buffer, keeping its storage. */
static inline void rp_buf_clear(struct rp_buf *b) { b->rd = b->wr = 0; }
static inline size_t rp_buf_len(const struct rp_buf *b) { return b->wr - b->rd; }
/* The readable bytes, valid until the next write or consume. */
static inline struct rp_slice rp_buf_slice(const struct rp_buf *b)
{
	return (struct rp_slice){b->base + b->rd, b->wr - b->rd};
}

/* ---- logging: key=value lines on stderr ----------------------------------- */

enum rp_log_level { RP_LOG_ERROR, RP_LOG_WARN, RP_LOG_INFO, RP_LOG_DEBUG };

/* Sets the lowest level printed (default RP_LOG_WARN). */
void rp_log_set_level(enum rp_log_level level);
/* Parses "error|warn|info|debug"; returns 0 or RP_E_USAGE. */
int rp_log_parse_level(const char *s, enum rp_log_level *out);
int rp_log_enabled(enum rp_log_level level);
/* Prints "ts=... level=... " followed by |fmt| (which should itself be
 * key=value pairs) and a newline, as one write.  Thread-safe. */
void rp_log(enum rp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- time ----------------------------------------------------------------- */

/* Wall-clock nanoseconds since the Unix epoch. */
int64_t rp_now_ns(void);
/* Monotonic nanoseconds. */
int64_t rp_mono_ns(void);
/* Formats |ns| since the epoch as RFC 3339 UTC with milliseconds
 * ("2026-11-22T10:02:03.123Z") into |out| (at least 32 bytes). */
void rp_time_format(int64_t ns, char *out, size_t outlen);
/* Parses RFC 3339 ("2026-11-22T10:02:03Z", fractional seconds and offsets
 * allowed) or "@<seconds>" into ns since the epoch.  0 or RP_E_FORMAT. */
int rp_time_parse(const char *s, int64_t *out);

/* ---- digest -------------------------------------------------------------- */

/* Lowercase hex of |n| bytes into |out| (2n+1 bytes, NUL-terminated). */
void rp_hex(const uint8_t *p, size_t n, char *out);

#endif
