//! The admin page's directory through the store: word-start search over users, groups, members and
//! assets (and its plan), the orders the lists offer, the word index built for an older database, and the
//! views that hand over what departed people owned (owned assets with co-owners, "Needs an owner", the
//! preview of Extend ownership).

use crate::sharing::group;
use crate::support::actor;
use scimbox::sharing::{AssetKind, Grant, Grantee, Level};
use scimbox::store::{AssetQuery, DirectoryOrder, DirectoryQuery, NewAsset, PrincipalView, Store};
use serde_json::{Value, json};

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).expect("store opens");
    (dir, store)
}

async fn person(store: &Store, user_name: &str, given: &str, family: &str, email: &str) -> String {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"value": email, "primary": true}],
    });
    store.create_user(&actor(), scimbox::scim::user::draft(&body).unwrap(), None).await.unwrap().id
}

async fn change_user(store: &Store, id: &str, edit: impl FnOnce(&mut Value) + Send + 'static) {
    store
        .update_user(&actor(), id, None, move |current| {
            let mut body = Value::Object(current.attributes.clone());
            body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User"]);
            edit(&mut body);
            Ok((scimbox::scim::user::draft(&body)?, scimbox::store::PasswordChange::Keep))
        })
        .await
        .unwrap();
}

fn search(text: &str) -> DirectoryQuery {
    DirectoryQuery { text: Some(text.into()), count: 50, ..DirectoryQuery::default() }
}

