//! Who is told what when something happens to a request: the task's new actors, the
//! applicant who submitted it, team members added or removed, people mentioned in a
//! comment. Written in the transaction that made the event (in-app, and to the mail
//! outbox when mail is configured), one notice per person per event.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{comment, request, team_member};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::acting;
use super::notifications::{self, NewNotification, NotificationKind};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::i18n::{Lang, Msg};
use crate::msg;
use crate::state::AppState;
use crate::workflow::{Actor, CurrentActor, EventKind, Status, Visibility, WorkflowDefinition};

/// One notice for one person; a person concerned twice by one event gets the notice of
/// the kind listed first in `NotificationKind::PRECEDENCE`.
struct Notice {
    kind: NotificationKind,
    title: String,
    body: String,
}

#[derive(Default)]
struct Notices {
    to: BTreeMap<Uuid, Notice>,
}

impl Notices {
    fn add(&mut self, users: impl IntoIterator<Item = Uuid>, kind: NotificationKind, title: &str, body: &str) {
        for u in users {
            let replace = self.to.get(&u).is_none_or(|n| kind.precedence() < n.kind.precedence());
            if replace {
                self.to.insert(u, Notice { kind, title: title.to_owned(), body: body.to_owned() });
            }
        }
    }

    async fn write<C: ConnectionTrait>(
        self,
        db: &C,
        state: &AppState,
        now: DateTime<Utc>,
        request_id: Uuid,
        step_instance_id: Option<Uuid>,
        except: Option<Uuid>,
    ) -> ApiResult<()> {
        let link = format!("{}/api/v1/requests/{request_id}", state.settings.public_url.trim_end_matches('/'));
        let to: Vec<_> = self.to.into_iter().filter(|(u, _)| Some(*u) != except).collect();
        let all = to
            .iter()
            .map(|(user_id, n)| NewNotification {
                user_id: *user_id,
                request_id,
                step_instance_id,
                kind: n.kind,
                title: &n.title,
                body: &n.body,
            })
            .collect();
        notifications::deliver(db, state, now, all, &link).await
    }
}

/// Notices and mail are written once, for people who have no language of their own yet:
/// in the office's language. (`docs/API-DESIGN.md`, "Languages".)
const LANG: Lang = Lang::Id;

fn t(m: Msg) -> String {
    LANG.render(&m)
}

fn number(r: &request::Model) -> String {
    r.number.clone().unwrap_or_else(|| t(msg!("notice-unnumbered")))
}

fn wib(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Jakarta).format("%d-%m-%Y %H:%M WIB").to_string()
}

/// The people who act on the request's current step now (a divisional role's holders in
/// the division the flow is routed to), and whoever acts for them.
async fn current_actors<C: ConnectionTrait>(
    db: &C,
    r: &request::Model,
    division: Option<Uuid>,
    addressees: &[Uuid],
    now: DateTime<Utc>,
) -> ApiResult<Vec<Uuid>> {
    let mut posts = Vec::new();
    let mut people = match r.current_actor.0 {
        CurrentActor::Step(Actor::Role(role)) => {
            let in_division = division.filter(|_| role.is_divisional());
            posts = acting::acting_for_role(db, role, in_division, now).await?;
            super::users::holders(db, role, in_division).await?
        }
        CurrentActor::Step(Actor::Team) => team_member::Entity::find()
            .filter(team_member::Column::RequestId.eq(r.id))
            .all(db)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect(),
        CurrentActor::Addressees => addressees.to_vec(),
        CurrentActor::Nobody => Vec::new(),
    };
    // Whoever acts for one of them, or for the post, is told as well.
    let stand_ins = acting::acting_for_users(db, &people, now).await?;
    people.extend(stand_ins.into_iter().map(|(b, _)| b));
    people.extend(posts);
    people.sort();
    people.dedup();
    Ok(people)
}

