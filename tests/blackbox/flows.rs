//! Both SOP flows walked end to end over HTTP, with every refusal a wrong caller gets.

use jembatan_tests::{Resp, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

pub const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// The cast of one office: Diskominfo's people and two agencies' applicants.
pub struct Office {
    pub app: TestApp,
    pub admin: String,
    pub kabid: String,
    pub kasi: String,
    pub kasi_id: Value,
    pub andi: String,
    pub andi_id: Value,
    pub sari: String,
    pub sari_id: Value,
    pub kadis: String,
    pub auditor: String,
    /// Applicant of DINKES (an agency → external flow).
    pub budi: String,
    /// Applicant of DUKCAPIL, another agency.
    pub rina: String,
    /// Applicant of the IKP division (internal flow).
    pub ikp: String,
    pub dinkes_id: Value,
}

impl Office {
    pub async fn new() -> Office {
        Self::with(TestApp::spawn().await).await
    }

    pub async fn with(app: TestApp) -> Office {
        let admin = app.admin_token().await;
        let aptika = app.create_org(&admin, "APTIKA", "division").await;
        let ikp_org = app.create_org(&admin, "IKP", "division").await;
        let dinkes = app.create_org(&admin, "DINKES", "agency").await;
        let dukcapil = app.create_org(&admin, "DUKCAPIL", "agency").await;
        let (_, kabid) = app.user(&admin, "kabid", &aptika["id"], &["head_of_division"]).await;
        let (kasi_u, kasi) = app.user(&admin, "kasi", &aptika["id"], &["technical_lead"]).await;
        let (andi_u, andi) = app.user(&admin, "andi", &aptika["id"], &["technical_staff"]).await;
        let (sari_u, sari) = app.user(&admin, "sari", &aptika["id"], &["technical_staff"]).await;
        let (_, kadis) = app.user(&admin, "kadis", &aptika["id"], &["head_of_agency"]).await;
        let (_, auditor) = app.user(&admin, "auditor", &aptika["id"], &["auditor"]).await;
        let (_, budi) = app.user(&admin, "budi", &dinkes["id"], &["applicant"]).await;
        let (_, rina) = app.user(&admin, "rina", &dukcapil["id"], &["applicant"]).await;
        let (_, ikp) = app.user(&admin, "ikp", &ikp_org["id"], &["applicant"]).await;
        Office {
            admin,
            kabid,
            kasi,
            kasi_id: kasi_u["id"].clone(),
            andi,
            andi_id: andi_u["id"].clone(),
            sari,
            sari_id: sari_u["id"].clone(),
            kadis,
            auditor,
            budi,
            rina,
            ikp,
            dinkes_id: dinkes["id"].clone(),
            app,
        }
    }

    pub async fn create(&self, token: &str) -> Value {
        let r = self
            .app
            .post(
                "/requests",
                token,
                json!({"title": "Integrasi SIMPUS", "purpose": "Data kunjungan harian", "source_system": "SIMPUS",
                       "target_system": "Satu Data", "data_exchanged": "Kunjungan per puskesmas",
                       "letter_number": "400.7/123/406.010/2026", "letter_date": "2026-01-05"}),
            )
            .await;
        r.assert_status(201).clone()
    }

    pub async fn upload(&self, token: &str, id: &str, kind: &str, bytes: &[u8], filename: &str) -> Resp {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_owned())
            .part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(filename.to_owned()));
        self.app
            .send(
                self.app
                    .http
                    .post(self.app.url(&format!("/requests/{id}/documents")))
                    .bearer_auth(token)
                    .multipart(form),
            )
            .await
    }

    pub async fn attach(&self, token: &str, id: &str, kind: &str) {
        self.upload(token, id, kind, PDF, &format!("{kind}.pdf")).await.assert_status(201);
    }

    pub async fn act(&self, token: &str, id: &str, action: &str, body: Value) -> Resp {
        self.app.post(&format!("/requests/{id}/{action}"), token, body).await
    }

    pub async fn get(&self, token: &str, id: &str) -> Value {
        self.app.get(&format!("/requests/{id}"), token).await.assert_status(200).clone()
    }
}

