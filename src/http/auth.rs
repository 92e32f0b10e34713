//! Bearer-token authentication with an in-memory table of live tokens and a cache of verified ones.
//!
//! The first request with a token pays one argon2id verification in the process's argon2 pool
//! (`hashing.rs`): when the pool stays full the request is answered 503 rather than queued without bound,
//! since argon2 on every request would collapse the server. A success is remembered as the SHA-256 of the
//! whole token, so later requests cost a hash and a constant-time compare. A token whose id is known but
//! whose digest differs from the remembered one is refused without argon2.
//!
//! Wrong secrets for a token id that was never used cannot be told apart without argon2, so verifications
//! are throttled by client address (`throttle::TokenThrottle`): one at a time per address, and none for a
//! while after a few wrong secrets. One client guessing secrets of known ids therefore holds at most one
//! argon2 place, briefly, and the first request of another client's token still finds one.
//!
//! Revocation: the table is re-read whenever the store's token epoch changes (a `stat`, at most once per
//! [`TOKEN_EPOCH_TRUSTED_FOR`]; a token change waits longer than that before it returns), so a token
//! revoked from the page or from `scimbox token revoke` in another process is refused on the very next
//! request after the revocation returned. `last_used` is written at most once a minute per token, off the
//! request path.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use super::throttle::{Refusal, TokenThrottle};
use crate::credentials::{self, Scope};
use crate::hashing::{Lane, PoolError};
use crate::store::{Store, StoreError, TOKEN_EPOCH_TRUSTED_FOR, TokenAuthRow, TokenEpoch};

/// How long a successful verification is trusted before argon2 runs again for that token.
const VERIFIED_FOR: Duration = Duration::from_secs(15 * 60);
/// How often `last_used` is written for one token.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Who is calling: the token that authenticated the request. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: String,
    pub token_name: String,
    pub scope: Scope,
}

/// The public id of the token an `Authorization` header presents, when it has a token's shape (never the
/// secret): what Activity and the audit log name a refused token by.
pub fn presented_token_id(header: Option<&[u8]>) -> Option<String> {
    let text = std::str::from_utf8(header?).ok()?;
    let token = text.strip_prefix("Bearer ")?.trim();
    credentials::parse_token(token).ok().map(|token| token.id.to_owned())
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("this endpoint needs an Authorization: Bearer <token> header")]
    Missing,
    #[error("the Authorization header must be 'Bearer <token>' with a scimbox token")]
    Malformed,
    #[error("the bearer token is not valid: it is unknown, revoked or expired")]
    Invalid,
    #[error("this token has scope '{}'; this endpoint needs a token of scope '{}'", .have.as_str(), .need.as_str())]
    WrongScope { have: Scope, need: Scope },
    #[error("too many new tokens are being verified right now; retry in a second")]
    Overloaded,
    #[error("too many wrong tokens came from this address; retry in {0} seconds")]
    Throttled(u64),
    #[error("cannot read the token table: {0}")]
    Store(#[from] StoreError),
}

/// The live tokens as last read, with what is remembered about each.
#[derive(Debug, Default)]
struct Table {
    loaded: bool,
    epoch: Option<TokenEpoch>,
    tokens: HashMap<String, Entry>,
}

#[derive(Debug)]
struct Entry {
    row: TokenAuthRow,
    verified: Option<Verified>,
    /// When `last_used` was last written, in milliseconds since the verifier started (0: never).
    touched: AtomicU64,
    /// Held while argon2 verifies a presented secret for this token.
    gate: Arc<tokio::sync::Mutex<()>>,
}

enum Cached {
    Accepted,
    Unverified { hash: String, gate: Arc<tokio::sync::Mutex<()>> },
}

#[derive(Debug, Clone, Copy)]
struct Verified {
    digest: [u8; 32],
    at: Instant,
}

/// Authenticates bearer tokens against the store. One per server.
#[derive(Debug)]
pub struct TokenVerifier {
    store: Store,
    table: RwLock<Table>,
    throttle: TokenThrottle,
    argon2_runs: std::sync::atomic::AtomicU64,
    /// Requests whose token was accepted from the cache of verified tokens, without argon2.
    cache_hits: AtomicU64,
    started: Instant,
    /// When the newest look at the epoch that the table agrees with began, in nanoseconds since `started`
    /// plus one (0: never).
    epoch_checked: AtomicU64,
}

impl TokenVerifier {
    pub fn new(store: Store) -> TokenVerifier {
        TokenVerifier {
            store,
            table: RwLock::new(Table::default()),
            throttle: TokenThrottle::default(),
            argon2_runs: std::sync::atomic::AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            started: Instant::now(),
            epoch_checked: AtomicU64::new(0),
        }
    }

