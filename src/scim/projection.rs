//! Which attributes a response carries: the `attributes` and `excludedAttributes` parameters (RFC 7644
//! §3.4.2.5 and §3.9) combined with each attribute's `returned` characteristic (RFC 7643 §2.4).
//!
//! A [`Projection`] is parsed once per request and applied to every resource of the response, after the
//! resource has been rendered in full. The rules:
//! - `returned: always` attributes (`id`, `schemas`) are always present and cannot be excluded;
//!   `returned: never` ones (`password`) are never present, even when named; `returned: request` ones
//!   only when named in `attributes`. `userName` is `default`, as RFC 7643 §8.7.1 says, so
//!   `attributes=displayName` leaves it out.
//! - Without `attributes`, every `default` attribute is returned. With it, only the named attributes and
//!   the `always` ones. Naming a sub-attribute (`emails.value`, `meta.lastModified`) keeps the parent with
//!   only that sub-attribute, in every value of a multi-valued attribute. A bare schema URN names every
//!   attribute of that schema; for the enterprise extension that is its whole block.
//! - `excludedAttributes` removes attributes or sub-attributes from whatever would otherwise be returned.
//!   When both parameters are given, both apply: `attributes` picks the set and `excludedAttributes` then
//!   removes from it. RFC 7644 §3.9 defines `excludedAttributes` as removing from "the set of attributes
//!   that would be returned", and `attributes` overrides that set; clients that send both get the
//!   intersection they presumably meant, and no request is refused for it.
//! - A complex value, a multi-valued element or an extension block that projection leaves empty is
//!   removed rather than returned as `{}`. `schemas` is returned unchanged.
//!
//! Tolerance, where the RFC is silent: names are case-insensitive, surrounding whitespace and empty list
//! items (`userName,,emails,`) are ignored, and a well-formed name that no schema defines is ignored
//! rather than rejected (Entra and conformance tools probe attributes we do not define; a 400 would
//! break their flows for no benefit). A name that is not in attribute notation at all
//! (`emails[type eq "work"]`, `name.givenName.x`, `user name`) is a client bug worth reporting: it is
//! 400 `invalidValue`, the closest `scimType` RFC 7644 Table 9 offers for a malformed query parameter.
//! Attributes in a stored resource that no schema defines are treated as `returned: default`.
//!
//! Deliberately absent: the `returned: request` rule for PUT/POST/PATCH responses ("returned if the client
//! sent it"), because no attribute of ours is `request`; the 204 for a PATCH whose client wants no body,
//! which `http/` decides.

use serde_json::{Map, Value};

use super::Error;
use super::schema::{self, Attribute, AttributeType, ResourceKind, Returned};

/// The requested shape of a response's resources: parsed `attributes` and `excludedAttributes`, every
/// name resolved to its canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Projection {
    /// `None` when the client sent no `attributes`: the default set is returned.
    attributes: Option<Vec<Selector>>,
    excluded: Vec<Selector>,
}

/// One resolved name from `attributes` or `excludedAttributes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selector {
    /// A bare schema URN, naming every attribute of that schema.
    Schema(&'static str),
    /// An attribute of a schema (common attributes count as the core schema's), possibly one of its
    /// sub-attributes.
    Attribute { schema: &'static str, attribute: &'static str, sub: Option<&'static str> },
}

impl Selector {
    /// Whether this selector names `attribute` of `schema` as a whole (not just a sub-attribute of it).
    fn names_whole(&self, schema: &str, attribute: &str) -> bool {
        match *self {
            Selector::Schema(id) => id == schema,
            Selector::Attribute { schema: s, attribute: a, sub: None } => s == schema && a == attribute,
            Selector::Attribute { sub: Some(_), .. } => false,
        }
    }

    /// The sub-attribute of `attribute` of `schema` this selector names, if it names one.
    fn named_sub(&self, schema: &str, attribute: &str) -> Option<&'static str> {
        match *self {
            Selector::Attribute { schema: s, attribute: a, sub } if s == schema && a == attribute => sub,
            Selector::Attribute { .. } | Selector::Schema(_) => None,
        }
    }
}

