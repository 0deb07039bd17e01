//! AWS change events, on the leader: the queue is long-polled; each message's changes drop the cached reads
//! they make stale and re-evaluate, within seconds, exactly the checks whose last snapshot read what changed
//! (`EventIndex`); the message is deleted once that is done. A message of no interest is counted and deleted;
//! one that is not an event is logged, counted and deleted (the queue's dead-letter policy keeps what cannot
//! be deleted). Duplicates and events out of order are harmless: dropping a read and re-evaluating are
//! idempotent. Polling stays the safety net: events can lag minutes, and a rule can be missing.

use super::metrics::OperatorMetrics;
use bucket_access_api::spec::BucketAccessCheck;
use bucket_access_aws::dependencies::Dependencies;
pub use bucket_access_aws::events::lag;
use bucket_access_aws::events::{self as aws_events, Change, Message};
use bucket_access_aws::queue::EventQueue;
use bucket_access_aws::Collector;
use futures::stream::BoxStream;
use futures::StreamExt;
use kube::runtime::reflector::ObjectRef;
use s3_diagnosis::snapshot::Snapshot;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;

/// What each check read at its last evaluation, which checks an event touched since, and the channel that
/// hands those to the controller.
pub struct EventIndex {
    /// `namespace/name` → the check and what it read (entries of deleted checks go after a week unused).
    reads: moka::sync::Cache<String, (ObjectRef<BucketAccessCheck>, Arc<Dependencies>)>,
    /// `namespace/name` → the time of the earliest event that touched it since its last evaluation.
    touched: Mutex<std::collections::HashMap<String, Option<SystemTime>>>,
    sender: mpsc::UnboundedSender<ObjectRef<BucketAccessCheck>>,
    /// When an event last re-evaluated every check.
    last_fleet_wide: Mutex<Option<Instant>>,
    /// One copy of each distinct set of reads: checks that read the same things (most of a fleet) share it.
    interned: Mutex<Interned>,
}

/// The distinct sets of reads in use, and the size at which those no check holds any more are dropped.
#[derive(Default)]
struct Interned {
    sets: std::collections::HashSet<Arc<Dependencies>>,
    prune_at: usize,
}

impl Interned {
    /// The shared copy of `read`.
    fn share(&mut self, read: Dependencies) -> Arc<Dependencies> {
        if let Some(shared) = self.sets.get(&read) {
            return Arc::clone(shared);
        }
        if self.sets.len() >= self.prune_at {
            self.sets.retain(|d| Arc::strong_count(d) > 1);
            self.prune_at = (self.sets.len() * 2).max(1024);
        }
        let shared = Arc::new(read);
        self.sets.insert(Arc::clone(&shared));
        shared
    }
}

/// At most one event per this time re-evaluates every check (an Organizations change whose reach the event
/// does not say, or a forged message): further ones drop their cached reads, and the checks pick the change up
/// at their interval.
pub const FLEET_WIDE_WINDOW: Duration = Duration::from_secs(300);

