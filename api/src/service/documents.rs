//! Documents: uploaded for the current step, streamed to the store, checked by content,
//! immutable. A new upload of a kind is a new version, never an overwrite.

use chrono::{DateTime, Utc};
use entity::document;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use super::requests::{self, status_of};
use super::workflows;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::{LocalStore, PendingWrite, StoreError};
use crate::workflow::{self, DocumentKind, Status};

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f5e-0000-7000-8000-0000000000d1", "request_id": "01936f5e-0000-7000-8000-000000000001",
    "kind": "request_letter", "kind_version": 1, "step_code": "submit", "filename": "surat-permohonan.pdf",
    "content_type": "application/pdf", "size": 48213,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uploaded_at": "2026-11-23T01:20:00Z", "uploaded_by_user": "01936f5e-0000-7000-8000-0000000000b1", "uploaded_by_client": null}))]
pub struct DocumentMeta {
    pub id: Uuid,
    pub request_id: Uuid,
    pub kind: DocumentKind,
    /// 1 for the first document of this kind on the request, then 2, 3, …
    pub kind_version: i32,
    /// The step that was current when it was uploaded.
    pub step_code: String,
    /// The uploader's file name (metadata only).
    pub filename: String,
    /// Determined from the bytes, not the name.
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the bytes, computed while they were received.
    pub sha256: String,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by_user: Option<Uuid>,
    pub uploaded_by_client: Option<Uuid>,
}

impl From<document::Model> for DocumentMeta {
    fn from(d: document::Model) -> Self {
        Self {
            id: d.id,
            request_id: d.request_id,
            kind: d.kind.parse().unwrap_or(DocumentKind::Other),
            kind_version: d.kind_version,
            step_code: d.step_code,
            filename: d.filename,
            content_type: d.content_type,
            size: d.size,
            sha256: d.sha256,
            uploaded_at: d.uploaded_at,
            uploaded_by_user: d.uploaded_by_user,
            uploaded_by_client: d.uploaded_by_client,
        }
    }
}

pub fn store(state: &AppState) -> LocalStore {
    LocalStore::new(&state.settings.storage_dir)
}

/// Whether the caller may add documents to this request now: the current step's actor,
/// or the applicant while the request is a draft or returned to them. Never the auditor.
pub async fn check_may_upload(state: &AppState, caller: &Caller, r: &entity::request::Model) -> ApiResult<()> {
    let status = status_of(r);
    if status.is_final() {
        return Err(ApiError::Conflict(format!("the request is {status}; its documents are closed")));
    }
    if caller.has(Role::Auditor) {
        return Err(ApiError::Forbidden("the auditor role is read-only".into()));
    }
    let own = caller.organization_id == r.organization_id && caller.has(Role::Applicant);
    if own && matches!(status, Status::Draft | Status::Returned) {
        return Ok(());
    }
    let def = workflows::by_id(&state.db, r.definition_id).await?.definition;
    let step =
        r.current_step.parse().ok().and_then(|c| def.step(c)).ok_or_else(|| ApiError::internal("no current step"))?;
    let on_team = match caller.user_id() {
        Some(u) => entity::team_member::Entity::find_by_id((r.id, u)).one(&state.db).await?.is_some(),
        None => false,
    };
    let who = workflow::Caller { roles: caller.roles.clone(), in_applicant_organization: own, on_team };
    if status == Status::InProgress && who.may_act_as(step.actor) {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!("only the actor of the current step (`{}`) may add documents now", step.actor)))
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
    let refuse = || {
        ApiError::UnsupportedMediaType(
            "allowed: PDF, PNG, JPEG, DOCX, XLSX, ODT, and JSON or YAML API specifications (checked from the content)"
                .into(),
        )
    };
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
pub async fn record(state: &AppState, caller: &Caller, request_id: Uuid, up: Upload) -> ApiResult<DocumentMeta> {
    let store = store(state);
    let stored = store.finish(up.pending).await.map_err(|e| ApiError::internal(e.to_string()))?;
    let result = async {
        let now = state.now();
        let txn = crate::db::begin_write(&state.db).await?;
        // Re-read under the write lock: the step may have moved on while bytes arrived.
        let r = requests::load_visible(&txn, caller, request_id).await?;
        let inst = r.current_step_instance_id.ok_or_else(|| ApiError::Conflict("the request is closed".into()))?;
        let previous = document::Entity::find()
            .filter(document::Column::RequestId.eq(request_id))
            .filter(document::Column::Kind.eq(up.kind.as_str()))
            .count(&txn)
            .await?;
        let m = document::ActiveModel {
            id: Set(Uuid::now_v7()),
            request_id: Set(request_id),
            step_instance_id: Set(inst),
            step_code: Set(r.current_step.clone()),
            kind: Set(up.kind.as_str().into()),
            kind_version: Set(previous as i32 + 1),
            filename: Set(up.filename.clone()),
            content_type: Set(up.content_type.into()),
            size: Set(stored.size as i64),
            sha256: Set(stored.sha256.clone()),
            storage_key: Set(stored.key.clone()),
            uploaded_at: Set(now),
            uploaded_by_user: Set(caller.user_id()),
            uploaded_by_client: Set(caller.client_id()),
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
            serde_json::json!({"document_id": m.id, "kind": m.kind, "kind_version": m.kind_version, "step": m.step_code,
                               "filename": m.filename, "size": m.size, "sha256": m.sha256, "content_type": m.content_type}),
        )
        .await?;
        txn.commit().await?;
        Ok::<_, ApiError>(m)
    }
    .await;
    match result {
        Ok(m) => Ok(m.into()),
        Err(e) => {
            // No row: the bytes must not stay either.
            let _ = store.remove(&stored.key).await;
            Err(e)
        }
    }
}

pub fn too_large(e: StoreError) -> ApiError {
    match e {
        StoreError::TooLarge(limit) => ApiError::PayloadTooLarge(format!("documents are limited to {limit} bytes")),
        StoreError::Io(io) => ApiError::internal(io),
    }
}

pub async fn list(state: &AppState, caller: &Caller, request_id: Uuid) -> ApiResult<Vec<DocumentMeta>> {
    requests::load_visible(&state.db, caller, request_id).await?;
    Ok(document::Entity::find()
        .filter(document::Column::RequestId.eq(request_id))
        .order_by_asc(document::Column::UploadedAt)
        .order_by_asc(document::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// A document the caller may see (through its request), else 404.
pub async fn find_visible(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<document::Model> {
    let d = document::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| ApiError::not_found("document"))?;
    requests::load_visible(&state.db, caller, d.request_id).await.map_err(|_| ApiError::not_found("document"))?;
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
    fn filenames_lose_their_paths() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\budi\\surat.pdf"), "surat.pdf");
        assert_eq!(clean_filename("..."), "document");
        assert_eq!(clean_filename("a\u{0}b\nc.pdf"), "abc.pdf");
    }
}
