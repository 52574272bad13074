/*
 * mem: aborting allocators and the arena pool.  A pool hands out 16-byte
 * aligned blocks from chunks and frees them all at once; large requests get a
 * chunk of their own so that the pool never wastes more than one chunk.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "reprise/base.h"
#include "reprise/limits.h"

void rp_oom(void)
{
	static const char msg[] = "reprise: out of memory\n";
	(void)!fwrite(msg, 1, sizeof(msg) - 1, stderr);
	abort();
}

void *rp_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		rp_oom();
	return p;
}

void *rp_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		rp_oom();
	return p;
}

void *rp_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		rp_oom();
	return p;
}

char *rp_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = rp_xmalloc(n);
	memcpy(d, s, n);
	return d;
}

struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(16) uint8_t data[];
};

struct rp_pool {
	struct chunk *head;  /* current chunk, allocations come from here */
	struct chunk *big;   /* dedicated chunks for large blocks */
	size_t chunk_size;
	size_t used;
};

static struct chunk *chunk_new(size_t size)
{
	struct chunk *c = rp_xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

struct rp_pool *rp_pool_new(size_t chunk)
{
	struct rp_pool *pool = rp_xcalloc(1, sizeof(*pool));
	pool->chunk_size = chunk ? chunk : RP_LIMIT_POOL_CHUNK;
	return pool;
}

static void chunks_free(struct chunk *c)
{
	while (c) {
		struct chunk *n = c->next;
		free(c);
		c = n;
	}
}

void rp_pool_free(struct rp_pool *pool)
{
	if (!pool)
		return;
	chunks_free(pool->head);
	chunks_free(pool->big);
	free(pool);
}

void rp_pool_reset(struct rp_pool *pool)
{
	struct chunk *last = pool->head;
	if (last) {
		/* keep the oldest chunk (the tail of the list) for reuse */
		struct chunk *prev = NULL;
		while (last->next) {
			prev = last;
			last = last->next;
		}
		if (prev)
			prev->next = NULL;
		if (last != pool->head)
			chunks_free(pool->head);
		last->used = 0;
		pool->head = last;
	}
	chunks_free(pool->big);
	pool->big = NULL;
	pool->used = 0;
}

void *rp_pool_alloc(struct rp_pool *pool, size_t n)
{
	size_t need = (n + 15) & ~(size_t)15;
	if (need < n || need > SIZE_MAX - sizeof(struct chunk)) /* chunk size would wrap */
		rp_oom();
	pool->used += need;
	if (need > pool->chunk_size / 4) {
		struct chunk *c = chunk_new(need);
		c->used = need;
		c->next = pool->big;
		pool->big = c;
		return c->data;
	}
	struct chunk *c = pool->head;
	if (!c || c->size - c->used < need) {
		c = chunk_new(pool->chunk_size);
		c->next = pool->head;
		pool->head = c;
	}
	void *p = c->data + c->used;
	c->used += need;
	return p;
}

void *rp_pool_calloc(struct rp_pool *pool, size_t n)
{
	void *p = rp_pool_alloc(pool, n);
	memset(p, 0, n);
	return p;
}

struct rp_slice rp_pool_dup(struct rp_pool *pool, struct rp_slice s)
{
	if (s.n == 0)
		return (struct rp_slice){(const uint8_t *)"", 0};
	uint8_t *p = rp_pool_alloc(pool, s.n);
	memcpy(p, s.p, s.n);
	return (struct rp_slice){p, s.n};
}

char *rp_pool_strndup(struct rp_pool *pool, const void *s, size_t n)
{
	char *p = rp_pool_alloc(pool, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

size_t rp_pool_used(const struct rp_pool *pool)
{
	return pool->used;
}
