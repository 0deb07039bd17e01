//! The values S3, KMS and EC2 accept in a check's enumerated and formatted fields, in one place: the
//! validation stage refuses anything else (a sloppy `TLSv1.1` or `compliance` would otherwise never match the
//! policy condition that denies `1.1` or `COMPLIANCE`, and the check would say `Allowed`), and the operator's
//! CRD carries the same lists and patterns so that admission refuses them too. Values are case-sensitive, as
//! AWS compares them.

/// Canned ACLs S3 accepts (`x-amz-acl`).
pub const CANNED_ACLS: [&str; 8] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
];

/// Storage classes S3 accepts on upload (`x-amz-storage-class`).
pub const STORAGE_CLASSES: [&str; 11] = [
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
];

/// `x-amz-server-side-encryption`, and `SSEAlgorithm` of a bucket's default encryption.
pub const SSE_ALGORITHMS: [&str; 3] = ["AES256", "aws:kms", "aws:kms:dsse"];

/// Object Ownership (`GetBucketOwnershipControls`).
pub const OWNERSHIPS: [&str; 3] = [
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
];
/// The storage classes `ListObjectsV2` reports for an object.
pub const OBJECT_STORAGE_CLASSES: [&str; 13] = [
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "GLACIER",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
    "FSX_OPENZFS",
    "FSX_ONTAP",
];
/// What a principal is.
pub const PRINCIPAL_KINDS: [&str; 2] = ["role", "user"];
/// Where an identity policy comes from.
pub const POLICY_SOURCES: [&str; 5] = [
    "managed",
    "awsManaged",
    "inline",
    "groupManaged",
    "groupInline",
];
/// `KeyManager` of `DescribeKey`.
pub const KEY_MANAGERS: [&str; 2] = ["AWS", "CUSTOMER"];
/// `KeyState` of `DescribeKey`.
pub const KEY_STATES: [&str; 8] = [
    "Creating",
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingImport",
    "PendingReplicaDeletion",
    "Unavailable",
    "Updating",
];
/// `VpcEndpointType` of `DescribeVpcEndpoints`.
pub const ENDPOINT_TYPES: [&str; 5] = [
    "Gateway",
    "Interface",
    "GatewayLoadBalancer",
    "Resource",
    "ServiceNetwork",
];
/// The grantee types of an ACL grant (`GetBucketAcl`, `GetObjectAcl`).
pub const ACL_GRANTEE_TYPES: [&str; 3] = ["CanonicalUser", "Group", "AmazonCustomerByEmail"];
/// The permissions of an ACL grant.
pub const ACL_PERMISSIONS: [&str; 5] = ["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"];
/// `NetworkOrigin` of `GetAccessPoint`.
pub const NETWORK_ORIGINS: [&str; 2] = ["Internet", "VPC"];

/// `x-amz-server-side-encryption-customer-algorithm` (SSE-C).
pub const SSE_CUSTOMER_ALGORITHMS: [&str; 1] = ["AES256"];

/// `x-amz-object-lock-mode`.
pub const OBJECT_LOCK_MODES: [&str; 2] = ["GOVERNANCE", "COMPLIANCE"];

/// `x-amz-object-lock-legal-hold`.
pub const LEGAL_HOLD_STATUSES: [&str; 2] = ["ON", "OFF"];

/// The TLS versions a client can negotiate with S3, as `s3:TlsVersion` holds them.
pub const TLS_VERSIONS: [&str; 4] = ["1.0", "1.1", "1.2", "1.3"];

/// The grantee types of an `x-amz-grant-*` header.
pub const GRANTEE_TYPES: [&str; 3] = ["id", "uri", "emailAddress"];

/// The predefined groups a grant may name with `uri=`.
pub const GRANTEE_GROUPS: [&str; 3] = [
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    "http://acs.amazonaws.com/groups/s3/LogDelivery",
];

/// The schema pattern of a VPC endpoint id (what `valid_resource_id("vpce", ..)` accepts).
pub const VPC_ENDPOINT_ID_PATTERN: &str = r"^vpce-[0-9a-f]{8,17}$";
/// The schema pattern of a VPC id.
pub const VPC_ID_PATTERN: &str = r"^vpc-[0-9a-f]{8,17}$";
/// The schema pattern of an account id.
pub const ACCOUNT_ID_PATTERN: &str = r"^[0-9]{12}$";
/// The schema pattern of a KMS key reference: a key id, a multi-Region key id, an alias, or their ARNs.
pub const KMS_KEY_PATTERN: &str = r"^((arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:)?(key/)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:)?alias/[a-zA-Z0-9/_-]{1,250})$";

