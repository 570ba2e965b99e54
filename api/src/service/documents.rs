//! Documents: uploaded for the current step, streamed to the store, checked by content,
//! immutable. A new upload of a kind is a new version, never an overwrite.

use chrono::{DateTime, Utc};
use entity::{api_client, document, user};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::acting::Capacity;
use super::audit::{self, Actor};
use super::requests::{self, VisibleRequest, status_of};
use super::workflows;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::{PendingWrite, Store, StoreError};
use crate::workflow::uploads::{UploadParty, UploadRefusal};
use crate::workflow::{self, DocumentKind, StepCode};

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f5e-0000-7000-8000-0000000000d1", "request_id": "01936f5e-0000-7000-8000-000000000001",
    "kind": "request_letter", "kind_version": 1, "step_code": "submit", "filename": "surat-permohonan.pdf",
    "content_type": "application/pdf", "size": 48213,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uploaded_at": "2026-11-23T01:20:00Z", "uploaded_by_user_id": "01936f5e-0000-7000-8000-0000000000b1", "uploaded_by_client_id": null}))]
pub struct DocumentMeta {
    pub id: Uuid,
    pub request_id: Uuid,
    pub kind: DocumentKind,
    /// 1 for the first document of this kind on the request, then 2, 3, …
    pub kind_version: i32,
    /// The step that was current when it was uploaded.
    pub step_code: StepCode,
    /// The uploader's file name (metadata only).
    pub filename: String,
    /// Determined from the bytes, not the name.
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the bytes, computed while they were received.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    /// The person who uploaded it, or
    pub uploaded_by_user_id: Option<Uuid>,
    /// the agency system that did.
    pub uploaded_by_client_id: Option<Uuid>,
}

impl From<document::Model> for DocumentMeta {
    fn from(d: document::Model) -> Self {
        Self {
            id: d.id,
            request_id: d.request_id,
            kind: d.kind.0,
            kind_version: d.kind_version,
            step_code: d.step_code.0,
            filename: d.filename,
            content_type: d.content_type,
            size: d.size,
            sha256: d.sha256,
            uploaded_at: d.uploaded_at,
            uploaded_by_user_id: d.uploaded_by_user,
            uploaded_by_client_id: d.uploaded_by_client,
        }
    }
}

pub fn store(state: &AppState) -> &Store {
    &state.store
}

/// Whether the caller may add a document (of `kind`, once known) to this request now, and
/// in whose name: the definition decides (`workflow::uploads`). Asked before the bytes are
/// read (without the kind) and again inside the transaction that records them.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn upload_party<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    r: &VisibleRequest,
    kind: Option<DocumentKind>,
    now: DateTime<Utc>,
) -> ApiResult<(UploadParty, Option<Capacity>)> {
    let status = status_of(r);
    let step = r.current_step.0;
    let published = workflows::by_id(db, r.definition_id).await?;
    let def = &published.definition;
    let facts = requests::Facts {
        asks_team: true,
        addressees: match def.step(step) {
            Some(s) if s.actor_from_disposition => requests::addressees_of(db, r.id).await?,
            _ => Vec::new(),
        },
        division: requests::division_of(db, def).await?,
    };
    let may = |who: &workflow::Caller| workflow::uploads::may_upload(def, status, step, who, kind);
    let not_theirs = |e: &UploadRefusal| matches!(e, UploadRefusal::NotYourTurn { .. });
    requests::judged(db, caller, r, &facts, now, may, not_theirs).await?.map_err(upload_refusal)
}

fn upload_refusal(refusal: UploadRefusal) -> ApiError {
    match refusal {
        UploadRefusal::Closed(status) => {
            ApiError::Conflict(crate::msg!("documents-closed", status = crate::i18n::Msg::status(status)))
        }
        UploadRefusal::ReadOnly => ApiError::Forbidden(crate::msg!("wf-reason-auditor")),
        UploadRefusal::NotYourTurn { actor } => {
            ApiError::Forbidden(crate::msg!("documents-not-your-turn", actor = actor.to_string()))
        }
        UploadRefusal::UnknownStep(step) => {
            ApiError::internal(format!("the request stands at `{step}`, which its definition does not have"))
        }
        UploadRefusal::KindNotAllowed { kind, allowed } => {
            let allowed: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
            ApiError::Forbidden(crate::msg!("documents-kind-not-allowed", kind = kind, allowed = allowed.join(", ")))
        }
    }
}

