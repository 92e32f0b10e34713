//! The `scimbox` binary: everything it does is in the library; this only hands over the command line
//! and chooses the memory allocator.

/// mimalloc rather than the C library's allocator: a request allocates and frees many small buffers on
/// two worker threads, and glibc's malloc/free/consolidate were about 7 % of the server's CPU under
/// lookups (ARCHITECTURE.md, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    scimbox::cli::main()
}
