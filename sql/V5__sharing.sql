-- The platform's assets (capsules, data assets, pipelines) and who they are shared with.
-- Every asset has an owner of record: a row of `users`, which is never removed (a SCIM DELETE leaves a
-- tombstone), so an asset can never lose its owner; the foreign key refuses any removal that would.
-- Grants are one row per (asset, user) and per (asset, group), in two tables so that each has a real
-- foreign key: deleting a group deletes its grants and nothing else, deleting an asset deletes its grants.
-- Levels are numbers ordered like their power (1 viewer, 2 editor, 3 owner), so max() is the strongest.

CREATE TABLE assets (
    seq          INTEGER PRIMARY KEY,         -- creation order: the stable order of lists
    id           TEXT NOT NULL UNIQUE,        -- a UUIDv7
    kind         TEXT NOT NULL CHECK (kind IN ('capsule', 'dataAsset', 'pipeline')),
    name         TEXT NOT NULL,               -- as given
    name_key     TEXT NOT NULL,               -- case-folded, for searching
    owner_seq    INTEGER NOT NULL REFERENCES users (seq),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

CREATE INDEX assets_owner ON assets (owner_seq, seq);
CREATE INDEX assets_kind ON assets (kind, seq);

-- The primary keys answer "what is granted on this asset"; the second indexes answer "what does this user
-- or group hold" and cover the level, so neither question reads the table itself.
CREATE TABLE user_grants (
    asset_seq  INTEGER NOT NULL REFERENCES assets (seq) ON DELETE CASCADE,
    user_seq   INTEGER NOT NULL REFERENCES users (seq),
    level      INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
    PRIMARY KEY (asset_seq, user_seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX user_grants_user ON user_grants (user_seq, asset_seq, level);

CREATE TABLE group_grants (
    asset_seq  INTEGER NOT NULL REFERENCES assets (seq) ON DELETE CASCADE,
    group_seq  INTEGER NOT NULL REFERENCES groups (seq) ON DELETE CASCADE,
    level      INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
    PRIMARY KEY (asset_seq, group_seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX group_grants_group ON group_grants (group_seq, asset_seq, level);
