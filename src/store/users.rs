//! Users: their rows, e-mail keys and tombstones.

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::query::{Sql, plan, sort_column};
use super::{Store, StoreError, format_time, now};
use crate::scim::filter::{Filter, matches};
use crate::scim::list::{Cursor, Found, ListQuery, Page, Sort};
use crate::scim::schema::ResourceKind;
use crate::scim::user::{StoredUser, UserDraft, render};

/// The columns `stored_user` reads, in its order.
const USER_COLUMNS: &str = "seq, id, attributes, created_at, last_modified, version";

/// A user row as read: its position in the stable order and the resource.
fn stored_user(row: &Row<'_>) -> rusqlite::Result<(i64, Result<StoredUser, StoreError>)> {
    let seq: i64 = row.get(0)?;
    let id: String = row.get(1)?;
    let attributes: String = row.get(2)?;
    let user = match serde_json::from_str(&attributes) {
        Ok(serde_json::Value::Object(attributes)) => {
            Ok(StoredUser { id, attributes, created: row.get(3)?, last_modified: row.get(4)?, version: row.get(5)? })
        }
        _ => Err(StoreError::Internal(format!("user {id} has unreadable attributes"))),
    };
    Ok((seq, user))
}

impl Store {
    /// Creates a user; `userName` and e-mail addresses must be unused among live users (case-insensitively).
    pub async fn create_user(&self, draft: UserDraft, password_hash: Option<String>) -> Result<StoredUser, StoreError> {
        self.write(move |conn| {
            let user_name_key = crate::scim::user::fold(&draft.user_name);
            ensure_unique(conn, &draft, None)?;
            let id = uuid::Uuid::now_v7().to_string();
            let at = format_time(now());
            let attributes = serde_json::Value::Object(draft.attributes.clone()).to_string();
            conn.prepare_cached(
                "INSERT INTO users (id, user_name, user_name_key, external_id, display_name, display_name_key,
                                    active, created_at, last_modified, version, password_hash, attributes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1, ?9, ?10)",
            )?
            .execute(params![
                id,
                draft.user_name,
                user_name_key,
                draft.external_id,
                draft.display_name,
                draft.display_name.as_deref().map(crate::scim::user::fold),
                draft.active,
                at,
                password_hash,
                attributes
            ])?;
            let seq = conn.last_insert_rowid();
            replace_emails(conn, seq, &draft.email_keys)?;
            Ok(StoredUser { id, attributes: draft.attributes, created: at.clone(), last_modified: at, version: 1 })
        })
        .await
    }

    /// Changes a live user in one write: `change` sees the current user and returns what it becomes (or
    /// a SCIM error, which aborts the write and leaves the user as it was). `if_match` is a version the
    /// client requires (`If-Match`).
    pub async fn update_user<F>(
        &self,
        id: &str,
        if_match: Option<Precondition>,
        change: F,
    ) -> Result<StoredUser, StoreError>
    where
        F: FnOnce(&StoredUser) -> Result<(UserDraft, PasswordChange), crate::scim::Error> + Send + 'static,
    {
        let id = id.to_owned();
        self.write(move |conn| {
            let (seq, current) = live_user(conn, &id)?;
            check_precondition(if_match.as_ref(), current.version)?;
            let (draft, password) = change(&current).map_err(StoreError::Rejected)?;
            ensure_unique(conn, &draft, Some(seq))?;
            let at = format_time(now());
            let attributes = serde_json::Value::Object(draft.attributes.clone()).to_string();
            conn.prepare_cached(
                "UPDATE users SET user_name = ?2, user_name_key = ?3, external_id = ?4, display_name = ?5,
                        display_name_key = ?6, active = ?7, last_modified = ?8, version = version + 1,
                        attributes = ?9, password_hash = CASE WHEN ?10 THEN ?11 ELSE password_hash END
                 WHERE seq = ?1",
            )?
            .execute(params![
                seq,
                draft.user_name,
                crate::scim::user::fold(&draft.user_name),
                draft.external_id,
                draft.display_name,
                draft.display_name.as_deref().map(crate::scim::user::fold),
                draft.active,
                at,
                attributes,
                matches!(password, PasswordChange::Set(_)),
                match &password {
                    PasswordChange::Set(hash) => Some(hash.as_str()),
                    PasswordChange::Keep => None,
                },
            ])?;
            replace_emails(conn, seq, &draft.email_keys)?;
            Ok(StoredUser {
                id: current.id,
                attributes: draft.attributes,
                created: current.created,
                last_modified: at,
                version: current.version + 1,
            })
        })
        .await
    }

    /// Deletes a live user for SCIM: the row becomes a tombstone (invisible to SCIM, its e-mail
    /// addresses and userName free again) so that what the platform keeps about the person survives.
    pub async fn delete_user(&self, id: &str, if_match: Option<Precondition>) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |conn| {
            let (seq, current) = live_user(conn, &id)?;
            check_precondition(if_match.as_ref(), current.version)?;
            let at = format_time(now());
            conn.prepare_cached(
                "UPDATE users SET deleted_at = ?2, last_modified = ?2, version = version + 1 WHERE seq = ?1",
            )?
            .execute(params![seq, at])?;
            conn.prepare_cached("DELETE FROM user_emails WHERE user_seq = ?1")?.execute([seq])?;
            Ok(())
        })
        .await
    }

    /// A live user by SCIM id.
    pub async fn get_user(&self, id: &str) -> Result<Option<StoredUser>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let found = conn
                .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1 AND deleted_at IS NULL"))?
                .query_row([&id], stored_user)
                .optional()?;
            found.map(|(_, user)| user).transpose()
        })
        .await
    }

    /// One page of live users matching `query`, with the total. Attributes with a column are filtered
    /// and sorted in SQL; anything else is evaluated exactly on the rendered resource (`location_base`
    /// gives `meta.location` the value clients see).
    pub async fn list_users(&self, query: ListQuery, location_base: String) -> Result<Found<StoredUser>, StoreError> {
        self.read(move |conn| list(conn, &query, &location_base)).await
    }
}

