//! What goes over the wire: the generator's naming scheme, request bodies shaped like Okta's (RFC 7643
//! core User and Group, the PatchOp messages Okta sends), request paths, and the checks that turn a
//! response into "right" or "wrong answer". Plain values in, plain values out: no IO here.
//!
//! Bodies carry no `password`: Okta sends one only when password push is enabled, and a server that
//! hashes it would then measure its password hash rather than its provisioning path.

use bytes::Bytes;
use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// Okta pages imports (and asks for lookups) 100 at a time.
pub const PAGE: u64 = 100;

/// The userName of seeded user `index`.
pub fn user_name(index: usize) -> String {
    format!("scimload-user-{index}@example.com")
}

/// The displayName of seeded group `index` among the groups of `size` members.
pub fn group_name(size: usize, index: usize) -> String {
    format!("scimload-group-{size}-{index}")
}

/// The userName of a user created during a run: `run` keeps runs apart, `vu` and `n` keep the
/// virtual users of one run apart.
pub fn new_user_name(run: &str, vu: usize, n: u64) -> String {
    format!("scimload-new-{run}-{vu}-{n}@example.com")
}

/// What a user body says, as an Okta app profile would.
#[derive(Debug, Clone, Copy)]
pub struct Profile<'a> {
    pub id: Option<&'a str>,
    pub user_name: &'a str,
    pub display_name: &'a str,
    pub title: Option<&'a str>,
    pub active: bool,
}

/// The body of a `POST /Users` or `PUT /Users/{id}`.
pub fn user_body(profile: &Profile) -> Bytes {
    Bytes::from(serde_json::to_vec(&UserDocument::of(profile)).expect("a user body serializes"))
}

/// A user as an Okta app profile sends it, written straight to bytes: a Bulk request of 1,000 users
/// built as `serde_json::Value` trees cost scimload milliseconds between the server's answers.
#[derive(Serialize)]
struct UserDocument<'a> {
    schemas: [&'static str; 1],
    #[serde(rename = "userName")]
    user_name: &'a str,
    name: Name<'a>,
    emails: [Email<'a>; 1],
    #[serde(rename = "displayName")]
    display_name: &'a str,
    locale: &'static str,
    #[serde(rename = "externalId")]
    external_id: String,
    groups: [(); 0],
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
}

#[derive(Serialize)]
struct Name<'a> {
    #[serde(rename = "givenName")]
    given_name: &'static str,
    #[serde(rename = "familyName")]
    family_name: &'a str,
}

#[derive(Serialize)]
struct Email<'a> {
    primary: bool,
    value: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> UserDocument<'a> {
    fn of(profile: &Profile<'a>) -> UserDocument<'a> {
        UserDocument {
            schemas: [USER_SCHEMA],
            user_name: profile.user_name,
            name: Name { given_name: "Load", family_name: profile.display_name },
            emails: [Email { primary: true, value: profile.user_name, kind: "work" }],
            display_name: profile.display_name,
            locale: "en-US",
            external_id: format!("ext-{}", profile.user_name),
            groups: [],
            active: profile.active,
            id: profile.id,
            title: profile.title,
        }
    }
}

/// A `POST /Bulk` creating one user per profile; operation `i` has bulkId `u{i}`.
pub fn bulk_create_body(profiles: &[Profile]) -> Bytes {
    #[derive(Serialize)]
    struct Operation<'a> {
        method: &'static str,
        path: &'static str,
        #[serde(rename = "bulkId")]
        bulk_id: String,
        data: UserDocument<'a>,
    }
    #[derive(Serialize)]
    struct BulkRequest<'a> {
        schemas: [&'static str; 1],
        #[serde(rename = "Operations")]
        operations: Vec<Operation<'a>>,
    }
    let operations = profiles
        .iter()
        .enumerate()
        .map(|(i, profile)| Operation {
            method: "POST",
            path: "/Users",
            bulk_id: format!("u{i}"),
            data: UserDocument::of(profile),
        })
        .collect();
    let body = serde_json::to_vec(&BulkRequest { schemas: [BULK_REQUEST_SCHEMA], operations });
    Bytes::from(body.expect("a Bulk request serializes"))
}

/// The body of a `POST /Groups` without members (Okta's group push creates, then patches members in).
pub fn group_body(display_name: &str) -> Bytes {
    Bytes::from(json!({ "schemas": [GROUP_SCHEMA], "displayName": display_name, "members": [] }).to_string())
}

/// A PATCH adding members, given as `(id, display)`; `display` is left out when empty.
pub fn add_members_body<'a>(members: impl IntoIterator<Item = (&'a str, &'a str)>) -> Bytes {
    let value: Vec<Value> = members
        .into_iter()
        .map(
            |(id, display)| {
                if display.is_empty() { json!({ "value": id }) } else { json!({ "value": id, "display": display }) }
            },
        )
        .collect();
    patch_body(json!([{ "op": "add", "path": "members", "value": value }]))
}

/// A PATCH removing one member, in the value-filter form Okta uses.
pub fn remove_member_body(id: &str) -> Bytes {
    patch_body(json!([{ "op": "remove", "path": format!("members[value eq \"{id}\"]") }]))
}

