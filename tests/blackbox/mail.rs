//! Issue 12, item 6: e-mail for the events people must hear of, through a real SMTP
//! server (aiosmtpd), from the outbox written in the event's transaction: exactly one
//! message per person per event, in Indonesian, with a link to the request, even with
//! two replicas' mailers running; none for a person who opted out.

use std::sync::Arc;
use std::time::Duration;

use jembatan::config::Settings;
use jembatan::startup::Application;
use jembatan_tests::TestApp;
use jembatan_tests::smtp::{Mail, SmtpServer};
use serde_json::json;

use crate::flows::{Office, submitted};

async fn set_email(o: &Office, username: &str, email: &str) {
    let users = o.app.get("/users?limit=100", &o.admin).await;
    let u = users.body["items"].as_array().unwrap().iter().find(|u| u["username"] == username).cloned().unwrap();
    let id = u["id"].as_str().unwrap();
    o.app.patch(&format!("/users/{id}"), &o.admin, json!({"email": email})).await.assert_status(200);
}

fn to(m: &Mail) -> String {
    m.header("to").unwrap_or_default().to_owned()
}

/// Waits for `n` messages, then a few mailer periods more to see that no other comes.
async fn exactly(smtp: &SmtpServer, n: usize) -> Vec<Mail> {
    smtp.wait_for(n, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let got = smtp.received();
    assert_eq!(got.len(), n, "{got:#?}");
    got
}

#[tokio::test]
async fn one_mail_per_event_in_indonesian_with_a_link_and_none_after_opting_out() {
    let smtp = SmtpServer::start();
    let url = smtp.url();
    let app = TestApp::spawn_with(|s| {
        s.smtp_url = Some(url.clone());
        s.mail_interval_secs = 1;
        s.public_url = "https://jembatan.trenggalekkab.go.id".into();
        s.sweep_interval_secs = 3600;
    })
    .await;
    // A second replica on the same database, with its own mailer: still one mail each.
    let replica = Application::build(
        Settings {
            database_url: app.database_url.clone(),
            listen: "127.0.0.1:0".into(),
            jwt_secret: Some(format!("replica-secret-{}", uuid::Uuid::new_v4())),
            storage_dir: app.storage_dir.clone(),
            db_max_connections: 5,
            workers: Some(1),
            sweep_interval_secs: 3600,
            smtp_url: Some(url.clone()),
            mail_interval_secs: 1,
            ..Settings::default()
        }
        .check(false)
        .expect("replica settings"),
        Arc::new(app.clock.clone()),
    )
    .await
    .expect("replica builds");
    let _replica = tokio::spawn(replica.run_until_stopped());
    let o = Office::with(app).await;
    set_email(&o, "kabid", "kabid@trenggalekkab.go.id").await;
    set_email(&o, "budi", "budi@dinkes.trenggalekkab.go.id").await;
    set_email(&o, "kasi", "kasi@trenggalekkab.go.id").await;

    // Submitted: the head of division's task arrives, by mail too.
    let id = submitted(&o).await;
    let mails = exactly(&smtp, 1).await;
    let m = &mails[0];
    assert_eq!(to(m), "kabid@trenggalekkab.go.id");
    let subject = m.header("subject").unwrap();
    assert!(subject.starts_with("[Jembatan] Tugas baru: INT/"), "{subject}");
    assert!(m.body.contains("menunggu tindakan Anda"), "{}", m.body);
    assert!(m.body.contains(&format!("https://jembatan.trenggalekkab.go.id/api/v1/requests/{id}")), "{}", m.body);

    // Returned: the applicant hears why.
    o.act(&o.kabid, &id, "return", json!({"reason": "Nomor surat tidak sesuai"})).await.assert_status(200);
    let mails = exactly(&smtp, 2).await;
    assert_eq!(to(&mails[1]), "budi@dinkes.trenggalekkab.go.id");
    assert!(mails[1].header("subject").unwrap().contains("Permohonan dikembalikan"));
    assert!(mails[1].body.contains("Alasan: Nomor surat tidak sesuai"), "{}", mails[1].body);

    // The technical lead opts out: the follow-up task reaches the inbox, not the mailbox.
    let me = o.app.patch("/auth/me", &o.kasi, json!({"email_opt_out": true})).await;
    assert_eq!(me.assert_status(200)["email_opt_out"], true);
    o.act(&o.budi, &id, "resubmit", json!({})).await.assert_status(200);
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    // Resubmitted → the head of division again; disposition → the applicant hears it moved.
    let mails = exactly(&smtp, 4).await;
    let recipients: Vec<String> = mails[2..].iter().map(to).collect();
    assert!(recipients.contains(&"kabid@trenggalekkab.go.id".to_owned()), "{recipients:?}");
    assert!(recipients.contains(&"budi@dinkes.trenggalekkab.go.id".to_owned()), "{recipients:?}");
    assert!(!mails.iter().any(|m| to(m).starts_with("kasi@")));
    let inbox = o.app.get("/notifications", &o.kasi).await;
    assert_eq!(inbox.assert_status(200)["items"][0]["kind"], "task_arrived");
}