/// One step of a walk: who acts, the endpoint, its body, the documents it needs.
struct Step {
    code: &'static str,
    action: &'static str,
    actor: &'static str,
    wrong_actor: &'static str,
    documents: &'static [&'static str],
    body: Value,
}

fn token<'a>(o: &'a Office, who: &str) -> &'a str {
    match who {
        "kabid" => &o.kabid,
        "kasi" => &o.kasi,
        "andi" => &o.andi,
        "sari" => &o.sari,
        "kadis" => &o.kadis,
        "auditor" => &o.auditor,
        "budi" => &o.budi,
        "rina" => &o.rina,
        "ikp" => &o.ikp,
        _ => panic!("unknown {who}"),
    }
}

/// Walks a request through `steps`, checking at each step, before the right call:
/// wrong role → 403, another agency → 404, each missing document → 422 naming it,
/// a stale version → 409, and the next step's endpoint → 409.
async fn walk(o: &Office, applicant: &str, steps: &[Step]) -> Value {
    let req = o.create(token(o, applicant)).await;
    let id = req["id"].as_str().unwrap().to_owned();
    assert_eq!(req["status"], "draft");
    for (i, s) in steps.iter().enumerate() {
        let current = o.get(&o.admin, &id).await;
        assert_eq!(current["current_step"]["code"], s.code, "before {}", s.action);
        let version = current["version"].as_i64().unwrap();
        let with_version = |v: i64| {
            let mut b = s.body.clone();
            b["version"] = v.into();
            b
        };
        let actor = token(o, s.actor);
        // Wrong role.
        o.act(token(o, s.wrong_actor), &id, s.action, with_version(version)).await.assert_problem(403);
        // Another agency's applicant cannot even see it.
        o.act(&o.rina, &id, s.action, with_version(version)).await.assert_problem(404);
        // The auditor reads everything and changes nothing.
        o.act(&o.auditor, &id, s.action, with_version(version)).await.assert_problem(403);
        // Missing documents, named.
        if !s.documents.is_empty() {
            let r = o.act(actor, &id, s.action, with_version(version)).await;
            let errs = r.assert_problem(422)["errors"]["documents"].to_string();
            for d in s.documents {
                assert!(errs.contains(d), "{} should name {d}: {errs}", s.action);
            }
            for d in s.documents {
                o.attach(actor, &id, d).await;
            }
        }
        let version = o.get(&o.admin, &id).await["version"].as_i64().unwrap();
        // A step that is not current (the next one's endpoint, by its own actor). Before the
        // team exists its members are nobody's actor yet (403), so that case is skipped.
        if let Some(next) = steps.get(i + 1).filter(|_| s.code != "team") {
            o.act(token(o, next.actor), &id, next.action, next.body.clone()).await.assert_problem(409);
        }
        // A stale version.
        o.act(actor, &id, s.action, with_version(version - 1)).await.assert_problem(409);
        // The right call.
        let r = o.act(actor, &id, s.action, with_version(version)).await;
        let after = r.assert_status(200);
        assert_eq!(after["version"], version + 1);
        match steps.get(i + 1) {
            Some(next) => {
                assert_eq!(after["status"], "in_progress");
                assert_eq!(after["current_step"]["code"], next.code);
                assert!(after["current_step"]["due_at"].is_string());
            }
            None => {
                assert_eq!(after["status"], "completed");
                assert!(after["current_step"].is_null());
            }
        }
    }
    o.get(&o.admin, &id).await
}

