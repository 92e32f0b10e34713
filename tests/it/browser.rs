//! The admin page in a real browser: Debian's headless Chromium, driven over WebDriver (chromedriver)
//! against an in-process server on 127.0.0.1:0. One journey covers setup → sign out and in → generate a
//! token → provision a user with it over SCIM → see the user in Users and the request in Activity →
//! revoke the token → SCIM answers 401. Screenshots of every page are saved under
//! `target/screenshots/` for a person to look at.
//!
//! These tests never skip themselves: `.ci/test` installs `chromium` and `chromium-driver`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::{AdminServer, PASSWORD, eventually, scim_group, scim_user};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process, killed when dropped.
pub struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts chromedriver on a port the OS had free a moment ago, retrying with another port if that one
/// was taken in between, and waits until it answers `/status` as ready.
pub async fn start_driver() -> Driver {
    for path in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: install Debian's chromium and chromium-driver (bash .ci/test does)"
        );
    }
    let http = crate::support::client();
    for _ in 0..5 {
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if driver.child.try_wait().unwrap().is_some() {
                break; // It could not listen: try another port.
            }
            if let Ok(response) = http.get(format!("{}/status", driver.url)).send().await
                && let Ok(status) = response.json::<Value>().await
                && status["value"]["ready"] == true
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("chromedriver did not become ready");
}

pub async fn browser(driver: &Driver, profile: &Path) -> Client {
    browser_sized(driver, profile, (1280, 900)).await
}

/// A Chromium session with a window of `size` (width, height) that keeps the page's console messages,
/// for [`console_errors`].
pub async fn browser_sized(driver: &Driver, profile: &Path, size: (u32, u32)) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
                format!("--window-size={},{}", size.0, size.1), "--force-device-scale-factor=1",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(capabilities);
    builder.connect(&driver.url).await.expect("a Chromium session")
}

/// The page's console errors since the last call (chromedriver hands each message out once): failed
/// requests, uncaught exceptions, `console.error`.
pub async fn console_errors(driver: &Driver, client: &Client) -> Vec<String> {
    let session = client.session_id().await.unwrap().expect("a session");
    let response = crate::support::client()
        .post(format!("{}/session/{session}/se/log", driver.url))
        .json(&json!({ "type": "browser" }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let entries = body["value"].as_array().unwrap_or_else(|| panic!("chromedriver's log answer: {body}"));
    entries
        .iter()
        .filter(|entry| entry["level"] == "SEVERE")
        .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Fails the test when the page wrote an error to its console since the last check.
pub async fn assert_no_console_errors(driver: &Driver, client: &Client, context: &str) {
    let errors = console_errors(driver, client).await;
    assert!(errors.is_empty(), "console errors {context}: {errors:#?}");
}

/// axe-core, from the npm package pinned in tests/node (`npm ci --prefix tests/node`, which `.ci/test`
/// runs).
fn axe_source() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `npm ci --prefix tests/node` (bash .ci/test does)", path.display()))
}

/// Runs axe-core on the page as it is now (an open dialog included) and fails on any violation.
pub async fn assert_accessible(client: &Client, context: &str) {
    let violations = accessibility_violations(client).await;
    assert_eq!(violations, json!([]), "axe-core violations on {context}");
}

/// axe-core's violations on the page as it is now: id, impact, help and the first elements of each.
pub async fn accessibility_violations(client: &Client) -> Value {
    let present = client.execute("return typeof axe !== 'undefined'", vec![]).await.unwrap();
    if present != json!(true) {
        client.execute(&format!("{}\nreturn true;", axe_source()), vec![]).await.expect("axe-core loads");
    }
    client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }))))
               .catch((e) => done([{ id: 'axe-failed', help: String(e) }]));",
            vec![],
        )
        .await
        .unwrap()
}

fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

pub async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

/// Waits until the page's visible text contains `text`.
pub async fn wait_for_text(client: &Client, text: &str) {
    eventually(&format!("the page to show {text:?}"), || async {
        let body = client.find(Locator::Css("body")).await.ok()?.text().await.ok()?;
        body.contains(text).then_some(())
    })
    .await;
}

pub async fn type_into(client: &Client, css: &str, text: &str) {
    let element = wait_for(client, css).await;
    element.clear().await.unwrap();
    element.send_keys(text).await.unwrap();
}

