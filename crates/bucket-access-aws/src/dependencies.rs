//! What a check's last snapshot read, compactly (`Dependencies`): enough to tell whether a change event
//! touches it, in the account it changed in.

use crate::events::{key_id, Change, OrgTarget};
use iam_policy::arn::Arn;
use iam_policy::{PrincipalArn, PrincipalKind};
use s3_diagnosis::snapshot::Snapshot;
use std::collections::BTreeSet;

/// What a check's last snapshot read, compactly: enough to tell whether a change touches it. Checks that read
/// the same things share one (`Hash`, for the index's interning).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Dependencies {
    principal: Option<PrincipalArn>,
    managed_policies: BTreeSet<String>,
    bucket: String,
    bucket_account: Option<String>,
    /// KMS keys and their aliases, each with its account.
    keys: BTreeSet<(String, String)>,
    /// The SCPs and RCPs read (none: the organization was not read).
    org_policies: Option<BTreeSet<String>>,
    endpoint: Option<String>,
    access_point: Option<(String, String)>,
}

impl Dependencies {
    /// What `snapshot` read.
    pub fn of(snapshot: &Snapshot) -> Self {
        let request = &snapshot.request;
        let principal = PrincipalArn::parse(&request.principal_arn).ok();
        let managed_policies = snapshot
            .principal
            .iter()
            .flat_map(|p| p.policies.iter().chain(&p.permissions_boundary))
            .filter(|n| n.id.contains(":policy/"))
            .map(|n| n.id.clone())
            .collect();
        let bucket_account = snapshot
            .bucket
            .as_ref()
            .map(|b| b.account_id.clone())
            .filter(|a| !a.is_empty());
        // A key named without its account (a bare id or alias) may be the principal's or the bucket's.
        let accounts: Vec<String> = principal
            .iter()
            .map(|p| p.account().to_owned())
            .chain(bucket_account.clone())
            .collect();
        let named = request.upload.sse_kms_key_id.as_deref().map(|k| {
            let account = Arn::parse(k).ok().map(|a| a.account.to_owned());
            (account, key_id(k))
        });
        let keys = snapshot
            .kms_keys
            .iter()
            .flat_map(|k| {
                std::iter::once(key_id(&k.arn))
                    .chain(k.aliases.iter().cloned())
                    .map(|id| (k.account_id.clone(), id))
            })
            .chain(named.into_iter().flat_map(|(account, id)| match account {
                Some(account) => vec![(account, id)],
                None => accounts.iter().map(|a| (a.clone(), id.clone())).collect(),
            }))
            .collect();
        let org_policies = snapshot.organization.as_ref().map(|o| {
            o.scps
                .iter()
                .chain(&o.rcps)
                .flatten()
                .map(|p| p.id.clone())
                .collect()
        });
        Self {
            principal,
            managed_policies,
            bucket: request.bucket.clone(),
            bucket_account,
            keys,
            org_policies,
            // The endpoint the check names, or the one its VPC was found to use.
            endpoint: request
                .network
                .vpc_endpoint_id
                .clone()
                .or_else(|| snapshot.vpc_endpoint.as_ref().map(|e| e.id.clone())),
            access_point: snapshot
                .access_point
                .as_ref()
                .map(|a| (a.account_id.clone(), a.name.clone())),
        }
    }

    /// Whether `change` touches what the check read.
    pub fn touched_by(&self, change: &Change) -> bool {
        match change {
            Change::Principal {
                account,
                kind,
                name,
            } => self.principal.as_ref().is_some_and(|p| {
                // IAM names are unique without regard to case: an event may spell one another way.
                p.account() == account && p.kind() == *kind && p.name().eq_ignore_ascii_case(name)
            }),
            Change::Group { account } => self
                .principal
                .as_ref()
                .is_some_and(|p| p.account() == account && p.kind() == PrincipalKind::User),
            Change::ManagedPolicy { arn } => self.managed_policies.contains(arn),
            // A bucket whose account was not read is matched by its name.
            Change::Bucket { account, name } => {
                self.bucket == *name && self.bucket_account.as_ref().is_none_or(|a| a == account)
            }
            Change::AccountPublicAccessBlock { account } => {
                self.bucket_account.as_deref() == Some(account.as_str())
            }
            Change::Key { account, id } => self.keys.contains(&(account.clone(), id.clone())),
            Change::Organization { target } => match target {
                OrgTarget::Everything => true,
                OrgTarget::Account(account) => {
                    self.principal
                        .as_ref()
                        .is_some_and(|p| p.account() == account)
                        || self.bucket_account.as_deref() == Some(account.as_str())
                }
                // A snapshot without an organization may be missing it for want of reading it.
                OrgTarget::Policy(id) => self.org_policies.as_ref().is_none_or(|p| p.contains(id)),
            },
            Change::VpcEndpoint { id } => self.endpoint.as_deref() == Some(id.as_str()),
            Change::AccessPoint { account, name } => self
                .access_point
                .as_ref()
                .is_some_and(|(a, n)| a == account && n == name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What a check read, for the narrowing tests: a role of account A, a bucket of A, a key of A with an
    /// alias, and an SCP `p-read`.
    fn read() -> Dependencies {
        let snapshot: Snapshot = serde_json::from_value(json!({
            "version": 1,
            "request": {
                "principalArn": "arn:aws:iam::111122223333:role/Uploader",
                "bucket": "media",
                "upload": {"sseKmsKeyId": "alias/shared"}
            },
            "bucket": {"name": "media", "accountId": "111122223333", "region": "us-east-1"},
            "organization": {"id": "o-1", "scps": [[{"id": "p-read", "name": "read", "document": {}}]], "rcps": []},
            "kmsKeys": [{
                "arn": "arn:aws:kms:us-east-1:111122223333:key/k-1",
                "accountId": "111122223333",
                "region": "us-east-1",
                "aliases": ["alias/shared"],
                "keyManager": "CUSTOMER",
                "keyState": "Enabled"
            }]
        }))
        .unwrap();
        Dependencies::of(&snapshot)
    }

    /// An event touches a check only for what the check read in the account it read it in: the same alias
    /// in another account touches nothing, a principal's name matches in any letter case, and an
    /// Organizations event narrows to the account or policy it names.
    #[test]
    fn events_touch_only_what_the_check_read_where_it_read_it() {
        let read = read();
        let a = "111122223333".to_owned();
        let key = |account: &str, id: &str| Change::Key {
            account: account.into(),
            id: id.into(),
        };
        assert!(read.touched_by(&key(&a, "alias/shared")));
        assert!(read.touched_by(&key(&a, "k-1")));
        assert!(!read.touched_by(&key("444455556666", "alias/shared")));
        assert!(read.touched_by(&Change::Principal {
            account: a.clone(),
            kind: PrincipalKind::Role,
            name: "uploader".into()
        }));
        let org = |target: OrgTarget| Change::Organization { target };
        assert!(read.touched_by(&org(OrgTarget::Account(a.clone()))));
        assert!(!read.touched_by(&org(OrgTarget::Account("444455556666".into()))));
        assert!(read.touched_by(&org(OrgTarget::Policy("p-read".into()))));
        assert!(!read.touched_by(&org(OrgTarget::Policy("p-other".into()))));
        assert!(read.touched_by(&org(OrgTarget::Everything)));
        assert!(org(OrgTarget::Everything).is_fleet_wide());
    }
}
