//! The controller's memory of each check, by uid (and of its own recent status writes, `OwnWrites`): its last evaluation (for which generation and which
//! requested-at value, kept as a digest, and when it is due again) and its consecutive failures (for
//! backoff). One map, bounded by entries and by age, whatever the namespaces' editors create and delete; its
//! size is on `/metrics`. The fresh reads requests asked for are remembered apart (`FreshReads`), by
//! namespace and by principal and bucket, so that deleting and re-creating a check changes nothing. Also
//! when a check is due: the jittered interval and the backoff.

use bucket_access_api::status::{kept, BucketAccessCheckStatus};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most checks remembered at once: beyond it the least recently used are forgotten (their next
/// reconcile evaluates, as after a restart). Room for the 100,000 checks the operator is sized for, twice.
pub const MAX_REMEMBERED: u64 = 200_000;

/// How long an untouched entry is kept: a check is visited at least once per interval, so an entry a week
/// idle belongs to a deleted check.
const MAX_IDLE: Duration = Duration::from_secs(7 * 86_400);

/// The digest of a requested-at value: a tenant's annotation (up to the API server's 256 KiB) costs 32 bytes.
type RequestedDigest = [u8; 32];

/// One evaluation's inputs from the object itself, and when the next is due.
#[derive(Debug, Clone, PartialEq)]
struct Visit {
    generation: Option<i64>,
    requested: Option<RequestedDigest>,
    due: Instant,
}

/// Everything remembered of one check.
#[derive(Debug, Clone, Default)]
struct Memory {
    visit: Option<Visit>,
    failures: u32,
}

/// The memory of every check.
pub struct Visits {
    entries: moka::sync::Cache<String, Memory>,
}

impl Default for Visits {
    fn default() -> Self {
        Self::bounded(MAX_REMEMBERED)
    }
}

fn requested_digest(requested: Option<&str>) -> Option<RequestedDigest> {
    requested.map(|r| Sha256::digest(r.as_bytes()).into())
}

impl Visits {
    /// A memory of at most `max` checks.
    pub fn bounded(max: u64) -> Self {
        Self {
            entries: bounded(max),
        }
    }

    /// How many checks are remembered (after pending evictions).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// About how many checks are remembered (evictions still pending count): cheap, for the gauge each
    /// reconcile sets.
    pub fn approximate_len(&self) -> u64 {
        self.entries.entry_count()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn update(&self, uid: &str, f: impl FnOnce(&mut Memory)) -> Memory {
        self.entries
            .entry_by_ref(uid)
            .and_upsert_with(|entry| {
                let mut memory = entry.map(|e| e.into_value()).unwrap_or_default();
                f(&mut memory);
                memory
            })
            .into_value()
    }

    /// How long until the check is due, when nothing that starts an evaluation changed since its last one:
    /// the same generation and requested-at value, and its requeue time not reached (with a second of slack:
    /// a requeue that fires a little early is due).
    pub fn not_due(
        &self,
        uid: &str,
        generation: Option<i64>,
        requested: Option<&str>,
    ) -> Option<Duration> {
        let visit = self.entries.get(uid)?.visit?;
        let same = visit.generation == generation && visit.requested == requested_digest(requested);
        let left = visit.due.checked_duration_since(Instant::now())?;
        (same && left > Duration::from_secs(1)).then_some(left)
    }

    /// Records an evaluation, due again after `after`.
    pub fn visited(
        &self,
        uid: &str,
        generation: Option<i64>,
        requested: Option<&str>,
        after: Duration,
    ) {
        let visit = Visit {
            generation,
            requested: requested_digest(requested),
            due: Instant::now() + after,
        };
        self.update(uid, |m| m.visit = Some(visit));
    }

    /// Forgets the last evaluation (the next reconcile evaluates).
    pub fn forget(&self, uid: &str) {
        if self.entries.contains_key(uid) {
            self.update(uid, |m| m.visit = None);
        }
    }

    /// Counts a failure (returns how many in a row), or clears the count on success.
    pub fn failures(&self, uid: &str, failed: bool) -> u32 {
        if !failed && !self.entries.contains_key(uid) {
            return 0;
        }
        self.update(uid, |m| {
            m.failures = if failed {
                m.failures.saturating_add(1)
            } else {
                0
            };
        })
        .failures
    }
}

/// The least time between two fresh reads of one principal and bucket for one namespace, when the scope sets
/// no `limits.minInterval`.
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(60);

/// The most fresh reads one namespace may ask for at once, refilled evenly over `NAMESPACE_WINDOW`, whatever
/// principals and buckets its checks name.
pub const NAMESPACE_FRESH_READS: u32 = 30;

/// The window `NAMESPACE_FRESH_READS` counts over.
pub const NAMESPACE_WINDOW: Duration = Duration::from_secs(60);

/// Why a requested fresh read is answered from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// The same principal and bucket were read fresh for this namespace less than this long ago.
    Pair(Duration),
    /// The namespace asked for `NAMESPACE_FRESH_READS` within the window already.
    Namespace,
}

/// How long the controller trusts its own last status write over the watched copy: the watch delivers a
/// write within seconds; until it does, a reconcile that starts at once (an event, a scope change) would
/// compare its result with the one before and could skip a write that changes it.
const OWN_WRITES_KEPT: Duration = Duration::from_secs(120);

/// The last status the controller wrote for each check (as `status::kept` keeps it), for `OWN_WRITES_KEPT`:
/// newer than, or the same as, the watched copy, which may not have caught up with it yet.
pub struct OwnWrites {
    written: moka::sync::Cache<String, Arc<BucketAccessCheckStatus>>,
}

impl Default for OwnWrites {
    fn default() -> Self {
        Self {
            written: moka::sync::Cache::builder()
                .max_capacity(MAX_REMEMBERED)
                .time_to_live(OWN_WRITES_KEPT)
                .build(),
        }
    }
}

impl OwnWrites {
    /// Records `status`, just written for the check `uid`.
    pub fn wrote(&self, uid: &str, status: &BucketAccessCheckStatus) {
        self.written.insert(uid.to_owned(), Arc::new(kept(status)));
    }

    /// The status the check `uid` has now: the last one written here if recent, else the watched one.
    pub fn current(
        &self,
        uid: &str,
        watched: Option<&BucketAccessCheckStatus>,
    ) -> Option<BucketAccessCheckStatus> {
        match self.written.get(uid) {
            Some(own) => Some((*own).clone()),
            None => watched.cloned(),
        }
    }
}

/// The fresh reads requests asked for: when each (namespace, principal, bucket) was last read fresh, and each
/// namespace's allowance (a token bucket of `NAMESPACE_FRESH_READS` refilled over `NAMESPACE_WINDOW`). Keyed
/// by what is read, not by the check: deleting and re-creating a check (a new uid) does not read AWS again.
/// Keys are digests (32 bytes, whatever the tenant wrote); bounded by entries and age. Per process: a new
/// leader, and each shard, starts with none remembered.
pub struct FreshReads {
    pairs: moka::sync::Cache<[u8; 32], Instant>,
    namespaces: moka::sync::Cache<String, (Instant, f64)>,
}

/// A map bounded as every memory of the controller is: `max` entries, least recently used first, and
/// `MAX_IDLE`.
fn bounded<K, V>(max: u64) -> moka::sync::Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    // Least recently used first: the default policy (TinyLFU) may refuse a new entry once full.
    moka::sync::Cache::builder()
        .eviction_policy(moka::policy::EvictionPolicy::lru())
        .max_capacity(max)
        .time_to_idle(MAX_IDLE)
        .build()
}

