//! One check's reads: the bucket's Region first, then the principal, the bucket, the organization and the VPC
//! endpoint at once, then the KMS key the upload would use (known only once the bucket's default encryption
//! is read). Each read is cached by the credentials that made it and its input; what cannot be read, or may
//! not be, becomes an `unavailable` entry of the snapshot.

use super::access_points::Through;
use super::cache::credentials_key;
use super::error::ReadError;
use super::record::{put_bucket, put_endpoint, put_org, put_principal, Lost, PrincipalRead};
use super::{ec2, iam, kms, organizations, s3, Collector, OrgRead, Reader};
use iam_policy::arn::Arn;
use s3_diagnosis::snapshot::{Snapshot, SnapshotLayer, Unavailable, VpcEndpoint, SNAPSHOT_VERSION};
use s3_diagnosis::source::ReadAccess;
use s3_diagnosis::source::Target;
use std::sync::Arc;
use std::time::Duration;

/// One collection's fixed facts: what is read, with which credentials, through which clients, and how old a
/// cached read may be.
struct Plan<'a> {
    target: &'a Target,
    access: &'a ReadAccess,
    principal_account: String,
    bucket_account: String,
    principal_creds: String,
    bucket_creds: String,
    max_age: Duration,
    /// The bucket's Region, as S3 answered.
    region: Result<String, ReadError>,
    /// That Region, or the home Region when it could not be read.
    region_name: String,
    bucket_reader: Arc<Reader>,
    principal_reader: Arc<Reader>,
    /// The same credentials, for no namespace: an account read at once serves every check of the account,
    /// so its calls are the operator's, not charged to the tenant whose check crossed the threshold.
    account_reader: Arc<Reader>,
}

impl Collector {
    /// Reads every input of one check with the credentials `access` names. Never fails: what cannot be read
    /// (or may not be) is listed in `unavailable`.
    pub async fn collect(&self, target: &Target, access: &ReadAccess) -> Snapshot {
        let namespace = access.on_behalf_of.clone();
        if !self.organization_unread {
            return Box::pin(super::cache::reading_for(
                namespace,
                access.fresh,
                self.collect_for_namespace(target, access),
            ))
            .await;
        }
        let target = organizations::accepted_unread(target);
        let mut snapshot = Box::pin(super::cache::reading_for(
            namespace,
            access.fresh,
            self.collect_for_namespace(&target, access),
        ))
        .await;
        organizations::say_why_unread(&mut snapshot);
        snapshot
    }

    async fn collect_for_namespace(&self, target: &Target, access: &ReadAccess) -> Snapshot {
        // A bucket of a kind the diagnosis does not evaluate yet is not read as a general purpose bucket.
        if target.request.not_evaluated().is_some() {
            return Snapshot {
                version: SNAPSHOT_VERSION,
                request: target.request.clone(),
                ..Snapshot::default()
            };
        }
        // The reads are one large future: boxed, so that the caller's future (a reconcile, a test's block_on)
        // does not hold it inline on its stack.
        let Some(named) = &target.request.access_point else {
            return Box::pin(self.collect_bucket(target, access)).await;
        };
        // Through an access point: it first, then the bucket behind it.
        match Box::pin(self.through_access_point(target, access, named)).await {
            Through::Stop(snapshot) => *snapshot,
            Through::Bucket(through) => {
                let (behind, (access_point, policy_error)) = *through;
                let mut snapshot = Box::pin(self.collect_bucket(&behind, access)).await;
                snapshot.access_point = Some(access_point);
                if let Some(e) = policy_error {
                    snapshot.unavailable.push(Unavailable {
                        layer: SnapshotLayer::AccessPointPolicy,
                        reason: e.reason(),
                    });
                }
                snapshot
            }
        }
    }

    /// How old a cached read may be for this check: half its interval (or its scope's), none when a fresh
    /// evaluation was asked for.
    pub(crate) fn max_age(&self, target: &Target, access: &ReadAccess) -> Duration {
        if access.fresh {
            Duration::ZERO
        } else {
            access.interval.unwrap_or(target.interval) / 2
        }
    }

