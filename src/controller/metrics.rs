//! The operator's metrics on `prometheus-client`, rendered as OpenMetrics text for `/metrics`: reconciles by
//! result and their durations (a histogram), each check's verdict (one series per check and verdict, as
//! cert-manager's `certmanager_certificate_ready_status`) and the count by verdict, whether this replica
//! leads, build information, the trust boundary's mode and refusals, and the collector's AWS calls, errors and
//! cache lookups.
//!
//! Verdicts and AWS counters are read when scraped (collectors), from the controller's cache of checks and
//! the collector's own counters: a deleted check drops out without the operator seeing its deletion, and the
//! AWS adapter keeps no dependency on the metrics library.

use bucket_access_api::spec::BucketAccessCheck;
use bucket_access_aws::error::is_read_failure;
use bucket_access_aws::metrics::AwsMetrics;
use kube::runtime::reflector::Store;
use kube::ResourceExt;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use s3_diagnosis::Verdict;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The verdicts a check can have, as its status names them; every check has one series for each (1 for its
/// current verdict).
fn verdicts() -> [&'static str; 4] {
    [
        Verdict::Allowed,
        Verdict::Denied,
        Verdict::Unknown,
        Verdict::Invalid,
    ]
    .map(Verdict::as_str)
}

/// The media type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NamespaceLabels {
    namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LeaseLabels {
    lease: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModeLabels {
    mode: String,
}

/// The operator's metrics and the registry that renders them.
#[derive(Debug)]
pub struct OperatorMetrics {
    registry: Registry,
    reconciles: Family<ResultLabels, Counter>,
    duration: Histogram,
    leader: Family<LeaseLabels, Gauge>,
    remembered: Gauge,
    scope_mode: Family<ModeLabels, Gauge>,
    out_of_scope: Family<NamespaceLabels, Counter>,
    events_received: Counter,
    events: Family<OutcomeLabels, Counter>,
    event_lag: Histogram,
    writes: Family<WriteLabels, Counter>,
    /// The controller's cache of checks, set when this replica starts leading, and up to how many checks
    /// each one has series of its own.
    checks: Arc<OnceLock<(Store<BucketAccessCheck>, usize)>>,
}

impl Default for OperatorMetrics {
    fn default() -> Self {
        Self::new(None, "unknown")
    }
}

impl OperatorMetrics {
    /// Metrics that also report the collector's, and the AWS account the operator's own credentials
    /// belong to (on the build-info series; `unknown` when they could not be read).
    pub fn with_aws(aws: Arc<AwsMetrics>, aws_account: &str) -> Self {
        Self::new(Some(aws), aws_account)
    }

    fn new(aws: Option<Arc<AwsMetrics>>, aws_account: &str) -> Self {
        let mut registry = Registry::with_prefix("bucket_access");
        let reconciles = Family::<ResultLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles by result (ok, or the error's kind).",
            reconciles.clone(),
        );
        // 5 ms (a cached read) to ~80 s (cold reads of a cross-account key behind throttling).
        let duration = Histogram::new(exponential_buckets(0.005, 2.0, 15));
        registry.register_with_unit(
            "reconcile_duration",
            "Time one reconcile took, AWS reads included.",
            Unit::Seconds,
            duration.clone(),
        );
        let leader = Family::<LeaseLabels, Gauge>::default();
        registry.register(
            "leader",
            "1 while this replica holds its Lease (each shard has its own) and runs the controller, else 0.",
            leader.clone(),
        );
        let remembered = Gauge::default();
        registry.register(
            "remembered_checks",
            "Checks the controller remembers (last visit, failures, last fresh read), bounded in entries and age.",
            remembered.clone(),
        );
        registry.register(
            "build",
            "The operator's version and git revision, and the AWS account of its own credentials.",
            Info::new(vec![
                ("version", env!("CARGO_PKG_VERSION").to_owned()),
                ("revision", env!("BAO_GIT_REVISION").to_owned()),
                ("aws_account", aws_account.to_owned()),
            ]),
        );
        let scope_mode = Family::<ModeLabels, Gauge>::default();
        registry.register(
            "scope_mode",
            "The trust boundary mode: 1 for the mode in force.",
            scope_mode.clone(),
        );
        let out_of_scope = Family::<NamespaceLabels, Counter>::default();
        registry.register(
            "out_of_scope",
            "Reconciles that found a check out of scope (and read nothing for it), by namespace.",
            out_of_scope.clone(),
        );
        let events_received = Counter::default();
        registry.register(
            "events_received",
            "Messages received from the change events queue.",
            events_received.clone(),
        );
        let events = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "events",
            "Change events handled, by outcome: applied (it touched cached reads or checks), ignored (it touched nothing read), failed (not an event: logged and deleted).",
            events.clone(),
        );
        // 0.25 s to ~68 min: EventBridge and CloudTrail deliver within seconds to minutes.
        let event_lag = Histogram::new(exponential_buckets(0.25, 2.0, 15));
        registry.register_with_unit(
            "event_lag",
            "Time from an AWS change (its event's time) to the end of the re-evaluation it started.",
            Unit::Seconds,
            event_lag.clone(),
        );
        let writes = Family::<WriteLabels, Counter>::default();
        registry.register(
            "kube_writes",
            "Writes to the Kubernetes API by kind: status (a check's status) and event (an Event).",
            writes.clone(),
        );
        let checks = Arc::new(OnceLock::new());
        registry.register_collector(Box::new(CheckCollector {
            checks: Arc::clone(&checks),
        }));
        if let Some(aws) = aws {
            registry.register_collector(Box::new(AwsCollector { aws }));
        }
        Self {
            registry,
            reconciles,
            duration,
            leader,
            remembered,
            scope_mode,
            out_of_scope,
            events_received,
            events,
            event_lag,
            writes,
            checks,
        }
    }

    /// Records one write of a check's status.
    pub fn status_written(&self) {
        self.writes
            .get_or_create(&WriteLabels { kind: "status" })
            .inc();
    }

    /// Records one Event published.
    pub fn event_published(&self) {
        self.writes
            .get_or_create(&WriteLabels { kind: "event" })
            .inc();
    }

    /// Records one message received from the change events queue and what became of it (`applied`,
    /// `ignored`, `failed`).
    pub fn event(&self, outcome: &str) {
        self.events_received.inc();
        self.events
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Records the time from an AWS change to the end of the re-evaluation it started.
    pub fn event_lag(&self, lag: Duration) {
        self.event_lag.observe(lag.as_secs_f64());
    }

    /// Records one reconcile (`error`: its label, if it failed).
    pub fn reconciled(&self, took: Duration, error: Option<&str>) {
        self.reconciles
            .get_or_create(&ResultLabels {
                result: error.unwrap_or("ok").to_owned(),
            })
            .inc();
        self.duration.observe(took.as_secs_f64());
    }

    /// Records whether this replica leads.
    pub fn set_leader(&self, lease: &str, leading: bool) {
        self.leader
            .get_or_create(&LeaseLabels {
                lease: lease.to_owned(),
            })
            .set(i64::from(leading));
    }

    /// Records the scope mode (`enforce` or `off`).
    pub fn set_scope_mode(&self, mode: &'static str) {
        for m in ["enforce", "off"] {
            self.scope_mode
                .get_or_create(&ModeLabels { mode: m.to_owned() })
                .set(i64::from(m == mode));
        }
    }

    /// Records one check found out of scope in `namespace` (and so not read).
    pub fn out_of_scope(&self, namespace: &str) {
        self.out_of_scope
            .get_or_create(&NamespaceLabels {
                namespace: namespace.to_owned(),
            })
            .inc();
    }

    /// Sets how many checks the controller remembers.
    pub fn set_remembered(&self, entries: u64) {
        self.remembered
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
    }

    /// Reports verdicts from the controller's store of checks (set once, when this replica starts leading):
    /// by verdict and by namespace and verdict always, and each check's own series while there are at most
    /// `per_check_limit` checks.
    pub fn count_checks_in(&self, store: Store<BucketAccessCheck>, per_check_limit: usize) {
        let _ = self.checks.set((store, per_check_limit));
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            // Writing into a String does not fail; an encoder error would be a bug in a label value.
            out = format!("# cannot encode the metrics: {e}\n# EOF\n");
        }
        out
    }
}

/// Up to how many checks each one has series of its own (`bucket_access_check_verdict`, four per check): above
/// it, the counts by namespace and verdict alone, so that 100,000 checks do not make 400,000 series.
pub const DEFAULT_PER_CHECK_LIMIT: usize = 2_000;

/// The count of checks by verdict and by namespace and verdict, and each check's verdict while there are at
/// most the limit, from the controller's cache when scraped.
#[derive(Debug)]
struct CheckCollector {
    checks: Arc<OnceLock<(Store<BucketAccessCheck>, usize)>>,
}

/// One check: its namespace, its name and its verdict (none while the first evaluation runs).
type CheckRow = (String, String, Option<&'static str>);

impl Collector for CheckCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // A follower has no store: it reports no verdicts (the leader does).
        let Some((store, limit)) = self.checks.get() else {
            return Ok(());
        };
        let mut checks: Vec<CheckRow> = store
            .state()
            .iter()
            .map(|c| {
                let verdict = c
                    .status
                    .as_ref()
                    .and_then(|s| s.verdict)
                    .map(Verdict::as_str);
                (c.namespace().unwrap_or_default(), c.name_any(), verdict)
            })
            .collect();
        checks.sort();
        encode_counts(&mut encoder, &checks)?;
        let per_check = checks.len() <= *limit;
        let family = encoder.encode_descriptor(
            "check_verdict_series",
            "1 while each check has its own bucket_access_check_verdict series (at most --per-check-metrics-limit checks), else 0.",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(i64::from(per_check)).encode(family)?;
        if per_check {
            encode_each(&mut encoder, &checks)?;
        }
        Ok(())
    }
}

/// `bucket_access_checks{verdict}` and `bucket_access_checks_by_namespace{namespace,verdict}`.
fn encode_counts(
    encoder: &mut DescriptorEncoder,
    checks: &[CheckRow],
) -> Result<(), std::fmt::Error> {
    let mut counts: BTreeMap<&str, i64> = verdicts().iter().map(|v| (*v, 0)).collect();
    let mut by_namespace: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for (namespace, _, verdict) in checks {
        for v in verdicts() {
            by_namespace.entry((namespace.as_str(), v)).or_insert(0);
        }
        if let Some(v) = verdict {
            if let Some(n) = counts.get_mut(v) {
                *n += 1;
            }
            if let Some(n) = by_namespace.get_mut(&(namespace.as_str(), *v)) {
                *n += 1;
            }
        }
    }
    let mut family = encoder.encode_descriptor(
        "checks",
        "Checks by current verdict.",
        None,
        MetricType::Gauge,
    )?;
    for (verdict, n) in &counts {
        ConstGauge::new(*n).encode(family.encode_family(&[("verdict", *verdict)])?)?;
    }
    let mut family = encoder.encode_descriptor(
        "checks_by_namespace",
        "Checks by namespace and current verdict.",
        None,
        MetricType::Gauge,
    )?;
    for ((namespace, verdict), n) in &by_namespace {
        let labels = [("namespace", *namespace), ("verdict", *verdict)];
        ConstGauge::new(*n).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// `bucket_access_check_verdict{namespace,name,verdict}`: four series per check.
fn encode_each(
    encoder: &mut DescriptorEncoder,
    checks: &[CheckRow],
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(
        "check_verdict",
        "1 for each check's current verdict, 0 for the others (all 0 while the first evaluation runs).",
        None,
        MetricType::Gauge,
    )?;
    for (namespace, name, verdict) in checks {
        for v in verdicts() {
            let labels = [
                ("namespace", namespace.as_str()),
                ("name", name.as_str()),
                ("verdict", v),
            ];
            let value = i64::from(*verdict == Some(v));
            ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
        }
    }
    Ok(())
}

/// The AWS adapter's counters, read when scraped.
#[derive(Debug)]
struct AwsCollector {
    aws: Arc<AwsMetrics>,
}

impl Collector for AwsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let calls = self.aws.calls();
        let failed: Vec<_> = calls
            .iter()
            .filter(|((_, _, o), _)| is_read_failure(o))
            .cloned()
            .collect();
        for (name, help, series) in [
            (
                "aws_calls",
                "AWS API calls by service, operation and outcome (ok, or the error code).",
                &calls,
            ),
            (
                "aws_errors",
                "AWS reads that failed (refused, throttled, unreachable; not \"there is none\" answers such as NoSuchBucketPolicy), by service, operation and error code.",
                &failed,
            ),
        ] {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for ((service, operation, outcome), n) in series {
                let labels = [
                    ("service", service.as_str()),
                    ("operation", operation.as_str()),
                    ("outcome", outcome.as_str()),
                ];
                ConstCounter::new(*n).encode(family.encode_family(&labels)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "aws_calls_by_namespace",
            "AWS API calls made for the checks of each namespace.",
            None,
            MetricType::Counter,
        )?;
        for (namespace, n) in self.aws.calls_by_namespace() {
            ConstCounter::new(n)
                .encode(family.encode_family(&[("namespace", namespace.as_str())])?)?;
        }
        let (hits, misses) = self.aws.cache_counts();
        let mut family = encoder.encode_descriptor(
            "cache_lookups",
            "Lookups in the cache of AWS reads, by result.",
            None,
            MetricType::Counter,
        )?;
        for (result, n) in [("hit", hits), ("miss", misses)] {
            ConstCounter::new(n).encode(family.encode_family(&[("result", result)])?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_histogram_the_leader_gauge_and_build_info() {
        let metrics = OperatorMetrics::with_aws(Arc::new(AwsMetrics::default()), "111122223333");
        metrics.reconciled(Duration::from_millis(7), None);
        metrics.set_leader("bao", true);
        let text = metrics.render();
        assert!(
            text.contains("bucket_access_reconcile_duration_seconds_bucket{le=\"0.01\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("bucket_access_reconcile_duration_seconds_bucket{le=\"0.005\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("bucket_access_leader{lease=\"bao\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("bucket_access_build_info{version=\""),
            "{text}"
        );
        assert!(text.contains(",aws_account=\"111122223333\"} 1"), "{text}");
        assert!(
            text.contains("bucket_access_cache_lookups_total{result=\"hit\"} 0"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    /// 10,000 checks in 10 namespaces: above the limit, no series of each check; the counts by namespace and
    /// verdict stay (44 series); below it, four series per check.
    #[test]
    fn series_stay_bounded_at_ten_thousand_checks() {
        use bucket_access_api::spec::CheckSpec;
        use kube::runtime::watcher::Event;
        let (store, mut writer) = kube::runtime::reflector::store();
        for n in 0..10_000 {
            let mut check = BucketAccessCheck::new(&format!("check-{n}"), CheckSpec::default());
            check.metadata.namespace = Some(format!("team-{}", n % 10));
            writer.apply_watcher_event(&Event::Apply(check));
        }
        let series = |text: &str| {
            text.lines()
                .filter(|l| l.starts_with("bucket_access_"))
                .count()
        };
        let bounded = OperatorMetrics::default();
        bounded.count_checks_in(store.clone(), DEFAULT_PER_CHECK_LIMIT);
        let text = bounded.render();
        assert!(series(&text) < 200, "{} series", series(&text));
        let check_series = text
            .lines()
            .filter(|l| l.starts_with("bucket_access_check"))
            .count();
        assert_eq!(
            check_series,
            4 + 10 * 4 + 1,
            "by verdict, by namespace and verdict, the switch"
        );
        assert!(!text.contains("bucket_access_check_verdict{"));
        assert!(text.contains("bucket_access_check_verdict_series 0"));
        assert!(text.contains(
            "bucket_access_checks_by_namespace{namespace=\"team-3\",verdict=\"Denied\"} 0"
        ));
        let every = OperatorMetrics::default();
        every.count_checks_in(store, 10_000);
        let text = every.render();
        assert!(series(&text) >= 40_000, "{} series", series(&text));
        assert!(text.contains("bucket_access_check_verdict_series 1"));
    }
}
