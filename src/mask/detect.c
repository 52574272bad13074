/*
 * detect: the built-in detectors.  Each one finds candidates with a
 * hand-written scan (an anchor byte, then the shape around it) and keeps
 * only those that validate — Luhn and issuer prefixes for cards, area, group
 * and serial rules for SSNs, country lengths and mod-97 for IBANs, country
 * codes and numbering rules for phones, address classes for IPs — so that
 * order numbers, timestamps and version strings are left alone.  Values that
 * cannot be personal (reserved example domains, private and documentation
 * addresses) are not reported unless RP_MASK_DETECT_SYNTAX is given.
 *
 * Fakes written by keyed.c carry a public tag (check digits computed from
 * their other digits), and tokens have a fixed shape; in audit mode
 * (RP_MASK_DETECT_AUDIT) such values are passed over, so an audit of a
 * masked corpus reports only what masking missed.  Masking itself never
 * passes over a look-alike: a real card that happens to carry a valid tag is
 * still masked.
 *
 * Pure and allocation-free: every function reads its input and returns.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>

#include "mask-int.h"

static const char *const detector_names[RP_MASK_DETECTOR_COUNT] = {
	"email", "card", "ssn", "phone", "iban", "jwt", "bearer", "aws-key", "ipv4", "ipv6",
};

const char *rp_mask_detector_name(enum rp_mask_detector d)
{
	return (unsigned)d < RP_MASK_DETECTOR_COUNT ? detector_names[d] : "?";
}

int rp_mask_detector_parse(struct rp_slice name, enum rp_mask_detector *out)
{
	for (int i = 0; i < RP_MASK_DETECTOR_COUNT; i++)
		if (rp_slice_eq_nocase(name, rp_slice_str(detector_names[i]))) {
			*out = (enum rp_mask_detector)i;
			return 0;
		}
	return RP_E_NOTFOUND;
}

int rp_mask_detectors_parse(struct rp_slice list, uint32_t *out, size_t *bad)
{
	uint32_t bits = 0;
	size_t start = 0;
	for (size_t i = 0; i <= list.n; i++) {
		if (i < list.n && list.p[i] != ',')
			continue;
		struct rp_slice w = rp_slice(list.p + start, i - start);
		enum rp_mask_detector d;
		if (rp_slice_eq_nocase(w, RP_SLICE_LIT("all"))) {
			bits |= RP_MASK_ALL_DETECTORS;
		} else if (rp_slice_eq_nocase(w, RP_SLICE_LIT("ip"))) {
			bits |= 1u << RP_MASK_IPV4 | 1u << RP_MASK_IPV6;
		} else if (rp_mask_detector_parse(w, &d) == 0) {
			bits |= 1u << d;
		} else {
			if (bad)
				*bad = start;
			return RP_E_USAGE;
		}
		start = i + 1;
	}
	*out = bits;
	return 0;
}

/* ---- character classes -------------------------------------------------------- */

