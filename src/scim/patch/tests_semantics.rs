//! PATCH cases for the semantics of each operation and path form, and for the decisions the module
//! documentation lists. The helpers are in `tests`.

use serde_json::{Value, json};

use super::tests::{USER_ID, bjensen, bjensen_with, body, check, check_error, check_members, group, member, run, user};
use super::{Filter, Member, MemberChange};
use crate::scim::Kind;
use crate::scim::filter::{AttrPath, parse};
use crate::scim::resource::MemberKind;
use crate::scim::schema::ENTERPRISE_USER_SCHEMA as ENTERPRISE;
use crate::scim::schema::ResourceKind::{Group, User};

#[test]
fn add() {
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "path": "nickName", "value": "Babs"}]),
        user(json!({"nickName": "Babs"})),
    );
    check(
        User,
        user(json!({"nickName": "B"})),
        json!([{"op": "add", "path": "nickName", "value": "Babs"}]),
        user(json!({"nickName": "Babs"})),
    );
    check(
        User,
        user(json!({"name": {"givenName": "B"}})),
        json!([{"op": "add", "path": "name", "value": {"familyName": "J"}}]),
        user(json!({"name": {"givenName": "B", "familyName": "J"}})),
    );
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "path": "name.givenName", "value": "B"}]),
        user(json!({"name": {"givenName": "B"}})),
    );
    check(
        User,
        user(json!({"emails": [{"value": "a"}]})),
        json!([{"op": "add", "path": "emails", "value": [{"value": "b"}, {"value": "a"}]}]),
        user(json!({"emails": [{"value": "a"}, {"value": "b"}]})),
    );
    check(
        User,
        user(json!({"emails": [{"value": "a"}]})),
        json!([{"op": "add", "path": "emails", "value": {"value": "b"}}]),
        user(json!({"emails": [{"value": "a"}, {"value": "b"}]})),
    );
    check(
        User,
        user(json!({"nickName": "B"})),
        json!([{"op": "add", "path": "nickName", "value": null}]),
        user(json!({"nickName": "B"})),
    );
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "value": {"title": "Tour Guide", "emails": [{"value": "x@y"}], "nosuch": 1}}]),
        user(json!({"title": "Tour Guide", "emails": [{"value": "x@y"}]})),
    );
}

#[test]
fn replace() {
    check(
        User,
        user(json!({"title": "A"})),
        json!([{"op": "replace", "path": "title", "value": "B"}]),
        user(json!({"title": "B"})),
    );
    check(
        User,
        user(json!({"name": {"givenName": "B", "familyName": "J"}})),
        json!([{"op": "replace", "path": "name", "value": {"familyName": "K"}}]),
        user(json!({"name": {"givenName": "B", "familyName": "K"}})),
    );
    check(
        User,
        user(json!({"name": {"givenName": "B", "familyName": "J"}})),
        json!([{"op": "replace", "path": "name", "value": {"familyName": null}}]),
        user(json!({"name": {"givenName": "B"}})),
    );
    check(
        User,
        user(json!({"emails": [{"value": "a"}, {"value": "b"}]})),
        json!([{"op": "replace", "path": "emails", "value": [{"value": "c"}]}]),
        user(json!({"emails": [{"value": "c"}]})),
    );
    // A missing target makes replace an add (§3.5.2.3).
    check(
        User,
        user(json!({})),
        json!([{"op": "replace", "path": "name.familyName", "value": "J"}]),
        user(json!({"name": {"familyName": "J"}})),
    );
    // `null` unassigns.
    check(
        User,
        user(json!({"title": "A", "emails": [{"value": "a"}]})),
        json!([{"op": "replace", "path": "title", "value": null}, {"op": "replace", "path": "emails", "value": []}]),
        user(json!({})),
    );
    check(
        User,
        user(json!({"name": {"givenName": "B"}})),
        json!([{"op": "replace", "path": "name.givenName", "value": null}]),
        user(json!({})),
    );
    check(
        User,
        user(json!({"title": "A"})),
        json!([{"op": "replace", "value": {"title": null, "nickName": "B"}}]),
        user(json!({"nickName": "B"})),
    );
}

