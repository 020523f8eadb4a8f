-- A visitor's webhook subscription (issue 15) is carried by a hidden
-- webhook channel owned by the subscriber: signatures, retries, egress
-- policy, delivery log and replay are the delivery engine's own. Such a
-- channel is never listed among the admin's channels, and the in-
-- transaction fan-out of an event skips it: the engine expands the event
-- into its deliveries afterwards (FanOutSubscribers). Deleting the
-- subscriber deletes its channel, its deliveries and their log.
ALTER TABLE channels ADD COLUMN subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX channels_subscriber ON channels(subscriber_id);
