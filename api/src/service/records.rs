//! Printable records (issue 13, item 6): the receipt with the registration number, the
//! disposition sheet (Lembar Disposisi), the request's dossier and the final report's
//! cover, in Indonesian, as PDF. Each is drawn from the request's timeline as the caller
//! may see it (the applicant's copy has no internal note), and carries the verification
//! code of the audit event it rests on — its log index and leaf hash — with the address of
//! that event's inclusion proof (for whoever may see the request).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{organization, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::timeline::{self, Timeline, TimelineEvent};
use crate::auth::Caller;
use crate::calendar::SlaState;
use crate::error::{ApiError, ApiResult};
use crate::pdf::Sheet;
use crate::signer::BsreError;
use crate::state::AppState;
use crate::tlog::bundle::sha256_hex;
use crate::workflow::{DispositionInstruction, Role, Status};

/// Which record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecordKind {
    /// Tanda terima: the registration number, given at submission.
    Receipt,
    /// Lembar disposisi: the letter, the addressees, the instructions, the official.
    DispositionSheet,
    /// Berkas permohonan: every step with actor, acting-for, start, finish, time standard,
    /// working time taken, and the documents with their SHA-256.
    Dossier,
    /// Sampul laporan akhir: for a completed request.
    FinalReportCover,
}

impl RecordKind {
    fn title(self) -> &'static str {
        match self {
            Self::Receipt => "TANDA TERIMA PERMOHONAN INTEGRASI SISTEM INFORMASI",
            Self::DispositionSheet => "LEMBAR DISPOSISI",
            Self::Dossier => "BERKAS PERMOHONAN INTEGRASI SISTEM INFORMASI",
            Self::FinalReportCover => "LAPORAN AKHIR INTEGRASI SISTEM INFORMASI",
        }
    }

    pub fn file_stem(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::DispositionSheet => "disposition-sheet",
            Self::Dossier => "dossier",
            Self::FinalReportCover => "final-report-cover",
        }
    }
}

/// A printed time, in the office's zone.
fn at(t: DateTime<Utc>) -> String {
    const MONTHS: [&str; 12] = [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ];
    let local = t.with_timezone(&chrono_tz::Asia::Jakarta);
    use chrono::Datelike;
    format!("{} {} {} {} WIB", local.day(), MONTHS[local.month0() as usize], local.year(), local.format("%H:%M"))
}

fn working(seconds: i64) -> String {
    let minutes = seconds / 60;
    format!("{} jam {} menit kerja", minutes / 60, minutes % 60)
}

/// A time standard (`1-2d`) as the SOP writes it (`1–2 hari kerja`).
fn standard(s: &str) -> String {
    let unit = match s.chars().last() {
        Some('m') => "menit",
        Some('h') => "jam",
        Some('d') => "hari",
        Some('w') => "minggu",
        _ => return s.to_owned(),
    };
    format!("{} {unit} kerja", s[..s.len() - 1].replace('-', "–"))
}

/// The role as the SOP names it.
fn role_name(actor: &str) -> String {
    let role = actor.strip_prefix("role:").unwrap_or(actor);
    match role.parse::<Role>() {
        Ok(Role::Applicant) => "Pemohon".into(),
        Ok(Role::HeadOfDivision) => "Kepala Bidang".into(),
        Ok(Role::TechnicalLead) => "Kepala Seksi / Tim Teknis TI".into(),
        Ok(Role::TechnicalStaff) => "Staf Teknis TI".into(),
        Ok(Role::HeadOfAgency) => "Kepala Dinas".into(),
        Ok(Role::Admin) => "Administrator".into(),
        Ok(Role::Auditor) => "Auditor".into(),
        Err(_) if role == "team" => "Tim Integrasi".into(),
        Err(_) if role == "addressees" => "Penerima disposisi".into(),
        Err(_) => role.to_owned(),
    }
}

fn person(e: &TimelineEvent) -> String {
    let who = match (&e.actor, e.actor_client_id) {
        (Some(p), _) => format!("{} ({})", p.full_name, p.username),
        (None, Some(c)) => format!("sistem aplikasi {c}"),
        (None, None) => "sistem".into(),
    };
    match (e.acting_kind, &e.acting_for, e.details.get("acting_for")) {
        (Some(kind), Some(official), _) => format!("{who}, {} {}", kind.as_str().to_uppercase(), official.full_name),
        (Some(kind), None, Some(post)) => {
            let role = post.get("role").and_then(|r| r.as_str()).unwrap_or_default();
            format!("{who}, {} {}", kind.as_str().to_uppercase(), role_name(role))
        }
        _ => who,
    }
}

