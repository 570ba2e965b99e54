//! Integration requests: create and edit drafts, the one code path every SOP transition
//! takes, and the reads (one request, lists, the worklist, the catalogue).
//!
//! A transition is one write transaction: load → `workflow::decide` → close/open step
//! instances → update the request with a version compare-and-set → audit event → commit.
//! Who may act is decided by the workflow definition, never here.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::row::RequestRow;
use entity::{document, request, request_addressee, step_instance, team_member, user};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::acting::{self, Capacity};
use super::audit::{self, Actor};
use super::organizations::{self, OrganizationKind};
use super::{workflows, working_time};
use crate::auth::{Caller, Role};
use crate::calendar::{Due, SlaState, WorkingCalendar};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::i18n::{Lang, Localize, Msg};
use crate::msg;
use crate::shared::Page;
use crate::shared::cas::compare_and_set;
use crate::shared::text::{check_note, check_passage};
use crate::state::AppState;
use crate::workflow::Standing;
use crate::workflow::uploads::UploadParty;
use crate::workflow::{
    self, Action, Actor as StepActor, CurrentActor, Flow, RequestState, Round, Status, StepCode, StepDefinition,
    StructuredOutput, StructuredOutputKind, TestOutcome, Visibility, WorkflowDefinition, WorkflowError,
};

/// The request fields an applicant fills in (the letter's content).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Integrasi SIMPUS dengan Satu Data Trenggalek",
    "purpose": "Mengirim data kunjungan puskesmas harian ke portal Satu Data",
    "source_system": "SIMPUS Dinas Kesehatan",
    "target_system": "Portal Satu Data Trenggalek",
    "data_exchanged": "Jumlah kunjungan per puskesmas per hari (tanpa data pribadi)",
    "letter_number": "400.7/123/406.010/2026",
    "letter_date": "2026-11-20"
}))]
pub struct NewRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 4000)]
    pub purpose: String,
    #[schema(min_length = 1, max_length = 200)]
    pub source_system: String,
    #[schema(min_length = 1, max_length = 200)]
    pub target_system: String,
    #[schema(min_length = 1, max_length = 4000)]
    pub data_exchanged: String,
    /// The number of the request letter (Surat Permohonan).
    #[schema(min_length = 1, max_length = 100)]
    pub letter_number: String,
    /// The date on the letter; not in the future.
    pub letter_date: NaiveDate,
}

/// Changes to a draft or returned request; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"purpose": "Mengirim data kunjungan dan rujukan", "version": 1}))]
pub struct RequestUpdate {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 4000)]
    pub purpose: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub source_system: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub target_system: Option<String>,
    #[schema(min_length = 1, max_length = 4000)]
    pub data_exchanged: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub letter_number: Option<String>,
    pub letter_date: Option<NaiveDate>,
    /// The version you saw; stale → 409 (or send `If-Match`).
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

/// The step a request stands at, with its time standard applied.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrentStep {
    pub code: StepCode,
    /// The step's name in the response's language (`Content-Language`): in `id` the SOP's
    /// wording (`sop_activity`), in `en` the definition's English label.
    pub label: String,
    pub sop_activity: String,
    #[serde(skip)]
    #[schema(ignore)]
    pub(crate) labels: StepLabels,
    /// Who acts, as the definition says (the one actor shape: `{"role": …}` or `"team"`).
    #[schema(value_type = crate::workflow::Actor)]
    pub actor: crate::workflow::Actor,
    /// The people the disposition addressed this step to: when not empty, they (and who
    /// acts for them) act instead of every holder of the role.
    pub addressee_ids: Vec<Uuid>,
    pub started_at: DateTime<Utc>,
    /// From here the step shows `warning` (the target for a ranged standard; 80 % of the
    /// working time to the limit for a single one).
    pub warning_at: DateTime<Utc>,
    /// The target (SOP time standard), in the office's working time.
    pub due_at: DateTime<Utc>,
    /// The limit (equal to `due_at` unless the standard is a range like 1–2 days).
    pub limit_at: DateTime<Utc>,
    pub sla_state: SlaState,
    /// True while the request waits on the applicant: the office's clock is paused.
    pub paused: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntegrationInfo {
    pub base_url: String,
    pub repository_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f5e-0000-7000-8000-000000000001", "number": "INT/2026/0001", "flow": "external",
    "definition_version": 1, "status": "in_progress", "status_label": "Sedang diproses", "version": 3,
    "organization_id": "01936f5e-0000-7000-8000-0000000000aa",
    "title": "Integrasi SIMPUS dengan Satu Data Trenggalek", "purpose": "…", "source_system": "SIMPUS",
    "target_system": "Satu Data", "data_exchanged": "…", "letter_number": "400.7/123/406.010/2026",
    "letter_date": "2026-11-20",
    "current_step": {"code": "follow_up", "label": "Menelaah surat permohonan dan menindaklanjuti Disposisi",
        "sop_activity": "Menelaah surat permohonan dan menindaklanjuti Disposisi",
        "actor": {"role": "technical_lead"}, "addressee_ids": ["01936f5e-0000-7000-8000-0000000000c1"], "started_at": "2026-11-23T02:10:00Z", "warning_at": "2026-11-23T02:22:00Z", "due_at": "2026-11-23T02:25:00Z",
        "limit_at": "2026-11-23T02:25:00Z", "sla_state": "on_time", "paused": false},
    "test_rounds": 0, "integration": null, "created_at": "2026-11-23T01:00:00Z", "updated_at": "2026-11-23T02:10:00Z",
    "submitted_at": "2026-11-23T01:30:00Z", "closed_at": null
}))]
pub struct RequestView {
    pub id: Uuid,
    /// `INT/<year>/<nnnn>`, assigned at submission; null for a draft.
    pub number: Option<String>,
    pub flow: Flow,
    pub definition_version: i32,
    pub status: Status,
    /// `status` for a person, in the response's language (`Content-Language`), e.g.
    /// `Dikembalikan` / `Returned`.
    #[schema(example = "Sedang diproses")]
    pub status_label: String,
    /// Send it back (`version` or `If-Match`) with every change.
    pub version: i32,
    pub organization_id: Uuid,
    pub title: String,
    pub purpose: String,
    pub source_system: String,
    pub target_system: String,
    pub data_exchanged: String,
    pub letter_number: String,
    pub letter_date: NaiveDate,
    /// Null once the request is closed (rejected, withdrawn, completed).
    pub current_step: Option<CurrentStep>,
    /// How many times testing failed and sent the work back to integration.
    pub test_rounds: i32,
    pub integration: Option<IntegrationInfo>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A step's name in both languages: the SOP's Indonesian wording and the definition's
/// English label (both are the definition's, so a published revision changes both).
#[derive(Debug, Clone, Default)]
pub(crate) struct StepLabels {
    id: String,
    en: String,
}

impl StepLabels {
    pub(crate) fn of(step: &crate::workflow::StepDefinition) -> Self {
        Self { id: step.sop_activity.clone(), en: step.label.clone() }
    }

    pub(crate) fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Id => &self.id,
            Lang::En => &self.en,
        }
    }
}

impl Localize for RequestView {
    fn localize(&mut self, lang: Lang) {
        self.status_label = lang.render(&Msg::status(self.status));
        if let Some(step) = &mut self.current_step {
            step.label = step.labels.get(lang).to_owned();
        }
    }
}

