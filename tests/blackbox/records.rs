//! Issue 13, item 6: printable records. Each PDF's text, extracted with `pdftotext` (Debian's
//! poppler-utils, which `scripts/test` installs), is compared with the request: the
//! registration number, the letter, the addressees and instructions, every step, every
//! document's SHA-256, and a verification code that is the log index and leaf hash of a
//! real event of the request.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::authz::complete;
use crate::evidence::settled;
use crate::flows::Office;

/// The PDF (status 200) or the status.
async fn record(o: &Office, token: &str, id: &str, kind: &str) -> Result<Vec<u8>, u16> {
    let r = o
        .app
        .http
        .get(o.app.url(&format!("/requests/{id}/records/{kind}.pdf")))
        .bearer_auth(token)
        .send()
        .await
        .expect("the service answers");
    if r.status() != 200 {
        return Err(r.status().as_u16());
    }
    assert_eq!(r.headers()["content-type"], "application/pdf");
    Ok(r.bytes().await.unwrap().to_vec())
}

/// The PDF's text, as `pdftotext` reads it.
fn text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"));
    let mut child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pdftotext (Debian's poppler-utils; scripts/test installs it)");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

/// Without spaces and line breaks: hashes and addresses wrap across lines.
fn joined(text: &str) -> String {
    text.split_whitespace().collect()
}

/// The verification code printed on a record is that of an event of the request's timeline,
/// whose inclusion proof the printed address serves.
async fn check_code(o: &Office, id: &str, printed: &str, action: Option<&str>) {
    let flat = joined(printed);
    let code = flat.split("Kodeverifikasi:").nth(1).expect("a verification code");
    let (index, rest) = code.split_once('-').unwrap();
    let leaf = &rest[..64];
    let event = flat.split("/audit/events/").nth(1).expect("the address")[..36].to_owned();
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await;
    let e = t.body["events"].as_array().unwrap().iter().find(|e| e["event_id"] == event.as_str()).expect("an event");
    assert_eq!(e["leaf_index"].to_string(), index);
    assert_eq!(e["leaf_hash"], leaf);
    if let Some(a) = action {
        assert_eq!(e["action"], a);
    }
    let proof = o.app.get(&format!("/audit/events/{event}/proof"), &o.auditor).await;
    assert_eq!(proof.assert_status(200)["leaf_hash"], leaf);
}

/// Every record carries a detached signature by the audit log's key over its SHA-256.
async fn check_local_signature(o: &Office, id: &str, pdf: &[u8]) {
    use base64::Engine;
    use sha2::Digest;
    let r = o.app.http.get(o.app.url(&format!("/requests/{id}/records/receipt.pdf"))).bearer_auth(&o.budi).send().await;
    let r = r.unwrap();
    let header = r.headers()["jembatan-record-signature"].to_str().unwrap().to_owned();
    let body = r.bytes().await.unwrap();
    let note = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(header).unwrap()).unwrap();
    let key = o.app.call(reqwest::Method::GET, "/audit/public-key", None, None).await;
    let (name, public) = jembatan::tlog::note::parse_verifier_key(key.text.lines().next().unwrap()).unwrap();
    let text = jembatan::tlog::note::open(&note, &name, &public).expect("signed by the log's key");
    assert_eq!(text, format!("jembatan-record/1\nsha256 {}\n", hex::encode(sha2::Sha256::digest(&body))));
    assert!(pdf.starts_with(b"%PDF-"));
}

