//! Access decisions from the indexes: one user × one asset, everything a user can reach (with the level
//! and why), what is shared with a group, and users by id, userName or e-mail address for the platform.
//!
//! A decision costs a handful of index searches whatever the size of the database: the user by id, the
//! asset by id, the user's own grant by the grants' primary key, the user's groups (direct and nested)
//! through the memberships' index on `member_id`, and each of those groups' grant on the asset by
//! primary key. `explain_access` shows SQLite's plan; a test keeps it free of table scans.

use rusqlite::{Connection, OptionalExtension, params};

use super::assets::{
    ASSET_COLUMNS, ASSET_FROM, Asset, GroupSummary, Page, UserSummary, asset_by_id, asset_row, user_by_id,
};
use super::{Store, StoreError};
use crate::sharing::{Access, AssetKind, Decision, Level, Source, UserStatus, Via, decide};

/// One decision: who, what, and the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDecision {
    pub user: UserSummary,
    pub asset: Asset,
    pub decision: Decision,
}

/// An asset a user can reach, with the level and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachableAsset {
    pub asset: Asset,
    pub access: Access,
}

/// Everything a user can reach (a page of it). Empty while the user is deactivated or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAssets {
    pub user: UserSummary,
    pub assets: Page<ReachableAsset>,
}

/// What is shared with a group (granted to the group itself), a page of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAssets {
    pub group: GroupSummary,
    pub assets: Page<(Asset, Level)>,
}

/// The groups user `?1` (a SCIM id) belongs to, with `nested` = reached only through another group.
/// Membership rows are found through `group_members_member_type`; the depth bound guards against a cycle
/// that slipped past the store's refusal of cycles.
pub(super) const USER_GROUPS_CTE: &str = "
    WITH RECURSIVE containing(seq, id, depth) AS (
        SELECT g.seq, g.id, 0 FROM group_members m JOIN groups g ON g.seq = m.group_seq
        WHERE m.member_id = ?1 AND m.member_type = 'User'
        UNION
        SELECT g.seq, g.id, containing.depth + 1 FROM containing
        JOIN group_members m ON m.member_id = containing.id AND m.member_type = 'Group'
        JOIN groups g ON g.seq = m.group_seq
        WHERE containing.depth < 64
    ),
    mine(seq, nested) AS (SELECT seq, min(depth) > 0 FROM containing GROUP BY seq)";

/// The user's own grant on an asset: `?1` asset seq, `?2` user seq.
const DIRECT_GRANT: &str = "SELECT level FROM user_grants WHERE asset_seq = ?1 AND user_seq = ?2";

/// The grants on asset `?2` of the groups of user `?1`.
fn group_grants_sql() -> String {
    format!(
        "{USER_GROUPS_CTE}
         SELECT gr.id, gr.display_name, mine.nested, gg.level
         FROM mine JOIN group_grants gg ON gg.asset_seq = ?2 AND gg.group_seq = mine.seq
         JOIN groups gr ON gr.seq = mine.seq"
    )
}

/// Everything user `?1` (id) / `?2` (seq) holds, one row per source: `(asset_seq, level)`.
fn reach_sql() -> String {
    format!(
        "{USER_GROUPS_CTE},
         reach(asset_seq, level) AS (
             SELECT seq, 3 FROM assets WHERE owner_seq = ?2
             UNION ALL SELECT asset_seq, level FROM user_grants WHERE user_seq = ?2
             UNION ALL SELECT gg.asset_seq, gg.level FROM mine JOIN group_grants gg ON gg.group_seq = mine.seq
         )"
    )
}

/// What user `user` holds on asset `asset_seq`, as sources of access.
fn sources(
    conn: &Connection,
    user_seq: i64,
    user: &UserSummary,
    asset_seq: i64,
    asset: &Asset,
) -> Result<Vec<Source>, StoreError> {
    let mut sources = Vec::new();
    if asset.owner.id == user.id {
        sources.push(Source { level: Level::Owner, via: Via::Owner });
    }
    let direct: Option<i64> =
        conn.prepare_cached(DIRECT_GRANT)?.query_row(params![asset_seq, user_seq], |row| row.get(0)).optional()?;
    if let Some(level) = direct.and_then(Level::from_rank) {
        sources.push(Source { level, via: Via::Direct });
    }
    let mut statement = conn.prepare_cached(&group_grants_sql())?;
    let rows = statement.query_map(params![user.id, asset_seq], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, bool>(2)?, row.get::<_, i64>(3)?))
    })?;
    for row in rows {
        let (id, display_name, nested, rank) = row?;
        if let Some(level) = Level::from_rank(rank) {
            sources.push(Source { level, via: Via::Group { id, display_name, nested } });
        }
    }
    Ok(sources)
}

