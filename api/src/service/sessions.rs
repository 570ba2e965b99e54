//! Signing in and staying signed in: login, refresh-token rotation with reuse detection,
//! logout, password change, and the client-credentials grant for agency systems.

use chrono::Duration;
use entity::{api_client, refresh_token, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, Actor};
use super::users::{self, User};
use crate::auth::jwt::Subject;
use crate::auth::rate_limit::Locked;
use crate::auth::{Caller, Role, password, shared_counters, tokens};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "admin", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Short-lived JWT: send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Opaque; exchange at `/auth/refresh` for a new pair. Single use.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    pub user: User,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery staple", "new_password": "jembatan gantung di Trenggalek"}))]
pub struct PasswordChange {
    #[schema(min_length = 1, max_length = 256)]
    pub current_password: String,
    #[schema(min_length = 12, max_length = 256)]
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientTokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 900)]
    pub expires_in: u64,
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized(crate::msg!("login-invalid"))
}

/// One log line per refused sign-in, for the operator watching a guessing run: bounded by
/// the password hash's cost and the throttle (a throttled attempt, 429, writes none; the
/// metrics count those). The account's id only when the name exists; never the name typed,
/// where people type their password by mistake.
fn refused_sign_in(address: &str, account: Option<Uuid>, why: &str) {
    tracing::info!(address, account = account.map(tracing::field::display), why, "a sign-in was refused");
}

fn invalid_refresh() -> ApiError {
    ApiError::Unauthorized(crate::msg!("refresh-invalid"))
}

/// The shape the spec gives `refresh_token` (1–200 characters); anything else is not a
/// token we could have issued, and is refused as input rather than looked up.
fn check_refresh_shape(token: &str) -> ApiResult<()> {
    if token.is_empty() || token.chars().count() > 200 {
        return Err(ApiError::invalid("refresh_token", crate::msg!("text-between", max = 200u32)));
    }
    Ok(())
}

/// Takes a sign-in attempt for this account and address: first from this replica's own
/// throttle (no database write once it refuses), then from the counters every replica
/// shares, so that spreading guesses over replicas buys nothing.
async fn begin_attempt(state: &AppState, account: &str, address: &str) -> ApiResult<Result<(), Locked>> {
    if let Err(locked) = state.throttle.begin(account, address) {
        return Ok(Err(locked));
    }
    let limit = state.settings.login_failures_per_window;
    let keys = [
        (shared_counters::key("login:u", &account.to_lowercase()), limit),
        (shared_counters::key("login:a", address), limit.saturating_mul(crate::auth::rate_limit::ADDRESS_FACTOR)),
    ];
    let window_ms = (state.settings.login_window_secs as i64).saturating_mul(1000);
    let wait = shared_counters::take(&state.db, state.now().timestamp_millis(), window_ms, &keys).await?;
    Ok(wait.map_or(Ok(()), |secs| Err(Locked(secs))))
}

