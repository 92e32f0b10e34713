//! A SCIM client for the HTTP tests of `/Users` and `/Groups`: a server with a SCIM token, and shorthands
//! for the requests those tests make (JSON in, status and JSON out; raw text where bytes are compared).

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use scimbox::credentials::Scope;
use serde_json::{Value, json};

use crate::support::TestServer;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A server with a SCIM token.
pub struct Scim {
    pub server: TestServer,
    pub token: String,
}

/// One response, whole: status, headers, and the body as text and as JSON (`Null` when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Scim {
    pub async fn start() -> Scim {
        let server = TestServer::start().await;
        let token = server.token(Scope::Scim).await;
        Scim { server, token }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(&format!("/scim/v2{path}"))
    }

    /// An authenticated request builder for `path` (relative to `/scim/v2`).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.server.client.request(method, self.url(path)).bearer_auth(&self.token)
    }

    /// Sends `request` and reads the whole response.
    pub async fn exchange(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request is sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body is read");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
        };
        Reply { status, headers, text, json }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let reply = self.exchange(self.request(Method::GET, path)).await;
        (reply.status, reply.json)
    }

    /// The body of a successful GET exactly as sent, for byte-for-byte comparisons.
    pub async fn get_text(&self, path: &str) -> String {
        let reply = self.exchange(self.request(Method::GET, path)).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.text);
        reply.text
    }

    pub async fn send(&self, method: Method, path: &str, body: &Value) -> (StatusCode, Value) {
        let reply = self.exchange(self.request(method, path).json(body)).await;
        (reply.status, reply.json)
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, body).await
    }

    /// A PATCH with `operations` wrapped in a `PatchOp` message.
    pub async fn patch(&self, path: &str, operations: Value) -> (StatusCode, Value) {
        self.send(Method::PATCH, path, &patch_op(operations)).await
    }

    pub async fn delete(&self, path: &str) -> StatusCode {
        self.exchange(self.request(Method::DELETE, path)).await.status
    }

    /// Creates a user named `user_name` with the attributes of `extra` added to the body.
    pub async fn create(&self, user_name: &str, extra: Value) -> Value {
        let mut body = json!({"schemas": [USER_SCHEMA], "userName": user_name});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        let (status, created) = self.post("/Users", &body).await;
        assert_eq!(status, StatusCode::CREATED, "creating user {user_name}: {created}");
        created
    }

    /// Creates a group named `display_name` with the members of ids `members`; returns its id.
    pub async fn create_group(&self, display_name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": display_name, "members": members});
        let (status, created) = self.post("/Groups", &body).await;
        assert_eq!(status, StatusCode::CREATED, "creating group {display_name}: {created}");
        id_of(&created)
    }

    /// Creates a user and returns its id.
    pub async fn create_id(&self, user_name: &str) -> String {
        id_of(&self.create(user_name, json!({})).await)
    }
}

/// A `PatchOp` message holding `operations`.
pub fn patch_op(operations: Value) -> Value {
    json!({"schemas": [PATCH_SCHEMA], "Operations": operations})
}

pub fn id_of(resource: &Value) -> String {
    resource["id"].as_str().unwrap_or_else(|| panic!("no id in {resource}")).to_owned()
}

/// The sorted `value`s of a multi-valued attribute (`members`, `groups`) of `resource`.
pub fn values_of(resource: &Value, attribute: &str) -> Vec<String> {
    let mut values: Vec<String> = resource[attribute]
        .as_array()
        .map(|items| items.iter().filter_map(|item| item["value"].as_str()).map(str::to_owned).collect())
        .unwrap_or_default();
    values.sort();
    values
}

/// `ids`, owned and sorted, to compare with [`values_of`].
pub fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
