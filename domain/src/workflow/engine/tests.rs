//! The engine against an independent expectation: the SOP reading of `sop.md` written out
//! below as plain tables, and the rules of the brief written as a plain function, checked
//! for every state × action × caller × evidence combination of both v1 flows.

use super::*;
use crate::workflow::model::{DocumentKind as Doc, StructuredOutputKind as Out};
use crate::workflow::sop_2025;
use Role::*;
use StepCode::*;

/// Who acts on a step, as `sop.md` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Applicant,
    Office(Role),
    Team,
}

/// One step as the test expects it: actor, required documents, required structured
/// outputs, whether it may return/reject.
type Spec = (StepCode, Who, &'static [Doc], &'static [Out], bool);

const EXTERNAL: &[Spec] = &[
    (Submit, Who::Applicant, &[Doc::RequestLetter], &[], false),
    (Disposition, Who::Office(HeadOfDivision), &[], &[Out::Disposition], true),
    (FollowUp, Who::Office(TechnicalLead), &[], &[], true),
    (Discussion, Who::Office(TechnicalLead), &[Doc::Formulation], &[], true),
    (Approval, Who::Office(HeadOfAgency), &[], &[], true),
    (Team, Who::Office(HeadOfDivision), &[Doc::ApiDocument], &[Out::Team], false),
    (Integration, Who::Team, &[], &[Out::IntegrationRecord], false),
    (Testing, Who::Team, &[Doc::TestReport], &[Out::TestResult], false),
    (Implementation, Who::Team, &[Doc::IntegrationReport], &[], false),
    (Report, Who::Office(TechnicalLead), &[Doc::FinalReport], &[], false),
];

const INTERNAL: &[Spec] = &[
    (Submit, Who::Applicant, &[Doc::ApplicationDocument, Doc::MeetingMinutes], &[], false),
    (Disposition, Who::Office(HeadOfDivision), &[Doc::RequestLetter], &[Out::Disposition], true),
    (FollowUp, Who::Office(TechnicalLead), &[], &[], true),
    (Discussion, Who::Office(TechnicalLead), &[Doc::Formulation], &[], true),
    (Team, Who::Office(HeadOfDivision), &[Doc::ApiDocument], &[Out::Team], false),
    (Integration, Who::Team, &[], &[Out::IntegrationRecord], false),
    (Testing, Who::Team, &[Doc::TestReport], &[Out::TestResult], false),
    (Implementation, Who::Team, &[Doc::IntegrationReport], &[], false),
    (Report, Who::Office(TechnicalLead), &[Doc::FinalReport], &[], false),
];

/// Where a step's actor may send the request back to (both flows: approval exists only
/// externally).
const SEND_BACK: &[(StepCode, StepCode)] = &[(Approval, Discussion), (Implementation, Integration)];

/// Steps the disposition's addressees act on, when it named any.
const ADDRESSED: &[StepCode] = &[FollowUp, Discussion];

/// Documents a step accepts from earlier steps: the internal disposition's letter.
fn carried(spec: &[Spec], step: StepCode, doc: Doc) -> bool {
    std::ptr::eq(spec, INTERNAL) && step == Disposition && doc == Doc::RequestLetter
}

fn flows() -> [(WorkflowDefinition, &'static [Spec]); 2] {
    [(sop_2025::external(), EXTERNAL), (sop_2025::internal(), INTERNAL)]
}

/// The outcome, coarse on errors (which error, not its wording), exact on decisions and
/// on missing outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok(Decision),
    Forbidden,
    Conflict,
    Missing(Vec<Doc>, Vec<Out>),
}

fn outcome(r: Result<Decision, WorkflowError>) -> Outcome {
    match r {
        Ok(d) => Outcome::Ok(d),
        Err(WorkflowError::Forbidden { .. }) => Outcome::Forbidden,
        Err(WorkflowError::Conflict { .. }) => Outcome::Conflict,
        Err(WorkflowError::MissingOutputs { documents, outputs, .. }) => Outcome::Missing(documents, outputs),
    }
}

fn decision(
    status: Status,
    current_step: StepCode,
    completed_step: Option<StepCode>,
    started_step: Option<StepCode>,
    event: EventKind,
) -> Outcome {
    Outcome::Ok(Decision { status, current_step, completed_step, started_step, event })
}

