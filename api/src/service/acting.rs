//! Acting officials and delegations: "B acts for A (or for role R in organization O) from
//! D1 to D2, as Plt, Plh or by delegation, under letter N".
//!
//! Inside the range B may do on a request whatever A (or the post) may do on it; the
//! workflow engine decides that, with A's standing (`Capacity::subject`). Ranges are
//! whole days of the office's calendar (Asia/Jakarta), both ends inclusive, and end by
//! themselves; an admin (or the delegator) may end one early. Records are never deleted.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use entity::{acting_assignment, organization, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use super::users::roles_of;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::i18n::Msg;
use crate::msg;
use crate::shared::Page;
use crate::state::AppState;
use crate::workflow::ActingKind;

/// The longest range one letter covers; a longer Plt is renewed by a new letter.
const MAX_DAYS: u64 = 366;

/// The roles someone may act for: the office's posts. Applicant, admin and auditor are
/// not posts one stands in for (and acting never grants them).
fn is_post(role: Role) -> bool {
    matches!(role, Role::HeadOfDivision | Role::TechnicalLead | Role::TechnicalStaff | Role::HeadOfAgency)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "acting_user_id": "01936f5e-0000-7000-8000-0000000000c2",
    "for_user_id": "01936f5e-0000-7000-8000-0000000000c1",
    "kind": "plh", "letter_number": "800.1.11.1/045/406.020/2026",
    "starts_on": "2026-12-07", "ends_on": "2026-12-11"
}))]
pub struct NewActingAssignment {
    /// Who acts (B). Must hold an office role.
    pub acting_user_id: Uuid,
    /// For whom (A); or give `for_role` and `for_organization_id` for a post.
    pub for_user_id: Option<Uuid>,
    pub for_role: Option<Role>,
    pub for_organization_id: Option<Uuid>,
    pub kind: ActingKind,
    /// The letter (Surat Perintah Plt/Plh, or the delegation's note).
    #[schema(min_length = 1, max_length = 100)]
    pub letter_number: String,
    /// First day, Asia/Jakarta; today or later.
    pub starts_on: NaiveDate,
    /// Last day (inclusive), at most 366 days after `starts_on`.
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f0-6c00-7000-8000-0000000000e1",
    "acting_user_id": "01936f5e-0000-7000-8000-0000000000c2", "for_user_id": "01936f5e-0000-7000-8000-0000000000c1",
    "for_role": null, "for_organization_id": null, "kind": "plh",
    "letter_number": "800.1.11.1/045/406.020/2026", "starts_on": "2026-12-07", "ends_on": "2026-12-11",
    "starts_at": "2026-12-06T17:00:00Z", "ends_at": "2026-12-11T17:00:00Z", "ended_at": null,
    "active": false, "created_by_user_id": "01936f5e-0000-7000-8000-0000000000a1",
    "created_at": "2026-12-06T03:00:00Z"
}))]
pub struct ActingAssignment {
    pub id: Uuid,
    pub acting_user_id: Uuid,
    pub for_user_id: Option<Uuid>,
    pub for_role: Option<Role>,
    pub for_organization_id: Option<Uuid>,
    pub kind: ActingKind,
    pub letter_number: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// `starts_on` 00:00 WIB.
    pub starts_at: DateTime<Utc>,
    /// The day after `ends_on`, 00:00 WIB (or earlier, if it was ended early: `ended_at`).
    pub ends_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// In force now.
    pub active: bool,
    pub created_by_user_id: Uuid,
    pub created_at: DateTime<Utc>,
}

fn view(m: acting_assignment::Model, now: DateTime<Utc>) -> ActingAssignment {
    ActingAssignment {
        active: in_force(&m, now),
        id: m.id,
        acting_user_id: m.acting_user_id,
        for_user_id: m.for_user_id,
        for_role: m.for_role.map(|r| r.0),
        for_organization_id: m.for_organization_id,
        kind: m.kind.0,
        letter_number: m.letter_number,
        starts_on: m.starts_on,
        ends_on: m.ends_on,
        starts_at: m.starts_at,
        ends_at: m.ended_at.map_or(m.ends_at, |e| e.min(m.ends_at)),
        ended_at: m.ended_at,
        created_by_user_id: m.created_by_user,
        created_at: m.created_at,
    }
}