/// A PATCH setting `active` with a path-less replace, as Okta deactivates and reactivates.
pub fn set_active_body(active: bool) -> Bytes {
    patch_body(json!([{ "op": "replace", "value": { "active": active } }]))
}

fn patch_body(operations: Value) -> Bytes {
    Bytes::from(json!({ "schemas": [PATCH_SCHEMA], "Operations": operations }).to_string())
}

/// Okta's existence check: `GET /Users?filter=userName eq "…"&startIndex=1&count=100`.
pub fn lookup_path(user_name: &str) -> String {
    format!("/Users?filter={}&startIndex=1&count={PAGE}", encode(&format!("userName eq \"{user_name}\"")))
}

/// A group by its name, without its members (which may be a hundred thousand).
pub fn group_lookup_path(display_name: &str) -> String {
    format!("/Groups?filter={}&excludedAttributes=members", encode(&format!("displayName eq \"{display_name}\"")))
}

/// One page of an import.
pub fn page_path(start_index: u64) -> String {
    format!("/Users?startIndex={start_index}&count={PAGE}")
}

/// Percent-encodes a query parameter value (everything but RFC 3986's unreserved characters).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The attributes of a resource the checks look at; everything else is skipped unread.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Resource {
    #[serde(default)]
    pub id: String,
    #[serde(rename = "userName")]
    pub user_name: Option<String>,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    pub active: Option<bool>,
}

/// A `ListResponse`; `Resources` may be absent when there are none.
#[derive(Debug, Clone, Deserialize)]
pub struct ListResponse {
    #[serde(rename = "totalResults")]
    pub total_results: u64,
    #[serde(rename = "Resources", default)]
    pub resources: Vec<Resource>,
}

pub fn parse_list(body: &[u8]) -> Result<ListResponse, String> {
    serde_json::from_slice(body).map_err(|e| format!("not a ListResponse: {e}"))
}

pub fn parse_resource(body: &[u8]) -> Result<Resource, String> {
    let resource: Resource = serde_json::from_slice(body).map_err(|e| format!("not a resource: {e}"))?;
    if resource.id.is_empty() {
        return Err("the resource has no id".into());
    }
    Ok(resource)
}

/// A lookup of an existing user must find exactly that user; its id is returned.
pub fn check_lookup_hit(body: &[u8], user_name: &str) -> Result<String, String> {
    let list = parse_list(body)?;
    match list.resources.as_slice() {
        [only] if list.total_results == 1 && only.user_name.as_deref() == Some(user_name) && !only.id.is_empty() => {
            Ok(only.id.clone())
        }
        _ => Err(format!(
            "lookup of {user_name} answered totalResults {} with userNames {:?}",
            list.total_results,
            list.resources.iter().map(|r| r.user_name.as_deref().unwrap_or("?")).collect::<Vec<_>>()
        )),
    }
}

/// A lookup of a user that does not exist must find nothing.
pub fn check_lookup_miss(body: &[u8], user_name: &str) -> Result<(), String> {
    let list = parse_list(body)?;
    if list.total_results == 0 && list.resources.is_empty() {
        Ok(())
    } else {
        Err(format!("lookup of the new user {user_name} answered totalResults {}", list.total_results))
    }
}

/// A user in a response must be the one asked for.
pub fn check_user(body: &[u8], user_name: &str) -> Result<Resource, String> {
    let resource = parse_resource(body)?;
    if resource.user_name.as_deref() != Some(user_name) {
        return Err(format!("asked for {user_name}, got userName {:?}", resource.user_name));
    }
    Ok(resource)
}

