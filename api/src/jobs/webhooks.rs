//! Webhooks: the fan-out and the delivery worker, every `webhook_interval_ms`.
//!
//! **Fan-out.** The audit log is the outbox of record: every event is written in the
//! transaction that made it, and the sequencer numbers committed events consecutively.
//! The fan-out reads the log after its position (`webhook_fanout`), turns each reported
//! event into the feed's entry, and queues one delivery per enabled endpoint that may see
//! it and wants its type — the deliveries and the new position in one transaction, the
//! position moved by compare-and-set, so of several replicas exactly one fans out each
//! event, and a replica that dies mid-way leaves nothing half-queued. Transitions pay
//! nothing for webhooks.
//!
//! **Delivery.** Like the mailer: each due delivery is claimed (compare-and-set on its
//! attempt count, a lease ahead, only while its endpoint is enabled), then sent with no
//! transaction held: Standard Webhooks headers, 10 s for the call (15 s with the
//! address check), no redirects, no proxy, at most 1 KiB of the answer read, to
//! addresses the SSRF guard approved at this very connection. 2xx: delivered. 410: the
//! endpoint is disabled. Anything else is retried on the schedule below (about 3 days),
//! a 429 or 503's `Retry-After` honoured. A message whose last attempt fails is given
//! up; if the endpoint has not answered 2xx to anything for two days by then, it is
//! disabled and its owner mailed. At-least-once: a replica that dies after sending but
//! before recording sends again; receivers deduplicate on `webhook-id`.
//!
//! Fairness: a run takes at most `PER_ENDPOINT` deliveries of one endpoint, so a slow or
//! flooded receiver of one agency cannot hold up the others'.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Utc};
use entity::{audit_event, request, webhook_delivery, webhook_endpoint, webhook_fanout};
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::service::feed;
use crate::service::webhooks::{self, guard, signature};
use crate::state::AppState;

/// How long a delivered or given-up message stays in its endpoint's log.
pub const LOG_DAYS: i64 = 30;

/// Deletes deliveries finished more than `LOG_DAYS` ago (the audit log keeps the events).
pub async fn purge(state: &AppState) -> ApiResult<u64> {
    let before = state.now() - chrono::Duration::days(LOG_DAYS);
    let res = webhook_delivery::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(webhook_delivery::Column::DeliveredAt.lt(before))
                .add(webhook_delivery::Column::FailedAt.lt(before)),
        )
        .exec(&state.db)
        .await?;
    Ok(res.rows_affected)
}

/// Seconds to wait after attempt n (1-based) failed: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
/// 14 h, 20 h, 20 h — ten attempts over about three days (Standard Webhooks' schedule,
/// stretched).
const SCHEDULE: [i64; 9] = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 72_000];
pub const MAX_ATTEMPTS: i32 = SCHEDULE.len() as i32 + 1;
/// How long a claim keeps other replicas off a delivery being sent (> timeout).
const LEASE_SECS: i64 = 60;
/// Deliveries looked at per run, and sent at once.
const BATCH: usize = 100;
const PER_ENDPOINT: usize = 2;
const PARALLEL: usize = 8;
/// A message that exhausts its attempts disables its endpoint only if nothing reached
/// the endpoint for this long (one message a receiver refuses must not).
const FAILING_FOR_HOURS: i64 = 48;
/// Log events fanned out per transaction.
const FANOUT_BATCH: u64 = 500;
/// What is read of a receiver's answer (for the delivery log).
const ANSWER_BYTES: usize = 1024;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub queued: u64,
    pub delivered: u64,
    pub retried: u64,
    pub failed: u64,
}

pub fn client(guard: guard::Guard) -> reqwest::Client {
    crate::signer::install_tls_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("Jembatan-Webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(std::sync::Arc::new(guard::GuardedResolver(guard)))
        .build()
        // Never fall back to a default client: it would follow redirects and proxies and
        // resolve without the guard.
        .expect("the webhook HTTP client builds")
}

pub fn spawn(state: web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    let http = client(webhooks::guard(&state));
    let period = Duration::from_millis(state.settings.webhook_interval_ms);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run(&state, &http).await {
                Ok(r) if r == Report::default() => {}
                Ok(r) => tracing::info!(
                    queued = r.queued,
                    delivered = r.delivered,
                    retried = r.retried,
                    failed = r.failed,
                    "webhook run"
                ),
                Err(e) => tracing::warn!(error = %e, "webhook run failed; retried next time"),
            }
        }
    })
}

