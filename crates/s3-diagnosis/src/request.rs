//! From an upload to IAM requests: which authorizations an upload (or read) implies, and the request context
//! S3 builds for each (headers → `s3:x-amz-*` keys, network → `aws:SourceIp`/`aws:SourceVpce`, principal →
//! `aws:PrincipalTag/*`; for KMS the forward-access-session context with network keys redacted).

use super::headers::{grant_headers, HEADERS};
use super::snapshot::{CheckRequest, KmsKey, Snapshot};
use iam_policy::arn::Arn;
use iam_policy::{Context, ContextValue, PolicySet};
use serde_json::Value;
use std::collections::BTreeMap;

/// Why an implied request is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `s3:PutObject` for a single-part upload or every multipart call.
    Upload,
    /// `s3:PutObjectAcl`: ACL or grant headers.
    Acl,
    /// `s3:PutObjectTagging`: `x-amz-tagging`.
    Tagging,
    /// `s3:PutObjectRetention`: Object Lock mode / retain-until headers.
    Retention,
    /// `s3:PutObjectLegalHold`: legal-hold header.
    LegalHold,
    /// `s3:GetObject`.
    Read,
    /// `s3:GetObjectVersion`: a download of one version (`versionId`).
    ReadVersion,
    /// `kms:GenerateDataKey` for an SSE-KMS upload.
    KmsEncrypt,
    /// `kms:Decrypt` for a multipart SSE-KMS upload.
    KmsDecryptMultipart,
    /// `kms:Decrypt` because an S3 Bucket Key is used.
    KmsDecryptBucketKey,
    /// `kms:Decrypt` for a single-part SSE-KMS upload: not needed now, needed once the client switches to
    /// multipart for a large file (reported as a warning).
    KmsDecryptLargeFile,
    /// `kms:Decrypt` for reading an SSE-KMS object.
    KmsDecryptRead,
}

impl Purpose {
    /// The IAM action.
    pub fn action(self) -> &'static str {
        match self {
            Self::Upload => "s3:PutObject",
            Self::Acl => "s3:PutObjectAcl",
            Self::Tagging => "s3:PutObjectTagging",
            Self::Retention => "s3:PutObjectRetention",
            Self::LegalHold => "s3:PutObjectLegalHold",
            Self::Read => "s3:GetObject",
            Self::ReadVersion => "s3:GetObjectVersion",
            Self::KmsEncrypt => "kms:GenerateDataKey",
            Self::KmsDecryptMultipart
            | Self::KmsDecryptBucketKey
            | Self::KmsDecryptLargeFile
            | Self::KmsDecryptRead => "kms:Decrypt",
        }
    }

    /// The IAM action in lowercase, as the parser's action filter takes it.
    pub fn action_lower(self) -> &'static str {
        match self {
            Self::Upload => "s3:putobject",
            Self::Acl => "s3:putobjectacl",
            Self::Tagging => "s3:putobjecttagging",
            Self::Retention => "s3:putobjectretention",
            Self::LegalHold => "s3:putobjectlegalhold",
            Self::Read => "s3:getobject",
            Self::ReadVersion => "s3:getobjectversion",
            Self::KmsEncrypt => "kms:generatedatakey",
            Self::KmsDecryptMultipart
            | Self::KmsDecryptBucketKey
            | Self::KmsDecryptLargeFile
            | Self::KmsDecryptRead => "kms:decrypt",
        }
    }

    /// A download (of the object, or of one version).
    pub fn is_read(self) -> bool {
        matches!(self, Self::Read | Self::ReadVersion)
    }

    /// A KMS request (evaluated against the key policy, with the FAS context).
    pub fn is_kms(self) -> bool {
        self.action().starts_with("kms:")
    }
}

/// A `context` value of the check as the engine takes it; `None` when it is not a string, a number, a
/// boolean or an array of them.
pub(crate) fn context_value(value: &Value) -> Option<ContextValue> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => items
            .iter()
            .map(scalar)
            .collect::<Option<Vec<_>>>()
            .map(ContextValue::Many),
        other => scalar(other).map(ContextValue::One),
    }
}

/// The object ARN.
pub fn object_arn(snapshot: &Snapshot) -> String {
    snapshot.request.object_arn()
}

