//! Chart values that must work together, each rendered with `helm template`: shards (a PodDisruptionBudget
//! and a no-leader alert per shard's Lease, named as the operator names it), the organization reader's
//! ExternalId without its role (refused by the schema), the monitoring objects on a cluster without the
//! Prometheus Operator's API (refused, naming the value to turn off), and releases in two namespaces (no
//! cluster-scoped name in common).

use crate::cluster::Cluster;
use crate::install::{ok, yaml_documents};
use bucket_access_operator::cli::operator::shard_lease_name;
use serde_json::Value;
use std::collections::BTreeSet;

/// The API the ServiceMonitor needs, as `helm template --api-versions` names it.
pub(crate) const SERVICE_MONITOR: &str = "monitoring.coreos.com/v1/ServiceMonitor";
/// The API the PrometheusRule needs.
pub(crate) const PROMETHEUS_RULE: &str = "monitoring.coreos.com/v1/PrometheusRule";

fn template(cluster: &Cluster, release: &str, chart: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["template", release, chart, "--kube-version", "1.37.2"];
    args.extend(extra);
    yaml_documents(&ok(cluster.helm(&args), "helm template"))
}

/// `helm template` that must fail: its error output.
fn refused(cluster: &Cluster, chart: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "template",
        "bucket-access-operator",
        chart,
        "--kube-version",
        "1.37.2",
    ];
    args.extend(extra);
    let out = cluster.helm(&args);
    assert!(!out.status.success(), "helm template {extra:?} rendered");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub(crate) fn value_combinations(cluster: &Cluster, chart: &str) {
    shards(cluster, chart);
    // The ExternalId is sent when assuming the organization reader role: without the role, refused.
    let error = refused(
        cluster,
        chart,
        &["--set", "organization.externalId=ops-ext"],
    );
    assert!(error.contains("organization/readerRoleArn"), "{error}");
    // The organization is read through the role or accepted unread, never both.
    let error = refused(
        cluster,
        chart,
        &[
            "--set",
            "organization.unread=true",
            "--set",
            "organization.readerRoleArn=arn:aws:iam::999988887777:role/bucket-access-org-reader",
        ],
    );
    assert!(error.contains("organization.unread=true"), "{error}");
    let unread = template(
        cluster,
        "bucket-access-operator",
        chart,
        &["--set", "organization.unread=true"],
    );
    let args = unread
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .and_then(|d| d.pointer("/spec/template/spec/containers/0/args"))
        .unwrap()
        .to_string();
    assert!(args.contains("--organization-unread"), "{args}");
    // The monitoring objects need the Prometheus Operator's API: refused without it, naming the value.
    for (value, api) in [
        ("serviceMonitor.enabled", SERVICE_MONITOR),
        ("prometheusRule.enabled", PROMETHEUS_RULE),
    ] {
        let error = refused(cluster, chart, &["--set", &format!("{value}=true")]);
        assert!(error.contains(&format!("set {value}=false")), "{error}");
        let rendered = template(
            cluster,
            "bucket-access-operator",
            chart,
            &["--set", &format!("{value}=true"), "--api-versions", api],
        );
        let kind = api.rsplit('/').next().unwrap();
        assert!(rendered.iter().any(|d| d["kind"] == kind), "{value}");
    }
    two_releases(cluster, chart);
}

/// Two shards: a PodDisruptionBudget each, selecting only its pods, and one no-leader alert per shard's
/// Lease, whose name is the one the operator elects on.
fn shards(cluster: &Cluster, chart: &str) {
    let selectors = ["bucketaccess.io/shard=a", "bucketaccess.io/shard!=a"];
    let shards = format!(
        r#"shards=[{{"name":"a","selector":"{}"}},{{"name":"rest","selector":"{}"}}]"#,
        selectors[0], selectors[1]
    );
    let rendered = template(
        cluster,
        "bucket-access-operator",
        chart,
        &[
            "--set-json",
            &shards,
            "--set",
            "prometheusRule.enabled=true",
            "--api-versions",
            PROMETHEUS_RULE,
        ],
    );
    let budgets: Vec<&Value> = rendered
        .iter()
        .filter(|d| d["kind"] == "PodDisruptionBudget")
        .collect();
    let shard_of =
        |d: &Value| d["spec"]["selector"]["matchLabels"]["bucketaccess.io/shard"].clone();
    assert_eq!(
        budgets.iter().map(|d| shard_of(d)).collect::<Vec<_>>(),
        ["a", "rest"],
        "{budgets:?}"
    );
    let rules = rendered
        .iter()
        .find(|d| d["kind"] == "PrometheusRule")
        .unwrap()["spec"]["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .clone();
    let no_leader: Vec<String> = rules
        .iter()
        .filter(|r| r["alert"] == "BucketAccessOperatorNoLeader")
        .map(|r| r["labels"]["lease"].as_str().unwrap().to_owned())
        .collect();
    let leases: Vec<String> = selectors
        .iter()
        .map(|s| shard_lease_name("bucket-access-operator", Some(s)))
        .collect();
    assert_eq!(no_leader, leases);
    let several = rules
        .iter()
        .find(|r| r["alert"] == "BucketAccessOperatorSeveralLeaders")
        .unwrap();
    assert!(
        several["expr"].as_str().unwrap().contains("by (lease)"),
        "{several}"
    );
    // Unsharded: one budget, one no-leader alert on the one Lease.
    let single = template(
        cluster,
        "bucket-access-operator",
        chart,
        &[
            "--set",
            "prometheusRule.enabled=true",
            "--api-versions",
            PROMETHEUS_RULE,
        ],
    );
    let budgets = single
        .iter()
        .filter(|d| d["kind"] == "PodDisruptionBudget")
        .count();
    assert_eq!(budgets, 1);
    let rule = single
        .iter()
        .find(|d| d["kind"] == "PrometheusRule")
        .unwrap();
    assert!(rule
        .to_string()
        .contains(r#"bucket_access_leader{lease=\"bucket-access-operator\"}"#));
}

/// A second release (in another namespace, its CRDs left to the first) shares no cluster-scoped name with the
/// first, whose names are the kustomize base's.
fn two_releases(cluster: &Cluster, chart: &str) {
    let cluster_scoped = |docs: &[Value]| -> BTreeSet<String> {
        docs.iter()
            .filter(|d| d["metadata"]["namespace"].is_null())
            .map(|d| {
                format!(
                    "{}/{}",
                    d["kind"].as_str().unwrap(),
                    d["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    let first = cluster_scoped(&template(
        cluster,
        "bucket-access-operator",
        chart,
        &["-n", "bucket-access-operator"],
    ));
    let second = cluster_scoped(&template(
        cluster,
        "team-b",
        chart,
        &["-n", "team-b", "--set", "crds.enabled=false"],
    ));
    assert!(
        first.contains("ClusterRole/bucketaccess-checks-edit"),
        "{first:?}"
    );
    assert!(
        second.contains("ClusterRole/bucket-access-operator-team-b-checks-edit"),
        "{second:?}"
    );
    assert!(
        first.is_disjoint(&second),
        "{:?}",
        first.intersection(&second).collect::<Vec<_>>()
    );
}
