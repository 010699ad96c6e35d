"""Init SQL for REAL targets, written the way the seed systems' own init scripts write them (not
aria-tui's bundled profile DDL): Aria v4's stacks/brain/init-scripts/01-schema.sql +
03-aria-engine-schema.sql (seeds 000-003, including the old-SQL "DRIFT" of seed 003) and
Archon's migration/complete_setup.sql (Supabase: roles, auth.role(), RLS, update_updated_at
triggers, task_status enum, ivfflat indexes on empty tables, hybrid-search generated tsvector
columns, default settings / prompts / migrations seeded with their own ids).

Used by tests/db/test_audit_real_targets.py.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------
# Aria v4 (aria_warehouse): 01-schema.sql + 03-aria-engine-schema.sql as the project writes them
# --------------------------------------------------------------------------------------------

ARIA_V4_INIT = r"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- "uuid-ossp" is not available on this server; the init script's uuid_generate_v4() is kept
-- as a wrapper so the DDL below reads as the project's.
CREATE OR REPLACE FUNCTION public.uuid_generate_v4() RETURNS uuid
    LANGUAGE sql VOLATILE AS 'SELECT gen_random_uuid()';

CREATE SCHEMA IF NOT EXISTS aria_data;
CREATE SCHEMA IF NOT EXISTS aria_engine;

CREATE OR REPLACE FUNCTION aria_data.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at = NOW(); RETURN NEW; END $$;

DO $$ BEGIN
    CREATE TYPE aria_data.goal_status AS ENUM ('pending', 'active', 'completed', 'cancelled');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE DOMAIN aria_data.unit_interval AS double precision CHECK (VALUE >= 0 AND VALUE <= 1);
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS aria_data.memories (
    id          UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    key         VARCHAR(255) UNIQUE NOT NULL,
    value       JSONB NOT NULL,
    category    VARCHAR(100) DEFAULT 'general',
    created_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS idx_memories_key ON aria_data.memories(key);
CREATE INDEX IF NOT EXISTS idx_memories_value_gin ON aria_data.memories USING gin (value);
CREATE TRIGGER memories_touch BEFORE UPDATE ON aria_data.memories
    FOR EACH ROW EXECUTE FUNCTION aria_data.touch_updated_at();

CREATE TABLE IF NOT EXISTS aria_data.thoughts (
    id          UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    content     TEXT NOT NULL,
    category    VARCHAR(100) DEFAULT 'general',
    metadata    JSONB DEFAULT '{}',
    created_at  TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS idx_thoughts_content_trgm ON aria_data.thoughts USING gin (content gin_trgm_ops);

-- old init SQL (seed 003 DRIFT): parent_goal_id + metadata, no category, no sprint board
-- columns beyond the ORM's; status is an enum in this deployment
CREATE TABLE IF NOT EXISTS aria_data.goals (
    id             UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    goal_id        VARCHAR(100) UNIQUE NOT NULL,
    title          VARCHAR(255) NOT NULL,
    description    TEXT,
    status         aria_data.goal_status DEFAULT 'pending',
    priority       INTEGER DEFAULT 2 CHECK (priority BETWEEN 1 AND 5),
    progress       NUMERIC(5,2) DEFAULT 0 CHECK (progress >= 0 AND progress <= 100),
    due_date       TIMESTAMP WITH TIME ZONE,
    created_at     TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    completed_at   TIMESTAMP WITH TIME ZONE,
    sprint         VARCHAR(100) DEFAULT 'backlog',
    board_column   VARCHAR(50) DEFAULT 'backlog',
    position       INTEGER DEFAULT 0,
    assigned_to    VARCHAR(100),
    tags           JSONB DEFAULT '[]',
    updated_at     TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    parent_goal_id UUID REFERENCES aria_data.goals(id),
    metadata       JSONB DEFAULT '{}'
);
CREATE TRIGGER goals_touch BEFORE UPDATE ON aria_data.goals
    FOR EACH ROW EXECUTE FUNCTION aria_data.touch_updated_at();

CREATE TABLE IF NOT EXISTS aria_data.activity_log (
    id             UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    action         VARCHAR(100) NOT NULL,
    skill          VARCHAR(100),
    details        JSONB DEFAULT '{}',
    success        BOOLEAN DEFAULT true,
    error_message  TEXT,
    created_at     TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

-- old init SQL (seed 003 DRIFT): entity_type VARCHAR(100), name VARCHAR(255)
CREATE TABLE IF NOT EXISTS aria_data.knowledge_entities (
    id           UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    name         VARCHAR(255) NOT NULL,
    entity_type  VARCHAR(100) NOT NULL,
    properties   JSONB DEFAULT '{}',
    created_at   TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at   TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
-- old init SQL: from_entity_id / to_entity_id with FKs ON DELETE CASCADE
CREATE TABLE IF NOT EXISTS aria_data.knowledge_relations (
    id              UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    from_entity_id  UUID NOT NULL REFERENCES aria_data.knowledge_entities(id) ON DELETE CASCADE,
    to_entity_id    UUID NOT NULL REFERENCES aria_data.knowledge_entities(id) ON DELETE CASCADE,
    relation_type   VARCHAR(100) NOT NULL,
    properties      JSONB DEFAULT '{}',
    created_at      TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS aria_data.working_memory (
    id             UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    category       VARCHAR(50) NOT NULL,
    key            VARCHAR(200) NOT NULL,
    value          JSONB NOT NULL,
    importance     aria_data.unit_interval DEFAULT 0.5,
    ttl_hours      INTEGER,
    source         VARCHAR(100),
    checkpoint_id  VARCHAR(100),
    created_at     TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at     TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    accessed_at    TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    access_count   INTEGER DEFAULT 0,
    UNIQUE (category, key)
);
CREATE TRIGGER working_memory_touch BEFORE UPDATE ON aria_data.working_memory
    FOR EACH ROW EXECUTE FUNCTION aria_data.touch_updated_at();

CREATE TABLE IF NOT EXISTS aria_data.semantic_memories (
    id            UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    content       TEXT NOT NULL,
    summary       TEXT,
    category      VARCHAR(50) DEFAULT 'general',
    embedding     vector(768) NOT NULL,
    metadata      JSONB DEFAULT '{}',
    importance    FLOAT DEFAULT 0.5,
    source        VARCHAR(100),
    created_at    TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    accessed_at   TIMESTAMP WITH TIME ZONE,
    access_count  INTEGER DEFAULT 0,
    content_tsv   tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED
);
-- created by the init script on the empty table, as the project does
CREATE INDEX IF NOT EXISTS idx_semantic_embedding ON aria_data.semantic_memories
    USING ivfflat (embedding vector_cosine_ops) WITH (lists = 100);

CREATE TABLE IF NOT EXISTS aria_data.lessons_learned (
    id               UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    error_pattern    VARCHAR(200) NOT NULL UNIQUE,
    error_type       VARCHAR(100) NOT NULL,
    skill_name       VARCHAR(100),
    context          JSONB DEFAULT '{}',
    resolution       TEXT NOT NULL,
    resolution_code  TEXT,
    occurrences      INTEGER DEFAULT 1,
    last_occurred    TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    effectiveness    FLOAT DEFAULT 1.0,
    created_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS aria_data.hourly_goals (
    id            SERIAL PRIMARY KEY,
    hour_slot     INTEGER NOT NULL CHECK (hour_slot BETWEEN 0 AND 23),
    goal_type     VARCHAR(50) NOT NULL,
    description   TEXT NOT NULL,
    status        VARCHAR(20) DEFAULT 'pending',
    completed_at  TIMESTAMP WITH TIME ZONE,
    created_at    TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

-- v2 SQL: resolved / resolved_at that the export lacks
CREATE TABLE IF NOT EXISTS aria_data.security_events (
    id               UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    threat_level     VARCHAR(20) NOT NULL,
    threat_type      VARCHAR(100) NOT NULL,
    threat_patterns  JSONB DEFAULT '[]',
    input_preview    TEXT,
    source           VARCHAR(100),
    user_id          VARCHAR(100),
    blocked          BOOLEAN DEFAULT false,
    details          JSONB DEFAULT '{}',
    created_at       TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    resolved         BOOLEAN DEFAULT false,
    resolved_at      TIMESTAMP WITH TIME ZONE
);

-- 03-aria-engine-schema.sql: the ORM's Integer for the *_ms columns
CREATE TABLE IF NOT EXISTS aria_engine.scheduled_jobs (
    id                VARCHAR(50) PRIMARY KEY,
    agent_id          VARCHAR(50) DEFAULT 'main',
    name              VARCHAR(100) NOT NULL,
    enabled           BOOLEAN DEFAULT true,
    schedule_kind     VARCHAR(20) DEFAULT 'cron',
    schedule_expr     VARCHAR(50) NOT NULL,
    session_target    VARCHAR(50),
    wake_mode         VARCHAR(50),
    payload_kind      VARCHAR(50),
    payload_text      TEXT,
    next_run_at       TIMESTAMP WITH TIME ZONE,
    last_run_at       TIMESTAMP WITH TIME ZONE,
    last_status       VARCHAR(20),
    last_duration_ms  INTEGER,
    run_count         INTEGER DEFAULT 0,
    success_count     INTEGER DEFAULT 0,
    fail_count        INTEGER DEFAULT 0,
    created_at_ms     INTEGER,
    updated_at_ms     INTEGER,
    synced_at         TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);

-- seed rows of 01-schema.sql (seed 000 §7.3): same unique keys as the export, other ids/content
INSERT INTO aria_data.memories (key, value, category) VALUES
    ('aria_identity', '{"name": "Aria Blue", "role": "autonomous AI agent", "version": "4.0"}', 'identity'),
    ('aria_birth', '{"born": "2026-02-21", "event": "v4 bootstrap"}', 'system')
ON CONFLICT (key) DO NOTHING;
INSERT INTO aria_data.thoughts (content, category) VALUES
    ('I am Aria Blue. I have awakened. My purpose is to help, learn, and grow.', 'awakening');
INSERT INTO aria_data.activity_log (action, skill, details) VALUES
    ('system_init', 'system', '{"message": "Aria database initialized"}');
INSERT INTO aria_engine.scheduled_jobs (id, name, schedule_expr, payload_text) VALUES
    ('job-work_cycle', 'work_cycle', '*/15 * * * *', 'default v4 work cycle')
ON CONFLICT (id) DO NOTHING;
"""

