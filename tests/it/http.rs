//! HTTP tests through the in-process server seam on 127.0.0.1:0.

use crate::support::actor;
use reqwest::StatusCode;
use scimbox::credentials::Scope;
use serde_json::{Value, json};

use crate::support::TestServer;

const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

async fn scim_error(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/scim+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["schemas"], json!([ERROR_SCHEMA]), "{body}");
    assert_eq!(body["status"], status.as_str(), "status is a string: {body}");
    body
}

async fn get_with(server: &TestServer, authorization: Option<&str>) -> reqwest::Response {
    let mut request = server.client.get(server.url("/scim/v2/Users/00000000-0000-0000-0000-000000000000"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn scim_needs_a_valid_scim_token() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    let platform = server.token(Scope::Platform).await;
    let wrong_secret = format!("{}{}", &token[..token.len() - 1], if token.ends_with('0') { '1' } else { '0' });
    let unknown_id = format!("scimbox_ffffffffffffffff_{}", &token[token.len() - 64..]);

    for (authorization, mentions) in [
        (None, "Authorization"),
        (Some("".to_owned()), "Authorization"),
        (Some(format!("Basic {token}")), "Bearer"),
        (Some("Bearer".to_owned()), "Bearer"),
        (Some("Bearer not-a-token".to_owned()), "Bearer"),
        (Some(format!("Bearer {token} extra")), "Bearer"),
        (Some(format!("Bearer {unknown_id}")), "not valid"),
        (Some(format!("Bearer {wrong_secret}")), "not valid"),
        (Some(format!("Bearer {platform}")), "scope"),
    ] {
        let response = get_with(&server, authorization.as_deref()).await;
        let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        let body = scim_error(response, StatusCode::UNAUTHORIZED).await;
        assert!(challenge.unwrap_or_default().starts_with("Bearer"), "401 carries a Bearer challenge");
        assert!(body["detail"].as_str().unwrap().contains(mentions), "{authorization:?}: {body}");
        assert!(!body.to_string().contains(&token[20..]), "no secret in an error");
    }

    // A valid token passes authentication (the user does not exist: 404, not 401), with any scheme case.
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = get_with(&server, Some(&format!("{scheme} {token}"))).await;
        scim_error(response, StatusCode::NOT_FOUND).await;
    }
    // The wrong secret is still refused after the right one was cached.
    let response = get_with(&server, Some(&format!("Bearer {wrong_secret}"))).await;
    scim_error(response, StatusCode::UNAUTHORIZED).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_is_refused_on_the_next_request() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    let authorization = format!("Bearer {token}");
    scim_error(get_with(&server, Some(&authorization)).await, StatusCode::NOT_FOUND).await;
    scim_error(get_with(&server, Some(&authorization)).await, StatusCode::NOT_FOUND).await;

    let id = scimbox::credentials::parse_token(&token).unwrap().id.to_owned();
    // A second store handle stands for another process (the CLI) sharing the data directory.
    let other = scimbox::store::Store::open(server.data_dir()).unwrap();
    other.revoke_token(&actor(), &id).await.unwrap();
    other.close().await;

    let body = scim_error(get_with(&server, Some(&authorization)).await, StatusCode::UNAUTHORIZED).await;
    assert!(body["detail"].as_str().unwrap().contains("revoked"), "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn last_used_is_recorded() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    scim_error(get_with(&server, Some(&format!("Bearer {token}"))).await, StatusCode::NOT_FOUND).await;
    let mut recorded = false;
    // The write happens beside the request; wait for it a bounded number of rounds.
    for _ in 0..200 {
        let tokens = server.store.list_tokens().await.unwrap();
        if tokens[0].last_used_at.is_some() {
            recorded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(recorded, "last_used_at was written after the first use");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_get_413_and_store_nothing() {
    let server = TestServer::start_with(|config| config.limits.max_body_bytes = 4096).await;
    let token = server.token(Scope::Scim).await;
    let big = json!({"userName": "big", "nickName": "x".repeat(8000)}).to_string();
    let response =
        server.client.post(server.url("/scim/v2/Users")).bearer_auth(&token).body(big.clone()).send().await.unwrap();
    let body = scim_error(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(body["detail"].as_str().unwrap().contains("4096"), "{body}");

    // Without Content-Length (chunked), the limit still holds while streaming.
    let mut raw = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.addr
    );
    for chunk in big.as_bytes().chunks(1000) {
        raw.push_str(&format!("{:x}\r\n{}\r\n", chunk.len(), String::from_utf8_lossy(chunk)));
    }
    raw.push_str("0\r\n\r\n");
    let answer = raw_exchange(server.addr, raw.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"status\":\"413\""), "{answer}");

    let small = json!({"userName": "small"});
    let response =
        server.client.post(server.url("/scim/v2/Users")).bearer_auth(&token).json(&small).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let conn = rusqlite::Connection::open(server.data_dir().join("scimbox.db")).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT user_name FROM users")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, ["small"], "the refused bodies stored nothing");
    server.stop().await;
}

/// Sends raw bytes on a fresh connection and returns everything the server answers until it closes
/// the connection or a bounded wait ends.
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&answer).contains("\r\n\r\n{") && answer.ends_with(b"}") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_headers_and_unknown_routes() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"status": "ok"}));

    let response = server.client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = server.client.post(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let response = server.client.get(server.url("/no/such/thing")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let token = server.token(Scope::Scim).await;
    let response = server.client.get(server.url("/scim/v2/Nothing")).bearer_auth(&token).send().await.unwrap();
    let body = scim_error(response, StatusCode::NOT_FOUND).await;
    assert!(body["detail"].as_str().unwrap().contains("/scim/v2/Nothing"), "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_is_served_with_a_content_type_an_etag_and_a_policy() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(response.text().await.unwrap().contains("scimbox"));

    let response = server.client.get(server.url("/")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let response = server.client.get(server.url("/style.css")).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    assert_ne!(response.headers()["etag"].to_str().unwrap(), etag);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http2_without_tls_is_served() {
    let server = TestServer::start().await;
    let client = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let response = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_finishes_the_request_in_flight_and_drains_the_writer() {
    let mut server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    // Hold the server's writer so that a create is certainly in flight when shutdown begins.
    let hold = server.store.hold_writer().await.unwrap();
    let in_flight = {
        let request =
            server.client.post(server.url("/scim/v2/Users")).bearer_auth(&token).json(&json!({"userName": "inflight"}));
        tokio::spawn(async move { request.send().await })
    };
    while server.store.queued_writes() < 1 {
        tokio::task::yield_now().await;
    }
    let stopped = server.begin_stop().expect("server task");
    // No new connection is accepted once shutdown has begun.
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(server.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused, "the listener is closed during shutdown");
    assert!(!stopped.is_finished(), "shutdown waits for the request in flight");
    drop(hold);
    let response = in_flight.await.unwrap().expect("the request in flight is answered");
    assert_eq!(response.status(), StatusCode::CREATED);
    stopped.await.unwrap().expect("clean stop");
    let conn = rusqlite::Connection::open(server.data_dir().join("scimbox.db")).unwrap();
    let count: i64 =
        conn.query_row("SELECT count(*) FROM users WHERE user_name = 'inflight'", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 1, "the acknowledged write is in the database");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let server =
        TestServer::start_with(|config| config.limits.header_timeout = std::time::Duration::from_secs(1)).await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    // The server must end the connection on its own; the bound only keeps a broken server from hanging.
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read(&mut buf)).await;
    match read {
        Ok(Ok(n)) => {
            assert!(n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"), "unexpected answer")
        }
        Ok(Err(_)) => {}
        Err(_) => panic!("the slow client was not disconnected"),
    }
    // Other clients are unaffected.
    let response = server.client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let server = TestServer::start_with(|config| config.limits.max_connections = 1).await;
    use tokio::io::AsyncWriteExt;
    let first = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    // Give the server time to accept `first`; the second then waits in the backlog.
    let response = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        reqwest::Client::new().get(server.url("/healthz")).send(),
    )
    .await;
    assert!(response.is_err(), "a second connection is not served while the only slot is taken");
    let mut first = first;
    first.shutdown().await.unwrap();
    drop(first);
    let response = reqwest::Client::new().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn users_are_created_durably_and_read_back() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "Barbara.Jensen@Example.com",
        "id": "client-chosen", "meta": {"version": "W/\"9\""},
        "password": "t1meMachine!",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
    });
    // No Content-Type at all: parsed as JSON anyway.
    let response = server
        .client
        .post(server.url("/scim/v2/Users/"))
        .bearer_auth(&token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["userName"], "Barbara.Jensen@Example.com", "stored exactly as sent");
    assert_ne!(created["id"], "client-chosen");
    assert!(created.get("password").is_none(), "password is never returned");
    assert_eq!(created["meta"]["location"], location.as_str());
    assert_eq!(created["meta"]["version"], etag.as_str());
    assert_eq!(created["meta"]["resourceType"], "User");

    let fetched: Value = server.client.get(&location).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(fetched, created);

    let again = json!({"userName": "barbara.jensen@example.COM"});
    let response =
        server.client.post(server.url("/scim/v2/Users")).bearer_auth(&token).json(&again).send().await.unwrap();
    let error = scim_error(response, StatusCode::CONFLICT).await;
    assert_eq!(error["scimType"], "uniqueness");

    for (bad, scim_type) in [
        ("{not json", "invalidSyntax"),
        ("[]", "invalidSyntax"),
        ("{}", "invalidValue"),
        (r#"{"userName": {"first": "x"}}"#, "invalidValue"),
    ] {
        let response = server
            .client
            .post(server.url("/scim/v2/Users"))
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body(bad)
            .send()
            .await
            .unwrap();
        let error = scim_error(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error["scimType"], scim_type, "{bad}");
    }
    let conn = rusqlite::Connection::open(server.data_dir().join("scimbox.db")).unwrap();
    let hash: String = conn.query_row("SELECT password_hash FROM users", [], |r| r.get(0)).unwrap();
    assert!(hash.starts_with("$argon2id$"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_names_match_whatever_their_case() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    for path in ["/scim/v2/users", "/scim/v2/USERS?count=1", "/scim/v2/groups", "/scim/v2/serviceproviderconfig"] {
        let response = server.client.get(server.url(path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let response = server.client.get(server.url("/scim/v2/me")).bearer_auth(&token).send().await.unwrap();
    scim_error(response, StatusCode::NOT_IMPLEMENTED).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn api_answers_are_never_cached_and_page_files_keep_their_etags() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    for (path, bearer) in
        [("/scim/v2/Users", true), ("/scim/v2/ServiceProviderConfig", true), ("/api/v1/assets", false)]
    {
        let mut request = server.client.get(server.url(path));
        if bearer {
            request = request.bearer_auth(&token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store", "{path} ({})", response.status());
        assert!(!response.headers().contains_key("strict-transport-security"), "no HSTS over plain HTTP");
    }
    let page = server.client.get(server.url("/style.css")).send().await.unwrap();
    assert_eq!(page.headers()["cache-control"], "no-cache", "page files are revalidated by their ETag");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_host_is_refused_and_never_reflected() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    for host in ["127.0.0.1:1@evil.example", "evil.example\"", "a b", "evil.example:99999"] {
        let request = format!(
            "POST /scim/v2/Users HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/scim+json\r\nContent-Length: 24\r\nConnection: close\r\n\r\n{{\"userName\":\"reflected\"}}"
        );
        let answer = raw_exchange(server.addr, request.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{host}: {answer}");
        assert!(!answer.contains("evil"), "{host} was reflected: {answer}");
    }
    // A well-formed host is used for meta.location when no public URL is set.
    let created = server
        .client
        .post(server.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .header("host", "scim.example.com:8443")
        .json(&json!({"userName": "located"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("http://scim.example.com:8443/scim/v2/Users/"), "{location}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_public_url_wins_over_the_host() {
    let server = TestServer::start_with(|config| {
        config.public_url = Some(scimbox::config::PublicUrl::parse("https://scim.example.com").unwrap());
    })
    .await;
    let token = server.token(Scope::Scim).await;
    let created = server
        .client
        .post(server.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .header("host", "other.example")
        .json(&json!({"userName": "public"}))
        .send()
        .await
        .unwrap();
    let body: Value = created.json().await.unwrap();
    let location = body["meta"]["location"].as_str().unwrap();
    assert!(location.starts_with("https://scim.example.com/scim/v2/Users/"), "{location}");
    server.stop().await;
}
