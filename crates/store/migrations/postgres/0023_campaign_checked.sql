-- A campaign's progress at 100,000 targets (docs/campaigns.md, docs/benchmarks.md): whether a
-- target has been checked by one of the campaign's inspections, kept on the target by triggers
-- whatever path records the inspection or adds the target, so that the progress table counts
-- its targets from one index instead of probing the inspections once per target. Inspections
-- are never changed nor removed, so a checked target stays checked.
-- The twin of this file for the other database must define the same column, index and triggers.

ALTER TABLE campaign_targets ADD COLUMN checked BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE campaign_targets t SET checked = TRUE WHERE EXISTS (SELECT 1 FROM inspections i
    WHERE i.campaign_id = t.campaign_id AND i.enterprise_id = t.enterprise_id);
CREATE INDEX ix_campaign_targets_progress
    ON campaign_targets (campaign_id, unit_id, sector, checked, enterprise_id) WHERE removed_at IS NULL;

CREATE FUNCTION campaign_targets_checked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaign_targets SET checked = TRUE
    WHERE campaign_id = NEW.campaign_id AND enterprise_id = NEW.enterprise_id AND NOT checked;
    RETURN NULL;
END
$$;
CREATE TRIGGER campaign_targets_checked AFTER INSERT ON inspections
    FOR EACH ROW WHEN (NEW.campaign_id IS NOT NULL) EXECUTE FUNCTION campaign_targets_checked();

CREATE FUNCTION campaign_targets_checked_when_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.checked := EXISTS (SELECT 1 FROM inspections i
        WHERE i.campaign_id = NEW.campaign_id AND i.enterprise_id = NEW.enterprise_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER campaign_targets_checked_when_added BEFORE INSERT ON campaign_targets
    FOR EACH ROW EXECUTE FUNCTION campaign_targets_checked_when_added();
