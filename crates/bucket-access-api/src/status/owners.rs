//! Whose each layer of a diagnosis is: the account that owns its data (the principal's, the bucket's, the
//! key's, the access point's, the VPC endpoint's), the organization (SCPs and RCPs), or the check itself (the
//! request the tenant wrote). `Full` shows a layer's texts only when its owner is an account the scope lists.

use iam_policy::PrincipalArn;
use s3_diagnosis::snapshot::{Snapshot, SnapshotLayer};
use std::collections::BTreeSet;

/// Who owns a layer's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The check's own request: what the tenant wrote.
    Check,
    /// An account.
    Account(String),
    /// The organization (its management account): SCPs and RCPs. No scope lists it.
    Organization,
    /// Not known (the snapshot does not say): treated as outside every scope.
    Unknown,
}

/// The owner of each layer of one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owners {
    principal: Option<String>,
    bucket: Option<String>,
    keys: Option<String>,
    endpoint: Option<String>,
    access_point: Option<String>,
}

fn account(id: &str) -> Option<String> {
    Some(id.to_owned()).filter(|a| !a.is_empty())
}

impl Owners {
    /// The owners of `snapshot`'s layers, from its typed facts.
    pub fn of(snapshot: &Snapshot) -> Self {
        let principal = PrincipalArn::parse(&snapshot.request.principal_arn)
            .ok()
            .map(|p| p.account().to_owned());
        let bucket = snapshot
            .bucket
            .as_ref()
            .and_then(|b| account(&b.account_id))
            .or_else(|| {
                snapshot
                    .access_point
                    .as_ref()
                    .and_then(|a| account(&a.bucket_account_id))
            });
        // Several keys (a bucket key and the one the upload names) are shown only when all are the same
        // account's.
        let key_accounts: BTreeSet<&str> = snapshot
            .kms_keys
            .iter()
            .map(|k| k.account_id.as_str())
            .collect();
        let keys = match key_accounts.into_iter().collect::<Vec<_>>().as_slice() {
            [one] => account(one),
            _ => None,
        };
        Self {
            principal,
            bucket,
            keys,
            endpoint: snapshot
                .vpc_endpoint
                .as_ref()
                .and_then(|e| account(&e.owner_id)),
            access_point: snapshot
                .access_point
                .as_ref()
                .and_then(|a| account(&a.account_id)),
        }
    }

    /// The owner of `layer`.
    pub fn owner(&self, layer: SnapshotLayer) -> Owner {
        use SnapshotLayer::*;
        let of = |account: &Option<String>| account.clone().map_or(Owner::Unknown, Owner::Account);
        match layer {
            Request => Owner::Check,
            Identity | PermissionsBoundary | SessionPolicy => of(&self.principal),
            Scp | Rcp => Owner::Organization,
            BucketPolicy
            | BucketOwnership
            | PublicAccessBlock
            | AccountPublicAccessBlock
            | BucketEncryption
            | ResourceTags
            | BucketAcl
            | Object => of(&self.bucket),
            VpcEndpointPolicy => of(&self.endpoint),
            KmsKey | KmsKeyPolicy | KmsGrants => of(&self.keys),
            AccessPoint | AccessPointPolicy => of(&self.access_point),
        }
    }

    /// Whether `layer`'s texts may be shown to a reader whose scope lists `accounts`.
    pub fn in_scope(&self, layer: SnapshotLayer, accounts: &BTreeSet<String>) -> bool {
        match self.owner(layer) {
            Owner::Check => true,
            Owner::Account(account) => accounts.contains(&account),
            Owner::Organization | Owner::Unknown => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_layer_has_its_owner() {
        let snapshot: Snapshot = serde_json::from_value(serde_json::json!({
            "version": 1,
            "request": {"principalArn": "arn:aws:iam::111122223333:role/uploader", "bucket": "media"},
            "bucket": {"name": "media", "accountId": "444455556666", "region": "us-east-1"}
        }))
        .unwrap_or_default();
        let owners = Owners::of(&snapshot);
        let scope = BTreeSet::from(["111122223333".to_owned()]);
        assert!(owners.in_scope(SnapshotLayer::Identity, &scope));
        assert!(owners.in_scope(SnapshotLayer::Request, &scope));
        assert!(!owners.in_scope(SnapshotLayer::BucketPolicy, &scope));
        assert!(!owners.in_scope(SnapshotLayer::Scp, &scope));
        assert!(
            !owners.in_scope(SnapshotLayer::KmsKeyPolicy, &scope),
            "no key read: unknown"
        );
        assert_eq!(owners.owner(SnapshotLayer::Rcp), Owner::Organization);
    }
}
