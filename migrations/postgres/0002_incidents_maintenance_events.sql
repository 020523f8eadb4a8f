CREATE TABLE incidents (
    id            BIGSERIAL PRIMARY KEY,
    page_id       BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('investigating','identified','monitoring','resolved')),
    impact        TEXT NOT NULL CHECK (impact IN ('none','minor','major','critical')),
    backfilled    BOOLEAN NOT NULL DEFAULT FALSE,
    postmortem    TEXT NOT NULL DEFAULT '',
    postmortem_at TIMESTAMPTZ,
    started_at    TIMESTAMPTZ NOT NULL,
    monitoring_at TIMESTAMPTZ,
    resolved_at   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX incidents_page_status ON incidents(page_id, status, started_at);

CREATE TABLE incident_updates (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates(incident_id, created_at);

-- The component statuses set with an update (Statuspage's affected_components).
CREATE TABLE incident_update_components (
    id             BIGSERIAL PRIMARY KEY,
    update_id      BIGINT NOT NULL REFERENCES incident_updates(id) ON DELETE CASCADE,
    component_id   BIGINT REFERENCES components(id) ON DELETE SET NULL,
    component_name TEXT NOT NULL,
    old_status     TEXT NOT NULL,
    new_status     TEXT NOT NULL
);
CREATE INDEX incident_update_components_update ON incident_update_components(update_id);

CREATE TABLE incident_components (
    incident_id  BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    component_id BIGINT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, component_id)
);

CREATE TABLE maintenances (
    id                  BIGSERIAL PRIMARY KEY,
    page_id             BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    title               TEXT NOT NULL,
    message             TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('scheduled','in_progress','completed','cancelled')),
    window_start        TIMESTAMPTZ NOT NULL,
    window_end          TIMESTAMPTZ NOT NULL,
    set_maintenance     BOOLEAN NOT NULL DEFAULT TRUE,
    started_at          TIMESTAMPTZ,
    completed_at        TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX maintenances_due ON maintenances(status, window_start, window_end);

CREATE TABLE maintenance_components (
    maintenance_id  BIGINT NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
    component_id    BIGINT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    previous_status TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (maintenance_id, component_id)
);

-- The transactional outbox: written in the same transaction as the change.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    page_id     BIGINT NOT NULL,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_occurred ON events(occurred_at);
