/*
 * har: the JSON interchange formats, in and out — HAR 1.2 (what browsers,
 * proxies and API tools write) and reprise's own JSON lines (one exchange
 * per line, lossless).  An adapter over jansson; it sits beside capture and
 * proxy as a source (import) and after the store as a sink (export).
 *
 * Reading HAR: the file is parsed whole (jansson has no streaming parser), so
 * its size is capped (RP_LIMIT_IMPORT_FILE); entries are then converted one at
 * a time.  HAR bodies are decoded content: a Content-Encoding header is kept
 * and remembered in rp_message.encoding, the body is not re-encoded.  Request
 * and response headers keep the file's order and original names; HTTP/2
 * pseudo headers (":authority", ":path" ... as Chromium writes them) fill the
 * request line and are not kept as headers.  Cookies come from the Cookie and
 * Set-Cookie headers (the HAR "cookies" arrays are derived data).  Times:
 * req_start = startedDateTime; blocked, dns, connect and send end the
 * request, wait ends at the response start, receive at the response end.
 *
 * Reading JSON lines: streamed, one bounded line (RP_LIMIT_RECORD) at a time.
 *
 * Writing: one entry (or line) at a time, never the whole corpus in memory.
 * HAR output carries every field HAR 1.2 requires, with the right type;
 * binary bodies are base64 ("encoding": "base64"; for request bodies, which
 * HAR cannot mark, "_encoding": "base64").  reprise facts without a HAR field
 * travel as custom fields: "_id", "_flags" (names), "_trailers",
 * "_serverPort"; the reader understands them, so HAR -> corpus -> HAR keeps
 * them.
 *
 * The JSON lines format (one object per line, UTF-8):
 *   {"id":12,"conn":3,"stream":0,"seq":1,"proto":"h1.1","flags":0,
 *    "flag_names":"complete","client":"10.0.0.1:51234","server":"10.0.0.2:80",
 *    "timing":{"req_start":NS,"req_end":NS,"resp_start":NS,"resp_end":NS},
 *    "request":{"method":"GET","scheme":"http","authority":"a.example",
 *      "target":"/x?y=1","headers":[["Host","a.example"]],"trailers":[],
 *      "body":"...","body_base64":false,"content_encoding":"",
 *      "wire_len":0,"orig_len":0},
 *    "response":{"status":200,"reason":"OK","headers":[...],"trailers":[],
 *      "body":"...","body_base64":false,"content_encoding":"gzip",
 *      "wire_len":321,"orig_len":1024}}
 * Bodies are text when they are valid UTF-8 without control bytes, base64
 * otherwise ("body_base64" says which).  A string field that is not valid
 * UTF-8 (a header value with obs-text, say) is written as {"base64":"..."}.
 * "id" and "flag_names" are informational: the store assigns ids on import.
 */
#ifndef REPRISE_HAR_H
#define REPRISE_HAR_H

#include <stdio.h>

#include "reprise/exchange.h"

enum rp_har_format {
	RP_HAR_FORMAT_AUTO = 0, /* reading: by extension (.har, .jsonl, .ndjson),
				   else by the first line's shape */
	RP_HAR_FORMAT_HAR = 1,
	RP_HAR_FORMAT_JSONL = 2,
};

/* Parses "har" or "jsonl".  0 or RP_E_USAGE. */
int rp_har_format_parse(const char *s, enum rp_har_format *out);

/* ---- reading ---- */

struct rp_har_reader;

/* Opens |path| in |format| (AUTO detects).  HAR files larger than |max|
 * bytes (0: RP_LIMIT_IMPORT_FILE) are refused.  Returns 0 and sets |*out|, or
 * RP_E_IO (cannot open or read), RP_E_LIMIT (too large), RP_E_FORMAT
 * (malformed JSON: |err| gives "FILE: line L, column C: what"; or not a HAR:
 * no log.entries array).  |err| (|errlen| bytes, may be NULL) receives a
 * message naming the file. */
int rp_har_reader_open(const char *path, enum rp_har_format format, size_t max,
		       struct rp_har_reader **out, char *err, size_t errlen);

/* The same over the |n| bytes at |data| (copied); |name| labels messages. */
int rp_har_reader_open_mem(const void *data, size_t n, const char *name,
			   enum rp_har_format format, struct rp_har_reader **out, char *err,
			   size_t errlen);

/* The format being read (HAR or JSONL, never AUTO). */
enum rp_har_format rp_har_reader_format(const struct rp_har_reader *r);

/* Converts the next entry (or line).  Returns 0 and sets |*x| (the caller
 * frees it; id 0), RP_E_NOTFOUND at the end, RP_E_FORMAT when this entry
 * cannot be converted (|err| says which and why: "entry 3: request.url is
 * not a string", "line 7, column 12: ..."), RP_E_LIMIT when a JSON line is
 * longer than RP_LIMIT_RECORD.  After RP_E_FORMAT or RP_E_LIMIT the reader
 * has moved past the bad entry, so the caller may report and go on.  RP_E_IO
 * when reading the file fails (not resumable). */
int rp_har_reader_next(struct rp_har_reader *r, struct rp_exchange **x, char *err, size_t errlen);

/* Closes the reader.  NULL is a no-op. */
void rp_har_reader_free(struct rp_har_reader *r);

/* ---- writing ---- */

struct rp_har_writer;

/* Starts writing |format| (HAR or JSONL) to |f|, which the caller keeps
 * owning.  For HAR this writes the log header at once.  |tool_version| goes
 * into log.creator.version.  Returns 0 or RP_E_USAGE (format AUTO). */
int rp_har_writer_new(FILE *f, enum rp_har_format format, const char *tool_version,
		      struct rp_har_writer **out);

/* Writes one exchange (a HAR entry or a JSON line).  0 or RP_E_IO. */
int rp_har_writer_add(struct rp_har_writer *w, const struct rp_exchange *x);

/* Ends the document (closes the HAR entries array and log), flushes, frees
 * |w|.  Returns 0, or RP_E_IO when any write failed.  NULL is a no-op. */
int rp_har_writer_finish(struct rp_har_writer *w);

/* ---- text or binary ---- */

/* 1 when |s| is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int rp_har_utf8_valid(struct rp_slice s);

/* 1 when |s| is text: valid UTF-8 with no control bytes other than tab, CR,
 * LF and form feed.  Such bodies are written as JSON strings, others as
 * base64; `reprise show` prints them as they are. */
int rp_har_is_text(struct rp_slice s);

#endif
