//! The policy and request changes a cause proposes: the statement patched with an exemption or the
//! condition value, the grant statement to add, the upload command that meets or avoids a condition.

use super::super::headers::{self, Header, HeaderKind};
use super::super::remediation::{upload_command, Edit, PolicyTarget, Remediation};
use super::super::snapshot::Snapshot;
use super::exemption::{exempt, Checked};
use super::near_miss::NearMiss;
use super::{statement_name, Evaluated};
use iam_policy::model::{Condition, Effect, Statement};
use iam_policy::outcome::Mismatch;
use iam_policy::{Layer, Request, StatementRef};
use serde_json::{json, Value};

/// The raw document of a policy id in the snapshot (decoded when it is a string), for computing patches.
pub fn find_document(s: &Snapshot, id: &str) -> Option<Value> {
    document(s, id).map(std::borrow::Cow::into_owned)
}

/// The document of a policy id, borrowed when the snapshot holds it as JSON (parsed only when it is text).
fn document<'s>(s: &'s Snapshot, id: &str) -> Option<std::borrow::Cow<'s, Value>> {
    iam_policy::parse::document_value(super::super::documents::document(s, id)?, "").ok()
}

/// The raw JSON of a statement, for patches.
pub(super) fn raw_statement(e: &Evaluated<'_>, at: &StatementRef) -> Option<Value> {
    // Only the statement is copied: copying its whole document for each of many statements was quadratic.
    let id = &e.policies.policy(at)?.id;
    let doc = document(e.snapshot, id)?;
    match doc.get("Statement")? {
        Value::Array(list) => list.get(at.statement as usize).cloned(),
        single @ Value::Object(_) if at.statement == 0 => Some(single.clone()),
        _ => None,
    }
}

