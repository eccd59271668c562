-- Reverts 0002 (PostgreSQL).
ALTER TABLE api_keys DROP COLUMN role;
ALTER TABLE api_keys DROP COLUMN tier;

ALTER TABLE users DROP CONSTRAINT users_role_check;
UPDATE users SET role = 'member' WHERE role = 'editor';
ALTER TABLE users ALTER COLUMN role SET DEFAULT 'member';
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'member', 'viewer'));
