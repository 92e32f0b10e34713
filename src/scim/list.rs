//! List requests (RFC 7644 §3.4.2, §3.4.3) and cursor pagination (RFC 9865): reading `filter`,
//! `startIndex`, `count`, `sortBy`, `sortOrder`, `cursor`, `attributes` and `excludedAttributes` from a
//! query string or a `/.search` body into one [`ListQuery`], and writing the `ListResponse`.
//!
//! Index pagination is 1-based; a `startIndex` below 1 counts as 1 and a negative `count` as 0 (RFC 7644
//! §3.4.2.4). `count` is capped at the configured maximum. Cursor pagination starts with an empty
//! `cursor` and follows `nextCursor`; a cursor is opaque to clients (it encodes the position after the
//! last resource of the previous page) and a malformed one is `invalidCursor`.

use std::io::Write as _;

use serde_json::{Map, Value, json};

use super::Error;
use super::filter::{AttrPath, Filter};
use super::schema::{ResourceKind, resolve};

/// The schema URI of a list response.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The schema URI of a `POST /.search` body.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// A parsed list request, ready for the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The resolved filter, if any.
    pub filter: Option<Filter>,
    pub sort: Option<Sort>,
    pub page: Page,
    /// The raw `attributes` parameter (projection is parsed by the handler).
    pub attributes: Option<String>,
    /// The raw `excludedAttributes` parameter.
    pub excluded_attributes: Option<String>,
}

/// `sortBy` and `sortOrder`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// The resolved, canonical attribute path.
    pub path: AttrPath,
    pub descending: bool,
}

/// Which slice of the results a request wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `startIndex` (1-based) and `count`.
    Index { start_index: u64, count: u64 },
    /// RFC 9865: the position after which to continue (`None` for the first page) and `count`.
    Cursor { after: Option<Cursor>, count: u64 },
}

impl Page {
    pub fn count(&self) -> u64 {
        match self {
            Page::Index { count, .. } | Page::Cursor { count, .. } => *count,
        }
    }
}

/// The position in the store's stable order after which a cursor page continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    /// The opaque text handed to clients.
    pub fn encode(self) -> String {
        format!("c{:x}", self.0)
    }

    pub fn decode(text: &str) -> Result<Cursor, Error> {
        text.strip_prefix('c')
            .filter(|hex| !hex.is_empty() && hex.len() <= 16)
            .and_then(|hex| i64::from_str_radix(hex, 16).ok())
            .filter(|seq| *seq >= 0)
            .map(Cursor)
            .ok_or_else(|| {
                Error::invalid_cursor(
                    "the cursor is not one this server handed out: use an empty cursor for the first page, \
                     then the nextCursor of the previous page",
                )
            })
    }
}

