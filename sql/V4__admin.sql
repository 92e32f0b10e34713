-- The admin page: sign-in sessions and the record of SCIM requests (Activity).
-- A session is stored only as the SHA-256 of its random id; the id itself lives in the browser's cookie.
-- Activity rows never hold request or response bodies (they can carry personal data and passwords), nor
-- query strings (SCIM filters name people): only what an admin needs to follow provisioning.

CREATE TABLE admin_sessions (
    id_hash      TEXT PRIMARY KEY,            -- hex SHA-256 of the session id
    admin_id     TEXT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,               -- refreshed at most every few seconds: the idle timeout
    expires_at   TEXT NOT NULL                -- absolute end, whatever the activity
) STRICT, WITHOUT ROWID;

CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

CREATE TABLE activity (
    seq         INTEGER PRIMARY KEY,          -- arrival order; newest first is ORDER BY seq DESC
    at          TEXT NOT NULL,                -- when the request arrived
    request_id  TEXT NOT NULL,                -- as in the log line and X-Request-Id
    token_id    TEXT,                         -- the token that authenticated it (none for 401s)
    token_name  TEXT,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,                -- without the query string
    resource    TEXT,                         -- Users, Groups, Bulk, ... (the first segment under /scim/v2)
    status      INTEGER NOT NULL,
    latency_us  INTEGER NOT NULL,
    summary     TEXT,                         -- what changed, in a few words
    error       TEXT                          -- the SCIM error detail of a failed request
) STRICT;

CREATE INDEX activity_at ON activity (at);
CREATE INDEX activity_resource ON activity (resource, seq);
CREATE INDEX activity_status ON activity (status, seq);
