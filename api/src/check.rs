//! `jembatan check`: the consistency check an operator runs after a crash (or any time).
//!
//! 1. Every `documents` row has its bytes in the store (the folder or the bucket), of the
//!    recorded size.
//! 2. Stored bytes without a row (a crash between the rename into place, or the object's
//!    completion, and the commit) are reported; `--repair` removes those older than a
//!    minute (younger ones may belong to an upload still in flight). In a folder, leftover
//!    temporary files of interrupted uploads older than an hour are reported and, with
//!    `--repair`, removed. (A bucket has no temporary objects; multipart uploads a crash
//!    left unfinished are the bucket's lifecycle rule's to remove.)
//! 3. Every request is in a state its definition allows: its definition exists, its
//!    status and current step are known to it, an open request (draft, in progress,
//!    returned) has exactly one open step instance and it is the current one, a closed
//!    request has none.
//! 4. The audit chain verifies.
//!
//! Safe to run against a live service: it reads rows before it lists files, so an upload
//! finishing meanwhile is never taken for missing bytes, and it re-checks a file has no
//! row right before removing it. Missing bytes and request problems are never "repaired":
//! they need a person.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use entity::{document, request, step_instance, workflow_definition};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::service::audit::ChainReport;
use crate::state::AppState;
use crate::storage::{Listed, Store};
use crate::workflow::{CurrentActor, Flow, Status, StepCode, WorkflowDefinition};

/// Stored bytes without a row younger than this are left alone: an upload in flight
/// renames its file into place a moment before its row commits.
pub const ORPHAN_MIN_AGE: Duration = Duration::from_secs(60);
/// Temporary files of uploads younger than this may still be receiving bytes.
pub const TEMP_MIN_AGE: Duration = Duration::from_secs(3600);

const PAGE: u64 = 500;

#[derive(Debug, Clone, Copy)]
pub struct CheckOptions {
    /// Remove stored bytes without a row and stale temporary files.
    pub repair: bool,
    pub orphan_min_age: Duration,
    pub temp_min_age: Duration,
}

impl CheckOptions {
    pub fn new(repair: bool) -> Self {
        Self { repair, orphan_min_age: ORPHAN_MIN_AGE, temp_min_age: TEMP_MIN_AGE }
    }
}

/// A document row whose bytes are missing or differ.
#[derive(Debug, Clone)]
pub struct DocumentProblem {
    pub document_id: Uuid,
    pub request_id: Uuid,
    pub storage_key: String,
    pub problem: String,
}

/// A file in the store that no row accounts for.
#[derive(Debug, Clone)]
pub struct StrayFile {
    /// Relative to the storage folder.
    pub path: String,
    pub age: Duration,
    pub removed: bool,
}

#[derive(Debug, Clone)]
pub struct RequestProblem {
    pub request_id: Uuid,
    pub number: Option<String>,
    pub problem: String,
}

#[derive(Debug)]
pub struct CheckReport {
    pub repair: bool,
    pub documents_checked: u64,
    pub files_stored: u64,
    pub document_problems: Vec<DocumentProblem>,
    /// Stored bytes without a row, old enough to judge (removed with repair).
    pub orphans: Vec<StrayFile>,
    /// Stored bytes without a row, too young to judge: maybe an upload in flight. Not a
    /// problem (yet); run the check again in a minute.
    pub recent_orphans: Vec<StrayFile>,
    /// Temporary files of interrupted uploads older than an hour (removed with repair).
    pub stale_temp_files: Vec<StrayFile>,
    /// Removals that failed, with why.
    pub repair_failures: Vec<String>,
    pub requests_checked: u64,
    pub request_problems: Vec<RequestProblem>,
    pub audit: ChainReport,
}

impl CheckReport {
    /// Problems still there after this run (removed files are no longer problems).
    pub fn problems(&self) -> usize {
        self.document_problems.len()
            + self.orphans.iter().filter(|f| !f.removed).count()
            + self.stale_temp_files.iter().filter(|f| !f.removed).count()
            + self.request_problems.len()
            + usize::from(!self.audit.intact)
    }

