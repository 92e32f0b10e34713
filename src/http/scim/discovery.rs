//! The discovery endpoints: `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` (RFC 7644 §4). They
//! are read-only: any other method is 405.

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use crate::http::App;
use crate::http::reply::{self, Body};
use crate::http::request::base_url;
use crate::scim::{self, discovery};

fn scim_base<B>(app: &App, request: &Request<B>) -> String {
    format!("{}/scim/v2", base_url(app, request))
}

/// What the server can do, stated truthfully from its configuration.
pub fn capabilities(app: &App) -> discovery::Capabilities {
    discovery::Capabilities {
        max_results: app.config.limits.max_results,
        bulk_max_operations: app.config.limits.bulk_max_operations,
        bulk_max_payload_bytes: app.config.limits.max_body_bytes,
        documentation_uri: None,
    }
}

pub fn service_provider_config(app: &App, request: &Request<Incoming>) -> Result<Response<Body>, scim::Error> {
    let document = discovery::service_provider_config(&scim_base(app, request), &capabilities(app));
    Ok(reply::scim_json(StatusCode::OK, &document))
}

pub fn resource_types(app: &App, request: &Request<Incoming>, id: Option<&str>) -> Result<Response<Body>, scim::Error> {
    let base = scim_base(app, request);
    match id {
        None => Ok(reply::scim_json(StatusCode::OK, &discovery::list_response(discovery::resource_types(&base)))),
        Some(id) => discovery::resource_type(&base, id)
            .map(|document| reply::scim_json(StatusCode::OK, &document))
            .ok_or_else(|| scim::Error::not_found(format!("there is no resource type {id:?}"))),
    }
}

pub fn schemas(app: &App, request: &Request<Incoming>, id: Option<&str>) -> Result<Response<Body>, scim::Error> {
    let base = scim_base(app, request);
    match id {
        None => Ok(reply::scim_json(StatusCode::OK, &discovery::list_response(discovery::schema_documents(&base)))),
        Some(id) => discovery::schema_document(&base, id)
            .map(|document| reply::scim_json(StatusCode::OK, &document))
            .ok_or_else(|| scim::Error::not_found(format!("there is no schema {id:?}"))),
    }
}

/// Discovery documents cannot be changed.
pub fn read_only(endpoint: &str) -> scim::Error {
    scim::Error::method_not_allowed(format!("/{endpoint} is read-only: only GET is allowed"))
}
