//! Reconcile against a mock API server (tower-test), in the controller-rs "scenario" style: each scenario
//! states the requests the reconcile must make (status patches with server-side apply, Events) and nothing
//! else. The snapshot source is in memory: a scenario snapshot of `tests/scenarios/`; it records every
//! collection and the access it was given, so that a scenario can prove nothing was read for a check out of
//! scope, and with which identity the rest was read.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use bucket_access_api::scope::resource::{ScopeAccount, ScopeLimits};
use bucket_access_api::scope::{BucketAccessScope, Detail, ScopeSpec};
use bucket_access_api::spec::{BucketAccessCheck, CheckSpec};
use bucket_access_api::status::{build, BucketAccessCheckStatus, Projection, Stamp};
use bucket_access_operator::controller::context::Context;
use bucket_access_operator::controller::metrics::OperatorMetrics;
use bucket_access_operator::controller::publisher::Publisher;
use bucket_access_operator::controller::reconcile::reconcile;
use bucket_access_operator::controller::scope::caches::{Boundary, CheckList, ScopeCaches};
use http::{Request, Response};
use k8s_openapi::api::core::v1::Namespace;
use kube::client::Body;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::watcher::Event;
use kube::Client;
use s3_diagnosis::diagnose;
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::source::ReadAccess;
use s3_diagnosis::source::{SnapshotSource, Target};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A snapshot source that answers one snapshot and records the access of every collection.
struct Fixed(Snapshot, Arc<Mutex<Vec<ReadAccess>>>, Duration);

impl SnapshotSource for Fixed {
    fn snapshot(
        &self,
        _target: &Target,
        access: &ReadAccess,
    ) -> impl std::future::Future<Output = Snapshot> + Send {
        self.1.lock().unwrap().push(access.clone());
        let (s, takes) = (self.0.clone(), self.2);
        async move {
            tokio::time::sleep(takes).await;
            s
        }
    }
}

use crate::scenario;

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

/// What the mock API server saw, and what the snapshot source was asked.
#[derive(Debug, Default)]
struct Seen {
    status_patches: Vec<Value>,
    events: Vec<Value>,
    collections: Vec<ReadAccess>,
}

/// Filled caches of scopes, namespaces and checks (the writers must outlive the reconcile).
struct Caches {
    caches: ScopeCaches,
    _writers: (
        Writer<BucketAccessScope>,
        Writer<PartialObjectMeta<Namespace>>,
        Writer<BucketAccessCheck>,
    ),
}

fn filled<K>(items: Vec<K>) -> (reflector::Store<K>, Writer<K>)
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    let (store, mut writer) = reflector::store();
    writer.apply_watcher_event(&Event::Init);
    for item in items {
        writer.apply_watcher_event(&Event::InitApply(item));
    }
    writer.apply_watcher_event(&Event::InitDone);
    (store, writer)
}

fn caches(scopes: Vec<BucketAccessScope>, checks: Vec<BucketAccessCheck>) -> Caches {
    let mut media = PartialObjectMeta::<Namespace>::default();
    media.metadata.name = Some("media".into());
    media.metadata.labels = Some(BTreeMap::from([("team".into(), "media".into())]));
    let (scopes, w1) = filled(scopes);
    let (namespaces, w2) = filled(vec![media]);
    let (checks, w3) = filled(checks);
    Caches {
        caches: ScopeCaches::new(scopes, namespaces, CheckList::Shard(checks)),
        _writers: (w1, w2, w3),
    }
}

fn media_scope(name: &str, namespaces: &[&str], detail: Detail) -> BucketAccessScope {
    BucketAccessScope::new(
        name,
        ScopeSpec {
            namespaces: namespaces.iter().map(|n| (*n).to_owned()).collect(),
            principals: vec!["arn:aws:iam::111122223333:role/*".into()],
            buckets: vec!["doc-example-*".into()],
            accounts: vec![ScopeAccount {
                id: "111122223333".into(),
                reader_role_arn: Some("arn:aws:iam::111122223333:role/reader".into()),
                external_id: Some("media-ext".into()),
            }],
            detail,
            ..ScopeSpec::default()
        },
    )
}

