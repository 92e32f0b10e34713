//! Failure throttles, in memory: sign-ins of the admin page and first uses of bearer tokens.
//!
//! A [`Table`] counts failures per key; from a given failure on, the key is locked for a time that
//! doubles with each further failure, up to a bound. A locked key is refused before any password or
//! secret is checked, so guessing costs the guesser time and the server no argon2. Tables are bounded:
//! stale entries are swept when one grows, so many addresses cannot exhaust memory.
//!
//! Sign-ins are keyed so that an attacker cannot turn the throttle against the real admin
//! ([`LoginThrottle`]): failures count per (name, address) and per address, which lock quickly, and per
//! name from everywhere, which allows many more failures and locks briefly. Five failures for `alice`
//! from five addresses therefore lock none of those keys, and `alice` signs in from her own address; a
//! distributed guess at one name is slowed to about one attempt a minute once it passes the global bound.
//!
//! Token verifications are keyed by address ([`TokenThrottle`]): an address that presents wrong secrets
//! is locked out of argon2 after a few, and may run one verification at a time, so wrong secrets for a
//! known token id cannot take the argon2 places that another client's first request needs.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When the table holds more keys than this, entries that no longer lock anything are dropped.
const MAX_KEYS: usize = 10_000;
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// How a table locks: the failure that locks first, the first lock, and the longest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The failure count at which the key is first locked (at least 1).
    pub locks_at: u32,
    pub first_lock: Duration,
    pub longest_lock: Duration,
}

/// Sign-in failures for one name from one address.
pub const NAME_AT_ADDRESS: Rule =
    Rule { locks_at: 5, first_lock: Duration::from_secs(15), longest_lock: Duration::from_secs(15 * 60) };
/// Sign-in failures from one address, whatever the name.
pub const ADDRESS: Rule =
    Rule { locks_at: 20, first_lock: Duration::from_secs(15), longest_lock: Duration::from_secs(15 * 60) };
/// Sign-in failures for one name from every address: a higher bound and short locks, so that nobody can
/// keep the real admin out for long by failing on purpose.
pub const NAME: Rule =
    Rule { locks_at: 100, first_lock: Duration::from_secs(1), longest_lock: Duration::from_secs(60) };
/// Wrong token secrets from one address.
pub const TOKEN_ADDRESS: Rule =
    Rule { locks_at: 3, first_lock: Duration::from_secs(1), longest_lock: Duration::from_secs(5 * 60) };

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Failures per key under one rule.
#[derive(Debug)]
pub struct Table<K> {
    rule: Rule,
    entries: Mutex<HashMap<K, Failures>>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    pub fn new(rule: Rule) -> Table<K> {
        Table { rule, entries: Mutex::new(HashMap::new()) }
    }

    /// How long `key` is still locked, if it is.
    pub fn wait(&self, key: &K, now: Instant) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(|poison| poison.into_inner());
        let until = entries.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Counts one failure against `key`; answers the lock this failure imposes, if it imposes one.
    pub fn failed(&self, key: K, now: Instant) -> Option<Duration> {
        let mut entries = self.entries.lock().unwrap_or_else(|poison| poison.into_inner());
        if entries.len() >= MAX_KEYS {
            entries.retain(|_, f| f.locked_until.is_some_and(|until| until > now) || now - f.last < FORGET_AFTER);
            if entries.len() >= MAX_KEYS {
                entries.retain(|_, f| f.locked_until.is_some_and(|until| until > now));
            }
        }
        let entry = entries.entry(key).or_insert(Failures { count: 0, last: now, locked_until: None });
        if now - entry.last >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if entry.count >= self.rule.locks_at.max(1) {
            let doublings = (entry.count - self.rule.locks_at.max(1)).min(16);
            let lock = self.rule.first_lock.saturating_mul(1 << doublings).min(self.rule.longest_lock);
            entry.locked_until = Some(now + lock);
            return Some(lock);
        }
        None
    }

    /// Forgets `key`'s failures.
    pub fn clear(&self, key: &K) {
        self.entries.lock().unwrap_or_else(|poison| poison.into_inner()).remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

/// The sign-in throttle of one server (also applied to wrong current passwords on a password change).
#[derive(Debug)]
pub struct LoginThrottle {
    name_at_address: Table<(String, Option<IpAddr>)>,
    address: Table<IpAddr>,
    name: Table<String>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            name_at_address: Table::new(NAME_AT_ADDRESS),
            address: Table::new(ADDRESS),
            name: Table::new(NAME),
        }
    }
}

