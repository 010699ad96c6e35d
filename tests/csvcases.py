"""Small CSV files and what PostgreSQL's COPY ... (FORMAT csv, HEADER true) makes of them (a module
of cases, not tests): csvio must read the GOOD ones to the same rows and name the first problem of
the BAD ones (unit/test_csvio_records.py); db/test_csvio_postgres.py re-checks them against the
live server."""

from __future__ import annotations

from aria_tui.csvio import CsvProblem

GOOD = {
    # name: (bytes, rows, start lines)
    "null_vs_empty": (b'a,b\n,""\n"",\n', [(None, ""), ("", None)], [2, 3]),
    "multiline_quotes_commas": (
        b'id,body\n1,"line one, with ""quotes""\nline two,\n\nend"\n2,plain\n',
        [("1", 'line one, with "quotes"\nline two,\n\nend'), ("2", "plain")],
        [2, 6],
    ),
    "crlf": (b"a,b\r\n1,2\r\n3,\r\n", [("1", "2"), ("3", None)], [2, 3]),
    "crlf_inside_quotes": (b'a,b\r\n"x\r\ny",2\r\n5,6\r\n', [("x\r\ny", "2"), ("5", "6")], [2, 4]),
    "bom": (b"\xef\xbb\xbfa,b\n1,2\n", [("1", "2")], [2]),
    "no_final_newline": (b"a,b\n1,2\n3,4", [("1", "2"), ("3", "4")], [2, 3]),
    "header_only": (b"a,b\n", [], []),
    "header_only_no_newline": (b"a,b", [], []),
    # one column: an empty line is a NULL row, not a blank line to skip
    "one_column_nulls": (b"a\n1\n\n3\n\n", [("1",), (None,), ("3",), (None,)], [2, 3, 4, 5]),
    "doubled_quotes_only": (b'a,b\n"""",""""""\n', [('"', '""')], [2]),
    "backslash_n_is_text": (b"a,b\n\\N,x\n", [("\\N", "x")], [2]),
    "multiline_header": (
        b'"a\nb",c\n1,2\n"3\n\n",4\n5,6\n',
        [("1", "2"), ("3\n\n", "4"), ("5", "6")],
        [3, 4, 7],
    ),
    "unicode": ('a,b\n"é,ñ","日本\n語"\n'.encode(), [("é,ñ", "日本\n語")], [2]),
    # written by something other than COPY: quote-everything style
    "quote_all": (b'"a","b"\n"1","2"\n"",""\n', [("1", "2"), ("", "")], [2, 3]),
    # PostgreSQL opens a quoted part wherever a quote stands; polars would keep these literally
    "quote_mid_field": (
        b'a,b\nsay "hi",x\nab"c,d"e,f\n',
        [("say hi", "x"), ("abc,de", "f")],
        [2, 3],
    ),
    "quote_mid_field_newline": (b'a,b\nab"c\nd"e,f\n1,2\n', [("abc\nde", "f"), ("1", "2")], [2, 4]),
    "spaces_kept": (b'a,b\n 1 , "2" \n', [(" 1 ", " 2 ")], [2]),
    # a value that starts with U+FEFF: polars strips it at the start of its input, PostgreSQL keeps it
    "bom_in_first_value": (b"a,b\n\xef\xbb\xbfx,y\n", [("\ufeffx", "y")], [2]),
    "lone_cr_inside_quotes": (b'a,b\n"x\ry",z\n', [("x\ry", "z")], [2]),
    # needless quotes next to a mid-field quote: the byte and quote counts balance exactly,
    # only the count of doubled quotes tells polars' reading ('x"y"z') from PostgreSQL's
    "needless_quotes_and_mid_field_quote": (b'a,b,c\n"a","a",x"y"z\n', [("a", "a", "xyz")], [2]),
    # old Mac line endings: PostgreSQL takes them from the first line
    "cr_only": (b'a,b\r1,2\r3,"x\ry"\r', [("1", "2"), ("3", "x\ry")], [2, 3]),
}


BAD = {
    "unterminated_quote_at_eof": (
        b'a,b\n1,2\n3,"never closed\nmore\n',
        CsvProblem("t.csv", 3, "b", "unterminated quoted field (its closing quote is missing)"),
    ),
    "too_many_fields": (
        b"a,b\n1,2\n1,2,3\n",
        CsvProblem("t.csv", 3, None, "row has 3 fields, header has 2"),
    ),
    "too_few_fields_after_multiline": (
        b'a,b,c\n1,2,3\n"x\ny\nz",2,3\n4,5\n',
        CsvProblem("t.csv", 6, "c", "row has 2 fields, header has 3"),
    ),
    "empty_line_multi_column": (
        b"a,b\n1,2\n\n3,4\n",
        CsvProblem("t.csv", 3, "b", "empty line (row has 1 field, header has 2)"),
    ),
    "trailing_empty_line": (
        b"a,b\n1,2\n\n",
        CsvProblem("t.csv", 3, "b", "empty line (row has 1 field, header has 2)"),
    ),
    "invalid_utf8": (
        b'a,b\n1,"multi\nline"\n2,ok\xff\n',
        CsvProblem("t.csv", 4, "b", "invalid UTF-8 byte 0xff"),
    ),
    "invalid_utf8_inside_multiline": (
        b'a,b\n1,"multi\nli\xe6\x97ne"\n',
        CsvProblem("t.csv", 3, "b", "invalid UTF-8 byte 0xe6"),
    ),
    "nul_byte": (
        b"a,b\n1,x\x00y\n",
        CsvProblem("t.csv", 2, "b", "NUL byte (0x00), which PostgreSQL text cannot hold"),
    ),
    "stray_cr": (
        b"a,b\n1,2\r\n",
        CsvProblem(
            "t.csv",
            2,
            "b",
            "unquoted carriage return in data (a \\r inside a value must be quoted)",
        ),
    ),
    "mixed_line_endings": (
        b"a,b\r\n1,2\n3,4\r\n",
        CsvProblem(
            "t.csv",
            2,
            "b",
            "unquoted newline in data (the header line ends with \\r\\n, so every line must)",
        ),
    ),
    # a needless quote pair balances the quotes an unquoted \r-holding value lacks: only the
    # lone \r gives it away
    "lone_cr_unquoted_behind_needless_quotes": (
        b'a\r\n"x"\r\nz\rw\r\n',
        CsvProblem(
            "t.csv",
            3,
            "a",
            "unquoted carriage return in data (a \\r inside a value must be quoted)",
        ),
    ),
    # polars drops the \r before \n (one byte short) and pads the short row (one byte long):
    # the size balances, the count of \r does not
    "cr_dropped_and_short_row": (
        b"a,b\n1,z\r\n2\n",
        CsvProblem(
            "t.csv",
            2,
            "b",
            "unquoted carriage return in data (a \\r inside a value must be quoted)",
        ),
    ),
    "first_problem_wins": (
        b"a,b\n1\n\xff,2,3\n",
        CsvProblem("t.csv", 2, "b", "row has 1 field, header has 2"),
    ),
}
