//! The Kubernetes operator: reconcile, Events, metrics, leader election, the HTTP endpoints and the `run`
//! command's wiring. The resources and their status are `bucket_access_api`'s; the AWS reads come through the
//! domain's `SnapshotSource`.

pub mod events;
pub mod leader;
pub mod metrics;
pub mod reconcile;
pub mod run;
pub mod scope;
pub mod server;
