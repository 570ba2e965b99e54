//! A comment thread per request. `public` comments are read by everyone who sees the
//! request; `internal` ones by the office only. Posting is recorded in the audit trail
//! (who said what, when), and the people it concerns are notified.

use chrono::{DateTime, Utc};
use entity::{comment, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use super::notify;
use super::requests::load_visible;
use super::timeline::PersonRef;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::shared::Page;
use crate::shared::text::check_passage;
use crate::state::AppState;
use crate::workflow::Visibility;

const BODY_MAX: usize = 4000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "@kasi.aptika mohon cek endpoint kunjungan sebelum rapat", "visibility": "internal"}))]
pub struct NewComment {
    /// The text; `@username` mentions notify those people (if they may read the comment).
    #[schema(min_length = 1, max_length = 4000)]
    pub body: String,
    /// `public` (default): the applicant reads it too. `internal`: the office only.
    #[serde(default)]
    pub visibility: Visibility,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f0-6c00-7000-8000-0000000000f1", "request_id": "01936f5e-0000-7000-8000-000000000001",
    "author": {"id": "01936f5e-0000-7000-8000-0000000000c1", "username": "kasi.aptika", "full_name": "Kasi Aptika"},
    "author_client_id": null, "visibility": "internal",
    "body": "@kabid.aptika mohon arahan", "mentioned_user_ids": ["01936f5e-0000-7000-8000-0000000000b1"],
    "created_at": "2026-12-07T02:00:00Z"
}))]
pub struct Comment {
    pub id: Uuid,
    pub request_id: Uuid,
    pub author: Option<PersonRef>,
    pub author_client_id: Option<Uuid>,
    pub visibility: Visibility,
    pub body: String,
    /// The people the body mentions who may read it (and were notified).
    pub mentioned_user_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// `@username` tokens in a comment, in order, without repeats.
fn mentioned_usernames(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, _) in body.match_indices('@') {
        // An address like a@b.go.id is not a mention.
        if body[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric()) {
            continue;
        }
        let name: String =
            body[i + 1..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
        let name = name.trim_end_matches('.').to_lowercase();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out.truncate(20);
    out
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %request_id))]
pub async fn post(state: &AppState, caller: &Caller, request_id: Uuid, input: NewComment) -> ApiResult<Comment> {
    let office = caller.sees_all_requests();
    let now = state.now();
    let r = load_visible(&state.db, caller, request_id).await?;
    if caller.has(Role::Auditor) {
        return Err(ApiError::Forbidden(crate::msg!("wf-reason-auditor")));
    }
    if input.visibility == Visibility::Internal && !office {
        return Err(ApiError::Forbidden(crate::msg!("comments-internal-office-only")));
    }
    let mut errors = FieldErrors::new();
    check_passage(&mut errors, "body", &input.body, BODY_MAX);
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let body = input.body.trim().to_owned();
    // Only people who may read the comment are mentioned: the office, or for a public one
    // also the requesting organization's people. The applicant's side reaches only the
    // people involved in its request (its own organization, the team, the addressees,
    // whoever finished a step of it): the comment box is no way to probe the office's
    // usernames or to mail its heads at will.
    let names = mentioned_usernames(&body);
    let mentioned: Vec<user::Model> = if names.is_empty() {
        Vec::new()
    } else {
        let involved = if office { None } else { Some(involved_people(&state.db, &r).await?) };
        user::Entity::find()
            .filter(user::Column::Username.is_in(names))
            .filter(user::Column::Active.eq(true))
            .all(&state.db)
            .await?
            .into_iter()
            .filter(|u| {
                let roles = super::users::roles_of(u);
                let is_office = roles.iter().copied().any(crate::auth::role::is_office);
                let own = u.organization_id == r.organization_id;
                let may_read = is_office || (input.visibility == Visibility::Public && own);
                may_read && involved.as_ref().is_none_or(|people| own || people.contains(&u.id))
            })
            .collect()
    };
    let mentioned_ids: Vec<Uuid> = mentioned.iter().map(|u| u.id).collect();
    let id = Uuid::now_v7();
    let txn = crate::db::begin_write(&state.db).await?;
    let row = comment::ActiveModel {
        id: Set(id),
        request_id: Set(request_id),
        author_user_id: Set(caller.user_id()),
        author_client_id: Set(caller.client_id()),
        visibility: Set(input.visibility.into()),
        body: Set(body.clone()),
        mentioned_user_ids: Set(serde_json::json!(mentioned_ids)),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "request.comment_posted",
        "request",
        request_id,
        serde_json::json!({"comment_id": id, "visibility": input.visibility, "body": body, "mentioned_user_ids": mentioned_ids}),
    )
    .await?;
    notify::comment_posted(&txn, state, now, &r, caller, &row, &mentioned_ids).await?;
    txn.commit().await?;
    let author = match caller.user_id() {
        Some(u) => people(state, &[u]).await?.into_iter().next(),
        None => None,
    };
    Ok(view(row, author))
}

