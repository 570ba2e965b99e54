//! The catalogue of integrations: every completed request, as the regency's SPBE
//! inventory of connected systems. Readable by every signed-in user (it is the
//! regency's shared register, not one agency's file); an admin or a head of division may
//! mark an integration retired, with a reason, recorded in the request's audit trail.

use chrono::{DateTime, Utc};
use entity::{organization, request};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::shared::Page;
use crate::shared::text::check_passage;
use crate::state::AppState;
use crate::workflow::{Flow, Status};

/// The most rows one CSV export holds.
pub const CSV_MAX_ROWS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationStatus {
    Active,
    Retired,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "request_id": "01936f5e-0000-7000-8000-000000000001", "number": "INT/2026/0001", "flow": "external",
    "organization_id": "01936f5e-0000-7000-8000-0000000000aa", "organization_code": "DINKES",
    "organization_name": "Dinas Kesehatan", "title": "Integrasi SIMPUS dengan Satu Data Trenggalek",
    "source_system": "SIMPUS", "target_system": "Satu Data", "data_exchanged": "Kunjungan per puskesmas per hari",
    "base_url": "https://api.trenggalekkab.go.id/simpus/v1",
    "submitted_at": "2026-11-23T01:30:00Z", "completed_at": "2026-12-03T07:00:00Z",
    "status": "active", "retired_at": null, "retired_reason": null
}))]
pub struct CatalogueEntry {
    pub request_id: Uuid,
    pub number: Option<String>,
    pub flow: Flow,
    /// The agency (or division) that asked for it.
    pub organization_id: Uuid,
    pub organization_code: String,
    pub organization_name: String,
    pub title: String,
    pub source_system: String,
    pub target_system: String,
    pub data_exchanged: String,
    pub base_url: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub status: IntegrationStatus,
    pub retired_at: Option<DateTime<Utc>>,
    pub retired_reason: Option<String>,
}

#[derive(Debug, Default)]
pub struct CatalogueFilter {
    pub q: Option<String>,
    pub status: Option<IntegrationStatus>,
    pub organization_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "SIMPUS diganti dengan aplikasi nasional ASIK mulai Januari 2027"}))]
pub struct Retirement {
    /// Why it is out of service.
    #[schema(min_length = 1, max_length = 4000)]
    pub reason: String,
}

fn query(f: &CatalogueFilter) -> sea_orm::Select<request::Entity> {
    let mut q = request::Entity::find().filter(request::Column::Status.eq(Status::Completed.as_str()));
    match f.status {
        Some(IntegrationStatus::Active) => q = q.filter(request::Column::RetiredAt.is_null()),
        Some(IntegrationStatus::Retired) => q = q.filter(request::Column::RetiredAt.is_not_null()),
        None => {}
    }
    if let Some(o) = f.organization_id {
        q = q.filter(request::Column::OrganizationId.eq(o));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", text.to_lowercase().replace(['\\', '%', '_'], ""));
        let mut any = Condition::any();
        for col in [
            request::Column::Title,
            request::Column::Number,
            request::Column::SourceSystem,
            request::Column::TargetSystem,
            request::Column::DataExchanged,
        ] {
            any = any.add(Expr::expr(Func::lower(Expr::col((request::Entity, col)))).like(pattern.clone()));
        }
        q = q.filter(any);
    }
    q
}

async fn entries(state: &AppState, rows: Vec<request::Model>) -> ApiResult<Vec<CatalogueEntry>> {
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.organization_id).collect();
    ids.sort();
    ids.dedup();
    let orgs = organization::Entity::find().filter(organization::Column::Id.is_in(ids)).all(&state.db).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let org = orgs.iter().find(|o| o.id == r.organization_id);
            CatalogueEntry {
                request_id: r.id,
                number: r.number,
                flow: r.flow.0,
                organization_id: r.organization_id,
                organization_code: org.map(|o| o.code.clone()).unwrap_or_default(),
                organization_name: org.map(|o| o.name.clone()).unwrap_or_default(),
                title: r.title,
                source_system: r.source_system,
                target_system: r.target_system,
                data_exchanged: r.data_exchanged,
                base_url: r.base_url,
                submitted_at: r.submitted_at,
                completed_at: r.closed_at,
                status: if r.retired_at.is_some() { IntegrationStatus::Retired } else { IntegrationStatus::Active },
                retired_at: r.retired_at,
                retired_reason: r.retired_reason,
            }
        })
        .collect())
}

