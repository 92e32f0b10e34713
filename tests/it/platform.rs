//! The platform API (`/api/v1/`) over HTTP through the in-process server, together with SCIM: the
//! lifecycle of access as an identity provider drives it (group membership, deactivation by PATCH and by
//! PUT, reactivation, user and group deletion), the Share dialog's list, extend ownership, who may call
//! what, and the JSON errors.

use crate::support::actor;
use reqwest::{Method, StatusCode};
use scimbox::credentials::Scope;
use serde_json::{Value, json};

use crate::admin::{AdminServer, Session, eventually, scim_group, scim_user};

const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A server with an admin session, a SCIM token (the IdP) and a platform token (another service).
struct Platform {
    server: AdminServer,
    session: Session,
    scim: String,
    platform: String,
}

impl Platform {
    async fn start() -> Platform {
        let server = AdminServer::start().await;
        let session = server.set_up("root").await;
        let scim = server.store.create_token(&actor(), "okta", Scope::Scim, None).await.unwrap().1.text();
        let platform = server.store.create_token(&actor(), "capsules", Scope::Platform, None).await.unwrap().1.text();
        Platform { server, session, scim, platform }
    }

    async fn exchange(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    /// A platform API request with the platform token.
    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.server.client.request(method, self.server.url(&format!("/api/v1/{path}")));
        request = request.bearer_auth(&self.platform);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Platform::exchange(request).await
    }

    /// A platform API request from the admin page: session cookie and CSRF header.
    async fn as_admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .server
            .client
            .request(method, self.server.url(&format!("/api/v1/{path}")))
            .header("cookie", format!("scimbox_session={}", self.session.cookie))
            .header("x-csrf-token", &self.session.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Platform::exchange(request).await
    }

    async fn scim(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.server.scim(method, path, &self.scim);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Platform::exchange(request).await
    }

    async fn user(&self, name: &str) -> String {
        scim_user(&self.server, &self.scim, name, "Test", true).await
    }

    async fn group(&self, name: &str, members: &[&str]) -> String {
        scim_group(&self.server, &self.scim, name, members).await
    }

