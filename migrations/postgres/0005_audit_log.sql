-- Who changed what, when and from where. Rows are only ever inserted, in
-- the transaction of the change they record; the triggers below refuse
-- any UPDATE, DELETE or TRUNCATE. before and after are JSON snapshots with
-- secrets masked ('' when there is nothing to show: no before for a
-- creation). Users and tokens belong to no page and are recorded against
-- page 1.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    page_id     BIGINT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor_type  TEXT NOT NULL CHECK (actor_type IN ('user','token','system')),
    actor_id    BIGINT,
    actor_name  TEXT NOT NULL,
    ip          TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL DEFAULT '',
    summary     TEXT NOT NULL,
    "before"    TEXT NOT NULL DEFAULT '',
    "after"     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_page_at ON audit_log(page_id, at);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
