//! The audit log's sequencer: every `audit_sequence_interval_ms`, takes the committed
//! events not yet in the log, gives them their indexes and signs a checkpoint
//! (`service::tlog::sequence`). One replica at a time (a PostgreSQL advisory lock; on
//! SQLite the one process).

use std::time::Duration;

use actix_web::web;

use crate::state::AppState;

pub fn spawn(state: web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    let period = Duration::from_millis(state.settings.audit_sequence_interval_ms);
    // `every` rounds up to a second; the sequencer wants its own, shorter beat.
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // Drain a backlog in one beat, batch after batch.
            loop {
                match crate::service::tlog::sequence(&state).await {
                    Ok(Some(size)) => tracing::debug!(size, "audit log checkpoint signed"),
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "the audit sequencer failed; retried next beat");
                        break;
                    }
                }
            }
        }
    })
}
