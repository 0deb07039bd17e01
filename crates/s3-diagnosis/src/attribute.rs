//! From one evaluated IAM request to causes: the engine's classification says which layer failed and how;
//! its recorded statements (denying ones, and near misses: Allows whose action matched but another element
//! did not) say which statement and which condition. Each becomes a catalog cause with remediations.
//! Depends on `policy` (evaluation and trace), `request`, `causes`, `remediation`, `snapshot`.

use super::causes::{Cause, CauseId, StatementPointer};
use super::remediation::{upload_command, Remediation};
use super::request::Purpose;
use super::snapshot::{Snapshot, SnapshotLayer};
use iam_policy::eval::{Mismatch, StatementOutcome, StatementResult};
use iam_policy::model::{Condition, Effect, PrincipalEntry, Statement};
use iam_policy::trace::explain;
use iam_policy::{Classification, Evaluation, Layer, PolicySet, Principal, Request, StatementRef};
use serde_json::{json, Value};

/// The raw document of a policy id in the snapshot (decoded when it is a string), for computing patches.
pub fn find_document(s: &Snapshot, id: &str) -> Option<Value> {
    fn named<'s>(n: &'s super::snapshot::NamedPolicy, id: &str) -> Option<&'s Value> {
        (n.id == id || (n.id.is_empty() && n.name == id)).then_some(&n.document)
    }
    let principal = s.principal.as_ref();
    let found = principal
        .and_then(|p| p.policies.iter().find_map(|n| named(n, id)))
        .or_else(|| {
            principal
                .and_then(|p| p.permissions_boundary.as_ref())
                .and_then(|n| named(n, id))
        })
        .or_else(|| {
            principal
                .and_then(|p| p.session_policy.as_ref())
                .filter(|_| id == "session-policy")
        })
        .or_else(|| {
            s.organization.as_ref().and_then(|o| {
                o.scps
                    .iter()
                    .chain(o.rcps.iter())
                    .flatten()
                    .find_map(|n| named(n, id))
            })
        })
        .or_else(|| {
            s.bucket
                .as_ref()
                .and_then(|b| b.policy.as_ref())
                .filter(|_| id == "bucket-policy")
        })
        .or_else(|| {
            s.vpc_endpoint
                .as_ref()
                .filter(|e| e.id == id)
                .and_then(|e| e.policy.as_ref())
        })
        .or_else(|| {
            s.kms_keys
                .iter()
                .find(|k| k.arn == id)
                .and_then(|k| k.policy.as_ref())
        })?;
    iam_policy::parse::document_value(found, "")
        .ok()
        .map(std::borrow::Cow::into_owned)
}

/// One evaluated request, with everything attribution needs.
pub struct Evaluated<'a> {
    /// The snapshot (after optimistic filling).
    pub snapshot: &'a Snapshot,
    /// Why the request is made.
    pub purpose: Purpose,
    /// The engine's request.
    pub request: &'a Request,
    /// The engine's policies.
    pub policies: &'a PolicySet,
    /// The evaluation.
    pub evaluation: &'a Evaluation,
    /// The caller and the resource are in one account.
    pub same_account: bool,
}

/// The snapshot layer of an engine layer, for this kind of request.
pub fn snapshot_layer(layer: Layer, kms: bool) -> SnapshotLayer {
    match layer {
        Layer::Identity => SnapshotLayer::Identity,
        Layer::ResourcePolicy if kms => SnapshotLayer::KmsKeyPolicy,
        Layer::ResourcePolicy => SnapshotLayer::BucketPolicy,
        Layer::Scp => SnapshotLayer::Scp,
        Layer::Rcp => SnapshotLayer::Rcp,
        Layer::PermissionBoundary => SnapshotLayer::PermissionsBoundary,
        Layer::SessionPolicy => SnapshotLayer::SessionPolicy,
        Layer::VpcEndpointPolicy => SnapshotLayer::VpcEndpointPolicy,
    }
}

/// A pointer to a statement, for output.
pub fn pointer(policies: &PolicySet, at: &StatementRef) -> StatementPointer {
    StatementPointer {
        policy_id: policies
            .policy(at)
            .map(|p| p.id.clone())
            .unwrap_or_default(),
        sid: policies.statement(at).and_then(|s| s.sid.clone()),
        statement_index: at.statement,
    }
}

fn statement_name(policies: &PolicySet, at: &StatementRef) -> String {
    let p = pointer(policies, at);
    match p.sid {
        Some(sid) => format!("`{sid}` of `{}`", p.policy_id),
        None => format!("#{} of `{}`", p.statement_index, p.policy_id),
    }
}

/// The raw JSON of a statement, for patches.
fn raw_statement(e: &Evaluated<'_>, at: &StatementRef) -> Option<Value> {
    let id = e.policies.policy(at)?.id.clone();
    let doc = find_document(e.snapshot, &id)?;
    match doc.get("Statement")? {
        Value::Array(list) => list.get(at.statement as usize).cloned(),
        single @ Value::Object(_) if at.statement == 0 => Some(single.clone()),
        _ => None,
    }
}

