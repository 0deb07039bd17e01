//! A reconcile that starts before the watch delivered the previous reconcile's write (an AWS change event
//! arriving right after another) compares its result with that write, not with the stale watched copy: a
//! result that changed back is written, and its transition is published.

use super::*;
use bucket_access_aws::events::Change;
use bucket_access_operator::controller::events::EventIndex;

/// Answers the snapshots in turn, one per collection.
struct InTurn(Mutex<Vec<Snapshot>>);

impl SnapshotSource for InTurn {
    fn snapshot(
        &self,
        _target: &Target,
        _access: &ReadAccess,
    ) -> impl std::future::Future<Output = Snapshot> + Send {
        let next = self.0.lock().unwrap().remove(0);
        async move { next }
    }
}

#[tokio::test]
async fn a_result_that_changes_back_before_the_watch_catches_up_is_written() {
    let denied = scenario("seed-storage-class-deny-condition-denied");
    let allowed = scenario("allowed-plain");
    // The watched copy says Denied, as written within the hour; it stays so for both reconciles.
    let mut current = evaluated(&denied);
    let recent = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(5);
    current.last_evaluated = Some(recent.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    let stale = object(1, Some(current), valid_spec());
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(svc, "default");
    let (index, _touched) = EventIndex::new();
    let ctx = Arc::new(
        Context::new(
            client.clone(),
            Publisher::new(client, "bucket-access-operator".into()),
            Arc::new(InTurn(Mutex::new(vec![allowed, denied]))),
            Arc::new(OperatorMetrics::default()),
            Boundary::Off,
        )
        .with_events(Arc::clone(&index)),
    );
    let server = serve(handle, serde_json::to_vec(&stale).unwrap(), Duration::ZERO);
    // An event on the bucket: the first reconcile reads it allowed now.
    let touch = || {
        index.apply(
            &[Change::Bucket {
                account: "111122223333".into(),
                name: "doc-example-bucket".into(),
            }],
            None,
        )
    };
    index.record(
        "media/uploader-can-write",
        kube::runtime::reflector::ObjectRef::from_obj(&stale),
        &scenario("allowed-plain"),
    );
    assert_eq!(touch(), 1);
    reconcile(Arc::new(stale.clone()), Arc::clone(&ctx))
        .await
        .unwrap();
    // The change is reverted at once: the second reconcile starts from the same stale watched copy.
    assert_eq!(touch(), 1);
    reconcile(Arc::new(stale), Arc::clone(&ctx)).await.unwrap();
    let seen = server.await.unwrap();
    let verdicts: Vec<&str> = seen
        .status_patches
        .iter()
        .map(|s| s["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["Allowed", "Denied"], "both changes written");
    let reasons: Vec<&str> = seen
        .events
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["AccessAllowed", "AccessDenied"]);
}
