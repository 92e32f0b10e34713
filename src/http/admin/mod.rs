//! The JSON API under `/admin/api/` that the admin page (and only the page) uses: the per-server admin
//! state (sign-in throttle, dummy hash) and the handlers by area. The routes themselves are in
//! `http/routes.rs`; what the handlers share with the platform API is `http/json_api.rs`.

pub mod accounts;
pub mod activity;
pub mod audit;
pub mod directory;
pub mod session;
pub mod tokens;

/// What the admin side of one server keeps in memory.
#[derive(Debug)]
pub struct AdminState {
    pub throttle: crate::http::throttle::LoginThrottle,
    /// An argon2id hash of a random secret: verified against when a user name is unknown, so that a
    /// failed sign-in costs the same time whether or not the name exists.
    pub dummy_hash: String,
}

impl AdminState {
    /// The admin state of a server: draws the dummy hash (one argon2 run).
    pub async fn start(store: crate::store::Store) -> Result<AdminState, String> {
        let secret = crate::credentials::random_hex(32).map_err(|e| e.to_string())?;
        let dummy_hash =
            store.argon2().hash(crate::hashing::Lane::Interactive, secret).await.map_err(|e| e.to_string())?;
        Ok(AdminState { throttle: crate::http::throttle::LoginThrottle::default(), dummy_hash })
    }
}
