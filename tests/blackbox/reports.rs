//! `/reports/sla` and `/reports/summary` against a fixture worked out by hand.
//!
//! Every action happens at a moment the office is closed (06:00 or 06:30 before the
//! 07:30 opening, 12:05 in the 12:00–12:15 break, 16:00 after the 15:30 close), so the
//! working durations are exact whole numbers however long the test itself takes (the
//! shifted clock keeps running in real time).
//!
//! The week of Monday 16 November 2026 (no closed dates). Mon–Thu: 07:30–12:00 (16 200 s)
//! and 12:15–15:30 (11 700 s), a whole day 27 900 s (the report's working day, 7.75 h).
//!
//! Requests: A, B, C, D external from DINKES (budi); E, G, H external from DUKCAPIL (rina);
//! F a DINKES draft; P, Q internal from IKP (walked to completion).
//!
//! | when (WIB) | what |
//! |---|---|
//! | Mon 06:00 | A B C D E G P Q created and submitted; F created |
//! | Mon 06:30 | disposition of A and D; G withdrawn |
//! | Mon 12:05 | disposition of B; follow-up of A; D returned (at follow-up); P walked to the end |
//! | Mon 16:00 | disposition of C; follow-up of B |
//! | Tue 06:00 | follow-up of C |
//! | Tue 12:05 | D resubmitted |
//! | Tue 16:00 | discussion of A; follow-up of D |
//! | Wed 06:00 | discussion of B |
//! | Wed 12:05 | discussion of C |
//! | Thu 16:00 | Q walked to the end |
//! | Fri 06:00 | H created and submitted; the reports are read |

use jembatan_tests::Resp;
use serde_json::{Value, json};

use crate::flows::Office;
use crate::sla::{quiet_office, set_clock, wib};

/// Creates and submits an external request (the applicant attaches the letter).
async fn start(o: &Office, token: &str) -> String {
    let r = o.create(token).await;
    let id = r["id"].as_str().unwrap().to_owned();
    o.attach(token, &id, "request_letter").await;
    o.act(token, &id, "submit", json!({})).await.assert_status(200);
    id
}

async fn start_internal(o: &Office) -> String {
    let r = o.create(&o.ikp).await;
    let id = r["id"].as_str().unwrap().to_owned();
    o.attach(&o.ikp, &id, "application_document").await;
    o.attach(&o.ikp, &id, "meeting_minutes").await;
    o.act(&o.ikp, &id, "submit", json!({})).await.assert_status(200);
    id
}

/// Every step of the internal flow after submission, at once.
async fn finish_internal(o: &Office, id: &str) {
    o.attach(&o.kabid, id, "request_letter").await;
    o.act(&o.kabid, id, "disposition", json!({"instructions": ["telaah_dan_saran"]})).await.assert_status(200);
    o.act(&o.kasi, id, "follow-up", json!({})).await.assert_status(200);
    o.attach(&o.kasi, id, "formulation").await;
    o.act(&o.kasi, id, "discussion", json!({})).await.assert_status(200);
    o.attach(&o.kabid, id, "api_document").await;
    o.act(&o.kabid, id, "team", json!({"lead_user_id": o.sari_id, "member_user_ids": []})).await.assert_status(200);
    o.act(&o.sari, id, "integration", json!({"base_url": "http://10.0.0.5/api"})).await.assert_status(200);
    o.attach(&o.sari, id, "test_report").await;
    o.act(&o.sari, id, "testing", json!({"result": "passed"})).await.assert_status(200);
    o.attach(&o.sari, id, "integration_report").await;
    o.act(&o.sari, id, "implementation", json!({})).await.assert_status(200);
    o.attach(&o.kasi, id, "final_report").await;
    let r = o.act(&o.kasi, id, "report", json!({})).await;
    assert_eq!(r.assert_status(200)["status"], "completed");
}

struct Fixture {
    o: Office,
    dukcapil_id: String,
}

async fn fixture() -> Fixture {
    fixture_in(quiet_office().await).await
}

