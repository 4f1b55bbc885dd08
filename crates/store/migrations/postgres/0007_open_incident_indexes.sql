-- The duplicate guard reads only open incidents (docs/incidents.md, "Intake under load").
-- The SQLite twin of this file must define the same indexes.

-- Ranging over the kind's window of `ix_incidents_kind` read every incident of the kind in the
-- last hours wherever it happened: under a burst of reports, a thousand index entries for each
-- registration. Open incidents with a point are ranged by longitude instead (a box of 2 km is a
-- thin strip of the city), with the rest of the box and the window checked in the index.
CREATE INDEX ix_incidents_open_point ON incidents (kind, lon, lat, occurred_at, unit_id)
    WHERE status = 'open';

-- Open incidents without a point, by unit.
CREATE INDEX ix_incidents_open_unit ON incidents (kind, unit_id, occurred_at)
    WHERE status = 'open' AND lon IS NULL;
