//! PATCH cases: the shared helpers, the request shape and every example of RFC 7644 §3.5.2. The semantics
//! and decisions the module documentation lists are in `tests_semantics`, real clients' wire examples in
//! `tests_clients`.

use serde_json::{Map, Value, json};

use super::*;
use crate::scim::Kind;
use crate::scim::resource::normalize;
use crate::scim::schema::ENTERPRISE_USER_SCHEMA as ENTERPRISE;
use crate::scim::schema::ResourceKind::{Group, User};

pub(super) const USER_ID: &str = "2819c223-7f76-453a-919d-413861904646";
pub(super) const GROUP_ID: &str = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b";

/// The id `apply` is told the resource has.
fn id_of(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => USER_ID,
        ResourceKind::Group => GROUP_ID,
    }
}

/// A full PatchOp body around `operations`.
pub(super) fn body(operations: Value) -> Value {
    json!({"schemas": [PATCH_SCHEMA], "Operations": operations})
}

/// Runs the whole pipeline the handler runs: parse, normalise the stored resource, apply, normalise the
/// result. Returns the result's attributes (without `schemas`), the password the PATCH set, and the
/// membership changes. Also checks that `apply`'s output already has the canonical shape.
pub(super) fn run(
    kind: ResourceKind,
    before: &Value,
    request: &Value,
) -> Result<(Value, Option<String>, Vec<MemberChange>), Error> {
    let ops = parse_request(request, 1000)?;
    let stored = normalize(kind, before).expect("the fixture is valid").attributes;
    let mut resource = stored.clone();
    let changes = match apply(kind, id_of(kind), &mut resource, &ops) {
        Ok(changes) => changes,
        Err(error) => {
            assert_eq!(resource, stored, "a failed PATCH changed the resource: {request}");
            return Err(error);
        }
    };
    let normalized = normalize(kind, &Value::Object(resource.clone()))?;
    let mut attributes = normalized.attributes;
    resource.remove("password");
    assert_eq!(resource, attributes, "apply's output is not in canonical form: {request}");
    attributes.remove("schemas");
    Ok((Value::Object(attributes), normalized.password, changes))
}

/// Applies `operations` to `before` and expects `after` (`schemas` aside) with no membership change.
pub(super) fn check(kind: ResourceKind, before: Value, operations: Value, after: Value) {
    let request = body(operations);
    let (result, _, changes) =
        run(kind, &before, &request).unwrap_or_else(|error| panic!("{request}: {}", error.detail));
    assert_eq!(result, after, "{request}");
    assert_eq!(changes, vec![], "{request}");
}

/// Applies `operations` to a group and expects these membership changes and resulting attributes.
pub(super) fn check_members(before: Value, operations: Value, after: Value, expected: Vec<MemberChange>) {
    let request = body(operations);
    let (result, _, changes) =
        run(Group, &before, &request).unwrap_or_else(|error| panic!("{request}: {}", error.detail));
    assert_eq!(changes, expected, "{request}");
    assert_eq!(result, after, "{request}");
}

/// Expects the PATCH (a whole body) to fail with `kind` and a detail containing `fragment`.
pub(super) fn check_error(resource: ResourceKind, before: Value, request: Value, kind: Kind, fragment: &str) {
    let error = match run(resource, &before, &request) {
        Ok((result, ..)) => panic!("{request} succeeded with {result}"),
        Err(error) => error,
    };
    assert_eq!(error.kind, kind, "{request}: {}", error.detail);
    assert!(error.detail.contains(fragment), "{request}: '{}' lacks '{fragment}'", error.detail);
}

/// A member as `MemberChange` lists it.
pub(super) fn member(value: &str, display: Option<&str>) -> Member {
    Member { value: value.to_owned(), kind: None, display: display.map(str::to_owned) }
}

/// The User of RFC 7643 §8.2, trimmed to what the cases touch.
pub(super) fn bjensen() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "id": USER_ID,
        "userName": "bjensen",
        "name": {"familyName": "Jensen", "givenName": "Barbara", "middleName": "Jane"},
        "displayName": "Babs Jensen",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
             "region": "CA", "postalCode": "91608", "country": "USA", "primary": true}
        ],
        ENTERPRISE: {"employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "26118915"}}
    })
}

