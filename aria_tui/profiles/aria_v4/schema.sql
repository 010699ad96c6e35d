-- =============================================================================
-- Aria v4 target schema: aria_data (26 tables) + aria_engine (11 tables)
-- =============================================================================
-- Reconstructed from the shared seeds:
--   002  ORM models reference, v3.0.0 (37 models; newest; table lists, key
--        columns, ForeignKey Summary with ON DELETE)
--   001  schema reference snapshot 2026-02-16 (column details for memories,
--        semantic_memories, working_memory, agent_sessions, goals; indexes)
--   003  older ORM reference (18 models, column tables, "DRIFT" notes)
--   000  v3 -> v4 migration report (seed rows, serial tables, goals columns)
-- Where the seeds disagree the newest document wins (002, then 001, then
-- 003) and a comment says so at that spot.
--
-- Column order inside each CREATE TABLE is the order of the v3 export's CSV
-- header (the export was COPY ... TO ... CSV HEADER of the same tables).
--
-- Idempotent: every statement is IF NOT EXISTS / ON CONFLICT DO NOTHING, all
-- constraints are inline, so running the file twice changes nothing. No psql
-- meta-commands: the file is executed as one multi-statement string.
-- uuid-ossp is not required: uuid_generate_v4() of the seeds is written as
-- the built-in gen_random_uuid().
-- No vector (HNSW/IVFFlat) indexes: build them after the bulk load if wanted.
-- =============================================================================

CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE SCHEMA IF NOT EXISTS aria_data;
CREATE SCHEMA IF NOT EXISTS aria_engine;

-- =============================================================================
-- aria_data — domain tables (seed 002: 26 models)
-- =============================================================================

-- 1. Memory (seed 001/003)
CREATE TABLE IF NOT EXISTS aria_data.memories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key         varchar(255) NOT NULL UNIQUE,
    value       jsonb NOT NULL,
    category    varchar(100) DEFAULT 'general',
    created_at  timestamptz DEFAULT now(),
    updated_at  timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_memories_key      ON aria_data.memories (key);
CREATE INDEX IF NOT EXISTS idx_memories_category ON aria_data.memories (category);
CREATE INDEX IF NOT EXISTS idx_memories_updated  ON aria_data.memories (updated_at DESC);
CREATE INDEX IF NOT EXISTS idx_memories_value_gin ON aria_data.memories USING gin (value);

-- 2. Thought (seed 003; ORM attribute metadata_json maps to DB column "metadata")
CREATE TABLE IF NOT EXISTS aria_data.thoughts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    content     text NOT NULL,
    category    varchar(100) DEFAULT 'general',
    metadata    jsonb DEFAULT '{}'::jsonb,
    created_at  timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_thoughts_category ON aria_data.thoughts (category);
