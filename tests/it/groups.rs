//! SCIM /Groups over HTTP: Okta's Push Groups and Entra's group provisioning replayed, membership rules
//! (existence, nesting, cycles), filters on groups and members, and what deleting users and groups does
//! to memberships.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::scim_client::{GROUP_SCHEMA, Scim, id_of, patch_op, sorted, urlencode, values_of};

const OKTA: &str = "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20";

/// The group's member ids, sorted (empty when the group shows no `members`).
async fn member_ids(scim: &Scim, group: &str) -> Vec<String> {
    let (status, stored) = scim.get(&format!("/Groups/{group}")).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    values_of(&stored, "members")
}

/// The display names of a group list response, in order.
fn display_names(list: &Value) -> Vec<&str> {
    list["Resources"].as_array().unwrap().iter().map(|r| r["displayName"].as_str().unwrap()).collect()
}

/// `GET /Groups?filter=<filter>` (plus `extra` query parameters), answered 200.
async fn groups_where(scim: &Scim, filter: &str, extra: &str) -> Value {
    let (status, list) = scim.get(&format!("/Groups?filter={}{extra}", urlencode(filter))).await;
    assert_eq!(status, StatusCode::OK, "{filter}: {list}");
    list
}

// Okta Push Groups: create the group empty, read it without members, add members by PATCH (a value
// array), remove one with a `members[value eq "…"]` path. Okta accepts 204 for group PATCH.
// https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20 ("Create Groups", "Retrieve
// specific Groups", "Update a specific Group membership")
#[tokio::test(flavor = "multi_thread")]
async fn okta_pushes_a_group_then_adds_and_removes_members() {
    let scim = Scim::start().await;
    let first = scim.create_id("first@okta.local").await;
    let second = scim.create_id("second@okta.local").await;

    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": "Test SCIMv2", "members": []});
    let created = scim.exchange(scim.request(Method::POST, "/Groups").json(&body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let group = id_of(&created.json);
    assert_eq!(created.json["displayName"], "Test SCIMv2", "{OKTA}: displayName as sent");
    assert_eq!(created.json["meta"]["resourceType"], "Group");
    assert_eq!(created.json["schemas"], json!([GROUP_SCHEMA]));
    let location = created.header("location").expect("Location header on 201");
    assert!(location.ends_with(&format!("/scim/v2/Groups/{group}")), "{location}");
    assert_eq!(created.json["meta"]["location"], location);
    let path = format!("/Groups/{group}");

    let add = json!([{"op": "add", "path": "members", "value": [
        {"value": first, "display": "first@okta.local"}, {"value": second, "display": "second@okta.local"}
    ]}]);
    let reply = scim.exchange(scim.request(Method::PATCH, &path).json(&patch_op(add))).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(reply.text.is_empty(), "204 has no body");

    let (status, lean) = scim.get(&format!("{path}?excludedAttributes=members")).await;
    assert_eq!(status, StatusCode::OK, "{lean}");
    assert!(lean.get("members").is_none(), "excludedAttributes=members: {lean}");
    assert_eq!(lean["displayName"], "Test SCIMv2");

    let (_, full) = scim.get(&path).await;
    let members = full["members"].as_array().unwrap_or_else(|| panic!("members listed: {full}"));
    assert_eq!(members.len(), 2, "{full}");
    let first_member = members.iter().find(|m| m["value"] == first).unwrap();
    assert_eq!(first_member["display"], "first@okta.local", "{full}");
    assert_eq!(first_member["type"], "User", "{full}");
    assert!(first_member["$ref"].as_str().unwrap().ends_with(&format!("/scim/v2/Users/{first}")), "{full}");

    let remove = json!([{"op": "remove", "path": format!("members[value eq \"{first}\"]")}]);
    assert_eq!(scim.patch(&path, remove).await.0, StatusCode::NO_CONTENT);
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&second]), "only the named member left");

    // Okta sends a remove and an add in one request when membership changes both ways.
    let both = json!([
        {"op": "remove", "path": format!("members[value eq \"{second}\"]")},
        {"op": "add", "path": "members", "value": [{"value": first, "display": "first@okta.local"}]}
    ]);
    assert_eq!(scim.patch(&path, both).await.0, StatusCode::NO_CONTENT);
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&first]));
}

