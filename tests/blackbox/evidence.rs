//! Issue 13 (first part): the audit trail as a transparency log. Signed checkpoints verify
//! with the published key; every timeline event has an inclusion proof; a later
//! checkpoint is consistent with an earlier one; and tampering in the database — an edited
//! event, a deleted one, two reordered, a truncated tail, everything rewritten and
//! recomputed — is detected by `GET /audit/verify` (the database-only rewrite by the
//! checkpoints outside the database).

use std::time::Duration;

use jembatan::tlog::note::{Checkpoint, open, parse_verifier_key};
use jembatan::tlog::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use jembatan_tests::TestApp;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

use crate::flows::{Office, submitted};

fn unhex(s: &str) -> Hash {
    hex::decode(s).expect("hex").try_into().expect("32 bytes")
}

/// Waits until every event is in the log and signed (the sequencer runs every 500 ms).
pub(crate) async fn settled(o: &Office) -> Checkpoint {
    let key = o.app.call(reqwest::Method::GET, "/audit/public-key", None, None).await;
    let (name, public) = parse_verifier_key(key.text.lines().next().expect("a key")).expect("verifier key");
    for _ in 0..100 {
        let v = o.app.get("/audit/verify", &o.auditor).await;
        let c = o.app.call(reqwest::Method::GET, "/audit/checkpoint", None, None).await;
        if v.body["pending"] == 0 && c.status == 200 {
            let text = open(&c.text, &name, &public).expect("the checkpoint is signed by the published key");
            return Checkpoint::parse(text).expect("a checkpoint");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the sequencer did not catch up");
}

pub(crate) async fn db(app: &TestApp) -> DatabaseConnection {
    Database::connect(&app.database_url).await.expect("the test database")
}

async fn verify(o: &Office) -> Value {
    o.app.get("/audit/verify", &o.auditor).await.assert_status(200).clone()
}

#[tokio::test]
async fn checkpoints_are_signed_and_every_event_is_provably_in_the_log() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let first = settled(&o).await;
    assert!(first.size > 5);
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    let second = settled(&o).await;
    assert!(second.size > first.size);
    // Consistency: the later tree extends the earlier one.
    let p = o.app.get(&format!("/audit/consistency?from={}&to={}", first.size, second.size), &o.budi).await;
    let proof: Vec<Hash> =
        p.assert_status(200)["proof"].as_array().unwrap().iter().map(|h| unhex(h.as_str().unwrap())).collect();
    assert!(verify_consistency(first.size, second.size, &first.root, &second.root, &proof));
    // Every event of the request's timeline: its leaf hash is the hash of its content, and
    // its inclusion proof leads to the signed root.
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.budi).await;
    let events = t.assert_status(200)["events"].as_array().unwrap().clone();
    assert!(events.len() >= 3);
    for e in &events {
        let index = e["leaf_index"].as_u64().expect("sequenced");
        let leaf = unhex(e["leaf_hash"].as_str().unwrap());
        let r = o
            .app
            .get(&format!("/audit/events/{}/proof?size={}", e["event_id"].as_str().unwrap(), second.size), &o.budi)
            .await;
        let body = r.assert_status(200);
        let proof: Vec<Hash> = body["proof"].as_array().unwrap().iter().map(|h| unhex(h.as_str().unwrap())).collect();
        assert!(verify_inclusion(&leaf, index, second.size, &proof, &second.root), "{e}");
        assert!(!verify_inclusion(&leaf_hash(b"forged"), index, second.size, &proof, &second.root));
    }
    // Another agency does not get proofs of this request's events.
    let any = events[0]["event_id"].as_str().unwrap();
    o.app.get(&format!("/audit/events/{any}/proof"), &o.rina).await.assert_problem(404);
    assert_eq!(verify(&o).await["intact"], true);
}

