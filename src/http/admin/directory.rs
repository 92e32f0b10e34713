//! Users and groups as the page shows them: paged and searchable lists, a user with its groups and SCIM
//! attributes, a group with a page of its members. Everything here is read-only: users and groups are
//! managed by the identity provider over SCIM ("managed by SCIM" in the page), never edited here.

use hyper::{Request, StatusCode};
use serde_json::{Value, json};

use crate::http::App;
use crate::http::json_api::{ApiError, ApiResult, answer, paging, param, query};
use crate::store::{DirectoryGroup, DirectoryMember, DirectoryOrder, DirectoryQuery, DirectoryUser};

/// Where every user and group comes from today. Kept in the answers so that the page can tell SCIM
/// resources from local ones once those exist.
const SOURCE: &str = "scim";

fn user_json(user: &DirectoryUser) -> Value {
    json!({
        "id": user.id,
        "userName": user.user_name,
        "name": user.name,
        "email": user.email,
        "active": user.active,
        "lastModified": user.last_modified,
        "source": SOURCE,
    })
}

fn group_json(group: &DirectoryGroup) -> Value {
    json!({
        "id": group.id,
        "displayName": group.display_name,
        "externalId": group.external_id,
        "members": group.members,
        "lastModified": group.last_modified,
        "source": SOURCE,
    })
}

fn member_json(member: &DirectoryMember) -> Value {
    json!({
        "id": member.id,
        "type": member.kind,
        "display": member.display,
        "userName": member.user_name,
        "active": member.active,
    })
}

fn search_text(params: &[(String, String)]) -> Result<Option<&str>, ApiError> {
    let text = param(params, "q").map(str::trim).filter(|t| !t.is_empty());
    if text.is_some_and(|t| t.chars().count() > 256) {
        return Err(ApiError::bad_request("the search text must be at most 256 characters"));
    }
    Ok(text)
}

/// `sort=` (one of `allowed`, else `default`) and `order=asc|desc` (asc unless told).
fn order(
    params: &[(String, String)],
    allowed: &[&str],
    default: DirectoryOrder,
) -> Result<(DirectoryOrder, bool), ApiError> {
    let sort = match param(params, "sort") {
        None | Some("") => default,
        Some(name) if allowed.contains(&name) => DirectoryOrder::parse(name).unwrap_or(default),
        Some(other) => {
            return Err(ApiError::bad_request(format!("sort {other:?} is not one of {}", allowed.join(", "))));
        }
    };
    let descending = match param(params, "order") {
        None | Some("" | "asc") => false,
        Some("desc") => true,
        Some(other) => return Err(ApiError::bad_request(format!("order {other:?} is not asc or desc"))),
    };
    Ok((sort, descending))
}

/// `GET /admin/api/users?q=&status=active|deactivated&sort=name|userName|status|lastModified&order=&start=&count=`.
pub async fn users<B>(app: &App, request: &Request<B>) -> ApiResult {
    let params = query(request);
    let (start, count) = paging(&params)?;
    let (order, descending) =
        order(&params, &["name", "userName", "status", "lastModified"], DirectoryOrder::UserName)?;
    let active = match param(&params, "status") {
        None | Some("" | "all") => None,
        Some("active") => Some(true),
        Some("deactivated") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!("status {other:?} is not one of all, active, deactivated")));
        }
    };
    let text = search_text(&params)?.map(str::to_owned);
    let page = app.store.directory_users(DirectoryQuery { text, active, order, descending, start, count }).await?;
    Ok(answer(
        StatusCode::OK,
        &json!({
            "total": page.total, "start": start, "count": count,
            "items": page.items.iter().map(user_json).collect::<Vec<_>>(),
        }),
    ))
}

/// `GET /admin/api/users/{id}`: the user's row, its SCIM resource and its groups. A user deleted over
/// SCIM answers as `{"deleted": {…}}`: its page lists what it owned, for handing over.
pub async fn user<B>(app: &App, request: &Request<B>, id: &str) -> ApiResult {
    let missing = || ApiError::not_found(format!("there is no user with id {id:?}"));
    let Some(row) = app.store.directory_user(id).await? else {
        let deleted = app.store.deleted_user(id).await?.ok_or_else(missing)?;
        return Ok(answer(
            StatusCode::OK,
            &json!({ "deleted": {
                "id": deleted.id, "userName": deleted.user_name, "name": deleted.display_name,
                "deletedAt": deleted.deleted_at,
            } }),
        ));
    };
    let stored = app.store.get_user(id).await?.ok_or_else(missing)?;
    let base = crate::http::request::base_url(app, request);
    let resource = crate::scim::user::render(&stored, &base);
    let groups = app.store.user_groups(id).await?;
    let groups: Vec<Value> =
        groups.iter().map(|g| json!({ "id": g.id, "displayName": g.display, "direct": g.direct })).collect();
    Ok(answer(StatusCode::OK, &json!({ "user": user_json(&row), "resource": resource, "groups": groups })))
}

/// `GET /admin/api/groups?q=&sort=name|members|lastModified&order=&start=&count=`.
pub async fn groups<B>(app: &App, request: &Request<B>) -> ApiResult {
    let params = query(request);
    let (start, count) = paging(&params)?;
    let (order, descending) = order(&params, &["name", "members", "lastModified"], DirectoryOrder::Name)?;
    let text = search_text(&params)?.map(str::to_owned);
    let page =
        app.store.directory_groups(DirectoryQuery { text, active: None, order, descending, start, count }).await?;
    Ok(answer(
        StatusCode::OK,
        &json!({
            "total": page.total, "start": start, "count": count,
            "items": page.items.iter().map(group_json).collect::<Vec<_>>(),
        }),
    ))
}

/// `GET /admin/api/groups/{id}?q=&sort=name|userName|status&order=&start=&count=`: the group and one page
/// of its members, searched and ordered.
pub async fn group<B>(app: &App, request: &Request<B>, id: &str) -> ApiResult {
    let params = query(request);
    let (start, count) = paging(&params)?;
    let (order, descending) = order(&params, &["name", "userName", "status"], DirectoryOrder::Name)?;
    let text = search_text(&params)?.map(str::to_owned);
    let (group, members) = app
        .store
        .directory_group(id, DirectoryQuery { text, active: None, order, descending, start, count })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no group with id {id:?}")))?;
    Ok(answer(
        StatusCode::OK,
        &json!({
            "group": group_json(&group),
            "members": {
                "total": members.total, "start": start, "count": count,
                "items": members.items.iter().map(member_json).collect::<Vec<_>>(),
            },
        }),
    ))
}
