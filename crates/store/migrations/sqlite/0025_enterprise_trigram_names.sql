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
    PRIMARY KEY (trigram, name, enterprise_id)
) WITHOUT ROWID;
CREATE INDEX ix_enterprise_trigram_names_enterprise ON enterprise_trigram_names (enterprise_id);

CREATE TRIGGER enterprise_indexed_trigrams_added AFTER INSERT ON enterprise_indexed_trigrams
BEGIN
    INSERT INTO enterprise_trigram_names (trigram, name, enterprise_id, head)
    SELECT NEW.trigram, e.name, e.id, e.search_head
    FROM enterprises e WHERE instr(e.search_text, NEW.trigram) > 0;
END;

-- SQLite has no procedures: an id written into this view rewrites that enterprise's names
-- (its INSTEAD OF trigger; none for an enterprise no longer there), and the register's
-- triggers write into it, as migration 0024 recounts.
CREATE VIEW enterprise_trigram_names_kept (enterprise_id) AS SELECT id FROM enterprises WHERE 0;
CREATE TRIGGER enterprise_trigram_names_rewrite INSTEAD OF INSERT ON enterprise_trigram_names_kept
BEGIN
    DELETE FROM enterprise_trigram_names WHERE enterprise_id = NEW.enterprise_id;
    INSERT INTO enterprise_trigram_names (trigram, name, enterprise_id, head)
    SELECT t.trigram, e.name, e.id, e.search_head
    FROM enterprises e JOIN enterprise_indexed_trigrams t ON instr(e.search_text, t.trigram) > 0
    WHERE e.id = NEW.enterprise_id;
END;

CREATE TRIGGER enterprises_trigram_names_added AFTER INSERT ON enterprises
BEGIN
    INSERT INTO enterprise_trigram_names_kept VALUES (NEW.id);
END;

CREATE TRIGGER enterprises_trigram_names_changed AFTER UPDATE OF id, name, search_text, search_head
    ON enterprises
    WHEN OLD.id IS NOT NEW.id OR OLD.name IS NOT NEW.name
        OR OLD.search_text IS NOT NEW.search_text OR OLD.search_head IS NOT NEW.search_head
BEGIN
    INSERT INTO enterprise_trigram_names_kept SELECT OLD.id WHERE OLD.id IS NOT NEW.id;
    INSERT INTO enterprise_trigram_names_kept VALUES (NEW.id);
END;

CREATE TRIGGER enterprises_trigram_names_deleted AFTER DELETE ON enterprises
BEGIN
    INSERT INTO enterprise_trigram_names_kept VALUES (OLD.id);
END;
