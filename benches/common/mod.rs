//! What the benches at scale share: a data directory seeded once and kept under `target/bench-data/` for
//! later runs, and a scimbox server on it with a token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use scimbox::config::Config;
use scimbox::credentials::Scope;
use scimbox::store::Store;

/// A server running on a seeded data directory.
pub struct Served {
    pub dir: PathBuf,
    pub store: Store,
    pub addr: SocketAddr,
    /// A token of the asked scope, valid for a day.
    pub token: String,
}

/// Seeds `target/bench-data/NAME` with `seed` unless an earlier run finished seeding it, then starts a
/// server on it (on 127.0.0.1, a port the OS picks) and creates a token of `scope`.
pub async fn serve_seeded(name: &str, scope: Scope, seed: impl AsyncFnOnce(&Path)) -> Served {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data").join(name);
    let marker = dir.join("seeded");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        seed(&dir).await;
        std::fs::write(&marker, "ok").expect("marker");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = scimbox::Server::start(Config::with_data_dir(&dir), listener).await.expect("server");
    let addr = server.local_addr();
    let store = server.store().clone();
    tokio::spawn(server.run(std::future::pending()));
    let (_, token) = store.create_token(&actor(), "bench", scope, Some(1)).await.expect("token");
    Served { dir, store, addr, token: token.text() }
}

/// The actor of the changes a benchmark seeds through the store directly: a command run by "bench".
pub fn actor() -> scimbox::audit::Actor {
    scimbox::audit::Actor::cli("bench".into())
}
