//! What an outside security review broke (issue 10), one test per finding, so none of it
//! comes back. Each of these failed on the code before the fix.

use jembatan_tests::{ADMIN_PASSWORD, ADMIN_USERNAME, PASSWORD, Resp, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Office, PDF};

/// The secret every `serve --demo` used to sign with; it is in the published source.
const OLD_PUBLIC_DEMO_SECRET: &str = "jembatan-demo-secret-do-not-use-in-production";

/// A token as the service would sign it with `secret`: type, key id, claims.
fn forge(secret: &str, typ: &str, sub: &Value, org: &Value, roles: &[&str]) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": "jembatan", "aud": "jembatan-api", "sub": sub, "exp": now + 600, "nbf": now - 5,
        "iat": now - 5, "jti": uuid::Uuid::new_v4().to_string(), "roles": roles, "org": org, "kind": "user"});
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some(typ.into());
    header.kid = Some(jembatan::auth::jwt::kid_of(secret));
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// Item 1: a demo server does not accept tokens signed with the once-public constant, even
/// for its real admin: it signs with a secret of its own run.
#[tokio::test]
async fn demo_mode_does_not_accept_tokens_signed_with_the_published_secret() {
    let app = TestApp::spawn_checked(true, |_| {}).await;
    let admin = app.admin_token().await;
    let me = app.get("/auth/me", &admin).await.body;
    let forged = forge(OLD_PUBLIC_DEMO_SECRET, "at+jwt", &me["id"], &me["organization_id"], &["admin"]);
    app.get("/users", &forged).await.assert_problem(401);
    app.post("/organizations", &forged, json!({"code": "EVIL", "name": "x", "kind": "agency"}))
        .await
        .assert_problem(401);
    app.get("/users", &admin).await.assert_status(200);
}

/// Item 1 and 5: roles in a validly signed token are not trusted for a subject that is
/// no active user: the server looks the subject up.
#[tokio::test]
async fn a_signed_token_for_a_subject_that_is_no_user_is_refused() {
    let secret = format!("a-known-test-secret-{}", uuid::Uuid::new_v4());
    let s = secret.clone();
    let app = TestApp::spawn_with(move |c| c.jwt_secret = Some(s)).await;
    let admin = app.admin_token().await;
    let me = app.get("/auth/me", &admin).await.body;
    // Right key, type and key id: the forgery is accepted for the real admin ...
    let real = forge(&secret, "at+jwt", &me["id"], &me["organization_id"], &["admin"]);
    app.get("/users", &real).await.assert_status(200);
    // ... so only the subject differs here.
    let nobody = forge(&secret, "at+jwt", &json!(uuid::Uuid::new_v4()), &me["organization_id"], &["admin"]);
    app.get("/users", &nobody).await.assert_problem(401);
    app.post(
        "/users",
        &nobody,
        json!({"username": "mallory", "full_name": "m", "password": PASSWORD, "organization_id": me["organization_id"], "roles": ["admin"]}),
    )
    .await
    .assert_problem(401);
}

/// Item 14: an access token must say it is one (`typ: at+jwt`, RFC 9068), or it is refused,
/// even when everything else about it is right.
#[tokio::test]
async fn a_token_without_the_access_token_type_is_refused() {
    let secret = format!("a-known-test-secret-{}", uuid::Uuid::new_v4());
    let s = secret.clone();
    let app = TestApp::spawn_with(move |c| c.jwt_secret = Some(s)).await;
    let admin = app.admin_token().await;
    let me = app.get("/auth/me", &admin).await.body;
    let plain = forge(&secret, "JWT", &me["id"], &me["organization_id"], &["admin"]);
    app.get("/auth/me", &plain).await.assert_problem(401);
    // Ours carry the type and a key id.
    let header = jsonwebtoken::decode_header(&admin).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert!(header.kid.is_some_and(|k| !k.is_empty()));
}

