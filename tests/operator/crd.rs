//! The committed CRD matches the Rust types (`make crds` regenerates it), and has what `crd.md` fixes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use bucket_access_api::scope::BucketAccessScope;
use bucket_access_api::spec::BucketAccessCheck;
use kube::CustomResourceExt;
use std::path::Path;

#[test]
fn crds_directory_is_not_stale() {
    for (file, crd) in [
        (
            "bucketaccesschecks.bucketaccess.io.yaml",
            BucketAccessCheck::crd(),
        ),
        (
            "bucketaccessscopes.bucketaccess.io.yaml",
            BucketAccessScope::crd(),
        ),
    ] {
        let generated = serde_saphyr::to_string(&crd).unwrap();
        // The repository's crds/ and the chart's own copy (real files: Flux drops symlinks from Git sources).
        for dir in ["crds", "deploy/helm/bucket-access-operator/files/crds"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(file);
            assert!(
                !std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()),
                "{dir}/{file} is a symlink"
            );
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == generated,
                "{dir}/{file} is stale: run `make crds` and commit"
            );
        }
    }
}

#[test]
fn the_snapshot_schema_is_not_stale() {
    let generated =
        serde_json::to_string_pretty(&bucket_access_api::schema::snapshot_schema()).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/snapshot.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/snapshot.schema.json is stale: run `make crds` and commit"
    );
}

#[test]
fn the_scope_crd_is_cluster_scoped_with_its_rules() {
    let crd = serde_json::to_value(BucketAccessScope::crd()).unwrap();
    let spec = &crd["spec"];
    assert_eq!(spec["names"]["kind"], "BucketAccessScope");
    assert_eq!(spec["names"]["shortNames"][0], "bas");
    assert_eq!(spec["scope"], "Cluster");
    let version = &spec["versions"][0];
    assert!(version["subresources"]["status"].is_object());
    let schema = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
    let rules = serde_json::to_string(&schema["x-kubernetes-validations"]).unwrap();
    assert!(rules.contains("has(self.namespaceSelector)"), "{rules}");
    let account = &schema["properties"]["accounts"];
    assert_eq!(account["x-kubernetes-list-type"], "map");
    let account_rules =
        serde_json::to_string(&account["items"]["x-kubernetes-validations"]).unwrap();
    assert!(
        account_rules.contains("readerRoleArn.contains"),
        "{account_rules}"
    );
    assert_eq!(
        account["items"]["properties"]["id"]["pattern"],
        "^[0-9]{12}$"
    );
    assert_eq!(
        schema["properties"]["detail"]["enum"],
        serde_json::json!(["Full", "Summary"])
    );
    assert_eq!(schema["properties"]["principals"]["minItems"], 1);
    let text = serde_json::to_string(&crd).unwrap();
    assert!(
        !text.contains("anyOf") && !text.contains("oneOf"),
        "not structural"
    );
}

/// The status is typed: the verdict, the reason, each cause's id and layer are enums of the schema
/// (`kubectl explain bac.status.verdict` lists them).
#[test]
fn the_status_is_typed() {
    let crd = serde_json::to_value(BucketAccessCheck::crd()).unwrap();
    let version = &crd["spec"]["versions"][0];
    let status = &version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"];
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap_or_else(|| panic!("not an enum: {v}"))
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        strings(&status["verdict"]["enum"]),
        ["Allowed", "Denied", "Unknown", "Invalid"]
    );
    let reasons = strings(&status["reason"]["enum"]);
    for reason in [
        "OutOfScope",
        "AccessAllowed",
        "Evaluating",
        "BUCKET_POLICY_EXPLICIT_DENY",
        "INVALID_REQUEST",
    ] {
        assert!(reasons.iter().any(|r| r == reason), "{reason}: {reasons:?}");
    }
    let cause = &status["causes"]["items"]["properties"];
    assert!(strings(&cause["id"]["enum"]).contains(&"IDENTITY_NO_ALLOW".to_owned()));
    assert!(strings(&cause["layer"]["enum"]).contains(&"permissionsBoundary".to_owned()));
}