/// Appointments in force at `now`, as a query condition (`in_force`'s rule).
fn in_force_at(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(acting_assignment::Column::EndedAt.is_null())
        .add(acting_assignment::Column::StartsAt.lte(now))
        .add(acting_assignment::Column::EndsAt.gt(now))
}

fn in_force(m: &acting_assignment::Model, now: DateTime<Utc>) -> bool {
    m.ended_at.is_none() && m.starts_at <= now && now < m.ends_at
}

/// Midnight WIB at the start of `day`.
fn jakarta_midnight(day: NaiveDate) -> DateTime<Utc> {
    chrono_tz::Asia::Jakarta
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// One way a user may act for someone now: the official's (or the post's) standing, as
/// the workflow sees it, and what the record says about it.
#[derive(Debug, Clone)]
pub struct Capacity {
    pub assignment_id: Uuid,
    pub kind: ActingKind,
    pub letter_number: String,
    /// The person acted for (their team places and addressee places count); `None` for a post.
    pub for_user_id: Option<Uuid>,
    pub for_role: Option<Role>,
    /// The office roles the capacity carries (A's, or the post's).
    pub roles: Vec<Role>,
    pub organization_id: Uuid,
    /// A's organization when A holds the applicant role: A's stand-in must not decide on
    /// that organization's requests either.
    pub applicant_of: Option<Uuid>,
}

impl Capacity {
    /// What the audit event and the timeline say: "B, Plh for A".
    pub fn record(&self) -> serde_json::Value {
        serde_json::json!({
            "assignment_id": self.assignment_id,
            "kind": self.kind,
            "letter_number": self.letter_number,
            "user_id": self.for_user_id,
            "role": self.for_role,
            "organization_id": self.organization_id,
        })
    }
}

/// The capacities `user_id` holds now, oldest assignment first. The people acted for are
/// read fresh (a deactivated official lends nothing).
pub async fn capacities<C: ConnectionTrait>(db: &C, user_id: Uuid, now: DateTime<Utc>) -> ApiResult<Vec<Capacity>> {
    let rows = acting_assignment::Entity::find()
        .filter(acting_assignment::Column::ActingUserId.eq(user_id))
        .filter(in_force_at(now))
        .order_by_asc(acting_assignment::Column::Id)
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let people: Vec<Uuid> = rows.iter().filter_map(|r| r.for_user_id).collect();
    let people = user::Entity::find().filter(user::Column::Id.is_in(people)).all(db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (roles, organization_id, applicant_of) = match (r.for_user_id, r.for_role, r.for_organization_id) {
            (Some(a), _, _) => match people.iter().find(|u| u.id == a && u.active) {
                Some(u) => {
                    let all = roles_of(u);
                    let applicant_of = all.contains(&Role::Applicant).then_some(u.organization_id);
                    (all.into_iter().filter(|&r| is_post(r)).collect(), u.organization_id, applicant_of)
                }
                None => continue,
            },
            (None, Some(role), Some(org)) => (vec![role.0], org, None),
            _ => continue,
        };
        out.push(Capacity {
            assignment_id: r.id,
            kind: r.kind.0,
            letter_number: r.letter_number,
            for_user_id: r.for_user_id,
            for_role: r.for_role.map(|x| x.0),
            roles,
            organization_id,
            applicant_of,
        });
    }
    Ok(out)
}

/// The users `user_ids` act for now, as (acting user, acted-for user): the SLA sweeper
/// tells them too.
pub async fn acting_for_users<C: ConnectionTrait>(
    db: &C,
    user_ids: &[Uuid],
    now: DateTime<Utc>,
) -> ApiResult<Vec<(Uuid, Uuid)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = acting_assignment::Entity::find()
        .filter(acting_assignment::Column::ForUserId.is_in(user_ids.to_vec()))
        .filter(in_force_at(now))
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|r| r.for_user_id.map(|a| (r.acting_user_id, a))).collect())
}

