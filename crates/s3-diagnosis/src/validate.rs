//! Stage 1 of the diagnosis: is the check well formed? Every problem names its field (`upload.acl`,
//! `network.sourceIp`, ...) and says what is wrong; any problem makes the verdict `Invalid`. Also the values
//! S3 accepts (canned ACLs, storage classes, bucket names).

use super::formats::{self, one_of};
use super::problem::Problem;
use super::request::context_value;
use super::snapshot::{CheckRequest, Network, Snapshot, Upload, SNAPSHOT_VERSION};
use iam_policy::arn::is_account_id;
use iam_policy::PrincipalArn;
use serde_json::Value;

/// A bucket name S3 accepts for general purpose buckets.
pub fn valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edges_ok = matches!((bytes.first(), bytes.last()), (Some(a), Some(b)) if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric());
    (3..=63).contains(&name.len())
        && edges_ok
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// The prefixes S3's bucket naming rules reserve: no general purpose bucket has such a name.
const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];

/// Why `name` cannot be a general purpose bucket although its characters are fine: a prefix S3 reserves.
pub fn reserved_bucket_prefix(name: &str) -> Option<&'static str> {
    RESERVED_PREFIXES.into_iter().find(|p| name.starts_with(p))
}

/// The most keys a check's `context` may hold.
pub const MAX_CONTEXT_KEYS: usize = 64;
/// The most values of one multi-valued context key.
pub const MAX_CONTEXT_VALUES: usize = 64;
/// The largest context value.
pub const MAX_CONTEXT_VALUE_BYTES: usize = 1024;

/// Problems in what the check names: the principal, the bucket or access point, the version, the key, the
/// actions.
fn target_problems(request: &CheckRequest) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Err(e) = PrincipalArn::parse(&request.principal_arn) {
        problems.push(Problem::new("principalArn", e.to_string()));
    }
    if let Some(access_point) = &request.access_point {
        if let Err(e) = crate::access_point_ref::AccessPointRef::parse(access_point) {
            problems.push(Problem::new("accessPoint", e.to_string()));
        }
    }
    // With an access point, the bucket may be left out: the access point names it.
    let bucket_optional = request.access_point.is_some() && request.bucket.is_empty();
    if !bucket_optional && !valid_bucket_name(&request.bucket) {
        problems.push(Problem::new(
            "bucket",
            format!(
                "`{}` is not a valid bucket name (3 to 63 lowercase letters, digits, dots and hyphens)",
                request.bucket
            ),
        ));
    } else if let Some(prefix) = reserved_bucket_prefix(&request.bucket) {
        problems.push(Problem::new(
            "bucket",
            format!(
                "`{}` starts with `{prefix}`, which S3's bucket naming rules reserve: no bucket has this name",
                request.bucket
            ),
        ));
    }
    if let Some(version) = &request.version_id {
        if !request.actions.iter().any(|a| a == "GetObject") {
            problems.push(Problem::new(
                "versionId",
                "only a download reads a version: add `GetObject` to `actions`",
            ));
        }
        if version.is_empty() || version.len() > 1024 {
            problems.push(Problem::new("versionId", "must be 1 to 1024 characters"));
        }
    }
    if request.key().len() > 1024 {
        problems.push(Problem::new("key", "is longer than 1024 bytes"));
    }
    for action in &request.actions {
        if action != "PutObject" && action != "GetObject" {
            problems.push(Problem::new(
                "actions",
                format!("has `{action}`; supported: `PutObject`, `GetObject`"),
            ));
        }
    }
    problems
}

