use jembatan_tests::{ADMIN_PASSWORD, ADMIN_USERNAME, PASSWORD, TestApp};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn login_returns_tokens_and_the_user() {
    let app = TestApp::spawn().await;
    let r = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let b = r.assert_status(200);
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["expires_in"], 900);
    assert_eq!(b["user"]["username"], ADMIN_USERNAME);
    assert_eq!(b["user"]["roles"], json!(["admin"]));
    assert!(b["user"].get("password_hash").is_none() && b["user"].get("password").is_none());
    let me = app.get("/auth/me", b["access_token"].as_str().unwrap()).await;
    assert_eq!(me.assert_status(200)["username"], ADMIN_USERNAME);
    assert_eq!(me.body["kind"], "user");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = TestApp::spawn().await;
    let a = app.login(ADMIN_USERNAME, "not the password at all").await;
    let b = app.login("nobody.here", "not the password at all").await;
    a.assert_problem(401);
    b.assert_problem(401);
    assert_eq!(a.body, b.body, "no user enumeration through the body");
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.login(ADMIN_USERNAME, "wrong wrong wrong").await.assert_problem(401);
    }
    let r = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    r.assert_problem(429);
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=300).contains(&retry));
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let first = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await.body;
    let r1 = first["refresh_token"].as_str().unwrap();
    let second = app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": r1}))).await;
    let second = second.assert_status(200).clone();
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2, "rotated");
    // The old one is presented again: someone copied it. Both it and its successor die.
    app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": r1}))).await.assert_problem(401);
    app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": r2}))).await.assert_problem(401);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let s = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await.body;
    let rt = s["refresh_token"].as_str().unwrap();
    app.call(Method::POST, "/auth/logout", None, Some(json!({"refresh_token": rt}))).await.assert_status(204);
    app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": rt}))).await.assert_problem(401);
}

#[tokio::test]
async fn password_change_keeps_this_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let (_, _) = app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    let here = app.login("budi", PASSWORD).await.body;
    let elsewhere = app.login("budi", PASSWORD).await.body;
    let token = here["access_token"].as_str().unwrap();
    let weak =
        app.post("/auth/password", token, json!({"current_password": PASSWORD, "new_password": "password1234"})).await;
    assert!(weak.assert_problem(422)["errors"]["new_password"].is_array());
    let wrong = app
        .post(
            "/auth/password",
            token,
            json!({"current_password": "guess guess guess", "new_password": "sambal terasi pedas sekali"}),
        )
        .await;
    assert!(wrong.assert_problem(422)["errors"]["current_password"].is_array());
    app.post(
        "/auth/password",
        token,
        json!({"current_password": PASSWORD, "new_password": "sambal terasi pedas sekali"}),
    )
    .await
    .assert_status(204);
    let refresh = |t: &serde_json::Value| json!({"refresh_token": t["refresh_token"]});
    app.call(Method::POST, "/auth/refresh", None, Some(refresh(&elsewhere))).await.assert_problem(401);
    app.call(Method::POST, "/auth/refresh", None, Some(refresh(&here))).await.assert_status(200);
    app.login("budi", PASSWORD).await.assert_problem(401);
    app.login("budi", "sambal terasi pedas sekali").await.assert_status(200);
}

#[tokio::test]
async fn deactivated_user_cannot_log_in_or_refresh() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let (user, _) = app.user(&admin, "siti", &org["id"], &["applicant"]).await;
    let session = app.login("siti", PASSWORD).await.body;
    let id = user["id"].as_str().unwrap();
    app.post(&format!("/users/{id}/deactivate"), &admin, json!({})).await.assert_status(200);
    let r = app.login("siti", PASSWORD).await;
    r.assert_problem(401);
    assert_eq!(r.body["detail"], "invalid username or password");
    app.call(Method::POST, "/auth/refresh", None, Some(json!({"refresh_token": session["refresh_token"]})))
        .await
        .assert_problem(401);
}

mod tokens {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header, encode};

    use super::*;

    const SECRET: &str = "a-known-test-secret-of-at-least-32-bytes";

    /// The service, and the admin the forged tokens name (a real, active subject, so a
    /// refusal below is about the token itself, not about whom it names).
    async fn app() -> (TestApp, serde_json::Value) {
        let app = TestApp::spawn_with(|s| s.jwt_secret = Some(SECRET.into())).await;
        let admin = app.admin_token().await;
        let me = app.get("/auth/me", &admin).await.body;
        (app, me)
    }

    fn claims(me: &serde_json::Value, exp_offset: i64, aud: &str) -> serde_json::Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": "jembatan", "aud": aud, "sub": me["id"], "exp": now + exp_offset, "nbf": now - 10,
               "iat": now - 10, "jti": "x", "roles": ["admin"], "org": me["organization_id"], "kind": "user"})
    }

    /// Signed as the service signs: `typ: at+jwt` and the key's id.
    fn sign(c: &serde_json::Value, secret: &str) -> String {
        let header =
            Header { typ: Some("at+jwt".into()), kid: Some(jembatan::auth::jwt::kid_of(secret)), ..Default::default() };
        encode(&header, c, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
    }

    async fn users_with(app: &TestApp, token: &str) -> jembatan_tests::Resp {
        app.get("/users", token).await
    }

    #[tokio::test]
    async fn a_well_formed_token_is_accepted_so_the_refusals_below_mean_something() {
        let (app, me) = app().await;
        users_with(&app, &sign(&claims(&me, 300, "jembatan-api"), SECRET)).await.assert_status(200);
    }

    #[tokio::test]
    async fn alg_none_is_refused() {
        let (app, me) = app().await;
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims(&me, 300, "jembatan-api").to_string());
        users_with(&app, &format!("{header}.{payload}.")).await.assert_problem(401);
    }

    #[tokio::test]
    async fn wrong_signature_is_refused() {
        let (app, me) = app().await;
        users_with(&app, &sign(&claims(&me, 300, "jembatan-api"), "another-secret-that-is-32-bytes-long!"))
            .await
            .assert_problem(401);
    }

    #[tokio::test]
    async fn expired_token_is_refused() {
        let (app, me) = app().await;
        users_with(&app, &sign(&claims(&me, -120, "jembatan-api"), SECRET)).await.assert_problem(401);
    }

    #[tokio::test]
    async fn wrong_audience_is_refused() {
        let (app, me) = app().await;
        users_with(&app, &sign(&claims(&me, 300, "some-other-api"), SECRET)).await.assert_problem(401);
    }

    #[tokio::test]
    async fn missing_and_garbage_tokens_are_refused() {
        let (app, _) = app().await;
        let r = app.call(Method::GET, "/users", None, None).await;
        r.assert_problem(401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        users_with(&app, "not.a.jwt").await.assert_problem(401);
    }
}
