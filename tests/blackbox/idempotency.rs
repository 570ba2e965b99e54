use serde_json::{Value, json};

use crate::flows::Office;

fn draft_body(title: &str) -> Value {
    json!({"title": title, "purpose": "p", "source_system": "a", "target_system": "b", "data_exchanged": "d",
           "letter_number": "1", "letter_date": "2026-01-05"})
}

#[tokio::test]
async fn a_retried_post_gets_the_first_response_and_does_nothing_twice() {
    let o = Office::new().await;
    let post = |token: &str, key: &str, body: Value| {
        o.app
            .send(o.app.http.post(o.app.url("/requests")).bearer_auth(token).header("Idempotency-Key", key).json(&body))
    };
    let first = post(&o.budi, "req-2026-0001", draft_body("Integrasi A")).await;
    let created = first.assert_status(201).clone();
    let again = post(&o.budi, "req-2026-0001", draft_body("Integrasi A")).await;
    assert_eq!(again.assert_status(201)["id"], created["id"], "the same request, not a second one");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    let list = o.app.get("/requests", &o.budi).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    // The same key with another body is refused.
    post(&o.budi, "req-2026-0001", draft_body("Integrasi B")).await.assert_problem(422);
    // Keys belong to their caller: another applicant's same key is a new request.
    let other = post(&o.rina, "req-2026-0001", draft_body("Integrasi A")).await;
    assert_ne!(other.assert_status(201)["id"], created["id"]);
    // A transition retried after its response was lost is answered, not refused as stale.
    let id = created["id"].as_str().unwrap();
    o.attach(&o.budi, id, "request_letter").await;
    let submit = || {
        o.app.send(
            o.app
                .http
                .post(o.app.url(&format!("/requests/{id}/submit")))
                .bearer_auth(&o.budi)
                .header("Idempotency-Key", "submit-1"),
        )
    };
    let s1 = submit().await;
    let s2 = submit().await;
    assert_eq!(s1.assert_status(200)["number"], s2.assert_status(200)["number"]);
    let events = o.app.get(&format!("/audit/events?object_id={id}&action=request.submitted"), &o.admin).await;
    assert_eq!(events.body["items"].as_array().unwrap().len(), 1);
    // A malformed key is 400.
    post(&o.budi, "has space", draft_body("x")).await.assert_problem(400);
}
