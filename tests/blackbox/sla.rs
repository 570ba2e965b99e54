//! The SLA sweeper, notifications and due-time recomputation, with the service's clock
//! moved to known office hours.
//!
//! The sweeper is driven directly through `jembatan::jobs::sla_sweeper::sweep` on
//! *replicas*: extra `Application`s on the test app's database and clock (as a second
//! server process would be), so the tests also show that two sweepers never record a
//! crossing twice. One test instead lets the background job run on a one-second
//! interval and only watches the HTTP API.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use jembatan::clock::Clock;
use jembatan::config::Settings;
use jembatan::jobs::sla_sweeper::{SweepReport, sweep};
use jembatan::startup::Application;
use jembatan_tests::{Resp, TestApp};
use serde_json::{Value, json};

use crate::flows::{Office, submitted};

/// An instant on the WIB wall clock (UTC+7 all year, no daylight saving).
pub fn wib(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("a valid instant") - chrono::Duration::hours(7)
}

/// Moves the app's clock (domain time only) so that it reads `at` now.
pub fn set_clock(app: &TestApp, at: DateTime<Utc>) {
    let now = app.clock.now();
    app.clock.advance(at - now);
}

/// An app whose own background sweeper stays out of the way (first run after an hour).
pub async fn quiet_office() -> Office {
    Office::with(TestApp::spawn_with(|s| s.sweep_interval_secs = 3600).await).await
}

/// A second instance of the service on the same database and clock.
pub async fn replica(app: &TestApp) -> Application {
    let settings = Settings {
        database_url: app.database_url.clone(),
        listen: "127.0.0.1:0".into(),
        jwt_secret: Some(format!("replica-secret-{}", uuid::Uuid::new_v4())),
        storage_dir: app.storage_dir.clone(),
        db_max_connections: 5,
        workers: Some(1),
        sweep_interval_secs: 3600,
        ..Settings::default()
    }
    .check(false)
    .expect("replica settings are valid");
    Application::build(settings, Arc::new(app.clock.clone())).await.expect("the replica builds")
}

pub fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).expect("an RFC 3339 instant").with_timezone(&Utc)
}

/// Equal to the second, allowing for the real time a test takes (the shifted clock runs on).
#[track_caller]
pub fn assert_near(actual: &Value, expected: DateTime<Utc>) {
    let d = (at(actual) - expected).num_milliseconds().abs();
    assert!(d < 5_000, "{actual} should be {expected} (within seconds)");
}

async fn inbox(o: &Office, token: &str, query: &str) -> Resp {
    o.app.get(&format!("/notifications{query}"), token).await
}

/// The SLA notices in an inbox (the sweeper's; the events' own notices are left out).
fn kinds(r: &Resp) -> Vec<String> {
    r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
        .filter(|k| matches!(k.as_str(), "sla_warning" | "sla_overdue" | "escalation"))
        .collect()
}

async fn events(o: &Office, id: &str, action: &str) -> Vec<Value> {
    let r = o.app.get(&format!("/audit/events?object_id={id}&action={action}"), &o.auditor).await;
    r.assert_status(200)["items"].as_array().expect("items").clone()
}

fn quiet() -> SweepReport {
    SweepReport::default()
}

