//! `deploy/iam/operator-read-policy.json` grants exactly the read-only actions the collector calls: every
//! `r.call("service:Operation", ...)` in `src/aws/` maps to an IAM action the policy allows (and the policy
//! allows nothing else), and the policy grants no write action. The reader-role variant covers every
//! account-scoped read.

use iam_policy::{
    evaluate, parse_policy_text, Context, ContextValue, Layer, LayerOutcome, PolicyKind, PolicySet,
    Principal, Request,
};
use std::collections::BTreeSet;
use std::path::Path;

/// The API the collector calls → the IAM action that authorizes it (the collector's own table, which also
/// names the permission in its messages).
fn action_for(api: &str) -> String {
    bucket_access_aws::error::iam_action(api).to_owned()
}

fn called_apis() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/bucket-access-aws/src");
    let mut apis = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        // Every call goes through `Reader::call`, or (the events queue) converts its error with `from_sdk`:
        // both name the API as their first argument.
        let calls = text.split(".call(").skip(1);
        let converted = text.split("from_sdk(").skip(1);
        for piece in calls.chain(converted) {
            let literal = piece
                .trim_start()
                .strip_prefix('"')
                .and_then(|r| r.split('"').next());
            if let Some(api) = literal {
                apis.insert(api.to_owned());
            }
        }
        // The policies of an IAM entity: `entity_policies!(..., "iam:ListAttached...", ..., "iam:List...",
        // ..., "iam:Get...", ...)`, three APIs per invocation.
        for piece in text.split("entity_policies!(").skip(1) {
            let invocation = piece.split(");").next().unwrap_or_default();
            for literal in invocation.split('"').skip(1).step_by(2) {
                if literal.starts_with("iam:") && !literal.contains(' ') {
                    apis.insert(literal.to_owned());
                }
            }
        }
        // Paginated listings: `every!(reader, "service:Operation", request)`.
        for piece in text.split("every!(").skip(1) {
            let literal = piece.split('"').nth(1);
            if let Some(api) = literal.filter(|a| a.contains(':') && !a.contains(' ')) {
                apis.insert(api.to_owned());
            }
        }
        // Calls every caller may make without any permission (AWS documents none for them).
        apis.remove("sts:GetCallerIdentity");
    }
    apis
}

fn allows(policy_file: &str, action: &str) -> bool {
    let mut context = Context::default();
    context.insert("aws:PrincipalOrgID", ContextValue::One("o-operator".into()));
    context.insert("aws:ResourceOrgID", ContextValue::One("o-operator".into()));
    allows_in(policy_file, action, context)
}

fn allows_in(policy_file: &str, action: &str, context: Context) -> bool {
    let resource = if action.starts_with("sts:") {
        "arn:aws:iam::444455556666:role/bucket-access-reader"
    } else if action.starts_with("sqs:") {
        // The change events queue deploy/aws/events.yaml creates.
        "arn:aws:sqs:us-east-1:111122223333:bucket-access-events"
    } else {
        "arn:aws:s3:::any"
    };
    allows_on(policy_file, action, resource, context)
}

fn allows_on(policy_file: &str, action: &str, resource: &str, context: Context) -> bool {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy/iam")
            .join(policy_file),
    )
    .unwrap();
    let policy = parse_policy_text(policy_file, &text, PolicyKind::Identity);
    assert!(
        policy.errors.is_empty(),
        "{policy_file}: {:?}",
        policy.errors
    );
    let set = PolicySet {
        identity: vec![policy],
        ..PolicySet::default()
    };
    let principal =
        Principal::parse("arn:aws:iam::111122223333:role/bucket-access-operator").unwrap();
    let request = Request::new(
        principal,
        action,
        resource,
        Some("111122223333".into()),
        context,
    );
    // Whether the identity policy grants it (KMS calls also need the key policy, which is not in question here).
    evaluate(&request, &set).layer(Layer::Identity).outcome == LayerOutcome::Allowed
}

