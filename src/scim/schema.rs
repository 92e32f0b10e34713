//! The SCIM schemas scimbox serves, as static data: core User, EnterpriseUser and Group (RFC 7643 §4 and
//! §8.7.1) plus the common attributes every resource carries (§3.1).
//!
//! This module owns the attribute characteristics (type, multiplicity, `caseExact`, mutability, `returned`,
//! uniqueness, canonical values, sub-attributes), the case-insensitive lookup of an attribute path
//! ([`resolve`]), the case folding that `caseExact=false` means ([`fold_case`]), and the RFC 7643 §7
//! `/Schemas` document ([`Schema::to_json`]). Where the RFC's schema representation (§8.7.1) and its prose
//! (§4) disagree, the prose wins and a comment says so; where scimbox deliberately departs from the RFC
//! (for example `userName` uniqueness), a comment says that too.
//!
//! Deliberately absent: the `email` alias and the "a complex attribute compared without a sub-attribute
//! means its `value`" rule, which belong to the filter layer; validation of resource bodies against these
//! definitions (a later `resource` module); anything about storage columns.

use serde_json::{Map, Value, json};

use AttributeType::Binary;
use Mutability::{Immutable, ReadOnly, WriteOnly};

/// The schema URN of the core User resource.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The schema URN of the enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The schema URN of the core Group resource.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The schema URN of a schema definition itself (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The data type of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

impl AttributeType {
    /// The name used on the wire in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Boolean => "boolean",
            AttributeType::Decimal => "decimal",
            AttributeType::Integer => "integer",
            AttributeType::DateTime => "dateTime",
            AttributeType::Reference => "reference",
            AttributeType::Complex => "complex",
            AttributeType::Binary => "binary",
        }
    }
}

/// Whether and how a client may change an attribute (RFC 7643 §7, `mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute appears in a response (RFC 7643 §7, `returned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// How far an attribute's value must be unique (RFC 7643 §7, `uniqueness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition with its characteristics (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    /// The canonical spelling; lookups are case-insensitive but responses use this.
    pub name: &'static str,
    pub attr_type: AttributeType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    /// For `reference` attributes: the resource types or `external`/`uri` it may point to.
    pub reference_types: &'static [&'static str],
    /// For `complex` attributes: the sub-attributes (never complex themselves, RFC 7643 §2.3.8).
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    /// A sub-attribute of this complex attribute by name, case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.sub_attributes.iter().find(|sub| sub.name.eq_ignore_ascii_case(name))
    }

    /// The RFC 7643 §7 representation of this attribute inside a schema document.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), self.name.into());
        out.insert("type".into(), self.attr_type.as_str().into());
        out.insert("multiValued".into(), self.multi_valued.into());
        out.insert("description".into(), self.description.into());
        out.insert("required".into(), self.required.into());
        if self.attr_type == AttributeType::Complex {
            let subs: Vec<Value> = self.sub_attributes.iter().map(Attribute::to_json).collect();
            out.insert("subAttributes".into(), subs.into());
        } else {
            out.insert("caseExact".into(), self.case_exact.into());
        }
        if !self.canonical_values.is_empty() {
            out.insert("canonicalValues".into(), self.canonical_values.into());
        }
        if self.attr_type == AttributeType::Reference {
            out.insert("referenceTypes".into(), self.reference_types.into());
        }
        out.insert("mutability".into(), self.mutability.as_str().into());
        out.insert("returned".into(), self.returned.as_str().into());
        out.insert("uniqueness".into(), self.uniqueness.as_str().into());
        Value::Object(out)
    }

    // The const builders below keep the static tables one line per attribute. Each starts from the
    // RFC 7643 §2.2 defaults: single-valued, optional, caseExact false, readWrite, returned by default,
    // no uniqueness.

    pub(super) const fn of(name: &'static str, attr_type: AttributeType, description: &'static str) -> Attribute {
        Attribute {
            name,
            attr_type,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    pub(super) const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    pub(super) const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub(super) const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    pub(super) const fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    pub(super) const fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    pub(super) const fn unique(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    pub(super) const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    pub(super) const fn references(mut self, types: &'static [&'static str]) -> Self {
        self.reference_types = types;
        self
    }

    pub(super) const fn subs(mut self, subs: &'static [Attribute]) -> Self {
        self.sub_attributes = subs;
        self
    }
}

const fn string(name: &'static str, description: &'static str) -> Attribute {
    Attribute::of(name, AttributeType::String, description)
}

const fn boolean(name: &'static str, description: &'static str) -> Attribute {
    Attribute::of(name, AttributeType::Boolean, description)
}

const fn date_time(name: &'static str, description: &'static str) -> Attribute {
    Attribute::of(name, AttributeType::DateTime, description)
}

const fn reference(name: &'static str, types: &'static [&'static str], description: &'static str) -> Attribute {
    Attribute::of(name, AttributeType::Reference, description).references(types)
}

const fn complex(name: &'static str, subs: &'static [Attribute], description: &'static str) -> Attribute {
    Attribute::of(name, AttributeType::Complex, description).subs(subs)
}

/// A schema: its URN, short name and attributes (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [Attribute],
}

impl Schema {
    /// An attribute of this schema by name, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes.iter().find(|attr| attr.name.eq_ignore_ascii_case(name))
    }

    /// The RFC 7643 §7 schema document, as served by `GET /Schemas/{id}`. The caller adds
    /// `meta.location`, which depends on the public base URL.
    pub fn to_json(&self) -> Value {
        let attributes: Vec<Value> = self.attributes.iter().map(Attribute::to_json).collect();
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": { "resourceType": "Schema" },
        })
    }
}