/// The five ways to tamper with a copy of the trail; each is detected.
#[tokio::test]
async fn edits_deletions_reorders_truncation_and_a_full_rewrite_are_detected() {
    for tamper in ["edit", "delete", "reorder", "truncate", "rewrite"] {
        let o = Office::new().await;
        let id = submitted(&o).await;
        let earlier = settled(&o).await;
        o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
        let cp = settled(&o).await;
        assert!(cp.size > earlier.size);
        assert_eq!(verify(&o).await["intact"], true);
        let db = db(&o.app).await;
        let events = Alias::new("audit_events");
        let last = cp.size as i64 - 1;
        match tamper {
            "edit" => {
                let mut q = Query::update();
                q.table(events.clone())
                    .value(Alias::new("action"), "request.approved_by_nobody")
                    .and_where(Expr::col(Alias::new("leaf_index")).eq(3));
                db.execute(&q).await.unwrap();
            }
            "delete" => {
                let mut q = Query::delete();
                q.from_table(events.clone()).and_where(Expr::col(Alias::new("leaf_index")).eq(2));
                db.execute(&q).await.unwrap();
            }
            "reorder" => {
                // Swap the indexes of two events (through a free value: the index is unique).
                for (from, to) in [(1, -1), (2, 1), (-1, 2)] {
                    let mut q = Query::update();
                    q.table(events.clone())
                        .value(Alias::new("leaf_index"), to)
                        .and_where(Expr::col(Alias::new("leaf_index")).eq(from));
                    db.execute(&q).await.unwrap();
                }
            }
            "truncate" => {
                // Back to the earlier checkpoint, exactly: the events after it and the later
                // checkpoints go, and the database agrees with itself. Only the witness file
                // outside it (or an auditor's saved checkpoint) still knows the tail.
                let mut q = Query::delete();
                q.from_table(events.clone()).and_where(Expr::col(Alias::new("leaf_index")).gte(earlier.size as i64));
                db.execute(&q).await.unwrap();
                let mut q = Query::delete();
                q.from_table(Alias::new("audit_checkpoints"))
                    .and_where(Expr::col(Alias::new("size")).gt(earlier.size as i64));
                db.execute(&q).await.unwrap();
                let _ = last;
            }
            "rewrite" => rewrite_everything(&db, 3).await,
            _ => unreachable!(),
        }
        let v = verify(&o).await;
        assert_eq!(v["intact"], false, "{tamper}: {v}");
        let problem = v["problem"].as_str().unwrap_or_default().to_owned();
        let expected = match tamper {
            "edit" => "does not match its leaf hash",
            "delete" => "is missing",
            "reorder" | "rewrite" => "the log was rewritten",
            _ => "witness checkpoint",
        };
        assert!(problem.contains(expected), "{tamper}: {v}");
        eprintln!("{tamper}: {}", v["problem"]);
    }
}

/// What an administrator with the database (and not the key or the witness file) can do:
/// change event `index`, recompute its leaf hash, every tree node and the checkpoints'
/// roots, and keep the signed notes (a new one cannot be signed).
pub(crate) async fn rewrite_everything(db: &DatabaseConnection, index: i64) {
    let events = Alias::new("audit_events");
    let mut q = Query::update();
    q.table(events.clone())
        .value(Alias::new("details"), json!({"note": "nothing happened here"}))
        .and_where(Expr::col(Alias::new("leaf_index")).eq(index));
    db.execute(&q).await.unwrap();
    // Recompute every leaf hash from the content (as the service would), then the nodes.
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT seq FROM audit_events WHERE leaf_index IS NOT NULL ORDER BY leaf_index",
        ))
        .await
        .unwrap();
    let mut leaves: Vec<Hash> = Vec::new();
    for row in rows {
        let seq: i64 = row.try_get("", "seq").unwrap();
        use sea_orm::EntityTrait;
        let e = entity::audit_event::Entity::find_by_id(seq).one(db).await.unwrap().unwrap();
        let leaf = leaf_hash(&jembatan::service::audit::leaf_bytes(&e));
        let mut q = Query::update();
        q.table(events.clone())
            .value(Alias::new("leaf_hash"), hex::encode(leaf))
            .and_where(Expr::col(Alias::new("seq")).eq(seq));
        db.execute(&q).await.unwrap();
        leaves.push(leaf);
    }
    let mut q = Query::delete();
    q.from_table(Alias::new("audit_tree_nodes"));
    db.execute(&q).await.unwrap();
    // Store every node afresh, one leaf at a time.
    let mut stored: std::collections::HashMap<(u32, u64), Hash> = Default::default();
    struct Map<'a>(&'a std::collections::HashMap<(u32, u64), Hash>);
    impl jembatan::tlog::Nodes for Map<'_> {
        fn node(&self, l: u32, i: u64) -> Option<Hash> {
            self.0.get(&(l, i)).copied()
        }
    }
    for (i, leaf) in leaves.iter().enumerate() {
        for (l, idx, h) in jembatan::tlog::nodes_to_store(&Map(&stored), i as u64, &[*leaf]).unwrap() {
            stored.insert((l, idx), h);
        }
    }
    for ((l, idx), h) in &stored {
        let mut q = Query::insert();
        q.into_table(Alias::new("audit_tree_nodes"))
            .columns([Alias::new("level"), Alias::new("idx"), Alias::new("hash")])
            .values_panic([(*l as i32).into(), (*idx as i64).into(), hex::encode(h).into()]);
        db.execute(&q).await.unwrap();
    }
    let root = jembatan::tlog::root(&Map(&stored), leaves.len() as u64).unwrap();
    let mut q = Query::update();
    q.table(Alias::new("audit_checkpoints")).value(Alias::new("root_hash"), hex::encode(root));
    db.execute(&q).await.unwrap();
}

