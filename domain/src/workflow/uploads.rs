//! Who may add which documents, when: read from the definition, never from a handler.
//!
//! - On a draft, the applicant prepares the first step: the kinds that step requires or
//!   accepts (`may_upload`), and `other`.
//! - On a request returned to them, the applicant revises what is theirs: the same kinds.
//!   Those uploads are the applicant's, not the step actor's, so they never count towards
//!   what the office's step must produce.
//! - While a step is in progress, its actor (or team) adds the kinds the step requires or
//!   accepts, and `other`.
//! - Nobody adds anything to a closed request; the auditor never adds anything.

use super::definition::{StepDefinition, WorkflowDefinition};
use super::engine::Caller;
use super::model::{Actor, DocumentKind, Role, Status, StepCode};

/// In whose name a document is added. Only the actor's count for a step's requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadParty {
    /// The current step's actor (on a draft: the applicant, who acts on the first step).
    Actor,
    /// The applicant, revising a returned request.
    Applicant,
}

impl UploadParty {
    /// As stored in `documents.uploaded_as`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UploadParty::Actor => "actor",
            UploadParty::Applicant => "applicant",
        }
    }
}

impl std::fmt::Display for UploadParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for UploadParty {
    type Err = super::model::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "actor" => Ok(UploadParty::Actor),
            "applicant" => Ok(UploadParty::Applicant),
            _ => Err(super::model::UnknownName { what: "upload party", value: s.to_owned() }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadRefusal {
    /// The request is final.
    Closed(Status),
    /// The auditor reads; never writes.
    ReadOnly,
    /// Someone else acts now.
    NotYourTurn { actor: Actor },
    /// This party may not add this kind now.
    KindNotAllowed { kind: DocumentKind, allowed: Vec<DocumentKind> },
    /// The request stands at a step its definition does not have: a broken state.
    UnknownStep(StepCode),
}

/// The kinds a step's party may add: what the step requires, what it accepts, and `other`.
pub fn kinds_of(step: &StepDefinition) -> Vec<DocumentKind> {
    let mut kinds: Vec<DocumentKind> = step.required_documents.iter().chain(&step.may_upload).copied().collect();
    kinds.push(DocumentKind::Other);
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Whether `caller` may add a document (of `kind`, when known) to a request in `status`
/// at `step`, and as which party.
pub fn may_upload(
    def: &WorkflowDefinition,
    status: Status,
    step: StepCode,
    caller: &Caller,
    kind: Option<DocumentKind>,
) -> Result<UploadParty, UploadRefusal> {
    if status.is_final() {
        return Err(UploadRefusal::Closed(status));
    }
    if caller.has_role(Role::Auditor) {
        return Err(UploadRefusal::ReadOnly);
    }
    let current = def.step(step).ok_or(UploadRefusal::UnknownStep(step))?;
    let applicant = caller.in_applicant_organization && caller.has_role(Role::Applicant);
    let (party, allowed) = match status {
        Status::Draft | Status::Returned if applicant => {
            let first = def.first_step().ok_or(UploadRefusal::UnknownStep(step))?;
            let party = if status == Status::Draft { UploadParty::Actor } else { UploadParty::Applicant };
            (party, kinds_of(first))
        }
        Status::InProgress if caller.acts_on(current) => (UploadParty::Actor, kinds_of(current)),
        _ => {
            // On a draft or a returned request only the applicant works.
            let actor = match status {
                Status::Draft | Status::Returned => Actor::Role(Role::Applicant),
                _ => current.actor,
            };
            return Err(UploadRefusal::NotYourTurn { actor });
        }
    };
    match kind {
        Some(k) if !allowed.contains(&k) => Err(UploadRefusal::KindNotAllowed { kind: k, allowed }),
        _ => Ok(party),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::sop_2025;
    use DocumentKind as D;

    fn caller(roles: &[Role], own: bool, team: bool) -> Caller {
        Caller {
            roles: roles.to_vec(),
            in_applicant_organization: own,
            on_team: team,
            addressee: None,
            in_office_division: true,
        }
    }

    #[test]
    fn every_step_of_both_flows_admits_only_its_actor_and_its_kinds() {
        let everyone = [
            caller(&[Role::Applicant], true, false),
            caller(&[Role::Applicant], false, false),
            caller(&[Role::HeadOfDivision], false, false),
            caller(&[Role::TechnicalLead], false, false),
            caller(&[Role::TechnicalStaff], false, true),
            caller(&[Role::HeadOfAgency], false, false),
            caller(&[Role::Admin], false, false),
        ];
        for def in sop_2025::all() {
            for step in &def.steps {
                for who in &everyone {
                    let acts = who.may_act_as(step.actor);
                    for kind in D::ALL {
                        let got = may_upload(&def, Status::InProgress, step.code, who, Some(*kind));
                        let expected_kind = step.required_documents.contains(kind)
                            || step.may_upload.contains(kind)
                            || *kind == D::Other;
                        match (acts, expected_kind) {
                            (true, true) => {
                                assert_eq!(got, Ok(UploadParty::Actor), "{:?} {:?} {kind}", def.flow, step.code)
                            }
                            (true, false) => assert!(
                                matches!(got, Err(UploadRefusal::KindNotAllowed { .. })),
                                "{:?} {kind}",
                                step.code
                            ),
                            (false, _) => assert!(
                                matches!(got, Err(UploadRefusal::NotYourTurn { .. })),
                                "{:?} {who:?}",
                                step.code
                            ),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_applicant_adds_only_their_own_kinds_and_revisions_are_theirs() {
        let def = sop_2025::external();
        let budi = caller(&[Role::Applicant], true, false);
        assert_eq!(
            may_upload(&def, Status::Draft, StepCode::Submit, &budi, Some(D::RequestLetter)),
            Ok(UploadParty::Actor)
        );
        assert_eq!(
            may_upload(&def, Status::Returned, StepCode::Discussion, &budi, Some(D::RequestLetter)),
            Ok(UploadParty::Applicant)
        );
        assert_eq!(
            may_upload(&def, Status::Returned, StepCode::Discussion, &budi, Some(D::Other)),
            Ok(UploadParty::Applicant)
        );
        assert!(matches!(
            may_upload(&def, Status::Returned, StepCode::Discussion, &budi, Some(D::Formulation)),
            Err(UploadRefusal::KindNotAllowed { kind: D::Formulation, .. })
        ));
        // While the office works, the applicant adds nothing; another agency never.
        assert!(matches!(
            may_upload(&def, Status::InProgress, StepCode::Discussion, &budi, None),
            Err(UploadRefusal::NotYourTurn { .. })
        ));
        let rina = caller(&[Role::Applicant], false, false);
        assert!(may_upload(&def, Status::Draft, StepCode::Submit, &rina, None).is_err());
        // The office does not fill in the applicant's draft.
        let kasi = caller(&[Role::TechnicalLead], false, false);
        assert!(may_upload(&def, Status::Returned, StepCode::Discussion, &kasi, None).is_err());
    }

    #[test]
    fn closed_requests_and_the_auditor_take_nothing() {
        let def = sop_2025::internal();
        let lead = caller(&[Role::TechnicalLead], false, false);
        for s in [Status::Completed, Status::Rejected, Status::Withdrawn] {
            assert_eq!(may_upload(&def, s, StepCode::Report, &lead, None), Err(UploadRefusal::Closed(s)));
        }
        let auditor = caller(&[Role::Auditor, Role::TechnicalLead], false, false);
        assert_eq!(
            may_upload(&def, Status::InProgress, StepCode::Discussion, &auditor, None),
            Err(UploadRefusal::ReadOnly)
        );
    }

    #[test]
    fn a_disposition_sheet_is_accepted_at_the_disposition_not_required() {
        let def = sop_2025::external();
        let kabid = caller(&[Role::HeadOfDivision], false, false);
        let step = def.step(StepCode::Disposition).unwrap();
        assert!(!step.required_documents.contains(&D::DispositionSheet));
        assert_eq!(
            may_upload(&def, Status::InProgress, StepCode::Disposition, &kabid, Some(D::DispositionSheet)),
            Ok(UploadParty::Actor)
        );
    }
}
