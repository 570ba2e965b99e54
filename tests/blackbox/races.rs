//! Concurrency: identical transitions race, refreshes with one token race, submits race.
//! Each runs on SQLite by default and on PostgreSQL with `JEMBATAN_TEST_POSTGRES_URL`.

use futures_util::future::join_all;
use jembatan_tests::{PASSWORD, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Office, submitted};

/// Enough connections that racing transactions really overlap on PostgreSQL (SQLite
/// serializes writers with `BEGIN IMMEDIATE` however many there are). These tests check
/// outcomes, not latency: a generous pool wait keeps a busy shared database server from
/// turning fifty queued calls into 503s.
async fn busy_office() -> Office {
    Office::with(
        TestApp::spawn_with(|s| {
            s.db_max_connections = 12;
            s.workers = Some(4);
            s.db_acquire_timeout_secs = 30;
        })
        .await,
    )
    .await
}

/// A 409 from a transaction that read the request before the winner committed, passed the
/// workflow check and lost at the version compare-and-set (or, for a team, at the team
/// members' key). Since transitions lock the request row first (PostgreSQL) or start with
/// `BEGIN IMMEDIATE` (SQLite), losers wait for the winner and are refused by the workflow
/// instead, so this is expected to count 0; it is printed to show which path refused them.
fn lost_after_deciding(r: &jembatan_tests::Resp) -> bool {
    r.status == 409
        && r.body["detail"].as_str().is_some_and(|d| d.contains("changed meanwhile") || d.contains("same unique value"))
}

fn statuses(results: &[jembatan_tests::Resp]) -> Vec<u16> {
    results.iter().map(|r| r.status.as_u16()).collect()
}

/// The audit events of one request that record a transition (not its creation, not uploads).
async fn transition_events(o: &Office, id: &str) -> Vec<String> {
    let r = o.app.get(&format!("/audit/events?object_id={id}&limit=100"), &o.admin).await;
    let items = r.assert_status(200)["items"].as_array().expect("items").clone();
    assert!(r.body["next_cursor"].is_null(), "fewer than 100 events expected: {}", r.text);
    items
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .filter(|a| a != "request.created" && a != "request.document_uploaded")
        .collect()
}

#[tokio::test]
async fn fifty_identical_transitions_have_exactly_one_winner() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let calls = (0..50).map(|_| o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})));
    let results = join_all(calls).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let conflicts = results.iter().filter(|r| r.status == 409).count();
    assert_eq!((ok, conflicts), (1, 49), "{:?}", statuses(&results));
    let events = o.app.get(&format!("/audit/events?object_id={id}&action=request.step_completed"), &o.admin).await;
    assert_eq!(events.body["items"].as_array().unwrap().len(), 1, "one audit event");
}

