use jembatan_tests::TestApp;
use reqwest::Method;
use serde_json::json;

async fn client_token(app: &TestApp, client_id: &str, secret: &str) -> jembatan_tests::Resp {
    app.call(
        Method::POST,
        "/auth/token",
        None,
        Some(json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})),
    )
    .await
}

#[tokio::test]
async fn an_agency_system_gets_an_applicant_token_for_its_agency() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let created = app.post("/api-clients", &admin, json!({"name": "SIMPUS", "organization_id": org["id"]})).await;
    let c = created.assert_status(201).clone();
    let secret = c["client_secret"].as_str().unwrap();
    let client_id = c["client_id"].as_str().unwrap();
    // The secret is shown once: never in a list or a get.
    let listed = app.get("/api-clients", &admin).await;
    assert!(!listed.text.contains(secret));
    let got = app.get(&format!("/api-clients/{}", c["id"].as_str().unwrap()), &admin).await;
    assert!(got.assert_status(200).get("client_secret").is_none());

    let t = client_token(&app, client_id, secret).await;
    let token = t.assert_status(200)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(t.header("cache-control"), Some("no-store"));
    let me = app.get("/auth/me", &token).await;
    assert_eq!(me.assert_status(200)["kind"], "client");
    assert_eq!(me.body["organization_id"], org["id"]);
    // Applicant rights only.
    app.get("/users", &token).await.assert_problem(403);
    app.post("/organizations", &token, json!({"code": "X1", "name": "x", "kind": "agency"})).await.assert_problem(403);

    // Form-encoded, as OAuth2 libraries send it.
    let form = app
        .send(app.http.post(app.url("/auth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ]))
        .await;
    form.assert_status(200);
}

#[tokio::test]
async fn rotation_and_revocation_end_the_old_secret() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let c = app.post("/api-clients", &admin, json!({"name": "SIMPUS", "organization_id": org["id"]})).await.body;
    let id = c["id"].as_str().unwrap();
    let client_id = c["client_id"].as_str().unwrap();
    let old = c["client_secret"].as_str().unwrap();
    let rotated = app.post(&format!("/api-clients/{id}/rotate"), &admin, json!({})).await;
    let new = rotated.assert_status(200)["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    client_token(&app, client_id, old).await.assert_problem(401);
    client_token(&app, client_id, &new).await.assert_status(200);
    app.post(&format!("/api-clients/{id}/revoke"), &admin, json!({})).await.assert_status(200);
    client_token(&app, client_id, &new).await.assert_problem(401);
    app.post(&format!("/api-clients/{id}/rotate"), &admin, json!({})).await.assert_problem(409);
}

#[tokio::test]
async fn wrong_grant_type_and_wrong_secret_are_refused() {
    let app = TestApp::spawn().await;
    let r = app
        .call(
            Method::POST,
            "/auth/token",
            None,
            Some(json!({"grant_type": "password", "client_id": "x", "client_secret": "y"})),
        )
        .await;
    assert!(r.assert_problem(400)["errors"]["grant_type"].is_array());
    client_token(&app, "jbc_nope", "jbs_nope").await.assert_problem(401);
}
