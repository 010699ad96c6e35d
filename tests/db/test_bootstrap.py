"""Bootstrap: the aria_v4 and archon profiles create their schema, twice without change."""

from __future__ import annotations

import json

from aria_tui import profiles
from aria_tui.pg.catalog import read_catalog

SEED_002_FKS = {
    ("aria_data.social_posts", ("reply_to",), "aria_data.social_posts", "SET NULL"),
    ("aria_data.knowledge_relations", ("from_entity",), "aria_data.knowledge_entities", "CASCADE"),
    ("aria_data.knowledge_relations", ("to_entity",), "aria_data.knowledge_entities", "CASCADE"),
    ("aria_data.skill_graph_relations", ("from_entity",), "aria_data.skill_graph_entities", "CASCADE"),
    ("aria_data.skill_graph_relations", ("to_entity",), "aria_data.skill_graph_entities", "CASCADE"),
    ("aria_data.session_messages", ("session_id",), "aria_data.agent_sessions", "SET NULL"),
    ("aria_data.sentiment_events", ("message_id",), "aria_data.session_messages", "CASCADE"),
    ("aria_data.sentiment_events", ("session_id",), "aria_data.agent_sessions", "SET NULL"),
    ("aria_data.model_usage", ("session_id",), "aria_data.agent_sessions", "SET NULL"),
    ("aria_engine.chat_messages", ("session_id",), "aria_engine.chat_sessions", "CASCADE"),
}


def test_bootstrap_aria_twice_via_cli(empty_db, cli):
    code, out, err = cli("bootstrap", "--dsn", empty_db.conninfo, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert len(first["created"]) == 37
    code, out, err = cli("bootstrap", "--dsn", empty_db.conninfo, "--json")
    assert code == 0, err
    second = json.loads(out)
    assert second["created"] == [] and len(second["existing"]) == 37

    with empty_db.connect() as conn:
        cat = read_catalog(conn)
        assert sum(1 for t in cat.tables.values() if t.schema == "aria_data") == 26
        assert sum(1 for t in cat.tables.values() if t.schema == "aria_engine") == 11
        assert cat.get("aria_data.semantic_memories").column("embedding").type == "vector(768)"
        assert cat.get("aria_engine.chat_messages").column("embedding").type == "vector(1536)"
        fks = {(fk.table, fk.columns, fk.ref_table, fk.on_delete) for fk in cat.foreign_keys()}
        assert SEED_002_FKS <= fks
        assert cat.get("aria_data.goals").column("category") is None
        keys = {r[0] for r in conn.execute("SELECT key FROM aria_data.memories")}
        assert {"aria_identity", "aria_birth"} <= keys
        assert conn.execute("SELECT count(*) FROM aria_data.memories").fetchone()[0] == 2


def test_bootstrap_archon(empty_db, cli):
    code, _, err = cli("bootstrap", "--dsn", empty_db.conninfo, "--profile", "archon")
    assert code == 0, err
    with empty_db.connect() as conn:
        pages = read_catalog(conn).get("public.archon_crawled_pages")
        assert pages.column("embedding_1536").type == "vector(1536)"
        assert pages.column("embedding_3072").type == "vector(3072)"
        assert pages.foreign_keys == ()


def test_catalog_covers_the_88_files_of_seed_000():
    prof = profiles.load("aria_v4")
    assert len(prof.tables) == 88
    assert len({t.file for t in prof.tables}) == 88
    high = {t.file for t in prof.tables if t.priority == "HIGH"}
    assert high == {
        "memories", "thoughts", "goals", "working_memory", "lessons_learned",
        "knowledge_entities", "knowledge_relations", "semantic_memories", "scheduled_jobs",
    }
    assert prof.entry("activity_log").priority == "LOW"
    assert prof.entry("litellm_SomethingNew").priority == "SKIP"
    assert profiles.detect(["memories", "thoughts", "semantic_memories"]).name == "aria_v4"
    assert profiles.detect(["archon_projects", "archon_tasks", "archon_sources"]).name == "archon"
    assert profiles.detect(["foo", "bar"]) is None


def test_unknown_profile_is_one_sentence(empty_db, cli):
    code, _, err = cli("bootstrap", "--dsn", empty_db.conninfo, "--profile", "nope")
    assert code == 2 and "Unknown profile 'nope'" in err and "Traceback" not in err


def test_needs_bootstrap_sees_missing_tables_in_public(empty_db, templates):
    """archon lives in `public`, which every database has: the tables decide, not the schema."""
    from aria_tui.pg.bootstrap import needs_bootstrap

    archon = profiles.load("archon")
    with empty_db.connect() as conn:
        assert needs_bootstrap(conn, archon)
    with templates.fresh("archon").connect() as conn:
        assert not needs_bootstrap(conn, archon)
    with templates.fresh("aria_v4").connect() as conn:
        assert not needs_bootstrap(conn, profiles.load("aria_v4"))
        assert needs_bootstrap(conn, archon)
