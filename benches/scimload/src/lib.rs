//! scimload drives any SCIM 2.0 server with the request mixes an identity provider produces, and measures
//! what it gets back: throughput, latency percentiles, and errors by status, counting a wrong answer (a
//! lookup that does not find its user, a page that repeats one) as an error of its own.
//!
//! It seeds its data over SCIM itself, so nothing here knows scimbox: the only thing it ever connects to
//! is the host and port of `--base-url`, and it never follows a `Location` header. It speaks plain
//! HTTP/1.1 with one keep-alive connection per virtual user; HTTPS and HTTP/2 are deliberately absent
//! (an IdP's connector uses one request per connection at a time, and TLS would measure rustls).

pub mod args;
pub mod baseline;
pub mod client;
pub mod histogram;
pub mod mix;
pub mod record;
pub mod report;
pub mod rng;
pub mod run;
pub mod scim;
pub mod seed;
pub mod target;
pub mod workload;