/// The resource types scimbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    /// The core schema of this resource type.
    pub fn core_schema(self) -> &'static Schema {
        match self {
            ResourceKind::User => &USER,
            ResourceKind::Group => &GROUP,
        }
    }

    /// The schema extensions this resource type accepts.
    pub fn extensions(self) -> &'static [&'static Schema] {
        match self {
            ResourceKind::User => &USER_EXTENSIONS,
            ResourceKind::Group => &[],
        }
    }

    /// The resource type's name as in `meta.resourceType` and `/ResourceTypes`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// The endpoint's name under `/scim/v2`.
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }

    /// The URL of resource `id`: its `meta.location`, `$ref` and `Location`.
    pub fn location(self, base_url: &str, id: &str) -> String {
        [base_url, "/scim/v2/", self.endpoint(), "/", id].concat()
    }
}

/// The `meta.version` and `ETag` of a resource at `version`: a weak tag, as resources are compared
/// semantically.
pub fn weak_etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

static USER_EXTENSIONS: [&Schema; 1] = [&ENTERPRISE_USER];

/// Every schema scimbox serves, in the order `/Schemas` lists them.
pub fn schemas() -> [&'static Schema; 3] {
    [&USER, &ENTERPRISE_USER, &GROUP]
}

/// A schema by its URN, case-insensitively.
pub fn find_schema(id: &str) -> Option<&'static Schema> {
    schemas().into_iter().find(|schema| schema.id.eq_ignore_ascii_case(id))
}

/// Folds a string the way `caseExact=false` comparisons do: both sides are folded and then compared
/// exactly. The store's case-folded keys must use this same function, or SQL and in-memory evaluation
/// would disagree.
pub fn fold_case(text: &str) -> String {
    text.to_lowercase()
}

/// A path that names a known attribute, with every part in its canonical spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedPath {
    /// The schema that defines the attribute; the core schema for common attributes.
    pub schema: &'static Schema,
    /// True when the attribute belongs to a schema extension, whose values live in the resource's JSON
    /// under the extension's URN.
    pub is_extension: bool,
    pub attribute: &'static Attribute,
    pub sub_attribute: Option<&'static Attribute>,
}

impl ResolvedPath {
    /// The URN that qualifies this path canonically: the extension's for extension attributes, none for
    /// core and common ones (which are written unqualified).
    pub fn uri(&self) -> Option<&'static str> {
        self.is_extension.then_some(self.schema.id)
    }

    /// The attribute the path ends at: the sub-attribute if there is one.
    pub fn target(&self) -> &'static Attribute {
        self.sub_attribute.unwrap_or(self.attribute)
    }
}

