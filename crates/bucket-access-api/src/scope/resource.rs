//! `BucketAccessScope`: the cluster-scoped resource, written by the cluster admin, that grants the namespaces
//! it selects the right to check some principals and buckets in some accounts, names the reader role (and
//! `ExternalId`) the operator assumes in each account, and sets what their checks' status may show. The CRD is
//! generated from these types; `problems` repeats the schema's rules and adds those a schema cannot say.

use crate::spec::parse_interval;
pub use crate::status::Detail;
use crate::status::{condition, reasons, Holds};
use iam_policy::arn::is_account_id;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector, Time};
use kube::core::{Selector, SelectorExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a cluster admin grants the namespaces a scope selects.
#[derive(
    Debug, Clone, Default, PartialEq, Serialize, Deserialize, kube::CustomResource, kube::KubeSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[expect(
    clippy::duplicated_attributes,
    reason = "each printcolumn(...) of the kube derive repeats the same keys"
)]
#[kube(
    group = "bucketaccess.io",
    version = "v1alpha1",
    kind = "BucketAccessScope",
    doc = "Written by cluster admins: grants the namespaces it selects the right to check these principals and buckets in these accounts, names the reader role the operator assumes in each account, and sets what their checks' status shows.",
    plural = "bucketaccessscopes",
    shortname = "bas",
    category = "bucketaccess",
    status = "ScopeStatus",
    printcolumn(
        name = "Valid",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Valid\")].status"
    ),
    printcolumn(name = "Detail", type_ = "string", json_path = ".spec.detail"),
    printcolumn(
        name = "Namespaces",
        type_ = "integer",
        json_path = ".status.selectedNamespaces"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Message",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Valid\")].message",
        priority = 1
    )
)]
#[x_kube(validation = kube::core::Rule::new("has(self.namespaceSelector) || (has(self.namespaces) && size(self.namespaces) > 0)").message("select namespaces with `namespaceSelector` and/or `namespaces`"))]
pub struct ScopeSpec {
    /// The namespaces whose labels match (an empty selector selects every namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Namespaces by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 256),
        inner(regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))
    )]
    pub namespaces: Vec<String>,
    /// Principal ARN patterns the checks may name, with the partition and the account written out, e.g.
    /// `arn:aws:iam::111122223333:role/media-*`. `*` and `?` match inside one path segment (never `/`), a
    /// segment `**` matches any number of segments, and as the last one at least the name (`role/media/**`:
    /// every role under `/media/`; `**` alone: every role and user), and names match in any letter case.
    #[schemars(schema_with = "crate::schema::principal_patterns")]
    pub principals: Vec<String>,
    /// Bucket name patterns the checks may name (`*` and `?` are wildcards).
    #[schemars(
        length(min = 1, max = 256),
        inner(regex(pattern = r"^[a-z0-9.*?-]{1,63}$"))
    )]
    pub buckets: Vec<String>,
    /// The accounts that may be read: the principal's and the bucket's must both be listed.
    #[schemars(length(min = 1, max = 100))]
    #[x_kube(merge_strategy = kube::core::ListMerge::Map(vec!["id".into()]))]
    pub accounts: Vec<ScopeAccount>,
    /// Accounts whose KMS keys may be read (each also in `accounts`); default: every account in `accounts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100), inner(regex(pattern = r"^[0-9]{12}$")))]
    pub kms_key_accounts: Option<Vec<String>>,
    /// VPC endpoint id patterns whose policies may be read (`vpce-0a*`); default: any endpoint the reader of the
    /// principal's account sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100), inner(regex(pattern = r"^vpce-[0-9a-f*?]+$")))]
    pub vpc_endpoints: Option<Vec<String>>,
    /// Object key patterns (`*` and `?` are wildcards, `/` included) of the objects a download check may read:
    /// whether the object exists, its owner, storage class, tags and ACL. Default: none is read (such a
    /// download is `Unknown`, saying to list its key here): reading a named key would tell a tenant whether an
    /// object exists even where its role may not list the bucket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(length(min = 1, max = 1024)))]
    pub keys: Vec<String>,
    /// Whether checks may set `skipLayers` (accept layers as assumptions instead of reading them).
    #[serde(default)]
    pub allow_skip_layers: bool,
    /// What the checks' status and Events show.
    #[serde(default)]
    pub detail: Detail,
    /// Caps on the namespaces' checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ScopeLimits>,
}

