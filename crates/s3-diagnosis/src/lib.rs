//! The S3 diagnosis: a pure function from a snapshot of live AWS data to a verdict, every cause, and what to
//! change. No AWS SDK, no kube, no tokio, no I/O.
//!
//! `request` says which IAM requests an upload implies and with which context; `policy::evaluate` decides
//! each; `attribute` turns each decision into catalog causes; `s3` and `kms` add the rules that are not
//! policies; `assumptions` stands in for layers not seen; `verdict` applies the spec's verdict rules.

pub mod assumptions;
pub mod attribute;
pub mod causes;
pub mod kms;
pub mod remediation;
pub mod request;
pub mod s3;
pub mod snapshot;
pub mod verdict;

use attribute::{attribute, pointer, snapshot_layer, Evaluated};
use causes::{Cause, CauseId, Severity};
use iam_policy::parse::parse_policy_for;
use iam_policy::{
    evaluate, Decision, Evaluation, Policy, PolicyKind, PolicySet, Principal, Request,
};
use kms::{find_key, key_causes, key_choice};
use request::{
    has_acl, kms_context, object_arn, only_bucket_owner_full_control, s3_context, Purpose,
};
use serde_json::{json, Value};
use snapshot::{KmsKey, Snapshot, SnapshotLayer, SNAPSHOT_VERSION};
use verdict::{EvaluationSummary, Findings, LayeredStatement};

pub use verdict::{Diagnosis, Verdict};

/// Diagnoses a snapshot.
///
/// ```
/// use s3_diagnosis::{diagnose, snapshot::Snapshot, Verdict};
/// let snapshot: Snapshot = serde_json::from_value(serde_json::json!({
///     "version": 1,
///     "request": {"principalArn": "arn:aws:iam::111122223333:role/uploader", "bucket": "doc-example-bucket"},
///     "principal": {"arn": "arn:aws:iam::111122223333:role/uploader", "accountId": "111122223333", "kind": "role",
///         "policies": [{"id": "p", "name": "p", "document": {"Version": "2012-10-17",
///             "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::doc-example-bucket/*"}]}}]},
///     "bucket": {"name": "doc-example-bucket", "accountId": "111122223333", "region": "us-east-1"}
/// })).unwrap();
/// assert_eq!(diagnose(&snapshot).verdict, Verdict::Allowed);
/// ```
pub fn diagnose(snapshot: &Snapshot) -> Diagnosis {
    if snapshot.version != SNAPSHOT_VERSION {
        return verdict::invalid(vec![format!(
            "snapshot version `{}` is not supported (this build reads version {SNAPSHOT_VERSION})",
            snapshot.version
        )]);
    }
    let problems = request::validate(&snapshot.request);
    if !problems.is_empty() {
        return verdict::invalid(problems);
    }
    let gaps = assumptions::gaps(snapshot);
    let filled = assumptions::fill(snapshot, &gaps);
    let findings = analyze(filled.as_ref());
    verdict::assemble(snapshot, &gaps, findings)
}

/// The actions a check evaluates (lowercase): statements for other actions are not parsed.
fn diagnosed_actions(s: &Snapshot) -> Vec<&'static str> {
    let mut actions = Vec::new();
    let request = &s.request;
    for action in request.actions() {
        if action == "GetObject" {
            actions.extend(["s3:getobject", "kms:decrypt"]);
        } else {
            actions.extend(["s3:putobject", "kms:generatedatakey", "kms:decrypt"]);
            if has_acl(request) {
                actions.push("s3:putobjectacl");
            }
            if !request.upload.tags.is_empty() {
                actions.push("s3:putobjecttagging");
            }
            if request.upload.object_lock_mode.is_some()
                || request.upload.object_lock_retain_until_date.is_some()
            {
                actions.push("s3:putobjectretention");
            }
            if request.upload.object_lock_legal_hold.is_some() {
                actions.push("s3:putobjectlegalhold");
            }
        }
    }
    actions
}

/// Parses the snapshot's documents, keeping the errors for the verdict.
struct Parsed {
    actions: Vec<&'static str>,
    errors: Vec<(SnapshotLayer, String)>,
}