/// Names are compared as the sign-in compares them: trimmed, in any case.
fn name_key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl LoginThrottle {
    /// How long the caller must wait before trying `username` from `address` again, if at all.
    pub fn wait(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let name = name_key(username);
        [
            self.name_at_address.wait(&(name.clone(), address), now),
            address.and_then(|address| self.address.wait(&address, now)),
            self.name.wait(&name, now),
        ]
        .into_iter()
        .flatten()
        .max()
    }

    /// Counts a failed sign-in against every key; answers the longest lock this failure imposes, if any.
    pub fn failed(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let name = name_key(username);
        let locks = [
            self.name_at_address.failed((name.clone(), address), now),
            address.and_then(|address| self.address.failed(address, now)),
            self.name.failed(name, now),
        ];
        locks.into_iter().flatten().max()
    }

    /// Clears the keys of a successful sign-in.
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        let name = name_key(username);
        self.name_at_address.clear(&(name.clone(), address));
        if let Some(address) = address {
            self.address.clear(&address);
        }
        self.name.clear(&name);
    }
}

/// The throttle of token verifications (argon2) by client address.
#[derive(Debug)]
pub struct TokenThrottle {
    failures: Table<IpAddr>,
    verifying: Mutex<HashSet<IpAddr>>,
}

impl Default for TokenThrottle {
    fn default() -> Self {
        TokenThrottle { failures: Table::new(TOKEN_ADDRESS), verifying: Mutex::new(HashSet::new()) }
    }
}

/// An address's turn to verify a token secret; dropping it ends the turn.
#[derive(Debug)]
pub struct VerifyTurn<'a> {
    throttle: &'a TokenThrottle,
    address: IpAddr,
}

/// Why an address may not verify a token secret now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Locked after wrong secrets, for this long.
    Locked(Duration),
    /// Another verification from the same address is running.
    Busy,
}

impl TokenThrottle {
    /// A turn for `address` to run one verification, unless it is locked or already verifying.
    pub fn turn(&self, address: IpAddr, now: Instant) -> Result<VerifyTurn<'_>, Refusal> {
        if let Some(wait) = self.failures.wait(&address, now) {
            return Err(Refusal::Locked(wait));
        }
        let mut verifying = self.verifying.lock().unwrap_or_else(|poison| poison.into_inner());
        if !verifying.insert(address) {
            return Err(Refusal::Busy);
        }
        Ok(VerifyTurn { throttle: self, address })
    }

    /// Counts a wrong secret from `address`; answers the lock this imposes, if it imposes one.
    pub fn failed(&self, address: IpAddr, now: Instant) -> Option<Duration> {
        self.failures.failed(address, now)
    }
}

impl Drop for VerifyTurn<'_> {
    fn drop(&mut self) {
        self.throttle.verifying.lock().unwrap_or_else(|poison| poison.into_inner()).remove(&self.address);
    }
}

/// Refusals recorded in the audit log per address and minute; past it, refusals from that address are
/// counted and the count goes into the address's next record.
pub const RECORDS_PER_MINUTE: u32 = 10;

/// Bounds the audit records that refusals (tokens refused on the platform API) can write: unknown token
/// ids cost no argon2 run and no throttle count, so without a bound anyone could fill the log. Refusals
/// past the bound are not lost from view: the next record from the address says how many were left out,
/// and the metrics count them.
#[derive(Debug, Default)]
pub struct RecordBudget {
    entries: Mutex<HashMap<Option<IpAddr>, Window>>,
    /// Refusals left out so far, from every address (for the metrics).
    left_out: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    recorded: u32,
    left_out: u64,
}

impl RecordBudget {
    /// Whether a refusal from `address` may be recorded now; `Some(n)` says yes, with the number of its
    /// refusals left out since its last record.
    pub fn take(&self, address: Option<IpAddr>, now: Instant) -> Option<u64> {
        let taken = self.take_turn(address, now);
        if taken.is_none() {
            self.left_out.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        taken
    }

    /// Refusals left out of the log so far, from every address.
    pub fn left_out(&self) -> u64 {
        self.left_out.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn take_turn(&self, address: Option<IpAddr>, now: Instant) -> Option<u64> {
        let mut entries = self.entries.lock().unwrap_or_else(|poison| poison.into_inner());
        if entries.len() >= MAX_KEYS && !entries.contains_key(&address) {
            entries.retain(|_, w| now - w.started < Duration::from_secs(60));
            if entries.len() >= MAX_KEYS {
                return None;
            }
        }
        let window = entries.entry(address).or_insert(Window { started: now, recorded: 0, left_out: 0 });
        if now - window.started >= Duration::from_secs(60) {
            window.started = now;
            window.recorded = 0;
        }
        if window.recorded >= RECORDS_PER_MINUTE {
            window.left_out += 1;
            return None;
        }
        window.recorded += 1;
        Some(std::mem::take(&mut window.left_out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_recorded_within_a_budget_and_the_rest_counted() {
        let budget = RecordBudget::default();
        let t0 = Instant::now();
        for _ in 0..RECORDS_PER_MINUTE {
            assert_eq!(budget.take(HOME, t0), Some(0));
        }
        assert_eq!(budget.take(HOME, t0), None);
        assert_eq!(budget.take(HOME, t0), None);
        assert_eq!(budget.take(ELSEWHERE, t0), Some(0), "another address has its own budget");
        assert_eq!(
            budget.take(HOME, t0 + Duration::from_secs(61)),
            Some(2),
            "the next record counts what was left out"
        );
        assert_eq!(budget.left_out(), 2, "and so does the total the metrics read");
    }

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    const ELSEWHERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)));

    fn address(n: u32) -> Option<IpAddr> {
        Some(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n)))
    }

