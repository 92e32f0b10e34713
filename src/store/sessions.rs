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

/// When a session was last seen, if it is still valid at `at`: not past its absolute expiry and seen
/// within `idle`. An unreadable timestamp ends the session: fail closed.
fn still_valid(expires_at: &str, last_seen: &str, at: OffsetDateTime, idle: Duration) -> Option<OffsetDateTime> {
    let (expires, last_seen) = (parse_time(expires_at)?, parse_time(last_seen)?);
    (expires > at && last_seen + idle > at).then_some(last_seen)
}

/// The admin session with this id hash, if it is still valid at `at`.
fn admin_session(
    conn: &rusqlite::Connection,
    id_hash: &str,
    at: OffsetDateTime,
    idle: Duration,
) -> Result<Option<SessionRecord>, StoreError> {
    let found = conn
        .prepare_cached(
            "SELECT a.id, a.username, a.created_at, s.created_at, s.expires_at, s.last_seen_at
             FROM admin_sessions s JOIN admins a ON a.id = s.admin_id
             WHERE s.id_hash = ?1",
        )?
        .query_row([id_hash], |row| {
            Ok((
                AdminRecord { id: row.get(0)?, username: row.get(1)?, created_at: row.get(2)? },
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
            ))
        })
        .optional()?;
    let Some((admin, created_at, expires_at, last_seen)) = found else { return Ok(None) };
    let Some(last_seen) = still_valid(&expires_at, &last_seen, at, idle) else { return Ok(None) };
    Ok(Some(SessionRecord { admin, created_at, expires_at, last_seen }))
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
        self.read(move |conn| admin_session(conn, &id_hash, at, idle)).await
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

/// A provisioned user as a session of the identity provider's sign-in names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    pub created_at: String,
}

/// What a new session of a person signed in through the identity provider holds.
#[derive(Debug, Clone)]
pub struct NewUserSession {
    /// The hex SHA-256 of the session id.
    pub id_hash: String,
    pub user: SessionUser,
    pub at: OffsetDateTime,
    pub lifetime: Duration,
    /// What the sign-in record says (how, whether an admin).
    pub details: serde_json::Value,
    /// The ID token, sealed with the session's key.
    pub sealed: Option<Vec<u8>>,
}

/// A live session of a person signed in through the identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSessionRecord {
    pub user: SessionUser,
    /// Whether the user is, at this moment, a member (directly or through nested groups) of the admin group.
    pub admin: bool,
    pub expires_at: String,
    pub last_seen: OffsetDateTime,
}

/// Either kind of session a cookie can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnySession {
    /// A local admin account, signed in with its password.
    Admin(SessionRecord),
    /// A provisioned user, signed in through the identity provider.
    User(UserSessionRecord),
}

/// How the identity provider's sign-in looks a person up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInKey {
    /// The user's `externalId`, compared exactly (it is case-exact in RFC 7643).
    ExternalId(String),
    /// A verified e-mail address, compared case-insensitively with `userName` and the user's addresses.
    Email(String),
}

/// What looking a person up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInMatch {
    /// Exactly one live user, and whether it is active.
    Found { user: SessionUser, active: bool },
    /// No live user.
    Missing,
    /// More than one live user: nobody is signed in rather than the wrong one.
    Ambiguous,
}

fn session_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<(SessionUser, bool)> {
    Ok((
        SessionUser { id: row.get(0)?, user_name: row.get(1)?, display_name: row.get(2)?, created_at: row.get(3)? },
        row.get(4)?,
    ))
}

/// Whether user `?1` belongs, directly or through nested groups, to the group named `?2` (case-folded).
fn in_group_sql() -> String {
    format!(
        "{} SELECT EXISTS (SELECT 1 FROM mine JOIN groups g ON g.seq = mine.seq WHERE g.display_name_key = ?2)",
        super::access::USER_GROUPS_CTE
    )
}