/// "`StringNotEquals` on `s3:x-amz-acl` (bucket-owner-full-control) holds: the request has public-read".
pub(super) fn describe_held(condition: &Condition, request: &Request) -> String {
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

/// The policy change for a deny statement: the caller exempted for the checked action and resource only
/// (see `exemption`); with `NotPrincipal`, first rewritten as AWS recommends (`"Principal": "*"` with its
/// principals in an `ArnNotEquals` condition on `aws:PrincipalArn`).
pub(super) fn deny_policy_fix(
    e: &Evaluated<'_>,
    at: &StatementRef,
    statement: &Statement,
    not_principal: bool,
) -> Remediation {
    let name = statement_name(e.policies, at);
    let caller = e.request.principal.principal_arn().unwrap_or_default();
    let resource = checked_resource(e);
    let checked = Checked {
        principal_arn: &caller,
        action: &e.request.action,
        resource: &resource,
    };
    let raw = raw_statement(e, at);
    let (raw, rewritten) = match raw {
        Some(raw) if not_principal => match without_not_principal(&raw, &caller) {
            Some((equivalent, lists_caller)) if lists_caller => {
                // Its author excluded the caller: AWS also matches the session, so it never was. Written as
                // AWS recommends, the statement excludes what it lists, and nothing more.
                let edit = replace_edit(e, at, std::slice::from_ref(&equivalent));
                return Remediation::policy(
                    format!("replace `NotPrincipal` in {name} by `\"Principal\": \"*\"` with an `ArnNotEquals` condition on `aws:PrincipalArn` listing its principals (AWS's recommendation): it names `{caller}`, but AWS matches `NotPrincipal` against the role session too, so it never excluded it"),
                    Some(equivalent),
                )
                .with_edit(edit);
            }
            Some((equivalent, _)) => (Some(equivalent), true),
            None => {
                return Remediation::policy(
                    format!("replace `NotPrincipal` in {name} by `\"Principal\": \"*\"` with an `ArnNotEquals` condition on `aws:PrincipalArn` listing its principals and `{caller}` (AWS's recommendation; its non-AWS principals need their own condition keys)"),
                    None,
                );
            }
        },
        other => (other, false),
    };
    let Some(exemption) = raw.as_ref().and_then(|r| exempt(r, &checked)) else {
        return Remediation::policy(
            format!("narrow or remove {name}, or exempt the caller with an `ArnNotEquals` condition on `aws:PrincipalArn`"),
            None,
        );
    };
    if !exemption.beyond.is_empty() {
        return Remediation::policy(
            format!(
                "narrow {name} so that it no longer covers `{}` on `{resource}`: exempting the caller would also lift it for {}, which IAM cannot subtract from the statement",
                e.request.action,
                exemption.beyond.join(" and ")
            ),
            None,
        );
    }
    let mut text = if rewritten {
        format!("replace `NotPrincipal` in {name} by `\"Principal\": \"*\"` with an `ArnNotEquals` condition on `aws:PrincipalArn` (AWS's recommendation), exempting the caller")
    } else if statement.conditions.is_empty() {
        format!("narrow or remove {name}, or exempt the caller")
    } else {
        format!("if the request cannot change, narrow {name} or exempt the caller")
    };
    text.push_str(&format!(
        " for `{}` on `{resource}` only (shown: an `ArnNotEquals` exemption for its ARN",
        e.request.action
    ));
    if exemption.statements.len() > 1 {
        text.push_str(", and statements that keep denying it everything else the statement denied");
    }
    text.push(')');
    let edit = replace_edit(e, at, &exemption.statements);
    let patch = match <[Value; 1]>::try_from(exemption.statements) {
        Ok([single]) => single,
        Err(several) => Value::Array(several),
    };
    Remediation::policy(text, Some(patch)).with_edit(edit)
}

/// The resources the check covers: the bucket's objects for S3, the key for KMS.
fn checked_resource(e: &Evaluated<'_>) -> String {
    if e.purpose.is_kms() {
        e.request.resource.clone()
    } else {
        e.objects_arn()
    }
}

/// A `NotPrincipal` Deny as the `"Principal": "*"` statement with an `ArnNotEquals` condition on
/// `aws:PrincipalArn` listing its principals (account ids as their root ARNs), and whether it lists `caller`;
/// `None` when it names principals other than AWS ones (services, federated, canonical users), which that
/// key cannot express.
fn without_not_principal(raw: &Value, caller: &str) -> Option<(Value, bool)> {
    let mut statement = raw.as_object()?.clone();
    let listed = match statement.remove("NotPrincipal")? {
        Value::Object(map) if map.keys().all(|k| k == "AWS") => map.get("AWS").cloned()?,
        _ => return None,
    };
    let arns: Vec<String> = match listed {
        Value::String(one) => vec![one],
        Value::Array(many) => many
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()?,
        _ => return None,
    }
    .into_iter()
    .map(|p| {
        if iam_policy::arn::is_account_id(&p) {
            let partition = caller.split(':').nth(1).unwrap_or("aws");
            format!("arn:{partition}:iam::{p}:root")
        } else {
            p
        }
    })
    .collect();
    statement.insert("Principal".into(), json!("*"));
    let mut equivalent = Value::Object(statement);
    for arn in &arns {
        super::exemption::add_exemption(&mut equivalent, arn);
    }
    let lists_caller = arns.iter().any(|a| a.eq_ignore_ascii_case(caller));
    Some((equivalent, lists_caller))
}

/// The edit that replaces the statement at `at` by `statements` (none for AWS managed policies, which cannot
/// be changed).
pub(super) fn replace_edit(
    e: &Evaluated<'_>,
    at: &StatementRef,
    statements: &[Value],
) -> Option<Edit> {
    let policy = e.policies.policy(at)?;
    if statements.is_empty()
        || !statements.iter().all(Value::is_object)
        || policy.id.starts_with("arn:aws:iam::aws:")
    {
        return None;
    }
    Some(Edit::ReplaceStatement {
        policy_id: policy.id.to_string(),
        index: at.statement,
        statements: statements.to_vec(),
    })
}

/// The edit that adds a grant statement to the document of `layer`.
pub(super) fn add_edit(e: &Evaluated<'_>, layer: Layer, statement: &Value) -> Option<Edit> {
    let target = match (layer, e.side) {
        (Layer::Identity, _) => PolicyTarget::Identity,
        (Layer::PermissionBoundary, _) => PolicyTarget::PermissionsBoundary,
        (Layer::ResourcePolicy, super::Side::AccessPoint) => PolicyTarget::AccessPoint,
        (Layer::ResourcePolicy, super::Side::Bucket | super::Side::BucketBehindAccessPoint) => {
            PolicyTarget::Bucket
        }
        (Layer::ResourcePolicy, super::Side::Key) => PolicyTarget::Key(e.request.resource.clone()),
        (Layer::VpcEndpointPolicy, _) => PolicyTarget::Endpoint,
        (Layer::SessionPolicy, _) => PolicyTarget::Session,
        _ => return None,
    };
    Some(Edit::AddStatement {
        target,
        statement: statement.clone(),
    })
}

/// Sending the upload through VPC endpoint `id`: by routing for a gateway endpoint, through one of the
/// endpoint's DNS names for an interface endpoint.
fn vpce_request_fix(e: &Evaluated<'_>, id: &str) -> Remediation {
    let request = &e.snapshot.request;
    let known = e.snapshot.vpc_endpoint.as_ref().filter(|ep| ep.id == id);
    match known.map(|ep| ep.kind.to_ascii_lowercase()) {
        Some(kind) if kind == "interface" => {
            let dns = known
                .and_then(|ep| ep.dns_names.iter().find(|d| !d.starts_with('*')).or(ep.dns_names.first()))
                .map_or_else(|| "<ENDPOINT-DNS-NAME>".to_owned(), |d| d.trim_start_matches("*.").to_owned());
            Remediation::request(
                format!("send the upload through interface endpoint `{id}` (its DNS name, from `aws ec2 describe-vpc-endpoints --vpc-endpoint-ids {id}`)"),
                Some(format!(
                    "{} --endpoint-url https://bucket.{dns}",
                    upload_command(request, |_| {})
                )),
            )
        }
        Some(_) => Remediation::request(
            format!("upload from inside the VPC of gateway endpoint `{id}`, whose route tables send S3 traffic through it (a gateway endpoint has no endpoint URL: the default S3 endpoint is used)"),
            Some(upload_command(request, |_| {})),
        ),
        None => Remediation::request(
            format!("send the upload through VPC endpoint `{id}`: from inside its VPC if it is a gateway endpoint, or with `--endpoint-url https://bucket.<DNS-NAME-OF-{id}>` if it is an interface endpoint"),
            None,
        ),
    }
}

/// A header whose wanted value is simply sent (storage class, canned ACL, grants, Object Lock), with the
/// words of its fix. Encryption headers have fixes of their own (they imply one another).
fn header_value_fix(key: &str) -> Option<(&'static Header, &'static str)> {
    let header = headers::by_key(key)?;
    let wording = match header.kind {
        HeaderKind::StorageClass => "upload with storage class",
        HeaderKind::CannedAcl => "upload with the canned ACL",
        HeaderKind::AclGrant => "upload with the grant header",
        HeaderKind::ObjectLock => "upload with the Object Lock header",
        HeaderKind::Encryption | HeaderKind::KmsKey | HeaderKind::CustomerKey => return None,
    };
    Some((header, wording))
}

/// The request change that satisfies (Allow) or avoids (Deny) a condition, where one exists.
pub(super) fn request_fix(
    e: &Evaluated<'_>,
    condition: &Condition,
    effect: Effect,
) -> Option<Remediation> {
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
    let null_check = condition.operator.kind == iam_policy::operator::OpKind::Null;
    let upload = |text: String, change: &dyn Fn(&mut super::super::snapshot::Upload)| {
        Some(Remediation::upload(text, request, change))
    };
    match key {
        "s3:x-amz-server-side-encryption" if wants_listed || null_check => {
            let v = wanted
                .filter(|_| !null_check)
                .unwrap_or_else(|| "aws:kms".to_owned());
            upload(
                format!("request server-side encryption `{v}` in the upload (bucket default encryption does not set the header)"),
                &|u| u.server_side_encryption = Some(v.clone()),
            )
        }
        "s3:if-none-match" if wants_listed || null_check => upload(
            "write conditionally: send `If-None-Match: *` (`--if-none-match '*'`; a multipart upload sends it on `complete-multipart-upload`)".to_owned(),
            &|u| u.if_none_match = Some("*".to_owned()),
        ),
        "s3:x-amz-server-side-encryption-aws-kms-key-id" if wants_listed => {
            let v = wanted?;
            upload(
                format!("encrypt with SSE-KMS and the key `{v}` (its full ARN)"),
                &|u| {
                    u.server_side_encryption = Some("aws:kms".into());
                    u.sse_kms_key_id = Some(v.clone());
                },
            )
        }
        k if wants_listed && header_value_fix(k).is_some() => {
            let (header, wording) = header_value_fix(k)?;
            let v = wanted?;
            upload(format!("{wording} `{v}`"), &|u| {
                (header.set)(u, Some(v.clone()))
            })
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
            let mut network = request.network.clone();
            network.vpc_endpoint_id = Some(v.clone());
            network.source_ip = None;
            Some(vpce_request_fix(e, &v).with_edit(Some(Edit::Network(network))))
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
            upload(format!("tag the object `{tag}={v}` on upload"), &|u| {
                u.tags.insert(tag.clone(), v.clone());
            })
        }
        _ => None,
    }
}

/// The statement patched so that it would apply: the request's value added to the failing condition, or the
/// object ARN added to its resources.
pub(super) fn patched_near_miss(e: &Evaluated<'_>, miss: &NearMiss<'_>) -> Option<Value> {
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
            let bucket_objects = e.objects_arn();
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

/// The remediation that adds the grant statement of `layer`, with its edit.
pub(super) fn grant(e: &Evaluated<'_>, layer: Layer, text: impl Into<String>) -> Remediation {
    let statement = grant_statement(e, layer);
    let edit = add_edit(e, layer, &statement);
    Remediation::policy(text, Some(statement)).with_edit(edit)
}

/// A statement to add to grant this request, as the catalog suggests: limited to the checked principal (or,
/// in the principal's own policies, to it by attachment), its action and the bucket's objects (or the key).
pub(super) fn grant_statement(e: &Evaluated<'_>, layer: Layer) -> Value {
    let action = e.purpose.action();
    let objects = e.objects_arn();
    let dns = e.snapshot.request.dns_suffix();
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
                   "Action": actions, "Resource": objects})
        }
        (Layer::ResourcePolicy, true) => {
            let region = e
                .snapshot
                .bucket
                .as_ref()
                .map_or("<REGION>", |b| b.region.as_str());
            json!({"Sid": "AllowUploaderUseOfKeyViaS3", "Effect": "Allow", "Principal": {"AWS": principal_arn},
                   "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
                   "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{region}.{dns}")}}})
        }
        (Layer::VpcEndpointPolicy, _) => {
            let mut actions = vec![action.to_owned()];
            if action == "s3:PutObject" {
                actions.push("s3:AbortMultipartUpload".to_owned());
            }
            json!({"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": actions, "Resource": objects})
        }
        (_, true) => {
            json!({"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": e.request.resource})
        }
        (_, false) => {
            json!({"Effect": "Allow", "Action": [action], "Resource": objects})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_not_principal;
    use serde_json::json;

    #[test]
    fn not_principal_becomes_an_exemption_that_keeps_conditions_and_every_listed_principal() {
        let statement = json!({"Sid": "OnlyAdmins", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
            "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:role/admin", "444455556666"]},
            "Condition": {"Bool": {"aws:SecureTransport": "true"}}});
        let (equivalent, lists_caller) =
            without_not_principal(&statement, "arn:aws-cn:iam::111122223333:role/uploader")
                .unwrap();
        assert!(!lists_caller);
        assert_eq!(equivalent["Principal"], "*");
        assert!(equivalent.get("NotPrincipal").is_none());
        assert_eq!(
            equivalent["Condition"],
            json!({"Bool": {"aws:SecureTransport": "true"},
                   "ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:role/admin", "arn:aws-cn:iam::444455556666:root"]}})
        );
        let (_, lists_caller) =
            without_not_principal(&statement, "arn:aws:iam::111122223333:role/ADMIN").unwrap();
        assert!(lists_caller, "IAM names are compared without case");
        let service = json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*", "NotPrincipal": {"Service": "logging.s3.amazonaws.com"}});
        assert!(
            without_not_principal(&service, "arn:aws:iam::111122223333:role/uploader").is_none()
        );
    }
}
