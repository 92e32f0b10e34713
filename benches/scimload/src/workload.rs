//! The virtual users: each owns one connection and sends its scenario's requests back to back until the
//! measurement window closes, checking every answer. A request counts as right only when its status is
//! the expected one *and* its body says what it must (a lookup finds its user and only it, an import page
//! holds the expected number of users and none seen before in the same pass).
//!
//! Virtual users never share mutable state and never touch the same user or membership concurrently:
//! each moves a user of its own in and out of groups, and each addresses its own slice of the id sample.
//! That keeps every check deterministic under any concurrency.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;

use crate::args::Scenario;
use crate::client::{Client, Failure, Reply};
use crate::mix::{self, Flow};
use crate::record::{Kind, Outcome, Record};
use crate::rng::Rng;
use crate::scim::{self, PAGE, Profile};
use crate::seed::Plan;

/// How long a virtual user waits after failing to connect, so that a server that is down is not spun on.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);

/// What every virtual user of a run reads.
#[derive(Debug)]
pub struct Shared {
    pub scenario: Scenario,
    pub plan: Plan,
    pub connections: usize,
    /// Creates per `POST /Bulk` (the bulk scenario).
    pub bulk_size: usize,
}

/// One virtual user.
#[derive(Debug)]
pub struct VirtualUser {
    index: usize,
    client: Client,
    rng: Rng,
    record: Record,
    shared: Arc<Shared>,
    /// Users this virtual user created so far (their names are numbered).
    created: u64,
    /// Profile pushes so far (each sends a new title).
    pushes: u64,
    /// The group its mover is in, if any.
    mover_in: Option<usize>,
    /// The next import page's startIndex, and the ids seen in the current pass.
    page_start: u64,
    page_seen: HashSet<String>,
}

impl VirtualUser {
    pub fn new(index: usize, client: Client, shared: Arc<Shared>, record: Record) -> VirtualUser {
        let mut rng = Rng::for_stream(index as u64 + 1);
        // Import passes start at a random page, so that deep pages are measured as often as early ones.
        let pages = shared.plan.total_users.div_ceil(PAGE).max(1);
        let page_start = 1 + PAGE * rng.below(pages);
        VirtualUser {
            index,
            client,
            rng,
            record,
            shared,
            created: 0,
            pushes: 0,
            mover_in: None,
            page_start,
            page_seen: HashSet::new(),
        }
    }

    /// Sends requests until `stop`, then puts its mover back where it found it (not measured).
    pub async fn drive(mut self, stop: Instant) -> Record {
        while Instant::now() < stop {
            match self.shared.scenario {
                Scenario::Hello => self.hello().await,
                Scenario::Lookup => self.lookup().await,
                Scenario::Create => self.create(Kind::Create).await,
                Scenario::GroupPatch => self.move_member().await,
                Scenario::Import => self.page().await,
                Scenario::Bulk => self.bulk_create().await,
                Scenario::OktaMix => match mix::pick(&mut self.rng) {
                    Flow::ProfilePush => self.profile_push().await,
                    Flow::AssignExisting => self.lookup().await,
                    Flow::AssignNew => self.assign_new().await,
                    Flow::GroupPush => self.move_member().await,
                    Flow::DeactivateReactivate => self.deactivate_reactivate().await,
                },
            }
        }
        if self.mover_in.is_some() {
            self.move_member().await;
        }
        self.record
    }

    /// Sends one request; returns what `check` made of a response with an expected status, after
    /// recording the outcome.
    async fn call<T>(
        &mut self,
        kind: Kind,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        expected: &[u16],
        check: impl FnOnce(&Reply) -> Result<T, String>,
    ) -> Option<T> {
        let began = Instant::now();
        let result = self.client.send(method, path, body).await;
        let ended = Instant::now();
        let (outcome, value) = match result {
            Ok(reply) if expected.contains(&reply.status) => match check(&reply) {
                Ok(value) => (Outcome::Right, Some(value)),
                Err(why) => (Outcome::WrongAnswer(why), None),
            },
            Ok(reply) => (Outcome::Status(reply.status), None),
            Err(failure) => {
                if matches!(failure, Failure::Connect(_)) {
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                }
                (Outcome::Failed(failure), None)
            }
        };
        self.record.add(kind, began, ended, &outcome);
        value
    }