#[test]
fn the_operator_policy_covers_every_call_and_nothing_more() {
    let apis = called_apis();
    assert!(
        apis.len() >= 25,
        "expected the collector's calls, found {apis:?}"
    );
    let mut needed: BTreeSet<String> = apis.iter().map(|a| action_for(a)).collect();
    for action in &needed {
        assert!(
            allows("operator-read-policy.json", action),
            "operator-read-policy.json does not allow `{action}`"
        );
    }
    needed.insert("sts:AssumeRole".into());
    needed.insert("sts:SetSourceIdentity".into());
    // Chaining from an EKS Pod Identity session passes its transitive tags on.
    needed.insert("sts:TagSession".into());
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/iam/operator-read-policy.json"),
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let granted: BTreeSet<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        granted, needed,
        "the policy must grant exactly what the collector calls"
    );
    for write in [
        "s3:PutObject",
        "s3:PutBucketPolicy",
        "iam:PutRolePolicy",
        "kms:PutKeyPolicy",
        "kms:GenerateDataKey",
        "s3:GetObject",
    ] {
        assert!(
            !allows("operator-read-policy.json", write),
            "the operator must not be able to `{write}`"
        );
    }
}

#[test]
fn the_reader_role_covers_every_account_scoped_read() {
    // The organization is read by its own role; the operator (not the reader) assumes roles and reads the
    // events queue.
    for api in called_apis().iter().filter(|a| {
        !a.starts_with("organizations:") && !a.starts_with("sqs:") && *a != "sts:AssumeRole"
    }) {
        let action = action_for(api);
        assert!(
            allows("reader-role-policy.json", &action),
            "reader-role-policy.json does not allow `{action}`"
        );
    }
    assert!(!allows("reader-role-policy.json", "s3:PutObject"));
}

#[test]
fn reader_roles_are_assumed_only_inside_the_organization() {
    let org = |principal: &str, resource: &str| {
        let mut context = Context::default();
        context.insert("aws:PrincipalOrgID", ContextValue::One(principal.into()));
        context.insert("aws:ResourceOrgID", ContextValue::One(resource.into()));
        context
    };
    assert!(allows_in(
        "operator-read-policy.json",
        "sts:AssumeRole",
        org("o-a", "o-a")
    ));
    assert!(!allows_in(
        "operator-read-policy.json",
        "sts:AssumeRole",
        org("o-a", "o-b")
    ));
    assert!(!allows_in(
        "operator-read-policy.json",
        "sts:AssumeRole",
        Context::default()
    ));
}

#[test]
fn the_reader_trust_policy_requires_the_external_id_and_the_session_name() {
    trust_requires_the_external_id_and_the_session_name(
        "reader-role-trust-policy.json",
        "EXTERNAL_ID_OF_THE_SCOPE",
        "bucket-access-reader",
    );
}

/// The organization reader's trust policy (in the management or delegated-administrator account) holds the
/// operator to its `ExternalId` and session names the same way.
#[test]
fn the_organization_reader_trust_policy_requires_the_external_id_and_the_session_name() {
    trust_requires_the_external_id_and_the_session_name(
        "organization-reader-trust-policy.json",
        "EXTERNAL_ID_OF_THE_OPERATOR",
        "bucket-access-org-reader",
    );
    // And the operator may assume it (inside its organization, by that name only), and it may read the
    // organization.
    let inside = || {
        let mut context = Context::default();
        context.insert("aws:PrincipalOrgID", ContextValue::One("o-a".into()));
        context.insert("aws:ResourceOrgID", ContextValue::One("o-a".into()));
        context
    };
    for (role, allowed) in [("bucket-access-org-reader", true), ("admin", false)] {
        assert_eq!(
            allows_on(
                "operator-read-policy.json",
                "sts:AssumeRole",
                &format!("arn:aws:iam::444455556666:role/{role}"),
                inside()
            ),
            allowed,
            "{role}"
        );
    }
    for action in [
        "organizations:DescribeOrganization",
        "organizations:ListParents",
        "organizations:ListPoliciesForTarget",
        "organizations:DescribePolicy",
    ] {
        assert!(
            allows("organization-reader-policy.json", action),
            "{action}"
        );
    }
    assert!(!allows(
        "organization-reader-policy.json",
        "s3:GetBucketPolicy"
    ));
}

