//! Asset handlers: list, create, read, rename or re-own, delete, and the permission list the Share
//! dialog reads and saves.

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Caller, asset_json, ok, principal_json};
use crate::http::App;
use crate::http::json_api::{self, ApiError, ApiResult, paging, param, query};
use crate::sharing::{AssetKind, Grant, Grantee, Level};
use crate::store::{AssetChange, AssetQuery, NewAsset, Permissions};

fn bad(error: crate::sharing::Error) -> ApiError {
    ApiError::bad_request(error.to_string())
}

/// `GET /api/v1/assets?kind=&owner=&q=&start=&count=`, or `?needsOwner=true&start=&count=`: the assets
/// no active user can act as the owner of (`kind`, `owner` and `q` do not apply to that view).
pub async fn list(app: &App, request: &Request<Incoming>) -> ApiResult {
    let params = query(request);
    let (start, count) = paging(&params)?;
    let page = match param(&params, "needsOwner") {
        None | Some("" | "false") => {
            let kind =
                param(&params, "kind").filter(|k| !k.is_empty()).map(AssetKind::parse).transpose().map_err(bad)?;
            let owner_id = param(&params, "owner").filter(|o| !o.is_empty()).map(str::to_owned);
            let text = param(&params, "q").map(str::to_owned);
            app.store.list_assets(AssetQuery { kind, owner_id, text, start, count }).await?
        }
        Some("true") => app.store.assets_needing_owner(start, count).await?,
        Some(other) => return Err(ApiError::bad_request(format!("needsOwner must be true or false, not {other:?}"))),
    };
    ok(&json!({
        "totalResults": page.total,
        "start": start,
        "count": page.items.len(),
        "assets": page.items.iter().map(asset_json).collect::<Vec<_>>(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    kind: String,
    name: String,
    /// The SCIM id of the owner of record.
    owner: String,
}

/// `POST /api/v1/assets`: 201 with the asset and its `Location`.
pub async fn create(app: &App, caller: &Caller, request: Request<Incoming>) -> ApiResult {
    let Create { kind, name, owner } = json_api::body(request).await?;
    let kind = AssetKind::parse(&kind).map_err(bad)?;
    let asset = app.store.create_asset(&caller.actor(), NewAsset { kind, name, owner_id: owner }).await?;
    let mut response = json_api::answer(StatusCode::CREATED, &asset_json(&asset));
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/assets/{}", asset.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /api/v1/assets/{id}`.
pub async fn get(app: &App, id: &str) -> ApiResult {
    ok(&asset_json(&app.store.get_asset(id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    name: Option<String>,
    /// The SCIM id of the new owner of record: an active user.
    owner: Option<String>,
}

/// `PATCH /api/v1/assets/{id}`: rename (`name`) and/or re-own (`owner`).
pub async fn update(app: &App, caller: &Caller, request: Request<Incoming>, id: &str) -> ApiResult {
    let Update { name, owner } = json_api::body(request).await?;
    if name.is_none() && owner.is_none() {
        return Err(ApiError::bad_request("send a new \"name\", a new \"owner\" (a user id), or both"));
    }
    ok(&asset_json(&app.store.update_asset(&caller.actor(), id, AssetChange { name, owner_id: owner }).await?))
}

/// `DELETE /api/v1/assets/{id}`: the asset and its grants.
pub async fn delete(app: &App, caller: &Caller, id: &str) -> ApiResult {
    app.store.delete_asset(&caller.actor(), id).await?;
    Ok(json_api::no_content())
}

fn permissions_json(permissions: &Permissions) -> Value {
    let rows: Vec<Value> = permissions
        .grants
        .iter()
        .map(|grant| {
            let mut row = principal_json(&grant.principal);
            row["level"] = Value::from(grant.level.as_str());
            row
        })
        .collect();
    json!({
        "asset": asset_json(&permissions.asset),
        "levels": permissions.asset.kind.levels().iter().map(|l| l.as_str()).collect::<Vec<_>>(),
        "ownerReachable": permissions.owner_reachable,
        "permissions": rows,
    })
}

/// `GET /api/v1/assets/{id}/permissions`: the Share dialog's list.
pub async fn permissions(app: &App, id: &str) -> ApiResult {
    ok(&permissions_json(&app.store.asset_permissions(id).await?))
}

/// One row of a permission list. Other fields (what a GET returned: names, status) are ignored, so that
/// a client can send back what it read, changed.
#[derive(Deserialize)]
struct Row {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    level: String,
}

#[derive(Deserialize)]
struct Replace {
    permissions: Vec<Row>,
}

/// Reads `user`/`group` (any case; SCIM's `User`/`Group` too) and an id into a grantee.
pub fn grantee(kind: &str, id: String) -> Result<Grantee, ApiError> {
    match kind.to_ascii_lowercase().as_str() {
        "user" => Ok(Grantee::User(id)),
        "group" => Ok(Grantee::Group(id)),
        _ => Err(ApiError::bad_request(format!("unknown principal type {kind:?}: use \"user\" or \"group\""))),
    }
}

/// `PUT /api/v1/assets/{id}/permissions`: replaces the list (the Share dialog's *Save*), all or nothing.
pub async fn set_permissions(app: &App, caller: &Caller, request: Request<Incoming>, id: &str) -> ApiResult {
    let Replace { permissions } = json_api::body(request).await?;
    let mut grants = Vec::with_capacity(permissions.len());
    for row in permissions {
        grants.push(Grant { grantee: grantee(&row.kind, row.id)?, level: Level::parse(&row.level).map_err(bad)? });
    }
    ok(&permissions_json(&app.store.set_asset_permissions(&caller.actor(), id, grants).await?))
}
