//! What one connection may hold and how long it may stay silent: its address's share of the connection
//! slots, and one deadline from `accept` that covers protocol detection, the TLS handshake and the head
//! of the first request.
//!
//! The server's slots (`--max-connections`) are a semaphore in the accept loop; this module adds the
//! per-address share (`--max-connections-per-address`), so that no one client can hold every slot and
//! keep Okta, an admin or a token revocation out. A connection over its address's share is closed as soon
//! as it is accepted. IPv6 clients are counted by their /64 prefix, the block one host is usually given,
//! and IPv4-mapped IPv6 addresses as the IPv4 address they carry.
//!
//! Later request heads on a kept-alive connection are bounded by hyper's `header_read_timeout`, which
//! runs from the end of the previous answer and so also bounds the wait between requests: it is set to
//! the idle timeout, because idle keep-alive is cheap and allowed (Okta keeps its connections between
//! requests) and a connection that already sent a whole request holds only one of its address's slots.
//! Request bodies are bounded by the deadline `request::read_body` applies; a connection with no traffic
//! at all by the idle timeout (`idle.rs`).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tokio::time::Instant;

/// How many connections each client address holds, bounded by a per-address limit.
#[derive(Debug)]
pub struct AddressSlots {
    limit: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in its address's share; dropping it gives the place back.
#[derive(Debug)]
pub struct AddressSlot {
    slots: Arc<AddressSlots>,
    key: IpAddr,
}

impl AddressSlots {
    pub fn new(limit: usize) -> Arc<AddressSlots> {
        Arc::new(AddressSlots { limit, held: Mutex::new(HashMap::new()) })
    }

    /// A place for one more connection from `address`, unless it already holds its share.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Option<AddressSlot> {
        let key = client_key(address);
        let mut held = self.held.lock().unwrap_or_else(|poison| poison.into_inner());
        let count = held.entry(key).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(AddressSlot { slots: Arc::clone(self), key })
    }

    /// How many connections `address` holds now.
    #[cfg(test)]
    pub fn held_by(&self, address: IpAddr) -> usize {
        let held = self.held.lock().unwrap_or_else(|poison| poison.into_inner());
        held.get(&client_key(address)).copied().unwrap_or(0)
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// The key a client address is counted under: IPv4 as it is, IPv6 by its /64 prefix.
fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

/// Told by the service when a connection's first request head has arrived.
#[derive(Debug)]
pub struct FirstRequest(Mutex<Option<oneshot::Sender<()>>>);

impl FirstRequest {
    /// The marker for the service, and the deadline for the connection to race against it.
    pub fn new(deadline: Instant) -> (Arc<FirstRequest>, HeadDeadline) {
        let (sender, arrived) = oneshot::channel();
        (Arc::new(FirstRequest(Mutex::new(Some(sender)))), HeadDeadline { deadline, arrived })
    }

    /// Called for every request; only the first one matters.
    pub fn arrived(&self) {
        if let Some(sender) = self.0.lock().unwrap_or_else(|poison| poison.into_inner()).take() {
            let _ = sender.send(());
        }
    }
}

/// The deadline from `accept` to the first request head.
#[derive(Debug)]
pub struct HeadDeadline {
    deadline: Instant,
    arrived: oneshot::Receiver<()>,
}

impl HeadDeadline {
    /// Completes when the deadline passes before a first request head arrived; never completes once one
    /// has (the connection is then bounded by the other timeouts).
    pub async fn expired(self) {
        match tokio::time::timeout_at(self.deadline, self.arrived).await {
            Ok(Ok(())) => std::future::pending().await,
            // The service is gone without a request: the connection is ending anyway.
            Ok(Err(_)) => std::future::pending().await,
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn each_address_holds_at_most_its_share() {
        let slots = AddressSlots::new(2);
        let first = slots.admit(ip("127.0.0.1")).expect("first");
        let second = slots.admit(ip("127.0.0.1")).expect("second");
        assert!(slots.admit(ip("127.0.0.1")).is_none(), "a third from the same address is refused");
        let other = slots.admit(ip("127.0.0.2"));
        assert!(other.is_some(), "another address is not affected");
        drop(first);
        assert_eq!(slots.held_by(ip("127.0.0.1")), 1);
        assert!(slots.admit(ip("127.0.0.1")).is_some(), "a place given back can be taken again");
        drop(second);
    }

    #[test]
    fn ipv6_counts_by_its_64_prefix_and_mapped_ipv4_as_ipv4() {
        let slots = AddressSlots::new(1);
        let _a = slots.admit(ip("2001:db8:1:2::1")).expect("first");
        assert!(slots.admit(ip("2001:db8:1:2:ffff::9")).is_none(), "same /64");
        assert!(slots.admit(ip("2001:db8:1:3::1")).is_some(), "another /64");
        let _v4 = slots.admit(ip("192.0.2.7")).expect("v4");
        assert!(slots.admit(ip("::ffff:192.0.2.7")).is_none(), "the mapped form is the same client");
    }

    #[test]
    fn the_table_forgets_addresses_that_hold_nothing() {
        let slots = AddressSlots::new(4);
        for n in 0..100u8 {
            drop(slots.admit(IpAddr::from([10, 0, 0, n])));
        }
        assert!(slots.held.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_head_deadline_fires_only_without_a_request() {
        let bound = std::time::Duration::from_millis(50);
        let (marker, deadline) = FirstRequest::new(Instant::now() + bound);
        let waited = Instant::now();
        deadline.expired().await;
        assert!(waited.elapsed() >= bound);
        drop(marker);

        let (marker, deadline) = FirstRequest::new(Instant::now() + bound);
        marker.arrived();
        marker.arrived();
        let outcome = tokio::time::timeout(bound * 4, deadline.expired()).await;
        assert!(outcome.is_err(), "after the first request the deadline never fires");
    }
}