pub async fn run(state: &AppState, http: &reqwest::Client) -> ApiResult<Report> {
    let mut report = Report::default();
    // A failing fan-out (one bad event, a busy database) must not stop deliveries.
    loop {
        match fan_out(state).await {
            Ok((queued, more)) => {
                report.queued += queued;
                if !more {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "webhook fan-out failed; retried next time");
                break;
            }
        }
    }
    deliver_due(state, http, &mut report).await?;
    Ok(report)
}

/// Queues the deliveries of the next events in the log; `(queued, more to read)`.
pub async fn fan_out(state: &AppState) -> ApiResult<(u64, bool)> {
    // A read first: on SQLite the write transaction takes the database's write lock, which
    // an idle tick must not.
    let Some(position) = webhook_fanout::Entity::find_by_id("events").one(&state.db).await?.map(|r| r.position) else {
        return Ok((0, false));
    };
    let newer = audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::Id)
        .filter(audit_event::Column::LeafIndex.gt(position))
        .into_tuple::<Uuid>()
        .one(&state.db)
        .await?;
    if newer.is_none() {
        return Ok((0, false));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let Some(position) = webhook_fanout::Entity::find_by_id("events").one(&txn).await?.map(|r| r.position) else {
        return Ok((0, false));
    };
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::LeafIndex.gt(position))
        .order_by_asc(audit_event::Column::LeafIndex)
        .limit(FANOUT_BATCH)
        .all(&txn)
        .await?;
    let Some(last) = events.last().and_then(|e| e.leaf_index) else {
        return Ok((0, false));
    };
    let more = events.len() as u64 == FANOUT_BATCH;
    let enabled = webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::Enabled.eq(true)).all(&txn).await?;
    let endpoints = in_standing(&txn, enabled).await?;
    let mut queued = Vec::new();
    if !endpoints.is_empty() {
        let entries: Vec<feed::FeedEvent> = events.into_iter().filter_map(feed::entry).collect();
        let ids: HashSet<Uuid> = entries.iter().map(|e| e.data.request_id).collect();
        let orgs: HashMap<Uuid, Uuid> = request::Entity::find()
            .select_only()
            .column(request::Column::Id)
            .column(request::Column::OrganizationId)
            .filter(request::Column::Id.is_in(ids))
            .into_tuple::<(Uuid, Uuid)>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let now = state.now();
        for entry in &entries {
            let org = orgs.get(&entry.data.request_id).copied();
            let payload = serde_json::to_string(entry).unwrap_or_default();
            for endpoint in &endpoints {
                let sees = endpoint.organization_id.is_none() || endpoint.organization_id == org;
                // An endpoint hears of what happened after it was registered.
                if sees && webhooks::wants(endpoint, entry.kind) && endpoint.created_at <= entry.timestamp {
                    let id = entry.id.to_string();
                    queued.push(webhooks::new_delivery(now, endpoint.id, &id, entry.kind.as_str(), payload.clone()));
                }
            }
        }
    }
    let n = queued.len() as u64;
    for chunk in queued.chunks(200) {
        webhook_delivery::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    let moved = webhook_fanout::Entity::update_many()
        .col_expr(webhook_fanout::Column::Position, Expr::value(last))
        .filter(webhook_fanout::Column::Name.eq("events"))
        .filter(webhook_fanout::Column::Position.eq(position))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        // Another replica fanned these out meanwhile: drop ours.
        return Ok((0, false));
    }
    txn.commit().await?;
    Ok((n, more))
}

/// The endpoints whose owners still stand: the organization active, and whoever
/// registered it still active (a revoked API client's or a deactivated person's endpoint
/// hears nothing more).
async fn in_standing<C: sea_orm::ConnectionTrait>(
    db: &C,
    endpoints: Vec<webhook_endpoint::Model>,
) -> ApiResult<Vec<webhook_endpoint::Model>> {
    if endpoints.is_empty() {
        return Ok(endpoints);
    }
    use entity::{api_client, organization, user};
    let ids = |f: fn(&webhook_endpoint::Model) -> Option<Uuid>| endpoints.iter().filter_map(f).collect::<Vec<_>>();
    let active_orgs = active::<_, organization::Entity>(
        db,
        ids(|e| e.organization_id),
        organization::Column::Id,
        organization::Column::Active,
    )
    .await?;
    let active_users =
        active::<_, user::Entity>(db, ids(|e| e.created_by_user_id), user::Column::Id, user::Column::Active).await?;
    let active_clients = active::<_, api_client::Entity>(
        db,
        ids(|e| e.created_by_client_id),
        api_client::Column::Id,
        api_client::Column::Active,
    )
    .await?;
    Ok(endpoints
        .into_iter()
        .filter(|e| e.organization_id.is_none_or(|o| active_orgs.contains(&o)))
        .filter(|e| e.created_by_user_id.is_none_or(|u| active_users.contains(&u)))
        .filter(|e| e.created_by_client_id.is_none_or(|c| active_clients.contains(&c)))
        .collect())
}

