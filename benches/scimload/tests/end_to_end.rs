//! The built `scimload` and `hello` binaries, end to end: the baseline against `hello`, every scenario
//! against a small in-memory SCIM server (seeding, then a short measured run, with no errors), and a
//! server whose lookups lie, which must show up as wrong answers and a failing exit status.

mod fake_scim;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs scimload with `args` for one second and returns whether it succeeded and its JSON result, if
/// it wrote one.
fn run(args: &[&str]) -> (bool, Option<Value>) {
    let dir = std::env::temp_dir().join(format!("scimload-test-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("result.json");
    let output = Command::new(env!("CARGO_BIN_EXE_scimload"))
        .args(args)
        .args(["--warmup", "0s", "--duration", "1s", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let summary = std::fs::read_to_string(&json).ok().map(|text| serde_json::from_str(&text).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
    (output.status.success(), summary)
}

/// Like [`run`], for runs that must write their result.
fn scimload(args: &[&str]) -> (bool, Value) {
    let (success, summary) = run(args);
    (success, summary.unwrap_or_else(|| panic!("scimload {args:?} wrote no JSON result")))
}

fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn the_baseline_runs_against_hello_which_stops_on_sigterm() {
    let mut hello = Command::new(env!("CARGO_BIN_EXE_hello"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(hello.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let base = first.trim().strip_prefix("hello listening on ").unwrap_or_else(|| panic!("{first:?}")).to_owned();

    let (success, summary) = scimload(&["--base-url", &base, "--scenario", "hello", "--connections", "4"]);
    assert!(success, "{summary}");
    assert_eq!(summary["scenario"], "hello");
    assert!(summary["requests"].as_u64().unwrap() > 100, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    assert!(summary["latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    assert!(summary["latency_ms"]["max"].as_f64() >= summary["latency_ms"]["p99"].as_f64());

    let killed = Command::new("kill").args(["-TERM", &hello.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = hello.try_wait().unwrap() {
            assert!(status.success(), "hello exited with {status} on SIGTERM");
            break;
        }
        assert!(Instant::now() < deadline, "hello did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_scenario_runs_without_errors_against_a_scim_server() {
    let base = format!("http://{}/scim/v2", fake_scim::start(false));
    let common = [
        "--base-url",
        &base,
        "--token",
        "secret",
        "--connections",
        "4",
        "--seed-users",
        "60",
        "--seed-groups",
        "3",
        "--group-size",
        "20",
    ];
    let (seeded, seeding) = scimload(&[&common[..], &["--scenario", "okta-mix", "--seed-only"]].concat());
    assert!(seeded, "{seeding}");
    assert_eq!(seeding["seeding"]["users_created"], 60, "{seeding}");
    assert_eq!(seeding["seeding"]["groups_created"], 3, "{seeding}");

    for scenario in ["lookup", "okta-mix", "create", "group-patch", "import"] {
        let (success, summary) = scimload(&[&common[..], &["--scenario", scenario]].concat());
        assert!(success, "{scenario}: {summary}");
        assert_eq!(summary["scenario"], scenario);
        assert_eq!(summary["seeding"]["users_created"], 0, "{scenario} should reuse the seeded users: {summary}");
        assert!(summary["requests"].as_u64().unwrap() > 10, "{scenario}: {summary}");
        assert_eq!(summary["errors"], 0, "{scenario}: {summary}");
    }
    // Bulk: every request creates --bulk-size users, and the users per second are reported.
    let (success, bulk) = scimload(&[&common[..], &["--scenario", "bulk", "--bulk-size", "25"]].concat());
    assert!(success, "{bulk}");
    assert_eq!(bulk["errors"], 0, "{bulk}");
    let right = bulk["right"].as_f64().unwrap();
    assert!(right > 0.0, "{bulk}");
    let seconds = bulk["duration_seconds"].as_f64().unwrap();
    assert_eq!(bulk["users_created_per_second"].as_f64().unwrap(), right * 25.0 / seconds, "{bulk}");
    // The mix sends every kind of request it documents.
    let (_, mix) = scimload(&[&common[..], &["--scenario", "okta-mix"]].concat());
    let kinds: Vec<&str> = mix["by_kind"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["lookup", "lookup-miss", "create", "get", "put", "patch-user", "patch-group"], "{mix}");
}

#[test]
fn wrong_answers_count_as_errors() {
    let base = format!("http://{}/scim/v2", fake_scim::start(true));
    let args =
        ["--base-url", &base, "--token", "secret", "--connections", "2", "--seed-users", "5", "--scenario", "lookup"];
    let (success, summary) = scimload(&args);
    assert!(!success, "a run with no right answer must fail: {summary}");
    assert_eq!(summary["right"], 0, "{summary}");
    assert_eq!(summary["errors"], summary["requests"], "{summary}");
    assert!(summary["errors_by_category"]["wrong-answer"].as_u64().unwrap() > 0, "{summary}");
    assert!(summary["error_examples"][0].as_str().unwrap().contains("wrong answer"), "{summary}");

    // A refused token stops the run during seeding, before anything is measured.
    let (success, summary) =
        run(&["--base-url", &base, "--token", "wrong", "--scenario", "create", "--seed-users", "5"]);
    assert!(!success);
    assert_eq!(summary, None);
}
