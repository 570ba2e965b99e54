//! Decoding a request row without sea-orm's cost for NULLs.
//!
//! sea-orm decodes a NULL in an `Option<T>` column by first failing `T`'s decode with an
//! error whose text is formatted (`format!("{idx:?}")`) and then mapping that error to
//! `None`. A request row has a dozen columns that are usually NULL, so on a page of
//! requests that was most of the decoding time (docs/benchmarks.md, "Issue 15, session 9").
//! [`RequestRow`] reads each nullable column's NULL flag first and decodes only values.

use sea_orm::sqlx::{Row, ValueRef};
use sea_orm::{DbErr, FromQueryResult, QueryResult, TryGetable};

use crate::request;

/// Whether the column holds NULL (false when the row has no such column: the decode that
/// follows then reports it).
fn is_null(res: &QueryResult, col: &str) -> bool {
    if let Some(row) = res.try_as_pg_row() {
        return row.try_get_raw(col).is_ok_and(|v| v.is_null());
    }
    if let Some(row) = res.try_as_sqlite_row() {
        return row.try_get_raw(col).is_ok_and(|v| v.is_null());
    }
    false
}

fn opt<T: TryGetable>(res: &QueryResult, col: &str) -> Result<Option<T>, DbErr> {
    if is_null(res, col) { Ok(None) } else { res.try_get("", col) }
}

fn get<T: TryGetable>(res: &QueryResult, col: &str) -> Result<T, DbErr> {
    res.try_get("", col)
}

/// A whole `requests` row: `request::Entity::find()…into_model::<RequestRow>()`.
pub struct RequestRow(pub request::Model);

impl FromQueryResult for RequestRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        if !pre.is_empty() {
            return request::Model::from_query_result(res, pre).map(RequestRow);
        }
        Ok(RequestRow(request::Model {
            id: get(res, "id")?,
            number: opt(res, "number")?,
            flow: get(res, "flow")?,
            definition_id: get(res, "definition_id")?,
            organization_id: get(res, "organization_id")?,
            created_by_user: opt(res, "created_by_user")?,
            created_by_client: opt(res, "created_by_client")?,
            title: get(res, "title")?,
            purpose: get(res, "purpose")?,
            source_system: get(res, "source_system")?,
            target_system: get(res, "target_system")?,
            data_exchanged: get(res, "data_exchanged")?,
            letter_number: get(res, "letter_number")?,
            letter_date: get(res, "letter_date")?,
            status: get(res, "status")?,
            current_step: get(res, "current_step")?,
            current_actor: get(res, "current_actor")?,
            current_step_instance_id: opt(res, "current_step_instance_id")?,
            current_step_started_at: opt(res, "current_step_started_at")?,
            current_warning_at: opt(res, "current_warning_at")?,
            current_due_at: opt(res, "current_due_at")?,
            current_limit_at: opt(res, "current_limit_at")?,
            office_has_acted: get(res, "office_has_acted")?,
            returned_at: opt(res, "returned_at")?,
            test_rounds: get(res, "test_rounds")?,
            base_url: opt(res, "base_url")?,
            repository_url: opt(res, "repository_url")?,
            version: get(res, "version")?,
            created_at: get(res, "created_at")?,
            updated_at: get(res, "updated_at")?,
            submitted_at: opt(res, "submitted_at")?,
            closed_at: opt(res, "closed_at")?,
            working_seconds: opt(res, "working_seconds")?,
            retired_at: opt(res, "retired_at")?,
            retired_by: opt(res, "retired_by")?,
            retired_reason: opt(res, "retired_reason")?,
        }))
    }
}
