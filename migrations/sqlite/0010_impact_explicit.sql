-- Whether an incident's impact was chosen by an admin (kept as chosen) or
-- follows the worst status of its affected components on every update.
-- Incidents from before this migration keep the impact they have: we
-- cannot tell whether it was chosen.
ALTER TABLE incidents ADD COLUMN impact_explicit BOOLEAN NOT NULL DEFAULT 0;
UPDATE incidents SET impact_explicit = 1;
