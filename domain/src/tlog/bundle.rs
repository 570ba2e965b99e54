//! An evidence bundle: part of the audit log taken out of the service — a request's events,
//! or a range of the log — with everything needed to check it with no database and no
//! network: each event's content, its inclusion proof to a signed checkpoint, the
//! documents the events name, consistency proofs from earlier checkpoints (to compare with
//! checkpoints an auditor saved), the verifier keys, and a manifest signed by the log's
//! key that lists every event and every file. [`verify`] pinpoints the first bad item.
//!
//! Pure: the bundle arrives as a map of file paths to bytes (the service writes it as a
//! tar file; an auditor may unpack it), the trusted keys and witness notes as strings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::note::{self, Checkpoint};
use super::{Hash, canonical_json, leaf_hash, verify_consistency, verify_inclusion};

/// The bundle format this code writes and reads.
pub const FORMAT: &str = "jembatan-bundle/1";
pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_SIGNATURE: &str = "manifest.sig";
pub const EVENTS: &str = "events.jsonl";
pub const CHECKPOINT: &str = "checkpoint.txt";
pub const CONSISTENCY: &str = "consistency.jsonl";
pub const KEYS: &str = "keys.txt";
pub const DOCUMENTS_DIR: &str = "documents/";

/// What a bundle holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One request's events, as the caller who exported it may see them.
    Request { request_id: String },
    /// The log's events with indexes `from..to`.
    Range { from: u64, to: u64 },
}

/// The signed table of contents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The log's origin (the checkpoint's first line and the key name).
    pub origin: String,
    pub scope: Scope,
    /// When and by whom it was made (informational).
    pub created_at: String,
    pub created_by: String,
    /// The size of the signed checkpoint every proof leads to.
    pub tree_size: u64,
    /// Every event, in log order.
    pub events: Vec<ListedEvent>,
    pub documents: Vec<ListedDocument>,
    /// Every other file of the bundle with its hex SHA-256.
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedEvent {
    pub leaf_index: u64,
    pub leaf_hash: String,
    /// Part of the content is withheld from this bundle's reader (an internal note):
    /// the event's place in the log is proven, its content is not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedDocument {
    pub id: String,
    /// The file in the bundle (`documents/<id>`).
    pub path: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// One line of `events.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventLine {
    pub leaf_index: u64,
    pub leaf_hash: String,
    /// The audit path to the checkpoint of `tree_size`, hex.
    pub proof: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// The event as its leaf hash covers it (canonical JSON re-serialized).
    pub event: serde_json::Value,
}

/// One line of `consistency.jsonl`: the proof that the checkpoint of `from` events is a
/// prefix of the bundle's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsistencyLine {
    pub from: u64,
    pub proof: Vec<String>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The text the log's key signs for a manifest. It cannot be read as a checkpoint (whose
/// second line is a number), so a manifest signature is never mistaken for one.
pub fn manifest_note_text(manifest: &[u8]) -> String {
    format!("{FORMAT} manifest\nsha256 {}\n", sha256_hex(manifest))
}

/// What a bundle is made of, gathered by the service.
pub struct Contents {
    pub origin: String,
    pub scope: Scope,
    pub created_at: String,
    pub created_by: String,
    /// The signed checkpoint note every proof leads to.
    pub checkpoint: String,
    pub tree_size: u64,
    pub events: Vec<EventLine>,
    pub documents: Vec<(ListedDocument, Vec<u8>)>,
    pub consistency: Vec<ConsistencyLine>,
    /// Verifier keys, one per line (the current key first).
    pub keys: String,
}

fn jsonl<T: Serialize>(items: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    for i in items {
        out.extend(serde_json::to_vec(i).unwrap_or_default());
        out.push(b'\n');
    }
    out
}

