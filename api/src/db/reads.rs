//! A connection for reads outside any transaction: each statement runs on the HTTP
//! worker's read lane while it has a connection free, else on the pool (`lane.rs`).
//!
//! It is a sea-orm `ConnectionTrait`, so the ordinary query builders (`.all(&reads)`,
//! `.one(&reads)`) and the services' helpers that take any connection read through the
//! lane without knowing it. The worklist, for one, reads the caller's acting appointments,
//! which definitions reach their division and the addressees of its rows before and after
//! its main query: on the pool each of those paid sqlx's second round trip (docs/benchmarks.md).

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use super::lane::Lane;

#[derive(Clone, Copy)]
pub struct Reads<'a> {
    db: &'a DatabaseConnection,
    lane: Option<&'a Lane>,
}

impl<'a> Reads<'a> {
    pub fn new(db: &'a DatabaseConnection, lane: Option<&'a Lane>) -> Self {
        Reads { db, lane }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Reads<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    // A write has no business here; should one come, it runs on the pool, where it would
    // have run anyway (never on the lane, whose connections are taken back unchecked).
    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.db.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.db.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.query_all_raw(stmt).await?.into_iter().next())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        // The lane warns of its own slow reads, with their parts.
        if let Some(lane) = self.lane
            && let Some(rows) = lane.fetch_all(&stmt).await?
        {
            return Ok(rows);
        }
        let started = Instant::now();
        let table = table_of(&stmt.sql).to_owned();
        let rows = self.db.query_all_raw(stmt).await?;
        let took = started.elapsed();
        if took >= SLOW_READ {
            tracing::warn!(
                on = "pool",
                table,
                took_ms = took.as_millis() as u64,
                "a read outside a transaction was slow"
            );
        }
        Ok(rows)
    }
}

/// A read slower than this is logged: the rare stalls of docs/benchmarks.md (session 12)
/// are then placed inside or outside the database's part of a request.
pub(super) const SLOW_READ: Duration = Duration::from_millis(250);

/// What a statement reads, for the warning: the text after its first `FROM`.
pub(super) fn table_of(sql: &str) -> &str {
    let after = sql.find(" FROM ").map_or("", |i| &sql[i + 6..]);
    after.split(' ').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_warning_names_the_table_read() {
        assert_eq!(super::table_of(r#"SELECT "requests"."id" FROM "requests" WHERE "id" = $1"#), r#""requests""#);
        assert_eq!(super::table_of("SELECT 1"), "");
    }
}
