//! Stage 3 of the diagnosis: from a (filled) snapshot to the IAM requests the upload implies. The purposes
//! (upload, ACL, tagging, Object Lock, read, the KMS calls) are computed once; the policies are parsed once,
//! for the actions those purposes need; the KMS key's grants become policies of the key's resource layer, so
//! that the engine decides them like key-policy statements.

use super::kms::{self, KeyChoice};
use super::request::{has_acl, object_arn, s3_context, Purpose, Shape};
use super::snapshot::{KmsKey, NamedPolicy, Snapshot, SnapshotLayer};
use iam_policy::context::PrincipalError;
use iam_policy::parse::parse_policy_for;
use iam_policy::{Policy, PolicyKind, PolicySet, Principal, Request};
use serde_json::{json, Value};
use std::collections::BTreeMap;

mod policy_sets;

use policy_sets::{
    bucket_side_policy_set, kms_policy_set, object_policy_set, on_the_bucket, s3_policy_set,
    KeyRequest,
};

/// Which policy set an implied request is evaluated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The caller's policies with the bucket policy and the VPC endpoint policy.
    S3,
    /// The caller's policies with the key policy and the key's grants.
    Kms,
    /// Through an access point: the bucket's side of each S3 request (the bucket policy and ACL on the
    /// bucket's object ARN, with the access point's keys in the context).
    Bucket,
    /// A download whose object's ACL grants, or whose object another account owns: the caller's policies,
    /// the bucket policy (only its denies, for an object of another account) and the object's ACL.
    Object,
}

/// The id of the identity policy that stands, on the bucket's side of a request through an access point
/// from another account, for what the access point's side has already authorized.
pub const ACCESS_POINT_REQUEST_ID: &str = "access-point-request";

/// One implied IAM request.
#[derive(Debug, Clone)]
pub struct ImpliedRequest {
    /// Why it is made.
    pub purpose: Purpose,
    /// The engine's request.
    pub request: Request,
    /// The policy set that decides it.
    pub target: Target,
    /// The same request with each other value the client model allows for `s3:x-amz-content-sha256`, when a
    /// policy tests it (empty: one value, or none tested).
    pub alternatives: Vec<Request>,
}

/// The key an SSE-KMS upload uses, as far as the snapshot knows it.
#[derive(Debug, Clone)]
pub enum KeyUse {
    /// The key is in the snapshot (or is the AWS managed `aws/s3` key, whose policy is standard).
    Found {
        /// How it was chosen.
        choice: KeyChoice,
        /// The key.
        key: Box<KmsKey>,
        /// The key is in the caller's account.
        same_account: bool,
    },
    /// No such key where KMS resolves the reference.
    NotFound(KeyChoice),
}

/// Everything the later stages need, computed once.
#[derive(Debug, Clone)]
pub struct Implied<'s> {
    /// The filled snapshot.
    pub snapshot: &'s Snapshot,
    /// The caller.
    pub principal: Principal,
    /// The caller and the bucket are in one account.
    pub same_account: bool,
    /// The request comes through a VPC endpoint.
    pub via_endpoint: bool,
    /// The policies of the S3 requests.
    pub s3_policies: PolicySet,
    /// The policies of the KMS requests (when a key is used and found).
    pub kms_policies: Option<PolicySet>,
    /// Through an access point: the policies of the bucket's side.
    pub bucket_policies: Option<PolicySet>,
    /// A download decided with the object's ACL (`Target::Object`): its policies.
    pub object_policies: Option<PolicySet>,
    /// The key, when the upload uses SSE-KMS.
    pub key: Option<KeyUse>,
    /// Every implied request, in the order the diagnosis reports them.
    pub requests: Vec<ImpliedRequest>,
    /// For a download of a missing object: the `s3:ListBucket` request on the bucket, which decides whether S3
    /// answers 404 (allowed) or 403 (denied).
    pub list_request: Option<Request>,
    /// Problems in policy documents: (layer, message).
    pub policy_errors: Vec<(SnapshotLayer, String)>,
}

