//! `/Groups`: create, read, list, search, replace, patch and delete, with members kept as rows.
//!
//! Members are read only when the response shows them (`excludedAttributes=members`, which Okta and Entra
//! send on every group read, never touches a member row), and a large group's members are written
//! straight into the response bytes.

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::{
    if_match, if_none_match, list_query, list_request, no_content, not_modified, parse_json, projection, query_params,
    resource_bytes,
};
use crate::audit::Actor;
use crate::http::App;
use crate::http::reply::{self, Body};
use crate::http::request::{actor, base_url, read_body};
use crate::scim::group::{self, MemberView, StoredGroup};
use crate::scim::list::{self, Params};
use crate::scim::patch::{self, MemberChange};
use crate::scim::projection::Projection;
use crate::scim::schema::ResourceKind;
use crate::scim::{self};
use crate::store::Precondition;

const KIND: ResourceKind = ResourceKind::Group;

/// Which member sub-attributes the projection keeps, found by projecting a sample member once.
fn member_fields(projection: &Projection) -> Vec<String> {
    let mut probe = json!({
        "schemas": [group::GROUP_SCHEMA], "id": "probe", "displayName": "probe",
        "members": [{"value": "v", "$ref": "r", "type": "User", "display": "d"}],
    });
    projection.apply(KIND, &mut probe);
    probe["members"][0].as_object().map(|member| member.keys().cloned().collect()).unwrap_or_default()
}

/// The group's JSON bytes under `projection`, its members (when given) written straight into them.
pub(super) fn render_bytes(
    group: &StoredGroup,
    members: Option<&[MemberView]>,
    base: &str,
    projection: &Projection,
) -> Vec<u8> {
    let mut rendered = group::render(group, base);
    projection.apply(KIND, &mut rendered);
    let mut out = serde_json::to_vec(&rendered).unwrap_or_default();
    let fields = member_fields(projection);
    if let Some(members) = members.filter(|members| !members.is_empty() && !fields.is_empty())
        && out.last() == Some(&b'}')
    {
        out.pop();
        out.extend_from_slice(if rendered.as_object().is_some_and(|o| o.is_empty()) {
            b"\"members\":["
        } else {
            b",\"members\":["
        });
        let keep = |field: &str| fields.iter().any(|f| f == field);
        group::write_members(&mut out, members, base, &keep);
        out.extend_from_slice(b"]}");
    }
    out
}

fn respond(
    status: StatusCode,
    group: &StoredGroup,
    members: Option<&[MemberView]>,
    base: &str,
    projection: &Projection,
) -> Response<Body> {
    let bytes = render_bytes(group, members, base, projection);
    let location = KIND.location(base, &group.id);
    let location = (status == StatusCode::CREATED).then_some(location.as_str());
    resource_bytes(status, bytes, location, &group.etag())
}

/// `POST /Groups`, with or without members.
pub async fn create(app: &App, request: Request<Incoming>) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let projection = projection(&request, KIND)?;
    let actor = actor(&request);
    let body = read_body(request, app.config.limits.max_body_bytes).await?;
    let stored = create_from(app, &actor, &parse_json(&body)?).await?;
    let members = if projection.wants(KIND, "members") {
        app.store.get_group(&stored.id, true).await.map_err(reply::store_error)?.and_then(|(_, members)| members)
    } else {
        None
    };
    Ok(respond(StatusCode::CREATED, &stored, members.as_deref(), &base, &projection))
}

/// Creates a group from a request body (also for `/Bulk`).
pub(super) async fn create_from(app: &App, actor: &Actor, body: &Value) -> Result<StoredGroup, scim::Error> {
    let (draft, members) = group::draft(body)?;
    app.store.create_group(actor, draft, members.unwrap_or_default()).await.map_err(reply::store_error)
}

/// `GET /Groups/{id}`. Members are read only when shown, and then written straight into the response.
pub async fn get(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let projection = projection(&request, KIND)?;
    let fields = member_fields(&projection);
    if !projection.wants(KIND, "members") || fields.is_empty() {
        let (stored, _) =
            app.store.get_group(id, false).await.map_err(reply::store_error)?.ok_or_else(|| not_found(id))?;
        if if_none_match(&request, stored.version) {
            return Ok(not_modified(&stored.etag()));
        }
        return Ok(respond(StatusCode::OK, &stored, None, &base, &projection));
    }
    let (stored, members) = app
        .store
        .group_with_member_json(id, Vec::new(), base.clone(), fields)
        .await
        .map_err(reply::store_error)?
        .ok_or_else(|| not_found(id))?;
    if if_none_match(&request, stored.version) {
        return Ok(not_modified(&stored.etag()));
    }
    let mut rendered = group::render(&stored, &base);
    projection.apply(KIND, &mut rendered);
    let mut head = serde_json::to_vec(&rendered).unwrap_or_default();
    let pieces = if !members.is_empty() && head.pop() == Some(b'}') {
        head.extend_from_slice(b",\"members\":[");
        vec![head.into(), members.into(), bytes::Bytes::from_static(b"]}")]
    } else {
        vec![serde_json::to_vec(&rendered).unwrap_or_default().into()]
    };
    let mut response = reply::with_pieces(StatusCode::OK, reply::SCIM_JSON, pieces);
    if let Ok(etag) = hyper::header::HeaderValue::from_str(&stored.etag()) {
        response.headers_mut().insert(hyper::header::ETAG, etag);
    }
    Ok(response)
}

