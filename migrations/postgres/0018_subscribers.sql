-- Visitors' subscriptions (issue 15). An e-mail subscriber is pending
-- until the link in the confirmation e-mail is followed, then active;
-- three permanent (5xx) failures make it bouncing, and it is skipped.
-- Tokens are stored as SHA-256 hashes; the manage token is also kept
-- sealed by the vault, since every message carries the links built on it.
CREATE TABLE subscribers (
    id                  BIGSERIAL PRIMARY KEY,
    page_id             BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('email','webhook')),
    email               TEXT NOT NULL DEFAULT '',
    url_sealed          TEXT NOT NULL DEFAULT '',
    secret_sealed       TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL CHECK (state IN ('pending','active','bouncing')),
    all_components      BOOLEAN NOT NULL DEFAULT TRUE,
    confirm_token_hash  TEXT NOT NULL DEFAULT '',
    confirm_expires_at  TIMESTAMPTZ,
    confirm_sent_at     TIMESTAMPTZ,
    confirm_token_sealed TEXT NOT NULL DEFAULT '',
    manage_token_hash   TEXT NOT NULL,
    manage_token_sealed TEXT NOT NULL,
    permanent_failures  INTEGER NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL,
    confirmed_at        TIMESTAMPTZ
);
CREATE UNIQUE INDEX subscribers_email ON subscribers(page_id, email) WHERE kind = 'email';
CREATE UNIQUE INDEX subscribers_manage ON subscribers(manage_token_hash);
CREATE INDEX subscribers_confirm ON subscribers(confirm_token_hash) WHERE confirm_token_hash <> '';
-- The fan-out walks a page's active subscribers in id order.
CREATE INDEX subscribers_active ON subscribers(page_id, id) WHERE state = 'active';

-- The components a subscriber chose when all_components is false.
CREATE TABLE subscriber_components (
    subscriber_id BIGINT NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    component_id  BIGINT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    PRIMARY KEY (subscriber_id, component_id)
);
CREATE INDEX subscriber_components_component ON subscriber_components(component_id);

-- Events still to be expanded into subscriber deliveries, written in the
-- transaction of the event (one row, whatever the number of subscribers).
-- after_id is the cursor: subscribers up to it have their delivery. The
-- engine advances it in the same transaction as the deliveries it
-- creates, and deletes the row when the walk is done.
CREATE TABLE subscriber_fanouts (
    event_id   TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    page_id    BIGINT NOT NULL,
    after_id   BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL
);

-- One e-mail per (event, subscriber), or a confirmation e-mail (event_id
-- NULL). due_at and lease_until are Unix milliseconds; due_at is NULL once
-- the delivery is final.
CREATE TABLE subscriber_deliveries (
    id            BIGSERIAL PRIMARY KEY,
    page_id       BIGINT NOT NULL,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    event_id      TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('confirm','event')),
    state         TEXT NOT NULL CHECK (state IN ('pending','retrying','delivered','failed','skipped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        BIGINT,
    lease_until   BIGINT NOT NULL DEFAULT 0,
    lease_token   TEXT NOT NULL DEFAULT '',
    last_code     INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    completed_at  TIMESTAMPTZ,
    UNIQUE (event_id, subscriber_id)
);
CREATE INDEX subscriber_deliveries_due ON subscriber_deliveries(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX subscriber_deliveries_subscriber ON subscriber_deliveries(subscriber_id);
