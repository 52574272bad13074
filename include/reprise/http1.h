/*
 * http1: the HTTP/1.0 and HTTP/1.1 message codec (RFC 9112).  One parser
 * serves the inline proxy (STRICT: anything ambiguous is an error), the
 * passive sniffer (LENIENT: accept what can be framed sensibly, record every
 * irregularity as an anomaly bit) and the replayer (parsing responses).
 *
 * The parser is a caller-owned struct plus one function, rp_h1_parse.  It
 * does no I/O, no allocation, no logging and calls nothing of the caller's.
 * Bytes go in; out come the number of bytes consumed and one event whose
 * slices point into those bytes.  It is resumable at any byte boundary and
 * never rescans input it has already searched.
 *
 * The input contract (read this before calling rp_h1_parse):
 *
 *   - Pass every byte of the stream that has not been consumed yet, in
 *     order, as one contiguous block: the unconsumed tail of the previous
 *     call first, then whatever has arrived since.  The block may move (the
 *     caller may compact or reallocate its buffer) but the tail's content
 *     must not change.
 *   - Header fields, start lines and chunk-size lines are consumed only
 *     whole.  A field split across two reads therefore comes out as one
 *     event, with name and value slices into one block, once the rest has
 *     arrived.  Until then the call returns RP_E_AGAIN and consumes nothing.
 *     The caller's buffer must be able to hold the unconsumed tail plus new
 *     bytes: max_header_bytes + 1 (or max_start_line, max_chunk_line + 2)
 *     is always enough, because a longer line fails with RP_E_LIMIT.
 *   - Body bytes are consumed as they come: a BODY event covers as much of
 *     the body as the block holds.  The caller may drop consumed bytes.
 *   - Slices in an event are valid as long as the bytes passed in are.
 *
 * Typical loop:
 *
 *     for (;;) {
 *         ssize_t r = rp_h1_parse(&p, buf + off, len - off, &ev);
 *         if (r == RP_E_AGAIN) break;            // keep [off, len), read more
 *         if (r < 0) fail(rp_h1_reason(&p));     // RP_E_PROTO or RP_E_LIMIT
 *         off += (size_t)r;
 *         handle(&ev);                           // PAUSED: stop and decide
 *     }
 *
 * At end of stream, drain with rp_h1_parse until RP_E_AGAIN, then call
 * rp_h1_finish: it completes a body delimited by the connection close, or
 * reports a message that was cut short.
 *
 * Invariants: memory use is the struct, whatever the input; every byte is
 * consumed by exactly one event; the same input gives the same events
 * whatever way it is split; an error is sticky and names the offset, the
 * state and a static reason.
 */
#ifndef REPRISE_HTTP1_H
#define REPRISE_HTTP1_H

#include "reprise/base.h"

enum rp_h1_kind {
	RP_H1_REQUEST = 0,
	RP_H1_RESPONSE = 1,
};

enum rp_h1_mode {
	RP_H1_STRICT = 0,  /* the proxy: each anomaly is an error */
	RP_H1_LENIENT = 1, /* the sniffer: record anomalies, keep parsing */
};

/* Method classes that change framing or that callers ask about.  Any other
 * token is RP_H1_M_OTHER: methods are extensible (RFC 9110 §9.1). */
enum rp_h1_method {
	RP_H1_M_OTHER = 0,
	RP_H1_M_GET,
	RP_H1_M_HEAD,
	RP_H1_M_POST,
	RP_H1_M_PUT,
	RP_H1_M_DELETE,
	RP_H1_M_CONNECT,
	RP_H1_M_OPTIONS,
	RP_H1_M_TRACE,
	RP_H1_M_PATCH,
};

/* Anomalies: irregularities that make a message ambiguous or smuggling-prone.
 * STRICT turns each (but RP_H1_A_VERSION, and those listed in
 * rp_h1_options.allow) into an RP_E_PROTO error; LENIENT records them in
 * rp_h1_msg.anomalies.  Some cannot be framed at all and are errors in both
 * modes; that is said next to them. */
