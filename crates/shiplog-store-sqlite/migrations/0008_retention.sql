-- Retention: an app may keep its events for a number of days of its own;
-- `pruned_before_ms` is the newest cutoff pruning removed events of the
-- app by, so that DORA can say a window reaches before the data kept.
ALTER TABLE apps ADD COLUMN retention_days INTEGER;
ALTER TABLE apps ADD COLUMN pruned_before_ms INTEGER;

-- Pruning keeps an event while an INCIDENT names it as its cause.
CREATE INDEX events_by_cause ON events (caused_by_event_id) WHERE caused_by_event_id IS NOT NULL;