/// A trust policy of `deploy/iam/` as the engine reads it: the role's resource policy, with the role as its
/// implicit resource (the engine's resource policies name their resource, so it is added here).
fn trust_policy(file: &str, role_arn: &str) -> PolicySet {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy/iam")
            .join(file),
    )
    .unwrap()
    .replace("OPERATOR_ACCOUNT_ID", "111122223333");
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    for statement in doc["Statement"].as_array_mut().unwrap() {
        statement["Resource"] = role_arn.into();
    }
    let policy = parse_policy_text("trust", &doc.to_string(), PolicyKind::Resource);
    assert!(policy.errors.is_empty(), "{:?}", policy.errors);
    PolicySet {
        resource_policies: vec![policy],
        ..PolicySet::default()
    }
}

/// Whether the trust policy `set` of `role_arn` lets `caller` make `action` with `context`.
fn trusted(set: &PolicySet, caller: &str, action: &str, role_arn: &str, context: Context) -> bool {
    let request = Request::new(
        Principal::parse(caller).unwrap(),
        action,
        role_arn,
        Some("444455556666".into()),
        context,
    );
    evaluate(&request, set).layer(Layer::ResourcePolicy).outcome == LayerOutcome::Allowed
}

/// The session tags EKS Pod Identity sets, transitive: an `AssumeRole` made with a Pod Identity session
/// passes them on, and needs `sts:TagSession` in the target role's trust policy and in the caller's policy.
const POD_IDENTITY_TAGS: [&str; 6] = [
    "eks-cluster-arn",
    "eks-cluster-name",
    "kubernetes-namespace",
    "kubernetes-service-account",
    "kubernetes-pod-name",
    "kubernetes-pod-uid",
];

/// With EKS Pod Identity the operator's session carries transitive session tags: each chained
/// `AssumeRole` into a reader role passes them on. Both trust policies and the operator's policy allow
/// `sts:TagSession` for the operator's Pod Identity session with exactly those tag keys, and no other key.
#[test]
fn pod_identity_sessions_may_chain_into_the_reader_roles() {
    let session =
        "arn:aws:sts::111122223333:assumed-role/bucket-access-operator/eks-demo-operator-7d9f";
    for (file, role) in [
        ("reader-role-trust-policy.json", "bucket-access-reader"),
        (
            "organization-reader-trust-policy.json",
            "bucket-access-org-reader",
        ),
    ] {
        let role_arn = format!("arn:aws:iam::444455556666:role/{role}");
        let set = trust_policy(file, &role_arn);
        let tag = |keys: &[&str]| {
            let mut context = Context::default();
            context.insert(
                "aws:TagKeys",
                ContextValue::Many(keys.iter().map(|k| (*k).to_owned()).collect()),
            );
            trusted(&set, session, "sts:TagSession", &role_arn, context)
        };
        assert!(tag(&POD_IDENTITY_TAGS), "{file}: the Pod Identity tags");
        assert!(
            !tag(&["kubernetes-namespace", "admin"]),
            "{file}: another key"
        );
    }
    let mut inside = Context::default();
    inside.insert("aws:PrincipalOrgID", ContextValue::One("o-a".into()));
    inside.insert("aws:ResourceOrgID", ContextValue::One("o-a".into()));
    for role in ["bucket-access-reader", "bucket-access-org-reader"] {
        assert!(allows_on(
            "operator-read-policy.json",
            "sts:TagSession",
            &format!("arn:aws:iam::444455556666:role/{role}"),
            inside.clone()
        ));
    }
}

fn trust_requires_the_external_id_and_the_session_name(file: &str, external_id: &str, role: &str) {
    let role_arn = format!("arn:aws:iam::444455556666:role/{role}");
    let set = trust_policy(file, &role_arn);
    let assume = |external_id: Option<&str>, session: &str| {
        let mut context = Context::default();
        if let Some(id) = external_id {
            context.insert("sts:ExternalId", ContextValue::One(id.into()));
        }
        context.insert("sts:RoleSessionName", ContextValue::One(session.into()));
        let operator = "arn:aws:iam::111122223333:role/bucket-access-operator";
        trusted(&set, operator, "sts:AssumeRole", &role_arn, context)
    };
    assert!(assume(Some(external_id), "bucket-access.media"), "{file}");
    assert!(!assume(None, "bucket-access.media"), "no ExternalId");
    assert!(
        !assume(Some("guess"), "bucket-access.media"),
        "wrong ExternalId"
    );
    assert!(
        !assume(Some(external_id), "someone-else"),
        "session not named"
    );
}

