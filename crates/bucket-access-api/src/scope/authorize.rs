//! Whether one check is in scope: a pure function of the check, its namespace (name and labels), every
//! scope, and the check's place among its namespace's checks. A check is in scope when one scope that
//! selects its namespace allows all of it (principal, bucket, both accounts, the endpoint it names, its
//! `skipLayers`, the count cap); the grant then says with which identities it is read and what its status
//! may show. Nothing here calls anything.

use super::principals::PrincipalPattern;
use super::resource::{Detail, ScopeSpec};
use crate::spec::CheckSpec;
use iam_policy::glob::Glob;
use s3_diagnosis::access_point_ref::AccessPointRef;
use s3_diagnosis::source::Target;
use s3_diagnosis::source::{ReadAccess, ReaderRole};
use std::collections::BTreeMap;
use std::time::Duration;

/// A check allowed by a scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The scope that allows it.
    pub scope: String,
    /// What it may read and as whom.
    pub access: ReadAccess,
    /// What its status shows.
    pub detail: Detail,
    /// The scope's accounts: the only account ids and ARNs its status may name.
    pub accounts: std::collections::BTreeSet<String>,
    /// The interval it is evaluated at (its own, raised to the scope's minimum).
    pub interval: Duration,
    /// The scope's `limits.minInterval`: at most one requested re-evaluation with fresh reads per this long.
    pub min_interval: Option<Duration>,
    /// What the status should say about the grant (ignored fields, a raised interval).
    pub notes: Vec<String>,
}

/// A check no scope allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is not allowed, by which scope.
    pub message: String,
    /// The scopes that select the check's namespace.
    pub selecting: Vec<String>,
}

/// The answer for one check.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorization {
    /// Allowed, with the grant.
    InScope(Box<Grant>),
    /// Not allowed.
    OutOfScope(Refusal),
}

/// One check as the authorization sees it.
#[derive(Debug, Clone, Copy)]
pub struct CheckInNamespace<'a> {
    /// The spec.
    pub spec: &'a CheckSpec,
    /// The spec as validation parsed it: the principal matched is the one the collector reads.
    pub target: &'a Target,
    /// Its namespace.
    pub namespace: &'a str,
    /// The namespace's labels.
    pub labels: &'a BTreeMap<String, String>,
    /// How many checks of the namespace are older (the count cap keeps the oldest).
    pub rank: usize,
}

fn matches_any(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| Glob::new(p, false).matches(text))
}

/// What `scope` does not allow of `check` (empty: it allows all of it).
fn refusals(scope: &ScopeSpec, check: &CheckInNamespace<'_>) -> Vec<String> {
    let spec = check.spec;
    // What is wrong with it is the cluster admin's to read (the scope's own `Valid` condition): its text names
    // accounts and reader roles, and the tenant's status is no place for it.
    if !scope.problems().is_empty() {
        return vec!["it is not valid and grants nothing (a cluster admin can read why in its `Valid` condition)".to_owned()];
    }
    let mut out = Vec::new();
    let listed = |account: &str| scope.accounts.iter().any(|a| a.id == account);
    // The parsed principal, never the text: what is matched is what the collector reads.
    let principal = &check.target.principal;
    let allowed = scope
        .principals
        .iter()
        .filter_map(|p| PrincipalPattern::parse(p).ok())
        .any(|p| p.matches(principal));
    if !allowed {
        out.push(format!(
            "principal `{principal}` matches none of its `principals`"
        ));
    }
    if !listed(principal.account()) {
        out.push(format!(
            "the principal's account `{}` is not in its `accounts`",
            principal.account()
        ));
    }
    // A bucket left out (named by the access point) is checked against `buckets` by the collector, once the
    // access point has named it.
    if !spec.bucket.is_empty() && !matches_any(&scope.buckets, &spec.bucket) {
        out.push(format!(
            "bucket `{}` matches none of its `buckets`",
            spec.bucket
        ));
    }
    let access_point = spec
        .access_point
        .as_deref()
        .and_then(|a| AccessPointRef::parse(a).ok());
    if let Some(AccessPointRef::Arn { account, .. }) = &access_point {
        if account != principal.account() && !listed(account) {
            out.push(format!(
                "the access point's account `{account}` is not in its `accounts`"
            ));
        }
    }
    let bucket_account = &check.target.bucket_account;
    if bucket_account != principal.account() && !listed(bucket_account) {
        out.push(format!(
            "the bucket's account `{bucket_account}` is not in its `accounts`"
        ));
    }
    if let (Some(id), Some(patterns)) = (
        spec.network
            .as_ref()
            .and_then(|n| n.vpc_endpoint_id.as_deref()),
        scope.vpc_endpoints.as_ref(),
    ) {
        if !matches_any(patterns, id) {
            out.push(format!(
                "VPC endpoint `{id}` matches none of its `vpcEndpoints`"
            ));
        }
    }
    if !spec.skip_layers.is_empty() && !scope.allow_skip_layers {
        out.push("`skipLayers` is not allowed (`allowSkipLayers` is false)".to_owned());
    }
    if let Some(max) = scope
        .limits
        .as_ref()
        .and_then(|l| l.max_checks_per_namespace)
    {
        if check.rank >= max as usize {
            out.push(format!(
                "namespace `{}` already has {max} older checks, its `limits.maxChecksPerNamespace`",
                check.namespace
            ));
        }
    }
    out
}

