//! The audit log in the database: [`append`] adds a record inside the write that makes the change (so a
//! change cannot commit without its record, and a record cannot outlive a rolled-back change), and the
//! reads behind the Audit page, the export, the SIEM stream and `scimbox audit verify`. The model and the
//! hash chain are `crate::audit`.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use time::OffsetDateTime;

use super::{Store, StoreError, format_time};
use crate::audit::{Action, Actor, ActorKind, Chain, Entry, Record, Target};

const COLUMNS: &str = "seq, at, actor_kind, actor_id, actor_name, actor_address, action, outcome, target_kind, \
                       target_id, target_name, details, prev, hash";

/// Records appended by this process (committed or rolled back with their change), for the metrics.
static APPENDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Audit records this process has appended inside writes (a write rolled back takes its record with it,
/// so this can exceed what was committed by the refused writes).
pub fn appended() -> u64 {
    APPENDED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Appends one record for `entry` by `actor`, chained to the newest record. Runs inside the caller's
/// write (the writer holds the database's write lock, so no other process can append in between).
pub(super) fn append(conn: &Connection, actor: &Actor, entry: &Entry) -> Result<Record, StoreError> {
    let last: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let (seq, prev_digest) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, vec![0; 32]),
    };
    let prev = crate::credentials::hex(&prev_digest);
    let details = if entry.details.is_null() { "{}".to_owned() } else { entry.details.to_string() };
    let mut record = Record {
        seq,
        at: format_time(super::now()),
        actor: actor.clone(),
        action: entry.action.as_str().to_owned(),
        outcome: if entry.action.is_failure() { "failure" } else { "success" }.to_owned(),
        target: entry.target.clone(),
        details,
        prev,
        hash: String::new(),
    };
    let digest = crate::audit::chain_digest(&record.prev, &record.canonical());
    record.hash = crate::credentials::hex(&digest);
    APPENDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let target = record.target.as_ref();
    conn.prepare_cached(
        "INSERT INTO audit (seq, at, actor_kind, actor_id, actor_name, actor_address, action, outcome,
                            target_kind, target_id, target_name, details, prev, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        record.seq,
        record.at,
        record.actor.kind.as_str(),
        record.actor.id,
        record.actor.name,
        record.actor.address,
        record.action,
        record.outcome,
        target.map(|t| t.kind.as_str()),
        target.and_then(|t| t.id.as_deref()),
        target.and_then(|t| t.name.as_deref()),
        record.details,
        prev_digest,
        digest.as_slice(),
    ])?;
    Ok(record)
}

fn record_from(row: &Row<'_>) -> rusqlite::Result<Record> {
    let kind: String = row.get(2)?;
    let target_kind: Option<String> = row.get(8)?;
    Ok(Record {
        seq: row.get(0)?,
        at: row.get(1)?,
        actor: Actor {
            // The column's CHECK keeps it to the known kinds; an unknown one reads as anonymous and
            // breaks the hash, which `verify` then reports.
            kind: ActorKind::parse(&kind).unwrap_or(ActorKind::Anonymous),
            id: row.get(3)?,
            name: row.get(4)?,
            address: row.get(5)?,
        },
        action: row.get(6)?,
        outcome: row.get(7)?,
        target: target_kind
            .map(|kind| -> rusqlite::Result<Target> { Ok(Target { kind, id: row.get(9)?, name: row.get(10)? }) })
            .transpose()?,
        details: row.get(11)?,
        prev: crate::credentials::hex(&row.get::<_, Vec<u8>>(12)?),
        hash: crate::credentials::hex(&row.get::<_, Vec<u8>>(13)?),
    })
}

/// Filters of the Audit page; every one is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// An actor's name: an admin's user name, a token's name, the OS user of a command.
    pub actor: Option<String>,
    pub action: Option<Action>,
    /// A target's id, or the current name of a user, group, asset, admin or token (whatever its case).
    pub target: Option<String>,
    /// Records at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Records before this time.
    pub until: Option<OffsetDateTime>,
    /// Records older than this seq (the next page of a newest-first list).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// One page of the Audit page, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub records: Vec<Record>,
    /// Whether older records match too (ask again with `before_seq` = the last record's seq).
    pub more: bool,
}

/// What `scimbox audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub records: u64,
    pub first: Option<i64>,
    /// The newest record's seq and hash.
    pub head: Option<(i64, String)>,
    pub broken: Option<crate::audit::Break>,
}