/// The users acting now for `role` (a post), in `organization` when given.
pub async fn acting_for_role<C: ConnectionTrait>(
    db: &C,
    role: Role,
    organization: Option<Uuid>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Uuid>> {
    let mut q = acting_assignment::Entity::find().filter(acting_assignment::Column::ForRole.eq(role.as_str()));
    if let Some(o) = organization {
        q = q.filter(acting_assignment::Column::ForOrganizationId.eq(o));
    }
    let rows = q.filter(in_force_at(now)).all(db).await?;
    Ok(rows.into_iter().map(|r| r.acting_user_id).collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(state: &AppState, caller: &Caller, input: NewActingAssignment) -> ApiResult<ActingAssignment> {
    let me = caller.user_id().ok_or_else(|| ApiError::Forbidden(msg!("acting-not-for-clients")))?;
    let admin = caller.has(Role::Admin);
    // Deny by default: an admin records any appointment; an official may only delegate
    // their own tasks.
    let own_delegation =
        input.kind == ActingKind::Delegation && input.for_user_id == Some(me) && input.for_role.is_none();
    if !(admin || own_delegation) {
        return Err(ApiError::Forbidden(msg!("acting-admin-or-own-delegation")));
    }
    let now = state.now();
    let today = now.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    let mut errors = FieldErrors::new();
    let mut invalid = |field: &str, m: Msg| errors.entry(field.to_owned()).or_default().push(m);
    let letter = input.letter_number.trim();
    if letter.is_empty() || letter.chars().count() > 100 {
        invalid("letter_number", msg!("text-between", max = 100u32));
    }
    if input.starts_on < today {
        invalid("starts_on", msg!("acting-not-back-dated"));
    }
    if input.ends_on < input.starts_on {
        invalid("ends_on", msg!("acting-ends-before-start"));
    } else if input.starts_on.checked_add_days(Days::new(MAX_DAYS)).is_some_and(|max| input.ends_on > max) {
        invalid("ends_on", msg!("acting-too-long"));
    }
    match (input.for_user_id, input.for_role, input.for_organization_id) {
        (Some(a), None, None) => {
            if a == input.acting_user_id {
                invalid("for_user_id", msg!("acting-for-themselves"));
            }
        }
        (None, Some(role), Some(_)) => {
            if !is_post(role) {
                invalid("for_role", msg!("acting-not-a-post"));
            }
        }
        _ => invalid("for_user_id", msg!("acting-for-whom")),
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    // Appointments are rare: one at a time (on SQLite the write transaction already is),
    // so two overlapping ones cannot both pass the check below.
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7375625)").await?;
    }
    if !admin {
        let me_row = user::Entity::find_by_id(me).one(&txn).await?;
        if !me_row.is_some_and(|u| roles_of(&u).into_iter().any(is_post)) {
            return Err(ApiError::Forbidden(msg!("acting-only-officials-delegate")));
        }
    }
    let acting = user::Entity::find_by_id(input.acting_user_id).one(&txn).await?;
    if !acting.as_ref().is_some_and(|u| u.active && roles_of(u).into_iter().any(is_post)) {
        return Err(ApiError::invalid("acting_user_id", msg!("acting-user-not-official")));
    }
    if let Some(a) = input.for_user_id
        && !user::Entity::find_by_id(a).one(&txn).await?.is_some_and(|u| u.active)
    {
        return Err(ApiError::invalid("for_user_id", msg!("no-such-active-user")));
    }
    if let Some(o) = input.for_organization_id
        && organization::Entity::find_by_id(o).one(&txn).await?.is_none()
    {
        return Err(ApiError::invalid("for_organization_id", msg!("no-such-organization")));
    }
    let starts_at = jakarta_midnight(input.starts_on);
    let ends_at = jakarta_midnight(input.ends_on.succ_opt().unwrap_or(input.ends_on));
    // One stand-in per official (or post) at a time: an overlap would leave two people
    // signing as the same Plh.
    // The same official is also covered by an appointment for a post they hold, and a
    // post by one for a person holding it.
    let posts_of = |u: &user::Model| -> Condition {
        roles_of(u).into_iter().filter(|&r| is_post(r)).fold(Condition::any(), |c, r| {
            c.add(
                Condition::all()
                    .add(acting_assignment::Column::ForRole.eq(r.as_str()))
                    .add(acting_assignment::Column::ForOrganizationId.eq(u.organization_id)),
            )
        })
    };
    let same_principal = match (input.for_user_id, input.for_role, input.for_organization_id) {
        (Some(a), _, _) => {
            let person = user::Entity::find_by_id(a).one(&txn).await?;
            let mut c = Condition::any().add(acting_assignment::Column::ForUserId.eq(a));
            if let Some(p) = person {
                c = c.add(posts_of(&p));
            }
            c
        }
        (None, Some(role), Some(org)) => {
            let holders = super::users::holders(&txn, role, Some(org)).await?;
            Condition::any()
                .add(
                    Condition::all()
                        .add(acting_assignment::Column::ForRole.eq(role.as_str()))
                        .add(acting_assignment::Column::ForOrganizationId.eq(org)),
                )
                .add(acting_assignment::Column::ForUserId.is_in(holders))
        }
        _ => {
            return Err(ApiError::invalid("for_user_id", msg!("acting-for-whom")));
        }
    };
    let overlapping = acting_assignment::Entity::find()
        .filter(same_principal)
        .filter(acting_assignment::Column::EndedAt.is_null())
        .filter(acting_assignment::Column::StartsAt.lt(ends_at))
        .filter(acting_assignment::Column::EndsAt.gt(starts_at))
        .limit(1)
        .one(&txn)
        .await?;
    if let Some(o) = overlapping {
        return Err(ApiError::Conflict(msg!(
            "acting-overlap",
            id = o.id,
            from = o.starts_on.to_string(),
            to = o.ends_on.to_string()
        )));
    }
    let row = acting_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        acting_user_id: Set(input.acting_user_id),
        for_user_id: Set(input.for_user_id),
        for_role: Set(input.for_role.map(Into::into)),
        for_organization_id: Set(input.for_organization_id),
        kind: Set(input.kind.into()),
        letter_number: Set(letter.to_owned()),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        ended_at: Set(None),
        created_by_user: Set(me),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let out = view(row, now);
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "acting.appointed",
        "acting_assignment",
        out.id,
        serde_json::to_value(&out).unwrap_or_default(),
    )
    .await?;
    txn.commit().await?;
    Ok(out)
}

/// Admins and auditors see every appointment; everyone else those they act in or are
/// acted for in.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    state: &AppState,
    caller: &Caller,
    active_only: bool,
    limit: u64,
    after: Option<Uuid>,
) -> ApiResult<Page<ActingAssignment>> {
    let now = state.now();
    let mut q = acting_assignment::Entity::find().order_by_desc(acting_assignment::Column::Id).limit(limit + 1);
    if !caller.has_any(&[Role::Admin, Role::Auditor]) {
        let me = caller.user_id().unwrap_or(Uuid::nil());
        q = q.filter(
            Condition::any()
                .add(acting_assignment::Column::ActingUserId.eq(me))
                .add(acting_assignment::Column::ForUserId.eq(me)),
        );
    }
    if active_only {
        q = q.filter(in_force_at(now));
    }
    if let Some(after) = after {
        q = q.filter(acting_assignment::Column::Id.lt(after));
    }
    Ok(Page::from_rows(q.all(&state.db).await?, limit, |r| r.id, |r| view(r, now)))
}

