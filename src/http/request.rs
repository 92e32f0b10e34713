//! What every handler reads of a request, whichever API it serves: the client's address, the host it
//! named and the base URL that follows from it, its body (bounded in size and in time), and the escaped
//! form of its path that a log line may show, and the decoded pairs of its query string.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::Request;
use hyper::body::Incoming;
use hyper::header;

use super::App;
use crate::audit::Actor;
use crate::scim;

/// The SCIM endpoints, as the route table, the Activity record and the metrics name them.
const SCIM_ENDPOINTS: [&str; 8] =
    ["Users", "Groups", "Bulk", "Me", "ServiceProviderConfig", "ResourceTypes", "Schemas", ".search"];

/// The canonical name of a SCIM endpoint (the first path segment under `/scim/v2/`), whatever its case
/// (`/users` from some clients); `None` for a name that is not one.
pub fn scim_endpoint(name: &str) -> Option<&'static str> {
    SCIM_ENDPOINTS.into_iter().find(|known| known.eq_ignore_ascii_case(name))
}

/// Who the route table authenticated a request as (put into its extensions), as the audit log names the
/// actor of what the request changes; a request nobody authenticated is anonymous, from its address.
pub fn actor<B>(request: &Request<B>) -> Actor {
    let client = client_ip(request);
    match request.extensions().get::<super::Principal>() {
        Some(principal) => Actor::token(&principal.token_id, &principal.token_name, client),
        None => Actor::anonymous(client),
    }
}

/// The address of the client that sent a request, put into its extensions by the accept loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// The client address of a request, as the accept loop recorded it.
pub fn client_ip<B>(request: &Request<B>) -> Option<IpAddr> {
    request.extensions().get::<ClientAddr>().map(|a| a.0.ip())
}

/// The base URL for `meta.location`: `--public-url`, or else the scheme and host the client used (the
/// route table has refused a malformed host before any handler runs).
pub fn base_url<B>(app: &App, request: &Request<B>) -> String {
    if let Some(url) = &app.config.public_url {
        return url.as_str().to_owned();
    }
    let scheme = if app.config.tls.is_some() { "https" } else { "http" };
    match requested_host(request).filter(|host| is_well_formed_host(host)) {
        // Every SCIM answer's locations start with it: pushed, not `format!`ted.
        Some(host) => [scheme, "://", host].concat(),
        None => format!("{scheme}://{}", app.config.listen),
    }
}

/// The host a request names (its HTTP/2 `:authority` or its `Host` header), when it names one.
pub fn requested_host<B>(request: &Request<B>) -> Option<&str> {
    match request.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => request.headers().get(header::HOST).map(|h| h.to_str().unwrap_or("\0")),
    }
}

/// Whether `host` is a well-formed `host[:port]`: a DNS name or IPv4 address (letters, digits, dots,
/// hyphens) or a bracketed IPv6 address, and an optional decimal port. Nothing else (no user info, no
/// quotes, spaces or slashes), since the host may become part of `Location`, `meta.location` and the
/// base URL the page shows.
pub fn is_well_formed_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && (name.starts_with('[') == name.ends_with(']')) => {
            (name, Some(port))
        }
        _ => (host, None),
    };
    let port_ok = port.is_none_or(|port| !port.is_empty() && port.len() <= 5 && port.parse::<u16>().is_ok());
    let name_ok = match name.strip_prefix('[').and_then(|inner| inner.strip_suffix(']')) {
        Some(inner) => inner.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !name.is_empty()
                && name.len() <= 253
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                && !name.starts_with(['.', '-'])
        }
    };
    port_ok && name_ok
}

/// A request path as a log line may show it: the client chose every character, so quotes, backslashes,
/// control characters and anything outside printable ASCII (bidi overrides such as U+202E, zero-width
/// characters) are written as escapes, and a log reader sees exactly what was sent.
#[derive(Debug)]
pub struct LogSafe<'a>(pub &'a str);

impl std::fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                ' '..='~' => f.write_char(c)?,
                other => write!(f, "\\u{{{:x}}}", u32::from(other))?,
            }
        }
        Ok(())
    }
}

/// When a request's body must have arrived: put into every request's extensions by [`handle`], tighter on
/// the routes that need no credential.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub tokio::time::Instant);

