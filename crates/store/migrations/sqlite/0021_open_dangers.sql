-- The open hidden dangers by deadline (docs/hazards.md): the ledger's usual page (open ones,
-- the nearest deadline first) is read in order from here and stops at the page's end, instead
-- of sorting every open row of a million-row ledger. Partial: closed ones, most of the ledger,
-- are not in it. The twin of this file for the other database must define the same index.
CREATE INDEX ix_hidden_dangers_open ON hidden_dangers (deadline, found_on) WHERE status <> 'closed';
