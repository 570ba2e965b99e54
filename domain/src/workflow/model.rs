//! The workflow vocabulary: the fixed names of `shared/design/api.md` as types.
//!
//! Every name here is part of the public contract (clients, stored rows and published
//! definitions use them), so each enum has exactly one spelling, used by serde, by
//! `as_str`, by `Display` and by `FromStr` alike: the `vocabulary!` macro generates all
//! four from one list so they cannot drift apart.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A name that is not part of the vocabulary (e.g. `?status=archived`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a known {what}")]
pub struct UnknownName {
    /// What was being parsed, e.g. "role".
    pub what: &'static str,
    pub value: String,
}

/// Declares a field-less enum whose variants have one wire name each, and derives
/// serde, `as_str`, `Display`, `FromStr` and `ALL` from that single list.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name (snake_case), as in `shared/design/api.md`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(UnknownName { what: $what, value: s.to_owned() }),
                }
            }
        }
    };
}

vocabulary! {
    /// A user's role (the SOP's "Pelaksana" columns, plus two roles needed to run it).
    Role ("role") {
        /// PD Pemohon (an agency) or Unit Kerja (a Diskominfo division) asking for integration.
        Applicant = "applicant",
        /// Kepala Bidang.
        HeadOfDivision = "head_of_division",
        /// Kepala Seksi / Tim Teknis IT.
        TechnicalLead = "technical_lead",
        /// IT engineers who can be named on an integration team.
        TechnicalStaff = "technical_staff",
        /// Kepala Dinas.
        HeadOfAgency = "head_of_agency",
        /// System administrator: manages the directory and definitions, acts on no step
        /// unless a definition names it.
        Admin = "admin",
        /// Read-only oversight (inspectorate): never acts.
        Auditor = "auditor",
    }
}

vocabulary! {
    /// Which of the SOP's two tables a request follows; the key of a workflow definition.
    Flow ("flow") {
        /// "Integrasi Sistem Informasi dari Eksternal": requested by an agency.
        External = "external",
        /// "Integrasi Sistem Informasi dari Internal": requested by a Diskominfo division.
        Internal = "internal",
    }
}

vocabulary! {
    /// A step of a flow. The codes are shared by both flows so that reports can compare
    /// them; `approval` exists only in the external flow.
    StepCode ("step code") {
        Submit = "submit",
        Disposition = "disposition",
        FollowUp = "follow_up",
        Discussion = "discussion",
        Approval = "approval",
        Team = "team",
        Integration = "integration",
        Testing = "testing",
        Implementation = "implementation",
        Report = "report",
    }
}

vocabulary! {
    /// What an uploaded document is; a step's required documents are named by kind.
    DocumentKind ("document kind") {
        /// Surat Permohonan (Integrasi SI).
        RequestLetter = "request_letter",
        /// Dokumen Aplikasi.
        ApplicationDocument = "application_document",
        /// Notulen Rapat.
        MeetingMinutes = "meeting_minutes",
        /// Lembar Disposisi (a scan of the paper disposition, if there is one).
        DispositionSheet = "disposition_sheet",
        /// Dokumen Rumusan Integrasi.
        Formulation = "formulation",
        /// Dokumen API Aplikasi.
        ApiDocument = "api_document",
        /// Laporan Hasil Pengujian.
        TestReport = "test_report",
        /// Laporan Hasil Integrasi Aplikasi.
        IntegrationReport = "integration_report",
        /// Dokumen Pelaporan.
        FinalReport = "final_report",
        Other = "other",
    }
}

vocabulary! {
    /// Where a request stands.
    Status ("status") {
        /// Created, not yet submitted; only the applicant sees and edits it.
        Draft = "draft",
        /// Submitted; the current step's actor is working on it.
        InProgress = "in_progress",
        /// Sent back to the applicant for revision; the office's clock is paused.
        Returned = "returned",
        /// Refused by an office actor. Final.
        Rejected = "rejected",
        /// Taken back by the applicant. Final.
        Withdrawn = "withdrawn",
        /// Every step done. Final.
        Completed = "completed",
        /// Closed by the office at an open step (e.g. the target system was retired). Final.
        Cancelled = "cancelled",
    }
}

impl Role {
    /// The roles that belong to a division of the office: they act only for the flows
    /// routed to their division (`WorkflowDefinition::office_division`).
    pub const fn is_divisional(self) -> bool {
        matches!(self, Role::HeadOfDivision | Role::TechnicalLead | Role::TechnicalStaff)
    }
}