/// What a transition tells whom. `team` is the team before and after, when it changed;
/// `division` is the one the flow is routed to and `addressees` the disposition's after
/// the transition (the transition knows both already; reading them back is a round trip).
#[allow(clippy::too_many_arguments)]
pub async fn after_transition<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    def: &WorkflowDefinition,
    division: Option<Uuid>,
    addressees: &[Uuid],
    before: &request::Model,
    after: &request::Model,
    event: EventKind,
    caller: &Caller,
    reason: Option<&str>,
    team: Option<(Vec<Uuid>, Vec<Uuid>)>,
) -> ApiResult<()> {
    let mut notices = Notices::default();
    let no = number(after);
    let title_of = &after.title;
    let step = def.step(after.current_step.0);
    let activity = step
        .map(|s| {
            let label = super::requests::StepLabels::of(s);
            t(msg!("notice-step", order = u32::from(s.order), label = label.get(LANG)))
        })
        .unwrap_or_default();
    let why = reason.map(|r| format!(" {}", t(msg!("notice-reason", reason = r)))).unwrap_or_default();

    // A task arrives: the step changed hands, or came back to its actors.
    let moved =
        after.current_step != before.current_step || before.current_step_instance_id != after.current_step_instance_id;
    let task_arrives = after.status.0 == Status::InProgress
        && (moved || matches!(event, EventKind::Resubmitted | EventKind::Redisposed | EventKind::Submitted));
    if task_arrives {
        let due = after.current_due_at.map(|d| format!(" {}", t(msg!("notice-due", due = wib(d))))).unwrap_or_default();
        let body = t(msg!("notice-task-body", number = &no, title = title_of, step = &activity)) + &due;
        let people = current_actors(db, after, division, addressees, now).await?;
        notices.add(people, NotificationKind::TaskArrived, &t(msg!("notice-task-title", number = &no)), &body);
    }
    // The team's changes.
    if let Some((old, new)) = team {
        let added: Vec<Uuid> = new.iter().copied().filter(|u| !old.contains(u)).collect();
        let removed: Vec<Uuid> = old.iter().copied().filter(|u| !new.contains(u)).collect();
        let body = t(msg!("notice-team-added-body", number = &no, title = title_of)) + &why;
        notices.add(added, NotificationKind::TeamAdded, &t(msg!("notice-team-added-title", number = &no)), &body);
        let body = t(msg!("notice-team-removed-body", number = &no, title = title_of)) + &why;
        notices.add(removed, NotificationKind::TeamRemoved, &t(msg!("notice-team-removed-title", number = &no)), &body);
    }
    // The applicant who submitted it.
    let to_applicant = match event {
        EventKind::Returned => Some((
            NotificationKind::RequestReturned,
            t(msg!("notice-returned-title", number = &no)),
            t(msg!("notice-returned-body", number = &no, title = title_of)) + &why,
        )),
        EventKind::Rejected => Some((
            NotificationKind::RequestRejected,
            t(msg!("notice-rejected-title", number = &no)),
            t(msg!("notice-rejected-body", number = &no, title = title_of)) + &why,
        )),
        EventKind::Cancelled => Some((
            NotificationKind::RequestCancelled,
            t(msg!("notice-cancelled-title", number = &no)),
            t(msg!("notice-cancelled-body", number = &no, title = title_of)) + &why,
        )),
        EventKind::Completed => Some((
            NotificationKind::RequestCompleted,
            t(msg!("notice-completed-title", number = &no)),
            t(msg!("notice-completed-body", number = &no, title = title_of)),
        )),
        EventKind::StepCompleted | EventKind::SentBack | EventKind::TestFailed if moved => Some((
            NotificationKind::RequestMoved,
            t(msg!("notice-moved-title", number = &no)),
            t(msg!("notice-moved-body", number = &no, title = title_of, step = &activity)),
        )),
        _ => None,
    };
    if let (Some((kind, title, body)), Some(applicant)) = (to_applicant, after.created_by_user) {
        notices.add([applicant], kind, &title, &body);
    }
    notices.write(db, state, now, after.id, after.current_step_instance_id, caller.user_id()).await
}

/// A comment: the people it mentions, and (for a public one) the applicant who submitted
/// the request.
pub async fn comment_posted<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    r: &request::Model,
    caller: &Caller,
    c: &comment::Model,
    mentioned: &[Uuid],
) -> ApiResult<()> {
    let mut notices = Notices::default();
    let no = number(r);
    let excerpt: String = c.body.chars().take(280).collect();
    let body = t(msg!("notice-comment-body", number = &no, title = &r.title, excerpt = excerpt));
    notices.add(
        mentioned.iter().copied(),
        NotificationKind::Mentioned,
        &t(msg!("notice-mentioned-title", number = &no)),
        &body,
    );
    if c.visibility.0 == Visibility::Public
        && let Some(applicant) = r.created_by_user
    {
        notices.add(
            [applicant],
            NotificationKind::CommentPosted,
            &t(msg!("notice-comment-title", number = &no)),
            &body,
        );
    }
    notices.write(db, state, now, r.id, None, caller.user_id()).await
}
