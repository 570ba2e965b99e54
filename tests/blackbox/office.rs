//! Issue 12, the office's real work: dispositions addressed to people, acting officials,
//! team changes, closing a request at any step, sending back, comments and internal
//! notes, notifications for every event, documents carried forward, the catalogue.

use jembatan::clock::Clock;
use serde_json::{Value, json};

use crate::authz::{complete, to_integration};
use crate::flows::{Office, submitted};

fn s(v: &Value) -> String {
    v.as_str().map(str::to_owned).unwrap_or_else(|| panic!("expected a string, got {v}"))
}

async fn user_id(o: &Office, token: &str) -> String {
    s(&o.app.get("/auth/me", token).await.assert_status(200)["id"])
}

/// The ids of the requests in a caller's worklist.
async fn task_ids(o: &Office, token: &str) -> Vec<String> {
    let r = o.app.get("/tasks", token).await;
    r.assert_status(200)["items"].as_array().expect("tasks").iter().map(|t| s(&t["id"])).collect()
}

/// The kinds of a person's notifications about `request`, oldest first.
async fn notices(o: &Office, token: &str, request: &str) -> Vec<String> {
    let r = o.app.get("/notifications?limit=100", token).await;
    let mut items: Vec<Value> = r.assert_status(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["request_id"] == request)
        .cloned()
        .collect();
    items.sort_by_key(|n| s(&n["id"]));
    items.iter().map(|n| s(&n["kind"])).collect()
}

/// A second technical lead of APTIKA.
async fn second_lead(o: &Office) -> (String, String) {
    let aptika = o.app.get("/auth/me", &o.kasi).await.body["organization_id"].clone();
    let (u, t) = o.app.user(&o.admin, "kasi2", &aptika, &["technical_lead"]).await;
    (s(&u["id"]), t)
}

/// Brings a fresh external request to `step` (the disposition names nobody).
async fn at_step(o: &Office, step: &str) -> String {
    let id = submitted(o).await;
    let path = [
        ("disposition", "follow-up"),
        ("follow-up", "discussion"),
        ("discussion", "approval"),
        ("approval", "team"),
        ("team", "integration"),
        ("integration", "testing"),
        ("testing", "implementation"),
        ("implementation", "report"),
    ];
    let mut current = "disposition";
    for (from, _) in path {
        if current == step {
            break;
        }
        let (who, body, doc): (&str, Value, Option<&str>) = match from {
            "disposition" => (&o.kabid, json!({"instructions": ["tindak_lanjuti"]}), None),
            "follow-up" => (&o.kasi, json!({}), None),
            "discussion" => (&o.kasi, json!({}), Some("formulation")),
            "approval" => (&o.kadis, json!({}), None),
            "team" => (&o.kabid, json!({"lead_user_id": o.andi_id, "member_user_ids": []}), Some("api_document")),
            "integration" => (&o.andi, json!({"base_url": "https://api.example.go.id/v1"}), None),
            "testing" => (&o.andi, json!({"result": "passed"}), Some("test_report")),
            "implementation" => (&o.andi, json!({}), Some("integration_report")),
            _ => unreachable!(),
        };
        if let Some(d) = doc {
            o.attach(who, &id, d).await;
        }
        o.act(who, &id, from, body).await.assert_status(200);
        current = path.iter().find(|(f, _)| *f == from).map(|(_, t)| *t).unwrap_or_default();
    }
    id
}

