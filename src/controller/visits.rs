//! The controller's memory of each check, by uid: its last evaluation (for which generation and which
//! requested-at value, kept as a digest, and when it is due again), its consecutive failures (for backoff),
//! and its last fresh read (for `minInterval`). One map, bounded by entries and by age, whatever the
//! namespaces' editors create and delete; its size is on `/metrics`. Also when a check is due: the jittered
//! interval and the backoff.

use sha2::{Digest, Sha256};
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
    refreshed: Option<Instant>,
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
            entries: moka::sync::Cache::builder()
                .max_capacity(max)
                .time_to_idle(MAX_IDLE)
                .build(),
        }
    }

    /// How many checks are remembered (after pending evictions).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
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

    /// Whether the check may be read fresh now, given at most one fresh read per `min_interval` (none: no
    /// limit); when it may, the time is recorded.
    pub fn may_refresh(&self, uid: &str, min_interval: Option<Duration>) -> bool {
        let now = Instant::now();
        let mut allowed = true;
        self.update(uid, |m| {
            allowed = match (min_interval, m.refreshed) {
                (Some(min), Some(last)) => now.duration_since(last) >= min,
                _ => true,
            };
            if allowed {
                m.refreshed = Some(now);
            }
        });
        allowed
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
            visits.may_refresh(&uid, Some(Duration::from_secs(60)));
        }
        assert!(visits.len() <= 100, "{} remembered", visits.len());
    }

    #[test]
    fn failures_count_and_clear_and_fresh_reads_wait() {
        let visits = Visits::default();
        assert_eq!(visits.failures("u", true), 1);
        assert_eq!(visits.failures("u", true), 2);
        assert_eq!(visits.failures("u", false), 0);
        assert_eq!(visits.failures("u", true), 1);
        let minute = Some(Duration::from_secs(60));
        assert!(visits.may_refresh("u", minute));
        assert!(!visits.may_refresh("u", minute));
        assert!(visits.may_refresh("u", None));
        assert!(visits.may_refresh("other", minute));
    }
}