/// The parameters as they arrive, from a query string or a search body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub filter: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub cursor: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl Params {
    /// Reads the parameters of a decoded query string; names are matched case-insensitively (clients
    /// write `startindex` and `Count`).
    pub fn from_query<N: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (N, V)>) -> Params {
        let mut params = Params::default();
        for (name, value) in pairs {
            if let Some(slot) = params.slot(name.as_ref()) {
                *slot = Some(value.into());
            }
        }
        params
    }

    /// The field a parameter name sets (names match case-insensitively; unknown ones set nothing).
    fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        [
            ("filter", &mut self.filter),
            ("startIndex", &mut self.start_index),
            ("count", &mut self.count),
            ("sortBy", &mut self.sort_by),
            ("sortOrder", &mut self.sort_order),
            ("cursor", &mut self.cursor),
            ("attributes", &mut self.attributes),
            ("excludedAttributes", &mut self.excluded_attributes),
        ]
        .into_iter()
        .find(|(known, _)| name.eq_ignore_ascii_case(known))
        .map(|(_, slot)| slot)
    }

    /// Reads a `POST /.search` body (RFC 7644 §3.4.3): the same parameters as JSON, with `attributes` and
    /// `excludedAttributes` as arrays of strings (a comma-separated string is tolerated).
    pub fn from_search_body(body: &Value) -> Result<Params, Error> {
        let object =
            body.as_object().ok_or_else(|| Error::invalid_syntax("the search request must be a JSON object"))?;
        let mut params = Params::default();
        for (name, value) in object {
            let text = |value: &Value| -> Result<Option<String>, Error> {
                match value {
                    Value::Null => Ok(None),
                    Value::String(text) => Ok(Some(text.clone())),
                    Value::Number(number) => Ok(Some(number.to_string())),
                    Value::Array(items) => {
                        let parts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                        parts.map(|parts| Some(parts.join(","))).ok_or_else(|| {
                            Error::invalid_value(format!("{name} must be a string or an array of strings"))
                        })
                    }
                    _ => Err(Error::invalid_value(format!("{name} has a value of the wrong type"))),
                }
            };
            let value = text(value)?;
            if let Some(slot) = params.slot(name) {
                *slot = value;
            }
        }
        Ok(params)
    }

    /// Validates the parameters for `kind` with `max_results` as the largest page.
    pub fn into_query(self, kind: ResourceKind, max_results: u64) -> Result<ListQuery, Error> {
        let filter = match self.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Filter::parse_for(text, kind)?),
        };
        let count = match self.count.as_deref().map(str::trim) {
            // Without `count` the page is as large as the server allows (RFC 7644 §3.4.2.4).
            None | Some("") => max_results,
            Some(text) => {
                let count = text
                    .parse::<i64>()
                    .map_err(|_| Error::invalid_value(format!("count must be an integer, not {text:?}")))?;
                u64::try_from(count).unwrap_or(0).min(max_results)
            }
        };
        let sort = match self.sort_by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let resolved = resolve(kind, text).ok_or_else(|| {
                    Error::invalid_value(format!("sortBy names no attribute of {}: {text:?}", kind.as_str()))
                })?;
                let path = AttrPath {
                    uri: resolved.uri().map(str::to_owned),
                    attr: resolved.attribute.name.to_owned(),
                    sub_attr: resolved.sub_attribute.map(|sub| sub.name.to_owned()),
                };
                let descending = match self.sort_order.as_deref().map(str::trim) {
                    None | Some("") => false,
                    Some(order) if order.eq_ignore_ascii_case("ascending") => false,
                    Some(order) if order.eq_ignore_ascii_case("descending") => true,
                    Some(order) => {
                        return Err(Error::invalid_value(format!(
                            "sortOrder must be \"ascending\" or \"descending\", not {order:?}"
                        )));
                    }
                };
                Some(Sort { path, descending })
            }
        };
        let page = match self.cursor {
            Some(cursor) => {
                if self.start_index.as_deref().is_some_and(|s| !s.trim().is_empty()) {
                    return Err(Error::invalid_value(
                        "startIndex and cursor cannot be combined: use one kind of pagination",
                    ));
                }
                if sort.is_some() {
                    return Err(Error::invalid_value(
                        "cursor pagination follows the server's stable order; sortBy needs index pagination",
                    ));
                }
                let cursor = cursor.trim();
                let after = if cursor.is_empty() { None } else { Some(Cursor::decode(cursor)?) };
                Page::Cursor { after, count }
            }
            None => {
                let start_index = match self.start_index.as_deref().map(str::trim) {
                    None | Some("") => 1,
                    Some(text) => {
                        let start = text.parse::<i64>().map_err(|_| {
                            Error::invalid_value(format!("startIndex must be an integer, not {text:?}"))
                        })?;
                        u64::try_from(start).unwrap_or(1).max(1)
                    }
                };
                Page::Index { start_index, count }
            }
        };
        Ok(ListQuery { filter, sort, page, attributes: self.attributes, excluded_attributes: self.excluded_attributes })
    }
}

/// One page of results as the store found them.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<T> {
    pub total: u64,
    pub items: Vec<T>,
    /// Where the next cursor page starts, when the request used cursor pagination and more remain.
    pub next: Option<Cursor>,
}

