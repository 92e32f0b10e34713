//! Setting the stage over SCIM itself, so that any server can be measured: the seeded users (created with
//! concurrent `POST /Users` unless the last of them already exists), the seeded groups (created empty, then
//! filled by PATCHes of at most [`CHUNK`] members to stay under body limits), and the ids the scenarios
//! address users and groups by, looked up as Okta would before it stores them. Nothing here is measured.
//!
//! A second run against the same server finds the data and reuses it; `--reuse-seed` skips even that
//! check. A group that exists is taken as complete (a seeding interrupted between creating a group and
//! filling it needs a fresh server).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;
use serde::Serialize;

use crate::args::{Args, Scenario};
use crate::client::{Client, Failure, Reply};
use crate::rng::Rng;
use crate::scim;

/// Members added by one seeding PATCH: about 40 kB of JSON, well under any server's body limit.
pub const CHUNK: usize = 1000;
/// Attempts at one seeding request that fails without a response.
const ATTEMPTS: u32 = 3;
/// How often a long seeding reports progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What a run works on, resolved before it starts.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Seeded users.
    pub users: usize,
    /// Users the server holds (`totalResults`), for the import's expectations.
    pub total_users: u64,
    /// Seeded users addressed by id, as (index, id).
    pub sample: Vec<(usize, String)>,
    /// One user per virtual user, in no seeded group, that it moves in and out of groups.
    pub movers: Vec<(usize, String)>,
    /// Ids of the seeded groups.
    pub groups: Vec<String>,
    /// Tells this run's new users from those of other runs.
    pub run: String,
}

/// What seeding did, for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SeedReport {
    pub users_created: u64,
    pub users_found: u64,
    pub groups_created: u64,
    pub groups_found: u64,
    pub seconds: f64,
    /// Users created per second, when any were.
    pub users_per_second: Option<f64>,
}

/// Seeds what the scenario needs and resolves the plan.
pub async fn prepare(args: &Args, clients: &mut Vec<Client>) -> Result<(Plan, SeedReport), String> {
    let began = Instant::now();
    let mut report = SeedReport::default();
    let mut plan = Plan { users: args.seed_users, run: run_tag(), ..Plan::default() };
    if args.scenario == Scenario::Hello {
        return Ok((plan, report));
    }
    ensure_users(args, clients, &mut report).await?;
    if args.seed_only || args.scenario.uses_groups() {
        plan.groups = ensure_groups(args, clients, &mut report).await?;
    }
    if args.seed_only {
        report.seconds = began.elapsed().as_secs_f64();
        return Ok((plan, report));
    }
    let connections = args.connections as usize;
    if args.scenario.uses_groups() {
        let movers: Vec<usize> = (args.seed_users - connections..args.seed_users).collect();
        plan.movers = movers.iter().copied().zip(resolve_users(clients, &movers, "movers").await?).collect();
    }
    if args.scenario == Scenario::OktaMix {
        let sample = sample_indices(args.seed_users, args.sample.max(connections), &mut Rng::for_stream(0));
        plan.sample = sample.iter().copied().zip(resolve_users(clients, &sample, "sample").await?).collect();
    }
    if args.scenario == Scenario::Import {
        plan.total_users = count_users(&mut clients[0]).await?;
    }
    report.seconds = began.elapsed().as_secs_f64();
    Ok((plan, report))
}

/// A short random tag, so that the users a run creates never collide with an earlier run's.
fn run_tag() -> String {
    format!("{:08x}", Rng::for_stream(u64::MAX).next_u64() as u32)
}

/// `count` distinct indices below `users`, all of them when there are fewer.
pub fn sample_indices(users: usize, count: usize, rng: &mut Rng) -> Vec<usize> {
    if count >= users {
        return (0..users).collect();
    }
    let mut chosen = std::collections::HashSet::with_capacity(count);
    while chosen.len() < count {
        chosen.insert(rng.index(users));
    }
    let mut indices: Vec<usize> = chosen.into_iter().collect();
    indices.sort_unstable();
    indices
}