/// The bundle's files, with the manifest and its signature (`sign` turns a note's text
/// into the signed note).
pub fn assemble(c: Contents, sign: impl FnOnce(&str) -> String) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert(EVENTS.to_owned(), jsonl(&c.events));
    files.insert(CHECKPOINT.to_owned(), c.checkpoint.into_bytes());
    files.insert(CONSISTENCY.to_owned(), jsonl(&c.consistency));
    files.insert(KEYS.to_owned(), c.keys.into_bytes());
    let listed = files.iter().map(|(p, b)| (p.clone(), sha256_hex(b))).collect();
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        origin: c.origin,
        scope: c.scope,
        created_at: c.created_at,
        created_by: c.created_by,
        tree_size: c.tree_size,
        events: c
            .events
            .iter()
            .map(|e| ListedEvent { leaf_index: e.leaf_index, leaf_hash: e.leaf_hash.clone(), redacted: e.redacted })
            .collect(),
        documents: c.documents.iter().map(|(d, _)| d.clone()).collect(),
        files: listed,
    };
    for (d, bytes) in c.documents {
        files.insert(d.path, bytes);
    }
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    files.insert(MANIFEST_SIGNATURE.to_owned(), sign(&manifest_note_text(&manifest)).into_bytes());
    files.insert(MANIFEST.to_owned(), manifest);
    files
}

/// The outcome of a check.
#[derive(Debug, Default)]
pub struct Report {
    /// What was checked and found right, one line each.
    pub checked: Vec<String>,
    /// What could not be established: the keys came from the bundle itself, or a saved
    /// checkpoint could not be compared. Not a proof of tampering, and not a clean result.
    pub notes: Vec<String>,
    /// The first problem found; the check stops there.
    pub problem: Option<String>,
    /// Whether the signatures were checked against keys the reader gave (not the
    /// bundle's own `keys.txt`).
    pub authenticated: bool,
    /// Saved checkpoints that could not be compared with the bundle.
    pub not_compared: usize,
    pub events: usize,
    pub redacted: usize,
    pub documents: usize,
    pub witness_compared: usize,
}

/// What a check concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every item checked out against the reader's keys and saved checkpoints.
    Intact,
    /// Nothing wrong was found, but something could not be established (see the notes).
    Inconclusive,
    /// An item is wrong: `problem` names the first.
    Bad,
}

impl Report {
    /// Nothing wrong was found (the verdict may still be inconclusive).
    pub fn intact(&self) -> bool {
        self.problem.is_none()
    }

    pub fn verdict(&self) -> Verdict {
        match (&self.problem, self.authenticated && self.not_compared == 0) {
            (Some(_), _) => Verdict::Bad,
            (None, true) => Verdict::Intact,
            (None, false) => Verdict::Inconclusive,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checked {
            writeln!(f, "ok    {c}")?;
        }
        for n in &self.notes {
            writeln!(f, "note  {n}")?;
        }
        let counts = format!(
            "{} events ({} redacted), {} documents, {} saved checkpoints compared",
            self.events, self.redacted, self.documents, self.witness_compared
        );
        match (self.verdict(), &self.problem) {
            (Verdict::Bad, Some(p)) => write!(f, "BAD   {p}"),
            (Verdict::Intact, _) => write!(f, "INTACT: {counts}"),
            _ => write!(f, "INCONCLUSIVE (nothing wrong found; see the notes): {counts}"),
        }
    }
}

/// A verifier key given as `name+id+key`.
pub struct TrustedKey {
    pub name: String,
    pub key: VerifyingKey,
    pub text: String,
}

pub fn parse_keys(text: &str) -> Result<Vec<TrustedKey>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            note::parse_verifier_key(l)
                .map(|(name, key)| TrustedKey { name, key, text: l.to_owned() })
                .map_err(|e| format!("verifier key `{l}`: {e}"))
        })
        .collect()
}