/// The rules of the brief, restated without the engine's structure.
fn expected(spec: &[Spec], state: RequestState, action: Action, caller: &Caller, evidence: &Evidence) -> Outcome {
    use Status::*;
    if matches!(state.status, Rejected | Withdrawn | Completed | Cancelled) {
        return Outcome::Conflict;
    }
    let auditor = caller.roles.contains(&Auditor);
    // A division's roles count only in the division the flow is routed to.
    let holds = |role: Role| {
        let divisional = matches!(role, HeadOfDivision | TechnicalLead | TechnicalStaff);
        caller.roles.contains(&role) && (caller.in_office_division || !divisional)
    };
    let applicant = !auditor && caller.in_applicant_organization && caller.roles.contains(&Applicant);
    // Whoever applies for the request does not also decide on it as the office.
    let conflicted = caller.in_applicant_organization && caller.roles.contains(&Applicant);
    let may_at = |i: usize| {
        let (code, who, ..) = spec[i];
        match (who, caller.addressee) {
            (Who::Office(_), Some(addressed)) if ADDRESSED.contains(&code) => !auditor && !conflicted && addressed,
            (Who::Applicant, _) => applicant,
            (Who::Office(role), _) => !auditor && !conflicted && holds(role),
            (Who::Team, _) => !auditor && !conflicted && caller.on_team,
        }
    };
    let index = |code: StepCode| spec.iter().position(|s| s.0 == code);
    let Some(cur) = index(state.current_step) else {
        return Outcome::Conflict;
    };
    let (_, _, _, _, reviewable) = spec[cur];
    let open = matches!(state.status, InProgress | Returned);
    let stay = |status, event| decision(status, state.current_step, None, None, event);
    let missing = |i: usize, test_passed: Option<bool>| {
        let (code, _, docs, outs, _) = spec[i];
        let docs: Vec<Doc> = docs
            .iter()
            .copied()
            .filter(|&d| {
                let carried_forward = carried(spec, code, d) && evidence.earlier_documents.contains(&d);
                !(evidence.documents.contains(&d) || carried_forward)
            })
            .collect();
        let outs: Vec<Out> = outs
            .iter()
            .copied()
            .filter(|&o| if o == Out::TestResult { test_passed.is_none() } else { !evidence.outputs.contains(&o) })
            .collect();
        (!docs.is_empty() || !outs.is_empty()).then_some(Outcome::Missing(docs, outs))
    };

    match action {
        Action::Submit | Action::Complete { step: Submit, test_passed: _ } => {
            if !applicant {
                Outcome::Forbidden
            } else if state.status != Draft || state.current_step != Submit {
                Outcome::Conflict
            } else if let Some(m) = missing(0, None) {
                m
            } else {
                decision(InProgress, spec[1].0, Some(Submit), Some(spec[1].0), EventKind::Submitted)
            }
        }
        Action::Complete { step, test_passed } => {
            let Some(i) = index(step) else {
                return Outcome::Conflict;
            };
            if !may_at(i) {
                Outcome::Forbidden
            } else if state.status != InProgress || step != state.current_step {
                Outcome::Conflict
            } else if let Some(m) = missing(i, test_passed) {
                m
            } else if step == Testing && test_passed == Some(false) {
                decision(InProgress, Integration, Some(Testing), Some(Integration), EventKind::TestFailed)
            } else if i + 1 == spec.len() {
                decision(Completed, step, Some(step), None, EventKind::Completed)
            } else {
                let next = spec[i + 1].0;
                decision(InProgress, next, Some(step), Some(next), EventKind::StepCompleted)
            }
        }
        Action::Return => {
            if !may_at(cur) {
                Outcome::Forbidden
            } else if state.status != InProgress || !reviewable {
                Outcome::Conflict
            } else {
                stay(Returned, EventKind::Returned)
            }
        }
        Action::Reject => {
            if !may_at(cur) {
                Outcome::Forbidden
            } else if !matches!(state.status, InProgress | Returned) || !reviewable {
                Outcome::Conflict
            } else {
                stay(Rejected, EventKind::Rejected)
            }
        }
        Action::Resubmit => match (applicant, state.status) {
            (false, _) => Outcome::Forbidden,
            (true, Returned) => stay(InProgress, EventKind::Resubmitted),
            (true, _) => Outcome::Conflict,
        },
        Action::Withdraw => match (applicant, state.status, state.office_has_acted) {
            (false, _, _) => Outcome::Forbidden,
            (true, Draft, _) | (true, InProgress, false) => stay(Withdrawn, EventKind::Withdrawn),
            (true, _, _) => Outcome::Conflict,
        },
        Action::Edit => match (applicant, state.status) {
            (false, _) => Outcome::Forbidden,
            (true, Draft | Returned) => stay(state.status, EventKind::Edited),
            (true, _) => Outcome::Conflict,
        },
        Action::Cancel => {
            let may_cancel = holds(HeadOfDivision) || holds(HeadOfAgency);
            if auditor || !may_cancel || conflicted {
                Outcome::Forbidden
            } else if !open {
                Outcome::Conflict
            } else {
                stay(Cancelled, EventKind::Cancelled)
            }
        }
        Action::SendBack => {
            let target = SEND_BACK.iter().find(|(from, _)| *from == state.current_step).map(|&(_, to)| to);
            if !may_at(cur) {
                Outcome::Forbidden
            } else if state.status != InProgress {
                Outcome::Conflict
            } else if let Some(to) = target {
                decision(InProgress, to, Some(state.current_step), Some(to), EventKind::SentBack)
            } else {
                Outcome::Conflict
            }
        }
        Action::ChangeTeam => {
            let team = index(Team).expect("both flows form a team");
            if !may_at(team) {
                Outcome::Forbidden
            } else if !open || cur <= team {
                Outcome::Conflict
            } else {
                stay(state.status, EventKind::TeamChanged)
            }
        }
        Action::Redispose => {
            let disposition = index(Disposition).expect("both flows have a disposition");
            if !may_at(disposition) {
                Outcome::Forbidden
            } else if !open || !ADDRESSED.contains(&state.current_step) {
                Outcome::Conflict
            } else {
                stay(state.status, EventKind::Redisposed)
            }
        }
    }
}