/// `PUT /Groups/{id}`: replaces the group; a body with `members` replaces the member list (writing only
/// the difference), a body without `members` leaves the members as they are (RFC 7644 §3.5.1 lets an
/// omitted attribute mean "not asserted"; losing a whole team's access to a rename is the worse risk).
pub async fn replace(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let projection = projection(&request, KIND)?;
    let precondition = if_match(&request);
    let actor = actor(&request);
    let body = read_body(request, app.config.limits.max_body_bytes).await?;
    let stored = replace_from(app, &actor, id, precondition, &parse_json(&body)?).await?;
    let members = read_members(app, &stored, &projection).await?;
    Ok(respond(StatusCode::OK, &stored, members.as_deref(), &base, &projection))
}

/// Replaces a group with a request body (also for `/Bulk`).
pub(super) async fn replace_from(
    app: &App,
    actor: &Actor,
    id: &str,
    precondition: Option<Precondition>,
    body: &Value,
) -> Result<StoredGroup, scim::Error> {
    let (draft, members) = group::draft(body)?;
    let changes: Vec<MemberChange> = members.map(MemberChange::Replace).into_iter().collect();
    app.store
        .update_group(actor, id, precondition, move |_current| Ok((draft, changes)))
        .await
        .map_err(reply::store_error)
}

/// `PATCH /Groups/{id}`: attribute operations and membership changes in one write. Answers 204, as Okta
/// and Entra expect for membership changes, so that changing one member of a large group never renders
/// the whole group; a request that names `attributes` or `excludedAttributes` gets 200 with the group.
pub async fn patch(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let params = query_params(&request);
    let wants_body = params.attributes.is_some() || params.excluded_attributes.is_some();
    let projection = projection(&request, KIND)?;
    let precondition = if_match(&request);
    let actor = actor(&request);
    let body = parse_json(&read_body(request, app.config.limits.max_body_bytes).await?)?;
    let stored = patch_from(app, &actor, id, precondition, &body).await?;
    // What the Activity page says about this request: the membership changes, which the answer lacks.
    let name = stored.attributes.get("displayName").and_then(Value::as_str).unwrap_or(id);
    let note = crate::http::recorder::group_patch_note(&body, name);
    if !wants_body {
        let mut response = no_content();
        if let Ok(etag) = hyper::header::HeaderValue::from_str(&stored.etag()) {
            response.headers_mut().insert(hyper::header::ETAG, etag);
        }
        if let Some(note) = note {
            response.extensions_mut().insert(note);
        }
        return Ok(response);
    }
    let members = read_members(app, &stored, &projection).await?;
    let mut response = respond(StatusCode::OK, &stored, members.as_deref(), &base, &projection);
    if let Some(note) = note {
        response.extensions_mut().insert(note);
    }
    Ok(response)
}

/// Applies a PATCH request body to a group (also for `/Bulk`).
pub(super) async fn patch_from(
    app: &App,
    actor: &Actor,
    id: &str,
    precondition: Option<Precondition>,
    body: &Value,
) -> Result<StoredGroup, scim::Error> {
    let operations = patch::parse_request(body, app.config.limits.patch_max_operations)?;
    app.store
        .update_group(actor, id, precondition, move |current| {
            let mut attributes = current.attributes.clone();
            let changes = patch::apply(KIND, &current.id, &mut attributes, &operations)?;
            let (draft, _) = group::draft(&Value::Object(attributes))?;
            Ok((draft, changes))
        })
        .await
        .map_err(reply::store_error)
}

async fn read_members(
    app: &App,
    stored: &StoredGroup,
    projection: &Projection,
) -> Result<Option<Vec<MemberView>>, scim::Error> {
    if !projection.wants(KIND, "members") {
        return Ok(None);
    }
    Ok(app.store.get_group(&stored.id, true).await.map_err(reply::store_error)?.and_then(|(_, members)| members))
}

/// `DELETE /Groups/{id}`.
pub async fn delete(app: &App, request: Request<Incoming>, id: &str) -> Result<Response<Body>, scim::Error> {
    let precondition = if_match(&request);
    app.store.delete_group(&actor(&request), id, precondition).await.map_err(reply::store_error)?;
    Ok(no_content())
}

/// `GET /Groups` (`search` false) and `POST /Groups/.search` (`search` true).
pub async fn list(app: &App, request: Request<Incoming>, search: bool) -> Result<Response<Body>, scim::Error> {
    let (base, params) = list_request(app, request, search).await?;
    respond_list(app, params, base).await
}

async fn respond_list(app: &App, params: Params, base: String) -> Result<Response<Body>, scim::Error> {
    let (query, projection) = list_query(app, params, KIND)?;
    let page = query.page;
    let with_members = projection.wants(KIND, "members");
    let found = app.store.list_groups(query, base.clone(), with_members).await.map_err(reply::store_error)?;
    let mut writer = list::ListWriter::new(&page, found.total, found.items.len(), found.next);
    for (stored, members) in &found.items {
        writer.resource().extend_from_slice(&render_bytes(stored, members.as_deref(), &base, &projection));
    }
    let mut response = reply::with_body(StatusCode::OK, reply::SCIM_JSON, writer.finish());
    response.extensions_mut().insert(crate::http::recorder::list_note("groups", found.total));
    Ok(response)
}

fn not_found(id: &str) -> scim::Error {
    scim::Error::not_found(format!("there is no group with id {id:?}"))
}