/// What projection keeps of one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    /// Whether the attribute appears at all.
    keep: bool,
    /// Whether it was selected as a whole (so its `default` sub-attributes are returned), rather than only
    /// through named sub-attributes.
    whole: bool,
    /// Sub-attributes named in `attributes`: returned even when their parent is not selected whole.
    named_subs: Vec<&'static str>,
    /// Sub-attributes named in `excludedAttributes`.
    excluded_subs: Vec<&'static str>,
}

impl Decision {
    const DROP: Decision = Decision { keep: false, whole: false, named_subs: Vec::new(), excluded_subs: Vec::new() };
    const WHOLE: Decision = Decision { keep: true, whole: true, named_subs: Vec::new(), excluded_subs: Vec::new() };

    /// Whether a sub-attribute (`None` when our schema does not define the key) survives projection.
    fn keeps_sub(&self, sub: Option<&Attribute>) -> bool {
        let Some(sub) = sub else {
            // A key our schema does not define cannot be named, so it goes with its parent's default set.
            return self.whole;
        };
        match sub.returned {
            Returned::Never => false,
            Returned::Always => true,
            Returned::Default | Returned::Request => {
                let selected = (self.whole && sub.returned == Returned::Default) || self.named_subs.contains(&sub.name);
                selected && !self.excluded_subs.contains(&sub.name)
            }
        }
    }
}