    async fn hello(&mut self) {
        const SUCCESS: [u16; 5] = [200, 201, 202, 203, 204];
        self.call(Kind::Hello, Method::GET, "", None, &SUCCESS, |_| Ok(())).await;
    }

    /// Okta's assignment check of a user the server holds: it must find exactly that user.
    async fn lookup(&mut self) {
        let name = scim::user_name(self.rng.index(self.shared.plan.users));
        self.call(Kind::Lookup, Method::GET, &scim::lookup_path(&name), None, &[200], |reply| {
            scim::check_lookup_hit(&reply.body, &name)
        })
        .await;
    }

    /// A durable create of a user no one has created before.
    async fn create(&mut self, kind: Kind) {
        let name = scim::new_user_name(&self.shared.plan.run, self.index, self.created);
        self.created += 1;
        let display = format!("New User {}", self.created);
        let body =
            scim::user_body(&Profile { id: None, user_name: &name, display_name: &display, title: None, active: true });
        self.call(kind, Method::POST, "/Users", Some(body), &[201], |reply| scim::check_user(&reply.body, &name)).await;
    }

    /// Durable creates of --bulk-size users no one has created before, in one `POST /Bulk`.
    async fn bulk_create(&mut self) {
        let size = self.shared.bulk_size;
        let first = self.created;
        self.created += size as u64;
        let names: Vec<String> =
            (first..self.created).map(|n| scim::new_user_name(&self.shared.plan.run, self.index, n)).collect();
        let displays: Vec<String> = (first..self.created).map(|n| format!("New User {}", n + 1)).collect();
        let profiles: Vec<Profile> = names
            .iter()
            .zip(&displays)
            .map(|(name, display)| Profile {
                id: None,
                user_name: name,
                display_name: display,
                title: None,
                active: true,
            })
            .collect();
        let body = scim::bulk_create_body(&profiles);
        self.call(Kind::Bulk, Method::POST, "/Bulk", Some(body), &[200], |reply| {
            scim::check_bulk_created(&reply.body, size)
        })
        .await;
    }

    /// An assignment of a new user: the lookup finds nothing, then the create.
    async fn assign_new(&mut self) {
        let name = scim::new_user_name(&self.shared.plan.run, self.index, self.created);
        let missing = self
            .call(Kind::LookupMiss, Method::GET, &scim::lookup_path(&name), None, &[200], |reply| {
                scim::check_lookup_miss(&reply.body, &name)
            })
            .await;
        if missing.is_some() {
            self.create(Kind::Create).await;
        }
    }

    /// One of the sample's users that only this virtual user addresses by id.
    fn own_sample_user(&mut self) -> (usize, String) {
        let (sample, connections) = (&self.shared.plan.sample, self.shared.connections);
        let mine = (sample.len() + connections - 1 - self.index) / connections;
        let pick = self.index + connections * self.rng.index(mine.max(1));
        sample[pick.min(sample.len() - 1)].clone()
    }

    /// A profile push: GET the user, then PUT the whole profile with a changed title and displayName.
    async fn profile_push(&mut self) {
        let (index, id) = self.own_sample_user();
        let name = scim::user_name(index);
        let path = format!("/Users/{id}");
        let Some(current) =
            self.call(Kind::Get, Method::GET, &path, None, &[200], |reply| scim::check_user(&reply.body, &name)).await
        else {
            return;
        };
        self.pushes += 1;
        let title = format!("Title {}", self.pushes);
        let display = format!("Load User {index} v{}", self.pushes);
        let profile = Profile {
            id: Some(&id),
            user_name: &name,
            display_name: &display,
            title: Some(&title),
            active: current.active.unwrap_or(true),
        };
        let body = scim::user_body(&profile);
        self.call(Kind::Put, Method::PUT, &path, Some(body), &[200], |reply| {
            let user = scim::check_user(&reply.body, &name)?;
            match user.display_name.as_deref() {
                Some(shown) if shown == display => Ok(()),
                shown => Err(format!("PUT set displayName {display:?}, the answer says {shown:?}")),
            }
        })
        .await;
    }

