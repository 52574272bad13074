/*
 * capture: the passive source of the pipeline.  Packets come in (from
 * libpcap: a live interface or a pcap/pcapng file); link layers and IP are
 * peeled off, IP fragments reassembled, TCP segments reassembled per flow
 * into two in-order byte streams, and those streams handed to the codec the
 * first bytes call for (HTTP/1 today; an HTTP/2 preface marks the flow as
 * h2, counted and not yet decoded).  Requests and responses are paired in
 * order per connection and each finished exchange goes to a sink, which in
 * `reprise capture` is the recorder (content decoding, masks, store).
 *
 * Layers, bottom up, each usable and tested alone:
 *
 *   rp_capture_decode   link layer + IPv4/IPv6 + TCP header (pure)
 *   rp_ipfrag_*         IP fragment reassembly, bounded (pure)
 *   rp_tcp_stream_*     one direction of a TCP connection: segments in,
 *                       in-order slices and gap/overlap events out (pure,
 *                       the parser shape of STYLE.md)
 *   rp_capture_*        the engine: flow table, idle timeouts, memory
 *                       ceiling, HTTP/1 pairing, sink (pure)
 *   rp_pcap_*           the libpcap adapter (the only part doing I/O)
 *
 * Invariants: no input can make the engine hold more than its ceilings
 * (--max-flow-memory for buffered stream data and bodies in flight, the flow
 * count, the fragment table); a bad packet is counted under a reason and
 * dropped, never mis-parsed; every exchange handed to the sink says how
 * complete it is (RP_XF_GAP, RP_XF_NO_RESPONSE, ...).
 *
 * Overlap policy (one, for the whole module): FIRST WINS.  Bytes of a
 * sequence range that were received first are the ones delivered; later
 * copies of the same range (retransmissions, overlapping segments) are
 * compared with what is still buffered and, when they differ, reported as an
 * RP_TCP_EV_OVERLAP event and counted, but never delivered.  Retransmissions
 * of bytes already delivered are dropped unchecked (they are no longer held).
 * IP fragments that overlap discard their whole datagram (RFC 5722).
 */
#ifndef REPRISE_CAPTURE_H
#define REPRISE_CAPTURE_H

#include "reprise/base.h"
#include "reprise/exchange.h"

/* ---- link layers and IP ------------------------------------------------- */

/* Link-layer types, numbered as the pcap LINKTYPE_ registry does (the values
 * in pcap and pcapng file headers). */
enum rp_link {
	RP_LINK_NULL = 0,       /* BSD loopback: 4-byte AF_ value, host order */
	RP_LINK_ETHERNET = 1,   /* Ethernet II, 802.1Q/802.1ad/QinQ tags, MPLS */
	RP_LINK_RAW = 101,      /* raw IPv4 or IPv6, told apart by the version */
	RP_LINK_LOOP = 108,     /* OpenBSD loopback: AF_ value, network order */
	RP_LINK_LINUX_SLL = 113,
	RP_LINK_IPV4 = 228,
	RP_LINK_IPV6 = 229,
	RP_LINK_LINUX_SLL2 = 276,
};

/* Returns 1 when rp_capture_decode understands |link|. */
int rp_link_supported(int link);

/* TCP header flags (rp_tcp_pkt.flags). */
#define RP_TCP_FIN 0x01
#define RP_TCP_SYN 0x02
#define RP_TCP_RST 0x04
#define RP_TCP_PSH 0x08
#define RP_TCP_ACK 0x10

/* What rp_capture_decode made of a packet.  Everything but RP_PKT_TCP is a
 * reason the packet is not used; the engine counts each. */
enum rp_pkt_verdict {
	RP_PKT_TCP = 0,         /* a TCP segment: the output is filled in */
	RP_PKT_NOT_IP,          /* ARP, LLDP, STP, LLC frames ... */
	RP_PKT_NOT_TCP,         /* UDP, ICMP, ESP ... */
	RP_PKT_TRUNCATED,       /* the captured bytes end inside a header */
	RP_PKT_MALFORMED,       /* impossible version, lengths or offsets */
	RP_PKT_FRAG_HELD,       /* an IP fragment, kept until its datagram is whole */
	RP_PKT_FRAG_DROPPED,    /* a fragment refused (overlap, limits, bad offset) */
	RP_PKT_BAD_LINK,        /* a link type we do not decode */
	RP_PKT_VERDICTS
};

/* Static name of a verdict ("not-tcp"). */
const char *rp_pkt_verdict_name(enum rp_pkt_verdict v);