async fn fixture_in(o: Office) -> Fixture {
    set_clock(&o.app, wib(2026, 11, 16, 6, 0));
    let [a, b, c, d] =
        [start(&o, &o.budi).await, start(&o, &o.budi).await, start(&o, &o.budi).await, start(&o, &o.budi).await];
    let e = start(&o, &o.rina).await;
    let g = start(&o, &o.rina).await;
    let p = start_internal(&o).await;
    let q = start_internal(&o).await;
    let f = o.create(&o.budi).await;
    assert_eq!(f["status"], "draft");
    let dukcapil_id = o.get(&o.rina, &e).await["organization_id"].as_str().unwrap().to_owned();
    let dispose = json!({"instructions": ["tindak_lanjuti"]});

    set_clock(&o.app, wib(2026, 11, 16, 6, 30));
    o.act(&o.kabid, &a, "disposition", dispose.clone()).await.assert_status(200);
    o.act(&o.kabid, &d, "disposition", dispose.clone()).await.assert_status(200);
    o.act(&o.rina, &g, "withdraw", json!({})).await.assert_status(200);

    set_clock(&o.app, wib(2026, 11, 16, 12, 5));
    o.act(&o.kabid, &b, "disposition", dispose.clone()).await.assert_status(200);
    o.act(&o.kasi, &a, "follow-up", json!({})).await.assert_status(200);
    o.act(&o.kasi, &d, "return", json!({"reason": "Lampiran kurang"})).await.assert_status(200);
    finish_internal(&o, &p).await;

    set_clock(&o.app, wib(2026, 11, 16, 16, 0));
    o.act(&o.kabid, &c, "disposition", dispose.clone()).await.assert_status(200);
    o.act(&o.kasi, &b, "follow-up", json!({})).await.assert_status(200);

    set_clock(&o.app, wib(2026, 11, 17, 6, 0));
    o.act(&o.kasi, &c, "follow-up", json!({})).await.assert_status(200);

    set_clock(&o.app, wib(2026, 11, 17, 12, 5));
    let r = o.act(&o.budi, &d, "resubmit", json!({})).await;
    // D's follow-up was due Mon 07:45; it waited Mon 12:15–15:30 + Tue 07:30–12:00 =
    // 27 900 s, so it is now due 27 900 working seconds after Mon 07:45 = Tue 07:45.
    crate::sla::assert_near(&r.assert_status(200)["current_step"]["due_at"], wib(2026, 11, 17, 7, 45));

    set_clock(&o.app, wib(2026, 11, 17, 16, 0));
    o.attach(&o.kasi, &a, "formulation").await;
    o.act(&o.kasi, &a, "discussion", json!({})).await.assert_status(200);
    o.act(&o.kasi, &d, "follow-up", json!({})).await.assert_status(200);

    set_clock(&o.app, wib(2026, 11, 18, 6, 0));
    o.attach(&o.kasi, &b, "formulation").await;
    o.act(&o.kasi, &b, "discussion", json!({})).await.assert_status(200);

    set_clock(&o.app, wib(2026, 11, 18, 12, 5));
    o.attach(&o.kasi, &c, "formulation").await;
    o.act(&o.kasi, &c, "discussion", json!({})).await.assert_status(200);

    set_clock(&o.app, wib(2026, 11, 19, 16, 0));
    finish_internal(&o, &q).await;

    set_clock(&o.app, wib(2026, 11, 20, 6, 0));
    let _h = start(&o, &o.rina).await;
    Fixture { o, dukcapil_id }
}

fn row<'a>(report: &'a Value, flow: &str, step: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["flow"] == flow && r["step_code"] == step)
        .unwrap_or_else(|| panic!("no row {flow}/{step} in {report}"))
}

#[track_caller]
fn expect(report: &Value, flow: &str, step: &str, want: Value) {
    let r = row(report, flow, step);
    for (k, v) in want.as_object().expect("an object") {
        assert_eq!(&r[k], v, "{flow}/{step}: `{k}` in {r}");
    }
}

/// Nothing completed; only the now-figures may be non-zero.
fn none_completed(open: u64, overdue: u64) -> Value {
    json!({"completed": 0, "median_working_seconds": null, "p90_working_seconds": null,
           "median_working_days": null, "p90_working_days": null,
           "within_target": 0, "within_target_share": null, "within_limit": 0, "within_limit_share": null,
           "open_now": open, "overdue_now": overdue})
}

async fn sla(o: &Office, query: &str) -> Value {
    o.app.get(&format!("/reports/sla{query}"), &o.auditor).await.assert_status(200).clone()
}

