-- INCIDENT events: when production broke and was repaired, and the DEPLOY
-- that broke it.
ALTER TABLE events ADD COLUMN incident_status TEXT;
ALTER TABLE events ADD COLUMN incident_start_ms INTEGER;
ALTER TABLE events ADD COLUMN incident_end_ms INTEGER;
ALTER TABLE events ADD COLUMN caused_by_event_id INTEGER;
ALTER TABLE events ADD COLUMN severity TEXT;
ALTER TABLE events ADD COLUMN title TEXT;
ALTER TABLE events ADD COLUMN url TEXT;

-- The facts DORA's metrics are computed from, kept in the transaction of
-- the events they derive from, so that no request reads the events table.

-- A row per deployment: a DEPLOY of type Deploy that ended Ok or Failed.
-- The release's columns are filled when its RELEASE is known (at once for
-- a parent, later for a version recorded before its release).
CREATE TABLE dora_deployments (
    event_id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    env_name TEXT NOT NULL,
    end_ms INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    hotfix INTEGER NOT NULL,
    release_version TEXT,
    release_id INTEGER,
    commit_id TEXT,
    commit_time_ms INTEGER,
    build_start_ms INTEGER
);
CREATE INDEX dora_deployments_by_env ON dora_deployments (account_id, env_name, end_ms);
CREATE INDEX dora_deployments_awaiting_release ON dora_deployments (app_id, release_version)
    WHERE release_id IS NULL;

-- A row per commit of an app: when its first PUSH or PULLREQUEST was
-- recorded.
CREATE TABLE dora_commits (
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    commit_id TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (app_id, commit_id)
);

-- A row per INCIDENT, with the env of the deploy that caused it.
CREATE TABLE dora_incidents (
    event_id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    env_name TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER,
    caused_by INTEGER,
    cause_env_name TEXT
);
CREATE INDEX dora_incidents_by_env ON dora_incidents (account_id, env_name);
CREATE INDEX dora_incidents_by_cause_env ON dora_incidents (account_id, cause_env_name)
    WHERE cause_env_name IS NOT NULL;

-- The facts of what was recorded before them.
INSERT INTO dora_deployments
SELECT d.id, a.account_id, d.app_id, d.env_name, COALESCE(d.deployment_end_ms, d.event_time_ms),
       d.deployment_status = 'Ok', COALESCE(d.hotfix, 0), d.release_version, r.id,
       COALESCE(r.commit_id, b.commit_id, p.commit_id),
       COALESCE(r.commit_time_ms, b.commit_time_ms, p.commit_time_ms), b.build_start_ms
FROM events d
JOIN apps a ON a.id = d.app_id
LEFT JOIN events r ON r.app_id = d.app_id AND r.event_type = 'RELEASE'
    AND (r.id = d.parent_event_id
         OR (d.parent_event_id IS NULL AND r.release_version = d.release_version))
LEFT JOIN events b ON b.id = r.parent_event_id AND b.event_type = 'BUILD'
LEFT JOIN events p ON p.id = b.parent_event_id
WHERE d.event_type = 'DEPLOY' AND COALESCE(d.deployment_type, 'Deploy') = 'Deploy'
  AND d.deployment_status IN ('Ok', 'Failed') AND d.env_name IS NOT NULL;

INSERT OR IGNORE INTO dora_commits
SELECT app_id, commit_id, event_time_ms FROM events
WHERE event_type IN ('PUSH', 'PULLREQUEST') AND commit_id IS NOT NULL
ORDER BY id;
