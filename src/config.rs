//! The one typed, validated configuration of a running server, built once by `cli.rs` from flags and
//! `SCIMBOX_*` variables and passed explicitly to whatever needs it. There is no global configuration.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use http::Uri;

/// Everything `serve` needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address the caller asked to listen on (the listener itself is bound by the caller).
    pub listen: SocketAddr,
    /// Where the database and its companions live.
    pub data_dir: PathBuf,
    /// The externally visible base URL, without a trailing slash; `None` derives it from each request.
    pub public_url: Option<PublicUrl>,
    /// Certificate and key files when the server speaks HTTPS itself.
    pub tls: Option<TlsFiles>,
    pub log_format: LogFormat,
    pub limits: Limits,
    /// Admin page sessions and the activity record.
    pub admin: AdminSettings,
    /// Retention of the audit log and its stream for a SIEM.
    pub audit: AuditSettings,
    /// Where Prometheus scrapes `/metrics`: its own listener, off when `None`.
    pub metrics_listen: Option<SocketAddr>,
    /// Sign-in through the identity provider (OpenID Connect); off when `None`.
    pub oidc: Option<OidcSettings>,
    /// Threads that serve connections (`http/workers.rs`); `None` for one more than the cores.
    pub http_workers: Option<NonZeroUsize>,
}

impl Config {
    /// A configuration with the embedded defaults and the given data directory: what `scimbox serve`
    /// with no flags uses, and what tests start from.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            public_url: None,
            tls: None,
            log_format: LogFormat::Text,
            limits: Limits::default(),
            admin: AdminSettings::default(),
            audit: AuditSettings::default(),
            metrics_listen: None,
            oidc: None,
            http_workers: None,
        }
    }

    /// Where the SQLite database lives.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(crate::store::DATABASE_FILE)
    }
}

/// Bounds that protect the server from slow, large or too many clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// How long a new connection may take, from `accept`, to finish its TLS handshake and send the head of
    /// its first request. Later requests on a kept-alive connection have the idle timeout.
    pub header_timeout: Duration,
    /// How long a request body may take to arrive once its head is read (requests that need a credential;
    /// the open routes, sign-in and setup, get [`OPEN_BODY_TIMEOUT`] at most).
    pub body_timeout: Duration,
    /// How long a connection may stay without any traffic before it is closed; also how long a kept-alive
    /// connection may take from one answer to the end of its next request head.
    pub idle_timeout: Duration,
    /// Connections served at once; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Connections one client address may hold at once; further ones from it are closed at `accept`.
    pub max_connections_per_address: usize,
    /// How long shutdown waits for requests in flight before it closes their connections.
    pub shutdown_timeout: Duration,
    /// The largest page a SCIM list returns (`count` is capped to it; never below 100, Okta pages by 100).
    pub max_results: usize,
    /// The most operations one `POST /Bulk` may hold (its payload is bounded by `max_body_bytes`).
    pub bulk_max_operations: usize,
    /// The most operations one PATCH request may hold (also each PATCH inside a bulk request).
    pub patch_max_operations: usize,
}

/// The body deadline of the routes that need no credential (sign-in, setup): their bodies are a few
/// hundred bytes, so a client that needs longer is trickling on purpose.
pub const OPEN_BODY_TIMEOUT: Duration = Duration::from_secs(5);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
            max_connections: 1024,
            max_connections_per_address: 128,
            shutdown_timeout: Duration::from_secs(10),
            max_results: 1000,
            bulk_max_operations: 1000,
            patch_max_operations: 1000,
        }
    }
}

/// How long audit records are kept, and where each is also written as one JSON line for a SIEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// Records older than this are removed from the oldest end; `None` keeps them all.
    pub retention: Option<Duration>,
    pub stream: Option<AuditStream>,
}

/// Days an audit record is kept by default: a year and a month, so that a yearly review finds the whole
/// year.
pub const AUDIT_RETENTION_DAYS: u64 = 400;

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { retention: Some(Duration::from_secs(AUDIT_RETENTION_DAYS * 86_400)), stream: None }
    }
}