    pub fn is_clean(&self) -> bool {
        self.problems() == 0
    }
}

/// Runs every check with the default ages; `repair` removes what can safely be removed.
pub async fn check(state: &AppState, repair: bool) -> ApiResult<CheckReport> {
    check_with(state, CheckOptions::new(repair)).await
}

pub async fn check_with(state: &AppState, opts: CheckOptions) -> ApiResult<CheckReport> {
    let store = &state.store;
    // Rows first, files second: bytes are in place before their row commits, so a row
    // seen here has its file listed below unless the file really is gone.
    let (documents_checked, document_problems) = check_documents(state, store).await?;
    let listed =
        store.list().await.map_err(|e| ApiError::internal(format!("cannot list {}: {e}", store.describe())))?;
    let files_stored = listed.len() as u64;
    let mut repair_failures = Vec::new();
    let (orphans, recent_orphans) = check_orphans(state, store, listed, opts, &mut repair_failures).await?;
    let stale_temp_files = match store {
        Store::Local(local) => check_temp_files(&local.root().join("tmp"), opts, &mut repair_failures).await,
        Store::S3(_) => Vec::new(),
    };
    let (requests_checked, request_problems) = check_requests(state).await?;
    let witness = crate::service::tlog::witness_path(&state.settings.audit_checkpoint_dir());
    let audit = crate::service::tlog::verify(&state.db, &state.audit_keys, Some(&witness)).await?;
    Ok(CheckReport {
        repair: opts.repair,
        documents_checked,
        files_stored,
        document_problems,
        orphans,
        recent_orphans,
        stale_temp_files,
        repair_failures,
        requests_checked,
        request_problems,
        audit,
    })
}

async fn check_documents(state: &AppState, store: &Store) -> ApiResult<(u64, Vec<DocumentProblem>)> {
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut after: Option<Uuid> = None;
    loop {
        let mut q = document::Entity::find().order_by_asc(document::Column::Id).limit(PAGE);
        if let Some(a) = after {
            q = q.filter(document::Column::Id.gt(a));
        }
        let rows = q.all(&state.db).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id);
        for d in rows {
            checked += 1;
            let problem = match store.size_of(&d.storage_key).await {
                Ok(len) if len == d.size as u64 => None,
                Ok(len) => Some(format!("the stored file has {len} bytes, the row says {}", d.size)),
                Err(e) if e.is_not_found() => Some("no bytes in the store".to_owned()),
                Err(e) => Some(format!("the stored file cannot be opened: {e}")),
            };
            if let Some(problem) = problem {
                problems.push(DocumentProblem {
                    document_id: d.id,
                    request_id: d.request_id,
                    storage_key: d.storage_key,
                    problem,
                });
            }
        }
    }
    Ok((checked, problems))
}

fn age_of(path: &Path) -> Option<Duration> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    Some(SystemTime::now().duration_since(modified).unwrap_or_default())
}

/// How old stored bytes are now; `None` when they are gone meanwhile.
fn age_of_listed(store: &Store, listed: &Listed) -> Option<Duration> {
    match store {
        Store::Local(local) => age_of(&local.root().join(&listed.key)),
        Store::S3(_) => Some(SystemTime::now().duration_since(listed.modified).unwrap_or_default()),
    }
}

async fn has_row(state: &AppState, key: &str) -> ApiResult<bool> {
    Ok(document::Entity::find().filter(document::Column::StorageKey.eq(key)).count(&state.db).await? > 0)
}

