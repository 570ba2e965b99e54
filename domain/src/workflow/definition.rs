//! A flow as data: its steps, who acts on each, what each must produce and how long it
//! may take. A revised SOP is a new definition version (published as JSON by an admin),
//! never a code change; `validate` is what stands between that JSON and running requests.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::model::{Actor, DocumentKind, Flow, Role, StepCode, StructuredOutputKind};
use crate::calendar::standard::TimeStandard;

/// One version of one flow.
///
/// Unknown fields are refused when parsing, so a misspelt `may_retrun` in a published
/// revision is an error instead of a silently ignored rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDefinition {
    pub flow: Flow,
    /// 1, 2, …; requests stay on the version they started with. (Ignored when publishing:
    /// a revision is numbered newest + 1.)
    #[serde(deserialize_with = "crate::integral::integral")]
    pub version: i32,
    pub name: String,
    pub sop_number: String,
    pub sop_effective_date: NaiveDate,
    /// In SOP order; the first is `submit`, completing the last completes the request.
    pub steps: Vec<StepDefinition>,
    /// When a step passes its limit, who is told besides its actor(s): one level up the
    /// office. Left out of a published revision, it is the chain of version 1
    /// (`default_escalation`).
    #[serde(default = "default_escalation")]
    pub escalation: Vec<Escalation>,
    /// Who may close an open request at any step (`cancelled`), with a reason. Left out
    /// of a published revision, it is version 1's: the head of division and the head of
    /// agency.
    #[serde(default = "default_may_cancel")]
    pub may_cancel: Vec<Role>,
    /// The code of the organization (the IT division, Bidang Aptika, for the SOP) whose
    /// heads of division, technical leads and technical staff act on this flow; holders of
    /// those roles in other divisions do not. Left out: any division's (version 1, which
    /// cannot know an installation's codes; an admin names the division by publishing a
    /// revision).
    #[serde(default)]
    #[schema(max_length = 32, example = "APTIKA")]
    pub office_division: Option<String>,
}

/// Version 1: the Kepala Bidang and the Kepala Dinas may close a request at any step.
pub fn default_may_cancel() -> Vec<Role> {
    vec![Role::HeadOfDivision, Role::HeadOfAgency]
}

/// A late step acted on by `from` is escalated to the holders of role `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub from: Actor,
    pub to: Role,
}

/// One level up the office's hierarchy (SOP: Tim Integrasi → Kepala Seksi → Kepala Bidang
/// → Kepala Dinas):
///
/// | step acted on by | escalates to |
/// |---|---|
/// | the request's integration team | `technical_lead` (Kepala Seksi / Tim Teknis) |
/// | `technical_staff` | `technical_lead` |
/// | `technical_lead` | `head_of_division` (Kepala Bidang) |
/// | `head_of_division` | `head_of_agency` (Kepala Dinas) |
/// | `head_of_agency` | `admin`: the Kepala Dinas has no superior in the office, so the system administrators (the secretariat that runs Jembatan) are told, to follow up by hand |
///
/// Applicant steps are never swept (a draft is the applicant's own time; a returned
/// request is paused), and `admin`/`auditor` act on no step, so they have no entry.
pub fn default_escalation() -> Vec<Escalation> {
    [
        (Actor::Team, Role::TechnicalLead),
        (Actor::Role(Role::TechnicalStaff), Role::TechnicalLead),
        (Actor::Role(Role::TechnicalLead), Role::HeadOfDivision),
        (Actor::Role(Role::HeadOfDivision), Role::HeadOfAgency),
        (Actor::Role(Role::HeadOfAgency), Role::Admin),
    ]
    .into_iter()
    .map(|(from, to)| Escalation { from, to })
    .collect()
}

