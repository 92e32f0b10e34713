//! Admin accounts from the page: list them, add one, remove another, change your own password. The last
//! admin cannot be removed, and nobody removes themselves (another admin does), so the page can never
//! lock everyone out. A changed password ends the admin's other sessions.

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::session::{admin_json, check_throttle, hash_password, record_failure, verify_password};
use crate::audit::{Action, Entry, Target};
use crate::credentials;
use crate::http::App;
use crate::http::json_api::{ApiError, ApiResult, answer, body, no_content};
use crate::http::request::client_ip;
use crate::http::session::Caller;
use crate::store::{AdminRemoval, StoreError};

/// `GET /admin/api/admins`.
pub async fn list(app: &App, caller: &Caller) -> ApiResult {
    let admins = app.store.list_admins().await?;
    let admins: Vec<_> = admins
        .iter()
        .map(|admin| {
            let mut value = admin_json(admin);
            value["you"] = json!(admin.id == caller.admin.id);
            value
        })
        .collect();
    Ok(answer(StatusCode::OK, &json!({ "admins": admins })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAdmin {
    username: String,
    password: String,
}

/// `POST /admin/api/admins`.
pub async fn create(app: &App, caller: &Caller, request: Request<Incoming>) -> ApiResult {
    let NewAdmin { username, password } = body(request).await?;
    let username = credentials::check_admin_name(&username).map_err(|e| ApiError::bad_request(e.to_string()))?;
    credentials::check_password(&username, &password).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let hash = hash_password(app, password).await?;
    match app.store.create_admin(&caller.actor(), &username, hash).await {
        Ok(admin) => {
            tracing::info!(admin = %caller.admin.username, added = %admin.username, "admin added in the page");
            Ok(answer(StatusCode::CREATED, &json!({ "admin": admin_json(&admin) })))
        }
        Err(StoreError::Conflict(what)) => Err(ApiError::new(StatusCode::CONFLICT, format!("{what} exists already"))),
        Err(error) => Err(error.into()),
    }
}

/// `DELETE /admin/api/admins/{id}`.
pub async fn remove(app: &App, caller: &Caller, id: &str) -> ApiResult {
    if id == caller.admin.id {
        return Err(ApiError::bad_request("you cannot remove yourself; another admin can"));
    }
    match app.store.delete_admin(&caller.actor(), id).await {
        Ok(AdminRemoval::Removed(admin)) => {
            tracing::info!(admin = %caller.admin.username, removed = %admin.username, "admin removed in the page");
            Ok(no_content())
        }
        Ok(AdminRemoval::Last) => Err(ApiError::new(StatusCode::CONFLICT, "the last admin cannot be removed")),
        Err(StoreError::NotFound(_)) => Err(ApiError::not_found(format!("there is no admin with id {id:?}"))),
        Err(error) => Err(error.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /admin/api/password`: changes the caller's own password; their other sessions end.
pub async fn change_password(app: &App, caller: &Caller, request: Request<Incoming>) -> ApiResult {
    if caller.through_provider {
        return Err(ApiError::bad_request(
            "you signed in through the identity provider: your password is kept there, not in scimbox",
        ));
    }
    let address = client_ip(&request);
    let PasswordChange { current_password, new_password } = body(request).await?;
    // A stolen session must not become a way to guess the password: wrong current passwords count
    // against the sign-in throttle of this admin at this address.
    let username = &caller.admin.username;
    check_throttle(app, username, address)?;
    let found = app.store.admin_credentials_by_id(&caller.admin.id).await?.ok_or_else(ApiError::unauthorized)?;
    let bounded = current_password.len() <= credentials::PASSWORD_MAX_BYTES;
    if !(bounded && verify_password(app, current_password, found.password_hash).await?) {
        let lock = app.admin.throttle.failed(username, address, std::time::Instant::now());
        let target = Some(Target::new("admin", caller.admin.id.clone(), username.clone()));
        let details = json!({ "reason": "the current password is wrong" });
        record_failure(app, caller.actor(), Entry::new(Action::PasswordChangeFailed, target, details), lock, true)
            .await?;
        return Err(ApiError::bad_request("the current password is wrong"));
    }
    app.admin.throttle.succeeded(username, address);
    credentials::check_password(&caller.admin.username, &new_password)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let hash = hash_password(app, new_password).await?;
    app.store.set_admin_password(&caller.actor(), &caller.admin.id, hash, Some(caller.session_hash.clone())).await?;
    tracing::info!(admin = %caller.admin.username, "admin changed their password");
    Ok(no_content())
}
