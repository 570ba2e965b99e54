//! The audit trail as a transparency log: the sequencer gives committed events their
//! place in the log and signs a checkpoint for each batch; proofs and verification read
//! the stored tree. The Merkle arithmetic and the signed-note format are the domain's
//! (`jembatan_domain::tlog`); this module stores and loads.
//!
//! What makes a database-only rewrite detectable: the signing key is not in the database
//! (a file or an environment variable), and every checkpoint is also appended to a file
//! outside it (`audit_checkpoint_dir`). Whoever rewrites events and recomputes every hash
//! in the database cannot sign a new checkpoint, and the checkpoints already signed — in
//! the database, in the file, in an auditor's copy — no longer match the tree.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;

use ed25519_dalek::{SigningKey, VerifyingKey};
use entity::{audit_checkpoint, audit_event, audit_head, audit_tree_node};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, ChainReport, leaf_bytes};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tlog::note::{self, Checkpoint};
use crate::tlog::{self, Hash, Nodes};

/// Events sequenced per checkpoint at most.
const BATCH: u64 = 1000;
/// The PostgreSQL advisory lock that makes one replica the sequencer at a time.
const SEQUENCER_LOCK: i64 = 0x6a656d62_61746e01;
/// The witness file in `audit_checkpoint_dir`: one JSON line per checkpoint.
pub const CHECKPOINT_FILE: &str = "checkpoints.jsonl";

/// The log's signing key and the verifier keys of the keys it used before.
#[derive(Clone)]
pub struct LogKeys {
    /// The key name in signatures and the checkpoint's origin line.
    pub origin: String,
    signing: SigningKey,
    previous: Vec<VerifyingKey>,
    /// The newest checkpoint this process knows it signed (or found in the witness file at
    /// its first run): the database must extend it before anything new is signed.
    trusted: std::sync::Arc<std::sync::Mutex<Trusted>>,
    /// Checkpoints whose signature was checked once: size → (root, signed note). A signed
    /// note never changes, so the genuine one can be kept (an edited row is ignored).
    verified: std::sync::Arc<std::sync::Mutex<HashMap<u64, (Hash, String)>>>,
    /// The upper nodes of the stored tree (see `NodeCache`).
    nodes: std::sync::Arc<NodeCache>,
    /// The latest checkpoint's size as last read, and when: proofs default to it.
    latest: std::sync::Arc<std::sync::Mutex<Option<(u64, std::time::Instant)>>>,
}

/// A node of the stored tree never changes once written (a conflict fails the batch), so
/// the upper ones — shared by every proof — are kept in memory; a proof then reads only
/// the few nodes near its leaf. Bounded; every proof served is still checked against the
/// signed root, so a wrong node could only make a proof refused, never wrong.
#[derive(Default)]
struct NodeCache(std::sync::Mutex<HashMap<(u32, u64), Hash>>);

/// Nodes covering at least 2^4 leaves are cached, at most this many (about 5 MB).
const CACHED_FROM_LEVEL: u32 = 4;
const CACHE_MAX: usize = 65_536;
/// How long a read of the latest checkpoint's size serves proofs.
const LATEST_FOR: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Default)]
struct Trusted {
    read_witness: bool,
    last: Option<(u64, Hash)>,
}

impl std::fmt::Debug for LogKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKeys").field("origin", &self.origin).finish_non_exhaustive()
    }
}

/// The local signer: checkpoints, bundle manifests and record signatures.
impl crate::signer::NoteSigner for LogKeys {
    fn sign_note(&self, text: &str) -> String {
        note::sign(text, &self.origin, &self.signing)
    }
}

impl LogKeys {
    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The verifier key string of the current key (C2SP `name+id+key`).
    pub fn verifier(&self) -> String {
        note::verifier_key(&self.origin, &self.public())
    }

    /// The verifier key strings of earlier keys, still accepted for old checkpoints.
    pub fn previous_verifiers(&self) -> Vec<String> {
        self.previous.iter().map(|k| note::verifier_key(&self.origin, k)).collect()
    }