fn all_actions() -> Vec<Action> {
    let mut actions = vec![
        Action::Submit,
        Action::Return,
        Action::Resubmit,
        Action::Reject,
        Action::Withdraw,
        Action::Edit,
        Action::Cancel,
        Action::SendBack,
        Action::ChangeTeam,
        Action::Redispose,
    ];
    for &step in StepCode::ALL {
        for test_passed in [None, Some(true), Some(false)] {
            actions.push(Action::Complete { step, test_passed });
        }
    }
    actions
}

fn all_callers() -> Vec<Caller> {
    let mut role_sets: Vec<Vec<Role>> = Role::ALL.iter().map(|&r| vec![r]).collect();
    role_sets.extend([
        vec![],
        vec![TechnicalLead, HeadOfDivision],
        vec![Applicant, Auditor],
        vec![HeadOfAgency, Admin],
        vec![TechnicalStaff, TechnicalLead],
        vec![Applicant, TechnicalLead, HeadOfDivision],
    ]);
    let mut callers = Vec::new();
    for roles in role_sets {
        for in_applicant_organization in [false, true] {
            for on_team in [false, true] {
                for addressee in [None, Some(false), Some(true)] {
                    for in_office_division in [true, false] {
                        callers.push(Caller {
                            roles: roles.clone(),
                            in_applicant_organization,
                            on_team,
                            addressee,
                            in_office_division,
                        });
                    }
                }
            }
        }
    }
    callers
}

fn all_evidence() -> [Evidence; 4] {
    [
        Evidence::default(),
        Evidence::new(Doc::ALL.iter().copied(), Out::ALL.iter().copied()),
        Evidence::new(Doc::ALL.iter().copied(), []),
        // Nothing uploaded on this step, everything on earlier ones: only what a step
        // accepts from earlier counts.
        Evidence::new([], Out::ALL.iter().copied()).with_earlier(Doc::ALL.iter().copied()),
    ]
}

#[test]
fn every_state_action_caller_and_evidence() {
    let actions = all_actions();
    let callers = all_callers();
    let evidence = all_evidence();
    for (def, spec) in flows() {
        let mut seen = [0usize; 4];
        for &(current_step, ..) in spec {
            for &status in Status::ALL {
                for office_has_acted in [false, true] {
                    let state = RequestState { status, current_step, office_has_acted };
                    for action in &actions {
                        for caller in &callers {
                            for ev in &evidence {
                                let got = outcome(decide(&def, &state, action, caller, ev));
                                let want = expected(spec, state, *action, caller, ev);
                                assert_eq!(got, want, "{:?} {state:?} {action:?} {caller:?} {ev:?}", def.flow);
                                seen[match got {
                                    Outcome::Ok(_) => 0,
                                    Outcome::Forbidden => 1,
                                    Outcome::Conflict => 2,
                                    Outcome::Missing(..) => 3,
                                }] += 1;
                            }
                        }
                    }
                }
            }
        }
        // Every kind of outcome is exercised, not just the easy refusals.
        assert!(seen.iter().all(|&n| n > 1000), "{:?}: {seen:?}", def.flow);
    }
}

/// The service skips the team lookup where `asks_team_membership` says no: there, being on
/// the team must never change a decision.
#[test]
fn team_membership_is_asked_for_wherever_it_can_matter() {
    let (actions, callers, evidence) = (all_actions(), all_callers(), all_evidence());
    for (def, spec) in flows() {
        let (mut asked, mut mattered) = (0, 0);
        for &(current_step, ..) in spec {
            for &status in Status::ALL {
                for office_has_acted in [false, true] {
                    let state = RequestState { status, current_step, office_has_acted };
                    for action in &actions {
                        let asks = asks_team_membership(&def, &state, action);
                        asked += usize::from(asks);
                        for caller in callers.iter().filter(|c| !c.on_team) {
                            let member = Caller { on_team: true, ..caller.clone() };
                            for ev in &evidence {
                                let outside = outcome(decide(&def, &state, action, caller, ev));
                                let inside = outcome(decide(&def, &state, action, &member, ev));
                                if outside != inside {
                                    mattered += 1;
                                    assert!(asks, "{:?} {state:?} {action:?} {caller:?} {ev:?}", def.flow);
                                }
                            }
                        }
                    }
                }
            }
        }
        // The team's steps exist in both flows and membership decides there.
        assert!(mattered > 100 && asked > 0, "{:?}: asked {asked}, mattered {mattered}", def.flow);
    }
}

