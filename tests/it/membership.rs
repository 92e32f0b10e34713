//! Group membership in the store, through `Store`'s public API against a real temporary SQLite: each
//! kind of `MemberChange`, what a Replace writes, all-or-nothing failures, nesting and cycles, and the
//! groups of a user (direct and indirect) as memberships, users and groups change.

use crate::support::actor;
use scimbox::scim::group::{self, GroupDraft, Member, MemberKind, MemberView, UserGroup};
use scimbox::scim::patch::{self, MemberChange};
use scimbox::scim::schema::ResourceKind;
use scimbox::scim::user;
use scimbox::store::{Store, StoreError};
use serde_json::{Value, json};

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).expect("store opens");
    (dir, store)
}

async fn new_user(store: &Store, name: &str) -> String {
    let draft = user::draft(&json!({"userName": name})).unwrap();
    store.create_user(&actor(), draft, None).await.expect("user created").id
}

async fn new_group(store: &Store, name: &str, members: Vec<Member>) -> String {
    let (draft, _) = group::draft(&json!({"displayName": name})).unwrap();
    store.create_group(&actor(), draft, members).await.expect("group created").id
}

fn member(id: &str) -> Member {
    Member { value: id.to_owned(), kind: None, display: None }
}

fn member_shown_as(id: &str, display: &str) -> Member {
    Member { value: id.to_owned(), kind: None, display: Some(display.to_owned()) }
}

/// The group's attributes unchanged, for updates that only change members.
fn same(current: &scimbox::scim::group::StoredGroup) -> GroupDraft {
    group::draft(&Value::Object(current.attributes.clone())).unwrap().0
}

/// Applies `changes` to group `id`, keeping its attributes.
async fn change(store: &Store, id: &str, changes: Vec<MemberChange>) -> Result<(), StoreError> {
    store.update_group(&actor(), id, None, move |current| Ok((same(current), changes))).await.map(drop)
}

async fn members(store: &Store, id: &str) -> Vec<MemberView> {
    let (_, members) = store.get_group(id, true).await.unwrap().expect("group exists");
    let mut members = members.expect("members were asked for");
    members.sort_by(|a, b| a.id.cmp(&b.id));
    members
}

async fn member_ids(store: &Store, id: &str) -> Vec<String> {
    members(store, id).await.into_iter().map(|m| m.id).collect()
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

/// The groups of a user as `(id, direct)` pairs, in the store's order.
async fn groups_of(store: &Store, user: &str) -> Vec<(String, bool)> {
    store.user_groups(user).await.unwrap().into_iter().map(|g: UserGroup| (g.id, g.direct)).collect()
}

/// Records every row written to `group_members` from now on into `member_log`, whichever connection
/// writes it: the database-level view of what a membership change costs.
fn log_member_writes(store: &Store) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "CREATE TABLE member_log (op TEXT NOT NULL, member_id TEXT NOT NULL);
         CREATE TRIGGER log_insert AFTER INSERT ON group_members
             BEGIN INSERT INTO member_log VALUES ('insert', new.member_id); END;
         CREATE TRIGGER log_delete AFTER DELETE ON group_members
             BEGIN INSERT INTO member_log VALUES ('delete', old.member_id); END;
         CREATE TRIGGER log_update AFTER UPDATE ON group_members
             BEGIN INSERT INTO member_log VALUES ('update', new.member_id); END;",
    )
    .unwrap();
    conn
}

