//! Evidence bundles: a request's record (`GET /requests/{id}/dossier`, `jembatan export
//! --request`) or a range of the audit log (`jembatan export --from --to`), as one tar
//! file an auditor checks offline with `jembatan verify`. What a bundle holds and how it is
//! checked is the domain's (`tlog::bundle`); this module gathers it from the database and
//! the document store.

use std::collections::BTreeMap;
use std::path::Path;

use entity::{audit_checkpoint, audit_event, document};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use super::audit::leaf_bytes;
use super::tlog::{export_proofs, latest_checkpoint};
use super::{documents, requests, timeline};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::signer::NoteSigner;
use crate::state::AppState;
use crate::tlog::bundle::{self, ConsistencyLine, Contents, EventLine, ListedDocument, Scope};

/// The files of a bundle, by path.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Who made a bundle, for its manifest.
fn made_by(caller: Option<&Caller>) -> String {
    match caller {
        Some(c) if c.user_id().is_some() => format!("user:{}", c.id),
        Some(c) => format!("client:{}", c.id),
        None => "jembatan export".to_owned(),
    }
}

/// Sizes of saved checkpoints a bundle over HTTP carries consistency proofs from, at most
/// this many (the command line has no limit).
pub const MAX_CONSISTENCY_FROM: usize = 64;

/// A request's bundle, as `caller` may see the request (404 otherwise). The applicant's
/// bundle leaves out the office's internal events, and shows the events whose notes are
/// internal by their leaf hash only: their place in the log is proven, their content is not
/// shown (the manifest marks them `redacted`). `consistency_from`: sizes of checkpoints the
/// reader saved, to compare offline.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn for_request(
    state: &AppState,
    caller: Option<&Caller>,
    id: Uuid,
    consistency_from: &[u64],
) -> ApiResult<Files> {
    if let Some(c) = caller {
        requests::load_visible(&state.db, c, id).await?;
    }
    let office = caller.is_none_or(Caller::sees_all_requests);
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ObjectId.eq(id))
        .order_by_asc(audit_event::Column::LeafIndex)
        .order_by_asc(audit_event::Column::Seq)
        .all(&state.db)
        .await?;
    if events.is_empty() {
        return Err(ApiError::not_found("request"));
    }
    let events: Vec<(audit_event::Model, bool)> = events
        .into_iter()
        .filter(|e| office || !timeline::is_internal(&e.details))
        .map(|e| {
            let redacted = !office && timeline::without_internal_note(&e.action, e.details.clone()) != e.details;
            (e, redacted)
        })
        .collect();
    // The documents the shown events record (one uploaded after the events were read is
    // in no event of the bundle, and is left for the next one).
    let named = named_documents(events.iter().filter(|(_, redacted)| !redacted).map(|(e, _)| e));
    let docs = document::Entity::find()
        .filter(document::Column::RequestId.eq(id))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|d| named.contains(&d.id))
        .collect();
    assemble(state, caller, Scope::Request { request_id: id.to_string() }, events, docs, consistency_from).await
}

/// The documents events record: an upload's `document_id`, a step's `documents[].id`.
fn named_documents<'a>(events: impl Iterator<Item = &'a audit_event::Model>) -> std::collections::HashSet<Uuid> {
    let mut out = std::collections::HashSet::new();
    for e in events {
        let id = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<Uuid>().ok());
        out.extend(id(&e.details["document_id"]));
        out.extend(e.details["documents"].as_array().into_iter().flatten().filter_map(|d| id(&d["id"])));
    }
    out
}

