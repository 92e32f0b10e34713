//! `/Users`: create, read, list, search, replace, patch and delete.

use std::collections::HashMap;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use super::{
    hash_password, if_match, if_none_match, list_query, list_request, no_content, not_modified, parse_json, projection,
    resource,
};
use crate::audit::Actor;
use crate::http::App;
use crate::http::reply::{self, Body};
use crate::http::request::{actor, base_url, read_body};
use crate::scim::group::{UserGroup, render_user_groups};
use crate::scim::list::{self, Params};
use crate::scim::patch::{self, PatchOp};
use crate::scim::projection::Projection;
use crate::scim::schema::ResourceKind;
use crate::scim::user::{self, StoredUser, UserText};
use crate::scim::{self};
use crate::store::{PasswordChange, Precondition};

const KIND: ResourceKind = ResourceKind::User;

/// Renders a user with `groups` and applies the projection.
pub(super) fn render_with(stored: &StoredUser, groups: &[UserGroup], base: &str, projection: &Projection) -> Value {
    let mut rendered = user::render(stored, base);
    if !groups.is_empty()
        && let Some(object) = rendered.as_object_mut()
    {
        object.insert("groups".into(), render_user_groups(groups, base));
    }
    projection.apply(KIND, &mut rendered);
    rendered
}

/// Renders a user, reading its groups when the projection shows them.
async fn present(app: &App, stored: &StoredUser, base: &str, projection: &Projection) -> Result<Value, scim::Error> {
    let groups = if projection.wants(KIND, "groups") {
        app.store.user_groups(&stored.id).await.map_err(reply::store_error)?
    } else {
        Vec::new()
    };
    Ok(render_with(stored, &groups, base, projection))
}

/// A 200 answer with the user as `projection` shows it.
async fn respond(
    app: &App,
    stored: &StoredUser,
    base: &str,
    projection: &Projection,
) -> Result<Response<Body>, scim::Error> {
    let rendered = present(app, stored, base, projection).await?;
    Ok(resource(StatusCode::OK, &rendered, None, &stored.etag()))
}

/// `POST /Users`.
pub async fn create(app: &App, request: Request<Incoming>) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let projection = projection(&request, KIND)?;
    let actor = actor(&request);
    let body = read_body(request, app.config.limits.max_body_bytes).await?;
    let stored = create_from(app, &actor, &parse_json(&body)?).await?;
    // A user just created is in no group (its id was unknown until now), so its groups are not read.
    let rendered = render_with(&stored, &[], &base, &projection);
    let location = KIND.location(&base, &stored.id);
    let mut response = resource(StatusCode::CREATED, &rendered, Some(&location), &stored.etag());
    let name = stored.attributes.get("userName").and_then(Value::as_str).unwrap_or_default();
    response.extensions_mut().insert(crate::http::recorder::created_note("user", name));
    response.extensions_mut().insert(crate::http::recorder::ActivityTarget(stored.id.clone()));
    Ok(response)
}

/// Creates a user from a request body (also for `/Bulk`).
pub(super) async fn create_from(app: &App, actor: &Actor, body: &Value) -> Result<StoredUser, scim::Error> {
    let mut draft = user::draft(body)?;
    let password_hash = match draft.password.take() {
        Some(password) => Some(hash_password(app, password).await?),
        None => None,
    };
    app.store.create_user(actor, draft, password_hash).await.map_err(reply::store_error)
}

/// `GET /Users/{id}`; `If-None-Match` with the current version answers 304.
pub async fn get(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let projection = projection(&request, KIND)?;
    let stored = app.store.get_user(id).await.map_err(reply::store_error)?.ok_or_else(|| not_found(id))?;
    if if_none_match(&request, stored.version) {
        return Ok(not_modified(&stored.etag()));
    }
    respond(app, &stored, &base, &projection).await
}

/// `PUT /Users/{id}`: the body replaces the user; read-only attributes in it are ignored, and a user
/// without `password` in the body keeps the one it has.
pub async fn replace(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let projection = projection(&request, KIND)?;
    let precondition = if_match(&request);
    let actor = actor(&request);
    let body = read_body(request, app.config.limits.max_body_bytes).await?;
    let stored = replace_from(app, &actor, id, precondition, &parse_json(&body)?).await?;
    respond(app, &stored, &base, &projection).await
}