#[tokio::test]
async fn the_sla_report_matches_the_hand_computed_fixture() {
    let Fixture { o, dukcapil_id } = fixture().await;
    let all = sla(&o, "").await;
    assert_eq!(all["working_day_seconds"], 27_900);
    // External 10 steps, internal 9, in SOP order.
    let rows = all["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 19);
    assert_eq!(rows[0]["flow"], "external");
    assert_eq!(rows[0]["step_code"], "submit");
    assert_eq!(rows[4]["step_code"], "approval");
    assert_eq!(rows[10]["flow"], "internal");

    // submit ("1d"): A B C D E G H were created and submitted while the office was
    // closed (their clocks would have started at the next opening) → 7 × 0 s, all on time.
    expect(
        &all,
        "external",
        "submit",
        json!({"completed": 7, "median_working_seconds": 0, "p90_working_seconds": 0,
        "median_working_days": 0.0, "p90_working_days": 0.0, "within_target": 7, "within_target_share": 1.0,
        "within_limit": 7, "within_limit_share": 1.0, "open_now": 0, "overdue_now": 0, "time_standard": "1d"}),
    );
    // disposition ("15m", clocks from Mon 07:30, due 07:45): A 0 and D 0 (done 06:30),
    // B 16 200 (12:05), C 27 900 (16:00); G was withdrawn, so not counted.
    // Sorted [0, 0, 16 200, 27 900]: median (rank 1.5) = (0 + 16 200) / 2 = 8 100;
    // p90 (rank 3 × 0.9 = 2.7) = 16 200 + 0.7 × 11 700 = 24 390. On time: A, D → 2/4.
    // Open now: E (due Mon 07:45, overdue) and H (due Fri 07:45, not yet).
    expect(
        &all,
        "external",
        "disposition",
        json!({"completed": 4, "median_working_seconds": 8_100,
        "p90_working_seconds": 24_390, "median_working_days": null, "p90_working_days": null,
        "within_target": 2, "within_target_share": 0.5, "within_limit": 2, "within_limit_share": 0.5,
        "open_now": 2, "overdue_now": 1}),
    );
    // follow_up ("15m"): A 07:30→12:05 = 16 200; B Mon 12:15→16:00 = 11 700;
    // C Tue 06:00, before its clock started (Tue 07:30) = 0, on time;
    // D Mon 07:30→Tue 16:00 = 55 800 less 27 900 waited = 27 900, due Tue 07:45, late.
    // Sorted [0, 11 700, 16 200, 27 900]: median (11 700 + 16 200) / 2 = 13 950;
    // p90 = 16 200 + 0.7 × 11 700 = 24 390. On time 1/4.
    expect(
        &all,
        "external",
        "follow_up",
        json!({"completed": 4, "median_working_seconds": 13_950,
        "p90_working_seconds": 24_390, "within_target": 1, "within_target_share": 0.25, "within_limit": 1,
        "within_limit_share": 0.25, "open_now": 0, "overdue_now": 0}),
    );
    // discussion ("1d"): A Mon 12:15→Tue 16:00 = 11 700 + 27 900 = 39 600 (due Tue 12:15,
    // late); B Tue 07:30→Wed 06:00 = 27 900 (due Wed 07:30, on time); C Tue 07:30→Wed 12:05
    // = 27 900 + 16 200 = 44 100 (due Wed 07:30, late).
    // Sorted [27 900, 39 600, 44 100]: median 39 600; p90 (rank 1.8) = 39 600 + 0.8 × 4 500
    // = 43 200. In days of 27 900 s: 1.419… → 1.42 and 1.548… → 1.55. On time 1/3.
    // Open now: D (started Tue 16:00, due Thu 07:30: overdue on Friday).
    expect(
        &all,
        "external",
        "discussion",
        json!({"completed": 3, "median_working_seconds": 39_600,
        "p90_working_seconds": 43_200, "median_working_days": 1.42, "p90_working_days": 1.55,
        "within_target": 1, "within_target_share": 0.3333, "within_limit": 1, "within_limit_share": 0.3333,
        "open_now": 1, "overdue_now": 1}),
    );
    // approval: A (due Thu 07:30), B (Thu 07:30), C (Thu 12:15) all waiting, all overdue.
    expect(&all, "external", "approval", none_completed(3, 3));
    for step in ["team", "integration", "testing", "implementation", "report"] {
        expect(&all, "external", step, none_completed(0, 0));
    }

    // Internal: P and Q submitted Mon 06:00 (0 s each). Disposition: P Mon 07:30→12:05 =
    // 16 200, Q Mon 07:30→Thu 16:00 = 4 × 27 900 = 111 600, both late.
    // [16 200, 111 600]: median 63 900; p90 (rank 0.9) = 16 200 + 0.9 × 95 400 = 102 060.
    expect(
        &all,
        "internal",
        "submit",
        json!({"completed": 2, "median_working_seconds": 0, "within_target_share": 1.0}),
    );
    expect(
        &all,
        "internal",
        "disposition",
        json!({"completed": 2, "median_working_seconds": 63_900,
        "p90_working_seconds": 102_060, "median_working_days": null, "within_target": 0, "within_target_share": 0.0,
        "within_limit_share": 0.0, "open_now": 0}),
    );
    // Every later step was done in the same closed moment it started: 0 s, on time.
    for (step, standard, days) in [
        ("follow_up", "1d", json!(0.0)),
        ("discussion", "1d", json!(0.0)),
        ("team", "1h", json!(null)),
        ("integration", "1w", json!(0.0)),
        ("testing", "1-2d", json!(0.0)),
        ("implementation", "2d", json!(0.0)),
        ("report", "1d", json!(0.0)),
    ] {
        expect(
            &all,
            "internal",
            step,
            json!({"completed": 2, "median_working_seconds": 0, "p90_working_seconds": 0,
            "median_working_days": days, "within_target": 2, "within_target_share": 1.0, "time_standard": standard}),
        );
    }

    // The period: Tuesday 17 November (a date is the whole WIB day). Completed then:
    // follow-up of C (0 s, on time) and D (27 900 s, late); discussion of A (39 600 s).
    // follow_up [0, 27 900]: median 13 950; p90 = 0.9 × 27 900 = 25 110.
    let tue = sla(&o, "?from=2026-11-17&to=2026-11-17").await;
    assert_eq!(tue["from"], "2026-11-16T17:00:00Z");
    assert_eq!(tue["to"], "2026-11-17T17:00:00Z");
    expect(
        &tue,
        "external",
        "follow_up",
        json!({"completed": 2, "median_working_seconds": 13_950,
        "p90_working_seconds": 25_110, "within_target": 1, "within_target_share": 0.5}),
    );
    expect(
        &tue,
        "external",
        "discussion",
        json!({"completed": 1, "median_working_seconds": 39_600,
        "p90_working_seconds": 39_600, "median_working_days": 1.42, "within_target_share": 0.0,
        "open_now": 1, "overdue_now": 1}),
    );
    // What is open now does not depend on the period.
    expect(&tue, "external", "disposition", none_completed(2, 1));
    expect(&tue, "external", "submit", none_completed(0, 0));
    expect(&tue, "internal", "disposition", none_completed(0, 0));
    // The same as RFC 3339 instants (to is exclusive).
    let tue2 = sla(&o, "?from=2026-11-16T17:00:00Z&to=2026-11-17T17:00:00Z").await;
    assert_eq!(tue2["rows"], tue["rows"]);
    // Whole months (on PostgreSQL answered from the histogram): November is everything,
    // December nothing finished yet, only what is open now.
    let november = sla(&o, "?from=2026-11-01&to=2026-11-30").await;
    assert_eq!(november["rows"], all["rows"]);
    let december = sla(&o, "?from=2026-12-01").await;
    expect(&december, "external", "disposition", none_completed(2, 1));
    expect(&december, "internal", "team", none_completed(0, 0));

    // One organization (DUKCAPIL: E, G, H) and one flow.
    let dk = sla(&o, &format!("?flow=external&organization_id={dukcapil_id}")).await;
    assert_eq!(dk["rows"].as_array().unwrap().len(), 10);
    expect(&dk, "external", "submit", json!({"completed": 3, "within_target": 3}));
    expect(&dk, "external", "disposition", none_completed(2, 1));
    expect(&dk, "external", "approval", none_completed(0, 0));
    let internal = sla(&o, "?flow=internal").await;
    assert!(internal["rows"].as_array().unwrap().iter().all(|r| r["flow"] == "internal"));

    // Finished steps keep what they were measured with. Closing Thursday 19 November after
    // the fact (a regional closure decided late) changes no finished step's figures — Q's
    // internal disposition stays 111 600 s although 27 900 s of it fell on that Thursday —
    // while the open steps' due times are recomputed: the approvals of A and B and D's
    // discussion, due Thu 07:30, move to Fri 07:30, C's approval to Fri 12:15, so on
    // Friday 06:00 none of them is overdue any more.
    let closure = json!({"date": "2026-11-19", "name": "Penutupan kantor (test)", "kind": "regional_closure",
                         "source": "test"});
    o.app.post("/calendar/closed-dates", &o.admin, closure).await.assert_status(201);
    let after = sla(&o, "").await;
    for (flow, step) in [("external", "disposition"), ("external", "follow_up"), ("internal", "disposition")] {
        assert_eq!(row(&after, flow, step), row(&all, flow, step), "{flow} {step}");
    }
    expect(
        &after,
        "internal",
        "disposition",
        json!({"median_working_seconds": 63_900, "p90_working_seconds": 102_060}),
    );
    expect(&after, "external", "approval", none_completed(3, 0));
    expect(
        &after,
        "external",
        "discussion",
        json!({"completed": 3, "median_working_seconds": 39_600, "open_now": 1, "overdue_now": 0}),
    );

    // Bad parameters.
    o.app.get("/reports/sla?from=last-week", &o.auditor).await.assert_problem(400);
    o.app.get("/reports/sla?from=2026-11-18&to=2026-11-17", &o.auditor).await.assert_problem(422);
    o.app.get("/reports/sla?flow=sideways", &o.auditor).await.assert_problem(400);
}

#[tokio::test]
async fn the_sla_report_as_csv_and_who_may_read_reports() {
    let Fixture { o, .. } = fixture().await;
    let csv: Resp =
        o.app.send(o.app.http.get(o.app.url("/reports/sla")).bearer_auth(&o.kabid).header("Accept", "text/csv")).await;
    csv.assert_status(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"), "{:?}", csv.headers);
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "flow,step_code,step_order,label,actor,time_standard,completed,median_working_seconds,p90_working_seconds,\
         median_working_days,p90_working_days,within_target,within_target_share,within_limit,within_limit_share,\
         open_now,overdue_now"
    );
    assert_eq!(lines.len(), 1 + 19);
    let line = |flow: &str, step: &str| -> String {
        lines.iter().find(|l| l.starts_with(&format!("{flow},{step},"))).map(|l| l.to_string()).unwrap_or_default()
    };
    // The same figures as the JSON (labels may be quoted; the ends are fixed).
    assert!(line("external", "discussion").starts_with("external,discussion,4,"));
    assert!(
        line("external", "discussion")
            .ends_with(",role:technical_lead,1d,3,39600,43200,1.42,1.55,1,0.3333,1,0.3333,1,1"),
        "{}",
        line("external", "discussion")
    );
    assert!(
        line("external", "approval").ends_with(",role:head_of_agency,1d,0,,,,,0,,0,,3,3"),
        "{}",
        line("external", "approval")
    );
    assert!(
        line("internal", "disposition").ends_with(",15m,2,63900,102060,,,0,0,0,0,0,0"),
        "{}",
        line("internal", "disposition")
    );
    // JSON unless CSV is preferred.
    let json_too = o
        .app
        .send(
            o.app
                .http
                .get(o.app.url("/reports/sla"))
                .bearer_auth(&o.kabid)
                .header("Accept", "application/json, text/csv"),
        )
        .await;
    assert!(json_too.assert_status(200)["rows"].is_array());

    // Oversight only: admin, auditor and the heads; not applicants nor technical staff.
    for t in [&o.admin, &o.auditor, &o.kabid, &o.kadis] {
        o.app.get("/reports/sla", t).await.assert_status(200);
        o.app.get("/reports/summary", t).await.assert_status(200);
    }
    for t in [&o.budi, &o.ikp, &o.kasi, &o.andi] {
        o.app.get("/reports/sla", t).await.assert_problem(403);
        o.app.get("/reports/summary", t).await.assert_problem(403);
    }
    o.app.call(reqwest::Method::GET, "/reports/sla", None, None).await.assert_problem(401);
}

#[tokio::test]
async fn the_summary_counts_the_register_and_end_to_end_working_days() {
    let Fixture { o, .. } = fixture().await;
    let s = o.app.get("/reports/summary", &o.kadis).await;
    let s = s.assert_status(200);
    // A B C D (DINKES), E H (DUKCAPIL) in progress; F a draft; G withdrawn; P Q completed.
    assert_eq!(s["total"], 10);
    assert_eq!(
        s["by_status"],
        json!({"draft": 1, "in_progress": 6, "returned": 0, "rejected": 0, "withdrawn": 1, "completed": 2, "cancelled": 0})
    );
    let orgs: Vec<(String, u64)> = s["by_organization"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["code"].as_str().unwrap().to_owned(), o["total"].as_u64().unwrap()))
        .collect();
    assert_eq!(orgs, [("DINKES".to_owned(), 5), ("DUKCAPIL".to_owned(), 3), ("IKP".to_owned(), 2)]);
    assert_eq!(s["by_organization"][0]["name"], "Org DINKES");
    assert_eq!(s["by_organization"][0]["by_status"]["draft"], 1);
    assert_eq!(s["by_organization"][0]["by_status"]["in_progress"], 4);
    assert_eq!(s["by_organization"][1]["by_status"]["withdrawn"], 1);
    // End to end: P Mon 06:00→12:05 = 16 200 s; Q Mon 06:00→Thu 16:00 = 111 600 s.
    // Median 63 900 s = 2.290… → 2.29 days; p90 = 16 200 + 0.9 × 95 400 = 102 060 s =
    // 3.658… → 3.66 days.
    assert_eq!(
        s["end_to_end"],
        json!({"completed": 2, "median_working_seconds": 63_900, "p90_working_seconds": 102_060,
               "median_working_days": 2.29, "p90_working_days": 3.66, "working_day_seconds": 27_900})
    );
    // The period applies to completion: from Tuesday only Q (111 600 s = 4 days).
    let later = o.app.get("/reports/summary?from=2026-11-17", &o.kadis).await;
    assert_eq!(later.assert_status(200)["total"], 10);
    assert_eq!(
        later.body["end_to_end"],
        json!({"completed": 1, "median_working_seconds": 111_600, "p90_working_seconds": 111_600,
               "median_working_days": 4.0, "p90_working_days": 4.0, "working_day_seconds": 27_900})
    );
    // The external flow only: no completed requests.
    let ext = o.app.get("/reports/summary?flow=external", &o.kadis).await;
    assert_eq!(ext.assert_status(200)["total"], 8);
    assert_eq!(ext.body["end_to_end"]["completed"], 0);
    assert!(ext.body["end_to_end"]["median_working_seconds"].is_null());
}

