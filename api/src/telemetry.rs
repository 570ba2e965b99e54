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
/// run. Errors are logged where they are mapped (`error.rs`), with this span around them.
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
