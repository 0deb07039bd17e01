//! AWS change events against moto: a storm of unrelated events costs no AWS read; through a real SQS queue,
//! a bucket policy change drops exactly the bucket's cached reads and hands the check that read it back to
//! the controller, and every message (relevant, unrelated, malformed) is deleted once handled.

use crate::support::{moto_sdk_config, Moto};
use bucket_access_api::spec::{BucketAccessCheck, CheckSpec};
use bucket_access_aws::events::CLOUDTRAIL_DETAIL_TYPE;
use bucket_access_aws::{Collector, CollectorOptions};
use bucket_access_operator::controller::events::{follow, handle_all, EventIndex};
use bucket_access_operator::controller::metrics::OperatorMetrics;
use futures::StreamExt;
use kube::runtime::reflector::ObjectRef;
use s3_diagnosis::source::ReadAccess;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const A: &str = "123456789012";

/// A CloudTrail event as EventBridge delivers it.
fn event(source: &str, name: &str, params: serde_json::Value) -> String {
    json!({"version": "0", "id": "e", "detail-type": CLOUDTRAIL_DETAIL_TYPE, "source": "aws.s3", "account": A,
        "time": "2026-12-05T10:00:00Z", "region": "us-east-1",
        "detail": {"eventSource": source, "eventName": name, "eventTime": "2026-12-05T10:00:00Z",
            "recipientAccountId": A, "requestParameters": params}})
    .to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .unwrap()
}

#[test]
fn change_events_drop_what_they_touch_and_nothing_else() {
    let moto = Moto::start();
    moto.seed(&[]);
    let config = moto_sdk_config(&moto);
    let collector = Arc::new(Collector::from_config(
        &config,
        CollectorOptions::default(),
        true,
    ));
    let metrics = Arc::new(OperatorMetrics::default());
    let spec = CheckSpec {
        role_arn: Some(format!("arn:aws:iam::{A}:role/uploader")),
        bucket: "plain-bucket".into(),
        ..CheckSpec::default()
    };
    let target = spec.target().unwrap();
    let check = ObjectRef::<BucketAccessCheck>::new("plain").within("team");
    let rt = runtime();
    rt.block_on(async {
        let access = ReadAccess::default();
        let snapshot = collector.collect(&target, &access).await;
        let (index, touched) = EventIndex::new();
        index.record("team/plain", check.clone(), &snapshot);
        let world = World {
            collector: &collector,
            metrics: &metrics,
            index: &index,
            target: &target,
        };
        a_storm_of_unrelated_events_reads_nothing(&world, &snapshot).await;
        through_the_queue(&world, &config, touched, &check).await;
    });
}

/// What both parts of the test share.
struct World<'a> {
    collector: &'a Arc<Collector>,
    metrics: &'a Arc<OperatorMetrics>,
    index: &'a Arc<EventIndex>,
    target: &'a s3_diagnosis::source::Target,
}

/// 10,000 events that touch nothing any check read: no AWS read, no check re-evaluated.
async fn a_storm_of_unrelated_events_reads_nothing(
    world: &World<'_>,
    snapshot: &s3_diagnosis::snapshot::Snapshot,
) {
    let (collector, metrics, index, target) =
        (world.collector, world.metrics, world.index, world.target);
    let access = ReadAccess::default();

    // 10,000 events that touch nothing any check read: no AWS read, no check re-evaluated.
    let before = collector.metrics().total();
    let storm: Vec<String> = (0..10_000)
        .map(|i| match i % 4 {
            0 => event(
                "s3.amazonaws.com",
                "PutBucketPolicy",
                json!({"bucketName": format!("other-{i}")}),
            ),
            1 => event(
                "iam.amazonaws.com",
                "PutRolePolicy",
                json!({"roleName": format!("role-{i}")}),
            ),
            2 => event("s3.amazonaws.com", "ListBuckets", json!({})),
            _ => event(
                "kms.amazonaws.com",
                "PutKeyPolicy",
                json!({"keyId": format!("key-{i}")}),
            ),
        })
        .collect();
    handle_all(storm.iter().map(String::as_str), collector, index, metrics);
    let again = collector.collect(target, &access).await;
    assert_eq!(again.bucket, snapshot.bucket);
    assert_eq!(
        collector.metrics().total(),
        before,
        "the storm and the collection after it read nothing"
    );
    let rendered = metrics.render();
    assert!(
        rendered.contains("bucket_access_events_received_total 10000"),
        "{rendered}"
    );
    assert!(
        rendered.contains("bucket_access_events_total{outcome=\"ignored\"} 10000"),
        "{rendered}"
    );
    assert!(!rendered.contains("outcome=\"applied\""), "{rendered}");
    assert!(index.take("team/plain").is_none(), "no check was touched");
}

/// Through the queue: the bucket's change, an unrelated one and a malformed message.
async fn through_the_queue(
    world: &World<'_>,
    config: &aws_config::SdkConfig,
    mut touched: futures::stream::BoxStream<'static, ObjectRef<BucketAccessCheck>>,
    check: &ObjectRef<BucketAccessCheck>,
) {
    let (collector, metrics, index, target) =
        (world.collector, world.metrics, world.index, world.target);
    let access = ReadAccess::default();
    let sqs = aws_sdk_sqs::Client::new(config);
    let url = sqs
        .create_queue()
        .queue_name("bucket-access-events")
        .send()
        .await
        .unwrap();
    let url = url.queue_url().unwrap().to_owned();
    for body in [
        event(
            "s3.amazonaws.com",
            "PutBucketPolicy",
            json!({"bucketName": "plain-bucket"}),
        ),
        event(
            "iam.amazonaws.com",
            "PutRolePolicy",
            json!({"roleName": "someone-else"}),
        ),
        "not an event".to_owned(),
    ] {
        sqs.send_message()
            .queue_url(&url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let follower = tokio::spawn(follow(
        collector.event_queue(&url),
        Arc::clone(collector),
        Arc::clone(index),
        Arc::clone(metrics),
    ));
    let handed = tokio::time::timeout(Duration::from_secs(20), touched.next()).await;
    assert_eq!(
        handed.ok().flatten(),
        Some(check.clone()),
        "the check that read the bucket is re-evaluated"
    );
    assert!(
        index.take("team/plain").is_some_and(|at| at.is_some()),
        "marked, with the event's time"
    );
    // The bucket is read again (its reads were dropped); the principal is not.
    let bucket_reads = collector.metrics().count("s3:GetBucketPolicy");
    let role_reads = collector.metrics().count("iam:GetRole");
    collector.collect(target, &access).await;
    assert_eq!(
        collector.metrics().count("s3:GetBucketPolicy"),
        bucket_reads + 1
    );
    assert_eq!(collector.metrics().count("iam:GetRole"), role_reads);
    // Every message is deleted once handled.
    let mut empty = false;
    for _ in 0..40 {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .send()
            .await
            .unwrap();
        let count = |name| {
            attributes
                .attributes()
                .and_then(|a| a.get(&name))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(1)
        };
        use aws_sdk_sqs::types::QueueAttributeName as Name;
        if count(Name::ApproximateNumberOfMessages)
            + count(Name::ApproximateNumberOfMessagesNotVisible)
            == 0
        {
            empty = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    follower.abort();
    assert!(empty, "the queue still holds messages");
    let rendered = metrics.render();
    assert!(
        rendered.contains("bucket_access_events_total{outcome=\"failed\"} 1"),
        "{rendered}"
    );
}
