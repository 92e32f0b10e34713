//! The activity record: one row per SCIM request (who, what, outcome, how long, what changed), written in
//! batches and kept within a bounded size and age. Never bodies or query strings: those can hold
//! passwords and personal data.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter};
use time::OffsetDateTime;

use super::{Store, StoreError, format_time};

/// One SCIM request as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    pub at: String,
    pub request_id: String,
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    pub method: String,
    pub path: String,
    pub resource: Option<String>,
    pub status: u16,
    pub latency_us: u64,
    pub summary: Option<String>,
    pub error: Option<String>,
    /// The id of the user or group the request touched, when it touched one.
    pub target_id: Option<String>,
}

/// A recorded entry with its position (newest entries have the highest `seq`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    pub seq: i64,
    pub entry: ActivityEntry,
}

/// Which outcomes to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Below 400.
    Succeeded,
    /// 400 and above.
    Failed,
    /// 400 to 499.
    ClientErrors,
    /// 500 and above.
    ServerErrors,
}

impl StatusFilter {
    fn range(self) -> (u16, u16) {
        match self {
            StatusFilter::Succeeded => (0, 399),
            StatusFilter::Failed => (400, 999),
            StatusFilter::ClientErrors => (400, 499),
            StatusFilter::ServerErrors => (500, 999),
        }
    }
}

/// A page request for the activity list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    pub status: Option<StatusFilter>,
    /// The resource segment (`Users`, `Groups`, ...), exactly.
    pub resource: Option<String>,
    /// Text found (case-insensitively for ASCII) in the path, summary, error or token name.
    pub text: Option<String>,
    /// Only the requests made with this token (its id).
    pub token: Option<String>,
    /// Only entries older than this `seq` (the `next` of the previous page).
    pub before: Option<i64>,
    pub count: u32,
}

/// One page of activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPage {
    /// Entries matching the filters, over all pages.
    pub total: u64,
    pub items: Vec<ActivityRecord>,
    /// The `before` of the next (older) page, when there is one.
    pub next: Option<i64>,
}

impl Store {
    /// Appends a batch of entries in one write, then removes the oldest entries beyond `max_rows`. Rows are
    /// found by `seq` (always increasing): trimming costs what it removes.
    pub async fn record_activity(&self, entries: Vec<ActivityEntry>, max_rows: u64) -> Result<(), StoreError> {
        self.write(move |conn| {
            let mut insert = conn.prepare_cached(
                "INSERT INTO activity (at, request_id, token_id, token_name, method, path, resource, status,
                                       latency_us, summary, error, target_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for e in &entries {
                insert.execute(params![
                    e.at,
                    e.request_id,
                    e.token_id,
                    e.token_name,
                    e.method,
                    e.path,
                    e.resource,
                    e.status,
                    i64::try_from(e.latency_us).unwrap_or(i64::MAX),
                    e.summary,
                    e.error,
                    e.target_id
                ])?;
            }
            let keep = i64::try_from(max_rows).unwrap_or(i64::MAX);
            conn.prepare_cached("DELETE FROM activity WHERE seq <= (SELECT max(seq) FROM activity) - ?1")?
                .execute([keep])?;
            Ok(())
        })
        .await
    }

    /// Removes every entry that arrived before `cutoff`, and says how many. `at` has no index (that would
    /// be one more b-tree insert and delete for every SCIM request, lookups included), so this reads the
    /// whole table, which `record_activity` keeps to its `max_rows` (about 10 ms at 100,000 rows): the
    /// recorder runs it every few minutes, not with each batch.
    pub async fn remove_activity_before(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        self.write(move |conn| {
            let removed = conn.prepare_cached("DELETE FROM activity WHERE at < ?1")?.execute([format_time(cutoff)])?;
            Ok(u64::try_from(removed).unwrap_or(0))
        })
        .await
    }

    /// A page of activity, newest first, with the number of entries matching the filters.
    pub async fn list_activity(&self, query: ActivityQuery) -> Result<ActivityPage, StoreError> {
        self.read(move |conn| {
            // Every value is bound; the numbers of the placeholders follow the order they are pushed in.
            let mut values: Vec<SqlValue> = Vec::new();
            let mut filter = String::from("1");
            if let Some(status) = query.status {
                let (low, high) = status.range();
                values.extend([SqlValue::from(i64::from(low)), SqlValue::from(i64::from(high))]);
                filter.push_str(&format!(" AND status BETWEEN ?{} AND ?{}", values.len() - 1, values.len()));
            }
            if let Some(resource) = query.resource {
                values.push(SqlValue::Text(resource));
                filter.push_str(&format!(" AND resource = ?{}", values.len()));
            }
            if let Some(token) = query.token {
                values.push(SqlValue::Text(token));
                filter.push_str(&format!(" AND token_id = ?{}", values.len()));
            }
            if let Some(text) = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                values.push(SqlValue::Text(format!("%{}%", escape_like(text))));
                let n = values.len();
                filter.push_str(&format!(
                    " AND (path LIKE ?{n} ESCAPE '\\' OR summary LIKE ?{n} ESCAPE '\\' \
                     OR error LIKE ?{n} ESCAPE '\\' OR token_name LIKE ?{n} ESCAPE '\\')"
                ));
            }
            let total: i64 = conn
                .prepare_cached(&format!("SELECT count(*) FROM activity WHERE {filter}"))?
                .query_row(params_from_iter(values.iter()), |row| row.get(0))?;

            values.push(SqlValue::from(query.before.unwrap_or(i64::MAX)));
            values.push(SqlValue::from(i64::from(query.count) + 1));
            let sql = format!(
                "SELECT seq, at, request_id, token_id, token_name, method, path, resource, status, latency_us,
                        summary, error, target_id
                 FROM activity WHERE {filter} AND seq < ?{} ORDER BY seq DESC LIMIT ?{}",
                values.len() - 1,
                values.len()
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(params_from_iter(values.iter()), |row| {
                Ok(ActivityRecord { seq: row.get(0)?, entry: entry_from(row, 1)? })
            })?;
            let mut items = rows.collect::<Result<Vec<_>, _>>()?;
            let more = items.len() > query.count as usize;
            items.truncate(query.count as usize);
            let next = if more { items.last().map(|r| r.seq) } else { None };
            Ok(ActivityPage { total: u64::try_from(total).unwrap_or(0), items, next })
        })
        .await
    }
}

/// What the activity record says of one token: whether the identity provider is connected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenActivity {
    /// The newest request made with the token.
    pub last: Option<ActivityEntry>,
    /// The newest request made with it that failed (status 400 or more).
    pub last_failure: Option<ActivityEntry>,
    /// Requests made with it since the time asked about.
    pub since_count: u64,
}

