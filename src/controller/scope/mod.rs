//! The trust boundary's moving parts in the operator: the caches the scope decision reads and the checks a
//! moved boundary affected (`caches`), which checks a moved boundary affects (`triggers`), and writing the
//! scopes' own status (`status`; what it holds is the API crate's `BucketAccessScope::desired_status`).

pub mod caches;
pub mod status;
pub mod triggers;
