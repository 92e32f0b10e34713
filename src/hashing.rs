//! The one argon2 pool: every password and token hash and verification of the process runs here, on
//! blocking threads, at most `size` at a time (about the core count; each run takes ~19 MiB and ~15 ms).
//!
//! A request that finds the pool busy waits at most [`WAIT`] for a place, then gets [`PoolError::Full`]
//! (503 with `Retry-After` at the HTTP edge), so a burst of SCIM creates with passwords costs bounded
//! memory and threads instead of one argon2 run per request at once. Two lanes share the places:
//! provisioning (SCIM passwords) may hold all but one of them, so that an admin's sign-in or a token's
//! first use always finds a place within one run's time, however many passwords a client sends.
//!
//! The store holds the pool (`Store::argon2`), so the server and the CLI share one per process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::credentials;

/// How long a hash or verification waits for a place before it is refused: a burst of creates with
/// passwords is served at argon2's pace (one place hashes about 60 a second) for this long, and only what
/// is still waiting then is turned away.
pub const WAIT: Duration = Duration::from_secs(10);

/// Who asks for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Admin sign-ins and password changes, token creation and a token's first use.
    Interactive,
    /// Passwords of provisioned users (SCIM).
    Provisioning,
}

/// Why a run did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("every password-hashing place is busy; retry in a second")]
    Full,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// The pool; one per process.
#[derive(Debug)]
pub struct Argon2Pool {
    places: Arc<Semaphore>,
    /// Bounds the provisioning lane to all places but one.
    provisioning: Arc<Semaphore>,
    wait: Duration,
    runs: AtomicU64,
    refused: AtomicU64,
}

impl Argon2Pool {
    /// A pool of `size` places (at least one) whose requests wait at most `wait` for one.
    pub fn new(size: usize, wait: Duration) -> Argon2Pool {
        let size = size.max(1);
        Argon2Pool {
            places: Arc::new(Semaphore::new(size)),
            provisioning: Arc::new(Semaphore::new(size.saturating_sub(1).max(1))),
            wait,
            runs: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// A pool sized to the machine's cores.
    pub fn for_this_machine() -> Argon2Pool {
        Argon2Pool::new(std::thread::available_parallelism().map_or(2, |n| n.get()), WAIT)
    }

    /// The argon2id PHC string of `secret`.
    pub async fn hash(&self, lane: Lane, secret: String) -> Result<String, PoolError> {
        self.run(lane, move || credentials::hash_secret(&secret).map_err(|e| PoolError::Failed(e.to_string()))).await?
    }

    /// Whether `secret` matches the PHC string `hash`.
    pub async fn verify(&self, lane: Lane, secret: String, hash: String) -> Result<bool, PoolError> {
        self.run(lane, move || credentials::verify_secret(&secret, &hash)).await
    }

    /// Runs done so far (hashes and verifications).
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// Requests refused because the pool stayed full for the whole wait.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        lane: Lane,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let admitted = tokio::time::timeout(self.wait, async {
            let lane_permit = match lane {
                Lane::Provisioning => Some(Arc::clone(&self.provisioning).acquire_owned().await),
                Lane::Interactive => None,
            };
            let place = Arc::clone(&self.places).acquire_owned().await;
            (lane_permit, place)
        })
        .await;
        let (lane_permit, place) = match admitted {
            Ok((Some(Err(_)), _) | (_, Err(_))) => return Err(PoolError::Failed("the pool is closed".into())),
            Ok((lane_permit, Ok(place))) => (lane_permit, place),
            Err(_) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Err(PoolError::Full);
            }
        };
        self.runs.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let _held = (lane_permit, place);
            work()
        })
        .await
        .map_err(|e| PoolError::Failed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_WAIT: Duration = Duration::from_millis(200);

    #[tokio::test(flavor = "multi_thread")]
    async fn hashes_verify_and_runs_are_counted() {
        let pool = Argon2Pool::new(2, TEST_WAIT);
        let hash = pool.hash(Lane::Interactive, "correct horse battery".into()).await.unwrap();
        assert!(pool.verify(Lane::Interactive, "correct horse battery".into(), hash.clone()).await.unwrap());
        assert!(!pool.verify(Lane::Provisioning, "wrong".into(), hash).await.unwrap());
        assert_eq!(pool.runs(), 3);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn provisioning_never_holds_the_last_place() {
        let pool = Argon2Pool::new(2, TEST_WAIT);
        // One provisioning run in progress holds its lane and one place.
        let running = (
            Arc::clone(&pool.provisioning).acquire_owned().await.unwrap(),
            Arc::clone(&pool.places).acquire_owned().await.unwrap(),
        );
        assert_eq!(pool.places.available_permits(), 1);
        assert_eq!(pool.hash(Lane::Provisioning, "another password".into()).await, Err(PoolError::Full));
        let hash = pool.hash(Lane::Interactive, "admin password".into()).await;
        assert!(hash.is_ok(), "the interactive lane found the place provisioning may not take: {hash:?}");
        drop(running);
        assert!(pool.hash(Lane::Provisioning, "another password".into()).await.is_ok());
        assert_eq!(pool.places.available_permits(), 2, "every place is given back");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_full_pool_refuses_after_the_wait() {
        let pool = Argon2Pool::new(1, TEST_WAIT);
        let held = Arc::clone(&pool.places).acquire_owned().await.unwrap();
        let refused = pool.hash(Lane::Interactive, "x".into()).await;
        assert_eq!(refused, Err(PoolError::Full));
        assert_eq!(pool.refused(), 1);
        drop(held);
        assert!(pool.hash(Lane::Interactive, "x".into()).await.is_ok());
    }
}
