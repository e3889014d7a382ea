-- A number that moves on with every change to the rows a token is
-- authorised by (tokens, users, memberships), and a notification on
-- 'shiplog_auth' with it, delivered to every instance when the change
-- commits. Each instance caches authorisations under a number of its own
-- that these notifications move on (reading this row would cost a round
-- trip, as much as the lookup saved); the row keeps the schema the same
-- as SQLite's, where the stored number is what the cache is checked with.
CREATE TABLE auth_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO auth_generation (id, n) VALUES (1, 0);

CREATE FUNCTION auth_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_generation SET n = n + 1 WHERE id = 1;
    PERFORM pg_notify('shiplog_auth', '');
    RETURN NULL;
END;
$$;

-- Once per statement: a statement's rows commit together.
CREATE TRIGGER tokens_auth_generation AFTER INSERT OR UPDATE OR DELETE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION auth_generation_bump();
CREATE TRIGGER users_auth_generation AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION auth_generation_bump();
CREATE TRIGGER memberships_auth_generation AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION auth_generation_bump();
