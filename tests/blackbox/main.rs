//! Black-box tests: the real service on port 0, a fresh database per test, HTTP only.
//! Run on SQLite by default; with `JEMBATAN_TEST_POSTGRES_URL` on PostgreSQL.

mod api_clients;
mod auth;
mod authz;
mod bundles;
mod calendar;
mod check;
mod cors;
mod directory;
mod documents;
mod errors;
mod evidence;
mod feed;
mod flows;
mod idempotency;
mod languages;
mod mail;
mod office;
mod operations;
mod proxy;
mod races;
mod records;
mod replicas;
mod reports;
mod rows;
mod security;
mod sla;
mod storage;
mod webhooks;
mod workflows;