/// A `BulkResponse` to [`bulk_create_body`] of `count` users must say that every one was created
/// (status 201 and a location for each bulkId, whatever the order of the operations).
pub fn check_bulk_created(body: &[u8], count: usize) -> Result<(), String> {
    // Borrowed from the body where it can be: a thousand answers are read between two requests.
    #[derive(Deserialize)]
    struct Answer<'a> {
        #[serde(rename = "bulkId", borrow)]
        bulk_id: Option<Cow<'a, str>>,
        #[serde(borrow)]
        status: &'a RawValue,
        #[serde(borrow)]
        location: Option<Cow<'a, str>>,
    }
    #[derive(Deserialize)]
    struct BulkResponse<'a> {
        #[serde(rename = "Operations", default, borrow)]
        operations: Vec<Answer<'a>>,
    }
    let response: BulkResponse = serde_json::from_slice(body).map_err(|e| format!("not a BulkResponse: {e}"))?;
    let mut created = vec![false; count];
    for answer in &response.operations {
        // RFC 7644 §3.7.3 gives `status` as a string; a number is accepted too.
        let status = answer.status.get();
        let status = status.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(status).parse::<u16>().ok();
        let index = answer.bulk_id.as_deref().and_then(|id| id.strip_prefix('u')?.parse::<usize>().ok());
        match (index, status) {
            (Some(i), Some(201)) if i < count && answer.location.as_deref().is_some_and(|l| !l.is_empty()) => {
                created[i] = true;
            }
            _ => {
                return Err(format!(
                    "bulk operation {:?} answered status {} (location {:?})",
                    answer.bulk_id, answer.status, answer.location
                ));
            }
        }
    }
    match created.iter().filter(|c| !**c).count() {
        0 => Ok(()),
        missing => Err(format!("the BulkResponse reports {missing} of {count} creates as not done")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_as_okta_sends_them() {
        assert_eq!(
            lookup_path("scimload-user-7@example.com"),
            "/Users?filter=userName%20eq%20%22scimload-user-7%40example.com%22&startIndex=1&count=100"
        );
        assert_eq!(
            group_lookup_path("g 1"),
            "/Groups?filter=displayName%20eq%20%22g%201%22&excludedAttributes=members"
        );
        assert_eq!(page_path(201), "/Users?startIndex=201&count=100");
        assert_eq!(encode("a+b/ü"), "a%2Bb%2F%C3%BC");
    }

    #[test]
    fn bodies_are_scim() {
        let body: Value = serde_json::from_slice(&user_body(&Profile {
            id: Some("abc"),
            user_name: "u@example.com",
            display_name: "U",
            title: Some("T"),
            active: false,
        }))
        .unwrap();
        assert_eq!(body["schemas"][0], USER_SCHEMA);
        assert_eq!(body["id"], "abc");
        assert_eq!(body["emails"][0]["value"], "u@example.com");
        assert_eq!(body["active"], false);
        assert_eq!(body["title"], "T");
        assert_eq!(body["externalId"], "ext-u@example.com");
        assert_eq!(body["name"], json!({ "givenName": "Load", "familyName": "U" }));
        assert_eq!(body["groups"], json!([]));
        assert_eq!(body["emails"][0]["type"], "work");
        let patch: Value = serde_json::from_slice(&remove_member_body("id1")).unwrap();
        assert_eq!(patch["Operations"][0]["path"], "members[value eq \"id1\"]");
        let add: Value = serde_json::from_slice(&add_members_body([("a", ""), ("b", "B")])).unwrap();
        assert_eq!(add["Operations"][0]["value"], json!([{ "value": "a" }, { "value": "b", "display": "B" }]));
        let profile = Profile { id: None, user_name: "b@example.com", display_name: "B", title: None, active: true };
        let bulk: Value = serde_json::from_slice(&bulk_create_body(&[profile, profile])).unwrap();
        assert_eq!(bulk["schemas"][0], BULK_REQUEST_SCHEMA);
        assert_eq!(bulk["Operations"][1]["bulkId"], "u1");
        assert_eq!(bulk["Operations"][0]["data"]["userName"], "b@example.com");
        assert_eq!(bulk["Operations"][0]["method"], "POST");
        assert_eq!(bulk["Operations"][0]["path"], "/Users");
        assert!(bulk["Operations"][0]["data"].get("id").is_none(), "no id in a create");
        let deactivate: Value = serde_json::from_slice(&set_active_body(false)).unwrap();
        assert_eq!(deactivate["Operations"][0], json!({ "op": "replace", "value": { "active": false } }));
    }

    #[test]
    fn wrong_answers_are_told_apart_from_right_ones() {
        let hit = br#"{"totalResults":1,"Resources":[{"id":"1","userName":"a@x","meta":{}}]}"#;
        assert_eq!(check_lookup_hit(hit, "a@x"), Ok("1".to_owned()));
        assert!(check_lookup_hit(hit, "b@x").is_err());
        assert!(check_lookup_hit(br#"{"totalResults":0}"#, "a@x").is_err());
        assert!(check_lookup_hit(br#"{"totalResults":2,"Resources":[{"id":"1","userName":"a@x"}]}"#, "a@x").is_err());
        assert!(check_lookup_hit(b"<html>", "a@x").is_err());
        assert_eq!(check_lookup_miss(br#"{"totalResults":0,"Resources":[]}"#, "n"), Ok(()));
        assert!(check_lookup_miss(hit, "n").is_err());
        assert!(check_user(br#"{"id":"1","userName":"a@x"}"#, "a@x").is_ok());
        assert!(check_user(br#"{"userName":"a@x"}"#, "a@x").is_err());
        assert!(check_user(br#"{"id":"1","userName":"A@x"}"#, "a@x").is_err());
        let created = br#"{"Operations":[{"bulkId":"u1","status":"201","location":"/Users/b"},
                                          {"bulkId":"u0","status":201,"location":"/Users/a"}]}"#;
        assert_eq!(check_bulk_created(created, 2), Ok(()));
        assert!(check_bulk_created(created, 3).is_err());
        let refused = br#"{"Operations":[{"bulkId":"u0","status":"201","location":"/Users/a"},
                                          {"bulkId":"u1","status":"409","response":{}}]}"#;
        assert!(check_bulk_created(refused, 2).is_err());
        assert!(check_bulk_created(br#"{"Operations":[{"bulkId":"u0","status":"201"}]}"#, 1).is_err());
        assert!(check_bulk_created(b"{}", 1).is_err());
    }
}