impl Store {
    /// The activity of every token seen in the record: one pass over it (at most `--activity-max-rows`
    /// rows), then the newest and newest failed entry of each by `seq`.
    pub async fn token_activity(
        &self,
        since: OffsetDateTime,
    ) -> Result<std::collections::HashMap<String, TokenActivity>, StoreError> {
        self.read_long(move |conn| {
            let mut summary = conn.prepare_cached(
                "SELECT token_id, max(seq), max(CASE WHEN status >= 400 THEN seq END),
                        count(CASE WHEN at >= ?1 THEN 1 END)
                 FROM activity WHERE token_id IS NOT NULL GROUP BY token_id",
            )?;
            let rows = summary
                .query_map([format_time(since)], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                        row.get::<_, i64>(3)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut entry = conn.prepare_cached(
                "SELECT at, request_id, token_id, token_name, method, path, resource, status, latency_us, summary, error,
                        target_id
                 FROM activity WHERE seq = ?1",
            )?;
            let mut read = |seq: i64| -> Result<ActivityEntry, StoreError> {
                Ok(entry.query_row([seq], |row| entry_from(row, 0))?)
            };
            let mut found = std::collections::HashMap::new();
            for (token, last, failure, count) in rows {
                let activity = TokenActivity {
                    last: Some(read(last)?),
                    last_failure: failure.map(&mut read).transpose()?,
                    since_count: u64::try_from(count).unwrap_or(0),
                };
                found.insert(token, activity);
            }
            Ok(found)
        })
        .await
    }
}

/// An entry from a row whose columns, from `first` on, are `at, request_id, token_id, token_name, method,
/// path, resource, status, latency_us, summary, error, target_id`.
fn entry_from(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ActivityEntry> {
    Ok(ActivityEntry {
        at: row.get(first)?,
        request_id: row.get(first + 1)?,
        token_id: row.get(first + 2)?,
        token_name: row.get(first + 3)?,
        method: row.get(first + 4)?,
        path: row.get(first + 5)?,
        resource: row.get(first + 6)?,
        status: row.get(first + 7)?,
        latency_us: u64::try_from(row.get::<_, i64>(first + 8)?).unwrap_or(0),
        summary: row.get(first + 9)?,
        error: row.get(first + 10)?,
        target_id: row.get(first + 11)?,
    })
}

/// Escapes LIKE's wildcards so that the admin's text is matched literally.
pub(super) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