/// Verifying while the sequencer signs new batches never reports an honest log as broken
/// (the reads are ordered so that a batch committed in between is harmless).
#[tokio::test]
async fn verifying_while_events_are_logged_never_cries_wolf() {
    // A sequencer beat of 50 ms: batches commit while checks are reading.
    let o = Office::with(TestApp::spawn_with(|s| s.audit_sequence_interval_ms = 50).await).await;
    let done = std::sync::atomic::AtomicBool::new(false);
    let writer = async {
        let one = async || {
            for _ in 0..20 {
                submitted(&o).await;
            }
        };
        tokio::join!(one(), one(), one());
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let checker = async {
        let mut checked = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let v = verify(&o).await;
            assert_eq!(v["intact"], true, "{v}");
            checked += 1;
        }
        checked
    };
    let ((), checked) = tokio::join!(writer, checker);
    assert!(checked > 10, "only {checked} checks ran while writing");
    settled(&o).await;
    assert_eq!(verify(&o).await["intact"], true);
}

/// A database-only attacker rolls the log back to an earlier checkpoint and queues a
/// rewritten tail for signing: the sequencer refuses (it knows a later checkpoint outside
/// the database), and nothing new is signed.
#[tokio::test]
async fn the_service_does_not_sign_a_rolled_back_log() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let earlier = settled(&o).await;
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    let later = settled(&o).await;
    assert!(later.size > earlier.size);
    let db = db(&o.app).await;
    let m = earlier.size as i64;
    // Unlog the tail, rewrite it (content and leaf hash), and remove what would give it away.
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT seq FROM audit_events WHERE leaf_index >= {m}"),
        ))
        .await
        .unwrap();
    for row in rows {
        let seq: i64 = row.try_get("", "seq").unwrap();
        use sea_orm::EntityTrait;
        let mut e = entity::audit_event::Entity::find_by_id(seq).one(&db).await.unwrap().unwrap();
        e.details = json!({"note": "rewritten"});
        let leaf = hex::encode(leaf_hash(&jembatan::service::audit::leaf_bytes(&e)));
        let mut q = Query::update();
        q.table(Alias::new("audit_events"))
            .value(Alias::new("details"), json!({"note": "rewritten"}))
            .value(Alias::new("leaf_hash"), leaf)
            .value(Alias::new("leaf_index"), Option::<i64>::None)
            .and_where(Expr::col(Alias::new("seq")).eq(seq));
        db.execute(&q).await.unwrap();
    }
    for (table, column) in [("audit_checkpoints", "size"), ("audit_tree_nodes", "idx")] {
        let mut q = Query::delete();
        q.from_table(Alias::new(table));
        if table == "audit_checkpoints" {
            q.and_where(Expr::col(Alias::new(column)).gt(m));
        } else {
            // Nodes of level 0 at or past the cut (higher ones are harmless either way).
            q.and_where(Expr::col(Alias::new("level")).eq(0)).and_where(Expr::col(Alias::new(column)).gte(m));
        }
        db.execute(&q).await.unwrap();
    }
    // New events arrive; the sequencer runs several times.
    submitted(&o).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let c = o.app.call(reqwest::Method::GET, "/audit/checkpoint", None, None).await;
    let size: u64 = c.text.lines().nth(1).unwrap().parse().unwrap();
    assert_eq!(size, earlier.size, "nothing was signed over the rolled-back log: {}", c.text);
    let v = verify(&o).await;
    assert_eq!(v["intact"], false, "{v}");
}

