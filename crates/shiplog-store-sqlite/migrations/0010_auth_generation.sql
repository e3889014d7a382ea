-- A number that moves on with every change to the rows a token is
-- authorised by (tokens, users, memberships). Authorisations are cached
-- under the number read before they were looked up, and a cached answer
-- is used only while the number is unchanged, so a revoked token or a
-- lowered role takes effect on the next request, whichever process on
-- this database made the change: the triggers run in its transaction.
CREATE TABLE auth_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO auth_generation (id, n) VALUES (1, 0);

-- SQLite has row-level triggers only, one per event.
CREATE TRIGGER tokens_inserted_auth AFTER INSERT ON tokens FOR EACH ROW
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tokens_updated_auth AFTER UPDATE ON tokens FOR EACH ROW
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tokens_deleted_auth AFTER DELETE ON tokens FOR EACH ROW
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER users_inserted_auth AFTER INSERT ON users FOR EACH ROW
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_updated_auth AFTER UPDATE ON users FOR EACH ROW
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_deleted_auth AFTER DELETE ON users FOR EACH ROW
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER memberships_inserted_auth AFTER INSERT ON memberships FOR EACH ROW
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER memberships_updated_auth AFTER UPDATE ON memberships FOR EACH ROW
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER memberships_deleted_auth AFTER DELETE ON memberships FOR EACH ROW
BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END;