/// Ends an appointment now (an admin; or, for a delegation, the delegator or the delegate).
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn end(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<ActingAssignment> {
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let row = acting_assignment::Entity::find_by_id(id).one(&txn).await?;
    let me = caller.user_id();
    let row = row
        .filter(|r| {
            caller.has_any(&[Role::Admin, Role::Auditor]) || me == Some(r.acting_user_id) || me == r.for_user_id
        })
        .ok_or_else(|| ApiError::not_found("acting assignment"))?;
    let party = me.is_some() && (me == row.for_user_id || me == Some(row.acting_user_id));
    if !(caller.has(Role::Admin) || (row.kind.0 == ActingKind::Delegation && party)) {
        return Err(ApiError::Forbidden(msg!("acting-who-ends")));
    }
    if row.ended_at.is_some() || row.ends_at <= now {
        return Err(ApiError::Conflict(msg!("acting-already-ended")));
    }
    let mut am: acting_assignment::ActiveModel = row.into();
    am.ended_at = Set(Some(now));
    let row = am.update(&txn).await?;
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "acting.ended",
        "acting_assignment",
        id,
        serde_json::json!({"ended_at": now}),
    )
    .await?;
    txn.commit().await?;
    Ok(view(row, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_midnight_in_jakarta() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(jakarta_midnight(d).to_rfc3339(), "2026-12-06T17:00:00+00:00");
    }

    #[test]
    fn only_office_posts_are_acted_for() {
        let posts: Vec<Role> = Role::ALL.iter().copied().filter(|&r| is_post(r)).collect();
        assert_eq!(posts, [Role::HeadOfDivision, Role::TechnicalLead, Role::TechnicalStaff, Role::HeadOfAgency]);
    }
}
