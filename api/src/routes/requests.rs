//! `/requests`: create, edit, read, list, and the timeline. Transitions are in
//! `transitions.rs`, documents in `documents.rs`.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, IfMatch, PageQuery};
use crate::auth::policy::{Authorized, Official, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::i18n::{Lang, Localize};
use crate::service::records::{BsreSignature, RecordKind};
use crate::service::requests::{self as svc, NewRequest, RequestFilter, RequestUpdate, RequestView};
use crate::service::timeline::{self, Timeline};
use crate::shared::Page;
use crate::state::AppState;
use crate::workflow::{Flow, Status, StepCode};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(update)
        .service(get_timeline)
        .service(get_dossier)
        .service(get_record)
        .service(sign_record);
}

/// An applicant or an agency's system. The flow follows the caller's organization:
/// an agency → `external`, a Diskominfo division → `internal`. Starts as a draft.
#[utoipa::path(
    tag = "requests",
    summary = "Create an integration request (draft)",
    request_body = NewRequest,
    responses((status = 201, body = RequestView, headers(("Location" = String), ("ETag" = String)))),
    security(("bearer" = []))
)]
#[post("/requests")]
async fn create(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    lang: Lang,
    body: ApiJson<NewRequest>,
) -> ApiResult<HttpResponse> {
    let r = svc::create(&state, &who, body.0).await?.localized(lang);
    Ok(super::created(format!("/api/v1/requests/{}", r.id), r.version, &r))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestListQuery {
    pub status: Option<Status>,
    pub flow: Option<Flow>,
    pub organization_id: Option<Uuid>,
    pub current_step: Option<StepCode>,
    /// Only requests past their current step's limit (or, with false, only those not).
    pub overdue: Option<bool>,
    /// Text in the title or the registration number (at most 100 characters).
    #[param(max_length = 100)]
    pub q: Option<String>,
}

/// `q`'s `max_length` above (utoipa takes no constants; a test compares them).
pub const MAX_Q_CHARS: usize = 100;

/// Applicants see their organization's requests; the office's roles and the auditor see
/// all. Newest first.
#[utoipa::path(
    tag = "requests",
    summary = "List requests",
    params(PageQuery, RequestListQuery),
    responses((status = 200, body = Page<RequestView>)),
    security(("bearer" = []))
)]
#[get("/requests")]
async fn list(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    lang: Lang,
    page: web::Query<PageQuery>,
    q: web::Query<RequestListQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    // The documented maxLength, in characters (as JSON Schema counts them).
    if q.q.as_deref().is_some_and(|text| text.chars().count() > MAX_Q_CHARS) {
        return Err(ApiError::invalid("q", crate::msg!("text-at-most", max = MAX_Q_CHARS)));
    }
    let f = RequestFilter {
        status: q.status,
        flow: q.flow,
        organization_id: q.organization_id,
        current_step: q.current_step,
        overdue: q.overdue,
        q: q.q,
    };
    Ok(HttpResponse::Ok().json(svc::list(&state, &who, f, page.limit()?, page.after()?).await?.localized(lang)))
}

/// Anyone who may see the request (another agency's request is 404).
#[utoipa::path(
    tag = "requests",
    summary = "Get a request with its current step, due time and SLA state",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RequestView, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/requests/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    lang: Lang,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let r = svc::get(&state, &who, *id).await?.localized(lang);
    Ok(super::ok_versioned(r.version, &r))
}

