//! Sign-in through the identity provider, end to end against a real OpenID Provider: the npm package
//! `oidc-provider` (pinned in tests/node), run by tests/node/oidc-op.mjs on 127.0.0.1. Its accounts have
//! the `sub` that SCIM provisioned as `externalId`, as Okta does. Its `/__test/tamper` control forges the
//! next ID token (wrong audience, expired, `alg: none`, …) the way a hostile or broken provider or a
//! man in the middle would; everything else is the provider's real behaviour.

use std::process::Stdio;

use reqwest::{Method, StatusCode, header};
use scimbox::config::{Matching, OidcSettings};
use scimbox::credentials::Scope;
use scimbox::sharing::{AssetKind, Grant, Grantee, Level};
use scimbox::store::{AuditQuery, NewAsset};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::scim_client::Scim;
use crate::support::{TestServer, actor, install_crypto};

pub const CLIENT_ID: &str = "scimbox";
pub const CLIENT_SECRET: &str = "op-client-secret-of-the-test";
pub const ADMIN_GROUP: &str = "scimbox admins";

/// A test account at the provider.
#[derive(Clone)]
pub struct Account {
    pub sub: &'static str,
    pub email: &'static str,
    pub email_verified: bool,
    pub name: &'static str,
    pub oid: &'static str,
}

pub const ADA: Account = Account {
    sub: "00u1ada0000000000001",
    email: "ada.lovelace@corp.example",
    email_verified: true,
    name: "Ada Lovelace",
    oid: "6f1e0c1a-1111-4222-8333-944455550001",
};
pub const GRACE: Account = Account {
    sub: "00u1grace00000000002",
    email: "grace.hopper@corp.example",
    email_verified: true,
    name: "Grace Hopper",
    oid: "6f1e0c1a-1111-4222-8333-944455550002",
};
/// At the provider, but never provisioned.
pub const MALLORY: Account = Account {
    sub: "00u1mallory000000003",
    email: "mallory@corp.example",
    email_verified: false,
    name: "Mallory",
    oid: "6f1e0c1a-1111-4222-8333-944455550003",
};

/// The OpenID Provider process; killed (and its stdin closed, which ends it too) when dropped.
pub struct Op {
    pub issuer: String,
    http: reqwest::Client,
    _child: tokio::process::Child,
    _config: tempfile::TempDir,
}

impl Op {
    /// Starts the provider with scimbox (at `scimbox`, e.g. `http://127.0.0.1:PORT`) and a second client
    /// registered, and `accounts`.
    pub async fn start(scimbox: &str, accounts: &[Account]) -> Op {
        let dir = tempfile::tempdir().expect("tempdir");
        let accounts: Vec<Value> = accounts
            .iter()
            .map(|a| {
                json!({"sub": a.sub, "email": a.email, "email_verified": a.email_verified, "name": a.name, "oid": a.oid})
            })
            .collect();
        let config = json!({
            "clients": [
                {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                 "redirect_uris": [format!("{scimbox}/auth/oidc/callback")],
                 "post_logout_redirect_uris": [format!("{scimbox}/login")]},
                {"client_id": "other-client", "client_secret": "other-secret",
                 "redirect_uris": ["http://127.0.0.1:9/elsewhere"]},
            ],
            "accounts": accounts,
        });
        let path = dir.path().join("op.json");
        std::fs::write(&path, config.to_string()).expect("write the provider's configuration");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node/oidc-op.mjs");
        let mut child = tokio::process::Command::new("node")
            .arg(script)
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs tests/node/oidc-op.mjs (npm ci --prefix tests/node installs oidc-provider)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        tokio::time::timeout(std::time::Duration::from_secs(30), BufReader::new(stdout).read_line(&mut line))
            .await
            .expect("the provider starts within 30 s")
            .expect("read the provider's first line");
        let ready: Value = serde_json::from_str(&line).expect("the provider prints its issuer");
        let issuer = ready["issuer"].as_str().expect("issuer").to_owned();
        install_crypto();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Op { issuer, http, _child: child, _config: dir }
    }

    /// Makes the provider forge the ID token of its next token response (see oidc-op.mjs).
    pub async fn tamper(&self, mode: &str) {
        let answer = self.http.post(format!("{}/__test/tamper", self.issuer)).json(&json!({"mode": mode})).send().await;
        assert_eq!(answer.unwrap().status(), StatusCode::NO_CONTENT, "tamper {mode}");
    }

