-- The ledger at a million rows (docs/hazards.md, docs/benchmarks.md). A hidden danger keeps its
-- enterprise's territory and supervising department (`unit_id`, `department_id`), kept equal to
-- the enterprise's by a trigger whatever path changes them, so that the ledger's scope is
-- checked from its own indexes without reading an enterprise per row. The open ones' pages
-- (the nearest deadline first; the major ones; one state) are read in order from indexes that
-- match their order and hold the scope columns, and stop at the page's end. Partial indexes:
-- the closed ones, most of the ledger, are not in them.
-- The twin of this file for the other database must define the same columns, indexes and
-- trigger.

ALTER TABLE hidden_dangers ADD COLUMN unit_id TEXT REFERENCES units (id);
ALTER TABLE hidden_dangers ADD COLUMN department_id TEXT REFERENCES units (id);
UPDATE hidden_dangers SET
    unit_id = (SELECT e.unit_id FROM enterprises e WHERE e.id = hidden_dangers.enterprise_id),
    department_id = (SELECT e.department_id FROM enterprises e WHERE e.id = hidden_dangers.enterprise_id);

CREATE INDEX ix_hidden_dangers_open
    ON hidden_dangers (deadline, found_on DESC, id, unit_id, department_id) WHERE status <> 'closed';
CREATE INDEX ix_hidden_dangers_open_level
    ON hidden_dangers (level, deadline, found_on DESC, id, unit_id, department_id) WHERE status <> 'closed';
DROP INDEX ix_hidden_dangers_status;
CREATE INDEX ix_hidden_dangers_status
    ON hidden_dangers (status, deadline, found_on DESC, id, unit_id, department_id);
CREATE INDEX ix_hidden_dangers_unit ON hidden_dangers (unit_id);

CREATE TRIGGER hidden_dangers_follow_enterprise AFTER UPDATE OF unit_id, department_id ON enterprises
BEGIN
    UPDATE hidden_dangers SET unit_id = NEW.unit_id, department_id = NEW.department_id
    WHERE enterprise_id = NEW.id;
END;
