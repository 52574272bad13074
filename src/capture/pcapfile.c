/*
 * pcapfile: pcap and pcapng capture files parsed from a window of bytes, the
 * first step of `reprise capture -r`.  The adapter reads the file into one
 * reused buffer and hands the window here; packets come out pointing into
 * it, with no copy (libpcap, which copies each packet twice, remains the
 * reader of live interfaces and of formats this one does not know).  The
 * parser shape of STYLE.md: a record not whole in the window is
 * RP_E_AGAIN, and the caller slides the window.
 *
 * Classic pcap: both byte orders, microsecond and nanosecond magic.  pcapng:
 * sections in either byte order, interfaces with their link type, if_tsresol
 * (powers of 10 and of 2) and if_tsoffset; enhanced, simple and obsolete
 * packet blocks; every other block is skipped.
 *
 * Invariants: no read outside [p, p + n); every length is checked against
 * the bytes that remain and against the block that holds it; a damaged file
 * ends the read with RP_E_FORMAT and says where, it never yields a packet
 * built from bytes that are not its own.
 */
#include "config.h"

#include "capture-int.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_PB 2u     /* obsolete packet block */
#define NG_SPB 3u
#define NG_EPB 6u
#define NG_BOM 0x1a2b3c4du
#define MAX_RECORD (16u << 20) /* no capture record is this large */

static uint32_t get32(const struct rp_pcapfile *f, const uint8_t *p)
{
	return f->swap ? rd32(p) : rd32le(p);
}

static uint16_t get16(const struct rp_pcapfile *f, const uint8_t *p)
{
	return f->swap ? rd16(p) : (uint16_t)(p[0] | p[1] << 8);
}

int rp_pcapfile_open(struct rp_pcapfile *f, const uint8_t *p, size_t n, const char **why)
{
	memset(f, 0, sizeof(*f));
	f->p = p;
	f->n = n;
	if (n < 24) {
		*why = "too short for a capture file";
		return RP_E_FORMAT;
	}
	uint32_t le = rd32le(p), be = rd32(p);
	if (le == PCAP_MAGIC_US || le == PCAP_MAGIC_NS || be == PCAP_MAGIC_US ||
	    be == PCAP_MAGIC_NS) {
		f->swap = le != PCAP_MAGIC_US && le != PCAP_MAGIC_NS;
		uint32_t magic = f->swap ? be : le;
		f->units = magic == PCAP_MAGIC_NS ? 1000000000u : 1000000u;
		f->link = (int)(get32(f, p + 20) & 0xffff);
		f->off = 24;
		return 0;
	}
	if (le == NG_SHB) {
		f->ng = 1;
		return 0; /* the section header is read as the first block */
	}
	*why = "not a pcap or pcapng file";
	return RP_E_FORMAT;
}

/* Capture time in ns of a pcapng timestamp |t| on interface |ifc|. */
static int64_t ng_time(const struct rp_pcapfile_if *ifc, uint64_t t)
{
	int64_t s, frac;
	if (ifc->shift) {
		s = (int64_t)(t >> ifc->shift);
		frac = (int64_t)(((t & ((1ull << ifc->shift) - 1)) * 1000000000ull) >> ifc->shift);
	} else {
		s = (int64_t)(t / ifc->units);
		frac = (int64_t)((t % ifc->units) * (1000000000ull / ifc->units));
	}
	return (s + ifc->offset_s) * 1000000000LL + frac;
}

/* Reads the options of an interface description block. */
static void idb_options(struct rp_pcapfile *f, struct rp_pcapfile_if *ifc, const uint8_t *p,
			size_t n)
{
	size_t off = 0;
	while (n - off >= 4) {
		uint16_t code = get16(f, p + off), len = get16(f, p + off + 2);
		off += 4;
		if (code == 0 || len > n - off)
			break;
		if (code == 9 && len >= 1) { /* if_tsresol */
			uint8_t v = p[off];
			if (v & 0x80) {
				if ((v & 0x7f) <= 63) {
					ifc->shift = v & 0x7f;
					ifc->units = 0;
				}
			} else if (v <= 9) {
				uint64_t u = 1;
				for (int i = 0; i < v; i++)
					u *= 10;
				ifc->units = u;
				ifc->shift = 0;
			}
		} else if (code == 14 && len >= 8) { /* if_tsoffset, seconds */
			uint64_t hi = get32(f, p + off), lo = get32(f, p + off + 4);
			ifc->offset_s = (int64_t)(f->swap ? hi << 32 | lo : lo << 32 | hi);
		}
		off += (len + 3u) & ~3u;
	}
}

/* The window ends inside a record: more bytes, or, at the end of the
 * file, a damaged file (or a clean end between records). */
static int short_window(const struct rp_pcapfile *f, size_t left, const char *what,
			const char **why)
{
	if (!f->eof)
		return RP_E_AGAIN;
	if (!left)
		return RP_E_CLOSED;
	*why = what;
	return RP_E_FORMAT;
}

