//! Issue 15, item 7: several replicas on one PostgreSQL. Two services on one database,
//! every background job running on both at short intervals (SLA sweeper, audit
//! sequencer, mailer, webhook fan-out and delivery), and a client that sends each call to
//! the next replica in turn. The checks read the database and the receivers, not the
//! services' own counters: one audit event per transition, each crossing recorded and
//! escalated once, each mail and each webhook message sent once, a sign-in limit that
//! holds across replicas, and, when a replica is killed mid-work, nothing lost.
//!
//! PostgreSQL only: several processes on one SQLite file is not a topology we support
//! (the SQLite run says so and checks nothing).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use entity::{audit_checkpoint, audit_event, mail_outbox, webhook_delivery};
use jembatan::config::Settings;
use jembatan_tests::TestApp;
use jembatan_tests::replica::Replica;
use jembatan_tests::smtp::SmtpServer;
use jembatan_tests::webhooks::Receiver;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::evidence::db;
use crate::flows::{Office, submitted};
use crate::sla::{set_clock, wib};

/// Every job on a short interval, mail to `smtp`, webhooks allowed to 127.0.0.1.
fn busy(smtp: String) -> impl Fn(&mut Settings) + Clone {
    move |s: &mut Settings| {
        s.smtp_url = Some(smtp.clone());
        s.mail_interval_secs = 1;
        s.sweep_interval_secs = 1;
        s.audit_sequence_interval_ms = 100;
        s.webhook_allow_cidrs = Some("127.0.0.1/32".into());
        s.webhook_interval_ms = 100;
    }
}

/// The office on two replicas (`app` and the returned one), calls going round-robin.
async fn two_replicas(smtp: &SmtpServer) -> Option<(Office, Replica)> {
    let tweak = busy(smtp.url());
    let app = TestApp::spawn_with(tweak.clone()).await;
    if !app.database_url.starts_with("postgres") {
        eprintln!("replicas: PostgreSQL only (set JEMBATAN_TEST_POSTGRES_URL); nothing checked on SQLite");
        return None;
    }
    let b = Replica::start(&app, tweak).await;
    app.round_robin(&b.base);
    Some((Office::with(app).await, b))
}

async fn set_email(o: &Office, username: &str) {
    let users = o.app.get("/users?limit=100", &o.admin).await;
    let u = users.body["items"].as_array().unwrap().iter().find(|u| u["username"] == username).cloned().unwrap();
    let id = u["id"].as_str().unwrap();
    let email = format!("{username}@trenggalekkab.go.id");
    o.app.patch(&format!("/users/{id}"), &o.admin, json!({"email": email})).await.assert_status(200);
}

