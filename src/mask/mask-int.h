/*
 * mask-int: the types and functions the files of src/mask share — the rule
 * line parser's output, compiled rules, the keyed pseudo-random function and
 * the per-call masking context.  Not installed; unit tests include it to
 * reach the parser and the fakes directly.
 *
 * Files: parse.c (one rule line, parser shape), rules.c (files, includes,
 * compiling selectors, digest), detect.c (detectors), keyed.c (HMAC, tokens,
 * fakes), apply.c (walking an exchange), json.c (in-place JSON), form.c (URL,
 * urlencoded forms, cookies, multipart).
 */
#ifndef REPRISE_MASK_INT_H
#define REPRISE_MASK_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
/* The HMAC and the fakes' streams use OpenSSL's SHA-256 block functions
 * directly: their state is a plain struct that a call copies on its stack,
 * where the EVP interface allocates per copy and looks providers up. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pcre2.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "reprise/limits.h"
#include "reprise/mask.h"

/* ---- parse.c: one rule line -------------------------------------------------- */

#define RP_MASK_MAX_CONDS 8

/* A token of a rule line: its raw text (quotes still in it) and 1-based
 * column.  |quoted| says whether it holds a quote to remove. */
struct rp_mask_tok {
	struct rp_slice raw;
	unsigned col;
	int quoted;
};

enum rp_mask_syn_kind {
	RP_MASK_SYN_EMPTY = 0, /* blank or comment */
	RP_MASK_SYN_INCLUDE,   /* include FILE: |selector| is the file */
	RP_MASK_SYN_STATIC,    /* static COND...: only |conds| */
	RP_MASK_SYN_RULE,      /* SCOPE SELECTOR ACTION COND... */
};

/* A parsed line; every slice points into the line given to the parser. */
struct rp_mask_syntax {
	enum rp_mask_syn_kind kind;
	struct rp_mask_tok scope, selector, action;
	struct rp_mask_tok conds[RP_MASK_MAX_CONDS]; /* "key=value" */
	unsigned nconds;
	unsigned end_col; /* column just past the last token */
};

/* Parses one line (without its newline).  Returns 0 and fills |out|, or
 * RP_E_FORMAT with |*col| the 1-based column of the fault and |*why| a static
 * message.  Checks the shape only (keywords, counts, quoting); selectors and
 * conditions are checked when compiled.  No allocation, no I/O. */
int rp_mask_parse_line(struct rp_slice line, struct rp_mask_syntax *out, unsigned *col,
		       const char **why);

/* Copies |raw| into |out| (at least raw.n bytes) with quotes removed (inside
 * a quoted run a backslash before the quote character stands for it; other
 * backslashes are kept).  Returns the length written. */
size_t rp_mask_unquote(struct rp_slice raw, char *out);

/* ---- rules.c: compiled rules ------------------------------------------------------ */

enum rp_mask_scope {
	SC_HEADER, SC_COOKIE, SC_SET_COOKIE, SC_QUERY, SC_PATH, SC_JSON, SC_FORM,
	SC_TEXT, SC_BODY, SC_CLIENT, SC_COUNT
};

enum rp_mask_action {
	ACT_REDACT, ACT_HASH, ACT_TOKENIZE, ACT_KEEP_LAST, ACT_FAKE, ACT_KEEP, ACT_REPORT
};

/* A name or glob ('*' any run, '?' one byte), matched ASCII case-blind. */
/* How a name matches, decided once when the rules are read: exactly, by
 * a literal suffix ("*.js") or prefix ("X-Hub-*"), or by the glob walk. */
enum rp_mask_shape { RP_SHAPE_EXACT, RP_SHAPE_SUFFIX, RP_SHAPE_PREFIX, RP_SHAPE_GLOB };

struct rp_mask_name {
	struct rp_slice s;
	int glob;        /* holds '*' or '?' */
	uint8_t shape;   /* enum rp_mask_shape */
	uint8_t slash;   /* holds '/' (a route pattern over the whole path) */
};

/* Sets |nm| to the name or pattern |s| (which it points at). */
void rp_mask_name_init(struct rp_mask_name *nm, struct rp_slice s);

