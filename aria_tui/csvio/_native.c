/*
 * The vector load's hot path, native: CSV blocks read as PostgreSQL's COPY reads them, and
 * pgvector text ('[0.1,-2e-05,3]') turned into binary COPY fields. Both exactly, or not at all.
 *
 * Vectors:
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
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define MAX_EXACT_MANTISSA (UINT64_C(1) << 53)
#define VECTOR_MAX_DIM 16000
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

static inline void put_be32(char *out, uint32_t v) {
    out[0] = (char)(v >> 24);
    out[1] = (char)(v >> 16);
    out[2] = (char)(v >> 8);
    out[3] = (char)v;
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

/* Parse one whole field into out (4 * dim bytes of big-endian floats). Returns the number of
 * elements, or -1 when the row is deferred. With dim > 0, any other count defers. `limit` is the
 * end of the readable memory the field lies in (at least p + n): where FAST_READ bytes are left, the
 * fast reading is tried first. */
static Py_ssize_t parse_row(const char *p, Py_ssize_t n, Py_ssize_t dim, char *out,
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
        if (!(limit - p >= FAST_READ && parse_element_fast(&p, &bits) && p <= end)) {
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


/* ---------------------------------------------------------------------------------------- */
/* Vector fields: many texts at once, parsed without the GIL.                                */

typedef struct {
    const char *text; /* NULL: a NULL value */
    Py_ssize_t len;   /* -1: deferred without looking (the caller knows it cannot be read) */
    const char *limit; /* end of the memory the text lies in (see parse_row) */
    PyObject *field;  /* the binary COPY field being filled */
    Py_ssize_t count; /* elements parsed, -1 deferred */
} VecCell;

static PyObject *NULL_FIELD;

static Py_ssize_t commas_plus_one(const char *text, Py_ssize_t len) {
    Py_ssize_t want = 1;
    for (const char *c = text; (c = memchr(c, ',', (size_t)(text + len - c))); c++) want++;
    return want;
}

/* Fills cells[i].field (a new reference, or NULL when deferred / NULL value) and .count.
 * Called with the GIL; releases it while parsing. Returns -1 with an exception set. */
static int parse_cells(VecCell *cells, Py_ssize_t n, Py_ssize_t dim) {
    for (Py_ssize_t i = 0; i < n; i++) {
        cells[i].field = NULL;
        cells[i].count = -1;
        if (!cells[i].text || cells[i].len < 0) continue;
        Py_ssize_t want = dim ? dim : commas_plus_one(cells[i].text, cells[i].len);
        if (want > VECTOR_MAX_DIM) continue; /* pgvector's limit: the tiers give its reason */
        cells[i].field = PyBytes_FromStringAndSize(NULL, 8 + 4 * want);
        if (!cells[i].field) return -1;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!cells[i].field) continue;
        char *out = PyBytes_AS_STRING(cells[i].field);
        Py_ssize_t want = (PyBytes_GET_SIZE(cells[i].field) - 8) / 4;
        Py_ssize_t count = parse_row(cells[i].text, cells[i].len, want, out + 8, cells[i].limit);
        if (count > 0) {
            put_be32(out, (uint32_t)(4 + 4 * count));
            out[4] = (char)(count >> 8);
            out[5] = (char)count;
            out[6] = 0;
            out[7] = 0;
        }
        cells[i].count = count;
    }
    Py_END_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        if (cells[i].count <= 0) Py_CLEAR(cells[i].field);
    return 0;
}

/* (fields, deferred) from parsed cells; steals the cells' fields. */
static PyObject *fields_and_deferred(VecCell *cells, Py_ssize_t n) {
    PyObject *fields = PyList_New(n), *deferred = PyList_New(0);
    if (!fields || !deferred) goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *field = cells[i].field;
        cells[i].field = NULL;
        if (!field) {
            field = Py_NewRef(NULL_FIELD);
            if (cells[i].text) {
                PyObject *index = PyLong_FromSsize_t(i);
                int failed = !index || PyList_Append(deferred, index) < 0;
                Py_XDECREF(index);
                if (failed) {
                    Py_DECREF(field);
                    goto fail;
                }
            }
        }
        PyList_SET_ITEM(fields, i, field);
    }
    PyObject *result = PyTuple_Pack(2, fields, deferred);
    Py_DECREF(fields);
    Py_DECREF(deferred);
    return result;
fail:
    Py_XDECREF(fields);
    Py_XDECREF(deferred);
    return NULL;
}

