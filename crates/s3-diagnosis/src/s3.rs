//! S3 rules that are not IAM policies: Object Ownership (ACLs disabled), Block Public Access (bucket and
//! account, most restrictive wins), SSE-C blocking, Requester Pays, the expected bucket owner.

use super::causes::{Cause, CauseId};
use super::remediation::{ConfigEdit, Edit, Remediation};
use super::request::{has_acl, has_public_acl, only_bucket_owner_full_control};
use super::snapshot::Upload;
use super::snapshot::{BucketData, CheckRequest, PublicAccessBlock, Snapshot, SnapshotLayer};
use iam_policy::model::{Effect, Policy, PrincipalEntry};

/// Keys whose fixed-value conditions make a `"*"` grant non-public (S3's definition of a public policy).
const NON_PUBLIC_KEYS: [&str; 10] = [
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

/// Whether a bucket policy is "public": an Allow to everyone without a fixed-value condition on one of the
/// keys S3 accepts as limiting.
pub fn policy_is_public(policy: &Policy) -> bool {
    policy.statements.iter().any(|s| {
        let to_everyone = s.effect == Some(Effect::Allow)
            && s.principal
                .as_ref()
                .is_some_and(|p| !p.negated && p.entries.contains(&PrincipalEntry::Everyone));
        let limited = s.conditions.iter().any(|c| {
            NON_PUBLIC_KEYS.contains(&c.key_lower.as_str())
                && !c.operator.kind.negated()
                && !c.written.iter().any(|v| v.contains('*') || v.contains('?'))
        });
        to_everyone && !limited
    })
}

/// The Block Public Access settings of the access point the requests go through (AWS turns all four on
/// when they are not given at creation).
fn access_point_block(snapshot: &Snapshot) -> Option<PublicAccessBlock> {
    super::access_point::used(snapshot).map(|ap| {
        ap.public_access_block.unwrap_or(PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        })
    })
}

/// The effective Block Public Access settings: bucket OR account (OR access point, for requests through
/// one), per setting: the most restrictive wins.
pub fn effective_block(snapshot: &Snapshot) -> PublicAccessBlock {
    let bucket = snapshot.bucket.as_ref();
    let a = bucket
        .and_then(|b| b.public_access_block)
        .unwrap_or_default();
    let b = bucket
        .and_then(|b| b.account_public_access_block)
        .unwrap_or_default();
    let c = access_point_block(snapshot).unwrap_or_default();
    PublicAccessBlock {
        block_public_acls: a.block_public_acls || b.block_public_acls || c.block_public_acls,
        ignore_public_acls: a.ignore_public_acls || b.ignore_public_acls || c.ignore_public_acls,
        block_public_policy: a.block_public_policy
            || b.block_public_policy
            || c.block_public_policy,
        restrict_public_buckets: a.restrict_public_buckets
            || b.restrict_public_buckets
            || c.restrict_public_buckets,
    }
}

/// The layer whose setting blocks: the bucket's, else the account's, else (only the access point sets it)
/// the access point's.
fn bpa_layer(snapshot: &Snapshot, pick: impl Fn(&PublicAccessBlock) -> bool) -> SnapshotLayer {
    let bucket = snapshot.bucket.as_ref();
    let sets = |p: Option<PublicAccessBlock>| p.is_some_and(|p| pick(&p));
    if sets(bucket.and_then(|b| b.public_access_block)) {
        SnapshotLayer::PublicAccessBlock
    } else if sets(bucket.and_then(|b| b.account_public_access_block)) {
        SnapshotLayer::AccountPublicAccessBlock
    } else if sets(access_point_block(snapshot)) {
        SnapshotLayer::AccessPoint
    } else {
        SnapshotLayer::AccountPublicAccessBlock
    }
}

/// The cause id of a Block Public Access rule: the access point's own when only its settings block.
fn bpa_id(layer: SnapshotLayer, id: CauseId) -> CauseId {
    if layer == SnapshotLayer::AccessPoint {
        CauseId::AccessPointBpa
    } else {
        id
    }
}

/// What every overlay rule reads: the bucket, the request, whether it writes, whether the caller is in
/// another account, and the parsed bucket policy.
struct Overlay<'a> {
    snapshot: &'a Snapshot,
    bucket: &'a BucketData,
    request: &'a CheckRequest,
    writes: bool,
    cross_account: bool,
    bucket_policy: Option<&'a Policy>,
    access_point_policy: Option<&'a Policy>,
}

