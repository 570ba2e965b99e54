//! Liveness and readiness, outside `/api/v1`, for load balancers and orchestrators.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(live).service(ready);
}

/// The process is up and answering. Public.
#[utoipa::path(tag = "operations", summary = "Liveness", responses((status = 200, body = Health)))]
#[get("/health/live")]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The service can do work: the database answers within 2 s. Public.
#[utoipa::path(
    tag = "operations",
    summary = "Readiness (database checked)",
    responses((status = 200, body = Health), (status = 503, description = "The database is not reachable", body = crate::error::Problem, content_type = "application/problem+json"))
)]
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(Health { status: "ready" })),
        Ok(Err(e)) => Err(ApiError::Unavailable(e.to_string())),
        Err(_) => Err(ApiError::Unavailable("database ping timed out".into())),
    }
}
