//! Reconcile against a mock API server (tower-test), in the controller-rs "scenario" style: each scenario
//! states the requests the reconcile must make (status patches with server-side apply, Events) and nothing
//! else. The snapshot source is in memory: a scenario snapshot of `tests/scenarios/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use bucket_access_operator::controller::metrics::OperatorMetrics;
use bucket_access_operator::controller::reconcile::{reconcile, Context};
use bucket_access_operator::controller::status::{build, BucketAccessCheckStatus, Outcome};
use bucket_access_operator::spec::{BucketAccessCheck, CheckSpec, SnapshotSource};
use http::{Request, Response};
use kube::client::Body;
use kube::runtime::events::Recorder;
use kube::Client;
use s3_diagnosis::diagnose;
use s3_diagnosis::snapshot::Snapshot;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

struct Fixed(Snapshot);

impl SnapshotSource for Fixed {
    fn snapshot(&self, _spec: &CheckSpec) -> impl std::future::Future<Output = Snapshot> + Send {
        let s = self.0.clone();
        async move { s }
    }
}

fn scenario(name: &str) -> Snapshot {
    let path = format!(
        "{}/crates/s3-diagnosis/tests/scenarios/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_value(v["snapshot"].clone()).unwrap()
}

fn object(
    generation: i64,
    status: Option<BucketAccessCheckStatus>,
    spec: CheckSpec,
) -> BucketAccessCheck {
    let mut o = BucketAccessCheck::new("uploader-can-write", spec);
    o.metadata.namespace = Some("media".into());
    o.metadata.uid = Some("uid-1".into());
    o.metadata.generation = Some(generation);
    o.status = status;
    o
}

fn valid_spec() -> CheckSpec {
    CheckSpec {
        role_arn: Some("arn:aws:iam::111122223333:role/uploader".into()),
        bucket: "doc-example-bucket".into(),
        ..CheckSpec::default()
    }
}

/// What the mock API server saw.
#[derive(Debug, Default)]
struct Seen {
    status_patches: Vec<Value>,
    events: Vec<Value>,
}

/// Runs one reconcile against the mock; answers every request and records it.
async fn run(
    obj: BucketAccessCheck,
    snapshot: Snapshot,
) -> (Seen, kube::runtime::controller::Action) {
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(svc, "default");
    let ctx = Arc::new(Context::new(
        client.clone(),
        Recorder::new(client, "bucket-access-operator".into()),
        Arc::new(Fixed(snapshot)),
        Arc::new(OperatorMetrics::default()),
    ));
    let reply = serde_json::to_vec(&obj).unwrap();
    let server = tokio::spawn(async move {
        let mut seen = Seen::default();
        while let Ok(Some((req, send))) =
            tokio::time::timeout(Duration::from_millis(300), handle.next_request()).await
        {
            let uri = req.uri().to_string();
            let method = req.method().clone();
            let body: Value =
                serde_json::from_slice(&req.into_body().collect_bytes().await.unwrap())
                    .unwrap_or(Value::Null);
            if uri.contains("/bucketaccesschecks/uploader-can-write/status") {
                assert_eq!(method, http::Method::PATCH, "{uri}");
                assert!(
                    uri.contains("fieldManager=bucket-access-operator")
                        && uri.contains("force=true"),
                    "{uri}"
                );
                assert_eq!(body["apiVersion"], "bucketaccess.io/v1alpha1");
                assert_eq!(body["kind"], "BucketAccessCheck");
                seen.status_patches.push(body["status"].clone());
                send.send_response(Response::builder().body(Body::from(reply.clone())).unwrap());
            } else if uri.starts_with("/apis/events.k8s.io/v1/namespaces/media/events") {
                seen.events.push(body.clone());
                send.send_response(
                    Response::builder()
                        .body(Body::from(serde_json::to_vec(&body).unwrap()))
                        .unwrap(),
                );
            } else {
                panic!("unexpected request {method} {uri}");
            }
        }
        seen
    });
    let action = reconcile(Arc::new(obj), ctx).await.unwrap();
    (server.await.unwrap(), action)
}

fn condition<'a>(status: &'a Value, type_: &str) -> (&'a str, &'a str) {
    let c = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == type_)
        .unwrap();
    (c["status"].as_str().unwrap(), c["reason"].as_str().unwrap())
}

