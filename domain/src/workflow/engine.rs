//! The one decision function: given a definition, where a request stands, what someone
//! wants to do and what they brought, say what happens — or why not.
//!
//! Pure: no clock, no database. The service loads the request and computes `Caller`
//! (roles, organization, team membership) and `Evidence`, calls [`decide`], then writes
//! the [`Decision`] (state, step records, audit event) in one transaction.
//!
//! # Checks, in this order (the order fixes the HTTP status when several apply)
//! 1. The request is `rejected`, `withdrawn` or `completed` → `Conflict` (409), whoever
//!    asks: nothing happens to a closed request, and saying so is no leak to a caller
//!    the service has already let see the request.
//! 2. A `Complete` naming a step this flow does not have (e.g. `approval` internally)
//!    → `Conflict`: there is no actor to check against.
//! 3. Who: the caller holds the auditor role → `Forbidden` (403; oversight is read-only,
//!    whatever other roles the account has). Applicant actions (submit, resubmit,
//!    withdraw, edit) need the first step's role *and* membership of the requesting
//!    organization; completing a step needs that step's actor (its role, or membership
//!    of the request's team); return and reject need the current step's actor.
//!    An admin is nobody's actor unless a definition names it.
//! 4. When: wrong status, or `Complete` naming a step that is not current, or return /
//!    reject where the step does not allow it, or withdraw after the office acted
//!    → `Conflict` (409). Checking the actor first means a caller who may never do
//!    something learns 403, while the right actor at the wrong time learns 409.
//! 5. What: required documents and structured outputs → `MissingOutputs` (422), naming
//!    every missing one in definition order.
//!
//! `decide` trusts that the definition passed `WorkflowDefinition::validate` (only
//! published, validated definitions are loaded); on a definition or state that does not
//! fit together it answers `Conflict` with [`ConflictReason::BrokenState`], never panics.

use std::collections::HashSet;
use std::fmt;

use super::definition::{StepDefinition, WorkflowDefinition};
use super::model::{Actor, DocumentKind, EventKind, Role, Status, StepCode, StructuredOutputKind};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestState {
    pub status: Status,
    pub current_step: StepCode,
    /// Anyone other than the applicant has done anything to the request (completed a
    /// step, returned it): from then on it can no longer be withdrawn.
    pub office_has_acted: bool,
}

impl RequestState {
    /// A new request: a draft at the definition's first step (`submit`).
    pub fn draft(def: &WorkflowDefinition) -> Self {
        Self {
            status: Status::Draft,
            current_step: def.first_step().map_or(StepCode::Submit, |s| s.code),
            office_has_acted: false,
        }
    }
}

/// Who is asking, as far as the workflow cares; computed by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub roles: Vec<Role>,
    /// The caller belongs to the organization that made the request.
    pub in_applicant_organization: bool,
    /// The caller is the lead or a member of this request's integration team.
    pub on_team: bool,
    /// Whether the caller is one of the people the disposition was addressed to; `None`
    /// when it named nobody (then every holder of the step's role may act).
    pub addressee: Option<bool>,
    /// The caller belongs to the division the definition routes its office work to (or it
    /// names none): only then do their divisional roles count.
    pub in_office_division: bool,
}

impl Caller {
    /// Whether the caller holds `role` for this request: a divisional role counts only in
    /// the division the flow is routed to.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role) && (self.in_office_division || !role.is_divisional())
    }

    /// Whether the caller is `actor` (a role they hold, or the team they are on).
    pub fn may_act_as(&self, actor: Actor) -> bool {
        match actor {
            Actor::Role(role) => self.has_role(role),
            Actor::Team => self.on_team,
        }
    }

    /// Whether the caller acts on `step`: its actor, or, on a step a disposition
    /// addresses, one of the addressees (whatever their role: the head of division chose
    /// them by name).
    pub fn acts_on(&self, step: &StepDefinition) -> bool {
        match self.addressee {
            Some(addressed) if step.actor_from_disposition => addressed,
            _ => self.may_act_as(step.actor),
        }
    }
}

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Complete the first step (the applicant's). Same as `Complete { step: submit }`.
    Submit,
    /// Complete the named step, which must be the current one. `test_passed` is the
    /// verdict of a step with a `test_result` output (`None` elsewhere).
    Complete { step: StepCode, test_passed: Option<bool> },
    /// Send back to the applicant for revision (the step stays current).
    Return,
    /// The applicant sends a returned request back to the same step.
    Resubmit,
    /// Refuse the request for good.
    Reject,
    /// The applicant takes the request back.
    Withdraw,
    /// The applicant changes the request's fields.
    Edit,
    /// The office closes an open request for good (a role in `may_cancel`).
    Cancel,
    /// The current step's actor sends the request back to the step's `send_back_to`.
    SendBack,
    /// The actor of the step that formed the team changes it while the request is open.
    ChangeTeam,
    /// The actor of the disposition step changes its addressees while the step they act
    /// on is open.
    Redispose,
}

