//! Where a snapshot comes from, as the domain sees it: what one check asks to be read (`Target`, parsed
//! once from the validated check), what it may read and as whom (`ReadAccess`: the reader role with its
//! `ExternalId` per account, the namespace the reads are made for, which KMS key accounts and VPC endpoints
//! may be read when collection discovers them), and the trait a source implements (`SnapshotSource`). The
//! operator builds the access from the `BucketAccessScope` that allows the check, the CLI from the manifest's
//! `readRoleArns`; the AWS adapter implements the trait and only follows the access. Data only: nothing here
//! calls anything.

use crate::snapshot::{CheckRequest, Snapshot};
use iam_policy::glob::Glob;
use iam_policy::PrincipalArn;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

/// The role the operator assumes to read one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReaderRole {
    /// The role's ARN.
    pub role_arn: String,
    /// The `ExternalId` the role's trust policy requires.
    pub external_id: Option<String>,
}

/// What a check may read and with which identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadAccess {
    /// Account id → the role assumed to read it; an account absent here is read with the process's own
    /// credentials.
    pub readers: BTreeMap<String, ReaderRole>,
    /// The namespace the reads are made for: it names the session of every assumed role.
    pub on_behalf_of: Option<String>,
    /// Accounts whose KMS keys may be read (`None`: any).
    pub kms_key_accounts: Option<BTreeSet<String>>,
    /// VPC endpoint id patterns (`*` wildcards) whose policies may be read (`None`: any).
    pub vpc_endpoints: Option<Vec<String>>,
    /// Bucket name patterns (`*` wildcards) that may be read when a bucket is discovered behind an access
    /// point (`None`: any).
    pub buckets: Option<Vec<String>>,
    /// Accounts that may be read when a bucket behind an access point is in another account than the
    /// check's (`None`: any).
    pub accounts: Option<BTreeSet<String>>,
    /// Object key patterns (`*` and `?` wildcards, `*` matching `/` too) whose objects a download may read
    /// (`None`: any).
    pub object_keys: Option<Vec<String>>,
    /// The scope that grants this access, named when something discovered is not allowed.
    pub scope: Option<String>,
    /// Read everything again, whatever the cache holds (a re-evaluation someone asked for).
    pub fresh: bool,
    /// How often the check is evaluated when the scope raised it (its `limits.minInterval`): cached reads are
    /// reused for up to half of it, as they are for half of the check's own interval (`None`).
    pub interval: Option<Duration>,
}

impl ReadAccess {
    /// The CLI's access: the manifest's reader roles, no restriction, no namespace.
    pub fn unrestricted(read_role_arns: &BTreeMap<String, String>) -> Self {
        Self {
            readers: read_role_arns
                .iter()
                .map(|(account, role)| {
                    (
                        account.clone(),
                        ReaderRole {
                            role_arn: role.clone(),
                            external_id: None,
                        },
                    )
                })
                .collect(),
            ..Self::default()
        }
    }

    /// The reader role for `account`, if one is configured.
    pub fn reader(&self, account: &str) -> Option<&ReaderRole> {
        self.readers.get(account)
    }

    /// Whether a KMS key of `account` may be read.
    pub fn allows_key_account(&self, account: &str) -> bool {
        self.kms_key_accounts
            .as_ref()
            .is_none_or(|allowed| allowed.contains(account))
    }

    /// Whether the policy of VPC endpoint `id` may be read.
    pub fn allows_endpoint(&self, id: &str) -> bool {
        self.vpc_endpoints
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| Glob::new(p, false).matches(id)))
    }

    /// Whether the object at `key` may be read (for a download).
    pub fn allows_object(&self, key: &str) -> bool {
        self.object_keys
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| Glob::new(p, false).matches(key)))
    }

    /// Whether a bucket discovered behind an access point may be read.
    pub fn allows_bucket(&self, name: &str) -> bool {
        self.buckets
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| Glob::new(p, false).matches(name)))
    }

    /// Whether an account discovered behind an access point may be read.
    pub fn allows_account(&self, account: &str) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|allowed| allowed.contains(account))
    }

    /// Who is refused, for a message: `scope `NAME``, or `the configuration` without a scope.
    pub fn granted_by(&self) -> String {
        self.scope.as_ref().map_or_else(
            || "the configuration".to_owned(),
            |s| format!("BucketAccessScope `{s}`"),
        )
    }
}

/// What one check asks to be read: the principal as validation parsed it (what the scope authorized is what
/// is read), the bucket's account, the request, and the check's own interval (reads are reused for half of
/// it).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The principal, parsed once.
    pub principal: PrincipalArn,
    /// The account that owns the bucket: as given, else the principal's.
    pub bucket_account: String,
    /// The request the snapshot answers.
    pub request: CheckRequest,
    /// How often the check is evaluated.
    pub interval: Duration,
}

/// Where snapshots come from: live AWS (the `bucket-access-aws` crate), or anything else that can answer for
/// a target (an in-memory source in tests), reading only what `access` allows and with its identities. The
/// operator and the CLI depend on this trait, not on the AWS adapter.
pub trait SnapshotSource: Send + Sync + 'static {
    /// Reads every input of one check; never fails (what cannot be read is listed as unavailable).
    fn snapshot(
        &self,
        target: &Target,
        access: &ReadAccess,
    ) -> impl Future<Output = Snapshot> + Send;

    /// The same, with what the collection cost: a source that reads AWS counts its calls (one that does
    /// not, as this default, made none).
    fn collect(
        &self,
        target: &Target,
        access: &ReadAccess,
    ) -> impl Future<Output = Collected> + Send {
        let snapshot = self.snapshot(target, access);
        async move {
            Collected {
                snapshot: snapshot.await,
                aws_calls: 0,
            }
        }
    }
}

/// One collection: the snapshot, and the AWS calls it made.
#[derive(Debug, Clone)]
pub struct Collected {
    /// Every input of the check.
    pub snapshot: Snapshot,
    /// The AWS calls the collection made itself (reads served from a cache cost none).
    pub aws_calls: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrestricted_allows_every_key_and_endpoint() {
        let access = ReadAccess::unrestricted(&BTreeMap::from([(
            "444455556666".to_owned(),
            "arn:aws:iam::444455556666:role/reader".to_owned(),
        )]));
        assert!(access.allows_key_account("999999999999"));
        assert!(access.allows_endpoint("vpce-anything"));
        assert_eq!(
            access.reader("444455556666").map(|r| r.role_arn.as_str()),
            Some("arn:aws:iam::444455556666:role/reader")
        );
    }

    #[test]
    fn restrictions() {
        let access = ReadAccess {
            kms_key_accounts: Some(BTreeSet::from(["111122223333".to_owned()])),
            vpc_endpoints: Some(vec!["vpce-0a*".to_owned()]),
            ..ReadAccess::default()
        };
        assert!(access.allows_key_account("111122223333"));
        assert!(!access.allows_key_account("444455556666"));
        assert!(access.allows_endpoint("vpce-0a12"));
        assert!(!access.allows_endpoint("vpce-0b12"));
    }
}