const PERIMETER_KEYS: [&str; 5] = [
    "aws:resourceaccount",
    "s3:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:resourcetag",
];
const KMS_NETWORK_KEYS: [&str; 6] = [
    "aws:sourceip",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:vpcsourceip",
    "aws:securetransport",
    "s3:tlsversion",
];

/// The cause id a condition key points to, whatever the layer (principal attributes, perimeter).
fn general_condition_id(key: &str) -> Option<CauseId> {
    if key.starts_with("aws:principaltag/") || key == "aws:principaltagkeys" {
        Some(CauseId::PrincipalTagConditionMismatch)
    } else if key.starts_with("aws:multifactorauth") {
        Some(CauseId::MfaCondition)
    } else if PERIMETER_KEYS.iter().any(|k| key.starts_with(k)) {
        Some(CauseId::ResourcePerimeterDeny)
    } else {
        None
    }
}

/// The cause id of a bucket-policy condition key.
fn bucket_condition_id(key: &str) -> Option<CauseId> {
    Some(match key {
        "aws:sourceip" | "aws:vpcsourceip" => CauseId::BucketPolicyConditionSourceIp,
        "aws:sourcevpce" | "aws:sourcevpc" => CauseId::BucketPolicyConditionSourceVpce,
        "s3:x-amz-server-side-encryption" => CauseId::BucketPolicyConditionSseRequired,
        "s3:x-amz-server-side-encryption-aws-kms-key-id" => CauseId::BucketPolicyConditionKmsKeyId,
        "s3:x-amz-acl"
        | "s3:x-amz-grant-full-control"
        | "s3:x-amz-grant-read"
        | "s3:x-amz-grant-write"
        | "s3:x-amz-grant-read-acp"
        | "s3:x-amz-grant-write-acp" => CauseId::BucketPolicyConditionAclRequired,
        "s3:x-amz-storage-class" => CauseId::BucketPolicyConditionStorageClass,
        "aws:securetransport" | "s3:tlsversion" => CauseId::BucketPolicyConditionTls,
        "s3:signatureversion" | "s3:authtype" | "s3:signatureage" | "s3:x-amz-content-sha256" => {
            CauseId::BucketPolicyConditionSignature
        }
        "aws:principalorgid" | "aws:principalorgpaths" | "aws:principalaccount" => {
            CauseId::BucketPolicyConditionPrincipalOrg
        }
        "s3:requestobjecttagkeys" => CauseId::BucketPolicyConditionObjectTags,
        k if k.starts_with("s3:requestobjecttag/") => CauseId::BucketPolicyConditionObjectTags,
        k if k.starts_with("s3:object-lock-") => CauseId::BucketPolicyConditionObjectLock,
        "s3:if-none-match" | "s3:if-match" | "s3:objectcreationoperation" => {
            CauseId::BucketPolicyConditionalWrites
        }
        k if k.starts_with("aws:resourcetag/") || k.starts_with("s3:buckettag/") => {
            CauseId::BucketPolicyAbacTagCondition
        }
        "s3:dataaccesspointarn" | "s3:dataaccesspointaccount" | "s3:accesspointnetworkorigin" => {
            CauseId::BucketPolicyAccessPointOnly
        }
        k => return general_condition_id(k),
    })
}

/// The cause id of a KMS condition key.
fn kms_condition_id(key: &str) -> Option<CauseId> {
    if key == "kms:viaservice" {
        Some(CauseId::KmsConditionViaService)
    } else if key == "kms:calleraccount" {
        Some(CauseId::KmsConditionCallerAccount)
    } else if key.starts_with("kms:encryptioncontext") {
        Some(CauseId::KmsEncryptionContextMismatch)
    } else if KMS_NETWORK_KEYS.contains(&key) {
        Some(CauseId::KmsNetworkConditionOnFas)
    } else {
        general_condition_id(key)
    }
}

/// Every cause of one evaluated request that is not allowed.
pub fn attribute(e: &Evaluated<'_>) -> Vec<Cause> {
    let mut causes = match e.evaluation.classification {
        Classification::Allowed(_) => return Vec::new(),
        Classification::ExplicitDeny => deny_causes(e),
        Classification::RcpNoAllow => vec![org_no_allow(e, Layer::Rcp)],
        Classification::ScpNoAllow => vec![org_no_allow(e, Layer::Scp)],
        Classification::VpcEndpointNoAllow => vec![vpce_no_allow(e)],
        Classification::NoAllow => {
            let mut c = identity_gap(e);
            c.extend(resource_near_misses(e, true));
            c
        }
        Classification::IdentityNoAllow => identity_gap(e),
        Classification::ResourcePolicyNoAllow => resource_gap(e),
        Classification::PermissionBoundaryNoAllow => bounded(e, Layer::PermissionBoundary),
        Classification::SessionPolicyNoAllow => bounded(e, Layer::SessionPolicy),
    };
    // The purpose can name the cause better than the layer.
    for cause in &mut causes {
        if let Some(id) = purpose_id(e.purpose, cause.id) {
            cause.id = id;
            if id == CauseId::KmsNoDecryptForMultipart {
                cause.remediation.insert(
                    0,
                    Remediation::request(
                        "workaround only: keep uploads single-part (below 5 GB) by raising the CLI's multipart threshold; the fix is to allow kms:Decrypt",
                        Some("aws configure set default.s3.multipart_threshold 5GB".to_owned()),
                    ),
                );
            }
        }
    }
    causes
}