/// The caller who may complete `step` of `spec`, and the evidence it needs.
fn actor_for(spec: &[Spec], step: StepCode) -> (Caller, Evidence) {
    let &(_, who, docs, outs, _) = spec.iter().find(|s| s.0 == step).expect("step in spec");
    let caller = match who {
        Who::Applicant => Caller {
            roles: vec![Applicant],
            in_applicant_organization: true,
            on_team: false,
            addressee: None,
            in_office_division: true,
        },
        Who::Office(role) => Caller {
            roles: vec![role],
            in_applicant_organization: false,
            on_team: false,
            addressee: None,
            in_office_division: true,
        },
        Who::Team => Caller {
            roles: vec![TechnicalStaff],
            in_applicant_organization: false,
            on_team: true,
            addressee: None,
            in_office_division: true,
        },
    };
    (caller, Evidence::new(docs.iter().copied(), outs.iter().copied()))
}

fn applicant() -> Caller {
    actor_for(EXTERNAL, Submit).0
}

/// Applies a decision the way the service would.
fn apply(state: &mut RequestState, d: &Decision, by_applicant: bool) {
    state.status = d.status;
    state.current_step = d.current_step;
    state.office_has_acted |= !by_applicant;
}

fn complete(step: StepCode, test_passed: Option<bool>) -> Action {
    Action::Complete { step, test_passed }
}

fn run(def: &WorkflowDefinition, state: &mut RequestState, action: Action, caller: &Caller, ev: &Evidence) -> Decision {
    let d = decide(def, state, &action, caller, ev)
        .unwrap_or_else(|e| panic!("{action:?} at {state:?} by {caller:?}: {e}"));
    apply(state, &d, caller.in_applicant_organization);
    d
}

#[test]
fn happy_path_from_draft_to_completed() {
    let external =
        [Submit, Disposition, FollowUp, Discussion, Approval, Team, Integration, Testing, Implementation, Report];
    let internal = [Submit, Disposition, FollowUp, Discussion, Team, Integration, Testing, Implementation, Report];
    for ((def, spec), codes) in flows().into_iter().zip([&external[..], &internal[..]]) {
        let mut state = RequestState::draft(&def);
        assert_eq!(state, RequestState { status: Status::Draft, current_step: Submit, office_has_acted: false });
        for (i, &code) in codes.iter().enumerate() {
            let (caller, ev) = actor_for(spec, code);
            let test_passed = (code == Testing).then_some(true);
            let d = run(&def, &mut state, complete(code, test_passed), &caller, &ev);
            let want = match (i, codes.get(i + 1)) {
                (0, Some(&next)) => Decision {
                    status: Status::InProgress,
                    current_step: next,
                    completed_step: Some(code),
                    started_step: Some(next),
                    event: EventKind::Submitted,
                },
                (_, Some(&next)) => Decision {
                    status: Status::InProgress,
                    current_step: next,
                    completed_step: Some(code),
                    started_step: Some(next),
                    event: EventKind::StepCompleted,
                },
                (_, None) => Decision {
                    status: Status::Completed,
                    current_step: Report,
                    completed_step: Some(Report),
                    started_step: None,
                    event: EventKind::Completed,
                },
            };
            assert_eq!(d, want, "{:?} {code}", def.flow);
        }
        assert_eq!(state.status, Status::Completed);
    }
}

#[test]
fn submit_and_complete_submit_are_the_same() {
    for (def, spec) in flows() {
        let (caller, ev) = actor_for(spec, Submit);
        let draft = RequestState::draft(&def);
        assert_eq!(
            decide(&def, &draft, &Action::Submit, &caller, &ev),
            decide(&def, &draft, &complete(Submit, None), &caller, &ev)
        );
    }
}

fn missing(r: Result<Decision, WorkflowError>) -> (StepCode, Vec<Doc>, Vec<Out>) {
    match r {
        Err(WorkflowError::MissingOutputs { step, documents, outputs }) => (step, documents, outputs),
        other => panic!("expected missing outputs, got {other:?}"),
    }
}

fn at(step: StepCode) -> RequestState {
    RequestState {
        status: if step == Submit { Status::Draft } else { Status::InProgress },
        current_step: step,
        office_has_acted: step != Submit,
    }
}

