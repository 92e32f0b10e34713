//! Black-box tests of the built `scimbox` binary: the command line, start-up failures, signals, HTTPS,
//! backups and what survives a SIGKILL. Every test has its own temporary data directory; the harness
//! (`binary.rs`) starts servers on 127.0.0.1:0 and kills every child process when its guard is dropped.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::binary::*;
use super::support;

#[test]
fn version_help_and_unknown_flags() {
    let version = run(&["--version"]);
    version.assert_success("--version");
    assert_eq!(
        version.stdout.trim(),
        format!("scimbox {}", env!("CARGO_PKG_VERSION")),
        "expected `--version` to print the name and version"
    );
    assert_eq!(env!("CARGO_PKG_VERSION"), "0.1.0", "expected this test to run against scimbox 0.1.0");

    let commands: &[&[&str]] = &[
        &[],
        &["serve"],
        &["token"],
        &["token", "create"],
        &["token", "list"],
        &["token", "revoke"],
        &["admin"],
        &["admin", "create"],
        &["backup"],
        &["migrate"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let help = run(&args);
        help.assert_success(&args.join(" "));
        assert!(
            help.stdout.contains("Usage: scimbox"),
            "expected `{}` to print a usage line; {}",
            args.join(" "),
            help.describe()
        );
    }

    let unknown: &[&[&str]] =
        &[&["--bogus"], &["serve", "--bogus"], &["token", "list", "--bogus"], &["frobnicate"], &[]];
    for args in unknown {
        let refused = run(args);
        assert_eq!(refused.code(), Some(2), "expected `scimbox {}` to exit 2; {}", args.join(" "), refused.describe());
        assert_no_panic(&refused.stderr, &args.join(" "));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_created_listed_and_revoked_beside_a_running_server() {
    let dir = temp_dir();
    let data = path_text(dir.path());
    let serve = Serve::start(dir.path(), &["--log-format", "json"]);
    let client = http_client();
    let probe = serve.url("/scim/v2/Users/x");

    // Without a token, and with a token of the wrong scope: 401 in SCIM's error form.
    let response = client.get(&probe).send().await.expect("GET without a token");
    assert_eq!(response.status().as_u16(), 401, "expected 401 without a token");
    let challenge = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "expected a WWW-Authenticate: Bearer challenge, got {challenge:?}");
    let body: Value = response.json().await.expect("expected a JSON error body");
    assert_eq!(body["status"], "401", "expected \"status\":\"401\" in {body}");
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]), "expected the SCIM error schema in {body}");
    let platform = create_token(dir.path(), "platform-tool", "platform");
    assert_eq!(
        get_status(&client, &probe, Some(&platform)).await,
        401,
        "expected 401 for a platform token on /scim/v2"
    );

    // A token created while the server runs is accepted on the next request.
    let token = create_token(dir.path(), "okta", "scim");
    let (id, secret) = split_token(&token);
    let listed = run(&["token", "list", "--data-dir", data]);
    listed.assert_success("token list");
    let row = token_row(&listed.stdout, id)
        .unwrap_or_else(|| panic!("expected token {id} in the list; {}", listed.describe()));
    assert_eq!(row[..3], [id, "okta", "scim"], "expected id, name and scope in the row {row:?}");
    assert_eq!(row[5], "-", "expected no last-used time before the first use: {row:?}");

    let status = get_status(&client, &probe, Some(&token)).await;
    assert!(status == 200 || status == 404, "expected 200 or 404 (not 401) with a fresh scim token, got {status}");

    // The last use is recorded off the request path: ask a bounded number of times.
    let mut last_used = String::from("-");
    for _ in 0..50 {
        let listed = run(&["token", "list", "--data-dir", data]);
        listed.assert_success("token list");
        assert!(
            !listed.stdout.contains(secret),
            "expected `token list` never to print a secret; {}",
            listed.describe()
        );
        last_used = token_row(&listed.stdout, id).expect("token still listed")[5].clone();
        if last_used != "-" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        last_used.len() == 24 && last_used.ends_with('Z'),
        "expected a last-used time like 2025-01-01T00:00:00.000Z after use, got {last_used:?}"
    );

    let revoked = run(&["token", "revoke", "--data-dir", data, id]);
    revoked.assert_success("token revoke");
    assert!(revoked.stdout.contains(id), "expected `token revoke` to name the token; {}", revoked.describe());
    assert_eq!(
        get_status(&client, &probe, Some(&token)).await,
        401,
        "expected 401 on the very next request with a revoked token"
    );
    let row = token_row(&run(&["token", "list", "--data-dir", data]).stdout, id).expect("revoked token still listed");
    assert_ne!(row[7], "-", "expected a revocation time in {row:?}");

    let again = run(&["token", "revoke", "--data-dir", data, id]);
    again.assert_success("a second token revoke");
    assert!(again.stdout.contains("already revoked"), "expected a second revoke to say so; {}", again.describe());
    run(&["token", "revoke", "--data-dir", data, "0123456789abcdef"]).assert_error(
        "revoke of an unknown id",
        1,
        "there is no token",
    );
    run(&["token", "revoke", "--data-dir", data, "not-an-id"]).assert_error(
        "revoke of a malformed id",
        2,
        "not a token id",
    );

    assert_eq!(
        data_dir_contains(dir.path(), secret),
        None,
        "expected the secret in no file of the data directory while serving"
    );
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
    assert_eq!(
        data_dir_contains(dir.path(), secret),
        None,
        "expected the secret in no file of the data directory after stopping"
    );
    assert!(
        !stopped.stderr.contains(secret) && !stopped.stdout.contains(secret),
        "expected the secret nowhere in serve's output; {}",
        stopped.describe()
    );

    // One JSON line per request, carrying the token's name but never its secret.
    let requests: Vec<Value> = stopped
        .stderr
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("expected JSON log lines, got {line:?}: {e}"))
        })
        .filter(|line| line["path"] == "/scim/v2/Users/x")
        .collect();
    assert_eq!(requests.len(), 4, "expected one log line per request to the probe; {}", stopped.stderr);
    for line in &requests {
        assert!(
            line["request_id"].is_string() && line["status"].is_u64() && line["latency_us"].is_u64(),
            "expected request_id, status and latency_us in {line}"
        );
    }
    assert!(
        requests.iter().any(|line| line["token"] == "okta"),
        "expected the token's name in the log; {}",
        stopped.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_while_serving_holds_every_acknowledged_user() {
    let dir = temp_dir();
    let token = create_token(dir.path(), "writer", "scim");
    let serve = Serve::start(dir.path(), &[]);
    let writers = Writers::start(4, &serve.base, &token);
    writers.wait_for(20).await;

    let before = writers.acknowledged();
    let target_dir = temp_dir();
    let target = target_dir.path().join("copy.db");
    let args = ["backup", "--data-dir", path_text(dir.path()), path_text(&target)].map(str::to_owned);
    let backup =
        tokio::task::spawn_blocking(move || run(&args.each_ref().map(String::as_str))).await.expect("backup thread");
    let all = writers.stop().await;
    backup.assert_success("backup while serving");
    assert!(all.len() >= before.len(), "expected the writers to keep their acknowledgements");

    let copy = sqlite(&target);
    assert_eq!(integrity(&copy), "ok", "expected the backup to pass integrity_check");
    let ids = user_ids(&copy);
    let missing: Vec<_> = before.iter().filter(|(id, _)| !ids.contains(id)).collect();
    assert!(missing.is_empty(), "expected every user acknowledged before the backup in the copy; missing {missing:?}");
    drop(copy);

    let second = run(&["backup", "--data-dir", path_text(dir.path()), path_text(&target)]);
    second.assert_error("a backup to an existing path", 1, "exists already");
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
}

#[test]
fn a_database_of_a_newer_scimbox_is_refused_untouched() {
    let dir = temp_dir();
    let data = path_text(dir.path());
    run(&["migrate", "--data-dir", data]).assert_success("migrate");
    let database = dir.path().join("scimbox.db");
    {
        let conn = sqlite(&database);
        conn.execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (9999, 'future', '2099-01-01T00:00:00Z', '1')",
            [],
        )
        .expect("expected to record a future migration");
    }
    let history = |path: &Path| -> Vec<(i64, String)> {
        let conn = sqlite(path);
        let mut statement = conn.prepare("SELECT version, name FROM refinery_schema_history ORDER BY version").unwrap();
        statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let rows_before = history(&database);
    let bytes_before = std::fs::read(&database).expect("read the database");

    let target = dir.path().join("copy.db");
    let commands: &[(&[&str], Option<&str>)] = &[
        (&["serve", "--listen", "127.0.0.1:0", "--data-dir", data], None),
        (&["migrate", "--data-dir", data], None),
        (&["token", "list", "--data-dir", data], None),
        (&["token", "create", "--data-dir", data, "--name", "late"], None),
        (&["backup", "--data-dir", data, path_text(&target)], None),
        (&["admin", "create", "--data-dir", data, "--username", "alice"], Some("a long enough password\n")),
    ];
    for (args, stdin) in commands {
        let mut process = Process::spawn(args, *stdin);
        if let Some(line) = process.line_where(|line| line.contains(" listening on ")) {
            panic!("expected `scimbox {}` to refuse the newer database, but it printed {line:?}", args.join(" "));
        }
        let refused = process.finish(COMMAND_BOUND);
        refused.assert_error(&args.join(" "), 1, "newer scimbox");
        assert!(
            refused.stderr.contains("9999"),
            "expected the error to name the version found; {}",
            refused.describe()
        );
    }
    assert!(!target.exists(), "expected no backup of a refused database");
    assert_eq!(
        std::fs::read(&database).expect("read the database"),
        bytes_before,
        "expected the database file unchanged"
    );
    assert_eq!(history(&database), rows_before, "expected the migration history unchanged");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_serves_http1_and_http2_and_refuses_plain_http() {
    let dir = temp_dir();
    let (cert, key) = self_signed();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, &cert).unwrap();
    std::fs::write(&key_path, &key).unwrap();
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &["--tls-cert", path_text(&cert_path), "--tls-key", path_text(&key_path)]);
    assert!(serve.base.starts_with("https://"), "expected an https base URL, got {}", serve.base);

    support::install_crypto();
    let url = format!("https://localhost:{}/healthz", serve.addr.port());
    let trusting = || {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(cert.as_bytes()).expect("certificate")])
            .resolve("localhost", serve.addr)
            .timeout(Duration::from_secs(30))
    };
    let cases = [
        (trusting().http1_only().build().unwrap(), reqwest::Version::HTTP_11),
        (trusting().build().unwrap(), reqwest::Version::HTTP_2),
    ];
    for (client, version) in cases {
        let response = client.get(&url).send().await.unwrap_or_else(|e| panic!("expected {url} over {version:?}: {e}"));
        assert_eq!(response.version(), version, "expected ALPN to settle on {version:?}");
        assert_eq!(response.status().as_u16(), 200, "expected 200 from /healthz over {version:?}");
        let hsts = response.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(hsts.as_deref(), Some("max-age=31536000"), "expected HSTS under TLS over {version:?}");
        let body: Value = response.json().await.expect("JSON health body");
        assert_eq!(body, json!({"status": "ok"}), "expected the health body over {version:?}");
    }

    let plain = http_client().get(format!("http://{}/healthz", serve.addr)).send().await;
    assert!(
        !matches!(&plain, Ok(response) if response.status().is_success()),
        "expected plain HTTP to the TLS port to fail, got {plain:?}"
    );

    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_users_survive_sigkill() {
    let dir = temp_dir();
    let token = create_token(dir.path(), "crash", "scim");
    let mut serve = Serve::start(dir.path(), &[]);
    let writers = Writers::start(16, &serve.base, &token);
    writers.wait_for(300).await;

    writers.expect_failures();
    serve.process.kill();
    let acknowledged = writers.stop().await;
    assert!(acknowledged.len() >= 300, "expected at least 300 acknowledged creates, got {}", acknowledged.len());

    let conn = sqlite(&dir.path().join("scimbox.db"));
    assert_eq!(integrity(&conn), "ok", "expected the database to pass integrity_check after SIGKILL");
    let ids = user_ids(&conn);
    let lost: Vec<_> = acknowledged.iter().filter(|(id, _)| !ids.contains(id)).collect();
    assert!(
        lost.is_empty(),
        "expected every acknowledged user to survive SIGKILL; lost {} of {}: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    drop(conn);

    let serve = Serve::start(dir.path(), &[]);
    let (id, user_name) = &acknowledged[acknowledged.len() / 2];
    let response = http_client()
        .get(serve.url(&format!("/scim/v2/Users/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET user");
    assert_eq!(response.status().as_u16(), 200, "expected an acknowledged user to be served after the restart");
    let body: Value = response.json().await.expect("JSON user");
    assert_eq!(body["userName"], user_name.as_str(), "expected the user's userName after the restart: {body}");
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected the restarted serve to stop cleanly; {}", stopped.describe());
}

#[test]
fn start_up_failures_print_one_error_line() {
    let dir = temp_dir();
    let fresh = |name: &str| {
        let path = dir.path().join(name);
        path_text(&path).to_owned()
    };
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path_text(&path).to_owned()
    };
    let (cert, key) = self_signed();
    let (_, other_key) = self_signed();
    let (cert, key, other_key) = (
        write("cert.pem", cert.as_bytes()),
        write("key.pem", key.as_bytes()),
        write("other.pem", other_key.as_bytes()),
    );
    let garbage = write("garbage.pem", b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    let plain_file = write("a-file", b"not a directory");
    let corrupt = fresh("corrupt");
    std::fs::create_dir(&corrupt).unwrap();
    // Bytes from a fixed xorshift sequence: random-looking, the same on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..16_384)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(Path::new(&corrupt).join("scimbox.db"), &noise).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port to occupy");
    let taken = taken.local_addr().map(|addr| (addr.to_string(), taken)).unwrap();

    let check = |what: &str, args: &[&str], expected: &str| {
        let mut full = vec!["serve"];
        full.extend_from_slice(args);
        let mut process = Process::spawn(&full, None);
        if let Some(line) = process.line_where(|line| line.contains(" listening on ")) {
            panic!("expected serve to refuse to start ({what}), but it printed {line:?}");
        }
        let failed = process.finish(COMMAND_BOUND);
        assert_ne!(failed.code(), Some(0), "expected a non-zero exit ({what}); {}", failed.describe());
        failed.assert_error(what, failed.code().unwrap_or(-1), expected);
    };
    let d = fresh("data");
    check("port in use", &["--listen", &taken.0, "--data-dir", &d], "cannot listen on");
    check("data dir is a file", &["--listen", "127.0.0.1:0", "--data-dir", &plain_file], "data directory");
    check(
        "corrupt database",
        &["--listen", "127.0.0.1:0", "--data-dir", &corrupt],
        "not a scimbox database or is damaged",
    );
    let left = std::fs::read(Path::new(&corrupt).join("scimbox.db")).unwrap();
    assert!(left == noise, "expected serve to leave a damaged database file untouched");
    let tls = |cert: &str, key: &str| {
        ["--listen", "127.0.0.1:0", "--data-dir", d.as_str(), "--tls-cert", cert, "--tls-key", key].map(str::to_owned)
    };
    let cases = [
        ("missing certificate", tls(&fresh("missing.pem"), &key), "TLS certificate"),
        ("missing key", tls(&cert, &fresh("missing.pem")), "TLS private key"),
        ("garbage certificate", tls(&garbage, &key), "TLS certificate"),
        ("garbage key", tls(&cert, &garbage), "TLS private key"),
        ("key of another certificate", tls(&cert, &other_key), "TLS"),
    ];
    for (what, args, expected) in &cases {
        check(what, &args.each_ref().map(String::as_str), expected);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_create_and_the_setup_link() {
    // Before any admin exists, serve prints a one-time setup link on its own base URL.
    let fresh = temp_dir();
    let mut serve = Serve::start(fresh.path(), &[]);
    let prefix = format!("{}/setup#code=", serve.base);
    let link = serve.process.line_where(|line| line.contains("/setup#code="));
    let link = link.unwrap_or_else(|| panic!("expected a setup link on stdout; got {:?}", serve.process.stdout));
    let code = link
        .split_once(&prefix)
        .map(|(_, code)| code.trim())
        .unwrap_or_else(|| panic!("expected {prefix:?} in {link:?}"));
    assert!(code.len() >= 16 && code.bytes().all(|b| b.is_ascii_hexdigit()), "expected a hex code in {link:?}");
    assert_eq!(get_status(&http_client(), &serve.url("/setup"), None).await, 200, "expected the setup page");
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
    assert!(!stopped.stderr.contains(code), "expected the setup code never to be logged; {}", stopped.stderr);

    let dir = temp_dir();
    let data = path_text(dir.path());
    let create = |name: &str, password: &str| {
        run_with_stdin(&["admin", "create", "--data-dir", data, "--username", name], password)
    };
    create("alice", "short\n").assert_error("admin create with a short password", 2, "at least 12 characters");
    create("alice", "aaaaaaaaaaaaaaaa\n").assert_error("admin create with a repeated character", 2, "repeated");
    let created = create("alice", "correct horse battery staple\n");
    created.assert_success("admin create");
    assert!(created.stdout.contains("alice"), "expected admin create to name the admin; {}", created.describe());
    create("ALICE", "another good password\n").assert_error(
        "admin create of the same name in another case",
        1,
        "exists already",
    );

    let serve = Serve::start(dir.path(), &[]);
    assert_eq!(get_status(&http_client(), &serve.url("/healthz"), None).await, 200, "expected /healthz to answer 200");
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "expected serve to stop cleanly; {}", stopped.describe());
    assert!(
        !stopped.stdout.contains("/setup#code="),
        "expected no setup link once an admin exists; {}",
        stopped.describe()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_and_sigint_stop_the_server_cleanly() {
    // The server answers a request first, so its handlers are surely installed; a signal the instant the
    // listening line appears is `sigterm_the_instant_the_listening_line_appears_stops_cleanly`'s case.
    for signal in ["TERM", "INT"] {
        let dir = temp_dir();
        let mut serve = Serve::start(dir.path(), &[]);
        let client = http_client();
        assert_eq!(get_status(&client, &serve.url("/readyz"), None).await, 200, "expected /readyz to answer 200");
        assert_eq!(get_status(&client, &serve.url("/healthz"), None).await, 200, "expected /healthz to answer 200");
        serve.process.signal(signal);
        let stopped = serve.process.finish(STOP_BOUND);
        assert_eq!(stopped.code(), Some(0), "expected SIG{signal} to stop serve with status 0; {}", stopped.describe());
        assert_no_panic(&stopped.stderr, "serve");
        assert!(stopped.error_lines().is_empty(), "expected no error line after SIG{signal}; {}", stopped.describe());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_stops_cleanly_and_keeps_every_acknowledged_user() {
    let dir = temp_dir();
    let token = create_token(dir.path(), "load", "scim");
    let mut serve = Serve::start(dir.path(), &[]);
    let writers = Writers::start(8, &serve.base, &token);
    writers.wait_for(50).await;

    writers.expect_failures();
    serve.process.signal("TERM");
    let stopped = tokio::task::spawn_blocking(move || serve.process.finish(STOP_BOUND)).await.expect("wait thread");
    let acknowledged = writers.stop().await;
    assert_eq!(
        stopped.code(),
        Some(0),
        "expected SIGTERM under load to stop serve with status 0; {}",
        stopped.describe()
    );
    assert_no_panic(&stopped.stderr, "serve");

    let conn = sqlite(&dir.path().join("scimbox.db"));
    assert_eq!(integrity(&conn), "ok", "expected the database to pass integrity_check after a graceful stop");
    let ids = user_ids(&conn);
    let lost: Vec<_> = acknowledged.iter().filter(|(id, _)| !ids.contains(id)).collect();
    assert!(lost.is_empty(), "expected every acknowledged user after a graceful stop; lost {lost:?}");
}

#[test]
fn sigterm_the_instant_the_listening_line_appears_stops_cleanly() {
    let dir = temp_dir();
    let mut shell = Process::spawn_program("sh", &["-c", SIGTERM_AT_ONCE, "sh", BIN, path_text(dir.path())], None);
    let finished = shell.finish(COMMAND_BOUND);
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
    assert!(
        finished.stdout.contains(" listening on "),
        "expected serve to print its listening line; {}",
        finished.describe()
    );
    assert!(
        finished.stdout.contains("status=0"),
        "expected SIGTERM right after the listening line to stop serve with status 0 (143 = killed by the \
         signal: the handler was not installed yet); {}serve's stderr:\n{stderr}",
        finished.describe()
    );
    assert_no_panic(&stderr, "serve");
}

/// The binary carries its own SQLite and TLS: it links no system libsqlite, libssl or libcrypto (the
/// release build links the same libraries as this test build).
#[test]
fn the_binary_links_no_system_sqlite_or_openssl() {
    let output = std::process::Command::new("ldd").arg(BIN).output().expect("ldd runs");
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "ldd failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(libraries.contains("libc.so"), "ldd listed nothing usable: {libraries}");
    for forbidden in ["libsqlite", "libssl", "libcrypto"] {
        assert!(!libraries.contains(forbidden), "the binary links {forbidden}: {libraries}");
    }
}

/// The names of the threads of process `pid` that serve connections, sorted.
fn connection_workers(pid: u32) -> Vec<String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("expected /proc to list the server's threads");
    let mut names: Vec<String> = tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .filter(|name| name.starts_with("scimbox-http-"))
        .collect();
    names.sort();
    names
}

/// `--http-workers` sets how many threads serve connections (one more than the cores by default), and
/// connections opened one after another are all answered by them; zero is refused as a usage error.
#[tokio::test(flavor = "multi_thread")]
async fn serve_runs_the_connection_workers_it_is_asked_for() {
    let dir = temp_dir();
    let data = path_text(dir.path());
    run(&["serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--http-workers", "0"]).assert_error(
        "serve --http-workers 0",
        2,
        "--http-workers",
    );

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let serve = Serve::start(dir.path(), &[]);
    let expected: Vec<String> = (0..=cores).map(|index| format!("scimbox-http-{index}")).collect();
    assert_eq!(connection_workers(serve.process.child.id()), expected, "one worker more than the {cores} cores");
    serve.stop().assert_success("serve with the default workers");

    let serve = Serve::start(dir.path(), &["--http-workers", "2"]);
    assert_eq!(connection_workers(serve.process.child.id()), ["scimbox-http-0", "scimbox-http-1"]);
    // Each request on a connection of its own: the workers take them in turn, and every one is answered.
    for attempt in 0..6 {
        let client = http_client();
        let response = client.get(serve.url("/healthz")).send().await.expect("GET /healthz");
        assert_eq!(response.status().as_u16(), 200, "connection {attempt}");
    }
    serve.stop().assert_success("serve with two workers");
}
