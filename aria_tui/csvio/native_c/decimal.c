/*
 * Decimal text to float32, for pgvector elements: exactly what strtof gives, or not at all.
 *
 * Why native: client-side parsing is what makes a vector load faster than psql's \copy (the
 * server's one backend parsing vector text is the bottleneck), and polars' split + cast costs
 * ~115 ns per element, which on two cores shared with the server caps the speed-up near 2x.
 * This costs ~10 ns per element and runs without the GIL, so the two encoding threads parse
 * two blocks at once.
 *
 * It only vouches for what it can read exactly and never decides what is bad: a row is
 * "deferred" (handed back to the Python tiers in vectors.py, which know pgvector's rules and
 * its reasons) unless every element is a plain decimal ('[+-]digits[.digits][e[+-]digits]',
 * no whitespace) whose float32 value this code computes with certainty:
 *
 *   Clinger's fast path: a mantissa m <= 2^53 and a power of ten 10^k with |k| <= 22 are both
 *   exact doubles, so m * 10^k and m / 10^k are correctly rounded doubles. Rounding that double
 *   to float32 is then the correctly rounded float32 (what strtof, and so pgvector, returns)
 *   unless the double landed exactly on a float32 midpoint (a float32 midpoint is itself a
 *   double and rounding is monotonic, so the first rounding can reach a midpoint but never
 *   cross one). Where long double has a 64-bit significand (x86), the same holds for up to 19
 *   digits and |k| <= 27. Midpoints, values outside the normal float32 range, longer mantissas
 *   and larger exponents are deferred.
 *
 * A wrong dimension (when one is expected), a missing bracket, whitespace, NaN, an empty
 * element, anything else: deferred.
 *
 * Why not fast_float (the exact parser Arrow vendors), measured in a trial (issue 18; Debian's
 * libfast-float-dev 3.9, g++ 12, -O2, CPU time of one thread, alternated A/B, best of 15):
 * as the element reader it was exact (0 differences from glibc's strtof over 390,000 float32
 * midpoints and long mantissas, of which it deferred 9,401 where this code defers 240,111) but
 * 1.25-1.29x the time of this code on what PostgreSQL exports (pgvector's shortest float32
 * spellings: 23 ns an element here in read_records, 29 there); only on 17-digit float64
 * spellings (Python's repr) was it faster (32 ns against 40). As the fallback behind the fast
 * path below it still cost 1.08-1.10x on exports. Kept out: slower on the common input, and
 * it would make the extension C++ and depend on a header the machines do not all have.
 */
#include "native.h"

#include <float.h>
#include <math.h>

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define MAX_EXACT_MANTISSA (UINT64_C(1) << 53)
#define FAST_READ 40