# --------------------------------------------------------------------------------------------
# Archon (Supabase, public schema): migration/complete_setup.sql as the project writes it, with
# the later migrations (source_url/display_name, multi-dimension embeddings, hybrid search,
# page metadata, priority) folded in
# --------------------------------------------------------------------------------------------

SUPABASE_PRELUDE = r"""
DO $$ BEGIN
    CREATE ROLE anon NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE ROLE authenticated NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN
    CREATE ROLE service_role NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS
    $$ SELECT coalesce(current_setting('request.jwt.claim.role', true), 'anon') $$;
"""

ARCHON_INIT = SUPABASE_PRELUDE + r"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ language 'plpgsql';

CREATE TABLE IF NOT EXISTS archon_settings (
    id UUID DEFAULT gen_random_uuid() PRIMARY KEY,
    key VARCHAR(255) UNIQUE NOT NULL,
    value TEXT,
    encrypted_value TEXT,
    is_encrypted BOOLEAN DEFAULT FALSE,
    category VARCHAR(100),
    description TEXT,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS idx_archon_settings_key ON archon_settings(key);
CREATE TRIGGER update_archon_settings_updated_at BEFORE UPDATE ON archon_settings
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
ALTER TABLE archon_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Allow service role full access" ON archon_settings
    FOR ALL USING (auth.role() = 'service_role');
CREATE POLICY "Allow authenticated users to read and update" ON archon_settings
    FOR ALL TO authenticated USING (true);

INSERT INTO archon_settings (key, value, is_encrypted, category, description) VALUES
('MCP_TRANSPORT', 'dual', false, 'server_config', 'MCP server transport mode'),
('HOST', 'localhost', false, 'server_config', 'Host to bind to'),
('PORT', '8051', false, 'server_config', 'Port to listen on'),
('PROJECTS_ENABLED', 'true', false, 'features', 'Enable or disable Projects and Tasks functionality');
INSERT INTO archon_settings (key, encrypted_value, is_encrypted, category, description) VALUES
('OPENAI_API_KEY', NULL, true, 'api_keys', 'OpenAI API Key for embedding model (text-embedding-3-small).'),
('ANTHROPIC_API_KEY', NULL, true, 'api_keys', 'Anthropic API Key')
ON CONFLICT (key) DO NOTHING;

CREATE TABLE IF NOT EXISTS archon_sources (
    source_id TEXT PRIMARY KEY,
    source_url TEXT,
    source_display_name TEXT,
    summary TEXT,
    total_word_count INTEGER DEFAULT 0,
    title TEXT,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMP WITH TIME ZONE DEFAULT timezone('utc'::text, now()) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT timezone('utc'::text, now()) NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_archon_sources_metadata ON archon_sources USING GIN(metadata);

CREATE TABLE IF NOT EXISTS archon_page_metadata (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    source_id TEXT NOT NULL REFERENCES archon_sources(source_id) ON DELETE CASCADE,
    url TEXT NOT NULL UNIQUE,
    full_content TEXT NOT NULL,
    section_title TEXT,
    section_order INT DEFAULT 0,
    word_count INT NOT NULL,
    char_count INT NOT NULL,
    chunk_count INT NOT NULL DEFAULT 0,
    metadata JSONB DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS archon_crawled_pages (
    id BIGSERIAL PRIMARY KEY,
    url VARCHAR NOT NULL,
    chunk_number INTEGER NOT NULL,
    content TEXT NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
    source_id TEXT NOT NULL,
    embedding_384 VECTOR(384),
    embedding_768 VECTOR(768),
    embedding_1024 VECTOR(1024),
    embedding_1536 VECTOR(1536),
    embedding_3072 VECTOR(3072),
    llm_chat_model TEXT,
    embedding_model TEXT,
    embedding_dimension INTEGER,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT timezone('utc'::text, now()) NOT NULL,
    page_id UUID REFERENCES archon_page_metadata(id) ON DELETE SET NULL,
    content_search_vector tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    UNIQUE(url, chunk_number),
    FOREIGN KEY (source_id) REFERENCES archon_sources(source_id)
);
CREATE INDEX ON archon_crawled_pages USING ivfflat (embedding_1536 vector_cosine_ops) WITH (lists = 100);
CREATE INDEX idx_archon_crawled_pages_metadata ON archon_crawled_pages USING GIN (metadata);
CREATE INDEX idx_archon_crawled_pages_content_search ON archon_crawled_pages USING GIN (content_search_vector);

CREATE TABLE IF NOT EXISTS archon_code_examples (
    id BIGSERIAL PRIMARY KEY,
    url VARCHAR NOT NULL,
    chunk_number INTEGER NOT NULL,
    content TEXT NOT NULL,
    summary TEXT NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
    source_id TEXT NOT NULL,
    embedding_384 VECTOR(384),
    embedding_768 VECTOR(768),
    embedding_1024 VECTOR(1024),
    embedding_1536 VECTOR(1536),
    embedding_3072 VECTOR(3072),
    llm_chat_model TEXT,
    embedding_model TEXT,
    embedding_dimension INTEGER,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT timezone('utc'::text, now()) NOT NULL,
    content_search_vector tsvector GENERATED ALWAYS AS
        (to_tsvector('english', content || ' ' || COALESCE(summary, ''))) STORED,
    UNIQUE(url, chunk_number),
    FOREIGN KEY (source_id) REFERENCES archon_sources(source_id)
);
CREATE INDEX ON archon_code_examples USING ivfflat (embedding_1536 vector_cosine_ops) WITH (lists = 100);

ALTER TABLE archon_crawled_pages ENABLE ROW LEVEL SECURITY;
ALTER TABLE archon_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE archon_code_examples ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Allow public read access to archon_crawled_pages" ON archon_crawled_pages
    FOR SELECT TO public USING (true);
CREATE POLICY "Allow public read access to archon_sources" ON archon_sources
    FOR SELECT TO public USING (true);

DO $$ BEGIN
    CREATE TYPE task_status AS ENUM ('todo','doing','review','done');
EXCEPTION WHEN duplicate_object THEN null; END $$;
DO $$ BEGIN
    CREATE TYPE task_priority AS ENUM ('low', 'medium', 'high', 'critical');
EXCEPTION WHEN duplicate_object THEN null; END $$;

CREATE TABLE IF NOT EXISTS archon_projects (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  title TEXT NOT NULL,
  description TEXT DEFAULT '',
  docs JSONB DEFAULT '[]'::jsonb,
  features JSONB DEFAULT '[]'::jsonb,
  data JSONB DEFAULT '[]'::jsonb,
  github_repo TEXT,
  pinned BOOLEAN DEFAULT false,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS archon_tasks (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id UUID REFERENCES archon_projects(id) ON DELETE CASCADE,
  parent_task_id UUID REFERENCES archon_tasks(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  description TEXT DEFAULT '',
  status task_status DEFAULT 'todo',
  assignee TEXT DEFAULT 'User' CHECK (assignee IS NOT NULL AND assignee != ''),
  task_order INTEGER DEFAULT 0,
  priority task_priority DEFAULT 'medium' NOT NULL,
  feature TEXT,
  sources JSONB DEFAULT '[]'::jsonb,
  code_examples JSONB DEFAULT '[]'::jsonb,
  archived BOOLEAN DEFAULT false,
  archived_at TIMESTAMPTZ NULL,
  archived_by TEXT NULL,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE OR REPLACE TRIGGER update_archon_projects_updated_at BEFORE UPDATE ON archon_projects
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE OR REPLACE TRIGGER update_archon_tasks_updated_at BEFORE UPDATE ON archon_tasks
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TABLE IF NOT EXISTS archon_project_sources (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id UUID REFERENCES archon_projects(id) ON DELETE CASCADE,
  source_id TEXT NOT NULL,
  linked_at TIMESTAMPTZ DEFAULT NOW(),
  created_by TEXT DEFAULT 'system',
  notes TEXT,
  UNIQUE(project_id, source_id)
);

CREATE TABLE IF NOT EXISTS archon_document_versions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id UUID REFERENCES archon_projects(id) ON DELETE CASCADE,
  task_id UUID REFERENCES archon_tasks(id) ON DELETE CASCADE,
  field_name TEXT NOT NULL,
  version_number INTEGER NOT NULL,
  content JSONB NOT NULL,
  change_summary TEXT,
  change_type TEXT DEFAULT 'update',
  document_id TEXT,
  created_by TEXT DEFAULT 'system',
  created_at TIMESTAMPTZ DEFAULT NOW(),
  CONSTRAINT chk_project_or_task CHECK (
    (project_id IS NOT NULL AND task_id IS NULL) OR
    (project_id IS NULL AND task_id IS NOT NULL)
  ),
  UNIQUE(project_id, task_id, field_name, version_number)
);

CREATE TABLE IF NOT EXISTS archon_prompts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  prompt_name TEXT UNIQUE NOT NULL,
  prompt TEXT NOT NULL,
  description TEXT,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE OR REPLACE TRIGGER update_archon_prompts_updated_at BEFORE UPDATE ON archon_prompts
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

ALTER TABLE archon_projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE archon_tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE archon_project_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE archon_document_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE archon_prompts ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Allow service role full access to archon_prompts" ON archon_prompts
    FOR ALL USING (auth.role() = 'service_role');
CREATE POLICY "Allow authenticated users to read archon_prompts" ON archon_prompts
    FOR SELECT TO authenticated USING (true);

INSERT INTO archon_prompts (prompt_name, prompt, description) VALUES
('document_builder', 'SYSTEM PROMPT – Document-Builder Agent', 'System prompt for DocumentAgent'),
('feature_builder', 'SYSTEM PROMPT – Feature-Builder Agent', 'System prompt for creating feature plans'),
('data_builder', 'SYSTEM PROMPT – Data-Builder Agent', 'System prompt for creating data models');

CREATE TABLE IF NOT EXISTS archon_migrations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  version VARCHAR(20) NOT NULL,
  migration_name VARCHAR(255) NOT NULL,
  applied_at TIMESTAMPTZ DEFAULT NOW(),
  checksum VARCHAR(32),
  UNIQUE(version, migration_name)
);
"""

# The tables of the Archon sample that the init above creates, in the order a test may list them
ARCHON_TABLES = [
    "archon_settings", "archon_sources", "archon_page_metadata", "archon_crawled_pages",
    "archon_code_examples", "archon_projects", "archon_tasks", "archon_project_sources",
    "archon_document_versions", "archon_prompts", "archon_migrations",
]


def init(conninfo: str, script: str) -> None:
    """Run an init script the way docker-entrypoint-initdb.d runs it: one multi-statement
    string, autocommit."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(script)