/// Where the audit stream goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditStream {
    /// Standard output (journald, a container's log collector).
    Stdout,
    /// A file, appended to; a restarted server goes on after the last record in it.
    File(PathBuf),
}

impl AuditStream {
    /// `-` is standard output; anything else a file path.
    pub fn parse(text: &str) -> AuditStream {
        if text == "-" { AuditStream::Stdout } else { AuditStream::File(PathBuf::from(text)) }
    }
}

/// The admin page's sessions and the bounds of the activity record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSettings {
    /// How long a sign-in lasts at most, however active the admin is.
    pub session_lifetime: Duration,
    /// How long a session survives without a request.
    pub session_idle_timeout: Duration,
    /// The most SCIM requests the activity record keeps (the newest ones).
    pub activity_max_rows: u64,
    /// The oldest a kept activity entry may be.
    pub activity_max_age: Duration,
    /// Whether local admin accounts may sign in with their password (the break-glass way in when the
    /// identity provider signs people in). `scimbox admin create` works either way.
    pub password_sign_in: bool,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            session_lifetime: Duration::from_secs(12 * 3600),
            session_idle_timeout: Duration::from_secs(30 * 60),
            activity_max_rows: 100_000,
            activity_max_age: Duration::from_secs(90 * 24 * 3600),
            password_sign_in: true,
        }
    }
}

impl AdminSettings {
    /// Refuses bounds that would make the page unusable or the record unbounded.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.session_lifetime.is_zero() {
            return Err(ConfigError::Limit { name: "session-lifetime-mins", why: "at least 1" });
        }
        if self.session_idle_timeout.is_zero() {
            return Err(ConfigError::Limit { name: "session-idle-mins", why: "at least 1" });
        }
        if self.activity_max_rows == 0 {
            return Err(ConfigError::Limit { name: "activity-max-rows", why: "at least 1" });
        }
        if self.activity_max_age.is_zero() {
            return Err(ConfigError::Limit { name: "activity-max-age-days", why: "at least 1" });
        }
        Ok(())
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The certificate chain and private key of the HTTPS listener, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A validated external base URL: `http` or `https`, a host, an optional path, no query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// Validates and normalises (drops one trailing slash) a base URL such as
    /// `https://scim.example.com` or `https://example.com/scimbox/`.
    pub fn parse(text: &str) -> Result<PublicUrl, ConfigError> {
        let invalid = |why: &str| ConfigError::PublicUrl { url: text.to_owned(), why: why.to_owned() };
        let uri: Uri = text.parse().map_err(|_| invalid("it is not a URL"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => return Err(invalid("it must start with http:// or https://")),
        }
        if uri.authority().is_none_or(|a| a.host().is_empty()) {
            return Err(invalid("it must name a host"));
        }
        if uri.query().is_some() || text.contains('#') {
            return Err(invalid("it must not have a query or fragment"));
        }
        Ok(PublicUrl(text.trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Sign-in through the identity provider: an OpenID Connect relying party using the authorization code
/// flow with PKCE.
#[derive(Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The issuer, exactly as the provider's discovery document and ID tokens name it.
    pub issuer: String,
    pub client_id: String,
    /// Never printed: `Debug` leaves it out.
    pub client_secret: String,
    /// The scopes asked for; `openid` is always among them.
    pub scopes: Vec<String>,
    /// How a signed-in person is matched to a provisioned user.
    pub matching: Matching,
    /// The SCIM group whose members are admins; `None`: nobody signs in as an admin this way.
    pub admin_group: Option<String>,
    /// What the sign-in button calls the provider ("Sign in with Okta").
    pub display_name: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"(hidden)")
            .field("scopes", &self.scopes)
            .field("matching", &self.matching)
            .field("admin_group", &self.admin_group)
            .field("display_name", &self.display_name)
            .finish()
    }
}

/// Which claim of the ID token finds the provisioned user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matching {
    /// The claim (`sub` by default; `oid` for Microsoft Entra ID) equals the user's `externalId`.
    ExternalId(String),
    /// The `email` claim equals the user's `userName` or one of their e-mail addresses, accepted only
    /// with `email_verified: true`.
    Email,
}

