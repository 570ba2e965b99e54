//! A few PostgreSQL connections per HTTP worker for the busiest reads, taken back without
//! sqlx's ping.
//!
//! sqlx pings every connection as it comes back to its pool (a `Sync` and its
//! `ReadyForQuery`). On a one-statement read that is a second round trip: PostgreSQL's
//! backend and our worker each wake twice per request instead of once (docs/benchmarks.md,
//! "session 12"). The ping is there for a connection left mid-statement, by a future
//! dropped at an `.await` (the client went away) or by an error. A lane knows which
//! case it is in: a lease whose statement ran to its end goes back as it is; one dropped
//! before that, or whose statement failed, is closed instead.
//!
//! The lane never waits: when all its connections are out, the read goes to the pool.
//! Its connections are part of `db_max_connections` (`db::worker_pool` leaves them out of
//! the worker's pool), and one idle longer than [`RECHECK_AFTER`] is pinged before use,
//! like the pool's (`test_before_acquire_if_idle_for`).

use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sea_orm::sqlx::{self, ConnectOptions, Connection};
use sea_orm::{DbErr, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;

/// An idle connection is pinged before use after this long: the database may have
/// restarted meanwhile.
pub const RECHECK_AFTER: Duration = Duration::from_secs(1);
/// Closed after this long unused, so a quiet office does not hold them.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

pub struct Lane {
    options: PgConnectOptions,
    connect_timeout: Duration,
    /// Most recently returned last: the hottest connection is reused, the coldest closed.
    idle: Mutex<Vec<Idle>>,
    /// Connections that exist: idle, leased, or being opened.
    open: AtomicUsize,
    max: usize,
    /// What it did, once the metrics count it ([`Lane::counted`]).
    counters: Option<ReadCounters>,
}

/// Reads a lane ran, and reads it sent to the pool because every connection was out
/// (`jembatan_db_read_lane_reads_total`; shared by every worker's lane).
#[derive(Clone)]
pub struct ReadCounters {
    pub served: prometheus::IntCounter,
    pub overflowed: prometheus::IntCounter,
}

struct Idle {
    conn: PgConnection,
    since: Instant,
}

impl Lane {
    /// `None` when the URL is not PostgreSQL's or does not parse (the pool reports that).
    pub fn new(database_url: &str, max: usize, connect_timeout: Duration) -> Option<Lane> {
        if max == 0 {
            return None;
        }
        let options =
            PgConnectOptions::from_str(database_url).ok()?.application_name("jembatan").disable_statement_logging();
        Some(Lane {
            options,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
            open: AtomicUsize::new(0),
            max,
            counters: None,
        })
    }

    /// The same lane, counting what it does.
    pub fn counted(self, counters: ReadCounters) -> Lane {
        Lane { counters: Some(counters), ..self }
    }

    fn count(&self, which: impl Fn(&ReadCounters) -> &prometheus::IntCounter) {
        if let Some(c) = &self.counters {
            which(c).inc();
        }
    }

    /// Its connections now: idle, and out (or being opened).
    pub fn connections(&self) -> super::Connections {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).len();
        super::Connections { idle, in_use: self.open.load(Ordering::Acquire).saturating_sub(idle) }
    }

    /// Runs one read statement. `Ok(None)`: every connection of the lane is out; run it on
    /// the pool instead.
    pub async fn fetch_all(&self, statement: &Statement) -> Result<Option<Vec<QueryResult>>, DbErr> {
        let started = Instant::now();
        let Some((lease, reused)) = self.lease().await? else {
            self.count(|c| &c.overflowed);
            return Ok(None);
        };
        let leased = started.elapsed();
        let rows = match lease.run(statement).await {
            // A reused connection whose database went away (restarted, or the session was
            // terminated) since it last ran: once more on a new one. Reads only, so safe.
            Err(e) if reused && crate::error::is_unavailable(&e) => {
                let Some((fresh, _)) = self.open_new().await? else {
                    self.count(|c| &c.overflowed);
                    return Ok(None);
                };
                fresh.run(statement).await?
            }
            done => done?,
        };
        // A slow read, split into getting the connection (a ping or a connect) and the
        // rest (the statement's round trip and our worker getting round to its answer).
        let took = started.elapsed();
        if took >= super::reads::SLOW_READ {
            tracing::warn!(
                on = "lane",
                table = super::reads::table_of(&statement.sql),
                took_ms = took.as_millis() as u64,
                lease_ms = leased.as_millis() as u64,
                reused,
                "a read outside a transaction was slow"
            );
        }
        self.count(|c| &c.served);
        Ok(Some(rows))
    }

    /// A connection and whether it ran statements before.
    async fn lease(&self) -> Result<Option<(Lease<'_>, bool)>, DbErr> {
        loop {
            let Some(idle) = self.take_idle() else { return self.open_new().await };
            let mut lease = Lease { lane: self, conn: Some(idle.conn) };
            if idle.since.elapsed() < RECHECK_AFTER {
                return Ok(Some((lease, true)));
            }
            if let Some(conn) = lease.conn.as_mut()
                && conn.ping().await.is_ok()
            {
                return Ok(Some((lease, true)));
            }
            // Dead: dropping the lease closes it; try the next one.
        }
    }

    fn take_idle(&self) -> Option<Idle> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let stale = idle.iter().take_while(|i| i.since.elapsed() >= IDLE_TIMEOUT).count();
        for old in idle.drain(..stale) {
            self.open.fetch_sub(1, Ordering::AcqRel);
            close(old.conn);
        }
        idle.pop()
    }

    async fn open_new(&self) -> Result<Option<(Lease<'_>, bool)>, DbErr> {
        if self.open.fetch_add(1, Ordering::AcqRel) >= self.max {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Ok(None);
        }
        let opened = tokio::time::timeout(self.connect_timeout, self.options.connect()).await;
        match opened {
            Ok(Ok(conn)) => Ok(Some((Lease { lane: self, conn: Some(conn) }, false))),
            Ok(Err(e)) => {
                self.open.fetch_sub(1, Ordering::AcqRel);
                Err(DbErr::Conn(RuntimeErr::SqlxError(e.into())))
            }
            Err(_) => {
                self.open.fetch_sub(1, Ordering::AcqRel);
                Err(DbErr::Conn(RuntimeErr::SqlxError(sqlx::Error::PoolTimedOut.into())))
            }
        }
    }
}

