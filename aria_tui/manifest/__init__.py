"""The export manifest (`manifest.json`): what `aria-tui export` wrote, and proof a folder still holds it.

Seed 004's migration failed before any load began: pg_dump silently left out 13 of 19 tables and
nobody could say which files were whole. An export folder written by `aria-tui export` carries a
manifest listing every file with its sha256, byte size and the record count the *server* reported,
plus the source's column types and keys. `check.check_folder` compares a folder against it, so
scan can show a missing, truncated or foreign file as a blocking problem instead of loading it.

A folder without a manifest (a hand-made or pg-side export) is not an error: `check_folder`
returns None and everything works as before.

- `format`: the file itself (its values, reading, parsing, the atomic write).
- `check`: a folder compared with its manifest, file by file (ok, missing, changed, unlisted).
"""
