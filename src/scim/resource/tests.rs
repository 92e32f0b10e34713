//! `normalize` cases: canonical names, coercions, extension forms, required attributes, primaries, members
//! and the tolerances the module documentation lists, each a one-line check.

use serde_json::{Value, json};

use super::*;
use crate::scim::Kind;
use crate::scim::schema::ResourceKind::{Group, User};
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA as ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA};

/// Normalises `body` and compares the attributes, `schemas` aside, with `expected`; then checks that
/// normalising the output again changes nothing (PATCH results go through `normalize` a second time).
fn check(kind: ResourceKind, body: Value, expected: Value) {
    let out = normalize(kind, &body).unwrap_or_else(|error| panic!("{body}: {}", error.detail));
    let mut attributes = out.attributes.clone();
    attributes.remove("schemas");
    assert_eq!(Value::Object(attributes), expected, "{body}");
    let again = normalize(kind, &Value::Object(out.attributes.clone())).expect("normalising the output");
    assert_eq!(again.attributes, out.attributes, "not idempotent: {body}");
}

/// Normalises `body` and checks the `schemas` list it computes.
fn check_schemas(kind: ResourceKind, body: Value, expected: &[&str]) {
    let out = normalize(kind, &body).unwrap_or_else(|error| panic!("{body}: {}", error.detail));
    assert_eq!(out.attributes["schemas"], json!(expected), "{body}");
}

/// Expects `body` to be rejected with `kind` and a detail containing `fragment`.
fn check_error(resource: ResourceKind, body: Value, kind: Kind, fragment: &str) {
    let error = normalize(resource, &body).expect_err(&body.to_string());
    assert_eq!(error.kind, kind, "{body}: {}", error.detail);
    assert!(error.detail.contains(fragment), "{body}: '{}' lacks '{fragment}'", error.detail);
}

#[test]
fn canonical_names_and_values_as_sent() {
    check(User, json!({"userName": "BJensen"}), json!({"userName": "BJensen"}));
    check(
        User,
        json!({"USERNAME": "b", "DisplayName": "Babs", "nickname": "B"}),
        json!({"userName": "b", "displayName": "Babs", "nickName": "B"}),
    );
    check(
        User,
        json!({"userName": "b", "NAME": {"GivenName": "Barbara", "familyname": "Jensen"}}),
        json!({"userName": "b", "name": {"givenName": "Barbara", "familyName": "Jensen"}}),
    );
    check(
        User,
        json!({"userName": "b", "emails": [{"VALUE": "B@Example.com", "Type": "work"}]}),
        json!({"userName": "b", "emails": [{"value": "B@Example.com", "type": "work"}]}),
    );
    check(
        User,
        json!({"userName": "b", "externalId": "00ab", "phoneNumbers": [{"value": "55555555555"}]}),
        json!({"userName": "b", "externalId": "00ab", "phoneNumbers": [{"value": "55555555555"}]}),
    );
    check(
        User,
        json!({"userName": "b", "name": {"middleName": ""}}),
        json!({"userName": "b", "name": {"middleName": ""}}),
    );
    check(Group, json!({"DISPLAYNAME": "Eng", "externalid": "x"}), json!({"displayName": "Eng", "externalId": "x"}));
    check(User, json!({"urn:ietf:params:scim:schemas:core:2.0:User:userName": "b"}), json!({"userName": "b"}));
    check(
        User,
        json!({"urn:ietf:params:scim:schemas:core:2.0:User": {"userName": "b", "title": "Boss"}}),
        json!({"userName": "b", "title": "Boss"}),
    );
}

