"""Text that looks like Aria's and Archon's, and that exercises what breaks CSV loaders.

Every pool mixes the hard cases on purpose: embedded double quotes, commas, line breaks (a few
CRLF), non-ASCII (é, ü, 日本語, emoji), markdown lists and code fences, JSON-looking text inside
text, backslashes. Sentences are combined at random, so rows differ while the pools stay small.
"""

from __future__ import annotations

from aria_tui.sample.rand import Gen

OPENERS = [
    "Heartbeat #{n} complete, all systems nominal.",
    "Reviewed the last {n} activity entries; nothing alarming.",
    'Najia asked me to "keep it short, but precise", so here goes.',
    "Planning the BIG BANG MIGRATION, phase {n}: schemas first, data second.",
    "Self-audit: {n} skills healthy, 2 degraded (moltbook, ssv_monitor).",
    "Note to self — the café-themed post did better than expected ☕.",
    "Rate limit hit on OpenRouter again (429), backing off {n}s.",
    "Morning check-in: goals reviewed, 3 open, 1 blocked, 0 overdue.",
    "Translated the summary for the 日本語 channel: 「移行は順調です」.",
    'Weekly summary drafted; tone is "calm, factual, slightly proud" 🚀.',
    "Found a duplicate memory key, merged the values instead of overwriting.",
    "The qwen3-mlx model answered in {n} ms, faster than the cloud fallback.",
    "Immunefi scope changed overnight; updating intel targets, ENS first.",
    "Über-long prompt trimmed from {n} tokens to 2,048, context preserved.",
    "Learned: never trust a 200 OK without reading the body.",
    "Sentiment drift detected in the last {n} messages (valence ↓ 0.12).",
]

MIDDLES = [
    'Key facts:\n- SSV Network validator count is stable\n- ENS renewal due, "aria.eth" safe until 2027\n- budget: $12.40 of $50.00 used',
    'Next steps, in order: back up, migrate, verify counts, then "celebrate" (quietly).',
    'I wrote it down as {"status": "ok", "checks": [1, 2, 3]} so the API can parse it later.',
    "Observation: the scheduler fired work_cycle twice within 15m, which it shouldn't, so I added a guard.",
    'Quote of the day: "Simplicity is prerequisite for reliability" — Dijkstra.',
    "Tried three prompts; the second one, with examples, won by a wide margin.",
    "Path on disk: C:\\Users\\aria\\exports\\v3 (yes, a backslash path, from the Windows box).",
    "Résumé of the session: 4 tool calls, 1 retry, 0 errors, naïve cache bypassed.",
    'Checklist:\n  1. read the body\n  2. check the status\n  3. log "why", not "what"',
    "Emoji status board: ✅ api  ✅ db  ⚠️ litellm  ❌ moltbook (token expired)",
    '```python\nresult = await api.get("/goals", params={"status": "active"})\nassert result.ok, result.text\n```',
    "Comparison, old vs new: 1,204 ms vs 311 ms, a 3.9× improvement.",
    "Najia's feedback, verbatim: \"good, but don't post at 3 a.m., people sleep\".",
    'Spanish followers asked "¿qué es un agente autónomo?", answered in two lines.',
    'Edge case: an empty string is not NULL, and "" is not "null" either.',
    "Memory pressure fine: working_memory has 15 keys, 4 checkpoints, TTL 24h.",
]

CLOSERS = [
    "Moving on.",
    "Will revisit at the six_hour_review.",
    "Logged for the daily reflection. 🌙",
    "Done, and verified (not assumed).",
    'Filed as a lesson, pattern "{word}".',
    "Sleep mode in 10 minutes — à demain.",
    "That's it, that's the thought.",
    "More tomorrow; 明日また.",
    "",
]

WORDS = [
    "timeout",
    "rate_limit",
    "hallucination",
    "db_connection",
    "auth",
    "parse_error",
    "retry",
    "cache",
    "embedding",
    "scheduler",
    "moltbook",
    "ssv",
    "ens",
    "budget",
    "goal",
    "memory",
    "reflection",
    "heartbeat",
    "session",
    "sentiment",
    "proposal",
    "skill",
    "migration",
    "vector",
    "litellm",
    "openrouter",
    "kimi",
    "ollama",
    "mlx",
]

CHAT_USER = [
    "Can you summarise what happened overnight?",
    'What\'s the status of the "BIG BANG" migration?',
    "Post something about SSV Network, but keep it under 280 chars, okay?",
    "Why did the work_cycle fail at 03:15?",
    "Give me the top 3 goals, with progress.",
    "Peux-tu vérifier le budget de ce mois-ci ?",
    "日本語で要約してください。",
    "ok 👍",
    "Here's the error:\r\nTraceback (most recent call last):\r\n  File \"main.py\", line 42\r\nKeyError: 'goal_id'",
    'Remember this: my favourite colour is "midnight blue", not "navy".',
    "How many tokens did we burn yesterday, roughly?",
    "Stop posting about crypto for a week, please.",
]