/// Problems that make the request itself invalid, each naming the field.
pub fn validate_request(request: &CheckRequest) -> Vec<Problem> {
    let mut problems = target_problems(request);
    let upload = &request.upload;
    upload_values(upload, &mut problems);
    if upload.sse_kms_key_id.is_some()
        && !matches!(
            upload.server_side_encryption.as_deref(),
            Some("aws:kms" | "aws:kms:dsse")
        )
    {
        problems.push(Problem::new(
            "upload.sseKmsKeyId",
            "needs `upload.serverSideEncryption: aws:kms` (S3 rejects the key id alone)",
        ));
    }
    if upload.sse_customer_algorithm.is_some() && upload.server_side_encryption.is_some() {
        problems.push(Problem::new(
            "upload.sseCustomerAlgorithm",
            "(SSE-C) cannot be combined with `upload.serverSideEncryption`",
        ));
    }
    network_values(&request.network, &mut problems);
    if let Some(owner) = &upload.expected_bucket_owner {
        if !is_account_id(owner) {
            problems.push(Problem::new(
                "upload.expectedBucketOwner",
                format!("`{owner}` is not a 12-digit account id"),
            ));
        }
    }
    if request.context.len() > MAX_CONTEXT_KEYS {
        problems.push(Problem::new(
            "context",
            format!(
                "has {} keys; at most {MAX_CONTEXT_KEYS}",
                request.context.len()
            ),
        ));
    }
    for (key, value) in request.context.iter().take(MAX_CONTEXT_KEYS) {
        let size = match value {
            Value::Array(items) if items.len() > MAX_CONTEXT_VALUES => usize::MAX,
            Value::Array(items) => items.iter().map(|v| v.to_string().len()).max().unwrap_or(0),
            other => other.to_string().len(),
        };
        if key.len() > 128 || size > MAX_CONTEXT_VALUE_BYTES {
            problems.push(Problem::new(
                format!("context.{}", key.chars().take(128).collect::<String>()),
                format!("is too large (keys up to 128 bytes, values up to {MAX_CONTEXT_VALUE_BYTES} bytes, up to {MAX_CONTEXT_VALUES} values)"),
            ));
            continue;
        }
        if let Some(source) = authoritative(&key.to_ascii_lowercase(), request) {
            problems.push(Problem::new(
                format!("context.{key}"),
                format!("cannot be given: AWS sets it {source}"),
            ));
        } else if context_value(value).is_none() {
            problems.push(Problem::new(
                format!("context.{key}"),
                "must be a string or an array of strings",
            ));
        }
    }
    problems
}

/// The enumerated and formatted upload headers: each exactly as S3 accepts it.
fn upload_values(upload: &Upload, problems: &mut Vec<Problem>) {
    let enumerated = [
        ("upload.acl", &upload.acl, &formats::CANNED_ACLS[..]),
        (
            "upload.storageClass",
            &upload.storage_class,
            &formats::STORAGE_CLASSES[..],
        ),
        (
            "upload.serverSideEncryption",
            &upload.server_side_encryption,
            &formats::SSE_ALGORITHMS[..],
        ),
        (
            "upload.sseCustomerAlgorithm",
            &upload.sse_customer_algorithm,
            &formats::SSE_CUSTOMER_ALGORITHMS[..],
        ),
        (
            "upload.objectLockMode",
            &upload.object_lock_mode,
            &formats::OBJECT_LOCK_MODES[..],
        ),
        (
            "upload.objectLockLegalHold",
            &upload.object_lock_legal_hold,
            &formats::LEGAL_HOLD_STATUSES[..],
        ),
    ];
    enumerated_values(&enumerated, problems);
    // S3 takes only `*` in `If-None-Match` on a write (PutObject API reference).
    if let Some(value) = upload.if_none_match.as_deref().filter(|v| *v != "*") {
        problems.push(Problem::new(
            "upload.ifNoneMatch",
            format!("is `{value}`; S3 accepts only `*` (write only if no object has the key)"),
        ));
    }
    const GRANTS: &str =
        "a list of grants such as `id=CANONICAL_ID` (`id`, `uri` or `emailAddress`)";
    let formatted: [(&str, &Option<String>, Validation, &str); 6] = [
        (
            "upload.grantFullControl",
            &upload.grant_full_control,
            formats::valid_grants,
            GRANTS,
        ),
        (
            "upload.grantRead",
            &upload.grant_read,
            formats::valid_grants,
            GRANTS,
        ),
        (
            "upload.grantReadAcp",
            &upload.grant_read_acp,
            formats::valid_grants,
            GRANTS,
        ),
        (
            "upload.grantWriteAcp",
            &upload.grant_write_acp,
            formats::valid_grants,
            GRANTS,
        ),
        (
            "upload.sseKmsKeyId",
            &upload.sse_kms_key_id,
            formats::valid_kms_key_reference,
            "a KMS key id, alias (`alias/NAME`) or the ARN of either",
        ),
        (
            "upload.objectLockRetainUntilDate",
            &upload.object_lock_retain_until_date,
            formats::valid_timestamp,
            "an RFC 3339 timestamp such as `2030-01-01T00:00:00Z`",
        ),
    ];
    formatted_values(&formatted, problems);
    tag_values(upload, problems);
}