/// The allowed types, decided from the bytes. Office formats are ZIP containers that
/// `infer` recognises by their first entries; JSON and YAML (API specifications) are
/// text, recognised by their content and, for YAML, the declared name.
pub fn sniff(head: &[u8], filename: &str) -> Result<&'static str, ApiError> {
    const ALLOWED: &[&str] = &[
        "application/pdf",
        "image/png",
        "image/jpeg",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.text",
    ];
    let refuse = || ApiError::UnsupportedMediaType(crate::msg!("documents-type-refused"));
    if let Some(kind) = infer::get(head) {
        return ALLOWED.iter().find(|m| **m == kind.mime_type()).copied().ok_or_else(refuse);
    }
    // Text: valid UTF-8 (a multi-byte character may be cut at the end of the sample).
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).map_err(|_| refuse())?,
        Err(_) => return Err(refuse()),
    };
    if text.contains('\0') || text.trim().is_empty() {
        return Err(refuse());
    }
    let first = text.trim_start().chars().next();
    if matches!(first, Some('{') | Some('[')) {
        return Ok("application/json");
    }
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return Ok("application/yaml");
    }
    Err(refuse())
}

/// The client's file name, reduced to a harmless label: last path component, no
/// control characters, at most 200 characters.
pub fn clean_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() { "document".into() } else { cleaned }
}

pub struct Upload {
    pub kind: DocumentKind,
    pub filename: String,
    pub content_type: &'static str,
    pub pending: PendingWrite,
}

/// Stores a received upload and records it, all or nothing.
#[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
pub async fn record(state: &AppState, caller: &Caller, request_id: Uuid, up: Upload) -> ApiResult<DocumentMeta> {
    let store = store(state);
    let stored = up.pending.finish().await.map_err(storage_error)?;
    let result = async {
        let now = state.now();
        let txn = crate::db::begin_write(&state.db).await?;
        // Re-read and re-check under the row lock: the step may have moved on while the
        // bytes arrived, and two uploads must not both fit into the last of a quota.
        let r = requests::load_for_update(&txn, caller, request_id).await?;
        let (party, acting) = upload_party(&txn, caller, &r, Some(up.kind), state.now()).await?;
        let inst = r.current_step_instance_id.ok_or_else(|| ApiError::Conflict(crate::msg!("wf-reason-closed")))?;
        if txn.get_database_backend() == DbBackend::Postgres {
            // Uploads to different requests of one organization take different row locks;
            // this serialises them on the organization's daily total (released at commit).
            let key = i64::from_be_bytes(caller.organization_id.as_bytes()[..8].try_into().unwrap_or_default());
            let lock = "SELECT pg_advisory_xact_lock($1)";
            txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, lock, [key.into()])).await?;
        }
        check_quotas(&txn, state, caller, &r, stored.size, now).await?;
        let previous = document::Entity::find()
            .filter(document::Column::RequestId.eq(request_id))
            .filter(document::Column::Kind.eq(up.kind.as_str()))
            .count(&txn)
            .await?;
        let m = document::ActiveModel {
            id: Set(Uuid::now_v7()),
            request_id: Set(request_id),
            step_instance_id: Set(inst),
            step_code: Set(r.current_step),
            kind: Set(up.kind.into()),
            kind_version: Set(previous as i32 + 1),
            filename: Set(up.filename.clone()),
            content_type: Set(up.content_type.into()),
            size: Set(stored.size as i64),
            sha256: Set(stored.sha256.clone()),
            storage_key: Set(stored.key.clone()),
            uploaded_at: Set(now),
            uploaded_by_user: Set(caller.user_id()),
            uploaded_by_client: Set(caller.client_id()),
            uploaded_as: Set(party.into()),
        }
        .insert(&txn)
        .await?;
        audit::append(
            &txn,
            now,
            Actor::from(caller),
            "request.document_uploaded",
            "request",
            request_id,
            serde_json::json!({"document_id": m.id, "kind": m.kind, "kind_version": m.kind_version, "step": m.step_code, "uploaded_as": m.uploaded_as.to_string(),
                               "filename": m.filename, "size": m.size, "sha256": m.sha256, "content_type": m.content_type,
                               "acting_for": acting.as_ref().map(Capacity::record), "acting_kind": acting.as_ref().map(|c| c.kind)}),
        )
        .await?;
        txn.commit().await?;
        Ok::<_, ApiError>(m)
    }
    .await;
    match result {
        Ok(m) => Ok(m.into()),
        Err(e) => {
            // No row: the bytes must not stay either (if this fails too, `jembatan check`
            // finds them).
            if let Err(e) = store.remove(&stored.key).await {
                tracing::warn!(error = %e, key = %stored.key, "could not remove the bytes of a document not recorded");
            }
            Err(e)
        }
    }
}

