//! scimbox: an on-prem SCIM 2.0 provisioning appliance. Identity providers (Okta first, Microsoft Entra
//! ID, any RFC 7643/7644 client) provision users and groups into it; admins connect them and watch them
//! work in the embedded page.
//!
//! Dependencies point one way: `cli → http → {store, credentials, sharing, scim, audit, config}` and
//! `store → {scim, sharing, audit}`.
//! See ARCHITECTURE.md for the map and the invariants.

pub mod audit;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod hashing;
pub mod http;
pub mod logsink;
pub mod scim;
pub mod sharing;
pub mod store;

pub use http::{Server, run};
