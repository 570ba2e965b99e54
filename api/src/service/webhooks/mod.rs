//! Webhooks (Standard Webhooks 1.0): endpoints an agency system (or an admin) registers to
//! be called when something happens to the requests it may see — the event feed's
//! entries, pushed. Registering, changing, rotating the secret, the delivery log,
//! redelivery and the test ping live here; `jobs::webhooks` fans the audit log out to
//! endpoints and delivers.
//!
//! Who: an admin (any endpoint; may register one for every request), or an agency's
//! applicant — a person or its system — for its own organization. Another
//! organization's endpoint is 404, as if it did not exist.

pub mod guard;
pub mod signature;

use chrono::{DateTime, Utc};
use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use super::feed::FeedEventType;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::shared::cas::compare_and_set;
use crate::shared::{Page, Text};
use crate::state::AppState;

/// How long the secret before a rotation keeps signing, so receivers can roll over.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
/// Endpoints one organization may register (each is a fan-out of every event).
pub const MAX_ENDPOINTS_PER_ORGANIZATION: u64 = 20;

/// Whether a delivery has reached its receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up on: attempts exhausted (about 3 days) or 410 Gone.
    Failed,
}

/// An endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f0-6c00-7000-8000-0000000000b1",
    "organization_id": "0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a00",
    "url": "https://simpus.dinkes.trenggalekkab.go.id/hooks/jembatan",
    "description": "SIMPUS: integration status",
    "event_types": ["request.step_started", "request.completed"],
    "enabled": true, "disabled_at": null, "disabled_reason": null, "failing_since": null,
    "previous_secret_expires_at": null,
    "created_by_user_id": null, "created_by_client_id": "0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a59",
    "created_at": "2026-12-07T02:00:00Z", "updated_at": "2026-12-07T02:00:00Z", "version": 1
}))]
pub struct WebhookEndpoint {
    pub id: Uuid,
    /// Whose requests it hears about; `null`: every request (admins only).
    pub organization_id: Option<Uuid>,
    pub url: String,
    pub description: Option<String>,
    /// The event types sent; empty: every type.
    pub event_types: Vec<FeedEventType>,
    /// Disabled endpoints get nothing; events meanwhile are not queued for them (catch up
    /// with `GET /events`). Re-enable with `PATCH {"enabled": true}`.
    pub enabled: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why: by whom, `410 Gone`, or three days of failed deliveries.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed (`null` after any success).
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation also signs.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_by_user_id: Option<Uuid>,
    pub created_by_client_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// An endpoint with its signing secret: returned once, by create and rotate.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_` + base64 of 32 random bytes, as Standard Webhooks libraries take it. Shown
    /// only in this response.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwJ0xR3cWc8YI=")]
    pub secret: String,
}

/// Registering an endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://simpus.dinkes.trenggalekkab.go.id/hooks/jembatan",
    "description": "SIMPUS: integration status",
    "event_types": ["request.step_started", "request.completed"]
}))]
pub struct NewWebhookEndpoint {
    /// `https://…` (plain `http` only to addresses an operator listed in
    /// `JEMBATAN_WEBHOOK_ALLOW_CIDRS`). Its host must resolve to public addresses only:
    /// loopback, private, link-local, CGNAT and metadata addresses are refused (422).
    #[schema(max_length = 2048, format = "uri")]
    pub url: String,
    /// At most 200 characters.
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// The types to send; absent or empty: every type.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub event_types: Vec<FeedEventType>,
    /// Admins only: the organization whose requests it hears about; absent: every request.
    /// Anyone else registers for their own organization (absent, or their own id).
    pub organization_id: Option<Uuid>,
}

