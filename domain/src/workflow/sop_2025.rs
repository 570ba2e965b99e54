//! Version 1 of both flows: SOP Integrasi Sistem Informasi No. 000.8.3.3/027/SOP/406.020/2025
//! of Diskominfo Trenggalek, in force from 7 January 2025 (`shared/seed/…-2025.txt`).
//!
//! Activity, Kelengkapan, Output and Waktu are copied verbatim from the SOP's two tables
//! (including their inconsistent capitalisation). The actors follow
//! `shared/design/sop.md`, since the text copy of the SOP lost the flowchart marks.
//!
//! # Required outputs, read from the SOP's Output column
//! A step must leave behind what its Output column names, unless that thing already
//! exists from an earlier step (documents count only when uploaded while the step is
//! current, so carrying a letter forward must not force a re-upload).
//!
//! | step | external | internal |
//! |---|---|---|
//! | submit | `request_letter` ("Surat Permohonan" in, "Surat Keluar" out: the same letter) | `application_document` + `meeting_minutes` (in: "Dokumen Aplikasi"; out: "Notulen Rapat", which step 2 reviews, so it must exist once step 1 is done) |
//! | disposition | structured `disposition` ("… dan Disposisi"; a `disposition_sheet` scan may be added, not required) | structured `disposition` + `request_letter` (out: "Surat Permohonan Integrasi SI": the internal letter is first written here, and step 3 needs it) |
//! | follow_up | nothing beyond the note: its output "Surat Permohonan dan Disposisi" is its input carried forward | same |
//! | discussion | `formulation` ("Dokumen Rumusan Integrasi") | `formulation` ("Dokumentasi Rumusan Integrasi") |
//! | approval | nothing: the head of agency completing the step *is* the approval, recorded as an event with actor and time; its output is the letter + disposition carried forward | — |
//! | team | structured `team` + `api_document` ("Daftar Tim, Dokumen API Aplikasi") | same |
//! | integration | structured `integration_record` ("Program Aplikasi API": a base URL, not a file) | same |
//! | testing | `test_report` + structured `test_result`; failure goes back to `integration` | same |
//! | implementation | `integration_report` ("Laporan hasil integrasi Aplikasi") | same |
//! | report | `final_report` ("Dokumen Pelaporan") | same |
//!
//! Return and reject are open at the office's review steps before the go-ahead
//! (disposition, follow-up, discussion and, externally, approval: SOP steps 2–5 of the
//! external table, 2–4 of the internal one). After the team is formed the office has
//! committed; problems then go round the test loop instead.

use chrono::NaiveDate;

use super::definition::{StepDefinition, WorkflowDefinition};
use super::model::{Actor, DocumentKind as Doc, Flow, Role, StepCode, StructuredOutputKind as Out};
use crate::calendar::standard::TimeStandard;

/// "Nomor SOP", without the spaces the signed copy has around the serial number.
pub const SOP_NUMBER: &str = "000.8.3.3/027/SOP/406.020/2025";

/// "Tanggal Efektif": 07 Januari 2025.
pub fn sop_effective_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 7).expect("7 January 2025 is a date")
}

/// Both flows, external first.
pub fn all() -> [WorkflowDefinition; 2] {
    [external(), internal()]
}

/// The definition of `flow`, version 1.
pub fn for_flow(flow: Flow) -> WorkflowDefinition {
    match flow {
        Flow::External => external(),
        Flow::Internal => internal(),
    }
}