    /// Every read of a check on a bucket (named by the check, or behind its access point).
    async fn collect_bucket(&self, target: &Target, access: &ReadAccess) -> Snapshot {
        let plan = self.plan(target, access).await;
        let (principal, bucket, org, endpoint) = tokio::join!(
            self.read_principal(&plan),
            self.read_bucket(&plan),
            self.read_org(&plan),
            self.read_endpoint(&plan)
        );
        let mut snapshot = Snapshot {
            version: SNAPSHOT_VERSION,
            request: target.request.clone(),
            collected_at: Some(
                chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            ..Snapshot::default()
        };
        let mut lost = Lost::default();
        put_principal(&mut snapshot, &mut lost, principal);
        put_bucket(&mut snapshot, &mut lost, bucket, plan.region.as_ref().err());
        put_org(&mut snapshot, &mut lost, org);
        let network = &target.request.network;
        let asked = network.vpc_endpoint_id.is_some() || network.vpc_id.is_some();
        put_endpoint(&mut snapshot, &mut lost, endpoint, asked, access);
        // The KMS key the upload would use: known only now that the bucket's default encryption is read.
        if let Some(choice) = s3_diagnosis::kms::key_choice(&snapshot) {
            let read = self.read_key(&plan, &choice.reference).await;
            for (layer, e) in &read.unavailable {
                lost.add(*layer, e);
            }
            if let Some(key) = read.key {
                snapshot.kms_keys.push(key);
            }
        }
        // A bucket of another account may grant the upload through its ACL; where ACLs act, a download needs
        // the bucket's owner (an object of another owner is that account's).
        let downloads = target.request.actions().iter().any(|a| a == "GetObject");
        let acls_act = s3_diagnosis::acl::acls_act(&snapshot);
        let cross_account = plan.bucket_account != plan.principal_account;
        if (cross_account || (downloads && acls_act)) && plan.region.is_ok() {
            self.read_acl(&plan, &mut snapshot, &mut lost).await;
        }
        // A download reads an object: whether it exists, its owner, storage class, tags and ACL. A version
        // (`versionId`) is not read: what the listing says is the current version's.
        let current = target.request.version_id.is_none();
        if downloads && current && plan.region.is_ok() && snapshot.bucket.is_some() {
            self.read_object(&plan, &mut snapshot, &mut lost, acls_act)
                .await;
            if object_names_another_account(&snapshot) {
                self.read_caller_canonical_id(&plan, &mut snapshot, &mut lost)
                    .await;
            }
        }
        if downloads && !current && acls_act {
            let why = ReadError::not_called(
                "s3:ListObjectVersions",
                "the owner and ACL of a version are not read (where ACLs act, they decide who may read it)",
            );
            lost.add(SnapshotLayer::Object, &why);
        }
        // Tags are read only when a policy tests one: they decide nothing else.
        let (bucket_tags, key_tags) = tag_reads(&snapshot);
        if bucket_tags {
            self.read_bucket_tags(&plan, &mut snapshot, &mut lost).await;
        }
        if key_tags {
            self.read_key_tags(&plan, &mut snapshot, &mut lost).await;
        }
        snapshot.no_credentials = lost.only_credentials();
        snapshot.unavailable = lost.layers;
        snapshot
    }

    /// The accounts, credentials and clients of one collection; the bucket's Region is read first, as it
    /// decides which endpoint serves the bucket.
    async fn plan<'a>(&self, target: &'a Target, access: &'a ReadAccess) -> Plan<'a> {
        let principal_account = target.principal.account().to_owned();
        let bucket_account = target.bucket_account.clone();
        let bucket_creds = credentials_key(access, &bucket_account);
        let home = self.home_region();
        // Reads are shared between checks, but a check re-evaluated every `interval` (its own, or the one its
        // scope raised it to) sees reads at most half an interval old: a policy fixed in AWS shows within one
        // interval whatever the cache TTL. A requested re-evaluation (`access.fresh`) reads everything again.
        let max_age = self.max_age(target, access);
        let home_reader = self.reader(&bucket_account, &home, access);
        let bucket = &target.request.bucket;
        let region = self
            .regions
            .get_or_load(
                &format!("{bucket_creds}/{bucket_account}/{bucket}"),
                max_age,
                &self.metrics,
                Result::is_ok,
                || s3::bucket_region(&home_reader, bucket, &bucket_account),
            )
            .await;
        let bucket_reader = match &region {
            Ok(r) => self.reader(&bucket_account, r, access),
            Err(_) => Arc::clone(&home_reader),
        };
        let region_name = region.clone().unwrap_or(home);
        Plan {
            target,
            access,
            principal_creds: credentials_key(access, &principal_account),
            principal_reader: self.reader(&principal_account, &region_name, access),
            account_reader: self.reader(
                &principal_account,
                &region_name,
                &ReadAccess {
                    on_behalf_of: None,
                    ..access.clone()
                },
            ),
            principal_account,
            bucket_account,
            bucket_creds,
            max_age,
            region,
            region_name,
            bucket_reader,
        }
    }

    /// The principal, its policies and boundary (unless `skipLayers` holds `identity`).
    async fn read_principal(&self, plan: &Plan<'_>) -> Option<PrincipalRead> {
        if plan
            .target
            .request
            .skip_layers
            .contains(&SnapshotLayer::Identity)
        {
            return None;
        }
        let principal = &plan.target.principal;
        let reader = &plan.principal_reader;
        // A requested fresh read re-reads this principal, never the whole account.
        if !plan.access.fresh {
            if let Some(view) = self
                .account_view(
                    &plan.target.principal,
                    &plan.principal_creds,
                    &plan.account_reader,
                    plan.max_age,
                )
                .await
            {
                // A principal a change event touched since is read on its own below.
                if view.serves(principal) {
                    return Some(view.principal(principal));
                }
            }
        }
        let read = self
            .principals
            .get_or_load(
                &format!("{}/{principal}", plan.principal_creds),
                plan.max_age,
                &self.metrics,
                Result::is_ok,
                || async {
                    // IAM answers by name for the account of the credentials: they must be the principal's
                    // account, or another account's role of the same name would answer.
                    reader
                        .answers_for(&plan.principal_account, "iam:GetRole")
                        .await?;
                    iam::read_principal(reader, principal).await
                },
            )
            .await;
        if read.is_ok() {
            self.note_principal(principal);
        }
        Some(read)
    }

    /// The bucket's settings, in its Region (none when the Region could not be read).
    async fn read_bucket(&self, plan: &Plan<'_>) -> Option<s3::BucketRead> {
        let region = plan.region.as_ref().ok()?;
        let (bucket, account) = (&plan.target.request.bucket, &plan.bucket_account);
        let read = self
            .buckets
            .get_or_load(
                &format!("{}/{account}/{bucket}", plan.bucket_creds),
                plan.max_age,
                &self.metrics,
                |b| b.unavailable.is_empty(),
                || s3::read_bucket(&plan.bucket_reader, bucket, account, region),
            )
            .await;
        Some(read)
    }

    /// The organization's SCPs and RCPs for the two accounts in scope, with the organization reader role when
    /// one is configured, else with the operator's own credentials.
    async fn read_org(&self, plan: &Plan<'_>) -> Result<Option<OrgRead>, ReadError> {
        let skip = &plan.target.request.skip_layers;
        if skip.contains(&SnapshotLayer::Scp) && skip.contains(&SnapshotLayer::Rcp) {
            return Ok(None);
        }
        let org_access = ReadAccess {
            readers: self
                .organization_reader
                .iter()
                .map(|role| (ORGANIZATION.to_owned(), role.clone()))
                .collect(),
            on_behalf_of: plan.access.on_behalf_of.clone(),
            ..ReadAccess::default()
        };
        let org_reader = self.reader(ORGANIZATION, &self.home_region(), &org_access);
        let configured = self.organization_reader.is_some();
        let (principal_account, bucket_account) = (&plan.principal_account, &plan.bucket_account);
        self.orgs
            .get_or_load(
                &format!("{principal_account}/{bucket_account}"),
                plan.max_age,
                &self.metrics,
                Result::is_ok,
                || async {
                    let unreadable = |e| organizations::unreadable(e, configured);
                    let Some((id, management)) = organizations::organization_id(&org_reader)
                        .await
                        .map_err(unreadable)?
                    else {
                        return Ok(None);
                    };
                    let (scps, rcps) = organizations::controls(
                        &org_reader,
                        principal_account,
                        bucket_account,
                        &management,
                    )
                    .await;
                    Ok(Some(OrgRead {
                        id,
                        scps: scps.map_err(unreadable),
                        rcps: rcps.map_err(unreadable),
                    }))
                },
            )
            .await
    }

    /// The VPC endpoint the requests go through (by id, or the VPC's S3 endpoint), when the check names one.
    async fn read_endpoint(&self, plan: &Plan<'_>) -> Result<Option<VpcEndpoint>, ReadError> {
        let network = &plan.target.request.network;
        let (endpoint_id, vpc_id) = (
            network.vpc_endpoint_id.as_deref(),
            network.vpc_id.as_deref(),
        );
        if endpoint_id.is_none() && vpc_id.is_none() {
            return Ok(None);
        }
        let access = plan.access;
        let refused = |named: Option<&str>| {
            ReadError::withheld(
                "ec2:DescribeVpcEndpoints",
                format!(
                    "the check's VPC uses {}, whose policy {} does not allow to be read: add it to the scope's `vpcEndpoints`",
                    named.map_or("an S3 endpoint".to_owned(), |id| format!("endpoint `{id}`")),
                    access.granted_by()
                ),
            )
        };
        // An endpoint the check names is gated before anything is read.
        if let Some(id) = endpoint_id.filter(|id| !access.allows_endpoint(id)) {
            return Err(refused(Some(id)));
        }
        let key = format!(
            "{}/{}/{}",
            plan.principal_creds,
            endpoint_id.unwrap_or(""),
            vpc_id.unwrap_or("")
        );
        // EC2 answers for the account of the credentials: they must be the principal's account.
        plan.principal_reader
            .answers_for(&plan.principal_account, "ec2:DescribeVpcEndpoints")
            .await?;
        let endpoints = self
            .endpoints
            .get_or_load(&key, plan.max_age, &self.metrics, Result::is_ok, || {
                ec2::read_endpoints(
                    &plan.principal_reader,
                    endpoint_id,
                    vpc_id,
                    &plan.region_name,
                )
            })
            .await?;
        // What this check's scope may see of the answer, decided per check (the cache holds the answer).
        ec2::chosen(
            endpoints,
            vpc_id,
            |id| access.allows_endpoint(id),
            || refused(None),
        )
    }

    /// The bucket's ACL, and, when it grants to a canonical user other than its owner, the caller account's
    /// canonical id (to tell whether that grant is the caller's); what cannot be read is the `bucketAcl` layer.
    async fn read_acl(&self, plan: &Plan<'_>, snapshot: &mut Snapshot, lost: &mut Lost) {
        let (name, account) = (&plan.target.request.bucket, &plan.bucket_account);
        let read = self
            .bucket_acls
            .get_or_load(
                &format!("{}/{account}/{name}", plan.bucket_creds),
                plan.max_age,
                &self.metrics,
                Result::is_ok,
                || s3::read_acl(&plan.bucket_reader, name, account),
            )
            .await;
        let acl = match read {
            Ok(acl) => acl,
            Err(e) => return lost.add(SnapshotLayer::BucketAcl, &e),
        };
        let grants_another = acl.grants.iter().any(|g| {
            g.grantee_type == "CanonicalUser"
                && g.grantee != acl.owner
                && matches!(g.permission.as_str(), "WRITE" | "FULL_CONTROL")
        });
        if let Some(bucket) = snapshot.bucket.as_mut() {
            bucket.acl = Some(acl);
        }
        if grants_another {
            self.read_caller_canonical_id(plan, snapshot, lost).await;
        }
    }

    /// The canonical user id of the caller's account (what ACLs grant to), into the snapshot's principal; what
    /// cannot be read is the `bucketAcl` layer.
    async fn read_caller_canonical_id(
        &self,
        plan: &Plan<'_>,
        snapshot: &mut Snapshot,
        lost: &mut Lost,
    ) {
        let Some(principal) = snapshot.principal.as_mut() else {
            return;
        };
        let reader = &plan.principal_reader;
        let id = self
            .canonical_ids
            .get_or_load(
                &format!("{}/{}", plan.principal_creds, plan.principal_account),
                plan.max_age,
                &self.metrics,
                Result::is_ok,
                || async {
                    // The owner `ListBuckets` names is the account of the credentials: the principal's.
                    reader
                        .answers_for(&plan.principal_account, "s3:ListBuckets")
                        .await?;
                    s3::account_canonical_id(reader).await
                },
            )
            .await;
        match id {
            Ok(id) => principal.account_canonical_id = Some(id),
            Err(e) => lost.add(SnapshotLayer::BucketAcl, &e),
        }
    }

    /// The object a download reads, into the snapshot; what cannot be read is the `object` layer.
    async fn read_object(
        &self,
        plan: &Plan<'_>,
        snapshot: &mut Snapshot,
        lost: &mut Lost,
        acls_act: bool,
    ) {
        let request = &plan.target.request;
        let (name, key, account) = (&request.bucket, request.key(), &plan.bucket_account);
        if !plan.access.allows_object(key) {
            return lost.add(
                SnapshotLayer::Object,
                &ReadError::withheld(
                    "s3:ListObjectsV2",
                    format!(
                        "the object `{key}` is not among the keys {} allows reading: add a pattern that matches it to the scope's `keys`",
                        plan.access.granted_by()
                    ),
                ),
            );
        }
        let read = self
            .objects
            .get_or_load(
                &format!("{}/{account}/{name}/{key}/{acls_act}", plan.bucket_creds),
                plan.max_age,
                &self.metrics,
                Result::is_ok,
                || s3::read_object(&plan.bucket_reader, name, key, account, acls_act),
            )
            .await;
        match read {
            Ok(object) => snapshot.object = Some(object),
            Err(e) => lost.add(SnapshotLayer::Object, &e),
        }
    }

    /// The bucket's tags and ABAC setting, into the snapshot; what cannot be read is the `resourceTags` layer,
    /// named.
    async fn read_bucket_tags(&self, plan: &Plan<'_>, snapshot: &mut Snapshot, lost: &mut Lost) {
        if let (Some(bucket), Ok(_)) = (snapshot.bucket.as_mut(), &plan.region) {
            let (name, account) = (&plan.target.request.bucket, &plan.bucket_account);
            let read = self
                .bucket_tags
                .get_or_load(
                    &format!("{}/{account}/{name}", plan.bucket_creds),
                    plan.max_age,
                    &self.metrics,
                    Result::is_ok,
                    || s3::read_tags(&plan.bucket_reader, name, account),
                )
                .await;
            match read {
                Ok((tags, abac)) => {
                    bucket.tags = Some(tags);
                    bucket.abac_enabled = Some(abac);
                }
                Err(e) => lost.add(SnapshotLayer::ResourceTags, &e),
            }
        }
    }

    /// The KMS key's tags, into the snapshot; what cannot be read is the `resourceTags` layer, named.
    async fn read_key_tags(&self, plan: &Plan<'_>, snapshot: &mut Snapshot, lost: &mut Lost) {
        for key in &mut snapshot.kms_keys {
            let Ok(arn) = Arn::parse(&key.arn) else {
                continue;
            };
            let (account, region) = (arn.account.to_owned(), arn.region.to_owned());
            let reader = self.reader(&account, &region, plan.access);
            let creds = credentials_key(plan.access, &account);
            let read = self
                .key_tags
                .get_or_load(
                    &format!("{creds}/{}", key.arn),
                    plan.max_age,
                    &self.metrics,
                    Result::is_ok,
                    || kms::read_tags(&reader, &key.arn),
                )
                .await;
            match read {
                Ok(tags) => key.tags = Some(tags),
                Err(e) => lost.add(SnapshotLayer::ResourceTags, &e),
            }
        }
    }

    /// The KMS key the upload would use (`reference`: an ARN, id or alias), when the access allows its
    /// account; KMS's answer, not the reference, says whose key it is.
    async fn read_key(&self, plan: &Plan<'_>, reference: &str) -> kms::KeyRead {
        let access = plan.access;
        let (account, key_region) = match Arn::parse(reference) {
            Ok(a) => (a.account.to_owned(), a.region.to_owned()),
            // Ids and aliases resolve in the caller's account.
            Err(_) => (plan.principal_account.clone(), plan.region_name.clone()),
        };
        if !access.allows_key_account(&account) {
            return refused_key(reference, &account, access);
        }
        let key_reader = self.reader(&account, &key_region, access);
        let creds = credentials_key(access, &account);
        // A key id or alias resolves in the account of the credentials: they must be `account`'s.
        let read = match key_reader.answers_for(&account, "kms:DescribeKey").await {
            Ok(()) => {
                self.keys
                    .get_or_load(
                        &format!("{creds}/{account}/{key_region}/{reference}"),
                        plan.max_age,
                        &self.metrics,
                        |k| k.unavailable.is_empty(),
                        || kms::read_key(&key_reader, reference),
                    )
                    .await
            }
            Err(e) => not_read_key(e),
        };
        // One of an account the scope does not allow is dropped, whatever was asked for.
        match &read.key {
            Some(key) if !access.allows_key_account(&key.account_id) => {
                refused_key(reference, &key.account_id, access)
            }
            _ => read,
        }
    }
}

/// Which resources' tags a policy read for the check tests (`aws:ResourceTag/...`, `s3:BucketTag/...`): the
/// bucket's when a policy of the S3 request does, the key's when its key policy or a policy of both requests
/// does. Only those are read.
fn tag_reads(snapshot: &Snapshot) -> (bool, bool) {
    let tests = |d: &serde_json::Value| names_a_resource_tag(d);
    let mut both: Vec<&serde_json::Value> = Vec::new();
    if let Some(p) = &snapshot.principal {
        both.extend(p.policies.iter().map(|n| &n.document));
        both.extend(p.permissions_boundary.iter().map(|n| &n.document));
        both.extend(p.session_policy.iter());
    }
    if let Some(org) = &snapshot.organization {
        both.extend(
            org.scps
                .iter()
                .chain(&org.rcps)
                .flatten()
                .map(|n| &n.document),
        );
    }
    let shared = both.into_iter().any(tests);
    let bucket = snapshot
        .bucket
        .iter()
        .flat_map(|b| b.policy.iter())
        .chain(snapshot.vpc_endpoint.iter().flat_map(|e| e.policy.iter()))
        .any(tests);
    let key = snapshot
        .kms_keys
        .iter()
        .flat_map(|k| k.policy.iter())
        .any(tests);
    (shared || bucket, shared || key)
}

/// Whether a document names a resource-tag condition key, walking its keys in place (no copy of the
/// document is made on each collection). A document held as text (not JSON) is searched as text.
fn names_a_resource_tag(value: &serde_json::Value) -> bool {
    let tag = |text: &str| {
        let lower = text.to_ascii_lowercase();
        lower.contains("aws:resourcetag/") || lower.contains("s3:buckettag/")
    };
    match value {
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| tag(k) || names_a_resource_tag(v))
        }
        serde_json::Value::Array(items) => items.iter().any(names_a_resource_tag),
        serde_json::Value::String(text) => text.contains('{') && tag(text),
        _ => false,
    }
}