impl Status {
    /// Final statuses admit no action at all.
    pub const fn is_final(self) -> bool {
        matches!(self, Status::Rejected | Status::Withdrawn | Status::Completed | Status::Cancelled)
    }
}

vocabulary! {
    /// A structured (non-document) output a step may require, supplied in the body of
    /// the transition call rather than as an upload.
    StructuredOutputKind ("structured output kind") {
        /// Recipient and instructions of a disposition.
        Disposition = "disposition",
        /// The integration team: lead and members.
        Team = "team",
        /// The built API program: base URL (and repository).
        IntegrationRecord = "integration_record",
        /// Passed or failed.
        TestResult = "test_result",
    }
}

vocabulary! {
    /// How a step instance ended, as its row records it.
    StepOutcome ("step outcome") {
        Completed = "completed",
        /// Testing found faults; the request went back (a new round of the failure loop).
        TestFailed = "test_failed",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
        /// The office closed the request while this step was open.
        Cancelled = "cancelled",
        /// The actor sent the request back to an earlier step (`send_back_to`), e.g. the
        /// head of agency to the discussion, or a failed implementation to integration.
        SentBack = "sent_back",
    }
}

vocabulary! {
    /// What happened in one decision; the audit trail and the timeline record it.
    EventKind ("event kind") {
        Submitted = "submitted",
        StepCompleted = "step_completed",
        Returned = "returned",
        Resubmitted = "resubmitted",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
        TestFailed = "test_failed",
        Completed = "completed",
        Edited = "edited",
        Cancelled = "cancelled",
        SentBack = "sent_back",
        /// The integration team was changed while the request was open.
        TeamChanged = "team_changed",
        /// The disposition's addressees were changed while their step was open.
        Redisposed = "redisposed",
    }
}

vocabulary! {
    /// Who may read a comment or a step's note.
    Visibility ("visibility") {
        /// Everyone who sees the request, the applicant included.
        Public = "public",
        /// The office only: never shown to the applicant or the agency's systems.
        Internal = "internal",
    }
}

impl Default for Visibility {
    /// What a note was before it had a visibility: the applicant saw every note.
    fn default() -> Self {
        Visibility::Public
    }
}

vocabulary! {
    /// How someone comes to act for another official.
    ActingKind ("acting kind") {
        /// Pelaksana Tugas: fills a vacant or long-absent post, by letter.
        Plt = "plt",
        /// Pelaksana Harian: stands in for a few days of leave or travel, by letter.
        Plh = "plh",
        /// The official hands their own tasks to someone for a while.
        Delegation = "delegation",
    }
}

vocabulary! {
    /// The instructions a disposition may carry: the fixed list printed on a
    /// government disposition sheet ("lembar disposisi").
    DispositionInstruction ("disposition instruction") {
        TindakLanjuti = "tindak_lanjuti",
        Koordinasikan = "koordinasikan",
        TelaahDanSaran = "telaah_dan_saran",
        SiapkanBahan = "siapkan_bahan",
        UntukDiketahui = "untuk_diketahui",
        HadiriMewakili = "hadiri_mewakili",
        Arsipkan = "arsipkan",
    }
}

impl DispositionInstruction {
    /// The wording as printed on the sheet.
    pub const fn indonesian(self) -> &'static str {
        match self {
            Self::TindakLanjuti => "Tindak lanjuti",
            Self::Koordinasikan => "Koordinasikan",
            Self::TelaahDanSaran => "Telaah dan saran",
            Self::SiapkanBahan => "Siapkan bahan",
            Self::UntukDiketahui => "Untuk diketahui",
            Self::HadiriMewakili => "Hadiri / mewakili",
            Self::Arsipkan => "Arsipkan",
        }
    }

    /// An English gloss for readers who do not read Indonesian.
    pub const fn english(self) -> &'static str {
        match self {
            Self::TindakLanjuti => "Follow up",
            Self::Koordinasikan => "Coordinate",
            Self::TelaahDanSaran => "Review and advise",
            Self::SiapkanBahan => "Prepare the materials",
            Self::UntukDiketahui => "For your information",
            Self::HadiriMewakili => "Attend / represent",
            Self::Arsipkan => "File for the record",
        }
    }
}

/// Who acts on a step: holders of a role, or the integration team of the request.
///
/// Serialized as `{"role": "technical_lead"}` or `"team"`: the team is not a role (it is
/// named per request in the step whose output is `team`), so it gets its own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Role(Role),
    Team,
}