/// Purpose-specific ids: a missing `kms:Decrypt` for multipart, Bucket Keys and reads.
fn purpose_id(purpose: Purpose, id: CauseId) -> Option<CauseId> {
    let generic_kms_gap = matches!(
        id,
        CauseId::KmsIdentityNoAllow
            | CauseId::KmsKeyPolicyNoAllow
            | CauseId::KmsCrossAccountKeyPolicyMissing
            | CauseId::KmsBoundaryOrSessionNoKms
    );
    match purpose {
        Purpose::KmsDecryptMultipart | Purpose::KmsDecryptLargeFile if generic_kms_gap => {
            Some(CauseId::KmsNoDecryptForMultipart)
        }
        Purpose::KmsDecryptBucketKey if generic_kms_gap => Some(CauseId::KmsNoDecryptForBucketKey),
        Purpose::KmsDecryptRead if generic_kms_gap => Some(CauseId::GetKmsNoDecrypt),
        _ => None,
    }
}

fn layer_of(e: &Evaluated<'_>, layer: Layer) -> SnapshotLayer {
    snapshot_layer(layer, e.purpose.is_kms())
}

/// Causes for every denying statement.
fn deny_causes(e: &Evaluated<'_>) -> Vec<Cause> {
    let kms = e.purpose.is_kms();
    let mut causes = Vec::new();
    for layer in &e.evaluation.layers {
        for result in layer.statements.iter().filter(|s| s.denies()) {
            let at = result.at;
            let Some(statement) = e.policies.statement(&at) else {
                continue;
            };
            let action = e.purpose.action();
            if result.outcome == StatementOutcome::Indeterminate {
                let mut cause = Cause::error(
                    CauseId::PolicyDocumentInvalid,
                    layer_of(e, at.layer),
                    action,
                    format!(
                        "statement {} has errors and might deny {action}; it cannot be evaluated for certain",
                        statement_name(e.policies, &at)
                    ),
                )
                .at(Some(pointer(e.policies, &at)))
                .fix([Remediation::policy("fix the statement's errors (see the evaluation's errors)", None)]);
                cause.definite = false;
                causes.push(cause);
                continue;
            }
            let keyed = statement.conditions.iter().find_map(|c| {
                let id = if kms {
                    kms_condition_id(&c.key_lower)
                } else if at.layer == Layer::ResourcePolicy {
                    bucket_condition_id(&c.key_lower)
                } else if at.layer == Layer::Scp && c.key_lower == "aws:requestedregion" {
                    Some(CauseId::ScpRegionDeny)
                } else {
                    general_condition_id(&c.key_lower)
                };
                id.map(|id| (id, c))
            });
            let not_principal = statement.principal.as_ref().is_some_and(|p| p.negated);
            let id = match (at.layer, kms, keyed) {
                (Layer::Scp, true, _) => CauseId::KmsScpDeny,
                (Layer::Rcp, true, _) => CauseId::KmsRcpDeny,
                (_, true, Some((id, _))) => id,
                (_, true, None) => CauseId::KmsExplicitDeny,
                (Layer::ResourcePolicy, false, _) if not_principal => {
                    CauseId::BucketPolicyNotprincipalDeny
                }
                (Layer::Rcp, false, _) => CauseId::RcpExplicitDenyS3,
                (_, false, Some((id, _))) => id,
                (Layer::Identity, false, None) => CauseId::IdentityExplicitDeny,
                (Layer::PermissionBoundary, false, None) => CauseId::PermissionBoundaryExplicitDeny,
                (Layer::SessionPolicy, false, None) => CauseId::SessionPolicyExplicitDeny,
                (Layer::Scp, false, None) => CauseId::ScpExplicitDeny,
                (Layer::ResourcePolicy, false, None) => CauseId::BucketPolicyExplicitDeny,
                (Layer::VpcEndpointPolicy, false, None) => CauseId::VpcePolicyExplicitDeny,
            };
            let mut message = format!(
                "statement {} denies {action}",
                statement_name(e.policies, &at)
            );
            if not_principal {
                message.push_str(&format!(
                    ": its `NotPrincipal` does not exclude `{}` (AWS checks the account, the role and the session, and never excludes a principal with a permissions boundary)",
                    e.snapshot.request.principal_arn
                ));
            } else if statement.conditions.is_empty() {
                message.push_str(" unconditionally");
            } else {
                let held: Vec<String> = statement
                    .conditions
                    .iter()
                    .map(|c| describe_held(c, e.request))
                    .collect();
                message.push_str(&format!(": {}", held.join(" and ")));
            }
            let mut remediation = Vec::new();
            if let Some(condition) = keyed
                .map(|(_, c)| c)
                .or_else(|| statement.conditions.first())
            {
                remediation.extend(request_fix(e, condition, Effect::Deny));
            }
            remediation.push(deny_policy_fix(e, &at, statement, not_principal));
            causes.push(
                Cause::error(id, layer_of(e, at.layer), action, message)
                    .at(Some(pointer(e.policies, &at)))
                    .fix(remediation),
            );
        }
    }
    causes
}

