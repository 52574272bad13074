/*
 * parse: the HTTP/1 message parser (RFC 9112), codec stage of the pipeline.
 * It turns a byte stream into events — start line, fields, framing, chunk
 * lines, body slices, trailers, message end, tunnel bytes — for the proxy,
 * the sniffer and the replayer alike.
 *
 * Invariants:
 *   - Each call returns exactly one event or consumes nothing.  Every byte is
 *     consumed by one event: empty lines before a start line go with the
 *     start line, the CRLF after chunk data with the next chunk-size line,
 *     the blank line ending a section with HEADERS_DONE or MESSAGE_DONE.
 *   - Lines (start line, field with its continuation lines, chunk-size line)
 *     are consumed whole.  While one is incomplete nothing is consumed and
 *     |scan| remembers how far we searched for its LF, so a line fed one byte
 *     at a time costs linear work.  |skip| does the same for empty lines
 *     before a start line.  Both are offsets into the unconsumed input and
 *     are zeroed whenever something is consumed.
 *   - When folds are tolerated (LENIENT, or STRICT allowing obs-fold), a
 *     field is emitted only once the first byte of the next line is known,
 *     so a continuation line can never arrive after its field.  Otherwise a
 *     field is emitted at its LF and a continuation line is an error.
 *   - No allocation, no I/O, no globals but the constant class table.
 *     Memory is the struct whatever the input; every line has a cap.
 *   - Anomalies go through anomaly(): recorded always, an error when the mode
 *     rejects them.  Input that cannot be framed goes through fail() in both
 *     modes.  Errors are sticky (state RP_H1_S_ERROR).
 */
#include "config.h"

#include <string.h>

#include "reprise/http1.h"
#include "reprise/limits.h"

/* ---- character classes ---------------------------------------------------- */

enum {
	C_TCHAR = 1,  /* token character (RFC 9110 §5.6.2) */
	C_VALUE = 2,  /* field-value byte: HTAB, SP, VCHAR, obs-text */
	C_TARGET = 4, /* request-target byte: VCHAR or obs-text (we accept UTF-8) */
	C_HEX = 8,
	C_WS = 16,    /* SP or HTAB */
	C_QDTEXT = 32,/* quoted-string text (RFC 9110 §5.6.4), without '\\' */
};

/* Per-byte classes.  Columns: V value, T target, Q qdtext, K token. */
#define VT (C_VALUE | C_TARGET)
#define VTQ (C_VALUE | C_TARGET | C_QDTEXT)
#define VTQK (C_VALUE | C_TARGET | C_QDTEXT | C_TCHAR)
#define HEXK (VTQK | C_HEX)
static const uint8_t cclass[256] = {
	['\t'] = C_VALUE | C_WS | C_QDTEXT,
	[' '] = C_VALUE | C_WS | C_QDTEXT,
	['!'] = VTQK,
	['"'] = VT,
	['#' ... '\''] = VTQK,
	['('] = VTQ,
	[')'] = VTQ,
	['*'] = VTQK,
	['+'] = VTQK,
	[','] = VTQ,
	['-'] = VTQK,
	['.'] = VTQK,
	['/'] = VTQ,
	['0' ... '9'] = HEXK,
	[':' ... '@'] = VTQ,
	['A' ... 'F'] = HEXK,
	['G' ... 'Z'] = VTQK,
	['['] = VTQ,
	['\\'] = VT,
	[']'] = VTQ,
	['^' ... '`'] = VTQK,
	['a' ... 'f'] = HEXK,
	['g' ... 'z'] = VTQK,
	['{'] = VTQ,
	['|'] = VTQK,
	['}'] = VTQ,
	['~'] = VTQK,
	[0x80 ... 0xff] = VTQ,
};
#undef VT
#undef VTQ
#undef VTQK
#undef HEXK

static inline int is_tchar(uint8_t c) { return cclass[c] & C_TCHAR; }
static inline int is_ws(uint8_t c) { return c == ' ' || c == '\t'; }

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c;
}

/* |a| (any case) equals the lowercase literal |lit| of length |n|. */
static inline int ieq(const uint8_t *a, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != (uint8_t)lit[i])
			return 0;
	return 1;
}

#define IEQ(p, n, lit) ((n) == sizeof(lit) - 1 && ieq((p), (lit), sizeof(lit) - 1))

/* ---- header facts kept in p->seen ----------------------------------------- */

enum {
	H_CL = 1u << 0,
	H_CL_BAD = 1u << 1,      /* invalid or conflicting Content-Length */
	H_TE = 1u << 2,
	H_TE_LAST_CHUNKED = 1u << 3,
	H_TE_HAS_CHUNKED = 1u << 4,
	H_TE_BAD = 1u << 5,
	H_CONN_CLOSE = 1u << 6,
	H_CONN_KA = 1u << 7,
	H_CONN_UPGRADE = 1u << 8,
	H_UPGRADE = 1u << 9,
	H_UPGRADE_H2C = 1u << 10,
	H_EXPECT = 1u << 11,
};

/* ---- errors and anomalies ------------------------------------------------- */

static const char *const anomaly_why[RP_H1_A_COUNT] = {
	"Content-Length together with Transfer-Encoding",
	"repeated Content-Length",
	"conflicting Content-Length values",
	"invalid Content-Length",
	"request Transfer-Encoding does not end in chunked",
	"chunked transfer coding applied twice",
	"invalid Transfer-Encoding value",
	"Transfer-Encoding in an HTTP/1.0 message",
	"obs-fold line continuation in a field",
	"line ended by a bare LF",
	"whitespace between field name and colon",
	"invalid character in a field name",
	"control character in a field value",
	"field name resembles Content-Length or Transfer-Encoding",
	"invalid chunk size",
	"malformed chunk extension",
	"GET or HEAD request with a body",
	"data after a message that closed the connection",
	"HTTP/1 minor version above 1",
};

