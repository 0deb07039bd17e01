//! The Kubernetes operator: the `BucketAccessCheck` resource, reconcile, status, Events, metrics, leader
//! election, and the `run` command's wiring. Depends on everything below it, kube and k8s-openapi.

pub mod leader;
pub mod metrics;
pub mod reconcile;
pub mod run;
pub mod schema;
pub mod scope;
pub mod server;
pub mod status;

pub use crate::spec::BucketAccessCheck;
