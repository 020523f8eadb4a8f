-- Corrections of what was published: when an incident's title or an
-- update's message was last edited (NULL: never), so pages mark them.
ALTER TABLE incidents ADD COLUMN title_edited_at DATETIME;
ALTER TABLE incident_updates ADD COLUMN edited_at DATETIME;

-- Updates posted to a maintenance window while it is scheduled or in
-- progress (Statuspage's scheduled-maintenance incident_updates).
CREATE TABLE maintenance_updates (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    maintenance_id INTEGER NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
    status         TEXT NOT NULL,
    message        TEXT NOT NULL,
    created_at     DATETIME NOT NULL
);
CREATE INDEX maintenance_updates_maintenance ON maintenance_updates(maintenance_id, created_at);
