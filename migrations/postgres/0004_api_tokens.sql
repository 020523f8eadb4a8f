-- API tokens for /api/v1. Only the SHA-256 (hex) of a token is stored, so
-- a copy of the database cannot be used to call the API; prefix is the
-- first 8 characters after "hrd_", shown in lists to tell tokens apart.
-- scopes is comma-separated (read, components:write, ...).
CREATE TABLE api_tokens (
    id                 BIGSERIAL PRIMARY KEY,
    page_id            BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    token_hash         TEXT NOT NULL UNIQUE,
    prefix             TEXT NOT NULL,
    scopes             TEXT NOT NULL,
    expires_at         TIMESTAMPTZ,
    last_used_at       TIMESTAMPTZ,
    revoked_at         TIMESTAMPTZ,
    created_by_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_tokens_page ON api_tokens(page_id, created_at);