/// The mock API server: answers status patches and Events of the check until 300 ms (and the time reads
/// take) pass without a request,
/// and returns what it saw.
fn serve(
    mut handle: tower_test::mock::Handle<Request<Body>, Response<Body>>,
    reply: Vec<u8>,
    reads_take: Duration,
) -> tokio::task::JoinHandle<Seen> {
    tokio::spawn(async move {
        let mut seen = Seen::default();
        let idle = Duration::from_millis(300) + reads_take;
        while let Ok(Some((req, send))) = tokio::time::timeout(idle, handle.next_request()).await {
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
    })
}

/// Runs one reconcile against the mock; answers every request and records it.
async fn run(
    obj: BucketAccessCheck,
    snapshot: Snapshot,
) -> (Seen, kube::runtime::controller::Action) {
    run_bounded(obj, snapshot, None).await
}

async fn run_bounded(
    obj: BucketAccessCheck,
    snapshot: Snapshot,
    caches: Option<Caches>,
) -> (Seen, kube::runtime::controller::Action) {
    let (seen, mut actions) = run_in_turn(vec![obj], snapshot, caches).await;
    (seen, actions.remove(0))
}

/// Reconciles `objects` one after the other with one context (one operator process), against one mock.
async fn run_in_turn(
    objects: Vec<BucketAccessCheck>,
    snapshot: Snapshot,
    caches: Option<Caches>,
) -> (Seen, Vec<kube::runtime::controller::Action>) {
    run_reading_for(objects, snapshot, caches, Duration::ZERO).await
}

/// The same with a source whose reads take `takes`.
async fn run_reading_for(
    objects: Vec<BucketAccessCheck>,
    snapshot: Snapshot,
    caches: Option<Caches>,
    takes: Duration,
) -> (Seen, Vec<kube::runtime::controller::Action>) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(svc, "default");
    let collections = Arc::new(Mutex::new(Vec::new()));
    let (boundary, _writers) = match caches {
        Some(c) => (Boundary::Enforce(c.caches), Some(c._writers)),
        None => (Boundary::Off, None),
    };
    let ctx = Arc::new(Context::new(
        client.clone(),
        Publisher::new(client, "bucket-access-operator".into()),
        Arc::new(Fixed(snapshot, Arc::clone(&collections), takes)),
        Arc::new(OperatorMetrics::default()),
        boundary,
    ));
    let server = serve(handle, serde_json::to_vec(&objects[0]).unwrap(), takes);
    let mut actions = Vec::new();
    for obj in objects {
        actions.push(reconcile(Arc::new(obj), Arc::clone(&ctx)).await.unwrap());
    }
    let mut seen = server.await.unwrap();
    seen.collections = collections.lock().unwrap().clone();
    (seen, actions)
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

/// Reads that answer at once (cached): the first result in one write, and no Event for a new check found
/// allowed.
#[tokio::test]
async fn first_visit_with_cached_reads_writes_its_result_once() {
    let (seen, action) = run(object(1, None, valid_spec()), scenario("allowed-plain")).await;
    assert_eq!(seen.status_patches.len(), 1, "{:?}", seen.status_patches);
    let done = &seen.status_patches[0];
    assert_eq!(done["verdict"], "Allowed");
    assert_eq!(done["observedGeneration"], 1);
    assert_eq!(condition(done, "Ready"), ("True", "AccessAllowed"));
    assert!(done["inputDigest"].as_str().unwrap().starts_with("sha256:"));
    assert!(seen.events.is_empty(), "{:?}", seen.events);
    let requeue = format!("{action:?}");
    assert!(requeue.contains("requeue_after: Some"), "{requeue}");
}

/// Reads that take longer than `EVALUATING_AFTER`: `Evaluating` is written while they run, then the result.
#[tokio::test]
async fn first_visit_with_slow_reads_says_evaluating_meanwhile() {
    let slow = bucket_access_operator::controller::reconcile::EVALUATING_AFTER * 2;
    let (seen, _) = run_reading_for(
        vec![object(1, None, valid_spec())],
        scenario("seed-storage-class-deny-condition-denied"),
        None,
        slow,
    )
    .await;
    assert_eq!(seen.status_patches.len(), 2, "{:?}", seen.status_patches);
    let evaluating = &seen.status_patches[0];
    assert_eq!(condition(evaluating, "Ready"), ("Unknown", "Evaluating"));
    assert_eq!(condition(evaluating, "Reconciling"), ("True", "Evaluating"));
    assert_eq!(evaluating["observedGeneration"], 1);
    let done = &seen.status_patches[1];
    assert_eq!(done["verdict"], "Denied");
    assert_eq!(condition(done, "Ready"), ("False", "AccessDenied"));
    assert_eq!(seen.events.len(), 1);
    assert_eq!(seen.events[0]["reason"], "AccessDenied");
    assert_eq!(seen.events[0]["type"], "Warning");
    assert_eq!(
        seen.events[0]["reportingController"],
        "bucket-access-operator"
    );
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
    let digest = bucket_access_operator::controller::reconcile::digest(snapshot, false);
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        "2026-11-28T10:00:00Z".parse().unwrap(),
    );
    build(
        None,
        Projection::of(&d, digest.as_deref()).into(),
        &Stamp {
            generation: Some(1),
            principal: "arn:aws:iam::111122223333:role/uploader",
            requested: None,
            now: now.clone(),
        },
    )
}

