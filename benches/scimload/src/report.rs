//! The result of a run, once as a few human lines and once as JSON (`--json`), both from one
//! [`Summary`] so that they can never disagree.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::args::{Args, Scenario};
use crate::histogram::Histogram;
use crate::mix;
use crate::record::{Kind, Record, Tally};
use crate::seed::SeedReport;

/// Latency figures in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Latency {
    fn of(histogram: &Histogram) -> Latency {
        let ms = |ns: u64| ns as f64 / 1e6;
        Latency {
            p50: ms(histogram.percentile(0.50)),
            p90: ms(histogram.percentile(0.90)),
            p99: ms(histogram.percentile(0.99)),
            max: ms(histogram.max()),
            mean: ms(histogram.mean()),
        }
    }
}

/// One kind of request's figures.
#[derive(Debug, Clone, Serialize)]
pub struct KindSummary {
    pub kind: &'static str,
    pub requests: u64,
    pub requests_per_second: f64,
    pub latency_ms: Latency,
    pub errors: BTreeMap<String, u64>,
}

/// A flow of the okta-mix and its weight.
#[derive(Debug, Clone, Serialize)]
pub struct MixWeight {
    pub flow: String,
    pub percent_of_flows: u32,
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: Scenario,
    pub base_url: String,
    pub connections: u32,
    pub warmup_seconds: f64,
    pub duration_seconds: f64,
    pub seed_users: usize,
    pub seed_groups: usize,
    pub group_size: usize,
    /// Requests answered inside the measurement window, right or not.
    pub requests: u64,
    pub right: u64,
    pub errors: u64,
    pub requests_per_second: f64,
    pub latency_ms: Latency,
    /// The bulk scenario: users created per second by the `POST /Bulk` requests answered right.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_created_per_second: Option<f64>,
    /// Errors by HTTP status, `wrong-answer`, `timeout`, `connect` or `connection`.
    pub errors_by_category: BTreeMap<String, u64>,
    pub by_kind: Vec<KindSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<Vec<MixWeight>>,
    pub seeding: SeedReport,
    pub error_examples: Vec<String>,
}

impl Summary {
    pub fn new(args: &Args, record: &Record, seeding: SeedReport) -> Summary {
        let seconds = args.duration.as_secs_f64();
        let total = record.total();
        let kind_summary = |kind: &'static str, tally: &Tally| KindSummary {
            kind,
            requests: tally.requests(),
            requests_per_second: tally.requests() as f64 / seconds,
            latency_ms: Latency::of(&tally.latency),
            errors: tally.errors.clone(),
        };
        Summary {
            scenario: args.scenario,
            base_url: args.base_url.to_string(),
            connections: args.connections,
            warmup_seconds: args.warmup.as_secs_f64(),
            duration_seconds: seconds,
            seed_users: args.seed_users,
            seed_groups: args.seed_groups,
            group_size: args.group_size,
            requests: total.requests(),
            right: total.right,
            errors: total.error_count(),
            requests_per_second: total.requests() as f64 / seconds,
            latency_ms: Latency::of(&total.latency),
            users_created_per_second: (args.scenario == Scenario::Bulk).then(|| {
                let right = record.tallies().filter(|(kind, _)| *kind == Kind::Bulk).map(|(_, t)| t.right).sum::<u64>();
                (right * u64::from(args.bulk_size)) as f64 / seconds
            }),
            errors_by_category: total.errors.clone(),
            by_kind: record.tallies().map(|(kind, tally)| kind_summary(kind.name(), tally)).collect(),
            mix: (args.scenario == Scenario::OktaMix).then(|| {
                mix::OKTA_MIX
                    .iter()
                    .map(|(flow, weight)| MixWeight { flow: format!("{flow:?}"), percent_of_flows: *weight })
                    .collect()
            }),
            seeding,
            error_examples: record.examples.clone(),
        }
    }

    /// The few lines printed at the end of a run.
    pub fn human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "scimload {} against {}: {} connections, {:.1} s measured after {:.1} s of warm-up",
            self.scenario.name(),
            self.base_url,
            self.connections,
            self.duration_seconds,
            self.warmup_seconds
        );
        if self.scenario.uses_groups() {
            let _ = writeln!(
                out,
                "  data       {} seeded users, {} groups of {} members",
                self.seed_users, self.seed_groups, self.group_size
            );
        } else if self.scenario != Scenario::Hello {
            let _ = writeln!(out, "  data       {} seeded users", self.seed_users);
        }
        let _ = writeln!(
            out,
            "  requests   {} ({:.1}/s), {} right, {} errors",
            self.requests, self.requests_per_second, self.right, self.errors
        );
        if let Some(users) = self.users_created_per_second {
            let _ = writeln!(out, "  users      {users:.1} created/s (durable, by the requests answered right)");
        }
        let _ = writeln!(out, "  latency    {}", latency_line(&self.latency_ms));
        let _ = writeln!(out, "  errors     {}", errors_line(&self.errors_by_category));
        if self.by_kind.len() > 1 {
            for kind in &self.by_kind {
                let _ = writeln!(
                    out,
                    "  {:<12} {:>9.1}/s  {}  errors {}",
                    kind.kind,
                    kind.requests_per_second,
                    latency_line(&kind.latency_ms),
                    errors_line(&kind.errors)
                );
            }
        }
        for example in &self.error_examples {
            let _ = writeln!(out, "  e.g.       {example}");
        }
        out
    }
}

fn latency_line(latency: &Latency) -> String {
    format!(
        "p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        latency.p50, latency.p90, latency.p99, latency.max
    )
}

fn errors_line(errors: &BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        return "none".to_owned();
    }
    errors.iter().map(|(category, count)| format!("{category}: {count}")).collect::<Vec<_>>().join(", ")
}
