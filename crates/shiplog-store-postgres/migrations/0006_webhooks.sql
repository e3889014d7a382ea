-- Outbound webhooks: where an account's changes are POSTed. The secret is
-- kept as is, since a Standard Webhooks signature is an HMAC keyed by it.
-- `event_types` is a bit per event type (0: all); the apps a webhook is
-- limited to are rows of webhook_apps (none: all).
CREATE TABLE webhooks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    event_types BIGINT NOT NULL,
    format TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    secret TEXT NOT NULL,
    failing_since_ms BIGINT,
    disabled_reason TEXT,
    created_ms BIGINT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE webhook_apps (
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    app_name TEXT NOT NULL,
    PRIMARY KEY (webhook_id, app_name)
);

-- One row per change a webhook has still to receive, written in the
-- transaction of the change. A row waits until `next_attempt_ms`; a claimed
-- row's time moves past its attempt's timeout, so no other worker takes it;
-- a paused webhook's rows wait at the end of time until it is enabled.
CREATE TABLE webhook_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    change_id BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    deadline_ms BIGINT NOT NULL
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_ms);
CREATE INDEX webhook_outbox_of_webhook ON webhook_outbox (webhook_id);

-- Every attempt made, for ListDeliveries (newest first).
CREATE TABLE webhook_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    change_id BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    status_code BIGINT,
    duration_ms BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX webhook_attempts_of_webhook ON webhook_attempts (webhook_id, id);