/// The stored status: typed, so a value the domain does not know fails the read instead of
/// turning into something (an editable draft, say).
pub fn status_of(r: &request::Model) -> Status {
    r.status.0
}

fn step_of(r: &request::Model) -> StepCode {
    r.current_step.0
}

pub fn view(r: &request::Model, def: &WorkflowDefinition, now: DateTime<Utc>) -> RequestView {
    let status = status_of(r);
    let current_step = match (
        status.is_final(),
        def.step(step_of(r)),
        r.current_step_started_at,
        r.current_due_at,
        r.current_limit_at,
    ) {
        (false, Some(step), Some(started_at), Some(due_at), Some(limit_at)) => {
            // While returned, the SLA is frozen at the moment it was returned.
            let at = r.returned_at.unwrap_or(now);
            let warning_at = r.current_warning_at.unwrap_or(due_at);
            let due = Due { clock_started_at: started_at, warning_at, target_at: due_at, limit_at };
            let labels = StepLabels::of(step);
            Some(CurrentStep {
                code: step.code,
                label: labels.get(Lang::default()).to_owned(),
                sop_activity: step.sop_activity.clone(),
                labels,
                actor: step.actor,
                addressee_ids: Vec::new(),
                started_at,
                warning_at,
                due_at,
                limit_at,
                sla_state: due.sla_state(at),
                paused: r.returned_at.is_some(),
            })
        }
        _ => None,
    };
    RequestView {
        id: r.id,
        number: r.number.clone(),
        flow: r.flow.0,
        definition_version: def.version,
        status,
        status_label: Lang::default().render(&Msg::status(status)),
        version: r.version,
        organization_id: r.organization_id,
        title: r.title.clone(),
        purpose: r.purpose.clone(),
        source_system: r.source_system.clone(),
        target_system: r.target_system.clone(),
        data_exchanged: r.data_exchanged.clone(),
        letter_number: r.letter_number.clone(),
        letter_date: r.letter_date,
        current_step,
        test_rounds: r.test_rounds,
        integration: r
            .base_url
            .clone()
            .map(|base_url| IntegrationInfo { base_url, repository_url: r.repository_url.clone() }),
        created_at: r.created_at,
        updated_at: r.updated_at,
        submitted_at: r.submitted_at,
        closed_at: r.closed_at,
    }
}

fn check_letter_date(errors: &mut FieldErrors, date: NaiveDate, now: DateTime<Utc>) {
    let today = now.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    if date > today {
        errors.entry("letter_date".into()).or_default().push(msg!("letter-date-future"));
    }
}

/// Applicants (and their agency's systems) see their organization's requests; the
/// office's roles see all. Anything else is 404, as if it did not exist.
pub fn visible(caller: &Caller, r: &request::Model) -> bool {
    visible_in(caller, r.organization_id)
}

/// `visible` for a request of `organization_id`.
pub fn visible_in(caller: &Caller, organization_id: Uuid) -> bool {
    caller.sees_all_requests() || caller.organization_id == organization_id
}

/// A request the caller may see. Only `load_visible` and `load_for_update` make one (the
/// field is private), so a service function that takes it cannot be reached without the
/// visibility check: the capability is the proof.
#[derive(Debug, Clone)]
pub struct VisibleRequest(request::Model);

impl std::ops::Deref for VisibleRequest {
    type Target = request::Model;
    fn deref(&self) -> &request::Model {
        &self.0
    }
}

impl VisibleRequest {
    fn checked(caller: &Caller, row: Option<request::Model>) -> ApiResult<VisibleRequest> {
        row.filter(|r| visible(caller, r)).map(VisibleRequest).ok_or_else(|| ApiError::not_found("request"))
    }

    /// The row, for a change in this module's transaction.
    fn into_model(self) -> request::Model {
        self.0
    }
}

/// Like `load_visible`, inside a write transaction: on PostgreSQL the row is locked first,
/// so of racing transitions the losers wait and then see the winner's version (a clean
/// 409) instead of doing all their work before the compare-and-set refuses it. SQLite's
/// `BEGIN IMMEDIATE` already serializes writers.
pub(crate) async fn load_for_update(
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    id: Uuid,
) -> ApiResult<VisibleRequest> {
    let mut q = request::Entity::find_by_id(id);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    VisibleRequest::checked(caller, q.one(txn).await?)
}

/// `load_for_update` with the request's open step instance, in the same statement (a
/// transition closes or shifts it; reading it apart was a round trip of its own). On
/// PostgreSQL only the request's row is locked: the step is changed under that lock.
async fn load_for_transition(
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    id: Uuid,
) -> ApiResult<(VisibleRequest, Option<step_instance::Model>)> {
    let open_step: sea_orm::RelationDef = request::Entity::belongs_to(step_instance::Entity)
        .from(request::Column::CurrentStepInstanceId)
        .to(step_instance::Column::Id)
        .into();
    let mut q = request::Entity::find_by_id(id).select_also(step_instance::Entity).join(JoinType::LeftJoin, open_step);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        QueryTrait::query(&mut q).lock_with_tables(sea_orm::sea_query::LockType::Update, [request::Entity]);
    }
    let (r, inst) = match q.one(txn).await? {
        Some((r, inst)) => (Some(r), inst),
        None => (None, None),
    };
    Ok((VisibleRequest::checked(caller, r)?, inst))
}

/// The requests a query selects, decoded by `RequestRow` (cheaper on NULLs than the derived
/// decoder; `tests/blackbox/rows.rs` keeps the two equal).
/// Read on the worker's read lane (`AppState::read_all`): not for use in a transaction.
async fn rows_of(q: sea_orm::Select<request::Entity>, state: &AppState) -> ApiResult<Vec<request::Model>> {
    let statement = q.build(state.db.get_database_backend());
    decode_rows(state.read_all(statement).await?)
}

fn decode_rows(rows: Vec<sea_orm::QueryResult>) -> ApiResult<Vec<request::Model>> {
    use sea_orm::FromQueryResult;
    Ok(rows.iter().map(|r| RequestRow::from_query_result(r, "").map(|r| r.0)).collect::<Result<_, _>>()?)
}

