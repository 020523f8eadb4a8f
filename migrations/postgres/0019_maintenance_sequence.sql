-- The iCalendar SEQUENCE of a maintenance window (RFC 5545 §3.8.7.4):
-- raised in the same transaction as every change a calendar shows (an
-- edit, a new end, a cancellation, ending it early), so calendar apps
-- that subscribed to /maintenance.ics replace their copy of the event.
ALTER TABLE maintenances ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