static inline int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static inline int is_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }
static inline int is_alpha(uint8_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static inline int is_alnum(uint8_t c) { return is_digit(c) || is_alpha(c); }
static inline int is_hex(uint8_t c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
static inline int is_b64url(uint8_t c) { return is_alnum(c) || c == '-' || c == '_'; }
static inline uint8_t lower(uint8_t c) { return is_upper(c) ? (uint8_t)(c | 0x20) : c; }

/* Decodes the UTF-8 code point at |i|; returns it and its length in |*len|,
 * or -1 for an invalid sequence. */
static long cp_at(struct rp_slice t, size_t i, unsigned *len)
{
	uint8_t c = t.p[i];
	if (c < 0x80) {
		*len = 1;
		return c;
	}
	unsigned n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
	if (!n || c >= 0xf5 || i + n > t.n)
		return -1;
	long cp = c & (0x3f >> (n - 1));
	for (unsigned k = 1; k < n; k++) {
		if ((t.p[i + k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (t.p[i + k] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = n;
	return cp;
}

/* Non-ASCII code points that may be part of a name (letters, marks and
 * digits of any script), as opposed to punctuation and symbols. */
static int cp_wordish(long cp)
{
	if (cp < 0xc0 || cp == 0xd7 || cp == 0xf7)
		return 0;
	if ((cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff20) ||
	    (cp >= 0xff3b && cp <= 0xff40) || (cp >= 0xff5b && cp <= 0xff65) || cp >= 0xfff0)
		return 0;
	return 1;
}

/* ---- anchors ------------------------------------------------------------------ */

/* Where a detector's scan may find something: "bea" in any case for
 * bearer, 'A' and 'A' three bytes on for AWS keys (every key id prefix is
 * A??A), two capitals and two digits for IBANs, "eyJ" (base64 of '{"')
 * for JWTs. */
enum anchor { ANCHOR_BEARER, ANCHOR_AWS, ANCHOR_IBAN, ANCHOR_JWT };

/* The first position from |i| whose four bytes may be |k|'s anchor, checked
 * 16 positions at a time; or where that stopped, near the end of the text.
 * The caller still checks every position it is given, so this only skips. */
static inline size_t next_anchor(const uint8_t *p, size_t i, size_t n, enum anchor k)
{
#if defined(__SSE2__)
	const __m128i low = _mm_set1_epi8(0x20), ua = _mm_set1_epi8('A');
	while (i + 19 <= n) {
		const __m128i *q = (const __m128i *)(const void *)(p + i);
		__m128i c0 = _mm_loadu_si128(q);
		__m128i c1 = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 1));
		__m128i c2 = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 2));
		__m128i c3 = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 3));
		__m128i hit;
		if (k == ANCHOR_BEARER) {
			hit = _mm_and_si128(_mm_cmpeq_epi8(_mm_or_si128(c0, low), _mm_set1_epi8('b')),
					    _mm_cmpeq_epi8(_mm_or_si128(c1, low), _mm_set1_epi8('e')));
			hit = _mm_and_si128(hit, _mm_cmpeq_epi8(_mm_or_si128(c2, low), _mm_set1_epi8('a')));
		} else if (k == ANCHOR_JWT) {
			hit = _mm_and_si128(_mm_cmpeq_epi8(c0, _mm_set1_epi8('e')),
					    _mm_cmpeq_epi8(c1, _mm_set1_epi8('y')));
			hit = _mm_and_si128(hit, _mm_cmpeq_epi8(c2, _mm_set1_epi8('J')));
		} else if (k == ANCHOR_AWS) {
			hit = _mm_and_si128(_mm_cmpeq_epi8(c0, ua), _mm_cmpeq_epi8(c3, ua));
		} else {
			hit = _mm_and_si128(rp_mask_v_in(c0, 'A', 25), rp_mask_v_in(c1, 'A', 25));
			hit = _mm_and_si128(hit, _mm_and_si128(rp_mask_v_in(c2, '0', 9),
							       rp_mask_v_in(c3, '0', 9)));
		}
		unsigned mm = (unsigned)_mm_movemask_epi8(hit);
		if (mm)
			return i + (unsigned)__builtin_ctz(mm);
		i += 16;
	}
#else
	(void)p;
	(void)n;
	(void)k;
#endif
	return i;
}

/* ---- email -------------------------------------------------------------------- */

static int local_ascii(uint8_t c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
}

static int domain_ascii(uint8_t c)
{
	return is_alnum(c) || c == '-' || c == '.';
}

static int ends_with(struct rp_slice s, const char *suffix)
{
	size_t k = strlen(suffix);
	if (s.n < k)
		return 0;
	for (size_t i = 0; i < k; i++)
		if (lower(s.p[s.n - k + i]) != (uint8_t)suffix[i])
			return 0;
	return 1;
}

/* Reserved for documentation and testing (RFC 2606, RFC 6761): never anyone's
 * address, and where fakes live. */
static int reserved_domain(struct rp_slice d)
{
	static const char *const tld[] = {".example", ".invalid", ".test", ".localhost"};
	static const char *const dom[] = {"example.com", "example.net", "example.org"};
	for (size_t i = 0; i < RP_ARRAY_LEN(tld); i++)
		if (ends_with(d, tld[i]))
			return 1;
	for (size_t i = 0; i < RP_ARRAY_LEN(dom); i++) {
		size_t k = strlen(dom[i]);
		if (ends_with(d, dom[i]) && (d.n == k || d.p[d.n - k - 1] == '.'))
			return 1;
	}
	return 0;
}

static int valid_domain(struct rp_slice d)
{
	if (d.n < 3 || d.n > 253)
		return 0;
	size_t labels = 0, start = 0;
	for (size_t i = 0; i <= d.n; i++) {
		if (i < d.n && d.p[i] != '.')
			continue;
		size_t len = i - start;
		if (len == 0 || len > 63 || d.p[start] == '-' || d.p[i - 1] == '-')
			return 0;
		labels++;
		if (i == d.n) { /* the top-level label */
			struct rp_slice tld = rp_slice(d.p + start, len);
			int ascii = 1, letters = 1;
			for (size_t k = 0; k < len; k++) {
				ascii &= tld.p[k] < 0x80;
				letters &= is_alpha(tld.p[k]);
			}
			if (ascii && !letters &&
			    !(len > 4 && lower(tld.p[0]) == 'x' && lower(tld.p[1]) == 'n' &&
			      tld.p[2] == '-' && tld.p[3] == '-'))
				return 0;
			if (ascii && len < 2)
				return 0;
		}
		start = i + 1;
	}
	return labels >= 2;
}

static int find_email(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	size_t i = from;
	while (i < t.n) {
		const uint8_t *at = memchr(t.p + i, '@', t.n - i);
		if (!at)
			return 0;
		size_t a = (size_t)(at - t.p);
		i = a + 1;
		/* local part, leftwards, whole code points only */
		size_t ls = a;
		while (ls > from) {
			uint8_t c = t.p[ls - 1];
			if (c < 0x80) {
				if (!local_ascii(c))
					break;
				ls--;
				continue;
			}
			size_t j = ls - 1;
			while (j > from && (t.p[j] & 0xc0) == 0x80 && ls - j < 4)
				j--;
			unsigned len;
			long cp = cp_at(t, j, &len);
			if (cp < 0 || j + len != ls || !cp_wordish(cp))
				break;
			ls = j;
		}
		for (size_t k = ls; k + 1 < a; k++)
			if (t.p[k] == '.' && t.p[k + 1] == '.')
				ls = k + 2;
		while (ls < a && t.p[ls] == '.')
			ls++;
		if (ls == a || a - ls > 64 || t.p[a - 1] == '.')
			continue;
		/* domain, rightwards */
		size_t de = a + 1;
		while (de < t.n) {
			uint8_t c = t.p[de];
			if (c < 0x80) {
				if (!domain_ascii(c))
					break;
				de++;
				continue;
			}
			unsigned len;
			long cp = cp_at(t, de, &len);
			if (cp < 0 || !cp_wordish(cp))
				break;
			de += len;
		}
		while (de > a + 1 && (t.p[de - 1] == '.' || t.p[de - 1] == '-'))
			de--;
		struct rp_slice dom = rp_slice(t.p + a + 1, de - a - 1);
		if (!valid_domain(dom))
			continue;
		if (!(flags & RP_MASK_DETECT_SYNTAX) && reserved_domain(dom))
			continue;
		*s = ls;
		*e = de;
		return 1;
	}
	return 0;
}

/* ---- payment cards ------------------------------------------------------------ */

int rp_mask_luhn_ok(const uint8_t *d, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');
		if (i & 1)
			v = v * 2 > 9 ? v * 2 - 9 : v * 2;
		sum += v;
	}
	return sum % 10 == 0;
}

unsigned rp_mask_luhn_digit(const uint8_t *d, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');
		if (!(i & 1))
			v = v * 2 > 9 ? v * 2 - 9 : v * 2;
		sum += v;
	}
	return (10 - sum % 10) % 10;
}

static unsigned num(const uint8_t *d, size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return v;
}

/* Issuer prefix and length (ISO/IEC 7812 ranges of the major schemes). */
static int card_brand_ok(const uint8_t *d, size_t n)
{
	unsigned two = num(d, 2), three = num(d, 3), four = num(d, 4);
	switch (d[0]) {
	case '4':
		return n == 13 || n == 16 || n == 19;
	case '5':
		if (two >= 51 && two <= 55)
			return n == 16;
		return n >= 13; /* Maestro 50, 56-59 */
	case '2':
		return four >= 2221 && four <= 2720 && n == 16;
	case '3':
		if (two == 34 || two == 37)
			return n == 15;
		if ((three >= 300 && three <= 305) || two == 36 || two == 38 || two == 39)
			return n >= 14;
		if (four >= 3528 && four <= 3589)
			return n >= 16;
		return 0;
	case '6':
		return n >= 16;
	}
	return 0;
}

unsigned rp_mask_fake_tag(const char *kind, const uint8_t *in, size_t n, unsigned mod)
{
	uint8_t md[32];
	static const char label[] = "reprise-fake-tag-v1:";
	SHA256_CTX h;
	SHA256_Init(&h);
	SHA256_Update(&h, label, sizeof(label) - 1);
	SHA256_Update(&h, kind, strlen(kind) + 1);
	SHA256_Update(&h, in, n);
	SHA256_Final(md, &h);
	uint32_t v = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
	return v % mod;
}

/* A card fake keeps 4 digits, then random ones, a 3-digit tag, the check. */
static int card_is_fake(const uint8_t *d, size_t n)
{
	return rp_mask_fake_tag("card", d, n - 4, 1000) == num(d + n - 4, 3);
}