/// "INTEGRASI SISTEM INFORMASI DARI EKSTERNAL" (10 steps).
pub fn external() -> WorkflowDefinition {
    use StepCode::*;
    let steps = vec![
        Row {
            code: Submit,
            activity: "Mengajukan permohonan Integrasi SI",
            label: "Submit the integration request",
            actor: role(Role::Applicant),
            inputs: &["Surat Permohonan"],
            output: "Surat Keluar",
            documents: &[Doc::RequestLetter],
            outputs: &[],
            time: "1d",
        },
        Row {
            code: Disposition,
            activity: "Menelaah surat Permohonan dan Disposisi petunjuk",
            label: "Review the letter and issue a disposition",
            actor: role(Role::HeadOfDivision),
            inputs: &["Surat Masuk"],
            output: "Surat Permohonan dan Disposisi",
            documents: &[],
            outputs: &[Out::Disposition],
            time: "15m",
        },
        Row {
            code: FollowUp,
            activity: "Menelaah surat permohonan dan menindaklanjuti Disposisi",
            label: "Review the letter and act on the disposition",
            actor: role(Role::TechnicalLead),
            inputs: &["Surat Masuk", "Disposisi"],
            output: "Surat Permohonan dan Disposisi",
            documents: &[],
            outputs: &[],
            time: "15m",
        },
        Row {
            code: Discussion,
            activity: "Melakukan pembahasan integrasi SI",
            label: "Hold the integration discussion",
            actor: role(Role::TechnicalLead),
            inputs: &["Surat Permohonan", "Disposisi"],
            output: "Dokumen Rumusan Integrasi",
            documents: &[Doc::Formulation],
            outputs: &[],
            time: "1d",
        },
        Row {
            code: Approval,
            activity: "Menyetujui Tindakan lanjut Integrasi SI",
            label: "Approve going ahead with the integration",
            actor: role(Role::HeadOfAgency),
            inputs: &["Surat Permohonan", "Disposisi"],
            output: "Surat Permohonan dan Disposisi",
            documents: &[],
            outputs: &[],
            time: "1d",
        },
        Row {
            code: Team,
            activity: "Membentuk Tim Integrasi SI",
            label: "Form the integration team",
            actor: role(Role::HeadOfDivision),
            inputs: &["Dokumen Rumusan Integrasi"],
            output: "Daftar Tim, Dokumen API Aplikasi",
            documents: &[Doc::ApiDocument],
            outputs: &[Out::Team],
            time: "1h",
        },
        Row {
            code: Integration,
            activity: "Melakukan Proses Integrasi SI",
            label: "Build the integration",
            actor: Actor::Team,
            inputs: &["Komputer", "Dokumen API Aplikasi"],
            output: "Program Aplikasi API",
            documents: &[],
            outputs: &[Out::IntegrationRecord],
            time: "1w",
        },
        Row {
            code: Testing,
            activity: "Pengujian integrasi SI",
            label: "Test the integration",
            actor: Actor::Team,
            inputs: &["Program Aplikasi"],
            output: "Laporan hasil pengujian",
            documents: &[Doc::TestReport],
            outputs: &[Out::TestResult],
            time: "1-2d",
        },
        Row {
            code: Implementation,
            activity: "Implementasi SI",
            label: "Put the integration into production",
            actor: Actor::Team,
            inputs: &["Integrasi Sistem Informasi"],
            output: "Laporan hasil integrasi Aplikasi",
            documents: &[Doc::IntegrationReport],
            outputs: &[],
            time: "2d",
        },
        Row {
            code: Report,
            activity: "Pelaporan",
            label: "Report",
            actor: role(Role::TechnicalLead),
            inputs: &["Laporan hasil Implementasi"],
            output: "Dokumen Pelaporan",
            documents: &[Doc::FinalReport],
            outputs: &[],
            time: "1d",
        },
    ];
    definition(Flow::External, "Integrasi Sistem Informasi dari Eksternal", steps)
}

