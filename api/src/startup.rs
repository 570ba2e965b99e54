//! Building and running the service: `Application::build` is what `main` and the
//! black-box tests both use, so tests run the real thing.

use std::net::TcpListener;

use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpResponse, web};
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::TokenKeys;
use crate::auth::principals::Principals;
use crate::auth::rate_limit::LoginThrottle;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::error::ApiError;
use crate::metrics::PoolRole;
use crate::state::AppState;
use crate::{bootstrap, db, openapi, routes};

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects, migrates, checks the demo rules, creates the configured admin, starts the
    /// background jobs, binds the listener: everything `serve` does.
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<Self, String> {
        let state = prepare(settings, clock).await?;
        crate::demo::guard(&state).await?;
        let lock = db::StartupLock::take(&state.db).await.map_err(|e| format!("cannot start: {e}"))?;
        bootstrap::ensure_admin(&state).await.map_err(|e| format!("cannot create the configured admin: {e}"))?;
        lock.release().await;
        state.principals_changed().await;
        crate::jobs::sla_sweeper::spawn(state.clone());
        crate::jobs::sla_histogram::spawn(state.clone());
        crate::jobs::step_filing::spawn(state.clone());
        crate::jobs::housekeeping::spawn_principal_refresh(state.clone());
        crate::jobs::housekeeping::spawn_idempotency_purge(state.clone());
        crate::jobs::mailer::spawn(state.clone());
        crate::jobs::sequencer::spawn(state.clone());
        crate::jobs::webhooks::spawn(state.clone());
        // The service starts without its bucket (everything but documents works), but says so.
        match state.store.probe().await {
            Ok(()) => tracing::info!(store = %state.store.describe(), "document store reachable"),
            Err(e) => tracing::error!(store = %state.store.describe(), error = %e, "document store not reachable"),
        }
        let listener = TcpListener::bind(&state.settings.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", state.settings.listen))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let server = run(listener, state.clone()).map_err(|e| e.to_string())?;
        Ok(Self { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Stops the server from outside (tests stop a replica mid-work with it).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Runs until SIGINT/SIGTERM; in-flight requests get `shutdown_timeout` to finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
/// The state the service runs on: connected, migrated, calendar and definitions loaded.
/// The maintenance commands (`check`, `create-admin`, `remove-demo-accounts`) use it alone;
/// they neither serve nor apply `serve`'s demo rules.
pub async fn prepare(settings: Settings, clock: SharedClock) -> Result<web::Data<AppState>, String> {
    let db = db::connect(&settings).await.map_err(|e| format!("cannot connect to the database: {e}"))?;
    // Released at the end (or, on an early return, by closing its session).
    let lock = db::StartupLock::take(&db).await.map_err(|e| format!("cannot connect to the database: {e}"))?;
    db::migrate(&db).await.map_err(|e| format!("cannot migrate the database: {e}"))?;
    let audit_keys = crate::service::tlog::LogKeys::load(
        &settings.audit_origin,
        settings.audit_signing_key.as_deref(),
        &settings.audit_signing_key_path(),
        settings.audit_previous_keys.as_deref(),
    )?;
    // A lost key file must not silently become a new key: the log's checkpoints would
    // then verify with nothing the service trusts.
    let latest = crate::service::tlog::latest_checkpoint(&db)
        .await
        .map_err(|e| format!("cannot read the audit log's checkpoints: {e}"))?;
    if latest.is_some_and(|c| !audit_keys.opens(&c.note)) {
        return Err(format!(
            "the audit signing key ({}) did not sign this database's latest checkpoint: restore the key, \
             or list the old verifier key in JEMBATAN_AUDIT_PREVIOUS_KEYS when rotating",
            settings.audit_signing_key_path().display()
        ));
    }
    let bsre = crate::signer::Bsre::from_settings(&settings)?.map(std::sync::Arc::new);
    let store = crate::storage::Store::from_settings(&settings)?;
    let state = web::Data::new(AppState {
        db,
        lane: None,
        store,
        audit_keys,
        bsre,
        bundles: std::sync::Arc::new(tokio::sync::Semaphore::new(2)),
        keys: TokenKeys::from_settings(&settings),
        clock,
        throttle: std::sync::Arc::new(LoginThrottle::new(
            settings.login_failures_per_window,
            std::time::Duration::from_secs(settings.login_window_secs),
        )),
        principals: std::sync::Arc::new(Principals::default()),
        client_token_limiter: std::sync::Arc::new(governor::RateLimiter::keyed(governor::Quota::per_second(
            std::num::NonZeroU32::new(settings.client_token_rate_per_sec).unwrap_or(std::num::NonZeroU32::MIN),
        ))),
        settings,
        calendar: std::sync::Arc::new(std::sync::RwLock::new(std::sync::Arc::new(
            crate::calendar::WorkingCalendar::regency_default(),
        ))),
    });
    crate::service::calendar::startup(&state).await.map_err(|e| format!("cannot load the office calendar: {e}"))?;
    // Legacy rows only (finished before durations were stored): a row that cannot be read
    // (a value the domain does not know) must not keep the office's service down. It is
    // logged, `jembatan check` names it, and the next start tries again.
    if let Err(e) = crate::service::working_time::measure_unmeasured(&state).await {
        tracing::error!(error = %e, "cannot measure the working time of finished steps; run `jembatan check`");
    }
    crate::service::workflows::seed(&state).await.map_err(|e| format!("cannot seed the workflow definitions: {e}"))?;
    lock.release().await;
    Ok(state)
}

/// The complete OpenAPI document (kept here for `main` and the tests; built by `openapi`).
pub use crate::openapi::document as openapi_document;

fn run(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    // Serialized once: a document built per worker (and one more in each worker factory's
    // clone) held ~46 MiB for the service's lifetime (massif; docs/benchmarks.md, "Memory").
    let spec = web::Bytes::from(serde_json::to_vec(&openapi_document()).map_err(std::io::Error::other)?);
    let workers = db::worker_count(&state.settings);
    let metrics = crate::metrics::Metrics::new().map_err(|e| std::io::Error::other(e.to_string()))?;
    metrics.count_pool_of(PoolRole::Replica, &state.clone().into_inner());
    let cors = crate::config::cors_origins(state.settings.cors_origins.as_deref()).unwrap_or_default();
    let server = actix_web::HttpServer::new(move || {
        // Runs on each worker's thread: its pool's connections belong to its runtime.
        let state = match db::worker_pool(&state.settings) {
            Some((db, lane)) => {
                let lane = lane.map(|l| l.counted(metrics.lane_counters()));
                let worker = web::Data::new(state.with_db(db, lane).with_own_store());
                metrics.count_pool_of(PoolRole::Worker, &worker.clone().into_inner());
                worker
            }
            None if matches!(state.store, crate::storage::Store::S3(_)) => {
                web::Data::new(state.get_ref().clone().with_own_store())
            }
            None => state.clone(),
        };
        let (app, _) = App::new()
            .into_utoipa_app()
            .app_data(state)
            .app_data(web::Data::new(metrics.clone()))
            .app_data(web::PathConfig::default().error_handler(|e, _| {
                ApiError::bad_request(crate::msg!("path-parameter-invalid", why = e.to_string())).into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::bad_request(crate::msg!("query-parameter-invalid", why = e.to_string())).into()
            }))
            .configure(routes::register)
            .split_for_parts();
        let spec = spec.clone();
        app.service(
            SwaggerUi::new("/swagger-ui/{_:.*}").config(utoipa_swagger_ui::Config::from("/api-docs/openapi.json")),
        )
        .route(
            "/api-docs/openapi.json",
            web::get().to(move || {
                let spec = spec.clone();
                async move { actix_web::HttpResponse::Ok().content_type("application/json").body(spec) }
            }),
        )
        .default_service(web::to(openapi::unmatched))
        .wrap(actix_web::middleware::from_fn(crate::idempotency::middleware))
        // Inside the error handlers, request id, logging and security headers, so that a
        // preflight's answer (or refusal) gets them like any response.
        .wrap(actix_web::middleware::Condition::new(!cors.is_empty(), cors_for(&cors)))
        .wrap(ErrorHandlers::new().default_handler(problem_for_bare_errors))
        // Outside the error handlers: renders every problem document (also theirs) in
        // the request's language and answers `Content-Language`.
        .wrap(actix_web::middleware::from_fn(crate::i18n::middleware))
        .wrap(actix_web::middleware::from_fn(request_id_header))
        .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
        .wrap(metrics.http.clone())
        .wrap(actix_web::middleware::from_fn(crate::security_headers::middleware))
    })
    .shutdown_timeout(30)
    .workers(workers)
    .listen(listener)?;
    Ok(server.run())
}

/// CORS for the configured front-ends: exact origins only, no credentials (the API takes a
/// bearer token, not cookies); preflight answered for the API's methods and the headers it
/// reads; the headers a client needs exposed.
fn cors_for(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::Method;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            header::HeaderName::from_static("idempotent-replayed"),
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("repr-digest"),
            header::HeaderName::from_static("jembatan-record-signature"),
        ])
        .max_age(600);
    for o in origins {
        cors = cors.allowed_origin(o);
    }
    cors
}

/// Every response carries the id that its log lines carry.
async fn request_id_header(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let id = actix_web::HttpMessage::extensions(&req).get::<RequestId>().map(|id| id.to_string());
    let mut res = next.call(req).await?;
    if let Some(id) = id.and_then(|s: String| HeaderValue::from_str(&s).ok()) {
        res.headers_mut().insert(header::HeaderName::from_static("x-request-id"), id);
    }
    Ok(res)
}

/// Errors that actix produces itself (405, an unreadable multipart body, …) come without a
/// problem document; give them one so every error a client sees has the same shape.
fn problem_for_bare_errors<B: actix_web::body::MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem || !(status.is_client_error() || status.is_server_error()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let error = match status.as_u16() {
        404 => ApiError::NotFound(crate::msg!("no-such-resource")),
        405 => ApiError::MethodNotAllowed,
        413 => ApiError::PayloadTooLarge(crate::msg!("body-too-large")),
        415 => ApiError::UnsupportedMediaType(crate::msg!("content-type-unsupported")),
        s if s >= 500 => ApiError::Internal(format!("bare {s} response")),
        _ => ApiError::bad_request(crate::msg!("request-unprocessable")),
    };
    // With the error attached, so that the language middleware renders it.
    let mut problem = HttpResponse::from_error(error);
    *problem.status_mut() = status;
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, problem).map_into_right_body()))
}