/// `bjensen()` with `changes` merged over its attributes (a `null` removes one), `schemas` and `id` out.
pub(super) fn bjensen_with(changes: Value) -> Value {
    let Value::Object(mut user) = bjensen() else { return Value::Null };
    user.remove("schemas");
    user.remove("id");
    if let Value::Object(changes) = changes {
        for (name, value) in changes {
            if value.is_null() {
                user.remove(&name);
            } else {
                user.insert(name, value);
            }
        }
    }
    Value::Object(user)
}

pub(super) fn group() -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": GROUP_ID, "displayName": "Test SCIMv2"})
}

pub(super) fn user(attributes: Value) -> Value {
    let mut user = Map::new();
    user.insert("userName".to_owned(), Value::from("bjensen"));
    if let Value::Object(attributes) = attributes {
        user.extend(attributes);
    }
    Value::Object(user)
}

// ---------------------------------------------------------------------------------------------------
// The request's shape (RFC 7644 §3.5.2: "schemas", "Operations", each with "op", "path", "value").
// ---------------------------------------------------------------------------------------------------

fn check_parse_error(request: Value, kind: Kind, fragment: &str) {
    let error = parse_request(&request, 1000).expect_err(&request.to_string());
    assert_eq!(error.kind, kind, "{request}: {}", error.detail);
    assert!(error.detail.contains(fragment), "{request}: '{}' lacks '{fragment}'", error.detail);
}

#[test]
fn request_shape() {
    let replace = json!({"op": "replace", "path": "active", "value": false});
    check_parse_error(json!([replace]), Kind::InvalidSyntax, "must be a JSON object");
    check_parse_error(json!({"schemas": [PATCH_SCHEMA]}), Kind::InvalidSyntax, "needs an \"Operations\" array");
    check_parse_error(json!({"Operations": []}), Kind::InvalidSyntax, "\"Operations\" is empty");
    check_parse_error(json!({"Operations": replace}), Kind::InvalidSyntax, "must be an array");
    check_parse_error(
        json!({"Operations": [42]}),
        Kind::InvalidSyntax,
        "operation 1: each operation must be an object",
    );
    check_parse_error(
        json!({"Operations": [replace, {"op": "move", "path": "active"}]}),
        Kind::InvalidSyntax,
        "operation 2: unknown op \"move\"",
    );
    check_parse_error(json!({"Operations": [{"path": "active", "value": true}]}), Kind::InvalidSyntax, "has no \"op\"");
    check_parse_error(json!({"Operations": [{"op": 1, "value": {}}]}), Kind::InvalidSyntax, "\"op\" must be");
    check_parse_error(
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Operations": [replace]}),
        Kind::InvalidSyntax,
        "\"schemas\" of a PATCH body",
    );
    check_parse_error(
        json!({"schemas": "urn:nope", "Operations": [replace]}),
        Kind::InvalidSyntax,
        "\"schemas\" of a PATCH body",
    );
    check_parse_error(json!({"Operations": [{"op": "remove"}]}), Kind::NoTarget, "\"remove\" needs a \"path\"");
    check_parse_error(
        json!({"Operations": [{"op": "remove", "path": ""}]}),
        Kind::NoTarget,
        "\"remove\" needs a \"path\"",
    );
    check_parse_error(
        json!({"Operations": [{"op": "add", "path": "nickName"}]}),
        Kind::InvalidValue,
        "\"add\" needs a \"value\"",
    );
    check_parse_error(
        json!({"Operations": [{"op": "replace", "path": "emails[type eq \"work\"", "value": 1}]}),
        Kind::InvalidPath,
        "",
    );
    check_parse_error(
        json!({"Operations": [{"op": "replace", "path": "emails[type eq]", "value": 1}]}),
        Kind::InvalidPath,
        "",
    );
    check_parse_error(
        json!({"Operations": [{"op": "replace", "path": 7, "value": 1}]}),
        Kind::InvalidPath,
        "\"path\" must be a string",
    );

    // Tolerated: no `schemas` (some clients omit it), an empty one, any case in member names and ops.
    let ops = parse_request(&json!({"operations": [{"OP": "Replace", "PATH": "active", "VALUE": "False"}]}), 1000)
        .expect("tolerated");
    assert_eq!(
        ops,
        vec![PatchOp {
            op: OpKind::Replace,
            path: Some(parse_patch_path("active").expect("path")),
            value: Some(json!("False"))
        }]
    );
    let ops = parse_request(
        &json!({"schemas": [], "Operations": [{"op": "ADD", "path": "", "value": {"nickName": "B"}}]}),
        1000,
    )
    .expect("tolerated");
    assert_eq!(ops, vec![PatchOp { op: OpKind::Add, path: None, value: Some(json!({"nickName": "B"})) }]);
    let ops = parse_request(
        &json!({"schemas": [PATCH_SCHEMA.to_uppercase()], "Operations": [{"op": "remove", "path": "title"}]}),
        1000,
    )
    .expect("tolerated");
    assert_eq!(ops.first().map(|op| (op.op, op.value.clone())), Some((OpKind::Remove, None)));
    let ops = parse_request(&json!({"Operations": [{"op": "replace", "path": "displayName", "value": null}]}), 1000)
        .expect("null value");
    assert_eq!(ops.first().and_then(|op| op.value.clone()), Some(Value::Null));
    assert_eq!(OpKind::from_word("rEmOvE"), Some(OpKind::Remove));
    assert_eq!(OpKind::from_word("test"), None);
}

