-- A page's own host name (issue 16): a request whose Host is it is served
-- that page at /. Lower case, no port; NULL when the page has none.
ALTER TABLE pages ADD COLUMN domain TEXT;
CREATE UNIQUE INDEX pages_domain ON pages (domain);