/// Context keys that come from the principal and the organization (shared by S3 and KMS requests).
fn principal_context(snapshot: &Snapshot, context: &mut Context) {
    if let Some(principal) = &snapshot.principal {
        for (k, v) in &principal.tags {
            context.insert(
                format!("aws:PrincipalTag/{k}"),
                ContextValue::One(v.clone()),
            );
        }
        if !principal.tags.is_empty() {
            context.insert(
                "aws:PrincipalTagKeys",
                ContextValue::Many(principal.tags.keys().cloned().collect()),
            );
        }
        if let (Some(unique), true) = (&principal.unique_id, principal.kind == "user") {
            context.insert("aws:userid", ContextValue::One(unique.clone()));
        }
    }
    if let Some(org) = snapshot.organization.as_ref().and_then(|o| o.id.as_ref()) {
        context.insert("aws:PrincipalOrgID", ContextValue::One(org.clone()));
        // The path of OU ids is present for a member account; the snapshot has the levels, not their ids.
        context.insert_unknown("aws:PrincipalOrgPaths");
    }
    let is_role = snapshot.request.principal_is_role();
    context.insert(
        "aws:PrincipalIsAWSService",
        ContextValue::One("false".into()),
    );
    if is_role {
        // Temporary credentials carry the key, false for workload sessions.
        context.insert(
            "aws:MultiFactorAuthPresent",
            ContextValue::One("false".into()),
        );
        // A role session's id (`ROLEID:session-name`) and start are present and not knowable from the role.
        context.insert_unknown("aws:userid");
        context.insert_unknown("aws:TokenIssueTime");
    }
    match snapshot
        .collected_at
        .as_ref()
        .and_then(|at| iam_policy::condition::parse_date(at).map(|ms| (at, ms)))
    {
        Some((at, ms)) => {
            context.insert("aws:CurrentTime", ContextValue::One(at.clone()));
            context.insert("aws:EpochTime", ContextValue::One((ms / 1000).to_string()));
        }
        // Every request carries the time; without a collection time it is not known.
        None => {
            context.insert_unknown("aws:CurrentTime");
            context.insert_unknown("aws:EpochTime");
        }
    }
}

/// The conditional-write keys: `s3:if-none-match` / `s3:if-match` as the upload sends them, and
/// `s3:ObjectCreationOperation`, true for the request that creates the object (`PutObject`,
/// `CompleteMultipartUpload`) and false for the multipart parts, which take no conditional header.
fn conditional_write(upload: &super::snapshot::Upload, creates: bool, context: &mut Context) {
    context.insert(
        "s3:ObjectCreationOperation",
        ContextValue::One(creates.to_string()),
    );
    if !creates {
        return;
    }
    if let Some(v) = &upload.if_none_match {
        context.insert("s3:if-none-match", ContextValue::One(v.clone()));
    }
    if let Some(v) = &upload.if_match {
        context.insert("s3:if-match", ContextValue::One(v.clone()));
    }
}

/// `aws:VpceAccount`, `aws:VpceOrgID` and `aws:VpceOrgPaths` of a request through a VPC endpoint: the account
/// that owns the endpoint (read from EC2), and its organization's id when that account is the caller's (whose
/// organization is known); unknown values otherwise. The organization path is never known.
fn endpoint_owner(snapshot: &Snapshot, context: &mut Context) {
    let owner = snapshot
        .vpc_endpoint
        .as_ref()
        .map(|e| e.owner_id.as_str())
        .filter(|o| !o.is_empty());
    let caller_account = Arn::parse(&snapshot.request.principal_arn)
        .map(|a| a.account.to_owned())
        .unwrap_or_default();
    match owner {
        Some(owner) => context.insert("aws:VpceAccount", ContextValue::One(owner.to_owned())),
        None => context.insert_unknown("aws:VpceAccount"),
    }
    let org = snapshot.organization.as_ref().and_then(|o| o.id.clone());
    match (owner, org) {
        (Some(owner), Some(org)) if owner == caller_account => {
            context.insert("aws:VpceOrgID", ContextValue::One(org));
        }
        // Present only when the endpoint's owner is in an organization, which is not known here.
        _ => context.insert_unknown_presence("aws:VpceOrgID"),
    }
    context.insert_unknown_presence("aws:VpceOrgPaths");
}