#[test]
fn remove() {
    check(
        User,
        user(json!({"title": "A", "nickName": "B"})),
        json!([{"op": "remove", "path": "title"}]),
        user(json!({"nickName": "B"})),
    );
    check(User, user(json!({})), json!([{"op": "remove", "path": "title"}]), user(json!({})));
    check(
        User,
        user(json!({"name": {"givenName": "B"}})),
        json!([{"op": "remove", "path": "name.givenName"}]),
        user(json!({})),
    );
    check(User, bjensen(), json!([{"op": "remove", "path": "emails"}]), bjensen_with(json!({"emails": null})));
    check(
        User,
        bjensen(),
        json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
        bjensen_with(
            json!({"emails": [{"value": "bjensen@example.com", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}]}),
        ),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "remove", "path": "emails.type"}]),
        bjensen_with(
            json!({"emails": [{"value": "bjensen@example.com", "primary": true}, {"value": "babs@jensen.org"}]}),
        ),
    );
    // A filter that matches nothing removes nothing and is not an error (Okta relies on it).
    check(User, bjensen(), json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]), bjensen_with(json!({})));
    check(
        User,
        bjensen(),
        json!([{"op": "remove", "path": "phoneNumbers[type eq \"fax\"].value"}]),
        bjensen_with(json!({})),
    );
    // A value list removes those values, matched on `value` (case-insensitively for emails).
    check(
        User,
        bjensen(),
        json!([{"op": "remove", "path": "emails", "value": [{"value": "BABS@jensen.org"}]}]),
        bjensen_with(json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]})),
    );
}

#[test]
fn value_filters() {
    let work_only = |value: &str| {
        bjensen_with(
            json!({"emails": [{"value": value, "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}]}),
        )
    };
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]),
        work_only("new@example.com"),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "add", "path": "EMAILS[TYPE EQ \"work\"].VALUE", "value": "new@example.com"}]),
        work_only("new@example.com"),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": "emails[type eq \"work\" and primary eq true].value", "value": "new@example.com"}]),
        work_only("new@example.com"),
    );
    // No match, filter of eq comparisons: a value is created from the filter.
    check(
        User,
        user(json!({"emails": [{"value": "h@x", "type": "home"}]})),
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "w@x"}]),
        user(json!({"emails": [{"value": "h@x", "type": "home"}, {"value": "w@x", "type": "work"}]})),
    );
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555"}]),
        user(json!({"phoneNumbers": [{"value": "555", "type": "mobile"}]})),
    );
    check(
        User,
        user(json!({})),
        json!([{"op": "replace", "path": "addresses[type eq \"work\" and primary eq true]", "value": {"locality": "Paris"}}]),
        user(json!({"addresses": [{"locality": "Paris", "type": "work", "primary": true}]})),
    );
    // No match, any other filter: noTarget (§3.5.2.3).
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "emails[value co \"nobody\"].type", "value": "other"}])),
        Kind::NoTarget,
        "no value of 'emails' matches",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "add", "path": "emails[type eq \"a\" or type eq \"b\"].value", "value": "x"}])),
        Kind::NoTarget,
        "does not describe a new one",
    );
    // Add with a filter and no sub-attribute merges into the matching values.
    check(
        User,
        bjensen(),
        json!([{"op": "add", "path": "addresses[type eq \"work\"]", "value": {"region": "NY", "locality": null}}]),
        bjensen_with(
            json!({"addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
            "region": "NY", "postalCode": "91608", "country": "USA", "primary": true}]}),
        ),
    );
    // Replace with a filter and `null` removes the matching values.
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": null}]),
        bjensen_with(json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]})),
    );
    // Filters on things that are not multi-valued complex attributes, and bad sub-attributes, are paths
    // that cannot work.
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "remove", "path": "userName[value eq \"x\"]"}])),
        Kind::InvalidPath,
        "not a multi-valued complex attribute",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "remove", "path": "name[givenName eq \"x\"]"}])),
        Kind::InvalidPath,
        "not a multi-valued complex attribute",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "emails[type eq \"work\"].nosuch", "value": 1}])),
        Kind::InvalidPath,
        "its sub-attributes are value, display, type, primary",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "emails[type gt true]", "value": {}}])),
        Kind::InvalidPath,
        "invalid filter",
    );
}

