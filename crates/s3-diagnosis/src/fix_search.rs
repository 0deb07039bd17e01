//! The whole-check fix: one request, the patched documents and the settings that together make the check
//! `Allowed`, verified by re-diagnosing the snapshot with all of it applied.
//!
//! The search is plain: diagnose, take the first error cause (in the order to fix them) that has a
//! remediation with an `Edit`, preferring a request change over a policy change over a setting, apply that
//! edit to a copy of the snapshot, and diagnose again, until the verdict is `Allowed` or nothing more can
//! be applied. A request change that leads back to a request already tried is a contradiction between two
//! conditions: that cause is then fixed by its policy change instead. Every edit comes from a cause's own
//! remediation, so each is limited to the checked principal, action and resource.

use super::causes::{Cause, CauseId, Severity};
use super::documents::{document, document_mut, BUCKET_POLICY_ID, SESSION_POLICY_ID};
use super::fix::{ConfigFix, Fix, PolicyFix, RequestFix, FIX_POLICY_NAME};
use super::headers::HEADERS;
use super::remediation::{upload_command, ConfigEdit, Edit, PolicyTarget, RemediationKind};
use super::snapshot::{AclGrant, Encryption, NamedPolicy, Network, Snapshot, Upload};
use super::verdict::{Diagnosis, Verdict};
use iam_policy::arn::Arn;
use serde_json::{json, Value};

/// At most this many edits are tried (a check has a handful of causes; each edit removes at least one).
const MAX_EDITS: usize = 24;

/// One edit the search applied, and why.
struct Applied {
    cause: CauseId,
    text: String,
    command: Option<String>,
    edit: Edit,
}

/// Searches the fix of a `Denied` diagnosis; returns it with the snapshot it was verified on.
pub(crate) fn search(
    snapshot: &Snapshot,
    first: &Diagnosis,
    diagnose: impl Fn(&Snapshot) -> Diagnosis,
) -> (Fix, Snapshot) {
    let mut state = snapshot.clone();
    let mut current = first.clone();
    let mut applied: Vec<Applied> = Vec::new();
    // Each request tried, with the cause that asked for it (`None`: the workload's own).
    let mut requests: Vec<((Upload, Network), Option<String>)> = vec![(
        (state.request.upload.clone(), state.request.network.clone()),
        None,
    )];
    let mut conflicts = Vec::new();
    while current.verdict == Verdict::Denied && applied.len() < MAX_EDITS {
        let Some(Chosen {
            cause,
            label,
            remediation,
            edit,
        }) = next_edit(&current, &state, &requests, &applied, &mut conflicts)
        else {
            break;
        };
        if let Some(request) = requested(&state, &edit) {
            requests.push((request, Some(label)));
        }
        apply(&mut state, &edit);
        applied.push(Applied {
            cause,
            text: remediation.0,
            command: remediation.1,
            edit,
        });
        current = diagnose(&state);
    }
    let verified = current.verdict == Verdict::Allowed;
    let fix = Fix {
        verified,
        request: request_fix(snapshot, &state, conflicts),
        policies: policy_fixes(snapshot, &state, &applied),
        config: applied
            .iter()
            .filter(|a| matches!(a.edit, Edit::Config(_)))
            .map(|a| ConfigFix {
                text: a.text.clone(),
                command: a.command.clone(),
            })
            .collect(),
        remaining: if verified {
            Vec::new()
        } else {
            remaining(&current)
        },
    };
    (fix, state)
}

/// The request an edit leads to, if it changes the request.
fn requested(state: &Snapshot, edit: &Edit) -> Option<(Upload, Network)> {
    match edit {
        Edit::Upload(u) => Some(((**u).clone(), state.request.network.clone())),
        Edit::Network(n) => Some((state.request.upload.clone(), n.clone())),
        _ => None,
    }
}

/// The edit chosen next, with the cause it fixes (its id, and how a person finds it) and its words.
struct Chosen {
    cause: CauseId,
    label: String,
    remediation: (String, Option<String>),
    edit: Edit,
}

