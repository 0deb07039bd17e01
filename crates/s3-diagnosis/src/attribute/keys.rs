//! Which cause a condition key points to, by layer (bucket policy, KMS, principal attributes, perimeter),
//! and the purpose-specific ids of a missing `kms:Decrypt`.

use super::super::causes::CauseId;
use super::super::request::Purpose;

pub(super) const PERIMETER_KEYS: [&str; 5] = [
    "aws:resourceaccount",
    "s3:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:resourcetag",
];
pub(super) const KMS_NETWORK_KEYS: [&str; 6] = [
    "aws:sourceip",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:vpcsourceip",
    "aws:securetransport",
    "s3:tlsversion",
];

/// The cause id a condition key points to, whatever the layer (principal attributes, perimeter).
pub(super) fn general_condition_id(key: &str) -> Option<CauseId> {
    if key.starts_with("s3:existingobjecttag/") {
        // Only reads carry the tags of the object they read.
        Some(CauseId::GetExistingObjectTagCondition)
    } else if key.starts_with("aws:principaltag/") || key == "aws:principaltagkeys" {
        Some(CauseId::PrincipalTagConditionMismatch)
    } else if key.starts_with("aws:multifactorauth") {
        Some(CauseId::MfaCondition)
    } else if PERIMETER_KEYS.iter().any(|k| key.starts_with(k)) {
        Some(CauseId::ResourcePerimeterDeny)
    } else {
        None
    }
}

/// The cause id of a bucket-policy condition key.
pub(super) fn bucket_condition_id(key: &str) -> Option<CauseId> {
    if let Some(header) = super::super::headers::by_key(key) {
        return Some(header.cause);
    }
    Some(match key {
        "aws:sourceip" | "aws:vpcsourceip" => CauseId::BucketPolicyConditionSourceIp,
        "aws:sourcevpce" | "aws:sourcevpc" | "aws:vpceaccount" | "aws:vpceorgid"
        | "aws:vpceorgpaths" => CauseId::BucketPolicyConditionSourceVpce,
        "aws:securetransport" | "s3:tlsversion" => CauseId::BucketPolicyConditionTls,
        "s3:signatureversion" | "s3:authtype" | "s3:signatureage" | "s3:x-amz-content-sha256" => {
            CauseId::BucketPolicyConditionSignature
        }
        // `aws:PrincipalAccount` is the caller's account, not its organization: the generic cause.
        "aws:principalorgid" | "aws:principalorgpaths" => {
            CauseId::BucketPolicyConditionPrincipalOrg
        }
        "s3:requestobjecttagkeys" => CauseId::BucketPolicyConditionObjectTags,
        k if k.starts_with("s3:requestobjecttag/") => CauseId::BucketPolicyConditionObjectTags,
        k if k.starts_with("s3:object-lock-") => CauseId::BucketPolicyConditionObjectLock,
        "s3:if-none-match" | "s3:if-match" | "s3:objectcreationoperation" => {
            CauseId::BucketPolicyConditionalWrites
        }
        k if k.starts_with("aws:resourcetag/") || k.starts_with("s3:buckettag/") => {
            CauseId::BucketPolicyAbacTagCondition
        }
        "s3:dataaccesspointarn" | "s3:dataaccesspointaccount" | "s3:accesspointnetworkorigin" => {
            CauseId::BucketPolicyAccessPointOnly
        }
        k => return general_condition_id(k),
    })
}

/// The cause id of a KMS condition key.
pub(super) fn kms_condition_id(key: &str) -> Option<CauseId> {
    if key == "kms:viaservice" {
        Some(CauseId::KmsConditionViaService)
    } else if key == "kms:calleraccount" {
        Some(CauseId::KmsConditionCallerAccount)
    } else if key.starts_with("kms:encryptioncontext") {
        Some(CauseId::KmsEncryptionContextMismatch)
    } else if KMS_NETWORK_KEYS.contains(&key) {
        Some(CauseId::KmsNetworkConditionOnFas)
    } else if key.starts_with("aws:resourcetag/") {
        // The key's own tags (ABAC on the key), not a data perimeter: the key policy's generic cause.
        None
    } else {
        general_condition_id(key)
    }
}

/// Purpose-specific ids: a missing `kms:Decrypt` for multipart, Bucket Keys and reads.
pub(super) fn purpose_id(purpose: Purpose, id: CauseId) -> Option<CauseId> {
    let generic_kms_gap = matches!(
        id,
        CauseId::KmsIdentityNoAllow
            | CauseId::KmsKeyPolicyNoAllow
            | CauseId::KmsCrossAccountKeyPolicyMissing
            | CauseId::KmsBoundaryOrSessionNoKms
    );
    match purpose {
        Purpose::KmsDecryptMultipart | Purpose::KmsDecryptLargeFile if generic_kms_gap => {
            Some(CauseId::KmsNoDecryptForMultipart)
        }
        Purpose::KmsDecryptBucketKey if generic_kms_gap => Some(CauseId::KmsNoDecryptForBucketKey),
        Purpose::KmsDecryptRead if generic_kms_gap => Some(CauseId::GetKmsNoDecrypt),
        Purpose::ReadVersion if id == CauseId::IdentityNoAllow => {
            Some(CauseId::GetIdentityNoAllowVersion)
        }
        _ => None,
    }
}
