//! `jembatan check`: the consistency check, run against a live test app's database and
//! document store, the way an operator runs it next to the service.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jembatan::check::{CheckReport, check};
use jembatan::clock::SystemClock;
use jembatan::config::Settings;
use jembatan::startup::Application;
use jembatan::storage::LocalStore;
use jembatan_tests::TestApp;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::json;

use crate::authz::{complete, to_integration};
use crate::flows::{Office, submitted};

/// The service's state for the app's database and store, as `jembatan check` builds it.
pub async fn checker(app: &TestApp) -> Application {
    let settings = Settings {
        database_url: app.database_url.clone(),
        storage_dir: app.storage_dir.clone(),
        listen: "127.0.0.1:0".into(),
        jwt_secret: Some(format!("check-secret-{}", uuid::Uuid::new_v4())),
        admin_username: None,
        admin_password: None,
        db_max_connections: 2,
        ..Settings::default()
    };
    let settings = settings.check(false).expect("settings");
    Application::build(settings, Arc::new(SystemClock)).await.expect("the checker builds")
}

async fn run(app: &Application, repair: bool) -> CheckReport {
    let report = check(&app.state(), repair).await.expect("the check runs");
    eprintln!("{report}");
    report
}

/// An office with requests in every kind of state, and their documents.
async fn busy_office() -> (Office, Vec<String>) {
    let o = Office::new().await;
    let andi = o.andi_id.as_str().expect("andi").to_owned();
    let draft = o.create(&o.budi).await["id"].as_str().expect("id").to_owned();
    o.attach(&o.budi, &draft, "request_letter").await;
    let at_disposition = submitted(&o).await;
    let returned = submitted(&o).await;
    o.act(&o.kabid, &returned, "return", json!({"reason": "Lampiran kurang"})).await.assert_status(200);
    let rejected = submitted(&o).await;
    o.act(&o.kabid, &rejected, "reject", json!({"reason": "Bukan kewenangan"})).await.assert_status(200);
    let withdrawn = o.create(&o.budi).await["id"].as_str().expect("id").to_owned();
    o.act(&o.budi, &withdrawn, "withdraw", json!({})).await.assert_status(200);
    let failed_once = to_integration(&o, &o.budi, &andi).await;
    o.act(&o.andi, &failed_once, "integration", json!({"base_url": "https://x.example/api"})).await.assert_status(200);
    o.attach(&o.andi, &failed_once, "test_report").await;
    o.act(&o.andi, &failed_once, "testing", json!({"result": "failed"})).await.assert_status(200);
    let completed = to_integration(&o, &o.budi, &andi).await;
    complete(&o, &completed).await;
    // A follow-up addressed to a person (its actor is then `addressees`).
    let addressed = submitted(&o).await;
    o.act(&o.kabid, &addressed, "disposition", json!({"instructions": ["tindak_lanjuti"], "to_user_ids": [o.kasi_id]}))
        .await
        .assert_status(200);
    (o, vec![draft, at_disposition, returned, rejected, withdrawn, failed_once, completed, addressed])
}

#[tokio::test]
async fn check_finds_a_healthy_office_consistent() {
    let (o, requests) = busy_office().await;
    let checker = checker(&o.app).await;
    let report = run(&checker, false).await;
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.requests_checked, requests.len() as u64);
    assert!(report.documents_checked >= 10, "{report}");
    assert_eq!(report.files_stored, report.documents_checked);
    assert!(report.audit.intact && report.audit.events_checked > 30);
    assert!(report.to_string().ends_with("consistent"));
}

#[tokio::test]
async fn check_reports_a_document_whose_bytes_are_gone() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    o.attach(&o.kabid, &id, "disposition_sheet").await;
    let store = LocalStore::new(&o.app.storage_dir);
    let keys = store.keys();
    assert_eq!(keys.len(), 2);
    std::fs::remove_file(o.app.storage_dir.join(&keys[0])).expect("remove the bytes");
    let checker = checker(&o.app).await;
    let report = run(&checker, false).await;
    assert_eq!(report.document_problems.len(), 1, "{report}");
    let p = &report.document_problems[0];
    assert_eq!(p.storage_key, keys[0]);
    assert_eq!(p.request_id.to_string(), id);
    assert!(p.problem.contains("no bytes"), "{}", p.problem);
    assert_eq!(report.problems(), 1);
    // Nothing to repair: a person must restore the bytes from a backup.
    let report = run(&checker, true).await;
    assert_eq!(report.problems(), 1);
}

fn write_aged(path: &std::path::Path, bytes: &[u8], age: Duration) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
    std::fs::write(path, bytes).expect("write");
    let f = std::fs::File::options().write(true).open(path).expect("open");
    f.set_modified(SystemTime::now() - age).expect("set mtime");
}