/// Item 2: a burst of parallel wrong guesses cannot get past the lockout by racing it.
#[tokio::test]
async fn a_parallel_burst_of_wrong_passwords_gets_at_most_the_limit_of_tries() {
    let app = TestApp::spawn().await;
    let tries =
        (0..30).map(|i| app.login(ADMIN_USERNAME, if i % 2 == 0 { "wrong wrong wrong" } else { "still not it!" }));
    let answers: Vec<Resp> = futures_util::future::join_all(tries).await;
    let unauthorized = answers.iter().filter(|r| r.status == 401).count();
    let throttled: Vec<&Resp> = answers.iter().filter(|r| r.status == 429).collect();
    assert!(unauthorized <= 5, "{unauthorized} guesses were verified; the limit is 5");
    assert_eq!(unauthorized + throttled.len(), 30, "every answer is 401 or 429");
    for r in throttled {
        r.assert_problem(429);
        assert!(r.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)));
    }
    // Still locked for the right password too.
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await.assert_problem(429);
}

async fn count_rows_containing(app: &TestApp, needle: &str) -> usize {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(&app.database_url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT body, fingerprint FROM idempotency_keys",
        ))
        .await
        .unwrap();
    let n = rows
        .iter()
        .filter(|r| r.try_get::<Option<String>>("", "body").unwrap().unwrap_or_default().contains(needle))
        .count();
    db.close().await.ok();
    n
}

/// Item 3: a response that carries a secret is never kept for replay, and an
/// Idempotency-Key on such an operation is refused before anything is created.
#[tokio::test]
async fn secrets_are_never_kept_in_the_idempotency_store() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let keyed = |key: &str, path: &str, body: Value| {
        app.send(app.http.post(app.url(path)).bearer_auth(&admin).header("Idempotency-Key", key).json(&body))
    };
    let r = keyed("client-1", "/api-clients", json!({"name": "SIMPUS", "organization_id": org["id"]})).await;
    let p = r.assert_problem(422);
    assert!(p["detail"].as_str().unwrap().contains("Idempotency-Key"), "{p}");
    assert_eq!(app.get("/api-clients", &admin).await.body["items"], json!([]), "nothing was created");
    // Without the key it works, and rotating with a key is refused the same way.
    let c = app.post("/api-clients", &admin, json!({"name": "SIMPUS", "organization_id": org["id"]})).await;
    let c = c.assert_status(201).clone();
    let rotate = format!("/api-clients/{}/rotate", c["id"].as_str().unwrap());
    keyed("rotate-1", &rotate, json!({})).await.assert_problem(422);
    assert_eq!(count_rows_containing(&app, "jbs_").await, 0, "no client secret in idempotency_keys");
}

/// Item 3: a refresh token replayed with the same Idempotency-Key is a reuse, not a replay.
#[tokio::test]
async fn a_refresh_replayed_with_an_idempotency_key_still_revokes_the_family() {
    let app = TestApp::spawn().await;
    let first = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await.body;
    let access = first["access_token"].as_str().unwrap();
    let rt = first["refresh_token"].as_str().unwrap();
    let refresh = || {
        app.send(
            app.http
                .post(app.url("/auth/refresh"))
                .bearer_auth(access)
                .header("Idempotency-Key", "refresh-1")
                .json(&json!({"refresh_token": rt})),
        )
    };
    let a = refresh().await;
    let next = a.assert_status(200)["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(a.header("cache-control"), Some("no-store"));
    refresh().await.assert_problem(401);
    // The stolen-token family is gone: the successor is dead too.
    app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": next}))).await.assert_problem(401);
    assert_eq!(count_rows_containing(&app, "jbr_").await, 0, "no refresh token in idempotency_keys");
}

/// Item 3: the stored fingerprint is keyed (HMAC), not a plain hash anyone holding the
/// table could test guesses of a body against.
#[tokio::test]
async fn the_idempotency_fingerprint_is_not_a_plain_hash_of_the_request() {
    use sha2::{Digest, Sha256};
    let o = Office::new().await;
    let body = json!({"title": "Integrasi A", "purpose": "p", "source_system": "a", "target_system": "b",
        "data_exchanged": "d", "letter_number": "1", "letter_date": "2026-01-05"});
    let bytes = serde_json::to_vec(&body).unwrap();
    let r = o
        .app
        .send(
            o.app
                .http
                .post(o.app.url("/requests"))
                .bearer_auth(&o.budi)
                .header("Idempotency-Key", "k-1")
                .header("content-type", "application/json")
                .body(bytes.clone()),
        )
        .await;
    r.assert_status(201);
    let mut h = Sha256::new();
    h.update(b"POST /api/v1/requests\n");
    h.update(&bytes);
    let plain = hex::encode(h.finalize());
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(&o.app.database_url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), "SELECT fingerprint FROM idempotency_keys"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].try_get("", "fingerprint").unwrap();
    assert_ne!(stored, plain);
    db.close().await.ok();
}