/// Changing an endpoint: only the fields sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true, "version": 3}))]
pub struct WebhookEndpointUpdate {
    #[schema(max_length = 2048, format = "uri")]
    pub url: Option<String>,
    /// `""` removes it.
    #[schema(max_length = 200)]
    pub description: Option<String>,
    #[schema(max_items = 20)]
    pub event_types: Option<Vec<FeedEventType>>,
    /// `true` re-enables an endpoint disabled by failures (and forgets them).
    pub enabled: Option<bool>,
    /// The version you saw (stale: 409). `If-Match` works too (stale: 412).
    #[serde(default, deserialize_with = "crate::shared::integral::integral_i32")]
    #[schema(minimum = 1, maximum = 2147483647)]
    pub version: Option<i32>,
}

/// One message to an endpoint and what became of it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f0-6c00-7000-8000-0000000000d1", "endpoint_id": "0193a1f0-6c00-7000-8000-0000000000b1",
    "message_id": "0193a1f0-6c00-7000-8000-0000000000e1", "event_type": "request.step_started",
    "state": "pending", "attempts": 2, "last_attempt_at": "2026-12-07T02:05:06Z", "last_status": 503,
    "last_error": "503 Service Unavailable", "next_attempt_at": "2026-12-07T02:10:06Z",
    "delivered_at": null, "failed_at": null, "created_at": "2026-12-07T02:05:01Z"
}))]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The `webhook-id` header: the same on every attempt and redelivery (for an event,
    /// the event's id: deduplicate on it).
    pub message_id: String,
    pub event_type: FeedEventType,
    pub state: DeliveryState,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status at the last attempt; `null`: no answer.
    pub last_status: Option<i32>,
    /// What went wrong at the last attempt (status line and the first bytes of the body,
    /// or the connection error).
    pub last_error: Option<String>,
    /// When a pending delivery is tried next.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<webhook_endpoint::Model> for WebhookEndpoint {
    fn from(m: webhook_endpoint::Model) -> Self {
        WebhookEndpoint {
            id: m.id,
            organization_id: m.organization_id,
            event_types: parse_types(&m.event_types),
            url: m.url,
            description: m.description,
            enabled: m.enabled,
            disabled_at: m.disabled_at,
            disabled_reason: m.disabled_reason,
            failing_since: m.failing_since,
            previous_secret_expires_at: m.previous_secret_until,
            created_by_user_id: m.created_by_user_id,
            created_by_client_id: m.created_by_client_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
        }
    }
}

impl From<webhook_delivery::Model> for WebhookDelivery {
    fn from(m: webhook_delivery::Model) -> Self {
        let state = match (m.delivered_at, m.failed_at) {
            (Some(_), _) => DeliveryState::Delivered,
            (_, Some(_)) => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        };
        WebhookDelivery {
            id: m.id,
            endpoint_id: m.endpoint_id,
            message_id: m.message_id,
            event_type: m.event_type.parse().unwrap_or(FeedEventType::WebhookPing),
            next_attempt_at: (state == DeliveryState::Pending).then_some(m.next_attempt_at),
            state,
            attempts: m.attempts,
            last_attempt_at: m.last_attempt_at,
            last_status: m.last_status,
            last_error: m.last_error,
            delivered_at: m.delivered_at,
            failed_at: m.failed_at,
            created_at: m.created_at,
        }
    }
}

/// Stored as comma-separated names (a closed set, no commas in it).
fn parse_types(s: &str) -> Vec<FeedEventType> {
    s.split(',').filter(|t| !t.is_empty()).filter_map(|t| t.parse().ok()).collect()
}

