//! The audit log: what each action records (actor, address, target, before and after), that a refused
//! change records nothing, the hash chain and what breaks it, retention from the oldest end, the sweep of
//! expired sessions and tokens, the Audit page's API and its export, and the stream for a SIEM.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rusqlite::Connection;
use scimbox::audit::{Action, Actor, Record};
use scimbox::credentials::Scope;
use scimbox::sharing::{AssetKind, Grant, Grantee, Level};
use scimbox::store::{AuditQuery, NewAsset, Store};
use serde_json::{Value, json};

use crate::admin::{AdminServer, PASSWORD, eventually, scim_user};
use crate::support::{actor, install_crypto};

/// Every record, newest first (the store's own page read, unfiltered).
async fn records(store: &Store) -> Vec<Record> {
    store.audit_page(AuditQuery { limit: 500, ..AuditQuery::default() }).await.unwrap().records
}

async fn newest(store: &Store, action: Action) -> Record {
    let query = AuditQuery { action: Some(action), limit: 1, ..AuditQuery::default() };
    let page = store.audit_page(query).await.unwrap();
    page.records.into_iter().next().unwrap_or_else(|| panic!("no {} record", action.as_str()))
}

fn details(record: &Record) -> Value {
    serde_json::from_str(&record.details).unwrap()
}