impl Action {
    /// Completing `step`, as an endpoint names it; the test verdict, if the step has one,
    /// comes from the call's body (`with_test_verdict`).
    pub const fn complete(step: StepCode) -> Action {
        Action::Complete { step, test_passed: None }
    }

    /// The same action carrying the verdict of a `test_result` output.
    pub const fn with_test_verdict(self, passed: Option<bool>) -> Action {
        match self {
            Action::Complete { step, .. } => Action::Complete { step, test_passed: passed },
            other => other,
        }
    }
}

/// What the caller brought.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Kinds of the documents uploaded while the current step is current.
    pub documents: HashSet<DocumentKind>,
    /// Kinds uploaded on earlier steps of the request, each by its step's actor: they
    /// count only for a step's `accept_from_earlier`.
    pub earlier_documents: HashSet<DocumentKind>,
    /// Structured outputs supplied in this call's body. The test verdict is read from
    /// `Action::Complete::test_passed` instead: a `test_result` here is ignored, since
    /// it could not say whether the test passed.
    pub outputs: HashSet<StructuredOutputKind>,
}

impl Evidence {
    pub fn new(
        documents: impl IntoIterator<Item = DocumentKind>,
        outputs: impl IntoIterator<Item = StructuredOutputKind>,
    ) -> Self {
        Self {
            documents: documents.into_iter().collect(),
            earlier_documents: HashSet::new(),
            outputs: outputs.into_iter().collect(),
        }
    }

    /// The same evidence with the kinds uploaded on earlier steps.
    pub fn with_earlier(mut self, documents: impl IntoIterator<Item = DocumentKind>) -> Self {
        self.earlier_documents = documents.into_iter().collect();
        self
    }
}

/// What happens. The service applies it as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub status: Status,
    pub current_step: StepCode,
    /// The step whose record closes now (also a failed test: its record closes with the
    /// outcome `test_failed`).
    pub completed_step: Option<StepCode>,
    /// The step whose record opens now, with a fresh due time. `None` on a resubmission:
    /// the same step resumes and its due time moves by the time spent waiting.
    pub started_step: Option<StepCode>,
    pub event: EventKind,
}

/// Why not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The caller may not do this (HTTP 403). `step` is the step whose actor was checked.
    #[error("not allowed at step `{step}`: {reason}")]
    Forbidden { step: StepCode, reason: ForbiddenReason },
    /// Not now: the request's state does not allow it (HTTP 409).
    #[error("request is {status} at step `{step}`: {reason}")]
    Conflict { status: Status, step: StepCode, reason: ConflictReason },
    /// The step's required outputs are not all there (HTTP 422).
    #[error("step `{step}` is missing {}", missing_list(documents, outputs))]
    MissingOutputs { step: StepCode, documents: Vec<DocumentKind>, outputs: Vec<StructuredOutputKind> },
}

