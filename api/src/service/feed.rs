//! The event feed (`GET /events`): what happened to the requests a caller may see, for
//! agency systems that cannot receive calls. Thin entries (ids, type, time, links), in the
//! order the transparency log gave the events. That order is the cursor: the sequencer
//! numbers committed events consecutively and commits each batch at once, so a reader that
//! sees index n has seen every index below it — pages never skip or repeat an event, even
//! while transitions commit out of `seq` order. The price: an event appears once it is in
//! the log (under a second; `JEMBATAN_AUDIT_SEQUENCE_INTERVAL_MS`).

use chrono::{DateTime, Utc};
use entity::{audit_event, request};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::shared::page::{decode_cursor_bytes, encode_cursor_bytes};
use crate::state::AppState;
use crate::workflow::{Status, StepCode, Visibility};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum FeedEventType {
    #[serde(rename = "request.submitted")]
    RequestSubmitted,
    /// The request moved to a step (after the one before finished, was sent back to, or a
    /// failed test sent it back to integration): `data.step`.
    #[serde(rename = "request.step_started")]
    RequestStepStarted,
    #[serde(rename = "request.returned")]
    RequestReturned,
    #[serde(rename = "request.resubmitted")]
    RequestResubmitted,
    #[serde(rename = "request.rejected")]
    RequestRejected,
    #[serde(rename = "request.withdrawn")]
    RequestWithdrawn,
    #[serde(rename = "request.cancelled")]
    RequestCancelled,
    #[serde(rename = "request.completed")]
    RequestCompleted,
    /// The current step reached its warning time.
    #[serde(rename = "step.warning")]
    StepWarning,
    /// The current step passed its limit.
    #[serde(rename = "step.overdue")]
    StepOverdue,
    #[serde(rename = "document.added")]
    DocumentAdded,
    /// A public comment (internal ones are the office's own).
    #[serde(rename = "comment.added")]
    CommentAdded,
    /// Webhooks only, never in the feed: the test message `POST /webhooks/{id}/ping` sends.
    #[serde(rename = "webhook.ping")]
    WebhookPing,
}

impl FeedEventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        use FeedEventType::*;
        match self {
            RequestSubmitted => "request.submitted",
            RequestStepStarted => "request.step_started",
            RequestReturned => "request.returned",
            RequestResubmitted => "request.resubmitted",
            RequestRejected => "request.rejected",
            RequestWithdrawn => "request.withdrawn",
            RequestCancelled => "request.cancelled",
            RequestCompleted => "request.completed",
            StepWarning => "step.warning",
            StepOverdue => "step.overdue",
            DocumentAdded => "document.added",
            CommentAdded => "comment.added",
            WebhookPing => "webhook.ping",
        }
    }
}

impl std::str::FromStr for FeedEventType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| ())
    }
}

/// The audit actions the feed reports, and as what.
fn kind_of(action: &str) -> Option<FeedEventType> {
    use FeedEventType::*;
    Some(match action {
        "request.submitted" => RequestSubmitted,
        "request.step_completed" | "request.sent_back" | "request.test_failed" => RequestStepStarted,
        "request.returned" => RequestReturned,
        "request.resubmitted" => RequestResubmitted,
        "request.rejected" => RequestRejected,
        "request.withdrawn" => RequestWithdrawn,
        "request.cancelled" => RequestCancelled,
        "request.completed" => RequestCompleted,
        "request.sla_warning" => StepWarning,
        "request.sla_overdue" => StepOverdue,
        "request.document_uploaded" => DocumentAdded,
        "request.comment_posted" => CommentAdded,
        _ => return None,
    })
}

const ACTIONS: [&str; 14] = [
    "request.submitted",
    "request.step_completed",
    "request.sent_back",
    "request.test_failed",
    "request.returned",
    "request.resubmitted",
    "request.rejected",
    "request.withdrawn",
    "request.cancelled",
    "request.completed",
    "request.sla_warning",
    "request.sla_overdue",
    "request.document_uploaded",
    "request.comment_posted",
];

/// The ids an entry points at.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedData {
    pub request_id: Uuid,
    /// The step the request is at after the event (or the step a warning is about).
    pub step: Option<StepCode>,
    /// The request's status after the event.
    pub status: Option<Status>,
    pub document_id: Option<Uuid>,
    pub comment_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedLinks {
    #[schema(example = "/api/v1/requests/0193a1f0-6c00-7000-8000-000000000001")]
    pub request: String,
    #[schema(example = "/api/v1/requests/0193a1f0-6c00-7000-8000-000000000001/timeline")]
    pub timeline: String,
    /// The event's inclusion proof in the audit log.
    #[schema(example = "/api/v1/audit/events/0193a1f0-6c00-7000-8000-0000000000e1/proof")]
    pub proof: String,
}

/// One thing that happened.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f0-6c00-7000-8000-0000000000e1", "sequence": 41, "type": "request.step_started",
    "timestamp": "2026-12-07T02:05:00Z",
    "data": {"request_id": "0193a1f0-6c00-7000-8000-000000000001", "step": "follow_up", "status": "in_progress",
             "document_id": null, "comment_id": null},
    "links": {"request": "/api/v1/requests/0193a1f0-6c00-7000-8000-000000000001",
              "timeline": "/api/v1/requests/0193a1f0-6c00-7000-8000-000000000001/timeline",
              "proof": "/api/v1/audit/events/0193a1f0-6c00-7000-8000-0000000000e1/proof"}
}))]
pub struct FeedEvent {
    /// The audit event's id: the same on every page and retry (deduplicate on it).
    pub id: Uuid,
    /// The event's index in the audit log: increasing through the feed.
    pub sequence: i64,
    #[serde(rename = "type")]
    pub kind: FeedEventType,
    pub timestamp: DateTime<Utc>,
    pub data: FeedData,
    pub links: FeedLinks,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    pub items: Vec<FeedEvent>,
    /// Always present: pass it as `after` for what comes next (also when this page is
    /// empty or short: poll with it later).
    pub next_cursor: String,
    /// Whether this page reached the end of the log as it was when read. Until then, ask
    /// for the next page at once (a page can be short, even empty, before the end).
    pub at_end: bool,
}