async fn seeded_store() -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let draft = scimbox::scim::user::draft(&json!({"userName": "owner@example.com"})).unwrap();
    let owner = store.create_user(&actor(), draft, None).await.unwrap().id;
    (dir, store, owner)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permission_change_records_the_grants_before_and_after_and_a_refused_one_records_nothing() {
    let (_dir, store, owner) = seeded_store().await;
    let admin = Actor::admin("a-1", "root", Some("192.0.2.7".parse().unwrap()));
    let draft = scimbox::scim::user::draft(&json!({"userName": "reader@example.com"})).unwrap();
    let reader = store.create_user(&actor(), draft, None).await.unwrap().id;
    let asset = store
        .create_asset(&admin, NewAsset { kind: AssetKind::Capsule, name: "Churn".into(), owner_id: owner.clone() })
        .await
        .unwrap();
    let grant = |level| vec![Grant { grantee: Grantee::User(reader.clone()), level }];
    store.set_asset_permissions(&admin, &asset.id, grant(Level::Viewer)).await.unwrap();
    store.set_asset_permissions(&admin, &asset.id, grant(Level::Editor)).await.unwrap();

    let changed = newest(&store, Action::PermissionsChanged).await;
    assert_eq!(changed.actor, admin, "the admin, from their address");
    let target = changed.target.as_ref().unwrap();
    assert_eq!(
        (target.kind.as_str(), target.id.as_deref(), target.name.as_deref()),
        ("asset", Some(asset.id.as_str()), Some("Churn"))
    );
    let d = details(&changed);
    assert_eq!(d["before"], json!([{"type": "user", "id": reader, "name": "reader@example.com", "level": "viewer"}]));
    assert_eq!(d["after"], json!([{"type": "user", "id": reader, "name": "reader@example.com", "level": "editor"}]));

    // Saving the same list again changes nothing and records nothing; a grant to nobody who exists is
    // refused whole: no change, and no record of one.
    let before = records(&store).await.len();
    store.set_asset_permissions(&admin, &asset.id, grant(Level::Editor)).await.unwrap();
    let bad = vec![Grant { grantee: Grantee::User("no-such-user".into()), level: Level::Viewer }];
    assert!(store.set_asset_permissions(&admin, &asset.id, bad).await.is_err());
    assert_eq!(records(&store).await.len(), before);
    let permissions = store.asset_permissions(&asset.id).await.unwrap();
    assert_eq!(permissions.grants.len(), 1, "the refused list changed nothing");
    assert_eq!(store.verify_audit().await.unwrap().broken, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn asset_renames_re_owning_deletion_and_extend_ownership_are_recorded() {
    let (_dir, store, owner) = seeded_store().await;
    let admin = Actor::admin("a-1", "root", None);
    let draft = scimbox::scim::user::draft(&json!({"userName": "heir@example.com"})).unwrap();
    let heir = store.create_user(&actor(), draft, None).await.unwrap().id;
    let asset = store
        .create_asset(&admin, NewAsset { kind: AssetKind::Pipeline, name: "Nightly".into(), owner_id: owner.clone() })
        .await
        .unwrap();
    let created = newest(&store, Action::AssetCreated).await;
    assert_eq!(details(&created), json!({"kind": "pipeline", "owner": {"id": owner, "userName": "owner@example.com"}}));
    let change = scimbox::store::AssetChange { name: Some("Nightly v2".into()), owner_id: None };
    store.update_asset(&admin, &asset.id, change).await.unwrap();
    assert_eq!(details(&newest(&store, Action::AssetRenamed).await), json!({"from": "Nightly", "to": "Nightly v2"}));
    let second = store
        .create_asset(&admin, NewAsset { kind: AssetKind::Capsule, name: "Churn".into(), owner_id: owner.clone() })
        .await
        .unwrap();
    store.extend_ownership(&admin, &owner, Grantee::User(heir.clone())).await.unwrap();
    let extended = newest(&store, Action::OwnershipExtended).await;
    assert_eq!(extended.target.as_ref().unwrap().id.as_deref(), Some(owner.as_str()));
    let extended = details(&extended);
    let mut made: Vec<&str> =
        extended["madeOwner"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    made.sort_unstable();
    let mut both = [asset.id.as_str(), second.id.as_str()];
    both.sort_unstable();
    assert_eq!(made, both, "the heir became owner of both assets");
    let change = scimbox::store::AssetChange { name: None, owner_id: Some(heir.clone()) };
    store.update_asset(&admin, &second.id, change).await.unwrap();
    let reowned = newest(&store, Action::AssetReowned).await;
    assert_eq!(details(&reowned)["to"], json!({"id": heir, "userName": "heir@example.com"}));
    store.delete_asset(&admin, &asset.id).await.unwrap();
    let deleted = newest(&store, Action::AssetDeleted).await;
    assert_eq!(deleted.target.as_ref().unwrap().name.as_deref(), Some("Nightly v2"));
    let permissions = &details(&deleted)["permissions"];
    assert_eq!(permissions[0]["id"], json!(heir), "the grants it had are kept in the record: {permissions}");
    assert_eq!(store.verify_audit().await.unwrap().broken, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_identity_providers_changes_to_access_are_recorded_and_profile_edits_are_not() {
    let (_dir, store, owner) = seeded_store().await;
    let okta = Actor::token("0123456789abcdef", "okta", Some("127.0.0.1".parse().unwrap()));
    let deactivate = |active: bool| {
        move |current: &scimbox::scim::user::StoredUser| {
            let mut body = serde_json::Value::Object(current.attributes.clone());
            body["active"] = json!(active);
            body["title"] = json!(if active { "Lead" } else { "Former" });
            Ok((scimbox::scim::user::draft(&body)?, scimbox::store::PasswordChange::Keep))
        }
    };
    store.update_user(&okta, &owner, None, deactivate(false)).await.unwrap();
    let changed = newest(&store, Action::UserChanged).await;
    assert_eq!(changed.actor, okta);
    assert_eq!(details(&changed), json!({"active": {"from": true, "to": false}}), "the title change is not in it");
    let count = records(&store).await.len();
    let retitle = |current: &scimbox::scim::user::StoredUser| {
        let mut body = serde_json::Value::Object(current.attributes.clone());
        body["title"] = json!("Advisor");
        Ok((scimbox::scim::user::draft(&body)?, scimbox::store::PasswordChange::Keep))
    };
    store.update_user(&okta, &owner, None, retitle).await.unwrap();
    assert_eq!(records(&store).await.len(), count, "a profile edit changes nobody's access");

    let members = vec![scimbox::scim::resource::Member { value: owner.clone(), kind: None, display: None }];
    let draft = scimbox::scim::group::draft(&json!({"displayName": "Data Science"})).unwrap().0;
    let group = store.create_group(&okta, draft, members).await.unwrap();
    let created = newest(&store, Action::GroupCreated).await;
    assert_eq!(details(&created)["added"], json!([owner]));
    store.delete_user(&okta, &owner, None).await.unwrap();
    let deleted = newest(&store, Action::UserDeleted).await;
    assert_eq!(deleted.target.unwrap().name.as_deref(), Some("owner@example.com"));
    store.delete_group(&okta, &group.id, None).await.unwrap();
    assert_eq!(newest(&store, Action::GroupDeleted).await.target.unwrap().name.as_deref(), Some("Data Science"));
}

/// The database file of a store, opened beside it as an attacker with file access would.
fn raw(dir: &std::path::Path) -> Connection {
    Connection::open(dir.join(scimbox::store::DATABASE_FILE)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_is_append_only_and_verify_names_the_first_record_that_was_changed() {
    let (dir, store, _) = seeded_store().await;
    for n in 0..5 {
        store.create_token(&actor(), &format!("t{n}"), Scope::Scim, None).await.unwrap();
    }
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.broken, None);
    let head = report.head.unwrap().0;
    assert!(head >= 6, "{head}");
    let conn = raw(dir.path());
    // The schema refuses a change, and a removal other than from the oldest end.
    let update = conn.execute("UPDATE audit SET actor_name = 'nobody' WHERE seq = 3", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let middle = conn.execute("DELETE FROM audit WHERE seq = 3", []);
    assert!(middle.unwrap_err().to_string().contains("oldest end"));
    let newest_one = conn.execute("DELETE FROM audit WHERE seq = ?1", [head]);
    assert!(newest_one.is_err(), "the newest record is never removed");

    // Someone who drops the guard and edits a record is found out at that record.
    conn.execute_batch("DROP TRIGGER audit_append_only").unwrap();
    conn.execute("UPDATE audit SET target_name = 'innocent' WHERE seq = 4", []).unwrap();
    let broken = store.verify_audit().await.unwrap().broken.expect("the edit is found");
    assert_eq!(broken.seq, 4, "{}", broken.reason);
    assert!(broken.reason.contains("changed"), "{}", broken.reason);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_record_in_the_middle_is_found() {
    let (dir, store, _) = seeded_store().await;
    for n in 0..4 {
        store.create_token(&actor(), &format!("t{n}"), Scope::Scim, None).await.unwrap();
    }
    let conn = raw(dir.path());
    conn.execute_batch("DROP TRIGGER audit_pruned_from_the_oldest_end").unwrap();
    conn.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
    let broken = store.verify_audit().await.unwrap().broken.expect("the gap is found");
    assert_eq!(broken.seq, 4);
    assert!(broken.reason.contains("missing"), "{}", broken.reason);
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_removes_only_the_oldest_records_and_the_chain_still_verifies() {
    let (_dir, store, _) = seeded_store().await;
    for n in 0..6 {
        store.create_token(&actor(), &format!("t{n}"), Scope::Scim, None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let oldest_first: Vec<Record> = records(&store).await.into_iter().rev().collect();
    let cutoff = scimbox::store::parse_time(&oldest_first[3].at).unwrap();
    let removed = store.prune_audit(Actor::server(), cutoff).await.unwrap();
    let kept: Vec<Record> = records(&store).await.into_iter().rev().collect();
    assert_eq!(removed, 3);
    assert_eq!(kept[0].seq, oldest_first[3].seq, "the oldest end went, nothing else");
    let pruned = kept.last().unwrap();
    assert_eq!(pruned.action, "audit.pruned");
    assert_eq!(details(pruned)["removed"], json!(3));
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.broken, None, "the chain verifies from the new first record");
    assert_eq!(report.first, Some(oldest_first[3].seq));
    // A cutoff in the future keeps the newest record (the prune's own), so the chain always has a head.
    store.prune_audit(Actor::server(), scimbox::store::now() + time::Duration::days(1)).await.unwrap();
    let left = records(&store).await;
    assert!(!left.is_empty());
    assert_eq!(store.verify_audit().await.unwrap().broken, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_sessions_and_tokens_are_recorded_once() {
    let (_dir, store, _) = seeded_store().await;
    let (token, _) = store.create_token(&actor(), "short", Scope::Scim, Some(1)).await.unwrap();
    let admin = store.create_admin(&actor(), "root", "not a real hash".into()).await.unwrap();
    let now = scimbox::store::now();
    let signed_in = Actor::admin(&admin.id, &admin.username, None);
    store.create_session(&signed_in, "ab".repeat(32), &admin, now, time::Duration::hours(12)).await.unwrap();
    let later = now + time::Duration::days(2);
    assert_eq!(store.sweep_expired(later, time::Duration::minutes(30)).await.unwrap(), (1, 1));
    assert_eq!(store.sweep_expired(later, time::Duration::minutes(30)).await.unwrap(), (0, 0), "once");
    let expired = newest(&store, Action::TokenExpired).await;
    assert_eq!(expired.target.unwrap().id.as_deref(), Some(token.id.as_str()));
    assert_eq!(expired.actor.kind, scimbox::audit::ActorKind::Server);
    let ended = newest(&store, Action::SessionExpired).await;
    assert_eq!(ended.target.as_ref().unwrap().name.as_deref(), Some("root"));
    assert_eq!(details(&ended)["reason"], "lifetime");
    assert_eq!(store.session("ab".repeat(32), now, time::Duration::minutes(30)).await.unwrap(), None, "it ended");
}

async fn audit_api(server: &AdminServer, session: &crate::admin::Session, query: &str) -> Value {
    let response = server.api(Method::GET, &format!("audit{query}"), Some(session)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn actions(page: &Value) -> Vec<&str> {
    page["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_side_is_recorded_with_who_and_from_where() {
    let server = AdminServer::start().await;
    let root = server.set_up("root").await;
    let wrong = server
        .api(Method::POST, "password", Some(&root))
        .json(&json!({"currentPassword": "not it", "newPassword": "a new passphrase of some length"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let changed = server
        .api(Method::POST, "password", Some(&root))
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "a new passphrase of some length"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::NO_CONTENT, "{}", changed.text().await.unwrap());
    // Failed sign-ins, then the lockout they lead to, with the address and no typed name for unknown ones.
    for _ in 0..5 {
        assert_eq!(server.sign_in("root", "wrong password").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(server.sign_in("someone-else", "wrong password").await.status(), StatusCode::UNAUTHORIZED);
    let (token_id, secret) = server.token(&root, "okta").await;
    let revoke = server.api(Method::DELETE, &format!("tokens/{token_id}"), Some(&root)).send().await.unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    // A change without the CSRF token is refused and recorded.
    let forged = server
        .client
        .post(server.url("/admin/api/tokens"))
        .header("cookie", format!("scimbox_session={}", root.cookie))
        .json(&json!({"name": "forged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let added = server
        .api(Method::POST, "admins", Some(&root))
        .json(&json!({"username": "bob", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let carol = server
        .api(Method::POST, "admins", Some(&root))
        .json(&json!({"username": "carol", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let carol: Value = carol.json().await.unwrap();
    let carol_id = carol["admin"]["id"].as_str().unwrap();
    let removed = server.api(Method::DELETE, &format!("admins/{carol_id}"), Some(&root)).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let logout = server.api(Method::POST, "logout", Some(&root)).send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    let root = crate::admin::session_of(server.sign_in("bob", PASSWORD).await).await;
    let page = audit_api(&server, &root, "?count=200").await;
    let seen = actions(&page);
    for expected in [
        "setup.completed",
        "session.signed_in",
        "session.sign_in_failed",
        "session.locked_out",
        "token.created",
        "token.revoked",
        "session.csrf_refused",
        "admin.created",
        "session.signed_out",
        "admin.password_change_failed",
        "admin.password_changed",
        "admin.removed",
        "server.started",
    ] {
        assert!(seen.contains(&expected), "{expected} missing from {seen:?}");
    }
    let records = page["records"].as_array().unwrap();
    let failed: Vec<&Value> = records.iter().filter(|r| r["action"] == "session.sign_in_failed").collect();
    assert_eq!(failed.len(), 6);
    assert!(failed.iter().all(|r| r["actor"]["address"] == "127.0.0.1" && r["outcome"] == "failure"));
    let unknown = failed.iter().find(|r| r["details"]["knownName"] == false).expect("the unknown name's failure");
    assert_eq!(unknown["target"], Value::Null, "what was typed as a name is not recorded");
    assert!(!page.to_string().contains("someone-else"));
    let revoked = records.iter().find(|r| r["action"] == "token.revoked").unwrap();
    assert_eq!(revoked["actor"]["kind"], "admin");
    assert_eq!(revoked["actor"]["name"], "root");
    assert_eq!(revoked["target"]["id"], token_id);
    assert!(!page.to_string().contains(secret.rsplit('_').next().unwrap()), "no secret in the log");

    // Filters: by action, actor and target, newest first, paged with `before`.
    let only = audit_api(&server, &root, "?action=token.created").await;
    assert_eq!(actions(&only), ["token.created"]);
    let by_actor = audit_api(&server, &root, "?actor=root&action=admin.created").await;
    let added: Vec<&str> =
        by_actor["records"].as_array().unwrap().iter().map(|r| r["target"]["name"].as_str().unwrap()).collect();
    assert_eq!(added, ["carol", "bob"], "root added both, newest first");
    let by_target = audit_api(&server, &root, &format!("?target={token_id}")).await;
    assert_eq!(actions(&by_target), ["token.revoked", "token.created"]);
    // A target by its current name, whatever its case: found in its own table, then its records by id.
    let by_name = audit_api(&server, &root, "?target=OKTA").await;
    assert_eq!(actions(&by_name), ["token.revoked", "token.created"]);
    let bob = audit_api(&server, &root, "?target=Bob").await;
    assert_eq!(actions(&bob)[..2], ["session.signed_in", "admin.created"]);
    let first = audit_api(&server, &root, "?count=2").await;
    let next = first["next"].as_i64().expect("more pages");
    let second = audit_api(&server, &root, &format!("?count=2&before={next}")).await;
    assert!(second["records"][0]["seq"].as_i64().unwrap() < next);
    let bad = server.api(Method::GET, "audit?action=nope", Some(&root)).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let since = server.api(Method::GET, "audit?since=yesterday", Some(&root)).send().await.unwrap();
    assert_eq!(since.status(), StatusCode::BAD_REQUEST);

    // The export is JSON Lines, oldest first, every record with its hash, and the chain holds over it.
    let export = server.api(Method::GET, "audit/export", Some(&root)).send().await.unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    assert!(export.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    let text = export.text().await.unwrap();
    let mut chain = scimbox::audit::Chain::default();
    for line in text.lines() {
        chain.push(&serde_json::from_str::<Record>(line).unwrap());
    }
    assert_eq!(chain.broken(), None);
    assert!(chain.count() >= 15, "{}", chain.count());
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_tokens_on_the_platform_api_are_recorded_within_a_budget() {
    let server = AdminServer::start().await;
    let root = server.set_up("root").await;
    let unknown = "scimbox_0123456789abcdef_".to_owned() + &"a".repeat(64);
    for _ in 0..15 {
        let refused = server.client.get(server.url("/api/v1/assets")).bearer_auth(&unknown).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    let page = audit_api(&server, &root, "?action=token.refused").await;
    let refused = page["records"].as_array().unwrap();
    assert_eq!(refused.len(), 10, "ten a minute from one address, the rest counted");
    assert_eq!(refused[0]["target"]["id"], "0123456789abcdef", "the token's public id only");
    assert!(!page.to_string().contains(&"a".repeat(64)));
}

#[tokio::test(flavor = "multi_thread")]
async fn scim_changes_name_the_token_and_the_siem_stream_gets_every_record_once() {
    let stream_dir = tempfile::tempdir().unwrap();
    let stream = stream_dir.path().join("audit.jsonl");
    let path = stream.clone();
    let server = AdminServer::start_with(move |config| {
        config.audit.stream = Some(scimbox::config::AuditStream::File(path));
    })
    .await;
    let root = server.set_up("root").await;
    let (_, token) = server.token(&root, "okta").await;
    let user = scim_user(&server, &token, "new.hire@example.com", "New", true).await;
    let deactivate = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    let patched = server.scim(Method::PATCH, &format!("Users/{user}"), &token).json(&deactivate).send().await.unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let created = newest(&server.store, Action::UserCreated).await;
    assert_eq!(created.actor.kind, scimbox::audit::ActorKind::Token);
    assert_eq!(created.actor.name.as_deref(), Some("okta"));
    let changed = newest(&server.store, Action::UserChanged).await;
    assert_eq!(details(&changed)["active"], json!({"from": true, "to": false}));

    let head = server.store.audit_head().await.unwrap();
    let lines = eventually("the stream to catch up", || {
        let stream = stream.clone();
        async move {
            let text = std::fs::read_to_string(&stream).ok()?;
            let seqs: Vec<i64> = text.lines().map(|line| serde_json::from_str::<Record>(line).unwrap().seq).collect();
            (seqs.last() == Some(&head)).then_some(seqs)
        }
    })
    .await;
    let expected: Vec<i64> = (1..=head).collect();
    assert_eq!(lines, expected, "every record, in order, none twice");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&stream).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn the_command_line_verifies_and_exports_and_finds_a_tampered_record() {
    use crate::binary::run;
    install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    for name in ["okta", "entra"] {
        let created = run(&["token", "create", "--data-dir", data_arg, "--name", name]);
        assert!(created.status.success(), "{}", created.stderr);
    }
    let verified = run(&["audit", "verify", "--data-dir", data_arg]);
    verified.assert_success("audit verify");
    assert!(verified.stdout.contains("3 records, 1 to 3"), "{}", verified.stdout);
    let exported = run(&["audit", "export", "--data-dir", data_arg, "--since", "2000-01-01T00:00:00Z"]);
    exported.assert_success("audit export");
    let exported: Vec<Record> = exported.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let actions: Vec<&str> = exported.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["database.migrated", "token.created", "token.created"]);
    assert!(exported.iter().skip(1).all(|r| r.actor.kind == scimbox::audit::ActorKind::Cli && r.actor.name.is_some()));
    let future = run(&["audit", "export", "--data-dir", data_arg, "--since", "2999-01-01T00:00:00Z"]);
    future.assert_success("audit export --since a future time");
    assert_eq!(future.stdout, "");
    let bad = run(&["audit", "export", "--data-dir", data_arg, "--since", "last week"]);
    bad.assert_error("audit export --since 'last week'", 2, "RFC 3339");

    let copy = dir.path().join("copy.db");
    run(&["backup", "--data-dir", data_arg, copy.to_str().unwrap()]).assert_success("backup");
    let exported = run(&["audit", "export", "--data-dir", data_arg]);
    let last: Record = serde_json::from_str(exported.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last.action, "database.backed_up");
    assert!(last.details.contains("copy.db"), "{}", last.details);

    let conn = Connection::open(data.join(scimbox::store::DATABASE_FILE)).unwrap();
    conn.execute_batch("DROP TRIGGER audit_append_only").unwrap();
    conn.execute("UPDATE audit SET target_name = 'someone' WHERE seq = 2", []).unwrap();
    drop(conn);
    let broken = run(&["audit", "verify", "--data-dir", data_arg]);
    broken.assert_error("audit verify of a tampered log", 1, "broken at record 2");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_audit_filter_is_an_index_search() {
    let (_dir, store, _) = seeded_store().await;
    let filters = [
        AuditQuery { actor: Some("root".into()), limit: 50, ..AuditQuery::default() },
        AuditQuery { action: Some(Action::TokenCreated), limit: 50, ..AuditQuery::default() },
        AuditQuery { target: Some("Data Science".into()), limit: 50, ..AuditQuery::default() },
        AuditQuery {
            target: Some("owner@example.com".into()),
            before_seq: Some(10),
            limit: 50,
            ..AuditQuery::default()
        },
    ];
    for query in filters {
        let plan = store.explain_audit_page(query.clone()).await.unwrap();
        assert!(plan.iter().any(|line| line.starts_with("SEARCH audit USING")), "{query:?}: {plan:?}");
        // Only the tokens (a handful of rows) are read whole, to match a token's name in any case.
        let scans = plan
            .iter()
            .filter(|l| l.starts_with("SCAN") && !matches!(l.as_str(), "SCAN CONSTANT ROW" | "SCAN api_tokens"));
        assert_eq!(scans.count(), 0, "{query:?} scans: {plan:?}");
    }
}