// Okta renames a pushed group with a no-path replace whose value carries the group's own id.
// https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20 ("Update a specific Group name")
#[tokio::test(flavor = "multi_thread")]
async fn okta_renames_a_group_with_its_own_id_in_the_value() {
    let scim = Scim::start().await;
    let user = scim.create_id("stays@okta.local").await;
    let group = scim.create_group("Old Name", &[&user]).await;
    let rename = json!([{"op": "replace", "value": {"id": group, "displayName": "New Name"}}]);
    let (status, body) = scim.patch(&format!("/Groups/{group}"), rename).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, stored) = scim.get(&format!("/Groups/{group}")).await;
    assert_eq!(stored["displayName"], "New Name", "{stored}");
    assert_eq!(stored["id"], group);
    assert_eq!(values_of(&stored, "members"), sorted(&[&user]), "a rename keeps the members");

    let other = json!([{"op": "replace", "value": {"id": "not-this-group", "displayName": "Third Name"}}]);
    let (status, error) = scim.patch(&format!("/Groups/{group}"), other).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "another id in the value is refused: {error}");
    assert_eq!(error["scimType"], "mutability", "{error}");
    let (_, stored) = scim.get(&format!("/Groups/{group}")).await;
    assert_eq!(stored["displayName"], "New Name", "{stored}");
}

// Okta custom apps send the whole group, member list included, with PUT. RFC 7644 §3.5.1: the body
// replaces the resource.
#[tokio::test(flavor = "multi_thread")]
async fn full_put_with_members_replaces_the_member_list() {
    let scim = Scim::start().await;
    let (a, b, c) = (scim.create_id("a").await, scim.create_id("b").await, scim.create_id("c").await);
    let group = scim.create_group("Replaced", &[&a, &b]).await;
    let body = json!({"schemas": [GROUP_SCHEMA], "id": group, "displayName": "Replaced",
                      "members": [{"value": b, "display": "b"}, {"value": c, "display": "c"}]});
    let (status, replaced) = scim.put(&format!("/Groups/{group}"), &body).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(values_of(&replaced, "members"), sorted(&[&b, &c]), "the PUT response lists the new members");
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&b, &c]));

    let emptied = json!({"schemas": [GROUP_SCHEMA], "displayName": "Replaced", "members": []});
    assert_eq!(scim.put(&format!("/Groups/{group}"), &emptied).await.0, StatusCode::OK);
    assert_eq!(member_ids(&scim, &group).await, Vec::<String>::new(), "members: [] empties the group");
}

// ARCHITECTURE.md decision: PUT without `members` leaves them (RFC 7644 §3.5.1 "not asserted").
#[tokio::test(flavor = "multi_thread")]
async fn put_without_members_keeps_them() {
    let scim = Scim::start().await;
    let user = scim.create_id("kept").await;
    let group = scim.create_group("Before Rename", &[&user]).await;
    let (status, replaced) =
        scim.put(&format!("/Groups/{group}"), &json!({"schemas": [GROUP_SCHEMA], "displayName": "After Rename"})).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["displayName"], "After Rename");
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&user]));
}