/// Item 1: the disposition's addressees alone act on follow-up and discussion; their
/// worklist shows it, the other lead's does not; the head of division re-disposes.
#[tokio::test]
async fn a_disposition_to_a_person_gives_the_task_to_that_person_only() {
    let o = Office::new().await;
    let (kasi2_id, kasi2) = second_lead(&o).await;
    let id = submitted(&o).await;
    let r = o
        .act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"], "to_user_ids": [kasi2_id]}))
        .await;
    let step = &r.assert_status(200)["current_step"];
    assert_eq!((step["code"].as_str(), &step["actor"]), (Some("follow_up"), &json!({"role": "technical_lead"})));
    assert_eq!(step["addressee_ids"], json!([kasi2_id]));
    assert!(task_ids(&o, &kasi2).await.contains(&id));
    assert!(!task_ids(&o, &o.kasi).await.contains(&id), "the other lead's worklist must not show it");
    // Only the addressee acts; the other lead is refused with a reason that says so.
    let refused = o.act(&o.kasi, &id, "follow-up", json!({})).await;
    assert!(refused.assert_problem(403)["detail"].as_str().unwrap().contains("addressed"), "{}", refused.text);
    o.act(&o.kasi, &id, "return", json!({"reason": "x"})).await.assert_problem(403);
    // The task reached the addressee's inbox.
    assert_eq!(notices(&o, &kasi2, &id).await, ["task_arrived"]);
    assert!(notices(&o, &o.kasi, &id).await.is_empty());

    // Re-disposition: only the disposition's actor, only while an addressed step is open.
    let redispose = json!({"instructions": ["koordinasikan"], "to_user_ids": [o.kasi_id], "reason": "Kasi2 cuti"});
    o.act(&kasi2, &id, "redispose", redispose.clone()).await.assert_problem(403);
    o.act(&o.kabid, &id, "redispose", json!({"instructions": ["koordinasikan"], "to_user_ids": []}))
        .await
        .assert_problem(422);
    let r = o.act(&o.kabid, &id, "redispose", redispose.clone()).await;
    assert_eq!(r.assert_status(200)["current_step"]["addressee_ids"], json!([o.kasi_id]));
    o.act(&kasi2, &id, "follow-up", json!({})).await.assert_problem(403);
    assert!(task_ids(&o, &o.kasi).await.contains(&id));
    assert!(!task_ids(&o, &kasi2).await.contains(&id));
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_status(200);
    // The discussion stays the addressee's.
    o.attach(&o.kasi, &id, "formulation").await;
    o.act(&o.kasi, &id, "discussion", json!({})).await.assert_status(200);
    // At approval no step is addressed: nothing to re-dispose.
    o.act(&o.kabid, &id, "redispose", redispose).await.assert_problem(409);
    // The timeline records who changed the addressees, from whom to whom.
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await;
    let ev = t.body["events"].as_array().unwrap().iter().find(|e| e["action"] == "request.redisposed").cloned();
    let ev = ev.expect("a redisposed event");
    assert_eq!(ev["details"]["addressees_before"], json!([kasi2_id]));
    assert_eq!(ev["details"]["output"]["to_user_ids"], json!([o.kasi_id]));
    assert_eq!(ev["details"]["reason"], "Kasi2 cuti");
}