static int find_card(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	size_t i = from;
	while (i < t.n) {
		if (!is_digit(t.p[i])) {
			i++;
			continue;
		}
		int bad = i > 0 && (is_alnum(t.p[i - 1]) ||
				    ((t.p[i - 1] == '.' || t.p[i - 1] == ',') && i >= 2 &&
				     is_digit(t.p[i - 2])));
		/* the run: digit groups joined by single spaces or dashes */
		size_t gs[24], ge[24], ng = 0, j = i, total = 0;
		for (;;) {
			size_t k = j;
			while (k < t.n && is_digit(t.p[k]))
				k++;
			if (ng < RP_ARRAY_LEN(gs)) {
				gs[ng] = j;
				ge[ng] = k;
			}
			ng++;
			total += k - j;
			j = k;
			if (j + 1 < t.n && (t.p[j] == ' ' || t.p[j] == '-') && is_digit(t.p[j + 1]))
				j++;
			else
				break;
		}
		if (j < t.n && (is_alnum(t.p[j]) || ((t.p[j] == '.' || t.p[j] == ',') &&
						      j + 1 < t.n && is_digit(t.p[j + 1]))))
			bad = 1;
		if (bad || ng > RP_ARRAY_LEN(gs) || total < 13) {
			i = j;
			continue;
		}
		for (size_t sg = 0; sg < ng; sg++) {
			for (size_t eg = ng; eg-- > sg;) {
				uint8_t d[19];
				size_t n = 0;
				int over = 0;
				for (size_t g = sg; g <= eg && !over; g++)
					for (size_t k = gs[g]; k < ge[g]; k++) {
						if (n == sizeof(d)) {
							over = 1;
							break;
						}
						d[n++] = t.p[k];
					}
				if (over || n < 13)
					continue;
				if (!card_brand_ok(d, n) || !rp_mask_luhn_ok(d, n))
					continue;
				if ((flags & RP_MASK_DETECT_AUDIT) && card_is_fake(d, n))
					continue;
				/* a single unseparated run must be the card itself */
				*s = gs[sg];
				*e = ge[eg];
				return 1;
			}
		}
		i = j;
	}
	return 0;
}

/* ---- US SSN ------------------------------------------------------------------- */

static int ssn_at(struct rp_slice t, size_t i, unsigned flags, size_t *end)
{
	if (i + 11 > t.n)
		return 0;
	const uint8_t *p = t.p + i;
	uint8_t sep = p[3];
	if ((sep != '-' && sep != ' ') || p[6] != sep)
		return 0;
	static const int digit_at[] = {0, 1, 2, 4, 5, 7, 8, 9, 10};
	for (size_t k = 0; k < RP_ARRAY_LEN(digit_at); k++)
		if (!is_digit(p[digit_at[k]]))
			return 0;
	if (i + 11 < t.n) {
		uint8_t c = t.p[i + 11];
		if (is_alnum(c) || ((c == '-' || c == ' ' || c == '.') && i + 12 < t.n &&
				    is_digit(t.p[i + 12])))
			return 0;
	}
	unsigned area = num(p, 3), group = num(p + 4, 2), serial = num(p + 7, 4);
	if (area == 0 || group == 0 || serial == 0)
		return 0;
	if (!(flags & RP_MASK_DETECT_SYNTAX)) {
		if (area == 666 || area >= 900)
			return 0; /* never issued (9xx is where fakes live) */
		if ((area == 78 && group == 5 && serial == 1120) ||
		    (area == 219 && group == 9 && serial == 9999))
			return 0; /* published specimen numbers */
	}
	*end = i + 11;
	return 1;
}

static int find_ssn(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	for (size_t i = from; i + 11 <= t.n; i++) {
		if (!is_digit(t.p[i]))
			continue;
		if (i > 0) {
			uint8_t c = t.p[i - 1];
			if (is_alnum(c) || ((c == '-' || c == ' ' || c == '.') && i >= 2 &&
					    is_digit(t.p[i - 2])))
				continue;
		}
		size_t end;
		if (ssn_at(t, i, flags, &end)) {
			*s = i;
			*e = end;
			return 1;
		}
	}
	return 0;
}

/* ---- phone numbers ------------------------------------------------------------ */

/* E.164 country codes: a prefix code.  Two-digit codes, and the two-digit
 * prefixes of the three-digit ones (ITU-T E.164 assignments). */
static const char cc2[] = "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 "
			  "55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98";
static const char cc3[] = "21 22 23 24 25 26 29 35 37 38 42 50 59 67 68 69 80 85 87 88 96 97 99";

static unsigned country_code_len(const uint8_t *d)
{
	if (d[0] == '1' || d[0] == '7')
		return 1;
	char two[3] = {(char)d[0], (char)d[1], 0};
	if (strstr(cc2, two))
		return 2;
	if (strstr(cc3, two))
		return 3;
	return 0;
}

static int sep_ok(uint8_t c)
{
	return c == ' ' || c == '-' || c == '.';
}

/* Digits from |i|, allowing single separators and one parenthesised group;
 * records digit positions.  Returns the end. */
static size_t read_grouped(struct rp_slice t, size_t i, struct rp_mask_phone *ph, unsigned max,
			   unsigned *groups)
{
	int parens = 0;
	*groups = 0;
	size_t end = i;
	while (i < t.n) {
		if (is_digit(t.p[i])) {
			if (ph->ndigits == max)
				return 0;
			if (i == end || !is_digit(t.p[i - 1]))
				(*groups)++;
			ph->pos[ph->ndigits++] = i++;
			end = i;
			continue;
		}
		if (t.p[i] == '(' && !parens && i + 1 < t.n && is_digit(t.p[i + 1])) {
			size_t k = i + 1;
			while (k < t.n && is_digit(t.p[k]))
				k++;
			if (k >= t.n || t.p[k] != ')' || k - i - 1 > 4)
				break;
			parens = 1;
			(*groups)++;
			for (size_t q = i + 1; q < k; q++) {
				if (ph->ndigits == max)
					return 0;
				ph->pos[ph->ndigits++] = q;
			}
			i = k + 1;
			end = i;
			if (i < t.n && t.p[i] == ' ')
				i++;
			continue;
		}
		if (sep_ok(t.p[i]) && i + 1 < t.n && (is_digit(t.p[i + 1]) || t.p[i + 1] == '(') &&
		    i > 0 && (is_digit(t.p[i - 1]) || t.p[i - 1] == ')')) {
			i++;
			continue;
		}
		break;
	}
	return end;
}

static int nanp_ok(const struct rp_slice t, const struct rp_mask_phone *ph, unsigned at)
{
	uint8_t a0 = t.p[ph->pos[at]], a1 = t.p[ph->pos[at + 1]], a2 = t.p[ph->pos[at + 2]];
	uint8_t x0 = t.p[ph->pos[at + 3]];
	if (a0 < '2' || x0 < '2')
		return 0;
	if (a1 == '1' && a2 == '1')
		return 0; /* N11 codes are services, not area codes */
	return 1;
}

