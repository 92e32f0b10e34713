//! The embedded admin page: files from `web/`, compiled into the binary by rust-embed and served with
//! their content type, a strong ETag (the file's SHA-256) and `Cache-Control: no-cache`, so a browser
//! revalidates cheaply and never runs a stale page after an upgrade.

use hyper::header::{self, HeaderValue};
use hyper::{HeaderMap, Response, StatusCode};
use rust_embed::Embed;

use super::reply::{Body, empty, full};

#[derive(Embed)]
#[folder = "web/"]
#[exclude = "*.md"]
struct Assets;

/// The asset at `path` (relative, no leading slash), or `None`.
pub fn asset(path: &str, request_headers: &HeaderMap) -> Option<Response<Body>> {
    let file = Assets::get(path)?;
    let etag = format!("\"{}\"", crate::credentials::hex(&file.metadata.sha256_hash()));
    let fresh = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let mut response = if fresh {
        let mut response = Response::new(empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        Response::new(full(file.data.into_owned()))
    };
    let headers = response.headers_mut();
    // Text is served as UTF-8 (our files are), so no browser guesses another charset.
    let mimetype = file.metadata.mimetype();
    let content_type = if mimetype.starts_with("text/") || mimetype.ends_with("javascript") {
        format!("{mimetype}; charset=utf-8")
    } else {
        mimetype.to_owned()
    };
    if let Ok(content_type) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(response)
}