struct rp_mask_names {
	struct rp_mask_name *v;
	size_t n;
};

enum { JS_NAME, JS_ANY, JS_INDEX };

/* One JSON path step; |desc| for recursive descent ("..") before it. */
struct rp_mask_jstep {
	uint8_t desc, kind;
	uint32_t index;
	struct rp_mask_names names; /* JS_NAME: a union of names */
};

enum { PS_LIT, PS_ANY, PS_ANYMANY, PS_MASK };

struct rp_mask_pseg {
	int kind;
	struct rp_slice lit;
};

#define RP_MASK_IN_REQ 1u
#define RP_MASK_IN_RESP 2u

struct rp_mask_cond {
	struct rp_mask_names types, methods, routes;
	unsigned in; /* RP_MASK_IN_* bits */
};

struct rp_mask_rule {
	enum rp_mask_scope scope;
	enum rp_mask_action act;
	unsigned keep_last;
	struct rp_mask_names names;   /* header, cookie, set-cookie, query, form */
	struct rp_mask_jstep *steps;  /* json */
	size_t nsteps;
	struct rp_mask_pseg *segs;    /* path template */
	size_t nsegs;
	pcre2_code *re;               /* path ~REGEX, text ~REGEX */
	int re_groups;                /* capture groups in |re| */
	uint32_t detectors;           /* text: detector bits */
	struct rp_mask_cond cond;
	const char *file;
	unsigned line;
	unsigned index;               /* position in the set: first wins */
	const char *canon;            /* canonical text */
};

struct rp_mask_rules {
	struct rp_pool *pool;         /* everything below, but the PCRE2 codes */
	struct rp_mask_rule *v;
	size_t n, cap;
	struct rp_mask_cond *statics; /* `static` lines */
	size_t nstatics, capstatics;
	pcre2_match_context *mctx;    /* shared, read-only: match limits */
	uint32_t max_ovector;         /* largest capture count + 1 */
	int needs_key;                /* some rule hashes, tokenizes or fakes */
	char digest[80];
};

/* Adds the canonical-ordered copy of a rule built by code (audits). */
struct rp_mask_rules *rp_mask_rules_new_empty(void);
void rp_mask_rules_finish(struct rp_mask_rules *r);

/* ASCII case-blind glob match of |s| against |pat|. */
int rp_mask_glob(struct rp_slice pat, struct rp_slice s);
/* Does |nm| match |s| (ASCII case-blind)?  rp_mask_glob's answer for a
 * pattern, without reading the pattern again. */
static inline int rp_mask_name_match(const struct rp_mask_name *nm, struct rp_slice s)
{
	size_t k = nm->s.n - 1;
	switch (nm->shape) {
	case RP_SHAPE_EXACT:
		return rp_slice_eq_nocase(nm->s, s);
	case RP_SHAPE_SUFFIX:
		return s.n >= k && (!k || rp_mem_eq_nocase(nm->s.p + 1, s.p + s.n - k, k));
	case RP_SHAPE_PREFIX:
		return s.n >= k && (!k || rp_mem_eq_nocase(nm->s.p, s.p, k));
	default:
		return rp_mask_glob(nm->s, s);
	}
}
/* 1 when some name of |l| matches |s|. */
int rp_mask_names_match(const struct rp_mask_names *l, struct rp_slice s);
/* The last segment of |path| (after its last '/'; all of it without one). */
struct rp_slice rp_mask_route_last(struct rp_slice path);
/* Route glob |nm|: '*' within a segment, '**' across; a pattern without
 * '/' matches the last segment, |last| = rp_mask_route_last(|path|). */
int rp_mask_route_match(const struct rp_mask_name *nm, struct rp_slice path, struct rp_slice last);

/* ---- detect.c: shared with the fakes -------------------------------------------- */

/* The detectors that could match somewhere in |v| (a bit set), from one
 * cheap pass that counts digits, capitals, dots, colons and looks for '@',
 * "eyJ" and the like: most values are ruled out for every detector. */
uint32_t rp_mask_possible(struct rp_slice v);

