//! An account's IAM, read at once: `GetAccountAuthorizationDetails` (every page) gives every role, user and
//! group with their inline and attached policies, boundaries and tags, and every customer managed policy
//! with its versions; the AWS managed policies attached to any of them are read once each (`GetPolicy`,
//! `GetPolicyVersion`). A principal is then served from this view, as `iam::read_principal` would read it
//! (the same ids, names, sources and order: a test diffs the two on moto). The collector uses it when many
//! checks name principals of one account (`CollectorOptions::account_read_threshold`).

use super::error::ReadError;
use super::iam::{
    boundary_of, decode_document, managed, managed_source, not_at_this_arn, sort_policies, tag_map,
    the_same,
};
use super::{Collector, Reader};
use aws_sdk_iam::types::{AttachedPolicy, EntityType, PolicyDetail};
use iam_policy::{PrincipalArn, PrincipalKind};
use s3_diagnosis::snapshot::{NamedPolicy, PrincipalData};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A role or user as the view holds it.
#[derive(Debug, Clone)]
struct Entity {
    arn: String,
    unique_id: String,
    tags: BTreeMap<String, String>,
    boundary: Option<String>,
    attached: Vec<String>,
    inline: Vec<(String, String)>,
    groups: Vec<String>,
}

/// A group as the view holds it.
#[derive(Debug, Clone)]
struct Group {
    arn: String,
    attached: Vec<String>,
    inline: Vec<(String, String)>,
}

/// One account's IAM.
#[derive(Debug, Clone, Default)]
pub struct AccountView {
    /// Roles by lowercase name (IAM names are unique without regard to case).
    roles: BTreeMap<String, Entity>,
    /// Users by lowercase name.
    users: BTreeMap<String, Entity>,
    /// Groups by name.
    groups: BTreeMap<String, Group>,
    /// Managed policies by ARN: the name and the default version's document.
    policies: BTreeMap<String, (String, serde_json::Value)>,
    /// The managed policies that could not be read, by ARN.
    unreadable: BTreeMap<String, ReadError>,
    /// What change events made stale since the read: served one by one until the view is read again.
    stale: std::sync::Arc<std::sync::Mutex<Stale>>,
    /// When it was read (none: never, as a default view).
    read_at: Option<std::time::Instant>,
}

/// What changed in an account since its IAM was read at once.
#[derive(Debug, Default)]
struct Stale {
    /// Roles and users, by kind and lowercase name.
    principals: std::collections::BTreeSet<(PrincipalKind, String)>,
    /// Managed policies, by ARN.
    policies: std::collections::BTreeSet<String>,
    /// A group changed: every user.
    users: bool,
}