    /// A deactivation and the reactivation of the same user.
    async fn deactivate_reactivate(&mut self) {
        let (index, id) = self.own_sample_user();
        let name = scim::user_name(index);
        let path = format!("/Users/{id}");
        for active in [false, true] {
            let done = self
                .call(
                    Kind::PatchUser,
                    Method::PATCH,
                    &path,
                    Some(scim::set_active_body(active)),
                    &[200, 204],
                    |reply| {
                        if reply.status == 204 {
                            return Ok(());
                        }
                        let user = scim::check_user(&reply.body, &name)?;
                        match user.active {
                            Some(now) if now == active => Ok(()),
                            now => Err(format!("PATCH set active {active}, the answer says {now:?}")),
                        }
                    },
                )
                .await;
            if done.is_none() {
                return;
            }
        }
    }

    /// Adds this virtual user's mover to a random seeded group, or removes it from the group it is in.
    async fn move_member(&mut self) {
        let (mover_index, mover_id) = self.shared.plan.movers[self.index].clone();
        let (group, body) = match self.mover_in {
            Some(group) => (group, scim::remove_member_body(&mover_id)),
            None => {
                let group = self.rng.index(self.shared.plan.groups.len());
                let display = scim::user_name(mover_index);
                (group, scim::add_members_body([(mover_id.as_str(), display.as_str())]))
            }
        };
        let path = format!("/Groups/{}", self.shared.plan.groups[group]);
        if self.call(Kind::PatchGroup, Method::PATCH, &path, Some(body), &[200, 204], |_| Ok(())).await.is_some() {
            self.mover_in = if self.mover_in.is_some() { None } else { Some(group) };
        }
    }

    /// One page of an import: the expected number of users, none seen before in this pass.
    async fn page(&mut self) {
        let (total, start) = (self.shared.plan.total_users, self.page_start);
        // Lent to the check for the length of the call.
        let mut seen = std::mem::take(&mut self.page_seen);
        self.call(Kind::Page, Method::GET, &scim::page_path(start), None, &[200], |reply| {
            check_page(&reply.body, start, total, &mut seen)
        })
        .await;
        self.page_seen = seen;
        self.page_start += PAGE;
        if self.page_start > total {
            self.page_start = 1;
            self.page_seen.clear();
        }
    }
}

/// Checks one import page starting at `start` of `total` users, adding its ids to `seen`.
pub fn check_page(body: &[u8], start: u64, total: u64, seen: &mut HashSet<String>) -> Result<(), String> {
    let list = scim::parse_list(body)?;
    if list.total_results != total {
        return Err(format!("totalResults changed from {total} to {} during the import", list.total_results));
    }
    let expected = PAGE.min((total + 1).saturating_sub(start));
    if list.resources.len() as u64 != expected {
        return Err(format!("the page at startIndex {start} holds {} users, not {expected}", list.resources.len()));
    }
    for resource in list.resources {
        if resource.id.is_empty() {
            return Err(format!("a user on the page at startIndex {start} has no id"));
        }
        if !seen.insert(resource.id) {
            return Err(format!("the page at startIndex {start} repeats a user of an earlier page"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(ids: std::ops::Range<u32>, total: u64) -> Vec<u8> {
        let resources: Vec<_> =
            ids.map(|i| serde_json::json!({ "id": i.to_string(), "userName": format!("u{i}") })).collect();
        serde_json::json!({ "totalResults": total, "startIndex": 1, "Resources": resources }).to_string().into_bytes()
    }

    #[test]
    fn import_pages_are_checked_for_size_and_repeats() {
        let mut seen = HashSet::new();
        assert_eq!(check_page(&page(0..100, 250), 1, 250, &mut seen), Ok(()));
        assert_eq!(check_page(&page(100..200, 250), 101, 250, &mut seen), Ok(()));
        assert_eq!(check_page(&page(200..250, 250), 201, 250, &mut seen), Ok(()));
        let repeated = check_page(&page(150..250, 250), 101, 250, &mut HashSet::from(["199".to_owned()]));
        assert!(repeated.unwrap_err().contains("repeats"));
        assert!(
            check_page(&page(0..99, 250), 1, 250, &mut HashSet::new()).unwrap_err().contains("holds 99 users, not 100")
        );
        assert!(check_page(&page(200..250, 251), 201, 250, &mut HashSet::new()).unwrap_err().contains("totalResults"));
        assert!(check_page(&page(0..0, 0), 1, 0, &mut HashSet::new()).is_ok());
    }
}
