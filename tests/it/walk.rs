//! The admin page walked as an admin would after Okta has provisioned a team: 130 Okta-shaped users, three
//! pushed groups (members named by their e-mail address, as Okta sends them), assets owned by people who
//! then leave. The same walk runs in a 1366×900 window and in a 390×844 (phone) one. Every page and dialog
//! it opens is checked with axe-core (pinned in tests/node) and must leave nothing in the browser's
//! console. Screenshots go to `target/screenshots/walk-{wide,phone}-NN-*.png`, numbered by the item of
//! the page's second pass they show.

use fantoccini::{Client, Locator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::{AdminServer, PASSWORD, eventually};
use crate::browser::{
    Driver, accessibility_violations, assert_accessible, assert_no_console_errors, browser_sized, click,
    console_errors, dialog_closed, path, screenshot, start_driver, type_into, wait_for, wait_for_path, wait_for_text,
};

const GIVEN: [&str; 7] = ["Priya", "Babs", "Chidi", "Lucia", "Min", "Ravi", "Anne"];
const FAMILY: [&str; 5] = ["Singh", "Jensen", "Okafor", "Garcia", "Kim"];
const USERS: usize = 130;

/// User `i` as Okta provisions them: the e-mail address as userName, a display name, an Okta user id.
fn okta_user(i: usize) -> Value {
    let (given, family) = (GIVEN[i % GIVEN.len()], FAMILY[i % FAMILY.len()]);
    let domain = if i.is_multiple_of(2) { "corp.example" } else { "lab.example" };
    let email = format!("{}.{}{i:04}@{domain}", given.to_lowercase(), family.to_lowercase());
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "displayName": format!("{given} {family}"),
        "emails": [{"value": email, "type": "work", "primary": true}],
        "externalId": format!("00u{i:06}"),
        "active": true,
    })
}

struct Team {
    server: AdminServer,
    token: String,
    users: Vec<(String, String)>,
    science: String,
    leaver: String,
    gone: String,
    churn: String,
}

async fn post(server: &AdminServer, token: &str, path: &str, body: Value) -> String {
    let response = server.scim(Method::POST, path, token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn provision() -> Team {
    let server = AdminServer::start().await;
    let session = server.set_up("root").await;
    let (_, token) = server.token(&session, "Okta production").await;
    let mut users = Vec::new();
    for i in 0..USERS {
        let body = okta_user(i);
        let user_name = body["userName"].as_str().unwrap().to_owned();
        users.push((post(&server, &token, "Users", body).await, user_name));
    }
    // Okta pushes a group's members with their e-mail address as `display`.
    let group = |name: &str, range: std::ops::Range<usize>| {
        let members: Vec<Value> =
            users[range].iter().map(|(id, email)| json!({"value": id, "display": email})).collect();
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members})
    };
    let science = post(&server, &token, "Groups", group("Data Science", 0..40)).await;
    post(&server, &token, "Groups", group("Engineering", 40..50)).await;
    post(&server, &token, "Groups", group("Platform Ops", 50..53)).await;

    // The leaver (user 1) owns two assets, one with the Data Science group as a co-owner, and holds Owner
    // on a third owned by user 2. User 3 owns one asset alone and is deleted in the walk.
    let actor = crate::support::actor();
    let new =
        |name: &str, kind, owner: &str| scimbox::store::NewAsset { kind, name: name.into(), owner_id: owner.into() };
    use scimbox::sharing::{AssetKind, Grant, Grantee, Level};
    let store = &server.store;
    let (leaver, gone) = (users[1].0.clone(), users[3].0.clone());
    let churn = store.create_asset(&actor, new("Churn model", AssetKind::Capsule, &leaver)).await.unwrap().id;
    let sales = store.create_asset(&actor, new("Sales data", AssetKind::DataAsset, &leaver)).await.unwrap().id;
    let nightly =
        store.create_asset(&actor, new("Nightly pipeline", AssetKind::Pipeline, &users[2].0)).await.unwrap().id;
    store.create_asset(&actor, new("Forecast notebook", AssetKind::Capsule, &gone)).await.unwrap();
    let owner = |grantee| vec![Grant { grantee, level: Level::Owner }];
    store.set_asset_permissions(&actor, &sales, owner(Grantee::Group(science.clone()))).await.unwrap();
    store.set_asset_permissions(&actor, &nightly, owner(Grantee::User(leaver.clone()))).await.unwrap();
    Team { server, token, users, science, leaver, gone, churn }
}

