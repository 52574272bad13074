/*
 * keyed: what the actions write — the redaction marker, keyed hashes and
 * tokens, partial masks (keep-last) and format-preserving fakes — and the
 * key they are keyed with.
 *
 * Everything derived from a value is an HMAC-SHA-256 of it under the
 * operator's key, so the same value gives the same token or fake in every
 * process and on every run with that key, a different key gives unrelated
 * ones, and low-entropy values (a phone number, an SSN) cannot be recovered
 * by hashing candidates without the key.  Values are normalised first
 * (emails lowercased, cards, phones and SSNs reduced to digits, IBANs to
 * upper case without spaces), so "John@X.com" and "john@x.com" agree.
 *
 * A fake keeps the shape a validating service checks: an email stays an
 * email (at the reserved example.com), a card keeps its issuer digits and
 * length and passes Luhn, an IBAN keeps its country and passes mod-97, a
 * number stays a number with as many digits, a date stays a date.  Fakes are
 * drawn from ranges that are never anyone's (9xx SSNs, 198.18.0.0/15,
 * 2001:db8::/32) or carry a public check tag (cards, phones, IBANs), so an
 * audit can tell them from the real thing (detect.c).
 *
 * The HMAC is computed with OpenSSL's SHA-256: the key's inner and outer
 * padded states are absorbed once; each call copies them onto its own stack,
 * so a key is shared read-only by every thread.  (Padding the last block
 * here and calling SHA256_Transform was tried: OpenSSL 3's exported
 * SHA256_Transform is slower per block than Update/Final on SHA-NI CPUs.)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include <pthread.h>

#include "mask-int.h"

/* ---- the key ------------------------------------------------------------------- */

int rp_mask_key_init(struct rp_mask_key *k, const void *key, size_t n)
{
	memset(k, 0, sizeof(*k));
	if (n < RP_MASK_KEY_MIN || n > RP_MASK_KEY_MAX)
		return RP_E_USAGE;
	uint8_t block[64] = {0};
	if (n > sizeof(block))
		SHA256(key, n, block);
	else
		memcpy(block, key, n);
	uint8_t ipad[64], opad[64];
	for (size_t i = 0; i < 64; i++) {
		ipad[i] = block[i] ^ 0x36;
		opad[i] = block[i] ^ 0x5c;
	}
	SHA256_Init(&k->inner);
	SHA256_Update(&k->inner, ipad, 64);
	SHA256_Init(&k->outer);
	SHA256_Update(&k->outer, opad, 64);
	memset(block, 0, sizeof(block));
	memset(ipad, 0, sizeof(ipad));
	memset(opad, 0, sizeof(opad));

	struct rp_slice label = RP_SLICE_LIT("reprise-mask-key-fingerprint-v1");
	uint8_t md[32];
	rp_mask_hmac(k, &label, 1, md);
	memcpy(k->fingerprint, "hmac-sha256:", 12);
	rp_hex(md, 16, k->fingerprint + 12);
	return 0;
}

void rp_mask_key_dispose(struct rp_mask_key *k)
{
	memset(k, 0, sizeof(*k));
}

void rp_mask_hmac(const struct rp_mask_key *k, const struct rp_slice *parts, size_t nparts,
		  uint8_t out[32])
{
	uint8_t ih[32];
	SHA256_CTX h = k->inner; /* a copy of the absorbed key: nothing shared is written */
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].n)
			SHA256_Update(&h, parts[i].p, parts[i].n);
	SHA256_Final(ih, &h);
	h = k->outer;
	SHA256_Update(&h, ih, sizeof(ih));
	SHA256_Final(out, &h);
}

