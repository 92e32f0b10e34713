//! Sharing in the store, against a real temporary SQLite: levels per kind, effective access with its
//! reasons through direct and nested groups, what deleting a user or a group does to assets and grants,
//! permission lists, bulk imports, extend ownership, and the query plan of an access decision.

use crate::support::actor;
use scimbox::sharing::{AssetKind, Decision, Grant, Grantee, Level, UserStatus, Via};
use scimbox::store::{AssetChange, AssetQuery, NewAsset, NewGrant, PrincipalView, Store, StoreError};
use serde_json::json;

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).expect("store opens");
    (dir, store)
}

async fn user(store: &Store, name: &str) -> String {
    let draft = scimbox::scim::user::draft(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}),
    )
    .unwrap();
    store.create_user(&actor(), draft, None).await.unwrap().id
}

pub async fn group(store: &Store, name: &str, members: &[&str]) -> String {
    let members: Vec<_> = members.iter().map(|id| json!({"value": id})).collect();
    let (draft, members) = scimbox::scim::group::draft(&json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members
    }))
    .unwrap();
    store.create_group(&actor(), draft, members.unwrap_or_default()).await.unwrap().id
}

async fn asset(store: &Store, kind: AssetKind, name: &str, owner: &str) -> String {
    store.create_asset(&actor(), NewAsset { kind, name: name.into(), owner_id: owner.into() }).await.unwrap().id
}

fn grant(grantee: Grantee, level: Level) -> Grant {
    Grant { grantee, level }
}

async fn level(store: &Store, user: &str, asset: &str) -> Option<Level> {
    store.check_access(user, asset).await.unwrap().decision.level()
}