#[test]
fn primary_moves() {
    // RFC 7644 §3.5.2: making a value primary sets "primary" to false on the others.
    check(
        User,
        bjensen(),
        json!([{"op": "add", "path": "emails", "value": [{"value": "new@example.com", "type": "other", "primary": true}]}]),
        bjensen_with(
            json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": false}, {"value": "babs@jensen.org", "type": "home"},
            {"value": "new@example.com", "type": "other", "primary": true}]}),
        ),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]),
        bjensen_with(
            json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": false}, {"value": "babs@jensen.org", "type": "home", "primary": true}]}),
        ),
    );
    // A whole list sent with two primaries is the client's error.
    check_error(
        User,
        bjensen(),
        body(
            json!([{"op": "replace", "path": "emails", "value": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}]),
        ),
        Kind::InvalidValue,
        "at most one may be primary",
    );
}

#[test]
fn no_path_value_objects() {
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "value": {"name.givenName": "Babs", format!("{ENTERPRISE}:department"): "Sales",
        "emails[type eq \"home\"].value": "b@j.org", "urn:ietf:params:scim:schemas:core:2.0:User:title": "Guide"}}]),
        bjensen_with(
            json!({"name": {"familyName": "Jensen", "givenName": "Babs", "middleName": "Jane"}, "title": "Guide",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "b@j.org", "type": "home"}],
            ENTERPRISE: {"employeeNumber": "701984", "department": "Sales", "manager": {"value": "26118915"}}}),
        ),
    );
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "value": {ENTERPRISE: {"costCenter": "4130", "nosuch": 1}, "urn:ietf:params:scim:schemas:core:2.0:User": {"title": "T"}}}]),
        user(json!({"title": "T", ENTERPRISE: {"costCenter": "4130"}})),
    );
    // `schemas` and `meta` keys are ignored; unknown names too, as `normalize` ignores them.
    check(
        User,
        user(json!({})),
        json!([{"op": "replace", "value": {"schemas": ["urn:x"], "meta": {"version": "W/\"1\""}, "meta.created": "x", "nosuch": 1, "nickName": "B"}}]),
        user(json!({"nickName": "B"})),
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "value": "active"}])),
        Kind::InvalidValue,
        "\"value\" must be an object of attributes",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "value": null}])),
        Kind::InvalidValue,
        "\"value\" must be an object of attributes",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "value": {"emails[type eq": "x"}}])),
        Kind::InvalidPath,
        "the key 'emails[type eq' of \"value\" is not an attribute path",
    );
}

