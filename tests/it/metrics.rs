//! Prometheus `/metrics` on its own listener: what it counts after real traffic, and that Debian's
//! `promtool check metrics` accepts the exposition (promtool comes with the `prometheus` package, which
//! `.ci/test` installs; without it this test fails, it does not skip).

use reqwest::StatusCode;
use scimbox::config::Config;
use scimbox::credentials::Scope;
use serde_json::json;

use crate::support::{actor, client};

fn value_of(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_real_traffic_and_promtool_accepts_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = scimbox::Server::start(config, listener).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let metrics_url = format!("http://{}/metrics", server.metrics_addr().expect("a metrics listener"));
    let store = server.store().clone();
    let (_, token) = store.create_token(&actor(), "okta", Scope::Scim, None).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let http = client();
    for n in 0..3 {
        let user =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("u{n}@example.com")});
        let created =
            http.post(format!("{base}/scim/v2/Users")).bearer_auth(token.text()).json(&user).send().await.unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let missing = http.get(format!("{base}/scim/v2/Users/nope")).bearer_auth(token.text()).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), StatusCode::OK);
    // The SCIM port does not serve the metrics.
    assert_eq!(http.get(format!("{base}/metrics")).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    let response = http.get(&metrics_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    assert_eq!(
        value_of(&text, r#"scimbox_scim_operations_total{operation="POST Users",outcome="success",token="okta"}"#),
        3.0
    );
    assert_eq!(
        value_of(&text, r#"scimbox_scim_operations_total{operation="GET Users/{id}",outcome="failure",token="okta"}"#),
        1.0
    );
    assert_eq!(value_of(&text, r#"scimbox_http_requests_total{class="scim",method="POST",status="201"}"#), 3.0);
    assert_eq!(
        value_of(&text, r#"scimbox_http_request_duration_seconds_count{class="health",method="GET",status="200"}"#),
        1.0
    );
    assert_eq!(value_of(&text, r#"scimbox_directory_objects{kind="users"}"#), 3.0);
    let build = format!("scimbox_build_info{{version=\"{}\"}}", env!("CARGO_PKG_VERSION"));
    assert_eq!(value_of(&text, &build), 1.0);
    assert!(value_of(&text, "scimbox_writer_transactions_total") >= 4.0, "the token and three users");
    assert!(value_of(&text, "scimbox_writer_batch_size_count") >= 4.0);
    assert!(value_of(&text, "scimbox_writer_commit_duration_seconds_count") >= 4.0);
    assert!(value_of(&text, r#"scimbox_audit_records_total{result="appended"}"#) >= 4.0);
    assert!(value_of(&text, "scimbox_database_size_bytes") > 0.0);
    // A few creates leave the log far below any checkpoint, and the writer never runs one itself.
    assert_eq!(value_of(&text, r#"scimbox_wal_checkpoints_total{by="checkpointer"}"#), 0.0);
    assert_eq!(value_of(&text, r#"scimbox_wal_checkpoints_total{by="writer"}"#), 0.0);
    let waiting = value_of(&text, "scimbox_search_words_waiting");
    assert!((0.0..=3.0).contains(&waiting), "at most the three new users' words wait: {waiting}");
    assert!(value_of(&text, "scimbox_open_connections") >= 1.0, "this client's connection to the SCIM port");
    assert!(value_of(&text, "scimbox_token_cache_hits_total") >= 3.0, "one verification, the rest from the cache");
    assert_eq!(value_of(&text, r#"scimbox_argon2_runs_total{kind="token_verification"}"#), 1.0);

    let file = dir.path().join("metrics.txt");
    std::fs::write(&file, &text).unwrap();
    let checked = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .expect("promtool runs: install Debian's prometheus package (.ci/test does)");
    let said = format!("{}{}", String::from_utf8_lossy(&checked.stdout), String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success(), "promtool check metrics refused the exposition: {said}\n{text}");
    assert_eq!(said.trim(), "", "promtool found nothing to lint");

    // The idle writer moves the new users' words into the search index, and the gauge says so.
    let mut waiting = f64::NAN;
    for _ in 0..300 {
        let text = http.get(&metrics_url).send().await.unwrap().text().await.unwrap();
        waiting = value_of(&text, "scimbox_search_words_waiting");
        if waiting == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(waiting, 0.0, "the words still wait after 30 s");

    let _ = stop.send(());
    running.await.unwrap().unwrap();
}
