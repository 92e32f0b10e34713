//! Groups and membership: group rows, member rows, nested-group cycles, and the groups of a user.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Value, json};

use super::listing::{self, Table};
use super::users::{Precondition, check_precondition};
use super::{Store, StoreError, audit, format_time, now};
use crate::audit::{Action, Actor, Entry, Target};
use crate::scim::filter::{AttrPath, Filter, matches};
use crate::scim::group::{
    GroupDraft, MemberKind, MemberView, StoredGroup, UserGroup, member_kind, render, render_member, write_members,
};
use crate::scim::list::{Found, ListQuery};
use crate::scim::patch::MemberChange;
use crate::scim::resource::Member;
use crate::scim::schema::ResourceKind;

/// How groups are listed. Items keep their `seq`, which reading their members needs.
const GROUPS: Table<(i64, StoredGroup)> = Table {
    kind: ResourceKind::Group,
    name: "groups",
    live: "1",
    columns: GROUP_COLUMNS,
    read: |row| {
        let (seq, group) = stored_group(row)?;
        Ok((seq, group.map(|group| (seq, group))))
    },
    // A residual filter may name members (`members.display`), so they are part of what it is tested on.
    render: |conn, seq, (_, group), base| {
        let mut rendered = render(group, base);
        let members = members_of(conn, seq)?;
        let keep_all = |_: &str| true;
        let members: Vec<Value> = members.iter().map(|m| render_member(m, base, &keep_all)).collect();
        if !members.is_empty()
            && let Some(object) = rendered.as_object_mut()
        {
            object.insert("members".into(), Value::Array(members));
        }
        Ok(rendered)
    },
};

