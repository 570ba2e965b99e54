//! `serve --demo`: a living system for a Swagger UI visitor — Diskominfo's divisions, a
//! few agencies, one user per role, all with one printed password. Idempotent.
//!
//! Those accounts' password is published, so a demo must never become a server: demo mode
//! listens on loopback only (`Settings::check`), signs with a secret of its own run, and
//! starts only on an empty database or one it made before (`guard`), which it marks. Every
//! account made while serving in demo mode is a demo account, and a normal `serve` refuses
//! to start while any of them can still sign in (`remove_accounts` ends them).

use entity::{api_client, installation_fact, organization, refresh_token, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::auth::{Caller, CallerKind, Role, password};
use crate::bootstrap;
use crate::error::{ApiError, ApiResult};
use crate::service::audit::Actor;
use crate::service::requests::{self, NewRequest, TransitionInput};
use crate::service::{acting, comments, documents, organizations, users};
use crate::state::AppState;
use crate::workflow::{
    ActingKind, Action, Disposition, DispositionInstruction, DocumentKind, Flow, IntegrationRecord, StepCode,
    StructuredOutput, TeamList, TestOutcome, TestResult, Visibility,
};

pub const DEMO_PASSWORD: &str = "jembatan-demo-2026";

/// The installation fact that marks a database `serve --demo` made.
const DEMO_FACT: &str = "demo";

/// The command that ends the demo accounts, as the refusal names it.
pub const REMOVE_COMMAND: &str = "jembatan remove-demo-accounts";

/// Run before anything is created at start. In demo mode: the database must be empty (no
/// accounts) or one a demo made; it is then marked as a demo database. Otherwise: no demo
/// account may still be able to sign in.
pub async fn guard(state: &AppState) -> Result<(), String> {
    let db = &state.db;
    let fail = |e: sea_orm::DbErr| format!("cannot check the database for demo accounts: {e}");
    if state.settings.demo {
        let marked = installation_fact::Entity::find_by_id(DEMO_FACT).one(db).await.map_err(fail)?.is_some();
        if marked {
            return Ok(());
        }
        let accounts = user::Entity::find().count(db).await.map_err(fail)?;
        if accounts > 0 {
            return Err(format!(
                "serve --demo needs an empty database or one that a demo made; this one holds {accounts} account(s). \
                 Point JEMBATAN_DATABASE_URL at a new file, e.g. sqlite://jembatan-demo.db?mode=rwc"
            ));
        }
        installation_fact::ActiveModel { key: Set(DEMO_FACT.into()), value: Set("true".into()) }
            .insert(db)
            .await
            .map_err(fail)?;
        return Ok(());
    }
    // Marked demo accounts that can still sign in (deactivated ones too: an admin could
    // activate them again) ...
    let marked = user::Entity::find()
        .filter(user::Column::Demo.eq(true))
        .filter(user::Column::PasswordHash.ne(REMOVED_PASSWORD))
        .count(db)
        .await
        .map_err(fail)?;
    // ... and, in a database an older demo made before accounts were marked, the demo's
    // usernames with the published password (at most one Argon2 check each).
    let legacy = legacy_demo_accounts(state).await.map_err(|e| e.to_string())?.len() as u64;
    let live = marked + legacy;
    if live > 0 {
        return Err(format!(
            "this database holds {live} demo account(s) whose password is published; end them with `{REMOVE_COMMAND}` \
             (or serve another database) before serving it without --demo"
        ));
    }
    Ok(())
}

/// Accounts an older demo made before accounts were marked: a demo username, unmarked,
/// whose password is the published one (at most one Argon2 check per demo username).
async fn legacy_demo_accounts(state: &AppState) -> ApiResult<Vec<Uuid>> {
    let mut found = Vec::new();
    for (username, ..) in USERS {
        let account = user::Entity::find().filter(user::Column::Username.eq(*username)).one(&state.db).await?;
        if let Some(u) = account.filter(|u| !u.demo && u.password_hash != REMOVED_PASSWORD)
            && password::verify(Some(u.password_hash), DEMO_PASSWORD.into()).await?
        {
            found.push(u.id);
        }
    }
    Ok(found)
}

/// The password hash of an ended demo account: not a PHC string, so nothing verifies.
const REMOVED_PASSWORD: &str = "!demo-account-removed";

/// Ends every demo account (and, in a database an older demo made, every account with a
/// demo username and the published password): deactivated, password unusable, sessions
/// revoked, tokens void; the API clients they made are revoked; the database is no longer
/// a demo database. The rows stay, since the audit trail and the requests name them.
/// Returns how many accounts were ended.
pub async fn remove_accounts(state: &AppState) -> ApiResult<u64> {
    let now = state.now();
    let legacy = legacy_demo_accounts(state).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let demo_users = user::Entity::find()
        .filter(sea_orm::Condition::any().add(user::Column::Demo.eq(true)).add(user::Column::Id.is_in(legacy)))
        .filter(user::Column::PasswordHash.ne(REMOVED_PASSWORD))
        .all(&txn)
        .await?;
    for u in &demo_users {
        let mut am: user::ActiveModel = u.clone().into();
        am.active = Set(false);
        am.demo = Set(true);
        am.password_hash = Set(REMOVED_PASSWORD.into());
        am.auth_version = Set(u.auth_version + 1);
        am.version = Set(u.version + 1);
        am.updated_at = Set(now);
        am.update(&txn).await?;
        crate::service::audit::append(
            &txn,
            now,
            Actor::SYSTEM,
            "user.demo_account_removed",
            "user",
            u.id,
            serde_json::json!({"username": u.username}),
        )
        .await?;
    }
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::UserId.is_in(demo_users.iter().map(|u| u.id)))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    // The systems they registered had the demo's blessing only.
    api_client::Entity::update_many()
        .col_expr(api_client::Column::Active, Expr::value(false))
        .col_expr(api_client::Column::RevokedAt, Expr::value(now))
        .col_expr(api_client::Column::AuthVersion, Expr::col(api_client::Column::AuthVersion).add(1))
        .filter(api_client::Column::CreatedBy.is_in(demo_users.iter().map(|u| u.id)))
        .filter(api_client::Column::Active.eq(true))
        .exec(&txn)
        .await?;
    installation_fact::Entity::delete_by_id(DEMO_FACT).exec(&txn).await?;
    txn.commit().await?;
    Ok(demo_users.len() as u64)
}