/* One decoded TCP segment.  |payload| points into the packet passed to
 * rp_capture_decode, or into the fragment table when the segment was
 * reassembled from fragments; either way it is valid until the next call of
 * rp_capture_decode with the same fragment table. */
struct rp_tcp_pkt {
	int64_t ts;                 /* capture time, ns since the epoch */
	struct rp_endpoint src, dst;
	uint32_t seq, ack;
	uint16_t win;
	uint8_t flags;              /* RP_TCP_* */
	uint8_t reassembled;        /* 1 when built from IP fragments */
	struct rp_slice payload;    /* the captured TCP payload */
	uint32_t payload_len;       /* payload length the IP header declares; more
	                               than payload.n when the snap length cut it */
};

struct rp_ipfrag;

/* Decodes the frame |p| (|caplen| captured bytes) of link type |link| down to
 * TCP.  Fragments go to |frags| (may be NULL: fragments are then counted as
 * RP_PKT_FRAG_DROPPED); a fragment that completes a datagram yields the
 * reassembled segment.  Returns the verdict; |out| is meaningful only with
 * RP_PKT_TCP. */
enum rp_pkt_verdict rp_capture_decode(struct rp_ipfrag *frags, int link, int64_t ts,
				      const uint8_t *p, size_t caplen, struct rp_tcp_pkt *out);

/* ---- IP fragment reassembly ------------------------------------------- */

struct rp_ipfrag_stats {
	uint64_t fragments;       /* fragments seen */
	uint64_t reassembled;     /* datagrams completed */
	uint64_t overlaps;        /* datagrams dropped: overlapping fragments */
	uint64_t timeouts;        /* datagrams dropped: incomplete for too long */
	uint64_t evicted;         /* datagrams dropped: table or memory full */
	uint64_t invalid;         /* fragments refused: bad offset or length */
	size_t mem, mem_peak;     /* bytes held now, and the most ever held */
};

/* A bounded table of datagrams being reassembled: at most |max_datagrams|
 * at once, |max_mem| bytes of fragment data in all, each dropped
 * |timeout_ns| (capture time) after its first fragment.  Zeros mean the
 * defaults of limits.h. */
struct rp_ipfrag *rp_ipfrag_new(unsigned max_datagrams, size_t max_mem, int64_t timeout_ns);
/* NULL is a no-op. */
void rp_ipfrag_free(struct rp_ipfrag *f);
void rp_ipfrag_get_stats(const struct rp_ipfrag *f, struct rp_ipfrag_stats *out);

/* ---- TCP reassembly: one direction ----------------------------------- */

/* Bytes held by a set of streams (and, in the engine, by bodies in flight)
 * against one ceiling.  Shared by all streams of an engine. */
struct rp_tcp_mem {
	size_t used;
	size_t max;
	size_t peak;
};

enum rp_tcp_ev {
	RP_TCP_EV_DATA = 1, /* |data|: the next in-order bytes, at stream |offset| */
	RP_TCP_EV_GAP,      /* |len| bytes at |offset| will never be seen */
	RP_TCP_EV_OVERLAP,  /* |len| bytes at |offset| arrived again with other
	                       content; the first copy was kept */
	RP_TCP_EV_FIN,      /* the stream ended normally at |offset| */
	RP_TCP_EV_RST,      /* the connection was reset; stream ends at |offset| */
};

struct rp_tcp_event {
	enum rp_tcp_ev type;
	uint64_t offset;        /* stream offset (bytes since the first) */
	uint64_t len;           /* GAP, OVERLAP: byte count; DATA: data.n */
	int64_t ts;             /* capture time of the segment the bytes came in */
	struct rp_slice data;   /* DATA: valid until the next push, next or
	                           dispose on this stream */
};

struct rp_tcp_chunk; /* buffered out-of-order bytes (private) */

struct rp_tcp_stream_stats {
	uint64_t delivered;       /* bytes handed out as DATA */
	uint64_t gap_bytes;       /* bytes declared lost */
	uint64_t gaps;            /* GAP events */
	uint64_t dup_bytes;       /* bytes received more than once */
	uint64_t conflicts;       /* OVERLAP events (differing retransmissions) */
	uint64_t ooo_segments;    /* segments that arrived ahead of a hole */
	uint64_t out_of_window;   /* segments too far ahead to be this stream */
	uint64_t after_end;       /* segments after FIN or RST */
	uint64_t limited;         /* pushes refused by the memory ceiling */
};

/* Caller-owned state of one direction.  |next|, |offset| and |stats| may be
 * read at any time; the rest is private. */
