//! The Kubernetes operator: reconcile (`reconcile`, as its steps, over a shared `context`), what it remembers of
//! each check (`visits`), the watch of checks and what it keeps of each (`watch`), how many
//! writes it has in flight (`write_window`), Events, metrics, leader election, the HTTP endpoints and the `run` command's wiring.
//! The resources and their status are `bucket_access_api`'s; the AWS reads come through the domain's
//! `SnapshotSource`.

pub mod context;
pub mod error;
pub mod events;
pub mod leader;
pub mod metrics;
pub mod publisher;
pub mod reconcile;
pub mod run;
pub mod scope;
pub mod server;
pub mod visits;
pub mod watch;
pub mod write_window;

/// The annotation that asks for a re-evaluation now, with fresh reads (any new value; e.g. a timestamp),
/// echoed in `status.lastHandledRequestedAt` once handled.
pub const REQUESTED_AT: &str = "bucketaccess.io/requested-at";

/// The one field manager that writes status (of checks and scopes).
pub const FIELD_MANAGER: &str = "bucket-access-operator";
