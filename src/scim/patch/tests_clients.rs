//! PATCH requests exactly as Okta and Microsoft Entra ID document sending them, each group of cases
//! citing its source. The helpers are in `tests`.

use serde_json::json;

use super::MemberChange;
use super::tests::{GROUP_ID, USER_ID, bjensen, bjensen_with, body, check, check_members, member, run};
use crate::scim::schema::ENTERPRISE_USER_SCHEMA as ENTERPRISE;
use crate::scim::schema::ResourceKind::User;

fn okta_group() -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": GROUP_ID, "displayName": "Test SCIMv2"})
}

// Okta, "SCIM 2.0 protocol reference" (developer.okta.com/docs/reference/scim/scim-20/), "Update a
// specific User (PATCH)": new OIN integrations PATCH users only to activate, deactivate and sync the
// password, always as a path-less replace; every other profile change is a PUT.
#[test]
fn okta_users() {
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "value": {"active": false}}]),
        bjensen_with(json!({"active": false})),
    );
    check(
        User,
        bjensen_with(json!({"active": false})),
        json!([{"op": "replace", "value": {"active": true}}]),
        bjensen_with(json!({"active": true})),
    );
    let (result, password, _) =
        run(User, &bjensen(), &body(json!([{"op": "replace", "value": {"password": "t1meMa$heen"}}])))
            .expect("password sync");
    assert_eq!((result, password.as_deref()), (bjensen_with(json!({})), Some("t1meMa$heen")));
}

