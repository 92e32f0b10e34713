//! Fuzzes bulk request parsing, paths and `bulkId` reference handling.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use scimbox::scim::bulk::{parse_path, parse_request, references, substitute};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Ok(request) = parse_request(body, 1000) else { return };
    for operation in request.operations.iter().flatten() {
        let _ = parse_path(operation.method, &operation.path);
        let resolved: HashMap<String, String> =
            references(operation).into_iter().map(|r| (r.clone(), format!("id-{r}"))).collect();
        let substituted = substitute(operation, &resolved);
        assert!(references(&substituted).is_empty(), "every reference was substituted");
    }
});