#[tokio::test]
async fn check_removes_stray_bytes_only_when_old_enough_and_asked_to() {
    let o = Office::new().await;
    submitted(&o).await;
    let dir = &o.app.storage_dir;
    let old = "ab/cd/0193a1f06c0070008000000000abcdef";
    let young = "ab/cd/0193a1f06c0070008000000000fedcba";
    write_aged(&dir.join(old), b"left by a crash", Duration::from_secs(120));
    write_aged(&dir.join(young), b"an upload in flight", Duration::ZERO);
    let stale_tmp = dir.join("tmp").join(uuid::Uuid::new_v4().to_string());
    let busy_tmp = dir.join("tmp").join(uuid::Uuid::new_v4().to_string());
    write_aged(&stale_tmp, b"half an upload", Duration::from_secs(2 * 3600));
    write_aged(&busy_tmp, b"half an upload", Duration::from_secs(60));

    let checker = checker(&o.app).await;
    let report = run(&checker, false).await;
    assert_eq!(report.orphans.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), [old], "{report}");
    assert_eq!(report.recent_orphans.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), [young]);
    assert_eq!(report.stale_temp_files.len(), 1);
    assert!(report.document_problems.is_empty() && report.request_problems.is_empty());
    assert_eq!(report.problems(), 2, "the old stray file and the stale temporary file");
    assert!(dir.join(old).exists() && stale_tmp.exists(), "nothing is removed without --repair");

    let report = run(&checker, true).await;
    assert!(report.orphans.iter().all(|f| f.removed) && report.stale_temp_files.iter().all(|f| f.removed));
    assert!(report.is_clean(), "{report}");
    assert!(!dir.join(old).exists() && !stale_tmp.exists());
    assert!(dir.join(young).exists() && busy_tmp.exists(), "young files are left alone");
    // The real document is untouched and still downloads.
    assert!(run(&checker, false).await.is_clean());
}

#[tokio::test]
async fn check_finds_requests_in_states_their_definition_does_not_allow_and_a_broken_audit_chain() {
    let o = Office::new().await;
    let draft = o.create(&o.budi).await["id"].as_str().expect("id").to_owned();
    let moving = submitted(&o).await;
    let checker = checker(&o.app).await;
    assert!(run(&checker, false).await.is_clean());
    let state = checker.state();
    let db = &state.db;
    let uuid = |s: &str| uuid::Uuid::parse_str(s).expect("uuid");
    // A step this flow does not have.
    let mut q = Query::update();
    q.table(Alias::new("requests"))
        .value(Alias::new("current_step"), "no_such_step")
        .and_where(Expr::col(Alias::new("id")).eq(uuid(&draft)));
    db.execute(&q).await.expect("update");
    // An in-progress request whose open step was closed behind its back.
    let mut q = Query::update();
    q.table(Alias::new("step_instances"))
        .value(Alias::new("completed_at"), chrono::Utc::now())
        .and_where(Expr::col(Alias::new("request_id")).eq(uuid(&moving)));
    db.execute(&q).await.expect("update");
    // A tampered audit event.
    let mut q = Query::update();
    q.table(Alias::new("audit_events"))
        .value(Alias::new("action"), "request.tampered")
        .and_where(Expr::col(Alias::new("seq")).eq(3));
    db.execute(&q).await.expect("update");

    let report = run(&checker, true).await;
    let about = |id: &str| {
        report
            .request_problems
            .iter()
            .filter(|p| p.request_id == uuid(id))
            .map(|p| p.problem.clone())
            .collect::<Vec<_>>()
    };
    assert!(about(&draft).iter().any(|p| p.contains("no_such_step")), "{report}");
    assert!(about(&moving).iter().any(|p| p.contains("already completed")), "{report}");
    assert!(!report.audit.intact);
    assert_eq!(report.audit.first_broken_seq, Some(3));
    assert_eq!(report.problems(), 3, "{report}");
    assert!(report.to_string().ends_with("3 problem(s) remain"));
}

/// Typed columns: a status the domain does not know is an error wherever the row is read
/// (500, logged), never a default that would make it an editable draft; `check` names it.
#[tokio::test]
async fn a_corrupt_status_is_an_error_never_an_editable_draft() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let checker = checker(&o.app).await;
    let mut q = Query::update();
    q.table(Alias::new("requests"))
        .value(Alias::new("status"), "archived")
        .and_where(Expr::col(Alias::new("id")).eq(uuid::Uuid::parse_str(&id).expect("uuid")));
    checker.state().db.execute(&q).await.expect("update");
    o.app.get(&format!("/requests/{id}"), &o.budi).await.assert_problem(500);
    let edit = o.app.patch(&format!("/requests/{id}"), &o.budi, json!({"title": "Diubah"})).await;
    edit.assert_problem(500);
    let report = run(&checker, false).await;
    assert!(report.request_problems.iter().any(|p| p.problem.contains("unknown status `archived`")), "{report}");
}

/// A legacy finished step that cannot be read (an outcome the domain does not know) does
/// not keep the service from starting: it is logged, and the rest starts as usual.
#[tokio::test]
async fn an_unreadable_legacy_step_does_not_keep_the_service_down() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let first = checker(&o.app).await;
    let mut q = Query::update();
    q.table(Alias::new("step_instances"))
        .value(Alias::new("outcome"), "misplaced")
        .value(Alias::new("working_seconds"), Option::<i64>::None)
        .and_where(Expr::col(Alias::new("request_id")).eq(uuid::Uuid::parse_str(&id).expect("uuid")))
        .and_where(Expr::col(Alias::new("completed_at")).is_not_null());
    first.state().db.execute(&q).await.expect("update");
    let again = checker(&o.app).await;
    assert!(again.port() > 0, "the service started");
    o.app.get(&format!("/requests/{id}"), &o.budi).await.assert_status(200);
}
