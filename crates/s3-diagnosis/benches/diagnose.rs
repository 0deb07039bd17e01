//! Full diagnosis of a realistic snapshot: an SSE-KMS upload through a VPC endpoint by a role with five
//! identity policies, a permissions boundary, two SCP levels, a 15-statement bucket policy with conditions,
//! and a key policy. Run: `make bench` (or `cargo bench --bench diagnose`).

#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use s3_diagnosis::snapshot::Snapshot;
use s3_diagnosis::{diagnose, Verdict};
use serde_json::{json, Value};

// The binary's allocator (src/main.rs), so that the figures are the operator's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROLE: &str = "arn:aws:iam::111122223333:role/uploader";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn identity(n: usize) -> Value {
    let statements: Vec<Value> = (0..10)
        .map(|i| match i {
            0 => json!({"Sid": format!("Upload{n}"), "Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectAcl"], "Resource": "arn:aws:s3:::doc-example-bucket/*"}),
            1 => json!({"Sid": format!("Key{n}"), "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": KEY,
                         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}),
            2 => json!({"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}),
            _ => json!({"Effect": "Allow", "Action": [format!("ec2:Describe{i}*"), "logs:PutLogEvents"], "Resource": "*"}),
        })
        .collect();
    json!({"id": format!("arn:aws:iam::111122223333:policy/P{n}"), "name": format!("P{n}"), "source": "managed",
           "document": {"Version": "2012-10-17", "Statement": statements}})
}

fn bucket_policy() -> Value {
    let mut statements = vec![
        json!({"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        json!({"Sid": "DenyWrongKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::doc-example-bucket/*",
               "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}}}),
        json!({"Sid": "VpceOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::doc-example-bucket/*",
               "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}),
        json!({"Sid": "AclRequired", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::doc-example-bucket/*",
               "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-acl": "bucket-owner-full-control"}}}),
    ];
    for i in statements.len()..15 {
        statements.push(json!({"Sid": format!("Reader{i}"), "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::4444555566{i:02}:root")},
            "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::doc-example-bucket/*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": format!("arn:aws:iam::4444555566{i:02}:role/reader-*")}}}));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn snapshot() -> Snapshot {
    let full = json!({"id": "p-FullAWSAccess", "name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}});
    let region = json!({"id": "p-region", "name": "RegionLock", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]}});
    serde_json::from_value(json!({
        "version": 1,
        "request": {"principalArn": ROLE, "bucket": "doc-example-bucket", "key": "uploads/report.csv",
                    "upload": {"acl": "bucket-owner-full-control", "serverSideEncryption": "aws:kms", "sseKmsKeyId": KEY, "multipart": true, "storageClass": "STANDARD_IA"},
                    "network": {"vpcEndpointId": "vpce-1a2b3c4d", "vpcId": "vpc-0abc1234"}},
        "principal": {"arn": ROLE, "accountId": "111122223333", "kind": "role", "tags": {"team": "media"},
                      "policies": (0..5).map(identity).collect::<Vec<_>>(),
                      "permissionsBoundary": {"id": "arn:aws:iam::111122223333:policy/Boundary", "name": "Boundary",
                          "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}}},
        "organization": {"id": "o-abc123", "scps": [[full], [region.clone(), {"id": "p-full2", "name": "FullAWSAccess", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]], "rcps": []},
        "bucket": {"name": "doc-example-bucket", "accountId": "111122223333", "region": "us-east-1", "policy": bucket_policy(),
                   "ownership": "BucketOwnerEnforced", "publicAccessBlock": {"blockPublicAcls": true, "ignorePublicAcls": true, "blockPublicPolicy": true, "restrictPublicBuckets": true},
                   "encryption": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY, "bucketKeyEnabled": true}},
        "vpcEndpoint": {"id": "vpce-1a2b3c4d", "vpcId": "vpc-0abc1234", "serviceName": "com.amazonaws.us-east-1.s3", "type": "Gateway",
                        "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}},
        "kmsKeys": [{"arn": KEY, "accountId": "111122223333", "region": "us-east-1", "aliases": ["alias/uploads"], "keyManager": "CUSTOMER",
                     "keyState": "Enabled", "keySpec": "SYMMETRIC_DEFAULT",
                     "policy": {"Version": "2012-10-17", "Statement": [{"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]},
                     "grants": []}],
        "unavailable": [],
        "collectedAt": "2026-11-28T10:00:00Z"
    }))
    .expect("bench snapshot")
}

fn bench(c: &mut Criterion) {
    let allowed = snapshot();
    assert_eq!(
        diagnose(&allowed).verdict,
        Verdict::Allowed,
        "{:?}",
        diagnose(&allowed)
    );
    let mut denied = allowed.clone();
    denied.request.upload.storage_class = Some("STANDARD".into());
    denied.request.network.vpc_endpoint_id = None;
    denied.request.upload.sse_kms_key_id = None;
    assert_eq!(diagnose(&denied).verdict, Verdict::Denied);
    // The denied figure includes the whole-check fix: its search re-diagnoses the fixed copy until Allowed.
    assert!(diagnose(&denied).fix.is_some_and(|f| f.verified));
    // `DIAGNOSE_LOOP=N`: N diagnoses and nothing else, for counting instructions with callgrind (run with N
    // and N + 20; the difference over 20 is one diagnosis).
    if let Some(n) = std::env::var("DIAGNOSE_LOOP")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        // `DIAGNOSE_DENIED=1`: the denied snapshot instead (with its fix search).
        let which = if std::env::var_os("DIAGNOSE_DENIED").is_some() {
            &denied
        } else {
            &allowed
        };
        for _ in 0..n {
            black_box(diagnose(black_box(which)));
        }
        std::process::exit(0);
    }
    c.bench_function("diagnose/realistic-allowed", |b| {
        b.iter(|| diagnose(black_box(&allowed)))
    });
    c.bench_function("diagnose/realistic-denied-3-causes", |b| {
        b.iter(|| diagnose(black_box(&denied)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
