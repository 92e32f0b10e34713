//! What one virtual user saw: for each kind of request, a latency histogram, how many were right, and
//! errors by category (an HTTP status, a wrong answer, a timeout, a broken connection). Only requests
//! that complete inside the measurement window count; the warm-up's are discarded. Tallies of all
//! virtual users are merged once at the end.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::client::Failure;
use crate::histogram::Histogram;

/// The kinds of request the scenarios send, reported separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Hello,
    /// `GET /Users?filter=userName eq` of an existing user.
    Lookup,
    /// The same for a user about to be created (expects no result).
    LookupMiss,
    Create,
    /// `GET /Users/{id}`.
    Get,
    /// `PUT /Users/{id}`.
    Put,
    /// `PATCH /Users/{id}` (deactivate or reactivate).
    PatchUser,
    /// `PATCH /Groups/{id}` (one member added or removed).
    PatchGroup,
    /// One import page.
    Page,
    /// One `POST /Bulk` of creates.
    Bulk,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Hello,
        Kind::Lookup,
        Kind::LookupMiss,
        Kind::Create,
        Kind::Get,
        Kind::Put,
        Kind::PatchUser,
        Kind::PatchGroup,
        Kind::Page,
        Kind::Bulk,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Hello => "hello",
            Kind::Lookup => "lookup",
            Kind::LookupMiss => "lookup-miss",
            Kind::Create => "create",
            Kind::Get => "get",
            Kind::Put => "put",
            Kind::PatchUser => "patch-user",
            Kind::PatchGroup => "patch-group",
            Kind::Page => "page",
            Kind::Bulk => "bulk",
        }
    }
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Right,
    /// An unexpected HTTP status.
    Status(u16),
    /// The expected status with a body that says something else than it must.
    WrongAnswer(String),
    Failed(Failure),
}

impl Outcome {
    /// The error category this outcome counts under; `None` when it was right.
    pub fn category(&self) -> Option<String> {
        match self {
            Outcome::Right => None,
            Outcome::Status(status) => Some(status.to_string()),
            Outcome::WrongAnswer(_) => Some("wrong-answer".to_owned()),
            Outcome::Failed(Failure::Timeout) => Some("timeout".to_owned()),
            Outcome::Failed(Failure::Connect(_)) => Some("connect".to_owned()),
            Outcome::Failed(Failure::Connection(_)) => Some("connection".to_owned()),
        }
    }
}

/// The tally of one kind of request.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub latency: Histogram,
    pub right: u64,
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    pub fn requests(&self) -> u64 {
        self.latency.count()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn merge(&mut self, other: &Tally) {
        self.latency.merge(&other.latency);
        self.right += other.right;
        for (category, count) in &other.errors {
            *self.errors.entry(category.clone()).or_default() += count;
        }
    }
}

/// How many error messages are kept to show what went wrong.
const EXAMPLES: usize = 5;

/// One virtual user's tallies, or all of them merged.
#[derive(Debug, Clone)]
pub struct Record {
    start: Instant,
    end: Instant,
    tallies: BTreeMap<Kind, Tally>,
    /// The first few error messages, to tell a wrong answer's nature without a debugger.
    pub examples: Vec<String>,
}

impl Record {
    /// An empty record counting requests that complete between `start` and `end`.
    pub fn new(start: Instant, end: Instant) -> Record {
        Record { start, end, tallies: BTreeMap::new(), examples: Vec::new() }
    }

    /// Counts a request that began at `began` and was answered at `ended`, if that is inside the window.
    pub fn add(&mut self, kind: Kind, began: Instant, ended: Instant, outcome: &Outcome) {
        if ended < self.start || ended > self.end {
            return;
        }
        let tally = self.tallies.entry(kind).or_default();
        tally.latency.record(ended.duration_since(began).as_nanos().min(u64::MAX as u128) as u64);
        match outcome.category() {
            None => tally.right += 1,
            Some(category) => {
                *tally.errors.entry(category).or_default() += 1;
                if self.examples.len() < EXAMPLES {
                    self.examples.push(describe(kind, outcome));
                }
            }
        }
    }

    pub fn merge(&mut self, other: &Record) {
        for (kind, tally) in &other.tallies {
            self.tallies.entry(*kind).or_default().merge(tally);
        }
        for example in &other.examples {
            if self.examples.len() < EXAMPLES {
                self.examples.push(example.clone());
            }
        }
    }

    /// The tallies by kind, in [`Kind`] order.
    pub fn tallies(&self) -> impl Iterator<Item = (Kind, &Tally)> {
        self.tallies.iter().map(|(kind, tally)| (*kind, tally))
    }

    /// Every kind together.
    pub fn total(&self) -> Tally {
        let mut total = Tally::default();
        self.tallies.values().for_each(|tally| total.merge(tally));
        total
    }
}

fn describe(kind: Kind, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Right => format!("{}: right", kind.name()),
        Outcome::Status(status) => format!("{}: unexpected status {status}", kind.name()),
        Outcome::WrongAnswer(why) => format!("{}: wrong answer: {why}", kind.name()),
        Outcome::Failed(failure) => format!("{}: {failure}", kind.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_requests_ending_inside_the_window_count() {
        let now = Instant::now();
        let mut inside = Record::new(now - Duration::from_secs(1), now + Duration::from_secs(60));
        let mut before = Record::new(now + Duration::from_secs(30), now + Duration::from_secs(60));
        for record in [&mut inside, &mut before] {
            let ended = now + Duration::from_millis(3);
            record.add(Kind::Lookup, now, ended, &Outcome::Right);
            record.add(Kind::Lookup, now, ended, &Outcome::Status(500));
            record.add(Kind::Lookup, now, ended, &Outcome::WrongAnswer("no user".into()));
            record.add(Kind::Create, now, ended, &Outcome::Failed(Failure::Timeout));
        }
        assert_eq!(before.total().requests(), 0);
        let total = inside.total();
        assert_eq!((total.requests(), total.right, total.error_count()), (4, 1, 3));
        assert!(total.latency.max().abs_diff(3_000_000) <= 3_000_000 / 128, "{}", total.latency.max());
        let categories: Vec<_> = total.errors.keys().map(String::as_str).collect();
        assert_eq!(categories, ["500", "timeout", "wrong-answer"]);
        assert_eq!(inside.examples.len(), 3);
        assert!(inside.examples[1].contains("wrong answer: no user"), "{:?}", inside.examples);
        let mut merged = Record::new(now, now);
        merged.merge(&inside);
        merged.merge(&inside);
        assert_eq!(merged.total().requests(), 8);
        assert_eq!(merged.tallies().map(|(kind, _)| kind).collect::<Vec<_>>(), [Kind::Lookup, Kind::Create]);
    }
}
