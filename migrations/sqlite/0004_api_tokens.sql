-- API tokens for /api/v1. Only the SHA-256 (hex) of a token is stored, so
-- a copy of the database cannot be used to call the API; prefix is the
-- first 8 characters after "hrd_", shown in lists to tell tokens apart.
-- scopes is comma-separated (read, components:write, ...).
CREATE TABLE api_tokens (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    page_id            INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    token_hash         TEXT NOT NULL UNIQUE,
    prefix             TEXT NOT NULL,
    scopes             TEXT NOT NULL,
    expires_at         DATETIME,
    last_used_at       DATETIME,
    revoked_at         DATETIME,
    created_by_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at         DATETIME NOT NULL
);
CREATE INDEX api_tokens_page ON api_tokens(page_id, created_at);
