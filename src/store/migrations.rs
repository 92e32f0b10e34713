//! Schema migrations: the append-only `sql/V{n}__{name}.sql` files, embedded at build time by refinery and
//! applied when the store opens, before anything is served. A database that already carries a version
//! this binary does not know was written by a newer scimbox and is refused untouched.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

refinery::embed_migrations!("sql");

/// The newest schema version this binary knows.
pub(super) fn known_version() -> i64 {
    migrations::runner().get_migrations().iter().map(|m| i64::from(m.version())).max().unwrap_or(0)
}

/// The newest version recorded in the database, if it has ever been migrated.
fn applied_version(conn: &Connection) -> Result<Option<i64>, rusqlite::Error> {
    let has_history: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'refinery_schema_history')",
        [],
        |row| row.get(0),
    )?;
    if !has_history {
        return Ok(None);
    }
    conn.query_row("SELECT MAX(version) FROM refinery_schema_history", [], |row| row.get(0))
        .optional()
        .map(Option::flatten)
}

/// What opening the database migrated: the version it had (none for a new database) and the one it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Migrated {
    pub from: Option<i64>,
    pub to: i64,
}

/// Refuses a newer database, then applies what is pending; answers what was applied, if anything.
pub(super) fn apply(conn: &mut Connection, path: &Path) -> Result<Option<Migrated>, StoreError> {
    let failed = |reason: String| StoreError::Migration { path: path.to_owned(), reason };
    let known = known_version();
    let before = applied_version(conn).map_err(|e| failed(e.to_string()))?;
    if let Some(found) = before
        && found > known
    {
        return Err(StoreError::NewerSchema { path: path.to_owned(), found, known });
    }
    // Another scimbox process (the CLI beside `serve`) may migrate the same file at the same moment; the
    // loser of that race finds the tables created and succeeds on its second pass.
    let mut attempt = migrations::runner().set_abort_divergent(true).set_abort_missing(true).run(conn);
    if attempt.is_err() {
        attempt = migrations::runner().set_abort_divergent(true).set_abort_missing(true).run(conn);
    }
    attempt.map_err(|e| failed(e.to_string()))?;
    let after = applied_version(conn).map_err(|e| failed(e.to_string()))?.unwrap_or(0);
    Ok((before != Some(after)).then_some(Migrated { from: before, to: after }))
}
