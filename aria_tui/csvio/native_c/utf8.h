/* UTF-8 validation as PostgreSQL's encoding check does it, inline for the record scanner's
 * loop. */
#ifndef ARIA_UTF8_H
#define ARIA_UTF8_H

#include "native.h"

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

/* The bytes of the character at p that is none of the CSV's own: 1 for ASCII, its UTF-8
 * sequence's length, or 0 for what PostgreSQL refuses (NUL, invalid UTF-8). */
static inline int step(const unsigned char *data, Py_ssize_t p, Py_ssize_t n) {
    unsigned char c = data[p];
    if (c == 0) return 0;
    return c < 0x80 ? 1 : utf8_sequence(data + p, data + n);
}

#endif