/// The group with SCIM id `id` and its `seq`, if there is one.
fn group_by_id(conn: &Connection, id: &str) -> Result<Option<(i64, StoredGroup)>, StoreError> {
    let found = conn
        .prepare_cached(&format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id = ?1"))?
        .query_row([id], stored_group)
        .optional()?;
    found.map(|(seq, group)| group.map(|group| (seq, group))).transpose()
}

/// The columns `stored_group` reads, in its order.
pub(super) const GROUP_COLUMNS: &str = "seq, id, attributes, created_at, last_modified, version";

pub(super) fn stored_group(row: &Row<'_>) -> rusqlite::Result<(i64, Result<StoredGroup, StoreError>)> {
    let seq: i64 = row.get(0)?;
    let id: String = row.get(1)?;
    let attributes: String = row.get(2)?;
    let group = match serde_json::from_str(&attributes) {
        Ok(Value::Object(attributes)) => {
            Ok(StoredGroup { id, attributes, created: row.get(3)?, last_modified: row.get(4)?, version: row.get(5)? })
        }
        _ => Err(StoreError::Internal(format!("group {id} has unreadable attributes"))),
    };
    Ok((seq, group))
}

impl Store {
    /// Creates a group with its members; `displayName` must be unused whatever its case, and every
    /// member must exist.
    pub async fn create_group(
        &self,
        actor: &Actor,
        draft: GroupDraft,
        members: Vec<Member>,
    ) -> Result<StoredGroup, StoreError> {
        let actor = actor.clone();
        self.write(move |conn| {
            ensure_name_free(conn, &draft.display_name, None)?;
            let id = uuid::Uuid::now_v7().to_string();
            let at = format_time(now());
            let attributes = super::object_text(&draft.attributes)?;
            conn.prepare_cached(
                "INSERT INTO groups (id, display_name, display_name_key, external_id, created_at, last_modified,
                                     version, attributes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, ?6)",
            )?
            .execute(params![
                id,
                draft.display_name,
                crate::scim::user::fold(&draft.display_name),
                draft.external_id,
                at,
                attributes
            ])?;
            let seq = conn.last_insert_rowid();
            super::words::add(conn, super::words::Kind::Group, seq, [draft.display_name.as_str()])?;
            let mut diff = MemberDiff::default();
            add_members(conn, seq, &id, &members, &mut diff)?;
            let mut details = diff.audit();
            details["externalId"] = json!(draft.external_id);
            let target = Some(Target::new("group", id.clone(), draft.display_name.clone()));
            audit::append(conn, &actor, &Entry::new(Action::GroupCreated, target, details))?;
            Ok(StoredGroup { id, attributes: draft.attributes, created: at.clone(), last_modified: at, version: 1 })
        })
        .await
    }

    /// A group by SCIM id, with its members when `with_members` (members are not read otherwise).
    pub async fn get_group(
        &self,
        id: &str,
        with_members: bool,
    ) -> Result<Option<(StoredGroup, Option<Vec<MemberView>>)>, StoreError> {
        let id = id.to_owned();
        let read = move |conn: &Connection| {
            let Some((seq, group)) = group_by_id(conn, &id)? else { return Ok(None) };
            let members = if with_members { Some(members_of(conn, seq)?) } else { None };
            Ok(Some((group, members)))
        };
        // A group's members may be a hundred thousand rows: that read goes to the blocking pool.
        if with_members { self.read_long(read).await } else { self.read(read).await }
    }

    /// A group by SCIM id with its members written as JSON array elements (`{…},{…}`) straight into
    /// `out`, one row at a time: a 100,000-member group is read and rendered without a second copy.
    /// `keep` says which member sub-attributes to write. Returns the group and `out`, or `None`.
    pub async fn group_with_member_json(
        &self,
        id: &str,
        mut out: Vec<u8>,
        location_base: String,
        keep: Vec<String>,
    ) -> Result<Option<(StoredGroup, Vec<u8>)>, StoreError> {
        let id = id.to_owned();
        self.read_long(move |conn| {
            let Some((seq, group)) = group_by_id(conn, &id)? else { return Ok(None) };
            let keep = |field: &str| keep.iter().any(|k| k == field);
            let mut first = true;
            each_member(conn, seq, |member| {
                if !first {
                    out.push(b',');
                }
                first = false;
                write_members(&mut out, [&member], &location_base, &keep);
            })?;
            Ok(Some((group, out)))
        })
        .await
    }

    /// Changes a group in one write: `change` sees the current group and returns what its attributes
    /// become and the membership changes to apply, in order.
    pub async fn update_group<F>(
        &self,
        actor: &Actor,
        id: &str,
        if_match: Option<Precondition>,
        change: F,
    ) -> Result<StoredGroup, StoreError>
    where
        F: FnOnce(&StoredGroup) -> Result<(GroupDraft, Vec<MemberChange>), crate::scim::Error> + Send + 'static,
    {
        let id = id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let (seq, current) =
                group_by_id(conn, &id)?.ok_or_else(|| StoreError::NotFound(format!("group {id:?}")))?;
            check_precondition(if_match.as_ref(), current.version)?;
            let (draft, changes) = change(&current).map_err(StoreError::Rejected)?;
            ensure_name_free(conn, &draft.display_name, Some(seq))?;
            let mut diff = MemberDiff::default();
            for member_change in &changes {
                apply_member_change(conn, seq, &current.id, member_change, &mut diff)?;
            }
            let old_name = current.attributes.get("displayName").and_then(Value::as_str).unwrap_or_default();
            if old_name != draft.display_name {
                super::words::reindex(conn, super::words::Kind::Group, seq, [old_name], [draft.display_name.as_str()])?;
            }
            if !diff.added.is_empty() || !diff.removed.is_empty() || old_name != draft.display_name {
                let mut details = diff.audit();
                if old_name != draft.display_name {
                    details["displayName"] = json!({ "from": old_name, "to": draft.display_name });
                }
                let target = Some(Target::new("group", current.id.clone(), draft.display_name.clone()));
                audit::append(conn, &actor, &Entry::new(Action::GroupChanged, target, details))?;
            }
            let at = format_time(now());
            conn.prepare_cached(
                "UPDATE groups SET display_name = ?2, display_name_key = ?3, external_id = ?4, last_modified = ?5,
                        version = version + 1, attributes = ?6
                 WHERE seq = ?1",
            )?
            .execute(params![
                seq,
                draft.display_name,
                crate::scim::user::fold(&draft.display_name),
                draft.external_id,
                at,
                super::object_text(&draft.attributes)?
            ])?;
            Ok(StoredGroup {
                id: current.id,
                attributes: draft.attributes,
                created: current.created,
                last_modified: at,
                version: current.version + 1,
            })
        })
        .await
    }

    /// Deletes a group: its rows, its memberships in other groups, and nothing else.
    pub async fn delete_group(
        &self,
        actor: &Actor,
        id: &str,
        if_match: Option<Precondition>,
    ) -> Result<(), StoreError> {
        let id = id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let (seq, version, name): (i64, i64, String) = conn
                .prepare_cached("SELECT seq, version, display_name FROM groups WHERE id = ?1")?
                .query_row([&id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("group {id:?}")))?;
            check_precondition(if_match.as_ref(), version)?;
            forget_member(conn, &id)?;
            let members: i64 = conn
                .prepare_cached("SELECT count(*) FROM group_members WHERE group_seq = ?1")?
                .query_row([seq], |row| row.get(0))?;
            let grants: i64 = conn
                .prepare_cached("SELECT count(*) FROM group_grants WHERE group_seq = ?1")?
                .query_row([seq], |row| row.get(0))?;
            conn.prepare_cached("DELETE FROM groups WHERE seq = ?1")?.execute([seq])?;
            super::words::forget(conn, super::words::Kind::Group, seq, [name.as_str()])?;
            let details = json!({ "members": members, "permissionsDropped": grants });
            audit::append(
                conn,
                &actor,
                &Entry::new(Action::GroupDeleted, Some(Target::new("group", id.clone(), name)), details),
            )?;
            Ok(())
        })
        .await
    }

    /// One page of groups matching `query`, with the total; with each group's members when
    /// `with_members` (never read otherwise).
    pub async fn list_groups(
        &self,
        query: ListQuery,
        location_base: String,
        with_members: bool,
    ) -> Result<Found<(StoredGroup, Option<Vec<MemberView>>)>, StoreError> {
        let planned = listing::Planned::new(ResourceKind::Group, &query);
        let long = with_members || planned.is_long();
        let positions = self.inner.positions.clone();
        let list = move |conn: &Connection| {
            let found = listing::list(conn, &GROUPS, &query, planned, &location_base, &positions)?;
            let mut items = Vec::with_capacity(found.items.len());
            for (seq, group) in found.items {
                let members = if with_members { Some(members_of(conn, seq)?) } else { None };
                items.push((group, members));
            }
            Ok(Found { total: found.total, items, next: found.next })
        };
        if long { self.read_long(list).await } else { self.read(list).await }
    }

    /// SQLite's query plan for listing groups with `query` (see `listing::explain`).
    pub async fn explain_group_query(&self, query: ListQuery) -> Result<Vec<String>, StoreError> {
        let positions = self.inner.positions.clone();
        self.read(move |conn| listing::explain(conn, &GROUPS, &query, &positions)).await
    }

    /// The groups `user_id` belongs to: directly, and through groups nested in other groups.
    pub async fn user_groups(&self, user_id: &str) -> Result<Vec<UserGroup>, StoreError> {
        let user_id = user_id.to_owned();
        self.read(move |conn| user_groups(conn, &user_id)).await
    }
}

