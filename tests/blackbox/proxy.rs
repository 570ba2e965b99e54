//! Issue 15, item 8: the reverse proxy of `docker-compose.yml`. Docker does not run on the
//! machines this is tested on, so the compose file itself is not started; its proxy
//! configuration is: nginx with `deploy/nginx.conf` as shipped (only the upstream addresses
//! and the port changed, `support/proxy.rs`) in front of the service, which trusts it
//! (`JEMBATAN_TRUSTED_PROXIES`) as the compose file has it.

use jembatan::config::Settings;
use jembatan_tests::TestApp;
use jembatan_tests::proxy::Proxy;
use jembatan_tests::replica::Replica;
use serde_json::json;

use crate::flows::Office;

fn behind_the_proxy(s: &mut Settings) {
    s.trusted_proxies = Some("127.0.0.1/32".into());
}

/// The proxy overwrites `X-Forwarded-For`: a client writing a new address into it on each
/// failed sign-in is still one address to the throttle. Sent straight to the service from
/// a trusted address, the same header is believed, so the check tells the two apart.
#[tokio::test]
async fn through_the_shipped_proxy_a_client_cannot_choose_its_address() {
    let app = TestApp::spawn_with(behind_the_proxy).await;
    let proxy = Proxy::start(&[&app.base, &app.base]);
    let attempt = |url: String, i: usize| {
        app.send(
            app.http
                .post(url)
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .json(&json!({"username": format!("nobody{i}"), "password": "not the password"})),
        )
    };
    // Straight to the service: 24 addresses, 24 accounts, one failure each, none locked.
    for i in 0..24 {
        attempt(app.url("/auth/login"), i).await.assert_problem(401);
    }
    // Through the proxy: one address (the client's own), locked at its limit of 20 failures.
    let mut statuses = Vec::new();
    for i in 100..124 {
        statuses.push(attempt(proxy.url("/auth/login"), i).await.status.as_u16());
    }
    assert_eq!(statuses[..20], [401; 20], "{statuses:?}");
    assert_eq!(statuses[20..], [429; 4], "{statuses:?}");
}

/// A document under the limit goes through (streamed to the service, digest intact); a
/// body over the proxy's own limit is refused by nginx in the service's error format, in
/// the client's language, not as nginx's HTML page.
#[tokio::test]
async fn the_shipped_proxy_passes_documents_and_refuses_a_too_large_body_as_a_problem() {
    let o = Office::with(TestApp::spawn_with(behind_the_proxy).await).await;
    let proxy = Proxy::start(&[&o.app.base, &o.app.base]);
    let id = o.create(&o.budi).await["id"].as_str().expect("id").to_owned();
    let upload = |bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("kind", "request_letter")
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name("surat.pdf"));
        o.app
            .send(o.app.http.post(proxy.url(&format!("/requests/{id}/documents"))).bearer_auth(&o.budi).multipart(form))
    };
    let pdf = crate::storage::pdf_of(3 * 1024 * 1024);
    let stored = upload(pdf.clone()).await;
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf));
    assert_eq!(stored.assert_status(201)["sha256"], digest, "{}", proxy.log());

    let too_large = upload(vec![b'x'; 22 * 1024 * 1024]).await;
    let problem = too_large.assert_problem(413);
    assert_eq!(problem["type"], "urn:jembatan:problem:payload-too-large");
    assert_eq!(problem["title"], "Payload too large");
    assert_eq!(too_large.header("content-language"), Some("en"));
    // The service's default language when the client names none.
    let url = proxy.url(&format!("/requests/{id}/documents"));
    let plain = reqwest::Client::new();
    let r = o.app.send(plain.post(url).bearer_auth(&o.budi).body(vec![b'x'; 22 * 1024 * 1024])).await;
    assert_eq!(r.assert_problem(413)["title"], "Muatan terlalu besar");
    // Nothing was stored but the first document.
    let documents = o.app.get(&format!("/requests/{id}/documents"), &o.budi).await;
    assert_eq!(documents.assert_status(200)["items"].as_array().map(Vec::len), Some(1), "{}", documents.text);
}

/// Calls go round-robin over both replicas; when one dies, the proxy sends every call,
/// reads and writes alike, to the other (a connection refused was never a request sent).
#[tokio::test]
async fn the_shipped_proxy_spreads_calls_over_the_replicas_and_skips_a_dead_one() {
    let app = TestApp::spawn_with(behind_the_proxy).await;
    if !app.database_url.starts_with("postgres") {
        eprintln!("proxy: two replicas need PostgreSQL (set JEMBATAN_TEST_POSTGRES_URL); nothing checked on SQLite");
        return;
    }
    let other = Replica::start(&app, behind_the_proxy).await;
    let proxy = Proxy::start(&[&app.base, &other.base]);
    let admin = app.admin_token().await;
    for _ in 0..10 {
        app.send(app.http.get(proxy.url("/auth/me")).bearer_auth(&admin)).await.assert_status(200);
    }
    // Each replica's own metrics count the calls it answered.
    let answered = async |base: &str| {
        let text = app.send(app.http.get(format!("{base}/metrics")).bearer_auth(&admin)).await.text;
        text.lines()
            .filter(|l| l.starts_with("jembatan_http_requests_total{") && l.contains("endpoint=\"/api/v1/auth/me\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    assert_eq!((answered(&app.base).await, answered(&other.base).await), (5.0, 5.0));

    other.kill().await;
    let me =
        async || app.send(app.http.get(proxy.url("/auth/me")).bearer_auth(&admin)).await.assert_status(200).clone();
    // Round-robin: after ten calls, one to this replica, then the dead one's turn. A write
    // there: the connection is refused (the request was never sent), and nginx sends the
    // POST to this replica.
    me().await;
    let created = app
        .send(
            app.http
                .post(proxy.url("/organizations"))
                .bearer_auth(&admin)
                .json(&json!({"code": "DISPERKIM", "name": "Dinas Perumahan", "kind": "agency"})),
        )
        .await;
    created.assert_status(201);
    let log = proxy.log();
    assert!(log.contains("Connection refused") && log.contains("POST /api/v1/organizations"), "{log}");
    for _ in 0..9 {
        me().await;
    }
    assert_eq!(answered(&app.base).await, 15.0, "{}", proxy.log());
}