impl EventIndex {
    /// An index, and the stream of checks to re-evaluate for the controller.
    pub fn new() -> (Arc<Self>, BoxStream<'static, ObjectRef<BucketAccessCheck>>) {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let index = Arc::new(Self {
            reads: moka::sync::Cache::builder()
                .time_to_idle(Duration::from_secs(7 * 86_400))
                .build(),
            touched: Mutex::default(),
            sender,
            last_fleet_wide: Mutex::default(),
            interned: Mutex::default(),
        });
        let stream = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)).boxed();
        (index, stream)
    }

    /// Records what the check `key` (`namespace/name`) read at its evaluation.
    pub fn record(&self, key: &str, check: ObjectRef<BucketAccessCheck>, read: &Snapshot) {
        let read = Dependencies::of(read);
        let shared = match self.interned.lock() {
            Ok(mut interned) => interned.share(read),
            Err(_) => Arc::new(read),
        };
        self.reads.insert(key.to_owned(), (check, shared));
    }

    /// Whether an event touched the check `key` since its last evaluation, and when the earliest such event
    /// happened (forgets it: the evaluation now under way answers it).
    pub fn take(&self, key: &str) -> Option<Option<SystemTime>> {
        self.touched.lock().ok()?.remove(key)
    }

    /// Whether a change that touches every check may re-evaluate them now (one per `FLEET_WIDE_WINDOW`).
    fn fleet_wide_allowed(&self) -> bool {
        let Ok(mut last) = self.last_fleet_wide.lock() else {
            return false;
        };
        let now = Instant::now();
        if last.is_some_and(|l| now.duration_since(l) < FLEET_WIDE_WINDOW) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Marks and re-evaluates every check one of `changes` touches; returns how many. A change that may touch
    /// every check does so at most once per `FLEET_WIDE_WINDOW`.
    pub fn apply(&self, changes: &[Change], at: Option<SystemTime>) -> usize {
        let fleet_wide = changes.iter().any(Change::is_fleet_wide);
        let held = fleet_wide && !self.fleet_wide_allowed();
        if held {
            tracing::info!(
                "a change event that may touch every check came within {}s of the last: its cached reads are dropped, and checks pick it up at their interval",
                FLEET_WIDE_WINDOW.as_secs()
            );
        }
        let changes: Vec<&Change> = changes
            .iter()
            .filter(|c| !(held && c.is_fleet_wide()))
            .collect();
        let affected: Vec<(String, ObjectRef<BucketAccessCheck>)> = self
            .reads
            .iter()
            .filter(|(_, (_, read))| changes.iter().any(|c| read.touched_by(c)))
            .map(|(key, (check, _))| ((*key).clone(), check))
            .collect();
        if let Ok(mut touched) = self.touched.lock() {
            for (key, _) in &affected {
                let earliest = touched.entry(key.clone()).or_insert(at);
                *earliest = match (*earliest, at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        for (_, check) in &affected {
            // The controller is gone only when the process is ending.
            let _ = self.sender.send(check.clone());
        }
        affected.len()
    }
}

/// What handling one message came to, for the metric: `applied` when it touched a cached read or a check,
/// `ignored` when it touched nothing (of no interest, or about nothing any check read), `failed` when it is
/// not an event.
fn handle(body: &str, collector: &Collector, index: &EventIndex) -> &'static str {
    match aws_events::parse(body) {
        Ok(Message::Changes { changes, event, at }) => {
            let dropped: usize = changes.iter().map(|c| collector.invalidate(c)).sum();
            let checks = index.apply(&changes, at);
            if dropped == 0 && checks == 0 {
                tracing::debug!(event = %event, "change event touching nothing read");
                return "ignored";
            }
            tracing::info!(event = %event, reads_dropped = dropped, checks, "change event applied");
            "applied"
        }
        Ok(Message::Ignored(what)) => {
            tracing::debug!(event = %what, "change event of no interest");
            "ignored"
        }
        Err(e) => {
            tracing::warn!(error = %e, "not a change event: deleted");
            "failed"
        }
    }
}

/// Handles a batch of message bodies as the queue loop does (without the queue): what a storm of messages
/// costs, measured in tests.
pub fn handle_all<'a>(
    bodies: impl IntoIterator<Item = &'a str>,
    collector: &Collector,
    index: &EventIndex,
    metrics: &OperatorMetrics,
) {
    for body in bodies {
        metrics.event(handle(body, collector, index));
    }
}

/// The leader's loop: receive, handle, delete; until the task is dropped. A failed receive or delete is
/// logged and retried after a pause that grows to a minute (the messages stay in the queue meanwhile).
pub async fn follow(
    queue: EventQueue,
    collector: Arc<Collector>,
    index: Arc<EventIndex>,
    metrics: Arc<OperatorMetrics>,
) {
    match queue.describe().await {
        Ok((waiting, true)) => {
            tracing::info!(queue = %queue.url(), waiting, "following AWS change events");
        }
        Ok((waiting, false)) => tracing::warn!(
            queue = %queue.url(),
            waiting,
            "following AWS change events; the queue has no dead-letter queue (a message that cannot be deleted is received again until it expires)"
        ),
        Err(e) => {
            tracing::warn!(queue = %queue.url(), error = %e, "cannot read the change events queue's attributes");
        }
    }
    let mut pause = Duration::from_secs(1);
    loop {
        let received = match queue.receive(20).await {
            Ok(received) => received,
            Err(e) => {
                tracing::warn!(queue = %queue.url(), error = %e, "cannot receive change events: retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
                continue;
            }
        };
        let mut handled = Vec::with_capacity(received.len());
        for message in received {
            metrics.event(handle(&message.body, &collector, &index));
            handled.push(message.receipt);
        }
        match queue.delete(&handled).await {
            Ok(()) => pause = Duration::from_secs(1),
            Err(e) => {
                // Not deleted: delivered again after the visibility timeout, and handled again (harmless).
                tracing::warn!(queue = %queue.url(), error = %e, "cannot delete handled change events");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3_diagnosis::snapshot::Snapshot;

    fn snapshot(bucket: &str) -> Snapshot {
        serde_json::from_value(serde_json::json!({"version": 1, "request": {
            "principalArn": "arn:aws:iam::111122223333:role/uploader", "bucket": bucket},
            "bucket": {"name": bucket, "accountId": "111122223333", "region": "us-east-1"}}))
        .unwrap_or_default()
    }

    /// Checks that read the same things share one copy of what they read; a copy no check holds goes once
    /// the distinct copies grow past the pruning size.
    #[test]
    fn checks_that_read_the_same_things_share_one_copy() {
        let (index, _touched) = EventIndex::new();
        for n in 0..4 {
            index.record(
                &format!("team/c{n}"),
                ObjectRef::new(&format!("c{n}")).within("team"),
                &snapshot(if n % 2 == 0 { "even" } else { "odd" }),
            );
        }
        let held = |key: &str| index.reads.get(key).map(|(_, d)| d).unwrap();
        assert!(Arc::ptr_eq(&held("team/c0"), &held("team/c2")));
        assert!(!Arc::ptr_eq(&held("team/c0"), &held("team/c1")));
        let mut interned = Interned::default();
        let unused = Dependencies::of(&snapshot("gone"));
        drop(interned.share(unused.clone()));
        let in_use: Vec<_> = (0..1_100)
            .map(|n| interned.share(Dependencies::of(&snapshot(&format!("b{n}")))))
            .collect();
        assert!(!interned.sets.contains(&unused), "held by no check: pruned");
        assert!(in_use.iter().all(|d| interned.sets.contains(d)));
    }

    /// Duplicates and events out of order mark a check once, with the earliest event's time; a change that
    /// touches nothing a check read marks nothing.
    #[tokio::test]
    async fn duplicates_and_disorder_are_harmless() {
        let (index, mut touched) = EventIndex::new();
        let media = ObjectRef::<BucketAccessCheck>::new("media").within("team");
        index.record("team/media", media.clone(), &snapshot("media-raw"));
        index.record(
            "team/logs",
            ObjectRef::new("logs").within("team"),
            &snapshot("logs"),
        );
        let change = Change::Bucket {
            account: "111122223333".into(),
            name: "media-raw".into(),
        };
        let (early, late) = (
            SystemTime::UNIX_EPOCH + Duration::from_secs(10),
            SystemTime::UNIX_EPOCH + Duration::from_secs(20),
        );
        assert_eq!(index.apply(std::slice::from_ref(&change), Some(late)), 1);
        assert_eq!(index.apply(std::slice::from_ref(&change), Some(early)), 1);
        assert_eq!(touched.next().await, Some(media.clone()));
        assert_eq!(touched.next().await, Some(media));
        assert_eq!(index.take("team/media"), Some(Some(early)));
        assert_eq!(index.take("team/media"), None, "taken once");
        assert_eq!(
            index.take("team/logs"),
            None,
            "the other check was not touched"
        );
        let unrelated = Change::Bucket {
            account: "111122223333".into(),
            name: "other".into(),
        };
        assert_eq!(index.apply(&[unrelated], Some(early)), 0);
    }

    /// A change that may touch every check re-evaluates them all once per window; the next one within it
    /// re-evaluates none (their reads are dropped; the checks pick it up at their interval), while narrower
    /// changes still apply.
    #[tokio::test]
    async fn fleet_wide_changes_are_rate_limited() {
        let (index, _touched) = EventIndex::new();
        for bucket in ["a", "b", "c"] {
            index.record(
                &format!("team/{bucket}"),
                ObjectRef::new(bucket).within("team"),
                &snapshot(bucket),
            );
        }
        let everything = Change::Organization {
            target: bucket_access_aws::events::OrgTarget::Everything,
        };
        assert_eq!(index.apply(std::slice::from_ref(&everything), None), 3);
        assert_eq!(index.apply(std::slice::from_ref(&everything), None), 0);
        let bucket = Change::Bucket {
            account: "111122223333".into(),
            name: "b".into(),
        };
        assert_eq!(index.apply(&[everything, bucket], None), 1);
    }
}