    /// The text of `note` if the current or an earlier key signed it.
    fn open<'a>(&self, signed: &'a str) -> Result<&'a str, note::NoteError> {
        std::iter::once(self.public())
            .chain(self.previous.iter().copied())
            .find_map(|k| note::open(signed, &self.origin, &k).ok())
            .ok_or_else(|| note::NoteError::NotSigned(self.origin.clone()))
    }

    /// Whether one of our keys (current or previous) signed this checkpoint note.
    pub fn opens(&self, note: &str) -> bool {
        self.signed_point(note).is_some()
    }

    /// The size and root of a checkpoint note, if one of our keys signed it.
    fn signed_point(&self, note: &str) -> Option<(u64, Hash)> {
        let text = self.open(note).ok()?;
        let cp = Checkpoint::parse(text).ok()?;
        (cp.origin == self.origin).then_some((cp.size, cp.root))
    }

    /// The newest checkpoint known to be genuine outside the database: signed by this
    /// process, or the newest valid line of the witness file (read once).
    fn trusted_point(&self, witness_dir: &Path) -> Option<(u64, Hash)> {
        let mut t = self.trusted.lock().unwrap_or_else(|p| p.into_inner());
        if !t.read_witness {
            t.read_witness = true;
            let from_file = read_witness(&witness_path(witness_dir))
                .unwrap_or_default()
                .iter()
                .filter_map(|(_, note)| self.signed_point(note))
                .max_by_key(|(size, _)| *size);
            t.last = t.last.into_iter().chain(from_file).max_by_key(|(size, _)| *size);
        }
        t.last
    }

    fn remember(&self, size: u64, root: Hash) {
        let mut t = self.trusted.lock().unwrap_or_else(|p| p.into_inner());
        if t.last.is_none_or(|(s, _)| s < size) {
            t.last = Some((size, root));
        }
    }

    /// The verifier keys, current first, one per line.
    pub fn verifiers_text(&self) -> String {
        std::iter::once(self.verifier()).chain(self.previous_verifiers()).map(|k| k + "\n").collect()
    }

    /// A fresh key seed, base64: what `jembatan audit keygen` prints.
    pub fn generate_seed() -> String {
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
    }

    /// The keys the settings name: the seed in `JEMBATAN_AUDIT_SIGNING_KEY`, or the file
    /// `audit_signing_key_file` (created with a new key, readable by the owner only, when
    /// it does not exist: the zero-setup default). Never the database.
    pub fn load(origin: &str, seed: Option<&str>, file: &Path, previous: Option<&str>) -> Result<LogKeys, String> {
        let text = match seed.filter(|s| !s.trim().is_empty()) {
            Some(s) => s.trim().to_owned(),
            None if file.exists() => std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read the audit signing key {}: {e}", file.display()))?
                .trim()
                .to_owned(),
            None => {
                let seed = Self::generate_seed();
                write_private(file, &seed)
                    .map_err(|e| format!("cannot create the audit signing key {}: {e}", file.display()))?;
                tracing::warn!(file = %file.display(), "created a new audit signing key; back it up outside the database");
                seed
            }
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .map_err(|_| "the audit signing key is not base64".to_owned())?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| "the audit signing key must be 32 bytes".to_owned())?;
        let mut prev = Vec::new();
        for v in previous.unwrap_or_default().split(',').map(str::trim).filter(|v| !v.is_empty()) {
            let (name, key) = note::parse_verifier_key(v).map_err(|e| format!("JEMBATAN_AUDIT_PREVIOUS_KEYS: {e}"))?;
            if name != origin {
                return Err(format!("JEMBATAN_AUDIT_PREVIOUS_KEYS: key `{name}` is not for the log `{origin}`"));
            }
            prev.push(key);
        }
        Ok(LogKeys {
            origin: origin.to_owned(),
            signing: SigningKey::from_bytes(&bytes),
            previous: prev,
            trusted: Default::default(),
            verified: Default::default(),
            nodes: Default::default(),
            latest: Default::default(),
        })
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

fn hex32(h: &Hash) -> String {
    hex::encode(h)
}

fn unhex32(s: &str) -> Option<Hash> {
    hex::decode(s).ok().and_then(|b| b.try_into().ok())
}

/// Nodes held in memory (a batch's frontier and what it adds; or a whole rebuilt tree).
#[derive(Default)]
struct MemNodes(HashMap<(u32, u64), Hash>);

impl Nodes for MemNodes {
    fn node(&self, level: u32, index: u64) -> Option<Hash> {
        self.0.get(&(level, index)).copied()
    }
}

/// The complete subtrees a tree of `size` leaves ends with (its right edge): all that
/// appending to it, or computing its root, needs.
fn frontier(size: u64) -> Vec<(u32, u64)> {
    (0..64u32).filter(|l| (size >> l) & 1 == 1).map(|l| (l, (size >> l) - 1)).collect()
}

/// Loads stored nodes by coordinates: one query for a proof's few dozen nodes (a
/// condition per level), more only for thousands.
async fn load_nodes<C: ConnectionTrait>(db: &C, wanted: &[(u32, u64)]) -> ApiResult<MemNodes> {
    let mut wanted = wanted.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = MemNodes::default();
    for chunk in wanted.chunks(1000) {
        let mut by_level: HashMap<u32, Vec<i64>> = HashMap::new();
        for &(l, i) in chunk {
            by_level.entry(l).or_default().push(i64::try_from(i).unwrap_or(i64::MAX));
        }
        let mut any = sea_orm::Condition::any();
        for (level, idx) in by_level {
            any = any.add(
                sea_orm::Condition::all()
                    .add(audit_tree_node::Column::Level.eq(i32::try_from(level).unwrap_or(i32::MAX)))
                    .add(audit_tree_node::Column::Idx.is_in(idx)),
            );
        }
        for r in audit_tree_node::Entity::find().filter(any).all(db).await? {
            if let Some(h) = unhex32(&r.hash) {
                out.0.insert((u32::try_from(r.level).unwrap_or(u32::MAX), r.idx as u64), h);
            }
        }
    }
    Ok(out)
}

/// Which nodes a computation reads: run it once against this recorder, load them, run again.
struct Recorder(std::cell::RefCell<Vec<(u32, u64)>>);

impl Nodes for Recorder {
    fn node(&self, level: u32, index: u64) -> Option<Hash> {
        self.0.borrow_mut().push((level, index));
        Some([0; 32])
    }
}

/// Runs `f` over the stored tree, loading just the nodes it reads; with a cache, the upper
/// nodes come from (and go into) it. Without one (exports), every node is read as stored.
async fn over_stored<C: ConnectionTrait, T, E>(
    db: &C,
    cache: Option<&NodeCache>,
    f: impl Fn(&dyn NodesDyn) -> Result<T, E>,
) -> ApiResult<Result<T, E>> {
    let recorder = Recorder(Default::default());
    let _ = f(&recorder);
    let wanted = recorder.0.into_inner();
    let Some(cache) = cache else {
        return Ok(f(&load_nodes(db, &wanted).await?));
    };
    let mut nodes = MemNodes::default();
    let missing: Vec<(u32, u64)> = {
        let held = cache.0.lock().unwrap_or_else(|p| p.into_inner());
        wanted
            .into_iter()
            .filter(|key| match held.get(key) {
                Some(h) => {
                    nodes.0.insert(*key, *h);
                    false
                }
                None => true,
            })
            .collect()
    };
    if !missing.is_empty() {
        let loaded = load_nodes(db, &missing).await?;
        let mut held = cache.0.lock().unwrap_or_else(|p| p.into_inner());
        if held.len() + loaded.0.len() > CACHE_MAX {
            held.clear();
        }
        for (key, h) in loaded.0 {
            if key.0 >= CACHED_FROM_LEVEL {
                held.insert(key, h);
            }
            nodes.0.insert(key, h);
        }
    }
    Ok(f(&nodes))
}

/// The latest checkpoint's size, read at most every `LATEST_FOR` (or again when `need` is
/// not below it: an event just logged).
async fn latest_size<C: ConnectionTrait>(db: &C, keys: &LogKeys, need: u64) -> ApiResult<u64> {
    let held = *keys.latest.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((size, at)) = held
        && at.elapsed() < LATEST_FOR
        && need < size
    {
        return Ok(size);
    }
    let size = latest_checkpoint(db).await?.ok_or_else(|| ApiError::Conflict("no checkpoint yet".into()))?.size as u64;
    *keys.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some((size, std::time::Instant::now()));
    Ok(size)
}

/// `Nodes` as a trait object (the domain's functions take `impl Nodes`).
trait NodesDyn {
    fn node_dyn(&self, level: u32, index: u64) -> Option<Hash>;
}

impl<T: Nodes> NodesDyn for T {
    fn node_dyn(&self, level: u32, index: u64) -> Option<Hash> {
        self.node(level, index)
    }
}

impl Nodes for &dyn NodesDyn {
    fn node(&self, level: u32, index: u64) -> Option<Hash> {
        // Through the trait object: `self.node_dyn` would pick the blanket impl for
        // `&dyn NodesDyn` itself and recurse.
        (**self).node_dyn(level, index)
    }
}

/// The log's size now: one more than the highest index given.
async fn log_size<C: ConnectionTrait>(db: &C) -> ApiResult<u64> {
    let max: Option<Option<i64>> = audit_event::Entity::find()
        .select_only()
        .column_as(audit_event::Column::LeafIndex.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().map_or(0, |m| m as u64 + 1))
}

/// The events not yet in the log, oldest first. Ordered by `seq` so that PostgreSQL reads
/// them from the partial index that holds exactly them (m0018) whatever its statistics
/// say: unordered, a `LIMIT 1` looked cheaper as a walk of the table.
pub fn unsequenced() -> sea_orm::Select<audit_event::Entity> {
    audit_event::Entity::find().filter(audit_event::Column::LeafIndex.is_null()).order_by_asc(audit_event::Column::Seq)
}

/// One run of the sequencer: gives the committed events not yet in the log their indexes
/// (in `seq` order), stores the nodes they complete, signs a checkpoint of the new size
/// and appends it to the witness file. `None`: nothing to do, or another replica is the
/// sequencer right now.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sequence(state: &AppState) -> ApiResult<Option<u64>> {
    // A cheap read first: an idle log takes no write lock.
    let waiting = unsequenced().one(&state.db).await?;
    if waiting.is_none() {
        return Ok(None);
    }
    let keys = state.audit_keys.clone();
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        let row = txn
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT pg_try_advisory_xact_lock({SEQUENCER_LOCK}) AS locked"),
            ))
            .await?;
        if !row.map(|r| r.try_get::<bool>("", "locked")).transpose()?.unwrap_or(false) {
            return Ok(None);
        }
    }
    let pending = unsequenced().limit(BATCH).all(&txn).await?;
    if pending.is_empty() {
        return Ok(None);
    }
    let size = log_size(&txn).await?;
    // Never sign a history the database cannot show extends what was signed before: the
    // latest checkpoint in the database must be genuine, cover exactly the logged events,
    // match the stored tree, and not be older than the newest one known outside the
    // database (a rollback). Otherwise a database-only attacker could have the service
    // sign a rewritten tail.
    let latest = latest_checkpoint(&txn).await?;
    let latest_point = match &latest {
        Some(c) => Some(keys.signed_point(&c.note).ok_or_else(|| alarm("the latest checkpoint is not one we signed"))?),
        None => None,
    };
    if latest_point.map_or(0, |(s, _)| s) != size {
        return Err(alarm("the logged events are not exactly those the latest checkpoint signs"));
    }
    let trusted = keys.trusted_point(&state.settings.audit_checkpoint_dir());
    if trusted.is_some_and(|(t, _)| t > size) {
        return Err(alarm("the database's log is older than a checkpoint already signed (a rollback)"));
    }
    for (s, root) in latest_point.into_iter().chain(trusted) {
        let wanted = (0..64u32).filter(|l| (s >> l) & 1 == 1).map(|l| (l, (s >> l) - 1)).collect::<Vec<_>>();
        let stored = load_nodes(&txn, &wanted).await?;
        if tlog::root(&stored, s).ok() != Some(root) {
            return Err(alarm(&format!("the stored tree does not match the signed checkpoint of size {s}")));
        }
    }
    let mut leaves = Vec::with_capacity(pending.len());
    for e in &pending {
        let leaf = tlog::leaf_hash(&leaf_bytes(e));
        // An event changed between its commit and now is not taken into the log.
        if e.leaf_hash.as_deref().is_some_and(|stored| stored != hex32(&leaf)) {
            tracing::error!(seq = e.seq, id = %e.id, "an audit event no longer matches the leaf hash it was written with");
            return Err(ApiError::internal(format!("audit event {} was altered before it was logged", e.seq)));
        }
        leaves.push(leaf);
    }
    let mut nodes = load_nodes(&txn, &frontier(size)).await?;
    let added = tlog::nodes_to_store(&nodes, size, &leaves).map_err(|e| ApiError::internal(e.to_string()))?;
    for chunk in added.chunks(300) {
        let rows = chunk.iter().map(|(l, i, h)| audit_tree_node::ActiveModel {
            level: Set(i32::try_from(*l).unwrap_or(i32::MAX)),
            idx: Set(*i as i64),
            hash: Set(hex32(h)),
        });
        // A node is written once: one already there (a conflict) fails the batch.
        audit_tree_node::Entity::insert_many(rows).exec(&txn).await?;
    }
    for (l, i, h) in added {
        nodes.0.insert((l, i), h);
    }
    // One statement per 200 events, not one per event: under load the batch's round trips
    // were most of the sequencer's time, and its lag grew with them. The values are
    // integers and hex digests made here, so they are written into the statement.
    for (n, chunk) in pending.chunks(200).enumerate() {
        let (mut index_cases, mut hash_cases, mut seqs) = (String::new(), String::new(), Vec::new());
        for (k, e) in chunk.iter().enumerate() {
            let offset = n * 200 + k;
            index_cases.push_str(&format!(" WHEN {} THEN {}", e.seq, size as i64 + offset as i64));
            hash_cases.push_str(&format!(" WHEN {} THEN '{}'", e.seq, hex32(&leaves[offset])));
            seqs.push(e.seq.to_string());
        }
        let sql = format!(
            "UPDATE audit_events SET leaf_index = CASE seq{index_cases} END, leaf_hash = CASE seq{hash_cases} END \
             WHERE seq IN ({})",
            seqs.join(",")
        );
        let updated = txn.execute_raw(Statement::from_string(backend, sql)).await?;
        if updated.rows_affected() != chunk.len() as u64 {
            return Err(ApiError::internal("audit log: events changed while they were being logged"));
        }
    }
    let new_size = size + pending.len() as u64;
    let root = tlog::root(&nodes, new_size).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut extensions = Vec::new();
    if size == 0 {
        // The old chain ends where the log begins: its last link is in the first note.
        if let Some(head) = audit_head::Entity::find_by_id(1).one(&txn).await?.filter(|h| h.seq > 0) {
            extensions.push(format!("jembatan-chain-head {} {}", head.seq, head.hash));
        }
    }
    let checkpoint = Checkpoint { origin: keys.origin.clone(), size: new_size, root, extensions };
    let signed = crate::signer::NoteSigner::sign_note(&keys, &checkpoint.text());
    audit_checkpoint::Entity::insert(audit_checkpoint::ActiveModel {
        size: Set(new_size as i64),
        root_hash: Set(hex32(&root)),
        note: Set(signed.clone()),
        created_at: Set(now),
    })
    .exec(&txn)
    .await?;
    txn.commit().await?;
    keys.remember(new_size, root);
    // After the commit: a checkpoint in the file is always one the database has. A crash
    // here loses this line only; the next checkpoint extends it and is written.
    if let Err(e) = append_witness(&state.settings.audit_checkpoint_dir(), new_size, &signed) {
        tracing::error!(error = %e, "could not append the checkpoint to the witness file");
    }
    Ok(Some(new_size))
}