/// A cause as a person finds it: its statement and id, or its id.
fn cause_label(c: &Cause) -> String {
    c.statement
        .as_ref()
        .map_or_else(|| format!("`{}`", c.id), |s| format!("{s} (`{}`)", c.id))
}

/// The next edit: the first error cause with an applicable remediation, request changes first.
fn next_edit(
    d: &Diagnosis,
    state: &Snapshot,
    requests: &[((Upload, Network), Option<String>)],
    applied: &[Applied],
    conflicts: &mut Vec<String>,
) -> Option<Chosen> {
    let preference = |k: RemediationKind| match k {
        RemediationKind::Request => 0,
        RemediationKind::Policy => 1,
        RemediationKind::Config => 2,
    };
    for cause in d.causes.iter().filter(|c| c.severity == Severity::Error) {
        let mut options: Vec<_> = cause
            .remediation
            .iter()
            .filter_map(|r| r.edit.as_ref().map(|e| (r, e)))
            .collect();
        options.sort_by_key(|(r, _)| preference(r.kind));
        for (r, edit) in options {
            if let Some(request) = requested(state, edit) {
                if let Some(at) = requests.iter().position(|(seen, _)| *seen == request) {
                    // The request was tried, and the cause whose fix came next had to change it.
                    let other = requests
                        .get(at + 1)
                        .and_then(|(_, by)| by.clone())
                        .unwrap_or_else(|| "another cause".to_owned());
                    let this = cause_label(cause);
                    let conflict = format!(
                        "{this} and {other} want different requests: no single request satisfies both, so {this} is fixed by a policy change"
                    );
                    if !conflicts.contains(&conflict) {
                        conflicts.push(conflict);
                    }
                    continue;
                }
            }
            if applied.iter().any(|a| a.edit == *edit) {
                continue;
            }
            return Some(Chosen {
                cause: cause.id,
                label: cause_label(cause),
                remediation: (r.text.clone(), r.command.clone()),
                edit: edit.clone(),
            });
        }
    }
    None
}

/// The error causes still there, each with why no fix was found for it.
fn remaining(d: &Diagnosis) -> Vec<String> {
    let mut out: Vec<String> = d
        .causes
        .iter()
        .filter(|c| c.severity == Severity::Error)
        .map(|c: &Cause| {
            let why = if c.remediation.iter().any(|r| r.edit.is_some()) {
                String::new()
            } else {
                let first = c
                    .remediation
                    .first()
                    .map_or("no remediation applies", |r| r.text.as_str());
                format!(" (no fix can be computed from the snapshot: {first})")
            };
            format!("{}: {}{why}", c.id, c.message)
        })
        .collect();
    if d.verdict != Verdict::Denied && d.verdict != Verdict::Allowed {
        out.push(format!(
            "the fixed snapshot is {:?}: {}",
            d.verdict, d.summary
        ));
    }
    out
}