enum rp_h1_anomaly {
	RP_H1_A_CL_AND_TE = 1u << 0,        /* Content-Length with Transfer-Encoding
	                                       (Transfer-Encoding frames) */
	RP_H1_A_CL_DUP = 1u << 1,           /* identical Content-Length repeated,
	                                       as fields or as "5, 5" */
	RP_H1_A_CL_CONFLICT = 1u << 2,      /* differing Content-Length values;
	                                       an error unless Transfer-Encoding frames */
	RP_H1_A_CL_INVALID = 1u << 3,       /* Content-Length not a decimal number,
	                                       empty, or overflowing; same rule */
	RP_H1_A_TE_NOT_CHUNKED = 1u << 4,   /* request whose last transfer coding is
	                                       not chunked; LENIENT reads to EOF */
	RP_H1_A_TE_CHUNKED_TWICE = 1u << 5, /* chunked applied more than once */
	RP_H1_A_TE_INVALID = 1u << 6,       /* Transfer-Encoding is not a list of
	                                       codings; an error on a request */
	RP_H1_A_TE_HTTP10 = 1u << 7,        /* Transfer-Encoding in an HTTP/1.0
	                                       message: framed by it, then close */
	RP_H1_A_OBS_FOLD = 1u << 8,         /* obs-fold line continuation; before
	                                       the first field it is an error */
	RP_H1_A_BARE_LF = 1u << 9,          /* a line ended by LF without CR */
	RP_H1_A_WS_BEFORE_COLON = 1u << 10, /* "Name : value"; LENIENT drops the
	                                       whitespace, as a proxy must */
	RP_H1_A_NAME_CHAR = 1u << 11,       /* empty field name or a non-token byte */
	RP_H1_A_VALUE_CHAR = 1u << 12,      /* control byte (CR, NUL, ...) in a value */
	RP_H1_A_SUSPICIOUS_NAME = 1u << 13, /* a name that is nearly Content-Length
	                                       or Transfer-Encoding ("Transfer_Encoding",
	                                       "\x01Content-Length"): not framing, but
	                                       some servers would take it as such */
	RP_H1_A_CHUNK_SIZE = 1u << 14,      /* invalid or overflowing chunk size:
	                                       always an error */
	RP_H1_A_CHUNK_EXT = 1u << 15,       /* malformed chunk extension, or
	                                       whitespace after the size */
	RP_H1_A_BODY_IN_GET = 1u << 16,     /* GET or HEAD request with a body */
	RP_H1_A_DATA_AFTER_CLOSE = 1u << 17,/* a message after one that closed the
	                                       connection; LENIENT parses it */
	RP_H1_A_VERSION = 1u << 18,         /* HTTP/1.x with x > 1, read as 1.1
	                                       (RFC 9110 §2.5); a note, not rejected */
};
#define RP_H1_A_COUNT 19
/* What STRICT rejects by default: every anomaly but the notes. */
#define RP_H1_A_STRICT_REJECT (((1u << RP_H1_A_COUNT) - 1) & ~(uint32_t)RP_H1_A_VERSION)

