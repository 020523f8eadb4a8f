-- Hosts whose images incident and maintenance messages may show, beside
-- Herald's own: lower-case ASCII host names, "*.example.net" for every
-- subdomain, separated by single spaces. Empty: Herald's own images only;
-- every other image is shown as a link.
ALTER TABLE pages ADD COLUMN image_hosts TEXT NOT NULL DEFAULT '';