fn missing_list(documents: &[DocumentKind], outputs: &[StructuredOutputKind]) -> String {
    let docs = documents.iter().map(|d| format!("document `{d}`"));
    let outs = outputs.iter().map(|o| format!("`{o}`"));
    docs.chain(outs).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForbiddenReason {
    /// The caller holds the auditor role, which is read-only.
    Auditor,
    /// Only a member of the requesting organization with the applicant role may do this.
    NotApplicant,
    /// Only this actor acts on the step.
    NotActor { actor: Actor },
    /// The caller applies for this request (applicant of its organization) and would
    /// decide on it as the office too.
    ConflictOfInterest,
    /// The disposition named other people for this step.
    NotAddressee,
    /// Only these roles may close a request.
    MayNotCancel,
}

impl fmt::Display for ForbiddenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auditor => f.write_str("the auditor role is read-only"),
            Self::NotApplicant => f.write_str("only the applicant of the requesting organization may do this"),
            Self::NotActor { actor: Actor::Team } => {
                f.write_str("only the request's integration team acts on this step")
            }
            Self::NotActor { actor } => write!(f, "only `{actor}` acts on this step"),
            Self::NotAddressee => f.write_str("the disposition addressed this step to other people"),
            Self::MayNotCancel => f.write_str("only the roles the workflow names may close a request"),
            Self::ConflictOfInterest => f.write_str(
                "you hold the applicant role in the organization that made this request; \
                 someone else in the office must act on it",
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictReason {
    /// The request is rejected, withdrawn or completed.
    Closed,
    /// The action is not possible in the request's status.
    WrongStatus,
    /// `Complete` named a step that is not the current one (a stale client).
    NotCurrentStep { requested: StepCode },
    /// `Complete` named a step this flow does not have.
    StepNotInFlow { requested: StepCode },
    /// The current step does not allow returning the request.
    NotReturnable,
    /// The current step does not allow rejecting the request.
    NotRejectable,
    /// Withdrawal is only possible before the office acts.
    OfficeHasActed,
    /// The current step names no earlier step to send the request back to.
    NoSendBack,
    /// No team has been formed yet (or the flow forms none).
    NoTeamYet,
    /// The current step is not one a disposition addresses.
    NotAddressed,
    /// The stored state does not fit the definition (a bug or a bad migration).
    BrokenState,
}

impl fmt::Display for ConflictReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("the request is closed"),
            Self::WrongStatus => f.write_str("not possible in this status"),
            Self::NotCurrentStep { requested } => {
                write!(f, "step `{requested}` is not the current step")
            }
            Self::StepNotInFlow { requested } => {
                write!(f, "this flow has no step `{requested}`")
            }
            Self::NotReturnable => f.write_str("this step cannot return the request"),
            Self::NotRejectable => f.write_str("this step cannot reject the request"),
            Self::OfficeHasActed => f.write_str("the office has already acted on it"),
            Self::NoSendBack => f.write_str("this step cannot send the request back to an earlier step"),
            Self::NoTeamYet => f.write_str("no integration team has been formed yet"),
            Self::NotAddressed => f.write_str("the current step is not acted on by the disposition's addressees"),
            Self::BrokenState => f.write_str("the request's state does not fit its workflow"),
        }
    }
}

/// Whether deciding `action` in `state` can turn on `Caller::on_team`: only when a step it
/// looks at (the first, the current, the one named) is the team's. Membership costs the
/// service a query, so it asks only then; otherwise `on_team` may be given as `false`.
pub fn asks_team_membership(def: &WorkflowDefinition, state: &RequestState, action: &Action) -> bool {
    let team = |step: Option<&StepDefinition>| step.is_some_and(|s| s.actor == Actor::Team);
    let named = match *action {
        Action::Complete { step, .. } => def.step(step),
        _ => None,
    };
    team(def.first_step()) || team(def.step(state.current_step)) || team(named)
}