impl Store {
    /// The live user a signed-in person is. Nobody is created here: SCIM is the only source of users.
    pub async fn user_for_sign_in(&self, key: SignInKey) -> Result<SignInMatch, StoreError> {
        self.read(move |conn| {
            const COLUMNS: &str = "u.id, u.user_name, u.display_name, u.created_at, u.active";
            let mut found: Vec<(SessionUser, bool)> = match &key {
                SignInKey::ExternalId(value) => conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM users u WHERE u.external_id = ?1 AND u.deleted_at IS NULL LIMIT 2"
                    ))?
                    .query_map([value], session_user)?
                    .collect::<Result<_, _>>()?,
                SignInKey::Email(address) => {
                    let folded = crate::scim::user::fold(address);
                    conn.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM users u WHERE u.user_name_key = ?1 AND u.deleted_at IS NULL
                         UNION
                         SELECT {COLUMNS} FROM user_emails e JOIN users u ON u.seq = e.user_seq
                         WHERE e.value_key = ?1 AND u.deleted_at IS NULL
                         LIMIT 3"
                    ))?
                    .query_map([folded], session_user)?
                    .collect::<Result<_, _>>()?
                }
            };
            found.dedup_by(|a, b| a.0.id == b.0.id);
            Ok(match found.len() {
                0 => SignInMatch::Missing,
                1 => {
                    let (user, active) = found.remove(0);
                    SignInMatch::Found { user, active }
                }
                _ => SignInMatch::Ambiguous,
            })
        })
        .await
    }

    /// Whether the live, active user `user_id` is in the group named `group` (directly or nested).
    pub async fn user_in_group(&self, user_id: &str, group: &str) -> Result<bool, StoreError> {
        let (user_id, key) = (user_id.to_owned(), crate::scim::user::fold(group));
        self.read(move |conn| {
            Ok(conn.prepare_cached(&in_group_sql())?.query_row(params![user_id, key], |row| row.get(0))?)
        })
        .await
    }

    /// Stores a new session of a user signed in through the identity provider, and records the sign-in by
    /// `actor` (the user) in the same write.
    pub async fn create_user_session(&self, actor: &Actor, session: NewUserSession) -> Result<(), StoreError> {
        let actor = actor.clone();
        let NewUserSession { id_hash, user, at, lifetime, details, sealed } = session;
        self.write(move |conn| {
            let now = format_time(at);
            let expires_at = format_time(at + lifetime);
            conn.prepare_cached(
                "INSERT INTO user_sessions (id_hash, user_id, created_at, last_seen_at, expires_at, id_token_sealed)
                 VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
            )?
            .execute(params![id_hash, user.id, now, expires_at, sealed])?;
            let mut details = details;
            details["expiresAt"] = serde_json::Value::from(expires_at);
            let entry = Entry::new(
                Action::SignedIn,
                Some(Target::new("user", user.id.clone(), user.user_name.clone())),
                details,
            );
            audit::append(conn, &actor, &entry)?;
            Ok(())
        })
        .await
    }

    /// The session with this id hash, of either kind, if it is still valid at `at`. A user's session is
    /// valid only while the user is active and not deleted; `admin_group` decides, on this read, whether
    /// they are an admin. Nothing of this is cached: SCIM changes apply to the very next request.
    pub async fn any_session(
        &self,
        id_hash: String,
        at: OffsetDateTime,
        idle: Duration,
        admin_group: Option<String>,
    ) -> Result<Option<AnySession>, StoreError> {
        let group_key = admin_group.as_deref().map(crate::scim::user::fold);
        self.read(move |conn| {
            if let Some(admin) = admin_session(conn, &id_hash, at, idle)? {
                return Ok(Some(AnySession::Admin(admin)));
            }
            let found = conn
                .prepare_cached(
                    "SELECT u.id, u.user_name, u.display_name, u.created_at, u.active, s.expires_at, s.last_seen_at
                     FROM user_sessions s JOIN users u ON u.id = s.user_id AND u.deleted_at IS NULL
                     WHERE s.id_hash = ?1",
                )?
                .query_row([&id_hash], |row| {
                    let (user, active) = session_user(row)?;
                    Ok((user, active, row.get::<_, String>(5)?, row.get::<_, String>(6)?))
                })
                .optional()?;
            let Some((user, active, expires_at, last_seen)) = found else { return Ok(None) };
            let Some(last_seen) = still_valid(&expires_at, &last_seen, at, idle).filter(|_| active) else {
                return Ok(None);
            };
            let admin = match &group_key {
                Some(key) => {
                    conn.prepare_cached(&in_group_sql())?.query_row(params![user.id, key], |row| row.get(0))?
                }
                None => false,
            };
            Ok(Some(AnySession::User(UserSessionRecord { user, admin, expires_at, last_seen })))
        })
        .await
    }

    /// Records that a user's session was used at `at`.
    pub async fn touch_user_session(&self, id_hash: String, at: OffsetDateTime) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.prepare_cached("UPDATE user_sessions SET last_seen_at = ?2 WHERE id_hash = ?1")?
                .execute(params![id_hash, format_time(at)])?;
            Ok(())
        })
        .await
    }

    /// Ends a user's session (sign-out by `actor`, the user) and records it; answers the sealed ID token
    /// kept for RP-initiated logout.
    pub async fn delete_user_session(&self, actor: &Actor, id_hash: String) -> Result<Option<Vec<u8>>, StoreError> {
        let actor = actor.clone();
        self.write(move |conn| {
            let ended: Option<Option<Vec<u8>>> = conn
                .prepare_cached("DELETE FROM user_sessions WHERE id_hash = ?1 RETURNING id_token_sealed")?
                .query_row([id_hash], |row| row.get(0))
                .optional()?;
            if ended.is_some() {
                let target = Target { kind: "user".into(), id: actor.id.clone(), name: actor.name.clone() };
                audit::append(conn, &actor, &Entry::new(Action::SignedOut, Some(target), serde_json::json!(null)))?;
            }
            Ok(ended.flatten())
        })
        .await
    }
}
