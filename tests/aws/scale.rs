//! One collector, many checks, against moto: 1,000 checks over 20 roles and 10 buckets cost one read per
//! distinct input (the cache and request coalescing), and AWS going away in the middle of 50 concurrent
//! checks yields `Unknown`, never a wrong `Allowed`, never a panic. Prints the figures.

use crate::support::Moto;
use bucket_access_api::spec::CheckSpec;
use bucket_access_aws::{Collector, CollectorOptions};
use s3_diagnosis::source::ReadAccess;
use s3_diagnosis::{diagnose, Verdict};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn one_read_per_distinct_input_and_unknown_when_aws_goes_away() {
    let mut moto = Moto::start();
    let seeded = moto.seed(&["--scale"]);
    let roles = crate::support::strings(&seeded["roles"]);
    let buckets = crate::support::strings(&seeded["buckets"]);
    assert_eq!((roles.len(), buckets.len()), (20, 10));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let spec = |i: usize| CheckSpec {
        role_arn: Some(roles[i % 20].clone()),
        bucket: buckets[(i / 20) % 10].clone(),
        key: Some(format!("uploads/{i}.csv")),
        ..CheckSpec::default()
    };

    runtime.block_on(async {
        let collector = Arc::new(Collector::from_config(&crate::support::moto_sdk_config(&moto), CollectorOptions { max_attempts: 2, account_read_threshold: 0, ..CollectorOptions::default() }, true));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..1000 {
            let collector = Arc::clone(&collector);
            let spec = spec(i);
            tasks.push(tokio::spawn(async move { diagnose(&collector.collect(&crate::support::target(&spec), &ReadAccess::default()).await).verdict }));
        }
        let mut verdicts = Vec::new();
        for t in tasks {
            verdicts.push(t.await.unwrap());
        }
        let elapsed = started.elapsed();
        assert!(verdicts.iter().all(|v| *v == Verdict::Allowed), "{:?}", verdicts.iter().find(|v| **v != Verdict::Allowed));
        let m = collector.metrics();
        // One read per distinct input.
        for (api, distinct) in [
            ("iam:GetRole", 20),
            ("iam:ListAttachedRolePolicies", 20),
            ("iam:GetPolicy", 20),
            ("iam:GetPolicyVersion", 20),
            ("iam:ListRolePolicies", 20),
            ("s3:GetBucketLocation", 10),
            ("s3:GetBucketPolicy", 10),
            ("s3:GetBucketEncryption", 10),
            ("s3control:GetPublicAccessBlock", 10),
            ("organizations:DescribeOrganization", 1),
        ] {
            assert_eq!(m.count(api), distinct, "{api}");
        }
        let (hits, misses) = m.cache_counts();
        println!(
            "1000 checks over 20 roles and 10 buckets: {} AWS calls, {hits} cache hits, {misses} misses, {:.2?} wall time ({:.0} checks/s)",
            m.total(),
            elapsed,
            1000.0 / elapsed.as_secs_f64()
        );
        // Per role 5 reads, per bucket 8, the organization once, and the credentials' account once.
        assert_eq!(m.total(), 20 * 5 + 10 * 8 + 1 + 1);
    });

    aws_goes_away_during_fifty_checks(&runtime, &mut moto, &spec);
}

