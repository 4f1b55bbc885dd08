-- A fragment of a name finds its enterprise without reading the whole register: a trigram index
-- (pg_trgm, a trusted extension the database's owner may create) serves `search_text LIKE
-- '%fragment%'` for any fragment of three characters or more. Chinese characters count as word
-- characters under a UTF-8 LC_CTYPE (C.UTF-8, zh_CN.UTF-8), which Beacon's database needs
-- (README, "Running at scale"). Shorter fragments are read by scanning, as before.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX ix_enterprises_search ON enterprises USING gin (search_text gin_trgm_ops);