/// Twenty rounds of fifty identical calls, walking one request from draft to completed
/// through every kind of transition the external flow has (submit with its number, a
/// disposition, a team that inserts members, five failed tests looping back to
/// integration): each round exactly one 200, forty-nine 409, one audit event, one version.
#[tokio::test]
async fn fifty_identical_transitions_times_twenty_rounds_one_winner_each() {
    let o = busy_office().await;
    let id = o.create(&o.budi).await["id"].as_str().unwrap().to_owned();
    let url = "https://api.trenggalekkab.go.id/simpus/v1";
    // (actor, endpoint, body, document the actor attaches first)
    let mut rounds: Vec<(&str, &str, Value, Option<&str>)> = vec![
        (&o.budi, "submit", json!({}), Some("request_letter")),
        (&o.kabid, "disposition", json!({"instructions": ["tindak_lanjuti"], "to_user_id": o.kasi_id}), None),
        (&o.kasi, "follow-up", json!({"note": "ok"}), None),
        (&o.kasi, "discussion", json!({}), Some("formulation")),
        (&o.kadis, "approval", json!({}), None),
        (&o.kabid, "team", json!({"lead_user_id": o.andi_id, "member_user_ids": [o.sari_id]}), Some("api_document")),
    ];
    for _ in 0..5 {
        rounds.push((&o.andi, "integration", json!({"base_url": url}), None));
        rounds.push((&o.sari, "testing", json!({"result": "failed"}), Some("test_report")));
    }
    rounds.push((&o.andi, "integration", json!({"base_url": url}), None));
    rounds.push((&o.sari, "testing", json!({"result": "passed"}), Some("test_report")));
    rounds.push((&o.andi, "implementation", json!({}), Some("integration_report")));
    rounds.push((&o.kasi, "report", json!({}), Some("final_report")));
    assert_eq!(rounds.len(), 20);

    let started = std::time::Instant::now();
    let mut overlapped = 0;
    let mut version = o.get(&o.admin, &id).await["version"].as_i64().unwrap();
    for (round, (actor, action, body, document)) in rounds.iter().enumerate() {
        if let Some(kind) = document {
            o.attach(actor, &id, kind).await;
            version = o.get(&o.admin, &id).await["version"].as_i64().unwrap();
        }
        let results = join_all((0..50).map(|_| o.act(actor, &id, action, body.clone()))).await;
        let winners: Vec<_> = results.iter().filter(|r| r.status == 200).collect();
        let conflicts = results.iter().filter(|r| r.status == 409).count();
        assert_eq!(
            (winners.len(), conflicts),
            (1, 49),
            "round {round} ({action}): {:?}; e.g. {}",
            statuses(&results),
            results.iter().find(|r| r.status != 200 && r.status != 409).map(|r| r.text.as_str()).unwrap_or("")
        );
        for r in results.iter().filter(|r| r.status == 409) {
            r.assert_problem(409);
        }
        overlapped += results.iter().filter(|r| lost_after_deciding(r)).count();
        assert_eq!(winners[0].body["version"], version + 1, "round {round} ({action}): one version step");
        version += 1;
        let events = transition_events(&o, &id).await;
        assert_eq!(events.len(), round + 1, "round {round} ({action}): one audit event per round: {events:?}");
    }
    let done = o.get(&o.admin, &id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["version"], version);
    let year = done["number"].as_str().unwrap().split('/').nth(1).unwrap().to_owned();
    assert_eq!(done["number"], format!("INT/{year}/0001"), "49 losing submits took no number");
    let events = transition_events(&o, &id).await;
    let count = |a: &str| events.iter().filter(|e| *e == a).count();
    assert_eq!(
        (count("request.submitted"), count("request.step_completed"), count("request.test_failed")),
        (1, 13, 5),
        "{events:?}"
    );
    assert_eq!(count("request.completed"), 1, "{events:?}");
    assert_eq!(done["test_rounds"], 5, "only the five winning failed tests counted");
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await;
    let steps = t.assert_status(200)["steps"].as_array().unwrap().clone();
    assert_eq!(steps.len(), 20, "one step instance per winning transition");
    assert!(steps.iter().all(|s| s["completed_by"]["username"].is_string()), "{steps:?}");
    // The next submit gets the next number: no gap from the losers.
    let next = submitted(&o).await;
    assert_eq!(o.get(&o.admin, &next).await["number"], format!("INT/{year}/0002"));
    let chain = o.app.get("/audit/verify", &o.admin).await;
    assert_eq!(chain.assert_status(200)["intact"], true, "{}", chain.text);
    eprintln!(
        "20 rounds × 50 identical transitions: {:.1} s; {overlapped} of 980 losers overlapped the winner",
        started.elapsed().as_secs_f64()
    );
}

