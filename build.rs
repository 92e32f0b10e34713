//! Rebuilds the crate when a migration or a web asset is added, so `embed_migrations!` and rust-embed
//! never serve a stale set (both only track the files that existed at the previous build).
fn main() {
    println!("cargo:rerun-if-changed=sql");
    println!("cargo:rerun-if-changed=web");
}
