//! The application layer: one transaction per use case (load → decide → write state and
//! audit → commit). Routes call these; nothing here knows about HTTP.

pub mod api_clients;
pub mod audit;
pub mod documents;
pub mod organizations;
pub mod requests;
pub mod sessions;
pub mod timeline;
pub mod users;
pub mod workflows;

/// Optimistic concurrency: the version the caller saw (from `If-Match` or the body).
pub fn check_version(current: i32, expected: Option<i32>) -> crate::error::ApiResult<()> {
    match expected {
        Some(v) if v != current => Err(crate::error::ApiError::Conflict(format!(
            "the resource changed (it is at version {current}, you sent {v}); reload and retry"
        ))),
        _ => Ok(()),
    }
}
