//! "My access": what the signed-in person can reach, at which level and why, and their groups. Read-only,
//! for anyone signed in through the identity provider (admins too), served by the same index-only access
//! queries as the platform API (`Store::user_assets`, `Store::user_groups`).

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::json;

use super::App;
use super::json_api::{ApiError, ApiResult, answer, paging, query};
use super::platform::reachable_json;

/// `GET /api/me?start=&count=`: a page of what the signed-in person can reach, and their groups.
pub async fn access(app: &App, request: &Request<Incoming>) -> ApiResult {
    let signed = super::session::signed_in(app, request).await?;
    let Some(user_id) = signed.user_id() else {
        return Err(ApiError::not_found(
            "you are signed in with a local admin account, which is not a provisioned user: it has no access of its own",
        ));
    };
    let (start, count) = paging(&query(request))?;
    let reach = app.store.user_assets(user_id, None, start, count).await?;
    let groups = app.store.user_groups(user_id).await?;
    let mut answer_json = reachable_json(&reach, start);
    answer_json["groups"] =
        groups.iter().map(|g| json!({ "id": g.id, "displayName": g.display, "direct": g.direct })).collect();
    Ok(answer(StatusCode::OK, &answer_json))
}