/// Item 4: returned at `discussion`, the applicant cannot supply the office's formulation,
/// and the technical lead cannot complete the step without uploading it himself.
#[tokio::test]
async fn an_applicant_cannot_supply_the_documents_the_office_must_produce() {
    let o = Office::new().await;
    let id = o.create(&o.budi).await["id"].as_str().unwrap().to_owned();
    o.attach(&o.budi, &id, "request_letter").await;
    o.act(&o.budi, &id, "submit", json!({})).await.assert_status(200);
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"], "to_user_id": o.kasi_id}))
        .await
        .assert_status(200);
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_status(200);
    o.act(&o.kasi, &id, "return", json!({"reason": "Lengkapi dokumen aplikasi"})).await.assert_status(200);
    assert_eq!(o.get(&o.budi, &id).await["status"], "returned");
    let up = o.upload(&o.budi, &id, "formulation", PDF, "rumusan.pdf").await;
    let p = up.assert_problem(403);
    assert!(p["detail"].as_str().unwrap().contains("formulation"), "{p}");
    // What the applicant may revise is accepted.
    o.upload(&o.budi, &id, "application_document", PDF, "aplikasi.pdf").await.assert_status(201);
    o.act(&o.budi, &id, "resubmit", json!({})).await.assert_status(200);
    let r = o.act(&o.kasi, &id, "discussion", json!({})).await;
    assert!(r.assert_problem(422)["errors"]["documents"].to_string().contains("formulation"));
    // An office party may upload only the kinds of its step.
    o.upload(&o.kasi, &id, "request_letter", PDF, "x.pdf").await.assert_problem(403);
    o.attach(&o.kasi, &id, "formulation").await;
    o.act(&o.kasi, &id, "discussion", json!({})).await.assert_status(200);
}

/// Item 5: deactivation, logout, password change and role change take effect at once, not
/// when the access token expires.
#[tokio::test]
async fn revocation_does_not_wait_for_the_access_token_to_expire() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let office = app.get("/auth/me", &admin).await.body["organization_id"].clone();

    // Deactivation.
    let (u, token) = app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    app.get("/requests", &token).await.assert_status(200);
    app.post(&format!("/users/{}/deactivate", u["id"].as_str().unwrap()), &admin, json!({})).await.assert_status(200);
    app.get("/requests", &token).await.assert_problem(401);
    app.get("/auth/me", &token).await.assert_problem(401);

    // Logout.
    let (_, _) = app.user(&admin, "siti", &org["id"], &["applicant"]).await;
    let s = app.login("siti", PASSWORD).await.body;
    let access = s["access_token"].as_str().unwrap();
    app.get("/requests", access).await.assert_status(200);
    app.call(Method::POST, "/auth/logout", None, Some(json!({"refresh_token": s["refresh_token"]})))
        .await
        .assert_status(204);
    app.get("/requests", access).await.assert_problem(401);

    // Password change: this session stays, the others end.
    let (_, _) = app.user(&admin, "rina", &org["id"], &["applicant"]).await;
    let here = app.login("rina", PASSWORD).await.body["access_token"].as_str().unwrap().to_owned();
    let elsewhere = app.login("rina", PASSWORD).await.body["access_token"].as_str().unwrap().to_owned();
    app.post(
        "/auth/password",
        &here,
        json!({"current_password": PASSWORD, "new_password": "jembatan gantung di Trenggalek"}),
    )
    .await
    .assert_status(204);
    app.get("/requests", &here).await.assert_status(200);
    app.get("/requests", &elsewhere).await.assert_problem(401);

    // Role change: a demoted admin's sessions end, with the token in hand.
    let (boss, boss_token) = app.user(&admin, "boss", &office, &["admin"]).await;
    app.get("/users", &boss_token).await.assert_status(200);
    app.patch(&format!("/users/{}", boss["id"].as_str().unwrap()), &admin, json!({"roles": ["auditor"]}))
        .await
        .assert_status(200);
    app.post("/organizations", &boss_token, json!({"code": "X2", "name": "x", "kind": "agency"}))
        .await
        .assert_problem(401);
    // Signed in again, the new roles apply: an auditor reads, and changes nothing.
    let again = app.token("boss", PASSWORD).await;
    app.get("/users", &again).await.assert_status(200);
    app.post("/organizations", &again, json!({"code": "X3", "name": "x", "kind": "agency"})).await.assert_problem(403);
}

