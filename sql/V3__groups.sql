-- SCIM groups and their members. Membership is one row per member (never a JSON list), so adding or
-- removing one member of a large group costs the same as for a small one, and a user's groups are found
-- through the index on member_id.

CREATE TABLE groups (
    seq              INTEGER PRIMARY KEY,     -- insertion order: the stable order of lists and cursors
    id               TEXT NOT NULL UNIQUE,    -- SCIM id, a UUIDv7
    display_name     TEXT NOT NULL,           -- exactly as sent
    display_name_key TEXT NOT NULL,           -- case-folded: uniqueness and case-insensitive comparison
    external_id      TEXT,
    created_at       TEXT NOT NULL,
    last_modified    TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1,
    attributes       TEXT NOT NULL            -- JSON object, without members
) STRICT;

CREATE UNIQUE INDEX groups_display_name ON groups (display_name_key);
CREATE INDEX groups_external_id ON groups (external_id);
CREATE INDEX groups_last_modified ON groups (last_modified);

CREATE TABLE group_members (
    group_seq   INTEGER NOT NULL REFERENCES groups (seq) ON DELETE CASCADE,
    member_id   TEXT NOT NULL,                -- SCIM id of a live user or a group
    member_type TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    display     TEXT,                         -- as the client sent it; else the member's own name is shown
    PRIMARY KEY (group_seq, member_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX group_members_member ON group_members (member_id);
