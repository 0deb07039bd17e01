//! Cause ids (the stable ids of the S3 denial cause catalog, plus our documented extensions) and the `Cause`
//! type the diagnosis reports.

pub use super::cause_id::CauseId;
use super::remediation::Remediation;
use super::snapshot::SnapshotLayer;
use serde::Serialize;

/// What kind of problem a cause is: decides the order in which causes are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// The check or a policy document is malformed.
    Invalid,
    /// The KMS key cannot be used at all (state, existence, kind, account).
    KeyUnusable,
    /// A bucket or request setting that blocks the upload whatever the policies say.
    Setting,
    /// A service or resource control policy of the organization.
    Organization,
    /// An explicit Deny statement.
    ExplicitDeny,
    /// A condition on the request or the principal (in a Deny, or an Allow that would otherwise grant).
    Condition,
    /// The network path (VPC endpoint policy) or public-access blocking of a grant.
    Path,
    /// A grant is missing: no Allow in a layer that needs one.
    MissingGrant,
    /// A KMS permission is missing.
    KmsGrant,
    /// Advice: a variant of the upload may fail.
    Advice,
}

impl CauseId {
    /// The category (exhaustive: a new id must say where it belongs).
    pub fn category(self) -> Category {
        use CauseId as C;
        match self {
            C::InvalidRequest | C::PolicyDocumentInvalid | C::ContextValueUnknown => {
                Category::Invalid
            }
            C::KmsKeyDisabled
            | C::KmsKeyPendingDeletionOrUnavailable
            | C::KmsKeyNotFoundOrWrongRegion
            | C::KmsKeyNotSymmetric
            | C::KmsAwsManagedKeyCrossAccount
            | C::KmsAliasResolvesInCallerAccount
            | C::GetKmsAwsManagedKeyCrossAccount => Category::KeyUnusable,
            C::PrincipalNotFound
            | C::OwnershipEnforcedAcl
            | C::BpaBlockPublicAcls
            | C::SseCBlocked
            | C::RequesterPaysHeaderMissing
            | C::ExpectedBucketOwnerMismatch
            | C::GetRequesterPays
            | C::GetArchivedObject => Category::Setting,
            C::ScpExplicitDeny
            | C::ScpNoAllow
            | C::ScpRegionDeny
            | C::RcpExplicitDenyS3
            | C::KmsScpDeny
            | C::KmsRcpDeny => Category::Organization,
            C::IdentityExplicitDeny
            | C::PermissionBoundaryExplicitDeny
            | C::SessionPolicyExplicitDeny
            | C::ResourcePerimeterDeny
            | C::BucketPolicyExplicitDeny
            | C::BucketPolicyNotprincipalDeny
            | C::VpcePolicyExplicitDeny
            | C::AccessPointPolicyExplicitDeny
            | C::KmsExplicitDeny => Category::ExplicitDeny,
            C::PrincipalTagConditionMismatch
            | C::MfaCondition
            | C::BucketPolicyConditionSourceIp
            | C::BucketPolicyConditionSourceVpce
            | C::BucketPolicyConditionSseRequired
            | C::BucketPolicyConditionKmsKeyId
            | C::BucketPolicyConditionAclRequired
            | C::BucketPolicyConditionStorageClass
            | C::BucketPolicyConditionTls
            | C::BucketPolicyConditionSignature
            | C::BucketPolicyConditionPrincipalOrg
            | C::BucketPolicyConditionObjectTags
            | C::BucketPolicyConditionObjectLock
            | C::BucketPolicyConditionalWrites
            | C::BucketPolicyAbacTagCondition
            | C::BucketPolicyAccessPointOnly
            | C::KmsConditionViaService
            | C::KmsConditionCallerAccount
            | C::KmsEncryptionContextMismatch
            | C::KmsNetworkConditionOnFas
            | C::GetExistingObjectTagCondition => Category::Condition,
            C::VpcePolicyNoAllow
            | C::BpaRestrictPublicBuckets
            | C::AccessPointNetworkOriginVpc
            | C::AccessPointBpa => Category::Path,
            C::IdentityNoAllow
            | C::IdentityWrongResourceArn
            | C::IdentityConditionUnmet
            | C::IdentityNoPutObjectAcl
            | C::IdentityNoPutObjectTagging
            | C::IdentityNoObjectLockPermission
            | C::PermissionBoundaryNoAllow
            | C::SessionPolicyNoAllow
            | C::BucketPolicyNoAllowCrossAccount
            | C::AccessPointPolicyNoAllow
            | C::AccessPointBucketNotDelegated
            | C::GetMissingObjectWithoutListbucket
            | C::GetIdentityNoAllowVersion
            | C::GetObjectOwnedByOtherAccount
            | C::GetUploaderLostAccessAfterOwnershipTransfer
            | C::GetPublicAclIgnored
            | C::AclOnlyGrantDisabled
            | C::BpaIgnorePublicAcls
            | C::BucketPolicyPrincipalMismatch
            | C::BucketPolicyPrincipalStaleUniqueId
            | C::BucketPolicyAccountPrincipalSameAccount
            | C::SameAccountRoleArnGrantBounded
            | C::BucketPolicyResourceMismatch => Category::MissingGrant,
            C::KmsKeyPolicyNoAllow
            | C::KmsIdentityNoAllow
            | C::KmsCrossAccountKeyPolicyMissing
            | C::KmsNoDecryptForMultipart
            | C::KmsNoDecryptForBucketKey
            | C::KmsBoundaryOrSessionNoKms
            | C::KmsGrantMissingOrConstrained
            | C::GetKmsNoDecrypt => Category::KmsGrant,
            C::MultipartHeaderCondition => Category::Advice,
        }
    }
}

/// How sure a cause is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// The request is denied for this reason.
    Error,
    /// Likely to fail, or fails in some variants of the upload; does not by itself make the verdict Denied.
    Warning,
}

/// Where a statement is, for a person: the one statement location of the diagnosis, its status and its
/// text output. Displays as `` `Sid` of `policy` `` (or `#index of `policy`` without a Sid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StatementPointer {
    /// The policy's id: an ARN, `bucket-policy`, a VPC endpoint id, a key ARN, ...
    pub policy_id: String,
    /// The statement's `Sid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Its index in the policy.
    #[serde(default)]
    pub statement_index: u32,
}

impl std::fmt::Display for StatementPointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sid {
            Some(sid) => write!(f, "`{sid}` of `{}`", self.policy_id),
            None => write!(f, "#{} of `{}`", self.statement_index, self.policy_id),
        }
    }
}

/// One reason an implied request fails, with what to change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cause {
    /// A catalog id.
    pub id: CauseId,
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
    pub fn error(id: CauseId, layer: SnapshotLayer, action: &str, message: String) -> Self {
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
    pub fn warning(id: CauseId, layer: SnapshotLayer, action: &str, message: String) -> Self {
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

    /// What to fix first: severity, then the category (configuration blockers, organization policies,
    /// explicit denies, conditions, the network path, missing grants, KMS grants, advice).
    pub fn rank(&self) -> (Severity, Category) {
        (self.severity, self.id.category())
    }
}
