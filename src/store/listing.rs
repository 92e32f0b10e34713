//! Listing resources (RFC 7644 §3.4.2): one implementation for every resource table. What SQL can
//! answer (filter conjuncts with columns, sorting by a column) runs through the indexes with a count and
//! one page; anything else is evaluated exactly on the rendered resources the SQL part selected, so the
//! results and totals are right for every filter, only slower for the attributes without a column.

use std::borrow::Cow;

use rusqlite::{Connection, Row, params_from_iter};
use serde_json::Value;

use super::StoreError;
use super::query::{Sql, plan, sort_column};
use crate::scim::filter::{Filter, matches};
use crate::scim::list::{Cursor, Found, ListQuery, Page, Sort};
use crate::scim::schema::{self, ResourceKind};

/// A row read into its `seq` and the resource (or why the resource is unreadable).
pub(super) type ReadRow<T> = fn(&Row<'_>) -> rusqlite::Result<(i64, Result<T, StoreError>)>;

/// How one resource table is listed.
pub(super) struct Table<T> {
    pub kind: ResourceKind,
    /// The table's name.
    pub name: &'static str,
    /// The condition that selects the rows SCIM sees (tombstones excluded).
    pub live: &'static str,
    /// The columns `read` expects, in its order; the first is `seq`.
    pub columns: &'static str,
    pub read: ReadRow<T>,
    /// The resource as a client would see it, for evaluating residual filters and sort keys.
    pub render: fn(&Connection, i64, &T, &str) -> Result<Value, StoreError>,
}

/// How a list query is answered, decided once: the part SQL answers, what is left to evaluate on the
/// rendered resources, and the SQL order when SQL can sort.
pub(super) struct Planned {
    sql: Option<Sql>,
    residual: Option<Filter>,
    /// `Some(None)`: the stable order; `Some(Some(column, descending))`; `None`: sorted in memory.
    order: Option<Option<(&'static str, bool)>>,
    page: Page,
}

impl Planned {
    pub fn new(kind: ResourceKind, query: &ListQuery) -> Planned {
        let (sql, residual) = plan(kind, query.filter.as_ref());
        let order = match &query.sort {
            None => Some(None),
            Some(sort) => sort_column(kind, &sort.path).map(|column| Some((column, sort.descending))),
        };
        Planned { sql, residual, order, page: query.page }
    }

    /// Whether the list may take long: a residual filter or a sort without a column reads every
    /// candidate, and a deep index page skips many rows. Such lists run on the blocking pool.
    pub fn is_long(&self) -> bool {
        let deep = matches!(self.page, Page::Index { start_index, .. } if start_index > 10_000);
        self.residual.is_some() || self.order.is_none() || deep
    }
}

/// Where recent pages of the unfiltered lists in the stable order ended: `(table, start_index)` → the
/// `seq` the page at `start_index` starts after, with the table's removal count when that was true.
/// Okta's import and any full reconciliation page through every user with `startIndex`; each page
/// records where the next one starts, so a sequential pass reads each page with one index range (no
/// skipping of the entries before it) and costs the same at any depth. An entry holds while no live row
/// has been removed since (new rows always come after every existing `seq`, so they never shift a
/// position); `live_counts.removed` says so within the reader's own snapshot.
#[derive(Debug, Default)]
pub(crate) struct Positions {
    known: std::sync::Mutex<std::collections::HashMap<PageStart, KnownStart>>,
}

/// A page of an unfiltered list: its table and its `startIndex`.
type PageStart = (&'static str, u64);
/// Where that page starts: the table's removal count when it was seen, and the `seq` it starts after.
type KnownStart = (i64, i64);

/// Positions kept at most; past it, the map starts again (a pass only ever needs the newest one per reader).
const POSITIONS: usize = 4096;

impl Positions {
    fn get(&self, table: &'static str, start_index: u64, removed: i64) -> Option<i64> {
        let known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        known.get(&(table, start_index)).filter(|(at, _)| *at == removed).map(|(_, after)| *after)
    }

    fn put(&self, table: &'static str, start_index: u64, removed: i64, after: i64) {
        let mut known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.len() >= POSITIONS {
            known.clear();
        }
        known.insert((table, start_index), (removed, after));
    }
}

/// One page of `table` matching `query` (planned as `planned`), with the total.
pub(super) fn list<T>(
    conn: &Connection,
    table: &Table<T>,
    query: &ListQuery,
    planned: Planned,
    location_base: &str,
    positions: &Positions,
) -> Result<Found<T>, StoreError> {
    match (planned.residual, planned.order) {
        (None, Some(order)) => list_in_sql(conn, table, planned.sql, order, query.page, positions),
        (residual, _) => {
            list_in_memory(conn, table, planned.sql, residual.as_ref(), query.sort.as_ref(), query.page, location_base)
        }
    }
}

fn condition(table: &Table<impl Sized>, sql: Option<Sql>) -> (String, Vec<rusqlite::types::Value>) {
    match sql {
        Some(sql) => (format!("{} AND {}", table.live, sql.text), sql.params),
        None => (table.live.to_owned(), Vec::new()),
    }
}

/// The statements of a query SQL answers whole: the page with its parameters, and the count, which is
/// only written out when it is needed (a page that holds the end of the results gives the total).
struct Statements {
    /// What the count counts: the live condition and the filter's SQL.
    condition: String,
    filtered: bool,
    page: String,
    /// The page's parameters; the first `condition_params` are the condition's, all the count needs.
    params: Vec<rusqlite::types::Value>,
    condition_params: usize,
}

impl Statements {
    fn count<T>(&self, table: &Table<T>) -> String {
        // Without a filter the total is the live count the triggers of `live_counts` keep.
        if self.filtered {
            format!("SELECT count(*) FROM {} WHERE {}", table.name, self.condition)
        } else {
            format!("SELECT live FROM live_counts WHERE kind = '{}'", table.name)
        }
    }

    fn count_params(&self) -> &[rusqlite::types::Value] {
        &self.params[..self.condition_params]
    }
}

/// The statements of a page; `after`, for an unfiltered page in the stable order, is the `seq` the page
/// is known to start after (see `Positions`).
fn statements<T>(
    table: &Table<T>,
    sql: Option<Sql>,
    order: Option<(&str, bool)>,
    page: Page,
    after: Option<i64>,
) -> Statements {
    let range = sql.as_ref().is_some_and(|sql| sql.range);
    let filtered = sql.is_some();
    let (condition, params) = condition(table, sql);
    let condition_params = params.len();
    // Resources without a value sort last in both directions; `seq` breaks ties, so pages are stable.
    let order_by = match order {
        None if range => "+seq".to_owned(),
        None => "seq".to_owned(),
        Some((column, false)) => format!("{column} IS NULL, {column}, seq"),
        Some((column, true)) => format!("{column} IS NULL, {column} DESC, seq DESC"),
    };
    let count_limit = i64::try_from(page.count()).unwrap_or(i64::MAX);
    let mut page_params = params;
    let offset = |start_index: u64| i64::try_from(start_index - 1).unwrap_or(i64::MAX);
    let (page_condition, limit) = match page {
        // An unfiltered page in the stable order whose start is known: one range of the primary key.
        Page::Index { .. } if !filtered && order.is_none() && after.is_some() => {
            page_params.push(after.unwrap_or(0).into());
            page_params.push(count_limit.into());
            (Cow::Owned(format!("{condition} AND seq > ?")), "LIMIT ?")
        }
        // An unfiltered page in the stable order: its first `seq` is found by skipping entries of the
        // index of live `seq`s, not whole rows (what makes a deep page of an import cheap).
        Page::Index { start_index, .. } if !filtered && order.is_none() && start_index > 1 => {
            page_params.push(offset(start_index).into());
            page_params.push(count_limit.into());
            let first = format!("(SELECT seq FROM {} WHERE {} ORDER BY seq LIMIT 1 OFFSET ?)", table.name, table.live);
            (Cow::Owned(format!("{condition} AND seq >= {first}")), "LIMIT ?")
        }
        Page::Index { start_index, .. } => {
            page_params.push(count_limit.into());
            page_params.push(offset(start_index).into());
            (Cow::Borrowed(condition.as_str()), "LIMIT ? OFFSET ?")
        }
        Page::Cursor { after, .. } => {
            page_params.push(after.map_or(0, |c| c.0).into());
            // One more than asked: its presence says whether a next page exists.
            page_params.push(count_limit.saturating_add(1).into());
            (Cow::Owned(format!("{condition} AND seq > ?")), "LIMIT ?")
        }
    };
    let page =
        format!("SELECT {} FROM {} WHERE {page_condition} ORDER BY {order_by} {limit}", table.columns, table.name);
    Statements { condition, filtered, page, params: page_params, condition_params }
}

/// For an unfiltered index page in the stable order: its start index with the table's removal count
/// (to remember where it ends), and the `seq` it starts after when the page before told (`Positions`).
type Sequential = (Option<(u64, i64)>, Option<i64>);

fn known_start<T>(
    conn: &Connection,
    table: &Table<T>,
    filtered: bool,
    order: Option<(&str, bool)>,
    page: Page,
    positions: &Positions,
) -> Result<Sequential, StoreError> {
    let Page::Index { start_index, .. } = page else { return Ok((None, None)) };
    if filtered || order.is_some() {
        return Ok((None, None));
    }
    let removed: i64 = conn
        .prepare_cached("SELECT removed FROM live_counts WHERE kind = ?1")?
        .query_row([table.name], |row| row.get(0))?;
    Ok((Some((start_index, removed)), positions.get(table.name, start_index, removed)))
}

/// The whole query in SQL: a count and one page read through the indexes.
fn list_in_sql<T>(
    conn: &Connection,
    table: &Table<T>,
    sql: Option<Sql>,
    order: Option<(&str, bool)>,
    page: Page,
    positions: &Positions,
) -> Result<Found<T>, StoreError> {
    let (sequential, after) = known_start(conn, table, sql.is_some(), order, page, positions)?;
    let statements = statements(table, sql, order, page, after);
    let count = |statements: &Statements| -> Result<u64, StoreError> {
        let total: i64 = conn
            .prepare_cached(&statements.count(table))?
            .query_row(params_from_iter(statements.count_params().iter()), |row| row.get(0))?;
        Ok(u64::try_from(total).unwrap_or(0))
    };
    if page.count() == 0 {
        return Ok(Found { total: count(&statements)?, items: Vec::new(), next: None });
    }
    let mut statement = conn.prepare_cached(&statements.page)?;
    let rows = statement.query_map(params_from_iter(statements.params.iter()), table.read)?;
    let mut items = Vec::new();
    let mut last_seq = None;
    let mut more = false;
    for row in rows {
        let (seq, item) = row?;
        if items.len() as u64 == page.count() {
            more = true;
            break;
        }
        items.push(item?);
        last_seq = Some(seq);
    }
    let next = match page {
        Page::Cursor { .. } if more => last_seq.map(Cursor),
        _ => None,
    };
    if let (Some((start_index, removed)), Some(last)) = (sequential, last_seq) {
        positions.put(table.name, start_index + items.len() as u64, removed, last);
    }
    // When the page holds the end of the results, the total follows from it and the count (a second
    // pass over the index) is skipped: a lookup by userName costs one indexed read.
    let shown = items.len() as u64;
    let total = match page {
        Page::Index { start_index, count: wanted } if shown < wanted && (start_index == 1 || shown > 0) => {
            start_index - 1 + shown
        }
        Page::Cursor { after: None, .. } if !more => shown,
        _ => count(&statements)?,
    };
    Ok(Found { total, items, next })
}

/// SQLite's plan for the statements `list` would run for `query`, one line per step (for tests and
/// operators: an indexed filter must show `USING INDEX`, never a `SCAN` of the table).
pub(super) fn explain<T>(
    conn: &Connection,
    table: &Table<T>,
    query: &ListQuery,
    positions: &Positions,
) -> Result<Vec<String>, StoreError> {
    let Planned { sql, residual, order, .. } = Planned::new(table.kind, query);
    let statements: Vec<(String, Vec<rusqlite::types::Value>)> = match (residual, order) {
        (None, Some(order)) => {
            let (_, after) = known_start(conn, table, sql.is_some(), order, query.page, positions)?;
            let s = statements(table, sql, order, query.page, after);
            vec![(s.count(table), s.count_params().to_vec()), (s.page, s.params)]
        }
        _ => {
            let (condition, params) = condition(table, sql);
            vec![(format!("SELECT {} FROM {} WHERE {condition} ORDER BY seq", table.columns, table.name), params)]
        }
    };
    let mut lines = Vec::new();
    for (statement, params) in statements {
        let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {statement}"))?;
        let rows = explain.query_map(params_from_iter(params.iter()), |row| row.get::<_, String>(3))?;
        for row in rows {
            lines.push(row?);
        }
    }
    Ok(lines)
}

/// The query with a residual filter or a sort key without a column: every candidate the SQL part selects
/// is rendered and tested, so the result and its total are exact.
fn list_in_memory<T>(
    conn: &Connection,
    table: &Table<T>,
    sql: Option<Sql>,
    residual: Option<&Filter>,
    sort: Option<&Sort>,
    page: Page,
    location_base: &str,
) -> Result<Found<T>, StoreError> {
    let (condition, params) = condition(table, sql);
    let mut statement =
        conn.prepare_cached(&format!("SELECT {} FROM {} WHERE {condition} ORDER BY seq", table.columns, table.name))?;
    let rows = statement.query_map(params_from_iter(params.iter()), table.read)?;
    let mut matched: Vec<(i64, T, Option<Value>)> = Vec::new();
    for row in rows {
        let (seq, item) = row?;
        let item = item?;
        let rendered = (table.render)(conn, seq, &item, location_base)?;
        if residual.is_some_and(|filter| !matches(filter, &rendered, table.kind)) {
            continue;
        }
        let key = sort.and_then(|sort| sort_key(table.kind, &rendered, sort));
        matched.push((seq, item, key));
    }
    if let Some(sort) = sort {
        matched.sort_by(|a, b| {
            let tie = if sort.descending { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) };
            compare_keys(a.2.as_ref(), b.2.as_ref(), sort.descending).then(tie)
        });
    }
    let total = matched.len() as u64;
    let count = usize::try_from(page.count()).unwrap_or(usize::MAX);
    if count == 0 {
        return Ok(Found { total, items: Vec::new(), next: None });
    }
    Ok(match page {
        Page::Index { start_index, .. } => {
            let skip = usize::try_from(start_index - 1).unwrap_or(usize::MAX);
            let items = matched.into_iter().skip(skip).take(count).map(|(_, item, _)| item).collect();
            Found { total, items, next: None }
        }
        Page::Cursor { after, .. } => {
            let after = after.map_or(0, |c| c.0);
            let mut rest = matched.into_iter().filter(|(seq, _, _)| *seq > after);
            let page: Vec<_> = rest.by_ref().take(count).collect();
            let next = if rest.next().is_some() { page.last().map(|(seq, _, _)| Cursor(*seq)) } else { None };
            Found { total, items: page.into_iter().map(|(_, item, _)| item).collect(), next }
        }
    })
}

/// The value a resource sorts by: the first value of the attribute (the primary one, for multi-valued
/// attributes that have one), folded when the attribute compares case-insensitively.
fn sort_key(kind: ResourceKind, resource: &Value, sort: &Sort) -> Option<Value> {
    let mut node = resource;
    if let Some(uri) = &sort.path.uri {
        node = node.get(uri)?;
    }
    let mut value = node.get(&sort.path.attr)?;
    if let Value::Array(items) = value {
        value = items
            .iter()
            .find(|item| item.get("primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| items.first())?;
    }
    if let Some(sub) = &sort.path.sub_attr {
        value = value.get(sub)?;
    }
    let case_exact = schema::resolve(kind, &sort.path.to_string()).is_some_and(|resolved| resolved.target().case_exact);
    match value {
        Value::Null => None,
        Value::String(text) if !case_exact => Some(schema::fold_case(text).into()),
        other => Some(other.clone()),
    }
}

/// Orders sort keys: missing values last in both directions; strings by code point, numbers
/// numerically, anything else by its JSON text.
fn compare_keys(a: Option<&Value>, b: Option<&Value>, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ordering = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Greater,
        (Some(_), None) => return Ordering::Less,
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(a), Some(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => a.to_string().cmp(&b.to_string()),
        },
    };
    if descending { ordering.reverse() } else { ordering }
}
