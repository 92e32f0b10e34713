//! Access decisions at scale: 100,000 assets and 1,000,000 grants (seeded once over the public store API
//! and kept in `target/bench-data/` for later runs), asked for a user who belongs to 50 groups (40
//! directly, 10 through nested groups):
//! - `store_access_decision`: `Store::check_access`, one user × one asset (what `GET /api/v1/access`
//!   costs in the store), over assets the user reaches and assets they do not;
//! - `http_access_decision`: the same through `GET /api/v1/access` with a platform token;
//! - `store_user_assets_page`: the first page of everything the user can reach (for scale: that list
//!   grows with what the user's groups hold, unlike a decision);
//! - `store_read_round_trip`: a read that runs `SELECT 1`, the floor under every store read.
//!
//! The query plans of a decision are printed when the fixture is opened. Run with
//! `cargo bench --bench sharing`; seeding takes a minute or two the first time.

mod common;

use common::actor;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use scimbox::credentials::Scope;
use scimbox::sharing::{AssetKind, Grantee, Level};
use scimbox::store::{NewAsset, NewGrant, Store};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

const USERS: usize = 2_000;
const GROUPS: usize = 500;
const ASSETS: usize = 100_000;
const GROUP_GRANTS_PER_ASSET: usize = 6;
const USER_GRANTS_PER_ASSET: usize = 4;
/// The measured user belongs to groups 0..40 directly and to 40..50 through them.
const DIRECT_GROUPS: usize = 40;
const NESTED_GROUPS: usize = 10;

fn main() {
    divan::main();
}

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
});

struct Fixture {
    store: Store,
    base: String,
    token: String,
    client: reqwest::Client,
    /// The user in 50 groups.
    member: String,
    /// Asset ids spread over the whole table.
    assets: Vec<String>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| RUNTIME.block_on(fixture()));

async fn fixture() -> Fixture {
    let common::Served { dir, store, addr, token } = common::serve_seeded("sharing-v1", Scope::Platform, seed).await;
    let base = format!("http://{addr}/api/v1");
    let ids: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ids.json")).expect("ids")).expect("ids json");
    let member = ids["member"].as_str().unwrap().to_owned();
    let assets: Vec<String> =
        ids["assets"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    let plan = store.explain_access(&member, &assets[0]).await.expect("plan");
    eprintln!("query plan of an access decision:\n  {}", plan.join("\n  "));
    let _ = rustls::crypto::ring::default_provider().install_default();
    Fixture { store, base, token, client: reqwest::Client::new(), member, assets }
}

async fn seed(dir: &std::path::Path) {
    let store = Store::open(dir).expect("store");
    eprintln!("seeding {ASSETS} assets and {} grants into {} (once)", ASSETS * 10, dir.display());
    let mut users = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let body = json!({"userName": format!("user{i:05}@example.com"), "displayName": format!("User {i}")});
        users.push(
            store
                .create_user(&actor(), scimbox::scim::user::draft(&body).expect("draft"), None)
                .await
                .expect("user")
                .id,
        );
    }
    let member = users[0].clone();
    let mut groups: Vec<String> = Vec::with_capacity(GROUPS);
    for g in 0..GROUPS {
        let mut members: Vec<Value> =
            (0..20).map(|k| json!({"value": users[1 + (g * 37 + k * 97) % (USERS - 1)]})).collect();
        if g < DIRECT_GROUPS {
            members.push(json!({"value": member, "type": "User"}));
        } else if g < DIRECT_GROUPS + NESTED_GROUPS {
            members.push(json!({"value": groups[g - DIRECT_GROUPS], "type": "Group"}));
        }
        let body = json!({"displayName": format!("Group {g:03}"), "members": members});
        let (draft, members) = scimbox::scim::group::draft(&body).expect("group draft");
        groups.push(store.create_group(&actor(), draft, members.unwrap_or_default()).await.expect("group").id);
    }
    let kinds = [AssetKind::Capsule, AssetKind::DataAsset, AssetKind::Pipeline];
    let mut assets: Vec<(String, AssetKind)> = Vec::with_capacity(ASSETS);
    for chunk in 0..ASSETS / 10_000 {
        let batch: Vec<NewAsset> = (chunk * 10_000..(chunk + 1) * 10_000)
            .map(|i| NewAsset {
                kind: kinds[i % 3],
                name: format!("Asset {i}"),
                owner_id: users[1 + i % (USERS - 1)].clone(),
            })
            .collect();
        store.create_assets(&actor(), batch).await.expect("assets");
        let page = store
            .list_assets(scimbox::store::AssetQuery {
                start: (chunk * 10_000) as u64,
                count: 10_000,
                ..Default::default()
            })
            .await
            .expect("list");
        assets.extend(page.items.into_iter().map(|a| (a.id, a.kind)));
    }
    assert_eq!(assets.len(), ASSETS);
    let mut batch = Vec::with_capacity(50_000);
    for (i, (asset, kind)) in assets.iter().enumerate() {
        let level = |k: usize| match (kind, (i + k) % 3) {
            (AssetKind::DataAsset, 0) | (_, 2) => Level::Owner,
            (AssetKind::DataAsset, _) | (_, 0) => Level::Viewer,
            _ => Level::Editor,
        };
        for k in 0..GROUP_GRANTS_PER_ASSET {
            let grantee = Grantee::Group(groups[(i * 7 + k * 53) % GROUPS].clone());
            batch.push(NewGrant { asset_id: asset.clone(), grantee, level: level(k) });
        }
        for k in 0..USER_GRANTS_PER_ASSET {
            let grantee = Grantee::User(users[1 + (i * 13 + k * 389) % (USERS - 1)].clone());
            batch.push(NewGrant { asset_id: asset.clone(), grantee, level: level(k + 1) });
        }
        if batch.len() >= 50_000 {
            store.import_grants(&actor(), std::mem::take(&mut batch)).await.expect("grants");
        }
    }
    store.import_grants(&actor(), batch).await.expect("grants");
    let sample: Vec<&str> = assets.iter().step_by(ASSETS / 1000).map(|(id, _)| id.as_str()).collect();
    std::fs::write(dir.join("ids.json"), json!({"member": member, "assets": sample}).to_string()).expect("ids file");
    store.close().await;
}