const ORGANIZATIONS: &[(&str, &str, &str)] = &[
    ("APTIKA", "Bidang Aplikasi Informatika, Diskominfo", "division"),
    ("IKP", "Bidang Informasi dan Komunikasi Publik, Diskominfo", "division"),
    ("DINKES", "Dinas Kesehatan", "agency"),
    ("DISPENDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil", "agency"),
    ("BAPPEDA", "Badan Perencanaan Pembangunan Daerah", "agency"),
    ("DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "agency"),
];

/// (username, full name, organization code, role)
const USERS: &[(&str, &str, &str, Role)] = &[
    ("admin", "Administrator Sistem", bootstrap::OFFICE_CODE, Role::Admin),
    ("auditor", "Inspektorat (pemeriksa)", bootstrap::OFFICE_CODE, Role::Auditor),
    ("kadis", "Kepala Dinas Kominfo", bootstrap::OFFICE_CODE, Role::HeadOfAgency),
    ("kabid.aptika", "Kepala Bidang Aptika", "APTIKA", Role::HeadOfDivision),
    ("kasi.teknis", "Kepala Seksi / Ketua Tim Teknis IT", "APTIKA", Role::TechnicalLead),
    ("kasi.infra", "Kepala Seksi Infrastruktur TIK", "APTIKA", Role::TechnicalLead),
    ("teknisi.andi", "Andi Pratama (Tim Teknis IT)", "APTIKA", Role::TechnicalStaff),
    ("teknisi.sari", "Sari Wulandari (Tim Teknis IT)", "APTIKA", Role::TechnicalStaff),
    ("pemohon.dinkes", "Staf Dinas Kesehatan", "DINKES", Role::Applicant),
    ("pemohon.dukcapil", "Staf Dispendukcapil", "DISPENDUKCAPIL", Role::Applicant),
    ("pemohon.ikp", "Staf Bidang IKP", "IKP", Role::Applicant),
];

pub async fn seed(state: &AppState) -> ApiResult<Vec<(&'static str, Role)>> {
    bootstrap::office(state).await?;
    for (code, name, kind) in ORGANIZATIONS {
        if organization::Entity::find().filter(organization::Column::Code.eq(*code)).one(&state.db).await?.is_some() {
            continue;
        }
        let now = state.now();
        let txn = crate::db::begin_write(&state.db).await?;
        organizations::insert(&txn, now, Actor::SYSTEM, code, name, kind, Some("demo")).await?;
        txn.commit().await?;
    }
    let hash = password::hash(DEMO_PASSWORD.into()).await?;
    for (username, full_name, org_code, role) in USERS {
        if user::Entity::find().filter(user::Column::Username.eq(*username)).one(&state.db).await?.is_some() {
            continue;
        }
        let Some(org) =
            organization::Entity::find().filter(organization::Column::Code.eq(*org_code)).one(&state.db).await?
        else {
            continue;
        };
        users::insert(
            state,
            Actor::SYSTEM,
            (*username).into(),
            (*full_name).into(),
            hash.clone(),
            org.id,
            vec![*role],
            None,
            None,
        )
        .await?;
    }
    seed_requests(state).await?;
    Ok(USERS.iter().map(|(u, _, _, r)| (*u, *r)).collect())
}

/// A demo user as a caller, as if they had signed in.
async fn caller(state: &AppState, username: &str) -> ApiResult<Caller> {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::internal(format!("demo user {username} missing")))?;
    Ok(Caller {
        id: u.id,
        kind: CallerKind::User,
        roles: users::roles_of(&u),
        organization_id: u.organization_id,
        session_id: None,
    })
}