/// A replica (or a restart) with another signing key refuses to start on a log it did
/// not sign, unless the old key is listed as a previous one.
#[tokio::test]
async fn another_key_is_refused_unless_the_old_one_is_listed() {
    let o = Office::new().await;
    submitted(&o).await;
    settled(&o).await;
    let old = o.app.call(reqwest::Method::GET, "/audit/public-key", None, None).await.text.trim().to_owned();
    let start = |previous: Option<String>| {
        let settings = jembatan::config::Settings {
            database_url: o.app.database_url.clone(),
            storage_dir: o.app.storage_dir.clone(),
            listen: "127.0.0.1:0".into(),
            jwt_secret: Some(format!("replica-secret-{}", uuid::Uuid::new_v4())),
            audit_signing_key: Some(jembatan::service::tlog::LogKeys::generate_seed()),
            audit_previous_keys: previous,
            db_max_connections: 2,
            ..jembatan::config::Settings::default()
        }
        .check(false)
        .expect("settings");
        jembatan::startup::Application::build(settings, std::sync::Arc::new(o.app.clock.clone()))
    };
    let refused = start(None).await.err().expect("refused");
    assert!(refused.contains("did not sign"), "{refused}");
    let rotated = start(Some(old)).await.expect("the rotated key starts with the old one listed");
    assert_ne!(
        rotated.state().audit_keys.verifier(),
        o.app.call(reqwest::Method::GET, "/audit/public-key", None, None).await.text.trim()
    );
}

/// Issue 13, item 5: a database from before the transparency log — its events in the old
/// hash chain only — is carried into the log in its order, the first checkpoint names the
/// chain's last link, and a database whose chain no longer ends there is detected.
#[tokio::test]
async fn the_old_chain_is_carried_into_the_log_and_bound_to_its_first_checkpoint() {
    let old: std::sync::Arc<std::sync::Mutex<Vec<(i64, String)>>> = Default::default();
    let written = old.clone();
    let app = TestApp::spawn_with(move |s| {
        // Before the service starts: the schema as it was before the log (migrations 1–10),
        // and three events written the old way, each linking to the one before.
        let url = s.database_url.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use migration::MigratorTrait;
                let db = Database::connect(&url).await.unwrap();
                migration::Migrator::up(&db, Some(10)).await.unwrap();
                let mut prev = "0".repeat(64);
                for seq in 1..=3i64 {
                    let e = entity::audit_event::Model {
                        seq,
                        id: uuid::Uuid::now_v7(),
                        occurred_at: "2026-11-02T03:04:05.123456Z".parse().unwrap(),
                        actor_user_id: None,
                        actor_client_id: None,
                        action: "organization.created".into(),
                        object_type: "organization".into(),
                        object_id: uuid::Uuid::now_v7(),
                        details: json!({"code": format!("OLD{seq}"), "name": "Dinas lama"}),
                        prev_hash: prev.clone(),
                        hash: String::new(),
                        leaf_hash: None,
                        leaf_index: None,
                    };
                    let hash = jembatan::service::audit::chain_hash_of(&e);
                    let mut q = Query::insert();
                    q.into_table(Alias::new("audit_events"))
                        .columns(
                            [
                                "seq",
                                "id",
                                "occurred_at",
                                "actor_user_id",
                                "actor_client_id",
                                "action",
                                "object_type",
                                "object_id",
                                "details",
                                "prev_hash",
                                "hash",
                            ]
                            .map(Alias::new),
                        )
                        .values_panic([
                            e.seq.into(),
                            e.id.into(),
                            e.occurred_at.into(),
                            e.actor_user_id.into(),
                            e.actor_client_id.into(),
                            e.action.clone().into(),
                            e.object_type.clone().into(),
                            e.object_id.into(),
                            e.details.clone().into(),
                            e.prev_hash.clone().into(),
                            hash.clone().into(),
                        ]);
                    db.execute(&q).await.unwrap();
                    written.lock().unwrap().push((seq, hash.clone()));
                    prev = hash;
                }
                let mut q = Query::update();
                q.table(Alias::new("audit_head"))
                    .value(Alias::new("seq"), 3i64)
                    .value(Alias::new("hash"), prev)
                    .and_where(Expr::col(Alias::new("id")).eq(1));
                db.execute(&q).await.unwrap();
            });
        })
        .join()
        .unwrap();
    })
    .await;
    let o = Office::with(app).await;
    let cp = settled(&o).await;
    let old = old.lock().unwrap().clone();
    // The old events are the log's first leaves, in their order; the first checkpoint names
    // the chain's last link; everything verifies.
    let db = db(&o.app).await;
    use sea_orm::EntityTrait;
    for (seq, _) in &old {
        let e = entity::audit_event::Entity::find_by_id(*seq).one(&db).await.unwrap().unwrap();
        assert_eq!(e.leaf_index, Some(seq - 1));
    }
    let first = entity::audit_checkpoint::Entity::find().all(&db).await.unwrap();
    let first = first.iter().min_by_key(|c| c.size).unwrap();
    assert!(first.note.contains(&format!("\njembatan-chain-head 3 {}\n", old[2].1)), "{}", first.note);
    let v = verify(&o).await;
    assert_eq!(v["intact"], true, "{v}");
    assert_eq!(v["head_seq"], 3);
    assert!(cp.size > 3);
    // Someone shortens the old chain by one (its head moved back to event 2, which still
    // links): the chain alone looks whole, the first checkpoint says otherwise.
    let mut q = Query::update();
    q.table(Alias::new("audit_head"))
        .value(Alias::new("seq"), 2i64)
        .value(Alias::new("hash"), old[1].1.clone())
        .and_where(Expr::col(Alias::new("id")).eq(1));
    db.execute(&q).await.unwrap();
    let v = verify(&o).await;
    assert_eq!(v["intact"], false, "{v}");
    assert!(v["problem"].as_str().unwrap().contains("the first checkpoint names the old chain's end"), "{v}");
}

