//! Fuzzes `attributes` / `excludedAttributes` parsing and projection: `id` and `schemas` always survive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimbox::scim::projection::Projection;
use scimbox::scim::schema::ResourceKind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (attributes, excluded) = text.split_once('|').unwrap_or((text, ""));
    let Ok(projection) = Projection::parse(ResourceKind::User, Some(attributes), Some(excluded)) else { return };
    let mut user = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "userName": "bjensen",
        "name": {"givenName": "Barbara"}, "emails": [{"value": "b@example.com"}],
    });
    projection.apply(ResourceKind::User, &mut user);
    assert!(user.get("id").is_some() && user.get("schemas").is_some());
});
