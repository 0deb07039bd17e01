//! The snapshot (format version 1): every live input one check needs, read at one moment. The seam between
//! the AWS adapter, which writes it, and the pure diagnosis, which reads it. Extensions to the spec are
//! marked "extension" and documented in the README.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

mod check_request;

pub use check_request::{CheckRequest, Network, Upload};

/// The snapshot format version this build reads and writes.
pub const SNAPSHOT_VERSION: u32 = 1;

/// Everything the diagnosis needs about one check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Snapshot {
    /// Always 1.
    pub version: u32,
    /// What the workload does.
    pub request: CheckRequest,
    /// The caller and its policies; `None` when it could not be read.
    #[serde(default)]
    pub principal: Option<PrincipalData>,
    /// SCPs and RCPs; `None` when the accounts are not in an organization.
    #[serde(default)]
    pub organization: Option<Organization>,
    /// The bucket's configuration; `None` when it could not be read.
    #[serde(default)]
    pub bucket: Option<BucketData>,
    /// The VPC endpoint the request goes through, if any.
    #[serde(default)]
    pub vpc_endpoint: Option<VpcEndpoint>,
    /// Every KMS key the upload would use.
    #[serde(default)]
    pub kms_keys: Vec<KmsKey>,
    /// Extension: the object a download reads (read for `GetObject` checks; `None`: not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectData>,
    /// Extension: the access point the requests go through (read when `request.accessPoint` is set; `None`:
    /// not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_point: Option<AccessPointData>,
    /// What could not be read, and why.
    #[serde(default)]
    pub unavailable: Vec<Unavailable>,
    /// Extension: when the snapshot was read (RFC 3339); gives `aws:CurrentTime` and `aws:EpochTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    /// Extension: IAM has no role or user at exactly the check's ARN (none of that name, or one at another
    /// path), with a note. The principal is then absent, and that is known, not unread; the check is `Invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_not_found: Option<String>,
    /// Extension: nothing could be read because the reading identity has no usable AWS credentials, with the
    /// credentials provider's message. The check is then `Unknown` with this one reason, not one per layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_credentials: Option<String>,
}

/// A policy with where it comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NamedPolicy {
    /// ARN, policy id, or a name that says where it lives.
    #[serde(default)]
    pub id: String,
    /// The policy's name.
    #[serde(default)]
    pub name: String,
    /// `managed`, `awsManaged`, `inline`, `groupManaged`, `groupInline` (identity policies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::policy_source")
    )]
    pub source: Option<String>,
    /// The document: an object, or a string (possibly percent-encoded).
    pub document: Value,
}

/// The caller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PrincipalData {
    /// Role or user ARN.
    pub arn: String,
    /// Its account.
    #[serde(default)]
    pub account_id: String,
    /// `role` or `user`.
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::principal_kind")
    )]
    pub kind: String,
    /// `AROA...` / `AIDA...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// Tags (become `aws:PrincipalTag/*`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Every identity-based policy that applies.
    #[serde(default)]
    pub policies: Vec<NamedPolicy>,
    /// The permissions boundary.
    #[serde(default)]
    pub permissions_boundary: Option<NamedPolicy>,
    /// The session policy document.
    #[serde(default)]
    pub session_policy: Option<Value>,
    /// Extension: the canonical user id of the principal's account (what bucket ACLs grant to); read only when
    /// a bucket ACL of another account grants to a canonical user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_canonical_id: Option<String>,
}

/// Organizations policies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Organization {
    /// Extension: the organization id of the principal's account (gives `aws:PrincipalOrgID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// SCPs of the principal's account, one array per level from the root down.
    #[serde(default)]
    pub scps: Vec<Vec<NamedPolicy>>,
    /// RCPs of the bucket's account, same shape.
    #[serde(default)]
    pub rcps: Vec<Vec<NamedPolicy>>,
}