/// Per request: how many documents and how many bytes; per organization of the uploader:
/// how many bytes a day (Asia/Jakarta). Over → 413 or 429, and nothing is kept. Asked
/// before the body is read (with `size` 1: is there room at all?) and again, with the
/// real size, in the transaction that records the document, under the request's row lock
/// and (on PostgreSQL) a lock on the organization's daily total.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn check_quotas<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    caller: &Caller,
    request: &VisibleRequest,
    size: u64,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let s = &state.settings;
    // How many documents the request holds and their bytes, in one statement.
    let bytes_sum = || Expr::cust("CAST(COALESCE(SUM(documents.size), 0) AS BIGINT)");
    let (held, bytes): (i64, i64) = document::Entity::find()
        .select_only()
        .column_as(document::Column::Id.count(), "held")
        .column_as(bytes_sum(), "bytes")
        .filter(document::Column::RequestId.eq(request.id))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, 0));
    if held >= i64::from(s.max_documents_per_request) {
        return Err(ApiError::PayloadTooLarge(crate::msg!("documents-too-many", held = held)));
    }
    if bytes as u64 + size > s.max_request_document_bytes {
        return Err(ApiError::PayloadTooLarge(crate::msg!(
            "documents-request-bytes",
            bytes = bytes as u64 + size,
            most = s.max_request_document_bytes
        )));
    }
    // What the uploader's organization (its people and its systems) added today.
    let (day_start, next_day) = jakarta_day(now);
    let org = caller.organization_id;
    let today_q = Query::select()
        .expr_as(bytes_sum(), Alias::new("bytes"))
        .from(document::Entity)
        .left_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id)).equals((document::Entity, document::Column::UploadedByUser)),
        )
        .left_join(
            api_client::Entity,
            Expr::col((api_client::Entity, api_client::Column::Id))
                .equals((document::Entity, document::Column::UploadedByClient)),
        )
        .and_where(Expr::col((document::Entity, document::Column::UploadedAt)).gte(day_start))
        .cond_where(
            Condition::any()
                .add(Expr::col((user::Entity, user::Column::OrganizationId)).eq(org))
                .add(Expr::col((api_client::Entity, api_client::Column::OrganizationId)).eq(org)),
        )
        .to_owned();
    let today: i64 = match db.query_one(&today_q).await? {
        Some(row) => row.try_get("", "bytes")?,
        None => 0,
    };
    if today as u64 + size > s.max_organization_bytes_per_day {
        return Err(ApiError::TooManyRequests {
            detail: crate::msg!("documents-daily-allowance", today = today, most = s.max_organization_bytes_per_day),
            retry_after_secs: std::cmp::Ord::max((next_day - now).num_seconds(), 1) as u64,
        });
    }
    Ok(())
}

/// The start of `now`'s day and of the next, in the regency's time zone.
fn jakarta_day(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let tz = chrono_tz::Asia::Jakarta;
    let date = now.with_timezone(&tz).date_naive();
    let start = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(tz).single()).map_or(now, |t| t.with_timezone(&Utc))
    };
    (start(date), start(date.succ_opt().unwrap_or(date)))
}

