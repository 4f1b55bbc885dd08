-- The safety-production database (docs/enterprises.md): enterprises, pending changes to their
-- identity, licences, major hazard sources and risk points with their evaluations.
-- The PostgreSQL twin of this file must define the same tables, columns and indexes.
-- Dates without a time (a licence's expiry) are ISO text, `YYYY-MM-DD`; lists are JSON text.

CREATE TABLE enterprises (
    id                   TEXT NOT NULL PRIMARY KEY,
    uscc                 TEXT NOT NULL,
    name                 TEXT NOT NULL,
    former_names         TEXT NOT NULL,
    legal_representative TEXT NOT NULL,
    safety_principal     TEXT NOT NULL,
    safety_phone         TEXT NOT NULL,
    address              TEXT NOT NULL,
    lon                  DOUBLE PRECISION,
    lat                  DOUBLE PRECISION,
    -- The territorial unit (属地, a township or street) and the supervising department
    -- (行业监管): the scope rule admits a caller above either.
    unit_id              TEXT NOT NULL REFERENCES units (id),
    department_id        TEXT REFERENCES units (id),
    section              TEXT NOT NULL,
    sector               TEXT NOT NULL,
    employees            BIGINT NOT NULL,
    designated_size      BOOLINT NOT NULL,
    status               TEXT NOT NULL,
    standard_grade       TEXT,
    standard_expires     TEXT,
    marks                TEXT NOT NULL,
    tags                 TEXT NOT NULL,
    -- The highest colour of its risk points (kept by the store), NULL without any.
    colour               TEXT,
    -- Name, former names, code and address, lower-cased: what a fragment is matched against.
    search_text          TEXT NOT NULL,
    version              BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_enterprises_uscc ON enterprises (uscc);
CREATE INDEX ix_enterprises_unit ON enterprises (unit_id, name);
CREATE INDEX ix_enterprises_department ON enterprises (department_id);
CREATE INDEX ix_enterprises_colour ON enterprises (colour, unit_id);

-- A change to an identity field (code, name, unit) asked by the enterprise itself, waiting for
-- its regulator.
CREATE TABLE enterprise_changes (
    id              TEXT NOT NULL PRIMARY KEY,
    enterprise_id   TEXT NOT NULL REFERENCES enterprises (id),
    unit_id         TEXT NOT NULL REFERENCES units (id),
    fields          TEXT NOT NULL,
    status          TEXT NOT NULL,
    requested_by    TEXT,
    requested_name  TEXT NOT NULL,
    requested_at    BIGINT NOT NULL,
    decided_name    TEXT,
    decided_at      BIGINT,
    reason          TEXT NOT NULL
);
CREATE INDEX ix_enterprise_changes_enterprise ON enterprise_changes (enterprise_id, requested_at);
CREATE INDEX ix_enterprise_changes_pending ON enterprise_changes (status, unit_id);

CREATE TABLE enterprise_licences (
    id              TEXT NOT NULL PRIMARY KEY,
    enterprise_id   TEXT NOT NULL REFERENCES enterprises (id),
    kind            TEXT NOT NULL,
    number          TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    issued_on       TEXT NOT NULL,
    expires_on      TEXT NOT NULL,
    scope_text      TEXT NOT NULL,
    holder_name     TEXT NOT NULL,
    -- Withdrawn licences stay on record.
    withdrawn       BOOLINT NOT NULL,
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX ix_enterprise_licences_enterprise ON enterprise_licences (enterprise_id, expires_on);
CREATE INDEX ix_enterprise_licences_expires ON enterprise_licences (expires_on);
CREATE UNIQUE INDEX ux_enterprise_licences_number ON enterprise_licences (enterprise_id, kind, number);

-- Hazardous substances with their critical quantity (GB 18218-2018 Table 1 or 2) and
-- correction factor β (Table 3 or 4): reference data an administrator keeps. A value nobody has
-- confirmed from the standard stays NULL and the identification asks for it.
CREATE TABLE hazard_substances (
    id              TEXT NOT NULL PRIMARY KEY,
    name            TEXT NOT NULL,
    cas             TEXT NOT NULL,
    critical_t      DOUBLE PRECISION,
    beta            DOUBLE PRECISION,
    source          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_hazard_substances_name ON hazard_substances (name);

CREATE TABLE hazard_sources (
    id              TEXT NOT NULL PRIMARY KEY,
    enterprise_id   TEXT NOT NULL REFERENCES enterprises (id),
    name            TEXT NOT NULL,
    alpha           DOUBLE PRECISION NOT NULL,
    substances      TEXT NOT NULL,
    s_value         DOUBLE PRECISION NOT NULL,
    r_value         DOUBLE PRECISION NOT NULL,
    major           BOOLINT NOT NULL,
    grade           TEXT,
    filing_number   TEXT NOT NULL,
    filing_date     TEXT,
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX ix_hazard_sources_enterprise ON hazard_sources (enterprise_id);

CREATE TABLE risk_points (
    id                 TEXT NOT NULL PRIMARY KEY,
    enterprise_id      TEXT NOT NULL REFERENCES enterprises (id),
    name               TEXT NOT NULL,
    place              TEXT NOT NULL,
    accident_types     TEXT NOT NULL,
    method             TEXT NOT NULL,
    l_value            DOUBLE PRECISION NOT NULL,
    e_value            DOUBLE PRECISION NOT NULL,
    c_value            DOUBLE PRECISION NOT NULL,
    d_value            DOUBLE PRECISION NOT NULL,
    colour             TEXT NOT NULL,
    measures           TEXT NOT NULL,
    control_level      TEXT NOT NULL,
    responsible_person TEXT NOT NULL,
    next_review        TEXT,
    -- Retired points stay on record but no longer colour the enterprise.
    retired            BOOLINT NOT NULL,
    version            BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX ix_risk_points_enterprise ON risk_points (enterprise_id, colour);

-- Every evaluation of a risk point, the first included.
CREATE TABLE risk_evaluations (
    id              TEXT NOT NULL PRIMARY KEY,
    risk_point_id   TEXT NOT NULL REFERENCES risk_points (id),
    method          TEXT NOT NULL,
    l_value         DOUBLE PRECISION NOT NULL,
    e_value         DOUBLE PRECISION NOT NULL,
    c_value         DOUBLE PRECISION NOT NULL,
    d_value         DOUBLE PRECISION NOT NULL,
    colour          TEXT NOT NULL,
    evaluated_by    TEXT NOT NULL,
    evaluated_at    BIGINT NOT NULL
);
CREATE INDEX ix_risk_evaluations_point ON risk_evaluations (risk_point_id, evaluated_at);

-- An `enterprise` account belongs to exactly one enterprise.
ALTER TABLE users ADD COLUMN enterprise_id TEXT REFERENCES enterprises (id);
CREATE INDEX ix_users_enterprise ON users (enterprise_id);
