//! The Activity page's API: recorded SCIM requests, newest first, filtered by outcome, resource and text,
//! in pages that continue from the last entry shown (`before`), so new requests never shift a page.

use hyper::{Request, StatusCode};
use serde_json::json;

use crate::http::App;
use crate::http::json_api::{ApiError, ApiResult, answer, cursor_paging, param, query};
use crate::store::{ActivityQuery, StatusFilter};

/// The resources an entry can be about (see `recorder::resource_of`).
const RESOURCES: [&str; 9] =
    ["Users", "Groups", "Bulk", "Me", ".search", "ServiceProviderConfig", "ResourceTypes", "Schemas", "other"];

/// `GET /admin/api/activity?status=&resource=&q=&before=&count=`.
pub async fn list<B>(app: &App, request: &Request<B>) -> ApiResult {
    let params = query(request);
    let status = match param(&params, "status") {
        None | Some("" | "all") => None,
        Some("succeeded") => Some(StatusFilter::Succeeded),
        Some("failed") => Some(StatusFilter::Failed),
        Some("4xx") => Some(StatusFilter::ClientErrors),
        Some("5xx") => Some(StatusFilter::ServerErrors),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "status {other:?} is not one of all, succeeded, failed, 4xx, 5xx"
            )));
        }
    };
    let resource = match param(&params, "resource") {
        None | Some("" | "all") => None,
        Some(known) if RESOURCES.contains(&known) => Some(known.to_owned()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "resource {other:?} is not one of all, {}",
                RESOURCES.join(", ")
            )));
        }
    };
    let text = param(&params, "q").map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    if text.as_deref().is_some_and(|t| t.chars().count() > 256) {
        return Err(ApiError::bad_request("the search text must be at most 256 characters"));
    }
    let (before, count) = cursor_paging(&params)?;
    let token = match param(&params, "token").map(str::trim) {
        None | Some("") => None,
        Some(id) if crate::credentials::is_token_id(id) => Some(id.to_owned()),
        Some(other) => return Err(ApiError::bad_request(format!("token {other:?} is not a token id"))),
    };
    let page = app.store.list_activity(ActivityQuery { status, resource, text, token, before, count }).await?;
    // Tokens by id: a request refused for its token recorded only the token's id; the page names it,
    // and says when it was revoked or has expired.
    let now = crate::store::format_time(crate::store::now());
    let tokens: std::collections::HashMap<String, (String, &str)> = app
        .store
        .list_tokens()
        .await?
        .into_iter()
        .map(|t| {
            let status = t.status(&now);
            (t.id, (t.name, status))
        })
        .collect();
    let items: Vec<_> = page
        .items
        .iter()
        .map(|record| {
            let e = &record.entry;
            let known = e.token_id.as_ref().and_then(|id| tokens.get(id));
            json!({
                "seq": record.seq,
                "at": e.at,
                "requestId": e.request_id,
                "tokenId": e.token_id,
                "tokenName": e.token_name.clone().or_else(|| known.map(|(name, _)| name.clone())),
                "tokenStatus": e.token_id.as_ref().map(|_| known.map_or("unknown", |(_, status)| *status)),
                "targetId": e.target_id,
                "method": e.method,
                "path": e.path,
                "resource": e.resource,
                "status": e.status,
                "latencyMs": (e.latency_us as f64) / 1000.0,
                "summary": e.summary,
                "error": e.error,
            })
        })
        .collect();
    Ok(answer(StatusCode::OK, &json!({ "total": page.total, "items": items, "next": page.next })))
}
