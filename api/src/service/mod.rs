//! The application layer: one transaction per use case (load → decide → write state and
//! audit → commit). Routes call these; nothing here knows about HTTP.

pub mod acting;
pub mod api_clients;
pub mod audit;
pub mod bundle;
pub mod calendar;
pub mod comments;
pub mod documents;
pub mod due_times;
pub mod feed;
pub mod integrations;
pub mod notifications;
pub mod notify;
pub mod organizations;
pub mod records;
pub mod reports;
pub mod requests;
pub mod sessions;
pub mod timeline;
pub mod tlog;
pub mod users;
pub mod webhooks;
pub mod workflows;
pub mod working_time;

/// Optimistic concurrency: the version the caller saw (from `If-Match` or the body).
pub fn check_version(current: i32, expected: Option<i32>) -> crate::error::ApiResult<()> {
    match expected {
        Some(v) if v != current => {
            Err(crate::error::ApiError::Conflict(crate::msg!("stale-version", current = current, sent = v)))
        }
        _ => Ok(()),
    }
}

/// Both preconditions a write may carry: a failed `If-Match` is 412 (RFC 9110), a stale
/// `version` in the body is 409 (a state conflict), as `shared/design/api.md` says.
pub fn check_preconditions(
    current: i32,
    if_match: Option<i32>,
    body_version: Option<i32>,
) -> crate::error::ApiResult<()> {
    // The body's version first: a body naming a version that cannot be current (0, a
    // negative number, an old one) is a conflict of the body itself, whatever the header.
    check_version(current, body_version)?;
    if let Some(v) = if_match
        && v != current
    {
        return Err(crate::error::ApiError::PreconditionFailed(crate::msg!(
            "if-match-failed",
            sent = v,
            current = current
        )));
    }
    Ok(())
}