int rp_mask_key_load(const char *file, uint8_t *key, size_t cap, size_t *len, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	size_t n = 0;
	if (file) {
		FILE *f = fopen(file, "rb");
		if (!f) {
			*why = "cannot open the key file";
			return RP_E_IO;
		}
		uint8_t buf[RP_MASK_KEY_MAX + 3];
		n = fread(buf, 1, sizeof(buf), f);
		int err = ferror(f);
		fclose(f);
		if (err) {
			*why = "cannot read the key file";
			return RP_E_IO;
		}
		if (n && buf[n - 1] == '\n')
			n--;
		if (n && buf[n - 1] == '\r')
			n--;
		if (n > cap || n > RP_MASK_KEY_MAX) {
			*why = "the key is longer than 1024 bytes";
			memset(buf, 0, sizeof(buf));
			return RP_E_USAGE;
		}
		memcpy(key, buf, n);
		memset(buf, 0, sizeof(buf));
	} else {
		const char *env = getenv(RP_MASK_KEY_ENV);
		if (!env) {
			*why = "no key file given and " RP_MASK_KEY_ENV " is not set";
			return RP_E_NOTFOUND;
		}
		n = strlen(env);
		if (n > cap || n > RP_MASK_KEY_MAX) {
			*why = "the key is longer than 1024 bytes";
			return RP_E_USAGE;
		}
		memcpy(key, env, n);
	}
	if (n < RP_MASK_KEY_MIN) {
		*why = "the key is shorter than 16 bytes (use 32 random bytes: "
		       "head -c 32 /dev/urandom | base64)";
		return RP_E_USAGE;
	}
	*len = n;
	return 0;
}

int rp_mask_key_random(uint8_t *key, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = getrandom(key + got, n - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return RP_E_IO;
		}
		got += (size_t)k;
	}
	return 0;
}

/* ---- pseudo-random streams ------------------------------------------------------ */

void rp_mask_prf_init(struct rp_mask_prf *r, const struct rp_mask_key *k, const char *label,
		      struct rp_slice value)
{
	r->counter = 0;
	r->used = sizeof(r->block);
	struct rp_slice parts[2] = {rp_slice(label, strlen(label) + 1), value};
	rp_mask_hmac(k, parts, 2, r->seed);
}

static uint8_t prf_byte(struct rp_mask_prf *r)
{
	if (r->used == sizeof(r->block)) {
		uint8_t ctr[4] = {(uint8_t)(r->counter >> 24), (uint8_t)(r->counter >> 16),
				  (uint8_t)(r->counter >> 8), (uint8_t)r->counter};
		SHA256_CTX h;
		SHA256_Init(&h);
		SHA256_Update(&h, r->seed, sizeof(r->seed));
		SHA256_Update(&h, ctr, sizeof(ctr));
		SHA256_Final(r->block, &h);
		r->counter++;
		r->used = 0;
	}
	return r->block[r->used++];
}

unsigned rp_mask_prf_below(struct rp_mask_prf *r, unsigned n)
{
	unsigned limit = 256 - 256 % n;
	for (;;) {
		unsigned b = prf_byte(r);
		if (b < limit)
			return b % n;
	}
}

/* ---- classification ------------------------------------------------------------ */

static inline int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static inline int is_lower(uint8_t c) { return c >= 'a' && c <= 'z'; }
static inline int is_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }

static int is_number(struct rp_slice v)
{
	size_t i = 0;
	if (i < v.n && (v.p[i] == '-' || v.p[i] == '+'))
		i++;
	size_t d = i;
	while (i < v.n && is_digit(v.p[i]))
		i++;
	if (i == d)
		return 0;
	if (i < v.n && v.p[i] == '.') {
		size_t f = ++i;
		while (i < v.n && is_digit(v.p[i]))
			i++;
		if (i == f)
			return 0;
	}
	if (i < v.n && (v.p[i] == 'e' || v.p[i] == 'E')) {
		i++;
		if (i < v.n && (v.p[i] == '-' || v.p[i] == '+'))
			i++;
		size_t x = i;
		while (i < v.n && is_digit(v.p[i]))
			i++;
		if (i == x)
			return 0;
	}
	return i == v.n;
}

static int is_date(struct rp_slice v)
{
	if (v.n != 10 || v.p[4] != '-' || v.p[7] != '-')
		return 0;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !is_digit(v.p[i]))
			return 0;
	return 1;
}

int rp_mask_classify(struct rp_slice v)
{
	if (v.n == 0 || v.n > 4096)
		return K_GENERIC;
	return rp_mask_classify_possible(v, rp_mask_possible(v));
}

int rp_mask_classify_possible(struct rp_slice v, uint32_t possible)
{
	static const enum rp_mask_detector order[] = {
		RP_MASK_EMAIL, RP_MASK_CARD, RP_MASK_SSN, RP_MASK_IBAN, RP_MASK_JWT,
		RP_MASK_AWS_KEY, RP_MASK_IPV4, RP_MASK_IPV6, RP_MASK_PHONE,
	};
	if (v.n == 0 || v.n > 4096)
		return K_GENERIC;
	for (size_t i = 0; i < RP_ARRAY_LEN(order); i++)
		if ((possible & (1u << order[i])) &&
		    rp_mask_detect_whole(order[i], v, RP_MASK_DETECT_SYNTAX))
			return (int)order[i];
	if (is_date(v))
		return K_DATE;
	if (is_number(v))
		return K_NUMBER;
	return K_GENERIC;
}