#[test]
fn missing_outputs_are_named_precisely() {
    let ext = sop_2025::external();
    let int = sop_2025::internal();
    let none = Evidence::default();
    let app = applicant();

    // External submit without the letter; another kind of document does not count.
    let other = Evidence::new([Doc::Other, Doc::ApplicationDocument], []);
    assert_eq!(
        missing(decide(&ext, &at(Submit), &Action::Submit, &app, &other)),
        (Submit, vec![Doc::RequestLetter], vec![])
    );
    // Internal submit needs the application document and the meeting minutes.
    assert_eq!(
        missing(decide(&int, &at(Submit), &Action::Submit, &app, &none)),
        (Submit, vec![Doc::ApplicationDocument, Doc::MeetingMinutes], vec![])
    );
    let only_app = Evidence::new([Doc::ApplicationDocument], []);
    assert_eq!(
        missing(decide(&int, &at(Submit), &Action::Submit, &app, &only_app)),
        (Submit, vec![Doc::MeetingMinutes], vec![])
    );

    // Disposition: the structured disposition (and internally also the letter).
    let (head, _) = actor_for(EXTERNAL, Disposition);
    let sheet = Evidence::new([Doc::DispositionSheet], []);
    let act = complete(Disposition, None);
    assert_eq!(
        missing(decide(&ext, &at(Disposition), &act, &head, &sheet)),
        (Disposition, vec![], vec![Out::Disposition])
    );
    assert_eq!(
        missing(decide(&int, &at(Disposition), &act, &head, &sheet)),
        (Disposition, vec![Doc::RequestLetter], vec![Out::Disposition])
    );

    // Team: both the API document and the team list.
    let act = complete(Team, None);
    assert_eq!(missing(decide(&ext, &at(Team), &act, &head, &none)), (Team, vec![Doc::ApiDocument], vec![Out::Team]));
    let doc_only = Evidence::new([Doc::ApiDocument], [Out::Disposition]);
    assert_eq!(missing(decide(&ext, &at(Team), &act, &head, &doc_only)), (Team, vec![], vec![Out::Team]));

    // Testing: the verdict comes from `test_passed`; a `test_result` in the evidence
    // says nothing about pass or fail and does not count.
    let (team, _) = actor_for(EXTERNAL, Testing);
    let claims = Evidence::new([], [Out::TestResult]);
    assert_eq!(
        missing(decide(&int, &at(Testing), &complete(Testing, None), &team, &claims)),
        (Testing, vec![Doc::TestReport], vec![Out::TestResult])
    );
    let report = Evidence::new([Doc::TestReport], []);
    assert_eq!(
        missing(decide(&int, &at(Testing), &complete(Testing, None), &team, &report)),
        (Testing, vec![], vec![Out::TestResult])
    );
    // A failed test needs its report too.
    assert_eq!(
        missing(decide(&int, &at(Testing), &complete(Testing, Some(false)), &team, &none)),
        (Testing, vec![Doc::TestReport], vec![])
    );

    // Steps with nothing to supply complete with no evidence at all.
    let (lead, _) = actor_for(EXTERNAL, FollowUp);
    assert!(decide(&ext, &at(FollowUp), &complete(FollowUp, None), &lead, &none).is_ok());
    let (boss, _) = actor_for(EXTERNAL, Approval);
    assert!(decide(&ext, &at(Approval), &complete(Approval, None), &boss, &none).is_ok());

    let e = decide(&ext, &at(Team), &complete(Team, None), &head, &none).unwrap_err();
    assert_eq!(e.to_string(), "step `team` is missing document `api_document`, `team`");
}

#[test]
fn a_failed_test_goes_back_to_the_build_and_round_again() {
    for (def, spec) in flows() {
        let mut state = at(Integration);
        let (team, build) = actor_for(spec, Integration);
        let (_, tested) = actor_for(spec, Testing);
        let mut events = Vec::new();
        for verdict in [false, false, true] {
            run(&def, &mut state, complete(Integration, None), &team, &build);
            assert_eq!((state.status, state.current_step), (Status::InProgress, Testing));
            let d = run(&def, &mut state, complete(Testing, Some(verdict)), &team, &tested);
            events.push(d.event);
            if !verdict {
                assert_eq!(
                    d,
                    Decision {
                        status: Status::InProgress,
                        current_step: Integration,
                        completed_step: Some(Testing),
                        started_step: Some(Integration),
                        event: EventKind::TestFailed,
                    }
                );
            }
        }
        assert_eq!(events, [EventKind::TestFailed, EventKind::TestFailed, EventKind::StepCompleted]);
        assert_eq!(state.current_step, Implementation);
        // A verdict given where no test is run changes nothing.
        let (team, ev) = actor_for(spec, Implementation);
        let d = decide(&def, &state, &complete(Implementation, Some(false)), &team, &ev);
        assert_eq!(d.map(|d| d.event), Ok(EventKind::StepCompleted));
    }
}

#[test]
fn return_and_resubmit_resume_the_same_step() {
    for (def, spec) in flows() {
        for &(code, _, _, _, reviewable) in spec.iter().skip(1) {
            let (actor, ev) = actor_for(spec, code);
            let mut state = at(code);
            let r = decide(&def, &state, &Action::Return, &actor, &Evidence::default());
            if !reviewable {
                assert!(
                    matches!(r, Err(WorkflowError::Conflict { reason: ConflictReason::NotReturnable, .. })),
                    "{code}: {r:?}"
                );
                continue;
            }
            let d = run(&def, &mut state, Action::Return, &actor, &ev);
            assert_eq!(
                d,
                Decision {
                    status: Status::Returned,
                    current_step: code,
                    completed_step: None,
                    started_step: None,
                    event: EventKind::Returned,
                }
            );
            // While returned the office waits: no completing, no second return.
            assert!(decide(&def, &state, &complete(code, None), &actor, &ev).is_err());
            assert!(decide(&def, &state, &Action::Return, &actor, &ev).is_err());
            // The applicant revises and resubmits; the same step resumes.
            run(&def, &mut state, Action::Edit, &applicant(), &ev);
            let d = run(&def, &mut state, Action::Resubmit, &applicant(), &ev);
            assert_eq!(
                d,
                Decision {
                    status: Status::InProgress,
                    current_step: code,
                    completed_step: None,
                    started_step: None,
                    event: EventKind::Resubmitted,
                }
            );
            // And the step's actor carries on from there.
            let d = run(&def, &mut state, complete(code, None), &actor, &ev);
            assert_eq!(d.completed_step, Some(code));
            assert_eq!(d.event, EventKind::StepCompleted);
        }
    }
}