/// The rows of several queries in one round trip: `SELECT * FROM (q0) AS k0 UNION ALL
/// SELECT * FROM (q1) AS k1 …`. Each stays a query of its own (its own `ORDER BY … LIMIT`
/// reading its own index range; both databases accept that inside a subquery), and the
/// rows come back in no particular order.
///
/// The values are written into the SQL (all are ours: statuses, actors, ids, times, the
/// limit; no text from a client), not bound. With bound values PostgreSQL plans the
/// statement again on every call, because its generic plan for "requests addressed to $1"
/// walks every addressed request (0.8 ms a call, nearly all of it planning, in
/// `docs/benchmarks.md`); with literals each connection plans a caller's worklist once
/// and keeps the plan in its prepared-statement cache until the table's statistics
/// change. (PostgreSQL only.)
async fn all_of(kinds: Vec<sea_orm::Select<request::Entity>>, state: &AppState) -> ApiResult<Vec<request::Model>> {
    use sea_orm::sea_query::{Asterisk, SelectStatement, UnionType};
    let mut branches = kinds.into_iter().enumerate().map(|(i, q)| {
        Query::select().column(Asterisk).from_subquery(q.into_query(), Alias::new(format!("k{i}"))).to_owned()
    });
    let Some(mut all): Option<SelectStatement> = branches.next() else { return Ok(Vec::new()) };
    for b in branches {
        all.union(UnionType::All, b);
    }
    let backend = state.db.get_database_backend();
    let statement = match backend {
        sea_orm::DbBackend::Postgres => {
            sea_orm::Statement::from_string(backend, all.to_string(sea_orm::sea_query::PostgresQueryBuilder))
        }
        // SQLite compares times as the text sqlx stores, which a literal would not match
        // (and it plans in microseconds anyway).
        _ => backend.build(&all),
    };
    decode_rows(state.read_all(statement).await?)
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn load_visible<C: ConnectionTrait>(db: &C, caller: &Caller, id: Uuid) -> ApiResult<VisibleRequest> {
    let row = <RequestRow as sea_orm::FromQueryResult>::find_by_statement(request_by_id(db.get_database_backend(), id))
        .one(db)
        .await?;
    VisibleRequest::checked(caller, row.map(|r| r.0))
}

/// `load_visible` outside a transaction, on the worker's read lane.
async fn load_visible_read(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<VisibleRequest> {
    let statement = request_by_id(state.db.get_database_backend(), id);
    let row = decode_rows(state.read_all(statement).await?)?.into_iter().next();
    VisibleRequest::checked(caller, row)
}

/// `SELECT <its columns> FROM requests WHERE id = $1`, its text built once per database
/// kind: sea-query building the same text on every read was ~6 % of a GET's CPU (session
/// 9's profile).
fn request_by_id(backend: sea_orm::DbBackend, id: Uuid) -> sea_orm::Statement {
    static POSTGRES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static SQLITE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = match backend {
        sea_orm::DbBackend::Postgres => &POSTGRES,
        _ => &SQLITE,
    }
    .get_or_init(|| request::Entity::find_by_id(Uuid::nil()).build(backend).sql);
    sea_orm::Statement::from_sql_and_values(backend, text.as_str(), [id.into()])
}

/// Opens a step instance with its due times from the calendar in force.
#[allow(clippy::too_many_arguments)]
async fn open_step<C: ConnectionTrait>(
    db: &C,
    calendar: &WorkingCalendar,
    request_id: Uuid,
    organization_id: Uuid,
    flow: Flow,
    step: &StepDefinition,
    actor: CurrentActor,
    round: i32,
    now: DateTime<Utc>,
) -> ApiResult<step_instance::Model> {
    let due = calendar
        .due(now, &step.time_standard)
        .map_err(|_| ApiError::internal("due time beyond the calendar's range"))?;
    let m = step_instance::ActiveModel {
        id: Set(Uuid::now_v7()),
        request_id: Set(request_id),
        organization_id: Set(Some(organization_id)),
        flow: Set(flow.into()),
        step_code: Set(step.code.into()),
        round: Set(round),
        actor: Set(actor.into()),
        time_standard: Set(step.time_standard.to_string()),
        started_at: Set(now),
        clock_started_at: Set(due.clock_started_at),
        warning_at: Set(due.warning_at),
        due_at: Set(due.target_at),
        limit_at: Set(due.limit_at),
        paused_seconds: Set(0),
        completed_at: Set(None),
        completed_by_user: Set(None),
        completed_by_client: Set(None),
        outcome: Set(None),
        note: Set(None),
        note_visibility: Set(Visibility::Public.into()),
        warning_notified_at: Set(None),
        overdue_notified_at: Set(None),
        working_seconds: Set(None),
    }
    .insert(db)
    .await?;
    Ok(m)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(state: &AppState, caller: &Caller, input: NewRequest) -> ApiResult<RequestView> {
    if !caller.has(Role::Applicant) {
        return Err(ApiError::Forbidden(msg!("request-applicants-only")));
    }
    let now = state.now();
    let mut errors = FieldErrors::new();
    check_passage(&mut errors, "title", &input.title, 200);
    check_passage(&mut errors, "purpose", &input.purpose, 4000);
    check_passage(&mut errors, "source_system", &input.source_system, 200);
    check_passage(&mut errors, "target_system", &input.target_system, 200);
    check_passage(&mut errors, "data_exchanged", &input.data_exchanged, 4000);
    check_passage(&mut errors, "letter_number", &input.letter_number, 100);
    check_letter_date(&mut errors, input.letter_date, now);
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let org = organizations::find(&state.db, caller.organization_id).await?;
    if !org.active {
        return Err(ApiError::Forbidden(msg!("organization-deactivated")));
    }
    // The flow follows who asks: an agency (OPD) → external; a Diskominfo division → internal.
    let flow = match OrganizationKind::parse(&org.kind) {
        OrganizationKind::Agency => Flow::External,
        OrganizationKind::Division => Flow::Internal,
    };
    let calendar = state.calendar();
    let txn = crate::db::begin_write(&state.db).await?;
    let published = workflows::latest(&txn, flow).await?;
    let def = &published.definition;
    let first = def.first_step().ok_or_else(|| ApiError::internal("definition without steps"))?;
    let id = Uuid::now_v7();
    // The request row first: the step instance refers to it.
    let mut r = request::ActiveModel {
        id: Set(id),
        number: Set(None),
        flow: Set(flow.into()),
        definition_id: Set(published.id),
        organization_id: Set(org.id),
        created_by_user: Set(caller.user_id()),
        created_by_client: Set(caller.client_id()),
        title: Set(input.title.trim().into()),
        purpose: Set(input.purpose.trim().into()),
        source_system: Set(input.source_system.trim().into()),
        target_system: Set(input.target_system.trim().into()),
        data_exchanged: Set(input.data_exchanged.trim().into()),
        letter_number: Set(input.letter_number.trim().into()),
        letter_date: Set(input.letter_date),
        status: Set(Status::Draft.into()),
        current_step: Set(first.code.into()),
        current_actor: Set(CurrentActor::from(first.actor).into()),
        current_step_instance_id: Set(None),
        current_step_started_at: Set(None),
        current_warning_at: Set(None),
        current_due_at: Set(None),
        current_limit_at: Set(None),
        office_has_acted: Set(false),
        returned_at: Set(None),
        test_rounds: Set(0),
        base_url: Set(None),
        repository_url: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        submitted_at: Set(None),
        closed_at: Set(None),
        working_seconds: Set(None),
        retired_at: Set(None),
        retired_by: Set(None),
        retired_reason: Set(None),
    }
    .insert(&txn)
    .await?
    .into_active_model();
    let inst = open_step(&txn, &calendar, id, org.id, flow, first, CurrentActor::from(first.actor), 1, now).await?;
    r.current_step_instance_id = Set(Some(inst.id));
    r.current_step_started_at = Set(Some(inst.started_at));
    r.current_warning_at = Set(Some(inst.warning_at));
    r.current_due_at = Set(Some(inst.due_at));
    r.current_limit_at = Set(Some(inst.limit_at));
    let r = r.update(&txn).await?;
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "request.created",
        "request",
        id,
        serde_json::json!({"flow": flow, "definition_version": def.version, "title": r.title, "letter_number": r.letter_number}),
    )
    .await?;
    txn.commit().await?;
    Ok(view(&r, def, now))
}

use sea_orm::IntoActiveModel;

fn wf_error(e: WorkflowError) -> ApiError {
    use crate::workflow::{Actor as StepActor, ConflictReason as C, ForbiddenReason as F};
    match e {
        WorkflowError::Forbidden { step, reason } => {
            let reason = match reason {
                F::Auditor => msg!("wf-reason-auditor"),
                F::NotApplicant => msg!("wf-reason-not-applicant"),
                F::NotActor { actor: StepActor::Team } => msg!("wf-reason-not-team"),
                F::NotActor { actor } => msg!("wf-reason-not-actor", actor = actor.to_string()),
                F::NotAddressee => msg!("wf-reason-not-addressee"),
                F::MayNotCancel => msg!("wf-reason-may-not-cancel"),
                F::ConflictOfInterest => msg!("wf-reason-conflict-of-interest"),
            };
            ApiError::Forbidden(msg!("wf-forbidden", step = step, reason = reason))
        }
        WorkflowError::Conflict { status, step, reason } => {
            let reason = match reason {
                C::Closed => msg!("wf-reason-closed"),
                C::WrongStatus => msg!("wf-reason-wrong-status"),
                C::NotCurrentStep { requested } => msg!("wf-reason-not-current-step", requested = requested),
                C::StepNotInFlow { requested } => msg!("wf-reason-step-not-in-flow", requested = requested),
                C::NotReturnable => msg!("wf-reason-not-returnable"),
                C::NotRejectable => msg!("wf-reason-not-rejectable"),
                C::OfficeHasActed => msg!("wf-reason-office-has-acted"),
                C::NoSendBack => msg!("wf-reason-no-send-back"),
                C::NoTeamYet => msg!("wf-reason-no-team-yet"),
                C::NotAddressed => msg!("wf-reason-not-addressed"),
                C::BrokenState => msg!("wf-reason-broken-state"),
            };
            ApiError::Conflict(msg!("wf-conflict", status = status.as_str(), step = step, reason = reason))
        }
        WorkflowError::MissingOutputs { step, documents, outputs } => {
            let mut errors = FieldErrors::new();
            if !documents.is_empty() {
                errors.insert(
                    "documents".into(),
                    documents.iter().map(|d| msg!("wf-document-required", kind = *d)).collect(),
                );
            }
            for o in &outputs {
                errors
                    .entry(output_field(*o).into())
                    .or_default()
                    .push(msg!("wf-output-required", kind = o.to_string()));
            }
            let what = documents
                .iter()
                .map(|d| msg!("wf-missing-document", kind = *d))
                .chain(outputs.iter().map(|o| Msg::Text(format!("`{o}`"))))
                .collect();
            ApiError::Unprocessable { detail: msg!("wf-missing", step = step, what = Msg::List(what)), errors }
        }
    }
}

/// The body field that carries a structured output.
fn output_field(kind: StructuredOutputKind) -> &'static str {
    match kind {
        StructuredOutputKind::Disposition => "instructions",
        StructuredOutputKind::Team => "lead_user_id",
        StructuredOutputKind::IntegrationRecord => "base_url",
        StructuredOutputKind::TestResult => "result",
    }
}

/// Someone whose standing the workflow judges: the caller, or an official they act for.
struct Subject {
    user_id: Option<Uuid>,
    roles: Vec<Role>,
    organization_id: Uuid,
}

impl Subject {
    fn of(caller: &Caller) -> Self {
        Subject { user_id: caller.user_id(), roles: caller.roles.clone(), organization_id: caller.organization_id }
    }

    fn acting(c: &Capacity) -> Self {
        Subject { user_id: c.for_user_id, roles: c.roles.clone(), organization_id: c.organization_id }
    }
}

/// The people a request's disposition is addressed to (empty: nobody by name).
pub(crate) async fn addressees_of<C: ConnectionTrait>(db: &C, request_id: Uuid) -> ApiResult<Vec<Uuid>> {
    Ok(request_addressee::Entity::find()
        .filter(request_addressee::Column::RequestId.eq(request_id))
        .order_by_asc(request_addressee::Column::UserId)
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.user_id)
        .collect())
}

