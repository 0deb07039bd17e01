//! The Kubernetes API of bucket-access-operator, as linkerd's `k8s/api` is for its policy controller: the
//! `BucketAccessCheck` resource (`spec`, its problems in `spec_error`) and its typed status (`status`: types,
//! the projection per detail level, the condition builder and the one status builder), the `BucketAccessScope`
//! resource and the trust boundary's pure decisions (`scope`), the schema pieces the derives cannot express
//! (`schema`), and reading check manifests from files (`manifests`). The CRDs are generated from these types.
//! Nothing here talks to a cluster or to AWS: the operator and the CLI build on it.

pub mod manifests;
pub mod schema;
pub mod scope;
pub mod spec;
pub mod spec_error;
pub mod status;

pub use scope::BucketAccessScope;
pub use spec::{BucketAccessCheck, CheckSpec, API_VERSION, KIND};
pub use spec_error::SpecError;
pub use status::BucketAccessCheckStatus;
