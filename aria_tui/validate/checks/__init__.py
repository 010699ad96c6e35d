"""The questions asked of a loaded table, one module per check; each runs in the server and
returns a Check. measure.py compares the staged file with the target once per table (pairing.py
by key or as a multiset, absent.py for why a record is absent); the checks build their sentences
from that measurement (Staged).

They work from the export file's staged copy (`_aria_cast`, see the staging package) and the
live target only; the load journal, when there is one, adds cross-checks and decides nothing
else, so a load done by other means (`psql \\copy`) is verified the same way.

The rule (issue 14): the export is the truth. Every record of the file must be in the target with
equal content; a record that cannot be loaded is export data the target lacks (the table is
`incomplete`, never green); a record is excused as an orphan only when its parent is absent from
the export itself (the parent's own file), never because the target lacks the parent; and when the
table held nothing before the load (or the operator says `--exact`) the target must hold nothing
else.
"""
