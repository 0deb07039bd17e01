//! What evaluation produces: each statement's outcome (and why it did or did not apply), each layer's
//! outcome, the classification and the decision derived from it, and the evaluation as a whole.

use crate::layers::{Layer, Layers};
use crate::model::{Effect, InputError};
use serde::Serialize;

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
    /// Whether the statement applies cannot be said: no element proves that it does not.
    Indeterminate(Uncertain),
}

/// Why a statement is indeterminate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncertain {
    /// The statement has an error.
    Errors,
    /// Its condition clause `clause` reads a key that every such request carries, with a value the request
    /// does not give (the source IP, the time, a session name): the clause may hold or not.
    UnknownValue {
        /// The clause's index in the statement's conditions.
        clause: u32,
    },
    /// Its `Resource` (or `NotResource`) pattern holds a policy variable whose value the request does not
    /// give: whether it covers the resource cannot be said.
    UnknownResource,
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
                | (
                    StatementOutcome::Indeterminate(_),
                    Some(Effect::Deny) | None
                )
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
    pub(crate) fn not_applicable() -> Self {
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
            Self::ScpNoAllow
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
    /// Each layer's outcome and recorded statements.
    pub layers: Layers<LayerResult>,
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
        self.layers.get(layer)
    }
}