/// Replaces a user with a request body (also for `/Bulk`).
pub(super) async fn replace_from(
    app: &App,
    actor: &Actor,
    id: &str,
    precondition: Option<Precondition>,
    body: &Value,
) -> Result<StoredUser, scim::Error> {
    let mut draft = user::draft(body)?;
    let password = match draft.password.take() {
        Some(password) => PasswordChange::Set(hash_password(app, password).await?),
        None => PasswordChange::Keep,
    };
    app.store
        .update_user(actor, id, precondition, move |_current| Ok((draft, password)))
        .await
        .map_err(reply::store_error)
}

/// `PATCH /Users/{id}`: the operations are applied to the stored user inside one write, the result is
/// checked like a PUT body, and the user is answered (200).
pub async fn patch(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let projection = projection(&request, KIND)?;
    let precondition = if_match(&request);
    let actor = actor(&request);
    let body = read_body(request, app.config.limits.max_body_bytes).await?;
    let stored = patch_from(app, &actor, id, precondition, &parse_json(&body)?).await?;
    respond(app, &stored, &base, &projection).await
}

/// Applies a PATCH request body to a user (also for `/Bulk`).
pub(super) async fn patch_from(
    app: &App,
    actor: &Actor,
    id: &str,
    precondition: Option<Precondition>,
    body: &Value,
) -> Result<StoredUser, scim::Error> {
    let operations = patch::parse_request(body, app.config.limits.patch_max_operations)?;
    // argon2 must not run on the writer thread: the password the operations set is hashed now. One request
    // sets at most one password (the same value may appear more than once); more would make a single PATCH
    // a way to queue argon2 runs.
    let mut passwords = passwords_in(&operations);
    passwords.sort_unstable();
    passwords.dedup();
    if passwords.len() > 1 {
        return Err(scim::Error::invalid_value(format!(
            "the operations set {} different passwords; send one password per request",
            passwords.len()
        )));
    }
    let mut hashes = HashMap::new();
    for password in passwords {
        let hash = hash_password(app, password.clone()).await?;
        hashes.insert(password, hash);
    }
    // The operations are applied to the user as a reader sees it now, off the writer and off the async
    // workers: a PATCH of many operations costs milliseconds, which the single writer must not spend.
    // The write then only checks that the user is still that version; if a write came in between, the
    // operations are applied again, inside the write, to the user as it is. The slot is held from the
    // read to the write, so PATCHes cannot keep overtaking each other into that slower path.
    let _slot = app.patch_slots.acquire().await.map_err(|_| scim::Error::unavailable("shutting down"))?;
    let snapshot = app.store.get_user(id).await.map_err(reply::store_error)?.ok_or_else(|| not_found(id))?;
    let operations = std::sync::Arc::new(operations);
    let prepared = {
        let (operations, hashes) = (std::sync::Arc::clone(&operations), hashes.clone());
        tokio::task::spawn_blocking(move || {
            let outcome = patched(&snapshot, &operations, hashes);
            (snapshot.version, outcome)
        })
        .await
        .map_err(|e| scim::Error::internal(format!("the PATCH could not be applied: {e}")))?
    };
    app.store
        .update_user(actor, id, precondition, move |current| match prepared {
            (version, outcome) if version == current.version => outcome,
            _ => patched(current, &operations, hashes),
        })
        .await
        .map_err(reply::store_error)
}

/// What `operations` make of `current`: the new draft and its password (hashed beforehand into `hashes`).
fn patched(
    current: &StoredUser,
    operations: &[PatchOp],
    mut hashes: HashMap<String, String>,
) -> Result<(user::UserDraft, PasswordChange), scim::Error> {
    let mut attributes = current.attributes.clone();
    patch::apply(KIND, &current.id, &mut attributes, operations)?;
    let mut draft = user::draft(&Value::Object(attributes))?;
    let password = match draft.password.take() {
        None => PasswordChange::Keep,
        Some(password) => match hashes.remove(&password) {
            Some(hash) => PasswordChange::Set(hash),
            None => return Err(scim::Error::invalid_value("password must be a string")),
        },
    };
    Ok((draft, password))
}