/// What a change does to the stored password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    Keep,
    Set(String),
}

/// An `If-Match` requirement: a version number, or `*` (any version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    Any,
    Versions(Vec<i64>),
}

fn check_precondition(precondition: Option<&Precondition>, current: i64) -> Result<(), StoreError> {
    match precondition {
        None | Some(Precondition::Any) => Ok(()),
        Some(Precondition::Versions(versions)) if versions.contains(&current) => Ok(()),
        Some(Precondition::Versions(_)) => Err(StoreError::VersionMismatch { current }),
    }
}

/// The live user `id` with its `seq`, or `NotFound`.
fn live_user(conn: &Connection, id: &str) -> Result<(i64, StoredUser), StoreError> {
    let (seq, user) = conn
        .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1 AND deleted_at IS NULL"))?
        .query_row([id], stored_user)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("user {id:?}")))?;
    Ok((seq, user?))
}

/// Refuses a userName or e-mail address that another live user (not `own_seq`) already has.
fn ensure_unique(conn: &Connection, draft: &UserDraft, own_seq: Option<i64>) -> Result<(), StoreError> {
    let own = own_seq.unwrap_or(-1);
    let taken: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM users WHERE user_name_key = ?1 AND deleted_at IS NULL AND seq <> ?2)",
        )?
        .query_row(params![crate::scim::user::fold(&draft.user_name), own], |row| row.get(0))?;
    if taken {
        return Err(StoreError::Conflict(format!("userName {:?}", draft.user_name)));
    }
    for key in &draft.email_keys {
        let taken: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM user_emails WHERE value_key = ?1 AND user_seq <> ?2)")?
            .query_row(params![key, own], |row| row.get(0))?;
        if taken {
            return Err(StoreError::Conflict(format!("e-mail address {key:?}")));
        }
    }
    Ok(())
}

/// Makes the user's e-mail keys exactly `keys`.
fn replace_emails(conn: &Connection, seq: i64, keys: &[String]) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM user_emails WHERE user_seq = ?1")?.execute([seq])?;
    for key in keys {
        conn.prepare_cached("INSERT INTO user_emails (user_seq, value_key) VALUES (?1, ?2)")?
            .execute(params![seq, key])?;
    }
    Ok(())
}

fn list(conn: &Connection, query: &ListQuery, location_base: &str) -> Result<Found<StoredUser>, StoreError> {
    let (sql, residual) = plan(ResourceKind::User, query.filter.as_ref());
    let sql_sort = match &query.sort {
        None => Some(None),
        Some(sort) => sort_column(ResourceKind::User, &sort.path).map(|column| Some((column, sort.descending))),
    };
    match (residual, sql_sort) {
        (None, Some(order)) => list_in_sql(conn, sql, order, query.page),
        (residual, _) => list_in_memory(conn, sql, residual.as_ref(), query.sort.as_ref(), query.page, location_base),
    }
}

/// The whole query in SQL: a count and one page read through the indexes.
fn list_in_sql(
    conn: &Connection,
    sql: Option<Sql>,
    order: Option<(&str, bool)>,
    page: Page,
) -> Result<Found<StoredUser>, StoreError> {
    let (condition, params) = match sql {
        Some(sql) => (sql.text, sql.params),
        None => ("1".to_owned(), Vec::new()),
    };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM users WHERE deleted_at IS NULL AND {condition}"))?
        .query_row(params_from_iter(params.iter()), |row| row.get(0))?;
    let total = u64::try_from(total).unwrap_or(0);
    if page.count() == 0 {
        return Ok(Found { total, items: Vec::new(), next: None });
    }
    // Resources without a value sort last in both directions; `seq` breaks ties, so pages are stable.
    let order_by = match order {
        None => "seq".to_owned(),
        Some((column, false)) => format!("{column} IS NULL, {column}, seq"),
        Some((column, true)) => format!("{column} IS NULL, {column} DESC, seq DESC"),
    };
    let count = i64::try_from(page.count()).unwrap_or(i64::MAX);
    let mut params = params;
    let (condition, limit) = match page {
        Page::Index { start_index, .. } => {
            let offset = i64::try_from(start_index - 1).unwrap_or(i64::MAX);
            params.push(count.into());
            params.push(offset.into());
            (condition, "LIMIT ? OFFSET ?")
        }
        Page::Cursor { after, .. } => {
            params.push(after.map_or(0, |c| c.0).into());
            // One more than asked: its presence says whether a next page exists.
            params.push(count.saturating_add(1).into());
            (format!("{condition} AND seq > ?"), "LIMIT ?")
        }
    };
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE deleted_at IS NULL AND {condition} ORDER BY {order_by} {limit}"
    ))?;
    let rows = statement.query_map(params_from_iter(params.iter()), stored_user)?;
    let mut items = Vec::new();
    let mut last_seq = None;
    let mut more = false;
    for row in rows {
        let (seq, user) = row?;
        if items.len() as u64 == page.count() {
            more = true;
            break;
        }
        items.push(user?);
        last_seq = Some(seq);
    }
    let next = match page {
        Page::Cursor { .. } if more => last_seq.map(Cursor),
        _ => None,
    };
    Ok(Found { total, items, next })
}

