"""The sample generator without a database: PostgreSQL text formats, determinism, the committed
sample_export/, full-scale row counts, flat memory, and the `sample` command."""

from __future__ import annotations

import argparse
import csv
import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aria_tui import profiles
from aria_tui.cli import sample_cmd
from aria_tui.errors import AriaError
from aria_tui.sample import plan, write_sample, write_table
from aria_tui.sample.pgtext import csv_field, csv_line, float8, jsonb, numeric, timestamptz
from aria_tui.sample.spec import Ctx

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_EXPORT = ROOT / "sample_export"


def run_sample(*argv: str) -> tuple[int, str]:
    """The `sample` subcommand as `aria-tui sample ...` runs it: exit code and the error sentence."""
    parser = argparse.ArgumentParser(prog="aria-tui sample")
    sample_cmd.configure(parser)
    try:
        return sample_cmd.run(parser.parse_args([str(a) for a in argv])), ""
    except AriaError as exc:
        return exc.exit_code, str(exc)


def csv_records(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


# --- PostgreSQL text formats ------------------------------------------------------------------


def test_csv_fields_are_quoted_only_where_postgres_quotes_them():
    assert csv_field(None) == ""
    assert csv_field("") == '""'  # empty string, not NULL
    assert csv_field("plain text") == "plain text"
    assert csv_field(" leading space") == " leading space"
    assert csv_field('say "hi"') == '"say ""hi"""'
    assert csv_field("a,b") == '"a,b"'
    assert csv_field("line\nbreak") == '"line\nbreak"'
    assert csv_field("cr\r\nlf") == '"cr\r\nlf"'
    assert csv_field("日本語 ☕") == "日本語 ☕"
    assert csv_field(True) == "t" and csv_field(False) == "f"
    assert csv_field(42) == "42"
    assert csv_line(["a", None, "", 1.5]) == 'a,,"",1.5\n'


def test_values_print_like_postgres():
    when = datetime(2026, 2, 21, 14, 3, 7, 123400, tzinfo=UTC)
    assert timestamptz(when) == "2026-02-21 14:03:07.1234+00"
    assert timestamptz(when.replace(microsecond=0)) == "2026-02-21 14:03:07+00"
    assert float8(100.0) == "100" and float8(0.25) == "0.25"
    assert numeric(1.5, 6) == "1.500000"
    # jsonb: keys shorter-first then bytewise, ", " and ": " separators, non-ASCII unescaped
    assert (
        jsonb({"vibe": 1, "creator": "é", "name": [1, 2]})
        == '{"name": [1, 2], "vibe": 1, "creator": "é"}'
    )
    assert jsonb({"q": 'say "hi"\n'}) == '{"q": "say \\"hi\\"\\n"}'


# --- determinism, the committed folder --------------------------------------------------------


@pytest.fixture(scope="module")
def small_aria(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "aria"
    write_sample(out)
    return out


def test_committed_sample_export_is_exactly_the_generator_output(small_aria):
    expected = sorted(p.name for p in small_aria.iterdir())
    committed = sorted(p.name for p in SAMPLE_EXPORT.glob("*.csv"))
    assert committed == expected, "regenerate with: aria-tui sample sample_export --force"
    assert len(committed) == 88
    different = [
        n for n in expected if (SAMPLE_EXPORT / n).read_bytes() != (small_aria / n).read_bytes()
    ]
    assert not different, f"sample_export/ is stale for {different[:5]}; regenerate it"
    total = sum((SAMPLE_EXPORT / n).stat().st_size for n in committed)
    assert total <= 5 * 1024 * 1024


def test_sample_export_covers_the_catalog_and_has_768d_embeddings():
    catalog = profiles.load("aria_v4")
    assert {f"{t.file}.csv" for t in catalog.tables} == {
        p.name for p in SAMPLE_EXPORT.glob("*.csv")
    }
    records = csv_records(SAMPLE_EXPORT / "semantic_memories.csv")
    header, rows = records[0], records[1:]
    col = header.index("embedding")
    assert len(rows) >= 60
    assert all(len(json.loads(r[col])) == 768 for r in rows)
    for entry in catalog.tables:
        records = csv_records(SAMPLE_EXPORT / f"{entry.file}.csv")
        # every table with rows in the real export keeps some in the sample
        assert (len(records) > 1) == bool(entry.rows_full), entry.file
        # files without a v4 table (LiteLLM, legacy) carry the catalog's header
        if not entry.target:
            assert tuple(records[0]) == entry.columns, entry.file


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    rows = {"archon_crawled_pages": 50, "archon_page_metadata": 5, "archon_code_examples": 10}
    write_sample(tmp_path / "a", "archon", seed=7, rows=rows)
    write_sample(tmp_path / "b", "archon", seed=7, rows=rows)
    write_sample(tmp_path / "c", "archon", seed=8, rows=rows)
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name
    name = "archon_crawled_pages.csv"
    assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()


def test_hard_content_is_present(small_aria):
    """What breaks loaders must be in the sample, or the sample proves nothing."""
    raw = {p.stem: p.read_bytes().decode("utf-8") for p in small_aria.iterdir()}
    thoughts = raw["thoughts"]
    assert '""' in thoughts and "\n\n" in thoughts
    assert "日本語" in raw["session_messages"] and "☕" in thoughts
    assert "\r\n" in raw["session_messages"]  # a CRLF pasted inside a message
    assert ',"",' in raw["session_messages"]  # an empty (not NULL) message
    goals = csv_records(small_aria / "goals.csv")
    assert goals[0][-2:] == ["category", "metadata"]
    assert all(r[-2:] == ["", ""] for r in goals[1:])
    # a reply that comes before its parent in the file
    posts = csv_records(small_aria / "social_posts.csv")
    h = posts[0]
    position = {r[h.index("post_id")]: i for i, r in enumerate(posts[1:]) if r[h.index("post_id")]}
    replies = [
        (i, r[h.index("reply_to")]) for i, r in enumerate(posts[1:]) if r[h.index("reply_to")]
    ]
    assert replies and all(parent in position for _, parent in replies)
    assert any(position[parent] > i for i, parent in replies)
    # serial-id tables carry explicit ids 1..n
    for name in ("hourly_goals", "performance_log", "pending_complex_tasks"):
        ids = [int(r[0]) for r in csv_records(small_aria / f"{name}.csv")[1:]]
        assert ids == list(range(1, len(ids) + 1)), name


# --- scale ------------------------------------------------------------------------------------


def test_full_scale_has_the_real_exports_row_counts(tmp_path):
    written = write_sample(tmp_path, "aria_v4", scale="full")
    catalog = profiles.load("aria_v4")
    assert len(written) == 88
    for entry in catalog.tables:
        records = csv_records(tmp_path / f"{entry.file}.csv")
        assert len(records) - 1 == (entry.rows_full or 0) == written[f"{entry.file}.csv"], (
            entry.file
        )
    assert written["skill_invocations.csv"] == 26389 and written["semantic_memories.csv"] == 3502


def test_archon_full_plan_and_rows_override():
    counts = {spec.file: n for spec, n in plan("archon", "full")}
    assert counts["archon_crawled_pages"] == 218714 and counts["archon_tasks"] == 259
    assert len(counts) == len(profiles.load("archon").tables)
    small = {spec.file: n for spec, n in plan("archon", "small", {"archon_crawled_pages": 50000})}
    assert small["archon_crawled_pages"] == 50000
    with pytest.raises(AriaError, match="not a table"):
        plan("archon", "small", {"archon_nope": 1})


def test_memory_does_not_grow_with_rows(tmp_path):
    """Streaming: 4x the rows (75 MB of crawled pages) must not cost more memory."""
    reg_specs = {spec.file: spec for spec, _ in plan("archon", "small")}
    spec = reg_specs["archon_crawled_pages"]
    peaks = []
    for n in (1000, 4000):
        ctx = Ctx(
            seed=1,
            counts={"archon_crawled_pages": n, "archon_page_metadata": 10, "archon_sources": 5},
        )
        ctx.vectors(1536, "archon")  # the vector pool is a fixed cost, outside the measurement
        tracemalloc.start()
        write_table(tmp_path / f"p{n}.csv", spec, ctx, n)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    size = (tmp_path / "p4000.csv").stat().st_size
    assert size > 50_000_000
    assert peaks[1] < 20_000_000 and peaks[1] - peaks[0] < 3_000_000, peaks


# --- the command --------------------------------------------------------------------------------


def test_sample_command_writes_and_summarises(tmp_path, capsys):
    out = tmp_path / "exp"
    code, _ = run_sample(out, "--profile", "archon", "--rows", "archon_crawled_pages=30", "--json")
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"] == 15 and doc["tables"]["archon_crawled_pages.csv"] == 30
    assert doc["bytes"] == sum(p.stat().st_size for p in out.iterdir())
    assert not list(out.glob("*.part"))


def test_sample_command_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    code, message = run_sample(tmp_path)
    assert code == 2 and "not empty" in message and "--force" in message
    assert not list(tmp_path.glob("*.csv"))
    code, _ = run_sample(tmp_path, "--force", "--rows", "activity_log=3")
    assert code == 0 and (tmp_path / "keep.txt").exists()
    assert len(csv_records(tmp_path / "activity_log.csv")) == 4
    assert "Wrote 88 files" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["activity_log", "activity_log=x", "=3", "activity_log=-1"])
def test_sample_command_rejects_bad_rows(tmp_path, bad):
    code, message = run_sample(tmp_path / "x", "--rows", bad)
    assert code == 2 and "TABLE=N" in message


def test_a_child_without_parent_rows_is_a_clear_error(tmp_path):
    code, message = run_sample(tmp_path / "x", "--rows", "knowledge_entities=0")
    assert code == 2 and "knowledge_relations" in message and "knowledge_entities" in message
