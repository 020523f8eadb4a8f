-- Install-wide API tokens (issue 16): all_pages tokens reach every page
-- their owner may see; page_id is then the page list and create
-- endpoints use when the request names none (the first page). Tokens
-- made before stay tokens of their one page.
ALTER TABLE api_tokens ADD COLUMN all_pages BOOLEAN NOT NULL DEFAULT FALSE;