/// The query with a residual filter or a sort key without a column: every candidate the SQL part selects
/// is rendered and tested, so the result and its total are exact.
fn list_in_memory(
    conn: &Connection,
    sql: Option<Sql>,
    residual: Option<&Filter>,
    sort: Option<&Sort>,
    page: Page,
    location_base: &str,
) -> Result<Found<StoredUser>, StoreError> {
    let (condition, params) = match sql {
        Some(sql) => (sql.text, sql.params),
        None => ("1".to_owned(), Vec::new()),
    };
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE deleted_at IS NULL AND {condition} ORDER BY seq"
    ))?;
    let rows = statement.query_map(params_from_iter(params.iter()), stored_user)?;
    let mut matched: Vec<(i64, StoredUser, Option<serde_json::Value>)> = Vec::new();
    for row in rows {
        let (seq, user) = row?;
        let user = user?;
        let rendered = render(&user, location_base);
        if residual.is_some_and(|filter| !matches(filter, &rendered, ResourceKind::User)) {
            continue;
        }
        let key = sort.and_then(|sort| sort_key(&rendered, sort));
        matched.push((seq, user, key));
    }
    if let Some(sort) = sort {
        matched.sort_by(|a, b| {
            compare_keys(a.2.as_ref(), b.2.as_ref(), sort.descending).then(if sort.descending {
                b.0.cmp(&a.0)
            } else {
                a.0.cmp(&b.0)
            })
        });
    }
    let total = matched.len() as u64;
    let count = usize::try_from(page.count()).unwrap_or(usize::MAX);
    let (items, next): (Vec<_>, _) = match page {
        Page::Index { start_index, .. } => {
            let skip = usize::try_from(start_index - 1).unwrap_or(usize::MAX);
            (matched.into_iter().skip(skip).take(count).map(|(_, user, _)| user).collect(), None)
        }
        Page::Cursor { after, .. } => {
            let after = after.map_or(0, |c| c.0);
            let mut rest = matched.into_iter().filter(|(seq, _, _)| *seq > after).take(count.saturating_add(1));
            let page: Vec<_> = rest.by_ref().take(count).collect();
            let more = rest.next().is_some();
            let next = if more { page.last().map(|(seq, _, _)| Cursor(*seq)) } else { None };
            (page.into_iter().map(|(_, user, _)| user).collect(), next)
        }
    };
    Ok(Found { total, items: if count == 0 { Vec::new() } else { items }, next })
}

/// The value a resource sorts by: the first value of the attribute (the primary one, for multi-valued
/// attributes that have one), folded when the attribute compares case-insensitively.
fn sort_key(resource: &serde_json::Value, sort: &Sort) -> Option<serde_json::Value> {
    let mut node = resource;
    if let Some(uri) = &sort.path.uri {
        node = node.get(uri)?;
    }
    let mut value = node.get(&sort.path.attr)?;
    if let serde_json::Value::Array(items) = value {
        value = items
            .iter()
            .find(|item| item.get("primary").and_then(serde_json::Value::as_bool) == Some(true))
            .or_else(|| items.first())?;
    }
    if let Some(sub) = &sort.path.sub_attr {
        value = value.get(sub)?;
    }
    let case_exact = crate::scim::schema::resolve(ResourceKind::User, &sort.path.to_string())
        .is_some_and(|resolved| resolved.target().case_exact);
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) if !case_exact => Some(crate::scim::schema::fold_case(text).into()),
        other => Some(other.clone()),
    }
}

/// Orders sort keys: missing values last in both directions; numbers numerically, everything else by its
/// text.
fn compare_keys(a: Option<&serde_json::Value>, b: Option<&serde_json::Value>, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ordering = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Greater,
        (Some(_), None) => return Ordering::Less,
        (Some(a), Some(b)) => match (a, b) {
            (serde_json::Value::String(x), serde_json::Value::String(y)) => x.cmp(y),
            _ => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => a.to_string().cmp(&b.to_string()),
            },
        },
    };
    if descending { ordering.reverse() } else { ordering }
}