/// Resolves a textual path such as `name.givenName`, `EMAILS.value` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
///
/// The URN, if any, is everything up to the last `:`. Returns `None` for a path that names no known
/// attribute or has more than one sub-attribute.
pub fn resolve(kind: ResourceKind, path: &str) -> Option<ResolvedPath> {
    let (uri, rest) = match path.rfind(':') {
        Some(colon) => (Some(&path[..colon]), &path[colon + 1..]),
        None => (None, path),
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((attr, sub)) => (attr, Some(sub)),
        None => (rest, None),
    };
    resolve_parts(kind, uri, attr, sub)
}

/// Resolves a path given as parts (as the filter parser produces them).
///
/// An unqualified name is looked up in the core schema, then among the common attributes, then in the
/// extensions: RFC 7644 §3.10 says unqualified names refer to the core schema, but no extension attribute
/// of ours shares a name with a core one, so the fallback is unambiguous and spares clients that forget
/// the URN. A core-schema URN also reaches the common attributes (`...:User:id`).
pub fn resolve_parts(kind: ResourceKind, uri: Option<&str>, attr: &str, sub: Option<&str>) -> Option<ResolvedPath> {
    let core = kind.core_schema();
    let found = match uri {
        None => core
            .attribute(attr)
            .or_else(|| common_attribute(attr))
            .map(|attribute| (core, false, attribute))
            .or_else(|| {
                kind.extensions().iter().find_map(|ext| ext.attribute(attr).map(|attribute| (*ext, true, attribute)))
            }),
        Some(uri) if uri.eq_ignore_ascii_case(core.id) => {
            core.attribute(attr).or_else(|| common_attribute(attr)).map(|attribute| (core, false, attribute))
        }
        Some(uri) => kind
            .extensions()
            .iter()
            .find(|ext| ext.id.eq_ignore_ascii_case(uri))
            .and_then(|ext| ext.attribute(attr).map(|attribute| (*ext, true, attribute))),
    };
    let (schema, is_extension, attribute) = found?;
    let sub_attribute = match sub {
        None => None,
        Some(sub) => Some(attribute.sub_attribute(sub)?),
    };
    Some(ResolvedPath { schema, is_extension, attribute, sub_attribute })
}

/// A common attribute (RFC 7643 §3.1) by name, case-insensitively.
pub fn common_attribute(name: &str) -> Option<&'static Attribute> {
    COMMON_ATTRIBUTES.iter().find(|attr| attr.name.eq_ignore_ascii_case(name))
}

/// The attributes every resource carries (RFC 7643 §3.1). They are not part of any schema document
/// (§8.7.1 lists none of them), so `/Schemas` does not show them; filters and projection still need
/// their characteristics.
pub static COMMON_ATTRIBUTES: [Attribute; 4] = [
    // `schemas` is defined in RFC 7643 §3 rather than §3.1, but filters may name it (RFC 7644 §3.4.2.2
    // has `schemas eq "urn:...:enterprise:2.0:User"`). URNs compare case-insensitively.
    string("schemas", "The schema URIs the resource's attributes are defined by.")
        .multi()
        .required()
        .mutability(ReadOnly)
        .returned(Returned::Always),
    string("id", "The service provider's unique, stable identifier of the resource.")
        .case_exact()
        .mutability(ReadOnly)
        .returned(Returned::Always)
        .unique(Uniqueness::Server),
    string("externalId", "The provisioning client's identifier of the resource.").case_exact(),
    complex("meta", &META_SUBS, "Resource metadata maintained by the service provider.").mutability(ReadOnly),
];

static META_SUBS: [Attribute; 5] = [
    string("resourceType", "The name of the resource type.").case_exact().mutability(ReadOnly),
    date_time("created", "When the resource was added to the service provider.").mutability(ReadOnly),
    date_time("lastModified", "When the resource was last changed.").mutability(ReadOnly),
    reference("location", &["uri"], "The URI of the resource.").case_exact().mutability(ReadOnly),
    string("version", "The resource's version, an entity tag.").case_exact().mutability(ReadOnly),
];

