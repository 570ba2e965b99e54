//! HTTP glue only: extract the caller, path and body; call a service; map to JSON.
//! Each resource module has `configure()`, registered through utoipa-actix-web so the
//! OpenAPI document is collected from the handlers themselves.

pub mod api_clients;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod documents;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod notifications;
pub mod organizations;
pub mod reports;
pub mod requests;
pub mod tasks;
pub mod transitions;
pub mod users;
pub mod workflows;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api/v1`.
pub fn configure_api(cfg: &mut ServiceConfig) {
    cfg.configure(auth::configure)
        .configure(organizations::configure)
        .configure(users::configure)
        .configure(api_clients::configure)
        .configure(audit::configure)
        .configure(workflows::configure)
        .configure(requests::configure)
        .configure(transitions::configure)
        .configure(documents::configure)
        .configure(tasks::configure)
        .configure(calendar::configure)
        .configure(notifications::configure)
        .configure(reports::configure);
}

pub fn etag(version: i32) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// 200 with the body and its ETag.
pub fn ok_versioned<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header(etag(version)).json(body)
}

/// 201 with `Location` and ETag.
pub fn created<T: Serialize>(location: String, version: i32, body: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, location)).insert_header(etag(version)).json(body)
}

/// The client's address for throttling: the peer address (a proxy in front must be
/// trusted explicitly before X-Forwarded-For could be believed; we do not, yet).
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}
