-- Excel imports (docs/imports.md): the uploaded workbook kept with what its dry run found and
-- what its commit did, so the history shows who imported what, and the annotated workbook can
-- be rebuilt at any time. 0011 is taken by the attachments.
-- The SQLite twin of this file must define the same columns.

CREATE TABLE imports (
    id             TEXT NOT NULL PRIMARY KEY,
    kind           TEXT NOT NULL,
    -- The importer's unit: the history is seen within the scope above it.
    unit_id        TEXT NOT NULL REFERENCES units (id),
    file_name      TEXT NOT NULL,
    file_size      BIGINT NOT NULL,
    file_sha256    TEXT NOT NULL,
    content        BYTEA NOT NULL,
    -- checking, checked, committing, committed, failed
    status         TEXT NOT NULL,
    -- A whole-file failure (not_a_workbook, no_header, column_missing, too_many_rows…).
    error          TEXT,
    header_row     BIGINT,
    rows_total     BIGINT NOT NULL DEFAULT 0,
    rows_created   BIGINT NOT NULL DEFAULT 0,
    rows_updated   BIGINT NOT NULL DEFAULT 0,
    rows_unchanged BIGINT NOT NULL DEFAULT 0,
    rows_refused   BIGINT NOT NULL DEFAULT 0,
    -- JSON: [{row, column, field, code}], every problem of the last run.
    problems       TEXT NOT NULL DEFAULT '[]',
    problems_total BIGINT NOT NULL DEFAULT 0,
    -- One character per sheet row after the header: c(reate) u(pdate) n(o change) r(efused) -(blank).
    outcomes       TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    committed_by_name TEXT,
    committed_at   BIGINT,
    updated_at     BIGINT NOT NULL
);

CREATE INDEX imports_unit ON imports (unit_id, created_at);