/// Whether the object a download reads names an account by its canonical id (its owner is not the bucket's, or
/// its ACL grants a canonical user other than its owner): the caller's account's canonical id then tells
/// whether that is the caller.
fn object_names_another_account(snapshot: &Snapshot) -> bool {
    let Some(object) = snapshot.object.as_ref() else {
        return false;
    };
    let bucket_owner = snapshot
        .bucket
        .as_ref()
        .and_then(|b| b.acl.as_ref())
        .map(|a| a.owner.as_str());
    let foreign = object.owner.is_some() && object.owner.as_deref() != bucket_owner;
    let grants_another = object.acl.iter().flatten().any(|g| {
        g.grantee_type == "CanonicalUser" && Some(g.grantee.as_str()) != object.owner.as_deref()
    });
    foreign || grants_another
}

/// The key of the organization reader role among a read's readers.
const ORGANIZATION: &str = "organization";

/// A key that could not be read at all: its three layers, each with `e`.
fn not_read_key(e: ReadError) -> kms::KeyRead {
    kms::KeyRead {
        key: None,
        unavailable: vec![
            (SnapshotLayer::KmsKey, e.clone()),
            (SnapshotLayer::KmsKeyPolicy, e.clone()),
            (SnapshotLayer::KmsGrants, e),
        ],
    }
}

/// A key of an account whose keys the access does not allow to be read: its three layers, not read.
fn refused_key(reference: &str, account: &str, access: &ReadAccess) -> kms::KeyRead {
    not_read_key(ReadError::not_called(
        "kms:DescribeKey",
        format!(
            "the upload would use KMS key `{reference}` of account `{account}`, whose keys {} does not allow to be read: add the account to the scope's `kmsKeyAccounts`",
            access.granted_by()
        ),
    ))
}
