//! API tokens: their rows, and the revocation epoch that tells a running server to re-read them.
//!
//! The epoch is a small file beside the database (`tokens.epoch`), replaced (new inode) after every token
//! change. A server remembers which epoch its in-memory token table was read at and compares it with a
//! `stat` of the file, at most once every [`TOKEN_EPOCH_TRUSTED_FOR`]; a token change returns only after
//! twice that, so once `scimbox token revoke` (in any process) or the page's revocation has returned, every
//! server refuses the token on its very next request, without a database read on the hot path.

use std::path::Path;

use rusqlite::{OptionalExtension, Row, params};
use serde_json::json;
use time::OffsetDateTime;

use super::{Store, StoreError, audit, format_time, now, parse_time};
use crate::audit::{Action, Actor, Entry, Target};
use crate::credentials::{self, NewToken, Scope};

const EPOCH_FILE: &str = "tokens.epoch";

/// How long a server may go on trusting its last look at the token epoch. Under load this turns one `stat`
/// per request into one per millisecond.
pub const TOKEN_EPOCH_TRUSTED_FOR: std::time::Duration = std::time::Duration::from_millis(1);

/// A token as listed: everything but its secret and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl TokenRecord {
    /// What may be shown of the token: `scimbox_<id>`, enough to recognise it in Okta's settings.
    pub fn prefix(&self) -> String {
        format!("{}{}", credentials::TOKEN_PREFIX, self.id)
    }

    /// `revoked`, `expired` (at `now`, as stored text) or `active`.
    pub fn status(&self, now: &str) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at.as_deref().is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        }
    }
}

/// What the server needs to authenticate a token: only live (unrevoked) tokens are read.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenAuthRow {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    pub secret_hash: String,
    pub expires_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for TokenAuthRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuthRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("scope", &self.scope)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Identifies one state of the token table: any token change produces a different epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenEpoch {
    inode: u64,
    modified_ns: i128,
    len: u64,
}

/// What `revoke_token` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked(TokenRecord),
    AlreadyRevoked(TokenRecord),
}

