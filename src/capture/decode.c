/*
 * decode: a captured frame down to its TCP segment — the first step of the
 * passive path, before the flow table.  Link layers (Ethernet with
 * 802.1Q/802.1ad/QinQ tags, MPLS label stacks and PPPoE sessions; Linux
 * cooked SLL and SLL2; BSD NULL and OpenBSD LOOP; raw IP), then IPv4 or IPv6
 * with every extension header walked, fragments handed to the fragment
 * table, and the TCP header.
 *
 * Invariants: every read is checked against the captured length first; a
 * length field is believed only as far as it is consistent with the headers
 * around it (Ethernet padding past the IP total length is dropped; a
 * snap-length cut is reported through payload_len > payload.n, never read);
 * anything that does not add up is a verdict, never a guess.
 */
#include "config.h"

#include "capture-int.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD1 0x9100
#define ETH_QINQ_OLD2 0x9200
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE 0x8864

#define MAX_TAGS 8      /* VLAN tags or MPLS labels in a row */
#define MAX_EXT_HDRS 16 /* IPv6 extension headers walked */

static const char *const verdict_names[RP_PKT_VERDICTS] = {
	[RP_PKT_TCP] = "tcp",
	[RP_PKT_NOT_IP] = "not-ip",
	[RP_PKT_NOT_TCP] = "not-tcp",
	[RP_PKT_TRUNCATED] = "truncated",
	[RP_PKT_MALFORMED] = "malformed",
	[RP_PKT_FRAG_HELD] = "fragment-held",
	[RP_PKT_FRAG_DROPPED] = "fragment-dropped",
	[RP_PKT_BAD_LINK] = "unsupported-link",
};

const char *rp_pkt_verdict_name(enum rp_pkt_verdict v)
{
	return (unsigned)v < RP_PKT_VERDICTS ? verdict_names[v] : "?";
}

int rp_link_supported(int link)
{
	switch (link) {
	case RP_LINK_NULL:
	case RP_LINK_ETHERNET:
	case RP_LINK_RAW:
	case RP_LINK_LOOP:
	case RP_LINK_LINUX_SLL:
	case RP_LINK_IPV4:
	case RP_LINK_IPV6:
	case RP_LINK_LINUX_SLL2:
		return 1;
	default:
		return 0;
	}
}

/* The TCP header at |p|: |avail| captured bytes of a segment |wire| bytes
 * long (by the IP header). */
static enum rp_pkt_verdict tcp(const uint8_t *p, size_t avail, size_t wire, struct rp_tcp_pkt *out)
{
	if (wire < 20)
		return RP_PKT_MALFORMED;
	if (avail < 20)
		return RP_PKT_TRUNCATED;
	size_t doff = (size_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > wire)
		return RP_PKT_MALFORMED;
	out->src.port = rd16(p);
	out->dst.port = rd16(p + 2);
	out->seq = rd32(p + 4);
	out->ack = rd32(p + 8);
	out->flags = p[13] & 0x3f;
	out->win = rd16(p + 14);
	/* Options cut by the snap length: the payload offset is still known,
	 * so the segment counts with nothing captured of its payload. */
	out->payload = avail > doff ? rp_slice(p + doff, avail - doff) : rp_slice(p + avail, 0);
	out->payload_len = (uint32_t)(wire - doff);
	return RP_PKT_TCP;
}

static enum rp_pkt_verdict ipv6_walk(struct rp_ipfrag *frags, int64_t ts, const uint8_t *ip,
				     uint8_t nh, const uint8_t *p, size_t avail, size_t wire,
				     int frag_ok, struct rp_tcp_pkt *out);

static enum rp_pkt_verdict ipv4(struct rp_ipfrag *frags, int64_t ts, const uint8_t *p, size_t n,
				struct rp_tcp_pkt *out)
{
	if (n < 20)
		return RP_PKT_TRUNCATED;
	if (p[0] >> 4 != 4)
		return RP_PKT_MALFORMED;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < 20)
		return RP_PKT_MALFORMED;
	if (n < ihl)
		return RP_PKT_TRUNCATED;
	size_t tot = rd16(p + 2);
	if (tot == 0)
		tot = n; /* segmentation offload on the capturing host */
	if (tot < ihl)
		return RP_PKT_MALFORMED;
	size_t avail = n < tot ? n : tot; /* bytes past |tot| are link padding */
	out->src.family = out->dst.family = 4;
	memset(out->src.addr, 0, sizeof(out->src.addr));
	memset(out->dst.addr, 0, sizeof(out->dst.addr));
	memcpy(out->src.addr, p + 12, 4);
	memcpy(out->dst.addr, p + 16, 4);
	uint8_t proto = p[9];
	uint16_t fo = rd16(p + 6);
	int more = (fo & 0x2000) != 0;
	uint32_t off = (uint32_t)(fo & 0x1fff) * 8;
	if (more || off) {
		if (proto != 6)
			return RP_PKT_NOT_TCP;
		if (!frags || avail < tot)
			return RP_PKT_FRAG_DROPPED; /* a cut fragment cannot be reassembled */
		struct frag_key k = {.family = 4, .proto = proto, .id = rd16(p + 4)};
		memcpy(k.src, p + 12, 4);
		memcpy(k.dst, p + 16, 4);
		struct rp_slice whole;
		enum rp_pkt_verdict v =
			rp_ipfrag_add(frags, ts, &k, off, p + ihl, tot - ihl, more, &whole);
		if (v != RP_PKT_TCP)
			return v;
		out->reassembled = 1;
		return tcp(whole.p, whole.n, whole.n, out);
	}
	if (proto != 6)
		return RP_PKT_NOT_TCP;
	return tcp(p + ihl, avail - ihl, tot - ihl, out);
}

