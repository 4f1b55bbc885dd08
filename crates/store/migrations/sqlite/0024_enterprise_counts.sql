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
ALTER TABLE enterprises ADD COLUMN pending_changes INTEGER NOT NULL DEFAULT 0;

-- SQLite has no procedures: an id written into this view runs the recount (its INSTEAD OF
-- trigger), and the tables' triggers write into it.
CREATE VIEW enterprise_counts (enterprise_id) AS SELECT id FROM enterprises WHERE 0;
CREATE TRIGGER enterprise_counts_recount INSTEAD OF INSERT ON enterprise_counts
BEGIN
    UPDATE enterprises SET
        licence_expiries = COALESCE((SELECT group_concat(l.expires_on, ',')
            FROM enterprise_licences l WHERE l.enterprise_id = NEW.enterprise_id AND l.withdrawn = 0), ''),
        pending_changes = (SELECT COUNT(*) FROM enterprise_changes c
            WHERE c.enterprise_id = NEW.enterprise_id AND c.status = 'pending')
    WHERE id = NEW.enterprise_id;
END;

INSERT INTO enterprise_counts
SELECT enterprise_id FROM enterprise_licences UNION SELECT enterprise_id FROM enterprise_changes;

CREATE TRIGGER enterprise_licences_added AFTER INSERT ON enterprise_licences
BEGIN
    INSERT INTO enterprise_counts VALUES (NEW.enterprise_id);
END;
CREATE TRIGGER enterprise_licences_changed
AFTER UPDATE OF enterprise_id, expires_on, withdrawn ON enterprise_licences
BEGIN
    INSERT INTO enterprise_counts VALUES (OLD.enterprise_id);
    INSERT INTO enterprise_counts SELECT NEW.enterprise_id WHERE NEW.enterprise_id <> OLD.enterprise_id;
END;
CREATE TRIGGER enterprise_licences_removed AFTER DELETE ON enterprise_licences
BEGIN
    INSERT INTO enterprise_counts VALUES (OLD.enterprise_id);
END;

CREATE TRIGGER enterprise_changes_added AFTER INSERT ON enterprise_changes
BEGIN
    INSERT INTO enterprise_counts VALUES (NEW.enterprise_id);
END;
CREATE TRIGGER enterprise_changes_changed AFTER UPDATE OF enterprise_id, status ON enterprise_changes
BEGIN
    INSERT INTO enterprise_counts VALUES (OLD.enterprise_id);
    INSERT INTO enterprise_counts SELECT NEW.enterprise_id WHERE NEW.enterprise_id <> OLD.enterprise_id;
END;
CREATE TRIGGER enterprise_changes_removed AFTER DELETE ON enterprise_changes
BEGIN
    INSERT INTO enterprise_counts VALUES (OLD.enterprise_id);
END;
