//! Keeps ARCHITECTURE.md and the layering rules true: stale paths, misplaced dependencies, missing module
//! docs and undocumented settings fail the build.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
            (relative, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// The code of a file without its comment lines, so that prose may name anything.
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|line| !line.trim_start().starts_with("//"))
}

#[test]
fn every_source_file_says_what_it_owns() {
    for (path, text) in sources() {
        assert!(text.starts_with("//!"), "{path} must open with a //! paragraph saying what it owns");
    }
}

#[test]
fn dependencies_stay_in_their_layer() {
    for (path, text) in sources() {
        for line in code_lines(&text) {
            if line.contains("rusqlite") {
                assert!(path.starts_with("src/store/"), "{path} names rusqlite outside store/: {line}");
            }
            if line.contains("hyper::") || line.contains("hyper_util") || line.contains("use hyper") {
                assert!(path.starts_with("src/http/"), "{path} names hyper outside http/: {line}");
            }
            if path.starts_with("src/scim/") || path.starts_with("src/sharing/") {
                for forbidden in ["tokio", "std::fs", "std::net", "async ", ".await", "crate::store", "crate::http"] {
                    assert!(
                        !line.contains(forbidden),
                        "{path}: scim/ and sharing/ must stay pure, found {forbidden:?}: {line}"
                    );
                }
            }
        }
    }
}

/// Every file and folder of the project below `dir`, as paths relative to the project root.
fn tree(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|name| name == "target") {
            continue;
        }
        out.push(path.strip_prefix(root()).unwrap().to_string_lossy().into_owned());
        if path.is_dir() {
            tree(&path, out);
        }
    }
}

#[test]
fn architecture_names_only_paths_that_exist() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut paths = Vec::new();
    for top in ["src", "tests", "sql", "web", "packaging", ".ci", "benches", "fuzz"] {
        paths.push(top.to_owned());
        tree(&root().join(top), &mut paths);
    }
    let mut checked = 0;
    for quoted in text.split('`').skip(1).step_by(2) {
        // A path is a folder (`scim/`), a file with a known ending, or anything under a top-level folder;
        // other slashed words (`application/json`) are not paths.
        let extensions =
            [".rs", ".sql", ".md", ".toml", ".html", ".css", ".js", ".sh", ".svg", ".service", ".env", ".sysusers"];
        let tops = ["src/", "tests/", "sql/", "web/", "packaging/", ".ci/", "benches/", "fuzz/"];
        let looks_like_path = !quoted.contains([' ', '{', '<', '*', '(', '='])
            && (quoted.ends_with('/')
                || extensions.iter().any(|e| quoted.ends_with(e))
                || tops.iter().any(|t| quoted.starts_with(t)));
        // `target/…` is what builds and checks write; it exists only after them, so it is not checked here.
        if !looks_like_path || quoted.starts_with('/') || quoted.starts_with("target/") || quoted.contains("::") {
            continue;
        }
        checked += 1;
        // A path is named from the project root, or from where the surrounding text is (a module folder
        // such as `filter/` inside `src/scim/`): it must be the end of some real path.
        let wanted = quoted.trim_end_matches('/');
        let exists = root().join(wanted).exists() || paths.iter().any(|p| p.ends_with(&format!("/{wanted}")));
        assert!(exists, "ARCHITECTURE.md names `{quoted}`, which does not exist");
    }
    assert!(checked > 20, "the path check found only {checked} paths: is the parser still right?");
}

#[test]
fn the_environment_file_documents_every_setting() {
    let text = std::fs::read_to_string(root().join("packaging/scimbox.env")).unwrap();
    let names = scimbox::cli::env_names();
    assert!(names.len() > 10, "{names:?}");
    for name in names {
        assert!(text.contains(&format!("#{name}=")), "packaging/scimbox.env does not document {name}");
    }
}
