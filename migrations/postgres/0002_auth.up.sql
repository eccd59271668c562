-- 0002 auth (PostgreSQL). Keep semantically identical to migrations/sqlite/0002.
-- Roles become admin | editor | viewer ('member' is now 'editor'); API keys get a tier and
-- a role (never admin: keys are for machines).
ALTER TABLE users DROP CONSTRAINT users_role_check;
UPDATE users SET role = 'editor' WHERE role = 'member';
ALTER TABLE users ALTER COLUMN role SET DEFAULT 'viewer';
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'editor', 'viewer'));

ALTER TABLE api_keys ADD COLUMN tier TEXT NOT NULL DEFAULT 'free'
    CONSTRAINT api_keys_tier_check CHECK (tier IN ('free', 'standard', 'premium'));
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'editor'
    CONSTRAINT api_keys_role_check CHECK (role IN ('editor', 'viewer'));