/* The same pass, for scanners that walk the bytes anyway (json.c): feed
 * every byte with rp_mask_facts_add, then ask rp_mask_facts_bits. */
enum {
	RP_MF_DIGIT = 1, RP_MF_UPPER = 2, RP_MF_DOT = 4, RP_MF_COLON = 8, RP_MF_AT = 16,
	RP_MF_B = 32, RP_MF_A = 64, RP_MF_E = 128, RP_MF_QUOTE = 256, RP_MF_BSLASH = 512,
};
extern uint16_t rp_mask_fact_class[256];
/* Fills rp_mask_fact_class; callable any number of times from any thread. */
void rp_mask_facts_init(void);

struct rp_mask_facts {
	unsigned seen, digits, upper, dots, colons, eyj;
};

/* Counts byte |p[i]| of a value of |n| bytes. */
static inline void rp_mask_facts_add(struct rp_mask_facts *f, uint16_t k, const uint8_t *p,
				     size_t i, size_t n)
{
	f->seen |= k;
	f->digits += k & RP_MF_DIGIT;
	f->upper += (k & RP_MF_UPPER) >> 1;
	f->dots += (k & RP_MF_DOT) >> 2;
	f->colons += (k & RP_MF_COLON) >> 3;
	if ((k & RP_MF_E) && i + 2 < n && p[i + 1] == 'y' && p[i + 2] == 'J')
		f->eyj = 1;
}

/* The detectors that could match a value of |n| bytes with facts |f|. */
static inline uint32_t rp_mask_facts_bits(const struct rp_mask_facts *f, size_t n)
{
	uint32_t b = 0;
	if (f->seen & RP_MF_AT)
		b |= 1u << RP_MASK_EMAIL;
	if (f->digits >= 13)
		b |= 1u << RP_MASK_CARD;
	if (f->digits >= 9)
		b |= 1u << RP_MASK_SSN;
	if (f->digits >= 8)
		b |= 1u << RP_MASK_PHONE;
	if (n >= 15 && f->upper >= 2 && f->digits >= 2)
		b |= 1u << RP_MASK_IBAN;
	if (f->eyj && f->dots >= 2)
		b |= 1u << RP_MASK_JWT;
	if ((f->seen & RP_MF_B) && n >= 19)
		b |= 1u << RP_MASK_BEARER;
	if ((f->seen & RP_MF_A) && n >= 20 && f->upper >= 4)
		b |= 1u << RP_MASK_AWS_KEY;
	if (f->digits >= 4 && f->dots >= 3)
		b |= 1u << RP_MASK_IPV4;
	if (f->colons >= 2)
		b |= 1u << RP_MASK_IPV6;
	return b;
}

#if defined(__SSE2__)
/* 0xff for each byte of |c| in [lo, lo + span] (unsigned), else 0. */
static inline __m128i rp_mask_v_in(__m128i c, char lo, char span)
{
	__m128i d = _mm_sub_epi8(c, _mm_set1_epi8(lo));
	return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(span)), d);
}
#endif

#if defined(__SSE2__)
/* Counts the bytes of the 16 in |c| that |keep| selects into |f|. */
static inline void rp_mask_facts_block(__m128i c, unsigned keep, struct rp_mask_facts *f)
{
	__m128i d = rp_mask_v_in(c, '0', 9), u = rp_mask_v_in(c, 'A', 25);
	/* four 16-bit masks in one word, counted lane by lane */
	uint64_t x = (uint64_t)((unsigned)_mm_movemask_epi8(d) & keep) |
		     (uint64_t)((unsigned)_mm_movemask_epi8(u) & keep) << 16 |
		     (uint64_t)((unsigned)_mm_movemask_epi8(
				_mm_cmpeq_epi8(c, _mm_set1_epi8('.'))) & keep) << 32 |
		     (uint64_t)((unsigned)_mm_movemask_epi8(
				_mm_cmpeq_epi8(c, _mm_set1_epi8(':'))) & keep) << 48;
	if (x) {
		x = x - ((x >> 1) & 0x5555555555555555ull);
		x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
		x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
		x = (x + (x >> 8)) & 0x001f001f001f001full;
		f->digits += (unsigned)(x & 0xff);
		f->upper += (unsigned)(x >> 16 & 0xff);
		f->dots += (unsigned)(x >> 32 & 0xff);
		f->colons += (unsigned)(x >> 48);
	}
	__m128i at = _mm_cmpeq_epi8(c, _mm_set1_epi8('@'));
	__m128i ua = _mm_cmpeq_epi8(c, _mm_set1_epi8('A'));
	__m128i bb = _mm_cmpeq_epi8(_mm_or_si128(c, _mm_set1_epi8(0x20)), _mm_set1_epi8('b'));
	/* one test for the three: most strings hold none */
	if ((unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(at, ua), bb)) & keep) {
		if ((unsigned)_mm_movemask_epi8(at) & keep)
			f->seen |= RP_MF_AT;
		if ((unsigned)_mm_movemask_epi8(ua) & keep)
			f->seen |= RP_MF_A;
		if ((unsigned)_mm_movemask_epi8(bb) & keep)
			f->seen |= RP_MF_B;
	}
}
#endif