/// The purposes of the S3 requests, once.
fn s3_purposes(s: &Snapshot) -> Vec<Purpose> {
    let request = &s.request;
    let mut purposes = Vec::new();
    for action in request.actions() {
        if action == "GetObject" {
            purposes.push(if request.version_id.is_some() {
                Purpose::ReadVersion
            } else {
                Purpose::Read
            });
            continue;
        }
        purposes.push(Purpose::Upload);
        if has_acl(request) {
            purposes.push(Purpose::Acl);
        }
        if !request.upload.tags.is_empty() {
            purposes.push(Purpose::Tagging);
        }
        if request.upload.object_lock_mode.is_some()
            || request.upload.object_lock_retain_until_date.is_some()
        {
            purposes.push(Purpose::Retention);
        }
        if request.upload.object_lock_legal_hold.is_some() {
            purposes.push(Purpose::LegalHold);
        }
    }
    purposes
}

/// The purposes of the KMS requests, once.
fn kms_purposes(s: &Snapshot, bucket_key: bool) -> Vec<Purpose> {
    let request = &s.request;
    let mut purposes = Vec::new();
    if request.actions().iter().any(|a| a == "PutObject") {
        purposes.push(Purpose::KmsEncrypt);
        purposes.push(if request.upload.multipart {
            Purpose::KmsDecryptMultipart
        } else if bucket_key {
            Purpose::KmsDecryptBucketKey
        } else {
            Purpose::KmsDecryptLargeFile
        });
    }
    if request.actions().iter().any(|a| a == "GetObject") {
        purposes.push(Purpose::KmsDecryptRead);
    }
    purposes
}

/// The lowercase actions the purposes need: statements for other actions are not parsed.
fn actions_of(purposes: &[Purpose], list: bool) -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = purposes.iter().map(|p| p.action_lower()).collect();
    // A download of a missing object: `s3:ListBucket` decides whether S3 answers 404 or 403.
    if list {
        actions.push("s3:listbucket");
    }
    // The KMS requests are decided only when a key is used, but their statements are parsed with the rest.
    actions.extend(["kms:generatedatakey", "kms:decrypt"]);
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// A download's own requests: `s3:GetObject` with the object's keys (its tags) added to the shared context,
/// and, for a missing object, `s3:ListBucket` on the bucket (it decides between 404 and 403).
fn object_requests(
    s: &Snapshot,
    purposes: &[Purpose],
    s3_request: &Request,
    s3_policies: &PolicySet,
) -> (Option<Request>, Option<Request>) {
    let request = &s.request;
    let principal = s3_request.principal.clone();
    let bucket_account = s3_request.resource_account.clone();
    let read_purpose = purposes.iter().copied().find(|p| p.is_read());
    let read_request = read_purpose.map(|purpose| {
        let mut context = (*s3_request.context).clone();
        super::request::object_context(s, &mut context, s3_policies);
        // A download carries no body.
        if !request.context.contains_key(crate::client::CONTENT_SHA256) {
            super::request::content_sha256(request.client, false, &mut context);
        }
        if let Some(version) = &request.version_id {
            context.insert(
                "s3:versionid",
                iam_policy::ContextValue::One(version.clone()),
            );
        }
        Request::new(
            principal.clone(),
            purpose.action(),
            &object_arn(s),
            super::acl::object_account(s).or(bucket_account.clone()),
            context,
        )
    });
    let list_request = missing_object(s).then(|| {
        Request::new(
            principal,
            "s3:ListBucket",
            &format!("arn:{}:s3:::{}", request.partition(), request.bucket),
            bucket_account,
            (*s3_request.context).clone(),
        )
    });
    (read_request, list_request)
}

/// Whether the check downloads an object that was read and does not exist.
fn missing_object(s: &Snapshot) -> bool {
    s.request.actions().iter().any(|a| a == "GetObject")
        && s.object.as_ref().is_some_and(|o| !o.exists)
}

