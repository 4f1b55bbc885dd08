-- The name index of migration 0013 under the name SQLite's covering index has (its 0016). Not
-- covering here: a B-tree entry holds at most about 2.7 kB, and an enterprise's search text
-- with twenty former names may be longer, so `INCLUDE (search_text)` could refuse a valid write.
ALTER INDEX ix_enterprises_name RENAME TO ix_enterprises_name_text;
