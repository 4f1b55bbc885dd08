-- The register read in name order with a fragment that matches much of it (one character, or
-- a fragment whose trigrams are all common: docs/enterprises.md) walks the name index until a
-- page is full, checking each row's text. `search_head` is the part of the search text such a
-- fragment can match (names, code, address; not the pairs), held in the name index so that
-- the walk reads the index alone instead of a thousand rows of the table. A B-tree entry holds
-- at most about 2.7 kB, and a head with twenty former names may be longer: a head over 1,536
-- bytes is NULL, and those few rows are checked on `search_text` through their own index.
ALTER TABLE enterprises ADD COLUMN search_head TEXT;
UPDATE enterprises SET search_head = split_part(search_text, ' ' || chr(57344), 1);
UPDATE enterprises SET search_head = NULL WHERE octet_length(search_head) > 1536;
DROP INDEX ix_enterprises_name;
CREATE INDEX ix_enterprises_name_text ON enterprises (name, id) INCLUDE (search_head);
CREATE INDEX ix_enterprises_long_text ON enterprises (id) WHERE search_head IS NULL;
