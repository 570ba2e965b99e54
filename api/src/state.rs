//! What every handler can reach.

use sea_orm::DatabaseConnection;

use crate::auth::TokenKeys;
use crate::auth::rate_limit::LoginThrottle;
use crate::clock::SharedClock;
use crate::config::Settings;

pub struct AppState {
    pub db: DatabaseConnection,
    pub keys: TokenKeys,
    pub clock: SharedClock,
    pub settings: Settings,
    pub throttle: LoginThrottle,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        // Microsecond precision: what PostgreSQL stores, so values read back compare equal.
        let now = self.clock.now();
        chrono::DurationRound::duration_trunc(now, chrono::Duration::microseconds(1)).unwrap_or(now)
    }
}