size_t rp_mask_phone_at(struct rp_slice t, size_t at, struct rp_mask_phone *ph)
{
	/* hot: called at every candidate, so only the counters are reset */
	ph->form = 0;
	ph->ndigits = 0;
	ph->cc = 0;
	ph->nanp_at = ~0u;
	unsigned groups;
	if (t.p[at] == '+') {
		if (at + 1 >= t.n || !is_digit(t.p[at + 1]) || t.p[at + 1] == '0')
			return 0;
		size_t end = read_grouped(t, at + 1, ph, 15, &groups);
		if (!end || ph->ndigits < 8)
			return 0;
		uint8_t d[2] = {t.p[ph->pos[0]], t.p[ph->pos[1]]};
		unsigned cc = country_code_len(d);
		if (!cc)
			return 0;
		ph->form = PH_E164;
		ph->cc = cc;
		if (d[0] == '1') {
			if (ph->ndigits != 11 || !nanp_ok(t, ph, 1))
				return 0;
			ph->nanp_at = 1;
		}
		return end;
	}
	/* NANP: [1 sep] (NXX) NXX-XXXX | NXX sep NXX sep XXXX */
	size_t i = at;
	unsigned lead = 0;
	if (t.p[i] == '1' && i + 2 < t.n && sep_ok(t.p[i + 1]) &&
	    (is_digit(t.p[i + 2]) || t.p[i + 2] == '(')) {
		ph->pos[ph->ndigits++] = i;
		lead = 1;
		i += 2;
	}
	size_t k = i;
	int paren = k < t.n && t.p[k] == '(';
	if (paren)
		k++;
	if (k + 3 <= t.n && is_digit(t.p[k]) && is_digit(t.p[k + 1]) && is_digit(t.p[k + 2])) {
		unsigned save = ph->ndigits;
		for (int q = 0; q < 3; q++)
			ph->pos[ph->ndigits++] = k + (size_t)q;
		k += 3;
		uint8_t sep1 = 0;
		int ok = 1;
		if (paren) {
			ok = k < t.n && t.p[k] == ')';
			k++;
			if (ok && k < t.n && t.p[k] == ' ')
				k++;
		} else {
			ok = k < t.n && sep_ok(t.p[k]);
			sep1 = ok ? t.p[k] : 0;
			k++;
		}
		if (ok && k + 8 <= t.n && is_digit(t.p[k]) && is_digit(t.p[k + 1]) &&
		    is_digit(t.p[k + 2]) && sep_ok(t.p[k + 3]) && (!sep1 || t.p[k + 3] == sep1) &&
		    is_digit(t.p[k + 4]) && is_digit(t.p[k + 5]) && is_digit(t.p[k + 6]) &&
		    is_digit(t.p[k + 7])) {
			for (int q = 0; q < 3; q++)
				ph->pos[ph->ndigits++] = k + (size_t)q;
			for (int q = 4; q < 8; q++)
				ph->pos[ph->ndigits++] = k + (size_t)q;
			if (nanp_ok(t, ph, lead)) {
				ph->form = PH_NANP;
				ph->cc = lead;
				ph->nanp_at = lead;
				return k + 8;
			}
		}
		ph->ndigits = save;
	}
	/* trunk-0 national forms: 0AA[A..] GROUP [GROUP...], 10-11 digits */
	ph->form = 0;
	ph->ndigits = 0;
	ph->cc = 0;
	ph->nanp_at = ~0u;
	if (t.p[at] != '0' && !(t.p[at] == '(' && at + 1 < t.n && t.p[at + 1] == '0'))
		return 0;
	size_t end = read_grouped(t, at, ph, 11, &groups);
	if (!end || ph->ndigits < 10 || groups < 2)
		return 0;
	/* the first group (the trunk and area code) has 2-5 digits */
	unsigned first = 1;
	while (first < ph->ndigits && ph->pos[first] == ph->pos[first - 1] + 1)
		first++;
	if (first < 2 || first > 5 || t.p[ph->pos[1]] == '0')
		return 0;
	ph->form = PH_TRUNK0;
	return end;
}

static int phone_is_fake(struct rp_slice t, const struct rp_mask_phone *ph)
{
	uint8_t d[20];
	for (unsigned i = 0; i < ph->ndigits; i++)
		d[i] = t.p[ph->pos[i]];
	return rp_mask_fake_tag("phone", d, ph->ndigits - 2, 100) == num(d + ph->ndigits - 2, 2);
}

static int find_phone(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	size_t i = from;
	while (i < t.n) {
		uint8_t c = t.p[i];
		if (!(c == '+' || c == '(' || is_digit(c))) {
			i++;
			continue;
		}
		if (i > 0) {
			uint8_t p = t.p[i - 1];
			if (is_alnum(p) || p == '+' || p == '(' || p == '_' ||
			    ((sep_ok(p) || p == '/' || p == ',' || p == ':') && i >= 2 &&
			     is_digit(t.p[i - 2]))) {
				if (is_digit(c))
					while (i < t.n && is_digit(t.p[i]))
						i++;
				else
					i++;
				continue;
			}
		}
		struct rp_mask_phone ph;
		size_t end = rp_mask_phone_at(t, i, &ph);
		if (end) {
			int ok = end >= t.n || !(is_alnum(t.p[end]) || t.p[end] == '_' ||
						 ((sep_ok(t.p[end]) || t.p[end] == '/') && end + 1 < t.n &&
						  is_digit(t.p[end + 1])));
			if (ok && (flags & RP_MASK_DETECT_AUDIT) && phone_is_fake(t, &ph))
				ok = 0;
			if (ok) {
				*s = i;
				*e = end;
				return 1;
			}
		}
		i++;
		while (i < t.n && is_digit(t.p[i]))
			i++;
	}
	return 0;
}

/* ---- IBAN ------------------------------------------------------------------- */

/* Country and length (ISO 13616 registry). */
static const char iban_countries[] =
	"AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28EE20"
	"EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27GT28HN28HR21HU28IE22IL23IQ23IS26IT27JO30"
	"KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15OM23"
	"PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25SV28TL23TN24TR26"
	"UA29VA22VG24XK20YE30";

static unsigned iban_length(uint8_t a, uint8_t b)
{
	for (const char *p = iban_countries; *p; p += 4)
		if (p[0] == a && p[1] == b)
			return (unsigned)((p[2] - '0') * 10 + (p[3] - '0'));
	return 0;
}