/// The core User schema (RFC 7643 §4.1, §8.7.1).
pub static USER: Schema =
    Schema { id: USER_SCHEMA, name: "User", description: "User Account", attributes: &USER_ATTRIBUTES };

static USER_ATTRIBUTES: [Attribute; 21] = [
    // RFC 7643 says only "unique" for userName; scimbox enforces uniqueness within the server,
    // case-insensitively, because Okta and Entra match users on it.
    string("userName", "The unique identifier the user signs in with.").required().unique(Uniqueness::Server),
    complex("name", &NAME_SUBS, "The components of the user's real name."),
    string("displayName", "The name of the user, suitable for display."),
    string("nickName", "The casual way to address the user."),
    reference("profileUrl", &["external"], "A URI of the user's online profile."),
    string("title", "The user's title, such as \"Vice President\"."),
    string("userType", "The relationship between the organization and the user, such as \"Employee\"."),
    string("preferredLanguage", "The user's preferred written or spoken language."),
    string("locale", "The user's default location for localizing dates, numbers and currency."),
    string("timezone", "The user's time zone in IANA Time Zone database format."),
    boolean("active", "Whether the user is active (may sign in)."),
    string("password", "The user's clear-text password; accepted, hashed, never returned.")
        .mutability(WriteOnly)
        .returned(Returned::Never),
    complex("emails", &EMAIL_SUBS, "Email addresses of the user.").multi(),
    complex("phoneNumbers", &PHONE_SUBS, "Phone numbers of the user.").multi(),
    complex("ims", &IM_SUBS, "Instant messaging addresses of the user.").multi(),
    complex("photos", &PHOTO_SUBS, "URLs of photos of the user.").multi(),
    complex("addresses", &ADDRESS_SUBS, "Physical mailing addresses of the user.").multi(),
    // The service provider maintains group membership; clients change it through the Group resource.
    complex("groups", &GROUP_REF_SUBS, "The groups the user belongs to.").multi().mutability(ReadOnly),
    complex("entitlements", &ENTITLEMENT_SUBS, "Entitlements of the user.").multi(),
    complex("roles", &ROLE_SUBS, "Roles of the user.").multi(),
    complex("x509Certificates", &CERTIFICATE_SUBS, "X.509 certificates issued to the user.").multi(),
];

static NAME_SUBS: [Attribute; 6] = [
    string("formatted", "The full name, formatted for display."),
    string("familyName", "The family name, or last name."),
    string("givenName", "The given name, or first name."),
    string("middleName", "The middle name(s)."),
    string("honorificPrefix", "The honorific prefix(es), or title, such as \"Ms.\"."),
    string("honorificSuffix", "The honorific suffix(es), such as \"III\"."),
];

const PRIMARY_DESCRIPTION: &str = "Whether this is the primary value; at most one value may be primary.";

// RFC 7643 §8.7.1 gives `emails.value` caseExact false, which matters here: Okta matches users on email,
// so email filters and uniqueness ignore case.
static EMAIL_SUBS: [Attribute; 4] = [
    string("value", "The email address, canonicalized per RFC 5321."),
    string("display", "A human-readable name, for display only."),
    string("type", "The kind of address, such as \"work\".").canonical(&["work", "home", "other"]),
    boolean("primary", PRIMARY_DESCRIPTION),
];

static PHONE_SUBS: [Attribute; 4] = [
    string("value", "The phone number, preferably in RFC 3966 form."),
    string("display", "A human-readable name, for display only."),
    string("type", "The kind of phone number, such as \"mobile\".")
        .canonical(&["work", "home", "mobile", "fax", "pager", "other"]),
    boolean("primary", PRIMARY_DESCRIPTION),
];