/// The resource's tags, when read, as `aws:ResourceTag/KEY` values (and a bucket's as `s3:BucketTag/KEY` too),
/// unless the check's `context` gives them: a tag the policies test that the resource lacks is then absent,
/// not unknown. False when the tags were not read.
fn resource_tags(
    context: &mut Context,
    tags: Option<&BTreeMap<String, String>>,
    bucket: bool,
) -> bool {
    let Some(tags) = tags else {
        return false;
    };
    for (k, v) in tags {
        let keys = [
            Some(format!("aws:ResourceTag/{k}")),
            bucket.then(|| format!("s3:BucketTag/{k}")),
        ];
        for key in keys.into_iter().flatten() {
            if context.get(&key).is_none() && !context.is_unknown(&key) {
                context.insert(key, ContextValue::One(v.clone()));
            }
        }
    }
    true
}

/// Marks the resource-tag keys the policies read (`aws:ResourceTag/...`, `s3:BucketTag/...`) as keys the
/// request may or may not carry, unless the check gives them: for a resource whose tags (or, for a bucket,
/// whether ABAC is enabled; without it S3 ignores bucket tags) were not read, the resource may lack the tag
/// as well as have it with any value, so a condition on them (`Null` included) is decided neither way, and
/// the diagnosis says which read would settle it.
fn unknown_resource_tags(context: &mut Context, policies: &PolicySet) {
    for condition in conditions_of(policies) {
        let key = condition.key_lower.as_str();
        if is_resource_tag(key) && context.get(key).is_none() && !context.is_unknown(key) {
            context.insert_unknown_presence(condition.key.clone());
        }
    }
}

/// The download's own keys: the object's tags as `s3:ExistingObjectTag/KEY` values when they were read (a tag
/// the object lacks is then absent); when they were not, every such key a policy tests may or may not be
/// present (never guessed either way), unless the check's `context` gives it.
pub fn object_context(snapshot: &Snapshot, context: &mut Context, policies: &PolicySet) {
    if let Some(tags) = snapshot.object.as_ref().and_then(|o| o.tags.as_ref()) {
        for (k, v) in tags {
            let key = format!("s3:ExistingObjectTag/{k}");
            if context.get(&key).is_none() && !context.is_unknown(&key) {
                context.insert(key, ContextValue::One(v.clone()));
            }
        }
        return;
    }
    for condition in conditions_of(policies) {
        let key = condition.key_lower.as_str();
        if key.starts_with("s3:existingobjecttag/")
            && context.get(key).is_none()
            && !context.is_unknown(key)
        {
            context.insert_unknown_presence(condition.key.clone());
        }
    }
}

/// Whether a (lower-case) condition key is a resource tag: `aws:ResourceTag/...` or `s3:BucketTag/...`.
fn is_resource_tag(key: &str) -> bool {
    key.starts_with("aws:resourcetag/") || key.starts_with("s3:buckettag/")
}

/// Whether a policy of the set tests a resource tag (then the tags are worth reading, and not reading them
/// leaves the answer open).
pub fn reads_resource_tags(policies: &PolicySet) -> bool {
    conditions_of(policies).any(|c| is_resource_tag(&c.key_lower))
}

/// Every condition of every policy of the set.
/// Whether a statement of `policies` has a condition on `key` (lowercase).
pub fn tests_key(policies: &PolicySet, key: &str) -> bool {
    conditions_of(policies).any(|c| c.key_lower == key)
}

fn conditions_of(policies: &PolicySet) -> impl Iterator<Item = &iam_policy::model::Condition> {
    policies
        .identity
        .iter()
        .chain(&policies.permission_boundary)
        .chain(&policies.session_policy)
        .chain(policies.scps.iter().flatten())
        .chain(policies.rcps.iter().flatten())
        .chain(&policies.resource_policies)
        .chain(&policies.vpc_endpoint_policy)
        .flat_map(|policy| policy.statements.iter())
        .flat_map(|s| &s.conditions)
}