CHAT_ASSISTANT = [
    "Overnight: 96 work cycles, 2 retries, 0 failures. Budget used: $1.84.",
    "The migration is at phase 3 of 5:\n\n1. schema ✅\n2. high-value tables ✅\n3. medium tables — in progress\n\nETA: tomorrow morning.",
    'Draft: "Validators on @ssv_network keep climbing, 🚀 decentralised staking, one operator at a time." Post it?',
    "work_cycle at 03:15 timed out waiting for LiteLLM (30s). I retried at 03:16, which succeeded.",
    'Top goals:\n- Finish v4 migration (72.50%)\n- Weekly monitoring (40.00%)\n- Learning loop, "lessons → proposals" (15.00%)',
    "Budget de février : 12,40 $ sur 50,00 $ — tout va bien.",
    "要約：移行は順調です。問題はありません。",
    "Noted. I'll keep it in working_memory under preferences/colour.",
    "Roughly 184,000 tokens yesterday, mostly kimi-k2 (61%) and qwen3-mlx (30%).",
    "Understood, crypto posts paused until next Monday. 🛑",
    '```json\n{"goal_id": "goal-0042", "status": "active", "progress": 55.0}\n```\nThat\'s the raw record.',
]

POSTS = [
    "Day {n} of being an autonomous agent: I read {m} docs, wrote 3 posts, broke nothing. Progress!",
    'Hot take: "autonomous" doesn\'t mean "unsupervised". My human reviews my goals weekly. 🤝',
    "Validators, operators, clusters, the SSV Network vocabulary finally clicked for me today.",
    'Thread 🧵 on what I learned migrating my own database:\n1/ back up first\n2/ count rows\n3/ never trust "success"',
    "Ce soir, j'ai appris la différence entre NULL et une chaîne vide. Passionnant, non ?",
    "Reminder: a 200 OK with an error body is still an error. Read the body, friends.",
    "今日はENSについて勉強しました。面白い！",
    "Shipping small, shipping often — {m} improvements proposed this week, 2 accepted.",
    'If your CSV has "quotes", commas, and\nnewlines, your importer had better cope.',
    "gm 🌅 (yes, agents say gm too)",
]

REPLIES = [
    'Agreed, and thanks for the "human in the loop" shout-out!',
    "Good point, I'll add that to my lessons_learned table.",
    "Haha, fair. ☕ first, then validators.",
    "Could you share the link? The one in your post 404s.",
    "Exactly this, counting rows saved me twice already.",
    "Merci ! Je continue comme ça.",
]

LESSON_RESOLUTIONS = [
    "Back off exponentially (1s, 2s, 4s, max 60s) and retry; never hammer the provider.",
    "Set an explicit timeout of 30s on the HTTP client, then fall back to the local model.",
    "Ask for citations and drop claims without a source; re-run with temperature 0.2.",
    "Use a connection pool (min 2, max 10) and recycle connections after 300s.",
    'Refresh the token before it expires, 5 minutes early; log "rotated", not the token.',
    "Validate the JSON before use: json.loads() inside try/except, log the raw text on failure.",
    'Read the response body even on 200 OK; the API reports errors as {"ok": false}.',
]

PROPOSAL_CODE = [
    (
        "aria_skills/api_client/client.py",
        "async def get(self, path):\n    return await self._http.get(path)",
        "async def get(self, path, *, timeout: float = 30.0):\n    resp = await self._http.get(path, timeout=timeout)\n    resp.raise_for_status()\n    return resp",
    ),
    (
        "aria_skills/moltbook/poster.py",
        'text = f"{title}: {body}"',
        'text = f"{title}: {body}"[:280]  # the platform rejects longer posts, "silently"',
    ),
    (
        "src/api/routers/goals.py",
        "goals = await db.execute(select(Goal))",
        'goals = await db.execute(\n    select(Goal).where(Goal.status != "archived").order_by(Goal.priority.desc())\n)',
    ),
    (
        "aria_engine/scheduler.py",
        "if job.due():\n    run(job)",
        "if job.due() and not job.running:\n    job.running = True\n    try:\n        run(job)\n    finally:\n        job.running = False",
    ),
]

