//! What every reconcile shares: the Kubernetes client, the Event recorder, the snapshot source, the metrics,
//! the trust boundary, the memory of each check (`Visits`) and, with change events, what each check read.

use super::events::EventIndex;
use super::metrics::OperatorMetrics;
use super::scope::caches::Boundary;
use super::visits::{FreshReads, Visits};
use kube::runtime::events::Recorder;
use kube::Client;
use std::sync::Arc;

/// What every reconcile shares.
pub struct Context<S> {
    /// The Kubernetes client.
    pub client: Client,
    /// Publishes Events (one per process: it aggregates repeats).
    pub recorder: Recorder,
    /// Where snapshots come from.
    pub source: Arc<S>,
    /// Counters for `/metrics`.
    pub metrics: Arc<OperatorMetrics>,
    /// Scopes enforced or not.
    pub boundary: Boundary,
    /// What the controller remembers of each check (by uid): its last visit, failures and fresh read.
    pub visits: Visits,
    /// The fresh reads requests asked for, by namespace and by principal and bucket.
    pub fresh_reads: FreshReads,
    /// With change events: what each check read, and which checks an event touched.
    pub events: Option<Arc<EventIndex>>,
}

impl<S> Context<S> {
    /// A context.
    pub fn new(
        client: Client,
        recorder: Recorder,
        source: Arc<S>,
        metrics: Arc<OperatorMetrics>,
        boundary: Boundary,
    ) -> Self {
        Self {
            client,
            recorder,
            source,
            metrics,
            boundary,
            visits: Visits::default(),
            fresh_reads: FreshReads::default(),
            events: None,
        }
    }

    /// The same context, following AWS change events through `index`.
    #[must_use]
    pub fn with_events(mut self, index: Arc<EventIndex>) -> Self {
        self.events = Some(index);
        self
    }
}