/* ---- normalisation -------------------------------------------------------------- */

/* The value the key is applied to: digits only for numbers-with-punctuation
 * kinds, lowercase for emails, compact upper case for IBANs. */
static struct rp_slice normalise(struct rp_pool *pool, int kind, struct rp_slice v)
{
	if (kind != RP_MASK_EMAIL && kind != RP_MASK_CARD && kind != RP_MASK_PHONE &&
	    kind != RP_MASK_SSN && kind != RP_MASK_IBAN)
		return v;
	if (kind == RP_MASK_EMAIL) {
		/* most addresses are written in lower case: nothing to copy */
		size_t i = 0;
		while (i < v.n && !is_upper(v.p[i]))
			i++;
		if (i == v.n)
			return v;
	}
	uint8_t *p = rp_pool_alloc(pool, v.n ? v.n : 1);
	size_t n = 0;
	for (size_t i = 0; i < v.n; i++) {
		uint8_t c = v.p[i];
		if (kind == RP_MASK_EMAIL)
			p[n++] = is_upper(c) ? (uint8_t)(c | 0x20) : c;
		else if (kind == RP_MASK_IBAN && c != ' ')
			p[n++] = is_lower(c) ? (uint8_t)(c & ~0x20) : c;
		else if (is_digit(c))
			p[n++] = c;
	}
	return rp_slice(p, n);
}

/* ---- actions -------------------------------------------------------------------- */

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static struct rp_slice token(const struct rp_mask_key *k, struct rp_pool *pool,
			     struct rp_slice norm)
{
	uint8_t md[32];
	struct rp_slice parts[2] = {RP_SLICE_LIT("value\0"), norm};
	parts[0].n = 6;
	rp_mask_hmac(k, parts, 2, md);
	char *p = rp_pool_alloc(pool, 24);
	memcpy(p, "tok_", 4);
	/* 20 base32 characters: the first 100 bits */
	for (unsigned i = 0; i < 20; i++) {
		unsigned bit = i * 5, byte = bit / 8, off = bit % 8;
		unsigned v = ((unsigned)md[byte] << 8 | md[byte + 1]) >> (11 - off);
		p[4 + i] = b32[v & 31];
	}
	return rp_slice(p, 24);
}

static struct rp_slice hash(const struct rp_mask_key *k, struct rp_pool *pool,
			    struct rp_slice norm)
{
	uint8_t md[32];
	struct rp_slice parts[2] = {RP_SLICE_LIT("value\0"), norm};
	parts[0].n = 6;
	rp_mask_hmac(k, parts, 2, md);
	char *p = rp_pool_alloc(pool, 65);
	rp_hex(md, 32, p);
	return rp_slice(p, 64);
}

static int maskable(struct rp_slice v, size_t i, size_t *len)
{
	uint8_t c = v.p[i];
	if (c < 0x80) {
		*len = 1;
		return is_digit(c) || is_lower(c) || is_upper(c);
	}
	size_t n = 1;
	while (i + n < v.n && (v.p[i + n] & 0xc0) == 0x80 && n < 4)
		n++;
	*len = n;
	return 1;
}

static struct rp_slice keep_last(struct rp_pool *pool, unsigned n, struct rp_slice v)
{
	size_t count = 0, len;
	for (size_t i = 0; i < v.n; i += len)
		count += (size_t)maskable(v, i, &len);
	size_t keep = RP_MIN((size_t)n, count / 2); /* never more than half */
	uint8_t *p = rp_pool_alloc(pool, v.n ? v.n : 1);
	size_t o = 0, seen = 0;
	for (size_t i = 0; i < v.n; i += len) {
		if (maskable(v, i, &len) && seen++ < count - keep) {
			p[o++] = '*';
		} else {
			memcpy(p + o, v.p + i, len);
			o += len;
		}
	}
	return rp_slice(p, o);
}

static uint8_t rdigit(struct rp_mask_prf *r, unsigned lo)
{
	return (uint8_t)('0' + lo + rp_mask_prf_below(r, 10 - lo));
}

