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
    /// Whether a KMS key was read.
    any_key: bool,
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
            any_key: !snapshot.kms_keys.is_empty(),
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

    /// The owner of `layer`. The check's own request is the tenant's, but its problems may quote facts of the
    /// bucket, the access point or the endpoint: it is theirs too (`in_scope`). Resource tags are the bucket's
    /// and the key's.
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
        let listed =
            |account: &Option<String>| account.as_ref().is_none_or(|a| accounts.contains(a));
        let owned = match self.owner(layer) {
            Owner::Check => true,
            Owner::Account(account) => accounts.contains(&account),
            Owner::Organization | Owner::Unknown => false,
        };
        owned
            && match layer {
                SnapshotLayer::Request => {
                    listed(&self.bucket) && listed(&self.access_point) && listed(&self.endpoint)
                }
                SnapshotLayer::ResourceTags => {
                    !self.any_key || self.keys.as_ref().is_some_and(|a| accounts.contains(a))
                }
                _ => true,
            }
    }

    /// Whether every account the snapshot holds data of is the scope's (the organization's policies aside:
    /// no scope lists them, and what is shown of a snapshot, its digest say, leaves them out).
    pub fn all_in_scope(&self, accounts: &BTreeSet<String>) -> bool {
        let listed =
            |account: &Option<String>| account.as_ref().is_none_or(|a| accounts.contains(a));
        (!self.any_key || self.keys.as_ref().is_some_and(|a| accounts.contains(a)))
            && [
                &self.principal,
                &self.bucket,
                &self.endpoint,
                &self.access_point,
            ]
            .into_iter()
            .all(listed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(value: serde_json::Value) -> Snapshot {
        match serde_json::from_value(value) {
            Ok(snapshot) => snapshot,
            Err(e) => unreachable!("the test snapshot does not parse: {e}"),
        }
    }

    #[test]
    fn each_layer_has_its_owner() {
        let owners = Owners::of(&snapshot(serde_json::json!({
            "version": 1,
            "request": {"principalArn": "arn:aws:iam::111122223333:role/uploader", "bucket": "media"},
            "bucket": {"name": "media", "accountId": "444455556666", "region": "us-east-1"}
        })));
        let principal = BTreeSet::from(["111122223333".to_owned()]);
        let both = BTreeSet::from(["111122223333".to_owned(), "444455556666".to_owned()]);
        assert!(owners.in_scope(SnapshotLayer::Identity, &principal));
        assert!(!owners.in_scope(SnapshotLayer::BucketPolicy, &principal));
        assert!(owners.in_scope(SnapshotLayer::BucketPolicy, &both));
        // The request quotes the bucket's facts: it is shown when the bucket's account is listed.
        assert!(!owners.in_scope(SnapshotLayer::Request, &principal));
        assert!(owners.in_scope(SnapshotLayer::Request, &both));
        assert!(!owners.in_scope(SnapshotLayer::Scp, &both));
        assert!(
            !owners.in_scope(SnapshotLayer::KmsKeyPolicy, &both),
            "no key read: unknown"
        );
        assert_eq!(owners.owner(SnapshotLayer::Rcp), Owner::Organization);
        assert!(owners.all_in_scope(&both) && !owners.all_in_scope(&principal));
    }

    /// Keys of two accounts, an endpoint without its owner, an access point in front of another account's
    /// bucket: each is shown only where its own account is listed.
    #[test]
    fn keys_endpoints_and_access_points_are_their_own_accounts() {
        let owners = Owners::of(&snapshot(serde_json::json!({
            "version": 1,
            "request": {"principalArn": "arn:aws:iam::111122223333:role/uploader", "bucket": "media"},
            "accessPoint": {"arn": "arn:aws:s3:us-east-1:222233334444:accesspoint/ap", "alias": "ap-s3alias",
                "name": "ap", "accountId": "222233334444", "bucket": "media", "bucketAccountId": "444455556666"},
            "vpcEndpoint": {"id": "vpce-1", "vpcId": "vpc-1", "serviceName": "s3", "type": "Gateway", "ownerId": ""},
            "kmsKeys": [
                {"arn": "arn:aws:kms:us-east-1:111122223333:key/a", "accountId": "111122223333", "region": "us-east-1",
                 "keyManager": "CUSTOMER", "keyState": "Enabled"},
                {"arn": "arn:aws:kms:us-east-1:555566667777:key/b", "accountId": "555566667777", "region": "us-east-1",
                 "keyManager": "CUSTOMER", "keyState": "Enabled"}
            ]
        })));
        let every = BTreeSet::from(
            [
                "111122223333",
                "222233334444",
                "444455556666",
                "555566667777",
            ]
            .map(str::to_owned),
        );
        assert!(
            !owners.in_scope(SnapshotLayer::KmsKeyPolicy, &every),
            "two key accounts"
        );
        assert!(
            !owners.in_scope(SnapshotLayer::ResourceTags, &every),
            "the keys' tags too"
        );
        assert!(
            !owners.in_scope(SnapshotLayer::VpcEndpointPolicy, &every),
            "no owner"
        );
        assert!(owners.in_scope(SnapshotLayer::AccessPointPolicy, &every));
        assert!(
            owners.in_scope(SnapshotLayer::BucketPolicy, &every),
            "the bucket behind it"
        );
        assert!(!owners.all_in_scope(&every));
    }
}
