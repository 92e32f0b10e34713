//! The integration tests, in one binary: store tests against a real temporary SQLite, in-process HTTP
//! tests through the `Server` seam on port 0, and black-box tests of the built `scimbox` binary.

mod cli;
mod http;
mod store;
mod support;
mod tidy;
mod users;
