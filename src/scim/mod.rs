//! SCIM 2.0 (RFC 7643 and RFC 7644) as pure data and functions.
//!
//! Architecture invariant: nothing in `scim/` does IO, is async, speaks SQL or knows hyper. It takes
//! values and returns values, which keeps it unit-testable, fuzzable and benchmarkable. `store/` and
//! `http/` depend on it; it depends on neither.

pub mod error;
pub mod filter;
pub mod schema;
pub mod user;

pub use error::{Error, Kind};
pub mod bulk;
pub mod discovery;
pub mod group;
pub mod list;
pub mod patch;
pub mod projection;
pub mod resource;