#if LDBL_MANT_DIG >= 64
static const long double POW10L[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
#endif

/* A correctly rounded positive d (one rounding of the exact value) to the float32 strtof would
 * give, or 0 when that is not certain: d outside float32's normal range (underflow and overflow
 * have their own rules: the exact tiers) or d exactly on a float32 midpoint (where the exact
 * value may have been on either side of it). Midpoints of float32 have 25 significant bits, so
 * they are exact in any wider type, and so is their computation below. */
static inline int to_float(double d, float *out) {
    if (d < FLT_MIN || d > FLT_MAX) return 0;
    /* in float32's normal range a double's 29 lowest significand bits are what rounding drops:
     * exactly half of them set is a midpoint (the cheap form of the check in to_float_l) */
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    if ((bits & ((UINT64_C(1) << 29) - 1)) == (UINT64_C(1) << 28)) return 0;
    *out = (float)d;
    return 1;
}

#if LDBL_MANT_DIG >= 64
static inline int to_float_l(long double d, float *out) {
    if (d < FLT_MIN || d > FLT_MAX) return 0;
    float f = (float)d;
    if ((long double)f != d) {
        float g = nextafterf(f, d > (long double)f ? INFINITY : 0.0f);
        if (((long double)f + (long double)g) * 0.5L == d) return 0;
    }
    *out = f;
    return 1;
}
#endif

/* The float32 bits of (-1)^negative * mantissa * 10^scale as strtof gives them, or 0 when that
 * is not certain (see to_float). Both element readers end here. */
static inline int decimal_bits(uint64_t mantissa, int scale, int negative, uint32_t *bits) {
    float f = 0.0f;
    if (mantissa != 0) {
        if (mantissa <= MAX_EXACT_MANTISSA && scale >= -22 && scale <= 22) {
            double d = (double)mantissa;
            d = scale < 0 ? d / POW10[-scale] : d * POW10[scale];
            if (!to_float(d, &f)) return 0;
        }
#if LDBL_MANT_DIG >= 64
        /* the same argument one size up: 19 digits (< 2^64) and 10^27 (5^27 < 2^64) are exact
         * in x87's 64-bit significand; this is what a float64 written by Python needs */
        else if (scale >= -27 && scale <= 27) {
            long double d = (long double)mantissa;
            d = scale < 0 ? d / POW10L[-scale] : d * POW10L[scale];
            if (!to_float_l(d, &f)) return 0;
        }
#endif
        else
            return 0;
    }
    memcpy(bits, &f, sizeof *bits);
    *bits |= (uint32_t)negative << 31; /* no branch on a sign that is random */
    return 1;
}

/* Eight ASCII digits at once (the SWAR trick of fast_float): one digit at a time is a chain of
 * multiply-adds, ~5 cycles a digit; this is a handful of independent operations for eight. */
static inline uint64_t load8(const char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline int eight_digits(uint64_t v) {
    return !(((v + UINT64_C(0x4646464646464646)) | (v - UINT64_C(0x3030303030303030))) &
             UINT64_C(0x8080808080808080));
}

static inline uint64_t eight_value(uint64_t v) {
    const uint64_t mask = UINT64_C(0x000000FF000000FF);
    const uint64_t mul1 = UINT64_C(0x000F424000000064); /* 100 + (1000000 << 32) */
    const uint64_t mul2 = UINT64_C(0x0000271000000001); /* 1 + (10000 << 32) */
    v -= UINT64_C(0x3030303030303030);
    v = (v * 10) + (v >> 8);
    return (((v & mask) * mul1) + (((v >> 16) & mask) * mul2)) >> 32;
}

/* Digits at p into *mantissa; returns how many, or -1 past 19 significant digits. Leading
 * zeros of a zero mantissa are skipped (they are not significant). */
static inline int take_digits(const char **pp, const char *end, uint64_t *mantissa, int *significant) {
    const char *p = *pp;
    const char *start = p;
    if (*mantissa == 0)
        while (p < end && *p == '0') p++;
    while (end - p >= 8 && eight_digits(load8(p))) {
        if ((*significant += 8) > 19) return -1;
        *mantissa = *mantissa * 100000000 + eight_value(load8(p));
        p += 8;
    }
    while (p < end && (unsigned)(*p - '0') < 10) {
        if (++*significant > 19) return -1;
        *mantissa = *mantissa * 10 + (uint64_t)(*p - '0');
        p++;
    }
    *pp = p;
    return (int)(p - start);
}

/* One element at *pp (not past end). Writes the float32 bits and advances *pp past the element.
 * Returns 0 when the element is not one this parser vouches for. */
static int parse_element(const char **pp, const char *end, uint32_t *bits) {
    const char *p = *pp;
    int negative = 0;
    if (p < end && (*p == '+' || *p == '-')) {
        negative = (*p == '-');
        p++;
    }
    uint64_t mantissa = 0;
    int significant = 0; /* digits taken into the mantissa, leading zeros excluded */
    int scale = 0;       /* power of ten the mantissa is to be multiplied by */
    int digits = take_digits(&p, end, &mantissa, &significant);
    if (digits < 0) return 0;
    if (p < end && *p == '.') {
        p++;
        int fraction = take_digits(&p, end, &mantissa, &significant);
        if (fraction < 0) return 0;
        scale -= fraction;
        digits += fraction;
    }
    if (digits == 0) return 0; /* '', '.', '-', 'nan', 'inf', ... */
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int exp_negative = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            exp_negative = (*p == '-');
            p++;
        }
        int exp = 0, exp_digits = 0;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (exp < 100000) exp = exp * 10 + (*p - '0');
            exp_digits++;
            p++;
        }
        if (exp_digits == 0) return 0; /* strtof would stop before the 'e': pgvector refuses */
        scale += exp_negative ? -exp : exp;
    }
    if (!decimal_bits(mantissa, scale, negative, bits)) return 0;
    *pp = p;
    return 1;
}

static const uint64_t POW10_U64[20] = {
    UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
    UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
    UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
    UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
    UINT64_C(1000000000000000), UINT64_C(10000000000000000), UINT64_C(100000000000000000),
    UINT64_C(1000000000000000000), UINT64_C(10000000000000000000)};

/* How many of the eight bytes of v (in text order) are digits before the first non-digit. The
 * lowest flagged byte is exact: a carry or borrow only moves upwards, out of a non-digit. */