struct rp_tcp_stream {
	struct rp_tcp_mem *mem;
	uint32_t next;          /* sequence number of the next byte to deliver */
	uint64_t offset;        /* stream offset of |next| */
	struct rp_tcp_stream_stats stats;

	uint8_t started;        /* |next| is known (SYN, or first segment) */
	uint8_t syn_seen;       /* started from a SYN: offset 0 is the real start */
	uint8_t fin_seen, rst_seen;
	uint8_t ended;          /* FIN or RST delivered */
	uint8_t flushing;       /* declare every hole lost */
	uint8_t ack_votes;      /* peer acks beyond a hole since |next| moved */
	uint32_t fin_seq;
	uint32_t ack_max;       /* highest peer ack beyond |next| */
	uint32_t skip_to;       /* rp_tcp_stream_skip: a hole up to here is lost */
	uint8_t skip_set;
	struct rp_tcp_chunk *ooo;   /* sorted, non-overlapping */
	struct rp_tcp_chunk *spent; /* delivered chunk, freed on the next call */
	size_t held;                /* bytes accounted to |mem| */
	/* The segment of the last push, delivered without copying. */
	const uint8_t *cur;
	uint32_t cur_seq, cur_len;
	int64_t cur_ts;
	/* Pending overlap report. */
	uint64_t ovl_offset, ovl_len;
};

/* Largest distance ahead of |next| a segment may start and still be taken
 * as part of the stream (serial arithmetic keeps 2^31). */
#define RP_TCP_MAX_AHEAD (1u << 30)

/* Prepares |s|; |mem| (required) accounts its buffered bytes. */
void rp_tcp_stream_init(struct rp_tcp_stream *s, struct rp_tcp_mem *mem);
/* Frees buffered bytes and returns them to |mem|; |s| may be initialised
 * again. */
void rp_tcp_stream_dispose(struct rp_tcp_stream *s);

/* Pushes one segment: sequence number |seq|, TCP |flags|, the captured
 * payload |data|, and |wire_len| (>= data.n) the length the segment really
 * had: bytes beyond data.n were cut by the capture and become a gap.  |ts|
 * is the capture time.  A SYN starts the stream at seq + 1; without one the
 * first segment starts it (mid-stream pickup).  In-order bytes are not
 * copied: drain the stream with rp_tcp_stream_next until RP_E_AGAIN before
 * the next push (bytes still undelivered then are copied).  Returns 0, or
 * RP_E_LIMIT when buffering the segment would pass |mem->max|: nothing was
 * changed; free memory elsewhere or call rp_tcp_stream_skip, drain, and
 * push again. */
int rp_tcp_stream_push(struct rp_tcp_stream *s, uint32_t seq, uint8_t flags,
		       struct rp_slice data, uint32_t wire_len, int64_t ts);

/* The peer acknowledged |ack|.  Bytes of this stream below it that were
 * never captured are lost to the capture (the receiver has them and will
 * not ask again): after two such acks without progress the hole becomes a
 * gap.  Call it with every ACK-flagged segment of the other direction. */
void rp_tcp_stream_ack(struct rp_tcp_stream *s, uint32_t ack);

/* Declares the hole before |seq| lost: the next rp_tcp_stream_next reports
 * it as a GAP and delivers what follows.  Used when memory runs out. */
void rp_tcp_stream_skip(struct rp_tcp_stream *s, uint32_t seq);

/* The stream is over (flow end, timeout, eviction): from now on every hole
 * is a gap and everything buffered is delivered. */
void rp_tcp_stream_flush(struct rp_tcp_stream *s);

/* Returns the next event: 0 with |ev| filled in, or RP_E_AGAIN when nothing
 * more can be delivered yet.  Order: a pending OVERLAP report, then DATA and
 * GAP events in stream order, then FIN or RST once, when everything before
 * it has been delivered. */
int rp_tcp_stream_next(struct rp_tcp_stream *s, struct rp_tcp_event *ev);

/* Bytes buffered ahead of a hole. */
size_t rp_tcp_stream_buffered(const struct rp_tcp_stream *s);

/* ---- the engine ---------------------------------------------------------- */

/* Where finished exchanges go.  |exchange| takes ownership of |x| (free it
 * with rp_exchange_free).  Called from inside rp_capture_packet,
 * rp_capture_expire and rp_capture_finish. */
struct rp_capture_sink {
	void (*exchange)(void *ctx, struct rp_exchange *x);
	void *ctx;
};

