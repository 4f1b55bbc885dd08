-- The register read in name order with a fragment that matches much of it (one row in a
-- hundred or more: its trigrams are common, docs/enterprises.md) walks this index until a page
-- is full; holding the search text, the index answers the check itself instead of looking up
-- a thousand rows of the table (docs/benchmarks.md, 2026-12-06, later). It replaces the name
-- index of migration 0013, whose order it keeps.
DROP INDEX ix_enterprises_name;
CREATE INDEX ix_enterprises_name_text ON enterprises (name, id, search_text);