async fn on_team<C: ConnectionTrait>(db: &C, request_id: Uuid, user_id: Option<Uuid>) -> ApiResult<bool> {
    let Some(uid) = user_id else { return Ok(false) };
    Ok(team_member::Entity::find_by_id((request_id, uid)).one(db).await?.is_some())
}

/// What the workflow needs to know about a request besides its state, to judge a caller.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// Whether team membership can matter (it costs a query per capacity).
    pub asks_team: bool,
    /// The disposition's addressees (empty: nobody by name).
    pub addressees: Vec<Uuid>,
    /// The organization the definition routes office work to (`office_division`).
    pub division: Option<Uuid>,
}

/// The organization a definition's `office_division` names. A code no organization has
/// routes the work to nobody (publishing checks the code exists).
pub(crate) async fn division_of<C: ConnectionTrait>(db: &C, def: &WorkflowDefinition) -> ApiResult<Option<Uuid>> {
    let Some(code) = def.office_division.as_deref() else { return Ok(None) };
    let org = entity::organization::Entity::find().filter(entity::organization::Column::Code.eq(code)).one(db).await?;
    Ok(Some(org.map_or(Uuid::nil(), |o| o.id)))
}

async fn standing_of<C: ConnectionTrait>(
    db: &C,
    r: &request::Model,
    subject: &Subject,
    facts: &Facts,
) -> ApiResult<workflow::Caller> {
    let addressees = &facts.addressees;
    Ok(workflow::Caller {
        roles: subject.roles.clone(),
        in_applicant_organization: subject.organization_id == r.organization_id,
        on_team: facts.asks_team && on_team(db, r.id, subject.user_id).await?,
        addressee: (!addressees.is_empty()).then(|| subject.user_id.is_some_and(|u| addressees.contains(&u))),
        in_office_division: facts.division.is_none_or(|d| d == subject.organization_id),
    })
}

/// What the workflow says about the caller: `judge` as themselves, then, if that is
/// refused as not theirs (`refused`), as each official they act for now (Plt, Plh,
/// delegation): the first capacity that is allowed wins and is returned for the record.
/// Someone applying for the request never acts on it for anyone (conflict of interest).
pub(crate) async fn judged<C: ConnectionTrait, T, E>(
    db: &C,
    caller: &Caller,
    r: &request::Model,
    facts: &Facts,
    now: DateTime<Utc>,
    judge: impl Fn(&workflow::Caller) -> Result<T, E>,
    refused: impl Fn(&E) -> bool,
) -> ApiResult<Result<(T, Option<Capacity>), E>> {
    let own = standing_of(db, r, &Subject::of(caller), facts).await?;
    let first = match judge(&own) {
        Ok(t) => return Ok(Ok((t, None))),
        Err(e) => e,
    };
    // Nobody acts for anyone on a request they apply for, and the read-only auditor acts
    // for nobody.
    let applies = own.in_applicant_organization && caller.has(Role::Applicant);
    if !refused(&first) || applies || caller.has(Role::Auditor) {
        return Ok(Err(first));
    }
    let Some(uid) = caller.user_id() else { return Ok(Err(first)) };
    for capacity in acting::capacities(db, uid, now).await? {
        // Nor for an official who applies for this request.
        if capacity.applicant_of == Some(r.organization_id) {
            continue;
        }
        let standing = standing_of(db, r, &Subject::acting(&capacity), facts).await?;
        if let Ok(t) = judge(&standing) {
            return Ok(Ok((t, Some(capacity))));
        }
    }
    Ok(Err(first))
}

