/* A scanned cell's value, PostgreSQL's way, in the form a column kind asks for. */
#include "native.h"

#include <errno.h>
#include <stdlib.h>

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
const unsigned char *plain_quoted(const unsigned char *data, const Cell *c, Py_ssize_t *len) {
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
PyObject *cell_str(const unsigned char *data, const Cell *c) {
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
PyObject *cell_copytext(const unsigned char *data, const Cell *c, int jsonb) {
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
 * A subset of what the polars encoders of load/encoders.py accept (anything else declines the
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

/* An integer in the spelling every reader agrees on: an optional sign and 1 to 19 digits (no
 * blank, no underscore, no 0x: PostgreSQL 16 reads those, the polars encoder does not, so the
 * block goes the other way and the server reads them), within the column's range. */
static int parse_int(const unsigned char *v, Py_ssize_t len, int64_t hi, int64_t *out) {
    Py_ssize_t p = 0;
    int negative = 0;
    if (len && (v[0] == '-' || v[0] == '+')) {
        negative = v[0] == '-';
        p = 1;
    }
    if (p == len || len - p > 19) return 0;
    uint64_t n = 0;
    for (; p < len; p++) {
        unsigned d = (unsigned)(v[p] - '0');
        if (d > 9) return 0;
        n = n * 10 + d; /* 19 digits fit in 64 bits unsigned */
    }
    if (n > (uint64_t)hi + negative) return 0; /* the range is [-hi - 1, hi] */
    *out = negative ? (int64_t)(0 - n) : (int64_t)n;
    return 1;
}

/* A float8 as float8in reads it: decimal spellings only (digits, a point, an exponent; no
 * blank, no hex float, which strtod would take) read by strtod, PostgreSQL's own reader, and
 * its out-of-range rule (ERANGE with a zero or infinite result is an error there: declined
 * here), plus the three special values as PostgreSQL writes them. */
static int parse_float8(const unsigned char *v, Py_ssize_t len, double *out) {
    if (len == 3 && memcmp(v, "NaN", 3) == 0) {
        *out = NAN;
        return 1;
    }
    if (len == 8 && memcmp(v, "Infinity", 8) == 0) {
        *out = INFINITY;
        return 1;
    }
    if (len == 9 && memcmp(v, "-Infinity", 9) == 0) {
        *out = -INFINITY;
        return 1;
    }
    char buf[64];
    if (len == 0 || len >= (Py_ssize_t)sizeof buf) return 0;
    Py_ssize_t p = 0, digits = 0;
    if (v[p] == '-' || v[p] == '+') p++;
    for (; p < len && (unsigned)(v[p] - '0') <= 9; p++) digits++;
    if (p < len && v[p] == '.')
        for (p++; p < len && (unsigned)(v[p] - '0') <= 9; p++) digits++;
    if (digits == 0) return 0;
    if (p < len && (v[p] == 'e' || v[p] == 'E')) {
        p++;
        if (p < len && (v[p] == '-' || v[p] == '+')) p++;
        Py_ssize_t e = 0;
        for (; p < len && (unsigned)(v[p] - '0') <= 9; p++) e++;
        if (e == 0) return 0;
    }
    if (p != len) return 0;
    memcpy(buf, v, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (end != buf + len) return 0;
    if (errno == ERANGE && (d == 0.0 || isinf(d))) return 0;
    *out = d;
    return 1;
}

/* t, true, f, false in any case: what boolin and the polars encoder both read. */
static int parse_bool(const unsigned char *v, Py_ssize_t len, int *out) {
    char low[5];
    if (len != 1 && len != 4 && len != 5) return 0;
    for (Py_ssize_t i = 0; i < len; i++) low[i] = (char)(v[i] | 0x20);
    if ((len == 1 && low[0] == 't') || (len == 4 && memcmp(low, "true", 4) == 0)) {
        *out = 1;
        return 1;
    }
    if ((len == 1 && low[0] == 'f') || (len == 5 && memcmp(low, "false", 5) == 0)) {
        *out = 0;
        return 1;
    }
    return 0;
}

static void put_be64(char *out, uint64_t v) {
    put_be32(out, (uint32_t)(v >> 32));
    put_be32(out + 4, (uint32_t)v);
}

/* A cell as a binary bool / float8 / integer / uuid / timestamp field; NULL with *declined set
 * when it cannot be. */
PyObject *cell_fixed(const unsigned char *data, const Cell *c, Py_ssize_t kind, int *declined) {
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
    if (kind == KIND_INT2 || kind == KIND_INT4 || kind == KIND_INT8) {
        int size = kind == KIND_INT2 ? 2 : kind == KIND_INT4 ? 4 : 8;
        int64_t hi = kind == KIND_INT2 ? INT16_MAX : kind == KIND_INT4 ? INT32_MAX : INT64_MAX;
        int64_t n;
        if (!parse_int(v, len, hi, &n)) {
            *declined = 1;
            return NULL;
        }
        put_be32((char *)buf, (uint32_t)size);
        put_be64((char *)buf + 4, (uint64_t)n);
        /* the value's low `size` bytes, big-endian, are the last `size` of the eight */
        if (size < 8) memmove(buf + 4, buf + 12 - size, size);
        return PyBytes_FromStringAndSize((const char *)buf, 4 + size);
    }
    if (kind == KIND_FLOAT8) {
        double d;
        uint64_t bits;
        if (!parse_float8(v, len, &d)) {
            *declined = 1;
            return NULL;
        }
        memcpy(&bits, &d, 8);
        put_be32((char *)buf, 8);
        put_be64((char *)buf + 4, bits);
        return PyBytes_FromStringAndSize((const char *)buf, 12);
    }
    if (kind == KIND_BOOL) {
        int b;
        if (!parse_bool(v, len, &b)) {
            *declined = 1;
            return NULL;
        }
        put_be32((char *)buf, 1);
        buf[4] = (unsigned char)b;
        return PyBytes_FromStringAndSize((const char *)buf, 5);
    }
    int64_t t;
    if (!parse_timestamp(v, len, kind == KIND_TIMESTAMPTZ, &t)) {
        *declined = 1;
        return NULL;
    }
    put_be32((char *)buf, 8);
    put_be64((char *)buf + 4, (uint64_t)t);
    return PyBytes_FromStringAndSize((const char *)buf, 12);
}
