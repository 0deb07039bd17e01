//! Bucket ACLs as a grant path: a `WRITE` (or `FULL_CONTROL`) grant to the caller's account, to
//! `AuthenticatedUsers` or to `AllUsers` lets another account upload, as a bucket-policy statement would, when
//! Object Ownership lets ACLs act (not `BucketOwnerEnforced`) and, for the public groups, `IgnorePublicAcls`
//! is off. The grants that act become one policy of the bucket's resource layer, so the engine decides them
//! like bucket-policy statements; the grants that would act but are ignored name the cause of a missing grant.
//!
//! Object ACLs the same way for a download: a `READ` (or `FULL_CONTROL`) grant of the object's ACL lets the
//! caller read it. An object another account owns (an `ObjectWriter` or `BucketOwnerPreferred` bucket, an
//! uploader of another account) is that account's resource: bucket-policy grants do not reach it (its denies
//! still do), and only its ACL can grant.

use super::causes::CauseId;
use super::s3::effective_block;
use super::snapshot::{AclGrant, Snapshot};
use iam_policy::arn::Arn;
use serde_json::{json, Value};

/// The id of the policy the acting grants become.
pub const BUCKET_ACL_ID: &str = "bucket-acl";

/// The id of the policy the acting grants of the object's ACL become.
pub const OBJECT_ACL_ID: &str = "object-acl";

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

/// The grantees of `grants` with `permission` (or `FULL_CONTROL`) that apply to the caller (whether or not
/// they act). A grant to `owner` itself grants another account nothing.
fn grantees(
    snapshot: &Snapshot,
    grants: &[AclGrant],
    owner: &str,
    permission: &str,
) -> Vec<Grantee> {
    let caller = snapshot
        .principal
        .as_ref()
        .and_then(|p| p.account_canonical_id.as_deref());
    grants
        .iter()
        .filter(|g| g.permission == permission || g.permission == "FULL_CONTROL")
        .filter_map(
            |g: &AclGrant| match (g.grantee_type.as_str(), g.grantee.as_str()) {
                ("Group", ALL_USERS) => Some(Grantee::AllUsers),
                ("Group", AUTHENTICATED_USERS) => Some(Grantee::AuthenticatedUsers),
                ("CanonicalUser", id) if id != owner && Some(id) == caller => {
                    Some(Grantee::CallerAccount)
                }
                _ => None,
            },
        )
        .collect()
}

/// A grant of the bucket's ACL that lets a canonical user other than the owner upload, when ACLs act and the
/// caller account's canonical id is not known: that grant may be the caller's (`None`: no such grant, or
/// the caller's id is known).
pub fn undecided_upload_grant(snapshot: &Snapshot) -> Option<String> {
    if !acls_act(snapshot) {
        return None;
    }
    let known = snapshot
        .principal
        .as_ref()
        .is_some_and(|p| p.account_canonical_id.is_some());
    if known {
        return None;
    }
    let acl = snapshot.bucket.as_ref()?.acl.as_ref()?;
    acl.grants
        .iter()
        .find(|g| {
            g.grantee_type == "CanonicalUser"
                && g.grantee != acl.owner
                && matches!(g.permission.as_str(), "WRITE" | "FULL_CONTROL")
        })
        .map(|g| g.grantee.clone())
}

/// The grantees of the bucket ACL's upload grants that apply to the caller.
fn upload_grantees(snapshot: &Snapshot) -> Vec<Grantee> {
    let Some(acl) = snapshot.bucket.as_ref().and_then(|b| b.acl.as_ref()) else {
        return Vec::new();
    };
    grantees(snapshot, &acl.grants, &acl.owner, "WRITE")
}

/// The grantees of the object ACL's read grants that apply to the caller.
fn read_grantees(snapshot: &Snapshot) -> Vec<Grantee> {
    let Some(object) = snapshot.object.as_ref() else {
        return Vec::new();
    };
    let owner = object.owner.as_deref().unwrap_or_default();
    grantees(
        snapshot,
        object.acl.as_deref().unwrap_or_default(),
        owner,
        "READ",
    )
}