async fn ensure_users(args: &Args, clients: &mut Vec<Client>, report: &mut SeedReport) -> Result<(), String> {
    let users = args.seed_users;
    if args.reuse_seed {
        report.users_found = users as u64;
        return Ok(());
    }
    let last = scim::user_name(users - 1);
    let reply = send(&mut clients[0], Method::GET, &scim::lookup_path(&last), None).await?;
    if reply.status == 200 && scim::check_lookup_hit(&reply.body, &last).is_ok() {
        eprintln!("seed: the server holds {last}: reusing {users} seeded users");
        report.users_found = users as u64;
        return Ok(());
    }
    expect_status(&reply, 200, "looking up the last seeded user")?;
    eprintln!("seed: creating {users} users over {} connections", clients.len());
    let began = Instant::now();
    let created = Arc::new(AtomicU64::new(0));
    let found = Arc::new(AtomicU64::new(0));
    let (c, f) = (created.clone(), found.clone());
    batch(
        clients,
        users,
        "users",
        |index| {
            let name = scim::user_name(index);
            let display = format!("Load User {index}");
            let body = scim::user_body(&scim::Profile {
                id: None,
                user_name: &name,
                display_name: &display,
                title: None,
                active: true,
            });
            (Method::POST, "/Users".to_owned(), Some(body))
        },
        move |index, reply| match reply.status {
            201 => scim::check_user(&reply.body, &scim::user_name(index)).map(|_| {
                c.fetch_add(1, Ordering::Relaxed);
            }),
            // Created by an earlier, interrupted seeding.
            409 => {
                f.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            status => Err(format!("POST /Users answered {status}: {}", excerpt(&reply.body))),
        },
    )
    .await?;
    report.users_created = created.load(Ordering::Relaxed);
    report.users_found = found.load(Ordering::Relaxed);
    let seconds = began.elapsed().as_secs_f64();
    report.users_per_second = Some(report.users_created as f64 / seconds.max(1e-9));
    eprintln!(
        "seed: {} users created, {} already there, in {seconds:.1} s ({:.0} creates/s)",
        report.users_created,
        report.users_found,
        report.users_per_second.unwrap_or_default()
    );
    Ok(())
}

async fn ensure_groups(args: &Args, clients: &mut Vec<Client>, report: &mut SeedReport) -> Result<Vec<String>, String> {
    let (count, size) = (args.seed_groups, args.group_size);
    if count == 0 {
        return Ok(Vec::new());
    }
    let names: Arc<Vec<String>> = Arc::new((0..count).map(|g| scim::group_name(size, g)).collect());
    let ids: Arc<Mutex<Vec<Option<String>>>> = Arc::new(Mutex::new(vec![None; count]));
    let (lookup_names, lookup_ids) = (names.clone(), ids.clone());
    batch(
        clients,
        count,
        "group lookups",
        move |g| (Method::GET, scim::group_lookup_path(&lookup_names[g]), None),
        move |g, reply| {
            expect_status(reply, 200, "looking up a group")?;
            let list = scim::parse_list(&reply.body)?;
            if let [group] = list.resources.as_slice() {
                lookup_ids.lock().unwrap()[g] = Some(group.id.clone());
            }
            Ok(())
        },
    )
    .await?;
    let missing: Vec<usize> =
        ids.lock().unwrap().iter().enumerate().filter(|(_, id)| id.is_none()).map(|(g, _)| g).collect();
    report.groups_found = (count - missing.len()) as u64;
    if missing.is_empty() {
        eprintln!("seed: the server holds the {count} groups of {size} members: reusing them");
        return Ok(collect(&ids));
    }
    eprintln!("seed: creating {} groups of {size} members", missing.len());
    let began = Instant::now();
    let members: Arc<Vec<String>> = Arc::new(resolve_users(clients, &(0..size).collect::<Vec<_>>(), "members").await?);
    let (create_names, create_ids, create_missing) = (names.clone(), ids.clone(), Arc::new(missing.clone()));
    let missing_for_prepare = create_missing.clone();
    batch(
        clients,
        missing.len(),
        "groups",
        move |k| (Method::POST, "/Groups".to_owned(), Some(scim::group_body(&create_names[missing_for_prepare[k]]))),
        move |k, reply| {
            expect_status(reply, 201, "creating a group")?;
            create_ids.lock().unwrap()[create_missing[k]] = Some(scim::parse_resource(&reply.body)?.id);
            Ok(())
        },
    )
    .await?;
    report.groups_created = missing.len() as u64;
    // Every (group, chunk) pair is one PATCH; they run in any order.
    let chunks = size.div_ceil(CHUNK);
    let targets: Arc<Vec<String>> = Arc::new({
        let ids = ids.lock().unwrap();
        missing.iter().map(|&g| ids[g].clone().unwrap_or_default()).collect()
    });
    if chunks > 0 {
        batch(
            clients,
            missing.len() * chunks,
            "membership chunks",
            move |k| {
                let (group, chunk) = (k / chunks, k % chunks);
                let slice = &members[chunk * CHUNK..((chunk + 1) * CHUNK).min(members.len())];
                let body = scim::add_members_body(slice.iter().map(|id| (id.as_str(), "")));
                (Method::PATCH, format!("/Groups/{}", targets[group]), Some(body))
            },
            |_, reply| match reply.status {
                200 | 204 => Ok(()),
                status => Err(format!("adding members answered {status}: {}", excerpt(&reply.body))),
            },
        )
        .await?;
    }
    eprintln!("seed: {} groups created and filled in {:.1} s", missing.len(), began.elapsed().as_secs_f64());
    Ok(collect(&ids))
}

fn collect(ids: &Mutex<Vec<Option<String>>>) -> Vec<String> {
    ids.lock().unwrap().iter().map(|id| id.clone().unwrap_or_default()).collect()
}

/// The ids of seeded users, by looking each one up.
async fn resolve_users(clients: &mut Vec<Client>, indices: &[usize], what: &str) -> Result<Vec<String>, String> {
    let indices = Arc::new(indices.to_vec());
    let ids: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(vec![String::new(); indices.len()]));
    let (prepare_indices, handle_indices, handle_ids) = (indices.clone(), indices.clone(), ids.clone());
    batch(
        clients,
        indices.len(),
        what,
        move |k| (Method::GET, scim::lookup_path(&scim::user_name(prepare_indices[k])), None),
        move |k, reply| {
            expect_status(reply, 200, "looking up a seeded user")?;
            let id = scim::check_lookup_hit(&reply.body, &scim::user_name(handle_indices[k]))?;
            handle_ids.lock().unwrap()[k] = id;
            Ok(())
        },
    )
    .await?;
    let ids = std::mem::take(&mut *ids.lock().unwrap());
    Ok(ids)
}

