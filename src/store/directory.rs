//! The admin page's view of the directory: paged, searchable lists of users and groups and the paged
//! members of a group, for people rather than SCIM clients. Searches match the start of any word of the
//! names and e-mail addresses through the word index (`words`), so a search costs index range scans and
//! stays fast with 100,000 users; nothing here scans the attributes JSON of rows it does not show.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};
use serde_json::{Map, Value};

use super::{Store, StoreError, words};

/// A user as a list row shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub id: String,
    pub user_name: String,
    /// displayName, else name.formatted, else given and family name.
    pub name: Option<String>,
    /// The primary e-mail address, else the first.
    pub email: Option<String>,
    pub active: bool,
    pub last_modified: String,
}

/// A user deleted over SCIM, as their page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedUser {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    pub deleted_at: String,
}

/// A group as a list row shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryGroup {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: u64,
    pub last_modified: String,
}

/// A member of a group as the group's page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryMember {
    pub id: String,
    /// `User` or `Group`.
    pub kind: String,
    pub display: Option<String>,
    /// For users: their userName and whether they are active.
    pub user_name: Option<String>,
    pub active: Option<bool>,
}

/// One page of rows and the number of rows over all pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPage<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// What a list page asks for. `start` is 0-based.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryQuery {
    /// Every word of it matches the start of a word of the names or e-mail addresses (case-insensitively,
    /// see `words`), or it is exactly an id.
    pub text: Option<String>,
    /// Users only: only active (`Some(true)`) or deactivated (`Some(false)`) ones.
    pub active: Option<bool>,
    pub order: DirectoryOrder,
    pub descending: bool,
    pub start: u64,
    pub count: u32,
}

impl DirectoryQuery {
    fn text(&self) -> Option<&str> {
        self.text.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }

    fn direction(&self) -> &'static str {
        if self.descending { "DESC" } else { "ASC" }
    }
}

/// The column a list is ordered by. Ties are broken by insertion order, so pages are stable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DirectoryOrder {
    /// Users: their name as shown (displayName, else userName); groups: displayName; members: name.
    #[default]
    Name,
    /// Users and members: userName.
    UserName,
    /// Users and members: active first (or last, descending).
    Status,
    LastModified,
    /// Groups: the number of members.
    Members,
}

impl DirectoryOrder {
    /// The order named `text` in the admin API (`sort=`).
    pub fn parse(text: &str) -> Option<DirectoryOrder> {
        Some(match text {
            "name" => DirectoryOrder::Name,
            "userName" => DirectoryOrder::UserName,
            "status" => DirectoryOrder::Status,
            "lastModified" => DirectoryOrder::LastModified,
            "members" => DirectoryOrder::Members,
            _ => return None,
        })
    }
}

fn offset(start: u64) -> i64 {
    i64::try_from(start).unwrap_or(i64::MAX)
}

const USER_ROW: &str = "u.id, u.user_name, u.active, u.last_modified, u.attributes";

fn user_row(row: &Row<'_>) -> rusqlite::Result<DirectoryUser> {
    let attributes: String = row.get(4)?;
    let attributes = match serde_json::from_str(&attributes) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    Ok(DirectoryUser {
        id: row.get(0)?,
        user_name: row.get(1)?,
        active: row.get(2)?,
        last_modified: row.get(3)?,
        name: person_name(&attributes),
        email: primary_email(&attributes),
    })
}

/// The name a person reads: `displayName`, else `name.formatted`, else given and family names.
fn person_name(attributes: &Map<String, Value>) -> Option<String> {
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    }
    if let Some(display) = text(attributes.get("displayName")) {
        return Some(display.to_owned());
    }
    let name = attributes.get("name")?;
    if let Some(formatted) = text(name.get("formatted")) {
        return Some(formatted.to_owned());
    }
    let parts: Vec<&str> = [text(name.get("givenName")), text(name.get("familyName"))].into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn primary_email(attributes: &Map<String, Value>) -> Option<String> {
    let emails = attributes.get("emails")?.as_array()?;
    let primary = emails.iter().find(|e| e.get("primary").and_then(Value::as_bool) == Some(true));
    primary.or(emails.first())?.get("value")?.as_str().map(str::to_owned)
}

