//! The `jembatan` binary: serve, migrate, create-admin, openapi.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use jembatan::auth::{Role, password};
use jembatan::clock::SystemClock;
use jembatan::config::Settings;
use jembatan::startup::Application;

#[derive(Parser)]
#[command(name = "jembatan", version, about = "The Trenggalek SOP for information-system integration, as a REST API")]
struct Cli {
    /// A TOML file with settings (overridden by JEMBATAN_* environment variables).
    #[arg(long, global = true, env = "JEMBATAN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Print a new signing key for the audit log (for JEMBATAN_AUDIT_SIGNING_KEY or the key
    /// file) and its verifier key (for auditors, and for JEMBATAN_AUDIT_PREVIOUS_KEYS after
    /// the next rotation). Nothing is stored.
    Keygen,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (applies pending migrations first).
    Serve {
        /// Seed demo organizations and one user per role and print their logins. Signs with
        /// a random secret of this run; loopback only; an empty or demo database only.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an admin user. The password is read from JEMBATAN_ADMIN_PASSWORD or stdin.
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "Administrator")]
        full_name: String,
    },
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// The audit log's keys.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// End every account that `serve --demo` made (their password is published): they are
    /// deactivated, their passwords made unusable and their sessions revoked. The rows stay
    /// for the audit trail. A normal `serve` refuses to start until this has run.
    RemoveDemoAccounts,
    /// Write an evidence bundle (a tar file) of one request, or of a range of the audit log,
    /// for `jembatan verify` on any machine.
    Export {
        /// The request whose record to export (everything, internal notes included).
        #[arg(long, conflicts_with_all = ["from", "to"], required_unless_present = "from")]
        request: Option<uuid::Uuid>,
        /// The first log index of a range.
        #[arg(long)]
        from: Option<u64>,
        /// One past the last log index (default: the latest signed checkpoint's size).
        #[arg(long, requires = "from")]
        to: Option<u64>,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
        /// A range's bundle without the documents' bytes (its events still record each
        /// document's SHA-256).
        #[arg(long, requires = "from")]
        no_documents: bool,
        /// Sizes of checkpoints an auditor saved (comma-separated): the bundle carries a
        /// consistency proof from each (besides the last checkpoint of every day).
        #[arg(long, value_delimiter = ',')]
        consistency_from: Vec<u64>,
    },
    /// Check an evidence bundle with no database and no network. Exits 0 when intact, 2
    /// naming the first bad item, 3 when nothing is wrong but something could not be
    /// established (no --key given, or a saved checkpoint the bundle cannot be compared with).
    Verify {
        /// The bundle: the tar file, or the directory it was unpacked into.
        bundle: PathBuf,
        /// Checkpoints saved earlier (the service's checkpoints.jsonl, or a note saved from
        /// GET /audit/checkpoint): the bundle's log must extend each.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        /// The office's verifier key (`GET /audit/public-key`); repeat for earlier keys.
        /// Without it the bundle's own keys are trusted, and the report says so.
        #[arg(long = "key")]
        keys: Vec<String>,
    },
    /// Check the database and the document store against each other: documents without
    /// bytes, bytes without a row, requests in states their definition does not allow,
    /// the audit chain. Exits with 2 when problems remain.
    Check {
        /// Remove stored bytes without a row (older than a minute) and leftover temporary
        /// upload files (older than an hour).
        #[arg(long)]
        repair: bool,
        /// Judge stored bytes without a row and temporary upload files once they are this
        /// old, instead of a minute and an hour. 0 is safe only while the service is stopped
        /// (or idle): younger files may belong to uploads in flight.
        #[arg(long, value_name = "SECS")]
        min_age_secs: Option<u64>,
    },
}

fn fail(problems: Vec<String>) -> ExitCode {
    for p in problems {
        eprintln!("error: {p}");
    }
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    return_large_blocks_to_the_os();
    jembatan::signer::install_tls_provider();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => fail(vec![format!("cannot start the async runtime: {e}")]),
    }
}

/// Every Argon2id hash allocates 19 MiB. glibc raises its mmap threshold after the first
/// such block is freed, so later ones come from the heap and stay there: a few sign-ins
/// left the service at ~180 MiB instead of ~60 (docs/benchmarks.md, "Load"). A fixed
/// 1 MiB threshold keeps large blocks mmap'd, so they go back to the OS when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_os() {
    // SAFETY: mallopt only sets an allocator parameter; it runs before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_os() {}

