-- The answers of writes sent with an Idempotency-Key, per account, so that
-- a retry answers what the first call answered and records nothing.
-- `fingerprint` is the SHA-256 of the request (method, path, body) the key
-- came with; `answer` the JSON text of the first answer. Keys are kept 24
-- hours (the write path removes older ones).
CREATE TABLE idempotency_keys (
    account_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_ms);
