//! Assets and their grants: creating, listing, renaming, re-owning and deleting assets, reading and
//! replacing an asset's permission list (the Share dialog), bulk imports of assets and grants, and
//! "extend ownership". The rules (levels per kind, what a permission list may contain, who may become an
//! owner) are `sharing/`'s; this file loads what they need and writes what they decide, one write each.

use std::collections::HashMap;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use serde_json::{Value, json};

use super::{Store, StoreError, audit, format_time, now};
use crate::audit::{Action, Actor, Entry, Target};
use crate::sharing::{
    self, AssetKind, Grant, Grantee, Level, OwnerHolder, PrincipalState, UserStatus, check_name, check_new_owner,
    owner_reachable, plan_extension, plan_permissions,
};

/// A user as the sharing views show them: enough to name them, and whether they can use anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    /// A deleted user is a tombstone the page shows as "deleted user".
    pub status: UserStatus,
}

/// A group as the sharing views show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    pub id: String,
    pub display_name: String,
}

/// An asset with its owner of record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: String,
    pub kind: AssetKind,
    pub name: String,
    pub owner: UserSummary,
    pub created_at: String,
    pub updated_at: String,
}

/// An asset to create; `owner_id` is the SCIM id of an active user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAsset {
    pub kind: AssetKind,
    pub name: String,
    pub owner_id: String,
}

/// A change to an asset: a new name, a new owner of record (an active user), or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetChange {
    pub name: Option<String>,
    pub owner_id: Option<String>,
}

/// Which assets a list shows. `start` is 0-based.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetQuery {
    pub kind: Option<AssetKind>,
    /// The SCIM id of the owner of record (tombstones included).
    pub owner_id: Option<String>,
    /// Matched against the start of any word of the name (or the exact id).
    pub text: Option<String>,
    pub start: u64,
    pub count: u32,
}

/// One page of a list and the number of items over all pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// Who a grant is to, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalView {
    User(UserSummary),
    Group(GroupSummary),
}

/// One row of the Share dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub principal: PrincipalView,
    pub level: Level,
}

/// An asset's permission list, with whether an active user can still act as its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub asset: Asset,
    pub owner_reachable: bool,
    /// Strongest first, then groups before users, then by name.
    pub grants: Vec<Permission>,
}

/// A grant to import: by SCIM ids, the level checked against the asset's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub asset_id: String,
    pub grantee: Grantee,
    pub level: Level,
}

/// An asset named: its id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRef {
    pub id: String,
    pub name: String,
}

/// What "extend ownership" did (or, previewed, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionOutcome {
    /// Assets the user owned (as owner of record or through an Owner grant of their own).
    pub assets: usize,
    /// Assets on which the heir was given Owner.
    pub extended: usize,
    /// Those assets, in creation order.
    pub changed: Vec<AssetRef>,
    /// The assets on which the heir already was an Owner.
    pub unchanged: Vec<AssetRef>,
}

/// An asset a user owns, as their page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedAsset {
    pub asset: Asset,
    /// Whether the user is its owner of record (else they own it through an Owner grant).
    pub of_record: bool,
    /// Its other owners: the owner of record when that is someone else, and the other Owner grants.
    pub co_owners: Vec<PrincipalView>,
    /// Whether an active user can act as its owner.
    pub owner_reachable: bool,
}

/// The columns `asset_row` reads, in its order, and the join they come from.
pub(super) const ASSET_COLUMNS: &str = "a.seq, a.id, a.kind, a.name, a.created_at, a.updated_at, u.id, u.user_name, u.display_name, u.active, \
     u.deleted_at IS NOT NULL";
pub(super) const ASSET_FROM: &str = "assets a JOIN users u ON u.seq = a.owner_seq";

