//! Evaluation: each statement to an outcome, each layer to a layer outcome, then one classification from
//! which the decision follows by an exhaustive `match`. The classification is the explanation.
//! Follows AWS's documented evaluation logic (`shared/reference/s3-denial-causes.md` §2.4–2.5).
//! Depends on `model`, `context`, `condition`, `arn`; serde for output names.

use super::arn::ArnPattern;
use super::condition::{self, ClauseNotes};
use super::context::{Principal, Request};
use super::model::{Effect, InputError, Policy, PrincipalEntry, Statement};
use serde::Serialize;

/// The policies that apply to one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySet {
    /// Identity-based policies of the principal (managed, inline, group).
    pub identity: Vec<Policy>,
    /// The permissions boundary, if any.
    pub permission_boundary: Option<Policy>,
    /// The session policy, if any.
    pub session_policy: Option<Policy>,
    /// SCPs of the principal's account, one inner list per level from the root down; empty: no organization.
    pub scps: Vec<Vec<Policy>>,
    /// RCPs of the resource's account, same shape.
    pub rcps: Vec<Vec<Policy>>,
    /// The resource's policies: the bucket policy or the KMS key policy first, then, for a KMS key, each of
    /// its grants written as a policy of Allow statements (a grant allows like a key-policy statement).
    pub resource_policies: Vec<Policy>,
    /// The VPC endpoint policy when the request goes through one.
    pub vpc_endpoint_policy: Option<Policy>,
}

/// The kinds of policy that take part in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Layer {
    /// Identity-based policies.
    Identity,
    /// The resource-based policy (bucket policy, key policy).
    ResourcePolicy,
    /// Service control policies.
    Scp,
    /// Resource control policies.
    Rcp,
    /// The permissions boundary.
    PermissionBoundary,
    /// The session policy.
    SessionPolicy,
    /// The VPC endpoint policy.
    VpcEndpointPolicy,
}

impl Layer {
    /// Every layer, in the order the output lists them.
    pub const ALL: [Layer; 7] = [
        Layer::Identity,
        Layer::ResourcePolicy,
        Layer::Scp,
        Layer::Rcp,
        Layer::PermissionBoundary,
        Layer::SessionPolicy,
        Layer::VpcEndpointPolicy,
    ];

    /// The camelCase name used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::ResourcePolicy => "resourcePolicy",
            Self::Scp => "scp",
            Self::Rcp => "rcp",
            Self::PermissionBoundary => "permissionBoundary",
            Self::SessionPolicy => "sessionPolicy",
            Self::VpcEndpointPolicy => "vpcEndpointPolicy",
        }
    }
}

/// Where a statement is: layer, organization level (SCP/RCP only), policy index, statement index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatementRef {
    /// The layer.
    pub layer: Layer,
    /// The organization level (root = 0), for SCPs and RCPs.
    pub level: Option<u32>,
    /// Index of the policy within its layer (level).
    pub policy: u32,
    /// Index of the statement within its policy.
    pub statement: u32,
}

/// How a statement's `Principal` (or `NotPrincipal`) matched the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalMatch {
    /// The statement names no principal (identity policies, SCPs, boundaries, session policies).
    NotNamed,
    /// `"*"`.
    Everyone,
    /// The caller's account (`111122223333` or `arn:aws:iam::111122223333:root`).
    Account,
    /// The caller's role ARN.
    Role,
    /// The caller's exact role-session ARN.
    RoleSession,
    /// The caller's user ARN.
    User,
    /// The caller's federated-user ARN.
    FederatedUser,
    /// `NotPrincipal` that does not exclude the caller.
    NotExcluded,
}

/// Why a statement (whose action matched) does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// `Principal` / `NotPrincipal`.
    Principal,
    /// `Resource` / `NotResource`.
    Resource,
    /// The first condition clause (index into `Statement::conditions`) that does not hold.
    Condition {
        /// Index of the clause.
        clause: u32,
    },
}

/// The outcome of one statement whose action matched (statements for other actions are not recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementOutcome {
    /// Every element matches.
    Applies(PrincipalMatch),
    /// An element does not match.
    DoesNotApply(Mismatch),
    /// The statement has an error and no element proves it does not apply.
    Indeterminate,
}