// Okta, same page, "Update a specific Group name" (the group's own `id` inside the value; sent with
// every membership update too), "Update specific Group membership" (remove by filter then add, and a
// full `replace` of `members`).
#[test]
fn okta_groups() {
    check_members(
        okta_group(),
        json!([{"op": "replace", "value": {"id": GROUP_ID, "displayName": "Test SCIMv20"}}]),
        json!({"displayName": "Test SCIMv20"}),
        vec![],
    );
    check_members(
        okta_group(),
        json!([
            {"op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},
            {"op": "add", "path": "members", "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}]}]),
        json!({"displayName": "Test SCIMv2"}),
        vec![
            MemberChange::Remove(vec!["89bb1940-b905-4575-9e7f-6f887cfb368e".into()]),
            MemberChange::Add(vec![member("23a35c27-23d3-4c03-b4c5-6443c09e7173", Some("test.user@okta.local"))]),
        ],
    );
    check_members(
        okta_group(),
        json!([{"op": "replace", "path": "members", "value": [
            {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"},
            {"value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "test.user@okta.local"}]}]),
        json!({"displayName": "Test SCIMv2"}),
        vec![MemberChange::Replace(vec![
            member("23a35c27-23d3-4c03-b4c5-6443c09e7173", Some("test.user@okta.local")),
            member("89bb1940-b905-4575-9e7f-6f887cfb368e", Some("test.user@okta.local")),
        ])],
    );
    // Okta removes members it believes are there; a non-member is simply not removed by the store.
    check_members(
        okta_group(),
        json!([{"op": "remove", "path": "members[value eq \"not-a-member\"]"}]),
        json!({"displayName": "Test SCIMv2"}),
        vec![MemberChange::Remove(vec!["not-a-member".into()])],
    );
}

// Microsoft Entra, "Known issues and resolutions with SCIM 2.0 protocol compliance" (learn.microsoft.com,
// app-provisioning/application-provisioning-config-problem-scim-compatibility): each request "without
// feature flag" (today's default) and "with feature flag" (aadOptscim062020).
#[test]
fn entra_compatibility_page() {
    // "Requests made to disable users": the default sends the string "False".
    check(
        User,
        bjensen(),
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
        bjensen_with(json!({"active": false})),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "replace", "path": "active", "value": false}]),
        bjensen_with(json!({"active": false})),
    );
    // "Requests made to add a single-value string attribute".
    check(
        User,
        bjensen(),
        json!([{"op": "Add", "path": "nickName", "value": "Babs"}]),
        bjensen_with(json!({"nickName": "Babs"})),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "add", "path": "nickName", "value": "Babs"}]),
        bjensen_with(json!({"nickName": "Babs"})),
    );
    // "Requests to replace multiple attributes": one capitalised Replace per attribute ...
    let emails = |work: &str| json!([{"value": work, "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}]);
    check(
        User,
        bjensen(),
        json!([
            {"op": "Replace", "path": "displayName", "value": "Pvlo"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
            {"op": "Replace", "path": "name.familyName", "value": "Pkqf"},
            {"op": "Replace", "path": "externalId", "value": "Eqpj"},
            {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "Eqpj"}]),
        bjensen_with(json!({"displayName": "Pvlo", "emails": emails("TestBcwqnm@test.microsoft.com"),
            "name": {"givenName": "Gtfd", "familyName": "Pkqf", "middleName": "Jane"}, "externalId": "Eqpj",
            ENTERPRISE: {"employeeNumber": "Eqpj", "department": "Tour Operations", "manager": {"value": "26118915"}}})),
    );
    // ... or, with the flag, the email by path and the rest path-less with dotted and qualified keys.
    check(
        User,
        bjensen(),
        json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com"},
            {"op": "replace", "value": {"displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua",
                format!("{ENTERPRISE}:employeeNumber"): "Aklq"}}]),
        bjensen_with(json!({"displayName": "Bjfe", "emails": emails("TestMhvaes@test.microsoft.com"),
            "name": {"givenName": "Kkom", "familyName": "Unua", "middleName": "Jane"},
            ENTERPRISE: {"employeeNumber": "Aklq", "department": "Tour Operations", "manager": {"value": "26118915"}}})),
    );
    // "Requests made to remove a group member": ids in `value` by default, a filter with the flag.
    let group = json!({"id": GROUP_ID, "displayName": "displayName"});
    check_members(
        group.clone(),
        json!([{"op": "Remove", "path": "members", "value": [{"value": "u1091"}]}]),
        json!({"displayName": "displayName"}),
        vec![MemberChange::Remove(vec!["u1091".into()])],
    );
    check_members(
        group,
        json!([{"op": "remove", "path": "members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}]),
        json!({"displayName": "displayName"}),
        vec![MemberChange::Remove(vec!["7f4bc1a3-285e-48ae-8202-5accb43efb0e".into()])],
    );
}

// Microsoft Entra, "Tutorial: Develop and plan provisioning for a SCIM endpoint"
// (app-provisioning/use-scim-to-provision-users-and-groups), "SCIM protocol requests and responses".
#[test]
fn entra_tutorial() {
    // "Update User [Multi-valued properties]".
    check(
        User,
        bjensen(),
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]),
        bjensen_with(
            json!({"emails": [{"value": "updatedEmail@microsoft.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
            "name": {"givenName": "Barbara", "familyName": "updatedFamilyName", "middleName": "Jane"}}),
        ),
    );
    // "Update User [Single-valued properties]" and "Disable User".
    check(
        User,
        bjensen(),
        json!([{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]),
        bjensen_with(json!({"userName": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"})),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "Replace", "path": "active", "value": false}]),
        bjensen_with(json!({"active": false})),
    );
    // "Update Group [Non-member attributes]", "[Add Members]" (with `"$ref": null`), "[Remove Members]".
    let group = json!({"id": GROUP_ID, "displayName": "displayName"});
    check_members(
        group.clone(),
        json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]),
        json!({"displayName": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}),
        vec![],
    );
    check_members(
        group.clone(),
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}]),
        json!({"displayName": "displayName"}),
        vec![MemberChange::Add(vec![member("f648f8d5ea4e4cd38e9c", None)])],
    );
    check_members(
        group,
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}]),
        json!({"displayName": "displayName"}),
        vec![MemberChange::Remove(vec!["f648f8d5ea4e4cd38e9c".into()])],
    );
    // The attribute table maps `manager` to `urn:...:enterprise:2.0:User:manager` and the example schema
    // carries it as a bare id, which Entra sends as the value of that path.
    check(
        User,
        bjensen(),
        json!([{"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "ManagerId"}]),
        bjensen_with(
            json!({ENTERPRISE: {"employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "ManagerId"}}}),
        ),
    );
    check(
        User,
        bjensen(),
        json!([{"op": "Replace", "path": format!("{ENTERPRISE}:manager"), "value": {"value": "m2"}}]),
        bjensen_with(
            json!({ENTERPRISE: {"employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "m2"}}}),
        ),
    );
    // The table also maps a custom attribute to `urn:...:CustomExtensionName:2.0:User:tag`.
    let custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    check(
        User,
        bjensen(),
        json!([{"op": "Add", "path": format!("{custom}:tag"), "value": "701984"}]),
        bjensen_with(json!({custom: {"tag": "701984"}})),
    );
    // A user provisioned without `mail` has no work email; the later `emails[type eq "work"].value`
    // creates it (see the comment in `edit_filtered`), and so does fax from `phoneNumbers[type eq "fax"]`.
    let without = bjensen_with(json!({"emails": [{"value": "babs@jensen.org", "type": "home"}]}));
    check(
        User,
        without.clone(),
        json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "w@contoso.com"},
            {"op": "Replace", "path": "phoneNumbers[type eq \"fax\"].value", "value": "555-0100"}]),
        bjensen_with(
            json!({"emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "w@contoso.com", "type": "work"}],
            "phoneNumbers": [{"value": "555-0100", "type": "fax"}]}),
        ),
    );
    assert_eq!(USER_ID, bjensen()["id"]);
}