#[test]
fn coercions_real_clients_need() {
    check(User, json!({"userName": "b", "active": "True"}), json!({"userName": "b", "active": true}));
    check(User, json!({"userName": "b", "active": "false"}), json!({"userName": "b", "active": false}));
    check(User, json!({"userName": "b", "active": " FALSE "}), json!({"userName": "b", "active": false}));
    check(
        User,
        json!({"userName": "b", "emails": [{"value": "x@y", "primary": "true"}]}),
        json!({"userName": "b", "emails": [{"value": "x@y", "primary": true}]}),
    );
    check(User, json!({"userName": "b", "externalId": 12345}), json!({"userName": "b", "externalId": "12345"}));
    check(
        User,
        json!({"userName": "b", ENTERPRISE: {"employeeNumber": 701984}}),
        json!({"userName": "b", ENTERPRISE: {"employeeNumber": "701984"}}),
    );
    // A single value for a multi-valued attribute is wrapped.
    check(
        User,
        json!({"userName": "b", "emails": {"value": "x@y"}}),
        json!({"userName": "b", "emails": [{"value": "x@y"}]}),
    );
    // A bare value for a complex attribute with a `value` sub-attribute stands for that sub-attribute.
    check(User, json!({"userName": "b", "emails": ["x@y"]}), json!({"userName": "b", "emails": [{"value": "x@y"}]}));
    // Microsoft's tutorial sends the manager as a bare id (and capitalised).
    check(
        User,
        json!({"userName": "b", ENTERPRISE: {"Manager": "123456"}}),
        json!({"userName": "b", ENTERPRISE: {"manager": {"value": "123456"}}}),
    );
    check(User, json!({"userName": "b", "meta": {"lastModified": "2011-05-13T04:42:34Z"}}), json!({"userName": "b"}));
}

#[test]
fn unassigned_values_are_left_out() {
    check(
        User,
        json!({"userName": "b", "displayName": null, "emails": [], "name": {}, "roles": []}),
        json!({"userName": "b"}),
    );
    check(User, json!({"userName": "b", "name": {"givenName": null}}), json!({"userName": "b"}));
    check(
        User,
        json!({"userName": "b", "emails": [{"value": "x@y"}, {}, {"type": null}, null]}),
        json!({"userName": "b", "emails": [{"value": "x@y"}]}),
    );
    check(User, json!({"userName": "b", ENTERPRISE: {}}), json!({"userName": "b"}));
    check(User, json!({"userName": "b", ENTERPRISE: {"department": null}}), json!({"userName": "b"}));
    check(User, json!({"userName": "b", ENTERPRISE: null}), json!({"userName": "b"}));
    check(User, json!({"userName": "b", "urn:example:custom:1.0:User": {}}), json!({"userName": "b"}));
}

#[test]
fn server_set_and_unknown_attributes_are_dropped() {
    check(
        User,
        json!({"userName": "b", "id": "x", "meta": {"resourceType": "User"}, "groups": [{"value": "g"}]}),
        json!({"userName": "b"}),
    );
    check(
        User,
        json!({"userName": "b", "nosuch": 1, "name.givenName": "x", "emails": [{"value": "x@y", "label": "z"}]}),
        json!({"userName": "b", "emails": [{"value": "x@y"}]}),
    );
    check(
        User,
        json!({"userName": "b", ENTERPRISE: {"manager": {"value": "m", "displayName": "Boss"}, "nosuch": 1}}),
        json!({"userName": "b", ENTERPRISE: {"manager": {"value": "m"}}}),
    );
    check(User, json!({"userName": "b", "members": [{"value": "x"}]}), json!({"userName": "b"}));
    check(Group, json!({"displayName": "g", "userName": "x", "password": "p"}), json!({"displayName": "g"}));
    check(User, json!({"userName": "b", "schemas": ["urn:example:whatever", USER_SCHEMA]}), json!({"userName": "b"}));
}