/// The name a download gets: the uploader's name with the extension of what the bytes
/// are, so `surat.html` that is a PDF is saved as `surat.pdf`, never opened as a page.
pub fn download_name(filename: &str, content_type: &str) -> String {
    let ext = match content_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/json" => "json",
        "application/yaml" => "yaml",
        _ => "bin",
    };
    let stem = match filename.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => filename,
    };
    format!("{stem}.{ext}")
}

/// A store failure as an answer: too large → 413; the bucket unreachable or refusing →
/// 503 (logged here; the problem document names no key, bucket or credential); a local
/// I/O failure or a row without bytes → 500.
pub fn storage_error(e: StoreError) -> ApiError {
    match e {
        StoreError::TooLarge(limit) => ApiError::PayloadTooLarge(crate::msg!("documents-too-large", limit = limit)),
        StoreError::Object(e) if !matches!(e, object_store::Error::NotFound { .. }) => {
            tracing::warn!(error = %e, "the document store failed");
            ApiError::UpstreamUnavailable(crate::msg!("storage-unavailable"))
        }
        other => ApiError::internal(other),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
pub async fn list(
    state: &AppState,
    caller: &Caller,
    request_id: Uuid,
    limit: u64,
    after: Option<Uuid>,
) -> ApiResult<crate::shared::Page<DocumentMeta>> {
    requests::load_visible(&state.db, caller, request_id).await?;
    // Ids are UUIDv7 made at upload: id order is upload order.
    let mut q = document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .order_by_asc(document::Column::Id)
        .limit(limit + 1);
    if let Some(after) = after {
        q = q.filter(document::Column::Id.gt(after));
    }
    Ok(crate::shared::Page::from_rows(q.all(&state.db).await?, limit, |d| d.id, Into::into))
}

/// A document the caller may see (through its request), else 404.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn find_visible(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<document::Model> {
    let d = document::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("document"))?;
    // An invisible request hides its documents too (404); any other failure stays what it is.
    requests::load_visible(&state.db, caller, d.request_id).await.map_err(|e| match e {
        ApiError::NotFound(_) => ApiError::not_found("document"),
        other => other,
    })?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_goes_by_content_not_name() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "x.exe").unwrap(), "application/pdf");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a.pdf").unwrap(), "image/png");
        assert!(sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", "surat.pdf").is_err(), "an executable named .pdf");
        assert!(sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff", "surat.pdf").is_err());
        assert_eq!(sniff(b"  {\"openapi\": \"3.1.0\"}", "spec.txt").unwrap(), "application/json");
        assert_eq!(sniff(b"openapi: 3.1.0\ninfo:\n  title: x\n", "spec.yaml").unwrap(), "application/yaml");
        assert!(sniff(b"openapi: 3.1.0\n", "notes.txt").is_err(), "plain text is not a document type we take");
        assert!(sniff(b"", "x.json").is_err());
    }

    #[test]
    fn downloads_are_named_after_what_the_bytes_are() {
        assert_eq!(download_name("surat.html", "application/pdf"), "surat.pdf");
        assert_eq!(download_name("laporan.final.docx", "application/pdf"), "laporan.final.pdf");
        assert_eq!(download_name("spec", "application/yaml"), "spec.yaml");
        assert_eq!(download_name("foto.PNG", "image/png"), "foto.png");
        assert_eq!(download_name(".htaccess", "application/json"), ".htaccess.json");
    }

    #[test]
    fn a_jakarta_day_starts_at_17_utc() {
        let now = "2026-12-06T20:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let (start, next) = jakarta_day(now);
        assert_eq!(start.to_rfc3339(), "2026-12-06T17:00:00+00:00");
        assert_eq!(next.to_rfc3339(), "2026-12-07T17:00:00+00:00");
    }

    #[test]
    fn filenames_lose_their_paths() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\budi\\surat.pdf"), "surat.pdf");
        assert_eq!(clean_filename("..."), "document");
        assert_eq!(clean_filename("a\u{0}b\nc.pdf"), "abc.pdf");
    }
}