#[derive(Serialize, Deserialize)]
struct WitnessLine {
    size: u64,
    note: String,
}

fn append_witness(dir: &Path, size: u64, signed: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(CHECKPOINT_FILE))?;
    let mut line = serde_json::to_string(&WitnessLine { size, note: signed.to_owned() }).unwrap_or_default();
    line.push('\n');
    // One write of the whole line: appends of several processes do not interleave.
    f.write_all(line.as_bytes())?;
    f.sync_data()
}

/// A refusal to sign, logged loudly: the database no longer agrees with what was signed.
fn alarm(why: &str) -> ApiError {
    tracing::error!(problem = why, "audit log: refusing to sign");
    ApiError::internal(format!("audit log: {why}"))
}

/// The signed notes of a witness file (the service's, or one an auditor saved).
pub fn read_witness(path: &Path) -> Result<Vec<(u64, String)>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<WitnessLine>(l)
                .map(|w| (w.size, w.note))
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .collect()
}

/// The latest signed checkpoint.
pub async fn latest_checkpoint<C: ConnectionTrait>(db: &C) -> ApiResult<Option<audit_checkpoint::Model>> {
    Ok(audit_checkpoint::Entity::find().order_by_desc(audit_checkpoint::Column::Size).one(db).await?)
}

/// An inclusion proof of one event, to a checkpoint of the log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "event_id": "0193a1f0-6c00-7000-8000-000000000001", "leaf_index": 41,
    "leaf_hash": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "tree_size": 64, "root_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "proof": ["5f1c…", "a3d2…"]
}))]
pub struct InclusionProof {
    pub event_id: Uuid,
    pub leaf_index: i64,
    /// Hex SHA-256(0x00 ‖ canonical event JSON).
    pub leaf_hash: String,
    pub tree_size: i64,
    pub root_hash: String,
    /// The audit path (RFC 9162 §2.1.3), hex, leaf to root.
    pub proof: Vec<String>,
    /// The signed checkpoint of `tree_size`, when one was signed at that size.
    pub checkpoint: Option<String>,
}

