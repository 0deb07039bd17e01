//! The fault suite: for six seeded checks (an upload under a permissions boundary, one denied by the bucket
//! policy, one denied by an SCP of a member account read through its reader role, one with a KMS key, one
//! through an access point, a download), every AWS read of its clean run gets every fault (throttling,
//! a 5xx answer, a reset, a delay past the timeouts, an empty 200, a cut-off 200, an access denial), on every
//! call; throttling, 5xx answers and resets also on the first call only. The suite asserts, for every run:
//! - a check whose clean answer is not `Allowed` never becomes `Allowed`;
//! - an answer that turns `Unknown` names the read that failed (its operation, in `unknown`);
//! - a fault on the first call only is retried, and the answer is the clean one;
//! - every run ends within the documented bound.
//!
//! The collector runs with a short timeout and few attempts set through the product's own settings
//! (`check --aws-timeout-seconds 3`, 10 for retried faults, `AWS_MAX_ATTEMPTS=3`): the same code path, a few minutes for the whole
//! suite. The counts are printed.

use crate::support::fault_proxy::{Fault, FaultProxy};
use crate::support::{aws_env, manifest, Moto, TempDir};
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

/// The bound on one `check` run under persistent faults with these settings: every read fails within the
/// operation timeout (3 s, 10 s for retried faults), and a check makes its reads in a few dependent rounds
/// (principal, then its policies; bucket Region, then the bucket's settings; key, then its policy).
const BOUND: Duration = Duration::from_secs(40);

/// One run of `check` through the proxy: (verdict, the diagnosis, how long it took).
fn run(proxy: &FaultProxy, file: &std::path::Path, timeout: &str) -> (String, Value, Duration) {
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"));
    cmd.args([
        "check",
        "-f",
        file.to_str().unwrap(),
        "-o",
        "json",
        "--aws-timeout-seconds",
        timeout,
    ]);
    aws_env(
        &mut cmd,
        &format!("http://127.0.0.1:{}", proxy.port),
        "testing",
        "testing",
    );
    cmd.env("AWS_MAX_ATTEMPTS", "3");
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let d: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    let verdict = d["verdict"].as_str().unwrap_or_default().to_owned();
    (verdict, d, started.elapsed())
}

/// Whether the diagnosis names `operation` among what could not be read: `service:Operation`, whole.
fn names(d: &Value, operation: &str) -> bool {
    let (service, op) = match operation.strip_suffix(" (s3control)") {
        Some(op) => ("s3control:", op),
        None => (":", operation),
    };
    let whole = |reason: &str| {
        reason.match_indices(op).any(|(at, _)| {
            let before = reason[..at].ends_with(service)
                && (service != ":" || !reason[..at].ends_with("s3control:"));
            let after = reason[at + op.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            before && after
        })
    };
    d["unknown"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|u| u["reason"].as_str().is_some_and(whole))
}

/// One job: which check (an index into the clean runs), which operation, which fault, on which calls.
type Job = (usize, String, Fault, Option<u32>);

/// A check's clean run: its name, its manifest, its verdict.
type Clean<'a> = (&'a str, std::path::PathBuf, String);