/// The log's events `from..to` (default: up to the latest checkpoint), with every document
/// they record when `with_documents` (a year of the log's documents may not fit in memory:
/// the events still carry each document's SHA-256). For the command line.
pub async fn for_range(
    state: &AppState,
    from: u64,
    to: Option<u64>,
    with_documents: bool,
    consistency_from: &[u64],
) -> ApiResult<Files> {
    let size = latest_checkpoint(&state.db).await?.map_or(0, |c| c.size as u64);
    let to = to.unwrap_or(size);
    if from >= to || to > size {
        return Err(ApiError::invalid("to", format!("need from < to ≤ {size} (the latest checkpoint)")));
    }
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::LeafIndex.gte(from as i64))
        .filter(audit_event::Column::LeafIndex.lt(to as i64))
        .order_by_asc(audit_event::Column::LeafIndex)
        .all(&state.db)
        .await?;
    let ids: Vec<Uuid> = if with_documents { named_documents(events.iter()).into_iter().collect() } else { Vec::new() };
    let mut docs = Vec::new();
    for chunk in ids.chunks(500) {
        docs.extend(document::Entity::find().filter(document::Column::Id.is_in(chunk.to_vec())).all(&state.db).await?);
    }
    let events = events.into_iter().map(|e| (e, false)).collect();
    assemble(state, None, Scope::Range { from, to }, events, docs, consistency_from).await
}

async fn assemble(
    state: &AppState,
    caller: Option<&Caller>,
    scope: Scope,
    events: Vec<(audit_event::Model, bool)>,
    docs: Vec<document::Model>,
    consistency_from: &[u64],
) -> ApiResult<Files> {
    let keys = &state.audit_keys;
    let checkpoint = latest_checkpoint(&state.db).await?;
    let size = checkpoint.as_ref().map_or(0, |c| c.size as u64);
    let waiting = events.iter().filter(|(e, _)| e.leaf_index.is_none_or(|i| i as u64 >= size)).count();
    let Some(checkpoint) = checkpoint.filter(|_| waiting == 0) else {
        return Err(ApiError::Conflict(crate::msg!("bundle-not-logged-yet", waiting = waiting)));
    };
    let indexes: Vec<u64> = events.iter().map(|(e, _)| e.leaf_index.unwrap_or_default() as u64).collect();
    let earlier = consistency_sizes(state, size, consistency_from).await?;
    let (inclusion, consistency) = export_proofs(&state.db, &indexes, &earlier, size).await?;
    let lines = events
        .iter()
        .zip(inclusion)
        .map(|((e, redacted), proof)| {
            // A redacted event's content is not shown: what could be shown is not what its
            // leaf hash covers, so nothing in it could be checked.
            let content = if *redacted {
                serde_json::Value::Null
            } else {
                serde_json::from_slice(&leaf_bytes(e)).unwrap_or_default()
            };
            EventLine {
                leaf_index: e.leaf_index.unwrap_or_default() as u64,
                // As stored: an event edited in the database shows as one whose content
                // no longer matches.
                leaf_hash: e.leaf_hash.clone().unwrap_or_default(),
                proof: proof.iter().map(hex::encode).collect(),
                redacted: *redacted,
                event: content,
            }
        })
        .collect();
    let store = documents::store(state);
    let mut documents = Vec::with_capacity(docs.len());
    for d in docs {
        let mut bytes = Vec::with_capacity(usize::try_from(d.size).unwrap_or(0));
        let mut file = store.open(&d.storage_key).await.map_err(documents::storage_error)?;
        file.read_to_end(&mut bytes).await.map_err(ApiError::internal)?;
        let listed = ListedDocument {
            id: d.id.to_string(),
            path: format!("{}{}", bundle::DOCUMENTS_DIR, d.id),
            filename: d.filename,
            content_type: d.content_type,
            size: d.size as u64,
            sha256: d.sha256,
        };
        documents.push((listed, bytes));
    }
    let contents = Contents {
        origin: keys.origin.clone(),
        scope,
        created_at: state.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        created_by: made_by(caller),
        checkpoint: checkpoint.note,
        tree_size: size,
        events: lines,
        documents,
        consistency: earlier
            .into_iter()
            .zip(consistency)
            .map(|(from, p)| ConsistencyLine { from, proof: p.iter().map(hex::encode).collect() })
            .collect(),
        keys: keys.verifiers_text(),
    };
    Ok(bundle::assemble(contents, |text| keys.sign_note(text)))
}