impl Store {
    /// A page of live users in the asked order, optionally searched and filtered by status.
    pub async fn directory_users(&self, query: DirectoryQuery) -> Result<DirectoryPage<DirectoryUser>, StoreError> {
        self.read(move |conn| {
            let (condition, mut values) = users_condition(&query);
            let total: i64 = conn
                .prepare_cached(&format!("SELECT count(*) FROM users u WHERE {condition}"))?
                .query_row(params_from_iter(values.iter()), |row| row.get(0))?;
            let direction = query.direction();
            let order = match query.order {
                DirectoryOrder::Name => format!("coalesce(u.display_name_key, u.user_name_key) {direction}"),
                DirectoryOrder::UserName | DirectoryOrder::Members => format!("u.user_name_key {direction}"),
                // Active first when ascending.
                DirectoryOrder::Status => format!("u.active {}", if query.descending { "ASC" } else { "DESC" }),
                DirectoryOrder::LastModified => format!("u.last_modified {direction}"),
            };
            values.extend([SqlValue::from(i64::from(query.count)), SqlValue::from(offset(query.start))]);
            let sql = format!(
                "SELECT {USER_ROW} FROM users u WHERE {condition} ORDER BY {order}, u.seq {direction} LIMIT ?{} OFFSET ?{}",
                values.len() - 1,
                values.len()
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let items = statement.query_map(params_from_iter(values.iter()), user_row)?.collect::<Result<_, _>>()?;
            Ok(DirectoryPage { total: u64::try_from(total).unwrap_or(0), items })
        })
        .await
    }

    /// SQLite's plan for the count of a users search (a test holds it to index searches).
    pub async fn explain_directory_users(&self, query: DirectoryQuery) -> Result<Vec<String>, StoreError> {
        self.read(move |conn| {
            let (condition, values) = users_condition(&query);
            let sql = format!("EXPLAIN QUERY PLAN SELECT count(*) FROM users u WHERE {condition}");
            let mut statement = conn.prepare(&sql)?;
            let rows = statement.query_map(params_from_iter(values.iter()), |row| row.get::<_, String>(3))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A user deleted over SCIM (a tombstone), with when that happened; `None` for a live or unknown id.
    pub async fn deleted_user(&self, id: &str) -> Result<Option<DeletedUser>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, user_name, display_name, deleted_at FROM users WHERE id = ?1 AND deleted_at IS NOT NULL",
                )?
                .query_row([id], |row| {
                    Ok(DeletedUser {
                        id: row.get(0)?,
                        user_name: row.get(1)?,
                        display_name: row.get(2)?,
                        deleted_at: row.get(3)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    /// A live user as a list row shows it (the page's user detail adds the SCIM resource and groups).
    pub async fn directory_user(&self, id: &str) -> Result<Option<DirectoryUser>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(&format!("SELECT {USER_ROW} FROM users u WHERE u.id = ?1 AND u.deleted_at IS NULL"))?
                .query_row([id], user_row)
                .optional()?)
        })
        .await
    }

    /// A page of groups in the asked order, optionally searched, each with its member count.
    pub async fn directory_groups(&self, query: DirectoryQuery) -> Result<DirectoryPage<DirectoryGroup>, StoreError> {
        self.read(move |conn| {
            let mut values: Vec<SqlValue> = Vec::new();
            let mut condition = String::from("1");
            if let Some(text) = query.text() {
                let matching = words::matching(words::Kind::Group, text, Some("groups"), &mut values);
                condition = format!("g.seq IN ({matching})");
            }
            let total: i64 = conn
                .prepare_cached(&format!("SELECT count(*) FROM groups g WHERE {condition}"))?
                .query_row(params_from_iter(values.iter()), |row| row.get(0))?;
            let direction = query.direction();
            let order = match query.order {
                DirectoryOrder::Members => format!("5 {direction}, g.display_name_key"),
                DirectoryOrder::LastModified => format!("g.last_modified {direction}"),
                _ => format!("g.display_name_key {direction}"),
            };
            values.extend([SqlValue::from(i64::from(query.count)), SqlValue::from(offset(query.start))]);
            let sql = format!(
                "SELECT g.id, g.display_name, g.external_id, g.last_modified,
                        (SELECT count(*) FROM group_members m WHERE m.group_seq = g.seq)
                 FROM groups g WHERE {condition} ORDER BY {order}, g.seq LIMIT ?{} OFFSET ?{}",
                values.len() - 1,
                values.len()
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let items = statement.query_map(params_from_iter(values.iter()), group_row)?.collect::<Result<_, _>>()?;
            Ok(DirectoryPage { total: u64::try_from(total).unwrap_or(0), items })
        })
        .await
    }

    /// A group with one page of its members, searched (users by their words, groups by theirs) and in
    /// the asked order (by name, userName or status).
    pub async fn directory_group(
        &self,
        id: &str,
        members: DirectoryQuery,
    ) -> Result<Option<(DirectoryGroup, DirectoryPage<DirectoryMember>)>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let Some((seq, group)) = conn
                .prepare_cached(
                    "SELECT g.id, g.display_name, g.external_id, g.last_modified,
                            (SELECT count(*) FROM group_members m WHERE m.group_seq = g.seq), g.seq
                     FROM groups g WHERE g.id = ?1",
                )?
                .query_row([&id], |row| Ok((row.get::<_, i64>(5)?, group_row(row)?)))
                .optional()?
            else {
                return Ok(None);
            };
            let page = members_page(conn, seq, &members)?;
            Ok(Some((group, page)))
        })
        .await
    }
}

fn group_row(row: &Row<'_>) -> rusqlite::Result<DirectoryGroup> {
    Ok(DirectoryGroup {
        id: row.get(0)?,
        display_name: row.get(1)?,
        external_id: row.get(2)?,
        last_modified: row.get(3)?,
        members: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
    })
}

/// The condition (over `users u`) and parameters of a users search.
fn users_condition(query: &DirectoryQuery) -> (String, Vec<SqlValue>) {
    let mut values: Vec<SqlValue> = Vec::new();
    let mut condition = String::from("u.deleted_at IS NULL");
    if let Some(text) = query.text() {
        let matching = words::matching(words::Kind::User, text, Some("users"), &mut values);
        condition.push_str(&format!(" AND u.seq IN ({matching})"));
    }
    if let Some(active) = query.active {
        values.push(SqlValue::from(active));
        condition.push_str(&format!(" AND u.active = ?{}", values.len()));
    }
    (condition, values)
}

const MEMBER_FROM: &str = "group_members m
         LEFT JOIN users u ON m.member_type = 'User' AND u.id = m.member_id AND u.deleted_at IS NULL
         LEFT JOIN groups g ON m.member_type = 'Group' AND g.id = m.member_id";

fn members_page(
    conn: &Connection,
    seq: i64,
    query: &DirectoryQuery,
) -> Result<DirectoryPage<DirectoryMember>, StoreError> {
    let mut values: Vec<SqlValue> = vec![SqlValue::Integer(seq)];
    let mut condition = String::from("m.group_seq = ?1");
    if let Some(text) = query.text() {
        let users = words::matching(words::Kind::User, text, None, &mut values);
        let groups = words::matching(words::Kind::Group, text, None, &mut values);
        values.push(SqlValue::Text(text.to_owned()));
        condition
            .push_str(&format!(" AND (u.seq IN ({users}) OR g.seq IN ({groups}) OR m.member_id = ?{})", values.len()));
    }
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM {MEMBER_FROM} WHERE {condition}"))?
        .query_row(params_from_iter(values.iter()), |row| row.get(0))?;
    let direction = query.direction();
    let order = match query.order {
        DirectoryOrder::UserName => format!("u.user_name_key IS NULL, u.user_name_key {direction}"),
        DirectoryOrder::Status => format!("u.active {}", if query.descending { "ASC" } else { "DESC" }),
        _ => format!("coalesce(u.display_name_key, u.user_name_key, g.display_name_key, m.display) {direction}"),
    };
    values.extend([SqlValue::from(i64::from(query.count)), SqlValue::from(offset(query.start))]);
    let mut statement = conn.prepare_cached(&format!(
        "SELECT m.member_id, m.member_type, coalesce(g.display_name, m.display), u.user_name, u.active, u.attributes
         FROM {MEMBER_FROM} WHERE {condition}
         ORDER BY {order}, m.member_id LIMIT ?{} OFFSET ?{}",
        values.len() - 1,
        values.len()
    ))?;
    let rows = statement.query_map(params_from_iter(values.iter()), |row| {
        // A user is shown by their own name, as on the Users page: the member's `display` an identity
        // provider sends is often only the e-mail address (Okta's is).
        let attributes: Option<String> = row.get(5)?;
        let own_name = attributes
            .and_then(|text| serde_json::from_str::<Map<String, Value>>(&text).ok())
            .and_then(|attributes| person_name(&attributes));
        let user_name: Option<String> = row.get(3)?;
        let display: Option<String> = row.get(2)?;
        Ok(DirectoryMember {
            id: row.get(0)?,
            kind: row.get(1)?,
            display: own_name.or_else(|| user_name.clone()).or(display),
            user_name,
            active: row.get(4)?,
        })
    })?;
    let items = rows.collect::<Result<Vec<_>, _>>()?;
    Ok(DirectoryPage { total: u64::try_from(total).unwrap_or(0), items })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_name(attributes: Value, expected: Option<&str>) {
        let map = attributes.as_object().cloned().unwrap_or_default();
        assert_eq!(person_name(&map).as_deref(), expected, "{attributes}");
    }

    #[test]
    fn names_people_read() {
        check_name(json!({"displayName": "Babs Jensen", "name": {"formatted": "x"}}), Some("Babs Jensen"));
        check_name(json!({"name": {"formatted": "Ms. Barbara J Jensen"}}), Some("Ms. Barbara J Jensen"));
        check_name(json!({"name": {"givenName": "Barbara", "familyName": "Jensen"}}), Some("Barbara Jensen"));
        check_name(json!({"name": {"familyName": "Jensen"}}), Some("Jensen"));
        check_name(json!({"displayName": "  "}), None);
        check_name(json!({}), None);
    }

    #[test]
    fn primary_email_first() {
        let map = |v: Value| v.as_object().cloned().unwrap();
        let two = json!({"emails": [{"value": "a@x"}, {"value": "b@x", "primary": true}]});
        assert_eq!(primary_email(&map(two)).as_deref(), Some("b@x"));
        assert_eq!(primary_email(&map(json!({"emails": [{"value": "a@x"}]}))).as_deref(), Some("a@x"));
        assert_eq!(primary_email(&map(json!({"emails": []}))), None);
    }
}
