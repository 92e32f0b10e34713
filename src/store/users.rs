//! Users: their rows, e-mail keys and tombstones.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::listing::{self, Table};
use serde_json::{Value, json};

use super::{Store, StoreError, audit, format_time, now};
use crate::audit::{Action, Actor, Entry, Target};
use crate::scim::group::UserGroup;
use crate::scim::list::{Found, ListQuery};
use crate::scim::schema::{ResourceKind, fold_case};
use crate::scim::user::{StoredUser, UserDraft, UserText, render};

/// How users are listed. Rows are read as text: only a residual filter or sort parses them here.
const USERS: Table<ListedUser> = Table {
    kind: ResourceKind::User,
    name: "users",
    live: "deleted_at IS NULL",
    columns: LISTED_COLUMNS,
    read: listed_user,
    render: |conn, _seq, listed, base| {
        let groups = listed.groups(conn)?;
        let user = parsed(listed.user.clone())?;
        let mut rendered = render(&user, base);
        if !groups.is_empty()
            && let Some(object) = rendered.as_object_mut()
        {
            object.insert("groups".into(), crate::scim::group::render_user_groups(&groups, base));
        }
        Ok(rendered)
    },
};

/// The start of a user's answer under the default projection, rendered when the user is written.
fn ready_head(id: &str, attributes: &str) -> Result<String, StoreError> {
    crate::scim::user::ready_head(id, attributes).map_err(|error| StoreError::Internal(error.detail))
}

/// What a new user's row holds beyond its draft: worked out before the write, on the request's own task,
/// so that the writer thread, which every write of the process waits on, runs little but SQL (a Bulk
/// request of creates goes as fast as that thread). The id is a UUIDv7 taken here, a moment before the
/// row's `seq`; nothing orders by id.
#[derive(Debug)]
struct NewRow {
    id: String,
    user_name_key: String,
    display_name_key: Option<String>,
    attributes: String,
    ready: String,
    words: super::words::Listed,
}

impl NewRow {
    fn of(draft: &UserDraft) -> Result<NewRow, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        let attributes = super::object_text(&draft.attributes)?;
        Ok(NewRow {
            user_name_key: crate::scim::user::fold(&draft.user_name),
            display_name_key: draft.display_name.as_deref().map(crate::scim::user::fold),
            ready: ready_head(&id, &attributes)?,
            words: super::words::Listed::of(super::words::user_texts(&draft.attributes))?,
            attributes,
            id,
        })
    }
}

/// The columns `stored_user` reads, in its order.
const USER_COLUMNS: &str = "seq, id, attributes, created_at, last_modified, version";

/// The columns `listed_user` reads: those of `stored_user`, the user's direct groups and the start of its
/// answer.
const LISTED_COLUMNS: &str = "seq, id, attributes, created_at, last_modified, version, group_seqs, ready";

/// A user as a list reads it: the text of the user and the `seq`s of its direct groups.
#[derive(Debug, Clone)]
pub(super) struct ListedUser {
    user: UserText,
    group_seqs: Option<String>,
}

impl ListedUser {
    /// The user's groups, direct and indirect, read in the list's snapshot.
    fn groups(&self, conn: &Connection) -> Result<Vec<UserGroup>, StoreError> {
        super::groups::groups_of(conn, &self.user.id, self.group_seqs.as_deref())
    }
}

fn listed_user(row: &Row<'_>) -> rusqlite::Result<(i64, Result<ListedUser, StoreError>)> {
    let (seq, user) = user_text(row)?;
    let group_seqs = row.get(6)?;
    let ready = row.get(7)?;
    Ok((seq, user.map(|user| ListedUser { user: UserText { ready, ..user }, group_seqs })))
}

/// A user row as read: its position in the stable order and the user, its attributes unparsed.
fn user_text(row: &Row<'_>) -> rusqlite::Result<(i64, Result<UserText, StoreError>)> {
    let user = UserText {
        id: row.get(1)?,
        attributes: row.get(2)?,
        created: row.get(3)?,
        last_modified: row.get(4)?,
        version: row.get(5)?,
        ready: None,
    };
    Ok((row.get(0)?, Ok(user)))
}

/// A user row as read: its position in the stable order and the resource.
fn stored_user(row: &Row<'_>) -> rusqlite::Result<(i64, Result<StoredUser, StoreError>)> {
    let (seq, user) = user_text(row)?;
    Ok((seq, user.and_then(parsed)))
}

fn parsed(user: UserText) -> Result<StoredUser, StoreError> {
    user.parse().map_err(|error| StoreError::Internal(error.detail))
}

