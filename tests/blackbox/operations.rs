use jembatan_tests::TestApp;

#[tokio::test]
async fn health_endpoints_answer() {
    let app = TestApp::spawn().await;
    let live = app.send(app.http.get(format!("{}/health/live", app.base))).await;
    assert_eq!(live.assert_status(200)["status"], "ok");
    let ready = app.send(app.http.get(format!("{}/health/ready", app.base))).await;
    assert_eq!(ready.assert_status(200)["status"], "ready");
}

#[tokio::test]
async fn the_served_spec_is_the_committed_spec() {
    let app = TestApp::spawn().await;
    let served = app.send(app.http.get(format!("{}/api-docs/openapi.json", app.base))).await;
    served.assert_status(200);
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed: serde_json::Value = std::fs::read_to_string(committed_path)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    assert!(
        served.body == committed,
        "openapi/openapi.json is out of date; regenerate it with:\n    cargo run -q -p jembatan -- openapi > openapi/openapi.json"
    );
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_vendored_copy() {
    let app = TestApp::spawn().await;
    let r = app.send(app.http.get(format!("{}/swagger-ui/", app.base))).await;
    r.assert_status(200);
    assert!(r.text.contains("swagger-ui"), "{}", &r.text[..r.text.len().min(300)]);
    let init = app.send(app.http.get(format!("{}/swagger-ui/swagger-initializer.js", app.base))).await;
    assert!(init.assert_status(200).is_null() && init.text.contains("/api-docs/openapi.json"));
}

#[tokio::test]
async fn every_operation_is_described_with_a_summary_a_tag_and_its_errors() {
    let doc = jembatan::startup::openapi_document();
    let doc = serde_json::to_value(doc).unwrap();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let name = format!("{method} {path}");
            assert!(op["summary"].is_string(), "{name} has no summary");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{name} has no tag");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("500") && responses.contains_key("503"), "{name} lacks error responses");
            if op.get("security").is_some() {
                assert!(responses.contains_key("401") && responses.contains_key("403"), "{name} lacks 401/403");
            }
        }
    }
    assert!(count >= 25, "only {count} operations documented");
}