#[tokio::test]
async fn first_visit_writes_evaluating_then_allowed_and_one_event() {
    let (seen, action) = run(object(1, None, valid_spec()), scenario("allowed-plain")).await;
    assert_eq!(seen.status_patches.len(), 2);
    let evaluating = &seen.status_patches[0];
    assert_eq!(condition(evaluating, "Ready"), ("Unknown", "Evaluating"));
    assert_eq!(condition(evaluating, "Reconciling"), ("True", "Evaluating"));
    assert_eq!(evaluating["observedGeneration"], 1);
    let done = &seen.status_patches[1];
    assert_eq!(done["verdict"], "Allowed");
    assert_eq!(condition(done, "Ready"), ("True", "AccessAllowed"));
    assert!(done["inputDigest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(seen.events.len(), 1);
    assert_eq!(seen.events[0]["reason"], "AccessAllowed");
    assert_eq!(seen.events[0]["type"], "Normal");
    assert_eq!(
        seen.events[0]["reportingController"],
        "bucket-access-operator"
    );
    let requeue = format!("{action:?}");
    assert!(requeue.contains("requeue_after: Some"), "{requeue}");
}

#[tokio::test]
async fn denied_writes_stalled_and_a_warning() {
    let (seen, _) = run(
        object(1, None, valid_spec()),
        scenario("seed-storage-class-deny-condition-denied"),
    )
    .await;
    let done = seen.status_patches.last().unwrap();
    assert_eq!(done["verdict"], "Denied");
    assert_eq!(condition(done, "Stalled"), ("True", "AccessDenied"));
    assert_eq!(
        done["causes"][0]["id"],
        "BUCKET_POLICY_CONDITION_STORAGE_CLASS"
    );
    assert_eq!(seen.events.len(), 1);
    assert_eq!(
        (
            seen.events[0]["type"].as_str(),
            seen.events[0]["reason"].as_str()
        ),
        (Some("Warning"), Some("AccessDenied"))
    );
    assert!(seen.events[0]["note"].as_str().unwrap().contains("storage"));
}

#[tokio::test]
async fn unknown_retries_with_backoff() {
    let (seen, action) = run(
        object(1, None, valid_spec()),
        scenario("unknown-scp-unreadable"),
    )
    .await;
    let done = seen.status_patches.last().unwrap();
    assert_eq!(done["verdict"], "Unknown");
    assert_eq!(
        condition(done, "Reconciling"),
        ("True", "RetryingEvaluation")
    );
    assert_eq!(seen.events[0]["reason"], "EvaluationIncomplete");
    assert!(
        format!("{action:?}").contains("5s"),
        "first retry after 5 s: {action:?}"
    );
}

#[tokio::test]
async fn an_invalid_spec_is_a_verdict_not_a_retry_loop() {
    let spec = CheckSpec {
        role_arn: Some("arn:aws:iam::111122223333:role/uploader".into()),
        user_arn: Some("arn:aws:iam::111122223333:user/alice".into()),
        bucket: "doc-example-bucket".into(),
        ..CheckSpec::default()
    };
    let (seen, action) = run(object(1, None, spec), scenario("allowed-plain")).await;
    assert_eq!(seen.status_patches.len(), 1, "no evaluating write, no AWS");
    assert_eq!(seen.status_patches[0]["verdict"], "Invalid");
    assert_eq!(
        condition(&seen.status_patches[0], "Stalled"),
        ("True", "InvalidSpec")
    );
    assert_eq!(seen.events[0]["reason"], "InvalidSpec");
    assert!(!format!("{action:?}").contains("5s"));
}

/// The status a previous reconcile of generation 1 wrote for `snapshot`.
fn evaluated(snapshot: &Snapshot) -> BucketAccessCheckStatus {
    let d = diagnose(snapshot);
    let digest = bucket_access_operator::controller::reconcile::digest(snapshot);
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        "2026-11-28T10:00:00Z".parse().unwrap(),
    );
    build(
        None,
        Outcome::Diagnosed(&d, &digest),
        Some(1),
        "arn:aws:iam::111122223333:role/uploader",
        &now,
        "2026-11-28T10:00:00Z",
    )
}

#[tokio::test]
async fn an_unchanged_re_evaluation_writes_nothing_and_sends_no_event() {
    let snapshot = scenario("allowed-plain");
    let current = evaluated(&snapshot);
    let (seen, _) = run(object(1, Some(current), valid_spec()), snapshot).await;
    assert!(seen.status_patches.is_empty(), "{:?}", seen.status_patches);
    assert!(seen.events.is_empty());
}

#[tokio::test]
async fn a_spec_change_is_re_evaluated_under_the_new_generation() {
    let snapshot = scenario("allowed-plain");
    let current = evaluated(&snapshot);
    let (seen, _) = run(object(2, Some(current), valid_spec()), snapshot).await;
    assert_eq!(seen.status_patches.len(), 2);
    assert_eq!(seen.status_patches[0]["observedGeneration"], 2);
    assert_eq!(
        condition(&seen.status_patches[0], "Reconciling"),
        ("True", "Evaluating")
    );
    assert_eq!(seen.status_patches[1]["observedGeneration"], 2);
    assert_eq!(
        condition(&seen.status_patches[1], "Ready"),
        ("True", "AccessAllowed")
    );
    assert!(seen.events.is_empty(), "same verdict and causes: no event");
}