/// The `ListResponse` body (RFC 7644 §3.4.2) around already rendered resources.
pub fn list_response(page: &Page, total: u64, resources: Vec<Value>, next: Option<Cursor>) -> Value {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([LIST_RESPONSE_SCHEMA]));
    body.insert("totalResults".into(), json!(total));
    body.insert("itemsPerPage".into(), json!(resources.len()));
    match page {
        Page::Index { start_index, .. } => {
            body.insert("startIndex".into(), json!(start_index));
        }
        Page::Cursor { .. } => {
            if let Some(next) = next {
                body.insert("nextCursor".into(), json!(next.encode()));
            }
        }
    }
    body.insert("Resources".into(), Value::Array(resources));
    Value::Object(body)
}

/// An identity provider's "is this person here?" request: `GET /Users?filter=userName eq "…"` with the
/// default projection, sort and first page (Okta sends `startIndex=1&count=100` beside it; Entra ID sends
/// the filter alone). [`NameLookup::from_pairs`] recognises only that exact shape and answers what
/// [`Params::into_query`] would make of it, so that the handler can answer it from the unique index of user
/// names without the general filter grammar, plan and SQL text. Anything else, however close (another
/// attribute, an escape in the string, a second page, a projection, a repeated parameter, a value the
/// general path refuses), is left to the general path, which answers it or explains what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameLookup {
    /// The `userName` asked for, exactly as in the filter's string.
    pub user_name: String,
    /// The page asked for: always the first, with a `count` of at least 1.
    pub page: Page,
}

impl NameLookup {
    /// The lookup the decoded query string `pairs` asks for, if it has exactly that shape.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (N, V)>,
        max_results: u64,
    ) -> Option<NameLookup> {
        let (mut filter, mut start_index, mut count) = (None, None, None);
        let mut params = Params::default();
        for (name, value) in pairs {
            let name = name.as_ref();
            let slot = if name.eq_ignore_ascii_case("filter") {
                &mut filter
            } else if name.eq_ignore_ascii_case("startIndex") {
                &mut start_index
            } else if name.eq_ignore_ascii_case("count") {
                &mut count
            } else if params.slot(name).is_some() {
                // sortBy, sortOrder, cursor, attributes, excludedAttributes: the general path's.
                return None;
            } else {
                // Parameters SCIM does not define are ignored, as the general path ignores them.
                continue;
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(value);
        }
        let user_name = user_name_eq(filter?.as_ref().trim())?.to_owned();
        let start_index = match start_index.as_ref().map(|v| v.as_ref().trim()) {
            None | Some("") => 1,
            Some(text) => u64::try_from(text.parse::<i64>().ok()?).unwrap_or(1).max(1),
        };
        let count = match count.as_ref().map(|v| v.as_ref().trim()) {
            None | Some("") => max_results,
            Some(text) => u64::try_from(text.parse::<i64>().ok()?).unwrap_or(0).min(max_results),
        };
        (start_index == 1 && count > 0).then_some(NameLookup { user_name, page: Page::Index { start_index, count } })
    }
}

/// The string of a filter that is exactly `userName eq "…"` (the attribute name and the operator in any
/// case, single spaces), when the string holds no escape and no control character (then its text is its
/// value, as the filter grammar reads it) and the filter is within the grammar's length bound.
fn user_name_eq(filter: &str) -> Option<&str> {
    if filter.len() > super::filter::MAX_FILTER_LEN {
        return None;
    }
    let (attribute, rest) = filter.split_at_checked(8)?;
    let (operator, rest) = rest.split_at_checked(4)?;
    if !attribute.eq_ignore_ascii_case("userName") || !operator.eq_ignore_ascii_case(" eq ") {
        return None;
    }
    let value = rest.strip_prefix('"')?.strip_suffix('"')?;
    value.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\').then_some(value)
}

/// Writes the bytes [`list_response`] serialises to, with each resource written into the buffer by the
/// caller: a page of resources that are already JSON text is answered without a JSON tree.
#[derive(Debug)]
pub struct ListWriter {
    out: Vec<u8>,
    written: usize,
}

