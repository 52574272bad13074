/*
 * buf: bounded byte buffers.  Growth doubles up to |max| and fails with
 * RP_E_LIMIT past it; consumed space at the front is reclaimed by moving the
 * readable bytes down before growing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "reprise/base.h"

#ifdef RP_DEBUG
#include <assert.h>
#define CHECK(b) assert((b)->rd <= (b)->wr && (b)->wr <= (b)->cap && (b)->cap <= (b)->max)
#else
#define CHECK(b) ((void)0)
#endif

void rp_buf_init(struct rp_buf *b, size_t max)
{
	b->base = NULL;
	b->rd = b->wr = b->cap = 0;
	b->max = max;
}

void rp_buf_dispose(struct rp_buf *b)
{
	free(b->base);
	b->base = NULL;
	b->rd = b->wr = b->cap = 0;
}

int rp_buf_reserve(struct rp_buf *b, size_t n)
{
	CHECK(b);
	if (b->cap - b->wr >= n)
		return 0;
	size_t live = b->wr - b->rd;
	if (n > b->max || live > b->max - n)
		return RP_E_LIMIT;
	if (b->rd && b->cap - live >= n) {
		memmove(b->base, b->base + b->rd, live);
		b->rd = 0;
		b->wr = live;
		return 0;
	}
	if (b->rd) {
		memmove(b->base, b->base + b->rd, live);
		b->rd = 0;
		b->wr = live;
	}
	/* the first allocation too must respect |max|, or the space between
	 * max and 256 would be writable past the cap */
	size_t cap = b->cap ? b->cap : RP_MIN((size_t)256, b->max);
	while (cap - live < n)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	b->base = rp_xrealloc(b->base, cap);
	b->cap = cap;
	CHECK(b);
	return 0;
}

void rp_buf_commit(struct rp_buf *b, size_t n)
{
	b->wr += n;
	CHECK(b);
}

int rp_buf_append(struct rp_buf *b, const void *p, size_t n)
{
	int rc = rp_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->base + b->wr, p, n);
	b->wr += n;
	return 0;
}

int rp_buf_printf(struct rp_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return RP_E_FORMAT;
	int rc = rp_buf_reserve(b, (size_t)n + 1);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->base + b->wr, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->wr += (size_t)n;
	return 0;
}

void rp_buf_consume(struct rp_buf *b, size_t n)
{
	b->rd += n;
	if (b->rd == b->wr)
		b->rd = b->wr = 0;
	CHECK(b);
}
