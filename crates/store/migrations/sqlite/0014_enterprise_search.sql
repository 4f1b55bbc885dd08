-- A fragment of a name finds its enterprise without reading the whole register: an FTS5 index
-- with the trigram tokenizer over `search_text` answers any fragment of three characters or more
-- (Chinese names included: trigrams are of characters, not words). Shorter fragments are matched
-- with LIKE, as before (docs/benchmarks.md, 2026-12-06).
--
-- FTS5 keys its rows by an integer; an enterprise's implicit rowid may change on VACUUM (which
-- backups run as VACUUM INTO), so each enterprise gets a lasting number here.
CREATE TABLE enterprise_search_keys (
    n             INTEGER PRIMARY KEY,
    enterprise_id TEXT NOT NULL UNIQUE REFERENCES enterprises (id)
);
CREATE VIRTUAL TABLE enterprise_search USING fts5 (search_text, tokenize = 'trigram');

INSERT INTO enterprise_search_keys (enterprise_id) SELECT id FROM enterprises ORDER BY id;
INSERT INTO enterprise_search (rowid, search_text)
    SELECT k.n, e.search_text FROM enterprises e JOIN enterprise_search_keys k ON k.enterprise_id = e.id;

CREATE TRIGGER enterprise_search_insert AFTER INSERT ON enterprises BEGIN
    INSERT INTO enterprise_search_keys (enterprise_id) VALUES (new.id);
    INSERT INTO enterprise_search (rowid, search_text)
        VALUES ((SELECT n FROM enterprise_search_keys WHERE enterprise_id = new.id), new.search_text);
END;
CREATE TRIGGER enterprise_search_update AFTER UPDATE OF search_text ON enterprises BEGIN
    UPDATE enterprise_search SET search_text = new.search_text
        WHERE rowid = (SELECT n FROM enterprise_search_keys WHERE enterprise_id = new.id);
END;
-- Enterprises are closed, never deleted; a deletion (a test's clean-up) still leaves no orphan.
CREATE TRIGGER enterprise_search_delete AFTER DELETE ON enterprises BEGIN
    DELETE FROM enterprise_search
        WHERE rowid = (SELECT n FROM enterprise_search_keys WHERE enterprise_id = old.id);
    DELETE FROM enterprise_search_keys WHERE enterprise_id = old.id;
END;