/// The Organizations delegation policy (`put-resource-policy` in the management account) lets the operator's
/// own account make exactly the organization reads the collector makes, for SCPs and RCPs only: another
/// account, another policy type, and any write are refused.
#[test]
fn the_delegation_policy_lets_the_operators_account_read_scps_and_rcps_only() {
    let set = delegation_policy();
    let management = "999988887777";
    let delegated = |caller: &str, action: &str, resource: &str, policy_type: Option<&str>| {
        delegates(&set, management, caller, action, resource, policy_type)
    };
    let operator = "arn:aws:iam::111122223333:role/bucket-access-operator";
    let org = format!("arn:aws:organizations::{management}:organization/o-a1b2c3d4e5");
    let account = format!("arn:aws:organizations::{management}:account/o-a1b2c3d4e5/111122223333");
    let scp = format!(
        "arn:aws:organizations::{management}:policy/o-a1b2c3d4e5/service_control_policy/p-1"
    );
    let rcp = format!(
        "arn:aws:organizations::{management}:policy/o-a1b2c3d4e5/resource_control_policy/p-2"
    );
    let full_access = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess";
    let tags = format!("arn:aws:organizations::{management}:policy/o-a1b2c3d4e5/tag_policy/p-3");
    assert!(delegated(
        operator,
        "organizations:DescribeOrganization",
        &org,
        None
    ));
    assert!(delegated(
        operator,
        "organizations:ListParents",
        &account,
        None
    ));
    for policy_type in ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"] {
        assert!(
            delegated(
                operator,
                "organizations:ListPoliciesForTarget",
                &account,
                Some(policy_type)
            ),
            "{policy_type}"
        );
    }
    assert!(!delegated(
        operator,
        "organizations:ListPoliciesForTarget",
        &account,
        Some("TAG_POLICY")
    ));
    for policy in [&scp, &rcp, &full_access.to_owned()] {
        assert!(
            delegated(operator, "organizations:DescribePolicy", policy, None),
            "{policy}"
        );
    }
    assert!(!delegated(
        operator,
        "organizations:DescribePolicy",
        &tags,
        None
    ));
    assert!(!delegated(
        operator,
        "organizations:UpdatePolicy",
        &scp,
        None
    ));
    assert!(!delegated(
        operator,
        "organizations:DetachPolicy",
        &scp,
        None
    ));
    let stranger = "arn:aws:iam::444455556666:role/bucket-access-operator";
    assert!(!delegated(
        stranger,
        "organizations:DescribePolicy",
        &scp,
        None
    ));
    // Every organization read the collector makes is one of those the policy delegates.
    let organization_reads: BTreeSet<String> = called_apis()
        .iter()
        .map(|a| action_for(a))
        .filter(|a| a.starts_with("organizations:"))
        .collect();
    assert_eq!(
        organization_reads,
        BTreeSet::from(
            [
                "organizations:DescribeOrganization",
                "organizations:DescribePolicy",
                "organizations:ListParents",
                "organizations:ListPoliciesForTarget"
            ]
            .map(str::to_owned)
        )
    );
}

/// `deploy/iam/organization-delegation-policy.json` as the engine reads it (a resource policy).
fn delegation_policy() -> PolicySet {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy/iam/organization-delegation-policy.json"),
    )
    .unwrap()
    .replace("OPERATOR_ACCOUNT_ID", "111122223333");
    let policy = parse_policy_text("delegation", &text, PolicyKind::Resource);
    assert!(policy.errors.is_empty(), "{:?}", policy.errors);
    PolicySet {
        resource_policies: vec![policy],
        ..PolicySet::default()
    }
}

/// Whether the delegation policy `set` (in the `management` account) lets `caller` make `action` on
/// `resource`, for a policy type when the call names one.
fn delegates(
    set: &PolicySet,
    management: &str,
    caller: &str,
    action: &str,
    resource: &str,
    policy_type: Option<&str>,
) -> bool {
    let mut context = Context::default();
    if let Some(t) = policy_type {
        context.insert("organizations:PolicyType", ContextValue::One(t.into()));
    }
    let request = Request::new(
        Principal::parse(caller).unwrap(),
        action,
        resource,
        Some(management.into()),
        context,
    );
    evaluate(&request, set).layer(Layer::ResourcePolicy).outcome == LayerOutcome::Allowed
}