/// Refuses a `displayName` another group (not `own_seq`) has, case-insensitively.
fn ensure_name_free(conn: &Connection, display_name: &str, own_seq: Option<i64>) -> Result<(), StoreError> {
    let taken: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM groups WHERE display_name_key = ?1 AND seq <> ?2)")?
        .query_row(params![crate::scim::user::fold(display_name), own_seq.unwrap_or(-1)], |row| row.get(0))?;
    if taken {
        return Err(StoreError::Conflict(format!("group displayName {display_name:?}")));
    }
    Ok(())
}

/// The members of group `seq`, in the order they were added, with a display name read from each.
pub(super) fn members_of(conn: &Connection, seq: i64) -> Result<Vec<MemberView>, StoreError> {
    let mut members = Vec::new();
    each_member(conn, seq, |member| members.push(member))?;
    Ok(members)
}

/// Calls `visit` with each member of group `seq`, one row at a time.
fn each_member(conn: &Connection, seq: i64, mut visit: impl FnMut(MemberView)) -> Result<(), StoreError> {
    // Members are listed by id: ids are UUIDv7, so this is about the order the members were created in,
    // and it is stable across pages and requests.
    let mut statement = conn.prepare_cached(
        "SELECT m.member_id, m.member_type, coalesce(m.display, u.display_name, u.user_name, g.display_name)
         FROM group_members m
         LEFT JOIN users u ON m.member_type = 'User' AND u.id = m.member_id AND u.deleted_at IS NULL
         LEFT JOIN groups g ON m.member_type = 'Group' AND g.id = m.member_id
         WHERE m.group_seq = ?1
         ORDER BY m.member_id",
    )?;
    let rows = statement.query_map([seq], |row| {
        let kind: String = row.get(1)?;
        Ok(MemberView { id: row.get(0)?, kind: member_kind(&kind).unwrap_or(MemberKind::User), display: row.get(2)? })
    })?;
    for member in rows {
        visit(member?);
    }
    Ok(())
}