static enum rp_pkt_verdict ipv6(struct rp_ipfrag *frags, int64_t ts, const uint8_t *p, size_t n,
				struct rp_tcp_pkt *out)
{
	if (n < 40)
		return RP_PKT_TRUNCATED;
	if (p[0] >> 4 != 6)
		return RP_PKT_MALFORMED;
	size_t plen = rd16(p + 4);
	if (plen == 0)
		plen = n - 40; /* jumbogram or segmentation offload */
	size_t tot = 40 + plen;
	size_t avail = n < tot ? n : tot;
	out->src.family = out->dst.family = 6;
	memcpy(out->src.addr, p + 8, 16);
	memcpy(out->dst.addr, p + 24, 16);
	return ipv6_walk(frags, ts, p, p[6], p + 40, avail - 40, plen, 1, out);
}

/* Walks the IPv6 extension headers from |nh| over |p| (|avail| captured of
 * |wire| bytes).  |ip| is the fixed header (for the fragment key). */
static enum rp_pkt_verdict ipv6_walk(struct rp_ipfrag *frags, int64_t ts, const uint8_t *ip,
				     uint8_t nh, const uint8_t *p, size_t avail, size_t wire,
				     int frag_ok, struct rp_tcp_pkt *out)
{
	size_t off = 0;
	for (int i = 0; i < MAX_EXT_HDRS; i++) {
		size_t len;
		switch (nh) {
		case 6:
			return tcp(p + off, avail - off, wire - off, out);
		case 0:   /* hop-by-hop options */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 135: /* mobility */
		case 139: /* HIP */
		case 140: /* shim6 */
			if (wire - off < 8)
				return RP_PKT_MALFORMED;
			if (avail - off < 8)
				return RP_PKT_TRUNCATED;
			len = ((size_t)p[off + 1] + 1) * 8;
			break;
		case 51: /* authentication header: length in 4-byte units, minus 2 */
			if (wire - off < 8)
				return RP_PKT_MALFORMED;
			if (avail - off < 8)
				return RP_PKT_TRUNCATED;
			len = ((size_t)p[off + 1] + 2) * 4;
			break;
		case 44: { /* fragment */
			if (wire - off < 8)
				return RP_PKT_MALFORMED;
			if (avail - off < 8)
				return RP_PKT_TRUNCATED;
			uint8_t fnh = p[off];
			uint16_t fo = rd16(p + off + 2);
			uint32_t foff = fo & 0xfff8;
			int more = fo & 1;
			if (!foff && !more) { /* atomic fragment (RFC 6946) */
				nh = fnh;
				off += 8;
				continue;
			}
			if (!frag_ok)
				return RP_PKT_MALFORMED; /* a fragment inside a fragment */
			/* Only TCP, or headers that may lead to it, are worth
			 * holding. */
			if (fnh != 6 && fnh != 0 && fnh != 43 && fnh != 60 && fnh != 51 &&
			    fnh != 135 && fnh != 139 && fnh != 140)
				return RP_PKT_NOT_TCP;
			if (!frags || avail < wire)
				return RP_PKT_FRAG_DROPPED;
			struct frag_key k = {.family = 6, .proto = fnh, .id = rd32(p + off + 4)};
			memcpy(k.src, ip + 8, 16);
			memcpy(k.dst, ip + 24, 16);
			struct rp_slice whole;
			off += 8;
			enum rp_pkt_verdict v = rp_ipfrag_add(frags, ts, &k, foff, p + off,
							      wire - off, more, &whole);
			if (v != RP_PKT_TCP)
				return v;
			out->reassembled = 1;
			return ipv6_walk(frags, ts, ip, fnh, whole.p, whole.n, whole.n, 0, out);
		}
		default: /* 59 no next header, 50 ESP, UDP, ICMPv6 ... */
			return RP_PKT_NOT_TCP;
		}
		if (len > wire - off)
			return RP_PKT_MALFORMED;
		if (len > avail - off)
			return RP_PKT_TRUNCATED;
		nh = p[off];
		off += len;
	}
	return RP_PKT_MALFORMED;
}