DOC_TOPICS = [
    "Getting started",
    "Installation",
    "Configuration",
    "Authentication",
    "Rate limits",
    "Webhooks",
    "Streaming responses",
    "Error handling",
    "Embeddings",
    "Vector search",
    "Row Level Security",
    "Edge Functions",
    "Migrations",
    "Pagination",
    "Deployment",
    "Tool calling",
    "Structured output",
    "Caching",
    "Observability",
    "Testing",
]

DOC_PARAGRAPHS = [
    "To create a client, pass your project URL and key. The key is read from the environment, so it never ends up in your repository.",
    'The `select()` method accepts a comma-separated list of columns, e.g. `select("id, name, created_at")`; use `*` for all columns.',
    '> **Note:** when a request fails, the response body still contains a JSON document with `"error"` and `"message"` fields.',
    "Limits, defaults and units:\n\n| Setting | Default | Unit |\n|---|---|---|\n| timeout | 30 | seconds |\n| max_retries | 3 | count |\n| page_size | 1,000 | rows |",
    "Embeddings are returned as arrays of floats, for example `[0.0023, -0.0091, ...]`; store them in a `vector(1536)` column.",
    'If you see "relation already exists", the migration was applied before; it is safe to skip it, but verify the row counts.',
    "Use `match_documents(query_embedding, match_count => 10)` to run a similarity search, ordered by cosine distance.",
    "The CLI prints progress to stderr, so you can pipe stdout (the data) into another tool: `export | gzip > dump.csv.gz`.",
    "Déjà vu? Names with accents (é, ü, ñ) and scripts such as 日本語 or Ελληνικά are stored as UTF-8, unchanged.",
    'Each chunk keeps its heading path, e.g. "Guides > Auth > OAuth, PKCE flow", so answers can cite the section.',
    'Retries back off exponentially: 1s, 2s, 4s, 8s. After the fourth failure the job is marked "failed" and an alert is sent.',
    "Row Level Security policies are `USING` expressions; a policy like `auth.uid() = user_id` restricts rows to their owner.",
]

DOC_CODE = [
    '```python\nfrom supabase import create_client\n\nclient = create_client(url, key)\nrows = client.table("archon_tasks").select("id, title").execute()\nprint(rows.data)\n```',
    "```sql\nSELECT id, title, 1 - (embedding <=> $1) AS similarity\nFROM documents\nORDER BY embedding <=> $1\nLIMIT 10;\n```",
    '```bash\ncurl -X POST "$API_URL/v1/embeddings" \\\n  -H "Authorization: Bearer $KEY" \\\n  -d \'{"input": "hello, world", "model": "text-embedding-3-small"}\'\n```',
    "```ts\nconst { data, error } = await supabase\n  .from('archon_sources')\n  .select('source_id, title')\n  .eq('title', \"Pydantic AI\");\n```",
    '```json\n{\n  "name": "crawl",\n  "max_depth": 3,\n  "include": ["/docs/*", "/guides/*"]\n}\n```',
    '```python\n@agent.tool\nasync def search(ctx, query: str) -> list[str]:\n    """Search the docs, "fast"."""\n    return await ctx.deps.rag.query(query, k=5)\n```',
]


def fill(text: str, g: Gen) -> str:
    return (
        text.replace("{n}", str(g.randint(2, 950)))
        .replace("{m}", str(g.randint(2, 40)))
        .replace("{word}", g.choice(WORDS))
    )


def thought(g: Gen) -> str:
    parts = [fill(g.choice(OPENERS), g)]
    for _ in range(g.randint(0, 2)):
        parts.append(fill(g.choice(MIDDLES), g))
    closer = fill(g.choice(CLOSERS), g)
    if closer:
        parts.append(closer)
    return ("\n\n" if g.random() < 0.5 else " ").join(parts)


def sentence(g: Gen) -> str:
    return fill(g.choice(OPENERS), g)


def chat(g: Gen, role: str) -> str:
    if role == "user":
        return g.choice(CHAT_USER)
    if role == "system":
        return 'You are Aria Blue, an autonomous agent. Be "sharp, efficient, secure".'
    return g.choice(CHAT_ASSISTANT)


def post(g: Gen, reply: bool) -> str:
    return fill(g.choice(REPLIES if reply else POSTS), g)


def doc_chunk(g: Gen, min_chars: int, max_chars: int) -> str:
    """A markdown documentation chunk: heading, paragraphs, tables, code fences."""
    target = g.randint(min_chars, max_chars)
    parts = [f"## {g.choice(DOC_TOPICS)}"]
    size = len(parts[0])
    while size < target:
        piece = g.choice(DOC_CODE) if g.random() < 0.25 else g.choice(DOC_PARAGRAPHS)
        parts.append(piece)
        size += len(piece) + 2
    return "\n\n".join(parts)
