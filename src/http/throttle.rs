//! Sign-in throttling, in memory: failed sign-ins are counted per user name and per client address; from
//! the fifth failure on, that key is locked for a time that doubles with each further failure (15 s, 30 s,
//! 1 min, ... up to 15 min). A locked key is refused before any password is checked, so guessing costs the
//! guesser time and the server no argon2. A successful sign-in clears both keys. The table is bounded:
//! stale entries are swept when it grows, so many addresses cannot exhaust memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before a key is locked.
const FREE_FAILURES: u32 = 5;
/// The first lock; each further failure doubles it.
const FIRST_LOCK: Duration = Duration::from_secs(15);
const LONGEST_LOCK: Duration = Duration::from_secs(15 * 60);
/// When the table holds more keys than this, entries that no longer lock anything are dropped.
const MAX_KEYS: usize = 10_000;
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// The throttle of one server.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    table: Mutex<HashMap<Key, Failures>>,
}

impl LoginThrottle {
    /// How long the caller must wait before trying `username` from `address` again, if at all.
    pub fn wait(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let table = self.table.lock().unwrap_or_else(|poison| poison.into_inner());
        keys(username, address)
            .iter()
            .filter_map(|key| table.get(key)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    /// Counts a failed sign-in against both keys.
    pub fn failed(&self, username: &str, address: Option<IpAddr>, now: Instant) {
        let mut table = self.table.lock().unwrap_or_else(|poison| poison.into_inner());
        if table.len() >= MAX_KEYS {
            table.retain(|_, f| f.locked_until.is_some_and(|until| until > now) || now - f.last < FORGET_AFTER);
            if table.len() >= MAX_KEYS {
                table.retain(|_, f| f.locked_until.is_some_and(|until| until > now));
            }
        }
        for key in keys(username, address) {
            let entry = table.entry(key).or_insert(Failures { count: 0, last: now, locked_until: None });
            if now - entry.last >= FORGET_AFTER {
                entry.count = 0;
            }
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
            if entry.count >= FREE_FAILURES {
                let doublings = (entry.count - FREE_FAILURES).min(16);
                let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(LONGEST_LOCK);
                entry.locked_until = Some(now + lock);
            }
        }
    }

    /// Clears both keys after a successful sign-in.
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        let mut table = self.table.lock().unwrap_or_else(|poison| poison.into_inner());
        for key in keys(username, address) {
            table.remove(&key);
        }
    }
}

fn keys(username: &str, address: Option<IpAddr>) -> Vec<Key> {
    let mut keys = vec![Key::User(username.trim().to_lowercase())];
    keys.extend(address.map(Key::Address));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    const ELSEWHERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)));

    #[test]
    fn locks_after_five_failures_and_doubles() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            throttle.failed("alice", HOME, t0);
            assert_eq!(throttle.wait("alice", HOME, t0), None);
        }
        throttle.failed("alice", HOME, t0);
        assert_eq!(throttle.wait("alice", HOME, t0), Some(FIRST_LOCK));
        // The user name is locked from anywhere, and the address for any user name.
        assert_eq!(throttle.wait("ALICE", ELSEWHERE, t0), Some(FIRST_LOCK));
        assert_eq!(throttle.wait("bob", HOME, t0), Some(FIRST_LOCK));
        assert_eq!(throttle.wait("bob", ELSEWHERE, t0), None);
        let later = t0 + FIRST_LOCK;
        assert_eq!(throttle.wait("alice", HOME, later), None, "the lock ends");
        throttle.failed("alice", HOME, later);
        assert_eq!(throttle.wait("alice", HOME, later), Some(FIRST_LOCK * 2), "and doubles");
        for _ in 0..20 {
            throttle.failed("alice", HOME, later);
        }
        assert_eq!(throttle.wait("alice", HOME, later), Some(LONGEST_LOCK), "up to a bound");
    }

    #[test]
    fn success_clears_both_keys() {
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
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS as u32 + 100) {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(i));
            throttle.failed("x", Some(address), t0);
        }
        let size = throttle.table.lock().unwrap().len();
        assert!(size <= MAX_KEYS + 2, "{size}");
        // The user name that every attempt named stays locked: pruning keeps locked keys.
        assert!(throttle.wait("x", None, t0).is_some());
    }
}