/// The members a change added and removed, for the audit log.
#[derive(Debug, Default)]
struct MemberDiff {
    added: Vec<String>,
    removed: Vec<String>,
}

impl MemberDiff {
    /// The diff as the audit log keeps it: counts, and the first ids of each side.
    fn audit(&self) -> Value {
        const SHOWN: usize = 100;
        json!({
            "membersAdded": self.added.len(),
            "membersRemoved": self.removed.len(),
            "added": self.added.iter().take(SHOWN).collect::<Vec<_>>(),
            "removed": self.removed.iter().take(SHOWN).collect::<Vec<_>>(),
        })
    }
}

fn apply_member_change(
    conn: &Connection,
    seq: i64,
    group_id: &str,
    change: &MemberChange,
    diff: &mut MemberDiff,
) -> Result<(), StoreError> {
    let remove = |id: &str, diff: &mut MemberDiff| -> Result<(), StoreError> {
        let removed = conn
            .prepare_cached("DELETE FROM group_members WHERE group_seq = ?1 AND member_id = ?2")?
            .execute(params![seq, id])?;
        if removed > 0 {
            diff.removed.push(id.to_owned());
        }
        Ok(())
    };
    match change {
        MemberChange::Add(members) => add_members(conn, seq, group_id, members, diff),
        MemberChange::Remove(ids) => {
            for id in ids {
                remove(id, diff)?;
            }
            Ok(())
        }
        MemberChange::RemoveWhere(filter) => {
            // Evaluated exactly on each member as a client would see it: `members[<filter>]` on a group
            // holding just that member.
            let path = Filter::ValuePath { attr: AttrPath::new("members"), filter: Box::new(filter.clone()) };
            for member in members_of(conn, seq)? {
                let mut element = json!({"value": member.id, "type": member.kind.as_str()});
                if let Some(display) = &member.display {
                    element["display"] = Value::from(display.clone());
                }
                if matches(&path, &json!({ "members": [element] }), ResourceKind::Group) {
                    remove(&member.id, diff)?;
                }
            }
            Ok(())
        }
        MemberChange::RemoveAll => {
            let mut statement =
                conn.prepare_cached("DELETE FROM group_members WHERE group_seq = ?1 RETURNING member_id")?;
            for id in statement.query_map([seq], |row| row.get::<_, String>(0))? {
                diff.removed.push(id?);
            }
            Ok(())
        }
        MemberChange::Replace(members) => {
            // Only the difference is written: a PUT that changes a few members of a large group touches
            // a few rows.
            let wanted: HashSet<&str> = members.iter().map(|m| m.value.as_str()).collect();
            let mut present = HashMap::new();
            {
                let mut statement =
                    conn.prepare_cached("SELECT member_id, display FROM group_members WHERE group_seq = ?1")?;
                let rows = statement
                    .query_map([seq], |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?)))?;
                for row in rows {
                    let (id, display) = row?;
                    present.insert(id, display);
                }
            }
            for gone in present.keys().filter(|id| !wanted.contains(id.as_str())) {
                remove(gone, diff)?;
            }
            let (kept, added): (Vec<&Member>, Vec<&Member>) =
                members.iter().partition(|m| present.contains_key(&m.value));
            for member in kept.into_iter().filter(|m| m.display.is_some() && present.get(&m.value) != Some(&m.display))
            {
                conn.prepare_cached("UPDATE group_members SET display = ?3 WHERE group_seq = ?1 AND member_id = ?2")?
                    .execute(params![seq, member.value, member.display])?;
            }
            let added: Vec<Member> = added.into_iter().cloned().collect();
            add_members(conn, seq, group_id, &added, diff)
        }
    }
}

