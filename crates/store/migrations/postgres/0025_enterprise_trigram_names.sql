-- A fragment of a name whose trigrams are all common (化工有限公司: most names end in 有限公司)
-- is read in name order, and the walk of the name index checked 1,700 entries for a page of 20
-- (docs/benchmarks.md, 2026-12-07, fifth session). For trigrams common enough to make that walk
-- long but not so common that it is short anyway (see `enterprise::search`), the register keeps
-- the names of the enterprises whose text has them, in name order: such a fragment walks the
-- names of its rarest trigram instead, a few entries for each one it shows.
-- - `enterprise_indexed_trigrams`: the trigrams so indexed, written by the store when it counts
--   the register's trigrams; one is never removed (another instance may be reading by it).
-- - `enterprise_trigram_names`: per indexed trigram, the name, id and search head (as in the
--   name index: NULL when too long) of every enterprise whose search text holds it; kept by
--   triggers whatever path writes an enterprise, and filled for a trigram when it is added.
-- The twin of this file for the other database must define the same tables and triggers.

CREATE TABLE enterprise_indexed_trigrams (
    trigram TEXT NOT NULL PRIMARY KEY
);

CREATE TABLE enterprise_trigram_names (
    trigram TEXT NOT NULL,
    name TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    head TEXT,
    PRIMARY KEY (trigram, name, enterprise_id) INCLUDE (head)
);
CREATE INDEX ix_enterprise_trigram_names_enterprise ON enterprise_trigram_names (enterprise_id);

-- Added trigrams: every enterprise that has one. Statement triggers with transition tables,
-- so that an import's multi-row insert runs one statement, not one per row.
CREATE FUNCTION enterprise_trigrams_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enterprise_trigram_names (trigram, name, enterprise_id, head)
    SELECT t.trigram, e.name, e.id, e.search_head
    FROM added t JOIN enterprises e ON strpos(e.search_text, t.trigram) > 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER enterprise_indexed_trigrams_added
    AFTER INSERT ON enterprise_indexed_trigrams REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION enterprise_trigrams_added();

CREATE FUNCTION enterprise_trigram_names_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enterprise_trigram_names (trigram, name, enterprise_id, head)
    SELECT t.trigram, e.name, e.id, e.search_head
    FROM added e JOIN enterprise_indexed_trigrams t ON strpos(e.search_text, t.trigram) > 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER enterprises_trigram_names_added
    AFTER INSERT ON enterprises REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION enterprise_trigram_names_added();

CREATE FUNCTION enterprise_trigram_names_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM enterprise_trigram_names WHERE enterprise_id = OLD.id;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO enterprise_trigram_names (trigram, name, enterprise_id, head)
        SELECT t.trigram, NEW.name, NEW.id, NEW.search_head
        FROM enterprise_indexed_trigrams t WHERE strpos(NEW.search_text, t.trigram) > 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER enterprises_trigram_names_changed
    AFTER UPDATE OF id, name, search_text, search_head ON enterprises FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.name IS DISTINCT FROM NEW.name
        OR OLD.search_text IS DISTINCT FROM NEW.search_text
        OR OLD.search_head IS DISTINCT FROM NEW.search_head)
    EXECUTE FUNCTION enterprise_trigram_names_changed();
CREATE TRIGGER enterprises_trigram_names_deleted
    AFTER DELETE ON enterprises FOR EACH ROW EXECUTE FUNCTION enterprise_trigram_names_changed();
