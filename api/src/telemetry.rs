//! Logging: human-readable text by default, JSON lines when configured. Each request's
//! log lines carry its `request_id` (tracing-actix-web's root span).
//!
//! Service entry points are `#[tracing::instrument(level = "debug")]` spans (a transition
//! carries the request id and the transition). With a `debug` filter, e.g.
//! `RUST_LOG=info,jembatan=debug`, each span's end is logged with its busy and idle time,
//! so a slow request's log says which service call took how long; at the default `info`
//! those spans cost nothing and log nothing.
//!
//! The subscriber also carries one metric: sqlx times every wait for a pooled connection
//! and reports it as a `sqlx::pool::acquire` event (`db::options` turns those on, at
//! INFO); [`PoolWaits`] records them in `jembatan_db_pool_wait_seconds`, and the log lines
//! leave them out unless `RUST_LOG` names their target. INFO rather than a quieter level:
//! the subscriber's most verbose level decides how much every other `debug!` and `trace!`
//! in the process costs, and INFO is what the logs enable anyway.

use tracing::field::{Field, Visit};
use tracing_subscriber::filter::{FilterExt, Targets, filter_fn};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    // One line per connection wait is for the metric, not the log, unless `RUST_LOG` names
    // the target; a slow one (a warning) shows as the filter says.
    let named = std::env::var("RUST_LOG").is_ok_and(|f| f.contains(POOL_ACQUIRE_TARGET));
    let filter = filter
        .and(filter_fn(move |m| named || m.target() != POOL_ACQUIRE_TARGET || *m.level() <= tracing::Level::WARN));
    let timing = std::env::var("RUST_LOG").is_ok_and(|f| f.contains("debug") || f.contains("trace"));
    let spans = if timing { FmtSpan::CLOSE } else { FmtSpan::NONE };
    let lines = tracing_subscriber::fmt::layer().with_target(false).with_span_events(spans);
    let lines = if format == "json" {
        lines.json().flatten_event(true).with_current_span(true).with_filter(filter).boxed()
    } else {
        lines.with_filter(filter).boxed()
    };
    // `try_init`: tests start many apps in one process; only the first sets the subscriber.
    let _ = tracing_subscriber::registry().with(lines).with(PoolWaits::layer()).try_init();
}

/// The metrics' part of [`init`] without the log lines: for a process that runs the
/// service but keeps its output quiet (the black-box tests).
pub fn init_metrics_only() {
    let _ = tracing_subscriber::registry().with(PoolWaits::layer()).try_init();
}

/// Where sqlx reports the time each acquire from a pool took.
const POOL_ACQUIRE_TARGET: &str = "sqlx::pool::acquire";

/// Records each wait sqlx reports (`acquired_after_secs` of its [`POOL_ACQUIRE_TARGET`]
/// events, at whatever level: a slow one comes as a warning) in `metrics::POOL_WAITS`.
pub struct PoolWaits;

impl PoolWaits {
    /// This layer, seeing sqlx's acquire events and nothing else.
    pub fn layer<S>() -> impl Layer<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        PoolWaits.with_filter(Targets::new().with_target(POOL_ACQUIRE_TARGET, tracing::Level::INFO))
    }
}

impl<S: tracing::Subscriber> Layer<S> for PoolWaits {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut waited = Waited(None);
        event.record(&mut waited);
        if let Some(secs) = waited.0 {
            crate::metrics::POOL_WAITS.observe(secs);
        }
    }
}

struct Waited(Option<f64>);

impl Visit for Waited {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "acquired_after_secs" {
            self.0 = Some(value);
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

/// Each request's root span: what its log lines carry (the request id, also answered as
/// `X-Request-Id`, the method, the path and, at the end, the status). tracing-actix-web's
/// default span records a dozen OpenTelemetry fields on every request (the matched route,
/// the client address parsed from forwarded headers, the user agent, the whole target):
/// 4.6 % of a read's CPU in the profile (docs/benchmarks.md), for an exporter we do not
/// run. Errors are logged where they are mapped (`error.rs`), with this span around them:
/// server errors as errors, refusals (4xx) not at all at the default level (with `debug`,
/// each request's span end shows its status). tracing-actix-web's own event per error
/// response is off (its `emit_event_on_error` feature): it wrote every 4xx as a warning,
/// 34 000 lines a second under a sign-in flood, and every 5xx a second time.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let id = request.extensions().get::<tracing_actix_web::RequestId>().copied();
        tracing::info_span!(
            "request",
            request_id = id.map(tracing::field::display),
            method = %request.method(),
            path = request.path(),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::{App, HttpResponse, test, web};
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;

    use crate::error::ApiError;

    /// Collects the level of every event logged while it is the default subscriber.
    struct Levels(Arc<Mutex<Vec<Level>>>);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Levels {
        fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            self.0.lock().unwrap().push(*event.metadata().level());
        }
    }

    async fn levels_of(error: fn() -> ApiError) -> Vec<Level> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Levels(Arc::clone(&seen)));
        let _default = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(
            App::new()
                .wrap(tracing_actix_web::TracingLogger::<super::RequestSpan>::new())
                .route("/", web::get().to(move || async move { Err::<HttpResponse, _>(error()) })),
        )
        .await;
        test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        seen.lock().unwrap().clone()
    }

    /// A refusal is the caller's business and comes in floods (a sign-in flood is tens of
    /// thousands of 429s a second): it writes no log line at the default level.
    #[actix_web::test]
    async fn a_refused_request_writes_no_warning() {
        let levels =
            levels_of(|| ApiError::TooManyRequests { detail: crate::msg!("login-throttled"), retry_after_secs: 1 })
                .await;
        assert!(levels.iter().all(|l| *l > Level::INFO), "{levels:?}");
    }

    /// A server error is logged once, as an error, where it is mapped (`error.rs`).
    #[actix_web::test]
    async fn a_server_error_is_logged_once() {
        let levels = levels_of(|| ApiError::internal("the disk is on fire")).await;
        assert_eq!(levels.iter().filter(|l| **l <= Level::WARN).collect::<Vec<_>>(), vec![&Level::ERROR]);
    }

    /// A request that waits for the pool's only connection shows its wait in the pool-wait
    /// histogram: sqlx's timing, switched on by `db::options`, carried by `PoolWaits`.
    #[actix_web::test]
    async fn a_wait_for_a_pooled_connection_is_measured() {
        // The runtime of this test is one thread: the default set here covers its tasks.
        let _default = tracing::subscriber::set_default(tracing_subscriber::registry().with(super::PoolWaits::layer()));
        let settings = crate::config::Settings {
            database_url: "sqlite::memory:".into(),
            db_max_connections: 1,
            ..crate::config::Settings::default()
        };
        // The histogram is the process's: compare before and after.
        let waits = &crate::metrics::POOL_WAITS;
        let (count, sum) = (waits.get_sample_count(), waits.get_sample_sum());
        let db = crate::db::connect(&settings).await.unwrap();
        let pool = db.get_sqlite_connection_pool().clone();
        let held = pool.acquire().await.unwrap();
        let waiting = tokio::spawn(async move { pool.acquire().await.map(drop) });
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        drop(held);
        waiting.await.unwrap().unwrap();
        // Two acquires: the one at once, and the one that waited about 150 ms for it.
        assert!(waits.get_sample_count() >= count + 2, "{} after {count}", waits.get_sample_count());
        assert!(waits.get_sample_sum() - sum >= 0.1, "waited {} s", waits.get_sample_sum() - sum);
    }
}
