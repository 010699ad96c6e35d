"""The export's files that have no v4 table: LiteLLM's Prisma tables and Aria's legacy tables.

Their header comes from the profile catalog (`columns`); values are guessed from the column
names, the way the real tables hold them (uuids, hashed keys, PostgreSQL text[] literals such as
`{gpt-4o-mini,kimi-k2}`, JSON, camelCase timestamps). Nothing loads them, but scan and diff must
read them, and they must look like the real thing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from aria_tui.sample import text
from aria_tui.sample.aria import END, MODELS, START
from aria_tui.sample.pgtext import jsonb, timestamptz
from aria_tui.sample.rand import Gen
from aria_tui.sample.spec import Ctx

Value = Callable[[Gen, int], object]

_JSON_NAMES = {
    "metadata",
    "config",
    "permissions",
    "aliases",
    "model_spend",
    "model_max_budget",
    "details",
    "request_tags",
    "litellm_params",
    "model_info",
    "credential_values",
    "credential_info",
    "members_with_roles",
    "before_value",
    "updated_values",
    "request_kwargs",
    "file_object",
    "model_mappings",
    "flat_model_file_ids",
    "vector_store_metadata",
    "guardrail_info",
    "prompt_info",
    "mcp_info",
    "agent_card_params",
    "capabilities",
    "value",
    "param_value",
    "mcp_tool_permissions",
    "tools",
    "messages",
    "response",
    "findings",
    "logs",
    "allowed_cache_controls",
}
_ARRAY_NAMES = {
    "models",
    "teams",
    "admins",
    "members",
    "mcp_servers",
    "mcp_access_groups",
    "vector_stores",
}
_BOOL_NAMES = {"blocked", "cache_hit", "is_accepted", "acknowledged", "is_active", "enabled"}
_TIME_NAMES = {
    "startTime",
    "endTime",
    "completionStartTime",
    "expires",
    "deadline",
    "last_updated",
    "checked_at",
    "last_health_check",
}
_INT_HINTS = (
    "tokens",
    "count",
    "requests",
    "limit",
    "karma",
    "upvotes",
    "ttl",
    "steps",
    "ms",
    "window",
    "status_code",
    "version",
)
_MONEY_HINTS = ("spend", "budget", "cost", "amount", "revenue", "apy", "threshold", "price")


def _model(g: Gen, _i: int) -> str:
    return g.choice(MODELS)[0]


def _value_for(file: str, column: str) -> Value:
    name = column
    low = column.lower()
    if name == "id" and not file.startswith("litellm"):
        return lambda g, i: i + 1  # the legacy tables had serial ids
    if (
        name in ("id", "request_id", "token", "checksum")
        or low.endswith("_id")
        and "organization" not in low
    ):
        if name == "checksum":
            return lambda g, i: g.hexstr(64)
        return lambda g, i: g.uuid()
    if name == "organization_id":
        return lambda g, i: None
    if name == "api_key":
        return lambda g, i: hashlib.sha256(g.randbytes(16)).hexdigest()
    if name == "date":
        return lambda g, i: g.when(START, END).date().isoformat()
    if name in _TIME_NAMES or low.endswith("_at"):
        return lambda g, i: timestamptz(g.spread(i, 1000, START, END))
    if name in _BOOL_NAMES:
        return lambda g, i: g.random() < 0.1
    if name in _ARRAY_NAMES:
        return lambda g, i: (
            "{"
            + ",".join(sorted({m.split("/")[-1] for m, _ in g.sample(MODELS, g.randint(0, 3))}))
            + "}"
        )
    if name in _JSON_NAMES:
        return lambda g, i: jsonb(
            {"source": "litellm", "note": text.sentence(g), "tags": g.sample(text.WORDS, 2)}
        )
    if name in ("model", "model_group", "model_name", "litellm_model_name", "default_model"):
        return _model
    if name == "custom_llm_provider" or name == "provider":
        return lambda g, i: g.choice(MODELS)[1]
    if name == "call_type":
        return lambda g, i: g.choice(["acompletion", "aembedding", "completion"])
    if name == "status":
        return lambda g, i: g.choice(["success", "success", "failure"])
    if name == "currency":
        return lambda g, i: "USD"
    if name == "migration_name":
        return lambda g, i: f"2025{(i % 12) + 1:02d}{(i % 27) + 1:02d}{i:06d}_litellm_migration_{i}"
    if name in (
        "user",
        "end_user",
        "user_email",
        "username",
        "author",
        "created_by",
        "updated_by",
        "changed_by",
    ):
        return lambda g, i: g.choice(["default_user_id", "aria", "najia@example.com", ""])
    if name == "api_base":
        return lambda g, i: g.choice(
            [
                "https://openrouter.ai/api/v1",
                "http://host.docker.internal:11434",
                "https://api.moonshot.ai/v1",
            ]
        )
    if any(h in low for h in _MONEY_HINTS):
        return lambda g, i: round(g.uniform(0, 12), 6)
    if any(h in low for h in _INT_HINTS):
        return lambda g, i: g.randint(0, 50000)
    if low in (
        "content",
        "description",
        "notes",
        "bio",
        "message",
        "task",
        "title",
        "justification",
    ):
        if file == "moltbook_posts" and low == "content":
            return lambda g, i: ""  # the three legacy posts all have empty content (seed 000 §7.2)
        return lambda g, i: text.sentence(g)
    if low.endswith("url"):
        return lambda g, i: f"https://www.moltbook.com/u/aria-blue/{i}"
    return lambda g, i: f"{low}_{g.randint(1, 999)}"


def _coherent(row: dict[str, object], g: Gen, i: int) -> None:
    """Make related columns agree, as they do in a real LiteLLM log (end after start, sums add up)."""
    if "startTime" in row and "endTime" in row:
        start = g.spread(i, 1000, START, END)
        row["startTime"] = timestamptz(start)
        row["endTime"] = timestamptz(g.after(start, 40))
    if {"total_tokens", "prompt_tokens", "completion_tokens"} <= row.keys():
        prompt, completion = g.randint(20, 12000), g.randint(1, 3000)
        row.update(
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )
        if "spend" in row:
            row["spend"] = round((prompt * 0.6 + completion * 2.4) / 1_000_000, 8)
    if "model" in row and "model_group" in row:
        row["model_group"] = row["model"]
    if "request_tags" in row:
        row["request_tags"] = jsonb(
            g.sample(["aria", "cron", "work_cycle", "chat", "heartbeat"], g.randint(0, 2))
        )
    if "successful_requests" in row and "api_requests" in row:
        total = g.randint(1, 400)
        failed = g.randint(0, total // 10)
        row.update(api_requests=total, successful_requests=total - failed, failed_requests=failed)
    if "finished_at" in row and "started_at" in row:
        row["rolled_back_at"] = None
        row["logs"] = None
        row["applied_steps_count"] = 1


def generic_rows(file: str, columns: tuple[str, ...]) -> Callable[[Ctx, int], Iterator[dict]]:
    """A generator for a header-only-known file: values guessed per column name."""
    makers = [(c, _value_for(file, c)) for c in columns]

    def rows(ctx: Ctx, n: int) -> Iterator[dict]:
        g = ctx.gen(file)
        for i in range(n):
            row = {c: make(g, i) for c, make in makers}
            _coherent(row, g, i)
            yield row

    return rows
