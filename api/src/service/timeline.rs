//! A request's timeline: every step instance (who finished it, when, how long in working
//! time against its standard, which documents) and every event. Events are read from the
//! hash-chained audit trail itself, so what the timeline shows is what the chain proves.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{audit_event, document, step_instance, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::documents::DocumentMeta;
use super::requests::{self, RequestView};
use super::workflows;
use crate::auth::Caller;
use crate::calendar::{Due, SlaState};
use crate::error::ApiResult;
use crate::i18n::{Lang, Localize};
use crate::state::AppState;
use crate::workflow::{ActingKind, StepCode, StepOutcome, Visibility};

#[derive(Debug, Serialize, ToSchema)]
pub struct StepRecord {
    pub id: Uuid,
    pub step_code: StepCode,
    /// The step's name in the response's language, as `current_step.label`.
    pub label: String,
    #[serde(skip)]
    #[schema(ignore)]
    labels: requests::StepLabels,
    /// 1, or the build/test round after failed tests.
    pub round: i32,
    /// Who acted on the step, in the definition's shape (`{"role": …}` or `"team"`); null
    /// for a step the request's definition no longer names.
    #[schema(value_type = Option<crate::workflow::Actor>)]
    pub actor: Option<crate::workflow::Actor>,
    #[schema(example = "1-2d")]
    pub time_standard: String,
    pub started_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub limit_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<PersonRef>,
    pub completed_by_client_id: Option<Uuid>,
    /// `completed`, `test_failed`, `rejected`, `withdrawn`; null while open.
    pub outcome: Option<StepOutcome>,
    /// Hidden (null) from the applicant when `note_visibility` is `internal`.
    pub note: Option<String>,
    pub note_visibility: Visibility,
    /// Working seconds from the step's clock start to its end, less pauses: for a
    /// finished step the figure measured when it finished (the one the SLA report uses),
    /// for an open one the time so far.
    pub working_seconds: i64,
    pub paused_seconds: i64,
    /// For an open step: its SLA state now; for a finished one: the state it finished in.
    pub sla_state: SlaState,
    pub documents: Vec<DocumentMeta>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    #[schema(example = "request.step_completed")]
    pub action: String,
    pub actor: Option<PersonRef>,
    pub actor_client_id: Option<Uuid>,
    /// The official the actor acted for ("B, Plh for A"): a person, or null for a post
    /// (then `details.acting_for` names the role and organization).
    pub acting_for: Option<PersonRef>,
    /// `plt`, `plh` or `delegation` when the actor acted for someone.
    pub acting_kind: Option<ActingKind>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The old chain's link, for events written before the transparency log (else empty).
    pub hash: String,
    /// The event's leaf hash and index in the transparency log (null until sequenced):
    /// prove it with `GET /audit/events/{id}/proof`.
    pub leaf_hash: Option<String>,
    pub leaf_index: Option<i64>,
    pub event_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    pub request: RequestView,
    pub steps: Vec<StepRecord>,
    pub events: Vec<TimelineEvent>,
}

