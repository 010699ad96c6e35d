"""The export file as the server sees it: a staging copy, its values cast through the target's own
types.

Validation must not trust aria-tui's own CSV reader or the loader, so the file goes to the server
byte for byte (COPY ... FORMAT csv, as `psql \\copy` would read it) and every comparison afterwards
happens in SQL. Temporary tables per file:

- `_aria_typed` (one column per CSV column, of the target column's type; vectors stay text, see
  `Layout.text_vectors`) or, when some value does not fit its type, `_aria_raw` (all text), each
  with `_aria_rec`, the record number in the file;
- `_aria_cast`: per record `_aria_rec`, `_aria_reason` (why the record cannot be loaded, NULL when
  it can), the typed values of the key, unique-key and foreign-key columns under their target
  names, and `_aria_h`, an md5 over the binary form (`record_send`) of the loaded columns. Binary,
  so timestamps compare as instants whatever the session's TimeZone, JSON as jsonb normalises it,
  numbers by value;
- `_aria_missing` (checks/absent.py): loadable records whose key the target lacks, and why.

layout.py lines a file up with its table and names these tables; server_copy.py stages a file
(`stage()`), by_record.py the files whose structure the server's COPY refuses; cast_sql.py builds
`_aria_cast` and the checksums, key_sql.py the key-matching fragments the checks share.
"""
