//! Hostile inputs grow linearly: a bucket policy of N matching Deny statements (each a cause), and wildcard
//! patterns of length k against request values of length n, with and without `?`. Run:
//! `cargo bench -p s3-diagnosis --bench pathological`.

#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use iam_policy::case::{load_case_value, CaseResult};
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::{diagnose, Verdict};
use serde_json::{json, Value};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn denies(n: usize) -> Snapshot {
    let statements: Vec<Value> = (0..n)
        .map(|i| json!({"Sid": format!("D{i}"), "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::doc-example-bucket/*",
                        "Condition": {"StringNotEquals": {"s3:x-amz-acl": format!("v{i}")}}}))
        .collect();
    serde_json::from_value(json!({
        "version": 1,
        "request": {"principalArn": "arn:aws:iam::111122223333:role/uploader", "bucket": "doc-example-bucket"},
        "principal": {"arn": "arn:aws:iam::111122223333:role/uploader", "accountId": "111122223333", "kind": "role",
            "policies": [{"id": "p", "name": "p", "document": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}]}}]},
        "bucket": {"name": "doc-example-bucket", "accountId": "111122223333", "region": "us-east-1",
            "policy": {"Version": "2012-10-17", "Statement": statements}},
        "collectedAt": "2026-11-28T10:00:00Z"
    }))
    .expect("snapshot")
}

fn wildcard_case(pattern: &str, value: &str) -> iam_policy::case::Case {
    load_case_value(
        &json!({"name": "w", "principal": "arn:aws:iam::111122223333:role/r", "action": "s3:PutObject",
            "resource": "arn:aws:s3:::b/k", "resourceAccount": "111122223333", "context": {"s3:x-amz-acl": value},
            "identityPolicies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                "Resource": "*", "Condition": {"StringLike": {"s3:x-amz-acl": pattern}}}]}]}),
        "w",
    )
    .expect("case")
}

fn matching_denies(c: &mut Criterion) {
    let mut group = c.benchmark_group("matching-denies");
    group.sample_size(10);
    for n in [250, 500, 1000, 2000] {
        let snapshot = denies(n);
        assert_eq!(diagnose(&snapshot).verdict, Verdict::Denied);
        group.bench_with_input(BenchmarkId::from_parameter(n), &snapshot, |b, s| {
            b.iter(|| diagnose(black_box(s)))
        });
    }
    group.finish();
}

fn wildcards(c: &mut Criterion) {
    let mut group = c.benchmark_group("wildcard");
    for n in [1000, 2000, 4000] {
        // `*` then n-1 literals that almost match, against n characters: never a match.
        let star = wildcard_case(&format!("*{}b", "a".repeat(n - 1)), &"a".repeat(n));
        let question = wildcard_case(&format!("*{}b", "a?".repeat(n / 2)), &"a".repeat(n));
        for (name, case) in [("star", &star), ("star-question", &question)] {
            assert_eq!(
                CaseResult::evaluate(case).decision,
                iam_policy::Decision::ImplicitDeny
            );
            group.bench_with_input(BenchmarkId::new(name, n), case, |b, case| {
                b.iter(|| CaseResult::evaluate(black_box(case)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, matching_denies, wildcards);
criterion_main!(benches);