pub(super) fn asset_row(row: &Row<'_>) -> rusqlite::Result<(i64, Asset)> {
    let kind: String = row.get(2)?;
    let kind = AssetKind::parse(&kind)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e)))?;
    Ok((
        row.get(0)?,
        Asset {
            id: row.get(1)?,
            kind,
            name: row.get(3)?,
            created_at: row.get(4)?,
            updated_at: row.get(5)?,
            owner: UserSummary {
                id: row.get(6)?,
                user_name: row.get(7)?,
                display_name: row.get(8)?,
                status: UserStatus::of(row.get(9)?, row.get(10)?),
            },
        },
    ))
}

/// The asset `id` with its `seq`, or `NotFound`.
pub(super) fn asset_by_id(conn: &Connection, id: &str) -> Result<(i64, Asset), StoreError> {
    conn.prepare_cached(&format!("SELECT {ASSET_COLUMNS} FROM {ASSET_FROM} WHERE a.id = ?1"))?
        .query_row([id], asset_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("asset {id:?}")))
}

/// A user (tombstones included) by SCIM id: its `seq` and summary.
pub(super) fn user_by_id(conn: &Connection, id: &str) -> Result<Option<(i64, UserSummary)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, id, user_name, display_name, active, deleted_at IS NOT NULL FROM users WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok((
                row.get(0)?,
                UserSummary {
                    id: row.get(1)?,
                    user_name: row.get(2)?,
                    display_name: row.get(3)?,
                    status: UserStatus::of(row.get(4)?, row.get(5)?),
                },
            ))
        })
        .optional()?)
}

/// A group's `seq` by SCIM id.
fn group_seq(conn: &Connection, id: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn.prepare_cached("SELECT seq FROM groups WHERE id = ?1")?.query_row([id], |row| row.get(0)).optional()?)
}

/// Where a named principal stands, and its `seq` when it exists.
fn principal(conn: &Connection, grantee: &Grantee) -> Result<(PrincipalState, Option<i64>), StoreError> {
    Ok(match grantee {
        Grantee::User(id) => match user_by_id(conn, id)? {
            Some((seq, user)) => (PrincipalState::User(user.status), Some(seq)),
            None => (PrincipalState::Missing, None),
        },
        Grantee::Group(id) => match group_seq(conn, id)? {
            Some(seq) => (PrincipalState::Group, Some(seq)),
            None => (PrincipalState::Missing, None),
        },
    })
}

fn refused(error: sharing::Error) -> StoreError {
    StoreError::Sharing(error)
}

fn level_of(rank: i64) -> rusqlite::Result<Level> {
    Level::from_rank(rank).ok_or_else(|| rusqlite::Error::IntegralValueOutOfRange(0, rank))
}

/// Sets the level of `grantee` (by `seq`) on asset `asset_seq`, creating the grant if needed.
fn set_grant(conn: &Connection, asset_seq: i64, grantee: &Grantee, seq: i64, level: Level) -> Result<(), StoreError> {
    let sql = match grantee {
        Grantee::User(_) => {
            "INSERT INTO user_grants (asset_seq, user_seq, level) VALUES (?1, ?2, ?3)
             ON CONFLICT (asset_seq, user_seq) DO UPDATE SET level = excluded.level"
        }
        Grantee::Group(_) => {
            "INSERT INTO group_grants (asset_seq, group_seq, level) VALUES (?1, ?2, ?3)
             ON CONFLICT (asset_seq, group_seq) DO UPDATE SET level = excluded.level"
        }
    };
    conn.prepare_cached(sql)?.execute(params![asset_seq, seq, level.rank()])?;
    Ok(())
}

