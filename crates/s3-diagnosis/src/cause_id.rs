//! The cause ids: the stable ids of the S3 denial cause catalog, plus our documented extensions, declared once
//! (the enum, its text and the list of all of them).

use serde::Serialize;

/// Declares the cause ids once: the enum, its text and the list of all of them.
macro_rules! cause_ids {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// A stable cause id: the catalog's, plus our documented extensions (see `docs/causes.md`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum CauseId {
            $($(#[$doc])* #[doc = $text] $variant,)*
        }

        impl CauseId {
            /// Every cause id, in declaration order.
            pub const ALL: &'static [CauseId] = &[$(CauseId::$variant,)*];

            /// The id as written in the diagnosis (SCREAMING_SNAKE).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(CauseId::$variant => $text,)*
                }
            }
        }
    };
}

cause_ids! {
    IdentityNoAllow = "IDENTITY_NO_ALLOW",
    IdentityWrongResourceArn = "IDENTITY_WRONG_RESOURCE_ARN",
    IdentityConditionUnmet = "IDENTITY_CONDITION_UNMET",
    IdentityExplicitDeny = "IDENTITY_EXPLICIT_DENY",
    IdentityNoPutObjectAcl = "IDENTITY_NO_PUT_OBJECT_ACL",
    IdentityNoPutObjectTagging = "IDENTITY_NO_PUT_OBJECT_TAGGING",
    IdentityNoObjectLockPermission = "IDENTITY_NO_OBJECT_LOCK_PERMISSION",
    ResourcePerimeterDeny = "RESOURCE_PERIMETER_DENY",
    PermissionBoundaryNoAllow = "PERMISSION_BOUNDARY_NO_ALLOW",
    PermissionBoundaryExplicitDeny = "PERMISSION_BOUNDARY_EXPLICIT_DENY",
    SessionPolicyNoAllow = "SESSION_POLICY_NO_ALLOW",
    SessionPolicyExplicitDeny = "SESSION_POLICY_EXPLICIT_DENY",
    PrincipalTagConditionMismatch = "PRINCIPAL_TAG_CONDITION_MISMATCH",
    MfaCondition = "MFA_CONDITION",
    ScpExplicitDeny = "SCP_EXPLICIT_DENY",
    ScpNoAllow = "SCP_NO_ALLOW",
    ScpRegionDeny = "SCP_REGION_DENY",
    RcpExplicitDenyS3 = "RCP_EXPLICIT_DENY_S3",
    BucketPolicyExplicitDeny = "BUCKET_POLICY_EXPLICIT_DENY",
    BucketPolicyNoAllowCrossAccount = "BUCKET_POLICY_NO_ALLOW_CROSS_ACCOUNT",
    BucketPolicyPrincipalMismatch = "BUCKET_POLICY_PRINCIPAL_MISMATCH",
    BucketPolicyPrincipalStaleUniqueId = "BUCKET_POLICY_PRINCIPAL_STALE_UNIQUE_ID",
    BucketPolicyAccountPrincipalSameAccount = "BUCKET_POLICY_ACCOUNT_PRINCIPAL_SAME_ACCOUNT",
    SameAccountRoleArnGrantBounded = "SAME_ACCOUNT_ROLE_ARN_GRANT_BOUNDED",
    BucketPolicyNotprincipalDeny = "BUCKET_POLICY_NOTPRINCIPAL_DENY",
    BucketPolicyResourceMismatch = "BUCKET_POLICY_RESOURCE_MISMATCH",
    BucketPolicyConditionSourceIp = "BUCKET_POLICY_CONDITION_SOURCE_IP",
    BucketPolicyConditionSourceVpce = "BUCKET_POLICY_CONDITION_SOURCE_VPCE",
    BucketPolicyConditionSseRequired = "BUCKET_POLICY_CONDITION_SSE_REQUIRED",
    BucketPolicyConditionKmsKeyId = "BUCKET_POLICY_CONDITION_KMS_KEY_ID",
    BucketPolicyConditionAclRequired = "BUCKET_POLICY_CONDITION_ACL_REQUIRED",
    BucketPolicyConditionStorageClass = "BUCKET_POLICY_CONDITION_STORAGE_CLASS",
    BucketPolicyConditionTls = "BUCKET_POLICY_CONDITION_TLS",
    BucketPolicyConditionSignature = "BUCKET_POLICY_CONDITION_SIGNATURE",
    BucketPolicyConditionPrincipalOrg = "BUCKET_POLICY_CONDITION_PRINCIPAL_ORG",
    BucketPolicyConditionObjectTags = "BUCKET_POLICY_CONDITION_OBJECT_TAGS",
    BucketPolicyConditionObjectLock = "BUCKET_POLICY_CONDITION_OBJECT_LOCK",
    BucketPolicyConditionalWrites = "BUCKET_POLICY_CONDITIONAL_WRITES",
    BucketPolicyAbacTagCondition = "BUCKET_POLICY_ABAC_TAG_CONDITION",
    BucketPolicyAccessPointOnly = "BUCKET_POLICY_ACCESS_POINT_ONLY",
    AccessPointPolicyNoAllow = "ACCESS_POINT_POLICY_NO_ALLOW",
    AccessPointPolicyExplicitDeny = "ACCESS_POINT_POLICY_EXPLICIT_DENY",
    AccessPointBucketNotDelegated = "ACCESS_POINT_BUCKET_NOT_DELEGATED",
    AccessPointNetworkOriginVpc = "ACCESS_POINT_NETWORK_ORIGIN_VPC",
    AccessPointBpa = "ACCESS_POINT_BPA",
    OwnershipEnforcedAcl = "OWNERSHIP_ENFORCED_ACL",
    BpaBlockPublicAcls = "BPA_BLOCK_PUBLIC_ACLS",
    BpaRestrictPublicBuckets = "BPA_RESTRICT_PUBLIC_BUCKETS",
    AclOnlyGrantDisabled = "ACL_ONLY_GRANT_DISABLED",
    BpaIgnorePublicAcls = "BPA_IGNORE_PUBLIC_ACLS",
    VpcePolicyNoAllow = "VPCE_POLICY_NO_ALLOW",
    VpcePolicyExplicitDeny = "VPCE_POLICY_EXPLICIT_DENY",
    SseCBlocked = "SSE_C_BLOCKED",
    KmsKeyPolicyNoAllow = "KMS_KEY_POLICY_NO_ALLOW",
    KmsIdentityNoAllow = "KMS_IDENTITY_NO_ALLOW",
    KmsCrossAccountKeyPolicyMissing = "KMS_CROSS_ACCOUNT_KEY_POLICY_MISSING",
    KmsNoDecryptForMultipart = "KMS_NO_DECRYPT_FOR_MULTIPART",
    /// Extension: an S3 Bucket Key is used and `kms:Decrypt` is not allowed (the seed article: "must have
    /// access to kms:Decrypt permission").
    KmsNoDecryptForBucketKey = "KMS_NO_DECRYPT_FOR_BUCKET_KEY",
    KmsExplicitDeny = "KMS_EXPLICIT_DENY",
    KmsConditionViaService = "KMS_CONDITION_VIA_SERVICE",
    KmsConditionCallerAccount = "KMS_CONDITION_CALLER_ACCOUNT",
    KmsEncryptionContextMismatch = "KMS_ENCRYPTION_CONTEXT_MISMATCH",
    KmsNetworkConditionOnFas = "KMS_NETWORK_CONDITION_ON_FAS",
    KmsBoundaryOrSessionNoKms = "KMS_BOUNDARY_OR_SESSION_NO_KMS",
    KmsScpDeny = "KMS_SCP_DENY",
    KmsRcpDeny = "KMS_RCP_DENY",
    KmsAwsManagedKeyCrossAccount = "KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT",
    KmsKeyDisabled = "KMS_KEY_DISABLED",
    KmsKeyPendingDeletionOrUnavailable = "KMS_KEY_PENDING_DELETION_OR_UNAVAILABLE",
    KmsKeyNotFoundOrWrongRegion = "KMS_KEY_NOT_FOUND_OR_WRONG_REGION",
    KmsAliasResolvesInCallerAccount = "KMS_ALIAS_RESOLVES_IN_CALLER_ACCOUNT",
    KmsKeyNotSymmetric = "KMS_KEY_NOT_SYMMETRIC",
    KmsGrantMissingOrConstrained = "KMS_GRANT_MISSING_OR_CONSTRAINED",
    RequesterPaysHeaderMissing = "REQUESTER_PAYS_HEADER_MISSING",
    ExpectedBucketOwnerMismatch = "EXPECTED_BUCKET_OWNER_MISMATCH",
    GetKmsNoDecrypt = "GET_KMS_NO_DECRYPT",
    GetIdentityNoAllowVersion = "GET_IDENTITY_NO_ALLOW_VERSION",
    GetObjectOwnedByOtherAccount = "GET_OBJECT_OWNED_BY_OTHER_ACCOUNT",
    GetUploaderLostAccessAfterOwnershipTransfer = "GET_UPLOADER_LOST_ACCESS_AFTER_OWNERSHIP_TRANSFER",
    GetPublicAclIgnored = "GET_PUBLIC_ACL_IGNORED",
    GetRequesterPays = "GET_REQUESTER_PAYS",
    GetExistingObjectTagCondition = "GET_EXISTING_OBJECT_TAG_CONDITION",
    GetArchivedObject = "GET_ARCHIVED_OBJECT",
    GetMissingObjectWithoutListbucket = "GET_MISSING_OBJECT_WITHOUT_LISTBUCKET",
    GetKmsAwsManagedKeyCrossAccount = "GET_KMS_AWS_MANAGED_KEY_CROSS_ACCOUNT",
    /// Extension: the request itself is malformed (verdict `Invalid`).
    InvalidRequest = "INVALID_REQUEST",
    /// Extension: a policy document has errors; the statements involved could not be evaluated for certain.
    PolicyDocumentInvalid = "POLICY_DOCUMENT_INVALID",
    /// Extension: multipart uploads carry no SSE header on UploadPart/CompleteMultipartUpload; a Deny keyed
    /// on that header may block them (the catalog marks this an inference: reported as a warning).
    MultipartHeaderCondition = "MULTIPART_HEADER_CONDITION",
    /// Extension: a condition reads a value every real request carries (the source IP, the time, the
    /// session) and the check does not give it: the verdict is `Unknown`, naming the field that settles it.
    ContextValueUnknown = "CONTEXT_VALUE_UNKNOWN",
    /// Extension: the role or user of the check does not exist in its account (IAM answered
    /// `NoSuchEntity`).
    PrincipalNotFound = "PRINCIPAL_NOT_FOUND",
}

impl std::fmt::Display for CauseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CauseId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::str::FromStr for CauseId {
    type Err = String;

    /// The id of its text (`IDENTITY_NO_ALLOW`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CauseId::ALL
            .iter()
            .copied()
            .find(|id| id.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not a cause id"))
    }
}

impl<'de> serde::Deserialize<'de> for CauseId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The schema of a cause id: one of its texts (the CRD's status then lists them).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for CauseId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CauseId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let ids: Vec<&str> = CauseId::ALL.iter().map(|id| id.as_str()).collect();
        schemars::json_schema!({"type": "string", "enum": ids})
    }
}