/// "`StringNotEquals` on `s3:x-amz-acl` (bucket-owner-full-control) holds: the request has public-read".
fn describe_held(condition: &Condition, request: &Request) -> String {
    let actual = request.context.get(&condition.key_lower).map_or_else(
        || format!("no `{}`", condition.key),
        |entry| entry.values().join(", "),
    );
    format!(
        "`{}` on `{}` ({}) holds for the request, which has {actual}",
        condition.operator.written,
        condition.key,
        condition.written.join(", ")
    )
}

/// The policy change for a deny statement.
fn deny_policy_fix(
    e: &Evaluated<'_>,
    at: &StatementRef,
    statement: &Statement,
    not_principal: bool,
) -> Remediation {
    let name = statement_name(e.policies, at);
    if not_principal {
        let mut patch = raw_statement(e, at).unwrap_or(Value::Null);
        if let Some(obj) = patch.as_object_mut() {
            obj.remove("NotPrincipal");
            obj.insert("Principal".into(), json!("*"));
            obj.insert(
                "Condition".into(),
                json!({"ArnNotEquals": {"aws:PrincipalArn": e.request.principal.principal_arn().unwrap_or_default()}}),
            );
        }
        return Remediation::policy(
            format!("replace `NotPrincipal` in {name} by `\"Principal\": \"*\"` with an `ArnNotEquals` condition on `aws:PrincipalArn` (AWS's recommendation)"),
            patch.is_object().then_some(patch),
        );
    }
    let caller_account = e.request.principal.account().unwrap_or_default().to_owned();
    let mut patch = raw_statement(e, at);
    let exempted = patch.as_mut().and_then(Value::as_object_mut).map(|obj| {
        let condition = obj.entry("Condition").or_insert_with(|| json!({}));
        if let Some(c) = condition.as_object_mut() {
            c.insert("ArnNotEquals".into(), json!({"aws:PrincipalArn": e.request.principal.principal_arn().unwrap_or_default()}));
        }
    });
    let text = if statement.conditions.is_empty() {
        format!("narrow or remove {name}, or exempt the caller (shown: an `ArnNotEquals` exemption for its ARN)")
    } else {
        format!("if the request cannot change, narrow {name} or exempt the caller (shown: an `ArnNotEquals` exemption for its ARN; account `{caller_account}`)")
    };
    Remediation::policy(text, exempted.and(patch))
}

/// The request change that satisfies (Allow) or avoids (Deny) a condition, where one exists.
fn request_fix(e: &Evaluated<'_>, condition: &Condition, effect: Effect) -> Option<Remediation> {
    let request = &e.snapshot.request;
    let negated = condition.operator.kind.negated();
    // The value the policy wants: for Allow with a positive operator, or Deny with a negated one, any listed
    // value; a literal one if there is one.
    let wants_listed = (effect == Effect::Allow) != negated;
    let wanted = condition
        .written
        .iter()
        .find(|v| !v.contains('*') && !v.contains('?') && !v.contains("${"))
        .cloned();
    let key = condition.key_lower.as_str();
    let null_check = condition.operator.kind == iam_policy::condition::OpKind::Null;
    let cmd = |change: &dyn Fn(&mut super::snapshot::Upload)| Some(upload_command(request, change));
    match key {
        "s3:x-amz-storage-class" if wants_listed => {
            let v = wanted?;
            Some(Remediation::request(
                format!("upload with storage class `{v}`"),
                cmd(&|u| u.storage_class = Some(v.clone())),
            ))
        }
        "s3:x-amz-acl" if wants_listed => {
            let v = wanted?;
            Some(Remediation::request(
                format!("upload with the canned ACL `{v}`"),
                cmd(&|u| u.acl = Some(v.clone())),
            ))
        }
        "s3:x-amz-grant-full-control" if wants_listed => {
            let v = wanted?;
            Some(Remediation::request(
                format!("grant full control to `{v}` on upload"),
                cmd(&|u| u.grant_full_control = Some(v.clone())),
            ))
        }
        "s3:x-amz-server-side-encryption" if wants_listed || null_check => {
            let v = wanted
                .filter(|_| !null_check)
                .unwrap_or_else(|| "aws:kms".to_owned());
            Some(Remediation::request(
                format!("request server-side encryption `{v}` in the upload (bucket default encryption does not set the header)"),
                cmd(&|u| u.server_side_encryption = Some(v.clone())),
            ))
        }
        "s3:x-amz-server-side-encryption-aws-kms-key-id" if wants_listed => {
            let v = wanted?;
            Some(Remediation::request(
                format!("encrypt with SSE-KMS and the key `{v}` (its full ARN)"),
                cmd(&|u| {
                    u.server_side_encryption = Some("aws:kms".into());
                    u.sse_kms_key_id = Some(v.clone());
                }),
            ))
        }
        "aws:sourceip" => {
            let ranges = condition.written.join(", ");
            let via = request.network.vpc_endpoint_id.as_ref().map_or_else(String::new, |id| {
                format!(" (through VPC endpoint `{id}` the request has no `aws:SourceIp` at all: S3 only sees public addresses)")
            });
            Some(Remediation::request(
                if wants_listed {
                    format!("upload from a public address in {ranges}{via}")
                } else {
                    format!("upload from an address outside {ranges}{via}")
                },
                None,
            ))
        }
        "aws:sourcevpce" if wants_listed => {
            let v = wanted?;
            let region = e
                .snapshot
                .bucket
                .as_ref()
                .map_or("REGION", |b| b.region.as_str());
            Some(Remediation::request(
                format!("send the upload through VPC endpoint `{v}`"),
                Some(format!(
                    "{} --endpoint-url https://bucket.{v}.s3.{region}.vpce.amazonaws.com",
                    upload_command(request, |_| {})
                )),
            ))
        }
        "aws:securetransport" => Some(Remediation::request(
            "use HTTPS (the default of the AWS CLI and SDKs)",
            None,
        )),
        "s3:tlsversion" => Some(Remediation::request(
            format!("negotiate TLS {} or newer", condition.written.join(", ")),
            None,
        )),
        k if k.starts_with("s3:requestobjecttag/") && wants_listed => {
            let tag = condition.key.split_once('/').map(|(_, t)| t.to_owned())?;
            let v = wanted?;
            Some(Remediation::request(
                format!("tag the object `{tag}={v}` on upload"),
                cmd(&|u| {
                    u.tags.insert(tag.clone(), v.clone());
                }),
            ))
        }
        _ => None,
    }
}

