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
async fn metrics_are_for_the_scraper_and_admins_and_count_routes_by_pattern() {
    let token = "scrape-token-0123456789-abcdefghijklmnop";
    let app = TestApp::spawn_with(|s| s.metrics_token = Some(token.into())).await;
    let admin = app.admin_token().await;
    let url = format!("{}/metrics", app.base);
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let (_, applicant) = app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    app.get(&format!("/organizations/{}", org["id"].as_str().unwrap()), &applicant).await.assert_status(200);
    app.get("/no-such-thing", &applicant).await.assert_problem(404);

    // The middleware records a request when its body has been sent, which can be a moment
    // after the client has it: scrape until the series is there (at most a second).
    let series = |text: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("jembatan_http_requests_total{")
                    && l.contains(r#"endpoint="/api/v1/organizations/{id}""#)
                    && l.contains(r#"status="200""#)
            })
            .map(str::to_owned)
    };
    let mut scrape = app.send(app.http.get(&url).bearer_auth(token)).await;
    for _ in 0..20 {
        if series(&scrape.text).is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        scrape = app.send(app.http.get(&url).bearer_auth(token)).await;
    }
    scrape.assert_status(200);
    assert!(scrape.header("content-type").is_some_and(|c| c.starts_with("text/plain; version=0.0.4")));
    let text = &scrape.text;
    // One series per route pattern, not per id; unknown paths folded into one.
    let line = series(text).unwrap_or_else(|| panic!("no series for GET /api/v1/organizations/{{id}}:\n{text}"));
    assert!(line.ends_with(" 1"), "{line}");
    assert!(text.contains(r#"endpoint="UNMATCHED""#), "{text}");
    assert!(!text.contains(org["id"].as_str().unwrap()), "an id leaked into a label");
    // The register, read at the scrape.
    assert!(text.contains(r#"jembatan_requests{status="draft"} 0"#), "{text}");
    assert!(text.lines().any(|l| l == "jembatan_steps_overdue 0"), "{text}");

    // Everyone else: no token → 401, a wrong token → 401, an applicant → 403, an admin → 200.
    app.send(app.http.get(&url)).await.assert_problem(401);
    app.send(app.http.get(&url).bearer_auth("scrape-token-0123456789-abcdefghijklmnoX")).await.assert_problem(401);
    app.send(app.http.get(&url).bearer_auth(&applicant)).await.assert_problem(403);
    app.send(app.http.get(&url).bearer_auth(&admin)).await.assert_status(200);
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
            // Every operation states who may call it: `security: []` for public ones.
            let security = op["security"].as_array().unwrap_or_else(|| panic!("{name} says nothing of security"));
            if !security.is_empty() {
                assert!(responses.contains_key("401") && responses.contains_key("403"), "{name} lacks 401/403");
            }
            for (code, r) in responses {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.trim().is_empty()),
                    "{name} {code}: no description"
                );
            }
        }
    }
    assert!(count >= 25, "only {count} operations documented");
}

