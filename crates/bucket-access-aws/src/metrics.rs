//! Counts every AWS call by service, operation and outcome, and cache hits and misses, for `/metrics` and
//! for tests that prove one read per distinct input; calls are also counted by the namespace they were made
//! for, so that an out-of-scope check's zero calls can be seen from `/metrics`.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

tokio::task_local! {
    /// The calls made by the task running one evaluation (its reads run in its own task: none is spawned).
    static CALLS_OF_THIS_TASK: Cell<u64>;
}

/// Runs `work` and counts the AWS calls it makes itself (reads it finds cached or waits for do not count):
/// the figure the per-evaluation log line reports.
pub async fn counting_calls<F: Future>(work: F) -> (F::Output, u64) {
    CALLS_OF_THIS_TASK
        .scope(Cell::new(0), async {
            let output = work.await;
            (output, CALLS_OF_THIS_TASK.with(Cell::get))
        })
        .await
}

/// Call and cache counters.
#[derive(Debug, Default)]
pub struct AwsMetrics {
    calls: Mutex<BTreeMap<(String, String, String), u64>>,
    by_namespace: Mutex<BTreeMap<String, u64>>,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

impl AwsMetrics {
    /// Records one call of `api` (`service:Operation`) with its outcome (`ok` or an error code).
    pub fn record(&self, api: &str, outcome: &str) {
        let _ = CALLS_OF_THIS_TASK.try_with(|n| n.set(n.get().saturating_add(1)));
        let (service, operation) = api.split_once(':').unwrap_or(("unknown", api));
        if let Ok(mut calls) = self.calls.lock() {
            *calls
                .entry((service.to_owned(), operation.to_owned(), outcome.to_owned()))
                .or_default() += 1;
        }
    }

    /// Records one call made for the checks of `namespace` (`None`: the CLI, or the operator's own reads).
    pub fn record_for(&self, api: &str, outcome: &str, namespace: Option<&str>) {
        self.record(api, outcome);
        if let (Some(ns), Ok(mut counts)) = (namespace, self.by_namespace.lock()) {
            *counts.entry(ns.to_owned()).or_default() += 1;
        }
    }

    /// Calls made for each namespace.
    pub fn calls_by_namespace(&self) -> Vec<(String, u64)> {
        self.by_namespace
            .lock()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// Records a cache lookup.
    pub fn cache(&self, hit: bool) {
        let counter = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Every (service, operation, outcome) with its count.
    pub fn calls(&self) -> Vec<((String, String, String), u64)> {
        self.calls
            .lock()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// The number of calls of one operation (`iam:GetRole`), all outcomes.
    pub fn count(&self, api: &str) -> u64 {
        let (service, operation) = api.split_once(':').unwrap_or(("", api));
        self.calls()
            .into_iter()
            .filter(|((s, o, _), _)| s == service && o == operation)
            .map(|(_, n)| n)
            .sum()
    }

    /// All calls, all operations.
    pub fn total(&self) -> u64 {
        self.calls().into_iter().map(|(_, n)| n).sum()
    }

    /// (hits, misses).
    pub fn cache_counts(&self) -> (u64, u64) {
        (
            self.cache_hits.load(Ordering::Relaxed),
            self.cache_misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_the_calls_of_one_evaluation_only() {
        let metrics = AwsMetrics::default();
        metrics.record("iam:GetRole", "ok");
        let ((), calls) = counting_calls(async {
            metrics.record("iam:GetRole", "ok");
            metrics.record_for("s3:GetBucketPolicy", "AccessDenied", Some("team-a"));
        })
        .await;
        assert_eq!(calls, 2);
        assert_eq!(metrics.total(), 3);
        let ((), none) = counting_calls(async {}).await;
        assert_eq!(none, 0);
    }
}
