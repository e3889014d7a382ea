-- Users own accounts of the same name; a membership lets a user act on
-- another account.
CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL
);

CREATE TABLE memberships (
    account_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, user_id)
);

-- Tokens are stored only as their SHA-256 hash.
CREATE TABLE tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash BYTEA NOT NULL UNIQUE,
    label TEXT,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE apps (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Byte order, as in SQLite, so that name-keyed pages agree on both.
    name TEXT COLLATE "C" NOT NULL,
    description TEXT,
    created_ms BIGINT NOT NULL,
    -- Counters behind generated release versions (v1, v2, …) and deployment numbers.
    release_seq BIGINT NOT NULL DEFAULT 0,
    deploy_seq BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, name)
);

CREATE TABLE envs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,
    vars TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE INDEX envs_by_app ON envs (app_id, name);

-- Ids come from a sequence and are handed out under a transaction-level
-- advisory lock held until commit, so they increase in commit order.
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    event_time_ms BIGINT NOT NULL,
    author_name TEXT,
    author_username TEXT,
    branch TEXT,
    commit_id TEXT,
    commit_msg TEXT,
    commit_url TEXT,
    repo_name TEXT,
    repo_owner TEXT,
    repo_provider TEXT,
    repo_url TEXT,
    auto_build BOOLEAN,
    build_end_ms BIGINT,
    build_id TEXT,
    build_provider TEXT,
    build_start_ms BIGINT,
    build_status TEXT,
    build_url TEXT,
    parent_event_id BIGINT,
    release_version TEXT,
    auto_deploy BOOLEAN,
    deployment_id TEXT,
    deployment_number TEXT,
    deployment_status TEXT,
    deployment_type TEXT,
    env_name TEXT
);

-- One index per ListEvents filter, each ending in the id so that a page is
-- one range scan whatever its position (keyset pagination).
CREATE INDEX events_by_app ON events (app_id, id);
CREATE INDEX events_by_branch ON events (app_id, branch, id);
CREATE INDEX events_by_type ON events (app_id, event_type, id);
CREATE INDEX events_by_branch_type ON events (app_id, branch, event_type, id);
CREATE INDEX events_by_env ON events (app_id, env_name, id) WHERE env_name IS NOT NULL;
CREATE INDEX events_by_env_branch ON events (app_id, env_name, branch, id) WHERE env_name IS NOT NULL;

-- A release version exists once per app, however many writers race.
CREATE UNIQUE INDEX releases_by_version ON events (app_id, release_version)
    WHERE event_type = 'RELEASE';
