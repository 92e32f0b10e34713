//! Fuzzes the PATCH path parser; a parsed path must print to text that parses to the same path, when
//! that text is within the parser's length bound (printing spaces every operator, so a path near the
//! bound can print longer: fuzz/regressions/patch_path/).
#![no_main]

use libfuzzer_sys::fuzz_target;
use scimbox::scim::filter::{MAX_FILTER_LEN, parse_patch_path};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(path) = parse_patch_path(text) {
        let printed = path.to_string();
        if printed.chars().count() <= MAX_FILTER_LEN {
            let reparsed = parse_patch_path(&printed).expect("a printed path within the length bound parses");
            assert_eq!(reparsed, path, "{printed:?}");
        }
    }
});
