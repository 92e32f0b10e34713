//! The `okta-mix` scenario's proportions: which of Okta's provisioning flows a virtual user runs next.
//! Okta documents each flow's requests but publishes no distribution of them; the weights below are
//! derived in this package's README.md ("The okta-mix proportions"), and a test keeps the request shares
//! it states true.

use crate::record::Kind;
use crate::rng::Rng;

/// One of Okta's provisioning flows, as the requests it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A profile change pushed: `GET /Users/{id}`, then `PUT /Users/{id}` with the whole profile.
    ProfilePush,
    /// An assignment (or re-assignment) of a user the server already has: the lookup finds it and
    /// Okta links to it.
    AssignExisting,
    /// An assignment of a new user: the lookup finds nothing, then `POST /Users`.
    AssignNew,
    /// A group push membership change: one `PATCH /Groups/{id}` adding or removing one member.
    GroupPush,
    /// A deactivation and, later, the reactivation: two `PATCH /Users/{id}` setting `active`. Paired so
    /// that repeated runs leave the seeded users as they found them.
    DeactivateReactivate,
}

/// Flows and their weights, in percent of flows.
pub const OKTA_MIX: [(Flow, u32); 5] = [
    (Flow::ProfilePush, 35),
    (Flow::AssignExisting, 25),
    (Flow::AssignNew, 10),
    (Flow::GroupPush, 20),
    (Flow::DeactivateReactivate, 10),
];

impl Flow {
    /// The requests one run of the flow sends.
    pub fn requests(self) -> &'static [Kind] {
        match self {
            Flow::ProfilePush => &[Kind::Get, Kind::Put],
            Flow::AssignExisting => &[Kind::Lookup],
            Flow::AssignNew => &[Kind::LookupMiss, Kind::Create],
            Flow::GroupPush => &[Kind::PatchGroup],
            Flow::DeactivateReactivate => &[Kind::PatchUser, Kind::PatchUser],
        }
    }
}

/// Picks the next flow by weight.
pub fn pick(rng: &mut Rng) -> Flow {
    let total: u32 = OKTA_MIX.iter().map(|(_, weight)| weight).sum();
    let mut ticket = rng.below(total as u64) as u32;
    for (flow, weight) in OKTA_MIX {
        if ticket < weight {
            return flow;
        }
        ticket -= weight;
    }
    unreachable!("the ticket is below the total of the weights")
}

/// Each kind of request's share of all requests the mix sends, in percent.
pub fn request_shares() -> Vec<(Kind, f64)> {
    let total: u32 = OKTA_MIX.iter().map(|(flow, weight)| weight * flow.requests().len() as u32).sum();
    Kind::ALL
        .into_iter()
        .map(|kind| {
            let count: u32 = OKTA_MIX
                .iter()
                .map(|(flow, weight)| weight * flow.requests().iter().filter(|k| **k == kind).count() as u32)
                .sum();
            (kind, 100.0 * count as f64 / total as f64)
        })
        .filter(|(_, share)| *share > 0.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weights_are_percentages_of_flows() {
        assert_eq!(OKTA_MIX.iter().map(|(_, weight)| weight).sum::<u32>(), 100);
        assert!(OKTA_MIX.iter().all(|(_, weight)| *weight > 0));
    }

    #[test]
    fn the_request_shares_are_those_the_readme_states() {
        let shares: Vec<(&str, String)> =
            request_shares().into_iter().map(|(kind, share)| (kind.name(), format!("{share:.1}"))).collect();
        let expected = [
            ("lookup", "16.1"),
            ("lookup-miss", "6.5"),
            ("create", "6.5"),
            ("get", "22.6"),
            ("put", "22.6"),
            ("patch-user", "12.9"),
            ("patch-group", "12.9"),
        ];
        assert_eq!(shares, expected.map(|(kind, share)| (kind, share.to_owned())));
        let sum: f64 = request_shares().iter().map(|(_, share)| share).sum();
        assert!((sum - 100.0).abs() < 1e-9, "{sum}");
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        for (kind, share) in expected {
            assert!(readme.contains(&format!("| `{kind}` | {share} % |")), "README.md does not state {kind} {share} %");
        }
        for (flow, weight) in OKTA_MIX {
            assert!(
                readme.contains(&format!("| {weight} % |")),
                "README.md does not state {flow:?}'s weight {weight} %"
            );
        }
    }

    #[test]
    fn picking_follows_the_weights() {
        let mut rng = Rng::new(42);
        let mut counts = [0u32; OKTA_MIX.len()];
        for _ in 0..100_000 {
            let flow = pick(&mut rng);
            counts[OKTA_MIX.iter().position(|(f, _)| *f == flow).unwrap()] += 1;
        }
        for ((flow, weight), count) in OKTA_MIX.iter().zip(counts) {
            let expected = weight * 1000;
            assert!(count.abs_diff(expected) < 1000, "{flow:?}: {count} of 100000, expected about {expected}");
        }
    }
}