/// The parsed resource policies the overlay rules read.
pub struct ResourcePolicies<'a> {
    /// The bucket policy, if any.
    pub bucket: Option<&'a Policy>,
    /// The policy of the access point the requests go through, if any.
    pub access_point: Option<&'a Policy>,
}

/// Causes from the S3 settings that overlay policy evaluation, one independent rule each, in this order.
/// `cross_account`: the caller is not in the bucket's account. `bucket_policy`: the parsed bucket policy, if
/// any.
pub fn overlay_causes(
    snapshot: &Snapshot,
    cross_account: bool,
    policies: ResourcePolicies<'_>,
) -> Vec<Cause> {
    let Some(bucket) = &snapshot.bucket else {
        return Vec::new();
    };
    let request = &snapshot.request;
    let o = Overlay {
        snapshot,
        bucket,
        request,
        writes: request.actions().iter().any(|a| a == "PutObject"),
        cross_account,
        bucket_policy: policies.bucket,
        access_point_policy: policies.access_point,
    };
    let mut causes: Vec<Cause> = [
        ownership_enforced_acl(&o),
        bpa_public_acls(&o),
        bpa_restrict_public_buckets(&o),
        sse_c_blocked(&o),
    ]
    .into_iter()
    .flatten()
    .collect();
    causes.extend(requester_pays(&o));
    causes.extend(expected_owner_mismatch(&o));
    causes
}

/// An ACL sent to a bucket whose Object Ownership disables ACLs.
fn ownership_enforced_acl(o: &Overlay<'_>) -> Option<Cause> {
    let (bucket, request) = (o.bucket, o.request);
    let applies = o.writes
        && bucket.ownership.as_deref() == Some("BucketOwnerEnforced")
        && has_acl(request)
        && !only_bucket_owner_full_control(request);
    if !applies {
        return None;
    }
    let sent = request.upload.acl.clone().map_or_else(
        || "an `x-amz-grant-*` header".to_owned(),
        |a| format!("`--acl {a}`"),
    );
    Some(
        Cause::error(
            CauseId::OwnershipEnforcedAcl,
            SnapshotLayer::BucketOwnership,
            "s3:PutObject",
            format!(
                "bucket `{}` has Object Ownership `BucketOwnerEnforced` (ACLs disabled) and the upload sends {sent}; S3 answers 400 AccessControlListNotSupported",
                bucket.name
            ),
        )
        .fix([
            Remediation::upload(
                "send no ACL (or only `bucket-owner-full-control`)",
                request,
                super::headers::clear_acl,
            ),
            Remediation::config(
                "only if ACLs are really needed: re-enable them with Object Ownership `BucketOwnerPreferred`",
                Some(format!(
                    "aws s3api put-bucket-ownership-controls --bucket {} --ownership-controls 'Rules=[{{ObjectOwnership=BucketOwnerPreferred}}]'",
                    bucket.name
                )),
            )
            .with_edit(Some(Edit::Config(ConfigEdit::ObjectOwnership(
                "BucketOwnerPreferred".into(),
            )))),
        ]),
    )
}

/// A public ACL sent while Block Public Access blocks public ACLs.
fn bpa_public_acls(o: &Overlay<'_>) -> Option<Cause> {
    let request = o.request;
    if !(o.writes && effective_block(o.snapshot).block_public_acls && has_public_acl(request)) {
        return None;
    }
    let layer = bpa_layer(o.snapshot, |p| p.block_public_acls);
    Some(
        Cause::error(
            bpa_id(layer, CauseId::BpaBlockPublicAcls),
            layer,
            "s3:PutObject",
            format!(
                "the upload sends a public ACL ({}) and Block Public Access `BlockPublicAcls` is on for bucket `{}`, its account or the access point",
                request.upload.acl.as_deref().unwrap_or("a grant to AllUsers or AuthenticatedUsers"),
                o.bucket.name
            ),
        )
        .fix([Remediation::upload(
            "drop the public ACL; share objects through a bucket policy or presigned URLs instead",
            request,
            super::headers::clear_acl,
        )]),
    )
}