/// One recorded statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementResult {
    /// Where it is.
    pub at: StatementRef,
    /// Its effect (`None`: missing or invalid, treated as a possible `Deny`).
    pub effect: Option<Effect>,
    /// What it did.
    pub outcome: StatementOutcome,
    /// For resource policies: an `Allow` conditioned on `aws:PrincipalArn` (not bounded by implicit denies).
    pub principal_arn_condition: bool,
}

impl StatementResult {
    /// The statement denies, or may deny (an erroring `Deny`, or an erroring statement of unknown effect).
    pub fn denies(&self) -> bool {
        matches!(
            (self.outcome, self.effect),
            (StatementOutcome::Applies(_), Some(Effect::Deny))
                | (StatementOutcome::Indeterminate, Some(Effect::Deny) | None)
        )
    }

    /// The statement allows for certain.
    pub fn allows(&self) -> bool {
        matches!(
            (self.outcome, self.effect),
            (StatementOutcome::Applies(_), Some(Effect::Allow))
        )
    }
}

/// A layer's own outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LayerOutcome {
    /// The layer has no policy for this request.
    NotApplicable,
    /// Some statement allows and none denies.
    Allowed,
    /// No statement allows and none denies.
    ImplicitDeny,
    /// A statement denies.
    ExplicitDeny,
}

/// A layer's outcome with the statements it recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerResult {
    /// The outcome.
    pub outcome: LayerOutcome,
    /// Statements whose action matched.
    pub statements: Vec<StatementResult>,
    /// For SCPs and RCPs: each level's outcome, root first.
    pub levels: Vec<LayerOutcome>,
}

impl LayerResult {
    fn not_applicable() -> Self {
        Self {
            outcome: LayerOutcome::NotApplicable,
            statements: Vec::new(),
            levels: Vec::new(),
        }
    }
}

/// How an allowed request was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Grant {
    /// An identity-based policy allows (same account).
    IdentityPolicy,
    /// The resource policy allows (same account, or anonymous).
    ResourcePolicy,
    /// Both allow (cross-account, or both happen to).
    IdentityAndResourcePolicy,
    /// The account root user acting in its own account.
    RootUser,
}

/// Why the request has the decision it has: the explanation the diagnosis builds on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Classification {
    /// A statement in some layer denies.
    ExplicitDeny,
    /// A level of the resource account's RCPs has no `Allow`.
    RcpNoAllow,
    /// A level of the principal account's SCPs has no `Allow`.
    ScpNoAllow,
    /// The VPC endpoint policy has no `Allow`.
    VpcEndpointNoAllow,
    /// Same account: neither an identity-based policy nor the resource policy allows.
    NoAllow,
    /// The identity side has no `Allow` where one is required (cross-account, or a key policy that only
    /// delegates to IAM).
    IdentityNoAllow,
    /// The resource policy has no `Allow` for this caller where one is required (cross-account, anonymous,
    /// KMS key policies).
    ResourcePolicyNoAllow,
    /// The permissions boundary has no `Allow`.
    PermissionBoundaryNoAllow,
    /// The session policy has no `Allow`.
    SessionPolicyNoAllow,
    /// Allowed.
    Allowed(Grant),
}

/// The decision, named as AWS's simulator names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Decision {
    /// Allowed.
    Allowed,
    /// No applicable `Allow`.
    ImplicitDeny,
    /// An applicable `Deny`.
    ExplicitDeny,
}

impl Classification {
    /// The decision this classification means.
    pub fn decision(self) -> Decision {
        match self {
            Self::Allowed(_) => Decision::Allowed,
            Self::ExplicitDeny => Decision::ExplicitDeny,
            Self::RcpNoAllow
            | Self::ScpNoAllow
            | Self::VpcEndpointNoAllow
            | Self::NoAllow
            | Self::IdentityNoAllow
            | Self::ResourcePolicyNoAllow
            | Self::PermissionBoundaryNoAllow
            | Self::SessionPolicyNoAllow => Decision::ImplicitDeny,
        }
    }
}

