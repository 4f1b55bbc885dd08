-- A campaign's progress at 100,000 targets and 30,000 checks (docs/campaigns.md,
-- docs/benchmarks.md). Two facts the progress table counts are kept where it reads them, by
-- triggers, whatever path writes them:
-- - whether a target has been checked by one of the campaign's inspections (`checked` on the
--   target), so that the targets are counted from one index instead of probing the inspections
--   once per target;
-- - which campaign's check found a hidden danger (`campaign_id` on the hidden danger, from the
--   finding that made it), so that the dangers are counted from one index instead of joining
--   inspections, findings and the ledger.
-- Inspections and their links to hidden dangers are never changed nor removed, so neither fact
-- goes stale.
-- The twin of this file for the other database must define the same columns, indexes and
-- triggers.

ALTER TABLE campaign_targets ADD COLUMN checked BOOLINT NOT NULL DEFAULT 0;
UPDATE campaign_targets SET checked = 1 WHERE EXISTS (SELECT 1 FROM inspections i
    WHERE i.campaign_id = campaign_targets.campaign_id AND i.enterprise_id = campaign_targets.enterprise_id);
CREATE INDEX ix_campaign_targets_progress
    ON campaign_targets (campaign_id, unit_id, sector, checked, enterprise_id) WHERE removed_at IS NULL;

CREATE TRIGGER campaign_targets_checked AFTER INSERT ON inspections WHEN NEW.campaign_id IS NOT NULL
BEGIN
    UPDATE campaign_targets SET checked = 1
    WHERE campaign_id = NEW.campaign_id AND enterprise_id = NEW.enterprise_id AND checked = 0;
END;

CREATE TRIGGER campaign_targets_checked_when_added AFTER INSERT ON campaign_targets
BEGIN
    UPDATE campaign_targets SET checked = 1
    WHERE campaign_id = NEW.campaign_id AND enterprise_id = NEW.enterprise_id AND EXISTS
        (SELECT 1 FROM inspections i WHERE i.campaign_id = NEW.campaign_id AND i.enterprise_id = NEW.enterprise_id);
END;

ALTER TABLE hidden_dangers ADD COLUMN campaign_id TEXT REFERENCES campaigns (id);
UPDATE hidden_dangers SET campaign_id = (SELECT i.campaign_id FROM inspection_findings f
    JOIN inspections i ON i.id = f.inspection_id WHERE f.danger_id = hidden_dangers.id)
WHERE id IN (SELECT danger_id FROM inspection_findings WHERE danger_id IS NOT NULL);
CREATE INDEX ix_hidden_dangers_campaign
    ON hidden_dangers (campaign_id, enterprise_id, level, status, deadline, listed_level)
    WHERE campaign_id IS NOT NULL;

CREATE TRIGGER hidden_dangers_campaign_on_finding AFTER INSERT ON inspection_findings
WHEN NEW.danger_id IS NOT NULL
BEGIN
    UPDATE hidden_dangers SET campaign_id = (SELECT campaign_id FROM inspections WHERE id = NEW.inspection_id)
    WHERE id = NEW.danger_id;
END;

CREATE TRIGGER hidden_dangers_campaign_on_link AFTER UPDATE OF danger_id ON inspection_findings
WHEN NEW.danger_id IS NOT NULL
BEGIN
    UPDATE hidden_dangers SET campaign_id = (SELECT campaign_id FROM inspections WHERE id = NEW.inspection_id)
    WHERE id = NEW.danger_id;
END;
