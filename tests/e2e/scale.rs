//! The scale trial, not part of `make test` (`make scale`; `SCALE_STEPS` picks the steps): check objects on
//! the test control plane, evaluated by one operator process (the release binary when `OPERATOR_BIN` names
//! it) against moto, with `--scope-mode off` and defaults otherwise. For each step it creates the checks up
//! to that many and reports the time until every one has a verdict, the operator's peak memory, the
//! kube-apiserver's memory, etcd's database, the operator's status writes and Events, its AWS calls and the
//! series on its `/metrics`. Then the steady state (a window in which a tenth of the checks, whose interval
//! is a minute, are each evaluated again: what it writes) and a bulk request (`requested-at` set on up to
//! 6,000 checks of one bucket: what it costs in AWS calls).

use crate::cluster::{metric, proc_status_kib, wait_for, Cluster, Operator};
use crate::support::{root, Moto, TempDir};
use bucket_access_api::spec::BucketAccessCheck;
use futures::StreamExt;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Api;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Namespaces the checks are spread over.
const NAMESPACES: usize = 20;
/// The label that names a check's bucket, for the bulk request.
const BUCKET_LABEL: &str = "scale.bucketaccess.io/bucket";
/// Checks of one bucket asked to re-evaluate at once.
const BULK: usize = 6_000;
/// Every this many checks has an interval of a minute (the steady state's window sees each again).
const STEADY_EVERY: usize = 10;

/// What one step measured.
struct Step {
    checks: usize,
    seconds: f64,
    operator_peak_mib: f64,
    operator_rss_mib: f64,
    apiserver_mib: f64,
    etcd_mib: f64,
    status_writes: u64,
    events: u64,
    aws_calls: u64,
    series: usize,
}

/// The operator's counters that the report differences.
#[derive(Clone, Copy, Default)]
struct Counters {
    status_writes: u64,
    events: u64,
    aws_calls: u64,
    reconciles: u64,
}

fn counters(metrics: &str) -> Counters {
    let sum = |prefix: &str| -> u64 {
        metrics
            .lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    Counters {
        status_writes: metric(metrics, "bucket_access_kube_writes_total{kind=\"status\"}"),
        events: metric(metrics, "bucket_access_kube_writes_total{kind=\"event\"}"),
        aws_calls: sum("bucket_access_aws_calls_total{"),
        reconciles: sum("bucket_access_reconciles_total{"),
    }
}

/// Checks with a verdict, by the operator's own gauge.
fn with_verdict(metrics: &str) -> u64 {
    ["Allowed", "Denied", "Unknown", "Invalid"]
        .iter()
        .map(|v| metric(metrics, &format!("bucket_access_checks{{verdict=\"{v}\"}}")))
        .sum()
}

fn series(metrics: &str) -> usize {
    metrics
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The examples' specs (each a check the seed answers), from `examples/`.
fn example_specs() -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let document: Value =
                serde_saphyr::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            let mut spec = document["spec"].clone();
            // The trial's intervals are its own (the default, or a minute for the steady state).
            if let Some(spec) = spec.as_object_mut() {
                spec.remove("interval");
            }
            spec
        })
        .collect()
}

fn bucket_of(spec: &Value) -> String {
    spec["bucket"]
        .as_str()
        .or_else(|| spec["accessPoint"].as_str())
        .unwrap_or("none")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect()
}

/// Check number `i`: an example's spec, in namespace `scale-(i mod NAMESPACES)`.
fn check(i: usize, specs: &[Value]) -> (String, BucketAccessCheck) {
    let namespace = format!("scale-{:02}", i % NAMESPACES);
    let mut spec = specs[i % specs.len()].clone();
    if i.is_multiple_of(STEADY_EVERY) {
        spec["interval"] = json!("1m");
    }
    let object = json!({
        "apiVersion": "bucketaccess.io/v1alpha1",
        "kind": "BucketAccessCheck",
        "metadata": {
            "name": format!("check-{i:06}"),
            "namespace": namespace,
            "labels": {BUCKET_LABEL: bucket_of(&spec)},
        },
        "spec": spec,
    });
    (namespace, serde_json::from_value(object).unwrap())
}

