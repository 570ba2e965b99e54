//! Issue 14, item 2: the event feed. Read in small pages while several writers submit and
//! move requests, it never skips or repeats an entry, keeps the log's order, and shows an
//! agency its own requests only (and nobody an internal comment).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::evidence::settled;
use crate::flows::{Office, submitted};

async fn page(o: &Office, token: &str, after: Option<&str>, limit: u32) -> Value {
    let path = match after {
        Some(c) => format!("/events?after={c}&limit={limit}"),
        None => format!("/events?limit={limit}"),
    };
    o.app.get(&path, token).await.assert_status(200).clone()
}

/// Every entry from `after` to the end of what is logged now.
async fn drain(o: &Office, token: &str, mut after: Option<String>, out: &mut Vec<Value>) -> Option<String> {
    loop {
        let p = page(o, token, after.as_deref(), 7).await;
        let items = p["items"].as_array().unwrap().clone();
        after = Some(p["next_cursor"].as_str().expect("always a cursor").to_owned());
        out.extend(items);
        if p["at_end"] == true {
            return after;
        }
    }
}

#[tokio::test]
async fn the_feed_never_skips_or_repeats_keeps_order_and_shows_each_agency_its_own() {
    let o = Office::new().await;
    let first = submitted(&o).await;
    let comments = format!("/requests/{first}/comments");
    o.app.post(&comments, &o.kasi, json!({"body": "rahasia dapur", "visibility": "internal"})).await.assert_status(201);
    o.app.post(&comments, &o.kasi, json!({"body": "@budi mohon contoh data"})).await.assert_status(201);
    o.act(&o.kabid, &first, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);

    // Three writers for DINKES and one for DUKCAPIL, while DINKES's system reads the feed
    // seven entries at a time.
    let done = AtomicBool::new(false);
    let writers = async {
        let dinkes = join_all((0..3).map(|_| async {
            let mut ids = Vec::new();
            for _ in 0..4 {
                ids.push(submitted(&o).await);
            }
            ids
        }));
        let dukcapil = async {
            let mut ids = Vec::new();
            for _ in 0..3 {
                let r = o.create(&o.rina).await;
                let id = r["id"].as_str().unwrap().to_owned();
                o.attach(&o.rina, &id, "request_letter").await;
                o.act(&o.rina, &id, "submit", json!({})).await.assert_status(200);
                ids.push(id);
            }
            ids
        };
        let (dinkes, dukcapil) = futures_util::join!(dinkes, dukcapil);
        done.store(true, Ordering::SeqCst);
        (dinkes.concat(), dukcapil)
    };
    let reader = async {
        let (mut seen, mut cursor) = (Vec::new(), None);
        while !done.load(Ordering::SeqCst) {
            cursor = drain(&o, &o.budi, cursor, &mut seen).await;
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        (seen, cursor)
    };
    let ((dinkes, dukcapil), (mut seen, cursor)) = futures_util::join!(writers, reader);
    settled(&o).await;
    drain(&o, &o.budi, cursor, &mut seen).await;

    // No entry twice, in the log's order.
    let ids: Vec<&str> = seen.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "an entry came twice");
    let order: Vec<i64> = seen.iter().map(|e| e["sequence"].as_i64().unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "out of order: {order:?}");
    // None missing: each DINKES request submitted once, with its letter; nothing of DUKCAPIL.
    let of = |kind: &str| -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for e in seen.iter().filter(|e| e["type"] == kind) {
            *m.entry(e["data"]["request_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
        m
    };
    let submits = of("request.submitted");
    for id in dinkes.iter().chain([&first]) {
        assert_eq!(submits.get(id), Some(&1), "{id} submitted");
        assert_eq!(of("document.added").get(id), Some(&1), "{id}'s letter");
    }
    assert_eq!(submits.len(), dinkes.len() + 1);
    assert!(seen.iter().all(|e| !dukcapil.contains(&e["data"]["request_id"].as_str().unwrap().to_owned())));
    // The disposition moved the first request to follow_up; one comment (the public one).
    let moved: Vec<&Value> = seen.iter().filter(|e| e["type"] == "request.step_started").collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["data"]["step"], "follow_up");
    assert_eq!(moved[0]["links"]["request"], format!("/api/v1/requests/{first}"));
    assert_eq!(of("comment.added").get(&first), Some(&1));
    let text = serde_json::to_string(&seen).unwrap();
    assert!(!text.contains("rahasia") && !text.contains("mohon contoh"), "entries are thin");

    // DUKCAPIL sees its own three and nothing of DINKES; the office sees both agencies.
    let mut theirs = Vec::new();
    drain(&o, &o.rina, None, &mut theirs).await;
    let theirs: HashSet<&str> = theirs.iter().map(|e| e["data"]["request_id"].as_str().unwrap()).collect();
    assert_eq!(theirs, dukcapil.iter().map(String::as_str).collect());
    let mut office = Vec::new();
    drain(&o, &o.kabid, None, &mut office).await;
    let office_submits = office.iter().filter(|e| e["type"] == "request.submitted").count();
    assert_eq!(office_submits, dinkes.len() + 1 + dukcapil.len());
    // The internal comment is in nobody's feed.
    assert_eq!(office.iter().filter(|e| e["type"] == "comment.added").count(), 1);

    // A cursor beyond the log's end (one the feed did not make), a malformed one, a bad page size.
    o.app.get("/events?after=nope", &o.budi).await.assert_problem(422);
    o.app.get("/events?limit=0", &o.budi).await.assert_problem(422);
    o.app.get("/events?after=AAAAAAAAAAB__________w", &o.budi).await.assert_problem(422);
    o.app.call(reqwest::Method::GET, "/events", None, None).await.assert_problem(401);
}
