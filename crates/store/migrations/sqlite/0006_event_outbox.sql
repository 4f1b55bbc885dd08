-- Live events between instances (docs/decisions.md, "Events: a transactional outbox").
-- The PostgreSQL twin of this file must define the same table.

-- Events written in the transaction of the change they announce, waiting to be relayed to the
-- bus (in-process, or NATS JetStream when several instances run). A relay claims rows in id
-- order, publishes them and deletes them; an instance that dies leaves its rows for another.
CREATE TABLE event_outbox (
    id    INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at    INTEGER NOT NULL,
    event TEXT NOT NULL
);
