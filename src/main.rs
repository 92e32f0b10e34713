//! The `scimbox` binary: everything it does is in the library; this only hands over the command line.

fn main() -> std::process::ExitCode {
    scimbox::cli::main()
}
