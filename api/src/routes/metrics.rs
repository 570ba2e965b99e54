//! `GET /metrics`, outside `/api/v1`, for Prometheus.

use actix_web::{FromRequest, HttpRequest, HttpResponse, get, http::header, web};
use sha2::{Digest, Sha256};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::policy::{AdminOnly, Authorized};
use crate::error::ApiResult;
use crate::metrics::Metrics;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(metrics);
}

/// Whether the request carries the configured scrape token. Digests are compared, so the
/// comparison's time says nothing about how much of the token a guess got right.
fn is_scraper(req: &HttpRequest, token: Option<&str>) -> bool {
    let Some(token) = token else { return false };
    let sent = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(sent) = sent.and_then(|v| v.strip_prefix("Bearer ")) else { return false };
    Sha256::digest(sent.trim().as_bytes()) == Sha256::digest(token.as_bytes())
}

/// Prometheus text format. For the scraper, with the token configured as
/// `JEMBATAN_METRICS_TOKEN` as its bearer token, and for admins with their access token.
/// HTTP counters and durations per route pattern, method and status; requests in the
/// register by status; steps past their limit now.
#[utoipa::path(
    tag = "operations",
    summary = "Prometheus metrics",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain; version=0.0.4", body = String,
        example = "# HELP jembatan_steps_overdue Current steps of requests in progress past their limit\n# TYPE jembatan_steps_overdue gauge\njembatan_steps_overdue 3\n")),
    security(("bearer" = []))
)]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>, req: HttpRequest) -> ApiResult<HttpResponse> {
    if !is_scraper(&req, state.settings.metrics_token.as_deref()) {
        Authorized::<AdminOnly>::extract(&req).await?;
    }
    let body = metrics.render(&state).await?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body))
}
