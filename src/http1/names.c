/*
 * names: the small helpers around the HTTP/1 parser — method classification,
 * version, anomaly, state and limit names, error reasons and the status a
 * server answers a bad request with, and obs-fold unfolding.  Pure functions
 * over constant tables; every string returned is static.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "reprise/http1.h"

enum rp_h1_method rp_h1_method_parse(struct rp_slice s)
{
	/* Methods are case-sensitive (RFC 9110 §9.1). */
#define M(lit, val)                                                         \
	if (s.n == sizeof(lit) - 1 && memcmp(s.p, lit, sizeof(lit) - 1) == 0) \
		return val;
	switch (s.n) {
	case 3:
		M("GET", RP_H1_M_GET)
		M("PUT", RP_H1_M_PUT)
		break;
	case 4:
		M("HEAD", RP_H1_M_HEAD)
		M("POST", RP_H1_M_POST)
		break;
	case 5:
		M("PATCH", RP_H1_M_PATCH)
		M("TRACE", RP_H1_M_TRACE)
		break;
	case 6:
		M("DELETE", RP_H1_M_DELETE)
		break;
	case 7:
		M("CONNECT", RP_H1_M_CONNECT)
		M("OPTIONS", RP_H1_M_OPTIONS)
		break;
	}
#undef M
	return RP_H1_M_OTHER;
}

const char *rp_h1_method_name(enum rp_h1_method m)
{
	switch (m) {
	case RP_H1_M_GET: return "GET";
	case RP_H1_M_HEAD: return "HEAD";
	case RP_H1_M_POST: return "POST";
	case RP_H1_M_PUT: return "PUT";
	case RP_H1_M_DELETE: return "DELETE";
	case RP_H1_M_CONNECT: return "CONNECT";
	case RP_H1_M_OPTIONS: return "OPTIONS";
	case RP_H1_M_TRACE: return "TRACE";
	case RP_H1_M_PATCH: return "PATCH";
	case RP_H1_M_OTHER: break;
	}
	return "OTHER";
}

const char *rp_h1_version_name(uint8_t major, uint8_t minor)
{
	static const char names[10][9] = {
		"HTTP/1.0", "HTTP/1.1", "HTTP/1.2", "HTTP/1.3", "HTTP/1.4",
		"HTTP/1.5", "HTTP/1.6", "HTTP/1.7", "HTTP/1.8", "HTTP/1.9",
	};
	if (major == 1 && minor <= 9)
		return names[minor];
	return "HTTP/?";
}

static const char *const anomaly_names[RP_H1_A_COUNT] = {
	"cl-and-te",       "cl-dup",          "cl-conflict",    "cl-invalid",
	"te-not-chunked",  "te-chunked-twice", "te-invalid",    "te-http10",
	"obs-fold",        "bare-lf",         "ws-before-colon", "name-char",
	"value-char",      "suspicious-name", "chunk-size",     "chunk-ext",
	"body-in-get",     "data-after-close", "version",
};

const char *rp_h1_anomaly_name(uint32_t bit)
{
	if (bit == 0 || (bit & (bit - 1)) != 0 || bit >= (1u << RP_H1_A_COUNT))
		return "?";
	return anomaly_names[__builtin_ctz(bit)];
}

const char *rp_h1_anomalies_format(uint32_t anomalies, char *out, size_t outlen)
{
	size_t len = 0;
	if (outlen == 0)
		return out;
	out[0] = '\0';
	if (!anomalies) {
		snprintf(out, outlen, "none");
		return out;
	}
	for (unsigned i = 0; i < RP_H1_A_COUNT; i++) {
		if (!(anomalies & (1u << i)))
			continue;
		int w = snprintf(out + len, outlen - len, "%s%s", len ? "," : "", anomaly_names[i]);
		if (w < 0 || (size_t)w >= outlen - len)
			break;
		len += (size_t)w;
	}
	return out;
}

const char *rp_h1_state_name(enum rp_h1_state s)
{
	switch (s) {
	case RP_H1_S_START: return "start-line";
	case RP_H1_S_HEADERS: return "headers";
	case RP_H1_S_BODY_LENGTH: return "body";
	case RP_H1_S_CHUNK_SIZE: return "chunk-size";
	case RP_H1_S_CHUNK_DATA: return "chunk-data";
	case RP_H1_S_TRAILERS: return "trailers";
	case RP_H1_S_BODY_EOF: return "body-until-close";
	case RP_H1_S_MSG_DONE: return "message-end";
	case RP_H1_S_CLOSED: return "closed";
	case RP_H1_S_PAUSED: return "paused";
	case RP_H1_S_TUNNEL: return "tunnel";
	case RP_H1_S_ERROR: return "error";
	}
	return "?";
}

const char *rp_h1_limit_name(enum rp_h1_limit l)
{
	switch (l) {
	case RP_H1_LIM_NONE: return "none";
	case RP_H1_LIM_START_LINE: return "start-line";
	case RP_H1_LIM_HEADER_BYTES: return "header-bytes";
	case RP_H1_LIM_HEADER_COUNT: return "header-count";
	case RP_H1_LIM_CHUNK_LINE: return "chunk-line";
	}
	return "?";
}

const char *rp_h1_reason(const struct rp_h1_parser *p)
{
	return p->err.code && p->err.why ? p->err.why : "no error";
}

int rp_h1_error_status(const struct rp_h1_parser *p)
{
	if (!p->err.code)
		return 0;
	if (p->err.code == RP_E_LIMIT) {
		if (p->err.limit == RP_H1_LIM_HEADER_BYTES || p->err.limit == RP_H1_LIM_HEADER_COUNT)
			return 431;
		if (p->err.limit == RP_H1_LIM_START_LINE)
			return 414;
	}
	return 400;
}

size_t rp_h1_unfold(struct rp_slice v, uint8_t *out)
{
	size_t o = 0;
	for (size_t i = 0; i < v.n;) {
		size_t j = i;
		if (v.p[j] == '\r' && j + 1 < v.n && v.p[j + 1] == '\n')
			j++;
		if (v.p[j] == '\n' && j + 1 < v.n && (v.p[j + 1] == ' ' || v.p[j + 1] == '\t')) {
			j++;
			while (j < v.n && (v.p[j] == ' ' || v.p[j] == '\t'))
				j++;
			out[o++] = ' ';
			i = j;
			continue;
		}
		out[o++] = v.p[i++];
	}
	return o;
}