/// The applicant of the requesting organization, while the request is a draft or
/// returned for revision.
#[utoipa::path(
    tag = "requests",
    summary = "Edit a draft or returned request",
    params(("id" = Uuid, Path), IfMatch),
    request_body = RequestUpdate,
    responses(
        (status = 200, body = RequestView, headers(("ETag" = String))),
        (status = 409, description = "Not editable now, or a stale version", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/requests/{id}")]
async fn update(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<RequestUpdate>,
) -> ApiResult<HttpResponse> {
    let r =
        svc::update(&state, &who, *id, body.0, IfMatch::parse(&req)?).await?.localized(crate::i18n::of_request(&req));
    Ok(super::ok_versioned(r.version, &r))
}

/// Anyone who may see the request.
#[utoipa::path(
    tag = "requests",
    summary = "A request's timeline: every step and event, who, when, how long against the standard",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Timeline)),
    security(("bearer" = []))
)]
#[get("/requests/{id}/timeline")]
async fn get_timeline(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    lang: Lang,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(timeline::timeline(&state, &who, *id).await?.localized(lang)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DossierQuery {
    /// Sizes of checkpoints you saved (`GET /audit/checkpoint`), comma-separated, at most
    /// 64: the bundle carries a consistency proof from each, for `jembatan verify
    /// --checkpoints`. Proofs from the last checkpoint of every day are always included.
    #[param(example = "120,4096")]
    pub consistency_from: Option<String>,
}

/// Anyone who may see the request. One tar file an auditor checks offline with `jembatan
/// verify` (docs/EVIDENCE.md): the request's events as JSONL with their inclusion proofs
/// to the latest signed checkpoint, the documents, consistency proofs from earlier
/// checkpoints, the verifier keys, and a manifest signed by the log's key. The applicant's
/// bundle leaves out the office's internal events and withholds internal notes (those
/// events are marked `redacted`: their place in the log is proven, their content is not).
/// 409 while an event of the request is not yet in the signed log (under a second).
#[utoipa::path(
    tag = "requests",
    summary = "A request's evidence bundle (tar), verifiable offline",
    params(("id" = Uuid, Path), DossierQuery),
    responses((status = 200, description = "The bundle", content((inline(super::Bytes) = "application/x-tar")),
        headers(("Content-Disposition" = String))),
        (status = 409, description = "An event of the request is not in the signed log yet; retry in a second",
            body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/requests/{id}/dossier")]
async fn get_dossier(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
    q: web::Query<DossierQuery>,
) -> ApiResult<HttpResponse> {
    let sizes = q
        .consistency_from
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::invalid("consistency_from", crate::msg!("consistency-from-shape")))?;
    if sizes.len() > crate::service::bundle::MAX_CONSISTENCY_FROM {
        let most = crate::service::bundle::MAX_CONSISTENCY_FROM;
        return Err(ApiError::invalid("consistency_from", crate::msg!("consistency-from-count", most = most)));
    }
    // A bundle holds the request's documents in memory: a few at a time.
    let _permit = state
        .bundles
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::TooManyRequests { detail: crate::msg!("bundles-busy"), retry_after_secs: 5 })?;
    let files = crate::service::bundle::for_request(&state, Some(&who), *id, &sizes).await?;
    let tar = web::block(move || crate::service::bundle::to_tar(&files))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(made_file("application/x-tar", "attachment", &format!("dossier-{id}.tar")).body(tar))
}

/// A file made for this caller (a bundle, a record): named, and never cached on the way.
/// The names are ours (ids and registration numbers), so they need no escaping.
fn made_file(content_type: &str, disposition: &str, filename: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response
        .content_type(content_type)
        .insert_header(("Content-Disposition", format!("{disposition}; filename=\"{filename}\"")))
        .insert_header(("Cache-Control", "no-store"));
    response
}

/// Anyone who may see the request (the applicant's copy has no internal note). In
/// Indonesian, with DejaVu Sans embedded. Each PDF carries the verification code of the
/// audit event it rests on (log index and leaf hash) and the address of that event's
/// inclusion proof. `receipt` once submitted, `disposition-sheet` once disposed,
/// `dossier` always, `final-report-cover` once completed; 409 before that, or while the
/// event is not yet in the signed log (under a second).
#[utoipa::path(
    tag = "requests",
    summary = "A printable record of the request (PDF)",
    params(("id" = Uuid, Path), ("kind" = RecordKind, Path, description = "receipt, disposition-sheet, dossier or final-report-cover")),
    responses((status = 200, description = "The record", content((inline(super::Bytes) = "application/pdf")),
        headers(("Content-Disposition" = String),
            ("Jembatan-Record-Signature" = String, description = "Base64 of a signed note by the audit log's key over \
              `jembatan-record/1`, `sha256 <hex of this PDF>`: check it with GET /audit/public-key"))),
        (status = 409, description = "The request has not reached this record yet, or its event is not in the signed log yet",
            body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/requests/{id}/records/{kind}.pdf")]
async fn get_record(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    path: web::Path<(Uuid, RecordKind)>,
) -> ApiResult<HttpResponse> {
    let (id, kind) = path.into_inner();
    let (pdf, filename) = crate::service::records::render(&state, &who, id, kind).await?;
    let signature = crate::signer::sign_record(&state.audit_keys, &pdf);
    Ok(made_file("application/pdf", "inline", &filename)
        .insert_header(("Jembatan-Record-Signature", signature))
        .body(pdf))
}

/// The office's officials (head of division, head of agency, technical lead) who may see
/// the request. The official's NIK and BSrE passphrase go to BSrE, which signs the record
/// with their certificate (PAdES) and returns it; Jembatan records that it was signed (and
/// the SHA-256 of what was signed) and keeps neither the NIK nor the passphrase. 501 when
/// the installation has not enabled BSrE; 422 when BSrE refuses (its reason under
/// `errors.passphrase`); 503 when it cannot be reached.
#[utoipa::path(
    tag = "requests",
    summary = "Sign a printed record electronically through BSrE (PAdES)",
    params(("id" = Uuid, Path), ("kind" = RecordKind, Path, description = "receipt, disposition-sheet, dossier or final-report-cover")),
    request_body = BsreSignature,
    responses((status = 200, description = "The signed record", content((inline(super::Bytes) = "application/pdf")),
        headers(("Content-Disposition" = String))),
        (status = 409, description = "The request has not reached this record yet, or its event is not in the signed log yet",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 501, description = "BSrE signing is not enabled on this installation",
            body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/requests/{id}/records/{kind}/signature")]
async fn sign_record(
    state: web::Data<AppState>,
    who: Authorized<Official>,
    path: web::Path<(Uuid, RecordKind)>,
    body: ApiJson<BsreSignature>,
) -> ApiResult<HttpResponse> {
    let (id, kind) = path.into_inner();
    let (pdf, filename) = crate::service::records::sign_with_bsre(&state, &who, id, kind, body.0).await?;
    Ok(made_file("application/pdf", "attachment", &filename).body(pdf))
}