fn state_of(r: &request::Model) -> RequestState {
    RequestState { status: status_of(r), current_step: step_of(r), office_has_acted: r.office_has_acted }
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    input: RequestUpdate,
    if_match: Option<i32>,
) -> ApiResult<RequestView> {
    let now = state.now();
    let mut errors = FieldErrors::new();
    for (field, value, max) in [
        ("title", &input.title, 200),
        ("purpose", &input.purpose, 4000),
        ("source_system", &input.source_system, 200),
        ("target_system", &input.target_system, 200),
        ("data_exchanged", &input.data_exchanged, 4000),
        ("letter_number", &input.letter_number, 100),
    ] {
        if let Some(v) = value {
            check_passage(&mut errors, field, v, max);
        }
    }
    if let Some(d) = input.letter_date {
        check_letter_date(&mut errors, d, now);
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let r = load_for_update(&txn, caller, id).await?;
    let published = workflows::by_id(&txn, r.definition_id).await?;
    let def = &published.definition;
    let asks_team = workflow::asks_team_membership(def, &state_of(&r), &Action::Edit);
    let edit = |who: &workflow::Caller| workflow::decide(def, &state_of(&r), &Action::Edit, who, &Default::default());
    let facts = Facts { asks_team, ..Default::default() };
    judged(&txn, caller, &r, &facts, now, edit, |_| false).await?.map_err(wf_error)?;
    super::check_preconditions(r.version, if_match, input.version)?;
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let version = r.version;
    let mut am = r.clone().into_model().into_active_model();
    let mut changed = serde_json::Map::new();
    macro_rules! apply {
        ($field:ident) => {
            if let Some(v) = input.$field {
                let v = v.trim().to_owned();
                changed.insert(stringify!($field).into(), serde_json::json!({"from": r.$field, "to": v}));
                am.$field = Set(v);
            }
        };
    }
    apply!(title);
    apply!(purpose);
    apply!(source_system);
    apply!(target_system);
    apply!(data_exchanged);
    apply!(letter_number);
    if let Some(d) = input.letter_date {
        changed.insert("letter_date".into(), serde_json::json!({"from": r.letter_date, "to": d}));
        am.letter_date = Set(d);
    }
    am.version = Set(version + 1);
    am.updated_at = Set(now);
    let updated =
        compare_and_set(&txn, am, (request::Column::Id, id), (request::Column::Version, version), "request").await?;
    audit::append(&txn, now, Actor::from(caller), "request.edited", "request", id, serde_json::Value::Object(changed))
        .await?;
    txn.commit().await?;
    with_addressees(&state.db, &updated, view(&updated, def, now)).await
}

/// The limits the spec states for a transition's body, checked before anything else: a
/// body outside them is 422, whatever the request's state or the caller's preconditions.
fn check_transition_input(input: &TransitionInput) -> ApiResult<()> {
    const TEXT_MAX: usize = 4000;
    let mut errors = FieldErrors::new();
    check_note(&mut errors, "note", input.note.as_deref(), TEXT_MAX);
    check_note(&mut errors, "reason", input.reason.as_deref(), TEXT_MAX);
    if input.reason.as_deref().is_some_and(str::is_empty) {
        errors.entry("reason".into()).or_default().push(msg!("reason-required"));
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::invalid_fields(errors)) }
}

/// What a transition call brought, already parsed by the route.
#[derive(Debug, Default)]
pub struct TransitionInput {
    pub note: Option<String>,
    /// Who may read `note` (`reason` is always public: the applicant must learn why).
    pub note_visibility: Visibility,
    pub reason: Option<String>,
    pub version: Option<i32>,
    pub output: Option<StructuredOutput<Uuid>>,
}

/// Assigns the next registration number of the year, gap-free: an upsert on the
/// year's counter inside the submitting transaction, so a rolled-back submit gives its
/// number back and two concurrent submits cannot take the same one.
async fn next_number<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> ApiResult<String> {
    let year = now.with_timezone(&chrono_tz::Asia::Jakarta).year();
    let table = Alias::new("request_numbers");
    let last = Alias::new("last");
    let stmt = Query::insert()
        .into_table(table.clone())
        .columns([Alias::new("year"), last.clone()])
        .values_panic([year.into(), 1.into()])
        .on_conflict(
            OnConflict::column(Alias::new("year"))
                .value(last.clone(), Expr::col((table, last.clone())).add(1))
                .to_owned(),
        )
        .returning_col(last)
        .to_owned();
    let row = db.query_one(&stmt).await?.ok_or_else(|| ApiError::internal("the number counter returned nothing"))?;
    let n: i32 = row.try_get("", "last")?;
    Ok(format!("INT/{year}/{n:04}"))
}

