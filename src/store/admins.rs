//! Admin accounts: the people who sign in to the page. Passwords arrive here already hashed; removing an
//! admin or changing a password also ends the sessions it should end.

use rusqlite::{OptionalExtension, params};
use serde_json::json;

use super::{Store, StoreError, audit, format_time, now};
use crate::audit::{Action, Actor, Entry, Target};

/// An admin as listed (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRecord {
    pub id: String,
    pub username: String,
    pub created_at: String,
}

impl Store {
    /// Creates an admin; the user name must be unused whatever its case.
    pub async fn create_admin(
        &self,
        actor: &Actor,
        username: &str,
        password_hash: String,
    ) -> Result<AdminRecord, StoreError> {
        let username = username.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            // A name that reads like an existing one (`аlice` with a Cyrillic а beside `alice`) would let one
            // admin pass for another in the page and the logs.
            let mut existing = conn.prepare_cached("SELECT username FROM admins")?;
            let names = existing.query_map([], |row| row.get::<_, String>(0))?;
            for name in names {
                let name = name?;
                if crate::credentials::names_look_alike(&name, &username) {
                    return Err(StoreError::Conflict(format!(
                        "an admin named {name:?}, which reads like {username:?},"
                    )));
                }
            }
            drop(existing);
            let id = uuid::Uuid::now_v7().to_string();
            let created_at = format_time(now());
            let inserted = conn.execute(
                "INSERT INTO admins (id, username, username_key, password_hash, created_at, password_changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (username_key) DO NOTHING",
                params![id, username, username.to_lowercase(), password_hash, created_at],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!("an admin named {username:?}")));
            }
            let entry =
                Entry::new(Action::AdminCreated, Some(Target::new("admin", id.clone(), username.clone())), json!(null));
            audit::append(conn, &actor, &entry)?;
            Ok(AdminRecord { id, username, created_at })
        })
        .await
    }

    /// How many admins exist: zero means the setup link is offered.
    pub async fn admin_count(&self) -> Result<u64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT count(*) FROM admins", [], |row| row.get::<_, i64>(0))?))
            .await
            .map(|n| u64::try_from(n).unwrap_or(0))
    }
}

/// An admin with the stored hash of its password, for signing in. Never leaves the server.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminCredentials {
    pub admin: AdminRecord,
    pub password_hash: String,
}

impl std::fmt::Debug for AdminCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCredentials").field("admin", &self.admin).finish_non_exhaustive()
    }
}

/// What `delete_admin` refused or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminRemoval {
    Removed(AdminRecord),
    /// The last admin cannot be removed: nobody could sign in afterwards.
    Last,
}

impl Store {
    /// Creates the first admin, only while there is none: the page's setup step. Two setups racing each
    /// other cannot both succeed, because the check and the insert are one write.
    pub async fn create_first_admin(
        &self,
        actor: &Actor,
        username: &str,
        password_hash: String,
    ) -> Result<AdminRecord, StoreError> {
        let username = username.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let count: i64 = conn.query_row("SELECT count(*) FROM admins", [], |row| row.get(0))?;
            if count > 0 {
                return Err(StoreError::Conflict("the first admin".into()));
            }
            let id = uuid::Uuid::now_v7().to_string();
            let created_at = format_time(now());
            conn.execute(
                "INSERT INTO admins (id, username, username_key, password_hash, created_at, password_changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![id, username, username.to_lowercase(), password_hash, created_at],
            )?;
            let entry = Entry::new(
                Action::SetupCompleted,
                Some(Target::new("admin", id.clone(), username.clone())),
                json!({ "firstAdmin": true }),
            );
            audit::append(conn, &actor, &entry)?;
            Ok(AdminRecord { id, username, created_at })
        })
        .await
    }

    /// The admin named `username` (whatever its case) with its password hash.
    pub async fn admin_credentials(&self, username: &str) -> Result<Option<AdminCredentials>, StoreError> {
        let key = username.to_lowercase();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT id, username, created_at, password_hash FROM admins WHERE username_key = ?1")?
                .query_row([key], credentials_row)
                .optional()?)
        })
        .await
    }

    /// The admin with this id, with its password hash.
    pub async fn admin_credentials_by_id(&self, id: &str) -> Result<Option<AdminCredentials>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached("SELECT id, username, created_at, password_hash FROM admins WHERE id = ?1")?
                .query_row([id], credentials_row)
                .optional()?)
        })
        .await
    }

    /// Every admin, oldest first.
    pub async fn list_admins(&self) -> Result<Vec<AdminRecord>, StoreError> {
        self.read(|conn| {
            let mut statement =
                conn.prepare_cached("SELECT id, username, created_at FROM admins ORDER BY created_at, id")?;
            let rows = statement.query_map([], |row| {
                Ok(AdminRecord { id: row.get(0)?, username: row.get(1)?, created_at: row.get(2)? })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Removes an admin and its sessions, unless it is the last one.
    pub async fn delete_admin(&self, actor: &Actor, id: &str) -> Result<AdminRemoval, StoreError> {
        let id = id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let found = conn
                .prepare_cached("SELECT id, username, created_at FROM admins WHERE id = ?1")?
                .query_row([&id], |row| {
                    Ok(AdminRecord { id: row.get(0)?, username: row.get(1)?, created_at: row.get(2)? })
                })
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("admin {id:?}")))?;
            let count: i64 = conn.query_row("SELECT count(*) FROM admins", [], |row| row.get(0))?;
            if count <= 1 {
                return Ok(AdminRemoval::Last);
            }
            let sessions = conn.prepare_cached("DELETE FROM admin_sessions WHERE admin_id = ?1")?.execute([&id])?;
            conn.prepare_cached("DELETE FROM admins WHERE id = ?1")?.execute([&id])?;
            let entry = Entry::new(
                Action::AdminRemoved,
                Some(Target::new("admin", found.id.clone(), found.username.clone())),
                json!({ "sessionsEnded": sessions }),
            );
            audit::append(conn, &actor, &entry)?;
            Ok(AdminRemoval::Removed(found))
        })
        .await
    }

    /// Replaces an admin's password hash and ends every session of that admin except `keep_session`
    /// (the hex SHA-256 of the session that made the change).
    pub async fn set_admin_password(
        &self,
        actor: &Actor,
        id: &str,
        password_hash: String,
        keep_session: Option<String>,
    ) -> Result<(), StoreError> {
        let id = id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE admins SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1")?
                .execute(params![id, password_hash, format_time(now())])?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("admin {id:?}")));
            }
            let ended = conn
                .prepare_cached("DELETE FROM admin_sessions WHERE admin_id = ?1 AND id_hash IS NOT ?2")?
                .execute(params![id, keep_session])?;
            let username: String =
                conn.query_row("SELECT username FROM admins WHERE id = ?1", [&id], |row| row.get(0))?;
            let entry = Entry::new(
                Action::PasswordChanged,
                Some(Target::new("admin", id.clone(), username)),
                json!({ "otherSessionsEnded": ended }),
            );
            audit::append(conn, &actor, &entry)?;
            Ok(())
        })
        .await
    }
}

fn credentials_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AdminCredentials> {
    Ok(AdminCredentials {
        admin: AdminRecord { id: row.get(0)?, username: row.get(1)?, created_at: row.get(2)? },
        password_hash: row.get(3)?,
    })
}