struct rp_capture_opts {
	size_t max_flow_memory;   /* stream data and bodies held (0: default) */
	unsigned max_flows;       /* flows tracked at once (0: default) */
	int64_t idle_ns;          /* a flow idle this long is closed (0: default) */
	uint32_t max_body;        /* body bytes kept per message (0: default) */
	const uint16_t *server_ports; /* ports that mark the server side of a
	                                 flow picked up without its SYN */
	size_t nserver_ports;
	int filter_ports;         /* ignore segments with no server port at
	                             either end (when a BPF filter cannot do it) */
	uint64_t first_conn_id;   /* connection ids count up from here */
};

/* Defaults (limits.h has the memory ones). */
#define RP_CAPTURE_IDLE_DEFAULT_NS (120LL * 1000000000LL)

struct rp_capture_stats {
	uint64_t packets;              /* packets given to rp_capture_packet */
	uint64_t bytes;                /* their captured bytes */
	uint64_t verdicts[RP_PKT_VERDICTS];
	uint64_t tcp_no_flow;          /* TCP segments for no flow (no data, no SYN) */
	uint64_t tcp_other_ports;      /* TCP segments ignored: not a server port */
	uint64_t flows;                /* flows opened */
	uint64_t flows_closed;         /* ended by FIN/RST */
	uint64_t flows_idle;           /* closed by the idle timeout */
	uint64_t flows_evicted;        /* flushed early by a ceiling (data lost) */
	uint64_t flows_active, flows_peak;
	uint64_t flows_with_gaps;      /* flows in which bytes were lost */
	uint64_t flows_midstream;      /* picked up without a SYN */
	uint64_t flows_h1, flows_h2, flows_other, flows_tunnel;
	uint64_t exchanges;            /* handed to the sink */
	uint64_t exchanges_gap, exchanges_no_response, exchanges_no_request;
	uint64_t exchanges_anomaly, exchanges_truncated;
	uint64_t parse_errors;         /* HTTP/1 errors resynchronised over */
	uint64_t resyncs;              /* message boundaries found after a loss */
	uint64_t pipeline_overflow;    /* exchanges closed early: too many in flight */
	uint64_t tcp_delivered, tcp_gap_bytes, tcp_gaps, tcp_dup_bytes;
	uint64_t tcp_conflicts, tcp_ooo_segments, tcp_out_of_window, tcp_after_end;
	uint64_t mem_limited;          /* times the memory ceiling was hit */
	uint64_t mem_used, mem_peak;   /* bytes against --max-flow-memory */
	uint64_t h2_bytes_skipped, other_bytes_skipped;
	struct rp_ipfrag_stats frag;
};

struct rp_capture;

/* Creates an engine delivering to |sink| (copied).  |opts| may be NULL. */
struct rp_capture *rp_capture_new(const struct rp_capture_opts *opts,
				  const struct rp_capture_sink *sink);
/* Frees the engine without flushing (call rp_capture_finish first to keep
 * what is in flight).  NULL is a no-op. */
void rp_capture_free(struct rp_capture *c);

/* Processes one captured frame of link type |link|: |caplen| bytes at |p|,
 * captured at |ts| (ns since the epoch).  Bad packets are counted, never
 * returned as errors. */
void rp_capture_packet(struct rp_capture *c, int link, int64_t ts, const uint8_t *p,
		       size_t caplen);

/* Closes flows idle since before |now| - idle (capture time).  The engine
 * calls it itself as packet time advances; a live source calls it on a timer
 * too, so that flows end when traffic stops. */
void rp_capture_expire(struct rp_capture *c, int64_t now);

/* Ends every flow: holes become gaps, bodies delimited by the close end,
 * unanswered requests are flagged RP_XF_NO_RESPONSE, everything goes to the
 * sink. */
void rp_capture_finish(struct rp_capture *c);

void rp_capture_get_stats(const struct rp_capture *c, struct rp_capture_stats *out);

/* ---- capture files in memory: pcap and pcapng --------------------------- */

#define RP_PCAPFILE_MAX_IFS 64

struct rp_pcapfile_if {
	int link;          /* LINKTYPE_ number */
	uint64_t units;    /* timestamp units per second (10^n), when shift is 0 */
	uint8_t shift;     /* timestamp units are 2^-shift seconds, when nonzero */
	int64_t offset_s;  /* if_tsoffset */
};

/* A pcap or pcapng file parsed from a window of its bytes, packet by packet,
 * without copying.  Caller-owned.  The window is [p, p + n); |off| is where
 * the next record starts in it; |need| is the length of a record that did
 * not fit; |eof| (set by the caller) says no bytes follow the window. */
