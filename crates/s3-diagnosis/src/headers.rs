//! The upload headers, in one table: for each, the condition key S3 sets from it, the AWS CLI flag that sends
//! it, how to read and set it on an `Upload`, what kind of header it is (for the wording of a fix) and the
//! cause a bucket-policy condition on it points to. The request context, the upload command line, the
//! condition-key causes, the ACL helpers and the request fixes are all derived from this table.

use super::cause_id::CauseId;
use super::snapshot::Upload;

/// What a header controls (for the wording of a fix, and for which headers are ACL headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// A canned ACL (`x-amz-acl`).
    CannedAcl,
    /// An ACL grant (`x-amz-grant-*`).
    AclGrant,
    /// The storage class.
    StorageClass,
    /// Server-side encryption (`AES256`, `aws:kms`, `aws:kms:dsse`).
    Encryption,
    /// The SSE-KMS key id.
    KmsKey,
    /// The SSE-C algorithm.
    CustomerKey,
    /// Object Lock (mode, retain-until date, legal hold).
    ObjectLock,
}

/// One upload header.
pub struct Header {
    /// The condition key, lowercase.
    pub key: &'static str,
    /// The AWS CLI flag without `--` (`aws s3api put-object` / `create-multipart-upload`).
    pub flag: &'static str,
    /// Its value in an upload.
    pub get: fn(&Upload) -> Option<&String>,
    /// Sets (or clears) it.
    pub set: fn(&mut Upload, Option<String>),
    /// What it controls.
    pub kind: HeaderKind,
    /// The cause of a bucket-policy condition on its key.
    pub cause: CauseId,
}

/// Every upload header with a condition key, in the order the command line lists them.
pub const HEADERS: [Header; 12] = [
    Header {
        key: "s3:x-amz-acl",
        flag: "acl",
        get: |u| u.acl.as_ref(),
        set: |u, v| u.acl = v,
        kind: HeaderKind::CannedAcl,
        cause: CauseId::BucketPolicyConditionAclRequired,
    },
    Header {
        key: "s3:x-amz-grant-full-control",
        flag: "grant-full-control",
        get: |u| u.grant_full_control.as_ref(),
        set: |u, v| u.grant_full_control = v,
        kind: HeaderKind::AclGrant,
        cause: CauseId::BucketPolicyConditionAclRequired,
    },
    Header {
        key: "s3:x-amz-grant-read",
        flag: "grant-read",
        get: |u| u.grant_read.as_ref(),
        set: |u, v| u.grant_read = v,
        kind: HeaderKind::AclGrant,
        cause: CauseId::BucketPolicyConditionAclRequired,
    },
    Header {
        key: "s3:x-amz-grant-read-acp",
        flag: "grant-read-acp",
        get: |u| u.grant_read_acp.as_ref(),
        set: |u, v| u.grant_read_acp = v,
        kind: HeaderKind::AclGrant,
        cause: CauseId::BucketPolicyConditionAclRequired,
    },
    Header {
        key: "s3:x-amz-grant-write-acp",
        flag: "grant-write-acp",
        get: |u| u.grant_write_acp.as_ref(),
        set: |u, v| u.grant_write_acp = v,
        kind: HeaderKind::AclGrant,
        cause: CauseId::BucketPolicyConditionAclRequired,
    },
    Header {
        key: "s3:x-amz-storage-class",
        flag: "storage-class",
        get: |u| u.storage_class.as_ref(),
        set: |u, v| u.storage_class = v,
        kind: HeaderKind::StorageClass,
        cause: CauseId::BucketPolicyConditionStorageClass,
    },
    Header {
        key: "s3:x-amz-server-side-encryption",
        flag: "server-side-encryption",
        get: |u| u.server_side_encryption.as_ref(),
        set: |u, v| u.server_side_encryption = v,
        kind: HeaderKind::Encryption,
        cause: CauseId::BucketPolicyConditionSseRequired,
    },
    Header {
        key: "s3:x-amz-server-side-encryption-aws-kms-key-id",
        flag: "ssekms-key-id",
        get: |u| u.sse_kms_key_id.as_ref(),
        set: |u, v| u.sse_kms_key_id = v,
        kind: HeaderKind::KmsKey,
        cause: CauseId::BucketPolicyConditionKmsKeyId,
    },
    Header {
        key: "s3:x-amz-server-side-encryption-customer-algorithm",
        flag: "sse-customer-algorithm",
        get: |u| u.sse_customer_algorithm.as_ref(),
        set: |u, v| u.sse_customer_algorithm = v,
        kind: HeaderKind::CustomerKey,
        cause: CauseId::BucketPolicyConditionSseRequired,
    },
    Header {
        key: "s3:object-lock-mode",
        flag: "object-lock-mode",
        get: |u| u.object_lock_mode.as_ref(),
        set: |u, v| u.object_lock_mode = v,
        kind: HeaderKind::ObjectLock,
        cause: CauseId::BucketPolicyConditionObjectLock,
    },
    Header {
        key: "s3:object-lock-retain-until-date",
        flag: "object-lock-retain-until-date",
        get: |u| u.object_lock_retain_until_date.as_ref(),
        set: |u, v| u.object_lock_retain_until_date = v,
        kind: HeaderKind::ObjectLock,
        cause: CauseId::BucketPolicyConditionObjectLock,
    },
    Header {
        key: "s3:object-lock-legal-hold",
        flag: "object-lock-legal-hold-status",
        get: |u| u.object_lock_legal_hold.as_ref(),
        set: |u, v| u.object_lock_legal_hold = v,
        kind: HeaderKind::ObjectLock,
        cause: CauseId::BucketPolicyConditionObjectLock,
    },
];

/// The header of a lowercase condition key.
pub fn by_key(key: &str) -> Option<&'static Header> {
    HEADERS.iter().find(|h| h.key == key)
}

/// The ACL headers (canned and grants).
pub fn acl_headers() -> impl Iterator<Item = &'static Header> {
    HEADERS
        .iter()
        .filter(|h| matches!(h.kind, HeaderKind::CannedAcl | HeaderKind::AclGrant))
}

/// The ACL grant headers.
pub fn grant_headers() -> impl Iterator<Item = &'static Header> {
    HEADERS.iter().filter(|h| h.kind == HeaderKind::AclGrant)
}

/// Removes every ACL header (canned or grant).
pub fn clear_acl(upload: &mut Upload) {
    for header in acl_headers() {
        (header.set)(upload, None);
    }
}

/// True when the upload sends any ACL header.
pub fn has_acl(upload: &Upload) -> bool {
    acl_headers().any(|h| (h.get)(upload).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_reads_what_it_sets() {
        for header in &HEADERS {
            let mut upload = Upload::default();
            (header.set)(&mut upload, Some("v".into()));
            assert_eq!(
                (header.get)(&upload).map(String::as_str),
                Some("v"),
                "{}",
                header.key
            );
            let others = HEADERS
                .iter()
                .filter(|h| h.key != header.key && (h.get)(&upload).is_some())
                .count();
            assert_eq!(others, 0, "{} sets another header", header.key);
            (header.set)(&mut upload, None);
            assert_eq!(upload, Upload::default(), "{}", header.key);
            assert_eq!(header.key, header.key.to_ascii_lowercase());
        }
    }
}