/// Block Public Access settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PublicAccessBlock {
    /// `BlockPublicAcls`.
    #[serde(default)]
    pub block_public_acls: bool,
    /// `IgnorePublicAcls`.
    #[serde(default)]
    pub ignore_public_acls: bool,
    /// `BlockPublicPolicy`.
    #[serde(default)]
    pub block_public_policy: bool,
    /// `RestrictPublicBuckets`.
    #[serde(default)]
    pub restrict_public_buckets: bool,
}

/// Default encryption of a bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Encryption {
    /// `AES256`, `aws:kms`, `aws:kms:dsse`.
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::bucket_sse")
    )]
    pub sse_algorithm: String,
    /// Key ARN, key id or alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
    /// S3 Bucket Keys.
    #[serde(default)]
    pub bucket_key_enabled: bool,
    /// e.g. `["SSE-C"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_encryption_types: Vec<String>,
}

/// The bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BucketData {
    /// The name.
    pub name: String,
    /// The owner account.
    #[serde(default)]
    pub account_id: String,
    /// The Region.
    #[serde(default)]
    pub region: String,
    /// The bucket policy, or `None` when the bucket has none.
    #[serde(default)]
    pub policy: Option<Value>,
    /// `BucketOwnerEnforced`, `BucketOwnerPreferred`, `ObjectWriter`, or `None` (not set: ObjectWriter).
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::ownership")
    )]
    pub ownership: Option<String>,
    /// The bucket's Block Public Access settings (`None`: not configured, all false).
    #[serde(default)]
    pub public_access_block: Option<PublicAccessBlock>,
    /// The bucket account's settings.
    #[serde(default)]
    pub account_public_access_block: Option<PublicAccessBlock>,
    /// Default encryption.
    #[serde(default)]
    pub encryption: Option<Encryption>,
    /// Object Lock.
    #[serde(default)]
    pub object_lock_enabled: bool,
    /// Requester Pays.
    #[serde(default)]
    pub requester_pays: bool,
    /// Extension: the bucket's tags (`None`: not read; read only when a policy tests a resource tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// Extension: whether attribute-based access control is enabled on the bucket (`GetBucketAbac`): only
    /// then do its tags act in `aws:ResourceTag/...` and `s3:BucketTag/...` conditions. `None`: not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abac_enabled: Option<bool>,
    /// Extension: the bucket's ACL (`GetBucketAcl`; `None`: not read, read for uploads from another account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<BucketAcl>,
}

/// Extension: the object a download reads, as `ListObjectsV2` and `GetObjectTagging` answer (no read of its
/// content or metadata needs `s3:GetObject`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ObjectData {
    /// Whether an object has the key.
    pub exists: bool,
    /// Its storage class (`STANDARD`, `GLACIER`, `DEEP_ARCHIVE`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::object_storage_class")
    )]
    pub storage_class: Option<String>,
    /// For an archived object: whether a restored copy is available (`None`: no restore asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<bool>,
    /// Its tags, the `s3:ExistingObjectTag/KEY` values of a download (`None`: not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    /// The canonical user id of its owner (`None`: not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Its ACL's grants (`None`: not read; read when Object Ownership lets ACLs act).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<AclGrant>>,
    /// The version these facts describe (`None`: the current version). A download of a `versionId` takes
    /// them only when they are that version's: tags, owner and ACL belong to one version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

impl Snapshot {
    /// The snapshot whose object facts are those of the object the check reads: facts of another version
    /// than the one the check reads (the current one, without `versionId`) are not that object's, so they
    /// are left out, as if not read (its tags then decide nothing either way).
    pub fn with_object_of_request(&self) -> std::borrow::Cow<'_, Snapshot> {
        match (&self.request.version_id, &self.object) {
            (wanted, Some(object)) if object.version_id != *wanted => {
                let mut s = self.clone();
                s.object = None;
                std::borrow::Cow::Owned(s)
            }
            _ => std::borrow::Cow::Borrowed(self),
        }
    }
}