fn encode(index: i64) -> String {
    let mut b = [0u8; 16];
    b[8..].copy_from_slice(&index.to_be_bytes());
    encode_cursor_bytes(b)
}

/// Any cursor of the documented shape is a position (as for every list): its last 8 bytes,
/// big-endian; anything below the start reads from the start.
fn decode(cursor: &str) -> ApiResult<i64> {
    let b = decode_cursor_bytes(cursor).map_err(|_| ApiError::invalid("after", crate::msg!("feed-cursor-unknown")))?;
    let index = i64::from_be_bytes(b[8..].try_into().unwrap_or_default());
    Ok(Ord::max(index, -1))
}

/// Queries per page at most: a page may hold fewer than `limit` entries (only the office's
/// internal comments are filtered after reading); `at_end` says whether more exist.
const ROUNDS: usize = 8;

/// The events after `after` (none: from the beginning) that `caller` may see, at most
/// `limit`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn page(state: &AppState, caller: &Caller, after: Option<&str>, limit: u64) -> ApiResult<FeedPage> {
    let mut last = match after {
        Some(c) => decode(c)?,
        None => -1,
    };
    // The end of the log now: everything up to it is committed, so the scan is bounded by
    // it, and a caller with nothing in (last, head] moves on to head in one query.
    let head: i64 = audit_event::Entity::find()
        .select_only()
        .column_as(audit_event::Column::LeafIndex.max(), "m")
        .into_tuple::<Option<i64>>()
        .one(&state.db)
        .await?
        .flatten()
        .unwrap_or(-1);
    if last > head {
        return Err(ApiError::invalid("after", crate::msg!("feed-cursor-beyond")));
    }
    let batch = Ord::min(limit + 20, 500);
    let office = caller.sees_all_requests();
    let mut items = Vec::new();
    let mut at_end = false;
    'rounds: for _ in 0..ROUNDS {
        let mut q = audit_event::Entity::find()
            .filter(audit_event::Column::LeafIndex.gt(last))
            .filter(audit_event::Column::LeafIndex.lte(head))
            .filter(audit_event::Column::ObjectType.eq("request"))
            .filter(audit_event::Column::Action.is_in(ACTIONS))
            .order_by_asc(audit_event::Column::LeafIndex)
            .limit(batch);
        if !office {
            // An agency (or its system) follows its own organization's requests only.
            q = q.filter(
                Expr::col(audit_event::Column::ObjectId).in_subquery(
                    Query::select()
                        .column(request::Column::Id)
                        .from(request::Entity)
                        .and_where(request::Column::OrganizationId.eq(caller.organization_id))
                        .to_owned(),
                ),
            );
        }
        let rows = q.all(&state.db).await?;
        let full = rows.len() as u64 == batch;
        for e in rows {
            last = e.leaf_index.unwrap_or(last);
            if let Some(item) = entry(e) {
                items.push(item);
                if items.len() as u64 >= limit {
                    break 'rounds;
                }
            }
        }
        if !full {
            // Nothing more for this caller up to the head.
            last = head;
            at_end = true;
            break;
        }
    }
    Ok(FeedPage { items, next_cursor: encode(last), at_end })
}

/// The feed's entry for an audit event, if it reports one (also a webhook's payload).
pub fn entry(e: audit_event::Model) -> Option<FeedEvent> {
    let kind = kind_of(&e.action)?;
    let d = &e.details;
    // Comments: the public ones only, for everyone (the office reads the others in the app).
    if kind == FeedEventType::CommentAdded && d["visibility"].as_str() != Some(Visibility::Public.as_str()) {
        return None;
    }
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let id = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<Uuid>().ok());
    let request = format!("/api/v1/requests/{}", e.object_id);
    Some(FeedEvent {
        id: e.id,
        sequence: e.leaf_index?,
        kind,
        timestamp: e.occurred_at,
        data: FeedData {
            request_id: e.object_id,
            step: text(&d["to"]["step"]).or_else(|| text(&d["step"])).and_then(|s| s.parse().ok()),
            status: text(&d["to"]["status"]).and_then(|s| s.parse().ok()),
            document_id: id(&d["document_id"]),
            comment_id: id(&d["comment_id"]),
        },
        links: FeedLinks {
            timeline: format!("{request}/timeline"),
            request,
            proof: format!("/api/v1/audit/events/{}/proof", e.id),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_what_the_feed_did_not_make() {
        for i in [-1, 0, 41, i64::MAX] {
            assert_eq!(decode(&encode(i)).unwrap(), i);
        }
        assert_eq!(decode(&encode(-2)).unwrap(), -1);
        assert!(decode("nope").is_err());
    }

    #[test]
    fn every_reported_action_is_queried() {
        for a in ACTIONS {
            assert!(kind_of(a).is_some(), "{a}");
        }
        assert!(kind_of("request.team_changed").is_none() && kind_of("request.edited").is_none());
        for a in ACTIONS {
            let k = kind_of(a).unwrap();
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
            assert_eq!(k.as_str().parse::<FeedEventType>(), Ok(k));
        }
        assert_eq!("webhook.ping".parse::<FeedEventType>(), Ok(FeedEventType::WebhookPing));
    }
}
