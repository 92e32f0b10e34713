//! The integration tests, in one binary: store tests against a real temporary SQLite, in-process HTTP
//! tests through the `Server` seam on port 0, and black-box tests of the built `scimbox` binary.

mod admin;
mod audit;
mod binary;
mod browser;
mod bulk;
mod cli;
mod directory;
mod fuzz_regressions;
mod groups;
mod hostile;
mod http;
mod membership;
mod metrics;
mod oidc;
mod platform;
mod scim_client;
mod sharing;
mod store;
mod support;
mod tidy;
mod users;
mod walk;
