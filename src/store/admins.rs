//! Admin accounts: the people who sign in to the page. Passwords arrive here already hashed.

use rusqlite::params;

use super::{Store, StoreError, format_time, now};

/// An admin as listed (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRecord {
    pub id: String,
    pub username: String,
    pub created_at: String,
}

impl Store {
    /// Creates an admin; the user name must be unused whatever its case.
    pub async fn create_admin(&self, username: &str, password_hash: String) -> Result<AdminRecord, StoreError> {
        let username = username.to_owned();
        self.write(move |conn| {
            let id = uuid::Uuid::now_v7().to_string();
            let created_at = format_time(now());
            let inserted = conn.execute(
                "INSERT INTO admins (id, username, username_key, password_hash, created_at, password_changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (username_key) DO NOTHING",
                params![id, username, username.to_lowercase(), password_hash, created_at],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!("admin user name {username:?}")));
            }
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