/// Polls `done` (a database reading) every 100 ms for up to `secs` seconds.
async fn until<F, Fut>(what: &str, secs: u64, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !done().await {
        assert!(started.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every audit event sequenced into the log, and the latest checkpoint covers them all.
async fn sequenced(app: &TestApp) -> bool {
    let db = db(app).await;
    let events = audit_event::Entity::find().count(&db).await.unwrap();
    let unsequenced =
        audit_event::Entity::find().filter(audit_event::Column::LeafIndex.is_null()).count(&db).await.unwrap();
    let latest = audit_checkpoint::Entity::find().all(&db).await.unwrap().into_iter().map(|c| c.size).max();
    unsequenced == 0 && latest == Some(events as i64)
}

/// The log's indexes are 0..n, each once.
async fn assert_log_is_gapless(app: &TestApp) {
    let db = db(app).await;
    let mut indexes: Vec<i64> =
        audit_event::Entity::find().all(&db).await.unwrap().into_iter().filter_map(|e| e.leaf_index).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..indexes.len() as i64).collect::<Vec<_>>(), "leaf indexes are not 0..n each once");
}

/// How many events of `action` the log holds for each request.
async fn events_per_request(app: &TestApp, action: &str) -> HashMap<String, usize> {
    let db = db(app).await;
    let mut n = HashMap::new();
    for e in audit_event::Entity::find().filter(audit_event::Column::Action.eq(action)).all(&db).await.unwrap() {
        *n.entry(e.object_id.to_string()).or_insert(0) += 1;
    }
    n
}

/// The Message-ID of every mail queued (the outbox row's id).
async fn queued_message_ids(db: &sea_orm::DatabaseConnection) -> HashSet<String> {
    let rows = mail_outbox::Entity::find().all(db).await.unwrap();
    rows.into_iter().map(|m| format!("<{}@jembatan>", m.id)).collect()
}

async fn all_mail_sent(db: &sea_orm::DatabaseConnection) -> bool {
    mail_outbox::Entity::find().filter(mail_outbox::Column::SentAt.is_null()).count(db).await.unwrap() == 0
}

#[tokio::test]
async fn two_replicas_behind_a_round_robin_client_do_every_job_once() {
    let smtp = SmtpServer::start();
    let Some((o, _b)) = two_replicas(&smtp).await else { return };
    // Monday 16 November 2026, 08:00 WIB: an ordinary working day.
    set_clock(&o.app, wib(2026, 11, 16, 8, 0));
    for u in ["kabid", "kadis", "kasi", "budi"] {
        set_email(&o, u).await;
    }
    let rx = Receiver::start("127.0.0.1").await;
    o.app.post("/webhooks", &o.budi, json!({"url": rx.url("/dinkes")})).await.assert_status(201);

    // Six requests submitted at once through both replicas; three of them disposed at once.
    let ids: Vec<String> = futures_util::future::join_all((0..6).map(|_| submitted(&o))).await;
    let disposed = &ids[..3];
    let answers = futures_util::future::join_all(
        disposed.iter().map(|id| o.act(&o.kabid, id, "disposition", json!({"instructions": ["tindak_lanjuti"]}))),
    )
    .await;
    for a in &answers {
        a.assert_status(200);
    }

    // One event per transition, whichever replica took it.
    let submits = events_per_request(&o.app, "request.submitted").await;
    let steps = events_per_request(&o.app, "request.step_completed").await;
    for id in &ids {
        assert_eq!(submits.get(id), Some(&1), "submit events of {id}");
        let want = disposed.contains(id).then_some(&1);
        assert_eq!(steps.get(id), want, "disposition events of {id}");
    }

    // 10:00: the three undisposed requests are past their 15-minute disposition. Both
    // replicas' sweepers run every second; each crossing is recorded and escalated once.
    set_clock(&o.app, wib(2026, 11, 16, 10, 0));
    let waiting = &ids[3..];
    until("three overdue crossings", 20, || async {
        let late = events_per_request(&o.app, "request.sla_overdue").await;
        waiting.iter().all(|id| late.contains_key(id))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(3000)).await; // three more sweeps on each replica
    let late = events_per_request(&o.app, "request.sla_overdue").await;
    for id in waiting {
        assert_eq!(late.get(id), Some(&1), "overdue crossings of {id}");
    }
    let escalations = o.app.get("/notifications?limit=100", &o.kadis).await;
    let mut per_request: BTreeMap<String, usize> = BTreeMap::new();
    for n in escalations.assert_status(200)["items"].as_array().unwrap() {
        if n["kind"] == "escalation" {
            *per_request.entry(n["request_id"].as_str().unwrap().to_owned()).or_insert(0) += 1;
        }
    }
    assert_eq!(per_request.len(), 3, "{per_request:?}");
    assert!(per_request.values().all(|&n| n == 1), "an escalation twice: {per_request:?}");

    // Every queued mail sent, each once: the Message-ID is the outbox row's.
    let db = db(&o.app).await;
    until("every mail sent", 30, || all_mail_sent(&db)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let queued = queued_message_ids(&db).await;
    assert!(queued.len() >= 6 + 3 + 3, "mail for six submits, three dispositions, three escalations: {}", queued.len());
    let mails = smtp.received();
    let ids_sent: Vec<String> = mails.iter().map(|m| m.header("message-id").unwrap_or_default().to_owned()).collect();
    assert_eq!(ids_sent.len(), queued.len(), "mails sent vs queued");
    assert_eq!(ids_sent.iter().cloned().collect::<HashSet<_>>(), queued, "each queued mail, once");

    // Every webhook message delivered once (the webhook-id is the event's).
    until("every webhook delivered", 30, || async {
        webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::DeliveredAt.is_null())
            .count(&db)
            .await
            .unwrap()
            == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rows = webhook_delivery::Entity::find().all(&db).await.unwrap();
    let got = rx.received();
    let sent: Vec<&str> = got.iter().filter_map(|m| m.header("webhook-id")).collect();
    assert!(rows.len() >= 6 * 3, "created, document, submitted per request at least: {}", rows.len());
    assert_eq!(sent.len(), rows.len(), "webhook messages sent vs queued");
    assert_eq!(sent.iter().collect::<HashSet<_>>().len(), sent.len(), "a webhook message twice");

    // The log: every event sequenced once, 0..n without a gap, and the chain verifies.
    until("the log sequenced", 20, || sequenced(&o.app)).await;
    assert_log_is_gapless(&o.app).await;
    assert_eq!(o.app.get("/audit/verify", &o.auditor).await.assert_status(200)["intact"], true);

    // Sign-in failures count across replicas: five wrong passwords, alternating between
    // them, lock the account on both (the default limit is five per five minutes).
    for _ in 0..5 {
        o.app.login("kasi", "not the password at all").await.assert_problem(401);
    }
    for _ in 0..2 {
        let r = o.app.login("kasi", jembatan_tests::PASSWORD).await;
        r.assert_problem(429);
        assert!(r.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=300).contains(&s))));
    }
}

/// A replica killed while requests move and its jobs run: every answered transition is
/// there once, the survivor sequences the whole log, and every mail still goes out once
/// its claim lapses (SMTP is at-least-once; nothing is lost).
#[tokio::test]
async fn a_replica_killed_mid_work_loses_nothing() {
    let smtp = SmtpServer::start();
    let Some((o, b)) = two_replicas(&smtp).await else { return };
    set_clock(&o.app, wib(2026, 11, 16, 8, 0));
    for u in ["kabid", "kasi", "budi"] {
        set_email(&o, u).await;
    }
    let ids: Vec<String> = futures_util::future::join_all((0..10).map(|_| submitted(&o))).await;

    // Dispositions go out to both replicas at once; B dies while they are in flight.
    let b_base = b.base.clone();
    let calls = ids.iter().enumerate().map(|(i, id)| {
        let base = if i % 2 == 0 { o.app.base.clone() } else { b_base.clone() };
        let (http, kabid, id) = (o.app.http.clone(), o.kabid.clone(), id.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(15 * i as u64)).await;
            let r = http
                .post(format!("{base}/api/v1/requests/{id}/disposition"))
                .bearer_auth(kabid)
                .json(&json!({"instructions": ["tindak_lanjuti"]}))
                .send()
                .await;
            (id, r.map(|r| r.status().as_u16()).ok())
        }
    });
    let killer = async {
        tokio::time::sleep(Duration::from_millis(60)).await;
        o.app.forget(&b_base);
        b.kill().await;
    };
    let (answers, ()) = tokio::join!(futures_util::future::join_all(calls), killer);

    // What B answered before it died, and everything A answered, is there, once; what got
    // no answer is either done once or not at all, and can be done now on the survivor.
    let mut outcome: HashMap<String, Option<u16>> = HashMap::new();
    for (id, status) in answers {
        if let Some(s) = status {
            assert_eq!(s, 200, "disposition of {id}");
        }
        outcome.insert(id, status);
    }
    let unanswered = outcome.values().filter(|s| s.is_none()).count();
    eprintln!("killed replica: {unanswered} of {} dispositions got no answer", outcome.len());
    for (id, status) in &outcome {
        let step = o.get(&o.kabid, id).await["current_step"]["code"].as_str().unwrap().to_owned();
        match status {
            Some(_) => assert_eq!(step, "follow_up", "an answered disposition of {id} was lost"),
            None if step == "disposition" => {
                o.act(&o.kabid, id, "disposition", json!({"instructions": ["tindak_lanjuti"]}))
                    .await
                    .assert_status(200);
            }
            None => assert_eq!(step, "follow_up"),
        }
    }
    let steps = events_per_request(&o.app, "request.step_completed").await;
    for id in &ids {
        assert_eq!(steps.get(id), Some(&1), "disposition events of {id}");
    }

    // The survivor sequences everything, including what B committed but never sequenced.
    until("the log sequenced by the survivor", 20, || sequenced(&o.app)).await;
    assert_log_is_gapless(&o.app).await;
    assert_eq!(o.app.get("/audit/verify", &o.auditor).await.assert_status(200)["intact"], true);

    // Mail B had claimed comes back once its claim lapses (two minutes; the clock moves).
    let db = db(&o.app).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    o.app.clock.advance(chrono::Duration::minutes(3));
    until("every mail sent by the survivor", 30, || all_mail_sent(&db)).await;
    let queued = queued_message_ids(&db).await;
    let sent: HashSet<String> =
        smtp.received().iter().map(|m| m.header("message-id").unwrap_or_default().to_owned()).collect();
    assert!(queued.len() >= 20, "mail for ten submits and ten dispositions: {}", queued.len());
    assert!(queued.is_subset(&sent), "mail lost with the replica: {:?}", queued.difference(&sent).collect::<Vec<_>>());
}