/// A near miss: an Allow statement for this action that did not apply.
struct NearMiss<'s> {
    at: StatementRef,
    mismatch: Mismatch,
    statement: &'s Statement,
}

fn near_misses<'s>(e: &'s Evaluated<'_>, layer: Layer) -> Vec<NearMiss<'s>> {
    e.evaluation
        .layer(layer)
        .statements
        .iter()
        .filter(|s: &&StatementResult| s.effect == Some(Effect::Allow))
        .filter_map(|s| match s.outcome {
            StatementOutcome::DoesNotApply(mismatch) => Some(NearMiss {
                at: s.at,
                mismatch,
                statement: e.policies.statement(&s.at)?,
            }),
            _ => None,
        })
        .collect()
}

fn near_miss_message(e: &Evaluated<'_>, miss: &NearMiss<'_>) -> String {
    let detail = explain(
        e.policies,
        e.request,
        &miss.at,
        Some(Effect::Allow),
        miss.mismatch,
    )
    .map(|d| d.message);
    format!(
        "{} would allow {}, but {}",
        statement_name(e.policies, &miss.at),
        e.purpose.action(),
        detail.unwrap_or_else(|| "one of its elements does not match".to_owned())
    )
}

/// The statement patched so that it would apply: the request's value added to the failing condition, or the
/// object ARN added to its resources.
fn patched_near_miss(e: &Evaluated<'_>, miss: &NearMiss<'_>) -> Option<Value> {
    let mut raw = raw_statement(e, &miss.at)?;
    match miss.mismatch {
        Mismatch::Condition { clause } => {
            let condition = miss.statement.conditions.get(clause as usize)?;
            let actual = e
                .request
                .context
                .get(&condition.key_lower)?
                .values()
                .first()?
                .clone();
            let values = raw
                .get_mut("Condition")?
                .get_mut(&condition.operator.written)?
                .get_mut(&condition.key)?;
            let mut list = match values.take() {
                Value::Array(items) => items,
                other => vec![other],
            };
            let addition = if condition.key_lower == "aws:sourceip" && !actual.contains('/') {
                format!("{actual}/{}", if actual.contains(':') { 128 } else { 32 })
            } else {
                actual
            };
            list.push(Value::String(addition));
            *values = Value::Array(list);
            Some(raw)
        }
        Mismatch::Resource => {
            let bucket_objects = format!("arn:aws:s3:::{}/*", e.snapshot.request.bucket);
            let target = if e.purpose.is_kms() {
                e.request.resource.clone()
            } else {
                bucket_objects
            };
            let resources = raw.get_mut("Resource")?;
            let mut list = match resources.take() {
                Value::Array(items) => items,
                other => vec![other],
            };
            list.push(Value::String(target));
            *resources = Value::Array(list);
            Some(raw)
        }
        Mismatch::Principal => {
            let principal = raw.get_mut("Principal")?;
            *principal = json!({"AWS": e.snapshot.request.principal_arn});
            Some(raw)
        }
    }
}

/// A cause for a near miss, with its id chosen by layer and condition key.
fn near_miss_cause(e: &Evaluated<'_>, miss: &NearMiss<'_>, id: CauseId) -> Cause {
    let mut fixes = Vec::new();
    if let Mismatch::Condition { clause } = miss.mismatch {
        if let Some(condition) = miss.statement.conditions.get(clause as usize) {
            fixes.extend(request_fix(e, condition, Effect::Allow));
        }
    }
    let patch = patched_near_miss(e, miss);
    let what = match miss.mismatch {
        Mismatch::Condition { .. } => "relax its condition to admit the request",
        Mismatch::Resource => "extend its `Resource`",
        Mismatch::Principal => {
            "name the caller's role ARN as principal (or use `aws:PrincipalArn`)"
        }
    };
    fixes.push(Remediation::policy(
        format!("in {}, {what}", statement_name(e.policies, &miss.at)),
        patch,
    ));
    Cause::error(
        id,
        layer_of(e, miss.at.layer),
        e.purpose.action(),
        near_miss_message(e, miss),
    )
    .at(Some(pointer(e.policies, &miss.at)))
    .fix(fixes)
}

