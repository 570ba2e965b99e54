//! Documents: `POST /requests/{id}/documents` (multipart), listing, metadata, bytes.

use actix_multipart::Multipart;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine;
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::extract::PageQuery;
use crate::auth::policy::{Authorized, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::service::documents::{self as svc, DocumentMeta, Upload};
use crate::service::requests;
use crate::shared::Page;
use crate::state::AppState;
use crate::workflow::DocumentKind;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload).service(list_documents).service(metadata).service(content);
}

/// The multipart form: `kind` and `file`, nothing else (another field is 422).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documents the form; the handler streams it field by field
pub struct UploadForm {
    pub kind: DocumentKind,
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

use super::Bytes;

/// The current step's actor, or the applicant while the request is a draft or returned.
/// The file is streamed to storage and hashed on the way; its type is checked from the
/// bytes (PDF, PNG, JPEG, DOCX, XLSX, ODT; JSON or YAML API specifications).
#[utoipa::path(
    tag = "documents",
    summary = "Upload a document for the request's current step",
    params(("id" = Uuid, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = DocumentMeta),
        (status = 409, description = "The request is closed", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/requests/{id}/documents")]
async fn upload(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ApiError::UnsupportedMediaType(crate::msg!("send-multipart")));
    }
    let limit = state.settings.upload_limit_bytes;
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // Room for the form's own headers around the file.
    if declared.is_some_and(|n| n > limit + 64 * 1024) {
        return Err(ApiError::PayloadTooLarge(crate::msg!("documents-too-large", limit = limit)));
    }
    // Refuse before reading the body: unknown request → 404, not allowed → 403.
    let r = requests::load_visible(&state.db, &who, *id).await?;
    svc::upload_party(&state.db, &who, &r, None, state.now()).await?;
    // No room left at all: refuse before 20 MiB arrive (the transaction checks again).
    svc::check_quotas(&state.db, &state, &who, &r, 1, state.now()).await?;

    let mut form = Multipart::new(req.headers(), payload);
    let mut kind: Option<DocumentKind> = None;
    let mut file: Option<(String, crate::storage::PendingWrite)> = None;
    let received = receive(&state, &mut form, limit, &mut kind, &mut file).await;
    let checked = received.and_then(|()| {
        let kind = kind.ok_or_else(|| ApiError::invalid("kind", crate::msg!("required")))?;
        let (filename, pending) = file.as_ref().ok_or_else(|| ApiError::invalid("file", crate::msg!("required")))?;
        if pending.size() == 0 {
            return Err(ApiError::invalid("file", crate::msg!("document-empty")));
        }
        Ok((kind, svc::sniff(&pending.head, filename)?))
    });
    let (kind, content_type) = match checked {
        Ok(k) => k,
        Err(e) => {
            // Refused: a multipart upload under way is aborted before the answer goes out.
            if let Some((_, pending)) = file.take() {
                pending.discard().await;
            }
            // The rest of the body may be unread: this connection cannot carry another
            // request reliably, so it closes after the answer.
            let mut res = HttpResponse::from_error(e);
            res.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
            return Ok(res);
        }
    };
    let Some((filename, pending)) = file else { return Err(ApiError::internal("the file went missing")) };
    let meta = svc::record(&state, &who, *id, Upload { kind, filename, content_type, pending }).await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, format!("/api/v1/documents/{}", meta.id))).json(meta))
}

