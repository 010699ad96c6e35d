/* Where a block may end: the last record boundary of a chunk (quote parity). */
#include "native.h"

/* The offset of the first 8-byte word at or after `i` holding a quote or the terminator (16
 * bytes at a time where SSE2 is there): both scans below look at nothing else. */
static inline Py_ssize_t skip_plain(const unsigned char *data, Py_ssize_t i, Py_ssize_t n, int term) {
#ifdef HAVE_SSE2_SKIP
    while (n - i >= 16 && first_of16(data + i, '"', (char)term, '"', '"', 0) == 16) i += 16;
#endif
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);
        if (bytes_equal(w, '"') | bytes_equal(w, (unsigned char)term)) break;
        i += 8;
    }
    return i;
}

const char last_boundary_doc[] = "last_boundary(chunk, term, parity) -> (cut, quotes)\n\n"
             "csvio.cutter.last_boundary without the GIL: the offset just past the last line "
             "terminator byte `term` preceded by an even number of quotes (counting `parity` "
             "quotes before the chunk) and the quotes before it, or (-1, quotes in chunk).";

PyObject *last_boundary(PyObject *self, PyObject *args) {
    Py_buffer view;
    int term, parity;
    if (!PyArg_ParseTuple(args, "y*ii", &view, &term, &parity)) return NULL;
    const unsigned char *data = view.buf;
    Py_ssize_t n = view.len, cut = -1, quotes = 0, at_cut = 0;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t i = 0;
    while (i < n) {
        i = skip_plain(data, i, n, term);
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

const char count_records_doc[] = "count_records(block, term) -> (records, lines)\n\n"
             "csvio.cutter.count_records without the GIL: the records of a block that starts on "
             "a record boundary (line terminators `term` preceded by an even number of quotes, "
             "plus an unterminated last one) and its physical lines (every `term`).";

PyObject *count_records(PyObject *self, PyObject *args) {
    Py_buffer view;
    int term;
    if (!PyArg_ParseTuple(args, "y*i", &view, &term)) return NULL;
    const unsigned char *data = view.buf;
    Py_ssize_t n = view.len, records = 0, lines = 0, quotes = 0;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t i = 0;
    while (i < n) {
        i = skip_plain(data, i, n, term);
        Py_ssize_t stop = n - i >= 8 ? i + 8 : n;
        for (; i < stop; i++) {
            if (data[i] == '"')
                quotes++;
            else if (data[i] == term) {
                lines++;
                if ((quotes & 1) == 0) records++;
            }
        }
    }
    if (n > 0 && data[n - 1] != term) records++;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return Py_BuildValue("(nn)", records, lines);
}