unsigned rp_mask_iban_mod97(struct rp_slice s)
{
	/* rearranged: BBAN, then country and check digits */
	uint8_t v[40];
	size_t n = 0;
	for (size_t i = 0; i < s.n && n < sizeof(v); i++)
		if (s.p[i] != ' ')
			v[n++] = s.p[i];
	unsigned r = 0;
	for (size_t k = 0; k < n; k++) {
		uint8_t c = v[(k + 4) % n];
		if (is_digit(c))
			r = (r * 10 + (unsigned)(c - '0')) % 97;
		else
			r = (r * 100 + (unsigned)(lower(c) - 'a' + 10)) % 97;
	}
	return r;
}

static int iban_is_fake(const uint8_t *v, size_t n)
{
	/* the tag is the last two digits of the BBAN; the input, the country
	 * and every other BBAN character */
	size_t d2 = n, d1 = n;
	for (size_t k = n; k-- > 4;)
		if (is_digit(v[k])) {
			if (d2 == n)
				d2 = k;
			else {
				d1 = k;
				break;
			}
		}
	if (d1 == n)
		return 0;
	uint8_t in[40];
	size_t m = 0;
	in[m++] = v[0];
	in[m++] = v[1];
	for (size_t k = 4; k < n; k++)
		if (k != d1 && k != d2)
			in[m++] = v[k];
	unsigned tag = (unsigned)(v[d1] - '0') * 10 + (unsigned)(v[d2] - '0');
	return rp_mask_fake_tag("iban", in, m, 100) == tag;
}

static int find_iban(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	for (size_t i = from; i + 15 <= t.n; i++) {
		i = next_anchor(t.p, i, t.n, ANCHOR_IBAN);
		if (i + 15 > t.n)
			break;
		if (!is_upper(t.p[i]) || !is_upper(t.p[i + 1]) || !is_digit(t.p[i + 2]) ||
		    !is_digit(t.p[i + 3]))
			continue;
		if (i > 0 && is_alnum(t.p[i - 1]))
			continue;
		unsigned len = iban_length(t.p[i], t.p[i + 1]);
		if (!len)
			continue;
		uint8_t v[40];
		size_t n = 0, j = i;
		while (j < t.n && n < len) {
			uint8_t c = t.p[j];
			if (is_upper(c) || is_digit(c)) {
				v[n++] = c;
				j++;
			} else if (c == ' ' && n % 4 == 0 && j + 1 < t.n && is_alnum(t.p[j + 1])) {
				j++;
			} else {
				break;
			}
		}
		if (n != len || (j < t.n && is_alnum(t.p[j])))
			continue;
		if (rp_mask_iban_mod97(rp_slice(v, n)) != 1)
			continue;
		if ((flags & RP_MASK_DETECT_AUDIT) && iban_is_fake(v, n))
			continue;
		*s = i;
		*e = j;
		return 1;
	}
	return 0;
}

/* ---- JWT, bearer, AWS ----------------------------------------------------------- */

static size_t b64url_run(struct rp_slice t, size_t i)
{
	while (i < t.n && is_b64url(t.p[i]))
		i++;
	return i;
}