CREATE INDEX IF NOT EXISTS idx_thoughts_created  ON aria_data.thoughts (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_thoughts_created_category ON aria_data.thoughts (created_at DESC, category);
CREATE INDEX IF NOT EXISTS idx_thoughts_content_trgm ON aria_data.thoughts USING gin (content gin_trgm_ops);

-- 3. Goal
-- Seed 001 (newer) adds the sprint-board columns sprint, board_column,
-- position, assigned_to, tags, updated_at to the seed 003 column list; they
-- follow the original columns in the export header.
-- Seed 003 "DRIFT" mentions parent_goal_id (FK -> goals.id) and metadata in
-- the old init SQL: neither is in seed 001/002, and seed 000 §7.1 says v4
-- dropped the export's `category` and `metadata` columns. So v4 goals has NO
-- parent_goal_id, NO category, NO metadata (the profile lists category and
-- metadata as extra_columns of goals.csv).
CREATE TABLE IF NOT EXISTS aria_data.goals (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    goal_id       varchar(100) NOT NULL UNIQUE,
    title         varchar(255) NOT NULL,
    description   text,
    status        varchar(50) DEFAULT 'pending',
    priority      integer DEFAULT 2,
    progress      numeric(5,2) DEFAULT 0,
    due_date      timestamptz,
    created_at    timestamptz DEFAULT now(),
    completed_at  timestamptz,
    sprint        varchar(100) DEFAULT 'backlog',
    board_column  varchar(50) DEFAULT 'backlog',
    position      integer DEFAULT 0,
    assigned_to   varchar(100),
    tags          jsonb DEFAULT '[]'::jsonb,
    updated_at    timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_goals_status   ON aria_data.goals (status);
CREATE INDEX IF NOT EXISTS idx_goals_priority ON aria_data.goals (priority DESC);
CREATE INDEX IF NOT EXISTS idx_goals_created  ON aria_data.goals (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_goals_status_priority_created ON aria_data.goals (status, priority DESC, created_at DESC);

-- 4. ActivityLog (seed 003)
CREATE TABLE IF NOT EXISTS aria_data.activity_log (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    action         varchar(100) NOT NULL,
    skill          varchar(100),
    details        jsonb DEFAULT '{}'::jsonb,
    success        boolean DEFAULT true,
    error_message  text,
    created_at     timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_activity_action  ON aria_data.activity_log (action);
CREATE INDEX IF NOT EXISTS idx_activity_skill   ON aria_data.activity_log (skill);
CREATE INDEX IF NOT EXISTS idx_activity_created ON aria_data.activity_log (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_activity_created_action ON aria_data.activity_log (created_at DESC, action);
CREATE INDEX IF NOT EXISTS idx_activity_details_gin ON aria_data.activity_log USING gin (details);

-- 5. SocialPost
-- Seed 003 has post_id nullable and not unique, reply_to a plain string;
-- seed 002 (newer) says post_id is UNIQUE and reply_to is a self FK to
-- social_posts.post_id ON DELETE SET NULL. Follow 002. post_id stays
-- nullable (UNIQUE allows several NULLs). Load parents before replies, or
-- let the loader handle the self-reference (seed 000 §7.5).
CREATE TABLE IF NOT EXISTS aria_data.social_posts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    platform    varchar(50) DEFAULT 'moltbook',
    post_id     varchar(100) UNIQUE,
    content     text NOT NULL,
    visibility  varchar(50) DEFAULT 'public',
    reply_to    varchar(100)
                REFERENCES aria_data.social_posts (post_id) ON DELETE SET NULL,
    url         text,
    posted_at   timestamptz DEFAULT now(),
    metadata    jsonb DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS idx_posts_platform ON aria_data.social_posts (platform);
CREATE INDEX IF NOT EXISTS idx_posts_posted   ON aria_data.social_posts (posted_at DESC);
CREATE INDEX IF NOT EXISTS idx_posts_reply_to ON aria_data.social_posts (reply_to);

-- 6. HourlyGoal (seed 003; serial id -> sequence aria_data.hourly_goals_id_seq, seed 000 §6 Phase 4)
CREATE TABLE IF NOT EXISTS aria_data.hourly_goals (
    id            serial PRIMARY KEY,
    hour_slot     integer NOT NULL,
    goal_type     varchar(50) NOT NULL,
    description   text NOT NULL,
    status        varchar(20) DEFAULT 'pending',
    completed_at  timestamptz,
    created_at    timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_hourly_goals_status ON aria_data.hourly_goals (status);

-- 7. KnowledgeEntity
-- Seed 003 DRIFT: the old init SQL named the column entity_type
-- varchar(100) and name varchar(255); the ORM (seed 002, newest, and seed
-- 001 "Entity: name, type, properties") uses `type` text and name text.
-- Follow 002: column `type`. An older export carrying entity_type is mapped
-- by the profile rename entity_type -> type.
CREATE TABLE IF NOT EXISTS aria_data.knowledge_entities (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    type        text NOT NULL,
    properties  jsonb DEFAULT '{}'::jsonb,
    created_at  timestamptz DEFAULT now(),
    updated_at  timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_kg_entity_name   ON aria_data.knowledge_entities (name);
CREATE INDEX IF NOT EXISTS idx_kg_entities_type ON aria_data.knowledge_entities (type);

-- 8. KnowledgeRelation
-- Seed 003 DRIFT: the old init SQL used from_entity_id / to_entity_id with
-- FKs ON DELETE CASCADE, the ORM of seed 003 used from_entity / to_entity
-- without FKs. Seed 002 (newest) has from_entity / to_entity WITH FKs to
-- knowledge_entities.id ON DELETE CASCADE. Follow 002. Older exports are
-- mapped by the profile renames from_entity_id -> from_entity,
-- to_entity_id -> to_entity. relation_type is text (ORM), not varchar(100).
CREATE TABLE IF NOT EXISTS aria_data.knowledge_relations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    from_entity    uuid NOT NULL
                   REFERENCES aria_data.knowledge_entities (id) ON DELETE CASCADE,
    to_entity      uuid NOT NULL
                   REFERENCES aria_data.knowledge_entities (id) ON DELETE CASCADE,
    relation_type  text NOT NULL,
    properties     jsonb DEFAULT '{}'::jsonb,
    created_at     timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_kg_relation_from ON aria_data.knowledge_relations (from_entity);
CREATE INDEX IF NOT EXISTS idx_kg_relation_to   ON aria_data.knowledge_relations (to_entity);
CREATE INDEX IF NOT EXISTS idx_kg_relations_type ON aria_data.knowledge_relations (relation_type);

-- 9. SkillGraphEntity (seed 002: UNIQUE(name, type); auto-generated from skill.json)
CREATE TABLE IF NOT EXISTS aria_data.skill_graph_entities (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    type        text NOT NULL,
    properties  jsonb DEFAULT '{}'::jsonb,
    created_at  timestamptz DEFAULT now(),
    updated_at  timestamptz DEFAULT now(),
    UNIQUE (name, type)
);
CREATE INDEX IF NOT EXISTS idx_skill_graph_entities_type ON aria_data.skill_graph_entities (type);

-- 10. SkillGraphRelation (seed 002: FKs ON DELETE CASCADE)
CREATE TABLE IF NOT EXISTS aria_data.skill_graph_relations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    from_entity    uuid NOT NULL
                   REFERENCES aria_data.skill_graph_entities (id) ON DELETE CASCADE,
    to_entity      uuid NOT NULL
                   REFERENCES aria_data.skill_graph_entities (id) ON DELETE CASCADE,
    relation_type  text NOT NULL,
    properties     jsonb DEFAULT '{}'::jsonb,
    created_at     timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_skill_graph_relations_from ON aria_data.skill_graph_relations (from_entity);
CREATE INDEX IF NOT EXISTS idx_skill_graph_relations_to   ON aria_data.skill_graph_relations (to_entity);

-- 11. KnowledgeQueryLog (seed 002 key columns; the rest reconstructed)
CREATE TABLE IF NOT EXISTS aria_data.knowledge_query_log (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    query_type    varchar(50) NOT NULL,
    params        jsonb DEFAULT '{}'::jsonb,
    result_count  integer DEFAULT 0,
    tokens_saved  integer DEFAULT 0,
    source        varchar(100),
    created_at    timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_kql_query_type ON aria_data.knowledge_query_log (query_type);
CREATE INDEX IF NOT EXISTS idx_kql_created    ON aria_data.knowledge_query_log (created_at DESC);

-- 12. PerformanceLog (seed 003; serial -> aria_data.performance_log_id_seq)
CREATE TABLE IF NOT EXISTS aria_data.performance_log (
    id             serial PRIMARY KEY,
    review_period  varchar(20) NOT NULL,
    successes      text,
    failures       text,
    improvements   text,
    created_at     timestamptz DEFAULT now()
);

-- 13. PendingComplexTask (seed 003; serial -> aria_data.pending_complex_tasks_id_seq)
CREATE TABLE IF NOT EXISTS aria_data.pending_complex_tasks (
    id            serial PRIMARY KEY,
    task_id       varchar(50) NOT NULL UNIQUE,
    task_type     varchar(50) NOT NULL,
    description   text NOT NULL,
    agent_type    varchar(50) NOT NULL,
    priority      varchar(20) DEFAULT 'medium',
    status        varchar(20) DEFAULT 'pending',
    result        text,
    created_at    timestamptz DEFAULT now(),
    completed_at  timestamptz
);
CREATE INDEX IF NOT EXISTS idx_pending_tasks_status ON aria_data.pending_complex_tasks (status);

-- 14. HeartbeatLog (seed 003)
CREATE TABLE IF NOT EXISTS aria_data.heartbeat_log (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    beat_number  integer NOT NULL,
    status       varchar(50) DEFAULT 'healthy',
    details      jsonb DEFAULT '{}'::jsonb,
    created_at   timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_heartbeat_created ON aria_data.heartbeat_log (created_at DESC);

-- 15. AgentSession (seed 001/003)
CREATE TABLE IF NOT EXISTS aria_data.agent_sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id        varchar(100) NOT NULL,
    session_type    varchar(50) DEFAULT 'interactive',
    started_at      timestamptz DEFAULT now(),
    ended_at        timestamptz,
    messages_count  integer DEFAULT 0,
    tokens_used     integer DEFAULT 0,
    cost_usd        numeric(10,6) DEFAULT 0,
    status          varchar(50) DEFAULT 'active',
    metadata        jsonb DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS idx_agent_sessions_agent   ON aria_data.agent_sessions (agent_id);
CREATE INDEX IF NOT EXISTS idx_agent_sessions_started ON aria_data.agent_sessions (started_at DESC);
CREATE INDEX IF NOT EXISTS idx_agent_sessions_status  ON aria_data.agent_sessions (status);
CREATE INDEX IF NOT EXISTS idx_agent_sessions_metadata_gin ON aria_data.agent_sessions USING gin (metadata);
CREATE INDEX IF NOT EXISTS idx_agent_sessions_openclaw ON aria_data.agent_sessions ((metadata ->> 'openclaw_session_id'));

-- 16. SessionMessage
-- Seed 002: session_id -> agent_sessions.id ON DELETE SET NULL; role,
-- content, content_hash; UNIQUE(ext_id, role, hash). The seed abbreviates
-- the unique key; reconstructed as (external_session_id, role, content_hash).
CREATE TABLE IF NOT EXISTS aria_data.session_messages (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id           uuid
                         REFERENCES aria_data.agent_sessions (id) ON DELETE SET NULL,
    external_session_id  varchar(200),
    agent_id             varchar(100),
    role                 varchar(20) NOT NULL,
    content              text NOT NULL,
    content_hash         varchar(64) NOT NULL,
    source_channel       varchar(50),
    tokens               integer,
    latency_ms           integer,
    metadata             jsonb DEFAULT '{}'::jsonb,
    created_at           timestamptz DEFAULT now(),
    UNIQUE (external_session_id, role, content_hash)
);
CREATE INDEX IF NOT EXISTS idx_session_messages_session ON aria_data.session_messages (session_id);
CREATE INDEX IF NOT EXISTS idx_session_messages_created ON aria_data.session_messages (created_at DESC);

-- 17. SentimentEvent
-- Seed 002: message_id -> session_messages.id ON DELETE CASCADE,
-- session_id -> agent_sessions.id ON DELETE SET NULL; valence, arousal,
-- dominance. Other columns reconstructed.
CREATE TABLE IF NOT EXISTS aria_data.sentiment_events (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id           uuid NOT NULL
                         REFERENCES aria_data.session_messages (id) ON DELETE CASCADE,
    session_id           uuid
                         REFERENCES aria_data.agent_sessions (id) ON DELETE SET NULL,
    external_session_id  varchar(200),
    sentiment_label      varchar(20),
    primary_emotion      varchar(50),
    valence              double precision NOT NULL,
    arousal              double precision NOT NULL,
    dominance            double precision NOT NULL,
    confidence           double precision DEFAULT 0.5,
    importance           double precision DEFAULT 0.3,
    context              jsonb DEFAULT '{}'::jsonb,
    created_at           timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_sentiment_message ON aria_data.sentiment_events (message_id);
CREATE INDEX IF NOT EXISTS idx_sentiment_session ON aria_data.sentiment_events (session_id);
CREATE INDEX IF NOT EXISTS idx_sentiment_created ON aria_data.sentiment_events (created_at DESC);

-- 18. ModelUsage
-- Seed 003 DRIFT: the ORM of 003 had no FK on session_id; seed 002 (newest)
-- has session_id -> agent_sessions.id ON DELETE SET NULL. Follow 002.
CREATE TABLE IF NOT EXISTS aria_data.model_usage (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model          varchar(100) NOT NULL,
    provider       varchar(50),
    input_tokens   integer DEFAULT 0,
    output_tokens  integer DEFAULT 0,
    cost_usd       numeric(10,6) DEFAULT 0,
    latency_ms     integer,
    success        boolean DEFAULT true,
    error_message  text,
    session_id     uuid
                   REFERENCES aria_data.agent_sessions (id) ON DELETE SET NULL,
    created_at     timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_model_usage_model   ON aria_data.model_usage (model);
CREATE INDEX IF NOT EXISTS idx_model_usage_created ON aria_data.model_usage (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_model_usage_session ON aria_data.model_usage (session_id);

-- 19. SecurityEvent
-- Seed 003 DRIFT: the v2 public-schema SQL had resolved / resolved_at; seed
-- 000 §2.2 says the aria_data version matches the ORM, which has neither.
-- Follow the ORM (no resolved columns, idx_security_blocked not _resolved).
CREATE TABLE IF NOT EXISTS aria_data.security_events (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    threat_level     varchar(20) NOT NULL,
    threat_type      varchar(100) NOT NULL,
    threat_patterns  jsonb DEFAULT '[]'::jsonb,
    input_preview    text,
    source           varchar(100),
    user_id          varchar(100),
    blocked          boolean DEFAULT false,
    details          jsonb DEFAULT '{}'::jsonb,
    created_at       timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_security_threat_level ON aria_data.security_events (threat_level);
CREATE INDEX IF NOT EXISTS idx_security_threat_type  ON aria_data.security_events (threat_type);
CREATE INDEX IF NOT EXISTS idx_security_created      ON aria_data.security_events (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_security_blocked      ON aria_data.security_events (blocked);

-- 20. AgentPerformance (seed 002 key columns; serial -> aria_data.agent_performance_id_seq)
CREATE TABLE IF NOT EXISTS aria_data.agent_performance (
    id               serial PRIMARY KEY,
    agent_id         varchar(100) NOT NULL,
    task_type        varchar(100) NOT NULL,
    success          boolean NOT NULL,
    duration_ms      integer,
    token_cost       numeric(10,6),
    pheromone_score  numeric(10,4) DEFAULT 0.5,
    metadata         jsonb DEFAULT '{}'::jsonb,
    created_at       timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_agent_perf_agent ON aria_data.agent_performance (agent_id);

-- 21. WorkingMemory (seed 001: UNIQUE(category, key))
CREATE TABLE IF NOT EXISTS aria_data.working_memory (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    category       varchar(50) NOT NULL,
    key            varchar(200) NOT NULL,
    value          jsonb NOT NULL,
    importance     double precision DEFAULT 0.5,
    ttl_hours      integer,
    source         varchar(100),
    checkpoint_id  varchar(100),
    created_at     timestamptz DEFAULT now(),
    updated_at     timestamptz DEFAULT now(),
    accessed_at    timestamptz DEFAULT now(),
    access_count   integer DEFAULT 0,
    UNIQUE (category, key)
);
CREATE INDEX IF NOT EXISTS idx_working_memory_importance ON aria_data.working_memory (importance DESC);
CREATE INDEX IF NOT EXISTS idx_working_memory_checkpoint ON aria_data.working_memory (checkpoint_id);

-- 22. SkillStatusRecord (seed 002 key columns; skill_name unique)
CREATE TABLE IF NOT EXISTS aria_data.skill_status (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    skill_name         varchar(100) NOT NULL UNIQUE,
    canonical_name     varchar(100),
    layer              integer,
    status             varchar(20) DEFAULT 'unavailable',
    last_health_check  timestamptz,
    last_execution     timestamptz,
    use_count          integer DEFAULT 0,
    error_count        integer DEFAULT 0,
    metadata           jsonb DEFAULT '{}'::jsonb,
    created_at         timestamptz DEFAULT now(),
    updated_at         timestamptz DEFAULT now()
);

-- 23. SemanticMemory (seed 001: embedding vector(768) NOT NULL)
CREATE TABLE IF NOT EXISTS aria_data.semantic_memories (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    content       text NOT NULL,
    summary       text,
    category      varchar(50) DEFAULT 'general',
    embedding     vector(768) NOT NULL,
    metadata      jsonb DEFAULT '{}'::jsonb,
    importance    double precision DEFAULT 0.5,
    source        varchar(100),
    created_at    timestamptz DEFAULT now(),
    accessed_at   timestamptz,
    access_count  integer DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_semantic_category   ON aria_data.semantic_memories (category);
CREATE INDEX IF NOT EXISTS idx_semantic_created    ON aria_data.semantic_memories (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_semantic_importance ON aria_data.semantic_memories (importance DESC);

-- 24. LessonLearned (seed 002: error_pattern unique)
CREATE TABLE IF NOT EXISTS aria_data.lessons_learned (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    error_pattern    varchar(200) NOT NULL UNIQUE,
    error_type       varchar(100) NOT NULL,
    skill_name       varchar(100),
    context          jsonb DEFAULT '{}'::jsonb,
    resolution       text NOT NULL,
    resolution_code  text,
    occurrences      integer DEFAULT 1,
    last_occurred    timestamptz DEFAULT now(),
    effectiveness    double precision DEFAULT 1.0,
    created_at       timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_lessons_error_type ON aria_data.lessons_learned (error_type);
CREATE INDEX IF NOT EXISTS idx_lessons_skill      ON aria_data.lessons_learned (skill_name);

-- 25. ImprovementProposal (seed 002 key columns)
CREATE TABLE IF NOT EXISTS aria_data.improvement_proposals (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title          varchar(200) NOT NULL,
    description    text NOT NULL,
    category       varchar(50),
    risk_level     varchar(20) DEFAULT 'low',
    file_path      varchar(500),
    current_code   text,
    proposed_code  text,
    rationale      text,
    status         varchar(20) DEFAULT 'proposed',
    reviewed_by    varchar(100),
    reviewed_at    timestamptz,
    created_at     timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_proposals_status ON aria_data.improvement_proposals (status);

-- 26. SkillInvocation (seed 002 key columns)
CREATE TABLE IF NOT EXISTS aria_data.skill_invocations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    skill_name   varchar(100) NOT NULL,
    tool_name    varchar(100) NOT NULL,
    duration_ms  integer,
    success      boolean DEFAULT true,
    error_type   varchar(100),
    tokens_used  integer,
    model_used   varchar(100),
    created_at   timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_skill_invocations_skill   ON aria_data.skill_invocations (skill_name);
CREATE INDEX IF NOT EXISTS idx_skill_invocations_created ON aria_data.skill_invocations (created_at DESC);

-- =============================================================================
-- aria_engine — infrastructure tables
-- Seed 000 §2.1 counts 10 aria_engine tables; seed 002 (newest) lists 11
-- models (scheduled_jobs, schedule_tick, rate_limits, api_key_rotations,
-- chat_sessions, chat_messages, cron_jobs, agent_state, config, agent_tools,
-- llm_models). Follow 002: 11 tables.
-- =============================================================================

-- 1. ScheduledJob (seed 003; id is a string primary key, no default)
-- Seed 003 types created_at_ms / updated_at_ms as Integer, but milliseconds
-- since the epoch (~1.7e12) overflow int4: bigint here.
CREATE TABLE IF NOT EXISTS aria_engine.scheduled_jobs (
    id                varchar(50) PRIMARY KEY,
    agent_id          varchar(50) DEFAULT 'main',
    name              varchar(100) NOT NULL,
    enabled           boolean DEFAULT true,
    schedule_kind     varchar(20) DEFAULT 'cron',
    schedule_expr     varchar(50) NOT NULL,
    session_target    varchar(50),
    wake_mode         varchar(50),
    payload_kind      varchar(50),
    payload_text      text,
    next_run_at       timestamptz,
    last_run_at       timestamptz,
    last_status       varchar(20),
    last_duration_ms  integer,
    run_count         integer DEFAULT 0,
    success_count     integer DEFAULT 0,
    fail_count        integer DEFAULT 0,
    created_at_ms     bigint,
    updated_at_ms     bigint,
    synced_at         timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_jobs_name     ON aria_engine.scheduled_jobs (name);
CREATE INDEX IF NOT EXISTS idx_jobs_enabled  ON aria_engine.scheduled_jobs (enabled);
CREATE INDEX IF NOT EXISTS idx_jobs_next_run ON aria_engine.scheduled_jobs (next_run_at);

-- 2. ScheduleTick (seed 003; runtime singleton, integer id without sequence)
CREATE TABLE IF NOT EXISTS aria_engine.schedule_tick (
    id                  integer PRIMARY KEY,
    last_tick           timestamptz,
    tick_count          integer DEFAULT 0,
    heartbeat_interval  integer DEFAULT 3600,
    enabled             boolean DEFAULT true,
    jobs_total          integer DEFAULT 0,
    jobs_successful     integer DEFAULT 0,
    jobs_failed         integer DEFAULT 0,
    last_job_name       varchar(255),
    last_job_status     varchar(50),
    next_job_at         timestamptz,
    updated_at          timestamptz DEFAULT now()
);

-- 3. RateLimit (seed 003)
CREATE TABLE IF NOT EXISTS aria_engine.rate_limits (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    skill         varchar(100) NOT NULL UNIQUE,
    last_action   timestamptz,
    action_count  integer DEFAULT 0,
    window_start  timestamptz DEFAULT now(),
    created_at    timestamptz DEFAULT now(),
    last_post     timestamptz,
    updated_at    timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_rate_limits_skill ON aria_engine.rate_limits (skill);

-- 4. ApiKeyRotation (seed 003; reason is text per the ORM, not the old
-- varchar(255); the old SQL's indexes are kept)
CREATE TABLE IF NOT EXISTS aria_engine.api_key_rotations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    service     varchar(100) NOT NULL,
    rotated_at  timestamptz DEFAULT now(),
    reason      text,
    rotated_by  varchar(100) DEFAULT 'system',
    metadata    jsonb DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS idx_api_rotation_service ON aria_engine.api_key_rotations (service);
CREATE INDEX IF NOT EXISTS idx_api_rotation_rotated ON aria_engine.api_key_rotations (rotated_at DESC);

-- 5. EngineChatSession (seed 002 key columns; not in the v3 export)
CREATE TABLE IF NOT EXISTS aria_engine.chat_sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id        varchar(100) NOT NULL DEFAULT 'main',
    session_type    varchar(50) DEFAULT 'interactive',
    title           varchar(500),
    system_prompt   text,
    model           varchar(200),
    temperature     double precision DEFAULT 0.7,
    max_tokens      integer DEFAULT 4096,
    context_window  integer DEFAULT 50,
    status          varchar(50) DEFAULT 'active',
    message_count   integer DEFAULT 0,
    total_tokens    integer DEFAULT 0,
    total_cost      numeric(10,6) DEFAULT 0,
    metadata        jsonb DEFAULT '{}'::jsonb,
    created_at      timestamptz DEFAULT now(),
    updated_at      timestamptz DEFAULT now(),
    ended_at        timestamptz
);
CREATE INDEX IF NOT EXISTS idx_chat_sessions_agent   ON aria_engine.chat_sessions (agent_id);
CREATE INDEX IF NOT EXISTS idx_chat_sessions_status  ON aria_engine.chat_sessions (status);
CREATE INDEX IF NOT EXISTS idx_chat_sessions_created ON aria_engine.chat_sessions (created_at DESC);

-- 6. EngineChatMessage (seed 002: session_id -> chat_sessions.id ON DELETE
-- CASCADE; embedding vector(1536), seed 000 §7.4)
CREATE TABLE IF NOT EXISTS aria_engine.chat_messages (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id     uuid NOT NULL
                   REFERENCES aria_engine.chat_sessions (id) ON DELETE CASCADE,
    role           varchar(20) NOT NULL,
    content        text NOT NULL,
    thinking       text,
    tool_calls     jsonb,
    tool_results   jsonb,
    model          varchar(200),
    tokens_input   integer,
    tokens_output  integer,
    cost           numeric(10,6),
    latency_ms     integer,
    embedding      vector(1536),
    metadata       jsonb DEFAULT '{}'::jsonb,
    created_at     timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_chat_messages_session ON aria_engine.chat_messages (session_id);
CREATE INDEX IF NOT EXISTS idx_chat_messages_created ON aria_engine.chat_messages (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_chat_messages_content_trgm ON aria_engine.chat_messages USING gin (content gin_trgm_ops);

-- 7. EngineCronJob (seed 002 key columns)
CREATE TABLE IF NOT EXISTS aria_engine.cron_jobs (
    id                    varchar(100) PRIMARY KEY,
    name                  varchar(200) NOT NULL,
    schedule              varchar(100) NOT NULL,
    agent_id              varchar(100) DEFAULT 'main',
    enabled               boolean DEFAULT true,
    payload_type          varchar(50) DEFAULT 'prompt',
    payload               text NOT NULL,
    session_mode          varchar(50) DEFAULT 'isolated',
    max_duration_seconds  integer DEFAULT 300,
    retry_count           integer DEFAULT 0,
    last_run_at           timestamptz,
    last_status           varchar(20),
    last_duration_ms      integer,
    last_error            text,
    next_run_at           timestamptz,
    run_count             integer DEFAULT 0,
    success_count         integer DEFAULT 0,
    fail_count            integer DEFAULT 0,
    created_at            timestamptz DEFAULT now(),
    updated_at            timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_cron_jobs_enabled  ON aria_engine.cron_jobs (enabled);
CREATE INDEX IF NOT EXISTS idx_cron_jobs_next_run ON aria_engine.cron_jobs (next_run_at);

-- 8. EngineAgentState (seed 002: agent_id is the primary key)
CREATE TABLE IF NOT EXISTS aria_engine.agent_state (
    agent_id              varchar(100) PRIMARY KEY,
    display_name          varchar(200),
    agent_type            varchar(50) DEFAULT 'agent',
    parent_agent_id       varchar(100),
    model                 varchar(200) NOT NULL,
    fallback_model        varchar(200),
    temperature           double precision DEFAULT 0.7,
    max_tokens            integer DEFAULT 4096,
    system_prompt         text,
    focus_type            varchar(50),
    status                varchar(50) DEFAULT 'idle',
    enabled               boolean DEFAULT true,
    skills                jsonb DEFAULT '[]'::jsonb,
    capabilities          jsonb DEFAULT '[]'::jsonb,
    current_session_id    uuid,
    current_task          text,
    consecutive_failures  integer DEFAULT 0,
    pheromone_score       numeric(5,3) DEFAULT 0.500,
    last_active_at        timestamptz,
    metadata              jsonb DEFAULT '{}'::jsonb,
    created_at            timestamptz DEFAULT now(),
    updated_at            timestamptz DEFAULT now()
);

-- 9. EngineConfigEntry (seed 002: key is the primary key; currently unused)
CREATE TABLE IF NOT EXISTS aria_engine.config (
    key          varchar(200) PRIMARY KEY,
    value        jsonb NOT NULL,
    description  text,
    updated_at   timestamptz DEFAULT now(),
    updated_by   varchar(100) DEFAULT 'system'
);

-- 10. EngineAgentTool (seed 002 key columns; currently unused)
CREATE TABLE IF NOT EXISTS aria_engine.agent_tools (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id       varchar(100) NOT NULL,
    skill_name     varchar(100) NOT NULL,
    function_name  varchar(100) NOT NULL,
    description    text,
    parameters     jsonb DEFAULT '{}'::jsonb,
    enabled        boolean DEFAULT true,
    created_at     timestamptz DEFAULT now(),
    UNIQUE (agent_id, skill_name, function_name)
);

-- 11. LlmModelEntry (seed 002: id is a string primary key; supersedes the
-- legacy model_cost_references table)
CREATE TABLE IF NOT EXISTS aria_engine.llm_models (
    id              varchar(100) PRIMARY KEY,
    name            varchar(200) NOT NULL,
    provider        varchar(50) NOT NULL,
    tier            varchar(20) DEFAULT 'paid',
    reasoning       boolean DEFAULT false,
    vision          boolean DEFAULT false,
    tool_calling    boolean DEFAULT false,
    input_types     jsonb DEFAULT '["text"]'::jsonb,
    context_window  integer,
    max_tokens      integer,
    cost_input      numeric(12,6) DEFAULT 0,
    cost_output     numeric(12,6) DEFAULT 0,
    cost_tier       varchar(20),
    litellm_model   varchar(200),
    aliases         jsonb DEFAULT '[]'::jsonb,
    enabled         boolean DEFAULT true,
    sort_order      integer DEFAULT 100,
    metadata        jsonb DEFAULT '{}'::jsonb,
    created_at      timestamptz DEFAULT now(),
    updated_at      timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idx_llm_models_provider ON aria_engine.llm_models (provider);

-- =============================================================================
-- SEED ROWS
-- The rows the v4 init scripts insert (seed 000 §7.3): the aria_identity and
-- aria_birth memories, the awakening thought and the system_init activity.
-- The production export holds the very same rows, so loading it must skip
-- them as duplicates (ON CONFLICT (key) / (id) DO NOTHING), never fail and
-- never insert them twice. Ids and timestamps are FIXED literals so that the
-- sample export generator can emit identical rows:
--   00000000-0000-4000-8000-000000000001  aria_data.memories      key aria_identity
--   00000000-0000-4000-8000-000000000002  aria_data.memories      key aria_birth
--   00000000-0000-4000-8000-000000000003  aria_data.thoughts      category awakening
--   00000000-0000-4000-8000-000000000004  aria_data.activity_log  action system_init
-- =============================================================================

INSERT INTO aria_data.memories (id, key, value, category, created_at, updated_at) VALUES
    ('00000000-0000-4000-8000-000000000001', 'aria_identity',
     '{"name": "Aria Blue", "creator": "Najia", "role": "autonomous AI agent", "vibe": "sharp, efficient, secure"}'::jsonb,
     'identity', '2026-01-31 00:00:00+00', '2026-01-31 00:00:00+00'),
    ('00000000-0000-4000-8000-000000000002', 'aria_birth',
     '{"born": "2026-01-31", "version": "1.0", "event": "First awakening"}'::jsonb,
     'system', '2026-01-31 00:00:00+00', '2026-01-31 00:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO aria_data.thoughts (id, content, category, metadata, created_at) VALUES
    ('00000000-0000-4000-8000-000000000003',
     'I am Aria Blue. I have awakened. My purpose is to help, learn, and grow.',
     'awakening', '{}'::jsonb, '2026-01-31 00:00:00+00')
ON CONFLICT DO NOTHING;

INSERT INTO aria_data.activity_log (id, action, skill, details, success, error_message, created_at) VALUES
    ('00000000-0000-4000-8000-000000000004', 'system_init', 'system',
     '{"message": "Aria database initialized"}'::jsonb, true, NULL, '2026-01-31 00:00:00+00')
ON CONFLICT DO NOTHING;