impl Matching {
    /// `email` matches by verified e-mail address; any other claim name is compared to `externalId`.
    pub fn parse(claim: &str) -> Result<Matching, ConfigError> {
        let claim = claim.trim();
        let valid = !claim.is_empty()
            && claim.len() <= 64
            && claim.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
        if !valid {
            return Err(ConfigError::Oidc("--oidc-match-claim must be a claim name such as sub, oid or email".into()));
        }
        Ok(if claim == "email" { Matching::Email } else { Matching::ExternalId(claim.to_owned()) })
    }

    /// The claim's name, as the page and the docs show it.
    pub fn claim(&self) -> &str {
        match self {
            Matching::ExternalId(claim) => claim,
            Matching::Email => "email",
        }
    }
}

impl OidcSettings {
    /// Checks what can be checked without asking the provider: an `https` issuer (or `http` on a
    /// loopback address, for a provider on the same machine), a client id and secret, sane scopes.
    pub fn validate(&self, public_url: Option<&PublicUrl>) -> Result<(), ConfigError> {
        let invalid = |why: String| Err(ConfigError::Oidc(why));
        let uri: Uri = match self.issuer.parse() {
            Ok(uri) => uri,
            Err(_) => return invalid(format!("--oidc-issuer {:?} is not a URL", self.issuer)),
        };
        let host = uri.host().unwrap_or_default();
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if loopback => {}
            _ => return invalid(format!("--oidc-issuer {:?} must start with https://", self.issuer)),
        }
        if host.is_empty() || uri.query().is_some() || self.issuer.contains('#') {
            return invalid(format!("--oidc-issuer {:?} must name a host and have no query", self.issuer));
        }
        if self.client_id.trim().is_empty() {
            return invalid("--oidc-client-id is needed with --oidc-issuer".into());
        }
        if self.client_secret.is_empty() {
            return invalid(
                "the client secret is needed with --oidc-issuer: set SCIMBOX_OIDC_CLIENT_SECRET or \
                 --oidc-client-secret-file"
                    .into(),
            );
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return invalid("--oidc-scopes must include openid".into());
        }
        if self.admin_group.as_deref().is_some_and(|g| g.trim().is_empty()) {
            return invalid("--oidc-admin-group must name a group".into());
        }
        if public_url.is_none() {
            return invalid(
                "--public-url is needed with --oidc-issuer: the identity provider sends people back to \
                 <public URL>/auth/oidc/callback"
                    .into(),
            );
        }
        Ok(())
    }

    /// Splits a scope list given with spaces or commas, adding `openid` when missing.
    pub fn scopes_from(text: &str) -> Vec<String> {
        let mut scopes: Vec<String> = Vec::new();
        for scope in text.split([' ', ',']).map(str::trim).filter(|s| !s.is_empty()) {
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_owned());
            }
        }
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".to_owned());
        }
        scopes
    }
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("--public-url {url:?} is not usable: {why}")]
    PublicUrl { url: String, why: String },
    #[error("--tls-cert and --tls-key must be given together")]
    TlsHalf,
    #[error("--{name} must be {why}")]
    Limit { name: &'static str, why: &'static str },
    #[error("{0}")]
    Oidc(String),
}

