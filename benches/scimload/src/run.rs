//! One run from start to end: open the connections, seed and resolve the plan, let every virtual user
//! drive its connection through the warm-up and the measurement window, merge what they recorded.

use std::sync::Arc;
use std::time::Instant;

use crate::args::Args;
use crate::client::Client;
use crate::record::Record;
use crate::report::Summary;
use crate::seed::{self, SeedReport};
use crate::workload::{Shared, VirtualUser};

/// What a run ended with.
#[derive(Debug)]
pub enum Finished {
    /// `--seed-only`: the data is there.
    Seeded(SeedReport),
    Measured(Box<Summary>),
}

pub async fn run(args: &Args) -> Result<Finished, String> {
    let target = Arc::new(args.base_url.clone());
    let mut clients = (0..args.connections)
        .map(|_| Client::new(target.clone(), args.token.as_deref(), args.timeout))
        .collect::<Result<Vec<_>, _>>()?;
    let (plan, seeding) = seed::prepare(args, &mut clients).await?;
    if args.seed_only {
        return Ok(Finished::Seeded(seeding));
    }
    let shared = Arc::new(Shared {
        scenario: args.scenario,
        plan,
        connections: clients.len(),
        bulk_size: args.bulk_size as usize,
    });
    let start = Instant::now() + args.warmup;
    let stop = start + args.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for (index, client) in clients.into_iter().enumerate() {
        let user = VirtualUser::new(index, client, shared.clone(), Record::new(start, stop));
        tasks.spawn(user.drive(stop));
    }
    let mut record = Record::new(start, stop);
    while let Some(joined) = tasks.join_next().await {
        record.merge(&joined.map_err(|panic| format!("a virtual user failed: {panic}"))?);
    }
    Ok(Finished::Measured(Box::new(Summary::new(args, &record, seeding))))
}