/// A problem for every value given that is not one of its field's values: (field, value, the values).
fn enumerated_values(fields: &[(&str, &Option<String>, &[&str])], problems: &mut Vec<Problem>) {
    for (field, value, allowed) in fields {
        if let Some(value) = value {
            if !allowed.contains(&value.as_str()) {
                problems.push(Problem::new(
                    *field,
                    format!(
                        "`{value}` is not one of {} (S3 compares them exactly)",
                        one_of(allowed)
                    ),
                ));
            }
        }
    }
}

/// At most 10 tags, each as S3 accepts it.
fn tag_values(upload: &Upload, problems: &mut Vec<Problem>) {
    if upload.tags.len() > 10 {
        problems.push(Problem::new(
            "upload.tags",
            "has more than the 10 tags S3 allows on an object",
        ));
    }
    for (key, value) in &upload.tags {
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            problems.push(Problem::new(
                "upload.tags",
                format!(
                    "`{}` is not a tag S3 accepts (keys 1 to 128 characters, values up to 256)",
                    key.chars().take(128).collect::<String>()
                ),
            ));
        }
    }
}

/// Whether a value has its field's format.
type Validation = fn(&str) -> bool;

/// A problem for every value given that fails its validation: (field, value, validation, what it must be).
fn formatted_values(
    fields: &[(&str, &Option<String>, Validation, &str)],
    problems: &mut Vec<Problem>,
) {
    for (field, value, valid, what) in fields {
        if let Some(value) = value.as_ref().filter(|v| !valid(v)) {
            problems.push(Problem::new(*field, format!("`{value}` is not {what}")));
        }
    }
}

/// The network fields: an IP address, EC2 ids, a TLS version, each in the one form AWS uses.
fn network_values(network: &Network, problems: &mut Vec<Problem>) {
    let formatted: [(&str, &Option<String>, Validation, &str); 4] = [
        (
            "network.sourceIp",
            &network.source_ip,
            formats::valid_ip,
            "an IP address",
        ),
        (
            "network.vpcEndpointId",
            &network.vpc_endpoint_id,
            |id| formats::valid_resource_id("vpce", id),
            "a VPC endpoint id (`vpce-` and 8 to 17 lowercase hex digits)",
        ),
        (
            "network.vpcId",
            &network.vpc_id,
            |id| formats::valid_resource_id("vpc", id),
            "a VPC id (`vpc-` and 8 to 17 lowercase hex digits)",
        ),
        (
            "network.tlsVersion",
            &network.tls_version,
            |v| formats::TLS_VERSIONS.contains(&v),
            "one of `1.0`, `1.1`, `1.2`, `1.3` (the value of `s3:TlsVersion`)",
        ),
    ];
    formatted_values(&formatted, problems);
}

