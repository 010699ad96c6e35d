/* pgvector texts to binary COPY fields, many at once, without the GIL (see decimal.c for
 * the elements). */
#include "native.h"

/* ---------------------------------------------------------------------------------------- */
/* Vector fields: many texts at once, parsed without the GIL.                                */

static Py_ssize_t commas_plus_one(const char *text, Py_ssize_t len) {
    Py_ssize_t want = 1;
    for (const char *c = text; (c = memchr(c, ',', (size_t)(text + len - c))); c++) want++;
    return want;
}

/* Fills cells[i].field (a new reference, or NULL when deferred / NULL value) and .count.
 * Called with the GIL; releases it while parsing. Returns -1 with an exception set. */
int parse_cells(VecCell *cells, Py_ssize_t n, Py_ssize_t dim) {
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
PyObject *fields_and_deferred(VecCell *cells, Py_ssize_t n) {
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

void clear_cells(VecCell *cells, Py_ssize_t n) {
    if (cells)
        for (Py_ssize_t i = 0; i < n; i++) Py_CLEAR(cells[i].field);
}

const char copy_fields_doc[] = "copy_fields(values, dim) -> (fields, deferred)\n\n"
             "values: a list of str / bytes / None (pgvector text). dim: the expected dimension, "
             "0 for any.\nfields: one binary COPY field per value (length prefix included); "
             "the NULL field for None and for deferred rows.\ndeferred: the indexes of the rows "
             "this parser does not vouch for (to be read by the exact tiers).";

PyObject *copy_fields(PyObject *self, PyObject *args) {
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