    /// Authenticates the `Authorization` header value, sent from `client`, for an endpoint that needs
    /// `scope`.
    pub async fn authenticate(
        &self,
        header: Option<&[u8]>,
        scope: Scope,
        client: Option<IpAddr>,
    ) -> Result<Principal, AuthError> {
        let text = bearer_token(header)?;
        let presented = credentials::parse_token(text).map_err(|_| AuthError::Malformed)?;
        self.refresh().await?;
        let digest = credentials::token_digest(text);

        let cached = self.cached(presented.id, &digest)?;
        if matches!(cached, Cached::Accepted) {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
        }
        if let Cached::Unverified { gate, .. } = cached {
            // One verification per token at a time: concurrent first requests with the same token wait for
            // it instead of each taking an argon2 slot.
            let _turn = gate.lock().await;
            if let Cached::Unverified { hash, .. } = self.cached(presented.id, &digest)? {
                let turn = match client {
                    Some(address) => {
                        Some(self.throttle.turn(address, Instant::now()).map_err(|refusal| match refusal {
                            Refusal::Locked(wait) => AuthError::Throttled(wait.as_secs().max(1)),
                            Refusal::Busy => AuthError::Overloaded,
                        })?)
                    }
                    None => None,
                };
                self.argon2_runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let secret = presented.secret.to_owned();
                let matches = match self.store.argon2().verify(Lane::Interactive, secret, hash).await {
                    Ok(matches) => matches,
                    Err(PoolError::Full) => return Err(AuthError::Overloaded),
                    Err(PoolError::Failed(cause)) => {
                        tracing::error!(%cause, "token verification failed");
                        false
                    }
                };
                if !matches {
                    // Counted while the turn is still held, so the address's next attempt sees the count.
                    if let Some(address) = client
                        && let Some(lock) = self.throttle.failed(address, Instant::now())
                    {
                        self.record_lockout(address, presented.id, lock);
                    }
                    return Err(AuthError::Invalid);
                }
                drop(turn);
                let mut table = self.table.write().unwrap_or_else(|poison| poison.into_inner());
                // The table may have been re-read meanwhile; a token gone from it was revoked.
                let entry = table.tokens.get_mut(presented.id).ok_or(AuthError::Invalid)?;
                entry.verified = Some(Verified { digest, at: Instant::now() });
            }
        }

        let (principal, touch) = {
            // A read lock only: every request passes here, and `touched` is an atomic.
            let table = self.table.read().unwrap_or_else(|poison| poison.into_inner());
            // The table may have been re-read meanwhile; a token gone from it was revoked.
            let entry = table.tokens.get(presented.id).ok_or(AuthError::Invalid)?;
            let now = self.started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
            let last = entry.touched.load(Ordering::Relaxed);
            let due = last == 0 || now.saturating_sub(last) >= TOUCH_EVERY.as_millis() as u64;
            // Of the requests that find the write due, exactly one wins the exchange and writes it.
            let touch =
                due && entry.touched.compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed).is_ok();
            let row = &entry.row;
            (Principal { token_id: row.id.clone(), token_name: row.name.clone(), scope: row.scope }, touch)
        };
        if touch {
            let store = self.store.clone();
            let id = principal.token_id.clone();
            tokio::spawn(async move {
                if let Err(error) = store.touch_token(&id, crate::store::now()).await {
                    tracing::warn!(token = %id, %error, "cannot record the token's last use");
                }
            });
        }
        if principal.scope != scope {
            return Err(AuthError::WrongScope { have: principal.scope, need: scope });
        }
        Ok(principal)
    }

    /// Records in the audit log that `address` is locked out after wrong secrets for token `id` (the
    /// token's public id: the secret is never recorded). In the background: the refusal does not wait.
    fn record_lockout(&self, address: IpAddr, id: &str, lock: std::time::Duration) {
        let store = self.store.clone();
        let target = crate::audit::Target { kind: "token".into(), id: Some(id.to_owned()), name: None };
        let entry = crate::audit::Entry::new(
            crate::audit::Action::TokenLockedOut,
            Some(target),
            serde_json::json!({ "lockedForSeconds": lock.as_secs().max(1) }),
        );
        tokio::spawn(async move {
            if let Err(error) = store.audit(crate::audit::Actor::anonymous(Some(address)), entry).await {
                tracing::warn!(%error, "cannot record a token lockout in the audit log");
            }
        });
    }

    /// How many requests were accepted from the cache of verified tokens (the cheap path).
    pub fn cache_hits(&self) -> u64 {
        self.cache_hits.load(Ordering::Relaxed)
    }

    /// How many argon2 verifications this verifier has run (the expensive path).
    pub fn argon2_runs(&self) -> u64 {
        self.argon2_runs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What the table knows of a presented token: accepted from memory, or in need of argon2.
    fn cached(&self, id: &str, digest: &[u8; 32]) -> Result<Cached, AuthError> {
        let table = self.table.read().unwrap_or_else(|poison| poison.into_inner());
        let entry = table.tokens.get(id).ok_or(AuthError::Invalid)?;
        if entry.row.expires_at.is_some_and(|at| at <= crate::store::now()) {
            return Err(AuthError::Invalid);
        }
        match entry.verified {
            Some(known) if !bool::from(known.digest.ct_eq(digest)) => Err(AuthError::Invalid),
            Some(known) if known.at.elapsed() < VERIFIED_FOR => Ok(Cached::Accepted),
            _ => Ok(Cached::Unverified { hash: entry.row.secret_hash.clone(), gate: Arc::clone(&entry.gate) }),
        }
    }

    /// Re-reads the token table when the epoch moved (or was never read). What was remembered about a
    /// token survives the re-read as long as its hash is unchanged.
    async fn refresh(&self) -> Result<(), StoreError> {
        let began = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX).saturating_add(1);
        let checked = self.epoch_checked.load(Ordering::Acquire);
        let trusted = u64::try_from(TOKEN_EPOCH_TRUSTED_FOR.as_nanos()).unwrap_or(u64::MAX);
        if checked != 0 && began.saturating_sub(checked) < trusted {
            // A look that began less than the trusted time ago found the table current; a change since
            // then is still waiting out that time before it reports itself done.
            return Ok(());
        }
        let epoch = self.store.token_epoch();
        {
            let table = self.table.read().unwrap_or_else(|poison| poison.into_inner());
            if table.loaded && table.epoch == epoch {
                self.epoch_checked.fetch_max(began, Ordering::Release);
                return Ok(());
            }
        }
        // The epoch is read before the rows: a change that lands in between moves the epoch again and
        // the next request re-reads once more.
        let rows = self.store.token_auth_rows().await?;
        let mut table = self.table.write().unwrap_or_else(|poison| poison.into_inner());
        let mut previous = std::mem::take(&mut table.tokens);
        table.tokens = rows
            .into_iter()
            .map(|row| {
                let kept = previous.remove(&row.id).filter(|old| old.row.secret_hash == row.secret_hash);
                let (verified, touched, gate) = match kept {
                    Some(old) => (old.verified, old.touched, old.gate),
                    None => (None, AtomicU64::new(0), Arc::default()),
                };
                (row.id.clone(), Entry { row, verified, touched, gate })
            })
            .collect();
        table.epoch = epoch;
        table.loaded = true;
        drop(table);
        self.epoch_checked.fetch_max(began, Ordering::Release);
        Ok(())
    }
}

