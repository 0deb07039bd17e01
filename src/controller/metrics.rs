//! The operator's metrics, rendered in the Prometheus text format for `/metrics`: reconciles by result,
//! reconcile durations, checks by verdict, and the collector's AWS calls and cache hits.

use crate::aws::metrics::AwsMetrics;
use crate::spec::BucketAccessCheck;
use kube::runtime::reflector::Store;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Operator counters.
#[derive(Debug, Default)]
pub struct OperatorMetrics {
    reconciles: Mutex<BTreeMap<String, u64>>,
    duration: Mutex<(f64, u64)>,
    /// The controller's cache of checks: the verdict gauge counts what is in it now, so deleted checks drop
    /// out without the operator seeing their deletion.
    checks: OnceLock<Store<BucketAccessCheck>>,
    aws: Option<Arc<AwsMetrics>>,
    /// `enforce` or `off`, set once at start.
    scope_mode: OnceLock<&'static str>,
    /// Out-of-scope decisions by namespace.
    out_of_scope: Mutex<BTreeMap<String, u64>>,
}

impl OperatorMetrics {
    /// Metrics that also report the collector's.
    pub fn with_aws(aws: Arc<AwsMetrics>) -> Self {
        Self {
            aws: Some(aws),
            ..Self::default()
        }
    }

    /// Records one reconcile (`error`: its label, if it failed).
    pub fn reconciled(&self, took: Duration, error: Option<&str>) {
        if let Ok(mut r) = self.reconciles.lock() {
            *r.entry(error.unwrap_or("ok").to_owned()).or_default() += 1;
        }
        if let Ok(mut d) = self.duration.lock() {
            d.0 += took.as_secs_f64();
            d.1 += 1;
        }
    }

    /// Records the scope mode (`enforce` or `off`).
    pub fn set_scope_mode(&self, mode: &'static str) {
        let _ = self.scope_mode.set(mode);
    }

    /// Records one check found out of scope in `namespace` (and so not read).
    pub fn out_of_scope(&self, namespace: &str) {
        if let Ok(mut m) = self.out_of_scope.lock() {
            *m.entry(namespace.to_owned()).or_default() += 1;
        }
    }

    /// Counts verdicts from the controller's store of checks (set once, when this replica starts leading).
    pub fn count_checks_in(&self, store: Store<BucketAccessCheck>) {
        let _ = self.checks.set(store);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP bucket_access_reconciles_total Reconciles by result.\n# TYPE bucket_access_reconciles_total counter");
        if let Ok(r) = self.reconciles.lock() {
            for (result, n) in r.iter() {
                let _ = writeln!(
                    out,
                    "bucket_access_reconciles_total{{result=\"{result}\"}} {n}"
                );
            }
        }
        if let Ok(d) = self.duration.lock() {
            let _ = writeln!(
                out,
                "# HELP bucket_access_reconcile_duration_seconds Time spent reconciling.\n# TYPE bucket_access_reconcile_duration_seconds summary\nbucket_access_reconcile_duration_seconds_sum {}\nbucket_access_reconcile_duration_seconds_count {}",
                d.0, d.1
            );
        }
        let _ = writeln!(out, "# HELP bucket_access_checks Checks by current verdict.\n# TYPE bucket_access_checks gauge");
        if let Some(store) = self.checks.get() {
            let mut counts: BTreeMap<String, u64> = ["Allowed", "Denied", "Unknown", "Invalid"]
                .iter()
                .map(|k| ((*k).to_owned(), 0))
                .collect();
            for check in store.state() {
                if let Some(verdict) = check.status.as_ref().and_then(|s| s.verdict.clone()) {
                    *counts.entry(verdict).or_default() += 1;
                }
            }
            for (verdict, n) in counts {
                let _ = writeln!(out, "bucket_access_checks{{verdict=\"{verdict}\"}} {n}");
            }
        }
        if let Some(mode) = self.scope_mode.get() {
            let _ = writeln!(out, "# HELP bucket_access_scope_mode The trust boundary mode: 1 for the mode in force.\n# TYPE bucket_access_scope_mode gauge");
            for m in ["enforce", "off"] {
                let _ = writeln!(
                    out,
                    "bucket_access_scope_mode{{mode=\"{m}\"}} {}",
                    u8::from(*mode == m)
                );
            }
        }
        let _ = writeln!(out, "# HELP bucket_access_out_of_scope_total Reconciles that found a check out of scope (and read nothing for it), by namespace.\n# TYPE bucket_access_out_of_scope_total counter");
        if let Ok(m) = self.out_of_scope.lock() {
            for (ns, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "bucket_access_out_of_scope_total{{namespace=\"{ns}\"}} {n}"
                );
            }
        }
        if let Some(aws) = &self.aws {
            let _ = writeln!(out, "# HELP bucket_access_aws_calls_by_namespace_total AWS API calls made for the checks of each namespace.\n# TYPE bucket_access_aws_calls_by_namespace_total counter");
            for (ns, n) in aws.calls_by_namespace() {
                let _ = writeln!(
                    out,
                    "bucket_access_aws_calls_by_namespace_total{{namespace=\"{ns}\"}} {n}"
                );
            }
            let _ = writeln!(out, "# HELP bucket_access_aws_calls_total AWS API calls by service, operation and outcome.\n# TYPE bucket_access_aws_calls_total counter");
            for ((service, operation, outcome), n) in aws.calls() {
                let _ = writeln!(out, "bucket_access_aws_calls_total{{service=\"{service}\",operation=\"{operation}\",outcome=\"{outcome}\"}} {n}");
            }
            let (hits, misses) = aws.cache_counts();
            let _ = writeln!(
                out,
                "# HELP bucket_access_cache_lookups_total Read-cache lookups.\n# TYPE bucket_access_cache_lookups_total counter\nbucket_access_cache_lookups_total{{result=\"hit\"}} {hits}\nbucket_access_cache_lookups_total{{result=\"miss\"}} {misses}"
            );
        }
        out
    }
}
