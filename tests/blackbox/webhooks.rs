//! Issue 14, item 1: webhooks (Standard Webhooks 1.0). A real receiver on loopback, the
//! service's real worker, signatures checked with the official Python library.

use std::time::Duration;

use jembatan_tests::TestApp;
use jembatan_tests::smtp::SmtpServer;
use jembatan_tests::webhooks::{Receiver, verify_with_library};
use serde_json::{Value, json};

use crate::flows::{Office, submitted};

/// An office whose webhooks may go to 127.0.0.1 (the tests' receivers) and nowhere else
/// internal, fanned out and delivered every 100 ms.
async fn office_with(tweak: impl FnOnce(&mut jembatan::config::Settings)) -> Office {
    Office::with(
        TestApp::spawn_with(|s| {
            s.webhook_allow_cidrs = Some("127.0.0.1/32".into());
            s.webhook_interval_ms = 100;
            s.audit_sequence_interval_ms = 100;
            tweak(s);
        })
        .await,
    )
    .await
}

async fn register(o: &Office, token: &str, body: Value) -> Value {
    o.app.post("/webhooks", token, body).await.assert_status(201).clone()
}

fn types(got: &[jembatan_tests::webhooks::Received], path: &str) -> Vec<String> {
    got.iter().filter(|r| r.path == path).map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned()).collect()
}