/// Parses documents for the needed actions, keeping every error for the verdict.
struct Parser {
    actions: Vec<&'static str>,
    errors: Vec<(SnapshotLayer, String)>,
}

impl Parser {
    fn policy(
        &mut self,
        id: &str,
        document: &Value,
        kind: PolicyKind,
        layer: SnapshotLayer,
    ) -> Policy {
        let policy = parse_policy_for(id, document, kind, "", Some(&self.actions));
        for error in &policy.errors {
            let at = if error.pointer.is_empty() {
                "/"
            } else {
                &error.pointer
            };
            self.errors
                .push((layer, format!("`{id}` at `{at}`: {}", error.message)));
        }
        policy
    }

    fn named(&mut self, named: &NamedPolicy, kind: PolicyKind, layer: SnapshotLayer) -> Policy {
        let id = if named.id.is_empty() {
            &named.name
        } else {
            &named.id
        };
        self.policy(id, &named.document, kind, layer)
    }

    fn levels(
        &mut self,
        levels: &[Vec<NamedPolicy>],
        kind: PolicyKind,
        layer: SnapshotLayer,
    ) -> Vec<Vec<Policy>> {
        levels
            .iter()
            .map(|level| level.iter().map(|n| self.named(n, kind, layer)).collect())
            .collect()
    }
}

/// The standard key policy of an AWS managed `aws/s3` key (used when the snapshot has no entry for it).
fn aws_managed_s3_key(partition: &str, dns: &str, account: &str, region: &str) -> KmsKey {
    KmsKey {
        arn: format!("arn:{partition}:kms:{region}:{account}:alias/aws/s3"),
        account_id: account.to_owned(),
        region: region.to_owned(),
        aliases: vec!["alias/aws/s3".to_owned()],
        key_manager: "AWS".to_owned(),
        key_state: "Enabled".to_owned(),
        key_spec: "SYMMETRIC_DEFAULT".to_owned(),
        policy: Some(json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "Allow access through S3 for all principals in the account that are authorized to use S3",
            "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": format!("s3.{region}.{dns}")}}}]})),
        grants: Vec::new(),
        // An AWS managed key has no tags of its own.
        tags: Some(BTreeMap::new()),
    }
}

/// The key the upload uses, found in the snapshot or synthesized for `aws/s3`.
fn key_use(s: &Snapshot, bucket_account: &str, caller_account: &str) -> Option<KeyUse> {
    let choice = kms::key_choice(s)?;
    let key = match kms::find_key(s, &choice.reference) {
        Some(key) => key.clone(),
        None if choice.reference == "alias/aws/s3" => {
            let region = s.bucket.as_ref().map(|b| b.region.as_str()).unwrap_or("");
            aws_managed_s3_key(
                s.request.partition(),
                s.request.dns_suffix(),
                bucket_account,
                region,
            )
        }
        None => return Some(KeyUse::NotFound(choice)),
    };
    let account = if key.account_id.is_empty() {
        bucket_account
    } else {
        &key.account_id
    };
    Some(KeyUse::Found {
        same_account: account == caller_account,
        choice,
        key: Box::new(key),
    })
}