/// Which of `ids` are rows of `id`'s table with `active` true.
async fn active<C, E>(db: &C, ids: Vec<Uuid>, id: E::Column, active: E::Column) -> ApiResult<HashSet<Uuid>>
where
    C: sea_orm::ConnectionTrait,
    E: EntityTrait,
{
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(E::find()
        .select_only()
        .column(id)
        .filter(id.is_in(ids))
        .filter(active.eq(true))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

async fn deliver_due(state: &AppState, http: &reqwest::Client, report: &mut Report) -> ApiResult<()> {
    let now = state.now();
    let due = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::DeliveredAt.is_null())
        .filter(webhook_delivery::Column::FailedAt.is_null())
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .filter(
            Expr::col(webhook_delivery::Column::EndpointId).in_subquery(
                Query::select()
                    .column(webhook_endpoint::Column::Id)
                    .from(webhook_endpoint::Entity)
                    .and_where(webhook_endpoint::Column::Enabled.eq(true))
                    .to_owned(),
            ),
        )
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(BATCH as u64 * 5)
        .all(&state.db)
        .await?;
    // At most PER_ENDPOINT of one endpoint per run.
    let mut taken: HashMap<Uuid, usize> = HashMap::new();
    let due: Vec<webhook_delivery::Model> = due
        .into_iter()
        .filter(|d| {
            let n = taken.entry(d.endpoint_id).or_default();
            *n += 1;
            *n <= PER_ENDPOINT
        })
        .take(BATCH)
        .collect();
    if due.is_empty() {
        return Ok(());
    }
    let ids: HashSet<Uuid> = due.iter().map(|d| d.endpoint_id).collect();
    let endpoints: HashMap<Uuid, webhook_endpoint::Model> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let outcomes: Vec<ApiResult<Option<Outcome>>> = futures_util::stream::iter(due)
        .map(|d| {
            let endpoint = endpoints.get(&d.endpoint_id);
            async move {
                match endpoint {
                    Some(e) => attempt(state, http, e, d).await,
                    None => Ok(None),
                }
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    for o in outcomes {
        match o? {
            Some(Outcome::Delivered) => report.delivered += 1,
            Some(Outcome::Retried) => report.retried += 1,
            Some(Outcome::Failed) => report.failed += 1,
            None => {}
        }
    }
    Ok(())
}

enum Outcome {
    Delivered,
    Retried,
    Failed,
}

/// What the receiver did.
struct Answer {
    status: Option<u16>,
    /// Seconds a 429 or 503 asked us to wait.
    retry_after: Option<i64>,
    error: Option<String>,
}

/// Claims, sends and records one delivery; `None` when another replica has it.
async fn attempt(
    state: &AppState,
    http: &reqwest::Client,
    endpoint: &webhook_endpoint::Model,
    d: webhook_delivery::Model,
) -> ApiResult<Option<Outcome>> {
    let now = state.now();
    let claimed = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(d.attempts + 1))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now + chrono::Duration::seconds(LEASE_SECS)))
        .filter(webhook_delivery::Column::Id.eq(d.id))
        .filter(webhook_delivery::Column::Attempts.eq(d.attempts))
        .filter(webhook_delivery::Column::DeliveredAt.is_null())
        .filter(webhook_delivery::Column::FailedAt.is_null())
        // Not for an endpoint disabled (or removed) since the run began.
        .filter(
            Expr::col(webhook_delivery::Column::EndpointId).in_subquery(
                Query::select()
                    .column(webhook_endpoint::Column::Id)
                    .from(webhook_endpoint::Entity)
                    .and_where(webhook_endpoint::Column::Enabled.eq(true))
                    .to_owned(),
            ),
        )
        .exec(&state.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    let attempt = d.attempts + 1;
    // The address check and the call together (the check's lookup has its own 5 s).
    let answer = match tokio::time::timeout(Duration::from_secs(15), send(state, http, endpoint, &d, now)).await {
        Ok(a) => a,
        Err(_) => Answer { status: None, retry_after: None, error: Some("timed out".into()) },
    };
    let done = state.now();
    let mut am = webhook_delivery::ActiveModel {
        last_attempt_at: Set(Some(now)),
        last_status: Set(answer.status.map(i32::from)),
        last_error: Set(answer.error.clone()),
        ..Default::default()
    };
    let ok = answer.status.is_some_and(|s| (200..300).contains(&s));
    let gone = answer.status == Some(410);
    let outcome = if ok {
        am.delivered_at = Set(Some(done));
        Outcome::Delivered
    } else if gone || attempt >= MAX_ATTEMPTS {
        am.failed_at = Set(Some(done));
        Outcome::Failed
    } else {
        let wait = answer.retry_after.unwrap_or_else(|| backoff_secs(attempt, rand::random::<f64>()));
        am.next_attempt_at = Set(done + chrono::Duration::seconds(wait));
        Outcome::Retried
    };
    let txn = crate::db::begin_write(&state.db).await?;
    // Only over our own claim: a replica whose lease ran out does not overwrite a newer
    // attempt's result.
    let recorded = webhook_delivery::Entity::update_many()
        .set(am)
        .filter(webhook_delivery::Column::Id.eq(d.id))
        .filter(webhook_delivery::Column::Attempts.eq(attempt))
        .exec(&txn)
        .await?;
    if recorded.rows_affected != 1 {
        return Ok(None);
    }
    // The endpoint as it is now, not as the run read it.
    let Some(endpoint) = webhook_endpoint::Entity::find_by_id(endpoint.id).one(&txn).await? else {
        txn.commit().await?;
        return Ok(Some(outcome));
    };
    let endpoint = &endpoint;
    match outcome {
        Outcome::Delivered if endpoint.failing_since.is_some() => {
            webhook_endpoint::Entity::update_many()
                .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                .exec(&txn)
                .await?;
        }
        Outcome::Delivered => {}
        Outcome::Failed if gone => {
            disable(&txn, state, endpoint, done, "the receiver answered 410 Gone").await?;
        }
        Outcome::Failed | Outcome::Retried => {
            webhook_endpoint::Entity::update_many()
                .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(done))
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                .filter(webhook_endpoint::Column::FailingSince.is_null())
                .exec(&txn)
                .await?;
            let failing_since = endpoint.failing_since.unwrap_or(done);
            if matches!(outcome, Outcome::Failed) && done - failing_since >= chrono::Duration::hours(FAILING_FOR_HOURS)
            {
                let reason = format!(
                    "a message failed {MAX_ATTEMPTS} attempts over about 3 days, and nothing reached the endpoint for {} days",
                    (done - failing_since).num_days()
                );
                disable(&txn, state, endpoint, done, &reason).await?;
            }
        }
    }
    txn.commit().await?;
    Ok(Some(outcome))
}

async fn send(
    state: &AppState,
    http: &reqwest::Client,
    endpoint: &webhook_endpoint::Model,
    d: &webhook_delivery::Model,
    now: DateTime<Utc>,
) -> Answer {
    let failed = |e: String| Answer { status: None, retry_after: None, error: Some(e) };
    // The address again, as at registration (form, scheme, port, where it resolves): a
    // literal IP is not resolved by reqwest, a name may point elsewhere now, and an
    // operator may have narrowed JEMBATAN_WEBHOOK_ALLOW_CIDRS since.
    let guard::Checked { url, listed } = match webhooks::guard(state).check(&endpoint.url).await {
        Ok(c) => c,
        Err(e) => return failed(format!("the address {e}")),
    };
    let mut secrets = vec![endpoint.secret.as_str()];
    if let (Some(old), Some(until)) = (&endpoint.previous_secret, endpoint.previous_secret_until)
        && until > now
    {
        secrets.push(old);
    }
    let timestamp = now.timestamp();
    let sent = http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature::header(&secrets, &d.message_id, timestamp, &d.payload))
        .body(d.payload.clone())
        .send()
        .await;
    let mut res = match sent {
        Ok(r) => r,
        Err(e) => return failed(describe(&e)),
    };
    let status = res.status();
    let retry_after = matches!(status.as_u16(), 429 | 503)
        .then(|| res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| retry_after(v, now)))
        .flatten();
    // A bounded read: a receiver streaming gigabytes costs us 1 KiB.
    let mut body = Vec::new();
    while body.len() < ANSWER_BYTES {
        match tokio::time::timeout(Duration::from_secs(2), res.chunk()).await {
            Ok(Ok(Some(c))) => body.extend_from_slice(&c),
            _ => break,
        }
    }
    body.truncate(ANSWER_BYTES);
    // The start of the answer helps an integrator see why; not from a host inside the
    // operator's network, whose pages are not for an agency to read through us.
    let error = (!status.is_success()).then(|| {
        let text: String = if listed {
            String::new()
        } else {
            String::from_utf8_lossy(&body).chars().filter(|c| !c.is_control()).take(200).collect::<String>()
        };
        format!("{status}{}{}", if text.trim().is_empty() { "" } else { ": " }, text.trim())
    });
    Answer { status: Some(status.as_u16()), retry_after, error }
}