static ssize_t fail(struct rp_h1_parser *p, int code, size_t off, const char *why, uint32_t anomaly,
		    enum rp_h1_limit limit)
{
	p->err.code = code;
	p->err.state = p->state;
	p->err.limit = limit;
	p->err.anomaly = anomaly;
	p->err.offset = p->pos + off;
	p->err.why = why;
	p->msg.anomalies |= anomaly;
	p->state = RP_H1_S_ERROR;
	return code;
}

static ssize_t fail_proto(struct rp_h1_parser *p, size_t off, const char *why)
{
	return fail(p, RP_E_PROTO, off, why, 0, RP_H1_LIM_NONE);
}

static ssize_t fail_limit(struct rp_h1_parser *p, size_t off, enum rp_h1_limit limit, const char *why)
{
	return fail(p, RP_E_LIMIT, off, why, 0, limit);
}

static unsigned bit_index(uint32_t bit)
{
	return (unsigned)__builtin_ctz(bit);
}

/* Records anomaly |bit| found at |off|.  Returns 0 when the mode tolerates
 * it, or RP_E_PROTO (after fail) when it rejects it. */
static inline ssize_t anomaly(struct rp_h1_parser *p, uint32_t bit, size_t off)
{
	p->msg.anomalies |= bit;
	if (RP_UNLIKELY(p->reject & bit))
		return fail(p, RP_E_PROTO, off, anomaly_why[bit_index(bit)], bit, RP_H1_LIM_NONE);
	return 0;
}

/* An anomaly that cannot be framed: an error in every mode. */
static ssize_t fatal_anomaly(struct rp_h1_parser *p, uint32_t bit, size_t off, const char *why)
{
	return fail(p, RP_E_PROTO, off, why ? why : anomaly_why[bit_index(bit)], bit, RP_H1_LIM_NONE);
}

#define TRY(expr)                         \
	do {                              \
		ssize_t try_r_ = (expr);  \
		if (RP_UNLIKELY(try_r_ < 0)) \
			return try_r_;    \
	} while (0)

/* ---- setup ---------------------------------------------------------------- */

void rp_h1_options_init(struct rp_h1_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->mode = RP_H1_STRICT;
	opt->max_start_line = RP_LIMIT_H1_START_LINE;
	opt->max_header_bytes = RP_LIMIT_H1_HEADER_BYTES;
	opt->max_headers = RP_LIMIT_H1_HEADER_COUNT;
	opt->max_chunk_line = RP_LIMIT_H1_CHUNK_LINE;
}

void rp_h1_init(struct rp_h1_parser *p, enum rp_h1_kind kind, const struct rp_h1_options *opt)
{
	memset(p, 0, sizeof(*p));
	if (opt)
		p->opt = *opt;
	else
		rp_h1_options_init(&p->opt);
	if (!p->opt.max_start_line)
		p->opt.max_start_line = RP_LIMIT_H1_START_LINE;
	if (!p->opt.max_header_bytes)
		p->opt.max_header_bytes = RP_LIMIT_H1_HEADER_BYTES;
	if (!p->opt.max_headers)
		p->opt.max_headers = RP_LIMIT_H1_HEADER_COUNT;
	if (!p->opt.max_chunk_line)
		p->opt.max_chunk_line = RP_LIMIT_H1_CHUNK_LINE;
	p->kind = kind;
	p->reject = p->opt.mode == RP_H1_STRICT ? (RP_H1_A_STRICT_REJECT & ~p->opt.allow) : 0;
	p->state = RP_H1_S_START;
}

void rp_h1_reset(struct rp_h1_parser *p)
{
	struct rp_h1_options opt = p->opt;
	rp_h1_init(p, p->kind, &opt);
}

void rp_h1_set_method(struct rp_h1_parser *p, enum rp_h1_method m)
{
	p->next_method = m;
}

void rp_h1_resume(struct rp_h1_parser *p, int tunnel)
{
	if (p->state != RP_H1_S_PAUSED)
		return;
	if (tunnel)
		p->state = RP_H1_S_TUNNEL;
	else
		p->state = (p->msg.flags & RP_H1_F_KEEP_ALIVE) ? RP_H1_S_START : RP_H1_S_CLOSED;
}

/* ---- lines ------------------------------------------------------------------ */

/* Looks for the LF ending a line that started before |from| within the first
 * |window| bytes of |in| (|n| available), resuming the search at p->scan.
 * Returns its index, or -1 when it is not there yet (p->scan remembers how
 * far we looked), or -2 when |window| bytes hold no LF (the line is too
 * long). */
static inline ssize_t find_lf(struct rp_h1_parser *p, const uint8_t *in, size_t n, size_t from,
			      size_t window)
{
	size_t end = n < window ? n : window;
	if (p->scan > from)
		from = p->scan;
	if (from < end) {
		const uint8_t *lf = memchr(in + from, '\n', end - from);
		if (lf)
			return lf - in;
	}
	if (n >= window)
		return -2;
	p->scan = end;
	return -1;
}

static inline ssize_t consumed(struct rp_h1_parser *p, size_t n)
{
	p->scan = 0;
	p->skip = 0;
	p->pos += n;
	return (ssize_t)n;
}

/* Parses "HTTP/d.d" at |s| (8 bytes available).  Returns 0, or -1. */
static int parse_version(const uint8_t *s, uint8_t *major, uint8_t *minor)
{
	if (memcmp(s, "HTTP/", 5) != 0 || s[5] < '0' || s[5] > '9' || s[6] != '.' || s[7] < '0' ||
	    s[7] > '9')
		return -1;
	*major = (uint8_t)(s[5] - '0');
	*minor = (uint8_t)(s[7] - '0');
	return 0;
}