// Okta "Delete a specific Group": DELETE → 204; the group is gone, its members are not.
#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_group_keeps_its_users() {
    let scim = Scim::start().await;
    let user = scim.create_id("survivor").await;
    let group = scim.create_group("Doomed", &[&user]).await;
    assert_eq!(scim.delete(&format!("/Groups/{group}")).await, StatusCode::NO_CONTENT, "{OKTA}");
    let (status, error) = scim.get(&format!("/Groups/{group}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert_eq!(error["status"], "404");
    assert_eq!(scim.delete(&format!("/Groups/{group}")).await, StatusCode::NOT_FOUND, "deleting twice");
    let (status, stored) = scim.get(&format!("/Users/{user}")).await;
    assert_eq!(status, StatusCode::OK, "the user still exists: {stored}");
    assert!(stored.get("groups").is_none(), "and belongs to no group: {stored}");
    let (_, list) = scim.get("/Groups").await;
    assert_eq!(list["totalResults"], 0);
}

// Entra's group create carries a Microsoft schema URI and `meta`; it looks groups up with
// `excludedAttributes=members&filter=displayName eq "…"`.
// https://learn.microsoft.com/en-us/azure/active-directory/manage-apps/use-scim-to-provision-users-and-groups
// ("Create Group", "Get Group by displayName")
#[tokio::test(flavor = "multi_thread")]
async fn entra_creates_a_group_and_finds_it_by_display_name() {
    let scim = Scim::start().await;
    let body = json!({
        "schemas": [GROUP_SCHEMA, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group", "created": "2000-01-01T00:00:00Z"}
    });
    let (status, created) = scim.post("/Groups", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["externalId"], "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159");
    assert_ne!(created["meta"]["created"], "2000-01-01T00:00:00Z", "client meta is ignored: {created}");
    scim.create_group("displayName2", &[]).await;

    let list = groups_where(&scim, "displayName eq \"displayName\"", "&excludedAttributes=members").await;
    assert_eq!(list["totalResults"], 1, "{list}");
    assert_eq!(list["Resources"][0]["id"], created["id"]);
    assert!(list["Resources"][0].get("members").is_none(), "{list}");
    let list = groups_where(&scim, "displayName eq \"DISPLAYNAME\"", "").await;
    assert_eq!(display_names(&list), ["displayName"], "displayName compares case-insensitively");
}

// Entra's membership PATCHes: `Add`/`Remove` capitalised, a value array with `"$ref": null`, answered 204.
// https://learn.microsoft.com/en-us/azure/active-directory/manage-apps/use-scim-to-provision-users-and-groups
// ("Update Group [Add Members]", "Update Group [Remove Members]")
#[tokio::test(flavor = "multi_thread")]
async fn entra_adds_and_removes_members_with_capitalised_ops() {
    let scim = Scim::start().await;
    let (a, b) = (scim.create_id("a@contoso.example").await, scim.create_id("b@contoso.example").await);
    let group = scim.create_group("Entra Group", &[]).await;
    let path = format!("/Groups/{group}");

    let add =
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": a}, {"$ref": null, "value": b}]}]);
    let (status, body) = scim.patch(&path, add).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&a, &b]));

    let remove = json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": a}]}]);
    let (status, body) = scim.patch(&path, remove).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&b]), "only the listed member is removed");
}

// Several operations in one request apply in order, all or nothing (RFC 7644 §3.5.2).
#[tokio::test(flavor = "multi_thread")]
async fn mixed_operations_in_one_request_apply_in_order() {
    let scim = Scim::start().await;
    let (a, b, c) = (scim.create_id("a").await, scim.create_id("b").await, scim.create_id("c").await);
    let group = scim.create_group("Mixed", &[&a]).await;
    let path = format!("/Groups/{group}");
    let operations = json!([
        {"op": "Replace", "path": "displayName", "value": "Mixed Renamed"},
        {"op": "Add", "path": "members", "value": [{"value": b}, {"value": c}]},
        {"op": "Remove", "path": "members", "value": [{"value": a}]},
        {"op": "replace", "path": "externalId", "value": "ext-1"}
    ]);
    let (status, body) = scim.patch(&path, operations).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, stored) = scim.get(&path).await;
    assert_eq!(stored["displayName"], "Mixed Renamed", "{stored}");
    assert_eq!(stored["externalId"], "ext-1", "{stored}");
    assert_eq!(values_of(&stored, "members"), sorted(&[&b, &c]), "{stored}");

    let before = scim.get_text(&path).await;
    let failing = json!([
        {"op": "Add", "path": "members", "value": [{"value": a}]},
        {"op": "Replace", "path": "displayName", "value": "Never"},
        {"op": "Replace", "path": "id", "value": "another-id"}
    ]);
    let (status, error) = scim.patch(&path, failing).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(scim.get_text(&path).await, before, "a failing request applies none of its operations");
}

