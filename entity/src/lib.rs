//! sea-orm entities: plain data mirroring the migrations; no business rules live here.
//! Columns holding the domain's names are typed (`Stored<Status>` and so on).

pub use stored::Stored;

pub mod acting_assignment;
pub mod api_client;
pub mod audit_checkpoint;
pub mod audit_event;
pub mod audit_head;
pub mod audit_tree_node;
pub mod calendar_setting;
pub mod closed_date;
pub mod comment;
pub mod document;
pub mod idempotency_key;
pub mod installation_fact;
pub mod mail_outbox;
pub mod notification;
pub mod organization;
pub mod refresh_token;
pub mod request;
pub mod request_addressee;
pub mod row;
pub mod special_schedule;
pub mod step_instance;
pub mod stored;
pub mod team_member;
pub mod user;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_fanout;
pub mod workflow_definition;