static ssize_t check_version(struct rp_h1_parser *p, size_t off)
{
	if (p->msg.major != 1)
		return fail_proto(p, off, p->msg.major == 2 ? "HTTP/2 is not HTTP/1 (expected HTTP/1.x)"
							    : "unsupported HTTP version");
	if (p->msg.minor > 1)
		TRY(anomaly(p, RP_H1_A_VERSION, off));
	return 0;
}

/* Clears the per-message state at a start line. */
static void message_begin(struct rp_h1_parser *p)
{
	memset(&p->msg, 0, sizeof(p->msg));
	p->msg.anomalies = p->carry;
	p->carry = 0;
	p->seen = 0;
	p->hdr_bytes = 0;
	p->hdr_count = 0;
	p->remaining = 0;
	p->cl = 0;
	p->need_crlf = 0;
}

static ssize_t request_line(struct rp_h1_parser *p, const uint8_t *in, size_t i, size_t end,
			    struct rp_h1_event *ev)
{
	size_t m0 = i;
	while (i < end && is_tchar(in[i]))
		i++;
	if (i == m0)
		return fail_proto(p, i, "invalid request method");
	if (i == end || in[i] != ' ')
		return fail_proto(p, i, "expected one space after the method");
	struct rp_slice method = rp_slice(in + m0, i - m0);
	size_t t0 = ++i;
	while (i < end && (cclass[in[i]] & C_TARGET))
		i++;
	if (i == t0)
		return fail_proto(p, i, "empty or invalid request target");
	struct rp_slice target = rp_slice(in + t0, i - t0);
	if (RP_UNLIKELY(method.n == 3 && memcmp(method.p, "PRI", 3) == 0 && target.n == 1 &&
			target.p[0] == '*')) {
		fail_proto(p, m0, "HTTP/2 connection preface (PRI * HTTP/2.0)");
		p->err.h2_preface = 1;
		return RP_E_PROTO;
	}
	if (i == end)
		return fail_proto(p, i, "request line has no HTTP version (HTTP/0.9 is not supported)");
	if (in[i] != ' ')
		return fail_proto(p, i, "invalid character in request target");
	size_t v0 = ++i;
	if (end - v0 != 8 || parse_version(in + v0, &p->msg.major, &p->msg.minor) < 0)
		return fail_proto(p, v0, "invalid HTTP version in request line");
	TRY(check_version(p, v0));
	p->msg.method = rp_h1_method_parse(method);
	ev->type = RP_H1_EV_REQUEST_LINE;
	ev->u.req.method = method;
	ev->u.req.target = target;
	ev->u.req.m = p->msg.method;
	ev->u.req.major = p->msg.major;
	ev->u.req.minor = p->msg.minor;
	return 0;
}

static ssize_t status_line(struct rp_h1_parser *p, const uint8_t *in, size_t i, size_t end,
			   struct rp_h1_event *ev)
{
	if (end - i < 12 || parse_version(in + i, &p->msg.major, &p->msg.minor) < 0)
		return fail_proto(p, i, "invalid HTTP version in status line");
	TRY(check_version(p, i));
	i += 8;
	if (in[i] != ' ')
		return fail_proto(p, i, "expected one space after the HTTP version");
	i++;
	if (in[i] < '0' || in[i] > '9' || in[i + 1] < '0' || in[i + 1] > '9' || in[i + 2] < '0' ||
	    in[i + 2] > '9' || in[i] == '0')
		return fail_proto(p, i, "invalid status code");
	p->msg.status = (uint16_t)((in[i] - '0') * 100 + (in[i + 1] - '0') * 10 + (in[i + 2] - '0'));
	i += 3;
	size_t r0 = i;
	if (i < end) {
		if (in[i] != ' ')
			return fail_proto(p, i, "invalid status code");
		r0 = ++i;
		for (; i < end; i++)
			if (!(cclass[in[i]] & C_VALUE))
				return fail_proto(p, i, "control character in reason phrase");
	}
	p->msg.method = p->next_method;
	ev->type = RP_H1_EV_STATUS_LINE;
	ev->u.status.reason = rp_slice(in + r0, end - r0);
	ev->u.status.status = p->msg.status;
	ev->u.status.major = p->msg.major;
	ev->u.status.minor = p->msg.minor;
	return 0;
}

static ssize_t start_line(struct rp_h1_parser *p, const uint8_t *in, size_t n, struct rp_h1_event *ev)
{
	size_t max = p->opt.max_start_line;
	size_t i = p->skip;

	/* RFC 9112 §2.2: ignore empty lines before a start line. */
	while (i < n && (in[i] == '\r' || in[i] == '\n')) {
		if (in[i] == '\n') {
			p->carry |= RP_H1_A_BARE_LF;
			if (p->reject & RP_H1_A_BARE_LF)
				return fatal_anomaly(p, RP_H1_A_BARE_LF, i, NULL);
			i++;
		} else if (i + 1 == n) {
			break;
		} else if (in[i + 1] == '\n') {
			i += 2;
		} else {
			return fail_proto(p, i + 1, "CR not followed by LF before the start line");
		}
		if (i > max)
			return fail_limit(p, i, RP_H1_LIM_START_LINE, "too many empty lines before the start line");
	}
	p->skip = i;
	if (i == n || in[i] == '\r')
		return RP_E_AGAIN;

	if (p->state == RP_H1_S_CLOSED) {
		p->carry |= RP_H1_A_DATA_AFTER_CLOSE;
		if (p->reject & RP_H1_A_DATA_AFTER_CLOSE)
			return fatal_anomaly(p, RP_H1_A_DATA_AFTER_CLOSE, i, NULL);
	}

	ssize_t e = find_lf(p, in, n, i, max);
	if (e == -1)
		return RP_E_AGAIN;
	if (e == -2)
		return fail_limit(p, max, RP_H1_LIM_START_LINE, "start line too long");

	size_t end = (size_t)e;
	int bare = !(end > i && in[end - 1] == '\r');
	if (!bare)
		end--;
	message_begin(p);
	p->state = RP_H1_S_START; /* a sticky error reports the start line */
	if (bare)
		TRY(anomaly(p, RP_H1_A_BARE_LF, (size_t)e));
	/* The class checks below reject a CR inside the line. */
	if (p->kind == RP_H1_REQUEST)
		TRY(request_line(p, in, i, end, ev));
	else
		TRY(status_line(p, in, i, end, ev));
	p->state = RP_H1_S_HEADERS;
	return consumed(p, (size_t)e + 1);
}

