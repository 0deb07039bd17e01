//! `/metrics` scraped from both replicas as Prometheus would: exactly one reports itself leader, the leader
//! has the reconcile-duration histogram's buckets and one verdict series per example check, both report
//! their build, every metric the shipped alerts and dashboard query exists, and the leader logs one line per
//! evaluation with its verdict, causes, duration and AWS calls.

use crate::cluster::{lease_holder, metric, EXAMPLES};
use crate::support::{exposes, metric_names, root};
use crate::{Env, CHART};
use serde_json::Value;
use std::collections::BTreeSet;

/// The PromQL of the shipped alerts as `helm template` renders them, and of the dashboard (checked to be in
/// the ConfigMap as it is in the chart).
fn rendered_queries(env: &Env) -> Vec<String> {
    let chart = root().join(CHART);
    let out = env.cluster.helm(&[
        "template",
        "bao",
        chart.to_str().unwrap(),
        "--kube-version",
        "1.37.2",
        "--set",
        "prometheusRule.enabled=true",
        "--api-versions",
        crate::chart::PROMETHEUS_RULE,
        "--set",
        "grafanaDashboard.enabled=true",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let rule = documents
        .iter()
        .find(|d| d["kind"] == "PrometheusRule")
        .expect("a PrometheusRule");
    let mut queries: Vec<String> = rule["spec"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["expr"].as_str().unwrap().to_owned())
        .collect();
    // The ConfigMap carries the dashboard file as it is.
    let file =
        std::fs::read_to_string(chart.join("dashboards/bucket-access-operator.json")).unwrap();
    let configmap = documents
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("the dashboard's ConfigMap");
    assert_eq!(
        configmap["data"]["bucket-access-operator.json"]
            .as_str()
            .unwrap()
            .trim(),
        file.trim()
    );
    assert_eq!(configmap["metadata"]["labels"]["grafana_dashboard"], "1");
    queries.extend(crate::support::dashboard_queries(&file));
    queries
}

pub(crate) fn metrics_scraped_from_both_replicas(env: &Env) {
    let holder = lease_holder(&env.cluster).unwrap();
    let operators = env.operators();
    let scrapes: Vec<(String, String)> = operators
        .iter()
        .map(|o| (o.identity.clone(), o.metrics()))
        .collect();
    let leaders: Vec<&str> = scrapes
        .iter()
        .filter(|(_, m)| metric(m, "bucket_access_leader{lease=\"bucket-access-operator\"}") == 1)
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        leaders,
        [holder.as_str()],
        "exactly the Lease holder reports itself leader"
    );
    for (id, m) in &scrapes {
        assert!(
            m.contains("bucket_access_build_info{version=\""),
            "{id}: {m}"
        );
        // moto's account: the operator's own credentials were read at start-up.
        assert!(m.contains("aws_account=\"123456789012\"} 1"), "{id}: {m}");
        assert!(
            m.contains("bucket_access_leader{lease=\"bucket-access-operator\"} "),
            "{id}: {m}"
        );
    }
    let leader = operators.iter().find(|o| o.identity == holder).unwrap();
    let m = leader.metrics();

    // The histogram: every bucket, cumulative, the last equal to the count.
    let buckets: Vec<u64> = m
        .lines()
        .filter(|l| l.starts_with("bucket_access_reconcile_duration_seconds_bucket{le=\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 16, "15 bounds and +Inf: {m}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    let count = metric(&m, "bucket_access_reconcile_duration_seconds_count");
    assert!(count >= EXAMPLES.len() as u64, "{m}");
    assert_eq!(buckets.last().copied(), Some(count));

    // One series per example check and verdict: 1 for the verdict it has.
    for (name, verdict, _) in EXAMPLES {
        for v in ["Allowed", "Denied", "Unknown", "Invalid"] {
            let series = format!(
                r#"bucket_access_check_verdict{{namespace="default",name="{name}",verdict="{v}"}}"#
            );
            assert_eq!(
                metric(&m, &series),
                u64::from(v == *verdict),
                "{series}\n{m}"
            );
        }
    }

    // What the alerts and the dashboard query exists. Two counters start with their first refusal and
    // first failed read (the operator tests render every family populated).
    let starts_empty = [
        "bucket_access_out_of_scope_total",
        "bucket_access_aws_errors_total",
    ];
    let names: BTreeSet<String> = rendered_queries(env)
        .iter()
        .flat_map(|q| metric_names(q))
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    for name in names.iter().filter(|n| !starts_empty.contains(&n.as_str())) {
        assert!(
            exposes(&m, name),
            "`{name}`, queried by the alerts or the dashboard, is not exposed:\n{m}"
        );
    }

    // One log line per evaluation, with what a log pipeline needs.
    let log = leader.log();
    let line = log
        .lines()
        .find(|l| l.contains("evaluated") && l.contains("name=storage-class"))
        .unwrap_or_else(|| panic!("no evaluation line for storage-class:\n{log}"));
    for field in [
        "namespace=default",
        "verdict=Denied",
        "causes=BUCKET_POLICY_CONDITION_STORAGE_CLASS",
        "duration_ms=",
        "aws_calls=",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
}
