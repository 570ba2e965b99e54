//! `serve --demo`: a living system for a Swagger UI visitor — Diskominfo's divisions, a
//! few agencies, one user per role, all with one printed password. Idempotent.

use entity::{organization, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::{Caller, CallerKind, Role, password};
use crate::bootstrap;
use crate::error::{ApiError, ApiResult};
use crate::service::audit::Actor;
use crate::service::requests::{self, NewRequest, Transition, TransitionInput};
use crate::service::{documents, organizations, users};
use crate::state::AppState;
use crate::workflow::{
    Disposition, DispositionInstruction, DocumentKind, Flow, IntegrationRecord, StepCode, StructuredOutput, TeamList,
    TestOutcome, TestResult,
};

pub const DEMO_PASSWORD: &str = "jembatan-demo-2026";

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
        documents::store(state).begin(state.settings.upload_limit_bytes).await.map_err(documents::too_large)?;
    pending.write(DEMO_PDF).await.map_err(documents::too_large)?;
    let upload = documents::Upload { kind, filename: format!("{kind}.pdf"), content_type: "application/pdf", pending };
    documents::record(state, who, id, upload).await.map(|_| ())
}

/// The office's demo people, loaded once.
struct Cast {
    kabid: Caller,
    kasi: Caller,
    kadis: Caller,
    andi: Caller,
    sari: Caller,
}

/// Walks a new request of `applicant` through `steps` (endpoint-like names).
async fn demo_request(state: &AppState, cast: &Cast, applicant: &str, title: &str, steps: &[&str]) -> ApiResult<()> {
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
        let (actor, t, input, docs): (&Caller, Transition, TransitionInput, Vec<DocumentKind>) = match *step {
            "submit" if internal => (
                &who,
                Transition::Submit,
                plain(),
                vec![DocumentKind::ApplicationDocument, DocumentKind::MeetingMinutes],
            ),
            "submit" => (&who, Transition::Submit, plain(), vec![DocumentKind::RequestLetter]),
            "disposition" => {
                let output = StructuredOutput::Disposition(Disposition {
                    instructions: vec![DispositionInstruction::TindakLanjuti, DispositionInstruction::Koordinasikan],
                    to_user_id: Some(cast.kasi.id),
                });
                let docs = if internal { vec![DocumentKind::RequestLetter] } else { vec![] };
                (&cast.kabid, Transition::Complete(StepCode::Disposition), with(output), docs)
            }
            "follow_up" => (&cast.kasi, Transition::Complete(StepCode::FollowUp), plain(), vec![]),
            "discussion" => {
                (&cast.kasi, Transition::Complete(StepCode::Discussion), plain(), vec![DocumentKind::Formulation])
            }
            "approval" => (&cast.kadis, Transition::Complete(StepCode::Approval), plain(), vec![]),
            "team" => {
                let output = StructuredOutput::Team(TeamList {
                    lead_user_id: cast.andi.id,
                    member_user_ids: vec![cast.sari.id],
                });
                (&cast.kabid, Transition::Complete(StepCode::Team), with(output), vec![DocumentKind::ApiDocument])
            }
            "integration" => {
                let output = StructuredOutput::IntegrationRecord(IntegrationRecord {
                    base_url: format!("https://api.trenggalekkab.go.id/{}/v1", applicant.replace("pemohon.", "")),
                    repository_url: None,
                });
                (&cast.andi, Transition::Complete(StepCode::Integration), with(output), vec![])
            }
            "testing" => {
                let output = StructuredOutput::TestResult(TestResult { result: TestOutcome::Passed });
                (&cast.sari, Transition::Complete(StepCode::Testing), with(output), vec![DocumentKind::TestReport])
            }
            "implementation" => (
                &cast.andi,
                Transition::Complete(StepCode::Implementation),
                plain(),
                vec![DocumentKind::IntegrationReport],
            ),
            "report" => (&cast.kasi, Transition::Complete(StepCode::Report), plain(), vec![DocumentKind::FinalReport]),
            "return" => (
                &cast.kasi,
                Transition::Return,
                TransitionInput { reason: Some("Lampiran spesifikasi API belum ada".into()), ..plain() },
                vec![],
            ),
            "reject" => (
                &cast.kabid,
                Transition::Reject,
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
    Ok(())
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
            &["submit", "disposition", "follow_up", "discussion", "approval", "team", "integration"],
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
        kadis: caller(state, "kadis").await?,
        andi: caller(state, "teknisi.andi").await?,
        sari: caller(state, "teknisi.sari").await?,
    };
    for (applicant, title, steps) in walks {
        demo_request(state, &cast, applicant, title, steps).await?;
    }
    Ok(())
}
