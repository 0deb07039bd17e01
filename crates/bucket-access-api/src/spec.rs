//! The `BucketAccessCheck` resource: what the user asks to be checked, the same manifest for `kubectl apply`
//! and `check -f`. `validate` is the one validation of both; `target` turns a valid spec into what a snapshot
//! source reads (the principal parsed once).

pub use crate::spec_error::{SpecError, SpecErrors};
use iam_policy::arn::{is_account_id, Arn};
use iam_policy::{PrincipalArn, PrincipalKind};
use s3_diagnosis::access_point_ref::AccessPointRef;
use s3_diagnosis::client::Client;
use s3_diagnosis::snapshot::{CheckRequest, Network, SnapshotLayer, Upload};
use s3_diagnosis::source::Target;
use s3_diagnosis::valid_bucket_name;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// API group, version and kind of the resource.
pub const API_VERSION: &str = "bucketaccess.io/v1alpha1";
/// The kind.
pub const KIND: &str = "BucketAccessCheck";
/// Default re-evaluation interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(600);

/// What to check: an IAM role or user, a bucket (and key), the actions, how the workload uploads and from
/// where. The same manifest `kubectl apply` takes is what `bucket-access-operator check -f` reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[expect(
    clippy::duplicated_attributes,
    reason = "each printcolumn(...) of the kube derive repeats the same keys"
)]
#[derive(kube::CustomResource, kube::KubeSchema)]
#[kube(
    group = "bucketaccess.io",
    version = "v1alpha1",
    kind = "BucketAccessCheck",
    doc = "Can this IAM role or user upload to this S3 bucket? The operator reads the live AWS policies, evaluates them as AWS does, and writes the verdict, every cause and the fix into the status.",
    plural = "bucketaccesschecks",
    shortname = "bac",
    category = "checks",
    category = "bucketaccess",
    namespaced,
    status = "crate::status::BucketAccessCheckStatus",
    printcolumn(name = "Verdict", type_ = "string", json_path = ".status.verdict"),
    printcolumn(name = "Reason", type_ = "string", json_path = ".status.reason"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Principal",
        type_ = "string",
        json_path = ".status.principal",
        priority = 1
    ),
    printcolumn(
        name = "Bucket",
        type_ = "string",
        json_path = ".spec.bucket",
        priority = 1
    ),
    printcolumn(
        name = "Last-Evaluated",
        type_ = "date",
        json_path = ".status.lastEvaluated",
        priority = 1
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        json_path = ".status.summary",
        priority = 1
    )
)]
#[x_kube(validation = kube::core::Rule::new("has(self.roleArn) != has(self.userArn)").message("set exactly one of roleArn and userArn"))]
#[x_kube(validation = kube::core::Rule::new("has(self.bucket) || has(self.accessPoint)").message("set bucket, accessPoint, or both"))]
pub struct CheckSpec {
    /// The role that uploads (exactly one of `roleArn` / `userArn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::role_arn")]
    pub role_arn: Option<String>,
    /// The user that uploads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::user_arn")]
    pub user_arn: Option<String>,
    /// The bucket (may be left out when `accessPoint` is given: the access point names it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"))]
    pub bucket: String,
    /// The access point the workload uploads through: its ARN (`arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`)
    /// or its alias (`NAME-...-s3alias`, looked up in `bucketAccountId`'s account, default the principal's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 200))]
    pub access_point: Option<String>,
    /// the account that owns the bucket (default: the principal's account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub bucket_account_id: Option<String>,
    /// The object key; default `bucket-access-check/probe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub key: Option<String>,
    /// The version a download reads (with `actions: [GetObject]`): authorized by `s3:GetObjectVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub version_id: Option<String>,
    /// `PutObject` and/or `GetObject`; default `[PutObject]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "crate::schema::actions")]
    pub actions: Vec<String>,
    /// How the workload uploads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<Upload>,
    /// Where its requests come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Network>,
    /// Extra request context keys (a string or an array of strings each).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "crate::schema::context")]
    pub context: BTreeMap<String, Value>,
    /// Layers the operator may not read, accepted as assumptions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_layers: Vec<SnapshotLayer>,
    /// The workload's AWS client (`aws-cli-v2`, `boto3`, `aws-sdk-java-v2`, `aws-sdk-go-v2`, `aws-sdk-js-v3`,
    /// `aws-sdk-rust`, `unknown`): what it sends by default (`s3:x-amz-content-sha256`) is then known, and
    /// said in the status' assumptions. Default `unknown`: a condition on it is `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
    /// Account id → role to assume for reading that account's policies. Only with `run --scope-mode off`
    /// (and in the CLI): by default reader roles come from the `BucketAccessScope` that allows the check.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "crate::schema::read_role_arns")]
    pub read_role_arns: BTreeMap<String, String>,
    /// How often to re-evaluate, e.g. `10m`, `1h`, `90s`; default `10m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), regex(pattern = r"^([0-9]+[smhd])+$"))]
    pub interval: Option<String>,
}