/// A one-page PDF, enough for a demo document.
const DEMO_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn attach(state: &AppState, who: &Caller, id: Uuid, kind: DocumentKind) -> ApiResult<()> {
    let mut pending =
        documents::store(state).begin(state.settings.upload_limit_bytes).await.map_err(documents::storage_error)?;
    pending.write(DEMO_PDF).await.map_err(documents::storage_error)?;
    let upload = documents::Upload { kind, filename: format!("{kind}.pdf"), content_type: "application/pdf", pending };
    documents::record(state, who, id, upload).await.map(|_| ())
}

/// The office's demo people, loaded once.
struct Cast {
    kabid: Caller,
    kasi: Caller,
    kasi_infra: Caller,
    kadis: Caller,
    andi: Caller,
    sari: Caller,
}

/// Walks a new request of `applicant` through `steps` (endpoint-like names); its id.
async fn demo_request(state: &AppState, cast: &Cast, applicant: &str, title: &str, steps: &[&str]) -> ApiResult<Uuid> {
    let who = caller(state, applicant).await?;
    let r = requests::create(
        state,
        &who,
        NewRequest {
            title: title.into(),
            purpose: "Pertukaran data antar sistem sesuai kebijakan Satu Data Trenggalek".into(),
            source_system: format!("Aplikasi {title}"),
            target_system: "Portal Satu Data Trenggalek".into(),
            data_exchanged: "Data agregat harian tanpa data pribadi".into(),
            letter_number: format!("000.8/{}/406.000/2026", title.len()),
            letter_date: state.now().date_naive(),
        },
    )
    .await?;
    let internal = r.flow == Flow::Internal;
    let plain = TransitionInput::default;
    let with = |output| TransitionInput { output: Some(output), ..plain() };
    for step in steps {
        let (actor, t, input, docs): (&Caller, Action, TransitionInput, Vec<DocumentKind>) = match *step {
            "submit" if internal => {
                (&who, Action::Submit, plain(), vec![DocumentKind::ApplicationDocument, DocumentKind::MeetingMinutes])
            }
            "submit" => (&who, Action::Submit, plain(), vec![DocumentKind::RequestLetter]),
            "disposition" => {
                let output = StructuredOutput::Disposition(Disposition {
                    instructions: vec![DispositionInstruction::TindakLanjuti, DispositionInstruction::Koordinasikan],
                    to_user_ids: vec![cast.kasi.id],
                });
                let docs = if internal { vec![DocumentKind::RequestLetter] } else { vec![] };
                (&cast.kabid, Action::complete(StepCode::Disposition), with(output), docs)
            }
            "follow_up" => (&cast.kasi, Action::complete(StepCode::FollowUp), plain(), vec![]),
            "discussion" => {
                (&cast.kasi, Action::complete(StepCode::Discussion), plain(), vec![DocumentKind::Formulation])
            }
            "approval" => (&cast.kadis, Action::complete(StepCode::Approval), plain(), vec![]),
            // The head of division, as Plh of the Kepala Dinas (see `seed_requests`).
            "approval_by_plh" => (&cast.kabid, Action::complete(StepCode::Approval), plain(), vec![]),
            // The Kasi Teknis is away: the disposition goes to the Kasi Infrastruktur.
            "redispose" => {
                let output = StructuredOutput::Disposition(Disposition {
                    instructions: vec![DispositionInstruction::TindakLanjuti],
                    to_user_ids: vec![cast.kasi_infra.id],
                });
                let input = TransitionInput {
                    reason: Some("Kasi Teknis sedang dinas luar".into()),
                    output: Some(output),
                    ..plain()
                };
                (&cast.kabid, Action::Redispose, input, vec![])
            }
            "team" => {
                let output = StructuredOutput::Team(TeamList {
                    lead_user_id: cast.andi.id,
                    member_user_ids: vec![cast.sari.id],
                });
                (&cast.kabid, Action::complete(StepCode::Team), with(output), vec![DocumentKind::ApiDocument])
            }
            "integration" => {
                let output = StructuredOutput::IntegrationRecord(IntegrationRecord {
                    base_url: format!("https://api.trenggalekkab.go.id/{}/v1", applicant.replace("pemohon.", "")),
                    repository_url: None,
                });
                (&cast.andi, Action::complete(StepCode::Integration), with(output), vec![])
            }
            "testing" => {
                let output = StructuredOutput::TestResult(TestResult { result: TestOutcome::Passed });
                (&cast.sari, Action::complete(StepCode::Testing), with(output), vec![DocumentKind::TestReport])
            }
            "implementation" => {
                (&cast.andi, Action::complete(StepCode::Implementation), plain(), vec![DocumentKind::IntegrationReport])
            }
            "report" => (&cast.kasi, Action::complete(StepCode::Report), plain(), vec![DocumentKind::FinalReport]),
            "return" => (
                &cast.kasi,
                Action::Return,
                TransitionInput { reason: Some("Lampiran spesifikasi API belum ada".into()), ..plain() },
                vec![],
            ),
            "reject" => (
                &cast.kabid,
                Action::Reject,
                TransitionInput { reason: Some("Sudah tercakup oleh integrasi yang ada".into()), ..plain() },
                vec![],
            ),
            other => return Err(ApiError::internal(format!("unknown demo step {other}"))),
        };
        for kind in docs {
            attach(state, actor, r.id, kind).await?;
        }
        requests::transition(state, actor, r.id, t, input, None).await?;
    }
    Ok(r.id)
}

