//! The server under test, as parsed from `--base-url`: where to connect and which path prefix to put in
//! front of every SCIM path. This is the only place an address comes from, which is what keeps the
//! generator from ever reaching anything but the URL it was given.
//!
//! Only `http` is served: `https` is recognised and refused with a sentence saying so, anything else is
//! refused as not a web address. User info, queries and fragments are refused rather than ignored, so a
//! mistyped URL never silently means something else.

use std::fmt;

/// Where requests go: `host:port` to connect to and send as `Host`, and the base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host as written in the URL (an IPv6 literal keeps its brackets).
    pub host: String,
    pub port: u16,
    /// The path prefix without a trailing slash; empty for the root.
    pub base_path: String,
}

impl Target {
    /// Parses an `http://host[:port][/path]` URL.
    pub fn parse(url: &str) -> Result<Target, String> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
                return Err("https is not supported by scimload: give the server's plain http:// address".into());
            }
            _ => return Err(format!("{url:?} is not an http:// URL")),
        };
        if rest.contains(['?', '#']) {
            return Err("the base URL must not carry a query or a fragment".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err("the base URL must not carry user info; pass the token with --token".into());
        }
        let (host, port) = split_host_port(authority)?;
        if host.is_empty() {
            return Err(format!("{url:?} names no host"));
        }
        if path.chars().any(|c| c.is_ascii_whitespace() || c.is_ascii_control()) {
            return Err("the base URL's path must not contain spaces or control characters".into());
        }
        Ok(Target { host: host.to_owned(), port, base_path: path.trim_end_matches('/').to_owned() })
    }

    /// The value of the `Host` header, and what [`tokio::net::TcpStream::connect`] is given.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The host without IPv6 brackets, for connecting.
    pub fn connect_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// The request target for a path relative to the base URL (`/Users?…`); `""` means the base itself.
    pub fn path(&self, relative: &str) -> String {
        let joined = format!("{}{relative}", self.base_path);
        if joined.is_empty() { "/".to_owned() } else { joined }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.base_path)
    }
}

fn split_host_port(authority: &str) -> Result<(&str, u16), String> {
    // An IPv6 literal is bracketed, and its colons are not the port's.
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or("an IPv6 address in the URL lacks its closing ]")?;
        let after = &authority[close + 1..];
        match after.strip_prefix(':') {
            Some(port) => (&authority[..=close], Some(port)),
            None if after.is_empty() => (&authority[..=close], None),
            None => return Err(format!("unexpected {after:?} after the IPv6 address")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => 80,
        Some(text) => text.parse::<u16>().ok().filter(|p| *p != 0).ok_or(format!("{text:?} is not a port"))?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expected: Result<(&str, u16, &str), &str>) {
        let got = Target::parse(url);
        match expected {
            Ok((host, port, base)) => {
                let target = got.unwrap_or_else(|e| panic!("{url}: {e}"));
                assert_eq!((target.host.as_str(), target.port, target.base_path.as_str()), (host, port, base), "{url}");
            }
            Err(words) => {
                let error = got.expect_err(url);
                assert!(error.contains(words), "{url}: {error:?} should mention {words:?}");
            }
        }
    }

    #[test]
    fn accepts_plain_http_urls() {
        check("http://127.0.0.1:8080/scim/v2", Ok(("127.0.0.1", 8080, "/scim/v2")));
        check("http://127.0.0.1:8080/scim/v2/", Ok(("127.0.0.1", 8080, "/scim/v2")));
        check("HTTP://localhost", Ok(("localhost", 80, "")));
        check("http://localhost/", Ok(("localhost", 80, "")));
        check("http://[::1]:9000/scim", Ok(("[::1]", 9000, "/scim")));
        check("http://[::1]", Ok(("[::1]", 80, "")));
    }

    #[test]
    fn refuses_anything_else() {
        check("https://example.com/scim/v2", Err("https is not supported"));
        check("ftp://example.com/", Err("not an http:// URL"));
        check("example.com:8080", Err("not an http:// URL"));
        check("unix:///tmp/socket", Err("not an http:// URL"));
        check("http://", Err("names no host"));
        check("http://:8080/", Err("names no host"));
        check("http://host:0/", Err("not a port"));
        check("http://host:99999/", Err("not a port"));
        check("http://host:http/", Err("not a port"));
        check("http://user:pw@host/", Err("user info"));
        check("http://host/scim?x=1", Err("query"));
        check("http://host/a b", Err("spaces"));
        check("http://[::1/", Err("closing ]"));
    }

    #[test]
    fn builds_request_paths_under_the_base() {
        let target = Target::parse("http://127.0.0.1:1/scim/v2/").unwrap();
        assert_eq!(target.path("/Users?count=1"), "/scim/v2/Users?count=1");
        assert_eq!(target.path(""), "/scim/v2");
        let root = Target::parse("http://127.0.0.1:1").unwrap();
        assert_eq!(root.path(""), "/");
        assert_eq!(root.path("/Users"), "/Users");
        assert_eq!(root.authority(), "127.0.0.1:1");
        assert_eq!(Target::parse("http://[::1]:5/").unwrap().connect_host(), "::1");
        assert_eq!(target.to_string(), "http://127.0.0.1:1/scim/v2");
    }
}
