//! Benchmarks of the pure SCIM engine: filter parsing and resolution, filter → SQL planning, PATCH
//! application. Run with `cargo bench --bench engine`; numbers are medians of many samples.

use scimbox::scim::filter::{Filter, parse};
use scimbox::scim::patch::{apply, parse_request};
use scimbox::scim::schema::ResourceKind;
use serde_json::{Map, Value, json};

fn main() {
    divan::main();
}

/// A named input, so that the report shows the name rather than the whole text.
#[derive(Debug, Clone, Copy)]
struct Input {
    name: &'static str,
    text: &'static str,
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

const OKTA_LOOKUP: Input = Input { name: "okta_lookup", text: r#"userName eq "dade.murphy@example.com""# };
const COMPLEX: Input = Input {
    name: "complex",
    text: r#"(emails[type eq "work" and value co "@example.com"] or userName sw "d") and active eq true and not (title eq "Intern") and meta.lastModified gt "2024-01-01T00:00:00Z""#,
};

#[divan::bench(args = [OKTA_LOOKUP, COMPLEX])]
fn filter_parse(input: Input) -> Filter {
    parse(divan::black_box(input.text)).unwrap()
}

#[divan::bench(args = [OKTA_LOOKUP, COMPLEX])]
fn filter_parse_and_resolve(input: Input) -> Filter {
    Filter::parse_for(divan::black_box(input.text), ResourceKind::User).unwrap()
}

#[divan::bench(args = [OKTA_LOOKUP, COMPLEX])]
fn filter_to_sql(bencher: divan::Bencher, input: Input) {
    let filter = Filter::parse_for(input.text, ResourceKind::User).unwrap();
    bencher.bench(|| scimbox::store::plan_filter(ResourceKind::User, Some(divan::black_box(&filter))));
}

fn user() -> Map<String, Value> {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "dade.murphy@example.com", "active": true, "displayName": "Dade Murphy",
        "name": {"givenName": "Dade", "familyName": "Murphy"},
        "emails": [{"value": "dade.murphy@example.com", "type": "work", "primary": true}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "mobile"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Research", "employeeNumber": "42"},
    })
    .as_object()
    .cloned()
    .unwrap()
}

const OKTA_DEACTIVATE: Input = Input {
    name: "okta_deactivate",
    text: r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}"#,
};
const ENTRA_UPDATE: Input = Input {
    name: "entra_four_operations",
    text: r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
  {"op":"Replace","path":"active","value":"False"},
  {"op":"Replace","path":"emails[type eq \"work\"].value","value":"dade@example.com"},
  {"op":"Replace","path":"name.givenName","value":"D."},
  {"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"0191"}}]}"#,
};

#[divan::bench(args = [OKTA_DEACTIVATE, ENTRA_UPDATE])]
fn patch_parse_and_apply(bencher: divan::Bencher, input: Input) {
    let body: Value = serde_json::from_str(input.text).unwrap();
    let original = user();
    bencher.bench(|| {
        let operations = parse_request(divan::black_box(&body), 1000).unwrap();
        let mut resource = original.clone();
        apply(ResourceKind::User, "1", &mut resource, &operations).unwrap();
        resource
    });
}

/// A PATCH of `operations` value-filter replaces (`emails[type eq "tN"].value`) on a user who already
/// holds the most e-mails a user may hold, each operation matching one of them: every operation tests
/// every element, so this is the engine's worst case per operation. Linear means the time per operation
/// does not grow with the number of operations.
#[divan::bench(args = [10, 100, 1000], sample_count = 20)]
fn patch_value_filter_replaces(bencher: divan::Bencher, operations: usize) {
    let held = scimbox::scim::resource::MAX_VALUES;
    let mut original = user();
    let emails: Vec<Value> =
        (0..held).map(|n| json!({"value": format!("u{n}@example.com"), "type": format!("t{n}")})).collect();
    original.insert("emails".into(), Value::Array(emails));
    let ops: Vec<Value> = (0..operations)
        .map(|n| {
            let n = n * held / operations;
            json!({"op": "replace", "path": format!("emails[type eq \"t{n}\"].value"), "value": format!("new{n}@example.com")})
        })
        .collect();
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let operations = parse_request(&body, 1000).unwrap();
    bencher.bench(|| {
        let mut resource = original.clone();
        apply(ResourceKind::User, "1", &mut resource, divan::black_box(&operations)).unwrap();
        resource
    });
}

/// One argon2id verification with the parameters tokens and passwords are hashed with: what the first
/// request of a token pays.
#[divan::bench(sample_count = 20)]
fn argon2_verify(bencher: divan::Bencher) {
    let hash = scimbox::credentials::hash_secret("correct horse battery staple").unwrap();
    bencher.bench(|| {
        assert!(scimbox::credentials::verify_secret(divan::black_box("correct horse battery staple"), &hash))
    });
}

/// A token check after the first request: the epoch `stat`, the table lookup, SHA-256 and a
/// constant-time compare (no argon2). Driven through a current-thread runtime, whose `block_on` adds
/// a little of its own.
#[divan::bench]
fn token_check_cached(bencher: divan::Bencher) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = scimbox::store::Store::open(dir.path()).unwrap();
    let verifier = scimbox::http::TokenVerifier::new(store.clone());
    let (_, token) = runtime
        .block_on(store.create_token(
            &scimbox::audit::Actor::cli("bench".into()),
            "bench",
            scimbox::credentials::Scope::Scim,
            None,
        ))
        .unwrap();
    let header = format!("Bearer {}", token.text()).into_bytes();
    runtime.block_on(verifier.authenticate(Some(&header), scimbox::credentials::Scope::Scim, None)).unwrap();
    bencher.bench_local(|| {
        runtime
            .block_on(verifier.authenticate(Some(divan::black_box(&header)), scimbox::credentials::Scope::Scim, None))
            .unwrap()
    });
}
