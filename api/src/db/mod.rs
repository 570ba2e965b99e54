//! Connecting to the database (SQLite file or PostgreSQL) and migrating it.

use std::str::FromStr;
use std::time::Duration;

use futures_util::FutureExt;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::Settings;

pub mod lane;
pub mod reads;

/// The pool for startup and background work (migrations, the SLA sweeper). On PostgreSQL
/// requests do not use it: each HTTP worker has its own (`worker_pool`).
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let mut opts = options(settings);
    if !settings.is_sqlite() {
        // One more than the work needs: start-up holds one for its lock (`StartupLock`).
        opts.max_connections(settings.db_max_connections.min(BACKGROUND_CONNECTIONS) + 1);
    }
    Database::connect(opts).await
}

/// Background work runs one thing at a time; two leave room for a health check beside it.
const BACKGROUND_CONNECTIONS: u32 = 2;

/// How many HTTP workers serve requests: `workers` if set, else one per core (actix's own
/// default).
pub fn worker_count(settings: &Settings) -> usize {
    settings.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A pool for one HTTP worker, made on that worker's thread, on PostgreSQL: its connections
/// are opened lazily there, so their sockets are driven by the worker's own runtime. A
/// connection opened on another runtime (the main one, say) has every reply wake that
/// runtime's thread first, which then wakes the worker: two thread hops per statement,
/// most of the service's CPU per transition (docs/benchmarks.md, "Run G"). The workers
/// split `db_max_connections` between them, and each gives half of its share (rounded
/// down) to its read lane (`lane.rs`). `None` on SQLite, whose connections run on threads
/// of their own anyway: there the workers share the main pool.
pub fn worker_pool(settings: &Settings) -> Option<(DatabaseConnection, Option<lane::Lane>)> {
    if settings.is_sqlite() {
        return None;
    }
    let workers = u32::try_from(worker_count(settings)).unwrap_or(u32::MAX).max(1);
    let share = settings.db_max_connections.div_ceil(workers);
    let lane_size = share / 2;
    let mut opts = options(settings);
    opts.max_connections(share - lane_size).min_connections(0).connect_lazy(true);
    // A lazy pool opens nothing, so connecting finishes at once.
    let why = match Database::connect(opts).now_or_never() {
        Some(Ok(db)) => {
            let timeout = Duration::from_secs(settings.db_acquire_timeout_secs);
            return Some((db, lane::Lane::new(&settings.database_url, lane_size as usize, timeout)));
        }
        Some(Err(e)) => e.to_string(),
        None => "the lazy pool wanted to wait".to_owned(),
    };
    tracing::warn!(error = %why, "no pool of its own for this worker; it uses the shared one");
    None
}

fn options(settings: &Settings) -> ConnectOptions {
    let mut opts = ConnectOptions::new(settings.database_url.clone());
    opts.max_connections(settings.db_max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(settings.db_acquire_timeout_secs))
        .connect_timeout(Duration::from_secs(settings.db_acquire_timeout_secs))
        // sqlx pings each connection as it comes back to the pool. One that then sat idle
        // may point at a database that restarted meanwhile: ping it again before use. A hot
        // one is not pinged twice, which would cost every request a round trip.
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        .sqlx_logging(false)
        // sqlx times every wait for a connection and reports it as an event: the pool-wait
        // histogram is made of those (`telemetry::PoolWaits`; the logs leave them out).
        .map_sqlx_postgres_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Info))
        .map_sqlx_sqlite_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Info));
    if settings.is_sqlite() {
        let url = settings.database_url.clone();
        opts.map_sqlx_sqlite_opts(move |o: SqliteConnectOptions| {
            // Rebuild from the URL so `mode=rwc` etc. still apply, then set what we rely on.
            let base = SqliteConnectOptions::from_str(&url).unwrap_or(o);
            base.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    } else {
        opts.set_application_name("jembatan");
    }
    opts
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// One replica at a time through start-up (migrations, seeding, the configured admin), so
/// that replicas started together do not race to create the same tables and rows. On
/// PostgreSQL a session advisory lock held on one pooled connection; on SQLite nothing is
/// needed (one process; its write lock serializes the rest).
pub struct StartupLock(Option<sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Postgres>>);

const STARTUP_LOCK: i64 = 0x004a_4253_5441_5254; // "JBSTART"

impl StartupLock {
    pub async fn take(db: &DatabaseConnection) -> Result<Self, DbErr> {
        if db.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(Self(None));
        }
        let sql_err = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("start-up lock: {e}"));
        let mut conn = db.get_postgres_connection_pool().acquire().await.map_err(sql_err)?;
        sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(STARTUP_LOCK)
            .execute(&mut *conn)
            .await
            .map_err(sql_err)?;
        Ok(Self(Some(conn)))
    }

    pub async fn release(mut self) {
        if let Some(mut conn) = self.0.take() {
            let unlocked =
                sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)").bind(STARTUP_LOCK).execute(&mut *conn).await;
            if unlocked.is_err() {
                drop(conn.detach()); // closing the session releases the lock
            }
        }
    }
}

impl Drop for StartupLock {
    fn drop(&mut self) {
        // Not released (start-up failed): close the session rather than pool it locked.
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
}

/// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so concurrent writers
/// queue on the busy timeout instead of failing when a read lock cannot be upgraded;
/// PostgreSQL ignores the option.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// A pool's connections now: idle, and in use (`size` counts both).
pub fn pool_connections(db: &DatabaseConnection) -> Connections {
    let (size, idle) = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
    };
    Connections { idle, in_use: (size as usize).saturating_sub(idle) }
}

/// Connections of a lane or a pool at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Connections {
    pub idle: usize,
    /// Out on a statement (or, for a lane, being opened).
    pub in_use: usize,
}