/// Decides one action. See the module documentation for the order of checks.
pub fn decide(
    def: &WorkflowDefinition,
    state: &RequestState,
    action: &Action,
    caller: &Caller,
    evidence: &Evidence,
) -> Result<Decision, WorkflowError> {
    let ctx = Ctx { def, state, caller };
    if state.status.is_final() {
        return Err(ctx.conflict(ConflictReason::Closed));
    }
    let (first, current) = match (def.first_step(), def.step(state.current_step)) {
        (Some(first), Some(current)) => (first, current),
        _ => return Err(ctx.conflict(ConflictReason::BrokenState)),
    };

    match *action {
        Action::Submit => ctx.complete(first, None, evidence),
        Action::Complete { step, test_passed } => {
            let step = def.step(step).ok_or_else(|| ctx.conflict(ConflictReason::StepNotInFlow { requested: step }))?;
            ctx.complete(step, test_passed, evidence)
        }
        Action::Return => {
            ctx.authorize_actor(current)?;
            ctx.require_status(&[Status::InProgress])?;
            if !current.may_return {
                return Err(ctx.conflict(ConflictReason::NotReturnable));
            }
            Ok(ctx.stay(Status::Returned, EventKind::Returned))
        }
        Action::Reject => {
            ctx.authorize_actor(current)?;
            // Also while returned: the office must be able to close a request the
            // applicant never revises.
            ctx.require_status(&[Status::InProgress, Status::Returned])?;
            if !current.may_reject {
                return Err(ctx.conflict(ConflictReason::NotRejectable));
            }
            Ok(ctx.stay(Status::Rejected, EventKind::Rejected))
        }
        Action::Resubmit => {
            ctx.authorize_applicant(first)?;
            ctx.require_status(&[Status::Returned])?;
            Ok(ctx.stay(Status::InProgress, EventKind::Resubmitted))
        }
        Action::Withdraw => {
            ctx.authorize_applicant(first)?;
            ctx.require_status(&[Status::Draft, Status::InProgress])?;
            if state.status == Status::InProgress && state.office_has_acted {
                return Err(ctx.conflict(ConflictReason::OfficeHasActed));
            }
            Ok(ctx.stay(Status::Withdrawn, EventKind::Withdrawn))
        }
        Action::Edit => {
            ctx.authorize_applicant(first)?;
            ctx.require_status(&[Status::Draft, Status::Returned])?;
            Ok(ctx.stay(state.status, EventKind::Edited))
        }
        Action::Cancel => {
            ctx.authorize_auditor(current)?;
            if !def.may_cancel.iter().any(|&r| caller.has_role(r)) {
                return Err(ctx.forbidden(current, ForbiddenReason::MayNotCancel));
            }
            ctx.authorize_no_conflict(current)?;
            // A draft is the applicant's own (they withdraw it); the office closes what
            // reached it.
            ctx.require_status(&[Status::InProgress, Status::Returned])?;
            Ok(ctx.stay(Status::Cancelled, EventKind::Cancelled))
        }
        Action::SendBack => {
            ctx.authorize_actor(current)?;
            ctx.require_status(&[Status::InProgress])?;
            let target = current.send_back_to.ok_or_else(|| ctx.conflict(ConflictReason::NoSendBack))?;
            if def.step(target).is_none() {
                return Err(ctx.conflict(ConflictReason::BrokenState));
            }
            Ok(Decision {
                status: Status::InProgress,
                current_step: target,
                completed_step: Some(current.code),
                started_step: Some(target),
                event: EventKind::SentBack,
            })
        }
        Action::ChangeTeam => {
            let former = def
                .steps
                .iter()
                .find(|s| s.structured_outputs.contains(&StructuredOutputKind::Team))
                .ok_or_else(|| ctx.conflict(ConflictReason::NoTeamYet))?;
            ctx.authorize_actor(former)?;
            ctx.require_status(&[Status::InProgress, Status::Returned])?;
            if def.position(state.current_step) <= def.position(former.code) {
                return Err(ctx.conflict(ConflictReason::NoTeamYet));
            }
            Ok(ctx.stay(state.status, EventKind::TeamChanged))
        }
        Action::Redispose => {
            let disposer = def
                .steps
                .iter()
                .find(|s| s.structured_outputs.contains(&StructuredOutputKind::Disposition))
                .ok_or_else(|| ctx.conflict(ConflictReason::NotAddressed))?;
            ctx.authorize_actor(disposer)?;
            ctx.require_status(&[Status::InProgress, Status::Returned])?;
            if !current.actor_from_disposition {
                return Err(ctx.conflict(ConflictReason::NotAddressed));
            }
            Ok(ctx.stay(state.status, EventKind::Redisposed))
        }
    }
}

struct Ctx<'a> {
    def: &'a WorkflowDefinition,
    state: &'a RequestState,
    caller: &'a Caller,
}

