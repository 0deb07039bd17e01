//! What one check may read, and as whom: the reader role (with its `ExternalId`) per account, the namespace
//! the reads are made for (the session name and source identity of every assumed role), and which KMS key
//! accounts and VPC endpoints may be read when collection discovers them. The controller builds it from the
//! `BucketAccessScope` that allows the check; the CLI from the manifest's `readRoleArns` (the user's own
//! credentials, nothing restricted). The AWS adapter only follows it.

use iam_policy::glob::Glob;
use std::collections::{BTreeMap, BTreeSet};

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
    /// The scope that grants this access, named when something discovered is not allowed.
    pub scope: Option<String>,
    /// Read everything again, whatever the cache holds (a re-evaluation someone asked for).
    pub fresh: bool,
    /// How often the check is evaluated when the scope raised it (its `limits.minInterval`): cached reads are
    /// reused for up to half of it, as they are for half of the check's own interval (`None`).
    pub interval: Option<std::time::Duration>,
}

/// The longest role session name and source identity STS accepts.
const MAX_SESSION_NAME: usize = 64;

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

    /// The role session name (and source identity) for reads made on behalf of the namespace:
    /// `bucket-access.NAMESPACE`; when that is longer than STS's 64 characters, the namespace is cut and a
    /// short hash of the whole name follows, so that namespaces sharing a long prefix keep distinct sessions in
    /// CloudTrail. `bucket-access-operator` without a namespace.
    pub fn session_name(&self) -> String {
        const PREFIX: &str = "bucket-access.";
        match &self.on_behalf_of {
            Some(ns) if PREFIX.len() + ns.len() <= MAX_SESSION_NAME => format!("{PREFIX}{ns}"),
            Some(ns) => {
                use sha2::{Digest, Sha256};
                let digest = Sha256::digest(ns.as_bytes());
                let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
                let room = MAX_SESSION_NAME - PREFIX.len() - hash.len() - 1;
                let head: String = ns.chars().take(room).collect();
                format!("{PREFIX}{head}-{hash}")
            }
            None => "bucket-access-operator".to_owned(),
        }
    }

    /// Who is refused, for a message: `scope `NAME``, or `the configuration` without a scope.
    pub fn granted_by(&self) -> String {
        self.scope.as_ref().map_or_else(
            || "the configuration".to_owned(),
            |s| format!("BucketAccessScope `{s}`"),
        )
    }
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
        assert_eq!(access.session_name(), "bucket-access-operator");
    }

    #[test]
    fn restrictions_and_session_names() {
        let access = ReadAccess {
            kms_key_accounts: Some(BTreeSet::from(["111122223333".to_owned()])),
            vpc_endpoints: Some(vec!["vpce-0a*".to_owned()]),
            on_behalf_of: Some("n".repeat(63)),
            ..ReadAccess::default()
        };
        assert!(access.allows_key_account("111122223333"));
        assert!(!access.allows_key_account("444455556666"));
        assert!(access.allows_endpoint("vpce-0a12"));
        assert!(!access.allows_endpoint("vpce-0b12"));
        assert_eq!(access.session_name().len(), 64);
        assert!(access.session_name().starts_with("bucket-access.nnn"));
    }

    #[test]
    fn long_namespaces_keep_distinct_session_names_within_64_characters() {
        let session = |ns: &str| {
            ReadAccess {
                on_behalf_of: Some(ns.to_owned()),
                ..ReadAccess::default()
            }
            .session_name()
        };
        assert_eq!(session("media"), "bucket-access.media");
        let long = "team-platform-engineering-data-lake-ingest-production";
        let (a, b) = (session(&format!("{long}-a")), session(&format!("{long}-b")));
        assert_ne!(a, b, "a shared prefix shares a session name");
        for name in [&a, &b] {
            assert_eq!(name.len(), 64, "{name}");
            assert!(name.starts_with("bucket-access.team-platform"), "{name}");
        }
        let exact = "n".repeat(64 - "bucket-access.".len());
        assert_eq!(session(&exact), format!("bucket-access.{exact}"));
    }
}
