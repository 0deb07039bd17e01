//! Cause ids (the stable ids of `shared/reference/s3-denial-causes.md`, plus our documented extensions) and
//! the `Cause` type the diagnosis reports. Depends on `snapshot` and `remediation`.

use super::remediation::Remediation;
use super::snapshot::SnapshotLayer;
use serde::Serialize;

/// The cause ids, in one place.
#[expect(missing_docs, reason = "each id is documented in the cause catalog")]
pub mod ids {
    pub const IDENTITY_NO_ALLOW: &str = "IDENTITY_NO_ALLOW";
    pub const IDENTITY_WRONG_RESOURCE_ARN: &str = "IDENTITY_WRONG_RESOURCE_ARN";
    pub const IDENTITY_CONDITION_UNMET: &str = "IDENTITY_CONDITION_UNMET";
    pub const IDENTITY_EXPLICIT_DENY: &str = "IDENTITY_EXPLICIT_DENY";
    pub const IDENTITY_NO_PUT_OBJECT_ACL: &str = "IDENTITY_NO_PUT_OBJECT_ACL";
    pub const IDENTITY_NO_PUT_OBJECT_TAGGING: &str = "IDENTITY_NO_PUT_OBJECT_TAGGING";
    pub const IDENTITY_NO_OBJECT_LOCK_PERMISSION: &str = "IDENTITY_NO_OBJECT_LOCK_PERMISSION";
    pub const RESOURCE_PERIMETER_DENY: &str = "RESOURCE_PERIMETER_DENY";
    pub const PERMISSION_BOUNDARY_NO_ALLOW: &str = "PERMISSION_BOUNDARY_NO_ALLOW";
    pub const PERMISSION_BOUNDARY_EXPLICIT_DENY: &str = "PERMISSION_BOUNDARY_EXPLICIT_DENY";
    pub const SESSION_POLICY_NO_ALLOW: &str = "SESSION_POLICY_NO_ALLOW";
    pub const SESSION_POLICY_EXPLICIT_DENY: &str = "SESSION_POLICY_EXPLICIT_DENY";
    pub const PRINCIPAL_TAG_CONDITION_MISMATCH: &str = "PRINCIPAL_TAG_CONDITION_MISMATCH";
    pub const MFA_CONDITION: &str = "MFA_CONDITION";
    pub const SCP_EXPLICIT_DENY: &str = "SCP_EXPLICIT_DENY";
    pub const SCP_NO_ALLOW: &str = "SCP_NO_ALLOW";
    pub const SCP_REGION_DENY: &str = "SCP_REGION_DENY";
    pub const RCP_EXPLICIT_DENY_S3: &str = "RCP_EXPLICIT_DENY_S3";
    /// Extension: an RCP level without an Allow (the catalog notes it cannot normally occur).
    pub const RCP_NO_ALLOW: &str = "RCP_NO_ALLOW";
    pub const BUCKET_POLICY_EXPLICIT_DENY: &str = "BUCKET_POLICY_EXPLICIT_DENY";
    pub const BUCKET_POLICY_NO_ALLOW_CROSS_ACCOUNT: &str = "BUCKET_POLICY_NO_ALLOW_CROSS_ACCOUNT";
    pub const BUCKET_POLICY_PRINCIPAL_MISMATCH: &str = "BUCKET_POLICY_PRINCIPAL_MISMATCH";
    pub const BUCKET_POLICY_PRINCIPAL_STALE_UNIQUE_ID: &str =
        "BUCKET_POLICY_PRINCIPAL_STALE_UNIQUE_ID";
    pub const BUCKET_POLICY_ACCOUNT_PRINCIPAL_SAME_ACCOUNT: &str =
        "BUCKET_POLICY_ACCOUNT_PRINCIPAL_SAME_ACCOUNT";
    pub const SAME_ACCOUNT_ROLE_ARN_GRANT_BOUNDED: &str = "SAME_ACCOUNT_ROLE_ARN_GRANT_BOUNDED";
    pub const BUCKET_POLICY_NOTPRINCIPAL_DENY: &str = "BUCKET_POLICY_NOTPRINCIPAL_DENY";
    pub const BUCKET_POLICY_RESOURCE_MISMATCH: &str = "BUCKET_POLICY_RESOURCE_MISMATCH";
    pub const BUCKET_POLICY_CONDITION_SOURCE_IP: &str = "BUCKET_POLICY_CONDITION_SOURCE_IP";
    pub const BUCKET_POLICY_CONDITION_SOURCE_VPCE: &str = "BUCKET_POLICY_CONDITION_SOURCE_VPCE";
    pub const BUCKET_POLICY_CONDITION_SSE_REQUIRED: &str = "BUCKET_POLICY_CONDITION_SSE_REQUIRED";
    pub const BUCKET_POLICY_CONDITION_KMS_KEY_ID: &str = "BUCKET_POLICY_CONDITION_KMS_KEY_ID";
    pub const BUCKET_POLICY_CONDITION_ACL_REQUIRED: &str = "BUCKET_POLICY_CONDITION_ACL_REQUIRED";
    pub const BUCKET_POLICY_CONDITION_STORAGE_CLASS: &str = "BUCKET_POLICY_CONDITION_STORAGE_CLASS";
    pub const BUCKET_POLICY_CONDITION_TLS: &str = "BUCKET_POLICY_CONDITION_TLS";
    pub const BUCKET_POLICY_CONDITION_SIGNATURE: &str = "BUCKET_POLICY_CONDITION_SIGNATURE";
    pub const BUCKET_POLICY_CONDITION_PRINCIPAL_ORG: &str = "BUCKET_POLICY_CONDITION_PRINCIPAL_ORG";
    pub const BUCKET_POLICY_CONDITION_OBJECT_TAGS: &str = "BUCKET_POLICY_CONDITION_OBJECT_TAGS";
    pub const BUCKET_POLICY_CONDITION_OBJECT_LOCK: &str = "BUCKET_POLICY_CONDITION_OBJECT_LOCK";
    pub const BUCKET_POLICY_CONDITIONAL_WRITES: &str = "BUCKET_POLICY_CONDITIONAL_WRITES";
    pub const BUCKET_POLICY_ABAC_TAG_CONDITION: &str = "BUCKET_POLICY_ABAC_TAG_CONDITION";
    pub const BUCKET_POLICY_ACCESS_POINT_ONLY: &str = "BUCKET_POLICY_ACCESS_POINT_ONLY";
    pub const OWNERSHIP_ENFORCED_ACL: &str = "OWNERSHIP_ENFORCED_ACL";
    pub const BPA_BLOCK_PUBLIC_ACLS: &str = "BPA_BLOCK_PUBLIC_ACLS";
    pub const BPA_RESTRICT_PUBLIC_BUCKETS: &str = "BPA_RESTRICT_PUBLIC_BUCKETS";
    pub const VPCE_POLICY_NO_ALLOW: &str = "VPCE_POLICY_NO_ALLOW";
    pub const VPCE_POLICY_EXPLICIT_DENY: &str = "VPCE_POLICY_EXPLICIT_DENY";
    pub const SSE_C_BLOCKED: &str = "SSE_C_BLOCKED";
    pub const KMS_KEY_POLICY_NO_ALLOW: &str = "KMS_KEY_POLICY_NO_ALLOW";
    pub const KMS_IDENTITY_NO_ALLOW: &str = "KMS_IDENTITY_NO_ALLOW";
    pub const KMS_CROSS_ACCOUNT_KEY_POLICY_MISSING: &str = "KMS_CROSS_ACCOUNT_KEY_POLICY_MISSING";
    pub const KMS_NO_DECRYPT_FOR_MULTIPART: &str = "KMS_NO_DECRYPT_FOR_MULTIPART";
    /// Extension: an S3 Bucket Key is used and `kms:Decrypt` is not allowed (the seed article: "must have
    /// access to kms:Decrypt permission").
    pub const KMS_NO_DECRYPT_FOR_BUCKET_KEY: &str = "KMS_NO_DECRYPT_FOR_BUCKET_KEY";
    pub const KMS_EXPLICIT_DENY: &str = "KMS_EXPLICIT_DENY";
    pub const KMS_CONDITION_VIA_SERVICE: &str = "KMS_CONDITION_VIA_SERVICE";
    pub const KMS_CONDITION_CALLER_ACCOUNT: &str = "KMS_CONDITION_CALLER_ACCOUNT";
    pub const KMS_ENCRYPTION_CONTEXT_MISMATCH: &str = "KMS_ENCRYPTION_CONTEXT_MISMATCH";
    pub const KMS_NETWORK_CONDITION_ON_FAS: &str = "KMS_NETWORK_CONDITION_ON_FAS";
    pub const KMS_BOUNDARY_OR_SESSION_NO_KMS: &str = "KMS_BOUNDARY_OR_SESSION_NO_KMS";
    pub const KMS_SCP_DENY: &str = "KMS_SCP_DENY";
    pub const KMS_RCP_DENY: &str = "KMS_RCP_DENY";
    pub const KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT: &str = "KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT";
    pub const KMS_KEY_DISABLED: &str = "KMS_KEY_DISABLED";
    pub const KMS_KEY_PENDING_DELETION_OR_UNAVAILABLE: &str =
        "KMS_KEY_PENDING_DELETION_OR_UNAVAILABLE";
    pub const KMS_KEY_NOT_FOUND_OR_WRONG_REGION: &str = "KMS_KEY_NOT_FOUND_OR_WRONG_REGION";
    pub const KMS_ALIAS_RESOLVES_IN_CALLER_ACCOUNT: &str = "KMS_ALIAS_RESOLVES_IN_CALLER_ACCOUNT";
    pub const KMS_KEY_NOT_SYMMETRIC: &str = "KMS_KEY_NOT_SYMMETRIC";
    pub const KMS_GRANT_MISSING_OR_CONSTRAINED: &str = "KMS_GRANT_MISSING_OR_CONSTRAINED";
    pub const REQUESTER_PAYS_HEADER_MISSING: &str = "REQUESTER_PAYS_HEADER_MISSING";
    pub const EXPECTED_BUCKET_OWNER_MISMATCH: &str = "EXPECTED_BUCKET_OWNER_MISMATCH";
    pub const GET_KMS_NO_DECRYPT: &str = "GET_KMS_NO_DECRYPT";
    pub const GET_KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT: &str = "GET_KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT";
    /// Extension: the request itself is malformed (verdict `Invalid`).
    pub const INVALID_REQUEST: &str = "INVALID_REQUEST";
    /// Extension: a policy document has errors; the statements involved could not be evaluated for certain.
    pub const POLICY_DOCUMENT_INVALID: &str = "POLICY_DOCUMENT_INVALID";
    /// Extension: multipart uploads carry no SSE header on UploadPart/CompleteMultipartUpload; a Deny keyed
    /// on that header may block them (the catalog marks this an inference: reported as a warning).
    pub const MULTIPART_HEADER_CONDITION: &str = "MULTIPART_HEADER_CONDITION";
}

