//! Notifications: each user's inbox. The SLA sweeper writes them (inside its own
//! transaction, see `jobs::sla_sweeper`); their owner lists them and marks them read.
//!
//! Marking read is the owner's inbox state, not a change to the record of a request, so
//! it is not an audit event (the crossings that caused the notifications are).

use chrono::{DateTime, DurationRound, TimeZone, Utc};
use entity::notification;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::shared::Page;
use crate::shared::page::{decode_cursor_bytes, encode_cursor_bytes};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// The step you act on reached its warning point (target of a ranged standard, or
    /// 80 % of a single one).
    SlaWarning,
    /// The step you act on passed its limit.
    SlaOverdue,
    /// A step one level below you passed its limit (see `docs/sla.md`).
    Escalation,
    /// A step is now yours to act on (your role, your team, addressed to you, or to
    /// someone you act for).
    TaskArrived,
    /// A request you submitted was returned to you for revision.
    RequestReturned,
    RequestRejected,
    RequestCancelled,
    RequestCompleted,
    /// A request you submitted moved to another step.
    RequestMoved,
    /// You were added to a request's integration team.
    TeamAdded,
    /// You were removed from a request's integration team.
    TeamRemoved,
    /// A comment mentions you.
    Mentioned,
    /// A comment was posted on a request you submitted.
    CommentPosted,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 13] = [
        Self::SlaWarning,
        Self::SlaOverdue,
        Self::Escalation,
        Self::TaskArrived,
        Self::RequestReturned,
        Self::RequestRejected,
        Self::RequestCancelled,
        Self::RequestCompleted,
        Self::RequestMoved,
        Self::TeamAdded,
        Self::TeamRemoved,
        Self::Mentioned,
        Self::CommentPosted,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SlaWarning => "sla_warning",
            Self::SlaOverdue => "sla_overdue",
            Self::Escalation => "escalation",
            Self::TaskArrived => "task_arrived",
            Self::RequestReturned => "request_returned",
            Self::RequestRejected => "request_rejected",
            Self::RequestCancelled => "request_cancelled",
            Self::RequestCompleted => "request_completed",
            Self::RequestMoved => "request_moved",
            Self::TeamAdded => "team_added",
            Self::TeamRemoved => "team_removed",
            Self::Mentioned => "mentioned",
            Self::CommentPosted => "comment_posted",
        }
    }

    fn parse(s: &str) -> Self {
        Self::ALL.into_iter().find(|k| k.as_str() == s).unwrap_or(Self::Escalation)
    }

    /// When one event concerns a person twice, the notice they get is the kind that
    /// asks the most of them: lower first.
    pub const fn precedence(self) -> u8 {
        match self {
            Self::TaskArrived => 0,
            Self::Mentioned => 1,
            Self::TeamAdded | Self::TeamRemoved => 2,
            Self::RequestReturned | Self::RequestRejected | Self::RequestCancelled | Self::RequestCompleted => 3,
            Self::RequestMoved | Self::CommentPosted => 4,
            Self::SlaWarning | Self::SlaOverdue | Self::Escalation => 5,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f0-6c00-7000-8000-000000000001", "kind": "sla_overdue",
    "title": "Overdue: INT/2026/0001 — Review the letter and issue a disposition",
    "body": "Request INT/2026/0001 \"Integrasi SIMPUS\" passed the limit of step disposition (15m) at 2026-11-16 08:15 WIB.",
    "request_id": "01936f5e-0000-7000-8000-000000000001", "step_instance_id": "01936f5e-0000-7000-8000-000000000002",
    "created_at": "2026-11-16T01:16:00Z", "read_at": null
}))]
pub struct Notification {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub request_id: Uuid,
    pub step_instance_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Null while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<notification::Model> for Notification {
    fn from(m: notification::Model) -> Self {
        Self {
            id: m.id,
            kind: NotificationKind::parse(&m.kind),
            title: m.title,
            body: m.body,
            request_id: m.request_id,
            step_instance_id: m.step_instance_id,
            created_at: m.created_at,
            read_at: m.read_at,
        }
    }
}

/// What `POST /notifications/read-all` did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many unread notifications were marked read.
    pub marked_read: u64,
}

