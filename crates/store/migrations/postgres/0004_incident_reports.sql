-- Reports up the chain (docs/incidents.md, "Reports").
-- The SQLite twin of this file must define the same tables, columns and indexes.

-- A report of one issuing unit about an incident: the initial one, the numbered follow-ups, the
-- final one. The row holds the current version; every saved version is kept below.
CREATE TABLE incident_reports (
    id                 TEXT NOT NULL PRIMARY KEY,
    incident_id        TEXT NOT NULL REFERENCES incidents (id),
    unit_id            TEXT NOT NULL REFERENCES units (id),
    kind               TEXT NOT NULL,
    sequence           BIGINT NOT NULL,
    status             TEXT NOT NULL,
    version            BIGINT NOT NULL,
    title              TEXT NOT NULL,
    addressee          TEXT NOT NULL,
    contact            TEXT NOT NULL,
    sections           TEXT NOT NULL,
    facts              TEXT NOT NULL,
    created_by_name    TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    submitted_at       BIGINT,
    submitted_by       TEXT,
    submitted_by_name  TEXT,
    returned_reason    TEXT,
    approved_at        BIGINT,
    approved_by_name   TEXT,
    doc_number         TEXT
);
CREATE UNIQUE INDEX ux_incident_reports_kind
    ON incident_reports (incident_id, unit_id, kind, sequence);
CREATE UNIQUE INDEX ux_incident_reports_doc_number ON incident_reports (doc_number);

CREATE TABLE incident_report_versions (
    report_id       TEXT NOT NULL REFERENCES incident_reports (id),
    version         BIGINT NOT NULL,
    title           TEXT NOT NULL,
    addressee       TEXT NOT NULL,
    contact         TEXT NOT NULL,
    sections        TEXT NOT NULL,
    facts           TEXT NOT NULL,
    edited_by       TEXT,
    edited_by_name  TEXT NOT NULL,
    edited_at       BIGINT NOT NULL,
    PRIMARY KEY (report_id, version)
);

-- Set when casualties change within the re-reporting window after a report was sent, until a
-- follow-up or final report is approved.
ALTER TABLE incidents ADD COLUMN follow_up_since BIGINT;