/// A page of the catalogue, newest request first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    state: &AppState,
    f: &CatalogueFilter,
    limit: u64,
    after: Option<Uuid>,
) -> ApiResult<Page<CatalogueEntry>> {
    let mut q = query(f).order_by_desc(request::Column::Id).limit(limit + 1);
    if let Some(after) = after {
        q = q.filter(request::Column::Id.lt(after));
    }
    let (rows, next_cursor) =
        crate::shared::page::cut(q.all(&state.db).await?, limit, |r| crate::shared::page::encode_cursor(r.id));
    Ok(Page { items: entries(state, rows).await?, next_cursor })
}

/// The whole (filtered) catalogue as CSV (RFC 4180), at most `CSV_MAX_ROWS` rows.
pub async fn csv(state: &AppState, f: &CatalogueFilter) -> ApiResult<String> {
    use super::reports::csv_field;
    let rows = query(f).order_by_desc(request::Column::Id).limit(CSV_MAX_ROWS).all(&state.db).await?;
    let mut out = String::from(
        "number,organization_code,organization_name,title,source_system,target_system,data_exchanged,\
         base_url,completed_at,status,retired_at,retired_reason\r\n",
    );
    for e in entries(state, rows).await? {
        let status = match e.status {
            IntegrationStatus::Active => "active",
            IntegrationStatus::Retired => "retired",
        };
        let cells = [
            e.number.unwrap_or_default(),
            e.organization_code,
            e.organization_name,
            e.title,
            e.source_system,
            e.target_system,
            e.data_exchanged,
            e.base_url.unwrap_or_default(),
            e.completed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            status.to_owned(),
            e.retired_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            e.retired_reason.unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_field(&defuse(c))).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a
/// leading apostrophe: the catalogue's text comes from applicants (OWASP "CSV injection").
fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell.to_owned() }
}

/// Marks a completed integration retired: an admin or a head of division.
#[tracing::instrument(level = "debug", skip_all, fields(id = %request_id))]
pub async fn retire(
    state: &AppState,
    caller: &Caller,
    request_id: Uuid,
    input: Retirement,
) -> ApiResult<CatalogueEntry> {
    if !caller.has_any(&[Role::Admin, Role::HeadOfDivision]) {
        return Err(ApiError::Forbidden(crate::msg!("integration-who-retires")));
    }
    let mut errors = FieldErrors::new();
    check_passage(&mut errors, "reason", &input.reason, 4000);
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let now = state.now();
    let reason = input.reason.trim().to_owned();
    let txn = crate::db::begin_write(&state.db).await?;
    let r = request::Entity::find_by_id(request_id)
        .filter(request::Column::Status.eq(Status::Completed.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("integration"))?;
    // A head of division retires what their division built (when the flow is routed).
    if !caller.has(Role::Admin) {
        let published = super::workflows::by_id(&txn, r.definition_id).await?;
        if super::requests::division_of(&txn, &published.definition).await?.is_some_and(|d| d != caller.organization_id)
        {
            return Err(ApiError::Forbidden(crate::msg!("integration-other-division")));
        }
    }
    if r.retired_at.is_some() {
        return Err(ApiError::Conflict(crate::msg!("integration-already-retired")));
    }
    let res = request::Entity::update_many()
        .col_expr(request::Column::RetiredAt, Expr::value(now))
        .col_expr(request::Column::RetiredBy, Expr::value(caller.user_id()))
        .col_expr(request::Column::RetiredReason, Expr::value(reason.clone()))
        .col_expr(request::Column::Version, Expr::col(request::Column::Version).add(1))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(request_id))
        .filter(request::Column::RetiredAt.is_null())
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ApiError::Conflict(crate::msg!("integration-already-retired")));
    }
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "integration.retired",
        "request",
        request_id,
        serde_json::json!({"reason": reason}),
    )
    .await?;
    txn.commit().await?;
    let r = request::Entity::find_by_id(request_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("integration"))?;
    entries(state, vec![r]).await?.pop().ok_or_else(|| ApiError::internal("retired integration vanished"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("-1+2"), "'-1+2");
        assert_eq!(defuse("SIMPUS"), "SIMPUS");
    }
}
