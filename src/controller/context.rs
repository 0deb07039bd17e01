//! What every reconcile shares: the Kubernetes client, the Event recorder, the snapshot source, the metrics,
//! the trust boundary, the memory of each check (`Visits`), the window of writes in flight and, with change events, what each
//! check read.

use super::events::EventIndex;
use super::metrics::OperatorMetrics;
use super::publisher::Publisher;
use super::scope::caches::Boundary;
use super::visits::{FreshReads, OwnWrites, Visits};
use super::write_window::WriteWindow;
use kube::Client;
use std::sync::Arc;

/// The most writes in flight when `run` says nothing else.
pub const DEFAULT_WRITE_CEILING: usize = 32;

/// What every reconcile shares.
pub struct Context<S> {
    /// The Kubernetes client.
    pub client: Client,
    /// Publishes Events.
    pub recorder: Publisher,
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
    /// The statuses written lately, newer than the watched copies until the watch catches up.
    pub own_writes: OwnWrites,
    /// With change events: what each check read, and which checks an event touched.
    pub events: Option<Arc<EventIndex>>,
    /// How many writes to the API server are in flight at once (status patches and Events).
    pub writes: WriteWindow,
}

impl<S> Context<S> {
    /// A context.
    pub fn new(
        client: Client,
        recorder: Publisher,
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
            own_writes: OwnWrites::default(),
            events: None,
            writes: WriteWindow::new(DEFAULT_WRITE_CEILING),
        }
    }

    /// The same context, with at most `ceiling` writes in flight.
    #[must_use]
    pub fn with_write_ceiling(mut self, ceiling: usize) -> Self {
        self.writes = WriteWindow::new(ceiling);
        self
    }

    /// The same context, following AWS change events through `index`.
    #[must_use]
    pub fn with_events(mut self, index: Arc<EventIndex>) -> Self {
        self.events = Some(index);
        self
    }
}
