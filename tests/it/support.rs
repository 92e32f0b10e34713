//! What the integration tests share: a server started in-process on 127.0.0.1:0 with its own temporary
//! data directory, an HTTP client, and token helpers.

use std::net::SocketAddr;
use std::path::Path;

use scimbox::config::Config;
use scimbox::credentials::Scope;
use scimbox::store::Store;
use tokio::sync::oneshot;

/// A running in-process server. Dropping it stops the server and deletes its data.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    /// The server's own store handle (same writer thread), for setting up data and holding the writer.
    pub store: Store,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), scimbox::http::ServeError>>>,
}

/// Installs the ring provider for reqwest's rustls, once per process.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn client() -> reqwest::Client {
    install_crypto();
    reqwest::Client::builder().build().expect("client")
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts a server whose configuration `adjust` may change first.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_bound(|config, _| adjust(config)).await
    }

    /// Starts a server whose configuration `adjust` may change first, knowing the address it will listen
    /// on (for settings that name it, such as `--public-url`).
    pub async fn start_bound(adjust: impl FnOnce(&mut Config, SocketAddr)) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        TestServer::start_listening(listener, |config| adjust(config, addr)).await
    }

    /// Starts a server on `listener` (bound by the caller, who may have told others its address).
    pub async fn start_listening(listener: tokio::net::TcpListener, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::with_data_dir(dir.path());
        adjust(&mut config);
        let server = scimbox::Server::start(config, listener).await.expect("server starts");
        let addr = server.local_addr();
        let store = server.store().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            base: format!("http://{addr}"),
            store,
            client: client(),
            dir,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new token of `scope`; returns its full text.
    pub async fn token(&self, scope: Scope) -> String {
        let (_, token) = self.store.create_token(&actor(), "test", scope, None).await.expect("token");
        token.text()
    }

    /// Asks the server to stop and waits until it has.
    pub async fn stop(mut self) {
        if let Some(task) = self.begin_stop() {
            task.await.expect("server task").expect("server stops cleanly");
        }
    }

    /// Asks the server to stop and returns the task to await.
    pub fn begin_stop(&mut self) -> Option<tokio::task::JoinHandle<Result<(), scimbox::http::ServeError>>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The actor of the changes a test makes through the store directly: a command run by "test".
pub fn actor() -> scimbox::audit::Actor {
    scimbox::audit::Actor::cli("test".into())
}