/// Item 6: a deactivated organization's people and systems are cut off everywhere.
#[tokio::test]
async fn deactivating_an_organization_cuts_off_its_people_and_systems() {
    let o = Office::new().await;
    let app = &o.app;
    let id = o.create(&o.budi).await["id"].as_str().unwrap().to_owned();
    let session = app.login("budi", PASSWORD).await.body;
    let c = app.post("/api-clients", &o.admin, json!({"name": "SIMPUS", "organization_id": o.dinkes_id})).await;
    let c = c.assert_status(201).clone();
    let creds =
        json!({"grant_type": "client_credentials", "client_id": c["client_id"], "client_secret": c["client_secret"]});
    let client = app.call(Method::POST, "/auth/token", None, Some(creds.clone())).await;
    let client = client.assert_status(200)["access_token"].as_str().unwrap().to_owned();
    app.get("/requests", &client).await.assert_status(200);

    let dinkes = o.dinkes_id.as_str().unwrap();
    app.post(&format!("/organizations/{dinkes}/deactivate"), &o.admin, json!({})).await.assert_status(200);

    app.get("/requests", &o.budi).await.assert_problem(401);
    app.get("/requests", &client).await.assert_problem(401);
    o.upload(&o.budi, &id, "other", PDF, "x.pdf").await.assert_problem(401);
    app.login("budi", PASSWORD).await.assert_problem(401);
    app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": session["refresh_token"]})))
        .await
        .assert_problem(401);
    app.call(Method::POST, "/auth/token", None, Some(creds.clone())).await.assert_problem(401);
    // Reactivation lets them sign in again, but does not bring the old sessions back.
    app.post(&format!("/organizations/{dinkes}/activate"), &o.admin, json!({})).await.assert_status(200);
    app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": session["refresh_token"]})))
        .await
        .assert_problem(401);
    app.get("/requests", &client).await.assert_problem(401);
    app.login("budi", PASSWORD).await.assert_status(200);
    app.call(Method::POST, "/auth/token", None, Some(creds)).await.assert_status(200);
}

/// Item 8: a client's public id is not a lever to lock the agency's system out.
#[tokio::test]
async fn wrong_secrets_for_a_client_id_do_not_lock_the_real_client_out() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let c = app.post("/api-clients", &admin, json!({"name": "SIMPUS", "organization_id": org["id"]})).await;
    let c = c.assert_status(201).clone();
    // More than the old per-client lockout (5), fewer than the global rate's burst (20).
    for _ in 0..15 {
        let bad =
            json!({"grant_type": "client_credentials", "client_id": c["client_id"], "client_secret": "jbs_guess"});
        app.call(Method::POST, "/auth/token", None, Some(bad)).await.assert_problem(401);
    }
    let good =
        json!({"grant_type": "client_credentials", "client_id": c["client_id"], "client_secret": c["client_secret"]});
    app.call(Method::POST, "/auth/token", None, Some(good)).await.assert_status(200);
}