/// Replicas started together on an empty database take turns through migrations and
/// seeding: all come up, with one configured admin and one copy of each definition.
#[tokio::test]
async fn replicas_started_together_on_an_empty_database_all_come_up() {
    if std::env::var("JEMBATAN_TEST_POSTGRES_URL").map_or(true, |u| u.is_empty()) {
        eprintln!("replicas: PostgreSQL only; nothing checked on SQLite");
        return;
    }
    let tmp = jembatan_tests::tempdir::TempDir::new();
    let url = jembatan_tests::fresh_database(&tmp.0).await;
    let secret = format!("a-shared-secret-{}", uuid::Uuid::new_v4());
    let key = jembatan::service::tlog::LogKeys::generate_seed();
    let start = || {
        let s = Settings {
            database_url: url.clone(),
            listen: "127.0.0.1:0".into(),
            jwt_secret: Some(secret.clone()),
            storage_dir: tmp.0.join("documents"),
            audit_signing_key: Some(key.clone()),
            admin_username: Some(jembatan_tests::ADMIN_USERNAME.into()),
            admin_password: Some(jembatan_tests::ADMIN_PASSWORD.into()),
            db_max_connections: 3,
            workers: Some(1),
            ..Settings::default()
        }
        .check(false)
        .expect("settings");
        jembatan::startup::Application::build(s, std::sync::Arc::new(jembatan::clock::SystemClock))
    };
    let (a, b, c) = tokio::join!(start(), start(), start());
    let apps = [a.expect("first replica"), b.expect("second replica"), c.expect("third replica")];
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let admins = entity::user::Entity::find()
        .filter(entity::user::Column::Username.eq(jembatan_tests::ADMIN_USERNAME))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(admins, 1);
    let definitions = entity::workflow_definition::Entity::find().count(&db).await.unwrap();
    assert_eq!(definitions, 2, "one per flow");
    let offices = entity::organization::Entity::find().count(&db).await.unwrap();
    assert_eq!(offices, 1, "the office, once");
    drop(apps);
}
