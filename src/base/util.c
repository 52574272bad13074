/*
 * util: error names, slice helpers, time formatting and parsing, hex, and the
 * key=value logger.  Log lines are assembled in one buffer and written with
 * one call so that lines from worker threads never interleave.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "reprise/base.h"

const char *rp_err_name(int err)
{
	switch (err) {
	case RP_OK: return "ok";
	case RP_E_AGAIN: return "again";
	case RP_E_PROTO: return "proto";
	case RP_E_LIMIT: return "limit";
	case RP_E_IO: return "io";
	case RP_E_STORE: return "store";
	case RP_E_TLS: return "tls";
	case RP_E_FORMAT: return "format";
	case RP_E_VERSION: return "version";
	case RP_E_NOTFOUND: return "notfound";
	case RP_E_FULL: return "full";
	case RP_E_USAGE: return "usage";
	case RP_E_CLOSED: return "closed";
	}
	return "unknown";
}

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

int rp_mem_eq_nocase(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

struct rp_slice rp_slice_trim(struct rp_slice s)
{
	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
		s.n--;
	return s;
}

int rp_slice_list_has(struct rp_slice list, struct rp_slice tok)
{
	size_t i = 0;
	while (i <= list.n) {
		size_t j = i;
		while (j < list.n && list.p[j] != ',')
			j++;
		struct rp_slice item = rp_slice_trim(rp_slice(list.p + i, j - i));
		/* ignore parameters: "gzip;q=1" */
		for (size_t k = 0; k < item.n; k++)
			if (item.p[k] == ';') {
				item = rp_slice_trim(rp_slice(item.p, k));
				break;
			}
		if (rp_slice_eq_nocase(item, tok))
			return 1;
		i = j + 1;
	}
	return 0;
}

int rp_slice_to_u64(struct rp_slice s, uint64_t *out)
{
	if (s.n == 0)
		return RP_E_FORMAT;
	uint64_t v = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return RP_E_FORMAT;
		uint64_t d = (uint64_t)(s.p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return RP_E_FORMAT;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* ---- time ---- */

int64_t rp_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t rp_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void rp_time_format(int64_t ns, char *out, size_t outlen)
{
	time_t sec = (time_t)(ns / 1000000000);
	int64_t rem = ns % 1000000000;
	if (rem < 0) {
		rem += 1000000000;
		sec -= 1;
	}
	struct tm tm;
	gmtime_r(&sec, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(rem / 1000000));
}

static int digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

#define NS_PER_S 1000000000LL

/* Nanoseconds of the fraction digits at |*s| (after the dot); digits past
 * the ninth are read and ignored.  -1 when there is no digit. */
static int64_t fraction(const char **s)
{
	int64_t frac = 0, scale = NS_PER_S / 10;
	if (!isdigit((unsigned char)**s))
		return -1;
	for (; isdigit((unsigned char)**s); (*s)++) {
		frac += (**s - '0') * scale;
		scale /= 10;
	}
	return frac;
}

/* "@[-]SECONDS[.FRACTION]", exactly (no floating point on the way). */
static int parse_epoch(const char *s, int64_t *out)
{
	int neg = *s == '-';
	s += neg;
	if (!isdigit((unsigned char)*s))
		return RP_E_FORMAT;
	uint64_t sec = 0;
	for (; isdigit((unsigned char)*s); s++) {
		sec = sec * 10 + (uint64_t)(*s - '0');
		if (sec > (uint64_t)INT64_MAX / NS_PER_S + 1)
			return RP_E_FORMAT;
	}
	int64_t frac = 0;
	if (*s == '.') {
		s++;
		if ((frac = fraction(&s)) < 0)
			return RP_E_FORMAT;
	}
	if (*s)
		return RP_E_FORMAT;
	/* at most 9223372037999999999: fits in uint64 */
	uint64_t mag = sec * NS_PER_S + (uint64_t)frac;
	if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX)
		return RP_E_FORMAT;
	*out = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

int rp_time_parse(const char *s, int64_t *out)
{
	if (s[0] == '@')
		return parse_epoch(s + 1, out);
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d))
		return RP_E_FORMAT;
	int64_t frac = 0;
	int off = 0;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
			return RP_E_FORMAT;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, &sec))
				return RP_E_FORMAT;
			if (*s == '.' || *s == ',') {
				s++;
				if ((frac = fraction(&s)) < 0)
					return RP_E_FORMAT;
			}
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1, oh, om;
			if (digits(&s, 2, &oh))
				return RP_E_FORMAT;
			if (*s == ':')
				s++;
			if (digits(&s, 2, &om) || oh > 23 || om > 59)
				return RP_E_FORMAT;
			off = sign * (oh * 3600 + om * 60);
		}
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return RP_E_FORMAT;
	/* days from civil (proleptic Gregorian), no timezone library involved */
	int yy = y - (mo <= 2);
	int era = (yy >= 0 ? yy : yy - 399) / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off, ns;
	/* years 0000-9999 overflow int64 nanoseconds outside 1677-2262; before the
	 * epoch, borrow a second so that the very first nanosecond fits */
	if (secs < 0 && frac > 0) {
		secs++;
		frac -= NS_PER_S;
	}
	if (__builtin_mul_overflow(secs, NS_PER_S, &ns) || __builtin_add_overflow(ns, frac, &ns))
		return RP_E_FORMAT;
	*out = ns;
	return 0;
}

void rp_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- log ---- */

static enum rp_log_level log_level = RP_LOG_WARN;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void rp_log_set_level(enum rp_log_level level)
{
	log_level = level;
}

int rp_log_parse_level(const char *s, enum rp_log_level *out)
{
	for (size_t i = 0; i < RP_ARRAY_LEN(level_names); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum rp_log_level)i;
			return 0;
		}
	return RP_E_USAGE;
}

int rp_log_enabled(enum rp_log_level level)
{
	return level <= log_level;
}

void rp_log(enum rp_log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char line[2048];
	char ts[40];
	rp_time_format(rp_now_ns(), ts, sizeof(ts));
	int n = snprintf(line, sizeof(line), "ts=%s level=%s ", ts, level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : RP_MIN((size_t)m, sizeof(line) - (size_t)n - 2));
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
}