/* ---- field values ------------------------------------------------------------ */

/* Word-at-a-time test for bytes below 0x20 or equal to 0x7f. */
static inline int word_has_ctl(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t below = (w - ones * 0x20) & ~w;
	uint64_t x = w ^ (ones * 0x7f);
	uint64_t del = (x - ones) & ~x;
	return ((below | del) & high) != 0;
}

/* Validates the value bytes [i, end).  Folds (CR LF SP, LF SP) are allowed:
 * they were found and recorded when the line was delimited.  Any other
 * control byte is RP_H1_A_VALUE_CHAR. */
static ssize_t check_value(struct rp_h1_parser *p, const uint8_t *in, size_t i, size_t end)
{
	while (i < end) {
		if (end - i >= 8) {
			uint64_t w;
			memcpy(&w, in + i, 8);
			if (!word_has_ctl(w)) {
				i += 8;
				continue;
			}
		}
		uint8_t c = in[i];
		if (RP_LIKELY(cclass[c] & C_VALUE)) {
			i++;
			continue;
		}
		if (c == '\r' && i + 2 < end && in[i + 1] == '\n' && is_ws(in[i + 2])) {
			i += 3;
			continue;
		}
		if (c == '\n' && i + 1 < end && is_ws(in[i + 1])) {
			i += 2;
			continue;
		}
		TRY(anomaly(p, RP_H1_A_VALUE_CHAR, i));
		i++;
	}
	return 0;
}

/* Whitespace trimmed from a value: SP and HTAB, and in a folded value the
 * CR and LF of its folds. */
static inline int trim_ws(uint8_t c, int folded)
{
	return c == ' ' || c == '\t' || (folded && (c == '\r' || c == '\n'));
}

/* Runs |body| with |elem| set to each comma-separated element of |v|, with
 * surrounding whitespace (and fold bytes) removed.  `continue` in |body|
 * moves to the next element. */
#define FOR_EACH_ELEMENT(v, elem, body)                                              \
	do {                                                                         \
		size_t fe_i_ = 0;                                                    \
		while (fe_i_ <= (v).n) {                                             \
			size_t fe_j_ = fe_i_;                                        \
			while (fe_j_ < (v).n && (v).p[fe_j_] != ',')                 \
				fe_j_++;                                             \
			size_t fe_a_ = fe_i_, fe_b_ = fe_j_;                         \
			while (fe_a_ < fe_b_ && trim_ws((v).p[fe_a_], 1))            \
				fe_a_++;                                             \
			while (fe_b_ > fe_a_ && trim_ws((v).p[fe_b_ - 1], 1))        \
				fe_b_--;                                             \
			struct rp_slice elem = rp_slice((v).p + fe_a_, fe_b_ - fe_a_); \
			fe_i_ = fe_j_ + 1;                                           \
			body;                                                        \
		}                                                                    \
	} while (0)

/* ---- framing fields ------------------------------------------------------------ */

static ssize_t content_length(struct rp_h1_parser *p, struct rp_slice v, size_t off)
{
	uint64_t first = 0;
	int count = 0, bad = 0, differ = 0;

	FOR_EACH_ELEMENT(v, e, {
		uint64_t x = 0;
		if (e.n == 0)
			bad = 1;
		for (size_t k = 0; k < e.n; k++) {
			uint8_t c = e.p[k];
			if (c < '0' || c > '9' || x > (UINT64_MAX - (uint64_t)(c - '0')) / 10) {
				bad = 1;
				break;
			}
			x = x * 10 + (uint64_t)(c - '0');
		}
		if (!bad) {
			if (count && x != first)
				differ = 1;
			if (!count)
				first = x;
		}
		count++;
	});

	if (bad) {
		p->seen |= H_CL_BAD;
		TRY(anomaly(p, RP_H1_A_CL_INVALID, off));
	} else if (differ) {
		p->seen |= H_CL_BAD;
		TRY(anomaly(p, RP_H1_A_CL_CONFLICT, off));
	} else {
		if (count > 1)
			TRY(anomaly(p, RP_H1_A_CL_DUP, off));
		if (p->seen & H_CL) {
			if (first != p->cl) {
				p->seen |= H_CL_BAD;
				TRY(anomaly(p, RP_H1_A_CL_CONFLICT, off));
			} else {
				TRY(anomaly(p, RP_H1_A_CL_DUP, off));
			}
		} else {
			p->cl = first;
		}
	}
	p->seen |= H_CL;
	return 0;
}

static ssize_t transfer_encoding(struct rp_h1_parser *p, struct rp_slice v, size_t off)
{
	p->seen |= H_TE;
	FOR_EACH_ELEMENT(v, e, {
		if (e.n == 0)
			continue; /* RFC 9110 §5.6.1: empty list elements are ignored */
		size_t k = 0;
		while (k < e.n && is_tchar(e.p[k]))
			k++;
		size_t tok = k;
		while (k < e.n && is_ws(e.p[k]))
			k++;
		/* parameters after ';' do not change framing */
		if (tok == 0 || (k < e.n && e.p[k] != ';')) {
			p->seen = (p->seen | H_TE_BAD) & ~(uint32_t)H_TE_LAST_CHUNKED;
			TRY(anomaly(p, RP_H1_A_TE_INVALID, off));
			continue;
		}
		if (IEQ(e.p, tok, "chunked")) {
			if (p->seen & H_TE_HAS_CHUNKED)
				TRY(anomaly(p, RP_H1_A_TE_CHUNKED_TWICE, off));
			p->seen |= H_TE_HAS_CHUNKED | H_TE_LAST_CHUNKED;
		} else {
			p->seen &= ~(uint32_t)H_TE_LAST_CHUNKED;
		}
	});
	return 0;
}