/// Builds the implied requests and their policy sets. `Err` when the principal ARN cannot be parsed (the
/// validation stage has already refused such a request; this keeps the stage total).
pub fn build(s: &Snapshot) -> Result<Implied<'_>, PrincipalError> {
    let request = &s.request;
    // IAM's own ARN when the snapshot has it (the real path and letter case: they decide
    // `aws:PrincipalArn` and whether the role is service-linked), the check's otherwise.
    let arn = s
        .principal
        .as_ref()
        .map(|p| p.arn.as_str())
        .filter(|arn| crate::validate::same_principal(arn, &request.principal_arn))
        .unwrap_or(&request.principal_arn);
    let principal = Principal::parse(arn)?;
    let caller_account = principal.account().unwrap_or_default().to_owned();
    let bucket = s.bucket.as_ref();
    let bucket_account = bucket
        .map(|b| b.account_id.clone())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| caller_account.clone());
    let same_account = bucket_account == caller_account;
    let key = key_use(s, &bucket_account, &caller_account);

    let s3 = s3_purposes(s);
    let kms = match &key {
        Some(KeyUse::Found { choice, .. }) => kms_purposes(s, choice.bucket_key),
        _ => Vec::new(),
    };
    let mut parser = Parser {
        actions: actions_of(&s3, missing_object(s)),
        errors: Vec::new(),
    };

    let via_endpoint = request.network.vpc_endpoint_id.is_some()
        || request.network.vpc_id.is_some()
        || s.vpc_endpoint.is_some();
    let s3_policies = s3_policy_set(s, &mut parser, via_endpoint);

    let (mut requests, list_request) =
        s3_requests(s, &s3, &principal, &s3_policies, &bucket_account);
    let bucket_policies = super::access_point::used(s)
        .map(|_| bucket_side_policy_set(s, &mut parser, &s3_policies, same_account));
    let object_policies = object_policy_set(s, &mut parser, &s3_policies, &mut requests);
    if bucket_policies.is_some() {
        let bucket_side: Vec<ImpliedRequest> = requests
            .iter()
            .map(|r| ImpliedRequest {
                purpose: r.purpose,
                request: on_the_bucket(s, &r.request, &bucket_account, bucket_policies.as_ref()),
                target: Target::Bucket,
                alternatives: r
                    .alternatives
                    .iter()
                    .map(|a| on_the_bucket(s, a, &bucket_account, bucket_policies.as_ref()))
                    .collect(),
            })
            .collect();
        requests.extend(bucket_side);
    }

    let kms_policies = match &key {
        Some(KeyUse::Found { choice, key, .. }) => {
            let (policies, kms_request) = kms_policy_set(
                s,
                &mut parser,
                KeyRequest {
                    key,
                    bucket_key: choice.bucket_key,
                    principal: &principal,
                    bucket_account: &bucket_account,
                },
                &s3_policies,
            );
            requests.extend(kms.iter().map(|purpose| ImpliedRequest {
                purpose: *purpose,
                request: kms_request.with_action(purpose.action()),
                target: Target::Kms,
                alternatives: Vec::new(),
            }));
            Some(policies)
        }
        _ => None,
    };

    Ok(Implied {
        snapshot: s,
        principal,
        same_account,
        via_endpoint,
        s3_policies,
        kms_policies,
        bucket_policies,
        object_policies,
        key,
        requests,
        list_request,
        policy_errors: parser.errors,
    })
}

/// The S3 requests of the purposes: one context (it depends on the check), shared; through an access point
/// made on its object ARN, in its account. With them, for a download of a missing object, the
/// `s3:ListBucket` request.
fn s3_requests(
    s: &Snapshot,
    purposes: &[Purpose],
    principal: &Principal,
    s3_policies: &PolicySet,
    bucket_account: &str,
) -> (Vec<ImpliedRequest>, Option<Request>) {
    let mut context = s3_context(s, Shape::PUT_OBJECT, s3_policies);
    let (resource, resource_account) = match super::access_point::used(s) {
        Some(ap) => {
            super::request::resource_account(&mut context, &ap.account_id);
            (ap.object_arn(s.request.key()), ap.account_id.clone())
        }
        None => (object_arn(s), bucket_account.to_owned()),
    };
    let s3_request = Request::new(
        principal.clone(),
        Purpose::Upload.action(),
        &resource,
        Some(resource_account),
        context,
    );
    let (read_request, list_request) = object_requests(s, purposes, &s3_request, s3_policies);
    let requests = purposes
        .iter()
        .map(|purpose| {
            let request = match (&read_request, purpose) {
                (Some(read), p) if p.is_read() => read.clone(),
                _ => s3_request.with_action(purpose.action()),
            };
            let body = !purpose.is_read();
            ImpliedRequest {
                purpose: *purpose,
                alternatives: client_alternatives(s, &request, body, s3_policies),
                request,
                target: Target::S3,
            }
        })
        .collect();
    (requests, list_request)
}

