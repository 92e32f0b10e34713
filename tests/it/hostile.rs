//! Hostile clients against the built binary, over loopback only: connection floods that idle, trickle
//! their headers or a sign-in body, stall the TLS handshake or send less body than they declare. While
//! 1,100 connections from 127.0.0.1 attack, a client bound to 127.0.0.2 (loopback too) must get its
//! `/healthz` and an authenticated SCIM lookup answered in under two seconds, and once the attack's
//! connections reach their deadline, so must a new client from 127.0.0.1. Every test bounds its
//! connection count and its time, and the servers run with short deadlines (3 s) to keep them quick.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::binary::*;
use super::support;

/// Connections each attack opens from 127.0.0.1: more than the server's 1,024 slots.
const ATTACK_CONNECTIONS: usize = 1_100;
/// The deadlines the servers under attack run with.
const DEADLINE: Duration = Duration::from_secs(3);
/// What an honest request may take while the attack goes on.
const ANSWER_BOUND: Duration = Duration::from_secs(2);
/// How long an attack task keeps at it at most, whatever the server does.
const ATTACK_BOUND: Duration = Duration::from_secs(30);

const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const HONEST: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// What one attack connection does after connecting.
#[derive(Debug, Clone, Copy)]
enum Attack {
    /// Sends nothing at all (also what a TLS client that never sends its ClientHello does).
    Silent,
    /// Sends a request head one header line at a time, never finishing it.
    TrickledHeaders,
    /// Sends a whole sign-in request head, then its body one byte at a time.
    TrickledSignIn,
}

/// The attack's connections: how many the server has closed, and when the last one was.
struct Flood {
    closed: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Option<Duration>>>,
}

impl Flood {
    /// Opens [`ATTACK_CONNECTIONS`] connections from 127.0.0.1 and starts each one's attack; returns once
    /// every connection is established (or was refused).
    async fn start(server: SocketAddr, attack: Attack) -> Flood {
        let closed = Arc::new(AtomicUsize::new(0));
        let mut connected = Vec::with_capacity(ATTACK_CONNECTIONS);
        for _ in 0..ATTACK_CONNECTIONS {
            connected.push(connect_from(ATTACKER, server));
        }
        let mut tasks = Vec::with_capacity(ATTACK_CONNECTIONS);
        for connecting in connected {
            let stream = connecting.await;
            let closed = Arc::clone(&closed);
            tasks.push(tokio::spawn(async move {
                let stream = stream.ok()?;
                let lasted = tokio::time::timeout(ATTACK_BOUND, attack_until_closed(stream, attack)).await.ok()?;
                closed.fetch_add(1, Ordering::SeqCst);
                Some(lasted)
            }));
        }
        Flood { closed, tasks }
    }

    /// Waits for every attack connection to be closed by the server, and returns the longest time one
    /// was held open (from its connection).
    async fn longest_held(self) -> Duration {
        let mut longest = Duration::ZERO;
        for task in self.tasks {
            let lasted = task.await.expect("attack task");
            let lasted = lasted.unwrap_or_else(|| {
                panic!("an attack connection was still open after {ATTACK_BOUND:?}, or never connected")
            });
            longest = longest.max(lasted);
        }
        assert_eq!(self.closed.load(Ordering::SeqCst), ATTACK_CONNECTIONS);
        longest
    }
}

/// A TCP connection to `server` from the loopback address `local`.
async fn connect_from(local: IpAddr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(server).await
}

/// Runs `attack` on `stream` until the server closes it; returns how long that took.
async fn attack_until_closed(mut stream: TcpStream, attack: Attack) -> Duration {
    let started = Instant::now();
    let mut drip: Vec<Vec<u8>> = match attack {
        Attack::Silent => Vec::new(),
        Attack::TrickledHeaders => {
            let mut lines = vec![b"GET /healthz HTTP/1.1\r\n".to_vec()];
            lines.extend((0..100).map(|n| format!("x-trickle-{n}: {n}\r\n").into_bytes()));
            lines
        }
        Attack::TrickledSignIn => {
            let head = "POST /admin/api/login HTTP/1.1\r\nhost: scimbox\r\ncontent-type: application/json\r\n\
                        content-length: 200\r\n\r\n";
            let mut parts = vec![head.as_bytes().to_vec()];
            parts.extend((0..200).map(|_| b" ".to_vec()));
            parts
        }
    };
    drip.reverse();
    let mut buffer = [0u8; 1024];
    loop {
        if let Some(part) = drip.pop()
            && stream.write_all(&part).await.is_err()
        {
            return started.elapsed();
        }
        // The server answering (a 408) or closing both end the attack; reading drains either.
        match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => {}
        }
    }
}