/* Positions of the digits of |v| (at most |max|). */
static size_t digit_positions(struct rp_slice v, size_t *pos, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < v.n && n < max; i++)
		if (is_digit(v.p[i]))
			pos[n++] = i;
	return n;
}

static struct rp_slice fake_card(struct rp_mask_prf *r, uint8_t *p, struct rp_slice v)
{
	size_t pos[19];
	size_t n = digit_positions(v, pos, 19);
	uint8_t d[19];
	for (size_t i = 0; i < n; i++)
		d[i] = v.p[pos[i]];
	for (size_t i = 4; i + 4 < n; i++)
		d[i] = rdigit(r, 0);
	unsigned tag = rp_mask_fake_tag("card", d, n - 4, 1000);
	d[n - 4] = (uint8_t)('0' + tag / 100);
	d[n - 3] = (uint8_t)('0' + tag / 10 % 10);
	d[n - 2] = (uint8_t)('0' + tag % 10);
	d[n - 1] = (uint8_t)('0' + rp_mask_luhn_digit(d, n - 1));
	memcpy(p, v.p, v.n);
	for (size_t i = 0; i < n; i++)
		p[pos[i]] = d[i];
	return rp_slice(p, v.n);
}

static struct rp_slice fake_ssn(struct rp_mask_prf *r, uint8_t *p, struct rp_slice v)
{
	size_t pos[9];
	size_t n = digit_positions(v, pos, 9);
	memcpy(p, v.p, v.n);
	if (n != 9)
		return rp_slice(p, v.n);
	p[pos[0]] = '9'; /* the 9xx area is never issued */
	p[pos[1]] = rdigit(r, 0);
	p[pos[2]] = rdigit(r, 0);
	do {
		p[pos[3]] = rdigit(r, 0);
		p[pos[4]] = rdigit(r, 0);
	} while (p[pos[3]] == '0' && p[pos[4]] == '0');
	do {
		for (int i = 5; i < 9; i++)
			p[pos[i]] = rdigit(r, 0);
	} while (!memcmp((char[]){(char)p[pos[5]], (char)p[pos[6]], (char)p[pos[7]], (char)p[pos[8]]},
			 "0000", 4));
	return rp_slice(p, v.n);
}

static struct rp_slice fake_phone(struct rp_mask_prf *r, uint8_t *p, struct rp_slice v)
{
	struct rp_mask_phone ph;
	memcpy(p, v.p, v.n);
	if (rp_mask_phone_at(v, 0, &ph) != v.n || ph.ndigits < 4)
		return rp_slice(p, v.n);
	unsigned keep = ph.form == PH_TRUNK0 ? 1 : ph.cc;
	for (unsigned i = keep; i < ph.ndigits; i++)
		p[ph.pos[i]] = rdigit(r, 0);
	if (ph.form == PH_TRUNK0)
		p[ph.pos[1]] = rdigit(r, 1);
	if (ph.nanp_at != ~0u) {
		unsigned a = ph.nanp_at;
		p[ph.pos[a]] = rdigit(r, 2);
		if (p[ph.pos[a + 1]] == '1' && p[ph.pos[a + 2]] == '1')
			p[ph.pos[a + 2]] = '2';
		p[ph.pos[a + 3]] = rdigit(r, 2);
	}
	uint8_t d[20];
	for (unsigned i = 0; i < ph.ndigits; i++)
		d[i] = p[ph.pos[i]];
	unsigned tag = rp_mask_fake_tag("phone", d, ph.ndigits - 2, 100);
	p[ph.pos[ph.ndigits - 2]] = (uint8_t)('0' + tag / 10);
	p[ph.pos[ph.ndigits - 1]] = (uint8_t)('0' + tag % 10);
	return rp_slice(p, v.n);
}