/// A statement to add to grant this request, as the catalog suggests.
fn grant_statement(e: &Evaluated<'_>, layer: Layer) -> Value {
    let action = e.purpose.action();
    let bucket = &e.snapshot.request.bucket;
    let principal_arn = e.snapshot.request.principal_arn.clone();
    let kms = e.purpose.is_kms();
    match (layer, kms) {
        (Layer::ResourcePolicy, false) => {
            let mut actions = vec![action.to_owned()];
            if action == "s3:PutObject" {
                actions.extend([
                    "s3:AbortMultipartUpload".to_owned(),
                    "s3:ListMultipartUploadParts".to_owned(),
                ]);
            }
            json!({"Sid": "AllowUploader", "Effect": "Allow", "Principal": {"AWS": principal_arn},
                   "Action": actions, "Resource": format!("arn:aws:s3:::{bucket}/*")})
        }
        (Layer::ResourcePolicy, true) => {
            let region = e
                .snapshot
                .bucket
                .as_ref()
                .map_or("REGION", |b| b.region.as_str());
            json!({"Sid": "AllowUploaderUseOfKeyViaS3", "Effect": "Allow", "Principal": {"AWS": principal_arn},
                   "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
                   "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{region}.amazonaws.com")}}})
        }
        (Layer::VpcEndpointPolicy, _) => {
            let mut actions = vec![action.to_owned()];
            if action == "s3:PutObject" {
                actions.push("s3:AbortMultipartUpload".to_owned());
            }
            json!({"Effect": "Allow", "Principal": "*", "Action": actions, "Resource": format!("arn:aws:s3:::{bucket}/*")})
        }
        (_, true) => {
            json!({"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": e.request.resource})
        }
        (_, false) => {
            json!({"Effect": "Allow", "Action": [action], "Resource": format!("arn:aws:s3:::{bucket}/*")})
        }
    }
}

/// No identity statement allows: near misses by resource or condition, else the plain gap.
fn identity_gap(e: &Evaluated<'_>) -> Vec<Cause> {
    let kms = e.purpose.is_kms();
    let misses = near_misses(e, Layer::Identity);
    let mut causes: Vec<Cause> = misses
        .iter()
        .filter(|m| m.mismatch != Mismatch::Principal)
        .map(|miss| {
            let id = match (miss.mismatch, kms) {
                (Mismatch::Resource, true) => CauseId::KmsIdentityNoAllow,
                (Mismatch::Resource, false) => CauseId::IdentityWrongResourceArn,
                (Mismatch::Condition { clause }, _) => {
                    let key = miss
                        .statement
                        .conditions
                        .get(clause as usize)
                        .map(|c| c.key_lower.as_str())
                        .unwrap_or("");
                    let specific = if kms {
                        kms_condition_id(key)
                    } else {
                        general_condition_id(key)
                    };
                    specific.unwrap_or(if kms {
                        CauseId::KmsIdentityNoAllow
                    } else {
                        CauseId::IdentityConditionUnmet
                    })
                }
                (Mismatch::Principal, _) => CauseId::IdentityNoAllow,
            };
            near_miss_cause(e, miss, id)
        })
        .collect();
    if causes.is_empty() {
        let action = e.purpose.action();
        let id = match e.purpose {
            _ if kms => CauseId::KmsIdentityNoAllow,
            Purpose::Acl => CauseId::IdentityNoPutObjectAcl,
            Purpose::Tagging => CauseId::IdentityNoPutObjectTagging,
            Purpose::Retention | Purpose::LegalHold => CauseId::IdentityNoObjectLockPermission,
            _ => CauseId::IdentityNoAllow,
        };
        let principal = &e.snapshot.request.principal_arn;
        let why = if e.same_account {
            "and the resource policy does not grant it either"
        } else {
            "and a request from another account needs an identity-based Allow as well as a resource-policy Allow"
        };
        let mut fixes = Vec::new();
        if e.purpose == Purpose::Acl {
            fixes.push(Remediation::request(
                "send no ACL header",
                Some(upload_command(
                    &e.snapshot.request,
                    super::snapshot::Upload::clear_acl,
                )),
            ));
        }
        if e.purpose == Purpose::Tagging {
            fixes.push(Remediation::request(
                "upload without tags and tag later",
                Some(upload_command(&e.snapshot.request, |u| u.tags.clear())),
            ));
        }
        fixes.push(Remediation::policy(
            format!("attach an identity-based policy to `{principal}` that allows {action}"),
            Some(grant_statement(e, Layer::Identity)),
        ));
        let broken: Vec<String> = e
            .evaluation
            .layer(Layer::Identity)
            .statements
            .iter()
            .filter(|r| {
                r.outcome == StatementOutcome::Indeterminate && r.effect == Some(Effect::Allow)
            })
            .map(|r| statement_name(e.policies, &r.at))
            .collect();
        let mut message = format!(
            "no identity-based policy of `{principal}` allows {action} on `{}` {why}",
            e.request.resource
        );
        if !broken.is_empty() {
            message.push_str(&format!(
                "; statement {} has errors and might allow it once fixed",
                broken.join(", ")
            ));
        }
        let mut cause = Cause::error(id, SnapshotLayer::Identity, action, message).fix(fixes);
        cause.definite = broken.is_empty();
        causes.push(cause);
    }
    // Same account: a bucket policy that names only the account delegates to IAM and grants nothing.
    if e.same_account && !kms {
        let account_only = e
            .evaluation
            .layer(Layer::ResourcePolicy)
            .statements
            .iter()
            .any(|s| {
                s.allows()
                    && matches!(
                        s.outcome,
                        StatementOutcome::Applies(iam_policy::eval::PrincipalMatch::Account)
                    )
            });
        if account_only {
            causes.push(
                Cause::error(
                    CauseId::BucketPolicyAccountPrincipalSameAccount,
                    SnapshotLayer::BucketPolicy,
                    e.purpose.action(),
                    "the bucket policy grants the account, which only delegates to IAM: in the same account that grants nothing without an identity-based Allow".to_owned(),
                )
                .fix([Remediation::policy(
                    "name the role ARN in the bucket policy, or grant the role in IAM",
                    Some(grant_statement(e, Layer::ResourcePolicy)),
                )]),
            );
        }
    }
    causes
}

