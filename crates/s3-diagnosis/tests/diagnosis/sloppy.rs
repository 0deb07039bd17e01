//! Sloppy spellings never turn a denial into `Allowed`. For every enumerated or formatted field of a check, a
//! bucket policy denies the upload when the field has one value; the check with that value is `Denied`, and
//! every near miss of it (another case, a prefix, another separator, padding) is either refused (`Invalid`,
//! naming the field) or still denied for the same causes.

use s3_diagnosis::{diagnose, snapshot::Snapshot, Verdict};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const ROLE: &str = "arn:aws:iam::111122223333:role/uploader";
const OBJECTS: &str = "arn:aws:s3:::doc-example-bucket/*";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const CANONICAL_ID: &str = "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

/// One field: where it sits in the request, its denied value, the condition that denies it, and the other
/// request fields it needs (a KMS key id needs SSE-KMS, a VPC id an endpoint).
struct Field {
    path: [&'static str; 2],
    value: &'static str,
    condition: Value,
    with: Value,
}

fn fields() -> Vec<Field> {
    let eq = |key: &str, value: &str| json!({"StringEquals": {key: value}});
    vec![
        Field {
            path: ["upload", "acl"],
            value: "bucket-owner-full-control",
            condition: eq("s3:x-amz-acl", "bucket-owner-full-control"),
            with: json!({}),
        },
        Field {
            path: ["upload", "grantFullControl"],
            value: CANONICAL_ID,
            condition: eq("s3:x-amz-grant-full-control", CANONICAL_ID),
            with: json!({}),
        },
        Field {
            path: ["upload", "storageClass"],
            value: "STANDARD_IA",
            condition: eq("s3:x-amz-storage-class", "STANDARD_IA"),
            with: json!({}),
        },
        Field {
            path: ["upload", "serverSideEncryption"],
            value: "AES256",
            condition: eq("s3:x-amz-server-side-encryption", "AES256"),
            with: json!({}),
        },
        Field {
            path: ["upload", "sseKmsKeyId"],
            value: KEY,
            condition: eq("s3:x-amz-server-side-encryption-aws-kms-key-id", KEY),
            with: json!({"upload": {"serverSideEncryption": "aws:kms"}}),
        },
        Field {
            path: ["upload", "sseCustomerAlgorithm"],
            value: "AES256",
            condition: eq(
                "s3:x-amz-server-side-encryption-customer-algorithm",
                "AES256",
            ),
            with: json!({}),
        },
        Field {
            path: ["upload", "objectLockMode"],
            value: "COMPLIANCE",
            condition: eq("s3:object-lock-mode", "COMPLIANCE"),
            with: json!({"upload": {"objectLockRetainUntilDate": "2031-01-01T00:00:00Z"}}),
        },
        Field {
            path: ["upload", "objectLockRetainUntilDate"],
            value: "2031-01-01T00:00:00Z",
            condition: json!({"DateGreaterThan": {"s3:object-lock-retain-until-date": "2030-01-01T00:00:00Z"}}),
            with: json!({"upload": {"objectLockMode": "GOVERNANCE"}}),
        },
        Field {
            path: ["upload", "objectLockLegalHold"],
            value: "ON",
            condition: eq("s3:object-lock-legal-hold", "ON"),
            with: json!({}),
        },
        Field {
            path: ["upload", "expectedBucketOwner"],
            value: "111122223333",
            condition: eq("s3:ResourceAccount", "111122223333"),
            with: json!({}),
        },
        Field {
            path: ["network", "tlsVersion"],
            value: "1.1",
            condition: json!({"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
            with: json!({}),
        },
        Field {
            path: ["network", "sourceIp"],
            value: "54.240.143.7",
            condition: json!({"IpAddress": {"aws:SourceIp": "54.240.143.0/24"}}),
            with: json!({}),
        },
        Field {
            path: ["network", "vpcEndpointId"],
            value: "vpce-1a2b3c4d",
            condition: eq("aws:SourceVpce", "vpce-1a2b3c4d"),
            with: json!({"network": {"vpcId": "vpc-0abc1234"}}),
        },
        Field {
            path: ["network", "vpcId"],
            value: "vpc-0abc1234",
            condition: eq("aws:SourceVpc", "vpc-0abc1234"),
            with: json!({"network": {"vpcEndpointId": "vpce-1a2b3c4d"}}),
        },
    ]
}

/// Near misses of a value: other cases, prefixes, other separators, padding (each different from it).
fn near_misses(value: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::from([
        value.to_lowercase(),
        value.to_uppercase(),
        format!("TLSv{value}"),
        format!("x-{value}"),
        format!(" {value}"),
        format!("{value} "),
        format!("\"{value}\""),
        value.replace('.', ","),
        value.replace('-', "_"),
        value.replace('_', "-"),
        value.replace(':', "-"),
        value.replace('=', ":"),
        value.replace('T', " "),
        value.replace('-', "/"),
    ]);
    let mut first_upper = value.to_lowercase();
    if let Some(first) = first_upper.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    out.insert(first_upper);
    out.remove(value);
    out
}

/// A snapshot whose identity policy allows every S3 and KMS action, and whose bucket policy denies
/// everything under `condition`; `request` is merged into the check's request.
fn snapshot(request: &Value, condition: &Value) -> Snapshot {
    let allow_all = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AllowAll", "Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]});
    let mut full_request = json!({"principalArn": ROLE, "bucket": "doc-example-bucket", "key": "uploads/f.jpg",
        "upload": {}, "network": {}});
    for part in ["upload", "network"] {
        if let Some(fields) = request.get(part).and_then(Value::as_object) {
            for (k, v) in fields {
                full_request[part][k] = v.clone();
            }
        }
    }
    let endpoint = full_request["network"].get("vpcEndpointId").map(|_| {
        json!({"id": "vpce-1a2b3c4d", "vpcId": "vpc-0abc1234", "serviceName": "com.amazonaws.us-east-1.s3",
               "type": "Gateway", "policy": {"Version": "2012-10-17", "Statement": [
                   {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}})
    });
    let key = json!({"arn": KEY, "accountId": "111122223333", "region": "us-east-1", "aliases": [],
        "keyManager": "CUSTOMER", "keyState": "Enabled", "keySpec": "SYMMETRIC_DEFAULT", "grants": [],
        "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}]}});
    serde_json::from_value(json!({
        "version": 1,
        "request": full_request,
        "principal": {"arn": ROLE, "accountId": "111122223333", "kind": "role",
            "policies": [{"id": "arn:aws:iam::111122223333:policy/AllowAll", "name": "AllowAll", "document": allow_all}]},
        "bucket": {"name": "doc-example-bucket", "accountId": "111122223333", "region": "us-east-1",
            "ownership": "ObjectWriter", "objectLockEnabled": true,
            "policy": {"Version": "2012-10-17", "Statement": [{"Sid": "DenyTheValue", "Effect": "Deny",
                "Principal": "*", "Action": "s3:*", "Resource": OBJECTS, "Condition": condition}]}},
        "vpcEndpoint": endpoint,
        "kmsKeys": [key],
        "collectedAt": "2026-11-28T10:00:00Z"
    }))
    .unwrap()
}

fn request_with(field: &Field, value: &str) -> Value {
    let mut request = field.with.clone();
    let [part, name] = field.path;
    if request.get(part).is_none() {
        request[part] = json!({});
    }
    request[part][name] = json!(value);
    request
}

fn error_causes(snapshot: &Snapshot) -> (Verdict, BTreeSet<String>, String) {
    let d = diagnose(snapshot);
    let ids = d.causes.iter().map(|c| c.id.as_str().to_owned()).collect();
    (d.verdict, ids, d.summary)
}

#[test]
fn a_near_miss_of_a_denied_value_is_refused_or_still_denied() {
    let mut refused = 0;
    for field in fields() {
        let name = field.path.join(".");
        let (verdict, denied_causes, summary) = error_causes(&snapshot(
            &request_with(&field, field.value),
            &field.condition,
        ));
        assert_eq!(
            verdict,
            Verdict::Denied,
            "{name} `{}`: {summary}",
            field.value
        );
        assert!(!denied_causes.is_empty(), "{name}: no cause");
        for miss in near_misses(field.value) {
            let (verdict, causes, summary) =
                error_causes(&snapshot(&request_with(&field, &miss), &field.condition));
            match verdict {
                Verdict::Invalid => {
                    assert!(summary.contains(&name), "{name} `{miss}`: {summary}");
                    refused += 1;
                }
                Verdict::Denied => assert_eq!(causes, denied_causes, "{name} `{miss}`: {summary}"),
                other => panic!(
                    "{name} `{miss}` is {other:?} where `{}` is Denied: {summary}",
                    field.value
                ),
            }
        }
    }
    assert!(refused > 100, "only {refused} near misses were refused");
}
