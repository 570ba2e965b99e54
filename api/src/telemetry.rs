//! Logging: human-readable text by default, JSON lines when configured. Each request's
//! log lines carry its `request_id` (tracing-actix-web's root span).
//!
//! Service entry points are `#[tracing::instrument(level = "debug")]` spans (a transition
//! carries the request id and the transition). With a `debug` filter, e.g.
//! `RUST_LOG=info,jembatan=debug`, each span's end is logged with its busy and idle time,
//! so a slow request's log says which service call took how long; at the default `info`
//! those spans cost nothing and log nothing.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let timing = std::env::var("RUST_LOG").is_ok_and(|f| f.contains("debug") || f.contains("trace"));
    let spans = if timing { FmtSpan::CLOSE } else { FmtSpan::NONE };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_span_events(spans);
    // `try_init`: tests start many apps in one process; only the first sets the subscriber.
    let _ = if format == "json" {
        builder.json().flatten_event(true).with_current_span(true).try_init()
    } else {
        builder.try_init()
    };
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
}