impl Ctx<'_> {
    fn conflict(&self, reason: ConflictReason) -> WorkflowError {
        WorkflowError::Conflict { status: self.state.status, step: self.state.current_step, reason }
    }

    fn forbidden(&self, step: &StepDefinition, reason: ForbiddenReason) -> WorkflowError {
        WorkflowError::Forbidden { step: step.code, reason }
    }

    fn authorize_auditor(&self, step: &StepDefinition) -> Result<(), WorkflowError> {
        if self.caller.has_role(Role::Auditor) {
            return Err(self.forbidden(step, ForbiddenReason::Auditor));
        }
        Ok(())
    }

    /// The applicant: the first step's actor, from the requesting organization.
    fn authorize_applicant(&self, first: &StepDefinition) -> Result<(), WorkflowError> {
        self.authorize_auditor(first)?;
        if !(self.caller.in_applicant_organization && self.caller.may_act_as(first.actor)) {
            return Err(self.forbidden(first, ForbiddenReason::NotApplicant));
        }
        Ok(())
    }

    fn authorize_actor(&self, step: &StepDefinition) -> Result<(), WorkflowError> {
        if self.is_first(step) {
            return self.authorize_applicant(step);
        }
        self.authorize_auditor(step)?;
        if !self.caller.acts_on(step) {
            let reason = match self.caller.addressee {
                Some(false) if step.actor_from_disposition => ForbiddenReason::NotAddressee,
                _ => ForbiddenReason::NotActor { actor: step.actor },
            };
            return Err(self.forbidden(step, reason));
        }
        self.authorize_no_conflict(step)
    }

    /// Nobody decides on their own organization's request as the office while also
    /// holding its applicant role (a division user who is applicant and lead at once).
    fn authorize_no_conflict(&self, step: &StepDefinition) -> Result<(), WorkflowError> {
        if self.caller.in_applicant_organization && self.caller.has_role(Role::Applicant) {
            return Err(self.forbidden(step, ForbiddenReason::ConflictOfInterest));
        }
        Ok(())
    }

    fn require_status(&self, allowed: &[Status]) -> Result<(), WorkflowError> {
        if allowed.contains(&self.state.status) { Ok(()) } else { Err(self.conflict(ConflictReason::WrongStatus)) }
    }

    fn is_first(&self, step: &StepDefinition) -> bool {
        self.def.first_step().is_some_and(|f| f.code == step.code)
    }

    /// Status changes, the step stays (return, reject, resubmit, withdraw, edit).
    fn stay(&self, status: Status, event: EventKind) -> Decision {
        Decision { status, current_step: self.state.current_step, completed_step: None, started_step: None, event }
    }

    fn complete(
        &self,
        step: &StepDefinition,
        test_passed: Option<bool>,
        evidence: &Evidence,
    ) -> Result<Decision, WorkflowError> {
        let first = self.is_first(step);
        self.authorize_actor(step)?;
        self.require_status(if first { &[Status::Draft] } else { &[Status::InProgress] })?;
        if step.code != self.state.current_step {
            return Err(self.conflict(ConflictReason::NotCurrentStep { requested: step.code }));
        }
        check_evidence(step, test_passed, evidence)?;

        if let Some(back) = step.on_failure
            && test_passed == Some(false)
        {
            return Ok(Decision {
                status: Status::InProgress,
                current_step: back,
                completed_step: Some(step.code),
                started_step: Some(back),
                event: EventKind::TestFailed,
            });
        }
        Ok(match self.def.next_step(step.code) {
            Some(next) => Decision {
                status: Status::InProgress,
                current_step: next.code,
                completed_step: Some(step.code),
                started_step: Some(next.code),
                event: if first { EventKind::Submitted } else { EventKind::StepCompleted },
            },
            None => Decision {
                status: Status::Completed,
                current_step: step.code,
                completed_step: Some(step.code),
                started_step: None,
                event: EventKind::Completed,
            },
        })
    }
}

fn check_evidence(step: &StepDefinition, test_passed: Option<bool>, evidence: &Evidence) -> Result<(), WorkflowError> {
    let carried = |d: &DocumentKind| step.accept_from_earlier.contains(d) && evidence.earlier_documents.contains(d);
    let documents: Vec<DocumentKind> =
        step.required_documents.iter().copied().filter(|d| !evidence.documents.contains(d) && !carried(d)).collect();
    let outputs: Vec<StructuredOutputKind> = step
        .structured_outputs
        .iter()
        .copied()
        .filter(|&o| match o {
            StructuredOutputKind::TestResult => test_passed.is_none(),
            _ => !evidence.outputs.contains(&o),
        })
        .collect();
    if documents.is_empty() && outputs.is_empty() {
        Ok(())
    } else {
        Err(WorkflowError::MissingOutputs { step: step.code, documents, outputs })
    }
}

#[cfg(test)]
mod tests;