impl Default for FreshReads {
    fn default() -> Self {
        Self {
            pairs: bounded(MAX_REMEMBERED),
            namespaces: bounded(MAX_REMEMBERED),
        }
    }
}

impl FreshReads {
    /// Whether `namespace` may read `pair` (what identifies its principal and bucket) fresh now, given one
    /// fresh read per `min_interval` for the pair and the namespace's allowance; when it may, the read is
    /// counted. The pair is decided and recorded at once: checks asking together get one fresh read.
    pub fn may_read(
        &self,
        namespace: &str,
        pair: &str,
        min_interval: Duration,
    ) -> Result<(), Held> {
        let now = Instant::now();
        let key: [u8; 32] = Sha256::digest(format!("{namespace}\u{0}{pair}").as_bytes()).into();
        let mut outcome = Err(Held::Pair(min_interval));
        self.pairs.entry(key).and_compute_with(|last| {
            let recent = last.is_some_and(|l| now.duration_since(*l.value()) < min_interval);
            if recent {
                return moka::ops::compute::Op::Nop;
            }
            outcome = self.take_allowance(namespace, now);
            match outcome {
                Ok(()) => moka::ops::compute::Op::Put(now),
                Err(_) => moka::ops::compute::Op::Nop,
            }
        });
        outcome
    }