async fn count_users(client: &mut Client) -> Result<u64, String> {
    let reply = send(client, Method::GET, "/Users?startIndex=1&count=1", None).await?;
    expect_status(&reply, 200, "counting users")?;
    Ok(scim::parse_list(&reply.body)?.total_results)
}

/// Sends `count` requests over all clients at once: `prepare` says what request `k` is, `handle`
/// checks its answer. A request that gets no answer is retried; a wrong answer ends the batch.
async fn batch<P, H>(clients: &mut Vec<Client>, count: usize, what: &str, prepare: P, handle: H) -> Result<(), String>
where
    P: Fn(usize) -> (Method, String, Option<Bytes>) + Send + Sync + 'static,
    H: Fn(usize, &Reply) -> Result<(), String> + Send + Sync + 'static,
{
    let shared = Arc::new((prepare, handle));
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for mut client in std::mem::take(clients) {
        let (shared, next, done) = (shared.clone(), next.clone(), done.clone());
        tasks.spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= count {
                    return (client, Ok(()));
                }
                let (method, path, body) = (shared.0)(k);
                let result = match send(&mut client, method, &path, body).await {
                    Ok(reply) => (shared.1)(k, &reply),
                    Err(error) => Err(error),
                };
                if let Err(error) = result {
                    // Stop the other workers too.
                    next.store(count, Ordering::Relaxed);
                    return (client, Err(error));
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let began = Instant::now();
    let mut progress = tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    let mut outcome = Ok(());
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => break,
                Some(Ok((client, result))) => {
                    clients.push(client);
                    if outcome.is_ok() {
                        outcome = result;
                    }
                }
                Some(Err(panic)) => outcome = Err(format!("a seeding task failed: {panic}")),
            },
            _ = progress.tick() => {
                let done = done.load(Ordering::Relaxed);
                let rate = done as f64 / began.elapsed().as_secs_f64();
                eprintln!("seed: {what}: {done}/{count} ({rate:.0}/s)");
            }
        }
    }
    outcome.map_err(|error| format!("seeding {what}: {error}"))
}

/// One request, retried a few times when it gets no answer at all.
async fn send(client: &mut Client, method: Method, path: &str, body: Option<Bytes>) -> Result<Reply, String> {
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
        match client.send(method.clone(), path, body.clone()).await {
            Ok(reply) => return Ok(reply),
            Err(failure) => last = Some(failure),
        }
    }
    Err(format!("{method} {path}: {}", last.as_ref().map(Failure::to_string).unwrap_or_default()))
}

fn expect_status(reply: &Reply, status: u16, doing: &str) -> Result<(), String> {
    if reply.status == status {
        Ok(())
    } else {
        Err(format!("{doing} answered {} (expected {status}): {}", reply.status, excerpt(&reply.body)))
    }
}

/// The start of a body, for an error message.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    text.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_and_in_range() {
        let mut rng = Rng::new(3);
        let sample = sample_indices(1_000_000, 10_000, &mut rng);
        assert_eq!(sample.len(), 10_000);
        assert!(sample.windows(2).all(|w| w[0] < w[1]));
        assert!(sample.iter().all(|&i| i < 1_000_000));
        assert_eq!(sample_indices(5, 10, &mut rng), [0, 1, 2, 3, 4]);
    }
}
