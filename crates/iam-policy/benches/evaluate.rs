//! Decisions per second on a realistic shape: 5 identity policies of 10 statements, a 15-statement bucket
//! policy with conditions, a 2-level SCP. Parsing happens once, outside the measured loop.
//! Run: `make bench` (or `cargo bench --bench evaluate`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use iam_policy::case::load_case_value;
use iam_policy::evaluate;
use serde_json::{json, Value};

// The binary's allocator (src/main.rs), so that the figures are the operator's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn identity_policy(n: usize) -> Value {
    let statements: Vec<Value> = (0..10)
        .map(|i| match i {
            0 => json!({"Sid": format!("P{n}S{i}"), "Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectAcl"],
                        "Resource": format!("arn:aws:s3:::doc-example-bucket/team-{n}/*")}),
            1 => json!({"Sid": format!("P{n}S{i}"), "Effect": "Allow", "Action": "s3:Get*",
                        "Resource": "arn:aws:s3:::doc-example-bucket/*"}),
            2 => json!({"Sid": format!("P{n}S{i}"), "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}),
            3 => json!({"Sid": format!("P{n}S{i}"), "Effect": "Allow", "Action": "kms:GenerateDataKey",
                        "Resource": "arn:aws:kms:us-east-1:111122223333:key/*",
                        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}),
            4 => json!({"Sid": format!("P{n}S{i}"), "Effect": "Allow", "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::doc-example-bucket/uploads/*",
                        "Condition": {"StringEquals": {"aws:PrincipalTag/team": format!("team-{n}")}}}),
            _ => json!({"Sid": format!("P{n}S{i}"), "Effect": "Allow", "Action": [format!("ec2:Describe{i}*"), "logs:PutLogEvents"],
                        "Resource": "*"}),
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn bucket_policy() -> Value {
    let role = "arn:aws:iam::111122223333:role/uploader";
    let mut statements = vec![
        json!({"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
               "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        json!({"Sid": "DenyUnencrypted", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
               "Resource": "arn:aws:s3:::doc-example-bucket/*",
               "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}),
        json!({"Sid": "DenyOutsideOrg", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}),
        json!({"Sid": "IPAllow", "Effect": "Allow", "Principal": {"AWS": role}, "Action": "s3:PutObject",
               "Resource": "arn:aws:s3:::doc-example-bucket/*",
               "Condition": {"IpAddress": {"aws:SourceIp": ["54.240.143.0/24", "2001:db8::/32"]}}}),
        json!({"Sid": "AclRequired", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
               "Resource": "arn:aws:s3:::doc-example-bucket/*",
               "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-acl": "bucket-owner-full-control"}}}),
        json!({"Sid": "StorageClass", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
               "Resource": "arn:aws:s3:::doc-example-bucket/*",
               "Condition": {"StringNotEquals": {"s3:x-amz-storage-class": ["STANDARD_IA", "STANDARD"]}}}),
    ];
    for i in statements.len()..15 {
        statements.push(json!({"Sid": format!("Reader{i}"), "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::4444555566{i:02}:root")}, "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::doc-example-bucket", "arn:aws:s3:::doc-example-bucket/*"],
            "Condition": {"ArnLike": {"aws:PrincipalArn": format!("arn:aws:iam::4444555566{i:02}:role/reader-*")}}}));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn case() -> Value {
    let full = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let region_deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "RegionLock", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"],
        "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]});
    json!({
        "name": "bench", "principal": "arn:aws:iam::111122223333:role/uploader", "action": "s3:PutObject",
        "resource": "arn:aws:s3:::doc-example-bucket/team-3/report.csv", "resourceAccount": "111122223333",
        "context": {"aws:SourceIp": "54.240.143.7", "aws:SecureTransport": "true", "aws:PrincipalOrgID": "o-abc123",
                    "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-acl": "bucket-owner-full-control",
                    "s3:x-amz-storage-class": "STANDARD_IA", "aws:RequestedRegion": "us-east-1",
                    "aws:PrincipalTag/team": "team-3"},
        "identityPolicies": (0..5).map(identity_policy).collect::<Vec<_>>(),
        "scps": [[full.clone()], [full, region_deny]],
        "resourcePolicy": bucket_policy(),
    })
}

fn bench(c: &mut Criterion) {
    let allowed = load_case_value(&case(), "bench").expect("bench case");
    let first = evaluate(&allowed.request, &allowed.policies);
    assert_eq!(first.decision, iam_policy::Decision::Allowed, "{first:?}");
    let mut denied_value = case();
    denied_value["context"]["aws:SourceIp"] = json!("203.0.113.9");
    denied_value["context"]["s3:x-amz-acl"] = json!("public-read");
    let denied = load_case_value(&denied_value, "bench-denied").expect("bench case");

    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("realistic-allowed", |b| {
        b.iter(|| evaluate(black_box(&allowed.request), black_box(&allowed.policies)))
    });
    group.bench_function("realistic-denied", |b| {
        b.iter(|| evaluate(black_box(&denied.request), black_box(&denied.policies)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
