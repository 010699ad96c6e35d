/* The byte searches behind scan/losses.py's `ruled_out`, without the GIL.
 *
 * The Python regular expressions they replace hold the GIL for about a millisecond per
 * megabyte; the scan's threads then wait on them instead of reading the other files. Each
 * function matches exactly what its expression (losses.Hint.patterns) matches in data[0:len]:
 *
 * finer_fraction: a '.' followed by a run of digits and underscores in which a digit after the
 *   first `digits` digits is not '0', right after ':' and two digits when `clock` (seconds or
 *   decimal places finer than a column keeps; PostgreSQL 16+ reads `1.00_5` as 1.005).
 * number_with_exponent: a number written with an exponent (`1.5e-7`, `-2E3`, `.5e1`) standing
 *   alone between field edges: after a comma, a quote, white space or the start of the data,
 *   an optional sign, digits, points and underscores (one digit at least), then e or E, an
 *   optional sign, a digit, digits and underscores, and then a comma, a quote, white space or
 *   the end of the data. A uuid or a hex hash that starts like one (`3e4a...`) goes on with
 *   other characters, so files of them are still ruled out.
 */
#include "native.h"

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* the run of digits and underscores at p: a digit after its first `digits` digits not '0'? */
static int finer_run(const unsigned char *p, const unsigned char *end, Py_ssize_t digits) {
    for (Py_ssize_t k = 0; p < end && (is_digit(*p) || *p == '_'); p++) {
        if (*p == '_') continue;
        if (k >= digits && *p != '0') return 1;
        k++;
    }
    return 0;
}

static int search_fraction(const unsigned char *data, Py_ssize_t n, int clock, Py_ssize_t digits) {
    const unsigned char *p = data, *end = data + n;
    unsigned char lead = clock ? ':' : '.';
    while (p < end) {
        const unsigned char *hit = memchr(p, lead, (size_t)(end - p));
        if (hit == NULL) return 0;
        if (!clock) {
            if (finer_run(hit + 1, end, digits)) return 1;
        } else if (end - hit > 4 && is_digit(hit[1]) && is_digit(hit[2]) && hit[3] == '.') {
            if (finer_run(hit + 4, end, digits)) return 1;
        }
        p = hit + 1;
    }
    return 0;
}

/* what Python's bytes `\s` and the other field edges of the expression are */
static int field_edge(unsigned char c) {
    return c == ',' || c == '"' || c == ' ' || (c >= '\t' && c <= '\r');
}

static int mantissa_char(unsigned char c) { return is_digit(c) || c == '.' || c == '_'; }

static int search_exponent(const unsigned char *data, Py_ssize_t n) {
    for (Py_ssize_t j = 1; j < n; j++) {
        if ((data[j] | 0x20) != 'e') continue;
        Py_ssize_t r = j + 1;
        if (r < n && (data[r] == '+' || data[r] == '-')) r++;
        if (r >= n || !is_digit(data[r])) continue;
        while (r < n && (is_digit(data[r]) || data[r] == '_')) r++;
        if (r < n && !field_edge(data[r])) continue;  /* the field's end: the same characters */
        Py_ssize_t p = j, seen = 0;
        while (p > 0 && mantissa_char(data[p - 1])) {
            p--;
            seen += is_digit(data[p]);
        }
        if (!seen) continue;
        if (p > 0 && (data[p - 1] == '+' || data[p - 1] == '-')) p--;
        if (p == 0 || field_edge(data[p - 1])) return 1;
    }
    return 0;
}

const char finer_fraction_doc[] =
    "finer_fraction(data, clock, digits) -> bool\n\n"
    "Whether `data` holds a '.' followed by digits (and underscores) of which one after the "
    "first `digits` is not '0', preceded by ':' and two digits when `clock`: scan/losses.py's "
    "Hint pattern, without the GIL.";

PyObject *finer_fraction(PyObject *self, PyObject *args) {
    Py_buffer view;
    int clock;
    Py_ssize_t digits;
    if (!PyArg_ParseTuple(args, "y*pn", &view, &clock, &digits)) return NULL;
    int found;
    Py_BEGIN_ALLOW_THREADS
    found = search_fraction(view.buf, view.len, clock, digits < 0 ? 0 : digits);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyBool_FromLong(found);
}

const char number_with_exponent_doc[] =
    "number_with_exponent(data) -> bool\n\n"
    "Whether a field of `data` starts with a number written with an exponent (see hints.c): "
    "scan/losses.py's exponent pattern, without the GIL.";

PyObject *number_with_exponent(PyObject *self, PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    int found;
    Py_BEGIN_ALLOW_THREADS
    found = search_exponent(view.buf, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyBool_FromLong(found);
}
