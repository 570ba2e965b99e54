//! Issue 15, item 6: documents on S3-compatible storage (`JEMBATAN_STORAGE_URL=s3://…`),
//! against a real S3 server on loopback (moto): bytes round-trip exactly, big files go out
//! as a multipart upload while they arrive, a refused or abandoned upload leaves neither an
//! object nor an open multipart upload, `jembatan check` compares rows with the bucket, a
//! dossier carries documents kept there, and a dead bucket is a 503 that records nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use jembatan::check::{CheckOptions, CheckReport, check, check_with};
use jembatan::clock::SystemClock;
use jembatan::config::Settings;
use jembatan::service::bundle;
use jembatan::startup::Application;
use jembatan_tests::TestApp;
use jembatan_tests::s3::S3Server;
use sea_orm::EntityTrait;
use sha2::{Digest, Sha256};

use crate::flows::{Office, PDF, submitted};

/// Objects live under this prefix of the bucket.
const PREFIX: &str = "docs";

/// An office whose documents go to a new bucket of `s3`.
async fn office_on(s3: &S3Server, bucket: &str, tweak: impl FnOnce(&mut Settings)) -> Office {
    let url = format!("s3://{bucket}/{PREFIX}");
    let options = s3.options();
    let app = TestApp::spawn_with(|s| {
        s.storage_url = Some(url);
        s.storage_s3_options = options;
        tweak(s);
    })
    .await;
    Office::with(app).await
}

