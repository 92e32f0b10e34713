//! Access handlers: users by id, userName or e-mail address; everything a user can reach and why; what is
//! shared with a group; one access decision; and "extend ownership" (admins only).

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::assets::grantee;
use super::{Caller, access_json, asset_json, group_json, ok, principal_json, user_json};
use crate::http::App;
use crate::http::json_api::{self, ApiError, ApiResult, paging, param, query};
use crate::sharing::{AssetKind, Decision, UserStatus};
use crate::store::UserAssets;

/// `GET /api/v1/users?userName=…` or `?email=…`: the live user with that name or address.
pub async fn find_user(app: &App, request: &Request<Incoming>) -> ApiResult {
    let params = query(request);
    let (user_name, email) = (param(&params, "userName"), param(&params, "email"));
    if user_name.is_none() && email.is_none() {
        return Err(ApiError::bad_request("look a user up with ?userName=… or ?email=…"));
    }
    ok(&user_json(&app.store.find_user(user_name, email).await?))
}

/// `GET /api/v1/users/{id}`: a user by SCIM id, deleted ones included.
pub async fn user(app: &App, id: &str) -> ApiResult {
    ok(&user_json(&app.store.user_summary(id).await?))
}

/// `GET /api/v1/users/{id}/assets?kind=&start=&count=`: what the user can reach, with level and reasons.
pub async fn user_assets(app: &App, request: &Request<Incoming>, id: &str) -> ApiResult {
    let params = query(request);
    let (start, count) = paging(&params)?;
    let kind = param(&params, "kind")
        .filter(|k| !k.is_empty())
        .map(AssetKind::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let found = app.store.user_assets(id, kind, start, count).await?;
    ok(&reachable_json(&found, start))
}

/// A page of what a user can reach, each asset with its level and reasons: the platform API's answer and
/// My access's (`/api/me`).
pub fn reachable_json(found: &UserAssets, start: u64) -> Value {
    let assets: Vec<Value> = found
        .assets
        .items
        .iter()
        .map(|item| {
            let mut value = asset_json(&item.asset);
            value["access"] = access_json(&item.access);
            value
        })
        .collect();
    json!({
        "user": user_json(&found.user),
        "totalResults": found.assets.total,
        "start": start,
        "count": assets.len(),
        "assets": assets,
    })
}

/// `GET /api/v1/groups/{id}/assets?start=&count=`: the assets granted to the group itself.
pub async fn group_assets(app: &App, request: &Request<Incoming>, id: &str) -> ApiResult {
    let (start, count) = paging(&query(request))?;
    let found = app.store.group_assets(id, start, count).await?;
    let assets: Vec<Value> = found
        .assets
        .items
        .iter()
        .map(|(asset, level)| {
            let mut value = asset_json(asset);
            value["level"] = Value::from(level.as_str());
            value
        })
        .collect();
    ok(&json!({
        "group": group_json(&found.group),
        "totalResults": found.assets.total,
        "start": start,
        "count": assets.len(),
        "assets": assets,
    }))
}

/// `GET /api/v1/access?user={id}&asset={id}` (or `userName=` / `email=` instead of `user=`): one decision.
pub async fn decide(app: &App, request: &Request<Incoming>) -> ApiResult {
    let params = query(request);
    let asset = param(&params, "asset").ok_or_else(|| ApiError::bad_request("name the asset: ?asset={id}"))?;
    let user_id = match (param(&params, "user"), param(&params, "userName"), param(&params, "email")) {
        (Some(id), _, _) => id.to_owned(),
        (None, None, None) => return Err(ApiError::bad_request("name the user: ?user={id}, ?userName=… or ?email=…")),
        (None, user_name, email) => app.store.find_user(user_name, email).await?.id,
    };
    let found = app.store.check_access(&user_id, asset).await?;
    let (level, via, reason) = match &found.decision {
        Decision::Allowed(access) => {
            let value = access_json(access);
            (value["level"].clone(), value["via"].clone(), None)
        }
        Decision::NoGrant => (Value::Null, json!([]), Some("nothing grants this user access to this asset")),
        Decision::Inactive(UserStatus::Deactivated) => {
            (Value::Null, json!([]), Some("the user is deactivated: a deactivated user has no access"))
        }
        Decision::Inactive(_) => (Value::Null, json!([]), Some("the user is deleted: a deleted user has no access")),
    };
    ok(&json!({
        "user": user_json(&found.user),
        "asset": { "id": found.asset.id, "kind": found.asset.kind.as_str(), "name": found.asset.name },
        "allowed": found.decision.level().is_some(),
        "level": level,
        "via": via,
        "reason": reason,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Heir {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Extend {
    to: Heir,
    /// Only say what would change (the dialog lists it before the admin confirms).
    #[serde(default)]
    preview: bool,
}

fn asset_refs(assets: &[crate::store::AssetRef]) -> Vec<Value> {
    assets.iter().map(|a| json!({ "id": a.id, "name": a.name })).collect()
}

/// `POST /api/v1/users/{id}/extend-ownership` with `{"to": {"type": "user"|"group", "id": …}}`: gives
/// the heir Owner on every asset the user owns, in one write. Admins only: it moves what people can do
/// with everything a person owned, which no service should decide on its own.
pub async fn extend_ownership(app: &App, caller: &Caller, request: Request<Incoming>, id: &str) -> ApiResult {
    let Caller::Admin(signed_in) = caller else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "extending ownership needs an admin signed in to the page; a platform token cannot do it",
        ));
    };
    let Extend { to, preview } = json_api::body(request).await?;
    let heir = grantee(&to.kind, to.id)?;
    let outcome = if preview {
        app.store.preview_extension(id, heir.clone()).await?
    } else {
        let outcome = app.store.extend_ownership(&caller.actor(), id, heir.clone()).await?;
        tracing::info!(admin = %signed_in.admin.username, user = %id, heir = %heir.describe(), extended = outcome.extended, "ownership extended");
        outcome
    };
    ok(&json!({
        "user": id,
        "to": { "type": heir.type_str(), "id": heir.id() },
        "preview": preview,
        "assets": outcome.assets,
        "extended": outcome.extended,
        "changed": asset_refs(&outcome.changed),
        "unchanged": asset_refs(&outcome.unchanged),
    }))
}

/// `GET /api/v1/users/{id}/owned?start=&count=`: what the user (deleted ones too) owns, as owner of record
/// or through an Owner grant, each with its other owners: the user page's Owned table.
pub async fn owned(app: &App, request: &Request<Incoming>, id: &str) -> ApiResult {
    let params = query(request);
    let (start, count) = paging(&params)?;
    let page = app.store.owned_assets(id, start, count).await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|owned| {
            let mut item = asset_json(&owned.asset);
            item["ownerOfRecord"] = json!(owned.of_record);
            item["ownerReachable"] = json!(owned.owner_reachable);
            item["coOwners"] = owned.co_owners.iter().map(principal_json).collect();
            item
        })
        .collect();
    ok(&json!({ "totalResults": page.total, "start": start, "count": items.len(), "assets": items }))
}
