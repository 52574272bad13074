/*
 * sched: the arithmetic of the replay schedule and of its measurements —
 * when each selected exchange is due, which exchanges a selection keeps,
 * and the log-linear histograms lag and latency are recorded in.  No I/O
 * and no event loop, so all of it is unit-tested directly
 * (tests/unit/replay/sched_test.c).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "reprise/replay.h"

/* ---- histograms ---- */

static size_t bucket_of(uint64_t v)
{
	if (v < RP_REPLAY_HIST_SUB)
		return (size_t)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 5 */
	size_t i = (size_t)(e - 4) * RP_REPLAY_HIST_SUB + (size_t)((v >> (e - 5)) - RP_REPLAY_HIST_SUB);
	return RP_MIN(i, (size_t)RP_REPLAY_HIST_BUCKETS - 1);
}

static int64_t bucket_mid(size_t i)
{
	if (i < RP_REPLAY_HIST_SUB)
		return (int64_t)i;
	unsigned e = (unsigned)(i / RP_REPLAY_HIST_SUB) + 4;
	uint64_t lo = (uint64_t)(RP_REPLAY_HIST_SUB + i % RP_REPLAY_HIST_SUB) << (e - 5);
	uint64_t width = (uint64_t)1 << (e - 5);
	return (int64_t)(lo + width / 2);
}

void rp_replay_hist_add(struct rp_replay_hist *h, int64_t v)
{
	if (v < 0)
		v = 0;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (h->count == 0 || v > h->max)
		h->max = v;
	h->count++;
	h->sum += (double)v;
	h->b[bucket_of((uint64_t)v)]++;
}

int64_t rp_replay_hist_quantile(const struct rp_replay_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* the smallest value with at least ceil(q * count) values at or below */
	uint64_t rank = (uint64_t)ceil(q * (double)h->count), seen = 0;
	if (rank == 0)
		rank = 1;
	for (size_t i = 0; i < RP_REPLAY_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			int64_t v = bucket_mid(i);
			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

void rp_replay_hist_merge(struct rp_replay_hist *dst, const struct rp_replay_hist *src)
{
	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->count == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (size_t i = 0; i < RP_REPLAY_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

/* ---- schedule ---- */

int64_t rp_replay_due(const struct rp_replay_clock *c, int64_t rec_ns, uint64_t seq)
{
	switch (c->mode) {
	case RP_REPLAY_SPEED: {
		if (rec_ns <= c->rec0)
			return c->start;
		/* integer part first: a double keeps 53 bits, ns offsets of days
		 * need them all */
		int64_t d = rec_ns - c->rec0;
		if (c->speed == 1.0)
			return c->start + d;
		return c->start + (int64_t)llround((double)d / c->speed);
	}
	case RP_REPLAY_RATE: {
		uint64_t whole = (uint64_t)c->rate;
		if ((double)whole == c->rate && whole)
			return c->start + (int64_t)(seq / whole) * INT64_C(1000000000) +
			       (int64_t)((seq % whole) * UINT64_C(1000000000) / whole);
		return c->start + (int64_t)llround((double)seq * 1e9 / c->rate);
	}
	case RP_REPLAY_MAX:
		break;
	}
	return c->start;
}

int rp_replay_parse_speed(const char *s, double *out)
{
	char *end = NULL;
	if (!s || !*s || *s == '-' || *s == '+')
		return RP_E_USAGE;
	double v = strtod(s, &end);
	if (end == s)
		return RP_E_USAGE;
	if (*end == 'x' || *end == 'X')
		end++;
	if (*end || !isfinite(v) || v <= 0 || v > 1e6)
		return RP_E_USAGE;
	*out = v;
	return 0;
}

/* ---- selection ---- */

int rp_replay_parse_time(const char *s, int64_t corpus_start, int64_t *out)
{
	if (!s || !*s)
		return RP_E_USAGE;
	if (s[0] == '+') {
		int64_t d;
		if (rp_filter_parse_duration(s + 1, strlen(s + 1), &d))
			return RP_E_USAGE;
		*out = corpus_start + d;
		return 0;
	}
	return rp_time_parse(s, out) ? RP_E_USAGE : 0;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int rp_replay_sampled(uint64_t conn_id, double pct)
{
	if (pct >= 100)
		return 1;
	if (pct <= 0)
		return 0;
	/* one part in a million of the connection space per 0.0001 % */
	return (double)(mix(conn_id) % 1000000) < pct * 10000.0;
}

int rp_replay_selected(const struct rp_replay_select *sel, const struct rp_exchange *x)
{
	if (sel->id && x->id != sel->id)
		return 0;
	if (sel->one_conn && x->conn_id != sel->conn)
		return 0;
	if (sel->from_ns && x->t.req_start < sel->from_ns)
		return 0;
	if (sel->to_ns && x->t.req_start >= sel->to_ns)
		return 0;
	if (sel->sample_pct > 0 && sel->sample_pct < 100 && !rp_replay_sampled(x->conn_id, sel->sample_pct))
		return 0;
	if (sel->filter && !rp_filter_match(sel->filter, x))
		return 0;
	return 1;
}