#[tokio::test]
async fn durations_finished_before_they_were_stored_are_measured_at_the_next_start() {
    use sea_orm::ConnectionTrait;
    let Fixture { o, .. } = fixture().await;
    let (sla_before, end_to_end_before) = (sla(&o, "").await, end_to_end(&o).await);
    assert_eq!(end_to_end_before["completed"], 2);

    // A database migrated from before the durations were stored: finished rows, no
    // measurement. The reports count only measured rows, so they are empty now.
    let db = sea_orm::Database::connect(&o.app.database_url).await.expect("connect");
    db.execute_unprepared("UPDATE step_instances SET working_seconds = NULL").await.expect("reset steps");
    db.execute_unprepared("UPDATE requests SET working_seconds = NULL").await.expect("reset requests");
    assert_eq!(row(&sla(&o, "").await, "external", "disposition")["completed"], 0);
    assert_eq!(end_to_end(&o).await["completed"], 0);

    // The next start measures them, with the same result as at the time.
    let _restarted = crate::check::checker(&o.app).await;
    assert_eq!(sla(&o, "").await["rows"], sla_before["rows"]);
    assert_eq!(end_to_end(&o).await, end_to_end_before);
}

/// m0016 and the steps written before it: rolled back and applied again under the
/// fixture's register, the per-agency report is right at once (through the requests while
/// steps are unfiled, on PostgreSQL; SQLite's migration files them) and after the service
/// has filed every step under its request's organization (reading the steps' own copy).
#[tokio::test]
async fn steps_from_before_they_carried_their_organization_are_filed_and_counted_meanwhile() {
    use migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    // This instance never files in the background: the test files when it wants.
    let app = jembatan_tests::TestApp::spawn_with(|s| {
        s.sweep_interval_secs = 3600;
        s.sla_fold_interval_secs = 0;
    })
    .await;
    let Fixture { o, dukcapil_id } = fixture_in(Office::with(app).await).await;
    let query = format!("?organization_id={dukcapil_id}");
    let (all, agency) = (sla(&o, "").await, sla(&o, &query).await);
    expect(&agency, "external", "submit", json!({"completed": 3, "within_target": 3}));
    let db = sea_orm::Database::connect(&o.app.database_url).await.expect("connect");
    let unfiled = "SELECT COUNT(*) AS n FROM step_instances WHERE organization_id IS NULL";
    let misfiled = "SELECT COUNT(*) AS n FROM step_instances s JOIN requests r ON r.id = s.request_id \
                    WHERE s.organization_id <> r.organization_id";
    let steps = count(&db, "SELECT COUNT(*) AS n FROM step_instances").await;
    assert!(steps > 20);
    assert_eq!((count(&db, unfiled).await, count(&db, misfiled).await), (0, 0), "the service files its steps");

    // Three steps down (m0018, m0017, m0016; the asserts below check it) take the column away.
    migration::Migrator::down(&db, Some(3)).await.expect("down");
    assert!(db.execute_unprepared("SELECT organization_id FROM step_instances").await.is_err());
    migration::Migrator::up(&db, None).await.expect("up");
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    assert_eq!(count(&db, unfiled).await, if postgres { steps } else { 0 });
    assert_eq!(sla(&o, &query).await["rows"], agency["rows"], "unfiled steps are found through their request");

    // A whole register is walked page by page (PostgreSQL).
    let filed = if postgres {
        jembatan::service::reports::filing::file_steps_by_block(&db).await.expect("filing by page")
    } else {
        jembatan::service::reports::filing::file_steps(&db).await.expect("filing")
    };
    assert_eq!(filed, if postgres { u64::try_from(steps).unwrap() } else { 0 });
    assert_eq!((count(&db, unfiled).await, count(&db, misfiled).await), (0, 0));
    assert_eq!(sla(&o, &query).await["rows"], agency["rows"]);
    assert_eq!(sla(&o, "").await["rows"], all["rows"]);

    // A few unfiled (steps an older replica wrote during a rolling upgrade) are filed by id.
    let few = db
        .execute_unprepared("UPDATE step_instances SET organization_id = NULL WHERE step_code = 'submit'")
        .await
        .expect("unfile")
        .rows_affected();
    assert!(few >= 8, "{few}");
    assert_eq!(sla(&o, &query).await["rows"], agency["rows"]);
    assert_eq!(jembatan::service::reports::filing::file_steps(&db).await.expect("filing"), few);
    assert_eq!((count(&db, unfiled).await, count(&db, misfiled).await), (0, 0));
    assert_eq!(sla(&o, &query).await["rows"], agency["rows"]);
}