#[test]
fn extension_forms() {
    let block = json!({"userName": "b", ENTERPRISE: {"department": "Tour Operations", "manager": {"value": "m"}}});
    check(
        User,
        json!({"userName": "b", ENTERPRISE: {"DEPARTMENT": "Tour Operations", "manager": {"value": "m"}}}),
        block.clone(),
    );
    check(
        User,
        json!({"userName": "b", format!("{ENTERPRISE}:department"): "Tour Operations", format!("{ENTERPRISE}:manager"): {"value": "m"}}),
        block.clone(),
    );
    check(
        User,
        json!({"userName": "b", ENTERPRISE: {"department": "Tour Operations"}, format!("{ENTERPRISE}:manager"): "m"}),
        block.clone(),
    );
    check(
        User,
        json!({"userName": "b", ENTERPRISE.to_lowercase(): {"department": "Tour Operations", "manager": "m"}}),
        block.clone(),
    );
    // Unqualified extension names resolve to the extension, as in filters.
    check(User, json!({"userName": "b", "department": "Tour Operations", "manager": {"value": "m"}}), block);
    check(User, json!({"userName": "b", format!("{ENTERPRISE}:nosuch"): "x"}), json!({"userName": "b"}));
}

#[test]
fn unknown_extensions_are_kept_verbatim() {
    let custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    check(
        User,
        json!({"userName": "b", custom: {"tag": "701984", "Nested": {"x": [1, null]}}}),
        json!({"userName": "b", custom: {"tag": "701984", "Nested": {"x": [1, null]}}}),
    );
    check(
        User,
        json!({"userName": "b", format!("{custom}:tag"): "701984"}),
        json!({"userName": "b", custom: {"tag": "701984"}}),
    );
    check_schemas(
        User,
        json!({"userName": "b", custom: {"tag": "1"}, ENTERPRISE: {"division": "d"}}),
        &[USER_SCHEMA, ENTERPRISE, custom],
    );
}