#[test]
fn returns_and_rejections_only_at_the_review_steps() {
    let open: Vec<StepCode> = EXTERNAL.iter().filter(|s| s.4).map(|s| s.0).collect();
    assert_eq!(open, [Disposition, FollowUp, Discussion, Approval]);
    let open: Vec<StepCode> = INTERNAL.iter().filter(|s| s.4).map(|s| s.0).collect();
    assert_eq!(open, [Disposition, FollowUp, Discussion]);
}

#[test]
fn rejection_is_final() {
    for (def, spec) in flows() {
        let (head, _) = actor_for(spec, Disposition);
        let mut state = at(Disposition);
        let d = run(&def, &mut state, Action::Reject, &head, &Evidence::default());
        assert_eq!((d.status, d.current_step, d.event), (Status::Rejected, Disposition, EventKind::Rejected));
        let everything = Evidence::new(Doc::ALL.iter().copied(), Out::ALL.iter().copied());
        for action in all_actions() {
            for caller in all_callers() {
                assert_eq!(
                    decide(&def, &state, &action, &caller, &everything),
                    Err(WorkflowError::Conflict {
                        status: Status::Rejected,
                        step: Disposition,
                        reason: ConflictReason::Closed
                    })
                );
            }
        }
    }
}

#[test]
fn a_returned_request_can_still_be_rejected_by_the_steps_actor() {
    let def = sop_2025::external();
    let (lead, _) = actor_for(EXTERNAL, Discussion);
    let returned = RequestState { status: Status::Returned, current_step: Discussion, office_has_acted: true };
    let none = Evidence::default();
    assert_eq!(decide(&def, &returned, &Action::Reject, &lead, &none).map(|d| d.status), Ok(Status::Rejected));
    let (head, _) = actor_for(EXTERNAL, Disposition);
    assert!(matches!(decide(&def, &returned, &Action::Reject, &head, &none), Err(WorkflowError::Forbidden { .. })));
}

#[test]
fn withdraw_only_before_the_office_acts() {
    let def = sop_2025::external();
    let app = applicant();
    let none = Evidence::default();
    let withdraw = |state: &RequestState, caller: &Caller| decide(&def, state, &Action::Withdraw, caller, &none);

    // A draft, and a submitted request nobody has touched: yes.
    let draft = RequestState::draft(&def);
    assert_eq!(withdraw(&draft, &app).map(|d| d.status), Ok(Status::Withdrawn));
    let mut state = draft;
    let (_, letter) = actor_for(EXTERNAL, Submit);
    run(&def, &mut state, Action::Submit, &app, &letter);
    assert!(!state.office_has_acted);
    assert_eq!(
        withdraw(&state, &app),
        Ok(Decision {
            status: Status::Withdrawn,
            current_step: Disposition,
            completed_step: None,
            started_step: None,
            event: EventKind::Withdrawn,
        })
    );

    // Once the disposition is written: no.
    let (head, disp) = actor_for(EXTERNAL, Disposition);
    run(&def, &mut state, complete(Disposition, None), &head, &disp);
    assert_eq!(
        withdraw(&state, &app),
        Err(WorkflowError::Conflict {
            status: Status::InProgress,
            step: FollowUp,
            reason: ConflictReason::OfficeHasActed
        })
    );
    // Nor while returned (the office acted by returning it).
    let (lead, _) = actor_for(EXTERNAL, FollowUp);
    run(&def, &mut state, Action::Return, &lead, &none);
    assert!(matches!(withdraw(&state, &app), Err(WorkflowError::Conflict { reason: ConflictReason::WrongStatus, .. })));

    // Only the applicant of the requesting organization.
    let outsider = Caller { in_applicant_organization: false, ..applicant() };
    let colleague = Caller {
        roles: vec![TechnicalStaff],
        in_applicant_organization: true,
        on_team: false,
        addressee: None,
        in_office_division: true,
    };
    for caller in [outsider, colleague] {
        assert_eq!(
            withdraw(&draft, &caller),
            Err(WorkflowError::Forbidden { step: Submit, reason: ForbiddenReason::NotApplicant })
        );
    }
}

#[test]
fn the_auditor_never_acts() {
    let everyone = Caller {
        roles: Role::ALL.to_vec(),
        in_applicant_organization: true,
        on_team: true,
        addressee: None,
        in_office_division: true,
    };
    let everything = Evidence::new(Doc::ALL.iter().copied(), Out::ALL.iter().copied());
    for (def, spec) in flows() {
        for &(current_step, ..) in spec {
            for &status in Status::ALL {
                let state = RequestState { status, current_step, office_has_acted: false };
                for action in all_actions() {
                    let r = decide(&def, &state, &action, &everyone, &everything);
                    assert!(
                        matches!(
                            r,
                            Err(WorkflowError::Forbidden { reason: ForbiddenReason::Auditor, .. })
                                | Err(WorkflowError::Conflict {
                                    reason: ConflictReason::Closed | ConflictReason::StepNotInFlow { .. },
                                    ..
                                })
                        ),
                        "{state:?} {action:?}: {r:?}"
                    );
                }
            }
        }
    }
}