/// Applies one edit to the snapshot.
pub(crate) fn apply(s: &mut Snapshot, edit: &Edit) {
    match edit {
        Edit::Upload(u) => s.request.upload = (**u).clone(),
        Edit::Network(n) => s.request.network = n.clone(),
        Edit::ReplaceStatement {
            policy_id,
            index,
            statements,
        } => {
            if let Some(doc) = document_mut(s, policy_id) {
                normalise(doc);
                if let Some(list) = doc.get_mut("Statement").and_then(Value::as_array_mut) {
                    let at = *index as usize;
                    if at < list.len() {
                        list.splice(at..=at, statements.iter().cloned());
                    }
                }
            }
        }
        Edit::AddStatement { target, statement } => {
            if let Some(doc) = target_mut(s, target) {
                normalise(doc);
                if let Some(list) = doc.get_mut("Statement").and_then(Value::as_array_mut) {
                    list.push(statement.clone());
                }
            }
        }
        Edit::Config(ConfigEdit::ObjectOwnership(v)) => {
            if let Some(b) = s.bucket.as_mut() {
                b.ownership = Some(v.clone());
            }
        }
        Edit::Config(ConfigEdit::ObjectReadGrant(grantee)) => {
            if let Some(object) = s.object.as_mut() {
                object.acl.get_or_insert_with(Vec::new).push(AclGrant {
                    grantee_type: "CanonicalUser".to_owned(),
                    grantee: grantee.clone(),
                    permission: "READ".to_owned(),
                });
            }
        }
        Edit::Config(ConfigEdit::EnableKey(arn)) => {
            if let Some(k) = s.kms_keys.iter_mut().find(|k| k.arn == *arn) {
                k.key_state = "Enabled".to_owned();
            }
        }
        Edit::Config(ConfigEdit::CustomerManagedKey(key)) => {
            if !s.kms_keys.iter().any(|k| k.arn == key.arn) {
                s.kms_keys.push((**key).clone());
            }
            if let Some(b) = s.bucket.as_mut() {
                b.encryption = Some(Encryption {
                    sse_algorithm: "aws:kms".to_owned(),
                    kms_master_key_id: Some(key.arn.clone()),
                    bucket_key_enabled: false,
                    blocked_encryption_types: Vec::new(),
                });
            }
            // An upload that asks for SSE-KMS names the new key (without it, S3 uses the AWS managed one).
            let upload = &mut s.request.upload;
            if upload.server_side_encryption.as_deref() == Some("aws:kms") {
                upload.sse_kms_key_id = Some(key.arn.clone());
            }
        }
    }
}

/// A document as an object with a `Statement` array (a document held as text is parsed; a single statement
/// object becomes a list of one).
fn normalise(doc: &mut Value) {
    if let Ok(parsed) = iam_policy::parse::document_value(doc, "") {
        *doc = parsed.into_owned();
    }
    if !doc.is_object() {
        *doc = json!({"Version": "2012-10-17", "Statement": []});
    }
    if let Some(obj) = doc.as_object_mut() {
        let statement = obj.entry("Statement").or_insert_with(|| json!([]));
        if statement.is_object() {
            *statement = Value::Array(vec![statement.take()]);
        }
    }
}

/// The policy id a target names in `s` (the fix's inline policy for the principal).
fn target_id(s: &Snapshot, target: &PolicyTarget) -> Option<String> {
    match target {
        PolicyTarget::Identity => {
            let p = s.principal.as_ref()?;
            let owner = p.arn.rsplit('/').next().unwrap_or_default();
            Some(format!("{owner}/inline/{FIX_POLICY_NAME}"))
        }
        PolicyTarget::PermissionsBoundary => s
            .principal
            .as_ref()?
            .permissions_boundary
            .as_ref()
            .map(|n| {
                if n.id.is_empty() {
                    n.name.clone()
                } else {
                    n.id.clone()
                }
            }),
        PolicyTarget::Bucket => Some(BUCKET_POLICY_ID.to_owned()),
        PolicyTarget::AccessPoint => s.access_point.as_ref().map(|a| a.arn.clone()),
        PolicyTarget::Key(arn) => Some(arn.clone()),
        PolicyTarget::Endpoint => s.vpc_endpoint.as_ref().map(|e| e.id.clone()),
        PolicyTarget::Session => s
            .principal
            .as_ref()?
            .session_policy
            .as_ref()
            .map(|_| SESSION_POLICY_ID.to_owned()),
    }
}

