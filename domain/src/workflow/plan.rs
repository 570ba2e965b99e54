//! Everything a transition changes, decided purely: `plan` wraps `decide` with the rules
//! the service used to spell inline — how the closing step instance ends, the round of the
//! one that opens, the test-round count, when the office counts as having acted, whether
//! a reason is required, whether a registration number is due, whether the office's clock
//! pauses or resumes, and who acts next. The service applies a `Plan` in one transaction
//! and decides nothing itself.

use super::definition::WorkflowDefinition;
use super::engine::{Action, Caller, ConflictReason, Decision, Evidence, RequestState, WorkflowError, decide};
use super::model::{CurrentActor, EventKind, StepOutcome};

/// Where a request stands, with the counters a plan updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub state: RequestState,
    /// Failed test rounds so far.
    pub test_rounds: i32,
    /// The disposition named addressees (stored, or in this call's body): the steps they
    /// act on are theirs instead of their role's.
    pub addressed: bool,
}

/// The round of a step instance that opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Number(i32),
    /// One more than the step's rounds so far (a step reopened by a send-back): only the
    /// service knows how many there were.
    NextOfStep,
}

/// What a transition does; the service applies it as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub decision: Decision,
    /// How the current step instance ends, when it ends now.
    pub closes_step: Option<StepOutcome>,
    /// The round of the step instance that opens now (1 for the first step after
    /// submission; otherwise one more than the times the step opened before), when one
    /// opens.
    pub opens_round: Option<Round>,
    /// Failed test rounds after this transition.
    pub test_rounds: i32,
    /// Whether the office has acted after this transition (no withdrawal from then on).
    pub office_has_acted: bool,
    /// The caller must say why (returning or rejecting): for the applicant and the record.
    pub reason_required: bool,
    /// The request gets its registration number now (submission).
    pub assigns_number: bool,
    /// The request goes to the applicant: the office's clock pauses.
    pub pauses_clock: bool,
    /// The applicant sends it back: the office's clock resumes and due times move by the
    /// time spent waiting.
    pub resumes_clock: bool,
    /// Who acts after this transition.
    pub next_actor: CurrentActor,
}