    /// A new signing key at the provider, unknown to whoever cached its JWKS.
    pub async fn rotate(&self) {
        let answer = self.http.post(format!("{}/__test/rotate", self.issuer)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }

    /// How many codes the provider has redeemed.
    pub async fn tokens_issued(&self) -> u64 {
        let answer: Value =
            self.http.get(format!("{}/__test/tokens", self.issuer)).send().await.unwrap().json().await.unwrap();
        answer["issued"].as_u64().unwrap()
    }
}

/// The sign-in settings for a provider at `issuer`.
pub fn settings(issuer: &str, matching: &str) -> OidcSettings {
    OidcSettings {
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        scopes: OidcSettings::scopes_from("openid email profile"),
        matching: Matching::parse(matching).unwrap(),
        admin_group: Some(ADMIN_GROUP.into()),
        display_name: "Okta".into(),
    }
}

/// scimbox with sign-in through a freshly started provider, and what SCIM provisioned: Ada (in the admin
/// group) and Grace (in Data Science, which can edit a capsule), both with their `sub` as `externalId`.
pub struct World {
    pub scim: Scim,
    pub op: Op,
    pub ada: String,
    pub grace: String,
    pub admins: String,
    pub science: String,
    pub capsule: String,
}

impl World {
    pub async fn start() -> World {
        World::start_matching("sub", |_| {}).await
    }

    pub async fn start_matching(matching: &str, adjust: impl FnOnce(&mut scimbox::config::Config)) -> World {
        // The provider must know scimbox's redirect URI, so scimbox's address comes first.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let op = Op::start(&base, &[ADA, GRACE, MALLORY]).await;
        let issuer = op.issuer.clone();
        let server = TestServer::start_listening(listener, |config| {
            config.public_url = Some(scimbox::config::PublicUrl::parse(&base).unwrap());
            config.oidc = Some(settings(&issuer, matching));
            adjust(config);
        })
        .await;
        let token = server.token(Scope::Scim).await;
        let scim = Scim { server, token };
        let user = |a: &Account| {
            json!({"externalId": a.sub, "displayName": a.name, "name": {"formatted": a.name},
                   "emails": [{"value": a.email, "type": "work", "primary": true}], "active": true})
        };
        let ada = crate::scim_client::id_of(&scim.create(ADA.email, with_oid(user(&ADA), &ADA, matching)).await);
        let grace =
            crate::scim_client::id_of(&scim.create(GRACE.email, with_oid(user(&GRACE), &GRACE, matching)).await);
        let admins = scim.create_group(ADMIN_GROUP, &[&ada]).await;
        let science = scim.create_group("Data Science", &[&grace, &ada]).await;
        let store = &scim.server.store;
        let new = |name: &str| NewAsset { kind: AssetKind::Capsule, name: name.into(), owner_id: ada.clone() };
        let capsule = store.create_asset(&actor(), new("Churn model")).await.unwrap().id;
        store.create_asset(&actor(), new("Ada's private notebook")).await.unwrap();
        let grant = Grant { grantee: Grantee::Group(science.clone()), level: Level::Editor };
        store.set_asset_permissions(&actor(), &capsule, vec![grant]).await.unwrap();
        World { scim, op, ada, grace, admins, science, capsule }
    }

    pub fn server(&self) -> &TestServer {
        &self.scim.server
    }

