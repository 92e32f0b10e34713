-- Sessions of people signed in through the identity provider (OpenID Connect). As for admin sessions,
-- only the SHA-256 of the random session id is kept. The user is named by SCIM id and checked against
-- `users` on every request (active, not deleted, in the admin group), so SCIM changes end access at once.
-- `id_token_sealed` is the provider's ID token for RP-initiated logout, sealed (ChaCha20-Poly1305) with a
-- key derived from the session id: the database alone cannot read it.

CREATE TABLE user_sessions (
    id_hash         TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    id_token_sealed BLOB
) STRICT, WITHOUT ROWID;

CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expires ON user_sessions (expires_at);

-- The audit log gains an actor kind, `user`: a provisioned person signed in through the identity provider.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt the documented way (create,
-- copy, drop, rename; https://sqlite.org/lang_altertable.html#otheralter) with every row, index and
-- trigger as it was. Rows are copied as they are, so the hash chain is unchanged.
CREATE TABLE audit_rebuilt (
    seq           INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor_kind    TEXT NOT NULL CHECK (actor_kind IN ('admin', 'token', 'cli', 'server', 'anonymous', 'user')),
    actor_id      TEXT,
    actor_name    TEXT,
    actor_address TEXT,
    action        TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    target_kind   TEXT,
    target_id     TEXT,
    target_name   TEXT,
    details       TEXT NOT NULL,
    prev          BLOB NOT NULL,
    hash          BLOB NOT NULL
) STRICT;
INSERT INTO audit_rebuilt SELECT * FROM audit ORDER BY seq;
DROP TABLE audit;
ALTER TABLE audit_rebuilt RENAME TO audit;

CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_action ON audit (action, seq);
CREATE INDEX audit_actor ON audit (actor_name, seq);
CREATE INDEX audit_target ON audit (target_id, seq);

CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_pruned_from_the_oldest_end BEFORE DELETE ON audit
WHEN old.seq <> (SELECT min(seq) FROM audit) OR old.seq = (SELECT max(seq) FROM audit)
BEGIN
    SELECT RAISE(ABORT, 'audit records are removed only from the oldest end, and never the newest');
END;
