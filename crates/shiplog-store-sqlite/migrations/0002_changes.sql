-- When a commit was made (any event), and when a deploy began and ended and
-- whether it repaired production.
ALTER TABLE events ADD COLUMN commit_time_ms INTEGER;
ALTER TABLE events ADD COLUMN deployment_start_ms INTEGER;
ALTER TABLE events ADD COLUMN deployment_end_ms INTEGER;
ALTER TABLE events ADD COLUMN hotfix INTEGER;

-- GetCommit, and the descendants of an event in its lineage.
CREATE INDEX events_by_commit ON events (app_id, commit_id, id) WHERE commit_id IS NOT NULL;
CREATE INDEX events_by_parent ON events (parent_event_id) WHERE parent_event_id IS NOT NULL;

-- Every accepted write to an event, in commit order (AUTOINCREMENT: ids are
-- never reused). An update's `fields` map each changed field to [old,
-- new]; a creation has none (they are the event's). What an event was after
-- a change is the event now with later updates undone, so no row copies
-- an event. `actor` and `fields` are JSON text.
CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    fields TEXT
);

-- ListChanges pages by account; an event's history by app and event (the
-- app prefix also serves the cascade when an app is deleted).
CREATE INDEX changes_by_account ON changes (account_id, id);
CREATE INDEX changes_by_event ON changes (app_id, event_id, id);