fn external(o: &Office) -> Vec<Step> {
    vec![
        Step {
            code: "submit",
            action: "submit",
            actor: "budi",
            wrong_actor: "kasi",
            documents: &["request_letter"],
            body: json!({}),
        },
        Step {
            code: "disposition",
            action: "disposition",
            actor: "kabid",
            wrong_actor: "kasi",
            documents: &[],
            body: json!({"instructions": ["tindak_lanjuti", "koordinasikan"], "to_user_id": o.kasi_id, "note": "Segera"}),
        },
        Step {
            code: "follow_up",
            action: "follow-up",
            actor: "kasi",
            wrong_actor: "kabid",
            documents: &[],
            body: json!({"note": "ok"}),
        },
        Step {
            code: "discussion",
            action: "discussion",
            actor: "kasi",
            wrong_actor: "budi",
            documents: &["formulation"],
            body: json!({}),
        },
        Step {
            code: "approval",
            action: "approval",
            actor: "kadis",
            wrong_actor: "kabid",
            documents: &[],
            body: json!({}),
        },
        Step {
            code: "team",
            action: "team",
            actor: "kabid",
            wrong_actor: "kadis",
            documents: &["api_document"],
            body: json!({"lead_user_id": o.andi_id, "member_user_ids": [o.sari_id]}),
        },
        Step {
            code: "integration",
            action: "integration",
            actor: "andi",
            wrong_actor: "kasi",
            documents: &[],
            body: json!({"base_url": "https://api.trenggalekkab.go.id/simpus/v1"}),
        },
        Step {
            code: "testing",
            action: "testing",
            actor: "sari",
            wrong_actor: "kabid",
            documents: &["test_report"],
            body: json!({"result": "passed"}),
        },
        Step {
            code: "implementation",
            action: "implementation",
            actor: "andi",
            wrong_actor: "budi",
            documents: &["integration_report"],
            body: json!({}),
        },
        Step {
            code: "report",
            action: "report",
            actor: "kasi",
            wrong_actor: "andi",
            documents: &["final_report"],
            body: json!({}),
        },
    ]
}

