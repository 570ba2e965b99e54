//! Concurrency: identical transitions race, submits race.

use futures_util::future::join_all;
use serde_json::json;

use crate::flows::{Office, submitted};

#[tokio::test]
async fn fifty_identical_transitions_have_exactly_one_winner() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let calls = (0..50).map(|_| o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})));
    let results = join_all(calls).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let conflicts = results.iter().filter(|r| r.status == 409).count();
    assert_eq!((ok, conflicts), (1, 49), "{:?}", results.iter().map(|r| r.status.as_u16()).collect::<Vec<_>>());
    let events = o.app.get(&format!("/audit/events?object_id={id}&action=request.step_completed"), &o.admin).await;
    assert_eq!(events.body["items"].as_array().unwrap().len(), 1, "one audit event");
}

#[tokio::test]
async fn concurrent_submits_get_unique_consecutive_numbers() {
    let o = Office::new().await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        let r = o.create(&o.budi).await;
        let id = r["id"].as_str().unwrap().to_owned();
        o.attach(&o.budi, &id, "request_letter").await;
        ids.push(id);
    }
    let results = join_all(ids.iter().map(|id| o.act(&o.budi, id, "submit", json!({})))).await;
    let mut numbers: Vec<u32> = results
        .iter()
        .map(|r| {
            let n = r.assert_status(200)["number"].as_str().unwrap().to_owned();
            n.rsplit('/').next().unwrap().parse().unwrap()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=12).collect::<Vec<_>>());
}
