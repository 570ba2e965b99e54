//! Background jobs started by `Application::build`. Each is safe to run on several
//! replicas at once: work is claimed row by row in the database, never by the process.

pub mod housekeeping;
pub mod mailer;
pub mod sequencer;
pub mod sla_histogram;
pub mod sla_sweeper;
pub mod step_filing;
pub mod webhooks;

use std::future::Future;
use std::time::Duration;

/// Runs `job` every `period`, the first time one period after start, for ever; a run
/// that overruns delays the next instead of bunching them up.
pub fn every<F, Fut>(period: Duration, mut job: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let period = period.max(Duration::from_secs(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            job().await;
        }
    })
}
