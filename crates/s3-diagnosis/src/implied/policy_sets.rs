//! The policy sets the implied requests are evaluated against: the object's and the bucket's S3 requests
//! (directly or through an access point or a VPC endpoint) and the KMS key's.

use super::{ImpliedRequest, Parser, Target, ACCESS_POINT_REQUEST_ID};
use crate::documents::{BUCKET_POLICY_ID, SESSION_POLICY_ID};
use crate::kms;
use crate::request::{kms_context, object_arn, Purpose};
use crate::snapshot::{Snapshot, SnapshotLayer};
use iam_policy::{Policy, PolicyKind, PolicySet, Principal, Request};
use serde_json::json;

/// The bucket's side of a request made through an access point: the same action and context on the bucket's
/// object ARN, in the bucket's account. The tag keys only the bucket's side tests (its bucket policy's) are
/// marked as the access point's side marks its own: unknown where the tags were not read.
pub(super) fn on_the_bucket(
    s: &Snapshot,
    through: &Request,
    bucket_account: &str,
    policies: Option<&PolicySet>,
) -> Request {
    let mut context = (*through.context).clone();
    crate::request::resource_account(&mut context, bucket_account);
    if let Some(policies) = policies {
        crate::request::bucket_side_tags(s, policies, &mut context);
        if matches!(
            through.action.as_str(),
            "s3:GetObject" | "s3:GetObjectVersion"
        ) {
            crate::request::object_context(s, &mut context, policies);
        }
    }
    Request::new(
        through.principal.clone(),
        &through.action,
        &object_arn(s),
        Some(bucket_account.to_owned()),
        context,
    )
}

