//! One endpoint per SOP transition. Each hands (request, transition, caller, input) to
//! `service::requests::transition`; which role may act is the definition's business.
//! Every body accepts `note` and `version` (the version you saw; stale → 409).

use actix_web::{HttpRequest, HttpResponse, post, put, web};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::{ApiJson, IfMatch, OptionalJson};
use crate::auth::policy::{Authorized, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::i18n::Localize;
use crate::service::requests::{self as svc, RequestView, TransitionInput};
use crate::state::AppState;

/// The description of a body that may be left out; `openapi::optional_bodies` marks
/// such bodies `required: false` (utoipa has no attribute for it).
pub const OPTIONAL_BODY: &str = "Optional: may be omitted entirely";
use crate::workflow::{
    Action, Disposition, DispositionInstruction, IntegrationRecord, StepCode, StructuredOutput, TeamList, TestOutcome,
    TestResult, Visibility,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(submit)
        .service(disposition)
        .service(follow_up)
        .service(discussion)
        .service(approval)
        .service(team)
        .service(integration)
        .service(testing)
        .service(implementation)
        .service(report)
        .service(return_to_applicant)
        .service(resubmit)
        .service(reject)
        .service(withdraw)
        .service(cancel)
        .service(send_back)
        .service(change_team)
        .service(redispose);
}

/// A transition with nothing but a note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Sudah dibahas bersama Dinkes pada 24/11", "version": 4}))]
pub struct StepBody {
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    /// Who may read `note`: `public` (the default; the applicant too) or `internal` (the
    /// office only).
    #[serde(default)]
    pub note_visibility: Visibility,
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"instructions": ["tindak_lanjuti", "koordinasikan"], "note": "Mohon dikaji bersama Dinkes", "to_user_ids": ["01936f5e-0000-7000-8000-0000000000c1"], "version": 2}))]
pub struct DispositionBody {
    #[schema(min_items = 1)]
    pub instructions: Vec<DispositionInstruction>,
    /// Who the disposition is addressed to (technical leads, staff, or heads of division):
    /// they, and nobody else, act on the steps it addresses (v1: follow-up and
    /// discussion). Left out: every holder of those steps' role may act.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub to_user_ids: Vec<Uuid>,
    /// One addressee; the same as a one-item `to_user_ids` (kept for earlier clients).
    #[schema(deprecated)]
    pub to_user_id: Option<Uuid>,
    /// Why the addressees change (re-disposition only; optional).
    #[schema(max_length = 4000)]
    pub reason: Option<String>,
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    /// Who may read `note`: `public` (the default; the applicant too) or `internal` (the
    /// office only).
    #[serde(default)]
    pub note_visibility: Visibility,
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lead_user_id": "01936f5e-0000-7000-8000-0000000000c1", "member_user_ids": ["01936f5e-0000-7000-8000-0000000000c2"], "version": 6}))]
pub struct TeamBody {
    pub lead_user_id: Uuid,
    pub member_user_ids: Vec<Uuid>,
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    /// Who may read `note`: `public` (the default; the applicant too) or `internal` (the
    /// office only).
    #[serde(default)]
    pub note_visibility: Visibility,
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"base_url": "https://api.trenggalekkab.go.id/simpus/v1", "repository_url": "https://git.trenggalekkab.go.id/aptika/simpus-bridge", "version": 7}))]
pub struct IntegrationBody {
    /// Absolute http(s) URL of the built API.
    #[schema(max_length = 500)]
    pub base_url: String,
    #[schema(max_length = 500)]
    pub repository_url: Option<String>,
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    /// Who may read `note`: `public` (the default; the applicant too) or `internal` (the
    /// office only).
    #[serde(default)]
    pub note_visibility: Visibility,
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"result": "passed", "note": "Semua skenario uji lulus", "version": 8}))]
pub struct TestingBody {
    /// `failed` sends the request back to the integration step.
    pub result: TestOutcome,
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    /// Who may read `note`: `public` (the default; the applicant too) or `internal` (the
    /// office only).
    #[serde(default)]
    pub note_visibility: Visibility,
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Nomor surat tidak sesuai dengan lampiran", "version": 3}))]
pub struct ReasonBody {
    /// Why; the applicant sees it.
    #[schema(min_length = 1, max_length = 4000)]
    pub reason: String,
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    /// Who may read `note`: `public` (the default; the applicant too) or `internal` (the
    /// office only).
    #[serde(default)]
    pub note_visibility: Visibility,
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

async fn run(
    state: &AppState,
    who: &Authorized<SignedIn>,
    req: &HttpRequest,
    id: Uuid,
    t: Action,
    input: TransitionInput,
) -> ApiResult<HttpResponse> {
    let (action, completed) = match &t {
        Action::Submit => ("submit", Some("submit")),
        Action::Complete { step, .. } => ("complete", Some(step.as_str())),
        Action::Return => ("return", None),
        Action::Resubmit => ("resubmit", None),
        Action::Reject => ("reject", None),
        Action::Withdraw => ("withdraw", None),
        Action::Edit => ("edit", None),
        Action::Cancel => ("cancel", None),
        Action::SendBack => ("send_back", None),
        Action::ChangeTeam => ("change_team", None),
        Action::Redispose => ("redispose", None),
    };
    let done = async { svc::transition(state, who, id, t, input, IfMatch::parse(req)?).await }.await;
    if let Some(m) = req.app_data::<web::Data<crate::metrics::Metrics>>() {
        let after = done.as_ref().ok().and_then(|r| r.current_step.as_ref()).map(|s| s.code.as_str());
        let status = match &done {
            Ok(_) => 200,
            Err(e) => actix_web::ResponseError::status_code(e).as_u16(),
        };
        m.transition(action, completed.or(after).unwrap_or("-"), status);
    }
    let r = done?.localized(crate::i18n::of_request(req));
    Ok(super::ok_versioned(r.version, &r))
}

fn plain(b: StepBody) -> TransitionInput {
    TransitionInput { note: b.note, note_visibility: b.note_visibility, version: b.version, ..Default::default() }
}

/// A transition whose body is a reason (return, reject, cancel, send back).
fn reasoned(b: ReasonBody) -> TransitionInput {
    TransitionInput {
        note: b.note,
        note_visibility: b.note_visibility,
        reason: Some(b.reason),
        version: b.version,
        ..Default::default()
    }
}

macro_rules! simple_transition {
    ($fn:ident, $path:literal, $transition:expr, $summary:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            tag = "transitions",
            summary = $summary,
            description = $doc,
            params(("id" = Uuid, Path), IfMatch),
            request_body(content = StepBody, description = OPTIONAL_BODY),
            responses(
                (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
                (status = 409, description = "Not the current step, wrong status, or a stale version", body = crate::error::Problem, content_type = "application/problem+json"),
                (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        #[post($path)]
        async fn $fn(
            state: web::Data<AppState>,
            who: Authorized<SignedIn>,
            req: HttpRequest,
            id: web::Path<Uuid>,
            body: OptionalJson<StepBody>,
        ) -> ApiResult<HttpResponse> {
            run(&state, &who, &req, *id, $transition, plain(body.0)).await
        }
    };
}

simple_transition!(
    submit,
    "/requests/{id}/submit",
    Action::Submit,
    "Step 1: submit the request",
    "The applicant. Requires the step's documents (external: `request_letter`; internal: `application_document` and `meeting_minutes`). Assigns the registration number."
);
simple_transition!(
    follow_up,
    "/requests/{id}/follow-up",
    Action::complete(StepCode::FollowUp),
    "Step 3: act on the disposition",
    "The step's actor per the definition (v1: technical_lead)."
);
simple_transition!(
    discussion,
    "/requests/{id}/discussion",
    Action::complete(StepCode::Discussion),
    "Step 4: integration discussion held",
    "The step's actor per the definition (v1: technical_lead). Requires a `formulation` document."
);
simple_transition!(
    approval,
    "/requests/{id}/approval",
    Action::complete(StepCode::Approval),
    "Step 5 (external): approve going ahead",
    "The step's actor per the definition (v1: head_of_agency). External flow only; 409 on an internal request."
);
simple_transition!(
    implementation,
    "/requests/{id}/implementation",
    Action::complete(StepCode::Implementation),
    "Put the integration into production",
    "A member of the request's integration team. Requires an `integration_report` document."
);
simple_transition!(
    report,
    "/requests/{id}/report",
    Action::complete(StepCode::Report),
    "Final report: completes the request",
    "The step's actor per the definition (v1: technical_lead). Requires a `final_report` document; the integration enters the catalogue."
);
simple_transition!(
    resubmit,
    "/requests/{id}/resubmit",
    Action::Resubmit,
    "Resubmit a returned request",
    "The applicant. The request resumes at the step that returned it; that step's due time moves by the working time spent waiting."
);
simple_transition!(
    withdraw,
    "/requests/{id}/withdraw",
    Action::Withdraw,
    "Withdraw the request",
    "The applicant, only before the office has acted on it. Final."
);

/// The head of division (per the definition) reviews the letter and routes it.
#[utoipa::path(
    tag = "transitions",
    summary = "Step 2: review the letter and issue a disposition",
    params(("id" = Uuid, Path), IfMatch),
    request_body = DispositionBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "Not the current step, or a stale `version`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/disposition")]
async fn disposition(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<DispositionBody>,
) -> ApiResult<HttpResponse> {
    run(&state, &who, &req, *id, Action::complete(StepCode::Disposition), disposed(body.0)?).await
}

/// The disposition's structured output: `to_user_id` is folded into `to_user_ids`.
fn disposed(b: DispositionBody) -> ApiResult<TransitionInput> {
    let mut to = b.to_user_ids;
    if let Some(one) = b.to_user_id {
        if !to.is_empty() {
            return Err(ApiError::invalid("to_user_id", crate::msg!("disposition-both-fields")));
        }
        to.push(one);
    }
    if to.len() > 20 {
        return Err(ApiError::invalid("to_user_ids", crate::msg!("disposition-too-many", most = 20u32)));
    }
    let output = StructuredOutput::Disposition(Disposition { instructions: b.instructions, to_user_ids: to });
    Ok(TransitionInput {
        note: b.note,
        note_visibility: b.note_visibility,
        reason: b.reason,
        version: b.version,
        output: Some(output),
    })
}

/// The head of division (per the definition) names the team. Requires an `api_document`.
#[utoipa::path(
    tag = "transitions",
    summary = "Form the integration team",
    params(("id" = Uuid, Path), IfMatch),
    request_body = TeamBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "Not the current step, or a stale `version`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/team")]
async fn team(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<TeamBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let output = StructuredOutput::Team(TeamList { lead_user_id: b.lead_user_id, member_user_ids: b.member_user_ids });
    let input = TransitionInput {
        note: b.note,
        note_visibility: b.note_visibility,
        version: b.version,
        output: Some(output),
        ..Default::default()
    };
    run(&state, &who, &req, *id, Action::complete(StepCode::Team), input).await
}

/// A member of the request's team: the API program is built.
#[utoipa::path(
    tag = "transitions",
    summary = "Integration built: record the API program",
    params(("id" = Uuid, Path), IfMatch),
    request_body = IntegrationBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "Not the current step, or a stale `version`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/integration")]