/// Checks what only the database can: the people named in a disposition or a team exist,
/// may serve, and belong to the division the flow is routed to (if it names one).
async fn check_output_people<C: ConnectionTrait>(
    db: &C,
    output: &StructuredOutput<Uuid>,
    division: Option<Uuid>,
) -> ApiResult<()> {
    let (ids, field, allowed): (Vec<Uuid>, &str, &[Role]) = match output {
        StructuredOutput::Disposition(d) if d.to_user_ids.is_empty() => return Ok(()),
        StructuredOutput::Disposition(d) => {
            (d.to_user_ids.clone(), "to_user_ids", &[Role::TechnicalLead, Role::TechnicalStaff, Role::HeadOfDivision])
        }
        StructuredOutput::Team(t) => {
            let mut ids = vec![t.lead_user_id];
            ids.extend(&t.member_user_ids);
            (ids, "member_user_ids", &[Role::TechnicalLead, Role::TechnicalStaff])
        }
        _ => return Ok(()),
    };
    let found = user::Entity::find().filter(user::Column::Id.is_in(ids.clone())).all(db).await?;
    for id in ids {
        let ok = found
            .iter()
            .find(|u| u.id == id)
            .is_some_and(|u| u.active && super::users::roles_of(u).iter().any(|r| allowed.contains(r)));
        if !ok {
            let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
            return Err(ApiError::invalid(field, msg!("named-user-not-holder", id = id, roles = names.join(" / "))));
        }
        if let Some(d) = division
            && !found.iter().any(|u| u.id == id && u.organization_id == d)
        {
            return Err(ApiError::invalid(field, msg!("named-user-other-division", id = id)));
        }
    }
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id, action = ?action))]
pub async fn transition(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: Action,
    input: TransitionInput,
    if_match: Option<i32>,
) -> ApiResult<RequestView> {
    if action == Action::Edit {
        return Err(ApiError::internal("an edit is not a transition; use `update`"));
    }
    check_transition_input(&input)?;
    let now = state.now();
    let calendar = state.calendar();
    let txn = crate::db::begin_write(&state.db).await?;
    let (r, open_inst) = load_for_transition(&txn, caller, id).await?;
    let published = workflows::by_id(&txn, r.definition_id).await?;
    let def = &published.definition;
    // What the step's actor uploaded while it was current: an applicant's revision of a
    // returned request never stands in for what the office must produce.
    let current_docs: Vec<document::Model> = match r.current_step_instance_id {
        Some(inst) => {
            document::Entity::find()
                .filter(document::Column::StepInstanceId.eq(inst))
                .filter(document::Column::UploadedAs.eq(UploadParty::Actor.as_str()))
                .all(&txn)
                .await?
        }
        None => Vec::new(),
    };
    let mut outputs: HashSet<StructuredOutputKind> = HashSet::new();
    if let Some(o) = &input.output {
        outputs.insert(o.kind());
    }
    let test_passed = match &input.output {
        Some(StructuredOutput::TestResult(t)) => Some(t.result == TestOutcome::Passed),
        _ => None,
    };
    let action = action.with_test_verdict(test_passed);
    let before = state_of(&r);
    let current = def.step(before.current_step);
    let mut evidence = workflow::Evidence::new(current_docs.iter().map(|d| d.kind.0), outputs);
    if current.is_some_and(|s| !s.accept_from_earlier.is_empty()) {
        evidence = evidence.with_earlier(earlier_documents(&txn, &r).await?);
    }
    // The addressees matter from the disposition on (a step they act on may be current
    // or open next, or again after a send-back).
    let disposed = def.steps.iter().position(|s| s.structured_outputs.contains(&StructuredOutputKind::Disposition));
    let addressees = if def.steps.iter().any(|s| s.actor_from_disposition)
        && disposed.is_some_and(|d| def.position(before.current_step).is_some_and(|c| c > d))
    {
        addressees_of(&txn, id).await?
    } else {
        Vec::new()
    };
    let named = match &input.output {
        Some(StructuredOutput::Disposition(d)) => Some(d.to_user_ids.as_slice()),
        _ => None,
    };
    if action == Action::Redispose && named.is_none_or(<[Uuid]>::is_empty) {
        return Err(ApiError::invalid("to_user_ids", msg!("disposition-no-addressee")));
    }
    let standing = Standing {
        state: before,
        test_rounds: r.test_rounds,
        addressed: named.map_or(!addressees.is_empty(), |n| !n.is_empty()),
    };
    let facts = Facts {
        asks_team: workflow::asks_team_membership(def, &before, &action),
        addressees,
        division: division_of(&txn, def).await?,
    };
    let judge = |who: &workflow::Caller| workflow::plan(def, &standing, &action, who, &evidence);
    let forbidden = |e: &WorkflowError| matches!(e, WorkflowError::Forbidden { .. });
    let (plan, acting) = judged(&txn, caller, &r, &facts, now, judge, forbidden).await?.map_err(wf_error)?;
    let addressees = facts.addressees;
    let decision = plan.decision;
    // The body's own rules, once the caller is known to be allowed, before any
    // precondition: an invalid body is 422 whatever version it names.
    if let Some(o) = &input.output {
        o.validate().map_err(|e| ApiError::invalid(output_field(o.kind()), e.to_string()))?;
    }
    // Only now: a stale version is a conflict.
    super::check_preconditions(r.version, if_match, input.version)?;
    if let Some(o) = &input.output {
        check_output_people(&txn, o, facts.division).await?;
    }
    if plan.reason_required && input.reason.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(ApiError::invalid("reason", msg!("reason-required")));
    }

    let version = r.version;
    let mut am = r.clone().into_model().into_active_model();
    let mut details = serde_json::json!({
        "from": {"status": before.status, "step": before.current_step},
        "to": {"status": decision.status, "step": decision.current_step},
        "definition_version": def.version,
        "note": input.note,
        "note_visibility": input.note_visibility,
        "reason": input.reason,
        "output": input.output,
        "documents": current_docs.iter().map(|d| serde_json::json!({
            "id": d.id, "kind": d.kind, "kind_version": d.kind_version, "filename": d.filename, "sha256": d.sha256
        })).collect::<Vec<_>>(),
    });

    if let Some(capacity) = &acting {
        details["acting_for"] = capacity.record();
        details["acting_kind"] = serde_json::json!(capacity.kind);
    }

    // A pause still running (the request is with the applicant) when a step or the request ends.
    let waiting = r.returned_at.map_or(0, |t| calendar.elapsed_seconds(t, now));
    // The step's record keeps the reason when there is one (the applicant must read it),
    // else the note with its visibility.
    let (step_note, step_note_visibility) = match (&input.reason, &input.note) {
        (Some(reason), _) => (Some(reason.clone()), Visibility::Public),
        (None, note) => (note.clone(), input.note_visibility),
    };
    // Close the current step instance when the plan ends it, measuring its working
    // duration once, now.
    if let (Some(outcome), Some(inst_id)) = (plan.closes_step, r.current_step_instance_id) {
        let inst = open_inst.as_ref().ok_or_else(|| ApiError::internal("the current step instance is missing"))?;
        let working = working_time::of_step(&calendar, inst, now, waiting);
        step_instance::Entity::update_many()
            .col_expr(step_instance::Column::CompletedAt, Expr::value(now))
            .col_expr(step_instance::Column::CompletedByUser, Expr::value(caller.user_id()))
            .col_expr(step_instance::Column::CompletedByClient, Expr::value(caller.client_id()))
            .col_expr(step_instance::Column::Outcome, Expr::value(outcome.as_str()))
            .col_expr(step_instance::Column::Note, Expr::value(step_note.clone()))
            .col_expr(step_instance::Column::NoteVisibility, Expr::value(step_note_visibility.as_str()))
            .col_expr(step_instance::Column::WorkingSeconds, Expr::value(working))
            .filter(step_instance::Column::Id.eq(inst_id))
            .exec(&txn)
            .await?;
    }

    match (plan.pauses_clock, plan.resumes_clock) {
        (true, _) => {
            am.returned_at = Set(Some(now));
        }
        (_, true) => {
            // The office's clock stood still while the applicant revised: move the due times.
            if let Some(returned_at) = r.returned_at {
                let waited = calendar.elapsed_seconds(returned_at, now);
                if let Some(inst) = open_inst.clone() {
                    let due = Due {
                        clock_started_at: inst.clock_started_at,
                        warning_at: inst.warning_at,
                        target_at: inst.due_at,
                        limit_at: inst.limit_at,
                    };
                    let shifted =
                        calendar.shift(&due, waited).map_err(|_| ApiError::internal("due time beyond the calendar"))?;
                    let mut ia = inst.clone().into_active_model();
                    ia.warning_at = Set(shifted.warning_at);
                    ia.due_at = Set(shifted.target_at);
                    ia.limit_at = Set(shifted.limit_at);
                    ia.paused_seconds = Set(inst.paused_seconds + waited);
                    ia.update(&txn).await?;
                    am.current_warning_at = Set(Some(shifted.warning_at));
                    am.current_due_at = Set(Some(shifted.target_at));
                    am.current_limit_at = Set(Some(shifted.limit_at));
                    details["paused_working_seconds"] = waited.into();
                }
            }
            am.returned_at = Set(None);
        }
        _ => {}
    }
    if plan.assigns_number {
        let number = next_number(&txn, now).await?;
        details["number"] = number.clone().into();
        am.number = Set(Some(number));
        am.submitted_at = Set(Some(now));
    }
    am.office_has_acted = Set(plan.office_has_acted);
    let mut team_before: Vec<Uuid> = Vec::new();
    match &input.output {
        Some(StructuredOutput::Team(t)) => {
            if action == Action::ChangeTeam {
                let before =
                    team_member::Entity::find().filter(team_member::Column::RequestId.eq(id)).all(&txn).await?;
                details["team_before"] = before
                    .iter()
                    .map(|m| serde_json::json!({"user_id": m.user_id, "is_lead": m.is_lead}))
                    .collect::<Vec<_>>()
                    .into();
                team_before = before.iter().map(|m| m.user_id).collect();
                team_member::Entity::delete_many().filter(team_member::Column::RequestId.eq(id)).exec(&txn).await?;
            }
            let mut members = vec![(t.lead_user_id, true)];
            members.extend(t.member_user_ids.iter().map(|u| (*u, false)));
            // One statement for the whole team.
            team_member::Entity::insert_many(members.into_iter().map(|(user_id, is_lead)| team_member::ActiveModel {
                request_id: Set(id),
                user_id: Set(user_id),
                is_lead: Set(is_lead),
                added_at: Set(now),
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        Some(StructuredOutput::IntegrationRecord(rec)) => {
            am.base_url = Set(Some(rec.base_url.clone()));
            am.repository_url = Set(rec.repository_url.clone());
        }
        Some(StructuredOutput::Disposition(d)) => {
            if action == Action::Redispose {
                details["addressees_before"] = serde_json::json!(addressees);
            }
            request_addressee::Entity::delete_many()
                .filter(request_addressee::Column::RequestId.eq(id))
                .exec(&txn)
                .await?;
            if !d.to_user_ids.is_empty() {
                request_addressee::Entity::insert_many(d.to_user_ids.iter().map(|&user_id| {
                    request_addressee::ActiveModel { request_id: Set(id), user_id: Set(user_id), added_at: Set(now) }
                }))
                .exec_without_returning(&txn)
                .await?;
            }
        }
        _ => {}
    }
    // A re-disposition hands the open step to the new addressees.
    if decision.event == workflow::EventKind::Redisposed
        && let Some(inst_id) = r.current_step_instance_id
    {
        step_instance::Entity::update_many()
            .col_expr(step_instance::Column::Actor, Expr::value(plan.next_actor.to_string()))
            .filter(step_instance::Column::Id.eq(inst_id))
            .exec(&txn)
            .await?;
    }
    am.test_rounds = Set(plan.test_rounds);
    if let (Some(started), Some(round)) = (decision.started_step, plan.opens_round) {
        let step = def.step(started).ok_or_else(|| ApiError::internal("decision names an unknown step"))?;
        let round = match round {
            Round::Number(n) => n,
            Round::NextOfStep => {
                let rounds = step_instance::Entity::find()
                    .filter(step_instance::Column::RequestId.eq(id))
                    .filter(step_instance::Column::StepCode.eq(started.as_str()))
                    .count(&txn)
                    .await?;
                i32::try_from(rounds).unwrap_or(i32::MAX - 1) + 1
            }
        };
        let inst =
            open_step(&txn, &calendar, id, r.organization_id, r.flow.0, step, plan.next_actor, round, now).await?;
        am.current_step_instance_id = Set(Some(inst.id));
        am.current_step_started_at = Set(Some(inst.started_at));
        am.current_warning_at = Set(Some(inst.warning_at));
        am.current_due_at = Set(Some(inst.due_at));
        am.current_limit_at = Set(Some(inst.limit_at));
    }
    am.current_actor = Set(plan.next_actor.into());
    if decision.status.is_final() {
        am.closed_at = Set(Some(now));
        if let Some(submitted_at) = r.submitted_at {
            let waited = working_time::paused_total(&txn, id).await? + waiting;
            am.working_seconds = Set(Some(working_time::of_request(&calendar, submitted_at, now, waited)));
        }
        am.current_step_instance_id = Set(None);
        am.current_warning_at = Set(None);
        am.current_due_at = Set(None);
        am.current_limit_at = Set(None);
    }
    am.status = Set(decision.status.into());
    am.current_step = Set(decision.current_step.into());
    am.version = Set(version + 1);
    am.updated_at = Set(now);
    let updated =
        compare_and_set(&txn, am, (request::Column::Id, id), (request::Column::Version, version), "request").await?;
    audit::append(&txn, now, Actor::from(caller), &format!("request.{}", decision.event), "request", id, details)
        .await?;
    let team_change = match &input.output {
        Some(StructuredOutput::Team(t)) => {
            let after: Vec<Uuid> = std::iter::once(t.lead_user_id).chain(t.member_user_ids.iter().copied()).collect();
            Some((team_before, after))
        }
        _ => None,
    };
    // The disposition's addressees after the transition: those it names, else as they were.
    let addressees = named.map_or(addressees, <[Uuid]>::to_vec);
    super::notify::after_transition(
        &txn,
        state,
        now,
        def,
        facts.division,
        &addressees,
        &r,
        &updated,
        decision.event,
        caller,
        input.reason.as_deref(),
        team_change,
    )
    .await?;
    txn.commit().await?;
    let mut out = view(&updated, def, now);
    if let Some(step) = out.current_step.as_mut()
        && updated.current_actor.0 == CurrentActor::Addressees
    {
        step.addressee_ids = addressees;
    }
    Ok(out)
}

/// Kinds of the documents uploaded on the request's earlier steps, each by its step's
/// actor (what `accept_from_earlier` may count).
async fn earlier_documents<C: ConnectionTrait>(db: &C, r: &request::Model) -> ApiResult<Vec<workflow::DocumentKind>> {
    let mut q = document::Entity::find()
        .filter(document::Column::RequestId.eq(r.id))
        .filter(document::Column::UploadedAs.eq(UploadParty::Actor.as_str()));
    if let Some(current) = r.current_step_instance_id {
        q = q.filter(document::Column::StepInstanceId.ne(current));
    }
    Ok(q.all(db).await?.into_iter().map(|d| d.kind.0).collect())
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn get(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<RequestView> {
    let r = load_visible_read(state, caller, id).await?;
    let reads = state.reads();
    let published = workflows::by_id(&reads, r.definition_id).await?;
    let def = &published.definition;
    with_addressees(&reads, &r, view(&r, def, state.now())).await
}

/// The view with its step's addressees, when the step is theirs.
async fn with_addressees<C: ConnectionTrait>(
    db: &C,
    r: &request::Model,
    mut out: RequestView,
) -> ApiResult<RequestView> {
    if r.current_actor.0 == CurrentActor::Addressees
        && let Some(step) = out.current_step.as_mut()
    {
        step.addressee_ids = addressees_of(db, r.id).await?;
    }
    Ok(out)
}

#[derive(Debug, Default)]
pub struct RequestFilter {
    pub status: Option<Status>,
    pub flow: Option<Flow>,
    pub organization_id: Option<Uuid>,
    pub current_step: Option<StepCode>,
    pub overdue: Option<bool>,
    pub q: Option<String>,
}

/// Views of many requests; definitions are loaded once per distinct id.
async fn views(state: &AppState, rows: Vec<request::Model>) -> ApiResult<Vec<RequestView>> {
    let now = state.now();
    let reads = state.reads();
    let mut defs: std::collections::HashMap<Uuid, std::sync::Arc<workflows::PublishedDefinition>> = Default::default();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = defs.entry(r.definition_id) {
            slot.insert(workflows::by_id(&reads, r.definition_id).await?);
        }
        out.push(view(r, &defs[&r.definition_id].definition, now));
    }
    // The addressees of the rows whose step is theirs, in one query.
    let addressed: Vec<Uuid> = rows
        .iter()
        .filter(|r| !status_of(r).is_final() && r.current_actor.0 == CurrentActor::Addressees)
        .map(|r| r.id)
        .collect();
    if !addressed.is_empty() {
        let rows = request_addressee::Entity::find()
            .filter(request_addressee::Column::RequestId.is_in(addressed))
            .order_by_asc(request_addressee::Column::UserId)
            .all(&reads)
            .await?;
        for v in &mut out {
            if let Some(step) = v.current_step.as_mut() {
                step.addressee_ids.extend(rows.iter().filter(|a| a.request_id == v.id).map(|a| a.user_id));
            }
        }
    }
    Ok(out)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: RequestFilter,
    limit: u64,
    after: Option<Uuid>,
) -> ApiResult<Page<RequestView>> {
    let now = state.now();
    let mut q = request::Entity::find().order_by_desc(request::Column::Id).limit(limit + 1);
    if !caller.sees_all_requests() {
        q = q.filter(request::Column::OrganizationId.eq(caller.organization_id));
    }
    if let Some(s) = f.status {
        q = q.filter(request::Column::Status.eq(s.as_str()));
    }
    if let Some(fl) = f.flow {
        q = q.filter(request::Column::Flow.eq(fl.as_str()));
    }
    if let Some(o) = f.organization_id {
        q = q.filter(request::Column::OrganizationId.eq(o));
    }
    if let Some(s) = f.current_step {
        q = q.filter(request::Column::CurrentStep.eq(s.as_str()));
    }
    match f.overdue {
        Some(true) => {
            q = q
                .filter(request::Column::Status.eq(Status::InProgress.as_str()))
                .filter(request::Column::CurrentLimitAt.lt(now))
        }
        Some(false) => {
            q = q.filter(
                Condition::any()
                    .add(request::Column::Status.ne(Status::InProgress.as_str()))
                    .add(request::Column::CurrentLimitAt.gte(now)),
            )
        }
        None => {}
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.to_lowercase().replace(['\\', '%', '_'], ""));
        q = q.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col((request::Entity, request::Column::Title)))).like(pattern.clone()),
                )
                .add(Expr::expr(Func::lower(Expr::col((request::Entity, request::Column::Number)))).like(pattern)),
        );
    }
    if let Some(after) = after {
        q = q.filter(request::Column::Id.lt(after));
    }
    let (rows, next_cursor) =
        crate::shared::page::cut(rows_of(q, state).await?, limit, |r| crate::shared::page::encode_cursor(r.id));
    Ok(Page { items: views(state, rows).await?, next_cursor })
}