/// The delivery log of an endpoint, once `pred` holds for it.
async fn deliveries_when(o: &Office, token: &str, endpoint: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..200 {
        let page = o.app.get(&format!("/webhooks/{endpoint}/deliveries?limit=100"), token).await;
        let items = page.assert_status(200)["items"].as_array().cloned().unwrap_or_default();
        if pred(&items) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the delivery log of {endpoint} never got there");
}

#[tokio::test]
async fn an_agency_hears_of_its_own_requests_signed_as_the_official_library_expects() {
    let o = office_with(|_| {}).await;
    let rx = Receiver::start("127.0.0.1").await;
    let dinkes = register(&o, &o.budi, json!({"url": rx.url("/dinkes"), "description": "SIMPUS"})).await;
    let secret = dinkes["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{dinkes}");
    assert_eq!(dinkes["organization_id"], o.dinkes_id);
    assert_eq!(dinkes["enabled"], true);
    // Another agency, every type: hears nothing of DINKES's request.
    register(&o, &o.rina, json!({"url": rx.url("/dukcapil")})).await;
    // The office (an admin), every request, step changes only.
    register(&o, &o.admin, json!({"url": rx.url("/office"), "event_types": ["request.step_started"]})).await;
    // The secret is shown once: never in a read.
    let id = dinkes["id"].as_str().unwrap();
    let read = o.app.get(&format!("/webhooks/{id}"), &o.budi).await;
    assert!(read.assert_status(200).get("secret").is_none(), "{}", read.text);

    let request = submitted(&o).await;
    o.act(&o.kabid, &request, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    let comments = format!("/requests/{request}/comments");
    o.app.post(&comments, &o.kasi, json!({"body": "rahasia dapur", "visibility": "internal"})).await.assert_status(201);
    o.app.post(&comments, &o.kasi, json!({"body": "Mohon kirim contoh data"})).await.assert_status(201);

    let want = ["document.added", "request.submitted", "request.step_started", "comment.added"];
    let got = rx.wait_for("DINKES's four events", |g| types(g, "/dinkes").len() >= 4).await;
    let mut seen = types(&got, "/dinkes");
    seen.sort();
    let mut expected = want.map(str::to_owned).to_vec();
    expected.sort();
    // Exactly these: the internal comment is the office's own.
    assert_eq!(seen, expected);
    rx.wait_for("the office's step change", |g| types(g, "/office") == ["request.step_started"]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = rx.received();
    assert_eq!(types(&got, "/dinkes").len(), 4, "nothing more, nothing twice");
    assert!(types(&got, "/dukcapil").is_empty(), "another agency heard of DINKES's request");
    assert_eq!(types(&got, "/office"), ["request.step_started"]);

    let dinkes_msgs: Vec<_> = got.iter().filter(|r| r.path == "/dinkes").cloned().collect();
    for m in &dinkes_msgs {
        let body = m.json();
        // Standard Webhooks' headers; the id is the event's (the same as in the feed).
        assert_eq!(m.header("webhook-id"), body["id"].as_str(), "{m:?}");
        assert!(m.header("webhook-timestamp").is_some_and(|t| t.parse::<i64>().is_ok()));
        assert!(m.header("webhook-signature").is_some_and(|s| s.starts_with("v1,")));
        assert_eq!(m.header("content-type"), Some("application/json"));
        // Thin: ids, type, time, links.
        assert_eq!(body["data"]["request_id"], request.as_str());
        assert!(body["links"]["request"].as_str().is_some_and(|l| l.ends_with(&request)));
        assert!(body.get("title").is_none() && body["data"].get("title").is_none(), "{body}");
    }
    let step = dinkes_msgs.iter().map(|m| m.json()).find(|b| b["type"] == "request.step_started").unwrap();
    assert_eq!(step["data"]["step"], "follow_up");
    // The same entries as the feed's.
    let feed = o.app.get("/events?limit=100", &o.budi).await;
    let feed_ids: Vec<&str> = feed.body["items"].as_array().unwrap().iter().filter_map(|e| e["id"].as_str()).collect();
    for m in &dinkes_msgs {
        assert!(feed_ids.contains(&m.header("webhook-id").unwrap()), "not in the feed: {}", m.body);
    }

    // The official library accepts every one with the secret, and none with another.
    assert_eq!(verify_with_library(&secret, &dinkes_msgs), vec![None; 4]);
    let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert!(verify_with_library(other, &dinkes_msgs).iter().all(Option::is_some));
    // A body changed on the way fails.
    let mut forged = dinkes_msgs[0].clone();
    forged.body = forged.body.replace("request", "permohonan");
    assert!(verify_with_library(&secret, &[forged])[0].is_some());

    // The delivery log says what happened.
    let log = deliveries_when(&o, &o.budi, id, |d| d.len() == 4).await;
    assert!(log.iter().all(|d| d["state"] == "delivered" && d["attempts"] == 1 && d["last_status"] == 204), "{log:?}");
}

#[tokio::test]
async fn addresses_inside_the_network_are_refused_and_never_connected_to() {
    let o = office_with(|_| {}).await;
    let inside = Receiver::start("127.0.0.2").await;
    let port = inside.addr.port();
    for url in [
        inside.url("/x"),
        format!("http://[::ffff:127.0.0.2]:{port}/x"),
        format!("http://[::1]:{port}/x"),
        format!("http://0.0.0.0:{port}/x"),
        "https://169.254.169.254/latest/meta-data/".into(),
        "https://[fd00:ec2::254]/".into(),
        "https://10.0.0.1/hook".into(),
        "https://100.64.0.1/hook".into(),
        "https://[fe80::1]/hook".into(),
        // Public, but plain http: the payload and signature would travel in the clear.
        "http://8.8.8.8/hook".into(),
        "ftp://8.8.8.8/hook".into(),
        // Public https, but not on 443 or 8443: the service is not a port scanner.
        "https://8.8.8.8:22/".into(),
        "https://user:pw@8.8.8.8/hook".into(),
    ] {
        let r = o.app.post("/webhooks", &o.budi, json!({"url": url})).await;
        let p = r.assert_problem(422);
        assert!(p["errors"]["url"].is_array(), "{url}: {p}");
    }

    // At delivery too: an endpoint whose address now points inside (as after a DNS
    // rebinding, or a narrowed allow-list) is refused there, and the receiver never sees
    // a connection.
    let outside = Receiver::start("127.0.0.1").await;
    let e = register(&o, &o.budi, json!({"url": outside.url("/ok")})).await;
    let id = e["id"].as_str().unwrap();
    {
        use sea_orm::{ConnectionTrait, Database, Statement};
        let db = Database::connect(&o.app.database_url).await.unwrap();
        let sql = "UPDATE webhook_endpoints SET url = $1 WHERE id = $2";
        let stmt = Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [inside.url("/rebound").into(), uuid::Uuid::parse_str(id).unwrap().into()],
        );
        db.execute_raw(stmt).await.unwrap();
        db.close().await.ok();
    }
    o.app.post(&format!("/webhooks/{id}/ping"), &o.budi, json!({})).await.assert_status(202);
    submitted(&o).await;
    let recorded = |x: &Value| x["attempts"].as_i64() >= Some(1) && !x["last_attempt_at"].is_null();
    let log = deliveries_when(&o, &o.budi, id, |d| d.len() >= 2 && d.iter().all(recorded)).await;
    for d in &log {
        assert_eq!(d["state"], "pending", "{d}");
        // The kind of address, not the address (a name's internal address is not for the
        // caller to learn).
        let e = d["last_error"].as_str().unwrap_or_default();
        assert!(e.contains("loopback") && !e.contains("127.0.0.2"), "{d}");
        assert!(d["last_status"].is_null());
    }
    assert_eq!(inside.connections(), 0, "a refused address was connected to");
    assert_eq!(outside.connections(), 0);
}

#[tokio::test]
async fn failures_are_retried_as_asked_gone_disables_and_redelivery_and_ping_work() {
    let o = office_with(|_| {}).await;
    let rx = Receiver::start("127.0.0.1").await;
    let e = register(&o, &o.budi, json!({"url": rx.url("/hook")})).await;
    let id = e["id"].as_str().unwrap().to_owned();
    let ping = format!("/webhooks/{id}/ping");

    // 503 asking for 1 s (instead of the schedule's 5 s), then a 500 (the schedule's second
    // wait: 5 min, jittered), then success.
    rx.answer(503, vec![("retry-after", "1".into())]);
    rx.answer(500, vec![]);
    let queued = o.app.post(&ping, &o.budi, json!({})).await.assert_status(202).clone();
    assert_eq!(queued["event_type"], "webhook.ping");
    assert_eq!(queued["state"], "pending");
    let got = rx.wait_for("the retry Retry-After asked for", |g| g.len() >= 2).await;
    let log = deliveries_when(&o, &o.budi, &id, |d| d[0]["attempts"] == 2 && d[0]["last_status"] == 500).await;
    let next = chrono::DateTime::parse_from_rfc3339(log[0]["next_attempt_at"].as_str().unwrap()).unwrap();
    let last = chrono::DateTime::parse_from_rfc3339(log[0]["last_attempt_at"].as_str().unwrap()).unwrap();
    let wait = (next - last).num_milliseconds();
    // 5 min ± 10 %, measured from the attempt's start (so plus the call's own time).
    assert!((270_000..=340_000).contains(&wait), "the second retry waits ~5 min, not {wait} ms");
    // Attempts are one message: same id, same body, fresh signatures.
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(got[0].body, got[1].body);
    // Rather than wait for the schedule, let the clock run.
    o.app.clock.advance(chrono::Duration::minutes(6));
    rx.wait_for("the third attempt", |g| g.len() >= 3).await;
    let log = deliveries_when(&o, &o.budi, &id, |d| d[0]["state"] == "delivered").await;
    assert_eq!((log[0]["attempts"].as_i64(), log[0]["last_status"].as_i64()), (Some(3), Some(204)));
    assert!(log[0]["next_attempt_at"].is_null());

    // Redelivery: the same message again, as a new delivery.
    let delivered = log[0]["id"].as_str().unwrap();
    let again = o.app.post(&format!("/webhooks/{id}/deliveries/{delivered}/redeliver"), &o.budi, json!({})).await;
    assert_eq!(again.assert_status(202)["message_id"], log[0]["message_id"]);
    let got = rx.wait_for("the redelivery", |g| g.len() >= 4).await;
    assert_eq!(got[3].header("webhook-id"), got[0].header("webhook-id"));
    // The receiver has it before the service records the answer; until then the redelivered
    // ping is pending, and a second ping would be refused (409, one waiting ping at a time).
    deliveries_when(&o, &o.budi, &id, |d| d.iter().all(|x| x["state"] != "pending")).await;

    // 410 Gone: the endpoint is disabled at once, and says why.
    rx.answer(410, vec![]);
    o.app.post(&ping, &o.budi, json!({})).await.assert_status(202);
    rx.wait_for("the 410", |g| g.len() >= 5).await;
    let mut endpoint = Value::Null;
    for _ in 0..100 {
        endpoint = o.app.get(&format!("/webhooks/{id}"), &o.budi).await.body;
        if endpoint["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(endpoint["enabled"], false, "{endpoint}");
    assert!(endpoint["disabled_reason"].as_str().is_some_and(|r| r.contains("410")), "{endpoint}");
    o.app.post(&ping, &o.budi, json!({})).await.assert_problem(409);
    // Nothing is queued for a disabled endpoint: the log does not grow.
    let before = deliveries_when(&o, &o.budi, &id, |_| true).await.len();
    submitted(&o).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(deliveries_when(&o, &o.budi, &id, |_| true).await.len(), before);
    assert_eq!(rx.received().len(), 5);
    // Its owner turns it back on.
    let v = endpoint["version"].as_i64().unwrap();
    let on = o.app.patch(&format!("/webhooks/{id}"), &o.budi, json!({"enabled": true, "version": v})).await;
    assert_eq!(on.assert_status(200)["disabled_reason"], Value::Null);
    o.app.post(&ping, &o.budi, json!({})).await.assert_status(202);
    rx.wait_for("a ping after re-enabling", |g| g.len() >= 6).await;
}

#[tokio::test]
async fn three_days_of_failures_disable_the_endpoint_and_mail_its_owner() {
    let smtp = SmtpServer::start();
    let url = smtp.url();
    let o = office_with(|s| {
        s.smtp_url = Some(url);
        s.mail_interval_secs = 1;
    })
    .await;
    let users = o.app.get("/users?limit=100", &o.admin).await;
    let budi = users.body["items"].as_array().unwrap().iter().find(|u| u["username"] == "budi").unwrap()["id"].clone();
    o.app
        .patch(&format!("/users/{}", budi.as_str().unwrap()), &o.admin, json!({"email": "budi@dinkes.go.id"}))
        .await
        .assert_status(200);
    let rx = Receiver::start("127.0.0.1").await;
    let e = register(&o, &o.budi, json!({"url": rx.url("/down")})).await;
    let id = e["id"].as_str().unwrap().to_owned();
    for _ in 0..10 {
        rx.answer(500, vec![]);
    }
    o.app.post(&format!("/webhooks/{id}/ping"), &o.budi, json!({})).await.assert_status(202);
    // Ten attempts; between them the clock jumps a day (longer than any wait).
    let mut previous = Value::Null;
    for n in 1..=10 {
        rx.wait_for(&format!("attempt {n}"), |g| g.len() >= n).await;
        // Recorded: the attempt's time is set when its answer is written.
        let log =
            deliveries_when(&o, &o.budi, &id, |d| d[0]["attempts"] == n as i64 && d[0]["last_attempt_at"] != previous)
                .await;
        previous = log[0]["last_attempt_at"].clone();
        if n < 10 {
            assert_eq!(log[0]["state"], "pending", "attempt {n}: {}", log[0]);
            o.app.clock.advance(chrono::Duration::days(1));
        } else {
            assert_eq!(log[0]["state"], "failed", "{}", log[0]);
        }
    }
    let endpoint = o.app.get(&format!("/webhooks/{id}"), &o.budi).await.body;
    assert_eq!(endpoint["enabled"], false, "{endpoint}");
    assert!(endpoint["failing_since"].is_string());
    assert!(endpoint["disabled_reason"].as_str().is_some_and(|r| r.contains("3 days")), "{endpoint}");
    let mail = smtp.wait_for(1, Duration::from_secs(20)).await;
    let m =
        mail.iter().find(|m| m.header("to").is_some_and(|t| t.contains("budi@dinkes.go.id"))).expect("mail to budi");
    assert!(m.body.contains(&id) && m.body.contains("dinonaktifkan"), "{}", m.body);
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_for_a_day() {
    let o = office_with(|_| {}).await;
    let rx = Receiver::start("127.0.0.1").await;
    let e = register(&o, &o.budi, json!({"url": rx.url("/r")})).await;
    let (id, old) = (e["id"].as_str().unwrap().to_owned(), e["secret"].as_str().unwrap().to_owned());
    let rotated = o.app.post(&format!("/webhooks/{id}/rotate-secret"), &o.budi, json!({})).await;
    let new = rotated.assert_status(200)["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    assert!(rotated.body["previous_secret_expires_at"].is_string());
    assert_eq!(rotated.header("cache-control"), Some("no-store"));
    o.app.post(&format!("/webhooks/{id}/ping"), &o.budi, json!({})).await.assert_status(202);
    let got = rx.wait_for("the ping", |g| !g.is_empty()).await;
    assert_eq!(got[0].header("webhook-signature").unwrap().split(' ').count(), 2);
    // A receiver still on the old secret and one already on the new both verify.
    assert_eq!(verify_with_library(&old, &got[..1]), [None]);
    assert_eq!(verify_with_library(&new, &got[..1]), [None]);
    // A day later only the new one signs (the clock jump also moves the timestamp past
    // the library's 5-minute window, so count the signatures instead).
    o.app.clock.advance(chrono::Duration::hours(25));
    o.app.post(&format!("/webhooks/{id}/ping"), &o.budi, json!({})).await.assert_status(202);
    let got = rx.wait_for("the second ping", |g| g.len() >= 2).await;
    assert_eq!(got[1].header("webhook-signature").unwrap().split(' ').count(), 1);
}

#[tokio::test]
async fn endpoints_belong_to_their_organization() {
    let o = office_with(|_| {}).await;
    let rx = Receiver::start("127.0.0.1").await;
    let e = register(&o, &o.budi, json!({"url": rx.url("/a")})).await;
    let id = e["id"].as_str().unwrap();
    // Another agency's applicant: not found, on every operation; not in its list.
    for (m, p) in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/ping"), ("POST", "/rotate-secret")] {
        let r = o
            .app
            .call(m.parse().unwrap(), &format!("/webhooks/{id}{p}"), Some(&o.rina), Some(json!({"description": "x"})))
            .await;
        r.assert_problem(404);
    }
    let theirs = o.app.get("/webhooks", &o.rina).await;
    assert_eq!(theirs.assert_status(200)["items"], json!([]));
    // Registering for another organization is refused; an admin may, or for everyone.
    let dukcapil = o.app.get("/organizations?limit=100", &o.admin).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "DUKCAPIL")
        .unwrap()["id"]
        .clone();
    let r = o.app.post("/webhooks", &o.budi, json!({"url": rx.url("/b"), "organization_id": dukcapil})).await;
    r.assert_problem(403);
    let a = register(&o, &o.admin, json!({"url": rx.url("/c"), "organization_id": dukcapil})).await;
    assert_eq!(a["organization_id"], dukcapil);
    // Office staff who are not admins do not manage webhooks.
    o.app.get("/webhooks", &o.kabid).await.assert_problem(403);
    // The admin sees all; the owner removes its own.
    let all = o.app.get("/webhooks", &o.admin).await;
    assert_eq!(all.assert_status(200)["items"].as_array().unwrap().len(), 2);
    let gone = o.app.call(reqwest::Method::DELETE, &format!("/webhooks/{id}"), Some(&o.budi), None).await;
    assert_eq!(gone.status, 204);
    o.app.get(&format!("/webhooks/{id}"), &o.budi).await.assert_problem(404);
}

#[tokio::test]
async fn a_name_is_resolved_through_the_guard_at_every_delivery() {
    // `localhost` is a name (not a literal): it goes through the guarded resolver, and
    // its port comes from the URL.
    let o = office_with(|s| s.webhook_allow_cidrs = Some("127.0.0.1/32,::1/128".into())).await;
    let rx = Receiver::start("127.0.0.1").await;
    let url = format!("http://localhost:{}/named", rx.addr.port());
    let e = register(&o, &o.budi, json!({"url": url})).await;
    let id = e["id"].as_str().unwrap();
    o.app.post(&format!("/webhooks/{id}/ping"), &o.budi, json!({})).await.assert_status(202);
    let got = rx.wait_for("the ping by name", |g| !g.is_empty()).await;
    assert_eq!(got[0].path, "/named");
    // Without the listing, the same name is refused (and nothing connects).
    let strict = office_with(|s| s.webhook_allow_cidrs = None).await;
    let r = strict.app.post("/webhooks", &strict.budi, json!({"url": url})).await;
    assert!(r.assert_problem(422)["errors"]["url"][0].as_str().unwrap().contains("loopback"), "{}", r.text);
}

#[tokio::test]
async fn secrets_are_not_replayed_nor_rotated_twice_and_pings_do_not_pile_up() {
    let o = office_with(|_| {}).await;
    let rx = Receiver::start("127.0.0.1").await;
    // A response carrying a secret is never stored for replay: an Idempotency-Key is refused.
    let r = o
        .app
        .send(
            o.app
                .http
                .post(o.app.url("/webhooks"))
                .bearer_auth(&o.budi)
                .header("Idempotency-Key", "d7a0c6c2-0f5e-4e59-9d1e-3c2b1a0f9e8d")
                .json(&json!({"url": rx.url("/i")})),
        )
        .await;
    r.assert_problem(422);
    assert_eq!(o.app.get("/webhooks", &o.budi).await.body["items"], json!([]), "nothing was created");
    let e = register(&o, &o.budi, json!({"url": rx.url("/i")})).await;
    let id = e["id"].as_str().unwrap();
    let rotate = format!("/webhooks/{id}/rotate-secret");
    o.app.post(&rotate, &o.budi, json!({})).await.assert_status(200);
    // A second rotation within the day would drop the oldest secret under a receiver
    // still on it.
    o.app.post(&rotate, &o.budi, json!({})).await.assert_problem(409);
    o.app.clock.advance(chrono::Duration::hours(25));
    o.app.post(&rotate, &o.budi, json!({})).await.assert_status(200);
    // A ping waits for the one before it.
    rx.answer(503, vec![("retry-after", "3600".into())]);
    let ping = format!("/webhooks/{id}/ping");
    o.app.post(&ping, &o.budi, json!({})).await.assert_status(202);
    rx.wait_for("the first ping", |g| !g.is_empty()).await;
    o.app.post(&ping, &o.budi, json!({})).await.assert_problem(409);
}