/// A notification about to be written.
pub struct NewNotification<'a> {
    pub user_id: Uuid,
    pub request_id: Uuid,
    pub step_instance_id: Option<Uuid>,
    pub kind: NotificationKind,
    pub title: &'a str,
    pub body: &'a str,
}

/// Makes ids of one millisecond, in one process, sort in the order they were made.
static SEQUENCE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// `created_at` is `now` to the millisecond and the id is a UUIDv7 of that same
/// millisecond, so ordering by (created_at, id) is ordering by id, and a cursor (an id)
/// carries its own creation time. Uses the service's clock, not the wall clock.
///
/// The v7 "counter" bits (the 18 free bits after the timestamp) carry a process-wide
/// sequence number, so an overdue notice written just after a warning in the same
/// millisecond still lists as the newer one; the remaining 56 bits are random.
fn stamp(now: DateTime<Utc>) -> (Uuid, DateTime<Utc>) {
    let at = now.duration_trunc(chrono::Duration::milliseconds(1)).unwrap_or(now);
    let ms = at.timestamp_millis().max(0) as u64;
    let seq = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0x3_FFFF;
    let mut bytes: [u8; 10] = rand::random();
    bytes[0] = ((seq >> 14) & 0x0F) as u8;
    bytes[1] = ((seq >> 6) & 0xFF) as u8;
    bytes[2] = (seq & 0x3F) as u8;
    (uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid(), at)
}

/// Writes one notification; call inside the transaction that decided it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, n: NewNotification<'_>) -> ApiResult<Uuid> {
    let (id, at) = stamp(now);
    row(id, at, &n).insert(db).await?;
    Ok(id)
}

fn row(id: Uuid, at: DateTime<Utc>, n: &NewNotification<'_>) -> notification::ActiveModel {
    notification::ActiveModel {
        id: Set(id),
        user_id: Set(n.user_id),
        request_id: Set(n.request_id),
        step_instance_id: Set(n.step_instance_id),
        kind: Set(n.kind.as_str().into()),
        title: Set(n.title.chars().take(300).collect()),
        body: Set(n.body.into()),
        created_at: Set(at),
        read_at: Set(None),
    }
}

