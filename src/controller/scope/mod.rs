//! The trust boundary's moving parts in the operator: which checks a moved boundary affects (`triggers`) and
//! the scopes' own status (`status`). The scope resource and its pure decisions are the API crate's
//! (`bucket_access_api::scope`).

pub mod status;
pub mod triggers;
