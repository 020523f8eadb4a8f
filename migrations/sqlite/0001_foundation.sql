CREATE TABLE pages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    logo_url     TEXT NOT NULL DEFAULT '',
    accent_color TEXT NOT NULL DEFAULT '#0969da',
    time_zone    TEXT NOT NULL DEFAULT 'UTC',
    public       BOOLEAN NOT NULL DEFAULT 1,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);

INSERT INTO pages (id, slug, name, created_at, updated_at)
VALUES (1, 'main', 'Status', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);

CREATE TABLE user_sessions (
    id           TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL
);
CREATE INDEX user_sessions_user_id ON user_sessions(user_id);

CREATE TABLE component_groups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id    INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    collapsed  BOOLEAN NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX component_groups_page_id ON component_groups(page_id, position);

CREATE TABLE components (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id     INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    group_id    INTEGER REFERENCES component_groups(id) ON DELETE SET NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL,
    visible     BOOLEAN NOT NULL DEFAULT 1,
    status      TEXT NOT NULL CHECK (status IN ('operational','degraded_performance','partial_outage','major_outage','under_maintenance')),
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX components_page_id ON components(page_id, group_id, position);

CREATE TABLE component_status_changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    component_id INTEGER NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    old_status   TEXT NOT NULL DEFAULT '',
    new_status   TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('manual','incident','maintenance')),
    source_id    INTEGER,
    changed_at   DATETIME NOT NULL
);
CREATE INDEX component_status_changes_component ON component_status_changes(component_id, changed_at);