/// What a change to a user does to who can do what, for the audit log: `active`, `userName` (what people
/// are found by) and `externalId` (what sign-in matches) before and after, and whether a password was
/// set. `None` when none of them changed: a profile edit (a title, a phone number) is not audited.
fn access_changes(current: &StoredUser, draft: &UserDraft, password: &PasswordChange) -> Option<Value> {
    let mut details = serde_json::Map::new();
    let active = current.attributes.get("active").and_then(Value::as_bool).unwrap_or(true);
    if active != draft.active {
        details.insert("active".into(), json!({ "from": active, "to": draft.active }));
    }
    let user_name = current.attributes.get("userName").and_then(Value::as_str).unwrap_or_default();
    if user_name != draft.user_name {
        details.insert("userName".into(), json!({ "from": user_name, "to": draft.user_name }));
    }
    let external_id = current.attributes.get("externalId").and_then(Value::as_str);
    if external_id != draft.external_id.as_deref() {
        details.insert("externalId".into(), json!({ "from": external_id, "to": draft.external_id }));
    }
    if matches!(password, PasswordChange::Set(_)) {
        details.insert("password".into(), json!("set"));
    }
    (!details.is_empty()).then_some(Value::Object(details))
}

impl Store {
    /// Creates a user; `userName` and e-mail addresses must be unused among live users (case-insensitively).
    /// Everything that can refuse it is checked before the first insert (`write_checked`).
    pub async fn create_user(
        &self,
        actor: &Actor,
        draft: UserDraft,
        password_hash: Option<String>,
    ) -> Result<StoredUser, StoreError> {
        let actor = actor.clone();
        let row = NewRow::of(&draft)?;
        self.write_checked(move |conn| {
            ensure_unique(conn, &draft, None)?;
            let at = format_time(now());
            // OR FAIL: a row insert whose constraints are all checked before it writes needs no statement
            // journal, which the `users_counted` trigger would otherwise make SQLite keep (a copy of each of
            // the ten or so pages the insert touches: a tenth of a Bulk create). A failure after the row is
            // written (in the trigger) is still undone: by the write's savepoint, or, inside a Bulk chunk
            // where this checked write has none, by rolling the whole transaction back (`write_checked`).
            conn.prepare_cached(
                "INSERT OR FAIL INTO users (id, user_name, user_name_key, external_id, display_name, display_name_key,
                                    active, created_at, last_modified, version, password_hash, attributes, ready)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1, ?9, ?10, ?11)",
            )?
            .execute(params![
                row.id,
                draft.user_name,
                row.user_name_key,
                draft.external_id,
                draft.display_name,
                row.display_name_key,
                draft.active,
                at,
                password_hash,
                row.attributes,
                row.ready
            ])?;
            let seq = conn.last_insert_rowid();
            insert_emails(conn, seq, &draft.email_keys)?;
            super::words::add_user(conn, seq, &row.words)?;
            let details = json!({
                "active": draft.active,
                "externalId": draft.external_id,
                "password": if password_hash.is_some() { Some("set") } else { None },
            });
            let target = Some(Target::new("user", row.id.clone(), draft.user_name.clone()));
            audit::append(conn, &actor, &Entry::new(Action::UserCreated, target, details))?;
            Ok(StoredUser {
                id: row.id,
                attributes: draft.attributes,
                created: at.clone(),
                last_modified: at,
                version: 1,
            })
        })
        .await
    }

    /// Changes a live user in one write: `change` sees the current user and returns what it becomes (or
    /// a SCIM error, which aborts the write and leaves the user as it was). `if_match` is a version the
    /// client requires (`If-Match`).
    pub async fn update_user<F>(
        &self,
        actor: &Actor,
        id: &str,
        if_match: Option<Precondition>,
        change: F,
    ) -> Result<StoredUser, StoreError>
    where
        F: FnOnce(&StoredUser) -> Result<(UserDraft, PasswordChange), crate::scim::Error> + Send + 'static,
    {
        let id = id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let (seq, current) = live_user(conn, &id)?;
            check_precondition(if_match.as_ref(), current.version)?;
            let (draft, password) = change(&current).map_err(StoreError::Rejected)?;
            if let Some(details) = access_changes(&current, &draft, &password) {
                let target = Some(Target::new("user", current.id.clone(), draft.user_name.clone()));
                audit::append(conn, &actor, &Entry::new(Action::UserChanged, target, details))?;
            }
            ensure_unique(conn, &draft, Some(seq))?;
            let at = format_time(now());
            let attributes = super::object_text(&draft.attributes)?;
            let ready = ready_head(&current.id, &attributes)?;
            conn.prepare_cached(
                "UPDATE users SET user_name = ?2, user_name_key = ?3, external_id = ?4, display_name = ?5,
                        display_name_key = ?6, active = ?7, last_modified = ?8, version = version + 1,
                        attributes = ?9, password_hash = CASE WHEN ?10 THEN ?11 ELSE password_hash END,
                        ready = ?12
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
                ready,
            ])?;
            replace_emails(conn, seq, &draft.email_keys)?;
            if !draft.active {
                // Deactivation ends the person's sign-ins for good: reactivation needs a new sign-in.
                end_sign_ins(conn, &current.id)?;
            }
            let (old, new) =
                (super::words::user_texts(&current.attributes), super::words::user_texts(&draft.attributes));
            super::words::reindex(conn, super::words::Kind::User, seq, old, new)?;
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
    pub async fn delete_user(&self, actor: &Actor, id: &str, if_match: Option<Precondition>) -> Result<(), StoreError> {
        let id = id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let (seq, current) = live_user(conn, &id)?;
            check_precondition(if_match.as_ref(), current.version)?;
            let at = format_time(now());
            conn.prepare_cached(
                "UPDATE users SET deleted_at = ?2, last_modified = ?2, version = version + 1 WHERE seq = ?1",
            )?
            .execute(params![seq, at])?;
            conn.prepare_cached("DELETE FROM user_emails WHERE user_seq = ?1")?.execute([seq])?;
            super::words::forget(conn, super::words::Kind::User, seq, super::words::user_texts(&current.attributes))?;
            super::groups::forget_member(conn, &current.id)?;
            end_sign_ins(conn, &current.id)?;
            let user_name = current.attributes.get("userName").and_then(Value::as_str).unwrap_or_default();
            let target = Some(Target::new("user", current.id.clone(), user_name));
            audit::append(conn, &actor, &Entry::new(Action::UserDeleted, target, json!(null)))?;
            Ok(())
        })
        .await
    }

    /// The live user whose userName is `user_name` (compared case-insensitively, as a `userName eq`
    /// filter compares), with its groups when asked: an identity provider's lookup
    /// (`scim::list::NameLookup`), answered by one read of the unique index of names. It finds what
    /// `list_users` finds for that filter.
    pub async fn user_named(
        &self,
        user_name: &str,
        with_groups: bool,
    ) -> Result<Option<(UserText, Vec<UserGroup>)>, StoreError> {
        let key = fold_case(user_name);
        self.read(move |conn| {
            let found = conn
                // `LISTED_COLUMNS`, but the attributes only for a row without its ready answer start:
                // the answer under the default projection is written from `ready` when there is one.
                .prepare_cached(
                    "SELECT seq, id, CASE WHEN ready IS NULL THEN attributes ELSE '' END, created_at, \
                     last_modified, version, group_seqs, ready \
                     FROM users WHERE user_name_key = ?1 AND deleted_at IS NULL",
                )?
                .query_row([&key], listed_user)
                .optional()?;
            let Some((_, listed)) = found else { return Ok(None) };
            let listed = listed?;
            let groups = if with_groups { listed.groups(conn)? } else { Vec::new() };
            Ok(Some((listed.user, groups)))
        })
        .await
    }

    /// SQLite's query plan for listing users with `query` (see `listing::explain`).
    pub async fn explain_user_query(&self, query: ListQuery) -> Result<Vec<String>, StoreError> {
        let positions = self.inner.positions.clone();
        self.read(move |conn| listing::explain(conn, &USERS, &query, &positions)).await
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
    /// gives `meta.location` the value clients see). With `with_groups`, each user's groups are read in
    /// the same snapshot.
    pub async fn list_users(
        &self,
        query: ListQuery,
        location_base: String,
        with_groups: bool,
    ) -> Result<Found<(UserText, Vec<UserGroup>)>, StoreError> {
        let planned = listing::Planned::new(ResourceKind::User, &query);
        let long = planned.is_long();
        let positions = self.inner.positions.clone();
        let list = move |conn: &Connection| {
            let found = listing::list(conn, &USERS, &query, planned, &location_base, &positions)?;
            let mut items = Vec::with_capacity(found.items.len());
            for listed in found.items {
                let groups = if with_groups { listed.groups(conn)? } else { Vec::new() };
                items.push((listed.user, groups));
            }
            Ok(Found { total: found.total, items, next: found.next })
        };
        if long { self.read_long(list).await } else { self.read(list).await }
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

pub(super) fn check_precondition(precondition: Option<&Precondition>, current: i64) -> Result<(), StoreError> {
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
    insert_emails(conn, seq, keys)
}

/// The e-mail rows of a user that has none yet (a new user): no delete first, which for this table (keyed
/// by user and address, with an index on the address) costs SQLite a temporary table even when it removes
/// nothing.
fn insert_emails(conn: &Connection, seq: i64, keys: &[String]) -> Result<(), StoreError> {
    for key in keys {
        conn.prepare_cached("INSERT INTO user_emails (user_seq, value_key) VALUES (?1, ?2)")?
            .execute(params![seq, key])?;
    }
    Ok(())
}

/// Ends every session of user `id` signed in through the identity provider (deactivated or deleted).
fn end_sign_ins(conn: &rusqlite::Connection, id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM user_sessions WHERE user_id = ?1")?.execute([id])?;
    Ok(())
}