static struct rp_slice fake_iban(struct rp_mask_prf *r, uint8_t *p, struct rp_slice v)
{
	size_t pos[40];
	size_t n = 0;
	for (size_t i = 0; i < v.n && n < 40; i++)
		if (v.p[i] != ' ')
			pos[n++] = i;
	memcpy(p, v.p, v.n);
	if (n < 8)
		return rp_slice(p, v.n);
	for (size_t i = 4; i < n; i++) {
		uint8_t c = p[pos[i]];
		p[pos[i]] = is_digit(c) ? rdigit(r, 0)
			  : (uint8_t)((is_lower(c) ? 'a' : 'A') + rp_mask_prf_below(r, 26));
	}
	/* the tag: the last two digits of the BBAN (see detect.c) */
	size_t d2 = n, d1 = n;
	for (size_t k = n; k-- > 4;)
		if (is_digit(p[pos[k]])) {
			if (d2 == n)
				d2 = k;
			else {
				d1 = k;
				break;
			}
		}
	if (d1 != n) {
		uint8_t in[40];
		size_t m = 0;
		in[m++] = p[pos[0]];
		in[m++] = p[pos[1]];
		for (size_t k = 4; k < n; k++)
			if (k != d1 && k != d2)
				in[m++] = p[pos[k]];
		unsigned tag = rp_mask_fake_tag("iban", in, m, 100);
		p[pos[d1]] = (uint8_t)('0' + tag / 10);
		p[pos[d2]] = (uint8_t)('0' + tag % 10);
	}
	uint8_t iban[40];
	for (size_t i = 0; i < n; i++)
		iban[i] = p[pos[i]];
	iban[2] = iban[3] = '0';
	unsigned check = 98 - rp_mask_iban_mod97(rp_slice(iban, n));
	p[pos[2]] = (uint8_t)('0' + check / 10);
	p[pos[3]] = (uint8_t)('0' + check % 10);
	return rp_slice(p, v.n);
}

static size_t b64url_encode(const uint8_t *in, size_t n, char *out)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = al[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = al[(acc << (6 - bits)) & 63];
	return o;
}

static struct rp_slice fake_jwt(const struct rp_mask_key *k, struct rp_pool *pool,
				struct rp_mask_prf *r, struct rp_slice v)
{
	const uint8_t *dot = memchr(v.p, '.', v.n);
	size_t hl = dot ? (size_t)(dot - v.p) : 0;
	struct rp_slice tok = token(k, pool, v);
	char payload[96];
	int pl = snprintf(payload, sizeof(payload), "{\"sub\":\"%.*s\",\"reprise\":\"masked\"}",
			  (int)tok.n, (const char *)tok.p);
	uint8_t sig[32];
	for (size_t i = 0; i < sizeof(sig); i++)
		sig[i] = (uint8_t)rp_mask_prf_below(r, 256);
	char *p = rp_pool_alloc(pool, hl + 2 + 2 * (size_t)pl + 48);
	memcpy(p, v.p, hl);
	size_t o = hl;
	p[o++] = '.';
	o += b64url_encode((const uint8_t *)payload, (size_t)pl, p + o);
	p[o++] = '.';
	o += b64url_encode(sig, sizeof(sig), p + o);
	return rp_slice(p, o);
}

static struct rp_slice fake_generic(struct rp_mask_prf *r, struct rp_pool *pool, struct rp_slice v,
				    int number)
{
	uint8_t *p = rp_pool_alloc(pool, v.n ? v.n : 1);
	size_t o = 0;
	int first_digit = 1;
	for (size_t i = 0; i < v.n;) {
		uint8_t c = v.p[i];
		if (is_digit(c)) {
			/* a leading non-zero digit stays non-zero: a number keeps its
			 * magnitude and never gains a leading zero */
			p[o++] = (first_digit && c != '0') ? rdigit(r, 1) : (first_digit ? '0' : rdigit(r, 0));
			first_digit = 0;
			i++;
			continue;
		}
		if (!number && c >= 0x80) {
			size_t n = 1;
			while (i + n < v.n && (v.p[i + n] & 0xc0) == 0x80 && n < 4)
				n++;
			p[o++] = (uint8_t)('a' + rp_mask_prf_below(r, 26));
			i += n;
			continue;
		}
		if (!number && is_lower(c))
			p[o++] = (uint8_t)('a' + rp_mask_prf_below(r, 26));
		else if (!number && is_upper(c))
			p[o++] = (uint8_t)('A' + rp_mask_prf_below(r, 26));
		else
			p[o++] = c;
		if (!is_digit(c) && c != '.' && c != ',')
			first_digit = 1;
		i++;
	}
	return rp_slice(p, o);
}

