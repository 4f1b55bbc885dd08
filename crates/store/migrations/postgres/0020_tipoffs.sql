-- Public tip-offs (docs/tipoffs.md): what a citizen reports without signing in, routed to the
-- territorial unit of the place, verified, answered, and rewarded when it was true.
-- The reporter's name and phone are sealed (core::personal) and only their keyed hash is
-- matchable; the query code is kept as its hash alone, and the sender's address as a keyed
-- hash for the per-address limit.
-- The twin of this file for the other database must define the same tables and indexes.

CREATE TABLE tipoffs (
    id                    TEXT NOT NULL PRIMARY KEY,
    -- JB-<unit code>-<year>-<sequence>.
    number                TEXT NOT NULL,
    code_hash             TEXT NOT NULL,
    -- The unit handling it: routed by the place, moved by a transfer (转办).
    unit_id               TEXT NOT NULL REFERENCES units (id),
    content               TEXT NOT NULL,
    place                 TEXT NOT NULL,
    lon                   DOUBLE PRECISION,
    lat                   DOUBLE PRECISION,
    -- The enterprise as the reporter named it, and the register's one once matched.
    enterprise_name       TEXT NOT NULL,
    enterprise_id         TEXT REFERENCES enterprises (id),
    anonymous             BOOLEAN NOT NULL,
    reporter_sealed       TEXT,
    reporter_phone_hash   TEXT,
    source_hash           TEXT NOT NULL,
    status                TEXT NOT NULL,
    -- The last day of the verification period.
    verify_by             TEXT NOT NULL,
    conclusion            TEXT NOT NULL,
    danger_id             TEXT REFERENCES hidden_dangers (id),
    concluded_at          BIGINT,
    concluded_by_name     TEXT,
    reply                 TEXT NOT NULL,
    replied_at            BIGINT,
    replied_by_name       TEXT,
    reward_status         TEXT,
    penalty_fen           BIGINT,
    reward_fen            BIGINT,
    reward_proposed_by    TEXT,
    reward_proposed_by_name TEXT,
    reward_reviewed_by_name TEXT,
    reward_review_reason  TEXT,
    reward_paid_on        TEXT,
    reward_payment_ref    TEXT,
    version               BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_tipoffs_number ON tipoffs (number);
CREATE UNIQUE INDEX ux_tipoffs_code ON tipoffs (code_hash);
CREATE INDEX ix_tipoffs_unit ON tipoffs (unit_id, status, created_at);
CREATE INDEX ix_tipoffs_source ON tipoffs (source_hash, created_at);
CREATE INDEX ix_tipoffs_phone ON tipoffs (reporter_phone_hash);