static void connection(struct rp_h1_parser *p, struct rp_slice v)
{
	FOR_EACH_ELEMENT(v, e, {
		if (IEQ(e.p, e.n, "close"))
			p->seen |= H_CONN_CLOSE;
		else if (IEQ(e.p, e.n, "keep-alive"))
			p->seen |= H_CONN_KA;
		else if (IEQ(e.p, e.n, "upgrade"))
			p->seen |= H_CONN_UPGRADE;
	});
}

static void upgrade(struct rp_h1_parser *p, struct rp_slice v)
{
	p->seen |= H_UPGRADE;
	FOR_EACH_ELEMENT(v, e, {
		if (IEQ(e.p, e.n, "h2c"))
			p->seen |= H_UPGRADE_H2C;
	});
}

/* Does |name| spell Content-Length or Transfer-Encoding once everything but
 * letters is dropped?  Names like "Transfer_Encoding" or "\x01Content-Length"
 * are not framing fields, yet some servers read them as such. */
static int resembles_framing(struct rp_slice name)
{
	static const char cl[] = "contentlength", te[] = "transferencoding";
	const char *want = NULL;
	size_t k = 0;
	for (size_t i = 0; i < name.n; i++) {
		uint8_t c = lower(name.p[i]);
		if (c < 'a' || c > 'z')
			continue;
		if (!want) {
			if (c == 'c')
				want = cl;
			else if (c == 't')
				want = te;
			else
				return 0;
		}
		if (want[k] != (char)c)
			return 0;
		k++;
	}
	return want && want[k] == '\0';
}

/* Interprets a header field (not a trailer). */
static ssize_t header_semantics(struct rp_h1_parser *p, struct rp_slice name, struct rp_slice value,
				size_t off)
{
	const uint8_t *s = name.p;
	switch (name.n) {
	case 6:
		if (ieq(s, "expect", 6)) {
			if (IEQ(value.p, value.n, "100-continue"))
				p->seen |= H_EXPECT;
			return 0;
		}
		break;
	case 7:
		if (ieq(s, "upgrade", 7)) {
			upgrade(p, value);
			return 0;
		}
		break;
	case 10:
		if (ieq(s, "connection", 10)) {
			connection(p, value);
			return 0;
		}
		break;
	case 14:
		if (ieq(s, "content-length", 14))
			return content_length(p, value, off);
		break;
	case 17:
		if (ieq(s, "transfer-encoding", 17))
			return transfer_encoding(p, value, off);
		break;
	}
	if (name.n >= 13 && resembles_framing(name))
		return anomaly(p, RP_H1_A_SUSPICIOUS_NAME, off);
	return 0;
}

/* ---- field lines ------------------------------------------------------------------ */

static ssize_t headers_done(struct rp_h1_parser *p, size_t n_consumed, struct rp_h1_event *ev);
static ssize_t message_done(struct rp_h1_parser *p, size_t n_consumed, struct rp_h1_event *ev);

/* One field line (with obs-fold continuation lines) of the header section
 * (|trailer| 0) or the trailer section, or the blank line ending it. */