/// Item 10: credentials are never cached, and JSON is never sniffed into something else.
#[tokio::test]
async fn credentials_are_not_cached_and_responses_are_not_sniffed() {
    let app = TestApp::spawn().await;
    let login = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    assert_eq!(login.header("cache-control"), Some("no-store"));
    assert_eq!(login.header("x-content-type-options"), Some("nosniff"));
    let admin = login.body["access_token"].as_str().unwrap().to_owned();
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let created = app.post("/api-clients", &admin, json!({"name": "SIMPUS", "organization_id": org["id"]})).await;
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let me = app.get("/auth/me", &admin).await;
    assert_eq!(me.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(me.header("cache-control"), Some("no-store"));
    let problem = app.call(Method::GET, "/users", None, None).await;
    assert_eq!(problem.header("x-content-type-options"), Some("nosniff"));
}

/// Item 11: a password from the common lists is refused, not only the few we had listed.
#[tokio::test]
async fn passwords_from_the_common_lists_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    for weak in ["shadow123456", "michael12345", "qwerty123qwe"] {
        let r = app
            .post(
                "/users",
                &admin,
                json!({"username": "budi", "full_name": "Budi", "password": weak, "organization_id": org["id"], "roles": ["applicant"]}),
            )
            .await;
        assert!(r.assert_problem(422)["errors"]["password"].is_array(), "{weak}: {}", r.text);
    }
}

/// Item 12: the download's file name ends in what the bytes are, not what the uploader said.
#[tokio::test]
async fn a_download_is_named_after_its_detected_type() {
    let o = Office::new().await;
    let id = o.create(&o.budi).await["id"].as_str().unwrap().to_owned();
    let up = o.upload(&o.budi, &id, "request_letter", PDF, "surat.html").await;
    let doc = up.assert_status(201)["id"].as_str().unwrap().to_owned();
    let r = o.app.send(o.app.http.get(o.app.url(&format!("/documents/{doc}/content"))).bearer_auth(&o.budi)).await;
    r.assert_status(200);
    let cd = r.header("content-disposition").unwrap();
    assert!(cd.contains("surat.pdf"), "{cd}");
    assert!(!cd.contains(".html"), "{cd}");
}

/// Builds a second service on `app`'s database and document store, as another replica or a
/// later start would.
async fn another_start(
    app: &TestApp,
    demo: bool,
    tweak: impl FnOnce(&mut jembatan::config::Settings),
) -> Result<jembatan::startup::Application, String> {
    let mut s = jembatan::config::Settings {
        database_url: app.database_url.clone(),
        listen: "127.0.0.1:0".into(),
        jwt_secret: Some(format!("another-test-secret-{}", uuid::Uuid::new_v4())),
        storage_dir: app.storage_dir.clone(),
        db_max_connections: 3,
        workers: Some(1),
        ..Default::default()
    };
    tweak(&mut s);
    let s = s.check(demo).map_err(|p| p.join("; "))?;
    jembatan::startup::Application::build(s, std::sync::Arc::new(jembatan::clock::SystemClock)).await
}

/// The state a maintenance command (`remove-demo-accounts`, `check`) works on, for `app`'s
/// database and store: prepared, not serving.
async fn maintenance_state(app: &TestApp) -> std::sync::Arc<jembatan::state::AppState> {
    let settings = jembatan::config::Settings {
        database_url: app.database_url.clone(),
        storage_dir: app.storage_dir.clone(),
        jwt_secret: Some("x".repeat(40)),
        ..Default::default()
    };
    jembatan::startup::prepare(settings, std::sync::Arc::new(jembatan::clock::SystemClock)).await.unwrap().into_inner()
}

