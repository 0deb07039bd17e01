//! Layers the diagnosis has not seen: those the collector could not read (`unavailable`), those the user
//! chose not to read (`skipLayers`), and those missing from the snapshot. Each is replaced by the most
//! permissive data it could hold before evaluation, so that a denial found is a denial whatever the missing
//! layer holds, and an allow is never claimed on data not seen. Depends on `snapshot`, `kms`.

use super::kms::{find_key, key_choice};
use super::snapshot::{
    BucketData, KmsGrant, KmsKey, NamedPolicy, PrincipalData, Snapshot, SnapshotLayer,
};
use iam_policy::arn::Arn;
use serde_json::json;

/// A layer not seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The layer.
    pub layer: SnapshotLayer,
    /// Why it was not seen.
    pub reason: String,
    /// The user listed it in `skipLayers`: an assumption, not an unknown.
    pub skipped: bool,
}

/// Whether the snapshot holds the data of a layer (it may still be listed as unavailable).
fn held(snapshot: &Snapshot, layer: SnapshotLayer) -> bool {
    match layer {
        SnapshotLayer::Identity
        | SnapshotLayer::PermissionsBoundary
        | SnapshotLayer::SessionPolicy => snapshot.principal.is_some(),
        SnapshotLayer::Scp | SnapshotLayer::Rcp => snapshot.organization.is_some(),
        SnapshotLayer::BucketPolicy
        | SnapshotLayer::BucketOwnership
        | SnapshotLayer::PublicAccessBlock
        | SnapshotLayer::AccountPublicAccessBlock
        | SnapshotLayer::BucketEncryption
        | SnapshotLayer::Request => snapshot.bucket.is_some(),
        SnapshotLayer::VpcEndpointPolicy => snapshot.vpc_endpoint.is_some(),
        SnapshotLayer::KmsKey | SnapshotLayer::KmsKeyPolicy | SnapshotLayer::KmsGrants => {
            key_choice(snapshot).is_none_or(|c| find_key(snapshot, &c.reference).is_some())
        }
    }
}

/// Every gap of a snapshot, one per layer.
pub fn gaps(snapshot: &Snapshot) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = Vec::new();
    let mut add = |layer: SnapshotLayer, reason: String, skipped: bool| match gaps
        .iter_mut()
        .find(|g| g.layer == layer)
    {
        Some(existing) => existing.skipped |= skipped,
        None => gaps.push(Gap {
            layer,
            reason,
            skipped,
        }),
    };
    // `skipLayers` accepts what was not read, nothing more: a layer the snapshot holds still decides (a Deny
    // in it still denies), whatever the list says.
    for layer in &snapshot.request.skip_layers {
        let unread =
            snapshot.unavailable.iter().any(|u| u.layer == *layer) || !held(snapshot, *layer);
        if unread {
            add(*layer, "skipped by `skipLayers`".to_owned(), true);
        }
    }
    for u in &snapshot.unavailable {
        add(u.layer, u.reason.clone(), false);
    }
    if snapshot.principal.is_none() {
        add(
            SnapshotLayer::Identity,
            "the principal is not in the snapshot".to_owned(),
            false,
        );
    }
    if snapshot.bucket.is_none() {
        for layer in SnapshotLayer::BUCKET {
            add(layer, "the bucket is not in the snapshot".to_owned(), false);
        }
    }
    gaps
}