/// Requests standing at different steps of both flows, so the API shows a living system.
async fn seed_requests(state: &AppState) -> ApiResult<()> {
    if entity::request::Entity::find().one(&state.db).await?.is_some() {
        return Ok(());
    }
    let walks: &[(&str, &str, &[&str])] = &[
        ("pemohon.dinkes", "Integrasi SIMPUS ke Satu Data", &[]),
        ("pemohon.dinkes", "Integrasi data imunisasi", &["submit"]),
        (
            "pemohon.dukcapil",
            "Verifikasi NIK untuk layanan perizinan",
            &["submit", "disposition", "follow_up", "discussion"],
        ),
        (
            "pemohon.dinkes",
            "Integrasi SIKDA dengan BPJS",
            &["submit", "disposition", "follow_up", "discussion", "approval_by_plh", "team", "integration"],
        ),
        (
            "pemohon.dukcapil",
            "Layanan data kependudukan untuk Dinsos",
            &[
                "submit",
                "disposition",
                "follow_up",
                "discussion",
                "approval",
                "team",
                "integration",
                "testing",
                "implementation",
                "report",
            ],
        ),
        ("pemohon.ikp", "Integrasi portal berita dengan media sosial", &["submit", "disposition", "return"]),
        ("pemohon.ikp", "Sinkronisasi agenda pimpinan", &["submit", "reject"]),
    ];
    let cast = Cast {
        kabid: caller(state, "kabid.aptika").await?,
        kasi: caller(state, "kasi.teknis").await?,
        kasi_infra: caller(state, "kasi.infra").await?,
        kadis: caller(state, "kadis").await?,
        andi: caller(state, "teknisi.andi").await?,
        sari: caller(state, "teknisi.sari").await?,
    };
    // The head of division stands in for the Kepala Dinas this week (Plh).
    let admin = caller(state, "admin").await?;
    let today = state.now().with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    acting::create(
        state,
        &admin,
        acting::NewActingAssignment {
            acting_user_id: cast.kabid.id,
            for_user_id: Some(cast.kadis.id),
            for_role: None,
            for_organization_id: None,
            kind: ActingKind::Plh,
            letter_number: "800.1.11.1/012/406.020/2026".into(),
            starts_on: today,
            ends_on: today + chrono::Days::new(6),
        },
    )
    .await?;
    for (applicant, title, steps) in walks {
        demo_request(state, &cast, applicant, title, steps).await?;
    }
    // A reassigned disposition with a comment thread: public questions and answers, and
    // the office's internal note the applicant never sees.
    let id = demo_request(
        state,
        &cast,
        "pemohon.dinkes",
        "Integrasi e-Puskesmas dengan SatuSehat",
        &["submit", "disposition", "redispose"],
    )
    .await?;
    let applicant = caller(state, "pemohon.dinkes").await?;
    for (who, body, visibility) in [
        (
            &cast.kasi_infra,
            "@pemohon.dinkes mohon lampirkan contoh payload FHIR yang akan dikirim.",
            Visibility::Public,
        ),
        (&applicant, "Baik, contoh payload kami unggah besok pagi.", Visibility::Public),
        (&cast.kabid, "@kasi.infra cek juga kapasitas VPN ke server Kemenkes.", Visibility::Internal),
    ] {
        comments::post(state, who, id, comments::NewComment { body: body.into(), visibility }).await?;
    }
    Ok(())
}