/// The policies of the bucket's side of a request through an access point: the bucket policy and ACL, the
/// bucket account's RCPs, and the identity side. A caller of the bucket's account may be allowed by its own
/// identity policies on the bucket's ARN (as without an access point); for a caller of another account the
/// access point's side has already decided its identity policies, boundary, session policy and SCPs, so
/// that here the bucket must grant (or delegate to the access point) on its own.
pub(super) fn bucket_side_policy_set(
    s: &Snapshot,
    parser: &mut Parser,
    s3_policies: &PolicySet,
    caller_owns_bucket: bool,
) -> PolicySet {
    let resource_policies = bucket_resource_policies(s, parser);
    let identity = if caller_owns_bucket {
        s3_policies.identity.clone()
    } else {
        let authorized = json!({"Version": "2012-10-17", "Statement": [{"Sid": "AuthorizedOnTheAccessPoint",
            "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        vec![parser.policy(
            ACCESS_POINT_REQUEST_ID,
            &authorized,
            PolicyKind::Identity,
            SnapshotLayer::Identity,
        )]
    };
    PolicySet {
        identity,
        permission_boundary: None,
        session_policy: None,
        scps: Vec::new(),
        rcps: s3_policies.rcps.clone(),
        resource_policies,
        vpc_endpoint_policy: None,
    }
}

/// The policies of a download decided with its object's ACL (`None`: it has no grant that acts and the
/// bucket owner owns it, or the requests go through an access point): the caller's, the bucket policy (for
/// an object of another account only its denies: its grants do not reach that account's object), and the
/// object ACL's read grants.
/// The download's requests are then decided with them (`Target::Object`).
pub(super) fn object_policy_set(
    s: &Snapshot,
    parser: &mut Parser,
    s3_policies: &PolicySet,
    requests: &mut [ImpliedRequest],
) -> Option<PolicySet> {
    let reads = s.request.actions().iter().any(|a| a == "GetObject");
    let grants = crate::acl::acting_object_grants(s);
    let foreign = crate::acl::foreign_owner(s).is_some();
    if !reads || crate::access_point::used(s).is_some() || (grants.is_none() && !foreign) {
        return None;
    }
    let mut resource_policies: Vec<Policy> = s3_policies
        .resource_policies
        .iter()
        .filter(|p| &*p.id == BUCKET_POLICY_ID)
        .map(|p| {
            let mut p = p.clone();
            if foreign {
                p.statements = p
                    .statements
                    .iter()
                    .filter(|st| st.effect != Some(iam_policy::Effect::Allow))
                    .cloned()
                    .collect();
            }
            p
        })
        .collect();
    resource_policies.extend(grants.map(|doc| {
        parser.policy(
            crate::acl::OBJECT_ACL_ID,
            &doc,
            PolicyKind::Resource,
            SnapshotLayer::Object,
        )
    }));
    for r in requests.iter_mut().filter(|r| r.purpose.is_read()) {
        r.target = Target::Object;
    }
    Some(PolicySet {
        resource_policies,
        ..s3_policies.clone()
    })
}

/// The policies of the S3 requests: the principal's (identity, boundary, session), the organization's, the
/// bucket policy (the access point's policy through an access point), and the VPC endpoint's when the
/// requests go through one.
pub(super) fn s3_policy_set(s: &Snapshot, parser: &mut Parser, via_endpoint: bool) -> PolicySet {
    let mut identity = Vec::new();
    let mut boundary = None;
    let mut session = None;
    if let Some(p) = &s.principal {
        for named in &p.policies {
            identity.push(parser.named(named, PolicyKind::Identity, SnapshotLayer::Identity));
        }
        boundary = p.permissions_boundary.as_ref().map(|b| {
            parser.policy(
                &b.id,
                &b.document,
                PolicyKind::PermissionBoundary,
                SnapshotLayer::PermissionsBoundary,
            )
        });
        session = p.session_policy.as_ref().map(|doc| {
            parser.policy(
                SESSION_POLICY_ID,
                doc,
                PolicyKind::SessionPolicy,
                SnapshotLayer::SessionPolicy,
            )
        });
    }
    let (scps, rcps) = match &s.organization {
        Some(org) => (
            parser.levels(&org.scps, PolicyKind::Scp, SnapshotLayer::Scp),
            parser.levels(&org.rcps, PolicyKind::Rcp, SnapshotLayer::Rcp),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let resource_policies = match crate::access_point::used(s) {
        // Through an access point, its policy is the resource policy of the caller's request.
        Some(ap) => ap
            .policy
            .as_ref()
            .map(|doc| {
                parser.policy(
                    &ap.arn,
                    doc,
                    PolicyKind::Resource,
                    SnapshotLayer::AccessPointPolicy,
                )
            })
            .into_iter()
            .collect(),
        None => bucket_resource_policies(s, parser),
    };
    let endpoint_policy = s
        .vpc_endpoint
        .as_ref()
        .filter(|_| via_endpoint)
        .and_then(|e| e.policy.as_ref().map(|doc| (e.id.as_str(), doc)))
        .map(|(id, doc)| {
            parser.policy(
                id,
                doc,
                PolicyKind::VpcEndpoint,
                SnapshotLayer::VpcEndpointPolicy,
            )
        });
    PolicySet {
        identity,
        permission_boundary: boundary,
        session_policy: session,
        scps,
        rcps,
        resource_policies,
        vpc_endpoint_policy: endpoint_policy,
    }
}

/// The bucket policy and the bucket ACL's grants that act (decided like bucket-policy statements).
fn bucket_resource_policies(s: &Snapshot, parser: &mut Parser) -> Vec<Policy> {
    let bucket_policy = s
        .bucket
        .as_ref()
        .and_then(|b| b.policy.as_ref())
        .map(|doc| {
            parser.policy(
                BUCKET_POLICY_ID,
                doc,
                PolicyKind::Resource,
                SnapshotLayer::BucketPolicy,
            )
        });
    let acl_policy = crate::acl::acting_grants(s).map(|doc| {
        parser.policy(
            crate::acl::BUCKET_ACL_ID,
            &doc,
            PolicyKind::Resource,
            SnapshotLayer::BucketAcl,
        )
    });
    bucket_policy.into_iter().chain(acl_policy).collect()
}

/// The KMS key an upload uses, as its request is built.
pub(super) struct KeyRequest<'a> {
    pub(super) key: &'a crate::snapshot::KmsKey,
    pub(super) bucket_key: bool,
    pub(super) principal: &'a Principal,
    pub(super) bucket_account: &'a str,
}

/// The policies of the KMS requests (the S3 requests' identity side, the key policy and grants, no endpoint
/// policy) and the request they share.
pub(super) fn kms_policy_set(
    s: &Snapshot,
    parser: &mut Parser,
    k: KeyRequest<'_>,
    s3_policies: &PolicySet,
) -> (PolicySet, Request) {
    let key = k.key;
    let key_account = if key.account_id.is_empty() {
        k.bucket_account.to_owned()
    } else {
        key.account_id.clone()
    };
    let mut resource: Vec<Policy> = key
        .policy
        .as_ref()
        .map(|doc| {
            parser.policy(
                &key.arn,
                doc,
                PolicyKind::Resource,
                SnapshotLayer::KmsKeyPolicy,
            )
        })
        .into_iter()
        .collect();
    resource.extend(kms::grant_policies(key));
    let mut policies = PolicySet {
        resource_policies: resource,
        vpc_endpoint_policy: None,
        ..s3_policies.clone()
    };
    // RCPs govern the key's account: they apply when the key is in the bucket's account and is not AWS
    // managed.
    if key_account != k.bucket_account || kms::is_aws_managed(key) {
        policies.rcps.clear();
    }
    let request = Request::new(
        k.principal.clone(),
        Purpose::KmsEncrypt.action(),
        &key.arn,
        Some(key_account.clone()),
        kms_context(s, key, &key_account, k.bucket_key, &policies),
    );
    (policies, request)
}
