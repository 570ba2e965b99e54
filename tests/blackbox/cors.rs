//! Issue 14, item 7: browser front-ends on other origins. Preflights from a configured
//! origin are answered for the API's methods and headers, the headers a client reads are
//! exposed, and any other origin gets no CORS grant. Driven with reqwest here; a real
//! cross-origin `fetch` from a page in headless Chromium is `scripts/browser`, in CI.

use jembatan_tests::TestApp;

const VITE: &str = "http://localhost:5173";

#[tokio::test]
async fn a_configured_front_end_may_call_and_read_the_headers_others_may_not() {
    let app =
        TestApp::spawn_with(|s| s.cors_origins = Some(format!("{VITE}, https://portal.trenggalekkab.go.id"))).await;
    let admin = app.admin_token().await;
    let preflight = |origin: &str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/requests"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type, idempotency-key, if-match")
            .send()
    };
    let r = preflight(VITE).await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], VITE);
    let allowed = h["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    for needed in ["authorization", "content-type", "idempotency-key", "if-match"] {
        assert!(allowed.contains(needed), "{needed} not in {allowed}");
    }
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(h.get("access-control-allow-credentials").is_none(), "bearer tokens, not cookies");
    // The actual call: answered with the grant and the headers a client reads exposed.
    let r = app
        .http
        .get(app.url("/organizations?limit=1"))
        .bearer_auth(&admin)
        .header("Origin", VITE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], VITE);
    let exposed = r.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    for needed in ["etag", "location", "retry-after", "x-request-id", "idempotent-replayed"] {
        assert!(exposed.contains(needed), "{needed} not in {exposed}");
    }
    // Another origin: no grant (the browser blocks it).
    let r = preflight("https://evil.example").await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // Server-to-server calls carry no Origin and are untouched.
    let r = app.http.get(app.url("/organizations?limit=1")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_configured_origins_there_is_no_cors_and_a_wildcard_is_refused() {
    let app = TestApp::spawn().await;
    let r = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/requests"))
        .header("Origin", VITE)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let bad = jembatan::config::Settings { cors_origins: Some("*".into()), ..Default::default() };
    assert!(jembatan::config::cors_origins(bad.cors_origins.as_deref()).is_err());
    assert!(jembatan::config::cors_origins(Some("https://a.example/path")).is_err());
    assert_eq!(jembatan::config::cors_origins(Some(" HTTP://Localhost:5173 ,")).unwrap(), ["http://localhost:5173"]);
    // A default port is not part of the origin a browser sends; a bad port is refused.
    assert_eq!(jembatan::config::cors_origins(Some("https://portal.example:443")).unwrap(), ["https://portal.example"]);
    assert!(jembatan::config::cors_origins(Some("http://h:abc")).is_err());
    assert!(jembatan::config::cors_origins(Some("http://user@h")).is_err());
}
