"""The Archon export (seed 004): the archon_* tables, with the 218,714-row crawled-pages benchmark.

`archon_crawled_pages` is written on a hot path (finished CSV lines, pre-quoted vectors) because
at full scale it is several GB; everything else is small and uses plain row dicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from aria_tui.sample import text
from aria_tui.sample.pgtext import csv_field, jsonb, numeric, timestamptz
from aria_tui.sample.rand import Gen, stable_int, utc
from aria_tui.sample.spec import Ctx, Registry

reg = Registry()

START = utc(2025, 9, 1)
CRAWL_START = utc(2025, 12, 1)
END = utc(2026, 1, 10, 22, 30)
MIGRATION_PROJECT = "ea6a11ed-0eaa-4712-b96a-f086cd90fb54"  # seed 004's migration project
EMBEDDING_MODEL = "text-embedding-3-small"

SOURCES = [
    ("docs.anthropic.com", "Anthropic Docs"),
    ("ai.pydantic.dev", "Pydantic AI"),
    ("supabase.com", "Supabase Docs"),
    ("docs.crawl4ai.com", "Crawl4AI"),
    ("fastapi.tiangolo.com", "FastAPI"),
    ("react.dev", "React"),
    ("docs.python.org", "Python 3 Docs"),
    ("github.com/pgvector/pgvector", "pgvector README"),
    ("modelcontextprotocol.io", "Model Context Protocol"),
    ("docs.docker.com", "Docker Docs"),
    ("tailwindcss.com", "Tailwind CSS"),
    ("vitejs.dev", "Vite"),
    ("docs.langchain.com", "LangChain"),
    ("platform.openai.com", "OpenAI Platform"),
    ("www.postgresql.org/docs/16", "PostgreSQL 16"),
    ("textual.textualize.io", "Textual"),
]


def source_of_page(ctx: Ctx, p: int) -> int:
    return p % max(ctx.count("archon_sources"), 1)


def page_url(ctx: Ctx, p: int) -> str:
    domain, _ = SOURCES[source_of_page(ctx, p) % len(SOURCES)]
    return f"https://{domain}/docs/{text.DOC_TOPICS[p % len(text.DOC_TOPICS)].lower().replace(' ', '-')}/{p}"


def chunks_per_page(ctx: Ctx) -> int:
    """Crawled-page rows per page url: chunk_number counts within a page, (url, chunk) is unique."""
    pages = max(ctx.count("archon_page_metadata"), 1)
    rows = ctx.count("archon_crawled_pages")
    return max(1, -(-rows // pages))


SETTINGS = [
    ("OPENAI_API_KEY", "api_keys", True),
    ("ANTHROPIC_API_KEY", "api_keys", True),
    ("LLM_PROVIDER", "rag_strategy", False),
    ("MODEL_CHOICE", "rag_strategy", False),
    ("EMBEDDING_MODEL", "rag_strategy", False),
    ("USE_CONTEXTUAL_EMBEDDINGS", "rag_strategy", False),
    ("USE_HYBRID_SEARCH", "rag_strategy", False),
    ("USE_AGENTIC_RAG", "rag_strategy", False),
    ("USE_RERANKING", "rag_strategy", False),
    ("CRAWL_BATCH_SIZE", "crawl", False),
    ("CRAWL_MAX_CONCURRENT", "crawl", False),
    ("CRAWL_WAIT_STRATEGY", "crawl", False),
    ("MIN_CODE_BLOCK_LENGTH", "code_extraction", False),
    ("MAX_CODE_BLOCK_LENGTH", "code_extraction", False),
    ("ENABLE_CODE_SUMMARIES", "code_extraction", False),
    ("PROJECTS_ENABLED", "features", False),
    ("LOGFIRE_ENABLED", "monitoring", False),
    ("DOCUMENT_STORAGE_BATCH_SIZE", "storage", False),
]


@reg.table(
    "archon_settings",
    "id key value encrypted_value is_encrypted category description created_at updated_at",
)
def archon_settings(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_settings")
    for i in range(n):
        key, category, secret = SETTINGS[i % len(SETTINGS)]
        if i >= len(SETTINGS):
            key = f"{key}_{i}"
        created = g.when(START, END)
        yield {
            "id": ctx.id("archon_settings", i),
            "key": key,
            "value": None
            if secret
            else g.choice(["true", "false", "openai", "50", "gpt-4.1-nano", "domcontentloaded"]),
            "encrypted_value": f"gAAAAAB{g.hexstr(80)}==" if secret else None,
            "is_encrypted": secret,
            "category": category,
            "description": f"{key.replace('_', ' ').title()}: {g.choice(text.DOC_PARAGRAPHS)[:80]}",
            "created_at": timestamptz(created),
            "updated_at": timestamptz(g.after(created, 86400 * 10)),
        }


@reg.table(
    "archon_sources",
    "source_id source_url source_display_name summary total_word_count title metadata created_at updated_at",
)
def archon_sources(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_sources")
    for i in range(n):
        domain, title = SOURCES[i % len(SOURCES)]
        if i >= len(SOURCES):
            title = f"{title} ({i // len(SOURCES) + 1})"
        created = g.when(START, CRAWL_START)
        yield {
            # a uuid string: archon_crawled_pages.source_id is uuid and must match these
            "source_id": ctx.id("archon_sources", i),
            "source_url": f"https://{domain}/" + ("" if i < len(SOURCES) else f"v{i}/"),
            "source_display_name": title,
            "summary": g.choice(text.DOC_PARAGRAPHS),
            "total_word_count": g.randint(2000, 900000),
            "title": title,
            "metadata": jsonb(
                {
                    "knowledge_type": g.choice(["technical", "business"]),
                    "tags": g.sample(["docs", "api", "python", "ai", "db"], 2),
                    "crawl_depth": g.randint(1, 3),
                    "update_frequency": 7,
                }
            ),
            "created_at": timestamptz(created),
            "updated_at": timestamptz(g.after(created, 86400 * 30)),
        }


@reg.table(
    "archon_page_metadata",
    "id source_id url full_content section_title section_order word_count char_count chunk_count metadata created_at updated_at",
)
def archon_page_metadata(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_page_metadata")
    n_src = ctx.parent("archon_page_metadata", "archon_sources") if n else 0
    per = chunks_per_page(ctx)
    rows = ctx.count("archon_crawled_pages")
    for p in range(n):
        # about 42 KB a page at full scale: the ~64 MB table that broke the original pg_dump
        content = text.doc_chunk(g, 8000, 76000)
        created = g.when(CRAWL_START, END)
        yield {
            "id": ctx.id("archon_page_metadata", p),
            "source_id": ctx.id("archon_sources", p % n_src),
            "url": page_url(ctx, p),
            "full_content": content,
            "section_title": g.maybe(0.8, g.choice(text.DOC_TOPICS)),
            "section_order": p % 50,
            "word_count": len(content.split()),
            "char_count": len(content),
            "chunk_count": max(0, min(per, rows - p * per)),
            "metadata": jsonb(
                {
                    "crawl_type": g.choice(["sitemap", "recursive", "llms.txt"]),
                    "depth": g.randint(0, 3),
                }
            ),
            "created_at": timestamptz(created),
            "updated_at": timestamptz(created),
        }


CRAWLED_COLUMNS = (
    "id url chunk_number content metadata source_id embedding_384 embedding_768 embedding_1024 "
    "embedding_1536 embedding_3072 llm_chat_model embedding_model embedding_dimension created_at page_id"
)


@reg.table("archon_crawled_pages", CRAWLED_COLUMNS)
def archon_crawled_pages(ctx: Ctx, n: int) -> Iterator[str]:
    """Finished CSV lines: 1536-d embedding in embedding_1536, the other dimensions NULL."""
    g = ctx.gen("archon_crawled_pages")
    vectors = ctx.vectors(1536, "archon")
    n_pages = ctx.count("archon_page_metadata")
    n_src = ctx.count("archon_sources")
    per = chunks_per_page(ctx)
    span = (END - CRAWL_START).total_seconds()
    page = -1
    for i in range(n):
        p, chunk = divmod(i, per)
        if p != page:
            page = p
            url = csv_field(page_url(ctx, p))
            src = ctx.id("archon_sources", source_of_page(ctx, p)) if n_src else ""
            page_id = ctx.id("archon_page_metadata", p) if p < n_pages else ""
            base = CRAWL_START + timedelta(seconds=span * i / n)
        content = text.doc_chunk(g, 300, 2600)
        meta = jsonb(
            {
                "url": page_url(ctx, p),
                "chunk_index": chunk,
                "char_count": len(content),
                "headers": content[: content.find("\n")] if "\n" in content else content[:40],
                "source_type": "url",
                "crawl_type": "sitemap",
            }
        )
        created = base + timedelta(microseconds=g.randrange(60_000_000))
        yield (
            f"{i + 1},{url},{chunk},{csv_field(content)},{csv_field(meta)},{src},,,,"
            f"{vectors.pick(g)},,{'gpt-4.1-nano' if chunk % 3 == 0 else ''},{EMBEDDING_MODEL},1536,"
            f"{timestamptz(created)},{page_id}\n"
        )


@reg.table(
    "archon_code_examples",
    "id url chunk_number content summary metadata source_id embedding_384 embedding_768 embedding_1024 "
    "embedding_1536 embedding_3072 llm_chat_model embedding_model embedding_dimension created_at",
)
def archon_code_examples(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_code_examples")
    vectors = ctx.vectors(1536, "archon")
    n_pages = max(ctx.count("archon_page_metadata"), 1)
    n_src = ctx.parent("archon_code_examples", "archon_sources") if n else 0
    for i in range(n):
        p = i % n_pages
        code = g.choice(text.DOC_CODE)
        yield {
            "id": i + 1,
            "url": page_url(ctx, p),
            "chunk_number": i // n_pages,
            "content": code,
            "summary": f'Example: {g.choice(text.DOC_TOPICS).lower()}, shows how to call it, "end to end".',
            "metadata": jsonb(
                {
                    "language": code[3 : code.find("\n")] or "text",
                    "example_name": f"example_{i}",
                    "lines": code.count("\n") + 1,
                }
            ),
            "source_id": ctx.id("archon_sources", source_of_page(ctx, p) % n_src),
            "embedding_384": None,
            "embedding_768": None,
            "embedding_1024": None,
            "embedding_1536": vectors.pick(g),
            "embedding_3072": None,
            "llm_chat_model": "gpt-4.1-nano",
            "embedding_model": EMBEDDING_MODEL,
            "embedding_dimension": 1536,
            "created_at": timestamptz(g.when(CRAWL_START, END)),
        }


PROJECTS = [
    "Archon V2 Alpha",
    "Personal knowledge base",
    "MCP server hardening",
    "RAG evaluation harness",
    'Docs crawler, "fast mode"',
    "Supabase → local move",
    "Agent playground",
    "Pydantic AI agents",
    "Résumé builder",
    "日本語 docs import",
    "Client portal",
    "Voice notes to tasks",
]


@reg.table(
    "archon_projects",
    "id title description docs features data github_repo pinned created_at updated_at",
)
def archon_projects(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_projects")
    for i in range(n):
        last = i == n - 1
        title = (
            "Archon Database Migration - Local to Remote Sync"
            if last
            else PROJECTS[i % len(PROJECTS)]
        )
        created = END - timedelta(hours=2) if last else g.when(START, END)
        yield {
            "id": MIGRATION_PROJECT if last else ctx.id("archon_projects", i),
            "title": title,
            "description": "" if i % 5 == 4 else text.fill(g.choice(text.MIDDLES), g),
            "docs": jsonb(
                [
                    {
                        "id": g.uuid(),
                        "title": "PRD",
                        "content": {"goals": [text.sentence(g)], "scope": "v1"},
                    }
                ]
                if g.random() < 0.6
                else []
            ),
            "features": jsonb([{"name": w, "status": "planned"} for w in g.sample(text.WORDS, 2)]),
            "data": "[]",
            "github_repo": g.maybe(0.5, f"https://github.com/example/{title.split()[0].lower()}"),
            "pinned": i == 0,
            "created_at": timestamptz(created),
            "updated_at": timestamptz(g.after(created, 3600)),
        }


def project_id(ctx: Ctx, k: int) -> str:
    n = ctx.count("archon_projects")
    return MIGRATION_PROJECT if k == n - 1 else ctx.id("archon_projects", k)


@reg.table(
    "archon_tasks",
    "id project_id parent_task_id title description status assignee task_order priority feature sources "
    "code_examples archived archived_at archived_by created_at updated_at",
)
def archon_tasks(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_tasks")
    n_proj = ctx.count("archon_projects")
    for i in range(n):
        parent = None
        if n > 1 and g.random() < 0.15:
            # subtasks point at any task, sometimes at one later in the file
            j = g.randrange(n)
            parent = ctx.id("archon_tasks", j if j != i else (i + 1) % n)
        archived = g.random() < 0.1
        created = g.when(START, END)
        yield {
            "id": ctx.id("archon_tasks", i),
            "project_id": project_id(ctx, g.randrange(n_proj)) if n_proj else None,
            "parent_task_id": parent,
            "title": f"{g.choice(['Implement', 'Fix', 'Document', 'Verify', 'Migrate'])} {g.choice(text.DOC_TOPICS).lower()}",
            "description": text.fill(g.choice(text.MIDDLES), g) if g.random() < 0.8 else "",
            "status": g.choice(["todo", "doing", "review", "done", "done"]),
            "assignee": g.choice(["User", "Archon", "AI IDE Agent"]),
            "task_order": g.randint(0, 100),
            "priority": g.choice(["low", "medium", "high", "critical"]),
            "feature": g.maybe(0.6, g.choice(text.WORDS)),
            "sources": jsonb(
                [{"url": page_url(ctx, g.randrange(50)), "type": "documentation"}]
                if g.random() < 0.3
                else []
            ),
            "code_examples": "[]",
            "archived": archived,
            "archived_at": timestamptz(g.after(created, 86400)) if archived else None,
            "archived_by": "User" if archived else None,
            "created_at": timestamptz(created),
            "updated_at": timestamptz(g.after(created, 86400 * 3)),
        }


@reg.table("archon_project_sources", "id project_id source_id linked_at created_by notes")
def archon_project_sources(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_project_sources")
    n_proj = ctx.parent("archon_project_sources", "archon_projects") if n else 0
    n_src = ctx.parent("archon_project_sources", "archon_sources") if n else 0
    pairs = [(p, s) for p in range(n_proj) for s in range(n_src)]
    pairs.sort(key=lambda ps: stable_int(ctx.seed, "project-source", ps[0] * 100003 + ps[1]))
    if n > len(pairs):
        from aria_tui.errors import AriaError

        raise AriaError(
            f"archon_project_sources can have at most {len(pairs)} rows (one per project and source)."
        )
    for i, (p, s) in enumerate(pairs[:n]):
        yield {
            "id": ctx.id("archon_project_sources", i),
            "project_id": project_id(ctx, p),
            "source_id": ctx.id("archon_sources", s),
            "linked_at": timestamptz(g.when(START, END)),
            "created_by": g.choice(["system", "User"]),
            "notes": g.maybe(0.3, 'Linked for the "knowledge" tab, see PRD.'),
        }


@reg.table(
    "archon_document_versions",
    "id project_id task_id field_name version_number content change_summary change_type document_id created_by created_at",
)
def archon_document_versions(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_document_versions")
    n_proj = ctx.parent("archon_document_versions", "archon_projects") if n else 0
    for i in range(n):
        yield {
            "id": ctx.id("archon_document_versions", i),
            "project_id": project_id(ctx, i % n_proj),
            "task_id": None,
            "field_name": g.choice(["docs", "features", "data"]),
            "version_number": i + 1,  # unique with the rest of the key
            "content": jsonb([{"title": "PRD", "body": text.sentence(g)}]),
            "change_summary": text.sentence(g),
            "change_type": "update",
            "document_id": g.uuid(),
            "created_by": "system",
            "created_at": timestamptz(g.when(START, END)),
        }


PROMPTS = ["document_builder", "feature_builder", "data_builder"]


@reg.table("archon_prompts", "id prompt_name prompt description created_at updated_at")
def archon_prompts(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_prompts")
    for i in range(n):
        name = PROMPTS[i % len(PROMPTS)] if i < len(PROMPTS) else f"{PROMPTS[i % len(PROMPTS)]}_{i}"
        yield {
            "id": ctx.id("archon_prompts", i),
            "prompt_name": name,
            "prompt": f'You are the {name.replace("_", " ")}.\n\nRules:\n- answer in markdown\n- never invent "facts"\n- cite sources, e.g. [1], [2]',
            "description": f"System prompt of the {name} agent",
            "created_at": timestamptz(START),
            "updated_at": timestamptz(g.when(START, END)),
        }


@reg.table("archon_migrations", "id version migration_name applied_at checksum")
def archon_migrations(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_migrations")
    names = [
        "initial_setup",
        "add_source_url_display_name",
        "add_hybrid_search",
        "add_code_examples",
        "add_page_metadata",
        "add_task_history",
        "add_llm_pricing",
        "add_mcp_telemetry",
        "multi_dimensional_embeddings",
    ]
    for i in range(n):
        yield {
            "id": ctx.id("archon_migrations", i),
            "version": f"0.1.{i}",
            "migration_name": f"{i + 1:03d}_{names[i % len(names)]}",
            "applied_at": timestamptz(g.when(START, END)),
            "checksum": g.hexstr(32),
        }


@reg.table(
    "archon_task_history",
    "id task_id field_name old_value new_value changed_by changed_at metadata",
)
def archon_task_history(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_task_history")
    n_tasks = ctx.parent("archon_task_history", "archon_tasks") if n else 0
    for i in range(n):
        field = g.choice(["status", "assignee", "task_order", "description"])
        yield {
            "id": ctx.id("archon_task_history", i),
            "task_id": ctx.id("archon_tasks", g.randrange(n_tasks)),
            "field_name": field,
            "old_value": g.choice(["todo", "doing", "User", "", None]),
            "new_value": g.choice(["doing", "review", "done", "Archon", 'Updated, see "notes"']),
            "changed_by": g.choice(["User", "Archon", "system"]),
            "changed_at": timestamptz(g.spread(i, n, START, END)),
            "metadata": jsonb({"source": "mcp", "field": field}),
        }


PRICING = [
    ("openai", "gpt-4.1", 0.002, 0.008),
    ("openai", "gpt-4.1-mini", 0.0004, 0.0016),
    ("openai", "gpt-4.1-nano", 0.0001, 0.0004),
    ("openai", "text-embedding-3-small", 0.00002, 0.0),
    ("openai", "text-embedding-3-large", 0.00013, 0.0),
    ("anthropic", "claude-sonnet-4", 0.003, 0.015),
    ("anthropic", "claude-3-5-haiku", 0.0008, 0.004),
    ("google", "gemini-2.5-flash", 0.0003, 0.0025),
    ("google", "gemini-2.5-pro", 0.00125, 0.01),
    ("ollama", "llama3.1:8b", 0.0, 0.0),
    ("openrouter", "deepseek/deepseek-chat", 0.00027, 0.0011),
]


@reg.table(
    "archon_llm_pricing",
    "id provider model_name input_price_per_1k output_price_per_1k currency effective_date is_active created_at updated_at",
)
def archon_llm_pricing(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_llm_pricing")
    for i in range(n):
        provider, model, pin, pout = PRICING[i % len(PRICING)]
        if i >= len(PRICING):
            model = f"{model}-{i}"
        yield {
            "id": ctx.id("archon_llm_pricing", i),
            "provider": provider,
            "model_name": model,
            "input_price_per_1k": numeric(pin, 8),
            "output_price_per_1k": numeric(pout, 8),
            "currency": "USD",
            "effective_date": "2025-11-01",
            "is_active": True,
            "created_at": timestamptz(START),
            "updated_at": timestamptz(g.when(START, END)),
        }


@reg.table(
    "archon_mcp_sessions",
    "session_id client_type client_version connected_at disconnected_at last_activity total_duration status metadata created_at",
)
def archon_mcp_sessions(ctx: Ctx, n: int) -> Iterator[dict]:
    g = ctx.gen("archon_mcp_sessions")
    for i in range(n):
        start = g.when(START, END)
        yield {
            "session_id": ctx.id("archon_mcp_sessions", i),
            "client_type": g.choice(["claude-code", "cursor", "windsurf"]),
            "client_version": f"1.{g.randint(0, 9)}.{g.randint(0, 30)}",
            "connected_at": timestamptz(start),
            "disconnected_at": timestamptz(g.after(start, 7200)),
            "last_activity": timestamptz(g.after(start, 3600)),
            "total_duration": g.randint(10, 7200),
            "status": "disconnected",
            "metadata": "{}",
            "created_at": timestamptz(start),
        }


@reg.table(
    "archon_mcp_requests",
    "id session_id method tool_name prompt_tokens completion_tokens total_tokens estimated_cost requested_at "
    "duration_ms status error_message metadata",
)
def archon_mcp_requests(ctx: Ctx, n: int) -> Iterator[dict]:
    g: Gen = ctx.gen("archon_mcp_requests")
    n_sess = ctx.count("archon_mcp_sessions")
    for i in range(n):
        pt, ct = g.randint(10, 4000), g.randint(10, 2000)
        yield {
            "id": ctx.id("archon_mcp_requests", i),
            "session_id": ctx.id("archon_mcp_sessions", g.randrange(n_sess)) if n_sess else None,
            "method": "tools/call",
            "tool_name": g.choice(
                ["rag_search_knowledge_base", "find_tasks", "manage_task", "find_projects"]
            ),
            "prompt_tokens": pt,
            "completion_tokens": ct,
            "total_tokens": pt + ct,
            "estimated_cost": numeric((pt + ct) * 0.000001, 6),
            "requested_at": timestamptz(g.when(START, END)),
            "duration_ms": g.randint(20, 9000),
            "status": "success",
            "error_message": None,
            "metadata": "{}",
        }