/// Written by hand: the derived schema lets the `{"role": …}` object carry other keys,
/// which serde refuses (an externally tagged variant is a map with exactly one key).
impl utoipa::PartialSchema for Actor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::ToSchema;
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
        let role = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("role", utoipa::openapi::Ref::from_schema_name(Role::name()))
            .required("role")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let team = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["team"]));
        OneOfBuilder::new()
            .item(role)
            .item(team)
            .description(Some(
                "Who acts on a step: the holders of a role (`{\"role\": \"technical_lead\"}`), \
                 or the request's integration team (`\"team\"`).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Actor {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push((Role::name().into_owned(), Role::schema()));
        Role::schemas(schemas);
    }
}

impl Actor {
    /// The acting role, if the actor is a role.
    pub const fn role(self) -> Option<Role> {
        match self {
            Actor::Role(r) => Some(r),
            Actor::Team => None,
        }
    }

    /// The role name, or `team` (what `current_step.actor_role` shows).
    pub const fn as_str(self) -> &'static str {
        match self {
            Actor::Role(r) => r.as_str(),
            Actor::Team => "team",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Actor {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "team" => Ok(Actor::Team),
            _ => s.parse().map(Actor::Role).map_err(|_| UnknownName { what: "actor", value: s.to_owned() }),
        }
    }
}

/// The most people a disposition or a team names: an office's section, not its directory
/// (and each one costs rows, notices and mail in the transition's transaction).
pub const MAX_NAMED: usize = 20;

/// The result of the testing step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestOutcome {
    Passed,
    Failed,
}

/// A disposition: instructions, and the people it is addressed to (none: every holder of
/// the next step's role; SRIKANDI allows several addressees).
///
/// `U` is the user id type (the service uses `Uuid`); generic so that this module needs
/// no id crate. Field names follow the transition bodies of `api.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disposition<U> {
    pub instructions: Vec<DispositionInstruction>,
    #[serde(default = "Vec::new")]
    pub to_user_ids: Vec<U>,
}

/// The integration team ("Daftar Tim"): a lead and the other members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamList<U> {
    pub lead_user_id: U,
    pub member_user_ids: Vec<U>,
}

/// The built API program ("Program Aplikasi API").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationRecord {
    pub base_url: String,
    pub repository_url: Option<String>,
}

/// The test result ("Laporan Hasil Pengujian" carries the report; this the verdict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TestResult {
    pub result: TestOutcome,
}

/// A structured output with its content, as supplied in a transition body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StructuredOutput<U> {
    Disposition(Disposition<U>),
    Team(TeamList<U>),
    IntegrationRecord(IntegrationRecord),
    TestResult(TestResult),
}

/// Why a structured output's content is unusable (HTTP 422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    #[error("a disposition needs at least one instruction")]
    NoInstructions,
    #[error("instruction `{0}` is given twice")]
    DuplicateInstruction(DispositionInstruction),
    #[error("a team member is named twice (the lead counts as a member)")]
    DuplicateMember,
    #[error("an addressee is named twice")]
    DuplicateAddressee,
    #[error("at most {max} people may be named")]
    TooManyPeople { max: usize },
    #[error("`{field}` must be an absolute http(s) URL")]
    InvalidUrl { field: &'static str },
}

impl<U> StructuredOutput<U> {
    pub const fn kind(&self) -> StructuredOutputKind {
        match self {
            StructuredOutput::Disposition(_) => StructuredOutputKind::Disposition,
            StructuredOutput::Team(_) => StructuredOutputKind::Team,
            StructuredOutput::IntegrationRecord(_) => StructuredOutputKind::IntegrationRecord,
            StructuredOutput::TestResult(_) => StructuredOutputKind::TestResult,
        }
    }
}

