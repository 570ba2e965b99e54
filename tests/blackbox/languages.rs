//! Languages: `Accept-Language` picks Indonesian (the default) or English for problem
//! titles and details and for labels; `Content-Language` says which, with
//! `Vary: Accept-Language`. The shared client sends `Accept-Language: en`; these tests set
//! the header themselves (or use a client without it).

use jembatan_tests::{Resp, TestApp};
use serde_json::json;

use crate::flows::{Office, submitted};

/// GET `path` with `token` and this `Accept-Language` (None: no header at all).
async fn get_in(app: &TestApp, path: &str, token: Option<&str>, lang: Option<&str>) -> Resp {
    let bare = reqwest::Client::new();
    let mut req = bare.get(app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(l) = lang {
        req = req.header("accept-language", l);
    }
    app.send(req).await
}

#[track_caller]
fn assert_spoken(r: &Resp, lang: &str) {
    assert_eq!(r.header("content-language"), Some(lang), "{}", r.text);
    let vary: Vec<&str> = r.headers.get_all("vary").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(vary.iter().any(|v| v.contains("Accept-Language")), "Vary: {vary:?}");
}

#[tokio::test]
async fn problems_are_indonesian_by_default_and_english_on_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let missing = format!("/requests/{}", uuid::Uuid::now_v7());

    let en = get_in(&app, &missing, Some(&admin), Some("en")).await;
    let body = en.assert_problem(404);
    assert_eq!((body["title"].as_str(), body["detail"].as_str()), (Some("Not found"), Some("request not found")));
    assert_spoken(&en, "en");

    // No header, `id`, `id-ID`, a language we do not have, `*`: Indonesian.
    for lang in [None, Some("id"), Some("id-ID"), Some("fr-FR"), Some("*"), Some("xx;q=oops")] {
        let id = get_in(&app, &missing, Some(&admin), lang).await;
        let body = id.assert_problem(404);
        assert_eq!(body["title"], "Tidak ditemukan", "{lang:?}");
        assert_eq!(body["detail"], "permohonan tidak ditemukan", "{lang:?}");
        assert_eq!(body["type"], en.body["type"], "the type URN never changes");
        assert_spoken(&id, "id");
    }
}

#[tokio::test]
async fn q_values_choose_the_language() {
    let app = TestApp::spawn().await;
    for (header, want, title) in [
        ("id;q=0.3, en-US;q=0.8", "en", "Authentication required"),
        ("en-GB, en;q=0.9", "en", "Authentication required"),
        ("de-DE, de;q=0.9, en;q=0.5", "en", "Authentication required"),
        ("en;q=0.2, id-ID", "id", "Autentikasi diperlukan"),
        ("en;q=0", "id", "Autentikasi diperlukan"),
        ("id;q=0, *", "en", "Authentication required"),
    ] {
        let r = get_in(&app, "/auth/me", None, Some(header)).await;
        assert_eq!(r.assert_problem(401)["title"], title, "{header}");
        assert_spoken(&r, want);
    }
}

#[tokio::test]
async fn validation_messages_follow_the_language() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = get_in(&app, "/organizations?limit=101", Some(&admin), Some("id")).await;
    let body = id.assert_problem(422);
    assert_eq!(body["title"], "Parameter permintaan Anda tidak valid");
    assert_eq!(body["errors"], json!({"limit": ["harus antara 1 dan 100"]}));
    assert_eq!(body["detail"], "limit: harus antara 1 dan 100");
    let en = get_in(&app, "/organizations?limit=101", Some(&admin), Some("en")).await;
    assert_eq!(en.assert_problem(422)["errors"], json!({"limit": ["must be between 1 and 100"]}));

    // A body: every field's message, in Indonesian.
    let r = app
        .send(
            app.http
                .post(app.url("/organizations"))
                .bearer_auth(&admin)
                .header("accept-language", "id")
                .json(&json!({"code": "x", "name": " ", "kind": "agency"})),
        )
        .await;
    let body = r.assert_problem(422);
    assert_eq!(body["errors"]["code"], json!(["harus 2–32 huruf kapital, angka, `-` atau `_`"]));
    assert_eq!(body["errors"]["name"], json!(["tidak boleh kosong"]));
    assert_spoken(&r, "id");
}

