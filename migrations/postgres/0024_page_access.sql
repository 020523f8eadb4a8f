-- Who may read a private page (issue 16). pages.public (0001) is the
-- page's visibility; these columns are the ways into a private one:
-- a shared password (its bcrypt hash, '' for none), signed-in team
-- members, e-mail domains (separated by spaces) and an IP allowlist
-- (CIDR ranges separated by spaces). access_generation is part of every
-- visitor's access cookie: raising it (a new password, the page made
-- private again) signs every visitor out.
ALTER TABLE pages ADD COLUMN access_password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE pages ADD COLUMN access_team BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE pages ADD COLUMN access_email_domains TEXT NOT NULL DEFAULT '';
ALTER TABLE pages ADD COLUMN access_ip_allowlist TEXT NOT NULL DEFAULT '';
ALTER TABLE pages ADD COLUMN access_generation BIGINT NOT NULL DEFAULT 1;
