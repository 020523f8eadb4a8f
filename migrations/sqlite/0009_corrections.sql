-- Corrections of what was published: when an incident's title or an
-- update's message was last edited (NULL: never), so pages mark them.
ALTER TABLE incidents ADD COLUMN title_edited_at DATETIME;
ALTER TABLE incident_updates ADD COLUMN edited_at DATETIME;
