-- SCIM users. Columns hold what is filtered, sorted, unique or joined; `attributes` holds the rest of the
-- resource as JSON (canonical attribute names, values exactly as the client sent them).
-- A SCIM DELETE does not remove the row: it sets `deleted_at` (a tombstone), so that what the platform
-- keeps about the person (asset ownership, grants) stays recoverable. Tombstones are invisible to SCIM.

CREATE TABLE users (
    seq              INTEGER PRIMARY KEY,     -- insertion order: the stable order of lists and cursors
    id               TEXT NOT NULL UNIQUE,    -- SCIM id, a UUIDv7
    user_name        TEXT NOT NULL,           -- exactly as sent
    user_name_key    TEXT NOT NULL,           -- case-folded: uniqueness and case-insensitive comparison
    external_id      TEXT,
    display_name     TEXT,
    display_name_key TEXT,
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at       TEXT NOT NULL,
    last_modified    TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1,
    password_hash    TEXT,                    -- argon2id PHC string; never returned
    deleted_at       TEXT,
    attributes       TEXT NOT NULL            -- JSON object
) STRICT;

CREATE UNIQUE INDEX users_user_name ON users (user_name_key) WHERE deleted_at IS NULL;
CREATE INDEX users_external_id ON users (external_id) WHERE deleted_at IS NULL;
CREATE INDEX users_display_name ON users (display_name_key) WHERE deleted_at IS NULL;
CREATE INDEX users_active ON users (active, seq) WHERE deleted_at IS NULL;
CREATE INDEX users_last_modified ON users (last_modified) WHERE deleted_at IS NULL;

-- One row per distinct (case-folded) e-mail address of a live user: e-mail filters and uniqueness.
-- Rows are removed when the user is deleted; the tombstone's JSON still has the addresses.
CREATE TABLE user_emails (
    user_seq   INTEGER NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    value_key  TEXT NOT NULL,
    PRIMARY KEY (user_seq, value_key)
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX user_emails_value ON user_emails (value_key);