/// Writes notifications and, when mail is configured and a person has an address and has
/// not opted out, queues the same message as e-mail (Indonesian, with `link`), in the
/// transaction of `db`: one statement for the notifications, one to read the people, one
/// for the mail (a transition notifies several people; each row used to be a round trip).
pub async fn deliver<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    all: Vec<NewNotification<'_>>,
    link: &str,
) -> ApiResult<()> {
    if all.is_empty() {
        return Ok(());
    }
    let rows: Vec<(Uuid, DateTime<Utc>, &NewNotification<'_>)> = all
        .iter()
        .map(|n| {
            let (id, at) = stamp(now);
            (id, at, n)
        })
        .collect();
    notification::Entity::insert_many(rows.iter().map(|(id, at, n)| row(*id, *at, n)))
        .exec_without_returning(db)
        .await?;
    if state.settings.smtp_url.as_deref().is_none_or(|u| u.is_empty()) {
        return Ok(());
    }
    let people: std::collections::HashMap<Uuid, entity::user::Model> = entity::user::Entity::find()
        .filter(entity::user::Column::Id.is_in(rows.iter().map(|(_, _, n)| n.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    // Mail is in the office's language: nobody has a language of their own yet.
    let lang = crate::i18n::Lang::Id;
    let t = |m: crate::i18n::Msg| lang.render(&m);
    let mut mail = Vec::new();
    for (id, _, n) in &rows {
        let Some(p) = people.get(&n.user_id).filter(|p| p.active && !p.email_opt_out) else { continue };
        let Some(to) = p.email.as_ref().filter(|e| !e.trim().is_empty()) else { continue };
        let text = format!(
            "{}\n\n{}\n\n{}\n\n-- \n{}\n{}\n",
            t(crate::msg!("mail-greeting", name = &p.full_name)),
            n.body,
            t(crate::msg!("mail-open", link = link)),
            t(crate::msg!("mail-signature")),
            t(crate::msg!("mail-footer")),
        );
        mail.push(outbox_row(now, Some(*id), n.user_id, to.clone(), &format!("[Jembatan] {}", n.title), text));
    }
    if !mail.is_empty() {
        entity::mail_outbox::Entity::insert_many(mail).exec_without_returning(db).await?;
    }
    Ok(())
}

/// One message in the mail outbox, due now.
fn outbox_row(
    now: DateTime<Utc>,
    notification_id: Option<Uuid>,
    user_id: Uuid,
    to: String,
    subject: &str,
    body: String,
) -> entity::mail_outbox::ActiveModel {
    entity::mail_outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        notification_id: Set(notification_id),
        user_id: Set(user_id),
        to_address: Set(to),
        subject: Set(subject.chars().take(300).collect()),
        body: Set(body),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(now),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
    }
}

/// The inbox is two sections, unread then read, each newest first. A cursor names the
/// section and the last id shown: it is that id's 16 bytes, with the UUID version nibble
/// (always 7 for our ids) cleared for the read section. Any 16 bytes decode (the shape
/// the spec documents for every cursor): a version nibble of 0 means the read section,
/// any other the unread one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Unread,
    Read,
}

fn encode(section: Section, id: Uuid) -> String {
    let mut b = *id.as_bytes();
    if section == Section::Read {
        b[6] &= 0x0f;
    }
    encode_cursor_bytes(b)
}

fn decode(cursor: &str) -> ApiResult<(Section, Uuid, DateTime<Utc>)> {
    let bad = || ApiError::invalid("cursor", crate::msg!("cursor-unknown"));
    let mut b = decode_cursor_bytes(cursor)?;
    let section = if b[6] >> 4 == 0 { Section::Read } else { Section::Unread };
    b[6] = (b[6] & 0x0f) | 0x70;
    let id = Uuid::from_bytes(b);
    let (secs, nanos) = id.get_timestamp().ok_or_else(bad)?.to_unix();
    let at = Utc.timestamp_opt(i64::try_from(secs).map_err(|_| bad())?, nanos).single().ok_or_else(bad)?;
    Ok((section, id, at))
}

/// The caller's notifications: unread first, then read; newest first within each.
/// `unread`: Some(true) only unread, Some(false) only read, None both.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    state: &AppState,
    user_id: Uuid,
    unread: Option<bool>,
    limit: u64,
    cursor: Option<&str>,
) -> ApiResult<Page<Notification>> {
    let position = cursor.map(decode).transpose()?;
    let mut sections = match unread {
        Some(true) => vec![Section::Unread],
        Some(false) => vec![Section::Read],
        None => vec![Section::Unread, Section::Read],
    };
    if let Some((Section::Read, _, _)) = position {
        // A read-section cursor means the unread section is behind us.
        sections.retain(|x| *x == Section::Read);
    }
    // Fetch one more than a page across the sections, to know whether another page exists.
    let mut rows: Vec<(Section, notification::Model)> = Vec::new();
    for section in sections {
        let want = limit + 1 - rows.len() as u64;
        if want == 0 {
            break;
        }
        let mut q = notification::Entity::find()
            .filter(notification::Column::UserId.eq(user_id))
            .order_by_desc(notification::Column::CreatedAt)
            .order_by_desc(notification::Column::Id)
            .limit(want);
        q = match section {
            Section::Unread => q.filter(notification::Column::ReadAt.is_null()),
            Section::Read => q.filter(notification::Column::ReadAt.is_not_null()),
        };
        if let Some((_, id, at)) = position.filter(|(s, _, _)| *s == section) {
            q = q.filter(Condition::any().add(notification::Column::CreatedAt.lt(at)).add(
                Condition::all().add(notification::Column::CreatedAt.eq(at)).add(notification::Column::Id.lt(id)),
            ));
        }
        rows.extend(q.all(&state.db).await?.into_iter().map(|m| (section, m)));
    }
    Ok(Page::from_rows_by(rows, limit, |(s, m)| encode(*s, m.id), |(_, m)| m.into()))
}

/// Marks one of the caller's notifications read (again: no change). Someone else's is 404.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn mark_read(state: &AppState, user_id: Uuid, id: Uuid) -> ApiResult<Notification> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&txn)
        .await?;
    let m = notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::not_found("notification"))?;
    txn.commit().await?;
    Ok(m.into())
}

