//! The discovery documents: `/ServiceProviderConfig` (RFC 7643 §5), `/ResourceTypes` (§6) and `/Schemas`
//! (§7), as RFC 7644 §4 serves them, plus the `ListResponse` that wraps the two collections.
//!
//! Every function is pure: it takes the facts it needs (the public base URL, the configured limits) and
//! returns JSON. The documents must be truthful, because conformance checkers such as scim2-tester read
//! them and then exercise exactly what they claim: PATCH, bulk, filtering, `changePassword` (a `password`
//! is accepted and hashed), sorting and ETags are all implemented, and the only authentication scheme is
//! the bearer token minted in the admin page.
//!
//! `/Schemas` lists the resource schemas of [`schema::schemas()`] and also the three schemas that describe
//! the discovery documents themselves (RFC 7643 §8.7.2), because RFC 7644 §4 makes them part of what a
//! service provider serves and scim2-tester fails a server whose `/Schemas` lacks `ServiceProviderConfig`,
//! `ResourceType` or `Schema`. Those three are defined here rather than in `schema.rs` since nothing but
//! this module uses them: they are never filtered, projected or validated against.
//!
//! Deliberately absent: the 403 that RFC 7644 §4 suggests for a `filter` on `/Schemas` and
//! `/ResourceTypes`, and the 405 for other methods, both of which `http/` decides; the RFC 9865
//! `pagination` block, which belongs here once cursor pagination exists.

use serde_json::{Value, json};

use super::schema::{self, Attribute, AttributeType, Mutability, ResourceKind, SCHEMA_SCHEMA, Schema};

/// The schema URN of the service provider configuration (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The schema URN of a resource type description (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The schema URN of a list response (RFC 7644 §3.4.2).
pub use super::list::LIST_RESPONSE_SCHEMA;

/// The specification of the one authentication scheme offered (RFC 7643 §5 uses this URI in its example).
const BEARER_TOKEN_SPEC: &str = "https://www.rfc-editor.org/info/rfc6750";

/// The facts about this server that `/ServiceProviderConfig` states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The most resources one list or search response returns (`filter.maxResults`).
    pub max_results: usize,
    /// The most operations one bulk request may hold; 0 means bulk is switched off.
    pub bulk_max_operations: usize,
    /// The largest bulk request body accepted, in bytes; 0 means bulk is switched off.
    pub bulk_max_payload_bytes: usize,
    /// Where a human finds scimbox's documentation, if the operator has published it.
    pub documentation_uri: Option<String>,
}

/// The `/ServiceProviderConfig` document (RFC 7643 §5).
pub fn service_provider_config(base_url: &str, caps: &Capabilities) -> Value {
    let bulk_supported = caps.bulk_max_operations > 0 && caps.bulk_max_payload_bytes > 0;
    let mut scheme = json!({
        "type": "oauthbearertoken",
        "name": "OAuth Bearer Token",
        "description": "Authentication with a bearer token generated in the scimbox admin page",
        "specUri": BEARER_TOKEN_SPEC,
        "primary": true,
    });
    let mut config = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": { "supported": true },
        "bulk": {
            "supported": bulk_supported,
            "maxOperations": caps.bulk_max_operations,
            "maxPayloadSize": caps.bulk_max_payload_bytes,
        },
        "filter": { "supported": true, "maxResults": caps.max_results },
        "changePassword": { "supported": true },
        "sort": { "supported": true },
        "etag": { "supported": true },
        // RFC 9865 §4: both kinds of pagination; cursors are positions in a stable order and never
        // expire, so there is no `cursorTimeout`.
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": caps.max_results,
            "maxPageSize": caps.max_results,
        },
        "authenticationSchemes": [],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", trim(base_url)),
        },
    });
    // RFC 7643 §5 makes `documentationUri` optional; an absent one is left out rather than sent as null,
    // which strict clients would read as a malformed reference.
    if let Some(uri) = &caps.documentation_uri {
        config["documentationUri"] = Value::from(uri.as_str());
        scheme["documentationUri"] = Value::from(uri.as_str());
    }
    config["authenticationSchemes"] = json!([scheme]);
    config
}

/// Every `/ResourceTypes` document, User first.
pub fn resource_types(base_url: &str) -> Vec<Value> {
    [ResourceKind::User, ResourceKind::Group].into_iter().map(|kind| resource_type_document(base_url, kind)).collect()
}

