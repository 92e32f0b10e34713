//! Sign-in with the identity provider: scimbox as an OpenID Connect relying party (authorization code
//! flow with PKCE, `state` and `nonce`), built on the `openidconnect` crate.
//!
//! `GET /auth/oidc/start` remembers a pending sign-in (state, nonce, PKCE verifier) under its `state`,
//! bound to this browser by the `scimbox_oidc` cookie, and sends the browser to the provider.
//! `GET /auth/oidc/callback` takes the pending sign-in out (so a callback works once), redeems the code,
//! verifies the ID token (signature by a key of the provider's JWKS, fetched again once when a key id is
//! unknown; issuer; audience; expiry; nonce) and finds the provisioned user it names
//! (`config::Matching`). Nobody is created here: SCIM is the only source of users. Every refusal is a
//! page that says what happened and an audit record, never a session.
//!
//! Discovery is fetched on the first sign-in and again after a day, not at start-up: the provider being
//! unreachable must not stop provisioning. Codes, tokens, the client secret and ID tokens are never logged
//! or stored in plaintext; the ID token kept for RP-initiated logout is sealed with a key derived from
//! the session id, which only the browser holds.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl,
    JsonWebKeySet, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::App;
use super::reply::{self, Body};
use super::request::client_ip;
use super::session::{self, ID_BYTES};
use crate::audit::{Action, Actor, Entry, Target};
use crate::config::{Matching, OidcSettings, PublicUrl};
use crate::credentials;
use crate::store::{NewUserSession, SessionUser, SignInKey, SignInMatch};

/// The cookie that binds a pending sign-in to the browser that started it.
const BINDING_COOKIE: &str = "scimbox_oidc";
/// How long a started sign-in may take at the provider.
const PENDING_FOR: Duration = Duration::from_secs(600);
/// Pending sign-ins kept at most; past it, the oldest is dropped (its person starts again).
const PENDING_MAX: usize = 10_000;
/// Provider metadata is fetched again after this long.
const METADATA_FOR: Duration = Duration::from_secs(24 * 3600);
/// After a failed discovery, sign-ins are refused at once for this long rather than each waiting on the
/// provider again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);
/// Pending sign-ins one client address may hold; past it, that address's oldest is dropped.
const PENDING_PER_ADDRESS: usize = 20;
/// The JWKS is fetched again for an unknown key id at most this often.
const JWKS_REFETCH_EVERY: Duration = Duration::from_secs(5);
/// Largest answer read from the provider (discovery, JWKS, token).
const ANSWER_MAX_BYTES: usize = 1024 * 1024;
/// Longest `code`, `state` or `error` accepted in a callback.
const PARAM_MAX_CHARS: usize = 4096;

/// The claims beyond the standard ones (Entra's `oid`, or any claim named by `--oidc-match-claim`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: serde_json::Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

type IdToken =
    openidconnect::IdToken<OtherClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type Tokens = StandardTokenResponse<
    IdTokenFields<
        OtherClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The signature algorithms an ID token may use: asymmetric ones only (never `none`, never a MAC).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// A sign-in between `start` and `callback`.
struct Pending {
    /// SHA-256 of the binding cookie of the browser that started it.
    binding: [u8; 32],
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    started: Instant,
    /// The page to land on afterwards (a path of this page), when the sign-in page was given one.
    next: Option<String>,
    /// The client address that started it.
    address: Option<IpAddr>,
}

/// What was learnt from the provider's discovery document.
#[derive(Clone)]
struct Discovered {
    metadata: ProviderMetadataWithLogout,
    fetched: Instant,
    /// When the JWKS was last fetched again for an unknown key id.
    jwks_refetched: Option<Instant>,
}

/// The configured provider and the sign-ins in progress.
pub struct Provider {
    settings: OidcSettings,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    signed_out: Option<PostLogoutRedirectUrl>,
    http: reqwest::Client,
    /// What discovery learnt, and when it last failed: read without waiting on a fetch.
    discovery: Mutex<DiscoveryState>,
    /// Held by the one request fetching discovery or keys, so that the others wait for its result
    /// instead of asking the provider again.
    fetching: tokio::sync::Mutex<()>,
    pending: Mutex<HashMap<String, Pending>>,
}