/// One row of an SOP table.
///
/// The SOP's own columns (activity, Kelengkapan, Output, Waktu) and the actor are
/// required when parsing; our enforcement rules (documents, structured outputs, return,
/// reject, failure loop) default to "none", so a revision states only what it enforces.
/// A step without an actor cannot be written at all: `actor` is not optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDefinition {
    pub code: StepCode,
    /// The SOP's "No": 1, 2, … without gaps.
    #[serde(deserialize_with = "crate::integral::integral")]
    #[schema(maximum = 65535)]
    pub order: u16,
    /// "Kegiatan", verbatim from the SOP.
    pub sop_activity: String,
    /// English label for the UI.
    pub label: String,
    pub actor: Actor,
    /// "Kelengkapan", verbatim, one item per entry.
    pub required_inputs: Vec<String>,
    /// "Output", verbatim.
    pub output: String,
    /// Documents of these kinds must be uploaded while this step is current, by its actor.
    #[serde(default)]
    pub required_documents: Vec<DocumentKind>,
    /// Further kinds the actor may add while the step is current (`other` always may).
    /// On the first step, also what the applicant may add to a returned request.
    #[serde(default)]
    pub may_upload: Vec<DocumentKind>,
    /// These must be supplied in the body of the call that completes the step.
    #[serde(default)]
    pub structured_outputs: Vec<StructuredOutputKind>,
    /// "Waktu": `15m`, `1h`, `1d`, `1w`, or a target-limit range like `1-2d`. A range
    /// whose target is not below its limit, or mixes minutes/hours with days/weeks, is 422.
    #[schema(value_type = String, example = "1-2d", pattern = r"^([1-9][0-9]*(m|min|h|d|w)?-)?[1-9][0-9]*(m|min|h|d|w)$")]
    pub time_standard: TimeStandard,
    /// The actor may send the request back to the applicant for revision.
    #[serde(default)]
    pub may_return: bool,
    /// The actor may refuse the request (final).
    #[serde(default)]
    pub may_reject: bool,
    /// Where a failed `test_result` sends the request (an earlier step).
    #[serde(default)]
    pub on_failure: Option<StepCode>,
    /// An earlier step the actor may send the request back to, with a reason (the head of
    /// agency back to the discussion; a failed implementation back to integration). The
    /// step closes `sent_back` and the earlier one opens in a new round.
    #[serde(default)]
    pub send_back_to: Option<StepCode>,
    /// Required documents that count when they were uploaded on an earlier step of the
    /// same request by that step's actor (e.g. the request letter a division attached to
    /// its draft), instead of forcing a second upload. Each must be in
    /// `required_documents`.
    #[serde(default)]
    pub accept_from_earlier: Vec<DocumentKind>,
    /// When the disposition named addressees, they (and whoever acts for them) act on this
    /// step instead of every holder of its role. Needs an earlier `disposition` output.
    #[serde(default)]
    pub actor_from_disposition: bool,
}

impl WorkflowDefinition {
    /// The role a late step of `actor` escalates to, from the definition's chain.
    pub fn escalates_to(&self, actor: Actor) -> Option<Role> {
        self.escalation.iter().find(|e| e.from == actor).map(|e| e.to)
    }

    /// The escalation chain: each actor at most once, never to itself, never to the
    /// applicant or the auditor (they must not hear of other agencies' late requests). An
    /// actor without an entry is not escalated (like `admin` in version 1): a revision
    /// may choose that.
    fn validate_escalation(&self, errors: &mut Vec<DefinitionError>) {
        let mut seen = Vec::new();
        for e in &self.escalation {
            if seen.contains(&e.from) {
                errors.push(DefinitionError::EscalationTwice { from: e.from });
            }
            seen.push(e.from);
            if e.from == Actor::Role(e.to) || matches!(e.to, Role::Applicant | Role::Auditor) {
                errors.push(DefinitionError::EscalationTarget { from: e.from, to: e.to });
            }
        }
    }

    /// The step with this code, if the flow has it.
    pub fn step(&self, code: StepCode) -> Option<&StepDefinition> {
        self.steps.iter().find(|s| s.code == code)
    }

    /// Where the step with this code is in `steps`.
    pub fn position(&self, code: StepCode) -> Option<usize> {
        self.steps.iter().position(|s| s.code == code)
    }

    /// The applicant's step (`submit` in a valid definition).
    pub fn first_step(&self) -> Option<&StepDefinition> {
        self.steps.first()
    }

    /// The step after `code`; `None` after the last step (or for an unknown code).
    pub fn next_step(&self, code: StepCode) -> Option<&StepDefinition> {
        self.position(code).and_then(|i| self.steps.get(i + 1))
    }