fn next<'a>(fixture: &'a Fixture, counter: &AtomicUsize) -> &'a str {
    &fixture.assets[counter.fetch_add(1, Ordering::Relaxed) % fixture.assets.len()]
}

#[divan::bench]
fn store_access_decision(bencher: divan::Bencher) {
    let fixture = &*FIXTURE;
    let counter = AtomicUsize::new(0);
    bencher.bench(|| {
        let decision = RUNTIME.block_on(fixture.store.check_access(&fixture.member, next(fixture, &counter)));
        divan::black_box(decision.expect("decision"));
    });
}

#[divan::bench]
fn http_access_decision(bencher: divan::Bencher) {
    let fixture = &*FIXTURE;
    let counter = AtomicUsize::new(0);
    bencher.bench(|| {
        let url = format!("{}/access?user={}&asset={}", fixture.base, fixture.member, next(fixture, &counter));
        let status = RUNTIME
            .block_on(async { fixture.client.get(&url).bearer_auth(&fixture.token).send().await.unwrap().status() });
        assert_eq!(status, reqwest::StatusCode::OK);
    });
}

#[divan::bench(sample_count = 20)]
fn store_user_assets_page(bencher: divan::Bencher) {
    let fixture = &*FIXTURE;
    bencher.bench(|| {
        let page = RUNTIME.block_on(fixture.store.user_assets(&fixture.member, None, 0, 50)).expect("page");
        assert_eq!(page.assets.items.len(), 50);
    });
}

/// What any store read costs around its SQL (a hop to the blocking pool and a read transaction running
/// `SELECT 1`): the floor under `store_access_decision`.
#[divan::bench]
fn store_read_round_trip(bencher: divan::Bencher) {
    let fixture = &*FIXTURE;
    bencher.bench(|| RUNTIME.block_on(fixture.store.ping()).expect("ping"));
}
