/*
 * frames: builders of link-layer frames for the capture unit tests —
 * Ethernet (with tags), Linux SLL/SLL2, BSD loopback, IPv4/IPv6 (with
 * extension headers and fragments) and TCP.  Each writes into a caller
 * buffer and returns the length; nothing is checked, so tests can build
 * broken frames on purpose.
 */
#ifndef REPRISE_TEST_FRAMES_H
#define REPRISE_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define FR_MAX 70000

struct fr_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	const void *data;
	size_t len;
};

/* TCP header (20 bytes, no options) + payload into |out|. */
size_t fr_tcp(uint8_t *out, const struct fr_tcp *t);
/* IPv4 header around |payload| (protocol |proto|, id, fragment field). */
size_t fr_ipv4(uint8_t *out, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
	       uint16_t id, uint16_t frag, const uint8_t *payload, size_t n);
/* IPv6 header; |ext| (|next| is its first header type) precedes payload. */
size_t fr_ipv6(uint8_t *out, const uint8_t src[16], const uint8_t dst[16], uint8_t next,
	       const uint8_t *ext, size_t extn, const uint8_t *payload, size_t n);
/* Ethernet header with |ntags| 4-byte tags (tpid, vid) and |type|. */
size_t fr_eth(uint8_t *out, const uint16_t *tags, int ntags, uint16_t type, const uint8_t *p,
	      size_t n);

/* A whole Ethernet/IPv4/TCP frame 10.0.0.1:sport -> 10.0.0.2:dport. */
size_t fr_eth4_tcp(uint8_t *out, const struct fr_tcp *t);

extern const uint8_t fr_a4[4], fr_b4[4], fr_a6[16], fr_b6[16];

#endif
