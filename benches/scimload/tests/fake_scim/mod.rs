//! A tiny in-memory SCIM server, just enough of RFC 7644 for every scimload scenario (filters by
//! `userName` and `displayName` only, index paging, the PATCH forms scimload sends, `POST /Bulk` of
//! user creates), so that the
//! generator's requests and checks are tested end to end without depending on scimbox. With `lying`
//! set, its lookups find nothing, which scimload must count as wrong answers.

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

#[derive(Default)]
struct State {
    users: Vec<Value>,
    user_by_name: HashMap<String, usize>,
    user_by_id: HashMap<String, usize>,
    groups: HashMap<String, (String, BTreeSet<String>)>,
    lying: bool,
    next_id: u64,
}

/// Starts the server on its own thread and runtime; it serves until the test process ends.
pub fn start(lying: bool) -> SocketAddr {
    let state = Arc::new(Mutex::new(State { lying, ..State::default() }));
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            sender.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(state.clone(), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
    });
    receiver.recv().unwrap()
}

async fn answer(
    state: Arc<Mutex<State>>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query: HashMap<String, String> = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), decode(v)))
        .collect();
    let authorized = request.headers().get("authorization").is_some_and(|v| v == "Bearer secret");
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !authorized {
        return Ok(reply(401, json!({ "detail": "no token" })));
    }
    let segments: Vec<&str> = path.trim_start_matches("/scim/v2/").split('/').collect();
    let mut state = state.lock().unwrap();
    let (status, value) = match (&method, segments.as_slice()) {
        (&Method::GET, ["Users"]) => list_users(&state, &query),
        (&Method::POST, ["Users"]) => state.create_user(body),
        (&Method::POST, ["Bulk"]) => {
            let mut answers = Vec::new();
            for operation in body["Operations"].as_array().into_iter().flatten() {
                let (status, user) = if operation["method"] == "POST" && operation["path"] == "/Users" {
                    state.create_user(operation["data"].clone())
                } else {
                    (400, json!({}))
                };
                let mut answer =
                    json!({ "method": "POST", "bulkId": operation["bulkId"], "status": status.to_string() });
                if status == 201 {
                    answer["location"] = json!(format!("/scim/v2/Users/{}", user["id"].as_str().unwrap_or_default()));
                }
                answers.push(answer);
            }
            (200, json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"], "Operations": answers }))
        }
        (&Method::GET, ["Users", id]) => match state.user_by_id.get(*id) {
            Some(&at) => (200, state.users[at].clone()),
            None => (404, json!({})),
        },
        (&Method::PUT, ["Users", id]) => match state.user_by_id.get(*id).copied() {
            Some(at) => {
                let mut user = body;
                user["id"] = json!(id);
                state.users[at] = user.clone();
                (200, user)
            }
            None => (404, json!({})),
        },
        (&Method::PATCH, ["Users", id]) => match state.user_by_id.get(*id).copied() {
            Some(at) => {
                let active = &body["Operations"][0]["value"]["active"];
                state.users[at]["active"] = active.clone();
                (200, state.users[at].clone())
            }
            None => (404, json!({})),
        },
        (&Method::GET, ["Groups"]) => {
            let wanted = filter_value(&query);
            let found: Vec<Value> = state
                .groups
                .iter()
                .filter(|(_, (name, _))| Some(name) == wanted.as_ref())
                .map(|(id, (name, _))| json!({ "id": id, "displayName": name }))
                .collect();
            (200, json!({ "totalResults": found.len(), "Resources": found }))
        }
        (&Method::POST, ["Groups"]) => {
            let id = state.new_id();
            let name = body["displayName"].as_str().unwrap_or_default().to_owned();
            state.groups.insert(id.clone(), (name.clone(), BTreeSet::new()));
            (201, json!({ "id": id, "displayName": name }))
        }
        (&Method::PATCH, ["Groups", id]) => match state.groups.get_mut(*id) {
            Some((_, members)) => {
                for operation in body["Operations"].as_array().into_iter().flatten() {
                    match operation["op"].as_str() {
                        Some("add") => {
                            for member in operation["value"].as_array().into_iter().flatten() {
                                members.insert(member["value"].as_str().unwrap_or_default().to_owned());
                            }
                        }
                        Some("remove") => {
                            let path = operation["path"].as_str().unwrap_or_default();
                            let id = path.split('"').nth(1).unwrap_or_default();
                            if !members.remove(id) {
                                return Ok(reply(400, json!({ "scimType": "noTarget" })));
                            }
                        }
                        _ => return Ok(reply(400, json!({}))),
                    }
                }
                return Ok(reply(204, Value::Null));
            }
            None => (404, json!({})),
        },
        _ => (404, json!({})),
    };
    Ok(reply(status, value))
}

impl State {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("id-{}", self.next_id)
    }

    fn create_user(&mut self, mut user: Value) -> (u16, Value) {
        let name = user["userName"].as_str().unwrap_or_default().to_owned();
        if self.user_by_name.contains_key(&name) {
            return (409, json!({ "scimType": "uniqueness" }));
        }
        let id = self.new_id();
        user["id"] = json!(id);
        self.user_by_name.insert(name, self.users.len());
        self.user_by_id.insert(id, self.users.len());
        self.users.push(user.clone());
        (201, user)
    }
}

fn list_users(state: &State, query: &HashMap<String, String>) -> (u16, Value) {
    if let Some(name) = filter_value(query) {
        let found: Vec<Value> = match state.user_by_name.get(&name) {
            Some(&at) if !state.lying => vec![state.users[at].clone()],
            _ => Vec::new(),
        };
        return (200, json!({ "totalResults": found.len(), "Resources": found }));
    }
    let start: usize = query.get("startIndex").and_then(|s| s.parse().ok()).unwrap_or(1);
    let count: usize = query.get("count").and_then(|s| s.parse().ok()).unwrap_or(100);
    let page: Vec<Value> = state.users.iter().skip(start.saturating_sub(1)).take(count).cloned().collect();
    (200, json!({ "totalResults": state.users.len(), "startIndex": start, "Resources": page }))
}

/// The quoted value of an `attribute eq "value"` filter.
fn filter_value(query: &HashMap<String, String>) -> Option<String> {
    query.get("filter").and_then(|filter| filter.split('"').nth(1)).map(str::to_owned)
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reply(status: u16, value: Value) -> Response<Full<Bytes>> {
    let body = if value.is_null() { Bytes::new() } else { Bytes::from(value.to_string()) };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    response
}