/// An internal comment's event is the office's: its inclusion proof is 404 to the agency
/// that applies (as the comment is), while a public comment's proof is theirs; the office
/// gets both, another agency neither.
#[tokio::test]
async fn an_internal_comments_proof_is_for_the_office_only() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let comments = format!("/requests/{id}/comments");
    o.app.post(&comments, &o.kasi, json!({"body": "rahasia dapur", "visibility": "internal"})).await.assert_status(201);
    o.app
        .post(&comments, &o.kasi, json!({"body": "mohon dilengkapi", "visibility": "public"}))
        .await
        .assert_status(201);
    settled(&o).await;
    let events = o.app.get(&format!("/audit/events?object_id={id}&action=request.comment_posted"), &o.auditor).await;
    let events = events.assert_status(200)["items"].as_array().unwrap().clone();
    let event_of = |visibility: &str| {
        let e = events.iter().find(|e| e["details"]["visibility"] == visibility).expect("the comment's event");
        format!("/audit/events/{}/proof", e["id"].as_str().unwrap())
    };
    let (internal, public) = (event_of("internal"), event_of("public"));
    o.app.get(&internal, &o.budi).await.assert_problem(404);
    o.app.get(&public, &o.budi).await.assert_status(200);
    for path in [&internal, &public] {
        o.app.get(path, &o.kasi).await.assert_status(200);
        o.app.get(path, &o.auditor).await.assert_status(200);
        o.app.get(path, &o.rina).await.assert_problem(404);
    }
}

/// m0018: the sequencer's questions (is an event waiting; the next batch, oldest first) are
/// answered from the index of the events not yet logged, even when PostgreSQL's statistics
/// were taken during a backlog. Before it, such statistics had every beat walk the table
/// (half a second at 1 M events). PostgreSQL only: SQLite plans without statistics.
#[tokio::test]
async fn the_sequencer_finds_waiting_events_by_their_index_whatever_the_statistics() {
    use sea_orm::{QuerySelect, QueryTrait};

    use crate::reports::count;
    let app = TestApp::spawn_with(|s| s.audit_sequence_interval_ms = 60_000).await;
    let db = db(&app).await;
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        eprintln!("plans: PostgreSQL only; nothing checked on SQLite");
        return;
    }
    // The start-up beat has logged the bootstrap's events; the next is a minute away.
    let waiting = "SELECT COUNT(*) AS n FROM audit_events WHERE leaf_index IS NULL";
    for _ in 0..100 {
        if count(&db, waiting).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&db, waiting).await, 0);
    // A backlog of 20 000 events when the statistics are taken; then all but five logged.
    db.execute_unprepared(
        "INSERT INTO audit_events (seq, id, occurred_at, action, object_type, object_id, details, prev_hash, hash)
         SELECT (SELECT MAX(seq) FROM audit_events) + n, gen_random_uuid(), now(), 'request.step_completed',
                'request', gen_random_uuid(), '{}', '', ''
         FROM generate_series(1, 20000) AS n;
         ANALYZE audit_events;
         UPDATE audit_events SET leaf_index = 1000000 + seq
         WHERE leaf_index IS NULL AND seq <= (SELECT MAX(seq) - 5 FROM audit_events);",
    )
    .await
    .expect("a backlog, analyzed, then logged");
    assert_eq!(count(&db, waiting).await, 5);
    for limit in [1, 1000] {
        let query = jembatan::service::tlog::unsequenced().limit(limit).build(sea_orm::DbBackend::Postgres);
        let plan = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("EXPLAIN (FORMAT JSON) {query}"),
            ))
            .await
            .expect("explain")
            .expect("a plan")
            .try_get_by_index::<serde_json::Value>(0)
            .expect("the plan as JSON")
            .to_string();
        assert!(plan.contains("ix_audit_events_unsequenced"), "LIMIT {limit}: {plan}");
    }
}
