//! Connecting to the database (SQLite file or PostgreSQL) and migrating it.

use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::Settings;

pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(settings.database_url.clone());
    opts.max_connections(settings.db_max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(settings.db_acquire_timeout_secs))
        .connect_timeout(Duration::from_secs(settings.db_acquire_timeout_secs))
        // A connection that sat idle may point at a database that restarted meanwhile.
        .test_before_acquire(true)
        .sqlx_logging(false);
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
    Database::connect(opts).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
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