// ---------------------------------------------------------------------------------------------------
// RFC 7644 §3.5.2, every example in order. The RFC truncates ids as "2819c223...413861904646"; full
// ids are used here.
// ---------------------------------------------------------------------------------------------------

const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";

#[test]
fn rfc7644_3_5_2_1_add() {
    // "The following example shows how to add a member to a group."
    check_members(
        group(),
        json!([{"op": "add", "path": "members", "value": [{"display": "Babs Jensen",
        "$ref": format!("https://example.com/v2/Users/{BABS}"), "value": BABS}]}]),
        json!({"displayName": "Test SCIMv2"}),
        vec![MemberChange::Add(vec![member(BABS, Some("Babs Jensen"))])],
    );
    // "... how to add one or more attributes to a User resource without using a 'path' attribute" (with
    // errata 8096's missing brace restored). bjensen already has the home email, so it is not duplicated
    // ("If the target location already contains the value specified, no changes SHOULD be made"), and
    // "nickname" matches `nickName` case-insensitively.
    check(
        User,
        bjensen(),
        json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}], "nickname": "Babs"}}]),
        bjensen_with(json!({"nickName": "Babs"})),
    );
}

#[test]
fn rfc7644_3_5_2_2_remove() {
    let members = json!({"displayName": "Test SCIMv2"});
    // "Remove a single member from a group" / "Remove all members of a group".
    check_members(
        group(),
        json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]),
        members.clone(),
        vec![MemberChange::Remove(vec![BABS.into()])],
    );
    check_members(
        group(),
        json!([{"op": "remove", "path": "members"}]),
        members.clone(),
        vec![MemberChange::RemoveAll],
    );
    // "Removal of a value from a complex multi-valued attribute".
    check(
        User,
        bjensen(),
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
        bjensen_with(json!({"emails": [{"value": "babs@jensen.org", "type": "home"}]})),
    );
    // "Example request to remove and add a member" (the RFC prints `eq"` without a space).
    check_members(
        group(),
        json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")},
        {"op": "add", "path": "members", "value": [{"display": "James Smith", "$ref": format!("https://example.com/v2/Users/{JAMES}"), "value": JAMES}]}]),
        members.clone(),
        vec![MemberChange::Remove(vec![BABS.into()]), MemberChange::Add(vec![member(JAMES, Some("James Smith"))])],
    );
    // "... replace all of the members of a group with a different members list" by remove and add.
    check_members(
        group(),
        json!([{"op": "remove", "path": "members"}, {"op": "add", "path": "members", "value": [
        {"display": "Babs Jensen", "$ref": format!("https://example.com/v2/Users/{BABS}"), "value": BABS},
        {"display": "James Smith", "$ref": format!("https://example.com/v2/Users/{JAMES}"), "value": JAMES}]}]),
        members,
        vec![
            MemberChange::RemoveAll,
            MemberChange::Add(vec![member(BABS, Some("Babs Jensen")), member(JAMES, Some("James Smith"))]),
        ],
    );
}