/* Message facts (rp_h1_msg.flags). */
enum rp_h1_flag {
	RP_H1_F_KEEP_ALIVE = 1u << 0,      /* connection persists after this message */
	RP_H1_F_CONTENT_LENGTH = 1u << 1,  /* a Content-Length field was present */
	RP_H1_F_TRANSFER_ENCODING = 1u << 2,
	RP_H1_F_CHUNKED = 1u << 3,         /* the last transfer coding is chunked */
	RP_H1_F_CONN_CLOSE = 1u << 4,      /* Connection: close */
	RP_H1_F_CONN_KEEP_ALIVE = 1u << 5, /* Connection: keep-alive */
	RP_H1_F_EXPECT_CONTINUE = 1u << 6, /* request: Expect: 100-continue */
	RP_H1_F_UPGRADE = 1u << 7,         /* request asks to switch protocols
	                                      (Upgrade + Connection: upgrade);
	                                      response is 101 */
	RP_H1_F_CONNECT = 1u << 8,         /* request method is CONNECT */
	RP_H1_F_INTERIM = 1u << 9,         /* 1xx response other than 101: the
	                                      final response follows */
	RP_H1_F_TUNNEL = 1u << 10,         /* response: bytes after it are a tunnel
	                                      (101, or 2xx to CONNECT) */
	RP_H1_F_TRAILERS = 1u << 11,       /* a trailer section had fields */
	RP_H1_F_H2C_UPGRADE = 1u << 12,    /* the Upgrade field names h2c */
};

/* How the body is delimited (RFC 9112 §6.3). */
enum rp_h1_body {
	RP_H1_BODY_NONE = 0,  /* no body (or HEAD/1xx/204/304/CONNECT) */
	RP_H1_BODY_LENGTH,    /* Content-Length bytes */
	RP_H1_BODY_CHUNKED,   /* chunked transfer coding */
	RP_H1_BODY_EOF,       /* until the connection closes (rp_h1_finish) */
};

enum rp_h1_limit {
	RP_H1_LIM_NONE = 0,
	RP_H1_LIM_START_LINE,   /* request or status line (with empty lines before) */
	RP_H1_LIM_HEADER_BYTES, /* all field lines of a header or trailer section */
	RP_H1_LIM_HEADER_COUNT, /* fields in a header or trailer section */
	RP_H1_LIM_CHUNK_LINE,   /* one chunk-size line with its extensions */
};

/* Where the parser is; reported with errors. */
enum rp_h1_state {
	RP_H1_S_START = 0,  /* before a start line */
	RP_H1_S_HEADERS,
	RP_H1_S_BODY_LENGTH,
	RP_H1_S_CHUNK_SIZE,
	RP_H1_S_CHUNK_DATA,
	RP_H1_S_TRAILERS,
	RP_H1_S_BODY_EOF,
	RP_H1_S_MSG_DONE,   /* message complete, MESSAGE_DONE not yet returned */
	RP_H1_S_CLOSED,     /* after a message that closes the connection */
	RP_H1_S_PAUSED,     /* request parser after CONNECT/Upgrade: see rp_h1_resume */
	RP_H1_S_TUNNEL,
	RP_H1_S_ERROR,
};

struct rp_h1_options {
	enum rp_h1_mode mode;
	uint32_t allow;            /* STRICT: anomalies to record without rejecting */
	uint32_t max_start_line;   /* 0 means the default from limits.h */
	uint32_t max_header_bytes;
	uint32_t max_headers;
	uint32_t max_chunk_line;
};

/* What is known about the message being parsed.  Filled in as the parse
 * proceeds: start line facts at the start line, framing at HEADERS_DONE,
 * trailers and body_len by MESSAGE_DONE. */
struct rp_h1_msg {
	uint64_t content_length;   /* declared length (with RP_H1_F_CONTENT_LENGTH) */
	uint64_t body_len;         /* body bytes delivered so far, de-chunked */
	uint32_t flags;            /* enum rp_h1_flag */
	uint32_t anomalies;        /* enum rp_h1_anomaly */
	enum rp_h1_body body;
	enum rp_h1_method method;  /* request: its method; response: the method
	                              set with rp_h1_set_method */
	uint16_t status;           /* response status code */
	uint8_t major, minor;      /* HTTP version */
	uint16_t nfields;          /* header fields so far */
	uint16_t ntrailers;        /* trailer fields so far */
};

