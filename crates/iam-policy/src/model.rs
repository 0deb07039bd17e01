//! Validated policy types: what a policy document means once parsed. Produced by `parse`, read by `eval`.

use super::arn::ArnPattern;
use super::glob::Glob;
use super::operator::{Cidr, Operator};
use super::variables::Template;
use serde::Serialize;

/// The policy language version; 2008-10-17 (also assumed when `Version` is missing) has no policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17` or absent: `${...}` is literal text.
    V2008_10_17,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grants, when everything else allows.
    Allow,
    /// Denies, whatever else allows.
    Deny,
}

/// A problem in the input, with a JSON pointer to where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    /// RFC 6901 pointer into the input (for a case file, from the case's root).
    pub pointer: String,
    /// What is wrong, lowercase, user input in backticks.
    pub message: String,
}

/// One parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Where the policy comes from: an ARN, `bucket-policy`, `identityPolicies/0`, ... (shared like the
    /// statements).
    pub id: std::sync::Arc<str>,
    /// The language version.
    pub version: Version,
    /// Statements in document order; shared, so that the policy sets of one check (its S3 and its KMS
    /// requests) reuse the caller's parsed policies instead of copying them.
    pub statements: std::sync::Arc<[Statement]>,
    /// Problems found in the document (including those of its statements).
    pub errors: Vec<InputError>,
}

impl Policy {
    /// A policy with no statements and one error (the document could not be read at all).
    ///
    /// It holds one statement that is broken in every element: it might allow nothing (a broken `Allow` never
    /// allows) and might deny anything (a statement without a readable `Effect` counts as a possible `Deny`),
    /// so a document that cannot be read can never let a request through.
    pub fn unreadable(id: impl Into<String>, error: InputError) -> Self {
        Self {
            id: id.into().into(),
            version: Version::V2008_10_17,
            statements: std::sync::Arc::from([Statement::unreadable()]),
            errors: vec![error],
        }
    }
}

impl Statement {
    /// A statement none of whose elements could be read.
    pub fn unreadable() -> Self {
        Self {
            sid: None,
            effect: None,
            principal: None,
            action: None,
            resource: None,
            conditions: Vec::new(),
            broken: true,
        }
    }
}

/// One statement. Elements that failed to parse are left out and `broken` is set: the statement can then
/// still be shown not to apply (another element fails), but it can never be shown to apply for certain.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The `Sid`, if any.
    pub sid: Option<String>,
    /// `Allow` or `Deny`; `None` when the `Effect` is missing or invalid (treated as a possible `Deny`).
    pub effect: Option<Effect>,
    /// `Principal` or `NotPrincipal`; `None` when the statement has neither (identity policies, SCPs).
    pub principal: Option<PrincipalElement>,
    /// `Action` or `NotAction`.
    pub action: Option<ActionElement>,
    /// `Resource` or `NotResource`; `None` when absent (key policies in some tools omit nothing; absent means
    /// the statement is broken unless the policy kind allows it).
    pub resource: Option<ResourceElement>,
    /// Every condition clause: operator × key, ANDed.
    pub conditions: Vec<Condition>,
    /// An element could not be parsed.
    pub broken: bool,
}

/// `Action` (`negated == false`) or `NotAction`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionElement {
    /// `NotAction`.
    pub negated: bool,
    /// Lowercased patterns.
    pub patterns: Vec<Glob>,
    /// The patterns as written, for explanations.
    pub written: Vec<String>,
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceElement {
    /// `NotResource`.
    pub negated: bool,
    /// One entry per value.
    pub patterns: Vec<ResourcePattern>,
}

/// One `Resource` value.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourcePattern {
    /// As written.
    pub written: String,
    /// Compiled when the value has no policy variable.
    pub compiled: Option<ArnPattern>,
    /// Present when the value has policy variables (version 2012-10-17 only).
    pub template: Option<Template>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalElement {
    /// `NotPrincipal`.
    pub negated: bool,
    /// The principals listed.
    pub entries: Vec<PrincipalEntry>,
}

/// One principal named in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone, including anonymous callers.
    Everyone,
    /// An account, written as `111122223333` or `arn:aws:iam::111122223333:root`.
    Account(String),
    /// An IAM role: matches every session of it.
    Role {
        /// The role's account.
        account: String,
        /// The role name, without path.
        name: String,
        /// As written.
        arn: String,
    },
    /// An IAM user.
    User {
        /// As written.
        arn: String,
    },
    /// One assumed-role session.
    RoleSession {
        /// The role's account.
        account: String,
        /// The role name.
        role: String,
        /// The session name.
        session: String,
    },
    /// An STS federated-user session.
    FederatedUser {
        /// As written.
        arn: String,
    },
    /// A unique id such as `AROA...`: AWS shows these when the named role or user was deleted.
    UniqueId(String),
    /// `{"Service": ...}`.
    Service(String),
    /// `{"Federated": ...}`.
    Federated(String),
    /// `{"CanonicalUser": ...}`.
    CanonicalUser(String),
}

/// One condition clause: an operator applied to one key with one or more values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator, with its qualifiers.
    pub operator: Operator,
    /// The key as written.
    pub key: String,
    /// The key lowercased (keys are case-insensitive).
    pub key_lower: String,
    /// The values, parsed for the operator.
    pub values: Vec<Operand>,
    /// The values as written.
    pub written: Vec<String>,
}

/// A condition value parsed for its operator's family.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// String and ARN operators: text compiled for the operator (case, wildcards), or a template to resolve.
    Text(TextOperand),
    /// Numeric operators.
    Number(f64),
    /// Date operators: milliseconds since the epoch.
    Date(i64),
    /// `Bool`.
    Bool(bool),
    /// `BinaryEquals`: the decoded bytes.
    Binary(Vec<u8>),
    /// `IpAddress` / `NotIpAddress`.
    Cidr(Cidr),
    /// `Null`: `true` means "the key is absent".
    Null(bool),
}

/// A text operand, compiled when static, a template when it has policy variables.
#[derive(Debug, Clone, PartialEq)]
pub enum TextOperand {
    /// No policy variable: compiled once.
    Static(TextMatcher),
    /// Has policy variables: resolved against the request context, then compiled.
    Template(Template),
}

/// A compiled text comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum TextMatcher {
    /// Exact comparison (`StringEquals`, case-sensitive).
    Exact(String),
    /// Exact comparison after lowercasing (`...IgnoreCase`); holds the lowercased value.
    Folded(String),
    /// `StringLike`.
    Like(Glob),
    /// `Arn*`.
    Arn(ArnPattern),
}
