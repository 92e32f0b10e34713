//! Fuzzes body normalisation for both resource types: never a panic, and normalising a normalised
//! resource changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimbox::scim::resource::normalize;
use scimbox::scim::schema::ResourceKind;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    for kind in [ResourceKind::User, ResourceKind::Group] {
        if let Ok(normalized) = normalize(kind, &body) {
            let again = normalize(kind, &serde_json::Value::Object(normalized.attributes.clone()))
                .expect("a normalised resource normalises");
            assert_eq!(again.attributes, normalized.attributes);
        }
    }
});
