use jembatan_tests::{PASSWORD, TestApp};
use serde_json::json;

#[tokio::test]
async fn admin_creates_organizations_and_users_and_lists_them_in_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let r = app
        .post("/organizations", &admin, json!({"code": "DINKES", "name": "Dinas Kesehatan", "kind": "agency"}))
        .await;
    let org = r.assert_status(201).clone();
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/organizations/{}", org["id"].as_str().unwrap()));
    for i in 0..5 {
        app.create_org(&admin, &format!("OPD-{i}"), "agency").await;
    }
    // DISKOMINFO (bootstrap) + DINKES + 5 = 7 organizations, in pages of 3.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/organizations?limit=3&cursor={c}"),
            None => "/organizations?limit=3".into(),
        };
        let page = app.get(&q, &admin).await.assert_status(200).clone();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|o| o["code"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["DINKES", "DISKOMINFO", "OPD-0", "OPD-1", "OPD-2", "OPD-3", "OPD-4"]);
    let agencies = app.get("/organizations?kind=agency&limit=100", &admin).await;
    assert_eq!(agencies.assert_status(200)["items"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn duplicate_codes_and_usernames_are_409() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let r = app.post("/organizations", &admin, json!({"code": "DINKES", "name": "Again", "kind": "agency"})).await;
    assert!(r.assert_problem(409)["detail"].as_str().unwrap().contains("DINKES"));
    app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    let r = app
        .post("/users", &admin, json!({"username": "budi", "full_name": "Budi 2", "password": PASSWORD, "organization_id": org["id"], "roles": ["applicant"]}))
        .await;
    r.assert_problem(409);
}

#[tokio::test]
async fn user_input_is_validated_field_by_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let r = app
        .post(
            "/users",
            &admin,
            json!({"username": "Bad Name", "full_name": "", "password": "short", "organization_id": org["id"],
                   "roles": ["head_of_agency"], "nip": "123", "email": "nope"}),
        )
        .await;
    let errors = &r.assert_problem(422)["errors"];
    for field in ["username", "full_name", "password", "roles", "nip", "email"] {
        assert!(errors[field].is_array(), "expected an error for {field}: {errors}");
    }
}

#[tokio::test]
async fn agency_staff_can_only_be_applicants() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let r = app
        .post("/users", &admin, json!({"username": "kadis.palsu", "full_name": "X", "password": PASSWORD, "organization_id": org["id"], "roles": ["head_of_agency"]}))
        .await;
    assert!(r.assert_problem(422)["errors"]["roles"].is_array());
}

#[tokio::test]
async fn an_applicant_cannot_use_admin_endpoints() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let (_, applicant) = app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    app.post("/organizations", &applicant, json!({"code": "EVIL", "name": "Evil", "kind": "agency"}))
        .await
        .assert_problem(403);
    app.get("/users", &applicant).await.assert_problem(403);
    app.get("/api-clients", &applicant).await.assert_problem(403);
    app.get("/audit/events", &applicant).await.assert_problem(403);
    let r = app
        .post("/users", &applicant, json!({"username": "x", "full_name": "x", "password": PASSWORD, "organization_id": org["id"], "roles": ["admin"]}))
        .await;
    r.assert_problem(403);
}

#[tokio::test]
async fn users_see_themselves_but_not_others() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let (budi, budi_token) = app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    let (siti, _) = app.user(&admin, "siti", &org["id"], &["applicant"]).await;
    app.get(&format!("/users/{}", budi["id"].as_str().unwrap()), &budi_token).await.assert_status(200);
    app.get(&format!("/users/{}", siti["id"].as_str().unwrap()), &budi_token).await.assert_problem(404);
}

#[tokio::test]
async fn updates_need_the_current_version() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let path = format!("/organizations/{}", org["id"].as_str().unwrap());
    let r = app.patch(&path, &admin, json!({"name": "Dinas Kesehatan Kab. Trenggalek", "version": 1})).await;
    assert_eq!(r.assert_status(200)["version"], 2);
    assert_eq!(r.header("etag"), Some("\"2\""));
    // Someone else still holding version 1:
    app.patch(&path, &admin, json!({"name": "Stale write", "version": 1})).await.assert_problem(409);
    let stale = app
        .send(
            app.http
                .patch(app.url(&path))
                .bearer_auth(&admin)
                .header("If-Match", "\"1\"")
                .json(&json!({"name": "Stale"})),
        )
        .await;
    // A failed If-Match is 412 (RFC 9110); a stale body version, above, is 409.
    stale.assert_problem(412);
    let fresh = app
        .send(
            app.http
                .patch(app.url(&path))
                .bearer_auth(&admin)
                .header("If-Match", "\"2\"")
                .json(&json!({"name": "Fresh"})),
        )
        .await;
    assert_eq!(fresh.assert_status(200)["name"], "Fresh");
    let got = app.get(&path, &admin).await;
    assert_eq!(got.body["name"], "Fresh");
    assert_eq!(got.header("etag"), Some("\"3\""));
}