#[test]
fn extension_paths() {
    let enterprise = |block: Value| bjensen_with(json!({ENTERPRISE: block}));
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": 42}]),
        enterprise(json!({"employeeNumber": "42", "department": "Tour Operations", "manager": {"value": "26118915"}})),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:manager.value"), "value": "m2"}]),
        enterprise(json!({"employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "m2"}})),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "remove", "path": format!("{ENTERPRISE}:manager")}, {"op": "remove", "path": "department"}]),
        enterprise(json!({"employeeNumber": "701984"})),
    );
    // The bare URN as the path, with an object value; and removing the whole block.
    check(
        User,
        bjensen(),
        json!([{"op": "add", "path": ENTERPRISE, "value": {"division": "Theme Park", "department": null}}]),
        enterprise(
            json!({"employeeNumber": "701984", "department": "Tour Operations", "division": "Theme Park", "manager": {"value": "26118915"}}),
        ),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": ENTERPRISE.to_uppercase(), "value": {"department": null}}]),
        enterprise(json!({"employeeNumber": "701984", "manager": {"value": "26118915"}})),
    );
    check(User, bjensen(), json!([{"op": "remove", "path": ENTERPRISE}]), bjensen_with(json!({ENTERPRISE: null})));
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": {"value": "m", "$ref": "../Users/m"}}]),
        user(json!({ENTERPRISE: {"manager": {"value": "m", "$ref": "../Users/m"}}})),
    );
    // The core schema's URN as the path is the resource itself.
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User", "value": {"title": "T"}}]),
        user(json!({"title": "T"})),
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:core:2.0:User"}])),
        Kind::NoTarget,
        "not the resource",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": ENTERPRISE, "value": "Sales"}])),
        Kind::InvalidValue,
        "must be an object of that extension's attributes",
    );
}

#[test]
fn unknown_extensions() {
    let custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "path": format!("{custom}:tag"), "value": "701984"}]),
        user(json!({custom: {"tag": "701984"}})),
    );
    check(
        User,
        user(json!({custom: {"tag": "1", "other": true}})),
        json!([{"op": "replace", "path": format!("{custom}:TAG"), "value": "2"}]),
        user(json!({custom: {"tag": "2", "other": true}})),
    );
    check(
        User,
        user(json!({custom: {"tag": "1"}})),
        json!([{"op": "remove", "path": format!("{custom}:tag")}]),
        user(json!({})),
    );
    check(
        User,
        user(json!({custom: {"tag": "1", "other": true}})),
        json!([{"op": "remove", "path": custom}]),
        user(json!({})),
    );
    check(
        User,
        user(json!({custom: {"tag": "1"}})),
        json!([{"op": "replace", "value": {custom: {"other": [1]}, format!("{custom}:x.y"): 2}}]),
        user(json!({custom: {"tag": "1", "other": [1], "x": {"y": 2}}})),
    );
}

#[test]
fn coercions_at_apply_time() {
    check(
        User,
        user(json!({"active": true})),
        json!([{"op": "replace", "path": "active", "value": "False"}]),
        user(json!({"active": false})),
    );
    check(
        User,
        user(json!({"active": false})),
        json!([{"op": "replace", "value": {"ACTIVE": "TRUE"}}]),
        user(json!({"active": true})),
    );
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "path": "externalId", "value": 12345}]),
        user(json!({"externalId": "12345"})),
    );
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "path": "emails", "value": [{"value": "a@b", "primary": "true"}]}]),
        user(json!({"emails": [{"value": "a@b", "primary": true}]})),
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "active", "value": "maybe"}])),
        Kind::InvalidValue,
        "'active' must be true or false, not the string \"maybe\"",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "name", "value": ["x"]}])),
        Kind::InvalidValue,
        "'name' must be an object of sub-attributes",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "add", "path": "emails[type eq \"work\"]", "value": "x"}])),
        Kind::InvalidValue,
        "must be one object of sub-attributes",
    );
}