/* Decodes base64url |in| into |out| (cap bytes); returns the length. */
static size_t b64url_decode(struct rp_slice in, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;
	for (size_t i = 0; i < in.n && n < cap; i++) {
		uint8_t c = in.p[i];
		unsigned v = is_upper(c) ? (unsigned)(c - 'A')
			   : (c >= 'a' && c <= 'z') ? (unsigned)(c - 'a' + 26)
			   : is_digit(c) ? (unsigned)(c - '0' + 52)
			   : c == '-' ? 62u : 63u;
		acc = acc << 6 | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n;
}

static int jwt_is_fake(struct rp_slice payload)
{
	uint8_t buf[256];
	size_t n = b64url_decode(payload, buf, sizeof(buf));
	static const char mark[] = "\"reprise\":\"masked\"";
	return n >= sizeof(mark) - 1 && memmem(buf, n, mark, sizeof(mark) - 1) != NULL;
}

static int find_jwt(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	size_t i = from;
	while (i + 3 <= t.n) {
		i = next_anchor(t.p, i, t.n, ANCHOR_JWT);
		const uint8_t *p = i + 3 <= t.n ? memmem(t.p + i, t.n - i, "eyJ", 3) : NULL;
		if (!p)
			return 0;
		size_t a = (size_t)(p - t.p);
		i = a + 3;
		if (a > 0 && (is_b64url(t.p[a - 1]) || t.p[a - 1] == '.'))
			continue;
		size_t h = b64url_run(t, a);
		if (h - a < 10 || h + 4 > t.n || t.p[h] != '.' || memcmp(t.p + h + 1, "eyJ", 3) != 0)
			continue;
		size_t pl = b64url_run(t, h + 1);
		if (pl - h - 1 < 10 || pl >= t.n || t.p[pl] != '.')
			continue;
		size_t sg = b64url_run(t, pl + 1);
		if (sg < t.n && t.p[sg] == '.')
			continue;
		if ((flags & RP_MASK_DETECT_AUDIT) &&
		    jwt_is_fake(rp_slice(t.p + h + 1, pl - h - 1)))
			continue;
		*s = a;
		*e = sg;
		return 1;
	}
	return 0;
}

static int is_token68(uint8_t c)
{
	return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* tok_ and 20 base32 characters: what tokenize writes. */
static int is_our_token(struct rp_slice v)
{
	if (v.n != 24 || memcmp(v.p, "tok_", 4) != 0)
		return 0;
	for (size_t i = 4; i < v.n; i++)
		if (!((v.p[i] >= 'a' && v.p[i] <= 'z') || (v.p[i] >= '2' && v.p[i] <= '7')))
			return 0;
	return 1;
}

static int is_hex64(struct rp_slice v)
{
	if (v.n != 64)
		return 0;
	for (size_t i = 0; i < v.n; i++)
		if (!is_hex(v.p[i]) || is_upper(v.p[i]))
			return 0;
	return 1;
}

static int find_bearer(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	for (size_t i = from; i + 8 <= t.n; i++) {
		i = next_anchor(t.p, i, t.n, ANCHOR_BEARER);
		if (i + 8 > t.n)
			break;
		if (lower(t.p[i]) != 'b' || (i > 0 && is_alnum(t.p[i - 1])))
			continue;
		static const char word[] = "bearer";
		size_t k = 0;
		while (k < 6 && lower(t.p[i + k]) == (uint8_t)word[k])
			k++;
		if (k < 6)
			continue;
		size_t j = i + 6;
		if (j >= t.n || (t.p[j] != ' ' && t.p[j] != '\t'))
			continue;
		while (j < t.n && (t.p[j] == ' ' || t.p[j] == '\t'))
			j++;
		size_t a = j;
		while (j < t.n && is_token68(t.p[j]))
			j++;
		size_t tok_end = j;
		while (j < t.n && t.p[j] == '=')
			j++;
		if (tok_end - a < 12 || (j < t.n && t.p[j] == '"'))
			continue;
		struct rp_slice tok = rp_slice(t.p + a, tok_end - a);
		if ((flags & RP_MASK_DETECT_AUDIT) &&
		    (is_our_token(tok) || is_hex64(tok) ||
		     rp_slice_eq(tok, RP_SLICE_LIT(RP_MASK_REDACTED))))
			continue;
		*s = a;
		*e = j;
		return 1;
	}
	return 0;
}

static int find_aws(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	static const char *const prefixes[] = {"AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA",
					       "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA"};
	for (size_t i = from; i + 20 <= t.n; i++) {
		i = next_anchor(t.p, i, t.n, ANCHOR_AWS);
		if (i + 20 > t.n)
			break;
		if (t.p[i] != 'A' || (i > 0 && is_alnum(t.p[i - 1])))
			continue;
		int pre = 0;
		for (size_t k = 0; k < RP_ARRAY_LEN(prefixes) && !pre; k++)
			pre = memcmp(t.p + i, prefixes[k], 4) == 0;
		if (!pre)
			continue;
		size_t j = i + 4;
		while (j < i + 20 && (is_upper(t.p[j]) || is_digit(t.p[j])))
			j++;
		if (j != i + 20 || (j < t.n && is_alnum(t.p[j])))
			continue;
		if ((flags & RP_MASK_DETECT_AUDIT) && memcmp(t.p + i + 13, "EXAMPLE", 7) == 0)
			continue;
		*s = i;
		*e = j;
		return 1;
	}
	return 0;
}

/* ---- IP addresses ---------------------------------------------------------------- */

/* Public unicast: not private, loopback, link-local, shared, documentation,
 * benchmarking (where fakes live), multicast or reserved. */
static int ipv4_public(const uint8_t a[4])
{
	unsigned x = a[0], y = a[1], z = a[2];
	if (x == 0 || x == 10 || x == 127 || x >= 224)
		return 0;
	if (y == 0 && z == 0 && a[3] == 0)
		return 0; /* N.0.0.0 names a network, never a host (and is what
			     reduced User-Agent versions look like: Chrome/156.0.0.0) */
	if ((x == 100 && y >= 64 && y < 128) || (x == 169 && y == 254) ||
	    (x == 172 && y >= 16 && y < 32) || (x == 192 && y == 168) ||
	    (x == 198 && (y == 18 || y == 19)))
		return 0;
	if ((x == 192 && y == 0 && (z == 0 || z == 2)) || (x == 198 && y == 51 && z == 100) ||
	    (x == 203 && y == 0 && z == 113))
		return 0;
	return 1;
}

static int ipv4_at(struct rp_slice t, size_t i, uint8_t out[4], size_t *end)
{
	for (int k = 0; k < 4; k++) {
		if (k) {
			if (i >= t.n || t.p[i] != '.')
				return 0;
			i++;
		}
		size_t st = i;
		unsigned v = 0;
		while (i < t.n && is_digit(t.p[i]) && i - st < 4)
			v = v * 10 + (unsigned)(t.p[i++] - '0');
		if (i == st || i - st > 3 || v > 255 || (i - st > 1 && t.p[st] == '0'))
			return 0;
		out[k] = (uint8_t)v;
	}
	*end = i;
	return 1;
}

static int find_ipv4(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	for (size_t i = from; i + 7 <= t.n; i++) {
		if (!is_digit(t.p[i]))
			continue;
		if (i > 0 && (is_alnum(t.p[i - 1]) || t.p[i - 1] == '.' || t.p[i - 1] == '_' ||
			      (t.p[i - 1] == '-' && i >= 2 && is_digit(t.p[i - 2])))) {
			while (i + 1 < t.n && is_digit(t.p[i + 1]))
				i++;
			continue;
		}
		uint8_t a[4];
		size_t end;
		if (!ipv4_at(t, i, a, &end)) {
			while (i + 1 < t.n && is_digit(t.p[i + 1]))
				i++;
			continue;
		}
		if (end < t.n && (is_alnum(t.p[end]) || t.p[end] == '_' ||
				  (t.p[end] == '.' && end + 1 < t.n && is_digit(t.p[end + 1])))) {
			i = end;
			continue;
		}
		if (!(flags & RP_MASK_DETECT_SYNTAX) && !ipv4_public(a)) {
			i = end;
			continue;
		}
		*s = i;
		*e = end;
		return 1;
	}
	return 0;
}

static int ipv6_global(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(a, mapped, 12) == 0)
		return ipv4_public(a + 12);
	if ((a[0] & 0xe0) != 0x20)
		return 0; /* outside 2000::/3 */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return 0; /* 2001:db8::/32, documentation (where fakes live) */
	return 1;
}

static int v6char(uint8_t c)
{
	return is_hex(c) || c == ':' || c == '.';
}

/* Can [from, n) of |t| hold an address inet_pton takes?  Every textual
 * IPv6 address has seven colons (eight groups), six (six groups and a
 * dotted IPv4 tail) or a "::"; times of day ("10:02:00") have none of
 * these, and are ruled out without looking for runs. */
static int v6_possible(struct rp_slice t, size_t from)
{
	unsigned colons = 0;
	const uint8_t *end = t.p + t.n;
	for (const uint8_t *p = memchr(t.p + from, ':', t.n - from); p;
	     p = memchr(p + 1, ':', (size_t)(end - p - 1))) {
		if (p + 1 < end && p[1] == ':')
			return 1;
		if (++colons >= 6)
			return 1;
	}
	return 0;
}

static int find_ipv6(struct rp_slice t, size_t from, unsigned flags, size_t *s, size_t *e)
{
	if (from >= t.n || !v6_possible(t, from))
		return 0;
	size_t i = from;
	while (i < t.n) {
		const uint8_t *colon = memchr(t.p + i, ':', t.n - i);
		if (!colon)
			return 0;
		/* back to the start of the run around this colon */
		size_t a = (size_t)(colon - t.p);
		while (a > i && v6char(t.p[a - 1]))
			a--;
		size_t b = a;
		while (b < t.n && v6char(t.p[b]))
			b++;
		i = b + 1;
		int bad = (a > 0 && (is_alnum(t.p[a - 1]) || t.p[a - 1] == '_')) ||
			  (b < t.n && (is_alnum(t.p[b]) || t.p[b] == '_'));
		while (b > a && t.p[b - 1] == '.')
			b--;
		if (b > a + 1 && t.p[b - 1] == ':' && t.p[b - 2] != ':')
			b--;
		if (bad || b - a < 2 || b - a > 45)
			continue;
		char buf[48];
		memcpy(buf, t.p + a, b - a);
		buf[b - a] = '\0';
		uint8_t addr[16];
		if (inet_pton(AF_INET6, buf, addr) != 1)
			continue;
		if (!(flags & RP_MASK_DETECT_SYNTAX) && !ipv6_global(addr))
			continue;
		*s = a;
		*e = b;
		return 1;
	}
	return 0;
}

/* ---- the prefilter ------------------------------------------------------------------ */

uint16_t rp_mask_fact_class[256];
static pthread_once_t fact_once = PTHREAD_ONCE_INIT;

static void fact_table_init(void)
{
	uint16_t *t = rp_mask_fact_class;
	for (int ch = '0'; ch <= '9'; ch++)
		t[ch] = RP_MF_DIGIT;
	for (int ch = 'A'; ch <= 'Z'; ch++)
		t[ch] = RP_MF_UPPER;
	t['A'] |= RP_MF_A;
	t['B'] |= RP_MF_B;
	t['b'] = RP_MF_B;
	t['.'] = RP_MF_DOT;
	t[':'] = RP_MF_COLON;
	t['@'] = RP_MF_AT;
	t['e'] = RP_MF_E;
	t['"'] = RP_MF_QUOTE;
	t['\\'] = RP_MF_BSLASH;
}

void rp_mask_facts_init(void)
{
	pthread_once(&fact_once, fact_table_init);
}

uint32_t rp_mask_possible(struct rp_slice v)
{
	rp_mask_facts_init();
	struct rp_mask_facts f = {0};
	size_t vec_end = rp_mask_facts_run(v.p, 0, v.n, &f, 0);
	for (size_t i = vec_end; i < v.n; i++) {
		uint16_t k = rp_mask_fact_class[v.p[i]];
		if (k) /* most bytes: lower-case letters, spaces */
			rp_mask_facts_add(&f, k, v.p, i, v.n);
	}
	rp_mask_facts_eyj(&f, v.p, 0, vec_end, v.n);
	return rp_mask_facts_bits(&f, v.n);
}

/* ---- dispatch --------------------------------------------------------------------- */

typedef int (*find_fn)(struct rp_slice, size_t, unsigned, size_t *, size_t *);

static const find_fn finders[RP_MASK_DETECTOR_COUNT] = {
	find_email, find_card, find_ssn,    find_phone, find_iban,
	find_jwt,   find_bearer, find_aws, find_ipv4,  find_ipv6,
};

int rp_mask_detect(enum rp_mask_detector d, struct rp_slice text, size_t from, unsigned flags,
		   size_t *start, size_t *end)
{
	if ((unsigned)d >= RP_MASK_DETECTOR_COUNT || from >= text.n)
		return 0;
	return finders[d](text, from, flags, start, end);
}

int rp_mask_detect_whole(enum rp_mask_detector d, struct rp_slice value, unsigned flags)
{
	size_t s, e;
	return rp_mask_detect(d, value, 0, flags, &s, &e) && s == 0 && e == value.n;
}

/* ---- every detector over one text ---------------------------------------------- */

/* Card, SSN, phone and IPv4 matches are made of digits and the separators
 * between them (space, dash, dot, parentheses, plus): a run of those bytes
 * is a cluster, and a detector can only match inside a cluster holding
 * enough digits (13 for a card, 9 for an SSN, 8 for a phone, 4 digits and 3
 * dots for an address).  Text has many short clusters (words with a digit,
 * dates, prices), so one pass that finds clusters and runs a detector only
 * on those that qualify replaces four scans of every digit.
 *
 * The detector sees the text from the cluster's start to two bytes past its
 * end: the bytes before it (for its left-boundary checks) and the two after
 * it that its right-boundary checks read.  No match can start or end outside
 * the cluster, because every byte of a match is a cluster byte. */
enum { CL_IN = 1, CL_DIGIT = 2, CL_DOT = 4 };
static uint8_t cluster_class[256];
static pthread_once_t cluster_once = PTHREAD_ONCE_INIT;

static void cluster_table_init(void)
{
	for (int ch = '0'; ch <= '9'; ch++)
		cluster_class[ch] = CL_IN | CL_DIGIT;
	cluster_class[' '] = cluster_class['-'] = cluster_class['('] = cluster_class[')'] =
		cluster_class['+'] = CL_IN;
	cluster_class['.'] = CL_IN | CL_DOT;
}

static const unsigned cluster_min_digits[RP_MASK_DETECTOR_COUNT] = {
	[RP_MASK_CARD] = 13, [RP_MASK_SSN] = 9, [RP_MASK_PHONE] = 8, [RP_MASK_IPV4] = 4,
};
#define CLUSTER_DETECTORS (1u << RP_MASK_CARD | 1u << RP_MASK_SSN | 1u << RP_MASK_PHONE | \
			   1u << RP_MASK_IPV4)