#[tokio::test]
async fn users_are_filtered_by_role_and_organization() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let dinkes = app.create_org(&admin, "DINKES", "agency").await;
    let aptika = app.create_org(&admin, "APTIKA", "division").await;
    app.user(&admin, "budi", &dinkes["id"], &["applicant"]).await;
    app.user(&admin, "kabid", &aptika["id"], &["head_of_division"]).await;
    app.user(&admin, "kasi", &aptika["id"], &["technical_lead", "technical_staff"]).await;
    let names = |r: &jembatan_tests::Resp| {
        let mut v: Vec<String> =
            r.body["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&app.get("/users?role=technical_lead", &admin).await), ["kasi"]);
    assert_eq!(
        names(&app.get(&format!("/users?organization_id={}", aptika["id"].as_str().unwrap()), &admin).await),
        ["kabid", "kasi"]
    );
}

#[tokio::test]
async fn every_directory_change_is_in_the_audit_trail_and_the_chain_verifies() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let (user, _) = app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    app.post(&format!("/users/{}/deactivate", user["id"].as_str().unwrap()), &admin, json!({}))
        .await
        .assert_status(200);
    let events = app.get(&format!("/audit/events?object_id={}", user["id"].as_str().unwrap()), &admin).await;
    let actions: Vec<&str> =
        events.assert_status(200)["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["user.deactivated", "session.login", "user.created"]);
    let v = app.get("/audit/verify", &admin).await;
    assert_eq!(v.assert_status(200)["intact"], true, "{}", v.text);
    assert!(v.body["events_checked"].as_i64().unwrap() >= 5);
}

/// An admin cannot lock the office out by deactivating their own organization.
#[tokio::test]
async fn an_admin_cannot_deactivate_their_own_organization() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let own = app.get("/auth/me", &admin).await.body["organization_id"].as_str().unwrap().to_owned();
    app.post(&format!("/organizations/{own}/deactivate"), &admin, json!({})).await.assert_problem(409);
    // Still signed in, still active.
    assert_eq!(app.get(&format!("/organizations/{own}"), &admin).await.assert_status(200)["active"], true);
    let other = app.create_org(&admin, "DINKES", "agency").await;
    let id = other["id"].as_str().unwrap();
    assert_eq!(
        app.post(&format!("/organizations/{id}/deactivate"), &admin, json!({})).await.assert_status(200)["active"],
        false
    );
}

/// Changing one's own roles or organization would revoke one's own sessions (and could
/// remove the office's last admin): another admin must do it. Other fields stay one's own.
#[tokio::test]
async fn an_admin_cannot_change_their_own_roles_or_organization() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = app.get("/auth/me", &admin).await.body;
    let id = me["id"].as_str().unwrap().to_owned();
    let user = app.get(&format!("/users/{id}"), &admin).await.assert_status(200).clone();
    let version = user["version"].clone();
    let r =
        app.patch(&format!("/users/{id}"), &admin, json!({"roles": ["head_of_division"], "version": version})).await;
    r.assert_problem(409);
    assert_eq!(r.body["detail"], "you cannot change your own roles or organization; another admin must");
    let other = app.create_org(&admin, "DINKES", "agency").await;
    app.patch(&format!("/users/{id}"), &admin, json!({"organization_id": other["id"], "version": version}))
        .await
        .assert_problem(409);
    // Nothing changed, the session lives on, and the same roles again are not a change.
    let after = app.get(&format!("/users/{id}"), &admin).await.assert_status(200).clone();
    assert_eq!(after["roles"], user["roles"]);
    assert_eq!(after["version"], version);
    let same = app
        .patch(
            &format!("/users/{id}"),
            &admin,
            json!({"roles": user["roles"], "full_name": "Admin Diskominfo", "version": version}),
        )
        .await;
    assert_eq!(same.assert_status(200)["full_name"], "Admin Diskominfo");
    // Another admin may.
    let (other_admin, _) = app.user(&admin, "admin.dua", &me["organization_id"], &["admin"]).await;
    let other_id = other_admin["id"].as_str().unwrap();
    let v = app.get(&format!("/users/{other_id}"), &admin).await.body["version"].clone();
    let changed =
        app.patch(&format!("/users/{other_id}"), &admin, json!({"roles": ["head_of_division"], "version": v})).await;
    assert_eq!(changed.assert_status(200)["roles"], json!(["head_of_division"]));
}