/// The proof that event `id` is in the log of `size` (default: the latest checkpoint).
pub async fn inclusion<C: ConnectionTrait>(
    db: &C,
    keys: &LogKeys,
    e: &super::audit::LoggedEvent,
    size: Option<u64>,
) -> ApiResult<InclusionProof> {
    let index = e
        .leaf_index
        .ok_or_else(|| ApiError::Conflict("the event is not in the log yet; try again in a few seconds".into()))?
        as u64;
    let latest = latest_size(db, keys, size.unwrap_or(index)).await?;
    let size = size.unwrap_or(latest);
    if size > latest {
        return Err(ApiError::invalid("size", format!("the latest checkpoint is of size {latest}")));
    }
    if index >= size {
        return Err(ApiError::invalid("size", format!("the event's index {index} is not below {size}")));
    }
    let (root, note) = signed_checkpoint(db, keys, size).await?;
    let proof = over_stored(db, Some(&keys.nodes), |n| tlog::inclusion_proof(&n, index, size))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let leaf = e.leaf_hash.as_deref().and_then(unhex32).ok_or_else(|| alarm("a logged event has no leaf hash"))?;
    if !tlog::verify_inclusion(&leaf, index, size, &proof, &root) {
        return Err(tree_disagrees(size));
    }
    let checkpoint = Some(note);
    Ok(InclusionProof {
        event_id: e.id,
        leaf_index: index as i64,
        leaf_hash: e.leaf_hash.clone().unwrap_or_default(),
        tree_size: size as i64,
        root_hash: hex32(&root),
        proof: proof.iter().map(hex32).collect(),
        checkpoint,
    })
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"from": 32, "to": 64, "from_root": "…", "to_root": "…", "proof": ["…"]}))]
pub struct ConsistencyProof {
    pub from: i64,
    pub to: i64,
    pub from_root: String,
    pub to_root: String,
    /// RFC 9162 §2.1.4, hex.
    pub proof: Vec<String>,
}

