-- Deliveries of events that happen while a channel is disabled are kept,
-- in the new state 'skipped' (due_at NULL, never claimed), so the admin
-- can send them after re-enabling the channel.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
    CHECK (state IN ('pending','retrying','delivered','failed','skipped'));
-- The channel page counts its skipped deliveries.
CREATE INDEX IF NOT EXISTS deliveries_skipped ON deliveries(channel_id) WHERE state = 'skipped';