/// Adds members to group `seq` (those already in it stay as they are). Every member must be a live user
/// or a group of the type it claims; a group may not contain itself, directly or through other groups.
fn add_members(
    conn: &Connection,
    seq: i64,
    group_id: &str,
    members: &[Member],
    diff: &mut MemberDiff,
) -> Result<(), StoreError> {
    let mut missing = Vec::new();
    for member in members {
        let Some(kind) = resolve_member(conn, member)? else {
            missing.push(member.value.clone());
            continue;
        };
        if kind == MemberKind::Group && contains_group(conn, &member.value, group_id)? {
            return Err(StoreError::Rejected(crate::scim::Error::invalid_value(format!(
                "group {:?} cannot become a member of group {group_id:?}: it contains that group, which would \
                 make a cycle",
                member.value
            ))));
        }
        // An existing member stays; a display name sent with it again replaces the stored one.
        let inserted = conn
            .prepare_cached(
                "INSERT INTO group_members (group_seq, member_id, member_type, display) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (group_seq, member_id) DO NOTHING",
            )?
            .execute(params![seq, member.value, kind.as_str(), member.display])?;
        if inserted > 0 {
            diff.added.push(member.value.clone());
        } else if member.display.is_some() {
            conn.prepare_cached("UPDATE group_members SET display = ?3 WHERE group_seq = ?1 AND member_id = ?2")?
                .execute(params![seq, member.value, member.display])?;
        }
    }
    if !missing.is_empty() {
        return Err(StoreError::Rejected(crate::scim::Error::invalid_value(format!(
            "these members do not exist: {}",
            missing.iter().map(|id| format!("{id:?}")).collect::<Vec<_>>().join(", ")
        ))));
    }
    Ok(())
}

/// The type of an existing member, checking the `type` the client gave; `None` when there is no such
/// user or group.
fn resolve_member(conn: &Connection, member: &Member) -> Result<Option<MemberKind>, StoreError> {
    let is_user = || -> Result<bool, StoreError> {
        Ok(conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND deleted_at IS NULL)")?
            .query_row([&member.value], |row| row.get(0))?)
    };
    let is_group = || -> Result<bool, StoreError> {
        Ok(conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM groups WHERE id = ?1)")?
            .query_row([&member.value], |row| row.get(0))?)
    };
    Ok(match member.kind {
        Some(MemberKind::User) => is_user()?.then_some(MemberKind::User),
        Some(MemberKind::Group) => is_group()?.then_some(MemberKind::Group),
        None if is_user()? => Some(MemberKind::User),
        None => is_group()?.then_some(MemberKind::Group),
    })
}

