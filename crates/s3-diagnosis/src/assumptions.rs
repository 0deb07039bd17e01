//! Layers the diagnosis has not seen: those the collector could not read (`unavailable`), those the user
//! chose not to read (`skipLayers`), and those missing from the snapshot. Each is replaced by the most
//! permissive data it could hold before evaluation, so that a denial found is a denial whatever the missing
//! layer holds, and an allow is never claimed on data not seen.

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
        // Tags not in the snapshot are unknown values of the request context (a condition on them is then
        // undecided): only a read that failed, listed in `unavailable`, is a gap.
        SnapshotLayer::ResourceTags => true,
        // An ACL can only add a grant: one not read leaves a missing grant undecided (`attribute::gaps`), and
        // never makes an allow doubtful.
        SnapshotLayer::BucketAcl => true,
        // An object not read leaves its tags unknown values of the download's context.
        SnapshotLayer::Object => true,
        // An access point the check names and the snapshot lacks makes the check `Unknown` before any
        // evaluation (the bucket behind it is not known either).
        SnapshotLayer::AccessPoint | SnapshotLayer::AccessPointPolicy => true,
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
    // The reason is what the collector recorded when it has one (an operator that accepts the organization
    // unread says so), else the list's.
    for layer in &snapshot.request.skip_layers {
        let recorded = snapshot.unavailable.iter().find(|u| u.layer == *layer);
        if recorded.is_some() || !held(snapshot, *layer) {
            let reason = recorded.map_or_else(
                || "skipped by `skipLayers`".to_owned(),
                |u| format!("accepted unread: {}", u.reason),
            );
            add(*layer, reason, true);
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
    // A download's object decides it too (archived: refused; missing: 403 without `s3:ListBucket`; where
    // ACLs act, its owner and ACL): not in the snapshot, it is not known.
    let downloads = snapshot.request.actions().iter().any(|a| a == "GetObject");
    if downloads && snapshot.object.is_none() {
        let reason = match &snapshot.request.version_id {
            Some(version) => format!("the facts of version `{version}` were not read (whether it exists, is archived, who owns it and its tags decide its download)"),
            None => "the object was not read (whether it exists, is archived, who owns it and its tags decide a download)".to_owned(),
        };
        add(SnapshotLayer::Object, reason, false);
    }
    gaps
}

/// What the filling needs of the check: its principal, partition and the caller's account, and which
/// layers are gaps.
struct Filling<'g> {
    principal_arn: String,
    partition: String,
    caller_account: String,
    gaps: &'g [Gap],
}

impl Filling<'_> {
    fn has(&self, layer: SnapshotLayer) -> bool {
        self.gaps.iter().any(|g| g.layer == layer)
    }
}

/// The snapshot with every gap replaced by the most permissive data it could hold (borrowed when complete).
pub fn fill<'a>(snapshot: &'a Snapshot, gaps: &[Gap]) -> std::borrow::Cow<'a, Snapshot> {
    if gaps.is_empty() {
        return std::borrow::Cow::Borrowed(snapshot);
    }
    let mut s = snapshot.clone();
    let principal_arn = s.request.principal_arn.clone();
    let f = Filling {
        partition: s.request.partition().to_owned(),
        caller_account: Arn::parse(&principal_arn)
            .map(|a| a.account.to_owned())
            .unwrap_or_default(),
        principal_arn,
        gaps,
    };
    fill_principal(&mut s, &f);
    if let Some(org) = s.organization.as_mut() {
        if f.has(SnapshotLayer::Scp) {
            org.scps.clear();
        }
        if f.has(SnapshotLayer::Rcp) {
            org.rcps.clear();
        }
    }
    fill_bucket(&mut s, &f);
    if f.has(SnapshotLayer::VpcEndpointPolicy) {
        if let Some(endpoint) = s.vpc_endpoint.as_mut() {
            endpoint.policy = None;
        }
    }
    fill_keys(&mut s, &f);
    fill_access_point(&mut s, &f);
    std::borrow::Cow::Owned(s)
}

/// Identity: one allow-all policy; a boundary or session policy not read: none.
fn fill_principal(s: &mut Snapshot, f: &Filling<'_>) {
    if f.has(SnapshotLayer::Identity) {
        let principal = s.principal.get_or_insert_with(|| PrincipalData {
            arn: f.principal_arn.clone(),
            account_id: f.caller_account.clone(),
            kind: iam_policy::PrincipalArn::parse(&f.principal_arn)
                .map_or("role", |p| p.kind().as_str())
                .to_owned(),
            ..PrincipalData::default()
        });
        principal.policies = vec![NamedPolicy {
            id: "assumed-identity-policy".to_owned(),
            name: "assumed-identity-policy".to_owned(),
            source: None,
            document: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        }];
    }
    if let Some(principal) = s.principal.as_mut() {
        if f.has(SnapshotLayer::PermissionsBoundary) {
            principal.permissions_boundary = None;
        }
        if f.has(SnapshotLayer::SessionPolicy) {
            principal.session_policy = None;
        }
    }
}