/// The result of evaluating one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Allowed, implicit deny or explicit deny.
    pub decision: Decision,
    /// Why.
    pub classification: Classification,
    /// Each layer's outcome and recorded statements, in `Layer::ALL` order.
    pub layers: [LayerResult; 7],
    /// The statements that decided: every denying statement for an explicit deny, the granting statements
    /// for an allow, none for an implicit deny.
    pub determining: Vec<StatementRef>,
    /// Context keys that conditions or policy variables read and the request did not have.
    pub missing_context_keys: Vec<String>,
    /// Problems in the policies; the decision treats them so that they never produce a wrong `Allowed`.
    pub errors: Vec<InputError>,
}

impl Evaluation {
    /// A layer's result.
    pub fn layer(&self, layer: Layer) -> &LayerResult {
        let [identity, resource, scp, rcp, boundary, session, vpce] = &self.layers;
        match layer {
            Layer::Identity => identity,
            Layer::ResourcePolicy => resource,
            Layer::Scp => scp,
            Layer::Rcp => rcp,
            Layer::PermissionBoundary => boundary,
            Layer::SessionPolicy => session,
            Layer::VpcEndpointPolicy => vpce,
        }
    }
}

impl PolicySet {
    /// The policy a statement reference points into.
    pub fn policy(&self, at: &StatementRef) -> Option<&Policy> {
        let index = at.policy as usize;
        match at.layer {
            Layer::Identity => self.identity.get(index),
            Layer::ResourcePolicy => self.resource_policies.get(index),
            Layer::PermissionBoundary => self.permission_boundary.as_ref().filter(|_| index == 0),
            Layer::SessionPolicy => self.session_policy.as_ref().filter(|_| index == 0),
            Layer::VpcEndpointPolicy => self.vpc_endpoint_policy.as_ref().filter(|_| index == 0),
            Layer::Scp => self.scps.get(at.level.unwrap_or(0) as usize)?.get(index),
            Layer::Rcp => self.rcps.get(at.level.unwrap_or(0) as usize)?.get(index),
        }
    }

    /// The statement a reference points to.
    pub fn statement(&self, at: &StatementRef) -> Option<&Statement> {
        self.policy(at)?.statements.get(at.statement as usize)
    }

    fn all_policies(&self) -> impl Iterator<Item = &Policy> {
        self.identity
            .iter()
            .chain(self.permission_boundary.iter())
            .chain(self.session_policy.iter())
            .chain(self.scps.iter().flatten())
            .chain(self.rcps.iter().flatten())
            .chain(self.resource_policies.iter())
            .chain(self.vpc_endpoint_policy.iter())
    }
}

/// Services whose resources RCPs govern.
const RCP_SERVICES: [&str; 10] = [
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "ecr",
    "aoss",
    "cognito-identity",
    "logs",
    "dynamodb",
];

/// What evaluation needs besides the request and the policies.
struct Env<'a> {
    request: &'a Request,
    has_boundary: bool,
    missing: Vec<String>,
}