/// A connection error as the delivery log shows it (no internal detail to hide: the
/// address is the owner's own).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut root = String::new();
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    if root.is_empty() { kind.to_owned() } else { format!("{kind}: {root}") }
}

/// `Retry-After`: seconds or an HTTP date, kept within 1 s – 24 h.
fn retry_after(v: &str, now: DateTime<Utc>) -> Option<i64> {
    let secs = match v.trim().parse::<i64>() {
        Ok(s) => s,
        Err(_) => (DateTime::parse_from_rfc2822(v.trim()).ok()?.with_timezone(&Utc) - now).num_seconds(),
    };
    Some(secs.clamp(1, 24 * 3600))
}

/// Seconds until the next attempt after `attempt` failed, ±10 % jitter (`unit` in [0, 1)).
fn backoff_secs(attempt: i32, unit: f64) -> i64 {
    let i = usize::try_from(attempt - 1).unwrap_or(0).min(SCHEDULE.len() - 1);
    (SCHEDULE[i] as f64 * (0.9 + 0.2 * unit.clamp(0.0, 1.0))).round() as i64
}

/// Turns an endpoint off and tells its owner (by mail; the audit log records it).
async fn disable<C: sea_orm::ConnectionTrait>(
    db: &C,
    state: &AppState,
    endpoint: &webhook_endpoint::Model,
    now: DateTime<Utc>,
    reason: &str,
) -> ApiResult<()> {
    let res = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(webhook_endpoint::Column::DisabledAt, Expr::value(now))
        .col_expr(webhook_endpoint::Column::DisabledReason, Expr::value(reason))
        .col_expr(webhook_endpoint::Column::Version, Expr::col(webhook_endpoint::Column::Version).add(1))
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Ok(()); // already off
    }
    crate::service::audit::append(
        db,
        now,
        crate::service::audit::Actor::SYSTEM,
        "webhook_endpoint.disabled",
        "webhook_endpoint",
        endpoint.id,
        serde_json::json!({"reason": reason}),
    )
    .await?;
    // In the office's language, like every mail.
    let t = |m: crate::i18n::Msg| crate::i18n::Lang::Id.render(&m);
    let subject = format!("[Jembatan] {}", t(crate::msg!("mail-webhook-disabled-subject")));
    let body = t(crate::msg!(
        "mail-webhook-disabled",
        id = endpoint.id.to_string(),
        url = endpoint.url.as_str(),
        reason = reason
    ));
    crate::service::notifications::mail_owner(db, state, now, endpoint.created_by_user_id, &subject, &body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spans_about_three_days_with_bounded_jitter() {
        let total: i64 = (1..MAX_ATTEMPTS).map(|a| backoff_secs(a, 0.5)).sum();
        assert!((70 * 3600..74 * 3600).contains(&total), "{total}");
        assert_eq!(backoff_secs(1, 0.5), 5);
        assert_eq!(backoff_secs(2, 0.0), 270);
        assert_eq!(backoff_secs(2, 0.999_999), 330);
        assert_eq!(backoff_secs(99, 0.5), 72_000);
    }

    /// The delivery client resolves names through the guard: a name that resolves to
    /// loopback is refused at connection time, whatever checked it before (DNS rebinding),
    /// and nothing connects. With the address listed, the same call goes through.
    #[tokio::test]
    async fn the_delivery_client_connects_only_where_the_guard_allows() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut c, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf).await;
                let _ = c.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
            }
        });
        let url = format!("http://localhost:{port}/x");
        let refused = client(guard::Guard::default()).post(&url).send().await;
        assert!(refused.is_err(), "{refused:?}");
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0, "a refused name was connected to");
        let open = guard::Guard::new(vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()]);
        let ok = client(open).post(&url).send().await.expect("listed: delivered");
        assert_eq!(ok.status(), 204);
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_within_bounds() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T02:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(retry_after("120", now), Some(120));
        assert_eq!(retry_after("0", now), Some(1));
        assert_eq!(retry_after("999999", now), Some(86_400));
        assert_eq!(retry_after("Mon, 07 Dec 2026 02:10:00 GMT", now), Some(600));
        assert_eq!(retry_after("soon", now), None);
    }
}
