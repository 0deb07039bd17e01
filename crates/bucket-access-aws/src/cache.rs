//! A shared cache of reads with a time to live and request coalescing: concurrent checks that need the same
//! input (a role, a bucket, a key, an organization path) wait for one read instead of making their own.
//! Failed (or partly failed) reads are kept only for a short time, so that they are retried soon without
//! every check repeating them. A read in flight is joined only by checks of the namespace it is made for
//! (`reading_for`): a check never waits on another namespace's share of the calls; a finished read serves
//! every namespace with the same credentials. A read made for a requested re-evaluation serves the requested
//! re-evaluations of the next ten seconds (`REQUESTS_SHARE_READS_FOR`): a bulk request costs the reads once. The entries live in a `moka` cache bounded in count and age: keys hold tenant
//! strings, and a cluster's checks come and go. The coalescing (a `OnceCell` per entry, and a caller's own
//! bound on a read's age) is ours: moka's loaders have no per-caller maximum age.

use super::metrics::AwsMetrics;
use s3_diagnosis::source::ReadAccess;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

impl<V: Send + Sync + 'static> std::fmt::Debug for ReadCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("ttl", &self.ttl)
            .field("failure_ttl", &self.failure_ttl)
            .field("entries", &self.slots.entry_count())
            .finish()
    }
}

/// The most entries one cache holds (the least recently used go first).
pub const MAX_ENTRIES: u64 = 20_000;

tokio::task_local! {
    /// The namespace the reads of this task are made for.
    static NAMESPACE: Option<String>;
    /// Whether this task's reads answer a requested re-evaluation.
    static REQUESTED: bool;
}

/// How long a read made for a requested re-evaluation serves other requested re-evaluations: many checks
/// asked to re-evaluate at once (a bulk `requested-at`) share their fresh reads instead of each reading again.
pub const REQUESTS_SHARE_READS_FOR: Duration = Duration::from_secs(10);

/// Runs `work` (one check's collection) with its reads made for `namespace`, answering a requested
/// re-evaluation or not.
pub(crate) async fn reading_for<F: Future>(
    namespace: Option<String>,
    requested: bool,
    work: F,
) -> F::Output {
    NAMESPACE
        .scope(namespace, REQUESTED.scope(requested, work))
        .await
}

/// One cached value (when it was read, the value, how long it lives), or one read in flight, the namespace
/// it is read for, and whether for a requested re-evaluation.
#[derive(Debug)]
struct Slot<V> {
    cell: OnceCell<(Instant, V, Duration)>,
    read_for: Option<String>,
    for_request: bool,
}

impl<V> Slot<V> {
    fn new(read_for: Option<String>, for_request: bool) -> Arc<Self> {
        Arc::new(Self {
            cell: OnceCell::new(),
            read_for,
            for_request,
        })
    }

    /// A finished read made for a requested re-evaluation less than `REQUESTS_SHARE_READS_FOR` ago (and not
    /// expired): it serves other requested re-evaluations, whatever age they ask for.
    fn shared_with_requests(&self) -> bool {
        self.for_request
            && self
                .cell
                .get()
                .is_some_and(|(at, _, ttl)| at.elapsed() < (*ttl).min(REQUESTS_SHARE_READS_FOR))
    }

    /// Whether a caller reading for `namespace` may use this slot: a finished read, or one in flight for
    /// the same namespace (or for none, or when the caller reads for none).
    fn joinable(&self, namespace: Option<&str>) -> bool {
        self.cell.initialized()
            || self.read_for.is_none()
            || namespace.is_none()
            || self.read_for.as_deref() == namespace
    }

    /// In flight, or read less than `max_age` ago and not yet expired.
    fn fresh(&self, max_age: Duration) -> bool {
        self.cell
            .get()
            .is_none_or(|(at, _, ttl)| at.elapsed() < (*ttl).min(max_age))
    }
}

/// A cache of reads keyed by a string (an ARN, `account/bucket`, ...).
pub struct ReadCache<V: Send + Sync + 'static> {
    ttl: Duration,
    failure_ttl: Duration,
    slots: moka::sync::Cache<String, Arc<Slot<V>>>,
    /// Makes "look up, and insert a new slot when there is no fresh one" one step (moka's own operations are
    /// each atomic, not the pair).
    insert: Mutex<()>,
}

