//! Leader election against a mock API server (a fresh Lease of another replica is never written; a holder
//! that cannot renew stops leading), and the HTTP endpoints on a real socket on 127.0.0.1. Takeover of an
//! expired Lease and the handover on SIGTERM run against the real API server in the end-to-end tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use crate::support;
use bucket_access_api::spec::BucketAccessCheck;
use bucket_access_api::status::BucketAccessCheckStatus;
use bucket_access_aws::metrics::AwsMetrics;
use bucket_access_operator::controller::leader::{Election, LeaseConfig};
use bucket_access_operator::controller::metrics::OperatorMetrics;
use bucket_access_operator::controller::server::{serve, Health};
use http::{Request, Response, StatusCode};
use kube::client::Body;
use kube::Client;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn lease(holder: &str, renewed: &str, seconds: u32) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "bucket-access-operator", "namespace": "ops", "resourceVersion": "42"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": seconds, "renewTime": renewed, "leaseTransitions": 3}})
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn answer(status: StatusCode, v: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(serde_json::to_vec(v).unwrap()))
        .unwrap()
}

/// A client whose API server answers every Lease request with `respond(method)` and records the methods.
fn lease_server(
    respond: impl Fn(&str) -> Response<Body> + Send + 'static,
) -> (Client, Arc<Mutex<Vec<String>>>) {
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Some((req, send)) = handle.next_request().await {
            assert!(
                req.uri()
                    .path()
                    .starts_with("/apis/coordination.k8s.io/v1/namespaces/ops/leases"),
                "{}",
                req.uri()
            );
            let method = req.method().as_str().to_owned();
            log.lock().unwrap().push(method.clone());
            send.send_response(respond(&method));
        }
    });
    (Client::new(svc, "default"), seen)
}

fn config(seconds: u64) -> LeaseConfig {
    LeaseConfig::new(
        "ops".into(),
        "bucket-access-operator".into(),
        "replica-b".into(),
        seconds,
    )
}

#[tokio::test]
async fn never_takes_a_fresh_lease_of_another_replica() {
    let renewed = now();
    let (client, seen) =
        lease_server(move |_| answer(StatusCode::OK, &lease("replica-a", &renewed, 15)));
    let mut election = Election::join(client, config(15)).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(1500), election.acquire()).await;
    assert!(
        waited.is_err(),
        "acquired a Lease another replica renewed just now"
    );
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|m| m == "GET"), "wrote the Lease: {seen:?}");
}

#[tokio::test]
async fn stops_leading_when_the_lease_cannot_be_renewed() {
    let renewed = now();
    let (client, seen) = lease_server(move |method| match method {
        "GET" => answer(StatusCode::OK, &lease("replica-b", &renewed, 3)),
        _ => answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "InternalError", "code": 500, "message": "etcd is gone"}),
        ),
    });
    let mut election = Election::join(client, config(3)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(2), election.acquire())
        .await
        .expect("holds its own fresh Lease");
    // The renewal (2 s later: 1 s of grace before the 3 s expire) fails: keep returns, the replica stops.
    tokio::time::timeout(Duration::from_secs(6), election.keep())
        .await
        .expect("keeps leading although it cannot renew");
    assert!(
        seen.lock().unwrap().iter().any(|m| m == "PATCH"),
        "{:?}",
        seen.lock().unwrap()
    );
}

