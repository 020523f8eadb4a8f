-- Every attempt of a subscriber e-mail (issue 15), written in the
-- transaction that moves its delivery on, deleted with it. reply and
-- error are the SMTP server's words with the subscriber's address
-- replaced by "[subscriber]": addresses are kept in subscribers only.
CREATE TABLE subscriber_delivery_attempts (
    id                     BIGSERIAL PRIMARY KEY,
    subscriber_delivery_id BIGINT NOT NULL REFERENCES subscriber_deliveries(id) ON DELETE CASCADE,
    number                 INTEGER NOT NULL,
    started_at             TIMESTAMPTZ NOT NULL,
    duration_ms            INTEGER NOT NULL DEFAULT 0,
    code                   INTEGER NOT NULL DEFAULT 0,
    reply                  TEXT NOT NULL DEFAULT '',
    error                  TEXT NOT NULL DEFAULT '',
    outcome                TEXT NOT NULL,
    UNIQUE (subscriber_delivery_id, number)
);

-- A replay starts the retry schedule afresh: the schedule's position is
-- attempts - schedule_base, as for channel deliveries.
ALTER TABLE subscriber_deliveries ADD COLUMN schedule_base INTEGER NOT NULL DEFAULT 0;