/// Checks a bundle. `trusted` are the verifier keys the reader trusts (empty: the keys the
/// bundle carries, which proves integrity only if the reader compares them with the
/// office's published key); `witness` are signed checkpoint notes saved earlier.
pub fn verify(files: &BTreeMap<String, Vec<u8>>, trusted: &[TrustedKey], witness: &[String]) -> Report {
    let mut report = Report::default();
    if let Err(problem) = check(files, trusted, witness, &mut report) {
        report.problem = Some(problem);
    }
    report
}

fn unhex(s: &str, what: &str) -> Result<Hash, String> {
    hex::decode(s).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| format!("{what}: `{s}` is not a hex SHA-256"))
}

fn text<'a>(files: &'a BTreeMap<String, Vec<u8>>, path: &str) -> Result<&'a str, String> {
    let bytes = files.get(path).ok_or_else(|| format!("{path} is missing"))?;
    std::str::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8"))
}

fn check(
    files: &BTreeMap<String, Vec<u8>>,
    trusted: &[TrustedKey],
    witness: &[String],
    report: &mut Report,
) -> Result<(), String> {
    // 1. The manifest, signed by a trusted key.
    let manifest_bytes = files.get(MANIFEST).ok_or_else(|| format!("{MANIFEST} is missing"))?;
    let manifest: Manifest =
        serde_json::from_slice(manifest_bytes).map_err(|e| format!("{MANIFEST} cannot be read: {e}"))?;
    if manifest.format != FORMAT {
        return Err(format!("{MANIFEST}: format `{}`, this verifier reads `{FORMAT}`", manifest.format));
    }
    let own;
    report.authenticated = !trusted.is_empty();
    let keys: &[TrustedKey] = if trusted.is_empty() {
        own = parse_keys(text(files, KEYS)?)?;
        report.notes.push(format!(
            "no key was given: the bundle's own {KEYS} was trusted, and anyone can make a bundle with its own key; \
             pass the office's published key (GET /audit/public-key) with --key"
        ));
        &own
    } else {
        trusted
    };
    let keys: Vec<&TrustedKey> = keys.iter().filter(|k| k.name == manifest.origin).collect();
    if keys.is_empty() {
        return Err(format!("no trusted key is for the log `{}`", manifest.origin));
    }
    let open = |signed: &str| -> Option<(String, String)> {
        keys.iter().find_map(|k| note::open(signed, &k.name, &k.key).ok().map(|t| (t.to_owned(), k.text.clone())))
    };
    let (signed_text, by) = open(text(files, MANIFEST_SIGNATURE)?)
        .ok_or_else(|| format!("{MANIFEST_SIGNATURE}: not signed by a trusted key of `{}`", manifest.origin))?;
    if signed_text != manifest_note_text(manifest_bytes) {
        return Err(format!("{MANIFEST} was changed after it was signed"));
    }
    report.checked.push(format!("{MANIFEST} signed by {by}"));

    // 2. The checkpoint every proof leads to.
    let (cp_text, _) = open(text(files, CHECKPOINT)?)
        .ok_or_else(|| format!("{CHECKPOINT}: not signed by a trusted key of `{}`", manifest.origin))?;
    let cp = Checkpoint::parse(&cp_text).map_err(|e| format!("{CHECKPOINT}: {e}"))?;
    if cp.origin != manifest.origin || cp.size != manifest.tree_size {
        return Err(format!(
            "{CHECKPOINT} is of size {}, the manifest's proofs are to {}",
            cp.size, manifest.tree_size
        ));
    }
    report.checked.push(format!("{CHECKPOINT}: signed, {} events, root {}", cp.size, hex::encode(cp.root)));

    // 3. The events: each in the manifest's order, its content hashing to its leaf hash,
    //    and its proof leading to the signed root.
    let lines: Vec<&str> = text(files, EVENTS)?.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut named_digests = BTreeSet::new();
    for (k, listed) in manifest.events.iter().enumerate() {
        let at = |what: &str| format!("{EVENTS} line {} (log index {}): {what}", k + 1, listed.leaf_index);
        let Some(line) = lines.get(k) else {
            return Err(at("missing: the manifest lists more events than the file has (deleted or truncated)"));
        };
        let e: EventLine = serde_json::from_str(line).map_err(|e| at(&format!("cannot be read: {e}")))?;
        if e.leaf_index != listed.leaf_index {
            let why = if manifest.events.iter().any(|m| m.leaf_index == e.leaf_index) {
                "the events are out of order (reordered, or one before it deleted)"
            } else {
                "an event the manifest does not list"
            };
            return Err(at(&format!("holds log index {}: {why}", e.leaf_index)));
        }
        if e.leaf_hash != listed.leaf_hash || e.redacted != listed.redacted {
            return Err(at("its leaf hash differs from the manifest's"));
        }
        let leaf = unhex(&e.leaf_hash, &at("leaf hash"))?;
        if e.redacted {
            // The content behind a redacted leaf is not shown at all: whatever a bundle
            // showed there could not be checked, and would read as if it had been.
            if !e.event.is_null() {
                return Err(at("a redacted event carries content its leaf hash cannot vouch for"));
            }
            report.redacted += 1;
        } else if leaf_hash(&canonical_json(&e.event)) != leaf {
            return Err(at("the event's content does not match its leaf hash (it was edited)"));
        } else {
            collect_digests(&e.event, &mut named_digests);
        }
        if let Scope::Request { request_id } = &manifest.scope
            && !e.redacted
            && e.event.get("object_id").and_then(|v| v.as_str()) != Some(request_id.as_str())
        {
            return Err(at("an event about another object"));
        }
        let proof = e.proof.iter().map(|h| unhex(h, &at("proof"))).collect::<Result<Vec<_>, _>>()?;
        if !verify_inclusion(&leaf, e.leaf_index, cp.size, &proof, &cp.root) {
            return Err(at("its inclusion proof does not lead to the signed checkpoint"));
        }
        if k > 0 && manifest.events[k - 1].leaf_index >= e.leaf_index {
            return Err(at("the manifest's events are not in log order"));
        }
        report.events += 1;
    }
    if lines.len() > manifest.events.len() {
        return Err(format!(
            "{EVENTS} line {}: {} events more than the manifest lists",
            manifest.events.len() + 1,
            lines.len() - manifest.events.len()
        ));
    }
    if let Scope::Range { from, to } = manifest.scope {
        let complete = to <= cp.size
            && from <= to
            && manifest.events.len() as u64 == to - from
            && manifest.events.iter().zip(from..to).all(|(e, i)| e.leaf_index == i);
        if !complete {
            return Err(format!("the range {from}..{to} is not complete in the bundle"));
        }
    }
    report.checked.push(format!(
        "{EVENTS}: {} events, each in the signed log ({} with content withheld)",
        report.events, report.redacted
    ));

    // 4. The documents: the bytes the events name.
    for d in &manifest.documents {
        if d.path != format!("{DOCUMENTS_DIR}{}", d.id) {
            return Err(format!("document {}: stored as {}, not {DOCUMENTS_DIR}{}", d.id, d.path, d.id));
        }
        let bytes = files.get(&d.path).ok_or_else(|| format!("document {} ({}) is missing", d.id, d.filename))?;
        if sha256_hex(bytes) != d.sha256 || bytes.len() as u64 != d.size {
            return Err(format!("document {} ({}): its bytes are not those the log recorded", d.id, d.filename));
        }
        if !named_digests.contains(&d.sha256) {
            return Err(format!("document {} ({}): no event of the bundle records its SHA-256", d.id, d.filename));
        }
        report.documents += 1;
    }
    report.checked.push(format!("{} documents, each with the SHA-256 an event recorded", report.documents));

    // 5. Every file is listed, and listed files are unchanged.
    let document_paths: BTreeSet<&str> = manifest.documents.iter().map(|d| d.path.as_str()).collect();
    for (path, bytes) in files {
        if [MANIFEST, MANIFEST_SIGNATURE].contains(&path.as_str()) || document_paths.contains(path.as_str()) {
            continue;
        }
        match manifest.files.get(path) {
            None => return Err(format!("{path}: a file the manifest does not list")),
            Some(h) if *h != sha256_hex(bytes) => return Err(format!("{path} was changed after the export")),
            Some(_) => {}
        }
    }
    if let Some(missing) = manifest.files.keys().find(|p| !files.contains_key(*p)) {
        return Err(format!("{missing} is missing"));
    }

    // 6. Checkpoints saved earlier (a witness): each must be a prefix of this log.
    let consistency: BTreeMap<u64, Vec<String>> = match files.get(CONSISTENCY) {
        Some(_) => text(files, CONSISTENCY)?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<ConsistencyLine>(l).map(|c| (c.from, c.proof)))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{CONSISTENCY}: {e}"))?,
        None => BTreeMap::new(),
    };
    for (n, saved) in witness.iter().enumerate() {
        let what = format!("saved checkpoint {}", n + 1);
        let (t, _) = open(saved).ok_or_else(|| format!("{what}: not signed by a trusted key"))?;
        let w = Checkpoint::parse(&t).map_err(|e| format!("{what}: {e}"))?;
        let what = format!("{what} (size {})", w.size);
        if w.size > cp.size {
            report.notes.push(format!("{what} is newer than the bundle: not compared; export again"));
            report.not_compared += 1;
            continue;
        }
        if w.size == cp.size {
            if w.root != cp.root {
                return Err(format!("{what}: the bundle's checkpoint has another root: the log was rewritten"));
            }
        } else {
            let Some(proof) = consistency.get(&w.size) else {
                report.notes.push(format!(
                    "{what}: the bundle has no consistency proof from it: not compared; export with --consistency-from {}",
                    w.size
                ));
                report.not_compared += 1;
                continue;
            };
            let proof = proof.iter().map(|h| unhex(h, &what)).collect::<Result<Vec<_>, _>>()?;
            if !verify_consistency(w.size, cp.size, &w.root, &cp.root, &proof) {
                return Err(format!("{what}: the bundle's log does not extend it: the log was rewritten"));
            }
        }
        report.witness_compared += 1;
    }
    if !witness.is_empty() {
        report.checked.push(format!("{} saved checkpoints: the bundle's log extends each", report.witness_compared));
    }
    Ok(())
}

