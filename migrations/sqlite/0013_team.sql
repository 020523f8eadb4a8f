-- A team, not one admin: roles, sign-in records, two-factor sign-in,
-- single sign-on identities, invitations and own sessions.

-- Everyone who existed before roles could do everything: they stay admins.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE users ADD COLUMN last_sign_in_at DATETIME;
-- TOTP: the secret sealed by the vault ('' = not enrolled), when it was
-- confirmed (NULL = 2FA off), and the last time step used, so a code
-- works once.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_enabled_at DATETIME;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
-- OpenID Connect: the issuer's subject of a user who signs in with SSO.
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users(oidc_subject);

-- Sessions say where they came from, for "your sessions".
ALTER TABLE user_sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE user_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE user_sessions ADD COLUMN last_seen_at DATETIME;

-- Single-use recovery codes for two-factor sign-in, stored as hashes.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    DATETIME,
    created_at DATETIME NOT NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- Invitations: a link valid for a while, used once, that creates a user
-- with the role chosen by whoever invited them.
CREATE TABLE invitations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    email              TEXT NOT NULL,
    role               TEXT NOT NULL,
    token_hash         TEXT NOT NULL UNIQUE,
    invited_by_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    expires_at         DATETIME NOT NULL,
    accepted_at        DATETIME,
    revoked_at         DATETIME,
    created_at         DATETIME NOT NULL
);
CREATE INDEX invitations_email ON invitations(email);

-- Settings of the whole install (one row, id 1), not of a page.
CREATE TABLE instance_settings (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    require_2fa      BOOLEAN NOT NULL DEFAULT 0,
    password_sign_in BOOLEAN NOT NULL DEFAULT 1,
    updated_at       DATETIME NOT NULL
);
INSERT INTO instance_settings (id, require_2fa, password_sign_in, updated_at) VALUES (1, 0, 1, CURRENT_TIMESTAMP);