async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// Whether the element `css` is drawn wholly inside the window's width (not cut off to the side).
async fn within_width(client: &Client, css: &str) -> bool {
    let script = format!(
        "const e = document.querySelector({css:?}); if (!e) return false; const r = e.getBoundingClientRect();
         return r.width > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth;"
    );
    js(client, &script).await == json!(true)
}

async fn wait_for_main(client: &Client, text: &str) {
    eventually(&format!("main to show {text:?}"), || async {
        let body = client.find(Locator::Css("main")).await.ok()?.text().await.ok()?;
        body.contains(text).then_some(())
    })
    .await;
}

/// Types `text` into the picker `id` and picks the option that names it, once the list shows only what
/// matches (not the list the field opened with).
async fn pick(client: &Client, id: &str, text: &str) {
    type_into(client, &format!("#{id}"), text).await;
    let option = eventually(&format!("{text:?} alone in the list"), || async {
        let options = client.find_all(Locator::Css(&format!("#{id}-options [role=option]"))).await.ok()?;
        let [only] = &options[..] else { return None };
        only.text().await.ok()?.contains(text).then(|| only.clone())
    })
    .await;
    option.click().await.unwrap();
}

/// Goes to a page through the navigation, which is at the top of the page.
async fn nav(client: &Client, name: &str) {
    client.execute("window.scrollTo(0, 0); return true", vec![]).await.unwrap();
    click(client, &format!("a[data-nav={name}]")).await;
}

