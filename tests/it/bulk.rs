//! `POST /scim/v2/Bulk` (RFC 7644 §3.7) over HTTP.

use reqwest::StatusCode;
use scimbox::credentials::Scope;
use serde_json::{Value, json};

use crate::support::TestServer;

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

async fn bulk(server: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    let response = server.client.post(server.url("/scim/v2/Bulk")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn get(server: &TestServer, token: &str, url: &str) -> (StatusCode, Value) {
    let response = server.client.get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_references_resolve_and_members_point_at_users_of_the_same_request() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    let (status, body) = bulk(
        &server,
        &token,
        json!({"schemas": [BULK], "Operations": [
            // The group comes first and names users created after it.
            {"method": "POST", "path": "/Groups", "bulkId": "team",
             "data": {"displayName": "Team", "members": [{"value": "bulkId:alice"}, {"value": "bulkId:bob"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "alice", "data": {"userName": "alice"}},
            {"method": "POST", "path": "/Users", "bulkId": "bob", "data": {"userName": "bob"}},
            {"method": "PATCH", "path": "/Users/bulkId:bob",
             "data": {"Operations": [{"op": "replace", "value": {"title": "Lead"}}]}},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let operations = body["Operations"].as_array().unwrap();
    assert_eq!(operations.len(), 4);
    for (operation, expected) in operations.iter().zip(["201", "201", "201", "200"]) {
        assert_eq!(operation["status"], expected, "{operation}");
    }
    assert_eq!(operations[0]["bulkId"], "team");
    let group_location = operations[0]["location"].as_str().unwrap();
    let (_, group) = get(&server, &token, group_location).await;
    let members: Vec<&str> =
        group["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
    let alice = operations[1]["location"].as_str().unwrap().rsplit('/').next().unwrap();
    let bob = operations[2]["location"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(members.len(), 2);
    assert!(members.contains(&alice) && members.contains(&bob), "{group}");
    let (_, bob_user) = get(&server, &token, operations[2]["location"].as_str().unwrap()).await;
    assert_eq!(bob_user["title"], "Lead");
    assert_eq!(bob_user["groups"][0]["display"], "Team");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_operations_are_reported_alone_and_fail_on_errors_stops_the_run() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    let (status, body) = bulk(
        &server,
        &token,
        json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "same"}},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "SAME"}},
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"displayName": "G", "members": [{"value": "bulkId:b"}]}},
            {"method": "DELETE", "path": "/Users/does-not-exist"},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"userName": "c"}},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let statuses: Vec<&str> =
        body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "409", "409", "404", "201"], "{body}");
    assert_eq!(body["Operations"][1]["response"]["scimType"], "uniqueness");
    let (_, groups) = get(&server, &token, &server.url("/scim/v2/Groups")).await;
    assert_eq!(groups["totalResults"], 0, "the group that referred to a failed user was not created");

    let (_, body) = bulk(
        &server,
        &token,
        json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "x", "data": {"userName": "same"}},
            {"method": "POST", "path": "/Users", "bulkId": "y", "data": {"userName": "never"}},
        ]}),
    )
    .await;
    assert_eq!(body["Operations"].as_array().unwrap().len(), 1, "the run stopped after the first error: {body}");
    let (_, users) = get(&server, &token, &server.url("/scim/v2/Users?filter=userName%20eq%20%22never%22")).await;
    assert_eq!(users["totalResults"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_cycles_and_malformed_requests() {
    let server = TestServer::start_with(|config| {
        config.limits.bulk_max_operations = 3;
        config.limits.max_body_bytes = 4096;
    })
    .await;
    let token = server.token(Scope::Scim).await;
    let four: Vec<Value> = (0..4).map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")})).collect();
    let (status, body) = bulk(&server, &token, json!({"schemas": [BULK], "Operations": four})).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["status"], "413");

    let big = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "a", "nickName": "n".repeat(5000)}}]});
    let (status, _) = bulk(&server, &token, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let (status, body) = bulk(
        &server,
        &token,
        json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {"displayName": "One", "members": [{"value": "bulkId:g2"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "g2", "data": {"displayName": "Two", "members": [{"value": "bulkId:g1"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "u", "x": "bulkId:nowhere"}},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let statuses: Vec<&str> =
        body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["409", "409", "400"], "{body}");

    let (status, body) = bulk(&server, &token, json!({"schemas": [BULK], "Operations": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let response = server.client.get(server.url("/scim/v2/Bulk")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_patch_inside_a_bulk_request_has_the_operation_bound() {
    let server = TestServer::start_with(|config| config.limits.patch_max_operations = 3).await;
    let token = server.token(Scope::Scim).await;
    let operations = |n: usize| -> Vec<Value> {
        (0..n).map(|i| json!({"op": "replace", "path": "title", "value": format!("t{i}")})).collect()
    };
    let (status, body) = bulk(
        &server,
        &token,
        json!({"schemas": [BULK], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"userName": "bounded"}},
            {"method": "PATCH", "path": "/Users/bulkId:u", "data": {"Operations": operations(3)}},
            {"method": "PATCH", "path": "/Users/bulkId:u", "data": {"Operations": operations(4)}},
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["Operations"].as_array().unwrap();
    assert_eq!(results[1]["status"], "200", "{body}");
    assert_eq!(results[2]["status"], "413", "{body}");
    let detail = results[2]["response"]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("at most 3 operations"), "{body}");
}

fn creates(prefix: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("{prefix}{i}"),
                        "data": {"userName": format!("{prefix}{i}@example.com")}})
        })
        .collect()
}

/// A Bulk request's operations share one commit, a refused one leaves the others (a create is refused
/// before it writes anything; the other operations run in savepoints of their own), and the answer
/// comes once that commit is durable.
#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_request_is_one_commit_with_each_operation_on_its_own() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    let mut operations = creates("one", 300);
    // Two refusals in the middle: a duplicate userName and a PATCH of a user that does not exist.
    operations.insert(
        100,
        json!({"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "one5@example.com"}}),
    );
    operations.insert(
        200,
        json!({"method": "PATCH", "path": "/Users/nobody",
                                 "data": {"Operations": [{"op": "replace", "path": "title", "value": "x"}]}}),
    );
    let before = server.store.writer_stats();
    let (status, body) = bulk(&server, &token, json!({"schemas": [BULK], "Operations": operations})).await;
    let after = server.store.writer_stats();
    assert_eq!(status, StatusCode::OK, "{body}");
    let statuses: Vec<&str> =
        body["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.len(), 302);
    assert_eq!(statuses.iter().filter(|s| **s == "201").count(), 300);
    assert_eq!((statuses[100], statuses[200]), ("409", "404"));
    // 302 operations, and the activity record's own batches beside them: a handful of commits, not 302.
    let commits = after.transactions - before.transactions;
    assert!(commits <= 5, "{commits} commits for one Bulk request");
    let (_, list) = get(&server, &token, &server.url("/scim/v2/Users?count=1")).await;
    assert_eq!(list["totalResults"], 300, "every create is stored, the refused ones changed nothing");
}

/// Other clients' writes go on while a Bulk request runs, and a Bulk that sets passwords (argon2 runs
/// between its writes) is answered whole.
#[tokio::test(flavor = "multi_thread")]
async fn writes_beside_a_bulk_request_go_on_and_passwords_are_set() {
    let server = TestServer::start().await;
    let token = server.token(Scope::Scim).await;
    let mut operations = creates("big", 500);
    for i in 0..3 {
        operations.push(json!({"method": "POST", "path": "/Users", "bulkId": format!("pw{i}"),
                               "data": {"userName": format!("pw{i}@example.com"), "password": "a long enough password"}}));
    }
    let big = bulk(&server, &token, json!({"schemas": [BULK], "Operations": operations}));
    let singles = async {
        for i in 0..30 {
            let response = server
                .client
                .post(server.url("/scim/v2/Users"))
                .bearer_auth(&token)
                .json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("single{i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
        }
    };
    let ((status, body), ()) = tokio::join!(big, singles);
    assert_eq!(status, StatusCode::OK);
    let operations = body["Operations"].as_array().unwrap();
    let refused: Vec<&Value> = operations.iter().filter(|o| o["status"] != "201").collect();
    assert!(refused.is_empty(), "{refused:?}");
    let (_, list) = get(&server, &token, &server.url("/scim/v2/Users?count=1")).await;
    assert_eq!(list["totalResults"], 533);
}
