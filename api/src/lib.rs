//! Jembatan: the Trenggalek Diskominfo SOP for information-system integration as a REST API.
//!
//! `workflow` and `calendar` are the pure domain core; `service` owns transactions;
//! `routes` is HTTP glue; `error` maps every failure to problem+json once.

pub mod auth;
pub mod bootstrap;
pub mod calendar;
pub mod check;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod idempotency;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod security_headers;
pub mod service;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod workflow;
