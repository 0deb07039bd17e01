//! Faults: a read AWS denies, throttling that outlasts the retries, AWS gone. The result is `Unknown` with the
//! failing API named, never `Allowed`, never a panic. Each test has its own moto on 127.0.0.1.

use crate::support::{aws_env, manifest, Moto, TempDir, ThrottleProxy};
use serde_json::{json, Value};
use std::process::Command;

fn check(
    endpoint: &str,
    key: &str,
    secret: &str,
    file: &std::path::Path,
    extra: &[(&str, &str)],
) -> (i32, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"));
    cmd.args(["check", "-f", file.to_str().unwrap(), "-o", "json"]);
    aws_env(&mut cmd, endpoint, key, secret);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let d = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), d)
}

fn unknown_reason(d: &Value, layer: &str) -> String {
    d["unknown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["layer"] == layer)
        .map(|u| u["reason"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no unknown layer `{layer}`: {d}"))
}

#[test]
fn a_denied_read_is_unknown_and_names_the_api() {
    let moto = Moto::start();
    let seeded = moto.seed(&["--limited-user"]);
    let dir = TempDir::new("denied");
    let file = manifest(
        &dir.0,
        "denied",
        json!({"roleArn": seeded["uploader"], "bucket": seeded["bucket"]}),
    );
    // With the same keys and enforcement off, the check is Allowed: the deny below is what changes it.
    let key = seeded["accessKeyId"].as_str().unwrap();
    let secret = seeded["secretAccessKey"].as_str().unwrap();
    let skip = [("AWS_ENDPOINT_URL_S3_CONTROL", "http://localhost:9")];
    // The EC2 call is signed by our own code (crates/bucket-access-aws/src/ec2.rs): with enforcement on, moto checks its SigV4
    // signature: EC2's own "no such endpoint" answer proves it, and a wrong secret is refused (AuthFailure).
    let vpce = manifest(
        &dir.0,
        "vpce",
        json!({"roleArn": seeded["uploader"], "bucket": seeded["bucket"],
               "network": {"vpcEndpointId": "vpce-0123456789abcdef0"}}),
    );
    moto.set_auth("0");
    let (code, d) = check(&moto.endpoint(), key, secret, &file, &skip);
    let (_, signed) = check(&moto.endpoint(), key, secret, &vpce, &skip);
    let (_, forged) = check(&moto.endpoint(), key, "not-the-secret", &vpce, &skip);
    moto.set_auth("inf");
    let endpoint_read = unknown_reason(&signed, "vpcEndpointPolicy");
    assert!(
        endpoint_read.contains("InvalidVpcEndpointId.NotFound")
            && !endpoint_read.contains("AuthFailure"),
        "{endpoint_read}"
    );
    // With a wrong secret moto's enforcement refuses the first call: the caller identity, which every read
    // by id is checked against before EC2 is called. (The signed check above reaching EC2's own answer,
    // `InvalidVpcEndpointId.NotFound`, under this enforcement is what shows EC2's signature is right.)
    let endpoint_read = unknown_reason(&forged, "vpcEndpointPolicy");
    assert!(
        endpoint_read.contains("sts:GetCallerIdentity") && endpoint_read.contains("HTTP 403"),
        "a wrong secret must fail: {endpoint_read}"
    );
    assert_eq!(d["verdict"], "Unknown", "{d}");
    assert_eq!(code, 3);
    let reason = unknown_reason(&d, "identity");
    // moto's IAM error body carries no code the SDK can read; the HTTP status says it.
    assert!(
        reason.contains("HTTP 403 (access denied)") && reason.contains("iam:GetRole"),
        "{reason}"
    );
    assert!(
        d["summary"].as_str().unwrap().contains("iam:GetRole"),
        "{}",
        d["summary"]
    );
}

#[test]
fn throttling_beyond_the_retries_is_unknown() {
    let moto = Moto::start();
    let seeded = moto.seed(&["--limited-user"]);
    let proxy = ThrottleProxy::start(moto.port, |request| request.contains("Action=GetRole"));
    // Standard retries here (the product defaults to adaptive, whose client-side rate limiting can outlast
    // the operation timeout: also Unknown, but the message is then the timeout, not the code).
    let dir = TempDir::new("throttle");
    let file = manifest(
        &dir.0,
        "throttled",
        json!({"roleArn": seeded["uploader"], "bucket": seeded["bucket"]}),
    );
    let endpoint = format!("http://127.0.0.1:{}", proxy.port);
    let (code, d) = check(
        &endpoint,
        "testing",
        "testing",
        &file,
        &[("AWS_MAX_ATTEMPTS", "3"), ("AWS_RETRY_MODE", "standard")],
    );
    assert_eq!(d["verdict"], "Unknown", "{d}");
    assert_eq!(code, 3);
    let reason = unknown_reason(&d, "identity");
    assert!(
        reason.contains("Throttling") && reason.contains("iam:GetRole"),
        "{reason}"
    );
    // Every attempt was made and answered by the throttle, none reached moto.
    assert_eq!(proxy.throttled.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn aws_gone_is_unknown_for_every_layer_it_needed() {
    let mut moto = Moto::start();
    let seeded = moto.seed(&["--limited-user"]);
    let dir = TempDir::new("gone");
    let file = manifest(
        &dir.0,
        "gone",
        json!({"roleArn": seeded["uploader"], "bucket": seeded["bucket"]}),
    );
    let endpoint = moto.endpoint();
    let (before, _) = check(
        &endpoint,
        "testing",
        "testing",
        &file,
        &[("AWS_ENDPOINT_URL_S3_CONTROL", "http://localhost:9")],
    );
    assert_ne!(before, 3, "with moto up the check is decided");
    moto.stop();
    let (code, d) = check(
        &endpoint,
        "testing",
        "testing",
        &file,
        &[("AWS_MAX_ATTEMPTS", "2")],
    );
    assert_eq!(d["verdict"], "Unknown", "{d}");
    assert_eq!(code, 3);
    for layer in ["bucketPolicy", "bucketEncryption"] {
        let reason = unknown_reason(&d, layer);
        assert!(reason.contains("s3:GetBucketLocation"), "{layer}: {reason}");
    }
    // The first call for the principal asks which account the credentials belong to.
    let identity = unknown_reason(&d, "identity");
    assert!(identity.contains("sts:GetCallerIdentity"), "{identity}");
}

/// Every bucket read names the account the check expects to own the bucket (`ExpectedBucketOwner`), so that
/// another account's bucket of the same name answers 403 rather than being read as the check's. moto
/// ignores the header: a proxy refuses every bucket request without it, and the check must still be decided.
#[test]
fn every_bucket_read_names_the_expected_owner() {
    let moto = Moto::start();
    let seeded = moto.seed(&["--limited-user"]);
    let proxy = ThrottleProxy::start(moto.port, |request| {
        let lower = request.to_ascii_lowercase();
        // S3's own calls: not the Query APIs (`Action=`), not s3control's account-level ones.
        let bucket_call = lower.starts_with("get /")
            && !lower.contains("action=")
            && !lower.starts_with("get /v20180820/");
        bucket_call && !lower.contains("x-amz-expected-bucket-owner: 123456789012")
    });
    let dir = TempDir::new("owner");
    let file = manifest(
        &dir.0,
        "owned",
        json!({"roleArn": seeded["uploader"], "bucket": seeded["bucket"]}),
    );
    let endpoint = format!("http://127.0.0.1:{}", proxy.port);
    let (_, d) = check(
        &endpoint,
        "testing",
        "testing",
        &file,
        &[("AWS_MAX_ATTEMPTS", "1"), ("AWS_RETRY_MODE", "standard")],
    );
    let unknown = d["unknown"].to_string();
    assert!(
        !unknown.contains("s3:"),
        "a bucket read went without the owner: {unknown}"
    );
    assert_eq!(
        proxy.throttled.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "{d}"
    );
}