#[test]
fn mutability() {
    // readOnly attributes; `id` equal to the resource's own is accepted and ignored (Okta's rename).
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "value": {"id": USER_ID, "nickName": "B"}}]),
        bjensen_with(json!({"nickName": "B"})),
    );
    check(User, bjensen(), json!([{"op": "replace", "path": "id", "value": USER_ID}]), bjensen_with(json!({})));
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "value": {"id": "someone-else"}}])),
        Kind::Mutability,
        "'id' is readOnly",
    );
    check_error(User, bjensen(), body(json!([{"op": "remove", "path": "id"}])), Kind::Mutability, "'id' is readOnly");
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "meta.lastModified", "value": "2011-05-13T04:42:34Z"}])),
        Kind::Mutability,
        "'meta.lastModified' is readOnly",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}])),
        Kind::Mutability,
        "through the Group resource",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "value": {"groups": [{"value": "g"}]}}])),
        Kind::Mutability,
        "'groups' is readOnly",
    );
    check(User, bjensen(), json!([{"op": "replace", "value": {"groups": []}}]), bjensen_with(json!({})));
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": format!("{ENTERPRISE}:manager.displayName"), "value": "Boss"}])),
        Kind::Mutability,
        "manager.displayName' is readOnly",
    );
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "value": {format!("{ENTERPRISE}:manager"): {"value": "m", "displayName": "Boss"}}}]),
        bjensen_with(
            json!({ENTERPRISE: {"employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "m"}}}),
        ),
    );
    // `schemas` is recomputed, so changing it is ignored rather than refused.
    check(User, bjensen(), json!([{"op": "add", "path": "schemas", "value": ["urn:x"]}]), bjensen_with(json!({})));
    // Required attributes cannot be removed (RFC 7644 §3.5.2.2: mutability); an empty one is invalid.
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "remove", "path": "userName"}])),
        Kind::Mutability,
        "'userName' is required",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "userName", "value": null}])),
        Kind::Mutability,
        "'userName' is required",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "value": {"userName": null}}])),
        Kind::Mutability,
        "'userName' is required",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "userName", "value": ""}])),
        Kind::InvalidValue,
        "'userName' is required",
    );
    check_error(
        Group,
        group(),
        body(json!([{"op": "remove", "path": "displayName"}])),
        Kind::Mutability,
        "'displayName' is required",
    );
    // Members' sub-attributes are immutable: a member is removed and added, never edited.
    check_error(
        Group,
        group(),
        body(json!([{"op": "replace", "path": "members[value eq \"u\"].display", "value": "x"}])),
        Kind::Mutability,
        "immutable",
    );
    check_error(
        Group,
        group(),
        body(json!([{"op": "add", "path": "members[value eq \"u\"]", "value": {"value": "u"}}])),
        Kind::Mutability,
        "immutable",
    );
}

#[test]
fn unknown_paths() {
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "nosuch", "value": 1}])),
        Kind::InvalidPath,
        "'nosuch' names no attribute of a User resource",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "name.nosuch", "value": 1}])),
        Kind::InvalidPath,
        "names no attribute",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "remove", "path": "members"}])),
        Kind::InvalidPath,
        "names no attribute of a User",
    );
    check_error(
        Group,
        group(),
        body(json!([{"op": "replace", "path": "userName", "value": "x"}])),
        Kind::InvalidPath,
        "names no attribute of a Group",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": format!("{ENTERPRISE}:nosuch"), "value": 1}])),
        Kind::InvalidPath,
        "names no attribute",
    );
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "value": 1}])),
        Kind::InvalidPath,
        "names no attribute",
    );
}

#[test]
fn password_is_left_for_normalize() {
    let request = body(json!([{"op": "replace", "value": {"password": "t1meMa$heen"}}]));
    let (result, password, _) = run(User, &bjensen(), &request).expect("valid");
    assert_eq!(password.as_deref(), Some("t1meMa$heen"));
    assert_eq!(result, bjensen_with(json!({})));
    let (_, password, _) = run(User, &bjensen(), &body(json!([{"op": "remove", "path": "password"}]))).expect("valid");
    assert_eq!(password, None);
    check_error(
        User,
        bjensen(),
        body(json!([{"op": "add", "path": "password", "value": 1}])),
        Kind::InvalidValue,
        "'password' must be a string",
    );
}

