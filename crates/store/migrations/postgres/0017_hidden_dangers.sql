-- Hidden dangers (docs/hazards.md): the rectification ledger. A hidden danger belongs to an
-- enterprise and is reached through it (the register's scope rule); its treatment plan (the
-- five implementations) is JSON text, its steps are on the timeline.
-- The twin of this file for the other database must define the same tables and indexes.
-- Dates without a time are ISO text, `YYYY-MM-DD`; times are milliseconds since the epoch.

CREATE TABLE hidden_dangers (
    id                 TEXT NOT NULL PRIMARY KEY,
    -- YH-<unit code>-<year>-<sequence>: what a person reads and says.
    number             TEXT NOT NULL,
    enterprise_id      TEXT NOT NULL REFERENCES enterprises (id),
    level              TEXT NOT NULL,
    category           TEXT NOT NULL,
    origin             TEXT NOT NULL,
    place              TEXT NOT NULL,
    description        TEXT NOT NULL,
    -- The checklist item or rule it is judged by (判定依据), as cited.
    criterion          TEXT NOT NULL,
    found_on           TEXT NOT NULL,
    deadline           TEXT NOT NULL,
    responsible_person TEXT NOT NULL,
    status             TEXT NOT NULL,
    plan               TEXT,
    listed_level       TEXT,
    listed_unit_id     TEXT REFERENCES units (id),
    listed_at          BIGINT,
    explanation        TEXT NOT NULL,
    closed_at          BIGINT,
    closed_by_name     TEXT,
    created_by_name    TEXT NOT NULL,
    version            BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_hidden_dangers_number ON hidden_dangers (number);
CREATE INDEX ix_hidden_dangers_enterprise ON hidden_dangers (enterprise_id, found_on);
CREATE INDEX ix_hidden_dangers_status ON hidden_dangers (status, deadline);

-- Sequences of record numbers by prefix, for every module that numbers its records from now
-- on (store::numbers); the row's lock keeps numbers in order across instances.
CREATE TABLE record_numbers (
    prefix TEXT NOT NULL PRIMARY KEY,
    last   BIGINT NOT NULL
);