fn logged(conn: &rusqlite::Connection) -> Vec<(String, String)> {
    let mut statement = conn.prepare("SELECT op, member_id FROM member_log ORDER BY op, member_id").unwrap();
    statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn add_keeps_existing_members_and_adds_new_ones() {
    let (_dir, store) = open();
    let (a, b) = (new_user(&store, "a").await, new_user(&store, "b").await);
    let team = new_group(&store, "Team", vec![member_shown_as(&a, "A as sent")]).await;

    change(&store, &team, vec![MemberChange::Add(vec![member(&a), member(&b)])]).await.unwrap();
    let listed = members(&store, &team).await;
    assert_eq!(listed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), sorted(&[&a, &b]), "{listed:?}");
    let shown = |id: &str| listed.iter().find(|m| m.id == id).unwrap().display.clone();
    assert_eq!(shown(&a).as_deref(), Some("A as sent"), "adding an existing member without display keeps it");
    assert_eq!(shown(&b).as_deref(), Some("b"), "a member without display shows its userName");
    assert!(listed.iter().all(|m| m.kind == MemberKind::User), "{listed:?}");

    change(&store, &team, vec![MemberChange::Add(vec![member_shown_as(&a, "A renamed")])]).await.unwrap();
    let listed = members(&store, &team).await;
    assert_eq!(listed.len(), 2, "adding again adds no row: {listed:?}");
    assert_eq!(listed.iter().find(|m| m.id == a).unwrap().display.as_deref(), Some("A renamed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_ignores_absent_members_and_remove_all_empties() {
    let (_dir, store) = open();
    let (a, b, c) = (new_user(&store, "a").await, new_user(&store, "b").await, new_user(&store, "c").await);
    let team = new_group(&store, "Team", vec![member(&a), member(&b)]).await;

    change(&store, &team, vec![MemberChange::Remove(vec![b.clone(), c.clone(), "no-such-id".into()])]).await.unwrap();
    assert_eq!(member_ids(&store, &team).await, sorted(&[&a]), "present ones go, absent ones are ignored");
    assert_eq!(groups_of(&store, &b).await, vec![], "b left");

    change(&store, &team, vec![MemberChange::RemoveAll]).await.unwrap();
    assert_eq!(member_ids(&store, &team).await, Vec::<String>::new());
    assert_eq!(groups_of(&store, &a).await, vec![], "a left");
    change(&store, &team, vec![MemberChange::RemoveAll]).await.expect("emptying an empty group is fine");
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_apply_in_order_within_one_update() {
    let (_dir, store) = open();
    let (a, b) = (new_user(&store, "a").await, new_user(&store, "b").await);
    let team = new_group(&store, "Team", vec![member(&a)]).await;
    let changes = vec![
        MemberChange::RemoveAll,
        MemberChange::Add(vec![member(&b)]),
        MemberChange::Add(vec![member(&a)]),
        MemberChange::Remove(vec![b.clone()]),
    ];
    change(&store, &team, changes).await.unwrap();
    assert_eq!(member_ids(&store, &team).await, sorted(&[&a]));
}

#[tokio::test(flavor = "multi_thread")]
async fn replace_writes_only_the_difference_in_one_write() {
    let (_dir, store) = open();
    let (a, b, c, d) = (
        new_user(&store, "a").await,
        new_user(&store, "b").await,
        new_user(&store, "c").await,
        new_user(&store, "d").await,
    );
    let team = new_group(&store, "Team", vec![member_shown_as(&a, "Alpha as sent"), member(&b), member(&c)]).await;
    let log = log_member_writes(&store);
    let before = store.writer_stats();

    // a is kept without a display (its stored one stays), b is dropped, c is kept with a new display,
    // d is new.
    let replace = MemberChange::Replace(vec![member(&a), member_shown_as(&c, "Charlie"), member(&d)]);
    change(&store, &team, vec![replace]).await.unwrap();

    let after = store.writer_stats();
    assert_eq!(after.writes - before.writes, 1, "one write: {before:?} then {after:?}");
    assert_eq!(after.failed_writes, before.failed_writes);
    let mut expected =
        vec![("delete".to_owned(), b.clone()), ("insert".to_owned(), d.clone()), ("update".to_owned(), c.clone())];
    expected.sort();
    assert_eq!(logged(&log), expected, "only the difference is written; a is not touched");

    let listed = members(&store, &team).await;
    assert_eq!(listed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), sorted(&[&a, &c, &d]));
    let shown = |id: &str| listed.iter().find(|m| m.id == id).unwrap().display.clone();
    assert_eq!(shown(&a).as_deref(), Some("Alpha as sent"), "a kept member keeps its stored display");
    assert_eq!(shown(&c).as_deref(), Some("Charlie"));

    let unchanged = MemberChange::Replace(vec![member(&a), member(&c), member(&d)]);
    change(&store, &team, vec![unchanged]).await.unwrap();
    assert_eq!(logged(&log).len(), 3, "replacing with the same members writes no member row");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_change_writes_nothing() {
    let (_dir, store) = open();
    let (a, b) = (new_user(&store, "a").await, new_user(&store, "b").await);
    let team = new_group(&store, "Team", vec![member(&a)]).await;
    let (version, _) = {
        let (stored, _) = store.get_group(&team, false).await.unwrap().unwrap();
        (stored.version, stored.attributes)
    };
    let before = store.writer_stats();

    let changes = vec![
        MemberChange::RemoveAll,
        MemberChange::Add(vec![member(&b), member("0190ffff-0000-7000-8000-00000000abcd")]),
    ];
    let error = change(&store, &team, changes).await.expect_err("a missing member is refused");
    let StoreError::Rejected(error) = error else { panic!("expected a SCIM rejection, got {error:?}") };
    assert_eq!(error.kind, scimbox::scim::Kind::InvalidValue, "{error:?}");
    assert!(error.to_string().contains("0190ffff-0000-7000-8000-00000000abcd"), "{error}");

    assert_eq!(member_ids(&store, &team).await, sorted(&[&a]), "neither the RemoveAll nor b's Add stayed");
    let (stored, _) = store.get_group(&team, false).await.unwrap().unwrap();
    assert_eq!(stored.version, version, "the version did not move");
    assert_eq!(store.writer_stats().failed_writes, before.failed_writes + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_where_filters_on_member_type_from_the_patch_engine() {
    let (_dir, store) = open();
    let a = new_user(&store, "a").await;
    let inner = new_group(&store, "Inner", vec![]).await;
    let outer =
        new_group(&store, "Outer", vec![member(&a), Member { kind: Some(MemberKind::Group), ..member(&inner) }]).await;
    let body = json!({"schemas": [patch::PATCH_SCHEMA],
                      "Operations": [{"op": "remove", "path": "members[type eq \"Group\"]"}]});
    let operations = patch::parse_request(&body, 1000).unwrap();
    let (current, _) = store.get_group(&outer, false).await.unwrap().unwrap();
    let mut attributes = current.attributes.clone();
    let changes = patch::apply(ResourceKind::Group, &outer, &mut attributes, &operations).unwrap();
    assert!(matches!(changes.as_slice(), [MemberChange::RemoveWhere(_)]), "{changes:?}");
    let draft = group::draft(&Value::Object(attributes)).unwrap().0;
    store.update_group(&actor(), &outer, None, move |_| Ok((draft, changes))).await.unwrap();
    assert_eq!(member_ids(&store, &outer).await, sorted(&[&a]), "only the nested group was removed");
}

#[tokio::test(flavor = "multi_thread")]
async fn user_groups_are_direct_then_indirect_through_any_depth() {
    let (_dir, store) = open();
    let u = new_user(&store, "u").await;
    let inner = new_group(&store, "Inner", vec![member(&u)]).await;
    let middle = new_group(&store, "Middle", vec![member(&inner)]).await;
    let outer = new_group(&store, "Outer", vec![member(&middle)]).await;
    let unrelated = new_group(&store, "Unrelated", vec![]).await;

    let groups = groups_of(&store, &u).await;
    assert_eq!(
        groups,
        vec![(inner.clone(), true), (middle.clone(), false), (outer.clone(), false)],
        "Inner direct, then Middle and Outer indirect"
    );
    assert!(!groups.iter().any(|(id, _)| *id == unrelated));
    let named = store.user_groups(&u).await.unwrap();
    assert_eq!(named.iter().map(|g| g.display.as_str()).collect::<Vec<_>>(), ["Inner", "Middle", "Outer"]);

    // A direct membership of an outer group counts once, as direct.
    change(&store, &outer, vec![MemberChange::Add(vec![member(&u)])]).await.unwrap();
    let groups = groups_of(&store, &u).await;
    assert_eq!(groups.len(), 3, "{groups:?}");
    assert!(groups.contains(&(outer.clone(), true)), "{groups:?}");
    assert!(groups.contains(&(middle.clone(), false)), "{groups:?}");
    let first_indirect = groups.iter().position(|(_, direct)| !direct).unwrap();
    assert!(groups[first_indirect..].iter().all(|(_, direct)| !direct), "direct groups come first: {groups:?}");

    // Cutting the chain in the middle drops what was reached through it.
    change(&store, &outer, vec![MemberChange::Remove(vec![u.clone()])]).await.unwrap();
    change(&store, &middle, vec![MemberChange::Remove(vec![inner.clone()])]).await.unwrap();
    assert_eq!(groups_of(&store, &u).await, vec![(inner.clone(), true)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn direct_groups_without_nesting_come_in_creation_order() {
    let (_dir, store) = open();
    let u = new_user(&store, "u").await;
    let first = new_group(&store, "Zeta", vec![]).await;
    let second = new_group(&store, "Alpha", vec![]).await;
    let third = new_group(&store, "Mid", vec![]).await;
    // Joined in another order than the groups were created in.
    for group in [&third, &first, &second] {
        change(&store, group, vec![MemberChange::Add(vec![member(&u)])]).await.unwrap();
    }
    assert_eq!(groups_of(&store, &u).await, vec![(first.clone(), true), (second.clone(), true), (third.clone(), true)]);

    // Nesting one of them elsewhere brings the outer group in, after the direct ones.
    let outer = new_group(&store, "Outer", vec![member(&first)]).await;
    assert_eq!(
        groups_of(&store, &u).await,
        vec![(first.clone(), true), (second.clone(), true), (third.clone(), true), (outer.clone(), false)]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cycles_are_refused_at_any_depth() {
    let (_dir, store) = open();
    let inner = new_group(&store, "Inner", vec![]).await;
    let middle = new_group(&store, "Middle", vec![member(&inner)]).await;
    let outer = new_group(&store, "Outer", vec![member(&middle)]).await;
    for (target, joining) in [(&inner, &outer), (&inner, &middle), (&middle, &outer), (&outer, &outer)] {
        let error = change(&store, target, vec![MemberChange::Add(vec![member(joining)])]).await;
        assert!(
            matches!(&error, Err(StoreError::Rejected(e)) if e.kind == scimbox::scim::Kind::InvalidValue),
            "{joining} joining {target}: {error:?}"
        );
        let error = change(&store, target, vec![MemberChange::Replace(vec![member(joining)])]).await;
        assert!(matches!(error, Err(StoreError::Rejected(_))), "Replace: {joining} joining {target}: {error:?}");
    }
    assert_eq!(member_ids(&store, &inner).await, Vec::<String>::new());
    assert_eq!(member_ids(&store, &middle).await, sorted(&[&inner]));
    assert_eq!(member_ids(&store, &outer).await, sorted(&[&middle]));
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_users_and_groups_removes_their_memberships() {
    let (_dir, store) = open();
    let (u, v) = (new_user(&store, "u").await, new_user(&store, "v").await);
    let team = new_group(&store, "Team", vec![member(&u), member(&v)]).await;
    let org = new_group(&store, "Org", vec![member(&team), member(&u)]).await;

    store.delete_user(&actor(), &u, None).await.unwrap();
    assert_eq!(member_ids(&store, &team).await, sorted(&[&v]), "u left Team");
    assert_eq!(member_ids(&store, &org).await, sorted(&[&team]), "and Org");
    assert_eq!(groups_of(&store, &u).await, vec![], "a deleted user belongs to nothing");
    assert_eq!(groups_of(&store, &v).await, vec![(team.clone(), true), (org.clone(), false)]);

    store.delete_group(&actor(), &team, None).await.unwrap();
    assert_eq!(groups_of(&store, &v).await, vec![], "with Team gone v is in no group");
    assert_eq!(member_ids(&store, &org).await, Vec::<String>::new(), "Team left Org");
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let rows: i64 = conn.query_row("SELECT count(*) FROM group_members", [], |row| row.get(0)).unwrap();
    assert_eq!(rows, 0, "no membership row is left behind");

    let error = change(&store, &org, vec![MemberChange::Add(vec![member(&u)])]).await;
    assert!(matches!(error, Err(StoreError::Rejected(_))), "a deleted user cannot be added: {error:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn crossed_additions_committed_together_cannot_make_a_cycle() {
    let (_dir, store) = open();
    let left = new_group(&store, "Left", vec![]).await;
    let right = new_group(&store, "Right", vec![]).await;
    let before = store.writer_stats();
    let hold = store.hold_writer().await.unwrap();
    let (store_a, store_b) = (store.clone(), store.clone());
    let (l, r) = (left.clone(), right.clone());
    let first = tokio::spawn(async move { change(&store_a, &l, vec![MemberChange::Add(vec![member(&r)])]).await });
    let (l, r) = (left.clone(), right.clone());
    let second = tokio::spawn(async move { change(&store_b, &r, vec![MemberChange::Add(vec![member(&l)])]).await });
    while store.queued_writes() < 2 {
        tokio::task::yield_now().await;
    }
    drop(hold);
    let outcomes = [first.await.unwrap(), second.await.unwrap()];
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "exactly one addition wins: {outcomes:?}");
    assert!(outcomes.iter().any(|o| matches!(o, Err(StoreError::Rejected(_)))), "{outcomes:?}");
    let after = store.writer_stats();
    assert_eq!(
        after.transactions - before.transactions,
        2,
        "one transaction for the hold, one for both writes: {before:?} {after:?}"
    );
    let nested = member_ids(&store, &left).await.len() + member_ids(&store, &right).await.len();
    assert_eq!(nested, 1, "one group contains the other, not both");
}

/// Each user's `group_seqs` (the direct groups kept in the user's row, from which lookups answer `groups`)
/// against the memberships themselves.
fn assert_rows_list_the_memberships(store: &Store, step: &str) {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let users: Vec<(String, Option<String>)> = conn
        .prepare("SELECT id, group_seqs FROM users")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!users.is_empty());
    for (id, kept) in users {
        let mut kept: Vec<i64> =
            kept.map(|list| list.split(',').map(|seq| seq.parse().unwrap()).collect()).unwrap_or_default();
        kept.sort_unstable();
        let truth: Vec<i64> = conn
            .prepare("SELECT group_seq FROM group_members WHERE member_id = ?1 AND member_type = 'User' ORDER BY 1")
            .unwrap()
            .query_map([&id], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kept, truth, "{step}: user {id}");
    }
}

/// A lookup's answer for `name`: the groups the list gives the user (as lookups read them, from the row).
async fn looked_up_groups(store: &Store, name: &str) -> Vec<(String, bool)> {
    let query = scimbox::scim::list::Params { filter: Some(format!("userName eq \"{name}\"")), ..Default::default() }
        .into_query(ResourceKind::User, 100)
        .unwrap();
    let found = store.list_users(query, "https://h/scim/v2".into(), true).await.unwrap();
    assert_eq!(found.items.len(), 1, "{name}");
    found.items[0].1.iter().map(|g| (g.id.clone(), g.direct)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_groups_kept_in_each_users_row_follow_every_kind_of_membership_change() {
    let (_dir, store) = open();
    let [a, b, c, d] = [
        new_user(&store, "a").await,
        new_user(&store, "b").await,
        new_user(&store, "c").await,
        new_user(&store, "d").await,
    ];
    let g1 = new_group(&store, "G1", vec![member(&a), member(&b)]).await;
    let g2 = new_group(&store, "G2", vec![member(&b), member(&c)]).await;
    let g3 = new_group(&store, "G3", vec![member(&g1), member(&d)]).await;
    assert_rows_list_the_memberships(&store, "created");
    assert_eq!(looked_up_groups(&store, "a").await, vec![(g1.clone(), true), (g3.clone(), false)]);
    assert_eq!(looked_up_groups(&store, "b").await, vec![(g1.clone(), true), (g2.clone(), true), (g3.clone(), false)]);
    assert_eq!(looked_up_groups(&store, "d").await, vec![(g3.clone(), true)]);

    change(&store, &g1, vec![MemberChange::Add(vec![member(&c)]), MemberChange::Remove(vec![a.clone()])])
        .await
        .unwrap();
    assert_rows_list_the_memberships(&store, "added and removed");
    assert_eq!(looked_up_groups(&store, "a").await, vec![]);
    change(&store, &g2, vec![MemberChange::Replace(vec![member(&a), member(&d)])]).await.unwrap();
    assert_rows_list_the_memberships(&store, "replaced");
    change(&store, &g3, vec![MemberChange::RemoveAll]).await.unwrap();
    assert_rows_list_the_memberships(&store, "emptied");
    assert_eq!(looked_up_groups(&store, "d").await, vec![(g2.clone(), true)]);
    // A refused change (a member that does not exist) leaves the rows as they were.
    let refused = change(&store, &g2, vec![MemberChange::Add(vec![member(&b), member("no-such-user")])]).await;
    assert!(refused.is_err());
    assert_rows_list_the_memberships(&store, "refused");
    assert_eq!(looked_up_groups(&store, "b").await, vec![(g1.clone(), true)]);
    // Deleting a group removes its memberships by cascade; deleting a user removes the user's.
    store.delete_group(&actor(), &g2, None).await.unwrap();
    assert_rows_list_the_memberships(&store, "group deleted");
    assert_eq!(looked_up_groups(&store, "a").await, vec![]);
    store.delete_user(&actor(), &c, None).await.unwrap();
    assert_rows_list_the_memberships(&store, "user deleted");
    assert_eq!(member_ids(&store, &g1).await, sorted(&[&b]));
}