/// The root and note of the checkpoint signed at `size`, its signature checked (once per
/// process: see `LogKeys::verified`). Only sizes a checkpoint was signed at are proved to.
async fn signed_checkpoint<C: ConnectionTrait>(db: &C, keys: &LogKeys, size: u64) -> ApiResult<(Hash, String)> {
    if let Some(hit) = keys.verified.lock().unwrap_or_else(|p| p.into_inner()).get(&size) {
        return Ok(hit.clone());
    }
    let c = audit_checkpoint::Entity::find_by_id(size as i64)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::invalid("size", format!("no checkpoint was signed at size {size}")))?;
    let (signed_size, root) =
        keys.signed_point(&c.note).ok_or_else(|| alarm("a stored checkpoint is not one we signed"))?;
    if signed_size != size {
        return Err(alarm(&format!("the checkpoint stored at size {size} signs size {signed_size}")));
    }
    let mut cache = keys.verified.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= 4096 {
        cache.clear();
    }
    cache.insert(size, (root, c.note.clone()));
    Ok((root, c.note))
}

/// A proof computed from a tampered tree would lead elsewhere than the signed root: it is
/// refused (and the refusal logged) instead of served.
fn tree_disagrees(size: u64) -> ApiError {
    let why = format!("the stored tree does not match the signed checkpoint of size {size}");
    tracing::error!(problem = why, "audit log: refusing to serve a proof");
    ApiError::internal(format!("audit log: {why}"))
}

