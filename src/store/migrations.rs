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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Action, Actor, Entry};

    /// V14 rebuilds the audit table (to admit the actor kind `user`): a log written before it must keep
    /// every record, its hash chain, and its append-only triggers.
    #[tokio::test]
    async fn the_audit_table_rebuilt_by_v14_keeps_its_records_chain_and_triggers() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(dir.path().join(super::super::DATABASE_FILE)).unwrap();
            migrations::runner().set_target(refinery::Target::Version(13)).run(&mut conn).unwrap();
            for n in 0..5 {
                let entry = Entry::new(Action::TokenCreated, None, serde_json::json!({ "n": n }));
                super::super::audit::append(&conn, &Actor::cli(format!("before-{n}")), &entry).unwrap();
            }
            let refused = conn.execute(
                "INSERT INTO audit (at, actor_kind, action, outcome, details, prev, hash) VALUES ('x', 'user', 'a', 'success', '{}', x'', x'')",
                [],
            );
            assert!(refused.is_err(), "V13 knows no `user` actors");
        }
        let store = super::super::Store::open(dir.path()).unwrap();
        let actor = Actor::user("0190-user", "ada@corp.example", None);
        store.audit(actor, Entry::new(Action::SignedIn, None, serde_json::json!({ "method": "oidc" }))).await.unwrap();
        let verified = store.verify_audit().await.unwrap();
        assert_eq!(verified.broken, None, "the chain runs on across the rebuild");
        assert!(verified.records >= 7, "the five records, the migration's and the sign-in: {}", verified.records);
        // On the writer's connection: a reader's would refuse any write for being read-only.
        store
            .write(|conn| {
                let update = conn.execute("UPDATE audit SET details = '{}' WHERE seq = 1", []);
                assert!(update.is_err(), "still append-only");
                let bogus = conn.execute(
                    "INSERT INTO audit (at, actor_kind, action, outcome, details, prev, hash) VALUES ('x', 'bogus', 'a', 'success', '{}', x'', x'')",
                    [],
                );
                assert!(bogus.is_err(), "the CHECK still holds");
                let indexes: i64 = conn.query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'audit' AND name LIKE 'audit_%'",
                    [],
                    |row| row.get(0),
                )?;
                assert_eq!(indexes, 4);
                Ok(())
            })
            .await
            .unwrap();
    }

    /// V15 keeps each user's direct groups in the user's row: a database written before it gets the lists
    /// of its existing memberships, and a user in no group none.
    #[tokio::test]
    async fn v15_lists_the_existing_memberships_in_each_users_row() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut conn = Connection::open(dir.path().join(super::super::DATABASE_FILE)).unwrap();
            migrations::runner().set_target(refinery::Target::Version(14)).run(&mut conn).unwrap();
            for (seq, id) in [(1, "u1"), (2, "u2"), (3, "u3")] {
                conn.execute(
                    "INSERT INTO users (seq, id, user_name, user_name_key, created_at, last_modified, attributes)
                     VALUES (?1, ?2, ?2, ?2, 'x', 'x', '{}')",
                    rusqlite::params![seq, id],
                )
                .unwrap();
            }
            for (seq, id) in [(1, "g1"), (2, "g2"), (3, "g3")] {
                conn.execute(
                    "INSERT INTO groups (seq, id, display_name, display_name_key, created_at, last_modified, attributes)
                     VALUES (?1, ?2, ?2, ?2, 'x', 'x', '{}')",
                    rusqlite::params![seq, id],
                )
                .unwrap();
            }
            for (group, member, kind) in [(1, "u1", "User"), (2, "u1", "User"), (3, "u2", "User"), (3, "g1", "Group")] {
                conn.execute(
                    "INSERT INTO group_members (group_seq, member_id, member_type) VALUES (?1, ?2, ?3)",
                    rusqlite::params![group, member, kind],
                )
                .unwrap();
            }
        }
        let store = super::super::Store::open(dir.path()).unwrap();
        let lists = store
            .read(|conn| {
                let mut statement = conn.prepare("SELECT id, group_seqs FROM users ORDER BY seq")?;
                let rows =
                    statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
            .unwrap();
        let sorted = |list: &Option<String>| {
            let mut seqs: Vec<i64> = list.iter().flat_map(|l| l.split(',')).map(|s| s.parse().unwrap()).collect();
            seqs.sort_unstable();
            seqs
        };
        assert_eq!(
            lists.iter().map(|(id, list)| (id.as_str(), sorted(list))).collect::<Vec<_>>(),
            [("u1", vec![1, 2]), ("u2", vec![3]), ("u3", vec![])]
        );
        assert_eq!(lists[2].1, None, "a user in no group has no list");
        let groups: Vec<String> = store.user_groups("u2").await.unwrap().into_iter().map(|g| g.id).collect();
        assert_eq!(groups, ["g3"]);
    }
}
