use sha2::{Digest, Sha256};

use crate::flows::{Office, PDF, submitted};
use jembatan_tests::TestApp;

#[tokio::test]
async fn downloaded_bytes_hash_to_the_reported_digest() {
    let o = Office::new().await;
    let r = o.create(&o.budi).await;
    let id = r["id"].as_str().unwrap();
    let up = o.upload(&o.budi, id, "request_letter", PDF, "surat.pdf").await;
    let meta = up.assert_status(201).clone();
    assert_eq!(meta["content_type"], "application/pdf");
    assert_eq!(meta["size"], PDF.len());
    assert_eq!(meta["kind_version"], 1);
    let res = o
        .app
        .http
        .get(o.app.url(&format!("/documents/{}/content", meta["id"].as_str().unwrap())))
        .bearer_auth(&o.budi)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("surat.pdf"));
    assert!(res.headers().contains_key("repr-digest"));
    let bytes = res.bytes().await.unwrap();
    assert_eq!(hex::encode(Sha256::digest(&bytes)), meta["sha256"].as_str().unwrap());
    // A second upload of the kind is a new version; the first stays.
    let again = o.upload(&o.budi, id, "request_letter", PDF, "surat-revisi.pdf").await;
    assert_eq!(again.assert_status(201)["kind_version"], 2);
    let list = o.app.get(&format!("/requests/{id}/documents"), &o.budi).await;
    let items = list.assert_status(200)["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    // Oldest first, a page at a time.
    assert_eq!((items[0]["kind_version"].as_i64(), items[1]["kind_version"].as_i64()), (Some(1), Some(2)));
    let first = o.app.get(&format!("/requests/{id}/documents?limit=1"), &o.budi).await;
    let cursor = first.assert_status(200)["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(first.body["items"][0]["id"], items[0]["id"]);
    let second = o.app.get(&format!("/requests/{id}/documents?limit=1&cursor={cursor}"), &o.budi).await;
    assert_eq!(second.assert_status(200)["items"][0]["id"], items[1]["id"]);
    assert!(second.body["next_cursor"].is_null());
    // Another agency sees neither metadata nor bytes.
    o.app.get(&format!("/documents/{}", meta["id"].as_str().unwrap()), &o.rina).await.assert_problem(404);
    o.app.get(&format!("/documents/{}/content", meta["id"].as_str().unwrap()), &o.rina).await.assert_problem(404);
}

#[tokio::test]
async fn an_executable_renamed_pdf_is_415_and_leaves_nothing_behind() {
    let o = Office::new().await;
    let r = o.create(&o.budi).await;
    let id = r["id"].as_str().unwrap();
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".repeat(10);
    o.upload(&o.budi, id, "request_letter", &elf, "surat.pdf").await.assert_problem(415);
    let list = o.app.get(&format!("/requests/{id}/documents"), &o.budi).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
    assert_eq!(stored_files(&o.app), 0, "no bytes stay behind");
}

fn stored_files(app: &TestApp) -> usize {
    fn walk(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|it| it.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    walk(&app.storage_dir)
}

#[tokio::test]
async fn the_size_limit_is_exact() {
    let app = TestApp::spawn_with(|s| s.upload_limit_bytes = 4096).await;
    let o = Office::with(app).await;
    let r = o.create(&o.budi).await;
    let id = r["id"].as_str().unwrap();
    let mut at_limit = PDF.to_vec();
    at_limit.resize(4096, b' ');
    o.upload(&o.budi, id, "request_letter", &at_limit, "a.pdf").await.assert_status(201);
    let mut over = at_limit.clone();
    over.push(b' ');
    o.upload(&o.budi, id, "request_letter", &over, "b.pdf").await.assert_problem(413);
    assert_eq!(stored_files(&o.app), 1, "the refused upload left nothing");
}

#[tokio::test]
async fn a_path_in_the_filename_is_only_a_label() {
    let o = Office::new().await;
    let r = o.create(&o.budi).await;
    let id = r["id"].as_str().unwrap();
    let up = o.upload(&o.budi, id, "request_letter", PDF, "../../etc/passwd").await;
    assert_eq!(up.assert_status(201)["filename"], "passwd");
    assert!(std::fs::read_to_string("/etc/passwd").unwrap().contains("root"), "untouched");
    assert_eq!(stored_files(&o.app), 1);
}

#[tokio::test]
async fn api_specs_are_accepted_as_json_or_yaml_and_unknown_kinds_refused() {
    let o = Office::new().await;
    let r = o.create(&o.budi).await;
    let id = r["id"].as_str().unwrap();
    let up = o.upload(&o.budi, id, "other", br#"{"openapi": "3.1.0", "info": {"title": "SIMPUS"}}"#, "spec.json").await;
    assert_eq!(up.assert_status(201)["content_type"], "application/json");
    let up = o.upload(&o.budi, id, "other", b"openapi: 3.1.0\ninfo:\n  title: SIMPUS\n", "spec.yaml").await;
    assert_eq!(up.assert_status(201)["content_type"], "application/yaml");
    o.upload(&o.budi, id, "passport", PDF, "x.pdf").await.assert_problem(422);
}

#[tokio::test]
async fn only_the_current_actor_uploads() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    // At `disposition`, the head of division may attach; the applicant and others may not.
    o.upload(&o.kabid, &id, "disposition_sheet", PDF, "d.pdf").await.assert_status(201);
    o.upload(&o.budi, &id, "other", PDF, "x.pdf").await.assert_problem(403);
    o.upload(&o.kasi, &id, "other", PDF, "x.pdf").await.assert_problem(403);
    o.upload(&o.auditor, &id, "other", PDF, "x.pdf").await.assert_problem(403);
    o.upload(&o.rina, &id, "other", PDF, "x.pdf").await.assert_problem(404);
}