/// Evaluates `request` against `policies` the way AWS does.
///
/// ```
/// use iam_policy::{evaluate, parse_policy_text, PolicyKind, PolicySet, Request, Principal, Context, Decision};
/// let identity = parse_policy_text("p", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}"#, PolicyKind::Identity);
/// let set = PolicySet { identity: vec![identity], ..PolicySet::default() };
/// let principal = Principal::parse("arn:aws:iam::111122223333:role/uploader").unwrap();
/// let request = Request::new(principal, "s3:PutObject", "arn:aws:s3:::b/k", Some("111122223333".into()), Context::default());
/// assert_eq!(evaluate(&request, &set).decision, Decision::Allowed);
/// ```
pub fn evaluate(request: &Request, policies: &PolicySet) -> Evaluation {
    let mut env = Env {
        request,
        has_boundary: policies.permission_boundary.is_some(),
        missing: Vec::new(),
    };
    let is_principal = !matches!(
        request.principal,
        Principal::Anonymous | Principal::Root { .. }
    );

    let identity = if is_principal {
        evaluate_layer(&policies.identity, Layer::Identity, None, false, &mut env)
    } else {
        LayerResult::not_applicable()
    };
    let resource = if policies.resource_policies.is_empty() {
        LayerResult::not_applicable()
    } else {
        evaluate_layer(
            &policies.resource_policies,
            Layer::ResourcePolicy,
            None,
            true,
            &mut env,
        )
    };
    let scp_applies =
        request.principal.account().is_some() && !request.principal.is_service_linked_role();
    let scp = if scp_applies {
        evaluate_levels(&policies.scps, Layer::Scp, &mut env)
    } else {
        LayerResult::not_applicable()
    };
    let rcp_applies =
        RCP_SERVICES.contains(&request.service()) && !request.principal.is_service_linked_role();
    let rcp = if rcp_applies {
        evaluate_levels(&policies.rcps, Layer::Rcp, &mut env)
    } else {
        LayerResult::not_applicable()
    };
    let (boundary, session) = if is_principal {
        (
            evaluate_optional(
                policies.permission_boundary.as_ref(),
                Layer::PermissionBoundary,
                false,
                &mut env,
            ),
            evaluate_optional(
                policies.session_policy.as_ref(),
                Layer::SessionPolicy,
                false,
                &mut env,
            ),
        )
    } else {
        (LayerResult::not_applicable(), LayerResult::not_applicable())
    };
    let vpce = evaluate_optional(
        policies.vpc_endpoint_policy.as_ref(),
        Layer::VpcEndpointPolicy,
        false,
        &mut env,
    );

    let layers = [identity, resource, scp, rcp, boundary, session, vpce];
    let classification = classify(request, &layers);
    let determining = determining_statements(classification, &layers);

    let mut missing = env.missing;
    missing.sort_unstable_by_key(|k| k.to_ascii_lowercase());
    missing.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let errors = policies
        .all_policies()
        .flat_map(|p| p.errors.iter().cloned())
        .collect();

    Evaluation {
        decision: classification.decision(),
        classification,
        layers,
        determining,
        missing_context_keys: missing,
        errors,
    }
}

fn evaluate_optional(
    policy: Option<&Policy>,
    layer: Layer,
    principal_required: bool,
    env: &mut Env<'_>,
) -> LayerResult {
    match policy {
        Some(policy) => evaluate_layer(
            std::slice::from_ref(policy),
            layer,
            None,
            principal_required,
            env,
        ),
        None => LayerResult::not_applicable(),
    }
}

fn evaluate_levels(levels: &[Vec<Policy>], layer: Layer, env: &mut Env<'_>) -> LayerResult {
    if levels.is_empty() {
        return LayerResult::not_applicable();
    }
    let mut statements = Vec::new();
    let mut outcomes = Vec::with_capacity(levels.len());
    for (level, policies) in levels.iter().enumerate() {
        let result = evaluate_layer(
            policies,
            layer,
            Some(level as u32),
            layer == Layer::Rcp,
            env,
        );
        outcomes.push(result.outcome);
        statements.extend(result.statements);
    }
    let outcome = if outcomes.contains(&LayerOutcome::ExplicitDeny) {
        LayerOutcome::ExplicitDeny
    } else if outcomes.iter().any(|o| *o != LayerOutcome::Allowed) {
        LayerOutcome::ImplicitDeny
    } else {
        LayerOutcome::Allowed
    };
    LayerResult {
        outcome,
        statements,
        levels: outcomes,
    }
}

/// Evaluates the policies of one layer (or one organization level). An empty list means "present, allows
/// nothing" (a principal with no identity policy, an organization level with no policy attached).
fn evaluate_layer(
    policies: &[Policy],
    layer: Layer,
    level: Option<u32>,
    principal_required: bool,
    env: &mut Env<'_>,
) -> LayerResult {
    let mut statements = Vec::new();
    for (policy_index, policy) in policies.iter().enumerate() {
        for (statement_index, statement) in policy.statements.iter().enumerate() {
            let at = StatementRef {
                layer,
                level,
                policy: policy_index as u32,
                statement: statement_index as u32,
            };
            if let Some(outcome) = evaluate_statement(statement, principal_required, env) {
                let principal_arn_condition = statement
                    .conditions
                    .iter()
                    .any(|c| c.key_lower == "aws:principalarn" && !c.operator.kind.negated());
                statements.push(StatementResult {
                    at,
                    effect: statement.effect,
                    outcome,
                    principal_arn_condition,
                });
            }
        }
    }
    let outcome = if statements.iter().any(StatementResult::denies) {
        LayerOutcome::ExplicitDeny
    } else if statements.iter().any(StatementResult::allows) {
        LayerOutcome::Allowed
    } else {
        LayerOutcome::ImplicitDeny
    };
    LayerResult {
        outcome,
        statements,
        levels: Vec::new(),
    }
}