/// Whether group `outer_id` is or contains (through nested groups) group `inner_id`.
fn contains_group(conn: &Connection, outer_id: &str, inner_id: &str) -> Result<bool, StoreError> {
    if outer_id == inner_id {
        return Ok(true);
    }
    Ok(conn
        .prepare_cached(
            "WITH RECURSIVE inside(id) AS (
                 SELECT m.member_id FROM group_members m JOIN groups g ON g.seq = m.group_seq
                 WHERE g.id = ?1 AND m.member_type = 'Group'
                 UNION
                 SELECT m.member_id FROM group_members m JOIN groups g ON g.seq = m.group_seq
                 JOIN inside ON g.id = inside.id
                 WHERE m.member_type = 'Group'
             )
             SELECT EXISTS (SELECT 1 FROM inside WHERE id = ?2)",
        )?
        .query_row(params![outer_id, inner_id], |row| row.get(0))?)
}

/// Removes `id` (a user or group that is going away) from every group it belongs to.
pub(super) fn forget_member(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM group_members WHERE member_id = ?1")?.execute([id])?;
    Ok(())
}

/// The groups of user `user_id`: direct memberships, then every group that contains one of those
/// (indirect).
pub(super) fn user_groups(conn: &Connection, user_id: &str) -> Result<Vec<UserGroup>, StoreError> {
    let group_seqs: Option<String> = conn
        .prepare_cached("SELECT group_seqs FROM users WHERE id = ?1")?
        .query_row([user_id], |row| row.get(0))
        .optional()?
        .flatten();
    groups_of(conn, user_id, group_seqs.as_deref())
}

/// The groups of user `user_id`, whose row lists its direct groups as `group_seqs` (kept by the triggers
/// of `sql/V15__lookups_from_the_row.sql`). A user in no group costs no read at all; the direct groups are
/// read by key from the small `groups` table, which stays in the page cache. Most users are in no nested
/// group, and then this is the whole answer: the recursive query below (with its temporary tables) runs
/// only when there is nesting to follow.
pub(super) fn groups_of(
    conn: &Connection,
    user_id: &str,
    group_seqs: Option<&str>,
) -> Result<Vec<UserGroup>, StoreError> {
    let Some(list) = group_seqs.filter(|list| !list.is_empty()) else { return Ok(Vec::new()) };
    let mut seqs = list
        .split(',')
        .map(|seq| seq.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| StoreError::Internal(format!("user {user_id:?} has an unreadable list of groups")))?;
    // The order the recursive query gives too: direct groups by creation.
    seqs.sort_unstable();
    seqs.dedup();
    let mut direct = conn.prepare_cached(
        "SELECT g.id, g.display_name,
                EXISTS (SELECT 1 FROM group_members p WHERE p.member_id = g.id AND p.member_type = 'Group')
         FROM groups g WHERE g.seq = ?1",
    )?;
    let mut nested = false;
    let mut groups = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let found = direct
            .query_row([seq], |row| {
                Ok((UserGroup { id: row.get(0)?, display: row.get(1)?, direct: true }, row.get::<_, bool>(2)?))
            })
            .optional()?;
        if let Some((group, contained)) = found {
            nested |= contained;
            groups.push(group);
        }
    }
    if !nested {
        return Ok(groups);
    }
    let mut statement = conn.prepare_cached(
        "WITH RECURSIVE containing(seq, id, depth) AS (
             SELECT g.seq, g.id, 0 FROM group_members m JOIN groups g ON g.seq = m.group_seq
             WHERE m.member_id = ?1 AND m.member_type = 'User'
             UNION
             SELECT g.seq, g.id, containing.depth + 1 FROM group_members m
             JOIN groups g ON g.seq = m.group_seq
             JOIN containing ON m.member_id = containing.id AND m.member_type = 'Group'
             WHERE containing.depth < 64
         )
         SELECT g.id, g.display_name, min(c.depth) FROM containing c JOIN groups g ON g.seq = c.seq
         GROUP BY g.seq ORDER BY min(c.depth), g.seq",
    )?;
    let rows = statement.query_map([user_id], |row| {
        Ok(UserGroup { id: row.get(0)?, display: row.get(1)?, direct: row.get::<_, i64>(2)? == 0 })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