impl Limits {
    /// Refuses limits that would make the server useless or unsafe.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let zero = |d: Duration| d.is_zero();
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::Limit { name: "max-body-bytes", why: "at least 1024" });
        }
        if zero(self.header_timeout) {
            return Err(ConfigError::Limit { name: "header-timeout-secs", why: "at least 1" });
        }
        if zero(self.idle_timeout) {
            return Err(ConfigError::Limit { name: "idle-timeout-secs", why: "at least 1" });
        }
        if zero(self.body_timeout) {
            return Err(ConfigError::Limit { name: "body-timeout-secs", why: "at least 1" });
        }
        if self.max_connections == 0 {
            return Err(ConfigError::Limit { name: "max-connections", why: "at least 1" });
        }
        if self.max_connections_per_address == 0 {
            return Err(ConfigError::Limit { name: "max-connections-per-address", why: "at least 1" });
        }
        if self.patch_max_operations == 0 {
            return Err(ConfigError::Limit { name: "patch-max-operations", why: "at least 1" });
        }
        if self.bulk_max_operations == 0 {
            return Err(ConfigError::Limit { name: "bulk-max-operations", why: "at least 1" });
        }
        if self.max_results < 100 {
            return Err(ConfigError::Limit { name: "max-results", why: "at least 100 (Okta pages by 100)" });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_url(text: &str, expected: Result<&str, ()>) {
        let got = PublicUrl::parse(text);
        match expected {
            Ok(normal) => assert_eq!(got.as_ref().map(PublicUrl::as_str), Ok(normal), "{text}"),
            Err(()) => assert!(got.is_err(), "{text} should be refused, got {got:?}"),
        }
    }

    #[test]
    fn public_urls() {
        check_url("https://scim.example.com", Ok("https://scim.example.com"));
        check_url("https://scim.example.com/", Ok("https://scim.example.com"));
        check_url("http://10.0.0.5:8080/scimbox/", Ok("http://10.0.0.5:8080/scimbox"));
        check_url("ftp://example.com", Err(()));
        check_url("example.com", Err(()));
        check_url("/relative", Err(()));
        check_url("https://example.com/?a=b", Err(()));
        check_url("https://example.com/#x", Err(()));
        check_url("https:// bad host", Err(()));
        check_url("", Err(()));
    }

    #[test]
    fn default_limits_are_valid_and_bad_ones_are_named() {
        assert_eq!(Limits::default().validate(), Ok(()));
        let limits = Limits { max_results: 50, ..Limits::default() };
        assert!(limits.validate().unwrap_err().to_string().contains("max-results"));
        let limits = Limits { max_connections: 0, ..Limits::default() };
        assert!(limits.validate().unwrap_err().to_string().contains("max-connections"));
        let limits = Limits { idle_timeout: Duration::ZERO, ..Limits::default() };
        assert!(limits.validate().is_err());
    }

    fn oidc(issuer: &str) -> OidcSettings {
        OidcSettings {
            issuer: issuer.into(),
            client_id: "0oa1".into(),
            client_secret: "s3cr3t-value".into(),
            scopes: OidcSettings::scopes_from("email profile"),
            matching: Matching::parse("sub").unwrap(),
            admin_group: Some("scimbox admins".into()),
            display_name: "Okta".into(),
        }
    }

    #[test]
    fn oidc_settings_are_checked_and_the_secret_never_printed() {
        let public = PublicUrl::parse("https://scimbox.example.com").unwrap();
        assert_eq!(oidc("https://corp.okta.com").validate(Some(&public)), Ok(()));
        assert_eq!(oidc("http://127.0.0.1:9000").validate(Some(&public)), Ok(()));
        assert!(oidc("http://corp.okta.com").validate(Some(&public)).is_err());
        assert!(oidc("corp.okta.com").validate(Some(&public)).is_err());
        assert!(oidc("https://corp.okta.com").validate(None).unwrap_err().to_string().contains("--public-url"));
        let no_secret = OidcSettings { client_secret: String::new(), ..oidc("https://corp.okta.com") };
        assert!(no_secret.validate(Some(&public)).unwrap_err().to_string().contains("SCIMBOX_OIDC_CLIENT_SECRET"));
        assert!(!format!("{:?}", oidc("https://corp.okta.com")).contains("s3cr3t"));
        assert_eq!(OidcSettings::scopes_from("email, profile email"), ["openid", "email", "profile"]);
        assert_eq!(Matching::parse("oid"), Ok(Matching::ExternalId("oid".into())));
        assert_eq!(Matching::parse("email"), Ok(Matching::Email));
        assert!(Matching::parse("a b").is_err());
    }

    #[test]
    fn defaults_listen_on_loopback_8080() {
        let config = Config::with_data_dir("data");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_path(), PathBuf::from("data").join(crate::store::DATABASE_FILE));
    }
}
