-- Beacon foundation: units, users, sessions, API tokens, settings, sign-in throttling, audit.
-- Portable types only: ids TEXT (UUIDv7), instants BIGINT epoch milliseconds UTC, JSON as TEXT.
-- The SQLite twin of this file must define the same tables, columns and indexes
-- (checked by the schema-parity test).

CREATE TABLE units (
    id          TEXT NOT NULL PRIMARY KEY,
    parent_id   TEXT REFERENCES units (id),
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    sort_order  BIGINT NOT NULL DEFAULT 0,
    boundary    TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_units_code ON units (code);
CREATE INDEX ix_units_parent ON units (parent_id);

-- Every (ancestor, descendant) pair, including each unit with itself at depth 0: the scope
-- filter is one indexed lookup whatever the depth of the tree.
CREATE TABLE unit_closure (
    ancestor_id    TEXT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    descendant_id  TEXT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    depth          BIGINT NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX ix_unit_closure_descendant ON unit_closure (descendant_id);

CREATE TABLE users (
    id                    TEXT NOT NULL PRIMARY KEY,
    username              TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    phone                 TEXT,
    unit_id               TEXT NOT NULL REFERENCES units (id),
    password_hash         TEXT NOT NULL,
    password_changed_at   BIGINT NOT NULL,
    must_change_password  BOOLEAN NOT NULL,
    -- The roles again, comma-separated, written with user_roles in one transaction: lists and
    -- every request's session read them without a lookup per user.
    roles                 TEXT NOT NULL,
    active                BOOLEAN NOT NULL,
    last_login_at         BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_users_username ON users (username);
CREATE INDEX ix_users_unit ON users (unit_id, username);

CREATE TABLE user_roles (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role     TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX ix_user_roles_role ON user_roles (role);

-- Only the SHA-256 of a session token is stored.
CREATE TABLE sessions (
    token_hash    TEXT NOT NULL PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    ip            TEXT,
    user_agent    TEXT
);
CREATE INDEX ix_sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            TEXT NOT NULL PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    unit_id       TEXT NOT NULL REFERENCES units (id),
    roles         TEXT NOT NULL,
    created_by    TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);
CREATE UNIQUE INDEX ux_api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX ix_api_tokens_unit ON api_tokens (unit_id);

-- Singletons edited through the UI (the security policy, …) as JSON documents.
CREATE TABLE settings (
    key         TEXT NOT NULL PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Failed sign-ins by the name that was typed (existing or not, so lockout does not reveal which
-- accounts exist), and the resulting locks.
CREATE TABLE login_failures (
    username  TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX ix_login_failures ON login_failures (username, at);

CREATE TABLE account_locks (
    username      TEXT NOT NULL PRIMARY KEY,
    locked_at     BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL
);

-- The audit trail: append-only and hash-chained. audit_head holds the chain's tip; updating it
-- is how appends are serialised across instances (the row lock), and comparing it with the last
-- record detects a removed tail.
CREATE TABLE audit_head (
    id    BIGINT NOT NULL PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
    seq            BIGINT NOT NULL PRIMARY KEY,
    at             BIGINT NOT NULL,
    actor_id       TEXT,
    actor_name     TEXT NOT NULL,
    actor_unit_id  TEXT,
    unit_id        TEXT,
    action         TEXT NOT NULL,
    target_type    TEXT,
    target_id      TEXT,
    ip             TEXT,
    outcome        TEXT NOT NULL,
    detail         TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE INDEX ix_audit_log_unit ON audit_log (unit_id, seq);
CREATE INDEX ix_audit_log_actor ON audit_log (actor_name, seq);
CREATE INDEX ix_audit_log_action ON audit_log (action, seq);
CREATE INDEX ix_audit_log_target ON audit_log (target_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