/// `None` when the statement's action does not match (not recorded); otherwise its outcome.
fn evaluate_statement(
    statement: &Statement,
    principal_required: bool,
    env: &mut Env<'_>,
) -> Option<StatementOutcome> {
    let request = env.request;
    if let Some(action) = &statement.action {
        let listed = action
            .patterns
            .iter()
            .any(|p| p.matches(&request.action_lower));
        if listed == action.negated {
            return None;
        }
    }

    let principal = match &statement.principal {
        Some(element) => match principal_matches(element, &request.principal, env.has_boundary) {
            Some(m) => Some(m),
            None => return Some(StatementOutcome::DoesNotApply(Mismatch::Principal)),
        },
        // A resource policy or RCP statement without a principal is broken (the parser reported it).
        None if principal_required => None,
        None => Some(PrincipalMatch::NotNamed),
    };

    if let Some(resource) = &statement.resource {
        let mut listed = false;
        for pattern in &resource.patterns {
            let hit = match (&pattern.compiled, &pattern.template) {
                (Some(compiled), _) => compiled.matches(&request.resource),
                (None, Some(template)) => match template.resolve(&request.context) {
                    Ok(resolved) => {
                        ArnPattern::from_pieces(&resolved.pieces()).matches(&request.resource)
                    }
                    Err(key) => {
                        env.missing.push(key);
                        false
                    }
                },
                (None, None) => false,
            };
            if hit {
                listed = true;
                break;
            }
        }
        if listed == resource.negated {
            return Some(StatementOutcome::DoesNotApply(Mismatch::Resource));
        }
    }

    let mut first_failure = None;
    for (index, clause) in statement.conditions.iter().enumerate() {
        let mut notes = ClauseNotes::default();
        let holds = condition::evaluate(clause, &request.context, &mut notes);
        if notes.key_missing {
            env.missing.push(clause.key.clone());
        }
        if let Some(key) = notes.unresolved_variable {
            env.missing.push(key);
        }
        if !holds && first_failure.is_none() {
            first_failure = Some(index as u32);
        }
    }
    if let Some(clause) = first_failure {
        return Some(StatementOutcome::DoesNotApply(Mismatch::Condition {
            clause,
        }));
    }

    match (statement.broken, principal) {
        (false, Some(principal)) => Some(StatementOutcome::Applies(principal)),
        _ => Some(StatementOutcome::Indeterminate),
    }
}

/// How a `Principal`/`NotPrincipal` element matches the caller; `None` when it does not.
fn principal_matches(
    element: &super::model::PrincipalElement,
    caller: &Principal,
    has_boundary: bool,
) -> Option<PrincipalMatch> {
    if element.negated {
        // NotPrincipal with Deny: the caller escapes only when every identity AWS checks for it is listed
        // (account, then role or user, then session), and never when it has a permissions boundary.
        let excluded = !has_boundary && not_principal_excludes(&element.entries, caller);
        return (!excluded).then_some(PrincipalMatch::NotExcluded);
    }
    // The most specific form wins: it decides whether implicit denies elsewhere bound the grant.
    let mut best: Option<PrincipalMatch> = None;
    for entry in &element.entries {
        if let Some(m) = entry_matches(entry, caller) {
            best = Some(match best {
                Some(previous) if specificity(previous) >= specificity(m) => previous,
                _ => m,
            });
        }
    }
    best
}

fn specificity(m: PrincipalMatch) -> u8 {
    match m {
        PrincipalMatch::NotNamed | PrincipalMatch::NotExcluded => 0,
        PrincipalMatch::Account => 1,
        PrincipalMatch::Everyone => 2,
        PrincipalMatch::Role => 3,
        PrincipalMatch::User | PrincipalMatch::FederatedUser | PrincipalMatch::RoleSession => 4,
    }
}