/// The SQL of an Audit page and its parameters: every filter is an index search (`explain_audit_page`).
fn page_statement(query: &AuditQuery) -> (String, Vec<SqlValue>) {
    let mut conditions = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    if let Some(actor) = &query.actor {
        values.push(SqlValue::Text(actor.clone()));
        conditions.push(format!("actor_name = ?{}", values.len()));
    }
    if let Some(action) = query.action {
        values.push(SqlValue::Text(action.as_str().to_owned()));
        conditions.push(format!("action = ?{}", values.len()));
    }
    if let Some(target) = &query.target {
        values.push(SqlValue::Text(target.clone()));
        // The target as an id, or the ids of what has that name now (each an index search).
        let id = values.len();
        values.push(SqlValue::Text(crate::scim::user::fold(target)));
        values.push(SqlValue::Text(target.to_lowercase()));
        let (key, lower) = (id + 1, id + 2);
        conditions.push(format!(
            "target_id IN (SELECT ?{id} UNION ALL SELECT id FROM users WHERE user_name_key = ?{key} AND deleted_at IS NULL
                           UNION ALL SELECT id FROM groups WHERE display_name_key = ?{key}
                           UNION ALL SELECT id FROM assets WHERE name_key = ?{key}
                           UNION ALL SELECT id FROM admins WHERE username_key = ?{lower}
                           UNION ALL SELECT id FROM api_tokens WHERE name = ?{id} COLLATE NOCASE)"
        ));
    }
    if let Some(since) = query.since {
        values.push(SqlValue::Text(format_time(since)));
        conditions.push(format!("at >= ?{}", values.len()));
    }
    if let Some(until) = query.until {
        values.push(SqlValue::Text(format_time(until)));
        conditions.push(format!("at < ?{}", values.len()));
    }
    if let Some(before) = query.before_seq {
        values.push(SqlValue::Integer(before));
        conditions.push(format!("seq < ?{}", values.len()));
    }
    let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let limit = query.limit.clamp(1, 500);
    (format!("SELECT {COLUMNS} FROM audit {filter} ORDER BY seq DESC LIMIT {}", limit + 1), values)
}