/// Memory freed inside glibc's heaps stays with the process: start-up (migrations, seeding,
/// the calendar, each worker's app) left 41 MiB anonymous of which 6 MiB was in use
/// (`malloc_stats`), and a burst of requests leaves its peak behind the same way.
/// `malloc_trim` hands the free pages of every arena back to the OS (67 → 37 MiB idle,
/// docs/benchmarks.md): once the service is up, then every 10 s (a walk over the free
/// lists; nothing is trimmed that is in use, and an allocation after it may fault a page in).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_back_free_memory_regularly() {
    tokio::spawn(async {
        // The first tick is now: the service is built (workers included) when this starts.
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            tick.tick().await;
            let started = std::time::Instant::now();
            // SAFETY: malloc_trim only returns free pages to the OS; it takes each arena's lock.
            unsafe {
                libc::malloc_trim(0);
            }
            // Every thread that allocates waits for it meanwhile.
            let took = started.elapsed();
            if took > std::time::Duration::from_millis(50) {
                tracing::warn!(took_ms = took.as_millis() as u64, "giving free memory back held the allocator");
            }
        }
    });
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_back_free_memory_regularly() {}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        return match serde_json::to_string_pretty(&jembatan::startup::openapi_document()) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(vec![e.to_string()]),
        };
    }
    if let Command::Verify { bundle, checkpoints, keys } = &cli.command {
        return verify_bundle(bundle, checkpoints.as_deref(), keys);
    }
    let demo = matches!(cli.command, Command::Serve { demo: true });
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(p) => return fail(p),
    };
    // Only `serve` signs tokens, and only `serve --demo` is a demo.
    let needs_secret = matches!(cli.command, Command::Serve { .. });
    let settings = match if needs_secret { settings.check(demo) } else { settings.check_offline() } {
        Ok(s) => s,
        Err(p) => return fail(p),
    };
    jembatan::telemetry::init(&settings.log_format);
    match cli.command {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Migrate => match jembatan::db::connect(&settings).await {
            Ok(db) => match jembatan::db::migrate(&db).await {
                Ok(()) => {
                    println!("database is up to date");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(vec![format!("migration failed: {e}")]),
            },
            Err(e) => fail(vec![format!("cannot connect to the database: {e}")]),
        },
        Command::CreateAdmin { username, full_name } => create_admin(settings, username, full_name).await,
        Command::Check { repair, min_age_secs } => check(settings, repair, min_age_secs).await,
        Command::RemoveDemoAccounts => remove_demo_accounts(settings).await,
        Command::Openapi | Command::Verify { .. } => ExitCode::SUCCESS,
        Command::Export { request, from, to, out, no_documents, consistency_from } => {
            export(settings, request, from, to, !no_documents, &consistency_from, &out).await
        }
        Command::Audit { command: AuditCommand::Keygen } => {
            let seed = jembatan::service::tlog::LogKeys::generate_seed();
            let dir = std::env::temp_dir().join(format!("jembatan-keygen-{}", std::process::id()));
            match jembatan::service::tlog::LogKeys::load(&settings.audit_origin, Some(&seed), &dir.join("unused"), None)
            {
                Ok(keys) => {
                    println!("signing key (secret; JEMBATAN_AUDIT_SIGNING_KEY or the key file): {seed}");
                    println!("verifier key (public): {}", keys.verifier());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(vec![e]),
            }
        }
    }
}

fn verify_bundle(path: &std::path::Path, checkpoints: Option<&std::path::Path>, keys: &[String]) -> ExitCode {
    use jembatan::tlog::bundle;
    let trusted = match bundle::parse_keys(&keys.join("\n")) {
        Ok(k) => k,
        Err(e) => return fail(vec![e]),
    };
    let witness = match checkpoints.map(std::fs::read_to_string).transpose() {
        Ok(text) => match text.as_deref().map(bundle::parse_witness).transpose() {
            Ok(w) => w.unwrap_or_default(),
            Err(e) => return fail(vec![format!("--checkpoints: {e}")]),
        },
        Err(e) => return fail(vec![format!("--checkpoints: {e}")]),
    };
    let files = match jembatan::service::bundle::read(path) {
        Ok(f) => f,
        Err(e) => return fail(vec![e]),
    };
    let report = bundle::verify(&files, &trusted, &witness);
    println!("{report}");
    match report.verdict() {
        bundle::Verdict::Intact => ExitCode::SUCCESS,
        bundle::Verdict::Bad => ExitCode::from(2),
        bundle::Verdict::Inconclusive => ExitCode::from(3),
    }
}

async fn export(
    settings: Settings,
    request: Option<uuid::Uuid>,
    from: Option<u64>,
    to: Option<u64>,
    with_documents: bool,
    consistency_from: &[u64],
    out: &std::path::Path,
) -> ExitCode {
    let state = match jembatan::startup::prepare(settings, Arc::new(SystemClock)).await {
        Ok(s) => s,
        Err(e) => return fail(vec![e]),
    };
    let files = match (request, from) {
        (Some(id), _) => jembatan::service::bundle::for_request(&state, None, id, consistency_from).await,
        (None, Some(from)) => {
            jembatan::service::bundle::for_range(&state, from, to, with_documents, consistency_from).await
        }
        (None, None) => return fail(vec!["give --request ID, or --from N [--to M]".into()]),
    };
    let written = files
        .map_err(|e| e.to_string())
        .and_then(|f| jembatan::service::bundle::to_tar(&f).map_err(|e| e.to_string()))
        .and_then(|tar| std::fs::write(out, tar).map_err(|e| format!("{}: {e}", out.display())));
    match written {
        Ok(()) => {
            println!("wrote {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(vec![e]),
    }
}

async fn remove_demo_accounts(settings: Settings) -> ExitCode {
    let state = match jembatan::startup::prepare(settings, Arc::new(SystemClock)).await {
        Ok(s) => s,
        Err(e) => return fail(vec![e]),
    };
    match jembatan::demo::remove_accounts(&state).await {
        Ok(n) => {
            println!("ended {n} demo account(s)");
            ExitCode::SUCCESS
        }
        Err(e) => fail(vec![e.to_string()]),
    }
}

async fn check(settings: Settings, repair: bool, min_age_secs: Option<u64>) -> ExitCode {
    let state = match jembatan::startup::prepare(settings, Arc::new(SystemClock)).await {
        Ok(s) => s,
        Err(e) => return fail(vec![e]),
    };
    let mut opts = jembatan::check::CheckOptions::new(repair);
    if let Some(secs) = min_age_secs {
        opts.orphan_min_age = std::time::Duration::from_secs(secs);
        opts.temp_min_age = std::time::Duration::from_secs(secs);
    }
    match jembatan::check::check_with(&state, opts).await {
        Ok(report) => {
            println!("{report}");
            if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::from(2) }
        }
        Err(e) => fail(vec![format!("the check could not run: {e}")]),
    }
}

async fn serve(settings: Settings, demo: bool) -> ExitCode {
    let started = std::time::Instant::now();
    let app = match Application::build(settings, Arc::new(SystemClock)).await {
        Ok(a) => a,
        Err(e) => return fail(vec![e]),
    };
    if demo {
        match jembatan::demo::seed(&app.state()).await {
            Ok(users) => {
                println!("Demo data is ready. Every demo user's password is: {}", jembatan::demo::DEMO_PASSWORD);
                for (u, r) in users {
                    println!("  {u:<18} {r}");
                }
            }
            Err(e) => return fail(vec![format!("cannot seed demo data: {e}")]),
        }
    }
    give_back_free_memory_regularly();
    let listen = app.state().settings.listen.clone();
    tracing::info!(
        port = app.port(),
        ready_ms = started.elapsed().as_millis() as u64,
        "Jembatan is listening on http://{listen} (Swagger UI at /swagger-ui/)"
    );
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(vec![e.to_string()]),
    }
}

async fn create_admin(settings: Settings, username: String, full_name: String) -> ExitCode {
    let pw = match settings.admin_password.clone() {
        Some(p) => p,
        None => {
            if std::io::stdin().is_terminal() {
                eprintln!("password (input is not hidden; prefer JEMBATAN_ADMIN_PASSWORD):");
            }
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).is_err() {
                return fail(vec!["could not read the password from stdin".into()]);
            }
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let username = username.trim().to_lowercase();
    if let Err(m) = password::check_policy(&pw, &username) {
        return fail(vec![format!("password {m}")]);
    }
    let state = match jembatan::startup::prepare(settings, Arc::new(SystemClock)).await {
        Ok(s) => s,
        Err(e) => return fail(vec![e]),
    };
    let result = async {
        let org = jembatan::bootstrap::office(&state).await?;
        let hash = password::hash(pw).await?;
        jembatan::service::users::insert(
            &state,
            jembatan::service::audit::Actor::SYSTEM,
            username.clone(),
            full_name,
            hash,
            org.id,
            vec![Role::Admin],
            None,
            None,
        )
        .await
    }
    .await;
    match result {
        Ok(u) => {
            println!("created admin `{}` ({})", u.username, u.id);
            ExitCode::SUCCESS
        }
        Err(e) => fail(vec![e.to_string()]),
    }
}