    /// Takes one fresh read from the namespace's allowance: `NAMESPACE_FRESH_READS` at most, refilled evenly
    /// over `NAMESPACE_WINDOW`.
    fn take_allowance(&self, namespace: &str, now: Instant) -> Result<(), Held> {
        let full = f64::from(NAMESPACE_FRESH_READS);
        let mut allowed = false;
        self.namespaces
            .entry_by_ref(namespace)
            .and_upsert_with(|entry| {
                let (last, tokens) = entry.map_or((now, full), |e| e.into_value());
                let refill =
                    now.duration_since(last).as_secs_f64() / NAMESPACE_WINDOW.as_secs_f64();
                let tokens = (tokens + refill * full).min(full);
                allowed = tokens >= 1.0;
                (now, if allowed { tokens - 1.0 } else { tokens })
            });
        if allowed {
            Ok(())
        } else {
            Err(Held::Namespace)
        }
    }
}

/// The requeue delay: the interval with up to ±10% jitter, fixed per object so that checks spread out.
pub fn jittered(interval: Duration, uid: &str) -> Duration {
    let seed = uid
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let permille = (seed % 201) as i64 - 100; // -100..=100
    let millis = interval.as_millis() as i64;
    Duration::from_millis((millis + millis * permille / 1000).max(1000) as u64)
}

/// Backoff after `failures` consecutive failures: 5 s doubling, at most `cap`.
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << failures.saturating_sub(1).min(16));
    Duration::from_secs(secs).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let cap = Duration::from_secs(600);
        let delays: Vec<u64> = (1..=9).map(|n| backoff(n, cap).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 600, 600]);
    }

    #[test]
    fn jitter_stays_within_ten_percent_and_is_stable() {
        let interval = Duration::from_secs(600);
        for uid in ["a", "b", "0f9c", "uid-with-more-characters"] {
            let d = jittered(interval, uid).as_secs();
            assert!((540..=660).contains(&d), "{uid}: {d}");
            assert_eq!(jittered(interval, uid), jittered(interval, uid));
        }
    }

    /// A visit is answered by the same generation and requested-at value only; a changed value is due.
    #[test]
    fn a_visit_remembers_its_inputs_by_digest() {
        let visits = Visits::default();
        let big = "x".repeat(256 * 1024);
        visits.visited("u", Some(3), Some(&big), Duration::from_secs(600));
        assert!(visits.not_due("u", Some(3), Some(&big)).is_some());
        assert!(visits.not_due("u", Some(3), Some("other")).is_none());
        assert!(visits.not_due("u", Some(4), Some(&big)).is_none());
        visits.forget("u");
        assert!(visits.not_due("u", Some(3), Some(&big)).is_none());
    }

    /// The memory holds at most its bound, whatever is created: a create/delete loop cannot grow it.
    #[test]
    fn the_memory_is_bounded_by_entries() {
        let visits = Visits::bounded(100);
        for n in 0..5_000 {
            let uid = format!("uid-{n}");
            visits.visited(&uid, Some(1), Some("now"), Duration::from_secs(600));
            visits.failures(&uid, true);
        }
        assert!(visits.len() <= 100, "{} remembered", visits.len());
        // The newest are kept: a check created after the memory filled is remembered.
        assert!(visits.not_due("uid-4999", Some(1), Some("now")).is_some());
    }

    #[test]
    fn failures_count_and_clear() {
        let visits = Visits::default();
        assert_eq!(visits.failures("u", true), 1);
        assert_eq!(visits.failures("u", true), 2);
        assert_eq!(visits.failures("u", false), 0);
        assert_eq!(visits.failures("u", true), 1);
    }

    /// One fresh read per principal and bucket per interval in a namespace, whichever check asks (a
    /// re-created check is the same pair); a namespace asking for many pairs is held after its share.
    #[test]
    fn fresh_reads_are_held_per_pair_and_per_namespace() {
        let fresh = FreshReads::default();
        let minute = DEFAULT_MIN_INTERVAL;
        assert_eq!(fresh.may_read("team", "role/a|bucket", minute), Ok(()));
        assert_eq!(
            fresh.may_read("team", "role/a|bucket", minute),
            Err(Held::Pair(minute))
        );
        assert_eq!(fresh.may_read("other", "role/a|bucket", minute), Ok(()));
        assert_eq!(
            fresh.may_read("team", "role/a|bucket", Duration::ZERO),
            Ok(())
        );
        for n in 2..NAMESPACE_FRESH_READS {
            assert_eq!(
                fresh.may_read("team", &format!("role/{n}|bucket"), minute),
                Ok(())
            );
        }
        assert_eq!(
            fresh.may_read("team", "role/last|bucket", minute),
            Err(Held::Namespace)
        );
        assert_eq!(fresh.may_read("third", "role/last|bucket", minute), Ok(()));
    }
}