enum rp_h1_ev {
	RP_H1_EV_REQUEST_LINE = 1, /* u.req */
	RP_H1_EV_STATUS_LINE,      /* u.status */
	RP_H1_EV_HEADER,           /* u.field */
	RP_H1_EV_HEADERS_DONE,     /* u.msg: framing decided */
	RP_H1_EV_CHUNK,            /* u.chunk: a chunk-size line (size 0: last) */
	RP_H1_EV_BODY,             /* u.data: body bytes, de-chunked */
	RP_H1_EV_TRAILER,          /* u.field */
	RP_H1_EV_MESSAGE_DONE,     /* u.msg */
	RP_H1_EV_PAUSED,           /* request parser waits for rp_h1_resume;
	                              nothing consumed */
	RP_H1_EV_TUNNEL,           /* u.data: opaque bytes after a protocol switch */
};

struct rp_h1_event {
	enum rp_h1_ev type;
	union {
		struct {
			struct rp_slice method, target;
			enum rp_h1_method m;
			uint8_t major, minor;
		} req;
		struct {
			struct rp_slice reason;  /* as sent, may be empty */
			uint16_t status;
			uint8_t major, minor;
		} status;
		struct {
			/* The name as sent (LENIENT: whitespace before the colon
			 * dropped).  The value without surrounding whitespace; a
			 * folded value (LENIENT) still holds its CR LF SP runs:
			 * rp_h1_unfold makes it one line. */
			struct rp_slice name, value;
		} field;
		struct {
			uint64_t size;
			struct rp_slice ext; /* extensions from the first ';', or empty */
		} chunk;
		struct rp_slice data;
		const struct rp_h1_msg *msg; /* the parser's, valid until the next call */
	} u;
};

struct rp_h1_error {
	int code;                /* RP_E_PROTO or RP_E_LIMIT; 0 when none */
	enum rp_h1_state state;  /* where it happened */
	enum rp_h1_limit limit;  /* with RP_E_LIMIT: which one */
	uint32_t anomaly;        /* the anomaly behind it, 0 if none */
	uint64_t offset;         /* stream offset of the offending byte */
	const char *why;         /* static reason */
	uint8_t h2_preface;      /* the stream starts with the HTTP/2 preface
	                            ("PRI * HTTP/2.0"): hand it to an h2 codec */
};

/* Caller-owned parser state.  |msg|, |err|, |pos| and |messages| may be read
 * at any time; the rest is private. */
struct rp_h1_parser {
	struct rp_h1_msg msg;
	struct rp_h1_error err;
	uint64_t pos;        /* stream offset of the next unconsumed byte */
	uint64_t messages;   /* messages completed */

	struct rp_h1_options opt;
	enum rp_h1_kind kind;
	enum rp_h1_state state;
	uint32_t reject;     /* anomalies that are errors */
	uint32_t carry;      /* anomalies met before the start line */
	uint32_t seen;       /* header facts of this message (parse.c) */
	uint32_t hdr_bytes;  /* bytes of the current header/trailer section */
	uint32_t hdr_count;
	size_t scan;         /* bytes of the unconsumed input already searched */
	size_t skip;         /* empty-line bytes before a start line, checked */
	uint64_t remaining;  /* body or chunk bytes left */
	uint64_t cl;         /* first Content-Length value */
	enum rp_h1_method next_method; /* response parser: set by rp_h1_set_method */
	uint8_t need_crlf;   /* a CRLF ends the chunk data before the next size */
};

/* Fills |opt| with STRICT mode and the limits from limits.h. */
void rp_h1_options_init(struct rp_h1_options *opt);

/* Prepares |p| to parse a stream of |kind| messages.  |opt| is copied; NULL
 * means rp_h1_options_init's defaults, zero limits mean the defaults. */
void rp_h1_init(struct rp_h1_parser *p, enum rp_h1_kind kind, const struct rp_h1_options *opt);

/* Starts over on a new stream, keeping kind and options. */
void rp_h1_reset(struct rp_h1_parser *p);