fn store_types(types: &[FeedEventType]) -> String {
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// Whether an endpoint wants this type.
pub fn wants(endpoint: &webhook_endpoint::Model, kind: FeedEventType) -> bool {
    endpoint.event_types.is_empty() || endpoint.event_types.split(',').any(|t| t == kind.as_str())
}

fn is_admin(caller: &Caller) -> bool {
    caller.user_id().is_some() && caller.has(Role::Admin)
}

/// The endpoint, if the caller may manage it; anyone else's is 404.
async fn find_for<C: ConnectionTrait>(db: &C, caller: &Caller, id: Uuid) -> ApiResult<webhook_endpoint::Model> {
    let e = webhook_endpoint::Entity::find_by_id(id).one(db).await?;
    e.filter(|e| is_admin(caller) || e.organization_id == Some(caller.organization_id))
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

fn check_description(d: &str, errors: &mut FieldErrors) -> Option<String> {
    Text::<200>::parse_field(d, "description", errors).map(|t| t.trimmed().to_owned())
}

fn check_types(types: &[FeedEventType], errors: &mut FieldErrors) {
    if types.len() > 20 {
        errors.entry("event_types".into()).or_default().push(crate::msg!("webhook-types-too-many"));
    }
    if types.contains(&FeedEventType::WebhookPing) {
        errors.entry("event_types".into()).or_default().push(crate::msg!("webhook-ping-not-subscribable"));
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: NewWebhookEndpoint,
) -> ApiResult<WebhookEndpointWithSecret> {
    let mut errors = FieldErrors::new();
    let description = input.description.as_deref().and_then(|d| check_description(d, &mut errors));
    check_types(&input.event_types, &mut errors);
    let organization_id = match (is_admin(caller), input.organization_id) {
        (true, o) => o,
        (false, None) => Some(caller.organization_id),
        (false, Some(o)) if o == caller.organization_id => Some(o),
        (false, Some(_)) => {
            return Err(ApiError::Forbidden(crate::msg!("webhook-own-organization")));
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    if let Some(o) = organization_id {
        match super::organizations::find(&state.db, o).await {
            Ok(org) if org.active => {}
            _ => return Err(ApiError::invalid("organization_id", crate::msg!("active-organization-required"))),
        }
    }
    let url = guard(state).check_url(&input.url).await.map_err(refused_url)?;
    let now = state.now();
    let secret = signature::new_secret();
    let txn = crate::db::begin_write(&state.db).await?;
    let mut count = webhook_endpoint::Entity::find();
    count = match organization_id {
        Some(o) => count.filter(webhook_endpoint::Column::OrganizationId.eq(o)),
        None => count.filter(webhook_endpoint::Column::OrganizationId.is_null()),
    };
    if sea_orm::PaginatorTrait::count(count, &txn).await? >= MAX_ENDPOINTS_PER_ORGANIZATION {
        return Err(ApiError::Conflict(crate::msg!("webhook-too-many", most = MAX_ENDPOINTS_PER_ORGANIZATION)));
    }
    let model = webhook_endpoint::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        url: Set(url.to_string()),
        description: Set(description),
        event_types: Set(store_types(&input.event_types)),
        secret: Set(secret.clone()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        enabled: Set(true),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_by_user_id: Set(caller.user_id()),
        created_by_client_id: Set(caller.client_id()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "webhook_endpoint.created",
        "webhook_endpoint",
        model.id,
        serde_json::json!({"url": for_the_record(&model.url), "organization_id": model.organization_id,
                           "event_types": model.event_types}),
    )
    .await?;
    txn.commit().await?;
    Ok(WebhookEndpointWithSecret { endpoint: model.into(), secret })
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    state: &AppState,
    caller: &Caller,
    limit: u64,
    after: Option<Uuid>,
) -> ApiResult<Page<WebhookEndpoint>> {
    let mut q = webhook_endpoint::Entity::find().order_by_asc(webhook_endpoint::Column::Id).limit(limit + 1);
    if !is_admin(caller) {
        q = q.filter(webhook_endpoint::Column::OrganizationId.eq(caller.organization_id));
    }
    if let Some(after) = after {
        q = q.filter(webhook_endpoint::Column::Id.gt(after));
    }
    Ok(Page::from_rows(q.all(&state.db).await?, limit, |r| r.id, Into::into))
}

pub async fn get(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<WebhookEndpoint> {
    Ok(find_for(&state.db, caller, id).await?.into())
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    input: WebhookEndpointUpdate,
    if_match: Option<i32>,
) -> ApiResult<WebhookEndpoint> {
    let mut errors = FieldErrors::new();
    let description = input.description.as_deref().map(|d| match d {
        "" => None,
        d => check_description(d, &mut errors),
    });
    if let Some(t) = &input.event_types {
        check_types(t, &mut errors);
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    // Visible first: someone else's endpoint is 404 before any address is looked up.
    find_for(&state.db, caller, id).await?;
    let url = match &input.url {
        Some(u) => Some(guard(state).check_url(u).await.map_err(refused_url)?),
        None => None,
    };
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = find_for(&txn, caller, id).await?;
    super::check_preconditions(current.version, if_match, input.version)?;
    let mut am: webhook_endpoint::ActiveModel = current.clone().into();
    let mut changed = serde_json::Map::new();
    if let Some(u) = url {
        changed.insert("url".into(), for_the_record(u.as_str()).into());
        am.url = Set(u.to_string());
    }
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(t) = &input.event_types {
        let stored = store_types(t);
        changed.insert("event_types".into(), stored.clone().into());
        am.event_types = Set(stored);
    }
    match input.enabled {
        Some(true) if !current.enabled => {
            changed.insert("enabled".into(), true.into());
            am.enabled = Set(true);
            am.disabled_at = Set(None);
            am.disabled_reason = Set(None);
            am.failing_since = Set(None);
        }
        Some(false) if current.enabled => {
            changed.insert("enabled".into(), false.into());
            am.enabled = Set(false);
            am.disabled_at = Set(Some(now));
            am.disabled_reason = Set(Some("disabled by its owner".into()));
        }
        _ => {}
    }
    am.updated_at = Set(now);
    am.version = Set(current.version + 1);
    let model = compare_and_set(
        &txn,
        am,
        (webhook_endpoint::Column::Id, id),
        (webhook_endpoint::Column::Version, current.version),
        "webhook endpoint",
    )
    .await?;
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "webhook_endpoint.updated",
        "webhook_endpoint",
        id,
        serde_json::Value::Object(changed),
    )
    .await?;
    txn.commit().await?;
    Ok(model.into())
}

/// Removes an endpoint and its delivery log (the audit log keeps that it existed).
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn delete(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<()> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = find_for(&txn, caller, id).await?;
    webhook_delivery::Entity::delete_many().filter(webhook_delivery::Column::EndpointId.eq(id)).exec(&txn).await?;
    webhook_endpoint::Entity::delete_by_id(id).exec(&txn).await?;
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "webhook_endpoint.deleted",
        "webhook_endpoint",
        id,
        serde_json::json!({"url": for_the_record(&current.url)}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A new secret; the old one keeps signing beside it for `ROTATION_OVERLAP_HOURS`.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn rotate(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<WebhookEndpointWithSecret> {
    let now = state.now();
    let secret = signature::new_secret();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = find_for(&txn, caller, id).await?;
    // A second rotation inside the overlap would stop the oldest secret at once, under
    // a receiver that may still be on it.
    if let Some(until) = current.previous_secret_until.filter(|u| *u > now) {
        return Err(ApiError::Conflict(crate::msg!(
            "webhook-rotation-overlap",
            until = until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )));
    }
    let mut am: webhook_endpoint::ActiveModel = current.clone().into();
    am.previous_secret = Set(Some(current.secret.clone()));
    am.previous_secret_until = Set(Some(now + chrono::Duration::hours(ROTATION_OVERLAP_HOURS)));
    am.secret = Set(secret.clone());
    am.updated_at = Set(now);
    am.version = Set(current.version + 1);
    let model = compare_and_set(
        &txn,
        am,
        (webhook_endpoint::Column::Id, id),
        (webhook_endpoint::Column::Version, current.version),
        "webhook endpoint",
    )
    .await?;
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "webhook_endpoint.secret_rotated",
        "webhook_endpoint",
        id,
        serde_json::json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(WebhookEndpointWithSecret { endpoint: model.into(), secret })
}

/// An endpoint's deliveries, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn deliveries(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    limit: u64,
    before: Option<Uuid>,
) -> ApiResult<Page<WebhookDelivery>> {
    find_for(&state.db, caller, id).await?;
    let mut q = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit + 1);
    if let Some(b) = before {
        q = q.filter(webhook_delivery::Column::Id.lt(b));
    }
    Ok(Page::from_rows(q.all(&state.db).await?, limit, |r| r.id, Into::into))
}

/// Queues a message again, as a new delivery with the same `webhook-id` and payload.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn redeliver(state: &AppState, caller: &Caller, id: Uuid, delivery_id: Uuid) -> ApiResult<WebhookDelivery> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let endpoint = find_for(&txn, caller, id).await?;
    let old = webhook_delivery::Entity::find_by_id(delivery_id)
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    if !endpoint.enabled {
        return Err(ApiError::Conflict(crate::msg!("webhook-disabled")));
    }
    if pending(&txn, id, webhook_delivery::Column::MessageId, &old.message_id).await? {
        return Err(ApiError::Conflict(crate::msg!("webhook-message-pending")));
    }
    let model = queue(&txn, now, id, &old.message_id, &old.event_type, old.payload).await?;
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "webhook_endpoint.redelivery_requested",
        "webhook_endpoint",
        id,
        serde_json::json!({"delivery_id": delivery_id, "message_id": old.message_id}),
    )
    .await?;
    txn.commit().await?;
    Ok(model.into())
}

/// Queues a `webhook.ping` to the endpoint, to test it.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn ping(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<WebhookDelivery> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let endpoint = find_for(&txn, caller, id).await?;
    if !endpoint.enabled {
        return Err(ApiError::Conflict(crate::msg!("webhook-disabled")));
    }
    if pending(&txn, id, webhook_delivery::Column::EventType, FeedEventType::WebhookPing.as_str()).await? {
        return Err(ApiError::Conflict(crate::msg!("webhook-ping-pending")));
    }
    let message_id = Uuid::now_v7();
    let payload = serde_json::json!({
        "id": message_id,
        "type": FeedEventType::WebhookPing.as_str(),
        "timestamp": now,
        "data": {"endpoint_id": id},
    });
    let model =
        queue(&txn, now, id, &message_id.to_string(), FeedEventType::WebhookPing.as_str(), payload.to_string()).await?;
    txn.commit().await?;
    Ok(model.into())
}

/// Whether a delivery to the endpoint with `column` = `value` (the same message, or a
/// ping) is still pending: a redelivery or ping waits for it rather than piling up.
async fn pending<C: ConnectionTrait>(
    db: &C,
    endpoint_id: Uuid,
    column: webhook_delivery::Column,
    value: &str,
) -> ApiResult<bool> {
    Ok(webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .filter(column.eq(value))
        .filter(webhook_delivery::Column::DeliveredAt.is_null())
        .filter(webhook_delivery::Column::FailedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// An address as the audit log keeps it: without its query (which may carry a token).
fn for_the_record(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.to_string()
        }
        Err(_) => String::new(),
    }
}

/// Puts one message in the outbox, due now.
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    endpoint_id: Uuid,
    message_id: &str,
    event_type: &str,
    payload: String,
) -> ApiResult<webhook_delivery::Model> {
    Ok(new_delivery(now, endpoint_id, message_id, event_type, payload).insert(db).await?)
}

pub fn new_delivery(
    now: DateTime<Utc>,
    endpoint_id: Uuid,
    message_id: &str,
    event_type: &str,
    payload: String,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        endpoint_id: Set(endpoint_id),
        message_id: Set(message_id.to_owned()),
        event_type: Set(event_type.to_owned()),
        payload: Set(payload),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_attempt_at: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        failed_at: Set(None),
    }
}

/// A refused address, as a 422 on `url`. The guard's reason is English (it names
/// address ranges, the same in both languages' documentation); the frame is translated.
fn refused_url(why: String) -> ApiError {
    ApiError::invalid("url", crate::msg!("webhook-url-refused", why = why))
}

/// The guard this installation's settings describe.
pub fn guard(state: &AppState) -> guard::Guard {
    guard::Guard::new(state.settings.webhook_allow_nets.clone())
}