/// `aws:ResourceOrgID` and `aws:ResourceOrgPaths` of a resource in `account`: the organization's id when the
/// account is known to be in it (the caller's own account, or the bucket's when its RCPs were read along its
/// organization path), unknown values when the caller is in an organization and the resource's account may
/// or may not be.
fn resource_org(snapshot: &Snapshot, account: Option<&str>, context: &mut Context) {
    let Some(org) = snapshot.organization.as_ref() else {
        return;
    };
    let Some(id) = &org.id else {
        return;
    };
    let caller_account = Arn::parse(&snapshot.request.principal_arn)
        .map(|a| a.account.to_owned())
        .unwrap_or_default();
    // The RCPs read are those along the bucket account's path.
    let bucket_account = snapshot.bucket.as_ref().map(|b| b.account_id.as_str());
    let member = account.is_some_and(|a| {
        a.is_empty() || a == caller_account || (Some(a) == bucket_account && !org.rcps.is_empty())
    });
    // Both keys are present only when the resource's account is in an organization.
    if member {
        context.insert("aws:ResourceOrgID", ContextValue::One(id.clone()));
        context.insert_unknown("aws:ResourceOrgPaths");
    } else {
        context.insert_unknown_presence("aws:ResourceOrgID");
        context.insert_unknown_presence("aws:ResourceOrgPaths");
    }
}

/// Applies the user's extra context keys (they win over derived ones).
fn user_context(snapshot: &Snapshot, context: &mut Context) {
    for (key, value) in &snapshot.request.context {
        if let Some(v) = context_value(value) {
            context.insert(key.clone(), v);
        }
    }
}

/// What S3 puts in the context of one request of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The upload headers (ACL, encryption, storage class, tagging, Object Lock): PutObject and
    /// CreateMultipartUpload send them.
    pub headers: bool,
    /// The request creates the object (PutObject, CompleteMultipartUpload): it carries the conditional-write
    /// headers, and `s3:ObjectCreationOperation` is true.
    pub creates: bool,
    /// The request carries the object's data (PutObject, UploadPart): the client's payload values for a body.
    pub body: bool,
}

impl Shape {
    /// A single-part `PutObject` (and every request that is not part of an upload).
    pub const PUT_OBJECT: Self = Self {
        headers: true,
        creates: true,
        body: true,
    };
}

/// The context of the S3 request itself, shaped as `shape` says, with the resource-tag keys `policies` read.
pub fn s3_context(snapshot: &Snapshot, shape: Shape, policies: &PolicySet) -> Context {
    let mut context = Context::default();
    let request = &snapshot.request;
    network_context(snapshot, &mut context);
    if let Some(bucket) = &snapshot.bucket {
        if !bucket.region.is_empty() {
            context.insert(
                "aws:RequestedRegion",
                ContextValue::One(bucket.region.clone()),
            );
        }
        if !bucket.account_id.is_empty() {
            resource_account(&mut context, &bucket.account_id);
        }
    }
    let bucket_account = snapshot.bucket.as_ref().map(|b| b.account_id.as_str());
    resource_org(snapshot, bucket_account, &mut context);
    super::access_point::context(snapshot, &mut context);
    context.insert("aws:ViaAWSService", ContextValue::One("false".into()));
    context.insert(
        "s3:signatureversion",
        ContextValue::One("AWS4-HMAC-SHA256".into()),
    );
    // Every SigV4 request has it; its value depends on the client and on how it sends the body: the client
    // model's first value (the decide stage tries the others), else unknown.
    content_sha256(request.client, shape.body, &mut context);
    context.insert("s3:authType", ContextValue::One("REST-HEADER".into()));
    if shape.headers {
        upload_headers(&request.upload, &mut context);
    }
    conditional_write(&snapshot.request.upload, shape.creates, &mut context);
    principal_context(snapshot, &mut context);
    user_context(snapshot, &mut context);
    bucket_tags(snapshot, policies, &mut context);
    if super::access_point::used(snapshot).is_some() {
        access_point_resource_tags(snapshot, policies, &mut context);
    }
    context
}

/// Whether `key` is one the check's `context` gives (it wins over anything read or derived).
fn given(snapshot: &Snapshot, key: &str) -> bool {
    snapshot
        .request
        .context
        .keys()
        .any(|k| k.eq_ignore_ascii_case(key))
}

/// Through an access point, which resource's tags `aws:ResourceTag` carries (the access point's or the
/// bucket's) is not documented: on the access point's side every such key a policy tests is unknown,
/// presence and value, unless the check gives it. (`s3:BucketTag` is the bucket's.)
fn access_point_resource_tags(snapshot: &Snapshot, policies: &PolicySet, context: &mut Context) {
    for condition in conditions_of(policies) {
        let key = condition.key_lower.as_str();
        if key.starts_with("aws:resourcetag/") && !given(snapshot, key) {
            context.insert_unknown_presence(condition.key.clone());
        }
    }
}

