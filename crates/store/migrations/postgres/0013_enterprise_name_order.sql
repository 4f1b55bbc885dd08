-- The register's list reads in name order: with this index a page of a large register is read
-- in order and stops at the page's end instead of sorting every match (docs/benchmarks.md,
-- 2026-12-05).
CREATE INDEX ix_enterprises_name ON enterprises (name, id);