impl Localize for Timeline {
    fn localize(&mut self, lang: Lang) {
        self.request.localize(lang);
        for s in &mut self.steps {
            s.label = s.labels.get(lang).to_owned();
        }
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn timeline(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<Timeline> {
    Ok(with_definition(state, caller, id).await?.0)
}

/// The timeline and the definition the request follows (the printed records need both).
pub(crate) async fn with_definition(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> ApiResult<(Timeline, crate::workflow::WorkflowDefinition)> {
    let r = requests::load_visible(&state.db, caller, id).await?;
    let def = workflows::by_id(&state.db, r.definition_id).await?.definition.clone();
    let now = state.now();
    let calendar = state.calendar();
    let instances = step_instance::Entity::find()
        .filter(step_instance::Column::RequestId.eq(id))
        .order_by_asc(step_instance::Column::StartedAt)
        .order_by_asc(step_instance::Column::Id)
        .all(&state.db)
        .await?;
    let docs = document::Entity::find()
        .filter(document::Column::RequestId.eq(id))
        .order_by_asc(document::Column::UploadedAt)
        .all(&state.db)
        .await?;
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::ObjectId.eq(id))
        .order_by_asc(audit_event::Column::Seq)
        .all(&state.db)
        .await?;
    // The applicant (and the agency's systems) never read the office's internal notes
    // and comments, here or anywhere.
    let office = caller.sees_all_requests();
    let events: Vec<audit_event::Model> = events.into_iter().filter(|e| office || !is_internal(&e.details)).collect();
    let acting_for_of = |e: &audit_event::Model| {
        e.details.get("acting_for").and_then(|a| a.get("user_id")).and_then(|u| u.as_str()?.parse::<Uuid>().ok())
    };
    let mut people_ids: Vec<Uuid> = events.iter().filter_map(|e| e.actor_user_id).collect();
    people_ids.extend(events.iter().filter_map(acting_for_of));
    people_ids.extend(instances.iter().filter_map(|i| i.completed_by_user));
    people_ids.sort();
    people_ids.dedup();
    let people: HashMap<Uuid, PersonRef> = user::Entity::find()
        .filter(user::Column::Id.is_in(people_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, PersonRef { id: u.id, username: u.username, full_name: u.full_name }))
        .collect();
    let steps = instances
        .into_iter()
        .map(|i| {
            let end = i.completed_at.or(r.returned_at).unwrap_or(now);
            let due = Due {
                clock_started_at: i.clock_started_at,
                warning_at: i.warning_at,
                target_at: i.due_at,
                limit_at: i.limit_at,
            };
            let labels = def.step(i.step_code.0).map(requests::StepLabels::of).unwrap_or_default();
            StepRecord {
                label: labels.get(Lang::default()).to_owned(),
                labels,
                documents: docs
                    .iter()
                    .filter(|d| d.step_instance_id == i.id)
                    .cloned()
                    .map(DocumentMeta::from)
                    .collect(),
                // A finished step's working time is the one measured when it finished (the
                // figure the SLA report uses), not a recomputation with today's calendar.
                working_seconds: i
                    .working_seconds
                    .unwrap_or_else(|| (calendar.elapsed_seconds(i.clock_started_at, end) - i.paused_seconds).max(0)),
                sla_state: due.sla_state(end),
                completed_by: i.completed_by_user.and_then(|u| people.get(&u).cloned()),
                completed_by_client_id: i.completed_by_client,
                id: i.id,
                step_code: i.step_code.0,
                round: i.round,
                actor: match i.actor.0 {
                    crate::workflow::CurrentActor::Step(a) => Some(a),
                    _ => def.step(i.step_code.0).map(|s| s.actor),
                },
                time_standard: i.time_standard,
                started_at: i.started_at,
                due_at: i.due_at,
                limit_at: i.limit_at,
                completed_at: i.completed_at,
                outcome: i.outcome.map(|o| o.0),
                note: i.note.filter(|_| office || i.note_visibility.0 == Visibility::Public),
                note_visibility: i.note_visibility.0,
                paused_seconds: i.paused_seconds,
            }
        })
        .collect();
    let events = events
        .into_iter()
        .map(|e| TimelineEvent {
            seq: e.seq,
            at: e.occurred_at,
            actor: e.actor_user_id.and_then(|u| people.get(&u).cloned()),
            actor_client_id: e.actor_client_id,
            acting_for: acting_for_of(&e).and_then(|u| people.get(&u).cloned()),
            acting_kind: e.details.get("acting_kind").and_then(|k| serde_json::from_value(k.clone()).ok()),
            details: if office { e.details } else { without_internal_note(&e.action, e.details) },
            action: e.action,
            hash: e.hash,
            leaf_hash: e.leaf_hash,
            leaf_index: e.leaf_index,
            event_id: e.id,
        })
        .collect();
    Ok((Timeline { request: requests::view(&r, &def, now), steps, events }, def))
}

/// An event that is internal as a whole (an internal comment).
pub(crate) fn is_internal(details: &serde_json::Value) -> bool {
    details.get("visibility").and_then(|v| v.as_str()) == Some(Visibility::Internal.as_str())
}

/// The event with what is the office's own business blanked: an internal note, and the
/// reasons and people of a team change or a re-disposition (staff matters). The applicant
/// learns that it happened, not why or who.
pub(crate) fn without_internal_note(action: &str, mut details: serde_json::Value) -> serde_json::Value {
    let internal = details.get("note_visibility").and_then(|v| v.as_str()) == Some(Visibility::Internal.as_str());
    let staff_matter = matches!(action, "request.team_changed" | "request.redisposed");
    let mut blank = |key: &str| {
        if let Some(v) = details.get_mut(key) {
            *v = serde_json::Value::Null;
        }
    };
    if internal || staff_matter {
        blank("note");
    }
    if staff_matter {
        for key in ["reason", "output", "team_before", "addressees_before"] {
            blank(key);
        }
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn internal_notes_and_comments_are_recognised() {
        assert!(is_internal(&json!({"visibility": "internal", "body": "x"})));
        assert!(!is_internal(&json!({"visibility": "public", "body": "x"})));
        assert!(!is_internal(&json!({"note_visibility": "internal"})));
        let step = "request.step_completed";
        let hidden =
            without_internal_note(step, json!({"note": "secret", "note_visibility": "internal", "reason": "r"}));
        assert_eq!(hidden, json!({"note": null, "note_visibility": "internal", "reason": "r"}));
        let shown = json!({"note": "hi", "note_visibility": "public"});
        assert_eq!(without_internal_note(step, shown.clone()), shown);
        let team = without_internal_note("request.team_changed", json!({"reason": "mutasi", "team_before": [1]}));
        assert_eq!(team, json!({"reason": null, "team_before": null}));
    }
}