/// Whether Object Ownership lets ACLs act on the bucket.
pub fn acls_act(snapshot: &Snapshot) -> bool {
    snapshot
        .bucket
        .as_ref()
        .is_some_and(|b| b.ownership.as_deref() != Some("BucketOwnerEnforced"))
}

/// Grants that act, as one policy document allowing `actions` on `resource` (`None`: none).
fn acting(
    snapshot: &Snapshot,
    grantees: Vec<Grantee>,
    sid: &str,
    actions: &[&str],
    resource: &str,
) -> Option<Value> {
    if !acls_act(snapshot) {
        return None;
    }
    let ignore_public = effective_block(snapshot).ignore_public_acls;
    let request = &snapshot.request;
    let partition = request.partition();
    let caller_account = Arn::parse(&request.principal_arn)
        .map(|a| a.account.to_owned())
        .unwrap_or_default();
    let statements: Vec<Value> = grantees
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
            json!({"Sid": sid, "Effect": "Allow", "Principal": principal,
                "Action": actions, "Resource": resource})
        })
        .collect();
    (!statements.is_empty()).then(|| json!({"Version": "2012-10-17", "Statement": statements}))
}

/// The bucket ACL's upload grants that act, as one policy document of the bucket's resource layer (`None`:
/// none).
pub fn acting_grants(snapshot: &Snapshot) -> Option<Value> {
    let request = &snapshot.request;
    let resource = format!("arn:{}:s3:::{}/*", request.partition(), request.bucket);
    acting(
        snapshot,
        upload_grantees(snapshot),
        "BucketAclWrite",
        &["s3:PutObject"],
        &resource,
    )
}

/// The object ACL's read grants that act, as one policy document of the download's resource layer (`None`:
/// none).
pub fn acting_object_grants(snapshot: &Snapshot) -> Option<Value> {
    acting(
        snapshot,
        read_grantees(snapshot),
        "ObjectAclRead",
        &["s3:GetObject", "s3:GetObjectVersion"],
        &snapshot.request.object_arn(),
    )
}

/// The owner of the object a download reads, when it is not the bucket's owner and ACLs act: the object is
/// that account's, and bucket-policy grants do not reach it (`None`: the bucket owner's, or not known).
pub fn foreign_owner(snapshot: &Snapshot) -> Option<&str> {
    let object_owner = snapshot.object.as_ref()?.owner.as_deref()?;
    let bucket_owner = snapshot.bucket.as_ref()?.acl.as_ref()?.owner.as_str();
    (acls_act(snapshot) && !bucket_owner.is_empty() && object_owner != bucket_owner)
        .then_some(object_owner)
}

/// The account a download's object belongs to, when it is not the bucket's: the caller's own account when it
/// owns the object (its identity policies then suffice), else the owner's canonical id, which stands for that
/// account in the engine's "same account" rule (`None`: the object is the bucket owner's).
pub fn object_account(snapshot: &Snapshot) -> Option<String> {
    let owner = foreign_owner(snapshot)?;
    let caller = snapshot.principal.as_ref()?;
    if caller.account_canonical_id.as_deref() == Some(owner) {
        return Some(caller.account_id.clone());
    }
    Some(owner.to_owned())
}

/// When a download is granted only by a public grant of the object's ACL and `IgnorePublicAcls` makes S3
/// ignore it: the message (`GET_PUBLIC_ACL_IGNORED`).
pub fn ignored_object_grant(snapshot: &Snapshot) -> Option<String> {
    let grantees = read_grantees(snapshot);
    let ignored = acls_act(snapshot)
        && !grantees.is_empty()
        && effective_block(snapshot).ignore_public_acls
        && grantees.iter().all(|g| g.is_public());
    ignored.then(|| {
        format!(
            "object `{}` is readable only through a public grant of its ACL (AllUsers or AuthenticatedUsers), which Block Public Access `IgnorePublicAcls` makes S3 ignore",
            snapshot.request.key()
        )
    })
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