/// Every string under a key `sha256` (the documents an event records).
fn collect_digests(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::String(s) if k == "sha256" => {
                        out.insert(s.clone());
                    }
                    other => collect_digests(other, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_digests(i, out)),
        _ => {}
    }
}

/// Signed checkpoint notes from a file an auditor kept: the service's witness file
/// (`{"size":…,"note":…}` per line) or one note as `GET /audit/checkpoint` served it.
pub fn parse_witness(text: &str) -> Result<Vec<String>, String> {
    if text.trim_start().starts_with('{') {
        #[derive(Deserialize)]
        struct Line {
            note: String,
        }
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| serde_json::from_str::<Line>(l).map(|l| l.note).map_err(|e| format!("line {}: {e}", i + 1)))
            .collect()
    } else {
        Ok(vec![text.to_owned()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::{Nodes, consistency_proof, inclusion_proof, nodes_to_store, root};
    use ed25519_dalek::SigningKey;
    use std::collections::HashMap;

    const ORIGIN: &str = "test.example/audit";

    struct Tree(HashMap<(u32, u64), Hash>);
    impl Nodes for Tree {
        fn node(&self, level: u32, index: u64) -> Option<Hash> {
            self.0.get(&(level, index)).copied()
        }
    }

    fn event(i: u64, object: &str) -> serde_json::Value {
        let mut e = serde_json::json!({
            "id": format!("e{i}"), "action": "request.step_completed", "object_id": object,
            "details": {"from": "s1", "to": "s2", "note": format!("catatan {i}")}
        });
        if i == 2 {
            e["details"]["documents"] = serde_json::json!([{"id": "d1", "sha256": sha256_hex(b"surat")}]);
        }
        e
    }

    /// A log of `n` events (every other one about request `r1`), the tree, and the
    /// signed checkpoint of `size` with `key`.
    fn log(events: &[serde_json::Value]) -> (Tree, Vec<Hash>) {
        let mut tree = Tree(HashMap::new());
        let leaves: Vec<Hash> = events.iter().map(|e| leaf_hash(&canonical_json(e))).collect();
        for (i, l) in leaves.iter().enumerate() {
            for (lv, idx, h) in nodes_to_store(&tree, i as u64, &[*l]).unwrap() {
                tree.0.insert((lv, idx), h);
            }
        }
        (tree, leaves)
    }

    fn checkpoint(tree: &Tree, size: u64, key: &SigningKey) -> String {
        let cp = Checkpoint { origin: ORIGIN.into(), size, root: root(tree, size).unwrap(), extensions: vec![] };
        note::sign(&cp.text(), ORIGIN, key)
    }

    fn bundle(events: &[serde_json::Value], key: &SigningKey, scope: Scope) -> BTreeMap<String, Vec<u8>> {
        let (tree, leaves) = log(events);
        let size = events.len() as u64;
        let chosen: Vec<u64> = match &scope {
            Scope::Request { request_id } => {
                (0..size).filter(|i| events[*i as usize]["object_id"].as_str() == Some(request_id.as_str())).collect()
            }
            Scope::Range { from, to } => (*from..*to).collect(),
        };
        let lines = chosen
            .iter()
            .map(|&i| EventLine {
                leaf_index: i,
                leaf_hash: hex::encode(leaves[i as usize]),
                proof: inclusion_proof(&tree, i, size).unwrap().iter().map(hex::encode).collect(),
                redacted: false,
                event: events[i as usize].clone(),
            })
            .collect();
        let doc = ListedDocument {
            id: "d1".into(),
            path: format!("{DOCUMENTS_DIR}d1"),
            filename: "surat.pdf".into(),
            content_type: "application/pdf".into(),
            size: 5,
            sha256: sha256_hex(b"surat"),
        };
        let consistency = (1..size)
            .map(|m| ConsistencyLine {
                from: m,
                proof: consistency_proof(&tree, m, size).unwrap().iter().map(hex::encode).collect(),
            })
            .collect();
        let contents = Contents {
            origin: ORIGIN.into(),
            scope,
            created_at: "2026-12-06T00:00:00Z".into(),
            created_by: "auditor".into(),
            checkpoint: checkpoint(&tree, size, key),
            tree_size: size,
            events: lines,
            documents: vec![(doc, b"surat".to_vec())],
            consistency,
            keys: format!("{}\n", note::verifier_key(ORIGIN, &key.verifying_key())),
        };
        assemble(contents, |t| note::sign(t, ORIGIN, key))
    }

    fn events(n: u64) -> Vec<serde_json::Value> {
        (0..n).map(|i| event(i, if i % 2 == 0 { "r1" } else { "r2" })).collect()
    }

    fn trusted(key: &SigningKey) -> Vec<TrustedKey> {
        parse_keys(&note::verifier_key(ORIGIN, &key.verifying_key())).unwrap()
    }

    fn lines_of(files: &mut BTreeMap<String, Vec<u8>>, f: impl FnOnce(&mut Vec<String>)) {
        let mut lines: Vec<String> =
            String::from_utf8(files[EVENTS].clone()).unwrap().lines().map(String::from).collect();
        f(&mut lines);
        files.insert(EVENTS.into(), (lines.join("\n") + "\n").into_bytes());
    }

    fn problem(files: &BTreeMap<String, Vec<u8>>, key: &SigningKey) -> String {
        let r = verify(files, &trusted(key), &[]);
        match r.problem {
            Some(p) => p,
            None => panic!("not detected:\n{r}"),
        }
    }

    #[test]
    fn an_honest_bundle_verifies_for_a_request_and_for_a_range() {
        let key = SigningKey::from_bytes(&[1; 32]);
        for scope in [Scope::Request { request_id: "r1".into() }, Scope::Range { from: 2, to: 7 }] {
            let files = bundle(&events(9), &key, scope);
            let r = verify(&files, &trusted(&key), &[]);
            assert_eq!(r.verdict(), Verdict::Intact, "{r}");
            assert!(r.events >= 5 && r.documents == 1, "{r}");
            // With no key given it still checks, but cannot say who made the bundle.
            let r = verify(&files, &[], &[]);
            assert_eq!(r.verdict(), Verdict::Inconclusive, "{r}");
            assert!(r.notes.iter().any(|n| n.contains("--key")) && r.to_string().contains("INCONCLUSIVE"), "{r}");
            // Another office's key: refused.
            let other = SigningKey::from_bytes(&[2; 32]);
            assert!(verify(&files, &trusted(&other), &[]).problem.unwrap().contains("not signed by a trusted key"));
        }
    }

    #[test]
    fn an_edited_a_deleted_two_reordered_and_truncated_events_are_each_pinpointed() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let honest = bundle(&events(9), &key, Scope::Request { request_id: "r1".into() });
        let mut edited = honest.clone();
        lines_of(&mut edited, |l| l[1] = l[1].replace("catatan 2", "catatan palsu"));
        assert!(problem(&edited, &key).starts_with("events.jsonl line 2 (log index 2): the event's content"));
        let mut deleted = honest.clone();
        lines_of(&mut deleted, |l| {
            l.remove(2);
        });
        assert!(problem(&deleted, &key).starts_with("events.jsonl line 3 (log index 4): holds log index 6"));
        let mut reordered = honest.clone();
        lines_of(&mut reordered, |l| l.swap(0, 1));
        assert!(
            problem(&reordered, &key).contains("line 1 (log index 0): holds log index 2: the events are out of order")
        );
        let mut truncated = honest.clone();
        lines_of(&mut truncated, |l| l.truncate(3));
        assert!(problem(&truncated, &key).starts_with("events.jsonl line 4 (log index 6): missing"));
        // The manifest edited to match: its signature no longer does.
        let mut manifest = honest.clone();
        let m = String::from_utf8(manifest[MANIFEST].clone()).unwrap().replacen(
            "\"leaf_index\": 8",
            "\"leaf_index\": 9",
            1,
        );
        manifest.insert(MANIFEST.into(), m.into_bytes());
        assert_eq!(problem(&manifest, &key), "manifest.json was changed after it was signed");
        // A document's bytes, an unlisted file, a changed key file.
        let mut doc = honest.clone();
        doc.insert(format!("{DOCUMENTS_DIR}d1"), b"surah".to_vec());
        assert!(problem(&doc, &key).contains("its bytes are not those the log recorded"));
        let mut extra = honest.clone();
        extra.insert("notes.txt".into(), b"x".to_vec());
        assert!(problem(&extra, &key).contains("notes.txt: a file the manifest does not list"));
        let mut keys = honest.clone();
        keys.insert(KEYS.into(), b"# nothing\n".to_vec());
        assert_eq!(problem(&keys, &key), "keys.txt was changed after the export");
        let mut range = bundle(&events(9), &key, Scope::Range { from: 0, to: 9 });
        lines_of(&mut range, |l| l.truncate(8));
        assert!(problem(&range, &key).starts_with("events.jsonl line 9 (log index 8): missing"));
    }

    #[test]
    fn a_rewrite_by_someone_with_the_key_contradicts_a_saved_checkpoint() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let original = events(9);
        let (tree, _) = log(&original[..5]);
        let saved_5 = checkpoint(&tree, 5, &key);
        let (tree, _) = log(&original);
        let saved_9 = checkpoint(&tree, 9, &key);
        // The honest log later: both saved checkpoints are prefixes of it.
        let grown = events(12);
        let files = bundle(&grown, &key, Scope::Request { request_id: "r1".into() });
        let r = verify(&files, &trusted(&key), &[saved_5.clone(), saved_9.clone()]);
        assert!(r.intact() && r.witness_compared == 2, "{r}");
        // Event 2 rewritten and everything recomputed and re-signed with the stolen key: the
        // bundle is consistent in itself, and only the auditor's checkpoints show the lie.
        let mut forged = grown.clone();
        forged[2]["details"]["note"] = "tidak terjadi apa-apa".into();
        let files = bundle(&forged, &key, Scope::Request { request_id: "r1".into() });
        assert!(verify(&files, &trusted(&key), &[]).intact());
        let r = verify(&files, &trusted(&key), &[saved_5]);
        assert_eq!(
            r.problem.as_deref(),
            Some("saved checkpoint 1 (size 5): the bundle's log does not extend it: the log was rewritten")
        );
        // A saved checkpoint newer than the bundle cannot be compared, and is said to be.
        let small = bundle(&original[..4], &key, Scope::Range { from: 0, to: 4 });
        let r = verify(&small, &trusted(&key), &[saved_9]);
        assert!(r.intact() && r.witness_compared == 0 && r.notes.iter().any(|n| n.contains("newer")), "{r}");
        assert_eq!(r.verdict(), Verdict::Inconclusive);
    }

    #[test]
    fn a_redacted_event_shows_no_content_and_a_document_lives_at_its_own_path() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let honest = bundle(&events(9), &key, Scope::Request { request_id: "r1".into() });
        // Mark line 3 redacted in both the file and the manifest, re-signed by the key: with
        // its content still there it is refused; with no content it verifies as redacted.
        let redact = |content: serde_json::Value| {
            let mut files = honest.clone();
            let mut m: Manifest = serde_json::from_slice(&files[MANIFEST]).unwrap();
            m.events[2].redacted = true;
            lines_of(&mut files, |l| {
                let mut e: EventLine = serde_json::from_str(&l[2]).unwrap();
                e.redacted = true;
                e.event = content;
                l[2] = serde_json::to_string(&e).unwrap();
            });
            m.files.insert(EVENTS.into(), sha256_hex(&files[EVENTS]));
            let bytes = serde_json::to_vec_pretty(&m).unwrap();
            files.insert(MANIFEST_SIGNATURE.into(), note::sign(&manifest_note_text(&bytes), ORIGIN, &key).into_bytes());
            files.insert(MANIFEST.into(), bytes);
            files
        };
        let shown = redact(serde_json::json!({"action": "request.approved", "object_id": "r1"}));
        assert!(problem(&shown, &key).contains("a redacted event carries content"));
        let r = verify(&redact(serde_json::Value::Null), &trusted(&key), &[]);
        assert_eq!((r.verdict(), r.redacted), (Verdict::Intact, 1), "{r}");
        // A document listed under another file's path.
        let mut moved = honest.clone();
        let m = String::from_utf8(moved[MANIFEST].clone()).unwrap().replace("documents/d1", "keys.txt");
        let m = m.into_bytes();
        moved.insert(MANIFEST_SIGNATURE.into(), note::sign(&manifest_note_text(&m), ORIGIN, &key).into_bytes());
        moved.insert(MANIFEST.into(), m);
        assert!(problem(&moved, &key).contains("stored as keys.txt"));
    }

    #[test]
    fn the_witness_file_and_a_single_note_are_both_read() {
        assert_eq!(
            parse_witness("{\"size\":3,\"note\":\"a\\n\\nb\"}\n\n{\"size\":4,\"note\":\"c\"}\n").unwrap().len(),
            2
        );
        assert_eq!(parse_witness("origin\n3\nroot\n\n— sig\n").unwrap().len(), 1);
        assert!(parse_witness("{not json").is_err());
    }
}