/// Item 1: demo mode starts only on an empty or demo database; a normal start refuses a
/// database whose demo accounts can still sign in, naming the command that ends them.
#[tokio::test]
async fn demo_accounts_never_reach_a_real_server() {
    // A real database: demo mode refuses it.
    let real = TestApp::spawn().await;
    let err = another_start(&real, true, |_| {}).await.err().expect("demo refuses a database with accounts");
    assert!(err.contains("empty database"), "{err}");

    // A demo database (its accounts are demo accounts): a normal start refuses it.
    let demo = TestApp::spawn_checked(true, |_| {}).await;
    let admin = demo.admin_token().await;
    let org = demo.create_org(&admin, "DINKES", "agency").await;
    demo.user(&admin, "budi", &org["id"], &["applicant"]).await;
    let err = another_start(&demo, false, |_| {}).await.err().expect("a normal start refuses live demo accounts");
    assert!(err.contains("jembatan remove-demo-accounts"), "{err}");
    // Demo mode may come back to its own database.
    another_start(&demo, true, |_| {}).await.expect("demo restarts on its own database");

    // The command ends them; then the database may be served, and they cannot sign in.
    let state = maintenance_state(&demo).await;
    assert_eq!(jembatan::demo::remove_accounts(&state).await.unwrap(), 2);
    another_start(&demo, false, |_| {}).await.expect("no live demo accounts are left");
    demo.login("budi", PASSWORD).await.assert_problem(401);
    // The running demo learns of it at its next directory refresh.
    let started = std::time::Instant::now();
    while demo.get("/requests", &admin).await.status != 401 {
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the ended admin's token still works");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Item 5: a revocation made on one replica reaches another within 5 s.
#[tokio::test]
async fn a_deactivation_reaches_every_replica_within_five_seconds() {
    let secret = format!("a-shared-test-secret-{}", uuid::Uuid::new_v4());
    let s = secret.clone();
    let a = TestApp::spawn_with(move |c| c.jwt_secret = Some(s)).await;
    let b = another_start(&a, false, |c| c.jwt_secret = Some(secret)).await.unwrap();
    let b_base = format!("http://127.0.0.1:{}/api/v1", b.port());
    tokio::spawn(b.run_until_stopped());
    let admin = a.admin_token().await;
    let org = a.create_org(&admin, "DINKES", "agency").await;
    let (u, token) = a.user(&admin, "budi", &org["id"], &["applicant"]).await;
    let on_b = || a.send(a.http.get(format!("{b_base}/requests")).bearer_auth(&token));
    on_b().await.assert_status(200);
    a.post(&format!("/users/{}/deactivate", u["id"].as_str().unwrap()), &admin, json!({})).await.assert_status(200);
    let started = std::time::Instant::now();
    loop {
        let r = on_b().await;
        if r.status == 401 {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "replica B still accepts the token");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Item 14: a new signing secret does not sign everyone out while the old one is listed as
/// previous; once it is dropped, its tokens are refused.
#[tokio::test]
async fn a_signing_secret_rolls_without_signing_everyone_out() {
    let old = format!("the-old-signing-secret-{}", uuid::Uuid::new_v4());
    let new = format!("the-new-signing-secret-{}", uuid::Uuid::new_v4());
    let o = old.clone();
    let a = TestApp::spawn_with(move |c| c.jwt_secret = Some(o)).await;
    let token = a.admin_token().await;
    let (n, o) = (new.clone(), old.clone());
    let rolled = another_start(&a, false, move |c| {
        c.jwt_secret = Some(n);
        c.jwt_previous_secrets = Some(o);
    })
    .await
    .unwrap();
    let rolled_base = format!("http://127.0.0.1:{}/api/v1", rolled.port());
    tokio::spawn(rolled.run_until_stopped());
    let me = a.send(a.http.get(format!("{rolled_base}/auth/me")).bearer_auth(&token)).await;
    me.assert_status(200);
    let dropped = another_start(&a, false, move |c| c.jwt_secret = Some(new)).await.unwrap();
    let dropped_base = format!("http://127.0.0.1:{}/api/v1", dropped.port());
    tokio::spawn(dropped.run_until_stopped());
    a.send(a.http.get(format!("{dropped_base}/auth/me")).bearer_auth(&token)).await.assert_problem(401);
}

/// Item 7: behind a trusted proxy, each client has its own failure count; the address a
/// client writes into X-Forwarded-For itself is not believed.
#[tokio::test]
async fn behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_the_others() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = Some("127.0.0.1/32".into())).await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    for i in 0..6 {
        app.user(&admin, &format!("user{i}"), &org["id"], &["applicant"]).await;
    }
    let login = |user: String, xff: &'static str| {
        app.send(
            app.http
                .post(app.url("/auth/login"))
                .header("x-forwarded-for", xff)
                .json(&json!({"username": user, "password": "not the password"})),
        )
    };
    // One client (203.0.113.9) fails on 6 accounts × 4 = 24 > the address limit of 20,
    // each time claiming a fresh address on the left of the header.
    let mut locked = false;
    for i in 0..24 {
        let r = login(format!("user{}", i % 6), "198.51.100.1, 203.0.113.9").await;
        locked |= r.status == 429;
    }
    assert!(locked, "the client's own address was locked");
    // Another client through the same proxy still gets in.
    let ok = app
        .send(
            app.http
                .post(app.url("/auth/login"))
                .header("x-forwarded-for", "192.0.2.44")
                .json(&json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
        )
        .await;
    ok.assert_status(200);
}

/// Item 9: refreshing forever does not make a session last forever.
#[tokio::test]
async fn a_session_ends_at_its_maximum_lifetime_however_often_it_is_refreshed() {
    let app = TestApp::spawn_with(|c| c.session_max_secs = 30 * 24 * 3600).await;
    let mut rt = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await.body["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        app.clock.advance(chrono::Duration::days(13));
        let r = app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": rt}))).await;
        rt = r.assert_status(200)["refresh_token"].as_str().unwrap().to_owned();
    }
    // Day 26 → 30 and a bit: within the 14-day refresh lifetime, past the session's end.
    app.clock.advance(chrono::Duration::days(4) + chrono::Duration::hours(1));
    let r = app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": rt}))).await;
    r.assert_problem(401);
}

/// Item 13: quotas per request and per organization per day; over → nothing is stored.
#[tokio::test]
async fn document_quotas_refuse_and_keep_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.max_documents_per_request = 3;
        c.max_organization_bytes_per_day = 5 * PDF.len() as u64;
    })
    .await;
    let o = Office::with(app).await;
    fn files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| if e.path().is_dir() { files(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
    let stored = |o: &Office| files(&o.app.storage_dir);
    let id = o.create(&o.budi).await["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        o.attach(&o.budi, &id, "request_letter").await;
    }
    let files = stored(&o);
    let r = o.upload(&o.budi, &id, "other", PDF, "x.pdf").await;
    assert!(r.assert_problem(413)["detail"].as_str().unwrap().contains("3 documents"));
    assert_eq!(stored(&o), files, "no bytes kept");
    // A second request of the same agency: two more fit into the day, the third does not.
    let other = o.create(&o.budi).await["id"].as_str().unwrap().to_owned();
    o.attach(&o.budi, &other, "request_letter").await;
    o.attach(&o.budi, &other, "request_letter").await;
    let r = o.upload(&o.budi, &other, "other", PDF, "x.pdf").await;
    r.assert_problem(429);
    assert!(r.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|n| (1..=86_400).contains(&n))));
    let docs = o.app.get(&format!("/requests/{other}/documents"), &o.budi).await;
    assert_eq!(docs.body["items"].as_array().unwrap().len(), 2);
    // Another agency's allowance is its own.
    let rid = o.create(&o.rina).await["id"].as_str().unwrap().to_owned();
    o.attach(&o.rina, &rid, "request_letter").await;
}