static struct rp_slice fake(const struct rp_mask_key *k, struct rp_pool *pool,
			    int kind, struct rp_slice v, struct rp_slice norm)
{
	/* one stream per kind: the same digits never serve two kinds */
	char label[16] = "fake:";
	label[5] = (char)('a' + (kind + 8) % 26);
	struct rp_mask_prf r;
	rp_mask_prf_init(&r, k, label, norm);
	uint8_t *p;
	switch (kind) {
	case RP_MASK_EMAIL: {
		static const char dom[] = "@example.com";
		p = rp_pool_alloc(pool, 10 + sizeof(dom));
		p[0] = (uint8_t)('a' + rp_mask_prf_below(&r, 26));
		for (int i = 1; i < 10; i++) {
			unsigned x = rp_mask_prf_below(&r, 36);
			p[i] = (uint8_t)(x < 26 ? 'a' + x : '0' + x - 26);
		}
		memcpy(p + 10, dom, sizeof(dom) - 1);
		return rp_slice(p, 10 + sizeof(dom) - 1);
	}
	case RP_MASK_CARD:
		return fake_card(&r, rp_pool_alloc(pool, v.n), v);
	case RP_MASK_SSN:
		return fake_ssn(&r, rp_pool_alloc(pool, v.n), v);
	case RP_MASK_PHONE:
		return fake_phone(&r, rp_pool_alloc(pool, v.n), v);
	case RP_MASK_IBAN:
		return fake_iban(&r, rp_pool_alloc(pool, v.n), v);
	case RP_MASK_JWT:
		return fake_jwt(k, pool, &r, v);
	case RP_MASK_BEARER:
		return token(k, pool, norm);
	case RP_MASK_AWS_KEY: {
		p = rp_pool_alloc(pool, 20);
		memcpy(p, v.n >= 4 ? v.p : (const uint8_t *)"AKIA", 4);
		for (int i = 4; i < 13; i++)
			p[i] = (uint8_t)"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[rp_mask_prf_below(&r, 32)];
		memcpy(p + 13, "EXAMPLE", 7);
		return rp_slice(p, 20);
	}
	case RP_MASK_IPV4: {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "198.%u.%u.%u", 18 + rp_mask_prf_below(&r, 2),
				 rp_mask_prf_below(&r, 256), 1 + rp_mask_prf_below(&r, 254));
		return rp_pool_dup(pool, rp_slice(buf, (size_t)n));
	}
	case RP_MASK_IPV6: {
		char buf[48];
		int n = snprintf(buf, sizeof(buf), "2001:db8");
		for (int i = 0; i < 6; i++)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, ":%x",
				      rp_mask_prf_below(&r, 256) << 8 | rp_mask_prf_below(&r, 256));
		return rp_pool_dup(pool, rp_slice(buf, (size_t)n));
	}
	case K_DATE: {
		p = rp_pool_alloc(pool, 10);
		memcpy(p, v.p, 5); /* the year stays: ages and validity survive */
		unsigned m = 1 + rp_mask_prf_below(&r, 12), d = 1 + rp_mask_prf_below(&r, 28);
		p[5] = (uint8_t)('0' + m / 10);
		p[6] = (uint8_t)('0' + m % 10);
		p[7] = '-';
		p[8] = (uint8_t)('0' + d / 10);
		p[9] = (uint8_t)('0' + d % 10);
		return rp_slice(p, 10);
	}
	case K_NUMBER:
		return fake_generic(&r, pool, v, 1);
	default:
		return fake_generic(&r, pool, v, 0);
	}
}

struct rp_slice rp_mask_transform(const struct rp_mask_key *k, struct rp_pool *pool,
				  enum rp_mask_action act,
				  unsigned keep_n, int kind, struct rp_slice v)
{
	switch (act) {
	case ACT_REDACT:
		return RP_SLICE_LIT(RP_MASK_REDACTED);
	case ACT_KEEP:
	case ACT_REPORT:
		return v;
	case ACT_KEEP_LAST:
		return keep_last(pool, keep_n, v);
	case ACT_HASH:
		return hash(k, pool, normalise(pool, kind, v));
	case ACT_TOKENIZE:
		return token(k, pool, normalise(pool, kind, v));
	case ACT_FAKE:
		return fake(k, pool, kind, v, normalise(pool, kind, v));
	}
	return v;
}

/* ---- the transform memo ------------------------------------------------------------ */

