-- Web UI sessions. The cookie carries a random secret; only its SHA-256
-- is kept (hex). A session ends at sign-out, or once `expires_ms` has passed:
-- each request moves it on by the idle period.
CREATE TABLE sessions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);

-- A sign-in drops its user's expired sessions through this index.
CREATE INDEX sessions_by_user ON sessions (user_id, expires_ms);