/// Item 3: expired idempotency keys are deleted by a periodic job, not only when the same
/// caller happens to come back.
#[tokio::test]
async fn expired_idempotency_keys_are_purged_by_the_housekeeping_job() {
    let app = TestApp::spawn_with(|c| c.housekeeping_interval_secs = 1).await;
    let admin = app.admin_token().await;
    let r = app
        .send(
            app.http
                .post(app.url("/organizations"))
                .bearer_auth(&admin)
                .header("Idempotency-Key", "org-1")
                .json(&json!({"code": "DINKES", "name": "Dinas Kesehatan", "kind": "agency"})),
        )
        .await;
    r.assert_status(201);
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(&app.database_url).await.unwrap();
    let rows = |db: &sea_orm::DatabaseConnection| {
        let db = db.clone();
        async move {
            db.query_all_raw(Statement::from_string(db.get_database_backend(), "SELECT key FROM idempotency_keys"))
                .await
                .unwrap()
                .len()
        }
    };
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(rows(&db).await, 1, "within its window the key stays");
    app.clock.advance(chrono::Duration::hours(25));
    let started = std::time::Instant::now();
    while rows(&db).await > 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "the expired key was not purged");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    db.close().await.ok();
}

/// Review of the fixes: a refresh racing a logout of the same session never leaves a
/// usable successor (the user's row lock orders them).
#[tokio::test]
async fn a_refresh_racing_a_logout_leaves_no_live_session() {
    let app = TestApp::spawn_with(|s| {
        s.db_max_connections = 8;
        s.db_acquire_timeout_secs = 30;
    })
    .await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    // Without the lock this failed in 2 of 3 runs of 10 rounds on PostgreSQL.
    for round in 0..20 {
        let rt = app.login("budi", PASSWORD).await.body["refresh_token"].as_str().unwrap().to_owned();
        let body = json!({"refresh_token": rt});
        let (refreshed, logged_out) = futures_util::join!(
            app.call(Method::POST, "/auth/refresh", None, Some(body.clone())),
            app.call(Method::POST, "/auth/logout", None, Some(body.clone())),
        );
        logged_out.assert_status(204);
        if refreshed.status == 200 {
            // The refresh came first: the logout revoked its successor too.
            let next = json!({"refresh_token": refreshed.body["refresh_token"]});
            let again = app.call(Method::POST, "/auth/refresh", None, Some(next)).await;
            assert_eq!(again.status, 401, "round {round}: the successor outlived the logout");
            let access = refreshed.body["access_token"].as_str().unwrap();
            app.get("/requests", access).await.assert_problem(401);
        } else {
            refreshed.assert_problem(401);
        }
    }
}

