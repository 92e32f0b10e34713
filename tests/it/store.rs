//! Store tests against a real temporary SQLite database with the migrations applied.

use crate::support::actor;
use scimbox::credentials::Scope;
use scimbox::scim::user::{UserDraft, draft};
use scimbox::store::{Store, StoreError};
use serde_json::json;

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).expect("store opens");
    (dir, store)
}

fn user(name: &str) -> UserDraft {
    draft(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name})).unwrap()
}

fn sql(store: &Store, query: &str) -> i64 {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.query_row(query, [], |row| row.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn opening_applies_migrations_once_and_sets_wal() {
    let (dir, store) = open();
    store.close().await;
    let again = Store::open(dir.path()).expect("a migrated database opens again");
    let conn = rusqlite::Connection::open(again.path()).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let applied: i64 = conn.query_row("SELECT count(*) FROM refinery_schema_history", [], |row| row.get(0)).unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/sql")).unwrap().count();
    assert_eq!(applied, i64::try_from(files).unwrap(), "every migration in sql/ is applied exactly once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_from_a_newer_binary_is_refused_untouched() {
    let (dir, store) = open();
    store.close().await;
    drop(store);
    let path = dir.path().join("scimbox.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (9999, 'future', '', '0')",
            [],
        )
        .unwrap();
    }
    let error = Store::open(dir.path()).expect_err("a newer schema must be refused");
    assert!(matches!(error, StoreError::NewerSchema { found: 9999, .. }), "{error:?}");
    assert!(error.to_string().contains("newer scimbox"), "{error}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let max: i64 = conn.query_row("SELECT max(version) FROM refinery_schema_history", [], |row| row.get(0)).unwrap();
    assert_eq!(max, 9999, "the refused database is left as it was");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_a_database_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scimbox.db"), vec![0x5a; 8192]).unwrap();
    let error = Store::open(dir.path()).expect_err("garbage must not open");
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_writes_commit_as_one_group_and_a_failing_one_fails_alone() {
    let (_dir, store) = open();
    store.create_user(&actor(), user("taken"), None).await.unwrap();
    let before = store.writer_stats();

    let hold = store.hold_writer().await.unwrap();
    let mut writes = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        // The eleventh write collides with an existing userName (case-insensitively) and must fail alone.
        let name = if i == 10 { "TAKEN".to_owned() } else { format!("user{i}") };
        writes.push(tokio::spawn(async move { store.create_user(&actor(), user(&name), None).await }));
    }
    while store.queued_writes() < 20 {
        tokio::task::yield_now().await;
    }
    drop(hold);

    let mut failures = Vec::new();
    for (i, write) in writes.into_iter().enumerate() {
        match write.await.unwrap() {
            Ok(created) => assert!(store.get_user(&created.id).await.unwrap().is_some()),
            Err(error) => failures.push((i, error)),
        }
    }
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, 10);
    assert!(matches!(&failures[0].1, StoreError::Conflict(what) if what.contains("TAKEN")), "{failures:?}");
    let after = store.writer_stats();
    assert_eq!(after.writes - before.writes, 21, "the hold and the twenty writes ran");
    assert_eq!(after.transactions - before.transactions, 2, "one transaction for the hold, one for the group");
    assert_eq!(after.failed_writes - before.failed_writes, 1);
    assert_eq!(sql(&store, "SELECT count(*) FROM users"), 20, "nineteen new users and the first one");
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_are_answered_while_the_writer_is_busy() {
    let (_dir, store) = open();
    let created = store.create_user(&actor(), user("reader"), None).await.unwrap();
    // The hold keeps a write transaction open on the writer thread; WAL readers do not wait for it.
    let hold = store.hold_writer().await.unwrap();
    let pending = {
        let store = store.clone();
        tokio::spawn(async move { store.create_user(&actor(), user("queued"), None).await })
    };
    let found = store.get_user(&created.id).await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(created.id.clone()));
    assert!(store.ping().await.is_ok());
    assert!(!pending.is_finished(), "the write waits for the writer");
    drop(hold);
    pending.await.unwrap().expect("the queued write commits after the hold");
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_commits_what_is_queued_and_refuses_more() {
    let (_dir, store) = open();
    let hold = store.hold_writer().await.unwrap();
    let queued = {
        let store = store.clone();
        tokio::spawn(async move { store.create_user(&actor(), user("last"), None).await })
    };
    while store.queued_writes() < 1 {
        tokio::task::yield_now().await;
    }
    let closing = {
        let store = store.clone();
        tokio::spawn(async move { store.close().await })
    };
    drop(hold);
    closing.await.unwrap();
    assert!(queued.await.unwrap().is_ok(), "a write queued before close is committed");
    let late = store.create_user(&actor(), user("late"), None).await;
    assert_eq!(late.unwrap_err(), StoreError::Closed);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_stored_hashed_and_revocation_moves_the_epoch() {
    let (dir, store) = open();
    let epoch_before = store.token_epoch();
    let (record, token) = store.create_token(&actor(), "okta", Scope::Scim, Some(30)).await.unwrap();
    assert_eq!(record.id, token.id);
    assert!(record.expires_at.is_some());
    assert_ne!(store.token_epoch(), epoch_before, "creating a token moves the epoch");

    let rows = store.token_auth_rows().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].secret_hash.starts_with("$argon2id$"));
    assert!(scimbox::credentials::verify_secret(&token.secret, &rows[0].secret_hash));
    store.close().await;
    for file in ["scimbox.db", "scimbox.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        let secret = token.secret.as_bytes();
        assert!(!bytes.windows(secret.len()).any(|w| w == secret), "the secret is in {file}");
    }

    let store = Store::open(dir.path()).unwrap();
    let epoch = store.token_epoch();
    let outcome = store.revoke_token(&actor(), &record.id).await.unwrap();
    assert!(matches!(outcome, scimbox::store::RevokeOutcome::Revoked(_)));
    assert_ne!(store.token_epoch(), epoch, "revoking moves the epoch");
    assert!(store.token_auth_rows().await.unwrap().is_empty(), "a revoked token is not live");
    let again = store.revoke_token(&actor(), &record.id).await.unwrap();
    assert!(matches!(again, scimbox::store::RevokeOutcome::AlreadyRevoked(_)));
    let missing = store.revoke_token(&actor(), "0000000000000000").await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)));
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked_at.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_is_a_consistent_copy_and_never_overwrites() {
    let (dir, store) = open();
    for i in 0..50 {
        store.create_user(&actor(), user(&format!("backup{i}")), None).await.unwrap();
    }
    let target = dir.path().join("copy.db");
    store.backup(&actor(), &target).await.unwrap();
    let copy = rusqlite::Connection::open(&target).unwrap();
    let check: String = copy.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(check, "ok");
    let users: i64 = copy.query_row("SELECT count(*) FROM users", [], |row| row.get(0)).unwrap();
    assert_eq!(users, 50);
    assert!(matches!(store.backup(&actor(), &target).await, Err(StoreError::Conflict(_))));
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_are_unique_whatever_the_case() {
    let (_dir, store) = open();
    assert_eq!(store.admin_count().await.unwrap(), 0);
    store.create_admin(&actor(), "Alice", "$argon2id$fake".into()).await.unwrap();
    let error = store.create_admin(&actor(), "alice", "$argon2id$fake".into()).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error:?}");
    assert_eq!(store.admin_count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let store = Store::open(&dir).unwrap();
    store.create_user(&actor(), user("private"), None).await.unwrap();
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "data directory");
    assert_eq!(mode(&dir.join("scimbox.db")), 0o600, "database");
    assert_eq!(mode(&dir.join("scimbox.db-wal")), 0o600, "write-ahead log");
    let copy = parent.path().join("copy.db");
    store.backup(&actor(), &copy).await.unwrap();
    assert_eq!(mode(&copy), 0o600, "backup");
    let nowhere = parent.path().join("missing").join("copy.db");
    let error = store.backup(&actor(), &nowhere).await.unwrap_err();
    assert!(error.to_string().contains("does not exist"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_on_an_installation_do_not_invent_one() {
    let parent = tempfile::tempdir().unwrap();
    let typo = parent.path().join("dtaa");
    let error = Store::open_existing(&typo).unwrap_err();
    assert!(error.to_string().contains("no scimbox database"), "{error}");
    assert!(!typo.exists(), "nothing was created");
    let file = parent.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let error = Store::open(&file).unwrap_err();
    assert!(error.to_string().contains("not a directory"), "{error}");
}

fn list_query(kind: scimbox::scim::schema::ResourceKind, filter: &str) -> scimbox::scim::list::ListQuery {
    scimbox::scim::list::Params { filter: Some(filter.to_owned()), count: Some("100".into()), ..Default::default() }
        .into_query(kind, 1000)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn indexed_filters_are_answered_from_indexes() {
    use scimbox::scim::schema::ResourceKind;
    let (_dir, store) = open();
    for i in 0..50 {
        let body = json!({"userName": format!("u{i}"), "externalId": format!("x{i}"), "displayName": format!("U {i}"),
                          "emails": [{"value": format!("u{i}@example.com")}]});
        store.create_user(&actor(), draft(&body).unwrap(), None).await.unwrap();
    }
    for filter in [
        r#"userName eq "u7""#,
        r#"email eq "u7@example.com""#,
        r#"emails.value eq "u7@example.com""#,
        r#"externalId eq "x7""#,
        r#"displayName eq "U 7""#,
        r#"id eq "0191d0e8-0000-7000-8000-000000000000""#,
        r#"meta.lastModified gt "2030-01-01T00:00:00Z""#,
        r#"userName sw "u1""#,
    ] {
        let plan = store.explain_user_query(list_query(ResourceKind::User, filter)).await.unwrap();
        assert!(plan.iter().any(|line| line.contains("USING") && line.contains("INDEX")), "{filter}: {plan:?}");
        assert!(!plan.iter().any(|line| line.starts_with("SCAN users")), "{filter} scans the users table: {plan:?}");
    }
    // A filter on an attribute without a column is still answered (exactly, in memory) but scans.
    let plan = store.explain_user_query(list_query(ResourceKind::User, r#"title eq "x""#)).await.unwrap();
    assert!(plan.iter().any(|line| line.starts_with("SCAN users")), "{plan:?}");

    for filter in [r#"displayName eq "G""#, r#"externalId eq "g""#, r#"members[value eq "u"]"#, r#"members eq "u""#] {
        let plan = store.explain_group_query(list_query(ResourceKind::Group, filter)).await.unwrap();
        assert!(plan.iter().any(|line| line.contains("INDEX")), "{filter}: {plan:?}");
        assert!(!plan.iter().any(|line| line.starts_with("SCAN groups")), "{filter}: {plan:?}");
    }
}

fn index_page(start_index: u64, count: u64) -> scimbox::scim::list::ListQuery {
    scimbox::scim::list::Params {
        start_index: Some(start_index.to_string()),
        count: Some(count.to_string()),
        ..Default::default()
    }
    .into_query(scimbox::scim::schema::ResourceKind::User, 1000)
    .unwrap()
}

async fn page_ids(store: &Store, start_index: u64, count: u64) -> (u64, Vec<String>) {
    let found = store.list_users(index_page(start_index, count), "http://x/scim/v2".into(), false).await.unwrap();
    (found.total, found.items.into_iter().map(|(user, _)| user.id).collect())
}

/// A sequential pass by `startIndex` (Okta's import) reads each page from where the previous one ended,
/// and answers exactly what skipping would, when users are created and deleted in the middle of it.
#[tokio::test(flavor = "multi_thread")]
async fn import_pages_continue_where_the_last_one_ended_and_stay_exact() {
    let (_dir, store) = open();
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(store.create_user(&actor(), user(&format!("u{i:02}")), None).await.unwrap().id);
    }
    // Page 2 of a pass starts after page 1's last user: one range of the index of live users, no skipping.
    assert_eq!(page_ids(&store, 1, 10).await.1, ids[..10]);
    let plan = store.explain_user_query(index_page(11, 10)).await.unwrap();
    assert!(plan.iter().any(|l| l.starts_with("SEARCH users USING") && l.ends_with("(seq>?)")), "{plan:?}");
    assert!(!plan.iter().any(|l| l.contains("SCALAR SUBQUERY")), "no skipping: {plan:?}");
    assert_eq!(page_ids(&store, 11, 10).await.1, ids[10..20]);
    assert_eq!(page_ids(&store, 21, 10).await, (25, ids[20..].to_vec()));

    // A new user mid-pass comes after everyone: the remembered positions stay right.
    assert_eq!(page_ids(&store, 1, 10).await.1, ids[..10]);
    ids.push(store.create_user(&actor(), user("u25"), None).await.unwrap().id);
    assert_eq!(page_ids(&store, 11, 10).await.1, ids[10..20]);
    assert_eq!(page_ids(&store, 21, 10).await, (26, ids[20..].to_vec()));

    // A deletion before the position shifts every later user by one: the remembered position is dropped
    // and the page is what skipping gives.
    assert_eq!(page_ids(&store, 1, 10).await.1, ids[..10]);
    store.delete_user(&actor(), &ids[3], None).await.unwrap();
    ids.remove(3);
    let plan = store.explain_user_query(index_page(11, 10)).await.unwrap();
    assert!(plan.iter().any(|l| l.contains("SCALAR SUBQUERY")), "skipping again after a deletion: {plan:?}");
    assert_eq!(page_ids(&store, 11, 10).await.1, ids[10..20]);
    assert_eq!(page_ids(&store, 21, 10).await, (25, ids[20..].to_vec()));
    // Another page size is another position.
    assert_eq!(page_ids(&store, 1, 7).await.1, ids[..7]);
    assert_eq!(page_ids(&store, 8, 7).await.1, ids[7..14]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_is_checkpointed_beside_the_writer_not_in_its_commits() {
    let (dir, store) = open();
    let database = store.path().to_owned();
    let log = dir.path().join("scimbox.db-wal");
    let size = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |meta| meta.len());
    let before = size(&database);
    // Commits of 200 creates until the log holds more than 1,000 frames of 4 KiB (the wake-up threshold).
    let mut created = 0;
    while size(&log) < 1_100 * 4_096 {
        create_in_one_commit(&store, &mut created, 200).await;
        assert!(created < 100_000, "the log never grew past 1,000 frames");
    }
    let mut waited = 0;
    while store.checkpoint_stats().checkpointer == 0 || size(&database) <= before {
        assert!(waited < 300, "no checkpoint copied the log into the database in 30 s: {:?}", store.checkpoint_stats());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(store.checkpoint_stats().writer, 0, "the writer checkpointed in a commit");
    // What was copied is what was committed: every user is there, through the log and the database.
    assert_eq!(sql(&store, "SELECT count(*) FROM users WHERE user_name LIKE 'logged%'"), created as i64);
    // Another connection open on the database (idle, as a command's or a monitor's may be) keeps SQLite
    // from deleting the log when the writer's connection closes: the close itself must empty it.
    let idle = rusqlite::Connection::open(&database).unwrap();
    let _: i64 = idle.query_row("SELECT count(*) FROM users", [], |row| row.get(0)).unwrap();
    store.close().await;
    assert_eq!(size(&log), 0, "a closed server's store leaves its log empty");
    drop(idle);
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(sql(&reopened, "SELECT count(*) FROM users WHERE user_name LIKE 'logged%'"), created as i64);
}

/// Commits `count` creates in one transaction, as a Bulk request does; `created` numbers them.
async fn create_in_one_commit(store: &Store, created: &mut usize, count: usize) {
    let (_, committed) = store
        .in_one_commit(async {
            for _ in 0..count {
                *created += 1;
                store.create_user(&actor(), user(&format!("logged{created}")), None).await.unwrap();
            }
        })
        .await;
    committed.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_that_cannot_start_over_is_bounded_by_the_writer_and_starts_over_when_it_can() {
    let (dir, store) = open();
    let log = dir.path().join("scimbox.db-wal");
    // A reader inside a transaction keeps its snapshot: no checkpoint may copy past it, so the log grows.
    let reader = rusqlite::Connection::open(store.path()).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader.query_row("SELECT count(*) FROM users", [], |row| row.get(0)).unwrap();
    let mut created = 0;
    while store.checkpoint_stats().writer == 0 {
        create_in_one_commit(&store, &mut created, 200).await;
        assert!(created < 200_000, "the writer never checkpointed: {:?}", store.checkpoint_stats());
    }
    let frames = std::fs::metadata(&log).unwrap().len() / 4_120;
    assert!((16_000..17_000).contains(&frames), "the writer checkpointed at {frames} frames, not past 16,000");
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    // A commit copies what is left and the log starts over (a commit or two later, should the
    // checkpointer hold the checkpoint at that moment): then the writer stops checkpointing.
    let mut unchanged = 0;
    for _ in 0..20 {
        let before = store.checkpoint_stats().writer;
        create_in_one_commit(&store, &mut created, 200).await;
        unchanged = if store.checkpoint_stats().writer == before { unchanged + 1 } else { 0 };
        if unchanged == 5 {
            break;
        }
    }
    assert_eq!(unchanged, 5, "the log did not start over once the reader was gone: {:?}", store.checkpoint_stats());
    assert_eq!(sql(&store, "SELECT count(*) FROM users WHERE user_name LIKE 'logged%'"), created as i64);
}
