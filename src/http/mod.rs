//! The HTTP side: the hyper server (HTTP/1.1 and HTTP/2, TLS, limits, graceful shutdown), the route
//! table, authentication, the mapping of errors to responses, and the embedded page.
//!
//! Architecture invariant: handlers translate (parse the request, make one store call, render) and hold
//! no business rules; hyper types do not leave this module.

pub mod admin;
mod auth;
mod connection;
pub mod housekeeping;
mod idle;
mod json_api;
mod me;
pub mod metrics;
mod oidc;
mod platform;
pub mod recorder;
mod reply;
mod request;
mod routes;
mod scim;
mod session;
pub mod throttle;
pub mod tls;
mod web;
mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

pub use auth::{AuthError, Principal, TokenVerifier};

use crate::audit::{Action, Actor, Entry};
use crate::config::Config;
use crate::store::Store;

/// What every request handler can reach.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    pub store: Store,
    pub tokens: TokenVerifier,
    request_prefix: String,
    request_counter: AtomicU64,
    /// The one-time code of the setup link, while no admin exists.
    setup_code: std::sync::Mutex<Option<String>>,
    /// Sign-in throttle of the admin page.
    pub admin: admin::AdminState,
    /// Writes the Activity page's record of SCIM requests.
    pub recorder: recorder::Recorder,
    /// The Prometheus metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// What the audit stream for a SIEM has written and failed to write.
    pub audit_stream: Arc<housekeeping::StreamCounters>,
    /// Bounds the audit records that refused tokens can write per address (and counts what it leaves out).
    pub audit_budget: throttle::RecordBudget,
    /// Bounds the PATCHes being applied at once to all cores but one: a client sending the largest
    /// PATCHes allowed, as fast as it can, leaves a core for everyone else.
    pub patch_slots: Semaphore,
    /// Sign-in through the identity provider, when configured.
    oidc: Option<oidc::Provider>,
}

impl App {
    /// Whether `presented` is the current setup code (compared in constant time).
    pub fn check_setup_code(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let code = self.setup_code.lock().unwrap_or_else(|poison| poison.into_inner());
        code.as_deref().is_some_and(|code| bool::from(code.as_bytes().ct_eq(presented.as_bytes())))
    }

    /// Forgets the setup code: the link has been used.
    pub fn clear_setup_code(&self) {
        *self.setup_code.lock().unwrap_or_else(|poison| poison.into_inner()) = None;
    }

    fn next_request_id(&self) -> String {
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:x}", self.request_prefix)
    }
}

/// What the per-request envelope (`routes::handle`) learns while a handler serves a request: who
/// called, for its log line and the Activity page.
#[derive(Debug, Default)]
pub struct Exchange {
    pub principal: Option<Principal>,
    /// The public id of a token that was presented and refused (revoked, expired, wrong secret).
    pub presented_token: Option<String>,
}

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot read the listener's address: {0}")]
    Listener(std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// A server that is ready to accept: the store is open and migrated, TLS is loaded.
pub struct Server {
    app: Arc<App>,
    listener: TcpListener,
    tls: Option<(TlsAcceptor, Arc<tls::CertificateSlot>)>,
    local_addr: SocketAddr,
    metrics_listener: Option<TcpListener>,
    /// The threads that will serve the connections.
    workers: workers::Workers,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("local_addr", &self.local_addr).field("tls", &self.tls.is_some()).finish()
    }
}