static void clear_cells(VecCell *cells, Py_ssize_t n) {
    if (cells)
        for (Py_ssize_t i = 0; i < n; i++) Py_CLEAR(cells[i].field);
}

PyDoc_STRVAR(copy_fields_doc,
             "copy_fields(values, dim) -> (fields, deferred)\n\n"
             "values: a list of str / bytes / None (pgvector text). dim: the expected dimension, "
             "0 for any.\nfields: one binary COPY field per value (length prefix included); "
             "the NULL field for None and for deferred rows.\ndeferred: the indexes of the rows "
             "this parser does not vouch for (to be read by the exact tiers).");

static PyObject *copy_fields(PyObject *self, PyObject *args) {
    PyObject *values;
    Py_ssize_t dim;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &values, &dim)) return NULL;
    if (dim < 0 || dim > VECTOR_MAX_DIM) {
        PyErr_SetString(PyExc_ValueError, "dim must be between 0 and 16000");
        return NULL;
    }
    /* a private tuple holds every text while their buffers are read without the GIL: the list
     * itself could be changed meanwhile (another thread, a finalizer run by an allocation) */
    PyObject *items = PyList_AsTuple(values);
    if (!items) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    VecCell *cells = PyMem_Calloc(n ? n : 1, sizeof(VecCell));
    if (!cells) {
        Py_DECREF(items);
        return PyErr_NoMemory();
    }
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyTuple_GET_ITEM(items, i);
        if (v == Py_None) continue;
        if (PyUnicode_Check(v)) {
            cells[i].text = PyUnicode_AsUTF8AndSize(v, &cells[i].len);
            if (!cells[i].text) goto done;
            cells[i].limit = cells[i].text + cells[i].len;
        } else if (PyBytes_Check(v)) {
            cells[i].text = PyBytes_AS_STRING(v);
            cells[i].len = PyBytes_GET_SIZE(v);
            cells[i].limit = cells[i].text + cells[i].len;
        } else {
            PyErr_SetString(PyExc_TypeError, "values must be str, bytes or None");
            goto done;
        }
    }
    if (parse_cells(cells, n, dim) == 0) result = fields_and_deferred(cells, n);
done:
    clear_cells(cells, n);
    PyMem_Free(cells);
    Py_DECREF(items);
    return result;
}

/* ---------------------------------------------------------------------------------------- */
/* CSV records, PostgreSQL's way (copyfromparse.c, FORMAT csv, delimiter ',', quote and escape
 * '"'), for blocks that start on a record boundary (csvio's block cutter). The same rules as
 * csvio/_exact.py, the reference: a quote toggles "inside quotes" wherever it stands, a
 * doubled quote inside quotes is one quote, an unquoted empty field is NULL, a record ends at
 * the file's line terminator outside quotes. It only reads what it can read without doubt:
 * anything PostgreSQL would refuse (a NUL byte, invalid UTF-8, an unquoted carriage return or
 * terminator of the other style, a wrong number of fields, an open quote at the end) makes it
 * return None, and the caller reads the block the other way, which finds the line and the
 * reason. */

/* csvio.native.ColumnKind, same numbers; >= 0: a vector of that dim (0: any) */
enum {
    KIND_UUID = -7,
    KIND_TIMESTAMP = -6,
    KIND_TIMESTAMPTZ = -5,
    KIND_JSONB = -4,
    KIND_SKIP = -3,
    KIND_STR = -2,
    KIND_COPYTEXT = -1
};

typedef struct {
    Py_ssize_t start, len; /* the raw field, quotes included */
    int quotes;            /* quote characters in it */
} Cell;

typedef struct {
    Cell *cells;
    Py_ssize_t used, size;
    Py_ssize_t *starts; /* each record's first line, counted from the block's */
    Py_ssize_t nstarts, starts_size;
} Records;

