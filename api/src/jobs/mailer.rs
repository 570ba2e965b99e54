//! The mailer: sends what `notifications::deliver` queued in `mail_outbox`, through SMTP
//! (lettre), every `mail_interval_secs`.
//!
//! Each message is claimed before it is sent: a compare-and-set moves its next attempt a
//! lease ahead and counts the attempt, so of several replicas exactly one sends it, and
//! no transaction (on SQLite: the database's write lock) is held while talking to the
//! mail server. Sent → `sent_at`. A refusal the server calls permanent (5xx) or a bad
//! address → `failed_at`. Anything else is retried with exponential backoff and jitter,
//! up to `MAX_ATTEMPTS`. A replica that dies mid-send leaves the claim to expire, and
//! the message is tried again: SMTP cannot promise more than at-least-once there.

use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Utc};
use entity::mail_outbox;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::ApiResult;
use crate::state::AppState;

/// Attempts before a message is given up on (the last is ~1 h after the first failure
/// reached the cap; about 4 h in all).
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claim keeps other replicas off a message being sent.
const LEASE_SECS: i64 = 120;
/// Messages looked at per run.
const BATCH: u64 = 50;

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The SMTP transport a `JEMBATAN_SMTP_URL` names (`smtp://`, `smtps://`, `?tls=required`).
pub fn transport(url: &str) -> Result<Transport, String> {
    Ok(Transport::from_url(url).map_err(|e| e.to_string())?.timeout(Some(Duration::from_secs(10))).build())
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MailReport {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
}

/// Starts the mailer when mail is configured.
pub fn spawn(state: web::Data<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    let url = state.settings.smtp_url.clone().filter(|u| !u.is_empty())?;
    let transport = match transport(&url) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "JEMBATAN_SMTP_URL is unusable; no mail will be sent");
            return None;
        }
    };
    let period = Duration::from_secs(state.settings.mail_interval_secs);
    Some(super::every(period, move || {
        let (state, transport) = (state.clone(), transport.clone());
        async move {
            match send_due(&state, &transport).await {
                Ok(r) if r == MailReport::default() => {}
                Ok(r) => tracing::info!(sent = r.sent, retried = r.retried, failed = r.failed, "mail run"),
                Err(e) => tracing::warn!(error = %e, "mail run failed; retried next time"),
            }
        }
    }))
}

/// Sends every message due now.
pub async fn send_due(state: &AppState, transport: &Transport) -> ApiResult<MailReport> {
    let now = state.now();
    let due = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::FailedAt.is_null())
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let mut report = MailReport::default();
    for m in due {
        // The time of this claim, not of the run: a slow batch must not hand out leases
        // that have already run out.
        let now = state.now();
        if !claim(state, &m, now).await? {
            continue; // another replica has it
        }
        let attempt = m.attempts + 1;
        // Whoever was deactivated, opted out or changed address since is not mailed.
        let person = entity::user::Entity::find_by_id(m.user_id).one(&state.db).await?;
        if !person.is_some_and(|p| p.active && !p.email_opt_out && p.email.as_deref() == Some(m.to_address.as_str())) {
            finish(state, m.id, mail_outbox::Column::FailedAt, now, Some("no longer to be mailed".into())).await?;
            report.failed += 1;
            continue;
        }
        match send(state, transport, &m).await {
            Ok(()) => {
                finish(state, m.id, mail_outbox::Column::SentAt, now, None).await?;
                report.sent += 1;
            }
            Err(Failure::Permanent(e)) => {
                finish(state, m.id, mail_outbox::Column::FailedAt, now, Some(e)).await?;
                report.failed += 1;
            }
            Err(Failure::Transient(e)) if attempt >= MAX_ATTEMPTS => {
                finish(state, m.id, mail_outbox::Column::FailedAt, now, Some(e)).await?;
                report.failed += 1;
            }
            Err(Failure::Transient(e)) => {
                let next = now + chrono::Duration::seconds(backoff_secs(attempt, rand::random::<f64>()));
                mail_outbox::Entity::update_many()
                    .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(next))
                    .col_expr(mail_outbox::Column::LastError, Expr::value(e))
                    .filter(mail_outbox::Column::Id.eq(m.id))
                    .exec(&state.db)
                    .await?;
                report.retried += 1;
            }
        }
    }
    Ok(report)
}

/// Takes the message for this replica: only if nobody else counted this attempt.
async fn claim(state: &AppState, m: &mail_outbox::Model, now: DateTime<Utc>) -> ApiResult<bool> {
    let res = mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::Attempts, Expr::value(m.attempts + 1))
        .col_expr(mail_outbox::Column::NextAttemptAt, Expr::value(now + chrono::Duration::seconds(LEASE_SECS)))
        .filter(mail_outbox::Column::Id.eq(m.id))
        .filter(mail_outbox::Column::Attempts.eq(m.attempts))
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::FailedAt.is_null())
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .exec(&state.db)
        .await?;
    Ok(res.rows_affected == 1)
}

async fn finish(
    state: &AppState,
    id: uuid::Uuid,
    column: mail_outbox::Column,
    now: DateTime<Utc>,
    error: Option<String>,
) -> ApiResult<()> {
    mail_outbox::Entity::update_many()
        .col_expr(column, Expr::value(now))
        .col_expr(mail_outbox::Column::LastError, Expr::value(error))
        .filter(mail_outbox::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}

enum Failure {
    Permanent(String),
    Transient(String),
}

async fn send(state: &AppState, transport: &Transport, m: &mail_outbox::Model) -> Result<(), Failure> {
    let from: Mailbox = state.settings.mail_from.parse().map_err(|e| Failure::Permanent(format!("sender: {e}")))?;
    let to: Mailbox = m.to_address.parse().map_err(|e| Failure::Permanent(format!("address: {e}")))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        // Lets a receiver (and a test) tie the mail to its outbox row.
        .message_id(Some(format!("<{}@jembatan>", m.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| Failure::Permanent(format!("message: {e}")))?;
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(Failure::Permanent(e.to_string())),
        Err(e) => Err(Failure::Transient(e.to_string())),
    }
}

/// Seconds until the next attempt after `attempt` failed: 30 s doubling to a 1 h cap,
/// with ±20 % jitter (`unit` in [0, 1)) so a recovered server is not hit all at once.
fn backoff_secs(attempt: i32, unit: f64) -> i64 {
    let base = (30.0 * 2f64.powi(attempt.clamp(1, 16) - 1)).min(3600.0);
    (base * (0.8 + 0.4 * unit.clamp(0.0, 1.0))).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_an_hour_with_bounded_jitter() {
        assert_eq!(backoff_secs(1, 0.5), 30);
        assert_eq!(backoff_secs(2, 0.5), 60);
        assert_eq!(backoff_secs(5, 0.5), 480);
        assert_eq!(backoff_secs(8, 0.5), 3600);
        assert_eq!(backoff_secs(30, 0.5), 3600);
        assert_eq!((backoff_secs(3, 0.0), backoff_secs(3, 0.999_999)), (96, 144));
    }

    #[test]
    fn smtp_urls_are_checked() {
        assert!(transport("smtp://127.0.0.1:2525").is_ok());
        assert!(transport("smtps://mail.trenggalekkab.go.id").is_ok());
        assert!(transport("http://example").is_err());
    }
}
