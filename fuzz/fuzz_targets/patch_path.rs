//! Fuzzes the PATCH path parser; a parsed path must print to text that parses to the same path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimbox::scim::filter::parse_patch_path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(path) = parse_patch_path(text) {
        let printed = path.to_string();
        assert_eq!(parse_patch_path(&printed).expect("a printed path parses"), path, "{printed:?}");
    }
});