/// The plan for `action`, or why not (the same refusals as `decide`).
pub fn plan(
    def: &WorkflowDefinition,
    standing: &Standing,
    action: &Action,
    caller: &Caller,
    evidence: &Evidence,
) -> Result<Plan, WorkflowError> {
    let decision = decide(def, &standing.state, action, caller, evidence)?;
    let ends_request = matches!(decision.event, EventKind::Rejected | EventKind::Withdrawn | EventKind::Cancelled);
    let closes_step = (decision.completed_step.is_some() || ends_request).then_some(match decision.event {
        EventKind::TestFailed => StepOutcome::TestFailed,
        EventKind::Rejected => StepOutcome::Rejected,
        EventKind::Withdrawn => StepOutcome::Withdrawn,
        EventKind::Cancelled => StepOutcome::Cancelled,
        EventKind::SentBack => StepOutcome::SentBack,
        _ => StepOutcome::Completed,
    });
    let test_failed = decision.event == EventKind::TestFailed;
    let test_rounds = standing.test_rounds + i32::from(test_failed);
    // A step's round counts the times it opened: the first step after submission opens
    // for the first time; anything later may be a step opened again after a failed test
    // or a send-back, which only the stored instances can tell.
    let opens_round = decision.started_step.map(|_| match decision.event {
        EventKind::Submitted => Round::Number(1),
        _ => Round::NextOfStep,
    });
    // Everything except the applicant's own moves is the office acting; read from what
    // happened, so `Complete { step: submit }` counts as the submission it is.
    let applicants_move =
        matches!(decision.event, EventKind::Submitted | EventKind::Resubmitted | EventKind::Withdrawn);
    let next_actor = if decision.status.is_final() {
        CurrentActor::Nobody
    } else {
        // `decide` only names steps of the definition; anything else is a broken state.
        let step = def.step(decision.current_step).ok_or(WorkflowError::Conflict {
            status: decision.status,
            step: decision.current_step,
            reason: ConflictReason::BrokenState,
        })?;
        if step.actor_from_disposition && standing.addressed {
            CurrentActor::Addressees
        } else {
            CurrentActor::from(step.actor)
        }
    };
    Ok(Plan {
        decision,
        closes_step,
        opens_round,
        test_rounds,
        office_has_acted: standing.state.office_has_acted || !applicants_move,
        reason_required: matches!(
            action,
            Action::Return | Action::Reject | Action::Cancel | Action::SendBack | Action::ChangeTeam
        ),
        assigns_number: decision.event == EventKind::Submitted,
        pauses_clock: decision.event == EventKind::Returned,
        resumes_clock: decision.event == EventKind::Resubmitted,
        next_actor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::model::{Actor, DocumentKind, Role, Status, StepCode, StructuredOutputKind};
    use crate::workflow::sop_2025;

    fn standing(status: Status, step: StepCode, acted: bool, rounds: i32) -> Standing {
        Standing {
            state: RequestState { status, current_step: step, office_has_acted: acted },
            test_rounds: rounds,
            addressed: false,
        }
    }

    fn caller(roles: &[Role], own: bool, team: bool) -> Caller {
        Caller {
            roles: roles.to_vec(),
            in_applicant_organization: own,
            on_team: team,
            addressee: None,
            in_office_division: true,
        }
    }

    fn evidence(docs: &[DocumentKind], outs: &[StructuredOutputKind]) -> Evidence {
        Evidence::new(docs.iter().copied(), outs.iter().copied())
    }

    #[test]
    fn submitting_numbers_the_request_and_opens_the_disposition() {
        let def = sop_2025::external();
        let p = plan(
            &def,
            &standing(Status::Draft, StepCode::Submit, false, 0),
            &Action::Submit,
            &caller(&[Role::Applicant], true, false),
            &evidence(&[DocumentKind::RequestLetter], &[]),
        )
        .unwrap();
        assert!(p.assigns_number && !p.office_has_acted && !p.reason_required);
        assert_eq!(p.closes_step, Some(StepOutcome::Completed));
        assert_eq!(p.opens_round, Some(Round::Number(1)));
        assert_eq!(p.next_actor, CurrentActor::Step(Actor::Role(Role::HeadOfDivision)));
    }

    #[test]
    fn a_failed_test_closes_its_round_and_opens_the_next_integration_round() {
        let def = sop_2025::internal();
        let team = caller(&[Role::TechnicalStaff], false, true);
        let p = plan(
            &def,
            &standing(Status::InProgress, StepCode::Testing, true, 1),
            &Action::Complete { step: StepCode::Testing, test_passed: Some(false) },
            &team,
            &evidence(&[DocumentKind::TestReport], &[StructuredOutputKind::TestResult]),
        )
        .unwrap();
        assert_eq!(p.decision.current_step, StepCode::Integration);
        assert_eq!(p.closes_step, Some(StepOutcome::TestFailed));
        assert_eq!((p.test_rounds, p.opens_round), (2, Some(Round::NextOfStep)));
        assert_eq!(p.next_actor, CurrentActor::Step(Actor::Team));
    }

    #[test]
    fn returning_needs_a_reason_pauses_the_clock_and_counts_as_the_office_acting() {
        let def = sop_2025::external();
        let p = plan(
            &def,
            &standing(Status::InProgress, StepCode::Discussion, false, 0),
            &Action::Return,
            &caller(&[Role::TechnicalLead], false, false),
            &Evidence::default(),
        )
        .unwrap();
        assert!(p.reason_required && p.pauses_clock && p.office_has_acted && !p.resumes_clock);
        assert_eq!((p.closes_step, p.opens_round), (None, None));
        let back = plan(
            &def,
            &standing(Status::Returned, StepCode::Discussion, true, 0),
            &Action::Resubmit,
            &caller(&[Role::Applicant], true, false),
            &Evidence::default(),
        )
        .unwrap();
        assert!(back.resumes_clock && !back.reason_required && back.office_has_acted);
        assert_eq!(back.next_actor, CurrentActor::Step(Actor::Role(Role::TechnicalLead)));
    }

    #[test]
    fn ending_a_request_leaves_nobody_to_act() {
        let def = sop_2025::external();
        let rejected = plan(
            &def,
            &standing(Status::InProgress, StepCode::Approval, true, 0),
            &Action::Reject,
            &caller(&[Role::HeadOfAgency], false, false),
            &Evidence::default(),
        )
        .unwrap();
        assert_eq!(rejected.closes_step, Some(StepOutcome::Rejected));
        assert_eq!(rejected.next_actor, CurrentActor::Nobody);
        let withdrawn = plan(
            &def,
            &standing(Status::Draft, StepCode::Submit, false, 0),
            &Action::Withdraw,
            &caller(&[Role::Applicant], true, false),
            &Evidence::default(),
        )
        .unwrap();
        assert_eq!(withdrawn.closes_step, Some(StepOutcome::Withdrawn));
        assert!(!withdrawn.office_has_acted && !withdrawn.assigns_number);
    }

    #[test]
    fn completing_the_first_step_by_name_is_a_submission() {
        let def = sop_2025::external();
        let p = plan(
            &def,
            &standing(Status::Draft, StepCode::Submit, false, 0),
            &Action::complete(StepCode::Submit),
            &caller(&[Role::Applicant], true, false),
            &evidence(&[DocumentKind::RequestLetter], &[]),
        )
        .unwrap();
        assert!(p.assigns_number && !p.office_has_acted);
    }

    #[test]
    fn sending_back_closes_the_step_and_reopens_the_earlier_one_in_a_new_round() {
        let def = sop_2025::external();
        let p = plan(
            &def,
            &standing(Status::InProgress, StepCode::Approval, true, 0),
            &Action::SendBack,
            &caller(&[Role::HeadOfAgency], false, false),
            &Evidence::default(),
        )
        .unwrap();
        assert_eq!(p.decision.current_step, StepCode::Discussion);
        assert_eq!((p.closes_step, p.opens_round), (Some(StepOutcome::SentBack), Some(Round::NextOfStep)));
        assert!(p.reason_required && p.office_has_acted && !p.pauses_clock);
        assert_eq!(p.test_rounds, 0, "a send-back is not a failed test");
        assert_eq!(p.next_actor, CurrentActor::Step(Actor::Role(Role::TechnicalLead)));
        let addressed = Standing { addressed: true, ..standing(Status::InProgress, StepCode::Approval, true, 0) };
        let p = plan(
            &def,
            &addressed,
            &Action::SendBack,
            &caller(&[Role::HeadOfAgency], false, false),
            &Evidence::default(),
        )
        .unwrap();
        assert_eq!(p.next_actor, CurrentActor::Addressees, "the discussion goes back to the addressees");
    }

    #[test]
    fn a_disposition_with_addressees_gives_them_the_next_step() {
        let def = sop_2025::external();
        let s = Standing { addressed: true, ..standing(Status::InProgress, StepCode::Disposition, true, 0) };
        let p = plan(
            &def,
            &s,
            &Action::complete(StepCode::Disposition),
            &caller(&[Role::HeadOfDivision], false, false),
            &evidence(&[], &[StructuredOutputKind::Disposition]),
        )
        .unwrap();
        assert_eq!(p.next_actor, CurrentActor::Addressees);
        // The approval is the head of agency's whatever the disposition said.
        let s = Standing { addressed: true, ..standing(Status::InProgress, StepCode::Discussion, true, 0) };
        let lead = Caller { addressee: Some(true), ..caller(&[Role::TechnicalLead], false, false) };
        let p = plan(
            &def,
            &s,
            &Action::complete(StepCode::Discussion),
            &lead,
            &evidence(&[DocumentKind::Formulation], &[]),
        )
        .unwrap();
        assert_eq!(p.next_actor, CurrentActor::Step(Actor::Role(Role::HeadOfAgency)));
    }

    #[test]
    fn cancelling_closes_the_step_and_leaves_nobody_to_act() {
        let def = sop_2025::internal();
        let p = plan(
            &def,
            &standing(Status::Returned, StepCode::Discussion, true, 0),
            &Action::Cancel,
            &caller(&[Role::HeadOfDivision], false, false),
            &Evidence::default(),
        )
        .unwrap();
        assert_eq!(p.decision.status, Status::Cancelled);
        assert_eq!((p.closes_step, p.opens_round), (Some(StepOutcome::Cancelled), None));
        assert_eq!(p.next_actor, CurrentActor::Nobody);
        assert!(p.reason_required);
    }

    #[test]
    fn refusals_are_decides_refusals() {
        let def = sop_2025::external();
        let s = standing(Status::InProgress, StepCode::Discussion, false, 0);
        let a = Action::Complete { step: StepCode::Discussion, test_passed: None };
        let who = caller(&[Role::TechnicalLead], false, false);
        assert_eq!(
            plan(&def, &s, &a, &who, &Evidence::default()).unwrap_err(),
            decide(&def, &s.state, &a, &who, &Evidence::default()).unwrap_err()
        );
    }
}