/// A public bucket policy under `RestrictPublicBuckets`: every cross-account request is blocked.
fn bpa_restrict_public_buckets(o: &Overlay<'_>) -> Option<Cause> {
    let access_point_public = o.access_point_policy.is_some_and(policy_is_public);
    let applies = o.cross_account
        && effective_block(o.snapshot).restrict_public_buckets
        && (o.bucket_policy.is_some_and(policy_is_public) || access_point_public);
    if !applies {
        return None;
    }
    let layer = bpa_layer(o.snapshot, |p| p.restrict_public_buckets);
    let which = if access_point_public {
        "the access point's policy"
    } else {
        "the bucket policy"
    };
    Some(
        Cause::error(
            bpa_id(layer, CauseId::BpaRestrictPublicBuckets),
            layer,
            "s3:PutObject",
            format!(
                "{which} of `{}` is public and `RestrictPublicBuckets` is on: S3 blocks every cross-account request, including grants to specific accounts",
                o.bucket.name
            ),
        )
        .fix([Remediation::policy(
            "make the bucket policy non-public: replace `\"Principal\": \"*\"` grants by named principals, or pin them with fixed-value conditions (`aws:PrincipalOrgID`, `aws:SourceVpce`, `aws:PrincipalAccount`)",
            None,
        )]),
    )
}

/// An SSE-C upload to a bucket that blocks SSE-C.
fn sse_c_blocked(o: &Overlay<'_>) -> Option<Cause> {
    let sse_c = o.request.upload.sse_customer_algorithm.is_some();
    let blocked = o.bucket.encryption.as_ref().is_some_and(|e| {
        e.blocked_encryption_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("SSE-C"))
    });
    if !(o.writes && sse_c && blocked) {
        return None;
    }
    Some(
        Cause::error(
            CauseId::SseCBlocked,
            SnapshotLayer::BucketEncryption,
            "s3:PutObject",
            format!(
                "the upload uses SSE-C and bucket `{}` blocks SSE-C uploads (`BlockedEncryptionTypes`)",
                o.bucket.name
            ),
        )
        .fix([
            Remediation::upload(
                "encrypt with SSE-S3 or SSE-KMS instead of a customer-provided key",
                o.request,
                |u| {
                    u.sse_customer_algorithm = None;
                    u.server_side_encryption = Some("AES256".into());
                },
            ),
            Remediation::config(
                "allow SSE-C again in the bucket's encryption configuration (`BlockedEncryptionTypes` = `NONE`)",
                None,
            ),
        ]),
    )
}

/// A Requester Pays bucket read or written from another account without the request-payer header: one
/// cause per action.
fn requester_pays(o: &Overlay<'_>) -> Vec<Cause> {
    let request = o.request;
    if !(o.bucket.requester_pays && o.cross_account && !request.upload.request_payer) {
        return Vec::new();
    }
    request
        .actions()
        .iter()
        .map(|action| {
            let (id, iam_action, fix) = if action == "GetObject" {
                (
                    CauseId::GetRequesterPays,
                    "s3:GetObject",
                    Remediation::request(
                        "send the request-payer header",
                        Some(format!(
                            "aws s3api get-object --bucket {} --key {} <FILE> --request-payer requester",
                            request.bucket,
                            request.key()
                        )),
                    )
                    .with_edit(Some(Edit::Upload(Box::new(Upload {
                        request_payer: true,
                        ..request.upload.clone()
                    })))),
                )
            } else {
                (
                    CauseId::RequesterPaysHeaderMissing,
                    "s3:PutObject",
                    Remediation::upload("send the request-payer header", request, |u| {
                        u.request_payer = true;
                    }),
                )
            };
            Cause::error(
                id,
                SnapshotLayer::Request,
                iam_action,
                format!("bucket `{}` is Requester Pays and the request does not send `x-amz-request-payer: requester`", o.bucket.name),
            )
            .fix([fix])
        })
        .collect()
}

/// `x-amz-expected-bucket-owner` naming another account than the bucket's.
fn expected_owner_mismatch(o: &Overlay<'_>) -> Option<Cause> {
    let bucket = o.bucket;
    let expected = o.request.upload.expected_bucket_owner.as_ref()?;
    if bucket.account_id.is_empty() || *expected == bucket.account_id {
        return None;
    }
    Some(
        Cause::error(
            CauseId::ExpectedBucketOwnerMismatch,
            SnapshotLayer::Request,
            "s3:PutObject",
            format!(
                "the request expects bucket owner `{expected}` but bucket `{}` belongs to `{}`",
                bucket.name, bucket.account_id
            ),
        )
        .fix([Remediation::upload(
            "correct the expected bucket owner (or check that this is the bucket you mean to write to)",
            o.request,
            |u| u.expected_bucket_owner = Some(bucket.account_id.clone()),
        )]),
    )
}