#[derive(Default)]
struct DiscoveryState {
    discovered: Option<Discovered>,
    failed_at: Option<Instant>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// Why a sign-in was refused: a stable reason (for the audit log and the tests), the status and the
/// sentence the person reads.
#[derive(Debug)]
struct Refusal {
    reason: &'static str,
    status: StatusCode,
    message: String,
    /// The user the refusal concerns, once the ID token was verified.
    user: Option<Box<SessionUser>>,
    /// What the audit record says beyond the reason.
    detail: Option<Box<Value>>,
    /// Whether the provider's ID token was verified: only then is the refusal recorded whatever the
    /// address's budget (anything before it is anyone's to send, as often as they like).
    verified: bool,
}

impl Refusal {
    fn new(reason: &'static str, status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { reason, status, message: message.into(), user: None, detail: None, verified: false }
    }

    fn bad(reason: &'static str, message: impl Into<String>) -> Refusal {
        Refusal::new(reason, StatusCode::BAD_REQUEST, message)
    }

    fn token(reason: &'static str, message: impl Into<String>) -> Refusal {
        Refusal::new(reason, StatusCode::FORBIDDEN, message)
    }
}

/// The HTTP client of the relying party: rustls, no redirects followed (a redirect from the provider's
/// endpoints is not part of the protocol, and following one would let a response send us anywhere),
/// bounded time and size.
async fn send(
    http: reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpError> {
    let (parts, body) = request.into_parts();
    let mut response =
        http.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await?;
    let mut answer = http::Response::builder().status(response.status());
    if let Some(headers) = answer.headers_mut() {
        headers.extend(response.headers().iter().map(|(name, value)| (name.clone(), value.clone())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if bytes.len() + chunk.len() > ANSWER_MAX_BYTES {
            return Err(HttpError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    answer.body(bytes).map_err(|e| HttpError::Other(e.to_string()))
}

/// A failure to talk to the provider.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Transport(#[from] reqwest::Error),
    #[error("the answer is larger than 1 MiB")]
    TooLarge,
    #[error("{0}")]
    Other(String),
}

impl Provider {
    /// A provider for these settings; nothing is fetched yet.
    pub fn new(settings: OidcSettings, public_url: &PublicUrl) -> Result<Provider, String> {
        let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(|e| format!("--oidc-issuer: {e}"))?;
        let redirect = RedirectUrl::new(format!("{}/auth/oidc/callback", public_url.as_str()))
            .map_err(|e| format!("--public-url: {e}"))?;
        let signed_out = PostLogoutRedirectUrl::new(format!("{}/login", public_url.as_str())).ok();
        // reqwest is built without a crypto provider of its own: use ring, as the server's TLS does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| format!("cannot build the HTTP client for the identity provider: {e}"))?;
        Ok(Provider {
            settings,
            issuer,
            redirect,
            signed_out,
            http,
            discovery: Mutex::new(DiscoveryState::default()),
            fetching: tokio::sync::Mutex::new(()),
            pending: Mutex::new(HashMap::new()),
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The redirect URI to register at the provider.
    pub fn redirect_uri(&self) -> &str {
        self.redirect.as_str()
    }

    /// Where the provider may send people after signing them out.
    pub fn signed_out_uri(&self) -> Option<&str> {
        self.signed_out.as_ref().map(|url| url.as_str())
    }

    /// The provider's metadata, fetched when missing or a day old. One request fetches while the others
    /// wait for it (`fetching`); the snapshot itself is behind a plain lock never held across a fetch. A
    /// failed fetch is remembered for [`RETRY_AFTER_FAILURE`], and while a day-old snapshot cannot be
    /// renewed it goes on being used.
    async fn metadata(&self) -> Result<ProviderMetadataWithLogout, Refusal> {
        if let Some(fresh) = self.snapshot(|d| d.fetched.elapsed() < METADATA_FOR) {
            return Ok(fresh);
        }
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(fresh) = self.snapshot(|d| d.fetched.elapsed() < METADATA_FOR) {
            return Ok(fresh);
        }
        let stale = self.snapshot(|_| true);
        if self.failed_recently() {
            return stale.ok_or_else(unavailable);
        }
        let http = self.http.clone();
        let client = move |request| send(http.clone(), request);
        match ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &client).await {
            Ok(metadata) => {
                let mut state = self.state();
                state.discovered =
                    Some(Discovered { metadata: metadata.clone(), fetched: Instant::now(), jwks_refetched: None });
                state.failed_at = None;
                Ok(metadata)
            }
            Err(error) => {
                tracing::warn!(%error, issuer = %self.issuer.as_str(), "cannot read the identity provider's discovery document");
                self.state().failed_at = Some(Instant::now());
                stale.ok_or_else(unavailable)
            }
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, DiscoveryState> {
        self.discovery.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// The cached metadata, when `usable` says it may be used.
    fn snapshot(&self, usable: impl Fn(&Discovered) -> bool) -> Option<ProviderMetadataWithLogout> {
        self.state().discovered.as_ref().filter(|d| usable(d)).map(|d| d.metadata.clone())
    }

    fn failed_recently(&self) -> bool {
        self.state().failed_at.is_some_and(|at| at.elapsed() < RETRY_AFTER_FAILURE)
    }

    /// Fetches the JWKS again (a key id was unknown), unless another request did a moment ago, and answers
    /// the metadata to verify with now: the new keys, or what another request fetched meanwhile. A failed
    /// fetch is the provider being unavailable, not an unknown key.
    async fn refresh_keys(&self) -> Result<ProviderMetadataWithLogout, Refusal> {
        let _fetching = self.fetching.lock().await;
        let Some(known) = self.state().discovered.clone() else { return Err(unavailable()) };
        if known.jwks_refetched.is_some_and(|at| at.elapsed() < JWKS_REFETCH_EVERY) {
            return Ok(known.metadata);
        }
        let http = self.http.clone();
        let client = move |request| send(http.clone(), request);
        match JsonWebKeySet::fetch_async(known.metadata.jwks_uri(), &client).await {
            Ok(keys) => {
                let metadata = known.metadata.set_jwks(keys);
                let mut state = self.state();
                state.discovered = Some(Discovered {
                    metadata: metadata.clone(),
                    fetched: known.fetched,
                    jwks_refetched: Some(Instant::now()),
                });
                tracing::info!("fetched the identity provider's keys again for an unknown key id");
                Ok(metadata)
            }
            Err(error) => {
                tracing::warn!(%error, "cannot fetch the identity provider's keys");
                Err(unavailable())
            }
        }
    }

    fn client(&self, metadata: ProviderMetadataWithLogout) -> OidcClient {
        Client::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// Keeps a pending sign-in. One address holds at most [`PENDING_PER_ADDRESS`] (a client starting
    /// sign-ins in a loop pushes out only its own), and all together at most [`PENDING_MAX`].
    fn remember(&self, state: String, pending: Pending) {
        let mut map = self.pending.lock().unwrap_or_else(|poison| poison.into_inner());
        let oldest_of = |map: &HashMap<String, Pending>, address: Option<Option<IpAddr>>| {
            map.iter()
                .filter(|(_, p)| address.is_none_or(|a| p.address == a))
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone())
        };
        if map.values().filter(|p| p.address == pending.address).count() >= PENDING_PER_ADDRESS
            && let Some(oldest) = oldest_of(&map, Some(pending.address))
        {
            map.remove(&oldest);
        }
        if map.len() >= PENDING_MAX {
            map.retain(|_, p| p.started.elapsed() < PENDING_FOR);
        }
        if map.len() >= PENDING_MAX
            && let Some(oldest) = oldest_of(&map, None)
        {
            map.remove(&oldest);
        }
        map.insert(state, pending);
    }

    /// Takes the pending sign-in of `state` out if this browser started it (`binding`, the SHA-256 of
    /// its cookie): a callback is good once, and one from another browser uses nothing up.
    fn take(&self, state: &str, binding: &[u8; 32]) -> Result<Pending, Refusal> {
        let mut map = self.pending.lock().unwrap_or_else(|poison| poison.into_inner());
        let Some(pending) = map.get(state).filter(|p| p.started.elapsed() < PENDING_FOR) else {
            return Err(Refusal::bad(
                "unknown-state",
                "This sign-in link was already used or has expired. Start again from the sign-in page.",
            ));
        };
        if !bool::from(binding.ct_eq(&pending.binding)) {
            return Err(Refusal::bad(
                "other-browser",
                "This sign-in was started in another browser (or its cookie is gone). Start again from the sign-in page.",
            ));
        }
        map.remove(state).ok_or_else(unavailable)
    }

    /// The provider's end-session URL for RP-initiated logout, when it offers one. From the metadata at
    /// hand (someone signed out has signed in, so it was fetched): signing out never waits on the provider.
    pub fn end_session_url(&self, id_token: Option<&str>) -> Option<String> {
        let metadata = self.snapshot(|_| true)?;
        let endpoint = metadata.additional_metadata().end_session_endpoint.clone()?;
        let mut logout = LogoutRequest::from(endpoint).set_client_id(ClientId::new(self.settings.client_id.clone()));
        if let Some(token) = id_token.and_then(|t| t.parse::<IdToken>().ok()) {
            logout = logout.set_id_token_hint(&token);
        }
        if let Some(url) = &self.signed_out {
            logout = logout.set_post_logout_redirect_uri(url.clone());
        }
        Some(logout.http_get_url().to_string())
    }
}

fn unavailable() -> Refusal {
    Refusal::new(
        "provider-unavailable",
        StatusCode::BAD_GATEWAY,
        "The identity provider cannot be reached right now. Try again in a minute; if it goes on, an admin \
         can check the issuer URL in scimbox's settings.",
    )
}

fn provider(app: &App) -> Option<&Provider> {
    app.oidc.as_ref()
}

fn binding_of(request: &Request<Incoming>) -> Option<String> {
    super::session::cookie_value(request.headers(), BINDING_COOKIE)
}

fn binding_cookie(app: &App, value: &str, max_age: u64) -> HeaderValue {
    // Lax, not Strict: the provider's redirect back to the callback is a cross-site navigation.
    let secure = if super::admin::session::secure(app) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{BINDING_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("scimbox_oidc=; Path=/auth/oidc; Max-Age=0"))
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// `GET /auth/oidc/start`: a new pending sign-in, and the browser sent to the provider.
pub async fn start(app: &App, request: Request<Incoming>) -> Response<Body> {
    let Some(provider) = provider(app) else { return not_configured() };
    let metadata = match provider.metadata().await {
        Ok(metadata) => metadata,
        Err(refusal) => return refuse(app, client_ip(&request), refusal).await,
    };
    let binding = match binding_of(&request) {
        Some(binding) => binding,
        None => match credentials::random_hex(ID_BYTES) {
            Ok(binding) => binding,
            Err(error) => return page_error(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
        },
    };
    let client = provider.client(metadata);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut authorize = client.authorize_url(
        AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in provider.settings.scopes.iter().filter(|s| *s != "openid") {
        authorize = authorize.add_scope(Scope::new(scope.clone()));
    }
    let (url, state, nonce) = authorize.set_pkce_challenge(challenge).url();
    let params = super::json_api::query(&request);
    let next = super::json_api::param(&params, "next").filter(|next| is_local_path(next)).map(str::to_owned);
    let pending = Pending {
        binding: sha256(&binding),
        nonce,
        verifier,
        started: Instant::now(),
        next,
        address: client_ip(&request),
    };
    provider.remember(state.secret().clone(), pending);
    let mut response = reply::with_body(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    if let Ok(location) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response.headers_mut().insert(header::SET_COOKIE, binding_cookie(app, &binding, PENDING_FOR.as_secs()));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether `next` is a path of this site (and nothing a browser could read as another origin).
fn is_local_path(next: &str) -> bool {
    next.len() <= 2048
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic())
}

/// The callback's query parameters that matter.
#[derive(Debug, Default)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn callback_params(request: &Request<Incoming>) -> Result<Callback, Refusal> {
    let mut found = Callback::default();
    for (name, value) in form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes()) {
        if value.chars().count() > PARAM_MAX_CHARS {
            return Err(Refusal::bad("malformed-callback", "The sign-in answer is malformed. Start again."));
        }
        let slot = match name.as_ref() {
            "code" => &mut found.code,
            "state" => &mut found.state,
            "error" => &mut found.error,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(Refusal::bad("malformed-callback", "The sign-in answer is malformed. Start again."));
        }
    }
    Ok(found)
}

/// `GET /auth/oidc/callback`: the provider's answer. A session, or a page that says why not.
pub async fn callback(app: &App, request: Request<Incoming>) -> Response<Body> {
    let Some(provider) = provider(app) else { return not_configured() };
    let address = client_ip(&request);
    match sign_in(app, provider, &request).await {
        Ok(response) => response,
        // The binding cookie stays: other tabs of this browser may have sign-ins in progress.
        Err(refusal) => refuse(app, address, refusal).await,
    }
}

async fn sign_in(app: &App, provider: &Provider, request: &Request<Incoming>) -> Result<Response<Body>, Refusal> {
    let params = callback_params(request)?;
    let Some(state) = params.state.as_deref() else {
        return Err(Refusal::bad(
            "missing-state",
            "The sign-in answer has no state. Start again from the sign-in page.",
        ));
    };
    let binding = binding_of(request).map(|b| sha256(&b)).unwrap_or_default();
    let pending = provider.take(state, &binding)?;
    if let Some(error) = params.error.as_deref() {
        let code: String = error.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        let mut refusal = Refusal::token(
            "provider-error",
            format!(
                "The identity provider did not sign you in ({code}). If you think you should have access, ask an admin to assign you to scimbox in the identity provider."
            ),
        );
        refusal.detail = Some(Box::new(json!({ "error": code })));
        return Err(refusal);
    }
    let Some(code) = params.code else {
        return Err(Refusal::bad("missing-code", "The sign-in answer has no code. Start again from the sign-in page."));
    };
    let metadata = provider.metadata().await?;
    let client = provider.client(metadata);
    let http = provider.http.clone();
    let http_client = move |request| send(http.clone(), request);
    let exchange = client.exchange_code(AuthorizationCode::new(code)).map_err(|_| unavailable())?;
    let tokens =
        exchange.set_pkce_verifier(pending.verifier).request_async(&http_client).await.map_err(
            |error| match &error {
                RequestTokenError::ServerResponse(answer) => {
                    tracing::info!(error = %answer.error(), "the identity provider refused to redeem a sign-in code");
                    Refusal::token(
                        "code-refused",
                        "The identity provider refused this sign-in code: it was already used, has expired, or was \
                     issued to another application. Start again from the sign-in page.",
                    )
                }
                other => {
                    tracing::warn!(error = %other, "cannot redeem a sign-in code at the identity provider");
                    unavailable()
                }
            },
        )?;
    let Some(id_token) = tokens.id_token() else {
        return Err(Refusal::token("no-id-token", "The identity provider answered without an ID token."));
    };
    let claims = match verify(&client, id_token, &pending.nonce) {
        Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
            let metadata = provider.refresh_keys().await?;
            verify(&provider.client(metadata), id_token, &pending.nonce)
        }
        other => other,
    }
    .map_err(token_refusal)?;
    let user = find_user(app, provider, &claims).await?;
    start_session(app, provider, request, user, id_token, pending.next).await
}

/// The verified claims as JSON (standard and other claims together).
fn verify(client: &OidcClient, id_token: &IdToken, nonce: &Nonce) -> Result<Value, ClaimsVerificationError> {
    let verifier = client.id_token_verifier().set_allowed_algs(ALLOWED_ALGS);
    let claims = id_token.claims(&verifier, nonce)?;
    serde_json::to_value(claims).map_err(|e| ClaimsVerificationError::Other(e.to_string()))
}

fn token_refusal(error: ClaimsVerificationError) -> Refusal {
    use ClaimsVerificationError as C;
    use SignatureVerificationError as S;
    let (reason, message) = match &error {
        C::Expired(_) => (
            "expired",
            "The identity provider's ID token has expired. Start again; if it goes on, check the clocks of scimbox and the provider.",
        ),
        C::InvalidAudience(_) => ("wrong-audience", "The ID token was issued to another application, not to scimbox."),
        C::InvalidIssuer(_) => {
            ("wrong-issuer", "The ID token comes from another issuer than the configured identity provider.")
        }
        C::InvalidNonce(_) => ("wrong-nonce", "The ID token does not belong to this sign-in (its nonce differs)."),
        C::SignatureVerification(S::NoSignature) => ("unsigned", "The ID token is not signed."),
        C::SignatureVerification(S::DisallowedAlg(_) | S::UnsupportedAlg(_)) => {
            ("disallowed-algorithm", "The ID token is signed with an algorithm scimbox does not accept.")
        }
        C::SignatureVerification(S::NoMatchingKey) => {
            ("unknown-key", "The ID token is signed with a key the identity provider does not publish.")
        }
        C::SignatureVerification(_) => ("bad-signature", "The ID token's signature is not valid."),
        _ => ("invalid-token", "The ID token is not valid."),
    };
    tracing::info!(%error, reason, "refused an ID token");
    Refusal::token(reason, message)
}

/// The provisioned user the verified claims name.
async fn find_user(app: &App, provider: &Provider, claims: &Value) -> Result<SessionUser, Refusal> {
    let matching = &provider.settings.matching;
    let claim = matching.claim();
    let value = claims.get(claim).and_then(Value::as_str).map(str::to_owned);
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Err(Refusal {
            verified: true,
            ..Refusal::token(
                "missing-claim",
                format!(
                    "The ID token has no {claim:?} claim, which scimbox uses to find your account. An admin can check the scopes and --oidc-match-claim."
                ),
            )
        });
    };
    let key = match matching {
        Matching::ExternalId(_) => SignInKey::ExternalId(value.clone()),
        Matching::Email => {
            if claims.get("email_verified").and_then(Value::as_bool) != Some(true) {
                let mut refusal = Refusal::token(
                    "email-unverified",
                    "The identity provider does not say your e-mail address is verified, so scimbox cannot use it to find your account.",
                );
                refusal.detail = Some(Box::new(json!({ "claim": claim, "value": value })));
                refusal.verified = true;
                return Err(refusal);
            }
            SignInKey::Email(value.clone())
        }
    };
    let found = app.store.user_for_sign_in(key).await.map_err(|error| {
        tracing::warn!(%error, "cannot look up a signed-in person");
        Refusal::new(
            "store-unavailable",
            StatusCode::SERVICE_UNAVAILABLE,
            "scimbox cannot read its database right now. Try again in a minute.",
        )
    })?;
    let detail = Some(Box::new(json!({ "claim": claim, "value": value })));
    match found {
        SignInMatch::Found { user, active: true } => Ok(user),
        SignInMatch::Found { user, active: false } => Err(Refusal {
            user: Some(Box::new(user)),
            detail,
            verified: true,
            ..Refusal::token(
                "deactivated",
                "Your account in scimbox is deactivated. Ask an admin if you think it should be active.",
            )
        }),
        SignInMatch::Missing => Err(Refusal {
            detail,
            verified: true,
            ..Refusal::token(
                "no-user",
                "You signed in at the identity provider, but scimbox has no active account for you: accounts come only from provisioning. Ask an admin to assign you to scimbox in the identity provider.",
            )
        }),
        SignInMatch::Ambiguous => Err(Refusal {
            detail,
            verified: true,
            ..Refusal::token(
                "ambiguous-user",
                "More than one account in scimbox matches you, so none is signed in. Ask an admin to fix the accounts.",
            )
        }),
    }
}

/// The session of a signed-in person: stored, recorded, its cookie set, and the browser sent to the page.
async fn start_session(
    app: &App,
    provider: &Provider,
    request: &Request<Incoming>,
    user: SessionUser,
    id_token: &IdToken,
    next: Option<String>,
) -> Result<Response<Body>, Refusal> {
    let failed = |what: String| {
        tracing::warn!(error = %what, "cannot start a session after sign-in");
        Refusal::new(
            "store-unavailable",
            StatusCode::SERVICE_UNAVAILABLE,
            "scimbox cannot start your session right now. Try again in a minute.",
        )
    };
    let id = credentials::random_hex(ID_BYTES).map_err(|e| failed(e.to_string()))?;
    let admin = match &provider.settings.admin_group {
        Some(group) => app.store.user_in_group(&user.id, group).await.map_err(|e| failed(e.to_string()))?,
        None => false,
    };
    let settings = &app.config.admin;
    let now = crate::store::now();
    let lifetime = session::duration(settings.session_lifetime);
    let address = client_ip(request);
    let actor = Actor::user(&user.id, &user.user_name, address);
    let sealed = seal(&id, &id_token.to_string());
    let details = json!({ "method": "oidc", "admin": admin });
    let new = NewUserSession { id_hash: session::hash_id(&id), user: user.clone(), at: now, lifetime, details, sealed };
    app.store.create_user_session(&actor, new).await.map_err(|e| failed(e.to_string()))?;
    tracing::info!(user = %user.user_name, admin, "signed in through the identity provider");
    let mut response = reply::with_body(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    let headers = response.headers_mut();
    // Admins land where they were going (or on the start page); everyone else on My access.
    let landing = match next {
        Some(next) if admin || next == "/me" => next,
        _ if admin => "/".to_owned(),
        _ => "/me".to_owned(),
    };
    headers.insert(header::LOCATION, HeaderValue::from_str(&landing).unwrap_or(HeaderValue::from_static("/")));
    headers.append(header::SET_COOKIE, super::admin::session::cookie(app, &id, settings.session_lifetime.as_secs()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The key that seals a session's ID token: derived from the session id, which only the browser keeps.
fn seal_key(session_id: &str) -> Key {
    let mut digest = Sha256::new();
    digest.update(b"scimbox id token seal\0");
    digest.update(session_id.as_bytes());
    let bytes: [u8; 32] = digest.finalize().into();
    Key::from(bytes)
}

/// `nonce ‖ ciphertext` of the ID token, or `None` when sealing fails (logout then goes without a hint).
fn seal(session_id: &str, id_token: &str) -> Option<Vec<u8>> {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).ok()?;
    let sealed = ChaCha20Poly1305::new(&seal_key(session_id)).encrypt(&nonce.into(), id_token.as_bytes()).ok()?;
    Some(nonce.iter().copied().chain(sealed).collect())
}

/// The ID token sealed by [`seal`] with the same session id.
pub fn unseal(session_id: &str, sealed: &[u8]) -> Option<String> {
    if sealed.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    let plain = ChaCha20Poly1305::new(&seal_key(session_id)).decrypt(&nonce.into(), ciphertext).ok()?;
    String::from_utf8(plain).ok()
}

/// Records the refusal (within the per-address budget for anonymous refusals) and renders its page.
async fn refuse(app: &App, address: Option<IpAddr>, refusal: Refusal) -> Response<Body> {
    if refusal.verified || app.audit_budget.take(address, Instant::now()).is_some() {
        let actor = match &refusal.user {
            Some(user) => Actor::user(&user.id, &user.user_name, address),
            None => Actor::anonymous(address),
        };
        let target = refusal.user.as_ref().map(|u| Target::new("user", u.id.clone(), u.user_name.clone()));
        let mut details = json!({ "method": "oidc", "reason": refusal.reason });
        if let Some(Value::Object(extra)) = refusal.detail.as_deref() {
            for (key, value) in extra {
                details[key] = value.clone();
            }
        }
        if let Err(error) = app.store.audit(actor, Entry::new(Action::SignInFailed, target, details)).await {
            tracing::warn!(%error, "cannot record a refused sign-in");
        }
    }
    tracing::info!(reason = refusal.reason, address = ?address, "sign-in through the identity provider refused");
    refusal_page(refusal.status, refusal.reason, &refusal.message)
}

fn not_configured() -> Response<Body> {
    refusal_page(
        StatusCode::NOT_FOUND,
        "not-configured",
        "Sign-in with an identity provider is not set up on this scimbox. Sign in with your admin account instead.",
    )
}

fn page_error(status: StatusCode, what: &str) -> Response<Body> {
    tracing::warn!(error = %what, "sign-in failed");
    refusal_page(status, "internal", "scimbox could not start the sign-in. Try again in a minute.")
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page a refused sign-in shows: what happened, and the way back. Styled by the page's stylesheet;
/// no script.
fn refusal_page(status: StatusCode, reason: &str, message: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign-in refused · scimbox</title><link rel=\"stylesheet\" href=\"/style.css\">\
         <link rel=\"icon\" href=\"/favicon.svg\"></head>\
         <body class=\"signed-out\"><div class=\"layout\"><main id=\"main\"><div class=\"auth-wrap\">\
         <section class=\"auth-card\" aria-labelledby=\"refused-title\">\
         <h1 id=\"refused-title\">Sign-in refused</h1><p id=\"refusal\" data-reason=\"{}\">{}</p>\
         <p><a class=\"button primary wide\" href=\"/login\">Back to sign-in</a></p></section></div></main></div>\
         </body></html>\n",
        escape(reason),
        escape(message)
    );
    let mut response = reply::with_body(status, "text/html; charset=utf-8", html);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_id_token_opens_only_with_its_session_id() {
        let id = "ab".repeat(32);
        let sealed = seal(&id, "header.claims.signature").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"claims"), "the token is not stored readable");
        assert_eq!(unseal(&id, &sealed).as_deref(), Some("header.claims.signature"));
        assert_eq!(unseal(&"ac".repeat(32), &sealed), None);
        assert_eq!(unseal(&id, &sealed[..10]), None);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(unseal(&id, &tampered), None);
    }

    fn pending(address: [u8; 4], binding: [u8; 32]) -> Pending {
        Pending {
            binding,
            nonce: Nonce::new_random(),
            verifier: PkceCodeVerifier::new("v".repeat(43)),
            started: Instant::now(),
            next: None,
            address: Some(IpAddr::from(address)),
        }
    }

    #[test]
    fn a_client_starting_sign_ins_in_a_loop_pushes_out_only_its_own() {
        let settings = crate::config::OidcSettings {
            issuer: "https://corp.okta.com".into(),
            client_id: "0oa1".into(),
            client_secret: "secret".into(),
            scopes: vec!["openid".into()],
            matching: Matching::ExternalId("sub".into()),
            admin_group: None,
            display_name: "Okta".into(),
        };
        let provider = Provider::new(settings, &PublicUrl::parse("https://scimbox.example.com").unwrap()).unwrap();
        provider.remember("honest".into(), pending([192, 0, 2, 1], [7; 32]));
        for n in 0..(PENDING_PER_ADDRESS * 3) {
            provider.remember(format!("flood-{n}"), pending([198, 51, 100, 9], [1; 32]));
        }
        let kept = provider.pending.lock().unwrap().len();
        assert_eq!(kept, PENDING_PER_ADDRESS + 1, "the flooding address keeps its newest {PENDING_PER_ADDRESS}");
        // Another browser's callback uses nothing up; the right one takes it, once.
        assert_eq!(provider.take("honest", &[1; 32]).err().map(|r| r.reason), Some("other-browser"));
        assert!(provider.take("honest", &[7; 32]).is_ok());
        assert_eq!(provider.take("honest", &[7; 32]).err().map(|r| r.reason), Some("unknown-state"));
    }

    #[test]
    fn only_paths_of_this_site_are_landed_on() {
        assert!(is_local_path("/users/0190?x=1"));
        assert!(is_local_path("/me"));
        for bad in ["//evil.example", "/\\evil.example", "https://evil.example", "users", "/a b", ""] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn refusal_pages_escape_what_they_show() {
        assert_eq!(escape("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
    }
}