/// Two refreshes with one token at once: one rotates it, the other is a reuse, which
/// revokes the whole family — so the winner's new refresh token is refused as well.
/// Ten pairs, since it is a race.
#[tokio::test]
async fn two_parallel_refreshes_with_one_token_one_winner_and_the_family_revoked() {
    let app = TestApp::spawn_with(|s| {
        s.db_max_connections = 8;
        s.db_acquire_timeout_secs = 30;
    })
    .await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let (budi, _) = app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    const PAIRS: usize = 10;
    for pair in 0..PAIRS {
        let login = app.login("budi", PASSWORD).await;
        let token = login.assert_status(200)["refresh_token"].as_str().unwrap().to_owned();
        let refresh = || app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": token})));
        let (a, b) = futures_util::join!(refresh(), refresh());
        let mut got = vec![a.status.as_u16(), b.status.as_u16()];
        got.sort();
        assert_eq!(got, [200, 401], "pair {pair}: {} / {}", a.text, b.text);
        let (winner, loser) = if a.status == 200 { (a, b) } else { (b, a) };
        loser.assert_problem(401);
        let next = winner.body["refresh_token"].as_str().expect("a new refresh token");
        assert_ne!(next, token);
        // The family is revoked: the winner's successor is refused, and so is the old token.
        let again = app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": next}))).await;
        again.assert_problem(401);
        let old = app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": token}))).await;
        old.assert_problem(401);
        // A family untouched by the race still rotates normally (the revocation is per family).
        let fresh = app.login("budi", PASSWORD).await.body["refresh_token"].as_str().unwrap().to_owned();
        let rotated = app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": fresh}))).await;
        rotated.assert_status(200);
    }
    // Each pair's loser was recorded as a reuse, once (revoked tokens are refused silently).
    let events = app
        .get(
            &format!(
                "/audit/events?action=session.refresh_token_reused&object_id={}&limit=100",
                budi["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    let reuses = events.assert_status(200)["items"].as_array().unwrap().len();
    assert_eq!(reuses, PAIRS, "one reuse event per pair");
}

/// Twenty drafts, each submitted three times at once (sixty racing submits): twenty
/// winners numbered 1..=20 without a gap or a repeat, the forty losers answer 409 and
/// give back any number they drew, one submit event per request. With enough
/// connections the transactions overlap on PostgreSQL, where losers do draw a number
/// (blocking on the counter row) before their compare-and-set fails and rolls back.
#[tokio::test]
async fn concurrent_submits_get_unique_consecutive_numbers() {
    const DRAFTS: usize = 20;
    const COPIES: usize = 3;
    let o = busy_office().await;
    let mut ids = Vec::new();
    for _ in 0..DRAFTS {
        let r = o.create(&o.budi).await;
        let id = r["id"].as_str().unwrap().to_owned();
        o.attach(&o.budi, &id, "request_letter").await;
        ids.push(id);
    }
    let calls =
        ids.iter().flat_map(|id| std::iter::repeat_n(id, COPIES)).map(|id| o.act(&o.budi, id, "submit", json!({})));
    let results = join_all(calls).await;
    let conflicts = results.iter().filter(|r| r.status == 409).count();
    let mut numbers: Vec<u32> = results
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.body["number"].as_str().unwrap().rsplit('/').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        (numbers.len(), conflicts),
        (DRAFTS, DRAFTS * (COPIES - 1)),
        "{:?}; e.g. {}",
        statuses(&results),
        results.iter().find(|r| r.status != 200 && r.status != 409).map(|r| r.text.as_str()).unwrap_or("")
    );
    let overlapped = results.iter().filter(|r| lost_after_deciding(r)).count();
    eprintln!("{} racing submits: {overlapped} losers drew a number and gave it back", DRAFTS * COPIES);
    numbers.sort();
    assert_eq!(numbers, (1..=DRAFTS as u32).collect::<Vec<_>>());
    // Every request carries the number its winning answer named, and has one submit event.
    for won in results.iter().filter(|r| r.status == 200) {
        let stored = o.get(&o.admin, won.body["id"].as_str().unwrap()).await;
        assert_eq!(stored["number"], won.body["number"]);
    }
    let events = o.app.get("/audit/events?action=request.submitted&limit=100", &o.admin).await;
    let mut submitted: Vec<String> = events.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["object_id"].as_str().unwrap().to_owned())
        .collect();
    submitted.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(submitted, expected, "exactly one submit event per request");
    // Gap-free also means the counter stands at the last number handed out.
    let next = submitted_number(&o).await;
    assert_eq!(next, DRAFTS as u32 + 1);
}

async fn submitted_number(o: &Office) -> u32 {
    let id = submitted(o).await;
    o.get(&o.admin, &id).await["number"].as_str().unwrap().rsplit('/').next().unwrap().parse().unwrap()
}
