/* What the files of csvio's C extension share (one extension, _native, built from all of
 * them by setup.py): the column kinds, the cells of a scanned block, a vector cell, the NULL
 * field, byte helpers, and each file's entry points. One file per job:
 *
 *   module.c      the module: its functions, its constants, the NULL field
 *   records.c     record scanning: a block's records and cells, PostgreSQL's CSV rules
 *   utf8.h        UTF-8 validation, inlined into the scanner's loop
 *   cells.c       cells to values: str, binary text / jsonb, uuid, timestamp(tz), integers,
 *                 float8, bool
 *   read.c        read_records: a block to columns of values, the vector columns parsed
 *   vectors.c     copy_fields: pgvector texts to binary COPY fields, without the GIL
 *   decimal.c     decimal text to float32, exactly or not at all (parse_row)
 *   boundaries.c  last_boundary: where a block may end; count_records: its records and lines
 *   hints.c       finer_fraction, number_with_exponent: the silent-loss byte searches of
 *                 scan/losses.py
 */
#ifndef ARIA_NATIVE_H
#define ARIA_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define VECTOR_MAX_DIM 16000

/* csvio.native.ColumnKind, same numbers; >= 0: a vector of that dim (0: any) */
enum {
    KIND_BOOL = -12,
    KIND_FLOAT8 = -11,
    KIND_INT8 = -10,
    KIND_INT4 = -9,
    KIND_INT2 = -8,
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

typedef struct {
    const char *text; /* NULL: a NULL value */
    Py_ssize_t len;   /* -1: deferred without looking (the caller knows it cannot be read) */
    const char *limit; /* end of the memory the text lies in (see parse_row) */
    PyObject *field;  /* the binary COPY field being filled */
    Py_ssize_t count; /* elements parsed, -1 deferred */
} VecCell;

/* the binary COPY field of a NULL (length -1), made once by module.c */
extern PyObject *NULL_FIELD;

static inline void put_be32(char *out, uint32_t v) {
    out[0] = (char)(v >> 24);
    out[1] = (char)(v >> 16);
    out[2] = (char)(v >> 8);
    out[3] = (char)v;
}

/* eight bytes at a time: which bytes of v are zero, or equal to b (their high bits set) */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
static inline uint64_t zero_bytes(uint64_t v) { return (v - ONES) & ~v & HIGHS; }
static inline uint64_t bytes_equal(uint64_t v, unsigned char b) { return zero_bytes(v ^ (ONES * b)); }

/* Sixteen bytes at once where every x86-64 has it (SSE2): the index of the first byte at p
 * that is a, b, c or d, or NUL or non-ASCII when `strict`, or 16 when none is (then p + 16 is
 * where to look next). The 8-byte words above stay for the tails and other machines. */
#if defined(__SSE2__)
#include <emmintrin.h>
#define HAVE_SSE2_SKIP 1
static inline int first_of16(const unsigned char *p, char a, char b, char c, char d, int strict) {
    const __m128i v = _mm_loadu_si128((const __m128i *)p);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(a)), _mm_cmpeq_epi8(v, _mm_set1_epi8(b))),
                               _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)), _mm_cmpeq_epi8(v, _mm_set1_epi8(d))));
    if (strict) hit = _mm_or_si128(hit, _mm_or_si128(v, _mm_cmpeq_epi8(v, _mm_setzero_si128())));
    const unsigned m = (unsigned)_mm_movemask_epi8(hit);
    return m ? __builtin_ctz(m) : 16;
}
#endif

/* records.c */
int scan_records(const unsigned char *data, Py_ssize_t n, Py_ssize_t ncols, int crlf,
                 int want_lines, Records *rec, Py_ssize_t *spans);

/* cells.c */
const unsigned char *plain_quoted(const unsigned char *data, const Cell *c, Py_ssize_t *len);
PyObject *cell_str(const unsigned char *data, const Cell *c);
PyObject *cell_copytext(const unsigned char *data, const Cell *c, int jsonb);
PyObject *cell_fixed(const unsigned char *data, const Cell *c, Py_ssize_t kind, int *declined);

/* decimal.c */
Py_ssize_t parse_row(const char *p, Py_ssize_t n, Py_ssize_t dim, char *out, const char *limit);

/* vectors.c */
int parse_cells(VecCell *cells, Py_ssize_t n, Py_ssize_t dim);
PyObject *fields_and_deferred(VecCell *cells, Py_ssize_t n);
void clear_cells(VecCell *cells, Py_ssize_t n);
PyObject *copy_fields(PyObject *self, PyObject *args);
extern const char copy_fields_doc[];

/* read.c */
PyObject *read_records(PyObject *self, PyObject *args);
extern const char read_records_doc[];

/* boundaries.c */
PyObject *last_boundary(PyObject *self, PyObject *args);
extern const char last_boundary_doc[];
PyObject *count_records(PyObject *self, PyObject *args);
extern const char count_records_doc[];
PyObject *finer_fraction(PyObject *self, PyObject *args);
extern const char finer_fraction_doc[];
PyObject *number_with_exponent(PyObject *self, PyObject *args);
extern const char number_with_exponent_doc[];

#endif
