//! The command line, parsed once by clap into typed values and checked as a whole before anything
//! connects: a run that cannot make sense (a group-patch run without groups, more movers than users) is
//! refused with a sentence, not discovered halfway through seeding a million users.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::target::Target;

/// Load generator for SCIM 2.0 servers: IdP-shaped request mixes, latency percentiles, errors by status.
#[derive(Debug, Parser)]
#[command(name = "scimload", version)]
pub struct Args {
    /// SCIM base URL of the server under test (http only), e.g. http://127.0.0.1:8080/scim/v2. Nothing
    /// else is ever connected to. The `hello` scenario requests this URL itself.
    #[arg(long, value_name = "URL", value_parser = Target::parse)]
    pub base_url: Target,
    /// Bearer token for the SCIM API (needed by every scenario but `hello`).
    #[arg(long, env = "SCIMLOAD_TOKEN", hide_env_values = true, value_name = "T")]
    pub token: Option<String>,
    /// What to send.
    #[arg(long, value_enum, value_name = "NAME")]
    pub scenario: Scenario,
    /// Virtual users, each with its own keep-alive connection (also used for seeding).
    #[arg(long, default_value_t = 32, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// How long to measure, after the warm-up: 30s, 2m, 500ms.
    #[arg(long, default_value = "10s", value_name = "D", value_parser = parse_duration)]
    pub duration: Duration,
    /// How long to run the workload before measuring.
    #[arg(long, default_value = "2s", value_name = "D", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Users the server must hold (named scimload-user-{i}@example.com); created over SCIM if missing.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub seed_users: usize,
    /// Groups of --group-size members each (named scimload-group-{size}-{g}); created if missing.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub seed_groups: usize,
    /// Members of each seeded group (the first N seeded users).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub group_size: usize,
    /// Write the result as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Seed (or check) the data and exit without running the scenario.
    #[arg(long)]
    pub seed_only: bool,
    /// Trust that the server already holds the seeded users and groups: skip the existence check.
    #[arg(long)]
    pub reuse_seed: bool,
    /// Users whose ids are looked up before the run, for the flows that address a user by id
    /// (profile pushes, deactivations); all of them when fewer are seeded.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub sample: usize,
    /// Creates in each `POST /Bulk` of the bulk scenario (scimbox accepts at most 1,000 by default).
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub bulk_size: u32,
    /// A request taking longer than this counts as a timeout error.
    #[arg(long, default_value = "30s", value_name = "D", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// The request mixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// `GET /Users?filter=userName eq "…"` of a random seeded user (Okta's assignment check).
    Lookup,
    /// Okta's provisioning traffic: lookups, creates, GET+PUT pushes, deactivations, group pushes.
    OktaMix,
    /// Durable `POST /Users` of new users.
    Create,
    /// One-member add/remove PATCHes on groups of --group-size members.
    GroupPatch,
    /// Paging through all users with `count=100`, as Okta's import does.
    Import,
    /// Durable creates of new users, --bulk-size of them in each `POST /Bulk`.
    Bulk,
    /// `GET` of the base URL, expecting 2xx: the baseline against a hello-world server.
    Hello,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Lookup => "lookup",
            Scenario::OktaMix => "okta-mix",
            Scenario::Create => "create",
            Scenario::GroupPatch => "group-patch",
            Scenario::Import => "import",
            Scenario::Bulk => "bulk",
            Scenario::Hello => "hello",
        }
    }

    /// Whether the scenario moves users in and out of the seeded groups.
    pub fn uses_groups(self) -> bool {
        matches!(self, Scenario::OktaMix | Scenario::GroupPatch)
    }
}

