//! Bucket ACLs as a grant path: a `WRITE` (or `FULL_CONTROL`) grant to the caller's account, to
//! `AuthenticatedUsers` or to `AllUsers` lets another account upload, as a bucket-policy statement would, when
//! Object Ownership lets ACLs act (not `BucketOwnerEnforced`) and, for the public groups, `IgnorePublicAcls`
//! is off. The grants that act become one policy of the bucket's resource layer, so the engine decides them
//! like bucket-policy statements; the grants that would act but are ignored name the cause of a missing grant.

use super::causes::CauseId;
use super::s3::effective_block;
use super::snapshot::{AclGrant, Snapshot};
use iam_policy::arn::Arn;
use serde_json::{json, Value};

/// The id of the policy the acting grants become.
pub const BUCKET_ACL_ID: &str = "bucket-acl";

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// Who a grant lets upload, as a policy principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grantee {
    /// The caller's account (by its canonical id): the account delegates to IAM.
    CallerAccount,
    /// Any authenticated AWS principal.
    AuthenticatedUsers,
    /// Anyone.
    AllUsers,
}

impl Grantee {
    fn is_public(self) -> bool {
        self != Self::CallerAccount
    }
}

/// The grantees of the ACL's upload grants that apply to the caller (whether or not they act). A grant to the
/// bucket owner itself grants another account nothing.
fn upload_grantees(snapshot: &Snapshot) -> Vec<Grantee> {
    let Some(acl) = snapshot.bucket.as_ref().and_then(|b| b.acl.as_ref()) else {
        return Vec::new();
    };
    let caller = snapshot
        .principal
        .as_ref()
        .and_then(|p| p.account_canonical_id.as_deref());
    acl.grants
        .iter()
        .filter(|g| matches!(g.permission.as_str(), "WRITE" | "FULL_CONTROL"))
        .filter_map(
            |g: &AclGrant| match (g.grantee_type.as_str(), g.grantee.as_str()) {
                ("Group", ALL_USERS) => Some(Grantee::AllUsers),
                ("Group", AUTHENTICATED_USERS) => Some(Grantee::AuthenticatedUsers),
                ("CanonicalUser", id) if id != acl.owner && Some(id) == caller => {
                    Some(Grantee::CallerAccount)
                }
                _ => None,
            },
        )
        .collect()
}

/// Whether Object Ownership lets ACLs act on the bucket.
fn acls_act(snapshot: &Snapshot) -> bool {
    snapshot
        .bucket
        .as_ref()
        .is_some_and(|b| b.ownership.as_deref() != Some("BucketOwnerEnforced"))
}

/// The ACL's upload grants that act, as one policy document of the bucket's resource layer (`None`: none).
pub fn acting_grants(snapshot: &Snapshot) -> Option<Value> {
    if !acls_act(snapshot) {
        return None;
    }
    let ignore_public = effective_block(snapshot).ignore_public_acls;
    let request = &snapshot.request;
    let partition = request.partition();
    let caller_account = Arn::parse(&request.principal_arn)
        .map(|a| a.account.to_owned())
        .unwrap_or_default();
    let resource = format!("arn:{partition}:s3:::{}/*", request.bucket);
    let statements: Vec<Value> = upload_grantees(snapshot)
        .into_iter()
        .filter(|g| !(g.is_public() && ignore_public))
        .map(|g| {
            let principal = match g {
                Grantee::CallerAccount => {
                    json!({"AWS": format!("arn:{partition}:iam::{caller_account}:root")})
                }
                Grantee::AuthenticatedUsers => json!({"AWS": "*"}),
                Grantee::AllUsers => json!("*"),
            };
            json!({"Sid": "BucketAclWrite", "Effect": "Allow", "Principal": principal,
                "Action": "s3:PutObject", "Resource": resource})
        })
        .collect();
    (!statements.is_empty()).then(|| json!({"Version": "2012-10-17", "Statement": statements}))
}

/// When the bucket grants the upload through its ACL but the grant is ignored: the cause and why.
/// `ACL_ONLY_GRANT_DISABLED` when Object Ownership disables ACLs, `BPA_IGNORE_PUBLIC_ACLS` when the grants are
/// public and `IgnorePublicAcls` is on.
pub fn ignored_grant(snapshot: &Snapshot) -> Option<(CauseId, String)> {
    let grantees = upload_grantees(snapshot);
    let bucket = snapshot.bucket.as_ref()?;
    if grantees.is_empty() {
        return None;
    }
    if !acls_act(snapshot) {
        return Some((
            CauseId::AclOnlyGrantDisabled,
            format!(
                "bucket `{}` grants the upload only through its ACL, and its Object Ownership `BucketOwnerEnforced` disables ACLs: they no longer grant anything",
                bucket.name
            ),
        ));
    }
    let ignored =
        effective_block(snapshot).ignore_public_acls && grantees.iter().all(|g| g.is_public());
    ignored.then(|| {
        (
            CauseId::BpaIgnorePublicAcls,
            format!(
                "bucket `{}` grants the upload only through a public ACL grant (AllUsers or AuthenticatedUsers), which Block Public Access `IgnorePublicAcls` makes S3 ignore",
                bucket.name
            ),
        )
    })
}