#[tokio::test]
async fn errors_actix_makes_and_sign_in_refusals_are_translated() {
    let app = TestApp::spawn().await;
    // A method the path does not support (the default service) and an unreadable body.
    let bare = reqwest::Client::new();
    let r = app.send(bare.delete(app.url("/organizations")).header("accept-language", "id")).await;
    assert_eq!(r.assert_problem(405)["title"], "Metode tidak diizinkan");
    assert_spoken(&r, "id");
    let r = app
        .send(
            bare.post(app.url("/auth/login"))
                .header("accept-language", "id")
                .header("content-type", "application/json")
                .body("{\"username\": "),
        )
        .await;
    assert!(r.assert_problem(400)["detail"].as_str().unwrap().starts_with("JSON tidak sah"), "{}", r.text);
    // A wrong password.
    let r = app
        .send(
            bare.post(app.url("/auth/login"))
                .header("accept-language", "id-ID,id;q=0.9")
                .json(&json!({"username": "nobody", "password": "wrong wrong wrong"})),
        )
        .await;
    assert_eq!(r.assert_problem(401)["detail"], "nama pengguna atau kata sandi salah");
}

#[tokio::test]
async fn workflow_refusals_and_labels_follow_the_language() {
    let o = Office::new().await;
    let id = submitted(&o).await;
    // The applicant tries the head of division's step.
    let refuse = |lang: &'static str| {
        o.app.send(
            o.app
                .http
                .post(o.app.url(&format!("/requests/{id}/follow-up")))
                .bearer_auth(&o.budi)
                .header("accept-language", lang),
        )
    };
    let id_refusal = refuse("id").await;
    let detail = id_refusal.assert_problem(403)["detail"].as_str().unwrap().to_owned();
    assert!(detail.starts_with("tidak diizinkan pada langkah"), "{detail}");
    assert_eq!(id_refusal.body["title"], "Tidak diizinkan");
    let en_refusal = refuse("en").await;
    assert!(en_refusal.assert_problem(403)["detail"].as_str().unwrap().starts_with("not allowed at step"));

    // Labels: the SOP's wording in Indonesian, the definition's label in English.
    let path = format!("/requests/{id}");
    let r = get_in(&o.app, &path, Some(&o.budi), None).await;
    let view = r.assert_status(200);
    assert_eq!(view["status_label"], "Sedang diproses");
    assert_eq!(view["current_step"]["label"], "Menelaah surat Permohonan dan Disposisi petunjuk");
    assert_eq!(view["current_step"]["code"], "disposition", "codes never change");
    assert_spoken(&r, "id");
    let r = get_in(&o.app, &path, Some(&o.budi), Some("en")).await;
    assert_eq!(r.body["status_label"], "In progress");
    assert_eq!(r.body["current_step"]["label"], "Review the letter and issue a disposition");
    assert_spoken(&r, "en");
    // The timeline's steps and the worklist too.
    let t = get_in(&o.app, &format!("{path}/timeline"), Some(&o.budi), Some("id")).await;
    assert_eq!(t.assert_status(200)["steps"][0]["label"], "Mengajukan permohonan Integrasi SI");
    assert_eq!(t.body["request"]["status_label"], "Sedang diproses");
    let tasks = get_in(&o.app, "/tasks", Some(&o.kabid), Some("en")).await;
    assert_eq!(tasks.assert_status(200)["items"][0]["status_label"], "In progress");
    assert_spoken(&tasks, "en");

    // Notices are written in Indonesian, and say so whatever was asked.
    let notices = get_in(&o.app, "/notifications", Some(&o.kabid), Some("en")).await;
    let first = &notices.assert_status(200)["items"][0];
    assert!(first["title"].as_str().unwrap().starts_with("Tugas baru: INT/"), "{first}");
    assert_eq!(notices.header("content-language"), Some("id"));

    // The SLA report's step labels too.
    let has = |r: &Resp, label: &str| r.body["rows"].as_array().unwrap().iter().any(|row| row["label"] == label);
    let id_report = get_in(&o.app, "/reports/sla", Some(&o.admin), Some("id")).await;
    id_report.assert_status(200);
    assert!(has(&id_report, "Mengajukan permohonan Integrasi SI"), "{}", id_report.text);
    assert_spoken(&id_report, "id");
    let en_report = get_in(&o.app, "/reports/sla", Some(&o.admin), Some("en")).await;
    assert!(has(&en_report, "Submit the integration request"), "{}", en_report.text);

    // A response without language-dependent text says nothing about language.
    let orgs = get_in(&o.app, "/organizations", Some(&o.admin), Some("en")).await;
    orgs.assert_status(200);
    assert_eq!(orgs.header("content-language"), None);
}