/// Where AWS takes a context key from, for the keys a check may not override in `context` (lowercase key):
/// keys derived from the principal, the bucket or the request's shape are what AWS decides, and a value of
/// the user's would be evaluated instead of the real one. Keys present in real requests that the snapshot
/// cannot hold (organization paths, `aws:ResourceOrgID` of another account, `aws:VpcSourceIp`, resource tags,
/// `s3:x-amz-content-sha256`) are not listed: the check gives them, or conditions on them stay undecided.
fn authoritative(key: &str, request: &CheckRequest) -> Option<&'static str> {
    const PRINCIPAL: [&str; 9] = [
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:principalorgid",
        "aws:principalisawsservice",
        "aws:principalservicename",
        "aws:principaltagkeys",
        "aws:username",
        "aws:userid",
    ];
    const BUCKET: [&str; 3] = [
        "aws:resourceaccount",
        "s3:resourceaccount",
        "aws:requestedregion",
    ];
    const NETWORK: [&str; 7] = [
        "aws:sourceip",
        "aws:sourcevpce",
        "aws:sourcevpc",
        "aws:securetransport",
        "aws:vpceaccount",
        "aws:vpceorgid",
        "aws:vpceorgpaths",
    ];
    const SHAPE: [&str; 7] = [
        "aws:viaawsservice",
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "aws:currenttime",
        "aws:epochtime",
        "s3:requestobjecttagkeys",
    ];
    let is_role = request.principal_is_role();
    if PRINCIPAL.contains(&key) || key.starts_with("aws:principaltag/") {
        Some("from the principal (its ARN, account, organization and tags, read from IAM)")
    } else if BUCKET.contains(&key) {
        Some("from the bucket (its account and Region)")
    } else if NETWORK.contains(&key) {
        Some("from the network path: set it with `network` (`sourceIp`, `vpcEndpointId`, `vpcId`, `secureTransport`)")
    } else if crate::headers::by_key(key).is_some() || key.starts_with("s3:requestobjecttag/") {
        Some("from the upload's headers: set it with `upload`")
    } else if matches!(
        key,
        "s3:if-none-match" | "s3:if-match" | "s3:objectcreationoperation"
    ) {
        Some("by each request of the upload (conditional writes: set `upload.ifNoneMatch` or `upload.ifMatch`; a multipart upload's parts never carry them)")
    } else if SHAPE.contains(&key) || key.starts_with("kms:") {
        Some("from the request itself")
    } else if is_role && (key == "aws:multifactorauthpresent" || key == "aws:tokenissuetime") {
        Some("for role sessions (temporary credentials of a workload carry no MFA)")
    } else {
        None
    }
}

/// Whether two IAM ARNs name the same role or user: both well formed, the same partition, account, kind and
/// path, and the same name ignoring case (IAM names are unique without regard to case; paths are not).
pub fn same_principal(a: &str, b: &str) -> bool {
    match (PrincipalArn::parse(a), PrincipalArn::parse(b)) {
        (Ok(a), Ok(b)) => a.same_entity(&b),
        _ => false,
    }
}

/// Stage 1 of the diagnosis: the snapshot's version, the check's request, and that the principal read is
/// the check's.
pub fn validate(snapshot: &Snapshot) -> Vec<Problem> {
    if snapshot.version != SNAPSHOT_VERSION {
        return vec![Problem::new(
            "version",
            format!(
                "`{}` is not supported (this build reads version {SNAPSHOT_VERSION})",
                snapshot.version
            ),
        )];
    }
    let mut problems = validate_request(&snapshot.request);
    problems.extend(access_point_problems(snapshot));
    problems.extend(crate::facts::problems(snapshot));
    if let Some(principal) = &snapshot.principal {
        if problems.is_empty() && !same_principal(&principal.arn, &snapshot.request.principal_arn) {
            problems.push(Problem::new(
                "principal.arn",
                format!(
                    "`{}` is not the check's principal `{}`: the snapshot describes another role or user",
                    principal.arn, snapshot.request.principal_arn
                ),
            ));
        }
    }
    problems
}

/// The access point read must be the one the check names, and be for the check's bucket (when it names one).
fn access_point_problems(snapshot: &Snapshot) -> Vec<Problem> {
    use crate::access_point_ref::AccessPointRef;
    let request = &snapshot.request;
    let (Some(named), Some(ap)) = (&request.access_point, &snapshot.access_point) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let same = match AccessPointRef::parse(named) {
        Ok(AccessPointRef::Arn { .. }) => ap.arn == *named,
        Ok(AccessPointRef::Alias(alias)) => ap.alias == alias,
        _ => true,
    };
    if !same {
        problems.push(Problem::new(
            "accessPoint",
            format!(
                "the snapshot describes access point `{}`, not `{named}`",
                ap.arn
            ),
        ));
    }
    if !request.bucket.is_empty() && request.bucket != ap.bucket {
        problems.push(Problem::new(
            "accessPoint",
            format!(
                "access point `{named}` is for bucket `{}`, not for `{}`: name one bucket",
                ap.bucket, request.bucket
            ),
        ));
    }
    problems
}