/// The grants on asset `seq`, as shown (unordered).
fn grants_of(conn: &Connection, seq: i64) -> Result<Vec<Permission>, StoreError> {
    let mut grants = Vec::new();
    let mut users = conn.prepare_cached(
        "SELECT u.id, u.user_name, u.display_name, u.active, u.deleted_at IS NOT NULL, g.level
         FROM user_grants g JOIN users u ON u.seq = g.user_seq WHERE g.asset_seq = ?1",
    )?;
    for row in users.query_map([seq], |row| {
        let user = UserSummary {
            id: row.get(0)?,
            user_name: row.get(1)?,
            display_name: row.get(2)?,
            status: UserStatus::of(row.get(3)?, row.get(4)?),
        };
        Ok(Permission { principal: PrincipalView::User(user), level: level_of(row.get(5)?)? })
    })? {
        grants.push(row?);
    }
    let mut groups = conn.prepare_cached(
        "SELECT gr.id, gr.display_name, g.level FROM group_grants g JOIN groups gr ON gr.seq = g.group_seq
         WHERE g.asset_seq = ?1",
    )?;
    for row in groups.query_map([seq], |row| {
        let group = GroupSummary { id: row.get(0)?, display_name: row.get(1)? };
        Ok(Permission { principal: PrincipalView::Group(group), level: level_of(row.get(2)?)? })
    })? {
        grants.push(row?);
    }
    Ok(grants)
}

/// Whether an active user belongs to group `seq`, directly or through nested groups. Stops at the first.
fn has_active_member(conn: &Connection, seq: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "WITH RECURSIVE inside(seq) AS (
                 SELECT ?1
                 UNION
                 SELECT g.seq FROM inside JOIN group_members m ON m.group_seq = inside.seq AND m.member_type = 'Group'
                 JOIN groups g ON g.id = m.member_id
             )
             SELECT EXISTS (
                 SELECT 1 FROM inside JOIN group_members m ON m.group_seq = inside.seq AND m.member_type = 'User'
                 JOIN users u ON u.id = m.member_id
                 WHERE u.active = 1 AND u.deleted_at IS NULL
             )",
        )?
        .query_row([seq], |row| row.get(0))?)
}

/// The permission list of asset `seq` and whether its ownership is still reachable.
fn permissions(conn: &Connection, seq: i64, asset: Asset) -> Result<Permissions, StoreError> {
    let mut grants = grants_of(conn, seq)?;
    let mut holders = Vec::new();
    for grant in grants.iter().filter(|g| g.level == Level::Owner) {
        holders.push(match &grant.principal {
            PrincipalView::User(user) => OwnerHolder::User(user.status),
            PrincipalView::Group(group) => {
                let seq = group_seq(conn, &group.id)?.unwrap_or(-1);
                OwnerHolder::Group { has_active_member: has_active_member(conn, seq)? }
            }
        });
    }
    let reachable = owner_reachable(asset.owner.status, &holders);
    grants.sort_by(|a, b| {
        let key = |p: &Permission| match &p.principal {
            PrincipalView::Group(g) => (std::cmp::Reverse(p.level), 0, crate::scim::user::fold(&g.display_name)),
            PrincipalView::User(u) => (std::cmp::Reverse(p.level), 1, crate::scim::user::fold(&u.user_name)),
        };
        key(a).cmp(&key(b))
    });
    Ok(Permissions { asset, owner_reachable: reachable, grants })
}

