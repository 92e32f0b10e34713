//! `POST /.search` at the service provider's root (RFC 7644 §3.4.3): one search over users and groups.
//!
//! The filter is resolved for each resource type on its own; a type for which it names nothing
//! contributes no results (a filter on `userName` finds no groups), and only a filter that is invalid for
//! every type is an error. Results list users first, then groups, each in its own stable order (and its
//! own `sortBy` order); index pagination runs across both. Cursor pagination is offered per resource type.

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use super::parse_json;
use crate::http::App;
use crate::http::reply::{self, Body};
use crate::http::request::{base_url, read_body};
use crate::scim::list::{self, ListQuery, Page, Params};
use crate::scim::projection::Projection;
use crate::scim::schema::ResourceKind;
use crate::scim::{self};

pub async fn search(app: &App, request: Request<Incoming>) -> Result<Response<Body>, scim::Error> {
    let base = base_url(app, &request);
    let body = read_body(request, app.config.limits.max_body_bytes).await?;
    let params = Params::from_search_body(&parse_json(&body)?)?;
    if params.cursor.is_some() {
        return Err(scim::Error::invalid_value(
            "cursor pagination is offered on /Users/.search and /Groups/.search, not across resource types",
        ));
    }
    let max_results = u64::try_from(app.config.limits.max_results).unwrap_or(u64::MAX);
    let users = params.clone().into_query(ResourceKind::User, max_results);
    let groups = params.into_query(ResourceKind::Group, max_results);
    let (users, groups) = match (users, groups) {
        (Err(error), Err(_)) => return Err(error),
        (users, groups) => (users.ok(), groups.ok()),
    };
    let page = users.as_ref().or(groups.as_ref()).map(|q| q.page).unwrap_or(Page::Index { start_index: 1, count: 0 });
    let Page::Index { start_index, count } = page else {
        return Err(scim::Error::invalid_value("cursor pagination is not offered across resource types"));
    };

    let mut resources = Vec::new();
    let mut total = 0;
    if let Some(query) = users {
        let projection = projection_of(ResourceKind::User, &query)?;
        let with_groups = projection.wants(ResourceKind::User, "groups");
        let found = app.store.list_users(query, base.clone(), with_groups).await.map_err(reply::store_error)?;
        total += found.total;
        for (user, groups) in found.items {
            resources.push(super::users::render_with(&user.parse()?, &groups, &base, &projection));
        }
    }
    if let Some(mut query) = groups {
        let projection = projection_of(ResourceKind::Group, &query)?;
        // The groups' part of the page starts where the users ran out.
        let remaining = count.saturating_sub(resources.len() as u64);
        let group_start = start_index.saturating_sub(total).max(1);
        query.page = Page::Index { start_index: group_start, count: remaining };
        let with_members = projection.wants(ResourceKind::Group, "members");
        let found = app.store.list_groups(query, base.clone(), with_members).await.map_err(reply::store_error)?;
        total += found.total;
        for (stored, members) in &found.items {
            let bytes = super::groups::render_bytes(stored, members.as_deref(), &base, &projection);
            resources.push(serde_json::from_slice(&bytes).unwrap_or(Value::Null));
        }
    }
    Ok(reply::scim_json(StatusCode::OK, &list::list_response(&page, total, resources, None)))
}

fn projection_of(kind: ResourceKind, query: &ListQuery) -> Result<Projection, scim::Error> {
    Projection::parse(kind, query.attributes.as_deref(), query.excluded_attributes.as_deref())
}