static int ng_next(struct rp_pcapfile *f, struct rp_pcapfile_pkt *pkt, const char **why)
{
	for (;;) {
		size_t left = f->n - f->off;
		const uint8_t *b = f->p + f->off;
		if (left < 12)
			return short_window(f, left, "pcapng block cut short (file truncated?)", why);
		uint32_t type = rd32le(b);
		if (type == NG_SHB) { /* a new section: byte order, interfaces */
			uint32_t bom = rd32le(b + 8);
			if (bom == NG_BOM)
				f->swap = 0;
			else if (rd32(b + 8) == NG_BOM)
				f->swap = 1;
			else {
				*why = "pcapng section header with an unknown byte-order magic";
				return RP_E_FORMAT;
			}
			f->nifs = 0;
		} else {
			type = get32(f, b);
		}
		uint32_t len = get32(f, b + 4);
		if (len < 12 || len % 4 || len > MAX_RECORD) {
			*why = "pcapng block length out of bounds";
			return RP_E_FORMAT;
		}
		if (len > left) {
			f->need = len;
			return short_window(f, 1, "pcapng block cut short (file truncated?)", why);
		}
		if (get32(f, b + len - 4) != len) {
			*why = "pcapng block lengths disagree";
			return RP_E_FORMAT;
		}
		const uint8_t *body = b + 8;
		size_t blen = len - 12;
		f->off += len;
		switch (type) {
		case NG_IDB: {
			if (blen < 8) {
				*why = "pcapng interface block too short";
				return RP_E_FORMAT;
			}
			if (f->nifs == RP_PCAPFILE_MAX_IFS) {
				*why = "too many interfaces in a pcapng section";
				return RP_E_FORMAT;
			}
			struct rp_pcapfile_if *ifc = &f->ifs[f->nifs++];
			memset(ifc, 0, sizeof(*ifc));
			ifc->link = get16(f, body);
			ifc->units = 1000000;
			idb_options(f, ifc, body + 8, blen - 8);
			continue;
		}
		case NG_EPB:
		case NG_PB: {
			if (blen < 20) {
				*why = "pcapng packet block too short";
				return RP_E_FORMAT;
			}
			uint32_t ifid = type == NG_EPB ? get32(f, body) : get16(f, body);
			uint64_t ts = (uint64_t)get32(f, body + 4) << 32 | get32(f, body + 8);
			uint32_t cap = get32(f, body + 12), orig = get32(f, body + 16);
			if (ifid >= f->nifs) {
				*why = "pcapng packet on an undeclared interface";
				return RP_E_FORMAT;
			}
			if (cap > blen - 20) {
				*why = "pcapng packet longer than its block";
				return RP_E_FORMAT;
			}
			pkt->link = f->ifs[ifid].link;
			pkt->ts = ng_time(&f->ifs[ifid], ts);
			pkt->data = body + 20;
			pkt->caplen = cap;
			pkt->len = orig < cap ? cap : orig;
			return 0;
		}
		case NG_SPB: {
			if (blen < 4 || f->nifs == 0) {
				*why = "pcapng simple packet block without an interface";
				return RP_E_FORMAT;
			}
			uint32_t orig = get32(f, body);
			uint32_t cap = orig < blen - 4 ? orig : (uint32_t)(blen - 4);
			pkt->link = f->ifs[0].link;
			pkt->ts = 0; /* simple packets carry no time */
			pkt->data = body + 4;
			pkt->caplen = cap;
			pkt->len = orig;
			return 0;
		}
		default:
			f->skipped_blocks++;
			continue;
		}
	}
}

int rp_pcapfile_next(struct rp_pcapfile *f, struct rp_pcapfile_pkt *pkt, const char **why)
{
	f->need = 0;
	if (f->ng)
		return ng_next(f, pkt, why);
	size_t left = f->n - f->off;
	if (left < 16)
		return short_window(f, left, "pcap record header cut short (file truncated?)", why);
	const uint8_t *b = f->p + f->off;
	uint32_t sec = get32(f, b), frac = get32(f, b + 4), cap = get32(f, b + 8),
		 orig = get32(f, b + 12);
	if (cap > MAX_RECORD || frac >= f->units) {
		*why = "pcap record header out of bounds";
		return RP_E_FORMAT;
	}
	if (cap > left - 16) {
		f->need = 16 + cap;
		return short_window(f, 1, "pcap record cut short (file truncated?)", why);
	}
	pkt->link = f->link;
	pkt->ts = (int64_t)sec * 1000000000LL + (int64_t)frac * (1000000000 / f->units);
	pkt->data = b + 16;
	pkt->caplen = cap;
	pkt->len = orig < cap ? cap : orig;
	f->off += 16 + cap;
	return 0;
}