#[test]
fn rfc7644_3_5_2_3_replace() {
    // "... with a different members list in a single replace operation".
    check_members(
        group(),
        json!([{"op": "replace", "path": "members", "value": [
        {"display": "Babs Jensen", "$ref": format!("https://example.com/v2/Users/{BABS}"), "value": BABS},
        {"display": "James Smith", "$ref": format!("https://example.com/v2/Users/{JAMES}"), "value": JAMES}]}]),
        json!({"displayName": "Test SCIMv2"}),
        vec![MemberChange::Replace(vec![member(BABS, Some("Babs Jensen")), member(JAMES, Some("James Smith"))])],
    );
    // "... change a User's entire 'work' address, using a 'valuePath' filter": the matching value is
    // replaced as a whole.
    let work = json!({"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood", "region": "CA",
        "postalCode": "91608", "country": "US", "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US", "primary": true});
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": work}]),
        bjensen_with(json!({"addresses": [work]})),
    );
    // "... change a specific sub-attribute 'streetAddress' of complex attribute 'emails' selected by a
    // 'valuePath' filter" (the RFC's prose says emails; its path says addresses).
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
        bjensen_with(
            json!({"addresses": [{"type": "work", "streetAddress": "1010 Broadway Ave", "locality": "Hollywood",
            "region": "CA", "postalCode": "91608", "country": "USA", "primary": true}]}),
        ),
    );
    // "... replace all values of one or more specific attributes of a User resource" (brace restored).
    let emails = json!([{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}]);
    check(
        User,
        user(json!({"emails": [{"value": "old@example.com", "type": "other"}]})),
        json!([{"op": "replace", "value": {"emails": emails, "nickname": "Babs"}}]),
        user(json!({"emails": emails, "nickName": "Babs"})),
    );
}

#[test]
fn rfc7644_figure_8_paths() {
    // Figure 8's example paths, resolved against our schemas. `members[...].displayName` names a
    // sub-attribute members do not have (theirs is `display`), so it is an invalid path here.
    check_members(
        group(),
        json!([{"op": "add", "path": "members", "value": []}]),
        json!({"displayName": "Test SCIMv2"}),
        vec![],
    );
    check(
        User,
        bjensen(),
        json!([{"op": "remove", "path": "name.familyName"}]),
        bjensen_with(json!({"name": {"givenName": "Barbara", "middleName": "Jane"}})),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "remove", "path": "addresses[type eq \"work\"]"}]),
        bjensen_with(json!({"addresses": null})),
    );
    check_members(
        group(),
        json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]),
        json!({"displayName": "Test SCIMv2"}),
        vec![MemberChange::Remove(vec![BABS.into()])],
    );
    check_error(
        Group,
        group(),
        body(json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"].displayName")}])),
        Kind::InvalidPath,
        "'members' has no sub-attribute 'displayName'",
    );
}

#[test]
fn the_number_of_operations_is_bounded_and_the_bound_is_stated() {
    let op = json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@example.com"});
    let request = |n: usize| json!({"schemas": [PATCH_SCHEMA], "Operations": vec![op.clone(); n]});
    assert_eq!(parse_request(&request(10), 10).map(|ops| ops.len()), Ok(10));
    let refused = parse_request(&request(11), 10).unwrap_err();
    assert_eq!(refused.status(), 413);
    assert!(refused.detail.contains("at most 10 operations") && refused.detail.contains("11"), "{}", refused.detail);
}
