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
use bucket_access_api::status::{build, transition, Outcome, Projection};
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
        let now = Time("2026-11-28T10:00:00Z".parse().unwrap());
        let mut tasks = Vec::new();
        let mut checked = 0usize;
        for i in 0..10_000usize {
            let collector = Arc::clone(&collector);
            let now = now.clone();
            let spec = CheckSpec {
                role_arn: Some(roles[i % 100].clone()),
                bucket: buckets[(i / 100) % 50].clone(),
                key: Some(format!("uploads/{i}.csv")),
                ..CheckSpec::default()
            };
            let Ok(target) = spec.target() else {
                panic!("the soak's check {spec:?} is not valid");
            };
            tasks.push(tokio::spawn(async move {
                let snapshot = collector.collect(&target, &ReadAccess::default()).await;
                let d = diagnose(&snapshot);
                let status = build(
                    None,
                    Outcome::Diagnosed(&Projection::of(&d, "sha256:x")),
                    Some(1),
                    spec.principal_arn().unwrap_or(""),
                    &now,
                    "t",
                );
                let _ = transition(None, &status);
                d.verdict
            }));
            // A controller reconciles with bounded concurrency; so does this soak.
            if tasks.len() >= 64 {
                for t in tasks.drain(..) {
                    assert_eq!(t.await.unwrap(), Verdict::Allowed);
                    checked += 1;
                }
            }
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Verdict::Allowed);
            checked += 1;
        }
        let m = collector.metrics();
        for ((api, outcome, code), n) in m.calls() {
            if outcome != "success" {
                println!("{api} {outcome} {code}: {n}");
            }
        }
        (checked, m.total())
    });
    let elapsed = started.elapsed();
    let peak = peak_rss_kib();
    println!(
        "10000 checks over 100 roles and 50 buckets: {calls} AWS calls, {:.1?} ({:.0} checks/s), peak RSS {} MiB (before: {} MiB)",
        elapsed,
        10_000.0 / elapsed.as_secs_f64(),
        peak / 1024,
        before / 1024
    );
    assert_eq!(checked, 10_000, "every check ran");
    // Per role 5 reads, per bucket 8, the organization once, and the credentials' account once.
    assert_eq!(
        calls,
        100 * 5 + 50 * 8 + 1 + 1,
        "one read per distinct input"
    );
    assert!(
        peak < 100 * 1024,
        "peak RSS {} MiB is over 100 MiB",
        peak / 1024
    );
}