/// One account a scope allows, and how the operator reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, kube::KubeSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = kube::core::Rule::new("!has(self.externalId) || has(self.readerRoleArn)").message("`externalId` needs `readerRoleArn`"))]
#[x_kube(validation = kube::core::Rule::new("!has(self.readerRoleArn) || self.readerRoleArn.contains(':iam::' + self.id + ':role/')").message("`readerRoleArn` must be a role of the account `id`"))]
pub struct ScopeAccount {
    /// The account id.
    #[schemars(length(min = 12, max = 12), regex(pattern = r"^[0-9]{12}$"))]
    pub id: String,
    /// The role the operator assumes to read the account; absent: the operator's own credentials (its own
    /// account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 2048),
        regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$")
    )]
    pub reader_role_arn: Option<String>,
    /// The `ExternalId` the reader role's trust policy requires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 1224), regex(pattern = r"^[\w+=,.@:/-]+$"))]
    pub external_id: Option<String>,
}

/// Caps that keep one tenant from spending the AWS read budget of all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScopeLimits {
    /// The most checks one namespace may have evaluated (the oldest first; the others are out of scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_checks_per_namespace: Option<u32>,
    /// The shortest re-evaluation interval (a check asking for less is evaluated at this interval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+[smhd])+$"))]
    pub min_interval: Option<String>,
}

/// The status of a scope: whether it is valid (a scope that is not grants nothing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, kube::KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeStatus {
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// How many namespaces the scope selects now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_namespaces: Option<u32>,
    /// `Valid`.
    #[serde(default)]
    #[x_kube(merge_strategy = kube::core::ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}

impl ScopeSpec {
    /// Every problem of the scope (empty: valid). The schema refuses most of them already; these are checked
    /// again because a scope may have been stored before a rule existed, and some cannot be said in a schema.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.namespace_selector.is_none() && self.namespaces.is_empty() {
            problems
                .push("select namespaces with `namespaceSelector` and/or `namespaces`".to_owned());
        }
        if let Some(selector) = &self.namespace_selector {
            if let Err(e) = Selector::try_from(selector.clone()) {
                problems.push(format!("`namespaceSelector`: {e}"));
            }
        }
        if self.principals.is_empty() {
            problems.push("`principals` lists no principal pattern".to_owned());
        }
        for pattern in &self.principals {
            if let Err(e) = super::principals::PrincipalPattern::parse(pattern) {
                problems.push(format!("`principals`: {e}"));
            }
        }
        if self.buckets.is_empty() {
            problems.push("`buckets` lists no bucket pattern".to_owned());
        }
        if self.accounts.is_empty() {
            problems.push("`accounts` lists no account".to_owned());
        }
        let mut seen = BTreeMap::new();
        for account in &self.accounts {
            if !is_account_id(&account.id) {
                problems.push(format!(
                    "`accounts`: `{}` is not a 12-digit account id",
                    account.id
                ));
            }
            if seen.insert(account.id.as_str(), ()).is_some() {
                problems.push(format!("`accounts`: `{}` is listed twice", account.id));
            }
            if let Some(role) = &account.reader_role_arn {
                let ok = iam_policy::arn::Arn::parse(role).is_ok_and(|a| {
                    a.service == "iam" && a.account == account.id && a.resource.starts_with("role/")
                });
                if !ok {
                    problems.push(format!(
                        "`accounts`: `{role}` is not a role ARN in account `{}`",
                        account.id
                    ));
                }
            } else if account.external_id.is_some() {
                problems.push(format!(
                    "`accounts`: `{}` has an `externalId` but no `readerRoleArn`",
                    account.id
                ));
            }
        }
        for account in self.kms_key_accounts.iter().flatten() {
            if !seen.contains_key(account.as_str()) {
                problems.push(format!(
                    "`kmsKeyAccounts`: `{account}` is not in `accounts`, so there is no way to read it"
                ));
            }
        }
        if let Some(interval) = self.limits.as_ref().and_then(|l| l.min_interval.as_deref()) {
            if parse_interval(interval).is_none() {
                problems.push(format!(
                    "`limits.minInterval`: `{interval}` is not a duration such as `10m`"
                ));
            }
        }
        problems
    }

    /// Whether the scope selects namespace `name` with `labels` (by name, or by its selector).
    pub fn selects(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        if self.namespaces.iter().any(|n| n == name) {
            return true;
        }
        self.namespace_selector
            .as_ref()
            .and_then(|s| Selector::try_from(s.clone()).ok())
            .is_some_and(|s| s.matches(labels))
    }

    /// The shortest interval its checks may use.
    pub fn min_interval(&self) -> Option<Duration> {
        self.limits
            .as_ref()
            .and_then(|l| l.min_interval.as_deref())
            .and_then(parse_interval)
    }
}

