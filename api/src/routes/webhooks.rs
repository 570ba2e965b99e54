//! `/webhooks`: endpoints agency systems register to be called when something happens to
//! their requests (Standard Webhooks 1.0), their delivery log, redelivery and a test ping.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, IfMatch, PageQuery};
use crate::auth::policy::{Authorized, WebhookManager};
use crate::error::{ApiResult, Problem};
use crate::service::webhooks::{
    self as svc, NewWebhookEndpoint, WebhookDelivery, WebhookEndpoint, WebhookEndpointUpdate, WebhookEndpointWithSecret,
};
use crate::shared::Page;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(update)
        .service(remove)
        .service(rotate)
        .service(deliveries)
        .service(redeliver)
        .service(ping);
}

fn no_store(mut res: HttpResponse) -> HttpResponse {
    // Said here, not only by the headers middleware: the idempotency store keeps no
    // response marked so.
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    res
}

/// An admin, or an agency's applicant (person or system) for its own organization. The
/// address is checked now and at every delivery: `https` to a host resolving to public
/// addresses only (loopback, private, link-local, CGNAT and metadata addresses, in
/// every IPv4 and IPv6 form, are refused with 422 unless an operator listed them in
/// `JEMBATAN_WEBHOOK_ALLOW_CIDRS`). The signing secret is in this response only.
///
/// Each delivery is a `POST` of the event feed's entry (`GET /events`), with the
/// headers `webhook-id` (the event's id: deduplicate on it), `webhook-timestamp` (Unix
/// seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`),
/// verifiable with any Standard Webhooks library. Answer 2xx within 10 s; anything else
/// is retried for about 3 days (honouring `Retry-After` on 429 and 503); 410 disables
/// the endpoint. No redirects are followed.
#[utoipa::path(
    tag = "webhooks",
    summary = "Register a webhook endpoint (secret shown once)",
    request_body = NewWebhookEndpoint,
    responses(
        (status = 201, description = "Registered; the secret is in this response only", body = WebhookEndpointWithSecret, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The organization has 20 endpoints already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The address is refused (form, scheme, or where it resolves)", body = Problem, content_type = "application/problem+json",
         example = json!({"type": "urn:jembatan:problem:validation", "title": "Your request parameters didn't validate", "status": 422,
                          "detail": "url: resolves to 169.254.169.254, a link-local address (169.254.0.0/16, incl. cloud metadata): webhooks are not sent there",
                          "errors": {"url": ["resolves to 169.254.169.254, a link-local address (169.254.0.0/16, incl. cloud metadata): webhooks are not sent there"]}})),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks")]
async fn create(
    state: web::Data<AppState>,
    who: Authorized<WebhookManager>,
    body: ApiJson<NewWebhookEndpoint>,
) -> ApiResult<HttpResponse> {
    let e = svc::create(&state, &who, body.0).await?;
    Ok(no_store(super::created(format!("/api/v1/webhooks/{}", e.endpoint.id), e.endpoint.version, &e)))
}

/// An admin (every endpoint), or an applicant (their organization's).
#[utoipa::path(
    tag = "webhooks",
    summary = "List webhook endpoints",
    params(PageQuery),
    responses((status = 200, description = "A page of endpoints", body = Page<WebhookEndpoint>)),
    security(("bearer" = []))
)]
#[get("/webhooks")]
async fn list(
    state: web::Data<AppState>,
    who: Authorized<WebhookManager>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::list(&state, &who, page.limit()?, page.after()?).await?))
}

/// An admin, or an applicant of the endpoint's organization (anyone else: 404).
#[utoipa::path(
    tag = "webhooks",
    summary = "Get a webhook endpoint",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The endpoint", body = WebhookEndpoint, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    who: Authorized<WebhookManager>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let e = svc::get(&state, &who, *id).await?;
    Ok(super::ok_versioned(e.version, &e))
}