async fn client(cluster: &Cluster) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(&cluster.admin).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// Creates checks `from..to`, 32 requests at a time.
async fn create(client: &kube::Client, specs: &[Value], from: usize, to: usize) {
    futures::stream::iter(from..to)
        .map(|i| {
            let (namespace, object) = check(i, specs);
            let api: Api<BucketAccessCheck> = Api::namespaced(client.clone(), &namespace);
            async move {
                api.create(&PostParams::default(), &object)
                    .await
                    .unwrap_or_else(|e| panic!("create check {i}: {e}"));
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
}

/// The trial: `steps` are the check counts to reach, in order.
pub(crate) fn run(steps: &[usize]) {
    let dir = TempDir::new("scale");
    let moto = Moto::start();
    moto.seed(&[]);
    let cluster = Cluster::start(&dir.0);
    install(&cluster);
    let specs = example_specs();
    let operator = Operator::start_quiet(&cluster, &moto, "op-scale", &["--scope-mode", "off"]);
    wait_for("the operator leads", 60, || {
        Some(crate::cluster::lease_holder(&cluster).is_some())
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = runtime.block_on(client(&cluster));
    let measured = steps_of(&cluster, &operator, &runtime, &client, &specs, steps);
    let created = steps.last().copied().unwrap_or(0);
    // The steady state: nothing changes; the checks with a minute's interval are each evaluated again.
    let window = Duration::from_secs(90);
    let before = counters(&operator.metrics());
    std::thread::sleep(window);
    let after = counters(&operator.metrics());
    let steady_reconciles = after.reconciles - before.reconciles;
    let steady_writes = after.status_writes - before.status_writes;
    // The bulk request: `requested-at` on up to BULK checks of the most common bucket.
    let bucket = (0..created)
        .map(|i| bucket_of(&specs[i % specs.len()]))
        .fold(
            std::collections::BTreeMap::<String, usize>::new(),
            |mut m, b| {
                *m.entry(b).or_default() += 1;
                m
            },
        )
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(b, _)| b)
        .unwrap();
    let (bulk, bulk_seconds, bulk_calls) =
        runtime.block_on(bulk_request(&client, &operator, &bucket));
    let metrics = operator.metrics();
    drop(operator);
    print_report(&measured, window, steady_reconciles, steady_writes, created);
    eprintln!(
        "bulk request: requested-at on {bulk} checks of bucket `{bucket}`: every one handled after {bulk_seconds:.1} s, {bulk_calls} AWS calls"
    );
    eprintln!(
        "series on /metrics at {created} checks: {}",
        series(&metrics)
    );
}

/// The chart's CRDs and RBAC, and the namespaces of the checks.
fn install(cluster: &Cluster) {
    let installed = cluster.helm(&[
        "install",
        "bucket-access-operator",
        root().join(crate::CHART).to_str().unwrap(),
        "-n",
        crate::cluster::OPERATOR_NS,
        "--set",
        "serviceAccount.create=false",
    ]);
    assert!(
        installed.status.success(),
        "helm install: {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    cluster.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/bucketaccesschecks.bucketaccess.io",
        "--timeout=60s",
    ]);
    for n in 0..NAMESPACES {
        cluster.ok(&["create", "namespace", &format!("scale-{n:02}")]);
    }
}

/// Creates the checks step by step; what each step measured.
fn steps_of(
    cluster: &Cluster,
    operator: &Operator,
    runtime: &tokio::runtime::Runtime,
    client: &kube::Client,
    specs: &[Value],
    steps: &[usize],
) -> Vec<Step> {
    let pid = operator.pid().unwrap();
    let apiserver: u32 = cluster.env("APISERVER_PID").parse().unwrap();
    let mut measured = Vec::new();
    let mut created = 0;
    for &target in steps {
        let before = counters(&operator.metrics());
        let started = Instant::now();
        runtime.block_on(create(client, specs, created, target));
        created = target;
        let created_after = started.elapsed().as_secs_f64();
        wait_for(&format!("{target} checks have a verdict"), 1800, || {
            Some(with_verdict(&operator.metrics()) >= target as u64)
        });
        let seconds = started.elapsed().as_secs_f64();
        let metrics = operator.metrics();
        let after = counters(&metrics);
        measured.push(Step {
            checks: target,
            seconds,
            operator_peak_mib: mib(proc_status_kib(pid, "VmHWM:").unwrap_or(0)),
            operator_rss_mib: mib(proc_status_kib(pid, "VmRSS:").unwrap_or(0)),
            apiserver_mib: mib(proc_status_kib(apiserver, "VmRSS:").unwrap_or(0)),
            etcd_mib: std::fs::metadata(cluster.dir.join("etcd/member/snap/db"))
                .map(|m| m.len() as f64 / 1_048_576.0)
                .unwrap_or(0.0),
            status_writes: after.status_writes - before.status_writes,
            events: after.events - before.events,
            aws_calls: after.aws_calls - before.aws_calls,
            series: series(&metrics),
        });
        eprintln!(
            "step {target}: created in {created_after:.1} s, every verdict after {seconds:.1} s"
        );
    }
    measured
}

/// Sets `requested-at` on up to `BULK` checks of `bucket` and waits until each has handled it: how many were
/// asked, how long it took, and the AWS calls it cost.
async fn bulk_request(
    client: &kube::Client,
    operator: &Operator,
    bucket: &str,
) -> (usize, f64, u64) {
    let all: Api<BucketAccessCheck> = Api::all(client.clone());
    let selector = format!("{BUCKET_LABEL}={bucket}");
    let list = all
        .list_metadata(&ListParams::default().labels(&selector))
        .await
        .unwrap();
    let chosen: Vec<(String, String)> = list
        .items
        .iter()
        .take(BULK)
        .map(|m| {
            (
                m.metadata.namespace.clone().unwrap(),
                m.metadata.name.clone().unwrap(),
            )
        })
        .collect();
    let value = "bulk-1";
    let before = counters(&operator.metrics());
    let started = Instant::now();
    futures::stream::iter(chosen.iter())
        .map(|(namespace, name)| {
            let api: Api<BucketAccessCheck> = Api::namespaced(client.clone(), namespace);
            let patch =
                json!({"metadata": {"annotations": {"bucketaccess.io/requested-at": value}}});
            async move {
                api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .unwrap();
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let list = all
            .list(&ListParams::default().labels(&selector))
            .await
            .unwrap();
        let handled = list
            .items
            .iter()
            .filter(|c| {
                c.status
                    .as_ref()
                    .and_then(|s| s.last_handled_requested_at.as_deref())
                    == Some(value)
            })
            .count();
        if handled >= chosen.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{handled} of {} checks handled the bulk request within 900 s",
            chosen.len()
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let after = counters(&operator.metrics());
    (chosen.len(), seconds, after.aws_calls - before.aws_calls)
}

fn print_report(
    steps: &[Step],
    window: Duration,
    steady_reconciles: u64,
    steady_writes: u64,
    checks: usize,
) {
    eprintln!("\n| objects | time to every verdict | operator peak RSS (now) | kube-apiserver RSS | etcd db | status writes | Events | AWS calls | series on /metrics |");
    eprintln!("|---|---|---|---|---|---|---|---|---|");
    for s in steps {
        eprintln!(
            "| {} | {:.1} s | {:.0} MiB ({:.0}) | {:.0} MiB | {:.0} MiB | {} | {} | {} | {} |",
            s.checks,
            s.seconds,
            s.operator_peak_mib,
            s.operator_rss_mib,
            s.apiserver_mib,
            s.etcd_mib,
            s.status_writes,
            s.events,
            s.aws_calls,
            s.series
        );
    }
    eprintln!(
        "\nsteady state at {checks} checks: {steady_reconciles} reconciles and {steady_writes} status writes in {} s",
        window.as_secs()
    );
}