/// How sure a cause is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// The request is denied for this reason.
    Error,
    /// Likely to fail, or fails in some variants of the upload; does not by itself make the verdict Denied.
    Warning,
}

/// Where a statement is, for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementPointer {
    /// The policy's id: an ARN, `bucket-policy`, a VPC endpoint id, a key ARN, ...
    pub policy_id: String,
    /// The statement's `Sid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Its index in the policy.
    pub statement_index: u32,
}

/// One reason an implied request fails, with what to change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cause {
    /// A catalog id.
    pub id: &'static str,
    /// The layer.
    pub layer: SnapshotLayer,
    /// The IAM action concerned, e.g. `s3:PutObject`.
    pub action: String,
    /// The statement concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<StatementPointer>,
    /// Expected and actual values, in a sentence.
    pub message: String,
    /// What to change: the request, the policy, or the configuration.
    pub remediation: Vec<Remediation>,
    /// Extension: `error` or `warning`.
    pub severity: Severity,
    /// False when the cause comes from a statement with errors: it cannot make the verdict Denied.
    #[serde(skip)]
    pub definite: bool,
}

impl Cause {
    /// A definite error cause.
    pub fn error(id: &'static str, layer: SnapshotLayer, action: &str, message: String) -> Self {
        Self {
            id,
            layer,
            action: action.to_owned(),
            statement: None,
            message,
            remediation: Vec::new(),
            severity: Severity::Error,
            definite: true,
        }
    }

