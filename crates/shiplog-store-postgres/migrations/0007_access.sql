-- Access levels: a member's role on an account and a token's scope, each
-- 'read', 'write' or 'admin'; a call is allowed when both allow it.
-- Memberships and tokens made before levels existed could do everything
-- on their accounts, so they become 'admin' and keep every right they had;
-- every new row must name its level.
ALTER TABLE memberships ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
    CHECK (role IN ('read', 'write', 'admin'));
ALTER TABLE memberships ALTER COLUMN role DROP DEFAULT;
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin'
    CHECK (scope IN ('read', 'write', 'admin'));
ALTER TABLE tokens ALTER COLUMN scope DROP DEFAULT;

-- Requests find a membership by its primary key (account, user); deleting
-- a user cascades to the memberships it holds on other accounts by this.
CREATE INDEX memberships_by_user ON memberships (user_id);