/// The document a statement is added to, created where a missing one means "none" (an inline policy, a
/// bucket policy); `None` where it cannot be (a boundary or key that is not in the snapshot).
fn target_mut<'s>(s: &'s mut Snapshot, target: &PolicyTarget) -> Option<&'s mut Value> {
    let id = target_id(s, target)?;
    match target {
        PolicyTarget::Identity => {
            let p = s.principal.as_mut()?;
            if !p.policies.iter().any(|n| n.id == id) {
                p.policies.push(NamedPolicy {
                    id: id.clone(),
                    name: FIX_POLICY_NAME.to_owned(),
                    source: Some("inline".to_owned()),
                    document: json!({"Version": "2012-10-17", "Statement": []}),
                });
            }
            document_mut(s, &id)
        }
        PolicyTarget::Bucket => {
            let b = s.bucket.as_mut()?;
            Some(
                b.policy
                    .get_or_insert_with(|| json!({"Version": "2012-10-17", "Statement": []})),
            )
        }
        PolicyTarget::AccessPoint => {
            let a = s.access_point.as_mut()?;
            Some(
                a.policy
                    .get_or_insert_with(|| json!({"Version": "2012-10-17", "Statement": []})),
            )
        }
        PolicyTarget::Endpoint => {
            let e = s.vpc_endpoint.as_mut()?;
            // No policy is the default full-access policy: a grant added to it stays full access.
            e.policy.as_mut()
        }
        PolicyTarget::PermissionsBoundary | PolicyTarget::Key(_) | PolicyTarget::Session => {
            document_mut(s, &id)
        }
    }
}

/// The request fix: the fixed request when it differs from the workload's.
fn request_fix(before: &Snapshot, after: &Snapshot, conflicts: Vec<String>) -> Option<RequestFix> {
    let (old, new) = (&before.request, &after.request);
    if old.upload == new.upload && old.network == new.network && conflicts.is_empty() {
        return None;
    }
    let mut changes = Vec::new();
    for h in &HEADERS {
        match ((h.get)(&old.upload), (h.get)(&new.upload)) {
            (a, b) if a == b => {}
            (Some(a), Some(b)) => changes.push(format!("`--{} {b}` instead of `{a}`", h.flag)),
            (None, Some(b)) => changes.push(format!("add `--{} {b}`", h.flag)),
            (Some(a), None) => changes.push(format!("drop `--{} {a}`", h.flag)),
            (None, None) => {}
        }
    }
    if old.upload.tags != new.upload.tags {
        changes.push("set the tags as in `--tagging`".to_owned());
    }
    if old.upload.request_payer != new.upload.request_payer {
        changes.push("add `--request-payer requester`".to_owned());
    }
    if old.upload.expected_bucket_owner != new.upload.expected_bucket_owner {
        changes.push(format!(
            "`--expected-bucket-owner {}`",
            new.upload
                .expected_bucket_owner
                .as_deref()
                .unwrap_or_default()
        ));
    }
    if old.upload.sse_customer_algorithm != new.upload.sse_customer_algorithm {
        changes.push("no customer-provided key (SSE-C)".to_owned());
    }
    if old.network.vpc_endpoint_id != new.network.vpc_endpoint_id {
        if let Some(id) = &new.network.vpc_endpoint_id {
            changes.push(format!("send it through VPC endpoint `{id}`"));
        }
    }
    Some(RequestFix {
        changes,
        upload: new.upload.clone(),
        network: new.network.clone(),
        command: upload_command(new, |_| {}),
        conflicts,
    })
}

/// Each document that differs between the two snapshots, whole, with the command that applies it.
fn policy_fixes(before: &Snapshot, after: &Snapshot, applied: &[Applied]) -> Vec<PolicyFix> {
    let mut ids: Vec<String> = Vec::new();
    for a in applied {
        let id = match &a.edit {
            Edit::ReplaceStatement { policy_id, .. } => Some(policy_id.clone()),
            Edit::AddStatement { target, .. } => target_id(after, target),
            _ => None,
        };
        if let Some(id) = id.filter(|id| !ids.contains(id)) {
            ids.push(id);
        }
    }
    ids.into_iter()
        .filter_map(|id| {
            let document = document(after, &id)?.clone();
            let changes = applied
                .iter()
                .filter(|a| match &a.edit {
                    Edit::ReplaceStatement { policy_id, .. } => *policy_id == id,
                    Edit::AddStatement { target, .. } => {
                        target_id(before, target).as_deref() == Some(&id)
                            || target_id(after, target).as_deref() == Some(&id)
                    }
                    _ => false,
                })
                .map(|a| format!("{} (for `{}`)", a.text, a.cause))
                .collect();
            let (account, command) = apply_command(after, &id);
            Some(PolicyFix {
                policy_id: id,
                account,
                changes,
                document,
                command,
            })
        })
        .collect()
}