#[tokio::test]
async fn the_external_flow_runs_from_draft_to_completed_refusing_every_wrong_caller() {
    let o = Office::new().await;
    let done = walk(&o, "budi", &external(&o)).await;
    assert_eq!(done["flow"], "external");
    assert!(done["number"].as_str().unwrap().starts_with("INT/"));
    assert_eq!(done["integration"]["base_url"], "https://api.trenggalekkab.go.id/simpus/v1");
    let id = done["id"].as_str().unwrap();
    // Completed is final.
    o.act(&o.kasi, id, "report", json!({})).await.assert_problem(409);
    o.act(&o.budi, id, "withdraw", json!({})).await.assert_problem(409);
    // It is in the catalogue, the regency's inventory: another agency reads it too.
    let cat = o.app.get("/integrations", &o.budi).await;
    assert_eq!(cat.assert_status(200)["items"][0]["request_id"], done["id"]);
    assert_eq!(o.app.get("/integrations", &o.rina).await.body["items"][0]["request_id"], done["id"]);
    // The timeline names every step with who finished it, and the chain verifies.
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await;
    let steps = t.assert_status(200)["steps"].as_array().unwrap().clone();
    assert_eq!(steps.len(), 10);
    assert!(steps.iter().all(|s| s["outcome"] == "completed" && s["completed_by"]["username"].is_string()));
    assert_eq!(steps[4]["completed_by"]["username"], "kadis");
    let events: Vec<String> =
        t.body["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    assert_eq!(events.first().map(String::as_str), Some("request.created"));
    assert_eq!(events.last().map(String::as_str), Some("request.completed"));
    assert_eq!(events.iter().filter(|e| *e == "request.document_uploaded").count(), 6);
    let verify = o.app.get("/audit/verify", &o.auditor).await;
    assert_eq!(verify.assert_status(200)["intact"], true);
    // Another agency cannot see it at all.
    o.app.get(&format!("/requests/{id}"), &o.rina).await.assert_problem(404);
    o.app.get(&format!("/requests/{id}/timeline"), &o.rina).await.assert_problem(404);
    o.app.get(&format!("/requests/{id}/documents"), &o.rina).await.assert_problem(404);
}

#[tokio::test]
async fn the_internal_flow_has_no_approval_step() {
    let o = Office::new().await;
    let steps = vec![
        Step {
            code: "submit",
            action: "submit",
            actor: "ikp",
            wrong_actor: "kabid",
            documents: &["application_document", "meeting_minutes"],
            body: json!({}),
        },
        Step {
            code: "disposition",
            action: "disposition",
            actor: "kabid",
            wrong_actor: "kadis",
            documents: &["request_letter"],
            body: json!({"instructions": ["telaah_dan_saran"]}),
        },
        Step {
            code: "follow_up",
            action: "follow-up",
            actor: "kasi",
            wrong_actor: "andi",
            documents: &[],
            body: json!({}),
        },
        Step {
            code: "discussion",
            action: "discussion",
            actor: "kasi",
            wrong_actor: "kabid",
            documents: &["formulation"],
            body: json!({}),
        },
        Step {
            code: "team",
            action: "team",
            actor: "kabid",
            wrong_actor: "kasi",
            documents: &["api_document"],
            body: json!({"lead_user_id": o.sari_id, "member_user_ids": []}),
        },
        Step {
            code: "integration",
            action: "integration",
            actor: "sari",
            wrong_actor: "andi",
            documents: &[],
            body: json!({"base_url": "http://10.0.0.5/api"}),
        },
        Step {
            code: "testing",
            action: "testing",
            actor: "sari",
            wrong_actor: "kasi",
            documents: &["test_report"],
            body: json!({"result": "passed"}),
        },
        Step {
            code: "implementation",
            action: "implementation",
            actor: "sari",
            wrong_actor: "kabid",
            documents: &["integration_report"],
            body: json!({}),
        },
        Step {
            code: "report",
            action: "report",
            actor: "kasi",
            wrong_actor: "sari",
            documents: &["final_report"],
            body: json!({}),
        },
    ];
    let done = walk(&o, "ikp", &steps).await;
    assert_eq!(done["flow"], "internal");
    let id = done["id"].as_str().unwrap();
    // There is no approval step in this flow.
    o.act(&o.kadis, id, "approval", json!({})).await.assert_problem(409);
}

/// Brings a fresh external request to `disposition` and returns its id.
pub async fn submitted(o: &Office) -> String {
    let r = o.create(&o.budi).await;
    let id = r["id"].as_str().unwrap().to_owned();
    o.attach(&o.budi, &id, "request_letter").await;
    o.act(&o.budi, &id, "submit", json!({})).await.assert_status(200);
    id
}

#[tokio::test]
async fn return_and_resubmit_resume_at_the_same_step_and_the_applicant_can_edit_meanwhile() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    // A reason is required.
    o.act(&o.kasi, &id, "return", json!({"reason": " "})).await.assert_problem(422);
    let r = o.act(&o.kasi, &id, "return", json!({"reason": "Lampiran kurang"})).await;
    assert_eq!(r.assert_status(200)["status"], "returned");
    assert_eq!(r.body["current_step"]["code"], "follow_up");
    assert_eq!(r.body["current_step"]["paused"], true);
    // Nobody in the office can act while it waits on the applicant.
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_problem(409);
    let edited =
        o.app.patch(&format!("/requests/{id}"), &o.budi, json!({"purpose": "Data kunjungan dan rujukan"})).await;
    assert_eq!(edited.assert_status(200)["purpose"], "Data kunjungan dan rujukan");
    o.app.patch(&format!("/requests/{id}"), &o.rina, json!({"purpose": "x"})).await.assert_problem(404);
    o.app.patch(&format!("/requests/{id}"), &o.kasi, json!({"purpose": "x"})).await.assert_problem(403);
    let r = o.act(&o.budi, &id, "resubmit", json!({})).await;
    assert_eq!(r.assert_status(200)["status"], "in_progress");
    assert_eq!(r.body["current_step"]["code"], "follow_up");
    assert_eq!(r.body["current_step"]["paused"], false);
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_status(200);
    // Not editable once in progress.
    o.app.patch(&format!("/requests/{id}"), &o.budi, json!({"purpose": "y"})).await.assert_problem(409);
}