async fn user_names(store: &Store, query: DirectoryQuery) -> Vec<String> {
    store.directory_users(query).await.unwrap().items.into_iter().map(|u| u.user_name).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_matches_the_start_of_any_word_of_names_and_addresses() {
    let (_dir, store) = open();
    let priya = person(&store, "priya.singh@corp.example", "Priya", "Singh", "priya.singh@corp.example").await;
    person(&store, "user0042@lab.example", "Ravi", "Kumar", "user0042@lab.example").await;
    person(&store, "anne-marie@lab.example", "Anne-Marie", "O'Neil", "am@other.example").await;
    person(&store, "singleton@lab.example", "Sam", "Gleton", "singleton@lab.example").await;

    assert_eq!(user_names(&store, search("Singh")).await, ["priya.singh@corp.example"]);
    assert_eq!(user_names(&store, search("corp.example")).await, ["priya.singh@corp.example"]);
    assert_eq!(user_names(&store, search("0042")).await, ["user0042@lab.example"]);
    assert_eq!(user_names(&store, search("marie")).await, ["anne-marie@lab.example"]);
    assert_eq!(user_names(&store, search("other")).await, ["anne-marie@lab.example"], "a second address's domain");
    // Every word must match the start of some word; their order does not matter.
    assert_eq!(user_names(&store, search("singh priya")).await, ["priya.singh@corp.example"]);
    assert_eq!(user_names(&store, search("sin")).await, ["priya.singh@corp.example", "singleton@lab.example"]);
    assert!(user_names(&store, search("ingh")).await.is_empty(), "the middle of a word does not match");
    assert!(user_names(&store, search("priya kumar")).await.is_empty());
    assert!(user_names(&store, search("@@")).await.is_empty(), "no word, no match");
    assert_eq!(user_names(&store, search(&priya)).await, ["priya.singh@corp.example"], "an exact id matches");

    // A change of name is searchable at once; the old words are gone.
    change_user(&store, &priya, |body| body["name"]["familyName"] = json!("Kapoor")).await;
    assert!(user_names(&store, search("singh priya")).await.contains(&"priya.singh@corp.example".to_owned()));
    assert_eq!(user_names(&store, search("kapoor")).await, ["priya.singh@corp.example"]);
    change_user(&store, &priya, |body| {
        body["userName"] = json!("pk@corp.example");
        body["emails"] = json!([{"value": "pk@corp.example"}]);
    })
    .await;
    assert!(user_names(&store, search("singh")).await.is_empty(), "no word of the old name or address is left");
    // A deleted user leaves every search.
    store.delete_user(&actor(), &priya, None).await.unwrap();
    assert!(user_names(&store, search("kapoor")).await.is_empty());

    // Groups, a group's members and assets search the same way.
    let ravi = store.directory_users(search("ravi")).await.unwrap().items[0].id.clone();
    let science = group(&store, "Data Science", &[&ravi]).await;
    let names = |page: scimbox::store::DirectoryPage<scimbox::store::DirectoryGroup>| {
        page.items.into_iter().map(|g| g.display_name).collect::<Vec<_>>()
    };
    assert_eq!(names(store.directory_groups(search("science")).await.unwrap()), ["Data Science"]);
    let (_, members) = store.directory_group(&science, search("kum")).await.unwrap().unwrap();
    assert_eq!(members.total, 1);
    let (_, members) = store.directory_group(&science, search("anne")).await.unwrap().unwrap();
    assert_eq!(members.total, 0, "only the group's own members");
    store
        .create_asset(&actor(), NewAsset { kind: AssetKind::Capsule, name: "Churn model (v2)".into(), owner_id: ravi })
        .await
        .unwrap();
    let assets = |text: &str| AssetQuery { text: Some(text.into()), count: 10, ..AssetQuery::default() };
    assert_eq!(store.list_assets(assets("model")).await.unwrap().total, 1);
    assert_eq!(store.list_assets(assets("v2")).await.unwrap().total, 1);
    assert_eq!(store.list_assets(assets("odel")).await.unwrap().total, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_is_index_range_scans_whatever_the_size() {
    let (_dir, store) = open();
    for i in 0..200 {
        person(
            &store,
            &format!("user{i:04}@corp.example"),
            "Given",
            &format!("Family{i}"),
            &format!("u{i}@corp.example"),
        )
        .await;
    }
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    // Statistics as a directory of 100,000 users would have them, so the planner chooses as it would there.
    conn.execute_batch("ANALYZE").unwrap();
    conn.execute("UPDATE sqlite_stat1 SET stat = '100000 1' WHERE tbl = 'users' AND idx IS NULL", []).unwrap();
    drop(conn);
    for text in ["singh", "corp example", "0042", "family1 given"] {
        for active in [None, Some(true)] {
            let plan = store.explain_directory_users(DirectoryQuery { active, ..search(text) }).await.unwrap();
            assert!(plan.iter().any(|l| l.contains("SEARCH words USING")), "{text}: {plan:?}");
            // The one scan is of the users whose words still wait (`pending_words`), which the writer
            // keeps to a few milliseconds' worth of creates whatever the directory's size.
            let scans: Vec<_> = plan.iter().filter(|l| l.starts_with("SCAN")).collect();
            assert!(scans.iter().all(|l| *l == "SCAN p" || l.starts_with("SCAN json_each")), "{text} scans: {plan:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_come_in_the_order_asked() {
    let (_dir, store) = open();
    let zed = person(&store, "a@x.example", "Zed", "Zulu", "a@x.example").await;
    person(&store, "b@x.example", "Amy", "Alpha", "b@x.example").await;
    person(&store, "c@x.example", "Max", "Mike", "c@x.example").await;
    change_user(&store, &zed, |body| body["active"] = json!(false)).await;
    let by = |order, descending| DirectoryQuery { order, descending, count: 10, ..DirectoryQuery::default() };
    assert_eq!(
        user_names(&store, by(DirectoryOrder::UserName, true)).await,
        ["c@x.example", "b@x.example", "a@x.example"]
    );
    assert_eq!(
        user_names(&store, by(DirectoryOrder::LastModified, true)).await[0],
        "a@x.example",
        "the last change first"
    );
    assert_eq!(user_names(&store, by(DirectoryOrder::Status, false)).await[2], "a@x.example", "active ones first");
    assert_eq!(user_names(&store, by(DirectoryOrder::Status, true)).await[0], "a@x.example");
    let page =
        store.directory_users(DirectoryQuery { start: 1, count: 1, ..by(DirectoryOrder::UserName, false) }).await;
    assert_eq!(page.unwrap().items[0].user_name, "b@x.example");

    let ids: Vec<String> = store
        .directory_users(by(DirectoryOrder::UserName, false))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|u| u.id)
        .collect();
    group(&store, "Small", &[&ids[0]]).await;
    let big = group(&store, "Big", &[&ids[0], &ids[1], &ids[2]]).await;
    let groups = store.directory_groups(by(DirectoryOrder::Members, true)).await.unwrap();
    assert_eq!(groups.items.iter().map(|g| g.display_name.as_str()).collect::<Vec<_>>(), ["Big", "Small"]);
    // Members by their own name: Amy Alpha, Max Mike, Zed Zulu (no displayName: userName sorts them).
    let (_, members) = store.directory_group(&big, by(DirectoryOrder::UserName, true)).await.unwrap().unwrap();
    let shown: Vec<_> = members.items.iter().map(|m| m.user_name.clone().unwrap()).collect();
    assert_eq!(shown, ["c@x.example", "b@x.example", "a@x.example"]);
    assert_eq!(members.items[0].display.as_deref(), Some("Max Mike"), "a member is shown by their own name");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_database_gets_its_word_index_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    person(&store, "priya@corp.example", "Priya", "Singh", "priya@corp.example").await;
    group(&store, "Data Science", &[]).await;
    store.close().await;
    // As a database migrated from before the word index: rows without words, the index not built.
    let conn = rusqlite::Connection::open(dir.path().join(scimbox::store::DATABASE_FILE)).unwrap();
    conn.execute_batch("DELETE FROM words; UPDATE word_index_built SET built = 0;").unwrap();
    drop(conn);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(user_names(&store, search("singh")).await, ["priya@corp.example"]);
    assert_eq!(store.directory_groups(search("science")).await.unwrap().total, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_departed_people_owned_can_be_found_and_handed_over() {
    let (_dir, store) = open();
    let leaver = person(&store, "leaver@x.example", "Lee", "Ver", "leaver@x.example").await;
    let stayer = person(&store, "stayer@x.example", "Sta", "Yer", "stayer@x.example").await;
    let heir = person(&store, "heir@x.example", "Hei", "R", "heir@x.example").await;
    let team = group(&store, "Team", &[&stayer]).await;
    let new =
        |name: &str, owner: &str| NewAsset { kind: AssetKind::Capsule, name: name.into(), owner_id: owner.into() };
    let alone = store.create_asset(&actor(), new("Alone", &leaver)).await.unwrap().id;
    let shared = store.create_asset(&actor(), new("Co-owned", &leaver)).await.unwrap().id;
    let granted = store.create_asset(&actor(), new("Granted", &stayer)).await.unwrap().id;
    let owner_grant = |grantee| vec![Grant { grantee, level: Level::Owner }];
    store.set_asset_permissions(&actor(), &shared, owner_grant(Grantee::Group(team.clone()))).await.unwrap();
    store.set_asset_permissions(&actor(), &granted, owner_grant(Grantee::User(leaver.clone()))).await.unwrap();

    // The leaver's Owned table: two of record, one through a grant, each with its other owners.
    let owned = store.owned_assets(&leaver, 0, 50).await.unwrap();
    assert_eq!(owned.total, 3);
    let row = |id: &str| owned.items.iter().find(|o| o.asset.id == id).unwrap().clone();
    assert!(row(&alone).of_record && row(&alone).co_owners.is_empty());
    assert!(matches!(&row(&shared).co_owners[..], [PrincipalView::Group(g)] if g.id == team));
    assert!(!row(&granted).of_record);
    assert!(matches!(&row(&granted).co_owners[..], [PrincipalView::User(u)] if u.id == stayer));

    // Nobody needs an owner while the leaver is here; once deleted, only the asset nobody else owns does.
    assert_eq!(store.assets_needing_owner(0, 50).await.unwrap().total, 0);
    store.delete_user(&actor(), &leaver, None).await.unwrap();
    let needing = store.assets_needing_owner(0, 50).await.unwrap();
    assert_eq!(needing.items.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), [alone.as_str()]);
    assert_eq!(store.owned_assets(&leaver, 0, 50).await.unwrap().total, 3, "a deleted user's holdings stay listed");

    // The preview names what will change and changes nothing; the extension then does exactly that.
    let preview = store.preview_extension(&leaver, Grantee::User(heir.clone())).await.unwrap();
    assert_eq!(preview.changed.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["Alone", "Co-owned", "Granted"]);
    assert_eq!(store.assets_needing_owner(0, 50).await.unwrap().total, 1, "a preview writes nothing");
    let done = store.extend_ownership(&actor(), &leaver, Grantee::User(heir.clone())).await.unwrap();
    assert_eq!(done.changed, preview.changed);
    assert_eq!(store.assets_needing_owner(0, 50).await.unwrap().total, 0);
    let again = store.preview_extension(&leaver, Grantee::User(heir)).await.unwrap();
    assert!(again.changed.is_empty() && again.unchanged.len() == 3, "{again:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn renames_and_deletions_leave_no_stale_words() {
    let (_dir, store) = open();
    let words = |store: &Store| {
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        // A new user's words may still wait in `pending_words`: both tables, so a word kept in both shows twice.
        let mut statement = conn
            .prepare(
                "SELECT kind, word FROM words
                 UNION ALL SELECT 0, j.value FROM pending_words p, json_each(p.words) j ORDER BY 1, 2",
            )
            .unwrap();
        let rows = statement.query_map([], |row| Ok(format!("{}:{}", row.get::<_, i64>(0)?, row.get::<_, String>(1)?)));
        rows.unwrap().collect::<Result<Vec<_>, _>>().unwrap()
    };
    let user = person(&store, "ann@a.example", "Ann", "Lee", "ann@a.example").await;
    let team = group(&store, "Red Team", &[]).await;
    let new = NewAsset { kind: AssetKind::Capsule, name: "Old name".into(), owner_id: user.clone() };
    let asset = store.create_asset(&actor(), new).await.unwrap().id;
    assert_eq!(words(&store), ["0:a", "0:ann", "0:example", "0:lee", "1:red", "1:team", "2:name", "2:old"]);

    change_user(&store, &user, |body| body["name"]["familyName"] = json!("Park")).await;
    let renamed = scimbox::scim::group::draft(&json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Blue Team"
    }))
    .unwrap()
    .0;
    store.update_group(&actor(), &team, None, move |_| Ok((renamed, Vec::new()))).await.unwrap();
    let change = scimbox::store::AssetChange { name: Some("New name".into()), owner_id: None };
    store.update_asset(&actor(), &asset, change).await.unwrap();
    assert_eq!(words(&store), ["0:a", "0:ann", "0:example", "0:park", "1:blue", "1:team", "2:name", "2:new"]);

    store.delete_asset(&actor(), &asset).await.unwrap();
    store.delete_group(&actor(), &team, None).await.unwrap();
    store.delete_user(&actor(), &user, None).await.unwrap();
    assert!(words(&store).is_empty(), "{:?}", words(&store));
}

/// Every word entry: in the index as `kind:word:seq`, and waiting as `waiting:word:seq`.
fn word_entries(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT kind || ':' || word || ':' || seq FROM words
             UNION ALL SELECT 'waiting:' || j.value || ':' || p.seq FROM pending_words p, json_each(p.words) j
             ORDER BY 1",
        )
        .unwrap();
    statement.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn waiting(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT count(*) FROM pending_words", [], |row| row.get(0)).unwrap()
}

/// Waits (up to a minute) until the server's writer has moved every waiting word into the index.
async fn until_indexed(store: &Store) {
    for _ in 0..600 {
        if waiting(store.path()) == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("new users' words still wait after a minute: {} rows", waiting(store.path()));
}

#[tokio::test(flavor = "multi_thread")]
async fn new_users_words_wait_beside_the_index_and_searches_find_them_there() {
    let dir = tempfile::tempdir().unwrap();
    // A command's store: its writer leaves waiting words for the server's, so they stay waiting here.
    let store = Store::open_for_command(dir.path()).unwrap();
    let priya = person(&store, "priya@corp.example", "Priya", "Singh", "priya@corp.example").await;
    let ravi = person(&store, "ravi@lab.example", "Ravi", "Kumar", "ravi@lab.example").await;
    let gone = person(&store, "gone@lab.example", "Gone", "Soon", "gone@lab.example").await;
    assert_eq!(waiting(store.path()), 3, "a create appends its words to pending_words");
    assert!(!word_entries(store.path()).iter().any(|e| e.starts_with("0:")), "and writes none into the index");

    assert_eq!(user_names(&store, search("singh")).await, ["priya@corp.example"]);
    assert_eq!(user_names(&store, search("lab ku")).await, ["ravi@lab.example"], "every term must match");
    assert_eq!(user_names(&store, search(&ravi)).await, ["ravi@lab.example"], "an id still matches");
    change_user(&store, &priya, |body| body["name"]["familyName"] = json!("Sharma")).await;
    assert!(user_names(&store, search("singh")).await.is_empty(), "a waiting user's old name is forgotten");
    assert_eq!(user_names(&store, search("sharma")).await, ["priya@corp.example"]);
    store.delete_user(&actor(), &gone, None).await.unwrap();
    assert!(user_names(&store, search("soon")).await.is_empty());
    assert_eq!(waiting(store.path()), 2, "a deleted user's waiting words go with it");
    let team = group(&store, "Lab Team", &[&ravi]).await;
    let (_, members) = store.directory_group(&team, search("kumar")).await.unwrap().unwrap();
    assert_eq!(members.items.len(), 1, "a group's members are searched beside the index too");
    let before = word_entries(store.path());
    store.close().await;
    drop(store);

    // The server's store moves them into the index when its writer has nothing else to do.
    let store = Store::open(dir.path()).unwrap();
    until_indexed(&store).await;
    let after = word_entries(store.path());
    let moved: Vec<String> = before.iter().map(|e| e.replacen("waiting:", "0:", 1)).collect();
    let mut moved = moved;
    moved.sort();
    assert_eq!(after, moved, "the same words, now in the index");
    assert_eq!(user_names(&store, search("sharma")).await, ["priya@corp.example"]);
    assert_eq!(user_names(&store, search("lab ku")).await, ["ravi@lab.example"]);
    assert!(user_names(&store, search("singh")).await.is_empty());
    change_user(&store, &ravi, |body| body["name"]["familyName"] = json!("Rao")).await;
    assert_eq!(user_names(&store, search("rao")).await, ["ravi@lab.example"]);
    assert!(user_names(&store, search("kumar")).await.is_empty(), "an indexed user is changed in the index");
}

/// Users created, renamed and deleted in bursts while the writer moves waiting words at moments of its
/// own choosing: every search answers what a scan of the users would, and once everything has moved the
/// index is the one a rebuild from the users' attributes makes.
#[tokio::test(flavor = "multi_thread")]
async fn searches_stay_exact_while_words_move_into_the_index() {
    const VOCABULARY: [&str; 8] = ["amber", "amberly", "basil", "bramble", "cedar", "cypress", "dune", "delta"];
    let (dir, store) = open();
    let mut seed: u64 = 0x5eed_2026_1204;
    let mut next = move |below: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % below as u64).unwrap()
    };
    // The model: each live user's id and the vocabulary words of their name.
    let mut live: Vec<(String, Vec<&str>)> = Vec::new();
    let mut created = 0;
    for round in 0..40 {
        let burst = 1 + next(60);
        let mut plans = Vec::new();
        for _ in 0..burst {
            let name = vec![VOCABULARY[next(8)], VOCABULARY[next(8)]];
            match next(10) {
                0..=5 => plans.push((None, name)),
                6..=7 if !live.is_empty() => plans.push((Some(next(live.len())), name)),
                _ if !live.is_empty() => plans.push((Some(usize::MAX - next(live.len())), name)),
                _ => {}
            }
        }
        // One burst in one commit, as a Bulk request writes: the writer is busy until it ends.
        let (outcome, committed) = store
            .in_one_commit(async {
                let mut live = live.clone();
                for (target, name) in plans {
                    match target {
                        None => {
                            created += 1;
                            let user_name = format!("user{created}@x.test"); // no word of it starts like a name's
                            let id = person(&store, &user_name, name[0], name[1], &user_name).await;
                            live.push((id, name));
                        }
                        Some(index) if index < live.len() => {
                            let (given, family) = (name[0], name[1]);
                            change_user(&store, &live[index].0, move |body| {
                                body["name"] = json!({"givenName": given, "familyName": family});
                            })
                            .await;
                            live[index].1 = name;
                        }
                        Some(index) => {
                            let index = usize::MAX - index;
                            if index < live.len() {
                                let (id, _) = live.remove(index);
                                store.delete_user(&actor(), &id, None).await.unwrap();
                            }
                        }
                    }
                }
                live
            })
            .await;
        committed.unwrap();
        live = outcome;
        // Right after the commit, while the writer may be moving the burst's words (or not yet).
        for terms in [
            vec![VOCABULARY[next(8)]],
            vec![&VOCABULARY[next(8)][..2]],
            vec![&VOCABULARY[next(8)][..3], &VOCABULARY[next(8)][..1]],
        ] {
            let text = terms.join(" ");
            let mut expected: Vec<&String> = live
                .iter()
                .filter(|(_, name)| terms.iter().all(|term| name.iter().any(|word| word.starts_with(term))))
                .map(|(id, _)| id)
                .collect();
            expected.sort();
            let query = DirectoryQuery { text: Some(text.clone()), count: 1000, ..DirectoryQuery::default() };
            let mut found: Vec<String> =
                store.directory_users(query).await.unwrap().items.into_iter().map(|u| u.id).collect();
            found.sort();
            assert_eq!(found.iter().collect::<Vec<_>>(), expected, "round {round}, search {text:?}");
        }
    }
    until_indexed(&store).await;
    let entries = word_entries(store.path());
    store.close().await;
    drop(store);
    // A rebuild from the users' attributes (as for a database older than the index) gives the same index.
    let conn = rusqlite::Connection::open(dir.path().join(scimbox::store::DATABASE_FILE)).unwrap();
    conn.execute_batch("UPDATE word_index_built SET built = 0").unwrap();
    drop(conn);
    let rebuilt = Store::open(dir.path()).unwrap();
    assert_eq!(word_entries(rebuilt.path()), entries, "the index after the moves is the one a rebuild makes");
    assert!(entries.iter().any(|e| e.starts_with("0:amber:")), "{entries:?}");
}