/* The vector half of the facts pass: counts the bytes of |p| from |j| on,
 * 16 at a time, into |f| (digits, capitals, dots, colons; '@', 'A' and
 * 'B'/'b' in |seen|) while 16 or more of the |n| bytes remain; with
 * |stop_at_quote| it stops at the first '"' or '\\', without counting it.
 * Returns where it stopped: the caller feeds the rest to rp_mask_facts_add
 * one byte at a time, then calls rp_mask_facts_eyj over [start, returned).
 * Without SSE2 it counts nothing and returns |j|. */
static inline size_t rp_mask_facts_run(const uint8_t *p, size_t j, size_t n,
				       struct rp_mask_facts *f, int stop_at_quote)
{
#if defined(__SSE2__)
	while (j + 16 <= n) {
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + j));
		unsigned keep = 0xffff, adv = 16;
		if (stop_at_quote) {
			unsigned sm = (unsigned)_mm_movemask_epi8(
				_mm_or_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8('"')),
					     _mm_cmpeq_epi8(c, _mm_set1_epi8('\\'))));
			if (sm) {
				adv = (unsigned)__builtin_ctz(sm);
				keep = (1u << adv) - 1;
			}
		}
		rp_mask_facts_block(c, keep, f);
		j += adv;
		if (adv < 16)
			break;
	}
#else
	(void)p;
	(void)n;
	(void)f;
	(void)stop_at_quote;
#endif
	return j;
}

/* Sets |f|'s "eyJ" fact for the bytes [s, t) of a text of |n| bytes that
 * rp_mask_facts_run counted (a JWT needs two dots: only then it looks). */
static inline void rp_mask_facts_eyj(struct rp_mask_facts *f, const uint8_t *p, size_t s, size_t t,
				     size_t n)
{
	if (f->eyj || f->dots < 2 || t <= s)
		return;
	size_t end = RP_MIN(t + 2, n);
	if (end - s >= 3 && memmem(p + s, end - s, "eyJ", 3))
		f->eyj = 1;
}

/* Every match of the detectors in the bit set |dets| over |t|: calls
 * |found| for each.  It finds what a loop of rp_mask_detect per detector
 * (in enum order, each resuming at the end of its previous match) finds,
 * and reports it in an order where, of two overlapping matches, the one of
 * the lower detector comes first.  One pass finds the candidates of the
 * digit detectors (card, SSN, phone, IPv4).  No allocation. */
typedef void (*rp_mask_found_fn)(void *ctx, enum rp_mask_detector d, size_t s, size_t e);
void rp_mask_detect_each(struct rp_slice t, uint32_t dets, unsigned flags, rp_mask_found_fn found,
			 void *ctx);

int rp_mask_luhn_ok(const uint8_t *digits, size_t n);
/* The check digit that makes |digits| (n digits, without it) Luhn-valid. */
unsigned rp_mask_luhn_digit(const uint8_t *digits, size_t n);
/* mod-97 of an IBAN written country, check, BBAN (spaces skipped). */
unsigned rp_mask_iban_mod97(struct rp_slice iban);
/* Public tag a fake of kind |kind| carries: a function of the digits (or
 * characters) |in| that fakes set and audits recompute.  Returns a number
 * below |mod|. */
