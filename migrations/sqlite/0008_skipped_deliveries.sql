-- Deliveries of events that happen while a channel is disabled are kept,
-- in the new state 'skipped' (due_at NULL, never claimed), so the admin
-- can send them after re-enabling the channel.
--
-- SQLite cannot change a CHECK constraint, so the table is rebuilt as
-- https://www.sqlite.org/lang_altertable.html#otheralter describes: new
-- table, copy, drop, rename, indexes. Migrate runs SQLite migrations with
-- foreign keys off (else dropping deliveries would cascade into
-- delivery_attempts) and checks them before it commits.
CREATE TABLE deliveries_new (
    id               TEXT PRIMARY KEY,
    page_id          INTEGER NOT NULL,
    channel_id       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    event_id         TEXT,
    event_type       TEXT NOT NULL,
    test             BOOLEAN NOT NULL DEFAULT 0,
    test_data        TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('pending','retrying','delivered','failed','skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    schedule_base    INTEGER NOT NULL DEFAULT 0,
    due_at           INTEGER,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    lease_token      TEXT NOT NULL DEFAULT '',
    last_status      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    last_duration_ms INTEGER NOT NULL DEFAULT 0,
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    completed_at     DATETIME,
    UNIQUE (event_id, channel_id)
);
INSERT INTO deliveries_new (id, page_id, channel_id, event_id, event_type, test, test_data, state, attempts,
    schedule_base, due_at, lease_until, lease_token, last_status, last_error, last_duration_ms,
    created_at, updated_at, completed_at)
SELECT id, page_id, channel_id, event_id, event_type, test, test_data, state, attempts,
    schedule_base, due_at, lease_until, lease_token, last_status, last_error, last_duration_ms,
    created_at, updated_at, completed_at
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX deliveries_channel ON deliveries(channel_id, created_at);
-- 0007's index: each channel's unfinished deliveries in event order.
CREATE INDEX deliveries_channel_pending ON deliveries(channel_id, id) WHERE due_at IS NOT NULL;
-- The channel page counts its skipped deliveries.
CREATE INDEX deliveries_skipped ON deliveries(channel_id) WHERE state = 'skipped';