/// Marks all of the caller's unread notifications read.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_all_read(state: &AppState, user_id: Uuid) -> ApiResult<MarkedRead> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let res = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(MarkedRead { marked_read: res.rows_affected })
}

/// Mails a person about something that is not a request (a webhook endpoint disabled):
/// the user named, or — for what an agency system owns — every active admin. Nothing
/// when mail is not configured or nobody has an address.
pub async fn mail_owner<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    user_id: Option<Uuid>,
    subject: &str,
    body: &str,
) -> ApiResult<()> {
    if state.settings.smtp_url.as_deref().is_none_or(str::is_empty) {
        return Ok(());
    }
    let people = match user_id {
        Some(id) => entity::user::Entity::find_by_id(id).all(db).await?,
        None => entity::user::Entity::find()
            .filter(entity::user::Column::Active.eq(true))
            .all(db)
            .await?
            .into_iter()
            .filter(|u| u.roles.as_array().is_some_and(|r| r.iter().any(|r| r == "admin")))
            .collect(),
    };
    // Mail is in the office's language, as in `deliver`.
    let t = |m: crate::i18n::Msg| crate::i18n::Lang::Id.render(&m);
    for p in people.into_iter().filter(|p| p.active && !p.email_opt_out) {
        let Some(to) = p.email.clone().filter(|e| !e.trim().is_empty()) else { continue };
        let text = format!(
            "{}\n\n{body}\n\n-- \n{}\n",
            t(crate::msg!("mail-greeting", name = &p.full_name)),
            t(crate::msg!("mail-signature"))
        );
        outbox_row(now, None, p.id, to, subject, text).insert(db).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_millisecond_and_cursors_their_section() {
        let now = Utc.with_ymd_and_hms(2026, 11, 16, 1, 2, 3).unwrap() + chrono::Duration::microseconds(456_789);
        let (id, at) = stamp(now);
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 11, 16, 1, 2, 3).unwrap() + chrono::Duration::milliseconds(456));
        for section in [Section::Unread, Section::Read] {
            let c = encode(section, id);
            assert_eq!(c.len(), 22);
            assert_eq!(decode(&c).unwrap(), (section, id, at));
        }
        // Later stamps sort after earlier ones, also within one millisecond.
        let (later, _) = stamp(now + chrono::Duration::milliseconds(1));
        assert!(later > id);
        let (same_ms, _) = stamp(now);
        assert!(same_ms > id && same_ms.get_version_num() == 7);
        // Any 16 bytes decode (the documented shape), as a position in one section.
        for bytes in [[0u8; 16], [0xff; 16], *Uuid::new_v4().as_bytes()] {
            let (section, id, _) = decode(&encode_cursor_bytes(bytes)).unwrap();
            assert_eq!(section, if bytes[6] >> 4 == 0 { Section::Read } else { Section::Unread });
            assert_eq!(id.get_version_num(), 7);
        }
    }
}
