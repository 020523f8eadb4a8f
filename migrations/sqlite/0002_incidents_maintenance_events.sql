CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id       INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('investigating','identified','monitoring','resolved')),
    impact        TEXT NOT NULL CHECK (impact IN ('none','minor','major','critical')),
    backfilled    BOOLEAN NOT NULL DEFAULT 0,
    postmortem    TEXT NOT NULL DEFAULT '',
    postmortem_at DATETIME,
    started_at    DATETIME NOT NULL,
    monitoring_at DATETIME,
    resolved_at   DATETIME,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE INDEX incidents_page_status ON incidents(page_id, status, started_at);

CREATE TABLE incident_updates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  DATETIME NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates(incident_id, created_at);

-- The component statuses set with an update (Statuspage's affected_components).
CREATE TABLE incident_update_components (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id      INTEGER NOT NULL REFERENCES incident_updates(id) ON DELETE CASCADE,
    component_id   INTEGER REFERENCES components(id) ON DELETE SET NULL,
    component_name TEXT NOT NULL,
    old_status     TEXT NOT NULL,
    new_status     TEXT NOT NULL
);
CREATE INDEX incident_update_components_update ON incident_update_components(update_id);

CREATE TABLE incident_components (
    incident_id  INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    component_id INTEGER NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, component_id)
);

CREATE TABLE maintenances (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id             INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    title               TEXT NOT NULL,
    message             TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('scheduled','in_progress','completed','cancelled')),
    window_start        DATETIME NOT NULL,
    window_end          DATETIME NOT NULL,
    set_maintenance     BOOLEAN NOT NULL DEFAULT 1,
    started_at          DATETIME,
    completed_at        DATETIME,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
CREATE INDEX maintenances_due ON maintenances(status, window_start, window_end);

CREATE TABLE maintenance_components (
    maintenance_id  INTEGER NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
    component_id    INTEGER NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    previous_status TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (maintenance_id, component_id)
);

-- The transactional outbox: written in the same transaction as the change.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    page_id     INTEGER NOT NULL,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,
    occurred_at DATETIME NOT NULL
);
CREATE INDEX events_occurred ON events(occurred_at);