async fn end_to_end(o: &Office) -> Value {
    o.app.get("/reports/summary", &o.auditor).await.assert_status(200)["end_to_end"].clone()
}

/// The report's figures computed straight from the finished steps (PostgreSQL's
/// `percentile_cont` over every counted step), keyed by step code, for a period.
async fn from_every_step(
    db: &sea_orm::DatabaseConnection,
    from: &str,
    to: &str,
    organization: Option<&str>,
) -> Vec<(String, i64, f64, f64, i64, i64)> {
    use sea_orm::{ConnectionTrait, Statement};
    // An agency's steps by their request, not by the steps' own copy of its organization.
    let of_organization = organization
        .map(|o| format!("AND request_id IN (SELECT id FROM requests WHERE organization_id = '{o}')"))
        .unwrap_or_default();
    let sql = format!(
        "SELECT step_code, COUNT(*) AS n, \
           percentile_cont(0.5) WITHIN GROUP (ORDER BY working_seconds) AS p50, \
           percentile_cont(0.9) WITHIN GROUP (ORDER BY working_seconds) AS p90, \
           COUNT(*) FILTER (WHERE completed_at <= due_at) AS t, COUNT(*) FILTER (WHERE completed_at <= limit_at) AS l \
         FROM step_instances WHERE flow = 'external' AND {} AND completed_at >= '{from}' AND completed_at < '{to}' \
         {of_organization} GROUP BY step_code ORDER BY step_code",
        migration::SLA_INDEX_CONDITION
    );
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("", "step_code").unwrap(),
                r.try_get("", "n").unwrap(),
                r.try_get("", "p50").unwrap(),
                r.try_get("", "p90").unwrap(),
                r.try_get("", "t").unwrap(),
                r.try_get("", "l").unwrap(),
            )
        })
        .collect()
}