impl<U: PartialEq> StructuredOutput<U> {
    /// Checks what can be checked without the database; whether the named users exist
    /// and may serve is the service's job.
    pub fn validate(&self) -> Result<(), OutputError> {
        match self {
            StructuredOutput::Disposition(d) => {
                if d.instructions.is_empty() {
                    return Err(OutputError::NoInstructions);
                }
                for (i, ins) in d.instructions.iter().enumerate() {
                    if d.instructions[..i].contains(ins) {
                        return Err(OutputError::DuplicateInstruction(*ins));
                    }
                }
                if d.to_user_ids.len() > MAX_NAMED {
                    return Err(OutputError::TooManyPeople { max: MAX_NAMED });
                }
                for (i, u) in d.to_user_ids.iter().enumerate() {
                    if d.to_user_ids[..i].contains(u) {
                        return Err(OutputError::DuplicateAddressee);
                    }
                }
                Ok(())
            }
            StructuredOutput::Team(t) => {
                if t.member_user_ids.len() + 1 > MAX_NAMED {
                    return Err(OutputError::TooManyPeople { max: MAX_NAMED });
                }
                let all: Vec<&U> = std::iter::once(&t.lead_user_id).chain(&t.member_user_ids).collect();
                for (i, u) in all.iter().enumerate() {
                    if all[..i].contains(u) {
                        return Err(OutputError::DuplicateMember);
                    }
                }
                Ok(())
            }
            StructuredOutput::IntegrationRecord(r) => {
                if !is_http_url(&r.base_url) {
                    return Err(OutputError::InvalidUrl { field: "base_url" });
                }
                match &r.repository_url {
                    Some(url) if !is_http_url(url) => Err(OutputError::InvalidUrl { field: "repository_url" }),
                    _ => Ok(()),
                }
            }
            StructuredOutput::TestResult(_) => Ok(()),
        }
    }
}