/// "INTEGRASI SISTEM INFORMASI DARI INTERNAL" (9 steps: no approval by the head of agency).
pub fn internal() -> WorkflowDefinition {
    use StepCode::*;
    let steps = vec![
        Row {
            code: Submit,
            activity: "Mengajukan Permohonan Integrasi SI Unit Kerja",
            label: "Submit the division's integration request",
            actor: role(Role::Applicant),
            inputs: &["Dokumen Aplikasi"],
            output: "Notulen Rapat",
            documents: &[Doc::ApplicationDocument, Doc::MeetingMinutes],
            outputs: &[],
            time: "1d",
        },
        Row {
            code: Disposition,
            activity: "Menelaah Surat Permohonan dan Disposisi Petunjuk",
            label: "Review the request, write the letter and issue a disposition",
            actor: role(Role::HeadOfDivision),
            inputs: &["Notulen Rapat"],
            output: "Surat Permohonan Integrasi Sistem Informasi",
            documents: &[Doc::RequestLetter],
            outputs: &[Out::Disposition],
            time: "15m",
        },
        Row {
            code: FollowUp,
            activity: "Menelaah Surat Permohonan dan Menindaklanjuti Disposisi",
            label: "Review the letter and act on the disposition",
            actor: role(Role::TechnicalLead),
            inputs: &["Surat Permohonan Integrasi Sistem Informasi"],
            output: "Surat Permohonan dan Disposisi",
            documents: &[],
            outputs: &[],
            // Not a typo: the internal table gives this step a day, not 15 minutes.
            time: "1d",
        },
        Row {
            code: Discussion,
            activity: "Melakukan Pembahasan Integrasi SI",
            label: "Hold the integration discussion",
            actor: role(Role::TechnicalLead),
            inputs: &["Surat Permohonan", "Disposisi"],
            output: "Dokumentasi Rumusan Integrasi",
            documents: &[Doc::Formulation],
            outputs: &[],
            time: "1d",
        },
        Row {
            code: Team,
            activity: "Membentuk Tim Integrasi SI",
            label: "Form the integration team",
            actor: role(Role::HeadOfDivision),
            inputs: &["Dokumen Rumusan Integrasi"],
            output: "Daftar Tim, Dokumentasi API Aplikasi",
            documents: &[Doc::ApiDocument],
            outputs: &[Out::Team],
            time: "1h",
        },
        Row {
            code: Integration,
            activity: "Melakukan Proses Integrasi SI",
            label: "Build the integration",
            actor: Actor::Team,
            inputs: &["Komputer", "Dokumentasi API Aplikasi"],
            output: "Program Aplikasi API",
            documents: &[],
            outputs: &[Out::IntegrationRecord],
            time: "1w",
        },
        Row {
            code: Testing,
            activity: "Pengujian Integrasi SI",
            label: "Test the integration",
            actor: Actor::Team,
            inputs: &["Program Aplikasi API"],
            output: "Laporan Hasil Pengujian",
            documents: &[Doc::TestReport],
            outputs: &[Out::TestResult],
            time: "1-2d",
        },
        Row {
            code: Implementation,
            activity: "Implementasi SI",
            label: "Put the integration into production",
            actor: Actor::Team,
            inputs: &["Integrasi Sistem Informasi"],
            output: "Laporan hasil Integrasi Aplikasi",
            documents: &[Doc::IntegrationReport],
            outputs: &[],
            time: "2d",
        },
        Row {
            code: Report,
            activity: "Pelaporan",
            label: "Report",
            actor: role(Role::TechnicalLead),
            inputs: &["Laporan hasil implementasi"],
            output: "Dokumen Pelaporan",
            documents: &[Doc::FinalReport],
            outputs: &[],
            time: "1d",
        },
    ];
    definition(Flow::Internal, "Integrasi Sistem Informasi dari Internal", steps)
}

/// One SOP table row as written above; the rules shared by both tables (numbering,
/// return/reject, the test loop) are applied once, in `definition`.
struct Row {
    code: StepCode,
    activity: &'static str,
    label: &'static str,
    actor: Actor,
    inputs: &'static [&'static str],
    output: &'static str,
    documents: &'static [Doc],
    outputs: &'static [Out],
    time: &'static str,
}

const fn role(role: Role) -> Actor {
    Actor::Role(role)
}

