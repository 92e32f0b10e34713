//! `scimload`: parses the command line, runs one scenario, prints the summary and writes the JSON.
//! Exit status 0 when the run measured something, 1 when it could not (setup failed, or not one request
//! was answered right), 2 for a usage error.

use std::process::ExitCode;

use clap::Parser;
use scimload::args::Args;
use scimload::run::{self, Finished};

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(message) = args.validate() {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (json, status) = match runtime.block_on(run::run(&args)) {
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
        Ok(Finished::Seeded(seeding)) => {
            eprintln!("seed: done in {:.1} s", seeding.seconds);
            (
                serde_json::to_string_pretty(&serde_json::json!({ "seed_only": true, "seeding": seeding })),
                ExitCode::SUCCESS,
            )
        }
        Ok(Finished::Measured(summary)) => {
            print!("{}", summary.human());
            let status = if summary.right == 0 {
                eprintln!("error: not one request was answered right");
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
            (serde_json::to_string_pretty(&summary), status)
        }
    };
    if let Some(path) = &args.json {
        let written = json
            .map_err(|e| e.to_string())
            .and_then(|text| std::fs::write(path, text + "\n").map_err(|e| e.to_string()));
        if let Err(error) = written {
            eprintln!("error: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    status
}