/* Tags are 8 bytes, eight to a 64-byte bucket (one cache line), 256 KB in
 * all, small enough to stay mostly cached between two exchanges; a value's
 * hash picks the bucket and any of its eight tags may hold it.  Tag |i|
 * owns entry |i| of a fixed array, so finding the entry needs no pointer:
 * a hit reads the tag's line and its entry's.  A tag is the value's hash
 * with bit 0 saying whether the entry is filled.  Most values are met once
 * (the customers of an order list); copying each would cost more than it
 * saves, so a value's first miss only writes its hash, and the entry is
 * filled when the same hash misses again.  A new hash takes an empty tag,
 * else one that holds only a hash, else one of the eight chosen by the
 * hash: remembered replacements outlive hashes met once. */
#define MEMO_WAYS 8
#define MEMO_ENTRY 128

struct memo_entry {
	int32_t kind;
	uint16_t keep;
	uint8_t act, same; /* same: the transform returned the value itself */
	uint8_t vlen, olen;
	uint8_t bytes[MEMO_ENTRY - 10]; /* the value, then the replacement */
};

struct rp_mask_memo {
	pthread_mutex_t mu;
	uint64_t hits;
	uint64_t *tag;           /* RP_MASK_MEMO_SLOTS, 64-byte aligned; 0: empty */
	struct memo_entry *ent;  /* RP_MASK_MEMO_SLOTS: ent[i] belongs to tag[i] */
};

_Static_assert(sizeof(struct memo_entry) == MEMO_ENTRY, "memo entries are two cache lines");
_Static_assert(RP_MASK_MEMO_SLOTS % MEMO_WAYS == 0 &&
		       ((RP_MASK_MEMO_SLOTS / MEMO_WAYS) & (RP_MASK_MEMO_SLOTS / MEMO_WAYS - 1)) == 0,
	       "memo buckets are a power of two");

struct rp_mask_memo *rp_mask_memo_new(void)
{
	struct rp_mask_memo *mm = rp_xcalloc(1, sizeof(*mm));
	void *t, *e;
	if (posix_memalign(&t, 64, RP_MASK_MEMO_SLOTS * sizeof(*mm->tag)) ||
	    posix_memalign(&e, 64, RP_MASK_MEMO_SLOTS * sizeof(*mm->ent)))
		rp_oom();
	memset(t, 0, RP_MASK_MEMO_SLOTS * sizeof(*mm->tag));
	mm->tag = t;
	mm->ent = e; /* read only where a tag says it was written */
	pthread_mutex_init(&mm->mu, NULL);
	return mm;
}

void rp_mask_memo_free(struct rp_mask_memo *mm)
{
	if (!mm)
		return;
	for (size_t i = 0; i < RP_MASK_MEMO_SLOTS; i++)
		if (mm->tag[i] & 1) /* personal data */
			OPENSSL_cleanse(&mm->ent[i], sizeof(mm->ent[i]));
	free(mm->tag);
	free(mm->ent);
	pthread_mutex_destroy(&mm->mu);
	free(mm);
}

static int memo_kept(enum rp_mask_action act, unsigned keep, struct rp_slice v)
{
	return (act == ACT_HASH || act == ACT_TOKENIZE || act == ACT_FAKE) &&
	       v.n <= RP_MASK_MEMO_VALUE && keep <= UINT16_MAX;
}

/* Even and never 0: bit 0 of a tag is its "entry filled" flag. */
static uint64_t memo_hash(enum rp_mask_action act, unsigned keep, int kind, struct rp_slice v)
{
	uint64_t h = rp_mask_hash_words(0x9e3779b97f4a7c15ull ^ ((uint64_t)act << 48 |
								 (uint64_t)keep << 32 |
								 (uint64_t)(uint32_t)kind),
					v.p, v.n, v.p + v.n, 0);
	h &= ~(uint64_t)1;
	return h ? h : 2;
}

/* The first tag of |h|'s bucket (from bits the tag compare also sees). */
static size_t memo_bucket(uint64_t h)
{
	return (size_t)(h >> 1 & (RP_MASK_MEMO_SLOTS / MEMO_WAYS - 1)) * MEMO_WAYS;
}

static int entry_same(const struct memo_entry *e, enum rp_mask_action act, unsigned keep, int kind,
		      struct rp_slice v)
{
	return e->act == act && e->keep == keep && e->kind == kind && e->vlen == v.n &&
	       memcmp(e->bytes, v.p, v.n) == 0;
}