/// `http://host…` or `https://host…` without whitespace: enough to catch a pasted note
/// or a relative path; full URL parsing is not worth a dependency here.
fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty() && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Serde, `as_str`, `Display` and `FromStr` agree for every variant of `T`.
    fn agrees<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy + fmt::Debug + PartialEq + Serialize + serde::de::DeserializeOwned + FromStr,
        T: fmt::Display,
        <T as FromStr>::Err: fmt::Debug,
    {
        for &v in all {
            let name = as_str(v);
            assert_eq!(serde_json::to_value(v).unwrap(), json!(name));
            assert_eq!(serde_json::from_value::<T>(json!(name)).unwrap(), v);
            assert_eq!(name.parse::<T>().unwrap(), v);
            assert_eq!(v.to_string(), name);
        }
        assert!("No Such Name".parse::<T>().is_err());
        assert!(serde_json::from_value::<T>(json!("No Such Name")).is_err());
    }

    #[test]
    fn wire_names_agree_everywhere() {
        agrees(Role::ALL, Role::as_str);
        agrees(Flow::ALL, Flow::as_str);
        agrees(StepCode::ALL, StepCode::as_str);
        agrees(DocumentKind::ALL, DocumentKind::as_str);
        agrees(Status::ALL, Status::as_str);
        agrees(StructuredOutputKind::ALL, StructuredOutputKind::as_str);
        agrees(EventKind::ALL, EventKind::as_str);
        agrees(DispositionInstruction::ALL, DispositionInstruction::as_str);
        agrees(Visibility::ALL, Visibility::as_str);
        agrees(ActingKind::ALL, ActingKind::as_str);
    }

    /// The contract's fixed names, written out: renaming a variant must not rename them.
    #[test]
    fn names_are_the_contracts() {
        let names = |v: Vec<&str>| v.join(",");
        assert_eq!(
            names(Role::ALL.iter().map(|r| r.as_str()).collect()),
            "applicant,head_of_division,technical_lead,technical_staff,head_of_agency,admin,auditor"
        );
        assert_eq!(
            names(StepCode::ALL.iter().map(|r| r.as_str()).collect()),
            "submit,disposition,follow_up,discussion,approval,team,integration,testing,\
             implementation,report"
        );
        assert_eq!(
            names(DocumentKind::ALL.iter().map(|r| r.as_str()).collect()),
            "request_letter,application_document,meeting_minutes,disposition_sheet,formulation,\
             api_document,test_report,integration_report,final_report,other"
        );
        assert_eq!(
            names(Status::ALL.iter().map(|r| r.as_str()).collect()),
            "draft,in_progress,returned,rejected,withdrawn,completed,cancelled"
        );
        assert_eq!(
            names(EventKind::ALL.iter().map(|r| r.as_str()).collect()),
            "submitted,step_completed,returned,resubmitted,rejected,withdrawn,test_failed,\
             completed,edited,cancelled,sent_back,team_changed,redisposed"
        );
        assert_eq!(names(Flow::ALL.iter().map(|r| r.as_str()).collect()), "external,internal");
    }

    #[test]
    fn unknown_names_are_named_in_the_error() {
        let e = "archived".parse::<Status>().unwrap_err();
        assert_eq!(e.to_string(), "`archived` is not a known status");
        assert_eq!("Applicant".parse::<Role>().unwrap_err().to_string(), "`Applicant` is not a known role");
    }

    #[test]
    fn only_rejected_withdrawn_completed_cancelled_are_final() {
        let finals: Vec<Status> = Status::ALL.iter().copied().filter(|s| s.is_final()).collect();
        assert_eq!(finals, [Status::Rejected, Status::Withdrawn, Status::Completed, Status::Cancelled]);
    }

    #[test]
    fn actor_shapes() {
        let lead = Actor::Role(Role::TechnicalLead);
        assert_eq!(serde_json::to_value(lead).unwrap(), json!({"role": "technical_lead"}));
        assert_eq!(serde_json::to_value(Actor::Team).unwrap(), json!("team"));
        assert_eq!(
            serde_json::from_value::<Actor>(json!({"role": "head_of_agency"})).unwrap(),
            Actor::Role(Role::HeadOfAgency)
        );
        assert_eq!(serde_json::from_value::<Actor>(json!("team")).unwrap(), Actor::Team);
        assert!(serde_json::from_value::<Actor>(json!({"role": "team"})).is_err());
        assert!(serde_json::from_value::<Actor>(json!("technical_lead")).is_err());
        for a in Role::ALL.iter().map(|&r| Actor::Role(r)).chain([Actor::Team]) {
            assert_eq!(a.as_str().parse::<Actor>().unwrap(), a);
            assert_eq!(a.to_string(), a.as_str());
        }
        assert_eq!(Actor::Team.role(), None);
        assert_eq!(lead.role(), Some(Role::TechnicalLead));
        assert!("nobody".parse::<Actor>().is_err());
    }

    #[test]
    fn disposition_instructions_have_both_texts() {
        let expected = [
            ("tindak_lanjuti", "Tindak lanjuti", "Follow up"),
            ("koordinasikan", "Koordinasikan", "Coordinate"),
            ("telaah_dan_saran", "Telaah dan saran", "Review and advise"),
            ("siapkan_bahan", "Siapkan bahan", "Prepare the materials"),
            ("untuk_diketahui", "Untuk diketahui", "For your information"),
            ("hadiri_mewakili", "Hadiri / mewakili", "Attend / represent"),
            ("arsipkan", "Arsipkan", "File for the record"),
        ];
        assert_eq!(DispositionInstruction::ALL.len(), expected.len());
        for (code, id, en) in expected {
            let i: DispositionInstruction = code.parse().unwrap();
            assert_eq!((i.indonesian(), i.english()), (id, en));
        }
    }

    #[test]
    fn structured_outputs_know_their_kind_and_shape() {
        let d: StructuredOutput<u32> = StructuredOutput::Disposition(Disposition {
            instructions: vec![DispositionInstruction::TindakLanjuti],
            to_user_ids: vec![7],
        });
        assert_eq!(d.kind(), StructuredOutputKind::Disposition);
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"kind": "disposition", "instructions": ["tindak_lanjuti"], "to_user_ids": [7]})
        );
        let t: StructuredOutput<u32> =
            serde_json::from_value(json!({"kind": "team", "lead_user_id": 1, "member_user_ids": [2, 3]})).unwrap();
        assert_eq!(t.kind(), StructuredOutputKind::Team);
        let r: StructuredOutput<u32> =
            serde_json::from_value(json!({"kind": "integration_record", "base_url": "https://x.go.id"})).unwrap();
        assert_eq!(r.kind(), StructuredOutputKind::IntegrationRecord);
        let p: StructuredOutput<u32> =
            serde_json::from_value(json!({"kind": "test_result", "result": "failed"})).unwrap();
        assert_eq!(p, StructuredOutput::TestResult(TestResult { result: TestOutcome::Failed }));
        assert_eq!(p.kind(), StructuredOutputKind::TestResult);
    }

    #[test]
    fn structured_output_validation() {
        use DispositionInstruction::*;
        let disp = |ins: Vec<DispositionInstruction>| {
            StructuredOutput::<u32>::Disposition(Disposition { instructions: ins, to_user_ids: vec![] }).validate()
        };
        let to = |ids: Vec<u32>| {
            let d = Disposition { instructions: vec![TindakLanjuti], to_user_ids: ids };
            StructuredOutput::Disposition(d).validate()
        };
        assert_eq!(to(vec![1, 2]), Ok(()));
        assert_eq!(to(vec![1, 2, 1]), Err(OutputError::DuplicateAddressee));
        assert_eq!(disp(vec![TindakLanjuti, Koordinasikan]), Ok(()));
        assert_eq!(disp(vec![]), Err(OutputError::NoInstructions));
        assert_eq!(disp(vec![Arsipkan, TindakLanjuti, Arsipkan]), Err(OutputError::DuplicateInstruction(Arsipkan)));

        let team = |lead: u32, members: Vec<u32>| {
            StructuredOutput::Team(TeamList { lead_user_id: lead, member_user_ids: members }).validate()
        };
        assert_eq!(team(1, vec![]), Ok(()));
        assert_eq!(team(1, vec![2, 3]), Ok(()));
        assert_eq!(team(1, vec![2, 1]), Err(OutputError::DuplicateMember));
        assert_eq!(team(1, vec![2, 2]), Err(OutputError::DuplicateMember));
        assert_eq!(team(0, (1..20).collect()), Ok(()));
        assert_eq!(team(0, (1..=20).collect()), Err(OutputError::TooManyPeople { max: 20 }));
        assert_eq!(to((1..=21).collect()), Err(OutputError::TooManyPeople { max: 20 }));

        let rec = |base: &str, repo: Option<&str>| {
            StructuredOutput::<u32>::IntegrationRecord(IntegrationRecord {
                base_url: base.to_owned(),
                repository_url: repo.map(str::to_owned),
            })
            .validate()
        };
        assert_eq!(rec("https://api.trenggalekkab.go.id/v1", None), Ok(()));
        assert_eq!(rec("http://10.0.0.5:8080", Some("https://git.example/x")), Ok(()));
        let base_err = Err(OutputError::InvalidUrl { field: "base_url" });
        for bad in ["", "api.go.id", "https://", "https:///x", "ftp://x", "https://a b", "/v1"] {
            assert_eq!(rec(bad, None), base_err, "{bad:?}");
        }
        assert_eq!(rec("https://a", Some("git@host:x.git")), Err(OutputError::InvalidUrl { field: "repository_url" }));
        let ok = StructuredOutput::<u32>::TestResult(TestResult { result: TestOutcome::Passed });
        assert_eq!(ok.validate(), Ok(()));
    }
}

