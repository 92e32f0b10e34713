//! Replays every input the fuzz campaign (`fuzz/campaign.sh`) found and kept in `fuzz/regressions/`, one
//! folder per fuzz target, against the property that target checks, so a fixed failure stays fixed in
//! the ordinary test run (which has no nightly toolchain and no libFuzzer).

use std::path::{Path, PathBuf};

use scimbox::scim::filter::{Filter, MAX_FILTER_LEN, matches, parse, parse_patch_path};
use scimbox::scim::schema::ResourceKind;

fn regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("regressions")
}

/// The inputs kept for `target`.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = regressions().join(target);
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("a regression input"))
        })
        .collect();
    found.sort();
    found
}

/// `fuzz_targets/filter.rs`: parsing never panics; a printed filter within the length bound parses to the
/// same tree; resolution and evaluation never panic.
fn filter_property(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(filter) = parse(text) else { return };
    let printed = filter.to_string();
    if printed.chars().count() <= MAX_FILTER_LEN {
        assert_eq!(parse(&printed).as_ref(), Ok(&filter), "printing and parsing again changed {printed:?}");
    }
    let user = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "userName": "bjensen"});
    for kind in [ResourceKind::User, ResourceKind::Group] {
        if let Ok(resolved) = Filter::resolve(filter.clone(), kind) {
            let _ = matches(&resolved, &user, kind);
        }
    }
}

/// Runs `property` on every input kept for `target`.
fn replay(target: &str, property: fn(&[u8])) {
    let kept = inputs(target);
    assert!(!kept.is_empty(), "fuzz/regressions/{target} holds the inputs the campaign found");
    for (name, data) in kept {
        let outcome = std::panic::catch_unwind(|| property(&data));
        assert!(outcome.is_ok(), "fuzz/regressions/{target}/{name} fails the {target} target's property");
    }
}

#[test]
fn every_kept_filter_input_holds_the_property() {
    replay("filter", filter_property);
}

#[test]
fn the_kept_filter_inputs_are_near_the_length_bound_and_print_past_it() {
    // What the campaign found: filters the parser accepts whose printed form is longer than it accepts.
    for (name, data) in inputs("filter") {
        let text = String::from_utf8(data).expect("UTF-8");
        let filter = parse(&text).unwrap_or_else(|e| panic!("{name} parses: {}", e.detail));
        let printed = filter.to_string();
        assert!(printed.chars().count() > MAX_FILTER_LEN, "{name}");
        let refused = parse(&printed).expect_err("longer than the bound");
        assert!(refused.detail.contains("longer than"), "{name}: {}", refused.detail);
    }
}

/// `fuzz_targets/patch_path.rs`: a printed path within the length bound parses to the same path.
fn patch_path_property(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(path) = parse_patch_path(text) else { return };
    let printed = path.to_string();
    if printed.chars().count() <= MAX_FILTER_LEN {
        assert_eq!(parse_patch_path(&printed).as_ref(), Ok(&path), "printing and parsing again changed {printed:?}");
    }
}

#[test]
fn every_kept_patch_path_input_holds_the_property() {
    replay("patch_path", patch_path_property);
    for (name, data) in inputs("patch_path") {
        // Like the filters: accepted, and printed past the bound.
        let text = String::from_utf8(data).expect("UTF-8");
        let path = parse_patch_path(&text).unwrap_or_else(|e| panic!("{name} parses: {}", e.detail));
        assert!(path.to_string().chars().count() > MAX_FILTER_LEN, "{name}");
    }
}

#[test]
fn every_regression_folder_is_replayed() {
    let replayed = ["filter", "patch_path"];
    for entry in std::fs::read_dir(regressions()).expect("fuzz/regressions") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        assert!(replayed.contains(&name.as_str()), "fuzz/regressions/{name} has no replay in this file");
    }
}