#[tokio::test]
async fn a_late_step_warns_then_goes_overdue_and_escalates_exactly_once_across_replicas() {
    let o = quiet_office().await;
    // Monday 16 November 2026, 08:00 WIB: an ordinary working day.
    set_clock(&o.app, wib(2026, 11, 16, 8, 0));
    let id = submitted(&o).await;
    let r = o.get(&o.kabid, &id).await;
    assert_eq!(r["current_step"]["code"], "disposition");
    // "15m", started 08:00: due and limit 08:15; warning at 80 %, i.e. 12 minutes.
    assert_near(&r["current_step"]["due_at"], wib(2026, 11, 16, 8, 15));
    assert_near(&r["current_step"]["limit_at"], wib(2026, 11, 16, 8, 15));

    let (a, b) = (replica(&o.app).await, replica(&o.app).await);
    let (a, b) = (a.state(), b.state());
    assert_eq!(sweep(&a).await.unwrap(), quiet(), "nothing has crossed at 08:00");

    // 08:13: past the warning point. The head of division (kabid) is told; nobody else.
    set_clock(&o.app, wib(2026, 11, 16, 8, 13));
    let first = sweep(&a).await.unwrap();
    assert_eq!((first.warnings, first.overdue, first.notifications, first.failed), (1, 0, 1, 0));
    let k = inbox(&o, &o.kabid, "").await;
    k.assert_status(200);
    assert_eq!(kinds(&k), ["sla_warning"]);
    assert_eq!(k.body["items"][0]["request_id"], id.as_str());
    assert!(k.body["items"][0]["read_at"].is_null());
    assert!(k.body["items"][0]["title"].as_str().unwrap().contains("INT/2026/"), "{}", k.text);
    for t in [&o.kadis, &o.kasi, &o.andi, &o.admin, &o.budi] {
        assert_eq!(kinds(&inbox(&o, t, "").await), Vec::<String>::new());
    }
    // The timeline (which knows the warning instant) shows `warning`.
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.kabid).await;
    assert_eq!(t.assert_status(200)["steps"].as_array().unwrap().last().unwrap()["sla_state"], "warning");
    // Again, from either replica: nothing new.
    assert_eq!(sweep(&a).await.unwrap(), quiet());
    assert_eq!(sweep(&b).await.unwrap(), quiet());

    // 08:16: past the limit. Both replicas sweep at the same moment; one records it.
    set_clock(&o.app, wib(2026, 11, 16, 8, 16));
    let (ra, rb) = tokio::join!(sweep(&a), sweep(&b));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!((ra.warnings + rb.warnings, ra.overdue + rb.overdue, ra.failed + rb.failed), (0, 1, 0), "{ra:?} {rb:?}");
    // kabid: overdue (as the actor); kadis: escalation (head of division → head of agency).
    assert_eq!(ra.notifications + rb.notifications, 2);
    assert_eq!(kinds(&inbox(&o, &o.kabid, "").await), ["sla_overdue", "sla_warning"], "newest first");
    let up = inbox(&o, &o.kadis, "").await;
    assert_eq!(kinds(&up), ["escalation"]);
    assert_eq!(up.body["items"][0]["request_id"], id.as_str());
    for t in [&o.kasi, &o.andi, &o.sari, &o.admin, &o.auditor, &o.budi] {
        assert_eq!(kinds(&inbox(&o, t, "").await), Vec::<String>::new());
    }
    for _ in 0..2 {
        assert_eq!(sweep(&a).await.unwrap(), quiet());
        assert_eq!(sweep(&b).await.unwrap(), quiet());
    }
    assert_eq!(kinds(&inbox(&o, &o.kabid, "").await).len(), 2);
    assert_eq!(kinds(&inbox(&o, &o.kadis, "").await).len(), 1);

    // One audit event per crossing, naming the step, its times and who was told.
    let warned = events(&o, &id, "request.sla_warning").await;
    let late = events(&o, &id, "request.sla_overdue").await;
    assert_eq!((warned.len(), late.len()), (1, 1));
    assert_eq!(late[0]["details"]["step"], "disposition");
    assert_eq!(late[0]["details"]["time_standard"], "15m");
    assert_near(&late[0]["details"]["limit_at"], wib(2026, 11, 16, 8, 15));
    assert_eq!(late[0]["details"]["escalated_to"]["role"], "head_of_agency");
    assert_eq!(late[0]["details"]["escalated_to"]["user_ids"].as_array().unwrap().len(), 1);
    assert_eq!(late[0]["details"]["notified_user_ids"].as_array().unwrap().len(), 1);
    assert!(late[0]["actor_user_id"].is_null(), "the service itself");
    assert_eq!(o.app.get("/audit/verify", &o.auditor).await.assert_status(200)["intact"], true);

    // The request shows overdue, and the overdue list has it.
    assert_eq!(o.get(&o.kabid, &id).await["current_step"]["sla_state"], "overdue");
    let list = o.app.get("/requests?overdue=true", &o.kabid).await;
    let ids: Vec<&str> =
        list.assert_status(200)["items"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str()]);
}