struct rp_pcapfile {
	const uint8_t *p;
	size_t n, off, need;
	uint8_t ng, swap, eof;
	int link;          /* pcap: the file's link type */
	uint32_t units;    /* pcap: 10^6 or 10^9 */
	struct rp_pcapfile_if ifs[RP_PCAPFILE_MAX_IFS]; /* pcapng: this section's */
	unsigned nifs;
	uint64_t skipped_blocks;
};

struct rp_pcapfile_pkt {
	int64_t ts;            /* ns since the epoch (0 for pcapng simple packets) */
	int link;              /* LINKTYPE_ number */
	const uint8_t *data;   /* |caplen| bytes inside the file's memory */
	uint32_t caplen, len;  /* captured and original length */
};

/* Recognises a file from its first |n| bytes at |p| (at least 24, or the
 * whole file when shorter), which become the window.  Returns 0, or
 * RP_E_FORMAT when it is neither pcap nor pcapng (|why| says so). */
int rp_pcapfile_open(struct rp_pcapfile *f, const uint8_t *p, size_t n, const char **why);

/* The next packet of the window: 0 with |pkt| filled in (its data point into
 * the window), RP_E_AGAIN when the next record is not whole in the window
 * (move the unread bytes [off, n) to a new window that holds at least
 * |need| bytes, set p, n and off = 0, and call again), RP_E_CLOSED at the
 * end of the file (|eof| set and nothing left), RP_E_FORMAT when the file is
 * damaged at |off| (|why| says how; reading stops there). */
int rp_pcapfile_next(struct rp_pcapfile *f, struct rp_pcapfile_pkt *pkt, const char **why);

/* ---- libpcap adapter ------------------------------------------------------ */

struct rp_pcap;

struct rp_pcap_opts {
	const char *file;       /* read this pcap/pcapng file ("-": stdin) ...
	                           (mapped and read in place when it can be,
	                           through libpcap otherwise) */
	const char *iface;      /* ... or capture live on this interface */
	const char *filter;     /* BPF expression, NULL or "" for none */
	int snaplen;            /* live: bytes kept per packet (0: default) */
	uint64_t buffer_size;   /* live: kernel buffer bytes (0: libpcap's) */
	int promisc;            /* live: promiscuous mode */
	int timeout_ms;         /* live: longest wait in rp_pcap_dispatch */
};

/* Called for every packet: capture time |ts| in ns, link type |link|
 * (LINKTYPE_ number: pcapng files may mix them), |caplen| bytes at |p|
 * (valid during the call), |len| the length on the wire. */
typedef void (*rp_pcap_packet_fn)(void *ctx, int64_t ts, int link, const uint8_t *p,
				  uint32_t caplen, uint32_t len);

/* Opens the file or interface of |o| with nanosecond timestamps and applies
 * the filter.  Returns 0, RP_E_NOTFOUND (no such file or interface),
 * RP_E_FORMAT (not a capture file, or a bad filter), RP_E_IO otherwise; |err|
 * (|errlen| bytes) receives a message for the user. */
int rp_pcap_open(const struct rp_pcap_opts *o, struct rp_pcap **out, char *err, size_t errlen);
/* NULL is a no-op. */
void rp_pcap_close(struct rp_pcap *pc);

/* The link type of the source as an enum rp_link value (LINKTYPE_ number);
 * for a pcapng file, that of its first interface. */
int rp_pcap_link(const struct rp_pcap *pc);

/* Hands up to |max| packets (-1: one buffer's worth) to |fn|.  Returns the
 * number handed, 0 when a live wait timed out, RP_E_CLOSED at the end of a
 * file or after rp_pcap_break, RP_E_IO on a read error (message in |err|). */
int rp_pcap_dispatch(struct rp_pcap *pc, int max, rp_pcap_packet_fn fn, void *ctx, char *err,
		     size_t errlen);

/* Makes the current or next rp_pcap_dispatch return RP_E_CLOSED.  Safe in
 * a signal handler. */
void rp_pcap_break(struct rp_pcap *pc);

struct rp_pcap_stats {
	uint64_t received;      /* live: packets the kernel passed the filter */
	uint64_t dropped;       /* live: dropped by the kernel (buffer full) */
	uint64_t if_dropped;    /* live: dropped by the interface/driver */
	int64_t file_pos;       /* file: bytes read so far, -1 if unknown */
	int64_t file_size;      /* file: total bytes, -1 if unknown */
};
void rp_pcap_get_stats(struct rp_pcap *pc, struct rp_pcap_stats *out);

#endif