/// Item 2: a Plh acts for the official inside the range only, and the record says so.
#[tokio::test]
async fn an_acting_official_acts_inside_the_range_and_is_recorded_as_acting() {
    let o = Office::new().await;
    let kadis_id = user_id(&o, &o.kadis).await;
    let today = (o.app.clock.now() + chrono::Duration::hours(7)).date_naive();
    let day = |n: u64| (today + chrono::Days::new(n)).to_string();
    let appoint = |starts: String, ends: String| {
        json!({"acting_user_id": o.sari_id, "for_user_id": kadis_id, "kind": "plh",
               "letter_number": "800.1.11.1/045/406.020/2026", "starts_on": starts, "ends_on": ends})
    };
    // Back-dated: refused; not an admin: refused; a delegation of someone else: refused.
    let past = (today - chrono::Days::new(1)).to_string();
    let r = o.app.post("/acting-assignments", &o.admin, appoint(past, day(1))).await;
    assert!(r.assert_problem(422)["errors"]["starts_on"].is_array());
    o.app.post("/acting-assignments", &o.kabid, appoint(day(1), day(2))).await.assert_problem(403);
    let mut other = appoint(day(1), day(2));
    other["kind"] = json!("delegation");
    o.app.post("/acting-assignments", &o.kabid, other).await.assert_problem(403);
    let a = o.app.post("/acting-assignments", &o.admin, appoint(day(1), day(2))).await;
    assert_eq!(a.assert_status(201)["active"], false);
    // Overlapping another appointment for the same official: refused.
    o.app.post("/acting-assignments", &o.admin, appoint(day(2), day(3))).await.assert_problem(409);
    // The same official through their post: an appointment for head_of_agency in the
    // Kepala Dinas's organization overlaps the one for him.
    let office_org = o.app.get("/auth/me", &o.kadis).await.body["organization_id"].clone();
    let post = json!({"acting_user_id": o.kasi_id, "for_role": "head_of_agency", "for_organization_id": office_org,
        "kind": "plt", "letter_number": "800/2/2026", "starts_on": day(2), "ends_on": day(2)});
    o.app.post("/acting-assignments", &o.admin, post).await.assert_problem(409);

    let id = at_step(&o, "approval").await;
    // Before the range: sari is nobody's Plh yet.
    o.act(&o.sari, &id, "approval", json!({})).await.assert_problem(403);
    assert!(!task_ids(&o, &o.sari).await.contains(&id));
    // Inside the range: she sees the Kepala Dinas's task and approves as Plh.
    o.app.clock.advance(chrono::Duration::days(1));
    assert!(task_ids(&o, &o.sari).await.contains(&id));
    let mine = o.app.get("/acting-assignments?active=true", &o.sari).await;
    assert_eq!(mine.assert_status(200)["items"].as_array().unwrap().len(), 1);
    o.act(&o.sari, &id, "approval", json!({"note": "Disetujui Plh"})).await.assert_status(200);
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.budi).await;
    let ev = t.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "request.step_completed" && e["details"]["from"]["step"] == "approval")
        .cloned()
        .expect("approval event");
    assert_eq!(ev["actor"]["username"], "sari");
    assert_eq!(ev["acting_for"]["username"], "kadis");
    assert_eq!(ev["acting_kind"], "plh");
    assert_eq!(ev["details"]["acting_for"]["letter_number"], "800.1.11.1/045/406.020/2026");
    // After the range it ends by itself.
    let later = at_step(&o, "approval").await;
    o.app.clock.advance(chrono::Duration::days(3));
    o.act(&o.sari, &later, "approval", json!({})).await.assert_problem(403);
    // An applicant holds no post: nobody to delegate.
    let mut own = appoint(day(5), day(6));
    own["kind"] = json!("delegation");
    own["for_user_id"] = json!(user_id(&o, &o.budi).await);
    o.app.post("/acting-assignments", &o.budi, own).await.assert_problem(403);
    // A delegation by the official themselves, ended early by them.
    let mut d = appoint(day(5), day(6));
    d["kind"] = json!("delegation");
    let d = o.app.post("/acting-assignments", &o.kadis, d).await;
    let did = s(&d.assert_status(201)["id"]);
    o.app.post(&format!("/acting-assignments/{did}/end"), &o.rina, json!({})).await.assert_problem(404);
    let ended = o.app.post(&format!("/acting-assignments/{did}/end"), &o.kadis, json!({})).await;
    assert!(ended.assert_status(200)["ended_at"].is_string());
    o.app.post(&format!("/acting-assignments/{did}/end"), &o.kadis, json!({})).await.assert_problem(409);
}