unsigned rp_mask_fake_tag(const char *kind, const uint8_t *in, size_t n, unsigned mod);

/* A phone number as the detector read it. */
enum { PH_E164, PH_NANP, PH_TRUNK0 };
struct rp_mask_phone {
	int form;
	size_t pos[20];  /* offsets of the digits in the text */
	unsigned ndigits;
	unsigned cc;     /* digits of the country code (E.164), or of a leading
			    "1" (NANP) */
	unsigned nanp_at;/* index of the first NANP area-code digit, or ~0 */
};
/* Parses a phone number starting exactly at |at| of |t|; returns its end (0
 * when there is none).  |flags| as rp_mask_detect. */
size_t rp_mask_phone_at(struct rp_slice t, size_t at, struct rp_mask_phone *ph);

/* ---- keyed.c: HMAC, tokens, fakes ---------------------------------------------- */

struct rp_mask_key {
	SHA256_CTX inner, outer; /* SHA-256 after absorbing the padded key */
	char fingerprint[64];
};

int rp_mask_key_init(struct rp_mask_key *k, const void *key, size_t n);
void rp_mask_key_dispose(struct rp_mask_key *k);

/* HMAC-SHA-256 of the concatenation of |parts| under |k|.  Reads |k| only:
 * any number of threads may use one key. */
void rp_mask_hmac(const struct rp_mask_key *k, const struct rp_slice *parts, size_t nparts,
		  uint8_t out[32]);

/* A stream of pseudo-random bytes derived from a seed (SHA-256 counter mode). */
struct rp_mask_prf {
	uint8_t seed[32], block[32];
	uint32_t counter;
	unsigned used;
};
void rp_mask_prf_init(struct rp_mask_prf *r, const struct rp_mask_key *k, const char *label,
		      struct rp_slice value);
unsigned rp_mask_prf_below(struct rp_mask_prf *r, unsigned n);

/* What a value is, for fakes and normalisation. */
enum rp_mask_kind {
	K_GENERIC = -1, /* class-preserving: digits, letters, punctuation kept */
	K_NUMBER = -2,  /* a number: digits only */
	K_DATE = -3,    /* YYYY-MM-DD */
	/* not yet known: rp_mask_transform_memo classifies the value when its
	 * memo does not already hold the answer */
	K_UNCLASSIFIED = -4,
	/* >= 0: an rp_mask_detector */
};

/* Classifies |v| (a whole value) for fakes: a detector whose syntax it
 * matches whole, else number, date or generic. */
int rp_mask_classify(struct rp_slice v);
/* The same when the caller knows rp_mask_possible(|v|) already. */
int rp_mask_classify_possible(struct rp_slice v, uint32_t possible);

/* The replacement for |v| under |act| (|keep_last| for ACT_KEEP_LAST) and
 * kind |kind|, allocated in |pool| (or |v| itself when unchanged).  |k|
 * serves hash, tokenize and fake. */
struct rp_slice rp_mask_transform(const struct rp_mask_key *k, struct rp_pool *pool, enum rp_mask_action act,
				  unsigned keep_last, int kind, struct rp_slice v);

/* ---- keyed.c: the transform memo ---------------------------------------------------- */

/* hash, tokenize and fake are pure functions of the key and the value, and
 * cost several SHA-256 blocks each; a session's token, cookie and email
 * come back in every one of its requests.  The memo remembers, per slot,
 * the replacement of a value met at least twice (values up to
 * RP_MASK_MEMO_VALUE bytes, whose replacement fits beside them in a
 * 118-byte entry; values met once cost it only their hash), so a recurring
 * value costs a hash and a compare.  Same outputs by construction: a hit
 * needs the value, action, kind and keep count to be equal.  32768 slots:
 * 256 KB of tags and 4 MB of entries. */