impl ListWriter {
    /// Starts a ListResponse for `items` resources (`itemsPerPage`) of `total`.
    pub fn new(page: &Page, total: u64, items: usize, next: Option<Cursor>) -> ListWriter {
        let mut out = Vec::with_capacity(160 + items * 1024);
        out.extend_from_slice(b"{\"schemas\":[\"");
        out.extend_from_slice(LIST_RESPONSE_SCHEMA.as_bytes());
        // Writing into a Vec cannot fail.
        let _ = write!(out, "\"],\"totalResults\":{total},\"itemsPerPage\":{items}");
        match page {
            Page::Index { start_index, .. } => {
                let _ = write!(out, ",\"startIndex\":{start_index}");
            }
            Page::Cursor { .. } => {
                if let Some(next) = next {
                    out.extend_from_slice(b",\"nextCursor\":");
                    // A cursor is `c` and hex digits: nothing in it needs escaping.
                    out.push(b'"');
                    out.extend_from_slice(next.encode().as_bytes());
                    out.push(b'"');
                }
            }
        }
        out.extend_from_slice(b",\"Resources\":[");
        ListWriter { out, written: 0 }
    }

    /// The buffer to append the next resource's JSON to.
    pub fn resource(&mut self) -> &mut Vec<u8> {
        if self.written > 0 {
            self.out.push(b',');
        }
        self.written += 1;
        &mut self.out
    }

    /// The finished body.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(b"]}");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::{CompValue, CompareOp};

