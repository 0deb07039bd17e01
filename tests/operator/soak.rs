//! Soak: 10,000 checks over 100 roles and 50 buckets through one collector against moto, each through the
//! reconcile pipeline (collect, diagnose, `status::build`, transition) without the API server's writes.
//! Reports and bounds the peak RSS (target: under 100 MiB) and the AWS calls (one per distinct input).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use crate::support::Moto;
use bucket_access_api::spec::CheckSpec;
use bucket_access_api::status::{build, transition, Projection, Stamp};
use bucket_access_aws::{Collector, CollectorOptions};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use s3_diagnosis::source::ReadAccess;
use s3_diagnosis::{diagnose, Verdict};
use std::sync::Arc;
use std::time::Instant;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The peak RSS is the whole process's: the soak runs in a process of its own (this test binary, asked for
/// the one ignored test below), away from the tests that run beside it.
#[test]
fn ten_thousand_checks_stay_small_and_cost_one_read_per_input() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "soak::the_soak_in_a_process_of_its_own",
            "--nocapture",
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the soak did not run: {text}");
    println!("{text}");
}

#[test]
#[ignore = "run by `ten_thousand_checks_stay_small_and_cost_one_read_per_input`, in a process of its own"]
fn the_soak_in_a_process_of_its_own() {
    let moto = Moto::start();
    let seeded = moto.seed(&["--scale", "100", "50"]);
    let roles = crate::support::strings(&seeded["roles"]);
    let buckets = crate::support::strings(&seeded["buckets"]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let before = peak_rss_kib();
    let started = Instant::now();
    let (checked, calls) = runtime.block_on(async {
        let collector = Arc::new(Collector::from_config(
            &crate::support::moto_sdk_config(&moto),
            CollectorOptions {
                max_attempts: 5,
                ..CollectorOptions::default()
            },
            true,
        ));
        let checks = (0..10_000usize)
            .map(|i| CheckSpec {
                role_arn: Some(roles[i % 100].clone()),
                bucket: buckets[(i / 100) % 50].clone(),
                key: Some(format!("uploads/{i}.csv")),
                ..CheckSpec::default()
            })
            .collect();
        let checked = sweep(&collector, &ReadAccess::default(), checks).await;
        let m = collector.metrics();
        for ((api, outcome, code), n) in m.calls() {
            if outcome != "success" {
                println!("{api} {outcome} {code}: {n}");
            }
        }
        (checked, (m.total(), m.count("iam:GetRole")))
    });
    let elapsed = started.elapsed();
    let peak = peak_rss_kib();
    println!(
        "10000 checks over 100 roles and 50 buckets: {} AWS calls ({} roles read on their own), {:.1?} ({:.0} checks/s), peak RSS {} MiB (before: {} MiB)",
        calls.0,
        calls.1,
        elapsed,
        10_000.0 / elapsed.as_secs_f64(),
        peak / 1024,
        before / 1024
    );
    assert_eq!(checked, 10_000, "every check ran and was Allowed");
    // The account's roles one by one (5 reads each) until 10 of them are known to exist, then its IAM at
    // once: the first batch of 64 checks starts before any role is known, so up to 64 roles are read on
    // their own; per bucket 8, the organization once, and the credentials' account once.
    let (calls, roles_on_their_own) = calls;
    assert!(
        (10..=64).contains(&roles_on_their_own),
        "{roles_on_their_own} roles read on their own"
    );
    assert_eq!(
        calls,
        roles_on_their_own * 5 + 1 + 50 * 8 + 1 + 1,
        "one read per distinct input"
    );
    assert!(
        peak < 100 * 1024,
        "peak RSS {} MiB is over 100 MiB",
        peak / 1024
    );
}

/// `make bench`: 100,000 checks over 1,000 roles in 10 accounts (each read through its reader role) and 10
/// buckets, against moto, through the reconcile pipeline (collect, diagnose, `status::build`, transition;
/// no API server writes), 64 at a time. Reports one full sweep's time and AWS calls (bounded by accounts and
/// buckets, not by checks or roles: each account's IAM is read at once), the peak RSS (bound: 300 MiB), and
/// the calls of 100 policy changes delivered as change events (each marks its role in its account's IAM
/// read, which is not read again: the role is read on its own, and its checks are evaluated again).
#[test]
#[ignore = "a benchmark, run by `make bench` in a process of its own"]
fn a_hundred_thousand_checks() {
    let moto = Moto::start();
    let seeded = moto.seed(&["--scale-accounts", "10", "100", "10"]);
    let roles = crate::support::strings(&seeded["roles"]);
    let buckets = crate::support::strings(&seeded["buckets"]);
    let access = reader_access(&seeded);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()
        .unwrap();
    let collector = Arc::new(Collector::from_config(
        &crate::support::moto_sdk_config(&moto),
        CollectorOptions::default(),
        true,
    ));
    let check = |i: usize| CheckSpec {
        role_arn: Some(roles[i % roles.len()].clone()),
        bucket: buckets[(i / roles.len()) % buckets.len()].clone(),
        bucket_account_id: Some("123456789012".to_owned()),
        key: Some(format!("uploads/{i}.csv")),
        ..CheckSpec::default()
    };
    let started = Instant::now();
    let swept = runtime.block_on(sweep(
        &collector,
        &access,
        (0..100_000).map(check).collect(),
    ));
    let elapsed = started.elapsed();
    let sweep_calls = collector.metrics().total();
    let mut by_api: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for ((service, operation, _), n) in collector.metrics().calls() {
        *by_api.entry(format!("{service}:{operation}")).or_default() += n;
    }
    println!("the sweep's AWS calls: {by_api:?}");
    let peak = peak_rss_kib();
    // 100 policy changes, one role each, delivered as change events: the checks of each role again.
    let changed: Vec<usize> = (0..100).map(|j| j * (roles.len() / 100)).collect();
    for &r in &changed {
        let arn = iam_policy::PrincipalArn::parse(&roles[r]).unwrap();
        collector.invalidate(&bucket_access_aws::events::Change::Principal {
            account: arn.account().to_owned(),
            kind: arn.kind(),
            name: arn.name().to_owned(),
        });
    }
    let again: Vec<CheckSpec> = (0..100_000)
        .filter(|i| changed.contains(&(i % roles.len())))
        .map(check)
        .collect();
    let events_started = Instant::now();
    let re_evaluated = runtime.block_on(sweep(&collector, &access, again));
    let event_calls = collector.metrics().total() - sweep_calls;
    println!(
        "100000 checks over {} roles in {} accounts and {} buckets: one sweep {:.1?} ({:.0} checks/s), {sweep_calls} AWS calls, peak RSS {} MiB; 100 policy changes as events: {re_evaluated} checks evaluated again in {:.1?}, {event_calls} AWS calls",
        roles.len(),
        seeded["accounts"].as_array().unwrap().len(),
        buckets.len(),
        elapsed,
        100_000.0 / elapsed.as_secs_f64(),
        peak / 1024,
        events_started.elapsed(),
    );
    assert_eq!(swept, 100_000, "every check ran");
    // Per account: its first 9 roles on their own (5 reads each: only principals IAM has count towards the
    // threshold), then its IAM at once, the reader role's sessions and identity, the organization; per bucket:
    // its 9 reads.
    let bound = 10 * (8 + 9 * 5) + buckets.len() as u64 * 9;
    assert!(
        sweep_calls <= bound,
        "{sweep_calls} AWS calls for a sweep, over {bound}: not bounded by accounts and buckets"
    );
    assert!(
        peak < 300 * 1024,
        "peak RSS {} MiB is over 300 MiB",
        peak / 1024
    );
    // Each changed role is read on its own (5 reads); no account is read again.
    assert!(
        event_calls <= 100 * 6,
        "{event_calls} AWS calls for 100 changes"
    );
}

/// What the benchmark's checks may read, and as whom: each account through its reader role.
fn reader_access(seeded: &serde_json::Value) -> ReadAccess {
    ReadAccess {
        readers: seeded["readers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(account, role)| {
                let role_arn = role.as_str().unwrap().to_owned();
                (
                    account.clone(),
                    s3_diagnosis::source::ReaderRole {
                        role_arn,
                        external_id: None,
                    },
                )
            })
            .collect(),
        ..ReadAccess::default()
    }
}

/// Evaluates `checks` 64 at a time, as the controller's concurrency would: how many were `Allowed`.
async fn sweep(collector: &Arc<Collector>, access: &ReadAccess, checks: Vec<CheckSpec>) -> usize {
    let now = Time("2026-11-28T10:00:00Z".parse().unwrap());
    let mut allowed = 0;
    let mut tasks = Vec::new();
    for spec in checks {
        let (collector, access, now) = (Arc::clone(collector), access.clone(), now.clone());
        tasks.push(tokio::spawn(async move {
            let target = spec.target().unwrap();
            let snapshot = collector.collect(&target, &access).await;
            let d = diagnose(&snapshot);
            let status = build(
                None,
                Projection::of(&d, Some("sha256:x")).into(),
                &Stamp {
                    generation: Some(1),
                    principal: spec.principal_arn().unwrap_or(""),
                    requested: None,
                    now: now.clone(),
                },
            );
            let _ = transition(None, &status);
            d.verdict == Verdict::Allowed
        }));
        if tasks.len() >= 64 {
            for t in tasks.drain(..) {
                allowed += usize::from(t.await.unwrap());
            }
        }
    }
    for t in tasks {
        allowed += usize::from(t.await.unwrap());
    }
    allowed
}