/// Extension: an access point, as `s3control:GetAccessPoint` and `GetAccessPointPolicy` answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AccessPointData {
    /// Its ARN.
    pub arn: String,
    /// Its alias (`NAME-…-s3alias`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// The account that owns it.
    #[serde(default)]
    pub account_id: String,
    /// The bucket behind it.
    pub bucket: String,
    /// The account that owns the bucket (empty: the access point's).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bucket_account_id: String,
    /// `Internet` or `VPC`.
    #[serde(default = "internet")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::network_origin")
    )]
    pub network_origin: String,
    /// With network origin `VPC`: the only VPC it admits requests from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// Its own Block Public Access settings, fixed at creation (`None`: not known; AWS turns all four on by
    /// default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
    /// Its policy (`None`: it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
}

fn internet() -> String {
    "Internet".to_owned()
}

/// Extension: a bucket ACL: its owner and its grants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BucketAcl {
    /// The owner's canonical user id.
    #[serde(default)]
    pub owner: String,
    /// The grants.
    #[serde(default)]
    pub grants: Vec<AclGrant>,
}

/// One grant of an ACL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AclGrant {
    /// `CanonicalUser`, `Group` or `AmazonCustomerByEmail`.
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::grantee_type")
    )]
    pub grantee_type: String,
    /// The canonical user id, the group's URI, or the email address.
    pub grantee: String,
    /// `FULL_CONTROL`, `WRITE`, `WRITE_ACP`, `READ` or `READ_ACP`.
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::acl_permission")
    )]
    pub permission: String,
}

/// A VPC endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VpcEndpoint {
    /// `vpce-...`.
    pub id: String,
    /// Its VPC.
    #[serde(default)]
    pub vpc_id: String,
    /// e.g. `com.amazonaws.us-east-1.s3`.
    #[serde(default)]
    pub service_name: String,
    /// `Gateway` or `Interface`.
    #[serde(default, rename = "type")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::endpoint_type")
    )]
    pub kind: String,
    /// The endpoint policy (`None`: the default, full access).
    #[serde(default)]
    pub policy: Option<Value>,
    /// Extension: the DNS names of an interface endpoint (`DnsEntries`), for the request that uses it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    /// Extension: the account that owns the endpoint (`OwnerId`): `aws:VpceAccount` of the requests that go
    /// through it. Empty: not known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owner_id: String,
}

/// A KMS key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KmsKey {
    /// The key ARN.
    pub arn: String,
    /// The key's account.
    #[serde(default)]
    pub account_id: String,
    /// The key's Region.
    #[serde(default)]
    pub region: String,
    /// Aliases, e.g. `alias/aws/s3`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `AWS` or `CUSTOMER`.
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::key_manager")
    )]
    pub key_manager: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::formats::schema::key_state")
    )]
    pub key_state: String,
    /// `SYMMETRIC_DEFAULT`, ...
    #[serde(default)]
    pub key_spec: String,
    /// The key policy.
    #[serde(default)]
    pub policy: Option<Value>,
    /// Grants.
    #[serde(default)]
    pub grants: Vec<KmsGrant>,
    /// Extension: the key's tags, its `aws:ResourceTag/...` values (`None`: not read; read only when a
    /// policy tests a resource tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A KMS grant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KmsGrant {
    /// The grantee principal ARN.
    pub grantee_principal: String,
    /// Operations, e.g. `GenerateDataKey`, `Decrypt`.
    #[serde(default)]
    pub operations: Vec<String>,
    /// `{"encryptionContextSubset": {...}}` or `{"encryptionContextEquals": {...}}`.
    #[serde(default)]
    pub constraints: Option<Value>,
}

/// A layer that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Unavailable {
    /// The layer.
    pub layer: SnapshotLayer,
    /// Why, e.g. `AccessDenied calling organizations:ListPoliciesForTarget`.
    pub reason: String,
}

