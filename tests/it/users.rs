//! SCIM /Users over HTTP: Okta's and Entra's flows, lists, filters, pagination, ETags and deletion.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::scim_client::{
    ENTERPRISE_SCHEMA, PATCH_SCHEMA, Scim, USER_SCHEMA, id_of, patch_op, sorted, urlencode, values_of,
};

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

fn user_names(list: &Value) -> Vec<&str> {
    list["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn okta_test_connection_on_an_empty_store() {
    let scim = Scim::start().await;
    let (status, body) = scim.get("/Users?startIndex=1&count=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []
        })
    );
    // With a trailing slash on the base URL too.
    let (status, _) = scim.get("/Users/?startIndex=1&count=2").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn okta_assignment_looks_up_by_email_then_creates() {
    let scim = Scim::start().await;
    let filter = "/Users?filter=email%20eq%20%22dade.murphy%40example.com%22&startIndex=1&count=100";
    let (_, found) = scim.get(filter).await;
    assert_eq!(found["totalResults"], 0);
    let created = scim
        .create(
            "dade.murphy@example.com",
            json!({"name": {"givenName": "Dade", "familyName": "Murphy"},
                   "emails": [{"primary": true, "value": "Dade.Murphy@example.com", "type": "work"}],
                   "active": true, "displayName": "Dade Murphy", "password": "t1meMachine"}),
        )
        .await;
    let (_, found) = scim.get(filter).await;
    assert_eq!(found["totalResults"], 1, "e-mail filters compare case-insensitively");
    assert_eq!(found["Resources"][0]["id"], created["id"]);
    let (_, found) = scim.get("/Users?filter=userName+eq+%22DADE.MURPHY%40EXAMPLE.COM%22").await;
    assert_eq!(found["totalResults"], 1, "+ decodes as a space and userName is case-insensitive");
    assert_eq!(found["Resources"][0]["userName"], "dade.murphy@example.com", "stored as sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_pages_by_one_hundred_without_gaps_or_repeats() {
    let scim = Scim::start().await;
    for i in 0..250 {
        scim.create(&format!("user{i:03}"), json!({})).await;
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let (status, page) = scim.get(&format!("/Users?startIndex={start}&count=100")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["totalResults"], 250);
        assert_eq!(page["startIndex"], start);
        let names = user_names(&page);
        assert_eq!(page["itemsPerPage"], names.len());
        if names.is_empty() {
            break;
        }
        seen.extend(names.iter().map(|n| n.to_string()));
        start += 100;
    }
    let expected: Vec<String> = (0..250).map(|i| format!("user{i:03}")).collect();
    assert_eq!(seen, expected);

    let (_, totals) = scim.get("/Users?count=0").await;
    assert_eq!(totals["totalResults"], 250);
    assert_eq!(totals["Resources"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn cursor_pagination_follows_next_cursor_to_the_end() {
    let scim = Scim::start().await;
    for i in 0..7 {
        scim.create(&format!("c{i}"), json!({})).await;
    }
    let mut names = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let (status, page) = scim.get(&format!("/Users?count=3&cursor={cursor}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        names.extend(user_names(&page).iter().map(|n| n.to_string()));
        match page.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(names, ["c0", "c1", "c2", "c3", "c4", "c5", "c6"]);
    let (status, error) = scim.get("/Users?cursor=bogus").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["scimType"], "invalidCursor");
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_sorting_and_search() {
    let scim = Scim::start().await;
    scim.create("alice", json!({"title": "Engineer", "name": {"familyName": "Zed"}, "active": true})).await;
    scim.create(
        "bob",
        json!({"title": "Manager", "name": {"familyName": "Young"}, "active": false, "externalId": "B-1"}),
    )
    .await;
    scim.create(
        "carol",
        json!({"title": "Engineer", "name": {"familyName": "Xu"},
        "emails": [{"type": "work", "value": "carol@example.com"}, {"type": "home", "value": "c@home.example"}]}),
    )
    .await;

    let cases: &[(&str, &[&str])] = &[
        ("title eq \"Engineer\"", &["alice", "carol"]),
        ("title eq \"engineer\"", &["alice", "carol"]),
        ("externalId eq \"b-1\"", &[]),
        ("active eq false", &["bob"]),
        ("active eq true and title eq \"Engineer\"", &["alice", "carol"]),
        ("externalId eq \"B-1\"", &["bob"]),
        ("externalId pr", &["bob"]),
        ("not (externalId pr)", &["alice", "carol"]),
        ("userName sw \"A\" or userName ew \"ol\"", &["alice", "carol"]),
        ("userName co \"o\"", &["bob", "carol"]),
        ("emails[type eq \"work\" and value co \"@example.com\"]", &["carol"]),
        ("emails.type eq \"home\"", &["carol"]),
        ("meta.created gt \"2000-01-01T00:00:00Z\" and userName gt \"b\"", &["bob", "carol"]),
        ("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"alice\"", &["alice"]),
        ("(title eq \"Manager\") or (name.familyName lt \"Y\")", &["bob", "carol"]),
    ];
    for (filter, expected) in cases {
        let path = format!("/Users?filter={}", urlencode(filter));
        let (status, list) = scim.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {list}");
        assert_eq!(user_names(&list), *expected, "{filter}");
        assert_eq!(list["totalResults"], expected.len(), "{filter}");
    }

    let (_, sorted) = scim.get("/Users?sortBy=name.familyName").await;
    assert_eq!(user_names(&sorted), ["carol", "bob", "alice"]);
    let (_, sorted) = scim.get("/Users?sortBy=userName&sortOrder=descending").await;
    assert_eq!(user_names(&sorted), ["carol", "bob", "alice"]);

    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                        "filter": "title eq \"Engineer\"", "startIndex": 2, "count": 10});
    let (status, found) = scim.post("/Users/.search", &search).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["totalResults"], 2);
    assert_eq!(user_names(&found), ["carol"]);

    for bad in ["userName eq", "userName eq \"a\" and", "(userName eq \"a\"", "userName xx \"a\"", "active gt true"] {
        let (status, error) = scim.get(&format!("/Users?filter={}", urlencode(bad))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error["scimType"], "invalidFilter", "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_users_disappear_from_scim_and_their_names_are_free_again() {
    let scim = Scim::start().await;
    let user = scim.create("leaver", json!({"emails": [{"value": "leaver@example.com"}]})).await;
    let id = user["id"].as_str().unwrap();
    let response =
        scim.server.client.delete(scim.url(&format!("/Users/{id}"))).bearer_auth(&scim.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, error) = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    let (_, list) = scim.get("/Users").await;
    assert_eq!(list["totalResults"], 0);
    let response =
        scim.server.client.delete(scim.url(&format!("/Users/{id}"))).bearer_auth(&scim.token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "deleting twice is a 404");
    let again = scim.create("leaver", json!({"emails": [{"value": "leaver@example.com"}]})).await;
    assert_ne!(again["id"], user["id"]);
    // The platform keeps the person: the tombstone row is still in the database.
    let conn = rusqlite::Connection::open(scim.server.data_dir().join("scimbox.db")).unwrap();
    let rows: i64 = conn.query_row("SELECT count(*) FROM users WHERE user_name = 'leaver'", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn etags_answer_304_and_412() {
    let scim = Scim::start().await;
    let user = scim.create("tagged", json!({})).await;
    let id = user["id"].as_str().unwrap();
    let etag = user["meta"]["version"].as_str().unwrap();
    let response = scim
        .server
        .client
        .get(scim.url(&format!("/Users/{id}")))
        .bearer_auth(&scim.token)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let response = scim
        .server
        .client
        .delete(scim.url(&format!("/Users/{id}")))
        .bearer_auth(&scim.token)
        .header("if-match", "W/\"999\"")
        .send()
        .await
        .unwrap();
    let (status, error) = read(response).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{error}");
    let (status, _) = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(status, StatusCode::OK, "a refused delete deletes nothing");
    let response = scim
        .server
        .client
        .delete(scim.url(&format!("/Users/{id}")))
        .bearer_auth(&scim.token)
        .header("if-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_identical_creates_make_one_user() {
    let scim = Scim::start().await;
    let body = json!({"userName": "twin@example.com"});
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let request = scim.server.client.post(scim.url("/Users")).bearer_auth(&scim.token).json(&body);
        tasks.push(tokio::spawn(async move { request.send().await.unwrap().status() }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 7, "{statuses:?}");
    let (_, list) = scim.get("/Users").await;
    assert_eq!(list["totalResults"], 1);
}

/// The number in a `W/"<n>"` version.
fn version_number(resource: &Value) -> i64 {
    let version = resource["meta"]["version"].as_str().unwrap_or_else(|| panic!("no meta.version in {resource}"));
    version.trim_start_matches("W/").trim_matches('"').parse().unwrap_or_else(|_| panic!("odd version {version}"))
}

/// The ids of the users `active eq false` finds, sorted.
async fn inactive(scim: &Scim) -> Vec<String> {
    let (status, list) = scim.get(&format!("/Users?filter={}", urlencode("active eq false"))).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut ids: Vec<String> =
        list["Resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

/// Timestamps have millisecond resolution: waiting a few milliseconds guarantees that a write made
/// afterwards has a later `lastModified` (a guarantee, not a race).
async fn let_the_clock_move() {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

/// The attribute names of a resource, sorted.
fn keys(resource: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = resource.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

// Okta "Update a specific User (PUT)": Okta GETs the user, changes the profile attributes in what it read
// and PUTs the whole object back.
// https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20 ("Update a specific User (PUT)")
#[tokio::test(flavor = "multi_thread")]
async fn okta_profile_update_by_get_and_full_put() {
    let scim = Scim::start().await;
    let created = scim
        .create(
            "test.user@okta.local",
            json!({"name": {"givenName": "Test", "familyName": "User"}, "title": "Engineer", "active": true,
                   "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
                   "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7"}),
        )
        .await;
    let path = format!("/Users/{}", id_of(&created));
    let (_, mut user) = scim.get(&path).await;
    user["name"]["givenName"] = json!("Another");
    user["title"] = json!("Tour Guide");
    let_the_clock_move().await;

    let reply = scim.exchange(scim.request(Method::PUT, &path).json(&user)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["name"]["givenName"], "Another", "the PUT response shows the change");
    assert_eq!(reply.header("etag"), reply.json["meta"]["version"].as_str(), "ETag equals meta.version on PUT");

    let after = scim.exchange(scim.request(Method::GET, &path)).await;
    let stored = &after.json;
    assert_eq!(stored["name"], json!({"givenName": "Another", "familyName": "User"}), "{stored}");
    assert_eq!(stored["title"], "Tour Guide");
    assert_eq!(stored["locale"], "en-US", "attributes sent again unchanged stay");
    assert_eq!(stored["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(stored["id"], created["id"], "the id never changes");
    assert!(version_number(stored) > version_number(&created), "meta.version increases: {stored}");
    assert_eq!(stored["meta"]["created"], created["meta"]["created"], "meta.created stays");
    assert!(
        stored["meta"]["lastModified"].as_str() > created["meta"]["lastModified"].as_str(),
        "meta.lastModified moves: {} then {}",
        created["meta"]["lastModified"],
        stored["meta"]["lastModified"]
    );
    assert_eq!(after.header("etag"), stored["meta"]["version"].as_str(), "ETag equals meta.version on GET");
}

// Okta deactivates with PATCH `{"op":"replace","value":{"active":false}}` (catalog integrations) and
// reactivates with `active: true`; custom apps GET the user and PUT it back with `active: false`.
// https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20 ("Update a specific User (PATCH)",
// "Update a specific User (PUT)")
#[tokio::test(flavor = "multi_thread")]
async fn okta_deactivates_and_reactivates_by_patch_and_by_put() {
    let scim = Scim::start().await;
    let patched = id_of(&scim.create("patched@example.com", json!({"active": true})).await);
    let put = id_of(&scim.create("put@example.com", json!({"active": true})).await);
    let deactivate = json!([{"op": "replace", "value": {"active": false}}]);
    let (status, user) = scim.patch(&format!("/Users/{patched}"), deactivate).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["active"], false, "the PATCH response shows the deactivation: {user}");
    assert_eq!(inactive(&scim).await, sorted(&[&patched]), "active eq false finds the deactivated user");

    let reactivate = json!([{"op": "replace", "value": {"active": true}}]);
    let (status, user) = scim.patch(&format!("/Users/{patched}"), reactivate).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["active"], true, "{user}");
    assert_eq!(inactive(&scim).await, Vec::<String>::new(), "a reactivated user is active again");

    let (_, mut user) = scim.get(&format!("/Users/{put}")).await;
    user["active"] = json!(false);
    let (status, replaced) = scim.put(&format!("/Users/{put}"), &user).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["active"], false, "{replaced}");
    let (_, stored) = scim.get(&format!("/Users/{put}")).await;
    assert_eq!(stored["active"], false, "GET shows the PUT deactivation");
    assert_eq!(inactive(&scim).await, sorted(&[&put]));
}

// Entra's create request carries the enterprise extension URI in `schemas`, `meta.resourceType`, and
// sometimes an `id` of its own; its PATCH requests spell ops `Replace`/`Add`, send booleans as strings,
// and use value-filtered and URN-qualified paths.
// https://learn.microsoft.com/en-us/azure/active-directory/manage-apps/use-scim-to-provision-users-and-groups
// ("Create User", "Update User [Multi-valued properties]", "Update User [Single-valued properties]",
// "Disable User") and
// https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
// (PATCH `"value": "False"`, enterprise `manager` paths).
#[tokio::test(flavor = "multi_thread")]
async fn entra_creates_then_patches_one_attribute_at_a_time() {
    let scim = Scim::start().await;
    let manager = scim.create_id("manager@contoso.example").await;
    let body = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "id": "client-chosen-id",
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@contoso.example",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.example"}],
        "meta": {"resourceType": "User", "version": "W/\"77\""},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": []
    });
    let (status, created) = scim.post("/Users", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = id_of(&created);
    assert_ne!(id, "client-chosen-id", "the server sets the id");
    assert_eq!(created["meta"]["resourceType"], "User");
    assert_eq!(created["meta"]["version"], "W/\"1\"", "client meta is ignored: {created}");
    assert_eq!(created["userName"], "Test_User_ab6490ee@contoso.example", "stored exactly as sent");
    assert!(created.get("roles").is_none(), "an empty list is unassigned: {created}");
    let path = format!("/Users/{id}");

    let steps: Vec<(Value, String, Value)> = vec![
        (json!({"op": "Replace", "path": "active", "value": "False"}), "/active".into(), json!(false)),
        (
            json!({"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updated@contoso.example"}),
            "/emails".into(),
            json!([{"primary": true, "type": "work", "value": "updated@contoso.example"}]),
        ),
        (json!({"op": "Replace", "path": "name.givenName", "value": "Ruth"}), "/name/givenName".into(), json!("Ruth")),
        (
            json!({"op": "Replace", "path": "name.givenName", "value": "Ruth"}),
            "/name/familyName".into(),
            json!("familyName"),
        ),
        (
            json!({"op": "Add", "path": format!("{ENTERPRISE_SCHEMA}:manager"), "value": {"value": manager}}),
            format!("/{ENTERPRISE_SCHEMA}/manager/value"),
            json!(manager),
        ),
        (
            json!({"op": "Add", "path": format!("{ENTERPRISE_SCHEMA}:department"), "value": "Sales"}),
            format!("/{ENTERPRISE_SCHEMA}/department"),
            json!("Sales"),
        ),
        (
            json!({"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"}),
            "/phoneNumbers".into(),
            json!([{"type": "mobile", "value": "+1 555 0100"}]),
        ),
    ];
    for (operation, pointer, expected) in steps {
        let (status, patched) = scim.patch(&path, json!([operation])).await;
        assert_eq!(status, StatusCode::OK, "{operation}: {patched}");
        let (_, stored) = scim.get(&path).await;
        assert_eq!(stored.pointer(&pointer), Some(&expected), "after {operation}, {pointer} in {stored}");
    }

    let (_, stored) = scim.get(&path).await;
    assert_eq!(
        stored[ENTERPRISE_SCHEMA],
        json!({"manager": {"value": manager}, "department": "Sales"}),
        "extension attributes live in one block under the URN: {stored}"
    );
    assert!(stored["schemas"].as_array().unwrap().contains(&json!(ENTERPRISE_SCHEMA)), "{stored}");
    for stray in ["manager", "department", "Active", "phonenumbers"] {
        assert!(stored.get(stray).is_none(), "no top-level {stray}: {stored}");
    }
    assert_eq!(stored["active"], false, "the string \"False\" was stored as a boolean");
}

// RFC 7644 §3.5.2: a PATCH is atomic; §3.12 gives `invalidSyntax` for a malformed request and
// `mutability` for an attempt to change a readOnly attribute.
#[tokio::test(flavor = "multi_thread")]
async fn rejected_patches_leave_the_user_byte_for_byte_unchanged() {
    let scim = Scim::start().await;
    let id = id_of(&scim.create("steady", json!({"title": "Keeper", "emails": [{"value": "s@example.com"}]})).await);
    let path = format!("/Users/{id}");
    let before = scim.get_text(&path).await;

    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        ("empty Operations", json!({"schemas": [PATCH_SCHEMA], "Operations": []}), Some("invalidSyntax")),
        ("unknown op", patch_op(json!([{"op": "frobnicate", "path": "title", "value": "x"}])), None),
        (
            "id changed to another value",
            patch_op(json!([{"op": "replace", "path": "id", "value": "another-id"}])),
            Some("mutability"),
        ),
        (
            "meta replaced by path",
            patch_op(json!([{"op": "replace", "path": "meta", "value": {"resourceType": "Group"}}])),
            Some("mutability"),
        ),
        (
            "a valid operation followed by a failing one",
            patch_op(json!([{"op": "replace", "path": "title", "value": "Changed"},
                            {"op": "replace", "path": "id", "value": "another-id"}])),
            Some("mutability"),
        ),
    ];
    for (case, body, scim_type) in cases {
        let (status, error) = scim.send(Method::PATCH, &path, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {error}");
        assert_eq!(error["status"], "400", "{case}: status is a string: {error}");
        if let Some(scim_type) = scim_type {
            assert_eq!(error["scimType"], scim_type, "{case}: {error}");
        }
        assert_eq!(scim.get_text(&path).await, before, "{case}: the user is unchanged");
    }
}

// RFC 7643 §2.2 and §7: readOnly attributes a client sends (Okta and Entra echo what they read) are
// ignored; RFC 7643 §4.1.1: `password` is writeOnly and `returned: never`.
#[tokio::test(flavor = "multi_thread")]
async fn put_ignores_read_only_attributes_in_the_body() {
    let scim = Scim::start().await;
    let created = scim.create("echo", json!({"title": "Before"})).await;
    let id = id_of(&created);
    let member_of = scim.create_group("Real Group", &[&id]).await;
    let other = scim.create_group("Other Group", &[]).await;
    let path = format!("/Users/{id}");
    let (_, mut user) = scim.get(&path).await;
    user["id"] = json!("someone-else");
    user["meta"] = json!({"resourceType": "Group", "created": "2000-01-01T00:00:00Z", "version": "W/\"99\""});
    user["groups"] = json!([{"value": other, "display": "Other Group"}]);
    user["title"] = json!("After");

    let (status, replaced) = scim.put(&path, &user).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let (_, stored) = scim.get(&path).await;
    assert_eq!(stored["id"], id, "id is the server's");
    assert_eq!(stored["title"], "After");
    assert_eq!(stored["meta"]["created"], created["meta"]["created"], "meta comes from the server");
    assert_eq!(stored["meta"]["resourceType"], "User");
    assert_eq!(stored["meta"]["version"], "W/\"2\"", "{stored}");
    assert_eq!(values_of(&stored, "groups"), sorted(&[&member_of]), "groups are the server's: {stored}");
    let (_, nobody) = scim.get("/Users?filter=id%20eq%20%22someone-else%22").await;
    assert_eq!(nobody["totalResults"], 0, "no user took the client's id");
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_are_accepted_and_never_returned() {
    let scim = Scim::start().await;
    let secret = "t1meMachine-Secret";
    let (status, created) =
        scim.post("/Users", &json!({"schemas": [USER_SCHEMA], "userName": "pw", "password": secret})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!("/Users/{}", id_of(&created));
    let new_secret = "an0ther-Secret!";
    let put = scim.exchange(scim.request(Method::PUT, &path).json(&json!({"userName": "pw", "password": new_secret})));
    let put = put.await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let patch = scim
        .exchange(scim.request(Method::PATCH, &path).json(&patch_op(json!([
            {"op": "replace", "path": "password", "value": "th1rd-Secret"}
        ]))))
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.text);
    let get = scim.get_text(&path).await;
    let listed = scim.get_text("/Users?attributes=password,userName").await;
    for (what, text) in
        [("POST", created.to_string()), ("PUT", put.text), ("PATCH", patch.text), ("GET", get), ("list", listed)]
    {
        assert!(!text.contains("password"), "{what} response names no password: {text}");
        assert!(!text.contains("Secret"), "{what} response holds no password: {text}");
    }
}

// RFC 7644 §3.14: a PUT with an `If-Match` that is not the current version is refused with 412.
#[tokio::test(flavor = "multi_thread")]
async fn put_honours_if_match() {
    let scim = Scim::start().await;
    let id = id_of(&scim.create("versioned", json!({"title": "One"})).await);
    let path = format!("/Users/{id}");
    let (_, v1) = scim.get(&path).await;
    let (status, _) = scim.put(&path, &json!({"userName": "versioned", "title": "Two"})).await;
    assert_eq!(status, StatusCode::OK);
    let before = scim.get_text(&path).await;

    let stale = v1["meta"]["version"].as_str().unwrap();
    let body = json!({"userName": "versioned", "title": "Three"});
    let refused = scim.exchange(scim.request(Method::PUT, &path).header("if-match", stale).json(&body)).await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED, "{}", refused.text);
    assert_eq!(refused.json["status"], "412");
    assert_eq!(scim.get_text(&path).await, before, "a refused PUT changes nothing");

    let current: Value = serde_json::from_str(&before).unwrap();
    let current = current["meta"]["version"].as_str().unwrap();
    let accepted = scim.exchange(scim.request(Method::PUT, &path).header("if-match", current).json(&body)).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert_eq!(accepted.json["title"], "Three");
}

// RFC 7643 §4.1.1: userName is unique case-insensitively (409 `uniqueness`, RFC 7644 §3.12); the design
// makes e-mail addresses unique too, because Okta matches users on e-mail.
#[tokio::test(flavor = "multi_thread")]
async fn put_and_patch_refuse_another_users_user_name_or_email() {
    let scim = Scim::start().await;
    scim.create("alice", json!({"emails": [{"value": "alice@example.com", "type": "work"}]})).await;
    let bob = id_of(&scim.create("bob", json!({"emails": [{"value": "bob@example.com", "type": "work"}]})).await);
    let path = format!("/Users/{bob}");
    let before = scim.get_text(&path).await;

    let attempts: Vec<(&str, Method, Value)> = vec![
        ("PUT userName", Method::PUT, json!({"userName": "ALICE", "emails": [{"value": "bob@example.com"}]})),
        ("PATCH userName", Method::PATCH, patch_op(json!([{"op": "replace", "path": "userName", "value": "Alice"}]))),
        ("PUT emails", Method::PUT, json!({"userName": "bob", "emails": [{"value": "Alice@Example.com"}]})),
        (
            "PATCH emails add",
            Method::PATCH,
            patch_op(
                json!([{"op": "add", "path": "emails", "value": [{"value": "ALICE@example.com", "type": "home"}]}]),
            ),
        ),
        (
            "PATCH work email",
            Method::PATCH,
            patch_op(
                json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "alice@example.com"}]),
            ),
        ),
    ];
    for (what, method, body) in attempts {
        let (status, error) = scim.send(method, &path, &body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{what}: {error}");
        assert_eq!(error["scimType"], "uniqueness", "{what}: {error}");
        assert_eq!(scim.get_text(&path).await, before, "{what}: bob is unchanged");
    }
}

// RFC 7644 §3.9 and §3.4.2.5: `attributes` and `excludedAttributes` apply to GET of one resource and to
// the responses of POST, PUT and PATCH; `id` and `schemas` are `returned: always`.
#[tokio::test(flavor = "multi_thread")]
async fn attributes_and_excluded_attributes_shape_single_reads_and_write_responses() {
    let scim = Scim::start().await;
    let body = json!({"schemas": [USER_SCHEMA], "userName": "shaped", "title": "Shape",
                      "name": {"givenName": "Sha", "familyName": "Ped"},
                      "emails": [{"value": "shaped@example.com", "type": "work"}]});
    let (status, created) = scim.post("/Users?excludedAttributes=emails", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created.get("emails").is_none(), "POST with excludedAttributes=emails: {created}");
    assert_eq!(created["userName"], "shaped", "other attributes stay: {created}");
    assert!(created.get("meta").is_some(), "{created}");
    let id = id_of(&created);

    let (status, only) = scim.get(&format!("/Users/{id}?attributes=userName")).await;
    assert_eq!(status, StatusCode::OK, "{only}");
    assert_eq!(keys(&only), ["id", "schemas", "userName"], "{only}");

    let (_, given) = scim.get(&format!("/Users/{id}?attributes=name.givenName")).await;
    assert_eq!(keys(&given), ["id", "name", "schemas"], "{given}");
    assert_eq!(given["name"], json!({"givenName": "Sha"}), "only the named sub-attribute: {given}");

    let (_, without) = scim.get(&format!("/Users/{id}?excludedAttributes=name,title")).await;
    assert!(without.get("name").is_none() && without.get("title").is_none(), "{without}");
    assert_eq!(without["emails"][0]["value"], "shaped@example.com", "{without}");

    let (status, patched) = scim
        .send(
            Method::PATCH,
            &format!("/Users/{id}?attributes=title"),
            &patch_op(json!([{"op": "replace", "path": "title", "value": "Reshaped"}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched, json!({"schemas": [USER_SCHEMA], "id": id, "title": "Reshaped"}), "PATCH response projected");

    let (status, replaced) = scim.put(&format!("/Users/{id}?excludedAttributes=name,emails,meta"), &body).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(keys(&replaced), ["id", "schemas", "title", "userName"], "PUT response projected: {replaced}");
}

// RFC 7643 §4.1.2: a user's `groups` lists the groups it belongs to, directly or through nested groups
// (`type` "direct" or "indirect"), and is readOnly, maintained by the server from group membership.
#[tokio::test(flavor = "multi_thread")]
async fn user_groups_lists_direct_and_indirect_memberships() {
    let scim = Scim::start().await;
    let user = scim.create_id("member").await;
    let team = scim.create_group("Team", &[&user]).await;
    let department = scim.create_group("Department", &[]).await;
    let (status, _) = scim
        .patch(&format!("/Groups/{department}"), json!([{"op": "add", "path": "members", "value": [{"value": team}]}]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (_, stored) = scim.get(&format!("/Users/{user}")).await;
    let groups = stored["groups"].as_array().unwrap_or_else(|| panic!("groups listed: {stored}"));
    assert_eq!(groups.len(), 2, "{stored}");
    let find = |id: &str| groups.iter().find(|g| g["value"] == id).unwrap_or_else(|| panic!("{id} in {stored}"));
    assert_eq!(find(&team)["type"], "direct", "{stored}");
    assert_eq!(find(&team)["display"], "Team");
    assert!(find(&team)["$ref"].as_str().unwrap().ends_with(&format!("/scim/v2/Groups/{team}")), "{stored}");
    assert_eq!(find(&department)["type"], "indirect", "{stored}");
    assert_eq!(find(&department)["display"], "Department");

    // Direct membership in the outer group too: the user is then a direct member of both.
    let (status, _) = scim
        .patch(&format!("/Groups/{department}"), json!([{"op": "add", "path": "members", "value": [{"value": user}]}]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, stored) = scim.get(&format!("/Users/{user}")).await;
    let types: Vec<&str> = stored["groups"].as_array().unwrap().iter().map(|g| g["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["direct", "direct"], "a direct membership wins over an indirect one: {stored}");

    // Leaving the inner group keeps the direct membership of the outer one.
    let remove = json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]);
    assert_eq!(scim.patch(&format!("/Groups/{team}"), remove).await.0, StatusCode::NO_CONTENT);
    let (_, stored) = scim.get(&format!("/Users/{user}")).await;
    assert_eq!(values_of(&stored, "groups"), sorted(&[&department]), "{stored}");

    let (_, listed) = scim.get(&format!("/Users?filter={}", urlencode(&format!("id eq \"{user}\"")))).await;
    assert_eq!(values_of(&listed["Resources"][0], "groups"), sorted(&[&department]), "lists show groups too: {listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn user_groups_cannot_be_written() {
    let scim = Scim::start().await;
    let user = scim.create_id("readonly").await;
    let joined = scim.create_group("Joined", &[&user]).await;
    let other = scim.create_group("Not Joined", &[]).await;
    let path = format!("/Users/{user}");
    let before = scim.get_text(&path).await;

    let (status, error) =
        scim.patch(&path, json!([{"op": "add", "path": "groups", "value": [{"value": other}]}])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["scimType"], "mutability", "{error}");
    assert_eq!(scim.get_text(&path).await, before, "a refused PATCH changes nothing");

    let (status, replaced) =
        scim.put(&path, &json!({"userName": "readonly", "groups": [{"value": other, "type": "direct"}]})).await;
    assert_eq!(status, StatusCode::OK, "groups in a PUT body are ignored: {replaced}");
    let (_, stored) = scim.get(&path).await;
    assert_eq!(values_of(&stored, "groups"), sorted(&[&joined]), "{stored}");
    let (_, group) = scim.get(&format!("/Groups/{other}")).await;
    assert!(group.get("members").is_none(), "the other group gained no member: {group}");
}

// RFC 7644 §3.14: the ETag of a PATCH response is the new version, and a PATCH with a stale `If-Match`
// is refused with 412 and changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn patch_answers_the_new_etag_and_honours_if_match() {
    let scim = Scim::start().await;
    let created = scim.create("tagged-patch", json!({"title": "One"})).await;
    let path = format!("/Users/{}", id_of(&created));
    let stale = created["meta"]["version"].as_str().unwrap().to_owned();
    let body = patch_op(json!([{"op": "replace", "path": "title", "value": "Two"}]));
    let reply = scim.exchange(scim.request(Method::PATCH, &path).header("if-match", &stale).json(&body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("etag"), reply.json["meta"]["version"].as_str(), "ETag equals meta.version");
    assert_ne!(reply.header("etag"), Some(stale.as_str()), "the version moved");

    let before = scim.get_text(&path).await;
    let again = patch_op(json!([{"op": "replace", "path": "title", "value": "Three"}]));
    let refused = scim.exchange(scim.request(Method::PATCH, &path).header("if-match", &stale).json(&again)).await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED, "{}", refused.text);
    assert_eq!(scim.get_text(&path).await, before, "a refused PATCH changes nothing");
}

// RFC 7643 §4.1.2 and RFC 7644 §3.4.2.5: `groups` is `returned: default`, so it can be asked for or
// excluded like any attribute; it is also readOnly on creation, and follows a group's rename.
#[tokio::test(flavor = "multi_thread")]
async fn user_groups_follow_projection_renames_and_ignore_post_bodies() {
    let scim = Scim::start().await;
    let other = scim.create_group("Claimed", &[]).await;
    let created = scim.create("joiner", json!({"groups": [{"value": other, "type": "direct"}]})).await;
    assert!(created.get("groups").is_none(), "groups in a POST body are ignored: {created}");
    let user = id_of(&created);
    let team = scim.create_group("Team Name", &[&user]).await;

    let (_, only) = scim.get(&format!("/Users/{user}?attributes=groups")).await;
    assert_eq!(keys(&only), ["groups", "id", "schemas"], "{only}");
    assert_eq!(values_of(&only, "groups"), sorted(&[&team]), "{only}");
    let (_, without) = scim.get(&format!("/Users/{user}?excludedAttributes=groups")).await;
    assert!(without.get("groups").is_none(), "{without}");
    let (_, values) = scim.get(&format!("/Users/{user}?attributes=groups.value")).await;
    assert_eq!(values["groups"], json!([{"value": team}]), "{values}");

    let rename = json!([{"op": "replace", "path": "displayName", "value": "Renamed Team"}]);
    assert_eq!(scim.patch(&format!("/Groups/{team}"), rename).await.0, StatusCode::NO_CONTENT);
    let (_, stored) = scim.get(&format!("/Users/{user}")).await;
    assert_eq!(stored["groups"][0]["display"], "Renamed Team", "{stored}");

    let list = scim.get(&format!("/Users?filter={}", urlencode(&format!("groups.value eq \"{team}\"")))).await.1;
    assert_eq!(list["totalResults"], 1, "users can be filtered on their groups: {list}");
    assert_eq!(list["Resources"][0]["id"], user);
}

// Entra's other PATCH shapes: a no-path value object with URN-qualified and dotted keys and a string
// boolean, an `Add` on a value-filtered path when no element matches yet (a new element is made from the
// filter), and removing the manager. RFC 7644 §3.5.2.1 (add without path), §3.5.2.2 (remove).
// https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility
#[tokio::test(flavor = "multi_thread")]
async fn entra_no_path_objects_filtered_adds_and_manager_removal() {
    let scim = Scim::start().await;
    let manager = scim.create_id("boss").await;
    let created = scim
        .create(
            "worker",
            json!({"name": {"givenName": "Wor", "familyName": "Ker"},
                   ENTERPRISE_SCHEMA: {"manager": {"value": manager}, "costCenter": "42"}}),
        )
        .await;
    let path = format!("/Users/{}", id_of(&created));
    let (status, patched) = scim
        .patch(
            &path,
            json!([{"op": "Replace", "value": {
                format!("{ENTERPRISE_SCHEMA}:department"): "Research",
                "name.familyName": "Kerr",
                "active": "False"
            }}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let (_, stored) = scim.get(&path).await;
    assert_eq!(stored[ENTERPRISE_SCHEMA]["department"], "Research", "{stored}");
    assert_eq!(stored[ENTERPRISE_SCHEMA]["costCenter"], "42", "other extension attributes stay: {stored}");
    assert_eq!(stored["name"], json!({"givenName": "Wor", "familyName": "Kerr"}), "{stored}");
    assert_eq!(stored["active"], false, "{stored}");

    let add = json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "worker@contoso.example"}]);
    let (status, patched) = scim.patch(&path, add).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let (_, stored) = scim.get(&path).await;
    assert_eq!(stored["emails"], json!([{"type": "work", "value": "worker@contoso.example"}]), "{stored}");
    let found = scim
        .get(&format!("/Users?filter={}", urlencode("emails[type eq \"work\"].value eq \"worker@contoso.example\"")))
        .await
        .1;
    assert_eq!(found["totalResults"], 1, "Entra's lookup filter finds the new address: {found}");

    let remove = json!([{"op": "Remove", "path": format!("{ENTERPRISE_SCHEMA}:manager")}]);
    let (status, patched) = scim.patch(&path, remove).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let (_, stored) = scim.get(&path).await;
    assert_eq!(stored[ENTERPRISE_SCHEMA], json!({"costCenter": "42", "department": "Research"}), "{stored}");

    let unassign = json!([{"op": "Replace", "path": format!("{ENTERPRISE_SCHEMA}:department"), "value": null}]);
    assert_eq!(scim.patch(&path, unassign).await.0, StatusCode::OK);
    let (_, stored) = scim.get(&path).await;
    assert_eq!(stored[ENTERPRISE_SCHEMA], json!({"costCenter": "42"}), "null unassigns: {stored}");
}

// Uniqueness keys follow the stored user: a userName or address given up by PUT or PATCH is free for
// someone else at once, and one that is kept stays taken.
#[tokio::test(flavor = "multi_thread")]
async fn names_and_addresses_given_up_by_put_or_patch_are_free_again() {
    let scim = Scim::start().await;
    let first = id_of(
        &scim
            .create(
                "first.name",
                json!({"emails": [{"value": "work@example.com", "type": "work"},
                                  {"value": "home@example.com", "type": "home"}]}),
            )
            .await,
    );
    let path = format!("/Users/{first}");
    let (status, body) = scim.patch(&path, json!([{"op": "remove", "path": "emails[type eq \"work\"]"}])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = scim.patch(&path, json!([{"op": "replace", "path": "userName", "value": "renamed"}])).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let taken = json!({"schemas": [USER_SCHEMA], "userName": "other", "emails": [{"value": "HOME@example.com"}]});
    let (status, error) = scim.post("/Users", &taken).await;
    assert_eq!(status, StatusCode::CONFLICT, "the kept address is still taken: {error}");
    scim.create("first.name", json!({"emails": [{"value": "work@example.com"}]})).await;
}

// RFC 7644 §3.10 and §3.4.2.5: projection names may be URN-qualified (an extension attribute, or a whole
// extension by its URN) and are case-insensitive.
#[tokio::test(flavor = "multi_thread")]
async fn projection_names_extension_attributes_by_urn() {
    let scim = Scim::start().await;
    let user = id_of(
        &scim
            .create("extended", json!({"title": "T", ENTERPRISE_SCHEMA: {"department": "Ops", "costCenter": "7"}}))
            .await,
    );
    let path = format!("/Users/{user}");
    let (status, only) = scim.get(&format!("{path}?attributes={ENTERPRISE_SCHEMA}:department")).await;
    assert_eq!(status, StatusCode::OK, "{only}");
    assert_eq!(keys(&only), ["id", "schemas", ENTERPRISE_SCHEMA], "{only}");
    assert_eq!(only[ENTERPRISE_SCHEMA], json!({"department": "Ops"}), "{only}");

    let (_, without) = scim.get(&format!("{path}?excludedAttributes={ENTERPRISE_SCHEMA}")).await;
    assert!(without.get(ENTERPRISE_SCHEMA).is_none(), "{without}");
    assert_eq!(without["title"], "T");

    let (_, upper) = scim.get(&format!("{path}?attributes=USERNAME,Title")).await;
    assert_eq!(keys(&upper), ["id", "schemas", "title", "userName"], "names are case-insensitive: {upper}");
}

// Case-insensitive uniqueness is not ASCII-only: RFC 7643 §2.2 `caseExact: false` compares without regard
// to case, whatever the script.
#[tokio::test(flavor = "multi_thread")]
async fn user_name_uniqueness_folds_non_ascii_case() {
    let scim = Scim::start().await;
    scim.create("Ärger.Öztürk", json!({})).await;
    let (status, error) = scim.post("/Users", &json!({"schemas": [USER_SCHEMA], "userName": "ärger.öztürk"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    let found = scim.get(&format!("/Users?filter={}", urlencode("userName eq \"ÄRGER.ÖZTÜRK\""))).await.1;
    assert_eq!(found["totalResults"], 1, "{found}");
}

/// An identity provider's `userName eq` lookup is answered by a path of its own (one read of the unique
/// index of names); its answers must be the general list path's, byte for byte.
#[tokio::test(flavor = "multi_thread")]
async fn user_name_lookups_answer_as_the_general_list_path_does() {
    let scim = Scim::start().await;
    let priya = id_of(
        &scim
            .create(
                "Priya@corp.example",
                json!({"name": {"givenName": "Priya", "familyName": "Singh"}, "displayName": "Priya Singh",
                       "emails": [{"primary": true, "value": "priya@corp.example", "type": "work"}],
                       "title": "Analyst", "active": true}),
            )
            .await,
    );
    let data_science = scim.create_group("Data Science", &[&priya]).await;
    let research = scim.create_group("Research", &[&data_science]).await;
    scim.create("olaf@corp.example", json!({"active": false})).await;
    let gone = scim.create_id("gone@corp.example").await;
    assert_eq!(scim.delete(&format!("/Users/{gone}")).await, StatusCode::NO_CONTENT);
    let reused = scim.create_id("reused@corp.example").await;
    assert_eq!(scim.delete(&format!("/Users/{reused}")).await, StatusCode::NO_CONTENT);
    scim.create_id("REUSED@corp.example").await;
    scim.create("straße@corp.example", json!({})).await;

    for name in [
        "Priya@corp.example",
        "PRIYA@CORP.EXAMPLE",
        "olaf@corp.example",
        "gone@corp.example",
        "reused@corp.example",
        "STRASSE@corp.example",
        "straße@corp.example",
        "nobody@corp.example",
        "",
    ] {
        let literal = serde_json::to_string(name).unwrap();
        let lookup = format!("userName eq {literal}");
        // The general path: the same filter through /.search, and with a second space, which only
        // the general grammar reads.
        let general_filter = format!("userName  eq {literal}");
        for page in ["&startIndex=1&count=100", ""] {
            let fast = scim.get_text(&format!("/Users?filter={}{page}", urlencode(&lookup))).await;
            let general = scim.get_text(&format!("/Users?filter={}{page}", urlencode(&general_filter))).await;
            assert_eq!(fast, general, "{lookup}{page}");
            let mut search =
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": lookup});
            if !page.is_empty() {
                search["startIndex"] = json!(1);
                search["count"] = json!(100);
            }
            let searched = scim.exchange(scim.request(Method::POST, "/Users/.search").json(&search)).await;
            assert_eq!(searched.status, StatusCode::OK, "{}", searched.text);
            assert_eq!(fast, searched.text, "{lookup}{page} through /.search");
        }
    }
    // What the lookups found, so that the comparisons above compared answers, not two empty pages.
    let (_, found) = scim.get(&format!("/Users?filter={}", urlencode(r#"userName eq "PRIYA@CORP.EXAMPLE""#))).await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], priya.as_str());
    assert_eq!(values_of(&found["Resources"][0], "groups"), sorted(&[&data_science, &research]), "direct and indirect");
    let (_, found) = scim.get(&format!("/Users?filter={}", urlencode(r#"userName eq "reused@corp.example""#))).await;
    assert_eq!(found["totalResults"], 1, "the live user, not the tombstone of the same name");
    assert_ne!(found["Resources"][0]["id"], reused.as_str());
}