/// An admin, or an applicant of the endpoint's organization. A new address is checked
/// as at registration. `enabled: true` re-enables an endpoint disabled by failures.
#[utoipa::path(
    tag = "webhooks",
    summary = "Change a webhook endpoint (address, types, description, enabled)",
    params(("id" = Uuid, Path), IfMatch),
    request_body = WebhookEndpointUpdate,
    responses(
        (status = 200, description = "Changed", body = WebhookEndpoint, headers(("ETag" = String))),
        (status = 409, description = "Stale `version`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/webhooks/{id}")]
async fn update(
    state: web::Data<AppState>,
    who: Authorized<WebhookManager>,
    if_match: IfMatch,
    id: web::Path<Uuid>,
    body: ApiJson<WebhookEndpointUpdate>,
) -> ApiResult<HttpResponse> {
    let e = svc::update(&state, &who, *id, body.0, if_match.version).await?;
    Ok(super::ok_versioned(e.version, &e))
}

/// An admin, or an applicant of the endpoint's organization. Its delivery log goes with
/// it; pending deliveries are not sent.
#[utoipa::path(
    tag = "webhooks",
    summary = "Remove a webhook endpoint",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Removed")),
    security(("bearer" = []))
)]
#[delete("/webhooks/{id}")]
async fn remove(
    state: web::Data<AppState>,
    who: Authorized<WebhookManager>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    svc::delete(&state, &who, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An admin, or an applicant of the endpoint's organization. For 24 hours every delivery
/// carries two signatures, one per secret, so the receiver can switch without losing any.
#[utoipa::path(
    tag = "webhooks",
    summary = "Rotate a webhook endpoint's secret (new secret shown once)",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The new secret, in this response only", body = WebhookEndpointWithSecret, headers(("ETag" = String))),
        (status = 409, description = "Rotated less than a day ago: the previous secret still signs beside the current one until then", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/rotate-secret")]
async fn rotate(
    state: web::Data<AppState>,
    who: Authorized<WebhookManager>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let e = svc::rotate(&state, &who, *id).await?;
    Ok(no_store(super::ok_versioned(e.endpoint.version, &e)))
}

/// An admin, or an applicant of the endpoint's organization. Newest first: each message,
/// its attempts, the last answer and when it is tried next.
#[utoipa::path(
    tag = "webhooks",
    summary = "An endpoint's delivery log",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, description = "A page of deliveries, newest first", body = Page<WebhookDelivery>)),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}/deliveries")]
async fn deliveries(
    state: web::Data<AppState>,
    who: Authorized<WebhookManager>,
    id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::deliveries(&state, &who, *id, page.limit()?, page.after()?).await?))
}

/// An admin, or an applicant of the endpoint's organization. Sends the message again as
/// a new delivery (same `webhook-id` and body, a fresh timestamp and signature).
#[utoipa::path(
    tag = "webhooks",
    summary = "Send a delivered or failed message again",
    params(("id" = Uuid, Path), ("delivery_id" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued", body = WebhookDelivery),
        (status = 409, description = "The endpoint is disabled", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
async fn redeliver(
    state: web::Data<AppState>,
    who: Authorized<WebhookManager>,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, delivery_id) = *path;
    Ok(HttpResponse::Accepted().json(svc::redeliver(&state, &who, id, delivery_id).await?))
}

/// An admin, or an applicant of the endpoint's organization. Queues a `webhook.ping`
/// (`data.endpoint_id`), signed like every delivery; its outcome shows in the delivery
/// log within seconds.
#[utoipa::path(
    tag = "webhooks",
    summary = "Send a test event",
    params(("id" = Uuid, Path)),
    responses(
        (status = 202, description = "Queued", body = WebhookDelivery),
        (status = 409, description = "The endpoint is disabled", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/ping")]
async fn ping(
    state: web::Data<AppState>,
    who: Authorized<WebhookManager>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Accepted().json(svc::ping(&state, &who, *id).await?))
}