// Entra expects 409 when a group's displayName is taken (the design makes it unique case-insensitively).
#[tokio::test(flavor = "multi_thread")]
async fn group_display_names_are_unique_whatever_their_case() {
    let scim = Scim::start().await;
    scim.create_group("Engineering", &[]).await;
    let other = scim.create_group("Sales", &[]).await;
    let (status, error) = scim.post("/Groups", &json!({"schemas": [GROUP_SCHEMA], "displayName": "ENGINEERING"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["scimType"], "uniqueness", "{error}");

    let path = format!("/Groups/{other}");
    let before = scim.get_text(&path).await;
    let (status, error) =
        scim.patch(&path, json!([{"op": "replace", "path": "displayName", "value": "engineering"}])).await;
    assert_eq!(status, StatusCode::CONFLICT, "PATCH rename onto a taken name: {error}");
    let (status, error) = scim.put(&path, &json!({"displayName": "Engineering"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "PUT rename onto a taken name: {error}");
    assert_eq!(scim.get_text(&path).await, before, "the refused renames change nothing");
    let (status, _) = scim.put(&path, &json!({"displayName": "SALES"})).await;
    assert_eq!(status, StatusCode::OK, "a group may change the case of its own name");
}

// ARCHITECTURE.md decision: members that do not exist are refused with 400 `invalidValue` naming them.
#[tokio::test(flavor = "multi_thread")]
async fn members_that_do_not_exist_are_refused_by_name() {
    let scim = Scim::start().await;
    let real = scim.create_id("real").await;
    let ghost = "0190ffff-dead-7000-8000-000000000000";
    let body =
        json!({"schemas": [GROUP_SCHEMA], "displayName": "Haunted", "members": [{"value": real}, {"value": ghost}]});
    let (status, error) = scim.post("/Groups", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["scimType"], "invalidValue", "{error}");
    assert!(error["detail"].as_str().unwrap().contains(ghost), "the detail names the missing member: {error}");
    let (_, list) = scim.get("/Groups").await;
    assert_eq!(list["totalResults"], 0, "no group was created: {list}");

    let group = scim.create_group("Careful", &[&real]).await;
    let path = format!("/Groups/{group}");
    let before = scim.get_text(&path).await;
    let (status, error) =
        scim.patch(&path, json!([{"op": "add", "path": "members", "value": [{"value": ghost}]}])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["scimType"], "invalidValue", "{error}");
    assert!(error["detail"].as_str().unwrap().contains(ghost), "{error}");
    let (status, error) = scim.put(&path, &json!({"displayName": "Careful", "members": [{"value": ghost}]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "PUT with a missing member: {error}");
    assert_eq!(scim.get_text(&path).await, before, "the group is unchanged");

    let deleted = scim.create_id("deleted").await;
    assert_eq!(scim.delete(&format!("/Users/{deleted}")).await, StatusCode::NO_CONTENT);
    let (status, error) =
        scim.patch(&path, json!([{"op": "add", "path": "members", "value": [{"value": deleted}]}])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a deleted user is no member: {error}");
    assert_eq!(scim.get_text(&path).await, before);
}

// RFC 7643 §4.2: members may be groups (`type` "Group"); a group containing itself, directly or through
// other groups, would make membership undefined and is refused.
#[tokio::test(flavor = "multi_thread")]
async fn nested_groups_are_allowed_and_cycles_refused() {
    let scim = Scim::start().await;
    let user = scim.create_id("nested").await;
    let inner = scim.create_group("Inner", &[&user]).await;
    let outer = scim.create_group("Outer", &[]).await;
    let (status, body) = scim
        .patch(
            &format!("/Groups/{outer}"),
            json!([{"op": "add", "path": "members", "value": [{"value": inner, "type": "Group"}]}]),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, stored) = scim.get(&format!("/Groups/{outer}")).await;
    assert_eq!(stored["members"][0]["value"], inner, "{stored}");
    assert_eq!(stored["members"][0]["type"], "Group", "{stored}");
    assert_eq!(stored["members"][0]["display"], "Inner", "a member without display shows its own name: {stored}");
    assert!(stored["members"][0]["$ref"].as_str().unwrap().ends_with(&format!("/scim/v2/Groups/{inner}")));

    let inner_before = scim.get_text(&format!("/Groups/{inner}")).await;
    let outer_before = scim.get_text(&format!("/Groups/{outer}")).await;
    let cycles = [
        ("Inner adds Outer", &inner, &outer),
        ("Outer adds Outer", &outer, &outer),
        ("Inner adds Inner", &inner, &inner),
    ];
    for (what, target, member) in cycles {
        let add = json!([{"op": "add", "path": "members", "value": [{"value": member}]}]);
        let (status, error) = scim.patch(&format!("/Groups/{target}"), add).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {error}");
        assert_eq!(error["scimType"], "invalidValue", "{what}: {error}");
    }
    let put = json!({"displayName": "Inner", "members": [{"value": user}, {"value": outer, "type": "Group"}]});
    let (status, error) = scim.put(&format!("/Groups/{inner}"), &put).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a cycle through PUT: {error}");
    assert_eq!(scim.get_text(&format!("/Groups/{inner}")).await, inner_before, "Inner unchanged");
    assert_eq!(scim.get_text(&format!("/Groups/{outer}")).await, outer_before, "Outer unchanged");
}

// RFC 7644 §3.4.2.2 filters on groups, including the member forms clients use to ask "which groups is
// this user in"; `attributes=displayName` never carries members (RFC 7644 §3.4.2.5).
#[tokio::test(flavor = "multi_thread")]
async fn group_filters_on_names_external_ids_and_members() {
    let scim = Scim::start().await;
    let (alice, bob) = (scim.create_id("alice").await, scim.create_id("bob").await);
    let both = json!({"schemas": [GROUP_SCHEMA], "displayName": "Both", "externalId": "ext-both",
                      "members": [{"value": alice}, {"value": bob}]});
    assert_eq!(scim.post("/Groups", &both).await.0, StatusCode::CREATED);
    scim.create_group("Alice Only", &[&alice]).await;
    scim.create_group("Nobody", &[]).await;

    let cases: Vec<(String, Vec<&str>)> = vec![
        ("displayName eq \"Both\"".into(), vec!["Both"]),
        ("displayName eq \"alice only\"".into(), vec!["Alice Only"]),
        ("externalId eq \"ext-both\"".into(), vec!["Both"]),
        (format!("members[value eq \"{alice}\"]"), vec!["Both", "Alice Only"]),
        (format!("members[value eq \"{bob}\"]"), vec!["Both"]),
        (format!("members eq \"{bob}\""), vec!["Both"]),
        (format!("members.value eq \"{alice}\""), vec!["Both", "Alice Only"]),
        (format!("members.value eq \"{alice}\" and displayName sw \"A\""), vec!["Alice Only"]),
        ("members pr".into(), vec!["Both", "Alice Only"]),
        ("not (members pr)".into(), vec!["Nobody"]),
    ];
    for (filter, expected) in &cases {
        let list = groups_where(&scim, filter, "").await;
        assert_eq!(display_names(&list), *expected, "{filter}: {list}");
        assert_eq!(list["totalResults"], expected.len(), "{filter}");
        let projected = groups_where(&scim, filter, "&attributes=displayName").await;
        assert_eq!(display_names(&projected), *expected, "{filter} with attributes=displayName");
        for resource in projected["Resources"].as_array().unwrap() {
            let mut keys: Vec<&str> = resource.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["displayName", "id", "schemas"], "{filter}: attributes=displayName: {resource}");
        }
    }
}

// Deleting a user removes it from every group; deleting a group removes it from every user's `groups`
// (and from the groups it was nested in).
#[tokio::test(flavor = "multi_thread")]
async fn deleting_users_and_groups_updates_memberships_on_both_sides() {
    let scim = Scim::start().await;
    let (leaver, stayer) = (scim.create_id("leaver").await, scim.create_id("stayer").await);
    let team = scim.create_group("Team", &[&leaver, &stayer]).await;
    let club = scim.create_group("Club", &[&leaver]).await;
    let org = scim.create_group("Org", &[]).await;
    let nest = json!([{"op": "add", "path": "members", "value": [{"value": team}]}]);
    assert_eq!(scim.patch(&format!("/Groups/{org}"), nest).await.0, StatusCode::NO_CONTENT);

    assert_eq!(scim.delete(&format!("/Users/{leaver}")).await, StatusCode::NO_CONTENT);
    assert_eq!(member_ids(&scim, &team).await, sorted(&[&stayer]), "the deleted user left Team");
    assert_eq!(member_ids(&scim, &club).await, Vec::<String>::new(), "and Club");
    let list = groups_where(&scim, &format!("members.value eq \"{leaver}\""), "").await;
    assert_eq!(list["totalResults"], 0, "no group lists the deleted user: {list}");
    let (_, stayer_before) = scim.get(&format!("/Users/{stayer}")).await;
    assert_eq!(values_of(&stayer_before, "groups"), sorted(&[&team, &org]), "{stayer_before}");

    assert_eq!(scim.delete(&format!("/Groups/{team}")).await, StatusCode::NO_CONTENT);
    let (_, stayer_after) = scim.get(&format!("/Users/{stayer}")).await;
    assert!(
        stayer_after.get("groups").is_none(),
        "with Team gone the user is in no group, not even Org through Team: {stayer_after}"
    );
    assert_eq!(member_ids(&scim, &org).await, Vec::<String>::new(), "Team left Org's members");
}

// ARCHITECTURE.md decision: PATCH /Groups answers 204, or 200 with the projected group when the query
// names `attributes` or `excludedAttributes`.
#[tokio::test(flavor = "multi_thread")]
async fn patch_with_attributes_answers_the_projected_group() {
    let scim = Scim::start().await;
    let user = scim.create_id("someone").await;
    let group = scim.create_group("Projected", &[]).await;
    let add = patch_op(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
    let reply =
        scim.exchange(scim.request(Method::PATCH, &format!("/Groups/{group}?attributes=displayName")).json(&add)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json, json!({"schemas": [GROUP_SCHEMA], "id": group, "displayName": "Projected"}));
    assert_eq!(reply.header("etag"), Some("W/\"2\""), "the ETag is the new version");

    let rename = patch_op(json!([{"op": "replace", "path": "displayName", "value": "Projected Again"}]));
    let reply = scim
        .exchange(scim.request(Method::PATCH, &format!("/Groups/{group}?excludedAttributes=meta")).json(&rename))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["displayName"], "Projected Again", "{}", reply.text);
    assert_eq!(values_of(&reply.json, "members"), sorted(&[&user]), "members are shown: {}", reply.text);
    assert!(reply.json.get("meta").is_none(), "{}", reply.text);
}

// ARCHITECTURE.md decision: a member's `display` is stored as the client sent it; without one, the
// member's own current name is shown.
#[tokio::test(flavor = "multi_thread")]
async fn member_display_is_as_sent_or_follows_the_member() {
    let scim = Scim::start().await;
    let named = id_of(&scim.create("named", json!({"displayName": "Named Person"})).await);
    let sent = scim.create_id("sent").await;
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": "Shown",
                      "members": [{"value": named, "$ref": null}, {"value": sent, "display": "As Sent"}]});
    let (status, created) = scim.post("/Groups?excludedAttributes=members", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created.get("members").is_none(), "POST honours excludedAttributes=members: {created}");
    let group = id_of(&created);
    let display = |group: &Value, id: &str| {
        group["members"].as_array().unwrap().iter().find(|m| m["value"] == id).unwrap()["display"].clone()
    };
    let (_, stored) = scim.get(&format!("/Groups/{group}")).await;
    assert_eq!(display(&stored, &named), "Named Person", "{stored}");
    assert_eq!(display(&stored, &sent), "As Sent", "{stored}");

    let rename = json!([{"op": "replace", "path": "displayName", "value": "Renamed Person"}]);
    assert_eq!(scim.patch(&format!("/Users/{named}"), rename).await.0, StatusCode::OK);
    let (_, stored) = scim.get(&format!("/Groups/{group}")).await;
    assert_eq!(display(&stored, &named), "Renamed Person", "a display not sent follows the member: {stored}");

    let (_, values) = scim.get(&format!("/Groups/{group}?attributes=members.value")).await;
    let mut ids = [named.clone(), sent.clone()];
    ids.sort();
    let expected: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    assert_eq!(values["members"], Value::Array(expected), "attributes=members.value: {values}");
}

// RFC 7644 §3.5.2.2: `remove` of `members` without a value removes them all; §3.5.2.3: `replace` of
// `members` with a value makes those the members. A single member object (not an array) is accepted.
#[tokio::test(flavor = "multi_thread")]
async fn patch_replaces_and_empties_member_lists() {
    let scim = Scim::start().await;
    let (a, b) = (scim.create_id("a").await, scim.create_id("b").await);
    let group = scim.create_group("Lists", &[&a]).await;
    let path = format!("/Groups/{group}");
    let replace = json!([{"op": "replace", "path": "members", "value": [{"value": b}]}]);
    assert_eq!(scim.patch(&path, replace).await.0, StatusCode::NO_CONTENT);
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&b]));
    let single = json!([{"op": "add", "path": "members", "value": {"value": a}}]);
    let (status, body) = scim.patch(&path, single).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&a, &b]));
    assert_eq!(scim.patch(&path, json!([{"op": "remove", "path": "members"}])).await.0, StatusCode::NO_CONTENT);
    assert_eq!(member_ids(&scim, &group).await, Vec::<String>::new());
    let (_, users) = scim.get("/Users").await;
    assert_eq!(users["totalResults"], 2, "emptying a group deletes no user");
}