impl Projection {
    /// Parses the `attributes` and `excludedAttributes` parameters (either may be absent) for `kind`.
    ///
    /// Both are comma-separated lists in attribute notation; `/.search` bodies carry them as JSON arrays,
    /// which the caller joins with commas first (a name never contains one). Unknown names are ignored;
    /// malformed ones are `invalidValue` (see the module documentation).
    pub fn parse(kind: ResourceKind, attributes: Option<&str>, excluded: Option<&str>) -> Result<Projection, Error> {
        let attributes = match attributes {
            Some(text) => parse_list(kind, "attributes", text)?,
            None => None,
        };
        let excluded = match excluded {
            Some(text) => parse_list(kind, "excludedAttributes", text)?.unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(Projection { attributes, excluded })
    }

    /// The default projection: every attribute that is returned by default, nothing that is never
    /// returned.
    pub fn all() -> Projection {
        Projection::default()
    }

    /// Whether this is the projection of a request that names no attributes (nor excluded ones): the
    /// default set of RFC 7643 §7, which [`default_keeps`] decides for a stored resource member by member.
    pub fn is_default(&self) -> bool {
        self.attributes.is_none() && self.excluded.is_empty()
    }

    /// Removes from `resource` (a resource of type `kind` as the server renders it: core and common
    /// attributes at the top level, extension attributes under the extension's URN) everything this
    /// projection does not return. Anything that is not a JSON object is left alone.
    pub fn apply(&self, kind: ResourceKind, resource: &mut Value) {
        let Some(object) = resource.as_object_mut() else { return };
        let core = kind.core_schema();
        object.retain(|key, value| {
            if let Some(extension) = kind.extensions().iter().find(|ext| ext.id.eq_ignore_ascii_case(key)) {
                return self.project_block(extension, value);
            }
            match core.attribute(key).or_else(|| schema::common_attribute(key)) {
                Some(attribute) => self.project_attribute(core.id, attribute, value),
                None => self.attributes.is_none(),
            }
        });
    }

    /// Whether a response under this projection contains the top-level attribute `attribute` of `kind`
    /// at all, wholly or through a sub-attribute. The store asks this to skip reading what nobody will
    /// see: `wants(Group, "members")` is false for `excludedAttributes=members`. Given an extension's URN,
    /// it says whether any of the extension's block is returned.
    pub fn wants(&self, kind: ResourceKind, attribute: &str) -> bool {
        if let Some(extension) = kind.extensions().iter().find(|ext| ext.id.eq_ignore_ascii_case(attribute)) {
            return extension.attributes.iter().any(|a| self.decide(extension.id, a).keep);
        }
        match schema::resolve(kind, attribute) {
            Some(resolved) => self.decide(resolved.schema.id, resolved.attribute).keep,
            None => self.attributes.is_none(),
        }
    }

    /// Projects an extension block in place; returns whether anything of it is left.
    fn project_block(&self, extension: &'static schema::Schema, block: &mut Value) -> bool {
        let Some(object) = block.as_object_mut() else {
            // A block that is not an object is malformed data; show it only where its contents would be.
            return self.attributes.is_none();
        };
        object.retain(|key, value| match extension.attribute(key) {
            Some(attribute) => self.project_attribute(extension.id, attribute, value),
            None => self.attributes.is_none(),
        });
        !object.is_empty()
    }

    /// Projects one attribute's value in place; returns whether the attribute stays.
    fn project_attribute(&self, schema: &str, attribute: &Attribute, value: &mut Value) -> bool {
        let decision = self.decide(schema, attribute);
        if !decision.keep {
            return false;
        }
        if attribute.attr_type != AttributeType::Complex {
            return true;
        }
        match value {
            Value::Object(object) => project_complex(attribute, &decision, object),
            Value::Array(values) => {
                let was_empty = values.is_empty();
                values.retain_mut(|element| match element {
                    Value::Object(object) => project_complex(attribute, &decision, object),
                    _ => true,
                });
                was_empty || !values.is_empty()
            }
            _ => true,
        }
    }

    /// Decides what is returned of `attribute` of `schema` (see the module documentation).
    fn decide(&self, schema: &str, attribute: &Attribute) -> Decision {
        match attribute.returned {
            Returned::Never => return Decision::DROP,
            // RFC 7644 §3.4.2.5: excludedAttributes "SHALL have no effect" on these.
            Returned::Always => return Decision::WHOLE,
            Returned::Default | Returned::Request => {}
        }
        let name = attribute.name;
        let mut decision = match &self.attributes {
            None => Decision { keep: attribute.returned == Returned::Default, ..Decision::WHOLE },
            Some(selectors) => {
                let whole = selectors.iter().any(|s| s.names_whole(schema, name));
                let named_subs: Vec<_> = selectors.iter().filter_map(|s| s.named_sub(schema, name)).collect();
                Decision { keep: whole || !named_subs.is_empty(), whole, named_subs, excluded_subs: Vec::new() }
            }
        };
        if self.excluded.iter().any(|s| s.names_whole(schema, name)) {
            return Decision::DROP;
        }
        decision.excluded_subs = self.excluded.iter().filter_map(|s| s.named_sub(schema, name)).collect();
        decision
    }
}

/// What the default projection does to the top-level member `key` of a stored resource of `kind`, from
/// the schema alone: `true` keeps the member exactly as stored, `false` drops it. It is the same decision
/// [`Projection::apply`] makes under [`Projection::all`], for the attributes the schemas define: within
/// a member, the default set keeps every sub-attribute except those returned `never` or `request`, and
/// the schemas have none (`default_projection_keeps_stored_members_whole` holds them to that). An
/// extension block is dropped when it is empty (`empty_object`), as `apply` drops a block it empties.
pub fn default_keeps(kind: ResourceKind, key: &str, empty_object: bool) -> bool {
    if kind.extensions().iter().any(|ext| ext.id.eq_ignore_ascii_case(key)) {
        return !empty_object;
    }
    match kind.core_schema().attribute(key).or_else(|| schema::common_attribute(key)) {
        Some(attribute) => matches!(attribute.returned, Returned::Default | Returned::Always),
        None => true,
    }
}

/// Projects one complex value in place; returns whether it stays (it goes when projection empties it).
fn project_complex(attribute: &Attribute, decision: &Decision, object: &mut Map<String, Value>) -> bool {
    let was_empty = object.is_empty();
    object.retain(|key, _| decision.keeps_sub(attribute.sub_attribute(key)));
    was_empty || !object.is_empty()
}

/// Parses one comma-separated list. `None` when the list holds no name at all (`attributes=`), which
/// clients send when a template leaves the parameter blank; it means the same as no parameter.
fn parse_list(kind: ResourceKind, parameter: &str, text: &str) -> Result<Option<Vec<Selector>>, Error> {
    let mut selectors = Vec::new();
    let mut any = false;
    for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        any = true;
        check_syntax(parameter, name)?;
        if let Some(selector) = resolve_name(kind, name)
            && !selectors.contains(&selector)
        {
            selectors.push(selector);
        }
    }
    Ok(any.then_some(selectors))
}

