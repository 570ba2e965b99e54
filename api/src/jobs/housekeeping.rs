//! Small periodic chores: re-reading who may act (so revocations made on another replica
//! reach this one within `auth_refresh_secs`), and deleting expired idempotency keys, old
//! webhook deliveries and rate windows that are over.

use std::time::Duration;

use actix_web::web;

use crate::state::AppState;

/// Re-reads the principal directory every `auth_refresh_secs`.
pub fn spawn_principal_refresh(state: web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    let period = Duration::from_secs(state.settings.auth_refresh_secs);
    super::every(period, move || {
        let state = state.clone();
        async move { state.principals_changed().await }
    })
}

/// Deletes idempotency keys past their replay window every `housekeeping_interval_secs`.
pub fn spawn_idempotency_purge(state: web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    let period = Duration::from_secs(state.settings.housekeeping_interval_secs);
    super::every(period, move || {
        let state = state.clone();
        async move {
            // Forget addresses whose token-rate budget is full again.
            state.client_token_limiter.retain_recent();
            match crate::idempotency::purge_expired(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "expired idempotency keys deleted"),
                Err(e) => tracing::warn!(error = %e, "could not delete expired idempotency keys; retried next time"),
            }
            // Rate windows over: the longest is the sign-in window.
            let horizon =
                state.now().timestamp_millis() - (state.settings.login_window_secs.max(1) as i64).saturating_mul(1000);
            if let Err(e) = crate::auth::shared_counters::purge(&state.db, horizon).await {
                tracing::warn!(error = %e, "could not delete old rate windows; retried next time");
            }
            match super::webhooks::purge(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "old webhook deliveries deleted"),
                Err(e) => tracing::warn!(error = %e, "could not delete old webhook deliveries; retried next time"),
            }
        }
    })
}