impl Parsed {
    fn policy(
        &mut self,
        id: &str,
        document: &Value,
        kind: PolicyKind,
        layer: SnapshotLayer,
    ) -> Policy {
        let policy = parse_policy_for(id, document, kind, "", Some(&self.actions));
        for error in &policy.errors {
            self.errors.push((
                layer,
                format!(
                    "`{id}` at `{}`: {}",
                    if error.pointer.is_empty() {
                        "/"
                    } else {
                        &error.pointer
                    },
                    error.message
                ),
            ));
        }
        policy
    }
}

/// The standard key policy of an AWS managed `aws/s3` key (used when the snapshot has no entry for it).
fn aws_managed_s3_key(account: &str, region: &str) -> KmsKey {
    KmsKey {
        arn: format!("arn:aws:kms:{region}:{account}:alias/aws/s3"),
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
            "Condition": {"StringEquals": {"kms:CallerAccount": account, "kms:ViaService": format!("s3.{region}.amazonaws.com")}}}]})),
        grants: Vec::new(),
    }
}

fn decision_name(decision: Decision) -> &'static str {
    match decision {
        Decision::Allowed => "allowed",
        Decision::ImplicitDeny => "implicitDeny",
        Decision::ExplicitDeny => "explicitDeny",
    }
}

/// Evaluates every implied request of a (filled) snapshot and collects the causes.
fn analyze(s: &Snapshot) -> Findings {
    let mut parsed = Parsed {
        actions: diagnosed_actions(s),
        errors: Vec::new(),
    };
    let request = &s.request;
    let principal = match Principal::parse(&request.principal_arn) {
        Ok(p) => p,
        Err(e) => {
            return Findings {
                evaluations: Vec::new(),
                causes: vec![Cause::error(
                    CauseId::InvalidRequest,
                    SnapshotLayer::Request,
                    "",
                    e.to_string(),
                )],
                relevant: Vec::new(),
                policy_errors: Vec::new(),
            }
        }
    };
    let caller_account = principal.account().unwrap_or_default().to_owned();

    // The policies that apply to the caller, whatever the resource.
    let mut identity = Vec::new();
    let mut boundary = None;
    let mut session = None;
    if let Some(p) = &s.principal {
        for named in &p.policies {
            let id = if named.id.is_empty() {
                named.name.clone()
            } else {
                named.id.clone()
            };
            identity.push(parsed.policy(
                &id,
                &named.document,
                PolicyKind::Identity,
                SnapshotLayer::Identity,
            ));
        }
        if let Some(b) = &p.permissions_boundary {
            boundary = Some(parsed.policy(
                &b.id,
                &b.document,
                PolicyKind::PermissionBoundary,
                SnapshotLayer::PermissionsBoundary,
            ));
        }
        if let Some(doc) = &p.session_policy {
            session = Some(parsed.policy(
                "session-policy",
                doc,
                PolicyKind::SessionPolicy,
                SnapshotLayer::SessionPolicy,
            ));
        }
    }
    let mut levels = |field: &[Vec<snapshot::NamedPolicy>],
                      kind: PolicyKind,
                      layer: SnapshotLayer|
     -> Vec<Vec<Policy>> {
        field
            .iter()
            .map(|level| {
                level
                    .iter()
                    .map(|n| parsed.policy(&n.id, &n.document, kind, layer))
                    .collect()
            })
            .collect()
    };
    let (scps, rcps) = match &s.organization {
        Some(org) => (
            levels(&org.scps, PolicyKind::Scp, SnapshotLayer::Scp),
            levels(&org.rcps, PolicyKind::Rcp, SnapshotLayer::Rcp),
        ),
        None => (Vec::new(), Vec::new()),
    };

    let bucket = s.bucket.as_ref();
    let bucket_policy = bucket.and_then(|b| b.policy.as_ref()).map(|doc| {
        parsed.policy(
            "bucket-policy",
            doc,
            PolicyKind::Resource,
            SnapshotLayer::BucketPolicy,
        )
    });
    let via_endpoint = request.network.vpc_endpoint_id.is_some()
        || request.network.vpc_id.is_some()
        || s.vpc_endpoint.is_some();
    let endpoint_policy = s
        .vpc_endpoint
        .as_ref()
        .filter(|_| via_endpoint)
        .and_then(|e| e.policy.as_ref().map(|doc| (e.id.clone(), doc)))
        .map(|(id, doc)| {
            parsed.policy(
                &id,
                doc,
                PolicyKind::VpcEndpoint,
                SnapshotLayer::VpcEndpointPolicy,
            )
        });
    let bucket_account = bucket
        .map(|b| b.account_id.clone())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| caller_account.clone());
    let same_account = bucket_account == caller_account;

    let mut s3_policies = PolicySet {
        identity,
        permission_boundary: boundary,
        session_policy: session,
        scps,
        rcps,
        resource_policy: bucket_policy,
        vpc_endpoint_policy: endpoint_policy,
    };

    let mut evaluations = Vec::new();
    let mut causes = Vec::new();

    // S3 requests.
    let object = object_arn(s);
    let mut s3_purposes = Vec::new();
    for action in request.actions() {
        if action == "GetObject" {
            s3_purposes.push(Purpose::Read);
            continue;
        }
        s3_purposes.push(Purpose::Upload);
        if has_acl(request) {
            s3_purposes.push(Purpose::Acl);
        }
        if !request.upload.tags.is_empty() {
            s3_purposes.push(Purpose::Tagging);
        }
        if request.upload.object_lock_mode.is_some()
            || request.upload.object_lock_retain_until_date.is_some()
        {
            s3_purposes.push(Purpose::Retention);
        }
        if request.upload.object_lock_legal_hold.is_some() {
            s3_purposes.push(Purpose::LegalHold);
        }
    }
    for purpose in &s3_purposes {
        let req = Request::new(
            principal.clone(),
            purpose.action(),
            &object,
            Some(bucket_account.clone()),
            s3_context(s, true),
        );
        let evaluation = evaluate(&req, &s3_policies);
        let before = causes.len();
        let mut extra = Vec::new();
        if *purpose == Purpose::Upload
            && request.upload.multipart
            && evaluation.decision == Decision::Allowed
        {
            extra.extend(multipart_without_headers(
                s,
                &principal,
                &object,
                &bucket_account,
                &s3_policies,
            ));
        }
        let (mut summary, found) = summarize(
            s,
            &evaluation,
            &s3_policies,
            &req,
            *purpose,
            same_account,
            extra,
        );
        causes.extend(found);
        if *purpose == Purpose::Acl && only_bucket_owner_full_control(request) {
            // AWS's own bucket-owner-full-control examples grant only s3:PutObject: a warning, not a denial.
            summary.advisory = true;
            for cause in causes.iter_mut().skip(before) {
                cause.severity = Severity::Warning;
            }
        }
        evaluations.push(summary);
    }
    causes.extend(s3::overlay_causes(
        s,
        !same_account,
        s3_policies.resource_policy.as_ref(),
    ));

    // KMS requests.
    let choice = key_choice(s);
    let reading = request.actions().iter().any(|a| a == "GetObject");
    let writing = request.actions().iter().any(|a| a == "PutObject");
    if let Some(choice) = &choice {
        let region = bucket.map(|b| b.region.clone()).unwrap_or_default();
        let synthesized;
        let key = match find_key(s, &choice.reference) {
            Some(key) => Some(key),
            None if choice.reference == "alias/aws/s3" => {
                synthesized = aws_managed_s3_key(&bucket_account, &region);
                Some(&synthesized)
            }
            None => {
                causes.push(
                    Cause::error(
                        CauseId::KmsKeyNotFoundOrWrongRegion,
                        SnapshotLayer::KmsKey,
                        "kms:GenerateDataKey",
                        format!("KMS key `{}` does not exist (in the caller's account and the bucket's Region, where KMS resolves it)", choice.reference),
                    )
                    .fix([remediation::Remediation::request(
                        "reference an existing key by its full ARN, in the bucket's Region",
                        None,
                    )]),
                );
                None
            }
        };
        if let Some(key) = key {
            let blockers = key_causes(s, choice, key, reading && !writing);
            let blocked = !blockers.is_empty();
            causes.extend(blockers);
            let key_policy = key.policy.as_ref().map(|doc| {
                parsed.policy(
                    &key.arn,
                    doc,
                    PolicyKind::Resource,
                    SnapshotLayer::KmsKeyPolicy,
                )
            });
            let key_account = if key.account_id.is_empty() {
                bucket_account.clone()
            } else {
                key.account_id.clone()
            };
            // The caller's policies serve the KMS requests too: moved, not copied.
            let mut kms_policies = std::mem::take(&mut s3_policies);
            if key_account != bucket_account || kms::is_aws_managed(key) {
                kms_policies.rcps.clear();
            }
            kms_policies.resource_policy = key_policy;
            kms_policies.vpc_endpoint_policy = None;
            let mut purposes = Vec::new();
            if writing {
                purposes.push(Purpose::KmsEncrypt);
                purposes.push(if request.upload.multipart {
                    Purpose::KmsDecryptMultipart
                } else if choice.bucket_key {
                    Purpose::KmsDecryptBucketKey
                } else {
                    Purpose::KmsDecryptLargeFile
                });
            }
            if reading {
                purposes.push(Purpose::KmsDecryptRead);
            }
            let key_same_account = key_account == caller_account;
            for purpose in purposes {
                let context = kms_context(s, &key.region, choice.bucket_key);
                let req = Request::new(
                    principal.clone(),
                    purpose.action(),
                    &key.arn,
                    Some(key_account.clone()),
                    context,
                );
                let mut evaluation = evaluate(&req, &kms_policies);
                let operation = purpose.action().trim_start_matches("kms:");
                let granted = evaluation.decision == Decision::ImplicitDeny
                    && kms::grant_allows(key, &request.principal_arn, operation, &req.context);
                if granted {
                    evaluation.decision = Decision::Allowed;
                    evaluation.classification =
                        iam_policy::Classification::Allowed(iam_policy::Grant::ResourcePolicy);
                }
                let mut extra = Vec::new();
                let has_grants_for_caller = key
                    .grants
                    .iter()
                    .any(|g| g.grantee_principal == request.principal_arn);
                if evaluation.decision == Decision::ImplicitDeny && has_grants_for_caller {
                    extra.push(Cause::error(
                        CauseId::KmsGrantMissingOrConstrained,
                        SnapshotLayer::KmsGrants,
                        purpose.action(),
                        format!("the caller has grants on `{}`, but none allows `{operation}` with this encryption context", key.arn),
                    ));
                }
                let before = causes.len();
                let (summary, found) = summarize(
                    s,
                    &evaluation,
                    &kms_policies,
                    &req,
                    purpose,
                    key_same_account,
                    extra,
                );
                // A single-part upload makes no kms:Decrypt call: only its warning is reported.
                if purpose != Purpose::KmsDecryptLargeFile {
                    evaluations.push(summary);
                }
                causes.extend(found);
                if blocked {
                    // The key cannot be used at all: its policy details are noise next to that.
                    causes.truncate(before);
                }
                if purpose == Purpose::KmsDecryptLargeFile {
                    for cause in causes.iter_mut().skip(before) {
                        cause.severity = Severity::Warning;
                        cause.message.push_str(" (a single-part upload does not need it, but `aws s3 cp` and SDK transfer managers switch to multipart for large files, which does)");
                    }
                }
            }
        }
    }
    causes.sort_by_key(Cause::rank);
    causes.dedup_by(|a, b| {
        a.id == b.id && a.layer == b.layer && a.action == b.action && a.statement == b.statement
    });

    let mut relevant = vec![
        SnapshotLayer::Identity,
        SnapshotLayer::PermissionsBoundary,
        SnapshotLayer::SessionPolicy,
        SnapshotLayer::Scp,
        SnapshotLayer::Rcp,
        SnapshotLayer::BucketPolicy,
    ];
    if via_endpoint {
        relevant.push(SnapshotLayer::VpcEndpointPolicy);
    }
    if has_acl(request) {
        relevant.push(SnapshotLayer::BucketOwnership);
    }
    if has_acl(request) || !same_account {
        relevant.extend([
            SnapshotLayer::PublicAccessBlock,
            SnapshotLayer::AccountPublicAccessBlock,
        ]);
    }
    if request.upload.server_side_encryption.is_none() {
        relevant.push(SnapshotLayer::BucketEncryption);
    }
    if choice.is_some() {
        relevant.extend([
            SnapshotLayer::KmsKey,
            SnapshotLayer::KmsKeyPolicy,
            SnapshotLayer::KmsGrants,
        ]);
    }
    Findings {
        evaluations,
        causes,
        relevant,
        policy_errors: parsed.errors,
    }
}