static ssize_t field_line(struct rp_h1_parser *p, const uint8_t *in, size_t n, struct rp_h1_event *ev,
			  int trailer)
{
	if (n == 0)
		return RP_E_AGAIN;

	uint8_t c0 = in[0];
	if (c0 == '\r' || c0 == '\n') {
		size_t len = 1;
		if (c0 == '\r') {
			if (n < 2)
				return RP_E_AGAIN;
			if (in[1] != '\n')
				return fail_proto(p, 1, trailer ? "CR not followed by LF after the trailers"
								: "CR not followed by LF after the header section");
			len = 2;
		} else {
			TRY(anomaly(p, RP_H1_A_BARE_LF, 0));
		}
		return trailer ? message_done(p, len, ev) : headers_done(p, len, ev);
	}
	if (is_ws(c0)) {
		/* Whitespace right after the start line (or the last chunk):
		 * RFC 9112 §2.2 lets us reject it.  Later on, a continuation
		 * line is joined to its field below when folds are tolerated;
		 * when they are not, we get here and reject it. */
		return fatal_anomaly(p, RP_H1_A_OBS_FOLD, 0,
				     p->hdr_count ? NULL : "whitespace before the first field line");
	}

	/* A field is complete at its LF unless folds are tolerated: then the
	 * next line's first byte must be seen first. */
	int lookahead = !(p->reject & RP_H1_A_OBS_FOLD);
	size_t window = p->opt.max_header_bytes - p->hdr_bytes;
	size_t from = 0, e, first_lf = 0;
	int folded = 0, resumed = p->scan > 0;
	for (;;) {
		ssize_t r = find_lf(p, in, n, from, window);
		if (r == -1)
			return RP_E_AGAIN;
		if (r == -2)
			return fail_limit(p, window, RP_H1_LIM_HEADER_BYTES,
					  trailer ? "trailer section too large" : "header section too large");
		e = (size_t)r;
		if (!folded)
			first_lf = e;
		if (RP_UNLIKELY(e == 0 || in[e - 1] != '\r'))
			TRY(anomaly(p, RP_H1_A_BARE_LF, e));
		if (!lookahead)
			break;
		if (e + 1 >= n) {
			p->scan = e; /* need the next line's first byte */
			return RP_E_AGAIN;
		}
		if (RP_LIKELY(!is_ws(in[e + 1])))
			break;
		TRY(anomaly(p, RP_H1_A_OBS_FOLD, e + 1));
		folded = 1;
		from = e + 1;
		p->scan = from;
	}
	if (RP_UNLIKELY(resumed)) {
		/* The search went on from an earlier call, possibly past the
		 * first line of a fold group: find where that line ends. */
		first_lf = (size_t)((const uint8_t *)memchr(in, '\n', e + 1) - in);
		folded = first_lf != e;
	}

	if (RP_UNLIKELY(p->hdr_count >= p->opt.max_headers))
		return fail_limit(p, 0, RP_H1_LIM_HEADER_COUNT,
				  trailer ? "too many trailer fields" : "too many header fields");
	p->hdr_count++;
	p->hdr_bytes += (uint32_t)(e + 1);

	/* name */
	size_t k = 0;
	while (is_tchar(in[k]))
		k++;
	size_t name_end = k, colon = k;
	if (RP_UNLIKELY(in[k] != ':')) {
		const uint8_t *cp = memchr(in + k, ':', first_lf - k);
		if (!cp)
			return fail_proto(p, k, "field line without a colon");
		colon = (size_t)(cp - in);
		name_end = colon;
		while (name_end > 0 && is_ws(in[name_end - 1]))
			name_end--;
		if (name_end < colon)
			TRY(anomaly(p, RP_H1_A_WS_BEFORE_COLON, name_end));
		for (size_t j = k; j < name_end; j++)
			if (!is_tchar(in[j])) {
				TRY(anomaly(p, RP_H1_A_NAME_CHAR, j));
				break;
			}
	}
	if (RP_UNLIKELY(name_end == 0))
		TRY(anomaly(p, RP_H1_A_NAME_CHAR, 0));

	/* value */
	size_t v0 = colon + 1, v1 = e;
	if (in[v1 - 1] == '\r' && v1 - 1 >= v0)
		v1--;
	TRY(check_value(p, in, v0, v1));
	while (v0 < v1 && trim_ws(in[v0], folded))
		v0++;
	while (v1 > v0 && trim_ws(in[v1 - 1], folded))
		v1--;

	struct rp_slice name = rp_slice(in, name_end), value = rp_slice(in + v0, v1 - v0);
	if (!trailer) {
		TRY(header_semantics(p, name, value, 0));
		p->msg.nfields++;
		ev->type = RP_H1_EV_HEADER;
	} else {
		p->msg.ntrailers++;
		p->msg.flags |= RP_H1_F_TRAILERS;
		ev->type = RP_H1_EV_TRAILER;
	}
	ev->u.field.name = name;
	ev->u.field.value = value;
	return consumed(p, e + 1);
}

/* ---- framing ---------------------------------------------------------------------- */

static ssize_t request_framing(struct rp_h1_parser *p, size_t off)
{
	struct rp_h1_msg *m = &p->msg;
	uint32_t s = p->seen;
	int bodyless_method = m->method == RP_H1_M_GET || m->method == RP_H1_M_HEAD;

	if (s & H_TE) {
		if (s & H_CL)
			TRY(anomaly(p, RP_H1_A_CL_AND_TE, off));
		if (m->minor == 0)
			TRY(anomaly(p, RP_H1_A_TE_HTTP10, off));
		if (bodyless_method)
			TRY(anomaly(p, RP_H1_A_BODY_IN_GET, off));
		if (s & H_TE_BAD)
			return fatal_anomaly(p, RP_H1_A_TE_INVALID, off,
					     "invalid Transfer-Encoding in a request: length unknown");
		if (s & H_TE_LAST_CHUNKED) {
			m->body = RP_H1_BODY_CHUNKED;
		} else {
			TRY(anomaly(p, RP_H1_A_TE_NOT_CHUNKED, off));
			m->body = RP_H1_BODY_EOF;
		}
	} else if (s & H_CL) {
		if (s & H_CL_BAD)
			return fatal_anomaly(p, (m->anomalies & RP_H1_A_CL_CONFLICT) ? RP_H1_A_CL_CONFLICT
										: RP_H1_A_CL_INVALID,
					     off, "invalid Content-Length in a request: length unknown");
		if (p->cl > 0) {
			if (bodyless_method)
				TRY(anomaly(p, RP_H1_A_BODY_IN_GET, off));
			m->body = RP_H1_BODY_LENGTH;
		}
	}
	if (m->method == RP_H1_M_CONNECT) {
		m->flags |= RP_H1_F_CONNECT;
		m->body = RP_H1_BODY_NONE; /* RFC 9110 §9.3.6: CONNECT has no content */
	}
	if ((s & H_UPGRADE) && (s & H_CONN_UPGRADE))
		m->flags |= RP_H1_F_UPGRADE;
	if (s & H_EXPECT)
		m->flags |= RP_H1_F_EXPECT_CONTINUE;
	return 0;
}

static ssize_t response_framing(struct rp_h1_parser *p, size_t off)
{
	struct rp_h1_msg *m = &p->msg;
	uint32_t s = p->seen;
	unsigned st = m->status;

	if ((s & H_TE) && (s & H_CL))
		TRY(anomaly(p, RP_H1_A_CL_AND_TE, off));
	if ((s & H_TE) && m->minor == 0)
		TRY(anomaly(p, RP_H1_A_TE_HTTP10, off));

	if (st == 101) {
		m->flags |= RP_H1_F_UPGRADE | RP_H1_F_TUNNEL;
	} else if (st < 200) {
		m->flags |= RP_H1_F_INTERIM;
	} else if (m->method == RP_H1_M_CONNECT && st < 300) {
		m->flags |= RP_H1_F_TUNNEL;
	} else if (st == 204 || st == 304 || m->method == RP_H1_M_HEAD) {
		/* no body whatever the fields say */
	} else if (s & H_TE) {
		m->body = (s & H_TE_LAST_CHUNKED) ? RP_H1_BODY_CHUNKED : RP_H1_BODY_EOF;
	} else if (s & H_CL) {
		if (s & H_CL_BAD)
			return fatal_anomaly(p, (m->anomalies & RP_H1_A_CL_CONFLICT) ? RP_H1_A_CL_CONFLICT
										: RP_H1_A_CL_INVALID,
					     off, "invalid Content-Length in a response: length unknown");
		if (p->cl > 0)
			m->body = RP_H1_BODY_LENGTH;
	} else {
		m->body = RP_H1_BODY_EOF;
	}
	return 0;
}