#[test]
fn all_or_nothing() {
    // `run` checks that a failed request leaves the resource as it was; the detail names the operation.
    check_error(
        User,
        bjensen(),
        body(
            json!([{"op": "replace", "path": "title", "value": "T"}, {"op": "replace", "path": "active", "value": []}]),
        ),
        Kind::InvalidValue,
        "operation 2 (replace 'active'): 'active' must be true or false, not an array",
    );
    check_error(
        Group,
        group(),
        body(
            json!([{"op": "add", "path": "members", "value": [{"value": "u"}]}, {"op": "replace", "path": "id", "value": "x"}]),
        ),
        Kind::Mutability,
        "operation 2 (replace 'id')",
    );
}

#[test]
fn group_members() {
    let name = json!({"displayName": "Test SCIMv2"});
    check_members(
        group(),
        json!([{"op": "add", "path": "members", "value": {"value": "u1", "type": "User"}}]),
        name.clone(),
        vec![MemberChange::Add(vec![Member { value: "u1".into(), kind: Some(MemberKind::User), display: None }])],
    );
    check_members(
        group(),
        json!([{"op": "remove", "path": "members[value eq \"a\" or value eq \"b\"]"}]),
        name.clone(),
        vec![MemberChange::Remove(vec!["a".into(), "b".into()])],
    );
    let by_type = parse("type eq \"Group\"").and_then(|filter| {
        Filter::ValuePath { attr: AttrPath::new("members"), filter: Box::new(filter) }.resolve(Group)
    });
    let Ok(Filter::ValuePath { filter: by_type, .. }) = by_type else { panic!("fixture filter") };
    check_members(
        group(),
        json!([{"op": "remove", "path": "members[TYPE eq \"Group\"]"}]),
        name.clone(),
        vec![MemberChange::RemoveWhere(*by_type)],
    );
    check_members(
        group(),
        json!([{"op": "replace", "path": "members", "value": null}]),
        name.clone(),
        vec![MemberChange::Replace(vec![])],
    );
    check_members(
        group(),
        json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members", "value": []}]),
        name.clone(),
        vec![MemberChange::Replace(vec![])],
    );
    check_members(
        group(),
        json!([{"op": "add", "value": {"members": [{"value": "u1"}]}}]),
        name.clone(),
        vec![MemberChange::Add(vec![member("u1", None)])],
    );
    check_members(
        group(),
        json!([{"op": "replace", "value": {"displayName": "New", "members": [{"value": "u1"}]}}]),
        json!({"displayName": "New"}),
        vec![MemberChange::Replace(vec![member("u1", None)])],
    );
    // Order is kept across operations, for the store to apply in turn.
    check_members(
        group(),
        json!([{"op": "add", "path": "members", "value": [{"value": "a"}]}, {"op": "remove", "path": "members"},
        {"op": "add", "path": "members", "value": [{"value": "b"}]}, {"op": "remove", "path": "members[value eq \"b\"]"}]),
        name.clone(),
        vec![
            MemberChange::Add(vec![member("a", None)]),
            MemberChange::RemoveAll,
            MemberChange::Add(vec![member("b", None)]),
            MemberChange::Remove(vec!["b".into()]),
        ],
    );
    check_error(
        Group,
        group(),
        body(json!([{"op": "add", "path": "members", "value": [{"value": "u", "type": "Device"}]}])),
        Kind::InvalidValue,
        "\"User\" or \"Group\"",
    );
    check_error(
        Group,
        group(),
        body(json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}])),
        Kind::InvalidValue,
        "needs a 'value'",
    );
}

#[test]
fn unknown_extension_blocks_by_bare_urn() {
    // The bare URN with an object value is the block, as in `normalize`, whether or not it exists yet.
    let custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    check(
        User,
        user(json!({})),
        json!([{"op": "add", "path": custom, "value": {"tag": "1"}}]),
        user(json!({custom: {"tag": "1"}})),
    );
    check(
        User,
        user(json!({})),
        json!([{"op": "replace", "value": {custom: {"tag": "1"}}}]),
        user(json!({custom: {"tag": "1"}})),
    );
    let group_name =
        json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "value": "x"}]);
    check_error(User, user(json!({})), body(group_name), Kind::InvalidPath, "names no attribute");
}