fn insert_asset(conn: &Connection, asset: &NewAsset, at: &str) -> Result<(i64, String), StoreError> {
    let name = check_name(&asset.name).map_err(refused)?;
    let (owner_seq, owner) = user_by_id(conn, &asset.owner_id)?
        .ok_or_else(|| refused(sharing::Error::UnknownPrincipals(vec![format!("user {:?}", asset.owner_id)])))?;
    check_new_owner(&owner.id, PrincipalState::User(owner.status)).map_err(refused)?;
    let id = uuid::Uuid::now_v7().to_string();
    conn.prepare_cached(
        "INSERT INTO assets (id, kind, name, name_key, owner_seq, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![id, asset.kind.as_str(), name, crate::scim::user::fold(&name), owner_seq, at])?;
    let seq = conn.last_insert_rowid();
    super::words::add(conn, super::words::Kind::Asset, seq, [name.as_str()])?;
    Ok((seq, id))
}

/// How the audit log names a user: id and user name.
fn user_audit(user: &UserSummary) -> Value {
    json!({ "id": user.id, "userName": user.user_name })
}

/// A permission list as the audit log keeps it: who, and at which level.
fn grants_audit(grants: &[Permission]) -> Value {
    grants
        .iter()
        .map(|grant| match &grant.principal {
            PrincipalView::User(user) => {
                json!({ "type": "user", "id": user.id, "name": user.user_name, "level": grant.level.as_str() })
            }
            PrincipalView::Group(group) => {
                json!({ "type": "group", "id": group.id, "name": group.display_name, "level": grant.level.as_str() })
            }
        })
        .collect()
}

fn asset_target(asset: &Asset) -> Option<Target> {
    Some(Target::new("asset", asset.id.clone(), asset.name.clone()))
}

impl Store {
    /// Creates an asset owned by an active user.
    pub async fn create_asset(&self, actor: &Actor, asset: NewAsset) -> Result<Asset, StoreError> {
        let mut created = self.create_assets(actor, vec![asset]).await?;
        created.pop().ok_or_else(|| StoreError::Internal("no asset was created".into()))
    }

    /// Creates many assets in one write (all or none): imports, and seeding benchmarks.
    pub async fn create_assets(&self, actor: &Actor, assets: Vec<NewAsset>) -> Result<Vec<Asset>, StoreError> {
        let actor = actor.clone();
        self.write(move |conn| {
            let at = format_time(now());
            let mut created = Vec::with_capacity(assets.len());
            let mut read =
                conn.prepare_cached(&format!("SELECT {ASSET_COLUMNS} FROM {ASSET_FROM} WHERE a.seq = ?1"))?;
            for asset in &assets {
                let (seq, _) = insert_asset(conn, asset, &at)?;
                let asset = read.query_row([seq], asset_row)?.1;
                let details = json!({ "kind": asset.kind.as_str(), "owner": user_audit(&asset.owner) });
                audit::append(conn, &actor, &Entry::new(Action::AssetCreated, asset_target(&asset), details))?;
                // Answer only what a caller can use; a large import answers with its first page.
                if created.len() < 1000 {
                    created.push(asset);
                }
            }
            Ok(created)
        })
        .await
    }

    /// An asset by id.
    pub async fn get_asset(&self, id: &str) -> Result<Asset, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| Ok(asset_by_id(conn, &id)?.1)).await
    }

    /// Renames and/or re-owns an asset.
    pub async fn update_asset(&self, actor: &Actor, id: &str, change: AssetChange) -> Result<Asset, StoreError> {
        let id = id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let (seq, before) = asset_by_id(conn, &id)?;
            let at = format_time(now());
            if let Some(name) = &change.name {
                let name = check_name(name).map_err(refused)?;
                conn.prepare_cached("UPDATE assets SET name = ?2, name_key = ?3, updated_at = ?4 WHERE seq = ?1")?
                    .execute(params![seq, name, crate::scim::user::fold(&name), at])?;
                super::words::reindex(conn, super::words::Kind::Asset, seq, [before.name.as_str()], [name.as_str()])?;
            }
            if let Some(owner_id) = &change.owner_id {
                let (state, owner_seq) = principal(conn, &Grantee::User(owner_id.clone()))?;
                check_new_owner(owner_id, state).map_err(refused)?;
                conn.prepare_cached("UPDATE assets SET owner_seq = ?2, updated_at = ?3 WHERE seq = ?1")?
                    .execute(params![seq, owner_seq, at])?;
            }
            let after = asset_by_id(conn, &id)?.1;
            if after.name != before.name {
                let details = json!({ "from": before.name, "to": after.name });
                audit::append(conn, &actor, &Entry::new(Action::AssetRenamed, asset_target(&after), details))?;
            }
            if after.owner.id != before.owner.id {
                let details = json!({ "from": user_audit(&before.owner), "to": user_audit(&after.owner) });
                audit::append(conn, &actor, &Entry::new(Action::AssetReowned, asset_target(&after), details))?;
            }
            Ok(after)
        })
        .await
    }

    /// Deletes an asset and its grants.
    pub async fn delete_asset(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let (seq, asset) = asset_by_id(conn, &id)?;
            let grants = grants_of(conn, seq)?;
            conn.prepare_cached("DELETE FROM assets WHERE seq = ?1")?.execute([seq])?;
            super::words::forget(conn, super::words::Kind::Asset, seq, [asset.name.as_str()])?;
            let details = json!({
                "kind": asset.kind.as_str(),
                "owner": user_audit(&asset.owner),
                "permissions": grants_audit(&grants),
            });
            audit::append(conn, &actor, &Entry::new(Action::AssetDeleted, asset_target(&asset), details))?;
            Ok(())
        })
        .await
    }

    /// A page of assets in creation order, filtered by kind, owner of record and text.
    pub async fn list_assets(&self, query: AssetQuery) -> Result<Page<Asset>, StoreError> {
        self.read(move |conn| {
            let mut values: Vec<SqlValue> = Vec::new();
            let mut condition = String::from("1");
            if let Some(kind) = query.kind {
                values.push(SqlValue::Text(kind.as_str().into()));
                condition.push_str(&format!(" AND a.kind = ?{}", values.len()));
            }
            if let Some(owner_id) = &query.owner_id {
                let (owner_seq, _) =
                    user_by_id(conn, owner_id)?.ok_or_else(|| StoreError::NotFound(format!("user {owner_id:?}")))?;
                values.push(SqlValue::Integer(owner_seq));
                condition.push_str(&format!(" AND a.owner_seq = ?{}", values.len()));
            }
            if let Some(text) = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                let matching = super::words::matching(super::words::Kind::Asset, text, Some("assets"), &mut values);
                condition.push_str(&format!(" AND a.seq IN ({matching})"));
            }
            let total: i64 = conn
                .prepare_cached(&format!("SELECT count(*) FROM assets a WHERE {condition}"))?
                .query_row(params_from_iter(values.iter()), |row| row.get(0))?;
            values.push(SqlValue::Integer(query.count.into()));
            values.push(SqlValue::Integer(i64::try_from(query.start).unwrap_or(i64::MAX)));
            let n = values.len();
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {ASSET_COLUMNS} FROM {ASSET_FROM} WHERE {condition} ORDER BY a.seq LIMIT ?{} OFFSET ?{n}",
                n - 1
            ))?;
            let items = statement
                .query_map(params_from_iter(values.iter()), asset_row)?
                .map(|row| row.map(|(_, asset)| asset))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page { total: u64::try_from(total).unwrap_or(0), items })
        })
        .await
    }

    /// An asset's permission list: what the Share dialog shows.
    pub async fn asset_permissions(&self, id: &str) -> Result<Permissions, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let (seq, asset) = asset_by_id(conn, &id)?;
            permissions(conn, seq, asset)
        })
        .await
    }

    /// Replaces an asset's permission list (the Share dialog's *Save*) in one write; only the grants that
    /// differ are written. Answers with the list as saved.
    pub async fn set_asset_permissions(
        &self,
        actor: &Actor,
        id: &str,
        wanted: Vec<Grant>,
    ) -> Result<Permissions, StoreError> {
        let id = id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let (seq, asset) = asset_by_id(conn, &id)?;
            let before = grants_of(conn, seq)?;
            let current: Vec<Grant> = before
                .iter()
                .cloned()
                .map(|p| Grant {
                    grantee: match p.principal {
                        PrincipalView::User(u) => Grantee::User(u.id),
                        PrincipalView::Group(g) => Grantee::Group(g.id),
                    },
                    level: p.level,
                })
                .collect();
            let mut seqs = HashMap::new();
            let mut checked = Vec::with_capacity(wanted.len());
            for grant in wanted {
                let (state, seq) = principal(conn, &grant.grantee)?;
                if let Some(seq) = seq {
                    seqs.insert(grant.grantee.clone(), seq);
                }
                checked.push((grant, state));
            }
            let plan = plan_permissions(asset.kind, &current, &checked).map_err(refused)?;
            for grant in &plan.set {
                let grantee_seq = seqs.get(&grant.grantee).copied().ok_or_else(|| {
                    StoreError::Internal(format!("{} vanished while being granted", grant.grantee.describe()))
                })?;
                set_grant(conn, seq, &grant.grantee, grantee_seq, grant.level)?;
            }
            for grantee in &plan.remove {
                match grantee {
                    Grantee::User(id) => conn
                        .prepare_cached(
                            "DELETE FROM user_grants WHERE asset_seq = ?1
                             AND user_seq = (SELECT seq FROM users WHERE id = ?2)",
                        )?
                        .execute(params![seq, id])?,
                    Grantee::Group(id) => conn
                        .prepare_cached(
                            "DELETE FROM group_grants WHERE asset_seq = ?1
                             AND group_seq = (SELECT seq FROM groups WHERE id = ?2)",
                        )?
                        .execute(params![seq, id])?,
                };
            }
            let saved = permissions(conn, seq, asset)?;
            if !plan.set.is_empty() || !plan.remove.is_empty() {
                let details = json!({ "before": grants_audit(&before), "after": grants_audit(&saved.grants) });
                let entry = Entry::new(Action::PermissionsChanged, asset_target(&saved.asset), details);
                audit::append(conn, &actor, &entry)?;
            }
            Ok(saved)
        })
        .await
    }

    /// Creates or re-levels many grants in one write (all or none): imports of existing shares, and
    /// seeding benchmarks. Every level is checked against its asset's kind; grantees must exist and
    /// deleted users are refused.
    pub async fn import_grants(&self, actor: &Actor, grants: Vec<NewGrant>) -> Result<usize, StoreError> {
        let actor = actor.clone();
        self.write(move |conn| {
            let mut assets: HashMap<String, (i64, AssetKind)> = HashMap::new();
            // One record per asset, in the order assets first appear, with the grants imported onto it.
            let mut imported: Vec<(String, Vec<Value>)> = Vec::new();
            for grant in &grants {
                let (asset_seq, kind) = match assets.get(&grant.asset_id) {
                    Some(found) => *found,
                    None => {
                        let found: (i64, String) = conn
                            .prepare_cached("SELECT seq, kind FROM assets WHERE id = ?1")?
                            .query_row([&grant.asset_id], |row| Ok((row.get(0)?, row.get(1)?)))
                            .optional()?
                            .ok_or_else(|| StoreError::NotFound(format!("asset {:?}", grant.asset_id)))?;
                        let found = (found.0, AssetKind::parse(&found.1).map_err(refused)?);
                        assets.insert(grant.asset_id.clone(), found);
                        found
                    }
                };
                kind.check(grant.level).map_err(refused)?;
                let (state, grantee_seq) = principal(conn, &grant.grantee)?;
                match (state, grantee_seq) {
                    (PrincipalState::User(UserStatus::Deleted), _) => {
                        return Err(refused(sharing::Error::DeletedUser(grant.grantee.id().to_owned())));
                    }
                    (_, Some(grantee_seq)) => {
                        set_grant(conn, asset_seq, &grant.grantee, grantee_seq, grant.level)?;
                        let (kind, id) = match &grant.grantee {
                            Grantee::User(id) => ("user", id),
                            Grantee::Group(id) => ("group", id),
                        };
                        let row = json!({ "type": kind, "id": id, "level": grant.level.as_str() });
                        match imported.iter_mut().find(|(asset, _)| *asset == grant.asset_id) {
                            Some((_, rows)) => rows.push(row),
                            None => imported.push((grant.asset_id.clone(), vec![row])),
                        }
                    }
                    (_, None) => {
                        return Err(refused(sharing::Error::UnknownPrincipals(vec![grant.grantee.describe()])));
                    }
                }
            }
            for (asset_id, rows) in imported {
                let asset = asset_by_id(conn, &asset_id)?.1;
                let details = json!({ "imported": rows });
                audit::append(conn, &actor, &Entry::new(Action::PermissionsChanged, asset_target(&asset), details))?;
            }
            Ok(grants.len())
        })
        .await
    }

    /// Gives `heir` Owner on every asset user `from_id` owns (as owner of record, or through an Owner
    /// grant of their own), in one write. `from_id` may be deactivated or deleted: that is when this is
    /// needed. The owner of record stays as it is.
    pub async fn extend_ownership(
        &self,
        actor: &Actor,
        from_id: &str,
        heir: Grantee,
    ) -> Result<ExtensionOutcome, StoreError> {
        let from_id = from_id.to_owned();
        let actor = actor.clone();
        self.write(move |conn| {
            let planned = plan_extension_of(conn, &from_id, &heir)?;
            if let Some(heir_seq) = planned.heir_seq {
                let mut seq_of = conn.prepare_cached("SELECT seq FROM assets WHERE id = ?1")?;
                for asset in &planned.outcome.changed {
                    let asset_seq: i64 = seq_of.query_row([&asset.id], |row| row.get(0))?;
                    set_grant(conn, asset_seq, &heir, heir_seq, Level::Owner)?;
                }
            }
            let (heir_kind, heir_id) = match &heir {
                Grantee::User(id) => ("user", id),
                Grantee::Group(id) => ("group", id),
            };
            let made_owner: Vec<Value> =
                planned.outcome.changed.iter().map(|a| json!({ "id": a.id, "name": a.name })).collect();
            let details = json!({
                "to": { "type": heir_kind, "id": heir_id },
                "assets": planned.outcome.assets,
                "madeOwner": made_owner,
            });
            let target = Some(Target::new("user", planned.from.id.clone(), planned.from.user_name.clone()));
            audit::append(conn, &actor, &Entry::new(Action::OwnershipExtended, target, details))?;
            Ok(planned.outcome)
        })
        .await
    }

    /// What `extend_ownership` would do, without doing it: the dialog lists the assets that will change.
    pub async fn preview_extension(&self, from_id: &str, heir: Grantee) -> Result<ExtensionOutcome, StoreError> {
        let from_id = from_id.to_owned();
        self.read(move |conn| Ok(plan_extension_of(conn, &from_id, &heir)?.outcome)).await
    }

    /// A page of what user `id` (tombstones included) owns, as owner of record or through an Owner grant of
    /// their own, in creation order, each with its other owners and whether an active user can still act
    /// as its owner.
    pub async fn owned_assets(&self, id: &str, start: u64, count: u32) -> Result<Page<OwnedAsset>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let (user_seq, _) = user_by_id(conn, &id)?.ok_or_else(|| StoreError::NotFound(format!("user {id:?}")))?;
            let owned = owned_seqs(conn, user_seq)?;
            let total = u64::try_from(owned.len()).unwrap_or(u64::MAX);
            let mut items = Vec::new();
            for asset_seq in owned.into_iter().skip(usize::try_from(start).unwrap_or(usize::MAX)).take(count as usize) {
                let asset = asset_by_seq(conn, asset_seq)?;
                let of_record = asset.owner.id == id;
                let listed = permissions(conn, asset_seq, asset)?;
                let mut co_owners: Vec<PrincipalView> = listed
                    .grants
                    .into_iter()
                    .filter(|g| g.level == Level::Owner)
                    .map(|g| g.principal)
                    .filter(|p| !matches!(p, PrincipalView::User(u) if u.id == id))
                    .collect();
                if !of_record {
                    co_owners.insert(0, PrincipalView::User(listed.asset.owner.clone()));
                }
                items.push(OwnedAsset {
                    asset: listed.asset,
                    of_record,
                    co_owners,
                    owner_reachable: listed.owner_reachable,
                });
            }
            Ok(Page { total, items })
        })
        .await
    }

    /// A page of the assets no active user can act as the owner of ("Needs an owner"): their owner of
    /// record has left (deactivated or deleted) and no Owner grant reaches an active user. Only the assets
    /// of departed owners are looked at (an index of departed users finds them).
    pub async fn assets_needing_owner(&self, start: u64, count: u32) -> Result<Page<Asset>, StoreError> {
        self.read(move |conn| {
            let candidates: Vec<i64> = conn
                .prepare_cached(
                    "SELECT a.seq FROM assets a
                     WHERE a.owner_seq IN (SELECT seq FROM users WHERE active = 0 OR deleted_at IS NOT NULL)
                     ORDER BY a.seq",
                )?
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            let mut orphaned = Vec::new();
            for asset_seq in candidates {
                let asset = asset_by_seq(conn, asset_seq)?;
                let listed = permissions(conn, asset_seq, asset)?;
                if !listed.owner_reachable {
                    orphaned.push(listed.asset);
                }
            }
            let total = u64::try_from(orphaned.len()).unwrap_or(u64::MAX);
            let items =
                orphaned.into_iter().skip(usize::try_from(start).unwrap_or(usize::MAX)).take(count as usize).collect();
            Ok(Page { total, items })
        })
        .await
    }
}