fn entry_matches(entry: &PrincipalEntry, caller: &Principal) -> Option<PrincipalMatch> {
    match (entry, caller) {
        (PrincipalEntry::Everyone, _) => Some(PrincipalMatch::Everyone),
        (PrincipalEntry::Account(account), caller)
            if caller.account() == Some(account.as_str()) =>
        {
            Some(PrincipalMatch::Account)
        }
        (
            PrincipalEntry::Role { account, name, .. },
            Principal::RoleSession {
                account: caller_account,
                role,
                ..
            },
        ) if account == caller_account && name == role => Some(PrincipalMatch::Role),
        (
            PrincipalEntry::User { arn },
            Principal::User {
                arn: caller_arn, ..
            },
        ) if arn == caller_arn => Some(PrincipalMatch::User),
        (
            PrincipalEntry::RoleSession {
                account,
                role,
                session,
            },
            Principal::RoleSession {
                account: caller_account,
                role: caller_role,
                session: Some(caller_session),
                ..
            },
        ) if account == caller_account && role == caller_role && session == caller_session => {
            Some(PrincipalMatch::RoleSession)
        }
        (
            PrincipalEntry::FederatedUser { arn },
            Principal::FederatedUser {
                arn: caller_arn, ..
            },
        ) if arn == caller_arn => Some(PrincipalMatch::FederatedUser),
        _ => None,
    }
}

fn not_principal_excludes(entries: &[PrincipalEntry], caller: &Principal) -> bool {
    let listed = |wanted: PrincipalMatch| {
        entries
            .iter()
            .any(|e| *e == PrincipalEntry::Everyone || entry_matches(e, caller) == Some(wanted))
    };
    match caller {
        Principal::Anonymous => entries.contains(&PrincipalEntry::Everyone),
        Principal::Root { .. } => listed(PrincipalMatch::Account),
        Principal::User { .. } => listed(PrincipalMatch::Account) && listed(PrincipalMatch::User),
        Principal::FederatedUser { .. } => {
            listed(PrincipalMatch::Account) && listed(PrincipalMatch::FederatedUser)
        }
        Principal::RoleSession { .. } => {
            listed(PrincipalMatch::Account)
                && listed(PrincipalMatch::Role)
                && listed(PrincipalMatch::RoleSession)
        }
    }
}

/// How the resource policy grants, split by whether implicit denies in the boundary or session policy still
/// limit the grant (AWS: grants to a role ARN or to everyone are limited; grants to a session ARN, a user
/// ARN, or to `*` with an `aws:PrincipalArn` condition are not; grants to the account delegate to IAM).
#[derive(Debug, Clone, Copy, Default)]
struct ResourceGrants {
    unbounded: bool,
    bounded: bool,
    account: bool,
}

fn resource_grants(layer: &LayerResult) -> ResourceGrants {
    let mut grants = ResourceGrants::default();
    for statement in layer.statements.iter().filter(|s| s.allows()) {
        match statement.outcome {
            StatementOutcome::Applies(
                PrincipalMatch::RoleSession | PrincipalMatch::User | PrincipalMatch::FederatedUser,
            ) => {
                grants.unbounded = true;
            }
            StatementOutcome::Applies(PrincipalMatch::Everyone)
                if statement.principal_arn_condition =>
            {
                grants.unbounded = true;
            }
            StatementOutcome::Applies(PrincipalMatch::Account) => grants.account = true,
            StatementOutcome::Applies(_) => grants.bounded = true,
            StatementOutcome::DoesNotApply(_) | StatementOutcome::Indeterminate => {}
        }
    }
    grants
}

