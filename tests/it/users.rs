//! SCIM /Users over HTTP: Okta's and Entra's flows, lists, filters, pagination, ETags and deletion.

use reqwest::StatusCode;
use scimbox::credentials::Scope;
use serde_json::{Value, json};

use crate::support::TestServer;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// A server with a SCIM token, and shorthands for the requests the tests make.
struct Scim {
    server: TestServer,
    token: String,
}

impl Scim {
    async fn start() -> Scim {
        let server = TestServer::start().await;
        let token = server.token(Scope::Scim).await;
        Scim { server, token }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(&format!("/scim/v2{path}"))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.server.client.get(self.url(path)).bearer_auth(&self.token).send().await.unwrap();
        read(response).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .server
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    async fn create(&self, user_name: &str, extra: Value) -> Value {
        let mut body = json!({"schemas": [USER_SCHEMA], "userName": user_name});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        let (status, created) = self.post("/Users", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created
    }
}

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

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