/// The attempt was right: the account starts over and the address gets its slot back,
/// here and on every replica.
async fn attempt_succeeded(state: &AppState, account: &str, address: &str) -> ApiResult<()> {
    state.throttle.succeeded(account, address);
    shared_counters::succeeded(
        &state.db,
        &shared_counters::key("login:u", &account.to_lowercase()),
        &shared_counters::key("login:a", address),
    )
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn login(state: &AppState, input: LoginRequest, address: &str) -> ApiResult<LoginResponse> {
    let username = input.username.trim().to_lowercase();
    // The attempt is counted before the (slow) verification, so parallel guesses cannot
    // all pass the check before any of them is recorded.
    if let Err(Locked(secs)) = begin_attempt(state, &username, address).await? {
        return Err(ApiError::TooManyRequests { detail: crate::msg!("login-throttled"), retry_after_secs: secs });
    }
    let found = user::Entity::find().filter(user::Column::Username.eq(&username)).one(&state.db).await?;
    let ok = password::verify(found.as_ref().map(|u| u.password_hash.clone()), input.password).await?;
    let user = match found {
        Some(u) if ok => u,
        found => {
            refused_sign_in(address, found.map(|u| u.id), "wrong name or password");
            return Err(invalid_credentials());
        }
    };
    attempt_succeeded(state, &username, address).await?;
    let now = state.now();
    let family = Uuid::now_v7();
    let txn = crate::db::begin_write(&state.db).await?;
    // Under the user's lock: the password verified must still be the password (a change
    // that committed during the verification wins), and the account and its organization
    // must still be allowed in. A refusal is the same answer as a wrong password.
    let current = users::lock(&txn, user.id).await?;
    if current.password_hash != user.password_hash
        || !current.active
        || !super::organizations::find(&txn, current.organization_id).await?.active
    {
        refused_sign_in(address, Some(user.id), "account or organization inactive, or password changed meanwhile");
        return Err(invalid_credentials());
    }
    let user = current;
    let refresh = insert_refresh(&txn, state, user.id, family, now).await?;
    audit::append(
        &txn,
        now,
        Actor { user_id: Some(user.id), client_id: None },
        "session.login",
        "user",
        user.id,
        serde_json::json!({"session": family, "address": address}),
    )
    .await?;
    txn.commit().await?;
    respond(state, user, refresh, family)
}

async fn insert_refresh(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    user_id: Uuid,
    family: Uuid,
    session_started_at: chrono::DateTime<chrono::Utc>,
) -> ApiResult<String> {
    let now = state.now();
    let token = tokens::generate("jbr_");
    // Each refresh extends the session, but never past its absolute end.
    let session_end = session_started_at + Duration::seconds(state.settings.session_max_secs as i64);
    let expires_at = (now + Duration::seconds(state.settings.refresh_token_ttl_secs as i64)).min(session_end);
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family),
        user_id: Set(user_id),
        token_hash: Set(tokens::sha256_hex(&token)),
        issued_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        session_started_at: Set(Some(session_started_at)),
    }
    .insert(txn)
    .await?;
    Ok(token)
}

fn respond(state: &AppState, user: user::Model, refresh: String, family: Uuid) -> ApiResult<LoginResponse> {
    let subject = Subject {
        id: user.id,
        kind: "user",
        roles: users::roles_of(&user),
        org: user.organization_id,
        sid: Some(family),
        ver: user.auth_version,
    };
    let access = state.keys.issue(state.clock.now(), subject).map_err(ApiError::internal)?;
    Ok(LoginResponse {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: state.keys.ttl_secs,
        user: user.into(),
    })
}

