//! The admin API (`/admin/api/`) over HTTP through the in-process server: setup with the one-time link,
//! sessions (cookie attributes, expiry, idle timeout), CSRF on every change, sign-in throttling, tokens,
//! the directory views, activity recording, admin accounts, and the page's security headers.

use crate::support::actor;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use scimbox::config::Config;
use scimbox::store::Store;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::support::{self, client};

pub const PASSWORD: &str = "correct horse battery";

/// A server started in-process with its setup link, for admin API and browser tests.
pub struct AdminServer {
    pub base: String,
    pub store: Store,
    pub client: reqwest::Client,
    pub setup_code: String,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A signed-in admin: the session cookie and the CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl AdminServer {
    pub async fn start() -> AdminServer {
        AdminServer::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> AdminServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::with_data_dir(dir.path());
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let server = scimbox::Server::start(config, listener).await.expect("server starts");
        // Requests go to the listener itself, whatever public URL the configuration names.
        let base = format!("http://{}", server.local_addr());
        let link = server.setup_link().await.expect("setup link").expect("no admin yet: a link");
        let setup_code = link.split_once("#code=").expect("the code is in the fragment").1.to_owned();
        assert!(link.starts_with(&format!("{}/setup#code=", server.base_url())), "{link}");
        let store = server.store().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        AdminServer { base, store, client: client(), setup_code, dir, stop: Some(stop) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request to the admin API, with the session's cookie and (for changes) its CSRF token.
    pub fn api(&self, method: Method, path: &str, session: Option<&Session>) -> reqwest::RequestBuilder {
        let changes = method != Method::GET;
        let mut request = self.client.request(method, self.url(&format!("/admin/api/{path}")));
        if let Some(session) = session {
            request = request.header("cookie", format!("scimbox_session={}", session.cookie));
            if changes {
                request = request.header("x-csrf-token", &session.csrf);
            }
        }
        request
    }

    /// Creates the first admin through the setup API and returns its session.
    pub async fn set_up(&self, username: &str) -> Session {
        let response = self
            .api(Method::POST, "setup", None)
            .json(&json!({"code": self.setup_code, "username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        session_of(response).await
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> reqwest::Response {
        self.api(Method::POST, "login", None)
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// A SCIM token made through the page's API.
    pub async fn token(&self, session: &Session, name: &str) -> (String, String) {
        let response =
            self.api(Method::POST, "tokens", Some(session)).json(&json!({"name": name})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        (body["token"]["id"].as_str().unwrap().to_owned(), body["secret"].as_str().unwrap().to_owned())
    }

    pub fn scim(&self, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(&format!("/scim/v2/{path}"))).bearer_auth(token)
    }
}

/// The session a setup or sign-in answer started: the cookie's value and the body's CSRF token.
pub async fn session_of(response: reqwest::Response) -> Session {
    let set_cookie = set_cookie(&response).expect("a session cookie");
    let cookie = set_cookie.split(';').next().unwrap().strip_prefix("scimbox_session=").unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    Session { cookie, csrf: body["csrfToken"].as_str().expect("a CSRF token").to_owned() }
}

fn set_cookie(response: &reqwest::Response) -> Option<String> {
    response.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned())
}

/// Reads a JSON error answer and checks its shape.
async fn error(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status, "{}", response.url());
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap_or_else(|| panic!("no error sentence in {body}")).to_owned()
}

/// Polls `check` until it returns `Some`, for at most ten seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_setup_link_creates_the_first_admin_once() {
    let server = AdminServer::start().await;
    let page = server.client.get(server.url("/setup")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("/app.js"));
    let state = server.api(Method::GET, "setup", None).send().await.unwrap();
    assert_eq!(state.status(), StatusCode::OK);

    let attempt = |code: String, username: &'static str, password: &'static str| {
        server
            .api(Method::POST, "setup", None)
            .json(&json!({"code": code, "username": username, "password": password}))
            .send()
    };
    let wrong = error(attempt("0".repeat(32), "root", PASSWORD).await.unwrap(), StatusCode::FORBIDDEN).await;
    assert!(wrong.contains("setup link"), "{wrong}");
    let short =
        error(attempt(server.setup_code.clone(), "root", "short").await.unwrap(), StatusCode::BAD_REQUEST).await;
    assert!(short.contains("12 characters"), "{short}");
    let blank = error(attempt(server.setup_code.clone(), " ", PASSWORD).await.unwrap(), StatusCode::BAD_REQUEST).await;
    assert!(blank.contains("user name"), "{blank}");
    let not_json = server.api(Method::POST, "setup", None).body("code=x").send().await.unwrap();
    error(not_json, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let created = attempt(server.setup_code.clone(), "root", PASSWORD).await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let cookie = set_cookie(&created).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure attribute");
    assert_eq!(created.headers()["cache-control"], "no-store");
    let session = session_of(created).await;

    let me: Value = server.api(Method::GET, "me", Some(&session)).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["admin"]["username"], "root");
    assert_eq!(me["csrfToken"], session.csrf.as_str());

    // From now on the setup page and its API are gone, whatever code is presented.
    assert_eq!(server.client.get(server.url("/setup")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    error(server.api(Method::GET, "setup", None).send().await.unwrap(), StatusCode::NOT_FOUND).await;
    error(attempt(server.setup_code.clone(), "second", PASSWORD).await.unwrap(), StatusCode::NOT_FOUND).await;
    assert_eq!(server.store.admin_count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_secure_flag_follows_an_https_public_url() {
    let server = AdminServer::start_with(|config| {
        config.public_url = Some(scimbox::config::PublicUrl::parse("https://scim.example.com").unwrap());
    })
    .await;
    let created = server
        .api(Method::POST, "setup", None)
        .json(&json!({"code": server.setup_code, "username": "root", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(set_cookie(&created).unwrap().contains("; Secure"));
}

/// Every admin API route but setup and sign-in, with a body that would be valid.
fn protected_routes() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "me", None),
        (Method::POST, "logout", None),
        (Method::POST, "password", Some(json!({"currentPassword": PASSWORD, "newPassword": "another long password"}))),
        (Method::GET, "integration", None),
        (Method::GET, "tokens", None),
        (Method::POST, "tokens", Some(json!({"name": "okta"}))),
        (Method::DELETE, "tokens/0123456789abcdef", None),
        (Method::GET, "users", None),
        (Method::GET, "users/00000000-0000-0000-0000-000000000000", None),
        (Method::GET, "groups", None),
        (Method::GET, "groups/00000000-0000-0000-0000-000000000000", None),
        (Method::GET, "activity", None),
        (Method::GET, "admins", None),
        (Method::POST, "admins", Some(json!({"username": "second", "password": PASSWORD}))),
        (Method::DELETE, "admins/00000000-0000-0000-0000-000000000000", None),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_admin_route_needs_a_session() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let bogus = Session { cookie: "ab".repeat(32), csrf: session.csrf.clone() };
    let malformed = Session { cookie: "not-a-session".into(), csrf: session.csrf.clone() };
    for (method, path, body) in protected_routes() {
        for who in [None, Some(&bogus), Some(&malformed)] {
            let mut request = server.api(method.clone(), path, who);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let answer = request.send().await.unwrap();
            if path == "logout" {
                // Signing out without a session has nothing to end: it only clears the cookie.
                assert_eq!(answer.status(), StatusCode::NO_CONTENT, "{who:?}");
                assert!(set_cookie(&answer).unwrap().contains("Max-Age=0"));
                continue;
            }
            let message = error(answer, StatusCode::UNAUTHORIZED).await;
            assert!(message.contains("sign in"), "{method} {path}: {message}");
        }
    }
    // Nothing changed on the way.
    assert!(server.store.list_tokens().await.unwrap().is_empty());
    assert_eq!(server.store.admin_count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_change_needs_the_csrf_token() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let wrong = Session { cookie: session.cookie.clone(), csrf: "0".repeat(64) };
    for (method, path, body) in protected_routes().into_iter().filter(|(m, _, _)| *m != Method::GET) {
        // Without the header at all, and with a wrong one.
        let mut bare = server
            .client
            .request(method.clone(), server.url(&format!("/admin/api/{path}")))
            .header("cookie", format!("scimbox_session={}", session.cookie));
        let mut forged = server.api(method.clone(), path, Some(&wrong));
        if let Some(body) = &body {
            bare = bare.json(body);
            forged = forged.json(body);
        }
        for request in [bare, forged] {
            let message = error(request.send().await.unwrap(), StatusCode::FORBIDDEN).await;
            assert!(message.contains("X-CSRF-Token"), "{method} {path}: {message}");
        }
    }
    assert!(server.store.list_tokens().await.unwrap().is_empty(), "no token was made without the CSRF token");
    assert_eq!(server.store.admin_count().await.unwrap(), 1);
    let me = server.api(Method::GET, "me", Some(&session)).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "the session survived: logout without the token did nothing");
    // With the token, a change goes through.
    let made = server.api(Method::POST, "tokens", Some(&session)).json(&json!({"name": "okta"})).send().await.unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_and_out() {
    let server = AdminServer::start().await;
    let first = server.set_up("Root").await;
    let wrong = error(server.sign_in("root", "not the password").await, StatusCode::UNAUTHORIZED).await;
    let unknown = error(server.sign_in("nobody", PASSWORD).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(wrong, unknown, "an unknown user name reads like a wrong password");
    error(server.sign_in("", PASSWORD).await, StatusCode::BAD_REQUEST).await;
    let too_long = "x".repeat(2000);
    error(server.sign_in("root", &too_long).await, StatusCode::UNAUTHORIZED).await;
    let bad_shape = server.api(Method::POST, "login", None).json(&json!({"user": "root"})).send().await.unwrap();
    error(bad_shape, StatusCode::BAD_REQUEST).await;

    // User names are matched whatever their case; each sign-in is its own session.
    let signed_in = server.sign_in("ROOT", PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let second = session_of(signed_in).await;
    assert_ne!(second.cookie, first.cookie);
    assert_ne!(second.csrf, first.csrf);

    let out = server.api(Method::POST, "logout", Some(&second)).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(set_cookie(&out).unwrap().contains("Max-Age=0"), "the cookie is cleared");
    error(server.api(Method::GET, "me", Some(&second)).send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    let still = server.api(Method::GET, "me", Some(&first)).send().await.unwrap();
    assert_eq!(still.status(), StatusCode::OK, "signing out ends only that session");
}

/// A client whose connections come from the loopback address `127.0.0.{last}`.
fn client_at(last: u8) -> reqwest::Client {
    support::install_crypto();
    reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, last])).build().unwrap()
}

async fn sign_in_from(
    server: &AdminServer,
    client: &reqwest::Client,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let body = json!({"username": username, "password": password});
    client.post(server.url("/admin/api/login")).json(&body).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_sign_ins_are_throttled() {
    let server = AdminServer::start().await;
    server.set_up("root").await;
    for _ in 0..5 {
        error(server.sign_in("root", "wrong password").await, StatusCode::UNAUTHORIZED).await;
    }
    let locked = server.sign_in("root", PASSWORD).await;
    let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15).contains(&retry_after), "{retry_after}");
    let message = error(locked, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(message.contains("try again"), "{message}");
    // The lock is of this name at this address: the same name from another address signs in.
    let elsewhere = sign_in_from(&server, &client_at(2), "root", PASSWORD).await;
    assert_eq!(elsewhere.status(), StatusCode::OK);
    // An address that fails for many names is locked for every name.
    let guesser = client_at(3);
    for n in 0..20 {
        error(sign_in_from(&server, &guesser, &format!("user{n}"), "wrong password").await, StatusCode::UNAUTHORIZED)
            .await;
    }
    let refused = sign_in_from(&server, &guesser, "root", PASSWORD).await;
    assert!(refused.headers().contains_key("retry-after"));
    error(refused, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_from_other_addresses_cannot_lock_the_real_admin_out() {
    let server = AdminServer::start().await;
    server.set_up("alice").await;
    // One failure for alice from each of five addresses: the attack that used to lock the name.
    for last in 3..8 {
        let refused = sign_in_from(&server, &client_at(last), "alice", "not her password").await;
        error(refused, StatusCode::UNAUTHORIZED).await;
    }
    let alice = sign_in_from(&server, &client_at(8), "alice", PASSWORD).await;
    assert_eq!(alice.status(), StatusCode::OK, "alice signs in from a fresh address");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_current_passwords_are_throttled() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let change = |current: &str| {
        server
            .api(Method::POST, "password", Some(&session))
            .json(&json!({"currentPassword": current, "newPassword": "plum ferry 47 kiosk"}))
            .send()
    };
    for _ in 0..5 {
        error(change("wrong password").await.unwrap(), StatusCode::BAD_REQUEST).await;
    }
    let locked = change(PASSWORD).await.unwrap();
    assert!(locked.headers().contains_key("retry-after"));
    error(locked, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn weak_passwords_and_deceptive_names_are_refused() {
    let server = AdminServer::start().await;
    for weak in ["password1234", "qwertyuiopas"] {
        let refused = server
            .api(Method::POST, "setup", None)
            .json(&json!({"code": server.setup_code, "username": "root", "password": weak}))
            .send()
            .await
            .unwrap();
        let message = error(refused, StatusCode::BAD_REQUEST).await;
        assert!(message.contains("too easy to guess"), "{weak}: {message}");
    }
    let session = server.set_up("ops").await;
    let add = |username: &str| {
        server
            .api(Method::POST, "admins", Some(&session))
            .json(&json!({"username": username, "password": "plum ferry 47 kiosk"}))
            .send()
    };
    for deceptive in ["\u{430}lice", "ali\u{200b}ce", "alice\u{202e}"] {
        let message = error(add(deceptive).await.unwrap(), StatusCode::BAD_REQUEST).await;
        assert!(message.contains("mix scripts") || message.contains("invisible"), "{deceptive:?}: {message}");
    }
    // All-Cyrillic "орѕ" is one script, but reads like the existing "ops".
    let message = error(add("\u{43e}\u{440}\u{455}").await.unwrap(), StatusCode::CONFLICT).await;
    assert!(message.contains("reads like"), "{message}");
    assert_eq!(add("alice").await.unwrap().status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_end_at_their_lifetime() {
    let lifetime = Duration::from_secs(2);
    let server = AdminServer::start_with(|config| config.admin.session_lifetime = lifetime).await;
    let started = Instant::now();
    let session = server.set_up("root").await;
    // Used all the time, the session still ends at its absolute expiry.
    let ended = eventually("the session to expire", || async {
        let status = server.api(Method::GET, "me", Some(&session)).send().await.unwrap().status();
        (status == StatusCode::UNAUTHORIZED).then(Instant::now)
    })
    .await;
    assert!(ended - started >= lifetime - Duration::from_millis(50), "ended after {:?}", ended - started);
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_sessions_end() {
    let idle = Duration::from_secs(1);
    let server = AdminServer::start_with(|config| config.admin.session_idle_timeout = idle).await;
    let session = server.set_up("root").await;
    assert_eq!(server.api(Method::GET, "me", Some(&session)).send().await.unwrap().status(), StatusCode::OK);
    // The passage of time is what is tested here: no request for longer than the idle timeout.
    tokio::time::sleep(idle + Duration::from_millis(300)).await;
    error(server.api(Method::GET, "me", Some(&session)).send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_shown_once_and_revoked_at_once() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let integration: Value =
        server.api(Method::GET, "integration", Some(&session)).send().await.unwrap().json().await.unwrap();
    assert_eq!(integration["scimBaseUrl"], format!("{}/scim/v2", server.base));

    for bad in [json!({"name": ""}), json!({"name": "x", "expiresInDays": 0}), json!({"name": "x", "scope": "root"})] {
        let response = server.api(Method::POST, "tokens", Some(&session)).json(&bad).send().await.unwrap();
        error(response, StatusCode::BAD_REQUEST).await;
    }
    let made = server
        .api(Method::POST, "tokens", Some(&session))
        .json(&json!({"name": "Okta production", "expiresInDays": 90}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    assert_eq!(made.headers()["cache-control"], "no-store");
    let made: Value = made.json().await.unwrap();
    let secret = made["secret"].as_str().unwrap().to_owned();
    let id = made["token"]["id"].as_str().unwrap().to_owned();
    assert_eq!(made["token"]["prefix"], format!("scimbox_{id}"));
    assert!(secret.starts_with(&format!("scimbox_{id}_")));

    let listed = server.api(Method::GET, "tokens", Some(&session)).send().await.unwrap().text().await.unwrap();
    assert!(!listed.contains(&secret[25..]), "the list never holds the secret");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let token = &listed["tokens"][0];
    assert_eq!(token["name"], "Okta production");
    assert_eq!(token["status"], "active");
    assert_eq!(token["scope"], "scim");
    assert!(token["expiresAt"].is_string());

    let users = server.scim(Method::GET, "Users?startIndex=1&count=2", &secret).send().await.unwrap();
    assert_eq!(users.status(), StatusCode::OK, "the token works for SCIM");

    let revoked = server.api(Method::DELETE, &format!("tokens/{id}"), Some(&session)).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let refused = server.scim(Method::GET, "Users", &secret).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "revocation is effective on the next request");
    let again: Value =
        server.api(Method::DELETE, &format!("tokens/{id}"), Some(&session)).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["alreadyRevoked"], true);
    for missing in ["fedcba9876543210", "not-an-id"] {
        let response = server.api(Method::DELETE, &format!("tokens/{missing}"), Some(&session)).send().await.unwrap();
        error(response, StatusCode::NOT_FOUND).await;
    }

    // Neither the token, the session id, the CSRF token nor the setup code is stored in plaintext.
    server.store.close().await;
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(server.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            stored.extend(std::fs::read(path).unwrap());
        }
    }
    let stored = String::from_utf8_lossy(&stored);
    for secret in [&secret[25..], session.cookie.as_str(), session.csrf.as_str(), server.setup_code.as_str()] {
        assert!(!stored.contains(secret), "a secret reached the data directory");
    }
}

/// Creates a user over SCIM and returns its id.
pub async fn scim_user(server: &AdminServer, token: &str, user_name: &str, given: &str, active: bool) -> String {
    let response = server
        .scim(Method::POST, "Users", token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": given, "familyName": "Example"},
            "emails": [{"value": user_name, "type": "work", "primary": true}],
            "active": active,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

pub async fn scim_group(server: &AdminServer, token: &str, name: &str, members: &[&str]) -> String {
    let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
    let response = server
        .scim(Method::POST, "Groups", token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "members": members,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn get(server: &AdminServer, session: &Session, path: &str) -> Value {
    let response = server.api(Method::GET, path, Some(session)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn user_names(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn users_and_groups_are_listed_searched_and_paged() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let (_, token) = server.token(&session, "okta").await;
    let alice = scim_user(&server, &token, "alice@example.com", "Alice", true).await;
    let bob = scim_user(&server, &token, "bob@example.com", "Bob", false).await;
    let carol = scim_user(&server, &token, "carol@corp.example", "Carol", true).await;
    let engineering = scim_group(&server, &token, "Engineering", &[&alice, &bob]).await;
    scim_group(&server, &token, "Sales", &[&carol]).await;

    let all = get(&server, &session, "users").await;
    assert_eq!(all["total"], 3);
    assert_eq!(user_names(&all), ["alice@example.com", "bob@example.com", "carol@corp.example"], "by userName");
    let first = &all["items"][0];
    assert_eq!(first["name"], "Alice Example");
    assert_eq!(first["email"], "alice@example.com");
    assert_eq!(first["source"], "scim");
    assert_eq!(first["active"], true);

    assert_eq!(user_names(&get(&server, &session, "users?q=BO").await), ["bob@example.com"], "case-insensitive");
    assert_eq!(user_names(&get(&server, &session, "users?q=carol%40corp").await), ["carol@corp.example"]);
    assert_eq!(user_names(&get(&server, &session, &format!("users?q={alice}")).await), ["alice@example.com"]);
    assert_eq!(get(&server, &session, "users?q=zz").await["total"], 0);
    assert_eq!(user_names(&get(&server, &session, "users?status=deactivated").await), ["bob@example.com"]);
    assert_eq!(get(&server, &session, "users?status=active").await["total"], 2);
    let page = get(&server, &session, "users?start=1&count=1").await;
    assert_eq!((page["total"].as_u64(), user_names(&page)), (Some(3), vec!["bob@example.com"]));
    for bad in ["users?count=0", "users?count=1000", "users?start=-1", "users?status=gone", "groups?count=x"] {
        error(server.api(Method::GET, bad, Some(&session)).send().await.unwrap(), StatusCode::BAD_REQUEST).await;
    }

    let detail = get(&server, &session, &format!("users/{alice}")).await;
    assert_eq!(detail["user"]["userName"], "alice@example.com");
    assert_eq!(detail["resource"]["name"]["givenName"], "Alice");
    assert!(detail["resource"].get("password").is_none());
    assert_eq!(detail["groups"], json!([{"id": engineering, "displayName": "Engineering", "direct": true}]));
    let missing = server.api(Method::GET, "users/nobody", Some(&session)).send().await.unwrap();
    error(missing, StatusCode::NOT_FOUND).await;

    let groups = get(&server, &session, "groups").await;
    assert_eq!(groups["total"], 2);
    assert_eq!(groups["items"][0]["displayName"], "Engineering");
    assert_eq!(groups["items"][0]["members"], 2);
    assert_eq!(groups["items"][0]["source"], "scim");
    assert_eq!(get(&server, &session, "groups?q=sal").await["items"][0]["displayName"], "Sales");
    let group = get(&server, &session, &format!("groups/{engineering}?count=1")).await;
    assert_eq!(group["group"]["members"], 2);
    assert_eq!(group["members"]["total"], 2);
    assert_eq!(group["members"]["items"].as_array().unwrap().len(), 1);
    let second = get(&server, &session, &format!("groups/{engineering}?start=1&count=1")).await;
    let names: Vec<&str> =
        [&group, &second].iter().map(|g| g["members"]["items"][0]["userName"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2);
    assert_ne!(names[0], names[1], "pages do not overlap");
    error(server.api(Method::GET, "groups/nothing", Some(&session)).send().await.unwrap(), StatusCode::NOT_FOUND).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scim_request_is_recorded_without_bodies() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let (_, token) = server.token(&session, "okta").await;
    let alice = scim_user(&server, &token, "alice@example.com", "Alice", true).await;
    let duplicate = server
        .scim(Method::POST, "Users", &token)
        .json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice@example.com",
                      "password": "hunter2 secret password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let deactivate = server
        .scim(Method::PATCH, &format!("Users/{alice}"), &token)
        .json(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "replace", "value": {"active": false}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(deactivate.status(), StatusCode::OK);
    let lookup = server.scim(Method::GET, "Users?filter=userName%20eq%20%22secret-filter%22", &token).send().await;
    assert_eq!(lookup.unwrap().status(), StatusCode::OK);
    let unauthenticated = server.client.get(server.url("/scim/v2/Groups")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    let activity = eventually("five recorded requests", || async {
        let page = get(&server, &session, "activity").await;
        (page["total"] == 5).then_some(page)
    })
    .await;
    let items = activity["items"].as_array().unwrap();
    let summaries: Vec<&str> = items.iter().map(|e| e["summary"].as_str().unwrap_or("")).collect();
    assert_eq!(
        summaries,
        [
            "listing groups failed",
            "listed users: 0 results",
            "deactivated user alice@example.com",
            "create user failed",
            "created user alice@example.com"
        ],
        "newest first"
    );
    let created = &items[4];
    assert_eq!(created["method"], "POST");
    assert_eq!(created["path"], "/scim/v2/Users");
    assert_eq!(created["status"], 201);
    assert_eq!(created["tokenName"], "okta");
    assert_eq!(created["resource"], "Users");
    assert!(created["latencyMs"].as_f64().unwrap() > 0.0);
    assert!(items[3]["error"].as_str().unwrap().contains("already taken"), "{}", items[3]);
    assert!(items[0]["tokenName"].is_null());
    assert!(items[0]["error"].as_str().unwrap().contains("Authorization"));
    let text = activity.to_string();
    assert!(!text.contains("hunter2") && !text.contains("secret-filter"), "no bodies, no query strings");

    let failed = get(&server, &session, "activity?status=failed").await;
    assert_eq!(failed["total"], 2);
    assert_eq!(get(&server, &session, "activity?status=4xx&resource=Users").await["total"], 1);
    assert_eq!(get(&server, &session, "activity?resource=Groups").await["total"], 1);
    assert_eq!(get(&server, &session, "activity?q=DEACTIVATED").await["total"], 1);
    assert_eq!(get(&server, &session, "activity?q=%25").await["total"], 0, "LIKE wildcards are literal");
    let first = get(&server, &session, "activity?count=2").await;
    let next = first["next"].as_i64().unwrap();
    let rest = get(&server, &session, &format!("activity?count=2&before={next}")).await;
    assert_eq!(rest["items"][0]["summary"], "deactivated user alice@example.com", "the next page goes on");
    for bad in ["activity?status=odd", "activity?resource=Nope", "activity?before=x", "activity?count=0"] {
        error(server.api(Method::GET, bad, Some(&session)).send().await.unwrap(), StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn membership_changes_are_summarized() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let (_, token) = server.token(&session, "okta").await;
    let alice = scim_user(&server, &token, "alice@example.com", "Alice", true).await;
    let bob = scim_user(&server, &token, "bob@example.com", "Bob", true).await;
    let group = scim_group(&server, &token, "Engineering", &[]).await;
    let patched = server
        .scim(Method::PATCH, &format!("Groups/{group}"), &token)
        .json(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "add", "path": "members", "value": [{"value": alice}, {"value": bob}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::NO_CONTENT);
    let page = eventually("the PATCH in Activity", || async {
        let page = get(&server, &session, "activity?resource=Groups").await;
        (page["total"] == 2).then_some(page)
    })
    .await;
    assert_eq!(page["items"][0]["summary"], "added 2 members to group Engineering");
    assert_eq!(page["items"][1]["summary"], "created group Engineering");
}

/// A recorded lookup, numbered `n`, that arrived at `at`.
fn entry(n: usize, at: &str) -> scimbox::store::ActivityEntry {
    scimbox::store::ActivityEntry {
        at: at.to_owned(),
        request_id: format!("r-{n}"),
        token_id: None,
        token_name: Some("okta".into()),
        method: "GET".into(),
        path: "/scim/v2/Users".into(),
        resource: Some("Users".into()),
        status: 200,
        latency_us: 100,
        summary: Some(format!("entry {n}")),
        error: None,
        target_id: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn activity_is_kept_within_its_retention() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = scimbox::store::now();
    let recent = scimbox::store::format_time(now);
    let old = scimbox::store::format_time(now - time::Duration::days(40));
    let batch: Vec<_> = (0..25).map(|n| entry(n, if n < 3 { &old } else { &recent })).collect();
    store.record_activity(batch, 10).await.unwrap();
    let page = store.list_activity(scimbox::store::ActivityQuery { count: 100, ..Default::default() }).await.unwrap();
    assert_eq!(page.total, 10, "only the newest rows are kept");
    assert_eq!(page.items[0].entry.summary.as_deref(), Some("entry 24"));
    assert_eq!(page.items[9].entry.summary.as_deref(), Some("entry 15"));

    // Entries can arrive with an older time than those stored (a clock set back): the age sweep finds
    // them wherever they are.
    let batch: Vec<_> = (100..105).map(|n| entry(n, &old)).collect();
    store.record_activity(batch, 1000).await.unwrap();
    let page = store.list_activity(scimbox::store::ActivityQuery { count: 100, ..Default::default() }).await.unwrap();
    assert_eq!(page.total, 15, "the row bound alone keeps them");
    let removed = store.remove_activity_before(now - time::Duration::days(30)).await.unwrap();
    assert_eq!(removed, 5);
    let page = store.list_activity(scimbox::store::ActivityQuery { count: 100, ..Default::default() }).await.unwrap();
    assert_eq!(page.total, 10, "entries older than the age bound are removed");
    assert!(page.items.iter().all(|item| item.entry.at == recent));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorder_removes_aged_entries_when_it_starts_and_keeps_recent_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = scimbox::store::now();
    let old = scimbox::store::format_time(now - time::Duration::days(3));
    let recent = scimbox::store::format_time(now - time::Duration::hours(1));
    let entries = (0..6).map(|n| entry(n, if n % 2 == 0 { &old } else { &recent })).collect();
    store.record_activity(entries, 1000).await.unwrap();

    let settings = scimbox::config::AdminSettings {
        activity_max_age: Duration::from_secs(2 * 86_400),
        ..scimbox::config::AdminSettings::default()
    };
    let recorder = scimbox::http::recorder::Recorder::start(store.clone(), &settings);
    recorder.record(entry(6, &scimbox::store::format_time(now)));
    recorder.close().await;

    let page = store.list_activity(scimbox::store::ActivityQuery { count: 100, ..Default::default() }).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|item| item.entry.request_id.as_str()).collect();
    assert_eq!(ids, ["r-6", "r-5", "r-3", "r-1"], "the aged entries are gone, the new one is written");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_batch_of_activity_is_stored_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = scimbox::store::now();
    // Several whole multi-row inserts and a remainder; every optional field both set and empty.
    let entries: Vec<_> = (0..237u64)
        .map(|n| scimbox::store::ActivityEntry {
            at: scimbox::store::format_time(now),
            request_id: format!("r-{n}"),
            token_id: (n % 2 == 0).then(|| format!("t{n}")),
            token_name: (n % 3 == 0).then(|| "okta \"prod\"".to_owned()),
            method: if n % 5 == 0 { "PATCH".into() } else { "GET".into() },
            path: format!("/scim/v2/Users/{n}"),
            resource: (n % 7 != 0).then(|| "Users".to_owned()),
            status: if n % 11 == 0 { 404 } else { 200 },
            latency_us: n * 1000 + 7,
            summary: (n % 4 == 0).then(|| format!("entry {n}")),
            error: (n % 11 == 0).then(|| format!("there is no user with id \"{n}\"")),
            target_id: (n % 3 == 1).then(|| format!("{n}")),
        })
        .collect();
    store.record_activity(entries.clone(), 10_000).await.unwrap();
    let page = store.list_activity(scimbox::store::ActivityQuery { count: 500, ..Default::default() }).await.unwrap();
    assert_eq!(page.total, 237);
    let stored: Vec<_> = page.items.into_iter().rev().map(|record| record.entry).collect();
    assert_eq!(stored, entries, "oldest first, every field as recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_manage_admins_and_their_passwords() {
    let server = AdminServer::start().await;
    let root = server.set_up("root").await;
    let add = |username: &'static str, password: &'static str| {
        server
            .api(Method::POST, "admins", Some(&root))
            .json(&json!({"username": username, "password": password}))
            .send()
    };
    assert_eq!(add("second", PASSWORD).await.unwrap().status(), StatusCode::CREATED);
    error(add("SECOND", PASSWORD).await.unwrap(), StatusCode::CONFLICT).await;
    error(add("third", "short").await.unwrap(), StatusCode::BAD_REQUEST).await;
    let admins = get(&server, &root, "admins").await;
    let listed: Vec<(&str, bool)> = admins["admins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["username"].as_str().unwrap(), a["you"].as_bool().unwrap()))
        .collect();
    assert_eq!(listed, [("root", true), ("second", false)]);
    assert!(!admins.to_string().contains("argon2"), "no hashes in answers");

    let second = session_of(server.sign_in("second", PASSWORD).await).await;
    let second_id = admins["admins"][1]["id"].as_str().unwrap().to_owned();
    let root_id = admins["admins"][0]["id"].as_str().unwrap().to_owned();
    let myself = server.api(Method::DELETE, &format!("admins/{root_id}"), Some(&root)).send().await.unwrap();
    assert!(error(myself, StatusCode::BAD_REQUEST).await.contains("yourself"));

    // Changing a password needs the current one and ends the admin's other sessions.
    let other_root = session_of(server.sign_in("root", PASSWORD).await).await;
    let change = |current: &'static str, new: &'static str| {
        server
            .api(Method::POST, "password", Some(&root))
            .json(&json!({"currentPassword": current, "newPassword": new}))
            .send()
    };
    error(change("wrong password!", "a brand new password").await.unwrap(), StatusCode::BAD_REQUEST).await;
    error(change(PASSWORD, "root").await.unwrap(), StatusCode::BAD_REQUEST).await;
    assert_eq!(change(PASSWORD, "a brand new password").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(server.api(Method::GET, "me", Some(&root)).send().await.unwrap().status(), StatusCode::OK);
    error(server.api(Method::GET, "me", Some(&other_root)).send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    error(server.sign_in("root", PASSWORD).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(server.sign_in("root", "a brand new password").await.status(), StatusCode::OK);

    // Removing an admin signs them out; the last admin stays.
    let removed = server.api(Method::DELETE, &format!("admins/{second_id}"), Some(&root)).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    error(server.api(Method::GET, "me", Some(&second)).send().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    let gone = server.api(Method::DELETE, &format!("admins/{second_id}"), Some(&root)).send().await.unwrap();
    error(gone, StatusCode::NOT_FOUND).await;
    assert_eq!(
        server.store.delete_admin(&actor(), &root_id).await.unwrap(),
        scimbox::store::AdminRemoval::Last,
        "the last admin cannot be removed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_api_errors_are_json() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    error(server.api(Method::GET, "nothing/here", Some(&session)).send().await.unwrap(), StatusCode::NOT_FOUND).await;
    error(server.api(Method::PUT, "tokens", Some(&session)).send().await.unwrap(), StatusCode::METHOD_NOT_ALLOWED)
        .await;
    error(server.api(Method::GET, "login", None).send().await.unwrap(), StatusCode::METHOD_NOT_ALLOWED).await;
    let not_json = server.api(Method::POST, "tokens", Some(&session)).body("{}").send().await.unwrap();
    error(not_json, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let broken = server
        .api(Method::POST, "tokens", Some(&session))
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    error(broken, StatusCode::BAD_REQUEST).await;
    let huge = server
        .api(Method::POST, "tokens", Some(&session))
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{}\"}}", "x".repeat(100_000)))
        .send()
        .await
        .unwrap();
    error(huge, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_is_served_with_security_headers_and_etags() {
    let server = AdminServer::start().await;
    server.set_up("root").await;
    for path in ["/", "/login", "/integrations", "/users", "/users/abc", "/groups/abc", "/activity", "/admins"] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        let body = response.text().await.unwrap();
        assert!(body.contains("<script type=\"module\" src=\"/app.js\"></script>"), "{path}");
        assert!(!body.contains("<script>") && !body.contains("style=\""), "no inline script or style");
    }
    let script = server.client.get(server.url("/app.js")).send().await.unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"].to_str().unwrap().contains("javascript"));
    let etag = script.headers()["etag"].to_str().unwrap().to_owned();
    let again = server.client.get(server.url("/app.js")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(server.client.get(server.url("/nothing.js")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_token_shows_whether_its_provider_is_connected() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let (okta, okta_secret) = server.token(&session, "okta").await;
    let (idle, _) = server.token(&session, "idle").await;
    scim_user(&server, &okta_secret, "a@example.com", "A", true).await;
    let bad = server.scim(Method::GET, "Users?filter=nonsense", &okta_secret).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let tokens = eventually("both requests in the activity record", || async {
        let page = get(&server, &session, "tokens").await;
        let tokens = page["tokens"].as_array()?.clone();
        let okta = tokens.iter().find(|t| t["name"] == "okta")?.clone();
        (okta["activity"]["requestsLastDay"] == 2).then_some(tokens)
    })
    .await;
    let okta_row = tokens.iter().find(|t| t["id"] == okta.as_str()).unwrap();
    assert_eq!(okta_row["activity"]["lastRequest"]["status"], 400);
    assert_eq!(okta_row["activity"]["lastRequest"]["method"], "GET");
    let failure = &okta_row["activity"]["lastFailure"];
    assert_eq!(failure["status"], 400);
    assert!(failure["error"].as_str().unwrap().contains("filter"), "{failure}");
    let idle_row = tokens.iter().find(|t| t["id"] == idle.as_str()).unwrap();
    assert_eq!(idle_row["activity"], json!({"lastRequest": null, "lastFailure": null, "requestsLastDay": 0}));

    // Activity filtered by a token: only its requests; anything but a token id is refused.
    let filtered = get(&server, &session, &format!("activity?token={okta}")).await;
    assert_eq!(filtered["total"], 2);
    let none = get(&server, &session, &format!("activity?token={idle}")).await;
    assert_eq!(none["total"], 0);
    let refused = server.api(Method::GET, "activity?token=okta", Some(&session)).send().await.unwrap();
    assert_eq!(error(refused, StatusCode::BAD_REQUEST).await, "token \"okta\" is not a token id");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_session_route_answers_signed_out_loads_without_an_error_status() {
    let server = AdminServer::start().await;
    let before: Value = server.api(Method::GET, "session", None).send().await.unwrap().json().await.unwrap();
    let sign_in = json!({"password": true, "provider": null});
    assert_eq!(before, json!({"admin": null, "user": null, "signIn": sign_in, "setupNeeded": true}));
    let session = server.set_up("root").await;
    let signed_out = server.api(Method::GET, "session", None).send().await.unwrap();
    assert_eq!(signed_out.status(), StatusCode::OK);
    assert_eq!(
        signed_out.json::<Value>().await.unwrap(),
        json!({"admin": null, "user": null, "signIn": sign_in, "setupNeeded": false})
    );
    let signed_in: Value =
        server.api(Method::GET, "session", Some(&session)).send().await.unwrap().json().await.unwrap();
    assert_eq!(signed_in["admin"]["username"], "root");
    assert_eq!(signed_in["admin"]["throughProvider"], false);
    assert_eq!(signed_in["user"], Value::Null, "a local admin is not a provisioned user");
    assert_eq!(signed_in["csrfToken"], session.csrf.as_str());
    let post = server.api(Method::POST, "session", Some(&session)).send().await.unwrap();
    error(post, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn group_members_are_shown_by_their_own_names() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let (_, token) = server.token(&session, "okta").await;
    let alice = scim_user(&server, &token, "alice@example.com", "Alice", true).await;
    // Okta's group push sends each member's e-mail address as its display.
    let group = server
        .scim(Method::POST, "Groups", &token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "members": [{"value": alice, "display": "alice@example.com"}],
        }))
        .send()
        .await
        .unwrap();
    let group: Value = group.json().await.unwrap();
    let page = get(&server, &session, &format!("groups/{}", group["id"].as_str().unwrap())).await;
    let member = &page["members"]["items"][0];
    assert_eq!(member["display"], "Alice Example", "{page}");
    assert_eq!(member["userName"], "alice@example.com");
}