fn user_or_not_found(conn: &Connection, id: &str) -> Result<(i64, UserSummary), StoreError> {
    user_by_id(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("user {id:?}")))
}

fn count(total: i64) -> u64 {
    u64::try_from(total).unwrap_or(0)
}

impl Store {
    /// May user `user_id` use asset `asset_id`, at what level, and why. Both are SCIM-style ids; a
    /// deleted user is still known (and has no access).
    pub async fn check_access(&self, user_id: &str, asset_id: &str) -> Result<AccessDecision, StoreError> {
        let (user_id, asset_id) = (user_id.to_owned(), asset_id.to_owned());
        self.read(move |conn| {
            let (user_seq, user) = user_or_not_found(conn, &user_id)?;
            let (asset_seq, asset) = asset_by_id(conn, &asset_id)?;
            let decision = if user.status == UserStatus::Active {
                decide(user.status, sources(conn, user_seq, &user, asset_seq, &asset)?)
            } else {
                Decision::Inactive(user.status)
            };
            Ok(AccessDecision { user, asset, decision })
        })
        .await
    }

    /// SQLite's plans for the statements of [`Store::check_access`], one line per plan step.
    pub async fn explain_access(&self, user_id: &str, asset_id: &str) -> Result<Vec<String>, StoreError> {
        let (user_id, asset_id) = (user_id.to_owned(), asset_id.to_owned());
        self.read(move |conn| {
            let (user_seq, _) = user_or_not_found(conn, &user_id)?;
            let (asset_seq, _) = asset_by_id(conn, &asset_id)?;
            let statements: Vec<(String, Vec<rusqlite::types::Value>)> = vec![
                (
                    "SELECT seq, id, user_name, display_name, active, deleted_at IS NOT NULL FROM users WHERE id = ?1"
                        .into(),
                    vec![user_id.clone().into()],
                ),
                (format!("SELECT {ASSET_COLUMNS} FROM {ASSET_FROM} WHERE a.id = ?1"), vec![asset_id.into()]),
                (DIRECT_GRANT.into(), vec![asset_seq.into(), user_seq.into()]),
                (group_grants_sql(), vec![user_id.into(), asset_seq.into()]),
            ];
            let mut lines = Vec::new();
            for (sql, values) in statements {
                let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows =
                    explain.query_map(rusqlite::params_from_iter(values.iter()), |row| row.get::<_, String>(3))?;
                for row in rows {
                    lines.push(row?);
                }
            }
            Ok(lines)
        })
        .await
    }

    /// A page of the assets user `user_id` can reach (as owner of record, through their own grants or
    /// through their groups), in creation order, each with its level and reasons; `kind` narrows it.
    /// Nothing while the user is deactivated or deleted.
    pub async fn user_assets(
        &self,
        user_id: &str,
        kind: Option<AssetKind>,
        start: u64,
        page_size: u32,
    ) -> Result<UserAssets, StoreError> {
        let user_id = user_id.to_owned();
        // Everything a user can reach may be tens of thousands of assets: a read for the blocking pool.
        self.read_long(move |conn| {
            let (user_seq, user) = user_or_not_found(conn, &user_id)?;
            if user.status != UserStatus::Active {
                return Ok(UserAssets { user, assets: Page { total: 0, items: Vec::new() } });
            }
            // Every source row of what the user reaches, deduplicated here: one pass over the indexes
            // instead of SQLite's temporary B-tree, and the count and the page come from the same pass.
            let kind_text = kind.map(AssetKind::as_str);
            let mut seqs: Vec<i64> = {
                let sql = match kind_text {
                    None => format!("{} SELECT asset_seq FROM reach", reach_sql()),
                    Some(_) => format!(
                        "{} SELECT reach.asset_seq FROM reach JOIN assets a ON a.seq = reach.asset_seq WHERE a.kind = ?3",
                        reach_sql()
                    ),
                };
                let values: Vec<rusqlite::types::Value> = match kind_text {
                    None => vec![user.id.clone().into(), user_seq.into()],
                    Some(kind) => vec![user.id.clone().into(), user_seq.into(), kind.to_owned().into()],
                };
                let mut statement = conn.prepare_cached(&sql)?;
                statement
                    .query_map(rusqlite::params_from_iter(values.iter()), |row| row.get(0))?
                    .collect::<Result<_, _>>()?
            };
            seqs.sort_unstable();
            seqs.dedup();
            let total = seqs.len();
            let first = usize::try_from(start).unwrap_or(usize::MAX).min(total);
            let seqs = &seqs[first..(first + page_size as usize).min(total)];
            let mut items = Vec::with_capacity(seqs.len());
            let mut read =
                conn.prepare_cached(&format!("SELECT {ASSET_COLUMNS} FROM {ASSET_FROM} WHERE a.seq = ?1"))?;
            for &asset_seq in seqs {
                let (_, asset) = read.query_row([asset_seq], asset_row)?;
                if let Decision::Allowed(access) =
                    decide(user.status, sources(conn, user_seq, &user, asset_seq, &asset)?)
                {
                    items.push(ReachableAsset { asset, access });
                }
            }
            Ok(UserAssets { user, assets: Page { total: total as u64, items } })
        })
        .await
    }