/// A client whose connections come from `local` and are never reused; for a TLS server it trusts `cert`
/// and reaches the certificate's name, localhost, at `server`.
fn client_from(local: IpAddr, server: SocketAddr, cert: Option<&str>) -> reqwest::Client {
    support::install_crypto();
    let mut builder =
        reqwest::Client::builder().local_address(local).timeout(Duration::from_secs(20)).pool_max_idle_per_host(0);
    if let Some(cert) = cert {
        let cert = reqwest::Certificate::from_pem(cert.as_bytes()).expect("certificate");
        builder = builder.tls_certs_only([cert]).resolve("localhost", server);
    }
    builder.build().expect("client")
}

/// GETs `url` (with a bearer token when given) and returns the status and how long the answer took.
async fn timed_get(client: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Duration) {
    let started = Instant::now();
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("expected an answer from {url}: {e}"));
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    (status, started.elapsed())
}

/// The honest checks: `/healthz` and a SCIM lookup from `client` are answered 200 within [`ANSWER_BOUND`].
async fn assert_answered(client: &reqwest::Client, base: &str, token: &str, when: &str) {
    let (status, took) = timed_get(client, &format!("{base}/healthz"), None).await;
    assert_eq!(status, 200, "/healthz {when}");
    assert!(took < ANSWER_BOUND, "/healthz {when} took {took:?}");
    let health = took;
    let lookup = format!("{base}/scim/v2/Users?filter=userName%20eq%20%22nobody%40example.com%22");
    let (status, took) = timed_get(client, &lookup, Some(token)).await;
    assert_eq!(status, 200, "a SCIM lookup {when}");
    assert!(took < ANSWER_BOUND, "a SCIM lookup {when} took {took:?}");
    eprintln!("{when}: /healthz answered in {health:?}, a SCIM lookup in {took:?}");
}

/// Starts a server with short deadlines (and TLS when `tls` is given) and a SCIM token.
fn start_server(dir: &std::path::Path, tls: Option<(&str, &str)>) -> (Serve, String) {
    let data = dir.join("data");
    let token = create_token(&data, "okta", "scim");
    let mut flags = vec!["--header-timeout-secs", "3", "--body-timeout-secs", "3"];
    let paths;
    if let Some((cert, key)) = tls {
        paths = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&paths.0, cert).unwrap();
        std::fs::write(&paths.1, key).unwrap();
        flags.extend(["--tls-cert", path_text(&paths.0), "--tls-key", path_text(&paths.1)]);
    }
    (Serve::start(&data, &flags), token)
}

