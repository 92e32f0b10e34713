//! The Group resource (RFC 7643 §4.2): what the store keeps of a group and how a stored one reads.
//!
//! Members are not part of the group's JSON in the store: they are rows, so that changing one member of
//! a 100,000-member group costs the same as for a 10-member group. They are rendered here from the rows,
//! straight into bytes, so that a large group's response is built once.

use std::io::Write;

use serde_json::{Map, Value, json};

pub use super::resource::{Member, MemberKind};

use super::Error;
use super::resource::normalize;
use super::schema::ResourceKind;

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// The member type named `text` (as stored), in any case.
pub fn member_kind(text: &str) -> Option<MemberKind> {
    if text.eq_ignore_ascii_case("User") {
        Some(MemberKind::User)
    } else if text.eq_ignore_ascii_case("Group") {
        Some(MemberKind::Group)
    } else {
        None
    }
}

/// A group as a client wants it written (members apart).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDraft {
    pub display_name: String,
    pub external_id: Option<String>,
    /// The attributes to keep, canonical names, without `id`, `meta` and `members`.
    pub attributes: Map<String, Value>,
}

/// A group as stored (members apart).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGroup {
    pub id: String,
    pub attributes: Map<String, Value>,
    pub created: String,
    pub last_modified: String,
    pub version: i64,
}

impl StoredGroup {
    /// The `meta.version` and `ETag` value.
    pub fn etag(&self) -> String {
        super::schema::weak_etag(self.version)
    }
}

/// A member as the store knows it: its id, kind, and a display name read from the member itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub id: String,
    pub kind: MemberKind,
    pub display: Option<String>,
}

/// The group's JSON without members: `schemas`, `id`, the kept attributes and `meta`.
pub fn render(group: &StoredGroup, base_url: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([GROUP_SCHEMA]));
    out.insert("id".into(), Value::from(group.id.clone()));
    for (name, value) in &group.attributes {
        if name != "schemas" {
            out.insert(name.clone(), value.clone());
        }
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": group.created,
            "lastModified": group.last_modified,
            "location": ResourceKind::Group.location(base_url, &group.id),
            "version": group.etag(),
        }),
    );
    Value::Object(out)
}

/// One member's JSON, keeping only the sub-attributes `keep` allows.
pub fn render_member(member: &MemberView, base_url: &str, keep: &dyn Fn(&str) -> bool) -> Value {
    let mut out = Map::new();
    if keep("value") {
        out.insert("value".into(), Value::from(member.id.clone()));
    }
    if keep("$ref") {
        out.insert("$ref".into(), Value::from(member.kind.resource_kind().location(base_url, &member.id)));
    }
    if keep("type") {
        out.insert("type".into(), Value::from(member.kind.as_str()));
    }
    if let Some(display) = member.display.as_ref().filter(|_| keep("display")) {
        out.insert("display".into(), Value::from(display.clone()));
    }
    Value::Object(out)
}

/// Appends the members as the JSON array elements `{…},{…}` (no brackets) to `out`.
pub fn write_members<'a>(
    out: &mut Vec<u8>,
    members: impl IntoIterator<Item = &'a MemberView>,
    base_url: &str,
    keep: &dyn Fn(&str) -> bool,
) {
    for (i, member) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &render_member(member, base_url, keep));
    }
    let _ = out.flush();
}

/// Reads a group from a POST or PUT body (or a PATCH result): its attributes, and its members when the
/// body mentions them (`None` when it does not, `Some(vec![])` for `null` or `[]`).
pub fn draft(body: &Value) -> Result<(GroupDraft, Option<Vec<Member>>), Error> {
    let normalized = normalize(ResourceKind::Group, body)?;
    let text = |name: &str| normalized.attributes.get(name).and_then(Value::as_str).map(str::to_owned);
    let display_name =
        text("displayName").ok_or_else(|| Error::invalid_value("displayName is required and must not be empty"))?;
    let draft = GroupDraft { display_name, external_id: text("externalId"), attributes: normalized.attributes };
    Ok((draft, normalized.members))
}

/// A group a user belongs to, directly or through nested groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGroup {
    pub id: String,
    pub display: String,
    pub direct: bool,
}

/// The User's read-only `groups` attribute (RFC 7643 §4.1.2): `type` is `direct` or `indirect`.
pub fn render_user_groups(groups: &[UserGroup], base_url: &str) -> Value {
    Value::Array(
        groups
            .iter()
            .map(|group| {
                json!({
                    "value": group.id,
                    "$ref": ResourceKind::Group.location(base_url, &group.id),
                    "display": group.display,
                    "type": if group.direct { "direct" } else { "indirect" },
                })
            })
            .collect(),
    )
}