#[test]
fn schemas_list_what_is_present() {
    check_schemas(User, json!({"userName": "b"}), &[USER_SCHEMA]);
    check_schemas(User, json!({"userName": "b", "schemas": [USER_SCHEMA, ENTERPRISE]}), &[USER_SCHEMA]);
    check_schemas(
        User,
        json!({"userName": "b", "schemas": [], ENTERPRISE: {"division": "d"}}),
        &[USER_SCHEMA, ENTERPRISE],
    );
    check_schemas(
        User,
        json!({"userName": "b", "schemas": "nonsense", ENTERPRISE: {"division": null}}),
        &[USER_SCHEMA],
    );
    // Entra's group creation lists a Microsoft schema URI of its own.
    let entra = json!({"schemas": [GROUP_SCHEMA, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName", "meta": {"resourceType": "Group"}});
    check_schemas(Group, entra, &[GROUP_SCHEMA]);
}

#[test]
fn primary_at_most_once() {
    check(
        User,
        json!({"userName": "b", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": false}]}),
        json!({"userName": "b", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": false}]}),
    );
    check_error(
        User,
        json!({"userName": "b", "emails": [{"value": "a", "primary": true}, {"value": "b", "primary": "True"}]}),
        Kind::InvalidValue,
        "at most one may be primary",
    );
    check_error(
        User,
        json!({"userName": "b", "addresses": [{"locality": "a", "primary": true}, {"locality": "b", "primary": true}]}),
        Kind::InvalidValue,
        "'addresses' has 2 values",
    );
}

#[test]
fn required_attributes() {
    check_error(User, json!({}), Kind::InvalidValue, "'userName' is required");
    check_error(User, json!({"userName": ""}), Kind::InvalidValue, "'userName' is required");
    check_error(User, json!({"userName": "   "}), Kind::InvalidValue, "'userName' is required");
    check_error(User, json!({"userName": null}), Kind::InvalidValue, "'userName' is required");
    check_error(Group, json!({"members": []}), Kind::InvalidValue, "'displayName' is required");
    check_error(Group, json!({"displayName": ""}), Kind::InvalidValue, "'displayName' is required");
}

#[test]
fn wrong_types_name_the_attribute() {
    check_error(User, json!([]), Kind::InvalidSyntax, "must be a JSON object");
    check_error(User, json!("bjensen"), Kind::InvalidSyntax, "must be a JSON object");
    check_error(User, json!({"userName": ["b"]}), Kind::InvalidValue, "'userName' must be a string, not an array");
    check_error(
        User,
        json!({"userName": "b", "active": "maybe"}),
        Kind::InvalidValue,
        "'active' must be true or false, not the string \"maybe\"",
    );
    check_error(User, json!({"userName": "b", "active": 1}), Kind::InvalidValue, "'active' must be true or false");
    check_error(
        User,
        json!({"userName": "b", "name": "Barbara"}),
        Kind::InvalidValue,
        "'name' must be an object of sub-attributes",
    );
    check_error(
        User,
        json!({"userName": "b", "emails": [{"value": {"x": 1}}]}),
        Kind::InvalidValue,
        "'emails.value' must be a string",
    );
    check_error(User, json!({"userName": "b", "emails": [true]}), Kind::InvalidValue, "'emails' must be an object");
    check_error(
        User,
        json!({"userName": "b", "emails": [{"primary": "yes"}]}),
        Kind::InvalidValue,
        "'emails.primary' must be true or false",
    );
    check_error(User, json!({"userName": "b", "password": 1234}), Kind::InvalidValue, "'password' must be a string");
    check_error(
        User,
        json!({"userName": "b", ENTERPRISE: "Sales"}),
        Kind::InvalidValue,
        "must be an object of that extension's attributes",
    );
    check_error(
        User,
        json!({"userName": "b", ENTERPRISE: {"manager": true}}),
        Kind::InvalidValue,
        &format!("'{ENTERPRISE}:manager' must be an object"),
    );
    check_error(
        User,
        json!({"userName": "b", "x509Certificates": [{"value": false}]}),
        Kind::InvalidValue,
        "'x509Certificates.value' must be a string",
    );
}

#[test]
fn typed_values() {
    // scimbox's schemas have no integer, decimal or dateTime attributes a client writes, so the
    // coercions are exercised against the definitions directly.
    use crate::scim::schema::{COMMON_ATTRIBUTES, common_attribute};
    let meta = common_attribute("meta").expect("meta");
    let created = meta.sub_attribute("created").expect("created");
    assert_eq!(normalize_single(created, &json!("2011-05-13T04:42:34Z"), "c"), Ok(Some(json!("2011-05-13T04:42:34Z"))));
    assert_eq!(
        normalize_single(created, &json!("2011-05-13T06:42:34+02:00"), "c"),
        Ok(Some(json!("2011-05-13T06:42:34+02:00")))
    );
    let error = normalize_single(created, &json!("yesterday"), "meta.created").expect_err("not a date");
    assert!(error.detail.contains("RFC 3339"), "{}", error.detail);
    assert_eq!(COMMON_ATTRIBUTES.len(), 4);

    let integer: &'static Attribute = Box::leak(Box::new(Attribute { attr_type: AttributeType::Integer, ..*created }));
    assert_eq!(normalize_single(integer, &json!("42"), "n"), Ok(Some(json!(42))));
    assert_eq!(normalize_single(integer, &json!(42), "n"), Ok(Some(json!(42))));
    assert!(normalize_single(integer, &json!(4.5), "n").is_err());
    assert!(normalize_single(integer, &json!("4.5"), "n").is_err());
    let decimal: &'static Attribute = Box::leak(Box::new(Attribute { attr_type: AttributeType::Decimal, ..*created }));
    assert_eq!(normalize_single(decimal, &json!("4.5"), "n"), Ok(Some(json!(4.5))));
    assert_eq!(normalize_single(decimal, &json!(-1), "n"), Ok(Some(json!(-1))));
    assert!(normalize_single(decimal, &json!("four"), "n").is_err());
}

#[test]
fn password_is_taken_out() {
    let out = normalize(User, &json!({"userName": "b", "PASSWORD": "t1meMa$heen"})).expect("valid");
    assert_eq!(out.password.as_deref(), Some("t1meMa$heen"));
    assert!(!out.attributes.contains_key("password"));
    let out = normalize(User, &json!({"userName": "b", "password": null})).expect("valid");
    assert_eq!(out.password, None);
}

/// Normalises a group and returns its members.
fn members_of(body: Value) -> Option<Vec<Member>> {
    normalize(Group, &body).unwrap_or_else(|error| panic!("{body}: {}", error.detail)).members
}

fn member(value: &str, kind: Option<MemberKind>, display: Option<&str>) -> Member {
    Member { value: value.to_owned(), kind, display: display.map(str::to_owned) }
}

#[test]
fn group_members_are_taken_out() {
    assert_eq!(members_of(json!({"displayName": "g"})), None);
    assert_eq!(members_of(json!({"displayName": "g", "members": []})), Some(vec![]));
    assert_eq!(members_of(json!({"displayName": "g", "members": null})), Some(vec![]));
    // RFC 7644 §3.5.2.1's member, with its `$ref`; Entra's `"$ref": null`; Okta's `display`.
    assert_eq!(
        members_of(json!({"displayName": "g", "members": [
            {"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223", "value": "2819c223"},
            {"$ref": null, "value": "f648f8d5ea4e4cd38e9c"},
            {"VALUE": "g1", "type": "GROUP"},
            {"value": "u2", "type": "user", "display": null},
            {"value": "2819c223", "display": "duplicate"},
        ]})),
        Some(vec![
            member("2819c223", None, Some("Babs Jensen")),
            member("f648f8d5ea4e4cd38e9c", None, None),
            member("g1", Some(MemberKind::Group), None),
            member("u2", Some(MemberKind::User), None),
        ])
    );
    let out = normalize(Group, &json!({"displayName": "g", "members": [{"value": "u"}]})).expect("valid");
    assert!(!out.attributes.contains_key("members"));
}

#[test]
fn bad_group_members() {
    check_error(
        Group,
        json!({"displayName": "g", "members": [{"display": "x"}]}),
        Kind::InvalidValue,
        "needs a 'value'",
    );
    check_error(Group, json!({"displayName": "g", "members": [{"value": ""}]}), Kind::InvalidValue, "needs a 'value'");
    check_error(
        Group,
        json!({"displayName": "g", "members": [{"value": true}]}),
        Kind::InvalidValue,
        "needs a 'value'",
    );
    check_error(Group, json!({"displayName": "g", "members": ["u1"]}), Kind::InvalidValue, "must be an object");
    check_error(
        Group,
        json!({"displayName": "g", "members": [{"value": "u", "type": "Device"}]}),
        Kind::InvalidValue,
        "\"User\" or \"Group\"",
    );
    check_error(
        Group,
        json!({"displayName": "g", "members": [{"value": "u", "display": []}]}),
        Kind::InvalidValue,
        "'members.display' must be a string",
    );
}

#[test]
fn foreign_schemas_are_not_extensions() {
    // Other resource types' schemas and the IETF's reserved namespaces are not unknown extensions.
    let group_name = format!("{GROUP_SCHEMA}:displayName");
    check(
        User,
        json!({"userName": "b", GROUP_SCHEMA: {"displayName": "g"}, group_name: "g"}),
        json!({"userName": "b"}),
    );
    let reserved = json!({"userName": "b", "urn:ietf:params:scim:api:messages:2.0:PatchOp": {"x": 1},
        "urn:ietf:params:scim:schemas:core:2.0:Device:x": 1});
    check(User, reserved, json!({"userName": "b"}));
}

#[test]
fn a_multi_valued_attribute_holds_a_bounded_number_of_values() {
    let emails = |n: usize| -> Vec<Value> {
        (0..n).map(|i| json!({"value": format!("u{i}@example.com"), "type": format!("t{i}")})).collect()
    };
    let body = |n: usize| json!({"schemas": [USER_SCHEMA], "userName": "bjensen", "emails": emails(n)});
    assert!(normalize(User, &body(MAX_VALUES)).is_ok());
    let refused = normalize(User, &body(MAX_VALUES + 1)).unwrap_err();
    assert_eq!(refused.kind.scim_type(), Some("invalidValue"));
    assert!(refused.detail.contains("at most 1000"), "{}", refused.detail);
}
