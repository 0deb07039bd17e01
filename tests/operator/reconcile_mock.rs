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
use bucket_access_api::status::{build, BucketAccessCheckStatus, Outcome, Projection};
use bucket_access_operator::controller::metrics::OperatorMetrics;
use bucket_access_operator::controller::reconcile::{
    reconcile, Boundary, CheckList, Context, ScopeCaches,
};
use http::{Request, Response};
use k8s_openapi::api::core::v1::Namespace;
use kube::client::Body;
use kube::core::PartialObjectMeta;
use kube::runtime::events::Recorder;
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
struct Fixed(Snapshot, Arc<Mutex<Vec<ReadAccess>>>);

impl SnapshotSource for Fixed {
    fn snapshot(
        &self,
        _target: &Target,
        access: &ReadAccess,
    ) -> impl std::future::Future<Output = Snapshot> + Send {
        self.1.lock().unwrap().push(access.clone());
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

/// The mock API server: answers status patches and Events of the check until 300 ms pass without a request,
/// and returns what it saw.
fn serve(
    mut handle: tower_test::mock::Handle<Request<Body>, Response<Body>>,
    reply: Vec<u8>,
) -> tokio::task::JoinHandle<Seen> {
    tokio::spawn(async move {
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
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(svc, "default");
    let collections = Arc::new(Mutex::new(Vec::new()));
    let (boundary, _writers) = match caches {
        Some(c) => (Boundary::Enforce(c.caches), Some(c._writers)),
        None => (Boundary::Off, None),
    };
    let ctx = Arc::new(Context::new(
        client.clone(),
        Recorder::new(client, "bucket-access-operator".into()),
        Arc::new(Fixed(snapshot, Arc::clone(&collections))),
        Arc::new(OperatorMetrics::default()),
        boundary,
    ));
    let server = serve(handle, serde_json::to_vec(&objects[0]).unwrap());
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
        Outcome::Diagnosed(&Projection::of(&d, &digest)),
        Some(1),
        "arn:aws:iam::111122223333:role/uploader",
        &now,
        "2026-11-28T10:00:00Z",
    )
}

#[tokio::test]
async fn an_unchanged_re_evaluation_writes_only_when_it_was_evaluated_and_sends_no_event() {
    let snapshot = scenario("allowed-plain");
    let current = evaluated(&snapshot);
    let (seen, _) = run(object(1, Some(current.clone()), valid_spec()), snapshot).await;
    // One write: `lastEvaluated` (the LAST-EVALUATED column) moves; nothing else does, the conditions keep
    // their lastTransitionTime, and no Event is sent.
    assert_eq!(seen.status_patches.len(), 1, "{:?}", seen.status_patches);
    let written: BucketAccessCheckStatus =
        serde_json::from_value(seen.status_patches[0].clone()).unwrap();
    assert_ne!(written.last_evaluated, current.last_evaluated);
    assert!(bucket_access_api::status::same_result(&written, &current));
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

#[tokio::test]
async fn in_scope_is_read_as_the_scopes_reader_and_shown_at_its_detail_level() {
    let mut spec = valid_spec();
    spec.read_role_arns = BTreeMap::from([(
        "111122223333".into(),
        "arn:aws:iam::111122223333:role/chosen-by-the-tenant".into(),
    )]);
    let obj = object(1, None, spec);
    let scopes = vec![
        media_scope("a-other", &["finance"], Detail::Full),
        media_scope("b-media", &["media"], Detail::Summary),
    ];
    let (seen, _) = run_bounded(
        obj.clone(),
        scenario("seed-storage-class-deny-condition-denied"),
        Some(caches(scopes, vec![obj])),
    )
    .await;
    assert_eq!(seen.collections.len(), 1);
    let access = &seen.collections[0];
    assert_eq!(access.on_behalf_of.as_deref(), Some("media"));
    assert_eq!(access.scope.as_deref(), Some("b-media"));
    let reader = access.reader("111122223333").unwrap();
    assert_eq!(reader.role_arn, "arn:aws:iam::111122223333:role/reader");
    assert_eq!(reader.external_id.as_deref(), Some("media-ext"));
    let last = seen.status_patches.last().unwrap();
    assert_eq!(last["verdict"], "Denied");
    assert_eq!(last["scope"]["name"], "b-media");
    assert_eq!(last["scope"]["detail"], "Summary");
    let notes = serde_json::to_string(&last["scope"]["notes"]).unwrap();
    assert!(notes.contains("readRoleArns` is ignored"), "{notes}");
    // Summary: cause ids and fixes' words, no condition values or patched documents.
    let causes = last["causes"].as_array().unwrap();
    assert!(!causes.is_empty());
    for cause in causes {
        // The catalog's general words for the cause id: the same for every check.
        let id: s3_diagnosis::CauseId = cause["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(cause["message"], id.meaning(), "{cause}");
        for r in cause["remediation"].as_array().unwrap() {
            assert!(
                r.get("policyPatch").is_none() && r.get("command").is_none(),
                "{r}"
            );
        }
    }
    // What the Full level would have shown (the diagnosis' own messages) appears nowhere.
    let full = diagnose(&scenario("seed-storage-class-deny-condition-denied"));
    let text = serde_json::to_string(last).unwrap();
    assert!(!full.causes.is_empty());
    for cause in &full.causes {
        assert!(!text.contains(&cause.message), "{} leaked", cause.message);
    }
    // The storage class the bucket policy wants, in the remediation text and the fix's request, before.
    assert!(!text.contains("STANDARD_IA"), "{text}");
    assert!(
        last.get("inputDigest").is_none(),
        "an equality oracle over the policies: {text}"
    );
}

#[tokio::test]
async fn reconciles_waiting_for_the_scope_caches_all_wake_when_they_fill() {
    let obj = object(1, None, valid_spec());
    let (scopes, mut w1) = reflector::store::<BucketAccessScope>();
    let (namespaces, mut w2) = reflector::store::<PartialObjectMeta<Namespace>>();
    let (checks, mut w3) = reflector::store::<BucketAccessCheck>();
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(svc, "default");
    let ctx = Arc::new(Context::new(
        client.clone(),
        Recorder::new(client, "bucket-access-operator".into()),
        Arc::new(Fixed(
            scenario("allowed-plain"),
            Arc::new(Mutex::new(Vec::new())),
        )),
        Arc::new(OperatorMetrics::default()),
        Boundary::Enforce(ScopeCaches::new(
            scopes,
            namespaces,
            CheckList::Shard(checks),
        )),
    ));
    let server = serve(handle, serde_json::to_vec(&obj).unwrap());
    // Four reconciles wait for the caches at once (a store's own readiness wakes only one of them).
    let waiting: Vec<_> = (0..4)
        .map(|_| tokio::spawn(reconcile(Arc::new(obj.clone()), Arc::clone(&ctx))))
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut media = PartialObjectMeta::<Namespace>::default();
    media.metadata.name = Some("media".into());
    w1.apply_watcher_event(&Event::Init);
    w1.apply_watcher_event(&Event::InitDone);
    w3.apply_watcher_event(&Event::Init);
    w3.apply_watcher_event(&Event::InitApply(obj.clone()));
    w3.apply_watcher_event(&Event::InitDone);
    w2.apply_watcher_event(&Event::Init);
    w2.apply_watcher_event(&Event::InitApply(media));
    w2.apply_watcher_event(&Event::InitDone);
    for handle in waiting {
        let result = tokio::time::timeout(Duration::from_secs(5), handle)
            .await
            .expect("a reconcile still waits for caches that have filled");
        result.unwrap().unwrap();
    }
    let seen = server.await.unwrap();
    // No scope selects `media`: each reconcile decided Out of scope, which needs the filled caches.
    assert!(seen
        .status_patches
        .iter()
        .all(|s| s["reason"] == "OutOfScope"));
}

#[tokio::test]
async fn a_requested_re_evaluation_reads_fresh_and_is_echoed_once() {
    let mut obj = object(1, None, valid_spec());
    obj.metadata.annotations = Some(BTreeMap::from([(
        "bucketaccess.io/requested-at".to_owned(),
        "2026-11-28T20:00:00Z".to_owned(),
    )]));
    let (seen, _) = run(obj.clone(), scenario("allowed-plain")).await;
    assert!(seen.collections[0].fresh, "a new request reads fresh");
    let last = seen.status_patches.last().unwrap();
    assert_eq!(last["lastHandledRequestedAt"], "2026-11-28T20:00:00Z");
    // Handled: the next reconcile reads through the cache again.
    let handled: BucketAccessCheckStatus = serde_json::from_value(last.clone()).unwrap();
    obj.status = Some(handled);
    let (seen, _) = run(obj, scenario("allowed-plain")).await;
    assert!(
        !seen.collections[0].fresh,
        "an old request is not read fresh again"
    );
}

/// The check with a requested re-evaluation at `at`.
fn requested(at: &str) -> BucketAccessCheck {
    let mut obj = object(1, None, valid_spec());
    obj.metadata.annotations = Some(BTreeMap::from([(
        "bucketaccess.io/requested-at".to_owned(),
        at.to_owned(),
    )]));
    obj
}

/// Requested re-evaluations read fresh at most once per the scope's `minInterval`; the others are answered
/// from the cache and the status says so.
#[tokio::test]
async fn requested_re_evaluations_read_fresh_once_per_min_interval() {
    let mut scope = media_scope("media", &["media"], Detail::Full);
    scope.spec.limits = Some(ScopeLimits {
        max_checks_per_namespace: None,
        min_interval: Some("1h".into()),
    });
    let first = requested("2026-11-28T20:00:00Z");
    let objects = vec![
        first.clone(),
        requested("2026-11-28T20:00:01Z"),
        requested("2026-11-28T20:00:02Z"),
    ];
    let (seen, _) = run_in_turn(
        objects,
        scenario("allowed-plain"),
        Some(caches(vec![scope], vec![first])),
    )
    .await;
    let fresh: Vec<bool> = seen.collections.iter().map(|a| a.fresh).collect();
    assert_eq!(
        fresh,
        [true, false, false],
        "one fresh read per minInterval"
    );
    // The scope's minimum also bounds how old a cached read may be.
    assert_eq!(
        seen.collections[0].interval,
        Some(Duration::from_secs(3600))
    );
    let last = seen.status_patches.last().unwrap();
    assert_eq!(last["lastHandledRequestedAt"], "2026-11-28T20:00:02Z");
    let notes = last["scope"]["notes"].to_string();
    assert!(notes.contains("answered from cached reads"), "{notes}");
}

/// Without a `minInterval` every new request reads fresh (the scope sets no limit).
#[tokio::test]
async fn without_a_min_interval_every_new_request_reads_fresh() {
    let first = requested("2026-11-28T20:00:00Z");
    let (seen, _) = run_in_turn(
        vec![first.clone(), requested("2026-11-28T20:00:01Z")],
        scenario("allowed-plain"),
        Some(caches(
            vec![media_scope("media", &["media"], Detail::Full)],
            vec![first],
        )),
    )
    .await;
    let fresh: Vec<bool> = seen.collections.iter().map(|a| a.fresh).collect();
    assert_eq!(fresh, [true, true]);
}

/// A source that edits the scope while it collects, as a cluster admin might during a long collection.
struct Rescoping {
    snapshot: Snapshot,
    scopes: Mutex<Writer<BucketAccessScope>>,
    edited: BucketAccessScope,
}

impl SnapshotSource for Rescoping {
    fn snapshot(
        &self,
        _target: &Target,
        _access: &ReadAccess,
    ) -> impl std::future::Future<Output = Snapshot> + Send {
        self.scopes
            .lock()
            .unwrap()
            .apply_watcher_event(&Event::Apply(self.edited.clone()));
        let s = self.snapshot.clone();
        async move { s }
    }
}

/// The scope changed while the check was collected (here: its detail went from Full to Summary): nothing of
/// what was read is written, and the check is decided again at once.
#[tokio::test]
async fn a_scope_changed_during_the_collection_writes_nothing_read_under_it() {
    let obj = object(1, Some(evaluated(&scenario("allowed-plain"))), valid_spec());
    let Caches { caches, _writers } = caches(
        vec![media_scope("media", &["media"], Detail::Full)],
        vec![obj.clone()],
    );
    let (scope_writer, namespace_writer, check_writer) = _writers;
    let source = Rescoping {
        snapshot: scenario("seed-storage-class-deny-condition-denied"),
        scopes: Mutex::new(scope_writer),
        edited: media_scope("media", &["media"], Detail::Summary),
    };
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(svc, "default");
    let ctx = Arc::new(Context::new(
        client.clone(),
        Recorder::new(client, "bucket-access-operator".into()),
        Arc::new(source),
        Arc::new(OperatorMetrics::default()),
        Boundary::Enforce(caches),
    ));
    let server = serve(handle, serde_json::to_vec(&obj).unwrap());
    let action = reconcile(Arc::new(obj), ctx).await.unwrap();
    let seen = server.await.unwrap();
    drop((namespace_writer, check_writer));
    assert!(
        seen.status_patches.iter().all(|s| s["verdict"] != "Denied"),
        "written under the old scope: {:?}",
        seen.status_patches
    );
    assert!(seen.events.is_empty(), "{:?}", seen.events);
    assert!(format!("{action:?}").contains("1s"), "{action:?}");
}

/// Only what starts an evaluation does: a label or another annotation edit (or the operator's own status
/// write) within the interval costs nothing; a new generation, a requested re-evaluation or a boundary change
/// evaluates.
#[tokio::test]
async fn only_the_spec_a_request_or_a_boundary_change_starts_an_evaluation() {
    let snapshot = scenario("allowed-plain");
    let done = object(1, Some(evaluated(&snapshot)), valid_spec());
    let mut labelled = done.clone();
    labelled.metadata.labels = Some(BTreeMap::from([("team".into(), "media".into())]));
    labelled.metadata.annotations = Some(BTreeMap::from([("note".into(), "x".into())]));
    let mut edited = done.clone();
    edited.metadata.generation = Some(2);
    let mut asked = edited.clone();
    asked.metadata.annotations = Some(BTreeMap::from([(
        "bucketaccess.io/requested-at".to_owned(),
        "2026-11-28T20:00:00Z".to_owned(),
    )]));
    let scopes = vec![media_scope("media", &["media"], Detail::Full)];
    let Caches { caches, _writers } = caches(scopes, vec![done.clone()]);
    let changes = caches.changes();
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(svc, "default");
    let collections = Arc::new(Mutex::new(Vec::new()));
    let ctx = Arc::new(Context::new(
        client.clone(),
        Recorder::new(client, "bucket-access-operator".into()),
        Arc::new(Fixed(snapshot, Arc::clone(&collections))),
        Arc::new(OperatorMetrics::default()),
        Boundary::Enforce(caches),
    ));
    let server = serve(handle, serde_json::to_vec(&done).unwrap());
    let count = || collections.lock().unwrap().len();
    let mut seen = Vec::new();
    for (what, obj) in [
        ("first", &done),
        ("same again", &done),
        ("a label and an annotation", &labelled),
        ("a new generation", &edited),
        ("a requested re-evaluation", &asked),
        ("nothing new", &asked),
    ] {
        let before = count();
        reconcile(Arc::new(obj.clone()), Arc::clone(&ctx))
            .await
            .unwrap();
        seen.push((what, count() > before));
    }
    // A scope change that affects the check (as the scope watcher marks it).
    changes
        .lock()
        .unwrap()
        .insert("media/uploader-can-write".to_owned());
    let before = count();
    reconcile(Arc::new(asked.clone()), Arc::clone(&ctx))
        .await
        .unwrap();
    seen.push(("a scope change", count() > before));
    server.await.unwrap();
    drop(_writers);
    assert_eq!(
        seen,
        [
            ("first", true),
            ("same again", false),
            ("a label and an annotation", false),
            ("a new generation", true),
            ("a requested re-evaluation", true),
            ("nothing new", false),
            ("a scope change", true),
        ]
    );
}