/// One evaluated request: its summary for the output and its causes.
fn summarize(
    s: &Snapshot,
    evaluation: &Evaluation,
    policies: &PolicySet,
    req: &Request,
    purpose: Purpose,
    same_account: bool,
    extra: Vec<Cause>,
) -> (EvaluationSummary, Vec<Cause>) {
    let evaluated = Evaluated {
        snapshot: s,
        purpose,
        request: req,
        policies,
        evaluation,
        same_account,
    };
    let mut found = attribute(&evaluated);
    if evaluation.classification == iam_policy::Classification::ExplicitDeny {
        // Report every cause: what would still fail once the denies are gone.
        let open = without_denies(policies);
        let reevaluated = evaluate(req, &open);
        let beyond = Evaluated {
            policies: &open,
            evaluation: &reevaluated,
            ..evaluated
        };
        for cause in attribute(&beyond) {
            if !found
                .iter()
                .any(|f| f.id == cause.id && f.statement == cause.statement)
            {
                found.push(cause);
            }
        }
    }
    found.extend(extra);
    let kms = purpose.is_kms();
    let only_broken = evaluation.decision == Decision::ExplicitDeny
        && evaluation
            .layers
            .iter()
            .flat_map(|l| l.statements.iter())
            .filter(|r| r.denies())
            .all(|r| r.outcome == iam_policy::eval::StatementOutcome::Indeterminate);
    let mut determining: Vec<LayeredStatement> = evaluation
        .determining
        .iter()
        .map(|at| LayeredStatement {
            layer: snapshot_layer(at.layer, kms),
            statement: pointer(policies, at),
        })
        .collect();
    if evaluation.decision == Decision::ImplicitDeny {
        determining.extend(found.iter().filter_map(|c| {
            c.statement.clone().map(|statement| LayeredStatement {
                layer: c.layer,
                statement,
            })
        }));
    }
    let summary = EvaluationSummary {
        action: purpose.action().to_owned(),
        resource: req.resource.clone(),
        decision: if only_broken {
            "unknown"
        } else {
            decision_name(evaluation.decision)
        },
        determining_statements: determining,
        missing_context_keys: evaluation.missing_context_keys.clone(),
        advisory: false,
    };
    (summary, found)
}