/// The schema pattern of an `x-amz-grant-*` value: its shape only (`valid_grants` also checks each grantee).
pub const GRANTS_PATTERN: &str =
    r#"^(id|uri|emailAddress)=[^\s,]+(\s*,\s*(id|uri|emailAddress)=[^\s,]+)*$"#;

/// What a value of one enumerated field must be, for the problem's message.
pub fn one_of(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An EC2 resource id: `PREFIX-` and 8 or 17 lowercase hex digits (older ids have 8, newer 17; anything in
/// between is accepted, as EC2 has used other lengths).
pub fn valid_resource_id(prefix: &str, id: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (8..=17).contains(&hex.len())
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

fn lower_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A KMS key id: a UUID in lowercase hex, or `mrk-` and 32 lowercase hex digits.
fn valid_key_id(id: &str) -> bool {
    let uuid = {
        let parts: Vec<&str> = id.split('-').collect();
        matches!(parts.as_slice(), [a, b, c, d, e]
            if lower_hex(a, 8) && lower_hex(b, 4) && lower_hex(c, 4) && lower_hex(d, 4) && lower_hex(e, 12))
    };
    uuid || id.strip_prefix("mrk-").is_some_and(|h| lower_hex(h, 32))
}

/// `alias/NAME` with the characters KMS allows.
fn valid_alias(alias: &str) -> bool {
    alias.strip_prefix("alias/").is_some_and(|name| {
        (1..=250).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b))
    })
}

/// A KMS key reference S3 accepts in `x-amz-server-side-encryption-aws-kms-key-id`: a key id, an alias, or
/// the ARN of either.
pub fn valid_kms_key_reference(reference: &str) -> bool {
    if let Some(rest) = reference.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        return match parts.as_slice() {
            [partition, "kms", region, account, resource] => {
                partition.starts_with("aws")
                    && !region.is_empty()
                    && iam_policy::arn::is_account_id(account)
                    && (resource.strip_prefix("key/").is_some_and(valid_key_id)
                        || valid_alias(resource))
            }
            _ => false,
        };
    }
    valid_key_id(reference) || valid_alias(reference)
}

/// Whether `value` is a grantee of type `kind`: a canonical user id (64 lowercase hex digits) or an account id
/// for `id`, a predefined group for `uri`, an address for `emailAddress`.
fn valid_grantee(kind: &str, value: &str) -> bool {
    match kind {
        "id" => lower_hex(value, 64) || iam_policy::arn::is_account_id(value),
        "uri" => GRANTEE_GROUPS.contains(&value),
        "emailAddress" => value.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '"' | ',' | '=' | ';'))
        }),
        _ => false,
    }
}

/// An `x-amz-grant-*` value: one or more `type=value` grants separated by commas (`GRANTEE_TYPES`), each
/// value optionally in double quotes. No white space around the whole (HTTP drops it from a header's value, so a
/// condition would see another value than the check's).
pub fn valid_grants(text: &str) -> bool {
    text == text.trim()
        && text.split(',').all(|grant| {
            let Some((kind, value)) = grant.trim().split_once('=') else {
                return false;
            };
            let value = match value.strip_prefix('"') {
                Some(inner) => match inner.strip_suffix('"') {
                    Some(inner) => inner,
                    None => return false,
                },
                None => value,
            };
            valid_grantee(kind, value)
        })
}

