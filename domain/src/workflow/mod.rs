//! The SOP's two flows as data, and the pure decision engine that runs them.
//!
//! No I/O here: definitions are values (`sop_2025` builds version 1; revisions arrive as
//! JSON and pass `WorkflowDefinition::validate`), and `decide` maps a request's state,
//! an action, the caller and the evidence to a decision or a typed refusal. Nothing in
//! this module knows which role acts on which step except through a definition.

pub mod definition;
pub mod engine;
pub mod model;
pub mod plan;
pub mod sop_2025;
pub mod uploads;

pub use definition::{DefinitionError, StepDefinition, WorkflowDefinition};
pub use engine::{
    Action, Caller, ConflictReason, Decision, Evidence, ForbiddenReason, RequestState, WorkflowError,
    asks_team_membership, decide,
};
pub use model::{
    ActingKind, Actor, CurrentActor, Disposition, DispositionInstruction, DocumentKind, EventKind, Flow,
    IntegrationRecord, OutputError, Role, Status, StepCode, StepOutcome, StructuredOutput, StructuredOutputKind,
    TeamList, TestOutcome, TestResult, UnknownName, Visibility,
};
pub use plan::{Plan, Round, Standing, plan};
pub use uploads::{UploadParty, UploadRefusal};