/// Every string an operation could make the new password: a `password` path's value, or a `password`
/// member of a value object.
fn passwords_in(operations: &[PatchOp]) -> Vec<String> {
    let mut found = Vec::new();
    for operation in operations {
        let targets_password = operation.path.as_ref().is_some_and(|path| {
            path.attr.attr.eq_ignore_ascii_case("password") && path.filter.is_none() && path.sub_attr.is_none()
        });
        match (&operation.value, targets_password) {
            (Some(Value::String(password)), true) => found.push(password.clone()),
            (Some(Value::Object(object)), false) if operation.path.is_none() => {
                for (name, value) in object {
                    let name = name.rsplit(':').next().unwrap_or(name.as_str());
                    if let (true, Value::String(password)) = (name.eq_ignore_ascii_case("password"), value) {
                        found.push(password.clone());
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// `DELETE /Users/{id}`: 204, and the user is gone from SCIM (kept as a tombstone for the platform).
pub async fn delete(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let precondition = if_match(&request);
    app.store.delete_user(&actor(&request), id, precondition).await.map_err(reply::store_error)?;
    Ok(no_content())
}

/// `GET /Users` (`search` false) and `POST /Users/.search` (`search` true).
pub async fn list(app: &App, request: Request<Incoming>, search: bool) -> Result<Response<Body>, scim::Error> {
    if !search && let Some(lookup) = name_lookup(app, &request) {
        return respond_lookup(app, lookup, base_url(app, &request)).await;
    }
    let (base, params) = list_request(app, request, search).await?;
    respond_list(app, params, base).await
}

/// The identity provider's lookup a `GET /Users` is, if it is exactly one (see `NameLookup`).
fn name_lookup(app: &App, request: &Request<Incoming>) -> Option<list::NameLookup> {
    let max_results = u64::try_from(app.config.limits.max_results).unwrap_or(u64::MAX);
    list::NameLookup::from_pairs(crate::http::request::query_pairs(request.uri().query()?), max_results)
}

/// Answers a `userName eq` lookup from the unique index of names: the same answer `respond_list` gives
/// for it (at most one user, the first page, the default projection), without the general filter,
/// plan and SQL text.
async fn respond_lookup(app: &App, lookup: list::NameLookup, base: String) -> Result<Response<Body>, scim::Error> {
    let found = app.store.user_named(&lookup.user_name, true).await.map_err(reply::store_error)?;
    let total = u64::from(found.is_some());
    respond_page(write_page(&lookup.page, total, None, found.as_slice(), &base)?, total)
}

async fn respond_list(app: &App, params: Params, base: String) -> Result<Response<Body>, scim::Error> {
    let (query, projection) = list_query(app, params, KIND)?;
    let page = query.page;
    let with_groups = projection.wants(KIND, "groups");
    let found = app.store.list_users(query, base.clone(), with_groups).await.map_err(reply::store_error)?;
    let (total, next) = (found.total, found.next);
    let body = if projection.is_default() {
        write_page(&page, total, next, &found.items, &base)?
    } else {
        let mut resources = Vec::with_capacity(found.items.len());
        for (user, groups) in found.items {
            resources.push(render_with(&user.parse()?, &groups, &base, &projection));
        }
        serde_json::to_vec(&list::list_response(&page, total, resources, next)).unwrap_or_default()
    };
    respond_page(body, total)
}

/// A ListResponse of `items` under the default projection: each user is copied from its stored text.
fn write_page(
    page: &list::Page,
    total: u64,
    next: Option<list::Cursor>,
    items: &[(UserText, Vec<UserGroup>)],
    base: &str,
) -> Result<Vec<u8>, scim::Error> {
    let mut writer = list::ListWriter::new(page, total, items.len(), next);
    for (user, groups) in items {
        user.write_json(groups, base, writer.resource())?;
    }
    Ok(writer.finish())
}

fn respond_page(body: Vec<u8>, total: u64) -> Result<Response<Body>, scim::Error> {
    let mut response = reply::with_body(StatusCode::OK, reply::SCIM_JSON, body);
    response.extensions_mut().insert(crate::http::recorder::list_note("users", total));
    Ok(response)
}

fn not_found(id: &str) -> scim::Error {
    scim::Error::not_found(format!("there is no user with id {id:?}"))
}