impl<V: Clone + Send + Sync + 'static> ReadCache<V> {
    /// A cache whose complete reads live `ttl` and failed ones `failure_ttl` (at most `ttl`), with at most
    /// `MAX_ENTRIES` entries.
    pub fn new(ttl: Duration, failure_ttl: Duration) -> Self {
        Self::bounded(ttl, failure_ttl, MAX_ENTRIES)
    }

    /// The same with at most `entries` entries.
    pub fn bounded(ttl: Duration, failure_ttl: Duration, entries: u64) -> Self {
        Self {
            ttl,
            failure_ttl: failure_ttl.min(ttl),
            slots: moka::sync::Cache::builder()
                .max_capacity(entries)
                // An entry is never served older than `ttl` (`fresh`); this only frees its memory.
                .time_to_live(ttl.max(Duration::from_secs(1)))
                .build(),
            insert: Mutex::new(()),
        }
    }

    fn slot(&self, key: &str, max_age: Duration) -> Arc<Slot<V>> {
        let namespace = NAMESPACE.try_with(Clone::clone).ok().flatten();
        let requested = REQUESTED.try_with(|r| *r).unwrap_or(false);
        let Ok(_one_step) = self.insert.lock() else {
            return Slot::new(namespace, requested);
        };
        match self.slots.get(key) {
            Some(slot)
                if (slot.fresh(max_age) || (requested && slot.shared_with_requests()))
                    && slot.joinable(namespace.as_deref()) =>
            {
                slot
            }
            _ => {
                let slot = Slot::new(namespace, requested);
                self.slots.insert(key.to_owned(), Arc::clone(&slot));
                slot
            }
        }
    }

    /// Drops every entry `stale` says is stale, given its key and its value (`None` while it is being read):
    /// the next read of it asks AWS. Returns how many were dropped.
    pub fn invalidate(&self, stale: impl Fn(&str, Option<&V>) -> bool) -> usize {
        let keys: Vec<Arc<String>> = self
            .slots
            .iter()
            .filter(|(key, slot)| stale(key, slot.cell.get().map(|(_, value, _)| value)))
            .map(|(key, _)| key)
            .collect();
        for key in &keys {
            self.slots.invalidate(key.as_str());
        }
        keys.len()
    }

    /// Calls `visit` with every entry's key and value (`None` while it is being read).
    pub fn inspect(&self, visit: impl Fn(&str, Option<&V>)) {
        for (key, slot) in self.slots.iter() {
            visit(&key, slot.cell.get().map(|(_, value, _)| value));
        }
    }

    /// How many entries the cache holds (after pending evictions).
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.slots.run_pending_tasks();
        self.slots.entry_count()
    }

    /// Whether it holds none.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached value for `key` if it was read less than `max_age` ago, or the result of `load` (shared
    /// with every concurrent caller). Values for which `complete` is false live only the failure TTL.
    pub async fn get_or_load<F, Fut>(
        &self,
        key: &str,
        max_age: Duration,
        metrics: &AwsMetrics,
        complete: impl Fn(&V) -> bool,
        load: F,
    ) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let slot = self.slot(key, max_age);
        let mut loaded = false;
        let (_, value, _) = slot
            .cell
            .get_or_init(|| async {
                loaded = true;
                let value = load().await;
                let ttl = if complete(&value) {
                    self.ttl
                } else {
                    self.failure_ttl
                };
                (Instant::now(), value, ttl)
            })
            .await;
        metrics.cache(!loaded);
        value.clone()
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.slots.invalidate_all();
    }
}