/* The shortest match of each cluster detector, in bytes: a card's 13
 * digits, an SSN's ddd-dd-dddd, a phone's 8 digits, an address's d.d.d.d. */
static const unsigned cluster_min_len[RP_MASK_DETECTOR_COUNT] = {
	[RP_MASK_CARD] = 13, [RP_MASK_SSN] = 11, [RP_MASK_PHONE] = 8, [RP_MASK_IPV4] = 7,
};

/* Runs the detectors |dets| on the cluster [a, b) of |digits| digits and
 * |dots| dots, if it can hold a match of one of them. */
static void one_cluster(struct rp_slice t, size_t a, size_t b, unsigned digits, unsigned dots,
			uint32_t dets, unsigned flags, rp_mask_found_fn found, void *ctx)
{
	struct rp_slice w = rp_slice(t.p, b + 2 < t.n ? b + 2 : t.n);
	for (int d = 0; d < RP_MASK_DETECTOR_COUNT; d++) {
		if (!(dets & (1u << d)) || digits < cluster_min_digits[d] ||
		    b - a < cluster_min_len[d] || (d == RP_MASK_IPV4 && dots < 3))
			continue;
		size_t from = a, s, e;
		while (from < b && finders[d](w, from, flags, &s, &e) && s < b) {
			found(ctx, (enum rp_mask_detector)d, s, e);
			from = e > s ? e : s + 1;
		}
	}
}

/* Of 64 bytes at |p|: which are cluster bytes, digits and dots (bit j for
 * byte j). */
struct cluster_masks {
	uint64_t in, digit, dot;
};