/// Checks that `name` has the shape of RFC 7644 §3.10 attribute notation, `[URI ":"] attr ["." sub]`,
/// without judging whether it names anything.
fn check_syntax(parameter: &str, name: &str) -> Result<(), Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-' | '$');
    let (uri, path) = match name.rfind(':') {
        Some(colon) => (Some(&name[..colon]), &name[colon + 1..]),
        None => (None, name),
    };
    let well_formed = name.chars().all(allowed)
        && uri.is_none_or(|uri| !uri.is_empty())
        && !path.is_empty()
        && path.split('.').count() <= 2
        && path.split('.').all(|part| !part.is_empty());
    if well_formed {
        return Ok(());
    }
    // The echo is bounded so that a huge parameter does not become a huge error body.
    let shown: String = name.chars().take(80).collect();
    Err(Error::invalid_value(format!(
        "{parameter}: {shown:?} is not an attribute name; expected a comma-separated list of names such as \
         \"userName,name.givenName,emails.value\""
    )))
}

/// Resolves one well-formed name for `kind`; `None` for a name no schema of `kind` defines.
fn resolve_name(kind: ResourceKind, name: &str) -> Option<Selector> {
    let core = kind.core_schema();
    if let Some(schema) =
        std::iter::once(core).chain(kind.extensions().iter().copied()).find(|s| s.id.eq_ignore_ascii_case(name))
    {
        return Some(Selector::Schema(schema.id));
    }
    let resolved = schema::resolve(kind, name)?;
    Some(Selector::Attribute {
        schema: resolved.schema.id,
        attribute: resolved.attribute.name,
        sub: resolved.sub_attribute.map(|sub| sub.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::Kind;
    use ResourceKind::{Group, User};

    const EXT: &str = schema::ENTERPRISE_USER_SCHEMA;

    /// `default_keeps` copies stored members whole: that is right only while no attribute below the top
    /// level, and no extension attribute, is returned `never` or `request`.
    #[test]
    fn default_projection_keeps_stored_members_whole() {
        for kind in [User, Group] {
            let extension_attributes = kind.extensions().iter().flat_map(|ext| ext.attributes.iter());
            for attribute in kind.core_schema().attributes.iter().chain(extension_attributes) {
                for sub in attribute.sub_attributes {
                    assert!(
                        matches!(sub.returned, Returned::Default | Returned::Always),
                        "{}.{} is returned {:?}: default_keeps must look inside {}",
                        attribute.name,
                        sub.name,
                        sub.returned,
                        attribute.name
                    );
                }
            }
            for extension in kind.extensions() {
                for attribute in extension.attributes {
                    assert!(matches!(attribute.returned, Returned::Default | Returned::Always), "{}", attribute.name);
                }
            }
        }
        assert!(!default_keeps(User, "password", false));
        assert!(default_keeps(User, "userName", false));
        assert!(default_keeps(User, "x-custom", false), "unknown attributes are kept, as apply keeps them");
        assert!(!default_keeps(User, EXT, true), "an empty extension block is dropped");
        assert!(default_keeps(User, EXT, false));
    }

    /// A user as the store renders it, before projection: every kind of attribute, including the
    /// never-returned `password` and an attribute no schema defines (`x-custom`). `$EXT` stands for the
    /// enterprise extension's URN (see [`check_on`]).
    const USER: &str = concat!(
        r#"{"schemas":["s"],"id":"u1","externalId":"x1","userName":"bj","name":{"givenName":"B","familyName":"J"},"#,
        r#""displayName":"Babs","active":true,"password":"pw","emails":[{"value":"w","type":"work"},{"value":"h"}],"#,
        r#""groups":[{"value":"g1"}],"meta":{"created":"c","version":"v"},"x-custom":7,"#,
        r#""$EXT":{"employeeNumber":"42","manager":{"value":"u2","displayName":"Boss"}}}"#,
    );

    /// The same user with no parameters: everything but the password.
    const USER_DEFAULT: &str = concat!(
        r#"{"schemas":["s"],"id":"u1","externalId":"x1","userName":"bj","name":{"givenName":"B","familyName":"J"},"#,
        r#""displayName":"Babs","active":true,"emails":[{"value":"w","type":"work"},{"value":"h"}],"#,
        r#""groups":[{"value":"g1"}],"meta":{"created":"c","version":"v"},"x-custom":7,"#,
        r#""$EXT":{"employeeNumber":"42","manager":{"value":"u2","displayName":"Boss"}}}"#,
    );

    const GROUP: &str =
        r#"{"schemas":["s"],"id":"g1","displayName":"G","members":[{"value":"u1","display":"B"},{"value":"u2"}]}"#;

    /// Applies the projection of `query` (as in a URL: `attributes=…&excludedAttributes=…`, or empty) to
    /// the fixture of `kind` and compares with `expected`.
    fn check(kind: ResourceKind, query: &str, expected: &str) {
        check_on(kind, query, if kind == User { USER } else { GROUP }, expected);
    }

    /// Like [`check`] on a given input. `$EXT` in the query, the input and the expected JSON stands for the
    /// enterprise extension's URN, which keeps every case on one line.
    fn check_on(kind: ResourceKind, query: &str, input: &str, expected: &str) {
        let expand = |text: &str| text.replace("$EXT", EXT);
        let query = expand(query);
        let mut attributes = None;
        let mut excluded = None;
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            match pair.split_once('=') {
                Some(("attributes", value)) => attributes = Some(value),
                Some(("excludedAttributes", value)) => excluded = Some(value),
                _ => panic!("unexpected query part {pair:?}"),
            }
        }
        let projection = Projection::parse(kind, attributes, excluded).expect("the parameters parse");
        let mut resource: Value = serde_json::from_str(&expand(input)).expect("the input is JSON");
        projection.apply(kind, &mut resource);
        let expected: Value = serde_json::from_str(&expand(expected)).expect("the expectation is JSON");
        assert_eq!(resource, expected, "{query}");
    }

    #[test]
    fn defaults_drop_only_never_returned_attributes() {
        check(User, "", USER_DEFAULT);
        check(User, "attributes=", USER_DEFAULT);
        check(User, "attributes= , &excludedAttributes=", USER_DEFAULT);
        check(Group, "", GROUP);
        assert_eq!(Projection::parse(User, None, None), Ok(Projection::all()));
    }

    #[test]
    fn attributes_select_named_attributes_plus_always_ones() {
        // Okta's and Entra's uses first.
        check(
            User,
            "attributes=userName,emails",
            r#"{"schemas":["s"],"id":"u1","userName":"bj","emails":[{"value":"w","type":"work"},{"value":"h"}]}"#,
        );
        check(Group, "attributes=displayName", r#"{"schemas":["s"],"id":"g1","displayName":"G"}"#);
        check(Group, "attributes=id", r#"{"schemas":["s"],"id":"g1"}"#);
        check(User, "attributes=displayName", r#"{"schemas":["s"],"id":"u1","displayName":"Babs"}"#);
        check(User, "attributes= USERNAME , Active ", r#"{"schemas":["s"],"id":"u1","userName":"bj","active":true}"#);
        check(
            User,
            "attributes=urn:ietf:params:scim:schemas:core:2.0:User:userName",
            r#"{"schemas":["s"],"id":"u1","userName":"bj"}"#,
        );
        check(
            User,
            "attributes=urn:ietf:params:scim:schemas:core:2.0:User:externalId",
            r#"{"schemas":["s"],"id":"u1","externalId":"x1"}"#,
        );
        check(User, "attributes=meta", r#"{"schemas":["s"],"id":"u1","meta":{"created":"c","version":"v"}}"#);
        check(User, "attributes=name", r#"{"schemas":["s"],"id":"u1","name":{"givenName":"B","familyName":"J"}}"#);
        check(User, "attributes=nosuch", r#"{"schemas":["s"],"id":"u1"}"#);
        check(User, "attributes=x-custom", r#"{"schemas":["s"],"id":"u1"}"#);
    }

    #[test]
    fn sub_attributes_select_within_complex_and_multi_valued_attributes() {
        check(User, "attributes=emails.value", r#"{"schemas":["s"],"id":"u1","emails":[{"value":"w"},{"value":"h"}]}"#);
        check(User, "attributes=emails.type", r#"{"schemas":["s"],"id":"u1","emails":[{"type":"work"}]}"#);
        check(
            User,
            "attributes=emails.value,EMAILS.TYPE",
            r#"{"schemas":["s"],"id":"u1","emails":[{"value":"w","type":"work"},{"value":"h"}]}"#,
        );
        check(
            User,
            "attributes=emails,emails.value",
            r#"{"schemas":["s"],"id":"u1","emails":[{"value":"w","type":"work"},{"value":"h"}]}"#,
        );
        check(User, "attributes=name.givenName", r#"{"schemas":["s"],"id":"u1","name":{"givenName":"B"}}"#);
        check(User, "attributes=meta.version", r#"{"schemas":["s"],"id":"u1","meta":{"version":"v"}}"#);
        check(User, "attributes=name.middleName,emails.display", r#"{"schemas":["s"],"id":"u1"}"#);
        check(
            Group,
            "attributes=members.value",
            r#"{"schemas":["s"],"id":"g1","members":[{"value":"u1"},{"value":"u2"}]}"#,
        );
    }

    #[test]
    fn extension_attributes_and_blocks() {
        check(
            User,
            "attributes=$EXT:manager",
            r#"{"schemas":["s"],"id":"u1","$EXT":{"manager":{"value":"u2","displayName":"Boss"}}}"#,
        );
        check(
            User,
            "attributes=manager",
            r#"{"schemas":["s"],"id":"u1","$EXT":{"manager":{"value":"u2","displayName":"Boss"}}}"#,
        );
        check(
            User,
            "attributes=$EXT:manager.value",
            r#"{"schemas":["s"],"id":"u1","$EXT":{"manager":{"value":"u2"}}}"#,
        );
        check(
            User,
            "attributes=$EXT",
            r#"{"schemas":["s"],"id":"u1","$EXT":{"employeeNumber":"42","manager":{"value":"u2","displayName":"Boss"}}}"#,
        );
        check(
            User,
            "attributes=URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER",
            r#"{"schemas":["s"],"id":"u1","$EXT":{"employeeNumber":"42"}}"#,
        );
        check(User, "attributes=userName,department", r#"{"schemas":["s"],"id":"u1","userName":"bj"}"#);
        let input = r#"{"id":"u1","$EXT":{"employeeNumber":"42","manager":{"value":"u2","displayName":"Boss"}}}"#;
        check_on(User, "excludedAttributes=$EXT", input, r#"{"id":"u1"}"#);
        check_on(User, "excludedAttributes=employeeNumber,manager", input, r#"{"id":"u1"}"#);
        check_on(
            User,
            "excludedAttributes=$EXT:manager.displayName",
            input,
            r#"{"id":"u1","$EXT":{"employeeNumber":"42","manager":{"value":"u2"}}}"#,
        );
    }

    #[test]
    fn excluded_attributes_remove_from_the_default_set() {
        // Okta's and Entra's uses first.
        check(Group, "excludedAttributes=members", r#"{"schemas":["s"],"id":"g1","displayName":"G"}"#);
        check_on(
            User,
            "excludedAttributes=groups",
            r#"{"id":"u1","userName":"bj","groups":[{"value":"g1"}]}"#,
            r#"{"id":"u1","userName":"bj"}"#,
        );
        check_on(
            User,
            "excludedAttributes=emails, NAME,meta",
            r#"{"id":"u1","name":{},"emails":[],"meta":{},"active":true}"#,
            r#"{"id":"u1","active":true}"#,
        );
        check(User, "excludedAttributes=id,schemas", USER_DEFAULT);
        check(User, "excludedAttributes=password", USER_DEFAULT);
        check(User, "excludedAttributes=nosuch,urn:example:ext:thing", USER_DEFAULT);
        check_on(
            User,
            "excludedAttributes=meta.version",
            r#"{"id":"u1","meta":{"created":"c","version":"v"}}"#,
            r#"{"id":"u1","meta":{"created":"c"}}"#,
        );
        check_on(
            User,
            "excludedAttributes=emails.value",
            r#"{"id":"u1","emails":[{"value":"w","type":"work"},{"value":"h"}]}"#,
            r#"{"id":"u1","emails":[{"type":"work"}]}"#,
        );
        check(
            Group,
            "excludedAttributes=members.display",
            r#"{"schemas":["s"],"id":"g1","displayName":"G","members":[{"value":"u1"},{"value":"u2"}]}"#,
        );
    }

    #[test]
    fn never_and_always_are_not_negotiable() {
        check(User, "attributes=password", r#"{"schemas":["s"],"id":"u1"}"#);
        check(
            User,
            "attributes=password,userName&excludedAttributes=id,schemas",
            r#"{"schemas":["s"],"id":"u1","userName":"bj"}"#,
        );
    }

    #[test]
    fn both_parameters_apply_attributes_then_exclusions() {
        check(
            User,
            "attributes=userName,emails&excludedAttributes=emails",
            r#"{"schemas":["s"],"id":"u1","userName":"bj"}"#,
        );
        check(
            User,
            "attributes=emails&excludedAttributes=emails.type",
            r#"{"schemas":["s"],"id":"u1","emails":[{"value":"w"},{"value":"h"}]}"#,
        );
        check(
            Group,
            "attributes=displayName&excludedAttributes=members",
            r#"{"schemas":["s"],"id":"g1","displayName":"G"}"#,
        );
    }

    #[test]
    fn emptied_values_disappear_but_stored_empties_stay() {
        let input = r#"{"id":"u1","name":{},"emails":[],"phoneNumbers":[{"type":"work"}]}"#;
        check_on(User, "", input, input);
        check_on(User, "excludedAttributes=phoneNumbers.type", input, r#"{"id":"u1","name":{},"emails":[]}"#);
        check_on(
            User,
            "attributes=emails.value",
            r#"{"id":"u1","emails":[{"type":"work"},{"value":"a"}]}"#,
            r#"{"id":"u1","emails":[{"value":"a"}]}"#,
        );
    }

    #[test]
    fn unknown_keys_are_default_attributes() {
        let input = r#"{"id":"u1","x-custom":1,"name":{"givenName":"B","nick2":"x"},"$EXT":{"x":1}}"#;
        check_on(User, "", input, input);
        check_on(User, "attributes=name", input, r#"{"id":"u1","name":{"givenName":"B","nick2":"x"}}"#);
        check_on(User, "attributes=name.givenName", input, r#"{"id":"u1","name":{"givenName":"B"}}"#);
        check_on(User, "attributes=userName", r#"{"id":"u1","$EXT":"junk","emails":"junk"}"#, r#"{"id":"u1"}"#);
        check_on(
            User,
            "",
            r#"{"id":"u1","$EXT":"junk","emails":"junk"}"#,
            r#"{"id":"u1","$EXT":"junk","emails":"junk"}"#,
        );
        check_on(User, "attributes=userName", r#""not an object""#, r#""not an object""#);
    }

    #[test]
    fn malformed_names_are_invalid_value() {
        let bad_names = [
            "emails[type eq \"work\"]",
            "name.givenName.x",
            "user name",
            "name.",
            ".name",
            "a..b",
            ":userName",
            "urn:x:",
            "\"userName\"",
            "userName;drop",
        ];
        for bad in bad_names {
            let error = Projection::parse(User, Some(bad), None).expect_err(bad);
            assert_eq!(error.kind, Kind::InvalidValue, "{bad}");
            assert!(error.detail.starts_with("attributes: "), "{}", error.detail);
            let error = Projection::parse(User, None, Some(&format!("userName,{bad}"))).expect_err(bad);
            assert!(error.detail.starts_with("excludedAttributes: "), "{}", error.detail);
        }
        let long = "x".repeat(10_000) + "[";
        let error = Projection::parse(User, Some(&long), None).expect_err("long");
        assert!(error.detail.len() < 300, "the echo is bounded");
        for good in ["groups.$ref", "members.$ref", "urn:example:2.0", "x-custom", "a_b-c", "EMAILS.VALUE"] {
            assert!(Projection::parse(User, Some(good), Some(good)).is_ok(), "{good}");
        }
    }

    #[test]
    fn wants_tells_the_store_what_to_read() {
        let wants = |kind, attributes, excluded, name| {
            Projection::parse(kind, attributes, excluded).expect("parses").wants(kind, name)
        };
        assert!(wants(Group, None, None, "members"));
        assert!(!wants(Group, None, Some("members"), "members"));
        assert!(!wants(Group, Some("displayName"), None, "members"));
        assert!(wants(Group, Some("members.value"), None, "members"));
        assert!(wants(Group, None, Some("members.display"), "MEMBERS"));
        assert!(!wants(User, None, Some("groups"), "groups"));
        assert!(wants(User, Some("userName,groups"), None, "groups"));
        assert!(!wants(User, Some("userName,emails"), None, "groups"));
        assert!(wants(User, Some("userName"), None, "id"));
        assert!(!wants(User, None, None, "password"));
        assert!(wants(User, Some(EXT), None, "manager"));
        assert!(wants(User, Some("manager.value"), None, EXT));
        assert!(!wants(User, Some("userName"), None, EXT));
        assert!(!wants(User, None, Some(EXT), EXT));
        assert!(wants(User, None, None, "nosuch"));
        assert!(!wants(User, Some("userName"), None, "nosuch"));
    }

    // Whatever the client names, projection only removes, keeps `id` and `schemas`, never shows the
    // password, and is idempotent (so the store may project before or after caching).
    proptest::proptest! {
        #[test]
        fn projection_only_removes_and_is_idempotent(
            attributes in proptest::sample::subsequence(NAMES.to_vec(), 0..6),
            excluded in proptest::sample::subsequence(NAMES.to_vec(), 0..6),
            send_attributes: bool,
        ) {
            let attributes = attributes.join(",").replace("$EXT", EXT);
            let excluded = excluded.join(",").replace("$EXT", EXT);
            let projection = Projection::parse(User, send_attributes.then_some(&attributes), Some(&excluded))
                .expect("every name is well formed");
            let input: Value = serde_json::from_str(&USER.replace("$EXT", EXT)).expect("the fixture is JSON");
            let mut once = input.clone();
            projection.apply(User, &mut once);
            let mut twice = once.clone();
            projection.apply(User, &mut twice);
            proptest::prop_assert_eq!(&once, &twice);
            proptest::prop_assert_eq!(&once["id"], &input["id"]);
            proptest::prop_assert_eq!(&once["schemas"], &input["schemas"]);
            proptest::prop_assert!(once.get("password").is_none());
            for (key, value) in once.as_object().into_iter().flatten() {
                proptest::prop_assert!(input.get(key).is_some(), "{} appeared", key);
                proptest::prop_assert_eq!(projection.wants(User, key), true, "{} is shown but not wanted", key);
                proptest::prop_assert!(value != &Value::Object(Map::new()), "{} left empty", key);
            }
        }
    }

    const NAMES: [&str; 14] = [
        "id",
        "userName",
        "name",
        "name.givenName",
        "emails",
        "emails.value",
        "EMAILS.type",
        "groups",
        "meta.version",
        "password",
        "$EXT",
        "$EXT:manager.value",
        "employeeNumber",
        "nosuch",
    ];
}