/// Reads a whole request body, refusing more than `limit` bytes with 413 (early when `Content-Length`
/// already says so, otherwise as soon as the stream passes the limit), and a body that has not arrived by
/// the request's [`BodyDeadline`] with 408: a trickled body, or one shorter than its `Content-Length`,
/// holds its connection no longer than that.
pub async fn read_body(request: Request<Incoming>, limit: usize) -> Result<Bytes, scim::Error> {
    let too_large = || scim::Error::payload_too_large(format!("the request body is larger than {limit} bytes"));
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let deadline = request.extensions().get::<BodyDeadline>().copied();
    let collect = Limited::new(request.into_body(), limit).collect();
    let collected = match deadline {
        Some(BodyDeadline(at)) => match tokio::time::timeout_at(at, collect).await {
            Ok(collected) => collected,
            Err(_) => {
                return Err(scim::Error::request_timeout(
                    "the request body did not arrive in time; send it whole and at once",
                ));
            }
        },
        None => collect.await,
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Err(error) => Err(scim::Error::bad_request(format!("the request body could not be read: {error}"))),
    }
}

/// The name and value pairs of an `application/x-www-form-urlencoded` query string, decoded: what
/// `form_urlencoded::parse` yields for it, pair for pair. A piece with neither `%` nor `+` (a lookup's
/// `startIndex=1&count=100`) is borrowed as it is, and a piece to decode is decoded in one pass: on the
/// path of every `userName eq` lookup, the crate's byte-by-byte iterator cost more than the rest of the
/// query's handling together.
pub fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|piece| !piece.is_empty()).map(|piece| {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        (form_decode(name), form_decode(value))
    })
}

/// One name or value of a form-encoded string: `+` is a space, `%` and two hexadecimal digits are a byte
/// (any other `%` stays as it is), and bytes that do not form UTF-8 become U+FFFD.
fn form_decode(piece: &str) -> Cow<'_, str> {
    let bytes = piece.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(piece);
    }
    let hex = |b: Option<&u8>| b.and_then(|&b| char::from(b).to_digit(16)).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                if let (Some(high), Some(low)) = (hex(bytes.get(at + 1)), hex(bytes.get(at + 2))) {
                    out.push(high << 4 | low);
                    at += 3;
                    continue;
                }
                out.push(b'%');
            }
            other => out.push(other),
        }
        at += 1;
    }
    match String::from_utf8(out) {
        Ok(text) => Cow::Owned(text),
        Err(error) => Cow::Owned(String::from_utf8_lossy(error.as_bytes()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, logged: &str) {
        assert_eq!(LogSafe(path).to_string(), logged, "{path:?}");
    }

    #[test]
    fn hosts() {
        for good in [
            "scim.example.com",
            "scim.example.com:8443",
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
            "localhost",
        ] {
            assert!(is_well_formed_host(good), "{good}");
        }
        for bad in [
            "127.0.0.1:1@evil.example",
            "user@host",
            "evil.example\"",
            "a b",
            "host:",
            "host:99999",
            "host:8a",
            "[::1",
            "::1",
            "[not-v6]:80",
            "",
            "-leading.example",
            "a/b",
            "\0",
        ] {
            assert!(!is_well_formed_host(bad), "{bad}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// The decoder yields what the `form_urlencoded` crate does, for query strings made mostly of the
        /// characters that matter to it (`&`, `=`, `+`, `%`, hexadecimal digits) and for any text.
        #[test]
        fn query_pairs_decode_as_the_form_urlencoded_crate_does(
            shaped in "([&=+%0-9a-fA-FgG ~é\\u{1F600}]|%[0-9a-fA-F]{2}|%[89a-fA-F][0-9a-fA-F]){0,40}",
            any in ".{0,40}",
        ) {
            for query in [&shaped, &any] {
                let ours: Vec<_> = query_pairs(query).collect();
                let crate_pairs: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
                proptest::prop_assert_eq!(ours, crate_pairs, "{:?}", query);
            }
        }
    }

    #[test]
    fn query_pairs_of_an_identity_providers_lookup() {
        let pairs: Vec<_> =
            query_pairs("filter=userName+eq+%22a%2Bb%40example.com%22&startIndex=1&count=100&&x&%zz=%4").collect();
        let expected = [
            ("filter", "userName eq \"a+b@example.com\""),
            ("startIndex", "1"),
            ("count", "100"),
            ("x", ""),
            ("%zz", "%4"),
        ];
        assert_eq!(pairs.len(), expected.len());
        for ((name, value), (want_name, want_value)) in pairs.iter().zip(expected) {
            assert_eq!((name.as_ref(), value.as_ref()), (want_name, want_value));
        }
        assert!(matches!(pairs[1].1, Cow::Borrowed(_)), "a piece without escapes is not copied");
    }

    #[test]
    fn paths_are_logged_with_escapes() {
        check("/scim/v2/Users", "/scim/v2/Users");
        check("/a\u{202e}gnp.exe", "/a\\u{202e}gnp.exe");
        check("/\"quoted\"", "/\\\"quoted\\\"");
        check("/back\\slash", "/back\\\\slash");
        check("/tab\there\n", "/tab\\u{9}here\\u{a}");
        check("/zero\u{200b}width/é", "/zero\\u{200b}width/\\u{e9}");
    }
}