/* IPv4 or IPv6 by the version nibble (raw IP, MPLS payloads). */
static enum rp_pkt_verdict ip_any(struct rp_ipfrag *frags, int64_t ts, const uint8_t *p, size_t n,
				  struct rp_tcp_pkt *out)
{
	if (n < 1)
		return RP_PKT_TRUNCATED;
	switch (p[0] >> 4) {
	case 4:
		return ipv4(frags, ts, p, n, out);
	case 6:
		return ipv6(frags, ts, p, n, out);
	default:
		return RP_PKT_NOT_IP;
	}
}

/* Dispatches on an EtherType at |off|, following VLAN tags, MPLS labels and
 * PPPoE sessions. */
static enum rp_pkt_verdict ethertype(struct rp_ipfrag *frags, int64_t ts, uint16_t type,
				     const uint8_t *p, size_t n, size_t off, struct rp_tcp_pkt *out)
{
	for (int tags = 0;; tags++) {
		if (tags > MAX_TAGS)
			return RP_PKT_MALFORMED;
		switch (type) {
		case ETH_IPV4:
			return ipv4(frags, ts, p + off, n - off, out);
		case ETH_IPV6:
			return ipv6(frags, ts, p + off, n - off, out);
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD1:
		case ETH_QINQ_OLD2:
			if (n - off < 4)
				return RP_PKT_TRUNCATED;
			type = rd16(p + off + 2);
			off += 4;
			continue;
		case ETH_MPLS:
		case ETH_MPLS_MC:
			for (int l = 0;; l++) {
				if (l >= MAX_TAGS)
					return RP_PKT_MALFORMED;
				if (n - off < 4)
					return RP_PKT_TRUNCATED;
				int bottom = p[off + 2] & 1;
				off += 4;
				if (bottom)
					break;
			}
			/* No protocol field: IP is recognised by its version
			 * nibble; a pseudowire (Ethernet inside) is not IP. */
			return ip_any(frags, ts, p + off, n - off, out);
		case ETH_PPPOE:
			if (n - off < 8)
				return RP_PKT_TRUNCATED;
			switch (rd16(p + off + 6)) {
			case 0x0021:
				return ipv4(frags, ts, p + off + 8, n - off - 8, out);
			case 0x0057:
				return ipv6(frags, ts, p + off + 8, n - off - 8, out);
			default:
				return RP_PKT_NOT_IP;
			}
		default:
			return RP_PKT_NOT_IP;
		}
	}
}

/* BSD loopback: an address family, in the capturing host's byte order
 * (NULL) or in network order (LOOP).  IPv6 has a different AF_INET6 value
 * on each BSD and on Linux. */
static enum rp_pkt_verdict null_link(struct rp_ipfrag *frags, int64_t ts, const uint8_t *p,
				     size_t n, struct rp_tcp_pkt *out)
{
	if (n < 4)
		return RP_PKT_TRUNCATED;
	uint32_t vals[2] = {rd32le(p), rd32(p)};
	for (int i = 0; i < 2; i++) {
		switch (vals[i]) {
		case 2:
			return ipv4(frags, ts, p + 4, n - 4, out);
		case 10:
		case 24:
		case 28:
		case 30:
			return ipv6(frags, ts, p + 4, n - 4, out);
		default:
			break;
		}
	}
	return RP_PKT_NOT_IP;
}

enum rp_pkt_verdict rp_capture_decode(struct rp_ipfrag *frags, int link, int64_t ts,
				      const uint8_t *p, size_t caplen, struct rp_tcp_pkt *out)
{
	out->ts = ts;
	out->reassembled = 0;
	switch (link) {
	case RP_LINK_ETHERNET:
		if (caplen < 14)
			return RP_PKT_TRUNCATED;
		return ethertype(frags, ts, rd16(p + 12), p, caplen, 14, out);
	case RP_LINK_LINUX_SLL:
		if (caplen < 16)
			return RP_PKT_TRUNCATED;
		return ethertype(frags, ts, rd16(p + 14), p, caplen, 16, out);
	case RP_LINK_LINUX_SLL2:
		if (caplen < 20)
			return RP_PKT_TRUNCATED;
		return ethertype(frags, ts, rd16(p), p, caplen, 20, out);
	case RP_LINK_NULL:
	case RP_LINK_LOOP:
		return null_link(frags, ts, p, caplen, out);
	case RP_LINK_RAW:
		return ip_any(frags, ts, p, caplen, out);
	case RP_LINK_IPV4:
		return ipv4(frags, ts, p, caplen, out);
	case RP_LINK_IPV6:
		return ipv6(frags, ts, p, caplen, out);
	default:
		return RP_PKT_BAD_LINK;
	}
}