/// The record as a PDF, and its file name. 409 when the request has not reached the
/// record yet, or its event is not in the signed log yet (under a second).
#[tracing::instrument(level = "debug", skip_all, fields(id = %id, kind = kind.file_stem()))]
pub async fn render(state: &AppState, caller: &Caller, id: Uuid, kind: RecordKind) -> ApiResult<(Vec<u8>, String)> {
    let (t, def) = timeline::with_definition(state, caller, id).await?;
    let org = organization::Entity::find_by_id(t.request.organization_id).one(&state.db).await?;
    let applicant = org.map(|o| format!("{} ({})", o.name, o.code)).unwrap_or_default();
    let anchor = anchor(&t, kind)?;
    let (Some(index), Some(leaf)) = (anchor.leaf_index, anchor.leaf_hash.as_deref()) else {
        return Err(ApiError::Conflict(crate::msg!("record-not-logged-yet")));
    };
    let number = t.request.number.clone().unwrap_or_else(|| "(belum terdaftar)".into());
    let footer = vec![
        format!("Kode verifikasi: {index}-{leaf}"),
        format!(
            "Periksa: {}/api/v1/audit/events/{}/proof — berkas bukti lengkap: /api/v1/requests/{id}/dossier (jembatan verify)",
            state.settings.public_url.trim_end_matches('/'),
            anchor.event_id
        ),
        format!("Dicetak {} dari Jembatan untuk permohonan {number}.", at(state.now())),
    ];
    let mut s = Sheet::new(kind.title(), footer);
    let r = &t.request;
    match kind {
        RecordKind::Receipt => {
            s.field("Nomor registrasi", &number);
            s.field("Diterima pada", &at(anchor.at));
            s.field("Pemohon", &applicant);
            s.field("Diajukan oleh", &person(anchor));
            request_fields(&mut s, &t);
            s.heading("Dokumen yang diterima");
            documents_of(&mut s, &t, |d| d.uploaded_at <= anchor.at);
            s.space(8.0);
            s.paragraph(
                "Permohonan telah diterima dan terdaftar. Status dan langkah berikutnya dapat diikuti pada Jembatan; \
                 simpan nomor registrasi ini untuk setiap pertanyaan.",
                9.5,
            );
        }
        RecordKind::DispositionSheet => {
            s.field("Surat dari", &applicant);
            s.field("Nomor surat", &r.letter_number);
            s.field("Tanggal surat", &r.letter_date.format("%d-%m-%Y").to_string());
            s.field("Nomor agenda", &number);
            s.field("Diterima tanggal", &r.submitted_at.map(at).unwrap_or_default());
            s.field("Perihal", &r.title);
            let output = &anchor.details["output"];
            let addressees = addressee_names(state, output).await?;
            let to_step = anchor.details["to"]["step"].as_str().and_then(|c| c.parse().ok()).and_then(|c| def.step(c));
            let to = if addressees.is_empty() {
                to_step.map(|st| role_name(&st.actor.to_string())).unwrap_or_default()
            } else {
                addressees.join("; ")
            };
            s.field("Diteruskan kepada", &to);
            let instructions: Vec<String> = output["instructions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i.as_str()?.parse::<DispositionInstruction>().ok())
                .map(|i| format!("☑ {}", i.indonesian()))
                .collect();
            s.field("Instruksi", &instructions.join("   "));
            s.field("Catatan", anchor.details["note"].as_str().unwrap_or("—"));
            s.field("Tanggal disposisi", &at(anchor.at));
            s.field("Pejabat", &person(anchor));
        }
        RecordKind::Dossier => {
            s.field("Nomor registrasi", &number);
            s.field("Pemohon", &applicant);
            request_fields(&mut s, &t);
            s.field("Status", r.status.as_str());
            s.field("Alur", &format!("{} (definisi versi {})", r.flow.as_str(), r.definition_version));
            s.heading("Langkah");
            let completions: HashMap<(String, DateTime<Utc>), &TimelineEvent> = t
                .events
                .iter()
                .filter_map(|e| Some(((e.details["from"]["step"].as_str()?.to_owned(), e.at), e)))
                .collect();
            let outcome_name = |o: crate::workflow::StepOutcome| o.as_str();
            for (n, step) in t.steps.iter().enumerate() {
                let activity =
                    def.step(step.step_code).map(|d| d.sop_activity.clone()).unwrap_or_else(|| step.label.clone());
                let round = if step.round > 1 { format!(" (putaran {})", step.round) } else { String::new() };
                s.heading(&format!("{}. {activity}{round}", n + 1));
                let actor = step.actor.map(|a| crate::workflow::CurrentActor::from(a).to_string());
                s.field("Pelaksana", &role_name(&actor.unwrap_or_default()));
                let done_by = step
                    .completed_at
                    .and_then(|c| completions.get(&(step.step_code.to_string(), c)))
                    .map(|e| person(e))
                    .or_else(|| step.completed_by.as_ref().map(|p| p.full_name.clone()));
                s.field("Diselesaikan oleh", done_by.as_deref().unwrap_or("—"));
                s.field("Mulai", &at(step.started_at));
                s.field("Selesai", &step.completed_at.map(at).unwrap_or_else(|| "(masih berjalan)".into()));
                s.field("Standar waktu", &standard(&step.time_standard));
                let sla = match step.sla_state {
                    SlaState::OnTime => "tepat waktu",
                    SlaState::Warning => "mendekati batas",
                    SlaState::Overdue => "melewati batas",
                };
                s.field("Waktu kerja", &format!("{} — {sla}", working(step.working_seconds)));
                if let Some(outcome) = step.outcome {
                    s.field("Hasil", outcome_name(outcome));
                }
                if let Some(note) = &step.note {
                    s.field("Catatan", note);
                }
                for d in &step.documents {
                    s.field("Dokumen", &format!("{} ({} bita) SHA-256 {}", d.filename, d.size, d.sha256));
                }
            }
        }
        RecordKind::FinalReportCover => {
            s.space(40.0);
            s.centered(&r.title, 13.0, true);
            s.space(20.0);
            s.field("Nomor registrasi", &number);
            s.field("Pemohon", &applicant);
            s.field("Sistem", &format!("{} → {}", r.source_system, r.target_system));
            if let Some(i) = &r.integration {
                s.field("Alamat layanan", &i.base_url);
            }
            s.field("Diajukan", &r.submitted_at.map(at).unwrap_or_default());
            s.field("Selesai", &at(anchor.at));
            s.field("Dilaporkan oleh", &person(anchor));
            s.heading("Dokumen laporan");
            let report_step = t.steps.iter().rev().find(|st| st.completed_at == Some(anchor.at));
            for d in report_step.map(|st| st.documents.as_slice()).unwrap_or_default() {
                s.field("Dokumen", &format!("{} SHA-256 {}", d.filename, d.sha256));
            }
        }
    }
    let pdf = s.finish(&number).map_err(ApiError::internal)?;
    Ok((pdf, format!("{}-{}.pdf", kind.file_stem(), number.replace('/', "-"))))
}

fn request_fields(s: &mut Sheet, t: &Timeline) {
    let r = &t.request;
    s.field("Perihal", &r.title);
    s.field("Nomor / tanggal surat", &format!("{} / {}", r.letter_number, r.letter_date.format("%d-%m-%Y")));
    s.field("Sistem sumber", &r.source_system);
    s.field("Sistem tujuan", &r.target_system);
    s.field("Data yang dipertukarkan", &r.data_exchanged);
    s.field("Tujuan", &r.purpose);
}

fn documents_of(s: &mut Sheet, t: &Timeline, keep: impl Fn(&super::documents::DocumentMeta) -> bool) {
    let mut any = false;
    for d in t.steps.iter().flat_map(|st| &st.documents).filter(|d| keep(d)) {
        s.field(d.kind.as_str(), &format!("{} ({} bita) SHA-256 {}", d.filename, d.size, d.sha256));
        any = true;
    }
    if !any {
        s.paragraph("—", 9.5);
    }
}

/// The people a disposition named, by name.
async fn addressee_names(state: &AppState, output: &serde_json::Value) -> ApiResult<Vec<String>> {
    let ids: Vec<Uuid> =
        output["to_user_ids"].as_array().into_iter().flatten().filter_map(|v| v.as_str()?.parse().ok()).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let people = user::Entity::find().filter(user::Column::Id.is_in(ids.clone())).all(&state.db).await?;
    Ok(ids
        .iter()
        .filter_map(|id| people.iter().find(|p| p.id == *id))
        .map(|p| format!("{} ({})", p.full_name, p.username))
        .collect())
}

/// The event a record rests on.
fn anchor(t: &Timeline, kind: RecordKind) -> ApiResult<&TimelineEvent> {
    let not_yet = |what: &str| ApiError::Conflict(format!("the request has no {what} yet").into());
    let last = |action: &str| t.events.iter().rev().find(|e| e.action == action);
    match kind {
        RecordKind::Receipt => last("request.submitted").ok_or_else(|| not_yet("registration (it is a draft)")),
        // The disposition is the step whose output carries instructions (whichever step
        // the definition gives that output to).
        RecordKind::DispositionSheet => t
            .events
            .iter()
            .rev()
            .find(|e| e.details["output"]["instructions"].is_array())
            .ok_or_else(|| not_yet("disposition")),
        RecordKind::Dossier => t.events.last().ok_or_else(|| not_yet("event")),
        RecordKind::FinalReportCover => {
            if t.request.status != Status::Completed {
                return Err(not_yet("final report (it is not completed)"));
            }
            last("request.completed").ok_or_else(|| not_yet("final report"))
        }
    }
}

/// An official's electronic signature on a record, through BSrE.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"nik": "3503010101800001", "passphrase": "rahasia-bsre"}))]
pub struct BsreSignature {
    /// The official's NIK (16 digits): BSrE signs with the certificate issued to it.
    #[schema(pattern = "^[0-9]{16}$", min_length = 16, max_length = 16)]
    pub nik: String,
    /// The official's BSrE passphrase: passed to BSrE, never stored or logged.
    #[schema(min_length = 1, max_length = 256)]
    pub passphrase: String,
}

impl std::fmt::Debug for BsreSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BsreSignature").finish_non_exhaustive()
    }
}