/// Item 3a: the head of division changes the team while the request is open.
#[tokio::test]
async fn the_head_of_division_changes_the_team_and_the_people_are_told() {
    let o = Office::new().await;
    let early = at_step(&o, "approval").await;
    let change = json!({"lead_user_id": o.sari_id, "member_user_ids": [], "reason": "Andi dimutasi"});
    // No team yet.
    o.app
        .call(reqwest::Method::PUT, &format!("/requests/{early}/team"), Some(&o.kabid), Some(change.clone()))
        .await
        .assert_problem(409);
    let id = at_step(&o, "integration").await;
    let path = format!("/requests/{id}/team");
    let put = async |who: &str, body: Value| o.app.call(reqwest::Method::PUT, &path, Some(who), Some(body)).await;
    put(&o.kasi, change.clone()).await.assert_problem(403);
    put(&o.kabid, json!({"lead_user_id": o.sari_id, "member_user_ids": []})).await.assert_status(400);
    put(&o.kabid, change.clone()).await.assert_status(200);
    o.act(&o.andi, &id, "integration", json!({"base_url": "https://x.go.id/v1"})).await.assert_problem(403);
    assert!(notices(&o, &o.andi, &id).await.ends_with(&["team_removed".to_owned()]));
    assert_eq!(notices(&o, &o.sari, &id).await, ["team_added"]);
    assert!(task_ids(&o, &o.sari).await.contains(&id));
    o.act(&o.sari, &id, "integration", json!({"base_url": "https://x.go.id/v1"})).await.assert_status(200);
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.kabid).await;
    let ev = t.body["events"].as_array().unwrap().iter().find(|e| e["action"] == "request.team_changed").cloned();
    let ev = ev.expect("team_changed event");
    assert_eq!(ev["details"]["reason"], "Andi dimutasi");
    assert_eq!(ev["details"]["team_before"][0]["user_id"], o.andi_id);
    // The applicant learns the team changed, not why or who (a staff matter).
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.budi).await;
    assert!(!t.text.contains("Andi dimutasi"), "{}", t.text);
    let ev = t.body["events"].as_array().unwrap().iter().find(|e| e["action"] == "request.team_changed").cloned();
    assert!(ev.expect("the applicant sees that it changed")["details"]["team_before"].is_null());
}

/// Item 3b: the heads close a request at every open step; nobody else; never a draft.
#[tokio::test]
async fn the_heads_cancel_an_open_request_at_any_step() {
    let o = Office::new().await;
    for (i, step) in [
        "disposition",
        "follow-up",
        "discussion",
        "approval",
        "team",
        "integration",
        "testing",
        "implementation",
        "report",
    ]
    .into_iter()
    .enumerate()
    {
        let id = at_step(&o, step).await;
        for who in [&o.kasi, &o.andi, &o.budi, &o.auditor, &o.admin] {
            o.act(who, &id, "cancel", json!({"reason": "Sistem dihentikan"})).await.assert_problem(403);
        }
        o.act(&o.rina, &id, "cancel", json!({"reason": "x"})).await.assert_problem(404);
        let head = if i % 2 == 0 { &o.kabid } else { &o.kadis };
        o.act(head, &id, "cancel", json!({"reason": " "})).await.assert_problem(422);
        let r = o.act(head, &id, "cancel", json!({"reason": "SIMPUS dihentikan Kemenkes"})).await;
        assert_eq!(r.assert_status(200)["status"], "cancelled", "{step}");
        assert!(r.body["current_step"].is_null() && r.body["closed_at"].is_string());
        o.act(head, &id, "cancel", json!({"reason": "lagi"})).await.assert_problem(409);
        assert!(notices(&o, &o.budi, &id).await.contains(&"request_cancelled".to_owned()), "{step}");
        let t = o.app.get(&format!("/requests/{id}/timeline"), &o.budi).await;
        let last = t.body["steps"].as_array().unwrap().last().cloned().unwrap();
        assert_eq!(
            (last["outcome"].as_str(), last["note"].as_str()),
            (Some("cancelled"), Some("SIMPUS dihentikan Kemenkes"))
        );
    }
    // A returned request too; a draft is the applicant's to withdraw.
    let id = at_step(&o, "follow-up").await;
    o.act(&o.kasi, &id, "return", json!({"reason": "Lampiran kurang"})).await.assert_status(200);
    o.act(&o.kabid, &id, "cancel", json!({"reason": "Tidak ditanggapi"})).await.assert_status(200);
    let draft = s(&o.create(&o.budi).await["id"]);
    o.act(&o.kabid, &draft, "cancel", json!({"reason": "x"})).await.assert_problem(409);
    let list = o.app.get("/requests?status=cancelled&limit=100", &o.kadis).await;
    assert_eq!(list.assert_status(200)["items"].as_array().unwrap().len(), 10);
}

