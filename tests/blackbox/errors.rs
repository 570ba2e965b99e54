//! Bad input, by name: each gets the right status and a problem document.

use jembatan_tests::TestApp;
use serde_json::json;

async fn post_raw(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> jembatan_tests::Resp {
    app.send(app.http.post(app.url(path)).bearer_auth(token).header("content-type", content_type).body(body)).await
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let r = post_raw(&app, "/organizations", &admin, "application/json", "{\"code\": \"X\",").await;
    assert!(r.assert_problem(400)["detail"].as_str().unwrap().starts_with("malformed JSON"));
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let big = format!("{{\"code\":\"X1\",\"kind\":\"agency\",\"name\":\"{}\"}}", "a".repeat(70 * 1024));
    post_raw(&app, "/organizations", &admin, "application/json", big).await.assert_problem(413);
}

#[tokio::test]
async fn an_unknown_field_is_400_naming_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let r = app
        .post(
            "/users",
            &admin,
            json!({"username": "budi", "full_name": "Budi", "password": "correct horse battery staple",
                                       "organization_id": org["id"], "roles": ["applicant"], "is_admin": true}),
        )
        .await;
    let body = r.assert_problem(400);
    assert!(body["detail"].as_str().unwrap().contains("is_admin"), "{body}");
}

#[tokio::test]
async fn an_unknown_enum_value_is_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let r = app
        .post("/organizations", &admin, json!({"code": "KEMENKES", "name": "Kementerian", "kind": "ministry"}))
        .await;
    let body = r.assert_problem(400);
    assert!(body["errors"]["kind"].is_array(), "{body}");
}

#[tokio::test]
async fn wrong_media_type_is_415() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    post_raw(&app, "/organizations", &admin, "text/plain", "code=X").await.assert_problem(415);
}

#[tokio::test]
async fn unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let r = app.send(app.http.get(format!("{}/api/v1/no-such-thing", app.base))).await;
    r.assert_problem(404);
}

#[tokio::test]
async fn malformed_ids_and_page_sizes_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.get("/organizations/not-a-uuid", &admin).await.assert_problem(400);
    app.get("/organizations?limit=101", &admin).await.assert_problem(422);
    app.get("/organizations?limit=0", &admin).await.assert_problem(422);
    app.get("/organizations?cursor=garbage!!", &admin).await.assert_problem(422);
    app.get(&format!("/organizations/{}", uuid::Uuid::new_v4()), &admin).await.assert_problem(404);
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = TestApp::spawn().await;
    let ok = app.send(app.http.get(format!("{}/health/live", app.base))).await;
    let err = app.send(app.http.get(app.url("/users"))).await;
    for r in [ok, err] {
        let id = r.header("x-request-id").expect("X-Request-Id");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}