/// The `/ResourceTypes/{id}` document, or `None` for an unknown id. Ids compare case-insensitively, like
/// the endpoint names they mirror.
pub fn resource_type(base_url: &str, id: &str) -> Option<Value> {
    [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|kind| kind.as_str().eq_ignore_ascii_case(id))
        .map(|kind| resource_type_document(base_url, kind))
}

/// Every `/Schemas` document: the resource schemas, then the discovery schemas.
pub fn schema_documents(base_url: &str) -> Vec<Value> {
    served_schemas().map(|schema| schema_document_of(base_url, schema)).collect()
}

/// The `/Schemas/{id}` document, or `None` for an unknown URN. URNs compare case-insensitively (RFC 8141).
pub fn schema_document(base_url: &str, id: &str) -> Option<Value> {
    served_schemas()
        .find(|schema| schema.id.eq_ignore_ascii_case(id))
        .map(|schema| schema_document_of(base_url, schema))
}

/// A `ListResponse` holding every resource of a discovery collection on one page (RFC 7644 §4: these
/// endpoints are not paged, and the collections are a handful of documents).
pub fn list_response(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

/// The base URL without a trailing slash, so that locations never contain `//`.
fn trim(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

fn resource_type_document(base_url: &str, kind: ResourceKind) -> Value {
    let core = kind.core_schema();
    // An empty `schemaExtensions` is sent rather than omitted: RFC 7643 §6 makes the attribute optional,
    // but scim2-models declares it required, and an empty list means the same as an absent one.
    let extensions: Vec<Value> =
        kind.extensions().iter().map(|ext| json!({ "schema": ext.id, "required": false })).collect();
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": kind.as_str(),
        "name": kind.as_str(),
        "description": core.description,
        "endpoint": format!("/{}s", kind.as_str()),
        "schema": core.id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{}", trim(base_url), kind.as_str()),
        },
    })
}

fn schema_document_of(base_url: &str, schema: &Schema) -> Value {
    let mut document = schema.to_json();
    document["meta"]["location"] = Value::from(format!("{}/Schemas/{}", trim(base_url), schema.id));
    document
}

/// Every schema `/Schemas` serves, in the order it lists them.
fn served_schemas() -> impl Iterator<Item = &'static Schema> {
    schema::schemas().into_iter().chain([&SERVICE_PROVIDER_CONFIG, &RESOURCE_TYPE, &SCHEMA])
}

// The discovery schemas of RFC 7643 §8.7.2. Every attribute is readOnly: clients read these documents and
// never write them. Where §8.7.2 and the prose of §5–§7 disagree, the prose wins, as in `schema.rs`: §5
// lists `etag` and the `type` and `primary` of an authentication scheme, and §6 makes `schemaExtensions`
// multi-valued, all of which §8.7.2 omits or gets wrong.

/// An attribute with the RFC 7643 §2.2 defaults (`Attribute::of`), except readOnly.
const fn attr(name: &'static str, attr_type: AttributeType, description: &'static str) -> Attribute {
    Attribute::of(name, attr_type, description).mutability(Mutability::ReadOnly)
}

const fn required(attribute: Attribute) -> Attribute {
    attribute.required()
}

const fn multi(attribute: Attribute) -> Attribute {
    attribute.multi()
}

const fn string(name: &'static str, description: &'static str) -> Attribute {
    attr(name, AttributeType::String, description)
}

const fn boolean(name: &'static str, description: &'static str) -> Attribute {
    attr(name, AttributeType::Boolean, description)
}

const fn integer(name: &'static str, description: &'static str) -> Attribute {
    attr(name, AttributeType::Integer, description)
}