    /// A browser-like client: its own cookie jar, redirects not followed.
    pub fn browser(&self) -> reqwest::Client {
        install_crypto();
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Starts a sign-in at scimbox and signs in at the provider as `sub`; answers the callback URL the
    /// provider sends the browser to (not yet visited).
    pub async fn authorize(&self, browser: &reqwest::Client, sub: &str) -> String {
        let start = browser.get(self.server().url("/auth/oidc/start")).send().await.unwrap();
        assert_eq!(start.status(), StatusCode::SEE_OTHER, "start: {:?}", start.text().await);
        let mut location = location(&start);
        assert!(location.starts_with(&self.op.issuer), "sent to the provider: {location}");
        for _ in 0..10 {
            if location.starts_with(&self.server().base) {
                return location;
            }
            let url = absolute(&self.op.issuer, &location);
            let answer = browser.get(&url).send().await.unwrap();
            if answer.status() == StatusCode::OK {
                // The provider's sign-in form.
                let login = format!("{}/login", url.split('?').next().unwrap());
                let answer = browser.post(&login).form(&[("login", sub)]).send().await.unwrap();
                assert!(answer.status().is_redirection(), "the provider signs {sub} in: {}", answer.status());
                location = location_of(&answer);
            } else {
                assert!(answer.status().is_redirection(), "provider step {url}: {}", answer.status());
                location = location_of(&answer);
            }
        }
        panic!("the provider never sent the browser back to scimbox");
    }

    /// A whole sign-in as `sub`: the callback's answer.
    pub async fn sign_in(&self, browser: &reqwest::Client, sub: &str) -> reqwest::Response {
        let callback = self.authorize(browser, sub).await;
        browser.get(&callback).send().await.unwrap()
    }

    /// The page's session answer for this browser.
    pub async fn session(&self, browser: &reqwest::Client) -> Value {
        browser.get(self.server().url("/admin/api/session")).send().await.unwrap().json().await.unwrap()
    }

    /// The audit records of `action`, newest first.
    pub async fn audit(&self, action: &str) -> Vec<Value> {
        let action = scimbox::audit::Action::parse(action).expect("an audit action");
        let query = AuditQuery { action: Some(action), limit: 100, ..AuditQuery::default() };
        let page = self.server().store.audit_page(query).await.unwrap();
        page.records.iter().map(|r| serde_json::to_value(r).unwrap()).collect()
    }
}

fn with_oid(mut user: Value, account: &Account, matching: &str) -> Value {
    if matching == "oid" {
        // Entra: objectId mapped to externalId in the provisioning attribute mappings.
        user["externalId"] = json!(account.oid);
    }
    user
}

pub fn location(response: &reqwest::Response) -> String {
    location_of(response)
}

fn location_of(response: &reqwest::Response) -> String {
    response.headers().get(header::LOCATION).expect("a Location").to_str().unwrap().to_owned()
}

fn absolute(origin: &str, location: &str) -> String {
    if location.starts_with("http") { location.to_owned() } else { format!("{origin}{location}") }
}

/// Whether the answer set scimbox's session cookie (to a value, not to clear it).
fn sets_session(response: &reqwest::Response) -> bool {
    response.headers().get_all(header::SET_COOKIE).iter().any(|v| {
        let v = v.to_str().unwrap_or_default();
        v.starts_with("scimbox_session=") && !v.starts_with("scimbox_session=;")
    })
}

/// A refused sign-in: its status, and the reason its page names.
async fn refusal(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    assert!(!sets_session(&response), "a refusal never starts a session");
    let html = response.text().await.unwrap();
    let reason = html
        .split("data-reason=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a refusal page: {html}"))
        .to_owned();
    (status, reason, html)
}

#[tokio::test]
async fn a_provisioned_person_signs_in_and_sees_only_what_they_can_reach() {
    let world = World::start().await;
    let browser = world.browser();
    let answer = world.sign_in(&browser, GRACE.sub).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(sets_session(&answer));
    assert_eq!(location(&answer), "/me", "a person who is not an admin lands on My access");

    let session = world.session(&browser).await;
    assert_eq!(session["admin"], Value::Null, "{session}");
    assert_eq!(session["user"]["id"], json!(world.grace));
    assert_eq!(session["user"]["userName"], json!(GRACE.email));
    assert_eq!(session["signIn"]["provider"]["name"], json!("Okta"));

    let me: Value = browser.get(world.server().url("/api/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["totalResults"], json!(1), "{me}");
    assert_eq!(me["assets"][0]["id"], json!(world.capsule));
    assert_eq!(me["assets"][0]["access"]["level"], json!("editor"));
    assert_eq!(
        me["assets"][0]["access"]["via"][0],
        json!({"type": "group", "id": world.science, "displayName": "Data Science", "nested": false})
    );
    assert_eq!(me["groups"], json!([{"id": world.science, "displayName": "Data Science", "direct": true}]));

    // Nothing else: no admin API, no platform API.
    for path in [
        "/admin/api/users",
        "/admin/api/me",
        "/admin/api/tokens",
        "/api/v1/assets",
        &format!("/api/v1/users/{}/assets", world.ada),
    ] {
        let refused = browser.get(world.server().url(path)).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let signed_in = world.audit("session.signed_in").await;
    assert_eq!(signed_in[0]["actor"]["kind"], json!("user"), "{signed_in:?}");
    assert_eq!(signed_in[0]["target"]["id"], json!(world.grace));
    assert_eq!(signed_in[0]["details"]["admin"], json!(false));
}

#[tokio::test]
async fn members_of_the_admin_group_are_admins_until_they_leave_it() {
    let world = World::start().await;
    let browser = world.browser();
    let answer = world.sign_in(&browser, ADA.sub).await;
    assert_eq!(location(&answer), "/", "an admin lands on the admin page");
    let session = world.session(&browser).await;
    assert_eq!(session["admin"]["username"], json!(ADA.email), "{session}");
    assert_eq!(session["admin"]["throughProvider"], json!(true));
    let csrf = session["csrfToken"].as_str().unwrap().to_owned();
    let users = browser.get(world.server().url("/admin/api/users")).send().await.unwrap();
    assert_eq!(users.status(), StatusCode::OK);

    // What an admin signed in this way does is recorded as that user.
    let created = browser
        .post(world.server().url("/admin/api/tokens"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "made by ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let record = &world.audit("token.created").await[0];
    assert_eq!(record["actor"], json!({"kind": "user", "id": world.ada, "name": ADA.email, "address": "127.0.0.1"}));

    // Okta takes Ada out of the admin group: her next request is no longer an admin's.
    let (status, _) = world
        .scim
        .patch(
            &format!("/Groups/{}", world.admins),
            json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", world.ada)}]),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let users = browser.get(world.server().url("/admin/api/users")).send().await.unwrap();
    assert_eq!(users.status(), StatusCode::FORBIDDEN);
    let me = browser.get(world.server().url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "still signed in, as a person");
    assert_eq!(world.session(&browser).await["admin"], Value::Null);

    // Back in the group: admin again, without signing in again.
    let (status, _) = world
        .scim
        .patch(
            &format!("/Groups/{}", world.admins),
            json!([{"op": "add", "path": "members", "value": [{"value": world.ada}]}]),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let users = browser.get(world.server().url("/admin/api/users")).send().await.unwrap();
    assert_eq!(users.status(), StatusCode::OK);
}

#[tokio::test]
async fn deactivation_and_deletion_end_the_session_on_the_next_request() {
    let world = World::start().await;
    let browser = world.browser();
    world.sign_in(&browser, GRACE.sub).await;
    let me = browser.get(world.server().url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    let (status, _) = world
        .scim
        .patch(&format!("/Users/{}", world.grace), json!([{"op": "replace", "path": "active", "value": false}]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let me = browser.get(world.server().url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "deactivated: signed out at once");

    // A deactivated person cannot sign in again.
    let (status, reason, html) = refusal(world.sign_in(&world.browser(), GRACE.sub).await).await;
    assert_eq!((status, reason.as_str()), (StatusCode::FORBIDDEN, "deactivated"));
    assert!(html.contains("deactivated"), "{html}");

    // Reactivation does not bring the old session back: a new sign-in is needed, and works.
    let (status, _) = world
        .scim
        .patch(&format!("/Users/{}", world.grace), json!([{"op": "replace", "path": "active", "value": true}]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let me = browser.get(world.server().url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let again = world.sign_in(&browser, GRACE.sub).await;
    assert!(sets_session(&again));
    let me = browser.get(world.server().url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // Deleted over SCIM: signed out, and nobody to sign in as any more.
    assert_eq!(world.scim.delete(&format!("/Users/{}", world.grace)).await, StatusCode::NO_CONTENT);
    let me = browser.get(world.server().url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let (_, reason, _) = refusal(world.sign_in(&world.browser(), GRACE.sub).await).await;
    assert_eq!(reason, "no-user");
}

#[tokio::test]
async fn every_forged_or_broken_id_token_is_refused_without_a_session() {
    let world = World::start().await;
    // Each mode forges the ID token of one token response (tests/node/oidc-op.mjs).
    let cases = [
        ("wrong-audience", "wrong-audience"),
        ("expired", "expired"),
        ("alg-none", "unsigned"),
        ("unsigned", "bad-signature"),
        ("bad-signature", "bad-signature"),
        ("unknown-key", "unknown-key"),
        ("wrong-issuer", "wrong-issuer"),
        ("wrong-nonce", "wrong-nonce"),
    ];
    for (mode, expected) in cases {
        let browser = world.browser();
        let callback = world.authorize(&browser, ADA.sub).await;
        world.op.tamper(mode).await;
        let answer = browser.get(&callback).send().await.unwrap();
        let (status, reason, _) = refusal(answer).await;
        assert_eq!((status, reason.as_str()), (StatusCode::FORBIDDEN, expected), "tamper {mode}");
        assert_eq!(world.session(&browser).await["admin"], Value::Null, "{mode}: not signed in");
        let failed = world.audit("session.sign_in_failed").await;
        assert_eq!(failed[0]["details"], json!({"method": "oidc", "reason": expected}), "{mode}");
    }
    // And the provider's honest answer still signs in.
    let browser = world.browser();
    assert!(sets_session(&world.sign_in(&browser, ADA.sub).await));
}

#[tokio::test]
async fn replayed_foreign_and_unbound_callbacks_are_refused() {
    let world = World::start().await;
    let browser = world.browser();
    let callback = world.authorize(&browser, ADA.sub).await;
    let first = browser.get(&callback).send().await.unwrap();
    assert!(sets_session(&first));

    // The same callback again: its state was used.
    let issued = world.op.tokens_issued().await;
    let (status, reason, _) = refusal(browser.get(&callback).send().await.unwrap()).await;
    assert_eq!((status, reason.as_str()), (StatusCode::BAD_REQUEST, "unknown-state"));
    assert_eq!(world.op.tokens_issued().await, issued, "a replayed callback redeems nothing");

    // The used code under a new sign-in's state: the provider refuses to redeem it twice.
    let code = query_param(&callback, "code");
    let fresh = world.authorize(&browser, ADA.sub).await;
    let replayed = with_param(&fresh, "code", &code);
    let (_, reason, _) = refusal(browser.get(&replayed).send().await.unwrap()).await;
    assert_eq!(reason, "code-refused");

    // A code the provider issued to another application.
    let foreign = foreign_code(&world).await;
    let fresh = world.authorize(&browser, ADA.sub).await;
    let (_, reason, _) = refusal(browser.get(with_param(&fresh, "code", &foreign)).send().await.unwrap()).await;
    assert_eq!(reason, "code-refused");

    // A callback from another browser (a sign-in someone else started: login CSRF).
    let victim = world.browser();
    let attacker_callback = world.authorize(&world.browser(), GRACE.sub).await;
    let (_, reason, _) = refusal(victim.get(&attacker_callback).send().await.unwrap()).await;
    assert_eq!(reason, "other-browser");
    assert_eq!(world.session(&victim).await["user"], Value::Null);

    // The provider's own refusal, no state, a malformed answer.
    let fresh = world.authorize(&browser, ADA.sub).await;
    let state = query_param(&fresh, "state");
    let denied = world.server().url(&format!("/auth/oidc/callback?error=access_denied&state={state}"));
    let (_, reason, html) = refusal(browser.get(&denied).send().await.unwrap()).await;
    assert_eq!(reason, "provider-error");
    assert!(html.contains("access_denied"), "{html}");
    let (_, reason, _) =
        refusal(browser.get(world.server().url("/auth/oidc/callback?code=x")).send().await.unwrap()).await;
    assert_eq!(reason, "missing-state");
    let doubled = world.server().url("/auth/oidc/callback?state=a&state=b&code=c");
    let (_, reason, _) = refusal(browser.get(&doubled).send().await.unwrap()).await;
    assert_eq!(reason, "malformed-callback");
    let html = world.server().url("/auth/oidc/callback?state=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error=%3Cb%3E");
    let (status, _, page) = refusal(browser.get(&html).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!page.contains("<script>") && !page.contains("<b>"), "nothing sent is echoed as markup: {page}");

    // Someone the provider knows but SCIM never provisioned.
    let (_, reason, html) = refusal(world.sign_in(&world.browser(), MALLORY.sub).await).await;
    assert_eq!(reason, "no-user");
    assert!(html.contains("no active account"), "{html}");
    let failed = world.audit("session.sign_in_failed").await;
    assert_eq!(
        failed[0]["details"],
        json!({"method": "oidc", "reason": "no-user", "claim": "sub", "value": MALLORY.sub})
    );
}

/// A code the provider issued to "other-client", obtained the way that client would.
async fn foreign_code(world: &World) -> String {
    let browser = world.browser();
    let url = format!(
        "{}/auth?client_id=other-client&response_type=code&scope=openid&redirect_uri={}&state=s&nonce=n&code_challenge={}&code_challenge_method=S256",
        world.op.issuer, "http%3A%2F%2F127.0.0.1%3A9%2Felsewhere", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let mut location = url;
    for _ in 0..10 {
        if location.starts_with("http://127.0.0.1:9/") {
            return query_param(&location, "code");
        }
        let target = absolute(&world.op.issuer, &location);
        let answer = browser.get(&target).send().await.unwrap();
        location = if answer.status() == StatusCode::OK {
            let login = format!("{}/login", target.split('?').next().unwrap());
            location_of(&browser.post(&login).form(&[("login", ADA.sub)]).send().await.unwrap())
        } else {
            location_of(&answer)
        };
    }
    panic!("no code for the other client");
}

fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap()
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let v = if k == name { value.to_owned() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{path}?{query}")
}

#[tokio::test]
async fn a_key_the_provider_rotated_in_is_fetched_again() {
    let world = World::start().await;
    assert!(sets_session(&world.sign_in(&world.browser(), ADA.sub).await), "keys cached");
    world.op.rotate().await;
    let answer = world.sign_in(&world.browser(), ADA.sub).await;
    assert!(sets_session(&answer), "the new key id was unknown: the JWKS was fetched again");
}

#[tokio::test]
async fn entra_style_matching_by_the_oid_claim() {
    let world = World::start_matching("oid", |_| {}).await;
    let browser = world.browser();
    let answer = world.sign_in(&browser, GRACE.sub).await;
    assert!(sets_session(&answer), "{:?}", answer.text().await);
    assert_eq!(world.session(&browser).await["user"]["id"], json!(world.grace));
}

#[tokio::test]
async fn e_mail_matching_needs_a_verified_address() {
    let world = World::start_matching("email", |_| {}).await;
    let browser = world.browser();
    assert!(sets_session(&world.sign_in(&browser, GRACE.sub).await));
    assert_eq!(world.session(&browser).await["user"]["id"], json!(world.grace));
    // Mallory's address is unverified at the provider; provisioned or not, it is not used.
    world.scim.create(MALLORY.email, json!({"externalId": "someone-else"})).await;
    let (_, reason, _) = refusal(world.sign_in(&world.browser(), MALLORY.sub).await).await;
    assert_eq!(reason, "email-unverified");
}

#[tokio::test]
async fn signing_out_ends_the_session_and_offers_the_providers_sign_out() {
    let world = World::start().await;
    let browser = world.browser();
    world.sign_in(&browser, GRACE.sub).await;
    let csrf = world.session(&browser).await["csrfToken"].as_str().unwrap().to_owned();
    let out = browser.post(world.server().url("/admin/api/logout")).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    let answer: Value = out.json().await.unwrap();
    let url = answer["providerSignOut"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/session/end?", world.op.issuer)), "{url}");
    assert_eq!(query_param(url, "client_id"), CLIENT_ID);
    assert_eq!(query_param(url, "post_logout_redirect_uri"), world.server().url("/login"));
    assert_eq!(query_param(url, "id_token_hint").split('.').count(), 3, "the ID token, unsealed for this once");
    let me = browser.get(world.server().url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    // The provider accepts the hint: its sign-out page, not an error.
    let page = world.browser().get(url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the provider's sign-out confirmation");
    assert_eq!(world.audit("session.signed_out").await[0]["actor"]["kind"], json!("user"));
}

#[tokio::test]
async fn no_code_token_or_secret_is_stored_or_logged_in_plaintext() {
    let world = World::start().await;
    let browser = world.browser();
    let callback = world.authorize(&browser, ADA.sub).await;
    let code = query_param(&callback, "code");
    assert!(sets_session(&browser.get(&callback).send().await.unwrap()));
    let session_cookie = world.session(&browser).await;
    assert!(session_cookie["admin"].is_object());
    // Everything scimbox wrote: the database, its WAL, and anything else in the data directory.
    let mut written = Vec::new();
    for entry in std::fs::read_dir(world.server().data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            written.extend(std::fs::read(&path).unwrap());
        }
    }
    let contains = |needle: &str| written.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!contains(&code), "the code");
    assert!(!contains(CLIENT_SECRET), "the client secret");
    // An ID token's payload starts with the base64 of `{"sub":"…` or similar; its issuer is in every one.
    let issuer_b64 = base64_of(&format!("\"iss\":\"{}\"", world.op.issuer));
    assert!(!contains(&issuer_b64[4..issuer_b64.len() - 4]), "an ID token");
}

/// Base64url without padding, enough to look for an ID token's text.
fn base64_of(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn password_sign_in_can_be_turned_off_but_admin_create_still_makes_accounts() {
    let world = World::start_matching("sub", |config| config.admin.password_sign_in = false).await;
    let admin =
        world.server().store.create_admin(&actor(), "breakglass", hash("correct horse battery staple 42")).await;
    assert!(admin.is_ok(), "accounts can still be made (scimbox admin create)");
    let answer = world
        .server()
        .client
        .post(world.server().url("/admin/api/login"))
        .json(&json!({"username": "breakglass", "password": "correct horse battery staple 42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let text = answer.text().await.unwrap();
    assert!(text.contains("sign in with Okta"), "{text}");
    let session: Value =
        world.server().client.get(world.server().url("/admin/api/session")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        session["signIn"],
        json!({"password": false, "provider": {"name": "Okta", "start": "/auth/oidc/start"}})
    );
    // Sign-in through the provider is unaffected.
    assert!(sets_session(&world.sign_in(&world.browser(), ADA.sub).await));
}

fn hash(password: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default().hash_password(password.as_bytes()).unwrap().to_string()
}

#[tokio::test]
async fn an_unreachable_provider_is_a_clear_page_and_provisioning_goes_on() {
    // Nothing listens on the discard port: discovery fails when someone signs in, not at start-up.
    let server = TestServer::start_bound(|config, addr| {
        config.public_url = Some(scimbox::config::PublicUrl::parse(&format!("http://{addr}")).unwrap());
        config.oidc = Some(settings("http://127.0.0.1:9", "sub"));
    })
    .await;
    let answer = server.client.get(server.url("/auth/oidc/start")).send().await.unwrap();
    let (status, reason, _) = refusal(answer).await;
    assert_eq!((status, reason.as_str()), (StatusCode::BAD_GATEWAY, "provider-unavailable"));
    let token = server.token(Scope::Scim).await;
    let users = server.client.get(server.url("/scim/v2/Users")).bearer_auth(token).send().await.unwrap();
    assert_eq!(users.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_a_provider_the_sign_in_routes_say_so() {
    let server = TestServer::start().await;
    let answer = server.client.get(server.url("/auth/oidc/start")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert!(answer.text().await.unwrap().contains("not set up"));
    let answer = server.client.request(Method::POST, server.url("/auth/oidc/callback")).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    let session: Value =
        server.client.get(server.url("/admin/api/session")).send().await.unwrap().json().await.unwrap();
    assert_eq!(session["signIn"], json!({"password": true, "provider": null}));
}

/// The whole journey in Chromium: an admin-group member signs in with the provider's button and lands on
/// the admin page (with My access beside it), signs out here and at the provider; a plain person signs in
/// and sees only My access; deactivation over SCIM signs them out; a refused sign-in shows its page.
/// axe-core checks every page on the way, and the console stays free of errors until the deactivation
/// (whose 401 is the point).
#[tokio::test(flavor = "multi_thread")]
async fn in_a_browser_an_admin_and_a_person_sign_in_with_okta() {
    use crate::browser::{
        assert_accessible, assert_no_console_errors, browser, click, path, screenshot, start_driver, type_into,
        wait_for, wait_for_path, wait_for_text,
    };
    use fantoccini::Locator;

    let world = World::start().await;
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;

    // The sign-in page offers the provider beside the break-glass password form.
    client.goto(&world.server().url("/users")).await.unwrap();
    wait_for_path(&client, "/login").await;
    let button = wait_for(&client, "#provider-sign-in").await;
    assert_eq!(button.text().await.unwrap(), "Sign in with Okta");
    wait_for(&client, "#login-username").await;
    assert_accessible(&client, "the sign-in page with Okta").await;
    screenshot(&client, "oidc-01-sign-in").await;

    // Ada, in the admin group: the provider's form, then the page she asked for.
    button.click().await.unwrap();
    type_into(&client, "#login", ADA.sub).await;
    click(&client, "#sign-in").await;
    wait_for_path(&client, "/users").await;
    wait_for_text(&client, GRACE.email).await;
    assert_eq!(wait_for(&client, "#account-name").await.text().await.unwrap(), ADA.email);
    assert_no_console_errors(&driver, &client, "after an admin's sign-in").await;

    // The Integrations page's Okta sign-in section names the redirect URI to paste into Okta.
    client.goto(&world.server().url("/integrations")).await.unwrap();
    let redirect = wait_for(&client, "#oidc-redirect-uri").await;
    let value = redirect.prop("value").await.unwrap().unwrap_or_default();
    let text = if value.is_empty() { redirect.text().await.unwrap() } else { value };
    assert_eq!(text, world.server().url("/auth/oidc/callback"));
    wait_for_text(&client, "Members of the group").await;
    assert_accessible(&client, "Integrations with the Okta sign-in section").await;
    client.execute("document.getElementById('okta-sign-in').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&client, "oidc-02-integrations").await;

    // Her own access, beside the admin pages.
    client.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    click(&client, "a[data-nav='me']").await;
    wait_for_path(&client, "/me").await;
    wait_for_text(&client, "Ada's private notebook").await;
    wait_for_text(&client, "scimbox admins").await;
    assert_no_console_errors(&driver, &client, "on an admin's My access").await;

    // Okta takes Ada out of the admin group while she has the page open: the next admin request is
    // refused, and the page takes her to what she may still see.
    let remove = json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", world.ada)}]);
    assert_eq!(world.scim.patch(&format!("/Groups/{}", world.admins), remove).await.0, StatusCode::NO_CONTENT);
    client.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    click(&client, "a[data-nav='users']").await;
    wait_for_path(&client, "/me").await;
    let admin_nav = client.execute("return document.getElementById('admin-nav').hidden", vec![]).await.unwrap();
    assert_eq!(admin_nav, json!(true), "the admin pages are gone from the navigation");
    let errors = crate::browser::console_errors(&driver, &client).await;
    assert!(!errors.is_empty() && errors.iter().all(|e| e.contains("403")), "only the refused request: {errors:?}");
    let add = json!([{"op": "add", "path": "members", "value": [{"value": world.ada}]}]);
    assert_eq!(world.scim.patch(&format!("/Groups/{}", world.admins), add).await.0, StatusCode::NO_CONTENT);

    // Signing out here offers signing out at the provider too, which comes back to the sign-in page.
    click(&client, "#sign-out").await;
    wait_for(&client, "#signed-out").await;
    let provider_sign_out = wait_for(&client, "#provider-sign-out").await;
    assert_eq!(provider_sign_out.text().await.unwrap(), "Also sign out of Okta");
    assert_accessible(&client, "the sign-in page after signing out").await;
    provider_sign_out.click().await.unwrap();
    click(&client, "#sign-out").await; // the provider's own confirmation
    wait_for_path(&client, "/login").await;
    wait_for(&client, "#provider-sign-in").await;

    // Grace, who is not an admin: My access only.
    click(&client, "#provider-sign-in").await;
    type_into(&client, "#login", GRACE.sub).await;
    click(&client, "#sign-in").await;
    wait_for_path(&client, "/me").await;
    wait_for_text(&client, "Churn model").await;
    wait_for_text(&client, "through group Data Science").await;
    let row = wait_for(&client, &format!("tr[data-asset='{}']", world.capsule)).await;
    assert!(row.text().await.unwrap().contains("Editor"));
    let hidden_assets = client.find_all(Locator::Css("tr[data-asset]")).await.unwrap().len();
    assert_eq!(hidden_assets, 1, "only what Grace can reach");
    let admin_nav = client.execute("return document.getElementById('admin-nav').hidden", vec![]).await.unwrap();
    assert_eq!(admin_nav, json!(true), "no admin navigation");
    assert_accessible(&client, "My access").await;
    assert_no_console_errors(&driver, &client, "on a person's My access").await;
    screenshot(&client, "oidc-03-my-access").await;
    client.goto(&world.server().url("/users")).await.unwrap();
    wait_for_path(&client, "/me").await;

    // Okta deactivates Grace: her next request ends the session.
    let (status, _) = world
        .scim
        .patch(&format!("/Users/{}", world.grace), json!([{"op": "replace", "path": "active", "value": false}]))
        .await;
    assert_eq!(status, StatusCode::OK);
    client.refresh().await.unwrap();
    wait_for_path(&client, "/login").await;

    // Signing in again is refused with a page that says why.
    click(&client, "#provider-sign-in").await;
    let refusal = wait_for(&client, "#refusal").await;
    assert_eq!(refusal.attr("data-reason").await.unwrap().as_deref(), Some("deactivated"));
    assert!(refusal.text().await.unwrap().contains("deactivated"));
    assert_accessible(&client, "the refusal page").await;
    screenshot(&client, "oidc-04-refused").await;
    click(&client, "a[href='/login']").await;
    wait_for_path(&client, "/login").await;
    assert_eq!(path(&client).await, "/login");
}
