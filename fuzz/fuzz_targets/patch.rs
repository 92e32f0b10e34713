//! Fuzzes PATCH requests end to end on a fixed user and a fixed group: parse the JSON, parse the
//! request, apply it, normalise the result. Nothing may panic, and a failed PATCH leaves the resource as
//! it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimbox::scim::patch::{apply, parse_request};
use scimbox::scim::resource::normalize;
use scimbox::scim::schema::ResourceKind;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Ok(operations) = parse_request(&body, 1000) else { return };
    let user = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "bjensen", "active": true, "name": {"givenName": "Barbara"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
    });
    let group = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Team"});
    for (kind, resource) in [(ResourceKind::User, user), (ResourceKind::Group, group)] {
        let original = resource.as_object().cloned().unwrap_or_default();
        let mut attributes = original.clone();
        match apply(kind, "1", &mut attributes, &operations) {
            Ok(_) => {
                let _ = normalize(kind, &serde_json::Value::Object(attributes));
            }
            Err(_) => assert_eq!(attributes, original, "a failed PATCH changed the resource"),
        }
    }
});