/// The credentials that read `account` for `access`, as a cache key prefix: a read made with one reader role
/// (and `ExternalId`) is never served to a check that reads that account with other credentials.
pub(crate) fn credentials_key(access: &ReadAccess, account: &str) -> String {
    match access.reader(account) {
        Some(r) => format!(
            "{}|{}",
            r.role_arn,
            r.external_id.as_deref().unwrap_or_default()
        ),
        None => "own".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const HOUR: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn concurrent_reads_are_coalesced_and_failures_kept_briefly() {
        let cache: ReadCache<Result<u32, String>> =
            ReadCache::new(Duration::from_secs(60), Duration::from_millis(10));
        let metrics = AwsMetrics::default();
        let loads = AtomicU32::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(7)
        };
        let (a, b, c) = tokio::join!(
            cache.get_or_load("k", HOUR, &metrics, Result::is_ok, load),
            cache.get_or_load("k", HOUR, &metrics, Result::is_ok, load),
            cache.get_or_load("k", HOUR, &metrics, Result::is_ok, load)
        );
        assert_eq!((a, b, c), (Ok(7), Ok(7), Ok(7)));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(metrics.cache_counts(), (2, 1));
        let failing = || async { Err::<u32, String>("throttled".into()) };
        assert!(cache
            .get_or_load("f", HOUR, &metrics, Result::is_ok, failing)
            .await
            .is_err());
        let recovering = || async { Ok::<u32, String>(1) };
        // Within the failure TTL the failure is served from the cache; after it, the read is made again.
        assert!(cache
            .get_or_load("f", HOUR, &metrics, Result::is_ok, recovering)
            .await
            .is_err());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            cache
                .get_or_load("f", HOUR, &metrics, Result::is_ok, recovering)
                .await,
            Ok(1)
        );
    }

    /// A read in flight for one namespace is not waited for by another (it reads for itself, on its own
    /// share); a read of the same namespace is joined; a finished read serves everyone.
    #[tokio::test]
    async fn a_read_in_flight_is_joined_only_by_its_own_namespace() {
        let cache: ReadCache<u32> = ReadCache::new(Duration::from_secs(60), Duration::from_secs(1));
        let metrics = AwsMetrics::default();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let slow = reading_for(
            Some("flooding".into()),
            false,
            cache.get_or_load(
                "k",
                HOUR,
                &metrics,
                |_| true,
                || async {
                    let _ = released.await;
                    1
                },
            ),
        );
        let mut slow = Box::pin(slow);
        // Started: its read is in flight.
        assert!(tokio::time::timeout(Duration::from_millis(20), &mut slow)
            .await
            .is_err());
        let other = reading_for(
            Some("quiet".into()),
            false,
            cache.get_or_load("k", HOUR, &metrics, |_| true, || async { 2 }),
        );
        let waited = tokio::time::timeout(Duration::from_secs(5), other).await;
        assert_eq!(waited.ok(), Some(2), "the other namespace read for itself");
        let _ = release.send(());
        assert_eq!(slow.await, 1);
        // Finished reads serve every namespace.
        let served = reading_for(
            Some("third".into()),
            false,
            cache.get_or_load("k", HOUR, &metrics, |_| true, || async { 3 }),
        )
        .await;
        assert_eq!(served, 2, "a finished read is shared");
    }

    /// A requested re-evaluation reads again (an interval's read does not serve it), and its read serves the
    /// requested re-evaluations that come within `REQUESTS_SHARE_READS_FOR`, in any namespace.
    #[tokio::test]
    async fn requested_re_evaluations_share_their_fresh_reads() {
        let cache: ReadCache<u32> = ReadCache::new(HOUR, HOUR);
        let metrics = AwsMetrics::default();
        let read = |namespace: &str, requested: bool, value: u32| {
            reading_for(
                Some(namespace.to_owned()),
                requested,
                cache.get_or_load(
                    "k",
                    if requested { Duration::ZERO } else { HOUR },
                    &metrics,
                    |_| true,
                    move || async move { value },
                ),
            )
        };
        assert_eq!(read("a", false, 1).await, 1);
        assert_eq!(
            read("a", true, 2).await,
            2,
            "an interval's read is not fresh"
        );
        assert_eq!(read("b", true, 3).await, 2, "a request's read is shared");
        assert_eq!(read("b", false, 4).await, 2, "and serves the interval");
        let young = Duration::from_millis(1);
        tokio::time::sleep(young * 5).await;
        let strict = reading_for(
            None,
            false,
            cache.get_or_load("k", young, &metrics, |_| true, || async { 5 }),
        )
        .await;
        assert_eq!(strict, 5, "not a request: asks for its own age");
        assert_eq!(
            read("c", true, 6).await,
            6,
            "the last read was not a request's"
        );
    }

    #[tokio::test]
    async fn entries_expire() {
        let cache: ReadCache<u32> =
            ReadCache::new(Duration::from_millis(10), Duration::from_millis(10));
        let metrics = AwsMetrics::default();
        assert_eq!(
            cache
                .get_or_load("k", HOUR, &metrics, |_| true, || async { 1 })
                .await,
            1
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            cache
                .get_or_load("k", HOUR, &metrics, |_| true, || async { 2 })
                .await,
            2
        );
    }

    #[tokio::test]
    async fn a_caller_can_ask_for_younger_reads_than_the_ttl() {
        let cache: ReadCache<u32> = ReadCache::new(HOUR, HOUR);
        let metrics = AwsMetrics::default();
        let first = cache
            .get_or_load("k", HOUR, &metrics, |_| true, || async { 1 })
            .await;
        assert_eq!(first, 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        // A caller content with an hour-old read gets the cached value; one that wants reads younger than
        // 10 ms reads again, and the new read then serves everyone.
        let lenient = cache
            .get_or_load("k", HOUR, &metrics, |_| true, || async { 2 })
            .await;
        assert_eq!(lenient, 1);
        let strict = cache
            .get_or_load(
                "k",
                Duration::from_millis(10),
                &metrics,
                |_| true,
                || async { 3 },
            )
            .await;
        assert_eq!(strict, 3);
        let after = cache
            .get_or_load("k", HOUR, &metrics, |_| true, || async { 4 })
            .await;
        assert_eq!(after, 3);
    }

    #[tokio::test]
    async fn the_cache_holds_a_bounded_number_of_entries() {
        let cache: ReadCache<u32> = ReadCache::bounded(HOUR, HOUR, 100);
        let metrics = AwsMetrics::default();
        for i in 0..1000 {
            let key = format!("tenant-key-{i}-{}", "x".repeat(100));
            cache
                .get_or_load(&key, HOUR, &metrics, |_| true, || async move { i })
                .await;
        }
        let held = cache.len();
        assert!(held <= 100, "{held} entries held");
        assert!(!cache.is_empty());
    }
}
