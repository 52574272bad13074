/*
 * capture-int: what the files of src/capture share and nobody else needs —
 * byte-order readers and the fragment table's entry point used by the
 * decoder.  Pure: no I/O.
 */
#ifndef REPRISE_CAPTURE_INT_H
#define REPRISE_CAPTURE_INT_H

#include "reprise/capture.h"

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t rd32le(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Identifies the datagram a fragment belongs to (RFC 791 / RFC 8200). */
struct frag_key {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;  /* IPv4 protocol; IPv6: next header after the fragment header */
	uint32_t id;
	uint8_t src[16], dst[16];
};

/* Offers one fragment: |n| bytes of the fragmentable part at byte offset
 * |off|, |more| when the MF bit is set.  Returns RP_PKT_FRAG_HELD while the
 * datagram is incomplete, RP_PKT_FRAG_DROPPED when the fragment (or its
 * whole datagram) was refused, or RP_PKT_TCP when this fragment completed
 * the datagram: |*whole| then holds the reassembled fragmentable part, valid
 * until the next call on |f|. */
enum rp_pkt_verdict rp_ipfrag_add(struct rp_ipfrag *f, int64_t ts, const struct frag_key *key,
				  uint32_t off, const uint8_t *p, size_t n, int more,
				  struct rp_slice *whole);

/* ---- the engine: flows and conversations (flow.c, conv.c) ---- */

#include "reprise/http1.h"

/* What a flow's bytes turned out to be. */
enum app {
	APP_NONE = 0, /* nothing parsed yet */
	APP_H1,       /* HTTP/1 on both directions */
	APP_H2,       /* HTTP/2 (preface or h2c upgrade): counted, not decoded yet */
	APP_OTHER,    /* not HTTP: ignored */
	APP_TUNNEL,   /* after CONNECT or a non-h2c upgrade: opaque */
};

/* One exchange waiting for its request or response to finish.  Lives in
 * the exchange's pool, so it goes away with it. */
struct pending {
	struct pending *next;
	struct rp_exchange *x;
	enum rp_h1_method method;
	uint8_t req_done, resp_started, resp_done;
	size_t held; /* body bytes charged to the ceiling */
};

/* One direction's HTTP/1 state: 0 parses requests, 1 responses. */
struct half {
	struct rp_h1_parser p;
	struct rp_buf carry;      /* bytes the parser has not consumed yet */
	int64_t carry_ts;         /* capture time of carry's first byte */
	struct rp_buf body;       /* body of the message being parsed, when its
	                             length is not known in advance */
	uint8_t *direct;          /* or: the body's final place in the exchange's
	                             pool, sized by Content-Length */
	size_t dlen, dcap;
	struct pending *cur;      /* the exchange this direction is filling */
	size_t charged;           /* carry + body bytes charged to the ceiling */
	uint8_t hunting;          /* looking for a message boundary */
	uint8_t line_start;       /* the next byte starts a line (hunting) */
	uint8_t ended;            /* FIN/RST seen, parser finished */
	uint8_t interim;          /* response: current message is 1xx */
	uint8_t body_cut;         /* body reached the record cap */
	uint8_t in_body;          /* between HEADERS_DONE and MESSAGE_DONE */
	uint8_t filling;          /* feeding filler for a gap: not body bytes */
	uint32_t pending_flags;   /* for the next exchange of this direction */
	uint8_t messages;         /* any message start seen (saturating) */
};

struct conv {
	struct half h[2];
	struct pending *head, *tail;
	unsigned n;               /* pendings in the list */
	uint32_t seq;             /* next conn_seq */
	uint8_t pipelined;        /* a request started before an earlier one was answered */
	uint8_t resp_gap;         /* response bytes lost since the last pairing */
	uint8_t req_paused;       /* request parser waits for CONNECT/Upgrade answer */
	uint8_t counted_h1;
};

struct flow {
	struct flow *hnext;              /* hash chain */
	struct flow *lru_prev, *lru_next;/* most recent first */
	uint64_t hash;
	struct rp_endpoint ep[2];        /* ep[0] client, ep[1] server */
	struct rp_tcp_stream dir[2];     /* dir[0] client to server */
	int64_t first_ts, last_ts;
	uint64_t conn_id;
	uint32_t isn[2];
	uint8_t isn_known[2];
	uint32_t ack_seen[2];            /* last ack sent by each side */
	uint8_t ack_valid[2];
	uint8_t oriented;                /* client side known from the handshake */
	uint8_t fed;                     /* payload has reached the codec */
	uint8_t app;                     /* enum app */
	uint8_t had_gap;
	uint8_t midstream;
	uint8_t closed;                  /* ended by FIN/RST: kept a while so that
	                                    late retransmissions are recognised */
	struct conv conv;
};

struct rp_capture {
	struct rp_capture_opts opt;
	struct rp_capture_sink sink;
	struct rp_ipfrag *frags;
	struct rp_tcp_mem mem;
	struct flow **buckets;
	size_t nbuckets;
	struct flow *lru_head, *lru_tail;
	uint64_t next_conn;
	int64_t now, last_expire;
	int finishing;
	struct rp_capture_stats st;
	uint16_t *ports;
	size_t nports;
};

/* Tries to get |need| more bytes under the ceiling by flushing the oldest
 * flows other than |keep|.  Returns 1 when there is room now. */
int rp_capture_make_room(struct rp_capture *c, struct flow *keep, size_t need);

/* conv.c: the HTTP/1 side of a flow. */
void rp_conv_init(struct rp_capture *c, struct flow *f);
/* One reassembly event of direction |dir|. */
void rp_conv_event(struct rp_capture *c, struct flow *f, int dir, const struct rp_tcp_event *ev);
/* The flow is over: finish both parsers and hand every exchange out. */
void rp_conv_end(struct rp_capture *c, struct flow *f);
/* Frees what the conversation holds (after rp_conv_end). */
void rp_conv_dispose(struct rp_capture *c, struct flow *f);

#endif
