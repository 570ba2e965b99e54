//! Background jobs started by `Application::build`. Each is safe to run on several
//! replicas at once: work is claimed row by row in the database, never by the process.

pub mod housekeeping;
pub mod sla_sweeper;