fn attached(list: &[AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}

fn inline(list: &[PolicyDetail]) -> Vec<(String, String)> {
    list.iter()
        .filter_map(|p| Some((p.policy_name()?.to_owned(), p.policy_document()?.to_owned())))
        .collect()
}

/// Reads the account of `r`'s credentials.
pub async fn read(r: &Reader) -> Result<AccountView, ReadError> {
    let mut view = AccountView {
        read_at: Some(std::time::Instant::now()),
        ..AccountView::default()
    };
    let mut marker: Option<String> = None;
    loop {
        let page = r
            .call(
                "iam:GetAccountAuthorizationDetails",
                r.iam
                    .get_account_authorization_details()
                    .filter(EntityType::Role)
                    .filter(EntityType::User)
                    .filter(EntityType::Group)
                    .filter(EntityType::LocalManagedPolicy)
                    .set_marker(marker.clone())
                    .send(),
            )
            .await?;
        view.add_page(&page);
        marker = page
            .marker()
            .filter(|_| page.is_truncated())
            .map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    // The AWS managed policies attached to anything: read once each.
    let wanted: Vec<String> = view.attached_arns();
    for arn in wanted {
        match managed(r, &arn, "managed").await {
            Ok(policy) => {
                view.policies.insert(arn, (policy.name, policy.document));
            }
            Err(e) => {
                view.unreadable.insert(arn, e);
            }
        }
    }
    Ok(view)
}

impl AccountView {
    fn add_page(
        &mut self,
        page: &aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput,
    ) {
        for role in page.role_detail_list() {
            let (Some(name), Some(arn)) = (role.role_name(), role.arn()) else {
                continue;
            };
            self.roles.insert(
                name.to_ascii_lowercase(),
                Entity {
                    arn: arn.to_owned(),
                    unique_id: role.role_id().unwrap_or_default().to_owned(),
                    tags: tag_map(role.tags()),
                    boundary: role
                        .permissions_boundary()
                        .and_then(|b| b.permissions_boundary_arn())
                        .map(str::to_owned),
                    attached: attached(role.attached_managed_policies()),
                    inline: inline(role.role_policy_list()),
                    groups: Vec::new(),
                },
            );
        }
        for user in page.user_detail_list() {
            let (Some(name), Some(arn)) = (user.user_name(), user.arn()) else {
                continue;
            };
            self.users.insert(
                name.to_ascii_lowercase(),
                Entity {
                    arn: arn.to_owned(),
                    unique_id: user.user_id().unwrap_or_default().to_owned(),
                    tags: tag_map(user.tags()),
                    boundary: user
                        .permissions_boundary()
                        .and_then(|b| b.permissions_boundary_arn())
                        .map(str::to_owned),
                    attached: attached(user.attached_managed_policies()),
                    inline: inline(user.user_policy_list()),
                    groups: user.group_list().to_vec(),
                },
            );
        }
        for group in page.group_detail_list() {
            let (Some(name), Some(arn)) = (group.group_name(), group.arn()) else {
                continue;
            };
            self.groups.insert(
                name.to_owned(),
                Group {
                    arn: arn.to_owned(),
                    attached: attached(group.attached_managed_policies()),
                    inline: inline(group.group_policy_list()),
                },
            );
        }
        for policy in page.policies() {
            let Some(arn) = policy.arn() else { continue };
            let default = policy
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version())
                .and_then(|v| v.document());
            if let Some(document) = default {
                // A managed policy's name is the last segment of its ARN (`policy/PATH/NAME`), also where
                // an answer leaves the name out.
                let name = policy
                    .policy_name()
                    .filter(|n| !n.is_empty())
                    .or_else(|| arn.rsplit('/').next())
                    .unwrap_or_default();
                self.policies
                    .insert(arn.to_owned(), (name.to_owned(), decode_document(document)));
            }
        }
    }

    /// Every managed policy attached to (or bounding) an entity that the pages did not hold: the AWS managed
    /// ones.
    fn attached_arns(&self) -> Vec<String> {
        let mut arns: Vec<String> = self
            .roles
            .values()
            .chain(self.users.values())
            .flat_map(|e| e.attached.iter().chain(&e.boundary))
            .chain(self.groups.values().flat_map(|g| g.attached.iter()))
            .filter(|arn| !self.policies.contains_key(*arn))
            .cloned()
            .collect();
        arns.sort();
        arns.dedup();
        arns
    }

    /// A managed policy as the snapshot holds it (`source`: `managed` or `groupManaged`; an AWS managed
    /// policy attached directly is `awsManaged`).
    fn managed(&self, arn: &str, source: &str) -> Result<NamedPolicy, ReadError> {
        if let Some(e) = self.unreadable.get(arn) {
            return Err(e.clone());
        }
        let (name, document) = self.policies.get(arn).ok_or_else(|| {
            ReadError::other(
                "iam:GetAccountAuthorizationDetails",
                format!("policy `{arn}` is attached but was not in the answer"),
            )
        })?;
        let source = managed_source(arn, source);
        Ok(NamedPolicy {
            id: arn.to_owned(),
            name: name.clone(),
            source: Some(source.to_owned()),
            document: document.clone(),
        })
    }

    fn push(
        &self,
        owner: &str,
        attached: &[String],
        inline: &[(String, String)],
        sources: (&str, &str),
        policies: &mut Vec<NamedPolicy>,
    ) -> Result<(), ReadError> {
        for arn in attached {
            policies.push(self.managed(arn, sources.0)?);
        }
        for (name, document) in inline {
            policies.push(NamedPolicy {
                id: format!("{owner}/inline/{name}"),
                name: name.clone(),
                source: Some(sources.1.to_owned()),
                document: decode_document(document),
            });
        }
        Ok(())
    }

    /// Records that a change event touched the principal (`None`: every user, for a group's change).
    pub fn mark_principal(&self, kind: PrincipalKind, name: Option<&str>) {
        if let Ok(mut stale) = self.stale.lock() {
            match name {
                Some(name) => {
                    stale.principals.insert((kind, name.to_ascii_lowercase()));
                }
                None => stale.users = true,
            }
        }
    }

    /// Records that a change event touched a managed policy.
    pub fn mark_policy(&self, arn: &str) {
        if let Ok(mut stale) = self.stale.lock() {
            stale.policies.insert(arn.to_owned());
        }
    }

    /// Whether the view may still serve `arn`: a change event touched neither it, nor its groups, nor a
    /// managed policy that applies to it (it is then read on its own, and the view is not read again).
    pub fn serves(&self, arn: &PrincipalArn) -> bool {
        let Ok(stale) = self.stale.lock() else {
            return false;
        };
        let name = arn.name().to_ascii_lowercase();
        if stale.principals.contains(&(arn.kind(), name.clone()))
            || (stale.users && arn.kind() == PrincipalKind::User)
        {
            return false;
        }
        let entities = match arn.kind() {
            PrincipalKind::Role => &self.roles,
            PrincipalKind::User => &self.users,
        };
        let Some(entity) = entities.get(&name) else {
            return true;
        };
        let group_policies = entity
            .groups
            .iter()
            .filter_map(|g| self.groups.get(g))
            .flat_map(|g| g.attached.iter());
        !entity
            .attached
            .iter()
            .chain(&entity.boundary)
            .chain(group_policies)
            .any(|p| stale.policies.contains(p))
    }

    /// The principal `arn` with every policy that applies to it, as `iam::read_principal` reads it.
    pub fn principal(
        &self,
        arn: &PrincipalArn,
    ) -> Result<(PrincipalData, Option<ReadError>), ReadError> {
        let api = "iam:GetAccountAuthorizationDetails";
        let entities = match arn.kind() {
            PrincipalKind::Role => &self.roles,
            PrincipalKind::User => &self.users,
        };
        let entity = entities
            .get(&arn.name().to_ascii_lowercase())
            .ok_or_else(|| not_at_this_arn(api))?;
        let mut data = PrincipalData {
            account_id: arn.account().to_owned(),
            kind: arn.kind().as_str().to_owned(),
            arn: the_same(api, arn, &entity.arn)?.to_string(),
            unique_id: Some(entity.unique_id.clone()),
            tags: entity.tags.clone(),
            ..PrincipalData::default()
        };
        let owner = data.arn.clone();
        self.push(
            &owner,
            &entity.attached,
            &entity.inline,
            ("managed", "inline"),
            &mut data.policies,
        )?;
        for name in &entity.groups {
            // A group the user is in is in the same account's answer: one missing is an answer cut short,
            // not a group without policies (its Deny would be dropped).
            let group = self.groups.get(name).ok_or_else(|| {
                ReadError::other(
                    api,
                    format!("the answer lists the user in group `{name}` and not the group"),
                )
            })?;
            let sources = ("groupManaged", "groupInline");
            self.push(
                &group.arn,
                &group.attached,
                &group.inline,
                sources,
                &mut data.policies,
            )?;
        }
        sort_policies(&mut data.policies);
        let mut boundary_error = None;
        if let Some(boundary) = &entity.boundary {
            (data.permissions_boundary, boundary_error) =
                boundary_of(boundary, self.managed(boundary, "managed"));
        }
        Ok((data, boundary_error))
    }
}

/// When an account is read at once, and the read itself: the collector counts the principals of each account
/// that exist and are checked.
impl Collector {
    /// The key a principal is counted under: its kind and name, folded as IAM folds names (one role written in
    /// several letter cases is one).
    fn counted_as(principal: &PrincipalArn) -> String {
        format!(
            "{:?}/{}",
            principal.kind(),
            principal.name().to_ascii_lowercase()
        )
    }

    /// Counts `principal`, which IAM has just said exists, among the checked principals of its account (up to
    /// the threshold). Only principals that exist and that a check the scope authorized names are counted: a
    /// tenant cannot make an account be read whole with names nobody has.
    pub(crate) fn note_principal(&self, principal: &PrincipalArn) {
        let seen = self
            .principals_seen
            .get_with(principal.account().to_owned(), Arc::default);
        let Ok(mut seen) = seen.lock() else {
            return;
        };
        if seen.len() < self.account_read_threshold {
            seen.insert(Self::counted_as(principal));
        }
    }

    /// Counts a principal that a trusted caller names before it is read: the CLI's own manifests, read with
    /// the user's own credentials, where many checks of one account at once should read it whole from the
    /// start. The operator never calls it: its tenants' names count only once IAM has answered for them.
    pub fn note_trusted_principal(&self, principal: &PrincipalArn) {
        self.note_principal(principal);
    }

    /// Whether enough principals of the account of `principal` are counted for it to be read at once.
    fn account_read_due(&self, principal: &PrincipalArn) -> bool {
        let threshold = self.account_read_threshold;
        threshold > 0
            && self
                .principals_seen
                .get(principal.account())
                .is_some_and(|seen| seen.lock().is_ok_and(|seen| seen.len() >= threshold))
    }

    /// The principal's account read at once, when enough of its principals are counted
    /// (`account_read_threshold`), and when that read is no older than `max_age` (the check's); `None`: read
    /// the principal on its own (also when the account read failed: the principal's own read then says what
    /// is missing). The whole read is kept for the cache's lifetime whatever the check's interval, and made
    /// with the operator's own share of the calls: a check with a short interval reads its principal again,
    /// not the account.
    pub(crate) async fn account_view(
        &self,
        principal: &PrincipalArn,
        credentials: &str,
        reader: &Reader,
        max_age: Duration,
    ) -> Option<Arc<AccountView>> {
        let account = principal.account();
        if !self.account_read_due(principal) {
            return None;
        }
        let view = self
            .accounts
            .get_or_load(
                &format!("{credentials}/{account}"),
                Duration::MAX,
                &self.metrics,
                Result::is_ok,
                || async {
                    reader
                        .answers_for(account, "iam:GetAccountAuthorizationDetails")
                        .await?;
                    read(reader).await.map(Arc::new)
                },
            )
            .await
            .ok()?;
        view.read_at
            .is_some_and(|at| at.elapsed() <= max_age)
            .then_some(view)
    }
}
