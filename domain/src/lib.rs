//! Jembatan's pure core, in a crate of its own so that nothing here can reach a database,
//! an HTTP request or the clock: the compiler keeps it pure (no sea-orm, no actix in its
//! dependencies).
//!
//! - [`workflow`]: the SOP's two flows as versioned data and the decision engine
//!   (`decide`, `may_upload`) that runs them.
//! - [`calendar`]: working-time arithmetic on the office's calendar (due times, elapsed
//!   working time, SLA states).
//! - [`integral`]: integers in JSON, as definitions and bodies write them.
//! - [`tlog`]: the audit trail's transparency log: RFC 9162 Merkle trees and proofs, and
//!   signed checkpoints in the C2SP formats.

pub mod calendar;
pub mod integral;
pub mod tlog;
pub mod workflow;

/// The prefix of a deserialization error for a value of the documented shape that the
/// rules behind it refuse (e.g. a time standard `2-1d`, target not below limit). The API
/// answers such an error with 422 naming the field, where any other deserialization error
/// is a 400.
pub const UNACCEPTABLE: &str = "unacceptable: ";
