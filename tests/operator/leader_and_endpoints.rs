//! Leader election against a mock API server (the Lease is created when absent, never taken from a fresh
//! holder, taken when expired, and a lost compare-and-swap means "not leading"), and the HTTP endpoints on a
//! real socket on 127.0.0.1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use bucket_access_operator::controller::leader::{try_acquire, LeaseConfig};
use bucket_access_operator::controller::metrics::OperatorMetrics;
use bucket_access_operator::controller::server::{serve, Health};
use bucket_access_operator::controller::status::BucketAccessCheckStatus;
use bucket_access_operator::spec::BucketAccessCheck;
use http::{Request, Response, StatusCode};
use k8s_openapi::api::coordination::v1::Lease;
use kube::client::Body;
use kube::{Api, Client};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config() -> LeaseConfig {
    LeaseConfig {
        namespace: "ops".into(),
        name: "bucket-access-operator".into(),
        identity: "replica-b".into(),
        duration: Duration::from_secs(15),
        renew_every: Duration::from_secs(5),
    }
}

fn lease(holder: &str, renewed: &str) -> Value {
    json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "bucket-access-operator", "namespace": "ops", "resourceVersion": "42"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "renewTime": renewed, "leaseTransitions": 3}})
}

fn not_found() -> Response<Body> {
    let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": "not found"});
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .body(Body::from(serde_json::to_vec(&status).unwrap()))
        .unwrap()
}

fn conflict() -> Response<Body> {
    let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Conflict", "code": 409, "message": "the object has been modified"});
    Response::builder()
        .status(StatusCode::CONFLICT)
        .body(Body::from(serde_json::to_vec(&status).unwrap()))
        .unwrap()
}

/// Runs `try_acquire` against scripted answers; returns its result and the request bodies it sent.
async fn attempt(answers: Vec<(&'static str, Response<Body>)>) -> (bool, Vec<(String, Value)>) {
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let api: Api<Lease> = Api::namespaced(Client::new(svc, "default"), "ops");
    let server = tokio::spawn(async move {
        let mut seen = Vec::new();
        for (method, answer) in answers {
            let (req, send) = handle.next_request().await.unwrap();
            assert_eq!(req.method().as_str(), method);
            assert!(
                req.uri()
                    .path()
                    .starts_with("/apis/coordination.k8s.io/v1/namespaces/ops/leases"),
                "{}",
                req.uri()
            );
            let body: Value =
                serde_json::from_slice(&req.into_body().collect_bytes().await.unwrap())
                    .unwrap_or(Value::Null);
            seen.push((method.to_owned(), body));
            send.send_response(answer);
        }
        seen
    });
    let leading = try_acquire(&api, &config()).await.unwrap();
    (leading, server.await.unwrap())
}

fn ok(v: Value) -> Response<Body> {
    Response::builder()
        .body(Body::from(serde_json::to_vec(&v).unwrap()))
        .unwrap()
}

#[tokio::test]
async fn creates_the_lease_when_there_is_none() {
    let (leading, seen) = attempt(vec![
        ("GET", not_found()),
        ("POST", ok(lease("replica-b", "2026-11-28T10:00:00Z"))),
    ])
    .await;
    assert!(leading);
    assert_eq!(seen[1].1["spec"]["holderIdentity"], "replica-b");
    assert_eq!(seen[1].1["spec"]["leaseDurationSeconds"], 15);
}

#[tokio::test]
async fn never_takes_a_fresh_lease_of_another_replica() {
    let fresh = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let (leading, seen) = attempt(vec![("GET", ok(lease("replica-a", &fresh)))]).await;
    assert!(!leading);
    assert_eq!(seen.len(), 1, "no write");
}

#[tokio::test]
async fn takes_an_expired_lease_with_a_compare_and_swap() {
    let (leading, seen) = attempt(vec![
        ("GET", ok(lease("replica-a", "2026-01-01T00:00:00.000000Z"))),
        ("PUT", ok(lease("replica-b", "2026-11-28T10:00:00.000000Z"))),
    ])
    .await;
    assert!(leading);
    let put = &seen[1].1;
    assert_eq!(put["spec"]["holderIdentity"], "replica-b");
    assert_eq!(
        put["metadata"]["resourceVersion"], "42",
        "the update carries the version it read"
    );
    assert_eq!(put["spec"]["leaseTransitions"], 4);
}

#[tokio::test]
async fn losing_the_race_means_not_leading() {
    let (leading, _) = attempt(vec![
        ("GET", ok(lease("replica-a", "2026-01-01T00:00:00.000000Z"))),
        ("PUT", conflict()),
    ])
    .await;
    assert!(!leading);
}

async fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    (
        text.split_whitespace().nth(1).unwrap().parse().unwrap(),
        text,
    )
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
    for (name, verdict) in [("a", Some("Denied")), ("b", None)] {
        let mut check: BucketAccessCheck = serde_json::from_value(serde_json::json!({
            "apiVersion": "bucketaccess.io/v1alpha1", "kind": "BucketAccessCheck",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"roleArn": "arn:aws:iam::111122223333:role/r", "bucket": "b"}}))
        .unwrap();
        if let Some(v) = verdict {
            check.status = Some(BucketAccessCheckStatus {
                verdict: Some(v.to_owned()),
                ..Default::default()
            });
        }
        writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(check));
    }
    metrics.count_checks_in(store);
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
    assert_eq!(get(port, "/nope").await.0, 404);
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
