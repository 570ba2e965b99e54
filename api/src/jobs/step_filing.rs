//! Files the steps from before migration m0016 under their request's organization
//! (`service::reports::filing`): at start, then every `housekeeping_interval_secs`
//! (steps that a replica of an older version wrote during a rolling upgrade). Runs where
//! the SLA histogram is folded (`sla_fold_interval_secs` > 0); replicas may run it at
//! once (filing by id claims with `SKIP LOCKED`; the page walk only touches rows still
//! unfiled). Once every step is filed a run is one probe of an empty index. PostgreSQL
//! only: on SQLite the migration files them. Not `super::every`: the first run is at start.

use std::time::Duration;

use actix_web::web;

use crate::service::reports::filing;
use crate::state::AppState;

pub fn spawn(state: web::Data<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    if state.settings.sla_fold_interval_secs == 0 || state.settings.is_sqlite() {
        return None;
    }
    let period = Duration::from_secs(state.settings.housekeeping_interval_secs.max(1));
    Some(tokio::spawn(async move {
        loop {
            match filing::file_steps(&state.db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(n, "steps filed under their request's organization"),
                Err(e) => tracing::warn!(error = %e, "could not file steps under their organization; retried later"),
            }
            tokio::time::sleep(period).await;
        }
    }))
}