/// The bucket's side of a request through an access point: its `aws:ResourceTag` keys are the bucket's
/// tags again (what the access point's side left unknown is decided by the bucket's tags, read or not).
pub(crate) fn bucket_side_tags(snapshot: &Snapshot, policies: &PolicySet, context: &mut Context) {
    let undecided: Vec<String> = context
        .unknown_keys()
        .filter(|k| k.to_ascii_lowercase().starts_with("aws:resourcetag/") && !given(snapshot, k))
        .map(str::to_owned)
        .collect();
    for key in undecided {
        context.remove(&key);
    }
    bucket_tags(snapshot, policies, context);
}

/// The account that owns the request's resource: `aws:ResourceAccount` and `s3:ResourceAccount`.
pub fn resource_account(context: &mut Context, account: &str) {
    for key in ["aws:ResourceAccount", "s3:ResourceAccount"] {
        context.insert(key, ContextValue::One(account.to_owned()));
    }
}

/// `s3:x-amz-content-sha256` as the client model gives it (`body`: the request carries the object's data),
/// unknown when the client is not known.
pub fn content_sha256(client: crate::client::Client, body: bool, context: &mut Context) {
    match client.content_sha256(body).first() {
        Some(value) => context.insert(
            crate::client::CONTENT_SHA256,
            ContextValue::One((*value).to_owned()),
        ),
        None => context.insert_unknown(crate::client::CONTENT_SHA256),
    }
}

/// The keys of the network path: TLS, the VPC endpoint (and the VPC, the endpoint's owner, the private
/// address) or the public source address.
fn network_context(snapshot: &Snapshot, context: &mut Context) {
    let request = &snapshot.request;
    let network = &request.network;
    let https = network.secure_transport.unwrap_or(true);
    context.insert("aws:SecureTransport", ContextValue::One(https.to_string()));
    // Every HTTPS request carries its TLS version; the check may not say which.
    match (&network.tls_version, https) {
        (Some(version), true) => {
            context.insert("s3:TlsVersion", ContextValue::One(version.clone()))
        }
        (None, true) => context.insert_unknown("s3:TlsVersion"),
        (_, false) => {}
    }
    let vpce = network
        .vpc_endpoint_id
        .clone()
        .or_else(|| snapshot.vpc_endpoint.as_ref().map(|e| e.id.clone()));
    match &vpce {
        Some(id) => {
            context.insert("aws:SourceVpce", ContextValue::One(id.clone()));
            let vpc = network.vpc_id.clone().or_else(|| {
                snapshot
                    .vpc_endpoint
                    .as_ref()
                    .map(|e| e.vpc_id.clone())
                    .filter(|v| !v.is_empty())
            });
            if let Some(vpc) = vpc {
                context.insert("aws:SourceVpc", ContextValue::One(vpc));
            }
            endpoint_owner(snapshot, context);
        }
        // Without a VPC endpoint every request carries its public source address.
        None => match &network.source_ip {
            Some(ip) => context.insert("aws:SourceIp", ContextValue::One(ip.clone())),
            None => context.insert_unknown("aws:SourceIp"),
        },
    }
    if vpce.is_some() {
        // Requests through a VPC endpoint carry the client's private address and the VPC's ARN.
        context.insert_unknown("aws:VpcSourceIp");
        context.insert_unknown("aws:SourceVpcArn");
    }
}

/// The upload's headers and its tags, as the request that creates the object carries them.
fn upload_headers(upload: &super::snapshot::Upload, context: &mut Context) {
    for header in &HEADERS {
        if let Some(v) = (header.get)(upload) {
            context.insert(header.key, ContextValue::One(v.clone()));
        }
    }
    if !upload.tags.is_empty() {
        for (k, v) in &upload.tags {
            context.insert(
                format!("s3:RequestObjectTag/{k}"),
                ContextValue::One(v.clone()),
            );
        }
        context.insert(
            "s3:RequestObjectTagKeys",
            ContextValue::Many(upload.tags.keys().cloned().collect()),
        );
    }
}

