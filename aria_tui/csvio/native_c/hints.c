/* finer_fraction: the byte search behind scan/losses.py's `ruled_out`, without the GIL.
 *
 * The Python regular expression it replaces (`:[0-9]{2}\.[0-9]{N}[0-9]*[1-9]`, or without the
 * `:[0-9]{2}` for a numeric scale) holds the GIL for about a millisecond per megabyte; the
 * scan's threads then wait on it instead of reading the other files. Same matches: a '.'
 * followed by a run of digits in which a digit after the first N is not '0', right after a
 * ':' and two digits when `clock` is set.
 */
#include "native.h"

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* the digit run at p: does a digit after its first `digits` differ from '0'? */
static int finer_run(const unsigned char *p, const unsigned char *end, Py_ssize_t digits) {
    for (Py_ssize_t k = 0; p < end && is_digit(*p); p++, k++)
        if (k >= digits && *p != '0') return 1;
    return 0;
}

static int search(const unsigned char *data, Py_ssize_t n, int clock, Py_ssize_t digits) {
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

const char finer_fraction_doc[] =
    "finer_fraction(data, clock, digits) -> bool\n\n"
    "Whether `data` holds a '.' followed by digits of which one after the first `digits` is not "
    "'0' (preceded by ':' and two digits when `clock`): the regular expression "
    "`:[0-9]{2}\\.[0-9]{digits}[0-9]*[1-9]` (or `\\.[0-9]{digits}[0-9]*[1-9]`), without the GIL.";

PyObject *finer_fraction(PyObject *self, PyObject *args) {
    Py_buffer view;
    int clock;
    Py_ssize_t digits;
    if (!PyArg_ParseTuple(args, "y*pn", &view, &clock, &digits)) return NULL;
    int found;
    Py_BEGIN_ALLOW_THREADS
    found = search(view.buf, view.len, clock, digits < 0 ? 0 : digits);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyBool_FromLong(found);
}
