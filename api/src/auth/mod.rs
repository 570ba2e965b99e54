//! Authentication and authorization: passwords, tokens, the `Caller` extractor and the
//! policies every route states.

pub mod caller;
pub mod jwt;
pub mod password;
pub mod policy;
pub mod principals;
pub mod rate_limit;
pub mod role;
pub mod shared_counters;
pub mod tokens;

pub use caller::{Caller, CallerKind};
pub use jwt::TokenKeys;
pub use role::Role;