fn definition(flow: Flow, name: &str, rows: Vec<Row>) -> WorkflowDefinition {
    use StepCode::*;
    let steps = rows
        .into_iter()
        .zip(1u16..)
        .map(|(row, order)| {
            let reviewable = matches!(row.code, Disposition | FollowUp | Discussion | Approval);
            StepDefinition {
                code: row.code,
                order,
                sop_activity: row.activity.to_owned(),
                label: row.label.to_owned(),
                actor: row.actor,
                required_inputs: row.inputs.iter().map(|s| (*s).to_owned()).collect(),
                output: row.output.to_owned(),
                required_documents: row.documents.to_vec(),
                // What the SOP's columns mention without making it a must.
                may_upload: match row.code {
                    Submit => vec![Doc::RequestLetter, Doc::ApplicationDocument, Doc::MeetingMinutes],
                    Disposition => vec![Doc::DispositionSheet],
                    Discussion => vec![Doc::MeetingMinutes],
                    _ => vec![],
                },
                structured_outputs: row.outputs.to_vec(),
                time_standard: row
                    .time
                    .parse::<TimeStandard>()
                    .expect("the SOP's time standards are written in the accepted syntax"),
                may_return: reviewable,
                may_reject: reviewable,
                on_failure: (row.code == Testing).then_some(Integration),
                // After the go-ahead the office does not return to the applicant, but the
                // head of agency may ask for another discussion, and a failed go-live goes
                // back to the build like a failed test.
                send_back_to: match row.code {
                    Approval => Some(Discussion),
                    Implementation => Some(Integration),
                    _ => None,
                },
                // A letter the division attached to its draft is the letter the
                // internal disposition must produce: it is not uploaded twice.
                accept_from_earlier: match (flow, row.code) {
                    (Flow::Internal, Disposition) => vec![Doc::RequestLetter],
                    _ => vec![],
                },
                // The disposition names who reviews and discusses the letter.
                actor_from_disposition: matches!(row.code, FollowUp | Discussion),
            }
        })
        .collect();
    WorkflowDefinition {
        flow,
        version: 1,
        name: name.to_owned(),
        sop_number: SOP_NUMBER.to_owned(),
        sop_effective_date: sop_effective_date(),
        steps,
        escalation: super::definition::default_escalation(),
        may_cancel: super::definition::default_may_cancel(),
        office_division: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StepCode::*;

    /// Expected values written out per flow, independent of the builder above.
    type Expect = (
        StepCode,
        &'static str, // actor
        &'static str, // time standard
        &'static [Doc],
        &'static [Out],
        bool, // may return and reject
    );

    const EXTERNAL: &[Expect] = &[
        (Submit, "applicant", "1d", &[Doc::RequestLetter], &[], false),
        (Disposition, "head_of_division", "15m", &[], &[Out::Disposition], true),
        (FollowUp, "technical_lead", "15m", &[], &[], true),
        (Discussion, "technical_lead", "1d", &[Doc::Formulation], &[], true),
        (Approval, "head_of_agency", "1d", &[], &[], true),
        (Team, "head_of_division", "1h", &[Doc::ApiDocument], &[Out::Team], false),
        (Integration, "team", "1w", &[], &[Out::IntegrationRecord], false),
        (Testing, "team", "1-2d", &[Doc::TestReport], &[Out::TestResult], false),
        (Implementation, "team", "2d", &[Doc::IntegrationReport], &[], false),
        (Report, "technical_lead", "1d", &[Doc::FinalReport], &[], false),
    ];

    const INTERNAL: &[Expect] = &[
        (Submit, "applicant", "1d", &[Doc::ApplicationDocument, Doc::MeetingMinutes], &[], false),
        (Disposition, "head_of_division", "15m", &[Doc::RequestLetter], &[Out::Disposition], true),
        (FollowUp, "technical_lead", "1d", &[], &[], true),
        (Discussion, "technical_lead", "1d", &[Doc::Formulation], &[], true),
        (Team, "head_of_division", "1h", &[Doc::ApiDocument], &[Out::Team], false),
        (Integration, "team", "1w", &[], &[Out::IntegrationRecord], false),
        (Testing, "team", "1-2d", &[Doc::TestReport], &[Out::TestResult], false),
        (Implementation, "team", "2d", &[Doc::IntegrationReport], &[], false),
        (Report, "technical_lead", "1d", &[Doc::FinalReport], &[], false),
    ];

    fn check(def: &WorkflowDefinition, flow: Flow, expected: &[Expect]) {
        assert_eq!(def.flow, flow);
        assert_eq!(def.version, 1);
        assert_eq!(def.sop_number, "000.8.3.3/027/SOP/406.020/2025");
        assert_eq!(def.sop_effective_date.to_string(), "2025-01-07");
        assert_eq!(def.steps.len(), expected.len());
        for (i, (step, exp)) in def.steps.iter().zip(expected).enumerate() {
            let (code, actor, time, documents, outputs, reviewable) = *exp;
            assert_eq!(step.code, code);
            assert_eq!(usize::from(step.order), i + 1, "{code}");
            assert_eq!(step.actor.as_str(), actor, "{code}");
            assert_eq!(step.time_standard.to_string(), time, "{code}");
            assert_eq!(step.required_documents, documents, "{code}");
            assert_eq!(step.structured_outputs, outputs, "{code}");
            assert_eq!((step.may_return, step.may_reject), (reviewable, reviewable));
            let on_failure = if code == Testing { Some(Integration) } else { None };
            assert_eq!(step.on_failure, on_failure, "{code}");
            assert!(!step.sop_activity.is_empty() && !step.label.is_empty());
            assert!(!step.required_inputs.is_empty() && !step.output.is_empty());
        }
    }

    #[test]
    fn external_is_the_sops_first_table() {
        check(&external(), Flow::External, EXTERNAL);
        assert_eq!(
            external().step(Approval).map(|s| s.sop_activity.as_str()),
            Some("Menyetujui Tindakan lanjut Integrasi SI")
        );
    }

    #[test]
    fn internal_is_the_sops_second_table() {
        check(&internal(), Flow::Internal, INTERNAL);
        assert_eq!(
            internal().step(Submit).map(|s| s.sop_activity.as_str()),
            Some("Mengajukan Permohonan Integrasi SI Unit Kerja")
        );
    }

    #[test]
    fn lookups() {
        assert_eq!(for_flow(Flow::External), external());
        assert_eq!(for_flow(Flow::Internal), internal());
        assert_eq!(all().map(|d| d.flow), [Flow::External, Flow::Internal]);
    }
}
