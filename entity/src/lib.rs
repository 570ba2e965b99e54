//! sea-orm entities: plain data mirroring the migrations; no business rules live here.

pub mod api_client;
pub mod audit_event;
pub mod audit_head;
pub mod organization;
pub mod refresh_token;
pub mod user;
