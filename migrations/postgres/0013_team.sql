-- A team, not one admin: roles, sign-in records, two-factor sign-in,
-- single sign-on identities, invitations and own sessions.

-- Everyone who existed before roles could do everything: they stay admins.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMPTZ;
-- TOTP: the secret sealed by the vault ('' = not enrolled), when it was
-- confirmed (NULL = 2FA off), and the last time step used, so a code
-- works once.
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
-- OpenID Connect: the issuer's subject of a user who signs in with SSO.
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users(oidc_subject);

-- Sessions say where they came from, for "your sessions".
ALTER TABLE user_sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE user_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE user_sessions ADD COLUMN last_seen_at TIMESTAMPTZ;

-- Single-use recovery codes for two-factor sign-in, stored as hashes.
CREATE TABLE recovery_codes (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- Invitations: a link valid for a while, used once, that creates a user
-- with the role chosen by whoever invited them.
CREATE TABLE invitations (
    id                 BIGSERIAL PRIMARY KEY,
    email              TEXT NOT NULL,
    role               TEXT NOT NULL,
    token_hash         TEXT NOT NULL UNIQUE,
    invited_by_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    expires_at         TIMESTAMPTZ NOT NULL,
    accepted_at        TIMESTAMPTZ,
    revoked_at         TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX invitations_email ON invitations(email);

-- Settings of the whole install (one row, id 1), not of a page.
CREATE TABLE instance_settings (
    id               BIGINT PRIMARY KEY CHECK (id = 1),
    require_2fa      BOOLEAN NOT NULL DEFAULT FALSE,
    password_sign_in BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at       TIMESTAMPTZ NOT NULL
);
INSERT INTO instance_settings (id, require_2fa, password_sign_in, updated_at) VALUES (1, FALSE, TRUE, now());