#define RP_MASK_MEMO_SLOTS 32768
#define RP_MASK_MEMO_VALUE 96
struct rp_mask_memo;
struct rp_mask_memo *rp_mask_memo_new(void);
/* Wipes the remembered values (they are personal data) and frees. */
void rp_mask_memo_free(struct rp_mask_memo *mm);
/* rp_mask_transform, answered from |mm| (NULL: no memo) when it holds |v|
 * for these arguments, and remembered there otherwise.  The same result,
 * "unchanged" included: |v| itself exactly when the transform gives |v|.
 * |kind| K_UNCLASSIFIED: the value's kind is rp_mask_classify_possible(|v|,
 * |possible|) (RP_MASK_POSSIBLE_UNKNOWN: rp_mask_classify), worked out only
 * on a miss; the kind is a function of the value, so the memo may answer
 * for the pair. */
struct rp_slice rp_mask_transform_memo(struct rp_mask_memo *mm, const struct rp_mask_key *k,
				       struct rp_pool *pool, enum rp_mask_action act, unsigned keep,
				       int kind, struct rp_slice v, uint32_t possible);
/* Lookups that found their value (for tests and benchmarks). */
uint64_t rp_mask_memo_hits(struct rp_mask_memo *mm);

/* ---- the compiled mask and a call's context ------------------------------------------- */

/* Rules of one scope by the names they select (ASCII lowercase): a rule
 * whose names are all exact sits under each of them; a rule with a glob (or
 * a json rule whose last step is not a name) is in |always|.  Rule numbers
 * are indexes into the rule set, ascending, so candidates come in file
 * order. */
struct rp_mask_index_slot {
	struct rp_slice name;
	uint64_t hash;
	uint32_t *rules;
	uint32_t n, cap;
};

struct rp_mask_index {
	struct rp_mask_index_slot *slots;
	size_t cap, used;
	/* bit (hash >> 55) is set for the hash of every name in |slots|: most
	 * names looked up (JSON members above all) are in no rule, and one
	 * clear bit says so without probing */
	uint64_t filter[8];
	uint32_t *always;
	size_t nalways;
};

/* Candidates for |name| in file order: the exact ones merged with |always|. */
struct rp_mask_cands {
	const uint32_t *a, *b;
	size_t na, nb, ia, ib;
};
void rp_mask_cands_init(struct rp_mask_cands *it, const struct rp_mask_index *ix,
			struct rp_slice name);
/* The slot of |name| (hash |hash|) in |ix|, or NULL. */
const struct rp_mask_index_slot *rp_mask_index_find(const struct rp_mask_index *ix,
						    struct rp_slice name, uint64_t hash);
/* The same with |hash| = rp_mask_name_hash(|name|) already known. */
static inline void rp_mask_cands_init_hash(struct rp_mask_cands *it, const struct rp_mask_index *ix,
					   struct rp_slice name, uint64_t hash)
{
	const struct rp_mask_index_slot *sl =
		name.n && (ix->filter[hash >> 61] >> (hash >> 55 & 63) & 1)
			? rp_mask_index_find(ix, name, hash) : NULL;
	it->a = sl ? sl->rules : NULL;
	it->na = sl ? sl->n : 0;
	it->b = ix->always;
	it->nb = ix->nalways;
	it->ia = it->ib = 0;
}
/* The index's hash of a name, blind to ASCII case: eight bytes at a time
 * (capitals lowered in the word), each word folded in with a multiply, then
 * mixed so that the top bits (the filter's) depend on every byte.  JSON
 * member names are hashed once per value met, so this runs a word, not a
 * byte, per multiply. */
static inline uint64_t rp_mask_lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t low7 = w & ~high;
	/* bit 7 of a byte: its low seven bits are >= 'A', and are > 'Z' */
	uint64_t ge_a = low7 + ones * (0x80 - 'A'), gt_z = low7 + ones * (0x80 - 'Z' - 1);
	uint64_t upper = (ge_a & ~gt_z) & ~w & high; /* and the byte is ASCII */
	return w | upper >> 2;                       /* 0x80 >> 2 == 0x20 */
}
/* The one hash of the mask stage (all in memory, never stored): |n| bytes
 * of |p| from state |h|, eight at a time, capitals lowered first when
 * |fold|.  |lim|: the end of the readable memory |p| lies in (>= p + n);
 * when the last word can be read whole from there, it is, and masked. */