/// AWS goes away while 50 checks are in flight, with nothing cached: each is Allowed on what it read before,
/// or Unknown naming the calls that failed; never Denied on missing data.
fn aws_goes_away_during_fifty_checks(
    runtime: &tokio::runtime::Runtime,
    moto: &mut Moto,
    spec: &dyn Fn(usize) -> CheckSpec,
) {
    let collector = runtime.block_on(async {
        Collector::from_config(
            &crate::support::moto_sdk_config(moto),
            CollectorOptions::default(),
            true,
        )
    });
    let collector = Arc::new(collector);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let collector = Arc::clone(&collector);
            let spec = spec(i * 7);
            runtime.spawn(async move {
                diagnose(
                    &collector
                        .collect(&crate::support::target(&spec), &ReadAccess::default())
                        .await,
                )
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(30));
    moto.stop();
    let diagnoses: Vec<_> = tasks
        .into_iter()
        .map(|t| runtime.block_on(t).unwrap())
        .collect();
    let unknown = diagnoses
        .iter()
        .filter(|d| d.verdict == Verdict::Unknown)
        .count();
    for d in &diagnoses {
        match d.verdict {
            Verdict::Allowed => assert!(d.unknown.is_empty()),
            Verdict::Unknown => assert!(
                d.unknown.iter().all(|u| u.reason.contains("calling")),
                "{:?}",
                d.unknown
            ),
            other => panic!("{other:?}: {}", d.summary),
        }
    }
    println!("moto stopped during 50 concurrent checks: {unknown} Unknown, {} Allowed (read before it stopped)", 50 - unknown);
    assert!(
        unknown > 0,
        "moto stopped before the reads finished, so some checks cannot be decided"
    );
}

/// One namespace floods the operator (200 checks, read fresh five times each, one call at a time: its
/// share) while another
/// evaluates one check: the flood never holds more than its share of the calls in flight, and the quiet
/// namespace's evaluation finishes while the flood is still running. Prints the latencies.
#[test]
fn a_flooding_namespace_holds_only_its_share_of_the_call_pool() {
    let moto = Moto::start();
    let seeded = moto.seed(&["--scale"]);
    let roles = crate::support::strings(&seeded["roles"]);
    let buckets = crate::support::strings(&seeded["buckets"]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .unwrap();
    let spec = |i: usize| CheckSpec {
        role_arn: Some(roles[i % 20].clone()),
        bucket: buckets[(i / 20) % 10].clone(),
        ..CheckSpec::default()
    };
    let access = |namespace: &str| ReadAccess {
        on_behalf_of: Some(namespace.to_owned()),
        fresh: true,
        ..ReadAccess::default()
    };
    runtime.block_on(async {
        let options = CollectorOptions {
            concurrency: 8,
            namespace_share: 1,
            max_attempts: 2,
            ..CollectorOptions::default()
        };
        let collector = Arc::new(Collector::from_config(
            &crate::support::moto_sdk_config(&moto),
            options,
            true,
        ));
        // The quiet namespace alone, for the baseline.
        let started = Instant::now();
        let alone = Box::pin(collector.collect(&crate::support::target(&spec(0)), &access("quiet"))).await;
        let baseline = started.elapsed();
        assert!(alone.principal.is_some(), "{:?}", alone.unavailable);

        let started = Instant::now();
        let mut flood = Vec::new();
        for i in 0..200 {
            let collector = Arc::clone(&collector);
            let (spec, access) = (spec(i), access("flood"));
            flood.push(tokio::spawn(async move {
                // Five rounds each: a tenant changing its requested-at annotation in a loop.
                for _ in 0..5 {
                    Box::pin(collector.collect(&crate::support::target(&spec), &access)).await;
                }
                started.elapsed()
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let quiet_started = Instant::now();
        let quiet = Box::pin(collector.collect(&crate::support::target(&spec(1)), &access("quiet"))).await;
        let quiet_latency = quiet_started.elapsed();
        let quiet_done = started.elapsed();
        assert!(quiet.principal.is_some() && quiet.bucket.is_some(), "{:?}", quiet.unavailable);
        let mut flood_done = Duration::ZERO;
        for f in flood {
            flood_done = flood_done.max(f.await.unwrap());
        }
        let limits = collector.limits();
        let by_namespace: std::collections::BTreeMap<String, u64> =
            collector.metrics().calls_by_namespace().into_iter().collect();
        println!(
            "fair share: the quiet namespace's check took {quiet_latency:.2?} during a flood of 200 checks read fresh 5 times \
             ({baseline:.2?} alone); the flood took {flood_done:.2?}; calls {by_namespace:?}; peak in flight: \
             flood {}, quiet {} (share {})",
            limits.peak("flood"),
            limits.peak("quiet"),
            limits.share()
        );
        assert_eq!(limits.peak("flood"), limits.share(), "the flood held more than its share");
        assert!(
            quiet_done < flood_done,
            "the quiet check waited for the flood: done at {quiet_done:?}, the flood at {flood_done:?}"
        );
        assert!(by_namespace.get("flood").copied().unwrap_or(0) > by_namespace.get("quiet").copied().unwrap_or(0));
        assert!(by_namespace.get("quiet").copied().unwrap_or(0) > 0);
    });
}
