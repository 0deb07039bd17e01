//! Reconciles under scopes and on request: what is read as whom and shown at which level, the scope caches
//! filling, requested re-evaluations and `minInterval`, a scope changed during a collection, and what starts
//! an evaluation at all.

use super::*;

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
        Publisher::new(client, "bucket-access-operator".into()),
        Arc::new(Fixed(
            scenario("allowed-plain"),
            Arc::new(Mutex::new(Vec::new())),
            Duration::ZERO,
        )),
        Arc::new(OperatorMetrics::default()),
        Boundary::Enforce(ScopeCaches::new(
            scopes,
            namespaces,
            CheckList::Shard(checks),
        )),
    ));
    let server = serve(handle, serde_json::to_vec(&obj).unwrap(), Duration::ZERO);
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

/// Without a `minInterval` the operator's default holds requested fresh reads to one a minute per principal and
/// bucket in a namespace, across re-creations of the check (each a new uid); the status says so.
#[tokio::test]
async fn without_a_min_interval_the_default_holds_fresh_reads_across_re_creations() {
    let recreated = |n: u32, at: &str| {
        let mut obj = requested(at);
        obj.metadata.uid = Some(format!("uid-{n}"));
        obj
    };
    let first = recreated(1, "2026-11-28T20:00:00Z");
    let (seen, _) = run_in_turn(
        vec![
            first.clone(),
            recreated(2, "2026-11-28T20:00:01Z"),
            recreated(3, "2026-11-28T20:00:02Z"),
        ],
        scenario("allowed-plain"),
        Some(caches(
            vec![media_scope("media", &["media"], Detail::Full)],
            vec![first],
        )),
    )
    .await;
    let fresh: Vec<bool> = seen.collections.iter().map(|a| a.fresh).collect();
    assert_eq!(
        fresh,
        [true, false, false],
        "one fresh read per principal and bucket"
    );
    let notes = seen.status_patches.last().unwrap()["scope"]["notes"].to_string();
    assert!(notes.contains("the operator's default"), "{notes}");
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
        Publisher::new(client, "bucket-access-operator".into()),
        Arc::new(source),
        Arc::new(OperatorMetrics::default()),
        Boundary::Enforce(caches),
    ));
    let server = serve(handle, serde_json::to_vec(&obj).unwrap(), Duration::ZERO);
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
        Publisher::new(client, "bucket-access-operator".into()),
        Arc::new(Fixed(snapshot, Arc::clone(&collections), Duration::ZERO)),
        Arc::new(OperatorMetrics::default()),
        Boundary::Enforce(caches),
    ));
    let server = serve(handle, serde_json::to_vec(&done).unwrap(), Duration::ZERO);
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
