//! Rules that every layer shares and none owns: pages and cursors, text fields, integral
//! numbers in JSON, compare-and-set updates. Nothing here knows HTTP; `routes` and
//! `service` both build on it, and it imports from neither.

pub mod cas;
pub mod integral;
pub mod page;
pub mod text;

pub use page::Page;
pub use text::Text;