/// The API's figures for the same steps and period.
async fn from_the_report(o: &Office, query: &str) -> Vec<(String, i64, f64, f64, i64, i64)> {
    let report = sla(o, query).await;
    let mut out: Vec<_> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["flow"] == "external" && r["completed"].as_i64().unwrap() > 0)
        .map(|r| {
            (
                r["step_code"].as_str().unwrap().to_owned(),
                r["completed"].as_i64().unwrap(),
                r["median_working_seconds"].as_f64().unwrap(),
                r["p90_working_seconds"].as_f64().unwrap(),
                r["within_target"].as_i64().unwrap(),
                r["within_limit"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Both, for everything, whole WIB months (from the histogram), a period starting
/// mid-month (its first part counted from the steps), one within a month (all from the
/// steps) and the importing agency's steps (always from the steps), with the percentiles
/// rounded as the report rounds them.
async fn report_is_every_step(o: &Office, db: &sea_orm::DatabaseConnection, when: &str) {
    let agency = imported_for(db).await;
    let of_agency = format!("?flow=external&organization_id={agency}&from=2026-01-01");
    for (query, from, to) in [
        ("?flow=external", "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"),
        ("?flow=external&from=2026-01-01&to=2026-01-31", "2025-12-31T17:00:00Z", "2026-01-31T17:00:00Z"),
        ("?from=2025-12-01&to=2026-02-28", "2025-11-30T17:00:00Z", "2026-02-28T17:00:00Z"),
        ("?from=2026-01-10&to=2026-02-28", "2026-01-09T17:00:00Z", "2026-02-28T17:00:00Z"),
        ("?flow=external&from=2026-01-05&to=2026-01-20", "2026-01-04T17:00:00Z", "2026-01-20T17:00:00Z"),
        (&of_agency, "2025-12-31T17:00:00Z", "2100-01-01T00:00:00Z"),
    ] {
        let organization = query.contains("organization_id").then_some(agency.as_str());
        let mut want = from_every_step(db, from, to, organization).await;
        for w in &mut want {
            (w.2, w.3) = (w.2.round(), w.3.round());
        }
        assert!(want.iter().filter(|w| w.1 > 1_000).count() == 3, "{when} {query}: the import fills the period");
        assert_eq!(from_the_report(o, query).await, want, "{when}: {query}");
    }
}

/// The agency whose request the bulk import below fills.
async fn imported_for(db: &sea_orm::DatabaseConnection) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = "SELECT organization_id::text AS o FROM requests WHERE flow = 'external' ORDER BY id LIMIT 1";
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get("", "o").unwrap()
}

/// The one number a query answers (`… AS n`).
pub(crate) async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get("", "n").unwrap()
}

/// Counted steps, and those in the histogram.
async fn counted_and_folded(db: &sea_orm::DatabaseConnection) -> (i64, i64) {
    let counted = format!("SELECT COUNT(*) AS n FROM step_instances WHERE {}", migration::SLA_INDEX_CONDITION);
    (count(db, &counted).await, count(db, "SELECT COALESCE(SUM(steps), 0)::bigint AS n FROM sla_histogram").await)
}

async fn until_folded(db: &sea_orm::DatabaseConnection) {
    for _ in 0..100 {
        if count(db, "SELECT COUNT(*) AS n FROM sla_pending").await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the queued steps were not folded into the histogram within 10 s");
}

/// On PostgreSQL the report reads a histogram of durations (folded in the background)
/// and the exact values inside the buckets that hold its percentiles: its figures must be
/// those of every step, before the fold, after it, and after steps are changed and
/// deleted behind the service's back.
#[tokio::test]
async fn the_sla_histogram_gives_what_every_step_gives() {
    use sea_orm::ConnectionTrait;
    if std::env::var("JEMBATAN_TEST_POSTGRES_URL").map_or(true, |u| u.is_empty()) {
        eprintln!("the SLA histogram: PostgreSQL only (set JEMBATAN_TEST_POSTGRES_URL); nothing checked on SQLite");
        return;
    }
    // This instance never folds: every step stays queued until a second instance, which
    // folds every second, is started below.
    let quiet = jembatan_tests::TestApp::spawn_with(|s| {
        s.sweep_interval_secs = 3600;
        s.sla_fold_interval_secs = 0;
    })
    .await;
    let Fixture { o, .. } = fixture_in(Office::with(quiet).await).await;
    let db = crate::evidence::db(&o.app).await;
    // 24 000 finished steps of three steps of one request, December 2025 – February 2026,
    // as a bulk import would write them: durations bunched (many in one bucket, many
    // equal), some under 256 s, a long tail; every 40th withdrawn (not counted).
    db.execute_unprepared(
        "INSERT INTO step_instances (id, request_id, organization_id, flow, step_code, round, actor, time_standard, \
           started_at, clock_started_at, warning_at, due_at, limit_at, paused_seconds, completed_at, outcome, \
           note_visibility, working_seconds) \
         SELECT gen_random_uuid(), r.id, r.organization_id, 'external', \
           (ARRAY['disposition', 'follow_up', 'discussion'])[1 + i % 3], 1, 'role:head_of_division', '15m', \
           c - interval '1 hour', c - interval '1 hour', c, c + ((h % 7) - 3) * interval '1 minute', \
           c + ((h % 5) - 1) * interval '1 hour', 0, c, CASE WHEN i % 40 = 0 THEN 'withdrawn' ELSE 'completed' END, \
           'public', \
           CASE WHEN h % 10 = 0 THEN h % 200 WHEN h % 10 < 8 THEN 900 + (h % 97) * 3 ELSE 20000 + h % 2000000 END \
         FROM (SELECT i, (i * 2654435761) % 1000003 AS h, \
                      timestamptz '2025-12-01 00:00+07' + (i % 90) * interval '1 day' + (i % 1440) * interval '1 minute' AS c \
                 FROM generate_series(1, 24000) AS i) AS g \
         CROSS JOIN (SELECT id, organization_id FROM requests WHERE flow = 'external' ORDER BY id LIMIT 1) AS r",
    )
    .await
    .expect("the bulk import");
    // The bucket in SQL (for parts of months) is the bucket in Rust, value for value.
    let mut values: Vec<i64> = (-3..700).collect();
    for k in 8..63 {
        values.extend([(1i64 << k) - 1, 1i64 << k, (1i64 << k) + 1, (1i64 << k) + (1i64 << (k - 1))]);
    }
    values.extend([i64::MAX, 987_654_321, 27_900, 139_500]);
    let list = values.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT s, {} AS b FROM unnest(ARRAY[{list}]::bigint[]) AS s",
        jembatan::service::reports::histogram::bucket_sql("s")
    );
    for row in db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await.unwrap() {
        let (s, b): (i64, i32) = (row.try_get("", "s").unwrap(), row.try_get("", "b").unwrap());
        assert_eq!(b, jembatan::service::reports::histogram::bucket_of(s), "the bucket of {s}");
    }

    let (counted, folded) = counted_and_folded(&db).await;
    assert!(counted > 23_400 && folded == 0, "{counted} counted, {folded} folded");
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM sla_pending").await, counted, "every counted step is queued");
    report_is_every_step(&o, &db, "queued").await;

    let folder = crate::sla::replica(&o.app).await;
    until_folded(&db).await;
    assert_eq!(counted_and_folded(&db).await, (counted, counted), "every counted step is in the histogram once");
    report_is_every_step(&o, &db, "folded").await;

    // Changed behind the service's back: durations moved to other buckets, steps no
    // longer counted, steps deleted. The triggers queue the differences.
    for change in [
        "UPDATE step_instances SET working_seconds = working_seconds + 5000 \
         WHERE outcome = 'completed' AND working_seconds BETWEEN 900 AND 1000 AND completed_at < '2026-01-15'",
        "UPDATE step_instances SET outcome = 'withdrawn' \
         WHERE outcome = 'completed' AND working_seconds > 800000 AND completed_at < '2026-06-01'",
        "DELETE FROM step_instances \
         WHERE outcome = 'completed' AND working_seconds < 100 AND completed_at < '2026-06-01'",
    ] {
        assert!(db.execute_unprepared(change).await.unwrap().rows_affected() > 100, "{change}");
    }
    report_is_every_step(&o, &db, "changed").await;
    until_folded(&db).await;
    report_is_every_step(&o, &db, "changed, folded").await;
    let (counted_now, folded) = counted_and_folded(&db).await;
    assert!(counted_now < counted && folded == counted_now, "{counted_now} counted, {folded} folded");
    drop(folder);

    // Four rounds of six reports: five through the histogram path, the agency's from its
    // steps (the histogram has no organization); it never disagreed with the steps.
    let metrics = o.app.send(o.app.http.get(format!("{}/metrics", o.app.base)).bearer_auth(&o.admin)).await;
    let series = |name: &str| {
        metrics.text.lines().find(|l| l.starts_with(name)).map(|l| l.rsplit(' ').next().unwrap().to_owned())
    };
    assert_eq!(series(r#"jembatan_sla_reports_total{source="histogram"}"#).as_deref(), Some("20"), "{}", metrics.text);
    assert_eq!(series(r#"jembatan_sla_reports_total{source="steps"}"#).as_deref(), Some("4"));
    assert_eq!(series(r#"jembatan_sla_reports_total{source="steps_after_disagreement"}"#), None);
}
