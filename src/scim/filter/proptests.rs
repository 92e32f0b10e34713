//! Property tests for filters: generated trees survive printing and re-parsing, resolution is idempotent
//! and agrees with evaluation, and no input makes the parser, the resolver or the evaluator panic.

use proptest::prelude::*;
use serde_json::Value;

use super::fixtures::{ENTERPRISE, groups, users};
use super::*;
use crate::scim::schema::ResourceKind::{self, Group, User};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        Just("$ref".to_owned()),
        prop::sample::select(vec!["and", "or", "not", "pr", "eq", "true", "null", "emails", "userName", "value"])
            .prop_map(str::to_owned),
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let uri = prop::option::of(prop::sample::select(vec![
        "urn:ietf:params:scim:schemas:core:2.0:User",
        ENTERPRISE,
        "urn:example:custom:1.0",
    ]));
    (uri, name(), prop::option::of(name())).prop_map(|(uri, attr, sub_attr)| AttrPath {
        uri: uri.map(str::to_owned),
        attr,
        sub_attr,
    })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        any::<String>().prop_map(CompValue::Str),
        "[ -~]{0,12}".prop_map(CompValue::Str),
        any::<i64>().prop_map(|n| CompValue::Num(n.into())),
        any::<u64>().prop_map(|n| CompValue::Num(n.into())),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(CompValue::Num)),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(CompareOp::ALL.to_vec())
}

fn attribute_expression() -> impl Strategy<Value = Filter> {
    prop_oneof![
        (attr_path(), op(), comp_value()).prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        attr_path().prop_map(|path| Filter::Present { path }),
    ]
}

/// Filters without value paths: the contents of `[...]`.
fn value_filter() -> impl Strategy<Value = Filter> {
    attribute_expression().prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::and(l, r)),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::or(l, r)),
            inner.prop_map(Filter::negate),
        ]
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        3 => attribute_expression(),
        1 => (attr_path(), value_filter()).prop_map(|(mut attr, filter)| {
            attr.sub_attr = None;
            Filter::ValuePath { attr, filter: Box::new(filter) }
        }),
    ];
    leaf.prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::and(l, r)),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::or(l, r)),
            inner.prop_map(Filter::negate),
        ]
    })
}

/// Strings built from filter-like pieces, which reach deeper into the parser than random text.
fn filter_like_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "userName",
        "emails",
        "name.givenName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
        "manager.value",
        " ",
        "  ",
        "eq",
        "NE",
        "co",
        "gt",
        "pr",
        "and",
        "OR",
        "not",
        "(",
        ")",
        "[",
        "]",
        ".",
        "\"x\"",
        "\"",
        "\\",
        "\\u00e9",
        "1",
        "-2.5e3",
        "true",
        "null",
        "é",
        ":",
        "$ref",
        "\t",
    ]);
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

fn all_fixtures() -> Vec<(ResourceKind, Value)> {
    let users = users().into_iter().map(|(_, user)| (User, user));
    users.chain(groups().into_iter().map(|(_, group)| (Group, group))).collect()
}

proptest! {
    #[test]
    fn printing_then_parsing_gives_the_same_tree(filter in filter()) {
        let text = filter.to_string();
        prop_assert_eq!(parse(&text), Ok(filter), "{}", text);
    }

    #[test]
    fn patch_paths_round_trip(attr in attr_path(), inner in prop::option::of(value_filter()), sub in prop::option::of(name())) {
        let path = match inner {
            Some(filter) => PatchPath { attr: AttrPath { sub_attr: None, ..attr }, filter: Some(filter), sub_attr: sub },
            None => PatchPath { attr, filter: None, sub_attr: None },
        };
        let text = path.to_string();
        prop_assert_eq!(parse_patch_path(&text), Ok(path), "{}", text);
    }

    #[test]
    fn resolving_is_idempotent_and_round_trips(filter in filter()) {
        for kind in [User, Group] {
            if let Ok(resolved) = filter.clone().resolve(kind) {
                prop_assert_eq!(resolved.clone().resolve(kind), Ok(resolved.clone()));
                prop_assert_eq!(Filter::parse_for(&resolved.to_string(), kind), Ok(resolved));
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse(&text);
        let _ = parse_patch_path(&text);
    }

    #[test]
    fn filter_like_text_never_panics_and_reprints_stably(text in filter_like_text()) {
        let _ = parse_patch_path(&text);
        if let Ok(filter) = parse(&text) {
            prop_assert_eq!(parse(&filter.to_string()), Ok(filter.clone()));
            for (kind, resource) in all_fixtures() {
                let _ = matches(&filter, &resource, kind);
                if let Ok(resolved) = filter.clone().resolve(kind) {
                    prop_assert_eq!(matches(&resolved, &resource, kind), matches(&filter, &resource, kind));
                }
            }
        }
    }

    #[test]
    fn evaluation_never_panics_and_agrees_with_resolution(filter in filter()) {
        for (kind, resource) in all_fixtures() {
            let raw = matches(&filter, &resource, kind);
            if let Ok(resolved) = filter.clone().resolve(kind) {
                prop_assert_eq!(matches(&resolved, &resource, kind), raw);
            }
        }
    }
}