async fn revoke_family(
    txn: &sea_orm::DatabaseTransaction,
    family: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// Rotates a refresh token. A token presented a second time means it was copied: the
/// whole family (the thief's and the owner's successors alike) is revoked.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn refresh(state: &AppState, token: &str) -> ApiResult<LoginResponse> {
    check_refresh_shape(token)?;
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let hash = tokens::sha256_hex(token);
    let find = || refresh_token::Entity::find().filter(refresh_token::Column::TokenHash.eq(hash.clone()));
    let Some(row) = find().one(&txn).await? else {
        return Err(invalid_refresh());
    };
    // The user's lock orders this refresh with any logout, password change or revocation
    // of the same user: read the token again under it, so a revocation that committed
    // meanwhile is seen, and one that comes later sees the successor inserted here.
    let user = users::lock(&txn, row.user_id).await?;
    let Some(row) = find().one(&txn).await? else {
        return Err(invalid_refresh());
    };
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(invalid_refresh());
    }
    // Compare-and-set: of two racing refreshes with one token, exactly one marks it used.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let org_active = super::organizations::find(&txn, user.organization_id).await?.active;
    if !claimed || !user.active || !org_active {
        revoke_family(&txn, row.family_id, now).await?;
        let action = match (claimed, user.active) {
            (false, _) => "session.refresh_token_reused",
            (true, false) => "session.revoked_inactive_user",
            (true, true) => "session.revoked_inactive_organization",
        };
        audit::append(&txn, now, Actor::SYSTEM, action, "user", user.id, serde_json::json!({"session": row.family_id}))
            .await?;
        txn.commit().await?;
        state.principals.revoke_sessions([row.family_id]);
        return Err(invalid_refresh());
    }
    // Sessions from before their start was recorded count from this token's issue.
    let started = row.session_started_at.unwrap_or(row.issued_at);
    if started + Duration::seconds(state.settings.session_max_secs as i64) <= now {
        return Err(ApiError::Unauthorized(crate::msg!("session-expired")));
    }
    let next = insert_refresh(&txn, state, user.id, row.family_id, started).await?;
    txn.commit().await?;
    respond(state, user, next, row.family_id)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn logout(state: &AppState, token: &str) -> ApiResult<()> {
    check_refresh_shape(token)?;
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(tokens::sha256_hex(token)))
        .one(&txn)
        .await?;
    if let Some(row) = &row {
        users::lock(&txn, row.user_id).await?;
        revoke_family(&txn, row.family_id, now).await?;
        audit::append(
            &txn,
            now,
            Actor { user_id: Some(row.user_id), client_id: None },
            "session.logout",
            "user",
            row.user_id,
            serde_json::json!({"session": row.family_id}),
        )
        .await?;
    }
    txn.commit().await?;
    // The session's access tokens stop working now, not when they expire.
    state.principals.revoke_sessions(row.map(|r| r.family_id));
    // Unknown or already revoked tokens also answer 204: logout is idempotent.
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn change_password(state: &AppState, caller: &Caller, input: PasswordChange, address: &str) -> ApiResult<()> {
    let user = users::find(&state.db, caller.id).await?;
    // A stolen access token must not buy unlimited guesses of the current password.
    if let Err(Locked(secs)) = begin_attempt(state, &user.username, address).await? {
        return Err(ApiError::TooManyRequests {
            detail: crate::msg!("password-change-throttled"),
            retry_after_secs: secs,
        });
    }
    if !password::verify(Some(user.password_hash.clone()), input.current_password).await? {
        return Err(ApiError::invalid("current_password", crate::msg!("password-not-current")));
    }
    attempt_succeeded(state, &user.username, address).await?;
    if let Err(m) = password::check_policy(&input.new_password, &user.username) {
        return Err(ApiError::invalid("new_password", m));
    }
    let hash = password::hash(input.new_password).await?;
    let now = state.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let current = users::lock(&txn, caller.id).await?;
    if current.password_hash != user.password_hash {
        // Changed meanwhile: what they typed is no longer the current password.
        return Err(ApiError::invalid("current_password", crate::msg!("password-not-current")));
    }
    let mut am: user::ActiveModel = current.clone().into();
    am.password_hash = Set(hash);
    am.password_changed_at = Set(now);
    am.version = Set(current.version + 1);
    am.updated_at = Set(now);
    am.update(&txn).await?;
    let revoked = users::revoke_sessions(&txn, caller.id, caller.session_id, now).await?;
    audit::append(
        &txn,
        now,
        Actor::from(caller),
        "user.password_changed",
        "user",
        caller.id,
        serde_json::json!({"other_sessions_revoked": revoked}),
    )
    .await?;
    txn.commit().await?;
    state.principals_changed().await;
    Ok(())
}

/// The client-credentials grant: an agency system gets a token that acts for its agency
/// with an applicant's rights, and nothing more.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn client_token(
    state: &AppState,
    client_id: &str,
    secret: &str,
    address: &str,
) -> ApiResult<ClientTokenResponse> {
    let invalid = || ApiError::Unauthorized(crate::msg!("client-credentials-invalid"));
    // Secrets are 256 random bits: guessing is hopeless, so there is no per-client lockout
    // (anyone knows a client's public id and could lock its agency out with one). A rate
    // per client address keeps one sender's flood from costing more than it should without
    // touching the other agencies' systems.
    if state.client_token_limiter.check_key(&address.to_owned()).is_err()
        || shared_counters::take(
            &state.db,
            state.now().timestamp_millis(),
            1000,
            &[(shared_counters::key("token:a", address), state.settings.client_token_rate_per_sec)],
        )
        .await?
        .is_some()
    {
        tracing::warn!(address, "client-credentials rate exceeded");
        return Err(ApiError::TooManyRequests { detail: crate::msg!("token-requests-throttled"), retry_after_secs: 1 });
    }
    let client = api_client::Entity::find().filter(api_client::Column::ClientId.eq(client_id)).one(&state.db).await?;
    let ok = client.as_ref().is_some_and(|c| {
        c.active && crate::auth::tokens::constant_time_eq(&c.secret_hash, &tokens::sha256_hex(secret))
    });
    let Some(client) = client.filter(|_| ok) else {
        return Err(invalid());
    };
    let org = super::organizations::find(&state.db, client.organization_id).await?;
    if !org.active {
        return Err(invalid());
    }
    let subject = Subject {
        id: client.id,
        kind: "client",
        roles: vec![Role::Applicant],
        org: client.organization_id,
        sid: None,
        ver: client.auth_version,
    };
    let access = state.keys.issue(state.clock.now(), subject).map_err(ApiError::internal)?;
    Ok(ClientTokenResponse { access_token: access, token_type: "Bearer", expires_in: state.keys.ttl_secs })
}