static inline uint64_t rp_mask_hash_words(uint64_t h, const uint8_t *p, size_t n,
					  const uint8_t *lim, int fold)
{
	const uint64_t k = 0x9fb21c651e98df25ull;
	uint64_t w;
	h ^= (uint64_t)n * k;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ (fold ? rp_mask_lower8(w) : w)) * k;
		h ^= h >> 28;
	}
	if (i < n) {
		size_t r = n - i; /* 1..7: byte k of the word is p[i + k] */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if ((size_t)(lim - (p + i)) >= 8) {
			memcpy(&w, p + i, 8);
			w &= ~0ull >> (64 - 8 * r);
		} else
#endif
		{
			(void)lim;
			w = 0;
			for (size_t j = 0; j < r; j++)
				w |= (uint64_t)p[i + j] << (8 * j);
		}
		h = (h ^ (fold ? rp_mask_lower8(w) : w)) * k;
	}
	h ^= h >> 32;
	h *= k;
	h ^= h >> 29;
	return h;
}
static inline uint64_t rp_mask_name_hash_in(const uint8_t *p, size_t n, const uint8_t *lim)
{
	return rp_mask_hash_words(0xcbf29ce484222325ull, p, n, lim, 1);
}
static inline uint64_t rp_mask_name_hash(const uint8_t *p, size_t n)
{
	return rp_mask_name_hash_in(p, n, p + n);
}

/* Next candidate rule number; 0 at the end.  |*exact| says it came by name. */
static inline int rp_mask_cands_next(struct rp_mask_cands *it, uint32_t *rule, int *exact)
{
	int ha = it->ia < it->na, hb = it->ib < it->nb;
	if (!ha && !hb)
		return 0;
	if (ha && (!hb || it->a[it->ia] < it->b[it->ib])) {
		*rule = it->a[it->ia++];
		*exact = 1;
	} else {
		*rule = it->b[it->ib++];
		*exact = 0;
	}
	return 1;
}

struct rp_mask {
	struct rp_mask_rules *rules;
	struct rp_mask_key key;
	int keyed;
	int audit;             /* report-only mask */
	unsigned audit_flags;
	/* rules by scope, in file order */
	const struct rp_mask_rule **by_scope[SC_COUNT];
	size_t nby_scope[SC_COUNT];
	/* every rule of the scope applies to every message (no condition):
	 * a message's active rules are then |by_scope| itself */
	uint8_t scope_always[SC_COUNT];
	struct rp_mask_index index[SC_COUNT]; /* header, cookie, query, form, json */
	struct rp_mask_memo *memo; /* keyed masks only; its own lock */
	/* header values the text rules left as they were, when that is a
	 * function of the value alone (apply.c); NULL otherwise */
	struct rp_mask_clean *clean;
};

struct rp_mask_edit_v {
	size_t at, len;        /* span of the input replaced */
	struct rp_slice rep;   /* replacement, already encoded for the context */
};

/* Starts as {0}; the first few edits live in |inl| (most values get one
 * or two), so it must not be copied once pushed to. */
struct rp_mask_edits {
	struct rp_mask_edit_v *v;
	size_t n, cap;
	struct rp_mask_edit_v inl[4];
};

void rp_mask_edits_push(struct rp_mask_edits *e, size_t at, size_t len, struct rp_slice rep);
void rp_mask_edits_free(struct rp_mask_edits *e);
/* |in| with the sorted, disjoint edits applied, in |pool|. */
struct rp_slice rp_mask_splice(struct rp_pool *pool, struct rp_slice in,
			       const struct rp_mask_edits *e);