/// Who may act on a request now, as stored with it: `role:<role>`, `team`, `addressees`
/// (the people a disposition named, listed with the request), or `none` once the request
/// is closed. The one place that spelling is made and read (worklists filter on it, the
/// SLA sweeper notifies by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CurrentActor {
    Step(Actor),
    /// The disposition's addressees, in place of every holder of the step's role.
    Addressees,
    Nobody,
}

impl From<Actor> for CurrentActor {
    fn from(actor: Actor) -> Self {
        CurrentActor::Step(actor)
    }
}

impl fmt::Display for CurrentActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CurrentActor::Step(Actor::Role(r)) => write!(f, "role:{r}"),
            CurrentActor::Step(Actor::Team) => f.write_str("team"),
            CurrentActor::Addressees => f.write_str("addressees"),
            CurrentActor::Nobody => f.write_str("none"),
        }
    }
}

impl FromStr for CurrentActor {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "team" => Ok(CurrentActor::Step(Actor::Team)),
            "none" => Ok(CurrentActor::Nobody),
            "addressees" => Ok(CurrentActor::Addressees),
            _ => s
                .strip_prefix("role:")
                .and_then(|r| r.parse::<Role>().ok())
                .map(|r| CurrentActor::Step(Actor::Role(r)))
                .ok_or_else(|| UnknownName { what: "current actor", value: s.to_owned() }),
        }
    }
}

#[cfg(test)]
mod current_actor_tests {
    use super::*;

    #[test]
    fn current_actors_round_trip_and_refuse_the_unknown() {
        for a in [CurrentActor::Step(Actor::Team), CurrentActor::Addressees, CurrentActor::Nobody]
            .into_iter()
            .chain(Role::ALL.iter().map(|r| CurrentActor::Step(Actor::Role(*r))))
        {
            assert_eq!(a.to_string().parse::<CurrentActor>().unwrap(), a);
        }
        assert_eq!("role:technical_lead".parse::<CurrentActor>().unwrap().to_string(), "role:technical_lead");
        for bad in ["role:nobody", "role:", "Team", ""] {
            assert!(bad.parse::<CurrentActor>().is_err(), "{bad}");
        }
    }
}