#[tokio::test]
async fn reject_is_final() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    o.act(&o.kabid, &id, "reject", json!({})).await.assert_problem(400);
    let r = o.act(&o.kabid, &id, "reject", json!({"reason": "Bukan kewenangan Diskominfo"})).await;
    assert_eq!(r.assert_status(200)["status"], "rejected");
    assert!(r.body["current_step"].is_null());
    for (who, action, body) in [
        (&o.budi, "resubmit", json!({})),
        (&o.budi, "withdraw", json!({})),
        (&o.kabid, "disposition", json!({"instructions": ["arsipkan"]})),
    ] {
        o.act(who, &id, action, body).await.assert_problem(409);
    }
    // No document can be added to a closed request.
    o.upload(&o.budi, &id, "other", PDF, "x.pdf").await.assert_problem(409);
}

#[tokio::test]
async fn withdraw_only_before_the_office_acts() {
    let o = Office::new().await;
    let draft = o.create(&o.budi).await;
    let r = o.act(&o.budi, draft["id"].as_str().unwrap(), "withdraw", json!({})).await;
    assert_eq!(r.assert_status(200)["status"], "withdrawn");
    let id = submitted(&o).await;
    o.act(&o.rina, &id, "withdraw", json!({})).await.assert_problem(404);
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    o.act(&o.budi, &id, "withdraw", json!({})).await.assert_problem(409);
}

#[tokio::test]
async fn a_failed_test_goes_back_to_integration_and_counts_the_rounds() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_status(200);
    o.attach(&o.kasi, &id, "formulation").await;
    o.act(&o.kasi, &id, "discussion", json!({})).await.assert_status(200);
    o.act(&o.kadis, &id, "approval", json!({})).await.assert_status(200);
    o.attach(&o.kabid, &id, "api_document").await;
    o.act(&o.kabid, &id, "team", json!({"lead_user_id": o.andi_id, "member_user_ids": []})).await.assert_status(200);
    // Sari is not on this team.
    o.act(&o.sari, &id, "integration", json!({"base_url": "https://x.example/api"})).await.assert_problem(403);
    for round in 1..=2 {
        o.act(&o.andi, &id, "integration", json!({"base_url": "https://x.example/api"})).await.assert_status(200);
        o.attach(&o.andi, &id, "test_report").await;
        let r = o.act(&o.andi, &id, "testing", json!({"result": "failed", "note": "timeout"})).await;
        assert_eq!(r.assert_status(200)["current_step"]["code"], "integration");
        assert_eq!(r.body["test_rounds"], round);
    }
    o.act(&o.andi, &id, "integration", json!({"base_url": "https://x.example/api/v2"})).await.assert_status(200);
    // The test report of a failed round does not count for this one.
    let r = o.act(&o.andi, &id, "testing", json!({"result": "passed"})).await;
    assert!(r.assert_problem(422)["errors"]["documents"].to_string().contains("test_report"));
    o.attach(&o.andi, &id, "test_report").await;
    let r = o.act(&o.andi, &id, "testing", json!({"result": "passed"})).await;
    assert_eq!(r.assert_status(200)["current_step"]["code"], "implementation");
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.budi).await;
    let rounds: Vec<i64> = t.body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step_code"] == "integration")
        .map(|s| s["round"].as_i64().unwrap())
        .collect();
    assert_eq!(rounds, [1, 2, 3]);
}