/// The policies with every statement that denies (or might) removed.
fn without_denies(policies: &PolicySet) -> PolicySet {
    let strip = |p: &Policy| {
        let mut p = p.clone();
        p.statements
            .retain(|st| st.effect == Some(iam_policy::Effect::Allow));
        p
    };
    PolicySet {
        identity: policies.identity.iter().map(strip).collect(),
        permission_boundary: policies.permission_boundary.as_ref().map(strip),
        session_policy: policies.session_policy.as_ref().map(strip),
        scps: policies
            .scps
            .iter()
            .map(|l| l.iter().map(strip).collect())
            .collect(),
        rcps: policies
            .rcps
            .iter()
            .map(|l| l.iter().map(strip).collect())
            .collect(),
        resource_policy: policies.resource_policy.as_ref().map(strip),
        vpc_endpoint_policy: policies.vpc_endpoint_policy.as_ref().map(strip),
    }
}

/// UploadPart and CompleteMultipartUpload carry none of the upload headers: a Deny keyed on a header that
/// is absent there may block them. Reported as a warning (the catalog marks it an inference).
fn multipart_without_headers(
    s: &Snapshot,
    principal: &Principal,
    object: &str,
    bucket_account: &str,
    policies: &PolicySet,
) -> Vec<Cause> {
    let req = Request::new(
        principal.clone(),
        "s3:PutObject",
        object,
        Some(bucket_account.to_owned()),
        s3_context(s, false),
    );
    let evaluation = evaluate(&req, policies);
    if evaluation.decision != Decision::ExplicitDeny {
        return Vec::new();
    }
    evaluation
        .determining
        .iter()
        .map(|at| {
            let keys: Vec<String> = policies
                .statement(at)
                .map(|st| st.conditions.iter().map(|c| format!("`{}`", c.key)).collect())
                .unwrap_or_default();
            Cause::warning(
                CauseId::MultipartHeaderCondition,
                snapshot_layer(at.layer, false),
                "s3:PutObject",
                format!(
                    "UploadPart and CompleteMultipartUpload send no upload headers, and statement `{}` denies s3:PutObject when {} is absent: the parts of a multipart upload may be denied",
                    pointer(policies, at).sid.unwrap_or_else(|| format!("#{}", at.statement)),
                    keys.join(", ")
                ),
            )
            .at(Some(pointer(policies, at)))
            .fix([remediation::Remediation::policy(
                "write the condition with `...IfExists` plus a separate `Null` check on CreateMultipartUpload/PutObject, or rely on default encryption instead of a header requirement",
                None,
            )])
        })
        .collect()
}