/// The proof that the log of `from` events is a prefix of the log of `to` events.
pub async fn consistency<C: ConnectionTrait>(
    db: &C,
    keys: &LogKeys,
    from: u64,
    to: u64,
) -> ApiResult<ConsistencyProof> {
    let latest = latest_checkpoint(db).await?.map_or(0, |c| c.size as u64);
    if from == 0 || from > to || to > latest {
        return Err(ApiError::invalid("from", format!("need 0 < from ≤ to ≤ {latest} (the latest checkpoint)")));
    }
    let (from_root, _) = signed_checkpoint(db, keys, from).await?;
    let (to_root, _) = signed_checkpoint(db, keys, to).await?;
    let proof = over_stored(db, Some(&keys.nodes), |n| tlog::consistency_proof(&n, from, to))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if !tlog::verify_consistency(from, to, &from_root, &to_root, &proof) {
        return Err(tree_disagrees(to));
    }
    Ok(ConsistencyProof {
        from: from as i64,
        to: to as i64,
        from_root: hex32(&from_root),
        to_root: hex32(&to_root),
        proof: proof.iter().map(hex32).collect(),
    })
}

/// Checks the whole trail: the old chain, then every logged event against its leaf hash,
/// the tree rebuilt from the events' contents against every checkpoint in the database
/// and in the witness file (`witness`, default the service's own), and each checkpoint's
/// signature. `jembatan check` and `GET /audit/verify` both call this.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify<C: ConnectionTrait>(db: &C, keys: &LogKeys, witness: Option<&Path>) -> ApiResult<ChainReport> {
    let mut report = audit::verify_chain(db).await?;
    if !report.intact {
        return Ok(report);
    }
    // The order of the reads makes a sequencer running meanwhile harmless: a witness line
    // is written only after its checkpoint committed, and a checkpoint commits with the
    // events it signs. So the witness first, then the checkpoints, then the events they
    // sign (anything logged later is checked like an event not yet logged).
    let notes = match witness {
        Some(p) => read_witness(p).map_err(ApiError::internal)?,
        None => Vec::new(),
    };
    let checkpoints = audit_checkpoint::Entity::find().order_by_asc(audit_checkpoint::Column::Size).all(db).await?;
    let signed = checkpoints.last().map_or(0, |c| c.size);
    // Rebuild the tree of the signed events from their contents, in index order.
    let mut tree = MemNodes::default();
    let mut size = 0u64;
    let mut after: Option<i64> = None;
    loop {
        let mut q = audit_event::Entity::find()
            .filter(audit_event::Column::LeafIndex.lt(signed))
            .order_by_asc(audit_event::Column::LeafIndex)
            .limit(2000);
        if let Some(a) = after {
            q = q.filter(audit_event::Column::LeafIndex.gt(a));
        }
        let batch = q.all(db).await?;
        if batch.is_empty() {
            break;
        }
        let mut leaves = Vec::with_capacity(batch.len());
        for e in &batch {
            let index = e.leaf_index.unwrap_or(-1);
            report.events_checked += 1;
            if index != size as i64 {
                return Ok(report.broken(
                    Some(e.seq),
                    Some(size as i64),
                    format!("the event at log index {size} is missing"),
                ));
            }
            let leaf = tlog::leaf_hash(&leaf_bytes(e));
            if e.leaf_hash.as_deref() != Some(hex32(&leaf).as_str()) {
                return Ok(report.broken(Some(e.seq), Some(index), "the event's content does not match its leaf hash"));
            }
            leaves.push(leaf);
            size += 1;
            after = Some(index);
        }
        let from = size - leaves.len() as u64;
        let added = tlog::nodes_to_store(&tree, from, &leaves).map_err(|e| ApiError::internal(e.to_string()))?;
        for (l, i, h) in added {
            tree.0.insert((l, i), h);
        }
    }
    report.log_size = size as i64;
    // Every checkpoint the database holds, and every one in the witness file outside it:
    // signed by our key, and matching the tree rebuilt from the events.
    for c in &checkpoints {
        report.checkpoints_checked += 1;
        if let Err(problem) = check_note(keys, &tree, size, &c.note) {
            return Ok(report.broken(None, Some(c.size), format!("checkpoint {}: {problem}", c.size)));
        }
    }
    // The old chain ends where the log begins: the first checkpoint names its last link,
    // which must be the one the database's chain ends with.
    if let Some(first) = checkpoints.first() {
        let head = audit_head::Entity::find_by_id(1).one(db).await?;
        let in_db = head.filter(|h| h.seq > 0).map(|h| format!("jembatan-chain-head {} {}", h.seq, h.hash));
        let named = keys
            .open(&first.note)
            .ok()
            .and_then(|t| Checkpoint::parse(t).ok())
            .and_then(|c| c.extensions.into_iter().find(|x| x.starts_with("jembatan-chain-head ")));
        if named != in_db {
            return Ok(report.broken(
                None,
                Some(first.size),
                format!(
                    "the first checkpoint names the old chain's end as {}, the database's chain ends at {}",
                    named.as_deref().unwrap_or("nothing"),
                    in_db.as_deref().unwrap_or("nothing")
                ),
            ));
        }
    }
    for (claimed, note) in notes {
        report.witness_checkpoints_checked += 1;
        if let Err(problem) = check_note(keys, &tree, size, &note) {
            return Ok(report.broken(None, Some(claimed as i64), format!("witness checkpoint {claimed}: {problem}")));
        }
    }
    // Events logged but signed by no checkpoint: the highest index first, then the latest
    // checkpoint (a batch commits both at once, so a sequencer running between the two
    // reads cannot make an honest log look unsigned).
    let highest = log_size(db).await?;
    let latest = latest_checkpoint(db).await?.map_or(0, |c| c.size as u64);
    if highest > latest {
        return Ok(report.broken(None, Some(latest as i64), "events were logged after the last signed checkpoint"));
    }
    // Events logged after the checkpoints read above, and events not yet logged, must
    // still match the leaf hash they were written with.
    let rest = audit_event::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(audit_event::Column::LeafIndex.is_null())
                .add(audit_event::Column::LeafIndex.gte(signed)),
        )
        .order_by_asc(audit_event::Column::Seq)
        .all(db)
        .await?;
    for e in &rest {
        report.events_checked += 1;
        report.pending += i64::from(e.leaf_index.is_none());
        if e.leaf_hash.as_deref() != Some(hex32(&tlog::leaf_hash(&leaf_bytes(e))).as_str()) {
            return Ok(report.broken(Some(e.seq), e.leaf_index, "the event's content does not match its leaf hash"));
        }
    }
    Ok(report)
}