/// Item 3c and 3d: approval back to discussion; a failed implementation back to integration.
#[tokio::test]
async fn approval_sends_back_to_discussion_and_a_failed_implementation_to_integration() {
    let o = Office::new().await;
    let (kasi2_id, kasi2) = second_lead(&o).await;
    let id = submitted(&o).await;
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"], "to_user_ids": [kasi2_id]}))
        .await
        .assert_status(200);
    o.act(&kasi2, &id, "follow-up", json!({})).await.assert_status(200);
    o.attach(&kasi2, &id, "formulation").await;
    o.act(&kasi2, &id, "discussion", json!({})).await.assert_status(200);
    o.act(&o.kabid, &id, "send-back", json!({"reason": "x"})).await.assert_problem(403);
    o.act(&o.kadis, &id, "send-back", json!({})).await.assert_problem(400);
    let r = o.act(&o.kadis, &id, "send-back", json!({"reason": "Perjelas data pribadi yang dipertukarkan"})).await;
    let step = &r.assert_status(200)["current_step"];
    assert_eq!((step["code"].as_str(), &step["actor"]), (Some("discussion"), &json!({"role": "technical_lead"})));
    assert_eq!(r.body["status"], "in_progress");
    // The new round needs its own formulation, by the addressee.
    o.act(&kasi2, &id, "discussion", json!({})).await.assert_problem(422);
    o.attach(&kasi2, &id, "formulation").await;
    o.act(&kasi2, &id, "discussion", json!({})).await.assert_status(200);
    o.act(&o.kadis, &id, "approval", json!({})).await.assert_status(200);
    o.attach(&o.kabid, &id, "api_document").await;
    o.act(&o.kabid, &id, "team", json!({"lead_user_id": o.andi_id, "member_user_ids": []})).await.assert_status(200);
    o.act(&o.andi, &id, "integration", json!({"base_url": "https://x.go.id/v1"})).await.assert_status(200);
    // Testing has its own failure loop; no send-back there.
    o.act(&o.andi, &id, "send-back", json!({"reason": "x"})).await.assert_problem(409);
    o.attach(&o.andi, &id, "test_report").await;
    o.act(&o.andi, &id, "testing", json!({"result": "passed"})).await.assert_status(200);
    let r = o.act(&o.andi, &id, "send-back", json!({"reason": "Gagal di server produksi"})).await;
    assert_eq!(r.assert_status(200)["current_step"]["code"], "integration");
    assert_eq!(r.body["test_rounds"], 0, "a failed go-live is not a failed test");
    o.act(&o.andi, &id, "integration", json!({"base_url": "https://x.go.id/v2"})).await.assert_status(200);
    o.attach(&o.andi, &id, "test_report").await;
    o.act(&o.andi, &id, "testing", json!({"result": "passed"})).await.assert_status(200);
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.budi).await;
    let rounds = |code: &str| -> Vec<(i64, Value)> {
        t.body["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["step_code"] == code)
            .map(|x| (x["round"].as_i64().unwrap(), x["outcome"].clone()))
            .collect()
    };
    assert_eq!(rounds("discussion"), [(1, json!("completed")), (2, json!("completed"))]);
    assert_eq!(rounds("approval"), [(1, json!("sent_back")), (2, json!("completed"))]);
    assert_eq!(rounds("integration"), [(1, json!("completed")), (2, json!("completed"))]);
    assert_eq!(rounds("implementation"), [(1, json!("sent_back")), (2, Value::Null)]);
    // The applicant heard that it moved back.
    assert!(notices(&o, &o.budi, &id).await.contains(&"request_moved".to_owned()));
}