/// The snapshot with every gap replaced by the most permissive data it could hold (borrowed when complete).
pub fn fill<'a>(snapshot: &'a Snapshot, gaps: &[Gap]) -> std::borrow::Cow<'a, Snapshot> {
    if gaps.is_empty() {
        return std::borrow::Cow::Borrowed(snapshot);
    }
    let mut s = snapshot.clone();
    let principal_arn = s.request.principal_arn.clone();
    let partition = s.request.partition().to_owned();
    let caller_account = Arn::parse(&principal_arn)
        .map(|a| a.account.to_owned())
        .unwrap_or_default();
    let allow_all = |id: &str| NamedPolicy {
        id: id.to_owned(),
        name: id.to_owned(),
        source: None,
        document: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    };
    let has = |layer: SnapshotLayer| gaps.iter().any(|g| g.layer == layer);

    if has(SnapshotLayer::Identity) {
        let principal = s.principal.get_or_insert_with(|| PrincipalData {
            arn: principal_arn.clone(),
            account_id: caller_account.clone(),
            kind: if principal_arn.contains(":user/") {
                "user"
            } else {
                "role"
            }
            .to_owned(),
            ..PrincipalData::default()
        });
        principal.policies = vec![allow_all("assumed-identity-policy")];
    }
    if let Some(principal) = s.principal.as_mut() {
        if has(SnapshotLayer::PermissionsBoundary) {
            principal.permissions_boundary = None;
        }
        if has(SnapshotLayer::SessionPolicy) {
            principal.session_policy = None;
        }
    }
    if let Some(org) = s.organization.as_mut() {
        if has(SnapshotLayer::Scp) {
            org.scps.clear();
        }
        if has(SnapshotLayer::Rcp) {
            org.rcps.clear();
        }
    }
    let bucket_gap = [
        SnapshotLayer::BucketPolicy,
        SnapshotLayer::BucketOwnership,
        SnapshotLayer::PublicAccessBlock,
        SnapshotLayer::AccountPublicAccessBlock,
        SnapshotLayer::BucketEncryption,
    ]
    .iter()
    .any(|l| has(*l));
    if bucket_gap && s.bucket.is_none() {
        s.bucket = Some(BucketData {
            name: s.request.bucket.clone(),
            account_id: caller_account.clone(),
            ..BucketData::default()
        });
    }
    if let Some(bucket) = s.bucket.as_mut() {
        if has(SnapshotLayer::BucketPolicy) {
            bucket.policy = Some(
                json!({"Version": "2012-10-17", "Statement": [{"Sid": "NotReadAssumedToAllow", "Effect": "Allow",
                "Principal": {"AWS": principal_arn}, "Action": "s3:*", "Resource": format!("arn:{partition}:s3:::{}/*", bucket.name)}]}),
            );
        }
        if has(SnapshotLayer::BucketOwnership) {
            bucket.ownership = None;
        }
        if has(SnapshotLayer::PublicAccessBlock) {
            bucket.public_access_block = None;
        }
        if has(SnapshotLayer::AccountPublicAccessBlock) {
            bucket.account_public_access_block = None;
        }
        if has(SnapshotLayer::BucketEncryption) {
            bucket.encryption = None;
        }
        if has(SnapshotLayer::Request) {
            bucket.requester_pays = false;
        }
    }
    if has(SnapshotLayer::VpcEndpointPolicy) {
        if let Some(endpoint) = s.vpc_endpoint.as_mut() {
            endpoint.policy = None;
        }
    }
    let key_policy_open = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NotReadAssumedToAllow", "Effect": "Allow",
        "Principal": {"AWS": principal_arn}, "Action": "kms:*", "Resource": "*"}]});
    if has(SnapshotLayer::KmsKey) {
        if let Some(choice) = key_choice(&s) {
            if find_key(&s, &choice.reference).is_none() {
                let region = s
                    .bucket
                    .as_ref()
                    .map(|b| b.region.clone())
                    .unwrap_or_default();
                s.kms_keys.push(KmsKey {
                    arn: if choice.reference.starts_with("arn:") {
                        choice.reference.clone()
                    } else {
                        format!("arn:{partition}:kms:{region}:{caller_account}:key/assumed")
                    },
                    account_id: caller_account.clone(),
                    region,
                    aliases: if choice.reference.starts_with("alias/") {
                        vec![choice.reference.clone()]
                    } else {
                        Vec::new()
                    },
                    key_manager: "CUSTOMER".to_owned(),
                    key_state: "Enabled".to_owned(),
                    key_spec: "SYMMETRIC_DEFAULT".to_owned(),
                    policy: Some(key_policy_open.clone()),
                    grants: Vec::new(),
                });
            }
        }
        for key in &mut s.kms_keys {
            key.key_state = "Enabled".to_owned();
            key.key_spec = "SYMMETRIC_DEFAULT".to_owned();
        }
    }
    for key in &mut s.kms_keys {
        if has(SnapshotLayer::KmsKeyPolicy) {
            key.policy = Some(key_policy_open.clone());
        }
        if has(SnapshotLayer::KmsGrants) {
            key.grants.push(KmsGrant {
                grantee_principal: principal_arn.clone(),
                operations: vec!["GenerateDataKey".to_owned(), "Decrypt".to_owned()],
                constraints: None,
            });
        }
    }
    std::borrow::Cow::Owned(s)
}
