//! Definitions are data: a published revision changes who acts for new requests only.

use serde_json::{Value, json};

use crate::flows::{Office, submitted};

/// The published definition as a body for `POST /workflows/{key}/versions`.
pub fn as_revision(published: &Value) -> Value {
    let mut def = published.clone();
    for k in ["id", "published_at", "published_by_user_id"] {
        def.as_object_mut().unwrap().remove(k);
    }
    def
}

async fn to_approval(o: &Office, id: &str) {
    o.act(&o.kabid, id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    o.act(&o.kasi, id, "follow-up", json!({})).await.assert_status(200);
    o.attach(&o.kasi, id, "formulation").await;
    let r = o.act(&o.kasi, id, "discussion", json!({})).await;
    assert_eq!(r.assert_status(200)["current_step"]["code"], "approval");
}

#[tokio::test]
async fn a_revision_applies_to_new_requests_and_running_ones_keep_their_version() {
    let o = Office::new().await;
    let v1 = o.app.get("/workflows/external", &o.budi).await.assert_status(200).clone();
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["steps"].as_array().unwrap().len(), 10);
    assert_eq!(v1["sop_number"], "000.8.3.3/027/SOP/406.020/2025");
    let running = submitted(&o).await;

    // Revision: the head of division approves instead of the head of agency.
    let mut revision = as_revision(&v1);
    let approval = revision["steps"].as_array_mut().unwrap().iter_mut().find(|s| s["code"] == "approval").unwrap();
    assert_eq!(approval["actor"], json!({"role": "head_of_agency"}));
    approval["actor"] = json!({"role": "head_of_division"});
    o.app.post("/workflows/external/versions", &o.kabid, revision.clone()).await.assert_problem(403);
    let published = o.app.post("/workflows/external/versions", &o.admin, revision).await;
    assert_eq!(published.assert_status(201)["version"], 2);
    assert_eq!(o.app.get("/workflows/external", &o.kasi).await.body["version"], 2);
    assert_eq!(o.app.get("/workflows/external?version=1", &o.kasi).await.body["version"], 1);

    // The running request stays on version 1: the head of agency approves it.
    to_approval(&o, &running).await;
    o.act(&o.kabid, &running, "approval", json!({})).await.assert_problem(403);
    let r = o.act(&o.kadis, &running, "approval", json!({})).await;
    assert_eq!(r.assert_status(200)["definition_version"], 1);

    // A new request follows version 2: now the head of division approves.
    let new = submitted(&o).await;
    assert_eq!(o.get(&o.budi, &new).await["definition_version"], 2);
    to_approval(&o, &new).await;
    o.act(&o.kadis, &new, "approval", json!({})).await.assert_problem(403);
    o.act(&o.kabid, &new, "approval", json!({})).await.assert_status(200);
}

#[tokio::test]
async fn a_broken_revision_is_refused_naming_the_problem() {
    let o = Office::new().await;
    let v1 = o.app.get("/workflows/internal", &o.admin).await.body;
    let mut dup = as_revision(&v1);
    dup["steps"][2]["code"] = json!("disposition");
    let r = o.app.post("/workflows/internal/versions", &o.admin, dup).await;
    assert!(r.assert_problem(422)["detail"].as_str().unwrap().contains("disposition"), "{}", r.text);
    // A definition for the other flow, posted under this key.
    let mut wrong_flow = as_revision(&v1);
    wrong_flow["flow"] = json!("external");
    o.app.post("/workflows/internal/versions", &o.admin, wrong_flow).await.assert_problem(422);
    // A misspelt rule is not silently ignored.
    let mut typo = as_revision(&v1);
    typo["steps"][1]["may_retrun"] = json!(true);
    o.app.post("/workflows/internal/versions", &o.admin, typo).await.assert_problem(400);
    // Nothing was published.
    assert_eq!(o.app.get("/workflows/internal", &o.admin).await.body["version"], 1);
}

/// Issue 12, item 10: every signed-in caller can see which revisions were published, newest
/// first, a page at a time; each revision's definition is one more call.
#[tokio::test]
async fn the_published_revisions_of_a_flow_are_listed_newest_first() {
    let o = Office::new().await;
    let mut revision = as_revision(o.app.get("/workflows/external", &o.admin).await.assert_status(200));
    revision["name"] = json!("Integrasi SI dari Eksternal (revisi)");
    o.app.post("/workflows/external/versions", &o.admin, revision).await.assert_status(201);
    let list = o.app.get("/workflows/external/versions", &o.budi).await;
    let items = list.assert_status(200)["items"].as_array().unwrap().clone();
    let versions: Vec<i64> = items.iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [2, 1]);
    assert_eq!(items[0]["name"], "Integrasi SI dari Eksternal (revisi)");
    assert_eq!(items[0]["steps"], 10);
    assert!(items[0]["published_by_user_id"].is_string() && items[1]["published_by_user_id"].is_null());
    // A page at a time.
    let first = o.app.get("/workflows/external/versions?limit=1", &o.budi).await.body;
    assert_eq!(first["items"][0]["version"], 2);
    let cursor = first["next_cursor"].as_str().expect("a next page").to_owned();
    let second = o.app.get(&format!("/workflows/external/versions?limit=1&cursor={cursor}"), &o.budi).await.body;
    assert_eq!(second["items"][0]["version"], 1);
    assert!(second["next_cursor"].is_null());
    // The internal flow has its own history.
    let internal = o.app.get("/workflows/internal/versions", &o.budi).await.body;
    assert_eq!(internal["items"].as_array().unwrap().len(), 1);
    o.app.get("/workflows/archived/versions", &o.budi).await.assert_problem(400);
}

/// Issue 12, item 8: a finished step's working time in the timeline is the one measured
/// when it finished, even after the calendar changed.
#[tokio::test]
async fn the_timeline_keeps_a_finished_steps_measured_working_time() {
    use chrono::{Datelike, Duration, TimeZone};
    use jembatan::clock::Clock;
    let o = Office::new().await;
    // Move the clock to next Monday, 09:00 in Trenggalek: working time.
    let wib = chrono::FixedOffset::east_opt(7 * 3600).unwrap();
    let local = o.app.clock.now().with_timezone(&wib);
    let days = (7 - local.weekday().num_days_from_monday()) % 7;
    let days = if days == 0 { 7 } else { days };
    let monday = local.date_naive() + Duration::days(i64::from(days));
    let nine = wib.from_local_datetime(&monday.and_hms_opt(9, 0, 0).unwrap()).unwrap();
    o.app.clock.advance(nine.signed_duration_since(local));
    let id = submitted(&o).await;
    o.app.clock.advance(Duration::minutes(30));
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"], "to_user_id": o.kasi_id}))
        .await
        .assert_status(200);
    let worked = |t: &Value| t["steps"][1]["working_seconds"].as_i64().unwrap();
    let before = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await.body;
    assert_eq!(before["steps"][1]["step_code"], "disposition");
    let measured = worked(&before);
    assert!((1700..=1900).contains(&measured), "about 30 working minutes: {measured}");
    // That Monday is declared closed afterwards: a recomputation would now say 0.
    let closure = json!({"date": monday.to_string(), "name": "Cuti bersama (uji)", "kind": "regional_closure",
                         "source": "Surat Edaran (test)"});
    o.app.post("/calendar/closed-dates", &o.admin, closure).await.assert_status(201);
    let after = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await.body;
    assert_eq!(worked(&after), measured);
}
