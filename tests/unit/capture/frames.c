/*
 * frames: the frame builders of frames.h for the capture unit tests.
 */
#include "config.h"

#include <string.h>

#include "frames.h"

const uint8_t fr_a4[4] = {10, 0, 0, 1}, fr_b4[4] = {10, 0, 0, 2};
const uint8_t fr_a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
const uint8_t fr_b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

size_t fr_tcp(uint8_t *out, const struct fr_tcp *t)
{
	memset(out, 0, 20);
	put16(out, t->sport);
	put16(out + 2, t->dport);
	put32(out + 4, t->seq);
	put32(out + 8, t->ack);
	out[12] = 5 << 4;
	out[13] = t->flags;
	put16(out + 14, 65535);
	if (t->len)
		memcpy(out + 20, t->data, t->len);
	return 20 + t->len;
}

size_t fr_ipv4(uint8_t *out, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
	       uint16_t id, uint16_t frag, const uint8_t *payload, size_t n)
{
	memset(out, 0, 20);
	out[0] = 0x45;
	put16(out + 2, (uint16_t)(20 + n));
	put16(out + 4, id);
	put16(out + 6, frag);
	out[8] = 64;
	out[9] = proto;
	memcpy(out + 12, src, 4);
	memcpy(out + 16, dst, 4);
	memmove(out + 20, payload, n);
	return 20 + n;
}

size_t fr_ipv6(uint8_t *out, const uint8_t src[16], const uint8_t dst[16], uint8_t next,
	       const uint8_t *ext, size_t extn, const uint8_t *payload, size_t n)
{
	memset(out, 0, 40);
	out[0] = 0x60;
	put16(out + 4, (uint16_t)(extn + n));
	out[6] = next;
	out[7] = 64;
	memcpy(out + 8, src, 16);
	memcpy(out + 24, dst, 16);
	memmove(out + 40 + extn, payload, n);
	if (extn)
		memcpy(out + 40, ext, extn);
	return 40 + extn + n;
}

size_t fr_eth(uint8_t *out, const uint16_t *tags, int ntags, uint16_t type, const uint8_t *p,
	      size_t n)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	size_t off = 12;
	memmove(out + 14 + 4 * (size_t)ntags, p, n);
	memcpy(out, macs, 12);
	for (int i = 0; i < ntags; i++) {
		put16(out + off, tags[2 * i]);
		put16(out + off + 2, tags[2 * i + 1]);
		off += 4;
	}
	put16(out + off, type);
	return off + 2 + n;
}

size_t fr_eth4_tcp(uint8_t *out, const struct fr_tcp *t)
{
	uint8_t seg[FR_MAX], ip[FR_MAX];
	size_t n = fr_tcp(seg, t);
	const uint8_t *src = fr_a4, *dst = fr_b4;
	if (t->sport < t->dport) { /* the server answers */
		src = fr_b4;
		dst = fr_a4;
	}
	n = fr_ipv4(ip, src, dst, 6, 1, 0, seg, n);
	return fr_eth(out, NULL, 0, 0x0800, ip, n);
}
