-- Access levels: a member's role on an account and a token's scope, each
-- 'read', 'write' or 'admin'; a call is allowed when both allow it.
-- Memberships and tokens made before levels existed could do everything
-- on their accounts, so they become 'admin' and keep every right they had.
-- Every new row names its level (the store always writes one); SQLite
-- cannot drop a column's default, so the default only serves the old rows.
ALTER TABLE memberships ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
    CHECK (role IN ('read', 'write', 'admin'));
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin'
    CHECK (scope IN ('read', 'write', 'admin'));

-- Requests find a membership by its primary key (account, user); deleting
-- a user cascades to the memberships it holds on other accounts by this.
CREATE INDEX memberships_by_user ON memberships (user_id);
