//! Admin sign-in sessions: rows keyed by the SHA-256 of the session id (the id itself exists only in the
//! browser's cookie and in the request that carries it), with an absolute expiry and a last-seen time for
//! the idle timeout. Deciding whether a session is still valid is done here, against the caller's clock
//! values, so that the HTTP layer only passes its configured bounds.

use rusqlite::{OptionalExtension, params};
use time::{Duration, OffsetDateTime};

use super::{AdminRecord, Store, StoreError, audit, format_time, parse_time};
use crate::audit::{Action, Actor, Entry, Target};

/// A live session and the admin it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub admin: AdminRecord,
    pub created_at: String,
    pub expires_at: String,
    /// When the session was last refreshed; the idle timeout counts from here.
    pub last_seen: OffsetDateTime,
}

impl Store {
    /// Stores a new session for `admin` (given as the hex SHA-256 of its id) that ends `lifetime` from
    /// `at` at the latest, and records the sign-in by `actor` in the same write. Expired sessions are
    /// ended (and recorded) by the server's sweep, [`Store::sweep_expired`].
    pub async fn create_session(
        &self,
        actor: &Actor,
        id_hash: String,
        admin: &AdminRecord,
        at: OffsetDateTime,
        lifetime: Duration,
    ) -> Result<(), StoreError> {
        let admin = admin.clone();
        let actor = actor.clone();
        self.write(move |conn| {
            let now = format_time(at);
            let expires_at = format_time(at + lifetime);
            conn.prepare_cached(
                "INSERT INTO admin_sessions (id_hash, admin_id, created_at, last_seen_at, expires_at)
                 VALUES (?1, ?2, ?3, ?3, ?4)",
            )?
            .execute(params![id_hash, admin.id, now, expires_at])?;
            let entry = Entry::new(
                Action::SignedIn,
                Some(Target::new("admin", admin.id.clone(), admin.username.clone())),
                serde_json::json!({ "expiresAt": expires_at }),
            );
            audit::append(conn, &actor, &entry)?;
            Ok(())
        })
        .await
    }

    /// The session with this id hash if it is still valid at `at`: not past its absolute expiry and seen
    /// within `idle`. An invalid session is reported as `None` (and left for the next sweep).
    pub async fn session(
        &self,
        id_hash: String,
        at: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.read(move |conn| {
            let found = conn
                .prepare_cached(
                    "SELECT a.id, a.username, a.created_at, s.created_at, s.expires_at, s.last_seen_at
                     FROM admin_sessions s JOIN admins a ON a.id = s.admin_id
                     WHERE s.id_hash = ?1",
                )?
                .query_row([&id_hash], |row| {
                    Ok((
                        AdminRecord { id: row.get(0)?, username: row.get(1)?, created_at: row.get(2)? },
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, String>(5)?,
                    ))
                })
                .optional()?;
            let Some((admin, created_at, expires_at, last_seen)) = found else { return Ok(None) };
            // An unreadable timestamp ends the session: fail closed.
            let (Some(expires), Some(last_seen)) = (parse_time(&expires_at), parse_time(&last_seen)) else {
                return Ok(None);
            };
            if expires <= at || last_seen + idle <= at {
                return Ok(None);
            }
            Ok(Some(SessionRecord { admin, created_at, expires_at, last_seen }))
        })
        .await
    }

    /// Records that the session was used at `at` (callers do this only every so often).
    pub async fn touch_session(&self, id_hash: String, at: OffsetDateTime) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.prepare_cached("UPDATE admin_sessions SET last_seen_at = ?2 WHERE id_hash = ?1")?
                .execute(params![id_hash, format_time(at)])?;
            Ok(())
        })
        .await
    }

    /// Ends one session (sign-out by `actor`, the session's admin) and records it.
    pub async fn delete_session(&self, actor: &Actor, id_hash: String) -> Result<(), StoreError> {
        let actor = actor.clone();
        self.write(move |conn| {
            let ended = conn.prepare_cached("DELETE FROM admin_sessions WHERE id_hash = ?1")?.execute([id_hash])?;
            if ended > 0 {
                let target = Target { kind: "admin".into(), id: actor.id.clone(), name: actor.name.clone() };
                audit::append(conn, &actor, &Entry::new(Action::SignedOut, Some(target), serde_json::json!(null)))?;
            }
            Ok(())
        })
        .await
    }
}