/// Runs `jobs` through a proxy of its own: (runs, the slowest, what failed).
fn worker(port: u16, jobs: Vec<Job>, cleans: &[Clean<'_>]) -> (usize, Duration, Vec<String>) {
    let proxy = FaultProxy::start(port);
    let (mut runs, mut slowest, mut failures) = (0, Duration::ZERO, Vec::new());
    for (check, read, fault, first) in jobs {
        let (name, file, clean) = &cleans[check];
        proxy.plan(Some((&read, fault, first)));
        // A fault on every call runs into the timeout (3 s: an attempt gets half, past which the delayed
        // answer comes); one on the first calls is retried within it, and the standard backoff (about 1 s,
        // then 2 s) needs room: 10 s there (the product's default is 30 s). Generous enough for a loaded
        // machine: a read that times out for another reason would make the run Unknown for it.
        let timeout = if first.is_some() { "10" } else { "3" };
        let (verdict, d, took) = run(&proxy, file, timeout);
        runs += 1;
        slowest = slowest.max(took);
        let what = format!("{name}: {read} {fault:?} (first: {first:?})");
        if proxy.injected() == 0 {
            failures.push(format!("{what}: the read was not made again"));
            continue;
        }
        if verdict == "Allowed" && clean != "Allowed" {
            failures.push(format!("{what}: {clean} became Allowed"));
        }
        // A failed read makes an answer Unknown or leaves it as it was: never another definite answer.
        if verdict != *clean && verdict != "Unknown" {
            failures.push(format!(
                "{what}: {clean} became {verdict}: {}",
                d["summary"]
            ));
        }
        if first.is_some() && verdict != *clean {
            failures.push(format!(
                "{what}: a retried fault gave {verdict}, not {clean}: {}",
                d["summary"]
            ));
        }
        if verdict == "Unknown" && !names(&d, &read) {
            failures.push(format!(
                "{what}: Unknown without naming `{read}`: {}",
                d["unknown"]
            ));
        }
        if took > BOUND {
            failures.push(format!("{what}: took {took:?}, over {BOUND:?}"));
        }
    }
    (runs, slowest, failures)
}

#[test]
fn every_fault_on_every_read_fails_closed() {
    let moto = Moto::start();
    let seeded = moto.seed(&[]);
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let dir = TempDir::new("fault-suite");
    let checks = [
        (
            "bounded",
            json!({"roleArn": s("boundedUploader"), "bucket": s("plainBucket")}),
        ),
        (
            "scp-denied",
            json!({"roleArn": s("memberUploader"), "bucket": s("memberBucket"),
                   "bucketAccountId": s("memberAccount"),
                   "readRoleArns": {s("memberAccount"): s("readerMember")}}),
        ),
        (
            "sse-denied",
            json!({"roleArn": s("uploader"), "bucket": seeded["conditionBuckets"]["sse"]}),
        ),
        (
            "kms",
            json!({"roleArn": s("kmsUploader"), "bucket": s("plainBucket"),
                   "upload": {"serverSideEncryption": "aws:kms", "sseKmsKeyId": s("keyA")}}),
        ),
        (
            "access-point",
            json!({"roleArn": s("apUploader"), "accessPoint": seeded["accessPoints"]["uploads"]["arn"]}),
        ),
        (
            "download",
            json!({"roleArn": s("downloader"), "bucket": s("plainBucket"), "key": "reports/q3.csv",
                   "actions": ["GetObject"]}),
        ),
    ];
    // The clean run of each check, and the operations it reads.
    let clean_proxy = FaultProxy::start(moto.port);
    let mut jobs = Vec::new();
    let mut cleans = Vec::new();
    for (name, spec) in checks {
        let file = manifest(&dir.0, name, spec);
        clean_proxy.plan(None);
        let (clean, clean_d, _) = run(&clean_proxy, &file, "10");
        let reads = clean_proxy.seen();
        assert!(reads.len() >= 5, "{name}: only {reads:?} read");
        assert!(
            clean != "Unknown",
            "{name}: the clean run is Unknown: {clean_d}"
        );
        let mut plans: Vec<(Fault, Option<u32>)> = Fault::ALL.iter().map(|f| (*f, None)).collect();
        plans.extend([Fault::Throttle, Fault::ServerError, Fault::Reset].map(|f| (f, Some(1))));
        // Two throttled answers in a row, within three attempts.
        plans.push((Fault::Throttle, Some(2)));
        for read in reads {
            for (fault, first) in &plans {
                jobs.push((cleans.len(), read.clone(), *fault, *first));
            }
        }
        cleans.push((name, file, clean));
    }
    // The runs wait on moto and on timeouts more than on the processor: four at a time, each through a
    // proxy of its own.
    let workers = 4;
    let results: Vec<(usize, Duration, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let jobs: Vec<_> = jobs.iter().skip(w).step_by(workers).cloned().collect();
                let cleans = &cleans[..];
                let port = moto.port;
                scope.spawn(move || worker(port, jobs, cleans))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let runs: usize = results.iter().map(|r| r.0).sum();
    let slowest = results.iter().map(|r| r.1).max().unwrap_or_default();
    let failures: Vec<String> = results.into_iter().flat_map(|r| r.2).collect();
    println!("fault suite: {runs} runs, slowest {slowest:?}");
    assert!(runs > 100, "only {runs} runs");
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