/// The checkpoint sizes a bundle of `size` carries consistency proofs from: the last
/// checkpoint of each day (UTC), and the sizes the reader asks for (checkpoints they saved;
/// each must be one signed below `size`). One proof per checkpoint ever signed would make a
/// busy log's bundles hundreds of megabytes.
async fn consistency_sizes(state: &AppState, size: u64, asked: &[u64]) -> ApiResult<Vec<u64>> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let backend = state.db.get_database_backend();
    let day = match backend {
        DbBackend::Postgres => "(created_at AT TIME ZONE 'UTC')::date",
        _ => "substr(created_at, 1, 10)",
    };
    let placeholder = if backend == DbBackend::Postgres { "$1" } else { "?" };
    let sql = format!("SELECT MAX(size) AS s FROM audit_checkpoints WHERE size < {placeholder} GROUP BY {day}");
    let rows = state.db.query_all_raw(Statement::from_sql_and_values(backend, sql, [(size as i64).into()])).await?;
    let mut sizes: Vec<u64> = rows.iter().filter_map(|r| r.try_get::<i64>("", "s").ok()).map(|s| s as u64).collect();
    let wanted: Vec<i64> = asked.iter().filter(|&&s| s != size).map(|&s| s as i64).collect();
    if !wanted.is_empty() {
        let found: Vec<i64> = audit_checkpoint::Entity::find()
            .filter(audit_checkpoint::Column::Size.is_in(wanted.clone()))
            .filter(audit_checkpoint::Column::Size.lt(size as i64))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|c| c.size)
            .collect();
        if let Some(missing) = wanted.iter().find(|w| !found.contains(w)) {
            return Err(ApiError::invalid(
                "consistency_from",
                format!("no checkpoint was signed at size {missing} below the latest ({size})"),
            ));
        }
        sizes.extend(found.into_iter().map(|s| s as u64));
    }
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

/// The bundle as one tar file: every file under `jembatan-bundle/`.
pub fn to_tar(files: &Files) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, format!("{ROOT}/{path}"), bytes.as_slice())?;
    }
    builder.into_inner()
}

const ROOT: &str = "jembatan-bundle";

/// Limits on what `read` accepts: a bundle is checked in memory.
const MAX_FILES: usize = 100_000;
const MAX_TOTAL: u64 = 4 << 30;

/// A bundle from a tar file, or from the directory it was unpacked into.
pub fn read(path: &Path) -> Result<Files, String> {
    let mut files = Files::new();
    let mut total = 0u64;
    if path.is_dir() {
        let root = if path.join(bundle::MANIFEST).exists() { path.to_owned() } else { path.join(ROOT) };
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
                let p = entry.map_err(|e| e.to_string())?.path();
                let meta = std::fs::symlink_metadata(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                if meta.is_dir() {
                    stack.push(p);
                    continue;
                }
                if !meta.is_file() {
                    return Err(format!("{}: not a plain file (a link?)", p.display()));
                }
                total += meta.len();
                if files.len() >= MAX_FILES || total > MAX_TOTAL {
                    return Err(format!("{}: too large to check in memory", path.display()));
                }
                let rel = p.strip_prefix(&root).map_err(|e| e.to_string())?.to_string_lossy().replace('\\', "/");
                files.insert(rel, std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?);
            }
        }
        return Ok(files);
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut archive = tar::Archive::new(file);
    for entry in archive.entries().map_err(|e| format!("{}: not a tar file: {e}", path.display()))? {
        let mut entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            // A link named like a checked file would replace it when the tar is unpacked.
            return Err(format!("{}: an entry that is not a plain file ({kind:?})", path.display()));
        }
        let name = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
        let rel = name.strip_prefix(&format!("{ROOT}/")).unwrap_or(&name).to_owned();
        total += entry.size();
        if files.len() >= MAX_FILES || total > MAX_TOTAL {
            return Err(format!("{}: too large to check in memory", path.display()));
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).map_err(|e| e.to_string())?;
        if files.insert(rel.clone(), bytes).is_some() {
            return Err(format!("{}: the file {rel} appears twice", path.display()));
        }
    }
    Ok(files)
}