/// Opens a dialog with the button `opener`, checks it with axe-core, and closes it with Escape.
async fn check_dialog(driver: &Driver, client: &Client, opener: &str, what: &str) {
    click(client, opener).await;
    wait_for(client, "dialog[open]").await;
    // The dialog's first field may open a list; let it settle before axe-core looks.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    check_page(driver, client, what).await;
    for _ in 0..2 {
        if client.find_all(Locator::Css("dialog[open]")).await.unwrap().is_empty() {
            break;
        }
        client.active_element().await.unwrap().send_keys("\u{E00C}").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    dialog_closed(client).await;
}

/// A page is done when axe-core finds nothing and the console holds no error.
async fn check_page(driver: &Driver, client: &Client, what: &str) {
    assert_accessible(client, what).await;
    assert_no_console_errors(driver, client, what).await;
}

async fn walk(size: (u32, u32), tag: &str) {
    let team = provision().await;
    let server = &team.server;
    let wide = size.0 > 640;
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser_sized(&driver, profile.path(), size).await;
    let shot = |name: &str| format!("walk-{tag}-{name}");

    client.goto(&server.url("/login")).await.unwrap();
    wait_for(&client, "#login-username").await;
    check_page(&driver, &client, "the sign-in page").await;
    // Item 13: an error stands next to its field.
    click(&client, "form button[type=submit]").await;
    let error = wait_for(&client, "#login-username-error").await.text().await.unwrap();
    assert!(error.contains("Enter your user name."), "{error}");
    type_into(&client, "#login-username", "root").await;
    type_into(&client, "#login-password", PASSWORD).await;
    click(&client, "form button[type=submit]").await;
    wait_for_path(&client, "/integrations").await;

    // Item 7: the SCIM page says Okta is connected, and warns that this base URL is loopback and http.
    let connection = wait_for(&client, "tr[data-token] td.connection").await;
    let connection = connection.text().await.unwrap();
    assert!(connection.contains("Connected") && connection.contains("requests in 24 h"), "{connection}");
    assert!(wait_for(&client, "#base-url-warning").await.text().await.unwrap().contains("--public-url"));
    // Item 12: the Revoke button is on screen at every width.
    assert!(within_width(&client, "tr[data-token] button").await, "the Revoke button is cut off");
    screenshot(&client, &shot("07-integrations")).await;
    check_page(&driver, &client, "Integrations").await;
    // Item 5: the new token's dialog outlives Escape until the admin says it is copied.
    click(&client, "#generate-token").await;
    type_into(&client, "#token-name", "Okta staging").await;
    check_page(&driver, &client, "the Generate token dialog").await;
    click(&client, "dialog button[type=submit]").await;
    let token = wait_for(&client, "#new-token").await;
    for _ in 0..2 {
        token.send_keys("\u{E00C}").await.unwrap();
    }
    wait_for_text(&client, "it cannot be shown again").await;
    check_page(&driver, &client, "the new token's dialog").await;
    screenshot(&client, &shot("05-token-kept")).await;
    click(&client, "#token-done").await;
    dialog_closed(&client).await;
    check_dialog(&driver, &client, "tr[data-token] button", "the Revoke confirmation").await;

    // Item 9: the Users table is dense, one line a row, the identical user name and e-mail in one column,
    // no constant column, sorted on the server by the column headers.
    nav(&client, "users").await;
    wait_for_path(&client, "/users").await;
    wait_for_main(&client, &format!("{USERS} users")).await;
    // Read as text in the document: at phone width the header row is there for screen readers only.
    let headers =
        js(&client, "return [...document.querySelectorAll('main thead th')].map((th) => th.textContent).join('|')")
            .await;
    let headers = headers.as_str().unwrap().to_lowercase();
    assert!(headers.contains("user name and e-mail"), "{headers}");
    assert!(!headers.contains("source") && !headers.split('|').any(|h| h == "e-mail"), "{headers}");
    if wide {
        let rows = js(
            &client,
            "const rows = [...document.querySelectorAll('main tbody tr')];
             return { tallest: Math.max(...rows.map((r) => r.getBoundingClientRect().height)),
                      seen: rows.filter((r) => r.getBoundingClientRect().bottom <= window.innerHeight).length };",
        )
        .await;
        assert!(rows["tallest"].as_f64().unwrap() < 44.0, "every row is one line: {rows}");
        assert!(rows["seen"].as_u64().unwrap() >= 12, "at least 12 rows at 1366×900: {rows}");
    } else {
        // Item 12: each row is a card; its status is on screen.
        assert!(within_width(&client, "main tbody tr td:nth-child(3) .badge").await, "the status is cut off");
    }
    screenshot(&client, &shot("09-users")).await;
    check_page(&driver, &client, "Users").await;
    if wide {
        click(&client, "main th button[data-sort=lastModified]").await;
        wait_for(&client, "main th[aria-sort=ascending] button[data-sort=lastModified]").await;
        click(&client, "main th button[data-sort=lastModified]").await;
    } else {
        // The cards' header row is for screen readers only: a "Sort by" list orders them.
        client
            .find(Locator::Css("main select.sort-by"))
            .await
            .unwrap()
            .select_by_value("lastModified:desc")
            .await
            .unwrap();
    }
    wait_for(&client, "main th[aria-sort=descending] button[data-sort=lastModified]").await;
    let first = client.find(Locator::Css("main tbody tr")).await.unwrap().text().await.unwrap();
    assert!(first.contains(&format!("{:04}@", USERS - 1)), "the last change first: {first}");
    assert!(client.current_url().await.unwrap().as_str().contains("sort=lastModified&order=desc"));

    // Item 6: the start of any word: a last name, a domain, a number.
    for (text, found) in
        [("Singh", "26 users"), ("corp.example", "65 users"), ("0042", "1 user"), ("anne kim", "3 users")]
    {
        type_into(&client, "#user-search", text).await;
        wait_for_main(&client, found).await;
    }
    screenshot(&client, &shot("06-search")).await;

    // Item 11: a page size, a jump to a page, and the next page read from its top.
    client.goto(&server.url("/users")).await.unwrap();
    wait_for_main(&client, "1–50 of 130").await;
    client.find(Locator::Css(".pager-size")).await.unwrap().select_by_value("25").await.unwrap();
    wait_for_main(&client, "1–25 of 130").await;
    type_into(&client, ".pager-page", "4").await;
    click(&client, ".pager-jump button").await;
    wait_for_main(&client, "76–100 of 130").await;
    let top = js(&client, "return document.querySelector('.list-top').getBoundingClientRect().top").await;
    assert!((0.0..250.0).contains(&top.as_f64().unwrap()), "the list's top is in view: {top}");
    screenshot(&client, &shot("11-paging")).await;
    client.execute("window.scrollTo(0, document.body.scrollHeight)", vec![]).await.unwrap();
    click(&client, ".pager button:nth-of-type(2)").await;
    wait_for_main(&client, "101–125 of 130").await;
    let top = js(&client, "return document.querySelector('.list-top').getBoundingClientRect().top").await;
    assert!((0.0..250.0).contains(&top.as_f64().unwrap()), "Next shows the page from its top: {top}");
    client.refresh().await.unwrap();
    wait_for_main(&client, "101–125 of 130").await;
    check_page(&driver, &client, "Users, paged").await;

    // Item 10: members by their own name (Okta's display is the e-mail), searched and sorted.
    client.goto(&server.url(&format!("/groups/{}", team.science))).await.unwrap();
    wait_for_main(&client, "40 members").await;
    let names = js(&client, "return [...document.querySelectorAll('main tbody th')].map((e) => e.textContent)").await;
    let names: Vec<&str> = names.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(!names.is_empty() && names.iter().all(|n| !n.contains('@')), "members named by their name: {names:?}");
    type_into(&client, "#member-search", "singh").await;
    wait_for_main(&client, "8 members match").await;
    if wide {
        click(&client, "main th button[data-sort=userName]").await;
    } else {
        client.find(Locator::Css("main select.sort-by")).await.unwrap().select_by_value("userName:asc").await.unwrap();
    }
    wait_for(&client, "main th[aria-sort=ascending] button[data-sort=userName]").await;
    screenshot(&client, &shot("10-members")).await;
    check_page(&driver, &client, "a group's members").await;
    nav(&client, "groups").await;
    wait_for_main(&client, "3 groups").await;
    check_page(&driver, &client, "Groups").await;

    // Item 1: the Share dialog lists groups with their member counts as soon as its field has the focus,
    // and finds a group by any word of its name. Item 5: one Escape closes one thing.
    client.goto(&server.url(&format!("/assets/{}", team.churn))).await.unwrap();
    wait_for(&client, "#share-button").await;
    check_page(&driver, &client, "an asset's page").await;
    check_dialog(&driver, &client, "#rename-asset", "the Rename dialog").await;
    check_dialog(&driver, &client, "#change-owner", "the Change owner dialog").await;
    check_dialog(&driver, &client, "#delete-asset", "the Delete confirmation").await;
    click(&client, "#share-button").await;
    wait_for(&client, "#share-search-options [role=option][data-type=group]").await;
    let options = client.find(Locator::Css("#share-search-options")).await.unwrap().text().await.unwrap();
    assert!(options.contains("Data Science") && options.contains("40 members"), "{options}");
    screenshot(&client, &shot("01-picker-open")).await;
    check_page(&driver, &client, "the Share dialog with its list open").await;
    type_into(&client, "#share-search", "Science").await;
    eventually("Data Science alone", || async {
        let text = client.find(Locator::Css("#share-search-options")).await.ok()?.text().await.ok()?;
        (text.contains("Data Science") && !text.contains("Engineering")).then_some(())
    })
    .await;
    click(&client, &format!("#share-search-options [role=option][data-id=\"{}\"]", team.science)).await;
    wait_for(&client, &format!("dialog select.level-select[data-principal=\"{}\"]", team.science)).await;
    // Item 12: the row's Remove button is on screen.
    assert!(within_width(&client, "dialog tbody .actions button").await, "Remove is cut off");
    screenshot(&client, &shot("12-share-dialog")).await;
    click(&client, "#share-search").await;
    wait_for(&client, "#share-search[aria-expanded=true]").await;
    client.find(Locator::Css("#share-search")).await.unwrap().send_keys("\u{E00C}").await.unwrap();
    wait_for(&client, "#share-search[aria-expanded=false]").await;
    assert!(
        !client.find_all(Locator::Css("dialog[open]")).await.unwrap().is_empty(),
        "the first Escape closes the list only"
    );
    client.find(Locator::Css("#share-search")).await.unwrap().send_keys("\u{E00C}").await.unwrap();
    dialog_closed(&client).await;
    // Item 4: Back with a dialog open takes the dialog with its page.
    click(&client, "#share-button").await;
    wait_for(&client, "dialog[open]").await;
    client.back().await.unwrap();
    dialog_closed(&client).await;
    assert_no_console_errors(&driver, &client, "Share and Back").await;

    // Item 2: Extend ownership says which assets change, shows co-owners, and says what it did.
    client.goto(&server.url(&format!("/users/{}", team.leaver))).await.unwrap();
    wait_for(&client, "main tr[data-asset]").await;
    let owned = client.find(Locator::Css("main section.card table")).await.unwrap().text().await.unwrap();
    assert!(owned.contains("Sales data") && owned.contains("Data Science"), "a co-owning group: {owned}");
    assert!(owned.contains("Nightly pipeline") && owned.contains("Owner grant"), "{owned}");
    screenshot(&client, &shot("02-owned")).await;
    check_page(&driver, &client, "a user with owned assets").await;
    click(&client, "#extend-ownership").await;
    pick(&client, "extend-search", "Engineering").await;
    let changes = wait_for(&client, "#extend-changes").await.text().await.unwrap();
    for name in ["Churn model", "Sales data", "Nightly pipeline"] {
        assert!(changes.contains(name), "{name} is listed: {changes}");
    }
    let confirm = wait_for(&client, "#extend-confirm").await.text().await.unwrap();
    assert_eq!(confirm, "Extend ownership of 3 assets");
    screenshot(&client, &shot("02-extend-preview")).await;
    check_page(&driver, &client, "the Extend ownership dialog").await;
    click(&client, "#extend-confirm").await;
    let result = wait_for(&client, "#extend-result").await.text().await.unwrap();
    assert!(result.contains("Engineering is now an Owner of 3 assets"), "{result}");
    eventually("the co-owners to include Engineering", || async {
        let text = client.find(Locator::Css("main section.card table")).await.ok()?.text().await.ok()?;
        (text.matches("Engineering").count() == 3).then_some(())
    })
    .await;
    screenshot(&client, &shot("02-extend-done")).await;
    // Offered only where there is something to extend.
    client.goto(&server.url(&format!("/users/{}", team.users[60].0))).await.unwrap();
    wait_for_main(&client, "Owns nothing").await;
    assert!(!wait_for(&client, "#extend-ownership").await.is_displayed().await.unwrap());

    // Item 3: an owner deleted over SCIM: the Assets page counts what needs an owner, the view lists it,
    // and the deleted user's page hands it over.
    let deleted = server.scim(Method::DELETE, &format!("Users/{}", team.gone), &team.token).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    nav(&client, "assets").await;
    let banner = wait_for(&client, "#needs-owner-banner").await.text().await.unwrap();
    assert!(banner.contains("1 asset needs an owner"), "{banner}");
    screenshot(&client, &shot("03-banner")).await;
    check_page(&driver, &client, "Assets with the banner").await;
    check_dialog(&driver, &client, "#new-asset", "the New asset dialog").await;
    click(&client, "#needs-owner-banner a").await;
    wait_for_main(&client, "Forecast notebook").await;
    check_page(&driver, &client, "Needs an owner").await;
    click(&client, &format!("main tbody a[href='/users/{}']", team.gone)).await;
    wait_for_main(&client, "Deleted over SCIM").await;
    wait_for(&client, "main tr[data-asset]").await;
    screenshot(&client, &shot("03-deleted-user")).await;
    check_page(&driver, &client, "a deleted user's page").await;
    click(&client, "#extend-ownership").await;
    pick(&client, "extend-search", "Platform Ops").await;
    wait_for(&client, "#extend-changes").await;
    click(&client, "#extend-confirm").await;
    wait_for(&client, "#extend-result").await;
    nav(&client, "assets").await;
    wait_for_main(&client, "Needs an owner (0)").await;
    assert!(client.find_all(Locator::Css("#needs-owner-banner")).await.unwrap().is_empty());

    // Item 8: Activity rows link to what they touched; the status stays on screen.
    nav(&client, "activity").await;
    wait_for(&client, "main tbody a[href^='/users/']").await;
    assert!(within_width(&client, "main tbody tr td:nth-child(4)").await, "Activity's status is cut off");
    screenshot(&client, &shot("08-activity")).await;
    check_page(&driver, &client, "Activity").await;

    // Item 13: the wrong current password is said next to that field; the Admins and Audit pages pass.
    nav(&client, "admins").await;
    type_into(&client, "#current-password", "not my password at all").await;
    type_into(&client, "#new-password", "a new passphrase to remember").await;
    type_into(&client, "#repeat-password", "a new passphrase to remember").await;
    click(&client, "#password-title ~ form button[type=submit]").await;
    let error = wait_for(&client, "#current-password-error").await.text().await.unwrap();
    assert!(error.contains("The current password is wrong."), "{error}");
    screenshot(&client, &shot("13-field-error")).await;
    // The refused change answered 400: the one console error this walk expects, taken out here.
    let expected = console_errors(&driver, &client).await;
    assert!(expected.iter().all(|e| e.contains("/admin/api/password") && e.contains("400")), "{expected:#?}");
    assert_accessible(&client, "Admins").await;
    type_into(&client, "#new-admin-username", "second").await;
    type_into(&client, "#new-admin-password", "another long passphrase here").await;
    click(&client, "#add-admin-title ~ form button[type=submit]").await;
    wait_for_text(&client, "Admin second added.").await;
    let remove = wait_for(&client, "main tbody tr:nth-child(2) button").await;
    assert!(remove.text().await.unwrap().contains("Remove"));
    check_dialog(&driver, &client, "main tbody tr:nth-child(2) button", "the Remove admin confirmation").await;
    nav(&client, "audit").await;
    wait_for_main(&client, "user.ownership_extended").await;
    check_page(&driver, &client, "Audit").await;
    assert_eq!(path(&client).await, "/audit");

    client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_second_pass_walk_at_1366_by_900() {
    walk((1366, 900), "wide").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_second_pass_walk_at_phone_width() {
    walk((390, 844), "phone").await;
}

/// The console check sees errors (else a clean walk would prove nothing).
#[tokio::test(flavor = "multi_thread")]
async fn the_console_check_catches_an_error() {
    let server = AdminServer::start().await;
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser_sized(&driver, profile.path(), (1366, 900)).await;
    client.goto(&server.url("/login")).await.unwrap();
    wait_for(&client, "#login-username").await;
    assert!(console_errors(&driver, &client).await.is_empty());
    client
        .execute("console.error('a test error'); fetch('/admin/api/no-such-thing'); return true", vec![])
        .await
        .unwrap();
    let mut errors = Vec::new();
    for _ in 0..100 {
        errors.extend(console_errors(&driver, &client).await);
        if errors.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(errors.iter().any(|e| e.contains("a test error")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("no-such-thing") && e.contains("Failed to load resource")), "{errors:#?}");
    // axe-core finds a violation it is shown (else a clean page would prove nothing).
    client.execute("document.querySelector('main').append(Object.assign(document.createElement('img'), { src: '/favicon.svg' })); return true", vec![]).await.unwrap();
    let violations = accessibility_violations(&client).await;
    let ids: Vec<&str> = violations.as_array().unwrap().iter().filter_map(|v| v["id"].as_str()).collect();
    assert_eq!(ids, ["image-alt"], "axe-core reports the image without a text alternative: {violations}");
    client.close().await.unwrap();
}