/// The bucket's settings: a policy that allows the principal, no ownership rule, no Block Public Access, no
/// default encryption, no Requester Pays.
fn fill_bucket(s: &mut Snapshot, f: &Filling<'_>) {
    let bucket_gap = SnapshotLayer::BUCKET.iter().any(|l| f.has(*l));
    if bucket_gap && s.bucket.is_none() {
        s.bucket = Some(BucketData {
            name: s.request.bucket.clone(),
            account_id: f.caller_account.clone(),
            ..BucketData::default()
        });
    }
    let Some(bucket) = s.bucket.as_mut() else {
        return;
    };
    if f.has(SnapshotLayer::BucketPolicy) {
        bucket.policy = Some(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "NotReadAssumedToAllow", "Effect": "Allow",
            "Principal": {"AWS": f.principal_arn}, "Action": "s3:*", "Resource": format!("arn:{}:s3:::{}/*", f.partition, bucket.name)}]}),
        );
    }
    if f.has(SnapshotLayer::BucketOwnership) {
        bucket.ownership = None;
    }
    if f.has(SnapshotLayer::PublicAccessBlock) {
        bucket.public_access_block = None;
    }
    if f.has(SnapshotLayer::AccountPublicAccessBlock) {
        bucket.account_public_access_block = None;
    }
    if f.has(SnapshotLayer::BucketEncryption) {
        bucket.encryption = None;
    }
    if f.has(SnapshotLayer::Request) {
        bucket.requester_pays = false;
    }
}

/// The access point: a policy that allows the principal, its network origin and Block Public Access as read
/// (they come with the access point itself, which was read, else nothing is evaluated).
fn fill_access_point(s: &mut Snapshot, f: &Filling<'_>) {
    let Some(ap) = s.access_point.as_mut() else {
        return;
    };
    if f.has(SnapshotLayer::AccessPointPolicy) {
        ap.policy = Some(
            json!({"Version": "2012-10-17", "Statement": [{"Sid": "NotReadAssumedToAllow", "Effect": "Allow",
            "Principal": {"AWS": f.principal_arn}, "Action": "s3:*", "Resource": ap.objects_arn()}]}),
        );
    }
    if f.has(SnapshotLayer::AccessPoint) {
        ap.public_access_block = Some(super::snapshot::PublicAccessBlock::default());
        ap.network_origin = "Internet".to_owned();
    }
}

/// The KMS key: an enabled symmetric key (one is made up when the upload's key was not read), a key policy
/// that allows the principal, a grant for it.
fn fill_keys(s: &mut Snapshot, f: &Filling<'_>) {
    let key_policy_open = json!({"Version": "2012-10-17", "Statement": [{"Sid": "NotReadAssumedToAllow", "Effect": "Allow",
        "Principal": {"AWS": f.principal_arn}, "Action": "kms:*", "Resource": "*"}]});
    if f.has(SnapshotLayer::KmsKey) {
        if let Some(choice) = key_choice(s) {
            if find_key(s, &choice.reference).is_none() {
                let region = s
                    .bucket
                    .as_ref()
                    .map(|b| b.region.clone())
                    .unwrap_or_default();
                s.kms_keys.push(KmsKey {
                    arn: if choice.reference.starts_with("arn:") {
                        choice.reference.clone()
                    } else {
                        format!(
                            "arn:{}:kms:{region}:{}:key/assumed",
                            f.partition, f.caller_account
                        )
                    },
                    account_id: f.caller_account.clone(),
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
                    tags: None,
                });
            }
        }
        for key in &mut s.kms_keys {
            key.key_state = "Enabled".to_owned();
            key.key_spec = "SYMMETRIC_DEFAULT".to_owned();
        }
    }
    for key in &mut s.kms_keys {
        if f.has(SnapshotLayer::KmsKeyPolicy) {
            key.policy = Some(key_policy_open.clone());
        }
        if f.has(SnapshotLayer::KmsGrants) {
            key.grants.push(KmsGrant {
                grantee_principal: f.principal_arn.clone(),
                operations: vec!["GenerateDataKey".to_owned(), "Decrypt".to_owned()],
                constraints: None,
            });
        }
    }
}
