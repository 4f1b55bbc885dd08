-- The register's page reads two facts of each enterprise from the enterprise's own row, kept
-- there by triggers whatever path writes them (docs/benchmarks.md, 2026-12-07, fourth session):
-- - `licence_expiries`: the expiry dates of its licences in force (not withdrawn), ISO dates
--   separated by commas, from which a reader counts the expired and the expiring ones on its
--   own day;
-- - `pending_changes`: how many of its own changes wait for the regulator.
-- Counting them in the page statement (a grouped join of the licences, a subquery per row)
-- was a fifth of PostgreSQL's time for a page of the register. One statement recounts both
-- for an enterprise (`enterprise_counts`); a write to either table runs it for the enterprise
-- the row belonged to and, when the row moved, the one it belongs to now.
-- The twin of this file for the other database must define the same columns and triggers.

ALTER TABLE enterprises ADD COLUMN licence_expiries TEXT NOT NULL DEFAULT '';
ALTER TABLE enterprises ADD COLUMN pending_changes BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION enterprise_counts(enterprise TEXT) RETURNS void LANGUAGE sql AS $$
    UPDATE enterprises SET
        licence_expiries = COALESCE((SELECT string_agg(l.expires_on, ',' ORDER BY l.expires_on)
            FROM enterprise_licences l WHERE l.enterprise_id = $1 AND NOT l.withdrawn), ''),
        pending_changes = (SELECT COUNT(*) FROM enterprise_changes c
            WHERE c.enterprise_id = $1 AND c.status = 'pending')
    WHERE id = $1;
$$;

SELECT enterprise_counts(id) FROM enterprises e
WHERE EXISTS (SELECT 1 FROM enterprise_licences l WHERE l.enterprise_id = e.id)
   OR EXISTS (SELECT 1 FROM enterprise_changes c WHERE c.enterprise_id = e.id);

CREATE FUNCTION enterprise_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM enterprise_counts(OLD.enterprise_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.enterprise_id <> OLD.enterprise_id) THEN
        PERFORM enterprise_counts(NEW.enterprise_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER enterprise_licences_counted
    AFTER INSERT OR DELETE OR UPDATE OF enterprise_id, expires_on, withdrawn ON enterprise_licences
    FOR EACH ROW EXECUTE FUNCTION enterprise_counts_changed();
CREATE TRIGGER enterprise_changes_counted
    AFTER INSERT OR DELETE OR UPDATE OF enterprise_id, status ON enterprise_changes
    FOR EACH ROW EXECUTE FUNCTION enterprise_counts_changed();