async fn check_orphans(
    state: &AppState,
    store: &Store,
    listed: Vec<Listed>,
    opts: CheckOptions,
    failures: &mut Vec<String>,
) -> ApiResult<(Vec<StrayFile>, Vec<StrayFile>)> {
    let (mut old, mut recent) = (Vec::new(), Vec::new());
    for chunk in listed.chunks(PAGE as usize) {
        let known: std::collections::HashSet<String> = document::Entity::find()
            .select_only()
            .column(document::Column::StorageKey)
            .filter(document::Column::StorageKey.is_in(chunk.iter().map(|l| l.key.clone())))
            .into_tuple::<String>()
            .all(&state.db)
            .await?
            .into_iter()
            .collect();
        for listed in chunk.iter().filter(|l| !known.contains(&l.key)) {
            let key = &listed.key;
            let Some(age) = age_of_listed(store, listed) else { continue }; // gone meanwhile
            let mut file = StrayFile { path: key.clone(), age, removed: false };
            if age < opts.orphan_min_age {
                recent.push(file);
                continue;
            }
            // Re-check right before removing: never delete bytes a row now points to.
            if opts.repair && !has_row(state, key).await? {
                match remove_stray(store, key).await {
                    Ok(()) => file.removed = true,
                    Err(e) => failures.push(format!("cannot remove {key}: {e}")),
                }
            }
            old.push(file);
        }
    }
    Ok((old, recent))
}

/// Removes stray bytes: any file in the folder (as listed, inside it); in a bucket, only
/// objects with a key of our shape (the rest are reported, never deleted).
async fn remove_stray(store: &Store, key: &str) -> Result<(), String> {
    match store {
        Store::Local(local) => tokio::fs::remove_file(local.root().join(key)).await.map_err(|e| e.to_string()),
        Store::S3(_) if !crate::storage::valid_key(key) => Err("not a key Jembatan makes; remove it by hand".into()),
        Store::S3(_) => store.remove(key).await.map_err(|e| e.to_string()),
    }
}

async fn check_temp_files(tmp: &Path, opts: CheckOptions, failures: &mut Vec<String>) -> Vec<StrayFile> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(tmp) else { return out };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    paths.sort();
    for path in paths {
        let Some(age) = age_of(&path) else { continue };
        if age < opts.temp_min_age {
            continue; // an upload still receiving bytes, probably
        }
        let name = format!("tmp/{}", path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        let mut file = StrayFile { path: name.clone(), age, removed: false };
        if opts.repair {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => file.removed = true,
                Err(e) => failures.push(format!("cannot remove {name}: {e}")),
            }
        }
        out.push(file);
    }
    out
}

/// What is wrong with one request, given its definition and its open step instances.
fn request_problems(
    r: &request::Model,
    def: Result<&WorkflowDefinition, &String>,
    current: Option<&step_instance::Model>,
    open: &[&step_instance::Model],
) -> Vec<String> {
    let mut out = Vec::new();
    let def = match def {
        Ok(d) => d,
        Err(why) => return vec![why.clone()],
    };
    if r.flow != def.flow {
        out.push(format!("its flow is `{}` but its definition is of the `{}` flow", r.flow, def.flow));
    }
    // An unknown stored status or step cannot be read at all (typed columns): `check`
    // reports the failed read instead.
    let status = r.status.0;
    let step = match def.step(r.current_step.0) {
        Some(s) => s,
        None => {
            out.push(format!("current step `{}` is not a step of its definition (v{})", r.current_step, def.version));
            return out;
        }
    };
    let first = def.first_step().map(|s| s.code);
    if status.is_final() {
        if r.current_step_instance_id.is_some() {
            out.push(format!("it is {status} but still names a current step instance"));
        }
        if !open.is_empty() {
            out.push(format!("it is {status} but {} step instance(s) are still open", open.len()));
        }
        if r.closed_at.is_none() {
            out.push(format!("it is {status} but has no closing time"));
        }
        return out;
    }
    match status {
        Status::Draft if Some(step.code) != first => {
            out.push(format!("a draft must stand at the first step, not `{}`", step.code))
        }
        Status::InProgress | Status::Returned if Some(step.code) == first => {
            out.push(format!("it is {status} but stands at the applicant's step `{}`", step.code))
        }
        Status::Returned if !step.may_return => {
            out.push(format!("it is returned from `{}`, a step that cannot return", step.code))
        }
        _ => {}
    }
    if (status == Status::Returned) != r.returned_at.is_some() {
        out.push(format!(
            "it is {status} but its returned time is {}",
            if r.returned_at.is_some() { "set" } else { "unset" }
        ));
    }
    // A step the disposition's addressees may take is theirs or its role's.
    let addressed = step.actor_from_disposition && r.current_actor.0 == CurrentActor::Addressees;
    if r.current_actor != CurrentActor::from(step.actor) && !addressed {
        out.push(format!(
            "its current actor is `{}`, the step's is `{}`",
            r.current_actor,
            CurrentActor::from(step.actor)
        ));
    }
    match (r.current_step_instance_id, current) {
        (None, _) => out.push(format!("it is {status} but names no current step instance")),
        (Some(id), None) => out.push(format!("its current step instance {id} does not exist")),
        (Some(_), Some(inst)) => {
            if inst.request_id != r.id {
                out.push(format!("its current step instance {} belongs to request {}", inst.id, inst.request_id));
            }
            if inst.step_code != r.current_step {
                out.push(format!(
                    "its current step instance {} is of step `{}`, not `{}`",
                    inst.id, inst.step_code, r.current_step
                ));
            }
            if inst.completed_at.is_some() {
                out.push(format!("its current step instance {} is already completed", inst.id));
            }
        }
    }
    let others: Vec<String> = open
        .iter()
        .filter(|i| Some(i.id) != r.current_step_instance_id)
        .map(|i| format!("{} ({})", i.id, i.step_code))
        .collect();
    if !others.is_empty() {
        out.push(format!("other step instances are open too: {}", others.join(", ")));
    }
    out
}