async fn request(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream
        .write_all(
            format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    (
        text.split_whitespace().nth(1).unwrap().parse().unwrap(),
        text,
    )
}

async fn get(port: u16, path: &str) -> (u16, String) {
    request(port, "GET", path).await
}

#[tokio::test]
async fn endpoints_answer_on_loopback() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let metrics = Arc::new(OperatorMetrics::default());
    metrics.reconciled(Duration::from_millis(12), None);
    metrics.reconciled(Duration::from_millis(3), Some("kube"));
    // The verdict gauge counts the checks in the controller's store: one Denied, one not yet evaluated.
    let (store, mut writer) = kube::runtime::reflector::store::<BucketAccessCheck>();
    for (name, verdict) in [("a", Some(s3_diagnosis::Verdict::Denied)), ("b", None)] {
        let mut check: BucketAccessCheck = serde_json::from_value(serde_json::json!({
            "apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"roleArn": "arn:aws:iam::111122223333:role/r", "bucket": "b"}}))
        .unwrap();
        if let Some(v) = verdict {
            check.status = Some(BucketAccessCheckStatus {
                verdict: Some(v),
                ..Default::default()
            });
        }
        writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(check));
    }
    metrics.count_checks_in(
        store,
        bucket_access_operator::controller::metrics::DEFAULT_PER_CHECK_LIMIT,
    );
    metrics.set_leader("bao", false);
    let health = Arc::new(Health::default());
    let server = tokio::spawn(serve(listener, Arc::clone(&metrics), Arc::clone(&health)));
    assert_eq!(get(port, "/healthz").await.0, 200);
    assert_eq!(get(port, "/readyz").await.0, 503);
    health.ready.store(true, Ordering::Relaxed);
    assert_eq!(get(port, "/readyz").await.0, 200);
    let (status, body) = get(port, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("bucket_access_reconciles_total{result=\"ok\"} 1"),
        "{body}"
    );
    assert!(body.contains("bucket_access_reconciles_total{result=\"kube\"} 1"));
    assert!(
        body.contains("bucket_access_checks{verdict=\"Denied\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("bucket_access_checks{verdict=\"Allowed\"} 0"),
        "{body}"
    );
    assert!(body.contains("bucket_access_reconcile_duration_seconds_count 2"));
    // The histogram's buckets: 3 ms falls in the first (5 ms), 12 ms first in the 20 ms one.
    for (le, n) in [("0.005", 1), ("0.01", 1), ("0.02", 2), ("+Inf", 2)] {
        let bucket =
            format!("bucket_access_reconcile_duration_seconds_bucket{{le=\"{le}\"}} {n}\n");
        assert!(body.contains(&bucket), "{bucket}{body}");
    }
    // One series per check and verdict; a check not yet evaluated has all four at 0.
    assert!(
        body.contains(
            r#"bucket_access_check_verdict{namespace="default",name="a",verdict="Denied"} 1"#
        ),
        "{body}"
    );
    assert!(body.contains(
        r#"bucket_access_check_verdict{namespace="default",name="a",verdict="Allowed"} 0"#
    ));
    for verdict in ["Allowed", "Denied", "Unknown", "Invalid"] {
        let series = format!(
            r#"bucket_access_check_verdict{{namespace="default",name="b",verdict="{verdict}"}} 0"#
        );
        assert!(body.contains(&series), "{series}{body}");
    }
    assert!(
        body.contains("bucket_access_leader{lease=\"bao\"} 0"),
        "{body}"
    );
    assert!(
        body.to_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert_eq!(get(port, "/nope").await.0, 404);
    let (status, head) = request(port, "POST", "/metrics").await;
    assert_eq!(status, 405);
    assert!(head.to_lowercase().contains("allow: get, head"), "{head}");
    assert_eq!(request(port, "HEAD", "/healthz").await.0, 200);
    server.abort();
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat` (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// The endpoints survive running out of file descriptors: accepting fails at once and again while there are
/// none, and the server waits instead of spinning a core (which would starve the operator and make
/// liveness restart the pod); once descriptors are free, `/healthz` answers again. Runs the check in a child
/// process whose descriptor limit is 64 (`prlimit`), so that this process keeps its own.
#[test]
fn endpoints_survive_descriptor_exhaustion() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("prlimit")
        .arg("--nofile=64")
        .arg(&exe)
        .args([
            "--exact",
            "leader_and_endpoints::descriptor_exhaustion_child",
            "--ignored",
            "--nocapture",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("descriptors exhausted"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of endpoints_survive_descriptor_exhaustion, which runs it with 64 descriptors"]
async fn descriptor_exhaustion_child() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(serve(
        listener,
        Arc::new(OperatorMetrics::default()),
        Arc::new(Health::default()),
    ));
    assert_eq!(get(port, "/healthz").await.0, 200);
    let before = cpu_seconds();
    // Every descriptor taken: connections (queued for the server, which cannot accept them) and files.
    let mut held = Vec::new();
    while let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        held.push(stream);
    }
    let mut files = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        files.push(file);
    }
    println!(
        "descriptors exhausted: {} connections, {} files",
        held.len(),
        files.len()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(files);
    drop(held);
    let spent = cpu_seconds() - before;
    println!("cpu during 2 s without descriptors: {spent:.2} s");
    assert!(spent < 1.0, "the server spun: {spent:.2} s of CPU in 2 s");
    let answered = tokio::time::timeout(Duration::from_secs(5), get(port, "/healthz")).await;
    assert_eq!(answered.map(|(code, _)| code).ok(), Some(200));
    server.abort();
}

/// Every metric the shipped alerts and dashboard query is one the operator exposes (every family populated:
/// a refusal and a failed read recorded), and "there is none" answers are not counted as failed reads.
#[test]
fn shipped_alerts_and_dashboard_query_what_is_exposed() {
    let aws = Arc::new(AwsMetrics::default());
    aws.record_for("s3:GetBucketPolicy", "ok", Some("default"));
    aws.record_for("s3:GetBucketPolicy", "NoSuchBucketPolicy", Some("default"));
    aws.record("kms:GetKeyPolicy", "AccessDeniedException");
    aws.cache(true);
    let metrics = OperatorMetrics::with_aws(aws, "111122223333");
    metrics.reconciled(Duration::from_millis(40), None);
    metrics.set_leader("bao", true);
    metrics.set_scope_mode("enforce");
    metrics.out_of_scope("team-b");
    let (store, mut writer) = kube::runtime::reflector::store::<BucketAccessCheck>();
    let check: BucketAccessCheck = serde_json::from_value(json!({
        "apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
        "metadata": {"name": "a", "namespace": "default"},
        "spec": {"roleArn": "arn:aws:iam::111122223333:role/r", "bucket": "b"}}))
    .unwrap();
    writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(check));
    metrics.count_checks_in(
        store,
        bucket_access_operator::controller::metrics::DEFAULT_PER_CHECK_LIMIT,
    );
    let text = metrics.render();

    let queries = support::shipped_queries();
    assert!(queries.len() >= 15, "{queries:?}");
    for query in &queries {
        let names = support::metric_names(query);
        assert!(!names.is_empty(), "{query}");
        for name in names {
            assert!(
                support::exposes(&text, &name),
                "`{name}` in `{query}`:\n{text}"
            );
        }
    }
    assert!(text.contains(
        r#"bucket_access_aws_errors_total{service="kms",operation="GetKeyPolicy",outcome="AccessDeniedException"} 1"#
    ), "{text}");
    assert!(
        !text.contains(r#"bucket_access_aws_errors_total{service="s3""#),
        "{text}"
    );
}
