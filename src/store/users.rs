//! Users: their rows, e-mail keys and tombstones.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, format_time, now};
use crate::scim::user::{StoredUser, UserDraft};

impl Store {
    /// Creates a user; `userName` and e-mail addresses must be unused among live users (case-insensitively).
    pub async fn create_user(&self, draft: UserDraft, password_hash: Option<String>) -> Result<StoredUser, StoreError> {
        self.write(move |conn| {
            let user_name_key = crate::scim::user::fold(&draft.user_name);
            let taken: bool = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE user_name_key = ?1 AND deleted_at IS NULL)")?
                .query_row([&user_name_key], |row| row.get(0))?;
            if taken {
                return Err(StoreError::Conflict(format!("userName {:?}", draft.user_name)));
            }
            for key in &draft.email_keys {
                let taken: bool = conn
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM user_emails WHERE value_key = ?1)")?
                    .query_row([key], |row| row.get(0))?;
                if taken {
                    return Err(StoreError::Conflict(format!("e-mail address {key:?}")));
                }
            }
            let id = uuid::Uuid::now_v7().to_string();
            let at = format_time(now());
            let attributes = serde_json::Value::Object(draft.attributes.clone()).to_string();
            conn.prepare_cached(
                "INSERT INTO users (id, user_name, user_name_key, external_id, display_name, display_name_key,
                                    active, created_at, last_modified, version, password_hash, attributes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1, ?9, ?10)",
            )?
            .execute(params![
                id,
                draft.user_name,
                user_name_key,
                draft.external_id,
                draft.display_name,
                draft.display_name.as_deref().map(crate::scim::user::fold),
                draft.active,
                at,
                password_hash,
                attributes
            ])?;
            let seq = conn.last_insert_rowid();
            for key in &draft.email_keys {
                conn.prepare_cached("INSERT INTO user_emails (user_seq, value_key) VALUES (?1, ?2)")?
                    .execute(params![seq, key])?;
            }
            Ok(StoredUser { id, attributes: draft.attributes, created: at.clone(), last_modified: at, version: 1 })
        })
        .await
    }

    /// A live user by SCIM id.
    pub async fn get_user(&self, id: &str) -> Result<Option<StoredUser>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT id, attributes, created_at, last_modified, version FROM users
                     WHERE id = ?1 AND deleted_at IS NULL",
                )?
                .query_row([&id], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, i64>(4)?,
                    ))
                })
                .optional()?;
            row.map(|(id, attributes, created, last_modified, version)| {
                let attributes = match serde_json::from_str(&attributes) {
                    Ok(serde_json::Value::Object(map)) => map,
                    _ => return Err(StoreError::Internal(format!("user {id} has unreadable attributes"))),
                };
                Ok(StoredUser { id, attributes, created, last_modified, version })
            })
            .transpose()
        })
        .await
    }
}