/* Parses the front of |in| (|n| bytes, see the input contract above) and
 * describes the result in |ev|.  Returns the number of bytes consumed (0 is
 * possible: HEADERS_DONE of a bodiless message is followed by a MESSAGE_DONE
 * that consumes nothing, and PAUSED consumes nothing), or:
 *   RP_E_AGAIN  nothing consumed; call again with the same bytes and more;
 *   RP_E_PROTO  malformed or (STRICT) ambiguous input: p->err says where
 *               and why; p->err.anomaly names the anomaly if one caused it;
 *   RP_E_LIMIT  a limit of the options was exceeded: p->err.limit says which.
 * Errors are sticky: every later call returns the same code.  |ev| is
 * written only on success; its slices point into |in|. */
ssize_t rp_h1_parse(struct rp_h1_parser *p, const uint8_t *in, size_t n, struct rp_h1_event *ev);

/* Tells the parser the stream has ended.  Call it after rp_h1_parse has
 * returned RP_E_AGAIN.  Returns 1 with a MESSAGE_DONE event in |ev| when the
 * end completes a message (a body read until close, or a message whose
 * MESSAGE_DONE was still due), 0 when the stream ended cleanly between
 * messages (or in a tunnel or pause), RP_E_PROTO when it ended inside a
 * message (p->err says where), or the sticky error. */
int rp_h1_finish(struct rp_h1_parser *p, struct rp_h1_event *ev);

/* Response parser: the response that comes next answers a request with
 * method |m|.  HEAD responses have no body and 2xx answers to CONNECT open
 * a tunnel.  The setting lasts through 1xx interim responses and is cleared
 * when a final response completes (the default is RP_H1_M_OTHER). */
void rp_h1_set_method(struct rp_h1_parser *p, enum rp_h1_method m);

/* Request parser, after a CONNECT or Upgrade request completed and the
 * parser returned PAUSED: |tunnel| nonzero when the response switched
 * protocols (101, or 2xx to CONNECT) so what follows is a tunnel; zero when
 * the request was refused and HTTP/1 goes on.  Does nothing in other states. */
void rp_h1_resume(struct rp_h1_parser *p, int tunnel);

/* The static reason for the parser's error, or "no error". */
const char *rp_h1_reason(const struct rp_h1_parser *p);

/* The status a server should answer the error of a request parser with:
 * 431 for header size or count, 414 for a request line too long, 400
 * otherwise (and 0 when there is no error). */
int rp_h1_error_status(const struct rp_h1_parser *p);

/* Classifies the method token |s| (case-sensitive, RFC 9110 §9.1). */
enum rp_h1_method rp_h1_method_parse(struct rp_slice s);

/* "GET", "HEAD", ... or "OTHER". */
const char *rp_h1_method_name(enum rp_h1_method m);

/* "HTTP/1.0", "HTTP/1.1", ... for |major|.|minor| (single digits), or
 * "HTTP/?" otherwise.  Static. */
const char *rp_h1_version_name(uint8_t major, uint8_t minor);

/* Static short name of one anomaly bit ("cl-and-te"), or "?". */
const char *rp_h1_anomaly_name(uint32_t bit);

/* Writes the names of the bits in |anomalies| separated by commas into
 * |out| (NUL-terminated, truncated to |outlen|) and returns |out|; "none"
 * when no bit is set. */
const char *rp_h1_anomalies_format(uint32_t anomalies, char *out, size_t outlen);

/* Static short name of parser state |s| ("headers", "chunk-size", ...),
 * for logs such as "while reading headers". */
const char *rp_h1_state_name(enum rp_h1_state s);

/* Static short name of limit |l| ("header-bytes", ...), or "none". */
const char *rp_h1_limit_name(enum rp_h1_limit l);

/* Copies the field value |v| into |out| (at least v.n bytes) with each
 * obs-fold (CR LF or LF followed by spaces and tabs) replaced by one space,
 * as RFC 9112 §5.2 asks of a recipient.  Returns the length written. */
size_t rp_h1_unfold(struct rp_slice v, uint8_t *out);

#endif
