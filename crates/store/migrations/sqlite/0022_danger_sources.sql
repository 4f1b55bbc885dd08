-- Hidden dangers brought in from an office's own ledger (docs/imports.md, docs/hazards.md):
-- the number the old ledger gave (原台账编号), which a second import of the same workbook finds
-- them by, once per enterprise. Empty for the ones recorded in Beacon.
-- And a territory's page of one state (a township's rectifying ones, the nearest deadline first):
-- read from the territory's own entries in the page's order, instead of walking the whole state's
-- index for the few rows of one township (docs/benchmarks.md).
-- The twin of this file for the other database must define the same columns and indexes.

ALTER TABLE hidden_dangers ADD COLUMN source_number TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX ux_hidden_dangers_source
    ON hidden_dangers (enterprise_id, source_number) WHERE source_number <> '';

DROP INDEX ix_hidden_dangers_unit;
CREATE INDEX ix_hidden_dangers_unit
    ON hidden_dangers (unit_id, status, deadline, found_on DESC, id, department_id);
