//! Integral numbers in JSON bodies: one home, in the domain crate (workflow definitions
//! use it too); re-exported here for the API's own bodies.

pub use jembatan_domain::integral::{integral, integral_i32};
