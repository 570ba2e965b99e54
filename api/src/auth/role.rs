//! Roles are the workflow's vocabulary (`workflow::Role`); here is what they mean for access.

pub use crate::workflow::Role;

/// Diskominfo's own roles see every request; an applicant only their organization's.
pub fn is_office(role: Role) -> bool {
    !matches!(role, Role::Applicant)
}
