//! Folds the finished steps queued for the SLA report's histogram into it
//! (`service::reports::histogram::fold`), every `sla_fold_interval_secs` (default 1; 0:
//! not on this replica), a backlog batch after batch. Any number of replicas may run it:
//! each batch is claimed with `SKIP LOCKED`. PostgreSQL only.

use std::time::Duration;

use actix_web::web;

use crate::service::reports::histogram;
use crate::state::AppState;

pub fn spawn(state: web::Data<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    let secs = state.settings.sla_fold_interval_secs;
    if secs == 0 || state.settings.is_sqlite() {
        return None;
    }
    Some(super::every(Duration::from_secs(secs), move || {
        let state = state.clone();
        async move {
            // A backlog is walked in id order; each beat starts again from the lowest.
            let mut after = 0;
            loop {
                match histogram::fold(&state.db, after).await {
                    Ok((n, last)) => {
                        if n > 0 {
                            tracing::debug!(n, "finished steps folded into the SLA histogram");
                        }
                        if !histogram::was_full(n) {
                            break;
                        }
                        after = last;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not fold the SLA histogram; retried next beat");
                        break;
                    }
                }
            }
        }
    }))
}