/// Whether a signed note is ours and agrees with the rebuilt tree of `size` leaves.
fn check_note(keys: &LogKeys, tree: &MemNodes, size: u64, signed: &str) -> Result<(), String> {
    let text = keys.open(signed).map_err(|e| e.to_string())?;
    let cp = Checkpoint::parse(text).map_err(|e| e.to_string())?;
    if cp.origin != keys.origin {
        return Err(format!("it is of the log `{}`", cp.origin));
    }
    if cp.size > size {
        return Err(format!("it covers {} events, the log has {size}: events are missing", cp.size));
    }
    let root = tlog::root(tree, cp.size).map_err(|e| e.to_string())?;
    if root != cp.root {
        return Err("its root does not match the events: the log was rewritten".into());
    }
    Ok(())
}

/// Proofs for an export, computed from the stored tree as it is (a bundle from a tampered
/// database carries proofs that do not lead to the signed root, and the offline check
/// says so): the audit path of each index to `size`, and the consistency proof from each
/// size in `from` to `size`. The nodes are loaded in one pass.
pub(crate) async fn export_proofs<C: ConnectionTrait>(
    db: &C,
    indexes: &[u64],
    from: &[u64],
    size: u64,
) -> ApiResult<(Vec<Vec<Hash>>, Vec<Vec<Hash>>)> {
    let computed = over_stored(db, None, |n| {
        let inclusion = indexes.iter().map(|&i| tlog::inclusion_proof(&n, i, size)).collect::<Result<Vec<_>, _>>()?;
        let consistency = from.iter().map(|&m| tlog::consistency_proof(&n, m, size)).collect::<Result<Vec<_>, _>>()?;
        Ok::<_, tlog::ProofError>((inclusion, consistency))
    })
    .await?;
    computed.map_err(|e| ApiError::internal(format!("the stored tree is incomplete: {e}")))
}