fn problem(field: &str, message: impl Into<String>) -> SpecError {
    SpecError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Parses `10m`, `1h`, `90s`, `1h30m`.
pub fn parse_interval(text: &str) -> Option<Duration> {
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        total = total.checked_add(match c {
            's' => n,
            'm' => n.checked_mul(60)?,
            'h' => n.checked_mul(3600)?,
            'd' => n.checked_mul(86_400)?,
            _ => return None,
        })?;
    }
    (number.is_empty() && total > 0).then(|| Duration::from_secs(total))
}

impl CheckSpec {
    /// The principal ARN (role or user) as written.
    pub fn principal_arn(&self) -> Option<&str> {
        self.role_arn.as_deref().or(self.user_arn.as_deref())
    }

    /// The principal, parsed: exactly one of `roleArn` (a role's ARN) and `userArn` (a user's). What the scope
    /// authorizes and what the collector reads is this value.
    pub fn principal(&self) -> Result<PrincipalArn, SpecError> {
        let (field, text, kind) = match (&self.role_arn, &self.user_arn) {
            (Some(_), Some(_)) => {
                return Err(problem(
                    "roleArn",
                    "set exactly one of `roleArn` and `userArn`, not both",
                ))
            }
            (None, None) => {
                return Err(problem(
                    "roleArn",
                    "set exactly one of `roleArn` and `userArn`",
                ))
            }
            (Some(role), None) => ("roleArn", role, PrincipalKind::Role),
            (None, Some(user)) => ("userArn", user, PrincipalKind::User),
        };
        let arn = PrincipalArn::parse(text).map_err(|e| problem(field, e.to_string()))?;
        if arn.kind() != kind {
            return Err(problem(
                field,
                format!("`{text}` is not an IAM {kind} ARN (arn:aws:iam::ACCOUNT:{kind}/NAME)"),
            ));
        }
        Ok(arn)
    }

    /// The re-evaluation interval.
    pub fn interval(&self) -> Duration {
        self.interval
            .as_deref()
            .and_then(parse_interval)
            .unwrap_or(DEFAULT_INTERVAL)
    }

