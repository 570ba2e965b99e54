//! What every handler can reach.

use std::sync::{Arc, RwLock};

use sea_orm::DatabaseConnection;

use crate::auth::TokenKeys;
use crate::auth::principals::Principals;
use crate::auth::rate_limit::LoginThrottle;
use crate::calendar::WorkingCalendar;
use crate::clock::SharedClock;
use crate::config::Settings;

/// Cloned once per HTTP worker, which may bring its own database pool (`with_db`); every
/// other part is shared by all of them.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub keys: TokenKeys,
    pub clock: SharedClock,
    pub settings: Settings,
    pub throttle: Arc<LoginThrottle>,
    /// Who may act now (active, roles, revoked sessions), checked on every request.
    pub principals: Arc<Principals>,
    /// The rate of `/auth/token` requests per client address.
    pub client_token_limiter: Arc<governor::DefaultKeyedRateLimiter<String>>,
    /// The office calendar in force; swapped whole when an admin changes closed dates or
    /// schedules, so a computation never sees half an update.
    pub calendar: Arc<RwLock<Arc<WorkingCalendar>>>,
    /// The audit log's signing key (from a file or the environment, never the database).
    pub audit_keys: crate::service::tlog::LogKeys,
    /// Evidence bundles being built at once (each holds a request's documents in memory).
    pub bundles: Arc<tokio::sync::Semaphore>,
    /// BSrE, when a deployment enables officials' electronic signatures.
    pub bsre: Option<Arc<crate::signer::Bsre>>,
    /// Where document bytes live (a folder or a bucket).
    pub store: crate::storage::Store,
    /// This HTTP worker's connections for the busiest reads, on PostgreSQL (`db/lane.rs`).
    pub lane: Option<Arc<crate::db::lane::Lane>>,
}

impl AppState {
    /// The same state on another pool of the same database (and its read lane).
    pub fn with_db(&self, db: DatabaseConnection, lane: Option<crate::db::lane::Lane>) -> AppState {
        AppState { db, lane: lane.map(Arc::new), ..self.clone() }
    }

    /// A connection for reads outside any transaction: on this worker's read lane while it
    /// has a connection free, else on the pool (`db/reads.rs`).
    pub fn reads(&self) -> crate::db::reads::Reads<'_> {
        crate::db::reads::Reads::new(&self.db, self.lane.as_deref())
    }

    /// Runs one read statement outside any transaction (see [`AppState::reads`]).
    pub async fn read_all(&self, statement: sea_orm::Statement) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        sea_orm::ConnectionTrait::query_all_raw(&self.reads(), statement).await
    }

    /// The same state with its own object store client: an HTTP worker's connections to
    /// the bucket then live on that worker's runtime, like its database pool.
    pub fn with_own_store(self) -> AppState {
        match (&self.store, crate::storage::Store::from_settings(&self.settings)) {
            (crate::storage::Store::S3(_), Ok(store)) => AppState { store, ..self },
            _ => self,
        }
    }

    pub fn calendar(&self) -> Arc<WorkingCalendar> {
        self.calendar.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_calendar(&self, calendar: WorkingCalendar) {
        *self.calendar.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(calendar);
    }

    /// After a change of who may act (deactivation, roles, logout, …): this replica applies
    /// it at once; the others within `auth_refresh_secs`.
    pub async fn principals_changed(&self) {
        let now = self.now();
        if let Err(e) = self.principals.reload(&self.db, now, self.settings.access_token_ttl_secs).await {
            // The periodic reload retries; until then the change waits for it.
            tracing::warn!(error = %e, "could not reload the principal directory");
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        // Microsecond precision: what PostgreSQL stores, so values read back compare equal.
        let now = self.clock.now();
        chrono::DurationRound::duration_trunc(now, chrono::Duration::microseconds(1)).unwrap_or(now)
    }
}