fn documents(o: &Value) -> Vec<(String, String)> {
    o["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["filename"].as_str().unwrap().to_owned(), d["sha256"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_receipt_disposition_sheet_dossier_and_report_cover_say_what_happened() {
    let o = Office::new().await;
    let r = o.create(&o.budi).await;
    let id = r["id"].as_str().unwrap().to_owned();
    o.attach(&o.budi, &id, "request_letter").await;
    // A draft has no receipt, and nobody else gets anything.
    assert_eq!(record(&o, &o.budi, &id, "receipt").await.unwrap_err(), 409);
    o.act(&o.budi, &id, "submit", json!({})).await.assert_status(200);
    settled(&o).await;
    let view = o.get(&o.budi, &id).await;
    let number = view["number"].as_str().unwrap().to_owned();

    let receipt_pdf = record(&o, &o.budi, &id, "receipt").await.unwrap();
    check_local_signature(&o, &id, &receipt_pdf).await;
    let receipt = text(&receipt_pdf);
    for expected in ["TANDA TERIMA", &number, r["title"].as_str().unwrap(), "DINKES", "request_letter.pdf"] {
        assert!(receipt.contains(expected), "{expected} not in:\n{receipt}");
    }
    let docs = documents(&o.app.get(&format!("/requests/{id}/documents"), &o.budi).await.body);
    assert!(joined(&receipt).contains(&docs[0].1), "the letter's SHA-256");
    check_code(&o, &id, &receipt, Some("request.submitted")).await;
    assert_eq!(record(&o, &o.budi, &id, "disposition-sheet").await.unwrap_err(), 409);

    // The disposition, to a person, with two instructions and a note.
    let disposition = json!({"instructions": ["tindak_lanjuti", "koordinasikan"], "to_user_ids": [o.kasi_id],
        "note": "Mohon segera ditelaah bersama tim"});
    o.act(&o.kabid, &id, "disposition", disposition).await.assert_status(200);
    settled(&o).await;
    let sheet = text(&record(&o, &o.kabid, &id, "disposition-sheet").await.unwrap());
    let letter = view["letter_number"].as_str().unwrap();
    for expected in ["LEMBAR DISPOSISI", letter, &number, "Tindak lanjuti", "Koordinasikan", "kasi", "kabid"] {
        assert!(sheet.contains(expected), "{expected} not in:\n{sheet}");
    }
    assert!(joined(&sheet).contains("Mohonsegeraditelaahbersamatim"));
    check_code(&o, &id, &sheet, Some("request.step_completed")).await;

    // The rest of the flow, with an internal note on the discussion.
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_status(200);
    o.attach(&o.kasi, &id, "formulation").await;
    o.act(&o.kasi, &id, "discussion", json!({"note": "Catatan internal rapat", "note_visibility": "internal"}))
        .await
        .assert_status(200);
    assert_eq!(record(&o, &o.budi, &id, "final-report-cover").await.unwrap_err(), 409);
    o.act(&o.kadis, &id, "approval", json!({})).await.assert_status(200);
    o.attach(&o.kabid, &id, "api_document").await;
    o.act(&o.kabid, &id, "team", json!({"lead_user_id": o.andi_id, "member_user_ids": []})).await.assert_status(200);
    complete(&o, &id).await;
    settled(&o).await;

    // The dossier: every step (in the SOP's words), who finished it, and every document.
    let dossier = text(&record(&o, &o.auditor, &id, "dossier").await.unwrap());
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await;
    let steps = t.body["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 10);
    for (n, _) in steps.iter().enumerate() {
        assert!(dossier.contains(&format!("{}. ", n + 1)), "step {n}");
    }
    let flat = joined(&dossier);
    for (filename, sha) in documents(&o.app.get(&format!("/requests/{id}/documents"), &o.auditor).await.body) {
        assert!(flat.contains(&joined(&filename)) && flat.contains(&sha), "{filename} {sha}");
    }
    for expected in ["Kepala Dinas", "Standar waktu", "jam", "menit kerja", "andi", "Catatan internal rapat"] {
        assert!(dossier.contains(expected), "{expected} not in the dossier");
    }
    check_code(&o, &id, &dossier, None).await;
    // The applicant's copy has no internal note.
    let theirs = text(&record(&o, &o.budi, &id, "dossier").await.unwrap());
    assert!(!theirs.contains("Catatan internal rapat") && theirs.contains(&number));

    let cover = text(&record(&o, &o.budi, &id, "final-report-cover").await.unwrap());
    for expected in ["LAPORAN AKHIR", r["title"].as_str().unwrap(), "api.trenggalekkab.go.id", "final_report.pdf"] {
        assert!(cover.contains(expected), "{expected} not in:\n{cover}");
    }
    check_code(&o, &id, &cover, Some("request.completed")).await;

    // Another agency sees nothing.
    assert_eq!(record(&o, &o.rina, &id, "dossier").await.unwrap_err(), 404);
    // An unknown record is a bad path (as a malformed id is).
    assert_eq!(record(&o, &o.budi, &id, "letter").await.unwrap_err(), 400);
}

/// A stand-in for BSrE on loopback: checks the client's credentials and the request's
/// shape, signs (appends a marker) for the right passphrase, refuses otherwise.
async fn bsre_stub() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use base64::Engine;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = Default::default();
    let log = seen.clone();
    tokio::spawn(async move {
        let b64 = base64::engine::general_purpose::STANDARD;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            let (head, body) = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    while buf.len() < end + 4 + len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    break (head, buf[end + 4..].to_vec());
                }
            };
            let auth = format!("authorization: basic {}", b64.encode("jembatan-client:s3cret")).to_lowercase();
            let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            log.lock().unwrap().push(json!({"path": head.lines().next().unwrap_or_default(), "authorized": head.contains(&auth),
                "nik": req["nik"], "props": req["signatureProperties"], "files": req["file"].as_array().map(|f| f.len())}));
            let (status, answer) = if !head.starts_with("post /api/v2/sign/pdf ") || !head.contains(&auth) {
                ("401 Unauthorized", json!({"error": "client unauthorized"}))
            } else if req["nik"] == "3503010101800001" && req["passphrase"] == "benar" {
                let mut pdf = b64.decode(req["file"][0].as_str().unwrap_or_default()).unwrap_or_default();
                pdf.extend_from_slice(b"\n%BSrE-stub PAdES signature for 3503010101800001\n");
                ("200 OK", json!({"file": [b64.encode(&pdf)]}))
            } else {
                ("400 Bad Request", json!({"status_code": 2031, "error": "Passphrase anda salah"}))
            };
            let answer = answer.to_string();
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    (url, seen)
}

async fn sign(o: &Office, token: &str, id: &str, body: Value) -> (u16, Vec<u8>) {
    let r = o
        .app
        .http
        .post(o.app.url(&format!("/requests/{id}/records/receipt/signature")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn an_official_signs_a_record_through_bsre_and_the_trail_keeps_no_secret() {
    let (url, seen) = bsre_stub().await;
    let app = jembatan_tests::TestApp::spawn_with(|s| {
        s.bsre_url = Some(url);
        s.bsre_client_id = Some("jembatan-client".into());
        s.bsre_client_secret = Some("s3cret".into());
    })
    .await;
    let o = Office::with(app).await;
    let id = crate::flows::submitted(&o).await;
    settled(&o).await;
    let right = json!({"nik": "3503010101800001", "passphrase": "benar"});
    // Only the office's officials sign; the applicant and the auditor do not.
    assert_eq!(sign(&o, &o.budi, &id, right.clone()).await.0, 403);
    assert_eq!(sign(&o, &o.auditor, &id, right.clone()).await.0, 403);
    assert_eq!(sign(&o, &o.kabid, &id, json!({"nik": "12", "passphrase": "benar"})).await.0, 422);
    assert!(seen.lock().unwrap().is_empty(), "nothing reached BSrE");
    // BSrE refuses a wrong passphrase: its reason reaches the official.
    let (status, body) = sign(&o, &o.kabid, &id, json!({"nik": "3503010101800001", "passphrase": "salah"})).await;
    assert_eq!(status, 422);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["errors"]["passphrase"][0], "Passphrase anda salah", "{problem}");
    // The right one: the signed PDF comes back.
    let (status, signed) = sign(&o, &o.kabid, &id, right).await;
    assert_eq!(status, 200);
    assert!(signed.starts_with(b"%PDF-") && signed.ends_with(b"PAdES signature for 3503010101800001\n"));
    assert!(text(&signed).contains("TANDA TERIMA"));
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    for c in &calls {
        assert_eq!(c["authorized"], true);
        assert_eq!(c["files"], 1);
        assert_eq!(c["props"][0]["tampilan"], "INVISIBLE");
        assert!(c["props"][0]["reason"].as_str().unwrap().contains("TANDA TERIMA"));
    }
    // The trail says who signed which record, and the digests; never the NIK or passphrase.
    let t = o.app.get(&format!("/requests/{id}/timeline"), &o.auditor).await;
    let events = t.body["events"].as_array().unwrap();
    let signed_event = events.iter().find(|e| e["action"] == "request.record_signed").expect("recorded");
    use sha2::Digest;
    assert_eq!(signed_event["details"]["signed_sha256"], hex::encode(sha2::Sha256::digest(&signed)));
    assert_eq!(signed_event["actor"]["username"], "kabid");
    assert_eq!(events.iter().filter(|e| e["action"] == "request.record_signed").count(), 1);
    let all = t.text.clone();
    assert!(!all.contains("3503010101800001") && !all.contains("benar"));
}

#[tokio::test]
async fn without_bsre_signing_is_not_enabled() {
    let o = Office::new().await;
    let id = crate::flows::submitted(&o).await;
    settled(&o).await;
    let (status, body) = sign(&o, &o.kabid, &id, json!({"nik": "3503010101800001", "passphrase": "benar"})).await;
    assert_eq!(status, 501);
    assert!(String::from_utf8_lossy(&body).contains("JEMBATAN_BSRE_URL"));
}