/// Whether a principal mismatch is worth reporting: the statement names something close to the caller.
fn close_principal(statement: &Statement, caller: &Principal) -> bool {
    let Some(element) = &statement.principal else {
        return false;
    };
    let (account, role) = match caller {
        Principal::RoleSession { account, role, .. } => (account.as_str(), Some(role.as_str())),
        Principal::User { account, name, .. } => (account.as_str(), Some(name.as_str())),
        _ => return false,
    };
    element.entries.iter().any(|entry| match entry {
        PrincipalEntry::UniqueId(_) => true,
        PrincipalEntry::Role {
            account: a, name, ..
        } => a == account || Some(name.as_str()) == role,
        PrincipalEntry::RoleSession {
            account: a,
            role: r,
            ..
        } => a == account || Some(r.as_str()) == role,
        PrincipalEntry::User { arn } => arn.contains(account),
        _ => false,
    })
}

/// Near misses in the resource policy (bucket or key): condition, resource, close principal.
fn resource_near_misses(e: &Evaluated<'_>, only_specific: bool) -> Vec<Cause> {
    let kms = e.purpose.is_kms();
    near_misses(e, Layer::ResourcePolicy)
        .iter()
        .filter_map(|miss| {
            let id = match miss.mismatch {
                Mismatch::Condition { clause } => {
                    let key = miss
                        .statement
                        .conditions
                        .get(clause as usize)
                        .map(|c| c.key_lower.as_str())
                        .unwrap_or("");
                    if kms {
                        kms_condition_id(key)
                            .or((!only_specific).then_some(CauseId::KmsKeyPolicyNoAllow))?
                    } else {
                        bucket_condition_id(key)
                            .or((!only_specific).then_some(CauseId::BucketPolicyExplicitDeny))?
                    }
                }
                Mismatch::Resource if kms => return None,
                Mismatch::Resource => CauseId::BucketPolicyResourceMismatch,
                Mismatch::Principal => {
                    if !close_principal(miss.statement, &e.request.principal) {
                        return None;
                    }
                    let stale = miss.statement.principal.as_ref().is_some_and(|p| {
                        p.entries
                            .iter()
                            .any(|en| matches!(en, PrincipalEntry::UniqueId(_)))
                    });
                    match (stale, kms) {
                        (true, _) => CauseId::BucketPolicyPrincipalStaleUniqueId,
                        (false, true) => return None,
                        (false, false) => CauseId::BucketPolicyPrincipalMismatch,
                    }
                }
            };
            Some(near_miss_cause(e, miss, id))
        })
        .collect()
}

