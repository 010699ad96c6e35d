/* read_records: a block to columns of values (cells.c), its vector columns parsed in the
 * same pass (vectors.c). */
#include "native.h"

const char read_records_doc[] = "read_records(data, ncols, crlf, kinds, want_lines) -> None | "
             "(rows, spans, columns, deferred, starts)\n\n"
             "Read a record-aligned CSV block as PostgreSQL's COPY (FORMAT csv) would, or return "
             "None when it cannot vouch for the block (read it the other way: that finds the "
             "problem and its line).\n"
             "kinds: one int per CSV column: -12 / -11 / -10 / -9 / -8 / -7 / -6 / -5 binary bool / "
             "float8 / int8 / int4 / int2 / uuid / timestamp / timestamptz fields "
             "(a value in another spelling declines the block), -4 binary COPY jsonb fields, "
             "-3 skip, -2 str values, "
             "-1 binary COPY text fields, "
             ">= 0 pgvector fields of that dimension (0: any).\n"
             "columns: per column, a list (None for skipped ones). deferred: per vector column, "
             "the (row, text) pairs the vector parser did not vouch for, else None.\n"
             "spans: physical lines of the block; starts: each record's first line (counted from "
             "the block's first), when want_lines, else None.";

PyObject *read_records(PyObject *self, PyObject *args) {
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
        if (kinds[j] < KIND_BOOL || kinds[j] > VECTOR_MAX_DIM) {
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