static ssize_t headers_done(struct rp_h1_parser *p, size_t len, struct rp_h1_event *ev)
{
	struct rp_h1_msg *m = &p->msg;
	uint32_t s = p->seen;

	if (p->kind == RP_H1_REQUEST)
		TRY(request_framing(p, 0));
	else
		TRY(response_framing(p, 0));

	if (s & H_CL) {
		m->flags |= RP_H1_F_CONTENT_LENGTH;
		m->content_length = p->cl;
	}
	if (s & H_TE)
		m->flags |= RP_H1_F_TRANSFER_ENCODING;
	if (s & H_TE_LAST_CHUNKED)
		m->flags |= RP_H1_F_CHUNKED;
	if (s & H_CONN_CLOSE)
		m->flags |= RP_H1_F_CONN_CLOSE;
	if (s & H_CONN_KA)
		m->flags |= RP_H1_F_CONN_KEEP_ALIVE;
	if (s & H_UPGRADE_H2C)
		m->flags |= RP_H1_F_H2C_UPGRADE;

	int keep = m->minor >= 1 ? !(s & H_CONN_CLOSE) : ((s & H_CONN_KA) && !(s & H_CONN_CLOSE));
	if (m->body == RP_H1_BODY_EOF || (m->anomalies & RP_H1_A_TE_HTTP10))
		keep = 0;
	if (keep)
		m->flags |= RP_H1_F_KEEP_ALIVE;

	switch (m->body) {
	case RP_H1_BODY_NONE:
		p->state = RP_H1_S_MSG_DONE;
		break;
	case RP_H1_BODY_LENGTH:
		p->remaining = p->cl;
		p->state = RP_H1_S_BODY_LENGTH;
		break;
	case RP_H1_BODY_CHUNKED:
		p->need_crlf = 0;
		p->state = RP_H1_S_CHUNK_SIZE;
		break;
	case RP_H1_BODY_EOF:
		p->state = RP_H1_S_BODY_EOF;
		break;
	}
	ev->type = RP_H1_EV_HEADERS_DONE;
	ev->u.msg = m;
	return consumed(p, len);
}

static ssize_t message_done(struct rp_h1_parser *p, size_t len, struct rp_h1_event *ev)
{
	struct rp_h1_msg *m = &p->msg;
	p->messages++;
	if (p->kind == RP_H1_REQUEST) {
		if (m->flags & (RP_H1_F_UPGRADE | RP_H1_F_CONNECT))
			p->state = RP_H1_S_PAUSED;
		else
			p->state = (m->flags & RP_H1_F_KEEP_ALIVE) ? RP_H1_S_START : RP_H1_S_CLOSED;
	} else if (m->flags & RP_H1_F_TUNNEL) {
		p->state = RP_H1_S_TUNNEL;
	} else if (m->flags & RP_H1_F_INTERIM) {
		p->state = RP_H1_S_START; /* the final response answers the same request */
	} else {
		p->next_method = RP_H1_M_OTHER;
		p->state = (m->flags & RP_H1_F_KEEP_ALIVE) ? RP_H1_S_START : RP_H1_S_CLOSED;
	}
	ev->type = RP_H1_EV_MESSAGE_DONE;
	ev->u.msg = m;
	return consumed(p, len);
}

/* ---- chunked ---------------------------------------------------------------------- */

/* Checks chunk extensions [i, end), which start at ';' (RFC 9112 §7.1.1):
 * *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ). */
static int chunk_ext_valid(const uint8_t *in, size_t i, size_t end)
{
	while (i < end) {
		while (i < end && is_ws(in[i]))
			i++;
		if (i == end || in[i] != ';')
			return 0;
		i++;
		while (i < end && is_ws(in[i]))
			i++;
		size_t t = i;
		while (i < end && is_tchar(in[i]))
			i++;
		if (i == t)
			return 0;
		while (i < end && is_ws(in[i]))
			i++;
		if (i == end || in[i] != '=')
			continue;
		i++;
		while (i < end && is_ws(in[i]))
			i++;
		if (i < end && in[i] == '"') {
			i++;
			for (;;) {
				if (i == end)
					return 0;
				uint8_t c = in[i];
				if (c == '"')
					break;
				if (c == '\\') {
					if (i + 1 == end || !(cclass[in[i + 1]] & C_VALUE))
						return 0;
					i += 2;
					continue;
				}
				if (!(cclass[c] & C_QDTEXT))
					return 0;
				i++;
			}
			i++;
		} else {
			t = i;
			while (i < end && is_tchar(in[i]))
				i++;
			if (i == t)
				return 0;
		}
	}
	return 1;
}