// RFC 7644 §3.14 on groups: a stale `If-Match` is 412 and changes neither attributes nor members.
#[tokio::test(flavor = "multi_thread")]
async fn group_writes_honour_if_match() {
    let scim = Scim::start().await;
    let user = scim.create_id("u").await;
    let group = scim.create_group("Guarded", &[]).await;
    let path = format!("/Groups/{group}");
    let add = patch_op(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
    let refused = scim.exchange(scim.request(Method::PATCH, &path).header("if-match", "W/\"7\"").json(&add)).await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED, "{}", refused.text);
    assert_eq!(member_ids(&scim, &group).await, Vec::<String>::new(), "the refused PATCH added nobody");
    let put = json!({"displayName": "Guarded", "members": [{"value": user}]});
    let refused = scim.exchange(scim.request(Method::PUT, &path).header("if-match", "W/\"7\"").json(&put)).await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED, "{}", refused.text);
    let refused = scim.exchange(scim.request(Method::DELETE, &path).header("if-match", "W/\"7\"")).await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED, "{}", refused.text);
    let accepted = scim.exchange(scim.request(Method::PATCH, &path).header("if-match", "W/\"1\"").json(&add)).await;
    assert_eq!(accepted.status, StatusCode::NO_CONTENT, "{}", accepted.text);
    assert_eq!(accepted.header("etag"), Some("W/\"2\""));
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&user]));
}

// RFC 7644 §3.5.2.1 and §3.5.2.3: without a path, the value object's `members` key adds (add) or
// replaces (replace) members like a `members` path does.
#[tokio::test(flavor = "multi_thread")]
async fn no_path_values_with_members_change_membership() {
    let scim = Scim::start().await;
    let (a, b, c) = (scim.create_id("a").await, scim.create_id("b").await, scim.create_id("c").await);
    let group = scim.create_group("No Path", &[&a]).await;
    let path = format!("/Groups/{group}");
    let add = json!([{"op": "add", "value": {"members": [{"value": b}]}}]);
    let (status, body) = scim.patch(&path, add).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(member_ids(&scim, &group).await, sorted(&[&a, &b]), "add without path adds");
    let replace = json!([{"op": "replace", "value": {"displayName": "No Path Renamed", "members": [{"value": c}]}}]);
    let (status, body) = scim.patch(&path, replace).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, stored) = scim.get(&path).await;
    assert_eq!(stored["displayName"], "No Path Renamed");
    assert_eq!(values_of(&stored, "members"), sorted(&[&c]), "replace without path replaces: {stored}");
}