/// The bucket's tags: they act only with ABAC enabled (without it, none is present); not read, every tag key
/// a policy tests is an unknown value.
pub(crate) fn bucket_tags(snapshot: &Snapshot, policies: &PolicySet, context: &mut Context) {
    // The bucket's tags act only with ABAC enabled; without it, none is present.
    let bucket_tags = snapshot.bucket.as_ref().and_then(|b| match b.abac_enabled {
        Some(true) => b.tags.clone(),
        Some(false) => Some(BTreeMap::new()),
        None => None,
    });
    let known = resource_tags(context, bucket_tags.as_ref(), true);
    if !known {
        unknown_resource_tags(context, policies);
    }
}

/// The context of the KMS request S3 makes on the caller's behalf (forward access session): network keys
/// redacted, `aws:ViaAWSService` true, `kms:ViaService` the bucket Region's S3, the encryption context the
/// object ARN (or the bucket ARN with an S3 Bucket Key).
pub fn kms_context(
    snapshot: &Snapshot,
    key: &KmsKey,
    key_account: &str,
    bucket_key: bool,
    policies: &PolicySet,
) -> Context {
    let key_region = key.region.as_str();
    let mut context = Context::default();
    let region = snapshot
        .bucket
        .as_ref()
        .map(|b| b.region.clone())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| key_region.to_owned());
    context.insert(
        "kms:ViaService",
        ContextValue::One(format!("s3.{region}.{}", snapshot.request.dns_suffix())),
    );
    if let Ok(arn) = Arn::parse(&snapshot.request.principal_arn) {
        context.insert(
            "kms:CallerAccount",
            ContextValue::One(arn.account.to_owned()),
        );
    }
    let s3_arn = if bucket_key {
        snapshot.request.bucket_arn()
    } else {
        object_arn(snapshot)
    };
    context.insert(
        "kms:EncryptionContext:aws:s3:arn",
        ContextValue::One(s3_arn),
    );
    context.insert(
        "kms:EncryptionContextKeys",
        ContextValue::Many(vec!["aws:s3:arn".to_owned()]),
    );
    context.insert("aws:ViaAWSService", ContextValue::One("true".into()));
    context.insert(
        "aws:CalledVia",
        ContextValue::Many(vec!["s3.amazonaws.com".to_owned()]),
    );
    context.insert(
        "aws:CalledViaFirst",
        ContextValue::One("s3.amazonaws.com".into()),
    );
    context.insert(
        "aws:CalledViaLast",
        ContextValue::One("s3.amazonaws.com".into()),
    );
    if !key_region.is_empty() {
        context.insert(
            "aws:RequestedRegion",
            ContextValue::One(key_region.to_owned()),
        );
    }
    principal_context(snapshot, &mut context);
    resource_org(snapshot, Some(key_account), &mut context);
    user_context(snapshot, &mut context);
    // The user's network keys describe the client, not S3's call to KMS.
    for redacted in [
        "aws:SourceIp",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:VpceAccount",
        "aws:VpceOrgID",
        "aws:VpceOrgPaths",
        "aws:VpcSourceIp",
        "s3:TlsVersion",
        "aws:SecureTransport",
    ] {
        context.remove(redacted);
    }
    if !resource_tags(&mut context, key.tags.as_ref(), false) {
        unknown_resource_tags(&mut context, policies);
    }
    context
}

/// True when an ACL (canned or grant header) is public: grants to AllUsers or AuthenticatedUsers.
pub fn has_public_acl(request: &CheckRequest) -> bool {
    let upload = &request.upload;
    let canned = matches!(
        upload.acl.as_deref(),
        Some("public-read" | "public-read-write" | "authenticated-read")
    );
    canned
        || grant_headers().filter_map(|h| (h.get)(upload)).any(|g| {
            g.contains("acs.amazonaws.com/groups/global/AllUsers")
                || g.contains("acs.amazonaws.com/groups/global/AuthenticatedUsers")
        })
}

/// True when the upload sends any ACL header.
pub fn has_acl(request: &CheckRequest) -> bool {
    super::headers::has_acl(&request.upload)
}

/// True when the only ACL is the canned `bucket-owner-full-control`.
pub fn only_bucket_owner_full_control(request: &CheckRequest) -> bool {
    let u = &request.upload;
    u.acl.as_deref() == Some("bucket-owner-full-control")
        && grant_headers().all(|h| (h.get)(u).is_none())
}
