-- Attachments (docs/attachments.md): files kept by the SHA-256 of their content, once however
-- often they are attached, and the rows that attach them to a record.
-- The SQLite twin of this file must define the same columns.

-- Every stored content. On SQLite the bytes are a file under the data directory
-- (files/<first two hex digits>/<sha256>); on PostgreSQL they are the rows of blob_chunks, so
-- that every instance reaches every file.
CREATE TABLE blobs (
    sha256          TEXT NOT NULL PRIMARY KEY,
    size            BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);

-- The content of a blob in pieces of 1 MiB, in order (PostgreSQL only; empty on SQLite).
CREATE TABLE blob_chunks (
    sha256          TEXT NOT NULL REFERENCES blobs (sha256),
    seq             BIGINT NOT NULL,
    data            BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);

-- A file attached to a record. Nothing is deleted: removing marks the row, which stays on record.
CREATE TABLE attachments (
    id               TEXT NOT NULL PRIMARY KEY,
    -- The record it belongs to (enterprise, licence, risk_point, hazard_source…), resolved and
    -- scope-checked by the module that owns that kind.
    owner_kind       TEXT NOT NULL,
    owner_id         TEXT NOT NULL,
    -- The unit the owning record belongs to when the file was attached (for the audit trail).
    unit_id          TEXT NOT NULL REFERENCES units (id),
    purpose          TEXT NOT NULL,
    file_name        TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    sha256           TEXT NOT NULL REFERENCES blobs (sha256),
    thumbnail_sha256 TEXT REFERENCES blobs (sha256),
    uploaded_by      TEXT REFERENCES users (id),
    uploaded_by_name TEXT NOT NULL,
    uploaded_at      BIGINT NOT NULL,
    removed_at       BIGINT,
    removed_by       TEXT REFERENCES users (id),
    removed_by_name  TEXT,
    removed_reason   TEXT
);
CREATE INDEX ix_attachments_owner ON attachments (owner_kind, owner_id, uploaded_at);
CREATE INDEX ix_attachments_sha256 ON attachments (sha256);
