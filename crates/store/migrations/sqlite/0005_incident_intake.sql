-- Intake under load (docs/incidents.md, "Intake under load").
-- The PostgreSQL twin of this file must define the same table and index.

-- The last incident number handed out per registering unit and year.
-- Counting a prefix's incidents to number the next one read every one of them, under the lock
-- that keeps numbers in order. A prefix without a row here (incidents registered before this
-- table) is counted once, when it is first used.
CREATE TABLE incident_numbers (
    prefix TEXT NOT NULL PRIMARY KEY,
    last   INTEGER NOT NULL
);

-- The duplicate guard looks for open incidents of a kind within hours of the new one and within
-- a box around its point. With the status, the point and the unit in the index, the rows of the
-- window are filtered in the index; the table is read only for the few that are near.
DROP INDEX ix_incidents_kind;
CREATE INDEX ix_incidents_kind ON incidents (kind, occurred_at, status, lon, lat, unit_id);
