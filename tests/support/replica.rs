//! Another replica of a `TestApp`: the same database, document store, signing secret and
//! clock, its own pool, caches, limiters and background jobs, on its own port — and on
//! its own runtime and threads, so that a test can kill it mid-work: its listener and
//! workers stop at once and every one of its tasks (a job inside a transaction, a mail
//! being sent) is dropped where it stands, its connections closed, as when the process
//! dies. Its database transactions are rolled back by the server, as they would be.

use std::sync::Arc;

use jembatan::config::Settings;
use jembatan::startup::Application;

use crate::TestApp;

pub struct Replica {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
    kill: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Replica {
    /// Starts a replica of `app`; `tweak` sets what differs (intervals, mail, …).
    pub async fn start(app: &TestApp, tweak: impl FnOnce(&mut Settings)) -> Replica {
        let mut settings = Settings {
            database_url: app.database_url.clone(),
            listen: "127.0.0.1:0".into(),
            jwt_secret: Some(app.jwt_secret.clone()),
            storage_dir: app.storage_dir.clone(),
            db_max_connections: 5,
            workers: Some(1),
            ..Settings::default()
        };
        tweak(&mut settings);
        let settings = settings.check(false).expect("replica settings are valid");
        let clock = Arc::new(app.clock.clone());
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (kill_tx, kill_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the replica's runtime");
            let app = match rt.block_on(Application::build(settings, clock)) {
                Ok(app) => app,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let _ = ready_tx.send(Ok((app.port(), app.handle())));
            rt.block_on(async move {
                tokio::select! {
                    _ = app.run_until_stopped() => {}
                    _ = kill_rx => {}
                }
            });
            // Every task still running (jobs mid-transaction included) is dropped here.
            rt.shutdown_background();
        });
        let (port, handle) = ready_rx.await.expect("the replica's thread answers").expect("the replica builds");
        Replica { base: format!("http://127.0.0.1:{port}"), handle, kill: Some(kill_tx), thread: Some(thread) }
    }

    /// Stops the replica at once, as `kill -9` would: no graceful shutdown.
    pub async fn kill(mut self) {
        self.stop_now().await;
    }

    async fn stop_now(&mut self) {
        if let Some(kill) = self.kill.take() {
            // Not graceful: open connections are dropped, in-flight requests get no answer.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.handle.stop(false)).await;
            let _ = kill.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
    }
}