    #[test]
    fn a_name_at_one_address_locks_after_five_failures_and_doubles() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            throttle.failed("alice", HOME, t0);
            assert_eq!(throttle.wait("alice", HOME, t0), None, "four failures are free");
        }
        throttle.failed("alice", HOME, t0);
        assert_eq!(throttle.wait("alice", HOME, t0), Some(NAME_AT_ADDRESS.first_lock));
        assert_eq!(throttle.wait("ALICE ", HOME, t0), Some(NAME_AT_ADDRESS.first_lock), "names in any case");
        // The name is not locked from elsewhere, nor the address for another name.
        assert_eq!(throttle.wait("alice", ELSEWHERE, t0), None);
        assert_eq!(throttle.wait("bob", HOME, t0), None);
        let later = t0 + NAME_AT_ADDRESS.first_lock;
        assert_eq!(throttle.wait("alice", HOME, later), None, "the lock ends");
        throttle.failed("alice", HOME, later);
        assert_eq!(throttle.wait("alice", HOME, later), Some(NAME_AT_ADDRESS.first_lock * 2), "and doubles");
        for _ in 0..20 {
            throttle.failed("alice", HOME, later);
        }
        assert_eq!(throttle.wait("alice", HOME, later), Some(NAME_AT_ADDRESS.longest_lock), "up to a bound");
    }

    #[test]
    fn failures_from_several_addresses_do_not_lock_the_real_admin_out() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for n in 0..5 {
            throttle.failed("alice", address(n), t0);
        }
        assert_eq!(throttle.wait("alice", HOME, t0), None, "alice from her own address");
        for n in 0..NAME.locks_at {
            throttle.failed("alice", address(n), t0);
        }
        // Past the global bound the name is slowed everywhere, briefly.
        let wait = throttle.wait("alice", HOME, t0).expect("the global bound");
        assert!(wait <= NAME.longest_lock, "{wait:?}");
        for n in 0..200 {
            throttle.failed("alice", address(n), t0);
        }
        assert_eq!(throttle.wait("alice", HOME, t0), Some(NAME.longest_lock), "never longer than a minute");
    }

    #[test]
    fn one_address_trying_many_names_is_locked() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for n in 0..ADDRESS.locks_at {
            throttle.failed(&format!("user{n}"), HOME, t0);
        }
        assert_eq!(throttle.wait("someone-else", HOME, t0), Some(ADDRESS.first_lock));
        assert_eq!(throttle.wait("someone-else", ELSEWHERE, t0), None);
    }

    #[test]
    fn success_clears_the_keys() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            throttle.failed("alice", HOME, t0);
        }
        throttle.succeeded("alice", HOME);
        assert_eq!(throttle.wait("alice", HOME, t0), None);
    }

    #[test]
    fn the_table_stays_bounded() {
        let table = Table::new(NAME_AT_ADDRESS);
        let t0 = Instant::now();
        for n in 0..(MAX_KEYS as u32 + 100) {
            table.failed(address(n), t0);
        }
        assert!(table.len() <= MAX_KEYS + 1, "{}", table.len());
        let locked = Table::new(Rule { locks_at: 1, ..NAME_AT_ADDRESS });
        for n in 0..(MAX_KEYS as u32 + 100) {
            locked.failed(address(n), t0);
        }
        // Locked keys are kept while they lock; the newest key is always recorded.
        assert!(locked.wait(&address(MAX_KEYS as u32 + 99), t0).is_some());
    }

    #[test]
    fn token_verifications_one_at_a_time_per_address_and_locked_after_wrong_secrets() {
        let throttle = TokenThrottle::default();
        let t0 = Instant::now();
        let home = HOME.unwrap();
        let turn = throttle.turn(home, t0).expect("a first turn");
        assert_eq!(throttle.turn(home, t0).unwrap_err(), Refusal::Busy);
        assert!(throttle.turn(ELSEWHERE.unwrap(), t0).is_ok(), "another address is not affected");
        drop(turn);
        for _ in 0..TOKEN_ADDRESS.locks_at {
            throttle.failed(home, t0);
        }
        assert_eq!(throttle.turn(home, t0).unwrap_err(), Refusal::Locked(TOKEN_ADDRESS.first_lock));
        assert!(throttle.turn(home, t0 + TOKEN_ADDRESS.first_lock).is_ok(), "the lock ends");
    }
}
