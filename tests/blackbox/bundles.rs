//! Issue 13, item 4: a request's evidence bundle, taken away and checked with no database
//! and no network. Each way of tampering with a copy — an edited event, a deleted one, two
//! reordered, a truncated tail — is pinpointed; a database rewritten and recomputed gives
//! a bundle that fails; the applicant's bundle withholds the office's internal notes and
//! still verifies.

use std::collections::BTreeMap;

use jembatan::service::bundle;
use jembatan::tlog::bundle::{EVENTS, TrustedKey, Verdict, parse_keys, parse_witness, verify};
use serde_json::json;

use crate::evidence::{db, rewrite_everything, settled};
use crate::flows::{Office, submitted};

async fn dossier(o: &Office, token: &str, id: &str) -> (u16, Vec<u8>) {
    dossier_from(o, token, id, "").await
}

async fn dossier_from(o: &Office, token: &str, id: &str, consistency_from: &str) -> (u16, Vec<u8>) {
    let r = o
        .app
        .http
        .get(o.app.url(&format!("/requests/{id}/dossier?consistency_from={consistency_from}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("the service answers");
    let status = r.status().as_u16();
    if status == 200 {
        assert_eq!(r.headers()["content-type"], "application/x-tar");
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains(&format!("dossier-{id}.tar")));
    }
    (status, r.bytes().await.expect("a body").to_vec())
}

/// The bundle as an auditor's machine sees it: the tar written to a file elsewhere, read back.
fn unpack(tar: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("jembatan-dossier-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dossier.tar");
    std::fs::write(&path, tar).unwrap();
    let files = bundle::read(&path).expect("a readable bundle");
    std::fs::remove_dir_all(&dir).ok();
    files
}

async fn office_key(o: &Office) -> Vec<TrustedKey> {
    let keys = o.app.call(reqwest::Method::GET, "/audit/public-key", None, None).await;
    parse_keys(&keys.text).expect("verifier keys")
}

fn with_lines(files: &BTreeMap<String, Vec<u8>>, f: impl FnOnce(&mut Vec<String>)) -> BTreeMap<String, Vec<u8>> {
    let mut copy = files.clone();
    let mut lines: Vec<String> = String::from_utf8(copy[EVENTS].clone()).unwrap().lines().map(String::from).collect();
    f(&mut lines);
    copy.insert(EVENTS.into(), (lines.join("\n") + "\n").into_bytes());
    copy
}

#[tokio::test]
async fn a_dossier_verifies_offline_and_each_tampering_of_a_copy_is_pinpointed() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    let note =
        json!({"instructions": ["tindak_lanjuti"], "note": "Catatan internal kabid", "note_visibility": "internal"});
    o.act(&o.kabid, &id, "disposition", note).await.assert_status(200);
    o.upload(&o.kasi, &id, "other", b"%PDF-1.4\n telaah teknis", "telaah.pdf").await.assert_status(201);
    let path = format!("/requests/{id}/comments");
    o.app.post(&path, &o.kasi, json!({"body": "rahasia dapur", "visibility": "internal"})).await.assert_status(201);
    // Until the sequencer has logged the request's events, there is no bundle to give.
    let (status, _) = dossier(&o, &o.auditor, &id).await;
    assert!(status == 409 || status == 200, "{status}");
    settled(&o).await;
    let key = office_key(&o).await;

    // The auditor's bundle: every event of the timeline, every document, all provable.
    let (status, tar) = dossier(&o, &o.auditor, &id).await;
    assert_eq!(status, 200);
    let files = unpack(&tar);
    let report = verify(&files, &key, &[]);
    assert!(report.intact(), "{report}");
    let timeline = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await;
    assert_eq!(report.events, timeline.body["events"].as_array().unwrap().len());
    assert_eq!(report.documents, 2, "{report}");
    assert_eq!(report.redacted, 0);
    let text = String::from_utf8_lossy(&tar);
    assert!(text.contains("Catatan internal kabid") && text.contains("rahasia dapur"));
    assert!(text.contains("telaah teknis"), "the documents' bytes travel with the bundle");
    assert_eq!(report.verdict(), Verdict::Intact, "{report}");
    // Saved checkpoints (the service's witness file) are prefixes of the bundle's log: by
    // default the bundle has proofs from the day's last checkpoint only, so the others are
    // "not compared" (inconclusive); asked for, each is compared.
    let saved = std::fs::read_to_string(o.app.storage_dir.parent().unwrap().join("checkpoints/checkpoints.jsonl"));
    let saved_text = saved.expect("the witness file");
    let saved = parse_witness(&saved_text).unwrap();
    assert!(saved.len() >= 3);
    let report = verify(&files, &key, &saved);
    assert_eq!(report.verdict(), Verdict::Inconclusive, "{report}");
    let sizes: Vec<String> =
        saved_text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["size"].to_string()).collect();
    let (status, tar) = dossier_from(&o, &o.auditor, &id, &sizes.join(",")).await;
    assert_eq!(status, 200);
    let files = unpack(&tar);
    let report = verify(&files, &key, &saved);
    assert_eq!(report.verdict(), Verdict::Intact, "{report}");
    assert_eq!(report.witness_compared, saved.len());
    assert_eq!(dossier_from(&o, &o.auditor, &id, "7777777").await.0, 422, "not a checkpoint size");

    // Four ways to tamper with a copy; each is found, and the first bad line is named.
    let n = report.events;
    let cases = [
        ("edit", with_lines(&files, |l| l[1] = l[1].replacen("request.", "request.x", 1)), "line 2 "),
        ("delete", with_lines(&files, |l| drop(l.remove(2))), "line 3 "),
        ("reorder", with_lines(&files, |l| l.swap(3, 4)), "line 4 "),
        ("truncate", with_lines(&files, |l| l.truncate(n - 2)), &format!("line {} ", n - 1)),
    ];
    for (how, copy, line) in cases {
        let report = verify(&copy, &key, &[]);
        let problem = report.problem.unwrap_or_else(|| panic!("{how} was not detected"));
        assert!(problem.starts_with(&format!("events.jsonl {line}")), "{how}: {problem}");
        eprintln!("{how}: {problem}");
    }
    // A key other than the office's: refused.
    let other = parse_keys(&{
        let dir = std::env::temp_dir().join(format!("jembatan-otherkey-{}", uuid::Uuid::new_v4()));
        let k = jembatan::service::tlog::LogKeys::load(
            "jembatan.trenggalekkab.go.id/audit",
            Some(&jembatan::service::tlog::LogKeys::generate_seed()),
            &dir.join("unused"),
            None,
        )
        .unwrap();
        k.verifier()
    })
    .unwrap();
    assert!(verify(&files, &other, &[]).problem.unwrap().contains("not signed by a trusted key"));

    // The applicant's bundle: no internal note or comment, and still verifiable.
    let (status, tar) = dossier(&o, &o.budi, &id).await;
    assert_eq!(status, 200);
    let text = String::from_utf8_lossy(&tar);
    assert!(!text.contains("Catatan internal kabid") && !text.contains("rahasia dapur"));
    assert!(!text.contains("Catatan internal kabid") && !text.contains("tindak_lanjuti"), "no redacted content");
    let report = verify(&unpack(&tar), &key, &[]);
    assert_eq!((report.verdict(), report.redacted), (Verdict::Intact, 1), "{report}");
    // Another agency, and nobody: nothing.
    assert_eq!(dossier(&o, &o.rina, &id).await.0, 404);
    let anonymous = o.app.http.get(o.app.url(&format!("/requests/{id}/dossier"))).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    // The database rewritten and every hash recomputed: the bundle exported now fails,
    // and the one exported before still verifies against the saved checkpoints.
    rewrite_everything(&db(&o.app).await, 3).await;
    let (status, tar) = dossier(&o, &o.auditor, &id).await;
    assert_eq!(status, 200);
    let report = verify(&unpack(&tar), &key, &[]);
    let problem = report.problem.expect("a rewritten log is detected");
    assert!(problem.contains("does not lead to the signed checkpoint"), "{problem}");
    assert_eq!(verify(&files, &key, &saved).verdict(), Verdict::Intact);
}