static ssize_t chunk_line(struct rp_h1_parser *p, const uint8_t *in, size_t n, struct rp_h1_event *ev)
{
	size_t i = 0;
	if (p->need_crlf) {
		if (n == 0)
			return RP_E_AGAIN;
		if (in[0] == '\r') {
			if (n < 2)
				return RP_E_AGAIN;
			if (in[1] != '\n')
				return fail_proto(p, 1, "chunk data not followed by CRLF");
			i = 2;
		} else if (in[0] == '\n') {
			TRY(anomaly(p, RP_H1_A_BARE_LF, 0));
			i = 1;
		} else {
			return fail_proto(p, 0, "chunk data not followed by CRLF");
		}
	}
	if (i == n)
		return RP_E_AGAIN;
	if (!(cclass[in[i]] & C_HEX))
		return fatal_anomaly(p, RP_H1_A_CHUNK_SIZE, i, "invalid character in chunk size");

	ssize_t r = find_lf(p, in, n, i, i + p->opt.max_chunk_line);
	if (r == -1)
		return RP_E_AGAIN;
	if (r == -2)
		return fail_limit(p, i + p->opt.max_chunk_line, RP_H1_LIM_CHUNK_LINE, "chunk-size line too long");
	size_t e = (size_t)r, end = e;
	if (end > i && in[end - 1] == '\r')
		end--;
	else
		TRY(anomaly(p, RP_H1_A_BARE_LF, e));

	uint64_t size = 0;
	size_t k = i;
	for (; k < end && (cclass[in[k]] & C_HEX); k++) {
		if (size >> 59)
			return fatal_anomaly(p, RP_H1_A_CHUNK_SIZE, k, "chunk size overflows");
		uint8_t c = in[k];
		unsigned d = c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
		size = (size << 4) | d;
	}
	size_t ext0 = k;
	while (k < end && is_ws(in[k]))
		k++;
	if (k == end) {
		if (k > ext0)
			TRY(anomaly(p, RP_H1_A_CHUNK_EXT, ext0)); /* "a \r\n" */
	} else if (in[k] != ';') {
		return fatal_anomaly(p, RP_H1_A_CHUNK_SIZE, k, "invalid character in chunk size");
	} else if (!chunk_ext_valid(in, ext0, end)) {
		TRY(anomaly(p, RP_H1_A_CHUNK_EXT, k));
	}

	ev->type = RP_H1_EV_CHUNK;
	ev->u.chunk.size = size;
	ev->u.chunk.ext = k < end ? rp_slice(in + k, end - k) : RP_SLICE_NULL;
	if (size == 0) {
		p->hdr_bytes = 0;
		p->hdr_count = 0;
		p->state = RP_H1_S_TRAILERS;
	} else {
		p->remaining = size;
		p->need_crlf = 1;
		p->state = RP_H1_S_CHUNK_DATA;
	}
	return consumed(p, e + 1);
}

/* ---- the entry points ------------------------------------------------------------- */

static inline ssize_t body_bytes(struct rp_h1_parser *p, const uint8_t *in, size_t n, struct rp_h1_event *ev)
{
	size_t take = p->remaining < n ? (size_t)p->remaining : n;
	p->remaining -= take;
	p->msg.body_len += take;
	ev->type = RP_H1_EV_BODY;
	ev->u.data = rp_slice(in, take);
	p->pos += take;
	return (ssize_t)take;
}

ssize_t rp_h1_parse(struct rp_h1_parser *p, const uint8_t *in, size_t n, struct rp_h1_event *ev)
{
	if (RP_UNLIKELY(p->scan > n || p->skip > n)) {
		/* The caller broke the contract (fewer bytes than last time);
		 * searching again from the start is still correct. */
		p->scan = 0;
		p->skip = 0;
	}
	switch (p->state) {
	case RP_H1_S_START:
	case RP_H1_S_CLOSED:
		return start_line(p, in, n, ev);
	case RP_H1_S_HEADERS:
		return field_line(p, in, n, ev, 0);
	case RP_H1_S_TRAILERS:
		return field_line(p, in, n, ev, 1);
	case RP_H1_S_MSG_DONE:
		return message_done(p, 0, ev);
	case RP_H1_S_BODY_LENGTH:
		if (p->remaining == 0)
			return message_done(p, 0, ev);
		/* fall through */
	case RP_H1_S_CHUNK_DATA:
		if (n == 0)
			return RP_E_AGAIN;
		if (p->state == RP_H1_S_CHUNK_DATA && p->remaining <= n) {
			ssize_t r = body_bytes(p, in, n, ev);
			p->state = RP_H1_S_CHUNK_SIZE;
			return r;
		}
		return body_bytes(p, in, n, ev);
	case RP_H1_S_CHUNK_SIZE:
		return chunk_line(p, in, n, ev);
	case RP_H1_S_BODY_EOF:
		if (n == 0)
			return RP_E_AGAIN;
		p->msg.body_len += n;
		p->pos += n;
		ev->type = RP_H1_EV_BODY;
		ev->u.data = rp_slice(in, n);
		return (ssize_t)n;
	case RP_H1_S_PAUSED:
		ev->type = RP_H1_EV_PAUSED;
		return 0;
	case RP_H1_S_TUNNEL:
		if (n == 0)
			return RP_E_AGAIN;
		p->pos += n;
		ev->type = RP_H1_EV_TUNNEL;
		ev->u.data = rp_slice(in, n);
		return (ssize_t)n;
	case RP_H1_S_ERROR:
		return p->err.code;
	}
	return fail_proto(p, 0, "parser state corrupted");
}

int rp_h1_finish(struct rp_h1_parser *p, struct rp_h1_event *ev)
{
	switch (p->state) {
	case RP_H1_S_START:
	case RP_H1_S_CLOSED:
		if (p->scan > 0)
			break; /* a start line was cut short */
		p->scan = p->skip = 0;
		return 0;
	case RP_H1_S_PAUSED:
	case RP_H1_S_TUNNEL:
		return 0;
	case RP_H1_S_MSG_DONE:
		return message_done(p, 0, ev) < 0 ? p->err.code : 1;
	case RP_H1_S_BODY_LENGTH:
		if (p->remaining == 0)
			return message_done(p, 0, ev) < 0 ? p->err.code : 1;
		break;
	case RP_H1_S_BODY_EOF:
		message_done(p, 0, ev);
		p->state = RP_H1_S_CLOSED;
		return 1;
	case RP_H1_S_ERROR:
		return p->err.code;
	default:
		break;
	}
	return (int)fail_proto(p, 0, "stream ended inside a message");
}
