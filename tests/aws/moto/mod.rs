//! The collector and the `check` / `snapshot` commands against a real moto server, through the real AWS SDK
//! and standard configuration only (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3_CONTROL`, and `HTTP_PROXY` for
//! s3control's `<account>.localhost` host names: see `support::localhost_proxy`). One moto is seeded
//! with the seed article's situations (`tests/moto/seed.py`) and every check runs the real binary.

use crate::support::{manifest, Moto, TempDir};
use serde_json::{json, Value};
use std::process::Command;

struct Env<'a> {
    moto: &'a Moto,
    dir: TempDir,
}

impl Env<'_> {
    fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bucket-access-operator"));
        cmd.args(args);
        self.moto.configure(&mut cmd);
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    /// `check -o json`: (exit code, diagnosis).
    fn check(&self, name: &str, spec: Value) -> (i32, Value) {
        let file = manifest(&self.dir.0, name, spec);
        let (code, stdout, stderr) =
            self.cli(&["check", "-f", file.to_str().unwrap(), "-o", "json"]);
        let diagnosis = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {stdout} {stderr}"));
        (code, diagnosis)
    }

    /// `snapshot`.
    fn snapshot(&self, name: &str, spec: Value) -> Value {
        let file = manifest(&self.dir.0, name, spec);
        let (code, stdout, stderr) = self.cli(&["snapshot", "-f", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {stderr}");
        serde_json::from_str(&stdout).unwrap()
    }
}

fn cause_ids(d: &Value) -> Vec<String> {
    d["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["severity"] == "error")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn expect(name: &str, (code, d): (i32, Value), verdict: &str, causes: &[&str]) -> Value {
    let exit = match verdict {
        "Allowed" => 0,
        "Denied" => 1,
        "Unknown" => 3,
        _ => 4,
    };
    assert_eq!(
        d["verdict"],
        verdict,
        "{name}: {}",
        serde_json::to_string_pretty(&d).unwrap()
    );
    assert_eq!(code, exit, "{name}");
    let mut got = cause_ids(&d);
    got.sort();
    got.dedup();
    let mut want: Vec<String> = causes.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(got, want, "{name}: {}", d["summary"]);
    d
}

#[test]
fn seed_article_situations_read_live_from_moto() {
    let moto = Moto::start();
    let seeded = moto.seed(&[]);
    let env = Env {
        moto: &moto,
        dir: TempDir::new("moto"),
    };
    the_snapshot_holds_what_moto_holds(&env, &seeded);
    bucket_policy_conditions(&env, &seeded);
    put_object_acl(&env, &seeded);
    vpc_endpoints(&env, &seeded);
    a_key_of_another_account(&env, &seeded);
    an_scp_of_the_member_account(&env, &seeded);
    users_and_groups(&env, &seeded);
    resource_tags(&env, &seeded);
    bucket_acls(&env, &seeded);
    downloads(&env, &seeded);
    access_points(&env, &seeded);
}

/// Downloads read the object (ListObjectsV2 and GetObjectTagging, never GetObject): an archived object is
/// 403 InvalidObjectState, a key no object has is 403 for a role that may not list the bucket, and a present
/// object's tags are read.
fn downloads(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let get = |key: &str| json!({"roleArn": s("downloader"), "bucket": s("plainBucket"), "key": key, "actions": ["GetObject"]});
    let archived = env.snapshot("get-archived-snap", get("archive/2019.csv"));
    assert_eq!(
        archived["object"]["storageClass"], "DEEP_ARCHIVE",
        "{archived}"
    );
    expect(
        "archived",
        env.check("get-archived", get("archive/2019.csv")),
        "Denied",
        &["GET_ARCHIVED_OBJECT"],
    );
    expect(
        "missing key",
        env.check("get-missing", get("reports/q4.csv")),
        "Denied",
        &["GET_MISSING_OBJECT_WITHOUT_LISTBUCKET"],
    );
    let snap = env.snapshot("get-tagged-snap", get("reports/q3.csv"));
    assert_eq!(snap["object"]["exists"], true, "{}", snap["object"]);
    assert_eq!(
        snap["object"]["tags"],
        json!({"classification": "internal"})
    );
    expect(
        "present",
        env.check("get-present", get("reports/q3.csv")),
        "Allowed",
        &[],
    );
    object_acls(env, seeded);
    let version = json!({"roleArn": s("downloader"), "bucket": s("plainBucket"), "key": "reports/q3.csv",
        "versionId": "3HL4kqtJlcpXroDTDmJ", "actions": ["GetObject"]});
    expect(
        "a version needs s3:GetObjectVersion",
        env.check("get-version", version),
        "Denied",
        &["GET_IDENTITY_NO_ALLOW_VERSION"],
    );
    let round_trip = json!({"roleArn": s("roundTrip"), "bucket": "partner-drop", "bucketAccountId": "444455556666",
        "key": "drop/file.csv", "actions": ["PutObject", "GetObject"], "readRoleArns": {"444455556666": s("readerB")}});
    expect(
        "an uploader of another account cannot read back",
        env.check("round-trip", round_trip),
        "Denied",
        &["GET_UPLOADER_LOST_ACCESS_AFTER_OWNERSHIP_TRANSFER"],
    );
}

/// Where ACLs act, a download reads the object's owner and ACL: a public-read object of another account's
/// bucket is readable while `IgnorePublicAcls` is off, and named as ignored when it is on.
fn object_acls(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let get = |bucket: &str| {
        json!({"roleArn": s("downloader"), "bucket": bucket, "bucketAccountId": "444455556666",
            "key": "shared/report.csv", "actions": ["GetObject"], "readRoleArns": {"444455556666": s("readerB")}})
    };
    let snap = env.snapshot("object-acl-snap", get(&s("publicObjectBucket-acts")));
    let object = &snap["object"];
    assert!(object["owner"].is_string(), "{object}");
    assert!(
        object["acl"]
            .as_array()
            .is_some_and(|grants| grants.iter().any(|g| g["grantee"]
                == "http://acs.amazonaws.com/groups/global/AllUsers"
                && g["permission"] == "READ")),
        "{object}"
    );
    assert!(
        snap["bucket"]["acl"]["owner"].is_string(),
        "{}",
        snap["bucket"]
    );
    expect(
        "public object acl acts",
        env.check("object-acl-acts", get(&s("publicObjectBucket-acts"))),
        "Allowed",
        &[],
    );
    expect(
        "public object acl ignored",
        env.check("object-acl-ignored", get(&s("publicObjectBucket-ignored"))),
        "Denied",
        &["GET_PUBLIC_ACL_IGNORED"],
    );
}

/// A bucket of another account grants the upload through its ACL (WRITE to AuthenticatedUsers): read live,
/// the grant acts while `IgnorePublicAcls` is off, and is named as ignored when it is on.
fn bucket_acls(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let spec = |bucket: &str| {
        json!({"roleArn": s("uploader"), "bucket": bucket, "bucketAccountId": "444455556666",
            "readRoleArns": {"444455556666": s("readerB")}})
    };
    let snap = env.snapshot("acl-snap", spec(&s("aclBucket-acts")));
    let grants = snap["bucket"]["acl"]["grants"].as_array().unwrap();
    assert!(
        grants.iter().any(|g| g["granteeType"] == "Group"
            && g["grantee"] == "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
            && g["permission"] == "WRITE"),
        "{}",
        snap["bucket"]["acl"]
    );
    expect(
        "acl grant acts",
        env.check("acl-acts", spec(&s("aclBucket-acts"))),
        "Allowed",
        &[],
    );
    expect(
        "acl grant ignored",
        env.check("acl-ignored", spec(&s("aclBucket-ignored"))),
        "Denied",
        &["BPA_IGNORE_PUBLIC_ACLS"],
    );
}

/// Resource tags are read when a policy tests one: the key's tags decide its key policy's condition (a key
/// tagged `team=media` admits the upload, one tagged `team=finance` does not); a bucket's tags act only with
/// ABAC, which moto cannot report, so that check is Unknown naming the `resourceTags` layer, never Allowed.
fn resource_tags(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let kms_uploader = s("kmsUploader");
    let media = json!({"roleArn": kms_uploader, "bucket": s("taggedKeyBucket-media")});
    let snap = env.snapshot("tagged-key-snap", media.clone());
    assert_eq!(
        snap["kmsKeys"][0]["tags"],
        json!({"team": "media"}),
        "{}",
        snap["kmsKeys"]
    );
    expect(
        "key tagged team=media",
        env.check("tagged-media", media),
        "Allowed",
        &[],
    );
    expect(
        "key tagged team=finance",
        env.check(
            "tagged-finance",
            json!({"roleArn": kms_uploader, "bucket": s("taggedKeyBucket-finance")}),
        ),
        "Denied",
        &["KMS_KEY_POLICY_NO_ALLOW"],
    );
    // No tag condition, no tag read: a plain check's snapshot has no tags.
    let plain = env.snapshot(
        "untagged-snap",
        json!({"roleArn": s("uploader"), "bucket": s("plainBucket")}),
    );
    assert!(plain["bucket"].get("tags").is_none(), "{}", plain["bucket"]);
    let (_, d) = env.check(
        "tagged-bucket",
        json!({"roleArn": s("uploader"), "bucket": s("taggedBucket")}),
    );
    assert_eq!(d["verdict"], "Unknown", "{d}");
    assert!(
        d["unknown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["layer"] == "resourceTags"),
        "{d}"
    );
}

/// The snapshot holds what moto holds, and `check --fixed-snapshot-out` writes a fix that diagnoses Allowed.
fn the_snapshot_holds_what_moto_holds(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let uploader = s("uploader");
    // The snapshot holds what moto holds: decoded identity policies, the bucket policy, settings.
    let snap = env.snapshot(
        "snap",
        json!({"roleArn": uploader, "bucket": "seed-storage-class"}),
    );
    assert_eq!(
        snap["principal"]["policies"][0]["document"]["Statement"][0]["Action"],
        "s3:PutObject"
    );
    assert_eq!(snap["principal"]["policies"][0]["source"], "managed");
    assert_eq!(
        snap["bucket"]["policy"]["Statement"][0]["Sid"],
        "DenyWithCondition"
    );
    assert_eq!(snap["bucket"]["ownership"], "BucketOwnerEnforced");

    // `check --fixed-snapshot-out`: the live denial's whole fix, written as a snapshot that diagnoses Allowed.
    let manifest_file = manifest(
        &env.dir.0,
        "fixable",
        json!({"roleArn": uploader, "bucket": "seed-storage-class"}),
    );
    let fixed = env.dir.0.join("fixed.json");
    let (code, stdout, stderr) = env.cli(&[
        "check",
        "-f",
        manifest_file.to_str().unwrap(),
        "-o",
        "json",
        "--fixed-snapshot-out",
        fixed.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let d: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(d["fix"]["verified"], true, "{}", d["fix"]);
    let (code, stdout, stderr) = env.cli(&["diagnose", fixed.to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "the fixed snapshot is not allowed: {stdout}{stderr}"
    );
    assert_eq!(snap["bucket"]["publicAccessBlock"]["blockPublicAcls"], true);
    assert_eq!(snap["bucket"]["region"], "us-east-1");
    assert_eq!(snap["bucket"]["accountId"], "123456789012");
    let layers: Vec<&str> = snap["unavailable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["layer"].as_str().unwrap())
        .collect();
    // moto does not implement GetBucketRequestPayment: the read fails and is recorded, never dropped.
    assert_eq!(layers, ["request"], "{}", snap["unavailable"]);
}

/// The six bucket-policy conditions: denied without the header, allowed with it.
fn bucket_policy_conditions(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let uploader = s("uploader");
    // The six bucket-policy conditions: denied without the header, allowed with it.
    let key_a = s("keyA");
    let kms_uploader = s("kmsUploader");
    let acl_uploader = s("aclUploader");
    let canon = "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
    let cases = [
        (
            "source-ip",
            &uploader,
            json!({}),
            json!({"sourceIp": "203.0.113.9"}),
            json!({}),
            json!({"sourceIp": "54.240.143.7"}),
            "BUCKET_POLICY_CONDITION_SOURCE_IP",
        ),
        (
            "storage-class",
            &uploader,
            json!({}),
            json!({}),
            json!({"storageClass": "STANDARD_IA"}),
            json!({}),
            "BUCKET_POLICY_CONDITION_STORAGE_CLASS",
        ),
        (
            "acl",
            &acl_uploader,
            json!({}),
            json!({}),
            json!({"acl": "bucket-owner-full-control"}),
            json!({}),
            "BUCKET_POLICY_CONDITION_ACL_REQUIRED",
        ),
        (
            "grant-full-control",
            &acl_uploader,
            json!({}),
            json!({}),
            json!({"grantFullControl": canon}),
            json!({}),
            "BUCKET_POLICY_CONDITION_ACL_REQUIRED",
        ),
        (
            "kms-key-id",
            &kms_uploader,
            json!({}),
            json!({}),
            json!({"serverSideEncryption": "aws:kms", "sseKmsKeyId": key_a}),
            json!({}),
            "BUCKET_POLICY_CONDITION_KMS_KEY_ID",
        ),
        (
            "sse",
            &uploader,
            json!({}),
            json!({}),
            json!({"serverSideEncryption": "AES256"}),
            json!({}),
            "BUCKET_POLICY_CONDITION_SSE_REQUIRED",
        ),
    ];
    for (slug, role, bad_upload, bad_network, good_upload, good_network, cause) in cases {
        let bucket = seeded["conditionBuckets"][slug].as_str().unwrap();
        let denied = env.check(&format!("{slug}-denied"), json!({"roleArn": role, "bucket": bucket, "upload": bad_upload, "network": bad_network}));
        let d = expect(slug, denied, "Denied", &[cause]);
        assert_eq!(
            d["causes"][0]["statement"]["sid"], "DenyWithCondition",
            "{slug}"
        );
        let allowed = env.check(&format!("{slug}-allowed"), json!({"roleArn": role, "bucket": bucket, "upload": good_upload, "network": good_network}));
        expect(&format!("{slug} fixed"), allowed, "Allowed", &[]);
    }
}

/// `s3:PutObjectAcl`: the role may upload but not set the ACL it sends.
fn put_object_acl(env: &Env<'_>, seeded: &Value) {
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();
    let uploader = s("uploader");
    let acl_uploader = s("aclUploader");
    // s3:PutObjectAcl: the role may upload but not set the ACL it sends.
    expect(
        "put-object-acl",
        env.check(
            "acl-denied",
            json!({"roleArn": uploader, "bucket": s("aclBucket"), "upload": {"acl": "private"}}),
        ),
        "Denied",
        &["IDENTITY_NO_PUT_OBJECT_ACL"],
    );
    expect(
        "put-object-acl fixed",
        env.check("acl-allowed", json!({"roleArn": acl_uploader, "bucket": s("aclBucket"), "upload": {"acl": "private"}})),
        "Allowed",
        &[],
    );
}

#[test]
fn a_bad_manifest_exits_four_naming_the_field() {
    let dir = TempDir::new("manifest");
    let file = manifest(
        &dir.0,
        "bad",
        json!({"roleArn": "uploader", "bucket": "doc-example-bucket"}),
    );
    // No AWS is needed: the spec is rejected before any call.
    let out = crate::support::run_cli(
        "http://127.0.0.1:9",
        &["check", "-f", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("spec.roleArn"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Who the principal is comes from IAM, not from the check's text: a role of another account is not read
/// with the operator's own account's credentials (before: the operator's own `uploader` answered, Allowed);
/// a principal IAM does not know is a cause of its own; every listing is read to its end; a policy with a
/// key given twice fails closed.
#[test]
fn principal_truth_comes_from_iam_and_reads_are_complete() {
    let moto = Moto::start();
    let seeded = moto.seed(&[]);
    let env = Env {
        moto: &moto,
        dir: TempDir::new("truth"),
    };
    let s = |k: &str| seeded[k].as_str().unwrap().to_owned();

    let (code, d) = env.check(
        "other-account",
        json!({"roleArn": "arn:aws:iam::999999999999:role/uploader", "bucket": "plain-bucket"}),
    );
    assert_eq!((code, d["verdict"].as_str()), (3, Some("Unknown")), "{d}");
    let unknown = d["unknown"].to_string();
    // Not called at all, and the operator's own account is not named.
    assert!(
        unknown.contains("not read (iam:GetRole not called)")
            && unknown.contains("belong to another account")
            && unknown.contains("999999999999")
            && !unknown.contains("123456789012"),
        "{unknown}"
    );

    let d = expect(
        "no-such-role",
        env.check(
            "no-such-role",
            json!({"roleArn": "arn:aws:iam::123456789012:role/no-such-role", "bucket": "plain-bucket"}),
        ),
        "Invalid",
        &["PRINCIPAL_NOT_FOUND"],
    );
    let message = d["causes"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("IAM has no role at exactly") && !message.contains("cannot be found"),
        "{d}"
    );

    let many = s("userWithManyPolicies");
    let snap = env.snapshot("many", json!({"userArn": many, "bucket": "plain-bucket"}));
    let policies = snap["principal"]["policies"].as_array().unwrap();
    let inline = policies.iter().filter(|p| p["source"] == "inline").count();
    let group = policies
        .iter()
        .filter(|p| p["source"] == "groupInline")
        .count();
    assert_eq!(
        (inline, group),
        (120, 1),
        "every inline policy and every group's"
    );
    expect(
        "many",
        env.check(
            "many-check",
            json!({"userArn": many, "bucket": "plain-bucket"}),
        ),
        "Allowed",
        &[],
    );

    let (code, d) = env.check(
        "duplicate-key",
        json!({"roleArn": s("uploader"), "bucket": s("duplicateKeyBucket")}),
    );
    assert_eq!((code, d["verdict"].as_str()), (3, Some("Unknown")), "{d}");
    assert!(d.to_string().contains("duplicate key `Effect`"), "{d}");
}

/// Uploads through access points, read live with s3control: a bucket that delegates to its account's access
/// points admits the upload (by ARN, by alias, the bucket left out); one that does not is named; a VPC-only
/// access point refuses a request from the internet; an access point policy's Deny is named.
fn access_points(env: &Env<'_>, seeded: &Value) {
    let uploader = seeded["apUploader"].as_str().unwrap();
    let ap = |slug: &str, field: &str| {
        seeded["accessPoints"][slug][field]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let through = |slug: &str| json!({"roleArn": uploader, "accessPoint": ap(slug, "arn")});
    let snap = env.snapshot("ap-snap", through("uploads"));
    assert_eq!(snap["accessPoint"]["bucket"], "ap-bucket", "{snap}");
    assert_eq!(snap["accessPoint"]["networkOrigin"], "Internet", "{snap}");
    assert_eq!(
        snap["request"]["bucket"], "ap-bucket",
        "{}",
        snap["request"]
    );
    assert!(snap["bucket"]["policy"].is_object(), "{}", snap["bucket"]);
    expect(
        "through an access point",
        env.check("ap-arn", through("uploads")),
        "Allowed",
        &[],
    );
    let by_alias = json!({"roleArn": uploader, "accessPoint": ap("uploads", "alias")});
    expect("by alias", env.check("ap-alias", by_alias), "Allowed", &[]);
    expect(
        "bucket not delegated",
        env.check("ap-undelegated", through("undelegated")),
        "Denied",
        &["ACCESS_POINT_BUCKET_NOT_DELEGATED"],
    );
    let vpc_only = env.snapshot("ap-vpc-snap", through("vpc-only"));
    assert_eq!(
        vpc_only["accessPoint"]["networkOrigin"], "VPC",
        "{vpc_only}"
    );
    expect(
        "vpc only",
        env.check("ap-vpc", through("vpc-only")),
        "Denied",
        &["ACCESS_POINT_NETWORK_ORIGIN_VPC"],
    );
    expect(
        "policy denies",
        env.check("ap-denying", through("denying")),
        "Denied",
        &["ACCESS_POINT_POLICY_EXPLICIT_DENY"],
    );
    // A role of account B, through account A's access point with no policy: the access point must grant it.
    let reader_b = seeded["readerB"].as_str().unwrap();
    let from_b = json!({"roleArn": reader_b, "accessPoint": ap("uploads", "arn"),
        "readRoleArns": {"444455556666": reader_b}});
    expect(
        "access point policy grants another account nothing",
        env.check("ap-from-b", from_b),
        "Denied",
        &["ACCESS_POINT_POLICY_NO_ALLOW"],
    );
    // A public ACL through an access point whose own Block Public Access (the default) blocks it.
    let public_acl = json!({"roleArn": seeded["apAclUploader"], "accessPoint": ap("open-bucket", "arn"),
        "upload": {"acl": "public-read"}});
    expect(
        "access point block public access",
        env.check("ap-public-acl", public_acl),
        "Denied",
        &["ACCESS_POINT_BPA"],
    );
    let wrong_bucket = json!({"roleArn": uploader, "accessPoint": ap("uploads", "arn"), "bucket": "ap-undelegated-bucket"});
    expect(
        "two buckets",
        env.check("ap-two-buckets", wrong_bucket),
        "Invalid",
        &["INVALID_REQUEST"],
    );
}

mod accounts;

use accounts::{
    a_key_of_another_account, an_scp_of_the_member_account, users_and_groups, vpc_endpoints,
};
