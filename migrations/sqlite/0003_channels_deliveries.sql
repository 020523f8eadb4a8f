-- Notification channels. URLs, extra headers and signing secrets are sealed
-- (AES-GCM) by the application; url_hint is the masked URL shown in lists.
CREATE TABLE channels (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id                INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    type                   TEXT NOT NULL CHECK (type IN ('webhook','slack','discord')),
    name                   TEXT NOT NULL,
    url_sealed             TEXT NOT NULL,
    url_hint               TEXT NOT NULL,
    headers_sealed         TEXT NOT NULL DEFAULT '',
    secret_sealed          TEXT NOT NULL DEFAULT '',
    previous_secret_sealed TEXT NOT NULL DEFAULT '',
    previous_secret_until  DATETIME,
    events                 TEXT NOT NULL DEFAULT '',
    retry_schedule         TEXT NOT NULL DEFAULT '',
    enabled                BOOLEAN NOT NULL DEFAULT 1,
    disabled_reason        TEXT NOT NULL DEFAULT '',
    disabled_at            DATETIME,
    failed_events          INTEGER NOT NULL DEFAULT 0,
    failing_since          DATETIME,
    created_at             DATETIME NOT NULL,
    updated_at             DATETIME NOT NULL
);
CREATE INDEX channels_page ON channels(page_id);

-- One row per (event, channel), or per test send. due_at and lease_until
-- are Unix milliseconds: due_at is NULL once the delivery is final.
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    page_id          INTEGER NOT NULL,
    channel_id       INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    event_id         TEXT,
    event_type       TEXT NOT NULL,
    test             BOOLEAN NOT NULL DEFAULT 0,
    test_data        TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('pending','retrying','delivered','failed')),
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
CREATE INDEX deliveries_due ON deliveries(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX deliveries_channel ON deliveries(channel_id, created_at);

-- Every attempt, as sent and as answered (bodies capped at 16 KiB).
CREATE TABLE delivery_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    started_at       DATETIME NOT NULL,
    duration_ms      INTEGER NOT NULL,
    request_url      TEXT NOT NULL,
    request_headers  TEXT NOT NULL,
    request_body     TEXT NOT NULL,
    response_status  INTEGER NOT NULL DEFAULT 0,
    response_headers TEXT NOT NULL DEFAULT '',
    response_body    TEXT NOT NULL DEFAULT '',
    error_class      TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT '',
    outcome          TEXT NOT NULL,
    UNIQUE (delivery_id, number)
);
CREATE INDEX delivery_attempts_started ON delivery_attempts(started_at);