/// Issue 15, item 9: what an operator watches — transitions by action, step and outcome,
/// overdue steps by step, the outboxes, the sequencer's lag and the pool.
#[tokio::test]
async fn metrics_count_transitions_and_show_the_outboxes_the_log_and_the_pool() {
    let token = "scrape-token-0123456789-abcdefghijklmnop";
    let o = crate::flows::Office::with(TestApp::spawn_with(|s| s.metrics_token = Some(token.into())).await).await;
    let id = crate::flows::submitted(&o).await;
    // A refusal (the applicant is not the disposition's actor), then the real one.
    o.act(&o.budi, &id, "disposition", serde_json::json!({"instructions": ["tindak_lanjuti"]}))
        .await
        .assert_problem(403);
    o.act(&o.kabid, &id, "disposition", serde_json::json!({"instructions": ["tindak_lanjuti"]}))
        .await
        .assert_status(200);
    // Three days later the follow-up (15 minutes) is overdue.
    o.app.clock.advance(chrono::Duration::days(3));
    let scrape = async || {
        let r = o.app.send(o.app.http.get(format!("{}/metrics", o.app.base)).bearer_auth(token)).await;
        r.assert_status(200);
        r.text
    };
    // Once the sequencer has taken every event, nothing waits and the lag is 0.
    let mut text = scrape().await;
    for _ in 0..50 {
        if value_of(&text, "jembatan_audit_unsequenced") == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        text = scrape().await;
    }
    assert_eq!(value_of(&text, "jembatan_audit_unsequenced"), 0.0, "{text}");
    assert_eq!(value_of(&text, "jembatan_audit_sequencer_lag_seconds"), 0.0);
    let value = |prefix: &str| value_of(&text, prefix);
    assert_eq!(value(r#"jembatan_transitions_total{action="submit",outcome="done",step="submit"}"#), 1.0);
    assert_eq!(value(r#"jembatan_transitions_total{action="complete",outcome="done",step="disposition"}"#), 1.0);
    assert_eq!(value(r#"jembatan_transitions_total{action="complete",outcome="refused",step="disposition"}"#), 1.0);
    assert_eq!(value(r#"jembatan_steps_overdue_by_step{step="follow_up"}"#), 1.0);
    // No mail configured, no webhook: empty outboxes.
    assert_eq!(value(r#"jembatan_outbox_depth{outbox="mail"}"#), 0.0);
    assert_eq!(value(r#"jembatan_outbox_depth{outbox="webhook"}"#), 0.0);
    assert_eq!(value(r#"jembatan_outbox_oldest_age_seconds{outbox="webhook"}"#), 0.0);
    assert!(value("jembatan_db_pool_acquire_seconds") < 5.0);
    // The wait histogram is served and fed (it is the process's: the other tests' apps add
    // to it too; `telemetry`'s unit test measures a real wait), and no acquire timed out.
    assert!(value("jembatan_db_pool_wait_seconds_count") >= 3.0, "{text}");
    assert_eq!(value("jembatan_db_pool_timeouts_total"), 0.0, "{text}");

    // The connections of the whole replica, summed over its pools: not one worker's.
    let connections = |text: &str, pool: &str| {
        let series = |state: &str| format!(r#"jembatan_db_pool_connections{{pool="{pool}",state="{state}"}}"#);
        value_of(text, &series("idle")) + value_of(text, &series("in_use"))
    };
    if o.app.database_url.starts_with("sqlite:") {
        assert!(connections(&text, "shared") >= 1.0, "{text}");
        assert!(!text.contains("read_lane"), "SQLite has no read lane:\n{text}");
    } else {
        // Two reads of the request, each on a worker's read lane (lanes are never full here).
        o.get(&o.kabid, &id).await;
        o.get(&o.kabid, &id).await;
        let text = scrape().await;
        for pool in ["background", "requests", "read_lane"] {
            assert!(connections(&text, pool) >= 1.0, "no {pool} connection:\n{text}");
        }
        let served = value_of(&text, r#"jembatan_db_read_lane_reads_total{outcome="served"}"#);
        assert!(served >= 2.0, "{text}");
    }
}

/// The value of the first series in a Prometheus text that starts with `prefix`.
fn value_of(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no series {prefix}:\n{text}"))
}

/// A database that ended the service's sessions (a restart, a failover, an administrator's
/// `pg_terminate_backend`) costs a reader no error. The reads' own connections
/// (`api/src/db/lane.rs`) go back without sqlx's ping and are reused without one while hot;
/// one found dead is tried once more on a new connection.
#[tokio::test]
async fn reads_answer_right_after_the_database_ended_the_services_sessions() {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let o = crate::flows::Office::new().await;
    if !o.app.database_url.starts_with("postgres") {
        eprintln!("PostgreSQL only (set JEMBATAN_TEST_POSTGRES_URL); nothing checked on SQLite");
        return;
    }
    let id = crate::flows::submitted(&o).await;
    let read = || async {
        let one = o.app.get(&format!("/requests/{id}"), &o.kabid).await;
        assert_eq!(one.assert_status(200)["id"], id.as_str());
        let list = o.app.get("/requests?limit=5", &o.kabid).await;
        assert_eq!(list.assert_status(200)["items"][0]["id"], id.as_str());
    };
    for _ in 0..4 {
        read().await;
    }
    let db = Database::connect(o.app.database_url.as_str()).await.unwrap();
    let ended = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'jembatan'",
        ))
        .await
        .unwrap();
    assert!(!ended.is_empty(), "the service had no session to end");
    // Until they are gone, so that the next reads find them dead (well within the second
    // after which an idle connection would be pinged first).
    for _ in 0..100 {
        let left = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = 'jembatan'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for _ in 0..4 {
        read().await;
    }
}