#[tokio::test]
async fn a_team_step_escalates_to_the_technical_lead_and_paused_or_draft_requests_are_not_swept() {
    let o = quiet_office().await;
    set_clock(&o.app, wib(2026, 11, 16, 8, 0));
    let id = submitted(&o).await;
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_status(200);
    o.attach(&o.kasi, &id, "formulation").await;
    o.act(&o.kasi, &id, "discussion", json!({})).await.assert_status(200);
    o.act(&o.kadis, &id, "approval", json!({})).await.assert_status(200);
    o.attach(&o.kabid, &id, "api_document").await;
    let team = json!({"lead_user_id": o.andi_id, "member_user_ids": [o.sari_id]});
    let r = o.act(&o.kabid, &id, "team", team).await;
    assert_eq!(r.assert_status(200)["current_step"]["code"], "integration");
    // "1w" from Monday 08:00 → Monday 23 November 08:00.
    assert_near(&r.body["current_step"]["limit_at"], wib(2026, 11, 23, 8, 0));
    // Another request waits on the applicant (returned), and a third is a draft.
    let paused = submitted(&o).await;
    o.act(&o.kabid, &paused, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    o.act(&o.kasi, &paused, "return", json!({"reason": "Lampiran kurang"})).await.assert_status(200);
    let draft = o.create(&o.budi).await;

    // Tuesday 24 November 09:00: the build step passed both its warning point and its limit.
    set_clock(&o.app, wib(2026, 11, 24, 9, 0));
    let state = replica(&o.app).await.state();
    let r = sweep(&state).await.unwrap();
    // Both crossings of the one team step; the returned and the draft request are left alone.
    // Notifications: andi and sari get a warning and an overdue each (4); kasi, the
    // technical lead, gets the escalation (1).
    assert_eq!((r.warnings, r.overdue, r.notifications, r.failed), (1, 1, 5, 0), "{r:?}");
    for t in [&o.andi, &o.sari] {
        assert_eq!(kinds(&inbox(&o, t, "").await), ["sla_overdue", "sla_warning"]);
    }
    assert_eq!(kinds(&inbox(&o, &o.kasi, "").await), ["escalation"]);
    for t in [&o.kabid, &o.kadis, &o.admin] {
        assert_eq!(kinds(&inbox(&o, t, "").await), Vec::<String>::new());
    }
    let late = events(&o, &id, "request.sla_overdue").await;
    assert_eq!(late[0]["details"]["actor"], "team");
    assert_eq!(late[0]["details"]["escalated_to"]["role"], "technical_lead");
    assert!(events(&o, &paused, "request.sla_overdue").await.is_empty());
    assert!(events(&o, draft["id"].as_str().unwrap(), "request.sla_warning").await.is_empty());
    assert_eq!(sweep(&state).await.unwrap(), quiet());
}

#[tokio::test]
async fn notifications_are_mine_only_unread_first_and_can_be_marked_read() {
    let o = quiet_office().await;
    set_clock(&o.app, wib(2026, 11, 16, 8, 0));
    let first = submitted(&o).await;
    set_clock(&o.app, wib(2026, 11, 16, 8, 5));
    let second = submitted(&o).await;
    // The two tasks' arrival notices, read: the SLA notices below are the unread ones.
    assert_eq!(o.app.post("/notifications/read-all", &o.kabid, json!({})).await.body["marked_read"], 2);
    // 08:30: both dispositions are late (limits 08:15 and 08:20).
    set_clock(&o.app, wib(2026, 11, 16, 8, 30));
    let state = replica(&o.app).await.state();
    assert_eq!(sweep(&state).await.unwrap().notifications, 6, "kabid: 2 warnings + 2 overdue; kadis: 2 escalations");
    let all = inbox(&o, &o.kabid, "").await;
    // 4 unread SLA notices, then the 2 read task notices.
    assert_eq!(all.assert_status(200)["items"].as_array().unwrap().len(), 6);
    assert!(all.body["next_cursor"].is_null());
    // Paging, one at a time, visits each exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("?limit=1&cursor={c}"),
            None => "?limit=1".into(),
        };
        let page = inbox(&o, &o.kabid, &q).await;
        let items = page.assert_status(200)["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1);
        seen.push(items[0]["id"].as_str().unwrap().to_owned());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let ids: Vec<String> =
        all.body["items"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, ids);

    // Someone else's notification does not exist for me.
    let escalation = inbox(&o, &o.kadis, "").await.body["items"][0]["id"].as_str().unwrap().to_owned();
    o.app.post(&format!("/notifications/{escalation}/read"), &o.kabid, json!({})).await.assert_problem(404);
    o.app.post(&format!("/notifications/{}/read", uuid::Uuid::new_v4()), &o.kabid, json!({})).await.assert_problem(404);
    assert!(inbox(&o, &o.kadis, "").await.body["items"][0]["read_at"].is_null());

    // Mark the oldest unread read: it moves behind the unread ones, ahead of older reads.
    let oldest = ids[3].clone();
    let r = o.app.post(&format!("/notifications/{oldest}/read"), &o.kabid, json!({})).await;
    assert!(r.assert_status(200)["read_at"].is_string());
    let read_at = r.body["read_at"].clone();
    // Again: no change.
    assert_eq!(
        o.app.post(&format!("/notifications/{oldest}/read"), &o.kabid, json!({})).await.body["read_at"],
        read_at
    );
    let after: Vec<String> = inbox(&o, &o.kabid, "").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(after[3], oldest);
    assert_eq!(after[..3], ids[..3]);
    // Paging across the unread/read boundary.
    let p1 = inbox(&o, &o.kabid, "?limit=3").await;
    assert_eq!(p1.body["items"].as_array().unwrap().len(), 3);
    let c = p1.body["next_cursor"].as_str().unwrap().to_owned();
    let p2 = inbox(&o, &o.kabid, &format!("?limit=3&cursor={c}")).await;
    assert_eq!(p2.body["items"][0]["id"], oldest.as_str());
    assert!(p2.body["next_cursor"].is_null());
    assert_eq!(inbox(&o, &o.kabid, "?unread=true").await.body["items"].as_array().unwrap().len(), 3);
    let read = inbox(&o, &o.kabid, "?unread=false").await;
    assert_eq!(read.body["items"].as_array().unwrap().len(), 3);
    assert_eq!(read.body["items"][0]["id"], oldest.as_str());

    let all_read = o.app.post("/notifications/read-all", &o.kabid, json!({})).await;
    assert_eq!(all_read.assert_status(200)["marked_read"], 3);
    assert_eq!(o.app.post("/notifications/read-all", &o.kabid, json!({})).await.body["marked_read"], 0);
    assert_eq!(inbox(&o, &o.kabid, "?unread=true").await.body["items"], json!([]));
    // kadis's are untouched.
    assert_eq!(inbox(&o, &o.kadis, "?unread=true").await.body["items"].as_array().unwrap().len(), 2);
    // Any cursor of the documented shape is a position (here: before everything in the
    // unread section), not an error; one of another shape is a client error, not a crash.
    inbox(&o, &o.kabid, "?cursor=AAAAAAAAQAAAAAAAAAAAAA").await.assert_status(200);
    inbox(&o, &o.kabid, "?cursor=junk").await.assert_problem(422);
    // Signed in is required.
    o.app.call(reqwest::Method::GET, "/notifications", None, None).await.assert_problem(401);
    let _ = (first, second);
}

#[tokio::test]
async fn the_background_job_fires_by_itself_once_per_crossing() {
    let o = Office::with(TestApp::spawn_with(|s| s.sweep_interval_secs = 1).await).await;
    set_clock(&o.app, wib(2026, 11, 16, 8, 0));
    let id = submitted(&o).await;
    // 08:20: warning and limit both passed; the job (every second) records both.
    set_clock(&o.app, wib(2026, 11, 16, 8, 20));
    let mut got = Vec::new();
    for _ in 0..100 {
        got = kinds(&inbox(&o, &o.kabid, "").await);
        if got.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got.sort();
    assert_eq!(got, ["sla_overdue", "sla_warning"]);
    // A few more runs change nothing.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(kinds(&inbox(&o, &o.kabid, "").await).len(), 2);
    assert_eq!(kinds(&inbox(&o, &o.kadis, "").await), ["escalation"]);
    assert_eq!(events(&o, &id, "request.sla_overdue").await.len(), 1);
    assert_eq!(events(&o, &id, "request.sla_warning").await.len(), 1);
}

#[tokio::test]
async fn a_new_closed_date_moves_the_due_times_of_open_steps_only() {
    let o = quiet_office().await;
    // Monday 15:25: "15m" runs 5 minutes on Monday and 10 on Tuesday → Tuesday 07:40.
    set_clock(&o.app, wib(2026, 11, 16, 15, 25));
    let id = submitted(&o).await;
    let before = o.get(&o.kabid, &id).await;
    assert_near(&before["current_step"]["due_at"], wib(2026, 11, 17, 7, 40));
    // A finished step (submit) must keep its times.
    let t0 = o.app.get(&format!("/requests/{id}/timeline"), &o.kabid).await.body["steps"][0].clone();

    // Tuesday 17 November becomes a regional closure (on a replica: the recomputation
    // writes the database, which every replica reads).
    let rep = replica(&o.app).await;
    let state = rep.state();
    let closure = jembatan::calendar::ClosedDate {
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 17).unwrap(),
        name: "Libur daerah (test)".into(),
        kind: jembatan::calendar::ClosedDateKind::RegionalClosure,
        source: "SE Bupati (test)".into(),
    };
    let mut closed = state.calendar().closed_dates().to_vec();
    closed.push(closure);
    let cal = jembatan::calendar::WorkingCalendar::new(state.calendar().weekly().clone(), closed, Vec::new()).unwrap();
    state.set_calendar(cal);
    let changed = jembatan::service::due_times::recompute_open_due_times(&state).await.unwrap();
    assert_eq!(changed, 1);
    let after = o.get(&o.kabid, &id).await;
    assert_near(&after["current_step"]["due_at"], wib(2026, 11, 18, 7, 40));
    assert_near(&after["current_step"]["limit_at"], wib(2026, 11, 18, 7, 40));
    assert_eq!(after["version"].as_i64().unwrap(), before["version"].as_i64().unwrap() + 1);
    let t1 = o.app.get(&format!("/requests/{id}/timeline"), &o.kabid).await.body["steps"][0].clone();
    assert_eq!(t1["due_at"], t0["due_at"]);
    let ev = events(&o, &id, "request.due_times_recomputed").await;
    assert_eq!(ev.len(), 1);
    assert_near(&ev[0]["details"]["from"]["due_at"], wib(2026, 11, 17, 7, 40));
    assert_near(&ev[0]["details"]["to"]["due_at"], wib(2026, 11, 18, 7, 40));
    // Nothing more to move.
    assert_eq!(jembatan::service::due_times::recompute_open_due_times(&state).await.unwrap(), 0);
}