const fn reference(name: &'static str, types: &'static [&'static str], description: &'static str) -> Attribute {
    attr(name, AttributeType::Reference, description).references(types)
}

const fn complex(name: &'static str, subs: &'static [Attribute], description: &'static str) -> Attribute {
    attr(name, AttributeType::Complex, description).subs(subs)
}

const SUPPORTED: Attribute = required(boolean("supported", "Whether the operation is supported."));

static SERVICE_PROVIDER_CONFIG: Schema = Schema {
    id: SERVICE_PROVIDER_CONFIG_SCHEMA,
    // scim2-tester looks the discovery schemas up by these names.
    name: "ServiceProviderConfig",
    description: "Schema for representing the service provider's configuration",
    attributes: &SERVICE_PROVIDER_CONFIG_ATTRIBUTES,
};

static SERVICE_PROVIDER_CONFIG_ATTRIBUTES: [Attribute; 9] = [
    reference("documentationUri", &["external"], "A URL of the service provider's help documentation."),
    required(complex("patch", &SUPPORTED_ONLY, "PATCH configuration options.")),
    required(complex("bulk", &BULK_SUBS, "Bulk configuration options.")),
    required(complex("filter", &FILTER_SUBS, "Filter configuration options.")),
    required(complex("changePassword", &SUPPORTED_ONLY, "Password change configuration options.")),
    required(complex("sort", &SUPPORTED_ONLY, "Sort configuration options.")),
    required(complex("etag", &SUPPORTED_ONLY, "ETag configuration options.")),
    complex("pagination", &PAGINATION_SUBS, "Pagination configuration options (RFC 9865)."),
    required(multi(complex("authenticationSchemes", &AUTHENTICATION_SCHEME_SUBS, "Supported authentication schemes."))),
];

static SUPPORTED_ONLY: [Attribute; 1] = [SUPPORTED];

static PAGINATION_SUBS: [Attribute; 5] = [
    boolean("cursor", "Whether cursor-based pagination is supported."),
    boolean("index", "Whether index-based pagination is supported."),
    string("defaultPaginationMethod", "The pagination used when a request asks for none: cursor or index."),
    integer("defaultPageSize", "The page size when a request gives no count."),
    integer("maxPageSize", "The largest page size a request may ask for."),
];

static BULK_SUBS: [Attribute; 3] = [
    SUPPORTED,
    required(integer("maxOperations", "The maximum number of operations in one bulk request.")),
    required(integer("maxPayloadSize", "The maximum size of one bulk request, in bytes.")),
];

static FILTER_SUBS: [Attribute; 2] =
    [SUPPORTED, required(integer("maxResults", "The maximum number of resources one response returns."))];

static AUTHENTICATION_SCHEME_SUBS: [Attribute; 6] = [
    Attribute {
        canonical_values: &["oauth", "oauth2", "oauthbearertoken", "httpbasic", "httpdigest"],
        ..required(string("type", "The authentication scheme."))
    },
    required(string("name", "The common name of the authentication scheme.")),
    required(string("description", "A description of the authentication scheme.")),
    reference("specUri", &["external"], "A URL of the authentication scheme's specification."),
    reference("documentationUri", &["external"], "A URL of the authentication scheme's usage documentation."),
    boolean("primary", "Whether this is the preferred authentication scheme."),
];

static RESOURCE_TYPE: Schema = Schema {
    id: RESOURCE_TYPE_SCHEMA,
    name: "ResourceType",
    description: "Specifies the schema that describes a SCIM resource type",
    attributes: &RESOURCE_TYPE_ATTRIBUTES,
};

static RESOURCE_TYPE_ATTRIBUTES: [Attribute; 6] = [
    string("id", "The resource type's server unique id, the same as its name."),
    required(string("name", "The resource type name, such as \"User\".")),
    string("description", "The resource type's human-readable description."),
    required(reference("endpoint", &["uri"], "The resource type's endpoint, relative to the base URL.")),
    Attribute { case_exact: true, ..required(reference("schema", &["uri"], "The resource type's core schema URI.")) },
    multi(complex("schemaExtensions", &SCHEMA_EXTENSION_SUBS, "The resource type's schema extensions.")),
];

static SCHEMA_EXTENSION_SUBS: [Attribute; 2] = [
    Attribute { case_exact: true, ..required(reference("schema", &["uri"], "The URI of a schema extension.")) },
    required(boolean("required", "Whether resources of this type must include the extension.")),
];

static SCHEMA: Schema = Schema {
    id: SCHEMA_SCHEMA,
    name: "Schema",
    description: "Specifies the Schema attributes",
    attributes: &SCHEMA_ATTRIBUTES,
};

// §7 calls `name` and `description` optional for a schema, though §8.7.2 marks `name` required; the prose
// wins.
static SCHEMA_ATTRIBUTES: [Attribute; 4] = [
    Attribute { case_exact: true, ..required(string("id", "The unique URI of the schema.")) },
    string("name", "The schema's human-readable name."),
    string("description", "The schema's human-readable description."),
    required(multi(complex("attributes", &ATTRIBUTE_SUBS, "The schema's attributes and their characteristics."))),
];

// `subAttributes` is itself complex, although RFC 7643 §2.3.8 forbids complex sub-attributes elsewhere:
// §8.7.2 describes schemas this way, as the only way to describe one level of nesting.
static ATTRIBUTE_SUBS: [Attribute; 12] = [
    ATTRIBUTE_NAME,
    ATTRIBUTE_TYPE,
    ATTRIBUTE_MULTI_VALUED,
    ATTRIBUTE_DESCRIPTION,
    ATTRIBUTE_REQUIRED,
    ATTRIBUTE_CANONICAL_VALUES,
    ATTRIBUTE_CASE_EXACT,
    ATTRIBUTE_MUTABILITY,
    ATTRIBUTE_RETURNED,
    ATTRIBUTE_UNIQUENESS,
    ATTRIBUTE_REFERENCE_TYPES,
    multi(complex("subAttributes", &SUB_ATTRIBUTE_SUBS, "The sub-attributes of a complex attribute.")),
];

static SUB_ATTRIBUTE_SUBS: [Attribute; 11] = [
    ATTRIBUTE_NAME,
    ATTRIBUTE_TYPE,
    ATTRIBUTE_MULTI_VALUED,
    ATTRIBUTE_DESCRIPTION,
    ATTRIBUTE_REQUIRED,
    ATTRIBUTE_CANONICAL_VALUES,
    ATTRIBUTE_CASE_EXACT,
    ATTRIBUTE_MUTABILITY,
    ATTRIBUTE_RETURNED,
    ATTRIBUTE_UNIQUENESS,
    ATTRIBUTE_REFERENCE_TYPES,
];

const ATTRIBUTE_NAME: Attribute = Attribute { case_exact: true, ..required(string("name", "The attribute's name.")) };
const ATTRIBUTE_TYPE: Attribute = Attribute {
    canonical_values: &["string", "complex", "boolean", "decimal", "integer", "dateTime", "reference", "binary"],
    ..required(string("type", "The attribute's data type."))
};
const ATTRIBUTE_MULTI_VALUED: Attribute =
    required(boolean("multiValued", "Whether the attribute holds a list of values."));
const ATTRIBUTE_DESCRIPTION: Attribute = string("description", "The attribute's human-readable description.");
const ATTRIBUTE_REQUIRED: Attribute = boolean("required", "Whether the attribute is required.");
const ATTRIBUTE_CANONICAL_VALUES: Attribute =
    multi(string("canonicalValues", "Suggested values of the attribute, such as \"work\" and \"home\"."));
const ATTRIBUTE_CASE_EXACT: Attribute = boolean("caseExact", "Whether string values compare case-sensitively.");
const ATTRIBUTE_MUTABILITY: Attribute = Attribute {
    canonical_values: &["readOnly", "readWrite", "immutable", "writeOnly"],
    ..string("mutability", "Whether and how a client may change the attribute.")
};
const ATTRIBUTE_RETURNED: Attribute = Attribute {
    canonical_values: &["always", "never", "default", "request"],
    ..string("returned", "When the attribute appears in responses.")
};
const ATTRIBUTE_UNIQUENESS: Attribute = Attribute {
    canonical_values: &["none", "server", "global"],
    ..string("uniqueness", "How the service provider enforces uniqueness of values.")
};
const ATTRIBUTE_REFERENCE_TYPES: Attribute =
    multi(string("referenceTypes", "The resource types a reference attribute may refer to."));

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://scim.example.com/scim/v2";

    fn caps() -> Capabilities {
        Capabilities {
            max_results: 1000,
            bulk_max_operations: 100,
            bulk_max_payload_bytes: 1_048_576,
            documentation_uri: None,
        }
    }

    #[test]
    fn service_provider_config_follows_rfc7643_section_5() {
        let config = service_provider_config(&format!("{BASE}/"), &caps());
        assert_eq!(config["schemas"], json!([SERVICE_PROVIDER_CONFIG_SCHEMA]));
        for feature in ["patch", "changePassword", "sort", "etag", "bulk", "filter"] {
            assert_eq!(config[feature]["supported"], true, "{feature}");
        }
        assert_eq!(config["bulk"]["maxOperations"], 100);
        assert_eq!(config["bulk"]["maxPayloadSize"], 1_048_576);
        assert_eq!(config["filter"]["maxResults"], 1000);
        assert!(config.get("documentationUri").is_none());
        assert!(config.get("id").is_none(), "RFC 7643 §5: the configuration has no id");
        let schemes = config["authenticationSchemes"].as_array().expect("a list");
        assert_eq!(schemes.len(), 1);
        assert_eq!(
            schemes[0],
            json!({
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication with a bearer token generated in the scimbox admin page",
                "specUri": BEARER_TOKEN_SPEC,
                "primary": true,
            })
        );
        assert_eq!(
            config["meta"],
            json!({"resourceType": "ServiceProviderConfig", "location": format!("{BASE}/ServiceProviderConfig")})
        );
        assert_matches_schema(&config, &SERVICE_PROVIDER_CONFIG);
    }

    #[test]
    fn service_provider_config_states_switched_off_bulk_and_documentation() {
        let caps = Capabilities {
            bulk_max_operations: 0,
            documentation_uri: Some("https://docs.example.com/scimbox".into()),
            ..caps()
        };
        let config = service_provider_config(BASE, &caps);
        assert_eq!(config["bulk"]["supported"], false);
        assert_eq!(config["documentationUri"], "https://docs.example.com/scimbox");
        assert_eq!(config["authenticationSchemes"][0]["documentationUri"], "https://docs.example.com/scimbox");
        assert_matches_schema(&config, &SERVICE_PROVIDER_CONFIG);
    }

    #[test]
    fn resource_types_follow_rfc7643_section_6() {
        let types = resource_types(BASE);
        assert_eq!(types.len(), 2);
        assert_eq!(
            types[0],
            json!({
                "schemas": [RESOURCE_TYPE_SCHEMA],
                "id": "User",
                "name": "User",
                "description": "User Account",
                "endpoint": "/Users",
                "schema": schema::USER_SCHEMA,
                "schemaExtensions": [{"schema": schema::ENTERPRISE_USER_SCHEMA, "required": false}],
                "meta": {"resourceType": "ResourceType", "location": format!("{BASE}/ResourceTypes/User")},
            })
        );
        assert_eq!(types[1]["endpoint"], "/Groups");
        assert_eq!(types[1]["schema"], schema::GROUP_SCHEMA);
        assert_eq!(types[1]["schemaExtensions"], json!([]));
        assert_eq!(types[1]["meta"]["location"], format!("{BASE}/ResourceTypes/Group"));
        for document in &types {
            assert_matches_schema(document, &RESOURCE_TYPE);
            // Every schema a resource type names is served by /Schemas (scim2-tester follows them).
            assert!(schema_document(BASE, document["schema"].as_str().expect("a URN")).is_some());
            for extension in document["schemaExtensions"].as_array().expect("a list") {
                assert!(schema_document(BASE, extension["schema"].as_str().expect("a URN")).is_some());
            }
        }
        assert_eq!(resource_type(BASE, "Group").as_ref(), Some(&types[1]));
        assert_eq!(resource_type(BASE, "user").as_ref(), Some(&types[0]));
        assert_eq!(resource_type(BASE, "Users"), None);
        assert_eq!(resource_type(BASE, ""), None);
    }

    #[test]
    fn schemas_follow_rfc7643_section_7() {
        let documents = schema_documents(&format!("{BASE}//"));
        let ids: Vec<&str> = documents.iter().filter_map(|d| d["id"].as_str()).collect();
        assert_eq!(
            ids,
            [
                schema::USER_SCHEMA,
                schema::ENTERPRISE_USER_SCHEMA,
                schema::GROUP_SCHEMA,
                SERVICE_PROVIDER_CONFIG_SCHEMA,
                RESOURCE_TYPE_SCHEMA,
                SCHEMA_SCHEMA
            ]
        );
        let names: Vec<&str> = documents.iter().filter_map(|d| d["name"].as_str()).collect();
        for name in ["ServiceProviderConfig", "ResourceType", "Schema"] {
            assert!(names.contains(&name), "scim2-tester requires the {name} schema");
        }
        for document in &documents {
            let id = document["id"].as_str().expect("an id");
            assert_eq!(document["schemas"], json!([SCHEMA_SCHEMA]));
            assert_eq!(document["meta"]["resourceType"], "Schema");
            assert_eq!(document["meta"]["location"], format!("{BASE}/Schemas/{id}"));
            // The Schema schema describes itself only one level of `subAttributes` deep (§8.7.2 does the
            // same; a finite table cannot go deeper), so its own document is the one exception.
            if id != SCHEMA_SCHEMA {
                assert_matches_schema(document, &SCHEMA);
            }
            let attributes = document["attributes"].as_array().expect("attributes");
            assert!(!attributes.is_empty(), "{id}");
            for attribute in attributes {
                check_characteristics(id, attribute);
            }
            assert_eq!(schema_document(BASE, &id.to_uppercase()).as_ref(), Some(document));
        }
        assert_eq!(schema_document(BASE, "urn:ietf:params:scim:schemas:core:2.0:Nope"), None);
    }

    #[test]
    fn list_response_follows_rfc7644_section_3_4_2() {
        let list = list_response(resource_types(BASE));
        assert_eq!(list["schemas"], json!([LIST_RESPONSE_SCHEMA]));
        assert_eq!(
            (&list["totalResults"], &list["itemsPerPage"], &list["startIndex"]),
            (&json!(2), &json!(2), &json!(1))
        );
        assert_eq!(list["Resources"][1]["id"], "Group");
        assert_eq!(list_response(Vec::new())["Resources"], json!([]));
    }

    /// Checks that an attribute definition carries every characteristic RFC 7643 §7 (and scim2-models)
    /// expects, with a value from the allowed set, recursively.
    fn check_characteristics(path: &str, attribute: &Value) {
        let name = attribute["name"].as_str().unwrap_or_default();
        let path = format!("{path}:{name}");
        assert!(!name.is_empty(), "{path}: name");
        let one_of = |key: &str, allowed: &[&str]| {
            let value = attribute[key].as_str().unwrap_or_default();
            assert!(allowed.contains(&value), "{path}: {key} = {value:?}");
            value.to_owned()
        };
        let kind =
            one_of("type", &["string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary"]);
        one_of("mutability", &["readOnly", "readWrite", "immutable", "writeOnly"]);
        one_of("returned", &["always", "never", "default", "request"]);
        one_of("uniqueness", &["none", "server", "global"]);
        for flag in ["multiValued", "required"] {
            assert!(attribute[flag].is_boolean(), "{path}: {flag}");
        }
        assert!(attribute["description"].as_str().is_some_and(|d| !d.is_empty()), "{path}: description");
        if kind == "complex" {
            let subs = attribute["subAttributes"].as_array().expect("complex attributes have subAttributes");
            assert!(!subs.is_empty(), "{path}");
            for sub in subs {
                check_characteristics(&path, sub);
            }
        } else {
            assert!(attribute["caseExact"].is_boolean(), "{path}: caseExact");
            assert!(attribute.get("subAttributes").is_none(), "{path}: subAttributes");
        }
        if kind == "reference" {
            let types = attribute["referenceTypes"].as_array().expect("references have referenceTypes");
            assert!(!types.is_empty() && types.iter().all(Value::is_string), "{path}: referenceTypes");
        }
        if let Some(values) = attribute.get("canonicalValues") {
            assert!(values.as_array().is_some_and(|v| v.iter().all(Value::is_string)), "{path}: canonicalValues");
        }
    }

    /// Checks a document against a schema of ours the way a strict client would: every required attribute
    /// is present, no attribute is undeclared (apart from the common `schemas` and `meta`), and
    /// single/multi-valued and complex shapes match, recursively.
    fn assert_matches_schema(document: &Value, schema: &Schema) {
        check_object(schema.id, document, schema.attributes, true);
    }

    fn check_object(path: &str, object: &Value, attributes: &[Attribute], top: bool) {
        let object = object.as_object().unwrap_or_else(|| panic!("{path}: not an object"));
        for (key, value) in object {
            if top && (key == "schemas" || key == "meta") {
                continue;
            }
            let attribute =
                attributes.iter().find(|a| a.name == key).unwrap_or_else(|| panic!("{path}: {key} is not declared"));
            let path = format!("{path}.{key}");
            let values: Vec<&Value> = if attribute.multi_valued {
                value.as_array().unwrap_or_else(|| panic!("{path}: not a list")).iter().collect()
            } else {
                vec![value]
            };
            for value in values {
                check_value(&path, value, attribute);
            }
        }
        for attribute in attributes.iter().filter(|a| a.required) {
            assert!(object.contains_key(attribute.name), "{path}: missing required {}", attribute.name);
        }
    }

    fn check_value(path: &str, value: &Value, attribute: &Attribute) {
        let ok = match attribute.attr_type {
            AttributeType::Complex => {
                check_object(path, value, attribute.sub_attributes, false);
                true
            }
            AttributeType::Boolean => value.is_boolean(),
            AttributeType::Integer => value.is_u64() || value.is_i64(),
            AttributeType::Decimal => value.is_number(),
            AttributeType::String | AttributeType::Reference | AttributeType::DateTime | AttributeType::Binary => {
                value.is_string()
            }
        };
        assert!(ok, "{path}: {value} is not a {}", attribute.attr_type.as_str());
    }
}
