-- Special rectification campaigns (docs/campaigns.md): a campaign of an organising unit with its
-- scope (sectors and territories as JSON arrays), period and four stages (JSON); its target
-- list, frozen from the register when it starts and changed one by one with a reason (a removed
-- target stays, marked); its checks are inspections that name it (`inspections.campaign_id`).
-- The twin of this file for the other database must define the same tables and indexes.

CREATE TABLE campaigns (
    id              TEXT NOT NULL PRIMARY KEY,
    -- ZX-<unit code>-<year>-<sequence>.
    number          TEXT NOT NULL,
    name            TEXT NOT NULL,
    basis           TEXT NOT NULL,
    unit_id         TEXT NOT NULL REFERENCES units (id),
    sectors         TEXT NOT NULL,
    unit_ids        TEXT NOT NULL,
    starts_on       TEXT NOT NULL,
    ends_on         TEXT NOT NULL,
    stages          TEXT NOT NULL,
    status          TEXT NOT NULL,
    started_at      BIGINT,
    closed_at       BIGINT,
    created_by_name TEXT NOT NULL,
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_campaigns_number ON campaigns (number);
CREATE INDEX ix_campaigns_unit ON campaigns (unit_id, status);

CREATE TABLE campaign_targets (
    campaign_id    TEXT NOT NULL REFERENCES campaigns (id),
    enterprise_id  TEXT NOT NULL REFERENCES enterprises (id),
    -- The enterprise's territory and sector when it was targeted: the progress table counts
    -- it there.
    unit_id        TEXT NOT NULL REFERENCES units (id),
    sector         TEXT NOT NULL,
    added_at       BIGINT NOT NULL,
    added_reason   TEXT NOT NULL,
    removed_at     BIGINT,
    removed_reason TEXT,
    PRIMARY KEY (campaign_id, enterprise_id)
);
CREATE INDEX ix_campaign_targets_unit ON campaign_targets (campaign_id, unit_id);

ALTER TABLE inspections ADD COLUMN campaign_id TEXT REFERENCES campaigns (id);
CREATE INDEX ix_inspections_campaign ON inspections (campaign_id, enterprise_id);