/// An RFC 3339 timestamp such as `2030-01-01T00:00:00Z` (what S3 takes for the Object Lock retain-until date).
pub fn valid_timestamp(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// A canonical IP address: what Rust's parser accepts (no leading zeros, no other separators).
pub fn valid_ip(text: &str) -> bool {
    text.parse::<std::net::IpAddr>().is_ok()
}

/// The same rules as schemas, for the CRD (`kubectl explain` and admission see them).
#[cfg(feature = "schema")]
pub mod schema {
    use schemars::{json_schema, Schema, SchemaGenerator};

    fn one_of(values: &[&str]) -> Schema {
        json_schema!({"type": "string", "nullable": true, "enum": values})
    }

    fn matching(pattern: &str) -> Schema {
        json_schema!({"type": "string", "nullable": true, "maxLength": 2048, "pattern": pattern})
    }

    /// `upload.acl`.
    pub fn acl(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::CANNED_ACLS)
    }
    /// `upload.storageClass`.
    pub fn storage_class(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::STORAGE_CLASSES)
    }
    /// `upload.serverSideEncryption`.
    pub fn sse(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::SSE_ALGORITHMS)
    }
    /// `upload.sseCustomerAlgorithm`.
    pub fn sse_customer(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::SSE_CUSTOMER_ALGORITHMS)
    }
    /// `upload.objectLockMode`.
    pub fn lock_mode(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::OBJECT_LOCK_MODES)
    }
    /// `upload.objectLockLegalHold`.
    pub fn legal_hold(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::LEGAL_HOLD_STATUSES)
    }
    /// `network.tlsVersion`.
    pub fn tls_version(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::TLS_VERSIONS)
    }
    /// `upload.grant*`.
    pub fn grants(_: &mut SchemaGenerator) -> Schema {
        matching(super::GRANTS_PATTERN)
    }
    /// `upload.sseKmsKeyId`.
    pub fn kms_key(_: &mut SchemaGenerator) -> Schema {
        matching(super::KMS_KEY_PATTERN)
    }
    /// `upload.expectedBucketOwner`.
    pub fn account_id(_: &mut SchemaGenerator) -> Schema {
        matching(super::ACCOUNT_ID_PATTERN)
    }
    /// `network.vpcEndpointId`.
    pub fn vpc_endpoint_id(_: &mut SchemaGenerator) -> Schema {
        matching(super::VPC_ENDPOINT_ID_PATTERN)
    }
    /// `network.vpcId`.
    pub fn vpc_id(_: &mut SchemaGenerator) -> Schema {
        matching(super::VPC_ID_PATTERN)
    }
    /// `network.sourceIp`: the characters of an IPv4 or IPv6 address (the operator parses it).
    pub fn ip(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "nullable": true, "maxLength": 45, "pattern": "^[0-9a-fA-F:.]+$"})
    }
    /// `upload.objectLockRetainUntilDate`.
    pub fn timestamp(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "nullable": true, "format": "date-time"})
    }
    /// `principal.kind`.
    pub fn principal_kind(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::PRINCIPAL_KINDS)
    }
    /// `principal.policies[].source`.
    pub fn policy_source(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::POLICY_SOURCES)
    }
    /// `bucket.ownership`.
    pub fn ownership(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::OWNERSHIPS)
    }
    /// `bucket.encryption.sseAlgorithm`.
    pub fn bucket_sse(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::SSE_ALGORITHMS)
    }
    /// `object.storageClass`.
    pub fn object_storage_class(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::OBJECT_STORAGE_CLASSES)
    }
    /// `*.acl[].granteeType`.
    pub fn grantee_type(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::ACL_GRANTEE_TYPES)
    }
    /// `*.acl[].permission`.
    pub fn acl_permission(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::ACL_PERMISSIONS)
    }
    /// `vpcEndpoint.type`.
    pub fn endpoint_type(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::ENDPOINT_TYPES)
    }
    /// `kmsKeys[].keyManager`.
    pub fn key_manager(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::KEY_MANAGERS)
    }
    /// `kmsKeys[].keyState`.
    pub fn key_state(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::KEY_STATES)
    }
    /// `accessPoint.networkOrigin`.
    pub fn network_origin(_: &mut SchemaGenerator) -> Schema {
        one_of(&super::NETWORK_ORIGINS)
    }
    /// `upload.ifNoneMatch`: `*` only.
    pub fn if_none_match(_: &mut SchemaGenerator) -> Schema {
        one_of(&["*"])
    }
    /// `upload.tags`: at most 10, as S3 allows on an object.
    pub fn tags(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "object", "maxProperties": 10,
            "additionalProperties": {"type": "string", "maxLength": 256}})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids() {
        assert!(valid_resource_id("vpce", "vpce-1a2b3c4d"));
        assert!(valid_resource_id("vpce", "vpce-0123456789abcdef0"));
        assert!(valid_resource_id("vpc", "vpc-0abc1234"));
        for bad in [
            "vpce-1A2B3C4D",
            "VPCE-1a2b3c4d",
            "vpce_1a2b3c4d",
            "vpce-1a2b",
            "vpce-*",
            "*",
            "vpce-0123456789abcdef01",
            " vpce-1a2b3c4d",
        ] {
            assert!(!valid_resource_id("vpce", bad), "{bad}");
        }
        assert!(!valid_resource_id("vpc", "vpce-1a2b3c4d"));
        // An EC2 filter wildcard would list every S3 endpoint of the account.
        assert!(!valid_resource_id("vpc", "*") && !valid_resource_id("vpc", "vpc-*"));
    }

    #[test]
    fn kms_key_references() {
        for good in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/media-uploads",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws-cn:kms:cn-north-1:111122223333:alias/x",
        ] {
            assert!(valid_kms_key_reference(good), "{good}");
        }
        for bad in [
            "1234ABCD-12AB-34CD-56EF-1234567890AB",
            "key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms::111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:s3:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/",
            "my-key",
        ] {
            assert!(!valid_kms_key_reference(bad), "{bad}");
        }
    }

    #[test]
    fn grants() {
        for good in [
            "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
            "id=\"111122223333\", id=\"444455556666\"",
            "uri=http://acs.amazonaws.com/groups/global/AllUsers",
            "emailAddress=a@example.com,id=111122223333",
        ] {
            assert!(valid_grants(good), "{good}");
        }
        for bad in [
            "",
            "79a59df9",
            "ID=111122223333",
            "id=",
            "id=\"111122223333",
            "id=79A59DF900B949E55D96A1E698FBACEDFD6E09D98EACF8F8D5218E7CD47EF2BE",
            "id=111122223333;uri=b",
            "id=111122223333,",
            "uri=http://acs.amazonaws.com/groups/global/allusers",
            "emailAddress=nobody",
        ] {
            assert!(!valid_grants(bad), "{bad}");
        }
    }

    #[test]
    fn timestamps_and_ips() {
        assert!(valid_timestamp("2030-01-01T00:00:00Z"));
        assert!(valid_timestamp("2030-01-01T00:00:00.5+02:00"));
        for bad in [
            "2030-01-01",
            "2030/01/01T00:00:00Z",
            "01-01-2030",
            "tomorrow",
        ] {
            assert!(!valid_timestamp(bad), "{bad}");
        }
        assert!(valid_ip("54.240.143.7") && valid_ip("2001:db8::1"));
        for bad in [
            "54.240.143.07",
            "54,240,143,7",
            "54.240.143.7/32",
            " 54.240.143.7",
        ] {
            assert!(!valid_ip(bad), "{bad}");
        }
    }

    /// The schema's patterns (what admission refuses) agree with the validation (what the operator refuses;
    /// for grants admission checks the shape only),
    /// with the `regex` crate as the oracle (its syntax is the subset Kubernetes' RE2 shares).
    #[test]
    fn the_schema_patterns_agree_with_the_validation() {
        let samples = [
            "vpce-1a2b3c4d",
            "vpce-0123456789abcdef0",
            "vpce-1A2B3C4D",
            "vpc-0abc1234",
            "vpc-0abc",
            "111122223333",
            "11112222333a",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "1234ABCD-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/media",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:111122223333:alias/media",
            "arn:aws:kms::111122223333:alias/media",
            "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
            "id=\"111122223333\", id=444455556666",
            " id=111122223333",
            "id=111122223333,uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
            "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"",
            "uri=http://acsXamazonaws.com/groups/global/AllUsers",
            "emailAddress=a@example.com",
            "emailAddress=a@b@example.com",
            "ID=111122223333",
            "id=111122223333,",
            "",
        ];
        let grants = regex::Regex::new(GRANTS_PATTERN).unwrap();
        for sample in samples.iter().filter(|s| valid_grants(s)) {
            assert!(
                grants.is_match(sample),
                "`{sample}`: admission refuses a valid grant"
            );
        }
        type Validation = fn(&str) -> bool;
        let checks: [(&str, Validation); 4] = [
            (VPC_ENDPOINT_ID_PATTERN, |s| valid_resource_id("vpce", s)),
            (VPC_ID_PATTERN, |s| valid_resource_id("vpc", s)),
            (ACCOUNT_ID_PATTERN, iam_policy::arn::is_account_id),
            (KMS_KEY_PATTERN, valid_kms_key_reference),
        ];
        for (pattern, valid) in checks {
            let regex = regex::Regex::new(pattern).unwrap();
            for sample in samples {
                assert_eq!(
                    regex.is_match(sample),
                    valid(sample),
                    "`{sample}` against `{pattern}`"
                );
            }
        }
    }
}