/// Item 5: internal notes and comments never reach the applicant's side.
#[tokio::test]
async fn internal_notes_and_comments_are_hidden_from_the_applicant_everywhere() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    o.act(
        &o.kabid,
        &id,
        "disposition",
        json!({"instructions": ["tindak_lanjuti"], "note": "Catatan internal kabid",
        "note_visibility": "internal"}),
    )
    .await
    .assert_status(200);
    o.act(&o.kasi, &id, "follow-up", json!({"note": "Sudah ditelaah"})).await.assert_status(200);
    let path = format!("/requests/{id}/comments");
    let c = async |who: &str, body: Value| o.app.post(&path, who, body).await;
    c(&o.kasi, json!({"body": "@kabid rahasia dapur: server lama", "visibility": "internal"})).await.assert_status(201);
    let public = c(&o.kasi, json!({"body": "@budi mohon kirim contoh data"})).await;
    assert_eq!(public.assert_status(201)["visibility"], "public");
    c(&o.budi, json!({"body": "Baik, kami kirim", "visibility": "internal"})).await.assert_problem(403);
    c(&o.auditor, json!({"body": "cek"})).await.assert_problem(403);
    c(&o.rina, json!({"body": "halo"})).await.assert_problem(404);
    c(&o.budi, json!({"body": "   "})).await.assert_problem(422);
    c(&o.budi, json!({"body": "Baik, kami kirim besok"})).await.assert_status(201);

    // The applicant's view: public comments only, no internal note anywhere.
    let mine = o.app.get(&format!("/requests/{id}/comments"), &o.budi).await;
    let bodies: Vec<String> =
        mine.assert_status(200)["items"].as_array().unwrap().iter().map(|x| s(&x["body"])).collect();
    assert_eq!(bodies, ["@budi mohon kirim contoh data", "Baik, kami kirim besok"]);
    for token in [&o.budi] {
        let t = o.app.get(&format!("/requests/{id}/timeline"), token).await;
        let text = t.assert_status(200).to_string();
        assert!(!text.contains("Catatan internal kabid") && !text.contains("rahasia dapur"), "{text}");
        assert!(text.contains("Sudah ditelaah"), "public notes stay visible");
    }
    // The office sees everything, in order.
    let all = o.app.get(&format!("/requests/{id}/comments"), &o.kabid).await;
    assert_eq!(all.assert_status(200)["items"].as_array().unwrap().len(), 3);
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await.assert_status(200).to_string();
    assert!(t.contains("Catatan internal kabid") && t.contains("rahasia dapur"));
    // Mentions notify; the applicant hears of public comments on their request.
    assert!(notices(&o, &o.kabid, &id).await.contains(&"mentioned".to_owned()));
    let budi = notices(&o, &o.budi, &id).await;
    assert!(budi.contains(&"mentioned".to_owned()), "{budi:?}");
    assert!(!budi.iter().any(|k| k == "comment_posted"), "the mention is the one notice: {budi:?}");
}

/// Item 7: the internal flow's request letter, attached by the division to its draft,
/// satisfies the disposition's requirement.
#[tokio::test]
async fn a_letter_uploaded_with_the_draft_counts_for_the_internal_disposition() {
    let o = Office::new().await;
    let with_letter = s(&o.create(&o.ikp).await["id"]);
    let without = s(&o.create(&o.ikp).await["id"]);
    for id in [&with_letter, &without] {
        o.attach(&o.ikp, id, "application_document").await;
        o.attach(&o.ikp, id, "meeting_minutes").await;
    }
    o.attach(&o.ikp, &with_letter, "request_letter").await;
    for id in [&with_letter, &without] {
        o.act(&o.ikp, id, "submit", json!({})).await.assert_status(200);
    }
    let d = json!({"instructions": ["tindak_lanjuti"]});
    let r = o.act(&o.kabid, &without, "disposition", d.clone()).await;
    assert!(r.assert_problem(422)["errors"]["documents"].to_string().contains("request_letter"));
    o.act(&o.kabid, &with_letter, "disposition", d).await.assert_status(200);
}