    /// A page of the assets granted to group `group_id` itself, in creation order, with the level.
    pub async fn group_assets(&self, group_id: &str, start: u64, page_size: u32) -> Result<GroupAssets, StoreError> {
        let group_id = group_id.to_owned();
        self.read(move |conn| {
            let (group_seq, group) = conn
                .prepare_cached("SELECT seq, id, display_name FROM groups WHERE id = ?1")?
                .query_row([&group_id], |row| {
                    Ok((row.get::<_, i64>(0)?, GroupSummary { id: row.get(1)?, display_name: row.get(2)? }))
                })
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("group {group_id:?}")))?;
            let total: i64 = conn
                .prepare_cached("SELECT count(*) FROM group_grants WHERE group_seq = ?1")?
                .query_row([group_seq], |row| row.get(0))?;
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {ASSET_COLUMNS}, gg.level FROM group_grants gg JOIN assets a ON a.seq = gg.asset_seq
                 JOIN users u ON u.seq = a.owner_seq
                 WHERE gg.group_seq = ?1 ORDER BY gg.asset_seq LIMIT ?2 OFFSET ?3"
            ))?;
            let offset = i64::try_from(start).unwrap_or(i64::MAX);
            let rows = statement.query_map(params![group_seq, page_size, offset], |row| {
                let (_, asset) = asset_row(row)?;
                let rank: i64 = row.get(11)?;
                Ok((asset, Level::from_rank(rank).unwrap_or(Level::Viewer)))
            })?;
            let items = rows.collect::<Result<Vec<_>, _>>()?;
            Ok(GroupAssets { group, assets: Page { total: count(total), items } })
        })
        .await
    }

    /// A user by SCIM id, deleted ones (tombstones) included.
    pub async fn user_summary(&self, id: &str) -> Result<UserSummary, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| Ok(user_or_not_found(conn, &id)?.1)).await
    }

    /// The live user with this userName or e-mail address (either compared case-insensitively).
    pub async fn find_user(&self, user_name: Option<&str>, email: Option<&str>) -> Result<UserSummary, StoreError> {
        let (user_name, email) = (user_name.map(crate::scim::user::fold), email.map(crate::scim::user::fold));
        self.read(move |conn| {
            let seq: Option<i64> = match (&user_name, &email) {
                (Some(key), _) => conn
                    .prepare_cached("SELECT seq FROM users WHERE user_name_key = ?1 AND deleted_at IS NULL")?
                    .query_row([key], |row| row.get(0))
                    .optional()?,
                (None, Some(key)) => conn
                    .prepare_cached("SELECT user_seq FROM user_emails WHERE value_key = ?1")?
                    .query_row([key], |row| row.get(0))
                    .optional()?,
                (None, None) => None,
            };
            let found = match seq {
                Some(seq) => {
                    let id: String = conn
                        .prepare_cached("SELECT id FROM users WHERE seq = ?1")?
                        .query_row([seq], |row| row.get(0))?;
                    user_by_id(conn, &id)?.map(|(_, user)| user)
                }
                None => None,
            };
            let asked = user_name.map(|k| format!("userName {k:?}")).or(email.map(|k| format!("e-mail address {k:?}")));
            found.ok_or_else(|| StoreError::NotFound(format!("a user with {}", asked.unwrap_or_default())))
        })
        .await
    }
}