async fn integration(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<IntegrationBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let output = StructuredOutput::IntegrationRecord(IntegrationRecord {
        base_url: b.base_url,
        repository_url: b.repository_url,
    });
    let input = TransitionInput {
        note: b.note,
        note_visibility: b.note_visibility,
        version: b.version,
        output: Some(output),
        ..Default::default()
    };
    run(&state, &who, &req, *id, Action::complete(StepCode::Integration), input).await
}

/// A member of the request's team. Requires a `test_report`; `failed` goes back to
/// the integration step for another round.
#[utoipa::path(
    tag = "transitions",
    summary = "Testing done: passed or failed",
    params(("id" = Uuid, Path), IfMatch),
    request_body = TestingBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "Not the current step, or a stale `version`", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/testing")]
async fn testing(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<TestingBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let output = StructuredOutput::TestResult(TestResult { result: b.result });
    let input = TransitionInput {
        note: b.note,
        note_visibility: b.note_visibility,
        version: b.version,
        output: Some(output),
        ..Default::default()
    };
    run(&state, &who, &req, *id, Action::complete(StepCode::Testing), input).await
}

/// The current step's actor, at a step that allows it (v1: steps 2–5).
#[utoipa::path(
    tag = "transitions",
    summary = "Return the request to the applicant for revision",
    params(("id" = Uuid, Path), IfMatch),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "This step cannot return, or stale", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/return")]