/// The single place where layer outcomes become a classification.
fn classify(request: &Request, layers: &[LayerResult; 7]) -> Classification {
    let [identity, resource, scp, rcp, boundary, session, vpce] = layers;
    if layers
        .iter()
        .any(|l| l.outcome == LayerOutcome::ExplicitDeny)
    {
        return Classification::ExplicitDeny;
    }
    if rcp.outcome == LayerOutcome::ImplicitDeny {
        return Classification::RcpNoAllow;
    }
    if scp.outcome == LayerOutcome::ImplicitDeny {
        return Classification::ScpNoAllow;
    }
    if vpce.outcome == LayerOutcome::ImplicitDeny {
        return Classification::VpcEndpointNoAllow;
    }
    let grants = resource_grants(resource);
    let key_policy = request.service() == "kms";
    let same_account = match (
        request.principal.account(),
        request.resource_account.as_deref(),
    ) {
        (Some(caller), Some(owner)) => caller == owner,
        _ => false,
    };
    let identity_allows = identity.outcome == LayerOutcome::Allowed;
    let boundary_denies = boundary.outcome == LayerOutcome::ImplicitDeny;
    let session_denies = session.outcome == LayerOutcome::ImplicitDeny;
    let any_resource_grant = grants.unbounded || grants.bounded || grants.account;

    match (&request.principal, same_account, key_policy) {
        (Principal::Anonymous, _, _) => {
            if grants.unbounded || grants.bounded {
                Classification::Allowed(Grant::ResourcePolicy)
            } else {
                Classification::ResourcePolicyNoAllow
            }
        }
        (Principal::Root { .. }, true, false) => Classification::Allowed(Grant::RootUser),
        (Principal::Root { .. }, _, _) => {
            if any_resource_grant {
                Classification::Allowed(Grant::ResourcePolicy)
            } else {
                Classification::ResourcePolicyNoAllow
            }
        }
        (_, true, false) => {
            if grants.unbounded {
                Classification::Allowed(Grant::ResourcePolicy)
            } else if !(identity_allows || grants.bounded) {
                Classification::NoAllow
            } else if boundary_denies {
                Classification::PermissionBoundaryNoAllow
            } else if session_denies {
                Classification::SessionPolicyNoAllow
            } else if identity_allows && grants.bounded {
                Classification::Allowed(Grant::IdentityAndResourcePolicy)
            } else if identity_allows {
                Classification::Allowed(Grant::IdentityPolicy)
            } else {
                Classification::Allowed(Grant::ResourcePolicy)
            }
        }
        (_, true, true) => {
            if grants.unbounded {
                Classification::Allowed(Grant::ResourcePolicy)
            } else if !(grants.bounded || grants.account) {
                Classification::ResourcePolicyNoAllow
            } else if !grants.bounded && !identity_allows {
                Classification::IdentityNoAllow
            } else if boundary_denies {
                Classification::PermissionBoundaryNoAllow
            } else if session_denies {
                Classification::SessionPolicyNoAllow
            } else if grants.bounded && !identity_allows {
                Classification::Allowed(Grant::ResourcePolicy)
            } else {
                Classification::Allowed(Grant::IdentityAndResourcePolicy)
            }
        }
        (_, false, _) => {
            if !identity_allows {
                Classification::IdentityNoAllow
            } else if boundary_denies {
                Classification::PermissionBoundaryNoAllow
            } else if session_denies {
                Classification::SessionPolicyNoAllow
            } else if !any_resource_grant {
                Classification::ResourcePolicyNoAllow
            } else {
                Classification::Allowed(Grant::IdentityAndResourcePolicy)
            }
        }
    }
}

fn determining_statements(
    classification: Classification,
    layers: &[LayerResult; 7],
) -> Vec<StatementRef> {
    let [identity, resource, ..] = layers;
    let allowing = |layer: &LayerResult| {
        layer
            .statements
            .iter()
            .filter(|s| s.allows())
            .map(|s| s.at)
            .collect::<Vec<_>>()
    };
    match classification {
        Classification::ExplicitDeny => layers
            .iter()
            .flat_map(|l| l.statements.iter())
            .filter(|s| s.denies())
            .map(|s| s.at)
            .collect(),
        Classification::Allowed(Grant::IdentityPolicy) => allowing(identity),
        Classification::Allowed(Grant::ResourcePolicy) => allowing(resource),
        Classification::Allowed(Grant::IdentityAndResourcePolicy) => {
            let mut refs = allowing(identity);
            refs.extend(allowing(resource));
            refs
        }
        Classification::Allowed(Grant::RootUser)
        | Classification::RcpNoAllow
        | Classification::ScpNoAllow
        | Classification::VpcEndpointNoAllow
        | Classification::NoAllow
        | Classification::IdentityNoAllow
        | Classification::ResourcePolicyNoAllow
        | Classification::PermissionBoundaryNoAllow
        | Classification::SessionPolicyNoAllow => Vec::new(),
    }
}