/// The layers of a check, as named in snapshots and diagnoses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
#[expect(missing_docs, reason = "the names are the spec's layer names")]
#[derive(strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "camelCase")]
pub enum SnapshotLayer {
    Identity,
    PermissionsBoundary,
    SessionPolicy,
    Scp,
    Rcp,
    BucketPolicy,
    BucketOwnership,
    PublicAccessBlock,
    AccountPublicAccessBlock,
    BucketEncryption,
    VpcEndpointPolicy,
    KmsKey,
    KmsKeyPolicy,
    KmsGrants,
    /// Extension: request-level settings that are not policies (Requester Pays, expected owner, the request itself).
    Request,
    /// Extension: the bucket's and the KMS key's tags and the bucket's ABAC setting, read when a policy tests a
    /// resource tag.
    ResourceTags,
    /// Extension: the bucket's ACL (and the caller account's canonical id), read for uploads from another
    /// account.
    BucketAcl,
    /// Extension: the object a download reads (existence, storage class, tags).
    Object,
    /// Extension: the access point the requests go through (its bucket, network origin, Block Public Access).
    AccessPoint,
    /// Extension: the access point's policy.
    AccessPointPolicy,
}

impl SnapshotLayer {
    /// The layers read from the bucket's own settings: all of them are missing when the bucket is.
    pub const BUCKET: [Self; 5] = [
        Self::BucketPolicy,
        Self::BucketOwnership,
        Self::PublicAccessBlock,
        Self::AccountPublicAccessBlock,
        Self::BucketEncryption,
    ];

    /// The camelCase name.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Why a snapshot file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Not JSON, or a key given twice (which JSON readers resolve silently, each their own way).
    #[error("{0}")]
    Json(String),
    /// A field that is unknown, missing or of the wrong type, with its path.
    #[error("`{path}`: {message}")]
    Field {
        /// The field's path, e.g. `request.upload.storageClas`.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The largest snapshot read: AWS's own size limits keep a real one far below (policies of at most 20 KB,
/// a few dozen of them).
pub const MAX_SNAPSHOT_BYTES: usize = 4 * 1024 * 1024;

/// Reads a snapshot strictly: a duplicate key anywhere, or an unknown field at any level, is an error naming
/// where, never a silently ignored value.
pub fn from_json(text: &str) -> Result<Snapshot, SnapshotError> {
    if text.len() > MAX_SNAPSHOT_BYTES {
        return Err(SnapshotError::Json(format!(
            "the snapshot has {} bytes; at most {MAX_SNAPSHOT_BYTES} are read",
            text.len()
        )));
    }
    let value =
        iam_policy::strict_json::from_str(text).map_err(|e| SnapshotError::Json(e.to_string()))?;
    serde_path_to_error::deserialize(value).map_err(|e| SnapshotError::Field {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

#[cfg(test)]
mod derived_names {
    use super::SnapshotLayer;
    use crate::{RequestDecision, Verdict};

    /// The names `strum` derives are the names `serde` writes: one spelling per variant.
    #[test]
    fn strum_and_serde_agree() {
        let serde = |v: serde_json::Value| v.as_str().map(str::to_owned);
        for layer in <SnapshotLayer as strum::VariantArray>::VARIANTS
            .iter()
            .copied()
        {
            assert_eq!(
                serde(serde_json::json!(layer)).as_deref(),
                Some(layer.name())
            );
        }
        for verdict in [
            Verdict::Allowed,
            Verdict::Denied,
            Verdict::Unknown,
            Verdict::Invalid,
        ] {
            assert_eq!(
                serde(serde_json::json!(verdict)).as_deref(),
                Some(verdict.as_str())
            );
        }
        for decision in [
            RequestDecision::Allowed,
            RequestDecision::ImplicitDeny,
            RequestDecision::ExplicitDeny,
            RequestDecision::Unknown,
        ] {
            assert_eq!(
                serde(serde_json::json!(decision)).as_deref(),
                Some(decision.as_str())
            );
        }
        assert_eq!(
            SnapshotLayer::PermissionsBoundary.name(),
            "permissionsBoundary"
        );
    }
}
