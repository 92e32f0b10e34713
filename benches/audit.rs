//! The audit log at a million records (seeded once through the store's public API, as a running server
//! writes them, and kept in `target/bench-data/` for later runs):
//! - `verify_million`: `Store::verify_audit` over every record, what `scimbox audit verify` costs;
//! - `newest_page`, `page_of_one_action`, `page_of_one_actor`, `page_of_one_target`: a page of the Audit
//!   page, unfiltered and filtered (each filter is an index search, whatever the log's size).
//!
//! Run with `cargo bench --bench audit`; seeding takes about half a minute the first time.

use std::path::PathBuf;
use std::sync::LazyLock;

use scimbox::audit::{Action, Actor, Entry, Target};
use scimbox::store::{AuditQuery, Store};
use serde_json::json;
use tokio::runtime::Runtime;

const RECORDS: i64 = 1_000_000;

fn main() {
    // Seeding (the first time) and opening are not part of any measurement.
    LazyLock::force(&STORE);
    divan::main();
}

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
});

static STORE: LazyLock<Store> = LazyLock::new(|| RUNTIME.block_on(seeded()));

/// Records shaped like a busy identity provider's: permission changes with grants before and after,
/// users changed, sign-ins, from a few actors.
fn entry(n: i64) -> (Actor, Entry) {
    let okta = Actor::token("0123456789abcdef", "okta", Some("203.0.113.9".parse().expect("address")));
    let admin =
        Actor::admin("0190c0de-0000-7000-8000-000000000001", "root", Some("192.0.2.7".parse().expect("address")));
    match n % 4 {
        0 => (
            admin,
            Entry::new(
                Action::PermissionsChanged,
                Some(Target::new("asset", format!("asset-{n}"), format!("Capsule {n}"))),
                json!({
                    "before": [{"type": "group", "id": "g-1", "name": "Data Science", "level": "viewer"}],
                    "after": [{"type": "group", "id": "g-1", "name": "Data Science", "level": "editor"},
                              {"type": "user", "id": format!("u-{n}"), "name": format!("user{n}@example.com"), "level": "viewer"}],
                }),
            ),
        ),
        1 => (
            okta,
            Entry::new(
                Action::UserChanged,
                Some(Target::new("user", format!("u-{n}"), format!("user{n}@example.com"))),
                json!({"active": {"from": true, "to": false}}),
            ),
        ),
        2 => (
            okta,
            Entry::new(
                Action::UserCreated,
                Some(Target::new("user", format!("u-{n}"), format!("user{n}@example.com"))),
                json!({"active": true, "externalId": format!("00u{n}"), "password": null}),
            ),
        ),
        _ => (
            admin,
            Entry::new(
                Action::SignedIn,
                Some(Target::new("admin", "a-1", "root")),
                json!({"expiresAt": "2026-12-02T22:00:00.000Z"}),
            ),
        ),
    }
}

async fn seeded() -> Store {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/audit-1m");
    let marker = dir.join("seeded");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).expect("store");
        let mut n = store.audit_head().await.expect("head");
        while n < RECORDS {
            // Many writes in flight at once: the writer commits them in groups, as under load.
            let batch: Vec<_> = (n..(n + 2048).min(RECORDS))
                .map(|i| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        let (actor, entry) = entry(i);
                        store.audit(actor, entry).await.expect("append")
                    })
                })
                .collect();
            for task in batch {
                task.await.expect("task");
            }
            n = store.audit_head().await.expect("head");
        }
        store.close().await;
        std::fs::write(&marker, "ok").expect("marker");
    }
    let store = Store::open(&dir).expect("store");
    let report = store.verify_audit().await.expect("verify");
    println!("audit-1m: {} records, chain intact: {}", report.records, report.broken.is_none());
    store
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn verify_million() -> u64 {
    let report = RUNTIME.block_on(STORE.verify_audit()).expect("verify");
    assert!(report.broken.is_none());
    report.records
}

#[divan::bench]
fn newest_page() -> usize {
    let query = AuditQuery { limit: 50, ..AuditQuery::default() };
    RUNTIME.block_on(STORE.audit_page(query)).expect("page").records.len()
}

#[divan::bench]
fn page_of_one_target() -> usize {
    let query = AuditQuery { target: Some("user123457@example.com".into()), limit: 50, ..AuditQuery::default() };
    RUNTIME.block_on(STORE.audit_page(query)).expect("page").records.len()
}

#[divan::bench]
fn page_of_one_actor() -> usize {
    let query = AuditQuery { actor: Some("okta".into()), limit: 50, ..AuditQuery::default() };
    RUNTIME.block_on(STORE.audit_page(query)).expect("page").records.len()
}

#[divan::bench]
fn page_of_one_action() -> usize {
    let query = AuditQuery { action: Some(Action::UserCreated), limit: 50, ..AuditQuery::default() };
    RUNTIME.block_on(STORE.audit_page(query)).expect("page").records.len()
}