    fn query(pairs: &[(&str, &str)]) -> Result<ListQuery, Error> {
        Params::from_query(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .into_query(ResourceKind::User, 1000)
    }

    fn check_page(pairs: &[(&str, &str)], expected: Page) {
        assert_eq!(query(pairs).unwrap().page, expected, "{pairs:?}");
    }

    fn check_error(pairs: &[(&str, &str)], scim_type: &str) {
        let error = query(pairs).unwrap_err();
        assert_eq!(error.kind.scim_type(), Some(scim_type), "{pairs:?}: {error}");
    }

    #[test]
    fn index_pagination() {
        check_page(&[], Page::Index { start_index: 1, count: 1000 });
        check_page(&[("startIndex", "1"), ("count", "2")], Page::Index { start_index: 1, count: 2 });
        check_page(&[("startindex", "101"), ("Count", "100")], Page::Index { start_index: 101, count: 100 });
        check_page(&[("startIndex", "0"), ("count", "-5")], Page::Index { start_index: 1, count: 0 });
        check_page(&[("startIndex", "-3")], Page::Index { start_index: 1, count: 1000 });
        check_page(&[("count", "0")], Page::Index { start_index: 1, count: 0 });
        check_page(&[("count", "5000")], Page::Index { start_index: 1, count: 1000 });
        check_page(&[("count", " 7 ")], Page::Index { start_index: 1, count: 7 });
        check_error(&[("count", "ten")], "invalidValue");
        check_error(&[("startIndex", "1.5")], "invalidValue");
    }

    #[test]
    fn cursor_pagination() {
        check_page(&[("cursor", ""), ("count", "10")], Page::Cursor { after: None, count: 10 });
        check_page(&[("cursor", "c1f")], Page::Cursor { after: Some(Cursor(31)), count: 1000 });
        check_error(&[("cursor", "zzz")], "invalidCursor");
        check_error(&[("cursor", "c")], "invalidCursor");
        check_error(&[("cursor", "c-1")], "invalidCursor");
        check_error(&[("cursor", ""), ("startIndex", "1")], "invalidValue");
        check_error(&[("cursor", ""), ("sortBy", "userName")], "invalidValue");
        assert_eq!(Cursor::decode(&Cursor(123456).encode()), Ok(Cursor(123456)));
    }

    #[test]
    fn sorting_and_filters() {
        let sorted = query(&[("sortBy", "USERNAME"), ("sortOrder", "Descending")]).unwrap();
        assert_eq!(sorted.sort, Some(Sort { path: AttrPath::new("userName"), descending: true }));
        let sorted = query(&[("sortBy", "name.familyName")]).unwrap();
        assert_eq!(sorted.sort, Some(Sort { path: AttrPath::new("name").with_sub("familyName"), descending: false }));
        check_error(&[("sortBy", "noSuchThing")], "invalidValue");
        check_error(&[("sortBy", "userName"), ("sortOrder", "up")], "invalidValue");
        assert!(query(&[("filter", "userName eq \"bjensen\"")]).unwrap().filter.is_some());
        assert!(query(&[("filter", "  ")]).unwrap().filter.is_none());
        check_error(&[("filter", "userName eq")], "invalidFilter");
    }

    #[test]
    fn search_bodies() {
        let body = json!({
            "schemas": [SEARCH_REQUEST_SCHEMA],
            "attributes": ["displayName", "userName"],
            "filter": "displayName sw \"smith\"",
            "startIndex": 1,
            "count": 10
        });
        let params = Params::from_search_body(&body).unwrap();
        assert_eq!(params.attributes.as_deref(), Some("displayName,userName"));
        assert_eq!(params.count.as_deref(), Some("10"));
        let query = params.into_query(ResourceKind::User, 1000).unwrap();
        assert_eq!(query.page, Page::Index { start_index: 1, count: 10 });
        assert!(Params::from_search_body(&json!([1])).is_err());
        assert!(Params::from_search_body(&json!({"attributes": [1]})).is_err());
    }

    #[test]
    fn list_responses() {
        let body = list_response(&Page::Index { start_index: 1, count: 2 }, 0, vec![], None);
        assert_eq!(
            body,
            json!({"schemas": [LIST_RESPONSE_SCHEMA], "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []})
        );
        let body = list_response(&Page::Cursor { after: None, count: 1 }, 3, vec![json!({"id": "a"})], Some(Cursor(9)));
        assert_eq!(body["nextCursor"], "c9");
        assert!(body.get("startIndex").is_none());
    }

    #[test]
    fn the_list_writer_writes_what_list_response_serialises_to() {
        let resources = [json!({"id": "a", "userName": "\u{e9}\"q"}), json!({"id": "b"})];
        let cases = [
            (Page::Index { start_index: 1, count: 2 }, 0, 0, None),
            (Page::Index { start_index: 7, count: 2 }, 12, 2, None),
            (Page::Cursor { after: None, count: 2 }, 3, 2, Some(Cursor(0x2a))),
            (Page::Cursor { after: Some(Cursor(5)), count: 2 }, 3, 1, None),
        ];
        for (page, total, items, next) in cases {
            let expected = serde_json::to_vec(&list_response(&page, total, resources[..items].to_vec(), next)).unwrap();
            let mut writer = ListWriter::new(&page, total, items, next);
            for resource in &resources[..items] {
                serde_json::to_writer(writer.resource(), resource).unwrap();
            }
            assert_eq!(String::from_utf8(writer.finish()).unwrap(), String::from_utf8(expected).unwrap(), "{page:?}");
        }
    }

    /// What the general path makes of `pairs`, when it is the shape a `NameLookup` stands for.
    fn general_lookup(pairs: &[(String, String)], max_results: u64) -> Option<NameLookup> {
        let query = Params::from_query(pairs.iter().cloned()).into_query(ResourceKind::User, max_results).ok()?;
        let Some(Filter::Compare { path, op: CompareOp::Eq, value: CompValue::Str(user_name) }) = &query.filter else {
            return None;
        };
        let by_name = path.uri.is_none() && path.attr == "userName" && path.sub_attr.is_none();
        let plain = query.sort.is_none() && query.attributes.is_none() && query.excluded_attributes.is_none();
        let first = matches!(query.page, Page::Index { start_index: 1, count } if count > 0);
        (by_name && plain && first).then(|| NameLookup { user_name: user_name.clone(), page: query.page })
    }

    fn lookup(pairs: &[(&str, &str)]) -> Option<NameLookup> {
        NameLookup::from_pairs(pairs.iter().copied(), 100)
    }

    #[test]
    fn name_lookups_of_identity_providers_are_recognised() {
        let okta = [("filter", r#"userName eq "priya@corp.example""#), ("startIndex", "1"), ("count", "100")];
        let expected =
            NameLookup { user_name: "priya@corp.example".into(), page: Page::Index { start_index: 1, count: 100 } };
        assert_eq!(lookup(&okta), Some(expected.clone()));
        // Entra ID sends the filter alone: the page is as large as the server allows.
        assert_eq!(lookup(&[("filter", r#"userName eq "priya@corp.example""#)]), Some(expected.clone()));
        assert_eq!(lookup(&[("Filter", r#" USERNAME EQ "priya@corp.example" "#), ("count", "5000")]), Some(expected));
        // Close to it but not it: the general path answers.
        for pairs in [
            &[("filter", r#"userName  eq "a""#)][..],
            &[("filter", r#"userName eq "a\"b""#)],
            &[("filter", r#"userName eq "a" and active eq true"#)],
            &[("filter", r#"externalId eq "a""#)],
            &[("filter", r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a""#)],
            &[("filter", r#"userName eq "a""#), ("startIndex", "2")],
            &[("filter", r#"userName eq "a""#), ("count", "0")],
            &[("filter", r#"userName eq "a""#), ("count", "ten")],
            &[("filter", r#"userName eq "a""#), ("attributes", "id")],
            &[("filter", r#"userName eq "a""#), ("filter", r#"userName eq "b""#)],
            &[("filter", "userName eq \"a\u{7}\"")],
            &[],
        ] {
            assert_eq!(lookup(pairs), None, "{pairs:?}");
        }
    }

    /// Names of parameters as clients spell them, and one the server ignores.
    const NAMES: &[&str] =
        &["filter", "startIndex", "startindex", "count", "Count", "count", "sortBy", "cursor", "attributes", "x"];
    /// Pieces of filters: the lookup shape beside its near misses.
    const ATTRIBUTES: &[&str] = &["userName", "USERNAME", "username", "userNam", "externalId", "name.givenName"];
    const OPERATORS: &[&str] = &[" eq ", " EQ ", " Eq ", "  eq ", " ne ", " sw ", "eq", " eq"];
    const STRING_PARTS: &[&str] =
        &["a", "Priya@corp.example", " ", "\\", "\"", "\\u0041", "\u{1}", "\u{7f}", "é", "ß", "İ", "", "\t"];
    const NUMBERS: &[&str] = &["", "1", " 1 ", "0", "-3", "2", "100", "x", "1.0", "99999999999999999999"];

    /// A filter parameter: mostly the lookup shape, often a near miss of it.
    fn filter_param() -> impl proptest::strategy::Strategy<Value = (String, String)> {
        use proptest::prelude::*;
        (
            proptest::sample::select(&["filter", "Filter", "FILTER"][..]),
            prop_oneof![3 => Just("userName"), 1 => proptest::sample::select(ATTRIBUTES)],
            prop_oneof![3 => Just(" eq "), 1 => proptest::sample::select(OPERATORS)],
            proptest::collection::vec(
                prop_oneof![4 => Just("Priya@corp.example"), 1 => proptest::sample::select(STRING_PARTS)],
                0..4,
            ),
            prop_oneof![4 => Just(true), 1 => Just(false)],
            any::<bool>(),
        )
            .prop_map(|(name, attribute, operator, parts, quoted, padded)| {
                let text = parts.concat();
                let literal = if quoted { format!("\"{text}\"") } else { text };
                let filter = format!("{attribute}{operator}{literal}");
                (name.to_owned(), if padded { format!(" {filter} ") } else { filter })
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]
        // A recognised lookup is exactly what the general path reads from the same parameters: the same
        // user name and the same page. (The converse is not asked: the fast path may leave any request to
        // the general one.)
        #[test]
        fn a_name_lookup_reads_as_the_general_path_does(
            filter in filter_param(),
            others in proptest::collection::vec(
                (proptest::sample::select(NAMES), proptest::sample::select(NUMBERS)),
                0..3,
            ),
            second_filter in proptest::option::weighted(0.1, filter_param()),
            position in 0usize..3,
            max_results in 0u64..4,
        ) {
            let mut pairs: Vec<(String, String)> = others.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
            pairs.insert(position.min(pairs.len()), filter);
            pairs.extend(second_filter);
            let fast = NameLookup::from_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())), max_results);
            if let Some(fast) = fast {
                proptest::prop_assert_eq!(Some(fast), general_lookup(&pairs, max_results), "{:?}", pairs);
            }
        }
    }
}