/* Per-call state: rp_mask_apply builds one on its stack. */
struct rp_mask_ctx {
	const struct rp_mask *m;
	struct rp_exchange *x;
	struct rp_pool *pool;
	const struct rp_mask_apply_opts *opts;
	pcre2_match_data *md;  /* made on first use: see rp_mask_ctx_md */
	unsigned dir;          /* RP_MASK_IN_REQ or RP_MASK_IN_RESP */
	/* rules active for the message being masked, by scope, file order */
	const struct rp_mask_rule **active[SC_COUNT];
	size_t nactive[SC_COUNT];
	uint8_t *is_active;    /* by rule number, for the message being masked */
	int8_t *route_memo;    /* route verdicts by rule, then by static line */
	uint32_t text_bits;    /* detectors of the active text rules */
	unsigned text_regex;   /* active text rules with a regular expression */
	int body_static;       /* body left alone: a static asset */
	int changed;           /* something was edited */
	unsigned depth;        /* body nesting (multipart parts) */
	char where[512];       /* location being masked, for traces */
	size_t wlen;
};

/* The call's PCRE2 match data, made on first use (most rule sets have no
 * regular expression). */
pcre2_match_data *rp_mask_ctx_md(struct rp_mask_ctx *c);

/* Appends to / truncates the trace location. */
size_t rp_mask_where_push(struct rp_mask_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rp_mask_where_pop(struct rp_mask_ctx *c, size_t len);
/* Appends |s| shown safely (printable ASCII, others as \xNN), bounded. */
size_t rp_mask_where_push_slice(struct rp_mask_ctx *c, const char *prefix, struct rp_slice s);

/* Reports an edit to the trace, if any. */
void rp_mask_trace(struct rp_mask_ctx *c, const struct rp_mask_rule *r, int detector,
		   struct rp_slice before, struct rp_slice after);

/* Applies structural rule |r| (or, with |r| NULL, nothing) to the decoded
 * value |v|: the replacement (or |v|), traced.  |kind| hints the detector
 * when known (-1 otherwise). */
struct rp_slice rp_mask_act(struct rp_mask_ctx *c, const struct rp_mask_rule *r, int kind,
			    struct rp_slice v);
/* The same when the caller knows rp_mask_possible(|v|) (a scanner that
 * counted its bytes): |possible|, or RP_MASK_POSSIBLE_UNKNOWN. */
#define RP_MASK_POSSIBLE_UNKNOWN UINT32_MAX
struct rp_slice rp_mask_act_possible(struct rp_mask_ctx *c, const struct rp_mask_rule *r, int kind,
				     struct rp_slice v, uint32_t possible);

/* Runs the active text rules over the decoded value |v|; returns the masked
 * value (or |v| when nothing matched). */
struct rp_slice rp_mask_text(struct rp_mask_ctx *c, struct rp_slice v);
/* The same when the caller already knows rp_mask_possible(|v|). */
struct rp_slice rp_mask_text_possible(struct rp_mask_ctx *c, struct rp_slice v, uint32_t possible);

/* First active rule of |scope| whose names match |name|, or NULL. */
const struct rp_mask_rule *rp_mask_find_named(struct rp_mask_ctx *c, enum rp_mask_scope scope,
					      struct rp_slice name);

/* Bodies by media type.  Each returns the masked body (or |body|). */
struct rp_slice rp_mask_body(struct rp_mask_ctx *c, struct rp_slice ctype, struct rp_slice body);
struct rp_slice rp_mask_json(struct rp_mask_ctx *c, struct rp_slice body);
struct rp_slice rp_mask_urlencoded(struct rp_mask_ctx *c, enum rp_mask_scope scope,
				   struct rp_slice s);
struct rp_slice rp_mask_multipart(struct rp_mask_ctx *c, struct rp_slice ctype,
				  struct rp_slice body, int *ok);
/* The request target (origin or absolute form): path segments and query. */
struct rp_slice rp_mask_target(struct rp_mask_ctx *c, struct rp_slice target, int with_path_rules);
/* Cookie request header value, and a Set-Cookie value. */
struct rp_slice rp_mask_cookie_header(struct rp_mask_ctx *c, struct rp_slice v);
struct rp_slice rp_mask_set_cookie(struct rp_mask_ctx *c, struct rp_slice v);

/* Media type of a Content-Type value, lowercase in |pool| ("" when none). */
struct rp_slice rp_mask_media_type(struct rp_pool *pool, struct rp_slice ctype);

#endif