static inline int digit_run(uint64_t v) {
    uint64_t nondigit = ((v + UINT64_C(0x4646464646464646)) | (v - UINT64_C(0x3030303030303030))) &
                        UINT64_C(0x8080808080808080);
    return nondigit ? __builtin_ctzll(nondigit) >> 3 : 8;
}

/* The value of the first n (1..8) digits of v: they are moved to the end of the word and the
 * front filled with '0', so eight_value reads them as an 8-digit number. */
static inline uint64_t first_digits(uint64_t v, int n) {
    int shift = (64 - 8 * n) & 63;
    uint64_t zeros = UINT64_C(0x3030303030303030) & ~(UINT64_MAX << shift);
    return eight_value((v << shift) | zeros);
}

/* The common spelling ([-]digits[.digits][e[-]digits], at most 7 integer and 16 fraction
 * digits) read with few branches, the digit runs measured and converted eight at a time; 1 when
 * done, 0 when the careful parse_element must decide (never a verdict on the element).
 * Needs FAST_READ readable bytes at *pp (it may look at up to 34 bytes from there): bytes past
 * the element are looked at, never used. */
static inline int parse_element_fast(const char **pp, uint32_t *bits) {
    const char *p = *pp;
    int negative = (*p == '-');
    p += (*p == '-') | (*p == '+');
    uint64_t w = load8(p);
    int n1 = digit_run(w);
    if (n1 == 8) return 0;
    uint64_t mantissa = n1 ? first_digits(w, n1) : 0;
    p += n1;
    int n2 = 0;
    if (*p == '.') {
        p++;
        w = load8(p);
        n2 = digit_run(w);
        uint64_t fraction = n2 ? first_digits(w, n2) : 0;
        /* the next eight bytes count only after a full first eight; computed either way, as
         * a branch on it was mispredicted for every other element of real embeddings */
        uint64_t w2 = load8(p + 8);
        int n3 = digit_run(w2) & -(n2 == 8);
        if (n3 == 8) return 0;
        fraction = fraction * POW10_U64[n3] + (n3 ? first_digits(w2, n3) : 0);
        n2 += n3;
        mantissa = mantissa * POW10_U64[n2] + fraction; /* < 10^(7+16): checked below */
        p += n2;
    }
    if (n1 + n2 == 0 || n1 + n2 > 19) return 0;
    int scale = -n2;
    if (*p == 'e' || *p == 'E') {
        p++;
        int exp_negative = (*p == '-');
        p += (*p == '-') | (*p == '+');
        int ne = digit_run(load8(p));
        if (ne == 0 || ne > 3) return 0;
        int exp = (int)first_digits(load8(p), ne);
        scale += exp_negative ? -exp : exp;
        p += ne;
    }
    if (!decimal_bits(mantissa, scale, negative, bits)) return 0;
    *pp = p;
    return 1;
}

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#define HAVE_SSE2_READ 1

/* The inverse of 5^k modulo 2^64: an exact division by 10^k is a shift by k and a multiply by
 * this (x = m * 2^k * 5^k, so (x >> k) * INV5[k] = m). Checked by the property tests, which read
 * every digit count 1..16. */
static const uint64_t INV5[17] = {
    UINT64_C(0x0000000000000001), UINT64_C(0xCCCCCCCCCCCCCCCD), UINT64_C(0x8F5C28F5C28F5C29),
    UINT64_C(0x1CAC083126E978D5), UINT64_C(0xD288CE703AFB7E91), UINT64_C(0x5D4E8FB00BCBE61D),
    UINT64_C(0x790FB65668C26139), UINT64_C(0xE5032477AE8D46A5), UINT64_C(0xC767074B22E90E21),
    UINT64_C(0x8E47CE423A2E9C6D), UINT64_C(0x4FA7F60D3ED61F49), UINT64_C(0x0FEE64690C913975),
    UINT64_C(0x3662E0E1CF503EB1), UINT64_C(0xA47A2CF9F6433FBD), UINT64_C(0x54186F653140A659),
    UINT64_C(0x7738164770402145), UINT64_C(0xE4A4D1417CD9A041)};

/* 16 zero bytes, 32 ones, 16 zeros: 16 bytes from RAMPS + 16 - k have ones from byte k on; from
 * RAMPS + 48 - k, ones before byte k (k in 0..16) */
static const unsigned char RAMPS[64] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0};