async fn return_to_applicant(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<ReasonBody>,
) -> ApiResult<HttpResponse> {
    run(&state, &who, &req, *id, Action::Return, reasoned(body.0)).await
}

/// The current step's actor, at a step that allows it (v1: steps 2–5). Final.
#[utoipa::path(
    tag = "transitions",
    summary = "Reject the request (final)",
    params(("id" = Uuid, Path), IfMatch),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "This step cannot reject, or stale", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/reject")]
async fn reject(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<ReasonBody>,
) -> ApiResult<HttpResponse> {
    run(&state, &who, &req, *id, Action::Reject, reasoned(body.0)).await
}

/// A role the definition's `may_cancel` names (v1: head of division, head of agency), at
/// any open step (in progress or returned). Final: status `cancelled`.
#[utoipa::path(
    tag = "transitions",
    summary = "Close the request (cancelled, final)",
    description = "E.g. when the target system is retired. A draft is the applicant's own to withdraw (409 here).",
    params(("id" = Uuid, Path), IfMatch),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "The request is a draft or already closed, or stale", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/cancel")]
async fn cancel(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<ReasonBody>,
) -> ApiResult<HttpResponse> {
    run(&state, &who, &req, *id, Action::Cancel, reasoned(body.0)).await
}

/// The current step's actor, at a step whose definition names `send_back_to` (v1: the
/// approval goes back to the discussion; a failed implementation back to integration).
/// The step closes `sent_back`; the earlier step opens in a new round with a fresh due time.
#[utoipa::path(
    tag = "transitions",
    summary = "Send the request back to an earlier step",
    params(("id" = Uuid, Path), IfMatch),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "This step cannot send back, or stale", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/send-back")]