/// The engine knows roles only through the definition: give the approval to the admin
/// and the admin approves, the head of agency may not.
#[test]
fn actors_come_from_the_definition() {
    let mut def = sop_2025::external();
    def.version = 2;
    def.steps.iter_mut().find(|s| s.code == Approval).expect("external has approval").actor = Actor::Role(Admin);
    assert_eq!(def.validate(), Ok(()));

    let state = at(Approval);
    let none = Evidence::default();
    let admin = Caller {
        roles: vec![Admin],
        in_applicant_organization: false,
        on_team: false,
        addressee: None,
        in_office_division: true,
    };
    let (boss, _) = actor_for(EXTERNAL, Approval);
    let act = complete(Approval, None);
    assert_eq!(decide(&def, &state, &act, &admin, &none).map(|d| d.current_step), Ok(Team));
    assert_eq!(
        decide(&def, &state, &act, &boss, &none),
        Err(WorkflowError::Forbidden {
            step: Approval,
            reason: ForbiddenReason::NotActor { actor: Actor::Role(Admin) }
        })
    );
    // …while under v1 the admin is nobody's actor.
    let v1 = sop_2025::external();
    assert!(matches!(decide(&v1, &state, &act, &admin, &none), Err(WorkflowError::Forbidden { .. })));
}

#[test]
fn error_details_and_order() {
    let ext = sop_2025::external();
    let int = sop_2025::internal();
    let none = Evidence::default();
    let (lead, _) = actor_for(EXTERNAL, FollowUp);
    let (head, _) = actor_for(EXTERNAL, Disposition);
    let (boss, _) = actor_for(EXTERNAL, Approval);

    // Not the actor of the named step: 403, even when it is not current.
    let r = decide(&ext, &at(FollowUp), &complete(Disposition, None), &lead, &none);
    assert_eq!(
        r,
        Err(WorkflowError::Forbidden {
            step: Disposition,
            reason: ForbiddenReason::NotActor { actor: Actor::Role(HeadOfDivision) }
        })
    );
    assert_eq!(
        r.unwrap_err().to_string(),
        "not allowed at step `disposition`: only `head_of_division` acts on this step"
    );
    // The right actor at the wrong time: 409.
    let r = decide(&ext, &at(FollowUp), &complete(Team, None), &head, &none);
    assert_eq!(
        r,
        Err(WorkflowError::Conflict {
            status: Status::InProgress,
            step: FollowUp,
            reason: ConflictReason::NotCurrentStep { requested: Team }
        })
    );
    // A step the flow does not have: 409 for everyone.
    let r = decide(&int, &at(Discussion), &complete(Approval, None), &boss, &none);
    assert_eq!(
        r,
        Err(WorkflowError::Conflict {
            status: Status::InProgress,
            step: Discussion,
            reason: ConflictReason::StepNotInFlow { requested: Approval }
        })
    );
    // Team steps need team membership, whatever the role.
    let lead_off_team = Caller {
        roles: vec![TechnicalLead, TechnicalStaff],
        in_applicant_organization: false,
        on_team: false,
        addressee: None,
        in_office_division: true,
    };
    let r = decide(&ext, &at(Integration), &complete(Integration, None), &lead_off_team, &none);
    let e = r.unwrap_err();
    assert_eq!(
        e,
        WorkflowError::Forbidden { step: Integration, reason: ForbiddenReason::NotActor { actor: Actor::Team } }
    );
    assert!(e.to_string().contains("integration team"));
    // Missing outputs come last: a wrong actor with nothing is told 403, not 422.
    let r = decide(&ext, &at(Team), &complete(Team, None), &lead, &none);
    assert!(matches!(r, Err(WorkflowError::Forbidden { .. })));
    // Submitting twice.
    let state = RequestState { status: Status::InProgress, current_step: Disposition, office_has_acted: false };
    let (app, letter) = actor_for(EXTERNAL, Submit);
    assert_eq!(
        decide(&ext, &state, &Action::Submit, &app, &letter),
        Err(WorkflowError::Conflict {
            status: Status::InProgress,
            step: Disposition,
            reason: ConflictReason::WrongStatus
        })
    );
    // Return where the step does not allow it.
    assert_eq!(
        decide(&ext, &at(Team), &Action::Return, &head, &none),
        Err(WorkflowError::Conflict { status: Status::InProgress, step: Team, reason: ConflictReason::NotReturnable })
    );
    assert_eq!(
        decide(&ext, &at(Report), &Action::Reject, &lead, &none).unwrap_err().to_string(),
        "request is in_progress at step `report`: this step cannot reject the request"
    );
    // The auditor is told so before anything about the step.
    let auditor = Caller {
        roles: vec![Auditor],
        in_applicant_organization: true,
        on_team: true,
        addressee: None,
        in_office_division: true,
    };
    assert_eq!(
        decide(&ext, &at(Integration), &complete(Integration, None), &auditor, &none),
        Err(WorkflowError::Forbidden { step: Integration, reason: ForbiddenReason::Auditor })
    );
}