async fn deactivate(store: &Store, id: &str, active: bool) {
    store
        .update_user(&actor(), id, None, move |current| {
            let mut body = serde_json::Value::Object(current.attributes.clone());
            body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User"]);
            body["active"] = json!(active);
            Ok((scimbox::scim::user::draft(&body)?, scimbox::store::PasswordChange::Keep))
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn levels_are_checked_against_the_asset_kind() {
    let (_dir, store) = open();
    let owner = user(&store, "owner").await;
    let reader = user(&store, "reader").await;
    let data = asset(&store, AssetKind::DataAsset, "sales.parquet", &owner).await;
    let capsule = asset(&store, AssetKind::Capsule, "Forecast", &owner).await;

    let refused =
        store.set_asset_permissions(&actor(), &data, vec![grant(Grantee::User(reader.clone()), Level::Editor)]).await;
    let Err(StoreError::Sharing(error)) = refused else { panic!("{refused:?}") };
    assert_eq!(error.to_string(), "a data asset has no editor level; its levels are viewer and owner");
    assert!(store.asset_permissions(&data).await.unwrap().grants.is_empty(), "a refused save changes nothing");

    store
        .set_asset_permissions(&actor(), &data, vec![grant(Grantee::User(reader.clone()), Level::Owner)])
        .await
        .unwrap();
    store
        .set_asset_permissions(&actor(), &capsule, vec![grant(Grantee::User(reader.clone()), Level::Editor)])
        .await
        .unwrap();
    assert_eq!(level(&store, &reader, &data).await, Some(Level::Owner));
    assert_eq!(level(&store, &reader, &capsule).await, Some(Level::Editor));

    let bulk = vec![NewGrant { asset_id: data.clone(), grantee: Grantee::User(reader.clone()), level: Level::Editor }];
    assert!(
        matches!(store.import_grants(&actor(), bulk).await, Err(StoreError::Sharing(_))),
        "imports are checked too"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn effective_access_is_the_strongest_grant_direct_or_through_nested_groups() {
    let (_dir, store) = open();
    let owner = user(&store, "owner").await;
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let team = group(&store, "team", &[&ann]).await;
    let department = group(&store, "department", &[&team]).await;
    let capsule = asset(&store, AssetKind::Capsule, "Forecast", &owner).await;

    assert_eq!(store.check_access(&ann, &capsule).await.unwrap().decision, Decision::NoGrant);
    store
        .set_asset_permissions(
            &actor(),
            &capsule,
            vec![
                grant(Grantee::User(ann.clone()), Level::Viewer),
                grant(Grantee::Group(team.clone()), Level::Viewer),
                grant(Grantee::Group(department.clone()), Level::Editor),
            ],
        )
        .await
        .unwrap();
    let Decision::Allowed(access) = store.check_access(&ann, &capsule).await.unwrap().decision else { panic!() };
    assert_eq!(access.level, Level::Editor);
    assert_eq!(
        access.reasons.iter().map(|r| &r.via).collect::<Vec<_>>(),
        [&Via::Group { id: department.clone(), display_name: "department".into(), nested: true }],
        "the department's grant reaches ann through the team"
    );
    assert_eq!(level(&store, &bob, &capsule).await, None);
    let Decision::Allowed(access) = store.check_access(&owner, &capsule).await.unwrap().decision else { panic!() };
    assert_eq!((access.level, &access.reasons[0].via), (Level::Owner, &Via::Owner));

    let reach = store.user_assets(&ann, None, 0, 50).await.unwrap();
    assert_eq!(reach.assets.total, 1);
    assert_eq!(reach.assets.items[0].access.level, Level::Editor);
    assert_eq!(store.user_assets(&ann, Some(AssetKind::Pipeline), 0, 50).await.unwrap().assets.total, 0);
    assert_eq!(store.user_assets(&owner, None, 0, 50).await.unwrap().assets.total, 1);
    assert!(matches!(store.check_access("no-such-user", &capsule).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.check_access(&ann, "no-such-asset").await, Err(StoreError::NotFound(_))));

    deactivate(&store, &ann, false).await;
    let decision = store.check_access(&ann, &capsule).await.unwrap().decision;
    assert_eq!(decision, Decision::Inactive(UserStatus::Deactivated));
    assert_eq!(store.user_assets(&ann, None, 0, 50).await.unwrap().assets.total, 0);
    deactivate(&store, &ann, true).await;
    assert_eq!(level(&store, &ann, &capsule).await, Some(Level::Editor), "reactivation restores access");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_group_removes_its_grants_and_nothing_else() {
    let (_dir, store) = open();
    let owner = user(&store, "owner").await;
    let ann = user(&store, "ann").await;
    let team = group(&store, "team", &[&ann]).await;
    let capsule = asset(&store, AssetKind::Capsule, "Forecast", &owner).await;
    let pipeline = asset(&store, AssetKind::Pipeline, "Nightly", &owner).await;
    for id in [&capsule, &pipeline] {
        let grants =
            vec![grant(Grantee::Group(team.clone()), Level::Editor), grant(Grantee::User(ann.clone()), Level::Viewer)];
        store.set_asset_permissions(&actor(), id, grants).await.unwrap();
    }
    assert_eq!(store.group_assets(&team, 0, 50).await.unwrap().assets.total, 2);
    store.delete_group(&actor(), &team, None).await.unwrap();
    for id in [&capsule, &pipeline] {
        let permissions = store.asset_permissions(id).await.unwrap();
        assert_eq!(permissions.grants.len(), 1, "only the group's grant is gone");
        assert!(matches!(&permissions.grants[0].principal, PrincipalView::User(u) if u.id == ann));
        assert_eq!(level(&store, &ann, id).await, Some(Level::Viewer));
    }
    assert_eq!(store.list_assets(AssetQuery { count: 50, ..AssetQuery::default() }).await.unwrap().total, 2);
    assert!(matches!(store.group_assets(&team, 0, 50).await, Err(StoreError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_owner_becomes_a_tombstone_and_ownership_can_be_extended() {
    let (_dir, store) = open();
    let leaver = user(&store, "leaver").await;
    let heir = user(&store, "heir").await;
    let idle = user(&store, "idle").await;
    let team = group(&store, "team", &[&heir]).await;
    let owned = asset(&store, AssetKind::Capsule, "Mine", &leaver).await;
    let data = asset(&store, AssetKind::DataAsset, "Theirs", &heir).await;
    store
        .set_asset_permissions(&actor(), &data, vec![grant(Grantee::User(leaver.clone()), Level::Owner)])
        .await
        .unwrap();
    assert!(store.asset_permissions(&owned).await.unwrap().owner_reachable);

    store.delete_user(&actor(), &leaver, None).await.unwrap();
    let after = store.asset_permissions(&owned).await.unwrap();
    assert_eq!(after.asset.owner.id, leaver, "the asset keeps its owner of record");
    assert_eq!(after.asset.owner.status, UserStatus::Deleted);
    assert!(!after.owner_reachable, "nobody active can act as its owner: an admin has to");
    assert_eq!(store.check_access(&leaver, &owned).await.unwrap().decision, Decision::Inactive(UserStatus::Deleted));
    let listed = store.list_assets(AssetQuery { owner_id: Some(leaver.clone()), count: 50, ..AssetQuery::default() });
    assert_eq!(listed.await.unwrap().total, 1, "an admin finds a deleted user's assets by owner");

    // A hard delete of the tombstone would orphan the asset: the database refuses it.
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    let orphaning = conn.execute("DELETE FROM users WHERE id = ?1", [&leaver]);
    assert!(orphaning.unwrap_err().to_string().contains("FOREIGN KEY"));

    deactivate(&store, &idle, false).await;
    let to_idle = store.extend_ownership(&actor(), &leaver, Grantee::User(idle.clone())).await;
    assert!(matches!(&to_idle, Err(StoreError::Sharing(e)) if e.to_string().contains("deactivated")), "{to_idle:?}");
    let to_self = store.extend_ownership(&actor(), &leaver, Grantee::User(leaver.clone())).await;
    assert!(matches!(to_self, Err(StoreError::Sharing(_))));
    let unknown = store.extend_ownership(&actor(), "nobody", Grantee::Group(team.clone())).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))));

    let outcome = store.extend_ownership(&actor(), &leaver, Grantee::Group(team.clone())).await.unwrap();
    assert_eq!((outcome.assets, outcome.extended), (2, 2), "owned as owner of record, and through an Owner grant");
    assert!(store.asset_permissions(&owned).await.unwrap().owner_reachable);
    let Decision::Allowed(access) = store.check_access(&heir, &owned).await.unwrap().decision else { panic!() };
    assert_eq!(access.level, Level::Owner);
    let again = store.extend_ownership(&actor(), &leaver, Grantee::Group(team.clone())).await.unwrap();
    assert_eq!((again.assets, again.extended), (2, 0), "extending twice changes nothing");

    let reowned =
        store.update_asset(&actor(), &owned, AssetChange { owner_id: Some(heir.clone()), name: None }).await.unwrap();
    assert_eq!(reowned.owner.id, heir);
    let to_tombstone =
        store.update_asset(&actor(), &owned, AssetChange { owner_id: Some(leaver.clone()), name: None }).await;
    assert!(matches!(to_tombstone, Err(StoreError::Sharing(_))), "a deleted user cannot become an owner");
}

#[tokio::test(flavor = "multi_thread")]
async fn saving_a_permission_list_is_checked_whole() {
    let (_dir, store) = open();
    let owner = user(&store, "owner").await;
    let ann = user(&store, "ann").await;
    let gone = user(&store, "gone").await;
    let capsule = asset(&store, AssetKind::Capsule, "Forecast", &owner).await;
    store
        .set_asset_permissions(&actor(), &capsule, vec![grant(Grantee::User(gone.clone()), Level::Viewer)])
        .await
        .unwrap();
    store.delete_user(&actor(), &gone, None).await.unwrap();

    // The dialog still lists the deleted user unchanged: saving it with a new row is fine.
    let keep =
        vec![grant(Grantee::User(gone.clone()), Level::Viewer), grant(Grantee::User(ann.clone()), Level::Editor)];
    let saved = store.set_asset_permissions(&actor(), &capsule, keep).await.unwrap();
    assert_eq!(saved.grants.len(), 2);
    let raise = vec![grant(Grantee::User(gone.clone()), Level::Editor)];
    assert!(matches!(store.set_asset_permissions(&actor(), &capsule, raise).await, Err(StoreError::Sharing(_))));
    let unknown = vec![grant(Grantee::Group("no-such-group".into()), Level::Viewer)];
    let refused = store.set_asset_permissions(&actor(), &capsule, unknown).await.unwrap_err();
    assert!(refused.to_string().contains("group \"no-such-group\""), "{refused}");
    let twice = vec![grant(Grantee::User(ann.clone()), Level::Viewer), grant(Grantee::User(ann.clone()), Level::Owner)];
    assert!(matches!(store.set_asset_permissions(&actor(), &capsule, twice).await, Err(StoreError::Sharing(_))));
    assert_eq!(store.asset_permissions(&capsule).await.unwrap().grants.len(), 2, "refused saves changed nothing");

    let emptied = store.set_asset_permissions(&actor(), &capsule, vec![]).await.unwrap();
    assert!(emptied.grants.is_empty());
    assert_eq!(emptied.asset.owner.id, owner, "the owner of record is not part of the list");
    assert!(matches!(store.set_asset_permissions(&actor(), "nope", vec![]).await, Err(StoreError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread")]
async fn assets_are_listed_by_kind_owner_and_text_and_bulk_writes_are_all_or_nothing() {
    let (_dir, store) = open();
    let ann = user(&store, "ann").await;
    let bob = user(&store, "bob").await;
    let new = |kind, name: &str, owner: &str| NewAsset { kind, name: name.into(), owner_id: owner.into() };
    let created = store
        .create_assets(
            &actor(),
            vec![
                new(AssetKind::Capsule, "Churn model", &ann),
                new(AssetKind::Capsule, "Forecast 100%", &bob),
                new(AssetKind::Pipeline, "Nightly churn", &ann),
                new(AssetKind::DataAsset, "customers_2024", &bob),
            ],
        )
        .await
        .unwrap();
    assert_eq!(created.len(), 4);
    let list = |query: AssetQuery| {
        let store = store.clone();
        async move {
            let page = store.list_assets(AssetQuery { count: 50, ..query }).await.unwrap();
            (page.total, page.items.into_iter().map(|a| a.name).collect::<Vec<_>>())
        }
    };
    assert_eq!(list(AssetQuery::default()).await.0, 4);
    assert_eq!(
        list(AssetQuery { kind: Some(AssetKind::Capsule), ..AssetQuery::default() }).await.1,
        ["Churn model", "Forecast 100%"]
    );
    assert_eq!(
        list(AssetQuery { owner_id: Some(ann.clone()), ..AssetQuery::default() }).await.1,
        ["Churn model", "Nightly churn"]
    );
    assert_eq!(
        list(AssetQuery { text: Some("CHURN".into()), ..AssetQuery::default() }).await.1,
        ["Churn model", "Nightly churn"]
    );
    // The start of any word of the name; a text without a word (SQL's wildcards among them) matches nothing.
    assert_eq!(list(AssetQuery { text: Some("100".into()), ..AssetQuery::default() }).await.1, ["Forecast 100%"]);
    assert_eq!(list(AssetQuery { text: Some("2024".into()), ..AssetQuery::default() }).await.1, ["customers_2024"]);
    assert_eq!(list(AssetQuery { text: Some("hurn".into()), ..AssetQuery::default() }).await.1, Vec::<String>::new());
    assert_eq!(list(AssetQuery { text: Some("%".into()), ..AssetQuery::default() }).await.1, Vec::<String>::new());
    assert_eq!(list(AssetQuery { text: Some("_".into()), ..AssetQuery::default() }).await.1, Vec::<String>::new());
    let second = store.list_assets(AssetQuery { start: 1, count: 2, ..AssetQuery::default() }).await.unwrap();
    assert_eq!((second.total, second.items.len(), second.items[0].name.as_str()), (4, 2, "Forecast 100%"));

    let bad_batch = vec![new(AssetKind::Capsule, "fine", &ann), new(AssetKind::Capsule, "  ", &ann)];
    assert!(matches!(store.create_assets(&actor(), bad_batch).await, Err(StoreError::Sharing(_))));
    let orphan = vec![new(AssetKind::Capsule, "nobody's", "no-such-user")];
    assert!(
        matches!(store.create_assets(&actor(), orphan).await, Err(StoreError::Sharing(_))),
        "an asset needs a real owner"
    );
    assert_eq!(list(AssetQuery::default()).await.0, 4, "a refused batch creates nothing");

    let grants = vec![
        NewGrant { asset_id: created[0].id.clone(), grantee: Grantee::User(bob.clone()), level: Level::Viewer },
        NewGrant { asset_id: "no-such-asset".into(), grantee: Grantee::User(bob.clone()), level: Level::Viewer },
    ];
    assert!(store.import_grants(&actor(), grants).await.is_err());
    assert_eq!(level(&store, &bob, &created[0].id).await, None, "a refused import grants nothing");
    let grants =
        vec![NewGrant { asset_id: created[0].id.clone(), grantee: Grantee::User(bob.clone()), level: Level::Viewer }];
    assert_eq!(store.import_grants(&actor(), grants).await.unwrap(), 1);
    assert_eq!(level(&store, &bob, &created[0].id).await, Some(Level::Viewer));

    let renamed = store
        .update_asset(&actor(), &created[0].id, AssetChange { name: Some(" Churn v2 ".into()), owner_id: None })
        .await;
    assert_eq!(renamed.unwrap().name, "Churn v2");
    store.delete_asset(&actor(), &created[0].id).await.unwrap();
    assert!(matches!(store.get_asset(&created[0].id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.delete_asset(&actor(), &created[0].id).await, Err(StoreError::NotFound(_))));
}

/// The access decision is answered from indexes: every step of every statement's plan searches an index
/// (or walks the recursive membership queue), and no table is scanned.
#[tokio::test(flavor = "multi_thread")]
async fn the_access_decision_uses_indexes_only() {
    let (_dir, store) = open();
    let owner = user(&store, "owner").await;
    let ann = user(&store, "ann").await;
    let team = group(&store, "team", &[&ann]).await;
    group(&store, "department", &[&team]).await;
    let capsule = asset(&store, AssetKind::Capsule, "Forecast", &owner).await;
    store
        .set_asset_permissions(&actor(), &capsule, vec![grant(Grantee::Group(team.clone()), Level::Editor)])
        .await
        .unwrap();

    let plan = store.explain_access(&ann, &capsule).await.unwrap();
    let text = plan.join("\n");
    for table in ["assets", "users", "groups", "group_members", "user_grants", "group_grants"] {
        for line in &plan {
            let scanned = line.starts_with("SCAN ") && !line.contains("USING");
            let names = |name: &str| line.split_whitespace().nth(1).is_some_and(|t| t == name);
            assert!(!(scanned && names(table)), "a full scan of {table}:\n{text}");
        }
    }
    for needed in [
        "SEARCH users USING INDEX",
        "SEARCH a USING INDEX",
        "SEARCH user_grants USING PRIMARY KEY",
        "SEARCH m USING COVERING INDEX group_members_member_type",
        "SEARCH gg USING PRIMARY KEY",
    ] {
        assert!(plan.iter().any(|line| line.starts_with(needed)), "no {needed:?} step in the plan:\n{text}");
    }
    let scans: Vec<&String> = plan.iter().filter(|l| l.starts_with("SCAN")).collect();
    assert!(scans.iter().all(|l| l.starts_with("SCAN containing") || l.starts_with("SCAN mine")), "{text}");
}