    /// Every problem in the spec (empty: valid). The request-level checks of the diagnosis apply too.
    pub fn validate(&self) -> Vec<SpecError> {
        let mut problems = Vec::new();
        if let Err(e) = self.principal() {
            problems.push(e);
        }
        let bucket_optional = self.bucket.is_empty() && self.access_point.is_some();
        if !bucket_optional && !valid_bucket_name(&self.bucket) {
            problems.push(problem(
                "bucket",
                format!("`{}` is not a valid bucket name", self.bucket),
            ));
        }
        if let Some(account) = &self.bucket_account_id {
            if !is_account_id(account) {
                problems.push(problem(
                    "bucketAccountId",
                    format!("`{account}` is not a 12-digit account id"),
                ));
            }
        }
        for (account, role) in &self.read_role_arns {
            if !is_account_id(account) {
                problems.push(problem(
                    "readRoleArns",
                    format!("key `{account}` is not a 12-digit account id"),
                ));
            }
            let role_ok = Arn::parse(role).is_ok_and(|a| {
                a.service == "iam" && a.resource.starts_with("role/") && a.account == account
            });
            if !role_ok {
                problems.push(problem(
                    "readRoleArns",
                    format!("`{role}` is not a role ARN in account `{account}`"),
                ));
            }
        }
        if let Some(interval) = &self.interval {
            match parse_interval(interval) {
                Some(d) if d >= Duration::from_secs(30) => {}
                Some(_) => problems.push(problem(
                    "interval",
                    format!("`{interval}` is shorter than the minimum of 30s"),
                )),
                None => problems.push(problem(
                    "interval",
                    format!("`{interval}` is not a duration such as `10m`, `1h` or `90s`"),
                )),
            }
        }
        if problems.is_empty() {
            problems.extend(
                s3_diagnosis::validate_request(&self.request())
                    .into_iter()
                    .map(|p| problem(&p.field, p.message)),
            );
        }
        problems
    }

    /// The spec if it is valid, else every problem.
    pub fn validated(self) -> Result<Self, SpecErrors> {
        let problems = self.validate();
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(SpecErrors(problems))
        }
    }

    /// The snapshot request this spec asks for.
    pub fn request(&self) -> CheckRequest {
        CheckRequest {
            principal_arn: self.principal_arn().unwrap_or_default().to_owned(),
            bucket: self.bucket.clone(),
            access_point: self.access_point.clone(),
            version_id: self.version_id.clone(),
            key: self.key.clone(),
            actions: self.actions.clone(),
            upload: self.upload.clone().unwrap_or_default(),
            network: self.network.clone().unwrap_or_default(),
            context: self.context.clone(),
            skip_layers: self.skip_layers.clone(),
            client: self.client.unwrap_or_default(),
        }
    }

    /// The spec validated and parsed once: what every later step (the scope, the collection) uses, or every
    /// problem.
    pub fn checked(&self) -> Result<Target, Vec<SpecError>> {
        let problems = self.validate();
        if !problems.is_empty() {
            return Err(problems);
        }
        self.target().map_err(|e| vec![e])
    }

    /// What a snapshot source reads for this spec: the principal parsed once (what the scope authorized is
    /// what is read), the bucket's account and the request.
    pub fn target(&self) -> Result<Target, SpecError> {
        let principal = self.principal()?;
        // The bucket's account: as given; else, through an access point named by ARN, the access point's
        // (the collector reads the bucket's own account from it); else the principal's.
        let access_point_account = self
            .access_point
            .as_deref()
            .and_then(|a| AccessPointRef::parse(a).ok())
            .and_then(|a| match a {
                AccessPointRef::Arn { account, .. } => Some(account),
                _ => None,
            });
        Ok(Target {
            bucket_account: self
                .bucket_account_id
                .clone()
                .or(access_point_account)
                .unwrap_or_else(|| principal.account().to_owned()),
            request: self.request(),
            interval: self.interval(),
            principal,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_interval("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_interval("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_interval("10"), None);
        assert_eq!(parse_interval("ten minutes"), None);
        assert_eq!(parse_interval(""), None);
    }

    #[test]
    fn validation_names_the_field() {
        let spec = CheckSpec {
            role_arn: Some("arn:aws:iam::111122223333:role/uploader".into()),
            user_arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            bucket: "Bad_Bucket".into(),
            interval: Some("5s".into()),
            ..CheckSpec::default()
        };
        let fields: Vec<String> = spec.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["roleArn", "bucket", "interval"]);
        let ok = CheckSpec {
            role_arn: Some("arn:aws:iam::111122223333:role/uploader".into()),
            bucket: "doc-example-bucket".into(),
            upload: Some(Upload {
                storage_class: Some("CHEAP".into()),
                ..Upload::default()
            }),
            ..CheckSpec::default()
        };
        let problems = ok.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "upload.storageClass");
    }
}
