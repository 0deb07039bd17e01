//! The trust boundary between namespaces: the cluster-scoped `BucketAccessScope` (`resource`), the pure
//! decision whether a check is in scope and with which identities it is read (`authorize`), what a tenant
//! sees of its check (`disclosure`), which checks a moved boundary affects (`triggers`), and the scopes' own
//! status (`status`).

pub mod authorize;
pub mod disclosure;
pub mod principals;
pub mod resource;
pub mod status;
pub mod triggers;

pub use authorize::{authorize, Authorization, CheckInNamespace, Grant, Refusal};
pub use resource::{BucketAccessScope, Detail, ScopeSpec};
