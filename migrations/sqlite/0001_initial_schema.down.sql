-- Reverts 0001: drops every table in reverse order of creation.
DROP TABLE audit_log;
DROP TABLE loops_outbox;
DROP TABLE clients;
DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE users;
