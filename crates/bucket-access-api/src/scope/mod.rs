//! The trust boundary's API: the cluster-scoped `BucketAccessScope` and its own status (`resource`), its
//! principal patterns (`principals`), and the pure decision whether a check is in scope and with which
//! identities it is read (`authorize`). What a tenant sees of its check is the status's projection.

pub mod authorize;
pub mod principals;
pub mod resource;

pub use authorize::{authorize, Authorization, CheckInNamespace, Grant, Refusal};
pub use resource::{BucketAccessScope, Detail, ScopeSpec};