/// Review of the fixes: the token rate is per client address, so one sender's flood does
/// not lock out the other agencies' systems.
#[tokio::test]
async fn one_senders_token_flood_does_not_lock_out_other_systems() {
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies = Some("127.0.0.1/32".into());
        c.client_token_rate_per_sec = 5;
    })
    .await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let c = app.post("/api-clients", &admin, json!({"name": "SIMPUS", "organization_id": org["id"]})).await;
    let c = c.assert_status(201).clone();
    let token =
        |xff: &'static str, secret: &Value| {
            app.send(app.http.post(app.url("/auth/token")).header("x-forwarded-for", xff).json(
                &json!({"grant_type": "client_credentials", "client_id": c["client_id"], "client_secret": secret}),
            ))
        };
    let mut throttled = 0;
    for _ in 0..12 {
        if token("203.0.113.66", &json!("jbs_junk")).await.status == 429 {
            throttled += 1;
        }
    }
    assert!(throttled > 0, "the flooding address is throttled");
    token("192.0.2.10", &c["client_secret"]).await.assert_status(200);
}

/// Review of the fixes: a stolen access token does not buy unlimited guesses of the
/// current password.
#[tokio::test]
async fn guessing_the_current_password_is_throttled() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let (_, token) = app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    let guess = json!({"current_password": "a wrong guess here", "new_password": "jembatan gantung di Trenggalek"});
    for _ in 0..5 {
        app.post("/auth/password", &token, guess.clone()).await.assert_problem(422);
    }
    let r = app.post("/auth/password", &token, guess).await;
    r.assert_problem(429);
    assert!(r.header("retry-after").is_some());
}

/// Review of the fixes: a database an older demo made (accounts not yet marked) is
/// recognised by the published password; an ended demo account cannot be activated again.
#[tokio::test]
async fn an_older_demo_database_and_ended_demo_accounts_stay_off_a_real_server() {
    let real = TestApp::spawn().await;
    let admin = real.admin_token().await;
    let office = real.get("/auth/me", &admin).await.body["organization_id"].clone();
    // What an older `serve --demo` left: the demo's admin, unmarked, with the published password.
    let state = maintenance_state(&real).await;
    let hash = jembatan::auth::password::hash(jembatan::demo::DEMO_PASSWORD.into()).await.unwrap();
    let org = serde_json::from_value(office).unwrap();
    let legacy = jembatan::service::users::insert(
        &state,
        jembatan::service::audit::Actor::SYSTEM,
        "admin".into(),
        "Administrator Sistem".into(),
        hash,
        org,
        vec![jembatan::auth::Role::Admin],
        None,
        None,
    )
    .await
    .unwrap();
    let err = another_start(&real, false, |_| {}).await.err().expect("the published password is recognised");
    assert!(err.contains("remove-demo-accounts"), "{err}");
    assert_eq!(jembatan::demo::remove_accounts(&state).await.unwrap(), 1);
    another_start(&real, false, |_| {}).await.expect("nothing demo-like is left");
    real.login("admin", jembatan::demo::DEMO_PASSWORD).await.assert_problem(401);
    let r = real.post(&format!("/users/{}/activate", legacy.id), &admin, json!({})).await;
    r.assert_problem(409);
}