impl Store {
    /// SQLite's query plan for an Audit page (for tests: a filter must never scan the log).
    pub async fn explain_audit_page(&self, query: AuditQuery) -> Result<Vec<String>, StoreError> {
        self.read(move |conn| {
            let (sql, values) = page_statement(&query);
            let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = explain.query_map(params_from_iter(values), |row| row.get::<_, String>(3))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

/// Records handed over per read while exporting or verifying: bounded memory whatever the log's size.
const CHUNK: usize = 10_000;

impl Store {
    /// Records one action that changes nothing else: a sign-in, a refusal, the server starting.
    pub async fn audit(&self, actor: Actor, entry: Entry) -> Result<(), StoreError> {
        self.write(move |conn| append(conn, &actor, &entry).map(drop)).await
    }

    /// A page of records, newest first, matching `query`.
    pub async fn audit_page(&self, query: AuditQuery) -> Result<AuditPage, StoreError> {
        self.read_long(move |conn| {
            let (sql, values) = page_statement(&query);
            let limit = query.limit.clamp(1, 500) as usize;
            let mut statement = conn.prepare(&sql)?;
            let mut records =
                statement.query_map(params_from_iter(values), record_from)?.collect::<Result<Vec<_>, _>>()?;
            let more = records.len() > limit;
            records.truncate(limit);
            Ok(AuditPage { records, more })
        })
        .await
    }

    /// Up to `limit` records after `after_seq`, oldest first, at or after `since` when given: what the
    /// export and the SIEM stream read, a chunk at a time.
    pub async fn audit_records_after(
        &self,
        after_seq: i64,
        since: Option<OffsetDateTime>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.read_long(move |conn| {
            let since = since.map_or_else(String::new, format_time);
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM audit WHERE seq > ?1 AND at >= ?2 ORDER BY seq LIMIT ?3"
            ))?;
            let records = statement
                .query_map(params![after_seq, since, i64::try_from(limit).unwrap_or(i64::MAX)], record_from)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(records)
        })
        .await
    }

    /// The newest record's seq (0 when the log is empty).
    pub async fn audit_head(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM audit", [], |row| row.get(0))?)).await
    }

    /// Recomputes the whole chain, a chunk at a time, and reports the first record that does not fit.
    pub async fn verify_audit(&self) -> Result<Verification, StoreError> {
        let mut chain = Chain::default();
        let mut after = i64::MIN;
        loop {
            let chunk = self.audit_records_after(after, None, CHUNK).await?;
            let Some(last) = chunk.last() else { break };
            after = last.seq;
            chunk.iter().for_each(|record| chain.push(record));
        }
        Ok(Verification {
            records: chain.count(),
            first: chain.first(),
            head: chain.head().map(|(seq, hash)| (seq, hash.to_owned())),
            broken: chain.broken().cloned(),
        })
    }

    /// Removes the records older than `cutoff`, from the oldest end only and never the newest, and
    /// records the removal (by `actor`) in the same write. Answers how many were removed.
    pub async fn prune_audit(&self, actor: Actor, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        self.write(move |conn| {
            let cutoff_text = format_time(cutoff);
            // The first record to keep: the oldest at or after the cutoff, and at most the newest record.
            let keep_from: Option<i64> = conn
                .prepare_cached(
                    "SELECT min(coalesce((SELECT min(seq) FROM audit WHERE at >= ?1), max(seq)), max(seq))
                     FROM audit",
                )?
                .query_row([&cutoff_text], |row| row.get(0))?;
            let Some(keep_from) = keep_from else { return Ok(0) };
            let first: i64 = conn.query_row("SELECT min(seq) FROM audit", [], |row| row.get(0))?;
            if keep_from <= first {
                return Ok(0);
            }
            let removed = conn.prepare_cached("DELETE FROM audit WHERE seq < ?1")?.execute([keep_from])? as u64;
            let entry = Entry::new(
                Action::AuditPruned,
                Some(Target::named("audit", "audit log")),
                serde_json::json!({
                    "removed": removed,
                    "firstRemoved": first,
                    "lastRemoved": keep_from - 1,
                    "olderThan": cutoff_text,
                }),
            );
            append(conn, &actor, &entry)?;
            Ok(removed)
        })
        .await
    }

    /// Ends the sessions past their expiry or idle timeout and records each, and records once each token
    /// that has passed its expiry: the server's periodic sweep.
    pub async fn sweep_expired(&self, at: OffsetDateTime, idle: time::Duration) -> Result<(u64, u64), StoreError> {
        self.write(move |conn| {
            let now = format_time(at);
            let idle_since = format_time(at - idle);
            let admins = end_sessions(
                conn,
                "DELETE FROM admin_sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2
                 RETURNING admin_id, (SELECT username FROM admins WHERE id = admin_id), expires_at <= ?1",
                "admin",
                &now,
                &idle_since,
            )?;
            let people = end_sessions(
                conn,
                "DELETE FROM user_sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2
                 RETURNING user_id, (SELECT user_name FROM users WHERE id = user_id), expires_at <= ?1",
                "user",
                &now,
                &idle_since,
            )?;
            let ended_count = admins + people;
            let expired = conn
                .prepare_cached(
                    "UPDATE api_tokens SET expiry_recorded = 1
                     WHERE expires_at IS NOT NULL AND expires_at <= ?1 AND revoked_at IS NULL AND expiry_recorded = 0
                     RETURNING id, name, scope, expires_at",
                )?
                .query_map([&now], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (id, name, scope, expires_at) in &expired {
                let entry = Entry::new(
                    Action::TokenExpired,
                    Some(Target::new("token", id.clone(), name.clone())),
                    serde_json::json!({ "scope": scope, "expiresAt": expires_at }),
                );
                append(conn, &Actor::server(), &entry)?;
            }
            Ok((ended_count, expired.len() as u64))
        })
        .await
    }
}

/// Runs `delete` (a `DELETE … RETURNING id, name, past the absolute expiry` of sessions past `?1`, the
/// time now, or idle since `?2`) and records each ended session of a `kind` ("admin", "user").
fn end_sessions(conn: &Connection, delete: &str, kind: &str, now: &str, idle_since: &str) -> Result<u64, StoreError> {
    let ended = conn
        .prepare_cached(delete)?
        .query_map(params![now, idle_since], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?, row.get::<_, bool>(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (id, name, absolute) in &ended {
        let entry = Entry::new(
            Action::SessionExpired,
            Some(Target { kind: kind.into(), id: Some(id.clone()), name: name.clone() }),
            serde_json::json!({ "reason": if *absolute { "lifetime" } else { "idle" } }),
        );
        append(conn, &Actor::server(), &entry)?;
    }
    Ok(ended.len() as u64)
}