async fn check_requests(state: &AppState) -> ApiResult<(u64, Vec<RequestProblem>)> {
    let definitions: HashMap<Uuid, Result<WorkflowDefinition, String>> = workflow_definition::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|m| {
            let parsed = serde_json::from_value::<WorkflowDefinition>(m.definition)
                .map_err(|e| format!("its definition {} (v{}) does not parse: {e}", m.id, m.version));
            (m.id, parsed)
        })
        .collect();
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut after: Option<Uuid> = None;
    loop {
        // The names first, as text: a row with a value the domain does not know cannot be
        // read as a model (typed columns), so it is reported here and the rest checked.
        let mut q = request::Entity::find()
            .select_only()
            .columns([
                request::Column::Id,
                request::Column::Flow,
                request::Column::Status,
                request::Column::CurrentStep,
                request::Column::CurrentActor,
            ])
            .order_by_asc(request::Column::Id)
            .limit(PAGE);
        if let Some(a) = after {
            q = q.filter(request::Column::Id.gt(a));
        }
        let names: Vec<(Uuid, String, String, String, String)> = q.into_tuple().all(&state.db).await?;
        let Some(last) = names.last() else { break };
        after = Some(last.0);
        let mut readable = Vec::new();
        for (id, flow, status, step, actor) in names {
            let unknown: Vec<String> = [
                flow.parse::<Flow>().err().map(|_| format!("unknown flow `{flow}`")),
                status.parse::<Status>().err().map(|_| format!("unknown status `{status}`")),
                step.parse::<StepCode>().err().map(|_| format!("unknown current step `{step}`")),
                actor.parse::<CurrentActor>().err().map(|_| format!("unknown current actor `{actor}`")),
            ]
            .into_iter()
            .flatten()
            .collect();
            if unknown.is_empty() {
                readable.push(id);
            } else {
                checked += 1;
                problems.extend(unknown.into_iter().map(|problem| RequestProblem {
                    request_id: id,
                    number: None,
                    problem,
                }));
            }
        }
        let rows = request::Entity::find()
            .filter(request::Column::Id.is_in(readable))
            .order_by_asc(request::Column::Id)
            .all(&state.db)
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let current_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.current_step_instance_id).collect();
        let open = step_instance::Entity::find()
            .filter(step_instance::Column::RequestId.is_in(ids))
            .filter(step_instance::Column::CompletedAt.is_null())
            .all(&state.db)
            .await?;
        let current: HashMap<Uuid, step_instance::Model> = step_instance::Entity::find()
            .filter(step_instance::Column::Id.is_in(current_ids))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
        let mut open_of: HashMap<Uuid, Vec<&step_instance::Model>> = HashMap::new();
        for i in &open {
            open_of.entry(i.request_id).or_default().push(i);
        }
        for r in &rows {
            checked += 1;
            let missing = format!("its definition {} does not exist", r.definition_id);
            let def = match definitions.get(&r.definition_id) {
                Some(Ok(d)) => Ok(d),
                Some(Err(e)) => Err(e),
                None => Err(&missing),
            };
            let inst = r.current_step_instance_id.and_then(|id| current.get(&id));
            let open = open_of.get(&r.id).map(Vec::as_slice).unwrap_or_default();
            for problem in request_problems(r, def, inst, open) {
                problems.push(RequestProblem { request_id: r.id, number: r.number.clone(), problem });
            }
        }
    }
    Ok((checked, problems))
}

fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

impl CheckReport {
    fn fate(&self, file: &StrayFile) -> &'static str {
        match (file.removed, self.repair) {
            (true, _) => "removed",
            (false, true) => "NOT removed",
            (false, false) => "remove with --repair",
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = |ok: bool| if ok { "ok     " } else { "PROBLEM" };
        writeln!(f, "Jembatan consistency check{}", if self.repair { " (repair)" } else { "" })?;
        writeln!(
            f,
            "{} documents: {} rows checked, {} files stored",
            mark(self.document_problems.is_empty()),
            self.documents_checked,
            self.files_stored
        )?;
        for p in &self.document_problems {
            writeln!(
                f,
                "          document {} of request {}: {} ({})",
                p.document_id, p.request_id, p.problem, p.storage_key
            )?;
        }
        let left = self.orphans.iter().filter(|o| !o.removed).count();
        writeln!(f, "{} stored files without a row: {}", mark(left == 0), self.orphans.len())?;
        for o in &self.orphans {
            writeln!(f, "          {} ({} old): {}", o.path, age(o.age), self.fate(o))?;
        }
        if !self.recent_orphans.is_empty() {
            writeln!(
                f,
                "note    {} stored file(s) without a row younger than a minute (uploads in flight?); run again later",
                self.recent_orphans.len()
            )?;
            for o in &self.recent_orphans {
                writeln!(f, "          {} ({} old)", o.path, age(o.age))?;
            }
        }
        let left = self.stale_temp_files.iter().filter(|o| !o.removed).count();
        writeln!(
            f,
            "{} leftover temporary upload files older than an hour: {}",
            mark(left == 0),
            self.stale_temp_files.len()
        )?;
        for o in &self.stale_temp_files {
            writeln!(f, "          {} ({} old): {}", o.path, age(o.age), self.fate(o))?;
        }
        for e in &self.repair_failures {
            writeln!(f, "          repair failed: {e}")?;
        }
        writeln!(
            f,
            "{} requests: {} checked, {} problems",
            mark(self.request_problems.is_empty()),
            self.requests_checked,
            self.request_problems.len()
        )?;
        for p in &self.request_problems {
            let number = p.number.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
            writeln!(f, "          request {}{number}: {}", p.request_id, p.problem)?;
        }
        match (&self.audit.intact, &self.audit.problem) {
            (true, _) => writeln!(
                f,
                "{} audit chain: intact, {} events (head at {})",
                mark(true),
                self.audit.events_checked,
                self.audit.head_seq
            )?,
            (false, problem) => writeln!(
                f,
                "{} audit chain: broken at event {}: {}",
                mark(false),
                self.audit.first_broken_seq.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
                problem.as_deref().unwrap_or("unknown")
            )?,
        }
        match self.problems() {
            0 => write!(f, "consistent"),
            n => write!(f, "{n} problem(s) remain"),
        }
    }
}