    async fn asset(&self, kind: &str, name: &str, owner: &str) -> String {
        let (status, body) =
            self.api(Method::POST, "assets", Some(json!({"kind": kind, "name": name, "owner": owner}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn share(&self, asset: &str, rows: Value) -> (StatusCode, Value) {
        self.api(Method::PUT, &format!("assets/{asset}/permissions"), Some(json!({ "permissions": rows }))).await
    }

    /// The ids and levels of what a user can reach.
    async fn reach(&self, user: &str) -> Vec<(String, String)> {
        let (status, body) = self.api(Method::GET, &format!("users/{user}/assets"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["id"].as_str().unwrap().to_owned(), a["access"]["level"].as_str().unwrap().to_owned()))
            .collect()
    }

    async fn decision(&self, user: &str, asset: &str) -> Value {
        let (status, body) = self.api(Method::GET, &format!("access?user={user}&asset={asset}"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn set_active(&self, user: &str, active: bool) {
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "value": {"active": active}}]});
        let (status, reply) = self.scim(Method::PATCH, &format!("Users/{user}"), Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
    }
}

fn membership(op: &str, user: &str) -> Value {
    let operation = match op {
        "add" => json!({"op": "add", "path": "members", "value": [{"value": user}]}),
        _ => json!({"op": "remove", "path": format!("members[value eq \"{user}\"]")}),
    };
    json!({"schemas": [PATCH_SCHEMA], "Operations": [operation]})
}

#[tokio::test(flavor = "multi_thread")]
async fn group_membership_over_scim_grants_and_removes_access_on_the_next_request() {
    let p = Platform::start().await;
    let owner = p.user("owner@example.com").await;
    let member = p.user("member@example.com").await;
    let late = p.user("late@example.com").await;
    let team = p.group("Data Science", &[&member]).await;
    let capsule = p.asset("capsule", "Churn model", &owner).await;
    assert!(p.reach(&member).await.is_empty());

    let (status, saved) = p.share(&capsule, json!([{"type": "group", "id": team, "level": "Editor"}])).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["permissions"][0]["displayName"], "Data Science");
    assert_eq!(saved["permissions"][0]["level"], "editor");
    assert_eq!(saved["levels"], json!(["viewer", "editor", "owner"]));

    let (status, list) = p.api(Method::GET, &format!("users/{member}/assets"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["assets"][0]["id"], capsule.as_str());
    assert_eq!(
        list["assets"][0]["access"],
        json!({"level": "editor", "via": [
            {"type": "group", "id": team, "displayName": "Data Science", "nested": false}
        ]})
    );
    let decision = p.decision(&member, &capsule).await;
    assert_eq!((decision["allowed"].clone(), decision["level"].clone()), (json!(true), json!("editor")));

    // Okta adds someone to the group: they see its assets on their very next request.
    let (status, _) = p.scim(Method::PATCH, &format!("Groups/{team}"), Some(membership("add", &late))).await;
    assert!(status.is_success());
    assert_eq!(p.reach(&late).await, [(capsule.clone(), "editor".to_owned())]);

    // Okta removes the member: the capsule is gone from their list at once.
    let (status, _) = p.scim(Method::PATCH, &format!("Groups/{team}"), Some(membership("remove", &member))).await;
    assert!(status.is_success());
    assert!(p.reach(&member).await.is_empty());
    let decision = p.decision(&member, &capsule).await;
    assert_eq!(decision["allowed"], false);
    assert_eq!(decision["reason"], "nothing grants this user access to this asset");

    // A full PUT of the group's members works the same way.
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Data Science",
                     "members": [{"value": member}]});
    let (status, _) = p.scim(Method::PUT, &format!("Groups/{team}"), Some(put)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p.reach(&member).await.len(), 1);
    assert!(p.reach(&late).await.is_empty());

    // The group's own view lists what is shared with it.
    let (status, shared) = p.api(Method::GET, &format!("groups/{team}/assets"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((shared["totalResults"].clone(), shared["assets"][0]["level"].clone()), (json!(1), json!("editor")));
}

#[tokio::test(flavor = "multi_thread")]
async fn deactivation_by_patch_or_put_removes_all_access_at_once_and_reactivation_restores_it() {
    let p = Platform::start().await;
    let leaver = p.user("leaver@example.com").await;
    let other = p.user("other@example.com").await;
    let team = p.group("Analysts", &[&leaver]).await;
    let owned = p.asset("pipeline", "Nightly load", &leaver).await;
    let shared = p.asset("dataAsset", "customers", &other).await;
    p.share(&shared, json!([{"type": "group", "id": team, "level": "viewer"}])).await;
    assert_eq!(p.reach(&leaver).await.len(), 2);

    // Okta's catalog apps: PATCH replace active=false.
    p.set_active(&leaver, false).await;
    assert!(p.reach(&leaver).await.is_empty(), "every access goes at once");
    for asset in [&owned, &shared] {
        let decision = p.decision(&leaver, asset).await;
        assert_eq!(decision["allowed"], false);
        assert_eq!(decision["user"]["status"], "deactivated");
        assert_eq!(decision["reason"], "the user is deactivated: a deactivated user has no access");
    }
    let (_, mine) = p.api(Method::GET, &format!("assets?owner={leaver}"), None).await;
    assert_eq!(mine["totalResults"], 1, "the ownership record stays");
    assert_eq!(mine["assets"][0]["owner"]["status"], "deactivated");

    p.set_active(&leaver, true).await;
    let mut reach = p.reach(&leaver).await;
    reach.sort();
    let mut expected = vec![(owned.clone(), "owner".to_owned()), (shared.clone(), "viewer".to_owned())];
    expected.sort();
    assert_eq!(reach, expected, "reactivation restores exactly what they had");

    // Custom apps: GET the user, then PUT it back with active=false.
    let (_, mut body) = p.scim(Method::GET, &format!("Users/{leaver}"), None).await;
    body["active"] = json!(false);
    let (status, _) = p.scim(Method::PUT, &format!("Users/{leaver}"), Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(p.reach(&leaver).await.is_empty());
    body["active"] = json!(true);
    p.scim(Method::PUT, &format!("Users/{leaver}"), Some(body)).await;
    assert_eq!(p.reach(&leaver).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scim_delete_never_deletes_an_asset_and_an_admin_can_extend_ownership() {
    let p = Platform::start().await;
    let leaver = p.user("leaver@example.com").await;
    let heir = p.user("heir@example.com").await;
    let team = p.group("Platform team", &[&heir]).await;
    let capsule = p.asset("capsule", "Forecast", &leaver).await;
    let data = p.asset("data", "events", &leaver).await;

    let (status, _) = p.scim(Method::DELETE, &format!("Users/{leaver}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(p.scim(Method::GET, &format!("Users/{leaver}"), None).await.0, StatusCode::NOT_FOUND);

    let (status, asset) = p.api(Method::GET, &format!("assets/{capsule}"), None).await;
    assert_eq!(status, StatusCode::OK, "the asset survives its owner");
    assert_eq!(asset["owner"]["id"], leaver.as_str());
    assert_eq!(asset["owner"]["status"], "deleted");
    assert_eq!(asset["owner"]["display"], "deleted user");
    assert_eq!(asset["owner"]["userName"], "leaver@example.com", "admins can still tell who it was");
    let (_, permissions) = p.api(Method::GET, &format!("assets/{capsule}/permissions"), None).await;
    assert_eq!(permissions["ownerReachable"], false, "only an admin can act on it now");
    let decision = p.decision(&leaver, &capsule).await;
    assert_eq!(decision["reason"], "the user is deleted: a deleted user has no access");
    let (status, user) = p.api(Method::GET, &format!("users/{leaver}"), None).await;
    assert_eq!((status, user["status"].clone()), (StatusCode::OK, json!("deleted")));

    // Extending ownership is an admin's decision: a service's token cannot do it.
    let body = json!({"to": {"type": "group", "id": team}});
    let path = format!("users/{leaver}/extend-ownership");
    let (status, refused) = p.api(Method::POST, &path, Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("admin"));
    let (status, outcome) = p.as_admin(Method::POST, &path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!((outcome["assets"].clone(), outcome["extended"].clone()), (json!(2), json!(2)));

    let mut reach = p.reach(&heir).await;
    reach.sort();
    let mut expected = vec![(capsule.clone(), "owner".to_owned()), (data.clone(), "owner".to_owned())];
    expected.sort();
    assert_eq!(reach, expected);
    let (_, permissions) = p.api(Method::GET, &format!("assets/{capsule}/permissions"), None).await;
    assert_eq!(permissions["ownerReachable"], true);

    // Or re-own it outright; a tombstone cannot become an owner again.
    let (status, reowned) = p.api(Method::PATCH, &format!("assets/{capsule}"), Some(json!({"owner": heir}))).await;
    assert_eq!((status, reowned["owner"]["id"].clone()), (StatusCode::OK, json!(heir)));
    let (status, refused) = p.api(Method::PATCH, &format!("assets/{capsule}"), Some(json!({"owner": leaver}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_group_over_scim_removes_only_its_grants() {
    let p = Platform::start().await;
    let owner = p.user("owner@example.com").await;
    let member = p.user("member@example.com").await;
    let team = p.group("Team", &[&member]).await;
    let capsule = p.asset("capsule", "Forecast", &owner).await;
    p.share(
        &capsule,
        json!([
            {"type": "group", "id": team, "level": "owner"},
            {"type": "user", "id": member, "level": "viewer"},
        ]),
    )
    .await;
    assert_eq!(p.reach(&member).await, [(capsule.clone(), "owner".to_owned())]);
    assert_eq!(p.scim(Method::DELETE, &format!("Groups/{team}"), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(p.reach(&member).await, [(capsule.clone(), "viewer".to_owned())]);
    let (_, permissions) = p.api(Method::GET, &format!("assets/{capsule}/permissions"), None).await;
    assert_eq!(permissions["permissions"].as_array().unwrap().len(), 1);
    assert_eq!(p.api(Method::GET, &format!("assets/{capsule}"), None).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn platform_tokens_and_admin_sessions_are_let_in_and_scim_tokens_are_not() {
    let p = Platform::start().await;
    let url = p.server.url("/api/v1/assets");
    let client = &p.server.client;

    let none = client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(none.headers()["content-type"], "application/json");
    assert!(none.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("platform token"));

    let scim = client.get(&url).bearer_auth(&p.scim).send().await.unwrap();
    assert_eq!(scim.status(), StatusCode::FORBIDDEN);
    assert!(scim.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("scope 'scim'"));
    // The same id with another last digit of the secret (never the same digit: that would be the token).
    let last = if p.platform.ends_with('0') { '1' } else { '0' };
    let wrong = client.get(&url).bearer_auth(format!("{}{last}", &p.platform[..p.platform.len() - 1])).send().await;
    assert_eq!(wrong.unwrap().status(), StatusCode::UNAUTHORIZED);

    assert_eq!(p.api(Method::GET, "assets", None).await.0, StatusCode::OK);
    assert_eq!(p.as_admin(Method::GET, "assets", None).await.0, StatusCode::OK);
    let owner = p.user("owner@example.com").await;
    let body = json!({"kind": "capsule", "name": "From the page", "owner": owner});
    assert_eq!(p.as_admin(Method::POST, "assets", Some(body.clone())).await.0, StatusCode::CREATED);
    let no_csrf = client
        .post(&url)
        .header("cookie", format!("scimbox_session={}", p.session.cookie))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN, "a change from the page needs its CSRF header");
}

#[tokio::test(flavor = "multi_thread")]
async fn assets_are_created_renamed_listed_and_deleted_and_errors_are_clear_json() {
    let p = Platform::start().await;
    let owner = p.user("Owner@Example.com").await;
    let created = p
        .server
        .client
        .post(p.server.url("/api/v1/assets"))
        .bearer_auth(&p.platform)
        .json(&json!({"kind": "capsule", "name": "  Churn model ", "owner": owner}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = created.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/assets/{id}"));
    assert_eq!((body["name"].clone(), body["kind"].clone()), (json!("Churn model"), json!("capsule")));
    let data = p.asset("dataAsset", "events", &owner).await;
    p.asset("pipeline", "Nightly churn", &owner).await;

    let (status, renamed) = p.api(Method::PATCH, &format!("assets/{id}"), Some(json!({"name": "Churn v2"}))).await;
    assert_eq!((status, renamed["name"].clone()), (StatusCode::OK, json!("Churn v2")));
    let (_, list) = p.api(Method::GET, "assets?q=churn&count=1", None).await;
    assert_eq!((list["totalResults"].clone(), list["count"].clone()), (json!(2), json!(1)));
    let (_, list) = p.api(Method::GET, "assets?kind=data", None).await;
    assert_eq!(list["assets"][0]["id"], data.as_str());

    let (_, found) = p.api(Method::GET, "users?userName=owner%40example.com", None).await;
    assert_eq!(found["id"], owner.as_str());
    let (_, found) = p.api(Method::GET, "users?email=OWNER%40example.com", None).await;
    assert_eq!(found["id"], owner.as_str());
    let decision = p.api(Method::GET, &format!("access?userName=owner@example.com&asset={id}"), None).await.1;
    assert_eq!(decision["level"], "owner");
    assert_eq!(decision["via"], json!([{"type": "owner"}]));

    let errors: Vec<(Method, String, Option<Value>, StatusCode, &str)> = vec![
        (
            Method::PUT,
            format!("assets/{data}/permissions"),
            Some(json!({"permissions": [{"type": "user", "id": owner, "level": "editor"}]})),
            StatusCode::BAD_REQUEST,
            "a data asset has no editor level; its levels are viewer and owner",
        ),
        (
            Method::PUT,
            format!("assets/{id}/permissions"),
            Some(json!({"permissions": [{"type": "user", "id": owner, "level": "admin"}]})),
            StatusCode::BAD_REQUEST,
            "unknown permission level \"admin\"",
        ),
        (
            Method::PUT,
            format!("assets/{id}/permissions"),
            Some(json!({"permissions": [{"type": "team", "id": owner, "level": "viewer"}]})),
            StatusCode::BAD_REQUEST,
            "unknown principal type \"team\"",
        ),
        (
            Method::PUT,
            format!("assets/{id}/permissions"),
            Some(json!({"permissions": [{"type": "group", "id": "nope", "level": "viewer"}]})),
            StatusCode::BAD_REQUEST,
            "these users or groups do not exist: group \"nope\"",
        ),
        (
            Method::POST,
            "assets".into(),
            Some(json!({"kind": "notebook", "name": "x", "owner": owner})),
            StatusCode::BAD_REQUEST,
            "unknown asset kind \"notebook\"",
        ),
        (
            Method::POST,
            "assets".into(),
            Some(json!({"kind": "capsule", "name": "x", "owner": "nobody"})),
            StatusCode::BAD_REQUEST,
            "do not exist: user \"nobody\"",
        ),
        (Method::PATCH, format!("assets/{id}"), Some(json!({})), StatusCode::BAD_REQUEST, "send a new \"name\""),
        (Method::GET, "assets/nope".into(), None, StatusCode::NOT_FOUND, "asset \"nope\" was not found"),
        (Method::GET, "assets/nope/permissions".into(), None, StatusCode::NOT_FOUND, "asset \"nope\""),
        (Method::GET, "users/nope/assets".into(), None, StatusCode::NOT_FOUND, "user \"nope\" was not found"),
        (Method::GET, "groups/nope/assets".into(), None, StatusCode::NOT_FOUND, "group \"nope\""),
        (Method::GET, format!("access?user=nope&asset={id}"), None, StatusCode::NOT_FOUND, "user \"nope\""),
        (Method::GET, format!("access?user={owner}"), None, StatusCode::BAD_REQUEST, "name the asset"),
        (Method::GET, "users?userName=nobody".into(), None, StatusCode::NOT_FOUND, "userName \"nobody\""),
        (Method::GET, "assets?kind=x".into(), None, StatusCode::BAD_REQUEST, "unknown asset kind"),
        (Method::GET, "assets?count=0".into(), None, StatusCode::BAD_REQUEST, "count must be"),
        (Method::GET, "assets?owner=nope".into(), None, StatusCode::NOT_FOUND, "user \"nope\""),
        (Method::POST, format!("assets/{id}"), None, StatusCode::METHOD_NOT_ALLOWED, "POST is not allowed"),
        (Method::GET, "things".into(), None, StatusCode::NOT_FOUND, "there is no platform API /api/v1/things"),
    ];
    for (method, path, body, status, message) in errors {
        let (got, answer) = p.api(method.clone(), &path, body).await;
        assert_eq!(got, status, "{method} {path}: {answer}");
        let error = answer["error"].as_str().unwrap_or_else(|| panic!("{method} {path}: no error in {answer}"));
        assert!(error.contains(message), "{method} {path}: {error:?} should say {message:?}");
    }
    let (status, _) = p.api(Method::GET, &format!("assets/{data}/permissions"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(p.api(Method::DELETE, &format!("assets/{id}"), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(p.api(Method::DELETE, &format!("assets/{id}"), None).await.0, StatusCode::NOT_FOUND);
}

/// The end of the seed, in a real browser: a group pushed over SCIM appears in the Share dialog's
/// Set Permissions dropdown, Editor is granted to it, its member reaches the capsule through it, and
/// once SCIM takes the member out of the group the capsule is gone from their list. Screenshots go to
/// `target/screenshots/sharing-*.png`.
#[tokio::test(flavor = "multi_thread")]
async fn sharing_a_capsule_with_a_pushed_group_in_the_page() {
    use crate::browser::{browser, click, screenshot, start_driver, type_into, wait_for, wait_for_path, wait_for_text};
    use fantoccini::Locator;

    let p = Platform::start().await;
    let owner = p.user("olivia@example.com").await;
    let member = p.user("max@example.com").await;
    let team = p.group("Data Science", &[&member]).await;
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;

    client.goto(&p.server.url("/login")).await.unwrap();
    type_into(&client, "#login-username", "root").await;
    type_into(&client, "#login-password", crate::admin::PASSWORD).await;
    click(&client, "form button[type=submit]").await;
    wait_for_path(&client, "/integrations").await;

    // Create the capsule in the page: name it and pick its owner with the search-as-you-type field.
    click(&client, "a[data-nav=assets]").await;
    wait_for_text(&client, "No assets yet").await;
    click(&client, "#new-asset").await;
    type_into(&client, "#asset-new-name", "Churn model").await;
    type_into(&client, "#asset-owner-search", "oli").await;
    click(&client, "#asset-owner-search-options [role=option][data-type=user]").await;
    wait_for_text(&client, "Owner: Test Example").await;
    screenshot(&client, "sharing-01-new-capsule").await;
    click(&client, "dialog button[type=submit]").await;
    wait_for(&client, "#share-button").await;
    let capsule = client.current_url().await.unwrap().path().rsplit('/').next().unwrap().to_owned();
    wait_for_text(&client, "Not shared").await;

    // Share → Set Permissions: the pushed group is in the dropdown, marked as a group.
    click(&client, "#share-button").await;
    wait_for_text(&client, "Set Permissions").await;
    type_into(&client, "#share-search", "Data").await;
    let option = wait_for(&client, &format!("#share-search-options [role=option][data-id=\"{team}\"]")).await;
    assert_eq!(option.attr("data-type").await.unwrap().as_deref(), Some("group"));
    let text = option.text().await.unwrap();
    assert!(text.contains("Data Science") && text.contains("Group"), "{text}");
    screenshot(&client, "sharing-02-set-permissions-dropdown").await;
    option.click().await.unwrap();
    let level = wait_for(&client, &format!("select.level-select[data-principal=\"{team}\"]")).await;
    assert_eq!(level.prop("value").await.unwrap().as_deref(), Some("viewer"), "a new row starts as Viewer");
    level.select_by_value("editor").await.unwrap();
    screenshot(&client, "sharing-03-editor").await;
    click(&client, "#share-save").await;
    eventually("the dialog to close", || async {
        client.find_all(Locator::Css("dialog")).await.ok()?.is_empty().then_some(())
    })
    .await;
    wait_for(&client, &format!("tr[data-principal=\"{team}\"]")).await;
    wait_for_text(&client, "Editor").await;
    screenshot(&client, "sharing-04-shared").await;

    // One Escape closes one thing: the suggestion list first, then the dialog.
    click(&client, "#share-button").await;
    type_into(&client, "#share-search", "Data").await;
    wait_for(&client, &format!("#share-search-options [role=option][data-id=\"{team}\"]")).await;
    // Focus that leaves the field and comes straight back (the picker moves it to a new row's level)
    // keeps the list open: the close its blur scheduled is cancelled, so the Escape below still finds
    // the list to close rather than closing the dialog.
    client
        .execute(
            "document.getElementById('share-save').focus(); document.getElementById('share-search').focus()",
            vec![],
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let search = client.find(Locator::Css("#share-search")).await.unwrap();
    let expanded = search.attr("aria-expanded").await.unwrap();
    assert_eq!(expanded.as_deref(), Some("true"), "a blur's close outlived the focus that came back");
    search.send_keys("\u{E00C}").await.unwrap();
    eventually("the list to close", || async {
        let hidden = client.find(Locator::Css("#share-search-options")).await.ok()?.attr("hidden").await.ok()?;
        hidden.is_some().then_some(())
    })
    .await;
    assert_eq!(client.find_all(Locator::Css("dialog[open]")).await.unwrap().len(), 1, "the dialog stays open");
    search.send_keys("\u{E00C}").await.unwrap();
    eventually("the second Escape to close the dialog", || async {
        client.find_all(Locator::Css("dialog")).await.ok()?.is_empty().then_some(())
    })
    .await;

    // The platform API: the member reaches the capsule as Editor, through the group.
    let (_, list) = p.api(Method::GET, &format!("users/{member}/assets"), None).await;
    assert_eq!(list["assets"][0]["id"], capsule.as_str());
    assert_eq!(list["assets"][0]["access"]["level"], "editor");
    assert_eq!(list["assets"][0]["access"]["via"][0]["displayName"], "Data Science");

    // The member's page shows it with the reason; the group's page shows what is shared with it.
    client.goto(&p.server.url(&format!("/users/{member}"))).await.unwrap();
    wait_for(&client, &format!("tr[data-asset=\"{capsule}\"]")).await;
    wait_for_text(&client, "through group Data Science").await;
    client.execute("document.getElementById('assets-title').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&client, "sharing-05-member").await;
    client.goto(&p.server.url(&format!("/groups/{team}"))).await.unwrap();
    wait_for_text(&client, "Shared assets").await;
    wait_for_text(&client, "Churn model").await;
    client.execute("document.getElementById('shared-assets-title').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&client, "sharing-06-group").await;

    // SCIM takes the member out of the group: the capsule is gone from their list at once.
    let (status, _) = p.scim(Method::PATCH, &format!("Groups/{team}"), Some(membership("remove", &member))).await;
    assert!(status.is_success());
    let (_, list) = p.api(Method::GET, &format!("users/{member}/assets"), None).await;
    assert_eq!(list["totalResults"], 0, "{list}");
    client.goto(&p.server.url(&format!("/users/{member}"))).await.unwrap();
    wait_for_text(&client, "No access").await;
    client.execute("document.getElementById('assets-title').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&client, "sharing-07-member-removed").await;

    // The owner leaves (SCIM DELETE): the capsule stays, shown with a deleted owner; an admin extends
    // its ownership to the group from the asset's page.
    assert_eq!(p.scim(Method::DELETE, &format!("Users/{owner}"), None).await.0, StatusCode::NO_CONTENT);
    client.goto(&p.server.url(&format!("/assets/{capsule}"))).await.unwrap();
    wait_for_text(&client, "deleted user").await;
    wait_for_text(&client, "No active user can act as this asset’s owner").await;
    click(&client, "#extend-owner").await;
    type_into(&client, "#extend-search", "Data").await;
    click(&client, &format!("#extend-search-options [role=option][data-id=\"{team}\"]")).await;
    screenshot(&client, "sharing-08-extend-ownership").await;
    click(&client, "#extend-confirm").await;
    eventually("the dialog to close", || async {
        client.find_all(Locator::Css("dialog")).await.ok()?.is_empty().then_some(())
    })
    .await;
    wait_for_text(&client, "Owner").await;
    // The group holds Owner now, but nobody active is in it: the warning stays until someone is.
    let (_, permissions) = p.api(Method::GET, &format!("assets/{capsule}/permissions"), None).await;
    assert_eq!(permissions["ownerReachable"], false);
    let (status, _) = p.scim(Method::PATCH, &format!("Groups/{team}"), Some(membership("add", &member))).await;
    assert!(status.is_success());
    client.refresh().await.unwrap();
    wait_for(&client, "#share-button").await;
    eventually("the owner warning to go", || async {
        let body = client.find(Locator::Css("main")).await.ok()?.text().await.ok()?;
        (body.contains("deleted user") && !body.contains("No active user can act")).then_some(())
    })
    .await;
    let (_, permissions) = p.api(Method::GET, &format!("assets/{capsule}/permissions"), None).await;
    assert_eq!(permissions["permissions"][0]["level"], "owner");
    screenshot(&client, "sharing-09-extended").await;
    client.close().await.unwrap();
}
