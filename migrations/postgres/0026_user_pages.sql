-- Users limited to some status pages (issue 16). all_pages says whether a
-- user (or the user an invitation makes) may see every page, as everyone
-- could before; when false, user_pages (invitation_pages) lists the pages
-- they may see. Deleting a page removes its rows: a limited user left
-- with no row sees no page at all (never every page).
ALTER TABLE users ADD COLUMN all_pages BOOLEAN NOT NULL DEFAULT TRUE;
CREATE TABLE user_pages (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    page_id BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, page_id)
);
CREATE INDEX user_pages_page ON user_pages(page_id);

ALTER TABLE invitations ADD COLUMN all_pages BOOLEAN NOT NULL DEFAULT TRUE;
CREATE TABLE invitation_pages (
    invitation_id BIGINT NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    page_id       BIGINT NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    PRIMARY KEY (invitation_id, page_id)
);
CREATE INDEX invitation_pages_page ON invitation_pages(page_id);