async fn send_back(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<ReasonBody>,
) -> ApiResult<HttpResponse> {
    run(&state, &who, &req, *id, Action::SendBack, reasoned(body.0)).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"lead_user_id": "01936f5e-0000-7000-8000-0000000000c1", "member_user_ids": ["01936f5e-0000-7000-8000-0000000000c3"], "reason": "Andi dimutasi ke Bagian Umum", "version": 9}))]
pub struct TeamChangeBody {
    pub lead_user_id: Uuid,
    pub member_user_ids: Vec<Uuid>,
    /// Why the team changes; the timeline shows it.
    #[schema(min_length = 1, max_length = 4000)]
    pub reason: String,
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    /// Who may read `note`.
    #[serde(default)]
    pub note_visibility: Visibility,
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

/// The actor of the step that formed the team (v1: head of division), while the request
/// is open after the team was formed. Replaces the whole team (lead and members).
#[utoipa::path(
    tag = "transitions",
    summary = "Change the integration team",
    params(("id" = Uuid, Path), IfMatch),
    request_body = TeamChangeBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "No team yet, the request is closed, or stale", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/requests/{id}/team")]
async fn change_team(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<TeamChangeBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let output = StructuredOutput::Team(TeamList { lead_user_id: b.lead_user_id, member_user_ids: b.member_user_ids });
    let input = TransitionInput {
        note: b.note,
        note_visibility: b.note_visibility,
        reason: Some(b.reason),
        version: b.version,
        output: Some(output),
    };
    run(&state, &who, &req, *id, Action::ChangeTeam, input).await
}

/// The actor of the disposition step (v1: head of division), while a step the
/// disposition addresses is open: new addressees (at least one) and instructions.
#[utoipa::path(
    tag = "transitions",
    summary = "Re-dispose: change the disposition's addressees",
    params(("id" = Uuid, Path), IfMatch),
    request_body = DispositionBody,
    responses(
        (status = 200, description = "The request after the transition", body = RequestView, headers(("ETag" = String, description = "The request's new version"))),
        (status = 409, description = "The current step is not one the disposition addresses, or stale", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names a version the request is no longer at", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/redispose")]
async fn redispose(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: ApiJson<DispositionBody>,
) -> ApiResult<HttpResponse> {
    run(&state, &who, &req, *id, Action::Redispose, disposed(body.0)?).await
}