/// The request with each other value of `s3:x-amz-content-sha256` the client model allows (`body`: it
/// carries the object's data), when a policy tests the key and the check's `context` does not give it.
pub fn client_alternatives(
    s: &Snapshot,
    request: &Request,
    body: bool,
    policies: &PolicySet,
) -> Vec<Request> {
    let key = crate::client::CONTENT_SHA256;
    if s.request.context.contains_key(key) || !super::request::tests_key(policies, key) {
        return Vec::new();
    }
    s.request
        .client
        .content_sha256(body)
        .iter()
        .skip(1)
        .map(|value| {
            let mut context = (*request.context).clone();
            context.insert(key, iam_policy::ContextValue::One((*value).to_owned()));
            Request {
                context: std::sync::Arc::new(context),
                ..request.clone()
            }
        })
        .collect()
}

impl Implied<'_> {
    /// The policy set of a target.
    pub fn policies(&self, target: Target) -> &PolicySet {
        let set = match target {
            Target::Kms => self.kms_policies.as_ref(),
            Target::Bucket => self.bucket_policies.as_ref(),
            Target::Object => self.object_policies.as_ref(),
            Target::S3 => None,
        };
        set.unwrap_or(&self.s3_policies)
    }

    /// The layers that matter for this check (a gap outside them cannot change the answer).
    pub fn relevant_layers(&self) -> Vec<SnapshotLayer> {
        let request = &self.snapshot.request;
        let mut relevant = vec![
            SnapshotLayer::Identity,
            SnapshotLayer::PermissionsBoundary,
            SnapshotLayer::SessionPolicy,
            SnapshotLayer::Scp,
            SnapshotLayer::Rcp,
            SnapshotLayer::BucketPolicy,
        ];
        if self.via_endpoint {
            relevant.push(SnapshotLayer::VpcEndpointPolicy);
        }
        if self.bucket_policies.is_some() {
            relevant.extend([SnapshotLayer::AccessPoint, SnapshotLayer::AccessPointPolicy]);
        }
        // Where ACLs act, a download's object may belong to another account (then bucket-policy grants do not
        // reach it): its owner and ACL, and the bucket's owner, decide.
        // A download's object decides it (archived, missing, another account's). Where ACLs act, its owner
        // and ACL, and the bucket's owner, decide too (then bucket-policy grants may not reach it).
        let downloads = request.actions().iter().any(|a| a == "GetObject");
        if downloads {
            relevant.push(SnapshotLayer::Object);
        }
        if super::acl::acls_act(self.snapshot) && downloads {
            relevant.push(SnapshotLayer::BucketAcl);
        }
        if has_acl(request) {
            relevant.push(SnapshotLayer::BucketOwnership);
        }
        if has_acl(request) || !self.same_account {
            relevant.extend([
                SnapshotLayer::PublicAccessBlock,
                SnapshotLayer::AccountPublicAccessBlock,
            ]);
        }
        if request.upload.server_side_encryption.is_none() {
            relevant.push(SnapshotLayer::BucketEncryption);
        }
        if self.key.is_some() {
            relevant.extend([
                SnapshotLayer::KmsKey,
                SnapshotLayer::KmsKeyPolicy,
                SnapshotLayer::KmsGrants,
            ]);
        }
        let tagged = |p: &PolicySet| super::request::reads_resource_tags(p);
        if tagged(&self.s3_policies)
            || self.kms_policies.as_ref().is_some_and(tagged)
            || self.bucket_policies.as_ref().is_some_and(tagged)
        {
            relevant.push(SnapshotLayer::ResourceTags);
        }
        relevant
    }
}