#[test]
fn a_state_that_does_not_fit_the_definition_is_a_conflict_not_a_panic() {
    let int = sop_2025::internal();
    let stray = RequestState { status: Status::InProgress, current_step: Approval, office_has_acted: true };
    let (boss, _) = actor_for(EXTERNAL, Approval);
    assert_eq!(
        decide(&int, &stray, &Action::Reject, &boss, &Evidence::default()),
        Err(WorkflowError::Conflict {
            status: Status::InProgress,
            step: Approval,
            reason: ConflictReason::BrokenState
        })
    );
    let mut empty = int.clone();
    empty.steps.clear();
    assert_eq!(RequestState::draft(&empty).current_step, Submit);
    assert!(matches!(
        decide(&empty, &at(Submit), &Action::Submit, &applicant(), &Evidence::default()),
        Err(WorkflowError::Conflict { reason: ConflictReason::BrokenState, .. })
    ));
}

/// Long random sequences of actions by random callers, applied as the service would:
/// closed requests stay closed, the step only moves along the flow (or back by the
/// failure loop), a new step record opens exactly when the step moves, and only an
/// untouched request can be withdrawn.
#[test]
fn random_walks_keep_the_invariants() {
    let callers = all_callers();
    let actions = all_actions();
    let evidence = all_evidence();
    let mut seed: u64 = 0x5eed_2025_0107;
    let mut next = |n: usize| {
        // xorshift64*: deterministic, good enough to pick test inputs.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let x = seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33;
        usize::try_from(x).unwrap() % n
    };
    for (def, spec) in flows() {
        let index = |c: StepCode| spec.iter().position(|s| s.0 == c).unwrap();
        let mut events = std::collections::HashMap::new();
        for _ in 0..1000 {
            let mut state = RequestState::draft(&def);
            for _ in 0..300 {
                // Half the time, try the current step: otherwise walks rarely get far.
                let action = if next(2) == 0 {
                    let test_passed = [None, Some(true), Some(false)][next(3)];
                    complete(state.current_step, test_passed)
                } else {
                    actions[next(actions.len())]
                };
                let caller = &callers[next(callers.len())];
                let ev = &evidence[next(evidence.len())];
                let before = state;
                let Ok(d) = decide(&def, &state, &action, caller, ev) else {
                    continue;
                };
                assert!(!before.status.is_final());
                let (from, to) = (index(before.current_step), index(d.current_step));
                match d.event {
                    EventKind::Submitted | EventKind::StepCompleted => assert_eq!(to, from + 1),
                    EventKind::TestFailed => assert_eq!((before.current_step, d.current_step), (Testing, Integration)),
                    EventKind::Completed => assert_eq!(from, spec.len() - 1),
                    EventKind::SentBack => {
                        assert!(SEND_BACK.contains(&(before.current_step, d.current_step)), "{d:?}");
                        assert!(to < from);
                    }
                    _ => assert_eq!(to, from),
                }
                assert_eq!(d.started_step.is_some(), to != from, "{d:?}");
                assert_eq!(d.started_step, d.started_step.and(Some(d.current_step)));
                if d.event == EventKind::Withdrawn {
                    assert!(before.status == Status::Draft || !before.office_has_acted);
                }
                *events.entry(d.event).or_insert(0) += 1;
                let by_applicant = caller.in_applicant_organization && caller.roles.contains(&Applicant);
                apply(&mut state, &d, by_applicant);
            }
        }
        // The walks went everywhere: every kind of event happened.
        for event in EventKind::ALL {
            assert!(events.get(event).copied().unwrap_or(0) > 0, "{:?}: no {event}", def.flow);
        }
    }
}

#[test]
fn an_applicant_does_not_decide_on_their_own_organizations_request() {
    let both = Caller {
        roles: vec![Applicant, TechnicalLead],
        in_applicant_organization: true,
        on_team: false,
        addressee: None,
        in_office_division: true,
    };
    let def = sop_2025::internal();
    let state = RequestState { status: Status::InProgress, current_step: FollowUp, office_has_acted: true };
    for action in [Action::complete(FollowUp), Action::Return, Action::Reject] {
        assert_eq!(
            decide(&def, &state, &action, &both, &Evidence::default()),
            Err(WorkflowError::Forbidden { step: FollowUp, reason: ForbiddenReason::ConflictOfInterest }),
            "{action:?}"
        );
    }
    // The same person may act on another organization's request, and a colleague may act on theirs.
    let elsewhere = Caller { in_applicant_organization: false, ..both.clone() };
    assert!(decide(&def, &state, &Action::complete(FollowUp), &elsewhere, &Evidence::default()).is_ok());
    let colleague = Caller {
        roles: vec![TechnicalLead],
        in_applicant_organization: true,
        on_team: false,
        addressee: None,
        in_office_division: true,
    };
    assert!(decide(&def, &state, &Action::complete(FollowUp), &colleague, &Evidence::default()).is_ok());
}
