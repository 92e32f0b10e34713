//! The Audit page's API: records newest first, filtered by actor, action, target and time, in pages that
//! continue from the last record shown (`before`); and the export of a time range as JSON Lines, oldest
//! first, streamed a chunk at a time so that a year of records never sits in memory.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Frame;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::audit::{Action, Record};
use crate::http::App;
use crate::http::json_api::{ApiError, ApiResult, answer, cursor_paging, param, query};
use crate::store::AuditQuery;

/// Records one export reads and sends at a time.
const EXPORT_CHUNK: usize = 2000;

fn time_param(params: &[(String, String)], name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    match param(params, name).map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => crate::store::parse_time(text).map(Some).ok_or_else(|| {
            ApiError::bad_request(format!("{name} must be a time such as 2026-12-01T00:00:00Z, not {text:?}"))
        }),
    }
}

fn text_param(params: &[(String, String)], name: &str) -> Result<Option<String>, ApiError> {
    let text = param(params, name).map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > 256) {
        return Err(ApiError::bad_request(format!("{name} must be at most 256 characters")));
    }
    Ok(text.map(str::to_owned))
}

/// A record as the page shows it: the stored record with its details as JSON.
pub fn record_json(record: &Record) -> Value {
    let details: Value = serde_json::from_str(&record.details).unwrap_or(Value::Null);
    json!({
        "seq": record.seq,
        "at": record.at,
        "actor": record.actor,
        "action": record.action,
        "outcome": record.outcome,
        "target": record.target,
        "details": details,
        "hash": record.hash,
    })
}

/// `GET /admin/api/audit?actor=&action=&target=&since=&until=&before=&count=`.
pub async fn list<B>(app: &App, request: &Request<B>) -> ApiResult {
    let params = query(request);
    let action = match param(&params, "action").map(str::trim) {
        None | Some("" | "all") => None,
        Some(text) => {
            Some(Action::parse(text).ok_or_else(|| ApiError::bad_request(format!("there is no action {text:?}")))?)
        }
    };
    let (before_seq, limit) = cursor_paging(&params)?;
    let query = AuditQuery {
        actor: text_param(&params, "actor")?,
        action,
        target: text_param(&params, "target")?,
        since: time_param(&params, "since")?,
        until: time_param(&params, "until")?,
        before_seq,
        limit,
    };
    let page = app.store.audit_page(query).await?;
    let next = if page.more { page.records.last().map(|r| r.seq) } else { None };
    let records: Vec<Value> = page.records.iter().map(record_json).collect();
    let actions: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    Ok(answer(StatusCode::OK, &json!({ "records": records, "next": next, "actions": actions })))
}

/// `GET /admin/api/audit/export?since=&until=`: JSON Lines, oldest first, each line a record exactly as
/// `scimbox audit export` writes it (with `prev` and `hash`, so that the file can be checked).
pub async fn export<B>(app: &App, request: &Request<B>) -> ApiResult {
    let params = query(request);
    let since = time_param(&params, "since")?;
    let until = time_param(&params, "until")?.map(crate::store::format_time);
    // Fail before the answer starts when the store cannot be read at all.
    let first = app.store.audit_records_after(i64::MIN, since, EXPORT_CHUNK).await?;
    let (mut sender, body) = http_body_util::channel::Channel::<Bytes, std::convert::Infallible>::new(4);
    let store = app.store.clone();
    tokio::spawn(async move {
        let mut chunk = first;
        loop {
            let Some(last) = chunk.last().map(|r| r.seq) else { return };
            let mut text = Vec::with_capacity(chunk.len() * 512);
            let mut done = false;
            for record in &chunk {
                if until.as_deref().is_some_and(|until| record.at.as_str() >= until) {
                    done = true;
                    break;
                }
                // Writing into memory cannot fail.
                let _ = record.write_line(&mut text);
            }
            if sender.send(Frame::data(Bytes::from(text))).await.is_err() || done || chunk.len() < EXPORT_CHUNK {
                return;
            }
            chunk = match store.audit_records_after(last, since, EXPORT_CHUNK).await {
                Ok(chunk) => chunk,
                Err(error) => {
                    // The answer has started: ending it early is all that is left; the file then lacks
                    // its tail, which a check of the chain's head shows.
                    tracing::warn!(%error, "the audit export stopped early");
                    return;
                }
            };
        }
    });
    let mut response = Response::new(body.boxed());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/jsonl; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let name = format!(
        "attachment; filename=\"scimbox-audit-{}.jsonl\"",
        &crate::store::format_time(crate::store::now())[..10]
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
