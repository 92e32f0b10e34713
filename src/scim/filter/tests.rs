//! Data-driven tests for filters: one helper per question (how does it print, what does it resolve to,
//! what error does it give, whom does it match) and one line per case. Property tests are in
//! `proptests.rs`.
//!
//! Evaluation cases run against a few fixture resources and name the ones that match. They cover every
//! filter example in RFC 7644 §3.4.2.2 and the filters Okta and Microsoft Entra ID send.

use serde_json::json;

use super::fixtures::{BJENSEN_ID, ENTERPRISE, JSMITH_ID, groups, users};
use super::*;
use crate::scim::Kind;
use crate::scim::schema::ResourceKind::{self, Group, User};

/// Checks which fixtures of `kind` match `text`, given as space-separated names. The raw and the
/// resolved filter must agree.
fn check(kind: ResourceKind, text: &str, expected: &str) {
    let parsed = parse(text).unwrap_or_else(|e| panic!("{text}: {}", e.detail));
    let resolved = parsed.clone().resolve(kind).unwrap_or_else(|e| panic!("{text}: {}", e.detail));
    let fixtures = match kind {
        User => users(),
        Group => groups(),
    };
    let mut found = Vec::new();
    for (name, resource) in &fixtures {
        let by_resolved = matches(&resolved, resource, kind);
        assert_eq!(matches(&parsed, resource, kind), by_resolved, "{text}: raw and resolved differ on {name}");
        if by_resolved {
            found.push(*name);
        }
    }
    assert_eq!(found.join(" "), expected, "{text}");
}

/// Checks that `text` parses and prints as `canonical`, and that the canonical form parses to the same AST.
fn printed(text: &str, canonical: &str) {
    let filter = parse(text).unwrap_or_else(|e| panic!("{text}: {}", e.detail));
    assert_eq!(filter.to_string(), canonical, "{text}");
    assert_eq!(parse(canonical).as_ref(), Ok(&filter), "{canonical} re-parses differently");
}

/// Checks that `text` resolves for `kind` to `canonical`, and that resolving is idempotent.
fn resolved(kind: ResourceKind, text: &str, canonical: &str) {
    let filter = Filter::parse_for(text, kind).unwrap_or_else(|e| panic!("{text}: {}", e.detail));
    assert_eq!(filter.to_string(), canonical, "{text}");
    assert_eq!(filter.clone().resolve(kind).as_ref(), Ok(&filter), "{text}: resolve is not idempotent");
}

/// Checks that parsing `text` fails with exactly `detail` (kind invalidFilter).
fn parse_error(text: &str, detail: &str) {
    let error = parse(text).expect_err(text);
    assert_eq!(error.kind, Kind::InvalidFilter, "{text}");
    assert_eq!(error.detail, detail, "{text}");
}

/// Checks that `text` parses but resolving it for `kind` fails with a detail containing `part`.
fn resolve_error(kind: ResourceKind, text: &str, part: &str) {
    let filter = parse(text).unwrap_or_else(|e| panic!("{text}: {}", e.detail));
    let error = filter.resolve(kind).expect_err(text);
    assert_eq!(error.kind, Kind::InvalidFilter, "{text}");
    assert!(error.detail.contains(part), "{text}: {:?} lacks {part:?}", error.detail);
}