#[tokio::test]
async fn bad_structured_outputs_are_422() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let r = o.act(&o.kabid, &id, "disposition", json!({"instructions": []})).await;
    r.assert_problem(422);
    let r = o.act(&o.kabid, &id, "disposition", json!({"instructions": ["segera"]})).await;
    r.assert_problem(400);
    // The recipient must be someone in the office who can act on it.
    let r = o
        .act(
            &o.kabid,
            &id,
            "disposition",
            json!({"instructions": ["tindak_lanjuti"], "to_user_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert!(r.assert_problem(422)["errors"]["to_user_ids"].is_array());
}

#[tokio::test]
async fn only_applicants_create_requests_and_an_agency_system_can_run_its_part() {
    let o = Office::new().await;
    let r = o
        .app
        .post(
            "/requests",
            &o.kasi,
            json!({"title": "x", "purpose": "x", "source_system": "x", "target_system": "x",
        "data_exchanged": "x", "letter_number": "1", "letter_date": "2026-01-05"}),
        )
        .await;
    r.assert_problem(403);
    let c = o.app.post("/api-clients", &o.admin, json!({"name": "SIMPUS", "organization_id": o.dinkes_id})).await.body;
    let t = o
        .app
        .call(Method::POST, "/auth/token", None, Some(json!({"grant_type": "client_credentials", "client_id": c["client_id"], "client_secret": c["client_secret"]})))
        .await;
    let machine = t.body["access_token"].as_str().unwrap().to_owned();
    let req = o.create(&machine).await;
    let id = req["id"].as_str().unwrap();
    o.attach(&machine, id, "request_letter").await;
    o.act(&machine, id, "submit", json!({})).await.assert_status(200);
    // The agency's people see what its system filed; the audit names the client.
    o.app.get(&format!("/requests/{id}"), &o.budi).await.assert_status(200);
    let events = o.app.get(&format!("/audit/events?object_id={id}&action=request.submitted"), &o.admin).await;
    assert_eq!(events.body["items"][0]["actor_client_id"], c["id"]);
    // The machine has the applicant's rights only.
    o.act(&machine, id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_problem(403);
}

#[tokio::test]
async fn lists_filter_and_never_leak_another_agencys_requests() {
    let o = Office::new().await;
    let a = submitted(&o).await;
    let _draft = o.create(&o.budi).await;
    let other = o.create(&o.rina).await;
    let ids = |r: &Resp| {
        r.body["items"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let budi_sees = o.app.get("/requests", &o.budi).await;
    assert_eq!(ids(&budi_sees).len(), 2);
    assert!(!ids(&budi_sees).contains(&other["id"].as_str().unwrap().to_owned()));
    // Filtering by another organization does not open it up.
    let sneaky =
        o.app.get(&format!("/requests?organization_id={}", other["organization_id"].as_str().unwrap()), &o.budi).await;
    assert_eq!(ids(&sneaky).len(), 0);
    assert_eq!(ids(&o.app.get("/requests", &o.kasi).await).len(), 3);
    assert_eq!(ids(&o.app.get("/requests?status=in_progress", &o.kasi).await), [a.as_str()]);
    assert_eq!(ids(&o.app.get("/requests?current_step=disposition", &o.auditor).await), [a.as_str()]);
    assert_eq!(ids(&o.app.get("/requests?q=simpus&limit=1", &o.kasi).await).len(), 1);
    let number = o.get(&o.kasi, &a).await["number"].as_str().unwrap().to_owned();
    assert_eq!(ids(&o.app.get(&format!("/requests?q={}", number.replace('/', "%2F")), &o.kasi).await), [a.as_str()]);
    assert_eq!(ids(&o.app.get("/requests?overdue=true", &o.kasi).await).len(), 0);
    // Worklists: the head of division has the submitted one; the applicant their draft.
    let kabid_tasks = o.app.get("/tasks", &o.kabid).await;
    assert_eq!(kabid_tasks.assert_status(200)["items"].as_array().unwrap().len(), 1);
    assert_eq!(kabid_tasks.body["items"][0]["id"], a.as_str());
    let count = async |token: &str| o.app.get("/tasks", token).await.body["items"].as_array().unwrap().len();
    assert_eq!(count(&o.budi).await, 1);
    assert_eq!(count(&o.kasi).await, 0);
    assert_eq!(count(&o.auditor).await, 0);
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_a_stale_body_version_409() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let v = o.get(&o.kabid, &id).await["version"].as_i64().unwrap();
    let url = o.app.url(&format!("/requests/{id}/disposition"));
    let body = json!({"instructions": ["tindak_lanjuti"]});
    let stale = o
        .app
        .send(o.app.http.post(&url).bearer_auth(&o.kabid).header("If-Match", format!("\"{}\"", v - 1)).json(&body))
        .await;
    stale.assert_problem(412);
    let mut with_old = body.clone();
    with_old["version"] = (v - 1).into();
    o.act(&o.kabid, &id, "disposition", with_old).await.assert_problem(409);
    let fresh = o
        .app
        .send(o.app.http.post(&url).bearer_auth(&o.kabid).header("If-Match", format!("\"{v}\"")).json(&body))
        .await;
    assert_eq!(fresh.assert_status(200)["current_step"]["code"], "follow_up");
    assert_eq!(fresh.header("etag").map(str::to_owned), Some(format!("\"{}\"", v + 1)));
}

#[tokio::test]
async fn a_request_shows_on_time_then_warning_then_overdue_as_working_time_passes() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let step = o.get(&o.kabid, &id).await["current_step"].clone();
    assert_eq!(step["code"], "disposition");
    assert_eq!(step["sla_state"], "on_time");
    let at =
        |k: &str| chrono::DateTime::parse_from_rfc3339(step[k].as_str().unwrap()).unwrap().with_timezone(&chrono::Utc);
    let (warning, limit) = (at("warning_at"), at("limit_at"));
    assert!(warning < limit, "a 15-minute standard warns before its limit");
    o.app.clock.advance(warning - chrono::Utc::now() + chrono::Duration::seconds(5));
    assert_eq!(o.get(&o.kabid, &id).await["current_step"]["sla_state"], "warning");
    o.app.clock.advance(limit - warning + chrono::Duration::seconds(5));
    assert_eq!(o.get(&o.kabid, &id).await["current_step"]["sla_state"], "overdue");
    let overdue = o.app.get("/requests?overdue=true", &o.kabid).await;
    assert_eq!(overdue.assert_status(200)["items"][0]["id"], id.as_str());
}

/// Issue 12, item 4: a division user who is both applicant and technical lead does not act
/// on the office's steps of their own division's request; another lead does.
#[tokio::test]
async fn whoever_applies_does_not_also_decide_as_the_office() {
    let o = Office::new().await;
    let aptika = o.app.get("/auth/me", &o.kasi).await.body["organization_id"].clone();
    let (_, dual) = o.app.user(&o.admin, "dual", &aptika, &["applicant", "technical_lead"]).await;
    let id = o.create(&dual).await["id"].as_str().unwrap().to_owned();
    o.attach(&dual, &id, "application_document").await;
    o.attach(&dual, &id, "meeting_minutes").await;
    o.act(&dual, &id, "submit", json!({})).await.assert_status(200);
    o.attach(&o.kabid, &id, "request_letter").await;
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    let r = o.act(&dual, &id, "follow-up", json!({})).await;
    assert!(r.assert_problem(403)["detail"].as_str().unwrap().contains("applicant role"), "{}", r.text);
    o.act(&dual, &id, "return", json!({"reason": "Saya sendiri"})).await.assert_problem(403);
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_status(200);
}

/// The worklist is a page like every list: most urgent first, every item once.
#[tokio::test]
async fn the_worklist_pages_through_every_task_once_in_order_of_urgency() {
    let o = Office::new().await;
    let mut submitted_ids = Vec::new();
    for _ in 0..3 {
        submitted_ids.push(submitted(&o).await);
        // A later submission has a later limit.
        o.app.clock.advance(chrono::Duration::minutes(1));
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let path = match &cursor {
            Some(c) => format!("/tasks?limit=1&cursor={c}"),
            None => "/tasks?limit=1".to_owned(),
        };
        let page = o.app.get(&path, &o.kabid).await;
        let page = page.assert_status(200);
        seen.extend(page["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, submitted_ids, "oldest limit first, each once, nothing left out");
    let all = o.app.get("/tasks?limit=100", &o.kabid).await;
    assert!(all.assert_status(200)["next_cursor"].is_null());
    o.app.get("/tasks?limit=0", &o.kabid).await.assert_problem(422);
}
