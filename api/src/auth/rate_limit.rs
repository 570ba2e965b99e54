//! Failed-login throttling, per account and per client address.
//!
//! Unlike a request-rate limiter (governor & co.), this must *peek* before verifying a
//! password and *count only failures*: a lockout that a correct guess bypasses is no
//! lockout, and a user who logs in often must not be locked out. So it is a small
//! fixed-window failure counter of our own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    window: Duration,
    per_account: u32,
    per_address: u32,
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginThrottle {
    pub fn new(per_account: u32, window: Duration) -> Self {
        Self {
            window,
            per_account,
            // An office behind one NAT address shares it: allow a few accounts' worth.
            per_address: per_account.saturating_mul(4),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until the account or address may try again, if it is locked now.
    pub fn locked_for(&self, account: &str, address: &str) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        [(format!("u:{}", account.to_lowercase()), self.per_account), (format!("a:{address}"), self.per_address)]
            .iter()
            .filter_map(|(key, limit)| {
                let (start, count) = map.get(key)?;
                let elapsed = now.duration_since(*start);
                (elapsed < self.window && count >= limit).then(|| (self.window - elapsed).as_secs().max(1))
            })
            .max()
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        for key in [format!("u:{}", account.to_lowercase()), format!("a:{address}")] {
            let entry = map.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("u:{}", account.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_n_failures_per_account_and_per_address() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.locked_for("budi", "1.2.3.4").is_none());
            t.record_failure("Budi", "1.2.3.4");
        }
        let secs = t.locked_for("budi", "9.9.9.9").expect("account locked");
        assert!((1..=60).contains(&secs));
        assert!(t.locked_for("siti", "9.9.9.9").is_none(), "other accounts are not affected");
        for i in 0..12 {
            t.record_failure(&format!("user{i}"), "5.5.5.5");
        }
        assert!(t.locked_for("fresh", "5.5.5.5").is_some(), "address locked after 4× the account limit");
    }

    #[test]
    fn success_clears_the_account() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        t.record_failure("budi", "1.1.1.1");
        t.record_success("budi");
        t.record_failure("budi", "1.1.1.1");
        assert!(t.locked_for("budi", "2.2.2.2").is_none());
    }
}
