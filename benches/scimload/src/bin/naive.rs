//! `naive`: the second baseline. A bare hyper HTTP/1.1 server that answers scimload's `lookup` scenario
//! (`GET …/Users?filter=userName eq "…"`) with one indexed SQLite read per request and nothing else: no
//! authentication, no filter grammar, no groups, no activity record, no log line. It is what "one SQLite
//! read per request" costs on this machine with the same hyper, tokio, SQLite and allocator as scimbox, so
//! that a SCIM server's lookups can be read against it as well as against `hello`.
//!
//! At start it writes `--users` rows named as scimload seeds them (each holding a SCIM user's JSON of the
//! size scimbox stores) into a new database in `--data-dir`, then prints `naive listening on
//! http://ADDR` and serves until SIGTERM or Ctrl-C. Each tokio worker reads through its own read-only
//! connection, on the worker itself (as scimbox does for short reads).

use std::cell::RefCell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, header};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use scimload::scim;
use tokio::net::TcpListener;

/// A one-SQLite-read-per-request lookup server, the baseline between hello-world and a SCIM server.
#[derive(Debug, Parser)]
#[command(name = "naive", version)]
struct Args {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    listen: SocketAddr,
    /// Users to write before listening, named as `scimload --seed-users` names them.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    users: usize,
    /// Directory for the database (`naive.db`, replaced at start).
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
}

/// The allocator scimbox uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

thread_local! {
    static READER: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let path = args.data_dir.join("naive.db");
    write_users(&path, args.users)?;
    let listener = TcpListener::bind(args.listen).await?;
    println!("naive listening on http://{}", listener.local_addr()?);
    scimload::baseline::serve(listener, || {
        let path = path.clone();
        service_fn(move |request| {
            let response = answer(&path, &request);
            async move { Ok::<_, Infallible>(response) }
        })
    })
    .await?;
    Ok(())
}

/// A new database holding `users` users with a unique index on their names.
fn write_users(path: &Path, users: usize) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(
        "CREATE TABLE users (seq INTEGER PRIMARY KEY, user_name TEXT NOT NULL, resource TEXT NOT NULL);
         CREATE UNIQUE INDEX users_user_name ON users (user_name);",
    )?;
    let transaction = conn.transaction()?;
    {
        let mut insert = transaction.prepare("INSERT INTO users (user_name, resource) VALUES (?1, ?2)")?;
        for index in 0..users {
            let name = scim::user_name(index);
            insert.execute((&name, resource(index, &name)))?;
        }
    }
    transaction.commit()?;
    Ok(())
}

/// A user as a SCIM server returns it after scimload created it (the size of what scimbox stores).
fn resource(index: usize, user_name: &str) -> String {
    serde_json::json!({
        "schemas": [scim::USER_SCHEMA],
        "id": format!("00000000-0000-7000-8000-{index:012}"),
        "userName": user_name,
        "name": { "givenName": "Load", "familyName": format!("Load User {index}") },
        "emails": [{ "primary": true, "value": user_name, "type": "work" }],
        "displayName": format!("Load User {index}"),
        "locale": "en-US",
        "externalId": format!("ext-{user_name}"),
        "active": true,
        "meta": {
            "resourceType": "User",
            "created": "2026-01-01T00:00:00.000000Z",
            "lastModified": "2026-01-01T00:00:00.000000Z",
            "location": format!("http://127.0.0.1/scim/v2/Users/00000000-0000-7000-8000-{index:012}"),
            "version": "W/\"1\""
        }
    })
    .to_string()
}

fn answer(path: &Path, request: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let uri = request.uri();
    if request.method() != Method::GET || !uri.path().ends_with("/Users") {
        return reply(StatusCode::NOT_FOUND, "text/plain", b"Not found\n".to_vec());
    }
    let filter = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(name, _)| name == "filter")
        .map(|(_, value)| value.into_owned());
    let Some(user_name) = filter.as_deref().and_then(|f| f.strip_prefix("userName eq \"")?.strip_suffix('"')) else {
        return reply(StatusCode::BAD_REQUEST, "text/plain", b"only userName eq lookups\n".to_vec());
    };
    match read(path, user_name) {
        Ok(found) => {
            let mut body = Vec::with_capacity(1024);
            body.extend_from_slice(b"{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],");
            match found {
                Some(resource) => {
                    body.extend_from_slice(b"\"totalResults\":1,\"itemsPerPage\":1,\"startIndex\":1,\"Resources\":[");
                    body.extend_from_slice(resource.as_bytes());
                    body.extend_from_slice(b"]}");
                }
                None => {
                    body.extend_from_slice(b"\"totalResults\":0,\"itemsPerPage\":0,\"startIndex\":1,\"Resources\":[]}")
                }
            }
            reply(StatusCode::OK, "application/scim+json", body)
        }
        Err(error) => reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain", format!("{error}\n").into_bytes()),
    }
}

/// The stored resource named `user_name`, through this worker's connection.
fn read(path: &Path, user_name: &str) -> rusqlite::Result<Option<String>> {
    READER.with_borrow_mut(|reader| {
        if reader.is_none() {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            *reader = Some(Connection::open_with_flags(path, flags)?);
        }
        let conn = reader.as_ref().expect("opened above");
        conn.prepare_cached("SELECT resource FROM users WHERE user_name = ?1")?
            .query_row([user_name], |row| row.get(0))
            .optional()
    })
}

fn reply(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
    response
}
