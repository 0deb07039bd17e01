//! The check itself in the snapshot: who, which bucket and key, which actions, how the upload or download is
//! made (`Upload`), and from where (`Network`).

use super::SnapshotLayer;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The check: who, which bucket and key, which actions, how the upload is made, from where.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckRequest {
    /// Role or user ARN.
    pub principal_arn: String,
    /// The bucket name (may be empty when `accessPoint` is set and the snapshot's `accessPoint` names the
    /// bucket).
    #[serde(default)]
    pub bucket: String,
    /// Extension: the version a download reads (`versionId`): it is then authorized by
    /// `s3:GetObjectVersion`, not `s3:GetObject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Extension: the access point the requests go through: its ARN
    /// (`arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`) or its alias (`NAME-…-s3alias`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_point: Option<String>,
    /// The object key; default `bucket-access-check/probe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `PutObject` and/or `GetObject`; default `[PutObject]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// The request headers the uploader sends.
    #[serde(default)]
    pub upload: Upload,
    /// Where the requests come from.
    #[serde(default)]
    pub network: Network,
    /// Extra request context keys (a string or an array of strings).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, Value>,
    /// Layers the user chose not to read; reported as assumptions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_layers: Vec<SnapshotLayer>,
    /// Extension: the workload's AWS client, whose default request keys the client model gives
    /// (`unknown`: none).
    #[serde(default, skip_serializing_if = "is_unknown_client")]
    pub client: crate::client::Client,
}

fn is_unknown_client(client: &crate::client::Client) -> bool {
    *client == crate::client::Client::Unknown
}

/// The default object key of a check.
pub const DEFAULT_KEY: &str = "bucket-access-check/probe";

pub use iam_policy::arn::PARTITIONS;

impl CheckRequest {
    /// What the check names that the diagnosis does not evaluate yet, said for the user: a directory bucket
    /// (S3 Express One Zone, `NAME--ZONE--x-s3`) or its access point (`...--xa-s3`), a table bucket
    /// (`...--table-s3`), an access point alias (`...-s3alias`), a Multi-Region Access Point alias
    /// (`....mrap`), an Object Lambda access point alias (`...--ol-s3`): every suffix S3's bucket naming
    /// rules reserve. `None`: a general purpose bucket.
    pub fn not_evaluated(&self) -> Option<String> {
        let named = self
            .access_point
            .as_deref()
            .and_then(|a| crate::access_point_ref::AccessPointRef::parse(a).ok());
        if let Some(what) = named.and_then(|a| a.not_evaluated()) {
            return Some(what);
        }
        let b = &self.bucket;
        // The suffixes S3's bucket naming rules reserve for other kinds of bucket and access point.
        let what = if b.ends_with("--x-s3") {
            "a directory bucket (S3 Express One Zone), whose requests are authorized by `s3express:CreateSession` and its session credentials"
        } else if b.ends_with("--xa-s3") {
            "an access point alias of a directory bucket, whose requests are authorized by `s3express:CreateSession` and the access point's policy"
        } else if b.ends_with("--table-s3") {
            "an S3 table bucket (S3 Tables), whose requests are authorized by `s3tables:*` actions and the table bucket's policy"
        } else if b.ends_with(".mrap") {
            "a Multi-Region Access Point alias, whose requests are authorized by the Multi-Region Access Point's policy and each underlying bucket's"
        } else if b.ends_with("--ol-s3") {
            "an Object Lambda access point alias, whose requests go through a Lambda function"
        } else if b.ends_with("-s3alias") {
            return Some(format!("`{b}` is an access point alias given as the bucket: name it as the access point (`accessPoint`, `--access-point`) to have the access point's policy and the bucket's evaluated"));
        } else {
            return None;
        };
        Some(format!(
            "`{b}` is {what}: this is not evaluated yet, so nothing is claimed (check the bucket behind it by its name)"
        ))
    }

    /// Whether the principal is an IAM role (its ARN parsed, as validation parses it).
    pub fn principal_is_role(&self) -> bool {
        iam_policy::PrincipalArn::parse(&self.principal_arn)
            .is_ok_and(|p| p.kind() == iam_policy::PrincipalKind::Role)
    }

    /// The partition of the principal's ARN (`aws`, `aws-cn`, `aws-us-gov`, ...): S3 and KMS ARNs of the
    /// check are built in it. `aws` when the ARN cannot be read (validation has refused it then).
    pub fn partition(&self) -> &str {
        self.principal_arn
            .strip_prefix("arn:")
            .and_then(|rest| rest.split(':').next())
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
    }