/// The whole scenario for one kind of attack: honest clients are answered during it, every attack
/// connection is closed by its deadline, and 127.0.0.1 is served again afterwards.
async fn survive(attack: Attack, tls: bool) {
    let dir = temp_dir();
    let pair = tls.then(self_signed);
    let (serve, token) = start_server(dir.path(), pair.as_ref().map(|(c, k)| (c.as_str(), k.as_str())));
    let cert = pair.as_ref().map(|(cert, _)| cert.as_str());
    // With TLS the certificate names localhost; the clients reach it by address through `resolve`.
    let base = match tls {
        true => format!("https://localhost:{}", serve.addr.port()),
        false => serve.base.clone(),
    };
    let honest = client_from(HONEST, serve.addr, cert);
    let attacker = client_from(ATTACKER, serve.addr, cert);

    let flood = Flood::start(serve.addr, attack).await;
    assert_answered(&honest, &base, &token, &format!("from {HONEST} during a {attack:?} flood")).await;
    let longest = flood.longest_held().await;
    assert!(
        longest <= DEADLINE + Duration::from_secs(3),
        "every {attack:?} connection is closed by its deadline ({DEADLINE:?}); one lasted {longest:?}"
    );
    eprintln!("{attack:?}: the longest attack connection lasted {longest:?}");
    assert_answered(&attacker, &base, &token, &format!("from {ATTACKER} after a {attack:?} flood")).await;
    let stopped = serve.stop();
    assert_eq!(stopped.code(), Some(0), "{}", stopped.describe());
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_connections_cannot_hold_the_slots() {
    survive(Attack::Silent, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn trickled_headers_cannot_hold_the_slots() {
    survive(Attack::TrickledHeaders, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn trickled_sign_in_bodies_cannot_hold_the_slots() {
    survive(Attack::TrickledSignIn, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_tls_handshakes_cannot_hold_the_slots() {
    survive(Attack::Silent, true).await;
}

/// Reads one HTTP/1.1 response from `stream`: its status and its body (by Content-Length).
async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).await.expect("read a response");
        assert!(n > 0, "the server closed the connection before answering: {:?}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
        let length: usize = head
            .lines()
            .find_map(|line| {
                line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        if body.len() >= length {
            let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
            return (status, body[..length].to_owned());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_shorter_than_its_length_is_answered_408_at_its_deadline() {
    let dir = temp_dir();
    let (serve, token) = start_server(dir.path(), None);
    let mut stream = connect_from(HONEST, serve.addr).await.unwrap();
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nhost: scimbox\r\nauthorization: Bearer {token}\r\n\
         content-type: application/scim+json\r\ncontent-length: 100\r\n\r\n{{\"userName\""
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();
    let (status, body) = tokio::time::timeout(ATTACK_BOUND, read_response(&mut stream)).await.expect("an answer");
    let took = started.elapsed();
    assert_eq!(status, 408, "{body}");
    let error: Value = serde_json::from_str(&body).expect("a SCIM error body");
    assert_eq!(error["status"], "408");
    assert_eq!(error["schemas"][0], ERROR_SCHEMA);
    assert!(took >= DEADLINE && took < DEADLINE + Duration::from_secs(3), "answered after {took:?}");
    // The connection is closed after the answer: its body can never be read to its end.
    let mut rest = [0u8; 16];
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut rest)).await;
    assert!(matches!(closed, Ok(Ok(0) | Err(_))), "the connection is closed, got {closed:?}");
    drop(serve);
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_alive_between_requests_outlasts_the_head_deadline() {
    let dir = temp_dir();
    let (serve, token) = start_server(dir.path(), None);
    let mut stream = connect_from(HONEST, serve.addr).await.unwrap();
    let request =
        format!("GET /scim/v2/Users?count=1 HTTP/1.1\r\nhost: scimbox\r\nauthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut stream).await.0, 200);
    // Okta keeps its connections between requests; the deadline from accept covers the first head only.
    tokio::time::sleep(DEADLINE + Duration::from_secs(1)).await;
    stream.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut stream).await.0, 200, "the kept-alive connection still serves");
    drop(serve);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_address_holds_only_its_share_of_the_connections() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &["--max-connections-per-address", "4"]);
    // Four connections that finished a request stay open (keep-alive); a fifth is closed at accept.
    let mut kept = Vec::new();
    for _ in 0..4 {
        let mut stream = connect_from(ATTACKER, serve.addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: scimbox\r\n\r\n").await.unwrap();
        assert_eq!(read_response(&mut stream).await.0, 200);
        kept.push(stream);
    }
    let mut fifth = connect_from(ATTACKER, serve.addr).await.unwrap();
    let _ = fifth.write_all(b"GET /healthz HTTP/1.1\r\nhost: scimbox\r\n\r\n").await;
    let mut buffer = [0u8; 64];
    let refused = tokio::time::timeout(Duration::from_secs(10), fifth.read(&mut buffer)).await;
    assert!(matches!(refused, Ok(Ok(0) | Err(_))), "the fifth connection is closed unanswered: {refused:?}");
    let (status, _) = timed_get(&client_from(HONEST, serve.addr, None), &serve.url("/healthz"), None).await;
    assert_eq!(status, 200, "another address is served");
    drop(kept);
    drop(serve);
}

/// A PATCH of `count` value-filter replaces on one user, each naming its own e-mail type, so that each
/// appends an e-mail the first time and replaces it afterwards: the request that froze every write for
/// tens of seconds when the editor copied the list per operation.
fn value_filter_patch(count: usize, salt: usize) -> Value {
    let operations: Vec<Value> = (0..count)
        .map(|n| {
            serde_json::json!({
                "op": "replace",
                "path": format!("emails[type eq \"t{salt}-{n}\"].value"),
                "value": format!("u{salt}-{n}@example.com"),
            })
        })
        .collect();
    serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

/// Runs a command of the binary and returns how long it took; it must succeed.
fn timed_command(args: &[&str], stdin: Option<&str>) -> Duration {
    let started = Instant::now();
    let finished = match stdin {
        Some(input) => run_with_stdin(args, input),
        None => run(args),
    };
    let took = started.elapsed();
    finished.assert_success(&args.join(" "));
    took
}

#[tokio::test(flavor = "multi_thread")]
async fn no_patch_holds_the_writer_while_tokens_are_revoked_and_admins_let_in() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let token = create_token(&data, "okta", "scim");
    let doomed = create_token(&data, "doomed", "scim");
    let (doomed_id, _) = split_token(&doomed);
    let serve = Serve::start(&data, &[]);
    let client = http_client();
    let (status, user) = create_user(&client, &serve.base, &token, "target@example.com").await.unwrap();
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap().to_owned();
    let url = serve.url(&format!("/scim/v2/Users/{id}"));

    // One operation over the bound is refused before anything runs, and the error states the bound.
    let over = client.patch(&url).bearer_auth(&token).json(&value_filter_patch(1001, 0)).send().await.unwrap();
    assert_eq!(over.status().as_u16(), 413);
    let error: Value = over.json().await.unwrap();
    assert!(error["detail"].as_str().unwrap().contains("at most 1000 operations"), "{error}");

    // Two clients keep sending the largest PATCH allowed on the same user, one after another.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let patched = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..2 {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        let (stop, patched) = (Arc::clone(&stop), Arc::clone(&patched));
        senders.push(tokio::spawn(async move {
            let mut round = 0;
            while !stop.load(Ordering::SeqCst) && round < 100 {
                // The first PATCH appends a thousand e-mails (the most a user may hold); every later one
                // matches each of its filters against all of them.
                let body = value_filter_patch(1000, 0);
                let response = client.patch(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                let status = response.status().as_u16();
                if status == 401 {
                    // The page revoked this token: that ends the sender.
                    break;
                }
                assert_eq!(status, 200, "{}", response.text().await.unwrap_or_default());
                patched.fetch_add(1, Ordering::SeqCst);
                round += 1;
            }
        }));
    }
    while patched.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The documented ways back in land promptly while the PATCHes go on.
    let data_text = path_text(&data);
    let revoke = timed_command(&["token", "revoke", "--data-dir", data_text, doomed_id], None);
    let create = timed_command(
        &["admin", "create", "--data-dir", data_text, "--username", "alice"],
        Some("a long and unusual passphrase 7\n"),
    );
    let started = Instant::now();
    let signed_in = client
        .post(serve.url("/admin/api/login"))
        .json(&serde_json::json!({"username": "alice", "password": "a long and unusual passphrase 7"}))
        .send()
        .await
        .unwrap();
    let sign_in = started.elapsed();
    assert_eq!(signed_in.status().as_u16(), 200);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = signed_in.json::<Value>().await.unwrap()["csrfToken"].as_str().unwrap().to_owned();
    let listed: Value = client
        .get(serve.url("/admin/api/tokens"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let okta_id = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "okta")
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_owned();
    let started = Instant::now();
    let revoked = client
        .delete(serve.url(&format!("/admin/api/tokens/{okta_id}")))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    let page_revoke = started.elapsed();
    assert!(revoked.status().is_success(), "{}", revoked.status());
    let rounds = patched.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    eprintln!(
        "during {rounds}+ PATCHes of 1000 operations: token revoke {revoke:?}, admin create {create:?}, \
         sign-in {sign_in:?}, revocation in the page {page_revoke:?}"
    );
    for (what, took) in [("token revoke", revoke), ("admin create", create), ("sign-in", sign_in)] {
        assert!(took < ANSWER_BOUND, "{what} took {took:?} while PATCHes ran");
    }
    assert!(page_revoke < ANSWER_BOUND, "the page's revocation took {page_revoke:?} while PATCHes ran");
    for sender in senders {
        sender.await.expect("every PATCH before the revocation answered 200");
    }
    let refused = client.get(serve.url("/scim/v2/Users")).bearer_auth(&doomed).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401, "the token revoked by the CLI is refused");
    drop(serve);
}

/// The server's resident memory now and at its peak, in MiB, from /proc.
fn memory_mib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's /proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_creates_with_passwords_costs_bounded_memory() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let token = create_token(&data, "okta", "scim");
    // The burst comes from one address: let it hold all 500 connections, as a proxy in front would.
    let serve = Serve::start(&data, &["--max-connections-per-address", "1024"]);
    let pid = serve.process.child.id();
    let client = http_client();
    assert_eq!(get_status(&client, &serve.url("/healthz"), None).await, 200);
    let (before, _) = memory_mib(pid);

    let burst: Vec<_> = (0..500)
        .map(|n| {
            let (client, url, token) = (client.clone(), serve.url("/scim/v2/Users"), token.clone());
            tokio::spawn(async move {
                let body = serde_json::json!({
                    "schemas": [USER_SCHEMA], "userName": format!("burst{n}@example.com"),
                    "password": format!("initial password {n}"),
                });
                let response = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                let status = response.status().as_u16();
                let retry_after = response.headers().contains_key("retry-after");
                (status, retry_after)
            })
        })
        .collect();
    let (mut created, mut busy) = (0, 0);
    for task in burst {
        match task.await.unwrap() {
            (201, _) => created += 1,
            (503, true) => busy += 1,
            other => panic!("every create is answered 201, or 503 with Retry-After; got {other:?}"),
        }
    }
    let (after, peak) = memory_mib(pid);
    eprintln!(
        "500 creates with passwords: {created} created, {busy} busy; RSS {before} MiB before, {after} MiB after, peak {peak} MiB"
    );
    assert!(created > 0, "some creates got through");
    assert!(peak < 300, "the peak RSS was {peak} MiB");
    assert!(after < before + 100, "RSS went from {before} to {after} MiB and stayed");
    drop(serve);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secrets_for_known_token_ids_cannot_delay_another_tokens_first_use() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let known: Vec<String> = (0..3).map(|n| create_token(&data, &format!("known{n}"), "scim")).collect();
    let fresh: Vec<String> = (0..5).map(|n| create_token(&data, &format!("fresh{n}"), "scim")).collect();
    let serve = Serve::start(&data, &[]);
    let lookup = serve.url("/scim/v2/Users?count=1");

    // From 127.0.0.1: wrong secrets for the three known, never-used ids, 24 at a time, for the whole test.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attacker = client_from(ATTACKER, serve.addr, None);
    let attacks: Vec<_> = (0..24)
        .map(|n| {
            let (client, url, stop) = (attacker.clone(), lookup.clone(), Arc::clone(&stop));
            let (id, _) = split_token(&known[n % 3]);
            let wrong = format!("scimbox_{id}_{}", format!("{n:02x}").repeat(32));
            tokio::spawn(async move {
                let mut sent = 0u32;
                while !stop.load(Ordering::SeqCst) && sent < 10_000 {
                    let status = client.get(&url).bearer_auth(&wrong).send().await.map(|r| r.status().as_u16());
                    assert!(matches!(status, Ok(401 | 429 | 503)), "a wrong secret got {status:?}");
                    sent += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // From 127.0.0.2: the first use of five other tokens, one after another, each accepted.
    let honest = client_from(HONEST, serve.addr, None);
    for token in &fresh {
        let (status, took) = timed_get(&honest, &lookup, Some(token)).await;
        assert_eq!(status, 200, "a new token's first use during the attack");
        assert!(took < ANSWER_BOUND, "a new token's first use took {took:?}");
        eprintln!("first use of a new token during the attack: {took:?}");
    }
    stop.store(true, Ordering::SeqCst);
    for attack in attacks {
        attack.await.expect("attack task");
    }
    drop(serve);
}
