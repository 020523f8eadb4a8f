-- Private pages (issue 16): a visitor's personal feed token, for feed
-- readers and calendar apps that cannot sign in. Only its SHA-256 hash is
-- kept; ?token= on a private page's feeds, JSON, calendar and badges
-- opens that page alone (never its HTML). label says how the visitor got
-- in when they made it; an admin revokes it.
CREATE TABLE page_feed_tokens (
    id           BIGSERIAL PRIMARY KEY,
    page_id      BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    label        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX page_feed_tokens_page ON page_feed_tokens(page_id, created_at);

-- A sign-in link e-mailed to an address at one of a private page's
-- e-mail domains: its hash, single use, short-lived.
CREATE TABLE page_access_links (
    id         BIGSERIAL PRIMARY KEY,
    page_id    BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    email      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX page_access_links_expiry ON page_access_links(expires_at);