static inline struct cluster_masks cluster_masks64(const uint8_t *p)
{
	struct cluster_masks m = {0, 0, 0};
#if defined(__SSE2__)
	const __m128i sp = _mm_set1_epi8(' '), da = _mm_set1_epi8('-'), dot = _mm_set1_epi8('.');
	const __m128i lp = _mm_set1_epi8('('), rp = _mm_set1_epi8(')'), pl = _mm_set1_epi8('+');
	for (int k = 0; k < 4; k++) {
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
		__m128i dg = rp_mask_v_in(c, '0', 9);
		__m128i dt = _mm_cmpeq_epi8(c, dot);
		__m128i in = _mm_or_si128(dg, dt);
		in = _mm_or_si128(in, _mm_or_si128(_mm_cmpeq_epi8(c, sp), _mm_cmpeq_epi8(c, da)));
		in = _mm_or_si128(in, _mm_or_si128(_mm_cmpeq_epi8(c, lp), _mm_cmpeq_epi8(c, rp)));
		in = _mm_or_si128(in, _mm_cmpeq_epi8(c, pl));
		m.in |= (uint64_t)(uint16_t)_mm_movemask_epi8(in) << (16 * k);
		m.digit |= (uint64_t)(uint16_t)_mm_movemask_epi8(dg) << (16 * k);
		m.dot |= (uint64_t)(uint16_t)_mm_movemask_epi8(dt) << (16 * k);
	}
#else
	for (int j = 0; j < 64; j++) {
		uint8_t k = cluster_class[p[j]];
		m.in |= (uint64_t)(k & CL_IN) << j;
		m.digit |= (uint64_t)((k & CL_DIGIT) >> 1) << j;
		m.dot |= (uint64_t)((k & CL_DOT) >> 2) << j;
	}
#endif
	return m;
}

/* Set bits of |x|: without -mpopcnt the builtin is a library call. */
static inline unsigned ones(uint64_t x)
{
#if defined(__POPCNT__)
	return (unsigned)__builtin_popcountll(x);
#else
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* Bits [s, e) of a 64-bit word, 0 <= s < e <= 64. */
static inline uint64_t bits_between(unsigned s, unsigned e)
{
	uint64_t hi = e == 64 ? ~0ull : (1ull << e) - 1;
	return hi & ~((1ull << s) - 1);
}

/* One pass over |t| for the cluster detectors in |dets| (in enum order within
 * each cluster), 64 bytes at a time: bit masks of cluster bytes, digits and
 * dots give each cluster's extent and counts with a few word operations, and
 * only the clusters with enough digits and length are handed to a detector.
 * A cluster running past a block's end is carried into the next. */
static void each_in_clusters(struct rp_slice t, uint32_t dets, unsigned flags,
			     rp_mask_found_fn found, void *ctx)
{
	/* the fewest digits and bytes a match takes; without dots (IPv4 needs
	 * three), the fewest bytes of the others */
	unsigned need = ~0u, len = ~0u, len_nodot = 64;
	for (int d = 0; d < RP_MASK_DETECTOR_COUNT; d++)
		if (dets & (1u << d)) {
			if (cluster_min_digits[d] < need)
				need = cluster_min_digits[d];
			if (cluster_min_len[d] < len)
				len = cluster_min_len[d];
			if (d != RP_MASK_IPV4 && cluster_min_len[d] < len_nodot)
				len_nodot = cluster_min_len[d];
		}
	/* the cluster carried from the previous block, if any */
	int open = 0;
	size_t oa = 0;
	unsigned odigits = 0, odots = 0;
	uint8_t tail[64];
	for (size_t o = 0; o < t.n; o += 64) {
		const uint8_t *p = t.p + o;
		if (t.n - o < 64) {
			memset(tail, 0, sizeof(tail)); /* NUL is not a cluster byte */
			memcpy(tail, p, t.n - o);
			p = tail;
		}
		struct cluster_masks m = cluster_masks64(p);
		uint64_t x = m.in;
		if (open) {
			unsigned l = ~x ? (unsigned)__builtin_ctzll(~x) : 64;
			if (l) {
				uint64_t run = bits_between(0, l);
				odigits += ones(m.digit & run);
				odots += ones(m.dot & run);
				x &= ~run;
			}
			if (l == 64)
				continue;
			if (odigits >= need && o + l - oa >= len)
				one_cluster(t, oa, o + l, odigits, odots, dets, flags, found, ctx);
			open = 0;
		}
		/* the run touching the block's end, if any, is carried */
		unsigned ts = 64;
		if (x >> 63)
			ts = ~x ? 64 - (unsigned)__builtin_clzll(~x) : 0;
		/* bit j of r: bytes j .. j+len-1 are cluster bytes, so the run
		 * holding them is long enough to look at */
		uint64_t r = ts == 64 ? x : ts == 0 ? 0 : x & bits_between(0, ts);
		unsigned blen = m.dot ? len : len_nodot; /* 64: none fits */
		if (blen >= 64)
			r = 0;
		for (unsigned have = 1; r && have < blen;) {
			unsigned sh = have < blen - have ? have : blen - have;
			r &= r >> sh;
			have += sh;
		}
		while (r) {
			unsigned j = (unsigned)__builtin_ctzll(r);
			uint64_t below = j ? ~x & bits_between(0, j) : 0;
			unsigned s = below ? 64 - (unsigned)__builtin_clzll(below) : 0;
			unsigned e = j + (unsigned)__builtin_ctzll(~(x >> j));
			uint64_t run = bits_between(s, e);
			unsigned digits = ones(m.digit & run);
			if (digits >= need)
				one_cluster(t, o + s, o + e, digits,
					    ones(m.dot & run), dets, flags, found,
					    ctx);
			r &= ~bits_between(0, e);
		}
		if (ts < 64) {
			uint64_t run = bits_between(ts, 64);
			open = 1;
			oa = o + ts;
			odigits = ones(m.digit & run);
			odots = ones(m.dot & run);
		}
	}
	if (open && odigits >= need && t.n - oa >= len)
		one_cluster(t, oa, t.n, odigits, odots, dets, flags, found, ctx);
}

void rp_mask_detect_each(struct rp_slice t, uint32_t dets, unsigned flags, rp_mask_found_fn found,
			 void *ctx)
{
	if (!t.n)
		return;
	pthread_once(&cluster_once, cluster_table_init);
	/* the order of the per-detector loops (enum order), so that when two
	 * matches overlap the same one wins: IPv4 after AWS keys, the other
	 * cluster detectors in the place of the card */
	static const uint32_t groups[] = {
		1u << RP_MASK_EMAIL,
		1u << RP_MASK_CARD | 1u << RP_MASK_SSN | 1u << RP_MASK_PHONE,
		1u << RP_MASK_IBAN, 1u << RP_MASK_JWT, 1u << RP_MASK_BEARER, 1u << RP_MASK_AWS_KEY,
		1u << RP_MASK_IPV4, 1u << RP_MASK_IPV6,
	};
	for (size_t g = 0; g < RP_ARRAY_LEN(groups); g++) {
		uint32_t gd = dets & groups[g];
		if (!gd)
			continue;
		if (gd & CLUSTER_DETECTORS) {
			each_in_clusters(t, gd, flags, found, ctx);
			continue;
		}
		enum rp_mask_detector d = (enum rp_mask_detector)__builtin_ctz(gd);
		size_t from = 0, s, e;
		while (from < t.n && finders[d](t, from, flags, &s, &e)) {
			found(ctx, d, s, e);
			from = e > s ? e : s + 1;
		}
	}
}
