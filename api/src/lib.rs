//! Jembatan: the Trenggalek Diskominfo SOP for information-system integration as a REST API.
//!
//! `workflow` and `calendar` are the pure domain core (the `jembatan-domain` crate,
//! re-exported here); `shared` holds the rules every layer uses (pages, text, CAS);
//! `service` owns transactions; `routes` is HTTP glue; `error` maps every failure to
//! problem+json once. `docs/ARCHITECTURE.md` walks a transition through them.

pub use jembatan_domain::{calendar, tlog, workflow};

pub mod auth;
pub mod bootstrap;
pub mod check;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod i18n;
pub mod idempotency;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod pdf;
pub mod routes;
pub mod security_headers;
pub mod service;
pub mod shared;
pub mod signer;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