pub async fn click(client: &Client, css: &str) {
    wait_for(client, css).await.click().await.unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

pub async fn path(client: &Client) -> String {
    client.current_url().await.unwrap().path().to_owned()
}

/// Waits until no dialog is left in the page.
pub async fn dialog_closed(client: &Client) {
    eventually("the dialog to close", || async {
        client.find_all(Locator::Css("dialog")).await.ok()?.is_empty().then_some(())
    })
    .await;
}

pub async fn wait_for_path(client: &Client, wanted: &str) {
    eventually(&format!("the page {wanted}"), || async { (path(client).await == wanted).then_some(()) }).await;
}

async fn focused_tag(client: &Client) -> String {
    client.execute("return document.activeElement.tagName", vec![]).await.unwrap().as_str().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_connects_a_provider_and_watches_it_work() {
    let server = AdminServer::start().await;
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;

    // Setup: the one-time link creates the first admin and signs them in.
    client.goto(&server.url(&format!("/setup#code={}", server.setup_code))).await.unwrap();
    wait_for(&client, "#setup-username").await;
    assert_eq!(path(&client).await, "/setup");
    assert!(!client.current_url().await.unwrap().as_str().contains(&server.setup_code), "the code leaves the URL");
    type_into(&client, "#setup-username", "root").await;
    type_into(&client, "#setup-password", PASSWORD).await;
    type_into(&client, "#setup-repeat", "not the same password").await;
    click(&client, "form button[type=submit]").await;
    wait_for_text(&client, "The two passwords differ.").await;
    type_into(&client, "#setup-repeat", PASSWORD).await;
    screenshot(&client, "01-setup").await;
    click(&client, "form button[type=submit]").await;
    wait_for_path(&client, "/integrations").await;
    let base_url = wait_for(&client, "#scim-base-url").await.prop("value").await.unwrap();
    assert_eq!(base_url.as_deref(), Some(format!("{}/scim/v2", server.base).as_str()));
    wait_for_text(&client, "No tokens yet").await;
    click(&client, ".copy-field button").await;
    wait_for_text(&client, "Copied").await;
    // The announcement lands on the next animation frame after the visible message.
    eventually("the copy to be announced to screen readers", || async {
        let said = client.execute("return document.getElementById('announcer').textContent", vec![]).await.ok()?;
        (said == json!("Copied to clipboard")).then_some(())
    })
    .await;

    // Sign out, then in again (a wrong password first).
    click(&client, "#sign-out").await;
    wait_for_path(&client, "/login").await;
    type_into(&client, "#login-username", "root").await;
    type_into(&client, "#login-password", "wrong password").await;
    click(&client, "form button[type=submit]").await;
    wait_for_text(&client, "The user name or the password is wrong.").await;
    screenshot(&client, "02-login").await;
    type_into(&client, "#login-password", PASSWORD).await;
    click(&client, "form button[type=submit]").await;
    wait_for_path(&client, "/integrations").await;

    // Generate a token: named, shown once with its own copy button.
    click(&client, "#generate-token").await;
    wait_for(&client, "dialog #token-name").await;
    assert_eq!(focused_tag(&client).await, "INPUT", "the dialog takes the focus");
    click(&client, "dialog button[type=submit]").await;
    wait_for_text(&client, "Give the token a name.").await;
    type_into(&client, "#token-name", "Okta production").await;
    click(&client, "dialog button[type=submit]").await;
    let token = wait_for(&client, "#new-token").await.prop("value").await.unwrap().expect("the token is shown");
    assert!(token.starts_with("scimbox_"), "{token}");
    wait_for_text(&client, "You will not see it again").await;
    screenshot(&client, "03-token-created").await;
    // Escape, twice, does not lose the token: the dialog stays until the admin says it is copied.
    for _ in 0..2 {
        client.find(Locator::Css("#new-token")).await.unwrap().send_keys("\u{E00C}").await.unwrap();
    }
    wait_for_text(&client, "it cannot be shown again").await;
    let still = client.find(Locator::Css("dialog[open] #new-token")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(still.as_deref(), Some(token.as_str()), "the token is still shown");
    click(&client, "#token-done").await;
    wait_for(&client, "tr[data-token]").await;
    let page = client.source().await.unwrap();
    assert!(!page.contains(&token), "the token is gone from the page once the dialog closes");

    // The identity provider uses the token.
    let alice = scim_user(&server, &token, "alice@example.com", "Alice", true).await;
    let bob = scim_user(&server, &token, "bob@example.com", "Bob", false).await;
    scim_group(&server, &token, "Engineering", &[&alice, &bob]).await;
    let conflict = server
        .scim(Method::POST, "Users", &token)
        .json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    // The SCIM page says the provider is connected: its last request, its last failure (the conflict,
    // with the error's detail) and its requests in the last day, linked to Activity for that token.
    // The base URL is loopback and plain http here, which the page warns about.
    let connected = eventually("the token's requests on the SCIM page", || async {
        client.refresh().await.ok()?;
        let cell = client.find(Locator::Css("tr[data-token] td.connection")).await.ok()?.text().await.ok()?;
        cell.contains("4 requests in 24 h").then_some(cell)
    })
    .await;
    assert!(connected.contains("Connected"), "{connected}");
    assert!(connected.contains("(409)") && connected.contains("already taken"), "{connected}");
    let warning = wait_for(&client, "#base-url-warning").await.text().await.unwrap();
    assert!(warning.contains("--public-url") && warning.contains("plain http"), "{warning}");
    screenshot(&client, "04-integrations").await;
    click(&client, "a.token-activity").await;
    eventually("Activity filtered by the token", || async {
        let path = client.current_url().await.ok()?;
        let body = client.find(Locator::Css("main")).await.ok()?.text().await.ok()?;
        (path.query().is_some_and(|q| q.starts_with("token=")) && body.contains("4 requests with one token"))
            .then_some(())
    })
    .await;
    client.back().await.unwrap();
    wait_for_text(&client, "Okta production").await;

    // The user shows in Users, and in their own page with their group.
    click(&client, "a[data-nav=users]").await;
    wait_for_path(&client, "/users").await;
    wait_for_text(&client, "alice@example.com").await;
    wait_for_text(&client, "Deactivated").await;
    assert_eq!(focused_tag(&client).await, "H1", "navigation moves the focus to the page heading");
    screenshot(&client, "05-users").await;
    type_into(&client, "#user-search", "bo").await;
    eventually("the search to narrow the list", || async {
        let body = client.find(Locator::Css("main")).await.ok()?.text().await.ok()?;
        (body.contains("1 user") && !body.contains("alice@example.com")).then_some(())
    })
    .await;
    client.goto(&server.url("/users")).await.unwrap();
    wait_for_text(&client, "Alice Example").await;
    click(&client, "main table a").await;
    wait_for_path(&client, &format!("/users/{alice}")).await;
    wait_for_text(&client, "Engineering").await;
    wait_for_text(&client, "Managed by SCIM").await;
    screenshot(&client, "06-user").await;

    click(&client, "a[data-nav=groups]").await;
    wait_for_text(&client, "Engineering").await;
    screenshot(&client, "07-groups").await;
    click(&client, "main table a").await;
    wait_for_text(&client, "bob@example.com").await;
    screenshot(&client, "08-group").await;

    // The request shows in Activity.
    click(&client, "a[data-nav=activity]").await;
    wait_for(&client, "#activity-refresh").await;
    eventually("the request in Activity", || async {
        client.find(Locator::Css("#activity-refresh")).await.ok()?.click().await.ok()?;
        let body = client.find(Locator::Css("main")).await.ok()?.text().await.ok()?;
        (body.contains("created user alice@example.com") && body.contains("already taken")).then_some(())
    })
    .await;
    // Unfiltered, the count line is the count alone.
    let count = wait_for(&client, "main p.result-count").await.text().await.unwrap();
    assert_eq!(count.trim(), "4 requests", "the Activity count line");
    screenshot(&client, "09-activity").await;
    // Each row links to the user or group it touched.
    click(&client, &format!("main tbody a[href='/users/{alice}']")).await;
    wait_for_path(&client, &format!("/users/{alice}")).await;

    // Revoke the token (with a confirmation); SCIM refuses it at once.
    click(&client, "a[data-nav=integrations]").await;
    click(&client, "tr[data-token] button").await;
    wait_for(&client, "dialog .button.danger").await;
    wait_for_text(&client, "Revoke token “Okta production”?").await;
    screenshot(&client, "10-revoke").await;
    click(&client, "dialog .button.danger").await;
    wait_for_text(&client, "Revoked").await;
    let refused = server.scim(Method::GET, "Users", &token).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // Activity names the revoked token the refused request presented, and the SCIM page says it is refused.
    client.goto(&server.url("/activity")).await.unwrap();
    eventually("the refused request, named by its revoked token", || async {
        client.find(Locator::Css("#activity-refresh")).await.ok()?.click().await.ok()?;
        let row = client.find(Locator::Css("main tbody tr")).await.ok()?.text().await.ok()?;
        (row.contains("Okta production") && row.contains("revoked") && row.contains("401")).then_some(())
    })
    .await;
    client.goto(&server.url("/integrations")).await.unwrap();
    let cell = wait_for(&client, "tr[data-token] td.connection").await.text().await.unwrap();
    assert!(cell.contains("Refused") && cell.contains("(401)"), "{cell}");

    click(&client, "a[data-nav=admins]").await;
    wait_for_text(&client, "(you)").await;
    screenshot(&client, "11-admins").await;

    // Audit: who did what, newest first, with the failed sign-in, the revocation by root and the
    // identity provider's users; filtered by action, each record linked to what it concerns.
    click(&client, "a[data-nav=audit]").await;
    wait_for_path(&client, "/audit").await;
    wait_for_text(&client, "token.revoked").await;
    wait_for_text(&client, "session.sign_in_failed").await;
    wait_for_text(&client, "user.created").await;
    let first_action = client.find(Locator::Css("main tbody tr td:nth-child(4)")).await.unwrap().text().await.unwrap();
    assert_eq!(first_action, "token.revoked", "newest first");
    screenshot(&client, "12-audit").await;
    client.find(Locator::Css("#audit-action")).await.unwrap().select_by_value("user.created").await.unwrap();
    eventually("the filter to leave only user.created", || async {
        let body = client.find(Locator::Css("main tbody")).await.ok()?.text().await.ok()?;
        (body.contains("alice@example.com") && !body.contains("token.revoked")).then_some(())
    })
    .await;
    assert!(client.current_url().await.unwrap().as_str().contains("action=user.created"), "the filter is in the URL");
    let export = client.find(Locator::Css("#audit-export")).await.unwrap().attr("href").await.unwrap().unwrap();
    assert!(export.starts_with("/admin/api/audit/export"), "{export}");
    click(&client, &format!("main tbody a[href='/users/{alice}']")).await;
    wait_for_path(&client, &format!("/users/{alice}")).await;

    // A phone-sized window: the same pages stay usable.
    client.set_window_size(390, 844).await.unwrap();
    client.goto(&server.url("/users")).await.unwrap();
    wait_for_text(&client, "alice@example.com").await;
    screenshot(&client, "13-users-narrow").await;

    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn dialogs_close_with_escape_and_the_keyboard_reaches_everything() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let (_, _) = server.token(&session, "okta").await;
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;

    client.goto(&server.url("/login")).await.unwrap();
    wait_for(&client, "#login-username").await;
    // A signed-out load asks nothing that fails (a failed request is a console error in the browser).
    let failed = client
        .execute(
            "return performance.getEntriesByType('resource').filter((e) => e.responseStatus >= 400).map((e) => e.name)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(failed, json!([]), "requests that failed on a signed-out load");
    let measured = client
        .execute("return performance.getEntriesByType('resource').some((e) => e.responseStatus === 200)", vec![])
        .await
        .unwrap();
    assert_eq!(
        measured,
        json!(true),
        "the browser reports each request's status (else the check above proves nothing)"
    );
    // Sign in with the keyboard alone: type, Tab, type, Enter.
    type_into(&client, "#login-username", "root").await;
    let username = wait_for(&client, "#login-username").await;
    username.send_keys(&format!("\u{E004}{PASSWORD}\u{E007}")).await.unwrap();
    wait_for_path(&client, "/integrations").await;
    wait_for(&client, "tr[data-token]").await;

    click(&client, "tr[data-token] button").await;
    wait_for(&client, "dialog[open]").await;
    let active = client.find(Locator::Css("dialog[open] .button")).await.unwrap();
    active.send_keys("\u{E00C}").await.unwrap(); // Escape
    dialog_closed(&client).await;
    let focused = client.execute("return document.activeElement.getAttribute('aria-label')", vec![]).await.unwrap();
    assert_eq!(focused, json!("Revoke token okta"), "the focus returns to the button that opened the dialog");
    let tokens = server.store.list_tokens().await.unwrap();
    assert!(tokens[0].revoked_at.is_none(), "Escape revokes nothing");
    client.close().await.unwrap();
}

/// A dialog belongs to its page: Back closes it, and so does a session that ends under it, which sends
/// the admin to sign in again with a sentence saying so, then back to the same page with the unsaved
/// permission list waiting in the Share dialog.
#[tokio::test(flavor = "multi_thread")]
async fn dialogs_end_with_their_page_and_an_ended_session_keeps_the_unsaved_permission_list() {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let (_, token) = server.token(&session, "okta").await;
    let owner = scim_user(&server, &token, "owner@example.com", "Owner", true).await;
    let member = scim_user(&server, &token, "member@example.com", "Member", true).await;
    let team = scim_group(&server, &token, "Data Science", &[&member]).await;
    let new =
        scimbox::store::NewAsset { kind: scimbox::sharing::AssetKind::Capsule, name: "Churn".into(), owner_id: owner };
    let asset = server.store.create_asset(&crate::support::actor(), new).await.unwrap().id;
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    let page = format!("/assets/{asset}");

    client.goto(&server.url(&format!("/login?next={page}"))).await.unwrap();
    type_into(&client, "#login-username", "root").await;
    type_into(&client, "#login-password", PASSWORD).await;
    click(&client, "form button[type=submit]").await;
    wait_for_path(&client, &page).await;

    // Back (and Forward) with the Share dialog open: the dialog goes with its page.
    click(&client, "#share-button").await;
    wait_for(&client, "dialog[open]").await;
    click(&client, "dialog button.button:not(.primary)").await;
    click(&client, "a[data-nav=users]").await;
    wait_for_path(&client, "/users").await;
    client.back().await.unwrap();
    wait_for_path(&client, &page).await;
    click(&client, "#share-button").await;
    wait_for(&client, "dialog[open]").await;
    client.forward().await.unwrap();
    wait_for_path(&client, "/users").await;
    dialog_closed(&client).await;

    // The session ends while a change waits in the Share dialog.
    client.goto(&server.url(&page)).await.unwrap();
    click(&client, "#share-button").await;
    type_into(&client, "#share-search", "Data").await;
    click(&client, &format!("#share-search-options [role=option][data-id=\"{team}\"]")).await;
    wait_for(&client, &format!("select.level-select[data-principal=\"{team}\"]")).await;
    let conn = rusqlite::Connection::open(server.dir.path().join(scimbox::store::DATABASE_FILE)).unwrap();
    conn.execute("DELETE FROM admin_sessions", []).unwrap();
    click(&client, "#share-save").await;
    wait_for_path(&client, "/login").await;
    wait_for_text(&client, "Your session ended — sign in again").await;
    assert!(client.find_all(Locator::Css("dialog")).await.unwrap().is_empty(), "no dialog over the sign-in page");
    screenshot(&client, "session-ended").await;
    type_into(&client, "#login-username", "root").await;
    type_into(&client, "#login-password", PASSWORD).await;
    click(&client, "form button[type=submit]").await;
    wait_for_path(&client, &page).await;
    wait_for(&client, "#share-restored").await;
    let kept = wait_for(&client, &format!("dialog select.level-select[data-principal=\"{team}\"]")).await;
    assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("viewer"));
    screenshot(&client, "session-ended-changes-kept").await;
    click(&client, "#share-save").await;
    // The dialog's own rows carry the same attribute: wait for it to close, then for the page's row.
    dialog_closed(&client).await;
    wait_for(&client, &format!("main tr[data-principal=\"{team}\"]")).await;
    let saved = server.store.asset_permissions(&asset).await.unwrap();
    assert_eq!(saved.grants.len(), 1, "the kept change was saved");
    client.close().await.unwrap();
}