fn grant(name: &str, scope: &ScopeSpec, check: &CheckInNamespace<'_>) -> Grant {
    let readers = scope
        .accounts
        .iter()
        .filter_map(|a| {
            a.reader_role_arn.as_ref().map(|role| {
                (
                    a.id.clone(),
                    ReaderRole {
                        role_arn: role.clone(),
                        external_id: a.external_id.clone(),
                    },
                )
            })
        })
        .collect();
    let kms_key_accounts = scope
        .kms_key_accounts
        .clone()
        .unwrap_or_else(|| scope.accounts.iter().map(|a| a.id.clone()).collect());
    let mut notes = Vec::new();
    if !check.spec.read_role_arns.is_empty() {
        notes.push(format!(
            "`spec.readRoleArns` is ignored: reader roles come from BucketAccessScope `{name}`"
        ));
    }
    let mut interval = check.spec.interval();
    if let Some(min) = scope.min_interval() {
        if interval < min {
            notes.push(format!(
                "evaluated every {}s, BucketAccessScope `{name}`'s `limits.minInterval`, not every {}s",
                min.as_secs(),
                interval.as_secs()
            ));
            interval = min;
        }
    }
    Grant {
        scope: name.to_owned(),
        access: ReadAccess {
            readers,
            on_behalf_of: Some(check.namespace.to_owned()),
            kms_key_accounts: Some(kms_key_accounts.into_iter().collect()),
            vpc_endpoints: scope.vpc_endpoints.clone(),
            buckets: Some(scope.buckets.clone()),
            accounts: Some(scope.accounts.iter().map(|a| a.id.clone()).collect()),
            object_keys: Some(scope.keys.clone()),
            scope: Some(name.to_owned()),
            fresh: false,
            interval: Some(interval),
        },
        detail: scope.detail,
        accounts: scope.accounts.iter().map(|a| a.id.clone()).collect(),
        interval,
        min_interval: scope.min_interval(),
        notes,
    }
}