static IM_SUBS: [Attribute; 4] = [
    string("value", "The instant messaging address."),
    string("display", "A human-readable name, for display only."),
    string("type", "The instant messaging service, such as \"xmpp\".")
        .canonical(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
    boolean("primary", PRIMARY_DESCRIPTION),
];

static PHOTO_SUBS: [Attribute; 4] = [
    reference("value", &["external"], "The URL of an image of the user."),
    string("display", "A human-readable name, for display only."),
    string("type", "The kind of image.").canonical(&["photo", "thumbnail"]),
    boolean("primary", PRIMARY_DESCRIPTION),
];

// RFC 7643 §8.7.1 lists no `primary` for addresses, but the prose in §4.1.2 ("addresses ... primary") and
// the examples in §8.2 use it; the prose wins.
static ADDRESS_SUBS: [Attribute; 8] = [
    string("formatted", "The full mailing address, formatted for display."),
    string("streetAddress", "The full street address, which may include a house number and street name."),
    string("locality", "The city or locality."),
    string("region", "The state or region."),
    string("postalCode", "The zip code or postal code."),
    string("country", "The country name, in ISO 3166-1 alpha-2 code form."),
    string("type", "The kind of address, such as \"work\".").canonical(&["work", "home", "other"]),
    boolean("primary", PRIMARY_DESCRIPTION),
];

static GROUP_REF_SUBS: [Attribute; 4] = [
    string("value", "The id of the group.").mutability(ReadOnly),
    reference("$ref", &["User", "Group"], "The URI of the group.").mutability(ReadOnly),
    string("display", "The group's displayName.").mutability(ReadOnly),
    string("type", "Whether membership is direct or through another group.")
        .canonical(&["direct", "indirect"])
        .mutability(ReadOnly),
];

static ENTITLEMENT_SUBS: [Attribute; 4] = [
    string("value", "The entitlement."),
    string("display", "A human-readable name, for display only."),
    string("type", "The kind of entitlement."),
    boolean("primary", PRIMARY_DESCRIPTION),
];

static ROLE_SUBS: [Attribute; 4] = [
    string("value", "The role."),
    string("display", "A human-readable name, for display only."),
    string("type", "The kind of role."),
    boolean("primary", PRIMARY_DESCRIPTION),
];

static CERTIFICATE_SUBS: [Attribute; 4] = [
    Attribute::of("value", Binary, "The DER-encoded certificate, base64-encoded.").case_exact(),
    string("display", "A human-readable name, for display only."),
    string("type", "The kind of certificate."),
    boolean("primary", PRIMARY_DESCRIPTION),
];

/// The enterprise User extension (RFC 7643 §4.3, §8.7.1).
pub static ENTERPRISE_USER: Schema = Schema {
    id: ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &ENTERPRISE_ATTRIBUTES,
};

static ENTERPRISE_ATTRIBUTES: [Attribute; 6] = [
    string("employeeNumber", "A number identifying the user within the organization."),
    string("costCenter", "The user's cost center."),
    string("organization", "The user's organization."),
    string("division", "The user's division."),
    string("department", "The user's department."),
    complex("manager", &MANAGER_SUBS, "The user's manager."),
];

// RFC 7643 §4.3 calls `manager.value` and `$ref` "RECOMMENDED", not required, and §8.7.1 agrees for
// `value`; `displayName` is maintained by the service provider, hence readOnly.
static MANAGER_SUBS: [Attribute; 3] = [
    string("value", "The id of the manager's User resource."),
    reference("$ref", &["User"], "The URI of the manager's User resource."),
    string("displayName", "The manager's displayName.").mutability(ReadOnly),
];

/// The core Group schema (RFC 7643 §4.2, §8.7.1).
pub static GROUP: Schema =
    Schema { id: GROUP_SCHEMA, name: "Group", description: "Group", attributes: &GROUP_ATTRIBUTES };

static GROUP_ATTRIBUTES: [Attribute; 2] = [
    // RFC 7643 §8.7.1 marks displayName optional, but §4.2 says "REQUIRED"; the prose wins. scimbox keeps
    // it unique within the server, case-insensitively, because Entra expects 409 on a duplicate name.
    string("displayName", "A human-readable name for the group.").required().unique(Uniqueness::Server),
    complex("members", &MEMBER_SUBS, "The members of the group.").multi(),
];

// §8.7.1 lists only value, $ref and type for members; §4.2's examples and §8.4 also carry `display`, which
// Okta and Entra send, so it is defined here, immutable like its siblings because §4.2 says so of every
// member sub-attribute.
static MEMBER_SUBS: [Attribute; 4] = [
    string("value", "The id of the member resource.").mutability(Immutable),
    reference("$ref", &["User", "Group"], "The URI of the member resource.").mutability(Immutable),
    string("display", "The member's display name.").mutability(Immutable),
    string("type", "The type of the member resource.").canonical(&["User", "Group"]).mutability(Immutable),
];

#[cfg(test)]
mod tests {
    use super::*;
    use AttributeType::Complex;

    /// Resolves `path` and returns its canonical spelling, or `None` if it names nothing.
    fn canonical(kind: ResourceKind, path: &str) -> Option<String> {
        let resolved = resolve(kind, path)?;
        let mut text = String::new();
        if let Some(uri) = resolved.uri() {
            text.push_str(uri);
            text.push(':');
        }
        text.push_str(resolved.attribute.name);
        if let Some(sub) = resolved.sub_attribute {
            text.push('.');
            text.push_str(sub.name);
        }
        Some(text)
    }

    fn check(kind: ResourceKind, path: &str, expected: Option<&str>) {
        assert_eq!(canonical(kind, path).as_deref(), expected, "{kind:?} {path}");
    }

    use ResourceKind::{Group, User};

    #[test]
    fn resolve_paths() {
        check(User, "userName", Some("userName"));
        check(User, "USERNAME", Some("userName"));
        check(User, "urn:ietf:params:scim:schemas:core:2.0:User:userName", Some("userName"));
        check(User, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:username", Some("userName"));
        check(User, "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", Some("name.givenName"));
        check(User, "name.GIVENNAME", Some("name.givenName"));
        check(User, "EMAILS.value", Some("emails.value"));
        check(User, "emails", Some("emails"));
        check(User, "phoneNumbers.type", Some("phoneNumbers.type"));
        check(User, "addresses.primary", Some("addresses.primary"));
        check(User, "groups.$ref", Some("groups.$ref"));
        check(User, "x509certificates.value", Some("x509Certificates.value"));
        check(User, "id", Some("id"));
        check(User, "externalid", Some("externalId"));
        check(User, "meta.lastmodified", Some("meta.lastModified"));
        check(User, "urn:ietf:params:scim:schemas:core:2.0:User:meta.created", Some("meta.created"));
        check(User, "schemas", Some("schemas"));
        let ext = ENTERPRISE_USER_SCHEMA;
        check(User, &format!("{ext}:manager.value"), Some(&format!("{ext}:manager.value")));
        check(User, &format!("{ext}:employeeNumber"), Some(&format!("{ext}:employeeNumber")));
        check(
            User,
            &format!("{}:MANAGER.DISPLAYNAME", ext.to_uppercase()),
            Some(&format!("{ext}:manager.displayName")),
        );
        check(User, "employeeNumber", Some(&format!("{ext}:employeeNumber")));
        check(User, "manager.value", Some(&format!("{ext}:manager.value")));
        check(Group, "displayname", Some("displayName"));
        check(Group, "members.value", Some("members.value"));
        check(Group, "members.display", Some("members.display"));
        check(Group, "urn:ietf:params:scim:schemas:core:2.0:Group:members.type", Some("members.type"));
        check(Group, "meta.version", Some("meta.version"));
    }

    #[test]
    fn resolve_rejects_unknown_paths() {
        check(User, "email", None);
        check(User, "nosuch", None);
        check(User, "name.nosuch", None);
        check(User, "name.givenName.x", None);
        check(User, "userName.value", None);
        check(User, "urn:example:ext:foo", None);
        check(User, &format!("{ENTERPRISE_USER_SCHEMA}:userName"), None);
        check(User, "urn:ietf:params:scim:schemas:core:2.0:Group:displayName", None);
        check(Group, "userName", None);
        check(Group, "employeeNumber", None);
        check(Group, "", None);
    }

    #[test]
    fn characteristics_follow_rfc7643_and_scimbox_choices() {
        let attr = |kind, path| resolve(kind, path).map(|r| *r.target());
        let user_name = attr(User, "userName").unwrap();
        assert!(user_name.required && !user_name.case_exact);
        assert_eq!(user_name.uniqueness, Uniqueness::Server);
        let password = attr(User, "password").unwrap();
        assert_eq!((password.mutability, password.returned), (WriteOnly, Returned::Never));
        assert!(!attr(User, "emails.value").unwrap().case_exact);
        assert!(attr(User, "emails").unwrap().multi_valued);
        assert_eq!(attr(User, "groups").unwrap().mutability, ReadOnly);
        assert_eq!(attr(User, "groups.type").unwrap().canonical_values, ["direct", "indirect"]);
        assert_eq!(attr(User, "x509Certificates.value").unwrap().attr_type, Binary);
        assert_eq!(attr(User, "id").unwrap().returned, Returned::Always);
        assert!(attr(User, "externalId").unwrap().case_exact);
        let group_name = attr(Group, "displayName").unwrap();
        assert!(group_name.required && !group_name.case_exact);
        assert_eq!(attr(Group, "members.type").unwrap().canonical_values, ["User", "Group"]);
        assert_eq!(attr(Group, "members.value").unwrap().mutability, Immutable);
        assert_eq!(attr(User, "manager.displayName").unwrap().mutability, ReadOnly);
        assert_eq!(attr(User, "meta.lastModified").unwrap().attr_type, AttributeType::DateTime);
    }

    #[test]
    fn every_complex_attribute_has_simple_sub_attributes() {
        for schema in schemas() {
            for attr in schema.attributes.iter().chain(&COMMON_ATTRIBUTES) {
                assert_eq!(attr.attr_type == Complex, !attr.sub_attributes.is_empty(), "{}", attr.name);
                for sub in attr.sub_attributes {
                    assert_ne!(sub.attr_type, Complex, "{}.{}", attr.name, sub.name);
                }
            }
        }
    }

    #[test]
    fn schema_document_follows_rfc7643_section_7() {
        let doc = USER.to_json();
        assert_eq!(doc["schemas"][0], SCHEMA_SCHEMA);
        assert_eq!(doc["id"], USER_SCHEMA);
        assert_eq!(doc["name"], "User");
        let attrs = doc["attributes"].as_array().unwrap();
        assert_eq!(attrs.len(), USER_ATTRIBUTES.len());
        let user_name = &attrs[0];
        assert_eq!(user_name["name"], "userName");
        assert_eq!(user_name["type"], "string");
        assert_eq!(user_name["multiValued"], false);
        assert_eq!(user_name["required"], true);
        assert_eq!(user_name["caseExact"], false);
        assert_eq!(user_name["mutability"], "readWrite");
        assert_eq!(user_name["returned"], "default");
        assert_eq!(user_name["uniqueness"], "server");
        let emails = attrs.iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["multiValued"], true);
        assert!(emails.get("caseExact").is_none());
        let email_type = emails["subAttributes"].as_array().unwrap().iter().find(|a| a["name"] == "type");
        assert_eq!(email_type.unwrap()["canonicalValues"], json!(["work", "home", "other"]));
        let profile = attrs.iter().find(|a| a["name"] == "profileUrl").unwrap();
        assert_eq!(profile["referenceTypes"], json!(["external"]));
        let manager = &ENTERPRISE_USER.to_json()["attributes"][5];
        assert_eq!(manager["name"], "manager");
        assert_eq!(manager["subAttributes"][1]["referenceTypes"], json!(["User"]));
        let members = &GROUP.to_json()["attributes"][1];
        assert_eq!(members["subAttributes"][3]["canonicalValues"], json!(["User", "Group"]));
    }

    #[test]
    fn find_schema_ignores_case() {
        assert_eq!(find_schema(&ENTERPRISE_USER_SCHEMA.to_lowercase()).map(|s| s.name), Some("EnterpriseUser"));
        assert_eq!(find_schema("urn:nope").map(|s| s.name), None);
    }

    #[test]
    fn fold_case_is_unicode_aware() {
        assert_eq!(fold_case("ÉMILE@Example.COM"), "émile@example.com");
    }
}