/// The resource policy lacks an Allow (cross-account, anonymous, key policies).
fn resource_gap(e: &Evaluated<'_>) -> Vec<Cause> {
    let kms = e.purpose.is_kms();
    let mut causes = resource_near_misses(e, false);
    if causes.is_empty() {
        let action = e.purpose.action();
        let (id, message) = match (kms, e.same_account) {
            (true, true) => (
                CauseId::KmsKeyPolicyNoAllow,
                format!(
                    "the key policy of `{}` neither allows `{}` {action} nor delegates to IAM with the account principal (without it, IAM policies for the key are ineffective)",
                    e.request.resource, e.snapshot.request.principal_arn
                ),
            ),
            (true, false) => (
                CauseId::KmsCrossAccountKeyPolicyMissing,
                format!(
                    "the key `{}` belongs to another account and its key policy does not allow account `{}` or the role {action}",
                    e.request.resource,
                    e.request.principal.account().unwrap_or_default()
                ),
            ),
            (false, _) if e.purpose == Purpose::Acl => (
                CauseId::IdentityNoPutObjectAcl,
                format!("the bucket policy does not allow {action} to `{}`, which a cross-account upload with an ACL needs", e.snapshot.request.principal_arn),
            ),
            (false, _) => (
                CauseId::BucketPolicyNoAllowCrossAccount,
                format!(
                    "the caller is in account `{}` and the bucket in `{}`: the bucket policy must allow {action} too, and no statement does",
                    e.request.principal.account().unwrap_or_default(),
                    e.request.resource_account.as_deref().unwrap_or("?")
                ),
            ),
        };
        let target = if kms { "key policy" } else { "bucket policy" };
        causes.push(Cause::error(id, layer_of(e, Layer::ResourcePolicy), action, message).fix([Remediation::policy(
            format!("add a statement for the caller to the {target} (in the resource owner's account)"),
            Some(grant_statement(e, Layer::ResourcePolicy)),
        )]));
    }
    causes
}

/// A permissions boundary or session policy lacks an Allow.
fn bounded(e: &Evaluated<'_>, layer: Layer) -> Vec<Cause> {
    let kms = e.purpose.is_kms();
    let action = e.purpose.action();
    let (id, name) = match (layer, kms) {
        (_, true) => (
            CauseId::KmsBoundaryOrSessionNoKms,
            if layer == Layer::PermissionBoundary {
                "permissions boundary"
            } else {
                "session policy"
            },
        ),
        (Layer::PermissionBoundary, false) => {
            (CauseId::PermissionBoundaryNoAllow, "permissions boundary")
        }
        _ => (CauseId::SessionPolicyNoAllow, "session policy"),
    };
    let mut causes = vec![Cause::error(
        id,
        layer_of(e, layer),
        action,
        format!(
            "the {name} does not allow {action} on `{}`",
            e.request.resource
        ),
    )
    .fix([Remediation::policy(
        format!("add {action} to the {name}"),
        Some(grant_statement(e, layer)),
    )])];
    let identity_allows =
        e.evaluation.layer(Layer::Identity).outcome == iam_policy::LayerOutcome::Allowed;
    let role_grant = e
        .evaluation
        .layer(Layer::ResourcePolicy)
        .statements
        .iter()
        .any(|s| s.allows());
    if e.same_account && !identity_allows && role_grant && !kms {
        causes.push(
            Cause::error(
                CauseId::SameAccountRoleArnGrantBounded,
                SnapshotLayer::BucketPolicy,
                action,
                format!("the bucket policy grants the role ARN, and such grants stay limited by the {name}, which does not allow {action}"),
            )
            .fix([Remediation::policy(
                format!("allow {action} in the {name}, or grant with `\"Principal\": \"*\"` and an `aws:PrincipalArn` condition (not limited by implicit denies)"),
                None,
            )]),
        );
    }
    causes
}

/// An SCP or RCP level without an Allow.
fn org_no_allow(e: &Evaluated<'_>, layer: Layer) -> Cause {
    let result = e.evaluation.layer(layer);
    let level = result
        .levels
        .iter()
        .position(|o| *o != iam_policy::LayerOutcome::Allowed)
        .unwrap_or(0);
    let action = e.purpose.action();
    let (id, what) = if layer == Layer::Scp {
        (CauseId::ScpNoAllow, "service control policies")
    } else {
        (CauseId::RcpNoAllow, "resource control policies")
    };
    Cause::error(
        id,
        layer_of(e, layer),
        action,
        format!("no {what} at level {level} (0 = organization root) of the path allow {action}; every level must"),
    )
    .fix([Remediation::policy(
        format!("attach an Allow for {action} (or `FullAWSAccess`) at level {level}"),
        Some(json!({"Effect": "Allow", "Action": [action], "Resource": "*"})),
    )])
}

/// The VPC endpoint policy lacks an Allow.
fn vpce_no_allow(e: &Evaluated<'_>) -> Cause {
    let action = e.purpose.action();
    let endpoint = e
        .snapshot
        .vpc_endpoint
        .as_ref()
        .map_or("the VPC endpoint", |v| v.id.as_str())
        .to_owned();
    let misses = near_misses(e, Layer::VpcEndpointPolicy);
    let detail = misses
        .first()
        .map(|m| format!("; closest: {}", near_miss_message(e, m)))
        .unwrap_or_default();
    Cause::error(
        CauseId::VpcePolicyNoAllow,
        SnapshotLayer::VpcEndpointPolicy,
        action,
        format!("the policy of VPC endpoint `{endpoint}` does not allow {action} on `{}`{detail}", e.request.resource),
    )
    .fix([Remediation {
        command: Some(format!("aws ec2 modify-vpc-endpoint --vpc-endpoint-id {endpoint} --policy-document file://endpoint-policy.json")),
        ..Remediation::policy(
            format!("add a statement allowing {action} on the bucket to the endpoint policy"),
            Some(grant_statement(e, Layer::VpcEndpointPolicy)),
        )
    }])
}
