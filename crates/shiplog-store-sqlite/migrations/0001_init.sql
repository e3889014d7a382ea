-- Users own accounts of the same name; a membership lets a user act on
-- another account.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL
);

CREATE TABLE memberships (
    account_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, user_id)
) WITHOUT ROWID;

-- Tokens are stored only as their SHA-256 hash.
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash BLOB NOT NULL UNIQUE,
    label TEXT,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE apps (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    created_ms INTEGER NOT NULL,
    -- Counters behind generated release versions (v1, v2, …) and deployment numbers.
    release_seq INTEGER NOT NULL DEFAULT 0,
    deploy_seq INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, name)
);

CREATE TABLE envs (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,
    vars TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE INDEX envs_by_app ON envs (app_id, name);

-- AUTOINCREMENT: ids are never reused, even after an app and its newest
-- events are deleted.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    event_time_ms INTEGER NOT NULL,
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
    auto_build INTEGER,
    build_end_ms INTEGER,
    build_id TEXT,
    build_provider TEXT,
    build_start_ms INTEGER,
    build_status TEXT,
    build_url TEXT,
    parent_event_id INTEGER,
    release_version TEXT,
    auto_deploy INTEGER,
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
