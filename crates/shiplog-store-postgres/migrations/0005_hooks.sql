-- The webhooks an account receives from code hosts, one per provider. The
-- HMAC schemes (GitHub, Bitbucket) need the secret itself to check a
-- signature; GitLab sends its token as is, so only its SHA-256 (hex) is
-- kept.
CREATE TABLE hooks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    secret TEXT,
    secret_hash TEXT,
    app TEXT,
    create_apps BOOLEAN NOT NULL,
    created_ms BIGINT NOT NULL,
    last_delivery_ms BIGINT,
    deliveries BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, provider)
);

-- Every delivery a hook accepted, by the provider's delivery id, with its
-- answer: written in the transaction of the events it records, so that a
-- redelivery records nothing and answers the same; the key decides races.
CREATE TABLE hook_deliveries (
    account_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, provider, delivery_id)
);

-- A CI run's BUILD by its id, and a deployment's DEPLOY by its id.
CREATE INDEX events_by_build_id ON events (app_id, build_id)
    WHERE event_type = 'BUILD' AND build_id IS NOT NULL;
CREATE INDEX events_by_deployment_id ON events (app_id, deployment_id)
    WHERE event_type = 'DEPLOY';