/* |h| = memo_hash of the other arguments, in memo_get and memo_put both. */
static int memo_get(struct rp_mask_memo *mm, uint64_t h, enum rp_mask_action act, unsigned keep,
		    int kind, struct rp_slice v, struct rp_pool *pool, struct rp_slice *out)
{
	int hit = 0;
	pthread_mutex_lock(&mm->mu);
	size_t b = memo_bucket(h);
	for (size_t i = b; i < b + MEMO_WAYS; i++) {
		if ((mm->tag[i] & ~(uint64_t)1) != h)
			continue;
		const struct memo_entry *e = &mm->ent[i];
		if ((mm->tag[i] & 1) && entry_same(e, act, keep, kind, v)) {
			*out = e->same ? v : rp_pool_dup(pool, rp_slice(e->bytes + e->vlen, e->olen));
			hit = 1;
			mm->hits++;
		}
		break;
	}
	pthread_mutex_unlock(&mm->mu);
	return hit;
}

static void memo_put(struct rp_mask_memo *mm, uint64_t h, enum rp_mask_action act,
		     unsigned keep, int kind, struct rp_slice v, struct rp_slice out)
{
	/* the transform returns |v| itself for "unchanged"; callers tell that
	 * from an equal copy (which they re-encode), so the memo does too */
	int same = out.p == v.p && out.n == v.n;
	size_t olen = same ? 0 : out.n;
	pthread_mutex_lock(&mm->mu);
	size_t b = memo_bucket(h), t = SIZE_MAX;
	for (size_t i = b; i < b + MEMO_WAYS && t == SIZE_MAX; i++)
		if ((mm->tag[i] & ~(uint64_t)1) == h)
			t = i;
	if (t == SIZE_MAX) { /* met once: remember the hash only */
		for (size_t i = b; i < b + MEMO_WAYS && t == SIZE_MAX; i++)
			if (!mm->tag[i])
				t = i;
		for (size_t i = b; i < b + MEMO_WAYS && t == SIZE_MAX; i++)
			if (!(mm->tag[i] & 1))
				t = i;
		if (t == SIZE_MAX)
			t = b + (h >> 59) % MEMO_WAYS;
		if (mm->tag[t] & 1)
			OPENSSL_cleanse(&mm->ent[t], sizeof(mm->ent[t]));
		mm->tag[t] = h;
	} else if (v.n + olen <= sizeof(mm->ent[t].bytes) &&
		   !((mm->tag[t] & 1) && entry_same(&mm->ent[t], act, keep, kind, v))) {
		/* met again: fill the entry, wiping what a longer one left */
		struct memo_entry *e = &mm->ent[t];
		e->act = (uint8_t)act;
		e->keep = (uint16_t)keep;
		e->kind = kind;
		e->vlen = (uint8_t)v.n;
		e->same = (uint8_t)same;
		e->olen = (uint8_t)olen;
		memcpy(e->bytes, v.p, v.n);
		if (olen)
			memcpy(e->bytes + v.n, out.p, olen);
		memset(e->bytes + v.n + olen, 0, sizeof(e->bytes) - v.n - olen);
		mm->tag[t] = h | 1;
	}
	pthread_mutex_unlock(&mm->mu);
}

struct rp_slice rp_mask_transform_memo(struct rp_mask_memo *mm, const struct rp_mask_key *k,
				       struct rp_pool *pool, enum rp_mask_action act, unsigned keep,
				       int kind, struct rp_slice v, uint32_t possible)
{
	struct rp_slice out;
	int kept = mm && memo_kept(act, keep, v);
	uint64_t h = kept ? memo_hash(act, keep, kind, v) : 0;
	if (kept && memo_get(mm, h, act, keep, kind, v, pool, &out))
		return out;
	int as = kind;
	if (kind == K_UNCLASSIFIED)
		as = possible == RP_MASK_POSSIBLE_UNKNOWN ? rp_mask_classify(v)
							  : rp_mask_classify_possible(v, possible);
	out = rp_mask_transform(k, pool, act, keep, as, v);
	if (kept)
		memo_put(mm, h, act, keep, kind, v, out);
	return out;
}

uint64_t rp_mask_memo_hits(struct rp_mask_memo *mm)
{
	pthread_mutex_lock(&mm->mu);
	uint64_t n = mm->hits;
	pthread_mutex_unlock(&mm->mu);
	return n;
}
