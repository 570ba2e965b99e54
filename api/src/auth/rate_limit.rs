//! Failed-login throttling, per account and per client address.
//!
//! Unlike a request-rate limiter (governor & co.), this must count *failures* only — a
//! user who signs in often must not be locked out — and it must count them *before* the
//! password is verified: Argon2 takes tens of milliseconds, and a burst of parallel guesses
//! that are all checked against the count before any of them is recorded all get through.
//! So each attempt takes a slot first (`begin`), a success gives it back, and a failure
//! keeps it. A small fixed-window counter of our own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An office behind one NAT address shares it: an address may fail this many accounts' worth.
pub const ADDRESS_FACTOR: u32 = 4;

pub struct LoginThrottle {
    window: Duration,
    per_account: u32,
    per_address: u32,
    /// Key → (window start, failures and attempts in flight).
    slots: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Seconds until another attempt is allowed.
#[derive(Debug, PartialEq, Eq)]
pub struct Locked(pub u64);

impl LoginThrottle {
    pub fn new(per_account: u32, window: Duration) -> Self {
        Self {
            window,
            per_account,
            per_address: per_account.saturating_mul(ADDRESS_FACTOR),
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, address: &str) -> [String; 2] {
        [format!("u:{}", account.to_lowercase()), format!("a:{address}")]
    }

    /// Takes an attempt for this account and address, or says how long they are locked.
    /// Call `succeeded` when the credentials were right; a failure keeps the slot.
    pub fn begin(&self, account: &str, address: &str) -> Result<(), Locked> {
        let mut map = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let [user, addr] = Self::keys(account, address);
        let locked = [(&user, self.per_account), (&addr, self.per_address)]
            .iter()
            .filter_map(|(key, limit)| {
                let (start, count) = map.get(*key)?;
                let elapsed = now.duration_since(*start);
                (elapsed < self.window && count >= limit).then(|| (self.window - elapsed).as_secs().max(1))
            })
            .max();
        if let Some(secs) = locked {
            return Err(Locked(secs));
        }
        for key in [user, addr] {
            let entry = map.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
        Ok(())
    }

    /// The attempt was right: the account's count starts over, and the address gets its
    /// slot back.
    pub fn succeeded(&self, account: &str, address: &str) {
        let mut map = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let [user, addr] = Self::keys(account, address);
        map.remove(&user);
        if let Some(entry) = map.get_mut(&addr) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_n_attempts_per_account_and_per_address() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            t.begin("Budi", "1.2.3.4").expect("not locked yet");
        }
        let Locked(secs) = t.begin("budi", "9.9.9.9").expect_err("account locked");
        assert!((1..=60).contains(&secs));
        assert!(t.begin("siti", "9.9.9.9").is_ok(), "other accounts are not affected");
        for i in 0..12 {
            let _ = t.begin(&format!("user{i}"), "5.5.5.5");
        }
        assert!(t.begin("fresh", "5.5.5.5").is_err(), "address locked after 4× the account limit");
    }

    #[test]
    fn attempts_in_flight_count_before_they_are_verified() {
        let t = LoginThrottle::new(5, Duration::from_secs(60));
        let taken = (0..30).filter(|_| t.begin("budi", "1.1.1.1").is_ok()).count();
        assert_eq!(taken, 5, "a burst gets exactly the limit, however fast it arrives");
    }

    #[test]
    fn success_clears_the_account_and_returns_the_address_slot() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        t.begin("budi", "1.1.1.1").unwrap();
        t.succeeded("budi", "1.1.1.1");
        t.begin("budi", "1.1.1.1").unwrap();
        t.begin("budi", "2.2.2.2").unwrap();
        assert!(t.begin("budi", "3.3.3.3").is_err());
        for _ in 0..20 {
            t.begin("siti", "4.4.4.4").unwrap();
            t.succeeded("siti", "4.4.4.4");
        }
        assert!(t.begin("siti", "4.4.4.4").is_ok(), "successful sign-ins never lock an address");
    }
}