/// Extracts the token from `Bearer <token>`; the scheme is matched case-insensitively (RFC 9110 §11.1).
fn bearer_token(header: Option<&[u8]>) -> Result<&str, AuthError> {
    let value = std::str::from_utf8(header.ok_or(AuthError::Missing)?).map_err(|_| AuthError::Malformed)?;
    let value = value.trim();
    if value.is_empty() {
        return Err(AuthError::Missing);
    }
    let (scheme, token) = value.split_once([' ', '\t']).ok_or(AuthError::Malformed)?;
    let token = token.trim_start_matches([' ', '\t']);
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains([' ', '\t']) {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> crate::audit::Actor {
        crate::audit::Actor::cli("test".into())
    }

    async fn verifier() -> (tempfile::TempDir, Store, TokenVerifier) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let verifier = TokenVerifier::new(store.clone());
        (dir, store, verifier)
    }

    fn header(token: &str) -> Vec<u8> {
        format!("Bearer {token}").into_bytes()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn argon2_runs_once_per_token_and_never_for_a_wrong_secret_after_that() {
        let (_dir, store, verifier) = verifier().await;
        let (_, token) = store.create_token(&actor(), "okta", Scope::Scim, None).await.unwrap();
        let text = token.text();
        for _ in 0..50 {
            let principal = verifier.authenticate(Some(&header(&text)), Scope::Scim, None).await.unwrap();
            assert_eq!(principal.token_name, "okta");
        }
        assert_eq!(verifier.argon2_runs(), 1, "steady-state requests cost no argon2");

        let wrong = format!("{}{}", &text[..text.len() - 1], if text.ends_with('0') { '1' } else { '0' });
        for _ in 0..10 {
            let refused = verifier.authenticate(Some(&header(&wrong)), Scope::Scim, None).await;
            assert_eq!(refused, Err(AuthError::Invalid));
        }
        assert_eq!(verifier.argon2_runs(), 1, "a wrong secret for a verified id is refused without argon2");
        let unknown = format!("scimbox_{}_{}", "f".repeat(16), "0".repeat(64));
        assert_eq!(verifier.authenticate(Some(&header(&unknown)), Scope::Scim, None).await, Err(AuthError::Invalid));
        assert_eq!(verifier.argon2_runs(), 1, "an unknown id costs no argon2");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_first_requests_share_one_verification() {
        let (_dir, store, verifier) = verifier().await;
        let (_, token) = store.create_token(&actor(), "okta", Scope::Scim, None).await.unwrap();
        let verifier = Arc::new(verifier);
        let text = token.text();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let verifier = Arc::clone(&verifier);
                let header = header(&text);
                tokio::spawn(async move { verifier.authenticate(Some(&header), Scope::Scim, None).await })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().is_ok(), "no first request is turned away");
        }
        assert_eq!(verifier.argon2_runs(), 1);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn wrong_secrets_from_one_address_cannot_starve_another_addresss_first_use() {
        let (_dir, store, verifier) = verifier().await;
        let verifier = Arc::new(verifier);
        let (_, known) = store.create_token(&actor(), "known", Scope::Scim, None).await.unwrap();
        let (_, okta) = store.create_token(&actor(), "okta", Scope::Scim, None).await.unwrap();
        let attacker: IpAddr = "127.0.0.1".parse().unwrap();
        let wrong = format!("scimbox_{}_{}", known.id, "0".repeat(64));
        // Wrong secrets sent at once: at most one runs argon2, the others are turned away at once.
        let flood: Vec<_> = (0..8)
            .map(|_| {
                let (verifier, header) = (Arc::clone(&verifier), header(&wrong));
                tokio::spawn(async move { verifier.authenticate(Some(&header), Scope::Scim, Some(attacker)).await })
            })
            .collect();
        for task in flood {
            let refused = task.await.unwrap();
            let expected = matches!(refused, Err(AuthError::Invalid | AuthError::Overloaded | AuthError::Throttled(_)));
            assert!(expected, "{refused:?}");
        }
        // A few wrong secrets lock the address out of argon2.
        let runs_before = verifier.argon2_runs();
        for _ in 0..10 {
            let _ = verifier.authenticate(Some(&header(&wrong)), Scope::Scim, Some(attacker)).await;
        }
        let refused = verifier.authenticate(Some(&header(&wrong)), Scope::Scim, Some(attacker)).await;
        assert!(matches!(refused, Err(AuthError::Throttled(_))), "{refused:?}");
        assert!(verifier.argon2_runs() - runs_before <= u64::from(crate::http::throttle::TOKEN_ADDRESS.locks_at));
        // Another address's first use is verified.
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let accepted = verifier.authenticate(Some(&header(&okta.text())), Scope::Scim, Some(other)).await;
        assert_eq!(accepted.map(|p| p.token_name), Ok("okta".to_owned()));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn scope_and_revocation_are_enforced() {
        let (_dir, store, verifier) = verifier().await;
        let (record, token) = store.create_token(&actor(), "platform", Scope::Platform, None).await.unwrap();
        let refused = verifier.authenticate(Some(&header(&token.text())), Scope::Scim, None).await;
        assert_eq!(refused, Err(AuthError::WrongScope { have: Scope::Platform, need: Scope::Scim }));
        assert!(verifier.authenticate(Some(&header(&token.text())), Scope::Platform, None).await.is_ok());
        store.revoke_token(&actor(), &record.id).await.unwrap();
        let refused = verifier.authenticate(Some(&header(&token.text())), Scope::Platform, None).await;
        assert_eq!(refused, Err(AuthError::Invalid));
    }

    fn check(header: Option<&str>, expected: Result<&str, AuthError>) {
        assert_eq!(bearer_token(header.map(str::as_bytes)), expected, "{header:?}");
    }

    #[test]
    fn bearer_header_forms() {
        check(Some("Bearer abc"), Ok("abc"));
        check(Some("bearer abc"), Ok("abc"));
        check(Some("BEARER abc"), Ok("abc"));
        check(Some("Bearer   abc  "), Ok("abc"));
        check(Some("Bearer\tabc"), Ok("abc"));
        check(None, Err(AuthError::Missing));
        check(Some(""), Err(AuthError::Missing));
        check(Some("   "), Err(AuthError::Missing));
        check(Some("Bearer"), Err(AuthError::Malformed));
        check(Some("Bearer "), Err(AuthError::Malformed));
        check(Some("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), Err(AuthError::Malformed));
        check(Some("Bearer a b"), Err(AuthError::Malformed));
        check(Some("Token abc"), Err(AuthError::Malformed));
    }
}