impl Server {
    /// Opens the store (applying migrations) and loads TLS, then returns without accepting anything.
    pub async fn start(config: Config, listener: TcpListener) -> Result<Server, ServeError> {
        let local_addr = listener.local_addr().map_err(ServeError::Listener)?;
        let tls = match &config.tls {
            Some(files) => {
                let (server_config, slot) = tls::server_config(files)?;
                Some((TlsAcceptor::from(server_config), slot))
            }
            None => None,
        };
        let data_dir = config.data_dir.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&data_dir))
            .await
            .map_err(|e| ServeError::Other(e.to_string()))??;
        let request_prefix = crate::credentials::random_hex(4).map_err(|e| ServeError::Other(e.to_string()))?;
        let tokens = TokenVerifier::new(store.clone());
        let admin = admin::AdminState::start(store.clone()).await.map_err(ServeError::Other)?;
        let recorder = recorder::Recorder::start(store.clone(), &config.admin);
        let metrics = Arc::new(metrics::Metrics::new());
        store.observe_commits(metrics.commit_observer());
        let metrics_listener = match config.metrics_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .map_err(|e| ServeError::Other(format!("cannot listen for metrics on {address}: {e}")))?,
            ),
            None => None,
        };
        let oidc = match (&config.oidc, &config.public_url) {
            (Some(settings), Some(public_url)) => {
                Some(oidc::Provider::new(settings.clone(), public_url).map_err(ServeError::Other)?)
            }
            (Some(_), None) => return Err(ServeError::Other("--public-url is needed with --oidc-issuer".into())),
            (None, _) => None,
        };
        let workers =
            workers::Workers::start(config.http_workers.map_or_else(workers::Workers::default_count, |n| n.get()))
                .map_err(|e| ServeError::Other(format!("cannot start the connection workers: {e}")))?;
        let app = Arc::new(App {
            oidc,
            config,
            store,
            tokens,
            request_prefix,
            request_counter: AtomicU64::new(1),
            setup_code: std::sync::Mutex::new(None),
            admin,
            recorder,
            audit_stream: Arc::default(),
            metrics,
            audit_budget: throttle::RecordBudget::default(),
            patch_slots: Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
            ),
        });
        Ok(Server { app, listener, tls, local_addr, metrics_listener, workers })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where `/metrics` is served, when `--metrics-listen` asked for it.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    pub fn store(&self) -> &Store {
        &self.app.store
    }

    /// The base URL clients use: `--public-url`, or what the listener implies.
    pub fn base_url(&self) -> String {
        if let Some(url) = &self.app.config.public_url {
            return url.as_str().to_owned();
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let addr = self.local_addr;
        if addr.ip().is_unspecified() {
            format!("{scheme}://localhost:{}", addr.port())
        } else {
            format!("{scheme}://{addr}")
        }
    }

    /// While no admin exists: a fresh one-time link to the setup page (valid until used or until the
    /// server stops). The code travels in the URL fragment, so it never reaches a request log.
    pub async fn setup_link(&self) -> Result<Option<String>, ServeError> {
        if self.app.store.admin_count().await? > 0 {
            return Ok(None);
        }
        let code = crate::credentials::random_hex(16).map_err(|e| ServeError::Other(e.to_string()))?;
        let link = format!("{}/setup#code={code}", self.base_url());
        *self.app.setup_code.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(code);
        Ok(Some(link))
    }

    /// The certificate slot to reload on SIGHUP, when serving HTTPS.
    pub fn certificate(&self) -> Option<Arc<tls::CertificateSlot>> {
        self.tls.as_ref().map(|(_, slot)| Arc::clone(slot))
    }

    /// Serves until `shutdown` completes, then stops accepting, lets requests in flight finish (up to the
    /// configured bound), commits what the writer has queued, and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let Server { app, listener, tls, local_addr, metrics_listener, workers } = self;
        let (stop_metrics, metrics_stopped) = tokio::sync::watch::channel(false);
        let metrics_task =
            metrics_listener.map(|listener| tokio::spawn(metrics::serve(Arc::clone(&app), listener, metrics_stopped)));
        let housekeeping =
            housekeeping::Housekeeping::start(app.store.clone(), &app.config, Arc::clone(&app.audit_stream))
                .await
                .map_err(ServeError::Other)?;
        let started = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "listen": local_addr.to_string(),
            "tls": app.config.tls.is_some(),
            "publicUrl": app.config.public_url.as_ref().map(|url| url.as_str().to_owned()),
        });
        app.store.audit(Actor::server(), Entry::new(Action::ServerStarted, None, started)).await?;
        let limits = app.config.limits.clone();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // hyper's header timer runs from the end of one answer to the end of the next request head, so it also
        // bounds idle keep-alive: it gets the idle timeout, and the first head of a connection the tighter
        // deadline from accept (`connection.rs`).
        builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.idle_timeout).keep_alive(true);
        builder.http2().timer(TokioTimer::new()).max_concurrent_streams(128);
        let graceful = GracefulShutdown::new();
        let slots = Arc::new(Semaphore::new(limits.max_connections));
        let addresses = connection::AddressSlots::new(limits.max_connections_per_address);
        let acceptor = tls.map(|(acceptor, _)| acceptor);
        tokio::pin!(shutdown);

        loop {
            let slot = tokio::select! {
                biased;
                () = &mut shutdown => break,
                slot = Arc::clone(&slots).acquire_owned() => slot.map_err(|e| ServeError::Other(e.to_string()))?,
            };
            let (stream, peer) = tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Running out of file descriptors must not spin the loop or end the server.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let accepted_at = tokio::time::Instant::now();
            let Some(address_slot) = addresses.admit(peer.ip()) else {
                // Closed at once: the address already holds its share of the slots.
                tracing::debug!(%peer, "connection refused: its address holds its share of the connections");
                continue;
            };
            let _ = stream.set_nodelay(true);
            // Handed to the worker that will serve it: it leaves this runtime's reactor for that worker's.
            let stream = match stream.into_std() {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::debug!(%peer, %error, "connection dropped: it could not be handed to a worker");
                    continue;
                }
            };
            let app = Arc::clone(&app);
            let builder = builder.clone();
            let watcher = graceful.watcher();
            let acceptor = acceptor.clone();
            let limits = limits.clone();
            workers.spawn(async move {
                let _slots = (slot, address_slot);
                let stream = match tokio::net::TcpStream::from_std(stream) {
                    Ok(stream) => stream,
                    Err(error) => {
                        tracing::debug!(%peer, %error, "connection dropped: the worker could not take it");
                        return;
                    }
                };
                let _open = OpenConnection::new(Arc::clone(&app.metrics));
                let (first_request, head_deadline) = connection::FirstRequest::new(accepted_at + limits.header_timeout);
                let service = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    first_request.arrived();
                    request.extensions_mut().insert(request::ClientAddr(peer));
                    let app = Arc::clone(&app);
                    async move { Ok::<_, std::convert::Infallible>(routes::handle(app, request).await) }
                });
                let serve = async move {
                    match acceptor {
                        Some(acceptor) => {
                            let stream = match acceptor.accept(stream).await {
                                Ok(stream) => stream,
                                Err(error) => {
                                    tracing::debug!(%peer, %error, "TLS handshake failed");
                                    return Ok(());
                                }
                            };
                            let io = TokioIo::new(idle::IdleTimeout::new(stream, limits.idle_timeout));
                            watcher.watch(builder.serve_connection(io, service).into_owned()).await
                        }
                        None => {
                            let io = TokioIo::new(idle::IdleTimeout::new(stream, limits.idle_timeout));
                            watcher.watch(builder.serve_connection(io, service).into_owned()).await
                        }
                    }
                };
                // The connection ends when it is served, or when its first request head (TLS handshake and
                // protocol detection included) has not arrived by the deadline counted from accept.
                tokio::select! {
                    outcome = serve => {
                        if let Err(error) = outcome {
                            tracing::debug!(%peer, %error, "connection ended with an error");
                        }
                    }
                    () = head_deadline.expired() => {
                        tracing::debug!(%peer, "connection closed: no request head within the deadline from accept");
                    }
                }
            });
        }

        drop(listener);
        tracing::info!("shutting down: no new connections; waiting for requests in flight");
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all connections closed"),
            () = tokio::time::sleep(limits.shutdown_timeout) => {
                tracing::warn!(seconds = limits.shutdown_timeout.as_secs(), "requests still in flight after the shutdown bound; closing them");
            }
        }
        // What is still running on a worker past the bound is dropped with it.
        let _ = tokio::task::spawn_blocking(move || workers.stop()).await;
        app.recorder.close().await;
        let stopped = serde_json::json!({ "version": env!("CARGO_PKG_VERSION") });
        if let Err(error) = app.store.audit(Actor::server(), Entry::new(Action::ServerStopped, None, stopped)).await {
            tracing::warn!(%error, "cannot record the server's stop in the audit log");
        }
        housekeeping.stop().await;
        let _ = stop_metrics.send(true);
        if let Some(task) = metrics_task {
            let _ = task.await;
        }
        app.store.close().await;
        tracing::info!("the writer is drained; stopped");
        Ok(())
    }
}

/// Counts an open connection for the metrics while it lives.
struct OpenConnection(Arc<metrics::Metrics>);

impl OpenConnection {
    fn new(metrics: Arc<metrics::Metrics>) -> OpenConnection {
        metrics.open_connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(metrics)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Starts and serves until `shutdown`: the seam tests and `main` use.
pub async fn run(config: Config, listener: TcpListener, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    Server::start(config, listener).await?.run(shutdown).await
}
