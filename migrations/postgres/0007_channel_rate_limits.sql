-- Rate limits (Unix milliseconds, read by every replica's claim).
-- paused_until: a receiver answered 429, or 503 with Retry-After; nothing
-- is sent to the channel before then.
-- next_send_at: pacing. Nothing is sent before then either: Slack about one
-- message a second, Discord until its X-RateLimit bucket refills, and a
-- channel that sends one attempt at a time is held here for the lease of
-- the attempt in flight.
ALTER TABLE channels ADD COLUMN paused_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN next_send_at BIGINT NOT NULL DEFAULT 0;

-- A channel's unfinished deliveries in event order (delivery ids are
-- ULIDs of the event's time), so its oldest is claimed first.
CREATE INDEX deliveries_channel_pending ON deliveries(channel_id, id) WHERE due_at IS NOT NULL;