fn record(row: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    let scope: String = row.get("scope")?;
    Ok(TokenRecord {
        id: row.get("id")?,
        name: row.get("name")?,
        scope: Scope::parse(&scope).unwrap_or(Scope::Platform),
        created_at: row.get("created_at")?,
        last_used_at: row.get("last_used_at")?,
        expires_at: row.get("expires_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

const RECORD_COLUMNS: &str = "id, name, scope, created_at, last_used_at, expires_at, revoked_at";

impl Store {
    /// Creates a token. The secret is hashed here, in the argon2 pool (argon2 takes milliseconds and must
    /// not stall the writer); the returned [`NewToken`] is the only place its text ever exists.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        scope: Scope,
        expires_in_days: Option<u32>,
    ) -> Result<(TokenRecord, NewToken), StoreError> {
        let token = NewToken::generate().map_err(|e| StoreError::Internal(e.to_string()))?;
        let hash = match self.argon2().hash(crate::hashing::Lane::Interactive, token.secret.clone()).await {
            Ok(hash) => hash,
            Err(crate::hashing::PoolError::Full) => return Err(StoreError::Busy),
            Err(error) => return Err(StoreError::Internal(error.to_string())),
        };
        let created = now();
        let record = TokenRecord {
            id: token.id.clone(),
            name: name.to_owned(),
            scope,
            created_at: format_time(created),
            last_used_at: None,
            expires_at: expires_in_days.map(|days| format_time(created + time::Duration::days(days.into()))),
            revoked_at: None,
        };
        let row = record.clone();
        let actor = actor.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO api_tokens (id, name, scope, secret_hash, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![row.id, row.name, row.scope.as_str(), hash, row.created_at, row.expires_at],
            )?;
            let entry = Entry::new(
                Action::TokenCreated,
                Some(Target::new("token", row.id.clone(), row.name.clone())),
                json!({ "scope": row.scope.as_str(), "expiresAt": row.expires_at }),
            );
            audit::append(conn, &actor, &entry)?;
            Ok(())
        })
        .await?;
        self.bump_token_epoch().await?;
        Ok((record, token))
    }

    /// Every token, newest first, revoked ones included.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.read(|conn| {
            let mut statement =
                conn.prepare_cached(&format!("SELECT {RECORD_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id"))?;
            let rows = statement.query_map([], record)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Revokes a token by id. Takes effect in a running server on its next request.
    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<RevokeOutcome, StoreError> {
        let id = id.to_owned();
        let actor = actor.clone();
        let outcome = self
            .write(move |conn| {
                let found = conn
                    .query_row(&format!("SELECT {RECORD_COLUMNS} FROM api_tokens WHERE id = ?1"), [&id], record)
                    .optional()?
                    .ok_or_else(|| StoreError::NotFound(format!("token {id}")))?;
                if found.revoked_at.is_some() {
                    return Ok(RevokeOutcome::AlreadyRevoked(found));
                }
                let revoked_at = format_time(now());
                conn.execute("UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1", params![id, revoked_at])?;
                let entry = Entry::new(
                    Action::TokenRevoked,
                    Some(Target::new("token", found.id.clone(), found.name.clone())),
                    json!({ "scope": found.scope.as_str() }),
                );
                audit::append(conn, &actor, &entry)?;
                Ok(RevokeOutcome::Revoked(TokenRecord { revoked_at: Some(revoked_at), ..found }))
            })
            .await?;
        self.bump_token_epoch().await?;
        Ok(outcome)
    }

    /// The live tokens with their hashes, for the server's in-memory token table.
    pub async fn token_auth_rows(&self) -> Result<Vec<TokenAuthRow>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, name, scope, secret_hash, expires_at FROM api_tokens WHERE revoked_at IS NULL",
            )?;
            let rows = statement.query_map([], |row| {
                let scope: String = row.get(2)?;
                let expires_at: Option<String> = row.get(4)?;
                Ok(TokenAuthRow {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    scope: Scope::parse(&scope).unwrap_or(Scope::Platform),
                    secret_hash: row.get(3)?,
                    // An unreadable expiry is treated as already expired: fail closed.
                    expires_at: expires_at.map(|text| parse_time(&text).unwrap_or(OffsetDateTime::UNIX_EPOCH)),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    /// Records that a token was used. Callers limit this to once a minute per token.
    pub async fn touch_token(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |conn| {
            conn.execute("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", params![id, format_time(at)])?;
            Ok(())
        })
        .await
    }

    /// The current epoch of the token table (`None` before any token change was ever recorded).
    pub fn token_epoch(&self) -> Option<TokenEpoch> {
        read_epoch(&self.inner.data_dir)
    }

    /// Marks the token table as changed. Written after the change committed, as a new file renamed into
    /// place, so a reader either sees the old epoch (and the old table) or the new one.
    /// A failure is reported to the caller: without a new epoch a running server would keep honouring a
    /// revoked token, so the change must not look complete. Returns after twice
    /// [`TOKEN_EPOCH_TRUSTED_FOR`]: by then no server trusts a look at the epoch taken before the change.
    async fn bump_token_epoch(&self) -> Result<(), StoreError> {
        let dir = &self.inner.data_dir;
        let target = dir.join(EPOCH_FILE);
        let staging = dir.join(format!("{EPOCH_FILE}.{}", std::process::id()));
        let stamp = format!("{}\n", format_time(now()));
        std::fs::write(&staging, stamp).and_then(|()| std::fs::rename(&staging, &target)).map_err(|error| {
            StoreError::Internal(format!(
                "the token change is saved, but a running server could not be told ({}: {error}); restart it",
                target.display()
            ))
        })?;
        tokio::time::sleep(2 * TOKEN_EPOCH_TRUSTED_FOR).await;
        Ok(())
    }
}

fn read_epoch(data_dir: &Path) -> Option<TokenEpoch> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(data_dir.join(EPOCH_FILE)).ok()?;
    Some(TokenEpoch {
        inode: meta.ino(),
        modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        len: meta.len(),
    })
}
