//! Definitions are data: a published revision changes who acts for new requests only.

use serde_json::{Value, json};

use crate::flows::{Office, submitted};

/// The published definition as a body for `POST /workflows/{key}/versions`.
fn as_revision(published: &Value) -> Value {
    let mut def = published.clone();
    for k in ["id", "published_at", "published_by"] {
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