/// The record signed by the official with BSrE (PAdES, invisible), and its file name. What
/// is signed is the applicant's copy (no internal note): a signed record is made to be
/// handed on, and BSrE sees what it signs. The signing is recorded in the audit trail
/// (which record, the SHA-256 of what was signed and of the signed file), never the NIK or
/// the passphrase.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id, kind = kind.file_stem()))]
pub async fn sign_with_bsre(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    kind: RecordKind,
    body: BsreSignature,
) -> ApiResult<(Vec<u8>, String)> {
    if body.nik.len() != 16 || !body.nik.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid("nik", crate::msg!("bsre-nik-shape")));
    }
    if body.passphrase.is_empty() || body.passphrase.len() > 256 {
        return Err(ApiError::invalid("passphrase", crate::msg!("bsre-passphrase")));
    }
    let bsre = state.bsre.as_ref().ok_or_else(|| ApiError::NotImplemented(crate::msg!("bsre-not-enabled")))?;
    let request = super::requests::load_visible(&state.db, caller, id).await?;
    let applicants_view = Caller {
        roles: vec![crate::workflow::Role::Applicant],
        organization_id: request.organization_id,
        session_id: None,
        ..caller.clone()
    };
    let (pdf, filename) = render(state, &applicants_view, id, kind).await?;
    let reason = format!("{} — {}", kind.title(), filename.trim_end_matches(".pdf"));
    let signed = bsre.sign_pdf(&pdf, &body.nik, &body.passphrase, &reason).await.map_err(|e| match e {
        BsreError::Refused(ref why) => ApiError::Unprocessable {
            detail: e.to_string().into(),
            errors: [("passphrase".to_owned(), vec![why.clone().into()])].into_iter().collect(),
        },
        BsreError::Unavailable(_) => ApiError::UpstreamUnavailable(e.to_string().into()),
    })?;
    let txn = crate::db::begin_write(&state.db).await?;
    super::audit::append(
        &txn,
        state.now(),
        super::audit::Actor::from(caller),
        "request.record_signed",
        "request",
        id,
        serde_json::json!({"record": kind.file_stem(), "via": "bsre", "record_sha256": sha256_hex(&pdf),
                           "signed_sha256": sha256_hex(&signed)}),
    )
    .await?;
    txn.commit().await?;
    Ok((signed, filename.replace(".pdf", "-ttd.pdf")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standards_and_roles_read_as_the_sop_writes_them() {
        assert_eq!(standard("1-2d"), "1–2 hari kerja");
        assert_eq!(standard("1w"), "1 minggu kerja");
        assert_eq!(standard("30m"), "30 menit kerja");
        assert_eq!(role_name("role:head_of_agency"), "Kepala Dinas");
        assert_eq!(role_name("team"), "Tim Integrasi");
        assert_eq!(working(3 * 3600 + 25 * 60 + 59), "3 jam 25 menit kerja");
        assert_eq!(at("2026-12-07T02:05:00Z".parse().unwrap()), "7 Desember 2026 09:05 WIB");
    }
}