/// An unchanged result last written over an hour ago: one write, for `lastEvaluated` (the heartbeat);
/// nothing else moves, the conditions keep their lastTransitionTime, and no Event is sent.
#[tokio::test]
async fn an_unchanged_re_evaluation_writes_only_its_hourly_heartbeat_and_sends_no_event() {
    let snapshot = scenario("allowed-plain");
    let current = evaluated(&snapshot);
    let (seen, _) = run(object(1, Some(current.clone()), valid_spec()), snapshot).await;
    assert_eq!(seen.status_patches.len(), 1, "{:?}", seen.status_patches);
    let written: BucketAccessCheckStatus =
        serde_json::from_value(seen.status_patches[0].clone()).unwrap();
    assert_ne!(written.last_evaluated, current.last_evaluated);
    assert!(bucket_access_api::status::same_result(&written, &current));
    assert!(seen.events.is_empty());
}

/// The same result written within the hour: no write at all, whether the previous status is the whole one
/// or what the controller keeps of a watched check (`watch::keep`).
#[tokio::test]
async fn an_unchanged_re_evaluation_within_the_hour_writes_nothing() {
    let snapshot = scenario("allowed-plain");
    let mut current = evaluated(&snapshot);
    let recent = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(10);
    current.last_evaluated = Some(recent.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    let (seen, _) = run(
        object(1, Some(current.clone()), valid_spec()),
        snapshot.clone(),
    )
    .await;
    assert!(seen.status_patches.is_empty(), "{:?}", seen.status_patches);
    let mut watched = object(1, Some(current.clone()), valid_spec());
    bucket_access_operator::controller::watch::keep(&mut watched);
    let kept = watched.status.clone().unwrap();
    assert!(
        kept.summary.is_none() && kept.evaluations.is_empty(),
        "{kept:?}"
    );
    let (seen, _) = run(watched, snapshot).await;
    assert!(seen.status_patches.is_empty(), "{:?}", seen.status_patches);
    assert!(seen.events.is_empty());
    // A kept status whose result differs (another summary) is written.
    current.summary = Some("another result".into());
    let mut watched = object(1, Some(current), valid_spec());
    bucket_access_operator::controller::watch::keep(&mut watched);
    let (seen, _) = run(watched, scenario("allowed-plain")).await;
    assert_eq!(seen.status_patches.len(), 1, "{:?}", seen.status_patches);
}

#[tokio::test]
async fn a_spec_change_is_re_evaluated_under_the_new_generation() {
    let snapshot = scenario("allowed-plain");
    let current = evaluated(&snapshot);
    let (seen, _) = run(object(2, Some(current), valid_spec()), snapshot).await;
    assert_eq!(seen.status_patches.len(), 1, "{:?}", seen.status_patches);
    assert_eq!(seen.status_patches[0]["observedGeneration"], 2);
    assert_eq!(
        condition(&seen.status_patches[0], "Ready"),
        ("True", "AccessAllowed")
    );
    assert_eq!(
        condition(&seen.status_patches[0], "Reconciling"),
        ("False", "Evaluated")
    );
    assert!(seen.events.is_empty(), "same verdict and causes: no event");
}

#[tokio::test]
async fn out_of_scope_reads_nothing_writes_invalid_and_one_event() {
    let obj = object(1, None, valid_spec());
    let scope = media_scope("finance-only", &["finance"], Detail::Full);
    let (seen, _) = run_bounded(
        obj.clone(),
        scenario("allowed-plain"),
        Some(caches(vec![scope], vec![obj])),
    )
    .await;
    assert!(seen.collections.is_empty(), "nothing may be read for it");
    assert_eq!(seen.status_patches.len(), 1, "no Evaluating status either");
    let status = &seen.status_patches[0];
    assert_eq!(status["verdict"], "Invalid");
    assert_eq!(status["reason"], "OutOfScope");
    assert_eq!(condition(status, "Ready"), ("False", "OutOfScope"));
    assert_eq!(condition(status, "Stalled"), ("True", "OutOfScope"));
    let summary = status["summary"].as_str().unwrap();
    assert!(
        summary.contains("no BucketAccessScope selects namespace `media`"),
        "{summary}"
    );
    assert_eq!(seen.events.len(), 1);
    assert_eq!(seen.events[0]["reason"], "OutOfScope");
    assert_eq!(seen.events[0]["type"], "Warning");
}

mod own_writes;
mod scopes_and_requests;