static int grow(void **buf, Py_ssize_t *size, Py_ssize_t need, size_t item) {
    if (need <= *size) return 1;
    Py_ssize_t size2 = *size ? *size * 2 : 1024;
    while (size2 < need) size2 *= 2;
    void *p = realloc(*buf, (size_t)size2 * item);
    if (!p) return 0;
    *buf = p;
    *size = size2;
    return 1;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0 when invalid. The rules of
 * PostgreSQL's pg_utf8_islegal and of Python's decoder: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
static inline int utf8_sequence(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    int n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (end - p < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (int k = 2; k < n; k++)
        if (p[k] < 0x80 || p[k] > 0xBF) return 0;
    return n;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
static inline uint64_t zero_bytes(uint64_t v) { return (v - ONES) & ~v & HIGHS; }
static inline uint64_t bytes_equal(uint64_t v, unsigned char b) { return zero_bytes(v ^ (ONES * b)); }

/* The bytes of the character at p that is none of the CSV's own: 1 for ASCII, its UTF-8
 * sequence's length, or 0 for what PostgreSQL refuses (NUL, invalid UTF-8). */
static inline int step(const unsigned char *data, Py_ssize_t p, Py_ssize_t n) {
    unsigned char c = data[p];
    if (c == 0) return 0;
    return c < 0x80 ? 1 : utf8_sequence(data + p, data + n);
}

/* Scan the block. Returns 1 and fills rec, or 0 when the block is not one to vouch for. */
static int scan_records(const unsigned char *data, Py_ssize_t n, Py_ssize_t ncols, int crlf,
                        int want_lines, Records *rec, Py_ssize_t *spans) {
    Py_ssize_t p = 0, newlines = 0;
    while (p < n) {
        if (want_lines) {
            if (!grow((void **)&rec->starts, &rec->starts_size, rec->nstarts + 1, sizeof(Py_ssize_t)))
                return 0;
            rec->starts[rec->nstarts++] = newlines;
        }
        Py_ssize_t fields = 0, field_start = p;
        int quotes = 0, inside = 0, ended = 0, by_eof = 0;
        while (!ended) {
            if (p >= n) { /* the last record of the file, without a terminator */
                if (inside) return 0; /* an open quote: PostgreSQL refuses the file */
                by_eof = 1;
                break;
            }
            if (inside) {
                /* skip eight bytes at a time while none matters: in quotes only the quote,
                 * a newline (lines are counted), NUL and non-ASCII (checked) do */
                while (n - p >= 8) {
                    uint64_t w;
                    memcpy(&w, data + p, 8);
                    if ((bytes_equal(w, '"') | bytes_equal(w, '\n') | zero_bytes(w) | (w & HIGHS)))
                        break;
                    p += 8;
                }
                if (p >= n) continue;
                unsigned char c = data[p];
                if (c == '"') {
                    quotes++;
                    if (p + 1 < n && data[p + 1] == '"') { /* a doubled quote: one literal quote */
                        quotes++;
                        p += 2;
                    } else {
                        inside = 0;
                        p++;
                    }
                } else if (c == '\n') {
                    newlines++;
                    p++;
                } else {
                    int k = step(data, p, n);
                    if (!k) return 0;
                    p += k;
                }
                continue;
            }
            while (n - p >= 8) {
                uint64_t w;
                memcpy(&w, data + p, 8);
                if ((bytes_equal(w, '"') | bytes_equal(w, '\n') | bytes_equal(w, ',') |
                     bytes_equal(w, '\r') | zero_bytes(w) | (w & HIGHS)))
                    break;
                p += 8;
            }
            if (p >= n) continue;
            unsigned char c = data[p];
            if (c == ',' || c == '\n' || c == '\r') {
                Py_ssize_t end = p;
                if (c == '\n') {
                    if (crlf) return 0; /* a bare \n in a \r\n file */
                    newlines++;
                    p++;
                    ended = 1;
                } else if (c == '\r') {
                    if (!crlf || p + 1 >= n || data[p + 1] != '\n') return 0; /* unquoted \r */
                    newlines++;
                    p += 2;
                    ended = 1;
                } else
                    p++;
                if (++fields > ncols) return 0;
                if (!grow((void **)&rec->cells, &rec->size, rec->used + 1, sizeof(Cell))) return 0;
                rec->cells[rec->used++] = (Cell){field_start, end - field_start, quotes};
                field_start = p;
                quotes = 0;
                if (ended) break;
            } else if (c == '"') {
                quotes++;
                inside = 1;
                p++;
            } else {
                int k = step(data, p, n);
                if (!k) return 0;
                p += k;
            }
        }
        if (by_eof) { /* the last field is still open; the line it is on counts too */
            if (++fields > ncols) return 0;
            if (!grow((void **)&rec->cells, &rec->size, rec->used + 1, sizeof(Cell))) return 0;
            rec->cells[rec->used++] = (Cell){field_start, n - field_start, quotes};
            newlines++;
        }
        if (fields != ncols) return 0;
    }
    *spans = newlines;
    return 1;
}

/* A field's value, PostgreSQL's way, into out (at most len bytes). */
static Py_ssize_t unescape(const unsigned char *raw, Py_ssize_t len, unsigned char *out) {
    Py_ssize_t k = 0;
    int inside = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned char c = raw[i];
        if (c == '"') {
            if (inside && i + 1 < len && raw[i + 1] == '"') {
                out[k++] = '"';
                i++;
            } else
                inside = !inside;
        } else
            out[k++] = c;
    }
    return k;
}

/* The value of a cell with quotes: (pointer, length) into the data when it is simply quoted
 * ("..." with no other quote), else NULL (it needs unescaping). */
static inline const unsigned char *plain_quoted(const unsigned char *data, const Cell *c,
                                                Py_ssize_t *len) {
    if (c->quotes == 2 && c->len >= 2 && data[c->start] == '"' && data[c->start + c->len - 1] == '"') {
        *len = c->len - 2;
        return data + c->start + 1;
    }
    return NULL;
}

/* A cell's value: its bytes in the data, or (a cell with quotes inside it) unescaped into a
 * buffer made here and handed back in *buf for the caller to free. NULL for a NULL value (*len
 * is then -1), or with MemoryError set. */
static const unsigned char *cell_value(const unsigned char *data, const Cell *c, Py_ssize_t *len,
                                       unsigned char **buf) {
    *buf = NULL;
    if (c->quotes == 0) {
        *len = c->len ? c->len : -1;
        return c->len ? data + c->start : NULL;
    }
    const unsigned char *v = plain_quoted(data, c, len);
    if (v) return v;
    *buf = PyMem_Malloc(c->len ? c->len : 1);
    if (!*buf) {
        *len = 0;
        PyErr_NoMemory();
        return NULL;
    }
    *len = unescape(data + c->start, c->len, *buf);
    return *buf;
}

/* A cell's value as a new str, or None for NULL. */
static PyObject *cell_str(const unsigned char *data, const Cell *c) {
    Py_ssize_t len;
    unsigned char *buf;
    const unsigned char *v = cell_value(data, c, &len, &buf);
    if (!v) {
        if (len < 0) Py_RETURN_NONE;
        return NULL;
    }
    PyObject *s = PyUnicode_DecodeUTF8((const char *)v, len, "strict");
    PyMem_Free(buf);
    return s;
}

/* A cell's value as a binary COPY text field: length + UTF-8 bytes, or the NULL field; for
 * jsonb, whose binary form is a version byte (1) and the JSON text, which jsonb_recv parses
 * as jsonb_in does, the byte goes first. */
static PyObject *cell_copytext(const unsigned char *data, const Cell *c, int jsonb) {
    Py_ssize_t len;
    unsigned char *buf;
    const unsigned char *v = cell_value(data, c, &len, &buf);
    if (!v) return len < 0 ? Py_NewRef(NULL_FIELD) : NULL;
    PyObject *field = PyBytes_FromStringAndSize(NULL, 4 + jsonb + len);
    if (field) {
        char *out = PyBytes_AS_STRING(field);
        put_be32(out, (uint32_t)(jsonb + len));
        if (jsonb) out[4] = 1;
        memcpy(out + 4 + jsonb, v, (size_t)len);
    }
    PyMem_Free(buf);
    return field;
}

/* -- uuid and timestamps in PostgreSQL's own output spelling, to their binary COPY form -------
 * The same subset the polars encoders of load/encoders.py accept (anything else declines the
 * block, which polars then reads, and refuses or not, as before): a lowercase or uppercase
 * 8-4-4-4-12 uuid; 'YYYY-MM-DD HH:MM:SS[.f{1,6}]' with, for timestamptz, a '+HH' or '+HH:MM'
 * offset. Binary timestamps are microseconds since 2000-01-01 (UTC for timestamptz). */

static inline int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static int parse_uuid(const unsigned char *v, Py_ssize_t len, unsigned char out[16]) {
    if (len != 36 || v[8] != '-' || v[13] != '-' || v[18] != '-' || v[23] != '-') return 0;
    int k = 0;
    for (Py_ssize_t i = 0; i < 36; i += (i == 6 || i == 11 || i == 16 || i == 21) ? 3 : 2) {
        int hi = hexval(v[i]), lo = hexval(v[i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[k++] = (unsigned char)(hi << 4 | lo);
    }
    return k == 16;
}

static inline int digits_at(const unsigned char *v, int n, int *out) {
    int x = 0;
    for (int i = 0; i < n; i++) {
        if ((unsigned)(v[i] - '0') > 9) return 0;
        x = x * 10 + (v[i] - '0');
    }
    *out = x;
    return 1;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_timestamp(const unsigned char *v, Py_ssize_t len, int with_zone, int64_t *out) {
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec;
    if (len < 19 || v[4] != '-' || v[7] != '-' || v[10] != ' ' || v[13] != ':' || v[16] != ':')
        return 0;
    if (!digits_at(v, 4, &y) || !digits_at(v + 5, 2, &mo) || !digits_at(v + 8, 2, &d) ||
        !digits_at(v + 11, 2, &h) || !digits_at(v + 14, 2, &mi) || !digits_at(v + 17, 2, &sec))
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap)) return 0;
    if (h > 23 || mi > 59 || sec > 59) return 0; /* 24:00:00 and leap seconds: the server's call */
    Py_ssize_t p = 19;
    int64_t micros = 0;
    if (p < len && v[p] == '.') {
        int n = 0;
        p++;
        while (p < len && (unsigned)(v[p] - '0') <= 9 && n < 7) {
            micros = micros * 10 + (v[p] - '0');
            n++;
            p++;
        }
        if (n == 0 || n > 6) return 0; /* more than microseconds: the server rounds */
        for (; n < 6; n++) micros *= 10;
    }
    int64_t offset = 0;
    if (with_zone) {
        int oh, om = 0;
        if (p + 3 > len || (v[p] != '+' && v[p] != '-') || !digits_at(v + p + 1, 2, &oh)) return 0;
        int sign = v[p] == '-' ? -1 : 1;
        p += 3;
        if (p < len && v[p] == ':') {
            if (p + 3 > len || !digits_at(v + p + 1, 2, &om) || om > 59) return 0;
            p += 3;
        }
        if (oh > 15) return 0;
        offset = sign * (oh * 3600 + om * 60);
    }
    if (p != len) return 0;
    int64_t days = days_from_civil(y, mo, d) - days_from_civil(2000, 1, 1);
    *out = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset) * 1000000 + micros;
    return 1;
}

/* A cell as a binary uuid / timestamp field; NULL with *declined set when it cannot be. */
static PyObject *cell_fixed(const unsigned char *data, const Cell *c, Py_ssize_t kind, int *declined) {
    const unsigned char *v = data + c->start;
    Py_ssize_t len = c->len;
    if (c->quotes == 0 && len == 0) return Py_NewRef(NULL_FIELD);
    if (c->quotes && !(v = plain_quoted(data, c, &len))) {
        *declined = 1;
        return NULL;
    }
    unsigned char buf[20];
    if (kind == KIND_UUID) {
        put_be32((char *)buf, 16);
        if (!parse_uuid(v, len, buf + 4)) {
            *declined = 1;
            return NULL;
        }
        return PyBytes_FromStringAndSize((const char *)buf, 20);
    }
    int64_t t;
    if (!parse_timestamp(v, len, kind == KIND_TIMESTAMPTZ, &t)) {
        *declined = 1;
        return NULL;
    }
    put_be32((char *)buf, 8);
    put_be32((char *)buf + 4, (uint32_t)((uint64_t)t >> 32));
    put_be32((char *)buf + 8, (uint32_t)t);
    return PyBytes_FromStringAndSize((const char *)buf, 12);
}

PyDoc_STRVAR(read_records_doc,
             "read_records(data, ncols, crlf, kinds, want_lines) -> None | "
             "(rows, spans, columns, deferred, starts)\n\n"
             "Read a record-aligned CSV block as PostgreSQL's COPY (FORMAT csv) would, or return "
             "None when it cannot vouch for the block (read it the other way: that finds the "
             "problem and its line).\n"
             "kinds: one int per CSV column: -7 / -6 / -5 binary uuid / timestamp / timestamptz fields "
             "(a value in another spelling declines the block), -4 binary COPY jsonb fields, "
             "-3 skip, -2 str values, "
             "-1 binary COPY text fields, "
             ">= 0 pgvector fields of that dimension (0: any).\n"
             "columns: per column, a list (None for skipped ones). deferred: per vector column, "
             "the (row, text) pairs the vector parser did not vouch for, else None.\n"
             "spans: physical lines of the block; starts: each record's first line (counted from "
             "the block's first), when want_lines, else None.");

static PyObject *read_records(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t ncols;
    int crlf, want_lines;
    PyObject *kinds_obj;
    if (!PyArg_ParseTuple(args, "y*npO!p", &view, &ncols, &crlf, &PyTuple_Type, &kinds_obj,
                          &want_lines))
        return NULL;
    PyObject *result = NULL, *columns = NULL, *deferred = NULL, *starts = NULL;
    Records rec = {0};
    VecCell *vcells = NULL;
    Py_ssize_t rows = 0, spans = 0;
    int ok;
    Py_ssize_t *kinds = NULL;
    if (ncols < 1 || PyTuple_GET_SIZE(kinds_obj) != ncols) {
        PyErr_SetString(PyExc_ValueError, "kinds must have one entry per column");
        goto done;
    }
    kinds = PyMem_Malloc(sizeof(Py_ssize_t) * ncols);
    if (!kinds) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t j = 0; j < ncols; j++) {
        kinds[j] = PyLong_AsSsize_t(PyTuple_GET_ITEM(kinds_obj, j));
        if (kinds[j] == -1 && PyErr_Occurred()) goto done;
        if (kinds[j] < KIND_UUID || kinds[j] > VECTOR_MAX_DIM) {
            PyErr_SetString(PyExc_ValueError, "bad column kind");
            goto done;
        }
    }
    const unsigned char *data = view.buf;
    Py_BEGIN_ALLOW_THREADS
    ok = scan_records(data, view.len, ncols, crlf, want_lines, &rec, &spans);
    Py_END_ALLOW_THREADS
    if (!ok) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    rows = rec.used / ncols;
    columns = PyList_New(ncols);
    deferred = PyList_New(ncols);
    if (!columns || !deferred) goto done;
    for (Py_ssize_t j = 0; j < ncols; j++) {
        PyList_SET_ITEM(deferred, j, Py_NewRef(Py_None));
        PyList_SET_ITEM(columns, j, Py_NewRef(Py_None));
    }
    if (rows) {
        vcells = PyMem_Calloc(rows, sizeof(VecCell));
        if (!vcells) {
            PyErr_NoMemory();
            goto done;
        }
    }
    for (Py_ssize_t j = 0; j < ncols; j++) {
        Py_ssize_t kind = kinds[j];
        if (kind == KIND_SKIP) continue;
        PyObject *list;
        if (kind < 0) {
            list = PyList_New(rows);
            if (!list) goto done;
            for (Py_ssize_t i = 0; i < rows; i++) {
                const Cell *c = &rec.cells[i * ncols + j];
                int declined = 0;
                PyObject *v = kind == KIND_STR                           ? cell_str(data, c)
                              : kind == KIND_COPYTEXT || kind == KIND_JSONB ? cell_copytext(data, c, kind == KIND_JSONB)
                                                                         : cell_fixed(data, c, kind, &declined);
                if (!v) {
                    Py_DECREF(list);
                    if (declined) {
                        Py_XSETREF(result, Py_NewRef(Py_None));
                    }
                    goto done;
                }
                PyList_SET_ITEM(list, i, v);
            }
            PyList_SetItem(columns, j, list);
            continue;
        }
        /* a vector column: simply quoted (or unquoted) cells are parsed in place */
        for (Py_ssize_t i = 0; i < rows; i++) {
            const Cell *c = &rec.cells[i * ncols + j];
            vcells[i].text = NULL;
            vcells[i].len = 0;
            vcells[i].limit = (const char *)data + view.len;
            if (c->quotes == 0) {
                if (c->len) {
                    vcells[i].text = (const char *)data + c->start;
                    vcells[i].len = c->len;
                }
            } else {
                Py_ssize_t len;
                const unsigned char *v = plain_quoted(data, c, &len);
                vcells[i].text = v ? (const char *)v : (const char *)data + c->start;
                vcells[i].len = v ? len : -1; /* -1: escaped, left to the tiers */
            }
        }
        if (parse_cells(vcells, rows, kind) < 0) goto done;
        PyObject *pair = fields_and_deferred(vcells, rows);
        if (!pair) goto done;
        PyList_SetItem(columns, j, Py_NewRef(PyTuple_GET_ITEM(pair, 0)));
        PyObject *rows_deferred = PyTuple_GET_ITEM(pair, 1);
        Py_ssize_t nd = PyList_GET_SIZE(rows_deferred);
        PyObject *texts = PyList_New(nd);
        if (!texts) {
            Py_DECREF(pair);
            goto done;
        }
        for (Py_ssize_t k = 0; k < nd; k++) {
            PyObject *row = PyList_GET_ITEM(rows_deferred, k);
            Py_ssize_t i = PyLong_AsSsize_t(row);
            PyObject *text = cell_str(data, &rec.cells[i * ncols + j]);
            PyObject *item = text ? PyTuple_Pack(2, row, text) : NULL;
            Py_XDECREF(text);
            if (!item) {
                Py_DECREF(texts);
                Py_DECREF(pair);
                goto done;
            }
            PyList_SET_ITEM(texts, k, item);
        }
        PyList_SetItem(deferred, j, texts);
        Py_DECREF(pair);
    }
    if (want_lines) {
        starts = PyList_New(rec.nstarts);
        if (!starts) goto done;
        for (Py_ssize_t i = 0; i < rec.nstarts; i++) {
            PyObject *v = PyLong_FromSsize_t(rec.starts[i]);
            if (!v) goto done;
            PyList_SET_ITEM(starts, i, v);
        }
    } else
        starts = Py_NewRef(Py_None);
    result = Py_BuildValue("(nnOOO)", rows, spans, columns, deferred, starts);
done:
    Py_XDECREF(columns);
    Py_XDECREF(deferred);
    Py_XDECREF(starts);
    clear_cells(vcells, rows); /* fields not handed over when something failed half-way */
    PyMem_Free(vcells);
    PyMem_Free(kinds);
    free(rec.cells);
    free(rec.starts);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(last_boundary_doc,
             "last_boundary(chunk, term, parity) -> (cut, quotes)\n\n"
             "csvio._blocks.last_boundary without the GIL: the offset just past the last line "
             "terminator byte `term` preceded by an even number of quotes (counting `parity` "
             "quotes before the chunk) and the quotes before it, or (-1, quotes in chunk).");

static PyObject *last_boundary(PyObject *self, PyObject *args) {
    Py_buffer view;
    int term, parity;
    if (!PyArg_ParseTuple(args, "y*ii", &view, &term, &parity)) return NULL;
    const unsigned char *data = view.buf;
    Py_ssize_t n = view.len, cut = -1, quotes = 0, at_cut = 0;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t i = 0;
    while (i < n) {
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, data + i, 8);
            if (bytes_equal(w, '"') | bytes_equal(w, (unsigned char)term)) break;
            i += 8;
        }
        Py_ssize_t stop = n - i >= 8 ? i + 8 : n;
        for (; i < stop; i++) {
            if (data[i] == '"')
                quotes++;
            else if (data[i] == term && ((quotes + parity) & 1) == 0) {
                cut = i + 1;
                at_cut = quotes;
            }
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return cut < 0 ? Py_BuildValue("(nn)", (Py_ssize_t)-1, quotes) : Py_BuildValue("(nn)", cut, at_cut);
}

static PyMethodDef methods[] = {
    {"last_boundary", last_boundary, METH_VARARGS, last_boundary_doc},
    {"copy_fields", copy_fields, METH_VARARGS, copy_fields_doc},
    {"read_records", read_records, METH_VARARGS, read_records_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native",
    "CSV blocks and pgvector text, read exactly or not at all (see csvio/native.py).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    NULL_FIELD = PyBytes_FromStringAndSize("\xff\xff\xff\xff", 4);
    if (!NULL_FIELD) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    /* the column kinds, for the check that csvio.native.ColumnKind keeps the same numbers */
    if (PyModule_AddIntConstant(m, "KIND_UUID", KIND_UUID) < 0 ||
        PyModule_AddIntConstant(m, "KIND_TIMESTAMP", KIND_TIMESTAMP) < 0 ||
        PyModule_AddIntConstant(m, "KIND_TIMESTAMPTZ", KIND_TIMESTAMPTZ) < 0 ||
        PyModule_AddIntConstant(m, "KIND_JSONB", KIND_JSONB) < 0 ||
        PyModule_AddIntConstant(m, "KIND_SKIP", KIND_SKIP) < 0 ||
        PyModule_AddIntConstant(m, "KIND_STR", KIND_STR) < 0 ||
        PyModule_AddIntConstant(m, "KIND_COPYTEXT", KIND_COPYTEXT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
