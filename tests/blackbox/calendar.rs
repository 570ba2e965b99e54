//! The office calendar over HTTP: due times computed by hand from
//! `docs/time-standards.md` (WIB = UTC+7), closed dates and schedules as admin-edited
//! data, and who may change them.

use std::sync::Arc;

use jembatan_tests::{ADMIN_PASSWORD, ADMIN_USERNAME, Resp, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

/// The calendar's fixed id in the audit trail.
const CALENDAR_ID: &str = "ca1e0da4-0000-4000-8000-000000000001";

async fn due(app: &TestApp, token: &str, from: &str, standard: &str) -> Resp {
    let req =
        app.http.get(app.url("/calendar/due")).bearer_auth(token).query(&[("from", from), ("standard", standard)]);
    app.send(req).await
}

/// `(clock_started_at, warning_at, target_at, limit_at)` in UTC.
async fn due_ok(app: &TestApp, token: &str, from: &str, standard: &str) -> [String; 4] {
    let r = due(app, token, from, standard).await;
    let b = r.assert_status(200);
    ["clock_started_at", "warning_at", "target_at", "limit_at"]
        .map(|k| b[k].as_str().unwrap_or_else(|| panic!("{k} missing: {b}")).to_owned())
}

async fn target(app: &TestApp, token: &str, from: &str, standard: &str) -> String {
    due_ok(app, token, from, standard).await[2].clone()
}

async fn elapsed(app: &TestApp, token: &str, from: &str, to: &str) -> Resp {
    let req = app.http.get(app.url("/calendar/elapsed")).bearer_auth(token).query(&[("from", from), ("to", to)]);
    app.send(req).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Resp {
    app.call(Method::DELETE, path, Some(token), None).await
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Resp {
    app.call(Method::PUT, path, Some(token), Some(body)).await
}

/// An admin and an applicant of an agency.
async fn people(app: &TestApp) -> (String, String) {
    let admin = app.admin_token().await;
    let org = app.create_org(&admin, "DINKES", "agency").await;
    let (_, applicant) = app.user(&admin, "budi", &org["id"], &["applicant"]).await;
    (admin, applicant)
}

fn regency_week() -> Value {
    let mon_thu = json!([{"start": "07:30", "end": "12:00"}, {"start": "12:15", "end": "15:30"}]);
    json!({
        "monday": mon_thu, "tuesday": mon_thu, "wednesday": mon_thu, "thursday": mon_thu,
        "friday": [{"start": "07:30", "end": "11:30"}, {"start": "12:30", "end": "15:00"}],
        "saturday": [], "sunday": []
    })
}

async fn calendar_actions(app: &TestApp, admin: &str) -> Vec<String> {
    let r = app.get(&format!("/audit/events?object_id={CALENDAR_ID}&limit=100"), admin).await;
    r.assert_status(200)["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn due_times_through_http_are_the_hand_worked_ones() {
    let app = TestApp::spawn().await;
    let (_, applicant) = people(&app).await;

    // 15m from Monday 2 March 2026 11:55 WIB: 5 minutes to the break, 10 after it → 12:25.
    // Warning at 12 of the 15 minutes: 12:22.
    let d = due_ok(&app, &applicant, "2026-03-02T04:55:00Z", "15m").await;
    assert_eq!(d, ["2026-03-02T04:55:00Z", "2026-03-02T05:22:00Z", "2026-03-02T05:25:00Z", "2026-03-02T05:25:00Z"]);
    // The same instant written with the WIB offset (a `+` in the query, encoded).
    assert_eq!(target(&app, &applicant, "2026-03-02T11:55:00+07:00", "15m").await, "2026-03-02T05:25:00Z");

    // 1d from Thursday 5 March 15:20: Friday closes at 15:00, so Friday 15:00. Working time
    // to the limit: 10 + 240 + 150 = 400 minutes; 80 % = 320 → Friday 13:40.
    let d = due_ok(&app, &applicant, "2026-03-05T08:20:00Z", "1d").await;
    assert_eq!(d, ["2026-03-05T08:20:00Z", "2026-03-06T06:40:00Z", "2026-03-06T08:00:00Z", "2026-03-06T08:00:00Z"]);

    // 1d from Tuesday 3 March 10:00 → Wednesday 10:00.
    assert_eq!(target(&app, &applicant, "2026-03-03T03:00:00Z", "1d").await, "2026-03-04T03:00:00Z");

    // Started on Saturday 7 March: the clock starts Monday 07:30; 15m → 07:45.
    let d = due_ok(&app, &applicant, "2026-03-07T03:00:00Z", "15m").await;
    assert_eq!(d[0], "2026-03-09T00:30:00Z");
    assert_eq!(d[2], "2026-03-09T00:45:00Z");

    // Idul Fitri 1447 H: Nyepi and Idulfitri with cuti bersama close Wednesday 18 March
    // to Tuesday 24 March 2026. 1-2d from Tuesday 17 March 10:00: target Wednesday
    // 25 March 10:00, limit Thursday 26 March 10:00; warning = target for a range.
    let d = due_ok(&app, &applicant, "2026-03-17T03:00:00Z", "1-2d").await;
    assert_eq!(d, ["2026-03-17T03:00:00Z", "2026-03-25T03:00:00Z", "2026-03-25T03:00:00Z", "2026-03-26T03:00:00Z"]);
    // Started during the leave (Friday 20 March 09:00): the clock starts Wednesday 25
    // March 07:30, 1d → Thursday 26 March 07:30.
    let d = due_ok(&app, &applicant, "2026-03-20T02:00:00Z", "1d").await;
    assert_eq!(d[0], "2026-03-25T00:30:00Z");
    assert_eq!(d[2], "2026-03-26T00:30:00Z");
    // 1w from Monday 16 March 08:00: Tue 17, Wed 25, Thu 26, Fri 27, Mon 30 → Monday
    // 30 March 08:00.
    assert_eq!(target(&app, &applicant, "2026-03-16T01:00:00Z", "1w").await, "2026-03-30T01:00:00Z");

    // The answer names the standard as understood.
    let r = due(&app, &applicant, "2026-03-02T04:55:00Z", "1d-2d").await;
    assert_eq!(r.assert_status(200)["standard"], "1-2d");
}

#[tokio::test]
async fn elapsed_working_time_skips_breaks_nights_and_holidays() {
    let app = TestApp::spawn().await;
    let (_, applicant) = people(&app).await;
    let r = elapsed(&app, &applicant, "2026-03-02T04:55:00Z", "2026-03-02T05:25:00Z").await;
    let b = r.assert_status(200);
    assert_eq!((b["working_seconds"].as_i64(), b["working_minutes"].as_i64()), (Some(900), Some(15)));
    // Tuesday 17 March 15:00 → Wednesday 25 March 08:00: 30 + 30 minutes.
    let r = elapsed(&app, &applicant, "2026-03-17T08:00:00Z", "2026-03-25T01:00:00Z").await;
    assert_eq!(r.assert_status(200)["working_minutes"], 60);
    let r = elapsed(&app, &applicant, "2026-03-02T04:55:00Z", "2026-03-02T04:55:00Z").await;
    assert_eq!(r.assert_status(200)["working_seconds"], 0);
    let r = elapsed(&app, &applicant, "2026-03-02T05:25:00Z", "2026-03-02T04:55:00Z").await;
    assert!(r.assert_problem(422)["errors"]["to"].is_array(), "{}", r.text);
}

#[tokio::test]
async fn bad_or_missing_parameters_are_400_naming_them() {
    let app = TestApp::spawn().await;
    let (_, applicant) = people(&app).await;
    let cases = [
        ("/calendar/due?standard=1d", "from"),
        ("/calendar/due?from=2026-03-02T04:55:00Z", "standard"),
        ("/calendar/due?from=2026-03-02T04:55:00Z&standard=1y", "standard"),
        ("/calendar/due?from=2026-03-02T04:55:00Z&standard=0d", "standard"),
        ("/calendar/due?from=2026-03-02T04:55:00Z&standard=1%20d", "standard"),
        ("/calendar/due?from=yesterday&standard=1d", "from"),
        ("/calendar/due?from=2026-03-02T11:55:00&standard=1d", "from"),
        ("/calendar/elapsed?from=2026-03-02T04:55:00Z", "to"),
        ("/calendar/elapsed?from=2026-03-02&to=2026-03-03", "from"),
    ];
    for (path, field) in cases {
        let r = app.get(path, &applicant).await;
        let body = r.assert_problem(400);
        assert!(body["errors"][field].is_array(), "{path}: {body}");
    }
    // Unreadable dates in a filter or path are 400 too.
    app.get("/calendar/closed-dates?from=2026-13-01", &applicant).await.assert_problem(400);
    app.get("/calendar/closed-dates?year=twenty", &applicant).await.assert_problem(400);
    app.get("/calendar/closed-dates/not-a-date", &applicant).await.assert_problem(400);
    app.get("/calendar/closed-dates?cursor=junk", &applicant).await.assert_problem(422);
    app.get("/calendar/closed-dates?from=2026-03-10&to=2026-03-01", &applicant).await.assert_problem(422);
    // A standard of the documented shape that is no standard (target not below limit) is 422.
    let r = due(&app, &applicant, "2026-03-02T04:55:00Z", "2-1d").await;
    assert!(r.assert_problem(422)["errors"]["standard"].is_array(), "{}", r.text);
    // A due time past the representable dates is 422, not a 500.
    let r = due(&app, &applicant, "2026-03-02T04:55:00Z", "99999999d").await;
    assert!(r.assert_problem(422)["errors"]["standard"].is_array(), "{}", r.text);
    // Signed-in only.
    app.call(Method::GET, "/calendar/due?from=2026-03-02T04:55:00Z&standard=1d", None, None).await.assert_problem(401);
    app.call(Method::GET, "/calendar", None, None).await.assert_problem(401);
}

#[tokio::test]
async fn seeded_holidays_are_listed_by_date_with_their_decrees() {
    let app = TestApp::spawn().await;
    let (_, applicant) = people(&app).await;
    let r = app.get("/calendar/closed-dates?year=2026&limit=100", &applicant).await;
    let items = r.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 17 + 8);
    assert!(r.body["next_cursor"].is_null());
    let dates: Vec<&str> = items.iter().map(|c| c["date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] < w[1]), "sorted: {dates:?}");
    assert!(items.iter().all(|c| c["source"].as_str().unwrap().contains("SKB")));
    let leave: Vec<&Value> = items.iter().filter(|c| c["kind"] == "collective_leave").collect();
    assert_eq!(leave.len(), 8);

    // 2027: libur nasional only (estimates), no cuti bersama yet.
    let r = app.get("/calendar/closed-dates?year=2027&limit=100", &applicant).await;
    let items = r.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 17);
    assert!(items.iter().all(|c| c["kind"] == "public_holiday"));

    // A range, in pages of 3 that join up.
    let mut seen = Vec::new();
    let mut path = "/calendar/closed-dates?from=2026-03-18&to=2026-03-24&limit=3".to_owned();
    loop {
        let page = app.get(&path, &applicant).await.assert_status(200).clone();
        seen.extend(page["items"].as_array().unwrap().iter().map(|c| c["date"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/calendar/closed-dates?from=2026-03-18&to=2026-03-24&limit=3&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<String> = (18..=24).map(|d| format!("2026-03-{d}")).collect();
    assert_eq!(seen, expected);

    let r = app.get("/calendar/closed-dates/2026-03-21", &applicant).await;
    assert_eq!(r.assert_status(200)["name"], "Idulfitri 1447 Hijriah");
    app.get("/calendar/closed-dates/2026-03-02", &applicant).await.assert_problem(404);

    // The calendar itself: WIB, the regency's week.
    let r = app.get("/calendar", &applicant).await;
    let cal = r.assert_status(200);
    assert_eq!(cal["time_zone"], "Asia/Jakarta");
    assert_eq!(cal["id"], CALENDAR_ID);
    assert_eq!(cal["weekly_working_minutes"], 2250);
    assert_eq!(cal["weekly_schedule"]["friday"][1]["start"], "12:30:00");
    assert_eq!(cal["special_schedules"], json!([]));
    assert_eq!(r.header("etag"), Some(format!("\"{}\"", cal["version"]).as_str()));
}

#[tokio::test]
async fn adding_a_closed_date_moves_due_times_and_deleting_it_moves_them_back() {
    let app = TestApp::spawn().await;
    let (admin, applicant) = people(&app).await;
    // 1d from Thursday 5 March 2026 15:20 → Friday 15:00.
    assert_eq!(target(&app, &applicant, "2026-03-05T08:20:00Z", "1d").await, "2026-03-06T08:00:00Z");

    let closure = json!({"date": "2026-03-06", "name": "Hari Jadi Kabupaten Trenggalek", "kind": "regional_closure",
                         "source": "Surat Edaran Bupati Trenggalek (test)"});
    let r = app.post("/calendar/closed-dates", &admin, closure.clone()).await;
    assert_eq!(r.assert_status(201)["kind"], "regional_closure");
    assert_eq!(r.header("location"), Some("/api/v1/calendar/closed-dates/2026-03-06"));
    // Friday is closed: Monday 9 March at the same clock time, 15:20.
    assert_eq!(target(&app, &applicant, "2026-03-05T08:20:00Z", "1d").await, "2026-03-09T08:20:00Z");
    let r = elapsed(&app, &applicant, "2026-03-05T08:00:00Z", "2026-03-09T01:00:00Z").await;
    assert_eq!(r.assert_status(200)["working_minutes"], 30 + 30);

    // The same date again: 409. A correction of its name: PUT.
    app.post("/calendar/closed-dates", &admin, closure).await.assert_problem(409);
    let r = put(
        &app,
        "/calendar/closed-dates/2026-03-06",
        &admin,
        json!({"name": "Hari Jadi Trenggalek ke-832", "kind": "regional_closure", "source": "SE Bupati (corrected)"}),
    )
    .await;
    assert_eq!(r.assert_status(200)["name"], "Hari Jadi Trenggalek ke-832");
    put(
        &app,
        "/calendar/closed-dates/2026-03-02",
        &admin,
        json!({"name": "x", "kind": "regional_closure", "source": "y"}),
    )
    .await
    .assert_problem(404);

    delete(&app, "/calendar/closed-dates/2026-03-06", &admin).await.assert_status(204);
    assert_eq!(target(&app, &applicant, "2026-03-05T08:20:00Z", "1d").await, "2026-03-06T08:00:00Z");
    delete(&app, "/calendar/closed-dates/2026-03-06", &admin).await.assert_problem(404);

    // Deleting a seeded holiday makes it a working day: Isra Mikraj, Friday 16 January.
    assert_eq!(target(&app, &applicant, "2026-01-15T03:00:00Z", "1d").await, "2026-01-19T03:00:00Z");
    delete(&app, "/calendar/closed-dates/2026-01-16", &admin).await.assert_status(204);
    assert_eq!(target(&app, &applicant, "2026-01-15T03:00:00Z", "1d").await, "2026-01-16T03:00:00Z");

    let actions = calendar_actions(&app, &admin).await;
    assert_eq!(
        actions,
        [
            "calendar.closed_date_deleted",
            "calendar.closed_date_deleted",
            "calendar.closed_date_updated",
            "calendar.closed_date_added",
            "calendar.seeded",
        ]
    );
    let events = app.get(&format!("/audit/events?object_id={CALENDAR_ID}&limit=1"), &admin).await;
    let latest = &events.assert_status(200)["items"][0];
    assert_eq!(latest["details"]["date"], "2026-01-16");
    assert_eq!(latest["details"]["kind"], "public_holiday");
    assert!(latest["actor_user_id"].is_string());
    let v = app.get("/audit/verify", &admin).await;
    assert_eq!(v.assert_status(200)["intact"], true, "{}", v.text);
}

#[tokio::test]
async fn closed_date_input_is_validated() {
    let app = TestApp::spawn().await;
    let (admin, _) = people(&app).await;
    let r = app
        .post(
            "/calendar/closed-dates",
            &admin,
            json!({"date": "2026-03-06", "name": " ", "kind": "regional_closure", "source": ""}),
        )
        .await;
    let errors = &r.assert_problem(422)["errors"];
    assert!(errors["name"].is_array() && errors["source"].is_array(), "{errors}");
    let r = app
        .post(
            "/calendar/closed-dates",
            &admin,
            json!({"date": "1900-01-01", "name": "x", "kind": "regional_closure", "source": "y"}),
        )
        .await;
    assert!(r.assert_problem(422)["errors"]["date"].is_array());
    let r = app
        .post(
            "/calendar/closed-dates",
            &admin,
            json!({"date": "2026-03-06", "name": "x", "kind": "bank_holiday", "source": "y"}),
        )
        .await;
    assert!(r.assert_problem(400)["errors"]["kind"].is_array());
    let r = app
        .post(
            "/calendar/closed-dates",
            &admin,
            json!({"date": "2026-03-06", "name": "x", "kind": "regional_closure", "source": "y", "half_day": true}),
        )
        .await;
    assert!(r.assert_problem(400)["detail"].as_str().unwrap().contains("half_day"));
}

#[tokio::test]
async fn an_applicant_reads_the_calendar_but_cannot_change_it() {
    let app = TestApp::spawn().await;
    let (_, applicant) = people(&app).await;
    app.get("/calendar", &applicant).await.assert_status(200);
    app.get("/calendar/closed-dates", &applicant).await.assert_status(200);
    app.get("/calendar/special-schedules", &applicant).await.assert_status(200);
    let closure = json!({"date": "2026-03-06", "name": "x", "kind": "regional_closure", "source": "y"});
    app.post("/calendar/closed-dates", &applicant, closure).await.assert_problem(403);
    delete(&app, "/calendar/closed-dates/2026-03-20", &applicant).await.assert_problem(403);
    put(
        &app,
        "/calendar/closed-dates/2026-03-20",
        &applicant,
        json!({"name": "x", "kind": "regional_closure", "source": "y"}),
    )
    .await
    .assert_problem(403);
    put(&app, "/calendar/weekly-schedule", &applicant, json!({"hours": regency_week()})).await.assert_problem(403);
    let special =
        json!({"from": "2026-02-18", "to": "2026-03-17", "name": "x", "source": "y", "hours": regency_week()});
    app.post("/calendar/special-schedules", &applicant, special).await.assert_problem(403);
    delete(&app, &format!("/calendar/special-schedules/{}", uuid::Uuid::new_v4()), &applicant)
        .await
        .assert_problem(403);
    // Nothing changed.
    app.get("/calendar/closed-dates/2026-03-20", &applicant).await.assert_status(200);
}

#[tokio::test]
async fn the_weekly_schedule_is_replaced_whole_checked_and_versioned() {
    let app = TestApp::spawn().await;
    let (admin, applicant) = people(&app).await;
    let closed = json!({"monday": [], "tuesday": [], "wednesday": [], "thursday": [], "friday": [], "saturday": [], "sunday": []});
    let r = put(&app, "/calendar/weekly-schedule", &admin, json!({"hours": closed})).await;
    assert!(r.assert_problem(422)["errors"]["hours"].is_array(), "{}", r.text);

    let mut overlapping = regency_week();
    overlapping["monday"] = json!([{"start": "07:30", "end": "12:00"}, {"start": "11:00", "end": "15:30"}]);
    let r = put(&app, "/calendar/weekly-schedule", &admin, json!({"hours": overlapping})).await;
    assert!(r.assert_problem(422)["errors"]["hours.monday"].is_array(), "{}", r.text);

    let mut backwards = regency_week();
    backwards["friday"] = json!([{"start": "15:00", "end": "07:30"}]);
    let r = put(&app, "/calendar/weekly-schedule", &admin, json!({"hours": backwards})).await;
    assert!(r.assert_problem(422)["errors"]["hours.friday"].is_array(), "{}", r.text);

    let mut missing_day = regency_week();
    missing_day.as_object_mut().unwrap().remove("sunday");
    put(&app, "/calendar/weekly-schedule", &admin, json!({"hours": missing_day})).await.assert_problem(400);
    let mut typo = regency_week();
    typo["mondy"] = json!([]);
    put(&app, "/calendar/weekly-schedule", &admin, json!({"hours": typo})).await.assert_problem(400);

    // Saturday mornings: 1d from Friday 6 March 14:00 is due Saturday at its 12:00 close.
    let before = app.get("/calendar", &admin).await;
    let version = before.assert_status(200)["version"].as_i64().unwrap();
    let mut saturdays = regency_week();
    saturdays["saturday"] = json!([{"start": "08:00", "end": "12:00"}]);
    let r = put(&app, "/calendar/weekly-schedule", &admin, json!({"hours": saturdays, "version": version})).await;
    let cal = r.assert_status(200);
    assert_eq!(cal["version"], version + 1);
    assert_eq!(cal["weekly_working_minutes"], 2250 + 240);
    assert_eq!(cal["weekly_schedule"]["saturday"][0]["end"], "12:00:00");
    assert_eq!(r.header("etag"), Some(format!("\"{}\"", version + 1).as_str()));
    assert_eq!(target(&app, &applicant, "2026-03-06T07:00:00Z", "1d").await, "2026-03-07T05:00:00Z");

    // Stale versions are refused, in the body or as If-Match.
    let r = put(&app, "/calendar/weekly-schedule", &admin, json!({"hours": regency_week(), "version": version})).await;
    r.assert_problem(409);
    let stale = app
        .send(
            app.http
                .put(app.url("/calendar/weekly-schedule"))
                .bearer_auth(&admin)
                .header("If-Match", format!("\"{version}\""))
                .json(&json!({"hours": regency_week()})),
        )
        .await;
    stale.assert_problem(409);
    let r = put(&app, "/calendar/weekly-schedule", &admin, json!({"hours": regency_week()})).await;
    assert_eq!(r.assert_status(200)["version"], version + 2);
    assert_eq!(target(&app, &applicant, "2026-03-06T07:00:00Z", "1d").await, "2026-03-09T07:00:00Z");

    let actions = calendar_actions(&app, &admin).await;
    assert_eq!(actions[..2], ["calendar.weekly_schedule_replaced", "calendar.weekly_schedule_replaced"]);
}

#[tokio::test]
async fn special_schedules_replace_the_hours_of_their_dates_and_may_not_overlap() {
    let app = TestApp::spawn().await;
    let (admin, applicant) = people(&app).await;
    let day = json!([{"start": "08:00", "end": "15:00"}]);
    let ramadan_hours = json!({"monday": day, "tuesday": day, "wednesday": day, "thursday": day,
                              "friday": [{"start": "08:00", "end": "15:30"}], "saturday": [], "sunday": []});
    // Without it, 15m from Monday 2 March 07:30 is due 07:45.
    assert_eq!(target(&app, &applicant, "2026-03-02T00:30:00Z", "15m").await, "2026-03-02T00:45:00Z");

    let ramadan = json!({"from": "2026-02-18", "to": "2026-03-17", "name": "Jam kerja Ramadan 1447 H",
                         "source": "SE Menteri PANRB (test)", "hours": ramadan_hours});
    let r = app.post("/calendar/special-schedules", &admin, ramadan).await;
    let created = r.assert_status(201).clone();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/calendar/special-schedules/{id}"));
    assert_eq!(created["hours"]["friday"][0]["end"], "15:30:00");
    // The office opens at 08:00 in Ramadan: the clock starts then, due 08:15.
    let d = due_ok(&app, &applicant, "2026-03-02T00:30:00Z", "15m").await;
    assert_eq!((d[0].as_str(), d[2].as_str()), ("2026-03-02T01:00:00Z", "2026-03-02T01:15:00Z"));
    // A closed date inside the range still closes the office: 17 March is in the range
    // and working, Nyepi leave on 18 March is closed (and outside the range anyway).
    let cal = app.get("/calendar", &applicant).await;
    assert_eq!(cal.assert_status(200)["special_schedules"][0]["id"], id.as_str());
    app.get(&format!("/calendar/special-schedules/{id}"), &applicant).await.assert_status(200);
    let list = app.get("/calendar/special-schedules", &applicant).await;
    assert_eq!(list.assert_status(200)["items"].as_array().unwrap().len(), 1);

    // Overlapping it: 422 on `from`. Ending before it starts: 422 on `to`.
    let overlap = json!({"from": "2026-03-10", "to": "2026-03-31", "name": "Another", "source": "x",
                         "hours": regency_week()});
    let r = app.post("/calendar/special-schedules", &admin, overlap).await;
    assert!(r.assert_problem(422)["errors"]["from"].is_array(), "{}", r.text);
    let reversed = json!({"from": "2026-04-10", "to": "2026-04-01", "name": "Backwards", "source": "x",
                          "hours": regency_week()});
    let r = app.post("/calendar/special-schedules", &admin, reversed).await;
    assert!(r.assert_problem(422)["errors"]["to"].is_array(), "{}", r.text);
    let mut bad = regency_week();
    bad["tuesday"] = json!([{"start": "09:00", "end": "09:00"}]);
    let r = app
        .post(
            "/calendar/special-schedules",
            &admin,
            json!({"from": "2026-04-06", "to": "2026-04-10", "name": "Bad",
                                                          "source": "x", "hours": bad}),
        )
        .await;
    assert!(r.assert_problem(422)["errors"]["hours.tuesday"].is_array(), "{}", r.text);

    delete(&app, &format!("/calendar/special-schedules/{id}"), &admin).await.assert_status(204);
    assert_eq!(target(&app, &applicant, "2026-03-02T00:30:00Z", "15m").await, "2026-03-02T00:45:00Z");
    delete(&app, &format!("/calendar/special-schedules/{id}"), &admin).await.assert_problem(404);
    app.get(&format!("/calendar/special-schedules/{id}"), &applicant).await.assert_problem(404);

    let actions = calendar_actions(&app, &admin).await;
    assert_eq!(actions[..2], ["calendar.special_schedule_deleted", "calendar.special_schedule_added"]);
}

#[tokio::test]
async fn a_deleted_seeded_date_stays_deleted_after_a_restart() {
    let app = TestApp::spawn().await;
    let (admin, _) = people(&app).await;
    delete(&app, "/calendar/closed-dates/2026-01-16", &admin).await.assert_status(204);
    let count = |r: &Resp| r.body["items"].as_array().map(Vec::len);
    let before = app.get("/calendar/closed-dates?year=2026&limit=100", &admin).await;
    assert_eq!(count(&before), Some(17 + 8 - 1));

    // A second instance of the service on the same database, as after a restart.
    let settings = jembatan::config::Settings {
        database_url: app.database_url.clone(),
        listen: "127.0.0.1:0".into(),
        jwt_secret: Some(format!("test-secret-{}", uuid::Uuid::new_v4())),
        storage_dir: app.storage_dir.clone(),
        admin_username: Some(ADMIN_USERNAME.into()),
        admin_password: Some(ADMIN_PASSWORD.into()),
        db_max_connections: 5,
        workers: Some(1),
        ..jembatan::config::Settings::default()
    }
    .check(false)
    .expect("valid settings");
    let restarted = jembatan::startup::Application::build(settings, Arc::new(jembatan::clock::SystemClock))
        .await
        .expect("the service starts again");
    let base = format!("http://127.0.0.1:{}/api/v1", restarted.port());
    tokio::spawn(restarted.run_until_stopped());
    jembatan::signer::install_tls_provider();
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let token = login.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let after: Value = http
        .get(format!("{base}/calendar/closed-dates?year=2026&limit=100"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["items"].as_array().map(Vec::len), Some(17 + 8 - 1));
    assert!(after["items"].as_array().unwrap().iter().all(|c| c["date"] != "2026-01-16"));
    // The restarted service computes with it: Thursday 15 January + 1d = Friday 16th.
    let d: Value = http
        .get(format!("{base}/calendar/due"))
        .query(&[("from", "2026-01-15T03:00:00Z"), ("standard", "1d")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["target_at"], "2026-01-16T03:00:00Z");
    // Seeded once only.
    let seeded = calendar_actions(&app, &admin).await.into_iter().filter(|a| a == "calendar.seeded").count();
    assert_eq!(seeded, 1);
}

#[tokio::test]
async fn concurrent_changes_are_checked_one_after_the_other() {
    let app = TestApp::spawn().await;
    let (admin, _) = people(&app).await;
    // Five admins add overlapping special schedules at once: one wins, the others are
    // checked against it and refused.
    let attempts = (0..5).map(|i| {
        let body = json!({"from": format!("2026-07-{:02}", 1 + i), "to": "2026-07-20", "name": format!("Attempt {i}"),
                          "source": "x", "hours": regency_week()});
        app.post("/calendar/special-schedules", &admin, body)
    });
    let results = futures_util::future::join_all(attempts).await;
    let mut statuses: Vec<u16> = results.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 422, 422, 422, 422], "{:?}", results.iter().map(|r| &r.text).collect::<Vec<_>>());
    // The same date added five times at once: one 201, four 409.
    let attempts = (0..5).map(|i| {
        let body =
            json!({"date": "2026-07-31", "name": format!("Closure {i}"), "kind": "regional_closure", "source": "x"});
        app.post("/calendar/closed-dates", &admin, body)
    });
    let mut statuses: Vec<u16> =
        futures_util::future::join_all(attempts).await.iter().map(|r| r.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409]);
    // Every change bumped the version once: seeded at 1, two changes since.
    let cal = app.get("/calendar", &admin).await;
    assert_eq!(cal.assert_status(200)["version"], 3);
    assert_eq!(cal.body["special_schedules"].as_array().map(Vec::len), Some(1));
}