/// An extension worked out: who it is from, the heir's `seq` (when the heir exists) and the outcome.
struct PlannedExtension {
    from: UserSummary,
    heir_seq: Option<i64>,
    outcome: ExtensionOutcome,
}

/// The assets user `seq` owns: as owner of record or through an Owner grant, in creation order.
fn owned_seqs(conn: &Connection, user_seq: i64) -> Result<Vec<i64>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT seq FROM assets WHERE owner_seq = ?1
         UNION SELECT asset_seq FROM user_grants WHERE user_seq = ?1 AND level = 3
         ORDER BY 1",
    )?;
    Ok(statement.query_map([user_seq], |row| row.get(0))?.collect::<Result<_, _>>()?)
}

fn asset_by_seq(conn: &Connection, seq: i64) -> Result<Asset, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {ASSET_COLUMNS} FROM {ASSET_FROM} WHERE a.seq = ?1"))?
        .query_row([seq], asset_row)?
        .1)
}

/// Works out what giving `heir` Owner on everything `from_id` owns changes (refusing what `sharing/`
/// refuses: an unknown or inactive heir, the user themselves).
fn plan_extension_of(conn: &Connection, from_id: &str, heir: &Grantee) -> Result<PlannedExtension, StoreError> {
    let (from_seq, from) =
        user_by_id(conn, from_id)?.ok_or_else(|| StoreError::NotFound(format!("user {from_id:?}")))?;
    let (heir_state, heir_seq) = principal(conn, heir)?;
    let owned = owned_seqs(conn, from_seq)?;
    let mut holdings = Vec::with_capacity(owned.len());
    if let Some(heir_seq) = heir_seq {
        let held_sql = match heir {
            Grantee::User(_) => {
                "SELECT CASE WHEN (SELECT owner_seq FROM assets WHERE seq = ?1) = ?2 THEN 3
                        ELSE (SELECT level FROM user_grants WHERE asset_seq = ?1 AND user_seq = ?2) END"
            }
            Grantee::Group(_) => "SELECT level FROM group_grants WHERE asset_seq = ?1 AND group_seq = ?2",
        };
        let mut held = conn.prepare_cached(held_sql)?;
        for asset_seq in owned {
            let rank: Option<i64> =
                held.query_row(params![asset_seq, heir_seq], |row| row.get(0)).optional()?.flatten();
            holdings.push((asset_seq, rank.and_then(Level::from_rank)));
        }
    }
    let plan = plan_extension(from_id, heir, heir_state, &holdings).map_err(refused)?;
    let mut named = conn.prepare_cached("SELECT id, name FROM assets WHERE seq = ?1")?;
    let mut name = |seq: i64| -> Result<AssetRef, StoreError> {
        Ok(named.query_row([seq], |row| Ok(AssetRef { id: row.get(0)?, name: row.get(1)? }))?)
    };
    let changed = plan.upgrade.iter().map(|seq| name(*seq)).collect::<Result<Vec<_>, _>>()?;
    let unchanged = holdings
        .iter()
        .filter(|(seq, _)| !plan.upgrade.contains(seq))
        .map(|(seq, _)| name(*seq))
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = ExtensionOutcome { assets: holdings.len(), extended: changed.len(), changed, unchanged };
    Ok(PlannedExtension { from, heir_seq, outcome })
}