/// The office people involved in a request: its team, its addressees, and whoever
/// finished one of its steps.
async fn involved_people<C: sea_orm::ConnectionTrait>(db: &C, r: &entity::request::Model) -> ApiResult<Vec<Uuid>> {
    use entity::{step_instance, team_member};
    let mut people: Vec<Uuid> = team_member::Entity::find()
        .filter(team_member::Column::RequestId.eq(r.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    people.extend(super::requests::addressees_of(db, r.id).await?);
    people.extend(
        step_instance::Entity::find()
            .filter(step_instance::Column::RequestId.eq(r.id))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|i| i.completed_by_user),
    );
    Ok(people)
}

fn view(c: comment::Model, author: Option<PersonRef>) -> Comment {
    Comment {
        mentioned_user_ids: serde_json::from_value(c.mentioned_user_ids.clone()).unwrap_or_default(),
        id: c.id,
        request_id: c.request_id,
        author,
        author_client_id: c.author_client_id,
        visibility: c.visibility.0,
        body: c.body,
        created_at: c.created_at,
    }
}

async fn people(state: &AppState, ids: &[Uuid]) -> ApiResult<Vec<PersonRef>> {
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids.to_vec()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| PersonRef { id: u.id, username: u.username, full_name: u.full_name })
        .collect())
}

/// The thread, oldest first; the applicant's side reads the public comments only.
#[tracing::instrument(level = "debug", skip_all, fields(id = %request_id))]
pub async fn list(
    state: &AppState,
    caller: &Caller,
    request_id: Uuid,
    limit: u64,
    after: Option<Uuid>,
) -> ApiResult<Page<Comment>> {
    load_visible(&state.db, caller, request_id).await?;
    let mut q = comment::Entity::find()
        .filter(comment::Column::RequestId.eq(request_id))
        .order_by_asc(comment::Column::Id)
        .limit(limit + 1);
    if !caller.sees_all_requests() {
        q = q.filter(comment::Column::Visibility.eq(Visibility::Public.as_str()));
    }
    if let Some(after) = after {
        q = q.filter(comment::Column::Id.gt(after));
    }
    let rows = q.all(&state.db).await?;
    let mut ids: Vec<Uuid> = rows.iter().filter_map(|c| c.author_user_id).collect();
    ids.sort();
    ids.dedup();
    let authors = people(state, &ids).await?;
    Ok(Page::from_rows(
        rows,
        limit,
        |c| c.id,
        |c| {
            let author = c.author_user_id.and_then(|u| authors.iter().find(|p| p.id == u).cloned());
            view(c, author)
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_usernames_after_an_at_sign() {
        assert_eq!(mentioned_usernames("@kasi.aptika tolong cek, cc @Andi_1."), ["kasi.aptika", "andi_1"]);
        assert_eq!(mentioned_usernames("kirim ke budi@dinkes.go.id"), Vec::<String>::new());
        assert_eq!(mentioned_usernames("@x @x @ @"), ["x"]);
    }
}