    /// The DNS suffix of the partition's service endpoints (`amazonaws.com`, `amazonaws.com.cn`, ...).
    pub fn dns_suffix(&self) -> &'static str {
        let partition = self.partition();
        PARTITIONS
            .iter()
            .find(|(p, _)| *p == partition)
            .map_or("amazonaws.com", |(_, suffix)| suffix)
    }

    /// The ARN of the bucket.
    pub fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition(), self.bucket)
    }

    /// The ARN of the object.
    pub fn object_arn(&self) -> String {
        format!("{}/{}", self.bucket_arn(), self.key())
    }

    /// The ARN pattern of every object of the bucket.
    pub fn objects_arn(&self) -> String {
        format!("{}/*", self.bucket_arn())
    }

    /// The object key, or the default.
    pub fn key(&self) -> &str {
        self.key
            .as_deref()
            .filter(|k| !k.is_empty())
            .unwrap_or(DEFAULT_KEY)
    }

    /// The actions, or the default `[PutObject]`.
    pub fn actions(&self) -> Vec<String> {
        if self.actions.is_empty() {
            vec!["PutObject".to_owned()]
        } else {
            self.actions.clone()
        }
    }
}

/// Upload headers; all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Upload {
    /// `x-amz-acl`: a canned ACL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::acl")
    )]
    pub acl: Option<String>,
    /// `x-amz-grant-full-control`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::grants")
    )]
    pub grant_full_control: Option<String>,
    /// `x-amz-grant-read`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::grants")
    )]
    pub grant_read: Option<String>,
    /// `x-amz-grant-read-acp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::grants")
    )]
    pub grant_read_acp: Option<String>,
    /// `x-amz-grant-write-acp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::grants")
    )]
    pub grant_write_acp: Option<String>,
    /// `x-amz-storage-class`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::storage_class")
    )]
    pub storage_class: Option<String>,
    /// `x-amz-server-side-encryption`: `AES256`, `aws:kms` or `aws:kms:dsse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::sse")
    )]
    pub server_side_encryption: Option<String>,
    /// `x-amz-server-side-encryption-aws-kms-key-id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::kms_key")
    )]
    pub sse_kms_key_id: Option<String>,
    /// `x-amz-server-side-encryption-bucket-key-enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_key_enabled: Option<bool>,
    /// A multipart upload (CreateMultipartUpload / UploadPart / CompleteMultipartUpload).
    #[serde(default)]
    pub multipart: bool,
    /// `x-amz-tagging`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::tags")
    )]
    pub tags: BTreeMap<String, String>,
    /// `x-amz-server-side-encryption-customer-algorithm` (SSE-C), e.g. `AES256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::sse_customer")
    )]
    pub sse_customer_algorithm: Option<String>,
    /// `x-amz-object-lock-mode` (`GOVERNANCE` | `COMPLIANCE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::lock_mode")
    )]
    pub object_lock_mode: Option<String>,
    /// `x-amz-object-lock-retain-until-date`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::timestamp")
    )]
    pub object_lock_retain_until_date: Option<String>,
    /// `x-amz-object-lock-legal-hold` (`ON` | `OFF`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::legal_hold")
    )]
    pub object_lock_legal_hold: Option<String>,
    /// `x-amz-request-payer: requester` is sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub request_payer: bool,
    /// `If-None-Match` (a conditional write: `*`, write only if no object has the key), the
    /// `s3:if-none-match` key; on `PutObject` and `CompleteMultipartUpload` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::if_none_match")
    )]
    pub if_none_match: Option<String>,
    /// `If-Match` (a conditional write: the ETag the object must have), the `s3:if-match` key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 128)))]
    pub if_match: Option<String>,
    /// `x-amz-expected-bucket-owner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::account_id")
    )]
    pub expected_bucket_owner: Option<String>,
}

/// Where the requests come from; all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Network {
    /// The public egress IP; absent from the request context when `vpcEndpointId` is set. When it is not
    /// given, a condition on `aws:SourceIp` cannot be decided and makes the verdict `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::ip")
    )]
    pub source_ip: Option<String>,
    /// The S3 VPC endpoint the requests go through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::vpc_endpoint_id")
    )]
    pub vpc_endpoint_id: Option<String>,
    /// The VPC the requests come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::vpc_id")
    )]
    pub vpc_id: Option<String>,
    /// HTTPS; default true (every AWS SDK and the CLI use HTTPS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_transport: Option<bool>,
    /// the TLS version the client negotiates (`1.2`, `1.3`), the value of `s3:TlsVersion`. When
    /// it is not given, a condition on it cannot be decided and makes the verdict `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::tls_version")
    )]
    pub tls_version: Option<String>,
}