/// The file a document is saved to before the command reads it.
fn file_name(id: &str) -> String {
    let base: String = id
        .rsplit(['/', ':'])
        .next()
        .unwrap_or(id)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{base}.json")
}

/// The command that applies the document of `id`, and the account it must run in.
fn apply_command(s: &Snapshot, id: &str) -> (Option<String>, String) {
    let file = file_name(id);
    if id == BUCKET_POLICY_ID {
        let bucket = &s.request.bucket;
        let account = s.bucket.as_ref().map(|b| b.account_id.clone());
        return (
            account,
            format!(
                "aws s3api put-bucket-policy --bucket {bucket} --policy file://bucket-policy.json"
            ),
        );
    }
    if id == SESSION_POLICY_ID {
        // A session policy is given by whoever creates the session: the workload's `AssumeRole` call.
        let role = s
            .principal
            .as_ref()
            .map_or("<ROLE_ARN>", |p| p.arn.as_str());
        let account = s.principal.as_ref().map(|p| p.account_id.clone());
        return (
            account,
            format!("aws sts assume-role --role-arn {role} --role-session-name <SESSION> --policy file://{file} (where the workload's session is created)"),
        );
    }
    if let Some(a) = s.access_point.as_ref().filter(|a| a.arn == id) {
        return (
            Some(a.account_id.clone()),
            format!(
                "aws s3control put-access-point-policy --account-id {} --name {} --policy file://{file}",
                a.account_id, a.name
            ),
        );
    }
    if let Some(e) = s.vpc_endpoint.as_ref().filter(|e| e.id == id) {
        let account = s.principal.as_ref().map(|p| p.account_id.clone());
        return (
            account,
            format!(
                "aws ec2 modify-vpc-endpoint --vpc-endpoint-id {} --policy-document file://{file}",
                e.id
            ),
        );
    }
    if let Some(k) = s.kms_keys.iter().find(|k| k.arn == id) {
        return (
            Some(k.account_id.clone()),
            format!(
                "aws kms put-key-policy --key-id {} --policy-name default --policy file://{file}",
                k.arn
            ),
        );
    }
    let in_org = s.organization.as_ref().is_some_and(|o| {
        o.scps
            .iter()
            .chain(o.rcps.iter())
            .flatten()
            .any(|n| n.id == id)
    });
    if in_org {
        let policy_id = id.rsplit('/').next().unwrap_or(id);
        return (
            None,
            format!("aws organizations update-policy --policy-id {policy_id} --content file://{file} (in the management account)"),
        );
    }
    if let Ok(arn) = Arn::parse(id) {
        if arn.service == "iam" && arn.resource.starts_with("policy/") {
            return (
                Some(arn.account.to_owned()),
                format!("aws iam create-policy-version --policy-arn {id} --policy-document file://{file} --set-as-default"),
            );
        }
    }
    // An inline policy: `OWNER/inline/NAME`, of the principal or of one of its groups.
    let principal = s.principal.as_ref();
    let account = principal.map(|p| p.account_id.clone());
    let named = principal.and_then(|p| p.policies.iter().find(|n| n.id == id));
    let name = named.map_or(FIX_POLICY_NAME, |n| n.name.as_str());
    let owner = id.split("/inline/").next().unwrap_or_default();
    let source = named.and_then(|n| n.source.as_deref()).unwrap_or("inline");
    let kind = if source == "groupInline" {
        "group"
    } else if principal.is_some_and(|p| p.kind == "user") {
        "user"
    } else {
        "role"
    };
    (
        account,
        format!("aws iam put-{kind}-policy --{kind}-name {owner} --policy-name {name} --policy-document file://{file}"),
    )
}
