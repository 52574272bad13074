/*
 * exchange: the one data model every module speaks.  A request, its response,
 * timing in nanoseconds, the connection it rode on, protocol, endpoints and
 * flags that say how complete the record is.  Headers keep their order and
 * original names.  Bodies are held decoded (gzip, deflate, br and zstd
 * removed) with the Content-Encoding that was removed remembered, so masks
 * and diffs see the real content.
 *
 * Every byte an exchange points at lives in its pool (or, for an exchange
 * read from the store, in memory the reader says lives at least as long).
 * rp_exchange_free releases everything in one step.
 */
#ifndef REPRISE_EXCHANGE_H
#define REPRISE_EXCHANGE_H

#include "reprise/base.h"

enum rp_proto {
	RP_PROTO_UNKNOWN = 0,
	RP_PROTO_H10 = 1,
	RP_PROTO_H11 = 2,
	RP_PROTO_H2 = 3,  /* HTTP/2 over TLS */
	RP_PROTO_H2C = 4, /* cleartext HTTP/2 */
};

/* Completeness and provenance facts.  A record with none of the "incomplete"
 * flags is complete. */
enum rp_xflag {
	RP_XF_REQ_TRUNCATED = 1u << 0,  /* request body cut at the record cap */
	RP_XF_RESP_TRUNCATED = 1u << 1, /* response body cut at the record cap */
	RP_XF_NO_RESPONSE = 1u << 2,    /* request never answered */
	RP_XF_GAP = 1u << 3,            /* bytes missing in the TCP stream */
	RP_XF_ANOMALY = 1u << 4,        /* parse anomaly (smuggling-prone framing ...) */
	RP_XF_UNDECODABLE = 1u << 5,    /* e.g. HPACK state lost */
	RP_XF_MASKED = 1u << 6,         /* the mask stage ran over this record */
	RP_XF_UPGRADE = 1u << 7,        /* connection upgraded (tunnel not parsed) */
	RP_XF_CONNECT = 1u << 8,        /* CONNECT tunnel */
	RP_XF_FAILED = 1u << 9,         /* proxy-side failure (502/504 ...) */
	RP_XF_CODING_ERROR = 1u << 10,  /* a body's content-encoding did not decode;
	                                   the body is kept as on the wire */
	RP_XF_NO_REQUEST = 1u << 11,    /* response seen without its request */
};

/* Returns a static comma-separated list of the names of |flags|
 * ("gap,no-response"), or "complete" when no incompleteness flag is set.
 * Writes into |out| (at least 256 bytes). */
const char *rp_xflags_format(uint32_t flags, char *out, size_t outlen);

struct rp_header {
	struct rp_slice name;  /* as on the wire, case kept */
	struct rp_slice value; /* trimmed of surrounding whitespace */
};

/* An ordered header list (duplicates allowed, order kept). */
struct rp_headers {
	struct rp_header *v;
	size_t n, cap;
};

struct rp_endpoint {
	uint8_t family; /* 0 unknown, 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

struct rp_message {
	struct rp_headers headers;
	struct rp_headers trailers;
	struct rp_slice body;     /* decoded content (see |encoding|) */
	struct rp_slice encoding; /* Content-Encoding removed ("gzip", "br, gzip"),
	                             empty when the body was not encoded */
	uint64_t wire_len;        /* body bytes on the wire (encoded, unchunked) */
	uint64_t orig_len;        /* decoded body length before masking/cap */
};

struct rp_request {
	struct rp_slice method;
	struct rp_slice scheme;    /* "http", "https" */
	struct rp_slice authority; /* Host or :authority */
	struct rp_slice target;    /* path and query as sent */
	struct rp_message m;
};

struct rp_response {
	uint16_t status; /* 0 when there was no response */
	struct rp_slice reason;
	struct rp_message m;
};

/* Nanoseconds since the Unix epoch; 0 when unknown. */
struct rp_timing {
	int64_t req_start, req_end;
	int64_t resp_start, resp_end;
};

struct rp_exchange {
	uint64_t id;       /* assigned by the store (0 until stored) */
	uint64_t conn_id;  /* connection it rode on, unique within a corpus */
	uint32_t stream_id;/* HTTP/2 stream id, 0 for HTTP/1 */
	uint32_t conn_seq; /* position on the connection, from 0 */
	enum rp_proto proto;
	uint32_t flags;    /* enum rp_xflag */
	struct rp_endpoint client, server;
	struct rp_timing t;
	struct rp_request req;
	struct rp_response resp;
	struct rp_pool *pool; /* owns the bytes above */
};

/* Allocates an empty exchange with its own pool. */
struct rp_exchange *rp_exchange_new(void);
/* Releases the exchange and its pool.  NULL is a no-op. */
void rp_exchange_free(struct rp_exchange *x);

/* Appends a header, copying |name| and |value| into |pool|. */
void rp_headers_add(struct rp_headers *h, struct rp_pool *pool, struct rp_slice name,
		    struct rp_slice value);
/* Appends a header without copying: the slices must outlive the list. */
void rp_headers_add_ref(struct rp_headers *h, struct rp_pool *pool, struct rp_slice name,
			struct rp_slice value);
/* The first header named |name| (case-insensitive), or NULL. */
const struct rp_header *rp_headers_get(const struct rp_headers *h, struct rp_slice name);
/* Removes every header named |name|; returns how many. */
size_t rp_headers_del(struct rp_headers *h, struct rp_slice name);

const char *rp_proto_name(enum rp_proto p); /* "h1.0", "h1.1", "h2", "h2c", "?" */
/* Parses a name from rp_proto_name; 0 or RP_E_FORMAT. */
int rp_proto_parse(struct rp_slice s, enum rp_proto *out);

/* Formats |e| as "1.2.3.4:80" or "[::1]:80" (or "-") into |out| (>= 64). */
void rp_endpoint_format(const struct rp_endpoint *e, char *out, size_t outlen);
/* Parses "host:port" with a numeric IPv4 or bracketed IPv6 host. */
int rp_endpoint_parse(const char *s, struct rp_endpoint *out);

/* Decodes the body of |m| in place: when its Content-Encoding header names
 * only codings we know (gzip, x-gzip, deflate, br, zstd, identity), the body
 * is replaced by the decoded bytes (allocated in |pool|, at most |max| bytes),
 * |encoding| remembers the header value and |wire_len| the encoded length.
 * Several Content-Encoding header lines count as one list; an empty body (HEAD,
 * 204, 304) is left alone.  |wire_len| and |orig_len| are set in every case.
 * Returns 0, RP_E_FORMAT when the body is corrupt or a coding is unknown (body
 * left as it was, caller flags RP_XF_CODING_ERROR), or RP_E_LIMIT past |max|. */
int rp_message_decode_body(struct rp_message *m, struct rp_pool *pool, size_t max);

#endif