/// Whether `check` is in scope, given every scope by name (borrowed: a reconcile reads them from the cache).
/// Scopes are tried in name order; the first that allows all of the check grants it.
pub fn authorize<'s>(
    scopes: impl IntoIterator<Item = (&'s str, &'s ScopeSpec)>,
    check: &CheckInNamespace<'_>,
) -> Authorization {
    let mut selecting: Vec<(&str, &ScopeSpec)> = scopes
        .into_iter()
        .filter(|(_, s)| s.selects(check.namespace, check.labels))
        .collect();
    selecting.sort_by(|a, b| a.0.cmp(b.0));
    if selecting.is_empty() {
        return Authorization::OutOfScope(Refusal {
            message: format!(
                "no BucketAccessScope selects namespace `{}`: a cluster admin must create one that allows this check",
                check.namespace
            ),
            selecting: Vec::new(),
        });
    }
    let mut reasons = Vec::new();
    for (name, scope) in selecting.iter().copied() {
        let refused = refusals(scope, check);
        if refused.is_empty() {
            return Authorization::InScope(Box::new(grant(name, scope, check)));
        }
        reasons.push(format!("`{name}`: {}", refused.join(", ")));
    }
    Authorization::OutOfScope(Refusal {
        message: format!(
            "no BucketAccessScope selecting namespace `{}` allows this check ({})",
            check.namespace,
            reasons.join("; ")
        ),
        selecting: selecting.iter().map(|(n, _)| (*n).to_owned()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::resource::{ScopeAccount, ScopeLimits};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
    use s3_diagnosis::snapshot::{Network, SnapshotLayer};

    const ROLE: &str = "arn:aws:iam::111122223333:role/media-uploader";

    fn scope() -> ScopeSpec {
        ScopeSpec {
            namespaces: vec!["media".into()],
            principals: vec!["arn:aws:iam::111122223333:role/media-*".into()],
            buckets: vec!["media-*".into()],
            accounts: vec![
                ScopeAccount {
                    id: "111122223333".into(),
                    ..ScopeAccount::default()
                },
                ScopeAccount {
                    id: "444455556666".into(),
                    reader_role_arn: Some("arn:aws:iam::444455556666:role/reader".into()),
                    external_id: Some("ext-1".into()),
                },
            ],
            ..ScopeSpec::default()
        }
    }

    fn check(bucket: &str) -> CheckSpec {
        CheckSpec {
            role_arn: Some(ROLE.into()),
            bucket: bucket.into(),
            ..CheckSpec::default()
        }
    }

    fn decide(
        scopes: &[(String, ScopeSpec)],
        spec: &CheckSpec,
        ns: &str,
        rank: usize,
    ) -> Authorization {
        let labels = BTreeMap::from([("team".to_owned(), "media".to_owned())]);
        let Ok(target) = spec.target() else {
            panic!("the test's check {spec:?} has no valid principal");
        };
        authorize(
            scopes.iter().map(|(n, s)| (n.as_str(), s)),
            &CheckInNamespace {
                spec,
                target: &target,
                namespace: ns,
                labels: &labels,
                rank,
            },
        )
    }

    fn refused(a: Authorization) -> Refusal {
        match a {
            Authorization::OutOfScope(r) => r,
            Authorization::InScope(g) => panic!("expected out of scope, got {g:?}"),
        }
    }

    #[test]
    fn a_check_inside_the_scope_is_granted_with_the_scopes_readers() {
        let Authorization::InScope(grant) = decide(
            &[("media".into(), scope())],
            &check("media-raw"),
            "media",
            0,
        ) else {
            panic!("expected in scope")
        };
        assert_eq!(grant.scope, "media");
        assert_eq!(grant.access.on_behalf_of.as_deref(), Some("media"));
        let reader = grant.access.reader("444455556666").unwrap();
        assert_eq!(reader.external_id.as_deref(), Some("ext-1"));
        assert!(
            grant.access.reader("111122223333").is_none(),
            "own account: own credentials"
        );
        // KMS key accounts default to the scope's accounts.
        assert!(grant.access.allows_key_account("444455556666"));
        assert!(!grant.access.allows_key_account("999999999999"));
        // No `keys`: no object is read for a download.
        assert!(!grant.access.allows_object("exports/a.csv"));
        assert!(grant.notes.is_empty());
    }

    #[test]
    fn no_scope_for_the_namespace_is_out_of_scope() {
        let r = refused(decide(
            &[("media".into(), scope())],
            &check("media-raw"),
            "finance",
            0,
        ));
        assert!(r.selecting.is_empty());
        assert!(
            r.message
                .contains("no BucketAccessScope selects namespace `finance`"),
            "{}",
            r.message
        );
    }

    #[test]
    fn principal_bucket_and_accounts_each_named_when_refused() {
        let scopes = [("media".into(), scope())];
        let mut spec = check("finance-ledger");
        spec.role_arn = Some("arn:aws:iam::111122223333:role/admin".into());
        spec.bucket_account_id = Some("777788889999".into());
        let r = refused(decide(&scopes, &spec, "media", 0));
        assert_eq!(r.selecting, ["media"]);
        for part in [
            "`media`:",
            "principal `arn:aws:iam::111122223333:role/admin` matches none of its `principals`",
            "bucket `finance-ledger` matches none of its `buckets`",
            "the bucket's account `777788889999` is not in its `accounts`",
        ] {
            assert!(r.message.contains(part), "{part}: {}", r.message);
        }
        // A principal in an account the scope does not list, even when the pattern would match.
        let mut open = scope();
        open.principals = vec!["arn:aws:iam::999999999999:role/*".into()];
        let mut spec = check("media-raw");
        spec.role_arn = Some("arn:aws:iam::999999999999:role/media-x".into());
        let r = refused(decide(&[("open".into(), open)], &spec, "media", 0));
        assert!(
            r.message.contains("the principal's account `999999999999`"),
            "{}",
            r.message
        );
    }

    #[test]
    fn one_of_several_scopes_allowing_all_of_it_is_enough() {
        let mut narrow = scope();
        narrow.buckets = vec!["media-public".into()];
        let mut by_label = scope();
        by_label.namespaces.clear();
        by_label.namespace_selector = Some(LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "team".into(),
                operator: "In".into(),
                values: Some(vec!["media".into(), "video".into()]),
            }]),
            match_labels: None,
        });
        let scopes = [("a-narrow".into(), narrow), ("b-labels".into(), by_label)];
        match decide(&scopes, &check("media-raw"), "media", 0) {
            Authorization::InScope(g) => assert_eq!(g.scope, "b-labels"),
            Authorization::OutOfScope(r) => panic!("{}", r.message),
        }
        // Neither allows a bucket outside both: both are named.
        let r = refused(decide(&scopes, &check("other"), "media", 0));
        assert_eq!(r.selecting, ["a-narrow", "b-labels"]);
        assert!(r.message.contains("`a-narrow`:") && r.message.contains("`b-labels`:"));
    }

    #[test]
    fn endpoint_skip_layers_and_the_count_cap_are_enforced() {
        let mut s = scope();
        s.vpc_endpoints = Some(vec!["vpce-0a*".into()]);
        s.limits = Some(ScopeLimits {
            max_checks_per_namespace: Some(2),
            min_interval: Some("5m".into()),
        });
        let scopes = [("media".into(), s)];
        let mut spec = check("media-raw");
        spec.network = Some(Network {
            vpc_endpoint_id: Some("vpce-0b11".into()),
            ..Network::default()
        });
        spec.skip_layers = vec![SnapshotLayer::Scp];
        let r = refused(decide(&scopes, &spec, "media", 2));
        for part in [
            "VPC endpoint `vpce-0b11` matches none of its `vpcEndpoints`",
            "`skipLayers` is not allowed",
            "already has 2 older checks",
        ] {
            assert!(r.message.contains(part), "{part}: {}", r.message);
        }
        let mut ok = check("media-raw");
        ok.interval = Some("1m".into());
        ok.read_role_arns = BTreeMap::from([(
            "444455556666".into(),
            "arn:aws:iam::444455556666:role/mine".into(),
        )]);
        let Authorization::InScope(g) = decide(&scopes, &ok, "media", 1) else {
            panic!("expected in scope")
        };
        assert_eq!(g.interval, Duration::from_secs(300));
        assert_eq!(g.notes.len(), 2, "{:?}", g.notes);
        assert!(g
            .notes
            .iter()
            .any(|n| n.contains("`spec.readRoleArns` is ignored")));
        assert_eq!(
            g.access.reader("444455556666").map(|r| r.role_arn.as_str()),
            Some("arn:aws:iam::444455556666:role/reader"),
            "the scope's reader, never the check's"
        );
        assert!(!g.access.allows_endpoint("vpce-0b11"));
    }

    #[test]
    fn an_invalid_scope_grants_nothing() {
        let mut s = scope();
        s.kms_key_accounts = Some(vec!["999999999999".into()]);
        let r = refused(decide(
            &[("bad".into(), s)],
            &check("media-raw"),
            "media",
            0,
        ));
        assert!(
            r.message.contains("not valid and grants nothing"),
            "{}",
            r.message
        );
        // Nothing of the scope's content reaches the tenant.
        assert!(
            !r.message.contains("kmsKeyAccounts") && !r.message.contains("999999999999"),
            "{}",
            r.message
        );
    }
}
