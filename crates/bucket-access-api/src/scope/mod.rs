//! The trust boundary's API: the cluster-scoped `BucketAccessScope` (`resource`), its principal patterns
//! (`principals`), the pure decision whether a check is in scope and with which identities it is read
//! (`authorize`), and what a tenant sees of its check (`disclosure`, the typed status projection).

pub mod authorize;
pub mod disclosure;
pub mod principals;
pub mod resource;

pub use authorize::{authorize, Authorization, CheckInNamespace, Grant, Refusal};
pub use resource::{BucketAccessScope, Detail, ScopeSpec};