    /// Every rule a definition must satisfy before it may be published; all violations
    /// are reported, in step order, so an admin can fix a revision in one round.
    pub fn validate(&self) -> Result<(), Vec<DefinitionError>> {
        let mut errors = Vec::new();
        if self.version < 1 {
            errors.push(DefinitionError::InvalidVersion { version: self.version });
        }
        for (field, value) in [("name", &self.name), ("sop_number", &self.sop_number)] {
            if value.trim().is_empty() {
                errors.push(DefinitionError::EmptyField { field });
            }
        }
        if self.steps.len() < 2 {
            errors.push(DefinitionError::TooFewSteps { count: self.steps.len() });
        }
        if let Some(first) = self.steps.first() {
            if first.code != StepCode::Submit {
                errors.push(DefinitionError::FirstStepNotSubmit { step: first.code });
            }
            if first.actor != Actor::Role(Role::Applicant) {
                errors.push(DefinitionError::FirstStepNotApplicant { step: first.code, actor: first.actor });
            }
        }

        // A step is reachable if every step before it can be completed by someone;
        // the on_failure edges only lead backwards, so they reach nothing new.
        let mut reachable = true;
        let mut team_formed = false;
        for (i, step) in self.steps.iter().enumerate() {
            self.validate_step(i, step, team_formed, &mut errors);
            if !reachable {
                errors.push(DefinitionError::Unreachable { step: step.code });
            }
            let someone_can_act = match step.actor {
                Actor::Role(role) => role != Role::Auditor,
                Actor::Team => team_formed,
            };
            reachable &= someone_can_act;
            team_formed |= step.structured_outputs.contains(&StructuredOutputKind::Team);
        }
        self.validate_escalation(&mut errors);
        if self.office_division.as_deref().is_some_and(|c| c.trim().is_empty() || c.trim() != c || c.len() > 32) {
            errors.push(DefinitionError::InvalidDivisionCode);
        }
        for &role in &self.may_cancel {
            if matches!(role, Role::Applicant | Role::Auditor) {
                errors.push(DefinitionError::CancelledBy { role });
            }
        }

        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    fn validate_step(&self, i: usize, step: &StepDefinition, team_formed: bool, errors: &mut Vec<DefinitionError>) {
        let code = step.code;
        if self.steps[..i].iter().any(|s| s.code == code) {
            errors.push(DefinitionError::DuplicateStep { step: code });
        }
        if usize::from(step.order) != i + 1 {
            errors.push(DefinitionError::OrderOutOfSequence { step: code, expected: i + 1, found: step.order });
        }
        for (field, value) in [("sop_activity", &step.sop_activity), ("label", &step.label)] {
            if value.trim().is_empty() {
                errors.push(DefinitionError::EmptyStepField { step: code, field });
            }
        }
        match step.actor {
            Actor::Role(Role::Applicant) if i > 0 => {
                errors.push(DefinitionError::ApplicantActsLater { step: code });
            }
            Actor::Role(Role::Auditor) => errors.push(DefinitionError::AuditorActs { step: code }),
            Actor::Team if !team_formed => {
                errors.push(DefinitionError::TeamNotYetFormed { step: code });
            }
            _ => {}
        }
        if code == StepCode::Approval && self.flow != Flow::External {
            errors.push(DefinitionError::ApprovalOutsideExternalFlow { step: code });
        }
        if i == 0 && (step.may_return || step.may_reject) {
            errors.push(DefinitionError::FirstStepReturnable { step: code });
        }
        let documents = step.required_documents.iter().map(|d| d.as_str());
        let outputs = step.structured_outputs.iter().map(|o| o.as_str());
        let requirements: Vec<&'static str> = documents.chain(outputs).collect();
        for (k, requirement) in requirements.iter().enumerate() {
            if requirements[..k].contains(requirement) {
                errors.push(DefinitionError::DuplicateRequirement { step: code, requirement });
            }
        }

        let has_test_result = step.structured_outputs.contains(&StructuredOutputKind::TestResult);
        match step.on_failure {
            Some(target) => {
                match self.position(target) {
                    None => errors.push(DefinitionError::OnFailureUnknown { step: code, target }),
                    Some(t) if t >= i => {
                        errors.push(DefinitionError::OnFailureNotEarlier { step: code, target });
                    }
                    Some(0) => {
                        errors.push(DefinitionError::OnFailureToFirstStep { step: code, target });
                    }
                    Some(_) => {}
                }
                if !has_test_result {
                    errors.push(DefinitionError::OnFailureWithoutTestResult { step: code });
                }
            }
            None if has_test_result => {
                errors.push(DefinitionError::TestResultWithoutOnFailure { step: code });
            }
            None => {}
        }
        if let Some(target) = step.send_back_to {
            match self.position(target) {
                None => errors.push(DefinitionError::SendBackUnknown { step: code, target }),
                Some(0) => errors.push(DefinitionError::SendBackToFirstStep { step: code, target }),
                Some(t) if t >= i => errors.push(DefinitionError::SendBackNotEarlier { step: code, target }),
                Some(_) => {}
            }
        }
        for &document in &step.accept_from_earlier {
            if !step.required_documents.contains(&document) {
                errors.push(DefinitionError::AcceptedButNotRequired { step: code, document });
            }
        }
        if step.actor_from_disposition {
            let disposed_earlier =
                self.steps[..i].iter().any(|s| s.structured_outputs.contains(&StructuredOutputKind::Disposition));
            if !disposed_earlier || step.actor == Actor::Team {
                errors.push(DefinitionError::NoDispositionToFollow { step: code });
            }
        }
    }
}

/// Why a definition may not be published. Each names the offending step where there is
/// one (see [`DefinitionError::step`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("version must be 1 or more, not {version}")]
    InvalidVersion { version: i32 },
    #[error("`{field}` must not be empty")]
    EmptyField { field: &'static str },
    #[error("a flow needs at least two steps (submit and one more), found {count}")]
    TooFewSteps { count: usize },
    #[error("the first step must be `submit`, found `{step}`")]
    FirstStepNotSubmit { step: StepCode },
    #[error("step `{step}`: the first step is the applicant's, not `{actor}`'s")]
    FirstStepNotApplicant { step: StepCode, actor: Actor },
    #[error("step `{step}` appears more than once")]
    DuplicateStep { step: StepCode },
    #[error("step `{step}`: order must be {expected} (1, 2, … in step order), found {found}")]
    OrderOutOfSequence { step: StepCode, expected: usize, found: u16 },
    #[error("step `{step}`: `{field}` must not be empty")]
    EmptyStepField { step: StepCode, field: &'static str },
    #[error("step `{step}`: the applicant acts only on the first step")]
    ApplicantActsLater { step: StepCode },
    #[error("step `{step}`: the auditor never acts")]
    AuditorActs { step: StepCode },
    #[error("step `{step}`: acted by the team, but no earlier step forms one (output `team`)")]
    TeamNotYetFormed { step: StepCode },
    #[error("step `{step}`: `approval` exists only in the external flow")]
    ApprovalOutsideExternalFlow { step: StepCode },
    #[error("step `{step}`: the applicant's own step cannot be returned or rejected")]
    FirstStepReturnable { step: StepCode },
    #[error("step `{step}`: `{requirement}` is required twice")]
    DuplicateRequirement { step: StepCode, requirement: &'static str },
    #[error("step `{step}`: on_failure names `{target}`, which is not a step of this flow")]
    OnFailureUnknown { step: StepCode, target: StepCode },
    #[error("step `{step}`: on_failure must name an earlier step, not `{target}`")]
    OnFailureNotEarlier { step: StepCode, target: StepCode },
    #[error("step `{step}`: on_failure cannot go back to `{target}`, the applicant's step")]
    OnFailureToFirstStep { step: StepCode, target: StepCode },
    #[error("step `{step}`: on_failure needs a `test_result` output to know the test failed")]
    OnFailureWithoutTestResult { step: StepCode },
    #[error("step `{step}`: a `test_result` output needs on_failure (where a failure goes)")]
    TestResultWithoutOnFailure { step: StepCode },
    #[error("step `{step}` can never be reached: no one can act on an earlier step")]
    Unreachable { step: StepCode },
    #[error("step `{step}`: send_back_to names `{target}`, which is not a step of this flow")]
    SendBackUnknown { step: StepCode, target: StepCode },
    #[error("step `{step}`: send_back_to must name an earlier step, not `{target}`")]
    SendBackNotEarlier { step: StepCode, target: StepCode },
    #[error("step `{step}`: send_back_to cannot go back to `{target}`, the applicant's step (return it instead)")]
    SendBackToFirstStep { step: StepCode, target: StepCode },
    #[error("step `{step}`: accept_from_earlier names `{document}`, which the step does not require")]
    AcceptedButNotRequired { step: StepCode, document: DocumentKind },
    #[error("step `{step}`: actor_from_disposition needs a role-acted step after one with a `disposition` output")]
    NoDispositionToFollow { step: StepCode },
    #[error("office_division must be an organization code: 1–32 characters, no surrounding spaces")]
    InvalidDivisionCode,
    #[error("may_cancel: `{role}` cannot close requests (not the applicant or the auditor)")]
    CancelledBy { role: Role },
    #[error("escalation: `{from}` is listed more than once")]
    EscalationTwice { from: Actor },
    #[error("escalation: `{from}` cannot escalate to `{to}` (not itself, the applicant or the auditor)")]
    EscalationTarget { from: Actor, to: Role },
}

impl DefinitionError {
    /// The offending step, for the `errors` map of a problem+json answer.
    pub fn step(&self) -> Option<StepCode> {
        use DefinitionError::*;
        match *self {
            InvalidVersion { .. }
            | EmptyField { .. }
            | TooFewSteps { .. }
            | EscalationTwice { .. }
            | EscalationTarget { .. }
            | CancelledBy { .. }
            | InvalidDivisionCode => None,
            FirstStepNotSubmit { step }
            | FirstStepNotApplicant { step, .. }
            | DuplicateStep { step }
            | OrderOutOfSequence { step, .. }
            | EmptyStepField { step, .. }
            | ApplicantActsLater { step }
            | AuditorActs { step }
            | TeamNotYetFormed { step }
            | ApprovalOutsideExternalFlow { step }
            | FirstStepReturnable { step }
            | DuplicateRequirement { step, .. }
            | OnFailureUnknown { step, .. }
            | OnFailureNotEarlier { step, .. }
            | OnFailureToFirstStep { step, .. }
            | OnFailureWithoutTestResult { step }
            | TestResultWithoutOnFailure { step }
            | SendBackUnknown { step, .. }
            | SendBackNotEarlier { step, .. }
            | SendBackToFirstStep { step, .. }
            | AcceptedButNotRequired { step, .. }
            | NoDispositionToFollow { step }
            | Unreachable { step } => Some(step),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sop_2025;
    use super::*;
    use DefinitionError as E;
    use DocumentKind as Doc;
    use StepCode::*;

    fn errors_of(def: &WorkflowDefinition) -> Vec<DefinitionError> {
        def.validate().expect_err("definition should be invalid")
    }

    fn step_mut(def: &mut WorkflowDefinition, code: StepCode) -> &mut StepDefinition {
        def.steps.iter_mut().find(|s| s.code == code).expect("step exists in v1")
    }

    fn renumber(def: &mut WorkflowDefinition) {
        for (i, s) in def.steps.iter_mut().enumerate() {
            s.order = u16::try_from(i + 1).unwrap();
        }
    }

    #[test]
    fn both_v1_definitions_are_valid() {
        assert_eq!(sop_2025::external().validate(), Ok(()));
        assert_eq!(sop_2025::internal().validate(), Ok(()));
    }

    #[test]
    fn navigation() {
        let def = sop_2025::internal();
        assert_eq!(def.first_step().map(|s| s.code), Some(Submit));
        assert_eq!(def.next_step(Submit).map(|s| s.code), Some(Disposition));
        assert_eq!(def.next_step(Discussion).map(|s| s.code), Some(Team));
        assert_eq!(def.next_step(Report), None);
        assert_eq!(def.next_step(Approval), None);
        assert_eq!(def.step(Approval), None);
        assert_eq!(def.position(Testing), Some(6));
    }

    #[test]
    fn header_rules() {
        let mut def = sop_2025::external();
        def.version = 0;
        def.name = " ".into();
        def.sop_number = String::new();
        assert_eq!(
            errors_of(&def),
            [E::InvalidVersion { version: 0 }, E::EmptyField { field: "name" }, E::EmptyField { field: "sop_number" },]
        );
    }

    #[test]
    fn too_few_steps() {
        let mut def = sop_2025::external();
        def.steps.truncate(1);
        assert_eq!(errors_of(&def), [E::TooFewSteps { count: 1 }]);
        def.steps.clear();
        assert_eq!(errors_of(&def), [E::TooFewSteps { count: 0 }]);
    }

    #[test]
    fn first_step_must_be_the_applicants_submit() {
        let mut def = sop_2025::external();
        def.steps.remove(0);
        renumber(&mut def);
        // The disposition is not `submit` and is not acted by the applicant.
        assert_eq!(
            errors_of(&def),
            [
                E::FirstStepNotSubmit { step: Disposition },
                E::FirstStepNotApplicant { step: Disposition, actor: Actor::Role(Role::HeadOfDivision) },
                E::FirstStepReturnable { step: Disposition },
            ]
        );

        let mut def = sop_2025::external();
        step_mut(&mut def, Submit).actor = Actor::Role(Role::Admin);
        assert_eq!(errors_of(&def), [E::FirstStepNotApplicant { step: Submit, actor: Actor::Role(Role::Admin) }]);
    }

    #[test]
    fn duplicate_code() {
        let mut def = sop_2025::external();
        let copy = def.steps[3].clone();
        def.steps.insert(4, copy);
        renumber(&mut def);
        assert_eq!(errors_of(&def), [E::DuplicateStep { step: Discussion }]);
    }

    #[test]
    fn orders_run_1_2_3_without_gaps() {
        let mut def = sop_2025::external();
        step_mut(&mut def, Team).order = 7;
        step_mut(&mut def, Integration).order = 6;
        assert_eq!(
            errors_of(&def),
            [
                E::OrderOutOfSequence { step: Team, expected: 6, found: 7 },
                E::OrderOutOfSequence { step: Integration, expected: 7, found: 6 },
            ]
        );
        let mut def = sop_2025::internal();
        step_mut(&mut def, Submit).order = 0;
        assert_eq!(errors_of(&def), [E::OrderOutOfSequence { step: Submit, expected: 1, found: 0 }]);
    }

    #[test]
    fn empty_step_texts() {
        let mut def = sop_2025::internal();
        step_mut(&mut def, Report).sop_activity = String::new();
        step_mut(&mut def, Report).label = "  ".into();
        assert_eq!(
            errors_of(&def),
            [
                E::EmptyStepField { step: Report, field: "sop_activity" },
                E::EmptyStepField { step: Report, field: "label" },
            ]
        );
    }

    #[test]
    fn applicant_never_acts_after_step_one() {
        let mut def = sop_2025::external();
        step_mut(&mut def, Discussion).actor = Actor::Role(Role::Applicant);
        assert_eq!(errors_of(&def), [E::ApplicantActsLater { step: Discussion }]);
    }

    /// A step no one can act on makes every later step unreachable.
    #[test]
    fn auditor_as_actor_and_unreachable_steps() {
        let mut def = sop_2025::internal();
        step_mut(&mut def, Implementation).actor = Actor::Role(Role::Auditor);
        assert_eq!(errors_of(&def), [E::AuditorActs { step: Implementation }, E::Unreachable { step: Report },]);
    }

    #[test]
    fn send_back_carry_forward_addressees_and_cancellation_rules() {
        let mut def = sop_2025::external();
        step_mut(&mut def, Approval).send_back_to = Some(Approval);
        step_mut(&mut def, Team).send_back_to = Some(Submit);
        step_mut(&mut def, Testing).send_back_to = Some(Report);
        step_mut(&mut def, Report).accept_from_earlier = vec![Doc::Formulation];
        step_mut(&mut def, Disposition).actor_from_disposition = true;
        def.may_cancel.push(Role::Auditor);
        assert_eq!(
            errors_of(&def),
            [
                E::NoDispositionToFollow { step: Disposition },
                E::SendBackNotEarlier { step: Approval, target: Approval },
                E::SendBackToFirstStep { step: Team, target: Submit },
                E::SendBackNotEarlier { step: Testing, target: Report },
                E::AcceptedButNotRequired { step: Report, document: Doc::Formulation },
                E::CancelledBy { role: Role::Auditor },
            ]
        );
        let mut def = sop_2025::internal();
        step_mut(&mut def, Report).send_back_to = Some(Approval);
        assert_eq!(errors_of(&def), [E::SendBackUnknown { step: Report, target: Approval }]);
        for bad in ["", " APTIKA", "A".repeat(33).as_str()] {
            let mut def = sop_2025::internal();
            def.office_division = Some(bad.to_owned());
            assert_eq!(errors_of(&def), [E::InvalidDivisionCode], "{bad:?}");
        }
        // Left out of a published revision, cancellation stays with version 1's roles.
        let mut json = serde_json::to_value(sop_2025::internal()).unwrap();
        json.as_object_mut().unwrap().remove("may_cancel");
        let parsed: WorkflowDefinition = serde_json::from_value(json).unwrap();
        assert_eq!(parsed.may_cancel, [Role::HeadOfDivision, Role::HeadOfAgency]);
    }

    #[test]
    fn team_step_before_the_team_is_formed() {
        let mut def = sop_2025::external();
        // Discussion by the team, before `team` has named one: unreachable from there on.
        step_mut(&mut def, Discussion).actor = Actor::Team;
        // (and the disposition's addressees cannot be the team)
        let mut expected =
            vec![E::TeamNotYetFormed { step: Discussion }, E::NoDispositionToFollow { step: Discussion }];
        expected
            .extend([Approval, Team, Integration, Testing, Implementation, Report].map(|step| E::Unreachable { step }));
        assert_eq!(errors_of(&def), expected);

        // The team-forming step cannot be acted by the team it forms.
        let mut def = sop_2025::internal();
        step_mut(&mut def, Team).actor = Actor::Team;
        assert_eq!(errors_of(&def)[0], E::TeamNotYetFormed { step: Team });

        // Without any step forming a team, every team step is refused.
        let mut def = sop_2025::internal();
        step_mut(&mut def, Team).structured_outputs.clear();
        assert_eq!(
            errors_of(&def),
            [
                E::TeamNotYetFormed { step: Integration },
                E::TeamNotYetFormed { step: Testing },
                E::Unreachable { step: Testing },
                E::TeamNotYetFormed { step: Implementation },
                E::Unreachable { step: Implementation },
                E::Unreachable { step: Report },
            ]
        );
    }

    #[test]
    fn approval_only_in_the_external_flow() {
        let mut def = sop_2025::internal();
        let approval = sop_2025::external().step(Approval).expect("external has approval").clone();
        def.steps.insert(4, approval);
        renumber(&mut def);
        assert_eq!(errors_of(&def), [E::ApprovalOutsideExternalFlow { step: Approval }]);
    }

    #[test]
    fn the_applicants_step_cannot_be_returned_or_rejected() {
        let mut def = sop_2025::external();
        step_mut(&mut def, Submit).may_reject = true;
        assert_eq!(errors_of(&def), [E::FirstStepReturnable { step: Submit }]);
    }

    #[test]
    fn duplicate_requirements() {
        let mut def = sop_2025::external();
        step_mut(&mut def, Team).required_documents.push(DocumentKind::ApiDocument);
        step_mut(&mut def, Team).structured_outputs.push(StructuredOutputKind::Team);
        assert_eq!(
            errors_of(&def),
            [
                E::DuplicateRequirement { step: Team, requirement: "api_document" },
                E::DuplicateRequirement { step: Team, requirement: "team" },
            ]
        );
    }

    #[test]
    fn on_failure_points_backwards_to_an_office_step() {
        let forward = |target| {
            let mut def = sop_2025::external();
            step_mut(&mut def, Testing).on_failure = Some(target);
            def.validate()
        };
        assert_eq!(
            forward(Implementation),
            Err(vec![E::OnFailureNotEarlier { step: Testing, target: Implementation }])
        );
        assert_eq!(forward(Testing), Err(vec![E::OnFailureNotEarlier { step: Testing, target: Testing }]));
        assert_eq!(forward(Submit), Err(vec![E::OnFailureToFirstStep { step: Testing, target: Submit }]));
        assert_eq!(forward(Discussion), Ok(()));

        let mut def = sop_2025::internal();
        step_mut(&mut def, Testing).on_failure = Some(Approval);
        assert_eq!(errors_of(&def), [E::OnFailureUnknown { step: Testing, target: Approval }]);
    }

    #[test]
    fn on_failure_and_test_result_go_together() {
        let mut def = sop_2025::external();
        step_mut(&mut def, Testing).on_failure = None;
        assert_eq!(errors_of(&def), [E::TestResultWithoutOnFailure { step: Testing }]);

        let mut def = sop_2025::external();
        step_mut(&mut def, Implementation).on_failure = Some(Integration);
        assert_eq!(errors_of(&def), [E::OnFailureWithoutTestResult { step: Implementation }]);
    }

    #[test]
    fn every_error_names_its_step_when_it_has_one() {
        assert_eq!(E::Unreachable { step: Report }.step(), Some(Report));
        assert_eq!(E::TooFewSteps { count: 0 }.step(), None);
        let mut def = sop_2025::external();
        step_mut(&mut def, Approval).actor = Actor::Role(Role::Auditor);
        for e in errors_of(&def) {
            assert!(e.step().is_some(), "{e}");
            assert!(e.to_string().contains(e.step().unwrap().as_str()), "{e}");
        }
        assert_eq!(
            E::TeamNotYetFormed { step: Integration }.to_string(),
            "step `integration`: acted by the team, but no earlier step forms one (output `team`)"
        );
    }

    #[test]
    fn json_round_trip_is_lossless() {
        for def in [sop_2025::external(), sop_2025::internal()] {
            let json = serde_json::to_string_pretty(&def).unwrap();
            let back: WorkflowDefinition = serde_json::from_str(&json).unwrap();
            assert_eq!(back, def);
            assert_eq!(serde_json::to_string_pretty(&back).unwrap(), json);
        }
    }

    #[test]
    fn json_shape_is_what_an_admin_writes() {
        let v = serde_json::to_value(sop_2025::external()).unwrap();
        assert_eq!(v["flow"], "external");
        assert_eq!(v["version"], 1);
        assert_eq!(v["sop_effective_date"], "2025-01-07");
        let testing = &v["steps"][7];
        assert_eq!(testing["code"], "testing");
        assert_eq!(testing["actor"], "team");
        assert_eq!(testing["time_standard"], "1-2d");
        assert_eq!(testing["on_failure"], "integration");
        assert_eq!(testing["required_documents"], serde_json::json!(["test_report"]));
        assert_eq!(testing["structured_outputs"], serde_json::json!(["test_result"]));
        assert_eq!(v["steps"][4]["actor"], serde_json::json!({"role": "head_of_agency"}));
    }

    /// Enforcement fields may be left out of a published revision; the SOP's columns and
    /// the actor may not, and a misspelt field is an error, not a silently dropped rule.
    #[test]
    fn json_defaults_and_refusals() {
        let mut v = serde_json::to_value(sop_2025::internal()).unwrap();
        let follow_up = v["steps"][2].as_object_mut().unwrap();
        for optional in
            ["required_documents", "may_upload", "structured_outputs", "may_return", "may_reject", "on_failure"]
        {
            follow_up.remove(optional);
        }
        let def: WorkflowDefinition = serde_json::from_value(v.clone()).unwrap();
        let s = def.step(FollowUp).unwrap();
        assert!(s.required_documents.is_empty() && s.structured_outputs.is_empty());
        assert!(!s.may_return && !s.may_reject && s.on_failure.is_none());

        for required in ["actor", "code", "sop_activity", "output", "time_standard"] {
            let mut w = v.clone();
            w["steps"][2].as_object_mut().unwrap().remove(required);
            let err = serde_json::from_value::<WorkflowDefinition>(w).unwrap_err();
            assert!(err.to_string().contains(required), "{err}");
        }
        let mut w = v.clone();
        w["steps"][2]["may_retrun"] = true.into();
        assert!(serde_json::from_value::<WorkflowDefinition>(w).is_err());
        let mut w = v.clone();
        w["steps"][2]["time_standard"] = "2 days".into();
        assert!(serde_json::from_value::<WorkflowDefinition>(w).is_err());
        let mut w = v;
        w["steps"][2]["actor"] = serde_json::json!({"role": "kepala_dinas"});
        assert!(serde_json::from_value::<WorkflowDefinition>(w).is_err());
    }

    /// A revision is just data: move the approval to the admin and drop the follow-up,
    /// and it validates.
    #[test]
    fn a_revised_definition_validates() {
        let mut def = sop_2025::external();
        def.version = 2;
        def.steps.retain(|s| s.code != FollowUp);
        renumber(&mut def);
        step_mut(&mut def, Approval).actor = Actor::Role(Role::Admin);
        assert_eq!(def.validate(), Ok(()));
    }

    #[test]
    fn the_escalation_chain_goes_one_level_up_and_stops_at_the_admins() {
        let def = sop_2025::external();
        let up = |a: Actor| def.escalates_to(a);
        assert_eq!(up(Actor::Team), Some(Role::TechnicalLead));
        assert_eq!(up(Actor::Role(Role::TechnicalStaff)), Some(Role::TechnicalLead));
        assert_eq!(up(Actor::Role(Role::TechnicalLead)), Some(Role::HeadOfDivision));
        assert_eq!(up(Actor::Role(Role::HeadOfDivision)), Some(Role::HeadOfAgency));
        assert_eq!(up(Actor::Role(Role::HeadOfAgency)), Some(Role::Admin));
        for r in [Role::Applicant, Role::Admin, Role::Auditor] {
            assert_eq!(up(Actor::Role(r)), None, "{r}");
        }
        let from: std::collections::HashSet<Actor> = def.escalation.iter().map(|e| e.from).collect();
        assert_eq!(from.len(), def.escalation.len(), "one entry per actor");
        for def in sop_2025::all() {
            for step in def.steps.iter().filter(|s| s.actor != Actor::Role(Role::Applicant)) {
                let to = def.escalates_to(step.actor).unwrap_or_else(|| panic!("{} has no escalation", step.code));
                assert_ne!(step.actor, Actor::Role(to), "{}", step.code);
            }
        }
        let mut at = Actor::Team;
        let mut path = Vec::new();
        while let Some(to) = def.escalates_to(at) {
            path.push(to);
            at = Actor::Role(to);
        }
        assert_eq!(path, [Role::TechnicalLead, Role::HeadOfDivision, Role::HeadOfAgency, Role::Admin]);
    }

    #[test]
    fn a_revision_without_an_escalation_chain_gets_version_1s() {
        let mut v = serde_json::to_value(sop_2025::internal()).unwrap();
        v.as_object_mut().unwrap().remove("escalation");
        let def: WorkflowDefinition = serde_json::from_value(v).unwrap();
        assert_eq!(def.escalation, default_escalation());
    }

    #[test]
    fn a_revision_cannot_break_the_escalation_chain() {
        let mut def = sop_2025::external();
        assert!(def.validate().is_ok());
        def.escalation.push(Escalation { from: Actor::Team, to: Role::HeadOfAgency });
        def.escalation[1].to = Role::Applicant;
        def.escalation.retain(|e| e.from != Actor::Role(Role::HeadOfDivision));
        let errs = def.validate().unwrap_err();
        assert!(errs.contains(&E::EscalationTwice { from: Actor::Team }), "{errs:?}");
        assert!(
            errs.contains(&E::EscalationTarget { from: Actor::Role(Role::TechnicalStaff), to: Role::Applicant }),
            "{errs:?}"
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
        let mut none = sop_2025::internal();
        none.escalation.clear();
        assert!(none.validate().is_ok(), "a revision may choose not to escalate");
    }
}