impl Args {
    /// Checks what clap cannot: combinations of flags.
    pub fn validate(&self) -> Result<(), String> {
        if self.duration.is_zero() {
            return Err("--duration must be more than zero".into());
        }
        if self.timeout.is_zero() {
            return Err("--timeout must be more than zero".into());
        }
        if self.scenario == Scenario::Hello {
            return Ok(());
        }
        if self.token.as_deref().is_none_or(str::is_empty) {
            return Err(format!("--token (or SCIMLOAD_TOKEN) is needed for the {} scenario", self.scenario.name()));
        }
        if self.seed_users == 0 {
            return Err("--seed-users must be at least 1".into());
        }
        let seeds_groups = self.seed_only || self.scenario.uses_groups();
        if seeds_groups && self.group_size > self.seed_users {
            return Err(format!(
                "--group-size {} is more than the {} seeded users it is drawn from",
                self.group_size, self.seed_users
            ));
        }
        if self.scenario.uses_groups() {
            if self.seed_groups == 0 || self.group_size == 0 {
                return Err(format!(
                    "the {} scenario needs --seed-groups and --group-size above 0",
                    self.scenario.name()
                ));
            }
            // Each virtual user moves its own user (one that belongs to no seeded group) in and out of
            // groups, so that no two connections ever race on one membership.
            let movers = self.connections as usize;
            if self.group_size + movers > self.seed_users {
                return Err(format!(
                    "the {} scenario needs --seed-users of at least --group-size + --connections ({} + {movers}): \
                     each connection moves a user of its own that is in no seeded group",
                    self.scenario.name(),
                    self.group_size
                ));
            }
        }
        Ok(())
    }
}

/// Parses `30s`, `2m`, `1h`, `500ms`, or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration such as 30s, 2m or 500ms"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit {other:?} in {text:?}: use ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<Duration>) {
        assert_eq!(parse_duration(text).ok(), expected, "{text}");
    }

    #[test]
    fn durations() {
        check("30s", Some(Duration::from_secs(30)));
        check("2m", Some(Duration::from_secs(120)));
        check("1h", Some(Duration::from_secs(3600)));
        check("500ms", Some(Duration::from_millis(500)));
        check("1.5s", Some(Duration::from_millis(1500)));
        check("15", Some(Duration::from_secs(15)));
        check("0s", Some(Duration::ZERO));
        check(" 10s ", Some(Duration::from_secs(10)));
        check("", None);
        check("s", None);
        check("10 parsecs", None);
        check("10d", None);
        check("-1s", None);
        check("1e400s", None);
    }

    fn args(line: &str) -> Result<Args, String> {
        let words = std::iter::once("scimload").chain(line.split_whitespace());
        let args = Args::try_parse_from(words).map_err(|e| e.to_string())?;
        args.validate()?;
        Ok(args)
    }

    #[test]
    fn the_command_line_of_the_issue_parses() {
        let parsed = args(
            "--base-url http://127.0.0.1:8080/scim/v2 --token T --scenario okta-mix --connections 32 --duration 30s \
             --seed-users 1000 --seed-groups 10 --group-size 100",
        )
        .unwrap();
        assert_eq!(parsed.scenario, Scenario::OktaMix);
        assert_eq!(parsed.connections, 32);
        assert_eq!(parsed.duration, Duration::from_secs(30));
        assert_eq!((parsed.seed_users, parsed.seed_groups, parsed.group_size), (1000, 10, 100));
        assert_eq!(
            args("--base-url http://h/ --scenario group-patch --token T").unwrap().scenario,
            Scenario::GroupPatch
        );
    }

    #[test]
    fn impossible_runs_are_refused() {
        let refused = |line: &str, words: &str| {
            let error = args(line).expect_err(line);
            assert!(error.contains(words), "{line}: {error}");
        };
        refused("--base-url https://h/ --scenario lookup --token T", "https is not supported");
        refused("--base-url http://h/ --scenario lookup", "--token");
        refused("--base-url http://h/ --scenario lookup --token T --connections 0", "connections");
        refused("--base-url http://h/ --scenario lookup --token T --duration 0s", "--duration");
        refused("--base-url http://h/ --scenario lookup --token T --seed-users 0", "--seed-users");
        refused("--base-url http://h/ --scenario group-patch --token T --seed-groups 0", "--seed-groups");
        refused(
            "--base-url http://h/ --scenario group-patch --token T --seed-users 100 --group-size 90 --connections 32",
            "at least --group-size + --connections",
        );
        refused("--base-url http://h/ --scenario import --token T --seed-only --seed-users 10", "--group-size");
        refused("--base-url http://h/ --scenario bulk --token T --bulk-size 0", "--bulk-size");
        args("--base-url http://h/ --scenario lookup --token T --seed-users 10").unwrap();
        assert_eq!(args("--base-url http://h/ --scenario bulk --token T").unwrap().bulk_size, 1000);
        // The baseline needs no token and no data.
        args("--base-url http://127.0.0.1:1/ --scenario hello").unwrap();
    }
}
