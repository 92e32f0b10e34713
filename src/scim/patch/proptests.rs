//! Property tests: no PATCH request panics, whatever its operations, paths and values; a failed one leaves
//! the resource as it was; and `normalize` accepts its own output unchanged.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::tests::{GROUP_ID, USER_ID, bjensen};
use super::{apply, parse_request};
use crate::scim::resource::normalize;
use crate::scim::schema::ENTERPRISE_USER_SCHEMA as ENTERPRISE;
use crate::scim::schema::ResourceKind;

/// Paths and keys that reach every branch of the engine, plus their near misses.
const PATHS: &[&str] = &[
    "active",
    "userName",
    "displayName",
    "nickName",
    "title",
    "name",
    "name.givenName",
    "name.nosuch",
    "emails",
    "emails.value",
    "emails.primary",
    "emails[type eq \"work\"]",
    "emails[type eq \"work\"].value",
    "emails[type eq \"work\" and primary eq true].primary",
    "emails[value co \"x\"].type",
    "addresses[type eq \"home\"]",
    "phoneNumbers[type eq \"fax\"].value",
    "members",
    "members[value eq \"u1\"]",
    "members[type eq \"Group\"]",
    "members[value eq \"u1\"].display",
    "groups",
    "id",
    "meta",
    "meta.created",
    "schemas",
    "password",
    "externalId",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "urn:example:custom:1.0:User:tag",
    "urn:example:custom:1.0:User:tag.x",
    "urn:example:custom:1.0:User",
    "userName[value eq \"x\"]",
    "nosuch",
    "",
    "[",
    "emails[",
    "a.b.c",
    "urn:",
    ":x",
];

fn path() -> impl Strategy<Value = String> {
    prop_oneof![4 => prop::sample::select(PATHS).prop_map(str::to_owned), 1 => "[a-zA-Z.:\\[\\]\" =$]{0,24}"]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|number| serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)),
        prop::sample::select(&["", "True", "false", "work", "u1", "x@y", "2011-05-13T04:42:34Z", "User", "Group"][..])
            .prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ]
}

/// JSON values, bounded in depth and size, with object keys drawn from the interesting paths.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![path(), Just("value".to_owned()), Just("type".to_owned()), Just("primary".to_owned())],
                    inner
                ),
                0..4
            )
            .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn operation() -> impl Strategy<Value = Value> {
    let op = prop::sample::select(
        &["add", "Add", "REMOVE", "remove", "replace", "Replace", "add", "replace", "remove", "move", ""][..],
    );
    (op, prop::option::of(path()), prop::option::of(value())).prop_map(|(op, path, value)| {
        let mut operation = Map::new();
        operation.insert("op".to_owned(), Value::from(op));
        if let Some(path) = path {
            operation.insert("path".to_owned(), Value::from(path));
        }
        if let Some(value) = value {
            operation.insert("value".to_owned(), value);
        }
        Value::Object(operation)
    })
}

fn fixtures() -> Vec<(ResourceKind, &'static str, Map<String, Value>)> {
    let user = normalize(ResourceKind::User, &bjensen()).map(|out| out.attributes).unwrap_or_default();
    let group = json!({"displayName": "Eng", "externalId": "e", "members": [{"value": "u1"}]});
    let group = normalize(ResourceKind::Group, &group).map(|out| out.attributes).unwrap_or_default();
    vec![(ResourceKind::User, USER_ID, user), (ResourceKind::Group, GROUP_ID, group)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn patch_never_panics(operations in prop::collection::vec(operation(), 0..6)) {
        let request = json!({"schemas": [super::PATCH_SCHEMA], "Operations": operations});
        let Ok(ops) = parse_request(&request, 1000) else { return Ok(()) };
        for (kind, id, stored) in fixtures() {
            let mut resource = stored.clone();
            match apply(kind, id, &mut resource, &ops) {
                Ok(_) => {
                    // The handler normalises the result next; that must not panic either, and when it
                    // succeeds its output must be stable.
                    if let Ok(out) = normalize(kind, &Value::Object(resource)) {
                        let again = normalize(kind, &Value::Object(out.attributes.clone()));
                        prop_assert_eq!(again.map(|again| again.attributes), Ok(out.attributes));
                    }
                }
                Err(_) => prop_assert_eq!(&resource, &stored, "a failed PATCH changed the resource"),
            }
        }
    }

    #[test]
    fn parse_request_never_panics(body in value()) {
        let _ = parse_request(&body, 1000);
    }

    #[test]
    fn normalize_never_panics_and_is_idempotent(body in value(), user_name in leaf()) {
        for kind in [ResourceKind::User, ResourceKind::Group] {
            let mut body = body.clone();
            if let Value::Object(members) = &mut body {
                members.insert("userName".to_owned(), user_name.clone());
                members.insert("displayName".to_owned(), user_name.clone());
                members.insert(ENTERPRISE.to_owned(), json!({"manager": user_name.clone()}));
            }
            if let Ok(out) = normalize(kind, &body) {
                let again = normalize(kind, &Value::Object(out.attributes.clone()));
                prop_assert_eq!(again.map(|again| again.attributes), Ok(out.attributes));
            }
        }
    }
}