/* The commonest spelling of all, '[+-]digits[.digits]' in at most 16 bytes after the sign and
 * followed by ',' or ']' (an embedding's '-0.0123456'), read as one 16-byte vector: its bytes
 * classified at once, the point squeezed out, the digits summed pairwise in three multiply-adds
 * (SSE2, in every x86-64). ~half the instructions of parse_element_fast per element, measured
 * with callgrind on real exports (benchmarks/README.md). 1 when done, 0 when the other readers
 * must decide (an exponent, more digits, anything else: never a verdict). Needs 17 readable bytes
 * at *pp; looks at bytes past the element, never uses them. */
static inline int parse_element_sse2(const char **pp, uint32_t *bits) {
    const char *p = *pp;
    int negative = (*p == '-');
    p += (*p == '-') | (*p == '+');
    const __m128i x = _mm_loadu_si128((const __m128i *)p);
    __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));
    const unsigned digit = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    const unsigned point = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')));
    const unsigned sep = (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), _mm_cmpeq_epi8(x, _mm_set1_epi8(']'))));
    const unsigned other = ~(digit | point) & 0xFFFFu;
    const unsigned stop = other & (0u - other); /* the first byte that is neither: the end */
    if (!(stop & sep)) return 0;                /* none in 16 bytes, or an 'e', a space, ... */
    const unsigned points = point & (stop - 1);
    if (points & (points - 1)) return 0; /* '1.2.3' */
    const int t = __builtin_ctz(stop);
    const int nd = t - (points != 0);                         /* digits */
    const int q = points ? __builtin_ctz(points) : nd;        /* of which before the point */
    if (nd == 0) return 0;                                    /* '', '.', '-' */
    /* the digits after the point move down one byte, over it; bytes past the digits become 0
     * (the masks of "byte >= q" and "byte < nd" are windows into RAMPS: a load each) */
    const __m128i after = _mm_loadu_si128((const __m128i *)(RAMPS + 16 - q));
    d = _mm_or_si128(_mm_and_si128(after, _mm_srli_si128(d, 1)), _mm_andnot_si128(after, d));
    d = _mm_and_si128(d, _mm_loadu_si128((const __m128i *)(RAMPS + 48 - nd)));
    /* 16 digit bytes -> 8 pairs -> 4 quads -> 2 eights (each step fits the next's 16 bits) */
    const __m128i zero = _mm_setzero_si128();
    const __m128i pairs = _mm_packs_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(d, zero), _mm_set1_epi32(0x0001000A)),
                                          _mm_madd_epi16(_mm_unpackhi_epi8(d, zero), _mm_set1_epi32(0x0001000A)));
    const __m128i quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00010064));
    const __m128i eights = _mm_madd_epi16(_mm_packs_epi32(quads, quads), _mm_set1_epi32(0x00012710));
    const uint64_t both = (uint64_t)_mm_cvtsi128_si64(eights);
    /* the 16 positions read as one number are mantissa * 10^(16 - nd): divide exactly */
    const uint64_t sixteen = (both & 0xFFFFFFFFu) * 100000000 + (both >> 32);
    const uint64_t mantissa = (sixteen >> (16 - nd)) * INV5[16 - nd];
    if (!decimal_bits(mantissa, q - nd, negative, bits)) return 0;
    *pp = p + t;
    return 1;
}
#endif

/* Parse one whole field into out (4 * dim bytes of big-endian floats). Returns the number of
 * elements, or -1 when the row is deferred. With dim > 0, any other count defers. `limit` is the
 * end of the readable memory the field lies in (at least p + n): where FAST_READ bytes are left, the
 * fast reading is tried first. */
Py_ssize_t parse_row(const char *p, Py_ssize_t n, Py_ssize_t dim, char *out,
                            const char *limit) {
    const char *end = p + n;
    if (n < 3 || p[0] != '[' || end[-1] != ']') return -1;
    p++;
    end--;
    Py_ssize_t count = 0;
    for (;;) {
        uint32_t bits;
        if (dim > 0 && count >= dim) return -1;
        const char *start = p;
        int done = 0;
        if (limit - p >= FAST_READ) {
#ifdef HAVE_SSE2_READ
            done = parse_element_sse2(&p, &bits) || parse_element_fast(&p, &bits);
#else
            done = parse_element_fast(&p, &bits);
#endif
            done = done && p <= end;
        }
        if (!done) {
            p = start;
            if (!parse_element(&p, end, &bits)) return -1;
        }
        put_be32(out + 4 * count, bits);
        count++;
        if (p == end) break;
        if (*p != ',') return -1;
        p++;
    }
    if (dim > 0 && count != dim) return -1;
    return count;
}