/// Item 9: the catalogue is every agency's to read, searchable, exportable, retirable.
#[tokio::test]
async fn the_catalogue_is_visible_to_another_agency_and_a_head_retires_an_entry() {
    let o = Office::new().await;
    let id = to_integration(&o, &o.budi, o.andi_id.as_str().unwrap()).await;
    complete(&o, &id).await;
    let open = at_step(&o, "follow-up").await;
    let cat = o.app.get("/integrations?q=simpus", &o.rina).await;
    let items = cat.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "completed only: {items:?}");
    assert_eq!((items[0]["request_id"].as_str(), items[0]["status"].as_str()), (Some(id.as_str()), Some("active")));
    assert_eq!(items[0]["organization_code"], "DINKES");
    assert!(!cat.text.contains(&open));
    assert_eq!(o.app.get("/integrations?q=tidak-ada", &o.rina).await.body["items"], json!([]));
    // CSV for a spreadsheet.
    let csv =
        o.app.send(o.app.http.get(o.app.url("/integrations")).bearer_auth(&o.rina).header("Accept", "text/csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        csv.text.starts_with("number,organization_code") && csv.text.contains("DINKES") && csv.text.contains("active")
    );
    // Retiring: admin or head of division, with a reason; once.
    let path = format!("/integrations/{id}/retire");
    let retire = async |who: &str, body: Value| o.app.post(&path, who, body).await;
    retire(&o.rina, json!({"reason": "x"})).await.assert_problem(403);
    retire(&o.kasi, json!({"reason": "x"})).await.assert_problem(403);
    retire(&o.kabid, json!({"reason": ""})).await.assert_problem(422);
    let r = retire(&o.kabid, json!({"reason": "Diganti aplikasi nasional"})).await;
    assert_eq!(r.assert_status(200)["status"], "retired");
    retire(&o.admin, json!({"reason": "lagi"})).await.assert_problem(409);
    o.app.post(&format!("/integrations/{open}/retire"), &o.kabid, json!({"reason": "x"})).await.assert_problem(404);
    let retired = o.app.get("/integrations?status=retired", &o.rina).await;
    assert_eq!(retired.body["items"][0]["retired_reason"], "Diganti aplikasi nasional");
    assert_eq!(o.app.get("/integrations?status=active", &o.rina).await.body["items"], json!([]));
}

/// Item 6 (in-app): the applicant hears of every turn of their request.
#[tokio::test]
async fn the_applicant_is_told_when_the_request_is_returned_moves_on_and_completes() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    assert_eq!(notices(&o, &o.kabid, &id).await, ["task_arrived"], "the disposition is the head of division's task");
    o.act(&o.kabid, &id, "return", json!({"reason": "Nomor surat salah"})).await.assert_status(200);
    let n = o.app.get("/notifications?limit=5", &o.budi).await;
    let first = n.body["items"][0].clone();
    assert_eq!(first["kind"], "request_returned");
    assert!(s(&first["body"]).contains("Nomor surat salah"), "{first}");
    o.act(&o.budi, &id, "resubmit", json!({})).await.assert_status(200);
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    assert_eq!(notices(&o, &o.budi, &id).await, ["request_returned", "request_moved"]);
    // The office's own moves do not notify the person who made them.
    assert_eq!(notices(&o, &o.kabid, &id).await, ["task_arrived", "task_arrived"]);
}