/// A connection out of the lane. Dropped before [`Lease::run`] finished, it is closed.
struct Lease<'a> {
    lane: &'a Lane,
    conn: Option<PgConnection>,
}

impl Lease<'_> {
    /// Runs the statement; the connection goes back to the lane if it ran to its end and
    /// is closed otherwise (an error, or this future dropped at an `.await`).
    async fn run(mut self, statement: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        let conn = self.conn.as_mut().ok_or_else(|| DbErr::Custom("read lane: lease without a connection".into()))?;
        let values = SqlxValues(statement.values.clone().unwrap_or(sea_orm::Values(Vec::new())));
        let rows: Vec<PgRow> = sqlx::query_with(sqlx::AssertSqlSafe(statement.sql.as_str()), values)
            .fetch_all(conn)
            .await
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(e.into())))?;
        if let Some(conn) = self.conn.take() {
            let mut idle = self.lane.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push(Idle { conn, since: Instant::now() });
        }
        Ok(rows.into_iter().map(QueryResult::from).collect())
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.lane.open.fetch_sub(1, Ordering::AcqRel);
            close(conn);
        }
    }
}

/// Says goodbye to PostgreSQL (a `Terminate`) off the request's path; if there is no
/// runtime to do it on, dropping the socket closes it too.
fn close(conn: PgConnection) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let _ = conn.close().await;
        });
    }
}