/// Reads the form: `kind`, and `file` streamed into the store as it arrives (in `file` from
/// its first byte, so the caller can discard it whatever goes wrong).
async fn receive(
    state: &AppState,
    form: &mut Multipart,
    limit: u64,
    kind: &mut Option<DocumentKind>,
    file: &mut Option<(String, crate::storage::PendingWrite)>,
) -> ApiResult<()> {
    while let Some(field) = form.next().await {
        let mut field =
            field.map_err(|e| ApiError::bad_request(crate::msg!("multipart-malformed", why = e.to_string())))?;
        match field.name().unwrap_or("") {
            "kind" => {
                let mut text = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk
                        .map_err(|e| ApiError::bad_request(crate::msg!("multipart-malformed", why = e.to_string())))?;
                    if text.len() + chunk.len() > 64 {
                        return Err(ApiError::invalid("kind", crate::msg!("document-kind-not-one")));
                    }
                    text.extend_from_slice(&chunk);
                }
                let s = String::from_utf8_lossy(&text);
                *kind = Some(s.trim().parse().map_err(|_| {
                    ApiError::invalid("kind", crate::msg!("document-kind-unknown", kind = s.to_string()))
                })?);
            }
            "file" => {
                if file.is_some() {
                    return Err(ApiError::invalid("file", crate::msg!("document-one-file")));
                }
                let name =
                    field.content_disposition().and_then(|cd| cd.get_filename()).unwrap_or("document").to_owned();
                let pending = svc::store(state).begin(limit).await.map_err(svc::storage_error)?;
                let (_, pending) = file.insert((svc::clean_filename(&name), pending));
                while let Some(chunk) = field.next().await {
                    let chunk = chunk
                        .map_err(|e| ApiError::bad_request(crate::msg!("multipart-malformed", why = e.to_string())))?;
                    pending.write(&chunk).await.map_err(svc::storage_error)?;
                }
            }
            other => return Err(ApiError::invalid(other, crate::msg!("document-unknown-field"))),
        }
    }
    Ok(())
}

/// Anyone who may see the request. Every version, oldest first, in pages like every list.
#[utoipa::path(
    tag = "documents",
    summary = "List a request's documents",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, description = "A page of the request's documents", body = Page<DocumentMeta>)),
    security(("bearer" = []))
)]
#[get("/requests/{id}/documents")]
async fn list_documents(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(svc::list(&state, &who, *id, page.limit()?, page.after()?).await?))
}

/// Anyone who may see the request.
#[utoipa::path(
    tag = "documents",
    summary = "A document's metadata",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DocumentMeta)),
    security(("bearer" = []))
)]
#[get("/documents/{id}")]
async fn metadata(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let d: DocumentMeta = svc::find_visible(&state, &who, *id).await?.into();
    Ok(HttpResponse::Ok().json(d))
}

/// Anyone who may see the request. `Repr-Digest` (RFC 9530) carries the SHA-256, so a
/// client can check the bytes it received against the recorded digest.
#[utoipa::path(
    tag = "documents",
    summary = "Download a document's bytes",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The bytes, with Content-Type (the type recorded at upload, one of those \
            below), Content-Disposition and Repr-Digest",
        content(
            (inline(Bytes) = "application/pdf"),
            (inline(Bytes) = "image/png"),
            (inline(Bytes) = "image/jpeg"),
            (inline(Bytes) = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (inline(Bytes) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (inline(Bytes) = "application/vnd.oasis.opendocument.text"),
            (inline(serde_json::Value) = "application/json"),
            (inline(serde_json::Value) = "application/yaml"),
        ),
        headers(("Repr-Digest" = String, description = "sha-256=:<base64>:"), ("Content-Disposition" = String)))),
    security(("bearer" = []))
)]
#[get("/documents/{id}/content")]
async fn content(
    state: web::Data<AppState>,
    who: Authorized<SignedIn>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let d = svc::find_visible(&state, &who, *id).await?;
    let file = svc::store(&state).open(&d.storage_key).await.map_err(svc::storage_error)?;
    let digest = hex::decode(&d.sha256).map_err(ApiError::internal)?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
    let name = svc::download_name(&d.filename, &d.content_type);
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(name.chars().map(|c| if c.is_ascii() && c != '"' { c } else { '_' }).collect()),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, d.content_type.clone()))
        .insert_header(disposition)
        .insert_header(("Repr-Digest", format!("sha-256=:{b64}:")))
        .insert_header((header::ETAG, format!("\"{}\"", d.sha256)))
        .insert_header((header::CONTENT_LENGTH, d.size.to_string()))
        .streaming(tokio_util::io::ReaderStream::new(file)))
}
