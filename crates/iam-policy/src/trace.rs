//! The explanation of an evaluation: statement locations with their Sids, and for every statement whose
//! action matched but that did not apply, which element failed and with what expected and actual values.
//! Built on demand from an `Evaluation`, the `PolicySet` and the `Request`; nothing here runs on the hot path.

use super::context::Request;
use super::eval::PolicySet;
use super::layers::{Layer, Layers};
use super::model::{Effect, PrincipalEntry};
use super::outcome::{Evaluation, LayerOutcome, Mismatch, StatementOutcome, StatementRef};
use serde::Serialize;

/// A statement, located for a person: layer, level, indices, Sid and the policy's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementLocation {
    /// The layer.
    pub layer: Layer,
    /// The organization level (SCP/RCP only; root = 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
    /// Index of the policy within its layer.
    pub policy_index: u32,
    /// Index of the statement within its policy.
    pub statement_index: u32,
    /// The statement's `Sid`.
    pub sid: Option<String>,
    /// The policy's id (ARN, name or position).
    #[serde(skip)]
    pub policy_id: String,
}

/// Locates a statement reference.
pub fn locate(policies: &PolicySet, at: &StatementRef) -> StatementLocation {
    StatementLocation {
        layer: at.layer,
        level: at.level,
        policy_index: at.policy,
        statement_index: at.statement,
        sid: policies.statement(at).and_then(|s| s.sid.clone()),
        policy_id: policies
            .policy(at)
            .map(|p| p.id.to_string())
            .unwrap_or_default(),
    }
}

/// Which element of a statement failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Element {
    /// `Principal` / `NotPrincipal`.
    Principal,
    /// `Resource` / `NotResource`.
    Resource,
    /// A condition clause.
    Condition,
}

/// Why one statement did not apply, with the values involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MismatchDetail {
    /// The statement.
    pub statement: StatementLocation,
    /// Its effect.
    pub effect: Option<Effect>,
    /// The element that failed.
    pub element: Element,
    /// For conditions: the operator as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// For conditions: the key as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What the policy expects (principals, resources, or condition values, as written).
    pub expected: Vec<String>,
    /// What the request has; `None` when the key is absent.
    pub actual: Option<Vec<String>>,
    /// One sentence for a person.
    pub message: String,
}

/// Every statement whose action matched but which did not apply, in layer order.
pub fn mismatches(
    evaluation: &Evaluation,
    policies: &PolicySet,
    request: &Request,
) -> Vec<MismatchDetail> {
    let mut out = Vec::new();
    for layer in &evaluation.layers {
        for result in &layer.statements {
            let StatementOutcome::DoesNotApply(mismatch) = result.outcome else {
                continue;
            };
            if let Some(detail) = explain(policies, request, &result.at, result.effect, mismatch) {
                out.push(detail);
            }
        }
    }
    out
}

/// Explains one mismatch.
pub fn explain(
    policies: &PolicySet,
    request: &Request,
    at: &StatementRef,
    effect: Option<Effect>,
    mismatch: Mismatch,
) -> Option<MismatchDetail> {
    let statement = policies.statement(at)?;
    let location = locate(policies, at);
    let name = location
        .sid
        .as_deref()
        .map_or_else(|| format!("#{}", at.statement), |s| format!("`{s}`"));
    Some(match mismatch {
        Mismatch::Principal => {
            let element = statement.principal.as_ref()?;
            let expected: Vec<String> = element.entries.iter().map(describe_principal).collect();
            let caller = request
                .principal
                .principal_arn()
                .unwrap_or_else(|| "anonymous".to_owned());
            let message = if element.negated {
                format!(
                    "statement {name} does not apply: `NotPrincipal` lists {} and so excludes `{caller}`",
                    expected.join(", ")
                )
            } else {
                format!(
                    "statement {name} names {} as principal, not `{caller}`",
                    expected.join(", ")
                )
            };
            MismatchDetail {
                statement: location,
                effect,
                element: Element::Principal,
                operator: None,
                key: None,
                expected,
                actual: Some(vec![caller]),
                message,
            }
        }
        Mismatch::Resource => {
            let element = statement.resource.as_ref()?;
            let expected: Vec<String> =
                element.patterns.iter().map(|p| p.written.clone()).collect();
            let verb = if element.negated {
                "excludes"
            } else {
                "covers only"
            };
            MismatchDetail {
                message: format!(
                    "statement {name} {verb} {}; the request is for `{}`",
                    expected
                        .iter()
                        .map(|e| format!("`{e}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    request.resource
                ),
                statement: location,
                effect,
                element: Element::Resource,
                operator: None,
                key: None,
                expected,
                actual: Some(vec![request.resource.clone()]),
            }
        }
        Mismatch::Condition { clause } => {
            let condition = statement.conditions.get(clause as usize)?;
            let actual = request
                .context
                .get(&condition.key_lower)
                .map(|entry| entry.values().to_vec());
            let expects = condition.written.join(", ");
            let has = match &actual {
                Some(values) if values.is_empty() => "an empty set".to_owned(),
                Some(values) => values.join(", "),
                None => format!("no `{}`", condition.key),
            };
            MismatchDetail {
                message: format!(
                    "condition `{}` on `{}` expects {expects}; the request has {has}",
                    condition.operator.written, condition.key
                ),
                statement: location,
                effect,
                element: Element::Condition,
                operator: Some(condition.operator.written.clone()),
                key: Some(condition.key.clone()),
                expected: condition.written.clone(),
                actual,
            }
        }
    })
}

/// A principal entry as a person would write it.
pub fn describe_principal(entry: &PrincipalEntry) -> String {
    match entry {
        PrincipalEntry::Everyone => "`*`".to_owned(),
        PrincipalEntry::Account(account) => format!("account `{account}`"),
        PrincipalEntry::Role { arn, .. }
        | PrincipalEntry::User { arn }
        | PrincipalEntry::FederatedUser { arn } => {
            format!("`{arn}`")
        }
        PrincipalEntry::RoleSession {
            account,
            role,
            session,
        } => {
            format!("`arn:aws:sts::{account}:assumed-role/{role}/{session}`")
        }
        PrincipalEntry::UniqueId(id) => format!("unique id `{id}` (a deleted role or user)"),
        PrincipalEntry::Service(s) => format!("service `{s}`"),
        PrincipalEntry::Federated(s) => format!("federated `{s}`"),
        PrincipalEntry::CanonicalUser(s) => format!("canonical user `{s}`"),
    }
}

/// The layer outcomes, for output.
pub type LayerOutcomes = Layers<LayerOutcome>;
