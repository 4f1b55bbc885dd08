-- The register's list reads in name order. With these indexes a page of a large register is read
-- in order, under the most common filters too (colour, sector), and stops at the page's end
-- instead of sorting every match (docs/benchmarks.md, 2026-12-05).
CREATE INDEX ix_enterprises_name ON enterprises (name, id);
CREATE INDEX ix_enterprises_colour_name ON enterprises (colour, name, id);
CREATE INDEX ix_enterprises_sector_name ON enterprises (sector, name, id);
