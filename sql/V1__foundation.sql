-- The foundation: API tokens and admin accounts. Secrets are stored only as argon2id PHC strings.
-- Timestamps are UTC RFC 3339 text with exactly three fractional digits, so they sort as text.

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,            -- the <id> of scimbox_<id>_<secret>; not secret
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('scim', 'platform')),
    secret_hash  TEXT NOT NULL,               -- argon2id PHC string of <secret>
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    expires_at   TEXT,
    revoked_at   TEXT
) STRICT;

CREATE TABLE admins (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,              -- as typed
    username_key  TEXT NOT NULL UNIQUE,       -- lower-cased: names are unique whatever their case
    password_hash TEXT NOT NULL,              -- argon2id PHC string
    created_at    TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
) STRICT;