/// `len` bytes that sniff as a PDF and differ from place to place (a part boundary that
/// swapped or lost bytes would show).
pub(crate) fn pdf_of(len: usize) -> Vec<u8> {
    let mut bytes = PDF.to_vec();
    let mut x: u32 = 0x9e37_79b9;
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// The request's documents as the service lists them.
async fn documents(o: &Office, id: &str) -> Vec<serde_json::Value> {
    o.app.get(&format!("/requests/{id}/documents"), &o.budi).await.assert_status(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

async fn download(o: &Office, document_id: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = o
        .app
        .http
        .get(o.app.url(&format!("/documents/{document_id}/content")))
        .bearer_auth(&o.budi)
        .send()
        .await
        .expect("the service answers");
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.bytes().await.expect("a body").to_vec())
}

/// A multipart upload whose file arrives as a stream of unknown length (chunked), the way
/// a browser or agency system sends a big file: the service cannot refuse it up front.
async fn upload_streamed(o: &Office, id: &str, bytes: Vec<u8>) -> reqwest::Result<reqwest::Response> {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(256 * 1024).map(|c| Ok(c.to_vec())).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let form = reqwest::multipart::Form::new()
        .text("kind", "request_letter")
        .part("file", reqwest::multipart::Part::stream(body).file_name("besar.pdf"));
    o.app.http.post(o.app.url(&format!("/requests/{id}/documents"))).bearer_auth(&o.budi).multipart(form).send().await
}

/// Neither an object nor an open multipart upload in the bucket (aborting one may take the
/// service a moment after its answer when the client went away).
async fn assert_bucket_empty(s3: &S3Server, bucket: &str) {
    let started = Instant::now();
    loop {
        let (objects, uploads) = (s3.objects(bucket).await, s3.open_multipart_uploads(bucket).await);
        if objects.is_empty() && uploads.is_empty() {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "objects {objects:?}, open multipart uploads {uploads:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_document_round_trips_through_the_bucket_byte_for_byte() {
    let s3 = S3Server::start();
    let bucket = s3.bucket().await;
    let o = office_on(&s3, &bucket, |_| {}).await;
    let id = o.create(&o.budi).await["id"].as_str().expect("id").to_owned();
    let bytes = pdf_of(300 * 1024);
    let up = o.upload(&o.budi, &id, "request_letter", &bytes, "surat.pdf").await;
    let meta = up.assert_status(201).clone();
    let digest = hex::encode(Sha256::digest(&bytes));
    assert_eq!(meta["sha256"], digest.as_str());
    assert_eq!(meta["size"], bytes.len());

    // One object, under the prefix, named by a generated key (not the file name), of the size.
    let objects = s3.objects(&bucket).await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    let key = objects[0].key.strip_prefix("docs/").expect("under the prefix");
    assert!(jembatan::storage::valid_key(key) && key.len() == 38, "{key}");
    assert_eq!(objects[0].size, bytes.len() as u64);
    assert!(!objects[0].etag.contains('-'), "a small file is one PUT: {}", objects[0].etag);
    assert!(s3.open_multipart_uploads(&bucket).await.is_empty());
    assert!(!o.app.storage_dir.join("tmp").exists(), "nothing went through the local folder");

    let (status, headers, got) = download(&o, meta["id"].as_str().expect("id")).await;
    assert_eq!(status, 200);
    assert!(got == bytes, "the downloaded bytes differ ({} bytes, expected {})", got.len(), bytes.len());
    let b64 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&got));
    assert_eq!(headers["repr-digest"], format!("sha-256=:{b64}:").as_str());
}

#[tokio::test]
async fn a_big_file_goes_out_in_parts_as_it_arrives_and_arrives_intact() {
    let s3 = S3Server::start();
    let bucket = s3.bucket().await;
    let o = office_on(&s3, &bucket, |s| s.upload_limit_bytes = 16 * 1024 * 1024).await;
    let id = o.create(&o.budi).await["id"].as_str().expect("id").to_owned();
    let bytes = pdf_of(12 * 1024 * 1024 + 12_345);
    let r = upload_streamed(&o, &id, bytes.clone()).await.expect("the upload is answered");
    assert_eq!(r.status(), 201);
    let meta: serde_json::Value = r.json().await.expect("json");
    assert_eq!(meta["sha256"], hex::encode(Sha256::digest(&bytes)).as_str());
    assert_eq!(meta["size"], bytes.len());

    // A multipart object's ETag ends in its number of parts: 5 MiB, 5 MiB, the rest.
    let objects = s3.objects(&bucket).await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert!(objects[0].etag.ends_with("-3"), "sent in three parts: ETag {}", objects[0].etag);
    assert_eq!(objects[0].size, bytes.len() as u64);
    assert!(s3.open_multipart_uploads(&bucket).await.is_empty(), "the upload was completed");

    let (status, _, got) = download(&o, meta["id"].as_str().expect("id")).await;
    assert_eq!(status, 200);
    assert!(got == bytes, "the downloaded bytes differ ({} bytes, expected {})", got.len(), bytes.len());
}

#[tokio::test]
async fn refused_failed_and_abandoned_uploads_leave_nothing_in_the_bucket() {
    let s3 = S3Server::start();
    let bucket = s3.bucket().await;
    // 8 MiB per document, 7 MiB per request: a 7.5 MiB file streams past the first part,
    // then is refused by the transaction that would record it.
    let o = office_on(&s3, &bucket, |s| {
        s.upload_limit_bytes = 8 * 1024 * 1024;
        s.max_request_document_bytes = 7 * 1024 * 1024;
    })
    .await;
    let id = o.create(&o.budi).await["id"].as_str().expect("id").to_owned();

    // Too large, found out mid-stream after a part went out.
    let r = upload_streamed(&o, &id, pdf_of(9 * 1024 * 1024)).await.expect("answered");
    assert_eq!(r.status(), 413);
    let detail = r.json::<serde_json::Value>().await.expect("a problem")["detail"].clone();
    assert_eq!(detail, "documents are limited to 8388608 bytes");
    assert_bucket_empty(&s3, &bucket).await;

    // Not a type we take: an executable, 6 MiB (a part went out before the end), and small.
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".to_vec();
    elf.resize(6 * 1024 * 1024, 0x90);
    let r = upload_streamed(&o, &id, elf.clone()).await.expect("answered");
    assert_eq!(r.status(), 415);
    o.upload(&o.budi, &id, "request_letter", &elf[..4096], "surat.pdf").await.assert_problem(415);
    assert_bucket_empty(&s3, &bucket).await;

    // Stored, then the transaction refuses it (the request's byte quota): the object goes.
    let r = upload_streamed(&o, &id, pdf_of(7 * 1024 * 1024 + 512 * 1024)).await.expect("answered");
    assert_eq!(r.status(), 413);
    let detail = r.json::<serde_json::Value>().await.expect("a problem")["detail"].clone();
    assert!(detail.as_str().is_some_and(|d| d.contains("would come to 7864320 bytes")), "{detail}");
    assert_bucket_empty(&s3, &bucket).await;

    // The client goes away after 6 MiB: the open multipart upload is aborted.
    let mut sent = 0;
    let chunks = futures_util::stream::iter((0..40).map(move |_| {
        sent += 1;
        if sent <= 24 { Ok(pdf_of(256 * 1024)) } else { Err(std::io::Error::other("the client gives up")) }
    }));
    let form = reqwest::multipart::Form::new()
        .text("kind", "request_letter")
        .part("file", reqwest::multipart::Part::stream(reqwest::Body::wrap_stream(chunks)).file_name("putus.pdf"));
    let r = o
        .app
        .http
        .post(o.app.url(&format!("/requests/{id}/documents")))
        .bearer_auth(&o.budi)
        .multipart(form)
        .send()
        .await;
    assert!(r.is_err() || r.is_ok_and(|r| r.status() == 400), "the upload did not get through");
    assert_bucket_empty(&s3, &bucket).await;

    assert_eq!(documents(&o, &id).await.len(), 0, "nothing was recorded");
    // And a good one still goes through afterwards.
    o.upload(&o.budi, &id, "request_letter", PDF, "surat.pdf").await.assert_status(201);
    assert_eq!(s3.objects(&bucket).await.len(), 1);
}

/// `jembatan check`'s state for the app's database and bucket.
async fn checker(o: &Office, s3: &S3Server, bucket: &str) -> Application {
    let settings = Settings {
        database_url: o.app.database_url.clone(),
        storage_dir: o.app.storage_dir.clone(),
        storage_url: Some(format!("s3://{bucket}/{PREFIX}")),
        storage_s3_options: s3.options(),
        listen: "127.0.0.1:0".into(),
        jwt_secret: Some(format!("check-secret-{}", uuid::Uuid::new_v4())),
        db_max_connections: 2,
        ..Settings::default()
    };
    Application::build(settings.check(false).expect("settings"), Arc::new(SystemClock)).await.expect("builds")
}

async fn run(app: &Application, repair: bool, min_age: Option<Duration>) -> CheckReport {
    let report = match min_age {
        None => check(&app.state(), repair).await,
        Some(age) => check_with(&app.state(), CheckOptions { orphan_min_age: age, ..CheckOptions::new(repair) }).await,
    }
    .expect("the check runs");
    eprintln!("{report}");
    report
}

#[tokio::test]
async fn check_compares_the_rows_with_the_bucket() {
    let s3 = S3Server::start();
    let bucket = s3.bucket().await;
    let o = office_on(&s3, &bucket, |_| {}).await;
    let id = submitted(&o).await;
    o.attach(&o.kabid, &id, "disposition_sheet").await;
    o.attach(&o.kabid, &id, "other").await;
    let checker = checker(&o, &s3, &bucket).await;
    let report = run(&checker, false, None).await;
    assert!(report.is_clean(), "{report}");
    assert_eq!((report.documents_checked, report.files_stored), (3, 3));

    // Behind the service's back: one document's object deleted, another's replaced by
    // fewer bytes, a stray object of our shape and a foreign one.
    let mut rows = entity::document::Entity::find().all(&checker.state().db).await.expect("rows");
    rows.sort_by_key(|d| d.id);
    s3.delete(&bucket, &format!("{PREFIX}/{}", rows[0].storage_key)).await;
    s3.put(&bucket, &format!("{PREFIX}/{}", rows[1].storage_key), b"%PDF-1.4 cut").await;
    let stray = "ab/cd/0193a1f06c0070008000000000abcdef";
    s3.put(&bucket, &format!("{PREFIX}/{stray}"), b"left by a crash").await;
    s3.put(&bucket, &format!("{PREFIX}/notes.txt"), b"someone else's").await;
    s3.put(&bucket, "outside-the-prefix/x", b"not ours to judge").await;

    // Just written: too young to judge as strays (an upload may be about to commit).
    let report = run(&checker, false, None).await;
    let mut problems: Vec<(String, String)> =
        report.document_problems.iter().map(|p| (p.storage_key.clone(), p.problem.clone())).collect();
    problems.sort();
    let mut expected = vec![
        (rows[0].storage_key.clone(), "no bytes in the store".to_owned()),
        (rows[1].storage_key.clone(), format!("the stored file has 12 bytes, the row says {}", rows[1].size)),
    ];
    expected.sort();
    assert_eq!(problems, expected, "{report}");
    assert!(report.orphans.is_empty(), "{report}");
    let recent: Vec<&str> = report.recent_orphans.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(recent, [stray, "notes.txt"], "{report}");
    assert_eq!(report.files_stored, 4);
    assert_eq!(report.problems(), 2);

    // Old enough (min age 0): reported; repaired, our stray goes, the foreign object stays.
    let report = run(&checker, false, Some(Duration::ZERO)).await;
    assert_eq!(report.orphans.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), [stray, "notes.txt"]);
    assert_eq!(report.problems(), 4, "{report}");
    let report = run(&checker, true, Some(Duration::ZERO)).await;
    let removed: Vec<(&str, bool)> = report.orphans.iter().map(|f| (f.path.as_str(), f.removed)).collect();
    assert_eq!(removed, [(stray, true), ("notes.txt", false)], "{report}");
    assert_eq!(report.repair_failures.len(), 1, "{report}");
    assert_eq!(report.problems(), 3, "two rows and the foreign object remain: {report}");
    let mut keys: Vec<String> = s3.objects(&bucket).await.into_iter().map(|o| o.key).collect();
    keys.sort();
    let mut expected = vec![
        format!("{PREFIX}/{}", rows[1].storage_key),
        format!("{PREFIX}/{}", rows[2].storage_key),
        format!("{PREFIX}/notes.txt"),
        "outside-the-prefix/x".to_owned(),
    ];
    expected.sort();
    assert_eq!(keys, expected, "only the stray object was removed");
}

#[tokio::test]
async fn a_dossier_carries_the_documents_kept_in_the_bucket() {
    let s3 = S3Server::start();
    let bucket = s3.bucket().await;
    let o = office_on(&s3, &bucket, |_| {}).await;
    let id = submitted(&o).await;
    let bytes = pdf_of(200 * 1024);
    let up = o.upload(&o.kabid, &id, "disposition_sheet", &bytes, "disposisi.pdf").await;
    let doc = up.assert_status(201)["id"].as_str().expect("id").to_owned();
    crate::evidence::settled(&o).await;
    let r = o
        .app
        .http
        .get(o.app.url(&format!("/requests/{id}/dossier")))
        .bearer_auth(&o.auditor)
        .send()
        .await
        .expect("the service answers");
    assert_eq!(r.status(), 200);
    let tar = r.bytes().await.expect("a body");
    let dir = std::env::temp_dir().join(format!("jembatan-s3-dossier-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("dossier.tar"), &tar).expect("write");
    let files = bundle::read(&dir.join("dossier.tar")).expect("a bundle");
    std::fs::remove_dir_all(&dir).ok();
    let key = o.app.call(reqwest::Method::GET, "/audit/public-key", None, None).await;
    let keys = jembatan::tlog::bundle::parse_keys(&key.text).expect("keys");
    let report = jembatan::tlog::bundle::verify(&files, &keys, &[]);
    assert!(report.intact(), "{report}");
    assert_eq!(report.documents, 2, "{report}");
    let carried = &files[&format!("{}{doc}", jembatan::tlog::bundle::DOCUMENTS_DIR)];
    assert!(*carried == bytes, "the bundle's copy differs ({} bytes)", carried.len());
}

#[tokio::test]
async fn a_dead_bucket_is_a_503_that_records_nothing() {
    let s3 = S3Server::start();
    let bucket = s3.bucket().await;
    let o = office_on(&s3, &bucket, |_| {}).await;
    let id = o.create(&o.budi).await["id"].as_str().expect("id").to_owned();
    let kept = o.upload(&o.budi, &id, "request_letter", PDF, "a.pdf").await;
    let kept = kept.assert_status(201)["id"].as_str().expect("id").to_owned();
    drop(s3);

    let started = Instant::now();
    let r = o.upload(&o.budi, &id, "request_letter", &pdf_of(64 * 1024), "b.pdf").await;
    let problem = r.assert_problem(503).clone();
    assert_eq!(problem["type"], "urn:jembatan:problem:upstream-unavailable");
    assert_eq!(problem["detail"], "the document store is not reachable; retry shortly");
    assert!(r.header("retry-after").is_some());
    // Streamed past the first part, then the multipart upload cannot begin.
    let r = upload_streamed(&o, &id, pdf_of(6 * 1024 * 1024)).await.expect("answered");
    assert_eq!(r.status(), 503);
    let (status, _, body) = download(&o, &kept).await;
    assert_eq!(status, 503);
    let body = String::from_utf8_lossy(&body);
    for secret in ["jembatan-test-secret", "jembatan-test", "127.0.0.1", &bucket] {
        assert!(!body.contains(secret), "the problem names {secret}: {body}");
    }
    assert!(started.elapsed() < Duration::from_secs(15), "bounded retries: {:?}", started.elapsed());
    let docs = documents(&o, &id).await;
    assert_eq!(docs.len(), 1, "nothing was recorded: {docs:?}");
}