/// The caller's worklist: requests whose current step the caller may act on, most urgent
/// (earliest limit) first. Applicants: their organization's drafts and returned requests.
/// A page at a time: `after` is the last request of the page before, and the next page
/// starts after its place in that order (a request that moved meanwhile moves its place).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn tasks(state: &AppState, caller: &Caller, limit: u64, after: Option<Uuid>) -> ApiResult<Page<RequestView>> {
    // Where the page starts: (limit time, id) of the cursor's request. Requests without a
    // limit (drafts) come first, as `Option` orders. A cursor naming no request is a place
    // among those, as every cursor is a position.
    let place = match after {
        Some(id) => {
            let limit_at = request::Entity::find_by_id(id)
                .select_only()
                .column(request::Column::CurrentLimitAt)
                .into_tuple::<Option<DateTime<Utc>>>()
                .one(&state.db)
                .await?
                .flatten();
            Some((limit_at, id))
        }
        None => None,
    };
    let after_place = place.map(|(limit_at, id)| match limit_at {
        Some(l) => Condition::any()
            .add(request::Column::CurrentLimitAt.gt(l))
            .add(Condition::all().add(request::Column::CurrentLimitAt.eq(l)).add(request::Column::Id.gt(id))),
        None => Condition::any()
            .add(request::Column::CurrentLimitAt.is_not_null())
            .add(Condition::all().add(request::Column::CurrentLimitAt.is_null()).add(request::Column::Id.gt(id))),
    });
    // One `ORDER BY current_limit_at, id LIMIT n` query per kind of work, sent together in
    // one statement (`all_of`) and merged here: each reads one index range and stops at
    // `limit`, where a single query OR-ing them made PostgreSQL scan and sort (or re-run the
    // team subquery per row: seconds at a million requests, docs/benchmarks.md "Load"). The
    // kinds are disjoint by status and actor.
    let most_urgent = |mut q: sea_orm::Select<request::Entity>| {
        if let Some(c) = after_place.clone() {
            q = q.filter(c);
        }
        q.order_by_asc(request::Column::CurrentLimitAt).order_by_asc(request::Column::Id).limit(limit + 1)
    };
    let in_progress = || request::Entity::find().filter(request::Column::Status.eq(Status::InProgress.as_str()));
    let mut kinds = Vec::new();
    if caller.has(Role::Applicant) {
        for status in [Status::Draft, Status::Returned] {
            let q = request::Entity::find()
                .filter(request::Column::OrganizationId.eq(caller.organization_id))
                .filter(request::Column::Status.eq(status.as_str()));
            kinds.push(most_urgent(q));
        }
    }
    // The caller's own work, then the work of every official they act for now.
    let mut subjects = vec![Subject::of(caller)];
    if let Some(uid) = caller.user_id() {
        subjects.extend(acting::capacities(&state.reads(), uid, state.now()).await?.iter().map(Subject::acting));
    }
    // Each (role, organization) once: a divisional role reaches only the flows routed to
    // its holder's division.
    let mut held: Vec<(Role, Uuid)> =
        subjects.iter().flat_map(|s| s.roles.iter().map(|r| (*r, s.organization_id))).collect();
    held.sort();
    held.dedup();
    // Which definitions each organization's divisional roles serve, read once per
    // organization (it loads every published definition).
    let mut routed: std::collections::HashMap<Uuid, Option<Vec<Uuid>>> = Default::default();
    for (role, organization_id) in held.into_iter().filter(|(r, _)| !matches!(r, Role::Applicant | Role::Auditor)) {
        let mut q = in_progress()
            .filter(request::Column::CurrentActor.eq(CurrentActor::Step(StepActor::Role(role)).to_string()));
        if role.is_divisional() {
            let ids = match routed.entry(organization_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(workflows::routed_to(&state.reads(), organization_id).await?)
                }
            };
            if let Some(ids) = ids {
                q = q.filter(request::Column::DefinitionId.is_in(ids.clone()));
            }
        }
        kinds.push(most_urgent(q));
    }
    for uid in subjects.iter().filter_map(|s| s.user_id) {
        let q = in_progress()
            .filter(request::Column::CurrentActor.eq(CurrentActor::Step(StepActor::Team).to_string()))
            .filter(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(team_member::Entity)
                    .and_where(
                        Expr::col((team_member::Entity, team_member::Column::RequestId))
                            .equals((request::Entity, request::Column::Id)),
                    )
                    .and_where(Expr::col((team_member::Entity, team_member::Column::UserId)).eq(uid))
                    .to_owned(),
            ));
        kinds.push(most_urgent(q));
        let q = in_progress().filter(request::Column::CurrentActor.eq(CurrentActor::Addressees.to_string())).filter(
            Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(request_addressee::Entity)
                    .and_where(
                        Expr::col((request_addressee::Entity, request_addressee::Column::RequestId))
                            .equals((request::Entity, request::Column::Id)),
                    )
                    .and_where(Expr::col((request_addressee::Entity, request_addressee::Column::UserId)).eq(uid))
                    .to_owned(),
            ),
        );
        kinds.push(most_urgent(q));
    }
    let mut rows = all_of(kinds, state).await?;
    rows.sort_by_key(|r| (r.current_limit_at, r.id));
    rows.dedup_by_key(|r| r.id);
    let (rows, next_cursor) = crate::shared::page::cut(rows, limit, |r| crate::shared::page::encode_cursor(r.id));
    Ok(Page { items: views(state, rows).await?, next_cursor })
}
