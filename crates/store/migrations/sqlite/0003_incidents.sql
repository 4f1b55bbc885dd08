-- Incidents and information reporting (docs/incidents.md).
-- The PostgreSQL twin of this file must define the same tables, columns and indexes.

-- An incident's facts, its grade and where it stands. `grade` is the one in force: the
-- override when a leader set one, else `computed_grade`.
CREATE TABLE incidents (
    id                TEXT NOT NULL PRIMARY KEY,
    number            TEXT NOT NULL,
    unit_id           TEXT NOT NULL REFERENCES units (id),
    kind              TEXT NOT NULL,
    title             TEXT NOT NULL,
    occurred_at       BIGINT NOT NULL,
    reported_at       BIGINT NOT NULL,
    place             TEXT NOT NULL,
    lon               DOUBLE PRECISION,
    lat               DOUBLE PRECISION,
    outside_unit      BOOLINT NOT NULL,
    enterprise        TEXT,
    deaths            BIGINT NOT NULL,
    missing           BIGINT NOT NULL,
    serious_injuries  BIGINT NOT NULL,
    minor_injuries    BIGINT NOT NULL,
    direct_loss_cny   BIGINT NOT NULL,
    description       TEXT NOT NULL,
    source            TEXT NOT NULL,
    reporter          TEXT,
    reporter_phone    TEXT,
    computed_grade    TEXT NOT NULL,
    grade             TEXT NOT NULL,
    override_grade    TEXT,
    override_reason   TEXT,
    override_by       TEXT,
    override_at       BIGINT,
    warning_color     TEXT,
    response_level    TEXT,
    status            TEXT NOT NULL,
    closed_at         BIGINT,
    closing_summary   TEXT,
    duty_log_id       TEXT REFERENCES duty_log (id),
    duplicate_of      TEXT REFERENCES incidents (id),
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_incidents_number ON incidents (number);
CREATE INDEX ix_incidents_unit ON incidents (unit_id, occurred_at);
CREATE INDEX ix_incidents_kind ON incidents (kind, occurred_at);

-- Every grade an incident had, with the facts and the axes that made it.
CREATE TABLE incident_grades (
    id              TEXT NOT NULL PRIMARY KEY,
    incident_id     TEXT NOT NULL REFERENCES incidents (id),
    at              BIGINT NOT NULL,
    computed_grade  TEXT NOT NULL,
    grade           TEXT NOT NULL,
    axes            TEXT NOT NULL,
    facts           TEXT NOT NULL,
    table_source    TEXT NOT NULL,
    cause           TEXT NOT NULL,
    reason          TEXT,
    actor_name      TEXT NOT NULL
);
CREATE INDEX ix_incident_grades ON incident_grades (incident_id, at);

-- The hops up the chain the grade requires (and any already done). Due times are derived from
-- the grade, the time of occurrence and the hops done, never stored.
CREATE TABLE incident_hops (
    incident_id        TEXT NOT NULL REFERENCES incidents (id),
    hop                TEXT NOT NULL,
    addressee_unit_id  TEXT REFERENCES units (id),
    done_at            BIGINT,
    method             TEXT,
    done_by            TEXT,
    done_by_name       TEXT,
    note               TEXT,
    PRIMARY KEY (incident_id, hop)
);
CREATE INDEX ix_incident_hops_addressee ON incident_hops (addressee_unit_id, done_at);

-- Grading tables an administrator added (the shipped ones are built in).
CREATE TABLE grading_tables (
    sector      TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    source      TEXT NOT NULL,
    thresholds  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (sector, valid_from)
);