#[test]
fn the_crd_has_the_fixed_names_columns_and_rules() {
    let crd = serde_json::to_value(BucketAccessCheck::crd()).unwrap();
    let spec = &crd["spec"];
    assert_eq!(spec["group"], "bucketaccess.io");
    assert_eq!(spec["names"]["kind"], "BucketAccessCheck");
    assert_eq!(spec["names"]["plural"], "bucketaccesschecks");
    assert_eq!(spec["names"]["shortNames"][0], "bac");
    assert_eq!(spec["names"]["categories"][0], "checks");
    // `kubectl get bucketaccess` lists the checks and the scopes.
    assert_eq!(spec["names"]["categories"][1], "bucketaccess");
    assert_eq!(spec["scope"], "Namespaced");
    let version = &spec["versions"][0];
    assert_eq!(version["name"], "v1alpha1");
    assert!(version["subresources"]["status"].is_object());
    let columns: Vec<(String, i64)> = version["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_uppercase(),
                c["priority"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let default: Vec<&str> = columns
        .iter()
        .filter(|c| c.1 == 0)
        .map(|c| c.0.as_str())
        .collect();
    let wide: Vec<&str> = columns
        .iter()
        .filter(|c| c.1 == 1)
        .map(|c| c.0.as_str())
        .collect();
    assert_eq!(default, ["VERDICT", "REASON", "AGE"]);
    assert_eq!(wide, ["PRINCIPAL", "BUCKET", "LAST-EVALUATED", "MESSAGE"]);
    let schema = &version["schema"]["openAPIV3Schema"]["properties"]["spec"];
    assert_eq!(
        schema["x-kubernetes-validations"][0]["rule"],
        "has(self.roleArn) != has(self.userArn)"
    );
    let role = schema["properties"]["roleArn"]["pattern"].as_str().unwrap();
    assert!(
        role.starts_with("^arn:(aws|aws-cn|") && role.contains(":iam::[0-9]{12}:role/"),
        "{role}"
    );
    // Every enumerated or formatted field is refused at admission when it is not what AWS accepts.
    let fields = |part: &str| schema["properties"][part]["properties"].clone();
    let (upload, network) = (fields("upload"), fields("network"));
    for (field, value) in [
        (&upload["storageClass"], "STANDARD_IA"),
        (&upload["acl"], "bucket-owner-full-control"),
        (&upload["serverSideEncryption"], "aws:kms"),
        (&upload["sseCustomerAlgorithm"], "AES256"),
        (&upload["objectLockMode"], "COMPLIANCE"),
        (&upload["objectLockLegalHold"], "ON"),
        (&network["tlsVersion"], "1.2"),
    ] {
        let allowed = field["enum"].as_array().unwrap();
        assert!(allowed.iter().any(|v| v == value), "{field}");
        let other_case = if value == value.to_lowercase() {
            value.to_uppercase()
        } else {
            value.to_lowercase()
        };
        if other_case != value {
            assert!(!allowed.iter().any(|v| v == &other_case), "{field}");
        }
    }
    for field in [
        &upload["grantFullControl"],
        &upload["sseKmsKeyId"],
        &upload["expectedBucketOwner"],
        &network["vpcEndpointId"],
        &network["vpcId"],
        &network["sourceIp"],
    ] {
        assert!(field["pattern"].as_str().is_some(), "{field}");
    }
    assert_eq!(upload["objectLockRetainUntilDate"]["format"], "date-time");
    assert_eq!(upload["tags"]["maxProperties"], 10);
    assert_eq!(
        schema["properties"]["actions"]["items"]["enum"],
        serde_json::json!(["PutObject", "GetObject"])
    );
    let layers = schema["properties"]["skipLayers"]["items"]["enum"]
        .as_array()
        .unwrap();
    assert!(layers.iter().any(|l| l == "scp") && layers.iter().any(|l| l == "kmsKeyPolicy"));
    let conditions =
        &version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["conditions"];
    assert_eq!(conditions["x-kubernetes-list-type"], "map");
    assert_eq!(conditions["x-kubernetes-list-map-keys"][0], "type");
    // Structural: no anyOf / oneOf anywhere.
    let text = serde_json::to_string(&crd).unwrap();
    assert!(!text.contains("anyOf") && !text.contains("oneOf"));
}

#[test]
fn every_example_is_a_valid_manifest() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let manifest =
            bucket_access_api::manifests::load_manifest(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(manifest.metadata.name.is_some());
        n += 1;
    }
    assert!(n >= 10);
}

/// `kubectl explain` shows users' words: no Rust internals (features, constants, crate paths) and no
/// "Extension:" notes meant for the snapshot format's readers.
#[test]
fn the_crds_descriptions_hold_no_internals() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for internal in ["Extension:", "feature", "MAX_", "crate::", "Depends on"] {
            assert!(
                !text.contains(internal),
                "{}: `{internal}` in a description",
                path.display()
            );
        }
    }
}
