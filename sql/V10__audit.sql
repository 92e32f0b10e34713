-- The audit log: who changed who can do what, and every security-relevant refusal. A record is written by
-- the same transaction as the change it describes. Records are append-only and chained by hash (see
-- src/audit.rs): `hash` is the SHA-256 of `prev` and of the record's canonical bytes. They are removed only
-- from the oldest end (retention), never the newest, so the chain stays verifiable from the first record
-- that remains. Nothing here is ever a secret: tokens appear by id and name, passwords only as changed.

CREATE TABLE audit (
    seq           INTEGER PRIMARY KEY,        -- the chain's order; newest first is ORDER BY seq DESC
    at            TEXT NOT NULL,              -- RFC 3339, UTC, milliseconds
    actor_kind    TEXT NOT NULL CHECK (actor_kind IN ('admin', 'token', 'cli', 'server', 'anonymous')),
    actor_id      TEXT,                       -- an admin's or token's id
    actor_name    TEXT,                       -- an admin's user name, a token's name, the OS user of a command
    actor_address TEXT,                       -- the client address of the request
    action        TEXT NOT NULL,              -- e.g. token.created (src/audit.rs lists them)
    outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    target_kind   TEXT,                       -- user, group, asset, token, admin, database, audit
    target_id     TEXT,
    target_name   TEXT,
    details       TEXT NOT NULL,              -- JSON: what changed (grants before and after, …)
    prev          BLOB NOT NULL,              -- the previous record's hash, 32 bytes (zeros for the very first)
    hash          BLOB NOT NULL               -- 32 bytes (hex in exports)
) STRICT;

-- The Audit page's filters: time (also retention), action, actor by name, target by id. Each is an index
-- search. A target typed by name is first found by name in its own table (users, groups, assets, admins,
-- tokens, all searched by index), then its records by id: an index on the records' target names would be
-- written at a random place for every record (e-mail addresses), which cost more than a tenth of the
-- throughput of SCIM creates, and it would miss the records written under a name since changed.
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_action ON audit (action, seq);
CREATE INDEX audit_actor ON audit (actor_name, seq);
CREATE INDEX audit_target ON audit (target_id, seq);
CREATE INDEX assets_name ON assets (name_key);

CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_pruned_from_the_oldest_end BEFORE DELETE ON audit
WHEN old.seq <> (SELECT min(seq) FROM audit) OR old.seq = (SELECT max(seq) FROM audit)
BEGIN
    SELECT RAISE(ABORT, 'audit records are removed only from the oldest end, and never the newest');
END;

-- A token's expiry is recorded once, by the server's sweep.
ALTER TABLE api_tokens ADD COLUMN expiry_recorded INTEGER NOT NULL DEFAULT 0;