#[test]
fn rfc7644_examples_match() {
    check(User, r#"userName eq "bjensen""#, "bjensen");
    check(User, r#"name.familyName co "O'Malley""#, "jsmith");
    check(User, r#"userName sw "J""#, "jsmith");
    check(User, r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#, "jsmith");
    check(User, r#"title pr"#, "bjensen entra");
    check(User, r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, "okta");
    check(User, r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, "bjensen jsmith okta");
    check(User, r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, "");
    check(User, r#"meta.lastModified le "2011-05-13T04:42:34Z""#, "bjensen jsmith");
    check(User, r#"title pr and userType eq "Employee""#, "bjensen");
    check(User, r#"title pr or userType eq "Intern""#, "bjensen jsmith entra");
    check(User, r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#, "bjensen jsmith");
    check(User, r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#, "bjensen");
    check(
        User,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        "okta entra",
    );
    check(User, r#"userType eq "Employee" and (emails.type eq "work")"#, "bjensen");
    check(User, r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#, "bjensen");
    check(
        User,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        "bjensen jsmith",
    );
    check(User, r#"userName Eq "bjensen""#, "bjensen");
    check(User, r#"Username eq "bjensen""#, "bjensen");
    // RFC 7644 errata 7322: a parenthesised group inside a value filter.
    check(
        User,
        r#"emails[type eq "work" or (type eq "home" and value ew "@jensen.org")]"#,
        "bjensen jsmith okta entra",
    );
}

#[test]
fn okta_filters_match() {
    check(User, r#"userName eq "test.user@okta.local""#, "okta");
    check(User, r#"userName eq "TEST.USER@OKTA.LOCAL""#, "okta");
    check(User, r#"email eq "test.user@okta.local""#, "okta");
    check(User, r#"email eq "Test.User@Okta.Local""#, "okta");
    check(User, r#"EMAIL eq "john.smith@example.org""#, "jsmith");
    check(User, r#"externalId eq "00ujl29u0le5T6Aj10h7""#, "okta");
    check(User, r#"externalId eq "00UJL29U0LE5T6AJ10H7""#, "");
    check(User, r#"id eq "23a35c27-23d3-4c03-b4c5-6443c09e7173""#, "okta");
    check(Group, r#"displayName eq "Tour Guides""#, "tour");
    check(Group, r#"displayName eq "tour guides""#, "tour");
    check(Group, r#"externalId eq "okta-g1""#, "tour");
    check(Group, r#"id eq "e9e30dba-f08f-4109-8486-d5c6a331660a""#, "tour");
}

#[test]
fn entra_filters_match() {
    check(User, r#"userName eq "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081""#, "entra");
    check(User, r#"userName eq "test_user_dfeef4c5-5681-4387-b016-bdf221e82081""#, "entra");
    check(User, r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#, "entra");
    check(User, r#"emails[type eq "work"].value eq "test_user_x@contoso.com""#, "entra");
    check(User, r#"emails[type eq "home"].value eq "test_user_x@contoso.com""#, "");
    check(User, r#"emails[type eq "work"].value pr"#, "bjensen jsmith okta entra");
    check(User, r#"userName eq "non-existent user""#, "");
    check(Group, r#"displayName eq "Group1""#, "group1");
    check(Group, r#"externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159""#, "group1");
    check(Group, &format!(r#"id eq "e9e30dba-f08f-4109-8486-d5c6a331660a" and members eq "{JSMITH_ID}""#), "tour");
    check(Group, &format!(r#"id eq "g-entra" and members eq "{JSMITH_ID}""#), "");
    check(Group, &format!(r#"members[value eq "{BJENSEN_ID}"]"#), "tour");
    check(Group, r#"members eq "g-entra""#, "admins");
    check(Group, r#"members.value eq "g-entra""#, "admins");
}

#[test]
fn attribute_semantics_match() {
    // Case-insensitive names and operators; caseExact from the schema.
    check(User, r#"USERNAME EQ "BJENSEN""#, "bjensen");
    check(User, r#"name.givenName eq "barbara""#, "bjensen");
    check(User, r#"NAME.GIVENNAME eq "BARBARA""#, "bjensen");
    check(User, &format!(r#"id eq "{}""#, BJENSEN_ID.to_uppercase()), "");
    check(User, r#"x509Certificates.value sw "MIIDQzCC""#, "bjensen");
    check(User, r#"x509Certificates.value sw "miidqzcc""#, "");
    check(User, r#"title eq "ångström lead""#, "entra");
    check(User, r#"displayName co "o'malley""#, "jsmith");
    check(User, r#"meta.version eq "W/\"3694e05e9dff591\"""#, "bjensen");
    check(User, r#"meta.resourceType eq "User""#, "bjensen jsmith okta");
    // Booleans, with the tolerated quoted forms.
    check(User, r#"active eq true"#, "bjensen okta entra");
    check(User, r#"active eq false"#, "jsmith");
    check(User, r#"active eq "False""#, "jsmith");
    check(User, r#"active ne true"#, "jsmith");
    check(User, r#"not (active eq true)"#, "jsmith");
    check(User, r#"emails.primary eq true"#, "bjensen jsmith okta");
    // Multi-valued: any value matches, and a value filter keeps conditions on one element.
    check(User, r#"emails co "EXAMPLE""#, "bjensen jsmith");
    check(User, r#"emails ew ".org""#, "bjensen jsmith");
    check(User, r#"emails[type eq "home"]"#, "bjensen entra");
    check(User, r#"emails.type eq "home" and emails.primary eq true"#, "bjensen");
    check(User, r#"emails[type eq "home" and primary eq true]"#, "");
    check(User, r#"emails[not (type eq "work")]"#, "bjensen entra");
    check(User, r#"emails.value ne "bjensen@example.com""#, "jsmith okta entra");
    check(User, r#"addresses[type eq "work" and postalCode sw "91"]"#, "bjensen");
    check(User, r#"addresses.primary eq true"#, "bjensen");
    check(User, r#"phoneNumbers[type eq "mobile"]"#, "bjensen");
    check(User, r#"phoneNumbers.value eq "555-555-4444""#, "bjensen");
    check(User, r#"ims.type eq "XMPP""#, "jsmith");
    check(User, r#"photos.type eq "photo""#, "bjensen");
    check(User, r#"groups.display eq "tour guides""#, "bjensen");
    check(User, r#"groups.value eq "e9e30dba-f08f-4109-8486-d5c6a331660a""#, "bjensen");
    check(User, r#"groups eq "e9e30dba-f08f-4109-8486-d5c6a331660a""#, "bjensen");
    check(User, r#"groups pr"#, "bjensen");
    check(User, r#"name pr"#, "bjensen jsmith okta");
    check(User, r#"name.middleName pr"#, "bjensen");
    check(User, r#"emails pr"#, "bjensen jsmith okta entra");
    // Presence: empty strings and empty arrays are absent.
    check(User, r#"userType pr"#, "bjensen jsmith");
    check(User, r#"userType eq """#, "okta");
    check(User, r#"title eq null"#, "jsmith okta");
    check(User, r#"title ne null"#, "bjensen entra");
    check(User, r#"not (title pr)"#, "jsmith okta");
    // Strings order lexicographically after case folding.
    check(User, r#"userName gt "s""#, "okta entra");
    check(User, r#"userName lt "JZ""#, "bjensen jsmith");
    check(User, r#"userName ge "jsmith""#, "jsmith okta entra");
    check(User, r#"userName le "JSMITH""#, "bjensen jsmith");
    // dateTimes order chronologically across offsets; substring operators see the text.
    check(User, r#"meta.created eq "2012-06-01T08:00:00Z""#, "jsmith");
    check(User, r#"meta.created gt "2012-06-01T07:59:59Z""#, "jsmith okta");
    check(User, r#"meta.created le "2010-01-23T04:56:22.000Z""#, "bjensen");
    check(User, r#"meta.created lt "2010-01-23T04:56:22Z""#, "");
    check(User, r#"meta.created gt "2024-02-29T12:00:00.4Z""#, "okta");
    check(User, r#"meta.created gt "2024-02-29T12:00:00.5Z""#, "");
    check(User, r#"meta.created sw "2024""#, "okta");
    check(User, r#"meta.lastModified eq "2011-05-13T04:42:34Z""#, "bjensen jsmith");
    // Extension attributes, qualified and not, and the complex-means-value rule for manager.
    check(User, &format!(r#"{ENTERPRISE}:employeeNumber eq "701984""#), "bjensen");
    check(User, &format!(r#"{}:EMPLOYEENUMBER eq "701984""#, ENTERPRISE.to_lowercase()), "bjensen");
    check(User, r#"employeeNumber eq "1001""#, "jsmith");
    check(User, r#"employeeNumber eq 1001"#, "jsmith");
    check(User, r#"employeeNumber gt "2""#, "bjensen");
    check(User, &format!(r#"{ENTERPRISE}:manager.value eq "{JSMITH_ID}""#), "bjensen");
    check(User, &format!(r#"{ENTERPRISE}:manager eq "{JSMITH_ID}""#), "bjensen");
    check(User, &format!(r#"{ENTERPRISE}:manager.displayName co "smith""#), "bjensen");
    check(User, &format!(r#"{ENTERPRISE}:manager[value pr]"#), "bjensen");
    check(User, &format!(r#"{ENTERPRISE}:manager pr"#), "bjensen");
    check(User, r#"department eq "tour operations""#, "bjensen");
    check(User, r#"urn:ietf:params:scim:schemas:core:2.0:User:meta.created lt "2011-01-01T00:00:00Z""#, "bjensen");
    // Unknown attributes are absent everywhere; `ne` is `not eq`.
    check(User, r#"nosuch eq "x""#, "");
    check(User, r#"nosuch ne "x""#, "bjensen jsmith okta entra");
    check(User, r#"nosuch pr"#, "");
    check(User, r#"not (nosuch pr)"#, "bjensen jsmith okta entra");
    check(User, r#"urn:example:ext:1.0:User:foo eq "x""#, "");
    check(User, r#"name.nosuch eq "x""#, "");
    check(User, r#"emails[nosuch eq "x"]"#, "");
    check(User, r#"nosuch[value eq "x"]"#, "");
    check(Group, r#"email eq "x""#, "");
    check(Group, r#"userName pr"#, "");
    // Logic and precedence.
    check(User, r#"userName eq "bjensen" or userName eq "jsmith" and active eq true"#, "bjensen");
    check(User, r#"(userName eq "bjensen" or userName eq "jsmith") and active eq false"#, "jsmith");
    check(User, r#"not (userName eq "bjensen") and not (userName eq "jsmith")"#, "okta entra");
    check(User, r#"not (not (userName eq "bjensen"))"#, "bjensen");
    check(User, r#"not(userName eq "bjensen" or active eq true)"#, "jsmith");
    // Groups.
    check(Group, r#"displayName sw "tour""#, "tour");
    check(Group, r#"members pr"#, "tour admins");
    check(Group, r#"not (members pr)"#, "group1");
    check(Group, r#"members[type eq "Group"]"#, "admins");
    check(Group, r#"members.display eq "babs jensen""#, "tour");
    check(Group, r#"members.type eq "user""#, "tour");
    check(Group, r#"meta.version eq "W/\"3\"""#, "tour");
}

#[test]
fn filters_print_canonically() {
    printed(r#"userName eq "bjensen""#, r#"userName eq "bjensen""#);
    printed(r#"userName Eq "john""#, r#"userName eq "john""#);
    printed(r#"Username EQ "john""#, r#"Username eq "john""#);
    printed("  userName   eq \t \"x\"  ", r#"userName eq "x""#);
    printed(r#"userName eq"x""#, r#"userName eq "x""#);
    printed(r#"( userName eq "x" )"#, r#"userName eq "x""#);
    printed(r#"((a pr))"#, "a pr");
    printed("title PR", "title pr");
    printed("a pr and b pr or c pr", "a pr and b pr or c pr");
    printed("a pr or b pr and c pr", "a pr or b pr and c pr");
    printed("(a pr or b pr) and c pr", "(a pr or b pr) and c pr");
    printed("a pr and (b pr or c pr)", "a pr and (b pr or c pr)");
    printed("a pr and (b pr and c pr)", "a pr and (b pr and c pr)");
    printed("(a pr and b pr) and c pr", "a pr and b pr and c pr");
    printed("a pr or (b pr or c pr)", "a pr or (b pr or c pr)");
    printed("(a pr or b pr) or c pr", "a pr or b pr or c pr");
    printed("a pr AND b pr Or c pr", "a pr and b pr or c pr");
    printed("a pr and(b pr)", "a pr and b pr");
    printed("not (a pr) and b pr", "not (a pr) and b pr");
    printed("NOT(a pr)", "not (a pr)");
    printed("not ( a pr or b pr )", "not (a pr or b pr)");
    printed("not (not (a pr))", "not (not (a pr))");
    printed("not pr", "not pr");
    printed(r#"not eq "x""#, r#"not eq "x""#);
    printed("and pr and or pr", "and pr and or pr");
    printed(r#"order eq 1 or orx pr"#, r#"order eq 1 or orx pr"#);
    printed("a eq TRUE", "a eq true");
    printed("a eq False", "a eq false");
    printed("a eq NULL", "a eq null");
    printed("a eq 1", "a eq 1");
    printed("a eq 0", "a eq 0");
    printed("a eq -7", "a eq -7");
    printed("a eq 2.50", "a eq 2.5");
    printed("a eq -1.5e3", "a eq -1500.0");
    printed("a eq 1E2", "a eq 100.0");
    printed("a eq 1e-7", "a eq 1e-7");
    printed("a eq 12345678901234567890", "a eq 12345678901234567890");
    printed(r#"a eq "a\"b""#, r#"a eq "a\"b""#);
    printed(r#"a eq "\u00e9""#, r#"a eq "é""#);
    printed(r#"a eq "\ud83d\ude00""#, r#"a eq "😀""#);
    printed(r#"a eq "tab\there""#, r#"a eq "tab\there""#);
    printed(r#"a eq "\/""#, r#"a eq "/""#);
    printed(r#"a eq "back\\slash""#, r#"a eq "back\\slash""#);
    printed(r#"a eq """#, r#"a eq """#);
    printed(r#"name.familyName co "O'Malley""#, r#"name.familyName co "O'Malley""#);
    printed(
        r#"emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"]"#,
    );
    printed(r#"emails [ type eq "work" ]"#, r#"emails[type eq "work"]"#);
    printed(r#"emails[not (type eq "work")]"#, r#"emails[not (type eq "work")]"#);
    printed(r#"members[$ref pr]"#, r#"members[$ref pr]"#);
    printed(
        r#"emails[type eq "work" or (type eq "home" and value ew "@example.com")]"#,
        r#"emails[type eq "work" or type eq "home" and value ew "@example.com"]"#,
    );
    printed(r#"emails[type eq "work"].value eq "x""#, r#"emails[type eq "work" and value eq "x"]"#);
    printed(
        r#"emails[type eq "work" or type eq "home"].value pr"#,
        r#"emails[(type eq "work" or type eq "home") and value pr]"#,
    );
    printed(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"",
    );
    printed(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber sw \"7\"",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber sw \"7\"",
    );
    printed(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    );
    printed(r#"x-custom_attr1 eq "v""#, r#"x-custom_attr1 eq "v""#);
    printed("userName eq \"x\"\nand active eq true", r#"userName eq "x" and active eq true"#);
}

#[test]
fn filters_parse_to_the_expected_tree() {
    let path = AttrPath::new;
    let eq = |p: AttrPath, v: &str| Filter::Compare { path: p, op: CompareOp::Eq, value: CompValue::Str(v.into()) };
    let present = |p: AttrPath| Filter::Present { path: p };
    let cases: Vec<(&str, Filter)> = vec![
        (r#"userName eq "x""#, eq(path("userName"), "x")),
        ("title pr", present(path("title"))),
        (
            "a pr and b pr and c pr",
            Filter::and(Filter::and(present(path("a")), present(path("b"))), present(path("c"))),
        ),
        ("a pr or b pr and c pr", Filter::or(present(path("a")), Filter::and(present(path("b")), present(path("c"))))),
        ("not (a pr) or b pr", Filter::or(Filter::negate(present(path("a"))), present(path("b")))),
        ("name.givenName pr", present(path("name").with_sub("givenName"))),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr",
            present(path("manager").with_sub("value").with_uri(ENTERPRISE)),
        ),
        (
            r#"emails[type eq "work"]"#,
            Filter::ValuePath { attr: path("emails"), filter: Box::new(eq(path("type"), "work")) },
        ),
        ("a gt 5", Filter::Compare { path: path("a"), op: CompareOp::Gt, value: CompValue::Num(5.into()) }),
        ("a le false", Filter::Compare { path: path("a"), op: CompareOp::Le, value: CompValue::Bool(false) }),
        ("a ne null", Filter::Compare { path: path("a"), op: CompareOp::Ne, value: CompValue::Null }),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(text).as_ref(), Ok(&expected), "{text}");
    }
    for op in CompareOp::ALL {
        let text = format!("a {} 1", op.as_str().to_uppercase());
        let expected = Filter::Compare { path: path("a"), op, value: CompValue::Num(1.into()) };
        assert_eq!(parse(&text).as_ref(), Ok(&expected), "{text}");
    }
}

#[test]
fn filters_resolve_to_canonical_paths() {
    resolved(User, r#"USERNAME Eq "x""#, r#"userName eq "x""#);
    resolved(User, r#"email eq "a@b.c""#, r#"emails.value eq "a@b.c""#);
    resolved(User, r#"EMAIL pr"#, "emails.value pr");
    resolved(User, r#"emails eq "x""#, r#"emails.value eq "x""#);
    resolved(User, r#"emails co "x""#, r#"emails.value co "x""#);
    resolved(User, "emails pr", "emails pr");
    resolved(User, r#"Emails.Value eq "x""#, r#"emails.value eq "x""#);
    resolved(User, r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#, r#"userName sw "J""#);
    resolved(User, r#"urn:ietf:params:scim:schemas:core:2.0:user:Meta.Created pr"#, "meta.created pr");
    resolved(
        User,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:EMPLOYEENUMBER eq "1""#,
        &format!(r#"{ENTERPRISE}:employeeNumber eq "1""#),
    );
    resolved(User, r#"employeeNumber eq "1""#, &format!(r#"{ENTERPRISE}:employeeNumber eq "1""#));
    resolved(User, r#"employeeNumber eq 42"#, &format!(r#"{ENTERPRISE}:employeeNumber eq "42""#));
    resolved(User, r#"manager eq "x""#, &format!(r#"{ENTERPRISE}:manager.value eq "x""#));
    resolved(User, r#"manager[VALUE pr]"#, &format!(r#"{ENTERPRISE}:manager[value pr]"#));
    resolved(User, r#"EMAILS[TYPE eq "work" and Primary eq "TRUE"]"#, r#"emails[type eq "work" and primary eq true]"#);
    resolved(User, r#"emails[type eq "work"].VALUE eq "x""#, r#"emails[type eq "work" and value eq "x"]"#);
    resolved(User, "title eq null", "not (title pr)");
    resolved(User, "title ne null", "title pr");
    resolved(User, "emails eq null", "not (emails pr)");
    resolved(User, r#"active eq "TRUE""#, "active eq true");
    resolved(User, r#"active ne "false""#, "active ne false");
    resolved(User, r#"meta.lastmodified gt "2011-05-13T04:42:34Z""#, r#"meta.lastModified gt "2011-05-13T04:42:34Z""#);
    resolved(User, r#"meta.created co "2011""#, r#"meta.created co "2011""#);
    resolved(User, r#"nosuch eq "x""#, r#"nosuch eq "x""#);
    resolved(User, "NoSuch.Sub pr", "NoSuch.Sub pr");
    resolved(User, r#"nosuch gt true"#, "nosuch gt true");
    resolved(User, r#"emails[nosuch eq 1]"#, "emails[nosuch eq 1]");
    resolved(User, r#"Schemas eq "urn:x""#, r#"schemas eq "urn:x""#);
    resolved(User, r#"EXTERNALID eq "x""#, r#"externalId eq "x""#);
    resolved(Group, r#"members eq "x""#, r#"members.value eq "x""#);
    resolved(Group, r#"DISPLAYNAME eq "g""#, r#"displayName eq "g""#);
    resolved(Group, r#"email eq "x""#, r#"email eq "x""#);
    resolved(Group, r#"members[Type eq "User"]"#, r#"members[type eq "User"]"#);
    resolved(Group, r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "g""#, r#"displayName eq "g""#);
}

#[test]
fn unsupported_combinations_are_invalid_filters() {
    resolve_error(User, "active gt true", "'active' is a boolean, so 'gt' does not apply");
    resolve_error(User, "active le false", "'active' is a boolean");
    resolve_error(User, r#"x509Certificates.value lt "a""#, "'x509Certificates.value' is a binary");
    resolve_error(User, r#"active co "t""#, "so 'co' does not apply");
    resolve_error(User, r#"active sw "t""#, "so 'sw' does not apply");
    resolve_error(User, r#"active eq "maybe""#, "compare it with true or false");
    resolve_error(User, "active eq 1", "compare it with true or false");
    resolve_error(User, r#"meta.created gt "yesterday""#, "RFC 3339");
    resolve_error(User, "meta.created gt 5", "RFC 3339");
    resolve_error(User, r#"meta.lastModified eq "2011-05-13""#, "RFC 3339");
    resolve_error(
        User,
        r#"name eq "x""#,
        "'name' is a complex attribute; compare one of its sub-attributes, such as 'name.formatted'",
    );
    resolve_error(User, r#"addresses co "x""#, "complex attribute");
    resolve_error(User, r#"meta gt "x""#, "complex attribute");
    resolve_error(User, "userName eq true", "'userName' is a string; compare it with a quoted string");
    resolve_error(User, r#"userName[value eq "x"]"#, "'userName' has no sub-attributes");
    resolve_error(User, "title gt null", "compare with null only using eq or ne");
    resolve_error(User, "title co null", "compare with null only using eq or ne");
    resolve_error(Group, "members.value gt true", "'members.value' is a string");
}

#[test]
fn malformed_filters_report_the_column() {
    let ops = "(a quoted string, a number, true, false or null)";
    parse_error("", "invalid filter at column 1: expected an attribute path, found the end of the filter");
    parse_error("   ", "invalid filter at column 4: expected an attribute path, found the end of the filter");
    parse_error(
        "userName eq",
        &format!(
            "invalid filter at column 12: expected a comparison value after 'eq' {ops}, found the end of the filter"
        ),
    );
    parse_error(
        "userName eq ",
        &format!(
            "invalid filter at column 13: expected a comparison value after 'eq' {ops}, found the end of the filter"
        ),
    );
    parse_error(
        "userName eq bjensen",
        &format!("invalid filter at column 13: expected a comparison value after 'eq' {ops}, found 'bjensen'"),
    );
    parse_error(
        "userName eq )",
        &format!("invalid filter at column 13: expected a comparison value after 'eq' {ops}, found ')'"),
    );
    parse_error(
        "userName",
        "invalid filter at column 9: expected an operator after 'userName' (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found the end of the filter",
    );
    parse_error(
        r#"userName xx "a""#,
        "invalid filter at column 10: expected an operator after 'userName' (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found 'xx'",
    );
    parse_error(
        r#"userName = "a""#,
        "invalid filter at column 10: expected an operator after 'userName' (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found '='",
    );
    parse_error(r#"userName eq "abc"#, "invalid filter at column 13: unterminated string: the closing '\"' is missing");
    parse_error(
        r#"userName eq "abc\"#,
        "invalid filter at column 13: unterminated string: the closing '\"' is missing",
    );
    parse_error(
        r#"userName eq "a\qb""#,
        "invalid filter at column 13: invalid string: bad escape sequence or control character",
    );
    parse_error(
        r#"userName eq "\u12""#,
        "invalid filter at column 13: invalid string: bad escape sequence or control character",
    );
    parse_error(
        "userName eq \"a\u{1}b\"",
        "invalid filter at column 13: invalid string: bad escape sequence or control character",
    );
    parse_error("userName eq 1.2.3", "invalid filter at column 13: invalid number '1.2.3'");
    parse_error("userName eq 01", "invalid filter at column 13: invalid number '01'");
    parse_error("userName eq -", "invalid filter at column 13: invalid number '-'");
    parse_error("userName eq 1e999", "invalid filter at column 13: invalid number '1e999'");
    parse_error(
        "userName eq 5x",
        "invalid filter at column 14: expected 'and', 'or' or the end of the filter, found 'x'",
    );
    parse_error(
        "userName eq truex",
        &format!("invalid filter at column 13: expected a comparison value after 'eq' {ops}, found 'truex'"),
    );
    parse_error(
        "(userName pr",
        "invalid filter at column 13: expected ')' to close the '(' at column 1, found the end of the filter",
    );
    parse_error(
        "a pr and (b pr or (c pr)",
        "invalid filter at column 25: expected ')' to close the '(' at column 10, found the end of the filter",
    );
    parse_error(
        "userName pr)",
        "invalid filter at column 12: expected 'and', 'or' or the end of the filter, found ')'",
    );
    parse_error(
        r#"a eq "x" b eq "y""#,
        "invalid filter at column 10: expected 'and', 'or' or the end of the filter, found 'b'",
    );
    parse_error(
        r#"emails[type eq "work""#,
        "invalid filter at column 22: expected ']' to close the '[' at column 7, found the end of the filter",
    );
    parse_error(
        r#"emails[type eq "work")"#,
        "invalid filter at column 22: expected ']' to close the '[' at column 7, found ')'",
    );
    parse_error(
        r#"emails[type eq "work" and addresses[type pr]]"#,
        "invalid filter at column 36: value filters cannot be nested",
    );
    parse_error(
        r#"emails[type eq "work"]."#,
        "invalid filter at column 24: expected a sub-attribute name after '.', found the end of the filter",
    );
    parse_error(
        r#"emails[type eq "work"].value"#,
        "invalid filter at column 29: expected an operator after 'value' (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found the end of the filter",
    );
    parse_error(
        r#"name.givenName[given pr]"#,
        "invalid filter at column 1: a value filter applies to an attribute, not to 'name.givenName'",
    );
    parse_error(
        r#"not userName eq "x""#,
        "invalid filter at column 1: 'not' must be followed by a parenthesised filter, as in not (title pr)",
    );
    parse_error("a pr and", "invalid filter at column 9: expected an attribute path, found the end of the filter");
    parse_error("a pr or ()", "invalid filter at column 10: expected an attribute path, found ')'");
    parse_error(
        "and",
        "invalid filter at column 4: expected an operator after 'and' (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found the end of the filter",
    );
    parse_error("a.b.c pr", "invalid filter at column 1: 'a.b.c' has more than one sub-attribute");
    parse_error("1abc pr", "invalid filter at column 1: '1abc' is not a valid attribute name");
    parse_error("name.1st pr", "invalid filter at column 6: '1st' is not a valid attribute name");
    parse_error("urn:x: pr", "invalid filter at column 7: expected an attribute name");
    parse_error("name. pr", "invalid filter at column 6: expected an attribute name");
    parse_error(":a pr", "invalid filter at column 1: expected a schema URI before ':'");
    parse_error(r#"émile eq "x""#, "invalid filter at column 1: expected an attribute path, found 'é'");
    parse_error(
        r#"userName eq "é" and"#,
        "invalid filter at column 20: expected an attribute path, found the end of the filter",
    );
    parse_error(
        r#"userName eq 'x'"#,
        &format!("invalid filter at column 13: expected a comparison value after 'eq' {ops}, found '''"),
    );
}

#[test]
fn depth_and_length_are_bounded() {
    let nested = |levels: usize| format!("{}a pr{}", "(".repeat(levels), ")".repeat(levels));
    assert!(parse(&nested(MAX_DEPTH)).is_ok());
    parse_error(&nested(MAX_DEPTH + 1), "invalid filter at column 33: nested deeper than 32 levels");
    let negated = |levels: usize| format!("{}a pr{}", "not (".repeat(levels), ")".repeat(levels));
    assert!(parse(&negated(MAX_DEPTH)).is_ok());
    assert!(parse(&negated(MAX_DEPTH + 1)).is_err());
    parse_error(&"(".repeat(MAX_FILTER_LEN), "invalid filter at column 33: nested deeper than 32 levels");
    parse_error(&"(".repeat(MAX_FILTER_LEN + 1), "invalid filter: longer than 4096 characters");
    parse_error(&"(".repeat(1_000_000), "invalid filter: longer than 4096 characters");
    // The bound is in characters, not bytes: 4096 two-byte characters are still within it.
    let wide = format!(r#"a eq "{}""#, "é".repeat(MAX_FILTER_LEN - 7));
    assert!(parse(&wide).is_ok());
    // The longest flat chain the length allows evaluates and prints without deep recursion trouble.
    let chain = vec!["a pr"; MAX_FILTER_LEN / 9].join(" and ");
    let filter = parse(&chain).expect("chain");
    assert_eq!(filter.to_string(), chain);
    assert!(!matches(&filter, &json!({}), User));
}

#[test]
fn patch_paths_parse_and_print() {
    let cases = [
        ("name.familyName", "name.familyName"),
        ("userName", "userName"),
        ("members", "members"),
        (r#"emails[type eq "work"].value"#, r#"emails[type eq "work"].value"#),
        (r#"emails[ type Eq "work" ] "#, r#"emails[type eq "work"]"#),
        (
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
        ),
        (
            r#"addresses[type eq "work" and primary eq true].streetAddress"#,
            r#"addresses[type eq "work" and primary eq true].streetAddress"#,
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ),
    ];
    for (text, canonical) in cases {
        let path = parse_patch_path(text).unwrap_or_else(|e| panic!("{text}: {}", e.detail));
        assert_eq!(path.to_string(), canonical, "{text}");
        assert_eq!(parse_patch_path(canonical).as_ref(), Ok(&path), "{canonical}");
    }
    let path = parse_patch_path(r#"emails[type eq "work"].display"#).expect("path");
    assert_eq!(path.attr, AttrPath::new("emails"));
    assert_eq!(path.sub_attr.as_deref(), Some("display"));
    assert!(path.filter.is_some());
    let bare_urn = parse_patch_path(ENTERPRISE).expect("urn");
    assert_eq!(bare_urn.attr, AttrPath::new("User").with_uri("urn:ietf:params:scim:schemas:extension:enterprise:2.0"));
}

#[test]
fn malformed_patch_paths_are_invalid_paths() {
    let cases = [
        ("", "invalid path at column 1: expected an attribute path, found the end of the path"),
        (
            r#"emails[type eq "work""#,
            "invalid path at column 22: expected ']' to close the '[' at column 7, found the end of the path",
        ),
        (
            r#"emails[type eq "work"]."#,
            "invalid path at column 24: expected a sub-attribute name after '.', found the end of the path",
        ),
        (
            r#"emails[type eq "work"].value eq "x""#,
            "invalid path at column 30: expected the end of the path, found 'eq'",
        ),
        (
            r#"emails.value[type eq "work"]"#,
            "invalid path at column 1: a value filter applies to an attribute, not to 'emails.value'",
        ),
        ("name familyName", "invalid path at column 6: expected the end of the path, found 'familyName'"),
        ("a.b.c", "invalid path at column 1: 'a.b.c' has more than one sub-attribute"),
        (
            r#"emails[type xx "work"]"#,
            "invalid path at column 13: expected an operator after 'type' (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found 'xx'",
        ),
    ];
    for (text, detail) in cases {
        let error = parse_patch_path(text).expect_err(text);
        assert_eq!(error.kind, Kind::InvalidPath, "{text}");
        assert_eq!(error.detail, detail, "{text}");
    }
}