/// The condition type that says whether the scope grants anything.
pub const VALID: &str = "Valid";

impl BucketAccessScope {
    /// The status the scope should have when it selects `selected` namespaces: `Valid` (`True`, or `False`
    /// with every problem, in which case the scope grants nothing), and the kstatus conditions GitOps tools
    /// read (`Ready`, and `Stalled` for an invalid scope, so that Flux and kstatus see it as failed).
    pub fn desired_status(&self, selected: usize, now: &Time) -> ScopeStatus {
        let problems = self.spec.problems();
        let (valid, reason, message) = if problems.is_empty() {
            (Holds::True, "Valid", "the scope is valid".to_owned())
        } else {
            (
                Holds::False,
                "InvalidScope",
                format!("the scope grants nothing: {}", problems.join("; ")),
            )
        };
        let (ready, stalled) = match valid {
            Holds::True => (Holds::True, Holds::False),
            _ => (Holds::False, Holds::True),
        };
        let generation = self.metadata.generation;
        let previous = self
            .status
            .as_ref()
            .map_or(&[][..], |s| s.conditions.as_slice());
        ScopeStatus {
            observed_generation: generation,
            selected_namespaces: Some(u32::try_from(selected).unwrap_or(u32::MAX)),
            conditions: [
                (VALID, valid),
                (reasons::READY, ready),
                (reasons::STALLED, stalled),
            ]
            .into_iter()
            .map(|(type_, holds)| {
                condition(type_, holds, reason, &message, generation, now, previous)
            })
            .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::reasons::{READY, STALLED};

    fn scope(accounts: Vec<ScopeAccount>) -> BucketAccessScope {
        let mut s = BucketAccessScope::new(
            "media",
            ScopeSpec {
                namespaces: vec!["media".into()],
                principals: vec!["arn:aws:iam::111122223333:role/media-*".into()],
                buckets: vec!["media-*".into()],
                accounts,
                ..ScopeSpec::default()
            },
        );
        s.metadata.generation = Some(3);
        s
    }

    fn of<'a>(status: &'a ScopeStatus, type_: &str) -> (&'a str, &'a str) {
        status
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .map(|c| (c.status.as_str(), c.reason.as_str()))
            .unwrap_or(("absent", ""))
    }

    #[test]
    fn an_invalid_scope_is_stalled_for_kstatus_and_flux() {
        let now = Time(Default::default());
        let valid = scope(vec![ScopeAccount {
            id: "111122223333".into(),
            ..ScopeAccount::default()
        }])
        .desired_status(1, &now);
        assert_eq!(of(&valid, VALID), ("True", "Valid"));
        assert_eq!(of(&valid, READY), ("True", "Valid"));
        assert_eq!(of(&valid, STALLED), ("False", "Valid"));
        let invalid = scope(Vec::new()).desired_status(1, &now);
        assert_eq!(of(&invalid, VALID), ("False", "InvalidScope"));
        assert_eq!(of(&invalid, READY), ("False", "InvalidScope"));
        assert_eq!(of(&invalid, STALLED), ("True", "InvalidScope"));
        assert!(invalid
            .conditions
            .iter()
            .all(|c| c.observed_generation == Some(3)));
    }
}
