//! Evaluation: each statement to an outcome, each layer to a layer outcome, then one classification from
//! which the decision follows by an exhaustive `match`. The classification is the explanation. Follows AWS's
//! documented evaluation logic. The result types are in `outcome`, principal matching in
//! `principal_match`, the classification in `classify`.

use crate::arn::ArnPattern;
use crate::classify::{classify, determining_statements};
use crate::condition::{self, ClauseNotes};
use crate::context::{Principal, Request};
use crate::layers::{Layer, Layers};
use crate::model::{Policy, Statement};
use crate::outcome::{
    Evaluation, LayerOutcome, LayerResult, Mismatch, PrincipalMatch, StatementOutcome,
    StatementRef, StatementResult, Uncertain,
};
use crate::principal_match::principal_matches;

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

    let layers = Layers {
        identity,
        resource_policy: resource,
        scp,
        rcp,
        permission_boundary: boundary,
        session_policy: session,
        vpc_endpoint_policy: vpce,
    };
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
        // AWS attaches `RCPFullAWSAccess` to the root, every OU and every account once RCPs are enabled,
        // and it cannot be detached: an RCP level never lacks an Allow, only its Deny statements count.
        let outcome = match (layer, result.outcome) {
            (Layer::Rcp, LayerOutcome::ImplicitDeny) => LayerOutcome::Allowed,
            (_, outcome) => outcome,
        };
        outcomes.push(outcome);
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

    let mut resource_unknown = false;
    if let Some(resource) = &statement.resource {
        match resource_fit(resource, statement.effect, env) {
            Fit::Misses => return Some(StatementOutcome::DoesNotApply(Mismatch::Resource)),
            Fit::Unknown => resource_unknown = true,
            Fit::Covers => {}
        }
    }
    let (first_failure, first_unknown) = conditions(statement, env);
    if let Some(clause) = first_failure {
        return Some(StatementOutcome::DoesNotApply(Mismatch::Condition {
            clause,
        }));
    }

    match (statement.broken, principal, first_unknown, resource_unknown) {
        (false, Some(principal), None, false) => Some(StatementOutcome::Applies(principal)),
        (false, Some(_), Some(clause), _) => {
            Some(StatementOutcome::Indeterminate(Uncertain::UnknownValue {
                clause,
            }))
        }
        (false, Some(_), None, true) => {
            Some(StatementOutcome::Indeterminate(Uncertain::UnknownResource))
        }
        _ => Some(StatementOutcome::Indeterminate(Uncertain::Errors)),
    }
}

/// Whether a `Resource` (or `NotResource`) element covers the request's resource.
enum Fit {
    /// It certainly does not: the statement does not apply.
    Misses,
    /// It does, or a pattern that could not be read might (the statement is then broken anyway).
    Covers,
    /// A pattern reads a policy variable whose value is unknown: it may or may not.
    Unknown,
}

/// How the statement's `Resource` (or `NotResource`) fits the request's resource; a pattern that could not be
/// read might match, so it proves nothing either way. A pattern of no documented meaning
/// (`ArnPattern::Undocumented`) grants nothing in an `Allow` and proves nothing in a `Deny`.
fn resource_fit(
    resource: &crate::model::ResourceElement,
    effect: Option<crate::model::Effect>,
    env: &mut Env<'_>,
) -> Fit {
    let request = env.request;
    let mut listed = false;
    // A pattern that could not be read might match: it proves nothing either way.
    let mut unreadable = false;
    // A pattern on a value the request does not give might match too, and says so.
    let mut unknown_value = false;
    let allows = effect == Some(crate::model::Effect::Allow) && !resource.negated;
    let undocumented = |pattern: &ArnPattern| *pattern == ArnPattern::Undocumented && !allows;
    for pattern in &resource.patterns {
        let hit = match (&pattern.compiled, &pattern.template) {
            (Some(compiled), _) => {
                unreadable |= undocumented(compiled);
                compiled.matches(&request.resource)
            }
            (None, Some(template)) if template.keys().any(|k| request.context.is_unknown(k)) => {
                unknown_value = true;
                false
            }
            (None, Some(template)) => match template.resolve(&request.context) {
                Ok(resolved) => {
                    let pattern = ArnPattern::resource_from_pieces(&resolved.pieces());
                    unreadable |= undocumented(&pattern);
                    pattern.matches(&request.resource)
                }
                Err(key) => {
                    env.missing.push(key);
                    false
                }
            },
            (None, None) => {
                unreadable = true;
                false
            }
        };
        if hit {
            listed = true;
            break;
        }
    }
    // Not listed, but a pattern might list it: inconclusive, so not "does not apply".
    match (listed, unreadable, unknown_value) {
        (true, _, _) if resource.negated => Fit::Misses,
        (true, _, _) => Fit::Covers,
        (false, _, true) => Fit::Unknown,
        (false, true, false) => Fit::Covers,
        (false, false, false) if resource.negated => Fit::Covers,
        (false, false, false) => Fit::Misses,
    }
}

/// The first condition clause that fails, and the first whose value is unknown; keys missing from the context
/// are noted in `env`.
fn conditions(statement: &Statement, env: &mut Env<'_>) -> (Option<u32>, Option<u32>) {
    let request = env.request;
    let mut first_failure = None;
    let mut first_unknown = None;
    for (index, clause) in statement.conditions.iter().enumerate() {
        let mut notes = ClauseNotes::default();
        let holds = condition::evaluate(clause, &request.context, &mut notes);
        if notes.unknown_value {
            first_unknown.get_or_insert(index as u32);
            continue;
        }
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
    (first_failure, first_unknown)
}
