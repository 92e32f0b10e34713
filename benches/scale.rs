//! Benchmarks at scale, against a store of 1,000,000 users (seeded once over the public store API and
//! kept in `target/bench-data/` for later runs):
//! - `userName eq` lookups in the store and over HTTP (what Okta does before every assignment);
//! - one-member PATCH add/remove on groups of 10, 10,000 and 100,000 members over HTTP (the cost must not
//!   grow with the group).
//!
//! Run with `cargo bench --bench scale`. Seeding takes a few minutes the first time.

mod common;

use common::actor;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use scimbox::credentials::Scope;
use scimbox::scim::list::Params;
use scimbox::scim::schema::ResourceKind;
use scimbox::store::Store;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

const USERS: usize = 1_000_000;
const GROUP_SIZES: [usize; 3] = [10, 10_000, 100_000];

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
    /// Group ids by size.
    groups: Vec<(usize, String)>,
}

fn user_name(i: usize) -> String {
    format!("user{i:07}@example.com")
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| RUNTIME.block_on(fixture()));

async fn fixture() -> Fixture {
    let common::Served { dir, store, addr, token } = common::serve_seeded("scale-v1", Scope::Scim, seed).await;
    let base = format!("http://{addr}/scim/v2");
    let groups_json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("groups.json")).expect("groups")).expect("groups json");
    let groups =
        GROUP_SIZES.iter().map(|size| (*size, groups_json[size.to_string()].as_str().unwrap().to_owned())).collect();
    let _ = rustls::crypto::ring::default_provider().install_default();
    Fixture { store, base, token, client: reqwest::Client::new(), groups }
}

async fn seed(dir: &std::path::Path) {
    let store = Store::open(dir).expect("store");
    eprintln!("seeding {USERS} users into {} (once)", dir.display());
    let next = std::sync::Arc::new(AtomicUsize::new(0));
    let ids = std::sync::Arc::new(std::sync::Mutex::new(vec![String::new(); USERS]));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (store, next, ids) = (store.clone(), next.clone(), ids.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= USERS {
                    break;
                }
                let body = json!({
                    "userName": user_name(i), "active": true, "displayName": format!("User {i}"),
                    "name": {"givenName": "User", "familyName": format!("{i}")},
                    "emails": [{"value": user_name(i), "type": "work", "primary": true}],
                });
                let draft = scimbox::scim::user::draft(&body).expect("draft");
                let user = store.create_user(&actor(), draft, None).await.expect("create");
                ids.lock().unwrap()[i] = user.id;
            }
        }));
    }
    for task in tasks {
        task.await.expect("seeder");
    }
    let ids = ids.lock().unwrap().clone();
    let mut groups = serde_json::Map::new();
    for size in GROUP_SIZES {
        let members: Vec<Value> = ids[..size].iter().map(|id| json!({"value": id, "type": "User"})).collect();
        let body = json!({"displayName": format!("Group of {size}"), "members": members});
        let (draft, members) = scimbox::scim::group::draft(&body).expect("group draft");
        let group = store.create_group(&actor(), draft, members.unwrap_or_default()).await.expect("group");
        groups.insert(size.to_string(), Value::from(group.id));
    }
    std::fs::write(dir.join("groups.json"), Value::Object(groups).to_string()).expect("groups file");
    store.close().await;
}

/// A deterministic spread of user numbers, so each sample looks up a different user.
fn pick(counter: &AtomicUsize) -> usize {
    counter.fetch_add(7_919, Ordering::Relaxed) % USERS
}

/// The query of Okta's assignment check for `name`.
fn lookup_query(name: &str) -> scimbox::scim::list::ListQuery {
    Params { filter: Some(format!("userName eq \"{name}\"")), ..Default::default() }
        .into_query(ResourceKind::User, 1000)
        .unwrap()
}

/// Looks up a different user each sample, with or without the user's groups.
fn store_lookup(bencher: divan::Bencher, with_groups: bool) {
    let fixture = &*FIXTURE;
    let counter = AtomicUsize::new(1);
    bencher.bench(|| {
        let query = lookup_query(&user_name(pick(&counter)));
        let found = RUNTIME.block_on(fixture.store.list_users(query, String::new(), with_groups)).unwrap();
        assert_eq!(found.total, 1);
    });
}

#[divan::bench]
fn store_lookup_by_user_name(bencher: divan::Bencher) {
    store_lookup(bencher, true);
}

#[divan::bench]
fn http_lookup_by_user_name(bencher: divan::Bencher) {
    let fixture = &*FIXTURE;
    let counter = AtomicUsize::new(1);
    bencher.bench(|| {
        let name = user_name(pick(&counter));
        let url = format!("{}/Users?filter=userName%20eq%20%22{name}%22", fixture.base);
        let body: Value = RUNTIME.block_on(async {
            fixture.client.get(&url).bearer_auth(&fixture.token).send().await.unwrap().json().await.unwrap()
        });
        assert_eq!(body["totalResults"], 1);
    });
}

/// Adds and removes one member (a user outside the group) alternately: each sample is one PATCH.
#[divan::bench(args = GROUP_SIZES)]
fn http_group_patch_one_member(bencher: divan::Bencher, size: usize) {
    let fixture = &*FIXTURE;
    let group = &fixture.groups.iter().find(|(s, _)| *s == size).unwrap().1;
    let outsider = RUNTIME
        .block_on(fixture.store.list_users(lookup_query(&user_name(USERS - 1)), String::new(), false))
        .unwrap()
        .items
        .remove(0)
        .0
        .id;
    let url = format!("{}/Groups/{group}", fixture.base);
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "add", "path": "members", "value": [{"value": outsider}]}]});
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "remove", "path": format!("members[value eq \"{outsider}\"]")}]});
    let flip = AtomicUsize::new(0);
    bencher.bench(|| {
        let body = if flip.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) { &add } else { &remove };
        let status = RUNTIME.block_on(async {
            fixture.client.patch(&url).bearer_auth(&fixture.token).json(body).send().await.unwrap().status()
        });
        assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    });
}

/// The same lookup without the user's groups (`excludedAttributes=groups`): what the groups cost.
#[divan::bench]
fn store_lookup_by_user_name_without_groups(bencher: divan::Bencher) {
    store_lookup(bencher, false);
}

/// The floor under every store read: a round trip through the read pool running `SELECT 1`.
#[divan::bench]
fn store_read_floor(bencher: divan::Bencher) {
    let fixture = &*FIXTURE;
    bencher.bench(|| RUNTIME.block_on(fixture.store.ping()).unwrap());
}
