/*
 * csvio's C extension, _native: the vector load's hot path. CSV blocks read as PostgreSQL's
 * COPY reads them, and pgvector text ('[0.1,-2e-05,3]') turned into binary COPY fields, both
 * exactly or not at all (the caller then reads the other way, which names the problem).
 * csvio/native.py is its Python side; native.h lists the files, one per job.
 */
#include "native.h"

PyObject *NULL_FIELD;

static PyMethodDef methods[] = {
    {"last_boundary", last_boundary, METH_VARARGS, last_boundary_doc},
    {"count_records", count_records, METH_VARARGS, count_records_doc},
    {"finer_fraction", finer_fraction, METH_VARARGS, finer_fraction_doc},
    {"number_with_exponent", number_with_exponent, METH_VARARGS, number_with_exponent_doc},
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
    if (PyModule_AddIntConstant(m, "KIND_BOOL", KIND_BOOL) < 0 ||
        PyModule_AddIntConstant(m, "KIND_FLOAT8", KIND_FLOAT8) < 0 ||
        PyModule_AddIntConstant(m, "KIND_INT8", KIND_INT8) < 0 ||
        PyModule_AddIntConstant(m, "KIND_INT4", KIND_INT4) < 0 ||
        PyModule_AddIntConstant(m, "KIND_INT2", KIND_INT2) < 0 ||
        PyModule_AddIntConstant(m, "KIND_UUID", KIND_UUID) < 0 ||
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