/// The witness file the service writes.
pub fn witness_path(dir: &Path) -> PathBuf {
    dir.join(CHECKPOINT_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frontier_is_the_right_edge_of_complete_subtrees() {
        assert_eq!(frontier(0), vec![]);
        assert_eq!(frontier(1), vec![(0, 0)]);
        assert_eq!(frontier(6), vec![(1, 2), (2, 0)]);
        assert_eq!(frontier(7), vec![(0, 6), (1, 2), (2, 0)]);
        assert_eq!(frontier(8), vec![(3, 0)]);
    }

    #[test]
    fn a_key_file_is_created_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("jembatan-keys-{}", Uuid::new_v4()));
        let file = dir.join("audit.key");
        let a = LogKeys::load("test/audit", None, &file, None).unwrap();
        let b = LogKeys::load("test/audit", None, &file, None).unwrap();
        assert_eq!(a.public(), b.public());
        let rotated = LogKeys::load("test/audit", Some(&LogKeys::generate_seed()), &file, Some(&a.verifier())).unwrap();
        assert_ne!(rotated.public(), a.public());
        assert_eq!(rotated.previous_verifiers(), [a.verifier()]);
        assert!(LogKeys::load("other/audit", Some(&LogKeys::generate_seed()), &file, Some(&a.verifier())).is_err());
        assert!(LogKeys::load("test/audit", Some("not base64!"), &file, None).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
