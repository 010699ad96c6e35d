#include "native.h"
#include "utf8.h"

/* ---------------------------------------------------------------------------------------- */
/* CSV records, PostgreSQL's way (copyfromparse.c, FORMAT csv, delimiter ',', quote and escape
 * '"'), for blocks that start on a record boundary (csvio's block cutter). The same rules as
 * csvio/exact.py, the reference: a quote toggles "inside quotes" wherever it stands, a
 * doubled quote inside quotes is one quote, an unquoted empty field is NULL, a record ends at
 * the file's line terminator outside quotes. It only reads what it can read without doubt:
 * anything PostgreSQL would refuse (a NUL byte, invalid UTF-8, an unquoted carriage return or
 * terminator of the other style, a wrong number of fields, an open quote at the end) makes it
 * return None, and the caller reads the block the other way, which finds the line and the
 * reason. */

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

/* Scan the block. Returns 1 and fills rec, or 0 when the block is not one to vouch for. */
int scan_records(const unsigned char *data, Py_ssize_t n, Py_ssize_t ncols, int crlf,
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
#ifdef HAVE_SSE2_SKIP
                for (int k; n - p >= 16; p += 16)
                    if ((k = first_of16(data + p, '"', '\n', '"', '"', 1)) < 16) {
                        p += k;
                        break;
                    }
#endif
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
#ifdef HAVE_SSE2_SKIP
            for (int k; n - p >= 16; p += 16)
                if ((k = first_of16(data + p, '"', '\n', ',', '\r', 1)) < 16) {
                    p += k;
                    break;
                }
#endif
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