/// Item 1: office roles belong to a division; a flow routed to the IT division is not
/// another division's work, whatever roles its people hold.
#[tokio::test]
async fn a_flow_routed_to_the_it_division_is_not_another_divisions_work() {
    let o = Office::new().await;
    let orgs = o.app.get("/organizations?limit=100", &o.admin).await;
    let ikp = orgs.body["items"].as_array().unwrap().iter().find(|x| x["code"] == "IKP").unwrap()["id"].clone();
    let (kasi_ikp_user, kasi_ikp) = o.app.user(&o.admin, "kasi.ikp", &ikp, &["technical_lead"]).await;
    let (_, kabid_ikp) = o.app.user(&o.admin, "kabid.ikp", &ikp, &["head_of_division"]).await;
    // Routing is data: a revision names the division by its code, which must be a division.
    let mut def = crate::workflows::as_revision(o.app.get("/workflows/external", &o.admin).await.assert_status(200));
    for bad in ["NOPE", "DINKES"] {
        def["office_division"] = json!(bad);
        let r = o.app.post("/workflows/external/versions", &o.admin, def.clone()).await;
        assert!(r.assert_problem(422)["errors"]["office_division"].is_array(), "{bad}");
    }
    def["office_division"] = json!("APTIKA");
    o.app.post("/workflows/external/versions", &o.admin, def).await.assert_status(201);

    let id = submitted(&o).await;
    assert!(!task_ids(&o, &kabid_ikp).await.contains(&id));
    assert!(task_ids(&o, &o.kabid).await.contains(&id));
    o.act(&kabid_ikp, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_problem(403);
    o.act(&kabid_ikp, &id, "cancel", json!({"reason": "bukan urusan kami"})).await.assert_problem(403);
    let r = o
        .act(
            &o.kabid,
            &id,
            "disposition",
            json!({"instructions": ["tindak_lanjuti"], "to_user_ids": [kasi_ikp_user["id"]]}),
        )
        .await;
    assert!(r.assert_problem(422)["errors"]["to_user_ids"].to_string().contains("division"), "{}", r.text);
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    assert!(!task_ids(&o, &kasi_ikp).await.contains(&id));
    assert!(task_ids(&o, &o.kasi).await.contains(&id));
    assert!(notices(&o, &kasi_ikp, &id).await.is_empty());
    o.act(&kasi_ikp, &id, "follow-up", json!({})).await.assert_problem(403);
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_status(200);
}

/// The review's cases: the read-only auditor acts for nobody, and nobody acts for an
/// official on a request that official applies for.
#[tokio::test]
async fn acting_grants_nothing_to_an_auditor_or_on_the_officials_own_request() {
    let o = Office::new().await;
    let aptika = o.app.get("/auth/me", &o.kasi).await.body["organization_id"].clone();
    let (watcher, watcher_token) = o.app.user(&o.admin, "watcher", &aptika, &["auditor", "technical_staff"]).await;
    let (dual, dual_token) = o.app.user(&o.admin, "dual", &aptika, &["applicant", "technical_lead"]).await;
    let today = (o.app.clock.now() + chrono::Duration::hours(7)).date_naive().to_string();
    let kasi_id = o.kasi_id.clone();
    for (acting, for_user) in [(watcher["id"].clone(), kasi_id.clone()), (o.sari_id.clone(), dual["id"].clone())] {
        let body = json!({"acting_user_id": acting, "for_user_id": for_user, "kind": "plh",
            "letter_number": "800/3/2026", "starts_on": today, "ends_on": today});
        o.app.post("/acting-assignments", &o.admin, body).await.assert_status(201);
    }
    // The auditor-and-staff user is kasi's Plh, but stays read-only.
    let id = at_step(&o, "follow-up").await;
    o.act(&watcher_token, &id, "follow-up", json!({})).await.assert_problem(403);
    // dual applies for its division's request: sari, dual's Plh, does not decide on it.
    let own = s(&o.create(&dual_token).await["id"]);
    o.attach(&dual_token, &own, "application_document").await;
    o.attach(&dual_token, &own, "meeting_minutes").await;
    o.act(&dual_token, &own, "submit", json!({})).await.assert_status(200);
    o.attach(&o.kabid, &own, "request_letter").await;
    o.act(&o.kabid, &own, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    o.act(&o.sari, &own, "follow-up", json!({})).await.assert_problem(403);
    o.act(&o.kasi, &own, "follow-up", json!({})).await.assert_status(200);
}