    /// A warning.
    pub fn warning(id: &'static str, layer: SnapshotLayer, action: &str, message: String) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(id, layer, action, message)
        }
    }

    /// Sets the statement.
    pub fn at(mut self, statement: Option<StatementPointer>) -> Self {
        self.statement = statement;
        self
    }

    /// Adds remediations.
    pub fn fix(mut self, remediation: impl IntoIterator<Item = Remediation>) -> Self {
        self.remediation.extend(remediation);
        self
    }

    /// What to fix first: configuration blockers, then explicit denies, then missing grants, then KMS, then
    /// warnings.
    pub fn rank(&self) -> (Severity, u8) {
        let order = match self.id {
            ids::INVALID_REQUEST | ids::POLICY_DOCUMENT_INVALID => 0,
            ids::KMS_KEY_DISABLED
            | ids::KMS_KEY_PENDING_DELETION_OR_UNAVAILABLE
            | ids::KMS_KEY_NOT_FOUND_OR_WRONG_REGION
            | ids::KMS_KEY_NOT_SYMMETRIC
            | ids::KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT
            | ids::KMS_ALIAS_RESOLVES_IN_CALLER_ACCOUNT
            | ids::GET_KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT => 1,
            ids::OWNERSHIP_ENFORCED_ACL
            | ids::BPA_BLOCK_PUBLIC_ACLS
            | ids::SSE_C_BLOCKED
            | ids::REQUESTER_PAYS_HEADER_MISSING
            | ids::EXPECTED_BUCKET_OWNER_MISMATCH => 2,
            _ if self.layer == SnapshotLayer::Scp || self.layer == SnapshotLayer::Rcp => 3,
            _ if self.id.ends_with("EXPLICIT_DENY")
                || self.id.contains("CONDITION")
                || self.id.ends_with("_DENY") =>
            {
                4
            }
            ids::VPCE_POLICY_NO_ALLOW | ids::BPA_RESTRICT_PUBLIC_BUCKETS => 5,
            _ if self.id.starts_with("KMS_") || self.id.starts_with("GET_KMS") => 7,
            _ => 6,
        };
        (self.severity, order)
    }
}
